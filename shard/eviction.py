"""maxmemory and the eviction policies, as Redis's evict.c does them.

**Used memory for eviction.** The process's RSS (INFO's used_memory) moves slowly and never shrinks
after a delete, so eviction cannot steer by it. Instead the keyspace keeps an accounting of the
dataset: every key's estimated size (its key and value allocations as MEMORY USAGE estimates them,
containers sampled, so a write costs O(1) however large the value) is recorded when the key changes
(`Database.changed`, which every write goes through) and dropped when it goes. `used()` is that sum
plus STARTUP_MEMORY, a fixed stand-in for what an empty redis-server uses (its used_memory at start);
INFO's used_memory reports it while maxmemory is set.
So with maxmemory 50mb and 100 KB values (112 KB allocations), about 440 keys stay.

**Access clock.** LRU and LFU need each key's last access. The clock lives in `Database.access`
(key -> value) and is updated on lookup only while needed: a database switches class
(`Database` -> `LRUDatabase` / `LFUDatabase`, the same slots) when a policy or OBJECT IDLETIME/FREQ
needs it, so a shard with maxmemory 0 and noeviction pays nothing on its hot path. Values stored:
LRU: the ms time of the last access; LFU: Redis's 24 bits, (minutes << 8) | log counter.

**Choosing a victim.** As Redis: the *-lru/-lfu/volatile-ttl policies sample `maxmemory-samples`
keys per database into a 16-entry eviction pool kept sorted by idle score, and evict the best entry
that still exists; the *-random policies take a random key, visiting the databases in turn. Python
dicts cannot be sampled at random, so each database keeps a snapshot list of its keys (renewed when
it is used up or mostly stale) to draw random keys from.
"""
from __future__ import annotations

from collections import deque
from random import random, randrange

from .keyspace import NOTIFY_EVICTED, Database

STARTUP_MEMORY = 1 << 20  # an empty redis-server's used_memory, roughly
EVPOOL_SIZE = 16
LFU_INIT_VAL = 5
DICT_ENTRY = 24
LRU_POLICIES = ("volatile-lru", "allkeys-lru")
LFU_POLICIES = ("volatile-lfu", "allkeys-lfu")


# --- sizes --------------------------------------------------------------------------------------
def estimate(server, key: bytes, value) -> int:
    """The key's allocations, roughly as MEMORY USAGE counts them, in O(1) for large containers."""
    if type(value) is bytes:  # the common case, inline: an embstr or raw sds value, its key, an entry
        n = len(value)
        k = len(key)
        if n <= 44 and k < 256:  # an embstr and a short key: two table lookups
            return _EMBSTR_SIZE[n] + _KEY_SIZE[k]
        v = _alloc(20 + n) if n <= 44 else 16 + _alloc(n + (4 if n < 256 else 6 if n < 65536 else 10))
        return v + _alloc(k + (4 if k < 256 else 6 if k < 65536 else 10)) + DICT_ENTRY
    return _estimate_container(server, key, value)


def _alloc(n: int) -> int:
    if n <= 128:
        return (n + 15) & ~15 if n > 8 else 8
    step = (1 << (n - 1).bit_length()) >> 3
    return (n + step - 1) // step * step


_EMBSTR_SIZE = tuple(_alloc(20 + n) for n in range(45))  # a value of n <= 44 bytes, object and sds in one
_KEY_SIZE = tuple(_alloc(k + 4) + DICT_ENTRY for k in range(256))  # a key's sds (8-bit header) and entry


def _estimate_container(server, key: bytes, value) -> int:
    from .handlers.introspection import sds_size, value_size

    t = type(value)
    try:
        n = len(value)
    except TypeError:
        n = 1
    if n <= 128:
        return value_size(server, value, 5) + sds_size(key) + DICT_ENTRY
    # a large container: n elements at the size of a few sampled ones
    if t is deque:
        sample = (value[0], value[n // 2], value[-1])
    elif t is dict:
        it = iter(value.items())
        sample = [k + v for k, v in (next(it), next(it), next(it))]
    elif t is set:
        it = iter(value)
        sample = (next(it), next(it), next(it))
    else:
        usage = getattr(value, "memory_usage", None)
        if usage is not None and n <= 4096:
            return usage() + sds_size(key) + DICT_ENTRY
        return 96 + n * 64 + sds_size(key) + DICT_ENTRY
    per = sum(len(s) for s in sample) // 3 + 32
    return 96 + n * per + 8 * n + sds_size(key) + DICT_ENTRY


# --- LFU -----------------------------------------------------------------------------------------
def lfu_minutes(server) -> int:
    return (server.now_ms // 60000) & 65535


def lfu_time_elapsed(server, ldt: int) -> int:
    now = lfu_minutes(server)
    return now - ldt if now >= ldt else 65535 - ldt + now


def lfu_decr(server, packed: int) -> int:
    """LFUDecrAndReturn: the counter after the decay periods elapsed since its last decrement."""
    counter = packed & 255
    decay = server.eviction.lfu_decay_time
    if decay:
        periods = lfu_time_elapsed(server, (packed >> 8) & 65535) // decay
        if periods:
            counter = 0 if periods > counter else counter - periods
    return counter


# --- the tracked databases ------------------------------------------------------------------------
class AccountedDatabase(Database):
    """A database that keeps its dataset's size (for maxmemory) and an access clock per key."""

    __slots__ = ()

    def changed(self, key: bytes) -> None:
        Database.changed(self, key)
        v = self.data.get(key)
        if v is None:
            old = self.sizes.pop(key, 0)
            self.mem -= old
            self.server.eviction.dataset -= old
            self.access.pop(key, None)
            return
        self.account(key, v)
        if key not in self.access:
            self.access[key] = self.new_clock()

    def account(self, key: bytes, value) -> None:
        """The key's size, now `value` is stored there, in the database's and the dataset's."""
        sizes = self.sizes
        old = sizes.get(key, 0)
        new = estimate(self.server, key, value)
        if new != old:  # (a SET signals twice: the second finds nothing to do)
            sizes[key] = new
            self.mem += new - old
            self.server.eviction.dataset += new - old

    def add(self, key: bytes, value) -> None:
        Database.add(self, key, value)
        self.access[key] = self.new_clock()
        new = self.sizes[key] = estimate(self.server, key, value)
        self.mem += new
        self.server.eviction.dataset += new

    def expire_now(self, key: bytes) -> None:
        Database.expire_now(self, key)  # calls changed: the size and clock go

    def flush(self) -> int:
        n = Database.flush(self)
        self.server.eviction.dataset -= self.mem
        self.sizes = {}
        self.access = {}
        self.mem = 0
        self.sample_keys = []
        return n

    def new_clock(self) -> int:
        return self.server.now_ms


class LRUDatabase(AccountedDatabase):
    __slots__ = ()

    def lookup(self, key: bytes):
        v = self.data.get(key)
        if v is None:
            return None
        server = self.server
        if self.expires and key in self.expires and self.expires[key] < server.now_ms:
            if server.is_replica:
                return None
            self.expire_now(key)
            return None
        self.access[key] = server.now_ms
        return v


class LFUDatabase(AccountedDatabase):
    __slots__ = ()

    def lookup(self, key: bytes):
        v = self.data.get(key)
        if v is None:
            return None
        server = self.server
        now = server.now_ms
        if self.expires and key in self.expires and self.expires[key] < now:
            if server.is_replica:
                return None
            self.expire_now(key)
            return None
        # updateLFU: decay by the periods elapsed, then the logarithmic increment
        access = self.access
        packed = access.get(key)
        minutes = (now // 60000) & 65535
        if packed is None:
            counter = LFU_INIT_VAL
        else:
            counter = packed & 255
            ldt = (packed >> 8) & 65535  # masked: an LRU clock left from another policy
            decay = server.eviction.lfu_decay_time
            if decay and ldt != minutes:
                periods = (minutes - ldt if minutes >= ldt else 65535 - ldt + minutes) // decay
                counter = 0 if periods > counter else counter - periods
        if counter < 255:
            base = counter - LFU_INIT_VAL
            if base <= 0 or random() * (base * server.eviction.lfu_log_factor + 1) < 1.0:
                counter += 1
        access[key] = (minutes << 8) | counter
        return v

    def new_clock(self) -> int:
        return (lfu_minutes(self.server) << 8) | LFU_INIT_VAL


# --- the policy ------------------------------------------------------------------------------------
class Eviction:
    """The server's eviction state: policy, the pool, counters. `server.eviction`."""

    def __init__(self, server):
        self.server = server
        self.policy = "noeviction"
        self.samples = 5
        self.lfu_log_factor = 10
        self.lfu_decay_time = 1
        self.pool: list = []  # (score, dbid, key), best (highest score) last
        self.next_db = 0
        self.object_asked = False  # OBJECT IDLETIME/FREQ was used: keep clocks from now on
        self.tracking_since = server.now_ms
        self.dataset = 0  # the estimated size of every key of every database (see the module doc)

    @property
    def lfu(self) -> bool:
        return self.policy in LFU_POLICIES

    def configure(self) -> None:
        """Choose the databases' class for the current maxmemory/policy (called on CONFIG SET)."""
        server = self.server
        cfg = server.config.values
        self.policy = cfg.get("maxmemory-policy", "noeviction")
        self.samples = int(cfg.get("maxmemory-samples", 5))
        self.lfu_log_factor = int(cfg.get("lfu-log-factor", 10))
        self.lfu_decay_time = int(cfg.get("lfu-decay-time", 1))
        self.pool = []
        if self.lfu:
            cls = LFUDatabase
        elif self.policy in LRU_POLICIES or self.object_asked:
            cls = LRUDatabase
        elif server.maxmemory:
            cls = AccountedDatabase
        else:
            cls = Database
        for db in getattr(server, "dbs", ()):
            if db.__class__ is cls:
                continue
            was_accounted = isinstance(db, AccountedDatabase)
            db.__class__ = cls
            if cls is not Database and not was_accounted:
                self._account_all(db)
            elif cls is Database:
                db.sizes = {}
                db.access = {}
                db.mem = 0
        self.dataset = sum(db.mem for db in getattr(server, "dbs", ()))

    def _account_all(self, db) -> None:
        server = self.server
        sizes = {}
        total = 0
        for key, v in db.data.items():
            s = sizes[key] = estimate(server, key, v)
            total += s
        db.sizes = sizes
        db.mem = total
        clock = db.new_clock()
        db.access = dict.fromkeys(db.data, clock)

    def need_clock(self) -> None:
        """OBJECT IDLETIME/FREQ: keep access clocks from now on."""
        if not self.object_asked:
            self.object_asked = True
            self.tracking_since = self.server.now_ms
            self.configure()

    def used(self) -> int:
        return STARTUP_MEMORY + self.dataset

    # --- choosing and evicting ----------------------------------------------------------------
    def _random_keys(self, db, source: dict, n: int) -> list:
        """Up to n keys drawn at random from `source` (data or expires) through the db's snapshot."""
        if len(source) <= n:
            return list(source)
        snap = db.sample_keys
        if len(snap) < len(source) // 2 or len(snap) > 2 * len(source) + 16:
            snap = db.sample_keys = list(source)
        out = []
        for attempt in (0, 1):
            tries = 0
            while len(out) < n and snap and tries < 4 * n:
                tries += 1
                i = randrange(len(snap))
                key = snap[i]
                if key in source:
                    out.append(key)
                else:  # gone: drop it from the snapshot
                    snap[i] = snap[-1]
                    snap.pop()
            if len(out) >= n:
                break
            snap = db.sample_keys = list(source)  # mostly stale: renew it
        return out

    def _score(self, db, key: bytes) -> int:
        policy = self.policy
        if policy.endswith("-ttl"):
            return (1 << 64) - 1 - db.expires.get(key, 0)
        clock = db.access.get(key)
        if policy.endswith("-lfu"):
            return 255 - (LFU_INIT_VAL if clock is None else lfu_decr(self.server, clock))
        return self.server.now_ms - (self.tracking_since if clock is None else clock)

    def _populate(self, db, source: dict) -> None:
        pool = self.pool
        for key in self._random_keys(db, source, self.samples):
            entry = (self._score(db, key), db.id, key)
            if any(p[1] == db.id and p[2] == key for p in pool):
                continue
            if len(pool) >= EVPOOL_SIZE:
                if entry[0] <= pool[0][0]:
                    continue
                pool.pop(0)
            # keep sorted ascending by score (best last)
            i = len(pool)
            while i > 0 and pool[i - 1][0] > entry[0]:
                i -= 1
            pool.insert(i, entry)

    def pick(self):
        """The (db, key) to evict, or None when no key qualifies."""
        server = self.server
        policy = self.policy
        allkeys = policy.startswith("allkeys")
        if policy.endswith("-random"):
            n = len(server.dbs)
            for _ in range(n):
                self.next_db = (self.next_db + 1) % n
                db = server.dbs[self.next_db]
                source = db.data if allkeys else db.expires
                if source:
                    keys = self._random_keys(db, source, 1)
                    if keys:
                        return db, keys[0]
            return None
        while True:
            total = 0
            for db in server.dbs:
                source = db.data if allkeys else db.expires
                if source:
                    total += len(source)
                    self._populate(db, source)
            if not total:
                return None
            pool = self.pool
            while pool:
                _, dbid, key = pool.pop()
                db = server.dbs[dbid]
                if key in (db.data if allkeys else db.expires):
                    return db, key

    def evict(self, db, key: bytes) -> None:
        """Delete `key` as an eviction: DEL to replicas, the `evicted` event, INFO evicted_keys."""
        server = self.server
        db.delete(key)
        server.stat_evicted_keys += 1
        server.propagate(db.id, [b"DEL", key])
        server.notify(NOTIFY_EVICTED, b"evicted", key, db.id)

    def perform(self) -> bool:
        """performEvictions: free memory until under maxmemory. False when still over (EVICT_FAIL)."""
        server = self.server
        maxmemory = server.maxmemory
        if server.is_replica and server.config.values.get("replica-ignore-maxmemory", "yes") == "yes":
            return True
        used = self.used()
        if used <= maxmemory:
            return True
        if self.policy == "noeviction":
            return False
        while used > maxmemory:
            victim = self.pick()
            if victim is None:
                return False
            self.evict(*victim)
            used = self.used()
        return True


def reject_oom(c, entry, name: bytes) -> bool:
    """The OOM step of processCommand (only called when maxmemory is set): evict, then whether
    this command must be refused. A command queued in MULTI is refused like a direct one; EXEC is
    refused when a queued command would be."""
    server = c.server
    if STARTUP_MEMORY + server.eviction.dataset <= server.maxmemory or c.is_master:
        return False  # the common case, at once
    out_of_memory = not server.eviction.perform()
    if not out_of_memory:
        return False
    if entry.denyoom:
        return True
    if name == b"exec" and c.multi:
        return any(e.denyoom for e, _ in c.multi)
    return False


def peek_clock(c, key: bytes):
    """OBJECT's lookup (LOOKUP_NOTOUCH): (value or None, the key's access clock or None)."""
    c.server.eviction.need_clock()
    db = c.db
    clock = db.access.get(key)
    value = db.lookup(key)
    if value is not None and clock is not None:
        db.access[key] = clock  # the lookup must not count as an access
    return value, clock
