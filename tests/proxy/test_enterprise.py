"""The Enterprise policy through the cache endpoint: one standalone-looking server over three nodes."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import redis

from amr_emulator.protocol import errors
from amr_emulator.protocol.resp import encode_command
from amr_emulator.protocol.slots import key_slot
from tests.servers import RawConnection


@pytest.fixture
def r(enterprise):
    client = redis.Redis(host=enterprise.host, port=enterprise.port, password=enterprise.password)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def node_client(enterprise):
    """redis-py clients bound to each node's own endpoint."""
    made = []

    def make(node_id: int, **kw):
        node = enterprise.topology.node(node_id)
        c = redis.Redis(host=node.ip, port=node.port, password=enterprise.password, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def keys_on_distinct_shards(enterprise, n=3):
    """Keys whose slots belong to n different partitions."""
    topo = enterprise.topology
    found = {}
    i = 0
    while len(found) < n:
        k = f"key:{i}"
        found.setdefault(topo.slot_table[key_slot(k.encode())], k)
        i += 1
    return list(found.values())


# --- compatibility with one real redis-server ---------------------------------------------------------
SCRIPT = [
    ("SET", "s1", "v"), ("GET", "s1"), ("APPEND", "s1", "xx"), ("INCR", "n"), ("INCRBYFLOAT", "n", "1.5"),
    ("GET", "nosuch"), ("SET", "s1", "v", "EX", "100"), ("TTL", "s1"), ("TYPE", "s1"), ("STRLEN", "s1"),
    ("HSET", "h", "a", "1", "b", "2"), ("HGETALL", "h"), ("HINCRBY", "h", "a", "5"), ("HMGET", "h", "a", "z"),
    ("RPUSH", "l", "a", "b", "c"), ("LRANGE", "l", "0", "-1"), ("LPOP", "l"), ("LLEN", "l"),
    ("SADD", "st", "x", "y"), ("SISMEMBER", "st", "x"), ("SCARD", "st"),
    ("ZADD", "z", "1", "a", "2.5", "b"), ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("ZSCORE", "z", "b"),
    ("LPUSH", "s1", "x"), ("GET", "h"),  # WRONGTYPE
    ("MSET", "m1", "1", "m2", "2", "m3", "3"), ("MGET", "m1", "m2", "nosuch", "m3"),
    ("EXISTS", "m1", "m2", "nosuch", "m1"), ("DEL", "m1", "m2", "nosuch"), ("TOUCH", "m3", "h"),
    ("UNLINK", "m3"), ("DBSIZE",), ("SELECT", "0"), ("SELECT", "x"),
    ("PING",), ("PING", "hi"), ("ECHO", "e"), ("EXPIRE", "h", "100"), ("PERSIST", "h"), ("TTL", "h"),
    ("SET",), ("NOSUCHCOMMAND", "a", "b"), ("GET", "a", "b"), ("CLIENT", "NOSUCH"),
    ("MULTI",), ("INCR", "{t}a"), ("INCR", "{t}a"), ("EXEC",), ("EXEC",), ("DISCARD",),
    ("MULTI",), ("INCR", "{t}b"), ("NOSUCH",), ("EXEC",),
    ("MULTI",), ("MULTI",), ("WATCH", "x"), ("DISCARD",),
    ("CLIENT", "SETNAME", "me"), ("CLIENT", "GETNAME"), ("CLIENT", "SETNAME", "a b"),
    ("FLUSHALL",), ("DBSIZE",), ("RANDOMKEY",),
]


def test_same_replies_as_redis(enterprise, real_redis):
    ours = enterprise.raw()
    ours.call("FLUSHALL")
    theirs = RawConnection(real_redis.host, real_redis.port)
    theirs.call("FLUSHALL")
    try:
        for cmd in SCRIPT:
            a, b = ours.call(*cmd), theirs.call(*cmd)
            assert a == b, f"{cmd}: proxy {a!r} redis {b!r}"
        for cmd in [("HELLO", "3"), ("HSET", "h3", "f", "v"), ("HGETALL", "h3"), ("ZADD", "z3", "1.5", "m"),
                    ("ZSCORE", "z3", "m"), ("SMEMBERS", "nosuch"), ("GET", "nosuch")]:
            a, b = ours.call(*cmd), theirs.call(*cmd)
            if cmd[0] == "HELLO":
                assert b"standalone" in a
                continue
            assert a == b, f"{cmd}: proxy {a!r} redis {b!r}"
    finally:
        ours.close()
        theirs.close()


def test_pipeline_spanning_shards_keeps_order(r, enterprise):
    keys = [f"p{i}" for i in range(200)]
    assert len({enterprise.topology.slot_table[key_slot(k.encode())] for k in keys}) == 3
    p = r.pipeline(transaction=False)
    for i, k in enumerate(keys):
        p.set(k, i)
        p.get(k)
        p.incr(k)
    out = p.execute()
    assert out == [x for i in range(200) for x in (True, str(i).encode(), i + 1)]


def test_a_pipeline_cut_inside_requests(enterprise):
    """A client's pipeline arriving cut inside a request: the requests before the cut are answered at
    once, the cut one when its rest comes, whether the rest comes whole or a byte at a time."""
    conn = enterprise.raw()
    try:
        big = encode_command("SET", "cut:b", "v" * 300)
        first = encode_command("SET", "cut:a", "1") + encode_command("GET", "cut:a") + big[:150]
        conn.send(first)
        assert [conn.read_reply(), conn.read_reply()] == [b"+OK\r\n", b"$1\r\n1\r\n"]
        conn.send(big[150:] + encode_command("GET", "cut:b") + big[:20])
        assert [conn.read_reply(), conn.read_reply()] == [b"+OK\r\n", b"$300\r\n" + b"v" * 300 + b"\r\n"]
        for i in range(20, len(big)):
            conn.send(big[i:i + 1])
        conn.send(encode_command("STRLEN", "cut:b"))
        assert [conn.read_reply(), conn.read_reply()] == [b"+OK\r\n", b":300\r\n"]
    finally:
        conn.close()


def test_pipeline_writes_a_demoted_shard_refuses_are_routed_again(r, enterprise):
    """A pipeline over every shard while one primary refuses writes (READONLY, as a demoted primary
    does during a planned failover): its writes are routed again, one by one, until a primary takes
    them (here the same shard once it is a primary again); every reply keeps its place."""
    from tests.proxy.conftest import INTERNAL
    from tests.servers import free_port

    a, b, c = keys_on_distinct_shards(enterprise)
    t = enterprise.topology
    shard = t.shard(t.partitions[t.slot_table[key_slot(a.encode())]].primary)
    direct = RawConnection(t.node(shard.node).ip, shard.port, timeout=5)
    watcher = redis.Redis(host=enterprise.host, port=enterprise.port, password=enterprise.password)
    try:
        assert direct.call("AUTH", INTERNAL) == b"+OK\r\n"
        assert direct.call("REPLICAOF", "127.0.0.1", str(free_port())) == b"+OK\r\n"  # read-only
        p = r.pipeline(transaction=False)
        for k in (b, a, c, a, b):
            p.incr(k)
        out = []
        sender = threading.Thread(target=lambda: out.extend(p.execute()), daemon=True)
        sender.start()
        deadline = time.monotonic() + 10
        while watcher.get(c) != b"1":  # the other shards have answered: the pipeline is in
            assert time.monotonic() < deadline
            time.sleep(0.001)
        assert sender.is_alive()  # the writes to `a` wait
        assert direct.call("REPLICAOF", "NO", "ONE") == b"+OK\r\n"
        sender.join(10)
        assert out == [1, 1, 1, 2, 2]
    finally:
        direct.call("REPLICAOF", "NO", "ONE")
        direct.close()
        watcher.close()


def test_pipeline_over_a_lost_shard_closes_after_the_replies_before_it():
    """A pipeline over every shard whose middle request's shard is lost while it waits: the client gets
    the replies before that request, then its connection closes (as for a lone request: redis-py
    retries a connection error), never an error reply in its place. (A cache of its own: the lost
    shard restarts.)"""
    from tests.proxy.conftest import INTERNAL, start_cache

    cache = start_cache("enterprise", nodes=1, shards=3, ha=False)
    try:
        a, b, c = keys_on_distinct_shards(cache)
        t = cache.topology
        shard = t.shard(t.partitions[t.slot_table[key_slot(a.encode())]].primary)
        direct = RawConnection(t.node(shard.node).ip, shard.port, timeout=5)
        client = cache.raw()
        watcher = redis.Redis(host=cache.host, port=cache.port)
        try:
            assert direct.call("AUTH", INTERNAL) == b"+OK\r\n"
            info = direct.call("INFO", "server").decode()
            pid = int(info.split("process_id:")[1].split()[0])
            assert client.call("SET", b, "0") == b"+OK\r\n"  # (its proxy has seen SET: the pipeline's path)
            direct.send(encode_command(b"DEBUG", b"SLEEP", b"5"))  # the shard holds what comes next
            client.send(b"".join(encode_command(b"SET", k.encode(), b"1") for k in (b, a, c)))
            deadline = time.monotonic() + 10
            while watcher.get(c) != b"1":  # the other shards have answered
                assert time.monotonic() < deadline
                time.sleep(0.001)
            os.kill(pid, signal.SIGKILL)
            assert client.read_until_closed() == b"+OK\r\n"
        finally:
            direct.close()
            client.close()
            watcher.close()
    finally:
        cache.stop()


def test_split_multi_key_commands(r, enterprise):
    a, b, c = keys_on_distinct_shards(enterprise)
    assert r.mset({a: "1", b: "2", c: "3"}) is True
    assert r.mget(a, "missing", b, c, a) == [b"1", None, b"2", b"3", b"1"]
    assert r.exists(a, b, c, "missing", a) == 4
    assert r.touch(a, b) == 2
    assert r.delete(a, b, "missing") == 2
    assert r.unlink(c) == 1
    assert r.dbsize() == 0


def test_crossslot_and_refusals_byte_for_byte(enterprise):
    a, b, _ = keys_on_distinct_shards(enterprise)
    conn = enterprise.raw()
    try:
        assert conn.call("SUNIONSTORE", "dest", a, b) == b"-" + errors.CROSSSLOT.encode() + b"\r\n"
        assert conn.call("RENAME", a, b) == b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
        assert conn.call("MSETNX", a, "1", b, "2") == b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
        for cmd in [("BGSAVE",), ("SAVE",), ("BGREWRITEAOF",), ("SHUTDOWN",), ("DEBUG", "SLEEP", "0"),
                    ("MOVE", "k", "1"), ("REPLICAOF", "NO", "ONE"), ("SLAVEOF", "NO", "ONE"), ("SWAPDB", "0", "1"),
                    ("MODULE", "LIST"), ("PSYNC", "?", "-1"), ("SYNC",), ("REPLCONF", "ack", "0"),
                    ("CLUSTER", "INFO"), ("CLUSTER", "SLOTS"), ("CLUSTER",), ("AMR.STATUS",),
                    ("CONFIG", "SET", "maxmemory", "1")]:
            expected = errors.unknown_command(cmd[0].encode(), [x.encode() for x in cmd[1:]])
            assert conn.call(*cmd) == b"-" + expected.encode() + b"\r\n", cmd
        assert conn.call("SELECT", "1") == b"-ERR DB index is out of range\r\n"
        assert conn.call("CONFIG", "SET", "notify-keyspace-events", "") == b"+OK\r\n"
        assert conn.call("READONLY") == b"-ERR This instance has cluster support disabled\r\n"
    finally:
        conn.close()


def test_auth(enterprise):
    conn = RawConnection(enterprise.host, enterprise.port)
    try:
        assert conn.call("GET", "x") == b"-NOAUTH Authentication required.\r\n"
        assert conn.call("AUTH", "wrong") == b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        assert conn.call("AUTH", "someone", enterprise.password) == (
            b"-WRONGPASS invalid username-password pair or user is disabled.\r\n")
        assert conn.call("AUTH", "default", enterprise.password) == b"+OK\r\n"
        secondary = enterprise.topology.access_keys.secondary
        assert conn.call("AUTH", secondary) == b"+OK\r\n"
        assert conn.call("AMR.STATUS").startswith(b"-ERR unknown command 'AMR.STATUS'")
        assert conn.call("HELLO", "3", "AUTH", "default", "nope") == (
            b"-WRONGPASS invalid username-password pair or user is disabled.\r\n")
    finally:
        conn.close()


def test_looks_standalone(r):
    assert r.info("server")["redis_mode"] == "standalone"
    r3 = redis.Redis(host=r.connection_pool.connection_kwargs["host"],
                     port=r.connection_pool.connection_kwargs["port"],
                     password=r.connection_pool.connection_kwargs["password"], protocol=3)
    try:
        r3.set("h3", "v")
        assert r3.get("h3") == b"v"
        r3.hset("hh", mapping={"a": "1"})
        assert r3.hgetall("hh") == {b"a": b"1"}
    finally:
        r3.close()


def test_keys_dbsize_scan_over_every_shard(r):
    for i in range(300):
        r.set(f"scan:{i}", i)
    assert r.dbsize() == 300
    assert sorted(r.keys("scan:*")) == sorted(f"scan:{i}".encode() for i in range(300))
    seen = list(r.scan_iter(match="scan:*", count=50))
    assert sorted(seen) == sorted(f"scan:{i}".encode() for i in range(300))
    assert r.randomkey().startswith(b"scan:")
    r.flushdb()
    assert r.dbsize() == 0


def test_transactions_and_watch(r, enterprise):
    p = r.pipeline()
    p.set("{acct}a", 10).incrby("{acct}a", 5).get("{acct}a")
    assert p.execute() == [True, 15, b"15"]
    # WATCH: a write by another client (through another node) aborts the transaction
    other = redis.Redis(host=enterprise.topology.node(2).ip, port=enterprise.topology.node(2).port,
                        password=enterprise.password)
    try:
        with r.pipeline() as p:
            p.watch("{acct}a")
            assert p.get("{acct}a") == b"15"
            other.set("{acct}a", 99)
            p.multi()
            p.set("{acct}a", 0)
            with pytest.raises(redis.WatchError):
                p.execute()
        assert r.get("{acct}a") == b"99"
        with r.pipeline() as p:
            p.watch("{acct}a")
            p.multi()
            p.incr("{acct}a")
            assert p.execute() == [100]
    finally:
        other.close()


def test_pubsub_across_nodes(enterprise, node_client):
    sub_client = node_client(0)
    pub_client = node_client(2)
    ps = sub_client.pubsub()
    ps.subscribe("news")
    ps.psubscribe("sport.*")
    assert ps.get_message(timeout=5)["type"] == "subscribe"
    assert ps.get_message(timeout=5)["type"] == "psubscribe"
    assert pub_client.publish("news", "hello") == 1
    assert pub_client.publish("sport.tennis", "ace") == 1
    msgs = [ps.get_message(timeout=5) for _ in range(2)]
    assert {(m["type"], m["channel"], m["data"]) for m in msgs} == {
        ("message", b"news", b"hello"), ("pmessage", b"sport.tennis", b"ace")}
    ps.unsubscribe("news")
    assert ps.get_message(timeout=5)["type"] == "unsubscribe"
    assert pub_client.publish("news", "again") == 0
    ps.close()


def test_keyspace_notifications_reach_subscribers(enterprise, node_client):
    c = node_client(1)
    c.config_set("notify-keyspace-events", "KEA")
    try:
        ps = c.pubsub()
        ps.psubscribe("__keyspace@0__:*")
        assert ps.get_message(timeout=5)["type"] == "psubscribe"
        a, b, _ = keys_on_distinct_shards(enterprise)
        c.set(a, 1)
        c.set(b, 1)
        got = {ps.get_message(timeout=5)["channel"] for _ in range(2)}
        assert got == {f"__keyspace@0__:{a}".encode(), f"__keyspace@0__:{b}".encode()}
        ps.close()
    finally:
        c.config_set("notify-keyspace-events", "")


def test_blocking_command_woken_through_another_node(enterprise, node_client, r):
    waiter = node_client(0, socket_timeout=10)
    pusher = node_client(1)
    result = {}

    def block():
        result["v"] = waiter.blpop(["queue"], timeout=5)

    t = threading.Thread(target=block)
    t.start()
    time.sleep(0.3)
    assert r.ping()  # the shared connections are not held up by the blocked client
    pusher.rpush("queue", "job")
    t.join(10)
    assert result["v"] == (b"queue", b"job")
    assert waiter.blpop(["queue"], timeout=0.2) is None


def test_client_commands(r):
    cid = r.client_id()
    assert isinstance(cid, int)
    r.client_setname("worker")
    assert r.client_getname() in ("worker", b"worker")
    assert int(r.client_info()["id"]) == cid
    assert any(c["name"] == "worker" for c in r.client_list())


def test_transaction_edges_byte_for_byte(enterprise):
    conn = enterprise.raw()
    try:
        conn.call("DEL", "{q}a")
        assert conn.call("MULTI") == b"+OK\r\n"
        assert conn.call("SELECT", "0") == b"+QUEUED\r\n"
        assert conn.call("SELECT", "2") == b"-ERR DB index is out of range\r\n"
        assert conn.call("SUBSCRIBE", "x") == b"-ERR Command not allowed inside a transaction\r\n"
        assert conn.call("INCR", "{q}a") == b"+QUEUED\r\n"
        assert conn.call("EXEC") == b"-EXECABORT Transaction discarded because of previous errors.\r\n"
        a, b, _ = keys_on_distinct_shards(enterprise)
        conn.call("MULTI")
        assert conn.call("SET", a, "1") == b"+QUEUED\r\n"
        assert conn.call("SET", b, "1") == b"+QUEUED\r\n"
        assert conn.call("EXEC") == b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
        conn.call("MULTI")
        conn.call("PING")
        conn.call("INCR", "{q}a")
        conn.call("LPUSH", "{q}a", "x")
        assert conn.call("EXEC") == (b"*3\r\n+PONG\r\n:1\r\n-WRONGTYPE Operation against a key holding the wrong "
                                     b"kind of value\r\n")
    finally:
        conn.close()


def test_client_reply_and_quit(enterprise):
    conn = enterprise.raw()
    try:
        conn.send(b"CLIENT REPLY OFF\r\nSET a 1\r\nCLIENT REPLY SKIP\r\nGET a\r\nCLIENT REPLY ON\r\nGET a\r\n")
        assert conn.read_reply() == b"+OK\r\n"
        assert conn.read_reply() == b"$1\r\n1\r\n"
        conn.send(b"CLIENT REPLY SKIP\r\nGET a\r\nPING\r\n")
        assert conn.read_reply() == b"+PONG\r\n"
        conn.send(b"GET a\r\nQUIT\r\nPING\r\n")
        assert conn.read_until_closed() == b"$1\r\n1\r\n+OK\r\n"
    finally:
        conn.close()


def test_resp3_pubsub_pushes(enterprise):
    sub = enterprise.raw(0)
    pub = enterprise.raw(1)
    try:
        sub.call("HELLO", "3")
        assert sub.call("SUBSCRIBE", "c1", "c2") == b">3\r\n$9\r\nsubscribe\r\n$2\r\nc1\r\n:1\r\n"
        assert sub.read_reply() == b">3\r\n$9\r\nsubscribe\r\n$2\r\nc2\r\n:2\r\n"
        assert sub.call("SET", "k", "v") == b"+OK\r\n"  # RESP3: commands while subscribed
        assert pub.call("PUBLISH", "c2", "m") == b":1\r\n"
        assert sub.read_reply() == b">3\r\n$7\r\nmessage\r\n$2\r\nc2\r\n$1\r\nm\r\n"
        assert sub.call("UNSUBSCRIBE") == b">3\r\n$11\r\nunsubscribe\r\n$2\r\nc1\r\n:1\r\n"
        assert sub.read_reply() == b">3\r\n$11\r\nunsubscribe\r\n$2\r\nc2\r\n:0\r\n"
        assert sub.call("UNSUBSCRIBE") == b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n"
    finally:
        sub.close()
        pub.close()


def test_info_keyspace_counts_every_shard(r):
    for i in range(50):
        r.set(f"ks:{i}", i, ex=1000 if i % 2 else None)
    ks = r.info("keyspace")
    assert ks["db0"]["keys"] == 50 and ks["db0"]["expires"] == 25
    assert r.info()["db0"]["keys"] == 50
    r.flushall()
    assert "db0" not in r.info("keyspace")


def test_large_values_and_replies(r):
    big = b"x" * (3 * 1024 * 1024)
    r.set("big", big)
    assert r.get("big") == big
    p = r.pipeline(transaction=False)
    for i in range(20000):
        p.sadd("bigset", i)
    p.execute()
    assert len(r.smembers("bigset")) == 20000
    assert len(r.keys()) == 2


def test_reply_skip_does_not_swallow_a_pipelined_neighbour(enterprise):
    conn = enterprise.raw()
    try:
        conn.send(b"SET {r}a 1\r\nSET {r}b 2\r\nCLIENT REPLY SKIP\r\nGET {r}a\r\nGET {r}b\r\nGET {r}a\r\n")
        assert conn.read_reply() == b"+OK\r\n"
        assert conn.read_reply() == b"+OK\r\n"
        assert conn.read_reply() == b"$1\r\n2\r\n"
        assert conn.read_reply() == b"$1\r\n1\r\n"
    finally:
        conn.close()


def test_protocol_errors_like_redis(enterprise, real_redis):
    for data in (b"*1\r\n$x\r\n", b"*2\r\n$3\r\nGET\r\n:1\r\n", b'SET "a b\r\n', b"*a\r\n"):
        outs = []
        for host, port in ((enterprise.host, enterprise.port), (real_redis.host, real_redis.port)):
            conn = RawConnection(host, port)
            try:
                if port == enterprise.port:
                    conn.call("AUTH", enterprise.password)
                conn.send(b"PING\r\n" + data + b"PING\r\n")
                outs.append(conn.read_until_closed(timeout=2))
            finally:
                conn.close()
        assert outs[0] == outs[1], (data, outs)


def test_client_unblock(enterprise):
    # client ids are a proxy's own: both connections go through node 0's endpoint
    blocked = enterprise.raw(0)
    admin = enterprise.raw(0)
    try:
        cid = int(blocked.call("CLIENT", "ID")[1:-2])
        blocked.send(b"BLPOP nothing 0\r\nPING\r\n")
        time.sleep(0.2)
        assert admin.call("CLIENT", "UNBLOCK", str(cid)) == b":1\r\n"
        assert blocked.read_reply() == b"*-1\r\n"
        assert blocked.read_reply() == b"+PONG\r\n"
        blocked.send(b"BLMOVE {t}a {t}b LEFT LEFT 0\r\n")
        time.sleep(0.2)
        assert admin.call("CLIENT", "UNBLOCK", str(cid), "ERROR") == b":1\r\n"
        assert blocked.read_reply() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
        assert admin.call("CLIENT", "UNBLOCK", str(cid)) == b":0\r\n"
    finally:
        blocked.close()
        admin.close()


def test_info_names_the_endpoint(r, enterprise):
    info = r.info()
    assert info["tcp_port"] == enterprise.port
    assert info["connected_clients"] >= 1
