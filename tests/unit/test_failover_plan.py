"""The leader's failover decision (proxy/failover.py `plan_failover`, pure): which replica is promoted,
what happens to the old primary and the nodes, when nothing can be done."""
from __future__ import annotations

from amr_emulator.topology import plan
from proxy.failover import plan_failover, promote


def topo(**kw):
    return plan("t", nodes=3, shards=3, shard_ports=iter(range(7000, 7100)), internal_password="pw",
                timing="fast", **kw)


def test_node_failure_promotes_its_partitions_replicas():
    t = topo()
    info = {s.id: {"up": True, "offset": 100} for s in t.shards}
    new, actions = plan_failover(t, {1}, set(), info, leader=0)
    assert new.epoch == t.epoch + 1 and new.leader == 0
    p = new.partition(1)
    assert new.shard(p.primary).node != 1 and p.replicas == (1,)
    assert new.shard(1).role == "replica" and new.shard(p.primary).role == "primary"
    assert new.node(1).state == "down"
    new.validate()
    assert [a["operation"] for a in actions] == ["failover", "node-down"]


def test_highest_offset_replica_wins():
    t = plan("t", nodes=4, shards=1, shard_ports=iter(range(7000, 7100)), internal_password="pw", timing="fast")
    # add a second replica of partition 0 on another node
    from amr_emulator.topology import Partition, Shard
    extra = Shard(id=9, node=2, port=7050, partition=0, role="replica")
    p = t.partition(0)
    t = t.replace(shards=t.shards + (extra,),
                  partitions=(Partition(id=0, slots=p.slots, primary=p.primary, replicas=p.replicas + (9,)),))
    info = {p.replicas[0]: {"up": True, "offset": 50}, 9: {"up": True, "offset": 70}}
    new, _ = plan_failover(t, set(), {p.primary}, info)
    assert new.partition(0).primary == 9
    assert set(new.partition(0).replicas) == {p.primary, p.replicas[0]}


def test_no_live_replica_no_change():
    t = topo()
    info = {s.id: {"up": False, "offset": 0} for s in t.shards}
    new, actions = plan_failover(t, set(), {0}, info)
    assert new is None and actions[0]["operation"] == "failover-impossible"


def test_revived_node_marked_up():
    t = topo()
    down = t.replace(nodes=tuple(n.__class__(**{**n.__dict__, "state": "down" if n.id == 2 else n.state})
                                 for n in t.nodes))
    new, actions = plan_failover(down, set(), set(), {}, revived_nodes={2})
    assert new.node(2).state == "up" and actions == [{"operation": "node-up", "node": 2}]


def test_promote_swaps_roles():
    t = topo()
    shards, parts = promote(t, 0, t.partition(0).replicas[0])
    new = t.replace(shards=shards, partitions=parts)
    new.validate()
    assert new.partition(0).replicas == (t.partition(0).primary,)


def test_the_event_names_the_unreplicated_tail_as_last_seen():
    t = topo()
    info = {s.id: {"up": True, "offset": 100} for s in t.shards}
    _, actions = plan_failover(t, {1}, set(), info, leader=0, last_offsets={1: 160})
    [failover] = [a for a in actions if a["operation"] == "failover"]
    assert failover["offset"] == 100
    assert failover["old_primary_last_offset"] == 160 and failover["unreplicated_bytes_at_least"] == 60
    _, actions = plan_failover(t, {1}, set(), info, leader=0)   # never seen: nothing claimed
    assert "unreplicated_bytes_at_least" not in actions[0]
