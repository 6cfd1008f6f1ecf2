"""A shard: one Redis-compatible server process on an asyncio (uvloop) event loop.

`Server` owns what is shared between clients: the databases, the clients, pub/sub registries, the
clock, the settings (see config.py), statistics and the timers (active expiry, pause ends).
"""
from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import sys
from collections import deque
from time import monotonic, time

from amr_emulator.protocol import errors
from amr_emulator.protocol.rdb import RdbError
from amr_emulator.protocol.resp import Push

from . import config as shard_config
from .acl import ACL
from .dispatch import build_plain_table, build_table
from .eviction import Eviction
from .keyspace import NOTIFY_KEYEVENT, NOTIFY_KEYSPACE, Database, ExpiryCycle
from .persistence import cron as persistence_cron
from .persistence import save_on_shutdown
from .session import Client

log = logging.getLogger("shard")

REDIS_VERSION = "7.4.0"


class Server:
    # Slots for the attributes the hot path reads (an instance with this many attributes gets slow,
    # unspecialised attribute access); "__dict__" holds the rest, and what other modules add.
    __slots__ = ("table", "plain_table", "plain_ok", "slowlog_s", "now_ms", "maxmemory", "notify_flags",
                 "slowlog_slower_than", "replica_read_only", "is_replica", "propagating", "dbs", "ready_keys", "monitors", "pause_mode",
                 "dirty", "stat_numcommands", "stat_failed_calls", "stat_rejected_calls", "stat_keyspace_hits",
                 "stat_keyspace_misses", "channels", "patterns", "__dict__", "__weakref__")

    def __init__(self, port: int = 6379, bind: str = "127.0.0.1", **settings):
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = port
        self.bind = bind
        self.table = build_table()
        self.plain_table = build_plain_table(self.table)
        self.run_id = secrets.token_hex(20)
        self.start_time = time()
        self.start_monotonic = monotonic()
        self.now_ms = int(time() * 1000)
        self.pid = os.getpid()
        self.version = REDIS_VERSION

        # settings with a hot-path attribute (config.py keeps them in step)
        # truthy while new connections must authenticate (the default user has a password or is off);
        # kept by acl.ACL.changed
        self.requirepass = b""
        self.acl = ACL(self)
        self.acl_restricted = False  # a user other than an all-permissive default exists: dispatch checks
        self.proto_max_bulk_len = 512 * 1024 * 1024
        self.maxmemory = 0
        self.notify_flags = 0
        self.slowlog_slower_than = 10000
        self.slowlog_max_len = 128
        self.replica_read_only = True
        self.is_replica = False
        # True while something consumes `propagate` (a replication backlog or a replica): until
        # then `call` does no replication bookkeeping at all. The replication code sets it.
        self.propagating = False
        self.repl_guard = None  # replication's refusal check in dispatch (MASTERDOWN, NOREPLICAS), or None
        self.hz = 10
        # The hot path's view of the settings above (see plain_refresh): False until computed, and
        # again whenever a server-wide feature that process_command checks may have turned on.
        self.plain_ok = False
        self.plain_master_ok = False
        self.slowlog_s = 0.01  # slowlog-log-slower-than in seconds (infinite when off)
        self.config = shard_config.Config(self)
        for name, value in settings.items():
            self.config.set_startup(name.replace("_", "-"), str(value))

        self.dbs = [Database(self, i) for i in range(self.config.databases)]
        self.eviction = Eviction(self)
        self.eviction.configure()
        self.clients: dict[int, Client] = {}
        self._next_id = 0
        self.ready_keys: dict = {}
        self._serving_ready = False
        self.channels: dict = {}  # channel -> {client: None}
        self.patterns: dict = {}  # pattern -> {client: None}
        self.shard_channels: dict = {}
        self.monitors: list = []
        self.pause_mode = ""  # "", "write" or "all"
        self.pause_end = 0.0
        self.pause_timer = None
        self.paused_clients: set = set()
        self.blocked_clients = 0
        self.slowlog: deque = deque()
        self.slowlog_next_id = 0
        self.latency_events: dict = {}
        self.expiry = ExpiryCycle(self)
        self.tracking = None  # tracking.Tracking once a client turns CLIENT TRACKING on
        self.script_run = None  # the Lua script or function running now (scripting.ScriptRun)
        self.busy_script = None  # the same, once it ran past busy-reply-threshold: others get BUSY

        # statistics (INFO stats)
        self.dirty = 0
        self.lastsave = int(time())
        self.stat_numconnections = 0
        self.stat_numcommands = 0
        self.stat_rejected_calls = 0
        self.stat_failed_calls = 0
        self.stat_expired_keys = 0
        self.stat_evicted_keys = 0
        self.stat_keyspace_hits = 0
        self.stat_keyspace_misses = 0
        self.stat_protocol_errors = 0
        self.stat_rejected_conn = 0
        self.stat_pubsub_messages = 0
        self.stat_net_repl_input_bytes = 0  # replication traffic (INFO total_net_repl_*_bytes)
        self.stat_net_repl_output_bytes = 0

        from .replication import Replication

        self.repl = Replication(self)
        self.info_replication = self.repl.info_fields
        self.replicas = self.repl.replicas

        self._servers: list = []
        self._cron = None
        self._stopped: asyncio.Event | None = None

    # --- clock ---------------------------------------------------------------------------------
    def update_clock(self) -> None:
        self.now_ms = int(time() * 1000)

    def next_client_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # --- the hot path's flag ------------------------------------------------------------------------
    def hot_path_changed(self) -> None:
        """A server-wide feature that process_command checks may have turned on (MONITOR, CLIENT
        PAUSE, ACL rules, client-side caching, replication's guard or role, a busy script,
        any CONFIG SET): the next batch looks again (plain_refresh)."""
        self.plain_ok = False

    def plain_refresh(self) -> bool:
        """True when none of the server-wide features that process_command checks is on, so a
        plain command needs none of its steps (Client.plain_state adds the client's own); kept in
        `plain_ok` until hot_path_changed. `plain_master_ok` leaves out the read-only replica's
        refusal, which its primary's link does not get."""
        slower = self.slowlog_slower_than
        self.slowlog_s = slower / 1e6 if slower >= 0 else float("inf")
        self.plain_master_ok = not (self.monitors or self.pause_mode or self.acl_restricted
                                    or self.tracking is not None or self.repl_guard is not None
                                    or self.busy_script is not None)
        ok = self.plain_ok = self.plain_master_ok and not (self.is_replica and self.replica_read_only)
        return ok

    # --- clients -------------------------------------------------------------------------------
    def client_connected(self, c: Client) -> None:
        if len(self.clients) >= self.config.maxclients:
            self.stat_rejected_conn += 1
            c.transport.write(errors.error_frame(errors.MAX_CLIENTS))
            c.transport.close()
            return
        self.clients[c.id] = c
        self.stat_numconnections += 1

    def client_disconnected(self, c: Client) -> None:
        self.clients.pop(c.id, None)
        c.unblock()
        self.unwatch_all(c)
        self.unsubscribe_all(c)
        self.paused_clients.discard(c)
        if self.tracking is not None:
            self.tracking.disable(c)
        if c.monitor and c in self.monitors:
            self.monitors.remove(c)
        if c in self.replicas:
            self.repl.detach(c)

    def unwatch_all(self, c: Client) -> None:
        for db, key, _ in c.watched:
            clients = db.watched.get(key)
            if clients is not None:
                clients.discard(c)
                if not clients:
                    del db.watched[key]
        c.watched = []
        c.dirty_cas = False

    def unsubscribe_all(self, c: Client) -> None:
        for registry, mine in ((self.channels, c.subscriptions), (self.patterns, c.psubscriptions),
                               (self.shard_channels, c.ssubscriptions)):
            for ch in mine:
                subs = registry.get(ch)
                if subs is not None:
                    subs.pop(c, None)
                    if not subs:
                        del registry[ch]
            mine.clear()

    # --- pub/sub and notifications ---------------------------------------------------------------
    def publish(self, channel: bytes, message: bytes) -> int:
        """Deliver to channel subscribers and matching patterns; the number of receivers."""
        from .glob import glob_match

        n = 0
        subs = self.channels.get(channel)
        if subs:
            frame = Push([b"message", channel, message])
            for c in list(subs):
                c.push(frame)
                n += 1
        if self.patterns:
            for pattern, subs in list(self.patterns.items()):
                if glob_match(pattern, channel):
                    frame = Push([b"pmessage", pattern, channel, message])
                    for c in list(subs):
                        c.push(frame)
                        n += 1
        self.stat_pubsub_messages += 1
        return n

    def spublish(self, channel: bytes, message: bytes) -> int:
        subs = self.shard_channels.get(channel)
        if not subs:
            return 0
        frame = Push([b"smessage", channel, message])
        for c in list(subs):
            c.push(frame)
        return len(subs)

    def notify(self, klass: int, event: bytes, key: bytes, dbid: int) -> None:
        """notifyKeyspaceEvent: publish to __keyspace@db__:key and/or __keyevent@db__:event."""
        flags = self.notify_flags
        if not flags & klass:
            return
        if flags & NOTIFY_KEYSPACE:
            self.publish(b"__keyspace@%d__:%b" % (dbid, key), event)
        if flags & NOTIFY_KEYEVENT:
            self.publish(b"__keyevent@%d__:%b" % (dbid, event), key)

    def propagate(self, dbid: int, argv: list) -> None:
        """An effect for replicas (and the AOF): into the replication stream when there is one (callers
        on the hot path skip it while `self.propagating` is False)."""
        if self.propagating:
            self.repl.feed(dbid, argv)

    # --- function libraries in RDB files (persistence.py) ---------------------------------------
    def rdb_functions(self) -> list:
        from .scripting import rdb_libraries

        return rdb_libraries(self)

    def rdb_load_functions(self, sources: list, flush: bool = True, merge: bool = False) -> None:
        from .scripting import load_rdb_libraries

        load_rdb_libraries(self, sources, flush, merge)

    def propagate_begin(self) -> None:
        """Effects until propagate_end belong to one transaction (EXEC, a script): more than one
        are wrapped in MULTI ... EXEC in the stream, as Redis's propagatePendingCommands."""
        self.repl.batch_begin()

    def propagate_end(self) -> None:
        self.repl.batch_end()

    # --- blocking ----------------------------------------------------------------------------------
    def handle_ready_keys(self) -> None:
        """Serve clients blocked on keys that the last command made ready, oldest first."""
        if self._serving_ready:
            return
        self._serving_ready = True
        try:
            while self.ready_keys:
                ready = list(self.ready_keys)
                self.ready_keys.clear()
                for db, key in ready:
                    waiting = db.blocking.get(key)
                    if not waiting:
                        continue
                    for c in list(waiting):
                        st = c.blocked
                        if st is None or c.closing:
                            continue
                        if not st.unblock_on_nokey and not db.exists(key):
                            continue
                        c.retry_blocked()
        finally:
            self._serving_ready = False

    # --- pause -------------------------------------------------------------------------------------
    def pause(self, mode: str, timeout_ms: int) -> None:
        end = monotonic() + timeout_ms / 1000
        if self.pause_mode == "all" and mode == "write" and self.pause_end > monotonic():
            mode = "all"  # a weaker pause never shortens a stronger one
        self.pause_mode = mode
        self.hot_path_changed()
        self.pause_end = max(end, self.pause_end) if self.pause_mode else end
        if self.pause_timer is not None:
            self.pause_timer.cancel()
        self.pause_timer = self.loop.call_later(max(0.0, self.pause_end - monotonic()), self.unpause)

    def pause_applies(self, c: Client) -> bool:
        if monotonic() >= self.pause_end:
            self.unpause()
            return False
        return True

    def unpause(self) -> None:
        self.pause_mode = ""
        self.pause_end = 0.0
        if self.pause_timer is not None:
            self.pause_timer.cancel()
            self.pause_timer = None
        held = list(self.paused_clients)
        self.paused_clients.clear()
        for c in sorted(held, key=lambda x: x.id):
            c.resume()

    # --- slowlog, monitor, memory ----------------------------------------------------------------
    def slowlog_add(self, c: Client, argv: list, usec: int) -> None:
        shown = [a if len(a) <= 128 else a[:128] + b"... (%d more bytes)" % (len(a) - 128) for a in argv[:32]]
        if len(argv) > 32:
            shown[-1] = b"... (%d more arguments)" % (len(argv) - 31)
        self.slowlog.appendleft([self.slowlog_next_id, int(time()), usec, shown, c.addr.encode(), c.name])
        self.slowlog_next_id += 1
        while len(self.slowlog) > self.slowlog_max_len:
            self.slowlog.pop()

    def feed_monitors(self, c: Client, argv: list) -> None:
        from .handlers.introspection import monitor_line

        line = monitor_line(c, argv)
        for m in list(self.monitors):
            m.send(line)

    def used_memory(self) -> int:
        """Resident memory of this process (bytes): what INFO's used_memory reports."""
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def over_maxmemory(self) -> bool:
        """Over maxmemory by the dataset accounting eviction steers by (see eviction.py)."""
        return self.maxmemory > 0 and self.eviction.used() > self.maxmemory

    # --- lifecycle ---------------------------------------------------------------------------------
    def _cron_tick(self) -> None:
        try:
            self.expiry.run()
        except Exception:
            log.exception("active expiry")
        try:
            persistence_cron(self)
        except Exception:
            log.exception("save points")
        if self.pause_mode and monotonic() >= self.pause_end:
            self.unpause()
        self._cron = self.loop.call_later(1 / max(1, self.hz), self._cron_tick)

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        from .persistence import load_at_startup

        load_at_startup(self)  # dir/dbfilename, when the file exists (RdbError stops the start)
        self._stopped = asyncio.Event()
        for host in self.bind.split():
            srv = await self.loop.create_server(lambda: Client(self), host, self.port, reuse_address=True,
                                                backlog=511)
            if self.port == 0:
                self.port = srv.sockets[0].getsockname()[1]
            self._servers.append(srv)
        self._cron = self.loop.call_later(1 / self.hz, self._cron_tick)
        self.repl.start()

    async def stop(self, grace: float = 1.0) -> None:
        """Stop accepting, close every client, stop timers."""
        for srv in self._servers:
            srv.close()
        self.repl.stop()
        for c in list(self.clients.values()):
            if c.transport is not None:
                c.transport.close()
        if self._cron is not None:
            self._cron.cancel()
        for srv in self._servers:
            try:
                await asyncio.wait_for(srv.wait_closed(), grace)
            except (asyncio.TimeoutError, Exception):
                pass
        if self._stopped is not None:
            self._stopped.set()

    def request_stop(self) -> None:
        if self.loop is not None:
            save_on_shutdown(self)  # with save points configured, as Redis's SIGTERM handling
            self.loop.create_task(self.stop())

    async def serve_forever(self) -> None:
        await self.start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self.loop.add_signal_handler(sig, self.request_stop)
            except (NotImplementedError, RuntimeError):
                pass
        print(f"shard ready on {self.bind}:{self.port} pid {self.pid}", flush=True)
        await self._stopped.wait()


def install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m shard", description="Run one standalone shard (a Redis server).")
    p.add_argument("--port", type=int, default=6379, help="TCP port (0: any free port, printed at start)")
    p.add_argument("--bind", default="127.0.0.1", help="address(es) to listen on, space separated")
    p.add_argument("--requirepass", default="", help="password for AUTH")
    p.add_argument("--config", action="append", default=[], metavar="NAME=VALUE",
                   help="any setting CONFIG SET accepts, e.g. --config maxmemory=100mb (repeatable)")
    p.add_argument("--log-level", default="WARNING")
    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s shard[%(process)d] %(levelname)s %(message)s")
    settings = {}
    if args.requirepass:
        settings["requirepass"] = args.requirepass
    for item in args.config:
        name, _, value = item.partition("=")
        settings[name] = value
    install_uvloop()
    try:
        server = Server(port=args.port, bind=args.bind, **settings)
    except ValueError as e:
        print(f"shard: {e}", file=sys.stderr)
        return 2
    try:
        asyncio.run(server.serve_forever())
    except OSError as e:
        print(f"shard: cannot listen on {args.bind}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 1
    except RdbError as e:
        print(f"shard: cannot load the RDB file: {e}", file=sys.stderr)
        return 1
    return 0


