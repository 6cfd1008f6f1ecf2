"""The cursor mechanism of SCAN, HSCAN, SSCAN and ZSCAN.

Redis walks its hash tables by bucket with a reverse-binary cursor, which needs no state and still
returns every element that is present for the whole scan. A Python dict or set cannot be walked
from a position, and any insertion may reorder it, so the emulator keeps state instead:

- A scan's first call (cursor 0) takes a **snapshot**: a list of the collection's elements at that
  moment. Every element present for the whole scan is in it. Later calls walk the snapshot by
  offset; an element is returned only if it is still in the collection (deleted ones are skipped,
  added ones may or may not show up: both allowed by Redis's contract).
- The snapshot is kept in a small LRU per server, under an id. The cursor encodes both:
  `cursor = id << 32 | offset` (id in 1..2**31-1, so a cursor is never 0 mid-scan and always
  fits a signed 64-bit integer, for clients that parse it as one). It is sent as a decimal bulk
  string, as Redis does.
- When a cursor names no snapshot (evicted from the LRU, from before a restart, made up by the
  client, or one of another collection: each snapshot remembers its scope, e.g. db and key), the
  scan **restarts** with a fresh snapshot from offset 0. That may return elements twice (Redis may
  too) but never loses one that was present for the whole scan, so the guarantee holds.
- The last batch answers cursor 0 and drops the snapshot. A collection no larger than COUNT, or
  one the caller says is small (Redis's listpack/intset encodings, which Redis returns whole), is
  answered in one call with cursor 0 and no snapshot.
- COUNT is the number of snapshot entries examined per call (a hint, as in Redis); MATCH filters
  after fetching, so a call may return fewer elements, or none, with a non-zero cursor.

The LRU holds at most `MAX_SNAPSHOTS` snapshots and about `MAX_ELEMENTS` elements in all, but
always keeps the `KEEP_RECENT` most recently used, so that a few concurrent scans of a very large
keyspace cannot keep evicting each other. A snapshot unused for `IDLE_SECONDS` (an abandoned scan)
is dropped whenever a new one is taken.

API for the command families:

- `parse_cursor(arg)` -> int, or RespError "ERR invalid cursor" (Redis 7.4's string2ull).
- `parse_options(argv, start, keyspace=False, hash_novalues=False)` -> (count, matcher, type, novalues).
- `scan_step(c, scope, cursor, collection, count, small=False)` -> (next_cursor, batch): batch is a
  list of candidate elements; the caller drops the ones no longer present and applies MATCH.
- `scan_generic(c, argv, cursor, collection, scope, values=None, small=False, hash_novalues=False)`:
  the whole reply of HSCAN/SSCAN/ZSCAN once the caller has parsed the cursor and looked the key up.
  `collection` supports len(), iteration and `in`; `values(element)` gives the bytes to send after
  each element (HSCAN's value, ZSCAN's score), or None for SSCAN.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict
from time import monotonic

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import string2ll

from .glob import glob_matcher

MAX_SNAPSHOTS = 256
MAX_ELEMENTS = 16_000_000
KEEP_RECENT = 16
IDLE_SECONDS = 300.0
_ID_LIMIT = 1 << 31
_OFFSET_BITS = 32
_OFFSET_MASK = (1 << _OFFSET_BITS) - 1
_ULLONG_MAX = (1 << 64) - 1
_SPACES = b" \t\n\v\f\r"


def parse_cursor(arg: bytes) -> int:
    """string2ull as Redis 7.4 reads a cursor: a strict integer, else strtoull (leading spaces,
    a sign, leading zeros allowed; a '-' wraps around), up to 2**64-1."""
    nul = arg.find(b"\0")
    if nul != -1:
        arg = arg[:nul]  # the C string ends there
    v = string2ll(arg)
    if v is not None:
        if v < 0:
            raise RespError(errors.INVALID_CURSOR)
        return v
    s = arg.lstrip(_SPACES)
    neg = False
    if s[:1] in (b"+", b"-"):
        neg = s[:1] == b"-"
        s = s[1:]
    if not s or not s.isdigit():
        raise RespError(errors.INVALID_CURSOR)
    v = int(s) if len(s) < 100 else _ULLONG_MAX + 1
    if v > _ULLONG_MAX:
        raise RespError(errors.INVALID_CURSOR)
    return (-v) & _ULLONG_MAX if neg else v


_TYPE_NAMES = frozenset([b"string", b"list", b"set", b"zset", b"hash", b"stream"])


def parse_options(argv: list, start: int, keyspace: bool = False, hash_novalues: bool = False):
    """COUNT, MATCH, TYPE (SCAN only), NOVALUES (HSCAN only), in Redis's order of checks.

    Returns (count, matcher or None, type name or None, novalues). An unknown TYPE name is no error
    in 7.4: it matches nothing."""
    count = 10
    matcher = None
    typename = None
    novalues = False
    i = start
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        more = n - i >= 2
        if opt == b"count" and more:
            v = string2ll(argv[i + 1])
            if v is None:
                raise RespError(errors.NOT_INTEGER)
            if v < 1:
                raise RespError(errors.SYNTAX)
            count = v
            i += 2
        elif opt == b"match" and more:
            pat = argv[i + 1]
            matcher = None if pat == b"*" else glob_matcher(pat)
            i += 2
        elif opt == b"type" and keyspace and more:
            typename = argv[i + 1].lower()
            i += 2
        elif opt == b"novalues":
            if not hash_novalues:
                raise RespError(errors.SCAN_NOVALUES)
            novalues = True
            i += 1
        else:
            raise RespError(errors.SYNTAX)
    return count, matcher, typename, novalues


class _Snapshot:
    __slots__ = ("scope", "items", "used")

    def __init__(self, scope, items):
        self.scope = scope
        self.items = items
        self.used = monotonic()


class ScanCache:
    """The snapshots of the scans in progress on one server (an LRU)."""

    __slots__ = ("snapshots", "next_id", "elements", "__weakref__")

    def __init__(self):
        self.snapshots: OrderedDict = OrderedDict()
        self.next_id = 1
        self.elements = 0

    def add(self, scope, items: list) -> int:
        sid = self.next_id
        while sid in self.snapshots:
            sid = sid + 1 if sid + 1 < _ID_LIMIT else 1
        self.next_id = sid + 1 if sid + 1 < _ID_LIMIT else 1
        self.snapshots[sid] = _Snapshot(scope, items)
        self.elements += len(items)
        self._trim()
        return sid

    def get(self, sid: int):
        snap = self.snapshots.get(sid)
        if snap is not None:
            self.snapshots.move_to_end(sid)
            snap.used = monotonic()
        return snap

    def drop(self, sid: int) -> None:
        snap = self.snapshots.pop(sid, None)
        if snap is not None:
            self.elements -= len(snap.items)

    def _trim(self) -> None:
        snaps = self.snapshots
        idle_before = monotonic() - IDLE_SECONDS
        while snaps:
            oldest = next(iter(snaps.values()))
            if oldest.used >= idle_before and (len(snaps) <= KEEP_RECENT or (
                    len(snaps) <= MAX_SNAPSHOTS and self.elements <= MAX_ELEMENTS)):
                break
            snaps.popitem(last=False)
            self.elements -= len(oldest.items)


_caches: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def cache_of(server) -> ScanCache:
    cache = _caches.get(server)
    if cache is None:
        cache = _caches[server] = ScanCache()
    return cache


def scan_step(c, scope, cursor: int, collection, count: int, small: bool = False):
    """One step of a scan: (next cursor, the elements to consider in this call)."""
    if small:
        return 0, list(collection)
    cache = cache_of(c.server)
    snap = None
    if cursor:
        sid = cursor >> _OFFSET_BITS
        snap = cache.get(sid)
        if snap is not None and snap.scope != scope:
            snap = None
        offset = cursor & _OFFSET_MASK
    if snap is None:  # a new scan, or a restart
        if len(collection) <= count:
            return 0, list(collection)
        items = list(collection)
        sid = cache.add(scope, items)
        offset = 0
    else:
        items = snap.items
    end = offset + count
    batch = items[offset:end]
    if end >= len(items):
        cache.drop(sid)
        return 0, batch
    return sid << _OFFSET_BITS | end, batch


def scan_generic(c, argv: list, cursor: int, collection, scope, values=None, small: bool = False,
                 hash_novalues: bool = False) -> list:
    """The reply of HSCAN/SSCAN/ZSCAN (options start after the cursor, argv[3])."""
    count, matcher, _, novalues = parse_options(argv, 3, False, hash_novalues)
    nxt, batch = scan_step(c, scope, cursor, collection, count, small)
    out = []
    for el in batch:
        if el not in collection:
            continue
        if matcher is not None and not matcher(el):
            continue
        out.append(el)
        if values is not None and not novalues:
            out.append(values(el))
    return [b"%d" % nxt, out]
