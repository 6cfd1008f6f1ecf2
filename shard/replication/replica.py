"""The replica side: REPLICAOF, the link to the primary, the handshake, full sync, the stream.

States (Redis's repl_state, as ROLE names them): `connect` (to connect), `connecting` (TCP connect
under way), `handshake` (PING, AUTH, REPLCONF, PSYNC), `sync` (receiving the snapshot), `connected`
(applying the stream).

The stream is applied by a Client flagged `is_master` (dispatch lets it write on a read-only
replica and never holds it back), whose replies are dropped. The replica's offset advances by the
bytes of each command applied; those bytes are relayed unchanged to its backlog and own replicas.
"""
from __future__ import annotations

import asyncio
import logging
from time import monotonic, time

from amr_emulator.protocol.resp import SpanParser, canonical_size

log = logging.getLogger("shard")


class MasterLink(asyncio.Protocol):
    """The connection to our primary: a line-reply handshake, the payload, then the stream."""

    def __init__(self, repl, psync_id: str, psync_offset: int):
        self.repl = repl
        self.server = repl.server
        self.transport = None
        self.buf = bytearray()
        self.phase = "connecting"
        self.steps: list = []
        self.psync_id = psync_id
        self.psync_offset = psync_offset
        self.transfer_size = -1
        self.transfer_read = 0
        self.eof_mark = b""
        self.payload = bytearray()
        self.full_id = ""
        self.full_offset = 0
        self.parser: SpanParser | None = None
        self.closed = False

    # --- asyncio protocol ---------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.repl.state = "handshake"
        self.repl.last_io = monotonic()
        values = self.server.config.values
        steps = [(b"PING",)]
        auth = values.get("masterauth") or ""
        if auth:
            user = values.get("masteruser") or ""
            steps.append((b"AUTH", user.encode(), auth.encode()) if user else (b"AUTH", auth.encode()))
        port = int(values.get("replica-announce-port") or 0) or self.server.port
        steps.append((b"REPLCONF", b"listening-port", b"%d" % port))
        ip = values.get("replica-announce-ip") or ""
        if ip:
            steps.append((b"REPLCONF", b"ip-address", ip.encode()))
        steps.append((b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"))
        steps.append((b"PSYNC", self.psync_id.encode(), b"%d" % self.psync_offset))
        self.steps = steps
        self.phase = "handshake"
        self.send_step()

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.transport = None
        self.repl.link_lost(self)

    def data_received(self, data: bytes) -> None:
        repl = self.repl
        repl.last_io = monotonic()
        self.server.stat_net_repl_input_bytes += len(data)  # less the handshake's replies (below)
        try:
            if self.phase == "stream":
                self.apply(data)
                return
            self.buf += data
            while self.buf and not self.closed and self.phase not in ("stream", "closing", "loading"):
                if self.phase == "handshake" or self.phase == "bulk_header":
                    line = self.take_line()
                    if line is None:
                        return
                    if self.phase == "handshake":
                        self.handshake_reply(line)
                    else:
                        self.bulk_header(line)
                elif self.phase == "payload":
                    if not self.payload_data():
                        return
            if self.phase == "stream" and self.buf:
                rest = bytes(self.buf)
                self.buf = bytearray()
                self.apply(rest)
        except Exception:
            log.exception("replication link")
            self.abort()

    # --- handshake ----------------------------------------------------------------------------
    def send(self, *args) -> None:
        from amr_emulator.protocol.resp import encode_command

        if self.transport is not None:
            self.transport.write(encode_command(*args))

    def send_step(self) -> None:
        self.send(*self.steps[0])

    def take_line(self):
        nl = self.buf.find(b"\n")
        if nl == -1:
            return None
        line = bytes(self.buf[:nl]).rstrip(b"\r")
        del self.buf[:nl + 1]
        return line

    def handshake_reply(self, line: bytes) -> None:
        self.server.stat_net_repl_input_bytes -= len(line) + 2  # Redis reads these outside the count
        if not line:
            return  # a newline the primary sends to keep the link alive
        step = self.steps.pop(0)
        cmd = step[0]
        if cmd == b"PING":
            if line.startswith(b"-") and not line.startswith(b"-NOAUTH") and not line.startswith(b"-NOPERM") \
                    and not line.startswith(b"-ERR operation not permitted"):
                log.info("Error reply to PING from master: '%s'", line.decode("latin-1"))
                return self.abort()
        elif cmd == b"AUTH":
            if line.startswith(b"-"):
                log.info("Unable to AUTH to MASTER: %s", line.decode("latin-1"))
                return self.abort()
        elif cmd == b"REPLCONF":
            if line.startswith(b"-"):
                log.info("(Non critical) Master does not understand REPLCONF %s: %s",
                            step[1].decode(), line.decode("latin-1"))
        elif cmd == b"PSYNC":
            return self.psync_reply(line)
        if self.steps:
            self.send_step()

    def psync_reply(self, line: bytes) -> None:
        repl = self.repl
        if line.startswith(b"+FULLRESYNC"):
            parts = line.split()
            if len(parts) < 3:
                log.info("Master replied with wrong +FULLRESYNC syntax.")
                return self.abort()
            self.full_id = parts[1].decode("latin-1")
            self.full_offset = int(parts[2])
            log.info("Full resync from master: %s:%d", self.full_id, self.full_offset)
            repl.discard_cached()
            self.phase = "bulk_header"
            repl.state = "sync"
            repl.transfer_start = monotonic()
            return
        if line.startswith(b"+CONTINUE"):
            parts = line.split()
            new_id = parts[1].decode("latin-1") if len(parts) > 1 else ""
            log.info("Successful partial resynchronization with master.")
            repl.partial_accepted(self, new_id)
            self.phase = "stream"
            return
        if line.startswith(b"-NOMASTERLINK") or line.startswith(b"-LOADING"):
            log.info("Master is currently unable to PSYNC but should be in the future: %s",
                        line.decode("latin-1"))
        else:
            log.info("Unexpected reply to PSYNC from master: %s", line.decode("latin-1"))
        self.abort()

    # --- the snapshot -------------------------------------------------------------------------
    def bulk_header(self, line: bytes) -> None:
        if not line:
            return  # keepalive newlines while the primary prepares the snapshot
        if line.startswith(b"-"):
            log.info("MASTER aborted replication with an error: %s", line.decode("latin-1"))
            return self.abort()
        if not line.startswith(b"$"):
            log.info("Bad protocol from MASTER, the first byte is not '$' (we received '%s')",
                        line[:64].decode("latin-1"))
            return self.abort()
        if line.startswith(b"$EOF:") and len(line) >= 5 + 40:
            self.eof_mark = line[5:45]
            self.transfer_size = 0
        else:
            self.transfer_size = int(line[1:])
        self.transfer_read = 0
        self.payload = bytearray()
        self.phase = "payload"

    def payload_data(self) -> bool:
        """Take payload bytes from buf; True once the snapshot is complete and loaded."""
        buf = self.buf
        if self.eof_mark:
            self.payload += buf
            self.transfer_read += len(buf)
            self.buf = bytearray()
            if len(self.payload) < 40 or self.payload[-40:] != self.eof_mark:
                return False
            del self.payload[-40:]
        else:
            need = self.transfer_size - len(self.payload)
            take = buf[:need]
            self.payload += take
            del buf[:len(take)]
            self.transfer_read = len(self.payload)
            if len(self.payload) < self.transfer_size:
                return False
        data = bytes(self.payload)
        self.payload = bytearray()
        self.repl.full_sync_loaded(self, data)
        return True

    # --- the stream ---------------------------------------------------------------------------
    def apply(self, data: bytes) -> None:
        """Run the primary's commands; advance the offset; relay the bytes applied."""
        repl = self.repl
        mc = repl.master_client
        # ends: where each command ends in `data` (which then starts with the rest of a command a read
        # before left incomplete), when it is exactly their canonical encoding (the offset counts those
        # bytes, and they are relayed as they came); else each is measured and encoded again
        requests, ends, data, error = self.parser.read_spans(data)
        server = self.server
        server.update_clock()
        from ..dispatch import process_command, run_plain

        base = repl.reploff_value
        done = 0
        n = len(requests)
        mc.in_batch = True
        server.applying_master = True  # keys the primary has not expired yet are still there for it
        try:
            while done < n:
                if ends is not None and mc.plain_state():
                    # a run of plain commands (the usual stream: SET, INCR, DEL ...) by the fast path,
                    # as a client's; the offset then counts them all (none of them reads it)
                    k = run_plain(mc, requests[done:] if done else requests)
                    if k:
                        done += k
                        repl.reploff_value = base + ends[done - 1]
                        if mc.closing or done == n:
                            break
                argv = requests[done]
                try:
                    process_command(mc, argv)
                except Exception:
                    log.exception("applying %r from master", argv[:3])
                # the offset counts the command once applied (REPLCONF GETACK answers the one before it)
                if ends is None:
                    repl.reploff_value += canonical_size(argv)
                else:
                    repl.reploff_value = base + ends[done]
                done += 1
                if mc.closing:
                    break
        finally:
            server.applying_master = False
            mc.in_batch = False
            mc.out = []
        if done:
            if ends is not None:
                end = ends[done - 1]
                repl.relay_bytes(data if end == len(data) else data[:end])
            else:
                repl.relay(requests[:done])
        if error is not None:
            log.info("Protocol error from master: %s", error.message)
            self.abort()
        elif mc.closing:
            self.abort()

    def abort(self) -> None:
        self.phase = "closing"
        if self.transport is not None:
            self.transport.close()


class ReplicaSide:
    """Mixed into Replication: what a replica does."""

    def __init__(self):
        self.master_host = ""
        self.master_port = 0
        self.state = "none"
        self.link: MasterLink | None = None
        self.master_client = None
        self.cached: tuple | None = None  # (replid, offset) to PSYNC with after a link drop
        self.reploff_value = 0
        self.last_io = monotonic()
        self.down_since = 0.0
        self.transfer_start = 0.0
        self._connect_task = None
        self._retry = None
        self.link_cut = False   # AMR.LINK OFF: a network partition between this shard's node and its primary's

    def reploff(self) -> int:
        if self.master_client is not None:
            return self.reploff_value
        if self.cached is not None:
            return self.cached[1]
        return 1

    def read_reploff(self) -> int:
        if self.master_client is not None and self.link is not None and self.link.parser is not None:
            return self.reploff_value + self.link.parser.pending()
        return self.reploff()

    # --- REPLICAOF ----------------------------------------------------------------------------
    def set_master(self, host: str, port: int) -> None:
        """replicationSetMaster."""
        server = self.server
        was_master = not server.is_replica
        self.close_link()
        self.disconnect_blocked()
        self.master_host = host
        self.master_port = port
        server.is_replica = True
        server.hot_path_changed()
        server.master_host, server.master_port = host, port  # CONFIG GET replicaof
        server.config.values["replicaof"] = f"{host} {port}"
        if was_master:
            self.flush()
            # the cached master made of our own history: a demoted primary can continue partially
            self.cached = (self.replid, self.master_repl_offset)
        self.state = "connect"
        self.update_propagating()
        self.refresh_guard()
        log.info("Connecting to MASTER %s:%d", host, port)
        self.connect()

    def unset_master(self) -> None:
        """replicationUnsetMaster: REPLICAOF NO ONE."""
        server = self.server
        if not server.is_replica:
            return
        self.master_host = ""
        self.master_port = 0
        self.close_link()
        if self.master_client is not None:
            self.master_client = None
        self.cached = None
        server.is_replica = False
        server.master_host, server.master_port = None, 0
        server.config.values["replicaof"] = ""
        self.shift_replid()
        self.disconnect_replicas()
        self.seldb = -1
        self.state = "none"
        self.down_since = 0.0
        if self.backlog is None:
            self.create_backlog()
        self.update_propagating()
        self.refresh_guard()

    def disconnect_blocked(self) -> None:
        from amr_emulator.protocol import errors
        from amr_emulator.protocol.errors import RespError

        err = RespError(errors.UNBLOCKED_ROLE_CHANGE)
        for c in list(self.server.clients.values()):
            if c.blocked is not None:
                c.unblock_with(err)
                c.closing = True
                if c.transport is not None:
                    c.transport.close()
        self.waiters = []

    # --- the link -----------------------------------------------------------------------------
    def connect(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self.link is not None or not self.server.is_replica or self.link_cut:
            return
        if self.cached is not None:
            psync_id, psync_offset = self.cached[0], self.cached[1] + 1
        else:
            psync_id, psync_offset = "?", -1
        link = MasterLink(self, psync_id, psync_offset)
        self.link = link
        self.state = "connecting"
        loop = self.server.loop

        async def open_link():
            try:
                await asyncio.wait_for(
                    loop.create_connection(lambda: link, self.master_host, self.master_port),
                    timeout=max(1, int(self.server.config.values.get("repl-timeout", "60"))))
            except (OSError, asyncio.TimeoutError) as e:
                log.info("Error condition on socket for SYNC: %s", e)
                if self.link is link:
                    self.link = None
                    self.state = "connect"
                    self.schedule_retry()

        self._connect_task = loop.create_task(open_link())

    def set_link_cut(self, cut: bool) -> None:
        """AMR.LINK OFF|ON: the link to the primary drops and stays down (as a network partition would
        leave it), or comes back (a partial resync where the primary still has the history)."""
        if cut == self.link_cut:
            return
        self.link_cut = cut
        if cut:
            was_up = self.state == "connected"
            self.close_link()
            if self.server.is_replica:
                self.state = "connect"
                if was_up:
                    self.down_since = time()
                self.refresh_guard()
                log.info("Link to MASTER %s:%d cut (network partition)", self.master_host, self.master_port)
        elif self.server.is_replica:
            log.info("Link to MASTER %s:%d restored", self.master_host, self.master_port)
            self.connect()

    def schedule_retry(self, delay: float = 1.0) -> None:
        if self._retry is None and self.server.is_replica:
            self._retry = self.server.loop.call_later(delay, self.connect)

    def close_link(self) -> None:
        link = self.link
        self.link = None
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if link is not None:
            link.closed = True
            link.phase = "closing"
            if link.transport is not None:
                link.transport.close()
            elif self._connect_task is not None:
                self._connect_task.cancel()
        self.drop_master_client()

    def drop_master_client(self) -> None:
        mc = self.master_client
        if mc is None:
            return
        self.master_client = None
        self.cached = (self.replid, self.reploff_value)
        mc.closing = True
        mc.transport = None
        self.server.client_disconnected(mc)

    def link_lost(self, link: MasterLink) -> None:
        if link is not self.link:
            return
        self.link = None
        if self.master_client is not None:
            log.info("Connection with master lost.")
            self.drop_master_client()
        if self.state == "connected":
            self.down_since = time()  # only a link that was up goes down (Redis's repl_down_since)
        self.state = "connect"
        self.refresh_guard()
        if self.server.is_replica:
            self.schedule_retry(0.1)

    def discard_cached(self) -> None:
        self.cached = None

    def partial_accepted(self, link: MasterLink, new_id: str) -> None:
        """+CONTINUE: go on from the cached offset; a new replid means the primary was promoted."""
        cached_id, offset = self.cached if self.cached is not None else (self.replid, self.master_repl_offset)
        if new_id and new_id != cached_id:
            self.replid2 = cached_id
            self.second_repl_offset = offset + 1
            self.replid = new_id
            log.info("Master replication ID changed to %s", new_id)
            self.disconnect_replicas()  # they must learn the new history too
        else:
            self.replid = cached_id
        self.master_repl_offset = offset
        if self.backlog is None:
            self.create_backlog()
        self.cached = None
        self.link_up(link, offset)

    def full_sync_loaded(self, link: MasterLink, data: bytes) -> None:
        """The snapshot arrived: parse and convert it in a worker thread while the event loop keeps
        serving (commands without the `loading` flag get -LOADING, INFO shows loading:1); the stream
        arriving meanwhile waits in the link's buffer. Then install it and go on with the stream."""
        from .. import persistence

        server = self.server
        self.disconnect_replicas()  # their history is gone with ours
        self.flush()
        link.phase = "loading"
        progress = persistence.loading_started(server, len(data))
        self.refresh_guard()
        server.update_clock()
        now = server.now_ms
        future = server.loop.run_in_executor(None, persistence.prepare_load, server, data, now, progress)
        future.add_done_callback(lambda f: self._sync_prepared(link, f, len(data), progress))

    def _sync_prepared(self, link: MasterLink, future, size: int, progress: list) -> None:
        from .. import persistence

        server = self.server
        if persistence.state(server).load_progress is progress:  # not a newer sync's load
            persistence.loading_ended(server)
            self.refresh_guard()
        if link is not self.link or link.closed:
            log.info("MASTER <-> REPLICA sync: the link was lost while loading; discarding the snapshot")
            return
        try:
            persistence.install_loaded(server, future.result())
        except Exception as e:
            log.info("Failed trying to load the MASTER synchronization DB from socket: %s", e)
            link.abort()
            return
        self.flush()  # nothing was relayed meanwhile (the stream waited), but keep the order
        self.replid = link.full_id
        self.master_repl_offset = link.full_offset
        self.clear_replid2()
        self.backlog = None
        self.create_backlog()
        log.info("MASTER <-> REPLICA sync: Finished with success (%d bytes)", size)
        self.link_up(link, link.full_offset)
        self.send_ack()
        if link.buf and link.phase == "stream":  # the stream that arrived while loading
            rest = bytes(link.buf)
            link.buf = bytearray()
            link.apply(rest)

    def link_up(self, link: MasterLink, offset: int) -> None:
        from ..session import Client

        server = self.server
        mc = Client(server)
        mc.transport = link.transport
        mc.is_master = True
        mc.reply_mode = 1  # the primary is never answered (REPLCONF ACKs go on their own)
        mc.authenticated = True
        mc.parser.require_auth = False
        peer = link.transport.get_extra_info("peername") if link.transport is not None else None
        if isinstance(peer, tuple):
            mc.addr = f"{peer[0]}:{peer[1]}"
        sock = link.transport.get_extra_info("sockname") if link.transport is not None else None
        if isinstance(sock, tuple):
            mc.laddr = f"{sock[0]}:{sock[1]}"
        server.clients[mc.id] = mc
        self.master_client = mc
        self.reploff_value = offset
        link.parser = SpanParser(server.proto_max_bulk_len)
        link.phase = "stream"
        self.state = "connected"
        self.down_since = 0.0
        self.update_propagating()
        self.refresh_guard()

    def relay(self, requests: list) -> None:
        """The commands just applied go on to our backlog and our replicas, as they came."""
        from .primary import encode_argv

        self.relay_bytes(b"".join([encode_argv(a) for a in requests]))

    def relay_bytes(self, data: bytes) -> None:
        """The bytes just applied go on to our backlog and our replicas, unchanged."""
        self.emit(data)
        self.master_repl_offset = self.reploff_value

    def send_ack(self) -> None:
        link = self.link
        if link is not None and self.master_client is not None:
            link.send(b"REPLCONF", b"ACK", b"%d" % self.reploff_value)

    def replica_cron(self) -> None:
        if not self.server.is_replica:
            return
        if self.state == "connected":
            self.send_ack()
        timeout = int(self.server.config.values.get("repl-timeout", "60"))
        link = self.link
        if link is not None and self.state in ("handshake", "sync", "connected") \
                and monotonic() - self.last_io > timeout:
            log.info("MASTER timeout: no data nor PING received...")
            link.abort()
        elif link is None and self._retry is None:
            self.connect()
