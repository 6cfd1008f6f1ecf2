"""List commands (t_list.c). A list is a collections.deque of bytes; an empty list is never kept.

The blocking commands (BLPOP BRPOP BLMPOP BLMOVE BRPOPLPUSH) raise `Blocked` when every key they
watch is empty; the client is parked and the command runs again when a key becomes ready (see
Client.retry_blocked). Redis re-runs such a command only when the ready key now holds a list: a
key that became a string (or another type) leaves the client blocked.

Served blocking commands, LMPOP, and the blocking forms that find data at once, replicate as the
plain commands Redis rewrites them to: BLPOP -> LPOP key, B/LMPOP -> LPOP key count, BLMOVE ->
LMOVE, BRPOPLPUSH -> RPOPLPUSH.
"""
from __future__ import annotations

from collections import deque
from itertools import islice

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import NULL_ARRAY, OK, string2ll

from ..args import parse_timeout
from ..dispatch import Blocked, retrying_in_vain
from ..keyspace import NOTIFY_GENERIC, NOTIFY_LIST
from . import command
from .keys import lookup_read

_LONG_MAX = 2**63 - 1
_WRONGTYPE = errors.WRONGTYPE


def _get_list(c, key: bytes):
    v = c.db.lookup(key)
    if v is not None and type(v) is not deque:
        raise RespError(_WRONGTYPE)
    return v


def _read_list(c, key: bytes):
    """lookupKeyRead: as _get_list, counting hits/misses and sending `keymiss`."""
    v = lookup_read(c, key)
    if v is not None and type(v) is not deque:
        raise RespError(_WRONGTYPE)
    return v


def _long(b: bytes) -> int:
    v = string2ll(b)
    if v is None:
        raise RespError(errors.NOT_INTEGER)
    return v


def _range_long(b: bytes, lo: int, hi: int, message: str) -> int:
    """getRangeLongFromObjectOrReply with a message: the same text for a non-integer."""
    v = string2ll(b)
    if v is None or v < lo or v > hi:
        raise RespError(message)
    return v


def _signed_long(b: bytes) -> int:
    """getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX) without a message (LPOS RANK, LREM count)."""
    v = string2ll(b)
    if v is None:
        raise RespError(errors.NOT_INTEGER)
    if v < -_LONG_MAX:
        raise RespError(errors.LONG_RANGE)
    return v


def _positive(b: bytes, message: str = errors.OUT_OF_RANGE_POSITIVE) -> int:
    return _range_long(b, 0, _LONG_MAX, message)


def _where(b: bytes) -> bool:
    """LEFT -> True (head), RIGHT -> False (tail)."""
    low = b.lower()
    if low == b"left":
        return True
    if low == b"right":
        return False
    raise RespError(errors.SYNTAX)


def _removed(c, key: bytes, v, head: bool, n: int) -> None:
    """listElementsRemoved: the pop event, the key deleted (with `del`) once empty; `n` changes."""
    c.changed(key, NOTIFY_LIST, b"lpop" if head else b"rpop")
    if n != 1:
        c.server.dirty += n - 1
    if not v:
        c.db.delete(key)
        c.notify(NOTIFY_GENERIC, b"del", key)


def _pop_range(v, head: bool, count: int) -> list:
    n = len(v) if count > len(v) else count
    pop = v.popleft if head else v.pop
    return [pop() for _ in range(n)]


# --- pushes (LPUSH and RPUSH are hot paths) ----------------------------------------------------


@command("lpush")
def lpush_command(c, argv):
    key = argv[1]
    db = c.db
    v = db.lookup(key)
    if v is None:
        v = deque()
        db.add(key, v)
    elif type(v) is not deque:
        raise RespError(_WRONGTYPE)
    if len(argv) == 3:
        v.appendleft(argv[2])
    else:
        v.extendleft(argv[2:])
        c.server.dirty += len(argv) - 3  # one change per element
    c.changed(key, NOTIFY_LIST, b"lpush")
    return len(v)


@command("rpush")
def rpush_command(c, argv):
    key = argv[1]
    db = c.db
    v = db.lookup(key)
    if v is None:
        v = deque()
        db.add(key, v)
    elif type(v) is not deque:
        raise RespError(_WRONGTYPE)
    if len(argv) == 3:
        v.append(argv[2])
    else:
        v.extend(argv[2:])
        c.server.dirty += len(argv) - 3
    c.changed(key, NOTIFY_LIST, b"rpush")
    return len(v)


def _pushx(c, argv, head: bool):
    key = argv[1]
    v = _get_list(c, key)
    if v is None:
        return 0
    if head:
        v.extendleft(argv[2:])
    else:
        v.extend(argv[2:])
    c.server.dirty += len(argv) - 3
    c.changed(key, NOTIFY_LIST, b"lpush" if head else b"rpush")
    return len(v)


@command("lpushx")
def lpushx_command(c, argv):
    return _pushx(c, argv, True)


@command("rpushx")
def rpushx_command(c, argv):
    return _pushx(c, argv, False)


@command("linsert")
def linsert_command(c, argv):
    where = argv[2].lower()
    if where == b"after":
        after = True
    elif where == b"before":
        after = False
    else:
        raise RespError(errors.SYNTAX)
    key = argv[1]
    v = _get_list(c, key)
    if v is None:
        return 0
    try:
        i = v.index(argv[3])
    except ValueError:
        return -1
    v.insert(i + 1 if after else i, argv[4])
    c.changed(key, NOTIFY_LIST, b"linsert")
    return len(v)


# --- reads -----------------------------------------------------------------------------------------


@command("llen")
def llen_command(c, argv):
    v = _read_list(c, argv[1])
    return 0 if v is None else len(v)


@command("lindex")
def lindex_command(c, argv):
    v = _read_list(c, argv[1])
    if v is None:
        return None
    index = _long(argv[2])
    n = len(v)
    if index < 0:
        index += n
    if 0 <= index < n:
        return v[index]
    return None


def _range(v, start: int, end: int) -> list:
    """addListRangeReply's elements: inclusive indexes, negative from the end."""
    n = len(v)
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        return []
    if end >= n:
        end = n - 1
    if start == 0 and end == n - 1:
        return list(v)
    if start > n - 1 - end:  # nearer the tail: walk from there
        out = list(islice(reversed(v), n - 1 - end, n - start))
        out.reverse()
        return out
    return list(islice(v, start, end + 1))


@command("lrange")
def lrange_command(c, argv):
    start = _long(argv[2])
    end = _long(argv[3])
    v = _read_list(c, argv[1])
    if v is None:
        return []
    return _range(v, start, end)


@command("lpos")
def lpos_command(c, argv):
    elem = argv[2]
    rank = 1
    count = -1  # -1: no COUNT option
    maxlen = 0
    argc = len(argv)
    j = 3
    while j < argc:
        opt = argv[j].lower()
        more = j + 1 < argc
        if opt == b"rank" and more:
            j += 1
            rank = _signed_long(argv[j])
            if rank == 0:
                raise RespError(errors.LPOS_RANK_ZERO)
        elif opt == b"count" and more:
            j += 1
            count = _positive(argv[j], errors.LPOS_COUNT_NEGATIVE)
        elif opt == b"maxlen" and more:
            j += 1
            maxlen = _positive(argv[j], errors.LPOS_MAXLEN_NEGATIVE)
        else:
            raise RespError(errors.SYNTAX)
        j += 1
    v = _read_list(c, argv[1])
    if v is None or elem not in v:
        return [] if count != -1 else None
    n = len(v)
    if rank > 0:
        it = iter(v)
        base, step = 0, 1
    else:
        rank = -rank
        it = reversed(v)
        base, step = n - 1, -1
    if maxlen:
        it = islice(it, maxlen)
    out = []
    matches = 0
    for i, x in enumerate(it):
        if x == elem:
            matches += 1
            if matches >= rank:
                pos = base + step * i
                if count == -1:
                    return pos
                out.append(pos)
                if count and len(out) >= count:
                    break
    return out if count != -1 else None


# --- writes -----------------------------------------------------------------------------------------


@command("lset")
def lset_command(c, argv):
    key = argv[1]
    v = c.db.lookup(key)
    if v is None:
        raise RespError(errors.NO_SUCH_KEY)
    if type(v) is not deque:
        raise RespError(_WRONGTYPE)
    index = _long(argv[2])
    n = len(v)
    if index < 0:
        index += n
    if not 0 <= index < n:
        raise RespError(errors.INDEX_OUT_OF_RANGE)
    v[index] = argv[3]
    c.changed(key, NOTIFY_LIST, b"lset")
    return OK


@command("ltrim")
def ltrim_command(c, argv):
    start = _long(argv[2])
    end = _long(argv[3])
    key = argv[1]
    v = _get_list(c, key)
    if v is None:
        return OK
    n = len(v)
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        ltrim, rtrim = n, 0
    else:
        if end >= n:
            end = n - 1
        ltrim, rtrim = start, n - end - 1
    db = c.db
    if ltrim == n:
        v.clear()
    elif ltrim + rtrim > (n - ltrim - rtrim) * 4:  # keeping a little of a long list: copy it
        kept = list(islice(v, ltrim, n - rtrim))
        v.clear()
        v.extend(kept)
    else:
        for _ in range(ltrim):
            v.popleft()
        for _ in range(rtrim):
            v.pop()
    # Redis counts one change per removed element (none: not replicated) and always notifies
    db.changed(key)
    c.server.dirty += ltrim + rtrim
    c.notify(NOTIFY_LIST, b"ltrim", key)
    if not v:
        db.delete(key)
        c.notify(NOTIFY_GENERIC, b"del", key)
    return OK


@command("lrem")
def lrem_command(c, argv):
    toremove = _signed_long(argv[2])
    elem = argv[3]
    key = argv[1]
    v = _get_list(c, key)
    if v is None or elem not in v:
        return 0
    if toremove == 0:
        kept = [x for x in v if x != elem]
        removed = len(v) - len(kept)
    else:
        limit = toremove if toremove > 0 else -toremove
        kept = []
        removed = 0
        for x in (v if toremove > 0 else reversed(v)):
            if removed < limit and x == elem:
                removed += 1
            else:
                kept.append(x)
        if toremove < 0:
            kept.reverse()
    v.clear()
    v.extend(kept)
    db = c.db
    db.changed(key)
    c.server.dirty += removed
    c.notify(NOTIFY_LIST, b"lrem", key)
    if not v:
        db.delete(key)
        c.notify(NOTIFY_GENERIC, b"del", key)
    return removed


# --- pops ------------------------------------------------------------------------------------------


def _pop_generic(c, argv, head: bool):
    argc = len(argv)
    if argc > 3:
        raise RespError(errors.wrong_arity(argv[0].decode("latin-1").lower()))
    key = argv[1]
    if argc == 3:
        count = _positive(argv[2])
        v = _get_list(c, key)
        if v is None:
            return NULL_ARRAY
        if not count:
            return []
        out = _pop_range(v, head, count)
        _removed(c, key, v, head, len(out))
        return out
    v = _get_list(c, key)
    if v is None:
        return None
    x = v.popleft() if head else v.pop()
    _removed(c, key, v, head, 1)
    return x


@command("lpop")
def lpop_command(c, argv):
    return _pop_generic(c, argv, True)


@command("rpop")
def rpop_command(c, argv):
    return _pop_generic(c, argv, False)


def _mpop_args(argv, numkeys_idx: int):
    """LMPOP/BLMPOP's arguments: (keys, head, count)."""
    numkeys = _range_long(argv[numkeys_idx], 1, _LONG_MAX, errors.NUMKEYS_ZERO)
    where_idx = numkeys_idx + numkeys + 1
    argc = len(argv)
    if where_idx >= argc:
        raise RespError(errors.SYNTAX)
    head = _where(argv[where_idx])
    count = -1
    j = where_idx + 1
    while j < argc:
        if count == -1 and argv[j].lower() == b"count" and j + 1 < argc:
            j += 1
            count = _range_long(argv[j], 1, _LONG_MAX, errors.COUNT_NOT_POSITIVE)
        else:
            raise RespError(errors.SYNTAX)
        j += 1
    return argv[numkeys_idx + 1:where_idx], head, (1 if count == -1 else count)


def _mpop_from(c, key: bytes, v, head: bool, count: int) -> list:
    """Pop up to `count` from one list: `[key, [elements]]`, replicated as [LR]POP key n."""
    out = _pop_range(v, head, count)
    _removed(c, key, v, head, len(out))
    c.propagate_as([b"LPOP" if head else b"RPOP", key, b"%d" % len(out)])
    return [key, out]


@command("lmpop")
def lmpop_command(c, argv):
    keys, head, count = _mpop_args(argv, 1)
    lookup = c.db.lookup
    for key in keys:
        v = lookup(key)
        if v is None:
            continue
        if type(v) is not deque:
            raise RespError(_WRONGTYPE)
        return _mpop_from(c, key, v, head, count)
    return NULL_ARRAY


def _blocking_pop(c, keys, head: bool, timeout_arg: bytes, count: int):
    """blockingPopGenericCommand: count -1 for BLPOP/BRPOP (reply [key, element]), else BLMPOP."""
    timeout = parse_timeout(timeout_arg)
    if retrying_in_vain(c, keys, deque):
        raise Blocked(keys, timeout)
    lookup = c.db.lookup
    for key in keys:
        v = lookup(key)
        if v is None:
            continue
        if type(v) is not deque:
            raise RespError(_WRONGTYPE)
        if count != -1:
            return _mpop_from(c, key, v, head, count)
        x = v.popleft() if head else v.pop()
        _removed(c, key, v, head, 1)
        c.propagate_as([b"LPOP" if head else b"RPOP", key])
        return [key, x]
    if c.deny_blocking:
        return NULL_ARRAY
    raise Blocked(list(dict.fromkeys(keys)), timeout)


@command("blpop")
def blpop_command(c, argv):
    return _blocking_pop(c, argv[1:-1], True, argv[-1], -1)


@command("brpop")
def brpop_command(c, argv):
    return _blocking_pop(c, argv[1:-1], False, argv[-1], -1)


@command("blmpop")
def blmpop_command(c, argv):
    keys, head, count = _mpop_args(argv, 2)
    return _blocking_pop(c, keys, head, argv[1], count)


# --- moves -----------------------------------------------------------------------------------------


def _lmove(c, src: bytes, dst: bytes, from_head: bool, to_head: bool, rewrite=None):
    """lmoveGenericCommand: pop from `src`, push on `dst`; null when `src` is missing."""
    db = c.db
    sv = db.lookup(src)
    if sv is None:
        return None
    if type(sv) is not deque:
        raise RespError(_WRONGTYPE)
    dv = db.lookup(dst)
    if dv is not None and type(dv) is not deque:
        raise RespError(_WRONGTYPE)
    x = sv.popleft() if from_head else sv.pop()
    if dv is None:
        dv = deque()
        db.add(dst, dv)
    if to_head:
        dv.appendleft(x)
    else:
        dv.append(x)
    c.changed(dst, NOTIFY_LIST, b"lpush" if to_head else b"rpush")
    # the pop side: its event, the source deleted once empty (one change for the whole move)
    db.changed(src)
    c.notify(NOTIFY_LIST, b"lpop" if from_head else b"rpop", src)
    if not sv:
        db.delete(src)
        c.notify(NOTIFY_GENERIC, b"del", src)
    if rewrite is not None:
        c.propagate_as(rewrite)
    return x


@command("lmove")
def lmove_command(c, argv):
    from_head = _where(argv[3])
    to_head = _where(argv[4])
    return _lmove(c, argv[1], argv[2], from_head, to_head)


@command("rpoplpush")
def rpoplpush_command(c, argv):
    return _lmove(c, argv[1], argv[2], False, True)


def _blocking_move(c, argv, from_head: bool, to_head: bool, timeout: float, rewrite: list):
    src = argv[1]
    if retrying_in_vain(c, (src,), deque):
        raise Blocked([src], timeout)
    if _get_list(c, src) is None:
        if c.deny_blocking:
            return None  # a null bulk here, but a null array when a blocked BLMOVE times out
        raise Blocked([src], timeout)
    return _lmove(c, src, argv[2], from_head, to_head, rewrite)


@command("blmove")
def blmove_command(c, argv):
    from_head = _where(argv[3])
    to_head = _where(argv[4])
    timeout = parse_timeout(argv[5])
    return _blocking_move(c, argv, from_head, to_head, timeout, [b"LMOVE", argv[1], argv[2], argv[3], argv[4]])


@command("brpoplpush")
def brpoplpush_command(c, argv):
    timeout = parse_timeout(argv[3])
    return _blocking_move(c, argv, False, True, timeout, [b"RPOPLPUSH", argv[1], argv[2]])
