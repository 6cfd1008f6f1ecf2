"""Self-healing and node loss, NoCluster, and the internal commands."""
from __future__ import annotations

import json
import os
import signal
import time

import pytest
import redis

from amr_emulator.protocol.slots import key_slot
from tests.proxy.conftest import start_cache
from tests.servers import RawConnection


@pytest.fixture
def cache():
    c = start_cache("enterprise", nodes=3, shards=3)
    try:
        yield c
    finally:
        c.stop()


def key_on_node(cache, node_id: int) -> str:
    topo = cache.topology
    i = 0
    while True:
        k = f"k{i}"
        if topo.primary_shard(topo.slot_table[key_slot(k.encode())]).node == node_id:
            return k
        i += 1


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_killed_shard_is_restarted(cache):
    status = cache.status(0)
    assert status["ready"] and status["epoch"] == 1 and status["node"] == 0
    primary = [s for s in status["shards"] if s["role"] == "primary"][0]
    os.kill(primary["pid"], signal.SIGKILL)

    def restarted():
        s = [x for x in cache.status(0)["shards"] if x["id"] == primary["id"]][0]
        return s["up"] and s["pid"] not in (None, primary["pid"]) and s["restarts"] == 1

    wait_for(restarted)
    r = redis.Redis(host=cache.host, port=cache.port)
    try:
        key = key_on_node(cache, 0)
        wait_for(lambda: _try_set(r, key))
        assert r.get(key) == b"v"
    finally:
        r.close()


def _try_set(r, key):
    try:
        return r.set(key, "v")
    except redis.ResponseError:
        return False


def test_client_through_node_2_survives_node_1_proxy_kill(cache):
    n2 = cache.topology.node(2)
    r = redis.Redis(host=n2.ip, port=n2.port)
    try:
        keys = [key_on_node(cache, n) for n in range(3)]
        for k in keys:
            assert r.set(k, "before")
        os.kill(cache.procs[1].proc.pid, signal.SIGKILL)  # the proxy alone: its shards live on
        cache.procs[1].proc.wait()
        for k in keys:
            assert r.get(k) == b"before"
            assert r.set(k, "after")
        assert r.mget(keys) == [b"after"] * 3
    finally:
        r.close()


def test_internal_commands(cache):
    conn = cache.internal(0)
    try:
        topo = json.loads(conn.call("AMR.TOPOLOGY").split(b"\r\n", 1)[1][:-2])
        assert topo["epoch"] == 1 and topo["policy"] == "enterprise"
        newer = cache.topology.bump()
        assert conn.call("AMR.TOPOLOGY.SET", newer.to_json()) == b"+OK\r\n"
        assert cache.status(0)["epoch"] == 2
        assert conn.call("AMR.TOPOLOGY.SET", cache.topology.to_json()).startswith(b"-ERR stale topology epoch 1")
        assert conn.call("AMR.TOPOLOGY.SET", "{").startswith(b"-ERR invalid topology")
        assert conn.call("SET", "x", "1") == b"+OK\r\n"  # still routes after adopting
        assert conn.call("AMR.SHUTDOWN") == b"+OK\r\n"
        assert cache.procs[0].proc.wait(10) == 0
    finally:
        conn.close()


def test_nocluster_any_keys_together():
    cache = start_cache("nocluster", nodes=2, shards=1)
    try:
        for n in cache.topology.nodes:
            r = redis.Redis(host=n.ip, port=n.port)
            try:
                r.flushall()
                r.sadd("a", "1", "2")
                r.sadd("b", "2", "3")
                assert r.sunionstore("c", ["a", "b"]) == 3
                assert r.mset({"x": "1", "y": "2"}) and r.mget("x", "y") == [b"1", b"2"]
                p = r.pipeline()
                p.incr("x").incr("y")
                assert p.execute() == [2, 3]
                assert r.dbsize() == 5
            finally:
                r.close()
        conn = RawConnection(cache.host, cache.port)
        try:
            assert conn.call("CLUSTER", "SLOTS").startswith(b"-ERR unknown command 'CLUSTER'")
        finally:
            conn.close()
    finally:
        cache.stop()


def test_subscriber_survives_shard_restart(cache):
    n0 = cache.topology.node(0)
    sub = redis.Redis(host=n0.ip, port=n0.port)
    pub = redis.Redis(host=cache.host, port=cache.port)
    try:
        ps = sub.pubsub()
        channel = key_on_node(cache, 1)  # PUBLISH goes to the primary of the channel's slot: node 1's
        ps.subscribe(channel)
        assert ps.get_message(timeout=5)["type"] == "subscribe"
        shard = [s for s in cache.topology.shards if s.node == 1 and s.role == "primary"][0]
        status = [s for s in cache.status(shard.node)["shards"] if s["id"] == shard.id][0]
        os.kill(status["pid"], signal.SIGKILL)
        wait_for(lambda: [s for s in cache.status(shard.node)["shards"] if s["id"] == shard.id][0]["up"]
                 and _publish_count(pub, channel) == 1)
        got = ps.get_message(timeout=5)
        assert got["type"] == "message" and got["channel"] == channel.encode()
        ps.close()
    finally:
        sub.close()
        pub.close()


def _publish_count(pub, channel):
    try:
        return pub.publish(channel, "ping")
    except redis.RedisError:
        return 0


def test_refuses_to_share_the_endpoint_with_another_server(tmp_path, real_redis):
    """SO_REUSEPORT would let two caches share a port: a proxy that finds another server there stops."""
    from amr_emulator.topology import plan
    from tests.proxy.conftest import INTERNAL
    from tests.servers import ROOT, Process, free_port
    import subprocess
    import sys

    topo = plan("other", policy="enterprise", nodes=1, shards=1, ha=False, port=real_redis.port,
                node_ips=["127.0.0.1"], node_ports=[free_port()], cluster_ports=[free_port()],
                access_keys=None, internal_password=INTERNAL, timing="fast")
    path = tmp_path / "t.json"
    path.write_text(topo.to_json())
    p = Process([sys.executable, "-m", "proxy", "--topology", str(path), "--node", "0"], 0, cwd=ROOT)
    try:
        assert p.proc.wait(30) == 1
        assert b"is already served by another server" in p.proc.stderr.read()
        # its shard went with it
        shard = topo.shards[0]
        with pytest.raises(OSError):
            __import__("socket").create_connection(("127.0.0.1", shard.port), timeout=0.5).close()
    except subprocess.TimeoutExpired:
        raise AssertionError("the proxy did not stop")
    finally:
        p.stop()


def test_adopted_topology_starts_a_new_shard_and_routes_to_it():
    from amr_emulator.topology import Partition, Shard
    from tests.servers import free_port

    cache = start_cache("enterprise", nodes=1, shards=1, ha=False)
    try:
        t = cache.topology
        new_shard = Shard(id=1, node=0, port=free_port(), partition=1, role="primary")
        newer = t.bump(shards=t.shards + (new_shard,),
                       partitions=(Partition(id=0, slots=((0, 8191),), primary=0),
                                   Partition(id=1, slots=((8192, 16383),), primary=1)))
        conn = cache.internal(0)
        try:
            assert conn.call("AMR.TOPOLOGY.SET", newer.to_json()) == b"+OK\r\n"
        finally:
            conn.close()
        wait_for(lambda: [s for s in cache.status(0)["shards"] if s["id"] == 1 and s["up"]])
        r = redis.Redis(host=cache.host, port=cache.port)
        try:
            high = next(f"h{i}" for i in range(1000) if key_slot(f"h{i}".encode()) >= 8192)
            low = next(f"l{i}" for i in range(1000) if key_slot(f"l{i}".encode()) < 8192)
            assert r.mset({high: "new", low: "old"})
            assert r.dbsize() == 2
        finally:
            r.close()
        direct = RawConnection(t.node(0).ip, new_shard.port)
        try:
            direct.call("AUTH", t.internal_password)
            assert direct.call("KEYS", "*") == b"*1\r\n$%d\r\n%s\r\n" % (len(high), high.encode())
        finally:
            direct.close()
    finally:
        cache.stop()


def test_monitor_relays_every_shard(cache):
    mon = RawConnection(cache.host, cache.port)
    r = redis.Redis(host=cache.host, port=cache.port)
    try:
        assert mon.call("MONITOR") == b"+OK\r\n"
        keys = [key_on_node(cache, n) for n in range(3)]
        for k in keys:
            r.set(k, "v")
        lines = []
        while not all(any(b'"SET" "%s" "v"' % k.encode() in line for line in lines) for k in keys):
            lines.append(mon.read_reply())
        assert not any(b"AUTH" in line or b"HELLO" in line for line in lines)
    finally:
        mon.close()
        r.close()
