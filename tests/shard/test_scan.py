"""The SCAN cursor mechanism (shard/scan.py): Redis's guarantee under concurrent changes, COUNT,
MATCH, TYPE, cursor parsing, snapshot eviction and restart, and scan_generic for HSCAN/SSCAN/ZSCAN.
"""
from __future__ import annotations

import pytest

from amr_emulator.protocol.errors import RespError
from shard import scan as scanmod
from shard.scan import parse_cursor, scan_generic
from shard.server import Server
from shard.session import Client


def full_scan(r, **kwargs):
    seen = []
    cursor = 0
    calls = 0
    while True:
        cursor, page = r.scan(cursor, **kwargs)
        seen.extend(page)
        calls += 1
        if cursor == 0:
            return seen, calls


# --- cursor parsing -------------------------------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    (b"0", 0), (b"1", 1), (b"00", 0), (b"+5", 5), (b" 7", 7), (b"\t8", 8), (b"-0", 0),
    (b"18446744073709551615", 2**64 - 1), (b"9223372036854775808", 2**63), (b"12\x00junk", 12),
    (b"-18446744073709551615", 1),
])
def test_parse_cursor_valid(text, value):
    assert parse_cursor(text) == value


@pytest.mark.parametrize("text", [b"", b"-1", b"abc", b"1.5", b"5 ", b"0x10", b"18446744073709551616",
                                  b"+", b"-", b" ", b"1e3", b"+-1", b"99999999999999999999999999", b"\x00"])
def test_parse_cursor_invalid(text):
    with pytest.raises(RespError) as e:
        parse_cursor(text)
    assert e.value.message == "ERR invalid cursor"


# --- SCAN over the keyspace -------------------------------------------------------------------

def test_small_keyspace_in_one_call(r):
    r.mset({f"k{i}": i for i in range(10)})
    cursor, keys = r.scan(0)
    assert cursor == 0 and sorted(keys) == sorted(f"k{i}".encode() for i in range(10))


def test_pages_respect_count_and_cover_everything(r):
    r.mset({f"k{i}": i for i in range(1000)})
    seen, calls = full_scan(r, count=100)
    assert sorted(seen) == sorted(f"k{i}".encode() for i in range(1000))
    assert len(seen) == 1000  # nothing changed: no duplicates either
    assert calls == 10
    cursor, page = r.scan(0, count=7)
    assert cursor != 0 and len(page) == 7
    assert cursor < 2**63  # fits a signed 64-bit integer, for clients that parse it as one


def test_guarantee_under_concurrent_changes(r):
    """Every key present for the whole scan is returned at least once, whatever else happens."""
    r.mset({f"stable:{i}": 1 for i in range(800)})
    r.mset({f"doomed:{i}": 1 for i in range(400)})
    stable = {f"stable:{i}".encode() for i in range(800)}
    seen = set()
    cursor = 0
    step = 0
    while True:
        cursor, page = r.scan(cursor, count=50)
        seen.update(page)
        step += 1
        # churn between calls: add keys, delete others, rewrite and expire some stable ones
        r.mset({f"new:{step}:{j}": 1 for j in range(30)})
        r.delete(*[f"doomed:{i}" for i in range(step * 20, step * 20 + 20)])
        r.set(f"stable:{step}", "rewritten")
        r.expire(f"stable:{step + 1}", 1000)
        if cursor == 0:
            break
    assert stable <= seen


def test_deleted_keys_are_not_returned(r):
    r.mset({f"k{i}": 1 for i in range(300)})
    cursor, first = r.scan(0, count=100)
    r.delete(*[f"k{i}" for i in range(300)])
    r.set("k0", "back")
    seen = set(first)
    while cursor:
        cursor, page = r.scan(cursor, count=100)
        seen.update(page)
    rest = seen - set(first)
    assert rest <= {b"k0"}


def test_match_and_type_filter_after_fetching(r):
    r.mset({f"user:{i}": 1 for i in range(300)})
    r.mset({f"item:{i}": 1 for i in range(300)})
    seen, calls = full_scan(r, match="user:*", count=100)
    assert sorted(seen) == sorted(f"user:{i}".encode() for i in range(300))
    assert calls == 6  # COUNT counts examined keys, not returned ones
    if r.execute_command("SADD", "aset", "m") == 1:
        seen, _ = full_scan(r, _type="set", count=100)
        assert seen == [b"aset"]
    seen, _ = full_scan(r, _type="string", match="item:1*", count=1000)
    assert sorted(seen) == sorted(k for k in (f"item:{i}".encode() for i in range(300)) if k.startswith(b"item:1"))
    assert full_scan(r, _type="nosuchtype")[0] == []


def test_interleaved_scans(r):
    r.mset({f"k{i}": 1 for i in range(500)})
    a, b = set(), set()
    ca, pa = r.scan(0, count=40)
    cb, pb = r.scan(0, count=70)
    a.update(pa)
    b.update(pb)
    while ca or cb:
        if ca:
            ca, pa = r.scan(ca, count=40)
            a.update(pa)
        if cb:
            cb, pb = r.scan(cb, count=70)
            b.update(pb)
    assert len(a) == len(b) == 500


def test_unknown_cursor_restarts_safely(r):
    r.mset({f"k{i}": 1 for i in range(250)})
    made_up = (12345 << 32) | 77
    seen = set()
    cursor, page = r.scan(made_up, count=100)
    seen.update(page)
    while cursor:
        cursor, page = r.scan(cursor, count=100)
        seen.update(page)
    assert len(seen) == 250
    # a made-up cursor on a keyspace that fits in one page: everything, cursor 0
    r.flushall()
    r.mset({"a": 1, "b": 2})
    cursor, page = r.scan(987654321)
    assert cursor == 0 and sorted(page) == [b"a", b"b"]


def test_evicted_snapshot_still_completes(r):
    """More concurrent scans than the LRU keeps: the oldest is evicted and restarts, yet completes."""
    r.mset({f"k{i}": 1 for i in range(120)})
    first, page = r.scan(0, count=50)
    seen = set(page)
    for _ in range(scanmod.MAX_SNAPSHOTS + 10):
        assert r.scan(0, count=50)[0] != 0
    cursor = first
    while cursor:
        cursor, page = r.scan(cursor, count=50)
        seen.update(page)
    assert len(seen) == 120


def test_expired_keys_are_skipped(r):
    r.mset({f"k{i}": 1 for i in range(100)})
    for i in range(50):
        r.execute_command("SET", f"k{i}", "1", "PXAT", "1")
    seen, _ = full_scan(r, count=30)
    assert sorted(seen) == sorted(f"k{i}".encode() for i in range(50, 100))


# --- scan_generic, as HSCAN/SSCAN/ZSCAN use it ------------------------------------------------------

@pytest.fixture
def client():
    return Client(Server(port=0))


def _walk(c, collection, scope, *options, values=None, small=False, hash_novalues=False, mutate=None):
    seen = []
    cursor = 0
    calls = 0
    while True:
        argv = [b"SSCAN", b"key", b"%d" % cursor, *options]
        nxt, items = scan_generic(c, argv, cursor, collection, scope, values=values, small=small,
                                  hash_novalues=hash_novalues)
        seen.extend(items)
        calls += 1
        if mutate:
            mutate(calls)
        cursor = int(nxt)
        if cursor == 0:
            return seen, calls


def test_generic_small_collection_in_one_call(client):
    members = {b"m%d" % i for i in range(300)}
    seen, calls = _walk(client, members, ("set", 0, b"key"), small=True)
    assert calls == 1 and set(seen) == members


def test_generic_pages_and_guarantee(client):
    members = {b"m%d" % i for i in range(1000)}
    stable = set(members)

    def mutate(step):
        for j in range(20):
            members.add(b"new%d-%d" % (step, j))
        members.discard(b"gone%d" % step)

    members.update(b"gone%d" % i for i in range(100))
    seen, calls = _walk(client, members, ("set", 0, b"key"), b"COUNT", b"100", mutate=mutate)
    assert stable <= set(seen)
    assert calls >= 10


def test_generic_values_match_and_novalues(client):
    h = {b"f%d" % i: b"v%d" % i for i in range(50)}
    seen, _ = _walk(client, h, ("hash", 0, b"key"), b"MATCH", b"f1*", values=h.__getitem__)
    assert seen == [x for k in h if k.startswith(b"f1") for x in (k, h[k])]
    seen, _ = _walk(client, h, ("hash", 0, b"key"), b"NOVALUES", values=h.__getitem__, hash_novalues=True)
    assert seen == list(h)
    with pytest.raises(RespError) as e:
        _walk(client, h, ("set", 0, b"key"), b"NOVALUES")
    assert e.value.message == "ERR NOVALUES option can only be used in HSCAN"
    for opts, msg in (((b"COUNT", b"0"), "ERR syntax error"),
                      ((b"COUNT", b"x"), "ERR value is not an integer or out of range"),
                      ((b"TYPE", b"string"), "ERR syntax error"), ((b"MATCH",), "ERR syntax error")):
        with pytest.raises(RespError) as e:
            _walk(client, h, ("hash", 0, b"key"), *opts)
        assert e.value.message == msg


def test_generic_scope_mismatch_restarts(client):
    a = {b"a%d" % i for i in range(100)}
    b = {b"b%d" % i for i in range(100)}
    argv = [b"SSCAN", b"a", b"0", b"COUNT", b"10"]
    nxt, items = scan_generic(client, argv, 0, a, ("set", 0, b"a"))
    # the cursor of a's scan used on b: b's scan restarts from its beginning, nothing of a leaks in
    cursor = int(nxt)
    seen = []
    while True:
        nxt, items = scan_generic(client, [b"SSCAN", b"b", nxt, b"COUNT", b"10"], cursor, b, ("set", 0, b"b"))
        seen.extend(items)
        cursor = int(nxt)
        if not cursor:
            break
    assert set(seen) == b


def test_cache_limits(monkeypatch):
    cache = scanmod.ScanCache()
    monkeypatch.setattr(scanmod, "MAX_ELEMENTS", 1000)
    ids = [cache.add(("s", i), list(range(300))) for i in range(30)]
    # over the element budget, but the KEEP_RECENT most recent stay
    assert len(cache.snapshots) == scanmod.KEEP_RECENT
    assert cache.get(ids[-1]) is not None and cache.get(ids[0]) is None
    assert cache.elements == 300 * scanmod.KEEP_RECENT
    for snap in cache.snapshots.values():
        snap.used -= scanmod.IDLE_SECONDS + 1  # abandoned scans
    cache.add(("s", "new"), [1])
    assert len(cache.snapshots) == 1 and cache.elements == 1
    cache.drop(next(iter(cache.snapshots)))
    assert cache.elements == 0 and not cache.snapshots
