"""Failover drills: a redis-py workload runs against a cache while an operation happens (planned failover,
unplanned failover of a primary shard, loss of a node); the result is the per-second throughput and
errors, the unavailability window (the longest time no client completed a write) and a lost-writes check
(every acknowledged write read back afterwards).

    amr-emulator drill planned-failover --clients 4 --duration 10
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

DRILLS = ("planned-failover", "unplanned-failover", "kill-node")


class _Client(threading.Thread):
    def __init__(self, make_client: Callable[[], Any], cid: int, start: float, tag: str):
        super().__init__(daemon=True)
        self.make_client = make_client
        self.cid = cid
        self.tag = tag   # a hash tag: each client writes to one partition
        self.t0 = start
        self.stop = threading.Event()
        self.acked: list[tuple[int, float]] = []   # (i, completion time)
        self.errors: list[tuple[float, str]] = []

    def run(self) -> None:
        import redis
        client = self.make_client()
        i = 0
        while not self.stop.is_set():
            try:
                client.set(f"drill:{{{self.tag}}}:{self.cid}:{i}", i)
                self.acked.append((i, time.monotonic() - self.t0))
            except (redis.RedisError, OSError) as e:
                self.errors.append((time.monotonic() - self.t0, type(e).__name__))
                time.sleep(0.01)
            i += 1
        try:
            client.close()
        except Exception:  # noqa: BLE001
            pass


def run_drill(cache_api, kind: str, make_client: Callable[[], Any], clients: int = 4, duration: float = 10.0,
              log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """`cache_api(method, path, body)`: the management API of the cache; `make_client()`: a new redis-py
    client. The operation happens at a third of the duration."""
    if kind not in DRILLS:
        raise ValueError(f"unknown drill {kind!r} (one of {', '.join(DRILLS)})")
    topology = cache_api("GET", "/topology")
    from amr_emulator.protocol.slots import key_slot
    tags = []
    for c in range(clients):   # client c writes to partition c mod the partitions (0 first: the drilled one)
        want = topology["partitions"][c % len(topology["partitions"])]
        tags.append(next(str(n) for n in range(100000) if any(
            a <= key_slot(str(n).encode()) <= b for a, b in want["slots"])))
    t0 = time.monotonic()
    workers = [_Client(make_client, c, t0, tags[c]) for c in range(clients)]
    for w in workers:
        w.start()
    time.sleep(duration / 3)
    op_at = time.monotonic() - t0
    if kind == "planned-failover":
        result = cache_api("POST", "/failover", {})
    elif kind == "unplanned-failover":
        result = cache_api("POST", f"/shards/{topology['partitions'][0]['primary']}/kill", None)
    else:
        victim = next(s["node"] for s in topology["shards"] if s["id"] == topology["partitions"][0]["primary"])
        result = cache_api("POST", f"/nodes/{victim}/kill", {})
    log(f"{op_at:6.2f}s  {kind}: {result}")
    time.sleep(max(0.0, duration - (time.monotonic() - t0)))
    for w in workers:
        w.stop.set()
    for w in workers:
        w.join(10)
    # per second: acknowledged writes and errors
    seconds = int(duration) + 1
    ops = [0] * seconds
    errs = [0] * seconds
    for w in workers:
        for _, at in w.acked:
            ops[min(int(at), seconds - 1)] += 1
        for at, _ in w.errors:
            errs[min(int(at), seconds - 1)] += 1
    # unavailability: the longest time after the operation during which a client (one partition) completed
    # no write
    window = 0.0
    for w in workers:
        prev = op_at
        for _, at in w.acked:
            if at >= op_at:
                window = max(window, at - prev)
                prev = at
    reader = make_client()
    lost = []
    try:
        for w in workers:
            for i, _ in w.acked:
                key = f"drill:{{{w.tag}}}:{w.cid}:{i}"
                if reader.get(key) != str(i).encode():
                    lost.append(key)
    finally:
        reader.close()
    kinds: dict[str, int] = {}
    for w in workers:
        for _, name in w.errors:
            kinds[name] = kinds.get(name, 0) + 1
    return {"drill": kind, "clients": clients, "duration_s": duration, "operation_at_s": round(op_at, 3),
            "operation": result, "ops_per_second": ops, "errors_per_second": errs, "error_kinds": kinds,
            "acknowledged_writes": sum(len(w.acked) for w in workers),
            "unavailability_ms": round(window * 1000, 1), "lost_writes": len(lost), "lost_examples": lost[:10]}
