"""One client connection: the read-parse-dispatch-reply loop, and the client's state.

Replies produced while a read is processed are gathered and written once. A client that blocks
(BLPOP) or is held back by CLIENT PAUSE keeps the rest of its requests queued, in order, until it
resumes. Anything written to this client from elsewhere (a pub/sub message, the reply that wakes a
blocked client) goes to the same output, so order is kept.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from time import monotonic, time, time_ns

from amr_emulator.protocol.clients import address_text
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import NULL_ARRAY, RequestParser, encode2, encode3

from .dispatch import NO_REPLY, Blocked, Paused, process_command, propagate_effects, run_plain
from .keyspace import Database

log = logging.getLogger("shard")


class BlockState:
    __slots__ = ("entry", "argv", "db", "keys", "timer", "timeout_reply", "since", "unblock_on_nokey")

    def __init__(self, entry, argv, db, keys, timeout_reply, unblock_on_nokey=False):
        self.unblock_on_nokey = unblock_on_nokey
        self.entry = entry
        self.argv = argv
        self.db = db
        self.keys = keys
        self.timer = None
        self.timeout_reply = timeout_reply
        self.since = monotonic()


class Client(asyncio.Protocol):
    # Slots for the attributes read on the hot path (a plain instance with this many attributes
    # gets slow, unspecialised attribute access); "__dict__" keeps room for attributes other
    # modules add.
    __slots__ = ("server", "transport", "parser", "id", "addr", "laddr", "name", "lib_name", "lib_ver", "db",
                 "resp", "encode", "authenticated", "user", "out", "reply_sink", "reply_mode", "in_batch",
                 "closing", "queue", "multi", "multi_error", "in_exec", "watched", "dirty_cas", "subscriptions",
                 "psubscriptions", "ssubscriptions", "blocked", "paused", "is_master", "no_evict", "no_touch",
                 "monitor", "ctime", "last_interaction", "cmd_name", "rewritten", "__dict__", "__weakref__")

    def __init__(self, server):
        self.server = server
        self.transport = None
        self.parser = RequestParser(server.proto_max_bulk_len)
        self.id = server.next_client_id()
        self.addr = "?:0"
        self.laddr = "?:0"
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.db = server.dbs[0]
        self.resp = 2
        self.encode = encode2
        self.authenticated = not server.requirepass
        self.parser.require_auth = not self.authenticated
        self.user = b"default"
        self.out: list = []
        self.reply_sink = None  # a list while EXEC gathers replies
        self.reply_mode = 0  # CLIENT REPLY: 0 on, 1 off, 2 skip this reply, 3 skip the next
        self.in_batch = False
        self.closing = False
        self.queue: deque = deque()  # requests read but not yet run (blocked or paused)
        self.multi = None  # the queued commands of an open MULTI
        self.multi_error = False
        self.in_exec = False
        self.watched: list = []  # (db, key) pairs
        self.dirty_cas = False
        self.subscriptions: dict = {}
        self.psubscriptions: dict = {}
        self.ssubscriptions: dict = {}
        self.blocked: BlockState | None = None
        self.paused = False
        self.is_master = False  # the replication link of a replica (issue 4)
        self.no_evict = False
        self.no_touch = False
        self.monitor = False
        self.ctime = time()
        self.last_interaction = int(self.ctime * 1000)  # ms of the wall clock, as Redis's lastinteraction
        self.cmd_name = "NULL"
        self.rewritten = None  # effects to replicate instead of the request (propagate_as)

    # --- properties the handlers read -----------------------------------------------------
    @property
    def pubsub_count(self) -> int:
        return len(self.subscriptions) + len(self.psubscriptions) + len(self.ssubscriptions)

    @property
    def deny_blocking(self) -> bool:
        return self.in_exec

    def set_resp(self, version: int) -> None:
        self.resp = version
        self.encode = encode3 if version == 3 else encode2

    def select(self, dbid: int) -> None:
        self.db = self.server.dbs[dbid]

    def changed(self, key: bytes, klass: int, event: bytes) -> None:
        """A write happened: invalidate WATCHes, count it, send the keyspace notification."""
        db = self.db
        server = self.server
        # Database.changed: WATCHes, client-side caching, and a database accounting memory/clocks
        if db.watched or server.tracking is not None or type(db) is not Database:
            db.changed(key)
        server.dirty += 1
        if server.notify_flags & klass:
            server.notify(klass, event, key, db.id)

    def propagate_as(self, *effects: list) -> None:
        """Replicate these commands instead of the request (e.g. SET EX as SET PXAT, SPOP as SREM).
        Call with no argument to replicate nothing. A no-op while nothing replicates."""
        if self.server.propagating:
            self.rewritten = list(effects)

    def notify(self, klass: int, event: bytes, key: bytes) -> None:
        """A keyspace notification alone (a second event of one command, e.g. `del` after `lpop`)."""
        if self.server.notify_flags & klass:
            self.server.notify(klass, event, key, self.db.id)

    # --- output -----------------------------------------------------------------------------
    def reply(self, value) -> None:
        sink = self.reply_sink
        if sink is not None:
            sink.append(value)
            return
        mode = self.reply_mode
        if mode:  # CLIENT REPLY: 1 off, 2 skip this reply, 3 skip the next one
            if mode == 1:
                return
            self.reply_mode = 0 if mode == 2 else 2
            return
        if value is NO_REPLY:
            return
        self.out.append(self.encode(value))

    def send(self, data: bytes) -> None:
        """Write bytes produced outside this client's own request (kept in order with its replies)."""
        if self.in_batch:
            self.out.append(data)
        elif self.transport is not None and not self.closing:
            self.transport.write(data)

    def push(self, value) -> None:
        """A pub/sub message or other out-of-band frame (a push in RESP3)."""
        self.send(self.encode(value))

    def flush(self) -> None:
        out = self.out  # emptied in place: run_plain holds it
        if out and self.transport is not None:
            data = b"".join(out) if len(out) > 1 else out[0]
            out.clear()
            self.transport.write(data)

    def close_after_reply(self) -> None:
        self.closing = True

    # --- the asyncio protocol ----------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.addr = address_text(transport.get_extra_info("peername"))
        self.laddr = address_text(transport.get_extra_info("sockname"))
        self.server.client_connected(self)

    def connection_lost(self, exc) -> None:
        self.transport = None
        self.closing = True
        self.queue.clear()
        self.server.client_disconnected(self)

    def plain_state(self) -> bool:
        """True when no check of process_command can apply to a plain command (Entry.plain) on
        this connection: no MULTI, no RESP2 pub/sub context, authenticated, replies on (or the
        primary's link, whose replies are dropped), and none of
        the server-wide features (Server.plain_refresh: MONITOR, CLIENT PAUSE, ACL
        rules, tracking, replication's guard, a busy script; run_plain makes maxmemory's check
        itself), or only a read-only replica's role
        while this is its primary's link. Plain commands cannot change any of these, so one check
        serves a batch of them (dispatch.run_plain); data_received inlines it."""
        server = self.server
        return (self.multi is None and self.authenticated and (not self.reply_mode or self.is_master)
                and (self.resp == 3 or not (self.subscriptions or self.psubscriptions or self.ssubscriptions))
                and (server.plain_ok or server.plain_refresh() or (self.is_master and server.plain_master_ok)))

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        requests, error = self.parser.read(data)
        server = self.server
        server.now_ms = self.last_interaction = time_ns() // 1000000  # Server.update_clock
        if self.queue or self.blocked is not None or self.paused:
            self.queue.extend(requests)
            if error is not None:
                self.queue.append(error)
            return
        self.in_batch = True
        try:
            if ((server.plain_ok and self.multi is None and self.authenticated and not self.reply_mode
                 and (self.resp == 3 or not (self.subscriptions or self.psubscriptions or self.ssubscriptions)))
                    or self.plain_state()):
                i = run_plain(self, requests)
                if i != len(requests) or error is not None:
                    self.run_batch(requests, i, error)
            else:
                self.run_batch(requests, 0, error)
        finally:
            self.in_batch = False
            out = self.out  # flush()
            if out:
                transport = self.transport
                if transport is not None:
                    transport.write(out[0] if len(out) == 1 else b"".join(out))
                out.clear()
            if self.closing and self.transport is not None:
                self.transport.close()

    def run_batch(self, requests: list, i: int, error) -> None:
        """Run requests[i:] one by one (process_command), then answer a protocol error; what a
        block or a pause holds back waits in the queue."""
        n = len(requests)
        while i < n:
            if self.blocked is not None or self.closing:
                if not self.closing:
                    self.queue.extend(requests[i:])
                    if error is not None:
                        self.queue.append(error)
                return
            try:
                process_command(self, requests[i])
            except Paused:
                self.hold(requests, i)
                return
            i += 1
        if self.blocked is not None or self.closing:
            if not self.closing and error is not None:
                self.queue.append(error)
            return
        if error is not None:
            self.protocol_error(error)

    def protocol_error(self, error) -> None:
        self.reply_mode = 0
        self.reply(RespError(error.message))
        self.server.stat_protocol_errors += 1
        self.closing = True

    def run_queue(self) -> None:
        """Run the requests held back, until the queue is empty or the client blocks again."""
        self.server.update_clock()
        self.in_batch = True
        try:
            while self.queue and self.blocked is None and not self.closing and not self.paused:
                argv = self.queue.popleft()
                if not isinstance(argv, list):
                    self.protocol_error(argv)
                    break
                try:
                    process_command(self, argv)
                except Paused:
                    self.queue.appendleft(argv)
                    self.paused = True
                    self.server.paused_clients.add(self)
                    break
        finally:
            self.in_batch = False
            self.flush()
            if self.closing and self.transport is not None:
                self.transport.close()

    def resume_later(self) -> None:
        """Send what is gathered and run the rest of the pipeline on the next loop turn, never
        nested inside another client's command (Redis's processUnblockedClients)."""
        self.flush()
        if self.queue:
            self.server.loop.call_soon(self.run_queue)

    def hold(self, requests, i) -> None:
        self.queue.extend(requests[i:])
        self.paused = True
        self.server.paused_clients.add(self)
        if self.transport is not None:
            self.transport.pause_reading()

    def resume(self) -> None:
        """CLIENT PAUSE ended."""
        self.paused = False
        if self.transport is not None:
            self.transport.resume_reading()
        self.run_queue()

    # --- blocking -----------------------------------------------------------------------------
    def block(self, entry, argv, b: Blocked) -> None:
        server = self.server
        st = BlockState(entry, argv, self.db, b.keys, b.timeout_reply, b.unblock_on_nokey)
        self.blocked = st
        for key in b.keys:
            waiting = self.db.blocking.get(key)
            if waiting is None:
                waiting = self.db.blocking[key] = deque()
            waiting.append(self)
        if b.timeout > 0:
            st.timer = server.loop.call_later(b.timeout, self.block_timeout)
        server.blocked_clients += 1

    def unblock(self) -> None:
        st = self.blocked
        if st is None:
            return
        self.blocked = None
        self.server.blocked_clients -= 1
        if st.timer is not None:
            st.timer.cancel()
        blocking = st.db.blocking
        for key in st.keys:
            waiting = blocking.get(key)
            if waiting is not None:
                try:
                    waiting.remove(self)
                except ValueError:
                    pass
                if not waiting:
                    del blocking[key]

    def block_timeout(self) -> None:
        st = self.blocked
        if st is None:
            return
        self.unblock()
        self.in_batch = True
        try:
            self.reply(NULL_ARRAY if st.timeout_reply is None else st.timeout_reply)
        finally:
            self.in_batch = False
        self.resume_later()

    def retry_blocked(self) -> bool:
        """Run the blocked command again (its key became ready). True if it was served."""
        st = self.blocked
        saved_db = self.db
        self.db = st.db
        server = self.server
        self.in_batch = True
        try:
            dirty = server.dirty
            try:
                result = st.entry.handler(self, st.argv)
            except Blocked:
                return False
            except RespError as e:
                result = e
            self.unblock()
            st.entry.stats[0] += 1
            self.reply(result)
            if server.propagating and (server.dirty != dirty or self.rewritten is not None):
                propagate_effects(self, st.argv)
        finally:
            self.in_batch = False
            if self.db is st.db:
                self.db = saved_db
        self.flush()
        if self.queue:
            # Redis runs the rest of an unblocked client's pipeline later (processUnblockedClients,
            # in beforeSleep): after every client blocked on the ready keys had its turn
            server.loop.call_soon(self.run_queue)
        return True

    def unblock_with(self, value) -> None:
        """CLIENT UNBLOCK / CLIENT KILL-like wake-ups: end the block with `value` as the reply."""
        if self.blocked is None:
            return
        self.unblock()
        self.in_batch = True
        try:
            self.reply(value)
        finally:
            self.in_batch = False
        self.resume_later()
