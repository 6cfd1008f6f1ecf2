"""Replication between a shard and a real redis-server, both ways: full sync of every type, the
stream, a dropped link resynchronised partially (+CONTINUE, counted in the primary's sync_partial_ok),
and the shape of ROLE / INFO replication compared with a real redis pair."""
from __future__ import annotations

import pytest

from tests.servers import RawConnection

from tests.replication.support import (caught_up, client, dataset, fill_every_type, link_up, repl_info, servers,
                                       stats, wait_until)

FAST_REDIS = ("--repl-diskless-sync-delay", "0")


def _writes(r, tag: str) -> None:
    r.set(f"w:{tag}", tag)
    r.incrbyfloat(f"f:{tag}", 1.25)
    r.set(f"ex:{tag}", "v", ex=500)
    r.expire("s:1", 900)
    r.lpush("l:3", "new")
    r.hincrby("h:2", "n", 5)
    r.srem("set:4", "m0")
    r.zincrby("z:5", 2, "m1")
    r.delete("s:0")
    p = r.pipeline(transaction=True)
    p.set(f"tx1:{tag}", 1)
    p.incr(f"tx2:{tag}")
    p.execute()
    r.spop("set:6")
    r.getex("s:2", px=123456)


def _drop_links(p, q, replica: str) -> None:
    """The replica `q` drops its link to the primary `p`, then `p` drops it: each time the replica
    resynchronises partially (counted in p's sync_partial_ok) and has p's data."""
    q.execute_command("CLIENT", "KILL", "TYPE", "master")
    _writes(p, "b")
    wait_until(lambda: caught_up(p, q), what=f"{replica} to resync")
    assert stats(p)["sync_partial_ok"] == 1
    assert stats(p)["sync_full"] == 1
    assert dataset(q) == dataset(p)

    p.execute_command("CLIENT", "KILL", "TYPE", "replica")
    _writes(p, "c")
    wait_until(lambda: stats(p)["sync_partial_ok"] == 2, what="the second partial resync")
    wait_until(lambda: caught_up(p, q), what=f"{replica} to catch up")
    assert dataset(q) == dataset(p)


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_redis_replica_of_shard(diskless):
    with servers() as start:
        shard = start("shard", "--config", f"repl-diskless-sync={diskless}")
        p = client(shard)
        fill_every_type(p)
        real = start("redis", "--replicaof", shard.host, str(shard.port))
        q = client(real)
        wait_until(lambda: caught_up(p, q), what="redis to sync from the shard")
        assert dataset(q) == dataset(p)
        assert stats(p)["sync_full"] == 1

        _writes(p, "a")
        wait_until(lambda: caught_up(p, q), what="the stream")
        assert dataset(q) == dataset(p)

        # the link drops (redis kills its master client): redis continues from the backlog; then
        # dropped from the shard's side
        _drop_links(p, q, "redis")
        assert p.wait(1, 5000) == 1


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_shard_replica_of_redis(diskless):
    with servers() as start:
        real = start("redis", "--repl-diskless-sync", diskless, *FAST_REDIS)
        p = client(real)
        fill_every_type(p)
        shard = start("shard", "--config", f"replicaof={real.host} {real.port}")
        q = client(shard)
        wait_until(lambda: caught_up(p, q), what="the shard to sync from redis")
        assert dataset(q) == dataset(p)

        _writes(p, "a")
        wait_until(lambda: caught_up(p, q), what="the stream")
        assert dataset(q) == dataset(p)
        assert p.wait(1, 5000) == 1  # the shard answers REPLCONF GETACK

        _drop_links(p, q, "the shard")
        with pytest.raises(Exception, match="You can't write against a read only replica."):
            q.set("x", 1)


def _shape(info: dict) -> list:
    return [k if not k.startswith("slave") or not k[5:].isdigit() else "slaveN" for k in info]


def _role_shape(role) -> list:
    return [type(x).__name__ if not isinstance(x, list) else [_role_shape(y) for y in x] for x in role]


def test_role_and_info_replication_shapes():
    """The same fields, in the same order, and ROLE's types, as a real redis primary and replica."""
    with servers() as start:
        rp = start("redis", *FAST_REDIS)
        rq = start("redis", "--replicaof", rp.host, str(rp.port))
        sp = start("shard")
        sq = start("shard", "--config", f"replicaof={sp.host} {sp.port}")
        rpc, rqc, spc, sqc = client(rp), client(rq), client(sp), client(sq)
        wait_until(lambda: link_up(rqc) and link_up(sqc), what="both pairs to link")
        wait_until(lambda: repl_info(rpc).get("slave0", {}).get("state") == "online"
                   and repl_info(spc).get("slave0", {}).get("state") == "online", what="replicas online")
        for ours, theirs in ((spc, rpc), (sqc, rqc)):
            assert _shape(repl_info(ours)) == _shape(repl_info(theirs))
            assert _role_shape(ours.execute_command("ROLE")) == _role_shape(theirs.execute_command("ROLE"))
        conn = RawConnection(sp.host, sp.port)
        info = conn.call("INFO", "replication")
        conn.close()
        assert info.split(b"\r\n", 1)[1].startswith(b"# Replication\r\nrole:master\r\nconnected_slaves:1\r\nslave0:ip=127.0.0.1,port=")
        role = sqc.execute_command("ROLE")
        assert role[:4] == [b"slave", b"127.0.0.1", sp.port, b"connected"]
        # a replica whose primary is gone: link down, the fields of a broken link
        spc.execute_command("CONFIG", "SET", "min-replicas-to-write", "1")
        rpc.execute_command("CONFIG", "SET", "min-replicas-to-write", "1")
        assert _shape(repl_info(spc)) == _shape(repl_info(rpc))
        sp.stop()
        rp.stop()
        wait_until(lambda: not link_up(sqc) and not link_up(rqc), what="links down")
        assert _shape(repl_info(sqc)) == _shape(repl_info(rqc))
        assert sqc.execute_command("ROLE")[3] in (b"connect", b"connecting")


def test_masterauth_both_ways():
    """A password-protected primary: the replica AUTHs with masterauth (and masteruser)."""
    with servers() as start:
        shard = start("shard", "--requirepass", "s3cret")
        real = start("redis", "--masterauth", "s3cret", "--replicaof", shard.host, str(shard.port))
        p = client(shard, password="s3cret")
        q = client(real)
        p.set("a", "1")
        wait_until(lambda: caught_up(p, q), what="redis to sync with AUTH")
        assert q.get("a") == b"1"

        real2 = start("redis", "--requirepass", "pw2", *FAST_REDIS)
        p2 = client(real2, password="pw2")
        p2.set("b", "2")
        for auth in (("--config", "masterauth=pw2"), ("--config", "masterauth=pw2", "--config", "masteruser=default")):
            sq = start("shard", *auth, "--config", f"replicaof={real2.host} {real2.port}")
            q2 = client(sq)
            wait_until(lambda: caught_up(p2, q2), what="the shard to sync with AUTH")
            assert q2.get("b") == b"2"
        bad = start("shard", "--config", "masterauth=wrong", "--config", f"replicaof={real2.host} {real2.port}")
        qb = client(bad)
        wait_until(lambda: "errorstat_WRONGPASS" in p2.info("errorstats"), what="a refused AUTH")
        assert not link_up(qb)
        assert qb.execute_command("ROLE")[3] != b"connected"


@pytest.mark.parametrize("serve_stale", ["yes", "no"])
def test_stale_data_during_a_slow_full_sync(serve_stale):
    """While the snapshot arrives (redis-server made slow by rdb-key-save-delay), the replica serves
    its old data or answers MASTERDOWN, as replica-serve-stale-data says."""
    with servers() as start:
        real = start("redis", *FAST_REDIS, "--rdb-key-save-delay", "100000")  # 0.1 s per key
        p = client(real)
        for i in range(20):
            p.set(f"new:{i}", i)
        shard = start("shard", "--config", f"replica-serve-stale-data={serve_stale}")
        q = client(shard)
        q.set("old", "1")
        assert q.execute_command("REPLICAOF", real.host, str(real.port)) == b"OK"
        info = wait_until(lambda: (lambda i: i if i.get("master_sync_in_progress") == 1 else None)(repl_info(q)),
                          what="the transfer")
        assert info["master_link_status"] == "down"
        assert q.execute_command("ROLE")[3] == b"sync"
        if serve_stale == "yes":
            assert q.get("old") == b"1"
        else:
            with pytest.raises(Exception, match="^Link with MASTER is down and replica-serve-stale-data is set"):
                q.get("old")
        wait_until(lambda: link_up(q), timeout=30, what="the end of the slow sync")
        assert q.get("old") is None
        assert q.dbsize() == 20


def _stream_full(r, key: str, drop_74: bool) -> list:
    """XINFO STREAM FULL with the consumers' seen-time and active-time masked (a replica sets them
    when it applies the effects); delivery times travel (XCLAIM ... TIME). With drop_74, active-time
    is left out (7.0.15 differs: a 7.2+ field)."""
    info = r.execute_command("XINFO", "STREAM", key, "FULL")
    for g in info[info.index(b"groups") + 1]:
        consumers = g[g.index(b"consumers") + 1]
        for k, c in enumerate(consumers):
            out = []
            i = 0
            while i < len(c):
                name = c[i]
                if name == b"active-time" and drop_74:
                    pass
                elif name in (b"seen-time", b"active-time"):
                    out += [name, "T"]
                else:
                    out += [name, c[i + 1]]
                i += 2
            consumers[k] = out
    return info


def _stream_writes(r, key: str, start: int, n: int) -> None:
    for i in range(start, start + n):
        extra = ["g", "x" * (i % 13 * 40)] if i % 4 else []
        r.execute_command("XADD", key, f"{1000 + i // 3}-{i % 3}", "f", i, *extra)


@pytest.mark.parametrize("replica_kind", ["redis", "shard"])
def test_replica_of_shard_converges_on_streams_with_groups(replica_kind):
    """Streams with deletions, groups, PELs and claims: full sync from the shard's snapshot (nodes as
    the shard had them), then XADD / XREADGROUP / XACK / XCLAIM / XDEL / XTRIM on the stream."""
    with servers() as start:
        shard = start("shard")
        p = client(shard)
        for key in ("s1", "s2"):
            _stream_writes(p, key, 1, 250)
            p.execute_command("XDEL", key, "1002-0", "1040-1", "1041-0", "1041-1", "1041-2")
            p.execute_command("XGROUP", "CREATE", key, "g1", "0")
            p.execute_command("XGROUP", "CREATE", key, "g2", "$", "ENTRIESREAD", "3")
            p.execute_command("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", key, ">")
            p.execute_command("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", key, ">")
            p.execute_command("XCLAIM", key, "g1", "bob", "0", "1000-1", "RETRYCOUNT", "4")
            p.execute_command("XACK", key, "g1", "1000-2")
            p.execute_command("XGROUP", "CREATECONSUMER", key, "g2", "carol")
        p.execute_command("XTRIM", "s2", "MAXLEN", "200")
        if replica_kind == "redis":
            real = start("redis", "--replicaof", shard.host, str(shard.port))
        else:
            real = start("shard", "--config", f"replicaof={shard.host} {shard.port}")
        q = client(real)
        drop = replica_kind == "redis"
        wait_until(lambda: caught_up(p, q), what="the replica to sync from the shard")
        for key in ("s1", "s2"):
            assert _stream_full(q, key, drop) == _stream_full(p, key, drop)

        for key in ("s1", "s2"):
            _stream_writes(p, key, 251, 120)
            got = p.execute_command("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "4", "STREAMS", key, ">")
            p.execute_command("XREADGROUP", "GROUP", "g2", "carol", "COUNT", "2", "STREAMS", key, ">")
            p.execute_command("XACK", key, "g1", "1001-0", "1001-1")
            # (a claim that claims nothing creates its consumer on the primary only, as in Redis:
            # XCLAIM propagates only what it claims)
            p.execute_command("XCLAIM", key, "g1", "dave", "0", got[0][1][0][0], got[0][1][2][0])
            p.execute_command("XAUTOCLAIM", key, "g2", "erin", "0", "0", "COUNT", "1")
            p.execute_command("XDEL", key, "1090-0")
            p.execute_command("XTRIM", key, "MAXLEN", "~", "250")
        wait_until(lambda: caught_up(p, q), what="the replica to apply the stream")
        for key in ("s1", "s2"):
            assert _stream_full(q, key, drop) == _stream_full(p, key, drop)
            assert q.xrange(key) == p.xrange(key)


@pytest.mark.parametrize("kinds", [("shard", "redis"), ("redis", "shard"), ("shard", "shard")])
def test_repl_traffic_counters(kinds):
    """INFO stats total_net_repl_output_bytes of a primary equals its replica's
    total_net_repl_input_bytes (snapshot with its header, then the stream; not the handshake)."""
    with servers() as start:
        primary = start(kinds[0], *(FAST_REDIS if kinds[0] == "redis" else ()))
        p = client(primary)
        fill_every_type(p, n=5)
        replica = start(kinds[1])
        q = client(replica)
        assert stats(q)["total_net_repl_input_bytes"] == 0
        assert q.execute_command("REPLICAOF", primary.host, str(primary.port)) == b"OK"
        wait_until(lambda: caught_up(p, q), what="the full sync")
        _writes(p, "a")
        wait_until(lambda: caught_up(p, q), what="the stream")
        sent = stats(p)["total_net_repl_output_bytes"]
        assert sent > 1000
        assert stats(q)["total_net_repl_input_bytes"] == sent
        assert stats(p)["total_net_repl_input_bytes"] == 0
        q.execute_command("CONFIG", "RESETSTAT")
        assert stats(q)["total_net_repl_input_bytes"] == 0
