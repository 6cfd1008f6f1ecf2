"""The replication stream itself, byte for byte against redis-server: a raw connection plays a
replica (PSYNC ? -1) on both, the same commands run on both primaries, and the effects each
primary sends are compared (absolute times, which differ by nature, are masked)."""
from __future__ import annotations

import re
import time

import pytest

from amr_emulator.protocol.resp import decode_reply, encode_command
from tests.replication.support import servers
from tests.servers import RawConnection


class FakeReplica:
    def __init__(self, proc):
        self.conn = RawConnection(proc.host, proc.port)
        assert self.conn.call("REPLCONF", "listening-port", "1") == b"+OK\r\n"
        assert self.conn.call("REPLCONF", "capa", "psync2") == b"+OK\r\n"
        self.conn.send(encode_command("PSYNC", "?", "-1"))
        line = self._line()
        assert line.startswith(b"+FULLRESYNC ")
        self.replid, offset = line.split()[1:]
        self.offset = int(offset)
        header = self._line()
        while header == b"":
            header = self._line()
        assert header.startswith(b"$")
        self._take(int(header[1:]))
        self.marker = 0

    def _fill(self):
        data = self.conn.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("closed")
        self.conn.buf += data

    def _line(self) -> bytes:
        while b"\n" not in self.conn.buf:
            self._fill()
        line, _, self.conn.buf = self.conn.buf.partition(b"\n")
        return line.rstrip(b"\r")

    def _take(self, n: int) -> bytes:
        while len(self.conn.buf) < n:
            self._fill()
        out, self.conn.buf = self.conn.buf[:n], self.conn.buf[n:]
        return out

    def effects_until(self, marker: list) -> list:
        """The commands of the stream up to (not including) `marker`."""
        out = []
        while True:
            try:
                value, end = decode_reply(self.conn.buf)
            except (IndexError, ValueError):
                self._fill()
                continue
            self.conn.buf = self.conn.buf[end:]
            self.offset += end
            if value == marker:
                return out
            if value != [b"PING"]:
                out.append(value)


def _mask(effects: list) -> list:
    """Absolute times (ms or s since the epoch) become T."""
    return [[b"T" if re.fullmatch(rb"1[0-9]{9}([0-9]{3})?", a) else a for a in e] for e in effects]


SCENARIOS = {
    "set-ex": [("SET", "k", "v", "EX", "100"), ("SET", "k2", "v", "PX", "100000", "GET"),
               ("SET", "k3", "v", "EXAT", "4000000000"), ("SET", "k", "w", "KEEPTTL")],
    "setex-psetex": [("SETEX", "k", "100", "v"), ("PSETEX", "k2", "100000", "v")],
    "getex": [("SET", "k", "v"), ("GETEX", "k", "EX", "100"), ("GETEX", "k", "PERSIST"), ("GETEX", "k"),
              ("GETEX", "k", "PXAT", "4000000000000"), ("GETDEL", "k"), ("GETDEL", "nokey")],
    "incrbyfloat": [("SET", "f", "1"), ("INCRBYFLOAT", "f", "1.5"), ("SET", "g", "2", "EX", "100"),
                    ("INCRBYFLOAT", "g", "0.25"), ("HINCRBYFLOAT", "h", "x", "2.5")],
    "expire": [("SET", "k", "v"), ("EXPIRE", "k", "100"), ("PEXPIRE", "k", "100000"),
               ("EXPIREAT", "k", "4000000000"), ("PERSIST", "k"), ("EXPIRE", "k", "100", "NX"),
               ("EXPIRE", "nokey", "10"), ("EXPIRE", "k", "-1")],
    "spop": [("SADD", "s", "a"), ("SPOP", "s"), ("SADD", "t", "a", "b"), ("SPOP", "t", "5"),
             ("SADD", "u", "x"), ("SPOP", "u", "1")],
    "blocking-pops": [("RPUSH", "l", "a", "b", "c"), ("BLPOP", "l", "0"), ("BRPOP", "l", "0"),
                      ("RPUSH", "m", "x"), ("BLMOVE", "l", "m", "LEFT", "RIGHT", "0"),
                      ("ZADD", "z", "1", "a", "2", "b"), ("BZPOPMIN", "z", "0"), ("BZPOPMAX", "z", "0"),
                      ("RPUSH", "n", "1", "2", "3"), ("BLMPOP", "0", "1", "n", "LEFT", "COUNT", "2"),
                      ("LMPOP", "1", "n", "RIGHT"), ("ZADD", "y", "1", "a"), ("BZMPOP", "0", "1", "y", "MIN")],
    "transactions": [("MULTI",), ("SET", "a", "1"), ("EXEC",), ("MULTI",), ("SET", "a", "2"), ("INCR", "b"),
                     ("GET", "a"), ("EXEC",), ("MULTI",), ("GET", "a"), ("EXEC",)],
    "select": [("SET", "a", "1"), ("SELECT", "2"), ("SET", "b", "2"), ("SELECT", "0"), ("SET", "c", "3"),
               ("SWAPDB", "0", "2"), ("FLUSHDB",), ("FLUSHALL",)],
    "expired": [("SET", "e", "v", "PX", "1"), ("DEBUG", "SLEEP", "0.01"), ("GET", "e"), ("SET", "e2", "v", "EX", "0")],
    "strings": [("SET", "s", "abc"), ("APPEND", "s", "def"), ("SETRANGE", "s", "1", "X"), ("GETSET", "s", "n"),
                ("SET", "s", "v", "GET"), ("SET", "s2", "v", "EX", "50", "GET"), ("SETNX", "s", "z"), ("SETNX", "s3", "z"),
                ("DECRBY", "c", "5"), ("MSETNX", "m1", "1", "m2", "2"), ("MSETNX", "m1", "3", "m9", "9"),
                ("RENAMENX", "m1", "m2"), ("RENAMENX", "m1", "m3"), ("UNLINK", "m2", "m3", "nokey"),
                ("TOUCH", "s"), ("PERSIST", "s"), ("SET", "ex", "v", "EXAT", "1"), ("PEXPIREAT", "s", "1")],
    "lists": [("RPUSH", "l", "a", "b", "c", "b"), ("LSET", "l", "0", "z"), ("LINSERT", "l", "BEFORE", "b", "y"),
              ("LREM", "l", "1", "b"), ("LTRIM", "l", "0", "2"), ("RPOPLPUSH", "l", "l2"),
              ("LMOVE", "l", "l2", "RIGHT", "LEFT"), ("LPOP", "l", "5"), ("RPUSHX", "nokey", "a"), ("LPUSHX", "l2", "q")],
    "sets-zsets-hashes": [("SADD", "a", "1", "2", "3"), ("SADD", "b", "2", "3", "4"), ("SMOVE", "a", "b", "1"),
                          ("SINTERSTORE", "c", "a", "b"), ("SUNIONSTORE", "d", "a", "b"), ("SDIFFSTORE", "e", "b", "a"),
                          ("SINTERSTORE", "f", "a", "nokey"), ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
                          ("ZADD", "z", "XX", "CH", "5", "a"), ("ZREM", "z", "b"), ("ZRANGESTORE", "z2", "z", "0", "-1"),
                          ("ZUNIONSTORE", "z3", "2", "z", "z2", "WEIGHTS", "1", "2"), ("ZPOPMIN", "z3", "2"),
                          ("ZREMRANGEBYSCORE", "z", "0", "4"), ("ZREMRANGEBYRANK", "z2", "0", "0"),
                          ("HSET", "h", "a", "1", "b", "2"), ("HSETNX", "h", "a", "3"), ("HSETNX", "h", "c", "3"),
                          ("HINCRBY", "h", "a", "4"), ("HDEL", "h", "b", "x"), ("HMSET", "h", "d", "5"),
                          ("COPY", "h", "h2", "DB", "4")],
    "no-ops": [("DEL", "nokey"), ("SREM", "nokey", "a"), ("LPOP", "nokey"), ("GET", "x"), ("SET", "x", "1", "NX"),
               ("SET", "x", "2", "NX"), ("INCR", "cnt"), ("MSET", "a", "1", "b", "2"), ("RENAME", "a", "c"),
               ("COPY", "c", "d"), ("ZADD", "z", "INCR", "1", "m"), ("LPOP", "nokey2", "2")],
}


@pytest.fixture(scope="module")
def pair():
    with servers() as start:
        yield start("shard"), start("redis", "--enable-debug-command", "yes")


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_stream_matches_redis(pair, name):
    streams = []
    for proc in pair:
        client = RawConnection(proc.host, proc.port)
        client.call("FLUSHALL")
        replica = FakeReplica(proc)
        for cmd in SCENARIOS[name]:
            client.call(*cmd)
        client.call("SELECT", "0")
        marker = [b"SET", b"__end__", b"%d" % time.monotonic_ns()]
        client.call(*marker)
        streams.append(_mask(replica.effects_until(marker)))
        replica.conn.close()
        client.close()
    ours, theirs = streams
    # the stream after a full sync starts with a SELECT on both; compare everything
    assert ours == theirs


def test_pings_and_timeout_of_a_silent_replica():
    """A PING every repl-ping-replica-period; a replica that never ACKs is dropped after repl-timeout."""
    with servers() as start:
        proc = start("shard", "--config", "repl-ping-replica-period=1", "--config", "repl-timeout=2")
        replica = FakeReplica(proc)
        replica.conn.sock.settimeout(10)
        seen = []
        while [b"PING"] not in seen:
            value, end = None, 0
            try:
                value, end = decode_reply(replica.conn.buf)
            except (IndexError, ValueError):
                replica._fill()
                continue
            replica.conn.buf = replica.conn.buf[end:]
            seen.append(value)
        assert seen[-1] == [b"PING"]
        with pytest.raises(ConnectionError):
            while True:
                replica._fill()  # until the primary gives up on us
        c = RawConnection(proc.host, proc.port)
        assert b"connected_slaves:0\r\n" in c.call("INFO", "replication")
        c.close()
