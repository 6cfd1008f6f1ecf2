"""Introspection: COMMAND, OBJECT, MEMORY, SLOWLOG, LATENCY, MONITOR (and `monitor_line`, the text
MONITOR clients receive, used by the server's feed_monitors).

COMMAND's replies come from the captured command table (amr_emulator.protocol.commands): the
entries of the commands the shard serves, exactly as redis-server sent them.

OBJECT ENCODING names the encoding Redis 7.4 would use for the value as it is now. Redis chooses an
encoding as a value grows and rarely goes back (a hash converted to a hashtable stays one), so for
lists, hashes and sets, which do not record their history here, the name is the one a value built
from scratch with these contents would have. Sorted sets record it (ZSet.encoding).

OBJECT IDLETIME and FREQ read the access clocks eviction.py keeps (from the first OBJECT call on,
or while an LRU/LFU policy is set).
"""
from __future__ import annotations

import re
from collections import deque
from time import time

from amr_emulator.protocol import errors
from amr_emulator.protocol.commands import COMMANDS, get_keys, lookup
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import OK, string2ll

from ..eviction import lfu_decr, peek_clock
from ..glob import glob_match
from ..structures.listpack import lp_entry_size
from . import command, help_reply

# --- COMMAND ----------------------------------------------------------------------------------------


def lookup_by_name(name: bytes):
    """lookupCommandBySds: "get" or "config|get" (one level of subcommands); None if unknown."""
    parts = name.decode("latin-1").lower().split("|")
    if len(parts) > 2:
        return None
    spec = COMMANDS.get(parts[0])
    if spec is None or len(parts) == 1:
        return spec
    if not spec.subcommands:
        return None
    return spec.subcommands.get(parts[1])


@command("command")
def command_command(c, argv):
    return [spec.info for spec in COMMANDS.values()]


@command("command|count")
def command_count_command(c, argv):
    return len(COMMANDS)


@command("command|info")
def command_info_command(c, argv):
    if len(argv) == 2:
        return [spec.info for spec in COMMANDS.values()]
    out = []
    for name in argv[2:]:
        spec = lookup_by_name(name)
        out.append(None if spec is None else spec.info)
    return out


@command("command|docs")
def command_docs_command(c, argv):
    if len(argv) == 2:
        return {spec.name.encode(): spec.docs for spec in COMMANDS.values()}
    specs = [s for s in (lookup_by_name(n) for n in argv[2:]) if s is not None]
    names = [s.name for s in specs]
    if c.resp == 2 and len(set(names)) != len(names):
        # Redis answers a name asked twice twice; a flat RESP2 array can say so
        flat = []
        for s in specs:
            flat += [s.name.encode(), s.docs]
        return flat
    return {s.name.encode(): s.docs for s in specs}


def _acl_category(spec, category: str) -> bool:
    return ("@" + category) in spec.acl_categories


@command("command|list")
def command_list_command(c, argv):
    keep = None
    i = 2
    argc = len(argv)
    while i < argc:
        if argv[i].lower() == b"filterby" and argc - 1 - i == 2:
            kind = argv[i + 1].lower()
            arg = argv[i + 2]
            if kind == b"module":
                def keep(spec):
                    return False  # no modules are loaded
            elif kind == b"aclcat":
                cat = arg.decode("latin-1").lower()

                def keep(spec, cat=cat):
                    return _acl_category(spec, cat)
            elif kind == b"pattern":
                def keep(spec, pat=arg):
                    return glob_match(pat, spec.name.encode(), nocase=True)
            else:
                raise RespError(errors.SYNTAX)
            i += 3
        else:
            raise RespError(errors.SYNTAX)
    out = []
    for spec in COMMANDS.values():
        if keep is None or keep(spec):
            out.append(spec.name.encode())
        for sub in spec.subcommands.values():
            if keep is None or keep(sub):
                out.append(sub.name.encode())
    return out


@command("command|getkeys")
def command_getkeys_command(c, argv):
    cmd = argv[2:]
    spec = lookup(cmd)
    if spec is None:
        raise RespError(errors.GETKEYS_INVALID_COMMAND)
    if not spec.has_keys:
        raise RespError(errors.GETKEYS_NO_KEYS)
    arity = spec.arity
    if (arity > 0 and arity != len(cmd)) or len(cmd) < -arity:
        raise RespError(errors.GETKEYS_ARITY)
    positions = get_keys(spec, cmd)
    if not positions:
        if "no_mandatory_keys" in spec.flags:
            return []
        raise RespError(errors.GETKEYS_INVALID_ARGS)
    return [cmd[i] for i in positions]


_COMMAND_HELP = [
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
]


@command("command|help")
def command_help_command(c, argv):
    return help_reply(argv[0], _COMMAND_HELP)


# --- encodings --------------------------------------------------------------------------------------

EMBSTR_SIZE_LIMIT = 44
SHARED_INTEGERS = 10000
_LIST_SIZE_LEVELS = (4096, 8192, 16384, 32768, 65536)
_SIZE_SAFETY_LIMIT = 8192


def _lp_bytes(items, limit: int | None = None) -> int:
    """lpBytes of a listpack holding `items` (stops counting once past `limit`)."""
    total = 7  # header (total bytes, count) and terminator
    for it in items:
        total += lp_entry_size(it)
        if limit is not None and total > limit:
            break
    return total


def _int_encodable(b: bytes) -> bool:
    return len(b) <= 20 and string2ll(b) is not None


def _server_int(server, attr: str, setting: str) -> int:
    v = getattr(server, attr, None)
    return int(server.config.values[setting]) if v is None else v


def list_encoding(server, lst) -> bytes:
    fill = _server_int(server, "list_max_listpack_size", "list-max-listpack-size")
    if fill >= 0:
        count_limit = fill or 1
        if len(lst) > count_limit:
            return b"quicklist"
        return b"listpack" if _lp_bytes(lst, _SIZE_SAFETY_LIMIT) <= _SIZE_SAFETY_LIMIT else b"quicklist"
    limit = _LIST_SIZE_LEVELS[min(-fill - 1, len(_LIST_SIZE_LEVELS) - 1)]
    return b"listpack" if _lp_bytes(lst, limit) <= limit else b"quicklist"


def hash_encoding(server, h: dict) -> bytes:
    entries = _server_int(server, "hash_max_listpack_entries", "hash-max-listpack-entries")
    value = _server_int(server, "hash_max_listpack_value", "hash-max-listpack-value")
    if len(h) > entries:
        return b"hashtable"
    for k, v in h.items():
        if len(k) > value or len(v) > value:
            return b"hashtable"
    return b"listpack"


def set_encoding(server, s: set) -> bytes:
    n = len(s)
    if n <= _server_int(server, "set_max_intset_entries", "set-max-intset-entries") and all(
            _int_encodable(m) for m in s):
        return b"intset"
    if n <= _server_int(server, "set_max_listpack_entries", "set-max-listpack-entries"):
        value = _server_int(server, "set_max_listpack_value", "set-max-listpack-value")
        if all(len(m) <= value for m in s):
            return b"listpack"
    return b"hashtable"


def string_encoding(v: bytes) -> bytes:
    if _int_encodable(v):
        return b"int"
    return b"embstr" if len(v) <= EMBSTR_SIZE_LIMIT else b"raw"


def object_encoding(server, value) -> bytes:
    t = type(value)
    if t is bytes:
        return string_encoding(value)
    if t is deque:
        return list_encoding(server, value)
    if t is dict:
        return hash_encoding(server, value)
    if t is set:
        return set_encoding(server, value)
    enc = getattr(value, "encoding", None)
    if callable(enc):
        return enc(server)
    return enc if isinstance(enc, bytes) else b"raw"


# --- OBJECT -----------------------------------------------------------------------------------------

_OBJECT_HELP = [
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
]

LFU_INIT_VAL = 5
OBJ_SHARED_REFCOUNT = 2**31 - 1


def _lfu_policy(server) -> bool:
    return server.config.values["maxmemory-policy"].endswith("-lfu")


@command("object|help")
def object_help_command(c, argv):
    return help_reply(argv[0], _OBJECT_HELP)


@command("object|encoding")
def object_encoding_command(c, argv):
    value = c.db.lookup(argv[2])
    if value is None:
        return None
    return object_encoding(c.server, value)


@command("object|refcount")
def object_refcount_command(c, argv):
    value = c.db.lookup(argv[2])
    if value is None:
        return None
    if type(value) is bytes and _int_encodable(value):
        server = c.server
        n = int(value)
        policy = server.config.values["maxmemory-policy"]
        shared_ok = server.maxmemory == 0 or not policy.endswith(("-lru", "-lfu"))
        if shared_ok and 0 <= n < SHARED_INTEGERS:
            return OBJ_SHARED_REFCOUNT  # one of Redis's shared integer objects
    return 1


@command("object|idletime")
def object_idletime_command(c, argv):
    value, clock = peek_clock(c, argv[2])  # lookupKeyRead with LOOKUP_NOTOUCH
    if value is None:
        return None
    server = c.server
    if _lfu_policy(server):
        raise RespError(errors.LFU_SELECTED)
    return max(0, server.now_ms - (server.eviction.tracking_since if clock is None else clock)) // 1000


@command("object|freq")
def object_freq_command(c, argv):
    value, clock = peek_clock(c, argv[2])
    if value is None:
        return None
    if not _lfu_policy(c.server):
        raise RespError(errors.LFU_NOT_SELECTED)
    return LFU_INIT_VAL if clock is None else lfu_decr(c.server, clock)


# --- MEMORY -----------------------------------------------------------------------------------------

_MEMORY_HELP = [
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
]

ROBJ = 16
DICT_ENTRY = 24
DICT = 56
QUICKLIST = 40
QUICKLIST_NODE = 32


def alloc_size(n: int) -> int:
    """The allocation a request of n bytes gets (jemalloc's size classes)."""
    if n <= 8:
        return 8
    if n <= 128:
        return (n + 15) & ~15
    group = 1 << (n - 1).bit_length()  # the power of two at or above n
    step = group >> 3
    return (n + step - 1) // step * step


def sds_size(b: bytes) -> int:
    n = len(b)
    header = 3 if n < 256 else 5 if n < 65536 else 9
    return alloc_size(header + n + 1)


def _buckets(n: int) -> int:
    size = 4
    while size < n:
        size <<= 1
    return size if n else 0


def _sampled(items, n: int, samples: int, cost) -> int:
    total = count = 0
    for it in items:
        if count >= samples:
            break
        total += cost(it)
        count += 1
    return int(total / count * n) if count else 0


def value_size(server, value, samples: int) -> int:
    """objectComputeSize, estimated: the value's allocations as Redis would make them."""
    t = type(value)
    if t is bytes:
        enc = string_encoding(value)
        if enc == b"int":
            return ROBJ
        if enc == b"embstr":
            return alloc_size(ROBJ + 3 + len(value) + 1)
        return ROBJ + sds_size(value)
    if t is deque:
        if list_encoding(server, value) == b"listpack":
            return ROBJ + alloc_size(_lp_bytes(value))
        nodes = max(1, (_lp_bytes(value) + 8191) // 8192)
        return ROBJ + QUICKLIST + nodes * QUICKLIST_NODE + alloc_size(_lp_bytes(value))
    if t is dict:
        if hash_encoding(server, value) == b"listpack":
            return ROBJ + alloc_size(_lp_bytes(x for kv in value.items() for x in kv))
        n = len(value)
        return (ROBJ + DICT + 8 * _buckets(n)
                + _sampled(value.items(), n, samples, lambda kv: sds_size(kv[0]) + sds_size(kv[1]) + DICT_ENTRY))
    if t is set:
        enc = set_encoding(server, value)
        if enc == b"intset":
            width = 2
            for m in value:
                v = int(m)
                if not -(2**15) <= v < 2**15:
                    width = max(width, 4 if -(2**31) <= v < 2**31 else 8)
            return ROBJ + alloc_size(8 + width * len(value))
        if enc == b"listpack":
            return ROBJ + alloc_size(_lp_bytes(value))
        n = len(value)
        return ROBJ + DICT + 8 * _buckets(n) + _sampled(value, n, samples, lambda m: sds_size(m) + DICT_ENTRY)
    usage = getattr(value, "memory_usage", None)
    if usage is not None:  # a structure that estimates itself (streams)
        return usage()
    enc = object_encoding(server, value)
    items = getattr(value, "items", None)
    if enc == b"listpack" and items is not None:
        from amr_emulator.protocol.resp import format_double

        return ROBJ + alloc_size(_lp_bytes(x for m, s in items() for x in (m, format_double(s))))
    if items is not None:
        n = len(value)
        return (ROBJ + 16 + 32 + DICT + 8 * _buckets(n) + alloc_size(32 + 32 * 16)
                + _sampled(items(), n, samples, lambda ms: sds_size(ms[0]) + DICT_ENTRY + alloc_size(32 + 16)))
    return ROBJ


@command("memory|help")
def memory_help_command(c, argv):
    return help_reply(argv[0], _MEMORY_HELP)


@command("memory|usage")
def memory_usage_command(c, argv):
    samples = 5
    j = 3
    argc = len(argv)
    while j < argc:
        if argv[j].lower() == b"samples" and j + 1 < argc:
            n = string2ll(argv[j + 1])
            if n is None:
                raise RespError(errors.NOT_INTEGER)
            if n < 0:
                raise RespError(errors.SYNTAX)
            samples = n if n else 2**63 - 1
            j += 2
        else:
            raise RespError(errors.SYNTAX)
    key = argv[2]
    value = c.db.data.get(key)  # dbFind: an expired key not yet removed still counts
    if value is None:
        return None
    return value_size(c.server, value, samples) + sds_size(key) + DICT_ENTRY


# --- SLOWLOG ----------------------------------------------------------------------------------------

_SLOWLOG_HELP = [
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
]


@command("slowlog|help")
def slowlog_help_command(c, argv):
    return help_reply(argv[0], _SLOWLOG_HELP)


@command("slowlog|get")
def slowlog_get_command(c, argv):
    if len(argv) > 3:
        raise RespError(errors.subcommand_syntax(argv[1], argv[0]))
    log = c.server.slowlog
    count = 10
    if len(argv) == 3:
        count = string2ll(argv[2])
        if count is None or count < -1:
            raise RespError(errors.SLOWLOG_COUNT)
        if count == -1:
            count = len(log)
    out = []
    for entry in log:
        if len(out) >= count:
            break
        eid, ts, usec, args, addr, name = entry
        out.append([eid, ts, usec, list(args), addr, name])
    return out


@command("slowlog|len")
def slowlog_len_command(c, argv):
    return len(c.server.slowlog)


@command("slowlog|reset")
def slowlog_reset_command(c, argv):
    c.server.slowlog.clear()
    return OK


# --- LATENCY ----------------------------------------------------------------------------------------
# server.latency_events: event name (bytes) -> {"samples": deque of (unix time, ms), "max": ms}

LATENCY_TS_LEN = 160

_LATENCY_HELP = [
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
]


def latency_add_sample(server, event: bytes, ms: int) -> None:
    """latencyAddSampleIfNeeded: record `ms` for `event` when it reaches latency-monitor-threshold."""
    threshold = getattr(server, "latency_monitor_threshold", 0)
    if not threshold or ms < threshold:
        return
    ts = server.latency_events.get(event)
    if ts is None:
        ts = server.latency_events[event] = {"samples": deque(maxlen=LATENCY_TS_LEN), "max": 0}
    now = int(time())
    samples = ts["samples"]
    if samples and samples[-1][0] == now:
        samples[-1] = (now, max(samples[-1][1], ms))
    else:
        samples.append((now, ms))
    ts["max"] = max(ts["max"], ms)


@command("latency|help")
def latency_help_command(c, argv):
    return help_reply(argv[0], _LATENCY_HELP)


@command("latency|latest")
def latency_latest_command(c, argv):
    out = []
    for event, ts in c.server.latency_events.items():
        if ts["samples"]:
            when, ms = ts["samples"][-1]
            out.append([event, when, ms, ts["max"]])
    return out


@command("latency|history")
def latency_history_command(c, argv):
    ts = c.server.latency_events.get(argv[2])
    if ts is None:
        return []
    return [[when, ms] for when, ms in ts["samples"]]


@command("latency|reset")
def latency_reset_command(c, argv):
    events = c.server.latency_events
    if len(argv) == 2:
        n = len(events)
        events.clear()
        return n
    n = 0
    for event in argv[2:]:
        if events.pop(event, None) is not None:
            n += 1
    return n


# --- MONITOR ----------------------------------------------------------------------------------------


@command("monitor")
def monitor_command(c, argv):
    if c.deny_blocking:
        raise RespError(errors.MONITOR_DENY_BLOCKING)
    server = c.server
    if c.monitor or c.is_master:
        if c.reply_mode == 0:
            c.reply_mode = 2  # Redis answers nothing to a second MONITOR
        return None
    c.monitor = True
    server.monitors.append(c)
    server.hot_path_changed()
    return OK


def _repr_table() -> list:
    table = []
    for i in range(256):
        ch = bytes([i])
        if ch in b'\\"':
            table.append(b"\\" + ch)
        elif i in _ESCAPES:
            table.append(_ESCAPES[i])
        elif 32 <= i < 127:
            table.append(ch)
        else:
            table.append(b"\\x%02x" % i)
    return table


_ESCAPES = {10: b"\\n", 13: b"\\r", 9: b"\\t", 7: b"\\a", 8: b"\\b"}
_REPR = _repr_table()
_NEEDS_ESCAPE = re.compile(rb'[^\x20-\x7e]|["\\]')


def repr_arg(a: bytes) -> bytes:
    """sdscatrepr: the argument in double quotes, with C escapes for what is not printable."""
    if _NEEDS_ESCAPE.search(a) is None:
        return b'"' + a + b'"'
    return b'"' + b"".join([_REPR[x] for x in a]) + b'"'


def monitor_line(c, argv) -> bytes:
    """What MONITOR clients receive for a command: `+<sec>.<usec> [<db> <addr>] "cmd" "arg"...`."""
    now = time()
    sec = int(now)
    usec = int((now - sec) * 1e6)
    return b"+%d.%06d [%d %s] %s\r\n" % (sec, usec, c.db.id, c.addr.encode("latin-1", "replace"),
                                          b" ".join([repr_arg(a) for a in argv]))
