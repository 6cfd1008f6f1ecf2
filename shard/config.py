"""The shard's settings: what CONFIG GET/SET and `python -m shard --config` read and write.

The table is Redis 7.4's (src/config.c): every setting with its type, default, bounds, aliases and
flags, so that CONFIG GET answers every name Redis knows and CONFIG SET accepts and refuses the same
values with the same messages. Most settings only hold a value (the emulator has no use for
`rdbcompression`); the ones the shard obeys are mirrored onto a Server attribute by their `apply`
hook (`requirepass`, `maxmemory`, `hz`, the encoding thresholds...).

Types, as Redis parses them:

- bool: yes / no (any case).
- numeric: a 64-bit integer (string2ll); MEMORY ones take units (1kb, 5mb, 2g: memtoull), PERCENT
  ones `N%` (kept as -N), OCTAL ones base 8. Bounds are checked as the C type does: unsigned types
  compare the value as unsigned 64 bits (so -1 is 18446744073709551615, above any bound).
- enum: one of a fixed list of names (any case); MULTI_ARG enums take several, space separated.
- string: any text (some have a validity check).
- special: their own syntax (save, client-output-buffer-limit, notify-keyspace-events...).

`Config.set_many` is CONFIG SET: all pairs or none, Redis's order of checks and error texts.
"""
from __future__ import annotations

import os
import re

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import string2ll

from .keyspace import keyspace_events_from_string, keyspace_events_to_string

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
UINT_MAX = 2**32 - 1
LLONG_MIN, LLONG_MAX = -(2**63), 2**63 - 1
LONG_MAX = SSIZE_MAX = LLONG_MAX
ULLONG_MAX = 2**64 - 1
_U64 = 2**64

# flags
IMMUTABLE = "immutable"
PROTECTED = "protected"
HIDDEN = "hidden"  # matched by CONFIG GET only when named exactly
SENSITIVE = "sensitive"
DENY_LOADING = "deny_loading"
MULTI_ARG = "multi_arg"  # the value is split on spaces
VOLATILE = "volatile"

# numeric flags
MEMORY = 1
PERCENT = 2
OCTAL = 4

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


class ConfigError(ValueError):
    """A rejected value; `reason` is the text after ' - ' in Redis's message."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def memtoull(s: str) -> int | None:
    """Redis's memtoull: digits then an optional unit (b k kb m mb g gb, any case), no sign.

    An empty number counts as 0 ("" and "kb" are 0); a number too big for 64 bits saturates, and the
    product wraps, as the C code does. None when it does not parse."""
    if s.startswith("-"):
        return None
    i = 0
    while i < len(s) and "0" <= s[i] <= "9":
        i += 1
    mul = _UNITS.get(s[i:].lower())
    if mul is None:
        return None
    digits = s[:i]
    if len(digits) >= 128:
        return None
    val = int(digits) if digits else 0
    if val > ULLONG_MAX:
        val = ULLONG_MAX
    return (val * mul) % _U64


def strtoll(s: str) -> tuple[int, str]:
    """C strtoll(s, &end, 10): (value, the unparsed rest). Leading spaces and a sign are allowed;
    no digits gives (0, s); overflow saturates."""
    m = re.match(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)", s)
    if not m:
        return 0, s
    v = int(m.group(2))
    if m.group(1) == "-":
        v = -v
    v = max(LLONG_MIN, min(LLONG_MAX, v))
    return v, s[m.end():]


def _to_signed(u: int) -> int:
    return u - _U64 if u > LLONG_MAX else u


def _trim_double(text: str) -> str:
    """trimDoubleString: drop the trailing zeros of a "%f" text, and the dot if nothing is left."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


class Setting:
    """One configuration parameter."""

    __slots__ = ("name", "kind", "default", "lo", "hi", "choices", "aliases", "flags", "apply", "validate",
                 "getter", "numflags", "unsigned", "empty_is_null", "setter")

    def __init__(self, name, kind, default, *, lo=0, hi=LLONG_MAX, choices=(), alias=None, flags=(), apply=None,
                 validate=None, getter=None, numflags=0, unsigned=False, empty_is_null=False, setter=None):
        self.name = name
        self.kind = kind  # bool | numeric | enum | string | special
        self.default = default  # the default as CONFIG GET prints it
        self.lo = lo
        self.hi = hi
        self.choices = choices  # enum: ((name, value), ...) in Redis's order
        self.aliases = (alias,) if alias else ()
        self.flags = frozenset(flags)
        self.apply = apply  # fn(server, canonical) run after every pair was set; may raise ConfigError
        self.validate = validate  # fn(text) raising ConfigError (strings), before the value is parsed
        self.getter = getter  # fn(server) -> str for values that live elsewhere (dir, port, bind)
        self.numflags = numflags
        self.unsigned = unsigned  # unsigned C type: bounds compared as unsigned 64-bit
        self.empty_is_null = empty_is_null
        self.setter = setter  # special: fn(args: list[str]) -> canonical text, raising ConfigError

    @property
    def immutable(self) -> bool:
        return IMMUTABLE in self.flags

    def __repr__(self) -> str:
        return f"Setting({self.name!r}, {self.kind}, default={self.default!r})"

    # --- parsing: text -> the canonical text CONFIG GET prints ---------------------------------------
    def canonical(self, text: str) -> str:
        kind = self.kind
        if kind == "bool":
            low = text.lower()
            if low not in ("yes", "no"):
                raise ConfigError(errors.CONFIG_NOT_BOOL)
            if self.validate is not None:
                self.validate(low)
            return low
        if kind == "numeric":
            return self._numeric(text)
        if kind == "enum":
            return self._enum(text)
        if kind == "string":
            if self.validate is not None:
                self.validate(text)
            return text
        args = _split_multi(text) if MULTI_ARG in self.flags else [text]
        return self.setter(args)

    def _numeric(self, text: str) -> str:
        nf = self.numflags
        v = None
        if nf & MEMORY:
            u = memtoull(text)
            if u is not None:
                v = _to_signed(u)
        if v is None and nf & PERCENT and len(text) > 1 and text.endswith("%"):
            p = string2ll(text[:-1].encode("latin-1"))
            if p is not None and p >= 0:
                v = -p
        if v is None and nf & OCTAL:
            m = re.fullmatch(r"[ \t\n\v\f\r]*([+-]?)([0-7]+)", text)
            if text == "":
                v = 0  # strtoll of "" converts nothing and ends at the terminator: Redis takes it as 0
            elif m:
                v = int(m.group(2), 8)
                if m.group(1) == "-":
                    v = -v
                if not LLONG_MIN <= v <= LLONG_MAX:
                    v = None
        if v is None and not nf:
            v = string2ll(text.encode("latin-1"))
        if v is None:
            if nf & MEMORY and nf & PERCENT:
                raise ConfigError(errors.CONFIG_NOT_MEMORY_OR_PERCENT)
            if nf & MEMORY:
                raise ConfigError(errors.CONFIG_NOT_MEMORY)
            if nf & OCTAL:
                raise ConfigError(errors.CONFIG_NOT_OCTAL)
            raise ConfigError(errors.CONFIG_NOT_INTEGER)
        lo, hi = self.lo, self.hi
        if self.unsigned:
            u = v % _U64
            if u > hi or u < lo:
                if nf & OCTAL:
                    raise ConfigError(errors.config_range_octal(lo, hi))
                raise ConfigError(errors.config_range(lo, hi))
        elif nf & PERCENT and v < 0:
            if v < lo:
                raise ConfigError(errors.config_percent_max(-lo))
        elif v > hi or v < lo:
            raise ConfigError(errors.config_range(lo, hi))
        return self.format_number(v)

    def format_number(self, v: int) -> str:
        nf = self.numflags
        if nf & PERCENT and v < 0:
            return f"{-v}%"
        if nf & MEMORY:
            return str(v % _U64)
        if nf & OCTAL:
            return "%o" % (v % _U64)
        return str(v)

    def _enum(self, text: str) -> str:
        multi = MULTI_ARG in self.flags
        args = _split_multi(text) if multi else [text]
        value = self.enum_value(args, multi)
        if value is None:
            raise ConfigError(errors.config_enum_choices(n for n, _ in self.choices))
        if self.validate is not None:
            self.validate(value)
        return self.enum_name(value, multi)

    def enum_value(self, args: list, multi: bool):
        if not args or (not multi and len(args) != 1):
            return None
        total = 0
        for a in args:
            low = a.lower()
            found = False
            for n, v in self.choices:
                if n == low:
                    total |= v
                    found = True
            if not found:
                return None
        return total

    def enum_name(self, value: int, multi: bool) -> str:
        names = []
        unmatched = value
        for n, v in self.choices:
            if v == value:
                return n
            if multi and v and v == (unmatched & v):
                names.append(n)
                unmatched &= ~v
        if not names or unmatched:
            return "unknown"
        return " ".join(names)


def _split_multi(text: str) -> list:
    """sdssplitlen(value, " "): every single space separates (so two spaces make an empty argument);
    an empty value is no argument at all."""
    return text.split(" ") if text else []


# --- special settings -------------------------------------------------------------------------------


def _set_save(args: list) -> str:
    if len(args) == 1 and args[0] == "":
        args = []
    if len(args) % 2:
        raise ConfigError(errors.CONFIG_SAVE_PARAMS)
    vals = []
    for j, a in enumerate(args):
        v, rest = strtoll(a)
        if rest or (j % 2 == 0 and v < 1) or (j % 2 == 1 and v < 0):
            raise ConfigError(errors.CONFIG_SAVE_PARAMS)
        vals.append(v)
    out = []
    for j in range(0, len(vals), 2):
        changes = (vals[j + 1] + 2**31) % 2**32 - 2**31  # stored in a C int
        out.append(f"{vals[j]} {changes}")
    return " ".join(out)


_OBUF_CLASSES = {"normal": 0, "slave": 1, "replica": 1, "pubsub": 2}
_OBUF_NAMES = ("normal", "slave", "pubsub")


def _obuf_setter(config_ref):
    def setter(args: list) -> str:
        if len(args) % 4:
            raise ConfigError(errors.CONFIG_OBUF_ARGS)
        new = {}
        for j in range(0, len(args), 4):
            cls = _OBUF_CLASSES.get(args[j].lower())
            if cls is None:
                raise ConfigError(errors.CONFIG_OBUF_CLASS)
            hard = memtoull(args[j + 1])
            soft = memtoull(args[j + 2])
            secs, rest = strtoll(args[j + 3])
            secs = (secs + 2**31) % 2**32 - 2**31  # a C int
            if hard is None or soft is None or secs < 0 or rest:
                raise ConfigError(errors.CONFIG_OBUF_LIMITS)
            new[cls] = (hard, soft, secs)
        current = _parse_obuf(config_ref[0].values["client-output-buffer-limit"]) if config_ref else {}
        current.update(new)
        return " ".join(f"{_OBUF_NAMES[i]} {current[i][0]} {current[i][1]} {current[i][2]}" for i in range(3))

    return setter


def _parse_obuf(text: str) -> dict:
    parts = text.split()
    out = {}
    for j in range(0, len(parts), 4):
        out[_OBUF_CLASSES[parts[j]]] = (int(parts[j + 1]), int(parts[j + 2]), int(parts[j + 3]))
    return out


def _set_oom_values(args: list) -> str:
    if len(args) != 3:
        raise ConfigError(errors.CONFIG_WRONG_ARGS)
    vals = []
    for a in args:
        v, rest = strtoll(a)
        if rest or v < -2000 or v > 2000:
            raise ConfigError(errors.CONFIG_OOM_SCORE_ADJ)
        vals.append(v)
    return " ".join(str(v) for v in vals)


def _set_notify(args: list) -> str:
    if len(args) != 1:
        raise ConfigError(errors.CONFIG_WRONG_ARGS)
    flags = keyspace_events_from_string(args[0])
    if flags is None:
        raise ConfigError(errors.CONFIG_NOTIFY_CLASS)
    return keyspace_events_to_string(flags)


def _set_bind(args: list) -> str:
    if len(args) > 16:
        raise ConfigError(errors.CONFIG_TOO_MANY_BINDS)
    if len(args) == 1 and args[0] == "":
        args = []
    return " ".join(args)


def _set_replicaof(args: list) -> str:
    if len(args) != 2:
        raise ConfigError(errors.CONFIG_WRONG_ARGS)
    if args[0].lower() == "no" and args[1].lower() == "one":
        return ""
    port, rest = strtoll(args[1])
    if port < 0 or port > 65535 or rest:
        raise ConfigError(errors.CONFIG_MASTER_PORT)
    return f"{args[0]} {port}"


def _set_percentiles(args: list) -> str:
    from .args import parse_double_strict

    if len(args) == 1 and args[0] == "":
        args = []
    out = []
    for a in args:
        p = parse_double_strict(a.encode("latin-1"))
        if p is None:
            raise ConfigError(errors.CONFIG_PERCENTILES)
        if p > 100.0 or p < 0.0:
            raise ConfigError(errors.CONFIG_PERCENTILES_RANGE)
        out.append(_trim_double("%f" % p))
    return " ".join(out)


def _set_dir(args: list) -> str:
    if len(args) != 1:
        raise ConfigError(errors.CONFIG_WRONG_ARGS)
    return args[0]


# --- validity checks -------------------------------------------------------------------------------


def _no_path(path_error: str, empty_error: str | None = None):
    def check(v: str) -> None:
        if empty_error is not None and v == "":
            raise ConfigError(empty_error)
        if "/" in v:
            raise ConfigError(path_error)

    return check


def _valid_hostname(v: str) -> None:
    if len(v) >= 256:
        raise ConfigError(errors.CONFIG_HOSTNAME_LENGTH)
    if not re.fullmatch(r"[A-Za-z0-9.\-]*", v):
        raise ConfigError(errors.CONFIG_HOSTNAME_CHARS)


def _valid_nodename(v: str) -> None:
    if any(not (ch.isalnum() and ch.isascii()) and ch not in "-_." for ch in v):
        raise ConfigError(errors.CONFIG_NODENAME_CHARS)


_TITLE_VARS = ("{title}", "{listen-addr}", "{server-mode}", "{port}", "{tls-port}", "{unixsocket}", "{config-file}")


def _valid_title(v: str) -> None:
    rest = v
    for var in _TITLE_VARS:
        rest = rest.replace(var, "")
    if "{" in rest or "}" in rest or not v.strip():
        raise ConfigError(errors.CONFIG_TITLE_TEMPLATE)


def _valid_shutdown(value: int) -> None:
    if value & 2 and value & 1:
        raise ConfigError(errors.CONFIG_SHUTDOWN_SAVE_AND_NOSAVE)


# --- apply hooks: keep the Server's hot-path attributes in step ----------------------------------


def _attr(attr, conv=int):
    def apply(server, value):
        setattr(server, attr, conv(value))
        server.hot_path_changed()

    return apply


def _apply_requirepass(server, value):
    """The default user follows requirepass (ACLUpdateDefaultUserPassword)."""
    server.acl.update_default_password(_password_bytes(value))


def _apply_eviction(server, value):
    ev = getattr(server, "eviction", None)
    if ev is not None:
        ev.configure()


def _apply_maxmemory(server, value):
    server.maxmemory = int(value)
    server.hot_path_changed()
    ev = getattr(server, "eviction", None)
    if ev is not None:
        ev.configure()
        if server.maxmemory and server.loop is not None:
            ev.perform()  # a lower limit frees memory at once, as CONFIG SET maxmemory does


def _apply_hz(server, value):
    server.hz = max(1, min(500, int(value)))
    cfg = getattr(server, "config", None)
    if cfg is not None:
        cfg.values["hz"] = str(server.hz)  # updateHZ writes the capped value back


def _apply_port(server, value):
    if int(value) != server.port and server.loop is not None:
        raise ConfigError(errors.CONFIG_PORT_LISTEN)
    if server.loop is None:
        server.port = int(value)


def _apply_bind(server, value):
    if value.split() != server.bind.split() and server.loop is not None:
        raise ConfigError(errors.CONFIG_BIND_FAILED)
    if server.loop is None and value:
        server.bind = value


def _password_bytes(v: str) -> bytes:
    try:
        return v.encode("latin-1")  # CONFIG SET values arrive as latin-1 text of the client's bytes
    except UnicodeEncodeError:
        return v.encode()


def _apply_dir(server, value):
    try:
        os.chdir(value)
    except OSError as e:
        raise ConfigError(e.strerror or str(e)) from None


def _apply_repl(server, value):
    repl = getattr(server, "repl", None)
    if repl is not None:
        repl.refresh_guard()  # min-replicas-*, replica-serve-stale-data, repl-backlog-size


def _apply_active_expire_effort(server, value):
    server.active_expire_effort = int(value)


# --- the table ------------------------------------------------------------------------------------

def B(name, default, alias=None, flags=(), apply=None, validate=None):
    return Setting(name, "bool", "yes" if default else "no", alias=alias, flags=flags, apply=apply, validate=validate)


def S(name, default, alias=None, flags=(), validate=None, apply=None, empty_is_null=False):
    return Setting(name, "string", default or "", alias=alias, flags=flags, validate=validate, apply=apply,
                   empty_is_null=empty_is_null)


def E(name, choices, default, alias=None, flags=(), validate=None, apply=None):
    s = Setting(name, "enum", "", choices=tuple(choices), alias=alias, flags=flags, validate=validate, apply=apply)
    s.default = s.enum_name(default, MULTI_ARG in s.flags)
    return s


def N(name, lo, hi, default, alias=None, flags=(), numflags=0, unsigned=False, apply=None):
    s = Setting(name, "numeric", "", lo=lo, hi=hi, alias=alias, flags=flags, numflags=numflags, unsigned=unsigned,
                apply=apply)
    s.default = s.format_number(default)
    return s


def U(name, lo, hi, default, alias=None, flags=(), numflags=0, apply=None):
    """An unsigned C type (unsigned int, unsigned long long, size_t)."""
    return N(name, lo, hi, default, alias, flags, numflags, True, apply)


def SP(name, default, setter, alias=None, flags=(), apply=None, getter=None):
    return Setting(name, "special", default, alias=alias, flags=flags, setter=setter, apply=apply, getter=getter)


_MAXMEMORY_POLICIES = (("volatile-lru", 1), ("volatile-lfu", 2), ("volatile-random", 3), ("volatile-ttl", 4),
                       ("allkeys-lru", 5), ("allkeys-lfu", 6), ("allkeys-random", 7), ("noeviction", 8))
_PROTECTED_ACTION = (("no", 0), ("yes", 1), ("local", 2))
_SHUTDOWN = (("default", 0), ("save", 1), ("nosave", 2), ("now", 4), ("force", 8))


def _table(cfg_ref: list) -> list:
    return [
        # bool
        B("rdbchecksum", 1, flags=(IMMUTABLE,)),
        B("daemonize", 0, flags=(IMMUTABLE,)),
        B("io-threads-do-reads", 0, flags=(IMMUTABLE,)),
        B("always-show-logo", 0, flags=(IMMUTABLE,)),
        B("protected-mode", 1),
        B("rdbcompression", 1),
        B("rdb-del-sync-files", 0),
        B("activerehashing", 1),
        B("stop-writes-on-bgsave-error", 1),
        B("set-proc-title", 1, flags=(IMMUTABLE,)),
        B("dynamic-hz", 1),
        B("lazyfree-lazy-eviction", 0),
        B("lazyfree-lazy-expire", 0),
        B("lazyfree-lazy-server-del", 0),
        B("lazyfree-lazy-user-del", 0),
        B("lazyfree-lazy-user-flush", 0),
        B("repl-disable-tcp-nodelay", 0),
        B("repl-diskless-sync", 1),
        B("aof-rewrite-incremental-fsync", 1),
        B("no-appendfsync-on-rewrite", 0),
        B("cluster-require-full-coverage", 1),
        B("rdb-save-incremental-fsync", 1),
        B("aof-load-truncated", 1),
        B("aof-use-rdb-preamble", 1),
        B("aof-timestamp-enabled", 0),
        B("cluster-replica-no-failover", 0, alias="cluster-slave-no-failover"),
        B("replica-lazy-flush", 0, alias="slave-lazy-flush"),
        B("replica-serve-stale-data", 1, alias="slave-serve-stale-data", apply=_apply_repl),
        B("replica-read-only", 1, alias="slave-read-only", apply=_attr("replica_read_only", lambda v: v == "yes")),
        B("replica-ignore-maxmemory", 1, alias="slave-ignore-maxmemory"),
        B("jemalloc-bg-thread", 1),
        B("activedefrag", 0),
        B("syslog-enabled", 0, flags=(IMMUTABLE,)),
        B("cluster-enabled", 0, flags=(IMMUTABLE,)),
        B("appendonly", 0, flags=(DENY_LOADING,)),
        B("cluster-allow-reads-when-down", 0),
        B("cluster-allow-pubsubshard-when-down", 1),
        B("crash-log-enabled", 1),
        B("crash-memcheck-enabled", 1),
        B("use-exit-on-panic", 0, flags=(HIDDEN,)),
        B("disable-thp", 1, flags=(IMMUTABLE,)),
        B("cluster-allow-replica-migration", 1),
        B("replica-announced", 1),
        B("latency-tracking", 1),
        B("aof-disable-auto-gc", 0, flags=(HIDDEN,)),
        B("replica-ignore-disk-write-errors", 0),
        B("hide-user-data-from-log", 0),
        # string
        S("aclfile", "", flags=(IMMUTABLE,)),
        S("unixsocket", None, flags=(IMMUTABLE,), empty_is_null=True),
        S("pidfile", None, flags=(IMMUTABLE,), empty_is_null=True),
        S("replica-announce-ip", None, alias="slave-announce-ip", empty_is_null=True),
        S("masteruser", None, flags=(SENSITIVE,), empty_is_null=True),
        S("cluster-announce-ip", None, empty_is_null=True),
        S("cluster-config-file", "nodes.conf", flags=(IMMUTABLE,)),
        S("cluster-announce-hostname", None, validate=_valid_hostname, empty_is_null=True),
        S("cluster-announce-human-nodename", None, validate=_valid_nodename, empty_is_null=True),
        S("syslog-ident", "redis", flags=(IMMUTABLE,)),
        S("dbfilename", "dump.rdb", flags=(PROTECTED,), validate=_no_path(errors.CONFIG_DBFILENAME_PATH)),
        S("appendfilename", "appendonly.aof", flags=(IMMUTABLE,),
          validate=_no_path(errors.CONFIG_APPENDFILENAME_PATH, errors.CONFIG_APPENDFILENAME_EMPTY)),
        S("appenddirname", "appendonlydir", flags=(IMMUTABLE,),
          validate=_no_path(errors.CONFIG_APPENDDIRNAME_PATH, errors.CONFIG_APPENDDIRNAME_EMPTY)),
        S("server-cpulist", None, alias="server_cpulist", flags=(IMMUTABLE,), empty_is_null=True),
        S("bio-cpulist", None, alias="bio_cpulist", flags=(IMMUTABLE,), empty_is_null=True),
        S("aof-rewrite-cpulist", None, alias="aof_rewrite_cpulist", flags=(IMMUTABLE,), empty_is_null=True),
        S("bgsave-cpulist", None, alias="bgsave_cpulist", flags=(IMMUTABLE,), empty_is_null=True),
        S("ignore-warnings", ""),
        S("proc-title-template", "{title} {listen-addr} {server-mode}", validate=_valid_title),
        S("bind-source-addr", None, empty_is_null=True),
        S("logfile", "", flags=(IMMUTABLE,)),
        S("locale-collate", ""),
        # sds
        S("masterauth", None, flags=(SENSITIVE,), empty_is_null=True),
        S("requirepass", None, flags=(SENSITIVE,), empty_is_null=True,
          apply=_apply_requirepass),
        # enum
        E("supervised", (("upstart", 1), ("systemd", 2), ("auto", 3), ("no", 0)), 0, flags=(IMMUTABLE,)),
        E("syslog-facility", (("user", 8), ("local0", 128), ("local1", 136), ("local2", 144), ("local3", 152),
                              ("local4", 160), ("local5", 168), ("local6", 176), ("local7", 184)), 128,
          flags=(IMMUTABLE,)),
        E("repl-diskless-load", (("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)), 0, flags=(DENY_LOADING,)),
        E("loglevel", (("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3), ("nothing", 4)), 2),
        # Redis's default; an AMR cache passes its own (volatile-lru) when it starts its shards
        E("maxmemory-policy", _MAXMEMORY_POLICIES, 8, apply=_apply_eviction),
        E("appendfsync", (("everysec", 2), ("always", 1), ("no", 0)), 2),
        E("oom-score-adj", (("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)), 0),
        E("acl-pubsub-default", (("allchannels", 8), ("resetchannels", 0)), 0),
        E("sanitize-dump-payload", (("no", 0), ("yes", 1), ("clients", 2)), 0),
        E("enable-protected-configs", _PROTECTED_ACTION, 0, flags=(IMMUTABLE,)),
        # the emulator is a test tool: DEBUG (SLEEP, SET-ACTIVE-EXPIRE) is allowed from local connections
        # (Redis's default is "no")
        E("enable-debug-command", _PROTECTED_ACTION, 2, flags=(IMMUTABLE,)),
        E("enable-module-command", _PROTECTED_ACTION, 0, flags=(IMMUTABLE,)),
        E("cluster-preferred-endpoint-type", (("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)), 0),
        E("propagation-error-behavior", (("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)), 0),
        E("shutdown-on-sigint", _SHUTDOWN, 0, flags=(MULTI_ARG,), validate=_valid_shutdown),
        E("shutdown-on-sigterm", _SHUTDOWN, 0, flags=(MULTI_ARG,), validate=_valid_shutdown),
        # int
        N("databases", 1, INT_MAX, 16, flags=(IMMUTABLE,)),
        SP("port", "6379", lambda a: _port_text(a), apply=_apply_port, getter=lambda s: str(s.port)),
        N("io-threads", 1, 128, 1, flags=(IMMUTABLE,)),
        N("auto-aof-rewrite-percentage", 0, INT_MAX, 100),
        N("cluster-replica-validity-factor", 0, INT_MAX, 10, alias="cluster-slave-validity-factor"),
        N("list-max-listpack-size", INT_MIN, INT_MAX, -2, alias="list-max-ziplist-size",
          apply=_attr("list_max_listpack_size")),
        N("tcp-keepalive", 0, INT_MAX, 300),
        N("cluster-migration-barrier", 0, INT_MAX, 1),
        N("active-defrag-cycle-min", 1, 99, 1),
        N("active-defrag-cycle-max", 1, 99, 25),
        N("active-defrag-threshold-lower", 0, 1000, 10),
        N("active-defrag-threshold-upper", 0, 1000, 100),
        N("lfu-log-factor", 0, INT_MAX, 10, apply=_apply_eviction),
        N("lfu-decay-time", 0, INT_MAX, 1, apply=_apply_eviction),
        N("replica-priority", 0, INT_MAX, 100, alias="slave-priority"),
        N("repl-diskless-sync-delay", 0, INT_MAX, 5),
        N("maxmemory-samples", 1, 64, 5, apply=_apply_eviction),
        N("maxmemory-eviction-tenacity", 0, 100, 10),
        N("timeout", 0, INT_MAX, 0),
        N("replica-announce-port", 0, 65535, 0, alias="slave-announce-port"),
        N("tcp-backlog", 0, INT_MAX, 511, flags=(IMMUTABLE,)),
        N("cluster-port", 0, 65535, 0, flags=(IMMUTABLE,)),
        N("cluster-announce-bus-port", 0, 65535, 0),
        N("cluster-announce-port", 0, 65535, 0),
        N("cluster-announce-tls-port", 0, 65535, 0),
        N("repl-timeout", 1, INT_MAX, 60),
        N("repl-ping-replica-period", 1, INT_MAX, 10, alias="repl-ping-slave-period"),
        N("list-compress-depth", 0, INT_MAX, 0),
        N("rdb-key-save-delay", INT_MIN, INT_MAX, 0, flags=(HIDDEN,)),
        N("key-load-delay", INT_MIN, INT_MAX, 0, flags=(HIDDEN,)),
        N("active-expire-effort", 1, 10, 1, apply=_apply_active_expire_effort),
        N("hz", 0, INT_MAX, 10, apply=_apply_hz),
        N("min-replicas-to-write", 0, INT_MAX, 0, alias="min-slaves-to-write", apply=_apply_repl),
        N("min-replicas-max-lag", 0, INT_MAX, 10, alias="min-slaves-max-lag", apply=_apply_repl),
        N("watchdog-period", 0, INT_MAX, 0, flags=(HIDDEN,)),
        N("shutdown-timeout", 0, INT_MAX, 10),
        N("repl-diskless-sync-max-replicas", 0, INT_MAX, 0),
        # unsigned int
        U("maxclients", 1, UINT_MAX, 10000),
        U("unixsocketperm", 0, 0o777, 0, flags=(IMMUTABLE,), numflags=OCTAL),
        U("socket-mark-id", 0, UINT_MAX, 0, flags=(IMMUTABLE,)),
        U("max-new-connections-per-cycle", 1, 1000, 10),
        U("max-new-tls-connections-per-cycle", 1, 1000, 1),
        # unsigned long (signed bounds check in Redis: only uint, ull and size_t are checked unsigned)
        N("active-defrag-max-scan-fields", 1, LONG_MAX, 1000),
        N("slowlog-max-len", 0, LONG_MAX, 128, apply=_attr("slowlog_max_len")),
        N("acllog-max-len", 0, LONG_MAX, 128),
        # long long
        N("busy-reply-threshold", 0, LONG_MAX, 5000, alias="lua-time-limit"),
        N("cluster-node-timeout", 0, LLONG_MAX, 15000),
        N("cluster-ping-interval", 0, LLONG_MAX, 0, flags=(HIDDEN,)),
        N("slowlog-log-slower-than", -1, LLONG_MAX, 10000, apply=_attr("slowlog_slower_than")),
        N("latency-monitor-threshold", 0, LLONG_MAX, 0, apply=_attr("latency_monitor_threshold")),
        N("proto-max-bulk-len", 1024 * 1024, LONG_MAX, 512 * 1024 * 1024, numflags=MEMORY,
          apply=_attr("proto_max_bulk_len")),
        N("stream-node-max-entries", 0, LLONG_MAX, 100, apply=_attr("stream_node_max_entries")),
        N("repl-backlog-size", 1, LLONG_MAX, 1024 * 1024, numflags=MEMORY, apply=_apply_repl),
        # unsigned long long
        U("maxmemory", 0, ULLONG_MAX, 0, numflags=MEMORY, apply=_apply_maxmemory),
        U("cluster-link-sendbuf-limit", 0, ULLONG_MAX, 0, numflags=MEMORY),
        # size_t
        U("hash-max-listpack-entries", 0, LONG_MAX, 512, alias="hash-max-ziplist-entries",
          apply=_attr("hash_max_listpack_entries")),
        U("set-max-intset-entries", 0, LONG_MAX, 512, apply=_attr("set_max_intset_entries")),
        U("set-max-listpack-entries", 0, LONG_MAX, 128, apply=_attr("set_max_listpack_entries")),
        U("set-max-listpack-value", 0, LONG_MAX, 64, apply=_attr("set_max_listpack_value")),
        U("zset-max-listpack-entries", 0, LONG_MAX, 128, alias="zset-max-ziplist-entries",
          apply=_attr("zset_max_listpack_entries")),
        U("active-defrag-ignore-bytes", 1, LLONG_MAX, 100 << 20, numflags=MEMORY),
        U("hash-max-listpack-value", 0, LONG_MAX, 64, alias="hash-max-ziplist-value", numflags=MEMORY,
          apply=_attr("hash_max_listpack_value")),
        U("stream-node-max-bytes", 0, LONG_MAX, 4096, numflags=MEMORY, apply=_attr("stream_node_max_bytes")),
        U("zset-max-listpack-value", 0, LONG_MAX, 64, alias="zset-max-ziplist-value", numflags=MEMORY,
          apply=_attr("zset_max_listpack_value")),
        U("hll-sparse-max-bytes", 0, LONG_MAX, 3000, numflags=MEMORY),
        U("tracking-table-max-keys", 0, LONG_MAX, 1000000),
        U("client-query-buffer-limit", 1024 * 1024, LONG_MAX, 1024 * 1024 * 1024, numflags=MEMORY),
        # ssize_t
        N("maxmemory-clients", -100, SSIZE_MAX, 0, numflags=MEMORY | PERCENT),
        # time_t, off_t
        N("repl-backlog-ttl", 0, LONG_MAX, 3600),
        N("auto-aof-rewrite-min-size", 0, LLONG_MAX, 64 * 1024 * 1024, numflags=MEMORY),
        N("loading-process-events-interval-bytes", 1024, INT_MAX, 2 * 1024 * 1024, flags=(HIDDEN,)),
        # tls
        N("tls-port", 0, 65535, 0),
        N("tls-session-cache-size", 0, INT_MAX, 20 * 1024),
        N("tls-session-cache-timeout", 0, INT_MAX, 300),
        B("tls-cluster", 0),
        B("tls-replication", 0),
        E("tls-auth-clients", (("no", 0), ("yes", 1), ("optional", 2)), 1),
        B("tls-prefer-server-ciphers", 0),
        B("tls-session-caching", 1),
        S("tls-cert-file", None, flags=(VOLATILE,), empty_is_null=True),
        S("tls-key-file", None, flags=(VOLATILE,), empty_is_null=True),
        S("tls-key-file-pass", None, flags=(SENSITIVE,), empty_is_null=True),
        S("tls-client-cert-file", None, flags=(VOLATILE,), empty_is_null=True),
        S("tls-client-key-file", None, flags=(VOLATILE,), empty_is_null=True),
        S("tls-client-key-file-pass", None, flags=(SENSITIVE,), empty_is_null=True),
        S("tls-dh-params-file", None, flags=(VOLATILE,), empty_is_null=True),
        S("tls-ca-cert-file", None, flags=(VOLATILE,), empty_is_null=True),
        S("tls-ca-cert-dir", None, flags=(VOLATILE,), empty_is_null=True),
        S("tls-protocols", None, empty_is_null=True),
        S("tls-ciphers", None, empty_is_null=True),
        S("tls-ciphersuites", None, empty_is_null=True),
        # special
        SP("dir", "", _set_dir, flags=(PROTECTED, DENY_LOADING), apply=_apply_dir, getter=lambda s: _cwd()),
        # the shard never writes an RDB: no save points (Redis's default is "3600 1 300 100 60 10000")
        SP("save", "", _set_save, flags=(MULTI_ARG,)),
        SP("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
           _obuf_setter(cfg_ref), flags=(MULTI_ARG,)),
        SP("oom-score-adj-values", "0 200 800", _set_oom_values, flags=(MULTI_ARG,)),
        SP("notify-keyspace-events", "", _set_notify, apply=_attr("notify_flags", keyspace_events_from_string)),
        SP("bind", "127.0.0.1", _set_bind, flags=(MULTI_ARG,), apply=_apply_bind, getter=lambda s: s.bind),
        SP("replicaof", "", _set_replicaof, alias="slaveof", flags=(IMMUTABLE, MULTI_ARG), getter=_replicaof),
        SP("latency-tracking-info-percentiles", "50 99 99.9", _set_percentiles, flags=(MULTI_ARG,)),
    ]


def _port_text(args: list) -> str:
    # port is an int config in Redis (0..65535); kept special so that CONFIG GET shows the live port
    s = Setting("port", "numeric", "", lo=0, hi=65535)
    return s.canonical(args[0])


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return ""


def _replicaof(server) -> str:
    host = getattr(server, "master_host", None)
    if server.is_replica and host:
        return f"{host} {getattr(server, 'master_port', 0)}"
    return ""


SETTINGS = _table([])


class Config:
    """The settings of one Server. `values` maps each canonical name to its CONFIG GET text;
    `by_name` maps every name and alias (lower case) to its Setting."""

    def __init__(self, server):
        self.server = server
        ref: list = []
        self.settings = _table(ref)
        ref.append(self)
        self.by_name: dict[str, Setting] = {}
        self.values: dict[str, str] = {}
        # names as Redis's config dict lists them: each name, then its alias
        self.names: list[tuple[str, Setting]] = []
        for s in self.settings:
            self.by_name[s.name] = s
            self.names.append((s.name, s))
            for a in s.aliases:
                self.by_name[a] = s
                self.names.append((a, s))
            self.values[s.name] = s.default
        for s in self.settings:
            if s.apply is not None and s.getter is None:
                s.apply(server, s.default)

    # --- reading ---------------------------------------------------------------------------------
    @property
    def databases(self) -> int:
        return int(self.values["databases"])

    @property
    def maxclients(self) -> int:
        return int(self.values["maxclients"])

    def lookup(self, name: str) -> Setting | None:
        return self.by_name.get(name.lower())

    def get(self, name: str) -> str:
        """The CONFIG GET text of a setting (by name or alias)."""
        s = self.by_name[name.lower()]
        if s.getter is not None:
            return s.getter(self.server)
        return self.values[s.name]

    def get_int(self, name: str) -> int:
        return int(self.get(name))

    def matching(self, patterns: list[str]) -> dict[str, str]:
        """CONFIG GET: name -> value for every pattern (a plain name is looked up as given, aliases
        included; a glob matches the names and aliases, hidden settings excepted)."""
        from .glob import glob_match

        out: dict[str, str] = {}
        seen: set = set()
        for pat in patterns:
            if not any(ch in pat for ch in "[*?"):
                low = pat.lower()
                if low in seen:
                    continue
                s = self.by_name.get(low)
                if s is not None:
                    seen.add(low)
                    out[pat] = self.get(s.name)
                continue
            bpat = pat.encode("latin-1")
            for name, s in self.names:
                if HIDDEN in s.flags or name in seen:
                    continue
                if glob_match(bpat, name.encode(), nocase=True):
                    seen.add(name)
                    out[name] = self.get(s.name)
        return out

    # --- writing ---------------------------------------------------------------------------------
    def set_many(self, pairs: list[tuple[str, str]], startup: bool = False, local: bool = True) -> None:
        """CONFIG SET of several pairs, all or nothing. Raises RespError with Redis's message.

        As in Redis, a setting and its alias are separate entries: naming both sets it twice (the
        last wins), naming one entry twice is a "duplicate parameter"."""
        found: list[tuple[Setting, str]] = []  # (setting, the entry it was found under)
        error = None  # (kind, name, reason)
        for name, _ in pairs:
            low = name.lower()
            s = self.by_name.get(low)
            if s is None:
                error = ("unknown", name, "")
                break
            if not startup and (s.immutable or (PROTECTED in s.flags and not self._protected_allowed(local))):
                error = ("failed", name, "can't set immutable config" if s.immutable else
                         "can't set protected config")
                break
            entry = low if low in s.aliases else s.name
            if any(e == entry for _, e in found):
                error = ("failed", name, "duplicate parameter")
                break
            found.append((s, entry))
        if error is not None:
            if error[0] == "unknown":
                raise RespError(errors.config_unknown_option(error[1]))
            raise RespError(errors.config_set_failed(error[1], error[2]))
        old = {s.name: self.values[s.name] for s, _ in found}
        changed: list[tuple[Setting, str]] = []
        try:
            for (s, entry), (_, text) in zip(found, pairs):
                try:
                    value = s.canonical(text)
                except ConfigError as e:
                    raise _Failed(entry, e.reason) from None
                if value != self.values[s.name] or VOLATILE in s.flags or s.getter is not None:
                    self.values[s.name] = value
                    changed.append((s, entry))
            applied = []
            for s, entry in changed:
                if s.apply is not None and s.apply not in applied:
                    applied.append(s.apply)
                    try:
                        s.apply(self.server, self.values[s.name])
                    except ConfigError as e:
                        raise _Failed(entry, e.reason) from None
        except _Failed as f:
            self.values.update(old)
            for s, _ in changed:
                if s.apply is not None and s.getter is None:
                    try:
                        s.apply(self.server, self.values[s.name])
                    except ConfigError:
                        pass
            raise RespError(errors.config_set_failed(f.name, f.reason)) from None

    def _protected_allowed(self, local: bool) -> bool:
        mode = self.values["enable-protected-configs"]
        return mode == "yes" or (mode == "local" and local)

    def set(self, name: str, text: str, startup: bool = False) -> None:
        """Set one setting; raises ConfigError (reason "unknown" for an unknown name)."""
        if name.lower() not in self.by_name:
            raise ConfigError("unknown")
        try:
            self.set_many([(name, text)], startup=startup)
        except RespError as e:
            raise ConfigError(e.message.split(" - ", 1)[-1]) from None

    def set_startup(self, name: str, text: str) -> None:
        """A setting given on the command line (immutable ones included)."""
        try:
            self.set(name, text, startup=True)
        except ConfigError as e:
            raise ValueError(f"bad setting {name}={text!r}: {e.reason}") from None

    def error(self, name: str, e: ConfigError) -> RespError:
        if e.reason == "unknown":
            return RespError(errors.config_unknown_option(name))
        return RespError(errors.config_set_failed(name, e.reason))


class _Failed(Exception):
    def __init__(self, name: str, reason: str):
        super().__init__(reason)
        self.name = name
        self.reason = reason
