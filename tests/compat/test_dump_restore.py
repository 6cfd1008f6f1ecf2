"""DUMP and RESTORE against a real redis-server: payloads made by Redis restore into the shard and
the shard's into Redis, for every type in its compact (small) and plain (large) encodings; error
replies compared byte for byte. (Payloads themselves differ: the shard writes plain encodings.)"""
import pytest

from amr_emulator.protocol.rdb import crc64
from amr_emulator.protocol.resp import decode_reply

FAR_MS = "4102444800123"


def value(conn, *args):
    v, _ = decode_reply(conn.call(*args))
    return v


def build(conn, kind: str, key: str, size: int) -> None:
    if kind == "string":
        conn.call("SET", key, "x" * size)
    elif kind == "intstring":
        conn.call("SET", key, str(-size * 1000))
    elif kind == "list":
        conn.call("RPUSH", key, *["e%d" % i if i % 3 else str(i) for i in range(size)])
    elif kind == "set":
        conn.call("SADD", key, *["m%d" % i for i in range(size)])
    elif kind == "intset":
        conn.call("SADD", key, *[str(i * 7 - 50) for i in range(size)])
    elif kind == "hash":
        conn.call("HSET", key, *[x for i in range(size) for x in ("f%d" % i, "v%d" % (i * 3))])
    elif kind == "zset":
        conn.call("ZADD", key, *[x for i in range(size) for x in (str(i * 0.5 - 3), "m%d" % i)])
    elif kind == "bigvalues":
        conn.call("HSET", key, "f", "v" * 200, "g", "w")
    elif kind == "bigzmember":
        conn.call("ZADD", key, "1.25", "m" * 100, "-inf", "low", "+inf", "high")


def contents(conn, key: str):
    t = value(conn, "TYPE", key)
    if t == "string":
        return value(conn, "GET", key)
    if t == "list":
        return value(conn, "LRANGE", key, "0", "-1")
    if t == "set":
        return sorted(value(conn, "SMEMBERS", key))
    if t == "hash":
        return sorted(value(conn, "HGETALL", key))
    if t == "zset":
        return value(conn, "ZRANGE", key, "0", "-1", "WITHSCORES")
    return t


KINDS = ["string", "intstring", "list", "set", "intset", "hash", "zset"]


@pytest.mark.parametrize("size", [3, 700])
@pytest.mark.parametrize("kind", KINDS + ["bigvalues", "bigzmember"])
def test_redis_payload_into_shard_and_back(compat, kind, size):
    shard, real = compat.conns
    build(real, kind, "src", size)
    payload = value(real, "DUMP", "src")
    assert shard.call("RESTORE", "dst", "0", payload) == b"+OK\r\n"
    assert contents(shard, "dst") == contents(real, "src")
    # and the shard's own payload goes back into Redis
    ours = value(shard, "DUMP", "dst")
    assert real.call("RESTORE", "back", "0", ours) == b"+OK\r\n"
    assert contents(real, "back") == contents(real, "src")


@pytest.mark.parametrize("kind", KINDS)
def test_shard_payload_into_redis(compat, kind):
    shard, real = compat.conns
    for size in (2, 600):
        build(shard, kind, "k%d" % size, size)
        build(real, kind, "ref%d" % size, size)
        payload = value(shard, "DUMP", "k%d" % size)
        assert real.call("RESTORE", "k%d" % size, "0", payload) == b"+OK\r\n"
        assert contents(real, "k%d" % size) == contents(real, "ref%d" % size)
        # Redis converts a small plain-encoded value back to its compact encoding
        # 7.0.15 differs for lists (always "quicklist"; 7.2+: "listpack" when small) and sets of
        # strings (7.2+: "listpack" when small)
        if kind not in ("list", "set"):
            compat.call("OBJECT", "ENCODING", "k%d" % size)


def test_stream_round_trip_through_the_shard(compat):
    shard, real = compat.conns
    for i in range(1, 260):
        real.call("XADD", "s", "%d-%d" % (1000 + i // 3, i % 3), "f", str(i), *(["g", "x" * i] if i % 5 == 0 else []))
    real.call("XDEL", "s", "1002-0", "1010-1")
    real.call("XGROUP", "CREATE", "s", "g1", "0")
    real.call("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "5")
    real.call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", "s", ">")
    real.call("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", "s", ">")
    real.call("XGROUP", "CREATECONSUMER", "s", "g1", "carol")
    real.call("XACK", "s", "g1", "1000-1")
    payload = value(real, "DUMP", "s")
    assert shard.call("RESTORE", "s", "0", payload) == b"+OK\r\n"
    compat.call("TYPE", "s")
    compat.call("OBJECT", "ENCODING", "s")
    compat.call("COPY", "s", "s-copy")
    compat.call("TYPE", "s-copy")
    ours = value(shard, "DUMP", "s")
    assert real.call("RESTORE", "s2", "0", ours) == b"+OK\r\n"
    a = real.call("XINFO", "STREAM", "s", "FULL")
    b = real.call("XINFO", "STREAM", "s2", "FULL")
    assert a == b
    assert real.call("XRANGE", "s", "-", "+") == real.call("XRANGE", "s2", "-", "+")


def test_restore_options_and_ttl(compat):
    shard, real = compat.conns
    real.call("SET", "src", "hello")
    payload = value(real, "DUMP", "src")
    compat.call("RESTORE", "a", "100000", payload)
    assert 99000 < value(shard, "PTTL", "a") <= 100000
    compat.call("RESTORE", "b", FAR_MS, payload, "ABSTTL")
    compat.call("PEXPIRETIME", "b")
    compat.call("RESTORE", "c", "1", payload, "ABSTTL")  # already expired: OK, nothing stored
    compat.call("EXISTS", "c")
    compat.call("SET", "d", "old")
    compat.call("RESTORE", "d", "1", payload, "ABSTTL", "REPLACE")  # deletes d
    compat.call("EXISTS", "d")
    compat.call("RESTORE", "e", "0", payload, "IDLETIME", "100")
    compat.call("RESTORE", "f", "0", payload, "FREQ", "100")
    compat.call("RESTORE", "e", "0", payload, "REPLACE", "IDLETIME", "5")
    compat.call("GET", "e")
    compat.call("TTL", "e")


def test_restore_errors(compat):
    real = compat.conns[1]
    real.call("SET", "src", "hello")
    payload = value(real, "DUMP", "src")
    compat.call("SET", "exists", "1")
    bad_crc = payload[:-1] + bytes((payload[-1] ^ 1,))
    body = b"\x00\x20hel"  # truncated string (a value may run into the footer: this one runs past it)
    bad_body = body + b"\x0a\x00" + crc64(0, body + b"\x0a\x00").to_bytes(8, "little")
    too_new = payload[:-10] + b"\x0d\x00"
    too_new += crc64(0, too_new).to_bytes(8, "little")
    empty_list = b"\x01\x00\x0a\x00"
    empty_list += crc64(0, empty_list).to_bytes(8, "little")
    unknown_type = b"\x63\x00\x0a\x00"
    unknown_type += crc64(0, unknown_type).to_bytes(8, "little")
    for args in [
        ("RESTORE", "exists", "0", payload),
        ("RESTORE", "k", "-1", payload),
        ("RESTORE", "k", "abc", payload),
        ("RESTORE", "k", "0", bad_crc),
        ("RESTORE", "k", "0", "short"),
        ("RESTORE", "k", "0", too_new),
        ("RESTORE", "k", "0", bad_body),
        ("RESTORE", "k", "0", empty_list),
        ("RESTORE", "k", "0", unknown_type),
        ("RESTORE", "k", "0", payload, "BOGUS"),
        ("RESTORE", "k", "0", payload, "IDLETIME"),
        ("RESTORE", "k", "0", payload, "IDLETIME", "-1"),
        ("RESTORE", "k", "0", payload, "IDLETIME", "x"),
        ("RESTORE", "k", "0", payload, "FREQ", "256"),
        ("RESTORE", "k", "0", payload, "FREQ", "-1"),
        ("RESTORE", "k", "0", payload, "FREQ", "1", "IDLETIME", "1"),
        ("RESTORE", "k", "0", payload, "IDLETIME", "1", "FREQ", "1"),
        ("RESTORE", "exists", "-1", payload),  # BUSYKEY is checked before the TTL
        ("RESTORE", "exists", "0", "garbage", "BOGUS"),  # options first
        ("RESTORE", "k", "0"),
        ("DUMP", "nokey"),
        ("DUMP",),
        ("DUMP", "a", "b"),
    ]:
        compat.call(*args)
    compat.call("EXISTS", "k")


def test_dump_of_expired_key_is_nil(compat):
    compat.call("SET", "k", "v", "PX", "1")
    import time

    time.sleep(0.01)
    compat.call("DUMP", "k")


# --- streams: every part of the value carried both ways ------------------------------------------------


def build_stream(conn, key: str) -> None:
    """A stream over many macro nodes (some closed by stream-node-max-bytes), with deleted entries
    (a node's first entry among them), a partial exact trim, XSETID's counters, and groups with PELs,
    claimed entries (delivery count > 1), a consumer with nothing pending and an unknown entries-read."""
    for i in range(1, 400):
        extra = ["g", "x" * (60 * (i % 7))] if i % 5 == 0 else []
        conn.call("XADD", key, "%d-%d" % (1000 + i // 3, i % 3), "f", str(i), *extra)
    conn.call("XDEL", key, "1002-0", "1010-1", "1100-0", "1100-1", "1132-2")
    conn.call("XTRIM", key, "MAXLEN", "370")
    conn.call("XGROUP", "CREATE", key, "g1", "0")
    conn.call("XGROUP", "CREATE", key, "g2", "$", "ENTRIESREAD", "5")
    conn.call("XGROUP", "CREATE", key, "g0", "1050-0")
    conn.call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", key, ">")
    conn.call("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "4", "STREAMS", key, ">")
    conn.call("XREADGROUP", "GROUP", "g0", "zed", "COUNT", "2", "STREAMS", key, ">")
    conn.call("XGROUP", "CREATECONSUMER", key, "g1", "carol")
    conn.call("XACK", key, "g1", "1011-0")
    conn.call("XCLAIM", key, "g1", "carol", "0", "1010-2", "1011-2")
    conn.call("XCLAIM", key, "g1", "carol", "0", "1011-2", "RETRYCOUNT", "7")
    conn.call("XADD", key, "1200-0", "f", "last")
    conn.call("XDEL", key, "1200-0")  # the last entry gone: last_id beyond the last live one
    conn.call("XSETID", key, "1200-5", "ENTRIESADDED", "500", "MAXDELETEDID", "1200-1")


def xinfo_full(conn, key: str, drop_74: bool = False):
    """XINFO STREAM FULL decoded; with drop_74 the fields 7.0.15 lacks are left out (7.0.15 differs:
    no active-time). Times need no masking: DUMP/RESTORE and files carry them."""
    info = value(conn, "XINFO", "STREAM", key, "FULL")
    if drop_74:
        for g in info[info.index(b"groups") + 1]:
            consumers = g[g.index(b"consumers") + 1]
            for k, c in enumerate(consumers):
                i = c.index(b"active-time")
                consumers[k] = c[:i] + c[i + 2:]
    return info


def grow(conn, key: str) -> None:
    """The same further writes on both servers: they land in nodes only if the layout was kept."""
    for i in range(1, 60):
        conn.call("XADD", key, "%d-0" % (1300 + i), "f", "y" * (i % 9 * 20))
    conn.call("XTRIM", key, "MAXLEN", "~", "300")
    conn.call("XTRIM", key, "MINID", "1040-1")
    conn.call("XDEL", key, "1350-0")


def test_stream_with_groups_dump_restore_both_ways(compat):
    shard, real = compat.conns
    build_stream(real, "src")
    payload = value(real, "DUMP", "src")
    assert shard.call("RESTORE", "src", "0", payload) == b"+OK\r\n"
    assert xinfo_full(shard, "src", drop_74=True) == xinfo_full(real, "src")
    compat.call("XRANGE", "src", "-", "+")
    compat.call("XPENDING", "src", "g1")
    # the macro nodes came along: further writes and trims lay out and remove the same nodes
    for conn in compat.conns:
        grow(conn, "src")
    assert xinfo_full(shard, "src", drop_74=True) == xinfo_full(real, "src")
    compat.call("XREADGROUP", "GROUP", "g1", "dave", "COUNT", "5", "STREAMS", "src", ">")
    # and the shard's payload goes back into Redis
    # (dave's seen and delivery times are the shard's own, so compared with the shard's reply)
    ours = value(shard, "DUMP", "src")
    assert real.call("RESTORE", "back", "0", ours) == b"+OK\r\n"
    assert xinfo_full(real, "back") == xinfo_full(shard, "src", drop_74=True)
    assert real.call("XRANGE", "back", "-", "+") == real.call("XRANGE", "src", "-", "+")


def mask_times(x):
    """Absolute ms times replaced (for replies of two servers that ran the same commands)."""
    if isinstance(x, list):
        return [mask_times(y) for y in x]
    return "T" if isinstance(x, int) and x > 10 ** 12 else x


def test_stream_built_by_the_shard_into_redis(compat):
    shard, real = compat.conns
    build_stream(compat, "s")  # the same commands on both, compared
    payload = value(shard, "DUMP", "s")
    assert real.call("RESTORE", "mine", "0", payload) == b"+OK\r\n"
    mine = xinfo_full(real, "mine")
    assert mine == xinfo_full(shard, "s", drop_74=True)
    assert mask_times(mine) == mask_times(xinfo_full(real, "s"))
    grow(real, "mine")
    grow(real, "s")
    assert mask_times(xinfo_full(real, "mine")) == mask_times(xinfo_full(real, "s"))


@pytest.mark.parametrize("max_bytes", ["4096", "600"])
def test_shard_nodes_with_deleted_entries_continue_in_redis(compat, max_bytes):
    """The shard writes stand-ins for a node's deleted entries (it keeps only their number and
    bytes), so Redis, loading the shard's payload, holds nodes of the same entry count and size as its
    own: MEMORY USAGE is equal, and further appends close the nodes at the same entry."""
    shard, real = compat.conns
    compat.call("CONFIG", "SET", "stream-node-max-bytes", max_bytes)
    try:
        for i in range(1, 91):
            compat.call("XADD", "s1", "%d-1" % i, "f", "v" * (i % 40), *(["g", "w" * i] if i % 3 == 0 else []))
        # the master entry, every other one and the last one appended
        compat.call("XDEL", "s1", "1-1", "90-1", *["%d-1" % i for i in range(4, 88, 2)])
        payload = value(shard, "DUMP", "s1")
        real.call("CONFIG", "SET", "sanitize-dump-payload", "yes")  # Redis's deep check accepts them
        assert real.call("RESTORE", "s2", "0", payload) == b"+OK\r\n"
        real.call("CONFIG", "SET", "sanitize-dump-payload", "no")
        # (compared with Redis's own payload restored: MEMORY USAGE counts allocations too)
        assert real.call("RESTORE", "s3", "0", value(real, "DUMP", "s1")) == b"+OK\r\n"
        assert value(real, "MEMORY", "USAGE", "s2") == value(real, "MEMORY", "USAGE", "s3")
        for key in ("s1", "s2", "s3"):
            for i in range(91, 140):
                real.call("XADD", key, "%d-1" % i, "f", "z" * (i % 30))
        assert xinfo_full(real, "s2") == xinfo_full(real, "s1") == xinfo_full(real, "s3")
        assert value(real, "MEMORY", "USAGE", "s2") == value(real, "MEMORY", "USAGE", "s3")
        for key in ("s1", "s2"):
            real.call("XTRIM", key, "MINID", "50")
        assert xinfo_full(real, "s1") == xinfo_full(real, "s2")
    finally:
        compat.call("CONFIG", "SET", "stream-node-max-bytes", "4096")
        real.call("CONFIG", "SET", "sanitize-dump-payload", "no")
