"""FUNCTION DUMP / RESTORE payloads as Redis writes them: an RDB_OPCODE_FUNCTION2 entry per library (its
code as an RDB string), the RDB version (2 bytes, little endian) and Redis's CRC64 (Jones polynomial,
8 bytes little endian) of everything before it. Written uncompressed; read with integer and LZF
string encodings. (A minimal piece of the RDB format, until the RDB codec lands.)
"""
from __future__ import annotations

import struct as _struct

from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import string2ll

RDB_OPCODE_FUNCTION2 = 245
RDB_OPCODE_FUNCTION_PRE_GA = 246
RDB_VERSION = 12


def _crc64_table():
    # Redis's crc64 (Jones polynomial, reflected): poly 0xad93d23594c935a9
    poly = 0x95AC9329AC4BC9B5  # the reflected form of 0xad93d23594c935a9
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC64 = _crc64_table()


def crc64(data: bytes, crc: int = 0) -> int:
    t = _CRC64
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def _rdb_len(n: int) -> bytes:
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n <= 0xFFFFFFFF:
        return b"\x80" + _struct.pack(">I", n)
    return b"\x81" + _struct.pack(">Q", n)


def _rdb_string(s: bytes) -> bytes:
    # rdbSaveRawString: an integer-looking short string is stored as an int encoding
    if len(s) <= 11:
        v = string2ll(s)
        if v is not None and b"%d" % v == s:
            if -128 <= v <= 127:
                return b"\xc0" + _struct.pack("<b", v)
            if -32768 <= v <= 32767:
                return b"\xc1" + _struct.pack("<h", v)
            if -(2 ** 31) <= v <= 2 ** 31 - 1:
                return b"\xc2" + _struct.pack("<i", v)
    return _rdb_len(len(s)) + s


def dump_functions(libraries) -> bytes:
    out = bytearray()
    for lib in libraries:
        out.append(RDB_OPCODE_FUNCTION2)
        out += _rdb_string(lib.code)
    out += _struct.pack("<H", RDB_VERSION)
    out += _struct.pack("<Q", crc64(bytes(out)))
    return bytes(out)


class PayloadError(Exception):
    pass


def _read_len(data: bytes, pos: int):
    if pos >= len(data):
        raise PayloadError("short")
    b = data[pos]
    kind = b >> 6
    if kind == 0:
        return b & 0x3F, pos + 1, False
    if kind == 1:
        if pos + 1 >= len(data):
            raise PayloadError("short")
        return ((b & 0x3F) << 8) | data[pos + 1], pos + 2, False
    if b == 0x80:
        return _struct.unpack(">I", data[pos + 1:pos + 5])[0], pos + 5, False
    if b == 0x81:
        return _struct.unpack(">Q", data[pos + 1:pos + 9])[0], pos + 9, False
    if kind == 3:
        return b & 0x3F, pos + 1, True
    raise PayloadError("bad length")


def _read_string(data: bytes, pos: int):
    n, pos, enc = _read_len(data, pos)
    if enc:
        if n == 0:
            return b"%d" % _struct.unpack("<b", data[pos:pos + 1])[0], pos + 1
        if n == 1:
            return b"%d" % _struct.unpack("<h", data[pos:pos + 2])[0], pos + 2
        if n == 2:
            return b"%d" % _struct.unpack("<i", data[pos:pos + 4])[0], pos + 4
        if n == 3:  # LZF
            clen, pos, _ = _read_len(data, pos)
            ulen, pos, _ = _read_len(data, pos)
            out = _lzf_decompress(data[pos:pos + clen], ulen)
            return out, pos + clen
        raise PayloadError("unknown encoding")
    if pos + n > len(data):
        raise PayloadError("short")
    return data[pos:pos + n], pos + n


def _lzf_decompress(src: bytes, ulen: int) -> bytes:
    out = bytearray()
    i = 0
    while i < len(src):
        ctrl = src[i]
        i += 1
        if ctrl < 32:
            out += src[i:i + ctrl + 1]
            i += ctrl + 1
        else:
            length = ctrl >> 5
            if length == 7:
                length += src[i]
                i += 1
            ref = len(out) - ((ctrl & 0x1F) << 8) - src[i] - 1
            i += 1
            for _ in range(length + 2):
                out.append(out[ref])
                ref += 1
    if len(out) != ulen:
        raise PayloadError("lzf")
    return bytes(out)


def verify_payload(data: bytes) -> bool:
    """verifyDumpPayload: RDB version no newer than ours, CRC64 right."""
    if len(data) < 10:
        return False
    ver = _struct.unpack("<H", data[-10:-8])[0]
    if ver > RDB_VERSION:
        return False
    crc = _struct.unpack("<Q", data[-8:])[0]
    return crc64(data[:-8]) == crc


def parse_function_payload(data: bytes) -> list:
    """The library codes in a FUNCTION DUMP payload; raises RespError as FUNCTION RESTORE."""
    codes = []
    pos = 0
    end = len(data) - 10
    while pos < end:
        t = data[pos]
        pos += 1
        if t == RDB_OPCODE_FUNCTION_PRE_GA:
            raise RespError("ERR Pre-GA function format not supported")
        if t != RDB_OPCODE_FUNCTION2:
            raise RespError("ERR given type is not a function")
        try:
            code, pos = _read_string(data, pos)
        except (PayloadError, _struct.error, IndexError):
            raise RespError("ERR failed loading the given functions payload") from None
        codes.append(code)
    return codes
