"""Failover drills: a redis-py workload runs against a cache while an operation happens (planned failover,
unplanned failover of a primary shard, loss of a node or of a zone); the result is the per-second
throughput and errors by type, the unavailability window (the longest time a client completed no write),
and a lost-writes check (every acknowledged write read back afterwards; after an unplanned failover only
the unreplicated tail - writes sent just before the failure - may be missing).

    amr-emulator drill planned-failover --clients 4 --duration 10

The parts are shared with the soak (amr_emulator/soak.py) and scripts/failover_times: `Writer` threads
that record every write's send and acknowledgement times, `Fault` records of what was done when,
`explain_losses` (which missing writes an unplanned failover accounts for), and `convergence_problems`
(what keeps the cache from its steady state). Everything speaks to the cache through `api(method, path,
body)`, its management API (`Cache._api`, or the CLI's), and to its data through redis-py clients made by
`make_client()`: `RedisCluster` on the OSS policy, `Redis` on Enterprise and NoCluster.
"""
from __future__ import annotations

import datetime
import threading
import time
from array import array
from dataclasses import dataclass, field
from typing import Any, Callable

from amr_emulator.protocol.slots import key_slot
from amr_emulator.topology import Topology

Api = Callable[..., Any]   # api(method, path, body=None, timeout=30.0) -> the management API's JSON answer

#: How long before a failure an acknowledged write may have been sent and still be missing afterwards:
#: replication is asynchronous, so the replica promoted by an unplanned failover may lack the primary's
#: last writes (the "unreplicated tail"). On an idle machine the tail is a few milliseconds.
UNREPLICATED_TAIL_S = 0.5


# --- the workload --------------------------------------------------------------------------------

def error_kind(e: BaseException) -> str:
    """An error as the drill counts it: its type, and for a server reply the reply's first words."""
    name = type(e).__name__
    if name in ("ResponseError", "ReadOnlyError", "ClusterDownError", "TryAgainError"):
        text = str(e).split("(")[0].split()
        return f"{name}: {' '.join(text[:4])}" if text else name
    return name


class Writer(threading.Thread):
    """One redis-py client writing unique keys in a loop (`<prefix>:<i>`, `<prefix>` ending in a hash tag
    to keep every write in one partition): records each write's send time, which were acknowledged and
    when, and the errors (wall-clock times, comparable with the event log's)."""

    def __init__(self, make_client: Callable[[], Any], prefix: str, pace: float = 0.0):
        super().__init__(daemon=True, name=f"writer-{prefix}")
        self.make_client = make_client
        self.prefix = prefix
        self.pace = pace                  # seconds between writes (0: as fast as the client goes)
        self.stop_flag = threading.Event()
        self.sent = array("d")            # write i -> when it was sent (first attempt)
        self.acked = array("q")           # acknowledged writes, in order
        self.acked_at = array("d")        # ... and when
        self.errors: list[tuple[float, str]] = []
        self.failed: BaseException | None = None

    def key(self, i: int) -> str:
        return f"{self.prefix}:{i}"

    def run(self) -> None:
        import redis
        try:
            client = self.make_client()
        except Exception as e:  # noqa: BLE001 - reported by the caller
            self.failed = e
            return
        # what a client raises when a cache fails under it: RedisCluster's "cannot be connected" is not a
        # RedisError (a node killed while the client re-reads the slot map through the cache endpoint)
        failures = (redis.RedisError, redis.exceptions.RedisClusterException, OSError)
        i = 0
        clock = time.time
        try:
            while not self.stop_flag.is_set():
                self.sent.append(clock())
                try:
                    client.set(self.key(i), i)
                except failures as e:
                    self.errors.append((clock(), error_kind(e)))
                    self.stop_flag.wait(0.01)
                except Exception as e:  # noqa: BLE001 - the thread ends; wait_progress reports it
                    self.failed = e
                    return
                else:
                    self.acked.append(i)
                    self.acked_at.append(clock())
                    if self.pace:
                        self.stop_flag.wait(self.pace)
                i += 1
        finally:
            try:
                client.close()
            except Exception:  # noqa: BLE001
                pass

    def acks(self) -> int:
        return len(self.acked)

    def stop(self) -> None:
        self.stop_flag.set()


class Workload:
    """Writer threads; `wait_progress` awaits acknowledgements, `lost` reads every acknowledged write back."""

    def __init__(self, writers: list[Writer]):
        self.writers = writers
        self.t0 = time.time()

    def start(self) -> "Workload":
        self.t0 = time.time()
        for w in self.writers:
            w.start()
        return self

    def stop(self) -> None:
        for w in self.writers:
            w.stop()
        for w in self.writers:
            w.join(30)

    def __enter__(self) -> "Workload":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def acknowledged(self) -> int:
        return sum(w.acks() for w in self.writers)

    def wait_progress(self, n: int = 20, timeout: float = 60.0) -> None:
        """Until every writer has `n` more acknowledged writes; TimeoutError with its last errors."""
        targets = [(w, w.acks() + n) for w in self.writers]
        deadline = time.monotonic() + timeout
        for w, target in targets:
            while w.acks() < target:
                if w.failed is not None:
                    raise RuntimeError(f"writer {w.prefix} failed: {w.failed!r}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"writer {w.prefix} made no progress in {timeout} s; last errors: "
                                       f"{[k for _, k in w.errors[-3:]]}")
                time.sleep(0.01)

    def per_second(self, seconds: int) -> tuple[list[int], list[dict[str, int]]]:
        """Acknowledged writes and errors (by kind) in each second since the start."""
        ops = [0] * seconds
        errs: list[dict[str, int]] = [{} for _ in range(seconds)]
        for w in self.writers:
            for at in w.acked_at:
                ops[min(max(int(at - self.t0), 0), seconds - 1)] += 1
            for at, kind in w.errors:
                d = errs[min(max(int(at - self.t0), 0), seconds - 1)]
                d[kind] = d.get(kind, 0) + 1
        return ops, errs

    def error_kinds(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for w in self.writers:
            for _, kind in w.errors:
                kinds[kind] = kinds.get(kind, 0) + 1
        return kinds

    def longest_gap(self, intervals: list[tuple[float, float]], end: float) -> tuple[float, str | None]:
        """The unavailability window: the longest time during which one writer had no write acknowledged,
        among the gaps that overlap one of `intervals` (wall-clock (start, end) of operations; a gap is
        counted from the interval's start) and the time from a writer's last acknowledgement to `end`;
        and that writer's prefix."""
        best, who = 0.0, None
        for w in self.writers:
            last = w.acked_at[-1] if w.acked_at else 0.0
            for since, until in intervals:
                prev = since
                for at in w.acked_at:
                    if at < since:
                        continue
                    if prev > until:
                        break
                    if at - prev > best:
                        best, who = at - prev, w.prefix
                    prev = at
                last = max(last, since)
            if intervals and end - last > best:
                best, who = end - last, w.prefix
        return best, who

    def lost(self, make_client: Callable[[], Any], timeout: float = 60.0) -> list["LostWrite"]:
        """Every acknowledged write that does not read back (retrying reads that fail for `timeout`)."""
        client = make_client()
        lost = []
        try:
            for w in self.writers:
                acked = list(w.acked)
                acked_at = list(w.acked_at)
                for start in range(0, len(acked), 500):
                    chunk = acked[start:start + 500]
                    values = read_values(client, [w.key(i) for i in chunk], timeout)
                    for n, (i, value) in enumerate(zip(chunk, values)):
                        if value != str(i).encode():
                            lost.append(LostWrite(w.key(i), w.sent[i], acked_at[start + n]))
        finally:
            client.close()
        return lost


def read_values(client, keys: list[str], timeout: float = 60.0) -> list[Any]:
    """GET of every key through a non-transactional pipeline, again while any read fails (a partition
    still failing over) until `timeout`."""
    import redis
    deadline = time.monotonic() + timeout
    while True:
        try:
            pipe = client.pipeline(transaction=False)
            for k in keys:
                pipe.get(k)
            values = pipe.execute(raise_on_error=False)
            errors = [v for v in values if isinstance(v, Exception)]
            if not errors:
                return values
            problem: Exception = errors[0]
        except (redis.RedisError, OSError) as e:
            problem = e
        if time.monotonic() > deadline:
            raise TimeoutError(f"acknowledged writes could not be read back: {problem}")
        time.sleep(0.1)


@dataclass(frozen=True)
class LostWrite:
    key: str
    sent: float      # wall clock
    acked: float


# --- faults and what they may lose ------------------------------------------------------------------

@dataclass
class Fault:
    """An operation done to the cache under the workload, with wall-clock times: `started` before the
    request, `ended` when it returned. `lossless`: nothing acknowledged may be lost (a planned operation,
    a pause shorter than the detection time). `acks_late`: the old primary may still acknowledge writes it
    received before the failure after `ended` (a paused node resumes before it hears of its demotion), so
    its tail reaches to the failover."""
    kind: str
    started: float
    ended: float = 0.0
    lossless: bool = True
    acks_late: bool = False
    target: Any = None
    facts: dict[str, Any] = field(default_factory=dict)   # what the operation chose (DrillContext.facts)
    result: Any = None
    settled: float = 0.0     # when the cache was seen converged again (0: not awaited)


def event_time(entry: dict[str, Any]) -> float:
    """The wall-clock time of an event log entry (its ISO time, UTC, milliseconds)."""
    text = entry["time"].replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text).timestamp()


@dataclass(frozen=True)
class FailoverEvent:
    at: float          # when the controller logged it (it copies the leader's events every 0.25-1 s)
    partition: int
    reason: str


def failover_events(events: list[dict[str, Any]]) -> list[FailoverEvent]:
    """Every committed unplanned failover in the event log."""
    out = []
    for e in events:
        d = e.get("details") or {}
        if e.get("operation") == "failover" and d.get("kind") == "unplanned" and d.get("committed", True):
            out.append(FailoverEvent(event_time(e), int(d["partition"]), str(d.get("reason", ""))))
    return out


def unplanned_failovers(events: list[dict[str, Any]]) -> list[tuple[float, int]]:
    """(time, partition) of every committed unplanned failover in the event log."""
    return [(e.at, e.partition) for e in failover_events(events)]


def fault_of(event: FailoverEvent, faults: list[Fault], slack_s: float = 1.0) -> Fault | None:
    """The fault `event` followed: the latest fault started before it, if its effects had not settled
    before the event (`slack_s` for the event log's copy delay) and it may lose writes; else None (a
    failover the cache decided by itself, say a shard that did not answer its pings in time on a loaded
    machine). Faults must not overlap, and the event log must have caught up with a fault before the
    next one starts (`wait_events`)."""
    before = [f for f in faults if f.started <= event.at]
    if not before:
        return None
    f = max(before, key=lambda f: f.started)
    if f.lossless or (f.settled and event.at > f.settled + slack_s):
        return None
    return f


def reported_lost(events: list[dict[str, Any]]) -> set:
    """The keys the event log's `writes-lost` entries name, and `(partition, None)` for each partition
    whose entry could not name them all."""
    out: set = set()
    for e in events:
        if e.get("operation") == "writes-lost":
            d = e.get("details") or {}
            out.update(d.get("keys") or ())
            if d.get("keys_omitted") or d.get("writes") is None:
                out.add((d.get("partition"), None))
    return out


def explain_losses(lost: list[LostWrite], faults: list[Fault], events: list[dict[str, Any]], topology: Topology,
                   tail_s: float = UNREPLICATED_TAIL_S) -> tuple[list[dict], list[dict]]:
    """Split lost writes into those an unplanned failover accounts for and the others.

    A lost write is the unreplicated tail of an unplanned failover of its partition (per the event log):
    - one that followed fault F (F not lossless): when the write was sent no earlier than `tail_s` before F
      and no later than F's end (for a pause, than that failover: the resumed old primary answers what it
      had received);
    - one the cache decided by itself (`fault_of` is None): when the write was sent at most the detection
      and election times, the tail and the event log's delay before it (`spontaneous: True`)."""
    timing = topology.timing
    spontaneous_s = (max(timing["node_failure_detection_ms"], timing["shard_failure_detection_ms"])
                     + timing["election_timeout_max_ms"]) / 1000 + tail_s + 1.0
    moves = [(e, fault_of(e, faults)) for e in failover_events(events)]
    reported = reported_lost(events)
    explained, unexplained = [], []
    for w in lost:
        partition = topology.partition_for_slot(key_slot(w.key.encode())).id
        entry = {"key": w.key, "partition": partition, "sent": w.sent, "acked": w.acked}
        why = None
        if w.key in reported or (partition, None) in reported:
            why = {"fault": "writes-lost (the event log names it: a demoted primary's writes its successor "
                            "never had)", "reported": True}
        for e, f in ([] if why else moves):
            if e.partition != partition:
                continue
            if f is not None and f.started - tail_s <= w.sent <= (e.at if f.acks_late else f.ended):
                why = {"fault": f.kind, "fault_at": f.started,
                       "sent_before_fault_ms": round((f.started - w.sent) * 1000, 1)}
            elif f is None and e.at - spontaneous_s <= w.sent <= e.at:
                why = {"fault": f"unplanned failover ({e.reason})", "fault_at": e.at, "spontaneous": True,
                       "sent_before_fault_ms": round((e.at - w.sent) * 1000, 1)}
            if why:
                break
        (explained if why else unexplained).append({**entry, **(why or {})})
    return explained, unexplained


# --- convergence ---------------------------------------------------------------------------------

def shard_role(host: str, port: int, password: str) -> tuple[str | None, str | None]:
    """(role, master_link_status) a shard reports itself (None, None when it does not answer)."""
    import redis
    r = redis.Redis(host=host, port=port, password=password, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        info = r.info("replication")
        role = info.get("role")
        return role, None if role == "master" else info.get("master_link_status")
    except (redis.RedisError, OSError):
        return None, None
    finally:
        r.close()


def convergence_problems(api: Api) -> list[str]:
    """What keeps the cache from its steady state (empty when converged): every node up and running on the
    current topology epoch; every shard up; per partition, the topology's primary is the one shard that
    says it is a master, and each replica says slave with its link up."""
    st = api("GET", "/status")
    problems = []
    if (st.get("cache") or {}).get("state") != "ready":
        problems.append(f"cache state {(st.get('cache') or {}).get('state')}")
    t = Topology.from_dict(st["topology"])
    for n in st["nodes"]:
        s = n.get("status") or {}
        if n.get("state") == "removed":   # patching replaced it
            continue
        if n.get("state") != "up" or not n.get("running"):
            problems.append(f"node {n['id']}: {n.get('state')}, running={n.get('running')}")
        elif s.get("epoch") != t.epoch:
            problems.append(f"node {n['id']}: epoch {s.get('epoch')}, topology {t.epoch}")
        for sh in s.get("shards", []):
            if not sh.get("up"):
                problems.append(f"shard {sh['id']}: not up ({sh.get('state')})")
    for p in t.partitions:
        primary = t.shard(p.primary)
        role, _ = shard_role(t.node(primary.node).ip, primary.port, t.internal_password)
        if role != "master":
            problems.append(f"partition {p.id}: primary shard {primary.id} says {role}")
        for rid in p.replicas:
            r = t.shard(rid)
            role, link = shard_role(t.node(r.node).ip, r.port, t.internal_password)
            if role != "slave" or link != "up":
                problems.append(f"partition {p.id}: replica shard {rid} says {role}, link {link}")
    return problems


def wait_events(api: Api, timeout: float = 5.0, interval: float = 0.05) -> bool:
    """Until the cache's event log has caught up with its topology (the controller copies what the nodes'
    leader did a moment later): an event names the topology's epoch. False after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        epoch = api("GET", "/topology")["epoch"]
        logged = [e["details"].get("epoch") for e in api("GET", "/events") if isinstance(e.get("details"), dict)]
        if epoch <= 1 or epoch in logged:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def wait_converged(api: Api, timeout: float = 60.0, interval: float = 0.1) -> float:
    """Seconds until `convergence_problems` is empty; TimeoutError naming what was left."""
    started = time.monotonic()
    while True:
        try:
            problems = convergence_problems(api)
        except Exception as e:  # noqa: BLE001 - the controller busy with a node: ask again
            problems = [f"status: {e}"]
        if not problems:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"the cache did not converge within {timeout} s: {'; '.join(problems)}")
        time.sleep(interval)


# --- the drills --------------------------------------------------------------------------------------

@dataclass
class DrillContext:
    """What an operation works with: the management API, the topology when it starts, a random source
    (the soak's choice of targets), and what `perform` chose (for `restore`, and the report)."""
    api: Api
    topology: Topology
    rng: Any = None
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """An operation under load: `perform(ctx)` (in a drill at a third of its duration) and `restore(ctx)`
    if any (at two thirds); both return what the management API answered. `lossless`: nothing
    acknowledged may be lost; `acks_late`: see `Fault`."""
    perform: Callable[[DrillContext], Any]
    restore: Callable[[DrillContext], Any] | None = None
    lossless: bool = True
    acks_late: bool = False
    help: str = ""

    def run(self, kind: str, ctx: DrillContext) -> Fault:
        """Perform it, timed, as a `Fault`."""
        fault = Fault(kind, time.time(), lossless=self.lossless, acks_late=self.acks_late)
        fault.result = self.perform(ctx)
        fault.ended = time.time()
        fault.target = ctx.facts.get("target")
        fault.facts = dict(ctx.facts)
        return fault


def _victim_node(ctx: DrillContext) -> int:
    return ctx.topology.shard(ctx.topology.partitions[0].primary).node


def _zone_down(ctx: DrillContext) -> Any:
    zone = ctx.topology.node(_victim_node(ctx)).zone
    if not zone:
        raise ValueError("the zone-down drill needs a cache with zones (up --zones 1,2,3)")
    ctx.facts["zone"] = zone
    return ctx.api("POST", f"/zones/{zone}/down")


#: kind -> operation (the drill's kinds; the writers of partition 0 see it first hand)
OPERATIONS: dict[str, Operation] = {
    "planned-failover": Operation(lambda ctx: ctx.api("POST", "/failover", {}),
                                  help="planned failover of every partition"),
    "unplanned-failover": Operation(
        lambda ctx: ctx.api("POST", f"/shards/{ctx.topology.partitions[0].primary}/kill"), lossless=False,
        help="SIGKILL of partition 0's primary shard"),
    "kill-node": Operation(lambda ctx: ctx.api("POST", f"/nodes/{_victim_node(ctx)}/kill", {}), lossless=False,
                           help="SIGKILL of the node holding partition 0's primary (restarted after the delay)"),
    "patch": Operation(lambda ctx: ctx.api("POST", "/patch", {}, timeout=600.0),
                       help="patching: every node replaced by a new one (leader moved, shards migrated)"),
    "partition": Operation(lambda ctx: ctx.api("POST", "/partition", {"nodes": [_victim_node(ctx)]}),
                           lambda ctx: ctx.api("POST", "/heal", {}), lossless=False,
                           help="the node holding partition 0's primary cut off from the others, healed at two "
                                "thirds (its writes before the minority bound are lost, and reported)"),
    "zone-down": Operation(_zone_down, lambda ctx: ctx.api("POST", f"/zones/{ctx.facts['zone']}/up"),
                           lossless=False, help="every node of partition 0's primary's zone down, up again "
                                               "at two thirds"),
}
DRILLS = tuple(OPERATIONS)


def partition_tags(topology: Topology, count: int) -> list[str]:
    """A hash tag for each of `count` writers: writer c writes to partition c mod the partitions."""
    tags = []
    for c in range(count):
        want = topology.partitions[c % len(topology.partitions)]
        tags.append(next(str(n) for n in range(100000) if want.owns(key_slot(str(n).encode()))))
    return tags


def run_drill(api: Api, kind: str, make_client: Callable[[], Any], clients: int = 4, duration: float = 10.0,
              log: Callable[[str], None] = lambda s: None, converge_timeout: float = 120.0) -> dict[str, Any]:
    """`api(method, path, body)`: the management API of the cache; `make_client()`: a new redis-py client.
    Once the cache has converged, the workload starts; the operation happens at a third of the duration
    (its restore, if any, at two thirds); afterwards the drill waits for the cache to converge again, then
    reads every acknowledged write back."""
    if kind not in OPERATIONS:
        raise ValueError(f"unknown drill {kind!r} (one of {', '.join(DRILLS)})")
    op = OPERATIONS[kind]
    wait_converged(api, converge_timeout)      # a drill starts from the steady state
    ctx = DrillContext(api, Topology.from_dict(api("GET", "/topology")))
    tags = partition_tags(ctx.topology, clients)
    run = f"{time.time():.0f}"
    workload = Workload([Writer(make_client, f"drill:{run}:{c}:{{{tags[c]}}}") for c in range(clients)])
    faults = []
    restored = None
    with workload:
        t0 = workload.t0
        time.sleep(duration / 3)
        fault = op.run(kind, ctx)
        faults.append(fault)
        intervals = [(fault.started, fault.ended)]
        log(f"{fault.started - t0:6.2f}s  {kind}: {fault.result}")
        if op.restore is not None:
            time.sleep(max(0.0, t0 + 2 * duration / 3 - time.time()))
            started = time.time()
            restored = op.restore(ctx)
            intervals.append((started, time.time()))
            log(f"{started - t0:6.2f}s  restore: {restored}")
        time.sleep(max(0.0, t0 + duration - time.time()))
    end = time.time()
    log("waiting for the cache to converge ...")
    try:
        converged_after = round(wait_converged(api, converge_timeout), 2)
        problems: list[str] = []
    except TimeoutError as e:
        converged_after, problems = None, [str(e)]
    fault.settled = time.time()
    wait_events(api)
    lost = workload.lost(make_client)
    events = api("GET", "/events")
    explained, unexplained = explain_losses(lost, faults, events, ctx.topology)
    failovers = [{"at_s": round(e.at - t0, 2), "partition": e.partition, "reason": e.reason,
                  "after_operation": fault_of(e, faults) is not None}
                 for e in failover_events(events) if e.at >= t0]
    seconds = max(1, int(end - t0 + 0.999))
    ops, errs = workload.per_second(seconds)
    window, who = workload.longest_gap(intervals, end)
    return {"drill": kind, "clients": clients, "duration_s": duration,
            "operation_at_s": round(fault.started - t0, 3), "operation": fault.result, "restore": restored,
            "ops_per_second": ops, "errors_per_second": [sum(e.values()) for e in errs],
            "error_kinds_per_second": errs, "error_kinds": workload.error_kinds(),
            "acknowledged_writes": workload.acknowledged(), "unavailability_ms": round(window * 1000, 1),
            "unavailable_writer": who, "converged_after_s": converged_after, "convergence_problems": problems,
            "unplanned_failovers": failovers,
            "lost_writes": len(lost), "lost_unreplicated_tail": explained, "lost_unexplained": unexplained,
            "lost_examples": [w.key for w in lost[:10]]}
