"""Redis's HyperLogLog, in Redis's own string representation (hyperloglog.c), byte for byte.

A HyperLogLog value is a plain string:

    "HYLL" | encoding (1 = sparse, 0 = dense) | 3 unused bytes | cached cardinality (8 bytes,
    little endian; the top bit of the last byte set = stale) | registers

16384 registers (P = 14) of 6 bits. Dense: the registers packed LSB first, 12288 bytes. Sparse: a
run-length code: ZERO `00xxxxxx` (1-64 zero registers), XZERO `01xxxxxx yyyyyyyy` (up to 16384),
VAL `1vvvvvxx` (1-4 registers of value 1-32). A sparse value turns dense when a register needs a
value over 32 or the string would grow past `hll-sparse-max-bytes`.

Elements are hashed with MurmurHash64A (seed 0xadc83b19); the low 14 bits pick the register, the
run of zeros above them (plus one) is the candidate value. The estimate is Ertl's improved
estimator (hllSigma / hllTau), computed in doubles in Redis's order, so counts equal Redis's.

The sparse code is history dependent (how runs were split and re-merged), so updates follow Redis's
hllSparseSet step by step, over a list of opcodes with their first register (found by bisection).
Dense registers are kept one per byte in a bytearray; packing and unpacking run through
bytes.translate and big-int ORs, so they stay in C.
"""
from __future__ import annotations

import math
import re
import struct
from bisect import bisect_right
from itertools import accumulate

HDR_SIZE = 16
REGISTERS = 16384
P = 14
Q = 64 - P
DENSE_BYTES = REGISTERS * 6 // 8
DENSE_SIZE = HDR_SIZE + DENSE_BYTES
DENSE, SPARSE = 0, 1
MAGIC = b"HYLL"
SEED = 0xADC83B19
ALPHA_INF = 0.721347520444481703680

_M = 0xC6A4A7935BD1E995
_MASK = (1 << 64) - 1
_QBIT = 1 << Q


class InvalidHLL(Exception):
    """A sparse representation that does not cover exactly the 16384 registers."""


def murmur64a(data: bytes, seed: int = SEED) -> int:
    """MurmurHash64A as Redis has it (endian neutral: blocks read little endian)."""
    n = len(data)
    h = (seed ^ (n * _M)) & _MASK
    nblocks = n >> 3
    if nblocks:
        for k in struct.unpack_from("<%dQ" % nblocks, data):
            k = (k * _M) & _MASK
            k ^= k >> 47
            h ^= (k * _M) & _MASK
            h = (h * _M) & _MASK
    if n & 7:
        h ^= int.from_bytes(data[nblocks << 3:], "little")
        h = (h * _M) & _MASK
    h ^= h >> 47
    h = (h * _M) & _MASK
    return h ^ (h >> 47)


def pat_len(ele: bytes) -> tuple[int, int]:
    """hllPatLen: (register index, 1 + number of zeros above the index bits)."""
    h = murmur64a(ele)
    x = (h >> P) | _QBIT
    return h & (REGISTERS - 1), (x & -x).bit_length()


# --- dense packing through translate tables -------------------------------------------------
def _table(f):
    return bytes(f(b) & 0xFF for b in range(256))


_LO6 = _table(lambda b: b & 63)
_HI2 = _table(lambda b: b >> 6)
_LO4_SHL2 = _table(lambda b: (b & 15) << 2)
_HI4 = _table(lambda b: b >> 4)
_LO2_SHL4 = _table(lambda b: (b & 3) << 4)
_HI6 = _table(lambda b: b >> 2)
_SHL6 = _table(lambda b: b << 6)
_SHR2 = _table(lambda b: b >> 2)
_SHL4 = _table(lambda b: b << 4)
_SHR4 = _table(lambda b: b >> 4)
_SHL2 = _table(lambda b: b << 2)


def _or(a: bytes, b: bytes) -> bytes:
    """Byte-wise OR of two equal-length strings whose set bits never overlap."""
    return (int.from_bytes(a, "big") | int.from_bytes(b, "big")).to_bytes(len(a), "big")


def unpack_dense(packed) -> bytearray:
    """12288 packed bytes -> 16384 registers, one per byte."""
    b0, b1, b2 = bytes(packed[0::3]), bytes(packed[1::3]), bytes(packed[2::3])
    regs = bytearray(REGISTERS)
    regs[0::4] = b0.translate(_LO6)
    regs[1::4] = _or(b0.translate(_HI2), b1.translate(_LO4_SHL2))
    regs[2::4] = _or(b1.translate(_HI4), b2.translate(_LO2_SHL4))
    regs[3::4] = b2.translate(_HI6)
    return regs


def pack_dense(regs) -> bytearray:
    """16384 registers (values < 64) -> 12288 packed bytes."""
    r0, r1, r2, r3 = bytes(regs[0::4]), bytes(regs[1::4]), bytes(regs[2::4]), bytes(regs[3::4])
    out = bytearray(DENSE_BYTES)
    out[0::3] = _or(r0, r1.translate(_SHL6))
    out[1::3] = _or(r1.translate(_SHR2), r2.translate(_SHL4))
    out[2::3] = _or(r2.translate(_SHR4), r3.translate(_SHL2))
    return out


# --- the estimator --------------------------------------------------------------------------
def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        zp = z
        z += x * y
        y += y
        if zp == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        zp = z
        y *= 0.5
        z -= pow(1 - x, 2) * y
        if zp == z:
            return z / 3


def estimate(hist: list) -> int:
    """hllCount from a register histogram (64 buckets)."""
    m = float(REGISTERS)
    z = m * _tau((m - hist[Q + 1]) / m)
    for j in range(Q, 0, -1):
        z += hist[j]
        z *= 0.5
    z += m * _sigma(hist[0] / m)
    e = ALPHA_INF * m * m / z
    r = math.floor(e)
    if e - r >= 0.5:  # llroundl: halves away from zero
        r += 1
    return int(r)


def histogram_of(regs) -> list:
    return [regs.count(v) for v in range(64)]


# --- sparse opcodes: ZERO = len-1 (0..63); VAL = 0x80|(v-1)<<2|(len-1); XZERO = 0x4000|(len-1) -----
def _zero_op(n: int) -> int:
    return 0x4000 | (n - 1) if n > 64 else n - 1


def _val_op(v: int, n: int) -> int:
    return 0x80 | ((v - 1) << 2) | (n - 1)


def _span(op: int) -> int:
    if op >= 0x4000:
        return (op & 0x3FFF) + 1
    if op >= 0x80:
        return (op & 3) + 1
    return op + 1


# a sparse opcode is one byte, or two for XZERO (first byte 01xxxxxx); the XZEROs are found by a
# regex (in C) and the one-byte opcodes between them copied as they are
_XZERO_RE = re.compile(rb"[\x40-\x7f]")
_SPAN = [_span(op) for op in range(0x8000)]


def _sparse_ops(body: bytes) -> list:
    ops: list = []
    pos = 0
    second = -1
    n = len(body)
    for m in _XZERO_RE.finditer(body):
        p = m.start()
        if p == second:
            continue  # the second byte of the XZERO just taken
        ops += body[pos:p]
        ops.append((body[p] << 8) | (body[p + 1] if p + 1 < n else 0))
        pos = p + 2
        second = p + 1
    ops += body[pos:]
    return ops


def is_hll(v) -> bool:
    """isHLLObjectOrReply's checks on a string value."""
    if len(v) < HDR_SIZE or v[:4] != MAGIC or v[4] > 1:
        return False
    return not (v[4] == DENSE and len(v) != DENSE_SIZE)


def cached_card(v: bytes):
    """The cached cardinality, or None when stale."""
    if v[15] & 0x80:
        return None
    return int.from_bytes(v[8:16], "little")


class HLL:
    """A HyperLogLog being read or modified; `to_bytes()` gives Redis's string."""

    __slots__ = ("encoding", "head", "card", "regs", "ops", "starts", "nbytes", "valid")

    def __init__(self):
        self.encoding = SPARSE
        self.head = b"\x00\x00\x00"  # the unused header bytes, kept as found
        self.card = bytearray(8)
        self.regs = None
        self.ops = [0x4000 | (REGISTERS - 1)]  # createHLLObject: one XZERO for all registers
        self.starts = [0]
        self.nbytes = 2
        self.valid = True

    @classmethod
    def from_bytes(cls, v: bytes) -> "HLL":
        """A value that passed is_hll."""
        h = cls.__new__(cls)
        h.encoding = v[4]
        h.head = v[5:8]
        h.card = bytearray(v[8:16])
        h.valid = True
        if h.encoding == DENSE:
            h.regs = unpack_dense(memoryview(v)[HDR_SIZE:])
            h.ops = h.starts = None
            h.nbytes = 0
            return h
        h.regs = None
        ops = _sparse_ops(v[HDR_SIZE:])
        spans = list(map(_SPAN.__getitem__, ops))
        starts = list(accumulate(spans, initial=0))
        idx = starts.pop()
        h.ops, h.starts = ops, starts
        h.nbytes = len(v) - HDR_SIZE
        h.valid = idx == REGISTERS
        return h

    def to_bytes(self) -> bytes:
        head = MAGIC + bytes((self.encoding,)) + self.head + self.card
        if self.encoding == DENSE:
            return head + pack_dense(self.regs)
        out = bytearray(head)
        for op in self.ops:
            if op >= 0x4000:
                out.append(op >> 8)
                out.append(op & 0xFF)
            else:
                out.append(op)
        return bytes(out)

    def invalidate(self) -> None:
        self.card[7] |= 0x80

    def registers(self) -> bytearray:
        """All registers, one per byte (raises InvalidHLL for a broken sparse value)."""
        if self.encoding == DENSE:
            return self.regs
        if not self.valid:
            raise InvalidHLL()
        regs = bytearray(REGISTERS)
        for op, first in zip(self.ops, self.starts):
            if 0x80 <= op < 0x4000:
                n = (op & 3) + 1
                regs[first:first + n] = bytes((((op >> 2) & 31) + 1,)) * n
        return regs

    def histogram(self) -> list:
        if self.encoding == DENSE:
            return histogram_of(self.regs)
        if not self.valid:
            raise InvalidHLL()
        hist = [0] * 64
        for op in self.ops:
            if 0x80 <= op < 0x4000:
                hist[((op >> 2) & 31) + 1] += (op & 3) + 1
            else:
                hist[0] += _span(op)
        return hist

    def count(self) -> int:
        return estimate(self.histogram())

    def to_dense(self) -> None:
        """hllSparseToDense (the header, cached cardinality included, is kept)."""
        if self.encoding == DENSE:
            return
        self.regs = self.registers()
        self.encoding = DENSE
        self.ops = self.starts = None
        self.nbytes = 0

    # --- updates --------------------------------------------------------------------------
    def add_all(self, elements, max_bytes: int) -> int:
        """PFADD's loop: the number of elements that raised a register (hllAdd == 1)."""
        updated = 0
        it = iter(elements)
        if self.encoding == SPARSE:
            for ele in it:
                index, count = pat_len(ele)
                try:
                    if self.sparse_set(index, count, max_bytes):
                        updated += 1
                except InvalidHLL as e:
                    e.updated = updated  # what was changed before (Redis changes the value in place)
                    raise
                if self.encoding == DENSE:
                    break
        if self.encoding == DENSE:
            regs = self.regs
            mask = REGISTERS - 1
            for ele in it:
                # pat_len, inlined for speed
                n = len(ele)
                h = (SEED ^ (n * _M)) & _MASK
                nb = n >> 3
                if nb:
                    for k in struct.unpack_from("<%dQ" % nb, ele):
                        k = (k * _M) & _MASK
                        k ^= k >> 47
                        h ^= (k * _M) & _MASK
                        h = (h * _M) & _MASK
                if n & 7:
                    h ^= int.from_bytes(ele[nb << 3:], "little")
                    h = (h * _M) & _MASK
                h ^= h >> 47
                h = (h * _M) & _MASK
                h ^= h >> 47
                x = (h >> P) | _QBIT
                count = (x & -x).bit_length()
                index = h & mask
                if regs[index] < count:
                    regs[index] = count
                    updated += 1
        return updated

    def set_register(self, index: int, count: int, max_bytes: int) -> int:
        if self.encoding == DENSE:
            if self.regs[index] < count:
                self.regs[index] = count
                return 1
            return 0
        return self.sparse_set(index, count, max_bytes)

    def _promote(self, index: int, count: int) -> int:
        self.to_dense()
        self.regs[index] = count
        return 1

    def sparse_set(self, index: int, count: int, max_bytes: int) -> int:
        """hllSparseSet: 1 if the register grew, 0 if not; may turn the HLL dense."""
        if count > 32:
            return self._promote(index, count)
        ops, starts = self.ops, self.starts
        k = bisect_right(starts, index) - 1
        if not self.valid and (k < 0 or index >= starts[k] + _span(ops[k])):
            raise InvalidHLL()
        op = ops[k]
        first = starts[k]
        if op >= 0x4000:
            kind, runlen = 1, (op & 0x3FFF) + 1
        elif op >= 0x80:
            kind, runlen = 2, (op & 3) + 1
        else:
            kind, runlen = 0, op + 1
        if kind == 2:
            old = ((op >> 2) & 31) + 1
            if old >= count:
                return 0
            if runlen == 1:
                ops[k] = _val_op(count, 1)
                self._merge(k)
                return 1
        elif kind == 0 and runlen == 1:
            ops[k] = _val_op(count, 1)
            self._merge(k)
            return 1
        last = first + runlen - 1
        seq = []
        seq_starts = []
        if kind != 2:
            if index != first:
                seq.append(_zero_op(index - first))
                seq_starts.append(first)
            seq.append(_val_op(count, 1))
            seq_starts.append(index)
            if index != last:
                seq.append(_zero_op(last - index))
                seq_starts.append(index + 1)
        else:
            if index != first:
                seq.append(_val_op(old, index - first))
                seq_starts.append(first)
            seq.append(_val_op(count, 1))
            seq_starts.append(index)
            if index != last:
                seq.append(_val_op(old, last - index))
                seq_starts.append(index + 1)
        seqlen = sum(2 if o >= 0x4000 else 1 for o in seq)
        delta = seqlen - (2 if kind == 1 else 1)
        if delta > 0 and HDR_SIZE + self.nbytes + delta > max_bytes:  # sdslen counts the header
            return self._promote(index, count)
        ops[k:k + 1] = seq
        starts[k:k + 1] = seq_starts
        self.nbytes += delta
        self._merge(k)
        return 1

    def _merge(self, k: int) -> None:
        """Step 4 of hllSparseSet: merge adjacent equal VALs, scanning 5 opcodes from the one
        before the change."""
        ops, starts = self.ops, self.starts
        p = k - 1 if k > 0 else 0
        scan = 5
        while p < len(ops) and scan:
            scan -= 1
            op = ops[p]
            if op < 0x80 or op >= 0x4000:
                p += 1
                continue
            if p + 1 < len(ops):
                nxt = ops[p + 1]
                if 0x80 <= nxt < 0x4000 and (op >> 2) & 31 == (nxt >> 2) & 31:
                    n = (op & 3) + (nxt & 3) + 2
                    if n <= 4:
                        ops[p] = (op & ~3) | (n - 1)
                        del ops[p + 1]
                        del starts[p + 1]
                        self.nbytes -= 1
                        continue
            p += 1

    def decode(self) -> bytes:
        """PFDEBUG DECODE's text of a sparse HLL."""
        parts = []
        for op in self.ops:
            if op >= 0x4000:
                parts.append(b"Z:%d" % ((op & 0x3FFF) + 1))
            elif op >= 0x80:
                parts.append(b"v:%d,%d" % (((op >> 2) & 31) + 1, (op & 3) + 1))
            else:
                parts.append(b"z:%d" % (op + 1))
        return b" ".join(parts)
