"""The primary side: replicas attached by SYNC/PSYNC, the stream they get, their ACKs, WAIT.

A replica that needs a full resynchronisation gets `+FULLRESYNC <replid> <offset>` and the snapshot
as `$<len>\\r\\n<rdb>` (or `$EOF:<mark>\\r\\n<rdb><mark>` when it announced `capa eof` and
repl-diskless-sync is on), then the stream from that offset on. In the EOF form the stream waits
for the replica's first `REPLCONF ACK`, as Redis does: the replica finds the end of the payload by
its last 40 bytes, so nothing may follow them until it answered.
"""
from __future__ import annotations

import logging
import os
import secrets
from time import time

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError

log = logging.getLogger("shard")

_SELECT = {}
# The stream goes to the replicas at most this long after a write (Redis writes it at the end of each
# loop turn): a replica then wakes once per millisecond under load rather than once per turn, which
# costs a cache's replicas a quarter less CPU per write (scripts/bench --cache), and adds a lag no
# client can tell from the network's between AMR's VMs. WAIT and REPLCONF GETACK do not wait for it.
STREAM_FLUSH_S = 0.001


def encode_argv(argv) -> bytes:
    """An effect as the stream carries it: an array of bulk strings."""
    if len(argv) == 3:  # the common effect (SET k v, INCRBY k n, SADD s m): one format
        a, b, c = argv
        return b"*3\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (len(a), a, len(b), b, len(c), c)
    out = [b"*%d\r\n" % len(argv)]
    for a in argv:
        out.append(b"$%d\r\n%b\r\n" % (len(a), a))
    return b"".join(out)


def select_bytes(dbid: int) -> bytes:
    b = _SELECT.get(dbid)
    if b is None:
        b = _SELECT[dbid] = encode_argv([b"SELECT", b"%d" % dbid])
    return b


_PING = encode_argv([b"PING"])
_GETACK = encode_argv([b"REPLCONF", b"GETACK", b"*"])


class Attached:
    """One replica as its primary sees it (Redis's client fields slave_*, repl_*)."""

    __slots__ = ("client", "state", "port", "ip", "capa_eof", "capa_psync2", "ack_off", "ack_time", "streaming",
                 "buffer", "pre_psync", "waiting")

    def __init__(self, client):
        self.client = client
        self.state = "wait_bgsave"
        self.port = getattr(client, "repl_listening_port", 0)
        self.ip = getattr(client, "repl_ip", None) or client.addr.rpartition(":")[0]
        capa = getattr(client, "repl_capa", ())
        self.capa_eof = "eof" in capa
        self.capa_psync2 = "psync2" in capa
        self.ack_off = 0
        self.ack_time = time()
        self.streaming = False
        self.buffer: list = []
        self.pre_psync = False
        self.waiting = False  # for the snapshot to start (repl-diskless-sync-delay): no stream yet

    def write(self, data: bytes) -> None:
        if self.waiting:
            return  # its stream starts at the offset of the snapshot it will get
        if self.streaming:
            self.send(data)
        else:
            self.buffer.append(data)

    def send(self, data: bytes) -> None:
        """Bytes of the replication stream or the snapshot to this replica (counted in INFO's
        total_net_repl_output_bytes; the +FULLRESYNC / +CONTINUE lines are not, as in Redis)."""
        c = self.client
        c.server.stat_net_repl_output_bytes += len(data)
        c.send(data)

    def start_streaming(self) -> None:
        self.streaming = True
        if self.buffer:
            data = b"".join(self.buffer)
            self.buffer = []
            self.send(data)


class Primary:
    """Mixed into Replication: what a server with replicas does."""

    # --- the stream ---------------------------------------------------------------------------
    def feed(self, dbid: int, argv: list) -> None:
        """An effect of a command (Server.propagate)."""
        if self.batch is not None:
            self.batch.append((dbid, argv))
            return
        if dbid != self.seldb and dbid >= 0:
            self.emit(select_bytes(dbid))
            self.seldb = dbid
        self.emit(encode_argv(argv))

    def emit(self, data: bytes) -> None:
        """Bytes of the stream: into the backlog now, to the replicas within STREAM_FLUSH_S."""
        self.master_repl_offset += len(data)
        backlog = self.backlog
        if backlog is not None:
            backlog.append(data)
        if self.replicas:
            self.pending.append(data)
            if not self.flush_scheduled:
                self.flush_scheduled = True
                self.server.loop.call_later(STREAM_FLUSH_S, self.flush)

    def flush(self) -> None:
        self.flush_scheduled = False
        if not self.pending:
            return
        data = b"".join(self.pending) if len(self.pending) > 1 else self.pending[0]
        self.pending = []
        for a in self.replicas.values():
            a.write(data)

    def batch_begin(self) -> None:
        """Hold the effects of a transaction (EXEC, a script) to wrap them in MULTI ... EXEC."""
        if self.batch_depth == 0:
            self.batch = []
        self.batch_depth += 1

    def batch_end(self) -> None:
        self.batch_depth -= 1
        if self.batch_depth:
            return
        effects = self.batch
        self.batch = None
        if not effects:
            return
        if len(effects) == 1:
            self.feed(*effects[0])
            return
        # propagatePendingCommands: MULTI without a SELECT (it goes inside the transaction)
        self.emit(encode_argv([b"MULTI"]))
        for dbid, argv in effects:
            self.feed(dbid, argv)
        self.emit(encode_argv([b"EXEC"]))

    # --- SYNC / PSYNC -------------------------------------------------------------------------
    def sync_command(self, c, argv) -> None:
        """SYNC and PSYNC <replid> <offset> (syncCommand)."""
        from amr_emulator.protocol.resp import string2ll

        server = self.server
        if c in self.replicas:
            return
        if server.is_replica and self.state != "connected":
            raise RespError(errors.NOMASTERLINK)
        psync = argv[0].lower() == b"psync"
        if psync:
            offset = string2ll(argv[2])
            if offset is None:
                raise RespError(errors.NOT_INTEGER)
            replid = argv[1].decode("latin-1")
            if self.try_partial(c, replid, offset):
                server.stat_sync_partial_ok = getattr(server, "stat_sync_partial_ok", 0) + 1
                return
            if not replid.startswith("?"):
                server.stat_sync_partial_err = getattr(server, "stat_sync_partial_err", 0) + 1
        server.stat_sync_full = getattr(server, "stat_sync_full", 0) + 1
        self.full_sync(c, pre_psync=not psync)

    def attach(self, c):
        self.flush()  # what is pending went into the backlog or the snapshot already
        if not self.replicas and self.backlog is None:
            # a backlog made from scratch starts a new history (syncCommand)
            self.change_replid()
            self.clear_replid2()
            self.create_backlog()
            log.info("Replication backlog created, my new replication IDs are '%s' and '%s'",
                        self.replid, self.replid2)
        a = Attached(c)
        self.replicas[c] = a
        c.repl_attached = a
        return a

    def try_partial(self, c, replid: str, offset: int) -> bool:
        """masterTryPartialResynchronization."""
        if replid.lower() != self.replid and (replid.lower() != self.replid2 or offset > self.second_repl_offset):
            if replid != "?":
                log.info("Partial resynchronization not accepted: replication ID mismatch (replica asked for "
                            "'%s', my replication IDs are '%s' and '%s')", replid, self.replid, self.replid2)
            return False
        backlog = self.backlog
        if backlog is None or not backlog.covers(offset):
            log.info("Unable to partial resync with replica %s for lack of backlog (Replica request was: %d).",
                        c.addr, offset)
            return False
        a = self.attach(c)
        a.state = "online"
        a.ack_time = time()
        a.streaming = True
        if a.capa_psync2:
            c.send(b"+CONTINUE %s\r\n" % self.replid.encode())
        else:
            c.send(b"+CONTINUE\r\n")
        data = backlog.read_from(offset)
        if data:
            a.send(data)
        log.info("Partial resynchronization request from %s accepted. Sending %d bytes of backlog starting "
                    "from offset %d.", c.addr, len(data), offset)
        self.refresh_good_replicas()
        return True

    def full_sync(self, c, pre_psync: bool = False) -> None:
        """A replica needs the whole dataset. For a diskless transfer (repl-diskless-sync, the
        replica announced `capa eof`) the snapshot starts after repl-diskless-sync-delay seconds
        (or once repl-diskless-sync-max-replicas wait), so that the replicas asking meanwhile share
        it; +FULLRESYNC is sent when it starts. Otherwise it starts now."""
        server = self.server
        a = self.attach(c)
        a.pre_psync = pre_psync
        values = server.config.values
        diskless = a.capa_eof and values.get("repl-diskless-sync") == "yes" and not pre_psync
        delay = int(values.get("repl-diskless-sync-delay", "5")) if diskless else 0
        if delay <= 0:
            return self.start_full_sync([(c, a)])
        a.waiting = True
        waiting = [(w, b) for w, b in self.replicas.items() if b.waiting]
        most = int(values.get("repl-diskless-sync-max-replicas", "0"))
        if most and len(waiting) >= most:
            return self.start_waiting_syncs()
        if self.sync_timer is None:
            self.sync_timer = server.loop.call_later(delay, self.start_waiting_syncs)

    def start_waiting_syncs(self) -> None:
        """The delay is over: one snapshot for every replica waiting."""
        if self.sync_timer is not None:
            self.sync_timer.cancel()
            self.sync_timer = None
        self.flush()  # the stream so far is in the snapshot: not for them
        group = [(c, a) for c, a in self.replicas.items() if a.waiting]
        for _, a in group:
            a.waiting = False
        if group:
            self.start_full_sync(group)

    def start_full_sync(self, group: list) -> None:
        """+FULLRESYNC to each (c, a) of `group`, then one snapshot of now for all of them, by a
        forked child when the platform forks (the stream meanwhile accumulates in each replica's
        buffer), else in the foreground."""
        from .. import persistence

        server = self.server
        self.flush()
        self.seldb = -1  # the stream after a snapshot starts with a SELECT
        offset = self.master_repl_offset
        for c, a in group:
            if not a.pre_psync:
                c.send(b"+FULLRESYNC %s %d\r\n" % (self.replid.encode(), offset))

        def done(data):
            for c, a in group:
                self.snapshot_done(c, a, data, offset)

        background = getattr(persistence, "snapshot_in_background", None)
        if background is not None and hasattr(os, "fork") and not self.foreground_snapshots:
            try:
                background(server, done, repl_id=self.replid, repl_offset=offset)
                return
            except OSError as e:
                log.info("Can't fork for the replication snapshot: %s; saving in the foreground", e)
        done(persistence.snapshot_bytes(server, repl_id=self.replid, repl_offset=offset))

    def snapshot_done(self, c, a, rdb, offset) -> None:
        if self.replicas.get(c) is not a:
            return  # the replica went away meanwhile
        if rdb is None:  # the child failed (e.g. no writable dir): a snapshot of now would not match
            log.warning("Background snapshot for replica %s failed: disconnecting it, it will retry "
                        "(with a snapshot in the foreground)", c.addr)
            self.foreground_snapshots = True
            self.replicas.pop(c, None)
            if c.transport is not None:
                c.closing = True
                c.transport.close()
            return
        diskless = a.capa_eof and self.server.config.values.get("repl-diskless-sync") == "yes" and not a.pre_psync
        if diskless:
            mark = secrets.token_hex(20).encode()
            a.send(b"$EOF:" + mark + b"\r\n")
            a.send(rdb)
            a.send(mark)
            a.state = "online"  # the stream follows the first REPLCONF ACK (repl_start_cmd_stream_on_ack)
        else:
            a.send(b"$%d\r\n" % len(rdb))
            a.send(rdb)
            a.state = "online"
            a.start_streaming()
        a.ack_time = time()
        log.info("Synchronization with replica %s succeeded (%d bytes, offset %d)", c.addr, len(rdb), offset)
        self.refresh_good_replicas()

    def detach(self, c) -> None:
        a = self.replicas.pop(c, None)
        if a is None:
            return
        log.info("Connection with replica %s lost.", c.addr)
        self.refresh_good_replicas()
        self.check_waiters()

    def disconnect_replicas(self) -> None:
        self.flush()
        for c in list(self.replicas):
            self.replicas.pop(c, None)
            if c.transport is not None:
                c.closing = True
                c.transport.close()
        self.refresh_good_replicas()

    # --- REPLCONF -----------------------------------------------------------------------------
    def replconf_command(self, c, argv):
        from amr_emulator.protocol.resp import OK, string2ll

        from ..dispatch import NO_REPLY

        if len(argv) % 2 == 0:
            raise RespError(errors.SYNTAX)
        for j in range(1, len(argv), 2):
            opt = argv[j].lower()
            val = argv[j + 1]
            if opt == b"listening-port":
                port = string2ll(val)
                if port is None:
                    raise RespError(errors.NOT_INTEGER)
                c.repl_listening_port = port
            elif opt == b"ip-address":
                if len(val) >= 256:
                    raise RespError(errors.replconf_ip_too_long(len(val)))
                c.repl_ip = val.decode("latin-1")
            elif opt == b"capa":
                capa = getattr(c, "repl_capa", None)
                if capa is None:
                    capa = c.repl_capa = set()
                low = val.lower()
                if low in (b"eof", b"psync2"):
                    capa.add(low.decode())
            elif opt == b"ack":
                a = self.replicas.get(c)
                if a is None:
                    return NO_REPLY
                off = string2ll(val)
                if off is None:
                    return NO_REPLY
                if off > a.ack_off:
                    a.ack_off = off
                a.ack_time = time()
                if not a.streaming and a.state == "online":
                    a.start_streaming()
                if self.waiters:
                    self.check_waiters()
                return NO_REPLY
            elif opt == b"getack":
                if self.server.is_replica and self.master_client is not None:
                    self.send_ack()
                return NO_REPLY
            elif opt == b"rdb-only":
                v = string2ll(val)
                if v is None or not 0 <= v <= 1:
                    raise RespError(errors.OUT_OF_RANGE_POSITIVE if v is not None else errors.NOT_INTEGER)
            elif opt == b"rdb-filter-only":
                for f in val.split():
                    if f.lower() != b"functions":
                        raise RespError(errors.rdb_filter_unsupported(f))
            else:
                raise RespError(errors.replconf_unrecognized(argv[j].decode("latin-1")))
        return OK

    # --- good replicas, WAIT ------------------------------------------------------------------
    def refresh_good_replicas(self) -> None:
        values = self.server.config.values
        max_lag = int(values.get("min-replicas-max-lag", "10"))
        now = time()
        self.good_replicas = sum(1 for a in self.replicas.values()
                                 if a.state == "online" and now - a.ack_time <= max_lag)

    def count_acks(self, offset: int) -> int:
        return sum(1 for a in self.replicas.values() if a.state == "online" and a.ack_off >= offset)

    def request_acks(self) -> None:
        """REPLCONF GETACK * to every replica, once, at the end of this loop turn."""
        if self.ack_requested:
            return
        self.ack_requested = True

        def send():
            self.ack_requested = False
            if self.replicas and not self.server.is_replica:
                self.emit(_GETACK)
                self.flush()

        self.server.loop.call_soon(send)

    def wait_register(self, c, offset: int, numreplicas: int, timeout: float) -> None:
        w = [c, offset, numreplicas, None]
        if timeout > 0:
            w[3] = self.server.loop.call_later(timeout, self.wait_timeout, w)
        self.waiters.append(w)
        self.request_acks()

    def wait_timeout(self, w) -> None:
        if w in self.waiters:
            self.waiters.remove(w)
        c = w[0]
        if c.blocked is not None:
            c.unblock_with(self.count_acks(w[1]))

    def check_waiters(self) -> None:
        keep = []
        for w in self.waiters:
            c = w[0]
            if c.blocked is None or c.closing:
                if w[3] is not None:
                    w[3].cancel()
                continue
            n = self.count_acks(w[1])
            if n >= w[2]:
                if w[3] is not None:
                    w[3].cancel()
                c.unblock_with(n)
                continue
            keep.append(w)
        self.waiters = keep

    # --- cron ---------------------------------------------------------------------------------
    def primary_cron(self) -> None:
        server = self.server
        values = server.config.values
        if self.replicas:
            period = max(1, int(values.get("repl-ping-replica-period", "10")))
            if self.cron_loops % period == 0 and not server.is_replica:
                self.emit(_PING)
            timeout = int(values.get("repl-timeout", "60"))
            now = time()
            for c, a in list(self.replicas.items()):
                if a.state == "online" and not a.pre_psync and now - a.ack_time > timeout:
                    log.info("Disconnecting timedout replica (streaming sync): %s", c.addr)
                    self.replicas.pop(c, None)
                    if c.transport is not None:
                        c.closing = True
                        c.transport.close()
            for a in self.replicas.values():
                if a.state == "wait_bgsave" and a.client.transport is not None:
                    a.client.transport.write(b"\n")  # keep the link alive while the snapshot is made
            self.refresh_good_replicas()
        if self.waiters:
            self.check_waiters()
