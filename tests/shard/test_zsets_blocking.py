"""BZPOPMIN / BZPOPMAX / BZMPOP: blocking, being served by other clients, timeouts, MULTI, and what
the zset commands replicate.

A test waits for a client to be blocked by watching `blocked_clients` in INFO from another
connection, so the writes always land after the block.
"""
from __future__ import annotations

import time

import pytest

from amr_emulator.protocol.resp import decode_reply, encode_command
from shard.dispatch import process_command
from shard.session import Client
from tests.helpers import Harness, blocked_clients, wait_blocked
from tests.servers import RawConnection


@pytest.fixture
def conns(shard, raw):
    """Three raw connections to the shard (flushed): two clients and an observer."""
    made = [RawConnection(shard.host, shard.port) for _ in range(2)]
    yield [raw] + made
    for c in made:
        c.close()


def test_bzpopmin_served_by_zadd(conns):
    a, b, obs = conns
    a.send(encode_command("BZPOPMIN", "z", "0"))
    wait_blocked(obs, 1)
    assert b.call("ZADD", "z", "2", "two", "1.5", "one") == b":2\r\n"
    assert a.read_reply() == b"*3\r\n$1\r\nz\r\n$3\r\none\r\n$3\r\n1.5\r\n"
    assert blocked_clients(obs) == 0
    assert b.call("ZRANGE", "z", "0", "-1") == b"*1\r\n$3\r\ntwo\r\n"
    # the client runs its next command normally
    assert a.call("PING") == b"+PONG\r\n"


def test_bzpopmax_second_key_resp3(conns):
    a, b, obs = conns
    a.call("HELLO", "3")
    a.send(encode_command("BZPOPMAX", "k1", "k2", "0"))
    wait_blocked(obs, 1)
    b.call("ZADD", "k2", "1", "x", "3", "y")
    assert a.read_reply() == b"*3\r\n$2\r\nk2\r\n$1\r\ny\r\n,3\r\n"


def test_bzmpop_served(conns):
    a, b, obs = conns
    a.send(encode_command("BZMPOP", "0", "2", "k1", "k2", "MAX", "COUNT", "2"))
    wait_blocked(obs, 1)
    b.call("ZADD", "k2", "1", "a", "2", "b", "3", "c")
    assert a.read_reply() == b"*2\r\n$2\r\nk2\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert b.call("ZCARD", "k2") == b":1\r\n"


def test_timeout(conns):
    a, _, _ = conns
    t0 = time.monotonic()
    assert a.call("BZPOPMIN", "nokey", "0.05") == b"*-1\r\n"
    assert time.monotonic() - t0 >= 0.04
    assert a.call("BZMPOP", "0.05", "1", "nokey", "MIN") == b"*-1\r\n"
    a.call("HELLO", "3")
    assert a.call("BZPOPMAX", "nokey", "0.05") == b"_\r\n"


def test_inside_multi_does_not_block(conns):
    a, _, obs = conns
    assert a.call("MULTI") == b"+OK\r\n"
    assert a.call("BZPOPMIN", "nokey", "0") == b"+QUEUED\r\n"
    assert a.call("BZMPOP", "0", "1", "nokey", "MIN") == b"+QUEUED\r\n"
    assert a.call("ZADD", "z", "1", "a") == b"+QUEUED\r\n"
    assert a.call("BZPOPMAX", "z", "0") == b"+QUEUED\r\n"
    assert a.call("EXEC") == b"*4\r\n*-1\r\n*-1\r\n:1\r\n*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert blocked_clients(obs) == 0


def test_fifo_order(conns):
    a, b, obs = conns
    a.send(encode_command("BZPOPMIN", "z", "0"))
    wait_blocked(obs, 1)
    b.send(encode_command("BZPOPMIN", "z", "0"))
    wait_blocked(obs, 2)
    obs.call("ZADD", "z", "1", "first")
    assert a.read_reply() == b"*3\r\n$1\r\nz\r\n$5\r\nfirst\r\n$1\r\n1\r\n"
    assert blocked_clients(obs) == 1
    obs.call("ZADD", "z", "2", "second", "3", "third")
    assert b.read_reply() == b"*3\r\n$1\r\nz\r\n$6\r\nsecond\r\n$1\r\n2\r\n"
    assert obs.call("ZRANGE", "z", "0", "-1") == b"*1\r\n$5\r\nthird\r\n"


def test_served_after_exec(conns):
    a, b, obs = conns
    a.send(encode_command("BZPOPMIN", "z", "0"))
    wait_blocked(obs, 1)
    b.call("MULTI")
    b.call("ZADD", "z", "5", "e")
    b.call("ZADD", "z", "1", "a")
    assert b.call("EXEC") == b"*2\r\n:1\r\n:1\r\n"
    # served once the transaction is over: the lowest score of the final state
    assert a.read_reply() == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"


def test_key_of_another_type_keeps_waiting(conns):
    a, b, obs = conns
    a.send(encode_command("BZPOPMIN", "z", "0"))
    wait_blocked(obs, 1)
    b.call("SET", "z", "string")
    assert blocked_clients(obs) == 1
    b.call("DEL", "z")
    b.call("ZADD", "z", "1", "a")
    assert a.read_reply() == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"


def test_served_by_store_commands(conns):
    a, b, obs = conns
    b.call("ZADD", "src", "1", "a", "2", "b")
    a.send(encode_command("BZPOPMAX", "dst", "0"))
    wait_blocked(obs, 1)
    assert b.call("ZUNIONSTORE", "dst", "1", "src") == b":2\r\n"
    assert a.read_reply() == b"*3\r\n$3\r\ndst\r\n$1\r\nb\r\n$1\r\n2\r\n"
    a.send(encode_command("BZPOPMIN", "dst2", "0"))
    wait_blocked(obs, 1)
    assert b.call("ZRANGESTORE", "dst2", "src", "1", "1") == b":1\r\n"
    assert a.read_reply() == b"*3\r\n$4\r\ndst2\r\n$1\r\nb\r\n$1\r\n2\r\n"


def test_same_key_twice_and_timeout_after_nothing(conns):
    a, b, obs = conns
    a.send(encode_command("BZPOPMIN", "z", "z", "0"))
    wait_blocked(obs, 1)
    b.call("ZADD", "z", "1", "a")
    assert a.read_reply() == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert blocked_clients(obs) == 0


async def test_redis_py_view(ar):
    await ar.zadd("z", {"a": 1.5, "b": 2})
    assert await ar.zrange("z", 0, -1, withscores=True) == [(b"a", 1.5), (b"b", 2.0)]
    assert await ar.bzpopmin("z", 1) == (b"z", b"a", 1.5)
    assert await ar.zmpop(1, ["z"], max=True) == [b"z", [[b"b", b"2"]]]


# --- replication (in-process) ----------------------------------------------------------------------


def test_replicated_effects():
    h = Harness()
    h("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
    assert h.take() == [[b"ZADD", b"z", b"1", b"a", b"2", b"b", b"3", b"c", b"4", b"d", b"5", b"e"]]
    h("BZPOPMIN", "z", "0")
    assert h.take() == [[b"ZPOPMIN", b"z"]]
    h("BZPOPMAX", "nokey", "z", "0")
    assert h.take() == [[b"ZPOPMAX", b"z"]]
    h("ZMPOP", "1", "z", "MIN", "COUNT", "10")
    assert h.take() == [[b"ZPOPMIN", b"z", b"3"]]
    h("ZADD", "z", "1", "a", "2", "b")
    h.take()
    h("BZMPOP", "0", "1", "z", "MAX")
    assert h.take() == [[b"ZPOPMAX", b"z", b"1"]]
    h("ZPOPMIN", "z", "5")
    assert h.take() == [[b"ZPOPMIN", b"z", b"5"]]
    # nothing to pop: nothing replicated
    h("ZMPOP", "1", "z", "MIN")
    h("ZPOPMIN", "z")
    h("ZREM", "z", "a")
    h("ZADD", "z", "XX", "1", "a")
    assert h.take() == []
    h("ZADD", "z", "1", "a")
    h("ZADD", "z", "1", "a")  # no change: not replicated
    assert h.take() == [[b"ZADD", b"z", b"1", b"a"]]


@pytest.mark.xfail(reason="core: Client.retry_blocked runs the handler without call()'s propagation, so "
                          "a served BZPOPMIN's ZPOPMIN is not replicated (and c.rewritten lingers)", strict=False)
def test_replicated_when_served_after_blocking():
    h = Harness()
    waiter = Client(h.server)
    waiter.out = []
    process_command(waiter, [b"BZPOPMIN", b"z", b"0"])
    assert waiter.blocked is not None and waiter.out == []
    h("ZADD", "z", "1", "a", "2", "b")
    assert decode_reply(waiter.out[0])[0] == [b"z", b"a", b"1"]
    assert h.take() == [[b"ZADD", b"z", b"1", b"a", b"2", b"b"], [b"ZPOPMIN", b"z"]]
    waiter.out = []
    process_command(waiter, [b"PING"])
    assert h.take() == []
