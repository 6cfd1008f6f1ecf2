"""FUNCTION DUMP payloads: Redis's CRC64 and the RDB string encodings."""
import pytest

from amr_emulator.protocol.errors import RespError
from shard import function_payload as fp


class _Lib:
    def __init__(self, code):
        self.code = code


def test_crc64_check_value():
    # the check value of Redis's crc64 (crc64.c's self test)
    assert fp.crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def test_round_trip():
    codes = [b"#!lua name=a\nredis.register_function('f', function() end)", b"123", b"x" * 20000]
    payload = fp.dump_functions([_Lib(c) for c in codes])
    assert payload[0] == fp.RDB_OPCODE_FUNCTION2
    assert fp.verify_payload(payload)
    assert fp.parse_function_payload(payload) == codes


def test_bad_payloads():
    payload = fp.dump_functions([_Lib(b"#!lua name=a\n")])
    assert not fp.verify_payload(payload[:-1] + b"\x00")
    assert not fp.verify_payload(b"short")
    body = b"\x00abc" + payload[-10:-8]
    bad = body + fp.crc64(body).to_bytes(8, "little")
    assert fp.verify_payload(bad)
    with pytest.raises(RespError, match="^ERR given type is not a function$"):
        fp.parse_function_payload(bad)


def test_lzf_string():
    # an LZF-compressed RDB string as Redis writes a long library (0xc3, clen, ulen, data)
    raw = b"abcabcabcabcabcabcabcabc"
    compressed = bytes([2]) + b"abc" + bytes([(7 << 5) | 0, 12, 2])  # literal "abc", then a back reference
    data, end = fp._read_string(b"\xc3" + bytes([len(compressed), len(raw)]) + compressed, 0)
    assert data == raw
