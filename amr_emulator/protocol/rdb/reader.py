"""Reading RDB files (versions 1 to 12) and DUMP payload values.

`read_rdb(data) -> RdbFile` parses a whole file and checks its CRC64 trailer (unless the trailer is
zero: a file written with rdbchecksum no). `read_value(type, data)` decodes one value (DUMP).
Every malformed or truncated input raises RdbError; nothing is returned half-loaded.
"""
from __future__ import annotations

from struct import unpack_from

from .crc64 import crc64
from .encodings import intset_decode, listpack_decode, ziplist_decode, zipmap_decode
from .lzf import LzfError, lzf_decompress
from .model import (RdbDatabase, RdbError, RdbFile, Stream, StreamConsumer, StreamGroup,
                    StreamPendingEntry, ZSetPairs)

MAX_VERSION = 12

# object types
T_STRING, T_LIST, T_SET, T_ZSET, T_HASH, T_ZSET_2 = 0, 1, 2, 3, 4, 5
T_MODULE_PRE_GA, T_MODULE_2 = 6, 7
T_HASH_ZIPMAP, T_LIST_ZIPLIST, T_SET_INTSET, T_ZSET_ZIPLIST, T_HASH_ZIPLIST = 9, 10, 11, 12, 13
T_LIST_QUICKLIST, T_STREAM_LISTPACKS, T_HASH_LISTPACK, T_ZSET_LISTPACK = 14, 15, 16, 17
T_LIST_QUICKLIST_2, T_STREAM_LISTPACKS_2, T_SET_LISTPACK, T_STREAM_LISTPACKS_3 = 18, 19, 20, 21
T_HASH_METADATA_PRE_GA, T_HASH_LISTPACK_EX_PRE_GA, T_HASH_METADATA, T_HASH_LISTPACK_EX = 22, 23, 24, 25

# opcodes
OP_SLOT_INFO, OP_FUNCTION2, OP_FUNCTION_PRE_GA, OP_MODULE_AUX = 244, 245, 246, 247
OP_IDLE, OP_FREQ, OP_AUX, OP_RESIZEDB = 248, 249, 250, 251
OP_EXPIRETIME_MS, OP_EXPIRETIME, OP_SELECTDB, OP_EOF = 252, 253, 254, 255

_MODULE_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def module_name(module_id: int) -> str:
    """The 9-character name of a module type from its 64-bit id (moduleTypeNameByID)."""
    module_id >>= 10
    chars = []
    for _ in range(9):
        chars.append(_MODULE_CHARSET[module_id & 63])
        module_id >>= 6
    return "".join(reversed(chars))


def _num(e) -> bytes:
    return b"%d" % e if type(e) is int else e


class _Reader:
    __slots__ = ("buf", "pos", "end")

    def __init__(self, buf: bytes, pos: int = 0, end: int | None = None):
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else end

    def fail(self, what: str):
        raise RdbError("%s (at byte %d)" % (what, self.pos))

    def byte(self) -> int:
        p = self.pos
        if p >= self.end:
            self.fail("unexpected end of data")
        self.pos = p + 1
        return self.buf[p]

    def take(self, n: int) -> bytes:
        p = self.pos
        if p + n > self.end:
            self.fail("unexpected end of data: %d bytes wanted" % n)
        self.pos = p + n
        return self.buf[p:p + n]

    def length_enc(self):
        """(value, is_encoded): rdbLoadLenByRef."""
        b = self.byte()
        t = b >> 6
        if t == 0:
            return b & 0x3F, False
        if t == 1:
            return ((b & 0x3F) << 8) | self.byte(), False
        if t == 3:
            return b & 0x3F, True
        if b == 0x80:
            return int.from_bytes(self.take(4), "big"), False
        if b == 0x81:
            return int.from_bytes(self.take(8), "big"), False
        self.fail("unknown length encoding 0x%02x" % b)

    def length(self) -> int:
        n, enc = self.length_enc()
        if enc:
            self.fail("encoded value where a length was expected")
        return n

    def string(self) -> bytes:
        buf = self.buf
        p = self.pos
        if p < self.end:
            b = buf[p]
            if b < 0x40 and p + 1 + b <= self.end:  # fast path: 6-bit length
                self.pos = p + 1 + b
                return buf[p + 1:p + 1 + b]
        n, enc = self.length_enc()
        if not enc:
            return self.take(n)
        if n == 0:
            return b"%d" % unpack_from("<b", self.take(1))[0]
        if n == 1:
            return b"%d" % unpack_from("<h", self.take(2))[0]
        if n == 2:
            return b"%d" % unpack_from("<i", self.take(4))[0]
        if n == 3:
            clen = self.length()
            ulen = self.length()
            data = self.take(clen)
            try:
                return lzf_decompress(data, ulen)
            except LzfError as e:
                self.fail("invalid LZF data: %s" % e)
        self.fail("unknown string encoding %d" % n)

    def ms_time(self) -> int:
        return int.from_bytes(self.take(8), "little", signed=True)

    def bin_double(self) -> float:
        return unpack_from("<d", self.take(8))[0]

    def str_double(self) -> float:
        n = self.byte()
        if n == 253:
            return float("nan")
        if n == 254:
            return float("inf")
        if n == 255:
            return float("-inf")
        s = self.take(n)
        try:
            return float(s)
        except ValueError:
            self.fail("invalid double %r" % s)

    def stream_id_raw(self) -> tuple:
        ms, seq = unpack_from(">QQ", self.take(16))
        return (ms, seq)

    # --- values ---------------------------------------------------------------------------------
    def value(self, t: int):
        """One value of object type t; None for an empty collection (Redis skips those)."""
        if t == T_STRING:
            return self.string()
        if t == T_LIST:
            return [self.string() for _ in range(self.length())] or None
        if t == T_SET:
            n = self.length()
            s = {self.string() for _ in range(n)}
            if len(s) != n:
                self.fail("duplicate set member")
            return s or None
        if t == T_ZSET or t == T_ZSET_2:
            n = self.length()
            dbl = self.bin_double if t == T_ZSET_2 else self.str_double
            pairs = ZSetPairs()
            for _ in range(n):
                m = self.string()
                s = dbl()
                if s != s:
                    self.fail("sorted set score is NaN")
                pairs.append((m, s))
            if len({m for m, _ in pairs}) != n:
                self.fail("duplicate sorted set member")
            return pairs or None
        if t == T_HASH:
            n = self.length()
            h = {}
            for _ in range(n):
                f = self.string()
                h[f] = self.string()
            if len(h) != n:
                self.fail("duplicate hash field")
            return h or None
        if t == T_LIST_QUICKLIST or t == T_LIST_QUICKLIST_2:
            out = []
            for _ in range(self.length()):
                container = 2
                if t == T_LIST_QUICKLIST_2:
                    container = self.length()
                    if container not in (1, 2):
                        self.fail("quicklist: unknown container %d" % container)
                data = self.string()
                if container == 1:
                    out.append(data)
                elif t == T_LIST_QUICKLIST:
                    out.extend(map(_num, ziplist_decode(data)))  # an empty node is skipped, as Redis does
                else:
                    out.extend(map(_num, listpack_decode(data)))
            return out or None
        if t in (T_STREAM_LISTPACKS, T_STREAM_LISTPACKS_2, T_STREAM_LISTPACKS_3):
            return self.stream(t)
        if t == T_MODULE_2 or t == T_MODULE_PRE_GA:
            module_id = self.length() if t == T_MODULE_2 else 0
            self.fail("module value (module type %s) cannot be loaded: modules are not supported"
                      % module_name(module_id) if t == T_MODULE_2 else "pre-release module value")
        if t in (T_HASH_METADATA, T_HASH_METADATA_PRE_GA):
            if t == T_HASH_METADATA:
                self.ms_time()  # the minimum field expiry; TTLs below are relative to it
            n = self.length()
            h = {}
            for _ in range(n):
                self.length()  # field TTL: dropped (the emulator has no field expiry)
                f = self.string()
                h[f] = self.string()
            if len(h) != n:
                self.fail("duplicate hash field")
            return h or None
        if t == T_HASH_LISTPACK_EX or t == T_HASH_LISTPACK_EX_PRE_GA:
            if t == T_HASH_LISTPACK_EX:
                self.ms_time()
            items = listpack_decode(self.string())
            if len(items) % 3:
                self.fail("hash listpack with TTLs: element count not a multiple of 3")
            h = {_num(items[i]): _num(items[i + 1]) for i in range(0, len(items), 3)}
            if len(h) * 3 != len(items):
                self.fail("duplicate hash field")
            return h or None
        if t in (T_HASH_ZIPMAP, T_LIST_ZIPLIST, T_SET_INTSET, T_ZSET_ZIPLIST, T_HASH_ZIPLIST,
                 T_HASH_LISTPACK, T_ZSET_LISTPACK, T_SET_LISTPACK):
            return self.compact(t, self.string())
        self.fail("unknown object type %d" % t)

    def compact(self, t: int, data: bytes):
        if t == T_SET_INTSET:
            items = intset_decode(data)
            s = {b"%d" % v for v in items}
            if len(s) != len(items):
                self.fail("duplicate intset member")
            return s or None
        if t == T_HASH_ZIPMAP:
            items = zipmap_decode(data)
        elif t in (T_LIST_ZIPLIST, T_ZSET_ZIPLIST, T_HASH_ZIPLIST):
            items = ziplist_decode(data)
        else:
            items = listpack_decode(data)
        items = list(map(_num, items))
        if t == T_LIST_ZIPLIST:
            return items or None
        if t == T_SET_LISTPACK:
            s = set(items)
            if len(s) != len(items):
                self.fail("duplicate set member")
            return s or None
        if len(items) % 2:
            self.fail("odd number of elements in a %s" % ("sorted set" if t in (T_ZSET_ZIPLIST, T_ZSET_LISTPACK) else "hash"))
        if t in (T_ZSET_ZIPLIST, T_ZSET_LISTPACK):
            pairs = ZSetPairs()
            for i in range(0, len(items), 2):
                try:
                    score = float(items[i + 1])
                except ValueError:
                    self.fail("invalid sorted set score")
                if score != score:
                    self.fail("sorted set score is NaN")
                pairs.append((items[i], score))
            if len({m for m, _ in pairs}) != len(pairs):
                self.fail("duplicate sorted set member")
            return pairs or None
        h = dict(zip(items[0::2], items[1::2]))
        if len(h) * 2 != len(items):
            self.fail("duplicate hash field")
        return h or None

    def stream(self, t: int) -> Stream:
        entries = []
        prev_key = None
        for _ in range(self.length()):
            key = self.string()
            if len(key) != 16:
                self.fail("stream node key is not a stream ID")
            if prev_key is not None and key <= prev_key:
                self.fail("stream node keys out of order")
            prev_key = key
            base_ms, base_seq = unpack_from(">QQ", key)
            lp = listpack_decode(self.string())
            if not lp:
                self.fail("empty listpack inside a stream")
            try:
                self._stream_node(lp, base_ms, base_seq, entries)
            except (IndexError, TypeError, ValueError) as e:
                if isinstance(e, RdbError):
                    raise
                self.fail("malformed stream listpack")
        length = self.length()
        last_id = (self.length(), self.length())
        if t >= T_STREAM_LISTPACKS_2:
            first_id = (self.length(), self.length())
            max_deleted = (self.length(), self.length())
            entries_added = self.length()
        else:
            first_id = entries[0][:2] if entries else (0, 0)
            max_deleted = (0, 0)
            entries_added = length
        if length != len(entries):
            self.fail("stream length %d, %d entries found" % (length, len(entries)))
        groups = []
        for _ in range(self.length()):
            name = self.string()
            g_last = (self.length(), self.length())
            if t >= T_STREAM_LISTPACKS_2:
                entries_read = self.length()
                if entries_read >= 1 << 63:
                    entries_read -= 1 << 64
            else:
                entries_read = _estimate_entries_read(g_last, length, last_id, first_id, entries_added)
            pel = {}
            for _ in range(self.length()):
                eid = self.stream_id_raw()
                if eid in pel:
                    self.fail("duplicated global PEL entry")
                pel[eid] = [self.ms_time(), self.length(), None]
            consumers = []
            for _ in range(self.length()):
                cname = self.string()
                seen = self.ms_time()
                active = self.ms_time() if t >= T_STREAM_LISTPACKS_3 else seen
                ids = []
                for _ in range(self.length()):
                    eid = self.stream_id_raw()
                    nack = pel.get(eid)
                    if nack is None:
                        self.fail("consumer PEL entry not found in the group PEL")
                    if nack[2] is not None:
                        self.fail("duplicated consumer PEL entry")
                    nack[2] = cname
                    ids.append(eid)
                consumers.append(StreamConsumer(cname, seen, active, tuple(ids)))
            if len({c.name for c in consumers}) != len(consumers):
                self.fail("duplicate stream consumer")
            pending = []
            for eid, (dtime, dcount, owner) in pel.items():
                if owner is None:
                    self.fail("stream group PEL entry without a consumer")
                pending.append(StreamPendingEntry(eid, owner, dtime, dcount))
            groups.append(StreamGroup(name, g_last, entries_read, tuple(pending), tuple(consumers)))
        if len({g.name for g in groups}) != len(groups):
            self.fail("duplicated consumer group name")
        return Stream(entries, length, last_id, first_id, max_deleted, entries_added, tuple(groups))

    def _stream_node(self, lp: list, base_ms: int, base_seq: int, out: list) -> None:
        nfields = lp[2]
        master_fields = [_num(f) for f in lp[3:3 + nfields]]
        i = 3 + nfields
        if lp[i] != 0:
            self.fail("stream master entry not terminated")
        i += 1
        n = len(lp)
        while i < n:
            flags = lp[i]
            eid = (base_ms + lp[i + 1], base_seq + lp[i + 2])
            i += 3
            if flags & 2:  # SAMEFIELDS
                values = lp[i:i + nfields]
                i += nfields
                fv = []
                for f, v in zip(master_fields, values):
                    fv.append(f)
                    fv.append(_num(v))
            else:
                nf = lp[i]
                i += 1
                fv = [_num(x) for x in lp[i:i + 2 * nf]]
                i += 2 * nf
            i += 1  # lp-count
            if i > n:
                self.fail("stream entry past the end of its listpack")
            if not flags & 1:  # not DELETED
                if out and (out[-1][0], out[-1][1]) >= eid:
                    self.fail("stream entries out of order")
                out.append((eid[0], eid[1], fv))


def _estimate_entries_read(gid, length, last_id, first_id, entries_added) -> int:
    """streamEstimateDistanceFromFirstEverEntry, for a v1 stream (no record of deletions)."""
    if not entries_added:
        return 0
    if not length and gid <= last_id:
        return entries_added
    if gid == last_id:
        return entries_added
    if gid > last_id:
        return -1
    # a v1 file records no deletion (max_deleted_entry_id is 0-0): no fragmentation ahead
    if gid < first_id:
        return entries_added - length
    if gid == first_id:
        return entries_added - length + 1
    return -1


def read_rdb(data) -> RdbFile:
    """Parse a whole RDB file."""
    buf = bytes(data)
    if len(buf) < 9 or buf[:5] != b"REDIS":
        raise RdbError("not an RDB file (wrong signature)")
    try:
        version = int(buf[5:9])
    except ValueError:
        raise RdbError("not an RDB file (bad version field)") from None
    if version < 1 or version > MAX_VERSION:
        raise RdbError("can't handle RDB format version %d" % version)
    r = _Reader(buf, 9)
    aux: dict = {}
    dbs: dict = {}
    functions: list = []
    db = dbs.setdefault(0, RdbDatabase({}, {}))
    selected = False
    expire = -1
    idle = freq = None
    end = len(buf)
    while True:
        p = r.pos
        if p >= end:
            r.fail("unexpected end of data")
        op = buf[p]
        r.pos = p + 1
        if op == T_STRING and expire == -1 and idle is None and freq is None:  # the common case, inlined
            data = db.data
            if p + 2 < end:
                kl = buf[p + 1]
                ke = p + 2 + kl
                if kl < 64 and ke < end:
                    vl = buf[ke]
                    ve = ke + 1 + vl
                    if vl < 64 and ve <= end:
                        key = buf[p + 2:ke]
                        if key in data:
                            r.fail("duplicate key %r" % key[:64])
                        data[key] = buf[ke + 1:ve]
                        r.pos = ve
                        continue
            key = r.string()
            if key in data:
                r.fail("duplicate key %r" % key[:64])
            data[key] = r.string()
            continue
        if op == OP_EOF:
            break
        if op == OP_SELECTDB:
            dbid = r.length()
            db = dbs.get(dbid)
            if db is None:
                db = dbs[dbid] = RdbDatabase({}, {})
            selected = True
            continue
        if op == OP_EXPIRETIME_MS:
            expire = r.ms_time()
            continue
        if op == OP_EXPIRETIME:
            expire = int.from_bytes(r.take(4), "little", signed=True) * 1000
            continue
        if op == OP_RESIZEDB:
            r.length()
            r.length()
            continue
        if op == OP_AUX:
            k = r.string()
            aux[k] = r.string()
            continue
        if op == OP_IDLE:
            idle = r.length()
            continue
        if op == OP_FREQ:
            freq = r.byte()
            continue
        if op == OP_FUNCTION2:
            functions.append(r.string())
            continue
        if op == OP_SLOT_INFO:
            r.length()
            r.length()
            r.length()
            continue
        if op == OP_FUNCTION_PRE_GA:
            r.fail("pre-release (7.0 RC) function format not supported")
        if op == OP_MODULE_AUX:
            r.fail("module auxiliary data (module type %s) cannot be loaded: modules are not supported"
                   % module_name(r.length()))
        key = r.string()
        value = r.value(op)
        if value is not None:
            if key in db.data:
                r.fail("duplicate key %r" % key[:64])
            db.data[key] = value
            if expire != -1:
                db.expires[key] = expire
            if idle is not None:
                db.idle[key] = idle
            if freq is not None:
                db.freq[key] = freq
        expire = -1
        idle = freq = None
    if version >= 5:
        trailer = r.take(8)
        expected = int.from_bytes(trailer, "little")
        if expected and crc64(0, memoryview(buf)[:r.pos - 8]) != expected:
            raise RdbError("wrong RDB checksum")
    if not selected and not dbs[0].data:
        del dbs[0]
    return RdbFile(version, aux, dbs, functions)


def read_value(rdb_type: int, data, pos: int = 0):
    """Decode one value of object type `rdb_type` from data[pos:]: (value, end position).
    The value is None for an empty collection."""
    r = _Reader(bytes(data), pos)
    v = r.value(rdb_type)
    return v, r.pos
