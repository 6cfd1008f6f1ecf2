"""SORT and SORT_RO (sort.c): lists, sets and sorted sets; BY and GET patterns (`*`, `#`,
`->field`), LIMIT, ASC/DESC, ALPHA, STORE.

Numeric sorting reads every weight as C's strtod does (leading blanks, hex, inf; trailing bytes,
NaN or overflow make "One or more scores can't be converted into double"), breaks ties by the
element bytes, and sorts stably, as glibc's qsort does, so equal weights keep Redis's order.
"""
from __future__ import annotations

import re
from collections import deque

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError

from ..args import parse_int
from ..keyspace import NOTIFY_GENERIC, NOTIFY_LIST
from ..structures.zset import ZSet
from . import command
from .keys import lookup_read

_DEC = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?")
_INF = re.compile(rb"[+-]?(?:inf|infinity)", re.I)
_DBL_MIN = 2.2250738585072014e-308


def strtod_score(b: bytes):
    """The weight of an element as sortCommand reads it, or None for a conversion error."""
    if b"\x00" in b:
        b = b[:b.index(b"\x00")]  # strtod stops at the C string's end
    if not b:
        return 0.0
    s = b.lstrip(b" \t\n\v\f\r")
    if _DEC.fullmatch(s):
        v = float(s)
        digits = s.lower().split(b"e")[0]
    elif _HEX.fullmatch(s):
        neg = s[:1] == b"-"
        v = float.fromhex(s.decode())
        if neg and v == 0:
            v = -0.0
        digits = s.lower().split(b"p")[0][s.lower().index(b"x") + 1:]
    elif _INF.fullmatch(s):
        return float(s.decode())
    else:
        return None  # nothing parsed, trailing bytes, or NaN
    if v in (float("inf"), float("-inf")):
        return None  # ERANGE: overflow
    if abs(v) < _DBL_MIN and any(ch in b"123456789abcdef" for ch in digits):
        return None  # ERANGE: underflow
    return v


def lookup_by_pattern(c, pattern: bytes, subst: bytes):
    """lookupKeyByPattern: `#` is the element itself; the first `*` is replaced by the element;
    `key->field` reads a hash field. None when missing, of another type, or no `*`."""
    if pattern == b"#":
        return subst
    star = pattern.find(b"*")
    if star < 0:
        return None
    arrow = pattern.find(b"->", star + 1)
    field = None
    if arrow >= 0 and arrow + 2 < len(pattern):
        field = pattern[arrow + 2:]
        key = pattern[:star] + subst + pattern[star + 1:arrow]
    else:
        key = pattern[:star] + subst + pattern[star + 1:]
    v = lookup_read(c, key)
    if v is None:
        return None
    if field is not None:
        if type(v) is not dict:
            return None
        return v.get(field)
    if type(v) is not bytes:
        return None
    return v


def _sort_generic(c, argv, readonly: bool):
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    sortby = storekey = None
    gets = []
    n = len(argv)
    j = 2
    while j < n:
        opt = argv[j].lower()
        left = n - j - 1
        if opt == b"asc":
            desc = False
        elif opt == b"desc":
            desc = True
        elif opt == b"alpha":
            alpha = True
        elif opt == b"limit" and left >= 2:
            limit_start = parse_int(argv[j + 1])
            limit_count = parse_int(argv[j + 2])
            j += 2
        elif not readonly and opt == b"store" and left >= 1:
            storekey = argv[j + 1]
            j += 1
        elif opt == b"by" and left >= 1:
            sortby = argv[j + 1]
            dontsort = b"*" not in sortby
            j += 1
        elif opt == b"get" and left >= 1:
            gets.append(argv[j + 1])
            j += 1
        else:
            raise RespError(errors.SYNTAX)
        j += 1

    v = lookup_read(c, argv[1])
    t = type(v)
    if v is not None and t is not deque and t is not set and t is not ZSet:
        raise RespError(errors.WRONGTYPE)
    if v is None:
        v, t = deque(), deque
    if dontsort and t is set and storekey is not None:
        dontsort, alpha, sortby = False, True, None  # a set's order is not reproducible: sort it

    size = len(v)
    start = min(max(limit_start, 0), size)
    limit_count = min(max(limit_count, -1), size)
    end = size - 1 if limit_count < 0 else start + limit_count - 1
    if start >= size:
        start, end = size - 1, size - 2
    if end >= size:
        end = size - 1

    if dontsort and t is not set:
        # the native order (reversed for DESC), just the range asked for
        if end >= start:
            if t is deque:
                seq = reversed(v) if desc else iter(v)
                items = []
                for k, ele in enumerate(seq):
                    if k > end:
                        break
                    if k >= start:
                        items.append(ele)
            else:
                if desc:
                    items = [m for _, m in _take(v.iter_from(size - 1 - start, reverse=True), end - start + 1)]
                else:
                    items = [m for _, m in _take(v.iter_from(start), end - start + 1)]
            end -= start
            start = 0
        else:
            items = []
    else:
        if t is ZSet:
            items = list(v.d)
        else:
            items = list(v)
        if not dontsort:
            items = _sorted(c, items, sortby, alpha, desc)
    count = end - start + 1 if end >= start else 0
    selected = items[start:start + count] if count else []

    if storekey is None:
        if not gets:
            return selected
        out = []
        for ele in selected:
            for pattern in gets:
                out.append(lookup_by_pattern(c, pattern, ele))
        return out
    result = deque()
    for ele in selected:
        if not gets:
            result.append(ele)
        else:
            for pattern in gets:
                val = lookup_by_pattern(c, pattern, ele)
                result.append(b"" if val is None else val)
    db = c.db
    if result:
        db.set(storekey, result)
        c.changed(storekey, NOTIFY_LIST, b"sortstore")
        c.server.dirty += len(result) - 1
    elif db.delete(storekey):
        c.changed(storekey, NOTIFY_GENERIC, b"del")
    return len(result)


def _take(it, k: int) -> list:
    out = []
    for x in it:
        if len(out) >= k:
            break
        out.append(x)
    return out


def _sorted(c, items: list, sortby, alpha: bool, desc: bool) -> list:
    if alpha:
        if sortby is None:
            return sorted(items, reverse=desc)
        keyed = []
        for ele in items:
            w = lookup_by_pattern(c, sortby, ele)
            keyed.append(((0, b"") if w is None else (1, w), ele))
        keyed.sort(key=lambda p: p[0], reverse=desc)
        return [ele for _, ele in keyed]
    keyed = []
    bad = False
    for ele in items:
        if sortby is not None:
            w = lookup_by_pattern(c, sortby, ele)
            if w is None:
                keyed.append((0.0, ele))
                continue
        else:
            w = ele
        score = strtod_score(w)
        if score is None:
            bad = True
            score = 0.0
        keyed.append((score, ele))
    if bad:
        raise RespError(errors.SORT_NOT_DOUBLE)
    keyed.sort(reverse=desc)
    return [ele for _, ele in keyed]


@command("sort")
def sort_command(c, argv):
    return _sort_generic(c, argv, False)


@command("sort_ro")
def sort_ro_command(c, argv):
    return _sort_generic(c, argv, True)
