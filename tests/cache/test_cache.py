"""A cache through the Python API: each clustering policy serves redis-py clients, the management API
answers, down leaves no process, a taken port or name fails cleanly, caches run side by side."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from amr_emulator import Cache
from amr_emulator.config import running_caches
from amr_emulator.controller import StartError
from amr_emulator.controller.launch import ApiError, request
from amr_emulator.protocol.slots import key_slot

from tests.cache.conftest import alive, cache_pids, processes_mentioning


@pytest.fixture(scope="module")
def oss():
    with Cache(policy="oss", timing="fast") as cache:
        yield cache


def test_oss_cluster_client(oss):
    r = oss.client()
    keys = [f"key:{i}" for i in range(50)]
    assert {key_slot(k.encode()) * 3 // 16384 for k in keys} == {0, 1, 2}   # every partition
    for i, k in enumerate(keys):
        assert r.set(k, i)
    assert [r.get(k) for k in keys] == [str(i).encode() for i in range(50)]
    hosts = {node.host for node in r.get_nodes()}
    assert all(h.startswith("127.0.1.") or h == "127.0.0.1" for h in hosts)


def test_access_key_required(oss):
    plain = redis.Redis(host=oss.host, port=oss.port, retry=Retry(NoBackoff(), 0))
    with pytest.raises(redis.AuthenticationError):
        plain.ping()
    plain.close()
    keys = oss.keys()
    for key in (keys["primary"], keys["secondary"]):
        r = redis.Redis(host=oss.host, port=oss.port, password=key)
        assert r.ping()
        r.close()


def test_topology_and_status(oss):
    t = oss.topology()
    assert t.name == oss.name and t.policy == "oss" and t.endpoint_port == oss.port
    assert len(t.nodes) == 3 and len(t.partitions) == 3 and len(t.shards) == 6
    assert t.unserved_slots() == []
    st = oss.status()
    assert st["cache"]["state"] == "ready"
    assert [n["id"] for n in st["nodes"]] == [0, 1, 2]
    assert all(n["running"] and n["status"]["ready"] for n in st["nodes"])
    json.dumps(st)
    events = [e["operation"] for e in oss.events()]
    assert events[0] == "cache-creating" and events.count("node-started") == 3 and "cache-ready" in events
    assert all({"time", "operation", "details"} <= set(e) for e in oss.events())


def test_management_api(oss):
    base = oss.management_url
    (summary,) = request(base, "GET", "/caches")
    assert summary["name"] == oss.name and summary["endpoint"] == oss.endpoint
    assert request(base, "GET", f"/caches/{oss.name}")["policy"] == "oss"
    assert request(base, "GET", "/topology")["epoch"] >= 1   # this controller's cache, without the prefix
    with pytest.raises(ApiError) as e:
        request(base, "GET", "/caches/nope/topology")
    assert e.value.status == 404 and "no cache named 'nope'" in str(e.value)
    with pytest.raises(ApiError) as e:
        request(base, "PUT", "/topology")
    assert e.value.status == 405
    with pytest.raises(ApiError) as e:
        request(base, "POST", f"/caches/{oss.name}/keys/regenerate", {"key": "tertiary"})
    assert e.value.status == 400
    raw = urllib.request.urlopen(base + f"/caches/{oss.name}/events").read()
    assert json.loads(raw)[0]["operation"] == "cache-creating"


def test_regenerate_key(oss):
    before = oss.keys()
    epoch = oss.topology().epoch
    after = oss.regenerate_key("primary")
    assert after["primary"] != before["primary"] and after["secondary"] == before["secondary"]
    assert after["epoch"] == epoch + 1 and after["errors"] == {}
    assert oss.topology().epoch == epoch + 1
    r = redis.Redis(host=oss.host, port=oss.port, password=after["primary"])
    assert r.ping()
    r.close()
    old = redis.Redis(host=oss.host, port=oss.port, password=before["primary"], retry=Retry(NoBackoff(), 0))
    with pytest.raises(redis.AuthenticationError):
        old.ping()
    old.close()
    assert [e["details"]["epoch"] for e in oss.events() if e["operation"] == "keys-regenerated"] == [epoch + 1]


@pytest.mark.parametrize("policy", ["enterprise", "nocluster"])
def test_single_endpoint_policies(policy):
    with Cache(policy=policy, timing="fast") as cache:
        r = cache.client()
        assert isinstance(r, redis.Redis) and not isinstance(r, redis.RedisCluster)
        for i in range(30):
            r.set(f"k{i}", i)
        assert r.get("k7") == b"7"
        t = cache.topology()
        assert len(t.partitions) == (1 if policy == "nocluster" else 3)
        pids = cache_pids(cache)
    assert not [p for p in pids if alive(p)]


def test_down_leaves_nothing():
    cache = Cache(nodes=2, shards=2, timing="fast").start()
    pids = cache_pids(cache)
    assert len(pids) == 1 + 2 + 4
    assert all(alive(p) for p in pids)
    cache.stop()
    assert not [p for p in pids if alive(p)]
    assert not processes_mentioning(cache.name)
    cache.stop()   # twice is fine


def test_taken_port_and_name_fail_cleanly(oss):
    with pytest.raises(StartError, match=rf"127.0.0.1:{oss.port} is already in use"):
        Cache(name="second", port=oss.port, timing="fast").start()
    assert not processes_mentioning('"second"')
    with pytest.raises(StartError, match=f"a cache named '{oss.name}' is already running"):
        Cache(name=oss.name, timing="fast").start()
    assert running_caches()[oss.name]["controller_pid"] == oss.controller_pid   # its state file untouched
    assert oss.client().ping()


def test_caches_side_by_side(oss):
    with Cache(policy="enterprise", nodes=2, shards=2, zones=["1", "2"], timing="fast") as other:
        a, b = oss.topology(), other.topology()
        assert {n.address for n in a.nodes}.isdisjoint(n.address for n in b.nodes)
        assert {n.cluster_address for n in a.nodes}.isdisjoint(n.cluster_address for n in b.nodes)
        assert [n.zone for n in b.nodes] == ["1", "2"]
        other.client().set("x", "other")
        oss.client().set("x", "oss")
        assert other.client().get("x") == b"other"
        assert oss.client().get("x") == b"oss"


def test_bad_spec_is_refused_before_anything_starts():
    from amr_emulator.config import SpecError
    with pytest.raises(SpecError, match="high availability needs at least two nodes"):
        Cache(nodes=1)
    with pytest.raises(SpecError, match="unknown clustering policy"):
        Cache(policy="cluster")


def test_no_auth_cache():
    with Cache(nodes=2, shards=1, auth=False, timing="fast") as cache:
        assert cache.keys() == {"auth": False, "primary": None, "secondary": None}
        r = redis.RedisCluster(host=cache.host, port=cache.port)
        assert r.set("a", 1) and r.get("a") == b"1"
        r.close()
        with pytest.raises(ApiError, match="no access keys"):
            cache.regenerate_key("primary")


def test_ready_time_is_reported(oss):
    assert 0 < oss.ready_after < 30


def test_fallback_without_per_node_ips(monkeypatch):
    """Where 127.0.1.x cannot be bound (forced here), nodes share 127.0.0.1 with distinct ports."""
    monkeypatch.setenv("AMR_EMULATOR_SHARED_IP", "1")
    with Cache(nodes=2, shards=2, timing="fast") as cache:
        t = cache.topology()
        assert {n.ip for n in t.nodes} == {"127.0.0.1"}
        ports = [n.port for n in t.nodes] + [n.cluster_port for n in t.nodes]
        assert len(set(ports)) == 4 and cache.port not in ports
        r = cache.client()
        assert {(n.host, n.port) for n in r.get_nodes()} == {("127.0.0.1", n.cluster_port) for n in t.nodes}
        for i in range(20):
            r.set(f"k{i}", i)
        assert r.get("k13") == b"13"


def test_owner_killed_stops_the_cache(tmp_path):
    """A test process killed without stopping its cache (SIGKILL): the cache stops on its own."""
    import os
    import subprocess
    import sys
    script = (
        "import json, os, signal\n"
        "from amr_emulator import Cache\n"
        "from tests.cache.conftest import cache_pids\n"
        "c = Cache(nodes=2, shards=1, timing='fast').start()\n"
        "print(json.dumps(sorted(cache_pids(c))), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=root,
                       env=dict(os.environ, PYTHONPATH=root))
    assert p.returncode == -9, p.stderr
    pids = json.loads(p.stdout)
    assert len(pids) == 1 + 2 + 2
    deadline = time.monotonic() + 15
    while [pid for pid in pids if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if alive(pid)]
