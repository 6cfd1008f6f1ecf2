"""The replication backlog's ring buffer: offsets, wrap-around, coverage, resize."""
from __future__ import annotations

import random

from shard.replication.backlog import Backlog


def test_offsets_and_wrap_around():
    b = Backlog(10, end=100)
    assert (b.offset, b.histlen, b.end) == (101, 0, 100)
    assert b.covers(101) and not b.covers(100) and not b.covers(102)
    b.append(b"abcdef")
    assert (b.offset, b.histlen, b.end) == (101, 6, 106)
    assert b.read_from(101) == b"abcdef" and b.read_from(104) == b"def" and b.read_from(107) == b""
    b.append(b"ghijkl")  # wraps: keeps the last 10 bytes
    assert (b.offset, b.histlen, b.end) == (103, 10, 112)
    assert b.read_from(103) == b"cdefghijkl"
    assert b.covers(103) and b.covers(113) and not b.covers(102)
    b.append(b"0123456789ABC")  # larger than the buffer
    assert b.read_from(b.offset) == b"3456789ABC" and b.end == 125


def test_resize_keeps_the_newest_bytes():
    b = Backlog(8, end=0)
    b.append(b"12345678")
    b.append(b"9a")
    b.resize(4)
    assert (b.offset, b.read_from(b.offset)) == (7, b"789a")
    b.append(b"bc")
    assert b.read_from(b.offset) == b"9abc"
    b.resize(16)
    b.append(b"defg")
    assert b.read_from(b.offset) == b"9abcdefg" and b.offset == 9


def test_random_appends_hold_the_stream_s_last_bytes():
    rng = random.Random(7)
    for size in (1, 7, 64, 1000):
        b = Backlog(size, end=0)
        stream = b""
        for _ in range(300):
            data = bytes(rng.randrange(256) for _ in range(rng.choice((0, 1, 3, size - 1, size, size + 5, 40))))
            b.append(data)
            stream += data
            assert b.end == len(stream) and b.histlen == min(size, len(stream))
            assert b.read_from(b.offset) == stream[-b.histlen:] if b.histlen else b.read_from(b.offset) == b""
