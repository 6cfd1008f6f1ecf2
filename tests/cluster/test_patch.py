"""Patching as AMR does it, under real redis-py clients: new nodes with a new version, the cluster
leader moved to one of them, the old nodes drained one by one (replica built, planned failover for
primaries) and removed. Nothing acknowledged is lost, the old nodes' processes are gone, and what the
clients see afterwards (INFO, CLUSTER SLOTS, TLS host names) names the new nodes."""
from __future__ import annotations

import pytest
import redis

from amr_emulator import Cache
from amr_emulator.config import pid_alive

from tests.cluster.conftest import Writer, converged, wait_until


def check_patched(cache: Cache, before, result, version: str) -> None:
    """The topology after a patch: every old node removed and its process gone, one new node per old one
    (same zone, new version), every shard on a new node, the leader a new node."""
    after = cache.topology()
    old_nodes = [n for n in before.nodes if n.state != "removed"]
    old_ids = {n.id for n in old_nodes}
    new_nodes = [n for n in after.nodes if n.id not in {m.id for m in before.nodes}]
    assert result["version"] == version
    assert [n.state for n in after.nodes if n.id in old_ids] == ["removed"] * len(old_ids)
    assert len(new_nodes) == len(old_nodes)
    assert all(n.state == "up" and n.version == version for n in new_nodes)
    assert {int(o): n for o, n in result["replaced"].items()} == {o.id: n.id for o, n in zip(old_nodes, new_nodes)}
    assert [after.node(n).zone for n in result["replaced"].values()] == [n.zone for n in old_nodes]
    assert {s.node for s in after.shards} <= {n.id for n in new_nodes}
    assert len(after.shards) == len(before.shards)
    for p in after.partitions:
        assert p.slots == before.partition(p.id).slots
        nodes = [after.shard(s).node for s in (p.primary, *p.replicas)]
        assert len(set(nodes)) == len(nodes) == 1 + len(before.partition(p.id).replicas)
    assert cache.leader() in {n.id for n in new_nodes}
    status = cache.status()
    for n in status["nodes"]:
        if n["id"] in old_ids:
            assert not n["running"] and n["state"] == "removed"
    wait_until(lambda: not any(pid_alive(pid) for pid in before_pids(cache, old_ids)))
    operations = [e["operation"] for e in cache.events()]
    for op in ("patch-started", "nodes-created", "leader-transferred", "shard-migrated", "node-removed",
               "patch-completed"):
        assert op in operations, op
    patch_ops = operations[len(operations) - operations[::-1].index("patch-started"):]
    assert patch_ops.count("shard-migrated") == len(before.shards)
    assert patch_ops.count("node-removed") == len(old_nodes)
    wait_until(lambda: converged(cache))


def _text(x) -> str:
    return x.decode() if isinstance(x, bytes) else x


def before_pids(cache: Cache, ids) -> list[int]:
    return [e["details"]["pid"] for e in cache.events() if e["operation"] == "node-started"
            and e["details"]["node"] in ids]


@pytest.mark.parametrize("policy", ["oss", "enterprise"])
def test_patch_under_writes_loses_nothing(policy):
    with Cache(policy=policy, timing="fast", zones=["1", "2", "3"]) as cache:
        wait_until(lambda: converged(cache))
        before = cache.topology()
        client = cache.client()
        for i in range(500):
            client.set(f"before:{i}", i)
        w = Writer(cache.client(), prefix=f"patch-{policy}")
        w.start()
        try:
            w.wait_acks(100)
            result = cache.patch()
            w.wait_acks(100)
        finally:
            w.finish()
        check_patched(cache, before, result, "7.4.1")
        reader = cache.client()
        assert w.lost(reader) == []
        assert all(reader.get(f"before:{i}") == str(i).encode() for i in range(500))
        # a moved primary's old endpoint never answered READONLY (redis-py does not recover from it)
        assert not [e for e in w.errors if "READONLY" in e], w.errors[:5]
        # the clients see the new version
        if policy == "oss":
            versions = {v["redis_version"] for v in reader.info("server", target_nodes=redis.RedisCluster.ALL_NODES)
                        .values()}
        else:
            versions = {reader.info("server")["redis_version"]}
        assert versions == {"7.4.1"}
        if policy == "oss":
            new_ips = {n.ip for n in cache.topology().nodes if n.state == "up"}
            slots = reader.cluster_slots(target_nodes=redis.RedisCluster.RANDOM)
            hosts = {v["primary"][0] for v in slots.values()} if isinstance(slots, dict) else \
                {_text(r[2][0]) for r in slots}
            assert hosts == new_ips
        # a second patch goes on from there
        before = cache.topology()
        result = cache.patch(version="7.4.5")
        check_patched(cache, before, result, "7.4.5")
        assert all(reader.get(f"before:{i}") == str(i).encode() for i in range(0, 500, 7))


def test_patch_of_a_two_node_tls_cache():
    """A two-node cache votes with the controller as witness; the new nodes present certificates that
    name their new IPs, so a RedisCluster client verifying host names follows MOVED to them."""
    with Cache(policy="oss", nodes=2, shards=2, timing="fast", tls=True) as cache:
        wait_until(lambda: converged(cache))
        before = cache.topology()
        client = cache.client()
        for i in range(200):
            client.set(f"k{i}", i)
        result = cache.patch()
        check_patched(cache, before, result, "7.4.1")
        fresh = cache.client()
        assert all(fresh.get(f"k{i}") == str(i).encode() for i in range(200))
        assert all(client.get(f"k{i}") == str(i).encode() for i in range(0, 200, 3))
        for n in cache.topology().nodes:
            if n.state == "up":
                direct = redis.Redis(host=n.ip, port=n.port, password=cache.access_key, ssl=True,
                                     ssl_ca_certs=cache.ca_path)
                try:
                    assert direct.ping()
                finally:
                    direct.close()


def test_patch_refused_while_a_node_is_down():
    with Cache(policy="enterprise", timing="fast", nodes=3) as cache:
        cache.kill_node(2, keep_down=True)
        with pytest.raises(Exception, match="node.s. 2 are down: patching needs every node up"):
            cache.patch()
        # removed nodes are out of reach of node operations
        cache.start_node(2)
        wait_until(lambda: cache.topology().node(2).state == "up" and converged(cache))
        cache.patch()
        with pytest.raises(Exception, match="node 0 was removed from the cache"):
            cache.kill_node(0)
