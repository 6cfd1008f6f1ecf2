"""Bitmap commands (bitops.c): SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.

A bitmap is a plain string value (bytes); bit 0 is the most significant bit of byte 0. Counting and
searching run in C through Python's own primitives (int.from_bytes + int.bit_count for
popcounts, bytes.lstrip for the first set / clear byte), so BITCOUNT over megabytes stays fast.
Writes build the new value in a bytearray and store it back as bytes.
"""
from __future__ import annotations

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import string2ll

from ..args import clamp_range, parse_int
from ..keyspace import NOTIFY_GENERIC, NOTIFY_STRING
from . import command
from .keys import lookup_read

_WRONGTYPE = errors.WRONGTYPE
_NOT_TABLE = bytes(255 - i for i in range(256))


def _bit_offset(c, arg: bytes, hash_bits: int = 0) -> int:
    """getBitOffsetFromArgument: a bit offset (`#n` means n * hash_bits for BITFIELD)."""
    usehash = hash_bits and arg[:1] == b"#"
    v = string2ll(arg[1:] if usehash else arg)
    if v is None:
        raise RespError(errors.BIT_OFFSET)
    if usehash:
        v *= hash_bits
        if not -(1 << 63) <= v < (1 << 63):  # C's signed multiplication wraps
            v = (v + (1 << 63)) % (1 << 64) - (1 << 63)
    if v < 0 or ((v >> 3) >= c.server.proto_max_bulk_len and not c.is_master):
        raise RespError(errors.BIT_OFFSET)
    return v


def _read_string(c, key: bytes):
    v = lookup_read(c, key)
    if v is not None and type(v) is not bytes:
        raise RespError(_WRONGTYPE)
    return v


def _write_string(c, key: bytes, maxbit: int):
    """lookupStringForBitCommand: (bytearray grown to hold `maxbit`, existed, dirty)."""
    v = c.db.lookup(key)
    if v is not None and type(v) is not bytes:
        raise RespError(_WRONGTYPE)
    need = (maxbit >> 3) + 1
    if v is None:
        return bytearray(need), False, True
    if len(v) < need:
        return bytearray(v) + bytes(need - len(v)), True, True
    return bytearray(v), True, False


def _store(c, key: bytes, buf: bytearray, existed: bool) -> None:
    if existed:
        c.db.data[key] = bytes(buf)
    else:
        c.db.add(key, bytes(buf))


@command("setbit")
def setbit_command(c, argv):
    key = argv[1]
    offset = _bit_offset(c, argv[2])
    on = string2ll(argv[3])
    if on is None or on & ~1:
        raise RespError(errors.BIT_VALUE)
    db = c.db
    v = db.lookup(key)
    if v is not None and type(v) is not bytes:
        raise RespError(_WRONGTYPE)
    byte = offset >> 3
    mask = 0x80 >> (offset & 7)
    if v is not None and byte < len(v):
        old = 1 if v[byte] & mask else 0
        if old == on:
            return old
        new = v[byte] | mask if on else v[byte] & ~mask
        db.data[key] = v[:byte] + bytes((new,)) + v[byte + 1:]
    else:
        old = 0
        tail = bytes((mask if on else 0,))
        if v is None:
            db.add(key, bytes(byte) + tail)
        else:
            db.data[key] = v + bytes(byte - len(v)) + tail
    c.changed(key, NOTIFY_STRING, b"setbit")
    return old


@command("getbit")
def getbit_command(c, argv):
    offset = _bit_offset(c, argv[2])
    v = _read_string(c, argv[1])
    if v is None:
        return 0
    byte = offset >> 3
    if byte >= len(v):
        return 0
    return 1 if v[byte] & (0x80 >> (offset & 7)) else 0


def _popcount(v: bytes, start: int, end: int) -> int:
    """Set bits in v[start:end]."""
    return int.from_bytes(v[start:end], "big").bit_count()


def _range(totlen: int, isbit: bool, start: int, end: int):
    """Normalise (start, end) as BITCOUNT/BITPOS do: negative indexes, clamping (in bits or bytes)."""
    return clamp_range(start, end, totlen << 3 if isbit else totlen)


def _parse_unit(arg: bytes) -> bool:
    low = arg.lower()
    if low == b"bit":
        return True
    if low == b"byte":
        return False
    raise RespError(errors.SYNTAX)


@command("bitcount")
def bitcount_command(c, argv):
    n = len(argv)
    if n in (4, 5):
        start = parse_int(argv[2])
        end = parse_int(argv[3])
        isbit = _parse_unit(argv[4]) if n == 5 else False
        v = _read_string(c, argv[1])
        if v is None:
            return 0
        if start < 0 and end < 0 and start > end:
            return 0
        start, end = _range(len(v), isbit, start, end)
        if start > end:
            return 0
        if not isbit:
            return _popcount(v, start, end + 1)
        # count whole bytes, then drop the bits outside [start, end] at both edges
        sb, eb = start >> 3, end >> 3
        count = _popcount(v, sb, eb + 1)
        head = v[sb] >> (8 - (start & 7)) if start & 7 else 0
        tail = v[eb] & ((1 << (7 - (end & 7))) - 1)
        return count - head.bit_count() - tail.bit_count()
    if n == 2:
        v = _read_string(c, argv[1])
        if v is None:
            return 0
        return int.from_bytes(v, "big").bit_count()
    raise RespError(errors.SYNTAX)


def _first_bit(v: bytes, start: int, end: int, bit: int) -> int:
    """redisBitpos over v[start:end] (bytes): the first bit equal to `bit`; -1 if none is set when
    looking for 1; the first bit past the range when looking for 0 and every bit is 1."""
    chunk = v[start:end]
    skip = b"\x00" if bit else b"\xff"
    rest = chunk.lstrip(skip)
    if not rest:
        return -1 if bit else len(chunk) * 8
    idx = len(chunk) - len(rest)
    b = rest[0] if bit else rest[0] ^ 0xFF
    return idx * 8 + 8 - b.bit_length()


@command("bitpos")
def bitpos_command(c, argv):
    n = len(argv)
    bit = string2ll(argv[2])
    if bit is None:
        raise RespError(errors.NOT_INTEGER)
    if bit != 0 and bit != 1:
        raise RespError(errors.BITPOS_BIT)
    isbit = False
    end_given = False
    if n in (4, 5, 6):
        start = parse_int(argv[3])
        if n == 6:
            isbit = _parse_unit(argv[5])
        end = 0
        if n >= 5:
            end = parse_int(argv[4])
            end_given = True
        v = _read_string(c, argv[1])
        if v is None:
            return -1 if bit else 0
        if n < 5:
            end = len(v) - 1
        start, end = _range(len(v), isbit, start, end)
    elif n == 3:
        v = _read_string(c, argv[1])
        if v is None:
            return -1 if bit else 0
        start, end = 0, len(v) - 1
    else:
        raise RespError(errors.SYNTAX)
    if start > end:
        return -1
    if not isbit:
        pos = _first_bit(v, start, end + 1, bit)
        nbits = (end - start + 1) * 8
        if end_given and bit == 0 and pos == nbits:
            return -1
        return pos + start * 8 if pos != -1 else -1
    # a bit range: look at the bytes holding it, with the bits outside forced to "not found"
    sb, eb = start >> 3, end >> 3
    chunk = bytearray(v[sb:eb + 1])
    head = (0xFF << (8 - (start & 7))) & 0xFF  # bits before `start` in the first byte
    tail = (1 << (7 - (end & 7))) - 1  # bits after `end` in the last byte
    if bit:
        chunk[0] &= ~head & 0xFF
        chunk[-1] &= ~tail & 0xFF
    else:
        chunk[0] |= head
        chunk[-1] |= tail
    pos = _first_bit(bytes(chunk), 0, len(chunk), bit)
    if pos == -1 or pos == len(chunk) * 8:
        return -1  # with a BIT range the end is always given
    return pos + sb * 8


@command("bitop")
def bitop_command(c, argv):
    op = argv[1].lower()
    if op not in (b"and", b"or", b"xor", b"not"):
        raise RespError(errors.SYNTAX)
    if op == b"not" and len(argv) != 4:
        raise RespError(errors.BITOP_NOT_ONE_KEY)
    target = argv[2]
    srcs = []
    for key in argv[3:]:
        v = lookup_read(c, key)
        if v is not None and type(v) is not bytes:
            raise RespError(_WRONGTYPE)
        srcs.append(v or b"")
    maxlen = max(len(s) for s in srcs)
    db = c.db
    if not maxlen:
        if db.lookup(target) is not None and db.delete(target):
            c.changed(target, NOTIFY_GENERIC, b"del")
        return 0
    if op == b"not":
        res = srcs[0].translate(_NOT_TABLE)
    else:
        acc = int.from_bytes(srcs[0].ljust(maxlen, b"\x00"), "big")
        for s in srcs[1:]:
            x = int.from_bytes(s.ljust(maxlen, b"\x00"), "big")
            if op == b"and":
                acc &= x
            elif op == b"or":
                acc |= x
            else:
                acc ^= x
        res = acc.to_bytes(maxlen, "big")
    db.set(target, res)
    c.changed(target, NOTIFY_STRING, b"set")
    return maxlen


# --- BITFIELD ----------------------------------------------------------------------------------

_GET, _SET, _INCRBY = 0, 1, 2
_WRAP, _SAT, _FAIL = 0, 1, 2
_U64 = (1 << 64) - 1


def _field_type(arg: bytes):
    """getBitfieldTypeFromArgument: (signed, bits)."""
    sign = arg[:1]
    if sign not in (b"i", b"u"):
        raise RespError(errors.BITFIELD_TYPE)
    bits = string2ll(arg[1:])
    signed = sign == b"i"
    if bits is None or bits < 1 or bits > (64 if signed else 63):
        raise RespError(errors.BITFIELD_TYPE)
    return signed, bits


def _get_field(buf, offset: int, bits: int, signed: bool) -> int:
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    raw = bytes(buf[first:last + 1])
    nbytes = last - first + 1
    if len(raw) < nbytes:
        raw += bytes(nbytes - len(raw))
    x = int.from_bytes(raw, "big") >> (nbytes * 8 - (offset & 7) - bits)
    x &= (1 << bits) - 1
    if signed and x >> (bits - 1):
        x -= 1 << bits
    return x


def _set_field(buf: bytearray, offset: int, bits: int, value: int) -> None:
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    nbytes = last - first + 1
    shift = nbytes * 8 - (offset & 7) - bits
    mask = ((1 << bits) - 1) << shift
    x = int.from_bytes(buf[first:last + 1], "big")
    x = (x & ~mask) | ((value << shift) & mask)
    buf[first:last + 1] = x.to_bytes(nbytes, "big")


def _overflow(value: int, bits: int, signed: bool, owtype: int):
    """(overflowed, value to store) per the overflow policy (FAIL keeps the value; it is unused)."""
    if signed:
        hi = (1 << (bits - 1)) - 1
        lo = -hi - 1
    else:
        hi = (1 << bits) - 1
        lo = 0
    if lo <= value <= hi:
        return False, value
    if owtype == _SAT:
        return True, hi if value > hi else lo
    if owtype == _WRAP:
        value &= (1 << bits) - 1
        if signed and value >> (bits - 1):
            value -= 1 << bits
        return True, value
    return True, value


def _bitfield_generic(c, argv, readonly_cmd: bool):
    ops = []
    owtype = _WRAP
    readonly = True
    highest = 0
    n = len(argv)
    j = 2
    while j < n:
        remargs = n - j - 1
        sub = argv[j].lower()
        if sub == b"get" and remargs >= 2:
            opcode = _GET
        elif sub == b"set" and remargs >= 3:
            opcode = _SET
        elif sub == b"incrby" and remargs >= 3:
            opcode = _INCRBY
        elif sub == b"overflow" and remargs >= 1:
            kind = argv[j + 1].lower()
            j += 2
            if kind == b"wrap":
                owtype = _WRAP
            elif kind == b"sat":
                owtype = _SAT
            elif kind == b"fail":
                owtype = _FAIL
            else:
                raise RespError(errors.BITFIELD_OVERFLOW)
            continue
        else:
            raise RespError(errors.SYNTAX)
        signed, bits = _field_type(argv[j + 1])
        offset = _bit_offset(c, argv[j + 2], bits)
        value = 0
        if opcode != _GET:
            readonly = False
            if highest < offset + bits - 1:
                highest = offset + bits - 1
            value = string2ll(argv[j + 3])
            if value is None:
                raise RespError(errors.NOT_INTEGER)
        ops.append((opcode, signed, bits, offset, value, owtype))
        j += 4 if opcode != _GET else 3
    key = argv[1]
    if readonly:
        v = _read_string(c, key)
        buf = v if v is not None else b""
        return [_get_field(buf, offset, bits, signed) for _, signed, bits, offset, _, _ in ops]
    if readonly_cmd:
        raise RespError(errors.BITFIELD_RO)
    buf, existed, dirty = _write_string(c, key, highest)
    replies = []
    changes = 0
    for opcode, signed, bits, offset, value, ow in ops:
        if opcode == _GET:
            replies.append(_get_field(buf, offset, bits, signed))
            continue
        old = _get_field(buf, offset, bits, signed)
        if opcode == _INCRBY:
            overflow, new = _overflow(old + value, bits, signed, ow)
            ret = new
        else:
            if not signed:
                value &= _U64  # the C code reads the value as uint64
            overflow, new = _overflow(value, bits, signed, ow)
            ret = old
        if overflow and ow == _FAIL:
            replies.append(None)
            continue
        replies.append(ret)
        _set_field(buf, offset, bits, new)
        if dirty or old != new:
            changes += 1
    _store(c, key, buf, existed)
    if changes:
        c.changed(key, NOTIFY_STRING, b"setbit")
        c.server.dirty += changes - 1
    return replies


@command("bitfield")
def bitfield_command(c, argv):
    return _bitfield_generic(c, argv, False)


@command("bitfield_ro")
def bitfield_ro_command(c, argv):
    return _bitfield_generic(c, argv, True)
