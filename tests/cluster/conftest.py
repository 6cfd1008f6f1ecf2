"""Caches for failover tests: started through the Python API under a temporary AMR_EMULATOR_HOME, with
the `fast` timing profile; helpers to run a redis-py writer while the cache fails over."""
from __future__ import annotations

import threading
import time

import redis

from tests.helpers import amr_home  # noqa: F401  (the session's AMR_EMULATOR_HOME)


class Writer(threading.Thread):
    """Writes `w:<i>` = i in a loop through one client; records which writes were acknowledged, the
    errors, and the longest time between two acknowledged writes (the unavailability window)."""

    def __init__(self, client, prefix: str = "w"):
        super().__init__(daemon=True)
        self.client = client
        self.prefix = prefix
        self.acked: list[int] = []
        self.acked_at: dict[int, float] = {}   # acknowledged write -> when it was sent
        self.errors: list[str] = []
        self.stop_flag = threading.Event()
        self.max_gap = 0.0
        self.gap_at = 0.0

    def run(self) -> None:
        i = 0
        last = time.monotonic()
        while not self.stop_flag.is_set():
            sent = time.monotonic()
            try:
                self.client.set(f"{self.prefix}:{i}", i)
            except (redis.RedisError, OSError) as e:
                self.errors.append(f"{type(e).__name__}: {e}")
                time.sleep(0.005)
            else:
                now = time.monotonic()
                if now - last > self.max_gap:
                    self.max_gap, self.gap_at = now - last, now
                last = now
                self.acked.append(i)
                self.acked_at[i] = sent   # when the acknowledged write was sent
            i += 1

    def wait_acks(self, n: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        target = len(self.acked) + n
        while len(self.acked) < target:
            assert time.monotonic() < deadline, f"the writer made no progress: {self.errors[-3:]}"
            time.sleep(0.01)

    def finish(self) -> None:
        self.stop_flag.set()
        self.join(10)

    def lost(self, reader) -> list[int]:
        """Acknowledged writes that are not readable."""
        missing = []
        for i in self.acked:
            if reader.get(f"{self.prefix}:{i}") != str(i).encode():
                missing.append(i)
        return missing


def shard_roles(cache) -> dict[int, str | None]:
    """Each shard's own ROLE (master/slave), None for a shard that does not answer."""
    t = cache.topology()
    roles = {}
    for s in t.shards:
        n = t.node(s.node)
        r = redis.Redis(host=n.ip, port=s.port, password=t.internal_password, socket_timeout=0.5,
                        socket_connect_timeout=0.5)
        try:
            roles[s.id] = r.execute_command("ROLE")[0].decode()
        except (redis.RedisError, OSError):
            roles[s.id] = None
        finally:
            r.close()
    return roles


def converged(cache) -> bool:
    """The topology and the shards agree: one primary per partition, the others its replicas."""
    t = cache.topology()
    roles = shard_roles(cache)
    for p in t.partitions:
        if roles.get(p.primary) != "master":
            return False
        if any(roles.get(r) not in ("slave", None) for r in p.replicas):
            return False
        if [s for s in t.shards if s.partition == p.id and roles.get(s.id) == "master"] != [t.shard(p.primary)]:
            return False
    return all(_link_up(cache, t, t.shard(r)) for p in t.partitions for r in p.replicas)


def _link_up(cache, t, shard) -> bool:
    n = t.node(shard.node)
    r = redis.Redis(host=n.ip, port=shard.port, password=t.internal_password, socket_timeout=0.5,
                    socket_connect_timeout=0.5)
    try:
        info = r.info("replication")
        return info.get("master_link_status") == "up" and not info.get("master_sync_in_progress")
    except (redis.RedisError, OSError):
        return False
    finally:
        r.close()


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(interval)
