"""Blocking list commands: BLPOP BRPOP BLMPOP BLMOVE BRPOPLPUSH with several clients.

Two kinds of tests:
- redis-py (sync and asyncio) against the shard: served by a later push, timeouts, MULTI, disconnects;
- transcripts: one scenario (several raw connections, sends, waits, reads) run on the shard and on
  a real redis-server; the two transcripts of replies must be equal byte for byte.

Waiting for a client to block polls INFO's blocked_clients (as Redis's own test suite does); no
test sleeps to let something happen.
"""
from __future__ import annotations

import asyncio
import select
import time

import pytest
import redis
import redis.asyncio

from amr_emulator.protocol.resp import encode_command
from tests.servers import RawConnection

# --- helpers ---------------------------------------------------------------------------------------


def blocked_clients(conn) -> int:
    info = conn.call("INFO", "clients")
    for line in info.split(b"\r\n"):
        if line.startswith(b"blocked_clients:"):
            return int(line.split(b":")[1])
    raise AssertionError(info)


def wait_blocked(conn, n: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while blocked_clients(conn) != n:
        assert time.monotonic() < deadline, f"never {n} blocked clients"
        time.sleep(0.002)


async def await_blocked(client: redis.asyncio.Redis, n: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while (await client.info("clients"))["blocked_clients"] != n:
        assert time.monotonic() < deadline, f"never {n} blocked clients"
        await asyncio.sleep(0.002)


class Session:
    """Numbered raw connections to one server; every reply read goes to the transcript."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.conns: dict[int, RawConnection] = {}
        self.log: list = []
        self.admin = RawConnection(host, port)

    def conn(self, i: int) -> RawConnection:
        if i not in self.conns:
            self.conns[i] = RawConnection(self.host, self.port)
        return self.conns[i]

    def call(self, i: int, *args) -> bytes:
        reply = self.conn(i).call(*args)
        self.log.append((i, args, reply))
        return reply

    def call_as(self, i: int, label: str, *args) -> bytes:
        """A call logged under `label` (its arguments differ between servers, e.g. a client id)."""
        reply = self.conn(i).call(*args)
        self.log.append((i, label, reply))
        return reply

    def quiet(self, i: int, *args) -> bytes:
        """A call whose reply differs between servers by nature (HELLO, CLIENT ID): not compared."""
        return self.conn(i).call(*args)

    def send(self, i: int, *args) -> None:
        self.conn(i).send(encode_command(*args))

    def block(self, i: int, *args) -> None:
        """Send a blocking command and wait until the server has parked it."""
        before = blocked_clients(self.admin)
        self.send(i, *args)
        wait_blocked(self.admin, before + 1)

    def read(self, i: int) -> bytes:
        reply = self.conn(i).read_reply()
        self.log.append((i, "read", reply))
        return reply

    def nothing(self, i: int, wait: float = 0.05) -> None:
        """Assert that connection `i` got no reply (yet)."""
        c = self.conn(i)
        ready, _, _ = select.select([c.sock], [], [], wait)
        assert not ready and not c.buf, f"connection {i} was answered: {c.sock.recv(4096)!r}"
        self.log.append((i, "nothing"))

    def drain(self, i: int) -> None:
        """A subscriber's messages so far: everything before the reply to a PING."""
        c = self.conn(i)
        c.send(encode_command("PING"))
        while True:
            reply = c.read_reply()
            self.log.append((i, "message", reply))
            if reply.startswith(b"*2\r\n$4\r\npong"):
                return

    def close(self, i: int) -> None:
        self.conns.pop(i).close()

    def wait_blocked(self, n: int) -> None:
        wait_blocked(self.admin, n)
        self.log.append(("blocked", n))

    def finish(self) -> None:
        for c in self.conns.values():
            c.close()
        self.admin.close()


def shard_transcript(compat, scenario) -> list:
    """Run `scenario(session)` on the shard alone (where Redis 7.4 and the 7.0.15 oracle differ)."""
    server = compat.targets[0]
    s = Session(server.host, server.port)
    try:
        scenario(s)
    finally:
        s.finish()
    return s.log


def transcripts(compat, scenario) -> list:
    """Run `scenario(session)` on the shard, then on redis-server; assert equal transcripts."""
    out = []
    for server in compat.targets:
        s = Session(server.host, server.port)
        try:
            scenario(s)
        finally:
            s.finish()
        out.append(s.log)
    ours, theirs = out
    for a, b in zip(ours, theirs):
        assert a == b, f"\n  shard: {a!r}\n  redis: {b!r}"
    assert len(ours) == len(theirs)
    return ours


# --- redis-py, sync --------------------------------------------------------------------------------


def test_blpop_timeout_returns_none(r):
    start = time.monotonic()
    assert r.blpop(["nokey"], timeout=0.1) is None
    elapsed = time.monotonic() - start
    assert 0.09 <= elapsed < 2


def test_brpop_blmpop_blmove_timeout(r):
    assert r.brpop(["a", "b"], timeout=0.05) is None
    assert r.blmpop(0.05, 2, "a", "b", direction="LEFT") is None
    assert r.blmove("a", "b", 0.05, "LEFT", "RIGHT") is None
    assert r.brpoplpush("a", "b", 0.05) is None
    assert r.dbsize() == 0


def test_immediate_pops(r):
    r.rpush("l", "a", "b", "c")
    assert list(r.blpop(["nokey", "l"], timeout=0)) == [b"l", b"a"]
    assert list(r.brpop(["l"], timeout=0)) == [b"l", b"c"]
    assert r.blmove("l", "m", 0, "LEFT", "LEFT") == b"b"
    assert r.exists("l") == 0
    assert r.brpoplpush("m", "l", 0) == b"b"
    assert r.lrange("l", 0, -1) == [b"b"]


def test_blpop_in_multi_returns_null_at_once(r):
    pipe = r.pipeline(transaction=True)
    pipe.blpop(["nokey"], timeout=0)
    pipe.brpop(["nokey"], timeout=0)
    pipe.blmove("nokey", "d", 0, "LEFT", "LEFT")
    pipe.brpoplpush("nokey", "d", 0)
    pipe.blmpop(0, 1, "nokey", direction="LEFT")
    pipe.rpush("l", "x")
    pipe.blpop(["l"], timeout=0)
    start = time.monotonic()
    res = pipe.execute()
    assert time.monotonic() - start < 1
    assert res[:6] == [None, None, None, None, None, 1]
    assert list(res[6]) == [b"l", b"x"]


def test_blpop_served_by_another_client_thread(shard, r):
    """Sync redis-py: a client blocked forever is served by another client's push."""
    import threading

    got = []
    other = redis.Redis(host=shard.host, port=shard.port)
    t = threading.Thread(target=lambda: got.append(other.blpop(["q"], timeout=0)))
    t.start()
    try:
        deadline = time.monotonic() + 5
        while r.info("clients")["blocked_clients"] != 1:
            assert time.monotonic() < deadline
            time.sleep(0.002)
        assert r.rpush("q", "job") == 1
        t.join(5)
        assert list(got[0]) == [b"q", b"job"]
        assert r.exists("q") == 0
    finally:
        t.join(5)
        other.close()


def test_resp3_replies(shard, r3):
    r3.rpush("l", "a")
    assert list(r3.blpop(["l"], timeout=0)) == [b"l", b"a"]
    assert r3.blpop(["l"], timeout=0.01) is None
    assert r3.blmove("l", "m", 0.01, "LEFT", "LEFT") is None


# --- redis-py, asyncio -----------------------------------------------------------------------------


async def test_async_blpop_served_by_later_lpush(shard, ar):
    waiter = redis.asyncio.Redis(host=shard.host, port=shard.port)
    try:
        task = asyncio.create_task(waiter.blpop(["k"], timeout=0))
        await await_blocked(ar, 1)
        assert not task.done()
        assert await ar.lpush("k", "v") == 1
        assert list(await asyncio.wait_for(task, 5)) == [b"k", b"v"]
        assert await ar.exists("k") == 0
        assert (await ar.info("clients"))["blocked_clients"] == 0
    finally:
        await waiter.aclose()


async def test_async_fifo_three_clients(shard, ar):
    waiters = [redis.asyncio.Redis(host=shard.host, port=shard.port) for _ in range(3)]
    try:
        tasks = []
        for i, w in enumerate(waiters):
            tasks.append(asyncio.create_task(w.blpop(["k"], timeout=0)))
            await await_blocked(ar, i + 1)
        assert await ar.rpush("k", "a", "b", "c") == 3
        results = [list(await asyncio.wait_for(t, 5)) for t in tasks]
        assert results == [[b"k", b"a"], [b"k", b"b"], [b"k", b"c"]]
        assert await ar.exists("k") == 0
    finally:
        for w in waiters:
            await w.aclose()


async def test_async_lpush_several_serves_in_order(shard, ar):
    """LPUSH k a b c makes [c b a]: the first blocked client gets c, then b, then a."""
    waiters = [redis.asyncio.Redis(host=shard.host, port=shard.port) for _ in range(3)]
    try:
        tasks = []
        for i, w in enumerate(waiters):
            tasks.append(asyncio.create_task(w.blpop(["k"], timeout=0)))
            await await_blocked(ar, i + 1)
        assert await ar.lpush("k", "a", "b", "c") == 3
        results = [list(await asyncio.wait_for(t, 5)) for t in tasks]
        assert results == [[b"k", b"c"], [b"k", b"b"], [b"k", b"a"]]
    finally:
        for w in waiters:
            await w.aclose()


async def test_async_timeout_then_others_still_served(shard, ar):
    quick = redis.asyncio.Redis(host=shard.host, port=shard.port)
    patient = redis.asyncio.Redis(host=shard.host, port=shard.port)
    try:
        t1 = asyncio.create_task(quick.blpop(["k"], timeout=0.1))
        await await_blocked(ar, 1)
        t2 = asyncio.create_task(patient.blpop(["k"], timeout=0))
        await await_blocked(ar, 2)
        assert await asyncio.wait_for(t1, 5) is None
        await await_blocked(ar, 1)
        await ar.rpush("k", "x")
        assert list(await asyncio.wait_for(t2, 5)) == [b"k", b"x"]
    finally:
        await quick.aclose()
        await patient.aclose()


async def test_async_disconnect_while_blocked(shard, ar):
    """A client that goes away while blocked leaves the queue; the next one is served."""
    gone = redis.asyncio.Redis(host=shard.host, port=shard.port)
    stays = redis.asyncio.Redis(host=shard.host, port=shard.port)
    try:
        t1 = asyncio.create_task(gone.blpop(["k"], timeout=0))
        await await_blocked(ar, 1)
        t2 = asyncio.create_task(stays.blpop(["k"], timeout=0))
        await await_blocked(ar, 2)
        t1.cancel()
        await gone.aclose()
        await await_blocked(ar, 1)
        assert await ar.rpush("k", "x", "y") == 2
        assert list(await asyncio.wait_for(t2, 5)) == [b"k", b"x"]
        assert await ar.lrange("k", 0, -1) == [b"y"]
        assert await ar.ping()
    finally:
        await stays.aclose()


async def test_async_blmove_chain(shard, ar):
    """BLMOVE served by a push, its own push then serving a BLPOP on the destination."""
    mover = redis.asyncio.Redis(host=shard.host, port=shard.port)
    taker = redis.asyncio.Redis(host=shard.host, port=shard.port)
    try:
        t1 = asyncio.create_task(mover.blmove("src", "dst", 0, "RIGHT", "LEFT"))
        await await_blocked(ar, 1)
        t2 = asyncio.create_task(taker.blpop(["dst"], timeout=0))
        await await_blocked(ar, 2)
        await ar.rpush("src", "a", "b")
        assert await asyncio.wait_for(t1, 5) == b"b"
        assert list(await asyncio.wait_for(t2, 5)) == [b"dst", b"b"]
        assert await ar.lrange("src", 0, -1) == [b"a"]
        assert await ar.exists("dst") == 0
    finally:
        await mover.aclose()
        await taker.aclose()


async def test_async_blmpop_count(shard, ar):
    waiter = redis.asyncio.Redis(host=shard.host, port=shard.port)
    try:
        task = asyncio.create_task(waiter.blmpop(0, 2, "a", "b", direction="RIGHT", count=2))
        await await_blocked(ar, 1)
        await ar.rpush("b", "1", "2", "3")
        assert await asyncio.wait_for(task, 5) == [b"b", [b"3", b"2"]]
        assert await ar.lrange("b", 0, -1) == [b"1"]
    finally:
        await waiter.aclose()


async def test_server_keeps_serving_many_blocked_clients(shard, ar):
    waiters = [redis.asyncio.Redis(host=shard.host, port=shard.port) for _ in range(20)]
    try:
        tasks = [asyncio.create_task(w.brpop([f"k{i % 4}"], timeout=0)) for i, w in enumerate(waiters)]
        await await_blocked(ar, 20)
        for i in range(4):
            await ar.lpush(f"k{i}", *[f"{i}-{j}" for j in range(5)])
        results = await asyncio.wait_for(asyncio.gather(*tasks), 5)
        assert sorted(v for _, v in results) == sorted(f"{i}-{j}".encode() for i in range(4) for j in range(5))
        assert await ar.dbsize() == 0
    finally:
        for w in waiters:
            await w.aclose()


# --- transcripts: the shard against redis-server ---------------------------------------------------


def test_blpop_served_by_later_push(compat):
    def scenario(s):
        s.block(1, "BLPOP", "k", "0")
        s.nothing(1)
        s.call(2, "LPUSH", "k", "v")
        s.read(1)
        s.call(2, "EXISTS", "k")
        s.wait_blocked(0)
    transcripts(compat, scenario)


@pytest.mark.parametrize("push", [("RPUSH", "k", "a", "b", "c"), ("LPUSH", "k", "a", "b", "c"),
                                  ("RPUSH", "k", "a", "b"), ("LPUSH", "k", "a", "b", "c", "d", "e")])
def test_fifo_three_blocked_clients(compat, push):
    def scenario(s):
        for i in (1, 2, 3):
            s.block(i, "BLPOP", "k", "0")
        s.call(4, *push)
        for i in (1, 2, 3):
            if i <= len(push) - 2:
                s.read(i)
            else:
                s.nothing(i)
        s.call(4, "LRANGE", "k", "0", "-1")
    transcripts(compat, scenario)


def test_fifo_mixed_commands(compat):
    """BRPOP, BLMPOP COUNT, BLMOVE and BLPOP on one key, served in the order they blocked."""
    def scenario(s):
        s.block(1, "BRPOP", "k", "0")
        s.block(2, "BLMPOP", "0", "1", "k", "LEFT", "COUNT", "2")
        s.block(3, "BLMOVE", "k", "d", "LEFT", "RIGHT", "0")
        s.block(4, "BLPOP", "other", "k", "0")
        s.call(5, "RPUSH", "k", "1", "2", "3", "4", "5", "6")
        for i in (1, 2, 3, 4):
            s.read(i)
        s.call(5, "LRANGE", "k", "0", "-1")
        s.call(5, "LRANGE", "d", "0", "-1")
    transcripts(compat, scenario)


def test_timeout_replies(compat):
    def scenario(s):
        s.call(1, "BLPOP", "k", "0.02")
        s.call(1, "BRPOP", "k", "j", "0.02")
        s.call(1, "BLMPOP", "0.02", "1", "k", "LEFT")
        s.call(1, "BLMOVE", "k", "d", "LEFT", "LEFT", "0.02")
        s.call(1, "BRPOPLPUSH", "k", "d", "0.02")
        s.call(1, "EXISTS", "d")
    transcripts(compat, scenario)


def test_timeout_replies_resp3(compat):
    def scenario(s):
        s.quiet(1, "HELLO", "3")
        s.call(1, "BLPOP", "k", "0.02")
        s.call(1, "BLMPOP", "0.02", "1", "k", "RIGHT", "COUNT", "3")
        s.call(1, "BLMOVE", "k", "d", "LEFT", "LEFT", "0.02")
        s.call(1, "BRPOPLPUSH", "k", "d", "0.02")
        s.block(1, "BLMPOP", "0", "1", "k", "RIGHT", "COUNT", "3")
        s.call(2, "RPUSH", "k", "a", "b")
        s.read(1)
    transcripts(compat, scenario)


def test_served_replies(compat):
    def scenario(s):
        s.block(1, "BLPOP", "a", "b", "0")
        s.call(9, "RPUSH", "b", "x")
        s.read(1)
        s.block(1, "BRPOP", "a", "b", "0")
        s.call(9, "RPUSH", "a", "1", "2")
        s.read(1)
        s.block(1, "BLMOVE", "c", "d", "RIGHT", "LEFT", "0")
        s.call(9, "RPUSH", "c", "1", "2")
        s.read(1)
        s.block(1, "BRPOPLPUSH", "e", "d", "0")
        s.call(9, "LPUSH", "e", "3")
        s.read(1)
        s.block(1, "BLMPOP", "0", "2", "f", "g", "LEFT", "COUNT", "5")
        s.call(9, "RPUSH", "g", "1", "2", "3")
        s.read(1)
        s.call(9, "LRANGE", "d", "0", "-1")
        s.call(9, "LRANGE", "c", "0", "-1")
    transcripts(compat, scenario)


def test_blocked_on_several_keys_multi_exec(compat):
    """Keys made ready inside a transaction are handled after EXEC, in the order they were signaled;
    a client woken by one of them re-runs its command, which takes its keys in its own order."""
    def scenario(s):
        s.block(1, "BLPOP", "a", "b", "0")
        s.block(2, "BLPOP", "b", "a", "0")
        s.call(3, "MULTI")
        s.call(3, "RPUSH", "b", "1")
        s.call(3, "RPUSH", "a", "2")
        s.call(3, "EXEC")
        s.read(1)
        s.read(2)
        s.call(3, "DBSIZE")
    log = shard_transcript(compat, scenario)
    reads = [e[2] for e in log if e[1] == "read"]
    # 7.0.15 differs: it serves a woken client from the ready key itself (b), 7.2+ re-runs BLPOP a b
    assert reads == [b"*2\r\n$1\r\na\r\n$1\r\n2\r\n", b"*2\r\n$1\r\nb\r\n$1\r\n1\r\n"]
    assert log[-1][2] == b":0\r\n"


def test_key_pushed_and_deleted_in_transaction_serves_nobody(compat):
    def scenario(s):
        s.block(1, "BLPOP", "k", "0")
        s.call(2, "MULTI")
        s.call(2, "RPUSH", "k", "x")
        s.call(2, "DEL", "k")
        s.call(2, "EXEC")
        s.nothing(1)
        s.wait_blocked(1)
        s.call(2, "RPUSH", "k", "y")
        s.read(1)
    transcripts(compat, scenario)


def test_multi_pushes_serve_in_order(compat):
    def scenario(s):
        s.block(1, "BLPOP", "k", "0")
        s.block(2, "BLPOP", "k", "0")
        s.call(3, "MULTI")
        s.call(3, "LPUSH", "k", "a")
        s.call(3, "LPUSH", "k", "b")
        s.call(3, "LPUSH", "k", "c")
        s.call(3, "EXEC")
        s.read(1)
        s.read(2)
        s.call(3, "LRANGE", "k", "0", "-1")
    transcripts(compat, scenario)


def test_blocked_client_stays_when_key_becomes_another_type(compat):
    """Redis re-runs a blocked BLPOP only when its key holds a list: a string leaves it blocked."""
    def scenario(s):
        s.block(1, "BLPOP", "k", "0")
        s.block(2, "BLMOVE", "k", "d", "LEFT", "LEFT", "0")
        s.call(3, "SET", "k", "string")
        s.nothing(1)
        s.nothing(2)
        s.wait_blocked(2)
        s.call(3, "SADD", "k2", "m")
        s.call(3, "DEL", "k")
        s.call(3, "RENAME", "k2", "k")
        s.nothing(1)
        s.call(3, "DEL", "k")
        s.call(3, "RPUSH", "k", "x", "y")
        s.read(1)
        s.read(2)
    transcripts(compat, scenario)


def test_ready_key_but_other_key_wrong_type(compat):
    """Re-run because one key is a list now, the command meets a string among its keys first."""
    def scenario(s):
        s.block(1, "BLPOP", "a", "b", "0")
        s.call(2, "MULTI")
        s.call(2, "RPUSH", "b", "x")
        s.call(2, "SET", "a", "str")
        s.call(2, "EXEC")
        s.read(1)
        s.wait_blocked(0)
        s.call(2, "LRANGE", "b", "0", "-1")
    log = shard_transcript(compat, scenario)
    # 7.0.15 differs: it serves [b, x] from the ready key; 7.2+ re-runs BLPOP a b, which meets the string
    assert log[-3] == (1, "read", b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
    assert log[-1][2] == b"*1\r\n$1\r\nx\r\n"


def test_blmove_destination_wrong_type_when_served(compat):
    def scenario(s):
        s.block(1, "BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
        s.call(2, "SET", "dst", "x")
        s.call(2, "RPUSH", "src", "a")
        s.read(1)
        s.call(2, "LRANGE", "src", "0", "-1")
    transcripts(compat, scenario)


def test_blmove_chain(compat):
    def scenario(s):
        s.block(1, "BLMOVE", "a", "b", "RIGHT", "LEFT", "0")
        s.block(2, "BLMOVE", "b", "c", "LEFT", "RIGHT", "0")
        s.block(3, "BLPOP", "c", "0")
        s.call(4, "RPUSH", "a", "x")
        s.read(1)
        s.read(2)
        s.read(3)
        s.call(4, "DBSIZE")
    transcripts(compat, scenario)


def test_blmove_same_key(compat):
    def scenario(s):
        s.block(1, "BLMOVE", "k", "k", "LEFT", "RIGHT", "0")
        s.call(2, "RPUSH", "k", "a", "b")
        s.read(1)
        s.call(2, "LRANGE", "k", "0", "-1")
    transcripts(compat, scenario)


def test_disconnect_while_blocked(compat):
    def scenario(s):
        s.block(1, "BLPOP", "k", "0")
        s.block(2, "BLPOP", "k", "0")
        s.block(3, "BLPOP", "k", "0")
        s.close(2)
        s.wait_blocked(2)
        s.call(4, "RPUSH", "k", "a", "b", "c")
        s.read(1)
        s.read(3)
        s.call(4, "LRANGE", "k", "0", "-1")
        s.call(4, "PING")
    transcripts(compat, scenario)


def test_disconnect_with_pipelined_commands_queued(compat):
    def scenario(s):
        s.conn(1).send(encode_command("BLPOP", "k", "0") + encode_command("RPUSH", "never", "x"))
        s.wait_blocked(1)
        s.close(1)
        s.wait_blocked(0)
        s.call(2, "RPUSH", "k", "a")
        s.call(2, "EXISTS", "never")
        s.call(2, "LLEN", "k")
    transcripts(compat, scenario)


def test_pipelined_command_after_blpop_waits(compat):
    """Commands sent after a BLPOP in the same write are answered once the BLPOP is served."""
    def scenario(s):
        s.conn(1).send(encode_command("BLPOP", "k", "0") + encode_command("LLEN", "k")
                       + encode_command("RPUSH", "k", "mine") + encode_command("PING"))
        s.wait_blocked(1)
        s.nothing(1)
        s.call(2, "EXISTS", "k")
        s.call(2, "RPUSH", "k", "a", "b")
        s.read(1)
        s.read(1)
        s.read(1)
        s.read(1)
        s.call(2, "LRANGE", "k", "0", "-1")
    transcripts(compat, scenario)


def test_pipelined_command_after_timeout(compat):
    def scenario(s):
        s.conn(1).send(encode_command("BLPOP", "k", "0.02") + encode_command("PING", "after"))
        s.read(1)
        s.read(1)
    transcripts(compat, scenario)


def test_pipelined_blpop_does_not_jump_the_queue(compat):
    """A served client's next pipelined BLPOP runs after the other clients blocked on the key are
    served (Redis re-processes an unblocked client's pipeline later, in beforeSleep)."""
    def scenario(s):
        s.conn(1).send(encode_command("BLPOP", "k", "0") + encode_command("BLPOP", "k", "0"))
        s.wait_blocked(1)
        s.block(2, "BLPOP", "k", "0")
        s.call(3, "RPUSH", "k", "a", "b")
        s.read(1)
        s.read(2)
        s.wait_blocked(1)
        s.call(3, "RPUSH", "k", "c")
        s.read(1)
    transcripts(compat, scenario)


def test_two_keys_one_push_each(compat):
    def scenario(s):
        s.block(1, "BRPOP", "a", "b", "0")
        s.block(2, "BRPOP", "b", "0")
        s.call(3, "RPUSH", "b", "1")
        s.read(1)
        s.nothing(2)
        s.call(3, "RPUSH", "a", "2", "3")
        s.nothing(2)
        s.call(3, "RPUSH", "b", "4")
        s.read(2)
        s.call(3, "LRANGE", "a", "0", "-1")
    transcripts(compat, scenario)


def test_blocked_in_another_db(compat):
    def scenario(s):
        s.call(1, "SELECT", "1")
        s.block(1, "BLPOP", "k", "0")
        s.call(2, "RPUSH", "k", "db0")
        s.nothing(1)
        s.call(2, "SELECT", "1")
        s.call(2, "RPUSH", "k", "db1")
        s.read(1)
        s.call(1, "LLEN", "k")
        s.call(2, "FLUSHDB")
    transcripts(compat, scenario)


def test_lmove_serves_blocked_client(compat):
    def scenario(s):
        s.block(1, "BLPOP", "dst", "0")
        s.call(2, "RPUSH", "src", "a", "b")
        s.call(2, "LMOVE", "src", "dst", "RIGHT", "LEFT")
        s.read(1)
        s.call(2, "RPOPLPUSH", "src", "dst")
        s.call(2, "LRANGE", "dst", "0", "-1")
    transcripts(compat, scenario)


def test_client_unblock(compat):
    def scenario(s):
        cid = s.quiet(1, "CLIENT", "ID")[1:-2].decode()
        s.block(1, "BLPOP", "k", "0")
        s.call_as(2, "unblock", "CLIENT", "UNBLOCK", cid)
        s.read(1)
        s.block(1, "BLMOVE", "k", "d", "LEFT", "LEFT", "0")
        s.call_as(2, "unblock timeout", "CLIENT", "UNBLOCK", cid, "TIMEOUT")
        s.read(1)
        s.block(1, "BRPOP", "k", "0")
        s.call_as(2, "unblock error", "CLIENT", "UNBLOCK", cid, "ERROR")
        s.read(1)
        s.call_as(2, "unblock again", "CLIENT", "UNBLOCK", cid)
    transcripts(compat, scenario)


def test_blocked_keyspace_events(compat):
    """The events of a served BLMOVE (and of a served BLPOP emptying the list)."""
    def scenario(s):
        s.call(9, "CONFIG", "SET", "notify-keyspace-events", "KEA")
        s.call(8, "PSUBSCRIBE", "__keyevent*__:*")
        s.block(1, "BLMOVE", "src", "dst", "LEFT", "RIGHT", "0")
        s.block(2, "BLPOP", "dst", "0")
        s.call(9, "RPUSH", "src", "x")
        s.read(1)
        s.read(2)
        s.drain(8)
        s.call(9, "CONFIG", "SET", "notify-keyspace-events", "")
    log = transcripts(compat, scenario)
    events = [(e[2].split(b"\r\n")[-4], e[2].split(b"\r\n")[-2]) for e in log
              if e[0] == 8 and e[1] == "message" and e[2].startswith(b"*4")]
    assert events == [(b"__keyevent@0__:rpush", b"src"), (b"__keyevent@0__:rpush", b"dst"),
                      (b"__keyevent@0__:lpop", b"src"), (b"__keyevent@0__:del", b"src"),
                      (b"__keyevent@0__:lpop", b"dst"), (b"__keyevent@0__:del", b"dst")]
