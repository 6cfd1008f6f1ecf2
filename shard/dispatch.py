"""Command dispatch, in Redis's processCommand order:

unknown command -> arity -> auth -> pub/sub context (RESP2) -> OOM -> read-only replica -> MULTI
queuing -> call. A rejection inside MULTI flags the transaction (EXECABORT at EXEC).

`call` runs one handler with the bookkeeping Redis's call() does: stats, slowlog, monitors, the
clients blocked on keys this command made ready, replication (only while `server.propagating`).

`run_plain` is the hot path: a batch of requests on a connection whose state needs none of the
checks above (see `Client.plain_state`) runs its plain commands (`Entry.plain`) with the same
effects and replies as `process_command`, without the checks that cannot apply to them.
"""
from __future__ import annotations

import logging
from time import perf_counter, perf_counter_ns

from amr_emulator.protocol import errors
from amr_emulator.protocol.commands import COMMANDS
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import OK, QUEUED

from . import internal
from .acl import check_command, check_queued
from .eviction import STARTUP_MEMORY, reject_oom
from .handlers import load_all

log = logging.getLogger("shard")


class _NoReply:
    """Returned by a handler that replied by itself (SUBSCRIBE: a frame per channel) or must not
    reply at all (CLIENT REPLY OFF)."""

    __slots__ = ()


NO_REPLY = _NoReply()


class Blocked(Exception):
    """Raised by a blocking handler that found nothing to serve: park the client on `keys`."""

    def __init__(self, keys, timeout: float, timeout_reply=None, unblock_on_nokey: bool = False):
        self.keys = keys
        self.timeout = timeout  # seconds; 0 = forever
        self.timeout_reply = timeout_reply
        self.unblock_on_nokey = unblock_on_nokey  # re-run also when a key is deleted (XREADGROUP)


def retrying_in_vain(c, keys, typ) -> bool:
    """True when a blocked client is re-run but none of its keys holds a value of the type it waits
    for (`typ`: one became a string, say): Redis re-runs a blocked command only for a ready key of
    that type, so the client stays blocked."""
    if c.blocked is None:
        return False
    lookup = c.db.lookup
    for key in keys:
        if type(lookup(key)) is typ:
            return False
    return True


class Paused(Exception):
    """Raised by dispatch when CLIENT PAUSE holds this command back."""


class Entry:
    """A command as dispatch sees it: its spec and its handler (None for a container)."""

    __slots__ = ("spec", "handler", "name", "arity", "min_argc", "max_argc", "is_write", "flags", "subs", "denyoom", "allowed_in_pubsub",
                 "no_auth", "stats", "skip_monitor", "may_pause", "plain", "argc_ok")

    def __init__(self, spec, handler):
        self.spec = spec
        self.handler = handler
        self.name = spec.name
        self.arity = spec.arity
        self.min_argc = abs(spec.arity)  # the arity as a range: min_argc <= len(argv) <= max_argc
        self.max_argc = spec.arity if spec.arity > 0 else 1 << 62
        # the same as a table by len(argv) (run_plain: one subscript); longer requests check the range
        self.argc_ok = bytes(self.min_argc <= n <= self.max_argc for n in range(_ARGC_TABLE))
        self.flags = spec.flags
        self.is_write = "write" in spec.flags
        self.denyoom = "denyoom" in spec.flags
        self.no_auth = "no_auth" in spec.flags
        self.skip_monitor = "skip_monitor" in spec.flags or "admin" in spec.flags
        self.subs: dict | None = None
        self.allowed_in_pubsub = spec.name in _PUBSUB_ALLOWED
        self.may_pause = self.is_write or spec.name in ("publish", "spublish", "eval", "evalsha", "fcall")
        self.stats = [0, 0, 0, 0]  # calls, usec, rejected_calls, failed_calls
        # A plain command cannot change what `Client.plain_state` checks (MULTI, pub/sub, AUTH,
        # CLIENT PAUSE/REPLY, MONITOR, CONFIG, replication: all noscript or admin), does not block,
        # and has no subcommands: `run_plain` runs it. INFO reads the counters run_plain keeps in
        # locals until the batch ends.
        self.plain = (handler is not None and not (spec.flags & _NOT_PLAIN) and not spec.subcommands
                      and spec.name not in ("info",))


_ARGC_TABLE = 64
_PUBSUB_ALLOWED = frozenset(["ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe",
                             "punsubscribe", "quit", "reset"])
_NOT_PLAIN = frozenset(["noscript", "admin", "blocking"])
_MULTI_IMMEDIATE = frozenset([b"exec", b"discard", b"multi", b"watch", b"quit", b"reset"])


def build_table() -> dict:
    """bytes name -> Entry, for every implemented command; containers carry their subcommands."""
    handlers = load_all()
    table = {}
    for name, spec in COMMANDS.items():
        if spec.subcommands:
            entry = Entry(spec, None)
            entry.subs = {}
            for sub, sub_spec in spec.subcommands.items():
                h = handlers.get(sub_spec.name)
                if h is not None:
                    entry.subs[sub.encode()] = Entry(sub_spec, h)
            if name in handlers:  # a container that also answers alone (COMMAND)
                entry.handler = handlers[name]
            table[name.encode()] = entry
        elif name in handlers:
            table[name.encode()] = Entry(spec, handlers[name])
    return table


def build_plain_table(table: dict) -> dict:
    """The plain commands (Entry.plain) by name as clients send it: lower and upper case."""
    plain = {}
    for name, entry in table.items():
        if entry.plain:
            plain[name] = entry
            plain[name.upper()] = entry
    return plain


def _reject(c, message: str, entry=None) -> None:
    if entry is not None and entry.name == "exec":  # execCommandAbort, in a transaction or not
        c.multi = None
        c.multi_error = False
        c.server.unwatch_all(c)
        message = errors.execabort_because(message)
    elif c.multi is not None:
        c.multi_error = True
    if entry is not None:
        entry.stats[2] += 1
    c.server.stat_rejected_calls += 1
    c.reply(RespError(message))


def process_command(c, argv: list) -> None:
    """Execute one request for client `c`, appending its reply. Raises Paused to hold it back."""
    server = c.server
    name = argv[0].lower()
    entry = server.table.get(name)
    if entry is None:
        if internal.is_internal(c, name):   # the proxy's own commands (shard/internal.py)
            internal.run(c, argv)
            return
        _reject(c, errors.unknown_command(argv[0], argv[1:]))
        return
    if entry.subs is not None:
        if len(argv) == 1:
            if entry.handler is None:
                _reject(c, errors.wrong_arity(entry.name), entry)
                return
        else:
            sub = entry.subs.get(argv[1].lower())
            if sub is None:
                _reject(c, errors.unknown_subcommand(argv[1], argv[0]))
                return
            entry = sub
    argc = len(argv)
    if not entry.min_argc <= argc <= entry.max_argc:
        _reject(c, errors.wrong_arity(entry.name), entry)
        return
    if not c.authenticated and not entry.no_auth:
        _reject(c, errors.NOAUTH, entry)
        return
    if server.acl_restricted:  # the ACL step; never taken while only an all-permissive default exists
        denied = check_command(c, entry, argv)
        if denied is not None:
            _reject(c, denied, entry)
            return
    if c.resp == 2 and (c.subscriptions or c.psubscriptions or c.ssubscriptions) and not entry.allowed_in_pubsub:
        _reject(c, errors.pubsub_context(entry.name), entry)
        return
    if server.maxmemory and reject_oom(c, entry, name):  # performEvictions, then OOM for denyoom
        _reject(c, errors.OOM, entry)
        return
    if entry.is_write and server.is_replica and server.replica_read_only and not c.is_master:
        _reject(c, errors.READONLY, entry)
        return
    if server.repl_guard is not None:  # replication's refusals (NOREPLICAS, MASTERDOWN), when armed
        refusal = server.repl_guard(c, entry)
        if refusal is not None:
            _reject(c, refusal, entry)
            return
    if server.busy_script is not None and "allow_busy" not in entry.flags:
        _reject(c, errors.BUSY_EVAL if server.busy_script.is_eval else errors.BUSY_FUNCTION, entry)
        return
    if c.multi is not None and name not in _MULTI_IMMEDIATE:
        if c.multi_error:
            c.reply(QUEUED)
            return
        c.multi.append((entry, argv))
        c.reply(QUEUED)
        return
    if server.pause_mode and not c.is_master and (server.pause_mode == "all" or entry.may_pause):
        if server.pause_applies(c):
            raise Paused()
    call(c, entry, argv)


def call(c, entry, argv: list) -> None:
    """Run the handler and reply; the bookkeeping of Redis's call()."""
    server = c.server
    stats = entry.stats
    if server.monitors and not entry.skip_monitor:
        server.feed_monitors(c, argv)
    c.cmd_name = entry.name
    tracking = server.tracking
    if tracking is not None:  # client-side caching: who is running (NOLOOP, deferred invalidations)
        tracking.current = c
    dirty = server.dirty
    start = perf_counter_ns()
    try:
        result = entry.handler(c, argv)
    except RespError as e:
        stats[3] += 1
        server.stat_failed_calls += 1
        c.reply(e)
    except Blocked as b:
        c.block(entry, argv, b)
    except Exception:  # a bug of ours: log it, answer an error, serve on
        log.exception("error executing %r", argv[:4])
        stats[3] += 1
        c.reply(RespError(errors.internal_error(entry.name)))
    else:
        c.reply(result)
    usec = (perf_counter_ns() - start) // 1000
    if server.propagating and (server.dirty != dirty or c.rewritten is not None):
        propagate_effects(c, argv)
    stats[0] += 1
    stats[1] += usec
    server.stat_numcommands += 1
    if usec >= server.slowlog_slower_than >= 0:
        server.slowlog_add(c, argv, usec)
    if tracking is not None:  # remember the keys read; send invalidations held for this reply
        tracking.after_call(c, entry, argv)
    if server.ready_keys and not c.in_exec:
        server.handle_ready_keys()


# `$<len>\r\n` for the bulk replies of run_plain (short strings: GET's usual reply)
_BULK_HEADERS = [b"$%d\r\n" % n for n in range(1024)]


def run_plain(c, requests: list) -> int:
    """Run `requests` from the first while they are plain commands with a valid arity, exactly as
    `process_command` would (its checks cannot apply: the caller made sure of `c.plain_state()`);
    the number run. The rest goes through process_command.

    Per command: one dictionary lookup for the entry and one subscript for its arity, the handler,
    the reply encoded straight into the output (+OK, a nil, an integer; a short bulk as three
    pieces that the batch's one join puts together; the rest by the client's encoder), one clock
    reading (a command's time runs from the previous reading) for the slowlog. The stats of a run
    of the same command (a pipeline of SETs) are added once, when the run ends: calls, and the
    run's time (as Redis, which sums each call's difference of microsecond clock readings); the
    command counter and the client's last command are written once at the end of the batch. INFO,
    which reads them, is not plain."""
    server = c.server
    plain = server.plain_table
    out = c.out
    ready_keys = server.ready_keys
    slow = server.slowlog_s
    propagating = server.propagating
    nil = b"_\r\n" if c.resp == 3 else b"$-1\r\n"
    # under maxmemory, each command first finds the dataset within it (reject_oom's common case); once
    # it is not, the rest goes through process_command, which evicts or refuses (never the primary's)
    eviction = server.eviction
    room = server.maxmemory - STARTUP_MEMORY if server.maxmemory and not c.is_master else None
    dirty = 0
    done = 0
    cur = None  # the command of the current run, its first call's index and start time
    mark = 0
    start = run_start = perf_counter()
    try:
        for argv in requests:
            if room is not None and eviction.dataset > room:
                break
            try:
                entry = plain[argv[0]]
                if not entry.argc_ok[len(argv)]:
                    break
            except (KeyError, IndexError):  # a name in mixed case, or 64 arguments or more
                entry = plain.get(argv[0].lower())
                if entry is None or not entry.min_argc <= len(argv) <= entry.max_argc:
                    break
            if entry is not cur:
                if cur is not None:
                    stats = cur.stats
                    stats[0] += done - mark
                    stats[1] += (start - run_start) * 1e6  # a float: INFO prints it as %d
                cur = entry
                mark = done
                run_start = start
            if propagating:
                dirty = server.dirty
            try:
                result = entry.handler(c, argv)
            except RespError as e:
                entry.stats[3] += 1
                server.stat_failed_calls += 1
                result = e
            except Blocked as b:  # no plain command blocks; if one did, as call() does
                c.block(entry, argv, b)
                result = NO_REPLY
            except Exception:  # a bug of ours: log it, answer an error, serve on
                log.exception("error executing %r", argv[:4])
                entry.stats[3] += 1
                result = RespError(errors.internal_error(entry.name))
            if result is OK:
                out.append(b"+OK\r\n")
            elif type(result) is bytes:  # a bulk string, the same in RESP2 and RESP3
                n = len(result)
                if n < 1024:
                    out.append(_BULK_HEADERS[n])
                    out.append(result)
                    out.append(b"\r\n")
                else:
                    out.append(b"$%d\r\n%b\r\n" % (n, result))
            elif result is None:
                out.append(nil)
            elif type(result) is int:
                out.append(b":%d\r\n" % result)
            elif result is not NO_REPLY:
                out.append(c.encode(result))
            now = perf_counter()
            if now - start >= slow:
                server.slowlog_add(c, argv, int((now - start) * 1e6))
            start = now
            done += 1
            if propagating and (server.dirty != dirty or c.rewritten is not None):
                propagate_effects(c, argv)
            if ready_keys:
                server.handle_ready_keys()
                now = perf_counter()
                run_start += now - start  # not the command's time
                start = now
            if result is NO_REPLY and c.blocked is not None:
                break
    finally:
        if cur is not None:
            stats = cur.stats
            stats[0] += done - mark
            stats[1] += (start - run_start) * 1e6  # a float: INFO prints it as %d
            server.stat_numcommands += done
            c.cmd_name = cur.name
    return done


def propagate_effects(c, argv: list) -> None:
    """Send the command's effects to replicas: the request itself, unless the handler rewrote it
    (`c.propagate_as`), as Redis's rewriteClientCommandVector / alsoPropagate. Called only while
    `server.propagating`."""
    rewritten = c.rewritten
    server = c.server
    if rewritten is None:
        server.propagate(c.db.id, argv)
    else:
        c.rewritten = None
        for effect in rewritten:
            server.propagate(c.db.id, effect)
    c.woff = server.repl.master_repl_offset  # WAIT waits for replicas to reach this client's writes


def run_exec(c, queued: list) -> list:
    """Run a transaction's queued commands; each reply (errors included) goes into the EXEC array."""
    replies = []
    c.in_exec = True
    saved = c.reply_sink
    c.reply_sink = replies
    try:
        for entry, argv in queued:
            if entry.is_write and c.server.is_replica and c.server.replica_read_only and not c.is_master:
                replies.append(RespError(errors.READONLY))
                continue
            if c.server.acl_restricted:  # ACL rules may have changed since the command was queued
                denied = check_queued(c, entry, argv)
                if denied is not None:
                    replies.append(RespError(denied))
                    continue
            call(c, entry, argv)
    finally:
        c.reply_sink = saved
        c.in_exec = False
    if c.server.ready_keys:
        c.server.handle_ready_keys()
    return replies
