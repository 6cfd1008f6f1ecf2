"""Pub/sub, byte for byte against a real redis-server (RESP2 and RESP3)."""
import pytest

from amr_emulator.protocol.resp import decode_reply


@pytest.mark.parametrize("resp3", [False, True])
def test_subscribe_publish(compat, resp3):
    if resp3:
        compat.resp3()
    pub = compat.new()
    try:
        compat.call("SUBSCRIBE", "ch1", "ch2")
        # the second confirmation arrives as its own reply
        second = [c.read_reply() for c in compat.conns]
        assert second[0] == second[1]
        pub.call("PUBLISH", "ch1", "hello")
        assert len({c.read_reply() for c in compat.conns}) == 1
        pub.call("PUBSUB", "NUMSUB", "ch1", "ch2", "zz")
        ours, theirs = pub.both("PUBSUB", "CHANNELS", "ch*")  # Redis lists in hash order
        assert sorted(decode_reply(ours)[0]) == sorted(decode_reply(theirs)[0]) == [b"ch1", b"ch2"]
        pub.call("PUBSUB", "NUMPAT")
    finally:
        pub.close()


def test_pubsub_context_rules_resp2(compat):
    compat.call("SUBSCRIBE", "a")
    compat.call("GET", "x")
    compat.call("PING")
    compat.call("PING", "hi")
    compat.call("UNSUBSCRIBE", "a")
    compat.call("GET", "x")


def test_psubscribe_and_unsubscribe_all(compat):
    pub = compat.new()
    try:
        compat.call("PSUBSCRIBE", "news.*")
        pub.call("PUBLISH", "news.tech", "m1")
        assert len({c.read_reply() for c in compat.conns}) == 1
        compat.call("PUNSUBSCRIBE")
        compat.call("UNSUBSCRIBE")
        compat.call("PUBLISH", "news.tech", "m2")
    finally:
        pub.close()


def test_shard_channels(compat):
    pub = compat.new()
    try:
        compat.call("SSUBSCRIBE", "s1")
        pub.call("SPUBLISH", "s1", "m")
        assert len({c.read_reply() for c in compat.conns}) == 1
        pub.call("PUBSUB", "SHARDCHANNELS")
        pub.call("PUBSUB", "SHARDNUMSUB", "s1")
        compat.call("SUNSUBSCRIBE")
    finally:
        pub.close()


@pytest.mark.parametrize("args", [
    ("PUBLISH", "c"), ("PUBSUB",), ("PUBSUB", "NOPE"), ("PUBSUB", "NUMPAT", "x"), ("PUBSUB", "CHANNELS", "a", "b"),
    ("UNSUBSCRIBE",), ("PUNSUBSCRIBE",), ("SUNSUBSCRIBE",), ("SUBSCRIBE",),
])
def test_pubsub_errors(compat, args):
    compat.call(*args)


def test_pubsub_help(compat):
    ours, theirs = compat.both("PUBSUB", "HELP")
    # 7.0.15 differs: its last line is "Prints this help."; 7.4's is "Print this help."
    assert ours == theirs.replace(b"+    Prints this help.", b"+    Print this help.")
