"""The checks of drills and soaks, pure: which lost writes an unplanned failover accounts for
(`drill.explain_losses`), the unavailability window (`Workload.longest_gap`), the fault sequence, and
the process tracker of the soak, and how a writer counts its client's failures."""
from __future__ import annotations

import datetime
import random
import subprocess
import sys
from array import array

import pytest
import redis

from amr_emulator.drill import UNREPLICATED_TAIL_S, Fault, LostWrite, Workload, Writer, explain_losses
from amr_emulator.protocol.slots import key_slot
from amr_emulator.soak import FAULTS, PidTracker, fault_sequence
from amr_emulator.topology import plan

T = 1_800_000_000.0   # a wall-clock time


def topo():
    return plan("t", nodes=3, shards=3, shard_ports=iter(range(7000, 7100)), internal_password="pw", timing="fast")


def key_in(t, partition: int) -> str:
    return next(f"k{i}" for i in range(10000) if t.partition_for_slot(key_slot(f"k{i}".encode())).id == partition)


def failover_event(at: float, partition: int, kind: str = "unplanned") -> dict:
    iso = datetime.datetime.fromtimestamp(at, datetime.timezone.utc).isoformat(timespec="milliseconds")
    return {"time": iso.replace("+00:00", "Z"), "operation": "failover",
            "details": {"kind": kind, "partition": partition, "committed": True}}


def test_the_unreplicated_tail_of_a_kill_is_explained_and_nothing_else():
    t = topo()
    kill = Fault("kill-node", T, T + 0.05, lossless=False)
    events = [failover_event(T + 1.2, 1)]
    k1, k0 = key_in(t, 1), key_in(t, 0)
    lost = [LostWrite(k1, T - 0.01, T - 0.005),                       # just before the kill: the tail
            LostWrite(k1, T - UNREPLICATED_TAIL_S - 0.1, T - 0.6),     # long before: not the tail
            LostWrite(k1, T + 0.5, T + 1.5),                           # sent after the kill returned
            LostWrite(k0, T - 0.01, T - 0.005)]                        # a partition that did not fail over
    explained, unexplained = explain_losses(lost, [kill], events, t)
    assert [(w["key"], w["sent"]) for w in explained] == [(k1, T - 0.01)]
    assert explained[0]["fault"] == "kill-node" and explained[0]["sent_before_fault_ms"] == 10.0
    assert [(w["key"], w["sent"]) for w in unexplained] == [(k1, T - UNREPLICATED_TAIL_S - 0.1), (k1, T + 0.5),
                                                            (k0, T - 0.01)]


def test_a_lossless_fault_explains_nothing():
    t = topo()
    k1 = key_in(t, 1)
    planned = Fault("planned-failover", T, T + 0.05, lossless=True, settled=T + 0.2)
    _, unexplained = explain_losses([LostWrite(k1, T - 0.01, T)], [planned],
                                    [failover_event(T + 0.03, 1, kind="planned")], t)
    assert len(unexplained) == 1


def test_a_failover_the_cache_decided_itself_explains_its_own_tail():
    """An unplanned failover no fault caused (a shard missed its pings on a loaded machine): writes sent
    within the detection, election and tail times before it are its tail, flagged `spontaneous`."""
    t = topo()
    k1 = key_in(t, 1)
    window = (1000 + 600) / 1000 + UNREPLICATED_TAIL_S + 1.0     # fast profile
    planned = Fault("planned-failover", T, T + 0.05, lossless=True, settled=T + 0.2)
    lost = [LostWrite(k1, T + 5 - window + 0.1, T), LostWrite(k1, T + 5 - window - 0.1, T)]
    explained, unexplained = explain_losses(lost, [planned], [failover_event(T + 5, 1)], t)
    assert [w["sent"] for w in explained] == [T + 5 - window + 0.1] and explained[0]["spontaneous"]
    assert [w["sent"] for w in unexplained] == [T + 5 - window - 0.1]


def test_a_paused_primary_may_acknowledge_until_the_failover():
    t = topo()
    k2 = key_in(t, 2)
    pause = Fault("pause-long", T, T + 0.01, lossless=False, acks_late=True, settled=T + 4)
    events = [failover_event(T + 1.3, 2)]
    lost = [LostWrite(k2, T + 0.5, T + 2.0), LostWrite(k2, T + 1.4, T + 2.0), LostWrite(k2, T - 0.6, T)]
    explained, unexplained = explain_losses(lost, [pause], events, t)
    assert [w["sent"] for w in explained] == [T + 0.5] and not explained[0].get("spontaneous")
    assert [w["sent"] for w in unexplained] == [T + 1.4, T - 0.6]


def _writer(prefix: str, acks: list[float]) -> Writer:
    w = Writer(lambda: None, prefix)
    w.acked = array("q", range(len(acks)))
    w.acked_at = array("d", acks)
    return w


def test_unavailability_window():
    a = _writer("a", [T - 1, T - 0.01, T + 0.2, T + 0.3, T + 5.0])
    b = _writer("b", [T - 1, T + 0.05, T + 0.1, T + 0.15])            # then nothing: counted to the end
    w = Workload([a])
    assert round(w.longest_gap([(T, T + 0.1)], T + 5.0)[0], 3) == 0.2   # counted from the operation's start
    # a gap that starts after the operation ended is not the operation's, unless it lasts to the end
    assert round(w.longest_gap([(T, T + 0.25)], T + 5.0)[0], 3) == 0.2
    assert round(w.longest_gap([(T, T + 0.35)], T + 5.0)[0], 3) == 4.7
    gap, who = Workload([a, b]).longest_gap([(T, T + 0.1)], T + 6)
    assert (round(gap, 3), who) == (5.85, "b")
    # a restore is a second interval
    assert round(w.longest_gap([(T - 2, T - 1.5), (T + 0.25, T + 0.35)], T + 5.0)[0], 3) == 4.7


def test_fault_sequence_is_seeded_and_covers_every_kind_each_round():
    first = [k for _, k in zip(range(18), fault_sequence(random.Random(5)))]
    assert first == [k for _, k in zip(range(18), fault_sequence(random.Random(5)))]
    for r in range(3):
        assert sorted(first[r * len(FAULTS):(r + 1) * len(FAULTS)]) == sorted(FAULTS)


def test_pid_tracker_sees_a_live_process_and_not_a_dead_one():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        tracker = PidTracker()
        tracker.sample({"cache": {"controller_pid": proc.pid}, "nodes": []})
        assert tracker.alive() == [f"controller (pid {proc.pid})"]
    finally:
        proc.kill()
        proc.wait()
    assert tracker.alive() == []


def test_which_unplanned_failover_a_lossless_fault_caused():
    from amr_emulator.drill import FailoverEvent
    from amr_emulator.soak import _caused
    t = topo()
    on_1 = next(s.id for s in t.shards if s.node == 1)
    on_2 = next(s.id for s in t.shards if s.node == 2)
    pause = Fault("pause-short", T, T, facts={"node": 1})
    assert _caused(pause, FailoverEvent(T, 0, "node 1 unreachable"), t)
    assert _caused(pause, FailoverEvent(T, 0, f"shard {on_1} failed"), t)
    assert not _caused(pause, FailoverEvent(T, 0, f"shard {on_2} failed"), t)
    assert not _caused(pause, FailoverEvent(T, 0, "node 2 unreachable"), t)
    planned = Fault("planned-failover", T, T, facts={"partition": 2})
    assert _caused(planned, FailoverEvent(T, 2, "shard 5 failed"), t)
    assert not _caused(planned, FailoverEvent(T, 1, "shard 4 failed"), t)


def test_a_failover_belongs_to_the_latest_fault_before_it():
    from amr_emulator.drill import FailoverEvent, fault_of
    planned = Fault("planned-failover", T, T + 0.1, lossless=True, settled=T + 0.2)
    kill = Fault("kill-shard", T + 0.3, T + 0.31, lossless=False, settled=T + 1.5)
    assert fault_of(FailoverEvent(T + 0.5, 0, "shard 0 failed"), [planned, kill]) is kill
    assert fault_of(FailoverEvent(T + 0.25, 0, "shard 0 failed"), [planned, kill]) is None   # during the planned one
    assert fault_of(FailoverEvent(T + 2.0, 0, "shard 0 failed"), [planned, kill]) is kill    # the log's delay
    assert fault_of(FailoverEvent(T + 2.6, 0, "shard 0 failed"), [planned, kill]) is None    # long after it settled
    assert fault_of(FailoverEvent(T - 1, 0, "shard 0 failed"), [planned, kill]) is None


class _Client:
    """What a writer's client does in turn: each entry is an exception to raise, or None to acknowledge."""

    def __init__(self, script: list):
        self.script = list(script)

    def set(self, key, value):
        step = self.script.pop(0) if self.script else None
        if step is not None:
            raise step

    def close(self):
        pass


def test_a_writer_counts_a_cluster_client_failure_and_goes_on():
    # RedisCluster raises RedisClusterException (not a RedisError) when no startup node answers: a node
    # killed while the client re-read the slot map; the writer must count it, not die (CI's soak saw it)
    client = _Client([redis.exceptions.ConnectionError("reset"),
                      redis.exceptions.RedisClusterException("Redis Cluster cannot be connected.")])
    w = Writer(lambda: client, "w")
    with Workload([w]) as workload:
        workload.wait_progress(5, timeout=10)
    assert workload.error_kinds() == {"ConnectionError": 1, "RedisClusterException": 1}
    assert w.failed is None


def test_a_writer_that_dies_is_reported_at_once():
    w = Writer(lambda: _Client([ZeroDivisionError("a bug")]), "w")
    with Workload([w]) as workload:
        w.join(10)
        with pytest.raises(RuntimeError, match="writer w failed: ZeroDivisionError"):
            workload.wait_progress(5, timeout=10)
