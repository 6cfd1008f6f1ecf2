"""Key expiry: TTLs through redis-py, millisecond precision, lazy and active expiry, WATCH, and the
effects replicated by the commands that set or end a TTL.

Waits are short (tens of ms) and poll with a deadline rather than sleeping a fixed time.
Replication is checked in-process: a Server whose `propagate` records the effects, driven through
the real dispatch by a Client with no transport.
"""
from __future__ import annotations

import datetime
import time

import pytest
import redis

from tests import helpers

FAR_MS = 4102444800123  # 2100-01-01


def wait_until(predicate, timeout=3.0, step=0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


# --- TTLs set through redis-py --------------------------------------------------------------------

def test_set_ex_px_give_the_right_ttl(r):
    assert r.set("k", "v", ex=100) is True
    assert r.ttl("k") == 100
    assert 99_000 < r.pttl("k") <= 100_000
    assert r.set("k", "v", px=5000) is True
    assert 4_000 < r.pttl("k") <= 5000
    assert r.ttl("k") == 5
    assert r.set("k", "v", ex=datetime.timedelta(minutes=2)) is True
    assert r.ttl("k") == 120
    assert r.set("k", "v", exat=FAR_MS // 1000) is True
    assert r.expiretime("k") == FAR_MS // 1000
    assert r.set("k", "v", pxat=FAR_MS) is True
    assert r.pexpiretime("k") == FAR_MS
    assert r.set("k", "v2", keepttl=True) is True
    assert r.pexpiretime("k") == FAR_MS
    assert r.set("k", "v3") is True
    assert r.ttl("k") == -1


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_setex_psetex_getex_expire_through_redis_py(r):
    assert r.setex("k", 60, "v") is True
    assert r.ttl("k") == 60
    assert r.psetex("k", 1500, "v") is True
    assert 1000 < r.pttl("k") <= 1500
    assert r.getex("k", ex=300) == b"v"
    assert r.ttl("k") == 300
    assert r.getex("k", persist=True) == b"v"
    assert r.ttl("k") == -1
    assert r.expire("k", datetime.timedelta(seconds=30)) is True
    assert r.ttl("k") == 30
    assert r.pexpire("k", 2500) is True
    assert 2000 < r.pttl("k") <= 2500
    assert r.expireat("k", FAR_MS // 1000) is True
    assert r.expiretime("k") == FAR_MS // 1000
    assert r.expire("k", 10, gt=True) is False
    assert r.expire("k", 10, lt=True) is True
    assert r.ttl("k") == 10
    assert r.persist("k") is True
    assert r.ttl("k") == -1
    assert r.ttl("missing") == -2
    assert r.pttl("missing") == -2


# --- precision, lazy and active expiry ------------------------------------------------------------

def test_millisecond_precision(r):
    start = time.monotonic()
    r.set("k", "v", px=150)
    assert r.get("k") == b"v"
    assert 0 < r.pttl("k") <= 150
    assert wait_until(lambda: r.get("k") is None)
    elapsed = time.monotonic() - start
    assert 0.14 <= elapsed < 1.5
    assert r.pttl("k") == -2
    assert r.exists("k") == 0


def test_lazy_expiry_on_access(r):
    """With active expiry off, an expired key stays in the dict (DBSIZE counts it) until read."""
    if not isinstance(r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0"), (bytes, str)):
        pytest.skip("DEBUG SET-ACTIVE-EXPIRE is not available")
    try:
        r.set("k", "v", px=20)
        r.set("keep", "v")
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.05:
            time.sleep(0.01)
        assert r.dbsize() == 2  # expired, but nobody touched it
        assert r.get("k") is None
        assert r.dbsize() == 1
        r.set("k", "v", px=20)
        time.sleep(0.04)
        assert r.dbsize() == 2
        assert r.scan(0) == (0, [b"keep"])  # SCAN skips (and deletes) the expired key
        assert r.dbsize() == 1
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_active_expiry_removes_keys_nobody_reads(r):
    pipe = r.pipeline(transaction=False)
    for i in range(200):
        pipe.set(f"k{i}", "v", px=50)
    pipe.set("keep", "v")
    pipe.execute()
    assert r.dbsize() == 201
    assert wait_until(lambda: r.dbsize() == 1, timeout=3.0, step=0.02)
    assert r.get("keep") == b"v"


def test_expire_in_the_past_deletes(r):
    r.set("k", "v")
    assert r.expire("k", -1) is True
    assert r.exists("k") == 0
    r.set("k", "v")
    assert r.pexpireat("k", 1) is True
    assert r.exists("k") == 0
    r.set("k", "v")
    assert r.getex("k", pxat=1) == b"v"
    assert r.exists("k") == 0


def test_watch_sees_expiry(r):
    r.set("k", "v", px=30)
    with r.pipeline() as pipe:
        pipe.watch("k")
        assert wait_until(lambda: r.pttl("k") == -2 or r.get("k") is None, timeout=1.0)
        pipe.multi()
        pipe.set("x", "1")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("x") is None


def test_watch_unaffected_by_ttl_untouched(r):
    r.set("k", "v", ex=100)
    with r.pipeline() as pipe:
        pipe.watch("k")
        assert r.ttl("k") == 100  # reading does not invalidate
        pipe.multi()
        pipe.set("x", "1")
        assert pipe.execute() == [True]


@pytest.mark.parametrize("setup,change", [
    (None, lambda r: r.expire("k", 100)),
    (lambda r: r.expire("k", 100), lambda r: r.persist("k")),
    (None, lambda r: r.getex("k", ex=5)),
    (None, lambda r: r.incrbyfloat("k2", 1)),
    (None, lambda r: r.rename("k", "k3")),
    (None, lambda r: r.copy("k", "k2", replace=True)),
], ids=["expire", "persist", "getex", "incrbyfloat", "rename", "copy"])
def test_watch_invalidated_by_ttl_changes(r, setup, change):
    r.set("k", "v")
    r.set("k2", "1")
    if setup:
        setup(r)
    with r.pipeline() as pipe:
        pipe.watch("k", "k2")
        change(r)
        pipe.multi()
        pipe.set("x", "1")
        with pytest.raises(redis.WatchError):
            pipe.execute()


# --- replicated effects ---------------------------------------------------------------------------

class Harness(helpers.Harness):
    def __init__(self):
        super().__init__(tick=True)

    def near(self, ms: int, delta: int) -> bool:
        return abs(self.server.now_ms + delta - ms) < 1000


@pytest.fixture
def h():
    return Harness()


def _pxat(effect):
    assert effect[:4] == [b"SET", b"k", b"v", b"PXAT"] and len(effect) == 5, effect
    return int(effect[4])


def test_set_with_expire_replicates_as_pxat(h):
    h("SET", "k", "v", "EX", "100")
    (eff,) = h.take()
    assert h.near(_pxat(eff), 100_000)
    h("SET", "k", "v", "PX", "5000", "XX", "GET")
    (eff,) = h.take()
    assert h.near(_pxat(eff), 5000)  # NX/XX/GET dropped, as Redis 7.4 does
    h("SET", "k", "v", "EXAT", str(FAR_MS // 1000))
    assert h.take() == [[b"SET", b"k", b"v", b"PXAT", b"%d" % (FAR_MS // 1000 * 1000)]]
    h("SET", "k", "v", "PXAT", str(FAR_MS), "GET")
    assert h.take() == [[b"SET", b"k", b"v", b"PXAT", b"%d" % FAR_MS, b"GET"]]  # PXAT: the request as is
    h("SETEX", "k", "100", "v")
    (eff,) = h.take()
    assert h.near(_pxat(eff), 100_000)
    h("PSETEX", "k", "100", "v")
    (eff,) = h.take()
    assert h.near(_pxat(eff), 100)


def test_set_get_replicates_without_get(h):
    assert h("SET", "k", "v", "get", "KEEPTTL", "GET") is None
    assert h.take() == [[b"SET", b"k", b"v", b"KEEPTTL"]]
    h("SET", "k", "v")
    assert h.take() == [[b"SET", b"k", b"v"]]
    assert h("SET", "k", "w", "NX") is None
    assert h("SET", "k", "w", "NX", "GET") == b"v"
    assert h("SETNX", "k", "w") == 0
    assert h.take() == []  # nothing written, nothing replicated


def test_getex_getdel_getset_incrbyfloat_effects(h):
    h("SET", "k", "v")
    h.take()
    assert h("GETEX", "k") == b"v"
    assert h.take() == []
    assert h("GETEX", "k", "EX", "100") == b"v"
    ((cmd, key, when),) = h.take()
    assert (cmd, key) == (b"PEXPIREAT", b"k") and h.near(int(when), 100_000)
    assert h("GETEX", "k", "PXAT", str(FAR_MS)) == b"v"
    assert h.take() == [[b"PEXPIREAT", b"k", b"%d" % FAR_MS]]
    assert h("GETEX", "k", "PERSIST") == b"v"
    assert h.take() == [[b"PERSIST", b"k"]]
    assert h("GETEX", "k", "PERSIST") == b"v"
    assert h.take() == []
    assert h("GETEX", "k", "EXAT", "1") == b"v"
    assert h.take() == [[b"DEL", b"k"]]
    h("SET", "k", "v")
    h.take()
    assert h("GETDEL", "k") == b"v"
    assert h.take() == [[b"DEL", b"k"]]
    assert h("GETDEL", "k") is None
    assert h.take() == []
    assert h("GETSET", "k", "1") is None
    assert h.take() == [[b"SET", b"k", b"1"]]
    assert h("INCRBYFLOAT", "k", "0.5") == b"1.5"
    assert h.take() == [[b"SET", b"k", b"1.5", b"KEEPTTL"]]
    assert h("INCR", "n") == 1
    assert h.take() == [[b"INCR", b"n"]]


def test_expire_commands_replicate_as_pexpireat(h):
    h("SET", "k", "v")
    h.take()
    assert h("EXPIRE", "k", "100") == 1
    ((cmd, key, when),) = h.take()
    assert (cmd, key) == (b"PEXPIREAT", b"k") and h.near(int(when), 100_000)
    assert h("PEXPIRE", "k", "200000", "GT") == 1
    ((cmd, key, when, flag),) = h.take()
    assert (cmd, key, flag) == (b"PEXPIREAT", b"k", b"GT") and h.near(int(when), 200_000)
    assert h("EXPIREAT", "k", str(FAR_MS // 1000), "xx") == 1
    assert h.take() == [[b"PEXPIREAT", b"k", b"%d" % (FAR_MS // 1000 * 1000), b"xx"]]
    assert h("PEXPIREAT", "k", str(FAR_MS)) == 1
    assert h.take() == [[b"PEXPIREAT", b"k", b"%d" % FAR_MS]]
    assert h("EXPIRE", "k", "100", "NX") == 0
    assert h("EXPIRE", "missing", "100") == 0
    assert h.take() == []
    assert h("PERSIST", "k") == 1
    assert h.take() == [[b"PERSIST", b"k"]]
    assert h("EXPIRE", "k", "-1") == 1
    assert h.take() == [[b"DEL", b"k"]]
    assert h("EXISTS", "k") == 0


def test_lazy_expiry_replicates_del(h):
    h("SET", "k", "v", "PXAT", "1")
    h.take()
    assert h("GET", "k") is None
    assert h.take() == [[b"DEL", b"k"]]
    assert h.server.stat_expired_keys == 1


def test_keyspace_hits_and_misses(h):
    h("SET", "k", "v")
    before = (h.server.stat_keyspace_hits, h.server.stat_keyspace_misses)
    h("GET", "k")
    h("GET", "nokey")
    h("MGET", "k", "nokey", "k")
    h("EXISTS", "k", "nokey")
    h("INCR", "counter")  # a write lookup: not counted
    assert h.server.stat_keyspace_hits - before[0] == 4
    assert h.server.stat_keyspace_misses - before[1] == 3
