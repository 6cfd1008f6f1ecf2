"""Redis's RDB format, sans-IO: files (read: versions 1-12, every encoding Redis 7.x writes; write:
version 10) and DUMP payloads. See model.py for the values it reads and writes.

    read_rdb(data) -> RdbFile          write_rdb(dbs, aux, functions) -> bytes   (write_rdb_to: in pieces)
    dump_payload(value) -> bytes       verify_dump_payload(p) -> bool     load_dump_payload(p) -> value
"""
from __future__ import annotations

from struct import unpack_from

from .crc64 import crc64
from .lzf import LzfError, lzf_compress, lzf_decompress
from .model import (RdbDatabase, RdbError, RdbFile, Stream, StreamConsumer, StreamGroup, StreamPendingEntry,
                    ZSetPairs)
from .reader import MAX_VERSION, read_rdb, read_value
from .writer import RDB_VERSION, dump_payload, encode_length, encode_string, encode_value, write_rdb, write_rdb_to

__all__ = ["crc64", "LzfError", "lzf_compress", "lzf_decompress", "RdbDatabase", "RdbError", "RdbFile", "Stream",
           "StreamConsumer", "StreamGroup", "StreamPendingEntry", "ZSetPairs", "MAX_VERSION", "read_rdb",
           "read_value", "RDB_VERSION", "dump_payload", "encode_length", "encode_string", "encode_value",
           "write_rdb", "write_rdb_to", "verify_dump_payload", "load_dump_payload"]


def verify_dump_payload(payload: bytes, max_version: int = MAX_VERSION, check_crc: bool = True) -> bool:
    """verifyDumpPayload: at least the 10-byte footer, a version this reader handles, the right CRC64."""
    if len(payload) < 10:
        return False
    version = unpack_from("<H", payload, len(payload) - 10)[0]
    if version > max_version:
        return False
    if not check_crc:
        return True
    return crc64(0, memoryview(payload)[:-8]) == int.from_bytes(payload[-8:], "little")


def load_dump_payload(payload: bytes):
    """The value of a DUMP payload (footer not checked here: see verify_dump_payload). RdbError when
    the body is malformed or the value empty. As in Redis, the value is read from the whole payload,
    footer included (a value may run into it), and bytes after the value are ignored."""
    payload = bytes(payload)
    if len(payload) < 11:
        raise RdbError("empty DUMP payload")
    value, _ = read_value(payload[0], payload, 1)
    if value is None:
        raise RdbError("empty value")
    return value
