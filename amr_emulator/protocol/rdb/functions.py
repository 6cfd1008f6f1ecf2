"""FUNCTION DUMP / RESTORE payloads: an RDB_OPCODE_FUNCTION2 entry per library (its code as an RDB
string), then DUMP's footer (the RDB version, 2 bytes little endian, and the CRC64 of everything
before it). Check the footer with verify_dump_payload first, as functionRestoreCommand does.
"""
from __future__ import annotations

from struct import pack

from .crc64 import crc64
from .model import RdbError
from .reader import OP_FUNCTION2, OP_FUNCTION_PRE_GA, _Reader
from .writer import encode_string

FUNCTION_PAYLOAD_VERSION = 12  # what Redis 7.4 writes in FUNCTION DUMP (7.0 writes 10)


class FunctionPayloadError(RdbError):
    """A payload FUNCTION RESTORE refuses. `kind`: "pre-ga" (a 7.0 release candidate's entry),
    "type" (an entry that is not a function library), "load" (a malformed entry)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def function_dump_payload(codes, version: int = FUNCTION_PAYLOAD_VERSION) -> bytes:
    """The FUNCTION DUMP payload of these library sources (written uncompressed)."""
    out = []
    for code in codes:
        out.append(bytes((OP_FUNCTION2,)))
        out.append(encode_string(code))
    body = b"".join(out) + pack("<H", version)
    return body + crc64(0, body).to_bytes(8, "little")


def read_function_payload(payload) -> list:
    """The library sources of a FUNCTION DUMP payload, in order (strings in any RDB string
    encoding: raw, integer, LZF). Raises FunctionPayloadError."""
    payload = bytes(payload)
    end = len(payload) - 10
    r = _Reader(payload, 0, end)
    codes = []
    while r.pos < end:
        op = r.byte()
        if op == OP_FUNCTION_PRE_GA:
            raise FunctionPayloadError("pre-ga", "pre-release function format not supported")
        if op != OP_FUNCTION2:
            raise FunctionPayloadError("type", "entry of type %d is not a function library" % op)
        try:
            codes.append(r.string())
        except RdbError as e:
            raise FunctionPayloadError("load", str(e)) from None
    return codes
