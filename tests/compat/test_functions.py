"""FUNCTION / FCALL against a real redis-server, byte for byte (7.0.15 differences marked)."""
import pytest

LIB = ("#!lua name=mylib\n"
       "redis.register_function('setit', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n"
       "redis.register_function{function_name='getit', callback=function(keys) return redis.call('get', keys[1]) "
       "end, flags={'no-writes'}, description='reads'}\n")


@pytest.fixture
def fc(compat):
    compat.call("FUNCTION", "FLUSH")
    yield compat
    compat.call("FUNCTION", "FLUSH")


def test_load_and_call(fc):
    fc.call("FUNCTION", "LOAD", LIB)
    fc.call("FCALL", "setit", "1", "k", "v")
    fc.call("FCALL", "getit", "1", "k")
    fc.call("FCALL_RO", "getit", "1", "k")
    fc.call("FCALL_RO", "setit", "1", "k", "v")
    fc.call("FCALL", "nosuch", "0")
    fc.call("FCALL", "getit", "x")
    fc.call("FCALL", "getit", "2", "k")
    fc.call("FCALL", "getit", "-1")
    # several functions of a library are listed in hash order in Redis: compare a one-function library
    fc.call("FUNCTION", "DELETE", "mylib")
    fc.call("FUNCTION", "LOAD", LIB.rsplit("redis.register_function{", 1)[0])
    fc.call("FUNCTION", "LIST")
    fc.call("FUNCTION", "LIST", "WITHCODE")
    fc.call("FUNCTION", "LIST", "LIBRARYNAME", "my*")
    fc.call("FUNCTION", "LIST", "LIBRARYNAME", "zz*")
    fc.call("FUNCTION", "LIST", "LIBRARYNAME")
    fc.call("FUNCTION", "LIST", "BAD")
    fc.call("FUNCTION", "STATS")
    r3 = fc.new().resp3()
    try:
        r3.call("FUNCTION", "LIST")
        r3.call("FUNCTION", "STATS")
    finally:
        r3.close()


def test_load_errors(fc):
    fc.call("FUNCTION", "LOAD", LIB)
    fc.call("FUNCTION", "LOAD", LIB)
    fc.call("FUNCTION", "LOAD", "REPLACE", LIB)
    fc.call("FUNCTION", "LOAD", "BAD", LIB)
    fc.call("FUNCTION", "LOAD", "no shebang")
    fc.call("FUNCTION", "LOAD", "#!lua name=x")
    fc.call("FUNCTION", "LOAD", "#!lua\nreturn 1")
    fc.call("FUNCTION", "LOAD", "#!lua name=x foo=bar\nreturn 1")
    fc.call("FUNCTION", "LOAD", "#!lua name=x name=y\nreturn 1")
    fc.call("FUNCTION", "LOAD", "#!lua name=a-b\nreturn 1")
    fc.call("FUNCTION", "LOAD", "#!js name=x\nreturn 1")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nreturn 1")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nreturn +")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nlocal s = string.format('a')")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nredis.call('ping')")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('setit', function() end)")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('a', function() end)\n"
                                "redis.register_function('a', function() end)")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('a-b', function() end)")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('a')")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nredis.register_function(1, 2, 3)")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nredis.register_function{function_name='a'}")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nredis.register_function{callback=function() end}")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nredis.register_function{function_name='a', callback=function() "
                                "end, flags={'bad'}}")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nredis.register_function{function_name='a', bad=1}")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('x')")
    fc.call("FUNCTION", "LOAD", "#!lua name=x\nerror('boom')")
    fc.call("FUNCTION", "LOAD")


def test_function_runtime(fc):
    fc.call("FUNCTION", "LOAD", "#!lua name=rt\n"
                                "redis.register_function('boom', function() error('bad thing') end)\n"
                                "redis.register_function('errcall', function() return redis.call('nosuch') end)\n"
                                "redis.register_function('glob', function() return zz end)\n"
                                "redis.register_function('reg', function() redis.register_function('q', "
                                "function() end) end)\n"
                                "redis.register_function('args', function(k, a) return {#k, #a, k[1], a[1]} end)\n")
    fc.call("FCALL", "boom", "0")
    fc.call("FCALL", "errcall", "0")
    fc.call("FCALL", "glob", "0")
    fc.call("FCALL", "reg", "0")
    fc.call("FCALL", "args", "1", "key", "arg")
    fc.call("FCALL", "args", "0")


def test_delete_flush(fc):
    fc.call("FUNCTION", "LOAD", LIB)
    fc.call("FUNCTION", "DELETE", "nosuch")
    fc.call("FUNCTION", "DELETE", "mylib")
    fc.call("FCALL", "getit", "1", "k")
    fc.call("FUNCTION", "LOAD", LIB)
    fc.call("FUNCTION", "FLUSH", "ASYNC")
    fc.call("FUNCTION", "FLUSH", "bad")
    fc.call("FUNCTION", "LIST")
    fc.call("FUNCTION", "KILL")
    fc.call("FUNCTION", "RESTORE", "garbage")
    fc.call("FUNCTION", "RESTORE", "x", "BADPOLICY")
    fc.call("FUNCTION", "NOSUCH")


def test_help(fc):
    # 7.0.15 differs: "Prints this help." and a "* Library description" line that 7.4 dropped
    ours, theirs = fc.both("FUNCTION", "HELP")
    assert ours.endswith(b"+    Print this help.\r\n") and ours.startswith(b"*39\r\n")
    assert b"Library description" in theirs and b"Library description" not in ours


def test_dump_restore_from_real_redis(fc, shard, real_redis):
    """A payload dumped by a real redis-server restores here (ours is RDB 12, which 7.0 refuses)."""
    import redis

    real = redis.Redis(real_redis.host, real_redis.port)
    ours = redis.Redis(shard.host, shard.port)
    try:
        real.function_load(LIB)
        payload = real.function_dump()
        assert ours.function_restore(payload)
        assert ours.function_list()[0][1] == b"mylib"
        with pytest.raises(redis.ResponseError, match="^Library mylib already exists$"):
            ours.function_restore(payload)
        assert ours.function_restore(payload, "REPLACE")
        assert ours.function_restore(payload, "FLUSH")
        assert ours.fcall("setit", 1, "k", "v") == b"OK"
        # our own dump round-trips, with its RDB version and CRC64
        mine = ours.function_dump()
        assert mine[-10:-8] == b"\x0c\x00"
        ours.function_flush()
        assert ours.function_restore(mine)
        assert ours.fcall("getit", 1, "k") == b"v"
        bad = mine[:-1] + bytes([mine[-1] ^ 1])
        with pytest.raises(redis.ResponseError, match="^DUMP payload version or checksum are wrong$"):
            ours.function_restore(bad)
    finally:
        real.function_flush()
        ours.function_flush()
        real.close()
        ours.close()


def test_existing_library_refused_before_its_code_runs(fc):
    fc.call("FUNCTION", "LOAD", LIB)
    fc.call("FUNCTION", "LOAD", "#!lua name=mylib\nerror('never run')")
    fc.call("FUNCTION", "LOAD", "REPLACE", "#!lua name=mylib\nerror('runs')")
    fc.call("FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('setit', function() end)")
    fc.call("FCALL", "setit", "1", "k", "v")
