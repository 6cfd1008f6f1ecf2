"""Set commands against a real redis-server.

Redis's iteration order of a set is its own (intset order, listpack insertion order, hash table
order): replies that list members are compared sorted; errors and integers byte for byte.
"""
import pytest

from amr_emulator.protocol.resp import decode_reply
from tests.helpers import assert_same_events, call_unordered


def scan_unordered(compat, *args):
    """An SSCAN that finishes in one call (cursor 0): the member list compared sorted."""
    ours, theirs = compat.both(*args)
    a, b = decode_reply(ours)[0], decode_reply(theirs)[0]
    if isinstance(a, list) and isinstance(b, list):
        assert a[0] == b[0] == b"0"
        assert sorted(a[1]) == sorted(b[1]), args
    else:
        assert ours == theirs, f"{args!r}:\n  shard: {ours!r}\n  redis: {theirs!r}"


def run(compat, steps):
    for step in steps:
        if step[0] == "~":
            call_unordered(compat, *step[1:])
        elif step[0] == "scan":
            scan_unordered(compat, *step[1:])
        else:
            compat.call(*step)


SCENARIOS = {
    "sadd-srem": [
        ("SADD", "s", "a"), ("SADD", "s", "a"), ("SADD", "s", "b", "c", "b", "d"), ("SCARD", "s"),
        ("~", "SMEMBERS", "s"), ("SREM", "s", "x"), ("SREM", "s", "a", "a", "x"), ("SCARD", "s"),
        ("SREM", "s", "b", "c", "d", "e"), ("SCARD", "s"), ("SMEMBERS", "s"), ("SREM", "s", "a"),
        ("SREM", "nokey", "a"), ("SCARD", "nokey"), ("SMEMBERS", "nokey"),
        ("SADD", "ints", "3", "1", "2", "-5", "1"), ("~", "SMEMBERS", "ints"), ("SADD", "ints", "x"),
        ("~", "SMEMBERS", "ints"), ("SADD", "e", ""), ("SMEMBERS", "e"), ("SISMEMBER", "e", ""),
    ],
    "arity": [
        ("SADD", "s"), ("SREM", "s"), ("SCARD",), ("SCARD", "a", "b"), ("SMEMBERS",), ("SISMEMBER", "s"),
        ("SMISMEMBER", "s"), ("SMOVE", "a", "b"), ("SPOP",), ("SPOP", "s", "1", "2"), ("SRANDMEMBER",),
        ("SRANDMEMBER", "s", "1", "2"), ("SINTER",), ("SINTERSTORE", "d"), ("SUNION",), ("SUNIONSTORE", "d"),
        ("SDIFF",), ("SDIFFSTORE", "d"), ("SINTERCARD", "1"), ("SSCAN", "s"), ("SINTERCARD",),
    ],
    "ismember": [
        ("SADD", "s", "a", "b", "1"), ("SISMEMBER", "s", "a"), ("SISMEMBER", "s", "z"), ("SISMEMBER", "s", "1"),
        ("SISMEMBER", "nokey", "a"), ("SMISMEMBER", "s", "a", "z", "b", "a"), ("SMISMEMBER", "nokey", "a", "b"),
        ("SMISMEMBER", "s", "1"),
    ],
    "wrongtype": [
        ("SET", "str", "x"), ("SADD", "str", "a"), ("SREM", "str", "a"), ("SCARD", "str"), ("SMEMBERS", "str"),
        ("SISMEMBER", "str", "a"), ("SMISMEMBER", "str", "a"), ("SPOP", "str"), ("SPOP", "str", "2"),
        ("SRANDMEMBER", "str"), ("SRANDMEMBER", "str", "2"), ("SSCAN", "str", "0"), ("SADD", "s", "a"),
        ("SINTER", "s", "str"), ("SINTER", "nokey", "str"), ("SINTER", "str", "nokey"), ("SINTERCARD", "2", "s", "str"),
        ("SINTERSTORE", "d", "s", "str"), ("SUNION", "s", "str"), ("SUNION", "nokey", "str"),
        ("SUNIONSTORE", "d", "s", "str"), ("SDIFF", "s", "str"), ("SDIFF", "nokey", "str"),
        ("SDIFFSTORE", "d", "s", "str"), ("SMOVE", "str", "s", "a"), ("SMOVE", "s", "str", "a"),
        ("SMOVE", "nokey", "str", "a"), ("SMOVE", "s", "str", "zz"), ("SCARD", "s"), ("GET", "str"),
        # argument errors come first
        ("SPOP", "str", "x"), ("SRANDMEMBER", "str", "x"), ("SINTERCARD", "0", "str"), ("SSCAN", "str", "x"),
    ],
    "smove": [
        ("SADD", "a", "1", "2", "3"), ("SADD", "b", "3", "4"), ("SMOVE", "a", "b", "1"), ("SMOVE", "a", "b", "3"),
        ("SMOVE", "a", "b", "9"), ("~", "SMEMBERS", "a"), ("~", "SMEMBERS", "b"), ("SMOVE", "a", "a", "2"),
        ("SMOVE", "a", "a", "9"), ("SMOVE", "a", "new", "2"), ("SCARD", "a"), ("SMEMBERS", "new"),
        ("SMOVE", "nokey", "b", "1"), ("SMOVE", "new", "b", "2"), ("SCARD", "new"), ("~", "SMEMBERS", "b"),
    ],
    "sinter": [
        ("SADD", "a", "1", "2", "3", "4", "x"), ("SADD", "b", "2", "3", "x", "y"), ("SADD", "c", "3", "x", "z"),
        ("~", "SINTER", "a", "b"), ("~", "SINTER", "a", "b", "c"), ("~", "SINTER", "a"), ("~", "SINTER", "a", "a"),
        ("SINTER", "a", "nokey"), ("SINTER", "nokey"), ("SINTER", "a", "b", "nokey"),
        ("SINTERSTORE", "d", "a", "b"), ("~", "SMEMBERS", "d"), ("SINTERSTORE", "d", "a", "nokey"), ("SCARD", "d"),
        ("SINTERSTORE", "d", "a"), ("SREM", "a", "1"), ("SCARD", "d"), ("SINTERSTORE", "a", "a", "b"),
        ("~", "SMEMBERS", "a"), ("SET", "str", "v"), ("SINTERSTORE", "str", "b", "c"), ("~", "SMEMBERS", "str"),
        ("SET", "str2", "v"), ("SINTERSTORE", "str2", "b", "nokey"), ("GET", "str2"),
        ("SINTERSTORE", "d2", "nokey"), ("SCARD", "d2"), ("SADD", "p", "q"), ("SINTERSTORE", "d3", "p", "c"),
        ("SCARD", "d3"),
    ],
    "sintercard": [
        ("SADD", "a", "1", "2", "3", "4", "x"), ("SADD", "b", "2", "3", "x", "y"),
        ("SINTERCARD", "2", "a", "b"), ("SINTERCARD", "1", "a"), ("SINTERCARD", "2", "a", "nokey"),
        ("SINTERCARD", "2", "a", "b", "LIMIT", "0"), ("SINTERCARD", "2", "a", "b", "LIMIT", "2"),
        ("SINTERCARD", "2", "a", "b", "limit", "100"), ("SINTERCARD", "1", "a", "LIMIT", "1", "LIMIT", "3"),
        ("SINTERCARD", "0", "a"), ("SINTERCARD", "-1", "a"), ("SINTERCARD", "x", "a"), ("SINTERCARD", "1.0", "a"),
        ("SINTERCARD", "3", "a", "b"), ("SINTERCARD", "2", "a"), ("SINTERCARD", "9223372036854775808", "a"),
        ("SINTERCARD", "2", "a", "b", "LIMIT"), ("SINTERCARD", "2", "a", "b", "LIMIT", "-1"),
        ("SINTERCARD", "2", "a", "b", "LIMIT", "x"), ("SINTERCARD", "2", "a", "b", "FOO", "1"),
        ("SINTERCARD", "1", "a", "b"), ("SINTERCARD", "1", "nokey"), ("SINTERCARD", "2", "a", "a"),
    ],
    "sunion-sdiff": [
        ("SADD", "a", "1", "2", "3", "x"), ("SADD", "b", "3", "4", "x"), ("SADD", "c", "5"),
        ("~", "SUNION", "a", "b"), ("~", "SUNION", "a", "b", "c", "nokey"), ("SUNION", "nokey"),
        ("~", "SUNION", "nokey", "a"), ("~", "SDIFF", "a", "b"), ("~", "SDIFF", "a", "nokey"),
        ("~", "SDIFF", "a", "b", "c"), ("SDIFF", "a", "a"), ("SDIFF", "a", "b", "a"), ("SDIFF", "nokey", "a"),
        ("~", "SDIFF", "b", "a"), ("~", "SDIFF", "a"), ("SUNIONSTORE", "u", "a", "b"), ("~", "SMEMBERS", "u"),
        ("SUNIONSTORE", "u", "nokey"), ("SCARD", "u"), ("SUNIONSTORE", "u", "a"), ("SDIFFSTORE", "d", "a", "b"),
        ("~", "SMEMBERS", "d"), ("SDIFFSTORE", "d", "a", "a"), ("SCARD", "d"), ("SDIFFSTORE", "d", "nokey"),
        ("SDIFFSTORE", "a", "a", "c"), ("~", "SMEMBERS", "a"), ("SET", "str", "v"), ("SUNIONSTORE", "str", "c"),
        ("SMEMBERS", "str"), ("SET", "str", "v"), ("SDIFFSTORE", "str", "nokey", "c"), ("GET", "str"),
        ("SUNIONSTORE", "a", "a", "c"), ("~", "SMEMBERS", "a"),
    ],
    "spop-srandmember-errors": [
        ("SADD", "s", "a", "b", "c"), ("SPOP", "s", "x"), ("SPOP", "s", "-1"), ("SPOP", "s", "1.5"),
        ("SPOP", "s", "9223372036854775808"), ("SPOP", "s", "0"), ("SPOP", "nokey"), ("SPOP", "nokey", "3"),
        ("SPOP", "nokey", "0"), ("SPOP", "nokey", "-1"), ("SRANDMEMBER", "s", "x"),
        ("SRANDMEMBER", "s", "-9223372036854775808"), ("SRANDMEMBER", "s", "-9223372036854775807x"),
        ("SRANDMEMBER", "s", "0"), ("SRANDMEMBER", "nokey"), ("SRANDMEMBER", "nokey", "5"),
        ("SRANDMEMBER", "nokey", "-5"), ("SRANDMEMBER", "nokey", "x"), ("SCARD", "s"),
        ("~", "SRANDMEMBER", "s", "3"), ("~", "SRANDMEMBER", "s", "100"), ("~", "SPOP", "s", "3"), ("SCARD", "s"),
        ("SADD", "s", "z"), ("~", "SPOP", "s", "5"), ("SCARD", "s"), ("SADD", "one", "x"), ("SPOP", "one"),
        ("SCARD", "one"), ("SADD", "one", "x"), ("SRANDMEMBER", "one"), ("SRANDMEMBER", "one", "-3"),
        ("SRANDMEMBER", "one", "1"), ("SPOP", "one", "1"), ("SCARD", "one"),
    ],
    "sscan": [
        ("SADD", "s", "a", "b", "ab", "x"), ("scan", "SSCAN", "s", "0"),
        ("scan", "SSCAN", "s", "0", "MATCH", "a*"), ("scan", "SSCAN", "s", "0", "match", "*b", "count", "100"),
        ("SSCAN", "s", "0", "MATCH", "zz*"), ("SSCAN", "nokey", "0"), ("SSCAN", "nokey", "0", "BAD"),
        ("SSCAN", "s", "x"), ("SSCAN", "s", "18446744073709551616"), ("SSCAN", "s", "1.5"),
        ("SSCAN", "s", "0", "COUNT", "0"), ("SSCAN", "s", "0", "COUNT", "x"), ("SSCAN", "s", "0", "COUNT"),
        ("SSCAN", "s", "0", "BAD", "1"), ("SSCAN", "s", "0", "TYPE", "string"), ("SADD", "i", "3", "1", "2"),
        ("scan", "SSCAN", "i", "0"), ("scan", "SSCAN", "i", "0", "MATCH", "[12]"),
        ("scan", "SSCAN", "i", "0", "COUNT", "1"),
    ],
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_set_scenario(compat, name):
    run(compat, SCENARIOS[name])


@pytest.mark.parametrize("name", ["sadd-srem", "ismember", "smove", "sinter", "sintercard", "sunion-sdiff",
                                  "spop-srandmember-errors", "sscan"])
def test_set_scenario_resp3(compat, name):
    compat.resp3()
    run(compat, SCENARIOS[name])


def test_resp3_reply_types(compat):
    """Sets are `~` in RESP3 (SMEMBERS, SINTER, SUNION, SDIFF, SPOP with a count); SRANDMEMBER with a
    count and SMISMEMBER are arrays."""
    compat.resp3()
    compat.call("SADD", "s", "a")
    for args in [("SMEMBERS", "s"), ("SINTER", "s"), ("SUNION", "s"), ("SDIFF", "s"), ("SMEMBERS", "nokey"),
                 ("SINTER", "nokey"), ("SUNION", "nokey"), ("SDIFF", "nokey"), ("SRANDMEMBER", "s", "1"),
                 ("SRANDMEMBER", "s", "-2"), ("SRANDMEMBER", "nokey", "1"), ("SMISMEMBER", "s", "a", "b"),
                 ("SPOP", "nokey", "1"), ("SPOP", "s", "0"), ("SRANDMEMBER", "nokey"), ("SPOP", "nokey"),
                 ("SPOP", "s", "1")]:
        compat.call(*args)


def test_big_sets(compat):
    """Past the listpack/intset limits Redis switches to a hash table; the contents still match."""
    words = [f"m{i}" for i in range(600)]
    ints = [str(i) for i in range(0, 1200, 2)]
    compat.call("SADD", "w", *words)
    compat.call("SADD", "i", *ints)
    compat.call("SADD", "mix", *words[:300], *ints[:300])
    compat.call("SCARD", "w")
    compat.call("SCARD", "mix")
    call_unordered(compat, "SMEMBERS", "w")
    call_unordered(compat, "SINTER", "i", "mix")
    call_unordered(compat, "SUNION", "w", "i")
    call_unordered(compat, "SDIFF", "mix", "w")
    compat.call("SINTERCARD", "2", "w", "mix")
    compat.call("SINTERCARD", "2", "w", "mix", "LIMIT", "17")
    compat.call("SINTERSTORE", "x", "w", "mix")
    compat.call("SUNIONSTORE", "y", "w", "i", "mix")
    compat.call("SDIFFSTORE", "z", "mix", "i")
    compat.call("SREM", "w", *words[:550])
    call_unordered(compat, "SMEMBERS", "w")
    compat.call("SMISMEMBER", "mix", "m0", "m299", "m300", "0", "598", "600")
    for raw in compat.both("SPOP", "w", "10"):
        assert len(decode_reply(raw)[0]) == 10
    compat.call("SCARD", "w")
    for raw in compat.both("SPOP", "w", "38"):
        assert len(decode_reply(raw)[0]) == 38
    compat.call("SCARD", "w")
    for raw in compat.both("SRANDMEMBER", "i", "-1000"):
        assert len(decode_reply(raw)[0]) == 1000
    for raw in compat.both("SRANDMEMBER", "i", "599"):
        reply = decode_reply(raw)[0]
        assert len(set(reply)) == 599 and set(reply) <= {i.encode() for i in ints}
    for raw in compat.both("SRANDMEMBER", "i", "50"):
        reply = decode_reply(raw)[0]
        assert len(set(reply)) == 50 and set(reply) <= {i.encode() for i in ints}


def test_sscan_7_4_differences(compat):
    compat.call("SADD", "s", "a", "b", "ab", "x")
    ours, theirs = compat.both("SSCAN", "s", "-1")
    # 7.0.15 differs: it reads the cursor with strtoull, which wraps -1 around; 7.4 refuses it
    assert ours == b"-ERR invalid cursor\r\n"
    assert theirs.startswith(b"*2\r\n")
    # 7.0.15 differs: small sets of strings are hash tables there, listpacks (answered whole) in 7.4
    ours, _ = compat.both("SSCAN", "s", "0", "COUNT", "1")
    reply = decode_reply(ours)[0]
    assert reply[0] == b"0" and sorted(reply[1]) == [b"a", b"ab", b"b", b"x"]


def test_sscan_big_set_iterates_everything(compat):
    members = [f"m{i}" for i in range(1000)]
    compat.call("SADD", "s", *members)
    for conn in compat.conns:
        seen = []
        cursor = b"0"
        for _ in range(10000):
            reply = decode_reply(conn.call("SSCAN", "s", cursor, "COUNT", "50"))[0]
            cursor = reply[0]
            seen += reply[1]
            if cursor == b"0":
                break
        assert sorted(set(seen)) == sorted(m.encode() for m in members)


def test_random_replies(compat):
    compat.call("SADD", "s", "a", "b", "c", "d", "e")
    members = {b"a", b"b", b"c", b"d", b"e"}
    for _ in range(5):
        for raw in compat.both("SRANDMEMBER", "s"):
            assert decode_reply(raw)[0] in members
    for count in ("2", "4", "5", "9", "-3", "-20"):
        for raw in compat.both("SRANDMEMBER", "s", count):
            reply = decode_reply(raw)[0]
            assert type(reply) is list
            assert len(reply) == (min(int(count), 5) if int(count) > 0 else -int(count))
            assert set(reply) <= members
            if int(count) > 0:
                assert len(set(reply)) == len(reply)
    popped = []
    for raw in compat.both("SPOP", "s"):
        popped.append(decode_reply(raw)[0])
    assert all(p in members for p in popped)
    compat.call("SCARD", "s")
    # the shard's SRANDMEMBER is random, not the same member every time
    seen = {decode_reply(compat.conns[0].call("SRANDMEMBER", "s"))[0] for _ in range(100)}
    assert len(seen) > 1


def test_sets_in_multi_are_snapshots(compat):
    compat.call("SADD", "s", "a")
    compat.call("MULTI")
    compat.call("SMEMBERS", "s")
    compat.call("SINTER", "s")
    compat.call("SADD", "s", "b")
    compat.call("SREM", "s", "a")
    compat.call("SMEMBERS", "s")
    compat.call("EXEC")


def test_set_keyspace_events(compat):
    sub = compat.new()
    sub.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
    sub.call("PSUBSCRIBE", "__key*__:*")
    steps = [
        ("SADD", "s", "a", "b", "c"), ("SADD", "s", "a"), ("SREM", "s", "zz"), ("SREM", "s", "a"),
        ("SMOVE", "s", "t", "b"), ("SMOVE", "s", "t", "b"), ("SMOVE", "s", "t", "zz"), ("SMOVE", "t", "s", "b"),
        ("SADD", "t", "b"), ("SMOVE", "t", "s", "b"), ("SMOVE", "s", "t", "c"),
        ("SADD", "u", "1", "2"), ("SINTERSTORE", "d", "t", "u"), ("SUNIONSTORE", "d", "t", "u"),
        ("SINTERSTORE", "d", "t", "u"), ("SINTERSTORE", "d", "t", "u"), ("SDIFFSTORE", "d", "u", "t"),
        ("SDIFFSTORE", "d", "u", "u"), ("SUNIONSTORE", "d", "nokey"), ("SPOP", "u", "0"), ("SPOP", "u", "5"),
        ("SADD", "v", "x"), ("SPOP", "v"), ("SADD", "w", "x", "y"), ("SREM", "w", "x", "y", "z"),
    ]
    for step in steps:
        call_unordered(compat, *step)
    assert_same_events(sub)
    sub.close()
    compat.call("CONFIG", "SET", "notify-keyspace-events", "")
