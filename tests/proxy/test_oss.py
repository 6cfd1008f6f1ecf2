"""The OSS policy: every node endpoint is a Redis Cluster node; compared with a real 3-node cluster."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import time

import pytest
import redis
from redis.cluster import RedisCluster

from amr_emulator.protocol.resp import decode_reply
from amr_emulator.protocol.slots import key_slot
from tests.servers import Process, RawConnection, free_port, redis_server_path


@pytest.fixture(scope="module")
def real_cluster():
    """Three redis-server nodes with --cluster-enabled yes, slots split as redis-cli would."""
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed")
    tmp = tempfile.mkdtemp(prefix="amr-real-cluster-")
    procs = []
    try:
        for i in range(3):
            port = free_port()
            while port > 55000:  # the cluster bus listens on port + 10000
                port = free_port()
            d = os.path.join(tmp, str(i))
            os.makedirs(d)
            procs.append(Process([redis_server_path(), "--port", str(port), "--bind", "127.0.0.1",
                                  "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--save", "",
                                  "--appendonly", "no", "--dir", d], port, cwd=d).wait_ready())
        conns = [RawConnection("127.0.0.1", p.port) for p in procs]
        for conn, (a, b) in zip(conns, [(0, 5460), (5461, 10922), (10923, 16383)]):
            conn.call("CLUSTER", "ADDSLOTSRANGE", str(a), str(b))
        for p in procs[1:]:
            conns[0].call("CLUSTER", "MEET", "127.0.0.1", str(p.port))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if all(b"cluster_state:ok" in c.call("CLUSTER", "INFO") and
                   c.call("CLUSTER", "NODES").count(b"connected") == 3 for c in conns):
                break
            time.sleep(0.1)
        for c in conns:
            c.close()
        yield procs
    finally:
        for p in procs:
            p.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def shape(v):
    """A reply's structure: types, lengths and map keys, without the values that differ."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [type(v).__name__] + [shape(x) for x in v]
    return type(v).__name__


def call(conn, *args):
    return decode_reply(conn.call(*args))[0]


def test_cluster_replies_have_redis_shapes(oss, real_cluster):
    for resp3 in (False, True):
        ours = oss.raw(0, "cluster")
        theirs = RawConnection("127.0.0.1", real_cluster[0].port)
        try:
            if resp3:
                ours.call("HELLO", "3")
                theirs.call("HELLO", "3")
            for sub in ("SLOTS", "SHARDS"):
                a, b = call(ours, "CLUSTER", sub), call(theirs, "CLUSTER", sub)
                assert shape(a) == shape(b), sub
            for sub in ("NODES", "INFO"):
                a, b = ours.call("CLUSTER", sub), theirs.call("CLUSTER", sub)
                assert a[:1] == b[:1]  # bulk in RESP2, verbatim in RESP3
            for cmd in (("CLUSTER", "KEYSLOT", "foo{bar}"), ("CLUSTER", "KEYSLOT"), ("CLUSTER", "FOO"),
                        ("CLUSTER",), ("ASKING",), ("READONLY",), ("READWRITE",), ("MGET", "a", "b"),
                        ("CLUSTER", "REPLICAS", "nosuch")):
                a, b = ours.call(*cmd), theirs.call(*cmd)
                assert a == b, (cmd, a, b)
            assert len(call(ours, "CLUSTER", "MYID")) == len(call(theirs, "CLUSTER", "MYID")) == 40
        finally:
            ours.close()
            theirs.close()


def test_cluster_nodes_and_slots_name_the_node_proxies(oss):
    topo = oss.topology
    conn = oss.raw(1)
    try:
        slots = call(conn, "CLUSTER", "SLOTS")
        covered = sum(e - s + 1 for s, e, *_ in slots)
        assert covered == 16384
        addrs = {(n[0].decode(), n[1]) for _, _, n in slots}
        assert addrs == {(n.ip, n.cluster_port) for n in topo.nodes}
        assert all(ip not in ("", "localhost") for ip, _ in addrs)
        nodes = call(conn, "CLUSTER", "NODES")
        nodes = nodes.decode() if isinstance(nodes, bytes) else nodes
        lines = nodes.strip("\n").split("\n")
        assert len(lines) == 3
        me = [line for line in lines if "myself" in line]
        assert len(me) == 1
        me_node = topo.node(1)
        assert f" {me_node.ip}:{me_node.cluster_port}@" in me[0]
        assert call(conn, "CLUSTER", "MYID").decode() == me[0].split()[0]
        for line in lines:
            assert re.fullmatch(r"[0-9a-f]{40} [0-9.]+:\d+@\d+ (myself,)?master - 0 \d+ \d+ connected( \d+-\d+)+",
                                line), line
        info = call(conn, "CLUSTER", "INFO")
        assert b"cluster_state:ok\r\n" in info and b"cluster_slots_assigned:16384\r\n" in info
        assert conn.call("CLUSTER", "ADDSLOTS", "1") == b"-ERR unknown subcommand 'ADDSLOTS'. Try CLUSTER HELP.\r\n"
        assert conn.call("CLUSTER", "FAILOVER") == b"-ERR unknown subcommand 'FAILOVER'. Try CLUSTER HELP.\r\n"
        hello = call(conn, "HELLO")
        assert hello[hello.index(b"mode") + 1] == b"cluster"
        assert b"redis_mode:cluster" in call(conn, "INFO", "server")
    finally:
        conn.close()


def owner(oss, key: str):
    topo = oss.topology
    pid = topo.slot_table[key_slot(key.encode())]
    return topo.node(topo.primary_shard(pid).node)


def test_moved_and_crossslot_byte_for_byte(oss):
    for endpoint in (None, 0, 1, 2):
        conn = oss.raw(endpoint)
        me = oss.topology.node(endpoint if endpoint is not None else 0)
        try:
            for i in range(30):
                key = f"m{i}"
                node = owner(oss, key)
                reply = conn.call("SET", key, "v")
                if endpoint is None:  # the 10000 endpoint is whichever node took the connection
                    assert reply == b"+OK\r\n" or reply.startswith(b"-MOVED ")
                    continue
                if node.id == me.id:
                    assert reply == b"+OK\r\n"
                else:
                    assert reply == b"-MOVED %d %s:%d\r\n" % (key_slot(key.encode()), node.ip.encode(),
                                                               node.cluster_port)
            assert conn.call("MSET", "a", "1", "b", "2") == (
                b"-CROSSSLOT Keys in request don't hash to the same slot\r\n")
        finally:
            conn.close()


def test_redis_cluster_client(oss):
    rc = RedisCluster(host=oss.host, port=oss.port)
    try:
        rc.flushall()
        for i in range(100):
            rc.set(f"c{i}", i)
        assert [rc.get(f"c{i}") for i in range(100)] == [str(i).encode() for i in range(100)]
        p = rc.pipeline()
        for i in range(100):
            p.incr(f"c{i}")
        assert p.execute() == [i + 1 for i in range(100)]
        assert rc.mget_nonatomic([f"c{i}" for i in range(5)]) == [str(i + 1).encode() for i in range(5)]
        assert sorted(rc.scan_iter(match="c*")) == sorted(f"c{i}".encode() for i in range(100))
        # KEYS and DBSIZE on a node cover the slots that node owns (redis-py sends them to one node)
        per_node = [rc.execute_command("KEYS", "*", target_nodes=n) for n in rc.get_primaries()]
        assert sorted(k for ks in per_node for k in ks) == sorted(f"c{i}".encode() for i in range(100))
        assert sum(rc.execute_command("DBSIZE", target_nodes=n) for n in rc.get_primaries()) == 100
        rc.hset("{u1}h", mapping={"a": 1})
        rc.rpush("{u1}l", "x", "y")
        rc.sadd("{u1}s", "m")
        rc.zadd("{u1}z", {"a": 1.5})
        assert rc.hgetall("{u1}h") == {b"a": b"1"}
        assert rc.lrange("{u1}l", 0, -1) == [b"x", b"y"]
        assert rc.smembers("{u1}s") == {b"m"}
        assert rc.zrange("{u1}z", 0, -1, withscores=True) == [(b"a", 1.5)]
        assert rc.sunionstore("{u1}d", ["{u1}s"]) == 1
        with pytest.raises(redis.exceptions.RedisClusterException):
            rc.sunionstore("d", ["s1", "s2", "s3"])
        # transactions on one slot
        with rc.pipeline(transaction=True) as tp:
            tp.incr("{u1}n").incr("{u1}n")
            assert tp.execute() == [1, 2]
        # sharded and classic pub/sub
        ps = rc.pubsub()
        ps.ssubscribe("{u1}chan")
        assert ps.get_sharded_message(timeout=5)["type"] == "ssubscribe"
        assert rc.spublish("{u1}chan", "hi") == 1
        msg = ps.get_sharded_message(timeout=5)
        assert (msg["type"], msg["data"]) == ("smessage", b"hi")
        ps.close()
    finally:
        rc.close()


def test_readonly_command_flow_over_every_node(oss):
    for n in oss.topology.nodes:
        c = redis.Redis(host=n.ip, port=n.cluster_port)
        try:
            assert c.ping()
            assert c.execute_command("READONLY") in (b"OK", "OK", True)
        finally:
            c.close()


def test_transactions_redirect_like_redis_cluster(oss, real_cluster):
    """Node 0 owns slots 0-5460 in both clusters; replies compared with addresses normalised."""
    ours = oss.raw(0, "cluster")
    theirs = RawConnection("127.0.0.1", real_cluster[0].port)
    ours_addrs = {f"{n.ip}:{n.cluster_port}".encode(): b"N%d" % n.id for n in oss.topology.nodes}
    theirs_addrs = {f"127.0.0.1:{p.port}".encode(): b"N%d" % i for i, p in enumerate(real_cluster)}

    def norm(reply, addrs):
        for a, b in addrs.items():
            reply = reply.replace(a, b)
        return reply

    script = [("MULTI",), ("SET", "a{06S}", "1"), ("SET", "foo", "1"), ("EXEC",),  # MOVED inside MULTI
              ("MULTI",), ("SET", "a{06S}", "1"), ("SET", "b{06S}", "2"), ("EXEC",),
              ("MULTI",), ("SET", "a{06S}", "1"), ("SET", "x{b}", "2"), ("EXEC",),  # both local, two slots
              ("GET", "foo"), ("MGET", "a{06S}", "b{06S}"), ("DEL", "a{06S}", "b{06S}"), ("DEL", "x{b}")]
    try:
        for cmd in script:
            a, b = norm(ours.call(*cmd), ours_addrs), norm(theirs.call(*cmd), theirs_addrs)
            assert a == b, (cmd, a, b)
    finally:
        ours.close()
        theirs.close()


def test_keys_in_slot(oss):
    conn = oss.raw(0, "cluster")
    try:
        slot = 449  # "k2": node 0 owns 0-5460
        for i in range(3):
            assert conn.call("SET", f"{{k2}}:{i}", "v") == b"+OK\r\n"
        assert conn.call("CLUSTER", "COUNTKEYSINSLOT", str(slot)) == b":3\r\n"
        keys = decode_reply(conn.call("CLUSTER", "GETKEYSINSLOT", str(slot), "2"))[0]
        assert len(keys) == 2 and all(k.startswith(b"{k2}:") for k in keys)
        assert conn.call("CLUSTER", "COUNTKEYSINSLOT", "99999") == b"-ERR Invalid slot\r\n"
    finally:
        conn.close()


def test_keys_in_slot_errors(oss, real_cluster):
    """CLUSTER COUNTKEYSINSLOT / GETKEYSINSLOT / REPLICAS refusals, byte for byte with a real cluster node."""
    ours = oss.raw(0, "cluster")
    theirs = RawConnection("127.0.0.1", real_cluster[0].port)
    try:
        for cmd in [("CLUSTER", "COUNTKEYSINSLOT", "x"), ("CLUSTER", "COUNTKEYSINSLOT", "-1"),
                    ("CLUSTER", "COUNTKEYSINSLOT", "16384"), ("CLUSTER", "GETKEYSINSLOT", "x", "1"),
                    ("CLUSTER", "GETKEYSINSLOT", "1", "x"), ("CLUSTER", "GETKEYSINSLOT", "x", "-1"),
                    ("CLUSTER", "GETKEYSINSLOT", "16384", "1"), ("CLUSTER", "GETKEYSINSLOT", "1", "-1"),
                    ("CLUSTER", "GETKEYSINSLOT", "-1", "-1"), ("CLUSTER", "REPLICAS", "nosuchnode")]:
            a, b = ours.call(*cmd), theirs.call(*cmd)
            assert a == b and a[:1] == b"-", (cmd, a, b)
    finally:
        ours.close()
        theirs.close()


def test_resp3_cluster_client(oss):
    rc = RedisCluster(host=oss.host, port=oss.port, protocol=3)
    try:
        for i in range(20):
            rc.hset(f"r3:{i}", mapping={"f": i})
        assert [rc.hgetall(f"r3:{i}") for i in range(20)] == [{b"f": str(i).encode()} for i in range(20)]
        rc.zadd("r3:z", {"a": 1.5})
        assert rc.zscore("r3:z", "a") == 1.5
    finally:
        rc.close()
