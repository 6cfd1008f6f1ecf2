"""The replication backlog: the last `size` bytes of the replication stream, in a ring buffer.

Offsets are Redis's: the stream's first byte is offset 1, `end` is the offset of the last byte
written (the server's master_repl_offset), `offset` the first byte still held (Redis's
repl_backlog->offset, INFO's repl_backlog_first_byte_offset). A replica asking PSYNC for offset X
(the first byte it has not seen) can continue if offset <= X <= end + 1.
"""
from __future__ import annotations


class Backlog:
    __slots__ = ("buf", "size", "pos", "histlen", "end")

    def __init__(self, size: int, end: int):
        self.size = max(1, size)
        self.buf = bytearray(self.size)
        self.pos = 0  # where the next byte goes
        self.histlen = 0
        self.end = end  # offset of the last byte written

    @property
    def offset(self) -> int:
        """The offset of the first byte held."""
        return self.end - self.histlen + 1

    def append(self, data) -> None:
        n = len(data)
        pos = self.pos
        stop = pos + n
        size = self.size
        self.end += n
        h = self.histlen + n
        self.histlen = h if h < size else size
        if stop < size:  # the common case: it fits before the ring wraps
            self.buf[pos:stop] = data
            self.pos = stop
        elif n >= size:  # only its last `size` bytes stay
            self.buf[:] = data[n - size:]
            self.pos = 0
        else:  # to the ring's end, the rest from its start
            first = size - pos
            mv = memoryview(data)
            self.buf[pos:] = mv[:first]
            self.buf[:n - first] = mv[first:]
            self.pos = n - first

    def covers(self, offset: int) -> bool:
        return self.offset <= offset <= self.end + 1

    def read_from(self, offset: int) -> bytes:
        """The bytes from `offset` (which `covers`) to the end."""
        count = self.end + 1 - offset
        if count <= 0:
            return b""
        start = (self.pos - count) % self.size
        if start + count <= self.size:
            return bytes(self.buf[start:start + count])
        return bytes(self.buf[start:]) + bytes(self.buf[:count - (self.size - start)])

    def resize(self, size: int) -> None:
        """CONFIG SET repl-backlog-size: keep the newest bytes that fit."""
        size = max(1, size)
        if size == self.size:
            return
        keep = min(self.histlen, size)
        data = self.read_from(self.end + 1 - keep) if keep else b""
        self.size = size
        self.buf = bytearray(size)
        self.buf[:keep] = data
        self.pos = keep % size
        self.histlen = keep
