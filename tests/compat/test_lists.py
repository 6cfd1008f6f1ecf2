"""List commands, byte for byte against a real redis-server (RESP2 and RESP3).

Scenario style: each scenario is a list of commands run in order on both servers (from an empty
db); every reply is compared byte for byte. Where Redis 7.4 (the target) differs from the 7.0.15
oracle, the shard's reply is compared with the 7.4 text instead (`# 7.0.15 differs: ...`).
Blocking behaviour with a second client is in tests/shard/test_blocking.py.
"""

import pytest

from amr_emulator.protocol.resp import encode_command
from tests.helpers import assert_same_events, wait_blocked

LLONG_MIN = "-9223372036854775808"
LLONG_MAX = "9223372036854775807"
TOO_BIG = "9223372036854775808"


def run(compat, steps):
    for step in steps:
        compat.call(*step)


SCENARIOS = {
    "push-basic": [
        ("LPUSH", "l", "a"), ("LPUSH", "l", "b", "c"), ("RPUSH", "l", "d"), ("RPUSH", "l", "e", "f", "g"),
        ("LRANGE", "l", "0", "-1"), ("LLEN", "l"), ("TYPE", "l"), ("LLEN", "nokey"),
        ("RPUSH", "l", ""), ("LPUSH", "l", ""), ("LRANGE", "l", "0", "-1"), ("LLEN", "l"),
    ],
    "push-binary-and-numbers": [
        ("RPUSH", "l", "1", "-1", "0", "123456789012345678901234567890", "1.5", "\x00\xff\r\n", " x "),
        ("LRANGE", "l", "0", "-1"), ("LINDEX", "l", "3"), ("LPOS", "l", "1.5"), ("LPOS", "l", "0"),
        ("LREM", "l", "0", "-1"), ("LRANGE", "l", "0", "-1"),
    ],
    "pushx": [
        ("LPUSHX", "l", "a"), ("RPUSHX", "l", "a", "b"), ("EXISTS", "l"), ("RPUSH", "l", "x"),
        ("LPUSHX", "l", "a", "b"), ("RPUSHX", "l", "c", "d"), ("LRANGE", "l", "0", "-1"),
    ],
    "arity": [
        ("LPUSH", "l"), ("RPUSH", "l"), ("LPUSHX", "l"), ("RPUSHX",), ("LLEN",), ("LLEN", "a", "b"),
        ("LINDEX", "l"), ("LINDEX", "l", "0", "1"), ("LSET", "l", "0"), ("LRANGE", "l", "0"),
        ("LTRIM", "l", "0"), ("LREM", "l", "0"), ("LINSERT", "l", "BEFORE", "a"), ("LPOP",),
        ("LPOP", "l", "1", "2"), ("RPOP", "l", "1", "2"), ("RPOP",), ("LPOS", "l"), ("LMOVE", "a", "b", "LEFT"),
        ("RPOPLPUSH", "a"), ("LMPOP", "1", "l"), ("LMPOP", "1"), ("BLPOP", "l"), ("BRPOP", "l"),
        ("BLMOVE", "a", "b", "LEFT", "LEFT"), ("BRPOPLPUSH", "a", "b"), ("BLMPOP", "0", "1", "l"),
        ("lpush",), ("LpUsH", "l"),
    ],
    "wrongtype": [
        ("SET", "s", "x"), ("LPUSH", "s", "a"), ("RPUSH", "s", "a", "b"), ("LPUSHX", "s", "a"),
        ("RPUSHX", "s", "a"), ("LLEN", "s"), ("LINDEX", "s", "0"), ("LSET", "s", "0", "x"),
        ("LRANGE", "s", "0", "-1"), ("LTRIM", "s", "0", "-1"), ("LREM", "s", "0", "x"),
        ("LINSERT", "s", "BEFORE", "a", "b"), ("LPOP", "s"), ("RPOP", "s"), ("LPOP", "s", "2"),
        ("RPOP", "s", "0"), ("LPOS", "s", "x"), ("LPOS", "s", "x", "COUNT", "0"), ("LMOVE", "s", "d", "LEFT", "LEFT"),
        ("RPOPLPUSH", "s", "d"), ("LMPOP", "1", "s", "LEFT"), ("BLPOP", "s", "0"), ("BRPOP", "s", "1"),
        ("BLMPOP", "0", "1", "s", "RIGHT"), ("BLMOVE", "s", "d", "LEFT", "LEFT", "0"), ("BRPOPLPUSH", "s", "d", "0"),
        ("EXISTS", "d"), ("GET", "s"),
        # the argument checks come before the type check, except where Redis looks the key up first
        ("LRANGE", "s", "x", "0"), ("LTRIM", "s", "0", "x"), ("LREM", "s", "x", "a"),
        ("LINSERT", "s", "MIDDLE", "a", "b"), ("LPOP", "s", "x"), ("LPOP", "s", "-1"), ("LPOS", "s", "x", "RANK", "0"),
        ("LPOS", "s", "x", "BAD"), ("LMOVE", "s", "d", "UP", "LEFT"), ("LINDEX", "s", "x"), ("LSET", "s", "x", "v"),
        ("LMPOP", "0", "s", "LEFT"), ("LMPOP", "1", "s", "UP"), ("BLPOP", "s", "x"),
        ("BLMOVE", "s", "d", "LEFT", "LEFT", "x"),
    ],
    "wrongtype-destination": [
        ("RPUSH", "src", "a", "b"), ("SET", "dst", "x"), ("LMOVE", "src", "dst", "LEFT", "RIGHT"),
        ("RPOPLPUSH", "src", "dst"), ("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"), ("BRPOPLPUSH", "src", "dst", "0"),
        ("LRANGE", "src", "0", "-1"), ("GET", "dst"),
        # a missing source answers null before the destination's type is looked at
        ("LMOVE", "nosrc", "dst", "LEFT", "LEFT"), ("RPOPLPUSH", "nosrc", "dst"),
    ],
    "wrongtype-multikey": [
        ("SET", "s", "x"), ("RPUSH", "l", "a"), ("LMPOP", "2", "l", "s", "LEFT"), ("LMPOP", "2", "s", "l", "LEFT"),
        ("LMPOP", "2", "nokey", "s", "LEFT"), ("BLPOP", "nokey", "s", "0"), ("RPUSH", "l", "b"),
        ("BLPOP", "l", "s", "0"), ("BRPOP", "s", "l", "0"), ("BLMPOP", "0", "2", "nokey", "s", "LEFT"),
    ],
    "lindex": [
        ("RPUSH", "l", "a", "b", "c"), ("LINDEX", "l", "0"), ("LINDEX", "l", "2"), ("LINDEX", "l", "3"),
        ("LINDEX", "l", "-1"), ("LINDEX", "l", "-3"), ("LINDEX", "l", "-4"), ("LINDEX", "l", LLONG_MAX),
        ("LINDEX", "l", LLONG_MIN), ("LINDEX", "l", TOO_BIG), ("LINDEX", "l", "1.5"), ("LINDEX", "l", "x"),
        ("LINDEX", "l", ""), ("LINDEX", "l", " 1"), ("LINDEX", "l", "01"), ("LINDEX", "l", "+1"), ("LINDEX", "l", "-0"),
        # a missing key answers null before the index is parsed
        ("LINDEX", "nokey", "0"), ("LINDEX", "nokey", "x"),
    ],
    "lset": [
        ("LSET", "nokey", "0", "x"), ("LSET", "nokey", "x", "x"), ("RPUSH", "l", "a", "b", "c"),
        ("LSET", "l", "0", "A"), ("LSET", "l", "-1", "C"), ("LSET", "l", "1", ""), ("LRANGE", "l", "0", "-1"),
        ("LSET", "l", "3", "x"), ("LSET", "l", "-4", "x"), ("LSET", "l", LLONG_MAX, "x"), ("LSET", "l", LLONG_MIN, "x"),
        ("LSET", "l", "x", "x"), ("LSET", "l", TOO_BIG, "x"), ("LSET", "l", "1", "a" * 100),
        ("LRANGE", "l", "0", "-1"),
    ],
    "lrange": [
        ("RPUSH", "l", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
        ("LRANGE", "l", "0", "-1"), ("LRANGE", "l", "0", "0"), ("LRANGE", "l", "-1", "-1"), ("LRANGE", "l", "2", "5"),
        ("LRANGE", "l", "-3", "-1"), ("LRANGE", "l", "-100", "2"), ("LRANGE", "l", "5", "100"),
        ("LRANGE", "l", "5", "4"), ("LRANGE", "l", "10", "20"), ("LRANGE", "l", "-1", "-2"), ("LRANGE", "l", "9", "9"),
        ("LRANGE", "l", "7", "-2"), ("LRANGE", "l", "-8", "8"), ("LRANGE", "l", LLONG_MIN, LLONG_MAX),
        ("LRANGE", "l", LLONG_MAX, LLONG_MIN), ("LRANGE", "l", "0", TOO_BIG), ("LRANGE", "l", "a", "1"),
        ("LRANGE", "l", "1", "b"), ("LRANGE", "nokey", "0", "-1"), ("LRANGE", "nokey", "x", "1"),
    ],
    "ltrim": [
        ("RPUSH", "l", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), ("LTRIM", "l", "1", "-2"),
        ("LRANGE", "l", "0", "-1"), ("LTRIM", "l", "0", "100"), ("LRANGE", "l", "0", "-1"),
        ("LTRIM", "l", "-3", "-1"), ("LRANGE", "l", "0", "-1"), ("LTRIM", "l", "-100", "1"), ("LRANGE", "l", "0", "-1"),
        ("LTRIM", "l", "1", "0"), ("EXISTS", "l"), ("LTRIM", "nokey", "0", "1"), ("LTRIM", "nokey", "x", "1"),
        ("RPUSH", "l", "a", "b"), ("LTRIM", "l", "5", "10"), ("EXISTS", "l"), ("RPUSH", "l", "a", "b"),
        ("LTRIM", "l", "0", "-1"), ("LTRIM", "l", "-1", "-2"), ("EXISTS", "l"), ("RPUSH", "l", "a"),
        ("LTRIM", "l", LLONG_MIN, LLONG_MAX), ("LRANGE", "l", "0", "-1"), ("LTRIM", "l", "0", TOO_BIG),
    ],
    "ltrim-big": [
        ("RPUSH", "l", *[str(i) for i in range(300)]), ("LTRIM", "l", "100", "104"), ("LRANGE", "l", "0", "-1"),
        ("RPUSH", "l", *[str(i) for i in range(300)]), ("LTRIM", "l", "1", "-2"), ("LLEN", "l"),
        ("LINDEX", "l", "0"), ("LINDEX", "l", "-1"),
    ],
    "lrem": [
        ("RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"), ("LREM", "l", "1", "a"), ("LRANGE", "l", "0", "-1"),
        ("LREM", "l", "-1", "a"), ("LRANGE", "l", "0", "-1"), ("LREM", "l", "-2", "b"), ("LRANGE", "l", "0", "-1"),
        ("LREM", "l", "0", "zz"), ("LREM", "l", "5", "zz"), ("LREM", "l", "0", "a"), ("LRANGE", "l", "0", "-1"),
        ("LREM", "l", "0", "c"), ("EXISTS", "l"), ("LREM", "nokey", "0", "a"), ("LREM", "nokey", "x", "a"),
        ("RPUSH", "l", "x", "x", "x"), ("LREM", "l", LLONG_MAX, "x"), ("EXISTS", "l"), ("RPUSH", "l", "x", "y", "x"),
        ("LREM", "l", "-" + LLONG_MAX, "x"), ("LRANGE", "l", "0", "-1"), ("LREM", "l", "1.0", "y"),
        ("LREM", "l", TOO_BIG, "y"), ("LREM", "l", "", "y"),
    ],
    "linsert": [
        ("LINSERT", "nokey", "BEFORE", "a", "b"), ("LINSERT", "nokey", "sideways", "a", "b"),
        ("RPUSH", "l", "a", "b", "a"), ("LINSERT", "l", "BEFORE", "a", "X"), ("LINSERT", "l", "after", "a", "Y"),
        ("LRANGE", "l", "0", "-1"), ("LINSERT", "l", "AFTER", "b", "Z"), ("LINSERT", "l", "Before", "zz", "Q"),
        ("LINSERT", "l", "middle", "a", "Q"), ("LINSERT", "l", "BEFORE", "", "Q"), ("LRANGE", "l", "0", "-1"),
        ("LINSERT", "l", "AFTER", "a", ""), ("LLEN", "l"),
    ],
    "lpop-rpop": [
        ("LPOP", "nokey"), ("RPOP", "nokey"), ("LPOP", "nokey", "0"), ("RPOP", "nokey", "3"),
        ("RPUSH", "l", "a", "b", "c", "d", "e"), ("LPOP", "l"), ("RPOP", "l"), ("LPOP", "l", "0"), ("RPOP", "l", "0"),
        ("LPOP", "l", "2"), ("RPUSH", "l", "f", "g"), ("RPOP", "l", "2"), ("LRANGE", "l", "0", "-1"),
        ("LPOP", "l", "10"), ("EXISTS", "l"), ("RPUSH", "l", "a", "b", "c"), ("RPOP", "l", "100"), ("EXISTS", "l"),
        ("RPUSH", "l", "a"), ("RPOP", "l"), ("EXISTS", "l"), ("RPUSH", "l", "a"), ("LPOP", "l", "1"), ("EXISTS", "l"),
        # count errors (checked before the key is looked up)
        ("LPOP", "nokey", "-1"), ("LPOP", "nokey", "x"), ("RPOP", "nokey", LLONG_MIN), ("RPOP", "nokey", TOO_BIG),
        ("LPOP", "nokey", "1.0"), ("LPOP", "nokey", ""), ("RPUSH", "l", "a"), ("LPOP", "l", LLONG_MAX), ("EXISTS", "l"),
    ],
    "lpos": [
        ("RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"), ("LPOS", "l", "a"), ("LPOS", "l", "c"),
        ("LPOS", "l", "zz"), ("LPOS", "l", "c", "RANK", "1"), ("LPOS", "l", "c", "RANK", "2"),
        ("LPOS", "l", "c", "RANK", "3"), ("LPOS", "l", "c", "RANK", "4"), ("LPOS", "l", "c", "RANK", "-1"),
        ("LPOS", "l", "c", "RANK", "-3"), ("LPOS", "l", "c", "RANK", "-4"), ("LPOS", "l", "c", "COUNT", "0"),
        ("LPOS", "l", "c", "COUNT", "2"), ("LPOS", "l", "c", "COUNT", "10"), ("LPOS", "l", "c", "COUNT", "1"),
        ("LPOS", "l", "c", "RANK", "-1", "COUNT", "2"), ("LPOS", "l", "c", "RANK", "2", "COUNT", "0"),
        ("LPOS", "l", "c", "RANK", "-2", "COUNT", "0"), ("LPOS", "l", "zz", "COUNT", "0"),
        ("LPOS", "l", "c", "MAXLEN", "3"), ("LPOS", "l", "c", "MAXLEN", "2"), ("LPOS", "l", "c", "MAXLEN", "0"),
        ("LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"), ("LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1"),
        ("LPOS", "l", "c", "RANK", "-1", "MAXLEN", "2", "COUNT", "0"), ("LPOS", "l", "a", "RANK", "-1", "MAXLEN", "7"),
        ("LPOS", "l", "c", "RANK", "2", "RANK", "1"), ("LPOS", "l", "c", "count", "1", "COUNT", "3"),
        ("LPOS", "l", "c", "rank", LLONG_MAX), ("LPOS", "l", "c", "RANK", "-" + LLONG_MAX),
        ("LPOS", "l", "c", "RANK", "-" + LLONG_MAX, "COUNT", "1"), ("LPOS", "l", "1"),
        ("LPOS", "l", "c", "COUNT", LLONG_MAX),
        ("LPOS", "nokey", "a"), ("LPOS", "nokey", "a", "COUNT", "0"), ("LPOS", "nokey", "a", "RANK", "-1"),
        ("LPOS", "nokey", "a", "MAXLEN", "1"),
    ],
    "lpos-errors": [
        ("RPUSH", "l", "a"), ("LPOS", "l", "a", "RANK", "0"), ("LPOS", "l", "a", "RANK", "x"),
        ("LPOS", "l", "a", "RANK", TOO_BIG), ("LPOS", "l", "a", "COUNT", "-1"), ("LPOS", "l", "a", "COUNT", "x"),
        ("LPOS", "l", "a", "COUNT", LLONG_MIN), ("LPOS", "l", "a", "MAXLEN", "-1"), ("LPOS", "l", "a", "MAXLEN", "x"),
        ("LPOS", "l", "a", "RANK"), ("LPOS", "l", "a", "COUNT"), ("LPOS", "l", "a", "MAXLEN"),
        ("LPOS", "l", "a", "FOO"),
        ("LPOS", "l", "a", "FOO", "1"), ("LPOS", "l", "a", "RANK", "1", "COUNT"),
        ("LPOS", "l", "a", "RANK", "0", "FOO"),
        ("LPOS", "l", "a", "FOO", "RANK", "0"), ("LPOS", "nokey", "a", "RANK", "0"), ("LPOS", "nokey", "a", "BAR"),
        ("LPOS", "l", "a", "COUNT", "-1", "RANK", "0"),
    ],
    "lmove": [
        ("RPUSH", "src", "a", "b", "c"), ("LMOVE", "src", "dst", "LEFT", "RIGHT"),
        ("LMOVE", "src", "dst", "RIGHT", "LEFT"),
        ("LRANGE", "src", "0", "-1"), ("LRANGE", "dst", "0", "-1"), ("LMOVE", "src", "dst", "left", "left"),
        ("EXISTS", "src"), ("LRANGE", "dst", "0", "-1"), ("LMOVE", "src", "dst", "LEFT", "LEFT"),
        ("LMOVE", "dst", "dst", "LEFT", "RIGHT"), ("LRANGE", "dst", "0", "-1"),
        ("LMOVE", "dst", "dst", "RIGHT", "LEFT"),
        ("LRANGE", "dst", "0", "-1"), ("LMOVE", "dst", "dst", "LEFT", "LEFT"), ("LRANGE", "dst", "0", "-1"),
        ("RPUSH", "one", "x"), ("LMOVE", "one", "one", "LEFT", "RIGHT"), ("LRANGE", "one", "0", "-1"),
        ("LMOVE", "src", "dst", "UP", "LEFT"), ("LMOVE", "src", "dst", "LEFT", "DOWN"),
        ("LMOVE", "dst", "x", "UP", "LEFT"),
        ("LMOVE", "nokey", "dst", "LEFT", "LEFT"), ("EXISTS", "nokey"),
    ],
    "rpoplpush": [
        ("RPUSH", "src", "a", "b", "c"), ("RPOPLPUSH", "src", "dst"), ("RPOPLPUSH", "src", "dst"),
        ("LRANGE", "dst", "0", "-1"), ("RPOPLPUSH", "src", "src"), ("RPOPLPUSH", "src", "dst"), ("EXISTS", "src"),
        ("RPOPLPUSH", "src", "dst"), ("RPOPLPUSH", "dst", "dst"), ("LRANGE", "dst", "0", "-1"),
    ],
    "lmpop": [
        ("LMPOP", "1", "nokey", "LEFT"), ("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "3"),
        ("RPUSH", "b", "1", "2", "3", "4"), ("LMPOP", "2", "a", "b", "LEFT"), ("LMPOP", "2", "a", "b", "RIGHT"),
        ("LMPOP", "2", "a", "b", "LEFT", "COUNT", "2"), ("EXISTS", "b"), ("RPUSH", "a", "x", "y"),
        ("RPUSH", "b", "z"), ("LMPOP", "2", "a", "b", "right", "count", "10"),
        ("LMPOP", "2", "a", "b", "left", "count", "10"),
        ("EXISTS", "a", "b"), ("RPUSH", "a", "1"), ("LMPOP", "3", "a", "a", "a", "LEFT", "COUNT", LLONG_MAX),
    ],
    "lmpop-errors": [
        ("LMPOP", "0", "a", "LEFT"), ("LMPOP", "-1", "a", "LEFT"), ("LMPOP", "x", "a", "LEFT"),
        ("LMPOP", "", "a", "LEFT"),
        ("LMPOP", TOO_BIG, "a", "LEFT"), ("LMPOP", LLONG_MAX, "a", "LEFT"), ("LMPOP", "2", "a", "LEFT"),
        ("LMPOP", "3", "a", "b", "LEFT"), ("LMPOP", "1", "a", "b"), ("LMPOP", "1", "a", "UP"),
        ("LMPOP", "1", "a", "LEFT", "COUNT"),
        ("LMPOP", "1", "a", "LEFT", "COUNT", "0"), ("LMPOP", "1", "a", "LEFT", "COUNT", "-1"),
        ("LMPOP", "1", "a", "LEFT", "COUNT", "x"), ("LMPOP", "1", "a", "LEFT", "COUNT", TOO_BIG),
        ("LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"), ("LMPOP", "1", "a", "LEFT", "FOO"),
        ("LMPOP", "1", "a", "LEFT", "FOO", "1"), ("LMPOP", "1", "a", "LEFT", "1"),
        ("LMPOP", "1", "a", "LEFT", "COUNT", "1", "x"),
        # numkeys first, then the direction, then the options
        ("LMPOP", "0", "a", "UP", "COUNT", "0"), ("LMPOP", "1", "a", "UP", "COUNT", "0"),
    ],
    "blocking-immediate": [
        ("RPUSH", "l", "a", "b", "c", "d", "e", "f"), ("BLPOP", "nokey", "l", "0"), ("BRPOP", "l", "nokey", "1"),
        ("BLPOP", "l", "l", "0.5"), ("BLMPOP", "0", "1", "l", "LEFT"),
        ("BLMPOP", "0", "2", "x", "l", "RIGHT", "COUNT", "1"),
        ("BLMPOP", "0.1", "1", "l", "LEFT", "COUNT", "10"), ("EXISTS", "l"), ("RPUSH", "src", "1", "2", "3"),
        ("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"), ("BLMOVE", "src", "dst", "RIGHT", "LEFT", "1"),
        ("BRPOPLPUSH", "src", "dst", "0"), ("EXISTS", "src"), ("LRANGE", "dst", "0", "-1"),
        ("BRPOPLPUSH", "dst", "dst", "0"), ("BLMOVE", "dst", "dst", "LEFT", "RIGHT", "0"),
    ],
    "blocking-timeout-errors": [
        ("BLPOP", "l", "x"), ("BLPOP", "l", "-1"), ("BLPOP", "l", "-0.5"), ("BLPOP", "l", ""), ("BLPOP", "l", "nan"),
        ("BLPOP", "l", "1x"), ("BLPOP", "l", " 1"), ("BLPOP", "l", "1 "), ("BRPOP", "l", "-1"),
        ("BRPOP", "a", "b", "x"),
        ("BLMOVE", "a", "b", "LEFT", "LEFT", "x"), ("BLMOVE", "a", "b", "LEFT", "LEFT", "-1"),
        ("BRPOPLPUSH", "a", "b", "x"), ("BRPOPLPUSH", "a", "b", "-1"), ("BLMPOP", "x", "1", "a", "LEFT"),
        ("BLMPOP", "-1", "1", "a", "LEFT"), ("BLMPOP", "1e-5000", "1", "a", "LEFT"),
        # argument order: BLMOVE checks the directions first; BLMPOP numkeys, direction and COUNT first
        ("BLMOVE", "a", "b", "UP", "LEFT", "x"), ("BLMOVE", "a", "b", "LEFT", "UP", "-1"),
        ("BLMPOP", "x", "0", "a", "LEFT"), ("BLMPOP", "x", "1", "a", "UP"),
        ("BLMPOP", "x", "1", "a", "LEFT", "COUNT", "0"),
        ("BLMPOP", "x", "1", "a", "LEFT", "FOO"), ("BLMPOP", "0", "2", "a", "LEFT"), ("BLMPOP", "-1", "x", "a", "LEFT"),
        # the timeout is checked before the keys (a wrong type answers only with a valid timeout)
        ("SET", "s", "x"), ("BLPOP", "s", "x"), ("BLMOVE", "s", "b", "LEFT", "LEFT", "-1"),
        ("BRPOPLPUSH", "s", "b", "x"),
        ("BLMPOP", "x", "1", "s", "LEFT"),
    ],
    "blocking-short-timeout": [
        ("BLPOP", "nokey", "0.01"), ("BRPOP", "a", "b", "0.01"), ("BLMPOP", "0.01", "2", "a", "b", "LEFT"),
        ("BLMPOP", "0.01", "1", "a", "RIGHT", "COUNT", "5"), ("BLPOP", "nokey", "0.0001"), ("BLPOP", "nokey", "1e-3"),
        ("BLPOP", "nokey", "0x1p-10"), ("EXISTS", "nokey"),
    ],
    "empty-list-is-deleted": [
        ("RPUSH", "l", "a"), ("LPOP", "l"), ("EXISTS", "l"), ("TYPE", "l"), ("RPUSH", "l", "a"),
        ("LREM", "l", "0", "a"),
        ("EXISTS", "l"), ("RPUSH", "l", "a"), ("LTRIM", "l", "1", "1"), ("EXISTS", "l"), ("RPUSH", "l", "a"),
        ("LMOVE", "l", "m", "LEFT", "LEFT"), ("EXISTS", "l"), ("RPOPLPUSH", "m", "l"), ("EXISTS", "m"),
        ("LMPOP", "1", "l", "LEFT"), ("EXISTS", "l"), ("RPUSH", "l", "a"), ("BLPOP", "l", "0"), ("EXISTS", "l"),
        ("DBSIZE",),
    ],
    "ttl-kept": [
        ("RPUSH", "l", "a", "b", "c"), ("EXPIRE", "l", "100"), ("LPUSH", "l", "x"), ("LSET", "l", "0", "y"),
        ("LTRIM", "l", "0", "2"), ("LREM", "l", "1", "a"), ("LINSERT", "l", "BEFORE", "b", "z"), ("RPOP", "l"),
        ("LMOVE", "l", "l", "LEFT", "RIGHT"), ("TTL", "l"), ("LRANGE", "l", "0", "-1"),
        ("LMOVE", "l", "new", "LEFT", "LEFT"),
        ("TTL", "new"),
    ],
    "big-list": [
        ("RPUSH", "l", *[str(i) for i in range(1000)]), ("LLEN", "l"), ("LINDEX", "l", "500"), ("LINDEX", "l", "-500"),
        ("LRANGE", "l", "990", "-1"), ("LRANGE", "l", "-995", "-990"), ("LRANGE", "l", "400", "405"),
        ("LPOS", "l", "999"),
        ("LPOS", "l", "5", "MAXLEN", "5"), ("LPOS", "l", "5", "MAXLEN", "6"),
        ("LPOS", "l", "995", "RANK", "-1", "MAXLEN", "5"),
        ("LSET", "l", "-2", "x"), ("LINSERT", "l", "AFTER", "998", "y"), ("LRANGE", "l", "-4", "-1"),
        ("LPOP", "l", "3"), ("RPOP", "l", "3"), ("LMPOP", "1", "l", "RIGHT", "COUNT", "2"), ("LLEN", "l"),
    ],
    "multi": [
        ("MULTI",), ("RPUSH", "l", "a", "b"), ("LPOP", "l"), ("BLPOP", "l", "0"), ("BLPOP", "l", "0"),
        ("BRPOP", "l", "nokey", "0"), ("BLMPOP", "0", "1", "l", "LEFT"), ("BLMOVE", "l", "d", "LEFT", "LEFT", "0"),
        ("BRPOPLPUSH", "l", "d", "0"), ("BLMPOP", "0", "1", "l", "LEFT", "COUNT", "0"), ("BLPOP", "l", "x"),
        ("EXEC",),
        ("MULTI",), ("RPUSH", "l", "x"), ("BRPOPLPUSH", "l", "d", "0"), ("BLMOVE", "d", "e", "RIGHT", "LEFT", "0"),
        ("LRANGE", "e", "0", "-1"), ("BLPOP", "e", "0"), ("EXEC",),
    ],
    "select": [
        ("SELECT", "1"), ("RPUSH", "l", "db1"), ("SELECT", "0"), ("LLEN", "l"), ("RPUSH", "l", "db0"),
        ("LMOVE", "l", "m", "LEFT", "LEFT"), ("SELECT", "1"), ("LRANGE", "l", "0", "-1"), ("BLPOP", "l", "0"),
        ("FLUSHDB",), ("SELECT", "0"),
    ],
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_list_scenario(compat, name):
    run(compat, SCENARIOS[name])


@pytest.mark.parametrize("name", ["push-basic", "lindex", "lpop-rpop", "lpos", "lmpop", "lmpop-errors", "lmove",
                                  "blocking-immediate", "blocking-short-timeout", "multi", "wrongtype"])
def test_list_scenario_resp3(compat, name):
    compat.resp3()
    run(compat, SCENARIOS[name])


# --- where Redis 7.4 differs from the 7.0.15 oracle ---------------------------------------------


def expect(compat, args, expected: bytes):
    """The shard's reply against the 7.4 one (the command goes to the shard alone: 7.0.15 may block)."""
    ours = compat.conns[0].call(*args)
    assert ours == expected, f"{args!r}: {ours!r} != {expected!r}"


LONG_RANGE = b"-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"


def test_lpos_rank_llong_min(compat):
    compat.call("RPUSH", "l", "a")
    # 7.0.15 differs: it takes the rank (and answers null)
    expect(compat, ("LPOS", "l", "a", "RANK", LLONG_MIN), LONG_RANGE)
    expect(compat, ("LPOS", "nokey", "a", "RANK", LLONG_MIN), LONG_RANGE)


def test_lrem_count_llong_min(compat):
    compat.call("RPUSH", "l", "a", "a")
    # 7.0.15 differs: it removes every match
    expect(compat, ("LREM", "l", LLONG_MIN, "a"), LONG_RANGE)
    expect(compat, ("LLEN", "l"), b":2\r\n")


@pytest.mark.parametrize("timeout, error", [
    # 7.0.15 differs: it answers "timeout is negative" for these (its ceill() to long long overflows)
    ("inf", b"-ERR timeout is out of range\r\n"),
    ("+inf", b"-ERR timeout is out of range\r\n"),
    ("Infinity", b"-ERR timeout is out of range\r\n"),
    ("1e300", b"-ERR timeout is out of range\r\n"),
    ("1e400", b"-ERR timeout is out of range\r\n"),  # a long double, not a double: still a number
    ("9.3e15", b"-ERR timeout is out of range\r\n"),  # over LLONG_MAX ms
    ("9.223372036854775e15", b"-ERR timeout is out of range\r\n"),  # now + timeout would overflow
    ("-inf", b"-ERR timeout is negative\r\n"),
])
def test_timeout_out_of_range(compat, timeout, error):
    for args in (("BLPOP", "l", timeout), ("BRPOP", "l", timeout), ("BLMOVE", "a", "b", "LEFT", "LEFT", timeout),
                 ("BRPOPLPUSH", "a", "b", timeout), ("BLMPOP", timeout, "1", "a", "LEFT")):
        expect(compat, args, error)


@pytest.mark.parametrize("timeout", ["-0.0001", "-0", "-1e-400", "9.2e15"])
def test_tiny_negative_timeout_blocks_forever(compat, timeout):
    """The timeout is rounded up to whole milliseconds first: -0.1 ms becomes 0, that is, forever.
    9.2e15 s is still below LLONG_MAX - now in milliseconds: a (very) long block."""
    pusher = compat.new()
    for conn, other in zip(compat.conns, pusher.conns):
        conn.send(encode_command("BLPOP", "l", timeout))
        wait_blocked(other, 1)
    pusher.call("RPUSH", "l", "x")
    assert [c.read_reply() for c in compat.conns] == [b"*2\r\n$1\r\nl\r\n$1\r\nx\r\n"] * 2
    pusher.close()


def test_tiny_timeout_is_one_millisecond(compat):
    """1e-400 s is a long double above zero: one millisecond, not forever (nor an error)."""
    compat.call("BLPOP", "l", "1e-400")
    compat.call("BLMPOP", "1e-400", "1", "l", "LEFT")
    compat.call("BLMOVE", "a", "b", "LEFT", "LEFT", "1e-400")


# --- keyspace notifications ------------------------------------------------------------------------


def test_list_keyspace_events(compat):
    sub = compat.new()
    sub.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
    sub.call("PSUBSCRIBE", "__key*__:*")
    steps = [
        ("LPUSH", "l", "a", "b"), ("RPUSH", "l", "c"), ("LPUSHX", "l", "d"), ("RPUSHX", "l", "e"),
        ("LPUSHX", "nokey", "a"), ("LINSERT", "l", "BEFORE", "a", "x"), ("LINSERT", "l", "BEFORE", "zz", "x"),
        ("LSET", "l", "0", "y"), ("LSET", "l", "99", "y"), ("LREM", "l", "0", "zz"), ("LREM", "l", "1", "x"),
        ("LTRIM", "l", "0", "-1"), ("LTRIM", "l", "1", "-1"), ("LPOP", "l"), ("RPOP", "l"), ("LPOP", "l", "0"),
        ("RPOP", "l", "1"), ("LMOVE", "l", "m", "LEFT", "RIGHT"), ("RPOPLPUSH", "m", "m"),
        ("LMOVE", "m", "l", "RIGHT", "LEFT"),
        ("LMPOP", "2", "nokey", "l", "RIGHT", "COUNT", "5"), ("RPUSH", "l", "1", "2", "3"), ("BLPOP", "l", "0"),
        ("BRPOP", "l", "0"), ("BLMPOP", "0", "1", "l", "LEFT", "COUNT", "9"), ("RPUSH", "l", "1", "2"),
        ("BLMOVE", "l", "m", "LEFT", "LEFT", "0"), ("BRPOPLPUSH", "l", "m", "0"), ("LTRIM", "m", "5", "6"),
        ("RPUSH", "l", "a"), ("LREM", "l", "0", "a"), ("RPUSH", "l", "a"), ("LTRIM", "nokey", "0", "1"),
        ("LPOP", "nokey"), ("LMOVE", "nokey", "l", "LEFT", "LEFT"),
    ]
    for step in steps:
        compat.call(*step)
    assert_same_events(sub)
    sub.close()
    compat.call("CONFIG", "SET", "notify-keyspace-events", "")


def test_lmove_event_order(compat):
    """LMOVE: the push event on the destination, then the pop on the source, then its `del`."""
    sub = compat.new()
    sub.call("CONFIG", "SET", "notify-keyspace-events", "Egl")
    sub.call("PSUBSCRIBE", "__keyevent@0__:*")
    compat.call("RPUSH", "src", "x")
    compat.call("LMOVE", "src", "dst", "RIGHT", "LEFT")
    events = assert_same_events(sub)
    names = [e.split(b"\r\n")[-4] for e in events if e.startswith(b"*4")]
    assert names == [b"__keyevent@0__:rpush", b"__keyevent@0__:lpush", b"__keyevent@0__:rpop",
                     b"__keyevent@0__:del"]
    sub.close()
    compat.call("CONFIG", "SET", "notify-keyspace-events", "")


# --- WATCH -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("cmd", [
    ("LPUSH", "l", "x"), ("RPUSH", "l", "x"), ("LPUSHX", "l", "x"), ("LPOP", "l"), ("RPOP", "l", "1"),
    ("LSET", "l", "0", "x"), ("LINSERT", "l", "AFTER", "a", "x"), ("LREM", "l", "0", "a"), ("LTRIM", "l", "1", "1"),
    ("LMOVE", "l", "o", "LEFT", "LEFT"), ("LMOVE", "o", "l", "LEFT", "LEFT"), ("RPOPLPUSH", "l", "l"),
    ("LMPOP", "1", "l", "LEFT"), ("BLPOP", "l", "0"), ("BLMOVE", "l", "o", "LEFT", "LEFT", "0"),
    # no change, no touch
    ("LINSERT", "l", "AFTER", "zz", "x"), ("LREM", "l", "0", "zz"), ("LPUSHX", "nokey", "x"), ("LLEN", "l"),
    ("LTRIM", "l", "0", "-1"),
])
def test_watch(compat, cmd):
    other = compat.new()
    compat.call("RPUSH", "l", "a", "b")
    compat.call("RPUSH", "o", "c")
    compat.call("WATCH", "l")
    other.call(*cmd)
    compat.call("MULTI")
    compat.call("LRANGE", "l", "0", "-1")
    compat.call("EXEC")
    other.close()


# --- pipelines and inline requests -----------------------------------------------------------------


def test_pipeline(compat):
    data = b"".join(encode_command(*a) for a in [
        ("RPUSH", "l", "a", "b", "c"), ("BLPOP", "l", "0"), ("LMPOP", "1", "l", "RIGHT"), ("BRPOP", "l", "0"),
        ("BLPOP", "l", "0.01"), ("LLEN", "l"), ("PING",),
    ])
    for conn in compat.conns:
        conn.send(data)
    replies = [[conn.read_reply() for _ in range(7)] for conn in compat.conns]
    assert replies[0] == replies[1]


def test_inline(compat):
    replies = []
    for conn in compat.conns:
        conn.send(b'RPUSH l a b "c d"\r\nLRANGE l 0 -1\r\nLPOS l "c d"\r\n')
        replies.append([conn.read_reply() for _ in range(3)])
    assert replies[0] == replies[1]
