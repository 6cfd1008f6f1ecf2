"""Generic key commands, byte for byte against a real redis-server.

KEYS and SCAN list keys in hash-table order in Redis, so those replies are compared as sorted sets;
every other reply is compared byte for byte.
"""
import pytest

from amr_emulator.protocol.resp import decode_reply

BIG = "9223372036854775807"
FAR = "4102444800"  # 2100-01-01 in seconds
FAR_MS = "4102444800123"

MAKERS = {"alist": ("RPUSH", "alist", "a", "b", "c"), "aset": ("SADD", "aset", "m", "n"),
          "ahash": ("HSET", "ahash", "f", "v", "g", "w"), "azset": ("ZADD", "azset", "1", "m", "2.5", "n")}


def need(compat, *cmd):
    if compat.both(*cmd)[0].startswith(b"-ERR unknown command"):
        pytest.skip(f"{cmd[0]} is not implemented yet")


SCENARIOS = {
    "del": [("DEL", "a"), ("MSET", "a", "1", "b", "2", "c", "3"), ("DEL", "a", "b", "x"), ("DEL", "c", "c"),
            ("EXISTS", "a", "b", "c"), ("DEL",), ("SET", "", "v"), ("DEL", "")],
    "unlink": [("MSET", "a", "1", "b", "2"), ("UNLINK", "a", "b", "a", "z"), ("EXISTS", "a", "b"), ("UNLINK",)],
    "exists": [("EXISTS", "a"), ("SET", "a", "1"), ("EXISTS", "a"), ("EXISTS", "a", "a", "a", "b"), ("EXISTS",)],
    "touch": [("TOUCH", "a"), ("MSET", "a", "1", "b", "1"), ("TOUCH", "a", "b", "c", "a"), ("TOUCH",)],
    "type": [("TYPE", "a"), ("SET", "a", "1"), ("TYPE", "a"), ("TYPE",), ("TYPE", "a", "b")],
    "rename": [("RENAME", "a", "b"), ("RENAME", "a", "a"), ("SET", "a", "1"), ("RENAME", "a", "a"), ("GET", "a"),
               ("RENAME", "a", "b"), ("EXISTS", "a"), ("GET", "b"), ("SET", "c", "3", "EX", "100"),
               ("RENAME", "c", "b"), ("GET", "b"), ("TTL", "b"), ("EXISTS", "c"), ("SET", "d", "4"),
               ("RENAME", "d", "b"), ("TTL", "b"), ("GET", "b"), ("SET", "e", "5", "PXAT", FAR_MS),
               ("RENAME", "e", "f"), ("PEXPIRETIME", "f"), ("RENAME", "a"), ("RENAME", "a", "b", "c")],
    "renamenx": [("RENAMENX", "a", "b"), ("SET", "a", "1"), ("RENAMENX", "a", "a"), ("SET", "b", "2"),
                 ("RENAMENX", "a", "b"), ("GET", "b"), ("RENAMENX", "a", "c"), ("GET", "c"), ("EXISTS", "a"),
                 ("RENAMENX", "nokey", "nokey")],
    "copy": [("COPY", "a", "b"), ("SET", "a", "1"), ("COPY", "a", "b"), ("GET", "b"), ("COPY", "a", "b"),
             ("SET", "a", "2"), ("COPY", "a", "b", "REPLACE"), ("GET", "b"), ("COPY", "a", "a"),
             ("COPY", "a", "a", "DB", "0"), ("COPY", "a", "a", "REPLACE"), ("COPY", "a", "x", "DB", "16"),
             ("COPY", "a", "x", "DB", "-1"), ("COPY", "a", "x", "DB", "abc"), ("COPY", "a", "x", "DB", "99999999999"),
             ("COPY", "a", "x", "FOO"), ("COPY", "a", "x", "DB"), ("COPY", "a", "x", "REPLACE", "DB"),
             ("COPY", "nokey", "x", "DB", "16"), ("COPY", "nokey", "x"), ("SET", "t", "v", "PXAT", FAR_MS),
             ("COPY", "t", "t2"), ("PEXPIRETIME", "t2"), ("COPY", "a", "a", "DB", "1"), ("COPY", "a", "a", "DB", "1"),
             ("MOVE", "a", "1"), ("COPY", "a", "a", "DB", "1", "REPLACE"), ("COPY", "a", "y", "db", "2", "replace"),
             ("COPY", "a", "y", "DB", "2"), ("COPY", "a"), ("COPY",)],
    "move": [("MOVE", "a", "1"), ("SET", "a", "1"), ("MOVE", "a", "0"), ("MOVE", "a", "16"), ("MOVE", "a", "-1"),
             ("MOVE", "a", "x"), ("MOVE", "a", "4294967296"), ("MOVE", "nokey", "0"), ("MOVE", "a", "1"),
             ("EXISTS", "a"), ("SET", "a", "2"), ("MOVE", "a", "1"), ("GET", "a"), ("COPY", "a", "a", "DB", "1"),
             ("SET", "b", "1", "PXAT", FAR_MS), ("MOVE", "b", "3"), ("EXISTS", "b"), ("MOVE", "a")],
    "randomkey": [("RANDOMKEY",), ("SET", "only", "1"), ("RANDOMKEY",), ("RANDOMKEY", "x")],
    "expire": [("EXPIRE", "k", "100"), ("SET", "k", "v"), ("EXPIRE", "k", "100"), ("TTL", "k"),
               ("EXPIRE", "k", "abc"), ("EXPIRE", "k", "1.5"), ("EXPIRE", "k", ""), ("EXPIRE", "k", BIG),
               ("EXPIRE", "k", "9223372036854775"), ("EXPIRE", "k", "-9223372036854775"), ("EXISTS", "k"),
               ("SET", "k", "v"), ("EXPIRE", "k", "-9223372036854776"), ("EXPIRE", "k", "9223372036854776"),
               ("PEXPIRE", "k", BIG), ("PEXPIRE", "k", "-" + BIG), ("EXISTS", "k"), ("SET", "k", "v"),
               ("EXPIREAT", "k", "9223372036854775"), ("PEXPIRETIME", "k"), ("EXPIREAT", "k", "9223372036854776"),
               ("PEXPIREAT", "k", BIG), ("PEXPIRETIME", "k"), ("EXPIRETIME", "k"), ("TTL", "k"),
               ("EXPIRE", "k", "0"), ("EXISTS", "k"), ("SET", "k", "v"), ("EXPIRE", "k", "-1"), ("EXISTS", "k"),
               ("SET", "k", "v"), ("EXPIREAT", "k", "1"), ("EXISTS", "k"), ("SET", "k", "v"),
               ("PEXPIREAT", "k", "0"), ("EXISTS", "k"), ("EXPIRE", "k"), ("EXPIRE", "k", "1", "2")],
    "expire_flags": [("SET", "k", "v"), ("EXPIRE", "k", "100", "XX"), ("TTL", "k"), ("EXPIRE", "k", "100", "GT"),
                     ("TTL", "k"), ("EXPIRE", "k", "100", "LT"), ("TTL", "k"), ("EXPIRE", "k", "200", "NX"),
                     ("TTL", "k"), ("EXPIRE", "k", "300", "NX"), ("TTL", "k"), ("EXPIRE", "k", "400", "XX"),
                     ("TTL", "k"), ("EXPIRE", "k", "300", "GT"), ("TTL", "k"), ("EXPIRE", "k", "500", "GT"),
                     ("TTL", "k"), ("EXPIRE", "k", "600", "LT"), ("TTL", "k"), ("EXPIRE", "k", "50", "lt"),
                     ("TTL", "k"), ("EXPIRE", "k", "60", "XX", "GT"), ("TTL", "k"), ("EXPIRE", "k", "40", "XX", "LT"),
                     ("TTL", "k"), ("EXPIRE", "k", "30", "GT", "XX"), ("EXPIRE", "k", "-1", "GT"), ("TTL", "k"),
                     ("EXPIRE", "k", "-1", "LT"), ("EXISTS", "k"), ("EXPIRE", "k", "10", "NX"),
                     ("EXPIRE", "k", "10", "NX", "NX"), ("PERSIST", "k"), ("PEXPIREAT", "k", FAR_MS, "GT"),
                     ("PEXPIREAT", "k", FAR_MS, "NX"), ("PEXPIRETIME", "k"), ("EXPIREAT", "k", FAR, "LT"),
                     ("PEXPIRETIME", "k")],
    "expire_flag_errors": [("SET", "k", "v"), ("EXPIRE", "k", "10", "NX", "XX"), ("EXPIRE", "k", "10", "XX", "NX"),
                           ("EXPIRE", "k", "10", "NX", "GT"), ("EXPIRE", "k", "10", "LT", "NX"),
                           ("EXPIRE", "k", "10", "GT", "LT"), ("EXPIRE", "k", "10", "LT", "GT", "XX"),
                           ("EXPIRE", "k", "10", "FOO"), ("EXPIRE", "k", "10", "nx", "bar"),
                           ("EXPIRE", "k", "abc", "NX", "XX"), ("EXPIRE", "k", "abc", "BAD"),
                           ("PEXPIRE", "k", "10", "NX", "LT"), ("EXPIREAT", "k", "10", "Gt", "lT"),
                           ("PEXPIREAT", "k", "10", "X"), ("EXPIRE", "nokey", "10", "GT", "LT"),
                           ("EXPIRE", "nokey", "abc", "XX"), ("EXPIRE", "nokey", BIG), ("TTL", "k")],
    "ttl_family": [("TTL", "k"), ("PTTL", "k"), ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"), ("SET", "k", "v"),
                   ("TTL", "k"), ("PTTL", "k"), ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"),
                   ("EXPIREAT", "k", FAR), ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"), ("TTL", "k"),
                   ("PEXPIREAT", "k", "4102444800499"), ("EXPIRETIME", "k"), ("PEXPIREAT", "k", "4102444800500"),
                   ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"), ("TTL",), ("PTTL", "a", "b")],
    "persist": [("PERSIST", "k"), ("SET", "k", "v"), ("PERSIST", "k"), ("EXPIRE", "k", "100"), ("PERSIST", "k"),
                ("TTL", "k"), ("PERSIST", "k"), ("PERSIST",)],
    "keys_errors": [("KEYS",), ("KEYS", "a", "b"), ("SCAN",), ("SCAN", "abc"), ("SCAN", "1.5"),
                    ("SCAN", "18446744073709551616"), ("SCAN", "99999999999999999999999"), ("SCAN", "0", "COUNT"),
                    ("SCAN", "0", "COUNT", "0"), ("SCAN", "0", "COUNT", "-1"), ("SCAN", "0", "COUNT", "x"),
                    ("SCAN", "0", "COUNT", BIG + "0"), ("SCAN", "0", "MATCH"), ("SCAN", "0", "TYPE"),
                    ("SCAN", "0", "FOO", "bar"), ("SCAN", "0", "MATCH", "*", "COUNT", "0"),
                    ("SCAN", "x", "COUNT", "0"), ("SCAN", "0", "COUNT", "0", "MATCH")],
    "scan_empty": [("SCAN", "0"), ("SCAN", "0", "MATCH", "*"), ("SCAN", "0", "TYPE", "string"),
                   ("SCAN", "0", "COUNT", "1000"), ("KEYS", "*"), ("KEYS", "")],
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(compat, name):
    for cmd in SCENARIOS[name]:
        compat.call(*cmd)


def test_resp3_nulls(compat):
    compat.resp3()
    for cmd in (("RANDOMKEY",), ("TYPE", "k"), ("SET", "k", "v"), ("TYPE", "k"), ("RANDOMKEY",), ("SCAN", "0"),
                ("KEYS", "*"), ("COPY", "k", "k2"), ("RENAME", "no", "x"), ("TTL", "k")):
        compat.call(*cmd)


@pytest.mark.parametrize("key", list(MAKERS))
def test_other_types(compat, key):
    """TYPE, COPY (deep), RENAME, MOVE, EXPIRE and DEL on keys of every type."""
    need(compat, *MAKERS[key])
    compat.call("TYPE", key)
    compat.call("COPY", key, "copy")
    compat.call("TYPE", "copy")
    # the copy is deep: changing the original leaves the copy alone
    change = {"alist": ("RPUSH", key, "z"), "aset": ("SADD", key, "z"), "ahash": ("HSET", key, "f", "changed"),
              "azset": ("ZADD", key, "7", "m")}[key]
    dump = {"alist": ("LRANGE", "{}", "0", "-1"), "aset": ("SCARD", "{}"), "ahash": ("HGET", "{}", "f"),
            "azset": ("ZSCORE", "{}", "m")}[key]
    need(compat, *[a.replace("{}", key) for a in dump])
    compat.call(*change)
    compat.call(*[a.replace("{}", key) for a in dump])
    compat.call(*[a.replace("{}", "copy") for a in dump])
    compat.call("COPY", key, "copy")
    compat.call("COPY", key, "copy", "REPLACE")
    compat.call(*[a.replace("{}", "copy") for a in dump])
    compat.call("COPY", key, "other", "DB", "2")
    compat.call("MOVE", "copy", "2")
    compat.call("MOVE", "copy", "3")
    compat.call("RENAME", key, "renamed")
    compat.call("TYPE", "renamed")
    compat.call("EXPIRE", "renamed", "100")
    compat.call("TTL", "renamed")
    compat.call("SET", "renamed", "v", "GET")
    compat.call("TYPE", "renamed")
    compat.call("EXISTS", "renamed", "copy")
    compat.call("DEL", "renamed", "copy")


def _sorted_elements(reply: bytes):
    value, _ = decode_reply(reply)
    return sorted(value)


def compare_sorted(compat, *cmd):
    ours, theirs = compat.both(*cmd)
    assert _sorted_elements(ours) == _sorted_elements(theirs), cmd
    return _sorted_elements(ours)


def compare_scan_all(compat, *options):
    """A small keyspace answers one SCAN call with cursor 0 in Redis; so must we."""
    ours, theirs = compat.both("SCAN", "0", *options)
    (oc, okeys), (tc, tkeys) = decode_reply(ours)[0], decode_reply(theirs)[0]
    assert oc == tc == b"0", options
    assert sorted(okeys) == sorted(tkeys), options


def test_keys_patterns(compat):
    compat.call("MSET", "hello", "1", "hallo", "1", "hxllo", "1", "hllo", "1", "heeeello", "1", "h*llo", "1",
                "h\\llo", "1", "user:1", "1", "user:2", "1", "user:10", "1", "x", "1", "", "1")
    for pattern in ("*", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", "user:*", "user:?", "*:1*",
                    "h\\*llo", "[", "nomatch", "", "h[a-", "\\", "*[xu]*", "X", "USER:*"):
        compare_sorted(compat, "KEYS", pattern)
        compare_scan_all(compat, "MATCH", pattern, "COUNT", "100")


def test_keys_and_scan_hide_expired(compat):
    compat.call("MSET", "a", "1", "b", "2", "c", "3")
    compat.call("SET", "gone", "x", "PXAT", "1")
    compat.call("SET", "gone2", "x", "PXAT", "1")
    compare_sorted(compat, "KEYS", "*")
    compare_scan_all(compat)
    compare_scan_all(compat, "MATCH", "g*")
    compat.call("EXISTS", "gone")


def test_scan_type(compat):
    compat.call("MSET", "s1", "1", "s2", "2")
    for key, cmd in MAKERS.items():
        if not compat.conns[0].call(*cmd).startswith(b"-ERR unknown command"):
            compat.conns[1].call(*cmd)
            compat.call("TYPE", key)
    for t in ("string", "STRING", "list", "set", "zset", "hash", "stream", "none", "foo", ""):
        compare_scan_all(compat, "TYPE", t)
        compare_scan_all(compat, "TYPE", t, "MATCH", "*s*", "COUNT", "50")


def test_scan_walks_a_large_keyspace(compat):
    """Bigger than COUNT: the cursor is opaque (it differs from Redis's), but the union of the pages
    must be every key, pages bounded by COUNT, ending with cursor 0."""
    keys = [f"key:{i}" for i in range(500)]
    for i in range(0, 500, 100):
        args = []
        for k in keys[i:i + 100]:
            args += [k, "v"]
        compat.call("MSET", *args)
    for conn in compat.conns:
        seen = set()
        cursor = b"0"
        calls = 0
        while True:
            cursor, page = decode_reply(conn.call("SCAN", cursor, "COUNT", "50"))[0]
            assert len(page) <= 60
            seen.update(page)
            calls += 1
            if cursor == b"0":
                break
        assert seen == {k.encode() for k in keys}
        assert calls >= 5


def test_randomkey_returns_an_existing_key(compat):
    compat.call("MSET", "a", "1", "b", "2", "c", "3")
    for conn in compat.conns:
        for _ in range(20):
            value, _ = decode_reply(conn.call("RANDOMKEY"))
            assert value in (b"a", b"b", b"c")


def test_expire_keeps_value_and_overwrite_clears_ttl(compat):
    for cmd in (("SET", "k", "v", "EX", "100"), ("TTL", "k"), ("SET", "k", "w"), ("TTL", "k"),
                ("SET", "k", "v", "EX", "100"), ("APPEND", "k", "x"), ("TTL", "k"), ("MSET", "k", "z"),
                ("TTL", "k"), ("EXPIRE", "k", "100"), ("GETSET", "k", "q"), ("TTL", "k"),
                ("EXPIRE", "k", "100"), ("SETRANGE", "k", "0", "p"), ("TTL", "k"), ("PERSIST", "k"), ("TTL", "k")):
        compat.call(*cmd)


def test_expire_time_tolerance(compat):
    for cmd in (("PEXPIRE", "k", "100000"), ("EXPIRE", "k", "100")):
        compat.call("SET", "k", "v")
        compat.call(*cmd)
        for reply in compat.both("PTTL", "k"):
            assert 99000 < int(reply[1:-2]) <= 100000
        ours, theirs = compat.both("PEXPIRETIME", "k")
        assert abs(int(ours[1:-2]) - int(theirs[1:-2])) < 2000


def test_keyspace_events(compat):
    sub = compat.new()
    try:
        compat.call("CONFIG", "SET", "notify-keyspace-events", "KEAmn")
        if sub.both("PSUBSCRIBE", "__key*__:*")[0].startswith(b"-ERR unknown command"):
            pytest.skip("PSUBSCRIBE is not implemented yet")
        commands = [("MSET", "a", "1", "b", "2", "c", "3"), ("DEL", "a", "zz"), ("UNLINK", "b"),
                    ("RENAME", "c", "d"), ("SET", "e", "1"), ("RENAME", "d", "e"), ("RENAMENX", "e", "f"),
                    ("EXPIRE", "f", "100"), ("PEXPIRE", "f", "100000", "NX"), ("PERSIST", "f"), ("PERSIST", "f"),
                    ("EXPIREAT", "f", "1"), ("SET", "g", "1"), ("COPY", "g", "h"), ("COPY", "g", "h", "REPLACE"),
                    ("COPY", "g", "h", "DB", "1"), ("MOVE", "g", "2"), ("SET", "i", "1", "PXAT", "1"), ("TTL", "i"),
                    ("GET", "nokey"), ("MGET", "h", "nokey2"), ("EXISTS", "nokey3"), ("TYPE", "nokey4"),
                    ("TOUCH", "nokey5"), ("GETEX", "nokey6"), ("STRLEN", "nokey7"), ("INCR", "nokey8"),
                    ("SET", "nokey9", "v", "GET"), ("LCS", "h", "nokey10"), ("COPY", "nokey11", "x"),
                    ("PTTL", "nokey12"), ("EXPIRE", "nokey13", "1"), ("DEL", "nokey14")]
        for cmd in commands:
            compat.call(*cmd)
        for conn in sub.conns:
            conn.send(b"*1\r\n$4\r\nPING\r\n")
        for _ in range(300):
            ours, theirs = (conn.read_reply() for conn in sub.conns)
            assert ours == theirs
            if ours.startswith(b"*2\r\n$4\r\npong"):
                break
    finally:
        sub.close()
        compat.call("CONFIG", "SET", "notify-keyspace-events", "")
        compat.call("FLUSHALL")


def test_select_and_move_between_databases(compat):
    need(compat, "SELECT", "0")
    for cmd in (("SET", "k", "v", "PXAT", FAR_MS), ("MOVE", "k", "5"), ("SELECT", "5"), ("GET", "k"),
                ("PEXPIRETIME", "k"), ("COPY", "k", "k", "DB", "0"), ("SELECT", "0"), ("PEXPIRETIME", "k"),
                ("SET", "k", "other"), ("SELECT", "5"), ("MOVE", "k", "0"), ("COPY", "k", "k", "DB", "0", "REPLACE"),
                ("SELECT", "0"), ("GET", "k"), ("FLUSHALL",)):
        compat.call(*cmd)


# 7.4 reads a cursor with string2ull; 7.0.15 with strtoul. They disagree on a few inputs, where the
# expected value below is 7.4's (the emulator's target).
CURSOR_CASES_74 = [
    ("-1", b"-ERR invalid cursor\r\n"),  # 7.0.15 differs: strtoul wraps -1 around, a valid cursor
    ("", b"-ERR invalid cursor\r\n"),  # 7.0.15 differs: strtoul of "" is 0
    (" 0", b"*2\r\n$1\r\n0\r\n*0\r\n"),  # 7.0.15 differs: leading space rejected
    ("+0", b"*2\r\n$1\r\n0\r\n*0\r\n"),
    ("00", b"*2\r\n$1\r\n0\r\n*0\r\n"),
    ("-0", b"*2\r\n$1\r\n0\r\n*0\r\n"),
    ("0 ", b"-ERR invalid cursor\r\n"),
    ("0x1", b"-ERR invalid cursor\r\n"),
    ("18446744073709551616", b"-ERR invalid cursor\r\n"),
]


@pytest.mark.parametrize("cursor,expected", CURSOR_CASES_74)
def test_scan_cursor_parsing_74(compat, cursor, expected):
    ours, _ = compat.both("SCAN", cursor)
    assert ours == expected


def test_scan_novalues_74(compat):
    # 7.0.15 differs: NOVALUES (HSCAN only) arrived in 7.2, so 7.0 answers a plain syntax error
    ours, _ = compat.both("SCAN", "0", "NOVALUES")
    assert ours == b"-ERR NOVALUES option can only be used in HSCAN\r\n"
    ours, _ = compat.both("SCAN", "0", "COUNT", "0", "NOVALUES")
    assert ours == b"-ERR syntax error\r\n"


def test_randomkey_skips_expired_keys(compat):
    compat.call("SET", "a", "1", "PXAT", "1")
    compat.call("SET", "b", "1", "PXAT", "1")
    compat.call("RANDOMKEY")
    compat.call("DBSIZE")
    compat.call("SET", "c", "1")
    compat.call("SET", "a", "1", "PXAT", "1")
    compat.call("RANDOMKEY")


def test_randomkey_is_spread_over_the_whole_keyspace(compat):
    shard = compat.conns[0]
    for base in range(0, 3000, 500):
        shard.call("MSET", *[x for i in range(base, base + 500) for x in (f"k{i}", "v")])
    seen = {decode_reply(shard.call("RANDOMKEY"))[0] for _ in range(400)}
    assert len(seen) > 300
    assert sum(int(k[1:]) >= 1500 for k in seen) > 100  # not only the first keys inserted
