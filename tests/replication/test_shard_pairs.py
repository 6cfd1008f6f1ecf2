"""Shard to shard: full sync, the stream, a dropped link resynchronised partially, promotion with a
sibling continuing by replid2, a demoted primary continuing too, a chained replica, writes during a
full sync, WAIT, min-replicas-to-write, replica-serve-stale-data."""
from __future__ import annotations

import threading
import time

import pytest
import redis

from amr_emulator.protocol.resp import encode_command
from tests.servers import RawConnection

from tests.replication.support import (caught_up, client, dataset, fill_every_type, link_up, repl_info, servers,
                                       stats, wait_until)


def _replica_of(start, primary, *extra):
    return start("shard", "--config", f"replicaof={primary.host} {primary.port}", *extra)


def test_full_sync_stream_and_partial_resync():
    with servers() as start:
        sp = start("shard")
        p = client(sp)
        fill_every_type(p)
        sq = _replica_of(start, sp)
        q = client(sq)
        wait_until(lambda: caught_up(p, q), what="full sync")
        assert dataset(q) == dataset(p)
        assert q.ttl("ttl:3") > 900

        p.set("after", "1")
        p.execute_command("SELECT", "0")
        p3 = redis.Redis(host=sp.host, port=sp.port, db=3, protocol=2)
        p3.rpush("db3list", "a", "b")
        p3.close()
        wait_until(lambda: caught_up(p, q), what="the stream")
        assert dataset(q) == dataset(p)

        p.execute_command("CLIENT", "KILL", "TYPE", "replica")
        for i in range(100):
            p.set(f"during:{i}", i)
        wait_until(lambda: stats(p)["sync_partial_ok"] == 1, what="partial resync")
        wait_until(lambda: caught_up(p, q), what="catch up")
        assert stats(p)["sync_full"] == 1
        assert dataset(q) == dataset(p)

        q.execute_command("CLIENT", "KILL", "TYPE", "master")
        p.set("again", "x")
        wait_until(lambda: stats(p)["sync_partial_ok"] == 2, what="partial resync from the replica's side")
        wait_until(lambda: caught_up(p, q), what="catch up")
        assert q.get("again") == b"x"
        # a backlog too small for what was missed: a full resync
        p.config_set("repl-backlog-size", "16384")
        p.execute_command("CLIENT", "KILL", "TYPE", "replica")
        p.set("big", b"z" * 100000)  # may be written before the replica reconnects: then it is not in its offset
        wait_until(lambda: stats(p)["sync_full"] == 2, what="a full resync")
        wait_until(lambda: caught_up(p, q), what="catch up")
        assert dataset(q) == dataset(p)


def test_promotion_sibling_and_old_primary_continue_partially():
    with servers() as start:
        sp = start("shard")
        p = client(sp)
        fill_every_type(p, n=5)
        sa, sb = _replica_of(start, sp), _replica_of(start, sp)
        a, b = client(sa), client(sb)
        wait_until(lambda: caught_up(p, a) and caught_up(p, b), what="two replicas")
        old = repl_info(p)

        assert a.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
        info = repl_info(a)
        assert info["role"] == "master"
        assert info["master_replid2"] == old["master_replid"]
        assert info["second_repl_offset"] == old["master_repl_offset"] + 1
        assert info["master_replid"] != old["master_replid"]
        a.set("on-a", "1")

        assert b.execute_command("REPLICAOF", sa.host, str(sa.port)) == b"OK"
        wait_until(lambda: caught_up(a, b), what="the sibling to follow the new primary")
        assert stats(a)["sync_partial_ok"] == 1
        assert stats(a)["sync_full"] == 0
        assert b.get("on-a") == b"1"
        assert repl_info(b)["master_replid"] == repl_info(a)["master_replid"]
        assert repl_info(b)["master_replid2"] == old["master_replid"]

        # the old primary, demoted, continues from its own history
        assert p.execute_command("REPLICAOF", sa.host, str(sa.port)) == b"OK"
        wait_until(lambda: caught_up(a, p), what="the old primary to follow")
        assert stats(a)["sync_partial_ok"] == 2
        assert stats(a)["sync_full"] == 0
        a.set("on-a-2", "2")
        wait_until(lambda: caught_up(a, p) and caught_up(a, b), what="both replicas")
        assert dataset(p) == dataset(a) == dataset(b)
        assert p.execute_command("REPLICAOF", sa.host, str(sa.port)) == b"OK Already connected to specified master"


def test_chained_replica_relays_the_stream():
    with servers() as start:
        sp = start("shard")
        p = client(sp)
        fill_every_type(p, n=5)
        sa = _replica_of(start, sp)
        a = client(sa)
        wait_until(lambda: caught_up(p, a), what="first replica")
        sb = _replica_of(start, sa)
        b = client(sb)
        wait_until(lambda: caught_up(a, b), what="chained replica")
        p.set("chained", "yes")
        p.incr("counter")
        wait_until(lambda: caught_up(p, a) and caught_up(a, b) and b.get("chained") == b"yes", what="relay")
        assert repl_info(b)["master_repl_offset"] == repl_info(p)["master_repl_offset"]
        assert repl_info(b)["master_replid"] == repl_info(p)["master_replid"]
        assert dataset(b) == dataset(p)


def test_a_stream_read_in_pieces_is_applied_and_relayed_whole():
    """Writes of every size in one pipeline: the stream reaches the replica cut anywhere (a command's
    start waits for its rest); the replica's offset, dataset and the bytes it relays to its own
    replica are the primary's."""
    with servers() as start:
        sp = start("shard")
        p = client(sp)
        sa = _replica_of(start, sp)
        a = client(sa)
        sb = _replica_of(start, sa)
        b = client(sb)
        wait_until(lambda: caught_up(p, a) and caught_up(a, b), what="full syncs")
        pipe = p.pipeline(transaction=False)
        for i in range(3000):
            pipe.set(f"piece:{i}", b"v" * (i * 37 % 70000 if i % 50 == 0 else i % 300))
            pipe.incr("pieces")
        pipe.execute()
        wait_until(lambda: caught_up(p, a) and caught_up(a, b), what="the stream")
        offset = repl_info(p)["master_repl_offset"]
        assert repl_info(a)["master_repl_offset"] == offset and repl_info(b)["master_repl_offset"] == offset
        assert dataset(b) == dataset(a) == dataset(p)


def test_writer_at_full_speed_during_full_sync():
    with servers() as start:
        sp = start("shard")
        p = client(sp)
        pipe = p.pipeline(transaction=False)
        for i in range(50000):
            pipe.set(f"k:{i}", i)
            if i % 5000 == 4999:
                pipe.execute()
        stop = threading.Event()
        written = [0]

        def writer():
            w = client(sp)
            n = 0
            while not stop.is_set() and n < 3_000_000:  # bounded, whatever happens
                pl = w.pipeline(transaction=False)
                for _ in range(100):
                    pl.incr(f"c:{n % 997}")
                    pl.set(f"new:{n}", n)
                    pl.hset("hh", f"f{n % 500}", n)
                    n += 1
                pl.execute()
            written[0] = n
            w.close()

        t = threading.Thread(target=writer)
        t.start()
        try:
            sq = _replica_of(start, sp)
            q = client(sq)
            wait_until(lambda: link_up(q), what="the replica to sync under load")
            wait_until(lambda: q.dbsize() > 50000, what="the stream to bring new keys")
        finally:
            stop.set()
            t.join()
        wait_until(lambda: caught_up(p, q), what="the replica to catch up")
        assert written[0] > 0
        assert q.dbsize() == p.dbsize()
        assert dataset(q) == dataset(p)


def test_wait_min_replicas_and_stale_data():
    with servers() as start:
        sp = start("shard", "--config", "min-replicas-max-lag=10")
        p = client(sp)
        assert p.wait(0, 0) == 0
        t0 = time.monotonic()
        assert p.wait(1, 100) == 0  # no replica: the timeout, then 0 (as Redis)
        assert time.monotonic() - t0 >= 0.09
        p.config_set("min-replicas-to-write", 1)
        with pytest.raises(redis.ResponseError, match="^NOREPLICAS Not enough good replicas to write.$"):
            p.set("x", 1)
        assert p.get("x") is None  # reads are fine
        sq = _replica_of(start, sp, "--config", "replica-serve-stale-data=no")
        q = client(sq)
        wait_until(lambda: caught_up(p, q), what="sync")
        wait_until(lambda: repl_info(p).get("min_slaves_good_slaves") == 1, what="a good replica")
        p.set("x", 1)
        assert p.wait(1, 5000) == 1
        assert p.wait(2, 200) == 1
        with pytest.raises(redis.ResponseError, match="WAIT cannot be used with replica instances"):
            q.wait(1, 10)
        p.config_set("min-replicas-to-write", 0)
        sp.stop()
        wait_until(lambda: not link_up(q), what="link down")
        with pytest.raises(redis.ResponseError, match="^Link with MASTER is down and replica-serve-stale-data is set"):
            q.get("x")
        with pytest.raises(redis.ResponseError, match="^Link with MASTER is down"):
            q.ping()  # PING is not flagged `stale` (as Redis)
        assert repl_info(q)["master_link_status"] == "down"
        q.config_set("replica-serve-stale-data", "yes")
        assert q.get("x") == b"1"
        assert q.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
        q.set("y", 2)  # a primary now: writable


def test_replica_applies_the_stream_to_keys_it_sees_as_expired():
    """The primary's stream sees a key until the primary deletes it, even when the replica's clock
    says it expired (here the replica is held up past the TTL): PERSIST must land."""
    with servers() as start:
        sp = start("shard")
        p = client(sp)
        sq = _replica_of(start, sp)
        q = client(sq)
        wait_until(lambda: caught_up(p, q), what="sync")
        hold = RawConnection(sq.host, sq.port)
        hold.call("PING")
        hold.send(encode_command("DEBUG", "SLEEP", "0.5"))  # sent before the primary's writes
        p.set("k", "v", px=200)
        assert p.persist("k")
        assert hold.read_reply() == b"+OK\r\n"
        hold.close()
        wait_until(lambda: caught_up(p, q), what="the stream")
        assert q.get("k") == b"v"
        assert q.ttl("k") == -1


def test_wait_counts_the_clients_own_writes():
    with servers() as start:
        sp = start("shard")
        p = client(sp)
        sq = _replica_of(start, sp)
        q = client(sq)
        wait_until(lambda: caught_up(p, q), what="sync")
        p.set("a", 1)
        assert p.wait(1, 5000) == 1
        other = client(sp)
        assert other.wait(1, 0) == 1  # nothing written by this client: nothing to wait for
        hold = RawConnection(sq.host, sq.port)
        hold.call("PING")
        hold.send(encode_command("DEBUG", "SLEEP", "1"))  # the replica stops applying for a second
        p.set("held", 1)
        assert p.wait(1, 200) == 0
        assert hold.read_reply() == b"+OK\r\n"
        hold.close()
        assert p.wait(1, 5000) == 1
        tx = p.pipeline(transaction=True)
        tx.set("b", 2)
        tx.incr("c")
        tx.execute()
        assert p.wait(1, 5000) == 1
        assert q.get("b") == b"2" and q.get("c") == b"1"


def test_replica_reconnects_to_a_restarted_primary():
    """The primary process dies and comes back empty on the same port: the replica reconnects by
    itself, finds a new history (full sync) and follows it."""
    with servers() as start:
        sp = start("shard")
        p = client(sp)
        p.set("before", "1")
        sq = _replica_of(start, sp)
        q = client(sq)
        wait_until(lambda: caught_up(p, q), what="sync")
        old_id = repl_info(q)["master_replid"]
        sp.stop()
        wait_until(lambda: not link_up(q), what="link down")
        assert q.get("before") == b"1"  # stale data served meanwhile
        sp2 = start("shard", port=sp.port)
        p2 = client(sp2)
        p2.set("after", "2")
        wait_until(lambda: caught_up(p2, q), what="the replica to follow the new primary")
        assert q.get("before") is None and q.get("after") == b"2"
        assert repl_info(q)["master_replid"] != old_id


def test_replica_loading_serves_loading_and_info():
    """While a replica loads the snapshot (made slow by key-load-delay: 40 keys x 50 ms), its event
    loop serves: INFO shows loading:1 and the loading_* fields, a command without the `loading` flag
    gets -LOADING (PING too, as in Redis), ECHO and MULTI/EXEC of it answer; writes made meanwhile
    follow once the snapshot is in."""
    with servers() as start:
        primary = start("shard")
        p = client(primary)
        for i in range(40):
            p.set(f"k{i}", i)
        replica = _replica_of(start, primary, "--config", "key-load-delay=50000")
        conn = RawConnection(replica.host, replica.port)
        info = wait_until(lambda: (lambda t: t if "\r\nloading:1\r\n" in t else None)(
            conn.call("INFO", "persistence").decode()), what="loading:1")
        fields = dict(line.split(":", 1) for line in info.split("\r\n") if ":" in line)
        assert info.rstrip("\r\n").split("\r\n")[-6].startswith("loading_start_time:")
        assert int(fields["loading_total_bytes"]) > 100
        assert float(fields["loading_loaded_perc"]) == 100.0  # parsed at once; converting keys is slow
        assert conn.call("GET", "k1") == b"-LOADING Redis is loading the dataset in memory\r\n"
        assert conn.call("PING") == b"-LOADING Redis is loading the dataset in memory\r\n"  # no `loading` flag
        assert conn.call("MULTI") == b"+OK\r\n"
        assert conn.call("ECHO", "x") == b"+QUEUED\r\n"
        assert conn.call("EXEC") == b"*1\r\n$1\r\nx\r\n"
        t0 = time.monotonic()
        assert conn.call("ECHO", "y") == b"$1\r\ny\r\n"
        assert time.monotonic() - t0 < 0.5
        assert repl_info(client(replica))["master_sync_in_progress"] == 1
        p.set("during", "1")
        p.incr("k0")
        q = client(replica)
        wait_until(lambda: caught_up(p, q), what="the end of loading")
        assert "\r\nloading:0\r\n" in conn.call("INFO", "persistence").decode()
        assert "loading_start_time" not in conn.call("INFO", "persistence").decode()
        assert q.get("during") == b"1" and q.get("k0") == b"1" and q.dbsize() == 41
        conn.close()


def test_diskless_sync_delay_shares_one_snapshot():
    """repl-diskless-sync-delay: the snapshot waits for more replicas (here, until
    repl-diskless-sync-max-replicas of them wait), then one snapshot serves them all; +FULLRESYNC is
    sent when it starts, so the writes made while they waited are in it."""
    with servers() as start:
        primary = start("shard", "--config", "repl-diskless-sync-delay=60",
                        "--config", "repl-diskless-sync-max-replicas=2")
        p = client(primary)
        p.set("before", "1")
        first = _replica_of(start, primary)
        wait_until(lambda: repl_info(p).get("slave0", {}).get("state") == "wait_bgsave", what="the first replica")
        p.set("while-waiting", "1")
        time.sleep(0.3)
        assert not link_up(client(first))  # still waiting for a second replica
        second = start("redis", "--replicaof", primary.host, str(primary.port))
        q1, q2 = client(first), client(second)
        wait_until(lambda: caught_up(p, q1) and caught_up(p, q2), what="both replicas")
        for q in (q1, q2):
            assert q.get("while-waiting") == b"1" and q.get("before") == b"1"
        assert stats(p)["sync_full"] == 2
        p.set("after", "1")
        wait_until(lambda: caught_up(p, q1) and caught_up(p, q2), what="the stream")
        assert q1.get("after") == b"1" and q2.get("after") == b"1"


def test_diskless_sync_delay_waits():
    with servers() as start:
        primary = start("shard", "--config", "repl-diskless-sync-delay=1")
        p = client(primary)
        p.set("a", "1")
        t0 = time.monotonic()
        q = client(_replica_of(start, primary))
        wait_until(lambda: caught_up(p, q), what="the delayed sync")
        assert time.monotonic() - t0 >= 1.0
        assert q.get("a") == b"1"


def test_replica_discards_a_snapshot_whose_link_dropped_while_loading():
    with servers() as start:
        primary = start("shard")
        p = client(primary)
        for i in range(20):
            p.set(f"k{i}", i)
        replica = _replica_of(start, primary, "--config", "key-load-delay=50000")
        conn = RawConnection(replica.host, replica.port)
        wait_until(lambda: "\r\nloading:1\r\n" in conn.call("INFO", "persistence").decode(), what="loading:1")
        primary.stop()
        wait_until(lambda: "\r\nloading:0\r\n" in conn.call("INFO", "persistence").decode(), what="loading:0")
        assert conn.call("DBSIZE") == b":0\r\n"  # the snapshot of a lost link is not installed
        assert "master_link_status:down" in conn.call("INFO", "replication").decode()
        conn.close()


def test_internal_link_cut_and_tail():
    """The proxy's AMR.LINK OFF|ON cuts a replica's link as a network partition would (kept down, then a
    partial resync), and AMR.TAIL reads back the stream a primary wrote from an offset. Neither exists on
    a shard without a password, nor before AUTH."""
    with servers() as start:
        sp = start("shard", "--requirepass", "pw")
        p = client(sp, password="pw")
        sq = _replica_of(start, sp, "--requirepass", "pw", "--config", "masterauth=pw")
        q = client(sq, password="pw")
        p.set("before", "1")
        wait_until(lambda: caught_up(p, q), what="full sync")

        assert q.execute_command("AMR.LINK", "OFF") == b"OK"
        assert repl_info(q)["master_link_status"] == "down"
        start_offset = repl_info(p)["master_repl_offset"] + 1
        p.set("during", "2")
        p.incr("counter")
        time.sleep(0.3)   # a link that was allowed to come back would have by now (its retry is 0.1 s)
        assert repl_info(q)["master_link_status"] == "down" and q.get("during") is None

        tail = p.execute_command("AMR.TAIL", start_offset)
        from proxy.supervisor import stream_writes
        assert stream_writes(tail) == (2, ["during", "counter"])
        assert p.execute_command("AMR.TAIL", 10**12) is None   # beyond what the backlog holds

        syncs = stats(p)["sync_partial_ok"]
        assert q.execute_command("AMR.LINK", "ON") == b"OK"
        wait_until(lambda: caught_up(p, q), what="the link back")
        assert q.get("during") == b"2" and stats(p)["sync_partial_ok"] == syncs + 1

        anonymous = RawConnection(sq.host, sq.port)
        assert anonymous.call("AMR.LINK", "OFF").startswith(b"-ERR unknown command 'AMR.LINK'")
        plain = start("shard")
        with pytest.raises(redis.ResponseError, match="^unknown command 'AMR.TAIL'"):
            client(plain).execute_command("AMR.TAIL", 1)


def test_a_primary_stopped_by_sigterm_sends_its_last_writes_first():
    """The stream goes to replicas within a millisecond of a write (primary.STREAM_FLUSH_S); a primary
    told to stop writes what it still holds before it closes its replicas' connections. The SIGTERM
    follows the last SET's reply at once, well within that millisecond (no save on shutdown delays it)."""
    with servers() as start:
        sp = start("shard", "--config", "save=")
        p = client(sp)
        sq = _replica_of(start, sp)
        q = client(sq)
        wait_until(lambda: caught_up(p, q), what="sync")
        conn = RawConnection(sp.host, sp.port)
        conn.send(b"".join(encode_command("SET", f"last:{i}", str(i)) for i in range(200)))
        replies = b""
        while len(replies) < 200 * len(b"+OK\r\n"):
            replies += conn.sock.recv(65536)
        sp.proc.terminate()
        assert replies == b"+OK\r\n" * 200
        sp.proc.wait(10)
        conn.close()
        wait_until(lambda: not link_up(q), what="link down")
        assert q.dbsize() == 200
        assert q.get("last:199") == b"199"
