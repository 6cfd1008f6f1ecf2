"""COMMAND, COMMAND INFO / DOCS / COUNT / LIST / GETKEYS / HELP against a real redis-server.

The table was captured from the redis-server these tests compare with, so the entry of every command
the shard serves must come back byte for byte. Containers (CONFIG, CLIENT...) list their
subcommands in the order of a hash table with a per-process random seed, so for them the
subcommands are compared as a set.
"""
from __future__ import annotations

import pytest

from amr_emulator.protocol.commands import COMMANDS
from amr_emulator.protocol.resp import RespError, decode_reply

NAMES = sorted(COMMANDS)
CONTAINERS = {n for n, s in COMMANDS.items() if s.subcommands}
# 7.0.15 differs: CLIENT SETINFO and CLIENT NO-TOUCH are Redis 7.2's; the table adds them by hand
NEWER_SUBCOMMANDS = {b"client|setinfo", b"client|no-touch"}
# 7.0.15 differs: ZRANK/ZREVRANK take WITHSCORE since 7.2 (arity -3, 7.4's docs); see test_zrank_7_4_entries
NEWER_ENTRIES = {"zrank", "zrevrank"}
COMPARED = [n for n in NAMES if n not in NEWER_ENTRIES]


def _decode(raw: bytes):
    value, end = decode_reply(raw)
    assert end == len(raw)
    return value


def _norm_info(entry):
    """A COMMAND INFO entry with its subcommands sorted (and the ones newer than 7.0.15 dropped)."""
    if not isinstance(entry, list):
        return entry
    entry = list(entry)
    subs = [_norm_info(s) for s in entry[9] if s[0] not in NEWER_SUBCOMMANDS]
    entry[9] = sorted(subs, key=lambda s: s[0])
    return entry


def _pairs(v):
    """A map as RESP2 (flat list) or RESP3 (dict) into a list of pairs."""
    if isinstance(v, dict):
        return list(v.items())
    return [(v[i], v[i + 1]) for i in range(0, len(v), 2)]


def _norm_docs(docs):
    """A COMMAND DOCS entry with its subcommands as a sorted list of pairs."""
    out = []
    for k, v in _pairs(docs):
        if k == b"subcommands":
            v = sorted(((n, _norm_docs(d)) for n, d in _pairs(v) if n not in NEWER_SUBCOMMANDS),
                       key=lambda p: p[0])
        out.append((k, v))
    return out


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def proto(request, compat):
    if request.param == 3:
        compat.resp3()
    return compat


@pytest.mark.parametrize("name", COMPARED)
def test_command_info(proto, name):
    ours, theirs = proto.both("COMMAND", "INFO", name)
    if name in CONTAINERS:
        assert _norm_info(_decode(ours)[0]) == _norm_info(_decode(theirs)[0])
    else:
        assert ours == theirs


@pytest.mark.parametrize("name", COMPARED)
def test_command_docs(proto, name):
    ours, theirs = proto.both("COMMAND", "DOCS", name)
    if name in CONTAINERS:
        (n1, d1), = _pairs(_decode(ours))
        (n2, d2), = _pairs(_decode(theirs))
        assert n1 == n2 == name.encode()
        assert _norm_docs(d1) == _norm_docs(d2)
    else:
        assert ours == theirs


SUBCOMMAND_QUERIES = [
    ("config|get",),
    ("CONFIG|SET",),
    ("client|id", "object|encoding"),
    ("command|getkeys", "slowlog|get", "memory|usage"),
    ("get|x",),
    ("config|nosuch",),
    ("a|b|c",),
    ("config|get|x",),
    ("nosuchcommand",),
    ("get", "nosuchcommand", "set"),
    ("GeT", "sEt"),
    ("",),
    ("|",),
    ("config|",),
]


@pytest.mark.parametrize("names", SUBCOMMAND_QUERIES)
def test_command_info_names(proto, names):
    proto.call("COMMAND", "INFO", *names)


@pytest.mark.parametrize("names", SUBCOMMAND_QUERIES)
def test_command_docs_names(proto, names):
    proto.call("COMMAND", "DOCS", *names)


def test_command_info_duplicates(proto):
    proto.call("COMMAND", "INFO", "get", "get")


def test_command_docs_duplicate_resp2(compat):
    compat.call("COMMAND", "DOCS", "get", "GET")


def test_command_count(compat):
    ours, theirs = compat.both("COMMAND", "COUNT")
    assert _decode(ours) == len(COMMANDS)
    assert _decode(theirs) > len(COMMANDS)  # redis knows more commands than the shard serves


@pytest.mark.parametrize("args", [("COMMAND",), ("COMMAND", "INFO")])
def test_command_all(compat, args):
    ours, theirs = compat.both(*args)
    ours, theirs = _decode(ours), _decode(theirs)
    assert len(ours) == len(COMMANDS)
    assert {e[0] for e in ours} == {n.encode() for n in COMMANDS}
    by_name = {e[0]: _norm_info(e) for e in theirs}
    for entry in ours:
        if entry[0].decode() not in NEWER_ENTRIES:
            assert _norm_info(entry) == by_name[entry[0]]


def test_command_docs_all(compat):
    ours, theirs = compat.both("COMMAND", "DOCS")
    ours, theirs = dict(_pairs(_decode(ours))), dict(_pairs(_decode(theirs)))
    assert set(ours) == {n.encode() for n in COMMANDS}
    for name, docs in ours.items():
        if name.decode() not in NEWER_ENTRIES:
            assert _norm_docs(docs) == _norm_docs(theirs[name])


def test_zrank_7_4_entries(compat):
    # 7.0.15 differs: arity 3, no WITHSCORE; these are Redis 7.4's entries
    for name in ("zrank", "zrevrank"):
        ours, theirs = (_decode(raw)[0] for raw in compat.both("COMMAND", "INFO", name))
        assert ours[1] == -3 and theirs[1] == 3
        assert ours[:1] + ours[2:] == theirs[:1] + theirs[2:]
        docs = dict(_pairs(_pairs(_decode(compat.both("COMMAND", "DOCS", name)[0]))[0][1]))
        assert docs[b"history"] == [[b"7.2.0", b"Added the optional `WITHSCORE` argument."]]
        withscore = dict(_pairs(docs[b"arguments"][2]))
        assert withscore[b"token"] == b"WITHSCORE" and withscore[b"flags"] == ["optional"]
        assert docs[b"summary"].startswith(b"Returns the index of a member in a sorted set ordered by")


def _universe():
    names = set()
    for n, spec in COMMANDS.items():
        names.add(n.encode())
        names.update(s.name.encode() for s in spec.subcommands.values())
    return names


def test_command_list(compat):
    ours, theirs = compat.both("COMMAND", "LIST")
    ours, theirs = _decode(ours), _decode(theirs)
    assert len(ours) == len(set(ours))
    assert set(ours) == _universe()
    assert set(ours) - NEWER_SUBCOMMANDS <= set(theirs)


@pytest.mark.parametrize("filt", [
    ("ACLCAT", "string"), ("ACLCAT", "STRING"), ("ACLCAT", "keyspace"), ("ACLCAT", "admin"),
    ("ACLCAT", "connection"), ("ACLCAT", "nosuchcategory"), ("ACLCAT", "@read"),
    ("PATTERN", "*"), ("PATTERN", "z*"), ("PATTERN", "CONFIG*"), ("PATTERN", "*|get"), ("PATTERN", "?et"),
    ("PATTERN", "[gs]et"), ("PATTERN", "nothing-matches"),
    ("MODULE", "nosuchmodule"),
])
def test_command_list_filterby(compat, filt):
    ours, theirs = compat.both("COMMAND", "LIST", "FILTERBY", *filt)
    ours, theirs = set(_decode(ours)), set(_decode(theirs))
    assert ours == (theirs & _universe()) | (ours & NEWER_SUBCOMMANDS)


@pytest.mark.parametrize("args", [
    ("FILTERBY",), ("FILTERBY", "PATTERN"), ("FILTERBY", "FOO", "x"), ("FILTERBY", "PATTERN", "x", "y"),
    ("x",), ("PATTERN", "x"), ("FILTERBY", "PATTERN", "x", "FILTERBY", "ACLCAT", "read"),
])
def test_command_list_syntax(compat, args):
    compat.call("COMMAND", "LIST", *args)


GETKEYS = [
    ("GET", "k"),
    ("SET", "k", "v", "EX", "10"),
    ("SET", "k", "v", "GET"),
    ("MSET", "a", "1", "b", "2"),
    ("MSETNX", "a", "1", "b", "2"),
    ("MGET", "a", "b", "c"),
    ("DEL", "a", "b"),
    ("UNLINK", "a"),
    ("EXISTS", "a", "b", "a"),
    ("TOUCH", "x"),
    ("RENAME", "a", "b"),
    ("RENAMENX", "a", "b"),
    ("COPY", "a", "b", "REPLACE"),
    ("MOVE", "a", "3"),
    ("TYPE", "k"),
    ("EXPIRE", "k", "10"),
    ("PEXPIREAT", "k", "10", "GT"),
    ("TTL", "k"),
    ("PERSIST", "k"),
    ("GETEX", "k", "EX", "5"),
    ("GETDEL", "k"),
    ("LCS", "a", "b", "IDX", "MINMATCHLEN", "2"),
    ("SUBSTR", "k", "0", "1"),
    ("SETRANGE", "k", "0", "x"),
    ("HSET", "h", "f", "v"),
    ("HMGET", "h", "a", "b"),
    ("HSCAN", "h", "0", "MATCH", "*"),
    ("LPUSH", "l", "a", "b"),
    ("LMOVE", "a", "b", "LEFT", "RIGHT"),
    ("BLMOVE", "a", "b", "LEFT", "RIGHT", "0"),
    ("RPOPLPUSH", "a", "b"),
    ("BRPOPLPUSH", "a", "b", "1"),
    ("BLPOP", "a", "b", "0"),
    ("BRPOP", "a", "0"),
    ("LMPOP", "2", "a", "b", "LEFT"),
    ("LMPOP", "1", "a", "RIGHT", "COUNT", "2"),
    ("BLMPOP", "0", "2", "a", "b", "LEFT"),
    ("SADD", "s", "m"),
    ("SMOVE", "a", "b", "m"),
    ("SINTER", "a", "b"),
    ("SINTERCARD", "2", "a", "b", "LIMIT", "1"),
    ("SINTERSTORE", "d", "a", "b"),
    ("SUNIONSTORE", "d", "a"),
    ("SDIFFSTORE", "d", "a", "b"),
    ("ZADD", "z", "1", "m"),
    ("ZUNIONSTORE", "d", "2", "a", "b"),
    ("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"),
    ("ZINTERSTORE", "d", "1", "a", "AGGREGATE", "MIN"),
    ("ZDIFFSTORE", "d", "2", "a", "b"),
    ("ZUNION", "2", "a", "b"),
    ("ZINTER", "1", "a", "WITHSCORES"),
    ("ZDIFF", "3", "a", "b", "c"),
    ("ZINTERCARD", "2", "a", "b"),
    ("ZRANGESTORE", "d", "s", "0", "-1"),
    ("ZMPOP", "2", "a", "b", "MIN"),
    ("BZMPOP", "0", "1", "a", "MAX", "COUNT", "3"),
    ("BZPOPMIN", "a", "b", "0"),
    ("BZPOPMAX", "a", "1.5"),
    ("WATCH", "a", "b", "c"),
    ("OBJECT", "ENCODING", "k"),
    ("OBJECT", "FREQ", "k"),
    ("MEMORY", "USAGE", "k"),
    ("MEMORY", "USAGE", "k", "SAMPLES", "0"),
    # errors
    ("NOSUCHCOMMAND", "a"),
    ("XREAD", "STREAMS", "a", "0"),
    ("CONFIG", "NOSUCH", "x"),
    ("PING", "x"),
    ("ECHO", "x"),
    ("PUBLISH", "ch", "m"),
    ("SPUBLISH", "ch", "m"),
    ("CONFIG", "GET", "maxmemory"),
    ("CLIENT", "ID"),
    ("SUBSCRIBE", "ch"),
    ("GET", "a", "b"),
    ("SET", "k"),
    ("OBJECT", "ENCODING"),
    ("ZUNIONSTORE", "d", "x", "a"),
    ("ZUNIONSTORE", "d", "0", "a"),
    ("ZUNIONSTORE", "d", "3", "a"),
    ("ZUNION", "-1", "a"),
    ("LMPOP", "0", "LEFT"),
    ("LMPOP", "3", "a", "LEFT"),
    ("SINTERCARD", "0", "a"),
    ("SINTERCARD", "x", "a"),
]


@pytest.mark.parametrize("argv", GETKEYS, ids=[" ".join(a) for a in GETKEYS])
def test_command_getkeys(compat, argv):
    compat.call("COMMAND", "GETKEYS", *argv)


def test_command_getkeys_resp3(compat):
    compat.resp3()
    compat.call("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2")
    compat.call("COMMAND", "GETKEYS", "PING", "x")


@pytest.mark.parametrize("args", [
    ("COMMAND", "GETKEYS"), ("COMMAND", "GETKEYS", "get"), ("COMMAND", "COUNT", "x"), ("COMMAND", "HELP", "x"),
    ("COMMAND", "NOSUCH"), ("COMMAND", "LIST", "FILTERBY", "PATTERN", "*", "x"),
])
def test_command_arity_and_unknown(compat, args):
    compat.call(*args)


def test_command_help(compat):
    ours, theirs = compat.both("COMMAND", "HELP")
    # 7.0.15 differs: the HELP footer says "Prints this help." (7.2+: "Print this help.")
    assert ours == theirs.replace(b"+    Prints this help.", b"+    Print this help.")


def test_command_no_keys_flag(compat):
    ours = _decode(compat.call("COMMAND", "GETKEYS", "EVAL", "return 1", "0")) \
        if "eval" in COMMANDS else None
    assert ours in (None, [])


def test_getkeys_reply_is_an_error_type(compat):
    ours, _ = compat.both("COMMAND", "GETKEYS", "PING", "x")
    assert isinstance(_decode(ours), RespError)
