"""Acceptance: a cache as its users see it, one per clustering policy (shared by this module's tests).

Real redis-py clients, sync and asyncio, RESP2 and RESP3: `RedisCluster` on the OSS endpoint, `Redis` on
Enterprise and NoCluster. The same scenario (every data type, pipelines, transactions, pub/sub across
nodes, blocking commands, SCAN across shards) runs against the cache and against a real redis-server,
and the results must be equal. Then what only a cache does: MOVED, CROSSSLOT and AMR's refusals byte for
byte, and a write visible on the partition's replica shard.
"""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis
import redis.asyncio

from amr_emulator import Cache
from amr_emulator.protocol import errors
from amr_emulator.protocol.slots import key_slot
from tests.servers import RawConnection

POLICIES = ["oss", "enterprise", "nocluster"]


@pytest.fixture(scope="module")
def caches():
    started: dict[str, Cache] = {}

    def get(policy: str) -> Cache:
        if policy not in started:
            started[policy] = Cache(policy=policy, timing="fast").start()
        return started[policy]

    yield get
    for cache in started.values():
        cache.stop()


# --- the scenario --------------------------------------------------------------------------------
# Steps are (method, args, kwargs) of redis-py's client API, or ("pipeline", transaction, [steps]).
# Keys that go together carry the hash tag {t}, so that the OSS policy accepts them as Redis Cluster does.

T = "{t}"
STEPS = [
    # strings
    ("set", (f"{T}s", "hello"), {}), ("get", (f"{T}s",), {}), ("append", (f"{T}s", " world"), {}),
    ("getrange", (f"{T}s", 0, 4), {}), ("setrange", (f"{T}s", 6, "there"), {}), ("strlen", (f"{T}s",), {}),
    ("set", ("n", 10), {}), ("incr", ("n",), {}), ("incrby", ("n", 5), {}), ("decr", ("n",), {}),
    ("incrbyfloat", ("n", 1.5), {}), ("set", ("n", "x", ), {"nx": True}), ("set", ("n", "7"), {"get": True}),
    ("getdel", ("n",), {}), ("get", ("n",), {}), ("setnx", ("n", 1), {}), ("incr", (f"{T}s",), {}),
    ("mset", ({f"{T}a": "1", f"{T}b": "2"},), {}), ("mget", ([f"{T}a", f"{T}b", f"{T}none"],), {}),
    ("msetnx", ({f"{T}a": "3", f"{T}c": "4"},), {}), ("lcs", (f"{T}a", f"{T}b"), {}),
    # keys
    ("exists", (f"{T}a", f"{T}b", f"{T}none"), {}), ("type", (f"{T}s",), {}), ("expire", (f"{T}a", 100), {}),
    ("ttl", (f"{T}a",), {}), ("persist", (f"{T}a",), {}), ("ttl", (f"{T}a",), {}),
    ("rename", (f"{T}a", f"{T}a2"), {}), ("copy", (f"{T}a2", f"{T}a3"), {}), ("get", (f"{T}a3",), {}),
    ("delete", (f"{T}a2", f"{T}a3", f"{T}none"), {}),
    # hashes
    ("hset", ("h",), {"mapping": {"f1": "v1", "f2": "2"}}), ("hget", ("h", "f1"), {}), ("hgetall", ("h",), {}),
    ("hincrby", ("h", "f2", 3), {}), ("hincrbyfloat", ("h", "f2", 0.5), {}), ("hmget", ("h", ["f1", "zz"]), {}),
    ("hsetnx", ("h", "f1", "x"), {}), ("hdel", ("h", "f1"), {}), ("hlen", ("h",), {}), ("hkeys", ("h",), {}),
    ("hexists", ("h", "f2"), {}), ("object", ("encoding", "h"), {}), ("hstrlen", ("h", "f2"), {}), ("hvals", ("h",), {}),
    # lists
    ("rpush", (f"{T}l", "a", "b", "c", "d"), {}), ("lpush", (f"{T}l", "z"), {}), ("lrange", (f"{T}l", 0, -1), {}),
    ("lpop", (f"{T}l",), {}), ("rpop", (f"{T}l", 2), {}), ("linsert", (f"{T}l", "BEFORE", "b", "x"), {}),
    ("lindex", (f"{T}l", 1), {}), ("lset", (f"{T}l", 0, "A"), {}), ("lpos", (f"{T}l", "b"), {}),
    ("lmove", (f"{T}l", f"{T}l2", "LEFT", "RIGHT"), {}), ("lrange", (f"{T}l2", 0, -1), {}), ("llen", (f"{T}l",), {}),
    ("lrem", (f"{T}l", 0, "x"), {}), ("ltrim", (f"{T}l", 0, 0), {}), ("lrange", (f"{T}l", 0, -1), {}),
    # sets
    ("sadd", (f"{T}x", "a", "b", "c"), {}), ("sadd", (f"{T}y", "b", "c", "d"), {}), ("smembers", (f"{T}x",), {}),
    ("sismember", (f"{T}x", "a"), {}), ("smismember", (f"{T}x", ["a", "q"]), {}), ("scard", (f"{T}x",), {}),
    ("sinter", ([f"{T}x", f"{T}y"],), {}), ("sunion", ([f"{T}x", f"{T}y"],), {}), ("sdiff", ([f"{T}x", f"{T}y"],), {}),
    ("sinterstore", (f"{T}z", [f"{T}x", f"{T}y"]), {}), ("sintercard", (2, [f"{T}x", f"{T}y"]), {}),
    ("srem", (f"{T}x", "a"), {}), ("smove", (f"{T}x", f"{T}y", "b"), {}),
    # sorted sets
    ("zadd", (f"{T}zs", {"a": 1, "b": 2, "c": 3.5}), {}), ("zrange", (f"{T}zs", 0, -1), {"withscores": True}),
    ("zrangebyscore", (f"{T}zs", 1.5, "+inf"), {}), ("zrevrange", (f"{T}zs", 0, 1), {}),
    ("zincrby", (f"{T}zs", 2, "a"), {}), ("zscore", (f"{T}zs", "a"), {}), ("zrank", (f"{T}zs", "a"), {}),
    ("zcount", (f"{T}zs", 0, 3), {}), ("zmscore", (f"{T}zs", ["a", "nope"]), {}), ("zlexcount", (f"{T}zs", "-", "+"), {}),
    ("zunionstore", (f"{T}zu", [f"{T}zs", f"{T}zs"]), {}), ("zrange", (f"{T}zu", 0, -1), {"withscores": True}),
    ("zpopmin", (f"{T}zs",), {}), ("zrem", (f"{T}zs", "c"), {}), ("zcard", (f"{T}zs",), {}),
    # streams
    ("xadd", ("st", {"f": "1"}), {"id": "1-1"}), ("xadd", ("st", {"f": "2"}), {"id": "2-1"}), ("xlen", ("st",), {}),
    ("xrange", ("st",), {}), ("xrevrange", ("st",), {"count": 1}), ("xread", ({"st": "0"},), {}),
    ("xgroup_create", ("st", "g", "0"), {}), ("xreadgroup", ("g", "c1", {"st": ">"}), {"count": 1}),
    ("xack", ("st", "g", "1-1"), {}), ("xpending", ("st", "g"), {}), ("xdel", ("st", "2-1"), {}),
    ("xtrim", ("st",), {"maxlen": 0}), ("xlen", ("st",), {}),
    # bitmaps, HyperLogLog, geo
    ("setbit", (f"{T}bm", 7, 1), {}), ("getbit", (f"{T}bm", 7), {}), ("bitcount", (f"{T}bm",), {}),
    ("bitpos", (f"{T}bm", 1), {}), ("set", (f"{T}bm2", "\x0f"), {}), ("bitop", ("OR", f"{T}bo", f"{T}bm", f"{T}bm2"), {}),
    ("get", (f"{T}bo",), {}), ("pfadd", (f"{T}h1", "a", "b", "c"), {}), ("pfadd", (f"{T}h2", "c", "d"), {}),
    ("pfcount", (f"{T}h1",), {}), ("pfmerge", (f"{T}h3", f"{T}h1", f"{T}h2"), {}), ("pfcount", (f"{T}h3",), {}),
    ("geoadd", ("geo", [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"]), {}),
    ("geodist", ("geo", "Palermo", "Catania", "km"), {}), ("geohash", ("geo", "Palermo"), {}),
    ("geosearch", ("geo",), {"longitude": 15, "latitude": 37, "radius": 200, "unit": "km", "sort": "ASC"}),
    # errors
    ("hget", (f"{T}s", "f"), {}), ("lpush", (f"{T}s", "x"), {}), ("incr", ("h",), {}),
    # pipelines and transactions
    ("pipeline", False, [("set", ("p1", "1"), {}), ("incr", ("p1",), {}), ("rpush", ("p2", "a"), {}),
                         ("get", ("p1",), {}), ("lrange", ("p2", 0, -1), {}), ("get", ("p3",), {})]),
    ("pipeline", True, [("set", (f"{T}m1", "1"), {}), ("incrby", (f"{T}m1", 9), {}),
                        ("sadd", (f"{T}m2", "q"), {}), ("smembers", (f"{T}m2",), {})]),
    ("delete", ("p1", "p2", f"{T}m1", f"{T}m2"), {}),
]


def normal(value):
    """Results comparable across clients: unordered replies sorted, errors as their text. (redis-py's
    cluster transactions skip its reply callbacks: `OK` stays bytes, a set stays a list.)"""
    if isinstance(value, BaseException):
        return ("error", str(value))
    if value == b"OK":
        return True
    if isinstance(value, (set, frozenset)):
        return sorted(normal(v) for v in value)
    if isinstance(value, dict):
        return {normal(k): normal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normal(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


def run_sync(r) -> list:
    r.flushall()
    out = []
    for step in STEPS:
        if step[0] == "pipeline":
            _, transaction, steps = step
            pipe = r.pipeline(transaction=transaction)
            for name, args, kwargs in steps:
                getattr(pipe, name)(*args, **kwargs)
            try:
                out.append(normal(pipe.execute(raise_on_error=False)))
            except redis.RedisError as e:
                out.append(normal(e))
            continue
        name, args, kwargs = step
        try:
            out.append(normal(getattr(r, name)(*args, **kwargs)))
        except redis.RedisError as e:
            out.append(normal(e))
    return out


async def run_async(r) -> list:
    await r.flushall()
    # redis-py 8.1's asyncio RedisCluster fails its own transactions (TypeError: <lambda>() got an
    # unexpected keyword argument 'keys', in its reply callbacks): there the step runs as a plain pipeline.
    cluster = isinstance(r, redis.asyncio.RedisCluster)
    out = []
    for step in STEPS:
        if step[0] == "pipeline":
            _, transaction, steps = step
            transaction = transaction and not cluster
            pipe = r.pipeline(transaction=transaction)
            for name, args, kwargs in steps:
                getattr(pipe, name)(*args, **kwargs)     # queues (returns the pipeline)
            try:
                out.append(normal(await pipe.execute(raise_on_error=False)))
            except redis.RedisError as e:
                out.append(normal(e))
            continue
        name, args, kwargs = step
        try:
            out.append(normal(await getattr(r, name)(*args, **kwargs)))
        except redis.RedisError as e:
            out.append(normal(e))
    return out


def compare(ours: list, theirs: list) -> None:
    assert len(ours) == len(theirs)
    for step, a, b in zip(STEPS, ours, theirs):
        assert a == b, f"{step[:2]}:\n  cache: {a!r}\n  redis: {b!r}"


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("policy", POLICIES)
def test_same_results_as_redis_sync(caches, real_redis, policy, protocol):
    cache = caches(policy)
    ours = run_sync(cache.client(protocol=protocol))
    real = redis.Redis(host=real_redis.host, port=real_redis.port, protocol=protocol)
    try:
        compare(ours, run_sync(real))
    finally:
        real.close()


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("policy", POLICIES)
async def test_same_results_as_redis_async(caches, real_redis, policy, protocol):
    cache = caches(policy)
    client = cache.async_client(protocol=protocol)
    real = redis.asyncio.Redis(host=real_redis.host, port=real_redis.port, protocol=protocol)
    try:
        ours = await run_async(client)
        compare(ours, await run_async(real))
    finally:
        await client.aclose()
        await real.aclose()


# --- pub/sub across nodes, blocking commands, SCAN across shards ------------------------------------

def node_clients(cache: Cache, protocol: int):
    """A plain client on node 0's endpoint and one on node 1's (OSS included: pub/sub has no keys)."""
    t = cache.topology()
    password = cache.access_key
    return [redis.Redis(host=n.ip, port=n.port, password=password, protocol=protocol) for n in t.nodes[:2]]


def pubsub_scenario(sub_client, pub_client) -> list:
    p = sub_client.pubsub()
    p.subscribe("news")
    p.psubscribe("new*")
    events = []

    def next_message():
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            m = p.get_message(timeout=1.0)
            if m is not None:
                return {k: m[k] for k in ("type", "pattern", "channel", "data")}
        raise AssertionError("no message")

    events += [next_message(), next_message()]                        # the two confirmations
    events.append(pub_client.publish("news", "hello"))                # the subscriber counts once per match
    events += sorted((next_message() for _ in range(2)), key=repr)    # message and pmessage
    events.append(pub_client.publish("other", "nobody"))
    p.unsubscribe("news")
    events.append(next_message())
    events.append(pub_client.execute_command("PUBSUB", "NUMPAT"))
    p.close()
    return events


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("policy", POLICIES)
def test_pubsub_across_nodes(caches, real_redis, policy, protocol):
    cache = caches(policy)
    sub, pub = node_clients(cache, protocol)
    real_sub, real_pub = (redis.Redis(host=real_redis.host, port=real_redis.port, protocol=protocol)
                          for _ in range(2))
    try:
        ours = pubsub_scenario(sub, pub)
        assert ours == pubsub_scenario(real_sub, real_pub)
    finally:
        for c in (sub, pub, real_sub, real_pub):
            c.close()


def blocking_scenario(waiter, pusher) -> list:
    """BLPOP, BLMOVE, BZPOPMIN and XREAD BLOCK served by another connection's write, and a timeout."""
    results: dict[str, object] = {}

    def wait():
        results["blpop"] = waiter.blpop(["{b}q1", "{b}q2"], timeout=10)
        results["blmove"] = waiter.blmove("{b}q3", "{b}q4", timeout=10)
        results["bzpopmin"] = waiter.bzpopmin("{b}z", timeout=10)
        results["xread"] = waiter.xread({"{b}st": "$"}, block=10000)
        results["timeout"] = waiter.blpop("{b}never", timeout=0.1)

    thread = threading.Thread(target=wait)
    thread.start()
    pusher.rpush("{b}q2", "first")
    pusher.rpush("{b}q3", "moved")
    pusher.zadd("{b}z", {"m": 1})
    deadline = time.monotonic() + 10
    while "bzpopmin" not in results and time.monotonic() < deadline:
        time.sleep(0.01)
    # XREAD $ only sees entries added after it blocks: add until one arrives.
    while "xread" not in results and time.monotonic() < deadline:
        pusher.xadd("{b}st", {"f": "v"}, id="*")
        time.sleep(0.05)
    thread.join(10)
    xread = results["xread"]
    if isinstance(xread, dict):                     # RESP3: {stream: [[[id, fields]]]}
        xread = [[k, v[0] if len(v) == 1 and isinstance(v[0], list) else v] for k, v in xread.items()]
    entries = xread[0][1]
    results["xread"] = [xread[0][0], entries[0][1]]    # the ids are times
    results["left"] = pusher.lrange("{b}q4", 0, -1)
    pusher.delete("{b}q4", "{b}st")
    return [normal(results[k]) for k in ("blpop", "blmove", "bzpopmin", "xread", "timeout", "left")]


@pytest.mark.parametrize("policy", POLICIES)
def test_blocking_commands_woken_from_another_node(caches, real_redis, policy):
    cache = caches(policy)
    waiter, pusher = node_clients(cache, 2) if policy != "oss" else (cache.client(), cache.client())
    real = [redis.Redis(host=real_redis.host, port=real_redis.port) for _ in range(2)]
    try:
        assert blocking_scenario(waiter, pusher) == blocking_scenario(*real) == [
            [b"{b}q2", b"first"], b"moved", [b"{b}z", b"m", 1.0], [b"{b}st", {b"f": b"v"}], None, [b"moved"]]
    finally:
        for c in (waiter, pusher, *real):
            c.close()


@pytest.mark.parametrize("policy", POLICIES)
async def test_async_blocking_and_pubsub(caches, policy):
    cache = caches(policy)
    waiter, pusher = cache.async_client(protocol=3), cache.async_client(protocol=3)
    try:
        await pusher.delete("{a}q")
        blocked = asyncio.ensure_future(waiter.blpop(["{a}q"], timeout=10))
        await pusher.rpush("{a}q", "v")
        assert await asyncio.wait_for(blocked, 10) == [b"{a}q", b"v"]
        if policy != "oss":
            p = waiter.pubsub()
            await p.subscribe("ch")
            assert (await p.get_message(timeout=5))["type"] == "subscribe"
            assert await pusher.publish("ch", "x") == 1
            m = await p.get_message(timeout=5)
            assert (m["channel"], m["data"]) == (b"ch", b"x")
            await p.aclose()
    finally:
        await waiter.aclose()
        await pusher.aclose()


@pytest.mark.parametrize("policy", POLICIES)
def test_scan_covers_every_shard(caches, policy):
    cache = caches(policy)
    r = cache.client()
    r.flushall()
    names = {f"scan:{i}".encode() for i in range(300)}
    pipe = r.pipeline(transaction=False)
    for name in names:
        pipe.set(name, 1)
    pipe.execute()
    partitions = {p.id for p in cache.topology().partitions}
    assert len(partitions) == (1 if policy == "nocluster" else 3)
    assert set(r.scan_iter(match="scan:*", count=50)) == names
    # redis-py 8.1's RedisCluster sends KEYS and DBSIZE to one node (it reads COMMAND's tips as bytes and
    # misses their request_policy:all_shards): ask every primary, as against a real Redis Cluster.
    every = {"target_nodes": redis.RedisCluster.PRIMARIES} if policy == "oss" else {}
    assert set(r.keys("scan:*", **every)) == names
    assert r.dbsize(**every) == 300
    r.flushall()
    assert r.dbsize(**every) == 0


# --- what only a cache does --------------------------------------------------------------------------

def raw(cache: Cache, host: str | None = None, port: int | None = None) -> RawConnection:
    conn = RawConnection(host or cache.host, port or cache.port)
    assert conn.call("AUTH", cache.access_key) == b"+OK\r\n"
    return conn


CROSSSLOT = b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
REFUSED = [("BGSAVE",), ("SAVE",), ("BGREWRITEAOF",), ("SHUTDOWN",), ("DEBUG", "SLEEP", "0"), ("MOVE", "k", "1"),
           ("REPLICAOF", "NO", "ONE"), ("SLAVEOF", "NO", "ONE"), ("SWAPDB", "0", "1"), ("MODULE", "LIST"),
           ("PSYNC", "?", "-1"), ("SYNC",), ("REPLCONF", "ack", "0"), ("CONFIG", "SET", "maxmemory", "1")]


def test_moved_crossslot_and_refusals_oss(caches):
    cache = caches("oss")
    t = cache.topology()
    for node in t.nodes:
        conn = raw(cache, node.ip, node.cluster_port)
        try:
            for i in range(20):
                key = f"m{i}"
                slot = key_slot(key.encode())
                owner = t.node(t.primary_shard(t.partition_for_slot(slot).id).node)
                reply = conn.call("SET", key, "v")
                if owner.id == node.id:
                    assert reply == b"+OK\r\n"
                else:
                    assert reply == b"-MOVED %d %s:%d\r\n" % (slot, owner.ip.encode(), owner.cluster_port)
            assert conn.call("MSET", "a", "1", "b", "2") == CROSSSLOT
            assert conn.call("MSET", "{a}1", "1", "{a}2", "2") in (b"+OK\r\n", b"-MOVED %d %s:%d\r\n" % (
                key_slot(b"a"), t.node(t.primary_shard(t.partition_for_slot(key_slot(b"a")).id).node).ip.encode(),
                t.node(t.primary_shard(t.partition_for_slot(key_slot(b"a")).id).node).cluster_port))
            for cmd in REFUSED + [("CLUSTER", "ADDSLOTS", "1")]:
                if cmd[0] == "CLUSTER":
                    expected = b"-ERR unknown subcommand 'ADDSLOTS'. Try CLUSTER HELP.\r\n"
                else:
                    expected = b"-%s\r\n" % errors.unknown_command(
                        cmd[0].encode(), [x.encode() for x in cmd[1:]]).encode()
                assert conn.call(*cmd) == expected, cmd
            assert conn.call("SELECT", "1") == b"-ERR DB index is out of range\r\n"
            assert conn.call("SELECT", "0") == b"+OK\r\n"
        finally:
            conn.close()


@pytest.mark.parametrize("policy", ["enterprise", "nocluster"])
def test_crossslot_and_refusals_single_endpoint(caches, policy):
    cache = caches(policy)
    conn = raw(cache)
    try:
        conn.call("FLUSHALL")
        assert conn.call("MSET", "a", "1", "b", "2") == b"+OK\r\n"           # split over shards
        assert conn.call("MGET", "a", "b", "c") == b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n"
        assert conn.call("DEL", "a", "b", "c") == b":2\r\n"
        reply = conn.call("SUNIONSTORE", "dest", "a", "b")
        assert reply == (CROSSSLOT if policy == "enterprise" else b":0\r\n")
        reply = conn.call("RENAME", "a", "b")
        assert reply == (CROSSSLOT if policy == "enterprise" else b"-ERR no such key\r\n")
        for cmd in REFUSED + [("CLUSTER", "SLOTS"), ("CLUSTER", "INFO")]:
            expected = errors.unknown_command(cmd[0].encode(), [x.encode() for x in cmd[1:]])
            assert conn.call(*cmd) == b"-" + expected.encode() + b"\r\n", cmd
        assert conn.call("SELECT", "1") == b"-ERR DB index is out of range\r\n"
        assert conn.call("GET", "nothing") == b"$-1\r\n"                     # never MOVED
    finally:
        conn.close()


@pytest.mark.parametrize("policy", POLICIES)
def test_write_is_on_the_replica_shard(caches, policy):
    cache = caches(policy)
    t = cache.topology()
    r = cache.client()
    for key in ("repl:a", "repl:b", "repl:c"):
        r.set(key, "copied")
        partition = t.partition_for_slot(key_slot(key.encode()))
        (replica,) = t.replica_shards(partition.id)
        primary = t.primary_shard(partition.id)
        assert replica.node != primary.node
        node = t.node(replica.node)
        shard = redis.Redis(host=node.ip, port=replica.port, password=t.internal_password)
        try:
            assert shard.info("replication")["role"] == "slave"
            deadline = time.monotonic() + 5
            while shard.get(key) != b"copied" and time.monotonic() < deadline:
                time.sleep(0.01)
            assert shard.get(key) == b"copied"
        finally:
            shard.close()


def test_up_then_down_leaves_nothing_running():
    """The CLI as a user runs it: `up --detach`, then `down`; no process of the cache is left."""
    import json
    import subprocess
    import sys

    from amr_emulator.topology import free_port
    from tests.cache.conftest import alive, processes_mentioning

    def cli(*args):
        p = subprocess.run([sys.executable, "-m", "amr_emulator.cli", *args], capture_output=True, text=True,
                           timeout=90)
        assert p.returncode == 0, p.stderr
        return p.stdout

    name = "acceptance-updown"
    cli("up", "--detach", "--name", name, "--port", str(free_port()), "--policy", "enterprise", "--timing", "fast")
    try:
        status = json.loads(cli("status", "--name", name, "--json"))
        pids = {status["cache"]["controller_pid"]}
        for n in status["nodes"]:
            pids.add(n["pid"])
            pids.update(s["pid"] for s in (n.get("status") or {}).get("shards") or [] if s.get("pid"))
        assert len(pids) == 1 + 3 + 6 and all(alive(p) for p in pids)
    finally:
        cli("down", "--name", name)
    assert not [p for p in pids if alive(p)]
    assert not processes_mentioning(name)
