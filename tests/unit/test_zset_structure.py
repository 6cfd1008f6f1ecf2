"""The ZSet structure: ordering, ranks, ranges by rank / score / lex, removal, against a naive model.

Most tests run with a tiny chunk size too, so that chunk splits, chunk removal and the Fenwick tree
of chunk lengths are exercised with few elements.
"""
from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

import shard.structures.zset as zmod
from shard.structures.zset import ZSet


@pytest.fixture(params=[512, 4, 2], ids=["load512", "load4", "load2"])
def load(request, monkeypatch):
    monkeypatch.setattr(zmod, "_LOAD", request.param)
    return request.param


def model(z: ZSet) -> list:
    """The expected order: (score, member) sorted."""
    return sorted((s, m) for m, s in z.d.items())


def check(z: ZSet) -> None:
    expect = model(z)
    got = [(s, m) for m, s in z.items()]
    assert got == expect
    assert len(z) == len(expect)
    assert list(z) == [m for _, m in expect]
    for i, (s, m) in enumerate(expect):
        assert z.rank(m) == i
        assert z.at(i) == (s, m)
    if expect:
        assert z.first() == expect[0]
        assert z.last() == expect[-1]
        # chunk bookkeeping
        assert all(z._cs) and len(z._cs) == len(z._cm) == len(z._maxs) == len(z._maxm)
        assert z._maxs == [c[-1] for c in z._cs]
        assert z._maxm == [c[-1] for c in z._cm]


def test_empty():
    z = ZSet()
    assert len(z) == 0
    assert z.rank(b"a") is None
    assert z.score(b"a") is None
    assert z.remove(b"a") is None
    assert z.count_below(1.0) == 0
    assert z.count_lex_below(b"a") == 0
    assert list(z.items()) == []
    assert ZSet.TYPE_NAME == b"zset"


def test_order_by_score_then_member(load):
    z = ZSet()
    for m, s in [(b"b", 1.0), (b"a", 1.0), (b"c", 0.5), (b"aa", 1.0), (b"", 1.0), (b"z", -3.0)]:
        z.add(m, s)
    assert list(z) == [b"z", b"c", b"", b"a", b"aa", b"b"]
    check(z)


def test_member_order_is_memcmp(load):
    z = ZSet()
    for m in [b"\xff", b"\x00", b"a\x00", b"a", b"A", b"ab"]:
        z.add(m, 0.0)
    assert list(z) == [b"\x00", b"A", b"a", b"a\x00", b"ab", b"\xff"]
    check(z)


def test_infinities_and_zero(load):
    z = ZSet()
    z.add(b"pinf", float("inf"))
    z.add(b"ninf", float("-inf"))
    z.add(b"zero", 0.0)
    z.big = True
    z.add(b"negzero", -0.0)  # a skiplist keeps -0.0, equal to 0.0 for ordering
    assert list(z) == [b"ninf", b"negzero", b"zero", b"pinf"]
    assert str(z.score(b"negzero")) == "-0.0"
    check(z)


def test_listpack_stores_negative_zero_as_zero():
    z = ZSet()
    z.add(b"a", -0.0)
    assert str(z.score(b"a")) == "0.0"
    z.update(b"a", 0.0, 5.0)
    z.update(b"a", 5.0, -0.0)
    assert str(z.score(b"a")) == "0.0"


def test_update_moves(load):
    z = ZSet()
    for i in range(20):
        z.add(b"m%02d" % i, float(i))
    z.update(b"m00", 0.0, 100.0)
    z.update(b"m19", 19.0, -1.0)
    z.update(b"m10", 10.0, 10.5)
    assert z.rank(b"m00") == 19
    assert z.rank(b"m19") == 0
    check(z)


def test_remove(load):
    z = ZSet()
    for i in range(30):
        z.add(b"%d" % i, float(i % 7))
    for i in range(0, 30, 3):
        assert z.remove(b"%d" % i) == float(i % 7)
    assert z.remove(b"0") is None
    check(z)
    for m in list(z.d):
        z.remove(m)
    assert len(z) == 0
    assert z._cs == []
    z.add(b"again", 1.0)
    check(z)


def test_duplicate_scores_rank(load):
    z = ZSet()
    members = [b"m%03d" % i for i in range(50)]
    random.Random(3).shuffle(members)
    for m in members:
        z.add(m, 7.0)
    assert list(z) == sorted(members)
    for i, m in enumerate(sorted(members)):
        assert z.rank(m) == i
    check(z)


def test_count_below(load):
    z = ZSet()
    for i, s in enumerate([1, 1, 2, 3, 3, 3, 5]):
        z.add(b"m%d" % i, float(s))
    assert z.count_below(1.0) == 0
    assert z.count_below(1.0, True) == 2
    assert z.count_below(3.0) == 3
    assert z.count_below(3.0, True) == 6
    assert z.count_below(4.0) == 6
    assert z.count_below(float("inf")) == 7
    assert z.count_below(float("-inf"), True) == 0
    assert z.count_below(100.0, True) == 7


def test_count_lex_below(load):
    z = ZSet()
    for m in [b"a", b"b", b"c", b"d", b"e", b"f", b"g"]:
        z.add(m, 0.0)
    assert z.count_lex_below(b"a") == 0
    assert z.count_lex_below(b"a", True) == 1
    assert z.count_lex_below(b"c") == 2
    assert z.count_lex_below(b"cc") == 3
    assert z.count_lex_below(b"g", True) == 7
    assert z.count_lex_below(b"z") == 7
    assert z.count_lex_below(b"") == 0


def test_slice_and_iter_from(load):
    z = ZSet()
    for i in range(25):
        z.add(b"%02d" % i, float(i))
    for a in range(25):
        for b in range(a + 1, 26):
            scores, members = z.slice(a, b)
            assert members == [b"%02d" % i for i in range(a, b)]
            assert scores == [float(i) for i in range(a, b)]
    assert [m for _, m in z.iter_from(20)] == [b"20", b"21", b"22", b"23", b"24"]
    assert [m for _, m in z.iter_from(3, reverse=True)] == [b"03", b"02", b"01", b"00"]
    assert list(z.iter_from(25)) == []


def test_remove_range(load):
    for a, b in [(0, 5), (3, 9), (10, 20), (0, 20), (19, 20), (7, 8)]:
        z = ZSet()
        for i in range(20):
            z.add(b"%02d" % i, float(i))
        scores, members = z.remove_range(a, b)
        assert members == [b"%02d" % i for i in range(a, b)]
        assert len(z) == 20 - (b - a)
        assert all(b"%02d" % i not in z for i in range(a, b))
        check(z)


def test_pop_first_last(load):
    z = ZSet()
    for i in range(10):
        z.add(b"%d" % i, float(i))
    z.rank(b"5")  # build the rank tree, so pops must keep it right
    assert z.pop_first() == (0.0, b"0")
    assert z.pop_last() == (9.0, b"9")
    check(z)
    while len(z):
        z.pop_first()
    assert z._cs == []


def test_copy_is_independent(load):
    z = ZSet()
    for i in range(10):
        z.add(b"%d" % i, float(i))
    z.big = True
    z2 = z.copy()
    z2.add(b"new", 4.5)
    z2.remove(b"0")
    assert b"new" not in z and b"0" in z
    assert z2.big
    check(z)
    check(z2)


def test_from_pairs_and_sorted(load):
    pairs = [(b"c", 3.0), (b"a", 1.0), (b"b", 1.0), (b"d", -1.0)]
    z = ZSet.from_pairs(pairs)
    assert list(z) == [b"d", b"a", b"b", b"c"]
    check(z)
    z2 = ZSet.from_sorted([1.0, 2.0, 3.0], [b"x", b"y", b"z"])
    check(z2)


def _server(entries=128, value=64):
    return SimpleNamespace(config=SimpleNamespace(values={"zset-max-listpack-entries": str(entries),
                                                          "zset-max-listpack-value": str(value)}))


def test_encoding_transitions():
    srv = _server(entries=3, value=5)
    z = ZSet()
    assert z.encoding(srv) == b"listpack"
    for m in (b"a", b"b", b"c"):
        z.check_insert(m, srv)
        z.add(m, 1.0)
    assert z.encoding(srv) == b"listpack"
    z.check_insert(b"d", srv)
    assert z.encoding(srv) == b"skiplist"
    # never back, even when it shrinks
    z.remove(b"a")
    z.remove(b"b")
    assert z.encoding(srv) == b"skiplist"
    # a long member converts
    z2 = ZSet()
    z2.check_insert(b"toolong", srv)
    assert z2.big
    # the size hint of ZADD
    z3 = ZSet()
    z3.grow_hint(4, 1, srv)
    assert z3.big
    z4 = ZSet()
    z4.grow_hint(3, 5, srv)
    assert not z4.big
    # store results fit back into a listpack
    z5 = ZSet.from_pairs([(b"a", -0.0), (b"b", 2.0)])
    z5.big = True
    z5.fit_encoding(srv)
    assert not z5.big and str(z5.score(b"a")) == "0.0"
    z6 = ZSet.from_pairs([(b"abcdef", 1.0)])
    z6.fit_encoding(srv)
    assert z6.big


@pytest.mark.parametrize("seed", range(6))
def test_random_operations_against_model(load, seed):
    rng = random.Random(seed)
    z = ZSet()
    ref: dict = {}
    for step in range(600):
        op = rng.random()
        m = b"m%d" % rng.randrange(80)
        s = float(rng.choice([rng.randrange(-5, 5), rng.random() * 10 - 5, 0.0]))
        if op < 0.5:
            if m in ref:
                if ref[m] != s:
                    z.update(m, ref[m], s)
            else:
                z.add(m, s)
            ref[m] = z.d[m]
        elif op < 0.7:
            assert z.remove(m) == ref.pop(m, None)
        elif op < 0.8 and ref:
            expect = sorted((v, k) for k, v in ref.items())
            a = rng.randrange(len(expect))
            b = rng.randrange(a, len(expect)) + 1
            scores, members = z.remove_range(a, b)
            assert list(zip(scores, members)) == expect[a:b]
            for k in members:
                del ref[k]
        elif op < 0.85 and ref:
            s, popped = z.pop_first()
            assert (s, popped) == min((v, k) for k, v in ref.items())
            del ref[popped]
        elif op < 0.9 and ref:
            s, popped = z.pop_last()
            assert (s, popped) == max((v, k) for k, v in ref.items())
            del ref[popped]
        else:
            # queries
            expect = sorted((v, k) for k, v in ref.items())
            bound = rng.randrange(-6, 6) + rng.choice([0.0, 0.5])
            assert z.count_below(bound) == sum(1 for v, _ in expect if v < bound)
            assert z.count_below(bound, True) == sum(1 for v, _ in expect if v <= bound)
            if m in ref:
                assert z.rank(m) == expect.index((ref[m], m))
        assert z.d == ref
        if step % 50 == 0:
            check(z)
    check(z)


def test_big_insert_and_rank_consistency(load):
    if load < 512:
        n = 300
    else:
        n = 5000
    rng = random.Random(11)
    z = ZSet()
    members = [b"e%d" % i for i in range(n)]
    for m in members:
        z.add(m, float(rng.randrange(100)))
    expect = model(z)
    for i in range(0, n, max(1, n // 50)):
        s, m = expect[i]
        assert z.rank(m) == i
        assert z.at(i) == (s, m)
    # interleave inserts with rank queries (the tree is kept up to date, or rebuilt after splits)
    for k in range(200):
        z.add(b"x%d" % k, float(rng.randrange(100)))
        probe = expect[rng.randrange(len(expect))][1]
        if k % 40 == 0:
            assert z.rank(probe) == model(z).index((z.d[probe], probe))
    check(z)
