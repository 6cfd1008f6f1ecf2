"""SORT and SORT_RO against a real redis-server, byte for byte.

A set's own iteration order is Redis's (intset, listpack, hash table), so `BY nosort` on a set
without STORE is not compared; everything that sorts is."""
import random

import pytest

SETUP = [
    ("RPUSH", "l", "3", "1", "2", "10", "-5", "1.5", "1e2", "0x10", " 7", "inf", "-inf", "1"),
    ("SADD", "s", "5", "3", "9", "-1", "0", "12"),
    ("ZADD", "z", "1", "c", "2", "b", "3", "a", "4", "d", "5", "e"),
    ("RPUSH", "words", "banana", "apple", "Cherry", "apple", "", "date", "10", "9"),
    ("MSET", "w_a", "3", "w_b", "1", "w_c", "2", "w_d", "x", "w_e", "", "w_apple", "5", "w_banana", "2"),
    ("HSET", "h_a", "f", "30", "name", "A"), ("HSET", "h_b", "f", "10", "name", "B"), ("HSET", "h_c", "f", "20"),
    ("SET", "o_a", "obj-a"), ("SET", "o_c", "obj-c"), ("LPUSH", "o_d", "list"),
    ("RPUSH", "letters", "a", "b", "c", "d", "e"),
]

SCENARIOS = {
    "numeric": [
        ("SORT", "l"), ("SORT", "l", "DESC"), ("SORT", "l", "ASC"), ("SORT", "s"), ("SORT", "s", "DESC"),
        ("SORT", "l", "LIMIT", "0", "3"), ("SORT", "l", "LIMIT", "2", "3", "DESC"), ("SORT", "l", "LIMIT", "-5", "2"),
        ("SORT", "l", "LIMIT", "5", "-1"), ("SORT", "l", "LIMIT", "100", "2"), ("SORT", "l", "LIMIT", "0", "0"),
        ("SORT", "l", "LIMIT", "11", "100"), ("SORT", "l", "LIMIT", "12", "1"), ("SORT", "nokey"),
        ("SORT", "nokey", "LIMIT", "0", "5"), ("SORT", "words"), ("SORT", "z"),
        ("RPUSH", "bad", "1", "nan"), ("SORT", "bad"),
        ("RPUSH", "bad3", "1", "2 "), ("SORT", "bad3"), ("RPUSH", "ok", "", "-0", "0", "+3", ".5", "5.", "0x1p3",
                                                           "1\x002", "infinity", "1e-300", "2.2250738585072014e-308"),
        ("SORT", "ok"), ("SORT", "ok", "DESC"), ("RPUSH", "bad4", "1_000"), ("SORT", "bad4"),
        ("RPUSH", "bad5", "  "), ("SORT", "bad5"),
        # Last: Redis never clears errno before strtod, so after an ERANGE every numeric SORT on that
        # server fails until some system call (a new connection's accept) sets errno again.
        ("RPUSH", "tiny", "1e-310"), ("SORT", "tiny"), ("RPUSH", "bad2", "1", "1e400"), ("SORT", "bad2"),
    ],
    "alpha": [
        ("SORT", "words", "ALPHA"), ("SORT", "words", "ALPHA", "DESC"), ("SORT", "words", "ALPHA", "LIMIT", "1", "3"),
        ("SORT", "z", "ALPHA"), ("SORT", "z", "ALPHA", "DESC", "LIMIT", "0", "2"), ("SORT", "s", "ALPHA"),
        ("SORT", "l", "ALPHA"), ("SORT", "letters", "alpha", "desc"),
    ],
    "by": [
        ("SORT", "letters", "BY", "w_*"), ("SORT", "letters", "BY", "w_*", "DESC"),
        ("SORT", "letters", "BY", "w_*", "ALPHA"), ("SORT", "letters", "BY", "w_*", "ALPHA", "DESC"),
        ("SORT", "letters", "BY", "h_*->f"), ("SORT", "letters", "BY", "h_*->f", "DESC"),
        ("SORT", "letters", "BY", "h_*->name", "ALPHA"), ("SORT", "letters", "BY", "h_*->nofield"),
        ("SORT", "letters", "BY", "nosort"), ("SORT", "letters", "BY", "nosort", "DESC"),
        ("SORT", "letters", "BY", "nosort", "LIMIT", "1", "2"), ("SORT", "letters", "BY", "nosort", "DESC", "LIMIT", "1", "2"),
        ("SORT", "letters", "BY", "nosort", "LIMIT", "10", "2"), ("SORT", "z", "BY", "nosort"), ("SORT", "z", "BY", "nosort", "DESC"),
        ("SORT", "z", "BY", "nosort", "LIMIT", "1", "3"), ("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "3"),
        ("SORT", "z", "BY", "nosort", "LIMIT", "4", "10"), ("SORT", "words", "BY", "w_*"),
        ("SORT", "words", "BY", "w_*", "ALPHA"), ("SORT", "letters", "BY", "o_*", "ALPHA"),
        ("SORT", "letters", "BY", "*->"), ("SORT", "letters", "BY", "h_*->f", "LIMIT", "0", "2"),
    ],
    "get": [
        ("SORT", "letters", "GET", "o_*"), ("SORT", "letters", "GET", "#", "GET", "o_*", "GET", "h_*->name"),
        ("SORT", "letters", "BY", "w_*", "GET", "#", "GET", "w_*"), ("SORT", "letters", "GET", "nostar"),
        ("SORT", "letters", "BY", "nosort", "GET", "h_*->f", "DESC"), ("SORT", "z", "GET", "#", "ALPHA", "LIMIT", "0", "2"),
        ("SORT", "letters", "GET", "o_*->x"), ("SORT", "s", "GET", "#", "LIMIT", "1", "2"),
    ],
    "store": [
        ("SORT", "l", "STORE", "dst"), ("LRANGE", "dst", "0", "-1"), ("SORT", "letters", "BY", "w_*", "GET", "o_*", "STORE", "dst"),
        ("LRANGE", "dst", "0", "-1"), ("SORT", "s", "BY", "nosort", "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
        ("SORT", "nokey", "STORE", "dst"), ("EXISTS", "dst"), ("SORT", "nokey", "STORE", "dst"),
        ("SET", "sv", "x"), ("EXPIRE", "sv", "100"), ("SORT", "z", "BY", "nosort", "STORE", "sv"), ("TYPE", "sv"),
        ("TTL", "sv"), ("LRANGE", "sv", "0", "-1"), ("SORT", "l", "LIMIT", "0", "0", "STORE", "sv"), ("EXISTS", "sv"),
        ("SORT", "l", "STORE", "l"), ("LRANGE", "l", "0", "-1"), ("SORT", "words", "ALPHA", "STORE", "dst", "DESC"),
        ("LRANGE", "dst", "0", "-1"), ("SORT", "bad", "STORE", "dst"), ("RPUSH", "bad", "1", "x"), ("SORT", "bad", "STORE", "dst"),
        ("LRANGE", "dst", "0", "-1"),
    ],
    "errors": [
        ("SORT", "l", "LIMIT", "x", "1"), ("SORT", "l", "LIMIT", "1", "x"), ("SORT", "l", "LIMIT", "1"), ("SORT", "l", "BAD"),
        ("SORT", "l", "BY"), ("SORT", "l", "GET"), ("SORT", "l", "STORE"), ("SORT_RO", "l", "STORE", "x"),
        ("SORT_RO", "l", "DESC", "LIMIT", "0", "2"), ("SORT_RO", "letters", "BY", "w_*", "GET", "#"),
        ("SORT", "w_a"), ("SORT", "h_a"), ("SORT", "w_a", "BAD"), ("SORT", "w_a", "LIMIT", "x", "0"),
        ("SORT", "nokey", "BAD"), ("SORT", "l", "LIMIT", "9223372036854775808", "1"), ("SORT",), ("SORT_RO",),
        ("SORT", "words"), ("SORT", "words", "STORE", "x"), ("EXISTS", "x"),
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(compat, name):
    for step in SETUP:
        compat.call(*step)
    for step in SCENARIOS[name]:
        compat.call(*step)


def test_random(compat):
    rng = random.Random(5)
    values = [str(rng.randrange(-50, 50)) for _ in range(60)] + ["%.3f" % rng.uniform(-5, 5) for _ in range(20)]
    compat.call("RPUSH", "l", *values)
    compat.call("ZADD", "z", *[x for i, v in enumerate(values) for x in (v, f"m{i}")])
    for i in range(len(values)):
        if rng.random() < 0.8:
            compat.call("SET", f"w{i}", str(rng.randrange(10)))
        compat.call("HSET", f"h{i}", "f", str(rng.randrange(1000)))
    compat.call("RPUSH", "ids", *[str(i) for i in range(len(values))])
    for _ in range(40):
        opts = []
        if rng.random() < 0.5:
            opts += ["DESC"]
        if rng.random() < 0.5:
            opts += ["LIMIT", str(rng.randrange(-3, 90)), str(rng.randrange(-2, 30))]
        compat.call("SORT", "l", *opts)
        compat.call("SORT", "z", "ALPHA", *opts)
        compat.call("SORT", "ids", "BY", "h*->f", "GET", "#", "GET", "w*", *opts)
        compat.call("SORT", "ids", "BY", "w*", *[o for o in opts if o != "LIMIT"][:1])
        compat.call("SORT", "z", "BY", "nosort", *opts)
        compat.call("SORT", "ids", "BY", "nosort", "GET", "w*", *opts)
