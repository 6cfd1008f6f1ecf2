"""The soak: a cache under a redis-py write load goes through a seeded random sequence of faults (planned
failover, kill-shard, kill-node restarted after the node restart delay, pauses shorter and longer than
the detection time, restart-node), waiting after each until the cache has converged again and every
writer makes progress. At the end: the cache converged (one primary per partition, every node up, the
shards' own roles as `status` says), every acknowledged write is readable but the unreplicated tail of
an unplanned failover (`drill.explain_losses`), no unplanned failover during a lossless fault, and no
process of the cache outlives it.

    from amr_emulator.soak import soak
    report = soak(policy="oss", seed=7, faults=8)        # tests/cluster/test_soak.py
    scripts/soak --minutes 10 --seed 7                    # longer runs by hand
"""
from __future__ import annotations

import os
import random
import time
from typing import Any, Callable, Iterator

from amr_emulator.drill import (DrillContext, FailoverEvent, Fault, Operation, Workload, Writer, explain_losses,
                                failover_events, fault_of, wait_converged, wait_events)
from amr_emulator.topology import Topology


def _choose(ctx: DrillContext, what: str, choices: list[int]) -> int:
    target = ctx.rng.choice(sorted(choices))
    ctx.facts["target"] = f"{what} {target}"
    ctx.facts[what] = target
    return target


def _detection_s(ctx: DrillContext) -> float:
    return ctx.topology.timing["node_failure_detection_ms"] / 1000.0


def _planned_failover(ctx):
    p = _choose(ctx, "partition", [p.id for p in ctx.topology.partitions])
    return ctx.api("POST", "/failover", {"partition": p})


def _kill_shard(ctx):
    s = _choose(ctx, "shard", [s.id for s in ctx.topology.shards])
    return ctx.api("POST", f"/shards/{s}/kill")


def _kill_node(ctx):
    n = _choose(ctx, "node", [n.id for n in ctx.topology.nodes])
    return ctx.api("POST", f"/nodes/{n}/kill", {})


def _pause(factor: float):
    def pause(ctx):
        n = _choose(ctx, "node", [n.id for n in ctx.topology.nodes])
        return ctx.api("POST", f"/nodes/{n}/pause", {"seconds": round(_detection_s(ctx) * factor, 3)})
    return pause


def _restart_node(ctx):
    n = _choose(ctx, "node", [n.id for n in ctx.topology.nodes])
    return ctx.api("POST", f"/nodes/{n}/restart")


#: the soak's faults: kind -> operation (targets chosen by the seeded random source)
FAULTS: dict[str, Operation] = {
    "planned-failover": Operation(_planned_failover, help="planned failover of one partition"),
    "kill-shard": Operation(_kill_shard, lossless=False, help="SIGKILL of one shard (primary or replica)"),
    "kill-node": Operation(_kill_node, lossless=False, help="SIGKILL of a node, restarted after the delay"),
    "pause-short": Operation(_pause(0.3), help="SIGSTOP of a node for 0.3 x the detection time: no failover"),
    "pause-long": Operation(_pause(2.0), lossless=False, acks_late=True,
                            help="SIGSTOP of a node for 2 x the detection time: its primaries fail over"),
    "restart-node": Operation(_restart_node, lossless=False, help="a node stopped and started again"),
}


def fault_sequence(rng: random.Random) -> Iterator[str]:
    """Rounds of every fault kind, each round shuffled: any run of len(FAULTS) faults from the start has
    each kind once."""
    kinds = list(FAULTS)
    while True:
        rng.shuffle(kinds)
        yield from kinds


# --- processes ---------------------------------------------------------------------------------------

def _start_time(pid: int) -> str | None:
    """The kernel's start time of a live, non-zombie process (Linux /proc), else None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _alive(pid: int) -> bool:
    if os.path.isdir("/proc"):
        return _start_time(pid) is not None
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class PidTracker:
    """Every process of the cache seen in `status` (controller, node proxies, shards), with its start time
    so that a pid reused by another process is not taken for a leak."""

    def __init__(self):
        self.seen: dict[int, tuple[str, str | None]] = {}   # pid -> (what, start time)
        self.groups: dict[int, str] = {}   # the nodes' process groups (a node's shards are in its group)

    def add(self, pid: int | None, what: str) -> None:
        if pid and pid not in self.seen:
            self.seen[pid] = (what, _start_time(pid))

    def sample(self, status: dict[str, Any]) -> None:
        self.add((status.get("cache") or {}).get("controller_pid"), "controller")
        for n in status.get("nodes", []):
            self.add(n.get("pid"), f"node {n['id']}")
            if n.get("pid"):
                self.groups[n["pid"]] = f"node {n['id']}"
            for s in (n.get("status") or {}).get("shards", []):
                self.add(s.get("pid"), f"shard {s['id']}")

    def alive(self) -> list[str]:
        """The tracked processes still running (the same process: same start time)."""
        out = []
        for pid, (what, started) in sorted(self.seen.items()):
            if _alive(pid) and (started is None or _start_time(pid) == started):
                out.append(f"{what} (pid {pid})")
        for pgid, what in sorted(self.groups.items()):
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                continue
            except PermissionError:
                pass
            out.append(f"a process in the group of {what} (pgid {pgid})")
        return out


# --- the soak ----------------------------------------------------------------------------------------

def soak(*, policy: str = "oss", seed: int = 1, faults: int | None = None, minutes: float | None = None,
         writers: int = 3, pace: float = 0.002, node_restart_delay: float = 1.0, converge_timeout: float = 45.0,
         log: Callable[[str], None] = lambda s: None, **cache_options: Any) -> dict[str, Any]:
    """Start a fast-profile cache, run `faults` faults (or as many as fit in `minutes`) under `writers`
    redis-py writers (one write each `pace` s), check, stop the cache, check for leaked processes; the
    report (see the module's docstring). `cache_options` go to `Cache(...)`."""
    from amr_emulator.api import Cache
    if faults is None and minutes is None:
        raise ValueError("give faults or minutes")
    rng = random.Random(seed)
    kinds = fault_sequence(rng)
    report: dict[str, Any] = {"policy": policy, "seed": seed, "faults": [], "problems": []}
    tracker = PidTracker()
    done: list[Fault] = []
    began = time.monotonic()
    cache = Cache(policy=policy, timing="fast", node_restart_delay=node_restart_delay, **cache_options)
    with cache:
        api = cache._api
        tracker.sample(cache.status())
        wait_converged(api, converge_timeout)
        workload = Workload([Writer(cache.client, f"soak:{seed}:{w}", pace=pace) for w in range(writers)])
        with workload:
            workload.wait_progress(20)
            deadline = None if minutes is None else began + minutes * 60
            while (faults is None or len(done) < faults) and (deadline is None or time.monotonic() < deadline):
                kind = next(kinds)
                ctx = DrillContext(api, Topology.from_dict(api("GET", "/topology")), rng)
                try:
                    fault = FAULTS[kind].run(kind, ctx)
                except Exception as e:  # noqa: BLE001 - the management API refused it: a finding
                    report["problems"].append(f"{kind} ({ctx.facts.get('target')}) failed: {e}")
                    log(f"{time.time() - workload.t0:7.1f}s  {kind:<16} {ctx.facts.get('target')!s:<12} failed: {e}")
                    break
                done.append(fault)
                try:
                    took = wait_converged(api, converge_timeout)
                    tracker.sample(cache.status())
                    workload.wait_progress(20, timeout=converge_timeout)
                    if not wait_events(api):
                        report["problems"].append(f"after {kind} ({fault.target}): the event log names no "
                                                  "event of the topology's epoch")
                except (TimeoutError, RuntimeError) as e:
                    report["problems"].append(f"after {kind} ({fault.target}): {e}")
                    log(f"{fault.started - workload.t0:7.1f}s  {kind:<16} {fault.target:<12} {e}")
                    break
                finally:
                    fault.settled = time.time()
                log(f"{fault.started - workload.t0:7.1f}s  {kind:<16} {fault.target:<12} converged in {took:.2f} s")
            # the end: converged, then the writers stop
            try:
                wait_converged(api, converge_timeout)
            except TimeoutError as e:
                report["problems"].append(f"at the end: {e}")
        status = cache.status()
        tracker.sample(status)
        events = cache.events()
        topology = Topology.from_dict(status["topology"])
        lost = workload.lost(cache.client)
        explained, unexplained = explain_losses(lost, done, events, topology)
        report["topology_epoch"] = topology.epoch
        report["one_primary_per_partition"] = all(
            sum(1 for s in topology.shards if s.partition == p.id and s.role == "primary") == 1
            and topology.shard(p.primary).role == "primary" for p in topology.partitions)
    report["leaked"] = tracker.alive()
    report["processes_seen"] = len(tracker.seen)
    failovers = failover_events(events)
    for f in done:
        moved = [e for e in failovers if f.started <= e.at <= f.settled]
        caused = [e for e in moved if f.lossless and _caused(f, e, topology)]
        if caused:
            report["problems"].append(f"{f.kind} ({f.target}) caused unplanned failovers: "
                                      + "; ".join(f"partition {e.partition} ({e.reason})" for e in caused))
        report["faults"].append({"kind": f.kind, "target": f.target, "at_s": round(f.started - workload.t0, 2),
                                 "settled_after_s": round(f.settled - f.started, 2),
                                 "unplanned_failovers": sorted({e.partition for e in moved})})
    # failovers the cache decided by itself (on a loaded machine a shard may miss its pings' deadline)
    report["spontaneous_failovers"] = [f"{e.at - workload.t0:.1f}s partition {e.partition} ({e.reason})"
                                       for e in failovers if fault_of(e, done) is None
                                       and not any(_caused(f, e, topology) for f in done if f.lossless
                                                   and f.started <= e.at <= f.settled)]
    report.update({
        "duration_s": round(time.monotonic() - began, 1),
        "acknowledged_writes": workload.acknowledged(),
        "error_kinds": workload.error_kinds(),
        "lost_writes": len(lost),
        "lost_unreplicated_tail": len(explained),
        "lost_tail_max_ms": max((w["sent_before_fault_ms"] for w in explained
                                 if not w.get("spontaneous") and not w.get("reported")), default=None),
        "lost_reported_by_events": sum(1 for w in explained if w.get("reported")),
        "lost_in_spontaneous_failovers": sum(1 for w in explained if w.get("spontaneous")),
        "lost_tail_examples": explained[:20],
        "lost_unexplained": unexplained,
    })
    return report


def _caused(f: Fault, e: FailoverEvent, topology: Topology) -> bool:
    """Whether lossless fault `f` is the cause of unplanned failover `e`: a failover of the partition a
    planned failover moved, or of a primary on the node a short pause froze."""
    if f.kind == "planned-failover":
        return e.partition == f.facts.get("partition")
    node = f.facts.get("node")
    if node is None:
        return False
    if e.reason == f"node {node} unreachable":
        return True
    words = e.reason.split()
    return len(words) >= 2 and words[0] == "shard" and words[1].isdigit() and \
        any(s.id == int(words[1]) and s.node == node for s in topology.shards)


def render(report: dict[str, Any]) -> list[str]:
    """A soak report as `scripts/soak` prints it."""
    lines = [f"soak: policy {report['policy']}, seed {report['seed']}, {len(report['faults'])} faults in "
             f"{report['duration_s']} s"]
    kinds: dict[str, int] = {}
    for f in report["faults"]:
        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
    lines.append("  faults: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    slowest = max(report["faults"], key=lambda f: f["settled_after_s"], default=None)
    if slowest:
        lines.append(f"  slowest convergence: {slowest['settled_after_s']} s after {slowest['kind']} "
                     f"({slowest['target']})")
    errors = ", ".join(f"{k} {n}" for k, n in sorted(report["error_kinds"].items())) or "none"
    lines.append(f"  acknowledged writes: {report['acknowledged_writes']}; errors: {errors}")
    lines.append(f"  lost acknowledged writes: {report['lost_writes']} ({report['lost_unreplicated_tail']} in "
                 f"the unreplicated tail of an unplanned failover"
                 + (f", sent at most {report['lost_tail_max_ms']} ms before the fault started"
                    if report['lost_tail_max_ms'] is not None else "") + ")")
    if report["lost_in_spontaneous_failovers"]:
        lines.append(f"  of which {report['lost_in_spontaneous_failovers']} in failovers the cache decided itself")
    for e in report["spontaneous_failovers"]:
        lines.append(f"  unplanned failover not caused by a fault: {e}")
    for w in report["lost_unexplained"][:20]:
        lines.append(f"  LOST {w['key']} (partition {w['partition']}): not explained by an unplanned failover")
    lines.append(f"  topology epoch {report.get('topology_epoch')}, one primary per partition: "
                 f"{report.get('one_primary_per_partition')}")
    lines.append(f"  processes seen: {report['processes_seen']}, left after stop: "
                 f"{', '.join(report['leaked']) or 'none'}")
    for p in report["problems"]:
        lines.append(f"  PROBLEM: {p}")
    return lines


def failed(report: dict[str, Any]) -> bool:
    return bool(report["problems"] or report["lost_unexplained"] or report["leaked"]
                or not report.get("one_primary_per_partition"))
