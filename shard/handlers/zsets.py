"""Sorted set commands (t_zset.c), Redis 7.4 semantics.

A zset is a structures.zset.ZSet. Scores are Python floats and are replied as floats: a bulk string
in RESP2, a double in RESP3, written the 7.2+ way (resp.format_double).

Reply shapes with scores, as 7.4 sends them:

| command | RESP2 | RESP3 |
| --- | --- | --- |
| ZRANGE... WITHSCORES, ZUNION/ZINTER/ZDIFF WITHSCORES, ZRANDMEMBER WITHSCORES | flat member, score | [member, score] pairs |
| ZPOPMIN/ZPOPMAX without count | flat [member, score] | flat |
| ZPOPMIN/ZPOPMAX with count | flat | [member, score] pairs |
| BZPOPMIN/BZPOPMAX | [key, member, score] | same |
| ZMPOP/BZMPOP | [key, [[member, score], ...]] | same |
| ZRANK/ZREVRANK WITHSCORE | [rank, score] | same |
| ZSCAN | scores as bulk strings | same |

Encoding-dependent behaviour is followed where Redis shows it: a listpack-encoded zset (see
ZSet.big) answers lex ranges by a linear walk (which differs from a bisection only when scores are
mixed), stores -0.0 as 0, and takes no negative LIMIT offset; a skiplist-encoded one in 7.4 takes a
negative offset as counting back from the end of the range (zslNthInRange).
"""
from __future__ import annotations

import random
import re

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import NULL_ARRAY, format_double, string2ll

from ..args import parse_double_strict, parse_timeout
from ..dispatch import Blocked, retrying_in_vain
from ..keyspace import NOTIFY_GENERIC, NOTIFY_ZSET
from ..scan import parse_cursor, scan_generic
from ..structures.zset import ZSet
from . import command
from .keys import lookup_read

_LONG_MAX = 2**63 - 1

# --- arguments ------------------------------------------------------------------------------------


def _get(c, key: bytes):
    v = c.db.lookup(key)
    if v is not None and type(v) is not ZSet:
        raise RespError(errors.WRONGTYPE)
    return v


def _read(c, key: bytes):
    """lookupKeyRead: as _get, counting hits/misses and sending `keymiss`."""
    v = lookup_read(c, key)
    if v is not None and type(v) is not ZSet:
        raise RespError(errors.WRONGTYPE)
    return v


def _parse_score(b: bytes) -> float:
    """getDoubleFromObject (string2d): a double, 'inf' allowed, no NaN, no spaces, no overflow."""
    try:
        v = float(b)
    except ValueError:
        v = parse_double_strict(b)  # hex floats, or garbage
    else:
        # float() is laxer than strtod (underscores, surrounding spaces, nan, overflow to inf)
        if not (v - v == 0.0 and v and b[0] > 32 and b[-1] > 32 and b"_" not in b):
            v = parse_double_strict(b)
    if v is None:
        raise RespError(errors.NOT_FLOAT)
    return v


_STRTOD = re.compile(
    rb"[ \t\n\v\f\r]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?"
    rb"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)\Z", re.I)


def _strtod(b: bytes):
    """strtod over a whole C string, as zslParseRange reads a bound: leading spaces, hex, overflow to
    infinity and the empty string (0) are fine; anything left over, or NaN, is not. None if invalid."""
    nul = b.find(b"\0")
    if nul != -1:
        b = b[:nul]
    if not b:
        return 0.0
    if _STRTOD.match(b) is None:
        return None
    s = b.strip(b" \t\n\v\f\r")
    low = s.lower()
    if b"nan" in low:
        return None
    if b"x" in low:
        try:
            return float.fromhex(s.decode())
        except OverflowError:
            return float("-inf") if s[:1] == b"-" else float("inf")
    return float(s)


def _parse_range(bmin: bytes, bmax: bytes):
    """zslParseRange: (min, minex, max, maxex), or the error 'min or max is not a float'."""
    minex = bmin[:1] == b"("
    lo = _strtod(bmin[1:] if minex else bmin)
    maxex = bmax[:1] == b"("
    hi = _strtod(bmax[1:] if maxex else bmax)
    if lo is None or hi is None:
        raise RespError(errors.MIN_MAX_NOT_FLOAT)
    return lo, minex, hi, maxex


# A lex bound is (kind, value, exclusive): kind -1 is "-" (below everything), 1 is "+", 0 a string.
def _lex_item(b: bytes):
    c0 = b[:1]
    if c0 == b"+" or c0 == b"-":
        if len(b) > 1 and b[1] != 0:
            return None
        return (1 if c0 == b"+" else -1), b"", True
    if c0 == b"(":
        return 0, b[1:], True
    if c0 == b"[":
        return 0, b[1:], False
    return None


def _parse_lex(bmin: bytes, bmax: bytes):
    lo = _lex_item(bmin)
    hi = _lex_item(bmax)
    if lo is None or hi is None:
        raise RespError(errors.MIN_MAX_NOT_STRING_RANGE)
    return lo, hi


def _cmplex(a, b) -> int:
    """sdscmplex over two bounds."""
    if a[0] == b[0] and a[0]:
        return 0
    if a[0] == -1 or b[0] == 1:
        return -1
    if a[0] == 1 or b[0] == -1:
        return 1
    return (a[1] > b[1]) - (a[1] < b[1])


def _gte_min(m: bytes, lo) -> bool:
    kind = lo[0]
    if kind:
        return kind < 0
    return m > lo[1] if lo[2] else m >= lo[1]


def _lte_max(m: bytes, hi) -> bool:
    kind = hi[0]
    if kind:
        return kind > 0
    return m < hi[1] if hi[2] else m <= hi[1]


def _lex_empty(lo, hi) -> bool:
    cmp = _cmplex(lo, hi)
    return cmp > 0 or (cmp == 0 and (lo[2] or hi[2]))


def _parse_long(b: bytes) -> int:
    v = string2ll(b)
    if v is None:
        raise RespError(errors.NOT_INTEGER)
    return v


# --- positions of ranges --------------------------------------------------------------------------


def _score_bounds(z: ZSet, spec):
    """(lo, hi): the positions [lo, hi) of the elements whose score is in the range."""
    mn, minex, mx, maxex = spec
    lo = z.count_below(mn, minex)
    hi = z.count_below(mx, not maxex)
    return lo, hi


def _lex_bounds(z: ZSet, lo, hi):
    """(first, end) positions of the members in a lex range, by bisection (members in order)."""
    n = len(z)
    if lo[0]:
        a = 0 if lo[0] < 0 else n
    else:
        a = z.count_lex_below(lo[1], lo[2])
    if hi[0]:
        b = n if hi[0] > 0 else 0
    else:
        b = z.count_lex_below(hi[1], not hi[2])
    return a, b


def _window(z: ZSet, lo: int, hi: int, offset: int, limit: int, reverse: bool):
    """The elements of the in-range positions [lo, hi) that LIMIT offset count selects, as
    (first, count): from `first` upwards, or downwards when reverse. Negative offsets as 7.4 takes
    them: nothing for a listpack, counted back from the range's end for a skiplist."""
    if limit == 0 or lo >= hi:
        return 0, 0
    if not reverse:
        if offset >= 0:
            first = lo + offset
        elif z.big:
            first = hi + offset
            if first < lo:
                return 0, 0
        else:
            return 0, 0
        if first >= hi:
            return 0, 0
        count = hi - first
    else:
        if offset >= 0:
            first = hi - 1 - offset
        elif z.big:
            first = lo - offset - 1
            if first >= hi:
                return 0, 0
        else:
            return 0, 0
        if first < lo:
            return 0, 0
        count = first - lo + 1
    if 0 < limit < count:
        count = limit
    return first, count


def _lex_walk(z: ZSet, lo, hi, offset: int, limit: int, reverse: bool):
    """A listpack's lex range: a linear walk, exactly as zzlFirstInLexRange and the loops after it
    (it differs from a bisection only when the scores are not all equal). (first, count) as _window."""
    if limit == 0 or _lex_empty(lo, hi):
        return 0, 0
    ms = list(z)
    n = len(ms)
    if not n or not _gte_min(ms[-1], lo) or not _lte_max(ms[0], hi):
        return 0, 0
    if offset < 0:
        return 0, 0
    if not reverse:
        i = 0
        while i < n and not _gte_min(ms[i], lo):
            i += 1
        if i == n or not _lte_max(ms[i], hi):
            return 0, 0
        i += offset
        first = i
        while i < n and limit and _lte_max(ms[i], hi):
            i += 1
            limit -= 1
        return first, i - first
    i = n - 1
    while i >= 0 and not _lte_max(ms[i], hi):
        i -= 1
    if i < 0 or not _gte_min(ms[i], lo):
        return 0, 0
    i -= offset
    first = i
    while i >= 0 and limit and _gte_min(ms[i], lo):
        i -= 1
        limit -= 1
    return first, first - i


def _lex_select(z: ZSet, lo, hi, offset: int = 0, limit: int = -1, reverse: bool = False):
    if not z.big:
        return _lex_walk(z, lo, hi, offset, limit, reverse)
    if _lex_empty(lo, hi):
        return 0, 0
    a, b = _lex_bounds(z, lo, hi)
    return _window(z, a, b, offset, limit, reverse)


def _take(z: ZSet, first: int, count: int, reverse: bool):
    """(scores, members) of a selection, in reply order."""
    if not count:
        return [], []
    if not reverse:
        return z.slice(first, first + count)
    scores, members = z.slice(first - count + 1, first + 1)
    scores.reverse()
    members.reverse()
    return scores, members


# --- replies ---------------------------------------------------------------------------------------


def _with_scores(c, members: list, scores: list) -> list:
    """WITHSCORES: a flat array in RESP2, [member, score] pairs in RESP3."""
    if c.resp == 2:
        out = [None] * (2 * len(members))
        out[0::2] = members
        out[1::2] = scores
        return out
    return [[m, s] for m, s in zip(members, scores)]


def _pairs(members: list, scores: list) -> list:
    return [[m, s] for m, s in zip(members, scores)]


def _store(c, dst: bytes, z: ZSet | None, event: bytes) -> int:
    """Write a store command's result: the key (dropping its TTL), or its deletion when empty."""
    db = c.db
    if z is not None and len(z):
        z.fit_encoding(c.server)
        db.set(dst, z)
        c.changed(dst, NOTIFY_ZSET, event)
        return len(z)
    if db.delete(dst):
        c.changed(dst, NOTIFY_GENERIC, b"del")
    return 0


def _removed(c, key: bytes, z: ZSet, event: bytes) -> None:
    """After elements were removed: the event, and the key's deletion when it is empty."""
    if not len(z):
        c.db.delete(key)
        c.changed(key, NOTIFY_ZSET, event)
        c.notify(NOTIFY_GENERIC, b"del", key)
    else:
        c.changed(key, NOTIFY_ZSET, event)


# --- ZADD / ZINCRBY --------------------------------------------------------------------------------

_NX, _XX, _GT, _LT, _INCR, _CH = 1, 2, 4, 8, 16, 32
_ZADD_OPTS = {b"nx": _NX, b"xx": _XX, b"gt": _GT, b"lt": _LT, b"incr": _INCR, b"ch": _CH}
_NUMERIC_START = frozenset(b"0123456789+-.")


@command("zadd")
def zadd_command(c, argv):
    sarg = argv[2]
    if len(argv) == 4 and sarg and sarg[0] in _NUMERIC_START:
        # the hot path: ZADD key score member
        score = _parse_score(sarg)
        key = argv[1]
        member = argv[3]
        db = c.db
        z = db.lookup(key)
        if z is None:
            z = ZSet()
            z.grow_hint(1, len(member), c.server)
            z.add(member, score)
            db.add(key, z)
            c.changed(key, NOTIFY_ZSET, b"zadd")
            return 1
        if type(z) is not ZSet:
            raise RespError(errors.WRONGTYPE)
        old = z.d.get(member)
        if old is None:
            if not z.big:
                z.grow_hint(1, 0, c.server)
                z.check_insert(member, c.server)
            z.add(member, score)
            c.changed(key, NOTIFY_ZSET, b"zadd")
            return 1
        if not z.big:
            z.grow_hint(1, 0, c.server)
        if old != score:
            z.update(member, old, score)
            c.changed(key, NOTIFY_ZSET, b"zadd")
        return 0
    return zadd_generic(c, argv, 0)


@command("zincrby")
def zincrby_command(c, argv):
    return zadd_generic(c, argv, _INCR)


def zadd_generic(c, argv, flags: int):
    """ZADD and ZINCRBY (zaddGenericCommand)."""
    i = 2
    n = len(argv)
    while i < n:
        f = _ZADD_OPTS.get(argv[i].lower())
        if f is None:
            break
        flags |= f
        i += 1
    elements = n - i
    if elements % 2 or not elements:
        raise RespError(errors.SYNTAX)
    elements //= 2
    nx = flags & _NX
    xx = flags & _XX
    gt = flags & _GT
    lt = flags & _LT
    incr = flags & _INCR
    if nx and xx:
        raise RespError(errors.ZADD_XX_AND_NX)
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise RespError(errors.ZADD_GT_LT_NX)
    if incr and elements > 1:
        raise RespError(errors.ZADD_INCR_PAIR)
    scores = [_parse_score(argv[j]) for j in range(i, n, 2)]
    key = argv[1]
    db = c.db
    z = db.lookup(key)
    if z is not None and type(z) is not ZSet:
        raise RespError(errors.WRONGTYPE)
    server = c.server
    if z is None:
        if xx:
            return None if incr else 0
        z = ZSet()
        z.grow_hint(elements, len(argv[i + 1]), server)
        db.add(key, z)
    else:
        z.grow_hint(elements, 0, server)
    added = updated = processed = 0
    score = 0.0
    d = z.d
    error = None
    for j in range(elements):
        score = scores[j]
        member = argv[i + 1 + 2 * j]
        cur = d.get(member)
        if cur is not None:
            if nx:
                continue
            if incr:
                score += cur
                if score != score:
                    error = errors.ZSET_NAN
                    break
            if (lt and score >= cur) or (gt and score <= cur):
                continue
            processed += 1
            if score != cur:
                z.update(member, cur, score)
                updated += 1
        elif not xx:
            if not z.big:
                z.check_insert(member, server)
            z.add(member, score)
            added += 1
            processed += 1
    if added or updated:
        c.changed(key, NOTIFY_ZSET, b"zincr" if incr else b"zadd")
    if error is not None:
        raise RespError(error)
    if incr:
        return score if processed else None
    return added + updated if flags & _CH else added


# --- removal ------------------------------------------------------------------------------------


@command("zrem")
def zrem_command(c, argv):
    key = argv[1]
    z = _get(c, key)
    if z is None:
        return 0
    deleted = 0
    remove = z.remove
    for j in range(2, len(argv)):
        if remove(argv[j]) is not None:
            deleted += 1
            if not len(z):
                break
    if deleted:
        _removed(c, key, z, b"zrem")
    return deleted


def _zremrange_generic(c, argv, kind: str):
    key = argv[1]
    if kind == "rank":
        start = _parse_long(argv[2])
        end = _parse_long(argv[3])
    elif kind == "score":
        spec = _parse_range(argv[2], argv[3])
    else:
        lo, hi = _parse_lex(argv[2], argv[3])
    z = _get(c, key)
    if z is None:
        return 0
    n = len(z)
    if kind == "rank":
        if start < 0:
            start += n
        if end < 0:
            end += n
        if start < 0:
            start = 0
        if start > end or start >= n:
            return 0
        if end >= n:
            end = n - 1
        a, b = start, end + 1
    elif kind == "score":
        a, b = _score_bounds(z, spec)
    else:
        first, count = _lex_select(z, lo, hi)
        a, b = first, first + count
    if a >= b:
        return 0
    z.remove_range(a, b)
    _removed(c, key, z, b"zremrangeby" + kind.encode())
    return b - a


@command("zremrangebyrank")
def zremrangebyrank_command(c, argv):
    return _zremrange_generic(c, argv, "rank")


@command("zremrangebyscore")
def zremrangebyscore_command(c, argv):
    return _zremrange_generic(c, argv, "score")


@command("zremrangebylex")
def zremrangebylex_command(c, argv):
    return _zremrange_generic(c, argv, "lex")


# --- single reads ---------------------------------------------------------------------------------


@command("zcard")
def zcard_command(c, argv):
    z = _read(c, argv[1])
    return 0 if z is None else len(z.d)


@command("zscore")
def zscore_command(c, argv):
    z = _read(c, argv[1])
    if z is None:
        return None
    return z.d.get(argv[2])


@command("zmscore")
def zmscore_command(c, argv):
    z = _read(c, argv[1])
    if z is None:
        return [None] * (len(argv) - 2)
    get = z.d.get
    return [get(m) for m in argv[2:]]


def _zrank_generic(c, argv, reverse: bool):
    n = len(argv)
    if n > 4:
        raise RespError(errors.wrong_arity("zrevrank" if reverse else "zrank"))
    withscore = False
    if n == 4:
        if argv[3].lower() != b"withscore":
            raise RespError(errors.SYNTAX)
        withscore = True
    z = _read(c, argv[1])
    if z is None:
        return NULL_ARRAY if withscore else None
    r = z.rank(argv[2])
    if r is None:
        return NULL_ARRAY if withscore else None
    if reverse:
        r = len(z.d) - 1 - r
    if withscore:
        return [r, z.d[argv[2]]]
    return r


@command("zrank")
def zrank_command(c, argv):
    return _zrank_generic(c, argv, False)


@command("zrevrank")
def zrevrank_command(c, argv):
    return _zrank_generic(c, argv, True)


@command("zcount")
def zcount_command(c, argv):
    spec = _parse_range(argv[2], argv[3])
    z = _read(c, argv[1])
    if z is None:
        return 0
    lo, hi = _score_bounds(z, spec)
    return hi - lo if hi > lo else 0


@command("zlexcount")
def zlexcount_command(c, argv):
    lo, hi = _parse_lex(argv[2], argv[3])
    z = _read(c, argv[1])
    if z is None:
        return 0
    return _lex_select(z, lo, hi)[1]


# --- ZRANGE and friends ---------------------------------------------------------------------------

_RANK, _SCORE, _LEX = 1, 2, 3


def zrange_generic(c, argv, start: int, store: bool, rangetype: int = 0, reverse=None):
    """ZRANGE, ZRANGESTORE and the older Z[REV]RANGE[BYSCORE|BYLEX] (zrangeGenericCommand).
    `start` is the index of the source key. Returns the reply (a list, or the stored count)."""
    withscores = False
    offset = 0
    limit = -1
    n = len(argv)
    j = start + 3
    while j < n:
        opt = argv[j].lower()
        left = n - j - 1
        if not store and opt == b"withscores":
            withscores = True
        elif opt == b"limit" and left >= 2:
            offset = _parse_long(argv[j + 1])
            limit = _parse_long(argv[j + 2])
            j += 2
        elif reverse is None and opt == b"rev":
            reverse = True
        elif not rangetype and opt == b"bylex":
            rangetype = _LEX
        elif not rangetype and opt == b"byscore":
            rangetype = _SCORE
        else:
            raise RespError(errors.SYNTAX)
        j += 1
    reverse = bool(reverse)
    if not rangetype:
        rangetype = _RANK
    if limit != -1 and rangetype == _RANK:
        raise RespError(errors.ZRANGE_LIMIT_NEEDS_BY)
    if withscores and rangetype == _LEX:
        raise RespError(errors.ZRANGE_WITHSCORES_BYLEX)
    bmin = argv[start + 1]
    bmax = argv[start + 2]
    if reverse and rangetype != _RANK:
        bmin, bmax = bmax, bmin
    if rangetype == _RANK:
        rstart = _parse_long(bmin)
        rend = _parse_long(bmax)
    elif rangetype == _SCORE:
        spec = _parse_range(bmin, bmax)
    else:
        lo, hi = _parse_lex(bmin, bmax)
    key = argv[start]
    z = lookup_read(c, key)
    if z is None:
        if store:
            return _store(c, argv[1], None, b"zrangestore")
        return []
    if type(z) is not ZSet:
        raise RespError(errors.WRONGTYPE)
    if rangetype == _RANK:
        llen = len(z.d)
        if rstart < 0:
            rstart += llen
        if rend < 0:
            rend += llen
        if rstart < 0:
            rstart = 0
        if rstart > rend or rstart >= llen:
            first = count = 0
        else:
            if rend >= llen:
                rend = llen - 1
            count = rend - rstart + 1
            first = llen - 1 - rstart if reverse else rstart
    elif rangetype == _SCORE:
        if offset > 0 and offset >= len(z.d):
            first = count = 0
        else:
            a, b = _score_bounds(z, spec)
            first, count = _window(z, a, b, offset, limit, reverse)
    else:
        first, count = _lex_select(z, lo, hi, offset, limit, reverse)
    if store:
        if not count:
            return _store(c, argv[1], None, b"zrangestore")
        a = first - count + 1 if reverse else first
        scores, members = z.slice(a, a + count)
        return _store(c, argv[1], ZSet.from_sorted(scores, members), b"zrangestore")
    if not count:
        return []
    scores, members = _take(z, first, count, reverse)
    if withscores:
        return _with_scores(c, members, scores)
    return members


@command("zrange")
def zrange_command(c, argv):
    if len(argv) == 4:
        # the common ZRANGE key start stop
        rstart = string2ll(argv[2])
        rend = string2ll(argv[3])
        if rstart is not None and rend is not None:
            z = lookup_read(c, argv[1])
            if z is None:
                return []
            if type(z) is not ZSet:
                raise RespError(errors.WRONGTYPE)
            llen = len(z.d)
            if rstart < 0:
                rstart += llen
            if rend < 0:
                rend += llen
            if rstart < 0:
                rstart = 0
            if rstart > rend or rstart >= llen:
                return []
            if rend >= llen:
                rend = llen - 1
            return z.slice(rstart, rend + 1)[1]
    return zrange_generic(c, argv, 1, False)


@command("zrangestore")
def zrangestore_command(c, argv):
    return zrange_generic(c, argv, 2, True)


@command("zrevrange")
def zrevrange_command(c, argv):
    return zrange_generic(c, argv, 1, False, _RANK, True)


@command("zrangebyscore")
def zrangebyscore_command(c, argv):
    return zrange_generic(c, argv, 1, False, _SCORE, False)


@command("zrevrangebyscore")
def zrevrangebyscore_command(c, argv):
    return zrange_generic(c, argv, 1, False, _SCORE, True)


@command("zrangebylex")
def zrangebylex_command(c, argv):
    return zrange_generic(c, argv, 1, False, _LEX, False)


@command("zrevrangebylex")
def zrevrangebylex_command(c, argv):
    return zrange_generic(c, argv, 1, False, _LEX, True)


# --- ZUNION / ZINTER / ZDIFF ---------------------------------------------------------------------

_UNION, _INTER, _DIFF = 0, 1, 2
_SUM, _MIN, _MAX = 0, 1, 2
_AGGREGATES = {b"sum": _SUM, b"min": _MIN, b"max": _MAX}
_STORE_EVENTS = (b"zunionstore", b"zinterstore", b"zdiffstore")


class _Src:
    """One input of a set operation: a zset, a set (every score 1) or a missing key (empty)."""

    __slots__ = ("value", "weight", "n")

    def __init__(self, value):
        self.value = value
        self.weight = 1.0
        self.n = 0 if value is None else len(value)

    def items(self):
        v = self.value
        if type(v) is ZSet:
            return v.items()
        return ((m, 1.0) for m in v)

    def get(self, member):
        v = self.value
        if type(v) is ZSet:
            return v.d.get(member)
        return 1.0 if member in v else None


def _aggregate(target: float, val: float, how: int) -> float:
    if how == _SUM:
        target += val
        return 0.0 if target != target else target
    if how == _MIN:
        return val if val < target else target
    return val if val > target else target


def zsetop_generic(c, argv, numkeys_idx: int, op: int, dst=None, card_only: bool = False):
    """ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD (zunionInterDiffGenericCommand)."""
    setnum = _parse_long(argv[numkeys_idx])
    if setnum < 1:
        raise RespError(errors.ZSET_NEEDS_KEY.format(argv[0].decode("latin-1").lower()))
    n = len(argv)
    if setnum > n - (numkeys_idx + 1):
        raise RespError(errors.SYNTAX)
    db = c.db
    srcs = []
    j = numkeys_idx + 1
    for _ in range(setnum):
        v = lookup_read(c, argv[j])
        if v is not None and type(v) is not ZSet and type(v) is not set:
            raise RespError(errors.WRONGTYPE)
        srcs.append(_Src(v))
        j += 1
    how = _SUM
    withscores = False
    limit = 0
    while j < n:
        remaining = n - j
        opt = argv[j].lower()
        if op != _DIFF and not card_only and remaining >= setnum + 1 and opt == b"weights":
            j += 1
            for src in srcs:
                w = parse_double_strict(argv[j])
                if w is None:
                    raise RespError(errors.ZSET_WEIGHT_NOT_FLOAT)
                src.weight = w
                j += 1
        elif op != _DIFF and not card_only and remaining >= 2 and opt == b"aggregate":
            a = _AGGREGATES.get(argv[j + 1].lower())
            if a is None:
                raise RespError(errors.SYNTAX)
            how = a
            j += 2
        elif remaining >= 1 and dst is None and not card_only and opt == b"withscores":
            withscores = True
            j += 1
        elif card_only and remaining >= 2 and opt == b"limit":
            v = string2ll(argv[j + 1])
            if v is None or v < 0:
                raise RespError(errors.ZSET_LIMIT_NEGATIVE)
            limit = v
            j += 2
        else:
            raise RespError(errors.SYNTAX)
    if op != _DIFF:
        srcs.sort(key=lambda s: s.n)  # smallest first, as Redis orders them
    result: dict = {}
    if op == _INTER:
        first = srcs[0]
        if first.n:
            others = srcs[1:]
            w0 = first.weight
            cardinality = 0
            for member, s0 in first.items():
                score = w0 * s0
                if score != score:
                    score = 0.0
                for src in others:
                    if src.value is first.value:
                        val = s0 * src.weight
                    else:
                        val = src.get(member)
                        if val is None:
                            break
                        val *= src.weight
                    score = _aggregate(score, val, how)
                else:
                    if card_only:
                        cardinality += 1
                        if limit and cardinality >= limit:
                            break
                    else:
                        result[member] = score
            if card_only:
                return cardinality
        elif card_only:
            return 0
    elif op == _UNION:
        for src in srcs:
            if not src.n:
                continue
            w = src.weight
            for member, s in src.items():
                score = w * s
                if score != score:
                    score = 0.0
                cur = result.get(member)
                if cur is None:
                    result[member] = score
                else:
                    result[member] = _aggregate(cur, score, how)
    else:
        first = srcs[0]
        if first.n and not any(s.value is first.value for s in srcs[1:]):
            others = [s for s in srcs[1:] if s.n]
            for member, s in first.items():
                for src in others:
                    if src.get(member) is not None:
                        break
                else:
                    result[member] = s
    if dst is not None:
        z = ZSet.from_pairs(result.items()) if result else None
        return _store(c, dst, z, _STORE_EVENTS[op])
    items = sorted(result.items(), key=_by_score)
    members = [m for m, _ in items]
    if not withscores:
        return members
    return _with_scores(c, members, [s for _, s in items])


def _by_score(item):
    return item[1], item[0]


@command("zunion")
def zunion_command(c, argv):
    return zsetop_generic(c, argv, 1, _UNION)


@command("zinter")
def zinter_command(c, argv):
    return zsetop_generic(c, argv, 1, _INTER)


@command("zdiff")
def zdiff_command(c, argv):
    return zsetop_generic(c, argv, 1, _DIFF)


@command("zintercard")
def zintercard_command(c, argv):
    return zsetop_generic(c, argv, 1, _INTER, card_only=True)


@command("zunionstore")
def zunionstore_command(c, argv):
    return zsetop_generic(c, argv, 2, _UNION, dst=argv[1])


@command("zinterstore")
def zinterstore_command(c, argv):
    return zsetop_generic(c, argv, 2, _INTER, dst=argv[1])


@command("zdiffstore")
def zdiffstore_command(c, argv):
    return zsetop_generic(c, argv, 2, _DIFF, dst=argv[1])


# --- popping ---------------------------------------------------------------------------------------


def _pop(c, key: bytes, z: ZSet, maximum: bool, count: int):
    """Remove up to `count` elements from one end: (members, scores), with the notifications."""
    n = len(z.d)
    if count > n:
        count = n
    if maximum:
        scores, members = z.slice(n - count, n)
        scores.reverse()
        members.reverse()
    else:
        scores, members = z.slice(0, count)
    if count == 1:
        if maximum:
            z.pop_last()
        else:
            z.pop_first()
    elif maximum:
        z.remove_range(n - count, n)
    else:
        z.remove_range(0, count)
    _removed(c, key, z, b"zpopmax" if maximum else b"zpopmin")
    return members, scores


def _zpop_command(c, argv, maximum: bool):
    n = len(argv)
    if n > 3:
        raise RespError(errors.SYNTAX)
    count = -1
    if n == 3:
        count = string2ll(argv[2])
        if count is None or count < 0:
            raise RespError(errors.OUT_OF_RANGE_POSITIVE)
    key = argv[1]
    z = _get(c, key)
    if z is None or count == 0:
        return []
    members, scores = _pop(c, key, z, maximum, 1 if count == -1 else count)
    if c.resp == 2 or count == -1:
        out = [None] * (2 * len(members))
        out[0::2] = members
        out[1::2] = scores
        return out
    return _pairs(members, scores)


@command("zpopmin")
def zpopmin_command(c, argv):
    return _zpop_command(c, argv, False)


@command("zpopmax")
def zpopmax_command(c, argv):
    return _zpop_command(c, argv, True)


def _bzpop(c, argv, maximum: bool):
    timeout = parse_timeout(argv[-1])
    keys = argv[1:-1]
    if retrying_in_vain(c, keys, ZSet):
        raise Blocked(list(dict.fromkeys(keys)), timeout)
    for key in keys:
        z = _get(c, key)
        if z is None or not len(z.d):
            continue
        members, scores = _pop(c, key, z, maximum, 1)
        c.propagate_as([b"ZPOPMAX" if maximum else b"ZPOPMIN", key])
        return [key, members[0], scores[0]]
    if c.deny_blocking:
        return NULL_ARRAY
    raise Blocked(list(dict.fromkeys(keys)), timeout, None)


@command("bzpopmin")
def bzpopmin_command(c, argv):
    return _bzpop(c, argv, False)


@command("bzpopmax")
def bzpopmax_command(c, argv):
    return _bzpop(c, argv, True)


def zmpop_generic(c, argv, numkeys_idx: int, block: bool):
    """ZMPOP and BZMPOP (zmpopGenericCommand)."""
    numkeys = string2ll(argv[numkeys_idx])
    if numkeys is None or numkeys < 1:
        raise RespError(errors.NUMKEYS_ZERO)
    n = len(argv)
    where_idx = numkeys_idx + numkeys + 1
    if where_idx >= n:
        raise RespError(errors.SYNTAX)
    where = argv[where_idx].lower()
    if where == b"min":
        maximum = False
    elif where == b"max":
        maximum = True
    else:
        raise RespError(errors.SYNTAX)
    count = -1
    j = where_idx + 1
    while j < n:
        if count == -1 and argv[j].lower() == b"count" and n - 1 - j:
            j += 1
            count = string2ll(argv[j])
            if count is None or count < 1:
                raise RespError(errors.ZSET_COUNT_NOT_POSITIVE)
        else:
            raise RespError(errors.SYNTAX)
        j += 1
    if count == -1:
        count = 1
    if block:
        timeout = parse_timeout(argv[1])
    keys = argv[numkeys_idx + 1:where_idx]
    if block and retrying_in_vain(c, keys, ZSet):
        raise Blocked(list(dict.fromkeys(keys)), timeout, None)
    for key in keys:
        z = _get(c, key)
        if z is None or not len(z.d):
            continue
        popped = min(count, len(z.d))
        members, scores = _pop(c, key, z, maximum, count)
        c.propagate_as([b"ZPOPMAX" if maximum else b"ZPOPMIN", key, b"%d" % popped])
        return [key, _pairs(members, scores)]
    if block and not c.deny_blocking:
        raise Blocked(list(dict.fromkeys(keys)), timeout, None)
    return NULL_ARRAY


@command("zmpop")
def zmpop_command(c, argv):
    return zmpop_generic(c, argv, 1, False)


@command("bzmpop")
def bzmpop_command(c, argv):
    return zmpop_generic(c, argv, 2, True)


# --- ZRANDMEMBER -----------------------------------------------------------------------------------


@command("zrandmember")
def zrandmember_command(c, argv):
    n = len(argv)
    if n >= 3:
        count = string2ll(argv[2])
        if count is None:
            raise RespError(errors.NOT_INTEGER)
        if count < -_LONG_MAX:
            raise RespError(errors.LONG_RANGE)
        withscores = False
        if n > 4 or (n == 4 and argv[3].lower() != b"withscores"):
            raise RespError(errors.SYNTAX)
        if n == 4:
            withscores = True
            if count < -(_LONG_MAX // 2) or count > _LONG_MAX // 2:
                raise RespError(errors.ZSET_VALUE_OUT_OF_RANGE)
        return _zrandmember_count(c, argv[1], count, withscores)
    z = _read(c, argv[1])
    if z is None:
        return None
    return z.at(random.randrange(len(z.d)))[1]


def _zrandmember_count(c, key: bytes, count: int, withscores: bool):
    z = _read(c, key)
    if z is None or count == 0:
        return []
    size = len(z.d)
    if count < 0 or count == 1:
        # with repetitions, in random order
        at = z.at
        picks = [at(random.randrange(size)) for _ in range(-count if count < 0 else 1)]
        members = [m for _, m in picks]
        scores = [s for s, _ in picks]
    elif count >= size:
        # the whole zset, from the highest score down (zuiNext walks a zset backwards)
        scores, members = z.slice(0, size)
        scores.reverse()
        members.reverse()
    else:
        positions = random.sample(range(size), count)
        if not z.big:
            positions.sort()  # a listpack samples unique elements in its own order
        at = z.at
        picks = [at(p) for p in positions]
        members = [m for _, m in picks]
        scores = [s for s, _ in picks]
    if withscores:
        return _with_scores(c, members, scores)
    return members


# --- ZSCAN -----------------------------------------------------------------------------------------


@command("zscan")
def zscan_command(c, argv):
    cursor = parse_cursor(argv[2])
    key = argv[1]
    z = _read(c, key)
    if z is None:
        return [b"0", []]
    d = z.d
    return scan_generic(c, argv, cursor, z, (c.db.id, key, b"zset"), values=lambda m: format_double(d[m]),
                        small=not z.big)
