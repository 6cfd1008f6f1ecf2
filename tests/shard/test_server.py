"""Server and introspection commands through redis-py, and scenarios that need timing or several
connections: MONITOR, DEBUG SLEEP, SLOWLOG, CONFIG, INFO, SWAPDB waking blocked clients."""
from __future__ import annotations

import threading
import time

import pytest
import redis

from tests.servers import RawConnection


def _config_snapshot(client) -> dict:
    return client.config_get("*")


@pytest.fixture
def rc(r):
    """`r`, with every setting restored when the test ends."""
    before = _config_snapshot(r)
    yield r
    after = _config_snapshot(r)
    for name, value in before.items():
        if after.get(name) != value:
            r.config_set(name, value)
    r.slowlog_reset()


# --- MONITOR ----------------------------------------------------------------------------------------


def test_monitor_lines(r, shard):
    other = redis.Redis(host=shard.host, port=shard.port)
    other.ping()  # connect (HELLO, CLIENT SETINFO) before monitoring
    try:
        with r.monitor() as m:
            other.set("foo", "bar baz")
            other.get("foo")
            other.execute_command("SELECT", "3")
            other.set(b"bin", b'q"uo\\te\n\r\t\x07\x08\x00\xff')
            other.execute_command("SELECT", "0")
            cmds = [m.next_command() for _ in range(5)]
    finally:
        other.close()
    assert [c["command"] for c in cmds[:2]] == ["SET foo bar baz", "GET foo"]
    assert cmds[0]["client_type"] == "tcp"
    assert cmds[0]["client_address"] == "127.0.0.1"
    assert int(cmds[0]["client_port"]) > 0
    assert cmds[0]["db"] == 0
    assert abs(cmds[0]["time"] - time.time()) < 5
    assert cmds[3]["db"] == 3
    assert cmds[3]["command"] == 'SET bin q"uo\\\\te\\n\\r\\t\\a\\b\\x00\\xff'


def test_monitor_raw_format(raw, shard):
    assert raw.call("MONITOR") == b"+OK\r\n"
    other = RawConnection(shard.host, shard.port)
    try:
        other.call("SET", "k", "a b")
        line = raw.read_reply()
    finally:
        other.close()
    assert line.startswith(b"+")
    stamp, rest = line[1:].split(b" ", 1)
    sec, usec = stamp.split(b".")
    assert len(usec) == 6 and sec.isdigit()
    assert rest.startswith(b"[0 127.0.0.1:")
    assert rest.endswith(b'] "SET" "k" "a b"\r\n')


def test_monitor_twice_answers_once(raw, shard):
    assert raw.call("MONITOR") == b"+OK\r\n"
    raw.send(b"*1\r\n$7\r\nMONITOR\r\n")  # no reply to a second MONITOR
    other = RawConnection(shard.host, shard.port)
    try:
        other.call("PING")
        line = raw.read_reply()
    finally:
        other.close()
    assert line.endswith(b'"PING"\r\n')


def test_monitor_inside_multi(raw):
    assert raw.call("MULTI") == b"+OK\r\n"
    assert raw.call("MONITOR") == b"+QUEUED\r\n"
    assert raw.call("EXEC") == b"*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n"
    assert raw.call("PING") == b"+PONG\r\n"


def test_monitor_skips_admin_commands(raw, shard):
    assert raw.call("MONITOR") == b"+OK\r\n"
    other = RawConnection(shard.host, shard.port)
    try:
        other.call("CONFIG", "GET", "hz")
        other.call("ECHO", "after")
        line = raw.read_reply()
    finally:
        other.close()
    assert line.endswith(b'"ECHO" "after"\r\n')


# --- DEBUG ------------------------------------------------------------------------------------------


def test_debug_sleep_blocks_the_shard(r, shard):
    sleeper = RawConnection(shard.host, shard.port)
    other = RawConnection(shard.host, shard.port)
    try:
        sleeper.send(b"*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$3\r\n0.3\r\n")
        time.sleep(0.05)  # let the shard start sleeping
        t0 = time.monotonic()
        assert other.call("PING") == b"+PONG\r\n"
        assert time.monotonic() - t0 >= 0.15
        assert sleeper.read_reply() == b"+OK\r\n"
    finally:
        sleeper.close()
        other.close()


def test_debug_sleep_zero(r):
    assert r.execute_command("DEBUG", "SLEEP", "0") in (b"OK", "OK", True)


def test_debug_set_active_expire(r):
    try:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        r.set("k", "v", px=1)
        time.sleep(0.3)  # three expiry cycles at hz 10: none may remove the key
        assert r.dbsize() == 1
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        deadline = time.monotonic() + 5
        while r.dbsize() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert r.dbsize() == 0
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# --- SLOWLOG ----------------------------------------------------------------------------------------


def test_slowlog_records_commands(rc):
    rc.config_set("slowlog-log-slower-than", 0)
    rc.slowlog_reset()
    rc.client_setname("tester")
    rc.set("a", "1")
    entries = rc.slowlog_get()
    assert rc.slowlog_len() >= 3
    newest = entries[0]
    assert newest["command"] == b"SET a 1"
    assert newest["client_name"] == b"tester"
    assert newest["client_address"].startswith(b"127.0.0.1:")
    assert newest["duration"] >= 0
    assert abs(newest["start_time"] - time.time()) < 5
    assert entries[0]["id"] > entries[1]["id"]
    assert len(rc.slowlog_get(1)) == 1


def test_slowlog_off(rc):
    rc.config_set("slowlog-log-slower-than", -1)
    rc.slowlog_reset()
    rc.set("a", "1")
    assert rc.slowlog_len() == 0


def test_slowlog_debug_sleep(rc):
    rc.config_set("slowlog-log-slower-than", 50000)
    rc.slowlog_reset()
    rc.execute_command("DEBUG", "SLEEP", "0.06")
    rc.get("x")
    entries = rc.slowlog_get()
    assert [e["command"] for e in entries] == [b"DEBUG SLEEP 0.06"]
    assert entries[0]["duration"] >= 50000


# --- CONFIG -----------------------------------------------------------------------------------------


def test_config_get_set_with_redis_py(rc):
    assert rc.config_get("maxmemory") == {"maxmemory": "0"}
    assert rc.config_set("maxmemory", "100mb")
    assert rc.config_get("maxmemory") == {"maxmemory": str(100 * 1024 * 1024)}
    got = rc.config_get("maxmemory*")
    assert got["maxmemory-policy"] == "noeviction"
    assert set(got) == {"maxmemory", "maxmemory-policy", "maxmemory-samples", "maxmemory-eviction-tenacity",
                        "maxmemory-clients"}
    assert rc.execute_command("CONFIG", "SET", "hz", "20", "timeout", "30") in (b"OK", "OK", True)
    assert rc.config_get("hz") == {"hz": "20"} and rc.config_get("timeout") == {"timeout": "30"}
    with pytest.raises(redis.ResponseError, match="duplicate parameter"):
        rc.execute_command("CONFIG", "SET", "hz", "1", "HZ", "2")
    with pytest.raises(redis.ResponseError, match="Unknown option"):
        rc.config_set("nosuch", "1")


def test_config_thresholds_reach_the_encodings(rc):
    rc.config_set("zset-max-listpack-entries", 2)
    rc.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert rc.object("encoding", "z") == b"skiplist"
    rc.config_set("hash-max-listpack-entries", 1)
    rc.hset("h", mapping={"a": 1, "b": 2})
    assert rc.object("encoding", "h") == b"hashtable"
    rc.config_set("set-max-intset-entries", 1)
    rc.sadd("s", 1, 2)
    assert rc.object("encoding", "s") == b"listpack"


def test_config_maxmemory_policy_and_object_freq(rc):
    rc.set("k", "v")
    with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is not selected"):
        rc.object("freq", "k")
    rc.config_set("maxmemory-policy", "allkeys-lfu")
    assert isinstance(rc.object("freq", "k"), int)
    with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is selected"):
        rc.object("idletime", "k")


def test_config_requirepass_applies(rc, shard):
    rc.config_set("requirepass", "s3cret")
    try:
        fresh = RawConnection(shard.host, shard.port)
        try:
            assert fresh.call("GET", "x") == b"-NOAUTH Authentication required.\r\n"
            assert fresh.call("AUTH", "s3cret") == b"+OK\r\n"
            assert fresh.call("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"
        finally:
            fresh.close()
    finally:
        rc.config_set("requirepass", "")
    assert rc.config_get("requirepass") == {"requirepass": ""}


def test_config_resetstat(rc):
    rc.set("a", "1")
    rc.config_resetstat()
    stats = rc.info("commandstats")
    assert set(stats) == {"cmdstat_config|resetstat"}
    assert rc.info("stats")["total_commands_processed"] <= 2


# --- INFO -------------------------------------------------------------------------------------------


def test_info_with_redis_py(r):
    r.set("a", "1")
    r.set("b", "2", ex=100)
    info = r.info()
    assert info["redis_version"] == "7.4.0"
    assert info["redis_mode"] == "standalone"
    assert info["role"] == "master"
    assert info["loading"] == 0
    assert info["connected_clients"] >= 1
    assert info["db0"] == {"keys": 2, "expires": 1, "avg_ttl": 0, "subexpiry": 0}
    assert "cmdstat_set" not in info  # not a default section
    assert r.info("commandstats")["cmdstat_set"]["calls"] >= 2
    assert set(r.info("server", "clients")) >= {"redis_version", "connected_clients"}
    everything = r.info("everything")
    assert "cmdstat_info" in everything and "cluster_enabled" in everything


def test_info_resp3(r3):
    r3.set("a", "1")
    info = r3.info("keyspace")
    assert info == {"db0": {"keys": 1, "expires": 0, "avg_ttl": 0, "subexpiry": 0}}


def test_info_counts_clients_and_blocking(r, shard):
    blocked = RawConnection(shard.host, shard.port)
    try:
        blocked.send(b"*3\r\n$8\r\nBZPOPMIN\r\n$1\r\nq\r\n$1\r\n0\r\n")
        deadline = time.monotonic() + 5
        while r.info("clients")["blocked_clients"] != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        clients = r.info("clients")
        assert clients["blocked_clients"] == 1
        assert clients["total_blocking_keys"] == 1
        r.zadd("q", {"m": 1})
        assert blocked.read_reply() == b"*3\r\n$1\r\nq\r\n$1\r\nm\r\n$1\r\n1\r\n"
    finally:
        blocked.close()


# --- SWAPDB and FLUSHALL ----------------------------------------------------------------------------


def test_swapdb_wakes_blocked_client(r, shard):
    blocked = RawConnection(shard.host, shard.port)
    try:
        blocked.send(b"*3\r\n$8\r\nBZPOPMIN\r\n$1\r\nz\r\n$1\r\n5\r\n")
        deadline = time.monotonic() + 5
        while r.info("clients")["blocked_clients"] != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        other = redis.Redis(host=shard.host, port=shard.port, db=1)
        try:
            other.zadd("z", {"a": 1})
            assert other.swapdb(0, 1)
        finally:
            other.close()
        assert blocked.read_reply() == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"
        assert r.dbsize() == 0
    finally:
        blocked.close()


def test_swapdb_keeps_ttls_and_clients(r, shard):
    r.set("a", "1", ex=100)
    other = redis.Redis(host=shard.host, port=shard.port, db=5)
    try:
        other.set("b", "2")
        r.swapdb(0, 5)
        assert r.get("b") == b"2" and r.ttl("b") == -1
        assert other.get("a") == b"1" and 0 < other.ttl("a") <= 100
    finally:
        other.flushdb()
        other.close()


def test_flushall_every_db(r, shard):
    other = redis.Redis(host=shard.host, port=shard.port, db=7)
    try:
        other.set("x", "1")
        r.set("y", "1")
        assert r.flushall(asynchronous=True)
        assert other.dbsize() == 0 and r.dbsize() == 0
    finally:
        other.close()


# --- COMMAND, OBJECT, MEMORY, TIME, LATENCY through redis-py ------------------------------------------


def test_command_with_redis_py(r):
    table = r.command()
    assert "get" in table and table["get"]["arity"] == 2
    assert r.command_count() == len(table)
    assert [k if isinstance(k, str) else k.decode() for k in r.command_getkeys("MSET", "a", "1", "b", "2")] \
        == ["a", "b"]
    names = r.command_list()
    assert b"config|get" in names or "config|get" in names
    assert r.command_list(category="string")


def test_object_memory_time(r):
    r.set("n", "12")
    r.set("s", "x" * 50)
    assert r.object("encoding", "n") == b"int"
    assert r.object("encoding", "s") == b"raw"
    assert r.object("refcount", "n") == 2147483647
    assert r.object("idletime", "n") == 0
    assert r.object("encoding", "missing") is None
    assert r.memory_usage("s") > 50
    assert r.memory_usage("missing") is None
    sec, usec = r.time()
    assert abs(sec - time.time()) < 5 and 0 <= usec < 1000000
    assert r.lastsave()


def test_latency_empty(r):
    assert r.execute_command("LATENCY", "LATEST") == []
    assert r.execute_command("LATENCY", "HISTORY", "command") == []
    assert r.execute_command("LATENCY", "RESET") == 0


def test_concurrent_config_set_is_atomic(rc, shard):
    """Many clients setting pairs at once: every reply is OK or an error, and no pair is half-set."""
    errors = []

    def worker(i):
        c = redis.Redis(host=shard.host, port=shard.port)
        try:
            for j in range(20):
                try:
                    c.execute_command("CONFIG", "SET", "timeout", str(i * 100 + j), "tcp-keepalive",
                                      str(i * 100 + j) if j % 2 else "bad")
                except redis.ResponseError as e:
                    errors.append(str(e))
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 40
    assert rc.config_get("timeout")["timeout"] == rc.config_get("tcp-keepalive")["tcp-keepalive"]
