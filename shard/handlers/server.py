"""Server commands: FLUSHALL FLUSHDB DBSIZE SWAPDB TIME LASTSAVE CONFIG DEBUG INFO."""
from __future__ import annotations

import os
import platform
import re
import resource
import struct
import sys
import time as _time

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import OK, Simple, Verbatim, string2ll

from . import command, help_reply

# --- keyspace --------------------------------------------------------------------------------------


def _flush_generic(c, argv) -> None:
    """getFlushCommandFlags: nothing, SYNC or ASYNC (the flush itself is always immediate here)."""
    if len(argv) > 2 or (len(argv) == 2 and argv[1].lower() not in (b"sync", b"async")):
        raise RespError(errors.SYNTAX)


@command("flushall")
def flushall_command(c, argv):
    _flush_generic(c, argv)
    server = c.server
    for db in server.dbs:
        server.dirty += db.flush()
    from shard.persistence import flushall_hook

    flushall_hook(server)  # stops a BGSAVE; saves the empty dataset when save points are set
    if server.tracking is not None:
        server.tracking.flushed()
    c.propagate_as(list(argv))  # replicated even when nothing was removed (forceCommandPropagation)
    return OK


@command("flushdb")
def flushdb_command(c, argv):
    _flush_generic(c, argv)
    c.server.dirty += c.db.flush()
    if c.server.tracking is not None:
        c.server.tracking.flushed()
    c.propagate_as(list(argv))
    return OK


@command("dbsize")
def dbsize_command(c, argv):
    return len(c.db.data)


def _db_index(b: bytes, message: str) -> int:
    """getIntFromObjectOrReply with a custom message: not an integer, or outside a C int."""
    v = string2ll(b)
    if v is None or not -(2**31) <= v <= 2**31 - 1:
        raise RespError(message)
    return v


@command("swapdb")
def swapdb_command(c, argv):
    server = c.server
    id1 = _db_index(argv[1], errors.INVALID_FIRST_DB)
    id2 = _db_index(argv[2], errors.INVALID_SECOND_DB)
    n = len(server.dbs)
    if not (0 <= id1 < n and 0 <= id2 < n):
        raise RespError(errors.DB_INDEX_OUT_OF_RANGE)
    if id1 != id2:
        db1, db2 = server.dbs[id1], server.dbs[id2]
        # a WATCHed key that exists on either side changes
        for a, b in ((db1, db2), (db2, db1)):
            for key, clients in a.watched.items():
                if key in a.data or key in b.data:
                    for w in clients:
                        w.dirty_cas = True
        db1.data, db2.data = db2.data, db1.data
        db1.expires, db2.expires = db2.expires, db1.expires
        db1.avg_ttl, db2.avg_ttl = db2.avg_ttl, db1.avg_ttl
        db1.access, db2.access = db2.access, db1.access  # eviction's clocks and sizes go along
        db1.sizes, db2.sizes = db2.sizes, db1.sizes
        db1.mem, db2.mem = db2.mem, db1.mem
        db1.sample_keys = db2.sample_keys = []
        # clients stay in their database: those blocked on a key that now exists are served
        for db in (db1, db2):
            for key in db.blocking:
                if key in db.data:
                    server.ready_keys[(db, key)] = None
    server.dirty += 1
    return OK


@command("time")
def time_command(c, argv):
    now = _time.time_ns() // 1000
    return [b"%d" % (now // 1000000), b"%d" % (now % 1000000)]


@command("lastsave")
def lastsave_command(c, argv):
    return c.server.lastsave


# --- CONFIG ----------------------------------------------------------------------------------------


def _text(b: bytes) -> str:
    return b.decode("latin-1")


def _wire(s: str) -> bytes:
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogateescape")


def is_local(c) -> bool:
    """connIsLocal: a loopback peer (or no TCP peer at all)."""
    host = c.addr.rsplit(":", 1)[0]
    return host.startswith("127.") or host in ("::1", "?", "") or host.startswith("::ffff:127.")


@command("config|get")
def config_get_command(c, argv):
    found = c.server.config.matching([_text(a) for a in argv[2:]])
    return {_wire(k): _wire(v) for k, v in found.items()}


@command("config|set")
def config_set_command(c, argv):
    if len(argv) % 2:
        raise RespError(errors.SYNTAX)
    pairs = [(_text(argv[i]), _text(argv[i + 1])) for i in range(2, len(argv), 2)]
    c.server.config.set_many(pairs, local=is_local(c))
    return OK


_STAT_COUNTERS = ("stat_numcommands", "stat_numconnections", "stat_expired_keys", "stat_evicted_keys",
                  "stat_keyspace_hits", "stat_keyspace_misses", "stat_rejected_conn", "stat_total_error_replies",
                  "stat_expired_subkeys", "stat_evicted_clients", "stat_sync_full", "stat_sync_partial_ok",
                  "stat_sync_partial_err", "stat_net_input_bytes", "stat_net_output_bytes",
                  "stat_net_repl_input_bytes", "stat_net_repl_output_bytes",
                  "stat_unexpected_error_replies")


@command("config|resetstat")
def config_resetstat_command(c, argv):
    server = c.server
    for name in _STAT_COUNTERS:
        if hasattr(server, name):
            setattr(server, name, 0)
    for entry in server.table.values():
        entry.stats[:] = [0, 0, 0, 0]
        if entry.subs:
            for sub in entry.subs.values():
                sub.stats[:] = [0, 0, 0, 0]
    stats = getattr(server, "error_stats", None)
    if stats:
        stats.clear()
    return OK


_CONFIG_HELP = [
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
]


@command("config|help")
def config_help_command(c, argv):
    return help_reply(argv[0], _CONFIG_HELP)


# --- DEBUG -----------------------------------------------------------------------------------------

_DEBUG_HELP = [  # the subcommands the shard serves, in the words of Redis 7.4's DEBUG HELP
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys (and hash-fields) in background ",
    "    when they are not accessed (otherwise the Redis behavior). Setting it",
    "    to 1 reenables back the default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
]

_FLOAT_PREFIX = re.compile(rb"\s*[+-]?(?:inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)", re.I)
_INT_PREFIX = re.compile(rb"\s*[+-]?\d+")


def _strtod(b: bytes) -> float:
    """C strtod(s, NULL): the longest numeric prefix, 0 if none."""
    m = _FLOAT_PREFIX.match(b)
    if not m:
        return 0.0
    try:
        return float(m.group(0))
    except (ValueError, OverflowError):
        return 0.0


def _atoi(b: bytes) -> int:
    m = _INT_PREFIX.match(b)
    if not m:
        return 0
    v = int(m.group(0))
    return (v + 2**31) % 2**32 - 2**31


@command("debug")
def debug_command(c, argv):
    server = c.server
    mode = server.config.values["enable-debug-command"]
    if not (mode == "yes" or (mode == "local" and is_local(c))):
        raise RespError(errors.DEBUG_NOT_ALLOWED)
    sub = argv[1].lower()
    argc = len(argv)
    if sub == b"help" and argc == 2:
        return help_reply(argv[0], _DEBUG_HELP)
    if sub == b"sleep" and argc == 3:
        seconds = _strtod(argv[2])
        if seconds > 0 and seconds == seconds:
            _time.sleep(min(seconds, 1e6))  # blocks the whole shard, as Redis does
            server.update_clock()
        return OK
    if sub == b"set-active-expire" and argc == 3:
        server.expiry.enabled = bool(_atoi(argv[2]))
        return OK
    if sub == b"error" and argc == 3:
        return RespError(_text(argv[2]).replace("\n", " ").replace("\r", " "))
    if sub == b"reload":
        from .persistence import debug_reload

        return debug_reload(c, argv)
    if sub == b"log" and argc == 3:
        import logging

        logging.getLogger("shard").warning("DEBUG LOG: %s", _text(argv[2]))
        return OK
    raise RespError(errors.subcommand_syntax(argv[1], argv[0]))


# --- INFO ------------------------------------------------------------------------------------------

DEFAULT_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu", "module_list",
                    "errorstats", "cluster", "keyspace")


def bytes_to_human(n: int) -> str:
    """bytesToHuman: B under 1K, then K M G T P with two decimals."""
    if n < 1024:
        return "%dB" % n
    for unit, power in (("K", 1), ("M", 2), ("G", 3), ("T", 4), ("P", 5)):
        if n < 1024 ** (power + 1):
            return "%.2f%s" % (n / 1024**power, unit)
    return "%dB" % n


def _f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def _usec_per_call(usec: int, calls: int) -> float:
    """(float)microseconds / calls, in C float precision, as INFO commandstats prints it."""
    if calls == 0:
        return 0.0
    return _f32(_f32(float(usec)) / _f32(float(calls)))


def _memory_stats(server) -> dict:
    """Memory figures for INFO memory: used, peak, startup, rss. Used is the process's RSS, or, while
    maxmemory is set, the dataset accounting eviction steers by (shard/eviction.py), so that
    used_memory and maxmemory compare as on Redis."""
    rss = server.used_memory()
    if server.maxmemory:
        from ..eviction import STARTUP_MEMORY

        used = server.eviction.used()
        peak = max(getattr(server, "stat_peak_accounted", 0), used)
        server.stat_peak_accounted = peak
        return {"used": used, "peak": peak, "startup": STARTUP_MEMORY, "rss": rss}
    used = rss
    peak = max(getattr(server, "stat_peak_memory", 0), used)
    server.stat_peak_memory = peak
    startup = getattr(server, "startup_memory", None)
    if startup is None:
        startup = server.startup_memory = used
    return {"used": used, "peak": peak, "startup": min(startup, used), "rss": rss}


def _system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def _replid(server) -> str:
    rid = getattr(server, "replid", None)
    if rid is None:
        import secrets

        rid = server.replid = secrets.token_hex(20)
    return rid


def _section_server(server) -> list:
    uname = platform.uname()
    now = _time.time()
    uptime = int(now - server.start_time)
    cfg_hz = server.config.values["hz"]
    return [
        ("redis_version", server.version),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", "0"),
        ("redis_mode", "cluster" if server.config.values["cluster-enabled"] == "yes" else "standalone"),
        ("os", f"{uname.system} {uname.release} {uname.machine}"),
        ("arch_bits", 64 if sys.maxsize > 2**32 else 32),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll" if sys.platform.startswith("linux") else "kqueue"),
        ("atomicvar_api", "c11-builtin"),
        ("gcc_version", "0.0.0"),
        ("process_id", server.pid),
        ("process_supervised", "no"),
        ("run_id", server.run_id),
        ("tcp_port", server.port),
        ("server_time_usec", int(now * 1e6)),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", server.hz),
        ("configured_hz", cfg_hz),
        ("lru_clock", int(now) & ((1 << 24) - 1)),
        ("executable", sys.executable),
        ("config_file", ""),
        ("io_threads_active", 0),
        ("listener0", "name=tcp," + ",".join(f"bind={b}" for b in server.bind.split()) + f",port={server.port}"),
    ]


def _section_clients(server) -> list:
    clients = list(server.clients.values())
    replicas = getattr(server, "replicas", ()) or ()
    max_in = 0
    for cl in clients:
        pending = cl.parser.pending()
        if pending > max_in:
            max_in = pending
    timeouts = sum(1 for cl in clients if cl.blocked is not None and cl.blocked.timer is not None)
    return [
        ("connected_clients", len(clients) - len(replicas)),
        ("cluster_connections", 0),
        ("maxclients", server.config.maxclients),
        ("client_recent_max_input_buffer", max_in),
        ("client_recent_max_output_buffer", 0),
        ("blocked_clients", server.blocked_clients),
        ("tracking_clients", 0 if server.tracking is None else server.tracking.clients),
        ("pubsub_clients", sum(1 for cl in clients if cl.pubsub_count)),
        ("watching_clients", sum(1 for cl in clients if cl.watched)),
        ("clients_in_timeout_table", timeouts),
        ("total_watched_keys", sum(len(db.watched) for db in server.dbs)),
        ("total_blocking_keys", sum(len(db.blocking) for db in server.dbs)),
        ("total_blocking_keys_on_nokey", 0),
    ]


def _section_memory(server) -> list:
    m = _memory_stats(server)
    used, peak, startup = m["used"], m["peak"], m["startup"]
    overhead = startup
    dataset = max(0, used - overhead)
    total_sys = _system_memory()
    maxmemory = server.maxmemory
    from ..scripting import info_fields

    lua = info_fields(server)
    return [
        ("used_memory", used),
        ("used_memory_human", bytes_to_human(used)),
        ("used_memory_rss", m["rss"]),
        ("used_memory_rss_human", bytes_to_human(m["rss"])),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", bytes_to_human(peak)),
        ("used_memory_peak_perc", "%.2f%%" % (used * 100 / peak if peak else 0)),
        ("used_memory_overhead", overhead),
        ("used_memory_startup", startup),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", "%.2f%%" % (dataset * 100 / (used - startup) if used > startup else 0)),
        ("allocator_allocated", used),
        ("allocator_active", used),
        ("allocator_resident", used),
        ("allocator_muzzy", 0),
        ("total_system_memory", total_sys),
        ("total_system_memory_human", bytes_to_human(total_sys)),
        ("used_memory_lua", lua["used_memory_vm_eval"]),
        ("used_memory_vm_eval", lua["used_memory_vm_eval"]),
        ("used_memory_lua_human", bytes_to_human(lua["used_memory_vm_eval"])),
        ("used_memory_scripts_eval", lua["used_memory_scripts_eval"]),
        ("number_of_cached_scripts", lua["number_of_cached_scripts"]),
        ("number_of_functions", lua["number_of_functions"]),
        ("number_of_libraries", lua["number_of_libraries"]),
        ("used_memory_vm_functions", lua["used_memory_vm_functions"]),
        ("used_memory_vm_total", lua["used_memory_vm_eval"] + lua["used_memory_vm_functions"]),
        ("used_memory_vm_total_human", bytes_to_human(lua["used_memory_vm_eval"] + lua["used_memory_vm_functions"])),
        ("used_memory_functions", lua["used_memory_functions"]),
        ("used_memory_scripts", lua["used_memory_scripts_eval"] + lua["used_memory_functions"]),
        ("used_memory_scripts_human", bytes_to_human(lua["used_memory_scripts_eval"] + lua["used_memory_functions"])),
        ("maxmemory", maxmemory),
        ("maxmemory_human", bytes_to_human(maxmemory)),
        ("maxmemory_policy", server.config.values["maxmemory-policy"]),
        ("allocator_frag_ratio", "1.00"),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", "1.00"),
        ("allocator_rss_bytes", 0),
        ("rss_overhead_ratio", "1.00"),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", "1.00"),
        ("mem_fragmentation_bytes", 0),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", 0),
        ("mem_total_replication_buffers", 0),
        ("mem_clients_slaves", 0),
        ("mem_clients_normal", 0),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", 0),
        ("mem_allocator", "libc"),
        ("mem_overhead_db_hashtable_rehashing", 0),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", 0),
    ]


def _section_persistence(server) -> list:
    from shard.persistence import info_fields, loading_info

    rdb = info_fields(server)
    return [
        ("loading", rdb["loading"]),
        ("async_loading", 0),
        ("current_cow_peak", 0),
        ("current_cow_size", 0),
        ("current_cow_size_age", 0),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0),
        ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", server.dirty),
        ("rdb_bgsave_in_progress", rdb["rdb_bgsave_in_progress"]),
        ("rdb_last_save_time", server.lastsave),
        ("rdb_last_bgsave_status", rdb["rdb_last_bgsave_status"]),
        ("rdb_last_bgsave_time_sec", rdb["rdb_last_bgsave_time_sec"]),
        ("rdb_current_bgsave_time_sec", rdb["rdb_current_bgsave_time_sec"]),
        ("rdb_saves", rdb["rdb_saves"]),
        ("rdb_last_cow_size", 0),
        ("rdb_last_load_keys_expired", rdb["rdb_last_load_keys_expired"]),
        ("rdb_last_load_keys_loaded", rdb["rdb_last_load_keys_loaded"]),
        ("aof_enabled", 0),
        ("aof_rewrite_in_progress", 0),
        ("aof_rewrite_scheduled", 0),
        ("aof_last_rewrite_time_sec", -1),
        ("aof_current_rewrite_time_sec", -1),
        ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", 0),
        ("aof_rewrites_consecutive_failures", 0),
        ("aof_last_write_status", "ok"),
        ("aof_last_cow_size", 0),
        ("module_fork_in_progress", 0),
        ("module_fork_last_cow_size", 0),
    ] + loading_info(server)


def _section_stats(server) -> list:
    g = server.__dict__.get
    return [
        ("total_connections_received", server.stat_numconnections),
        ("total_commands_processed", server.stat_numcommands),
        ("instantaneous_ops_per_sec", 0),
        ("total_net_input_bytes", g("stat_net_input_bytes", 0)),
        ("total_net_output_bytes", g("stat_net_output_bytes", 0)),
        ("total_net_repl_input_bytes", g("stat_net_repl_input_bytes", 0)),
        ("total_net_repl_output_bytes", g("stat_net_repl_output_bytes", 0)),
        ("instantaneous_input_kbps", "0.00"),
        ("instantaneous_output_kbps", "0.00"),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", server.stat_rejected_conn),
        ("sync_full", g("stat_sync_full", 0)),
        ("sync_partial_ok", g("stat_sync_partial_ok", 0)),
        ("sync_partial_err", g("stat_sync_partial_err", 0)),
        ("expired_subkeys", 0),
        ("expired_keys", server.stat_expired_keys),
        ("expired_stale_perc", "0.00"),
        ("expired_time_cap_reached_count", 0),
        ("expire_cycle_cpu_milliseconds", 0),
        ("evicted_keys", server.stat_evicted_keys),
        ("evicted_clients", 0),
        ("evicted_scripts", getattr(getattr(server, "eval_engine", None), "evicted", 0)),
        ("total_eviction_exceeded_time", 0),
        ("current_eviction_exceeded_time", 0),
        ("keyspace_hits", server.stat_keyspace_hits),
        ("keyspace_misses", server.stat_keyspace_misses),
        ("pubsub_channels", len(server.channels)),
        ("pubsub_patterns", len(server.patterns)),
        ("pubsubshard_channels", len(server.shard_channels)),
        ("latest_fork_usec", 0),
        ("total_forks", 0),
        ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0),
        ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        ("tracking_total_keys", 0 if server.tracking is None else len(server.tracking.table)),
        ("tracking_total_items", 0 if server.tracking is None else server.tracking.items),
        ("tracking_total_prefixes", 0 if server.tracking is None else len(server.tracking.prefixes)),
        ("unexpected_error_replies", g("stat_unexpected_error_replies", 0)),
        ("total_error_replies", g("stat_total_error_replies", 0)),
        ("dump_payload_sanitizations", 0),
        ("total_reads_processed", 0),
        ("total_writes_processed", 0),
        ("io_threaded_reads_processed", 0),
        ("io_threaded_writes_processed", 0),
        ("client_query_buffer_limit_disconnections", 0),
        ("client_output_buffer_limit_disconnections", 0),
        ("reply_buffer_shrinks", 0),
        ("reply_buffer_expands", 0),
        ("eventloop_cycles", 0),
        ("eventloop_duration_sum", 0),
        ("eventloop_duration_cmd_sum", 0),
        ("instantaneous_eventloop_cycles_per_sec", 0),
        ("instantaneous_eventloop_duration_usec", 0),
        ("acl_access_denied_auth", server.acl.denied[4]),
        ("acl_access_denied_cmd", server.acl.denied[1]),
        ("acl_access_denied_key", server.acl.denied[2]),
        ("acl_access_denied_channel", server.acl.denied[3]),
    ]


def _section_replication(server) -> list:
    custom = getattr(server, "info_replication", None)
    if custom is not None:  # the replication module reports its own state
        return custom()
    values = server.config.values
    out = [("role", "slave" if server.is_replica else "master")]
    if server.is_replica:
        out += [
            ("master_host", getattr(server, "master_host", "") or ""),
            ("master_port", getattr(server, "master_port", 0)),
            ("master_link_status", "down"),
            ("master_last_io_seconds_ago", -1),
            ("master_sync_in_progress", 0),
            ("slave_read_repl_offset", 1),
            ("slave_repl_offset", 1),
            ("master_link_down_since_seconds", -1),
            ("slave_priority", values["replica-priority"]),
            ("slave_read_only", 1 if server.replica_read_only else 0),
            ("replica_announced", 1 if values["replica-announced"] == "yes" else 0),
        ]
    out.append(("connected_slaves", 0))
    if int(values["min-replicas-to-write"]) and int(values["min-replicas-max-lag"]):
        out.append(("min_slaves_good_slaves", 0))
    out += [
        ("master_failover_state", "no-failover"),
        ("master_replid", _replid(server)),
        ("master_replid2", "0" * 40),
        ("master_repl_offset", getattr(server, "master_repl_offset", 0)),
        ("second_repl_offset", -1),
        ("repl_backlog_active", 0),
        ("repl_backlog_size", int(values["repl-backlog-size"])),
        ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    ]
    return out


def _tv(seconds: float) -> str:
    return "%d.%06d" % (int(seconds), int(round((seconds - int(seconds)) * 1e6)) % 1000000)


def _section_cpu(server) -> list:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = [
        ("used_cpu_sys", _tv(me.ru_stime)),
        ("used_cpu_user", _tv(me.ru_utime)),
        ("used_cpu_sys_children", _tv(kids.ru_stime)),
        ("used_cpu_user_children", _tv(kids.ru_utime)),
    ]
    if hasattr(resource, "RUSAGE_THREAD"):
        th = resource.getrusage(resource.RUSAGE_THREAD)
        out += [("used_cpu_sys_main_thread", _tv(th.ru_stime)), ("used_cpu_user_main_thread", _tv(th.ru_utime))]
    return out


def _commandstats_lines(server) -> list:
    out = []

    def add(entry):
        calls, usec, rejected, failed = entry.stats
        usec = int(usec)  # run_plain adds microseconds as a float
        if calls or failed or rejected:
            out.append("cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d"
                       % (_safe(entry.name), calls, usec, _usec_per_call(usec, calls), rejected, failed))

    for entry in server.table.values():
        add(entry)
        if entry.subs:
            for sub in entry.subs.values():
                add(sub)
    return out


def _safe(name: str) -> str:
    """getSafeInfoString: '#', ':', CR and LF become '_'."""
    return name.translate(_UNSAFE)


_UNSAFE = str.maketrans("#:\r\n", "____")


def _errorstats_lines(server) -> list:
    stats = getattr(server, "error_stats", None) or {}
    return ["errorstat_%s:count=%d" % (_safe(k if isinstance(k, str) else k.decode("latin-1")), v)
            for k, v in sorted(stats.items())]


def _keyspace_lines(server) -> list:
    out = []
    for db in server.dbs:
        keys, vkeys = len(db.data), len(db.expires)
        if keys or vkeys:
            out.append("db%d:keys=%d,expires=%d,avg_ttl=%d,subexpiry=0" % (db.id, keys, vkeys, db.avg_ttl))
    return out


def _fields(pairs: list) -> list:
    return ["%s:%s" % (k, v) for k, v in pairs]


def info_text(server, args: list) -> str:
    """genRedisInfoString for INFO's arguments (section names, `default`, `all`, `everything`)."""
    all_sections = everything = False
    if not args:
        wanted = set(DEFAULT_SECTIONS)
    else:
        wanted = set()
        for a in args:
            low = a.lower()
            if low == "default":
                wanted.update(DEFAULT_SECTIONS)
            elif low == "all":
                all_sections = True
            elif low == "everything":
                all_sections = everything = True
            else:
                wanted.add(low)

    def want(name):
        return all_sections or name in wanted

    blocks = []
    if want("server"):
        blocks.append(("Server", _fields(_section_server(server))))
    if want("clients"):
        blocks.append(("Clients", _fields(_section_clients(server))))
    if want("memory"):
        blocks.append(("Memory", _fields(_section_memory(server))))
    if want("persistence"):
        blocks.append(("Persistence", _fields(_section_persistence(server))))
    if want("stats"):
        blocks.append(("Stats", _fields(_section_stats(server))))
    if want("replication"):
        blocks.append(("Replication", _fields(_section_replication(server))))
    if want("cpu"):
        blocks.append(("CPU", _fields(_section_cpu(server))))
    if all_sections or "module_list" in wanted or "modules" in wanted:
        blocks.append(("Modules", []))
    if want("commandstats"):
        blocks.append(("Commandstats", _commandstats_lines(server)))
    if want("errorstats"):
        blocks.append(("Errorstats", _errorstats_lines(server)))
    if want("latencystats"):
        # per-command latency percentiles are not tracked: the section is empty
        blocks.append(("Latencystats", []))
    if want("cluster"):
        blocks.append(("Cluster", ["cluster_enabled:%d" % (server.config.values["cluster-enabled"] == "yes")]))
    if want("keyspace"):
        blocks.append(("Keyspace", _keyspace_lines(server)))
    if "debug" in wanted:
        blocks.append(("Debug", _fields([
            ("eventloop_duration_aof_sum", 0), ("eventloop_duration_cron_sum", 0), ("eventloop_duration_max", 0),
            ("eventloop_cmd_per_cycle_max", 0), ("allocator_allocated_lua", 0), ("allocator_active_lua", 0),
            ("allocator_resident_lua", 0), ("allocator_frag_bytes_lua", 0)])))
    return "\r\n".join("# %s\r\n%s" % (title, "".join(line + "\r\n" for line in lines)) for title, lines in blocks)


@command("info")
def info_command(c, argv):
    return Verbatim(info_text(c.server, [_text(a) for a in argv[1:]]))
