"""HyperLogLog commands (hyperloglog.c): PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST.

Values are plain strings in Redis's HYLL format (see structures.hll), so GET/SET/DUMP of a
HyperLogLog move between the shard and a real Redis unchanged.
"""
from __future__ import annotations

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import OK, Simple

from ..keyspace import NOTIFY_STRING
from ..structures import hll
from ..structures.hll import HLL, InvalidHLL
from . import command
from .keys import lookup_read


def _max_bytes(c) -> int:
    return int(c.server.config.values["hll-sparse-max-bytes"])


def _check(v) -> None:
    """isHLLObjectOrReply on an existing value."""
    if type(v) is not bytes:
        raise RespError(errors.WRONGTYPE)
    if not hll.is_hll(v):
        raise RespError(errors.HLL_NOT_HLL)


def _store(c, key: bytes, h: HLL, existed: bool) -> bytes:
    v = h.to_bytes()
    if existed:
        c.db.data[key] = v
    else:
        c.db.add(key, v)
    return v


# The value PFADD wrote last and its decoded form: a run of PFADDs to one key decodes it once.
# Values are immutable bytes, so identity says the decoded form is still that value's.
_last: list = [None, None]


@command("pfadd")
def pfadd_command(c, argv):
    key = argv[1]
    v = c.db.lookup(key)
    if v is None:
        h = HLL()
        updated = 1
    else:
        _check(v)
        if len(argv) == 2:
            return 0
        h = _last[1] if v is _last[0] else HLL.from_bytes(v)
        updated = 0
    _last[0] = _last[1] = None  # h changes below
    try:
        updated += h.add_all(argv[2:], _max_bytes(c))
    except InvalidHLL as e:
        if getattr(e, "updated", 0) and v is not None:
            # Redis updated the value in place up to the corrupt spot, each sparse update marking
            # the cached cardinality stale; the key keeps that, with no event
            h.invalidate()
            c.db.data[key] = h.to_bytes()
        raise RespError(errors.HLL_INVALID) from None
    if not updated:
        _last[0], _last[1] = v, h
        return 0
    h.invalidate()
    _last[0] = _store(c, key, h, v is not None)
    _last[1] = h
    c.changed(key, NOTIFY_STRING, b"pfadd")
    c.server.dirty += updated - 1  # server.dirty += updated
    return 1


@command("pfcount")
def pfcount_command(c, argv):
    if len(argv) > 2:
        regs = bytearray(hll.REGISTERS)
        for key in argv[1:]:
            v = lookup_read(c, key)
            if v is None:
                continue
            _check(v)
            try:
                other = HLL.from_bytes(v).registers()
            except InvalidHLL:
                raise RespError(errors.HLL_INVALID) from None
            regs = bytearray(map(max, regs, other))
        return hll.estimate(hll.histogram_of(regs))
    key = argv[1]
    v = lookup_read(c, key)
    if v is None:
        return 0
    _check(v)
    card = hll.cached_card(v)
    if card is not None:
        return card
    h = HLL.from_bytes(v)
    try:
        card = h.count()
    except InvalidHLL:
        raise RespError(errors.HLL_INVALID) from None
    h.card[:] = card.to_bytes(8, "little")
    db = c.db
    db.data[key] = h.to_bytes()
    db.changed(key)
    c.server.dirty += 1
    return card


@command("pfmerge")
def pfmerge_command(c, argv):
    regs = bytearray(hll.REGISTERS)
    use_dense = False
    for key in argv[1:]:
        v = lookup_read(c, key)
        if v is None:
            continue
        _check(v)
        if v[4] == hll.DENSE:
            use_dense = True
        try:
            other = HLL.from_bytes(v).registers()
        except InvalidHLL:
            raise RespError(errors.HLL_INVALID) from None
        regs = bytearray(map(max, regs, other))
    dest = argv[1]
    v = c.db.lookup(dest)
    h = HLL() if v is None else HLL.from_bytes(v)
    try:
        if use_dense:
            h.to_dense()
        if h.encoding == hll.DENSE:
            h.regs = bytearray(map(max, h.regs, regs))
        else:
            max_bytes = _max_bytes(c)
            for j, r in enumerate(regs):
                if r:
                    try:
                        h.set_register(j, r, max_bytes)
                    except InvalidHLL:
                        pass  # hllSparseSet's -1 is ignored here, as in Redis
    except InvalidHLL:
        raise RespError(errors.HLL_INVALID) from None
    h.invalidate()
    _store(c, dest, h, v is not None)
    c.changed(dest, NOTIFY_STRING, b"pfadd")
    return OK


@command("pfdebug")
def pfdebug_command(c, argv):
    sub = argv[1]
    key = argv[2]
    v = c.db.lookup(key)
    if v is None:
        raise RespError(errors.HLL_NO_KEY)
    _check(v)
    low = sub.lower()
    h = HLL.from_bytes(v)
    if low in (b"getreg", b"todense"):
        converted = h.encoding == hll.SPARSE
        if converted:
            try:
                h.to_dense()
            except InvalidHLL:
                raise RespError(errors.HLL_INVALID) from None
            c.db.data[key] = h.to_bytes()
            c.server.dirty += 1
        if low == b"todense":
            return 1 if converted else 0
        return list(h.regs)
    if low == b"decode":
        if h.encoding != hll.SPARSE:
            raise RespError(errors.HLL_NOT_SPARSE)
        return h.decode()
    if low == b"encoding":
        return Simple("dense" if h.encoding == hll.DENSE else "sparse")
    raise RespError(errors.HLL_UNKNOWN_SUB.format(sub.decode("utf-8", "replace")))


@command("pfselftest")
def pfselftest_command(c, argv):
    """Redis runs its register and estimator self-test here; the equivalent checks live in this
    project's tests, so the shard answers as a passing Redis does."""
    regs = bytearray(range(64)) * (hll.REGISTERS // 64)
    if hll.unpack_dense(hll.pack_dense(regs)) != regs:
        raise RespError("TESTFAILED Register mismatch")
    return OK
