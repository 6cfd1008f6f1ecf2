"""LZF (liblzf, as bundled with Redis) decompression and compression.

A compressed stream is a sequence of runs, each opening with a control byte `c`:
- `c < 32`: a literal run of c + 1 bytes follows;
- otherwise a back reference: length `c >> 5` (7 means "7 + the next byte"), plus 2; offset
  `((c & 31) << 8) + next byte + 1` back from the current end of the output.
"""
from __future__ import annotations


class LzfError(ValueError):
    pass


def lzf_decompress(data, expected_len: int) -> bytes:
    """Decompress `data` to exactly `expected_len` bytes; LzfError if it does not."""
    src = bytes(data)
    n = len(src)
    out = bytearray()
    i = 0
    while i < n:
        ctrl = src[i]
        i += 1
        if ctrl < 32:
            run = ctrl + 1
            if i + run > n:
                raise LzfError("literal run past the end of the input")
            out += src[i:i + run]
            i += run
        else:
            length = ctrl >> 5
            if length == 7:
                if i >= n:
                    raise LzfError("truncated back reference")
                length += src[i]
                i += 1
            if i >= n:
                raise LzfError("truncated back reference")
            start = len(out) - ((ctrl & 0x1F) << 8) - src[i] - 1
            i += 1
            if start < 0:
                raise LzfError("back reference before the start of the output")
            length += 2
            end = start + length
            if end <= len(out):
                out += out[start:end]
            else:  # overlapping: the referenced bytes repeat with period len(out) - start
                period = out[start:]
                reps, rest = divmod(length, len(period))
                out += period * reps + period[:rest]
        if len(out) > expected_len:
            raise LzfError("output longer than announced")
    if len(out) != expected_len:
        raise LzfError("output length %d, announced %d" % (len(out), expected_len))
    return bytes(out)


_MAX_LIT = 32
_MAX_OFF = 1 << 13
_MAX_REF = (1 << 8) + (1 << 3)  # 264


def lzf_compress(data) -> bytes | None:
    """Compress `data`; None when the result would not be shorter than the input (the caller
    then stores it raw, as Redis does)."""
    src = bytes(data)
    n = len(src)
    if n < 4:
        return None
    out = bytearray()
    table: dict = {}
    lit_start = 0  # first byte of the pending literal run
    i = 0
    limit = n - 4  # the caller saves 4 bytes at least (Redis asks for len - 4)

    def flush_literals(end: int) -> None:
        pos = lit_start
        while pos < end:
            run = min(_MAX_LIT, end - pos)
            out.append(run - 1)
            out.extend(src[pos:pos + run])
            pos += run

    while i + 2 < n:
        key = src[i:i + 3]
        ref = table.get(key)
        table[key] = i
        if ref is not None and i - ref - 1 < _MAX_OFF:
            # extend the match
            maxlen = min(_MAX_REF, n - i)
            length = 3
            while length < maxlen and src[ref + length] == src[i + length]:
                length += 1
            flush_literals(i)
            off = i - ref - 1
            code = length - 2
            if code < 7:
                out.append((code << 5) | (off >> 8))
            else:
                out.append((7 << 5) | (off >> 8))
                out.append(code - 7)
            out.append(off & 0xFF)
            for k in range(i + 1, min(i + length, n - 2)):
                table[src[k:k + 3]] = k
            i += length
            lit_start = i
            if len(out) > limit:
                return None
        else:
            i += 1
    flush_literals(n)
    if len(out) > limit:
        return None
    return bytes(out)
