"""The keyspace: per database, a dict of values and a dict of expiry times (ms since the epoch).

Values are plain Python objects, one type per Redis type:

| Redis type | Python value |
| --- | --- |
| string | bytes |
| list | collections.deque of bytes |
| hash | dict bytes -> bytes |
| set | set of bytes |
| zset | structures.zset.ZSet |
| stream | structures.stream.Stream |

Expiry is lazy (a read of an expired key deletes it, on a primary) plus an active cycle
(`active_expire_cycle`). Every modification goes through `Database.changed` (or `Client.changed`,
which also counts it and sends the keyspace notification): it invalidates WATCHes and wakes
clients blocked on the key.
"""
from __future__ import annotations

from collections import deque
from time import monotonic

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError

from .structures.stream import Stream

# notify-keyspace-events classes (Redis's NOTIFY_* bits)
NOTIFY_KEYSPACE = 1 << 0  # K
NOTIFY_KEYEVENT = 1 << 1  # E
NOTIFY_GENERIC = 1 << 2  # g
NOTIFY_STRING = 1 << 3  # $
NOTIFY_LIST = 1 << 4  # l
NOTIFY_SET = 1 << 5  # s
NOTIFY_HASH = 1 << 6  # h
NOTIFY_ZSET = 1 << 7  # z
NOTIFY_EXPIRED = 1 << 8  # x
NOTIFY_EVICTED = 1 << 9  # e
NOTIFY_STREAM = 1 << 10  # t
NOTIFY_KEY_MISS = 1 << 11  # m
NOTIFY_LOADED = 1 << 12  # module only
NOTIFY_MODULE = 1 << 13  # d
NOTIFY_NEW = 1 << 14  # n
NOTIFY_ALL = (NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET
              | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE)  # A

_FLAG_CHARS = [("A", NOTIFY_ALL), ("g", NOTIFY_GENERIC), ("$", NOTIFY_STRING), ("l", NOTIFY_LIST),
               ("s", NOTIFY_SET), ("h", NOTIFY_HASH), ("z", NOTIFY_ZSET), ("x", NOTIFY_EXPIRED),
               ("e", NOTIFY_EVICTED), ("K", NOTIFY_KEYSPACE), ("E", NOTIFY_KEYEVENT), ("t", NOTIFY_STREAM),
               ("m", NOTIFY_KEY_MISS), ("d", NOTIFY_MODULE), ("n", NOTIFY_NEW)]


def keyspace_events_from_string(s: str) -> int | None:
    flags = 0
    chars = dict(_FLAG_CHARS)
    for ch in s:
        if ch not in chars:
            return None
        flags |= chars[ch]
    return flags


def keyspace_events_to_string(flags: int) -> str:
    out = ""
    if flags & NOTIFY_ALL == NOTIFY_ALL:
        out += "A"
    else:
        for ch, bit in _FLAG_CHARS[1:9] + [("t", NOTIFY_STREAM), ("d", NOTIFY_MODULE)]:
            if flags & bit:
                out += ch
    for ch, bit in (("K", NOTIFY_KEYSPACE), ("E", NOTIFY_KEYEVENT), ("m", NOTIFY_KEY_MISS), ("n", NOTIFY_NEW)):
        if flags & bit:
            out += ch
    return out


TYPE_NAMES = {bytes: b"string", deque: b"list", dict: b"hash", set: b"set", Stream: b"stream"}


def type_name(value) -> bytes:
    name = TYPE_NAMES.get(type(value))
    if name is None:
        name = getattr(value, "TYPE_NAME", b"none")
    return name


class Database:
    """One numbered database of a shard."""

    # access/sizes/mem/sample_keys: used by eviction.py's subclasses (same slots, so a database can
    # switch class when a maxmemory policy needs access clocks or a dataset size)
    __slots__ = ("id", "server", "data", "expires", "watched", "blocking", "avg_ttl", "access", "sizes", "mem",
                 "sample_keys")

    def __init__(self, server, dbid: int):
        self.id = dbid
        self.server = server
        self.data: dict = {}
        self.expires: dict = {}
        self.watched: dict = {}  # key -> set of clients WATCHing it
        self.blocking: dict = {}  # key -> deque of clients blocked on it (FIFO)
        self.avg_ttl = 0
        self.access: dict = {}
        self.sizes: dict = {}
        self.mem = 0
        self.sample_keys: list = []

    # --- reads ---------------------------------------------------------------------------
    def lookup(self, key: bytes):
        """The value of `key`, or None if missing or expired (an expired key is deleted on a primary)."""
        v = self.data.get(key)
        if v is not None and self.expires and key in self.expires:
            if self.expires[key] < self.server.now_ms:  # keyIsExpired: now > when
                if self.server.is_replica:
                    # replicas wait for the primary's DEL and hide the key, except from the primary's
                    # own stream, for which it still exists (Redis's expireIfNeeded for the master client)
                    return v if self.server.applying_master else None
                self.expire_now(key)
                return None
        return v

    def lookup_typed(self, key: bytes, typ):
        """The value of `key` if it is of Python type `typ`; None if missing; WRONGTYPE otherwise."""
        v = self.lookup(key)
        if v is not None and type(v) is not typ:
            raise RespError(errors.WRONGTYPE)
        return v

    def exists(self, key: bytes) -> bool:
        return self.lookup(key) is not None

    def ttl_ms(self, key: bytes) -> int:
        """Milliseconds left: -2 if the key does not exist, -1 if it has no expiry."""
        if self.lookup(key) is None:
            return -2
        when = self.expires.get(key)
        if when is None:
            return -1
        return max(0, when - self.server.now_ms)

    def get_expire(self, key: bytes) -> int:
        """The absolute expiry in ms, or -1."""
        return self.expires.get(key, -1)

    # --- writes --------------------------------------------------------------------------
    def add(self, key: bytes, value) -> None:
        """Store a new key (it must not exist): dbAdd, with its `new` notification."""
        self.data[key] = value
        if key in self.blocking:
            self.server.ready_keys[(self, key)] = None
        if self.server.notify_flags & NOTIFY_NEW:
            self.server.notify(NOTIFY_NEW, b"new", key, self.id)

    def set(self, key: bytes, value, keep_ttl: bool = False) -> None:
        """setKey: store `value`, dropping any expiry unless keep_ttl. The caller signals the change
        (`Client.changed`, which invalidates WATCHes as `changed` does)."""
        data = self.data
        if key not in data:
            if self.blocking and key in self.blocking:
                self.server.ready_keys[(self, key)] = None
            if self.server.notify_flags & NOTIFY_NEW:
                self.server.notify(NOTIFY_NEW, b"new", key, self.id)
        elif self.blocking and key in self.blocking:  # overwritten: wake XREADGROUP (a deleted key)
            self.server.ready_keys[(self, key)] = None
        data[key] = value
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)

    def delete(self, key: bytes) -> bool:
        """Delete `key` if it exists (not checking expiry); signals the change."""
        if self.data.pop(key, None) is None:
            return False
        if self.expires:
            self.expires.pop(key, None)
        if self.blocking and key in self.blocking:  # signalDeletedKeyAsReady (XREADGROUP wakes)
            self.server.ready_keys[(self, key)] = None
        self.changed(key)
        return True

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms

    def persist(self, key: bytes) -> bool:
        return self.expires.pop(key, None) is not None

    def changed(self, key: bytes) -> None:
        """signalModifiedKey: invalidate the WATCHes of `key`.

        A key already expired when it was WATCHed and now deleted is no logical change (as Redis).
        Client-side caching invalidates the key (trackingInvalidateKey)."""
        tracking = self.server.tracking
        if tracking is not None:
            tracking.invalidate(key)
        if self.watched:
            clients = self.watched.get(key)
            if clients:
                gone = key not in self.data
                for c in clients:
                    if gone and any(w[0] is self and w[1] == key and w[2] for w in c.watched):
                        continue
                    c.dirty_cas = True

    def signal_ready(self, key: bytes) -> None:
        """Wake the clients blocked on `key` (after this command) to try again."""
        if key in self.blocking:
            self.server.ready_keys[(self, key)] = None

    def expire_now(self, key: bytes) -> None:
        """Delete an expired key as Redis does: a DEL for replicas, an `expired` notification."""
        self.data.pop(key, None)
        self.expires.pop(key, None)
        if self.blocking and key in self.blocking:
            self.server.ready_keys[(self, key)] = None
        server = self.server
        server.stat_expired_keys += 1
        self.changed(key)
        server.notify(NOTIFY_EXPIRED, b"expired", key, self.id)
        if server.propagating:
            server.propagate(self.id, [b"DEL", key])

    def flush(self) -> int:
        """Remove every key; every WATCH of an existing key is invalidated. The number removed."""
        n = len(self.data)
        for key in self.blocking:
            if key in self.data:
                self.server.ready_keys[(self, key)] = None
        if self.watched:
            for key, clients in self.watched.items():
                if key in self.data:
                    for c in clients:
                        c.dirty_cas = True
        self.data = {}
        self.expires = {}
        return n


class ExpiryCycle:
    """Redis's active expire cycle: walk the volatile keys a slice at a time, within a time budget.

    Python's dict offers no random sampling, so the cycle takes a snapshot of the volatile keys and
    visits it in slices, taking a fresh snapshot when one is used up: every volatile key is checked
    once per pass, in bounded steps.
    """

    __slots__ = ("server", "db_index", "snapshot", "pos", "enabled")

    def __init__(self, server):
        self.server = server
        self.db_index = 0
        self.snapshot: list = []
        self.pos = 0
        self.enabled = True

    def run(self, budget_s: float = 0.025, slice_len: int = 200) -> int:
        """One cycle; returns the number of keys expired."""
        if not self.enabled or self.server.is_replica:
            return 0
        server = self.server
        server.update_clock()
        now = server.now_ms
        deadline = monotonic() + budget_s
        expired = 0
        dbs = server.dbs
        for _ in range(len(dbs)):
            db = dbs[self.db_index]
            expires = db.expires
            if not expires:
                db.avg_ttl = 0
            else:
                while True:
                    if self.pos >= len(self.snapshot):
                        self.snapshot = list(expires)
                        self.pos = 0
                    chunk = self.snapshot[self.pos:self.pos + slice_len]
                    self.pos += slice_len
                    hit = 0
                    ttl_sum = ttl_samples = 0
                    for key in chunk:
                        when = expires.get(key)
                        if when is not None:
                            if when < now:
                                db.expire_now(key)
                                hit += 1
                            elif when > now:
                                ttl_sum += when - now
                                ttl_samples += 1
                    if ttl_samples:  # INFO keyspace's avg_ttl: a running estimate, as Redis's
                        avg = ttl_sum // ttl_samples
                        db.avg_ttl = avg if db.avg_ttl == 0 else db.avg_ttl // 50 * 49 + avg // 50
                    expired += hit
                    # keep going while many keys were stale, like Redis's 25% rule
                    if self.pos >= len(self.snapshot) or hit * 4 < len(chunk) or monotonic() > deadline:
                        break
            if monotonic() > deadline:
                break
            if self.pos >= len(self.snapshot) or not expires:
                self.db_index = (self.db_index + 1) % len(dbs)
                self.snapshot = []
                self.pos = 0
        return expired
