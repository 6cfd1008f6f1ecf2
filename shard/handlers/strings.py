"""String commands (t_string.c): GET SET and their variants, counters, ranges, LCS.

GET, SET (3 arguments), INCR, MGET and MSET are the hot paths: they avoid option parsing and
extra lookups. Effects are replicated as Redis 7.4 does (SET EX -> SET PXAT, GETEX -> PEXPIREAT /
PERSIST / DEL, INCRBYFLOAT -> SET KEEPTTL, GETDEL -> DEL, GETSET -> SET).
"""
from __future__ import annotations

from fractions import Fraction

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import LLONG_MAX, LLONG_MIN, OK, string2ll

from ..args import clamp_range, format_long_double, long_double_add, parse_int, parse_long_double
from ..eviction import LRUDatabase
from ..keyspace import NOTIFY_GENERIC, NOTIFY_KEY_MISS, NOTIFY_NEW, NOTIFY_STRING, Database
from . import command
from .keys import lookup_read

_WRONGTYPE = errors.WRONGTYPE


def _read_string(c, key: bytes):
    """getGenericCommand's lookup: a read (stats), None if missing, WRONGTYPE if not a string."""
    v = lookup_read(c, key)
    if v is not None and type(v) is not bytes:
        raise RespError(_WRONGTYPE)
    return v


@command("get")
def get_command(c, argv):
    key = argv[1]
    db = c.db
    if type(db) is Database:  # (a database keeping access clocks for LRU/LFU looks up its own way)
        v = db.data.get(key)
        if db.expires and v is not None and key in db.expires:
            v = db.lookup(key)
    else:
        v = db.lookup(key)
    server = c.server
    if v is None:
        server.stat_keyspace_misses += 1
        if server.notify_flags & NOTIFY_KEY_MISS:
            server.notify(NOTIFY_KEY_MISS, b"keymiss", key, c.db.id)
        return None
    server.stat_keyspace_hits += 1
    if type(v) is bytes:
        return v
    raise RespError(_WRONGTYPE)


# --- SET and its extended arguments --------------------------------------------------------------

_NX = 1 << 0
_XX = 1 << 1
_EX = 1 << 2
_PX = 1 << 3
_KEEPTTL = 1 << 4
_GET = 1 << 5
_EXAT = 1 << 6
_PXAT = 1 << 7
_PERSIST = 1 << 8
_ANY_EXPIRE = _EX | _PX | _EXAT | _PXAT
_SEC_LIMIT = LLONG_MAX // 1000


def _parse_extended(argv: list, start: int, is_set: bool):
    """parseExtendedStringArgumentsOrReply: (flags, expire argument or None). The same option may
    repeat (the last value wins); conflicting ones are a syntax error."""
    flags = 0
    expire = None
    n = len(argv)
    j = start
    while j < n:
        opt = argv[j].lower()
        has_next = j < n - 1
        if opt == b"nx" and is_set and not flags & _XX:
            flags |= _NX
        elif opt == b"xx" and is_set and not flags & _NX:
            flags |= _XX
        elif opt == b"get" and is_set:
            flags |= _GET
        elif opt == b"keepttl" and is_set and not flags & (_PERSIST | _ANY_EXPIRE):
            flags |= _KEEPTTL
        elif opt == b"persist" and not is_set and not flags & (_ANY_EXPIRE | _KEEPTTL):
            flags |= _PERSIST
        elif opt == b"ex" and has_next and not flags & (_KEEPTTL | _PERSIST | _EXAT | _PX | _PXAT):
            flags |= _EX
            j += 1
            expire = argv[j]
        elif opt == b"px" and has_next and not flags & (_KEEPTTL | _PERSIST | _EX | _EXAT | _PXAT):
            flags |= _PX
            j += 1
            expire = argv[j]
        elif opt == b"exat" and has_next and not flags & (_KEEPTTL | _PERSIST | _EX | _PX | _PXAT):
            flags |= _EXAT
            j += 1
            expire = argv[j]
        elif opt == b"pxat" and has_next and not flags & (_KEEPTTL | _PERSIST | _EX | _EXAT | _PX):
            flags |= _PXAT
            j += 1
            expire = argv[j]
        else:
            raise RespError(errors.SYNTAX)
        j += 1
    return flags, expire


def _expire_ms(c, arg: bytes, flags: int, name: str) -> int:
    """getExpireMillisecondsOrReply: the absolute expiry time in ms."""
    ms = string2ll(arg)
    if ms is None:
        raise RespError(errors.NOT_INTEGER)
    seconds = not flags & (_PX | _PXAT)
    if ms <= 0 or (seconds and ms > _SEC_LIMIT):
        raise RespError(errors.invalid_expire(name))
    if seconds:
        ms *= 1000
    if flags & (_EX | _PX):
        ms += c.server.now_ms
        if ms > LLONG_MAX:  # C's signed overflow
            raise RespError(errors.invalid_expire(name))
    return ms


def _set_generic(c, argv, flags: int, key: bytes, val: bytes, expire, name: str, ok_reply, abort_reply):
    when = _expire_ms(c, expire, flags, name) if expire is not None else 0
    old = None
    if flags & _GET:
        old = _read_string(c, key)
    db = c.db
    found = db.lookup(key) is not None
    if (flags & _NX and found) or (flags & _XX and not found):
        return old if flags & _GET else abort_reply
    db.set(key, val, keep_ttl=bool(flags & _KEEPTTL) or expire is not None)
    c.changed(key, NOTIFY_STRING, b"set")
    if expire is not None:
        db.set_expire(key, when)
        if not flags & _PXAT:
            c.propagate_as([b"SET", key, val, b"PXAT", b"%d" % when])
        c.notify(NOTIFY_GENERIC, b"expire", key)
    elif flags & _GET:
        c.propagate_as([a for i, a in enumerate(argv) if i < 3 or a.lower() != b"get"])
    return old if flags & _GET else ok_reply


@command("set")
def set_command(c, argv):
    if len(argv) == 3:
        # the fast path: SET key value, Database.set and Client.changed inline (not for a database
        # that accounts memory and access clocks, nor while clients track keys: both hook
        # Database.changed)
        db = c.db
        server = c.server
        if type(db) is Database and server.tracking is None:
            key = argv[1]
            if not (db.expires or db.blocking or db.watched or server.notify_flags):
                db.data[key] = argv[2]  # nothing expires, waits, watches or listens
                server.dirty += 1
                return OK
            if db.expires and key in db.expires:
                db.lookup(key)  # an expired key is expired first (its event), as lookupKeyWrite does
                db.expires.pop(key, None)
            data = db.data
            if db.blocking and key in db.blocking:  # new, or overwritten (a blocked XREADGROUP wakes)
                server.ready_keys[(db, key)] = None
            if key not in data and server.notify_flags & NOTIFY_NEW:
                server.notify(NOTIFY_NEW, b"new", key, db.id)
            data[key] = argv[2]
            if db.watched:
                db.changed(key)
            server.dirty += 1
            if server.notify_flags & NOTIFY_STRING:
                server.notify(NOTIFY_STRING, b"set", key, db.id)
            return OK
        if type(db) is LRUDatabase and server.tracking is None:
            # a cache's shard (maxmemory, AMR's volatile-lru): what _set_generic does through
            # LRUDatabase.lookup, Database.set and AccountedDatabase.changed, when nothing expires, waits,
            # watches or listens: the value, its size in the dataset's, and the key's access clock
            key = argv[1]
            if not (db.expires or db.blocking or db.watched or server.notify_flags):
                val = db.data[key] = argv[2]
                db.account(key, val)
                db.access[key] = server.now_ms
                server.dirty += 1
                return OK
    flags, expire = _parse_extended(argv, 3, True)
    return _set_generic(c, argv, flags, argv[1], argv[2], expire, "set", OK, None)


@command("setnx")
def setnx_command(c, argv):
    return _set_generic(c, argv, _NX, argv[1], argv[2], None, "setnx", 1, 0)


@command("setex")
def setex_command(c, argv):
    return _set_generic(c, argv, _EX, argv[1], argv[3], argv[2], "setex", OK, None)


@command("psetex")
def psetex_command(c, argv):
    return _set_generic(c, argv, _PX, argv[1], argv[3], argv[2], "psetex", OK, None)


@command("getex")
def getex_command(c, argv):
    flags, expire = _parse_extended(argv, 2, False)
    key = argv[1]
    v = _read_string(c, key)
    if v is None:
        return None
    when = _expire_ms(c, expire, flags, "getex") if expire is not None else 0
    db = c.db
    server = c.server
    if flags & (_EXAT | _PXAT) and when <= server.now_ms and not server.is_replica:
        db.delete(key)
        c.propagate_as([b"DEL", key])
        c.changed(key, NOTIFY_GENERIC, b"del")
    elif expire is not None:
        db.set_expire(key, when)
        c.propagate_as([b"PEXPIREAT", key, b"%d" % when])
        c.changed(key, NOTIFY_GENERIC, b"expire")
    elif flags & _PERSIST:
        if db.persist(key):
            c.propagate_as([b"PERSIST", key])
            c.changed(key, NOTIFY_GENERIC, b"persist")
    return v


@command("getdel")
def getdel_command(c, argv):
    key = argv[1]
    v = _read_string(c, key)
    if v is not None:
        c.db.delete(key)
        c.propagate_as([b"DEL", key])
        c.changed(key, NOTIFY_GENERIC, b"del")
    return v


@command("getset")
def getset_command(c, argv):
    key = argv[1]
    v = _read_string(c, key)
    c.db.set(key, argv[2])
    c.changed(key, NOTIFY_STRING, b"set")
    c.propagate_as([b"SET", key, argv[2]])
    return v


# --- MGET MSET MSETNX ----------------------------------------------------------------------------

@command("mget")
def mget_command(c, argv):
    lookup = c.db.lookup
    out = []
    misses = 0
    for key in argv[1:]:
        v = lookup(key)
        if v is None:
            misses += 1
            out.append(None)
        elif type(v) is bytes:
            out.append(v)
        else:
            out.append(None)
    server = c.server
    server.stat_keyspace_hits += len(out) - misses
    if misses:
        server.stat_keyspace_misses += misses
        if server.notify_flags & NOTIFY_KEY_MISS:
            dbid = c.db.id
            for key in argv[1:]:
                if lookup(key) is None:
                    server.notify(NOTIFY_KEY_MISS, b"keymiss", key, dbid)
    return out


@command("mset")
def mset_command(c, argv):
    n = len(argv)
    if not n & 1:
        raise RespError(errors.wrong_arity("mset"))
    db = c.db
    expires = db.expires
    dbset = db.set
    changed = c.changed
    for i in range(1, n, 2):
        key = argv[i]
        if expires and key in expires:
            db.lookup(key)
        dbset(key, argv[i + 1])
        changed(key, NOTIFY_STRING, b"set")
    return OK


@command("msetnx")
def msetnx_command(c, argv):
    n = len(argv)
    if not n & 1:
        raise RespError(errors.wrong_arity("msetnx"))
    db = c.db
    for i in range(1, n, 2):
        if db.lookup(argv[i]) is not None:
            return 0
    for i in range(1, n, 2):
        key = argv[i]
        db.set(key, argv[i + 1])
        c.changed(key, NOTIFY_STRING, b"set")
    return 1


# --- counters ------------------------------------------------------------------------------------

def _incr_generic(c, key: bytes, incr: int) -> int:
    db = c.db
    v = db.lookup(key)
    if v is None:
        value = incr
        db.add(key, b"%d" % value)
    else:
        if type(v) is not bytes:
            raise RespError(_WRONGTYPE)
        old = string2ll(v)
        if old is None:
            raise RespError(errors.NOT_INTEGER)
        value = old + incr
        if value > LLONG_MAX or value < LLONG_MIN:
            raise RespError(errors.OVERFLOW)
        db.data[key] = b"%d" % value  # the TTL stays
    c.changed(key, NOTIFY_STRING, b"incrby")
    return value


@command("incr")
def incr_command(c, argv):
    return _incr_generic(c, argv[1], 1)


@command("decr")
def decr_command(c, argv):
    return _incr_generic(c, argv[1], -1)


@command("incrby")
def incrby_command(c, argv):
    incr = string2ll(argv[2])
    if incr is None:
        raise RespError(errors.NOT_INTEGER)
    return _incr_generic(c, argv[1], incr)


@command("decrby")
def decrby_command(c, argv):
    incr = string2ll(argv[2])
    if incr is None:
        raise RespError(errors.NOT_INTEGER)
    if incr == LLONG_MIN:
        raise RespError(errors.DECREMENT_OVERFLOW)
    return _incr_generic(c, argv[1], -incr)


_ZERO = Fraction(0)


@command("incrbyfloat")
def incrbyfloat_command(c, argv):
    key = argv[1]
    db = c.db
    v = db.lookup(key)
    if v is None:
        value = _ZERO
    else:
        if type(v) is not bytes:
            raise RespError(_WRONGTYPE)
        value = parse_long_double(v)
        if value is None:
            raise RespError(errors.NOT_FLOAT)
    incr = parse_long_double(argv[2])
    if incr is None:
        raise RespError(errors.NOT_FLOAT)
    value = long_double_add(value, incr)
    if type(value) is float:  # inf or nan
        raise RespError(errors.NAN_OR_INF)
    new = format_long_double(value)
    if v is None:
        db.add(key, new)
    else:
        db.data[key] = new  # the TTL stays
    c.changed(key, NOTIFY_STRING, b"incrbyfloat")
    c.propagate_as([b"SET", key, new, b"KEEPTTL"])
    return new


# --- APPEND SETRANGE GETRANGE STRLEN ------------------------------------------------------------

def _check_length(c, size: int, append: int) -> None:
    if size + append > c.server.proto_max_bulk_len and not c.is_master:
        raise RespError(errors.STRING_TOO_LONG)


@command("append")
def append_command(c, argv):
    key, tail = argv[1], argv[2]
    db = c.db
    v = db.lookup(key)
    if v is None:
        db.add(key, tail)
        total = len(tail)
    else:
        if type(v) is not bytes:
            raise RespError(_WRONGTYPE)
        _check_length(c, len(v), len(tail))
        new = v + tail
        db.data[key] = new
        total = len(new)
    c.changed(key, NOTIFY_STRING, b"append")
    return total


@command("setrange")
def setrange_command(c, argv):
    key, value = argv[1], argv[3]
    offset = string2ll(argv[2])
    if offset is None:
        raise RespError(errors.NOT_INTEGER)
    if offset < 0:
        raise RespError(errors.OFFSET_OUT_OF_RANGE)
    db = c.db
    v = db.lookup(key)
    n = len(value)
    if v is None:
        if not n:
            return 0
        _check_length(c, offset, n)
        new = bytes(offset) + value
        db.add(key, new)
    else:
        if type(v) is not bytes:
            raise RespError(_WRONGTYPE)
        if not n:
            return len(v)
        _check_length(c, offset, n)
        size = len(v)
        if offset >= size:
            new = v + bytes(offset - size) + value
        else:
            new = v[:offset] + value + v[offset + n:]
        db.data[key] = new
    c.changed(key, NOTIFY_STRING, b"setrange")
    return len(new)


@command("getrange")
def getrange_command(c, argv):
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    v = _read_string(c, argv[1])
    if v is None:
        return b""
    n = len(v)
    if start < 0 and end < 0 and start > end:
        return b""
    start, end = clamp_range(start, end, n)
    if start > end or n == 0:
        return b""
    return v[start:end + 1]


@command("substr")
def substr_command(c, argv):
    return getrange_command(c, argv)


@command("strlen")
def strlen_command(c, argv):
    v = _read_string(c, argv[1])
    return 0 if v is None else len(v)


# --- LCS -----------------------------------------------------------------------------------------

def _char_masks(b: bytes) -> dict:
    """For each byte value of b, the bitmask of its positions (bit j = b[j])."""
    masks = {}
    rev = b[::-1]
    for ch in set(b):
        table = bytes(49 if x == ch else 48 for x in range(256))
        masks[ch] = int(rev.translate(table), 2)
    return masks


def _lcs_rows(a: bytes, b: bytes, keep_rows: bool):
    """Bit-parallel LCS (Crochemore et al.): row i is a bit vector V_i over b's positions whose
    zero bits below j count LCS(a[:i], b[:j]). Returns every row (for the traceback) or the last."""
    m = len(b)
    full = (1 << m) - 1
    masks = _char_masks(b)
    v = full
    rows = [v] if keep_rows else None
    get = masks.get
    for ch in a:
        u = v & get(ch, 0)
        v = ((v + u) | (v - u)) & full
        if keep_rows:
            rows.append(v)
    return rows if keep_rows else v


@command("lcs")
def lcs_command(c, argv):
    va = lookup_read(c, argv[1])
    vb = lookup_read(c, argv[2])
    if (va is not None and type(va) is not bytes) or (vb is not None and type(vb) is not bytes):
        raise RespError(errors.LCS_NOT_STRINGS)
    a = va if va is not None else b""
    b = vb if vb is not None else b""
    getlen = getidx = withmatchlen = False
    minmatchlen = 0
    n = len(argv)
    j = 3
    while j < n:
        opt = argv[j].lower()
        if opt == b"idx":
            getidx = True
        elif opt == b"len":
            getlen = True
        elif opt == b"withmatchlen":
            withmatchlen = True
        elif opt == b"minmatchlen" and n - 1 - j > 0:
            minmatchlen = string2ll(argv[j + 1])
            if minmatchlen is None:
                raise RespError(errors.NOT_INTEGER)
            if minmatchlen < 0:
                minmatchlen = 0
            j += 1
        else:
            raise RespError(errors.SYNTAX)
        j += 1
    if getlen and getidx:
        raise RespError(errors.LCS_LEN_AND_IDX)
    alen, blen = len(a), len(b)
    if alen >= 0xFFFFFFFF - 1 or blen >= 0xFFFFFFFF - 1:
        raise RespError(errors.LCS_TOO_LONG)
    if (alen + 1) * (blen + 1) * 4 > c.server.proto_max_bulk_len:
        raise RespError(errors.LCS_TOO_MUCH_MEMORY)

    computelcs = getidx or not getlen
    if not computelcs:
        v = _lcs_rows(a, b, False)
        return blen - (v & ((1 << blen) - 1)).bit_count()
    rows = _lcs_rows(a, b, True)

    def lcs(i, k):
        return k - (rows[i] & ((1 << k) - 1)).bit_count()

    total = lcs(alen, blen)
    result = bytearray(total)
    matches = []
    idx = total
    i, k = alen, blen
    astart = alen  # alen: no range open
    aend = bstart = bend = 0
    while i > 0 and k > 0:
        emit = False
        if a[i - 1] == b[k - 1]:
            result[idx - 1] = a[i - 1]
            if astart == alen:
                astart = aend = i - 1
                bstart = bend = k - 1
            elif astart == i and bstart == k:
                astart -= 1
                bstart -= 1
            else:
                emit = True
            if astart == 0 or bstart == 0:
                emit = True
            idx -= 1
            i -= 1
            k -= 1
        else:
            if lcs(i - 1, k) > lcs(i, k - 1):
                i -= 1
            else:
                k -= 1
            if astart != alen:
                emit = True
        if emit:
            match_len = aend - astart + 1
            if getidx and (minmatchlen == 0 or match_len >= minmatchlen):
                item = [[astart, aend], [bstart, bend]]
                if withmatchlen:
                    item.append(match_len)
                matches.append(item)
            astart = alen
    if getidx:
        return {b"matches": matches, b"len": total}
    return bytes(result)
