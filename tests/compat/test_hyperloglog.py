"""HyperLogLog against a real redis-server: the values themselves (GET, byte for byte, sparse and
dense), counts, merges, PFDEBUG, and error texts."""
import random
import time

import pytest

from amr_emulator.protocol.resp import decode_reply, encode_command


def get_both_equal(compat, key):
    """GET of an HLL on both: the same bytes."""
    return compat.call("GET", key)


def test_sparse_values_match_step_by_step(compat):
    rng = random.Random(1)
    elements = [f"e{rng.randrange(10**9)}" for _ in range(2500)]
    for i, e in enumerate(elements):
        compat.call("PFADD", "h", e)
        if i >= 1300 or i % 25 == 0:  # promotion to dense (near 1500-2000 elements) at the same element
            compat.call("PFDEBUG", "ENCODING", "h")
        if i % 50 == 0:
            get_both_equal(compat, "h")
            compat.call("PFCOUNT", "h")  # writes the cached cardinality
            get_both_equal(compat, "h")
        if i % 400 == 0:
            compat.call("PFDEBUG", "DECODE", "h")
    compat.call("PFDEBUG", "ENCODING", "h")  # dense by now
    get_both_equal(compat, "h")
    compat.call("PFCOUNT", "h")
    get_both_equal(compat, "h")


def test_repeated_and_batched(compat):
    compat.call("PFADD", "h")
    get_both_equal(compat, "h")
    compat.call("PFADD", "h")
    compat.call("PFCOUNT", "h")
    compat.call("PFADD", "h", "a", "b", "c", "a")
    compat.call("PFADD", "h", "a", "b")
    get_both_equal(compat, "h")
    compat.call("PFCOUNT", "h")
    compat.call("PFCOUNT", "h")
    compat.call("PFADD", "h", "", "x" * 100, "\x00\xff" * 9, "12345678", "1234567")
    get_both_equal(compat, "h")
    compat.call("PFCOUNT", "h")
    compat.call("PFCOUNT", "nokey")
    compat.call("EXISTS", "nokey")
    compat.call("PFADD", "g", *[str(i) for i in range(300)])
    get_both_equal(compat, "g")
    compat.call("PFCOUNT", "g", "h")
    compat.call("PFCOUNT", "g", "nokey", "h")
    compat.call("PFCOUNT", "nokey", "nokey2")
    compat.call("PFDEBUG", "DECODE", "g")
    compat.call("PFDEBUG", "GETREG", "g")
    compat.call("PFDEBUG", "ENCODING", "g")  # GETREG made it dense
    get_both_equal(compat, "g")


def test_100k_elements(compat):
    """100k distinct elements in 5 PFADDs: the shard's own time (requests encoded beforehand) is
    about 0.2 s on an idle machine; the bound leaves room for a loaded one."""
    elements = [f"member:{i}" for i in range(100_000)]
    requests = [encode_command("PFADD", "big", *elements[i:i + 20_000]) for i in range(0, len(elements), 20_000)]
    shard, real = compat.conns
    t0 = time.perf_counter()
    for req in requests:
        shard.send(req)
        assert shard.read_reply() == b":1\r\n"
    spent = time.perf_counter() - t0
    for req in requests:
        real.send(req)
        real.read_reply()
    assert spent < 1.5, spent
    get_both_equal(compat, "big")
    t0 = time.perf_counter()
    compat.call("PFCOUNT", "big")
    get_both_equal(compat, "big")
    compat.call("PFADD", "small", "member:1", "x", "y")
    compat.call("PFCOUNT", "big", "small")
    compat.call("PFMERGE", "m", "small", "big")
    get_both_equal(compat, "m")
    compat.call("PFCOUNT", "m")
    assert time.perf_counter() - t0 < 1.0


def test_pfmerge(compat):
    compat.call("PFADD", "a", *[f"a{i}" for i in range(100)])
    compat.call("PFADD", "b", *[f"b{i}" for i in range(150)])
    compat.call("PFMERGE", "s", "a", "b")
    get_both_equal(compat, "s")
    compat.call("PFCOUNT", "s")
    compat.call("PFMERGE", "s2", "nokey")
    get_both_equal(compat, "s2")
    compat.call("PFMERGE", "s3")
    get_both_equal(compat, "s3")
    compat.call("PFMERGE", "a", "b")
    get_both_equal(compat, "a")
    compat.call("PFADD", "d", *[f"d{i}" for i in range(5000)])
    compat.call("PFDEBUG", "ENCODING", "d")
    compat.call("PFMERGE", "s", "d")
    compat.call("PFDEBUG", "ENCODING", "s")
    get_both_equal(compat, "s")
    compat.call("PFMERGE", "s4", "a", "d", "b")
    get_both_equal(compat, "s4")
    compat.call("PFCOUNT", "s4")
    compat.call("PFADD", "w", *[f"w{i}" for i in range(1500)])
    compat.call("PFMERGE", "big", "w", "a")  # sparse sets one register at a time, then dense
    get_both_equal(compat, "big")
    compat.call("PFDEBUG", "ENCODING", "big")


def test_values_cross_servers(compat):
    """A value Redis wrote, SET into the shard (and the other way), keeps working identically."""
    shard, real = compat.conns
    real.call("PFADD", "r", *[f"r{i}" for i in range(700)])
    shard.call("PFADD", "s", *[f"s{i}" for i in range(20000)])
    rv = decode_reply(real.call("GET", "r"))[0]
    sv = decode_reply(shard.call("GET", "s"))[0]
    for conn in compat.conns:
        conn.call("SET", "r", rv)
        conn.call("SET", "s", sv)
    compat.call("PFCOUNT", "r")
    compat.call("PFCOUNT", "s")
    compat.call("PFADD", "r", "x1", "x2", "x3")
    compat.call("PFADD", "s", "x1", "x2", "x3")
    get_both_equal(compat, "r")
    get_both_equal(compat, "s")
    compat.call("PFCOUNT", "r", "s")


def test_config_sparse_max_bytes(compat):
    for conn in compat.conns:
        conn.call("CONFIG", "SET", "hll-sparse-max-bytes", "100")
    try:
        for i in range(80):
            compat.call("PFADD", "h", f"k{i}")
            compat.call("PFDEBUG", "ENCODING", "h")
        get_both_equal(compat, "h")
    finally:
        for conn in compat.conns:
            conn.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


ERRORS = [
    ("SET", "str", "hello"), ("PFADD", "str", "a"), ("PFCOUNT", "str"), ("PFMERGE", "d", "str"), ("EXISTS", "d"),
    ("PFCOUNT", "nokey", "str"), ("PFDEBUG", "ENCODING", "str"), ("LPUSH", "l", "a"), ("PFADD", "l", "a"),
    ("PFADD", "l"), ("PFCOUNT", "l"), ("PFCOUNT", "l", "nokey"), ("PFMERGE", "l", "nokey"), ("PFMERGE", "d", "l"),
    ("PFDEBUG", "GETREG", "l"), ("SET", "short", "HYLL"), ("PFCOUNT", "short"),
    ("SET", "badenc", "HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"), ("PFCOUNT", "badenc"),
    ("SET", "baddense", "HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80" + "\x00" * 100),
    ("PFCOUNT", "baddense"), ("PFADD", "baddense", "a"),
    # a sparse value that covers too few registers
    ("SET", "corrupt", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xfe"), ("PFCOUNT", "corrupt"),
    ("PFCOUNT", "corrupt", "nokey"), ("PFMERGE", "d", "corrupt"), ("PFDEBUG", "TODENSE", "corrupt"),
    ("PFDEBUG", "GETREG", "corrupt"), ("PFDEBUG", "DECODE", "corrupt"), ("PFDEBUG", "ENCODING", "corrupt"),
    ("SET", "cached", "HYLL\x01\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x7f\xfe"), ("PFCOUNT", "cached"),
    ("PFADD", "ok", "a"), ("PFDEBUG", "DECODE", "ok"), ("PFDEBUG", "BAD", "ok"), ("PFDEBUG", "bad", "nokey"),
    ("PFDEBUG", "GETREG", "nokey"), ("PFDEBUG", "TODENSE", "ok"), ("PFDEBUG", "TODENSE", "ok"),
    ("PFDEBUG", "DECODE", "ok"), ("PFDEBUG", "GETREG"), ("PFDEBUG", "GETREG", "ok", "x"), ("PFADD",),
    ("PFCOUNT",), ("PFMERGE",), ("PFSELFTEST", "x"),
]


def test_errors(compat):
    for step in ERRORS:
        compat.call(*step)


def test_pfselftest(compat):
    assert compat.conns[0].call("PFSELFTEST") == b"+OK\r\n"  # Redis's own takes a second: not run there
