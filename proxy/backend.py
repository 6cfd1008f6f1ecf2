"""Connections from the proxy to shards: multiplexed and pipelined, or dedicated to one client.

A `Backend` is one TCP connection to one shard, authenticated with the internal password (and on
RESP3 with `HELLO 3`). Requests are written in order; each carries a *waiter* (any object with
`on_reply(data: bytes)`), and replies, which a shard sends in request order, are handed to the
waiters first in, first out, as the raw bytes the shard sent: the proxy relays them unchanged, so
every reply type and error text is the shard's own.

Out-of-band frames (RESP3 pushes on a shared connection; everything a subscribed connection
receives) go to `on_push(data)` instead.

A `Pool` is the shared connection to one shard for one RESP version, which every client without
state uses, so a client's own requests to a shard are never reordered.
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from collections import deque

import hiredis

from amr_emulator.protocol import errors
from amr_emulator.protocol.resp import encode_command

log = logging.getLogger("proxy")

SHARD_DOWN = errors.error_frame(errors.SHARD_UNAVAILABLE)

# Backends with output gathered during this turn of the event loop: written once, after every
# client that had data in this turn was read, so requests of many clients share one write.
_dirty: list = []
_scheduled = False

#: (host, port) of the shards across a network partition from this node (`amr-emulator partition`):
#: no connection to them opens, and the open ones close (see `cut_off`).
unreachable: set = set()
_live = weakref.WeakSet()   # every Backend not yet garbage, for `cut_off`


def cut_off(addresses) -> None:
    """A network partition (or its end): from now on the shards at `addresses` cannot be reached."""
    unreachable.clear()
    unreachable.update(addresses)
    for b in list(_live):
        if (b.host, b.port) in unreachable:
            b.close()


def reply_end(buf: bytes, pos: int, count: int = 1) -> int:
    """The end of the `count` complete RESP replies that start at `pos`, or -1 if they are not all there."""
    n = len(buf)
    try:
        while count:
            t = buf[pos]
            if t == 43 or t == 58 or t == 45:  # + : -, the common replies: one line (no CR inside)
                if buf[pos + 1] != 13 and buf[pos + 2] != 13 and buf[pos + 3] == 13:  # +OK
                    pos += 5
                else:
                    cr = buf.find(b"\r\n", pos)
                    if cr < 0:
                        return -1
                    pos = cr + 2
            elif t == 36:  # $
                if buf[pos + 2] == 13:  # a length of one digit
                    pos += buf[pos + 1] - 42  # 6 + the digit - 48
                else:
                    cr = buf.find(b"\r\n", pos)
                    if cr < 0:
                        return -1
                    ln = int(buf[pos + 1:cr])
                    pos = cr + 2 if ln < 0 else cr + ln + 4
            else:
                pos = _value_end(buf, pos, n)
                if pos < 0:
                    return -1
            count -= 1
    except IndexError:  # the reply's first bytes are not all there yet
        return -1
    return pos if pos <= n else -1


def _value_end(buf: bytes, pos: int, n: int) -> int:
    """reply_end of any one reply: aggregates, RESP3 types."""
    need = 1
    find = buf.find
    while need:
        if pos >= n:
            return -1
        t = buf[pos]
        cr = find(b"\r\n", pos)
        if cr < 0:
            return -1
        if t == 36 or t == 61 or t == 33:  # $ = !
            ln = int(buf[pos + 1:cr])
            pos = cr + 2 if ln < 0 else cr + ln + 4
            if pos > n:
                return -1
        elif t == 42 or t == 126 or t == 62:  # * ~ >
            cnt = int(buf[pos + 1:cr])
            pos = cr + 2
            if cnt > 0:
                need += cnt
        elif t == 37:  # %
            cnt = int(buf[pos + 1:cr])
            pos = cr + 2
            if cnt > 0:
                need += 2 * cnt
        elif t == 124:  # | attribute: a map, then the reply it describes
            cnt = int(buf[pos + 1:cr])
            pos = cr + 2
            need += 2 * cnt
            continue
        else:
            pos = cr + 2
        need -= 1
    return pos


def _no_clients() -> None:
    pass


_flush_clients = _no_clients


def set_flush_clients(fn) -> None:
    """The session module's hook: write what clients gathered while shards' replies were read."""
    global _flush_clients
    _flush_clients = fn


def flush_all() -> None:
    """Write what every backend gathered during this turn of the loop."""
    global _dirty, _scheduled
    _scheduled = False
    if not _dirty:
        return
    dirty, _dirty = _dirty, []
    for b in dirty:
        b.flush()


def _mark(b) -> None:
    global _scheduled
    _dirty.append(b)
    if not _scheduled:
        _scheduled = True
        b.loop.call_soon(flush_all)


class _Discard:
    """The waiter of the proxy's own setup requests (AUTH, HELLO): log an error, else nothing.

    Every waiter has `count`: how many consecutive replies it takes in one piece (1 but for a run of
    one client's requests to the same connection, see `send_more`)."""

    __slots__ = ("what", "backend")
    count = 1

    def __init__(self, what: str, backend):
        self.what = what
        self.backend = backend

    def on_reply(self, data: bytes) -> None:
        if data[:1] == b"-" and data != SHARD_DOWN:
            log.warning("shard %s:%s answered %s with %r", self.backend.host, self.backend.port, self.what,
                        data[:200])


class Backend(asyncio.Protocol):
    """One connection to a shard. Usable at once: what is sent before it connects is kept."""

    def __init__(self, host: str, port: int, password: str, resp: int = 2, on_push=None, on_lost=None):
        self.host = host
        self.port = port
        self.resp = resp
        self.transport = None
        self.waiters: deque = deque()
        self.out: list = []
        self.buf = b""  # the start of an incomplete reply (a bytearray), else empty
        self.reader = None
        self.closed = False
        self.on_push = on_push  # None: pushes are logged and dropped
        self.on_lost = on_lost
        self.subscriber = False  # every frame is out-of-band (a subscribed connection)
        setup = [encode_command(b"AUTH", password)] if password else []
        self.waiters.extend(_Discard("AUTH", self) for _ in setup)
        if resp == 3:
            setup.append(encode_command(b"HELLO", b"3"))
            self.waiters.append(_Discard("HELLO 3", self))
        self.out.extend(setup)
        self.loop = loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._connect(loop))
        _live.add(self)

    async def _connect(self, loop) -> None:
        if unreachable and (self.host, self.port) in unreachable:
            self._lost()   # across a network partition: as a connection that times out, sooner
            return
        try:
            await loop.create_connection(lambda: self, self.host, self.port)
        except OSError as e:
            log.debug("cannot connect to shard %s:%s: %s", self.host, self.port, e)
            self._lost()

    # --- sending -------------------------------------------------------------------------------
    def send(self, data: bytes, waiter) -> None:
        """Queue a request; `waiter.on_reply` gets its reply (or SHARD_DOWN)."""
        if self.closed:
            waiter.on_reply(SHARD_DOWN * waiter.count)
            return
        self.waiters.append(waiter)
        out = self.out
        if not out and self.transport is not None:
            _mark(self)
        out.append(data)

    def send_more(self, data: bytes, waiter, count: int = 1) -> bool:
        """Add `count` requests to `waiter`'s run if it is the last one queued here: their replies
        will follow the run's, so the waiter takes them all at once. False if it is not (use `send`)."""
        waiters = self.waiters
        if self.closed or not waiters or waiters[-1] is not waiter:
            return False
        waiter.count += count
        out = self.out
        if not out and self.transport is not None:
            _mark(self)
        out.append(data)
        return True

    def send_noreply(self, data: bytes) -> None:
        """A request whose replies come as frames (SUBSCRIBE on a subscribed connection)."""
        if self.closed:
            return
        out = self.out
        if not out and self.transport is not None:
            _mark(self)
        out.append(data)

    def flush(self) -> None:
        out = self.out
        if out and self.transport is not None:
            self.out = []
            self.transport.write(b"".join(out) if len(out) > 1 else out[0])

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        else:
            self._task.cancel()
            self._lost()

    # --- asyncio protocol ----------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            import socket

            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        self.flush()

    def connection_lost(self, exc) -> None:
        self.transport = None
        self._lost()

    def _lost(self) -> None:
        if self.closed:
            return
        self.closed = True
        waiters, self.waiters = self.waiters, deque()
        for w in waiters:
            try:
                w.on_reply(SHARD_DOWN * w.count)
            except Exception:  # noqa: BLE001 - one waiter's bug must not stop the others
                log.exception("waiter failed")
        if self.on_lost is not None:
            self.on_lost(self)
        _flush_clients()  # what the clients were owed, and the connections that close

    def data_received(self, data: bytes) -> None:
        if self.buf:
            # a reply was incomplete: hiredis follows it incrementally, so a large reply arriving in
            # many reads is scanned once, when it is whole, not once per read
            self.buf += data
            reader = self.reader
            reader.feed(data)
            try:
                if reader.gets() is False:
                    return
            except hiredis.ProtocolError:
                pass
            buf = bytes(self.buf)
            self.buf = b""
        else:
            buf = data
        n = len(buf)
        pos = 0
        waiters = self.waiters
        try:
            if not self.subscriber and self.resp == 2:
                # the common case: every reply is some waiter's (RESP2 has no pushes)
                while pos < n and waiters:
                    w = waiters[0]
                    end = reply_end(buf, pos, w.count)
                    if end < 0:
                        break
                    waiters.popleft()
                    w.on_reply(buf[pos:end] if pos or end != n else buf)
                    pos = end
            while pos < n:
                if self.subscriber or not waiters or (buf[pos] == 62 and self.resp == 3):
                    end = reply_end(buf, pos)
                    if end < 0:
                        break
                    frame = buf[pos:end] if pos or end != n else buf
                    pos = end
                    if self.on_push is not None:
                        self.on_push(frame)
                    continue
                w = waiters[0]
                end = reply_end(buf, pos, w.count)  # a run of one client's replies, relayed in one piece
                if end < 0:
                    break
                frame = buf[pos:end] if pos or end != n else buf
                pos = end
                waiters.popleft()
                w.on_reply(frame)
        finally:
            if pos < n:
                rest = buf[pos:]
                self.buf = bytearray(rest)
                self.reader = hiredis.Reader()
                self.reader.feed(rest)
            _flush_clients()


class Pool:
    """The shared connection to one shard for one RESP version: every client's stateless requests to
    that shard go through it, so a client's requests to a shard are never reordered, and each turn of
    the loop writes them all at once."""

    __slots__ = ("host", "port", "password", "resp", "conn")

    def __init__(self, host: str, port: int, password: str, resp: int):
        self.host = host
        self.port = port
        self.password = password
        self.resp = resp
        self.conn: Backend | None = None

    def get(self) -> Backend:
        b = self.conn
        if b is None or b.closed:
            b = self.conn = Backend(self.host, self.port, self.password, self.resp)
        return b

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
