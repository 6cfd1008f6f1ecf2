"""Hash commands, byte for byte against a real redis-server.

Small hashes (listpack in Redis) keep insertion order in both, so HGETALL/HKEYS/HVALS compare
exactly. Random replies (HRANDFIELD) are compared by shape and membership.
"""
import pytest

from amr_emulator.protocol.resp import decode_reply
from tests.helpers import assert_same_events, call_unordered


def run(compat, steps):
    for step in steps:
        if step[0] == "~":
            call_unordered(compat, *step[1:])
        else:
            compat.call(*step)


# Each scenario is a list of commands run in order on both servers (from an empty db); every reply
# is compared byte for byte.
SCENARIOS = {
    "hset-basic": [
        ("HSET", "h", "f1", "v1"), ("HSET", "h", "f1", "v2"), ("HSET", "h", "f2", "v", "f3", "v", "f2", "w"),
        ("HGET", "h", "f1"), ("HGET", "h", "f2"), ("HGET", "h", "nope"), ("HGET", "nokey", "f"),
        ("HLEN", "h"), ("HLEN", "nokey"), ("HGETALL", "h"), ("HKEYS", "h"), ("HVALS", "h"),
        ("HGETALL", "nokey"), ("HKEYS", "nokey"), ("HVALS", "nokey"),
    ],
    "hset-arity": [
        ("HSET", "h"), ("HSET", "h", "f"), ("HSET", "h", "f", "v", "g"), ("HSET", "h", "f", "v", "g", "w", "x"),
        ("HMSET", "h", "f"), ("HMSET", "h", "f", "v", "g"), ("HSETNX", "h", "f"), ("HSETNX", "h", "f", "v", "x"),
        ("HGET", "h"), ("HMGET", "h"), ("HDEL", "h"), ("HLEN",), ("HEXISTS", "h"), ("HSTRLEN", "h"),
        ("HINCRBY", "h", "f"), ("HINCRBYFLOAT", "h", "f"), ("HGETALL",), ("HKEYS", "a", "b"),
        ("HVALS",), ("HRANDFIELD",), ("HLEN", "h"),
    ],
    "hmset": [
        ("HMSET", "h", "a", "1", "b", "2"), ("HMSET", "h", "a", "3"), ("HGETALL", "h"),
        ("HMGET", "h", "a", "b", "c"), ("HMGET", "nokey", "a", "b"), ("HMGET", "h", "a"),
    ],
    "hsetnx": [
        ("HSETNX", "h", "f", "1"), ("HSETNX", "h", "f", "2"), ("HGET", "h", "f"), ("HSETNX", "h", "g", ""),
        ("HGETALL", "h"), ("HSTRLEN", "h", "g"),
    ],
    "hdel": [
        ("HSET", "h", "a", "1", "b", "2", "c", "3"), ("HDEL", "h", "x"), ("HDEL", "h", "a", "a", "x"),
        ("HGETALL", "h"), ("HDEL", "h", "b", "c", "d"), ("HLEN", "h"), ("HDEL", "h", "b"), ("HDEL", "nokey", "f"),
        ("HSET", "h", "a", "1", "b", "2"), ("HDEL", "h", "b"), ("HSET", "h", "b", "3"), ("HGETALL", "h"),
    ],
    "hexists-hstrlen": [
        ("HSET", "h", "f", "hello", "n", "12345", "neg", "-17", "e", ""), ("HEXISTS", "h", "f"),
        ("HEXISTS", "h", "g"), ("HEXISTS", "nokey", "f"), ("HSTRLEN", "h", "f"), ("HSTRLEN", "h", "n"),
        ("HSTRLEN", "h", "neg"), ("HSTRLEN", "h", "e"), ("HSTRLEN", "h", "zz"), ("HSTRLEN", "nokey", "f"),
    ],
    "wrongtype": [
        ("SET", "s", "x"), ("HSET", "s", "f", "v"), ("HMSET", "s", "f", "v"), ("HSETNX", "s", "f", "v"),
        ("HGET", "s", "f"), ("HMGET", "s", "f"), ("HDEL", "s", "f"), ("HLEN", "s"), ("HEXISTS", "s", "f"),
        ("HSTRLEN", "s", "f"), ("HGETALL", "s"), ("HKEYS", "s"), ("HVALS", "s"), ("HINCRBY", "s", "f", "1"),
        ("HINCRBYFLOAT", "s", "f", "1"), ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "2"),
        ("HRANDFIELD", "s", "2", "WITHVALUES"), ("HSCAN", "s", "0"), ("GET", "s"),
        # the argument checks come before the type check
        ("HINCRBY", "s", "f", "x"), ("HINCRBYFLOAT", "s", "f", "x"), ("HRANDFIELD", "s", "x"),
        ("HRANDFIELD", "s", "1", "bad"), ("HSET", "s", "f", "v", "g"), ("HSCAN", "s", "x"),
    ],
    "hincrby": [
        ("HINCRBY", "h", "f", "5"), ("HINCRBY", "h", "f", "-10"), ("HINCRBY", "h", "f", "0"), ("HGET", "h", "f"),
        ("HINCRBY", "h", "f", "x"), ("HINCRBY", "h", "f", "1.5"), ("HINCRBY", "h", "f", " 1"),
        ("HINCRBY", "h", "f", "+1"), ("HINCRBY", "h", "f", "01"), ("HINCRBY", "h", "f", "9223372036854775808"),
        ("HINCRBY", "h", "f", ""), ("HSET", "h", "s", "abc", "sp", " 1", "fl", "1.0", "big", "9223372036854775807"),
        ("HINCRBY", "h", "s", "1"), ("HINCRBY", "h", "sp", "1"), ("HINCRBY", "h", "fl", "1"),
        ("HINCRBY", "h", "big", "1"), ("HINCRBY", "h", "big", "0"), ("HINCRBY", "h", "big", "-1"),
        ("HSET", "h", "small", "-9223372036854775808"), ("HINCRBY", "h", "small", "-1"),
        ("HINCRBY", "h", "small", "9223372036854775807"), ("HINCRBY", "h", "new", "-9223372036854775808"),
        ("HGETALL", "h"), ("HINCRBY", "nokey", "f", "x"), ("HLEN", "nokey"),
    ],
    "hincrbyfloat": [
        ("HINCRBYFLOAT", "h", "f", "10.5"), ("HINCRBYFLOAT", "h", "f", "0.1"), ("HINCRBYFLOAT", "h", "g", "0.1"),
        ("HINCRBYFLOAT", "h", "g", "0.2"), ("HINCRBYFLOAT", "h", "i", "5.0e3"), ("HINCRBYFLOAT", "h", "i", "-5000"),
        ("HINCRBYFLOAT", "h", "j", "1e300"), ("HINCRBYFLOAT", "h", "j", "1e300"), ("HGET", "h", "j"),
        ("HINCRBYFLOAT", "h", "k", "1.5e-20"), ("HINCRBYFLOAT", "h", "k", "-0"),
        ("HINCRBYFLOAT", "h", "l", "0.000003814697265625"), ("HINCRBYFLOAT", "h", "m", "0x1p-2"),
        ("HINCRBYFLOAT", "h", "m", "0x1.8p3"), ("HINCRBYFLOAT", "h", "n", ".5"), ("HINCRBYFLOAT", "h", "n", "5."),
        ("HINCRBYFLOAT", "h", "n", "+1"), ("HINCRBYFLOAT", "h", "o", "3.14159265358979323846264338327950288"),
        ("HINCRBYFLOAT", "h", "p", "1.7976931348623157e308"), ("HINCRBYFLOAT", "h", "p", "1.7976931348623157e308"),
        ("HINCRBYFLOAT", "h", "q", "-1e-17"), ("HINCRBYFLOAT", "h", "r", "5e-18"), ("HINCRBYFLOAT", "h", "r", "1e4932"),
        ("HINCRBYFLOAT", "h", "r", "1e4932"), ("HINCRBYFLOAT", "h", "int", "9223372036854775807"),
        ("HINCRBYFLOAT", "h", "int", "1"), ("~", "HGETALL", "h"),  # big values: a hash table in Redis
    ],
    "hincrbyfloat-errors": [
        ("HINCRBYFLOAT", "h", "f", "abc"), ("HINCRBYFLOAT", "h", "f", ""), ("HINCRBYFLOAT", "h", "f", " 1"),
        ("HINCRBYFLOAT", "h", "f", "1 "), ("HINCRBYFLOAT", "h", "f", "1e"), ("HINCRBYFLOAT", "h", "f", "0x"),
        ("HINCRBYFLOAT", "h", "f", "inf"), ("HINCRBYFLOAT", "h", "f", "-Infinity"), ("HINCRBYFLOAT", "h", "f", "nan"),
        ("HINCRBYFLOAT", "h", "f", "1e5000"), ("HINCRBYFLOAT", "h", "f", "1e-5000"), ("HINCRBYFLOAT", "h", "f", "1_0"),
        ("HINCRBYFLOAT", "h", "f", "1\x00"), ("HINCRBYFLOAT", "h", "f", "1" * 5200), ("HLEN", "h"),
        ("HSET", "h", "s", "abc", "inf", "inf", "big", "1e4932", "sp", " 1", "e", ""),
        ("HINCRBYFLOAT", "h", "s", "1"), ("HINCRBYFLOAT", "h", "inf", "1"), ("HINCRBYFLOAT", "h", "big", "1e4932"),
        ("HINCRBYFLOAT", "h", "sp", "1"), ("HINCRBYFLOAT", "h", "e", "1"), ("HGETALL", "h"),
    ],
    "hrandfield-errors": [
        ("HSET", "h", "a", "1", "b", "2", "c", "3"), ("HRANDFIELD", "h", "x"), ("HRANDFIELD", "h", "1.5"),
        ("HRANDFIELD", "h", "1", "WITHVALUE"), ("HRANDFIELD", "h", "1", "WITHVALUES", "x"),
        ("HRANDFIELD", "h", "-9223372036854775808"), ("HRANDFIELD", "h", "9223372036854775807", "WITHVALUES"),
        ("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"), ("HRANDFIELD", "nokey"),
        ("HRANDFIELD", "nokey", "5"), ("HRANDFIELD", "nokey", "-5", "WITHVALUES"), ("HRANDFIELD", "h", "0"),
        ("HRANDFIELD", "h", "0", "withvalues"), ("HRANDFIELD", "h", "3"), ("HRANDFIELD", "h", "10"),
        ("HRANDFIELD", "h", "3", "WITHVALUES"), ("HRANDFIELD", "h", "100", "withvalues"),
        ("HRANDFIELD", "nokey", "x"), ("HRANDFIELD", "nokey", "1", "foo"),
    ],
    "hscan": [
        ("HSET", "h", "a", "1", "b", "2", "ab", "3", "x", "4"), ("HSCAN", "h", "0"), ("HSCAN", "h", "0", "COUNT", "1"),
        ("HSCAN", "h", "0", "MATCH", "a*"), ("HSCAN", "h", "0", "match", "*b", "count", "100"),
        ("HSCAN", "h", "0", "MATCH", "zz*"), ("HSCAN", "nokey", "0"), ("HSCAN", "nokey", "0", "BAD"),
        ("HSCAN", "h", "x"), ("HSCAN", "h", "18446744073709551615"), ("HSCAN", "h", "+0"),
        ("HSCAN", "h", "18446744073709551616"), ("HSCAN", "h", "0", "COUNT", "0"), ("HSCAN", "h", "0", "COUNT", "x"),
        ("HSCAN", "h", "0", "COUNT"), ("HSCAN", "h", "0", "MATCH"), ("HSCAN", "h", "0", "BAD", "1"),
        ("HSCAN", "h", "0", "TYPE", "string"), ("HSCAN", "h"),
    ],
    "empty-field-and-value": [
        ("HSET", "h", "", ""), ("HGET", "h", ""), ("HEXISTS", "h", ""), ("HGETALL", "h"), ("HDEL", "h", ""),
        ("HLEN", "h"), ("HSET", "h", "bin\x00\xff", "v\r\nx"), ("HGETALL", "h"),
    ],
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_hash_scenario(compat, name):
    run(compat, SCENARIOS[name])


@pytest.mark.parametrize("name", ["hset-basic", "hmset", "hsetnx", "hdel", "hincrbyfloat", "hrandfield-errors",
                                  "hscan", "empty-field-and-value"])
def test_hash_scenario_resp3(compat, name):
    compat.resp3()
    run(compat, SCENARIOS[name])


def test_hscan_novalues(compat):
    compat.call("HSET", "h", "a", "1", "b", "2")
    ours, theirs = compat.both("HSCAN", "h", "0", "NOVALUES")
    # 7.0.15 differs: NOVALUES came with 7.4
    assert theirs == b"-ERR syntax error\r\n"
    assert ours == b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    ours, _ = compat.both("HSCAN", "h", "0", "MATCH", "b", "novalues")
    assert ours == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nb\r\n"


def test_hscan_negative_cursor(compat):
    compat.call("HSET", "h", "a", "1")
    ours, theirs = compat.both("HSCAN", "h", "-1")
    # 7.0.15 differs: it reads the cursor with strtoull, which wraps -1 around; 7.4 refuses it
    assert ours == b"-ERR invalid cursor\r\n"
    assert theirs.startswith(b"*2\r\n")


def test_hscan_big_hash_iterates_everything(compat):
    args = []
    for i in range(700):
        args += [f"f{i}", f"v{i}"]
    compat.call("HSET", "h", *args)
    for conn in compat.conns:
        seen = {}
        cursor = b"0"
        calls = 0
        while True:
            reply = decode_reply(conn.call("HSCAN", "h", cursor, "COUNT", "100"))[0]
            calls += 1
            cursor = reply[0]
            seen.update(_pairs(reply[1]))
            if cursor == b"0":
                break
        assert calls > 1
        assert seen == {f"f{i}".encode(): f"v{i}".encode() for i in range(700)}


def test_sscan_novalues_error(compat):
    compat.call("SADD", "s", "a")
    ours, theirs = compat.both("SSCAN", "s", "0", "NOVALUES")
    # 7.0.15 differs: it answers a syntax error
    assert ours == b"-ERR NOVALUES option can only be used in HSCAN\r\n"


def test_big_hash(compat):
    """Past hash-max-listpack-entries Redis uses a hash table: its order differs, contents don't."""
    args = []
    for i in range(600):
        args += [f"field:{i}", str(i * 7)]  # past hash-max-listpack-entries (512)
    compat.call("HSET", "h", *args)
    compat.call("HLEN", "h")
    compat.call("HGET", "h", "field:299")
    compat.call("HMGET", "h", "field:0", "field:150", "nope")
    call_unordered(compat, "HKEYS", "h")
    call_unordered(compat, "HVALS", "h")
    ours, theirs = compat.both("HGETALL", "h")
    assert sorted(decode_reply(ours)[0]) == sorted(decode_reply(theirs)[0])  # flat field/value list
    compat.call("HDEL", "h", *[f"field:{i}" for i in range(0, 600, 2)])
    compat.call("HLEN", "h")
    compat.call("HRANDFIELD", "h", "0")
    for c in (compat,):
        replies = [decode_reply(r)[0] for r in c.both("HRANDFIELD", "h", "200")]
        for reply in replies:
            assert len(reply) == 200
    # a long value
    compat.call("HSET", "h2", "f", "x" * 100)
    compat.call("HGETALL", "h2")
    compat.call("HSTRLEN", "h2", "f")


def _pairs(flat):
    return list(zip(flat[0::2], flat[1::2]))


def test_hrandfield_random_shapes(compat):
    compat.call("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5")
    content = {b"a": b"1", b"b": b"2", b"c": b"3", b"d": b"4", b"e": b"5"}
    for ours_raw, theirs_raw in [compat.both("HRANDFIELD", "h") for _ in range(5)]:
        assert decode_reply(ours_raw)[0] in content and decode_reply(theirs_raw)[0] in content
    for count in ("2", "4", "-3", "-20", "1"):
        for raw in compat.both("HRANDFIELD", "h", count):
            reply = decode_reply(raw)[0]
            assert len(reply) == abs(int(count))
            assert set(reply) <= set(content)
            if int(count) > 0:
                assert len(set(reply)) == len(reply)
        for raw in compat.both("HRANDFIELD", "h", count, "WITHVALUES"):
            pairs = _pairs(decode_reply(raw)[0])
            assert len(pairs) == abs(int(count))
            assert all(content[f] == v for f, v in pairs)
    # a unique sample of a small hash comes out in the hash's order, as Redis's listpack sampling
    order = list(content)
    for _ in range(5):
        reply = decode_reply(compat.both("HRANDFIELD", "h", "3")[0])[0]
        assert reply == sorted(reply, key=order.index)


def test_hrandfield_resp3_pairs(compat):
    compat.resp3()
    compat.call("HSET", "h", "a", "1", "b", "2")
    for count in ("1", "-5", "5", "2"):
        for raw in compat.both("HRANDFIELD", "h", count, "WITHVALUES"):
            reply = decode_reply(raw)[0]
            assert isinstance(reply, list) and len(reply) == min(abs(int(count)), 2 if int(count) > 0 else 99)
            assert all(isinstance(p, list) and len(p) == 2 and {b"a": b"1", b"b": b"2"}[p[0]] == p[1]
                       for p in reply)
    compat.call("HRANDFIELD", "h", "5", "WITHVALUES")  # the whole hash, in order: byte for byte


def test_hgetall_in_multi_is_a_snapshot(compat):
    compat.call("HSET", "h", "a", "1")
    compat.call("MULTI")
    compat.call("HGETALL", "h")
    compat.call("HKEYS", "h")
    compat.call("HVALS", "h")
    compat.call("HSET", "h", "b", "2")
    compat.call("HINCRBYFLOAT", "h", "a", "0.5")
    compat.call("EXEC")


def test_hash_keyspace_events(compat):
    sub = compat.new()
    sub.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
    sub.call("PSUBSCRIBE", "__key*__:*")
    steps = [
        ("HSET", "h", "a", "1", "b", "2"), ("HSET", "h", "a", "1"), ("HSETNX", "h", "a", "x"),
        ("HSETNX", "h", "c", "3"), ("HMSET", "h", "d", "4"), ("HINCRBY", "h", "n", "1"),
        ("HINCRBYFLOAT", "h", "n", "1.5"), ("HINCRBY", "h", "a", "x"), ("HDEL", "h", "zz"), ("HDEL", "h", "a"),
        ("HDEL", "h", "b", "c", "d", "n"), ("HINCRBYFLOAT", "h2", "f", "1"), ("HGET", "h2", "f"),
    ]
    for step in steps:
        compat.call(*step)
    assert_same_events(sub)
    sub.close()
    compat.call("CONFIG", "SET", "notify-keyspace-events", "")
