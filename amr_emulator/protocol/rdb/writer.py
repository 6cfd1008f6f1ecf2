"""Writing RDB files (version 10: what Redis 7.0 and later load) and DUMP values.

Values are written in the plain encodings (string, list, set, hash, sorted set with binary
doubles) that every Redis since 4.0 loads, converting them to its compact encodings itself when
they are small; streams as STREAM_LISTPACKS_2 (one listpack per 100 entries, as
stream-node-max-entries). Strings that are canonical 32-bit integers are int-encoded, as Redis does;
LZF compression of strings longer than 20 bytes is optional (`compress=True`): pure-Python LZF is
slow, and Redis loads uncompressed strings alike.
"""
from __future__ import annotations

from collections import deque
from struct import pack

from .crc64 import crc64
from .encodings import canonical_int, listpack_encode
from .lzf import lzf_compress
from .model import RdbError, Stream, ZSetPairs
from .reader import (OP_EOF, OP_FUNCTION2, OP_RESIZEDB, OP_SELECTDB, T_HASH, T_LIST, T_SET, T_STREAM_LISTPACKS_2,
                     T_STREAM_LISTPACKS_3, T_STRING, T_ZSET_2)

RDB_VERSION = 10
STREAM_NODE_MAX_ENTRIES = 100

_U64 = (1 << 64) - 1


def encode_length(n: int) -> bytes:
    if n < 0x40:
        return bytes((n,))
    if n < 0x4000:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + (n & _U64).to_bytes(8, "big")


_SMALL_LEN = [bytes((n,)) for n in range(64)]


def encode_string(s: bytes, compress: bool = False) -> bytes:
    n = len(s)
    if n <= 11 and n:
        v = canonical_int(s)
        if v is not None:
            if -128 <= v <= 127:
                return b"\xc0" + pack("<b", v)
            if -32768 <= v <= 32767:
                return b"\xc1" + pack("<h", v)
            if -(1 << 31) <= v < (1 << 31):
                return b"\xc2" + pack("<i", v)
    if n < 64:
        return _SMALL_LEN[n] + s
    if compress and n > 20:
        c = lzf_compress(s)
        if c is not None:
            return b"\xc3" + encode_length(len(c)) + encode_length(n) + c
    return encode_length(n) + s


def _stream_id(eid) -> bytes:
    return pack(">QQ", eid[0], eid[1])


def _ms(t: int) -> bytes:
    return pack("<q", t)


def _encode_stream(s: Stream, out: list, es, v3: bool) -> int:
    entries = s.entries
    nodes = [entries[i:i + STREAM_NODE_MAX_ENTRIES] for i in range(0, len(entries), STREAM_NODE_MAX_ENTRIES)]
    out.append(encode_length(len(nodes)))
    for node in nodes:
        base_ms, base_seq = node[0][0], node[0][1]
        master_fields = node[0][2][0::2]
        nf = len(master_fields)
        lp = [len(node), 0, nf, *master_fields, 0]
        for ms, seq, fv in node:
            fields = fv[0::2]
            if fields == master_fields:
                values = fv[1::2]
                lp += [2, ms - base_ms, seq - base_seq, *values, nf + 3]
            else:
                lp += [0, ms - base_ms, seq - base_seq, len(fields), *fv, 2 * len(fields) + 4]
        out.append(encode_string(_stream_id((base_ms, base_seq))))
        out.append(encode_string(listpack_encode(lp)))
    out.append(encode_length(s.length))
    for eid in (s.last_id, s.first_id, s.max_deleted_entry_id):
        out.append(encode_length(eid[0]))
        out.append(encode_length(eid[1]))
    out.append(encode_length(s.entries_added))
    out.append(encode_length(len(s.groups)))
    for g in s.groups:
        out.append(es(g.name))
        out.append(encode_length(g.last_id[0]))
        out.append(encode_length(g.last_id[1]))
        out.append(encode_length(g.entries_read & _U64))
        out.append(encode_length(len(g.pending)))
        for p in g.pending:
            out.append(_stream_id(p.id))
            out.append(_ms(p.delivery_time))
            out.append(encode_length(p.delivery_count))
        out.append(encode_length(len(g.consumers)))
        for c in g.consumers:
            out.append(es(c.name))
            out.append(_ms(c.seen_time))
            if v3:
                out.append(_ms(c.active_time))
            out.append(encode_length(len(c.pending)))
            for eid in c.pending:
                out.append(_stream_id(eid))
    return T_STREAM_LISTPACKS_3 if v3 else T_STREAM_LISTPACKS_2


def encode_value(value, out: list, compress: bool = False, version: int = RDB_VERSION) -> int:
    """Append the serialization of `value` to `out` (a list of bytes); its RDB object type. Streams
    are written as STREAM_LISTPACKS_3 (with consumers' active times) when `version` >= 11."""
    es = encode_string
    t = type(value)
    if t is bytes:
        out.append(es(value, compress))
        return T_STRING
    if t is deque or t is list:
        out.append(encode_length(len(value)))
        out.extend([es(e, compress) for e in value])
        return T_LIST
    if t is set or t is frozenset:
        out.append(encode_length(len(value)))
        out.extend([es(e, compress) for e in value])
        return T_SET
    if t is dict:
        out.append(encode_length(len(value)))
        for f, v in value.items():
            out.append(es(f, compress))
            out.append(es(v, compress))
        return T_HASH
    if t is Stream:
        return _encode_stream(value, out, es, version >= 11)
    if t is ZSetPairs or getattr(value, "TYPE_NAME", None) == b"zset":
        pairs = value if t is ZSetPairs else list(value.items())
        out.append(encode_length(len(pairs)))
        # Redis writes a skiplist from the tail (highest) so that loading appends at the head
        for m, s in reversed(pairs):
            out.append(es(m, compress))
            out.append(pack("<d", s))
        return T_ZSET_2
    to_stream = getattr(value, "to_rdb_stream", None)
    if to_stream is not None:
        return _encode_stream(to_stream(), out, es, version >= 11)
    raise RdbError("cannot serialize a value of type %s" % t.__name__)


def _aux(out: list, name: bytes, value) -> None:
    out.append(b"\xfa")
    out.append(encode_string(name))
    out.append(encode_string(value if isinstance(value, bytes) else str(value).encode()))


def write_rdb(dbs, aux=(), functions=(), compress: bool = False, version: int = RDB_VERSION) -> bytes:
    """A whole RDB file (version 10 unless told: 11 and 12 differ only in how streams are written).

    dbs: iterable of (dbid, data, expires): `data` a mapping key -> value (or an iterable of
    (key, value) pairs with len()), `expires` a mapping key -> ms since the epoch.
    aux: (name, value) pairs, written in order (values: bytes, int or str).
    functions: the source code of each function library.
    """
    chunks: list = []
    write_rdb_to(chunks.append, dbs, aux, functions, compress, version)
    return b"".join(chunks)


_FLUSH_BYTES = 1 << 20  # write_rdb_to hands out pieces of about this size (the CRC is fast on such)


def write_rdb_to(write, dbs, aux=(), functions=(), compress: bool = False, version: int = RDB_VERSION) -> int:
    """write_rdb, handing the file to `write(bytes)` in pieces of about 1 MiB instead of building it
    whole (a snapshot of a large keyspace need not fit in memory twice). Returns the file's size."""
    crc = 0
    size = 0

    def flush(out: list) -> None:
        nonlocal crc, size
        piece = b"".join(out)
        out.clear()
        crc = crc64(crc, piece)
        size += len(piece)
        write(piece)

    out: list = [b"REDIS%04d" % version]
    for name, value in aux:
        _aux(out, name if isinstance(name, bytes) else name.encode(), value)
    for code in functions:
        out.append(bytes((OP_FUNCTION2,)))
        out.append(encode_string(code))
    for dbid, data, expires in dbs:
        if not data:
            continue
        out += [bytes((OP_SELECTDB,)), encode_length(dbid), bytes((OP_RESIZEDB,)), encode_length(len(data)),
                encode_length(len(expires))]
        append = out.append
        items = data.items() if hasattr(data, "items") else data
        for key, value in items:
            if expires:
                when = expires.get(key)
                if when is not None:
                    append(b"\xfc")
                    append(pack("<q", when))
            before = len(out)
            append(b"")  # the type byte, filled in below
            append(encode_string(key, compress))
            t = encode_value(value, out, compress, version)
            out[before] = _TYPE_BYTES[t]
            if len(out) > 8192:  # join what is pending; hand it out once it reaches _FLUSH_BYTES
                joined = b"".join(out)
                out.clear()
                append(joined)
                if len(joined) >= _FLUSH_BYTES:
                    flush(out)
    out.append(bytes((OP_EOF,)))
    flush(out)
    trailer = crc.to_bytes(8, "little")
    write(trailer)
    return size + 8


_TYPE_BYTES = [bytes((i,)) for i in range(256)]


def dump_payload(value, compress: bool = False, version: int = RDB_VERSION) -> bytes:
    """DUMP's serialization: type byte, value, 2-byte RDB version and CRC64 (both little endian)."""
    out: list = [b""]
    out[0] = _TYPE_BYTES[encode_value(value, out, compress, version)]
    body = b"".join(out) + pack("<H", version)
    return body + crc64(0, body).to_bytes(8, "little")
