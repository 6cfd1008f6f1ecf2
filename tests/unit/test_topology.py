"""The topology values: planning, lookups, JSON round trip, validation."""
import pytest

from amr_emulator.protocol.slots import SLOTS, key_slot
from amr_emulator.topology import (AccessKeys, Node, Partition, Shard, Timing, Topology, plan,
                                   sku_lookup, split_slots)


def ports():
    return iter(range(20000, 20100))


def test_split_is_redis_cli_split():
    assert split_slots(1) == [(0, 16383)]
    assert split_slots(3) == [(0, 5460), (5461, 10922), (10923, 16383)]
    for n in (2, 5, 6, 7, 12, 96):
        ranges = split_slots(n)
        assert ranges[0][0] == 0 and ranges[-1][1] == SLOTS - 1
        assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:]))
        sizes = [e - s + 1 for s, e in ranges]
        assert max(sizes) - min(sizes) <= 1


def test_default_plan():
    t = plan(shard_ports=ports())
    assert (t.name, t.policy, t.epoch, t.endpoint_host, t.endpoint_port) == ("amr", "oss", 1, "127.0.0.1", 10000)
    assert [(n.ip, n.port, n.cluster_port) for n in t.nodes] == [
        ("127.0.1.1", 10000, 8500), ("127.0.1.2", 10000, 8501), ("127.0.1.3", 10000, 8502)]
    assert len(t.partitions) == 3 and len(t.shards) == 6
    for p in t.partitions:
        primary = t.primary_shard(p.id)
        (replica,) = t.replica_shards(p.id)
        assert primary.role == "primary" and replica.role == "replica"
        assert primary.node != replica.node
    # every node holds one primary and one replica
    for n in t.nodes:
        assert sorted(s.role for s in t.node_shards(n.id)) == ["primary", "replica"]
    assert t.unserved_slots() == []
    assert t.access_keys.primary != t.access_keys.secondary and len(t.access_keys.primary) == 44
    assert t.leader == 0 and t.timing.profile == "azure"
    assert len({s.port for s in t.shards}) == 6


def test_slot_lookup():
    t = plan(shard_ports=ports())
    slot = key_slot(b"foo")  # 12182
    assert t.partition_for_slot(slot).id == 2
    assert t.primary_node(2).id == 2
    assert t.slot_table[0] == 0 and t.slot_table[5461] == 1 and t.slot_table[16383] == 2


def test_no_ha_and_nocluster():
    t = plan(ha=False, shard_ports=ports())
    assert len(t.shards) == 3 and all(p.replicas == () for p in t.partitions)
    t = plan(policy="nocluster", shard_ports=ports())
    assert len(t.partitions) == 1 and t.partitions[0].slots == ((0, 16383),)
    assert len(t.shards) == 2


def test_zones_keep_copies_apart():
    t = plan(nodes=4, shards=4, zones=["1", "2"], shard_ports=ports())
    assert [n.zone for n in t.nodes] == ["1", "2", "1", "2"]
    for p in t.partitions:
        zone = t.primary_node(p.id).zone
        assert all(t.node(r.node).zone != zone for r in t.replica_shards(p.id))


def test_sku():
    assert sku_lookup("B10") == ("Balanced_B10", 12, 4, 2)
    t = plan(sku="Balanced_B10", shard_ports=ports())
    assert len(t.partitions) == 2
    assert t.shard_config["maxmemory"] == str(6 * 1024 ** 3)   # 12 GB over 2 primaries
    assert plan(sku="B10", maxmemory=1000, shard_ports=ports()).shard_config["maxmemory"] == "500"
    assert plan(shards=4, maxmemory=4096, shard_ports=ports()).shard_config["maxmemory"] == "1024"
    with pytest.raises(ValueError, match="unknown SKU"):
        sku_lookup("Z9")


def test_bad_plans():
    with pytest.raises(ValueError, match="policy"):
        plan(policy="cluster")
    with pytest.raises(ValueError, match="two nodes"):
        plan(nodes=1, shard_ports=ports())
    t = plan(nodes=1, ha=False, shard_ports=ports())
    assert len(t.nodes) == 1 and len(t.shards) == 3


def test_fallback_addresses():
    t = plan(node_ips=["127.0.0.1"] * 3, node_ports=[31001, 31002, 31003], cluster_ports=[32001, 32002, 32003],
             shard_ports=ports())
    assert [n.address for n in t.nodes] == ["127.0.0.1:31001", "127.0.0.1:31002", "127.0.0.1:31003"]
    assert t.nodes[1].cluster_address == "127.0.0.1:32002"


def test_json_round_trip():
    t = plan(zones=["1", "2", "3"], timing="fast", shard_ports=ports(), shard_config={"maxmemory-policy": "volatile-lru"})
    again = Topology.from_json(t.to_json())
    assert again == t
    assert Topology.from_json(t.to_json(indent=2).encode()) == t
    no_auth = plan(access_keys=None, shard_ports=ports())
    assert Topology.from_json(no_auth.to_json()).access_keys is None


def test_bump_and_replace():
    t = plan(shard_ports=ports())
    t2 = t.bump(access_keys=AccessKeys("a", "b"))
    assert t2.epoch == 2 and t.epoch == 1 and t2.access_keys.accepts("b") and not t2.access_keys.accepts("c")
    nodes = tuple(n if n.id != 1 else Node(**{**n.__dict__, "state": "down"}) for n in t.nodes)
    t3 = t.replace(nodes=nodes)
    assert [n.id for n in t3.live_nodes()] == [0, 2]


def test_timing():
    assert Timing.named("fast")["node_failure_detection_ms"] == 1000
    assert Timing.named("azure", heartbeat_ms=50)["heartbeat_ms"] == 50
    with pytest.raises(ValueError):
        Timing.named("slow")
    with pytest.raises(ValueError):
        Timing.named("fast", nope=1)


def test_validate_catches_inconsistency():
    t = plan(shard_ports=ports())
    bad = t.replace(partitions=(Partition(0, ((0, 100),), 0, ()), Partition(1, ((50, 200),), 1, ())))
    with pytest.raises(ValueError, match="overlap"):
        bad.validate()
    shards = tuple(Shard(s.id, 0, s.port, s.partition, s.role) for s in t.shards)
    with pytest.raises(ValueError, match="primary and replica"):
        t.replace(shards=shards).validate()
    holes = t.replace(partitions=(Partition(0, ((0, 100),), 0, (3,)),))
    assert holes.unserved_slots() == [(101, 16383)]
