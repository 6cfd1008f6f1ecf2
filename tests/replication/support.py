"""Helpers for replication tests: processes stopped whatever happens, polling with a deadline,
a comparable picture of a whole dataset."""
from __future__ import annotations

import contextlib
import time

import redis

from tests.servers import start_redis, start_shard


@contextlib.contextmanager
def servers():
    """Yields a `start(kind, *args)` function; every process it started is stopped at the end."""
    started = []

    def start(kind: str, *args: str, port: int | None = None):
        proc = start_shard(*args, port=port) if kind == "shard" else start_redis(*args)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in reversed(started):
            proc.stop()


def client(proc, **kw) -> redis.Redis:
    return redis.Redis(host=proc.host, port=proc.port, protocol=2, socket_timeout=30, **kw)


def wait_until(fn, timeout: float = 20.0, what: str = "condition"):
    """Poll `fn` until it returns something true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (last: {last!r})")
        time.sleep(0.01)


def repl_info(r) -> dict:
    return r.info("replication")


def link_up(r) -> bool:
    return repl_info(r).get("master_link_status") == "up"


def caught_up(primary, replica) -> bool:
    """The replica is connected and has applied everything the primary has written."""
    p = repl_info(primary)
    q = repl_info(replica)
    return q.get("master_link_status") == "up" and q["slave_repl_offset"] == p["master_repl_offset"]


def stats(r) -> dict:
    return r.info("stats")


def _pipeline(sock, reader, commands: list) -> list:
    """Send every command at once over a raw socket; the replies, parsed by hiredis."""
    from amr_emulator.protocol.resp import encode_command

    sock.sendall(b"".join(encode_command(*c) for c in commands))
    out = []
    while len(out) < len(commands):
        reply = reader.gets()
        if reply is False:
            data = sock.recv(1 << 20)
            if not data:
                raise ConnectionError("closed")
            reader.feed(data)
            continue
        out.append(reply)
    return out


_VALUE = {b"string": ("GET",), b"list": ("LRANGE", 0, -1), b"hash": ("HGETALL",), b"set": ("SMEMBERS",),
          b"zset": ("ZRANGE", 0, -1, "WITHSCORES")}


def dataset(r) -> dict:
    """Every key of every database: (db, key) -> (type, value, has_ttl). Sets and hashes as sorted
    lists, so that two servers' pictures compare equal whatever their iteration order."""
    import socket

    import hiredis

    kw = r.connection_pool.connection_kwargs
    out = {}
    keyspace = r.info("keyspace")
    with socket.create_connection((kw["host"], kw["port"]), timeout=30) as sock:
        reader = hiredis.Reader()
        for name, counts in keyspace.items():
            dbid = int(name[2:])
            _pipeline(sock, reader, [("SELECT", dbid)])
            for t, cmd in _VALUE.items():
                keys = []
                cursor = b"0"
                while True:
                    cursor, batch = _pipeline(sock, reader, [("SCAN", cursor, "COUNT", 100000, "TYPE", t)])[0]
                    keys += batch
                    if cursor == b"0":
                        break
                for i in range(0, len(keys), 5000):
                    chunk = keys[i:i + 5000]
                    if t == b"string":
                        values = _pipeline(sock, reader, [("MGET", *chunk)])[0]
                    else:
                        values = _pipeline(sock, reader, [(cmd[0], k, *cmd[1:]) for k in chunk])
                    ttls = (_pipeline(sock, reader, [("PTTL", k) for k in chunk]) if counts["expires"]
                            else [-1] * len(chunk))
                    for k, v, ttl in zip(chunk, values, ttls):
                        if t == b"hash":
                            v = sorted(zip(v[::2], v[1::2]))
                        elif t == b"set":
                            v = sorted(v)
                        out[(dbid, k)] = (t, v, ttl > 0)
    return out


def fill_every_type(r, prefix: str = "", n: int = 20) -> None:
    """Keys of every type, with and without TTLs, in databases 0 and 3."""
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.set(f"{prefix}s:{i}", f"v{i}" * (i + 1))
        p.set(f"{prefix}int:{i}", i * 1000)
        p.rpush(f"{prefix}l:{i}", *[f"e{j}" for j in range(i + 1)])
        p.hset(f"{prefix}h:{i}", mapping={f"f{j}": f"v{j}" for j in range(i + 1)})
        p.sadd(f"{prefix}set:{i}", *[f"m{j}" for j in range(i + 1)])
        p.sadd(f"{prefix}iset:{i}", *range(i + 1))
        p.zadd(f"{prefix}z:{i}", {f"m{j}": j * 1.5 for j in range(i + 1)})
        p.set(f"{prefix}ttl:{i}", "x", ex=1000 + i)
    p.set(f"{prefix}big", b"\x00\xff" * 50000)
    p.execute()
    r3 = redis.Redis(host=r.connection_pool.connection_kwargs["host"],
                     port=r.connection_pool.connection_kwargs["port"], db=3, protocol=2)
    r3.set(f"{prefix}db3", "three")
    r3.hset(f"{prefix}db3h", "a", "b")
    r3.close()
