"""Connection commands, byte for byte against a real redis-server."""
import pytest

# Replies that name the server's version or the client's id/address differ by nature; the rest match.
CASES = [
    ("PING",), ("PING", "hello"), ("PING", "a", "b"), ("ECHO", "x"), ("ECHO",), ("ECHO", "a", "b"),
    ("HELLO", "4"), ("HELLO", "1"), ("HELLO", "x"), ("HELLO", "-1"), ("HELLO", "2", "FOO"),
    ("HELLO", "2", "AUTH", "a"), ("HELLO", "2", "SETNAME", "a b"), ("HELLO", "2", "SETNAME"),
    ("AUTH", "x"), ("AUTH", "default", "anything"), ("AUTH", "nobody", "x"), ("AUTH", "a", "b", "c"), ("AUTH",),
    ("SELECT", "16"), ("SELECT", "x"), ("SELECT", "-1"), ("SELECT", "1"), ("SELECT", "0"), ("SELECT", "99999999999"),
    ("SELECT",), ("CLIENT",), ("CLIENT", "NOPE"), ("CLIENT", "SETNAME", "a b"), ("CLIENT", "SETNAME", "ok-name"),
    ("CLIENT", "GETNAME"), ("CLIENT", "SETNAME", ""), ("CLIENT", "GETNAME"), ("CLIENT", "SETNAME", "a\nb"),
    ("CLIENT", "REPLY", "foo"), ("CLIENT", "KILL", "1.2.3.4:5"), ("CLIENT", "KILL", "ID", "999999"),
    ("CLIENT", "KILL", "ID", "x"), ("CLIENT", "KILL", "ID", "0"), ("CLIENT", "KILL", "FOO", "x"),
    ("CLIENT", "KILL", "TYPE", "bogus"), ("CLIENT", "KILL", "TYPE", "pubsub"), ("CLIENT", "KILL", "SKIPME", "maybe"),
    ("CLIENT", "KILL", "ID"), ("CLIENT", "PAUSE", "x"), ("CLIENT", "PAUSE", "10", "foo"), ("CLIENT", "PAUSE", "-1"),
    ("CLIENT", "UNPAUSE"), ("CLIENT", "NO-EVICT", "x"), ("CLIENT", "NO-EVICT", "on"), ("CLIENT", "NO-EVICT", "OFF"),
    ("CLIENT", "LIST", "TYPE", "foo"), ("CLIENT", "LIST", "ID", "x"), ("CLIENT", "LIST", "FOO"),
    ("CLIENT", "LIST", "ID", "99999"), ("CLIENT", "UNBLOCK", "99999"), ("CLIENT", "UNBLOCK", "x"),
    ("CLIENT", "UNBLOCK", "1", "maybe"), ("CLIENT", "ID", "extra"), ("CLIENT", "MAINT_NOTIFICATIONS", "ON"),
    ("QUIT", "extra"),
]


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a))
def test_connection_command(compat, args):
    compat.call(*args)


def test_hello_shape(compat):
    ours, theirs = compat.both("HELLO", "3")
    for reply in (ours, theirs):
        assert reply.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n")
        assert b"$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:" in reply
        assert reply.endswith(b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n")
    compat.call("PING")
    ours, theirs = compat.both("HELLO", "2")
    assert ours.startswith(b"*14\r\n") and theirs.startswith(b"*14\r\n")


def test_client_reply_off_skip(compat):
    for c in compat.conns:
        c.send(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n*2\r\n$4\r\nECHO\r\n$1\r\na\r\n"
               b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n")
    assert [c.read_reply() for c in compat.conns] == [b"+OK\r\n"] * 2
    for c in compat.conns:
        c.send(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n*2\r\n$4\r\nECHO\r\n$1\r\nb\r\n"
               b"*2\r\n$4\r\nECHO\r\n$1\r\nc\r\n")
    assert [c.read_reply() for c in compat.conns] == [b"$1\r\nc\r\n"] * 2


def test_select_keeps_keys_apart(compat):
    compat.call("SET", "k", "0")
    compat.call("SELECT", "3")
    compat.call("GET", "k")
    compat.call("SET", "k", "3")
    compat.call("SELECT", "0")
    compat.call("GET", "k")


def test_reset(compat):
    compat.call("SELECT", "2")
    compat.call("MULTI")
    compat.call("RESET")
    compat.call("EXEC")
    compat.call("CLIENT", "GETNAME")


def test_quit_closes(compat):
    assert compat.raw(b"*1\r\n$4\r\nQUIT\r\n") == b"+OK\r\n"


HELLO_NOAUTH = (b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> "
                b"AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol "
                b"version at the same time\r\n")


def test_requirepass(shard, real_redis):
    """AUTH with requirepass set, on fresh connections: NOAUTH before, WRONGPASS, then OK."""
    from tests.conftest import Compat
    from tests.servers import RawConnection

    pair = Compat(shard, real_redis)
    pair.call("CONFIG", "SET", "requirepass", "s3cret")
    try:
        fresh = pair.new()
        fresh.call("GET", "k")
        fresh.call("PING")
        ours, theirs = fresh.both("HELLO", "3")
        assert ours == HELLO_NOAUTH  # 7.0.15 differs: it lacks the "<proto> " of 7.4's text
        fresh.call("AUTH", "wrong")
        fresh.call("AUTH", "default", "wrong")
        fresh.call("HELLO", "3", "AUTH", "default", "wrong")
        fresh.call("NOSUCHCMD")
        fresh.call("GET")
        fresh.call("MULTI")
        fresh.call("EXEC")
        fresh.raw(b"*11\r\n")
        fresh.close()
        again = pair.new()
        again.call("AUTH", "s3cret")
        again.call("PING")
        again.close()
    finally:
        for proc in (shard, real_redis):
            conn = RawConnection(proc.host, proc.port)
            conn.call("AUTH", "s3cret")
            assert conn.call("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"
            conn.close()
        pair.close()
