"""Client-side caching (CLIENT TRACKING, shard/tracking.py): replies and invalidation pushes compared
with redis-server byte for byte, and redis-py's own client-side cache against the shard."""
import pytest
import redis
from redis.cache import CacheConfig

from tests.servers import RawConnection


class Pair:
    """The same connection on the shard and on redis-server; pushes read and compared."""

    def __init__(self, compat, resp3=True):
        self.conns = [RawConnection(p.host, p.port) for p in compat.targets]
        if resp3:
            for c in self.conns:
                c.call("HELLO", "3")

    def call(self, *args) -> bytes:
        ours, theirs = (c.call(*args) for c in self.conns)
        assert ours == theirs, f"{args!r}:\n  shard: {ours!r}\n  redis: {theirs!r}"
        return ours

    def pushes(self, timeout=0.2) -> bytes:
        ours, theirs = (c.read_until_closed(timeout=timeout) for c in self.conns)
        assert ours == theirs, f"pushes:\n  shard: {ours!r}\n  redis: {theirs!r}"
        return ours

    def close(self):
        for c in self.conns:
            c.close()


def _inv(*keys) -> bytes:
    out = b">2\r\n$10\r\ninvalidate\r\n*%d\r\n" % len(keys)
    for k in keys:
        out += b"$%d\r\n%s\r\n" % (len(k), k)
    return out


@pytest.fixture
def pair(compat):
    p = Pair(compat)
    w = Pair(compat, resp3=False)
    yield p, w
    p.close()
    w.close()


@pytest.mark.parametrize("args", [
    ("on", "prefix", "a"), ("on", "bcast", "optin"), ("on", "bcast", "optout"), ("on", "optin", "optout"),
    ("on", "redirect", "999999"), ("on", "redirect", "x"), ("on", "redirect", "0"), ("on", "bogus"), ("maybe",),
    ("on", "bcast", "prefix", "ab", "prefix", "a"), ("on", "redirect"), ("on", "prefix"),
])
def test_tracking_errors(pair, args):
    p, _ = pair
    p.call("CLIENT", "TRACKING", *args)
    p.call("CLIENT", "TRACKINGINFO")


def test_mode_switch_errors_and_caching(pair):
    p, _ = pair
    p.call("CLIENT", "CACHING", "yes")
    p.call("CLIENT", "GETREDIR")
    p.call("CLIENT", "TRACKING", "on")
    p.call("CLIENT", "CACHING", "yes")
    p.call("CLIENT", "CACHING", "no")
    p.call("CLIENT", "CACHING", "maybe")
    p.call("CLIENT", "TRACKING", "on", "bcast")
    p.call("CLIENT", "TRACKING", "on", "optout")
    p.call("CLIENT", "TRACKING", "on", "optin")
    p.call("CLIENT", "CACHING", "no")
    p.call("CLIENT", "TRACKINGINFO")
    p.call("CLIENT", "TRACKING", "off")
    p.call("CLIENT", "TRACKING", "on", "bcast", "prefix", "a", "prefix", "b")
    p.call("CLIENT", "TRACKING", "on", "bcast", "prefix", "abc")
    p.call("CLIENT", "TRACKING", "on", "bcast", "prefix", "c")
    p.call("CLIENT", "TRACKINGINFO")
    p.call("CLIENT", "TRACKING", "off")
    p.call("CLIENT", "TRACKINGINFO")
    p.call("CLIENT", "GETREDIR")


def test_reset_turns_tracking_off(pair):
    p, _ = pair
    p.call("CLIENT", "TRACKING", "on", "bcast", "prefix", "x")
    p.call("RESET")
    p.call("CLIENT", "TRACKINGINFO")


def test_default_mode_invalidations(pair):
    p, w = pair
    p.call("CLIENT", "TRACKING", "on")
    p.call("GET", "k")
    p.call("MGET", "k", "j")
    p.call("HGET", "h", "f")
    w.call("SET", "x", "1")  # not read: no message
    w.call("SET", "k", "1")
    assert p.pushes() == _inv(b"k")
    w.call("SET", "k", "2")  # forgotten after one invalidation until read again
    p.pushes()
    w.call("HSET", "h", "f", "v")
    assert p.pushes() == _inv(b"h")
    p.call("SET", "j", "1")  # its own write: the push comes after the reply
    p.pushes()
    p.call("GET", "k")
    p.call("MULTI")
    p.call("SET", "k", "3")
    p.call("GET", "k")
    p.call("EXEC")  # the invalidation after EXEC's reply
    p.pushes()
    p.call("GET", "k")
    w.call("DEL", "k")
    p.pushes()
    p.call("GET", "k")
    w.call("FLUSHALL")
    assert p.pushes() == b">2\r\n$10\r\ninvalidate\r\n_\r\n"
    p.call("FLUSHDB")
    p.pushes()


def test_expiry_invalidates(pair):
    p, w = pair
    p.call("CLIENT", "TRACKING", "on")
    w.call("SET", "e", "1", "PX", "30")
    p.call("GET", "e")
    import time
    time.sleep(0.1)
    w.call("GET", "e")  # expired by now (actively, or lazily by this read): one invalidation either way
    assert p.pushes() == _inv(b"e")


def test_optin_optout_noloop(pair):
    p, w = pair
    p.call("CLIENT", "TRACKING", "on", "optin", "noloop")
    p.call("GET", "a")  # not cached: no CLIENT CACHING yes
    p.call("CLIENT", "CACHING", "yes")
    p.call("GET", "b")
    p.call("CLIENT", "TRACKINGINFO")
    w.call("MSET", "a", "1", "b", "1")
    p.pushes()
    p.call("CLIENT", "CACHING", "yes")
    p.call("GET", "b")
    p.call("SET", "b", "2")  # NOLOOP: its own writes are not sent back
    p.pushes()
    p.call("CLIENT", "TRACKING", "off")
    p.call("CLIENT", "TRACKING", "on", "optout")
    p.call("CLIENT", "CACHING", "no")
    p.call("GET", "c")  # excluded
    p.call("GET", "d")
    w.call("MSET", "c", "1", "d", "1")
    p.pushes()


def test_bcast_prefixes(pair):
    p, w = pair
    p.call("CLIENT", "TRACKING", "on", "bcast", "prefix", "user:", "prefix", "order:")
    w.call("MSET", "user:1", "a", "order:9", "b", "other", "c", "user:0", "d")
    p.pushes()
    p.call("SET", "user:2", "x")  # without NOLOOP its own writes are broadcast too
    p.pushes()
    p.call("CLIENT", "TRACKING", "off")
    p.call("CLIENT", "TRACKING", "on", "bcast", "noloop")  # every key
    p.call("SET", "mine", "x")
    w.call("SET", "theirs", "y")
    p.pushes()


def test_resp2_redirect_to_invalidate_channel(compat):
    sub = Pair(compat, resp3=False)
    ids = [c.call("CLIENT", "ID")[1:-2] for c in sub.conns]
    for c in sub.conns:
        c.call("SUBSCRIBE", "__redis__:invalidate")
    t = Pair(compat, resp3=False)
    for c, i in zip(t.conns, ids):
        assert c.call("CLIENT", "TRACKING", "on", "REDIRECT", i) == b"+OK\r\n"
    t.call("GET", "rk")
    w = Pair(compat, resp3=False)
    w.call("SET", "rk", "1")
    assert sub.pushes() == b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$2\r\nrk\r\n"
    w.call("FLUSHDB")
    assert sub.pushes() == b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
    t.call("GET", "rk")
    _kill(w, ids)  # the redirection target goes away: broken_redirect
    sub.close()
    w.call("SET", "rk", "2")
    t.pushes()
    ours, theirs = (c.call("CLIENT", "TRACKINGINFO") for c in t.conns)
    assert ours.replace(b":%s\r\n" % ids[0], b":ID\r\n") == theirs.replace(b":%s\r\n" % ids[1], b":ID\r\n")
    assert b"broken_redirect" in ours
    t.close()
    w.close()


def _kill(w, ids):
    for c, i in zip(w.conns, ids):
        assert c.call("CLIENT", "KILL", "ID", i) == b":1\r\n"


def test_resp3_redirect_broken_push(compat):
    target = Pair(compat)
    ids = [c.call("CLIENT", "ID")[1:-2] for c in target.conns]
    t = Pair(compat)
    for c, i in zip(t.conns, ids):
        assert c.call("CLIENT", "TRACKING", "on", "REDIRECT", i) == b"+OK\r\n"
    t.call("GET", "k")
    w = Pair(compat, resp3=False)
    w.call("SET", "k", "1")
    target.pushes()
    t.call("GET", "k")
    _kill(w, ids)
    target.close()
    w.call("SET", "k", "2")
    ours, theirs = (c.read_until_closed(timeout=0.3) for c in t.conns)
    assert ours == b">2\r\n$21\r\ntracking-redir-broken\r\n:%s\r\n" % ids[0]
    assert theirs == b">2\r\n$21\r\ntracking-redir-broken\r\n:%s\r\n" % ids[1]
    t.close()
    w.close()


def test_info_and_client_list(shard):
    c = RawConnection(shard.host, shard.port)
    c.call("HELLO", "3")
    c.call("CLIENT", "TRACKING", "on", "bcast", "prefix", "p")
    admin = redis.Redis(host=shard.host, port=shard.port)
    info = admin.info("clients")
    assert info["tracking_clients"] >= 1
    assert admin.info("stats")["tracking_total_prefixes"] >= 1
    line = c.call("CLIENT", "INFO")
    assert b"flags=tB " in line and b"redir=0 " in line
    c.call("CLIENT", "TRACKING", "off")
    assert b"flags=N " in c.call("CLIENT", "INFO")
    c.close()
    admin.close()


def test_redis_py_client_side_cache(shard):
    """redis-py 8's client-side cache (RESP3): a cached read, then the server's invalidation."""
    cached = redis.Redis(host=shard.host, port=shard.port, protocol=3, cache_config=CacheConfig())
    writer = redis.Redis(host=shard.host, port=shard.port)
    try:
        writer.set("csc:k", "v1")
        assert cached.get("csc:k") == b"v1"
        cache = cached.get_cache()
        assert cache.size >= 1
        assert cached.get("csc:k") == b"v1"  # from the cache
        writer.set("csc:k", "v2")
        # the next command on the cached connection reads the invalidation push first
        for _ in range(50):
            if cached.get("csc:k") == b"v2":
                break
        assert cached.get("csc:k") == b"v2"
    finally:
        writer.delete("csc:k")
        cached.close()
        writer.close()


def test_optin_caching_covers_a_transaction(pair):
    p, w = pair
    p.call("CLIENT", "TRACKING", "on", "optin")
    p.call("CLIENT", "CACHING", "yes")
    p.call("MULTI")
    p.call("GET", "a")
    p.call("GET", "b")
    p.call("EXEC")
    p.call("GET", "c")  # CACHING yes ended with the transaction
    w.call("MSET", "a", "1", "b", "1", "c", "1")
    p.pushes()
