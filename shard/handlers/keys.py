"""Generic key commands (db.c, expire.c): DEL UNLINK EXISTS TYPE RENAME RENAMENX COPY MOVE TOUCH
RANDOMKEY KEYS SCAN, EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST."""
from __future__ import annotations

import random as _random
from collections import deque
from itertools import islice

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import LLONG_MAX, OK, Simple, string2ll

from ..glob import glob_matcher
from ..keyspace import NOTIFY_GENERIC, NOTIFY_KEY_MISS, type_name
from ..scan import parse_cursor, parse_options, scan_step
from . import command

_INT_MIN = -(2**31)
_INT_MAX = 2**31 - 1


def lookup_read(c, key: bytes):
    """lookupKeyRead: the value or None (lazy expiry), counting keyspace hits and misses and sending
    the `keymiss` notification, as Redis does for reads."""
    v = c.db.lookup(key)
    server = c.server
    if v is None:
        server.stat_keyspace_misses += 1
        if server.notify_flags & NOTIFY_KEY_MISS:
            server.notify(NOTIFY_KEY_MISS, b"keymiss", key, c.db.id)
    else:
        server.stat_keyspace_hits += 1
    return v


def _db_index(c, arg: bytes):
    """getIntFromObjectOrReply + selectDb: the target Database."""
    v = string2ll(arg)
    if v is None:
        raise RespError(errors.NOT_INTEGER)
    if v < _INT_MIN or v > _INT_MAX:
        raise RespError(errors.INT_OUT_OF_RANGE)
    dbs = c.server.dbs
    if v < 0 or v >= len(dbs):
        raise RespError(errors.DB_INDEX_OUT_OF_RANGE)
    return dbs[v]


def copy_value(v):
    """A deep copy of a value, as COPY needs (the elements themselves are immutable bytes)."""
    t = type(v)
    if t is bytes:
        return v
    if t is deque:
        return deque(v)
    if t is dict or t is set:
        return v.copy()
    return v.copy()  # ZSet and any other container type


# --- DEL UNLINK EXISTS TYPE TOUCH --------------------------------------------------------------

def _del_generic(c, argv):
    db = c.db
    lookup = db.lookup
    n = 0
    for key in argv[1:]:
        if lookup(key) is None:  # expires it if needed
            continue
        db.delete(key)
        c.changed(key, NOTIFY_GENERIC, b"del")
        n += 1
    return n


@command("del")
def del_command(c, argv):
    return _del_generic(c, argv)


@command("unlink")
def unlink_command(c, argv):
    return _del_generic(c, argv)


@command("exists")
def exists_command(c, argv):
    n = 0
    for key in argv[1:]:
        if lookup_read(c, key) is not None:
            n += 1
    return n


@command("touch")
def touch_command(c, argv):
    n = 0
    for key in argv[1:]:
        if lookup_read(c, key) is not None:
            n += 1
    return n


_TYPE_REPLIES = {}


@command("type")
def type_command(c, argv):
    v = lookup_read(c, argv[1])
    name = b"none" if v is None else type_name(v)
    reply = _TYPE_REPLIES.get(name)
    if reply is None:
        reply = _TYPE_REPLIES[name] = Simple(name.decode())
    return reply


# --- RENAME RENAMENX MOVE COPY ---------------------------------------------------------------------

def _rename_generic(c, argv, nx: bool):
    src, dst = argv[1], argv[2]
    db = c.db
    v = db.lookup(src)
    if v is None:
        raise RespError(errors.NO_SUCH_KEY)
    if src == dst:
        return 0 if nx else OK
    when = db.expires.get(src)
    if db.lookup(dst) is not None:
        if nx:
            return 0
        db.delete(dst)
    db.add(dst, v)
    if when is not None:
        db.set_expire(dst, when)
    db.delete(src)
    c.changed(src, NOTIFY_GENERIC, b"rename_from")
    db.changed(dst)
    c.notify(NOTIFY_GENERIC, b"rename_to", dst)
    return 1 if nx else OK


@command("rename")
def rename_command(c, argv):
    return _rename_generic(c, argv, False)


@command("renamenx")
def renamenx_command(c, argv):
    return _rename_generic(c, argv, True)


@command("move")
def move_command(c, argv):
    key = argv[1]
    src = c.db
    dst = _db_index(c, argv[2])
    if dst is src:
        raise RespError(errors.SAME_OBJECT)
    v = src.lookup(key)
    if v is None:
        return 0
    when = src.expires.get(key)
    if dst.lookup(key) is not None:
        return 0
    dst.add(key, v)
    if when is not None:
        dst.set_expire(key, when)
    src.delete(key)
    c.changed(key, NOTIFY_GENERIC, b"move_from")
    dst.changed(key)
    c.server.notify(NOTIFY_GENERIC, b"move_to", key, dst.id)
    return 1


@command("copy")
def copy_command(c, argv):
    src = c.db
    dst = src
    replace = False
    n = len(argv)
    j = 3
    while j < n:
        opt = argv[j].lower()
        if opt == b"replace":
            replace = True
        elif opt == b"db" and n - j - 1 >= 1:
            dst = _db_index(c, argv[j + 1])
            j += 1
        else:
            raise RespError(errors.SYNTAX)
        j += 1
    key, newkey = argv[1], argv[2]
    if src is dst and key == newkey:
        raise RespError(errors.SAME_OBJECT)
    v = lookup_read(c, key)
    if v is None:
        return 0
    when = src.expires.get(key)
    exists = dst.lookup(newkey) is not None
    if exists and not replace:
        return 0
    new = copy_value(v)
    if exists:
        dst.delete(newkey)
    dst.add(newkey, new)
    if when is not None:
        dst.set_expire(newkey, when)
    if dst is src:
        c.changed(newkey, NOTIFY_GENERIC, b"copy_to")
    else:
        dst.changed(newkey)
        server = c.server
        server.dirty += 1
        server.notify(NOTIFY_GENERIC, b"copy_to", newkey, dst.id)
    return 1


# --- RANDOMKEY KEYS SCAN -------------------------------------------------------------------------

@command("randomkey")
def randomkey_command(c, argv):
    """dbRandomKey: a uniformly random key; an expired one met on the way is deleted and another
    drawn (a replica, which cannot delete, gives up after 100 draws and answers the expired key)."""
    db = c.db
    replica = c.server.is_replica
    tries = 100
    while True:
        data = db.data
        n = len(data)
        if not n:
            return None
        i = _random.randrange(n)
        key = next(islice(iter(data), i, None)) if i else next(iter(data))
        if db.lookup(key) is not None:
            return key
        if replica:
            tries -= 1
            if not tries:
                return key


@command("keys")
def keys_command(c, argv):
    db = c.db
    pattern = argv[1]
    data = db.data
    if pattern == b"*":
        keys = list(data)
    else:
        match = glob_matcher(pattern)
        keys = [k for k in data if match(k)]
    expires = db.expires
    if expires and keys:
        now = c.server.now_ms
        get = expires.get
        keys = [k for k in keys if get(k, LLONG_MAX) > now]
    return keys


@command("scan")
def scan_command(c, argv):
    cursor = parse_cursor(argv[1])
    count, matcher, typename, _ = parse_options(argv, 2, keyspace=True)
    db = c.db
    data = db.data
    nxt, batch = scan_step(c, (b"db", db.id, id(data)), cursor, data, count)
    out = []
    lookup = db.lookup
    for key in batch:
        if key not in data:
            continue
        if matcher is not None and not matcher(key):
            continue
        v = lookup(key)  # expires it if needed
        if v is None:
            continue
        if typename is not None and type_name(v) != typename:
            continue
        out.append(key)
    return [b"%d" % nxt, out]


# --- EXPIRE PEXPIRE EXPIREAT PEXPIREAT -----------------------------------------------------------

_NX, _XX, _GT, _LT = 1, 2, 4, 8
_EXPIRE_FLAGS = {b"nx": _NX, b"xx": _XX, b"gt": _GT, b"lt": _LT}
_SEC_LIMIT = LLONG_MAX // 1000  # LLONG_MAX / 1000, and -(LLONG_MIN / 1000) as C truncates


def _expire_generic(c, argv, relative: bool, seconds: bool, name: str):
    flags = 0
    for opt in argv[3:]:
        f = _EXPIRE_FLAGS.get(opt.lower())
        if f is None:
            raise RespError(errors.EXPIRE_UNSUPPORTED_OPTION.format(
                opt.decode("latin-1").replace("\r", " ").replace("\n", " ")))
        flags |= f
    if flags & _NX and flags & (_XX | _GT | _LT):
        raise RespError(errors.EXPIRE_NX_AND_OTHERS)
    if flags & _GT and flags & _LT:
        raise RespError(errors.EXPIRE_GT_AND_LT)
    when = string2ll(argv[2])
    if when is None:
        raise RespError(errors.NOT_INTEGER)
    if seconds:
        if when > _SEC_LIMIT or when < -_SEC_LIMIT:
            raise RespError(errors.invalid_expire(name))
        when *= 1000
    server = c.server
    if relative:
        base = server.now_ms
        if when > LLONG_MAX - base:
            raise RespError(errors.invalid_expire(name))
        when += base
    key = argv[1]
    db = c.db
    if db.lookup(key) is None:
        return 0
    if flags:
        current = db.expires.get(key, -1)
        if flags & _NX and current != -1:
            return 0
        if flags & _XX and current == -1:
            return 0
        if flags & _GT and (when <= current or current == -1):
            return 0
        if flags & _LT and current != -1 and when >= current:
            return 0
    if when <= server.now_ms and not server.is_replica:
        db.delete(key)
        c.propagate_as([b"DEL", key])
        c.changed(key, NOTIFY_GENERIC, b"del")
        return 1
    db.set_expire(key, when)
    if relative or seconds:
        c.propagate_as([b"PEXPIREAT", key, b"%d" % when, *argv[3:]])
    c.changed(key, NOTIFY_GENERIC, b"expire")
    return 1


@command("expire")
def expire_command(c, argv):
    return _expire_generic(c, argv, True, True, "expire")


@command("pexpire")
def pexpire_command(c, argv):
    return _expire_generic(c, argv, True, False, "pexpire")


@command("expireat")
def expireat_command(c, argv):
    return _expire_generic(c, argv, False, True, "expireat")


@command("pexpireat")
def pexpireat_command(c, argv):
    return _expire_generic(c, argv, False, False, "pexpireat")


# --- TTL PTTL EXPIRETIME PEXPIRETIME PERSIST --------------------------------------------------------

def _ttl_generic(c, key: bytes, ms: bool, absolute: bool) -> int:
    if lookup_read(c, key) is None:
        return -2
    when = c.db.expires.get(key)
    if when is None:
        return -1
    ttl = when if absolute else when - c.server.now_ms
    if ttl < 0:
        ttl = 0
    return ttl if ms else (ttl + 500) // 1000


@command("ttl")
def ttl_command(c, argv):
    return _ttl_generic(c, argv[1], False, False)


@command("pttl")
def pttl_command(c, argv):
    return _ttl_generic(c, argv[1], True, False)


@command("expiretime")
def expiretime_command(c, argv):
    return _ttl_generic(c, argv[1], False, True)


@command("pexpiretime")
def pexpiretime_command(c, argv):
    return _ttl_generic(c, argv[1], True, True)


@command("persist")
def persist_command(c, argv):
    key = argv[1]
    db = c.db
    if db.lookup(key) is None or not db.persist(key):
        return 0
    c.changed(key, NOTIFY_GENERIC, b"persist")
    return 1
