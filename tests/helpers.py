"""Helpers shared by several test packages: an in-process shard harness that records the replicated
effects, a transport that keeps what a Client writes, waiting for blocked clients, comparing keyspace
events, a temporary AMR_EMULATOR_HOME."""
from __future__ import annotations

import os
import time

import pytest

from amr_emulator.protocol.resp import RespError, decode_reply
from shard.dispatch import process_command
from shard.server import Server
from shard.session import Client


class MemoryTransport:
    """What an in-process Client writes, kept in `data` (connection_made(MemoryTransport()))."""

    def __init__(self):
        self.data = b""

    def write(self, data):
        self.data += data

    def get_extra_info(self, name, default=None):
        return ("127.0.0.1", 1)

    def close(self):
        pass


class Harness:
    """A Server whose `propagate` records the effects, driven through the real dispatch by a Client
    with no transport. `tick`: update the server's clock before each command, as a session does."""

    def __init__(self, tick: bool = False):
        self.server = Server(port=0)
        self.effects = []
        self.server.propagate = lambda dbid, argv: self.effects.append([bytes(a) for a in argv])
        self.server.propagating = True
        self.c = Client(self.server)
        self.tick = tick

    def __call__(self, *args, client=None):
        c = client or self.c
        c.out = []
        if self.tick:
            self.server.update_clock()
        process_command(c, [a if isinstance(a, bytes) else str(a).encode() for a in args])
        assert len(c.out) == 1, c.out
        return decode_reply(c.out[0])[0]

    def take(self):
        """The effects recorded since the last take."""
        out, self.effects = self.effects, []
        return out


def blocked_clients(conn) -> int:
    """`blocked_clients` of INFO, over a raw connection."""
    info = decode_reply(conn.call("INFO", "clients"))[0]
    for line in info.split(b"\r\n"):
        if line.startswith(b"blocked_clients:"):
            return int(line.split(b":")[1])
    raise AssertionError("no blocked_clients in INFO")


def wait_blocked(conn, n: int, timeout: float = 5.0) -> None:
    """Poll INFO (over a raw connection) until `n` clients are blocked on that server."""
    deadline = time.monotonic() + timeout
    while True:
        info = conn.call("INFO", "clients")
        if b"blocked_clients:%d\r\n" % n in info:
            return
        assert time.monotonic() < deadline, f"never saw {n} blocked clients: {info!r}"
        time.sleep(0.002)


def assert_same_events(sub):
    """The pub/sub traffic each subscriber of a compat pair got so far, compared (a PING marks the
    end); returns it."""
    got = []
    for conn in sub.conns:
        conn.send(b"*1\r\n$4\r\nPING\r\n")
        msgs = []
        while True:
            reply = conn.read_reply()
            if reply.startswith(b"*2\r\n$4\r\npong"):
                break
            msgs.append(reply)
        got.append(msgs)
    assert got[0] == got[1], "\n".join(map(repr, got))
    assert got[0]
    return got[0]


@pytest.fixture(scope="session", autouse=True)
def amr_home(tmp_path_factory):
    """A temporary AMR_EMULATOR_HOME for the session (import it into a conftest to use it there), so a
    user's running caches are neither seen nor touched."""
    home = str(tmp_path_factory.mktemp("amr-home"))
    old = os.environ.get("AMR_EMULATOR_HOME")
    os.environ["AMR_EMULATOR_HOME"] = home
    yield home
    if old is None:
        os.environ.pop("AMR_EMULATOR_HOME", None)
    else:
        os.environ["AMR_EMULATOR_HOME"] = old


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def unordered(reply: bytes):
    """A decoded reply with its top-level multi-bulk sorted (a set's or hash's order is the server's
    choice; the RESP type is kept: `*` vs `~`)."""
    v, _ = decode_reply(reply)
    if isinstance(v, list):
        return type(v).__name__, sorted(v, key=repr)
    if isinstance(v, RespError):
        return "error", v.message
    return type(v).__name__, v


def call_unordered(compat, *args):
    """Send to the shard and redis-server; compare the replies as `unordered` reads them."""
    ours, theirs = compat.both(*args)
    assert unordered(ours) == unordered(theirs), f"{args!r}:\n  shard: {ours!r}\n  redis: {theirs!r}"
    return ours
