"""Server and introspection commands against a real redis-server: CONFIG, SWAPDB, FLUSHDB/FLUSHALL,
DBSIZE, TIME, INFO, OBJECT, MEMORY, SLOWLOG, LATENCY, DEBUG.

Every test that changes a setting restores it on both servers (the `cfg` fixture).
"""
from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from amr_emulator.protocol.resp import RespError, Verbatim, decode_reply
from tests.conftest import Compat
from tests.servers import RawConnection, redis_server_path, start_redis

# 7.0.15 differs: the HELP footer says "Prints this help." (7.2+: "Print this help.")
FOOTER_70 = (b"+    Prints this help.", b"+    Print this help.")


def _decode(raw: bytes):
    value, end = decode_reply(raw)
    assert end == len(raw)
    return value


def _pairs(v) -> dict:
    if isinstance(v, dict):
        return v
    return {v[i]: v[i + 1] for i in range(0, len(v), 2)}


def _config_all(conn) -> dict:
    return _pairs(_decode(conn.call("CONFIG", "GET", "*")))


@pytest.fixture
def cfg(compat):
    """The compat pair, with every setting put back as it was when the test ends."""
    conns = [RawConnection(p.host, p.port) for p in compat.targets]
    before = [_config_all(c) for c in conns]
    yield compat
    for conn, old in zip(conns, before):
        now = _config_all(conn)
        for name, value in old.items():
            if now.get(name) != value:
                reply = conn.call("CONFIG", "SET", name, value)
                assert reply == b"+OK\r\n", (name, value, reply)
        conn.call("SLOWLOG", "RESET")
        conn.close()


# --- CONFIG GET -------------------------------------------------------------------------------------

SINGLE_NAMES = [
    "maxmemory", "MAXMEMORY", "MaxMemory-Policy", "hz", "databases", "timeout", "notify-keyspace-events",
    "hash-max-ziplist-entries", "hash-max-listpack-entries", "hash-max-listpack-value", "slave-read-only",
    "replica-read-only", "list-max-ziplist-size", "list-max-listpack-size", "zset-max-listpack-value",
    "zset-max-ziplist-entries", "set-max-intset-entries", "proto-max-bulk-len", "client-query-buffer-limit",
    "client-output-buffer-limit", "oom-score-adj-values", "latency-tracking-info-percentiles", "save",
    "appendonly", "appendfsync", "loglevel", "repl-backlog-size", "repl-backlog-ttl", "maxmemory-clients",
    "unixsocketperm", "lua-time-limit", "busy-reply-threshold", "slowlog-log-slower-than", "slowlog-max-len",
    "maxclients", "tcp-keepalive", "requirepass", "masterauth", "replicaof", "slaveof", "cluster-enabled",
    "active-expire-effort", "lfu-log-factor", "maxmemory-samples", "stream-node-max-bytes",
    "enable-protected-configs", "enable-module-command", "acl-pubsub-default", "oom-score-adj",
    "shutdown-on-sigint", "tls-port", "tls-auth-clients", "cluster-node-timeout", "latency-monitor-threshold",
    "lazyfree-lazy-user-flush", "io-threads", "supervised", "syslog-facility", "dbfilename", "tracking-table-max-keys",
    "aof_rewrite_cpulist",
    "nosuch", "", "use-exit-on-panic", "key-load-delay",
]


@pytest.mark.parametrize("name", SINGLE_NAMES)
def test_config_get_one(compat, name):
    compat.call("CONFIG", "GET", name)


def test_config_get_one_resp3(compat):
    compat.resp3()
    compat.call("CONFIG", "GET", "maxmemory")
    compat.call("CONFIG", "GET", "nosuch")


# settings whose value is the server's own by nature (its port, directory, addresses)
LIVE = {b"port", b"dir", b"bind"}
# 7.0.15 differs: names Redis 7.2/7.4 added or renamed (the *-cpulist settings had only underscore
# names before 7.4, which keeps them as aliases), and aof-disable-auto-gc, hidden since 7.2
NEW_IN_74 = {b"aof-rewrite-cpulist", b"bgsave-cpulist", b"bio-cpulist", b"server-cpulist",
             b"cluster-announce-human-nodename", b"hide-user-data-from-log", b"locale-collate",
             b"max-new-connections-per-cycle", b"max-new-tls-connections-per-cycle",
             b"set-max-listpack-entries", b"set-max-listpack-value"}
HIDDEN_IN_74 = {b"aof-disable-auto-gc"}
# the shard's own defaults: DEBUG is allowed from local connections (Redis: no)
SHARD_DEFAULTS = {b"enable-debug-command": (b"local", b"no")}


@pytest.mark.parametrize("patterns", [
    ("*",), ("*max*",), ("hash-*",), ("*ziplist*",), ("zset-max-*",), ("maxmemory*",), ("MAXMEM*",),
    ("[mh]z",), ("h?",), ("*-cpulist",), ("*_cpulist",), ("slave*",), ("repl*",), ("*lfu*",), ("tls-*",),
    ("maxmemory", "hz"), ("maxmemory", "MAXMEMORY"), ("MAXMEMORY", "max*"), ("max*", "MAXMEMORY"),
    ("hz", "hz", "h*"), ("slave-read-only", "replica-read-only"), ("nosuch*",), ("[",), ("*[a-c]",),
    ("maxmemory", "nosuch", "timeout"),
])
def test_config_get_patterns(compat, patterns):
    ours, theirs = (_pairs(_decode(r)) for r in compat.both("CONFIG", "GET", *patterns))
    for name in LIVE:
        ours.pop(name, None)
        theirs.pop(name, None)
    for name in HIDDEN_IN_74:
        theirs.pop(name, None)
    for name, (mine, redis) in SHARD_DEFAULTS.items():
        if name in ours:
            assert ours.pop(name) == mine
            assert theirs.pop(name) == redis
    assert set(ours) - set(theirs) == {n for n in NEW_IN_74 if n in ours}
    for name in set(ours) & set(theirs):
        assert ours[name] == theirs[name], name


def test_config_get_arity(compat):
    compat.call("CONFIG", "GET")
    compat.call("CONFIG")
    compat.call("CONFIG", "NOSUCH")


# --- CONFIG SET -------------------------------------------------------------------------------------

SET_CASES = [
    # (name, value[, name, value...]) then the settings to read back
    (("maxmemory", "10mb"), ("maxmemory",)),
    (("maxmemory", "10MB"), ("maxmemory",)),
    (("maxmemory", "1g"), ("maxmemory",)),
    (("maxmemory", "1Gb"), ("maxmemory",)),
    (("maxmemory", "100k"), ("maxmemory",)),
    (("maxmemory", "100b"), ("maxmemory",)),
    (("maxmemory", ""), ("maxmemory",)),
    (("maxmemory", "kb"), ("maxmemory",)),
    (("maxmemory", "007"), ("maxmemory",)),
    (("maxmemory", "99999999999999999999"), ("maxmemory",)),
    (("maxmemory", "abc"), ("maxmemory",)),
    (("maxmemory", "-1"), ("maxmemory",)),
    (("maxmemory", "1x"), ("maxmemory",)),
    (("maxmemory", "+5"), ("maxmemory",)),
    (("maxmemory", " 5"), ("maxmemory",)),
    (("maxmemory", "5 "), ("maxmemory",)),
    (("maxmemory", "1.5mb"), ("maxmemory",)),
    (("MAXMEMORY", "bad"), ("maxmemory",)),
    (("maxclients", "-1"), ("maxclients",)),
    (("maxclients", "0"), ("maxclients",)),
    (("maxclients", "5000"), ("maxclients",)),
    (("maxclients", "4294967296"), ("maxclients",)),
    (("hz", "abc"), ("hz",)),
    (("hz", "-1"), ("hz",)),
    (("hz", "1000"), ("hz",)),
    (("hz", "0"), ("hz",)),
    (("hz", "20"), ("hz",)),
    (("hz", "2147483648"), ("hz",)),
    (("hz", "08"), ("hz",)),
    (("timeout", "-5"), ("timeout",)),
    (("timeout", "1.5"), ("timeout",)),
    (("timeout", "300"), ("timeout",)),
    (("appendonly", "maybe"), ("appendonly",)),
    (("appendfsync", "ALWAYS"), ("appendfsync",)),
    (("appendfsync", "never"), ("appendfsync",)),
    (("replica-read-only", "NO"), ("replica-read-only", "slave-read-only")),
    (("slave-read-only", "x"), ("replica-read-only",)),
    (("SLAVE-READ-ONLY", "x"), ("replica-read-only",)),
    (("daemonize", "yes"), ("daemonize",)),
    (("DAEMONIZE", "no"), ("daemonize",)),
    (("databases", "4"), ("databases",)),
    (("unixsocketperm", "777"), ("unixsocketperm",)),
    (("cluster-enabled", "yes"), ("cluster-enabled",)),
    (("replicaof", "no one"), ("replicaof",)),
    (("dir", "/tmp"), ("dbfilename",)),
    (("dbfilename", "x.rdb"), ("dbfilename",)),
    (("foo", "bar"), ("maxmemory",)),
    (("FOO", "1"), ("maxmemory",)),
    (("maxmemory", "1", "maxmemory", "2"), ("maxmemory",)),
    (("maxmemory", "1", "MAXMEMORY", "2"), ("maxmemory",)),
    (("hash-max-ziplist-entries", "1", "hash-max-listpack-entries", "2"), ("hash-max-listpack-entries",)),
    (("hz", "5", "foo", "3"), ("hz",)),
    (("foo", "3", "hz", "5"), ("hz",)),
    (("hz", "x", "daemonize", "yes"), ("hz",)),
    (("daemonize", "yes", "foo", "1"), ("hz",)),
    (("maxmemory", "5mb", "hz", "x"), ("maxmemory", "hz")),
    (("hz", "x", "maxmemory", "5mb"), ("maxmemory", "hz")),
    (("maxmemory", "5mb", "hz", "15", "timeout", "7"), ("maxmemory", "hz", "timeout")),
    (("maxmemory", "5mb", "hz", "15", "timeout", "-7"), ("maxmemory", "hz", "timeout")),
    (("hz", "5", "foo"), ("hz",)),
    (("maxmemory-clients", "200%"), ("maxmemory-clients",)),
    (("maxmemory-clients", "-5%"), ("maxmemory-clients",)),
    (("maxmemory-clients", "5%"), ("maxmemory-clients",)),
    (("maxmemory-clients", "100%"), ("maxmemory-clients",)),
    (("maxmemory-clients", "1mb"), ("maxmemory-clients",)),
    (("maxmemory-clients", "%"), ("maxmemory-clients",)),
    (("maxmemory-policy", "ALLKEYS-LRU"), ("maxmemory-policy",)),
    (("maxmemory-policy", "noeviction"), ("maxmemory-policy",)),
    (("maxmemory-policy", "bad"), ("maxmemory-policy",)),
    (("maxmemory-policy", "allkeys-lru allkeys-lfu"), ("maxmemory-policy",)),
    (("notify-keyspace-events", "KEA"), ("notify-keyspace-events",)),
    (("notify-keyspace-events", "Kgx$"), ("notify-keyspace-events",)),
    (("notify-keyspace-events", "Q"), ("notify-keyspace-events",)),
    (("notify-keyspace-events", "Em"), ("notify-keyspace-events",)),
    (("save", "3600 1 300 100"), ("save",)),
    (("save", "3600"), ("save",)),
    (("save", "0 1"), ("save",)),
    (("save", "abc 1"), ("save",)),
    (("save", "3600 "), ("save",)),
    (("save", "3600 -1"), ("save",)),
    (("save", "60  1"), ("save",)),
    (("save", ""), ("save",)),
    (("client-output-buffer-limit", "replica 1mb 2mb 3"), ("client-output-buffer-limit",)),
    (("client-output-buffer-limit", "normal 0 0 0 pubsub 10 20 30"), ("client-output-buffer-limit",)),
    (("client-output-buffer-limit", "master 1 1 1"), ("client-output-buffer-limit",)),
    (("client-output-buffer-limit", "normal 1 1"), ("client-output-buffer-limit",)),
    (("client-output-buffer-limit", "normal x 1 1"), ("client-output-buffer-limit",)),
    (("client-output-buffer-limit", "normal 1 1 -1"), ("client-output-buffer-limit",)),
    (("oom-score-adj-values", "0 200"), ("oom-score-adj-values",)),
    (("oom-score-adj-values", "0 200 3000"), ("oom-score-adj-values",)),
    (("oom-score-adj-values", "1 2 3"), ("oom-score-adj-values",)),
    (("oom-score-adj", "relative"), ("oom-score-adj",)),
    (("oom-score-adj", "absolute"), ("oom-score-adj",)),
    (("latency-tracking-info-percentiles", "50 99.5 100"), ("latency-tracking-info-percentiles",)),
    (("latency-tracking-info-percentiles", "101"), ("latency-tracking-info-percentiles",)),
    (("latency-tracking-info-percentiles", "abc"), ("latency-tracking-info-percentiles",)),
    (("latency-tracking-info-percentiles", ""), ("latency-tracking-info-percentiles",)),
    (("latency-tracking-info-percentiles", "0.1 25.25"), ("latency-tracking-info-percentiles",)),
    (("shutdown-on-sigint", "now nosave"), ("shutdown-on-sigint",)),
    (("shutdown-on-sigint", "NOW FORCE"), ("shutdown-on-sigint",)),
    (("shutdown-on-sigint", "save nosave"), ("shutdown-on-sigint",)),
    (("shutdown-on-sigint", ""), ("shutdown-on-sigint",)),
    (("shutdown-on-sigint", "bogus"), ("shutdown-on-sigint",)),
    (("acl-pubsub-default", "allchannels"), ("acl-pubsub-default",)),
    (("list-max-listpack-size", "-3"), ("list-max-ziplist-size",)),
    (("list-max-ziplist-size", "5"), ("list-max-listpack-size",)),
    (("list-max-ziplist-size", "x"), ("list-max-listpack-size",)),
    (("proto-max-bulk-len", "1000"), ("proto-max-bulk-len",)),
    (("proto-max-bulk-len", "2mb"), ("proto-max-bulk-len",)),
    (("proto-max-bulk-len", "99999999999999999999"), ("proto-max-bulk-len",)),
    (("slowlog-log-slower-than", "-2"), ("slowlog-log-slower-than",)),
    (("slowlog-max-len", "-1"), ("slowlog-max-len",)),
    (("repl-backlog-size", "0"), ("repl-backlog-size",)),
    (("hash-max-listpack-value", "1kb"), ("hash-max-listpack-value",)),
    (("hash-max-listpack-entries", "-1"), ("hash-max-listpack-entries",)),
    (("hash-max-listpack-entries", "1kb"), ("hash-max-listpack-entries",)),
    (("active-expire-effort", "11"), ("active-expire-effort",)),
    (("maxmemory-samples", "64"), ("maxmemory-samples",)),
    (("lfu-log-factor", "2147483648"), ("lfu-log-factor",)),
    (("cluster-announce-hostname", "bad_name"), ("cluster-announce-hostname",)),
    (("cluster-announce-hostname", "good-name.example"), ("cluster-announce-hostname",)),
    (("proc-title-template", "{nosuch}"), ("proc-title-template",)),
    (("tracking-table-max-keys", "10"), ("tracking-table-max-keys",)),
    (("busy-reply-threshold", "1000"), ("lua-time-limit",)),
    (("replica-announce-ip", "10.0.0.1"), ("slave-announce-ip",)),
    (("masteruser", "someone"), ("masteruser",)),
    (("ignore-warnings", "ARM64-COW-BUG"), ("ignore-warnings",)),
]


@pytest.mark.parametrize("pairs,reads", SET_CASES, ids=[" ".join(p) for p, _ in SET_CASES])
def test_config_set(cfg, pairs, reads):
    cfg.call("CONFIG", "SET", *pairs)
    for name in reads:
        cfg.call("CONFIG", "GET", name)


def test_config_set_loglevel(cfg):
    ours, theirs = cfg.both("CONFIG", "SET", "loglevel", "foo")
    # 7.0.15 differs: Redis 7.2 added the "nothing" level
    assert theirs == (b"-ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be "
                      b"one of the following: debug, verbose, notice, warning\r\n")
    assert ours == (b"-ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be "
                    b"one of the following: debug, verbose, notice, warning, nothing\r\n")
    cfg.call("CONFIG", "SET", "loglevel", "WARNING")
    cfg.call("CONFIG", "GET", "loglevel")


def test_config_set_maxmemory_samples_range(cfg):
    ours, theirs = cfg.both("CONFIG", "SET", "maxmemory-samples", "65")
    # 7.0.15 differs: Redis 7.2 limits maxmemory-samples to 64
    assert theirs == b"+OK\r\n"
    assert ours == (b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory-samples') - argument must "
                    b"be between 1 and 64 inclusive\r\n")


def test_config_set_is_atomic(cfg):
    cfg.call("CONFIG", "SET", "maxmemory", "7mb", "timeout", "0")
    cfg.call("CONFIG", "SET", "maxmemory", "9mb", "timeout", "x", "hz", "12")
    cfg.call("CONFIG", "GET", "maxmemory")
    cfg.call("CONFIG", "GET", "hz")
    cfg.call("CONFIG", "SET", "latency-tracking-info-percentiles", "1 2", "lfu-log-factor", "-1")
    cfg.call("CONFIG", "SET", "latency-tracking-info-percentiles", "1 2", "timeout", "-1")
    cfg.call("CONFIG", "GET", "latency-tracking-info-percentiles")


def test_config_set_notify_takes_effect(cfg):
    cfg.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
    sub = cfg.new()
    try:
        sub.call("SUBSCRIBE", "__keyspace@0__:k")
        cfg.call("SET", "k", "v")
        for conn in sub.conns:
            assert b"set" in conn.read_reply()
    finally:
        sub.close()


def test_config_set_resp3(cfg):
    cfg.resp3()
    cfg.call("CONFIG", "SET", "timeout", "bad")
    cfg.call("CONFIG", "SET", "timeout", "3")
    cfg.call("CONFIG", "GET", "timeout")


def test_config_help(compat):
    ours, theirs = compat.both("CONFIG", "HELP")
    assert ours == theirs.replace(*FOOTER_70)
    compat.call("CONFIG", "HELP", "x")


def test_config_resetstat(cfg):
    cfg.call("SET", "a", "1")
    cfg.call("GET", "a")
    cfg.call("CONFIG", "RESETSTAT")
    ours, theirs = _info(cfg, "commandstats")
    assert ours.splitlines()[0] == theirs.splitlines()[0] == "# Commandstats"
    assert _cmdstats(ours) == _cmdstats(theirs) == {"config|resetstat": (1, 0, 0)}


# --- SWAPDB, FLUSHDB, FLUSHALL, DBSIZE, TIME, LASTSAVE ------------------------------------------------


@pytest.mark.parametrize("args", [
    ("0", "1"), ("1", "0"), ("0", "0"), ("a", "1"), ("0", "b"), ("a", "b"), ("0", "16"), ("16", "0"),
    ("-1", "0"), ("0", "-1"), ("99999999999", "0"), ("0", "99999999999"), ("1.5", "0"), ("", "0"),
    ("15", "15"), ("15", "0"), ("00", "1"),
])
def test_swapdb(compat, args):
    compat.call("SET", "a", "in0")
    compat.call("SELECT", "1")
    compat.call("SET", "b", "in1")
    compat.call("PEXPIRE", "b", "100000")
    compat.call("SELECT", "0")
    compat.call("SWAPDB", *args)
    compat.call("DBSIZE")
    compat.call("GET", "a")
    compat.call("GET", "b")
    compat.call("SELECT", "1")
    compat.call("DBSIZE")
    compat.call("GET", "a")
    compat.call("EXISTS", "b")
    compat.call("SELECT", "0")


def test_swapdb_arity(compat):
    compat.call("SWAPDB", "0")
    compat.call("SWAPDB", "0", "1", "2")


def test_swapdb_invalidates_watch(compat):
    other = compat.new()
    try:
        compat.call("SELECT", "1")
        compat.call("SET", "w", "1")
        compat.call("SELECT", "0")
        compat.call("WATCH", "w")
        other.call("SWAPDB", "0", "1")
        compat.call("MULTI")
        compat.call("GET", "w")
        compat.call("EXEC")
        compat.call("WATCH", "nothere")
        other.call("SWAPDB", "0", "1")
        compat.call("MULTI")
        compat.call("GET", "nothere")
        compat.call("EXEC")
    finally:
        other.close()


@pytest.mark.parametrize("cmd", ["FLUSHDB", "FLUSHALL"])
@pytest.mark.parametrize("opts", [(), ("ASYNC",), ("SYNC",), ("async",), ("sync",), ("LAZY",), ("ASYNC", "SYNC"),
                                  ("",)])
def test_flush(compat, cmd, opts):
    compat.call("MSET", "a", "1", "b", "2")
    compat.call("SELECT", "2")
    compat.call("SET", "c", "3")
    compat.call("SELECT", "0")
    compat.call(cmd, *opts)
    compat.call("DBSIZE")
    compat.call("SELECT", "2")
    compat.call("DBSIZE")
    compat.call("SELECT", "0")


def test_flush_invalidates_watch(compat):
    other = compat.new()
    try:
        compat.call("SET", "w", "1")
        compat.call("WATCH", "w")
        other.call("FLUSHDB")
        compat.call("MULTI")
        compat.call("SET", "w", "2")
        compat.call("EXEC")
    finally:
        other.close()


def test_dbsize(compat):
    compat.call("DBSIZE")
    compat.call("SET", "a", "1")
    compat.call("SADD", "s", "x")
    compat.call("DBSIZE")
    compat.call("DBSIZE", "x")


def test_time_and_lastsave(compat):
    ours, theirs = (_decode(r) for r in compat.both("TIME"))
    for reply in (ours, theirs):
        assert isinstance(reply, list) and len(reply) == 2
        assert all(isinstance(x, bytes) and x.isdigit() for x in reply)
        assert 0 <= int(reply[1]) < 1000000
    assert abs(int(ours[0]) - time.time()) < 5
    compat.call("TIME", "x")
    ours, theirs = (_decode(r) for r in compat.both("LASTSAVE"))
    assert isinstance(ours, int) and isinstance(theirs, int)
    assert ours <= time.time()
    compat.call("LASTSAVE", "x")


# --- INFO -------------------------------------------------------------------------------------------

# 7.0.15 differs: fields Redis 7.2 / 7.4 added, per section
INFO_ADDED = {
    "Server": {"listener0"},
    "Clients": {"pubsub_clients", "watching_clients", "total_watched_keys", "total_blocking_keys",
                "total_blocking_keys_on_nokey"},
    "Memory": {"allocator_muzzy", "mem_overhead_db_hashtable_rehashing"},
    "Stats": {"expired_subkeys", "evicted_scripts", "client_query_buffer_limit_disconnections",
              "client_output_buffer_limit_disconnections", "eventloop_cycles", "eventloop_duration_sum",
              "eventloop_duration_cmd_sum", "instantaneous_eventloop_cycles_per_sec",
              "instantaneous_eventloop_duration_usec", "acl_access_denied_auth", "acl_access_denied_cmd",
              "acl_access_denied_key", "acl_access_denied_channel"},
}


def _sections(text: str) -> dict:
    assert not text or text.endswith("\r\n")
    out = {}
    current = None
    for block in text.split("\r\n\r\n"):
        lines = [ln for ln in block.split("\r\n") if ln]
        assert lines[0].startswith("# ")
        current = lines[0][2:]
        out[current] = [ln.split(":", 1)[0] for ln in lines[1:]]
    return out


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _info(compat, *args):
    ours, theirs = compat.both("INFO", *args)
    return _text(_decode(ours)), _text(_decode(theirs))


@pytest.mark.parametrize("args", [(), ("default",), ("all",), ("everything",), ("ALL",), ("server",),
                                  ("SERVER",), ("clients", "server"), ("server", "clients", "server"),
                                  ("memory",), ("persistence",), ("stats",), ("replication",), ("cpu",),
                                  ("modules",), ("module_list",), ("errorstats",), ("cluster",), ("keyspace",),
                                  ("commandstats",), ("latencystats",), ("default", "commandstats"),
                                  ("all", "server"), ("everything", "keyspace")])
def test_info_sections_and_fields(compat, args):
    compat.call("SET", "k", "v")
    ours, theirs = (_sections(t) for t in _info(compat, *args))
    assert list(ours) == list(theirs)
    for name in ours:
        if name in ("Commandstats", "Errorstats", "Latencystats", "Keyspace"):
            continue
        added = INFO_ADDED.get(name, set())
        assert [f for f in ours[name] if f not in added] == theirs[name], name
        assert set(ours[name]) - set(theirs[name]) == added & set(ours[name]), name


@pytest.mark.parametrize("args", [("nosuchsection",), ("nosuch", "other"), ("debug",)])
def test_info_unknown_section(compat, args):
    ours, theirs = compat.both("INFO", *args)
    assert theirs == b"$0\r\n\r\n"
    if args == ("debug",):  # 7.0.15 differs: the debug section is Redis 7.2's
        assert _sections(_text(_decode(ours))).keys() == {"Debug"}
    else:
        assert ours == theirs


def test_info_values(compat, shard):
    compat.call("SET", "k", "v")
    compat.call("SET", "e", "v", "EX", "100")
    compat.call("SELECT", "3")
    compat.call("SET", "x", "1")
    compat.call("SELECT", "0")
    ours, theirs = _info(compat, "keyspace")
    # avg_ttl is 0 until the active expire cycle (10 times a second) has sampled the key, then about
    # 100000 ms; 7.0.15 differs from 7.4 in subexpiry (hash fields with a TTL), which it lacks
    for text, sub in ((theirs, ""), (ours, ",subexpiry=0")):
        m = re.fullmatch(rf"# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=(\d+){sub}\r\n"
                         rf"db3:keys=1,expires=0,avg_ttl=0{sub}\r\n", text)
        assert m and (m.group(1) == "0" or 99_000 <= int(m.group(1)) <= 100_000), text
    deadline = time.monotonic() + 5
    while "db0:keys=2,expires=1,avg_ttl=0," in _info(compat, "keyspace")[0]:  # ours, sampled by the cycle
        assert time.monotonic() < deadline, "the active expire cycle never sampled the key's TTL"
        time.sleep(0.01)
    text = _info(compat, "server")[0]
    fields = dict(ln.split(":", 1) for ln in text.split("\r\n")[1:] if ln)
    assert fields["redis_version"] == "7.4.0"
    assert fields["redis_mode"] == "standalone"
    assert fields["tcp_port"] == str(shard.port)
    assert fields["listener0"] == f"name=tcp,bind=127.0.0.1,port={shard.port}"
    assert len(fields["run_id"]) == 40
    text = _info(compat, "memory")[0]
    fields = dict(ln.split(":", 1) for ln in text.split("\r\n")[1:] if ln)
    assert int(fields["used_memory"]) > 0
    assert fields["maxmemory_policy"] == "noeviction"
    assert fields["maxmemory"] == "0" and fields["maxmemory_human"] == "0B"
    text = _info(compat, "replication")
    for t in text:
        assert t.split("\r\n")[1] == "role:master"


def test_info_resp3_is_verbatim(compat):
    compat.resp3()
    ours, theirs = compat.both("INFO", "cluster")
    assert ours == theirs == b"=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n"
    assert isinstance(_decode(ours), Verbatim)


def _cmdstats(text: str) -> dict:
    out = {}
    for line in text.split("\r\n")[1:]:
        if not line:
            continue
        name, _, rest = line.partition(":")
        fields = dict(kv.split("=") for kv in rest.split(","))
        assert list(fields) == ["calls", "usec", "usec_per_call", "rejected_calls", "failed_calls"]
        out[name[len("cmdstat_"):]] = (int(fields["calls"]), int(fields["rejected_calls"]),
                                       int(fields["failed_calls"]))
    return out


def test_info_commandstats(cfg):
    cfg.call("CONFIG", "RESETSTAT")
    cfg.call("SET", "a", "1")
    cfg.call("GET", "a")
    cfg.call("GET", "a")
    cfg.call("GET")  # rejected: arity
    cfg.call("SADD", "s", "x")
    cfg.call("GET", "s")  # failed: wrong type
    cfg.call("CONFIG", "GET", "hz")
    cfg.call("OBJECT", "ENCODING", "a")
    cfg.call("NOSUCHCOMMAND")
    ours, theirs = (_cmdstats(t) for t in _info(cfg, "commandstats"))
    assert ours == theirs
    assert ours["get"] == (3, 1, 1)


@pytest.mark.xfail(reason="errorstats need the core to count error replies by prefix (server.error_stats)",
                   strict=False)
def test_info_errorstats(cfg):
    cfg.call("CONFIG", "RESETSTAT")
    cfg.call("GET")
    cfg.call("SADD", "s", "x")
    cfg.call("GET", "s")
    cfg.call("INCR", "s")
    ours, theirs = _info(cfg, "errorstats")
    assert ours == theirs


# --- OBJECT -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "123", "-1", "0", "007", "+1", "-0", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "12345678901234567890", "1.5", "", " 1", "abc", "x" * 44, "x" * 45, "x" * 1000, "1" * 20,
])
def test_object_encoding_string(compat, value):
    compat.call("SET", "k", value)
    compat.call("OBJECT", "ENCODING", "k")
    compat.call("OBJECT", "REFCOUNT", "k")


def test_object_encoding_hash(cfg):
    cfg.call("HSET", "h", "f", "v")
    cfg.call("OBJECT", "ENCODING", "h")
    cfg.call("HSET", "big", *[x for i in range(513) for x in (f"f{i}", "v")])
    cfg.call("OBJECT", "ENCODING", "big")
    cfg.call("HSET", "long", "f", "v" * 65)
    cfg.call("OBJECT", "ENCODING", "long")
    cfg.call("HSET", "long2", "f" * 65, "v")
    cfg.call("OBJECT", "ENCODING", "long2")
    cfg.call("HSET", "edge", "f", "v" * 64)
    cfg.call("OBJECT", "ENCODING", "edge")
    cfg.call("CONFIG", "SET", "hash-max-listpack-entries", "2")
    cfg.call("HSET", "three", "a", "1", "b", "2", "c", "3")
    cfg.call("OBJECT", "ENCODING", "three")
    cfg.call("HSET", "two", "a", "1", "b", "2")
    cfg.call("OBJECT", "ENCODING", "two")


def test_object_encoding_zset(cfg):
    cfg.call("ZADD", "z", "1", "a")
    cfg.call("OBJECT", "ENCODING", "z")
    cfg.call("ZADD", "big", *[x for i in range(129) for x in (str(i), f"m{i}")])
    cfg.call("OBJECT", "ENCODING", "big")
    cfg.call("ZADD", "edge", *[x for i in range(128) for x in (str(i), f"m{i}")])
    cfg.call("OBJECT", "ENCODING", "edge")
    cfg.call("ZADD", "long", "1", "m" * 65)
    cfg.call("OBJECT", "ENCODING", "long")
    cfg.call("CONFIG", "SET", "zset-max-listpack-entries", "1")
    cfg.call("ZADD", "two", "1", "a", "2", "b")
    cfg.call("OBJECT", "ENCODING", "two")


def _enc(compat, key):
    ours, theirs = compat.both("OBJECT", "ENCODING", key)
    return _decode(ours), _decode(theirs)


def test_object_encoding_set(cfg):
    cfg.call("SADD", "ints", "1", "2", "3")
    assert _enc(cfg, "ints") == (b"intset", b"intset")
    cfg.call("SADD", "manyints", *[str(i) for i in range(513)])
    assert _enc(cfg, "manyints") == (b"hashtable", b"hashtable")
    cfg.call("SADD", "edgeints", *[str(i) for i in range(512)])
    assert _enc(cfg, "edgeints") == (b"intset", b"intset")
    # 7.0.15 differs: small sets of strings are listpacks since Redis 7.2
    cfg.call("SADD", "strs", "a", "b")
    assert _enc(cfg, "strs") == (b"listpack", b"hashtable")
    cfg.call("SADD", "mixed", "1", "a")
    assert _enc(cfg, "mixed") == (b"listpack", b"hashtable")
    cfg.call("SADD", "manystrs", *[f"m{i}" for i in range(129)])
    assert _enc(cfg, "manystrs") == (b"hashtable", b"hashtable")
    cfg.call("SADD", "longstr", "x" * 65)
    assert _enc(cfg, "longstr") == (b"hashtable", b"hashtable")


def test_object_encoding_list(cfg):
    # 7.0.15 differs: lists are listpacks until they outgrow one quicklist node since Redis 7.2
    cfg.call("RPUSH", "small", "a", "b", "c")
    assert _enc(cfg, "small") == (b"listpack", b"quicklist")
    cfg.call("RPUSH", "large", *["x" * 100 for _ in range(100)])
    assert _enc(cfg, "large") == (b"quicklist", b"quicklist")
    cfg.call("RPUSH", "onebig", "x" * 9000)
    assert _enc(cfg, "onebig") == (b"quicklist", b"quicklist")
    cfg.call("CONFIG", "SET", "list-max-listpack-size", "2")
    cfg.call("RPUSH", "three", "a", "b", "c")
    assert _enc(cfg, "three") == (b"quicklist", b"quicklist")
    cfg.call("RPUSH", "two", "a", "b")
    assert _enc(cfg, "two") == (b"listpack", b"quicklist")


@pytest.mark.parametrize("sub", ["ENCODING", "REFCOUNT", "IDLETIME", "FREQ"])
def test_object_missing_key_and_arity(compat, sub):
    compat.call("OBJECT", sub, "missing")
    compat.call("OBJECT", sub)
    compat.call("OBJECT", sub, "a", "b")


def test_object_missing_key_resp3(compat):
    compat.resp3()
    compat.call("OBJECT", "ENCODING", "missing")
    compat.call("OBJECT", "FREQ", "missing")


def test_object_freq_and_idletime(cfg):
    cfg.call("SET", "k", "v")
    cfg.call("OBJECT", "FREQ", "k")  # noeviction: not tracked
    cfg.call("OBJECT", "IDLETIME", "k")
    cfg.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    cfg.call("OBJECT", "IDLETIME", "k")  # LFU: idle time not tracked
    ours, theirs = (_decode(r) for r in cfg.both("OBJECT", "FREQ", "k"))
    assert isinstance(ours, int) and isinstance(theirs, int) and 0 <= ours <= 255
    cfg.call("CONFIG", "SET", "maxmemory-policy", "volatile-lfu")
    cfg.call("OBJECT", "IDLETIME", "k")


def test_object_refcount(cfg):
    cfg.call("SET", "small", "100")
    cfg.call("OBJECT", "REFCOUNT", "small")
    cfg.call("SET", "big", "10000")
    cfg.call("OBJECT", "REFCOUNT", "big")
    cfg.call("RPUSH", "l", "a")
    cfg.call("OBJECT", "REFCOUNT", "l")
    cfg.call("CONFIG", "SET", "maxmemory", "1gb", "maxmemory-policy", "allkeys-lru")
    cfg.call("SET", "small2", "100")
    cfg.call("OBJECT", "REFCOUNT", "small2")


def test_object_help_and_unknown(compat):
    ours, theirs = compat.both("OBJECT", "HELP")
    assert ours == theirs.replace(*FOOTER_70)
    compat.call("OBJECT", "NOSUCH", "k")
    compat.call("OBJECT", "HELP", "x")
    compat.call("OBJECT")


# --- MEMORY -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("opts", [(), ("SAMPLES", "5"), ("samples", "0"), ("SAMPLES", "x"), ("SAMPLES", "-1"),
                                  ("SAMPLES",), ("FOO",), ("SAMPLES", "1", "SAMPLES", "2"),
                                  ("SAMPLES", "1", "x")])
def test_memory_usage_options(compat, opts):
    compat.call("SET", "k", "bar")
    compat.call("MEMORY", "USAGE", "k", *opts)
    compat.call("MEMORY", "USAGE", "missing", *opts)


@pytest.mark.parametrize("setup", [
    ("SET", "k", "bar"), ("SET", "k", "123"), ("SET", "k", "x" * 100), ("SET", "k", "x" * 44),
    ("HSET", "k", "a", "1", "b", "2"), ("SADD", "k", "1", "2", "3"), ("ZADD", "k", "1", "a", "2", "b"),
    ("SET", "a-much-longer-key-name-for-the-entry", "v"),
])
def test_memory_usage_estimate(compat, setup):
    compat.call(*setup)
    ours, theirs = (_decode(r) for r in compat.both("MEMORY", "USAGE", setup[1]))
    assert ours == theirs


def test_memory_usage_resp3_and_help(compat):
    ours, theirs = compat.both("MEMORY", "HELP")
    assert ours == theirs.replace(*FOOTER_70)
    compat.resp3()
    compat.call("MEMORY", "USAGE", "missing")
    compat.call("MEMORY", "USAGE")
    compat.call("MEMORY", "NOSUCH")


# --- SLOWLOG ----------------------------------------------------------------------------------------


def _slowlog(compat, *args):
    return [_decode(r) for r in compat.both("SLOWLOG", "GET", *args)]


def test_slowlog(cfg):
    cfg.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
    cfg.call("SLOWLOG", "RESET")
    cfg.call("SLOWLOG", "LEN")
    cfg.call("SET", "a", "1")
    cfg.call("GET", "a")
    cfg.call("SET", "big", "x" * 200)
    cfg.call("DEL", *[f"k{i}" for i in range(40)])
    cfg.call("SLOWLOG", "LEN")
    ours, theirs = _slowlog(cfg, "-1")
    assert len(ours) == len(theirs) == 7
    for mine, redis in zip(ours, theirs):
        assert len(mine) == 6
        assert mine[3] == redis[3]  # the arguments, with Redis's truncation
        assert mine[5] == redis[5] == b""
        assert mine[4].startswith(b"127.0.0.1:")
        assert isinstance(mine[0], int) and isinstance(mine[1], int) and isinstance(mine[2], int)
    assert [e[0] for e in ours] == sorted((e[0] for e in ours), reverse=True)
    assert ours[0][3] == [b"SLOWLOG", b"LEN"]
    ours, theirs = _slowlog(cfg, "2")
    assert [e[3] for e in ours] == [e[3] for e in theirs]
    ours, theirs = _slowlog(cfg)
    assert [e[3] for e in ours] == [e[3] for e in theirs]
    ours, theirs = _slowlog(cfg, "0")
    assert ours == theirs == []


@pytest.mark.parametrize("args", [("GET", "x"), ("GET", "-2"), ("GET", "1.5"), ("GET", "1", "2"), ("LEN", "x"),
                                  ("RESET", "x"), ("NOSUCH",), ("HELP", "x"), ()])
def test_slowlog_errors(compat, args):
    compat.call("SLOWLOG", *args)


def test_slowlog_help(compat):
    ours, theirs = compat.both("SLOWLOG", "HELP")
    assert ours == theirs.replace(*FOOTER_70)


def test_slowlog_max_len(cfg):
    cfg.call("CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "3")
    for i in range(6):
        cfg.call("SET", f"k{i}", "v")
    cfg.call("SLOWLOG", "LEN")
    ours, theirs = _slowlog(cfg)
    assert [e[3] for e in ours] == [e[3] for e in theirs]
    cfg.call("CONFIG", "SET", "slowlog-log-slower-than", "-1")
    cfg.call("SLOWLOG", "RESET")
    cfg.call("GET", "x")
    cfg.call("SLOWLOG", "LEN")


# --- LATENCY ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [("LATEST",), ("HISTORY", "command"), ("RESET",), ("RESET", "command", "fork"),
                                  ("LATEST", "x"), ("HISTORY",), ("NOSUCH",), ()])
def test_latency(compat, args):
    compat.call("LATENCY", *args)


def test_latency_help(compat):
    ours, theirs = compat.both("LATENCY", "HELP")
    assert ours == theirs.replace(*FOOTER_70)


# --- DEBUG ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def debug_redis():
    proc = start_redis("--enable-debug-command", "yes")
    yield proc
    proc.stop()


@pytest.fixture
def dbg(shard, debug_redis):
    pair = Compat(shard, debug_redis)
    yield pair
    pair.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    pair.close()


@pytest.mark.parametrize("args", [
    ("SLEEP", "0"), ("SLEEP", "0.01"), ("SLEEP", "abc"), ("SLEEP", "-1"), ("SLEEP",), ("SLEEP", "0", "1"),
    ("SET-ACTIVE-EXPIRE", "0"), ("SET-ACTIVE-EXPIRE", "1"), ("set-active-expire", "x"), ("SET-ACTIVE-EXPIRE",),
    ("NOSUCH",), ("nosuch", "a", "b"), ("ERROR", "custom message"), ("ERROR", "LOADING fake\r\nx"),
    ("LOG", "hello from the tests"),
])
def test_debug(dbg, args):
    dbg.call("DEBUG", *args)


def test_debug_arity(dbg):
    dbg.call("DEBUG")


def test_debug_sleep_blocks(dbg):
    t0 = time.monotonic()
    dbg.conns[0].call("DEBUG", "SLEEP", "0.2")
    assert time.monotonic() - t0 >= 0.19


def test_debug_not_allowed_message(compat):
    """The text a server that refuses DEBUG sends (the shard allows it from local connections)."""
    _, theirs = compat.both("DEBUG", "SLEEP", "0")
    from amr_emulator.protocol import errors

    assert theirs == b"-" + errors.DEBUG_NOT_ALLOWED.encode() + b"\r\n"


def test_debug_set_active_expire(dbg):
    dbg.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    dbg.call("SET", "k", "v", "PX", "1")
    time.sleep(0.25)  # a few active-expiry cycles (hz 10): none may run
    dbg.call("DBSIZE")
    dbg.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    dbg.call("GET", "k")
    dbg.call("DBSIZE")


def test_errors_are_errors(compat):
    ours, _ = compat.both("SWAPDB", "x", "0")
    assert isinstance(_decode(ours), RespError)


# --- MONITOR ----------------------------------------------------------------------------------------

_MONITOR_PREFIX = re.compile(rb"^\+\d+\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\] ")


def _monitor_lines(compat, commands: list) -> tuple[list, list]:
    """MONITOR on both servers, run `commands` from another pair of connections; the lines each
    monitor received (timestamp and client address replaced by the database number)."""
    watcher = compat.new()
    try:
        for conn in watcher.conns:
            assert conn.call("MONITOR") == b"+OK\r\n"
        for cmd in commands:
            compat.call(*cmd)
        compat.call("ECHO", "end-of-test")
        out = []
        for conn in watcher.conns:
            lines = []
            while True:
                line = conn.read_reply()
                m = _MONITOR_PREFIX.match(line)
                assert m, line
                lines.append(b"[" + m.group(1) + b"] " + line[m.end():])
                if line.endswith(b'"ECHO" "end-of-test"\r\n'):
                    break
            out.append(lines)
        return out[0], out[1]
    finally:
        watcher.close()


def test_monitor_lines_match(compat):
    ours, theirs = _monitor_lines(compat, [
        ("SET", "k", "plain"),
        ("SET", "k", 'q"uo\\te'),
        ("SET", "bin", b"\n\r\t\x07\x08\x00\x7f\x80\xff\x1b"),
        ("SET", "utf8", "h\u00e9llo"),
        ("GET", "k"),
        ("GET",),  # rejected before it runs: not shown
        ("CONFIG", "GET", "hz"),  # admin: not shown
        ("SADD", "s", "1", "2"),
        ("DEL", "k", "bin", "utf8", "s"),
        ("SET", "n", "12345"),
        ("INCR", "n"),
        ("PING",),
    ])
    assert ours == theirs


@pytest.mark.xfail(reason="dispatch feeds monitors before the command runs; Redis feeds them after (SELECT "
                          "shows its new database, EXEC comes after the commands it ran)", strict=False)
def test_monitor_order_after_execution(compat):
    ours, theirs = _monitor_lines(compat, [
        ("SELECT", "3"),
        ("SET", "k", "v"),
        ("SELECT", "0"),
        ("MULTI",),
        ("SET", "a", "1"),
        ("INCR", "a"),
        ("EXEC",),
    ])
    assert ours == theirs


@pytest.mark.parametrize("name, value", [("appenddirname", "a/b"), ("appenddirname", ""),
                                         ("appendfilename", "a/b"), ("appendfilename", ""),
                                         ("dbfilename", "a/b")])
def test_startup_refuses_a_path(name, value, tmp_path):
    """The immutable file settings are judged at startup only: both servers refuse to start, with one reason."""
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed")
    reason = {}
    for who, args in (("shard", [sys.executable, "-m", "shard", "--port", "0", "--config", f"{name}={value}"]),
                      ("redis", [redis_server_path(), "--port", "0", "--save", "", f"--{name}", value])):
        p = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=30)
        assert p.returncode != 0, (who, p.stdout, p.stderr)
        last = (p.stdout + p.stderr).strip().splitlines()[-1]
        reason[who] = last.split(": ")[-1] if who == "shard" else last
    assert reason["shard"] == reason["redis"]
