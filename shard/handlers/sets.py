"""Set commands (t_set.c). A set is a Python set of bytes.

Replies that Redis sends as a set (`~` in RESP3) are RespSet; SRANDMEMBER with a count and
SMISMEMBER are arrays. Python's iteration order is not Redis's (intset order, listpack insertion
order or hash table order): clients must not rely on either.
"""
from __future__ import annotations

import random
from itertools import islice

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import RespSet, string2ll

from ..keyspace import NOTIFY_GENERIC, NOTIFY_SET
from ..scan import parse_cursor, scan_generic
from . import command
from .keys import lookup_read

_LONG_MAX = 2**63 - 1
_SREM_BATCH = 1024  # SPOP with a count replicates SREMs of at most this many members
_POP_FAST = 4096  # above this size SPOP takes set.pop()'s (hash-seeded, arbitrary) member: O(1)


def _get_set(c, key: bytes):
    v = c.db.lookup(key)
    if v is not None and type(v) is not set:
        raise RespError(errors.WRONGTYPE)
    return v


def _read_set(c, key: bytes):
    """lookupKeyRead: as _get_set, counting hits/misses and sending `keymiss`."""
    v = lookup_read(c, key)
    if v is not None and type(v) is not set:
        raise RespError(errors.WRONGTYPE)
    return v


def _random_member(s: set):
    return next(islice(s, random.randrange(len(s)), None))


# --- SADD / SREM (hot path) ------------------------------------------------------------------------


@command("sadd")
def sadd_command(c, argv):
    key = argv[1]
    db = c.db
    s = db.lookup(key)
    if s is None:
        if len(argv) == 3:
            s = {argv[2]}
        else:
            s = set(argv[2:])
        db.add(key, s)
        added = len(s)
    elif type(s) is not set:
        raise RespError(errors.WRONGTYPE)
    elif len(argv) == 3:
        before = len(s)
        s.add(argv[2])
        added = len(s) - before
        if not added:
            return 0
    else:
        before = len(s)
        s.update(argv[2:])
        added = len(s) - before
        if not added:
            return 0
    c.changed(key, NOTIFY_SET, b"sadd")
    if added > 1:
        c.server.dirty += added - 1
    return added


@command("srem")
def srem_command(c, argv):
    key = argv[1]
    s = _get_set(c, key)
    if s is None:
        return 0
    deleted = 0
    removed = False
    for m in argv[2:]:
        if m in s:
            s.discard(m)
            deleted += 1
            if not s:
                c.db.delete(key)
                removed = True
                break
    if deleted:
        c.changed(key, NOTIFY_SET, b"srem")
        if removed:
            c.notify(NOTIFY_GENERIC, b"del", key)
        c.server.dirty += deleted - 1
    return deleted


@command("smove")
def smove_command(c, argv):
    src_key, dst_key, member = argv[1], argv[2], argv[3]
    db = c.db
    src = db.lookup(src_key)
    dst = db.lookup(dst_key)
    if src is None:
        return 0
    if type(src) is not set or (dst is not None and type(dst) is not set):
        raise RespError(errors.WRONGTYPE)
    if src is dst:
        return 1 if member in src else 0
    if member not in src:
        return 0
    src.discard(member)
    c.changed(src_key, NOTIFY_SET, b"srem")
    if not src:
        db.delete(src_key)
        c.notify(NOTIFY_GENERIC, b"del", src_key)
    if dst is None:
        dst = set()
        db.add(dst_key, dst)
    if member not in dst:
        dst.add(member)
        c.changed(dst_key, NOTIFY_SET, b"sadd")
    return 1


# --- reads -----------------------------------------------------------------------------------------


@command("sismember")
def sismember_command(c, argv):
    s = _read_set(c, argv[1])
    return 1 if s is not None and argv[2] in s else 0


@command("smismember")
def smismember_command(c, argv):
    s = _read_set(c, argv[1])
    if s is None:
        return [0] * (len(argv) - 2)
    return [1 if m in s else 0 for m in argv[2:]]


@command("scard")
def scard_command(c, argv):
    s = _read_set(c, argv[1])
    return 0 if s is None else len(s)


@command("smembers")
def smembers_command(c, argv):
    s = _read_set(c, argv[1])
    return RespSet() if s is None else RespSet(s)


# --- SINTER / SINTERCARD / SINTERSTORE -------------------------------------------------------------


def _lookup_sets(c, keys) -> list:
    """Every key's set (None if missing), WRONGTYPE if any holds another type."""
    out = []
    for k in keys:
        v = lookup_read(c, k)
        if v is not None and type(v) is not set:
            raise RespError(errors.WRONGTYPE)
        out.append(v)
    return out


def _intersection(sets: list):
    """The members common to all sets; None when a key is missing (an empty result)."""
    if None in sets:
        return None
    if len(sets) == 1:
        return sets[0]
    sets = sorted(sets, key=len)
    return sets[0].intersection(*sets[1:])


def _store_result(c, dst: bytes, result, event: bytes) -> int:
    """The *STORE epilogue: replace `dst` with a non-empty result, else delete it."""
    if result:
        c.db.set(dst, result)
        c.changed(dst, NOTIFY_SET, event)
        return len(result)
    if c.db.delete(dst):  # dbDelete: whatever the key holds
        c.changed(dst, NOTIFY_GENERIC, b"del")
    return 0


@command("sinter")
def sinter_command(c, argv):
    result = _intersection(_lookup_sets(c, argv[1:]))
    return RespSet() if not result else RespSet(result)


@command("sintercard")
def sintercard_command(c, argv):
    argc = len(argv)
    numkeys = string2ll(argv[1])
    if numkeys is None or numkeys < 1:
        raise RespError(errors.NUMKEYS_ZERO)
    if numkeys > argc - 2:
        raise RespError(errors.NUMKEYS_TOO_BIG)
    limit = 0
    j = 2 + numkeys
    while j < argc:
        if argv[j].lower() == b"limit" and j + 1 < argc:
            j += 1
            limit = string2ll(argv[j])
            if limit is None or limit < 0:
                raise RespError(errors.SINTERCARD_LIMIT_NEGATIVE)
        else:
            raise RespError(errors.SYNTAX)
        j += 1
    result = _intersection(_lookup_sets(c, argv[2:2 + numkeys]))
    if not result:
        return 0
    n = len(result)
    return limit if limit and n > limit else n


@command("sinterstore")
def sinterstore_command(c, argv):
    result = _intersection(_lookup_sets(c, argv[2:]))
    if result is not None and len(argv) == 3:
        result = set(result)  # a copy: the source is a live set
    return _store_result(c, argv[1], result, b"sinterstore")


# --- SUNION / SDIFF --------------------------------------------------------------------------------


def _union(sets: list) -> set:
    return set().union(*[s for s in sets if s is not None])


def _difference(sets: list) -> set:
    first = sets[0]
    if first is None:
        return set()
    rest = [s for s in sets[1:] if s is not None]
    for s in rest:
        if s is first:
            return set()  # the first key given again: nothing is left
    return first.difference(*rest)


@command("sunion")
def sunion_command(c, argv):
    return RespSet(_union(_lookup_sets(c, argv[1:])))


@command("sunionstore")
def sunionstore_command(c, argv):
    return _store_result(c, argv[1], _union(_lookup_sets(c, argv[2:])), b"sunionstore")


@command("sdiff")
def sdiff_command(c, argv):
    return RespSet(_difference(_lookup_sets(c, argv[1:])))


@command("sdiffstore")
def sdiffstore_command(c, argv):
    return _store_result(c, argv[1], _difference(_lookup_sets(c, argv[2:])), b"sdiffstore")


# --- SPOP / SRANDMEMBER ----------------------------------------------------------------------------


@command("spop")
def spop_command(c, argv):
    argc = len(argv)
    if argc == 3:
        return spop_with_count(c, argv)
    if argc > 3:
        raise RespError(errors.SYNTAX)
    key = argv[1]
    s = _get_set(c, key)
    if s is None:
        return None
    if len(s) > _POP_FAST:
        member = s.pop()
    else:
        member = _random_member(s)
        s.discard(member)
    c.changed(key, NOTIFY_SET, b"spop")
    c.propagate_as([b"SREM", key, member])
    if not s:
        c.db.delete(key)
        c.notify(NOTIFY_GENERIC, b"del", key)
    return member


def spop_with_count(c, argv):
    count = string2ll(argv[2])
    if count is None or count < 0:
        raise RespError(errors.OUT_OF_RANGE_POSITIVE)
    key = argv[1]
    s = _get_set(c, key)
    if s is None or count == 0:
        return RespSet()
    size = len(s)
    c.changed(key, NOTIFY_SET, b"spop")
    if count >= size:
        c.server.dirty += size - 1
        c.db.delete(key)
        c.notify(NOTIFY_GENERIC, b"del", key)
        c.propagate_as([b"UNLINK" if getattr(c.server, "lazyfree_lazy_server_del", False) else b"DEL", key])
        return RespSet(s)
    c.server.dirty += count - 1
    if size <= _POP_FAST:
        popped = random.sample(list(s), count)
        s.difference_update(popped)
    elif count * 5 < size:
        popped = [s.pop() for _ in range(count)]
    else:  # most of a big set: pick the members that stay instead
        keep = random.sample(list(s), size - count)
        s.difference_update(keep)
        popped = list(s)
        s.clear()
        s.update(keep)
    c.propagate_as(*[[b"SREM", key, *popped[i:i + _SREM_BATCH]] for i in range(0, count, _SREM_BATCH)])
    return RespSet(popped)


@command("srandmember")
def srandmember_command(c, argv):
    argc = len(argv)
    if argc > 3:
        raise RespError(errors.SYNTAX)
    if argc == 2:
        s = _read_set(c, argv[1])
        return None if s is None else _random_member(s)
    count = string2ll(argv[2])
    if count is None:
        raise RespError(errors.NOT_INTEGER)
    if count < -_LONG_MAX:
        raise RespError(errors.LONG_RANGE)
    s = _read_set(c, argv[1])
    if s is None or count == 0:
        return []
    if count < 0:
        return random.choices(list(s), k=-count)
    if count == 1:
        return [_random_member(s)]
    if count >= len(s):
        return list(s)
    return random.sample(list(s), count)


# --- SSCAN -----------------------------------------------------------------------------------------


def _is_compact(c, s: set) -> bool:
    """Whether Redis would keep this set as an intset or a listpack: then SSCAN answers it whole."""
    server = c.server
    n = len(s)
    if n <= getattr(server, "set_max_listpack_entries", 128):
        limit = getattr(server, "set_max_listpack_value", 64)
        if all(len(m) <= limit for m in s):
            return True
    if n <= getattr(server, "set_max_intset_entries", 512):
        return all(string2ll(m) is not None for m in s)
    return False


@command("sscan")
def sscan_command(c, argv):
    cursor = parse_cursor(argv[2])
    key = argv[1]
    s = _read_set(c, key)
    if s is None:
        return [b"0", []]
    return scan_generic(c, argv, cursor, s, (c.db.id, key, b"set"), small=_is_compact(c, s))
