"""FUNCTION DUMP payloads, built and read by the RDB codec."""
import pytest

from amr_emulator.protocol.rdb import (FUNCTION_PAYLOAD_VERSION, FunctionPayloadError, crc64,
                                       function_dump_payload, read_function_payload, verify_dump_payload)
from amr_emulator.protocol.rdb.reader import OP_FUNCTION2


def _sealed(body: bytes) -> bytes:
    body += FUNCTION_PAYLOAD_VERSION.to_bytes(2, "little")
    return body + crc64(0, body).to_bytes(8, "little")


def test_round_trip():
    codes = [b"#!lua name=a\nredis.register_function('f', function() end)", b"123", b"x" * 20000]
    payload = function_dump_payload(codes)
    assert payload[0] == OP_FUNCTION2
    assert payload[-10:-8] == b"\x0c\x00"  # RDB 12, as Redis 7.4
    assert verify_dump_payload(payload)
    assert read_function_payload(payload) == codes
    assert b"\xf5\xc0\x7b" in payload  # b"123" as an 8-bit integer encoding (0xc0, then 123)
    assert read_function_payload(function_dump_payload([])) == []


def test_bad_payloads():
    payload = function_dump_payload([b"#!lua name=a\n"])
    assert not verify_dump_payload(payload[:-1] + b"\x00")
    assert not verify_dump_payload(b"short")
    bad = _sealed(b"\x00abc")
    assert verify_dump_payload(bad)
    with pytest.raises(FunctionPayloadError) as e:
        read_function_payload(bad)
    assert e.value.kind == "type"
    with pytest.raises(FunctionPayloadError) as e:
        read_function_payload(_sealed(b"\xf6\x01a"))
    assert e.value.kind == "pre-ga"
    with pytest.raises(FunctionPayloadError) as e:
        read_function_payload(_sealed(b"\xf5\x05ab"))  # a string running into the footer
    assert e.value.kind == "load"


def test_lzf_string():
    # an LZF-compressed RDB string as Redis writes a long library (0xc3, clen, ulen, data)
    raw = b"abcabcabcabcabcabcabcabc"
    compressed = bytes([2]) + b"abc" + bytes([(7 << 5) | 0, 12, 2])  # literal "abc", then a back reference
    body = b"\xf5\xc3" + bytes([len(compressed), len(raw)]) + compressed
    assert read_function_payload(_sealed(body)) == [raw]
