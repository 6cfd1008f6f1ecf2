"""The one command table.

Its data is captured from a real redis-server (`scripts/gen_command_table` writes
`redis_commands.json`); `supported.py` is the hand-kept list of what the emulator implements and
AMR's rules. Everything else derives from the two: the shard's dispatch and arity checks, key
finding (`get_keys`, Redis's key-spec algorithm), and the `COMMAND` family's replies.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from ..resp import RespSet, Simple, string2ll
from .supported import IMPLEMENTED

_DATA = os.path.join(os.path.dirname(__file__), "redis_commands.json")
_DATA_7X = os.path.join(os.path.dirname(__file__), "redis_commands_7x.json")


def _untyped(v):
    """Typed JSON (see the generator) back into the reply types the encoders take."""
    if isinstance(v, str):
        return v.encode()
    if isinstance(v, list):
        return [_untyped(x) for x in v]
    if isinstance(v, dict):
        if "+" in v:
            return Simple(v["+"])
        if "~" in v:
            return RespSet(_untyped(x) for x in v["~"])
        return {_untyped(k): _untyped(x) for k, x in v["%"]}
    return v


def _plain(v):
    """Typed JSON into plain Python (str keys, lists) for reading the key specs."""
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        if "+" in v:
            return v["+"]
        if "~" in v:
            return [_plain(x) for x in v["~"]]
        return {k: _plain(x) for k, x in v["%"]}
    return v


@dataclass(frozen=True, slots=True)
class KeySpec:
    begin_type: str  # index | keyword | unknown
    index: int = 0  # begin_search index
    keyword: str = ""  # begin_search keyword
    startfrom: int = 0
    find_type: str = "range"  # range | keynum | unknown
    lastkey: int = 0
    keystep: int = 1
    limit: int = 0
    keynumidx: int = 0
    firstkey: int = 0
    flags: frozenset = frozenset()


@dataclass(eq=False, slots=True)
class CommandSpec:
    name: str  # lower case; "config|get" for a subcommand
    arity: int
    flags: frozenset
    first_key: int
    last_key: int
    key_step: int
    acl_categories: frozenset
    tips: tuple
    key_specs: tuple
    info: list  # the COMMAND INFO entry, ready to encode
    docs: dict  # the COMMAND DOCS entry, ready to encode
    group: str = ""
    subcommands: dict = field(default_factory=dict)
    parent: "CommandSpec | None" = None

    @property
    def fullname(self) -> str:
        return self.name

    @property
    def is_write(self) -> bool:
        return "write" in self.flags

    @property
    def has_keys(self) -> bool:
        return bool(self.key_specs) and any("not_key" not in ks.flags for ks in self.key_specs)

    def incomplete_keys(self) -> bool:
        return any("incomplete" in ks.flags or "variable_flags" in ks.flags for ks in self.key_specs)


def _key_spec(d: dict) -> KeySpec:
    bs = d.get("begin_search", {})
    fk = d.get("find_keys", {})
    bspec = bs.get("spec", {})
    fspec = fk.get("spec", {})
    return KeySpec(
        begin_type=bs.get("type", "unknown"),
        index=bspec.get("index", 0),
        keyword=bspec.get("keyword", ""),
        startfrom=bspec.get("startfrom", 0),
        find_type=fk.get("type", "unknown"),
        lastkey=fspec.get("lastkey", 0),
        keystep=fspec.get("keystep", 1),
        limit=fspec.get("limit", 0),
        keynumidx=fspec.get("keynumidx", 0),
        firstkey=fspec.get("firstkey", 0),
        flags=frozenset(f.lower() for f in d.get("flags", [])),
    )


def _build(info_typed, docs_typed, parent=None) -> CommandSpec:
    info = _plain(info_typed)
    docs = _plain(docs_typed) if docs_typed is not None else {}
    spec = CommandSpec(
        name=info[0],
        arity=info[1],
        flags=frozenset(info[2]),
        first_key=info[3],
        last_key=info[4],
        key_step=info[5],
        acl_categories=frozenset(info[6]),
        tips=tuple(info[7]),
        key_specs=tuple(_key_spec(k) for k in info[8]),
        info=_untyped(info_typed),
        docs=_untyped(docs_typed) if docs_typed is not None else {},
        group=docs.get("group", ""),
        parent=parent,
    )
    sub_docs = {}
    if docs_typed is not None:
        for k, v in docs_typed["%"]:
            if k == "subcommands":
                sub_docs = {name: d for name, d in v["%"]}
    subs = info_typed[9]
    for sub in subs["~"] if isinstance(subs, dict) else subs:
        child = _build(sub, sub_docs.get(sub[0]), spec)
        spec.subcommands[child.name.split("|", 1)[1]] = child
    return spec


def _load() -> tuple[dict, str]:
    with open(_DATA) as f:
        data = json.load(f)
    with open(_DATA_7X) as f:
        data_7x = json.load(f)
    newer = data_7x["subcommands"]
    replaced = data_7x.get("commands", {})
    table = {}
    for name, entry in data["commands"].items():
        entry = replaced.get(name, entry)  # 7.4's entry where it differs from the captured one
        info, docs = entry["info"], entry["docs"]
        if name in newer:  # splice the newer subcommands into the typed data, so replies include them
            info = list(info)
            info[9] = list(info[9]) + [e["info"] for e in newer[name]]
            docs = {"%": [[k, v] if k != "subcommands" else
                          [k, {"%": v["%"] + [[e["info"][0], e["docs"]] for e in newer[name]]}]
                          for k, v in docs["%"]]}
        table[name] = _build(info, docs)
    return table, data["redis_version"]


#: Every command Redis 7 knows, by lower-case name (the captured data).
REDIS_COMMANDS, CAPTURED_FROM = _load()

#: What the emulator serves: the captured specs of the implemented commands, by top-level name.
COMMANDS: dict[str, CommandSpec] = {
    n: REDIS_COMMANDS[n] for n in sorted({name.split("|")[0] for name in IMPLEMENTED}) if n in REDIS_COMMANDS
}


def lookup(argv: list[bytes]) -> CommandSpec | None:
    """The spec for a request, descending into a subcommand when the command has them."""
    spec = COMMANDS.get(argv[0].decode("latin-1").lower())
    if spec is not None and spec.subcommands:
        if len(argv) == 1:
            return spec
        return spec.subcommands.get(argv[1].decode("latin-1").lower())
    return spec


# --- key finding ------------------------------------------------------------------------------


def _keys_from_specs(spec: CommandSpec, argv: list, partial: bool = False) -> list[int] | None:
    """Redis's getKeysUsingKeySpecs: the positions of the keys, or None if a spec cannot be followed."""
    argc = len(argv)
    out: list[int] = []
    for ks in spec.key_specs:
        if ks.begin_type == "index":
            first = ks.index
        elif ks.begin_type == "keyword":
            kw = ks.keyword.encode().lower()
            start = ks.startfrom if ks.startfrom > 0 else argc + ks.startfrom
            end = argc - 1 if ks.startfrom > 0 else 1
            first = 0
            i = start
            while True:
                if i >= argc or i < 1:
                    break
                if argv[i].lower() == kw:
                    first = i + 1
                    break
                if i == end:
                    break
                i = i + 1 if start <= end else i - 1
            if not first:
                continue
        else:
            if partial:
                continue
            return None
        if ks.find_type == "range":
            if ks.lastkey >= 0:
                last = first + ks.lastkey
            elif not ks.limit:
                last = argc + ks.lastkey
            else:
                last = first + ((argc - first) // ks.limit + ks.lastkey)
            step = ks.keystep
        elif ks.find_type == "keynum":
            if first + ks.keynumidx >= argc:
                if partial:
                    continue
                return None
            numkeys = string2ll(argv[first + ks.keynumidx])
            if numkeys is None or numkeys < 0:
                if partial:
                    continue
                return None
            first += ks.firstkey
            last = first + numkeys - 1
            step = ks.keystep
        else:
            if partial:
                continue
            return None
        if last >= argc or last < first or first >= argc:  # out of bounds: a syntax error
            if partial:
                continue
            return None
        out.extend(range(first, last + 1, step))
        if "incomplete" in ks.flags and not partial:
            return None
    return out


def _sort_keys(argv: list) -> list[int]:
    """SORT / SORT_RO: the key, and the last STORE destination (skipping option arguments)."""
    skip = {b"limit": 2, b"get": 1, b"by": 1}
    store = None
    i = 2
    while i < len(argv):
        a = argv[i].lower()
        if a in skip:
            i += skip[a]
        elif a == b"store" and i + 1 < len(argv):
            store = i + 1
            i += 1
        i += 1
    return [1] if store is None else [1, store]


def _georadius_keys(argv: list) -> list[int]:
    out = [1]
    for i in range(5, len(argv)):
        if argv[i].lower() in (b"store", b"storedist") and i + 1 < len(argv):
            out.append(i + 1)
    return out


def _migrate_keys(argv: list) -> list[int]:
    if len(argv) > 6:
        for i in range(6, len(argv)):
            if argv[i].lower() == b"keys":
                return list(range(i + 1, len(argv)))
    return [3] if argv[3] else []


_KEY_PROCS = {
    "sort": _sort_keys,
    "sort_ro": _sort_keys,
    "georadius": _georadius_keys,
    "georadiusbymember": _georadius_keys,
    "migrate": _migrate_keys,
}


def get_keys(spec: CommandSpec, argv: list) -> list[int]:
    """Positions of the keys in `argv` (argv[0] is the command name), as getKeysFromCommandWithSpecs:
    the key specs, or where they cannot be followed, the command's own key procedure (which finds no
    keys in a request that will be answered with a syntax error)."""
    if not spec.key_specs:
        return []
    proc = _KEY_PROCS.get(spec.name)
    if proc is not None:
        return proc(argv)
    keys = _keys_from_specs(spec, argv)
    if keys is not None:
        return keys
    if any(ks.find_type == "keynum" for ks in spec.key_specs):
        return []  # genericGetKeys: a numkeys out of range means no keys
    return _keys_from_specs(spec, argv, partial=True) or []


# --- COMMAND replies --------------------------------------------------------------------------


def command_info(name: bytes):
    """One `COMMAND INFO` entry (null for a command the emulator does not serve)."""
    spec = COMMANDS.get(name.decode("latin-1").lower())
    return None if spec is None else spec.info


def command_docs(names: list[bytes]) -> dict:
    specs = [COMMANDS[n] for n in COMMANDS] if not names else [
        COMMANDS[n.decode("latin-1").lower()] for n in names if n.decode("latin-1").lower() in COMMANDS]
    return {s.name.encode(): s.docs for s in specs}
