"""Sizes of listpack entries as Redis 7.4 lays them out (what MEMORY USAGE, OBJECT ENCODING and the
stream's macro nodes count), without building the bytes."""
from __future__ import annotations

from amr_emulator.protocol.resp import string2ll


def lp_int_size(v: int) -> int:
    """Bytes of a listpack integer entry: encoding, data and back-length."""
    if 0 <= v <= 127:
        return 2
    if -4096 <= v <= 4095:
        return 3
    if -32768 <= v <= 32767:
        return 4
    if -8388608 <= v <= 8388607:
        return 5
    if -2147483648 <= v <= 2147483647:
        return 6
    return 10


def lp_entry_size(b: bytes) -> int:
    """Bytes of a listpack entry holding `b` (stored as an integer when it reads as one): encoding,
    data and back-length."""
    n = len(b)
    if n <= 20:
        v = string2ll(b)
        if v is not None:
            return lp_int_size(v)
    if n < 64:
        size = 1 + n
    elif n < 4096:
        size = 2 + n
    else:
        size = 5 + n
    if size <= 127:
        return size + 1
    if size < 16383:
        return size + 2
    if size < 2097151:
        return size + 3
    if size < 268435455:
        return size + 4
    return size + 5
