"""Pure tests of the HyperLogLog and geohash structures and SORT's weight reading (the compat tests
compare the same against redis-server)."""
import random

import pytest

from shard.handlers.geo import format_distance
from shard.handlers.sort import strtod_score
from shard.structures import geohash, hll


def test_dense_pack_roundtrip():
    rng = random.Random(3)
    regs = bytearray(rng.randrange(64) for _ in range(hll.REGISTERS))
    packed = hll.pack_dense(regs)
    assert len(packed) == hll.DENSE_BYTES
    assert hll.unpack_dense(packed) == regs
    # register i occupies bits 6i..6i+5, least significant first
    as_int = int.from_bytes(packed, "little")
    assert all((as_int >> (6 * i)) & 63 == regs[i] for i in range(0, hll.REGISTERS, 97))


def test_sparse_roundtrip_and_promotion():
    h = hll.HLL()
    assert h.to_bytes() == b"HYLL\x01\x00\x00\x00" + bytes(8) + b"\x7f\xff"
    rng = random.Random(4)
    for i in range(3000):
        h.add_all([b"x%d" % rng.randrange(10**9)], 3000)
        if i % 97 == 0 and h.encoding == hll.SPARSE:
            again = hll.HLL.from_bytes(h.to_bytes())
            assert (again.ops, again.starts, again.nbytes, again.valid) == (h.ops, h.starts, h.nbytes, True)
    assert h.encoding == hll.DENSE
    assert len(h.to_bytes()) == hll.DENSE_SIZE


def test_estimate_empty_and_small():
    assert hll.estimate(hll.histogram_of(bytearray(hll.REGISTERS))) == 0
    h = hll.HLL()
    h.add_all([b"a", b"b", b"c"], 3000)
    assert h.count() == 3
    assert hll.cached_card(b"HYLL\x01\x00\x00\x00\x05" + bytes(7)) == 5
    assert hll.cached_card(b"HYLL\x01\x00\x00\x00\x05" + bytes(6) + b"\x80") is None


def test_murmur_tail_and_blocks():
    # the same element hashes the same whether its bytes come as blocks or tail
    assert hll.murmur64a(b"") == hll.murmur64a(bytes())
    assert hll.murmur64a(b"12345678") != hll.murmur64a(b"1234567")
    index, count = hll.pat_len(b"hello")
    assert 0 <= index < hll.REGISTERS and 1 <= count <= hll.Q + 1


def test_geohash_encode_decode():
    score = geohash.score_of(13.361389, 38.115556)
    assert score == 3479099956230698  # Palermo, as Redis stores it
    lon, lat = geohash.decode_score(float(score))
    assert abs(lon - 13.361389) < 1e-5 and abs(lat - 38.115556) < 1e-5
    assert geohash.geohash_string(float(score)) == b"sqc8b49rny0"
    assert geohash.encode(200, 0) is None and geohash.encode(0, 85.06) is None


@pytest.mark.parametrize("x,want", [
    (0.0, 0), (-1.0, (1 << 64) - 1), (float("inf"), 0), (float("-inf"), 1 << 63), (1e20, 0),
    (-1e20, 1 << 63), (2.0**63, 1 << 63), (-(2.0**63), 1 << 63), (2.0**52, 1 << 52),
])
def test_c_uint64(x, want):
    assert geohash.c_uint64(x) == want


def test_distance_formatting():
    assert format_distance(0.0) == b"0.0000"
    assert format_distance(0.00004) == b"0.0000"
    assert format_distance(1.23456) == b"1.2346"
    assert format_distance(166274.15156960033) == b"166274.1516"


@pytest.mark.parametrize("text,want", [
    (b"", 0.0), (b"3", 3.0), (b" 7", 7.0), (b"0x10", 16.0), (b"0x1p3", 8.0), (b"inf", float("inf")),
    (b"-Infinity", float("-inf")), (b"1e-300", 1e-300), (b"5.", 5.0), (b".5", 0.5), (b"1\x00junk", 1.0),
    (b"nan", None), (b"2 ", None), (b"  ", None), (b"1_0", None), (b"1e400", None), (b"1e-310", None), (b"x", None),
])
def test_strtod_score(text, want):
    assert strtod_score(text) == want
