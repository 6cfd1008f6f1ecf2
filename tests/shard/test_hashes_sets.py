"""Hashes and sets beyond byte-for-byte replies: what they replicate, WATCH, expiry, randomness,
and the redis-py view of them.

Replication is checked in-process: a Server whose `propagate` records the effects, driven through
the real dispatch by a Client with no transport.
"""
from __future__ import annotations

import pytest
import redis

from tests.helpers import Harness


@pytest.fixture
def h():
    return Harness()


def test_hincrbyfloat_replicates_as_hset(h):
    assert h("HINCRBYFLOAT", "k", "f", "0.1") == b"0.1"
    assert h("HINCRBYFLOAT", "k", "f", "0.2") == b"0.3"
    assert h.take() == [[b"HSET", b"k", b"f", b"0.1"], [b"HSET", b"k", b"f", b"0.3"]]
    h("HINCRBYFLOAT", "k", "f", "x")
    h("HINCRBYFLOAT", "k", "f", "inf")
    assert h.take() == []


def test_writes_replicate_verbatim_and_no_ops_not_at_all(h):
    h("HSET", "k", "a", "1", "b", "2")
    h("HSETNX", "k", "a", "x")  # no change
    h("HDEL", "k", "zz")  # no change
    h("HINCRBY", "k", "a", "5")
    h("SADD", "s", "a")
    h("SADD", "s", "a")  # no change
    h("SREM", "s", "zz")  # no change
    h("SMOVE", "s", "t", "zz")  # no change
    h("SINTERSTORE", "d", "nokey")  # nothing to delete: no change
    assert h.take() == [[b"HSET", b"k", b"a", b"1", b"b", b"2"], [b"HINCRBY", b"k", b"a", b"5"],
                        [b"SADD", b"s", b"a"]]
    h("SINTERSTORE", "d", "s")
    h("SINTERSTORE", "d", "nokey")  # deletes d
    assert h.take() == [[b"SINTERSTORE", b"d", b"s"], [b"SINTERSTORE", b"d", b"nokey"]]


def test_spop_replicates_as_srem(h):
    h("SADD", "s", "a", "b", "c")
    m = h("SPOP", "s")
    assert h.take()[-1] == [b"SREM", b"s", m]
    popped = h("SPOP", "s", "1")
    assert h.take() == [[b"SREM", b"s", *popped]]
    last = h("SPOP", "s", "5")  # the whole set: replicated as DEL
    assert len(last) == 1
    assert h.take() == [[b"DEL", b"s"]]
    assert h("SPOP", "s") is None and h("SPOP", "s", "3") == []
    assert h.take() == []


def test_spop_count_replicates_srem_in_batches(h):
    h("SADD", "s", *range(3000))
    h.take()
    popped = h("SPOP", "s", "2500")
    effects = h.take()
    assert [len(e) - 2 for e in effects] == [1024, 1024, 452]
    assert all(e[:2] == [b"SREM", b"s"] for e in effects)
    assert sorted(m for e in effects for m in e[2:]) == sorted(popped)
    assert len(set(popped)) == 2500
    assert h("SCARD", "s") == 500
    assert not set(popped) & set(h("SMEMBERS", "s"))
    popped = h("SPOP", "s", "10")  # few from many
    assert len(set(popped)) == 10 and h("SCARD", "s") == 490


def test_spop_single_from_big_set(h):
    h("SADD", "s", *range(5000))
    seen = {h("SPOP", "s") for _ in range(5000)}
    assert len(seen) == 5000
    assert h("SCARD", "s") == 0


def test_expired_keys_are_replaced(h):
    h("HSET", "k", "a", "1")
    h("SADD", "s", "a")
    db = h.server.dbs[0]
    db.set_expire(b"k", h.server.now_ms - 1)
    db.set_expire(b"s", h.server.now_ms - 1)
    assert h("HSET", "k", "b", "2") == 1
    assert h("HGETALL", "k") == [b"b", b"2"]
    assert h("SADD", "s", "b") == 1
    assert h("SMEMBERS", "s") == [b"b"]


def test_store_drops_the_ttl(h):
    h("SADD", "a", "1")
    h("SET", "d", "x")
    h.server.dbs[0].set_expire(b"d", h.server.now_ms + 100000)
    assert h("SUNIONSTORE", "d", "a") == 1
    assert h.server.dbs[0].get_expire(b"d") == -1


def test_dirty_counts_like_redis(h):
    s = h.server
    d0 = s.dirty
    h("HSET", "k", "a", "1", "b", "2", "c", "3")
    assert s.dirty - d0 == 3
    d0 = s.dirty
    h("SADD", "s", "a", "b", "a")
    assert s.dirty - d0 == 2
    d0 = s.dirty
    h("SREM", "s", "a", "b")
    assert s.dirty - d0 == 2
    d0 = s.dirty
    h("HDEL", "k", "a", "b", "zz")
    assert s.dirty - d0 == 2


# --- over the network, with redis-py -----------------------------------------------------------


def test_redis_py_view(r):
    assert r.hset("h", mapping={"a": "1", "b": "2"}) == 2
    assert r.hgetall("h") == {b"a": b"1", b"b": b"2"}
    assert r.hincrbyfloat("h", "a", 1.5) == 2.5
    assert r.hrandfield("h", 2, withvalues=True) in ([b"a", b"2.5", b"b", b"2"], [b"b", b"2", b"a", b"2.5"])
    assert r.sadd("s", "x", "y", "z") == 3
    assert r.smembers("s") == {b"x", b"y", b"z"}
    assert r.sintercard(1, ["s"], limit=2) == 2
    assert r.smismember("s", ["x", "q"]) == [1, 0]


def test_redis_py_resp3_view(r3):
    r3.hset("h", mapping={"a": "1", "b": "2"})
    assert r3.hgetall("h") == {b"a": b"1", b"b": b"2"}
    r3.sadd("s", "x", "y")
    assert r3.smembers("s") == {b"x", b"y"}
    assert sorted(r3.hrandfield("h", 5, withvalues=True)) == [[b"a", b"1"], [b"b", b"2"]]


def test_scan_iterators_see_everything(r):
    r.sadd("s", *[f"m{i}" for i in range(2000)])
    r.hset("h", mapping={f"f{i}": i for i in range(2000)})
    assert set(r.sscan_iter("s", count=37)) == {f"m{i}".encode() for i in range(2000)}
    assert dict(r.hscan_iter("h", count=101)) == {f"f{i}".encode(): str(i).encode() for i in range(2000)}
    assert set(r.sscan_iter("s", match="m1?", count=100)) == {f"m1{i}".encode() for i in range(10)}


def test_scan_while_the_set_changes(r):
    r.sadd("s", *range(1000))
    seen = set()
    cursor = 0
    first = True
    while first or cursor != 0:
        first = False
        cursor, batch = r.sscan("s", cursor, count=50)
        seen.update(batch)
        r.srem("s", 999)  # a member removed mid-scan may or may not be returned
        r.sadd("s", "new")  # an added one too
    assert {str(i).encode() for i in range(999)} <= seen


@pytest.mark.parametrize("write", [
    ("HSET", "k", "f", "v"), ("HDEL", "k", "a"), ("HINCRBY", "k", "n", "1"), ("HINCRBYFLOAT", "k", "n", "1"),
    ("HSETNX", "k", "new", "1"), ("HMSET", "k", "a", "2"),
])
def test_hash_writes_invalidate_watch(r, write):
    r.hset("k", mapping={"a": "1", "b": "2"})
    _assert_watch_broken(r, "k", write)


@pytest.mark.parametrize("write", [
    ("SADD", "k", "new"), ("SREM", "k", "a"), ("SPOP", "k"), ("SPOP", "k", "1"), ("SMOVE", "k", "o", "a"),
    ("SMOVE", "o", "k", "x"), ("SINTERSTORE", "k", "o"), ("SUNIONSTORE", "k", "o"), ("SDIFFSTORE", "k", "o"),
    ("SDIFFSTORE", "k", "nokey"),
])
def test_set_writes_invalidate_watch(r, write):
    r.sadd("k", "a", "b")
    r.sadd("o", "x")
    _assert_watch_broken(r, "k", write)


@pytest.mark.parametrize("noop", [("SADD", "k", "a"), ("SREM", "k", "zz"), ("SMOVE", "k", "o", "zz"),
                                  ("HSETNX", "h", "a", "x"), ("HDEL", "h", "zz"), ("SPOP", "k", "0")])
def test_no_op_writes_keep_watch(r, noop):
    r.sadd("k", "a")
    r.hset("h", "a", "1")
    with r.pipeline() as p:
        p.watch(noop[1])
        r.execute_command(*noop)
        p.multi()
        p.ping()
        assert p.execute() == [True]


def _assert_watch_broken(r, key, write):
    with r.pipeline() as p:
        p.watch(key)
        r.execute_command(*write)
        p.multi()
        p.ping()
        with pytest.raises(redis.WatchError):
            p.execute()


def test_srandmember_is_random(r):
    r.sadd("small", *range(10))
    r.sadd("big", *range(10000))
    for key in ("small", "big"):
        assert len({r.srandmember(key) for _ in range(60)}) > 3
        assert len({tuple(sorted(r.srandmember(key, 3))) for _ in range(30)}) > 3
    r.hset("h", mapping={f"f{i}": i for i in range(10)})
    assert len({r.hrandfield("h") for _ in range(60)}) > 3
