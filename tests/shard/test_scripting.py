"""Long scripts (BUSY, SCRIPT KILL, FUNCTION KILL), and applications that use Lua through redis-py."""
import time

import pytest
import redis

from amr_emulator.protocol.resp import encode_command
from tests.servers import RawConnection, start_shard

LOOP = "while true do end"


@pytest.fixture(scope="module")
def busy_shard():
    proc = start_shard("--config", "busy-reply-threshold=100")
    yield proc
    proc.stop()


def _connected(shard):
    """A connection the server has accepted (connections opened during a busy script wait in the backlog)."""
    conn = RawConnection(shard.host, shard.port)
    assert conn.call("PING") == b"+PONG\r\n"
    return conn


def _wait_busy(conn) -> bytes:
    """PING until the server answers BUSY (the script passed busy-reply-threshold)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        reply = conn.call("PING")
        if reply.startswith(b"-BUSY"):
            return reply
    raise AssertionError("never BUSY")


def test_script_kill(busy_shard):
    runner = _connected(busy_shard)
    other = _connected(busy_shard)
    try:
        assert other.call("SCRIPT", "KILL") == b"-NOTBUSY No scripts in execution right now.\r\n"
        runner.send(encode_command("EVAL", LOOP, "0"))
        assert _wait_busy(other) == (b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
                                     b"SHUTDOWN NOSAVE.\r\n")
        assert other.call("GET", "x").startswith(b"-BUSY")
        assert other.call("FUNCTION", "KILL").startswith(b"-BUSY Redis is busy running a script. You can only "
                                                          b"call SCRIPT KILL")
        assert other.call("FUNCTION", "STATS").startswith(b"-BUSY")
        assert other.call("SCRIPT", "KILL") == b"+OK\r\n"
        sha = other.call("SCRIPT", "LOAD", LOOP)  # served again once the script is gone
        assert runner.read_reply() == (b"-ERR Script killed by user with SCRIPT KILL... script: "
                                       + sha.split(b"\r\n")[1] + b", on @user_script:1.\r\n")
        assert other.call("PING") == b"+PONG\r\n"
        assert runner.call("PING") == b"+PONG\r\n"
    finally:
        runner.close()
        other.close()


def test_new_connection_during_busy_script(busy_shard):
    """As `redis-cli SCRIPT KILL`: a connection opened while the script runs is accepted and served
    (BUSY, HELLO, SCRIPT KILL), then carries on, with its state, on the event loop."""
    runner = _connected(busy_shard)
    other = _connected(busy_shard)
    try:
        runner.send(encode_command("EVAL", LOOP, "0"))
        _wait_busy(other)
        fresh = RawConnection(busy_shard.host, busy_shard.port)
        try:
            assert fresh.call("HELLO", "3").startswith(b"%7\r\n")
            assert fresh.call("GET", "x").startswith(b"-BUSY")
            killer = redis.Redis(busy_shard.host, busy_shard.port)
            assert killer.script_kill()
            killer.close()
            assert runner.read_reply().startswith(b"-ERR Script killed by user with SCRIPT KILL...")
            assert fresh.call("SET", "x", "1") == b"+OK\r\n"
            assert fresh.call("HGETALL", "nohash") == b"%0\r\n"  # still RESP3
        finally:
            fresh.close()
    finally:
        runner.close()
        other.close()


def test_kill_cannot_be_caught_by_pcall(busy_shard):
    runner = _connected(busy_shard)
    other = _connected(busy_shard)
    try:
        runner.send(encode_command("EVAL", "while true do pcall(function() while true do end end) end", "0"))
        _wait_busy(other)
        assert other.call("SCRIPT", "KILL") == b"+OK\r\n"
        assert runner.read_reply().startswith(b"-ERR Script killed by user with SCRIPT KILL...")
    finally:
        runner.close()
        other.close()


def test_unkillable_after_a_write(busy_shard):
    runner = _connected(busy_shard)
    other = _connected(busy_shard)
    try:
        runner.send(encode_command("EVAL", "redis.call('set', 'w', '1'); local t = os.clock() "
                                           "while os.clock() - t < 0.6 do end; return 'done'", "0"))
        _wait_busy(other)
        assert other.call("SCRIPT", "KILL") == (
            b"-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either "
            b"wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n")
        assert runner.read_reply() == b"$4\r\ndone\r\n"
        assert other.call("GET", "w") == b"$1\r\n1\r\n"
    finally:
        runner.close()
        other.close()


def test_function_kill_and_stats(busy_shard):
    runner = _connected(busy_shard)
    other = _connected(busy_shard)
    try:
        other.call("FUNCTION", "FLUSH")
        assert other.call("FUNCTION", "LOAD", "#!lua name=spin\nredis.register_function{function_name='spin', "
                          "callback=function() while true do end end, flags={'no-writes'}}") == b"$4\r\nspin\r\n"
        runner.send(encode_command("FCALL", "spin", "0"))
        assert _wait_busy(other) == (b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                                     b"SHUTDOWN NOSAVE.\r\n")
        stats = other.call("FUNCTION", "STATS")
        assert stats.startswith(b"*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nspin\r\n$7\r\ncommand\r\n"
                                b"*3\r\n$5\r\nFCALL\r\n$4\r\nspin\r\n$1\r\n0\r\n$11\r\nduration_ms\r\n:")
        assert other.call("SCRIPT", "KILL").startswith(b"-BUSY Redis is busy running a script. You can only call "
                                                       b"FUNCTION KILL")
        assert other.call("FUNCTION", "KILL") == b"+OK\r\n"
        assert runner.read_reply() == (b"-ERR Script killed by user with SCRIPT KILL... script: spin, "
                                       b"on @user_function:2.\r\n")
        other.call("FUNCTION", "FLUSH")
    finally:
        runner.close()
        other.close()


def test_function_load_timeout(busy_shard):
    conn = _connected(busy_shard)
    try:
        assert conn.call("FUNCTION", "LOAD", "#!lua name=slow\nwhile true do end") == (
            b"-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n")
    finally:
        conn.close()


# --- applications through redis-py ------------------------------------------------------------------
TOKEN_BUCKET = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local requested = tonumber(ARGV[4])
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - ts) * rate)
local allowed = 0
if tokens >= requested then
  tokens = tokens - requested
  allowed = 1
end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', key, math.ceil(capacity / rate * 1000))
return {allowed, tostring(tokens)}
"""


def test_token_bucket_rate_limiter(r):
    limiter = r.register_script(TOKEN_BUCKET)
    now = 1000.0
    results = [limiter(keys=["rl:user1"], args=[1, 5, now, 1])[0] for _ in range(7)]
    assert results == [1, 1, 1, 1, 1, 0, 0]
    # two seconds later two tokens are back
    assert limiter(keys=["rl:user1"], args=[1, 5, now + 2, 1]) == [1, b"1"]
    assert limiter(keys=["rl:user1"], args=[1, 5, now + 2, 1]) == [1, b"0"]
    assert limiter(keys=["rl:user1"], args=[1, 5, now + 2, 1]) == [0, b"0"]
    assert 0 < r.pttl("rl:user1") <= 5000
    # EVALSHA after SCRIPT FLUSH: redis-py reloads on NOSCRIPT
    r.script_flush()
    assert limiter(keys=["rl:user2"], args=[1, 5, now, 5]) == [1, b"0"]


def test_redis_py_lock(r):
    lock = r.lock("resource", timeout=5)
    assert lock.acquire(blocking=False)
    other = r.lock("resource", timeout=5)
    assert not other.acquire(blocking=False)
    assert lock.extend(5)
    assert 5000 < r.pttl("resource") <= 10000
    assert lock.reacquire()
    lock.release()  # LUA_RELEASE_SCRIPT: compare-and-delete
    assert r.get("resource") is None
    assert other.acquire(blocking=False)
    r.set("resource", "someone-else")  # the release script refuses a token it does not own
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        other.release()


def test_lock_with_resp3(r3):
    with r3.lock("res3", timeout=2, blocking_timeout=1):
        assert r3.get("res3") is not None
    assert r3.get("res3") is None


def test_fcall_through_redis_py(r):
    r.function_flush()
    r.function_load("#!lua name=counters\n"
                    "redis.register_function('bump', function(keys, args) "
                    "return redis.call('INCRBY', keys[1], args[1]) end)")
    assert r.fcall("bump", 1, "c", 5) == 5
    assert r.fcall("bump", 1, "c", 2) == 7
    r.function_flush()


# --- effects on other clients ----------------------------------------------------------------------
def test_script_wakes_blocked_client(shard, r):
    blocker = RawConnection(shard.host, shard.port)
    try:
        blocker.send(encode_command("BLPOP", "jobs", "5"))
        deadline = time.monotonic() + 5
        while r.info("clients")["blocked_clients"] < 1 and time.monotonic() < deadline:
            pass
        assert r.eval("redis.call('rpush', KEYS[1], 'a', 'b'); return redis.call('llen', KEYS[1])", 1, "jobs") == 2
        assert blocker.read_reply() == b"*2\r\n$4\r\njobs\r\n$1\r\na\r\n"
        assert r.lrange("jobs", 0, -1) == [b"b"]
    finally:
        blocker.close()


def test_script_write_breaks_watch(shard, r):
    watcher = redis.Redis(shard.host, shard.port)
    try:
        with watcher.pipeline() as p:
            p.watch("w")
            r.eval("return redis.call('set', KEYS[1], 'x')", 1, "w")
            p.multi()
            p.set("w", "y")
            with pytest.raises(redis.WatchError):
                p.execute()
        assert r.get("w") == b"x"
    finally:
        watcher.close()


def test_script_keyspace_notifications(r):
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    try:
        p.psubscribe("__keyevent@0__:*")
        assert p.get_message(timeout=2)["type"] == "psubscribe"
        r.eval("redis.call('set', KEYS[1], '1'); redis.call('incr', KEYS[1])", 1, "n")
        events = [p.get_message(timeout=2)["channel"] for _ in range(2)]
        assert events == [b"__keyevent@0__:set", b"__keyevent@0__:incrby"]
    finally:
        p.close()
        r.config_set("notify-keyspace-events", "")


def test_effects_are_replicated_not_the_script():
    """What the shard hands to its replication hooks: the writes, between propagate_begin and
    propagate_end (the replication layer wraps several in MULTI/EXEC), never EVAL itself."""
    from shard.dispatch import process_command
    from shard.server import Server
    from shard.session import Client

    class Recording(Server):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.effects = []
            self.propagating = True  # record effects as if a replica were attached

        def propagate(self, dbid, argv):
            self.effects.append((dbid, [bytes(a) for a in argv]))

        def propagate_begin(self):
            self.effects.append((-1, [b"begin"]))

        def propagate_end(self):
            if self.effects[-1] == (-1, [b"begin"]):
                self.effects.pop()  # nothing in between
            else:
                self.effects.append((-1, [b"end"]))

    server = Recording(port=0)
    c = Client(server)
    process_command(c, [b"EVAL", b"redis.call('set', KEYS[1], 'v', 'EX', '100'); redis.call('incr', 'n'); "
                                 b"redis.call('get', 'n')", b"1", b"k"])
    names = [argv[0].lower() for _, argv in server.effects]
    assert names == [b"begin", b"set", b"incr", b"end"]
    set_effect = server.effects[1][1]
    assert [set_effect[0].lower()] + set_effect[1:3] == [b"set", b"k", b"v"] and set_effect[3].upper() == b"PXAT"
    server.effects.clear()
    process_command(c, [b"EVAL", b"return redis.call('incr', 'n')", b"0"])
    assert server.effects == [(-1, [b"begin"]), (0, [b"incr", b"n"]), (-1, [b"end"])]
    server.effects.clear()
    process_command(c, [b"EVAL", b"redis.set_repl(redis.REPL_NONE); redis.call('incr', 'n')", b"0"])
    process_command(c, [b"EVAL", b"return redis.call('get', 'n')", b"0"])
    assert server.effects == []
    process_command(c, [b"FUNCTION", b"LOAD", b"#!lua name=l\nredis.register_function('f', function() end)"])
    assert server.effects[0][1][:2] == [b"FUNCTION", b"LOAD"]


def test_eval_script_cache_lru(r):
    """EVAL-created scripts are evicted past 500 (oldest first); SCRIPT LOAD ones never are."""
    r.script_flush()
    loaded = r.script_load("return 'kept'")
    base = r.info("stats")["evicted_scripts"]
    first = r.eval("return 'first'", 0)
    assert first == b"first"
    import hashlib

    first_sha = hashlib.sha1(b"return 'first'").hexdigest()
    for i in range(500):
        r.eval("return %d" % i, 0)
    assert r.info("stats")["evicted_scripts"] == base + 1
    assert r.script_exists(first_sha, loaded) == [False, True]
    assert r.info("memory")["number_of_cached_scripts"] == 501
    r.script_flush()
    assert r.info("memory")["number_of_cached_scripts"] == 0


def test_sigterm_during_busy_script():
    """The loop's signal handlers cannot run while a script holds it: SIGTERM still stops the shard."""
    import os
    import signal

    proc = start_shard("--config", "busy-reply-threshold=50")
    try:
        runner = _connected(proc)
        other = _connected(proc)
        runner.send(encode_command("EVAL", "redis.call('set', 'x', '1') while true do end", "0"))
        _wait_busy(other)
        os.killpg(proc.proc.pid, signal.SIGTERM)
        assert proc.proc.wait(5) == 0
        runner.close()
        other.close()
    finally:
        proc.stop()
    # and after a slow script that ended, the loop's own handlers are back: a clean stop
    proc = start_shard("--config", "busy-reply-threshold=50")
    try:
        conn = _connected(proc)
        assert conn.call("EVAL", "local t = os.clock() while os.clock() - t < 0.2 do end return 1", "0") == b":1\r\n"
        conn.close()
        os.killpg(proc.proc.pid, signal.SIGTERM)
        assert proc.proc.wait(5) == 0
    finally:
        proc.stop()


def test_cluster_mode_slot_rules():
    """scriptVerifyClusterState on a shard with cluster-enabled: one slot per command, and per script
    unless it may cross slots (no shebang, or allow-cross-slot-keys); no-cluster scripts refused."""
    proc = start_shard("--config", "cluster-enabled=yes")
    try:
        c = redis.Redis(proc.host, proc.port)
        assert c.eval("redis.call('set', '{a}1', 'x'); return redis.call('set', '{b}1', 'y')", 0) == b"OK"
        with pytest.raises(redis.ResponseError, match=r"^Command 'mset' in script attempted to access keys that "
                                                      r"don't hash to the same slot script: "):
            c.eval("return redis.call('mset', '{a}1', 'x', '{b}1', 'y')", 0)
        with pytest.raises(redis.ResponseError, match=r"^Script attempted to access keys that do not hash to the "
                                                      r"same slot script: "):
            c.eval("#!lua\nredis.call('set', KEYS[1], 'x'); return redis.call('set', '{b}1', 'y')", 1, "{a}1")
        assert c.eval("#!lua flags=allow-cross-slot-keys\nredis.call('set', '{a}1', 'x'); "
                      "return redis.call('get', '{b}1')", 0) == b"y"
        with pytest.raises(redis.ResponseError, match=r"^Can not run script on cluster, 'no-cluster' flag is set\.$"):
            c.eval("#!lua flags=no-cluster\nreturn 1", 0)
        c.close()
    finally:
        proc.stop()


def test_python_objects_are_opaque(r):
    """The API's Python functions reach Lua as userdata: their attributes stay out of reach."""
    for script in ("return tostring(redis.call.__self__)", "return cjson.encode.__globals__",
                   "redis.call.x = 1", "return redis.call['__class__']",
                   "local ok, e = pcall(cjson.encode, function() end) return type(e)"):
        try:
            reply = r.eval(script, 0)
        except redis.ResponseError as e:
            assert str(e).startswith("not accessible from a script script: ")
        else:
            assert reply == b"string"
