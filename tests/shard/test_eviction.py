"""maxmemory and the eviction policies (shard/eviction.py).

Most tests run on a shard of their own (its maxmemory would disturb the session's tests); the OOM
and OBJECT replies are compared with redis-server.
"""
import random

import pytest
import redis

from tests.servers import start_shard


@pytest.fixture(scope="module")
def eshard():
    proc = start_shard()
    yield proc
    proc.stop()


@pytest.fixture
def er(eshard):
    client = redis.Redis(host=eshard.host, port=eshard.port)
    client.config_set("maxmemory", 0)
    client.config_set("maxmemory-policy", "noeviction")
    client.flushall()
    yield client
    client.config_set("maxmemory", 0)
    client.config_set("maxmemory-policy", "noeviction")
    client.close()


def test_default_policy_is_noeviction(er):
    assert er.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    assert er.info("memory")["maxmemory_policy"] == "noeviction"


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random"])
def test_50mb_with_100kb_values_evicts_and_stays_near_the_limit(er, policy):
    er.config_set("maxmemory-policy", policy)
    er.config_set("maxmemory", "50mb")
    evicted = er.info("stats")["evicted_keys"]
    value = b"v" * 100_000
    pipe = er.pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"k{i}", value)
    assert all(pipe.execute())  # nothing refused: keys were evicted instead
    n = er.dbsize()
    assert 420 <= n <= 460, n  # 50 MB / 112 KB (jemalloc's class for 100 KB), less the startup memory
    assert er.info("stats")["evicted_keys"] - evicted == 1000 - n
    assert er.info("memory")["maxmemory_policy"] == policy
    # MEMORY USAGE agrees with the accounting: the keys fill the limit
    usage = sum(er.memory_usage(k) for k in er.scan_iter(count=1000))
    assert 48 * 2**20 <= usage <= 50 * 2**20


def test_noeviction_refuses_denyoom_commands_and_serves_reads(er):
    er.set("small", "x")
    er.config_set("maxmemory", "2mb")
    evicted = er.info("stats")["evicted_keys"]
    with pytest.raises(redis.exceptions.ResponseError) as e:
        for i in range(100):
            er.set(f"k{i}", b"v" * 100_000)
    assert str(e.value) == "command not allowed when used memory > 'maxmemory'."
    assert er.get("small") == b"x"
    assert er.delete("small") == 1  # DEL is not denyoom
    assert er.info("stats")["evicted_keys"] == evicted


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"])
def test_volatile_policies_evict_only_keys_with_a_ttl(er, policy):
    for i in range(20):
        er.set(f"p{i}", b"v" * 100_000)
        er.set(f"t{i}", b"v" * 100_000, ex=1000)
    er.config_set("maxmemory-policy", policy)
    er.config_set("maxmemory", "3mb")  # evicts at once, as CONFIG SET maxmemory does
    assert er.dbsize() == 20
    assert all(er.exists(f"p{i}") for i in range(20))
    with pytest.raises(redis.exceptions.ResponseError):  # only persistent keys left: OOM
        er.set("new", b"v" * 100_000)


def test_volatile_ttl_evicts_the_nearest_expiry_first(er):
    er.config_set("maxmemory-policy", "volatile-ttl")
    for i in range(30):
        er.set(f"t{i}", b"v" * 100_000, ex=1000 + i * 100)
    er.config_set("maxmemory", "2500kb")
    left = sorted(int(k[1:]) for k in er.keys("t*"))
    # the pool takes the nearest expiry among samples: the survivors are mostly the late ones
    assert len(left) < 30
    assert sum(left) / len(left) > 14.5


def test_evictions_are_notified(er):
    er.config_set("notify-keyspace-events", "Ee")
    p = er.pubsub()
    p.subscribe("__keyevent@0__:evicted")
    assert p.get_message(timeout=1)["type"] == "subscribe"
    er.config_set("maxmemory-policy", "allkeys-random")
    er.set("a", b"v" * 600_000)
    er.set("b", b"v" * 600_000)
    er.config_set("maxmemory", "2mb")
    er.set("c", b"v" * 600_000)  # over the limit: the next command evicts
    er.ping()
    msg = p.get_message(timeout=2)
    assert msg["channel"] == b"__keyevent@0__:evicted" and msg["data"] in (b"a", b"b", b"c")
    p.close()
    er.config_set("notify-keyspace-events", "")


def test_client_no_evict_exists(er):
    assert er.execute_command("CLIENT", "NO-EVICT", "on") == b"OK"
    assert "e" in er.client_info()["flags"]
    assert er.execute_command("CLIENT", "NO-EVICT", "off") == b"OK"


def test_lru_cache_keeps_hot_keys(er):
    """An app's read-through cache under allkeys-lru: the keys it keeps reading survive."""
    er.config_set("maxmemory-policy", "allkeys-lru")
    er.config_set("maxmemory", "10mb")
    value = b"x" * 50_000
    hot = [f"hot{i}" for i in range(20)]
    for k in hot:
        er.set(k, value)
    rng = random.Random(7)
    for i in range(600):  # 30 MB of cold writes, reading the hot keys all along (as a cache does)
        er.set(f"cold{i}", value)
        for k in rng.sample(hot, 4):
            if er.get(k) is None:
                er.set(k, value)  # a miss refills
    kept = sum(1 for k in hot if er.exists(k))
    assert kept >= 18, kept
    assert er.dbsize() < 210


def test_lfu_keeps_frequently_used_keys(er):
    er.config_set("maxmemory-policy", "allkeys-lfu")
    er.config_set("lfu-log-factor", 0)  # every access counts
    value = b"x" * 50_000
    for i in range(10):
        er.set(f"freq{i}", value)
        for _ in range(20):
            er.get(f"freq{i}")
    er.config_set("maxmemory", "5mb")
    for i in range(200):
        er.set(f"once{i}", value)
    assert sum(1 for i in range(10) if er.exists(f"freq{i}")) >= 9
    er.config_set("lfu-log-factor", 10)


def test_object_idletime_and_freq(er):
    er.set("k", "v")
    assert er.object("idletime", "k") == 0
    er.config_set("maxmemory-policy", "allkeys-lfu")
    er.set("f", "v")
    assert er.object("freq", "f") == 5
    er.get("f")
    assert er.object("freq", "f") == 6  # counter 5: the first access always counts


# --- compared with redis-server ----------------------------------------------------------------------

@pytest.fixture
def limited(compat):
    yield compat
    compat.call("CONFIG", "SET", "maxmemory", "0")
    compat.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
    compat.call("CONFIG", "SET", "lfu-log-factor", "10")


def test_compat_oom(limited):
    c = limited
    c.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
    c.call("SET", "a", "1")
    c.call("CONFIG", "SET", "maxmemory", "1")
    c.call("SET", "b", "1")
    c.call("GET", "a")
    c.call("INCR", "a")  # denyoom too
    c.call("EXPIRE", "a", "100")  # write, not denyoom
    c.call("MULTI")
    c.call("SET", "c", "1")  # refused: the transaction is flagged
    c.call("EXEC")
    c.call("CONFIG", "SET", "maxmemory", "0")
    c.call("MULTI")
    c.call("SET", "c", "1")
    c.call("CONFIG", "SET", "maxmemory", "1")
    c.call("EXEC")  # a queued denyoom command: EXEC refused
    c.call("CONFIG", "SET", "maxmemory", "0")
    c.call("DBSIZE")


def test_oom_inside_multi_refuses_only_denyoom_commands(er):
    """7.4 reverted 7.0's refusal of every queued command when OOM (redis#12961): a read queues.
    7.0.15 differs (it refuses GET inside MULTI too), so this is not compared."""
    er.config_set("maxmemory", "1")
    raw = er.connection_pool.get_connection()
    try:
        raw.send_command("MULTI")
        assert raw.read_response() == b"OK"
        raw.send_command("GET", "a")
        assert raw.read_response() == b"QUEUED"
        raw.send_command("EXEC")
        assert raw.read_response() == [None]
        raw.send_command("MULTI")
        raw.read_response()
        raw.send_command("SET", "a", "1")
        with pytest.raises(redis.exceptions.ResponseError):
            raw.read_response()
        raw.send_command("EXEC")
        with pytest.raises(redis.exceptions.ResponseError) as e:
            raw.read_response()
        assert str(e.value).startswith("Transaction discarded because of previous errors")
    finally:
        er.connection_pool.release(raw)
        er.config_set("maxmemory", "0")


def test_compat_volatile_without_candidates_and_allkeys_eviction(limited):
    c = limited
    c.call("MSET", "a", "1", "b", "2", "c", "3")
    c.call("CONFIG", "SET", "maxmemory-policy", "volatile-lru")
    c.call("CONFIG", "SET", "maxmemory", "1")
    c.call("SET", "d", "1")
    c.call("DBSIZE")
    c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    c.call("SET", "d", "1")  # every key evicted, still over: OOM
    c.call("DBSIZE")
    c.call("CONFIG", "SET", "maxmemory", "0")
    c.call("SET", "d", "1")


def test_compat_object_freq_idletime(limited):
    c = limited
    c.call("SET", "k", "v")
    c.call("OBJECT", "FREQ", "k")  # not LFU: the error
    c.call("OBJECT", "IDLETIME", "k")
    c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    c.call("SET", "f", "v")
    c.call("OBJECT", "FREQ", "f")
    c.call("GET", "f")
    c.call("OBJECT", "FREQ", "f")
    c.call("OBJECT", "IDLETIME", "f")  # LFU: the error
    c.call("OBJECT", "FREQ", "missing")
    c.call("CONFIG", "SET", "lfu-log-factor", "0")
    for _ in range(5):
        c.call("GET", "f")
    c.call("OBJECT", "FREQ", "f")


def test_eviction_invalidates_tracking_clients(er, eshard):
    from tests.servers import RawConnection

    t = RawConnection(eshard.host, eshard.port)
    t.call("HELLO", "3")
    t.call("CLIENT", "TRACKING", "on")
    er.set("cached", b"v" * 600_000)
    assert t.call("GET", "cached").startswith(b"$600000\r\n")
    er.config_set("maxmemory-policy", "allkeys-lru")
    er.config_set("maxmemory", "1mb")  # evicts at once: the reader's cache entry is invalidated
    assert t.read_reply() == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\ncached\r\n"
    t.close()


def test_info_used_memory_follows_the_accounting_under_maxmemory(er):
    er.config_set("maxmemory-policy", "allkeys-lru")
    er.config_set("maxmemory", "5mb")
    for i in range(100):
        er.set(f"k{i}", b"v" * 100_000)
    mem = er.info("memory")
    assert mem["used_memory"] <= mem["maxmemory"] == 5 * 2**20
    assert mem["used_memory"] > 4 * 2**20
    assert mem["used_memory_rss"] > mem["used_memory"]  # the process itself


def test_lfu_counter_grows_logarithmically(er):
    er.config_set("maxmemory-policy", "allkeys-lfu")
    er.set("k", "v")
    pipe = er.pipeline(transaction=False)
    for _ in range(1000):
        pipe.get("k")
    pipe.execute()
    # Redis's table for lfu-log-factor 10: 100 hits -> 10, 1K hits -> 18
    assert 12 <= er.object("freq", "k") <= 30  # (random: 1K hits give 14..27 in 99.9% of runs)


def test_lfu_decay_per_minute():
    """LFUDecrAndReturn: one period of lfu-decay-time minutes takes one off the counter."""
    from shard.eviction import lfu_decr
    from shard.server import Server

    server = Server(port=0)
    now_min = (server.now_ms // 60000) & 65535
    assert lfu_decr(server, (now_min << 8) | 20) == 20
    assert lfu_decr(server, (((now_min - 3) & 65535) << 8) | 20) == 17
    server.config.set("lfu-decay-time", "2")
    assert lfu_decr(server, (((now_min - 3) & 65535) << 8) | 20) == 19
    assert lfu_decr(server, (((now_min - 100) & 65535) << 8) | 20) == 0
    server.config.set("lfu-decay-time", "0")
    assert lfu_decr(server, (((now_min - 100) & 65535) << 8) | 20) == 20
