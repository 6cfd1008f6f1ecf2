"""Guards over the command table: what supported.py lists, the captured table data, the registered
handlers, and key finding (`get_keys`) against a real redis-server's COMMAND GETKEYS."""
from __future__ import annotations

import pytest

from amr_emulator.protocol.commands import COMMANDS, REDIS_COMMANDS, get_keys
from amr_emulator.protocol.commands.supported import IMPLEMENTED
from amr_emulator.protocol.resp import RespError, decode_reply
from shard.handlers import load_all
from tests.servers import RawConnection


def _spec(name: str):
    """The captured spec of an IMPLEMENTED name ("get", "config|get"), or None."""
    top, _, sub = name.partition("|")
    spec = REDIS_COMMANDS.get(top)
    if spec is None or not sub:
        return spec
    return spec.subcommands.get(sub)


@pytest.mark.parametrize("name", sorted(IMPLEMENTED))
def test_implemented_name_has_table_data(name):
    spec = _spec(name)
    assert spec is not None, f"{name!r} is listed as implemented but the captured table does not know it"
    assert spec.name == name
    top = name.split("|")[0]
    assert top in COMMANDS, f"{top!r} is not served by the COMMAND table"
    if "|" not in name:
        assert not spec.subcommands or name in ("command",), \
            f"{name!r} has subcommands: list them (container|sub) instead of the container"


@pytest.mark.parametrize("name", sorted(IMPLEMENTED))
def test_implemented_name_has_handler(name):
    handlers = load_all()
    assert name in handlers, f"{name!r} is listed in supported.IMPLEMENTED but no module registers a handler"


def test_every_handler_is_implemented():
    handlers = load_all()
    extra = sorted(set(handlers) - IMPLEMENTED)
    assert not extra, f"handlers registered for names supported.py does not list: {extra}"


def test_served_table_matches_implemented():
    tops = {n.split("|")[0] for n in IMPLEMENTED}
    assert set(COMMANDS) == tops


def test_dispatch_table_reaches_every_handler():
    from shard.dispatch import build_table

    table = build_table()
    reached = set()
    for entry in table.values():
        if entry.handler is not None:
            reached.add(entry.name)
        for sub in (entry.subs or {}).values():
            reached.add(sub.name)
    missing = sorted(set(load_all()) - reached)
    assert not missing, f"handlers dispatch never calls: {missing}"


# --- key finding against COMMAND GETKEYS ----------------------------------------------------------

# Commands with keys in odd places: keynum arguments, keywords, store options, key-spec fallbacks.
GETKEYS_CASES = [
    ("GET", "k"),
    ("SET", "k", "v", "EX", "10", "GET"),
    ("MSET", "a", "1", "b", "2", "c", "3"),
    ("MSETNX", "a", "1", "b", "2"),
    ("MGET", "a", "b", "c"),
    ("DEL", "a", "b", "c"),
    ("UNLINK", "a"),
    ("EXISTS", "a", "a", "b"),
    ("TOUCH", "a", "b"),
    ("RENAME", "a", "b"),
    ("RENAMENX", "a", "b"),
    ("COPY", "a", "b", "DB", "1", "REPLACE"),
    ("MOVE", "a", "1"),
    ("SMOVE", "a", "b", "m"),
    ("LMOVE", "a", "b", "LEFT", "RIGHT"),
    ("BLMOVE", "a", "b", "LEFT", "RIGHT", "0"),
    ("RPOPLPUSH", "a", "b"),
    ("BRPOPLPUSH", "a", "b", "0"),
    ("BLPOP", "a", "b", "c", "0"),
    ("BRPOP", "a", "0"),
    ("BZPOPMIN", "a", "b", "1.5"),
    ("ZUNIONSTORE", "d", "2", "a", "b"),
    ("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2", "AGGREGATE", "MAX"),
    ("ZINTERSTORE", "d", "1", "a"),
    ("ZDIFFSTORE", "d", "3", "a", "b", "c"),
    ("ZUNION", "2", "a", "b", "WITHSCORES"),
    ("ZINTER", "3", "a", "b", "c"),
    ("ZDIFF", "1", "a"),
    ("ZINTERCARD", "2", "a", "b", "LIMIT", "5"),
    ("ZRANGESTORE", "d", "s", "0", "-1"),
    ("SINTERCARD", "3", "a", "b", "c"),
    ("SINTERSTORE", "d", "a", "b"),
    ("SUNIONSTORE", "d", "a"),
    ("SDIFF", "a", "b", "c"),
    ("EVAL", "return 1", "2", "a", "b", "x", "y"),
    ("EVAL", "return 1", "0"),
    ("EVAL", "return 1", "0", "x"),
    ("EVALSHA", "0" * 40, "1", "k", "arg"),
    ("EVAL_RO", "return 1", "1", "k"),
    ("FCALL", "f", "2", "a", "b", "c"),
    ("FCALL_RO", "f", "0"),
    ("XREAD", "STREAMS", "a", "b", "0", "0"),
    ("XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "a", "0"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", ">", ">"),
    ("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "NOACK", "STREAMS", "s", ">"),
    ("XADD", "s", "*", "f", "v"),
    ("XGROUP", "CREATE", "s", "g", "$"),
    ("XINFO", "STREAM", "s"),
    ("SORT", "k"),
    ("SORT", "k", "STORE", "d"),
    ("SORT", "k", "BY", "w_*", "GET", "#", "GET", "o_*", "STORE", "d"),
    ("SORT", "k", "LIMIT", "0", "1", "ALPHA", "STORE", "d"),
    ("SORT", "k", "STORE", "d1", "STORE", "d2"),
    ("SORT_RO", "k", "BY", "w"),
    ("MIGRATE", "h", "6379", "k", "0", "5000"),
    ("MIGRATE", "h", "6379", "", "0", "5000", "KEYS", "a", "b"),
    ("MIGRATE", "h", "6379", "", "0", "5000", "COPY", "REPLACE", "KEYS", "a"),
    ("LMPOP", "2", "a", "b", "LEFT"),
    ("LMPOP", "1", "a", "RIGHT", "COUNT", "3"),
    ("BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "1"),
    ("ZMPOP", "1", "a", "MIN"),
    ("BZMPOP", "1.5", "3", "a", "b", "c", "MAX", "COUNT", "2"),
    ("GEORADIUS", "k", "0", "0", "1", "km"),
    ("GEORADIUS", "k", "0", "0", "1", "km", "STORE", "d"),
    ("GEORADIUS", "k", "0", "0", "1", "km", "WITHDIST", "STOREDIST", "d"),
    ("GEORADIUSBYMEMBER", "k", "m", "1", "km", "STORE", "d"),
    ("GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km"),
    ("BITOP", "AND", "d", "a", "b"),
    ("BITFIELD", "k", "GET", "i8", "0"),
    ("BITFIELD_RO", "k", "GET", "i8", "0"),
    ("PFMERGE", "d", "a", "b"),
    ("PFCOUNT", "a", "b"),
    ("LCS", "a", "b", "LEN"),
    ("OBJECT", "ENCODING", "k"),
    ("MEMORY", "USAGE", "k", "SAMPLES", "5"),
    ("WATCH", "a", "b"),
    ("GETEX", "k", "PERSIST"),
    ("RESTORE", "k", "0", "payload", "REPLACE"),
    ("HSET", "h", "f", "v", "f2", "v2"),
    ("LPUSH", "l", "a", "b"),
    ("EXPIRE", "k", "10", "NX"),
    ("SUBSTR", "k", "0", "1"),
    # errors: no key arguments, bad numkeys, wrong arity, unknown commands
    ("PING", "hello"),
    ("PUBLISH", "ch", "m"),
    ("SPUBLISH", "ch", "m"),
    ("CONFIG", "GET", "maxmemory"),
    ("CLIENT", "ID"),
    ("NOSUCHCOMMAND", "a"),
    ("CONFIG", "NOSUCH"),
    ("OBJECT", "ENCODING"),
    ("GET", "a", "b"),
    ("ZUNIONSTORE", "d", "x", "a"),
    ("ZUNIONSTORE", "d", "0", "a"),
    ("ZUNIONSTORE", "d", "5", "a"),
    ("ZUNION", "-1", "a"),
    ("EVAL", "s", "abc"),
    ("EVAL", "s", "3", "a"),
    ("LMPOP", "0", "LEFT"),
    ("LMPOP", "5", "a", "LEFT"),
    ("XREAD", "COUNT", "1"),
    ("XREAD", "STREAMS", "a"),
    ("SINTERCARD", "0", "a"),
]


def _ours(argv: tuple):
    """COMMAND GETKEYS computed from the full captured table with `get_keys`: keys or an error."""
    argv = [a.encode() for a in argv]
    spec = REDIS_COMMANDS.get(argv[0].decode().lower())
    if spec is not None and spec.subcommands and len(argv) > 1:
        spec = spec.subcommands.get(argv[1].decode().lower())
    if spec is None:
        return RespError("ERR Invalid command specified")
    if not spec.has_keys:
        return RespError("ERR The command has no key arguments")
    if (spec.arity > 0 and spec.arity != len(argv)) or len(argv) < -spec.arity:
        return RespError("ERR Invalid number of arguments specified for command")
    positions = get_keys(spec, argv)
    if not positions:
        if "no_mandatory_keys" in spec.flags:
            return []
        return RespError("ERR Invalid arguments specified for command")
    return [argv[i] for i in positions]


@pytest.fixture(scope="module")
def redis_conn(real_redis):
    conn = RawConnection(real_redis.host, real_redis.port)
    yield conn
    conn.close()


@pytest.mark.parametrize("argv", GETKEYS_CASES, ids=[" ".join(a)[:60] for a in GETKEYS_CASES])
def test_get_keys_matches_redis(redis_conn, argv):
    theirs, _ = decode_reply(redis_conn.call("COMMAND", "GETKEYS", *argv))
    ours = _ours(argv)
    if isinstance(theirs, RespError):
        assert isinstance(ours, RespError), f"redis: {theirs.message}; ours: {ours}"
        assert ours.message == theirs.message
    else:
        assert not isinstance(ours, RespError), f"redis: {theirs}; ours: {ours.message}"
        assert ours == theirs


def test_getkeys_case_count():
    assert len(GETKEYS_CASES) >= 40
