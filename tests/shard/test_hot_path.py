"""The hot path (RequestParser.read's hiredis walk, dispatch.run_plain) behaves exactly as the slow
path: the same requests, replies, stats, slowlog entries and replicated effects."""
import pytest

from amr_emulator.protocol.resp import RequestParser, decode_reply, encode_command
from shard.server import Server
from shard.session import Client
from tests.helpers import MemoryTransport

# --- the parser: hiredis's reading is taken only where Redis reads the same ---------------------

ODD_CHUNKS = [
    b"~2\r\n$3\r\nGET\r\n$1\r\na\r\n",  # a RESP3 set at the top: Redis reads inline requests
    b"*2\r\n=7\r\ntxt:abc\r\n+abc\r\n",  # one element longer, one shorter than canonical
    b"*1\r\n+PING\r\n",
    b"*2\r\n$3\r\nGET\r\n*1\r\n_\r\n",  # a nested array as long as a canonical bulk
    b"*1\r\n$-1\r\n",
    b"*2\r\n$3\r\nGET\r\n(12345\r\n",
    b"*2\r\n$3\r\nGET\r\n:1\r\n",
    b"*2\r\n$3\r\nGET\r\n,1.5\r\n",
    b"*2\r\n$3\r\nGET\r\n#t\r\n",
    b">2\r\n$3\r\nGET\r\n$1\r\na\r\n",
    b"%1\r\n$3\r\nGET\r\n$1\r\na\r\n",
    b"|1\r\n$1\r\na\r\n$1\r\nb\r\n*1\r\n$4\r\nPING\r\n",
    b"*0\r\n*1\r\n$4\r\nPING\r\n",
    b"*-1\r\n*1\r\n$4\r\nPING\r\n",
    b"*1\r\n$4\r\nPINGXY*1\r\n$4\r\nPING\r\n",  # the two bytes after a bulk are not checked
    b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI",  # a request left incomplete
    b"*1\r\n$4\r\nPING\r\n*1\r\n",
    b"*2147483647\r\n$4\r\nPING\r\n",  # huge headers: hiredis reserves lazily or refuses
    b"*4294967295\r\n$4\r\nPING\r\n",
    b"*4294967296\r\n$4\r\nPING\r\n",
    b"*1\r\n$03\r\nabc\r\n",
    b"*01\r\n$3\r\nabc\r\n",
    b"*1\r\n$+3\r\nabc\r\n",
    b"*1\r\n$3\nabc\r\n",
    b"PING\r\n*1\r\n$4\r\nPING\r\n",
    encode_command(b"SET", b"k", b"v" * 70000),  # past the size tables
    encode_command(b"SET", b"k", b"v") * 3,
    # bytes that take the walk (_canonical_walk) instead of the sizes and `*` count alone
    encode_command(b"SET", b"a*b", b"v") * 2,
    encode_command(b"SET", b"k", b"a=b") + encode_command(b"GET", b"k"),
    encode_command(b"SET", b"k", b"50%") + encode_command(b"GET", b"~>|"),
    b"*2\r\n$3\r\nGET\r\n*1\r\n$0\r\n\r\n",  # a nested array, sized as a bulk of 6
    b"*3\r\n$3\r\nGET\r\n+abcdef\r\n*1\r\n$1\r\nx\r\n",  # shorter line, longer array
    b"*2\r\n$3\r\nGET\r\n(123\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
    b"$3\r\nGET\r\n",
    b":1\r\n",
    b"*1\r\n$4\r\nPING\r\n-ERR x\r\n",
]


def _exact(data: bytes):
    p = RequestParser()
    p._fast = False
    p.feed(data)
    reqs, err = p.parse()
    return reqs, err and err.message


def _fast(data: bytes):
    p = RequestParser()
    reqs, err = p.read(data)
    return reqs, err and err.message


@pytest.mark.parametrize("data", ODD_CHUNKS)
def test_fast_reading_equals_exact_reading(data):
    assert _fast(data) == _exact(data)


@pytest.mark.timeout(2)
@pytest.mark.parametrize("data", [b"*2147483647\r\n$4\r\nPING\r\n", b"*2\r\n$3\r\nGET\r\n*2147483647\r\n",
                                  b"~2147483647\r\n", b">2147483647\r\n", b"*1\r\n~2147483647\r\n",
                                  b"%1073741823\r\n", b"*1\r\n$4\r\nPING\r\n>2147483647\r\n"])
def test_huge_array_headers_cost_nothing(data):
    for _ in range(5):  # hiredis would reserve 16 GiB and free it slot by slot: seconds each
        assert _fast(data) == _exact(data)


def test_fast_parser_recovers_after_an_odd_chunk():
    p = RequestParser()
    assert p.read(b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET")[0] == [[b"PING"]]
    assert p.read(b"\r\n$1\r\nk\r\n")[0] == [[b"GET", b"k"]]
    assert p.read(encode_command(b"SET", b"a", b"b"))[0] == [[b"SET", b"a", b"b"]]
    assert p._fast


def _raw(compat, data: bytes, replies: int) -> bytes:
    """Send `data` to both servers, read `replies` replies from each, compare them byte for byte."""
    outs = []
    for conn in compat.conns:
        conn.send(data)
        outs.append(b"".join(conn.read_reply() for _ in range(replies)))
    assert outs[0] == outs[1], f"{data[:80]!r}:\n  shard: {outs[0]!r}\n  redis: {outs[1]!r}"
    return outs[0]


def test_top_level_resp3_set_is_read_inline(compat):
    _raw(compat, b"~2\r\n$3\r\nGET\r\n$1\r\na\r\n", 5)


# --- run_plain: pipelines of plain commands, mixed with the rest -----------------------------


def _pipeline(*cmds) -> bytes:
    return b"".join(encode_command(*c) for c in cmds)


def test_mixed_pipeline_matches_redis(compat):
    _raw(compat, _pipeline(
        (b"SET", b"k", b"1"), (b"get", b"k"), (b"Set", b"k2", b"x"), (b"INCR", b"k"), (b"GET",),
        (b"NOSUCH", b"a"), (b"MULTI",), (b"SET", b"k", b"2"), (b"GET", b"k"), (b"EXEC",), (b"GET", b"k"),
        (b"LPUSH", b"l", b"a"), (b"GET", b"l"), (b"SET", b"k", b"3", b"NX"), (b"SET", b"k", b"4", b"BAD"),
        (b"CLIENT", b"REPLY", b"SKIP"), (b"GET", b"k"), (b"GET", b"k"), (b"PING",),
    ), 17)


def test_pipeline_in_resp3_and_pubsub_context(compat):
    compat.resp3()
    _raw(compat, _pipeline((b"SUBSCRIBE", b"ch"), (b"SET", b"k", b"v"), (b"GET", b"k"), (b"UNSUBSCRIBE",),
                           (b"GET", b"k")), 5)
    c2 = compat.new()
    _raw(c2, _pipeline((b"SUBSCRIBE", b"ch"), (b"SET", b"k", b"v"), (b"PING",)), 3)
    c2.close()


def test_watch_is_invalidated_by_a_pipelined_set(compat):
    compat.call("WATCH", "k")
    other = compat.new()
    _raw(other, _pipeline((b"GET", b"k"), (b"SET", b"k", b"v"), (b"GET", b"k")), 3)
    other.close()
    compat.call("MULTI")
    compat.call("GET", "k")
    assert compat.call("EXEC") == b"*-1\r\n"


def _commandstats(conn) -> dict:
    text = decode_reply(conn.call("INFO", "commandstats"))[0].decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("cmdstat_"):
            name, _, fields = line.partition(":")
            kv = dict(f.split("=") for f in fields.split(","))
            out[name] = (int(kv["calls"]), int(kv["failed_calls"]), int(kv["rejected_calls"]))
    return out


def test_commandstats_count_pipelined_calls(compat):
    for conn in compat.conns:
        conn.call("CONFIG", "RESETSTAT")
    _raw(compat, _pipeline(*[(b"SET", b"k%d" % i, b"v") for i in range(20)], (b"GET", b"k1"), (b"GET", b"k2"),
                           (b"SET", b"k1", b"v"), (b"INCR", b"k1"), (b"GET", b"x", b"y"), (b"GET", b"k3")), 26)
    ours, theirs = (_commandstats(conn) for conn in compat.conns)
    assert ours == theirs
    assert ours["cmdstat_set"] == (21, 0, 0) and ours["cmdstat_get"] == (3, 0, 1)
    assert ours["cmdstat_incr"] == (1, 1, 0)


def test_slowlog_logs_every_pipelined_command(compat):
    for conn in compat.conns:
        conn.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
        conn.call("SLOWLOG", "RESET")
    try:
        _raw(compat, _pipeline((b"SET", b"a", b"1"), (b"GET", b"a"), (b"SET", b"b", b"2"), (b"GET", b"b")), 4)
        logged = []
        for conn in compat.conns:
            entries = decode_reply(conn.call("SLOWLOG", "GET", "10"))[0]
            logged.append([e[3] for e in entries])
        assert logged[0] == logged[1]
        assert logged[0][:4] == [[b"GET", b"b"], [b"SET", b"b", b"2"], [b"GET", b"a"], [b"SET", b"a", b"1"]]
    finally:
        for conn in compat.conns:
            conn.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")


# --- replication: through data_received, only while the server propagates --------------------


def _client(server):
    c = Client(server)
    c.connection_made(MemoryTransport())
    return c


def test_pipelined_effects_are_replicated_while_propagating():
    server = Server(port=0)
    effects = []
    server.propagate = lambda dbid, argv: effects.append([bytes(a) for a in argv])
    c = _client(server)
    c.data_received(_pipeline((b"SET", b"k", b"v"), (b"GET", b"k"), (b"SET", b"k", b"v", b"EXAT", b"99999999999"),
                              (b"SET", b"n", b"1", b"XX"), (b"INCR", b"n"), (b"DEL", b"n")))
    assert effects == []  # nothing consumes them: not even built
    server.propagating = True
    c.data_received(_pipeline((b"SET", b"k", b"v"), (b"GET", b"k"), (b"SET", b"k", b"v", b"EXAT", b"99999999999"),
                              (b"SET", b"n", b"1", b"XX"), (b"INCR", b"n"), (b"DEL", b"n")))
    assert effects == [[b"SET", b"k", b"v"], [b"SET", b"k", b"v", b"PXAT", b"99999999999000"], [b"INCR", b"n"],
                       [b"DEL", b"n"]]
    assert c.rewritten is None
    assert c.transport.data.count(b"+OK\r\n") == 4


def test_run_plain_stops_at_a_command_that_is_not_plain():
    server = Server(port=0)
    c = _client(server)
    c.data_received(_pipeline((b"SET", b"k", b"1"), (b"MULTI",), (b"SET", b"k", b"2"), (b"EXEC",), (b"GET", b"k")))
    assert c.transport.data == b"+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n$1\r\n2\r\n"
    assert c.cmd_name == "get"
    assert server.stat_numcommands == 5  # SET, MULTI, EXEC, the SET EXEC ran, GET (not the queuing)


def test_a_server_wide_feature_turned_on_between_batches_applies_to_the_next():
    """run_plain serves a batch only while Server.plain_ok holds; each feature that process_command
    checks clears it when it turns on (hot_path_changed), so the next batch takes the full path."""
    server = Server(port=0)
    c, admin, mon = _client(server), _client(server), _client(server)
    c.data_received(_pipeline((b"SET", b"k", b"1"), (b"GET", b"k")))
    assert server.plain_ok
    mon.data_received(_pipeline((b"MONITOR",)))
    c.data_received(_pipeline((b"SET", b"k", b"2")))
    assert b'"SET" "k" "2"' in mon.transport.data
    mon.transport.close()
    server.client_disconnected(mon)
    admin.data_received(_pipeline((b"CONFIG", b"SET", b"slowlog-log-slower-than", b"0")))
    c.data_received(_pipeline((b"SET", b"k", b"3")))
    assert [e[3] for e in server.slowlog][0] == [b"SET", b"k", b"3"]
    admin.data_received(_pipeline((b"CONFIG", b"SET", b"maxmemory-policy", b"noeviction"),
                                  (b"CONFIG", b"SET", b"maxmemory", b"1")))
    c.transport.data = b""
    c.data_received(_pipeline((b"SET", b"k", b"4"), (b"GET", b"k")))
    assert c.transport.data == b"-OOM command not allowed when used memory > 'maxmemory'.\r\n$1\r\n3\r\n"
    admin.data_received(_pipeline((b"CONFIG", b"SET", b"maxmemory", b"0")))
    c.data_received(_pipeline((b"SET", b"k", b"5")))
    assert server.plain_ok  # every feature off again: the next batch looked and found none


def test_set_fast_path_on_a_cache_shard_accounts_as_the_full_path():
    """A cache's shard accounts memory and access clocks (maxmemory, volatile-lru): a plain SET takes
    set_command's fast path, SET ... KEEPTTL (no TTL here, so the same effect) the full one; both leave
    the same values, sizes, dataset, clocks and dirty count, growing and shrinking values."""
    states = []
    for extra in ((), (b"KEEPTTL",)):
        server = Server(port=0)
        c = _client(server)
        c.data_received(_pipeline((b"CONFIG", b"SET", b"maxmemory-policy", b"volatile-lru"),
                                  (b"CONFIG", b"SET", b"maxmemory", b"100mb")))
        assert type(c.db).__name__ == "LRUDatabase"
        writes = [(b"a", b"1"), (b"b", b"x" * 100), (b"a", b"y" * 50), (b"b", b"z"), (b"c", b"w" * 70000)]
        c.data_received(_pipeline(*[(b"SET", k, v, *extra) for k, v in writes]))
        db = c.db
        assert set(db.access.values()) == {server.now_ms}   # the batch's clock
        states.append((dict(db.data), dict(db.sizes), db.mem, server.eviction.dataset, sorted(db.access),
                       server.dirty, c.transport.data.count(b"+OK\r\n")))
    assert states[0] == states[1]
    assert states[0][2] > 70000


def test_under_maxmemory_the_fast_path_serves_until_the_dataset_is_full():
    """maxmemory keeps the fast path: each command first finds the dataset within the limit; from the
    first that does not, process_command evicts or refuses (OOM for a write under noeviction)."""
    from shard.eviction import STARTUP_MEMORY

    server = Server(port=0)
    c = _client(server)
    c.data_received(_pipeline((b"CONFIG", b"SET", b"maxmemory-policy", b"noeviction"),
                              (b"CONFIG", b"SET", b"maxmemory", b"%d" % (STARTUP_MEMORY + 3500))))
    c.transport.data = b""
    c.data_received(_pipeline(*[(b"SET", b"k%d" % i, b"v" * 1000) for i in range(6)], (b"GET", b"k0")))
    assert server.plain_ok   # the batch went by the fast path, maxmemory or not
    oom = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
    assert c.transport.data == b"+OK\r\n" * 4 + oom * 2 + b"$1000\r\n" + b"v" * 1000 + b"\r\n"
    assert server.stat_numcommands == 2 + 4 + 1   # refused commands are not counted (not called)
