"""MULTI/EXEC/WATCH, byte for byte against a real redis-server."""


def test_basic_transaction(compat):
    compat.call("MULTI")
    compat.call("SET", "a", "1")
    compat.call("INCR", "a")
    compat.call("GET", "a")
    compat.call("EXEC")


def test_errors(compat):
    compat.call("EXEC")
    compat.call("DISCARD")
    compat.call("MULTI")
    compat.call("MULTI")
    compat.call("WATCH", "x")
    compat.call("DISCARD")
    compat.call("MULTI", "extra")


def test_queueing_error_aborts(compat):
    compat.call("MULTI")
    compat.call("SET", "a", "1")
    compat.call("NOSUCH")
    compat.call("GET")
    compat.call("EXEC")
    compat.call("GET", "a")


def test_runtime_error_inside_exec(compat):
    compat.call("SET", "s", "str")
    compat.call("MULTI")
    compat.call("LPUSH", "s", "x")
    compat.call("SET", "b", "2")
    compat.call("EXEC")


def test_watch_modified_by_other(compat):
    other = compat.new()
    try:
        compat.call("SET", "w", "1")
        compat.call("WATCH", "w")
        other.call("SET", "w", "2")
        compat.call("MULTI")
        compat.call("SET", "w", "3")
        compat.call("EXEC")
        compat.call("GET", "w")
    finally:
        other.close()


def test_watch_untouched(compat):
    compat.call("WATCH", "w", "v")
    compat.call("MULTI")
    compat.call("SET", "w", "1")
    compat.call("EXEC")


def test_unwatch(compat):
    other = compat.new()
    try:
        compat.call("WATCH", "w")
        other.call("SET", "w", "2")
        compat.call("UNWATCH")
        compat.call("MULTI")
        compat.call("GET", "w")
        compat.call("EXEC")
    finally:
        other.close()


def test_watch_flushdb(compat):
    other = compat.new()
    try:
        compat.call("SET", "w", "1")
        compat.call("WATCH", "w")
        other.call("FLUSHDB")
        compat.call("MULTI")
        compat.call("PING")
        compat.call("EXEC")
    finally:
        other.close()


def test_discard(compat):
    compat.call("MULTI")
    compat.call("SET", "d", "1")
    compat.call("DISCARD")
    compat.call("GET", "d")


def test_exec_resp3(compat):
    compat.resp3()
    compat.call("MULTI")
    compat.call("SET", "x", "1")
    compat.call("GET", "nope")
    compat.call("EXEC")
