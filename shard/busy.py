"""Serving the other clients while a Lua script holds the event loop (Redis's processEventsWhileBlocked).

The count hook of a script past busy-reply-threshold calls `serve_while_busy`: it accepts new
connections (they run on plain sockets, `_BusyTransport`, until `adopt_busy_clients` hands them to the
loop), polls the clients' sockets without blocking, feeds what they sent to the normal dispatcher
(which answers -BUSY to all but the allow_busy commands) and writes the replies straight to the
sockets. SIGTERM/SIGINT are caught in Python meanwhile, since the loop's own handlers cannot run.
"""
from __future__ import annotations

import logging
import os
import select

log = logging.getLogger("shard")


class _DirectTransport:
    """While a script keeps the event loop busy, replies go straight to the socket (the loop would only
    write them when it runs again). What the socket does not take goes to the real transport."""

    __slots__ = ("t", "fd")

    def __init__(self, t, fd):
        self.t = t
        self.fd = fd

    def write(self, data: bytes) -> None:
        if self.t.get_write_buffer_size() == 0:
            try:
                n = os.write(self.fd, data)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError:
                return
            data = data[n:]
        if data:
            self.t.write(data)

    def __getattr__(self, name):
        return getattr(self.t, name)


def _fd_of(c):
    t = c.transport
    if t is None:
        return -1
    sock = t.get_extra_info("socket")
    if sock is None:
        return -1
    try:
        return sock.fileno()
    except Exception:
        return -1


class _BusyTransport:
    """The transport of a connection accepted while a script keeps the event loop busy: plain
    non-blocking socket calls, until `adopt_busy_clients` hands the socket to the loop."""

    def __init__(self, sock, protocol=None):
        self.sock = sock
        self.protocol = protocol
        self.pending = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        if not self.pending:
            try:
                n = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError:
                self.close()
                return
            data = data[n:]
        self.pending += data

    def get_write_buffer_size(self) -> int:
        return len(self.pending)

    def get_extra_info(self, name, default=None):
        try:
            if name == "peername":
                return self.sock.getpeername()
            if name == "sockname":
                return self.sock.getsockname()
        except OSError:
            return default
        if name == "socket":
            return self.sock
        return default

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.close()
        finally:
            if self.protocol is not None:
                self.protocol.connection_lost(None)


def _accept_new(server) -> None:
    """Accept the connections waiting on the listening sockets (Redis keeps accepting while busy)."""
    import socket

    from .session import Client

    for srv in getattr(server, "_servers", ()):
        for lsock in srv.sockets or ():
            try:
                fd = lsock.fileno()
                dup = socket.socket(fileno=os.dup(fd))
            except OSError:
                continue
            try:
                while True:
                    try:
                        conn, _ = dup.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break
                    conn.setblocking(False)
                    try:
                        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    except OSError:
                        pass
                    c = Client(server)
                    t = _BusyTransport(conn, c)
                    c.connection_made(t)
                    if t.closed or c.transport is None:
                        continue
                    accepted = getattr(server, "busy_accepted", None)
                    if accepted is None:
                        accepted = server.busy_accepted = []
                    accepted.append(c)
            finally:
                dup.close()


def adopt_busy_clients(server) -> None:
    """After the script: connections accepted meanwhile move to the event loop (same Client object)."""
    accepted = getattr(server, "busy_accepted", None)
    if not accepted:
        return
    server.busy_accepted = []
    loop = server.loop
    for c in accepted:
        t = c.transport
        if not isinstance(t, _BusyTransport) or t.closed or c.closing:
            if isinstance(t, _BusyTransport) and not t.closed:
                t.close()
            continue
        sock = t.sock
        if t.pending:
            try:
                sock.setblocking(True)
                sock.sendall(bytes(t.pending))
            except OSError:
                t.close()
                continue
            finally:
                if not t.closed:
                    sock.setblocking(False)
        server.stat_numconnections -= 1  # connection_made counts it again
        if loop is None:
            t.close()
            continue
        loop.create_task(_adopt(loop, c, sock))


async def _adopt(loop, c, sock) -> None:
    try:
        await loop.connect_accepted_socket(lambda: c, sock=sock)
    except Exception:
        log.exception("could not hand a connection accepted during a busy script to the event loop")
        try:
            sock.close()
        finally:
            c.connection_lost(None)


def serve_while_busy(server, caller) -> None:
    """processEventsWhileBlocked: accept, read and answer the other clients without blocking."""
    _accept_new(server)
    fds = {}
    for c in list(server.clients.values()):
        if c is caller or c.transport is None or c.closing or c.queue or c.blocked is not None or c.paused:
            continue
        fd = _fd_of(c)
        if fd >= 0:
            fds[fd] = c
    if not fds:
        return
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    try:
        events = poller.poll(0)
    except OSError:
        return
    for fd, _ in events:
        c = fds[fd]
        try:
            data = os.read(fd, 65536)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            data = b""
        real = c.transport
        if not data:
            real.close()
            continue
        c.transport = _DirectTransport(real, fd)
        try:
            c.data_received(data)
        finally:
            if c.transport is not None:
                c.transport = real


_TERM_SIGNALS = ("SIGTERM", "SIGINT")


def catch_termination(run) -> None:
    """While the loop is held, its signal handlers cannot run: handle SIGTERM/SIGINT in Python until
    the script ends (restore_termination puts the loop's handlers back)."""
    import signal

    saved = {}
    for name in _TERM_SIGNALS:
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            saved[sig] = signal.signal(sig, lambda *_: run.terminate())
        except (ValueError, OSError):
            pass
    run.server.busy_signals = saved


def restore_termination(server) -> None:
    import signal

    saved = getattr(server, "busy_signals", None)
    if not saved:
        return
    server.busy_signals = None
    for sig, handler in saved.items():
        try:
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        except (ValueError, OSError, TypeError):
            pass
