"""XREAD / XREADGROUP BLOCK: served by XADD, timeouts, MULTI, the wake-ups of a destroyed group or
a deleted key, FIFO order; what the stream commands replicate; and an application with redis-py:
a consumer group that survives a consumer's crash through XAUTOCLAIM.

A test waits for a client to be blocked by watching `blocked_clients` in INFO from another
connection, so the writes always land after the block.
"""
from __future__ import annotations

import threading

import pytest
import redis

from amr_emulator.protocol.resp import decode_reply, encode_command
from shard.dispatch import process_command
from shard.session import Client
from tests.helpers import Harness, blocked_clients, wait_blocked
from tests.servers import RawConnection


@pytest.fixture
def conns(shard, raw):
    """Three raw connections to the shard (flushed): two clients and an observer."""
    made = [RawConnection(shard.host, shard.port) for _ in range(2)]
    yield [raw] + made
    for c in made:
        c.close()


def entry(i: bytes, *fv: bytes) -> bytes:
    out = b"*2\r\n$%d\r\n%b\r\n*%d\r\n" % (len(i), i, len(fv))
    return out + b"".join(b"$%d\r\n%b\r\n" % (len(x), x) for x in fv)


def test_xread_dollar_served_by_xadd(conns):
    a, b, obs = conns
    b.call("XADD", "s", "1-0", "old", "x")
    a.send(encode_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
    wait_blocked(obs, 1)
    assert b.call("XADD", "s", "2-0", "f", "v") == b"$3\r\n2-0\r\n"
    assert a.read_reply() == b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n" + entry(b"2-0", b"f", b"v")
    assert blocked_clients(obs) == 0
    assert a.call("PING") == b"+PONG\r\n"


def test_xread_dollar_is_fixed_when_blocking(conns):
    """`$` means the last ID at the time of the call: an entry added then deleted does not serve
    the client (it stays blocked), and the next one does, alone."""
    a, b, obs = conns
    b.call("XADD", "s", "1-0", "f", "1")
    a.send(encode_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
    wait_blocked(obs, 1)
    b.call("MULTI")
    b.call("XADD", "s", "2-0", "f", "2")
    b.call("XDEL", "s", "2-0")
    assert b.call("EXEC") == b"*2\r\n$3\r\n2-0\r\n:1\r\n"
    assert blocked_clients(obs) == 1
    b.call("XADD", "s", "3-0", "f", "3")
    assert a.read_reply() == b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n" + entry(b"3-0", b"f", b"3")


def test_xread_timeout_resp2_and_resp3(conns):
    a, b, obs = conns
    b.call("XADD", "s", "1-0", "f", "v")
    assert a.call("XREAD", "BLOCK", "50", "STREAMS", "s", "$") == b"*-1\r\n"
    a.call("HELLO", "3")
    assert a.call("XREAD", "BLOCK", "50", "STREAMS", "nokey", "s", "$", "$") == b"_\r\n"
    # no BLOCK and nothing new: a null array at once
    assert a.call("XREAD", "STREAMS", "s", "$") == b"_\r\n"


def test_xread_several_keys_resp3_map(conns):
    a, b, obs = conns
    a.call("HELLO", "3")
    a.send(encode_command("XREAD", "COUNT", "5", "BLOCK", "0", "STREAMS", "k1", "k2", "$", "$"))
    wait_blocked(obs, 1)
    b.call("XADD", "k2", "7-1", "a", "b")
    assert a.read_reply() == b"%1\r\n$2\r\nk2\r\n*1\r\n" + entry(b"7-1", b"a", b"b")


def test_xread_plus_on_a_missing_key_gets_the_first_entry(conns):
    a, b, obs = conns
    a.send(encode_command("XREAD", "BLOCK", "0", "STREAMS", "s", "+"))
    wait_blocked(obs, 1)
    b.call("XADD", "s", "5-0", "f", "v")
    assert a.read_reply() == b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n" + entry(b"5-0", b"f", b"v")


def test_xread_ignores_deletion_and_other_types(conns):
    a, b, obs = conns
    b.call("XADD", "s", "1-0", "f", "v")
    a.send(encode_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
    wait_blocked(obs, 1)
    b.call("DEL", "s")
    b.call("SET", "s", "string")
    b.call("DEL", "s")
    b.call("LPUSH", "s", "x")
    assert blocked_clients(obs) == 1
    b.call("DEL", "s")
    b.call("XADD", "s", "1-0", "f", "again")  # `$` was 1-0: this one is not newer
    assert blocked_clients(obs) == 1
    b.call("XADD", "s", "2-0", "f", "new")
    assert a.read_reply() == b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n" + entry(b"2-0", b"f", b"new")


def test_xreadgroup_served_and_pending(conns):
    a, b, obs = conns
    b.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    a.send(encode_command("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_blocked(obs, 1)
    b.call("XADD", "s", "1-0", "f", "v")
    assert a.read_reply() == b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n" + entry(b"1-0", b"f", b"v")
    assert b.call("XPENDING", "s", "g") == (b"*4\r\n:1\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n"
                                            b"*1\r\n*2\r\n$5\r\nalice\r\n$1\r\n1\r\n")


def test_xreadgroup_fifo(conns):
    a, b, obs = conns
    c = RawConnection(*b.sock.getpeername())
    try:
        b.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        a.send(encode_command("XREADGROUP", "GROUP", "g", "first", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", ">"))
        wait_blocked(obs, 1)
        c.send(encode_command("XREADGROUP", "GROUP", "g", "second", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", ">"))
        wait_blocked(obs, 2)
        b.call("XADD", "s", "1-0", "f", "1")
        assert a.read_reply() == b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n" + entry(b"1-0", b"f", b"1")
        assert blocked_clients(obs) == 1
        b.call("XADD", "s", "2-0", "f", "2")
        assert c.read_reply() == b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n" + entry(b"2-0", b"f", b"2")
    finally:
        c.close()


def test_xreadgroup_group_destroyed(conns):
    a, b, obs = conns
    b.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    a.send(encode_command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_blocked(obs, 1)
    assert b.call("XGROUP", "DESTROY", "s", "g") == b":1\r\n"
    assert a.read_reply() == (b"-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP "
                              b"option\r\n")
    assert blocked_clients(obs) == 0


def test_xreadgroup_key_deleted_or_replaced(conns):
    """Redis 7.4 re-runs a blocked XREADGROUP when its key goes away (-NOGROUP) or changes type
    (WRONGTYPE). 7.0.15 differs: it answered -UNBLOCKED."""
    a, b, obs = conns
    b.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    a.send(encode_command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_blocked(obs, 1)
    b.call("DEL", "s")
    assert a.read_reply().startswith(b"-NOGROUP No such key 's'")
    b.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    a.send(encode_command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_blocked(obs, 1)
    b.call("SET", "s", "now a string")
    assert a.read_reply() == b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    b.call("DEL", "s")
    b.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    a.send(encode_command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_blocked(obs, 1)
    b.call("FLUSHALL")
    assert a.read_reply().startswith(b"-NOGROUP")


def test_xreadgroup_timeout_and_group_moving(conns):
    """A blocked `>` stays blocked while another consumer takes the new entries."""
    a, b, obs = conns
    b.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    a.send(encode_command("XREADGROUP", "GROUP", "g", "slow", "BLOCK", "300", "STREAMS", "s", ">"))
    wait_blocked(obs, 1)
    b.call("MULTI")
    b.call("XADD", "s", "1-0", "f", "v")
    b.call("XREADGROUP", "GROUP", "g", "fast", "STREAMS", "s", ">")
    b.call("EXEC")
    assert blocked_clients(obs) == 1
    assert a.read_reply() == b"*-1\r\n"


def test_inside_multi_does_not_block(conns):
    a, b, obs = conns
    a.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    a.call("MULTI")
    a.call("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    a.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    assert a.call("EXEC") == b"*2\r\n*-1\r\n*-1\r\n"


def test_client_unblock(conns):
    a, b, obs = conns
    cid = decode_reply(a.call("CLIENT", "ID"))[0]
    a.send(encode_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
    wait_blocked(obs, 1)
    assert b.call("CLIENT", "UNBLOCK", str(cid)) == b":1\r\n"
    assert a.read_reply() == b"*-1\r\n"


# --- replication (in-process) ----------------------------------------------------------------------


def _xclaim(key, group, consumer, i, t, n, last):
    return [b"XCLAIM", key, group, consumer, b"0", i, b"TIME", b"%d" % t, b"RETRYCOUNT", b"%d" % n, b"FORCE",
            b"JUSTID", b"LASTID", last]


def test_replicated_effects():
    h = Harness()
    now = h.server.now_ms
    i = h("XADD", "s", "*", "f", "v")
    assert h.take() == [[b"XADD", b"s", i, b"f", b"v"]]
    h("XADD", "s", "MAXLEN", "~", "5", "NOMKSTREAM", "99999999999999-*", "f", "v")
    assert h.take() == [[b"XADD", b"s", b"MAXLEN", b"=", b"2", b"NOMKSTREAM", b"99999999999999-0", b"f", b"v"]]
    h("XADD", "s", "MINID", "~", "0", "99999999999999-5", "f", "v")
    assert h.take() == [[b"XADD", b"s", b"MINID", b"=", i, b"99999999999999-5", b"f", b"v"]]
    h("XADD", "s", "MAXLEN", "=", "2", "99999999999999-6", "f", "v")  # exact: as sent
    assert h.take() == [[b"XADD", b"s", b"MAXLEN", b"=", b"2", b"99999999999999-6", b"f", b"v"]]
    for k in range(200):
        h("XADD", "t", "%d-0" % (k + 1), "f", "v")
    h.take()
    assert h("XTRIM", "t", "MAXLEN", "~", "50") == 100
    assert h.take() == [[b"XTRIM", b"t", b"MAXLEN", b"=", b"100"]]
    assert h("XTRIM", "t", "MAXLEN", "~", "50") == 0
    assert h.take() == []

    h("XGROUP", "CREATE", "t", "g", "0")
    assert h.take() == [[b"XGROUP", b"CREATE", b"t", b"g", b"0"]]
    h.server.now_ms = now = now + 10
    h("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "t", ">")
    assert h.take() == [_xclaim(b"t", b"g", b"alice", b"101-0", now, 1, b"101-0"),
                        _xclaim(b"t", b"g", b"alice", b"102-0", now, 1, b"102-0"),
                        [b"XGROUP", b"SETID", b"t", b"g", b"102-0", b"ENTRIESREAD", b"102"]]
    h("XREADGROUP", "GROUP", "g", "bob", "NOACK", "COUNT", "1", "STREAMS", "t", ">")
    assert h.take() == [[b"XGROUP", b"CREATECONSUMER", b"t", b"g", b"bob"],
                        [b"XGROUP", b"SETID", b"t", b"g", b"103-0", b"ENTRIESREAD", b"103"]]
    h("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "t", "0")  # history: nothing replicated
    assert h.take() == []
    h("XCLAIM", "t", "g", "carol", "0", "101", "102-0", "RETRYCOUNT", "5")
    assert h.take() == [_xclaim(b"t", b"g", b"carol", b"101", now, 5, b"103-0"),
                        _xclaim(b"t", b"g", b"carol", b"102-0", now, 5, b"103-0")]
    h("XCLAIM", "t", "g", "carol", "0", "150", "LASTID", "160")  # nothing claimed, last ID moved
    assert h.take() == [[b"XGROUP", b"SETID", b"t", b"g", b"160-0", b"ENTRIESREAD", b"103"]]
    h("XDEL", "t", "102")
    h.take()
    assert h("XAUTOCLAIM", "t", "g", "dave", "0", "0", "JUSTID") == [b"0-0", [b"101-0"], [b"102-0"]]
    assert h.take() == [_xclaim(b"t", b"g", b"dave", b"101-0", now, 5, b"160-0"),
                        _xclaim(b"t", b"g", b"carol", b"102-0", now, 5, b"160-0")]
    h("XACK", "t", "g", "101")
    assert h.take() == [[b"XACK", b"t", b"g", b"101"]]
    h("XACK", "t", "g", "101")
    assert h.take() == []


def test_approximate_minid_replicates_the_first_id_with_tombstones():
    """`MINID ~` replicates as `MINID = <first ID of the first macro node>`, deleted or not."""
    h = Harness()
    for k in range(200):
        h("XADD", "t", "%d-0" % (k + 1), "f", "v")
    h("XDEL", "t", "101-0")
    h("XTRIM", "t", "MAXLEN", "~", "150")  # removes the first node (1..100)
    h.take()
    h("XADD", "t", "MINID", "~", "150", "201-0", "f", "v")
    assert h.take() == [[b"XADD", b"t", b"MINID", b"=", b"101-0", b"201-0", b"f", b"v"]]


def test_replicated_when_served_after_blocking():
    h = Harness()
    h("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    h.take()
    waiter = Client(h.server)
    waiter.out = []
    process_command(waiter, [b"XREADGROUP", b"GROUP", b"g", b"w", b"BLOCK", b"0", b"STREAMS", b"s", b">"])
    assert waiter.blocked is not None and waiter.out == []
    h("XADD", "s", "5-0", "f", "v")
    assert decode_reply(waiter.out[0])[0] == [[b"s", [[b"5-0", [b"f", b"v"]]]]]
    t = h.server.now_ms
    assert h.take() == [[b"XADD", b"s", b"5-0", b"f", b"v"], _xclaim(b"s", b"g", b"w", b"5-0", t, 1, b"5-0"),
                        [b"XGROUP", b"SETID", b"s", b"g", b"5-0", b"ENTRIESREAD", b"1"]]


# --- an application: a consumer group surviving a consumer's crash --------------------------------------


def test_consumer_group_survives_a_crash(shard):
    """Workers read jobs from a group; one dies holding jobs without acknowledging them; a survivor
    takes them over with XAUTOCLAIM once they are idle long enough. Every job is processed."""
    host, port = shard.host, shard.port
    admin = redis.Redis(host=host, port=port)
    admin.flushall()
    admin.xgroup_create("jobs", "workers", id="$", mkstream=True)
    done: list = []
    lock = threading.Lock()
    n_jobs = 40

    def worker(name: str, crash_after: int | None):
        r = redis.Redis(host=host, port=port)  # RESP3 by default with redis-py 8
        handled = 0
        while True:
            with lock:
                if len(done) >= n_jobs:
                    break
            # first take over what dead consumers left behind, then read new jobs
            _, claimed, _ = r.xautoclaim("jobs", "workers", name, min_idle_time=200, start_id="0-0", count=5)
            got = [(i, f) for i, f in claimed]
            if not got:
                reply = r.xreadgroup("workers", name, {"jobs": ">"}, count=2, block=50)
                if reply:
                    entries = reply[b"jobs"][0] if isinstance(reply, dict) else reply[0][1]
                    got = list(entries)
            for job_id, fields in got:
                if crash_after is not None and handled >= crash_after:
                    r.connection_pool.disconnect()  # dies holding `got` unacknowledged
                    return
                with lock:
                    done.append(fields[b"n"])
                r.xack("jobs", "workers", job_id)
                handled += 1
        r.close()

    crasher = threading.Thread(target=worker, args=("crasher", 1))
    crasher.start()
    for k in range(n_jobs):
        admin.xadd("jobs", {"n": str(k)})
    crasher.join(10)
    survivor = threading.Thread(target=worker, args=("survivor", None))
    survivor.start()
    survivor.join(20)
    assert not survivor.is_alive()
    assert sorted(int(x) for x in done) == list(range(n_jobs))
    assert admin.xpending("jobs", "workers")["pending"] == 0
    info = {c["name"]: c for c in admin.xinfo_consumers("jobs", "workers")}
    assert set(info) == {b"crasher", b"survivor"} and info[b"crasher"]["pending"] == 0
    admin.close()


def test_blocked_then_timed_out_client_replicates_its_next_command():
    """A blocked XREADGROUP re-run in vain must not swallow the effects of the client's next
    command."""
    h = Harness()
    h("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    waiter = Client(h.server)
    waiter.out = []
    process_command(waiter, [b"XREADGROUP", b"GROUP", b"g", b"w", b"BLOCK", b"0", b"STREAMS", b"s", b">"])
    h("MULTI")
    h("XADD", "s", "1-0", "f", "v")
    h("XREADGROUP", "GROUP", "g", "other", "STREAMS", "s", ">")
    h("EXEC")
    assert waiter.blocked is not None  # re-run, found nothing new: blocked again
    waiter.unblock()
    h.take()
    h("SET", "k", "v", client=waiter)
    assert h.take() == [[b"SET", b"k", b"v"]]
