"""RDB files between a shard and a real redis-server.

A real redis-server, configured so that every encoding it writes appears (small and large lists,
sets, sorted sets, hashes; int, LZF and raw strings; plain quicklist nodes; streams with groups,
consumers and pending entries; a function library; expiries; several databases), SAVEs a corpus.
A shard started on that file (`--config dir= --config dbfilename=`) must hold the same data; the
shard's own SAVE must load into a fresh redis-server with the same data again.
"""
import os
import time

import pytest

from amr_emulator.protocol.rdb import read_rdb
from amr_emulator.protocol.resp import decode_reply
from tests.servers import RawConnection, redis_server_path, start_redis, start_shard

pytestmark = pytest.mark.skipif(redis_server_path() is None, reason="redis-server is not installed")

LIBRARY = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)"
FAR_MS = 4102444800123


def value(conn, *args):
    v, _ = decode_reply(conn.call(*args))
    return v


def fill(conn) -> None:
    """Every type and encoding a Redis 7.0 writes."""
    call = conn.call
    call("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "200")  # elements over 200 bytes get PLAIN nodes
    call("SET", "str:small", "hello")
    call("SET", "str:int", "12345")
    call("SET", "str:negint", "-9000000000")
    call("SET", "str:lzf", "abcdefgh" * 200)
    call("SET", "str:raw", os.urandom(300))
    call("SET", "str:empty", "")
    call("RPUSH", "list:small", "a", "1", "b")
    call("RPUSH", "list:nodes", *["item-%d" % i for i in range(50)])  # list-max-listpack-size 4: many nodes
    call("RPUSH", "list:plain", "x" * 500, "small", "y" * 1000)
    call("SADD", "set:intset", "1", "-2", "300000", "5000000000")
    call("SADD", "set:strings", "a", "b", "c")
    call("SADD", "set:bigints", *[str(i) for i in range(40)])  # beyond set-max-intset-entries
    call("ZADD", "zset:small", "1", "a", "2.5", "b", "-inf", "c")
    call("ZADD", "zset:big", *[x for i in range(40) for x in (str(i / 3), "m%d" % i)])
    call("ZADD", "zset:longmember", "1", "z" * 100)
    call("HSET", "hash:small", "f", "v", "n", "10")
    call("HSET", "hash:big", *[x for i in range(40) for x in ("f%d" % i, "v%d" % i)])
    call("HSET", "hash:longvalue", "f", "v" * 100)
    for i in range(1, 120):
        call("XADD", "stream", "%d-%d" % (1000 + i // 4, i % 4), "temp", str(i), *(["extra", "e"] if i % 7 == 0 else []))
    call("XDEL", "stream", "1001-0")
    call("XGROUP", "CREATE", "stream", "readers", "0")
    call("XGROUP", "CREATE", "stream", "late", "$")
    call("XREADGROUP", "GROUP", "readers", "alice", "COUNT", "4", "STREAMS", "stream", ">")
    call("XREADGROUP", "GROUP", "readers", "bob", "COUNT", "2", "STREAMS", "stream", ">")
    call("XACK", "stream", "readers", "1000-1")
    call("XADD", "stream:empty", "1-1", "f", "v")
    call("XDEL", "stream:empty", "1-1")
    call("FUNCTION", "LOAD", LIBRARY)
    call("SET", "ttl:far", "v", "PXAT", str(FAR_MS))
    call("HSET", "ttl:hash", "f", "v")
    call("PEXPIREAT", "ttl:hash", str(FAR_MS + 1))
    call("SET", "ttl:soon", "v", "PX", "300")  # expired by the time the shard loads
    call("SELECT", "3")
    call("SET", "db3:key", "in db 3")
    call("RPUSH", "db3:list", "x")
    call("SELECT", "0")


def snapshot(conn, streams=True) -> dict:
    """Everything observable: per database, per key, its type, contents and expiry."""
    out = {}
    for db in range(16):
        conn.call("SELECT", str(db))
        for key in sorted(value(conn, "KEYS", "*")):
            t = value(conn, "TYPE", key)
            if t == "string":
                c = value(conn, "GET", key)
            elif t == "list":
                c = value(conn, "LRANGE", key, "0", "-1")
            elif t == "set":
                c = sorted(value(conn, "SMEMBERS", key))
            elif t == "hash":
                c = sorted(value(conn, "HGETALL", key))
            elif t == "zset":
                # scores as numbers: 7.0.15 differs (it formats doubles with %.17g, 7.4 the shortest form)
                c = value(conn, "ZRANGE", key, "0", "-1", "WITHSCORES")
                c = [(m, float(sc)) for m, sc in zip(c[0::2], c[1::2])]
            elif t == "stream" and streams:
                c = conn.call("XINFO", "STREAM", key, "FULL")
            else:
                c = None
            out[(db, key)] = (t, c, value(conn, "PEXPIRETIME", key))
    conn.call("SELECT", "0")
    return out


@pytest.fixture
def corpus(tmp_path):
    """A redis-server's dump of the corpus: (path of the file, snapshot of the server)."""
    d = tmp_path / "redis"
    d.mkdir()
    real = start_redis("--dir", str(d), "--dbfilename", "corpus.rdb", "--enable-debug-command", "yes",
                       "--list-max-listpack-size", "4", "--set-max-intset-entries", "16",
                       "--zset-max-listpack-entries", "16", "--hash-max-listpack-entries", "16")
    try:
        conn = RawConnection(real.host, real.port)
        fill(conn)
        assert conn.call("SAVE") == b"+OK\r\n"
        snap = snapshot(conn)
        functions = conn.call("FUNCTION", "LIST", "WITHCODE")
        encodings = {key: value(conn, "OBJECT", "ENCODING", key) for (db, key) in snap if db == 0}
        conn.close()
    finally:
        real.stop()
    return str(d / "corpus.rdb"), snap, functions, encodings


def test_corpus_has_every_encoding(corpus):
    _, _, _, encodings = corpus
    assert encodings[b"set:intset"] == b"intset" and encodings[b"set:bigints"] == b"hashtable"
    assert encodings[b"zset:small"] == b"listpack" and encodings[b"zset:big"] == b"skiplist"
    assert encodings[b"hash:small"] == b"listpack" and encodings[b"hash:big"] == b"hashtable"
    assert encodings[b"str:int"] == b"int" and encodings[b"str:lzf"] == b"raw"
    data = open(corpus[0], "rb").read()
    assert data[:9] == b"REDIS0010"
    parsed = read_rdb(data)
    assert parsed.functions == [LIBRARY.encode()]
    assert parsed.aux[b"redis-ver"].startswith(b"7.")


def test_shard_loads_redis_file_and_redis_loads_shard_file(corpus, tmp_path):
    path, snap, functions, _ = corpus
    time.sleep(0.35)  # let ttl:soon expire (it was set to 300 ms before SAVE)
    shard = start_shard("--config", "dir=" + os.path.dirname(path), "--config", "dbfilename=corpus.rdb",
                        "--config", "enable-protected-configs=yes")
    try:
        conn = RawConnection(shard.host, shard.port)
        ours = snapshot(conn, streams=False)
        expected = {k: (t, c if t != "stream" else None, e) for k, (t, c, e) in snap.items() if k[1] != b"ttl:soon"}
        assert ours == expected
        info = conn.call("INFO", "persistence").decode()
        assert "rdb_last_load_keys_expired:1\r\n" in info
        assert "rdb_last_load_keys_loaded:%d\r\n" % len(expected) in info
        # the shard's own SAVE, into another directory
        out = tmp_path / "shard-save"
        out.mkdir()
        assert conn.call("CONFIG", "SET", "dir", str(out)) == b"+OK\r\n"
        assert conn.call("CONFIG", "SET", "dbfilename", "mine.rdb") == b"+OK\r\n"
        before = value(conn, "LASTSAVE")
        assert conn.call("SAVE") == b"+OK\r\n"
        assert value(conn, "LASTSAVE") >= before
        assert "rdb_changes_since_last_save:0\r\n" in conn.call("INFO", "persistence").decode()
        conn.close()
    finally:
        shard.stop()
    assert read_rdb(open(out / "mine.rdb", "rb").read()).aux[b"redis-ver"] == b"7.4.0"
    real = start_redis("--dir", str(out), "--dbfilename", "mine.rdb")
    try:
        conn = RawConnection(real.host, real.port)
        assert snapshot(conn) == {k: v for k, v in snap.items() if k[1] != b"ttl:soon"}
        assert conn.call("FUNCTION", "LIST", "WITHCODE") == functions
        assert conn.call("FCALL", "myfunc", "0", "hi") == b"$2\r\nhi\r\n"
        conn.close()
    finally:
        real.stop()


def test_startup_with_a_corrupt_file_fails_clearly(tmp_path):
    (tmp_path / "bad.rdb").write_bytes(b"REDIS0010\xfe\x00\x00\x05ab")
    with pytest.raises(RuntimeError, match="cannot load the RDB file: unexpected end of data"):
        start_shard("--config", "dir=" + str(tmp_path), "--config", "dbfilename=bad.rdb")


def test_startup_without_a_file_starts_empty(tmp_path):
    shard = start_shard("--config", "dir=" + str(tmp_path), "--config", "dbfilename=none.rdb")
    try:
        conn = RawConnection(shard.host, shard.port)
        assert conn.call("DBSIZE") == b":0\r\n"
        conn.close()
    finally:
        shard.stop()


def _wait(conn, field: str, want: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = conn.call("INFO", "persistence").decode()
        if "%s:%s\r\n" % (field, want) in info:
            return info
        time.sleep(0.02)
    raise AssertionError("%s never became %s" % (field, want))


def test_bgsave_keeps_serving(tmp_path):
    shard = start_shard("--config", "dir=" + str(tmp_path), "--config", "dbfilename=bg.rdb")
    try:
        conn = RawConnection(shard.host, shard.port)
        n = 40_000
        for start in range(0, n, 10_000):
            args = []
            for i in range(start, start + 10_000):
                args += ["key:%d" % i, "value-%d" % i + "x" * 100]
            conn.call("MSET", *args)
        conn.call("RPUSH", "list", "a", "b")
        lastsave = value(conn, "LASTSAVE")
        assert conn.call("BGSAVE") == b"+Background saving started\r\n"
        # the shard serves while the child writes
        assert conn.call("SET", "during", "1") == b"+OK\r\n"
        assert conn.call("GET", "key:5") == b"$107\r\nvalue-5" + b"x" * 100 + b"\r\n"
        info = conn.call("INFO", "persistence").decode()
        if "rdb_bgsave_in_progress:1" in info:
            assert conn.call("BGSAVE") == b"-ERR Background save already in progress\r\n"
            assert conn.call("SAVE") == b"-ERR Background save already in progress\r\n"
        info = _wait(conn, "rdb_bgsave_in_progress", "0")
        assert "rdb_last_bgsave_status:ok\r\n" in info
        assert "rdb_changes_since_last_save:1\r\n" in info  # the SET made while saving
        assert value(conn, "LASTSAVE") >= lastsave
        assert conn.call("BGSAVE", "SCHEDULE", "x") == b"-ERR syntax error\r\n"
        conn.call("MULTI")
        conn.call("BGSAVE")
        assert conn.call("EXEC") == b"*1\r\n+Background saving scheduled\r\n"
        _wait(conn, "rdb_saves", "2")
        _wait(conn, "rdb_bgsave_in_progress", "0")
        parsed = read_rdb((tmp_path / "bg.rdb").read_bytes())
        assert len(parsed.dbs[0].data) == n + 2  # both saves done: "during" is in the second
        # FLUSHALL stops a running BGSAVE (its snapshot is obsolete): not an error, no file left
        assert conn.call("BGSAVE") == b"+Background saving started\r\n"
        assert conn.call("FLUSHALL") == b"+OK\r\n"
        info = _wait(conn, "rdb_bgsave_in_progress", "0")
        assert "rdb_last_bgsave_status:ok\r\n" in info
        conn.close()
    finally:
        shard.stop()
    assert not [f for f in os.listdir(tmp_path) if f.startswith("temp-")]


def test_debug_reload(tmp_path):
    shard = start_shard("--config", "dir=" + str(tmp_path), "--config", "dbfilename=r.rdb",
                        "--config", "enable-debug-command=yes")
    try:
        conn = RawConnection(shard.host, shard.port)
        conn.call("SET", "a", "1", "PXAT", str(FAR_MS))
        conn.call("ZADD", "z", "1", "m")
        assert conn.call("DEBUG", "RELOAD") == b"+OK\r\n"
        assert conn.call("GET", "a") == b"$1\r\n1\r\n"
        assert value(conn, "PEXPIRETIME", "a") == FAR_MS
        conn.call("SET", "b", "2")
        assert conn.call("DEBUG", "RELOAD", "NOSAVE") == b"+OK\r\n"
        assert conn.call("EXISTS", "b") == b":0\r\n"
        conn.call("SET", "c", "3")
        assert conn.call("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") == b"+OK\r\n"
        assert conn.call("MGET", "a", "c") == b"*2\r\n$1\r\n1\r\n$1\r\n3\r\n"
        assert conn.call("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH") == \
            b"-ERR Error trying to load the RDB dump, check server logs.\r\n"
        assert conn.call("DEBUG", "RELOAD", "BOGUS") == \
            b"-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n"
        conn.close()
    finally:
        shard.stop()


def test_save_points_and_save_on_shutdown(tmp_path):
    shard = start_shard("--config", "dir=" + str(tmp_path), "--config", "dbfilename=auto.rdb",
                        "--config", "save=1 2 3600 1")
    try:
        conn = RawConnection(shard.host, shard.port)
        assert conn.call("CONFIG", "GET", "save") == b"*2\r\n$4\r\nsave\r\n$10\r\n1 2 3600 1\r\n"
        conn.call("SET", "a", "1")
        conn.call("SET", "b", "2")
        _wait(conn, "rdb_saves", "1", timeout=10)  # 2 changes, more than 1 s after the start
        _wait(conn, "rdb_bgsave_in_progress", "0")
        assert read_rdb((tmp_path / "auto.rdb").read_bytes()).dbs[0].data == {b"a": b"1", b"b": b"2"}
        conn.call("FLUSHALL")  # with save points set, FLUSHALL saves the empty dataset
        assert read_rdb((tmp_path / "auto.rdb").read_bytes()).dbs == {}
        assert "rdb_changes_since_last_save:0\r\n" in conn.call("INFO", "persistence").decode()
        conn.call("SET", "c", "3")  # one change: only the 3600 s point applies, not reached
        conn.close()
    finally:
        shard.stop()  # SIGTERM: with save points configured, a last SAVE
    assert set(read_rdb((tmp_path / "auto.rdb").read_bytes()).dbs[0].data) == {b"c"}
