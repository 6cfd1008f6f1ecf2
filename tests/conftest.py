"""Shared fixtures.

- `shard`: a running shard process (session-wide); `r` / `r3` / `ar`: redis-py clients to it
  (sync RESP2, sync RESP3, asyncio), flushed before each test.
- `real_redis`: a real redis-server (session-wide), for compatibility tests.
- `compat`: runs the same command on both over raw sockets and asserts the reply bytes are equal
  (`compat.call(...)`, `compat.resp3()` for a RESP3 pair).
"""
from __future__ import annotations

import os
import sys

import pytest
import redis
import redis.asyncio

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.servers import RawConnection, redis_server_path, start_redis, start_shard  # noqa: E402


@pytest.fixture(scope="session")
def shard():
    proc = start_shard()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def real_redis():
    if redis_server_path() is None:
        pytest.fail("redis-server is not installed: run the tests with scripts/test, which installs it")
    proc = start_redis()
    yield proc
    proc.stop()


def _reset(host, port):
    c = RawConnection(host, port)
    c.call("FLUSHALL")
    c.call("CONFIG", "SET", "notify-keyspace-events", "")
    c.close()


@pytest.fixture
def r(shard):
    _reset(shard.host, shard.port)
    client = redis.Redis(host=shard.host, port=shard.port)
    yield client
    client.close()


@pytest.fixture
def r3(shard):
    _reset(shard.host, shard.port)
    client = redis.Redis(host=shard.host, port=shard.port, protocol=3)
    yield client
    client.close()


@pytest.fixture
async def ar(shard):
    _reset(shard.host, shard.port)
    client = redis.asyncio.Redis(host=shard.host, port=shard.port)
    yield client
    await client.aclose()


@pytest.fixture
def raw(shard):
    _reset(shard.host, shard.port)
    conn = RawConnection(shard.host, shard.port)
    yield conn
    conn.close()


class Compat:
    """One connection to the shard and one to redis-server; every call is compared byte for byte."""

    def __init__(self, shard, real):
        self.targets = (shard, real)
        self.conns = [RawConnection(p.host, p.port) for p in self.targets]

    def call(self, *args) -> bytes:
        """Send to both; assert equal replies; return the reply."""
        ours, theirs = (c.call(*args) for c in self.conns)
        assert ours == theirs, f"{args!r}:\n  shard: {ours!r}\n  redis: {theirs!r}"
        return ours

    def both(self, *args) -> tuple[bytes, bytes]:
        """Send to both and return both replies without comparing (for replies that differ by nature)."""
        return tuple(c.call(*args) for c in self.conns)

    def raw(self, data: bytes) -> bytes:
        """Send raw bytes; compare everything each answers until it closes or goes quiet."""
        outs = []
        for c in self.conns:
            c.send(data)
            outs.append(c.read_until_closed(timeout=0.5))
        assert outs[0] == outs[1], f"{data[:80]!r}:\n  shard: {outs[0]!r}\n  redis: {outs[1]!r}"
        return outs[0]

    def resp3(self) -> "Compat":
        for c in self.conns:
            c.call("HELLO", "3")
        return self

    def new(self) -> "Compat":
        """Another pair of connections to the same two servers."""
        return Compat(*self.targets)

    def close(self):
        for c in self.conns:
            c.close()


@pytest.fixture
def compat(shard, real_redis):
    _reset(shard.host, shard.port)
    _reset(real_redis.host, real_redis.port)
    pair = Compat(shard, real_redis)
    yield pair
    pair.close()
