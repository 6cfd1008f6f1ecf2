"""The RDB codec, pure: CRC64, LZF, lengths and strings, the compact encodings, whole files, DUMP
payloads, and corrupt or truncated input (always one RdbError, never another exception)."""
import os
import random
import struct
import sys

import pytest

from amr_emulator.protocol.rdb import (RdbError, Stream, StreamConsumer, StreamGroup, StreamPendingEntry, ZSetPairs,
                                       crc64, dump_payload, encode_length, encode_string, load_dump_payload,
                                       lzf_compress, lzf_decompress, read_rdb, read_value, verify_dump_payload,
                                       write_rdb)
from amr_emulator.protocol.rdb.encodings import (intset_decode, listpack_decode, listpack_encode, ziplist_decode,
                                                 zipmap_decode)
from amr_emulator.protocol.rdb.lzf import LzfError
from amr_emulator.protocol.rdb.reader import _Reader, module_name

# --- CRC64 --------------------------------------------------------------------------------------------


def test_crc64_known_vector():
    assert crc64(0, b"123456789") == 0xE9C6D914C4B8D9CA
    assert crc64(0, b"") == 0


def _crc64_bitwise(data: bytes) -> int:
    """The definition, a bit at a time (src/crc64.c's _crc64: reflected input and output)."""
    poly = 0xAD93D23594C935A9
    crc = 0
    for byte in data:
        for i in range(8):
            bit = (crc >> 63) ^ ((byte >> i) & 1)
            crc = (crc << 1) & 0xFFFFFFFFFFFFFFFF
            if bit:
                crc ^= poly
    return int(format(crc, "064b")[::-1], 2)


def test_crc64_matches_the_bitwise_definition():
    assert _crc64_bitwise(b"123456789") == 0xE9C6D914C4B8D9CA
    for n in (1, 7, 100, 1000):
        data = os.urandom(n)
        assert crc64(0, data) == _crc64_bitwise(data)


def test_crc64_continues_and_parallel_path_agrees():
    crc_module = sys.modules["amr_emulator.protocol.rdb.crc64"]
    data = os.urandom(300_003)
    whole = crc_module._crc64_bytes(0, data)
    assert crc64(0, data) == whole  # the parallel path
    assert crc64(0, memoryview(data)) == whole
    assert crc64(crc64(0, data[:77_777]), data[77_777:]) == whole
    start = crc_module._crc64_bytes(0, b"prefix")
    assert crc64(start, data) == crc_module._crc64_bytes(0, b"prefix" + data)
    assert crc_module._crc64_parallel(0, data[:70_001], 256) == crc_module._crc64_bytes(0, data[:70_001])


# --- LZF --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [
    b"a" * 100, b"abc" * 1000, b"hello world, hello world, hello world!", bytes(range(256)) * 50,
    os.urandom(300) + b"z" * 5000 + os.urandom(300), b"x" * 70000,
    b"".join(b"key:%d," % i for i in range(3000)),
])
def test_lzf_round_trip(data):
    c = lzf_compress(data)
    assert c is not None and len(c) < len(data)
    assert lzf_decompress(c, len(data)) == data


def test_lzf_incompressible_gives_none():
    assert lzf_compress(os.urandom(100)) is None
    assert lzf_compress(b"abc") is None


@pytest.mark.parametrize("bad,length", [
    (b"\x05abc", 6),  # literal past the end
    (b"\x00a\xe0", 40),  # truncated back reference
    (b"\x20\x05", 5),  # reference before the start
    (b"\x00a\x20\x00", 10),  # shorter than announced
    (b"\x02abc", 2),  # longer than announced
])
def test_lzf_corrupt(bad, length):
    with pytest.raises(LzfError):
        lzf_decompress(bad, length)


# --- lengths and strings ------------------------------------------------------------------------------


@pytest.mark.parametrize("n,encoded", [
    (0, b"\x00"), (63, b"\x3f"), (64, b"\x40\x40"), (16383, b"\x7f\xff"), (16384, b"\x80\x00\x00\x40\x00"),
    (2**32 - 1, b"\x80\xff\xff\xff\xff"), (2**32, b"\x81\x00\x00\x00\x01\x00\x00\x00\x00"),
])
def test_length_encoding(n, encoded):
    assert encode_length(n) == encoded
    r = _Reader(encoded)
    assert r.length() == n and r.pos == len(encoded)


@pytest.mark.parametrize("s,encoded", [
    (b"0", b"\xc0\x00"), (b"-128", b"\xc0\x80"), (b"127", b"\xc0\x7f"), (b"128", b"\xc1\x80\x00"),
    (b"-32768", b"\xc1\x00\x80"), (b"32768", b"\xc2\x00\x80\x00\x00"), (b"2147483647", b"\xc2\xff\xff\xff\x7f"),
    (b"2147483648", b"\x0a2147483648"), (b"007", b"\x03007"), (b"-0", b"\x02-0"), (b"+1", b"\x02+1"),
    (b"", b"\x00"), (b"abc", b"\x03abc"),
])
def test_string_encoding(s, encoded):
    assert encode_string(s) == encoded
    assert read_value(0, encoded)[0] == s


def test_lzf_string_round_trip():
    s = b"abcdefgh" * 100
    enc = encode_string(s, compress=True)
    assert enc[0] == 0xC3
    assert read_value(0, enc) == (s, len(enc))


# --- compact encodings ------------------------------------------------------------------------------------


LP_VALUES = [0, 127, 128, -1, -4096, 4095, 4096, -32768, 32767, 32768, -(1 << 23), (1 << 23) - 1, 1 << 23,
             -(1 << 31), (1 << 31) - 1, 1 << 31, -(1 << 63), (1 << 63) - 1,
             b"", b"a", b"x" * 63, b"x" * 64, b"y" * 4095, b"y" * 4096, b"z" * 70000, b"12a", b"007"]


def test_listpack_round_trip():
    lp = listpack_encode(LP_VALUES)
    got = listpack_decode(lp)
    assert got == LP_VALUES
    # canonical integers given as strings are stored as integers
    assert listpack_decode(listpack_encode([b"17", b"-5", b"9223372036854775807"])) == [17, -5, (1 << 63) - 1]


def test_listpack_corrupt():
    lp = listpack_encode([b"hello", 5])
    with pytest.raises(RdbError):
        listpack_decode(lp[:-1])
    with pytest.raises(RdbError):
        listpack_decode(lp[:6] + b"\xff")  # header length wrong
    bad_count = lp[:4] + struct.pack("<H", 3) + lp[6:]
    with pytest.raises(RdbError):
        listpack_decode(bad_count)


def _ziplist(entries) -> bytes:
    body = b""
    prev = 0
    for e in entries:
        pl = bytes((prev,)) if prev < 254 else b"\xfe" + struct.pack("<I", prev)
        if isinstance(e, int):
            if 0 <= e <= 12:
                enc = bytes((0xF1 + e,))
            elif -128 <= e <= 127:
                enc = b"\xfe" + struct.pack("<b", e)
            elif -32768 <= e <= 32767:
                enc = b"\xc0" + struct.pack("<h", e)
            elif -(1 << 23) <= e < (1 << 23):
                enc = b"\xf0" + (e & 0xFFFFFF).to_bytes(3, "little")
            elif -(1 << 31) <= e < (1 << 31):
                enc = b"\xd0" + struct.pack("<i", e)
            else:
                enc = b"\xe0" + struct.pack("<q", e)
        elif len(e) < 64:
            enc = bytes((len(e),)) + e
        elif len(e) < 16384:
            enc = bytes((0x40 | (len(e) >> 8), len(e) & 0xFF)) + e
        else:
            enc = b"\x80" + struct.pack(">I", len(e)) + e
        entry = pl + enc
        prev = len(entry)
        body += entry
    return struct.pack("<IIH", 11 + len(body), 10, len(entries)) + body + b"\xff"


def test_ziplist_decode():
    entries = [b"a", 0, 12, 13, -1, 300, -70000, 1 << 40, b"x" * 100, b"y" * 20000, b"z" * 300]
    assert ziplist_decode(_ziplist(entries)) == entries
    with pytest.raises(RdbError):
        ziplist_decode(_ziplist(entries)[:-2] + b"\xff")


def test_intset_decode():
    assert intset_decode(struct.pack("<II3h", 2, 3, -5, 1, 300)) == [-5, 1, 300]
    assert intset_decode(struct.pack("<II2q", 8, 2, -(1 << 40), 1 << 40)) == [-(1 << 40), 1 << 40]
    with pytest.raises(RdbError):
        intset_decode(struct.pack("<II3h", 2, 4, -5, 1, 300))
    with pytest.raises(RdbError):
        intset_decode(struct.pack("<II", 3, 0))


def test_zipmap_decode():
    zm = b"\x02" + b"\x03foo\x03\x00bar" + b"\x05hello\x05\x02world!!" + b"\xff"
    assert zipmap_decode(zm) == [b"foo", b"bar", b"hello", b"world"]
    with pytest.raises(RdbError):
        zipmap_decode(zm[:-3])


# --- whole files -----------------------------------------------------------------------------------------------

STREAM = Stream(
    entries=[(1, 0, [b"a", b"1"]), (1, 1, [b"a", b"2"]), (5, 0, [b"b", b"x", b"c", b"123456789012"])],
    length=3, last_id=(7, 0), first_id=(1, 0), max_deleted_entry_id=(7, 0), entries_added=4,
    groups=(StreamGroup(b"g1", (1, 1), 2,
                        (StreamPendingEntry((1, 0), b"alice", 1700000000000, 2),
                         StreamPendingEntry((1, 1), b"bob", 1700000000001, 1)),
                        (StreamConsumer(b"alice", 1700000000002, 1700000000002, ((1, 0),)),
                         StreamConsumer(b"bob", 1700000000003, 1700000000003, ((1, 1),)),
                         StreamConsumer(b"carol", 5, 5, ()))),
            StreamGroup(b"g2", (0, 0), -1, (), ())))

VALUES = {
    b"str": b"hello", b"int": b"-12345", b"bigint": b"99999999999999999999", b"empty": b"",
    b"long": os.urandom(1000), b"list": [b"a", b"1", b"", b"x" * 100], b"set": {b"m", b"n", b"1"},
    b"hash": {b"f": b"v", b"n": b"10"}, b"zset": ZSetPairs([(b"a", 1.5), (b"b", -float("inf")), (b"c", 1e300)]),
    b"stream": STREAM, b"\x00binary\xff": b"\r\n",
}


def _same(a, b):
    if isinstance(a, ZSetPairs):
        return sorted(a) == sorted(b)
    return a == b


def test_file_round_trip():
    big_stream = Stream([(i, 0, [b"f", b"%d" % i]) for i in range(1, 251)], 250, (250, 0), (1, 0), (0, 0), 250)
    data = dict(VALUES)
    data[b"bigstream"] = big_stream
    f = write_rdb([(0, data, {b"str": 4102444800000}), (5, {b"k": b"v"}, {}), (7, {}, {})],
                  aux=[(b"redis-ver", b"7.4.0"), (b"redis-bits", 64)], functions=[b"#!lua name=lib\nreturn 1"])
    assert f.startswith(b"REDIS0010")
    r = read_rdb(f)
    assert r.version == 10
    assert r.aux == {b"redis-ver": b"7.4.0", b"redis-bits": b"64"}
    assert r.functions == [b"#!lua name=lib\nreturn 1"]
    assert set(r.dbs) == {0, 5}
    assert r.dbs[0].expires == {b"str": 4102444800000}
    assert set(r.dbs[0].data) == set(data)
    for k, v in data.items():
        assert _same(r.dbs[0].data[k], v), k
    assert r.dbs[5].data == {b"k": b"v"}


def test_dump_payload_round_trip():
    for v in VALUES.values():
        p = dump_payload(v)
        assert p[-10:-8] == b"\x0a\x00"
        assert verify_dump_payload(p)
        assert _same(load_dump_payload(p), v)


def test_dump_payload_checks():
    p = dump_payload(b"hello")
    assert not verify_dump_payload(p[:-1] + bytes((p[-1] ^ 1,)))
    assert not verify_dump_payload(b"\x00" * 9)
    body = p[:-10] + b"\x0d\x00"  # version 13: too new
    assert not verify_dump_payload(body + crc64(0, body).to_bytes(8, "little"))
    body = b"\x01\x00" + b"\x0a\x00"  # an empty list
    with pytest.raises(RdbError):
        load_dump_payload(body + crc64(0, body).to_bytes(8, "little"))


def _file(body: bytes, version=9) -> bytes:
    data = b"REDIS%04d" % version + body + b"\xff"
    return data + crc64(0, data).to_bytes(8, "little")


def test_reads_opcodes():
    body = (b"\xfa\x03foo\x03bar"  # AUX
            b"\xfe\x02\xfb\x02\x01"  # SELECTDB 2, RESIZEDB
            b"\xfd" + struct.pack("<i", 1000) + b"\x00\x01a\x01b"  # EXPIRETIME (seconds)
            b"\xf8\x05\x00\x01c\x01d"  # IDLE 5
            b"\xf9\x07\x00\x01e\x01f"  # FREQ 7
            b"\xfc" + struct.pack("<q", 42) + b"\x00\x01g\x01h")  # EXPIRETIME_MS
    r = read_rdb(_file(body))
    db = r.dbs[2]
    assert db.data == {b"a": b"b", b"c": b"d", b"e": b"f", b"g": b"h"}
    assert db.expires == {b"a": 1000000, b"g": 42}
    assert db.idle == {b"c": 5} and db.freq == {b"e": 7}
    assert r.aux == {b"foo": b"bar"}


def test_zero_checksum_is_not_checked():
    data = b"REDIS0009\x00\x01a\x01b\xff" + b"\x00" * 8
    assert read_rdb(data).dbs[0].data == {b"a": b"b"}


def test_version_4_has_no_checksum():
    assert read_rdb(b"REDIS0004\x00\x01a\x01b\xff").dbs[0].data == {b"a": b"b"}


def test_old_encodings():
    enc = encode_string
    body = (b"\x0a" + enc(b"zl") + enc(_ziplist([b"a", 5, b"c"]))  # list ziplist
            + b"\x0e" + enc(b"ql") + b"\x02" + enc(_ziplist([b"x"])) + enc(_ziplist([1, 2]))  # quicklist
            + b"\x0b" + enc(b"is") + enc(struct.pack("<II2i", 4, 2, -100000, 100000))  # intset
            + b"\x0c" + enc(b"zz") + enc(_ziplist([b"m", b"1.5", b"n", 3]))  # zset ziplist
            + b"\x0d" + enc(b"hz") + enc(_ziplist([b"f", b"v", b"g", 7]))  # hash ziplist
            + b"\x09" + enc(b"zm") + enc(b"\x01\x01k\x01\x00v\xff")  # zipmap
            + b"\x03" + enc(b"z1") + enc(b"a") + b"\x031.5" + enc(b"b") + b"\xfe" + enc(b"c") + b"\xff"[:0]
            + b"\xfd")  # -> score of c
    # the last member's score is "-inf" (255); complete the body
    body = body[:-1] + b"\xff"
    body = body.replace(b"\x03" + enc(b"z1") + enc(b"a"), b"\x03" + enc(b"z1") + b"\x03" + enc(b"a"))
    r = read_rdb(_file(body, 9))
    d = r.dbs[0].data
    assert d[b"zl"] == [b"a", b"5", b"c"]
    assert d[b"ql"] == [b"x", b"1", b"2"]
    assert d[b"is"] == {b"-100000", b"100000"}
    assert sorted(d[b"zz"]) == [(b"m", 1.5), (b"n", 3.0)]
    assert d[b"hz"] == {b"f": b"v", b"g": b"7"}
    assert d[b"zm"] == {b"k": b"v"}
    assert sorted(d[b"z1"]) == [(b"a", 1.5), (b"b", float("inf")), (b"c", float("-inf"))]


def test_listpack_types():
    enc = encode_string
    body = (b"\x12" + enc(b"q2") + b"\x02" + b"\x02" + enc(listpack_encode([b"a", 1])) + b"\x01" + enc(b"plain")
            + b"\x10" + enc(b"h") + enc(listpack_encode([b"f", b"v"]))
            + b"\x11" + enc(b"z") + enc(listpack_encode([b"m", 2, b"n", b"2.5"]))
            + b"\x14" + enc(b"s") + enc(listpack_encode([b"a", 3]))
            + b"\x19" + enc(b"hx") + struct.pack("<q", 5) + enc(listpack_encode([b"f", b"v", 0, b"g", b"w", 99]))
            + b"\x18" + enc(b"hm") + struct.pack("<q", 5) + b"\x02" + b"\x00" + enc(b"f") + enc(b"v")
            + b"\x03" + enc(b"g") + enc(b"w"))
    d = read_rdb(_file(body, 12)).dbs[0].data
    assert d[b"q2"] == [b"a", b"1", b"plain"]
    assert d[b"h"] == {b"f": b"v"}
    assert d[b"z"] == [(b"m", 2.0), (b"n", 2.5)]
    assert d[b"s"] == {b"a", b"3"}
    assert d[b"hx"] == {b"f": b"v", b"g": b"w"}
    assert d[b"hm"] == {b"f": b"v", b"g": b"w"}


def test_empty_collections_are_skipped():
    r = read_rdb(_file(b"\x01\x01k\x00" + b"\x00\x01s\x01v"))
    assert r.dbs[0].data == {b"s": b"v"}


@pytest.mark.parametrize("body,message", [
    (b"\x07\x01k\x81" + struct.pack(">Q", (12345 << 10) | 1), "modules are not supported"),
    (b"\xf7\x81" + struct.pack(">Q", 1 << 10), "modules are not supported"),
    (b"\x1a\x01k", "unknown object type 26"),
    (b"\x00\x01k\x05ab", "unexpected end of data"),
    (b"\x00\x01k\xc4", "unknown string encoding"),
    (b"\x02\x01k\x02\x01a\x01a", "duplicate set member"),
    (b"\x00\x01k\x01v\x00\x01k\x01w", "duplicate key"),
    (b"\x05\x01k\x01\x01m" + struct.pack("<d", float("nan")), "NaN"),
    (b"\x00\x01k\xc3\x05\x0a\x00abcd", "invalid LZF data"),
    (b"\xf6", "pre-release"),
])
def test_corrupt_files(body, message):
    with pytest.raises(RdbError, match=message):
        read_rdb(_file(body))


def test_module_name():
    module_id = 0
    for ch in "ReJSON-RL":
        module_id = (module_id << 6) | "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(ch)
    assert module_name((module_id << 10) | 3) == "ReJSON-RL"


def test_bad_headers():
    for data, message in [(b"", "signature"), (b"RODIS0009", "signature"), (b"REDISxxxx", "version"),
                          (b"REDIS0013\xff", "version 13"), (b"REDIS0000\xff", "version 0")]:
        with pytest.raises(RdbError, match=message):
            read_rdb(data)


def test_wrong_checksum():
    f = write_rdb([(0, {b"a": b"b"}, {})])
    with pytest.raises(RdbError, match="checksum"):
        read_rdb(f[:-1] + bytes((f[-1] ^ 0x55,)))


def _sample_file() -> bytes:
    return write_rdb([(0, dict(VALUES), {b"str": 123}), (3, {b"x": [b"1", b"2"]}, {})],
                     aux=[(b"redis-ver", b"7.4.0")], functions=[b"#!lua name=l\nreturn 1"])


def test_every_truncation_is_an_rdb_error():
    f = _sample_file()
    for n in range(len(f)):
        with pytest.raises(RdbError):
            read_rdb(f[:n])


def test_random_corruption_never_escapes_as_another_exception():
    f = _sample_file()
    rng = random.Random(7)
    for _ in range(1500):
        body = bytearray(f[:-8])
        for _ in range(rng.randint(1, 3)):
            body[rng.randrange(9, len(body))] = rng.randrange(256)
        data = bytes(body) + crc64(0, body).to_bytes(8, "little")
        try:
            read_rdb(data)
        except RdbError:
            pass
    for _ in range(500):
        p = bytearray(dump_payload(VALUES[b"stream"] if rng.random() < 0.5 else VALUES[b"zset"])[:-10])
        p[rng.randrange(len(p))] = rng.randrange(256)
        try:
            load_dump_payload(bytes(p) + b"\x0a\x00" + b"\x00" * 8)
        except RdbError:
            pass


def test_stream_v3_round_trip():
    s = Stream(STREAM.entries, STREAM.length, STREAM.last_id, STREAM.first_id, STREAM.max_deleted_entry_id,
               STREAM.entries_added,
               (StreamGroup(b"g", (1, 1), 2, (StreamPendingEntry((1, 0), b"c", 10, 1),),
                            (StreamConsumer(b"c", 100, 50, ((1, 0),)),)),))
    f = write_rdb([(0, {b"s": s}, {})], version=12)
    assert f[:9] == b"REDIS0012" and f[14] == 21  # after SELECTDB 0 and RESIZEDB 1 0, the type byte
    assert read_rdb(f).dbs[0].data[b"s"] == s
    p = dump_payload(s, version=11)
    assert p[0] == 21 and load_dump_payload(p) == s
    # version 10 has no active time: the reader takes the seen time, as Redis does
    old = load_dump_payload(dump_payload(s))
    assert old.groups[0].consumers[0].active_time == 100


# --- files written by Redis itself (its test suite's assets), when the Redis source is at hand -------------

_REDIS_REPO = "/work/.mirror/redis+redis/repo"


def _redis_asset(name: str) -> bytes:
    import subprocess

    if not os.path.isdir(_REDIS_REPO):
        pytest.skip("the Redis source is not available")
    try:
        return subprocess.run(["git", "-C", _REDIS_REPO, "show", "7.4.0:tests/assets/" + name],
                              capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("the Redis source is not available")


def test_redis_encodings_asset():
    """tests/assets/encodings.rdb (version 4: zipmap-era encodings, intsets, ziplists, string scores),
    with the contents Redis's own rdb.tcl expects."""
    r = read_rdb(_redis_asset("encodings.rdb"))
    assert r.version == 4
    d = r.dbs[0].data
    l3 = [b"1", b"2", b"3", b"a", b"b", b"c", b"100000", b"6000000000"]
    assert d[b"compressible"] == b"a" * 137
    assert d[b"hash"] == {b"a": b"1", b"aa": b"10", b"aaa": b"100", b"b": b"2", b"bb": b"20", b"bbb": b"200",
                          b"c": b"3", b"cc": b"30", b"ccc": b"300", b"ddd": b"400", b"eee": b"5000000000"}
    assert d[b"hash_zipped"] == {b"a": b"1", b"b": b"2", b"c": b"3"}
    assert d[b"list"] == l3 * 3
    assert d[b"list_zipped"] == l3
    assert d[b"number"] == b"10" and d[b"string"] == b"Hello World"
    assert d[b"set"] == {b"1", b"100000", b"2", b"3", b"6000000000", b"a", b"b", b"c"}
    assert d[b"set_zipped_1"] == {b"1", b"2", b"3", b"4"}
    assert d[b"set_zipped_2"] == {b"100000", b"200000", b"300000", b"400000"}
    assert d[b"set_zipped_3"] == {b"%d000000000" % i for i in range(1, 7)}
    assert dict(d[b"zset"]) == {b"a": 1, b"b": 2, b"c": 3, b"aa": 10, b"bb": 20, b"cc": 30, b"aaa": 100,
                                b"bbb": 200, b"ccc": 300, b"aaaa": 1000, b"cccc": 123456789, b"bbbb": 5000000000}
    assert dict(d[b"zset_zipped"]) == {b"a": 1, b"b": 2, b"c": 3}


@pytest.mark.parametrize("name,key,expected", [
    ("hash-zipmap.rdb", b"hash", {b"f1": b"v1", b"f2": b"v2"}),
    ("hash-ziplist.rdb", b"hash", {b"f1": b"v1", b"f2": b"v2"}),
    ("zset-ziplist.rdb", b"zset", [(b"one", 1.0), (b"two", 2.0)]),
    ("list-quicklist.rdb", b"list", [b"7"]),
])
def test_redis_small_assets(name, key, expected):
    assert read_rdb(_redis_asset(name)).dbs[0].data[key] == expected


def test_redis_empty_keys_asset_loads_empty():
    # Redis skips empty keys (and empty quicklist nodes) with a log line rather than failing
    r = read_rdb(_redis_asset("corrupt_empty_keys.rdb"))
    assert all(not db.data for db in r.dbs.values())


def test_redis_function_asset():
    r = read_rdb(_redis_asset("scriptbackup.rdb"))
    assert r.version == 10


def test_write_in_pieces():
    from amr_emulator.protocol.rdb import write_rdb_to

    data = {b"key:%d" % i: b"v" * 100 for i in range(30_000)}
    pieces = []
    size = write_rdb_to(pieces.append, [(0, data, {b"key:1": 5}), (1, {b"a": b"b"}, {})], aux=[(b"x", 1)])
    assert len(pieces) > 2 and size == sum(map(len, pieces))
    whole = b"".join(pieces)
    assert whole == write_rdb([(0, data, {b"key:1": 5}), (1, {b"a": b"b"}, {})], aux=[(b"x", 1)])
    r = read_rdb(whole)
    assert r.dbs[0].data == data and r.dbs[1].data == {b"a": b"b"} and r.dbs[0].expires == {b"key:1": 5}


def test_stream_v1():
    """STREAM_LISTPACKS (Redis 5/6): no first ID, deletion record, entries-added or entries-read; the
    reader derives them as Redis does."""
    enc = encode_string
    lp = listpack_encode([2, 1, 1, b"f", 0,  # master: 2 live, 1 deleted, fields [f]
                          2, 0, 0, b"a", 4,  # 5-0 f=a (same fields)
                          3, 0, 1, b"b", 4,  # 5-1 deleted
                          0, 1, 0, 2, b"g", b"x", b"h", b"y", 8])  # 6-0 g=x h=y
    body = (b"\x0f" + enc(b"s") + b"\x01" + enc(struct.pack(">QQ", 5, 0)) + enc(lp)
            + b"\x02" + b"\x06\x00"  # length 2, last id 6-0
            + b"\x02" + enc(b"g1") + b"\x05\x00"  # group g1 at 5-0
            + b"\x01" + struct.pack(">QQ", 5, 0) + struct.pack("<q", 1234) + b"\x03"
            + b"\x01" + enc(b"c") + struct.pack("<q", 99) + b"\x01" + struct.pack(">QQ", 5, 0)
            + enc(b"g2") + b"\x06\x00" + b"\x00" + b"\x00")  # group g2 at the last id
    s = read_rdb(_file(body, 9)).dbs[0].data[b"s"]
    assert s.entries == [(5, 0, [b"f", b"a"]), (6, 0, [b"g", b"x", b"h", b"y"])]
    assert (s.length, s.last_id, s.first_id, s.max_deleted_entry_id, s.entries_added) == (2, (6, 0), (5, 0), (0, 0), 2)
    g1, g2 = s.groups
    assert g1.entries_read == 1 and g2.entries_read == 2  # the first entry's counter; the last's
    assert g1.pending == (StreamPendingEntry((5, 0), b"c", 1234, 3),)
    assert g1.consumers == (StreamConsumer(b"c", 99, 99, ((5, 0),)),)
    # and it is written back as a version-2 stream that reads the same
    assert read_rdb(write_rdb([(0, {b"s": s}, {})])).dbs[0].data[b"s"] == s
