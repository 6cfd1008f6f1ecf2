"""Redis's replication (PSYNC2) for a shard: both sides, on the shard's event loop.

`Replication` (one per Server, `server.repl`) owns the replication state Redis keeps in its server
struct: `replid` / `replid2` / `second_repl_offset`, `master_repl_offset`, the backlog (backlog.py),
the attached replicas and WAIT's waiters (primary.py), the link to our own primary (replica.py).

The stream is the effects of the commands, as RESP arrays (`Server.propagate` feeds `feed`), with a
SELECT whenever the database changes, a PING every `repl-ping-replica-period` seconds, and
`REPLCONF GETACK *` when a client WAITs. A replica relays the bytes it applies, unchanged, to its own
backlog and replicas (a chained replica), and keeps its backlog so that, promoted, its former
siblings continue from it by `replid2`.
"""
from __future__ import annotations

import logging
import secrets
from time import monotonic, time

from amr_emulator.protocol import errors

from .primary import Primary
from .replica import ReplicaSide

log = logging.getLogger("shard")


def new_replid() -> str:
    return secrets.token_hex(20)


class Replication(Primary, ReplicaSide):
    def __init__(self, server):
        self.server = server
        server.applying_master = False  # a replica runs its primary's stream (keyspace.lookup reads it)
        self.replid = new_replid()
        self.replid2 = "0" * 40
        self.master_repl_offset = 0
        self.second_repl_offset = -1
        self.backlog = None
        self.seldb = -1
        self.replicas: dict = {}  # Client -> Attached
        self.batch: list | None = None  # effects held while a transaction runs
        self.batch_depth = 0
        self.pending: list = []  # stream bytes not yet written to the online replicas
        self.flush_scheduled = False
        self.waiters: list = []  # WAIT: [client, offset, numreplicas, timer]
        self.ack_requested = False
        self.good_replicas = 0
        self.cron_loops = 0
        self.foreground_snapshots = False  # set when a forked snapshot failed
        self.sync_timer = None  # repl-diskless-sync-delay: the replicas waiting share one snapshot
        self._cron = None
        ReplicaSide.__init__(self)

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        server = self.server
        self._cron = server.loop.call_later(1.0, self.cron)
        target = server.config.values.get("replicaof", "")
        if target:
            host, _, port = target.rpartition(" ")
            self.set_master(host, int(port))
        self.refresh_guard()

    def stop(self) -> None:
        if self._cron is not None:
            self._cron.cancel()
            self._cron = None
        self.flush()  # what the replicas have not been sent yet (a shutdown's last writes)
        self.close_link()

    def cron(self) -> None:
        """replicationCron, once a second."""
        try:
            self.cron_loops += 1
            self.primary_cron()
            self.replica_cron()
            self.refresh_guard()
        except Exception:
            log.exception("replication cron")
        self._cron = self.server.loop.call_later(1.0, self.cron)

    # --- state shared by both sides -----------------------------------------------------------
    def change_replid(self) -> None:
        self.replid = new_replid()

    def clear_replid2(self) -> None:
        self.replid2 = "0" * 40
        self.second_repl_offset = -1

    def shift_replid(self) -> None:
        """shiftReplicationId: the current history becomes the secondary one, valid up to here."""
        self.replid2 = self.replid
        self.second_repl_offset = self.master_repl_offset + 1
        self.change_replid()
        log.info("Setting secondary replication ID to %s, valid up to offset: %d. New replication ID is %s",
                    self.replid2, self.second_repl_offset, self.replid)

    def backlog_size(self) -> int:
        from ..config import memtoull

        v = memtoull(self.server.config.values.get("repl-backlog-size", "1048576"))
        return v or 1024 * 1024

    def create_backlog(self) -> None:
        from .backlog import Backlog

        self.backlog = Backlog(self.backlog_size(), self.master_repl_offset)
        self.update_propagating()

    def update_propagating(self) -> None:
        """Effects are fed to the stream by a primary that has a backlog (as Redis: no backlog, no
        stream). A replica relays its primary's bytes instead."""
        server = self.server
        on = self.backlog is not None and not server.is_replica
        if on and not server.propagating:
            for c in server.clients.values():
                c.rewritten = None  # an effect left over from a command run while nothing propagated
        server.propagating = on

    def refresh_guard(self) -> None:
        """Install dispatch's replication check (MASTERDOWN, NOREPLICAS) only when it can refuse."""
        server = self.server
        values = server.config.values
        guard = None
        if server.is_replica:
            if values.get("replica-serve-stale-data") == "no" and self.state != "connected":
                guard = self.guard_stale
        elif int(values.get("min-replicas-to-write", "0")) and int(values.get("min-replicas-max-lag", "10")):
            self.refresh_good_replicas()
            guard = self.guard_min_replicas
        st = getattr(server, "persistence", None)
        if st is not None and st.loading:
            inner = guard

            def guard(c, entry):  # noqa: F811 - the loading check after the others, as processCommand
                refusal = inner(c, entry) if inner is not None else None
                return refusal if refusal is not None else self.guard_loading(c, entry)
        server.repl_guard = guard
        server.hot_path_changed()
        if self.backlog is not None:
            self.backlog.resize(self.backlog_size())

    def guard_stale(self, c, entry):
        if c.is_master or self.state == "connected":
            return None
        if "stale" in entry.flags:
            return None
        if entry.name == "exec" and c.multi:
            if all("stale" in e.flags for e, _ in c.multi):
                return None
        return errors.MASTERDOWN

    def guard_loading(self, c, entry):
        """-LOADING for a command without the `loading` flag (an EXEC: any queued one)."""
        if c.is_master:
            return None
        if "loading" not in entry.flags:
            return errors.LOADING
        if entry.name == "exec" and c.multi and not all("loading" in e.flags for e, _ in c.multi):
            return errors.LOADING
        return None

    def guard_min_replicas(self, c, entry):
        write = entry.is_write or (entry.name == "exec" and c.multi and any(e.is_write for e, _ in c.multi))
        if not write or c.is_master:
            return None
        values = self.server.config.values
        if self.good_replicas < int(values["min-replicas-to-write"]):
            return errors.NOREPLICAS
        return None

    # --- INFO replication, ROLE ----------------------------------------------------------------
    def info_fields(self) -> list:
        server = self.server
        values = server.config.values
        out = [("role", "slave" if server.is_replica else "master")]
        if server.is_replica:
            link = self.link
            connected = self.state == "connected"
            out += [
                ("master_host", self.master_host),
                ("master_port", self.master_port),
                ("master_link_status", "up" if connected else "down"),
                ("master_last_io_seconds_ago", int(monotonic() - self.last_io) if connected else -1),
                ("master_sync_in_progress", 1 if self.state == "sync" else 0),
                ("slave_read_repl_offset", self.read_reploff()),
                ("slave_repl_offset", self.reploff()),
            ]
            if self.state == "sync" and link is not None:
                total = link.transfer_size
                read = link.transfer_read
                perc = (read / total * 100) if total > 0 else 0.0
                out += [
                    ("master_sync_total_bytes", total),
                    ("master_sync_read_bytes", read),
                    ("master_sync_left_bytes", total - read),
                    ("master_sync_perc", "%.2f" % perc),
                    ("master_sync_last_io_seconds_ago", int(monotonic() - self.last_io)),
                ]
            if not connected:
                out.append(("master_link_down_since_seconds",
                            int(time() - self.down_since) if self.down_since else -1))
            out += [
                ("slave_priority", values["replica-priority"]),
                ("slave_read_only", 1 if server.replica_read_only else 0),
                ("replica_announced", 1 if values["replica-announced"] == "yes" else 0),
            ]
        out.append(("connected_slaves", len(self.replicas)))
        if int(values["min-replicas-to-write"]) and int(values["min-replicas-max-lag"]):
            out.append(("min_slaves_good_slaves", self.good_replicas))
        now = time()
        for i, a in enumerate(self.replicas.values()):
            lag = int(now - a.ack_time) if a.state == "online" else 0
            out.append(("slave%d" % i, "ip=%s,port=%d,state=%s,offset=%d,lag=%d"
                        % (a.ip, a.port, a.state, a.ack_off, lag)))
        backlog = self.backlog
        out += [
            ("master_failover_state", "no-failover"),
            ("master_replid", self.replid),
            ("master_replid2", self.replid2),
            ("master_repl_offset", self.master_repl_offset),
            ("second_repl_offset", self.second_repl_offset),
            ("repl_backlog_active", 1 if backlog is not None else 0),
            ("repl_backlog_size", backlog.size if backlog is not None else self.backlog_size()),
            ("repl_backlog_first_byte_offset", backlog.offset if backlog is not None else 0),
            ("repl_backlog_histlen", backlog.histlen if backlog is not None else 0),
        ]
        return out

    def role_reply(self) -> list:
        if not self.server.is_replica:
            return [b"master", self.master_repl_offset,
                    [[a.ip.encode(), b"%d" % a.port, b"%d" % a.ack_off]
                     for a in self.replicas.values() if a.state == "online"]]
        state = {"connect": "connect", "connecting": "connecting", "handshake": "handshake", "sync": "sync",
                 "connected": "connected"}.get(self.state, "unknown")
        return [b"slave", self.master_host.encode(), self.master_port, state.encode(),
                self.reploff() if self.master_client is not None else -1]
