"""Hash commands (t_hash.c). A hash is a dict bytes -> bytes.

Python dicts keep insertion order, which is also the order of Redis's listpack encoding (every
hash up to hash-max-listpack-entries): HGETALL/HKEYS/HVALS/HSCAN of a small hash answer in the same
order as Redis.
"""
from __future__ import annotations

import random
from itertools import islice

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import OK, string2ll

from ..args import format_long_double, long_double_add, parse_long_double
from ..keyspace import NOTIFY_GENERIC, NOTIFY_HASH
from ..scan import parse_cursor, scan_generic
from . import command
from .keys import lookup_read

_LONG_MAX = 2**63 - 1


def _get_hash(c, key: bytes):
    v = c.db.lookup(key)
    if v is not None and type(v) is not dict:
        raise RespError(errors.WRONGTYPE)
    return v


def _read_hash(c, key: bytes):
    """lookupKeyRead: as _get_hash, counting hits/misses and sending `keymiss`."""
    v = lookup_read(c, key)
    if v is not None and type(v) is not dict:
        raise RespError(errors.WRONGTYPE)
    return v


def _hash_for_write(c, key: bytes) -> dict:
    """hashTypeLookupWriteOrCreate: the hash at `key`, a new empty one stored if missing."""
    db = c.db
    h = db.lookup(key)
    if h is None:
        h = {}
        db.add(key, h)
    elif type(h) is not dict:
        raise RespError(errors.WRONGTYPE)
    return h


# --- HSET / HMSET / HSETNX (hot path) ------------------------------------------------------------


@command("hset")
def hset_command(c, argv):
    n = len(argv)
    if n & 1:
        raise RespError(errors.wrong_arity("hset"))
    key = argv[1]
    h = _hash_for_write(c, key)
    before = len(h)
    if n == 4:
        h[argv[2]] = argv[3]
    else:
        h.update(zip(argv[2::2], argv[3::2]))
        c.server.dirty += (n - 2) // 2 - 1  # Redis counts one change per pair
    c.changed(key, NOTIFY_HASH, b"hset")
    return len(h) - before


@command("hmset")
def hmset_command(c, argv):
    if len(argv) & 1:
        raise RespError(errors.wrong_arity("hmset"))
    hset_command(c, argv)
    return OK


@command("hsetnx")
def hsetnx_command(c, argv):
    key = argv[1]
    h = _hash_for_write(c, key)
    if argv[2] in h:
        return 0
    h[argv[2]] = argv[3]
    c.changed(key, NOTIFY_HASH, b"hset")
    return 1


# --- reads -----------------------------------------------------------------------------------------


@command("hget")
def hget_command(c, argv):
    h = _read_hash(c, argv[1])
    if h is None:
        return None
    return h.get(argv[2])


@command("hmget")
def hmget_command(c, argv):
    h = _read_hash(c, argv[1])
    if h is None:
        return [None] * (len(argv) - 2)
    get = h.get
    return [get(f) for f in argv[2:]]


@command("hexists")
def hexists_command(c, argv):
    h = _read_hash(c, argv[1])
    return 1 if h is not None and argv[2] in h else 0


@command("hlen")
def hlen_command(c, argv):
    h = _read_hash(c, argv[1])
    return 0 if h is None else len(h)


@command("hstrlen")
def hstrlen_command(c, argv):
    h = _read_hash(c, argv[1])
    if h is None:
        return 0
    v = h.get(argv[2])
    return 0 if v is None else len(v)


@command("hgetall")
def hgetall_command(c, argv):
    h = _read_hash(c, argv[1])
    # a copy: inside EXEC the reply is encoded after the later commands ran
    return {} if h is None else dict(h)


@command("hkeys")
def hkeys_command(c, argv):
    h = _read_hash(c, argv[1])
    return [] if h is None else list(h)


@command("hvals")
def hvals_command(c, argv):
    h = _read_hash(c, argv[1])
    return [] if h is None else list(h.values())


# --- HDEL ------------------------------------------------------------------------------------------


@command("hdel")
def hdel_command(c, argv):
    key = argv[1]
    h = _get_hash(c, key)
    if h is None:
        return 0
    deleted = 0
    removed = False
    pop = h.pop
    for f in argv[2:]:
        if pop(f, None) is not None:
            deleted += 1
            if not h:
                c.db.delete(key)
                removed = True
                break
    if deleted:
        c.changed(key, NOTIFY_HASH, b"hdel")
        if removed:
            c.notify(NOTIFY_GENERIC, b"del", key)
        c.server.dirty += deleted - 1
    return deleted


# --- HINCRBY / HINCRBYFLOAT ------------------------------------------------------------------------


@command("hincrby")
def hincrby_command(c, argv):
    incr = string2ll(argv[3])
    if incr is None:
        raise RespError(errors.NOT_INTEGER)
    key, field = argv[1], argv[2]
    h = _hash_for_write(c, key)
    cur = h.get(field)
    if cur is None:
        value = incr
    else:
        old = string2ll(cur)
        if old is None:
            raise RespError(errors.HASH_NOT_INTEGER)
        value = old + incr
        if value > _LONG_MAX or value < -_LONG_MAX - 1:
            raise RespError(errors.OVERFLOW)
    h[field] = b"%d" % value
    c.changed(key, NOTIFY_HASH, b"hincrby")
    return value


@command("hincrbyfloat")
def hincrbyfloat_command(c, argv):
    # C long double arithmetic, emulated exactly (shard.args): Fractions, or floats for +-inf
    incr = parse_long_double(argv[3])
    if incr is None:
        raise RespError(errors.NOT_FLOAT)
    if type(incr) is float:
        raise RespError(errors.VALUE_NAN_OR_INF)
    key, field = argv[1], argv[2]
    h = _hash_for_write(c, key)
    cur = h.get(field)
    if cur is None:
        value = incr
    else:
        old = parse_long_double(cur)
        if old is None:
            raise RespError(errors.HASH_NOT_FLOAT)
        if type(old) is float:  # a stored "inf"
            raise RespError(errors.NAN_OR_INF)
        value = long_double_add(old, incr)
        if type(value) is float:
            raise RespError(errors.NAN_OR_INF)
    out = format_long_double(value)
    h[field] = out
    c.changed(key, NOTIFY_HASH, b"hincrbyfloat")
    # replicated as HSET with the final text, so replicas don't redo the float arithmetic
    c.propagate_as([b"HSET", key, field, out])
    return out


# --- HRANDFIELD / HSCAN ----------------------------------------------------------------------------


def _is_listpack(c, h: dict) -> bool:
    """Whether Redis would keep this hash as a listpack (hash-max-listpack-entries/-value): then it
    answers HSCAN in one call and samples HRANDFIELD in the hash's order."""
    server = c.server
    if len(h) > getattr(server, "hash_max_listpack_entries", 512):
        return False
    limit = getattr(server, "hash_max_listpack_value", 64)
    for f, v in h.items():
        if len(f) > limit or len(v) > limit:
            return False
    return True


@command("hrandfield")
def hrandfield_command(c, argv):
    argc = len(argv)
    if argc == 2:
        h = _read_hash(c, argv[1])
        if h is None:
            return None
        return next(islice(h, random.randrange(len(h)), None))
    count = string2ll(argv[2])
    if count is None:
        raise RespError(errors.NOT_INTEGER)
    if count < -_LONG_MAX:
        raise RespError(errors.LONG_RANGE)
    withvalues = False
    if argc > 4 or (argc == 4 and argv[3].lower() != b"withvalues"):
        raise RespError(errors.SYNTAX)
    if argc == 4:
        withvalues = True
        if count < -(_LONG_MAX // 2) or count > _LONG_MAX // 2:
            raise RespError(errors.VALUE_OUT_OF_RANGE)
    h = _read_hash(c, argv[1])
    if h is None or count == 0:
        return []
    n = len(h)
    if count < 0:
        keys = list(h)
        picked = random.choices(keys, k=-count)
    elif count == 1:
        picked = [next(islice(h, random.randrange(n), None))]
    elif count >= n:
        picked = list(h)
    else:
        keys = list(h)
        if _is_listpack(c, h):
            # listpack: unique samples come out in the hash's own order
            picked = [keys[i] for i in sorted(random.sample(range(n), count))]
        else:
            picked = random.sample(keys, count)
    if not withvalues:
        return picked
    if c.resp == 2:
        out = []
        append = out.append
        for f in picked:
            append(f)
            append(h[f])
        return out
    return [[f, h[f]] for f in picked]


@command("hscan")
def hscan_command(c, argv):
    cursor = parse_cursor(argv[2])
    key = argv[1]
    h = _read_hash(c, key)
    if h is None:
        return [b"0", []]
    return scan_generic(c, argv, cursor, h, (c.db.id, key, b"hash"), values=h.__getitem__,
                        small=_is_listpack(c, h), hash_novalues=True)
