"""Stream commands (t_stream.c): XADD XRANGE XREVRANGE XLEN XDEL XTRIM XREAD XREADGROUP XGROUP
XACK XPENDING XCLAIM XAUTOCLAIM XINFO XSETID. The value is structures.stream.Stream.

Effects replicate as Redis propagates them: XADD with the ID it generated, and `MAXLEN/MINID ~`
as the exact `=` trim it did; XREADGROUP, XCLAIM and XAUTOCLAIM as one `XCLAIM ... FORCE JUSTID
LASTID` per pending entry they touched plus `XGROUP SETID ... ENTRIESREAD` when the group's last
ID moved (and `XGROUP CREATECONSUMER` for a consumer XREADGROUP NOACK created).

Blocking (XREAD/XREADGROUP BLOCK) raises `Blocked`; the command runs again when a key it waits on
is signalled ready (an XADD, a group destroyed, the key deleted), as Redis 7.4 re-processes it. A
`$` is replaced by the concrete last ID in the request before blocking (Redis rewrites the
argument for the same reason). XREADGROUP asks to be woken when its key is deleted too
(`unblock_on_nokey`), and then answers -NOGROUP (or WRONGTYPE if the key changed type).
"""
from __future__ import annotations

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import NULL_ARRAY, OK, MapPairs, string2ll

from ..dispatch import Blocked
from ..keyspace import NOTIFY_STREAM
from ..structures.stream import (MAX_ID, SEQ_MASK, U64_MAX, ConsumerGroup, Nack, Stream, format_id,
                                 parse_id)
from . import command, help_reply

_WRONGTYPE = errors.WRONGTYPE
_LLONG_MAX = 2**63 - 1
_LONG_MAX = 2**63 - 1
_LISTPACK_MAX = 1 << 30  # STREAM_LISTPACK_MAX_SIZE


def _ll(b: bytes, message: str = errors.NOT_INTEGER) -> int:
    v = string2ll(b)
    if v is None:
        raise RespError(message)
    return v


def _get_stream(c, key: bytes):
    v = c.db.lookup(key)
    if v is not None and type(v) is not Stream:
        raise RespError(_WRONGTYPE)
    return v


def _id(b: bytes, missing_seq: int = 0, strict: bool = True) -> int:
    i = parse_id(b, missing_seq, strict)
    if i is None:
        raise RespError(errors.STREAM_ID_INVALID)
    return i


def _interval(b: bytes, missing_seq: int) -> tuple[int, bool]:
    """streamParseIntervalIDOrReply: (id, exclusive)."""
    if len(b) > 1 and b[0] == 40:  # "("
        return _id(b[1:], missing_seq, True), True
    return _id(b, missing_seq, False), False


def _start_end(start_arg: bytes, end_arg: bytes) -> tuple[int, int]:
    start, ex = _interval(start_arg, 0)
    if ex:
        if start == MAX_ID:
            raise RespError(errors.STREAM_INVALID_START)
        start += 1
    end, ex = _interval(end_arg, U64_MAX)
    if ex:
        if end == 0:
            raise RespError(errors.STREAM_INVALID_END)
        end -= 1
    return start, end


def _touched(c, key: bytes, event: bytes) -> None:
    """A change to groups or metadata: counted and notified, but (as in Redis) no WATCH touched."""
    c.server.dirty += 1
    c.notify(NOTIFY_STREAM, event, key)


def _entry(i: int, fv) -> list:
    return [format_id(i), fv]


# --- XADD / XTRIM ------------------------------------------------------------------------------------


class _TrimArgs:
    __slots__ = ("maxlen", "minid", "approx", "limit", "arg_idx", "id", "seq_given", "nomkstream", "idpos")

    def __init__(self):
        self.maxlen = None
        self.minid = None
        self.approx = False
        self.limit = 0
        self.arg_idx = 0
        self.id = None  # None: "*"
        self.seq_given = True
        self.nomkstream = False
        self.idpos = 0


def _parse_trim_args(c, argv, xadd: bool) -> _TrimArgs:
    """streamParseAddOrTrimArgsOrReply."""
    a = _TrimArgs()
    argc = len(argv)
    limit_given = False
    strategy = False
    i = 2
    while i < argc:
        more = argc - 1 - i
        opt = argv[i]
        if xadd and opt == b"*":
            break
        low = opt.lower()
        if (low == b"maxlen" or low == b"minid") and more:
            if strategy:
                raise RespError(errors.STREAM_MAXLEN_AND_MINID)
            a.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt == b"~":
                a.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            if low == b"maxlen":
                a.maxlen = _ll(argv[i + 1])
                if a.maxlen < 0:
                    raise RespError(errors.STREAM_MAXLEN_NEGATIVE)
            else:
                a.minid = _id(argv[i + 1])
            i += 1
            strategy = True
            a.arg_idx = i
        elif low == b"limit" and more:
            a.limit = _ll(argv[i + 1])
            if a.limit < 0:
                raise RespError(errors.STREAM_LIMIT_NEGATIVE)
            limit_given = True
            i += 1
        elif xadd and low == b"nomkstream":
            a.nomkstream = True
        elif xadd:
            parsed = parse_id(opt, 0, True, True)
            if parsed is None:
                raise RespError(errors.STREAM_ID_INVALID)
            a.id, a.seq_given = parsed
            break
        else:
            raise RespError(errors.SYNTAX)
        i += 1
    a.idpos = i
    if a.limit and not strategy:
        raise RespError(errors.STREAM_LIMIT_WITHOUT_STRATEGY)
    if not xadd and not strategy:
        raise RespError(errors.XTRIM_NO_STRATEGY)
    if c.is_master:
        a.limit = 0
    elif limit_given:
        if not a.approx:
            raise RespError(errors.STREAM_LIMIT_WITHOUT_APPROX)
    elif a.approx:
        a.limit = 100 * c.server.stream_node_max_entries
        if a.limit <= 0:
            a.limit = 10000
        elif a.limit > 1000000:
            a.limit = 1000000
    else:
        a.limit = 0
    return a


def _rewrite_trim(s: Stream, a: _TrimArgs, out: list) -> None:
    """streamRewriteApproxSpecifier + streamRewriteTrimArgument: `~ n` becomes `= <what is left>`."""
    out[a.arg_idx - 1] = b"="
    if a.maxlen is not None:
        out[a.arg_idx] = b"%d" % len(s)
    else:
        # streamGetEdgeID(first, with tombstones): a node's first entry is its master entry
        out[a.arg_idx] = format_id(s.nodes[0].master if s.nodes else MAX_ID)


def _trim_and_notify(c, key: bytes, s: Stream, a: _TrimArgs) -> int:
    n = s.trim(a.maxlen, a.minid, a.approx, a.limit)
    if n:
        c.notify(NOTIFY_STREAM, b"xtrim", key)
    return n


@command("xadd")
def xadd_command(c, argv):
    if argv[2] == b"*":  # the common form: no options
        a = None
        idpos = 2
    else:
        a = _parse_trim_args(c, argv, True)
        idpos = a.idpos
    nfv = len(argv) - idpos - 1
    if nfv < 2 or nfv & 1:
        raise RespError(errors.wrong_arity("xadd"))
    given = None if a is None else a.id
    if given is not None and a.seq_given and given == 0:
        raise RespError(errors.XADD_ID_ZERO)
    key = argv[1]
    db = c.db
    s = db.lookup(key)
    if s is None:
        if a is not None and a.nomkstream:
            return None
        s = Stream()
        db.add(key, s)
    elif type(s) is not Stream:
        raise RespError(_WRONGTYPE)
    last = s.last_id
    if last == MAX_ID:
        raise RespError(errors.XADD_ID_EXHAUSTED)
    if given is None:
        ms = c.server.now_ms
        new = ms << 64 if ms > last >> 64 else last + 1
    elif a.seq_given:
        new = given
    elif last >> 64 == given >> 64:
        if last & SEQ_MASK == SEQ_MASK:
            raise RespError(errors.XADD_ID_TOO_SMALL)
        new = last + 1
    else:
        new = given
    if new <= last:
        raise RespError(errors.XADD_ID_TOO_SMALL)
    fv = tuple(argv[idpos + 1:])
    total = len(fv[0]) + len(fv[1]) if nfv == 2 else sum(map(len, fv))
    if total > _LISTPACK_MAX:
        raise RespError(errors.XADD_TOO_LARGE)
    server = c.server
    s.append(new, fv, total, server.stream_node_max_entries, server.stream_node_max_bytes)
    reply = format_id(new)
    c.changed(key, NOTIFY_STREAM, b"xadd")
    rewrite = None
    if a is not None and (a.maxlen is not None or a.minid is not None):
        _trim_and_notify(c, key, s, a)
        if a.approx:
            rewrite = list(argv)
            _rewrite_trim(s, a, rewrite)
    if given is None or not a.seq_given:
        if rewrite is None:
            rewrite = list(argv)
        rewrite[idpos] = reply
    if rewrite is not None:
        c.propagate_as(rewrite)
    db.signal_ready(key)
    return reply


@command("xtrim")
def xtrim_command(c, argv):
    a = _parse_trim_args(c, argv, False)
    key = argv[1]
    s = _get_stream(c, key)
    if s is None:
        return 0
    n = _trim_and_notify(c, key, s, a)
    if n:
        if a.approx:
            rewrite = list(argv)
            _rewrite_trim(s, a, rewrite)
            c.propagate_as(rewrite)
        c.db.changed(key)
        c.server.dirty += n
    return n


# --- reads ------------------------------------------------------------------------------------------


@command("xlen")
def xlen_command(c, argv):
    s = _get_stream(c, argv[1])
    return 0 if s is None else len(s)


def _xrange(c, argv, rev: bool):
    if rev:
        start, end = _start_end(argv[3], argv[2])
    else:
        start, end = _start_end(argv[2], argv[3])
    count = -1
    argc = len(argv)
    j = 4
    while j < argc:
        if argv[j].lower() == b"count" and j + 1 < argc:
            count = _ll(argv[j + 1])
            if count < 0:
                count = 0
            j += 2
        else:
            raise RespError(errors.SYNTAX)
    s = _get_stream(c, argv[1])
    if s is None:
        return []
    if count == 0:
        return NULL_ARRAY
    if count == -1:
        count = 0
    return [[format_id(i), fv] for i, fv in s.range(start, end, count, rev)]


@command("xrange")
def xrange_command(c, argv):
    return _xrange(c, argv, False)


@command("xrevrange")
def xrevrange_command(c, argv):
    return _xrange(c, argv, True)


@command("xdel")
def xdel_command(c, argv):
    key = argv[1]
    s = _get_stream(c, key)
    if s is None:
        return 0
    ids = [_id(b) for b in argv[2:]]
    deleted = 0
    first = False
    for i in ids:
        if s.delete(i):
            if i == s.first_id:
                first = True
            if i > s.max_deleted_entry_id:
                s.max_deleted_entry_id = i
            deleted += 1
    if deleted:
        if not s.entries or first:
            s.fix_first_id()
        c.db.changed(key)
        c.notify(NOTIFY_STREAM, b"xdel", key)
        c.server.dirty += deleted
    return deleted


# --- XREAD / XREADGROUP --------------------------------------------------------------------------------


def _xclaim_effect(key: bytes, group_name: bytes, g: ConsumerGroup, id_arg: bytes, nack: Nack) -> list:
    """streamPropagateXCLAIM."""
    return [b"XCLAIM", key, group_name, nack.consumer.name, b"0", id_arg, b"TIME", b"%d" % nack.delivery_time,
            b"RETRYCOUNT", b"%d" % nack.delivery_count, b"FORCE", b"JUSTID", b"LASTID", format_id(g.last_id)]


def _setid_effect(key: bytes, group_name: bytes, g: ConsumerGroup) -> list:
    """streamPropagateGroupID."""
    return [b"XGROUP", b"SETID", key, group_name, format_id(g.last_id), b"ENTRIESREAD", b"%d" % g.entries_read]


def _create_consumer(c, key: bytes, g: ConsumerGroup, name: bytes):
    """streamCreateConsumer with SCC_DEFAULT: notified and counted."""
    consumer = g.create_consumer(name, c.server.now_ms)
    if consumer is not None:
        c.server.dirty += 1
        c.notify(NOTIFY_STREAM, b"xgroup-createconsumer", key)
    return consumer


def _serve_group(c, s: Stream, key: bytes, group_name: bytes, g: ConsumerGroup, consumer, start: int,
                 count: int, noack: bool, effects: list) -> list:
    """streamReplyWithRange for a group reading new entries (the `>` ID)."""
    now = c.server.now_ms
    out = []
    moved = False
    pel = g.pel
    for i, fv in s.range(start, MAX_ID, count):
        if i > g.last_id:
            if g.entries_read != -1 and not s.has_tombstones_in(i):
                g.entries_read += 1
            elif s.entries_added:
                g.entries_read = s.estimate_distance(i)
            g.last_id = i
            moved = True
        out.append([format_id(i), fv])
        if not noack:
            nack = pel.get(i)
            if nack is None:
                nack = pel[i] = Nack(consumer, now)
                consumer.pel[i] = nack
            else:
                nack.consumer.pel.pop(i, None)
                nack.consumer = consumer
                nack.delivery_time = now
                nack.delivery_count = 1
                consumer.pel[i] = nack
            consumer.active_time = now
            effects.append(_xclaim_effect(key, group_name, g, out[-1][0], nack))
    if moved:
        effects.append(_setid_effect(key, group_name, g))
    return out


def _serve_history(c, s: Stream, consumer, start: int, count: int) -> list:
    """streamReplyWithRangeFromConsumerPEL: the consumer's own pending entries from `start`."""
    now = c.server.now_ms
    out = []
    entries = s.entries
    for i in list(consumer.pel.irange(start)):
        if count and len(out) >= count:
            break
        fv = entries.get(i)
        if fv is None:
            out.append([format_id(i), NULL_ARRAY])
        else:
            nack = consumer.pel[i]
            nack.delivery_time = now
            nack.delivery_count += 1
            out.append([format_id(i), fv])
    return out


def _retrying_in_vain(c, keys) -> bool:
    """A blocked XREAD re-run although none of its keys holds a stream (one became a list, say):
    Redis re-runs it only for a ready key of its type, so it stays blocked."""
    if c.blocked is None:
        return False
    lookup = c.db.lookup
    for key in keys:
        if type(lookup(key)) is Stream:
            return False
    return True


def _xread(c, argv, xreadgroup: bool):
    timeout = -1
    count = 0
    streams_arg = 0
    noack = False
    group_name = consumer_name = None
    argc = len(argv)
    i = 1
    while i < argc:
        more = argc - i - 1
        o = argv[i].lower()
        if o == b"block" and more:
            i += 1
            timeout = _ll(argv[i], errors.TIMEOUT_NOT_INTEGER)
            if timeout < 0:
                raise RespError(errors.TIMEOUT_NEGATIVE)
            if timeout > 0 and timeout > _LLONG_MAX - c.server.now_ms:
                raise RespError(errors.TIMEOUT_OUT_OF_RANGE)
        elif o == b"count" and more:
            i += 1
            count = _ll(argv[i])
            if count < 0:
                count = 0
        elif o == b"streams" and more:
            streams_arg = i + 1
            if (argc - streams_arg) % 2:
                raise RespError(errors.xread_unbalanced(xreadgroup))
            break
        elif o == b"group" and more >= 2:
            if not xreadgroup:
                raise RespError(errors.XREAD_GROUP_OPTION)
            group_name = argv[i + 1]
            consumer_name = argv[i + 2]
            i += 2
        elif o == b"noack":
            if not xreadgroup:
                raise RespError(errors.XREAD_NOACK_OPTION)
            noack = True
        else:
            raise RespError(errors.SYNTAX)
        i += 1
    if streams_arg == 0:
        raise RespError(errors.SYNTAX)
    if xreadgroup and group_name is None:
        raise RespError(errors.XREADGROUP_NO_GROUP)
    n = (argc - streams_arg) // 2
    keys = argv[streams_arg:streams_arg + n]
    if not xreadgroup and _retrying_in_vain(c, keys):
        raise Blocked(list(dict.fromkeys(keys)), timeout / 1000)
    lookup = c.db.lookup
    ids = []
    groups = []
    dollar = []
    for k in range(n):
        key = keys[k]
        arg = argv[streams_arg + n + k]
        s = lookup(key)
        if s is not None and type(s) is not Stream:
            raise RespError(_WRONGTYPE)
        if group_name is not None:
            g = None if s is None else s.groups.get(group_name)
            if g is None:
                raise RespError(errors.nogroup_xreadgroup(key, group_name))
            groups.append(g)
        if arg == b"$":
            if xreadgroup:
                raise RespError(errors.XREADGROUP_DOLLAR)
            ids.append(0 if s is None else s.last_id)
            dollar.append(k)
        elif arg == b"+":
            if xreadgroup:
                raise RespError(errors.XREADGROUP_PLUS)
            if s is None:
                ids.append(0)
            else:
                if s.last_id == 0:
                    raise RespError(errors.XREAD_LAST_ID_ZERO)
                ids.append(s.last_id - 1)
        elif arg == b">":
            if not xreadgroup:
                raise RespError(errors.XREAD_GT_ID)
            ids.append(MAX_ID)
        else:
            ids.append(_id(arg))
    now = c.server.now_ms
    served = []
    effects = []
    for k in range(n):
        key = keys[k]
        s = lookup(key)
        if s is None:
            continue
        gt = ids[k]
        serve = history = False
        if group_name is not None:
            g = groups[k]
            if gt != MAX_ID:
                serve = history = True
            elif s.entries and s.last_valid_id() > g.last_id:
                serve = True
                gt = g.last_id
            consumer = g.consumers.get(consumer_name)
            if consumer is None:
                consumer = _create_consumer(c, key, g, consumer_name)
                if noack:
                    effects.append([b"XGROUP", b"CREATECONSUMER", key, group_name, consumer_name])
            consumer.seen_time = now
        elif s.entries and s.last_valid_id() > gt:
            serve = True
        if not serve:
            continue
        start = gt + 1 if gt != MAX_ID else gt
        if group_name is None:
            got = [[format_id(i), fv] for i, fv in s.range(start, MAX_ID, count)]
        elif history:
            got = _serve_history(c, s, consumer, start, count)
        else:
            before = len(effects)
            got = _serve_group(c, s, key, group_name, g, consumer, start, count, noack, effects)
            if len(effects) > before:
                c.server.dirty += 1
        served.append((key, got))
    blocks_again = c.blocked is not None and not served and timeout != -1
    if xreadgroup and not blocks_again:
        # never the request itself; a blocked client's re-run that blocks again replicates
        # nothing (Client.retry_blocked does not), and must leave no replacement behind
        c.propagate_as(*effects)
    if served:
        if c.resp == 2:
            return [[key, got] for key, got in served]
        return MapPairs(served)
    if timeout != -1:
        if c.deny_blocking:
            return NULL_ARRAY
        for k in dollar:
            argv[streams_arg + n + k] = format_id(ids[k])
        raise Blocked(list(dict.fromkeys(keys)), timeout / 1000, unblock_on_nokey=xreadgroup)
    return NULL_ARRAY


@command("xread")
def xread_command(c, argv):
    return _xread(c, argv, False)


@command("xreadgroup")
def xreadgroup_command(c, argv):
    return _xread(c, argv, True)


# --- XGROUP -----------------------------------------------------------------------------------------

_XGROUP_HELP = [
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
]


def _xgroup_prologue(c, argv):
    """xgroupCommand's common part: options, the key, the group. (stream, group, mkstream, entries_read)."""
    sub = argv[1].lower()
    create = sub == b"create"
    setid = sub == b"setid"
    mkstream = False
    entries_read = -1
    argc = len(argv)
    i = 5
    while i < argc:
        opt = argv[i].lower()
        if create and opt == b"mkstream":
            mkstream = True
            i += 1
        elif (create or setid) and opt == b"entriesread" and i + 1 < argc:
            entries_read = _ll(argv[i + 1])
            if entries_read < 0 and entries_read != -1:
                raise RespError(errors.XGROUP_ENTRIESREAD)
            i += 2
        else:
            raise RespError(errors.subcommand_syntax(argv[1], argv[0]))
    s = _get_stream(c, argv[2])
    g = None
    if not mkstream:
        if s is None:
            raise RespError(errors.XGROUP_NEEDS_KEY)
        g = s.groups.get(argv[3])
        if g is None and sub in (b"setid", b"createconsumer", b"delconsumer"):
            raise RespError(errors.nogroup_for_key(argv[3], argv[2]))
    elif s is not None:
        g = s.groups.get(argv[3])
    return s, g, mkstream, entries_read


@command("xgroup|help")
def xgroup_help_command(c, argv):
    return help_reply(argv[0], _XGROUP_HELP)


@command("xgroup|create")
def xgroup_create_command(c, argv):
    s, g, mkstream, entries_read = _xgroup_prologue(c, argv)
    if len(argv) > 8:
        raise RespError(errors.subcommand_syntax(argv[1], argv[0]))
    key = argv[2]
    if argv[4] == b"$":
        i = 0 if s is None else s.last_id
    else:
        i = _id(argv[4])
    if s is None:
        s = Stream()
        c.db.add(key, s)
        c.db.changed(key)
    name = argv[3]
    if name in s.groups:
        raise RespError(errors.BUSYGROUP)
    s.groups[name] = ConsumerGroup(i, entries_read)
    _touched(c, key, b"xgroup-create")
    return OK


@command("xgroup|setid")
def xgroup_setid_command(c, argv):
    s, g, _, entries_read = _xgroup_prologue(c, argv)
    if len(argv) not in (5, 7):
        raise RespError(errors.subcommand_syntax(argv[1], argv[0]))
    if argv[4] == b"$":
        i = s.last_id
    else:
        i = _id(argv[4], 0, False)
    g.last_id = i
    g.entries_read = entries_read
    _touched(c, argv[2], b"xgroup-setid")
    return OK


@command("xgroup|destroy")
def xgroup_destroy_command(c, argv):
    s, g, _, _ = _xgroup_prologue(c, argv)
    if g is None:
        return 0
    key = argv[2]
    del s.groups[argv[3]]
    _touched(c, key, b"xgroup-destroy")
    c.db.signal_ready(key)  # blocked XREADGROUP clients get -NOGROUP
    return 1


@command("xgroup|createconsumer")
def xgroup_createconsumer_command(c, argv):
    s, g, _, _ = _xgroup_prologue(c, argv)
    return 0 if _create_consumer(c, argv[2], g, argv[4]) is None else 1


@command("xgroup|delconsumer")
def xgroup_delconsumer_command(c, argv):
    s, g, _, _ = _xgroup_prologue(c, argv)
    consumer = g.consumers.get(argv[4])
    if consumer is None:
        return 0
    pending = g.delete_consumer(consumer)
    _touched(c, argv[2], b"xgroup-delconsumer")
    return pending


# --- XSETID XACK XPENDING --------------------------------------------------------------------------


@command("xsetid")
def xsetid_command(c, argv):
    i = _id(argv[2])
    max_xdel = 0
    entries_added = -1
    argc = len(argv)
    j = 3
    while j < argc:
        more = argc - 1 - j
        opt = argv[j].lower()
        if opt == b"entriesadded" and more:
            entries_added = _ll(argv[j + 1])
            if entries_added < 0:
                raise RespError(errors.XSETID_ENTRIES_ADDED_NEGATIVE)
            j += 2
        elif opt == b"maxdeletedid" and more:
            max_xdel = _id(argv[j + 1])
            if i < max_xdel:
                raise RespError(errors.XSETID_SMALLER_THAN_MAXDEL_ARG)
            j += 2
        else:
            raise RespError(errors.SYNTAX)
    key = argv[1]
    s = _get_stream(c, key)
    if s is None:
        raise RespError(errors.NO_SUCH_KEY)
    if i < s.max_deleted_entry_id:
        raise RespError(errors.XSETID_SMALLER_THAN_MAXDEL)
    if s.entries:
        if i < s.last_valid_id():
            raise RespError(errors.XSETID_SMALLER_THAN_TOP)
        if entries_added != -1 and len(s) > entries_added:
            raise RespError(errors.XSETID_ENTRIES_ADDED_SMALL)
    s.last_id = i
    if entries_added != -1:
        s.entries_added = entries_added
    if max_xdel:
        s.max_deleted_entry_id = max_xdel
    _touched(c, key, b"xsetid")
    return OK


@command("xack")
def xack_command(c, argv):
    s = _get_stream(c, argv[1])
    g = None if s is None else s.groups.get(argv[2])
    if g is None:
        return 0
    ids = [_id(b) for b in argv[3:]]
    n = 0
    pel = g.pel
    key = argv[1]
    for i in ids:
        nack = pel.pop(i, None)
        if nack is not None:
            nack.consumer.pel.pop(i, None)
            n += 1
            c.server.dirty += 1
    return n


@command("xpending")
def xpending_command(c, argv):
    argc = len(argv)
    if argc != 3 and (argc < 6 or argc > 9):
        raise RespError(errors.SYNTAX)
    minidle = 0
    consumer_name = None
    if argc >= 6:
        k = 3
        if argv[3].lower() == b"idle":
            minidle = _ll(argv[4])
            if argc < 8:
                raise RespError(errors.SYNTAX)
            k += 2
        count = _ll(argv[k + 2])
        if count < 0:
            count = 0
        start, end = _start_end(argv[k], argv[k + 1])
        if k + 3 < argc:
            consumer_name = argv[k + 3]
    key, group_name = argv[1], argv[2]
    s = _get_stream(c, key)
    g = None if s is None else s.groups.get(group_name)
    if g is None:
        raise RespError(errors.nogroup(key, group_name))
    pel = g.pel
    if argc == 3:
        if not pel:
            return [0, None, None, NULL_ARRAY]
        keys = pel.keys()
        owners = [[name, b"%d" % len(cons.pel)] for name, cons in sorted(g.consumers.items()) if cons.pel]
        return [len(pel), format_id(keys[0]), format_id(keys[-1]), owners]
    if consumer_name is not None:
        consumer = g.consumers.get(consumer_name)
        if consumer is None:
            return []
        pel = consumer.pel
    now = c.server.now_ms
    out = []
    if not count:
        return out
    for i in pel.irange(start, end):
        nack = pel[i]
        idle = now - nack.delivery_time
        if minidle and idle < minidle:
            continue
        out.append([format_id(i), nack.consumer.name, idle if idle > 0 else 0, nack.delivery_count])
        if len(out) >= count:
            break
    return out


# --- XCLAIM XAUTOCLAIM ----------------------------------------------------------------------------------


def _claimed_reply(s: Stream, i: int, id_bytes: bytes, justid: bool):
    return id_bytes if justid else [id_bytes, s.entries[i]]


@command("xclaim")
def xclaim_command(c, argv):
    key, group_name = argv[1], argv[2]
    s = _get_stream(c, key)
    g = None if s is None else s.groups.get(group_name)
    if g is None:
        raise RespError(errors.nogroup(key, group_name))
    minidle = _ll(argv[4], errors.XCLAIM_MIN_IDLE)
    if minidle < 0:
        minidle = 0
    argc = len(argv)
    ids = []
    j = 5
    while j < argc:
        i = parse_id(argv[j], 0, True)
        if i is None:
            break
        ids.append(i)
        j += 1
    now = c.server.now_ms
    last_id = 0
    deliverytime = -1
    retrycount = -1
    force = justid = False
    while j < argc:
        more = argc - 1 - j
        opt = argv[j].lower()
        if opt == b"force":
            force = True
        elif opt == b"justid":
            justid = True
        elif opt == b"idle" and more:
            j += 1
            deliverytime = now - _ll(argv[j], errors.XCLAIM_IDLE)
        elif opt == b"time" and more:
            j += 1
            deliverytime = _ll(argv[j], errors.XCLAIM_TIME)
        elif opt == b"retrycount" and more:
            j += 1
            retrycount = _ll(argv[j], errors.XCLAIM_RETRYCOUNT)
        elif opt == b"lastid" and more:
            j += 1
            last_id = _id(argv[j])
        else:
            raise RespError(errors.xclaim_unrecognized(argv[j]))
        j += 1
    effects = []
    propagate_last_id = False
    if last_id > g.last_id:
        g.last_id = last_id
        propagate_last_id = True
    if deliverytime != -1:
        if deliverytime < 0 or deliverytime > now:
            deliverytime = now
    else:
        deliverytime = now
    consumer = g.consumers.get(argv[3])
    if consumer is None:
        consumer = _create_consumer(c, key, g, argv[3])
    consumer.seen_time = now
    out = []
    pel = g.pel
    entries = s.entries
    server = c.server
    for k, i in enumerate(ids):
        nack = pel.get(i)
        if i not in entries:
            if nack is not None:
                effects.append(_xclaim_effect(key, group_name, g, argv[5 + k], nack))
                propagate_last_id = False
                server.dirty += 1
                del pel[i]
                nack.consumer.pel.pop(i, None)
            continue
        if force and nack is None:
            nack = pel[i] = Nack(None, now)
        if nack is None:
            continue
        if nack.consumer is not None and minidle and now - nack.delivery_time < minidle:
            continue
        if nack.consumer is not consumer and nack.consumer is not None:
            nack.consumer.pel.pop(i, None)
        nack.delivery_time = deliverytime
        if retrycount >= 0:
            nack.delivery_count = retrycount
        elif not justid:
            nack.delivery_count += 1
        if nack.consumer is not consumer:
            consumer.pel[i] = nack
            nack.consumer = consumer
        out.append(_claimed_reply(s, i, format_id(i), justid))
        consumer.active_time = now
        effects.append(_xclaim_effect(key, group_name, g, argv[5 + k], nack))
        propagate_last_id = False
        server.dirty += 1
    if propagate_last_id:
        effects.append(_setid_effect(key, group_name, g))
        server.dirty += 1
    c.propagate_as(*effects)
    return out


@command("xautoclaim")
def xautoclaim_command(c, argv):
    minidle = _ll(argv[4], errors.XAUTOCLAIM_MIN_IDLE)
    if minidle < 0:
        minidle = 0
    start, ex = _interval(argv[5], 0)
    if ex:
        if start == MAX_ID:
            raise RespError(errors.STREAM_INVALID_START)
        start += 1
    count = 100
    justid = False
    argc = len(argv)
    j = 6
    max_count = _LONG_MAX // 16
    while j < argc:
        more = argc - 1 - j
        opt = argv[j].lower()
        if opt == b"count" and more:
            v = string2ll(argv[j + 1])
            if v is None or v < 1 or v > max_count:
                raise RespError(errors.XAUTOCLAIM_COUNT)
            count = v
            j += 1
        elif opt == b"justid":
            justid = True
        else:
            raise RespError(errors.SYNTAX)
        j += 1
    key, group_name = argv[1], argv[2]
    s = _get_stream(c, key)
    g = None if s is None else s.groups.get(group_name)
    if g is None:
        raise RespError(errors.nogroup(key, group_name))
    now = c.server.now_ms
    consumer = g.consumers.get(argv[3])
    if consumer is None:
        consumer = _create_consumer(c, key, g, argv[3])
    consumer.seen_time = now
    attempts = count * 10
    pel = g.pel
    keys = pel.keys()
    entries = s.entries
    server = c.server
    effects = []
    out = []
    deleted = []
    cursor = start
    last_seen = None
    while attempts and count:
        attempts -= 1
        pos = pel.bisect_left(cursor)
        if pos >= len(keys):
            last_seen = None
            break
        i = keys[pos]
        last_seen = i
        cursor = i + 1
        nack = pel[i]
        id_bytes = format_id(i)
        if i not in entries:
            effects.append(_xclaim_effect(key, group_name, g, id_bytes, nack))
            server.dirty += 1
            del pel[i]
            nack.consumer.pel.pop(i, None)
            deleted.append(id_bytes)
            count -= 1
            continue
        if minidle and now - nack.delivery_time < minidle:
            continue
        if nack.consumer is not consumer:
            nack.consumer.pel.pop(i, None)
        nack.delivery_time = now
        if not justid:
            nack.delivery_count += 1
        if nack.consumer is not consumer:
            consumer.pel[i] = nack
            nack.consumer = consumer
        out.append(_claimed_reply(s, i, id_bytes, justid))
        count -= 1
        consumer.active_time = now
        effects.append(_xclaim_effect(key, group_name, g, id_bytes, nack))
        server.dirty += 1
    if last_seen is None:
        next_id = 0
    else:
        pos = pel.bisect_right(last_seen)
        next_id = keys[pos] if pos < len(keys) else 0
    c.propagate_as(*effects)
    return [format_id(next_id), out, deleted]


# --- XINFO ------------------------------------------------------------------------------------------

_XINFO_HELP = [
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
]


def _xinfo_stream_of(c, key: bytes) -> Stream:
    s = _get_stream(c, key)
    if s is None:
        raise RespError(errors.NO_SUCH_KEY)
    return s


@command("xinfo|help")
def xinfo_help_command(c, argv):
    return help_reply(argv[0], _XINFO_HELP)


@command("xinfo|consumers")
def xinfo_consumers_command(c, argv):
    key = argv[2]
    s = _xinfo_stream_of(c, key)
    g = s.groups.get(argv[3])
    if g is None:
        raise RespError(errors.nogroup_for_key(argv[3], key))
    now = c.server.now_ms
    out = []
    for name, cons in sorted(g.consumers.items()):
        idle = now - cons.seen_time
        inactive = now - cons.active_time if cons.active_time != -1 else -1
        out.append({b"name": name, b"pending": len(cons.pel), b"idle": idle if idle > 0 else 0,
                    b"inactive": inactive})
    return out


@command("xinfo|groups")
def xinfo_groups_command(c, argv):
    s = _xinfo_stream_of(c, argv[2])
    out = []
    for name, g in sorted(s.groups.items()):
        out.append({b"name": name, b"consumers": len(g.consumers), b"pending": len(g.pel),
                    b"last-delivered-id": format_id(g.last_id),
                    b"entries-read": None if g.entries_read == -1 else g.entries_read,
                    b"lag": s.group_lag(g)})
    return out


@command("xinfo|stream")
def xinfo_stream_command(c, argv):
    key = argv[2]
    s = _xinfo_stream_of(c, key)
    opts = argv[3:]
    full = bool(opts)
    count = 10
    if opts:
        if len(opts) not in (1, 3) or opts[0].lower() != b"full":
            raise RespError(errors.subcommand_syntax(argv[1], argv[0]))
        if len(opts) == 3:
            if opts[1].lower() != b"count":
                raise RespError(errors.subcommand_syntax(argv[1], argv[0]))
            count = _ll(opts[2])
            if count < 0:
                count = 10
    keys, nodes = s.tree_size()
    info = {b"length": len(s), b"radix-tree-keys": keys, b"radix-tree-nodes": nodes,
            b"last-generated-id": format_id(s.last_id),
            b"max-deleted-entry-id": format_id(s.max_deleted_entry_id),
            b"entries-added": s.entries_added, b"recorded-first-entry-id": format_id(s.first_id)}
    if not full:
        info[b"groups"] = len(s.groups)
        first = s.range(0, MAX_ID, 1)
        last = s.range(0, MAX_ID, 1, True)
        info[b"first-entry"] = _entry(*first[0]) if first else None
        info[b"last-entry"] = _entry(*last[0]) if last else None
        return info
    info[b"entries"] = [_entry(i, fv) for i, fv in s.range(0, MAX_ID, count)]
    groups = []
    for name, g in sorted(s.groups.items()):
        pending = []
        for i, nack in g.pel.items():
            if count and len(pending) >= count:
                break
            pending.append([format_id(i), nack.consumer.name, nack.delivery_time, nack.delivery_count])
        consumers = []
        for cname, cons in sorted(g.consumers.items()):
            cpending = []
            for i, nack in cons.pel.items():
                if count and len(cpending) >= count:
                    break
                cpending.append([format_id(i), nack.delivery_time, nack.delivery_count])
            consumers.append({b"name": cname, b"seen-time": cons.seen_time, b"active-time": cons.active_time,
                              b"pel-count": len(cons.pel), b"pending": cpending})
        groups.append({b"name": name, b"last-delivered-id": format_id(g.last_id),
                       b"entries-read": None if g.entries_read == -1 else g.entries_read,
                       b"lag": s.group_lag(g), b"pel-count": len(g.pel), b"pending": pending,
                       b"consumers": consumers})
    info[b"groups"] = groups
    return info
