"""One client connection to the proxy: its state and the read-route-reply loop.

Each request becomes a reply *slot* in the client's `pending` queue, in request order; a slot is
filled by the proxy itself (AUTH, HELLO, CLIENT, CLUSTER, errors) or by a shard's reply (relayed as
the raw bytes the shard sent), or by the merge of several shards' replies (fanout.py). Filled slots
are written from the head of the queue only, so replies keep the client's order even when a
pipeline spans shards and shards answer out of order.

Shared connections (backend.Pool, one per shard) carry stateless requests. A client's state lives on connections of
its own:
- WATCH: a dedicated connection to the watched keys' shard; MULTI ... EXEC go there too. Without
  WATCH, the proxy queues the transaction itself (answering QUEUED) and sends `MULTI, commands, EXEC`
  in one write to the shard of its keys, so a shared connection carries it atomically.
- Blocking commands (BLPOP ... BZMPOP, XREAD/XREADGROUP, WAIT): a dedicated connection to the key's
  shard; the client's later requests wait until the blocking one is answered, as in Redis.
- SUBSCRIBE / PSUBSCRIBE: a subscribed connection to *every* primary of the cache, so a message
  published on any shard, a keyspace notification included, reaches the client. PUBLISH goes to one
  shard, the primary of the channel's slot, so each subscriber gets each message once, and the count
  PUBLISH returns is every subscriber's. SSUBSCRIBE: the channel's shard only; SPUBLISH likewise.
  The proxy answers the (un)subscribe confirmations itself, once every shard has confirmed.
- MONITOR: a connection to every primary in MONITOR mode; their lines are relayed.
"""
from __future__ import annotations

import asyncio
import hmac
from binascii import crc_hqx
import logging
import re
from collections import deque
from time import monotonic, time

from amr_emulator.protocol import clients as client_args
from amr_emulator.protocol import errors
from amr_emulator.protocol.clients import address_text
from amr_emulator.protocol.commands import REDIS_COMMANDS, get_keys, lookup
from amr_emulator.protocol.commands.supported import AMR_CONFIG_SET_ALLOWED, AMR_REFUSED
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import (NULL_ARRAY, OK, Push, Simple, SpanParser, Verbatim, decode_reply, encode2, encode3,
                                        encode_command, string2ll)
from amr_emulator.protocol.slots import key_slot

from . import backend as backend_mod
from . import cluster, fanout
from .backend import SHARD_DOWN, Backend, reply_end

log = logging.getLogger("proxy")

_dirty_clients: list = []


def _late_write(transport, data: bytes) -> None:
    if not transport.is_closing():
        transport.write(data)


def flush_clients() -> None:
    global _dirty_clients
    if _dirty_clients:
        dirty, _dirty_clients = _dirty_clients, []
        for c in dirty:
            c.flush()


backend_mod.set_flush_clients(flush_clients)

#: AMR's rules for clients, from the command table's hand-kept part (bytes, as requests arrive).
REFUSED = frozenset(n.encode() for n in AMR_REFUSED)
CONFIG_SET_ALLOWED = frozenset(n.encode() for n in AMR_CONFIG_SET_ALLOWED)

#: Commands that may block (the table's `blocking` flag) and WAIT/WAITAOF: a connection of their own.
_BLOCKING = frozenset([n for n, spec in REDIS_COMMANDS.items() if "blocking" in spec.flags] + ["wait", "waitaof"])
_MULTI_IMMEDIATE = frozenset([b"exec", b"discard", b"multi", b"watch", b"quit", b"reset"])
_PUBSUB_ALLOWED = frozenset([b"ping", b"subscribe", b"ssubscribe", b"unsubscribe", b"sunsubscribe", b"psubscribe",
                             b"punsubscribe", b"quit", b"reset"])
_MESSAGE_KINDS = frozenset([b"message", b"pmessage", b"smessage"])
_FAN_KEYLESS = {"dbsize": fanout.merge_sum, "keys": fanout.merge_concat, "flushall": fanout.merge_first,
                "flushdb": fanout.merge_first, "randomkey": fanout.merge_random,
                "config|resetstat": fanout.merge_first, "client|pause": fanout.merge_first,
                "client|unpause": fanout.merge_first, "script|load": fanout.merge_first,
                "script|flush": fanout.merge_first, "function|load": fanout.merge_first,
                "function|delete": fanout.merge_first, "function|flush": fanout.merge_first,
                "function|restore": fanout.merge_first, "pubsub|shardchannels": fanout.merge_union,
                "pubsub|shardnumsub": fanout.merge_numsub}
_CMD_CACHE: dict = {}
_WAIT_LIKE = frozenset(["wait", "waitaof"])
#: Single-key commands routed by their key, by argument count: `_FAST[len(argv)]` maps a request name as
#: sent to the command's name, for the counts its arity allows (requests of _FAST_ARGC or more arguments
#: take the general path).
_FAST_ARGC = 16
_FAST: list = [{} for _ in range(_FAST_ARGC)]


def _fast_add(head: bytes, arity: int, name: str) -> None:
    for argc in range(_FAST_ARGC):
        if argc == arity or (arity < 0 and argc >= -arity):
            _FAST[argc][head] = name
#: Commands the proxy answers itself though the shards do not serve them.
_PROXY_ONLY = frozenset(["cluster", "asking", "readonly", "readwrite"])


def lookup_spec(argv: list):
    """The command table's spec for a request (a subcommand's for a container), or None."""
    spec = lookup(argv)
    if spec is None:
        name = argv[0].decode("latin-1").lower()
        if name in _PROXY_ONLY:
            spec = REDIS_COMMANDS[name]
            if spec.subcommands and len(argv) > 1:
                return spec.subcommands.get(argv[1].decode("latin-1").lower())
    return spec


def encode_request(argv: list) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join([b"$%d\r\n%b\r\n" % (len(a), a) for a in argv])


class Slot:
    """One reply owed to the client, in order."""

    __slots__ = ("client", "data", "skip", "transform", "close_after", "count", "argv", "argvs", "retries")

    def __init__(self, client):
        self.client = client
        self.count = 1  # replies it takes (a run of requests to one connection)
        self.data = None
        self.skip = False
        self.transform = None
        self.close_after = False
        self.argv = None  # a keyed request sent alone: re-routed if its shard was demoted (READONLY)
        self.argvs = None  # keyed requests sent together (count of them): likewise, one by one
        self.retries = 0

    def on_reply(self, data: bytes) -> None:
        if self.argv is not None:
            if data[0] == 45 and data.startswith(b"-READONLY ") and self.count == 1 and self.client.rerouted(self):
                return
        elif self.argvs is not None and data.find(b"-READONLY ") >= 0:
            self.client.reroute_each(self, data)
            return
        if data[0] == 45 and data.startswith(SHARD_DOWN) and not self.client.internal:
            # the shard was lost under the request: the client's connection closes (a connection error
            # it retries, as AMR's clients see in a failover), never an error reply in its place
            self.skip = True
            self.close_after = True
        elif self.transform is not None:
            try:
                data = self.transform(data)
            except Exception:  # noqa: BLE001
                log.exception("reply transform failed")
        self.data = data
        c = self.client
        pending = c.pending
        if pending and pending[0] is self:  # else an earlier reply is still owed: this one waits for it
            if len(pending) == 1 and not self.skip and not self.close_after and c.held is not self:
                pending.clear()  # the one reply owed, the common case of a client waiting for it
                c.out.append(data)
                if not c.dirty:
                    c.dirty = True
                    _dirty_clients.append(c)
            else:
                c.slot_done(self)


class Gather(Slot):
    """The replies to a client's pipeline sent over several shard connections: each connection got its
    requests in one piece and answers them in one piece (a GatherPart); once every part is in, the
    replies are put back in request order."""

    __slots__ = ("route", "parts", "left", "lost")

    def __init__(self, client, route: list, nparts: int):
        Slot.__init__(self, client)
        self.count = len(route)
        self.route = route  # per request, the index of its connection's part
        self.parts = [None] * nparts
        self.left = nparts
        self.lost = -1  # a part whose shard was lost (its replies all SHARD_DOWN)

    def part_done(self, index: int, data: bytes) -> None:
        self.parts[index] = data
        if data[0] == 45 and data.startswith(SHARD_DOWN):
            self.lost = index
        self.left -= 1
        if not self.left:
            self.on_reply(self.merge())

    def merge(self) -> bytes:
        parts = self.parts
        lost = self.lost
        pos = [0] * len(parts)
        out = []
        for k in self.route:
            if k == lost:
                # the replies before the first request a lost shard had, then the connection closes
                # (see Slot.on_reply)
                self.argvs = None
                if not out:
                    return SHARD_DOWN
                self.close_after = True
                break
            buf = parts[k]
            p = pos[k]
            t = buf[p]
            if (t == 43 or t == 45 or t == 58) and buf[p + 1] != 13 and buf[p + 2] != 13 and buf[p + 3] == 13:
                end = p + 5  # +OK
            elif t == 36 and buf[p + 2] == 13:  # a bulk of under ten bytes
                end = p + buf[p + 1] - 42
            else:
                end = reply_end(buf, p)
            out.append(buf[p:end])
            pos[k] = end
        return b"".join(out)


class GatherPart:
    """The waiter of a Gather's requests on one connection."""

    __slots__ = ("gather", "index", "count")

    def __init__(self, gather: Gather, index: int, count: int):
        self.gather = gather
        self.index = index
        self.count = count

    def on_reply(self, data: bytes) -> None:
        self.gather.part_done(self.index, data)


class _Drop:
    """Waiter of a request whose reply the client must not see (MULTI / QUEUED of a transaction)."""

    __slots__ = ()
    count = 1

    def on_reply(self, data: bytes) -> None:
        pass


DROP = _Drop()


class SubAck:
    """A (un)subscribe confirmation, sent once every shard involved has confirmed."""

    __slots__ = ("slot", "remaining", "data")

    def __init__(self, slot, remaining: int, data: bytes):
        self.slot = slot
        self.remaining = remaining
        self.data = data

    def one_done(self) -> None:
        self.remaining -= 1
        if self.remaining == 0:
            self.slot.on_reply(self.data)


class Client(asyncio.Protocol):
    def __init__(self, server):
        self.server = server
        self.transport = None
        self.parser = SpanParser()
        self.id = server.next_client_id()
        self.addr = "?:0"
        self.laddr = "?:0"
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.resp = 2
        self.encode = encode2
        self.authenticated = server.topology.access_keys is None
        self.internal = False
        self.parser.require_auth = not self.authenticated
        self.pending: deque = deque()
        self.out: list = []
        self.dirty = False
        self.closing = False
        self.close_when_done = False
        self.quitting = False  # QUIT or a protocol error: read nothing more
        self.reply_mode = 0  # CLIENT REPLY: 0 on, 1 off, 3 skip the next
        self.skip_this = False
        self.multi = None  # queued (argv, shard) of an open MULTI
        self.multi_error = False
        self.multi_shard = None
        self.watching = None  # ShardRef of WATCHed keys
        self.dedicated: dict = {}  # shard id -> Backend of this client alone
        self.sub_conns: dict = {}  # shard id -> subscribed Backend
        self.sub_acks: dict = {}  # shard id -> deque([SubAck, frames left])
        self.channels: dict = {}
        self.patterns: dict = {}
        self.schannels: dict = {}
        self.monitor_conns: list = []
        self.held = None  # the slot of a blocking command: later requests wait for it
        # CLIENT TRACKING ON: the requests that set it up on every connection of this client, whose
        # commands then all go over its own connections (invalidations are per connection)
        self.tracking: list | None = None
        self.held_name = b""
        self.queue: deque = deque()
        self.ctime = time()
        self.last_interaction = monotonic()
        self.cmd_name = "NULL"

    # --- output ---------------------------------------------------------------------------------
    def new_slot(self) -> Slot:
        s = Slot(self)
        if self.skip_this:
            s.skip = True
        self.pending.append(s)
        return s

    def reply(self, value) -> None:
        """A reply the proxy makes itself."""
        self.reply_bytes(self.encode(value))

    def error(self, message: str) -> None:
        self.reply_bytes(b"-" + message.encode("latin-1", "replace") + b"\r\n")

    def reply_bytes(self, data: bytes) -> None:
        if self.pending:
            s = self.new_slot()
            s.data = data
            return
        if self.skip_this:
            return
        self.out.append(data)

    def slot_done(self, slot: Slot) -> None:
        pending = self.pending
        if not pending or pending[0] is not slot:
            return
        out = self.out
        while pending and pending[0].data is not None:
            s = pending.popleft()
            if not s.skip:
                out.append(s.data)
            if s.close_after:   # QUIT, a lost shard: nothing after it is answered
                self.close_when_done = True
                pending.clear()
                self.queue.clear()
                break
            if s is self.held:
                self.held = None
                if self.queue:
                    asyncio.get_running_loop().call_soon(self.run_queue)
        if not self.dirty and (out or self.close_when_done):
            self.dirty = True
            _dirty_clients.append(self)

    def flush(self) -> None:
        self.dirty = False
        out = self.out
        t = self.transport
        if out and t is not None:
            self.out = []
            data = b"".join(out) if len(out) > 1 else out[0]
            if self.server.slow_s and not self.internal:   # `amr-emulator slow-node`: replies come late
                asyncio.get_running_loop().call_later(self.server.slow_s, _late_write, t, data)
            else:
                t.write(data)
        if self.close_when_done and not self.pending and t is not None:
            t.close()

    # --- asyncio protocol -------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.addr = address_text(transport.get_extra_info("peername"))
        self.laddr = address_text(transport.get_extra_info("sockname"))
        self.server.clients[self.id] = self

    def connection_lost(self, exc) -> None:
        self.transport = None
        self.closing = True
        self.queue.clear()
        self.server.clients.pop(self.id, None)
        self.drop_state()

    def drop_state(self) -> None:
        conns = list(self.dedicated.values()) + list(self.sub_conns.values()) + self.monitor_conns
        self.dedicated = {}
        self.sub_conns = {}
        self.sub_acks = {}
        self.monitor_conns = []
        for b in conns:
            b.close()
        self.watching = None
        self.channels = {}
        self.patterns = {}
        self.schannels = {}

    def data_received(self, data: bytes) -> None:
        if self.closing or self.quitting:
            return
        # ends: where each request ends in `data` when hiredis read them all (forwarded as they are);
        # `data` then starts with the rest of a request that an earlier read left incomplete
        requests, ends, data, error = self.parser.read_spans(data)
        self.last_interaction = monotonic()
        try:
            if self.held is not None or self.queue:
                self.queue.extend(requests)
                if error is not None:
                    self.queue.append(error)
                return
            n = len(requests)
            if n == 1 and error is None:  # a client waiting for each reply: the chunk is its request
                self.process(requests[0], None if ends is None else data if ends[0] == len(data) else data[:ends[0]])
                return
            i = 0
            while i < n:
                if (ends is not None and not self.reply_mode and self.multi is None and self.authenticated
                        and not self.dedicated and not self.sub_conns):
                    i = self.forward_run(requests, ends, data, i)
                    if i == n or self.closing:
                        break
                argv = requests[i]
                if ends is not None:
                    self.process(argv, data[ends[i - 1] if i else 0:ends[i]])
                else:
                    self.process(argv)
                i += 1
                if self.closing or self.quitting:
                    return
                if self.held is not None:
                    self.queue.extend(requests[i:])
                    if error is not None:
                        self.queue.append(error)
                    return
            if error is not None and not self.closing:
                self.protocol_error(error)
        finally:
            if self.out or self.close_when_done:
                self.flush()
            if _dirty_clients:
                flush_clients()

    def forward_run(self, requests: list, ends: list, data: bytes, i: int) -> int:
        """The common case, for a client without state: single-key commands, each sent as received to
        the shard of its key. Each shard connection gets this client's requests in one piece (the
        spans of `data` they came in) and answers them in one piece: one reply slot, or a Gather
        when they went to several connections. From request i on; returns the index of the first
        request this does not handle (an other command, a key this endpoint does not serve:
        `process` answers it)."""
        n = len(requests)
        if self.last_interaction > self.server.fence_at:
            self.server.fence(self)
            return n
        slot_local = self.server.router.slot_local
        resp = self.resp
        fast = _FAST
        i0 = i
        start = ends[i - 1] if i else 0  # where the current run (requests to one connection) starts
        run = None  # its connection
        conns = None  # the connections, in order of first use, once there are several
        spans = None  # the runs of each of them
        route = None  # per request, the index of its connection in conns
        at = 0  # the current run's connection's index
        while i < n:
            argv = requests[i]
            argc = len(argv)
            if argc >= _FAST_ARGC:
                break
            name = fast[argc].get(argv[0])
            if name is None:
                break
            k = argv[1]
            shard = slot_local[key_slot(k) if 123 in k else crc_hqx(k, 0) & 0x3FFF]  # 123: "{"
            if shard is None:
                break
            pool = shard.pools[resp]
            conn = pool.conn
            if conn is None or conn.closed:
                conn = pool.get()
            if conn is not run:
                if run is not None:
                    if conns is None:  # a second connection
                        conns = [run]
                        spans = [[]]
                        route = [0] * (i - i0)
                    spans[at].append(data[start:ends[i - 1]])
                    start = ends[i - 1]
                    if conn in conns:
                        at = conns.index(conn)
                    else:
                        at = len(conns)
                        conns.append(conn)
                        spans.append([])
                run = conn
            if route is not None:
                route.append(at)
            i += 1
        if i == i0:
            return i
        last = requests[i - 1]
        self.cmd_name = fast[len(last)][last[0]]
        argvs = requests if i - i0 == n else requests[i0:i]
        if conns is None:
            self.send_run(run, data[start:ends[i - 1]], i - i0, argvs[0] if i - i0 == 1 else argvs)
            return i
        spans[at].append(data[start:ends[i - 1]])
        g = Gather(self, route, len(conns))
        g.argvs = argvs
        self.pending.append(g)
        for at, conn in enumerate(conns):
            part = spans[at]
            conn.send(part[0] if len(part) == 1 else b"".join(part), GatherPart(g, at, route.count(at)))
        return i

    def forward_one(self, argv: list, raw: bytes | None) -> bool:
        """`forward_run` for one request (`raw`: its bytes as received, if known) of a client without
        state; False if it is not such a command."""
        argc = len(argv)
        name = _FAST[argc].get(argv[0]) if argc < _FAST_ARGC else None
        if name is None:
            return False
        if self.last_interaction > self.server.fence_at:
            self.server.fence(self)
            return True
        k = argv[1]
        shard = self.server.router.slot_local[key_slot(k) if 123 in k else crc_hqx(k, 0) & 0x3FFF]
        if shard is None:
            return False
        pool = shard.pools[self.resp]
        conn = pool.conn
        if conn is None or conn.closed:
            conn = pool.get()
        self.cmd_name = name
        self.send_run(conn, raw or encode_request(argv), 1, argv)
        return True

    def send_run(self, conn, raw: bytes, count: int, reqs: list) -> None:
        """`count` requests (`raw`; `reqs`: the request, or the list of them) to one shard connection:
        one reply slot, or added to the last one when it is the run just sent there (its replies not
        in yet)."""
        pending = self.pending
        if pending:
            last = pending[-1]
            if (last.data is None and last.transform is None and not last.skip
                    and conn.send_more(raw, last, count)):
                more = [reqs] if count == 1 else reqs
                if last.argvs is not None:
                    last.argvs = last.argvs + more
                elif last.argv is not None:
                    last.argvs = [last.argv] + more
                    last.argv = None
                return
        s = Slot(self)
        if count == 1:
            s.argv = reqs
        else:
            s.count = count
            s.argvs = reqs
        pending.append(s)
        conn.send(raw, s)

    def protocol_error(self, error) -> None:
        self.quitting = True
        self.reply_mode = 0
        self.skip_this = False
        self.error(error.message)
        if self.pending:
            self.pending[-1].close_after = True
        else:
            self.close_when_done = True

    def run_queue(self) -> None:
        try:
            while self.queue and self.held is None and not self.closing and not self.quitting:
                argv = self.queue.popleft()
                if not isinstance(argv, list):
                    self.protocol_error(argv)
                    break
                self.process(argv)
        finally:
            self.flush()
            flush_clients()

    # --- dispatch ----------------------------------------------------------------------------------
    def process(self, argv: list, raw: bytes | None = None) -> None:
        if (not self.reply_mode and self.multi is None and self.authenticated and not self.dedicated
                and not self.sub_conns and self.forward_one(argv, raw)):
            return
        mode = self.reply_mode
        if mode:
            self.skip_this = True
            if mode == 3:
                self.reply_mode = 0
        else:
            self.skip_this = False
        try:
            self._process(argv)
        except RespError as e:
            if self.multi is not None and argv[0].lower() not in _MULTI_IMMEDIATE:
                self.multi_error = True
            self.error(e.message)
        except Exception:  # a bug of ours: log it, answer, serve on
            log.exception("error processing %r", argv[:4])
            self.error(errors.proxy_internal_error(argv[0][:64].decode("latin-1")))
        if self.reply_mode == 2:  # CLIENT REPLY SKIP: the next command's reply is skipped
            self.reply_mode = 3

    def _process(self, argv: list) -> None:
        head = argv[0]
        spec = _CMD_CACHE.get(head)
        if spec is None:
            low = head.lower()
            if low in REFUSED or (low == b"cluster" and not self.server.router.oss):
                raise RespError(errors.unknown_command(head, argv[1:]))
            if low.startswith(b"amr."):
                if not self.internal:
                    raise RespError(errors.unknown_command(head, argv[1:]))
                self.server.internal_command(self, argv)
                return
            spec = lookup_spec(argv)
            if spec is None:
                base = lookup_spec(argv[:1])
                if base is not None and base.subcommands:
                    raise RespError(errors.unknown_subcommand(argv[1], head))
                raise RespError(errors.unknown_command(head, argv[1:]))
            if not spec.subcommands and spec.parent is None and len(_CMD_CACHE) < 4096:
                _CMD_CACHE[head] = spec
                name = spec.name
                if (spec.first_key == 1 and spec.last_key == 1 and len(spec.key_specs) == 1
                        and name not in LOCAL and name not in ROUTED and name not in _BLOCKING
                        and name not in _FAN_KEYLESS and "no_auth" not in spec.flags):
                    _fast_add(head, spec.arity, name)
        arity = spec.arity
        argc = len(argv)
        if (arity > 0 and arity != argc) or argc < -arity:
            raise RespError(errors.wrong_arity(spec.name))
        name = spec.name
        if not self.authenticated and "no_auth" not in spec.flags:
            raise RespError(errors.NOAUTH)
        if self.resp == 2 and (self.channels or self.patterns or self.schannels):
            if head.lower() not in _PUBSUB_ALLOWED:
                raise RespError(errors.pubsub_context(name))
        self.cmd_name = name
        if self.multi is not None and head.lower() not in _MULTI_IMMEDIATE:
            self.queue_in_multi(spec, argv)
            return
        local = LOCAL.get(name)
        if local is None and spec.parent is not None:
            local = LOCAL.get(spec.parent.name)
        if local is not None:
            local(self, argv)
            return
        self.route(spec, argv)

    def route(self, spec, argv: list) -> None:
        if self.last_interaction > self.server.fence_at and not self.internal:
            self.server.fence(self)
            return
        name = spec.name
        router = self.server.router
        special = ROUTED.get(name)
        if special is not None:
            special(self, argv)
            return
        if spec.key_specs:
            if spec.first_key == 1 and spec.last_key == 1 and len(spec.key_specs) == 1:
                positions = (1,)
            else:
                positions = get_keys(spec, argv)
        else:
            positions = ()
        if positions:
            shard = router.shard_for_keys(argv, positions)
            if shard is None:
                self.split(argv)
                return
        else:
            fan = _FAN_KEYLESS.get(name)
            if fan is not None:
                fanout.send(self, [(s, argv) for s in router.fanout_targets], fan)
                return
            shard = router.default
        if name in _BLOCKING:
            self.forward_blocking(shard, argv)
            return
        if self.tracking is not None:
            conn = self.dedicated_conn(shard)
        else:
            conn = self.dedicated.get(shard.id) if self.dedicated else None
            if conn is None:
                conn = shard.pools[self.resp].get()
        slot = Slot(self)
        if self.skip_this:
            slot.skip = True
        elif positions and self.multi is None and not self.dedicated and self.tracking is None:
            slot.argv = argv
        self.pending.append(slot)
        conn.send(encode_request(argv), slot)

    def rerouted(self, slot: Slot) -> bool:
        """A write answered READONLY: its shard was demoted by a failover while the write waited on it
        (a planned failover pauses writes, then demotes). Route it by the newer topology: to the new
        primary (Enterprise), or `-MOVED` to its node (OSS, once another node owns the slot); never
        READONLY while the topology is changing. False: relay the error."""
        argv = slot.argv
        if slot.retries >= 100:
            slot.argv = None
            return False
        try:
            spec = lookup_spec(argv)
            positions = (1,) if spec.first_key == 1 and spec.last_key == 1 else get_keys(spec, argv)
            kslot = key_slot(argv[positions[0]])
        except Exception:  # noqa: BLE001
            return False
        slot.retries += 1
        # at once; again every 10 ms while this node has not adopted the topology naming the new primary
        asyncio.get_running_loop().call_later(0 if slot.retries == 1 else 0.01, self._resend, slot, argv, kslot)
        return True

    def reroute_each(self, slot: Slot, data: bytes) -> None:
        """Replies to several requests with a READONLY among them (see `rerouted`): in the slot's place,
        one slot per request, so that those answered READONLY are re-routed and the others relayed."""
        pending = self.pending
        try:
            at = pending.index(slot)
        except ValueError:
            return
        singles = []
        pos = 0
        for argv in slot.argvs:
            end = reply_end(data, pos)
            s = Slot(self)
            s.argv = argv
            singles.append((s, data[pos:end]))
            pos = end
        singles[-1][0].close_after = slot.close_after
        del pending[at]
        for k, (s, _) in enumerate(singles):
            pending.insert(at + k, s)
        for s, reply in singles:
            s.on_reply(reply)

    def _resend(self, slot: Slot, argv: list, kslot: int) -> None:
        router = self.server.router
        shard = router.slot_shard[kslot]
        if router.oss and router.moved_addr[kslot] is not None:
            slot.argv = None
            slot.on_reply(errors.error_frame(errors.moved(kslot, router.moved_addr[kslot])))
        elif shard is None or self.transport is None:
            slot.argv = None
            slot.on_reply(errors.error_frame(errors.READONLY))
        else:
            shard.pools[self.resp].get().send(encode_request(argv), slot)
        flush_clients()

    def forward(self, shard, argv: list, transform=None) -> Slot:
        slot = self.new_slot()
        slot.transform = transform
        self.conn_for(shard).send(encode_request(argv), slot)
        return slot

    def conn_for(self, shard) -> Backend:
        if self.tracking is not None:
            return self.dedicated_conn(shard)
        conn = self.dedicated.get(shard.id) if self.dedicated else None
        if conn is None or conn.closed:
            conn = shard.pools[self.resp].get()
        return conn

    def dedicated_conn(self, shard) -> Backend:
        conn = self.dedicated.get(shard.id)
        if conn is None or conn.closed:
            conn = self.dedicated[shard.id] = Backend(shard.host, shard.port, shard.password, self.resp,
                                                      on_push=self.relay_push)
            for req in self.tracking or ():
                conn.send(req, DROP)
        return conn

    def relay_push(self, frame: bytes) -> None:
        """An out-of-band frame from a shard (RESP3 push): to the client, after what it is owed."""
        if self.pending:
            s = Slot(self)
            s.data = frame
            self.pending.append(s)
            return
        self.out.append(frame)
        if not self.dirty:
            self.dirty = True
            _dirty_clients.append(self)

    def forward_blocking(self, shard, argv: list) -> None:
        slot = self.new_slot()
        self.held = slot
        self.held_name = argv[0].lower()
        self.dedicated_conn(shard).send(encode_request(argv), slot)

    def split(self, argv: list) -> None:
        router = self.server.router
        name = argv[0].lower().decode("latin-1")
        step = 2 if name == "mset" else 1
        if step == 2 and len(argv) % 2 == 0:
            raise RespError(errors.wrong_arity("mset"))
        requests, positions = fanout.split_by_shard(router, argv, step)
        if name == "mget":
            merge = fanout.merge_positions(positions, len(argv) - 1)
        elif name == "mset":
            merge = fanout.merge_first
        else:
            merge = fanout.merge_sum
        fanout.send(self, requests, merge)

    # --- transactions ---------------------------------------------------------------------------
    def queue_in_multi(self, spec, argv: list) -> None:
        name = spec.name
        if name in LOCAL or (spec.parent is not None and spec.parent.name in LOCAL) or name in _WAIT_LIKE:
            if name == "select":
                _check_select(argv)  # SELECT 0 is queued; any other index refused now
            elif name not in ("ping", "echo"):
                # connection state lives in the proxy; queued on a shard it would change a shared connection
                raise RespError(errors.PROXY_NOT_IN_MULTI)
        router = self.server.router
        positions = get_keys(spec, argv) if spec.key_specs else ()
        shard = None
        if positions:
            slot = router.slot_of_keys(argv, positions)
            shard = router.single if slot < 0 else router.shard_for_slot(slot)
            if self.multi_shard is None:
                self.multi_shard = (slot, shard)
            elif self.multi_shard[0] != slot:
                self.multi.append((argv, shard, True))
                self.reply(Simple("QUEUED"))
                return
        self.multi.append((argv, shard, False))
        self.reply(Simple("QUEUED"))


def _multi(c, argv):
    if c.multi is not None:
        raise RespError(errors.MULTI_NESTED)
    c.multi = []
    c.multi_error = False
    c.multi_shard = None
    c.reply(OK)


def _exec(c, argv):
    if c.multi is None:
        raise RespError(errors.EXEC_WITHOUT_MULTI)
    queued, c.multi = c.multi, None
    error = c.multi_error
    c.multi_error = False
    target = c.multi_shard
    c.multi_shard = None
    watching, c.watching = c.watching, None
    if error:
        if watching is not None:
            c.dedicated_conn(watching).send(encode_command(b"UNWATCH"), DROP)
        raise RespError(errors.EXECABORT)
    if any(cross for _, _, cross in queued):
        if watching is not None:
            c.dedicated_conn(watching).send(encode_command(b"UNWATCH"), DROP)
        raise RespError(errors.CROSSSLOT)
    router = c.server.router
    shard = target[1] if target is not None else (watching or router.default)
    if watching is not None and shard is not watching:
        c.dedicated_conn(watching).send(encode_command(b"UNWATCH"), DROP)
        raise RespError(errors.CROSSSLOT)
    conn = c.dedicated_conn(shard) if watching is not None else c.conn_for(shard)
    conn.send(b"*1\r\n$5\r\nMULTI\r\n", DROP)
    for argv_q, _, _ in queued:
        conn.send(encode_request(argv_q), DROP)
    slot = c.new_slot()
    conn.send(b"*1\r\n$4\r\nEXEC\r\n", slot)


def _discard(c, argv):
    if c.multi is None:
        raise RespError(errors.DISCARD_WITHOUT_MULTI)
    c.multi = None
    c.multi_error = False
    c.multi_shard = None
    if c.watching is not None:
        c.dedicated_conn(c.watching).send(encode_command(b"UNWATCH"), DROP)
        c.watching = None
    c.reply(OK)


def _watch(c, argv):
    if c.multi is not None:
        raise RespError(errors.WATCH_IN_MULTI)
    router = c.server.router
    slot = router.slot_of_keys(argv, range(1, len(argv)))
    shard = router.single if slot < 0 else router.shard_for_slot(slot)
    if c.watching is not None and c.watching is not shard:
        raise RespError(errors.CROSSSLOT)
    c.watching = shard
    c.forward_to(c.dedicated_conn(shard), argv)


def _unwatch(c, argv):
    if c.watching is None:
        c.reply(OK)
        return
    shard, c.watching = c.watching, None
    c.forward_to(c.dedicated_conn(shard), argv)


def _forward_to(c, conn, argv, transform=None):
    slot = c.new_slot()
    slot.transform = transform
    conn.send(encode_request(argv), slot)


Client.forward_to = _forward_to


# --- connection ------------------------------------------------------------------------------------
def _check_key(c, user: bytes, password: bytes) -> bool:
    """Access keys (AUTH <key>, AUTH default <key>); the internal password makes an internal client."""
    topo = c.server.topology
    pw = password.decode("latin-1")
    if hmac.compare_digest(password, topo.internal_password.encode()) and user == b"default":
        c.internal = True
        return True
    if user != b"default":
        return False
    keys = topo.access_keys
    if keys is None:
        return True
    return keys.accepts(pw)


def _authenticate(c, user: bytes, password: bytes) -> None:
    if not _check_key(c, user, password):
        raise RespError(errors.WRONGPASS)
    c.authenticated = True
    c.parser.require_auth = False


def _auth(c, argv):
    if len(argv) > 3:
        raise RespError(errors.SYNTAX)
    if len(argv) == 2:
        if c.server.topology.access_keys is None and argv[1] != c.server.topology.internal_password.encode():
            raise RespError(errors.AUTH_NOT_CONFIGURED)
        _authenticate(c, b"default", argv[1])
    else:
        _authenticate(c, argv[1], argv[2])
    c.reply(OK)


def _set_resp(c, version: int) -> None:
    if version != c.resp:
        for b in list(c.dedicated.values()):
            b.close()
        c.dedicated = {}
        c.watching = None
    c.resp = version
    c.encode = encode3 if version == 3 else encode2


def _hello(c, argv):
    version, auth, name = client_args.parse_hello(argv)
    if auth is not None:
        _authenticate(c, auth[0], auth[1])
    if not c.authenticated:
        raise RespError(errors.HELLO_NOAUTH)
    if name is not None:
        c.name = name
    if version is not None:
        _set_resp(c, version)
    c.reply({
        b"server": b"redis",
        b"version": c.server.version.encode(),
        b"proto": c.resp,
        b"id": c.id,
        b"mode": b"cluster" if c.server.router.oss else b"standalone",
        b"role": b"master",
        b"modules": [],
    })


def _select(c, argv):
    _check_select(argv)
    c.reply(OK)


def _check_select(argv):
    dbid = string2ll(argv[1])
    if dbid is None:
        raise RespError(errors.NOT_INTEGER)
    if not -(2**31) <= dbid < 2**31:
        raise RespError(errors.INT_OUT_OF_RANGE)
    if dbid != 0:
        raise RespError(errors.DB_INDEX_OUT_OF_RANGE)


def _quit(c, argv):
    c.reply(OK)
    c.quitting = True
    if c.pending:
        c.pending[-1].close_after = True
    else:
        c.close_when_done = True


def _reset(c, argv):
    c.multi = None
    c.multi_error = False
    c.multi_shard = None
    c.tracking = None
    c.drop_state()
    _set_resp(c, 2)
    c.name = b""
    c.reply_mode = 0
    c.authenticated = c.server.topology.access_keys is None
    c.internal = False
    c.parser.require_auth = not c.authenticated
    c.reply(Simple("RESET"))


def _ping(c, argv):
    if len(argv) > 2:
        raise RespError(errors.wrong_arity("ping"))
    if c.resp == 2 and (c.channels or c.patterns or c.schannels):
        c.reply([b"pong", argv[1] if len(argv) == 2 else b""])
        return
    c.reply(argv[1] if len(argv) == 2 else Simple("PONG"))


def _echo(c, argv):
    c.reply(argv[1])


def _readonly(c, argv):
    if c.server.router.oss:
        c.reply(OK)
    else:
        raise RespError(errors.CLUSTER_DISABLED)


def _cluster(c, argv):
    router = c.server.router
    if not router.oss:
        raise RespError(errors.unknown_command(argv[0], argv[1:]))
    result = cluster.cluster_command(router, argv)
    if isinstance(result, tuple):
        slot, kind, count = result
        shard = router.slot_shard[slot]
        if shard is None:
            c.reply(0 if kind == "count" else [])
            return

        def merge(parts, encode, slot=slot, kind=kind, count=count):
            keys = [k for k in decode_reply(parts[0])[0] if key_slot(k) == slot]
            return encode(len(keys) if kind == "count" else keys[:count])

        fanout.send(c, [(shard, [b"KEYS", b"*"])], merge)
        return
    c.reply(result)


# --- CLIENT ------------------------------------------------------------------------------------------
def _client_flags(c) -> str:
    f = ""
    if c.monitor_conns:
        f += "O"
    if c.channels or c.patterns or c.schannels:
        f += "P"
    if c.multi is not None:
        f += "x"
    if c.held is not None:
        f += "b"
    return f or "N"


def client_info_line(c) -> str:
    return client_args.client_info_line(
        id=c.id, addr=c.addr, laddr=c.laddr, name=c.name, age=int(time() - c.ctime),
        idle=int(monotonic() - c.last_interaction), flags=_client_flags(c), db=0,
        sub=len(c.channels), psub=len(c.patterns), ssub=len(c.schannels),
        multi=len(c.multi) if c.multi is not None else -1, watch=1 if c.watching is not None else 0, qbuf=0,
        cmd=c.cmd_name, user="default", redir=-1, resp=c.resp, lib_name=c.lib_name, lib_ver=c.lib_ver)


def _client_type(c) -> bytes:
    return b"pubsub" if (c.channels or c.patterns or c.schannels) else b"normal"


def _client_id(c, argv):
    c.reply(c.id)


def _client_setname(c, argv):
    c.name = client_args.check_client_name(argv)
    c.reply(OK)


def _client_getname(c, argv):
    c.reply(c.name or None)


def _client_setinfo(c, argv):
    attr, value = client_args.parse_setinfo(argv)
    if attr == b"lib-name":
        c.lib_name = value
    else:
        c.lib_ver = value
    c.reply(OK)


def _client_info(c, argv):
    c.reply(Verbatim(client_info_line(c) + "\n"))


def _client_list(c, argv):
    want, ids = client_args.parse_client_list(argv)
    clients = list(c.server.clients.values())
    if want is not None:
        clients = [x for x in clients if _client_type(x) == want]
    elif ids is not None:
        clients = [c.server.clients[i] for i in ids if i in c.server.clients]
    c.reply(Verbatim("".join(client_info_line(x) + "\n" for x in clients)))


def _client_reply(c, argv):
    if len(argv) != 3:
        raise RespError(errors.unknown_subcommand(argv[1], argv[0]))
    mode = argv[2].lower()
    if mode == b"on":
        c.reply_mode = 0
        c.skip_this = False
        c.reply(OK)
    elif mode == b"off":
        c.reply_mode = 1
    elif mode == b"skip":
        if c.reply_mode != 1:
            c.reply_mode = 2
    else:
        raise RespError(errors.SYNTAX)


def _client_on_off(c, argv):
    if argv[2].lower() not in (b"on", b"off"):
        raise RespError(errors.SYNTAX)
    c.reply(OK)


def _client_kill(c, argv):
    # the proxy's clients are all the `default` user's (access keys)
    f = client_args.parse_client_kill(argv, lambda name: name == b"default")
    now = time()
    killed = 0
    for other in list(c.server.clients.values()):
        if f.addr is not None and other.addr != f.addr:
            continue
        if f.laddr is not None and other.laddr != f.laddr:
            continue
        if f.ctype is not None and _client_type(other) != f.ctype:
            continue
        if f.cid and other.id != f.cid:
            continue
        if other is c and f.skipme:
            continue
        if f.max_age and now - other.ctime < f.max_age:
            continue
        if other is c:
            c.close_when_done = True
        elif other.transport is not None:
            other.closing = True
            other.transport.close()
        killed += 1
    if f.old_form:
        if not killed:
            raise RespError(errors.NO_SUCH_CLIENT)
        c.reply(OK)
    else:
        c.reply(killed)


def _client_tracking(c, argv):
    """Enabled on a connection of the client's own to the default shard first; once that shard
    accepts it, every shard connection of the client gets it too and carries all its commands."""
    request = encode_request(argv)
    on = len(argv) > 2 and argv[2].lower() == b"on"

    def adopt(data: bytes) -> bytes:
        if data.startswith(b"+OK"):
            c.tracking = [request] if on else None
            for sid, conn in c.dedicated.items():
                if sid != shard.id:
                    conn.send(request, DROP)
        return data

    shard = c.server.router.default
    slot = c.new_slot()
    slot.transform = adopt
    c.dedicated_conn(shard).send(request, slot)


def _client_unblock(c, argv):
    cid = string2ll(argv[2])
    if cid is None:
        raise RespError(errors.NOT_INTEGER)
    as_error = False
    if len(argv) == 4:
        how = argv[3].lower()
        if how not in (b"timeout", b"error"):
            raise RespError(errors.UNBLOCK_REASON)
        as_error = how == b"error"
    other = c.server.clients.get(cid)
    if other is None or other.held is None:
        c.reply(0)
        return
    slot = other.held
    # the blocked request's dedicated connection is closed (the shard unblocks it), its reply made here
    for sid, b in list(other.dedicated.items()):
        if slot in b.waiters:
            b.waiters.remove(slot)
            del other.dedicated[sid]
            b.close()
            break
    timeout_reply = None if other.held_name in (b"blmove", b"brpoplpush") else NULL_ARRAY
    slot.on_reply(b"-" + errors.UNBLOCKED.encode() + b"\r\n" if as_error else other.encode(timeout_reply))
    c.reply(1)


# --- pub/sub -----------------------------------------------------------------------------------------
def _sub_conn(c, shard) -> Backend:
    conn = c.sub_conns.get(shard.id)
    if conn is None or conn.closed:
        conn = Backend(shard.host, shard.port, shard.password, c.resp,
                       on_push=lambda frame, sid=shard.id: _sub_frame(c, sid, frame),
                       on_lost=lambda b, sid=shard.id: _sub_lost(c, sid, b))
        conn.subscriber = True
        c.sub_conns[shard.id] = conn
        c.sub_acks[shard.id] = deque()
    return conn


class _Quiet:
    """The acknowledgement of a re-subscription: nobody waits for it."""

    __slots__ = ()

    def one_done(self) -> None:
        pass


def _sub_lost(c, sid: int, conn, delay: float = 0.1) -> None:
    """A subscribed connection broke (its shard restarted): subscribe again once it is back."""
    if c.closing or c.sub_conns.get(sid) is not conn:
        return
    del c.sub_conns[sid]
    acks = c.sub_acks.pop(sid, ())
    for ack, _ in acks:  # confirmations that will not come: answer them
        ack.one_done()
    asyncio.get_running_loop().call_later(delay, _resubscribe, c, sid, delay)


def _resubscribe(c, sid: int, delay: float) -> None:
    if c.closing or sid in c.sub_conns:
        return
    shard = c.server.router.shards.get(sid)
    if shard is None or not (c.channels or c.patterns or c.schannels):
        return
    conn = _sub_conn(c, shard)
    conn.on_lost = lambda b: _sub_lost(c, sid, b, min(delay * 2, 2.0))
    quiet = _Quiet()
    for command, registry, on_every in ((b"SUBSCRIBE", c.channels, True), (b"PSUBSCRIBE", c.patterns, True),
                                        (b"SSUBSCRIBE", c.schannels, False)):
        names = list(registry)
        if not on_every:
            names = [ch for ch in names if c.server.router.shard_of_key_anywhere(ch).id == sid]
        if names:
            c.sub_acks[sid].append([quiet, len(names)])
            conn.send_noreply(encode_command(command, *names))
    flush_clients()


def _sub_frame(c, sid: int, frame: bytes) -> None:
    if frame[:1] == b"+" or frame[:1] == b"-":  # AUTH / HELLO replies on a subscribed connection
        if frame[:1] == b"-":
            log.warning("subscribed connection: %r", frame[:200])
        return
    if frame[:1] == b"%":  # HELLO 3's map
        return
    try:
        value = decode_reply(frame)[0]
        kind = value[0].lower() if isinstance(value, list) and value else b""
    except (ValueError, IndexError):
        return
    if kind in _MESSAGE_KINDS:
        c.relay_push(frame)
        return
    acks = c.sub_acks.get(sid)
    if acks:
        head = acks[0]
        head[1] -= 1
        if head[1] <= 0:
            acks.popleft()
            head[0].one_done()


def _sub_count(c) -> int:
    return len(c.channels) + len(c.patterns)


def _subscribe_generic(c, argv, registry: dict, kind: bytes, shards: list, command: bytes) -> None:
    frames = []
    for ch in argv[1:]:
        registry[ch] = None
        count = len(c.schannels) if kind == b"ssubscribe" else _sub_count(c)
        frames.append(c.encode(Push([kind, ch, count])))
    slot = c.new_slot()
    ack = SubAck(slot, len(shards), b"".join(frames))
    if not shards:
        slot.on_reply(ack.data)
        return
    req = encode_command(command, *argv[1:])
    for shard in shards:
        conn = _sub_conn(c, shard)
        c.sub_acks[shard.id].append([ack, len(argv) - 1])
        conn.send_noreply(req)


def _unsubscribe_generic(c, argv, registry: dict, kind: bytes, shards_of, command: bytes) -> None:
    channels = argv[1:] or list(registry)
    if not channels:
        count = len(c.schannels) if kind == b"sunsubscribe" else _sub_count(c)
        c.reply(Push([kind, None, count]))
        return
    frames = []
    sent = []
    for ch in channels:
        if ch in registry:
            del registry[ch]
            sent.append(ch)
        count = len(c.schannels) if kind == b"sunsubscribe" else _sub_count(c)
        frames.append(c.encode(Push([kind, ch, count])))
    slot = c.new_slot()
    targets: dict = {}
    for ch in sent:
        for shard in shards_of(ch):
            if shard.id in c.sub_conns:
                targets.setdefault(shard.id, (shard, []))[1].append(ch)
    ack = SubAck(slot, len(targets), b"".join(frames))
    if not targets:
        slot.on_reply(ack.data)
        return
    for sid, (shard, chans) in targets.items():
        conn = c.sub_conns[sid]
        c.sub_acks[sid].append([ack, len(chans)])
        conn.send_noreply(encode_command(command, *chans))


def _subscribe(c, argv):
    _subscribe_generic(c, argv, c.channels, b"subscribe", c.server.router.primaries, b"SUBSCRIBE")


def _psubscribe(c, argv):
    _subscribe_generic(c, argv, c.patterns, b"psubscribe", c.server.router.primaries, b"PSUBSCRIBE")


def _ssubscribe(c, argv):
    router = c.server.router
    slot = router.slot_of_keys(argv, range(1, len(argv)))
    shard = router.single if slot < 0 else router.shard_for_slot(slot)
    _subscribe_generic(c, argv, c.schannels, b"ssubscribe", [shard], b"SSUBSCRIBE")


def _unsubscribe(c, argv):
    _unsubscribe_generic(c, argv, c.channels, b"unsubscribe", lambda ch: c.server.router.primaries, b"UNSUBSCRIBE")


def _punsubscribe(c, argv):
    _unsubscribe_generic(c, argv, c.patterns, b"punsubscribe", lambda ch: c.server.router.primaries,
                         b"PUNSUBSCRIBE")


def _sunsubscribe(c, argv):
    router = c.server.router
    _unsubscribe_generic(c, argv, c.schannels, b"sunsubscribe", lambda ch: [router.shard_of_key_anywhere(ch)],
                         b"SUNSUBSCRIBE")


def _publish(c, argv):
    c.forward(c.server.router.shard_of_key_anywhere(argv[1]), argv)


# the proxies' own requests to the shards (connection setup, the supervisor's pings): not shown
_INTERNAL_MONITOR_LINE = re.compile(rb'^\+[0-9.]+ \[\d+ [^\]]*\] "(?i:auth|hello|ping|info|replicaof)"')


def _monitor(c, argv):
    if c.monitor_conns:
        c.reply(OK)
        return
    shards = c.server.router.primaries
    slot = c.new_slot()
    ack = SubAck(slot, len(shards), b"+OK\r\n")
    if not shards:
        slot.on_reply(ack.data)
        return
    for shard in shards:
        skip = [2 if shard.password else 1]  # AUTH's +OK, then MONITOR's

        def relay(frame, skip=skip):
            if skip[0]:
                skip[0] -= 1
                if not skip[0]:
                    ack.one_done()
                return
            if _INTERNAL_MONITOR_LINE.search(frame) is None:
                c.relay_push(frame)

        conn = Backend(shard.host, shard.port, shard.password, 2, on_push=relay)
        conn.subscriber = True
        conn.send_noreply(b"*1\r\n$7\r\nMONITOR\r\n")
        c.monitor_conns.append(conn)


# --- scan, info, config ------------------------------------------------------------------------------
def _scan(c, argv):
    targets = c.server.router.fanout_targets
    n = len(targets)
    if n == 0:
        c.reply([b"0", []])
        return
    cursor = string2ll(argv[1])
    if cursor is None or cursor < 0:
        if argv[1].isdigit():
            cursor = int(argv[1])
        else:
            raise RespError(errors.INVALID_CURSOR)
    index, shard_cursor = fanout.scan_cursor(cursor, n)
    sub = list(argv)
    sub[1] = str(shard_cursor).encode()
    fanout.send(c, [(targets[index], sub)], fanout.scan_merge(index, n))


def _info_as_proxy(c, oss: bool):
    """INFO from a shard as the client's endpoint reports it: its port, this proxy's clients, and
    under OSS the cluster mode."""
    sock = c.laddr.rsplit(":", 1)[-1]

    def fix(data: bytes) -> bytes:
        if data[:1] not in (b"$", b"="):
            return data
        value = decode_reply(data)[0]
        text = value if isinstance(value, str) else value.decode("latin-1")
        text = _TCP_PORT.sub("tcp_port:" + sock, text)
        text = _VERSION.sub("redis_version:" + c.server.version, text)
        text = _CONNECTED.sub("connected_clients:%d" % len(c.server.clients), text)
        if oss:
            text = text.replace("redis_mode:standalone", "redis_mode:cluster").replace("cluster_enabled:0",
                                                                                       "cluster_enabled:1")
        b = text.encode("latin-1")
        if data[:1] == b"=":
            return b"=%d\r\ntxt:%b\r\n" % (len(b) + 4, b)
        return b"$%d\r\n%b\r\n" % (len(b), b)

    return fix


_TCP_PORT = re.compile(r"tcp_port:\d+")
_VERSION = re.compile(r"redis_version:[^\r]+")
_CONNECTED = re.compile(r"connected_clients:\d+")


_INFO_KEYSPACE = frozenset([b"keyspace", b"all", b"everything", b"default"])


def _merge_info(fix):
    """INFO from every primary this endpoint serves: the first one's text, with the Keyspace section's
    db0 line summed over all of them (keys, expires; avg_ttl the largest)."""

    def merge(parts, encode) -> bytes:
        keys = expires = avg_ttl = 0
        for p in parts:
            text = decode_reply(p)[0]
            text = text if isinstance(text, str) else text.decode("latin-1")
            i = text.find("\r\ndb0:")
            if i >= 0:
                fields = dict(f.split("=", 1) for f in text[i + 6:].split("\r\n", 1)[0].split(","))
                keys += int(fields.get("keys", 0))
                expires += int(fields.get("expires", 0))
                avg_ttl = max(avg_ttl, int(fields.get("avg_ttl", 0)))
        first = parts[0]
        text = decode_reply(first)[0]
        text = text if isinstance(text, str) else text.decode("latin-1")
        head, sep, rest = text.partition("# Keyspace\r\n")
        if sep:
            tail = rest.split("\r\n\r\n", 1)
            after = "\r\n\r\n" + tail[1] if len(tail) > 1 else ""
            lines = [ln for ln in tail[0].split("\r\n") if ln and not ln.startswith("db0:")]
            if keys:
                lines.insert(0, f"db0:keys={keys},expires={expires},avg_ttl={avg_ttl},subexpiry=0")
            text = head + sep + "".join(ln + "\r\n" for ln in lines) + after.lstrip("\r\n")
            if not text.endswith("\r\n"):
                text += "\r\n"
        data = text.encode("latin-1")
        out = (b"=%d\r\ntxt:%b\r\n" % (len(data) + 4, data) if first[:1] == b"="
               else b"$%d\r\n%b\r\n" % (len(data), data))
        return fix(out)

    return merge


def _info(c, argv):
    router = c.server.router
    targets = router.fanout_targets
    sections = [a.lower() for a in argv[1:]]
    if len(targets) > 1 and (not sections or any(s in _INFO_KEYSPACE for s in sections)):
        ordered = [router.default] + [t for t in targets if t is not router.default]
        fanout.send(c, [(t, argv) for t in ordered], _merge_info(_info_as_proxy(c, router.oss)))
        return
    c.forward(router.default, argv, _info_as_proxy(c, router.oss))


def _config_set(c, argv):
    if len(argv) < 4 or len(argv) % 2:
        raise RespError(errors.wrong_arity("config|set"))
    for i in range(2, len(argv), 2):
        if argv[i].lower() not in CONFIG_SET_ALLOWED:
            raise RespError(errors.unknown_command(argv[0], argv[1:]))
    fanout.send(c, [(s, argv) for s in c.server.router.primaries], fanout.merge_first)


def _wait(c, argv):
    c.forward_blocking(c.server.router.default, argv)


LOCAL = {
    "auth": _auth, "hello": _hello, "select": _select, "quit": _quit, "reset": _reset, "ping": _ping,
    "echo": _echo, "readonly": _readonly, "readwrite": _readonly, "asking": _readonly, "cluster": _cluster,
    "multi": _multi, "exec": _exec, "discard": _discard, "watch": _watch, "unwatch": _unwatch,
    "client|id": _client_id, "client|setname": _client_setname, "client|getname": _client_getname,
    "client|setinfo": _client_setinfo, "client|info": _client_info, "client|list": _client_list,
    "client|reply": _client_reply, "client|no-evict": _client_on_off, "client|no-touch": _client_on_off,
    "client|kill": _client_kill, "client|unblock": _client_unblock, "client|tracking": _client_tracking,
    "subscribe": _subscribe, "psubscribe": _psubscribe, "ssubscribe": _ssubscribe, "unsubscribe": _unsubscribe,
    "punsubscribe": _punsubscribe, "sunsubscribe": _sunsubscribe, "monitor": _monitor,
}

ROUTED = {"publish": _publish, "scan": _scan, "info": _info, "config|set": _config_set, "wait": _wait}


def drop_moved_schannels(c, old_router) -> None:
    """OSS: the shard channels whose slot a newer topology gave to another node are dropped, and the
    client is told with `sunsubscribe <channel> <count>`, as a Redis Cluster node tells its subscribers when
    a slot leaves it (redis-py then subscribes again where the slot went)."""
    router = c.server.router
    by_shard: dict = {}
    for ch in list(c.schannels):
        slot = key_slot(ch)
        if router.slot_local[slot] is not None:
            continue
        del c.schannels[ch]
        c.relay_push(c.encode(Push([b"sunsubscribe", ch, len(c.schannels)])))
        old = old_router.slot_shard[slot]
        if old is not None and old.id in c.sub_conns:
            by_shard.setdefault(old.id, []).append(ch)
    for sid, chans in by_shard.items():
        c.sub_acks[sid].append([_Quiet(), len(chans)])
        c.sub_conns[sid].send_noreply(encode_command(b"SUNSUBSCRIBE", *chans))
    flush_clients()
