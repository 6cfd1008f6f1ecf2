"""ACL users, as Redis 7.4's acl.c models them.

A user has flags (on/off, nopass, sanitize-payload), SHA-256 password hashes and selectors: the root
selector plus any `(...)` selectors. A selector allows commands (a set of full names, `config|get`
for a subcommand, plus allowed first arguments such as `select|0`), key patterns with read/write
permissions and channel patterns. The rules given to SETUSER are kept as Redis keeps them
(`command_rules`), so ACL LIST and GETUSER describe a user exactly as Redis does.

Categories come from the command table's ACL categories (Redis's full table, not only what the
shard serves), so `+@read` means what it means on redis-server.

The permission check (`check_command`) is one call in dispatch, made only while
`server.acl_restricted` is set: some user other than an all-permissive `default` exists.
"""
from __future__ import annotations

import copy
import hashlib
import hmac
from collections import deque

from amr_emulator.protocol import errors
from amr_emulator.protocol.commands import REDIS_COMMANDS, _keys_from_specs, get_keys

from .glob import glob_match

CATEGORIES = ("keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
              "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
              "connection", "transaction", "scripting")

READ = 1
WRITE = 2
ALL_PERM = READ | WRITE

DENIED_CMD, DENIED_KEY, DENIED_CHANNEL, DENIED_AUTH = 1, 2, 3, 4  # Redis's ACL_DENIED_* order
REASONS = {DENIED_CMD: b"command", DENIED_KEY: b"key", DENIED_CHANNEL: b"channel", DENIED_AUTH: b"auth"}


class ACLError(Exception):
    """A SETUSER rule Redis refuses; the message is ACLSetUserStringError's text."""


# --- the command table as ACL sees it ------------------------------------------------------------
def _all_specs():
    out = []
    for spec in REDIS_COMMANDS.values():
        out.append(spec)
        out.extend(spec.subcommands.values())
    return out


ALL_SPECS = _all_specs()
ALL_NAMES = frozenset(s.name for s in ALL_SPECS)


def acl_lookup(name: str):
    """ACLLookupCommand: `get` or `config|get` (case-insensitive) in Redis's full table."""
    name = name.lower()
    parts = name.split("|")
    spec = REDIS_COMMANDS.get(parts[0])
    if spec is None or len(parts) > 2:
        return None
    if len(parts) == 2:
        return spec.subcommands.get(parts[1])
    return spec


def specs_in_category(cat: str) -> list:
    tag = "@" + cat
    return [s for s in ALL_SPECS if tag in s.acl_categories]


def has_spaces(s: bytes) -> bool:
    return any(ch in b" \t\n\r\v\f\x00" for ch in s)


def hash_password(pw: bytes) -> str:
    return hashlib.sha256(pw).hexdigest()


def _password_hash(op: bytes, clear: bytes) -> str:
    """The SHA-256 hex of a >/< (clear text) or #/! (already hashed) password rule."""
    if op[:1] == clear:
        return hash_password(op[1:])
    h = op[1:].decode("latin-1")
    if len(h) != 64 or any(ch not in "0123456789abcdef" for ch in h):
        raise ACLError(errors.ACL_BAD_PASSWORD_HASH)
    return h


# --- selectors and users ------------------------------------------------------------------------------
class Selector:
    def __init__(self, root: bool, allchannels: bool):
        self.root = root
        self.allkeys = False
        self.allchannels = allchannels
        self.allcommands = False
        self.future = False  # +@all was given: Redis's reserved "future commands" bit
        self.allowed: set = set()
        self.firstargs: dict = {}  # command name -> [allowed first args]
        self.patterns: list = []  # [pattern bytes, READ|WRITE]
        self.channels: list = []
        self.rules: list = []  # command_rules, e.g. ["+@read", "-keys"]

    # --- rules ---------------------------------------------------------------------------------
    def _update_rules(self, rule: str, allow: bool) -> None:
        rule = rule.lower()
        self.rules = [r for r in self.rules if not (r[1:] == rule or r[1:].startswith(rule + "|"))]
        self.rules.append(("+" if allow else "-") + rule)

    def _change_perm(self, spec, allow: bool) -> None:
        names = [spec.name] + [s.name for s in spec.subcommands.values()]
        if allow:
            self.allowed.update(names)
        else:
            self.allowed.difference_update(names)
            self.allcommands = False
        self.firstargs.pop(spec.name, None)

    def set_op(self, op: bytes, acl_pubsub_allchannels: bool) -> None:
        """ACLSetSelector: one rule; raises ACLError."""
        low = op.lower()
        text = op.decode("latin-1")
        if low in (b"allkeys", b"~*"):
            self.allkeys = True
            self.patterns = []
        elif low == b"resetkeys":
            self.allkeys = False
            self.patterns = []
        elif low in (b"allchannels", b"&*"):
            self.allchannels = True
            self.channels = []
        elif low == b"resetchannels":
            self.allchannels = False
            self.channels = []
        elif low in (b"allcommands", b"+@all"):
            self.allowed = set(ALL_NAMES)
            self.allcommands = True
            self.future = True
            self.rules = []
            self.firstargs = {}
        elif low in (b"nocommands", b"-@all"):
            self.allowed = set()
            self.allcommands = False
            self.future = False
            self.rules = []
            self.firstargs = {}
        elif op[:1] in (b"~", b"%"):
            if self.allkeys:
                raise ACLError(errors.ACL_PATTERN_AFTER_ALLKEYS)
            flags = 0
            offset = 1
            if op[:1] == b"%":
                while offset < len(op):
                    ch = op[offset:offset + 1].upper()
                    if ch == b"R" and not flags & READ:
                        flags |= READ
                    elif ch == b"W" and not flags & WRITE:
                        flags |= WRITE
                    elif ch == b"~":
                        offset += 1
                        break
                    else:
                        raise ACLError(errors.ACL_SYNTAX)
                    offset += 1
                if not flags:
                    raise ACLError(errors.ACL_SYNTAX)
            else:
                flags = ALL_PERM
            pattern = op[offset:]
            if has_spaces(pattern):
                raise ACLError(errors.ACL_SYNTAX)
            for p in self.patterns:
                if p[0] == pattern:
                    p[1] |= flags
                    break
            else:
                self.patterns.append([pattern, flags])
            self.allkeys = False
        elif op[:1] == b"&":
            if self.allchannels:
                raise ACLError(errors.ACL_PATTERN_AFTER_ALLCHANNELS)
            pattern = op[1:]
            if has_spaces(pattern):
                raise ACLError(errors.ACL_SYNTAX)
            if pattern not in self.channels:
                self.channels.append(pattern)
            self.allchannels = False
        elif op[:1] == b"+" and op[1:2] != b"@":
            name = text[1:]
            if "|" not in name:
                spec = acl_lookup(name)
                if spec is None:
                    raise ACLError(errors.ACL_UNKNOWN_COMMAND_OR_CATEGORY)
                self._change_perm(spec, True)
                self._update_rules(spec.name, True)
            else:
                head, _, sub = name.rpartition("|")
                spec = acl_lookup(head)
                if spec is None:
                    raise ACLError(errors.ACL_UNKNOWN_COMMAND_OR_CATEGORY)
                if spec.parent is not None:
                    raise ACLError(errors.ACL_SUBCOMMAND_FIRST_ARG)
                if not sub:
                    raise ACLError(errors.ACL_SYNTAX)
                if spec.subcommands:
                    subspec = acl_lookup(name)
                    if subspec is None:
                        raise ACLError(errors.ACL_UNKNOWN_COMMAND_OR_CATEGORY)
                    self._change_perm(subspec, True)
                else:  # +select|0: a first argument of an otherwise blocked command
                    args = self.firstargs.setdefault(spec.name, [])
                    if sub.lower() not in (a.lower() for a in args):
                        args.append(sub)
                self._update_rules(name, True)
        elif op[:1] == b"-" and op[1:2] != b"@":
            spec = acl_lookup(text[1:])
            if spec is None:
                raise ACLError(errors.ACL_UNKNOWN_COMMAND_OR_CATEGORY)
            self._change_perm(spec, False)
            self._update_rules(spec.name, False)
        elif op[:1] in (b"+", b"-") and op[1:2] == b"@":
            cat = text[2:].lower()
            if cat not in CATEGORIES:
                raise ACLError(errors.ACL_UNKNOWN_COMMAND_OR_CATEGORY)
            allow = op[:1] == b"+"
            self._update_rules("@" + cat, allow)
            for spec in specs_in_category(cat):
                self._change_perm(spec, allow)
        else:
            raise ACLError(errors.ACL_SYNTAX)

    # --- description ------------------------------------------------------------------------------
    def describe_commands(self) -> str:
        return " ".join(["+@all" if self.future else "-@all"] + self.rules)

    def describe_keys(self) -> str:
        if self.allkeys:
            return "~*"
        return " ".join(_pattern_string(p) for p in self.patterns)

    def describe_channels(self) -> str:
        if self.allchannels:
            return "&*"
        return " ".join("&" + ch.decode("latin-1") for ch in self.channels)

    def describe(self) -> str:
        out = ""
        if self.allkeys:
            out += "~* "
        else:
            for p in self.patterns:
                out += _pattern_string(p) + " "
        if self.allchannels:
            out += "&* "
        else:
            out += "resetchannels "
            for ch in self.channels:
                out += "&" + ch.decode("latin-1") + " "
        return out + self.describe_commands()

    def reply(self) -> dict:
        return {b"commands": self.describe_commands().encode("latin-1"),
                b"keys": self.describe_keys().encode("latin-1"),
                b"channels": self.describe_channels().encode("latin-1")}

    # --- checks -----------------------------------------------------------------------------------
    def check_key(self, key: bytes, need: int) -> bool:
        if self.allkeys:
            return True
        for pattern, flags in self.patterns:
            if flags & need == need and glob_match(pattern, key):
                return True
        return False

    def check(self, spec, argv: list, keys) -> tuple[int, int]:
        """ACLSelectorCheckCmd: (0, 0) if allowed, else (reason, argv index)."""
        if not self.allcommands and "no_auth" not in spec.flags and spec.name not in self.allowed:
            args = self.firstargs.get(spec.name)
            if not args or len(argv) < 2:
                return DENIED_CMD, 0
            idx = 2 if spec.parent is not None else 1
            if argv[idx].decode("latin-1").lower() not in (a.lower() for a in args):
                return DENIED_CMD, 0
        if not self.allkeys and spec.key_specs:
            for idx, need in keys():
                if not self.check_key(argv[idx], need):
                    return DENIED_KEY, idx
        if not self.allchannels:
            for idx, is_pattern in channels_of(spec.name, argv):
                ch = argv[idx]
                if not any((ch == p) if is_pattern else glob_match(p, ch) for p in self.channels):
                    return DENIED_CHANNEL, idx
        return 0, 0


def _pattern_string(p) -> str:
    prefix = {ALL_PERM: "~", READ: "%R~", WRITE: "%W~"}[p[1]]
    return prefix + p[0].decode("latin-1")


def keys_with_flags(spec, argv: list) -> list:
    """(argv index, READ|WRITE needed) for every key, as getKeysFromCommandWithSpecs with its flags."""
    out = []
    specs = spec.key_specs
    if spec.name in ("sort", "sort_ro", "georadius", "georadiusbymember", "migrate") or any(
            ks.begin_type not in ("index", "keyword") or ks.find_type not in ("range", "keynum") for ks in specs):
        return [(i, ALL_PERM) for i in get_keys(spec, argv)]
    for ks in specs:
        need = 0
        if "access" in ks.flags:
            need |= READ
        if ks.flags & {"insert", "delete", "update"}:
            need |= WRITE
        for i in _keys_from_specs(_One(ks), argv, partial=True) or ():
            out.append((i, need))
    return out


class _One:
    __slots__ = ("key_specs",)

    def __init__(self, ks):
        self.key_specs = (ks,)


def channels_of(name: str, argv: list):
    """getChannelsFromCommand for the channels ACL checks (publish and subscribe, not unsubscribe)."""
    if name in ("publish", "spublish"):
        return [(1, False)] if len(argv) > 1 else []
    if name in ("subscribe", "ssubscribe"):
        return [(i, False) for i in range(1, len(argv))]
    if name == "psubscribe":
        return [(i, True) for i in range(1, len(argv))]
    return ()


class User:
    def __init__(self, name: bytes, allchannels: bool):
        self.name = name
        self.enabled = False
        self.nopass = False
        self.skip_sanitize = False
        self.passwords: list = []  # hex SHA-256
        self.selectors = [Selector(True, allchannels)]

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    def flags(self) -> list:
        out = [b"on" if self.enabled else b"off"]
        if self.nopass:
            out.append(b"nopass")
        out.append(b"skip-sanitize-payload" if self.skip_sanitize else b"sanitize-payload")
        return out

    def describe(self) -> str:
        out = " ".join(f.decode() for f in self.flags()) + " "
        for p in self.passwords:
            out += "#" + p + " "
        out += self.root.describe()
        for s in self.selectors[1:]:
            out += " (" + s.describe() + ")"
        return out

    def set_op(self, op: bytes, acl_pubsub_allchannels: bool) -> None:
        """ACLSetUser."""
        if not op:
            return
        low = op.lower()
        if low == b"on":
            self.enabled = True
        elif low == b"off":
            self.enabled = False
        elif low == b"skip-sanitize-payload":
            self.skip_sanitize = True
        elif low == b"sanitize-payload":
            self.skip_sanitize = False
        elif low == b"nopass":
            self.nopass = True
            self.passwords = []
        elif low == b"resetpass":
            self.nopass = False
            self.passwords = []
        elif op[:1] in (b">", b"#"):
            h = _password_hash(op, b">")
            if h not in self.passwords:
                self.passwords.append(h)
            self.nopass = False
        elif op[:1] in (b"<", b"!"):
            h = _password_hash(op, b"<")
            if h not in self.passwords:
                raise ACLError(errors.ACL_NO_SUCH_PASSWORD)
            self.passwords.remove(h)
        elif op[:1] == b"(" and op[-1:] == b")":
            s = Selector(False, acl_pubsub_allchannels)
            for part in op[1:-1].split():
                s.set_op(part, acl_pubsub_allchannels)
            self.selectors.append(s)
        elif low == b"clearselectors":
            del self.selectors[1:]
        elif low == b"reset":
            self.set_op(b"resetpass", acl_pubsub_allchannels)
            self.set_op(b"resetkeys", acl_pubsub_allchannels)
            self.set_op(b"resetchannels", acl_pubsub_allchannels)
            if acl_pubsub_allchannels:
                self.set_op(b"allchannels", acl_pubsub_allchannels)
            self.enabled = False
            self.skip_sanitize = False
            del self.selectors[1:]
            self.set_op(b"-@all", acl_pubsub_allchannels)
        else:
            self.root.set_op(op, acl_pubsub_allchannels)

    def channel_allowed(self, channel: bytes, is_pattern: bool) -> bool:
        """ACLUserCheckChannelPerm."""
        for s in self.selectors:
            if s.allchannels:
                return True
            if any((channel == p) if is_pattern else glob_match(p, channel) for p in s.channels):
                return True
        return False

    @property
    def unrestricted(self) -> bool:
        r = self.root
        return r.allcommands and r.allkeys and r.allchannels

    def check(self, spec, argv: list) -> tuple[int, int]:
        """ACLCheckAllUserCommandPerm: (0, 0) or (reason, argv index) of the most relevant denial."""
        cache = []

        def keys():
            if not cache:
                cache.append(keys_with_flags(spec, argv))
            return cache[0]

        relevant, last = DENIED_CMD, 0
        for s in self.selectors:
            reason, idx = s.check(spec, argv, keys)
            if not reason:
                return 0, 0
            if reason > relevant or (reason == relevant and idx > last):
                relevant, last = reason, idx
        return relevant, last


def split_selector_args(args: list) -> list | int:
    """ACLMergeSelectorArguments: `(` ... `)` spread over arguments become one; an unclosed one
    returns the index of its start."""
    out = []
    start = -1
    cur = b""
    for j, op in enumerate(args):
        if start == -1 and op[:1] == b"(" and op[-1:] != b")":
            cur = op
            start = j
            continue
        if start != -1:
            cur += b" " + op
            if op[-1:] == b")":
                start = -1
                out.append(cur)
            continue
        out.append(op)
    if start != -1:
        return start
    return out


# --- the server's registry ------------------------------------------------------------------------------
class ACL:
    def __init__(self, server):
        self.server = server
        default = User(b"default", True)
        for op in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            default.set_op(op, True)
        self.users: dict[bytes, User] = {b"default": default}
        self.log: deque = deque()
        self.log_entries = 0
        self.denied = {DENIED_CMD: 0, DENIED_KEY: 0, DENIED_CHANNEL: 0, DENIED_AUTH: 0}

    @property
    def default(self) -> User:
        return self.users[b"default"]

    def pubsub_allchannels(self) -> bool:
        cfg = getattr(self.server, "config", None)
        return cfg is not None and cfg.values.get("acl-pubsub-default") == "allchannels"

    def changed(self) -> None:
        """Keep the server's hot-path flags in step with the users."""
        server = self.server
        d = self.default
        server.acl_restricted = len(self.users) > 1 or not d.unrestricted
        server.hot_path_changed()
        # new connections must authenticate unless default is on and nopass (authRequired); session.py
        # and RESET read this truthiness from server.requirepass
        server.requirepass = b"" if d.nopass and d.enabled else b"\x00"

    def update_default_password(self, password: bytes) -> None:
        """requirepass: ACLUpdateDefaultUserPassword."""
        d = self.default
        d.set_op(b"resetpass", True)
        if password:
            d.set_op(b">" + password, True)
        else:
            d.set_op(b"nopass", True)
        self.changed()

    def set_user(self, name: bytes, ops: list) -> None:
        """ACLStringSetUser: all the rules or none. Raises ACLError with the full message."""
        merged = split_selector_args(ops)
        if isinstance(merged, int):
            raise ACLError(errors.acl_unmatched_parenthesis(ops[merged]))
        existing = self.users.get(name)
        allch = self.pubsub_allchannels()
        u = copy.deepcopy(existing) if existing is not None else User(name, allch)
        for op in merged:
            try:
                u.set_op(op, allch)
            except ACLError as e:
                raise ACLError(errors.acl_setuser_modifier(op, str(e))) from None
        self.users[name] = u
        self.changed()
        if existing is not None:
            self.kill_pubsub_clients(u)

    def kill_pubsub_clients(self, u: User) -> None:
        """ACLKillPubsubClientsIfNeeded: a subscriber whose channels the new rules no longer allow
        is disconnected."""
        for c in list(self.server.clients.values()):
            if c.user != u.name or not c.pubsub_count:
                continue
            ok = (all(u.channel_allowed(ch, False) for ch in c.subscriptions)
                  and all(u.channel_allowed(ch, False) for ch in c.ssubscriptions)
                  and all(u.channel_allowed(p, True) for p in c.psubscriptions))
            if not ok:
                if c.in_batch:  # the client running this command: after its reply
                    c.close_after_reply()
                elif c.transport is not None:
                    c.closing = True
                    c.transport.close()

    def check_credentials(self, name: bytes, password: bytes) -> bool:
        u = self.users.get(name)
        if u is None or not u.enabled:
            return False
        if u.nopass:
            return True
        h = hash_password(password)
        return any(hmac.compare_digest(h, p) for p in u.passwords)

    def add_log(self, c, reason: int, obj: bytes, username: bytes | None = None, context: bytes | None = None) -> None:
        from .handlers.connection import client_info_line

        self.denied[reason] += 1
        max_len = self.server.config.get_int("acllog-max-len")
        now = self.server.now_ms
        username = c.user if username is None else username
        if context is None:
            context = b"multi" if c.multi is not None else b"toplevel"
        info = client_info_line(c).encode("latin-1")
        for i, e in enumerate(list(self.log)[:10]):
            if (e["reason"] == reason and e["context"] == context and abs(e["ctime"] - now) <= 60000
                    and e["object"] == obj and e["username"] == username):
                e["count"] += 1
                e["cinfo"] = info
                e["ctime"] = now
                del self.log[i]
                self.log.appendleft(e)
                return
        if max_len == 0:
            self.log.clear()
            return
        self.log.appendleft({"count": 1, "reason": reason, "context": context, "object": obj,
                             "username": username, "ctime": now, "created": now, "cinfo": info,
                             "id": self.log_entries})
        self.log_entries += 1
        while len(self.log) > max_len:
            self.log.pop()


def error_message(reason: int, user: bytes, spec, value: bytes, verbose: bool) -> str:
    """getAclErrorMessage."""
    if reason == DENIED_CMD:
        return errors.acl_denied_command(user, spec.name)
    if reason == DENIED_KEY:
        return errors.acl_denied_key(user, value) if verbose else errors.ACL_DENIED_KEY
    return errors.acl_denied_channel(user, value) if verbose else errors.ACL_DENIED_CHANNEL


def check_command(c, entry, argv: list) -> str | None:
    """The ACL step of processCommand (called only while server.acl_restricted): None when allowed,
    else the NOPERM error to reject with (and an ACL LOG entry)."""
    acl = c.server.acl
    user = acl.users.get(c.user)
    if user is None or user.unrestricted:
        return None if user is not None else errors.noperm(errors.acl_denied_command(c.user, entry.spec.name))
    reason, idx = user.check(entry.spec, argv)
    if not reason:
        return None
    obj = entry.spec.name.encode() if reason == DENIED_CMD else argv[idx]
    acl.add_log(c, reason, obj)
    return errors.noperm(error_message(reason, c.user, entry.spec, argv[idx], False))


_EXEC_REASONS = {DENIED_CMD: errors.ACL_EXEC_DENIED_COMMAND, DENIED_KEY: errors.ACL_EXEC_DENIED_KEY,
                 DENIED_CHANNEL: errors.ACL_EXEC_DENIED_CHANNEL}


def check_queued(c, entry, argv: list) -> str | None:
    """execCommand's re-check of a queued command (the rules may have changed since MULTI)."""
    acl = c.server.acl
    user = acl.users.get(c.user)
    if user is None:
        reason, idx = DENIED_CMD, 0
    elif user.unrestricted:
        return None
    else:
        reason, idx = user.check(entry.spec, argv)
        if not reason:
            return None
    obj = entry.spec.name.encode() if reason == DENIED_CMD else argv[idx]
    acl.add_log(c, reason, obj, context=b"multi")
    return errors.exec_acl_changed(_EXEC_REASONS[reason])
