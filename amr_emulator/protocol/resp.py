"""RESP2/RESP3: an incremental request parser and reply encoders. Sans-IO: bytes in, bytes out.

The parser follows Redis's own rules (networking.c, `processMultibulkBuffer` and
`processInlineBuffer`) so that malformed input gets the same error text and the same bytes are
accepted: the two bytes after a bulk are skipped unchecked, `*0` and `*-1` are empty requests, an
inline line is split like `sdssplitargs`.

Replies are Python values; the encoders turn them into wire bytes:

| value | RESP2 | RESP3 |
| --- | --- | --- |
| bytes | bulk `$` | bulk `$` |
| int | `:` | `:` |
| None | `$-1` | `_` |
| NULL_ARRAY | `*-1` | `_` |
| Simple (a str) | `+` | `+` |
| list, tuple | `*` | `*` |
| dict | flat `*` of key, value | `%` |
| MapPairs (a list of (key, value)) | flat `*` of key, value | `%` (keys may repeat) |
| RespSet, set, frozenset | `*` | `~` |
| float | bulk of the shortest text | `,` |
| bool | `:1` / `:0` | `#t` / `#f` |
| Verbatim | bulk of the text | `=` |
| Push | `*` | `>` |
| RespError | `-` | `-` |
"""
from __future__ import annotations

import math
import re

from . import errors
from .errors import ProtocolError, RespError

try:
    import hiredis
except ImportError:  # the exact parser alone still serves
    hiredis = None

PROTO_INLINE_MAX_SIZE = 64 * 1024
PROTO_MBULK_BIG_ARG = 32 * 1024
INT_MAX = 2**31 - 1
LLONG_MAX = 2**63 - 1
LLONG_MIN = -(2**63)


def string2ll(b) -> int | None:
    """Redis's strict `string2ll`: optional '-', no leading zeros, no '+', no spaces, 64-bit range."""
    n = len(b)
    if n == 0 or n > 20:
        return None
    if b.isdigit():
        if b[0] == 48 and n > 1:
            return None
        v = int(b)
        return v if v <= LLONG_MAX else None
    if b[0] == 45 and n > 1 and b[1] != 48 and b[1:].isdigit():
        v = int(b)
        return v if v >= LLONG_MIN else None
    return None


_SPACES = b" \t\n\r\v\f"
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
_HEX = b"0123456789abcdefABCDEF"


def split_args(line: bytes) -> list[bytes] | None:
    """`sdssplitargs`: words, "double quoted" with escapes, 'single quoted'. None if quotes don't balance."""
    out: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _SPACES:
            i += 1
        if i >= n:
            return out
        cur = bytearray()
        inq = insq = done = False
        while not done:
            c = line[i] if i < n else 0
            if inq:
                if c == 92 and i + 3 < n and line[i + 1] == 120 and line[i + 2] in _HEX and line[i + 3] in _HEX:
                    cur.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif c == 92 and i + 1 < n:
                    i += 1
                    cur.append(_ESCAPES.get(line[i], line[i]))
                elif c == 34:
                    if i + 1 < n and line[i + 1] not in _SPACES:
                        return None
                    done = True
                elif i >= n:
                    return None
                else:
                    cur.append(c)
            elif insq:
                if c == 92 and i + 1 < n and line[i + 1] == 39:
                    i += 1
                    cur.append(39)
                elif c == 39:
                    if i + 1 < n and line[i + 1] not in _SPACES:
                        return None
                    done = True
                elif i >= n:
                    return None
                else:
                    cur.append(c)
            else:
                if i >= n or c in b" \n\r\t\0":
                    done = True
                elif c == 34:
                    inq = True
                elif c == 39:
                    insq = True
                else:
                    cur.append(c)
            if i < n:
                i += 1
        out.append(bytes(cur))


# The canonical sizes, by length, of an array header `*<n>\r\n` and of an argument
# `$<len>\r\n<arg>\r\n`. A request with a longer argument (rare in one chunk: uvloop reads at
# most 256 KiB at a time) is left to the exact parser.
_TABLE_LEN = 1 << 16
# An aggregate header (`*`, and the RESP3 `~ > % |` hiredis also reads) of a million elements or
# more, or anything that looks like one: hiredis would reserve the whole list at once (calloc:
# cheap) and, if the request stays incomplete, free it slot by slot when its reader is dropped
# (seconds for `*2147483647`, a minute for `>2147483647`). Such a chunk goes to the exact parser.
# `_BIG_ARRAY` alone serves a chunk without any of `~ > % |` (a literal prefix: a fast scan); one
# request whose count has one digit, and no other `*`, needs no regex (`int in bytes` is a memchr).
_BIG_ARRAY = re.compile(rb"\*[0-9]{7}").search
_BIG_AGGREGATE = re.compile(rb"[*~>%|][0-9]{7}").search
# SpanParser: the longest start of a request kept for the next chunk's hiredis read
_TAIL_MAX = 1 << 16
_HEADER_SIZE = [len(str(n)) + 3 for n in range(_TABLE_LEN)]
_ARG_SIZE = [n + len(str(n)) + 5 for n in range(_TABLE_LEN)]


def _canonical_walk(data: bytes, requests: list) -> bool:
    """True when each request starts with `*` and each of its elements with `$`, at the offsets
    their canonical sizes give (RequestParser.read has checked that the sizes add up)."""
    pos = 0
    hsize = _HEADER_SIZE
    asize = _ARG_SIZE
    for req in requests:
        if data[pos] != 42:
            return False
        pos += hsize[len(req)]
        for a in req:
            if data[pos] != 36:
                return False
            pos += asize[len(a)]
    return True


def canonical_size(argv: list) -> int:
    """The size of a request's canonical encoding (`*<n>` then `$<len>` per argument), of any length:
    what a replica counts into its offset for a command of the stream."""
    n = len(str(len(argv))) + 3
    for a in argv:
        k = len(a)
        n += k + len(str(k)) + 5
    return n


class RequestParser:
    """Feed bytes, take complete requests (lists of bytes).

    `parse()` returns `(requests, error)`: every complete request before the first malformed one, and
    a `ProtocolError` (or None). After an error the connection must be closed, as Redis does.

    Two parsers, one behaviour. Each chunk that arrives at a request boundary goes to hiredis (C)
    first; its requests are taken only if the chunk is exactly their canonical encoding (see
    `read`), that is, when Redis would have read the very same requests from it.
    Otherwise (a malformed or unusual element, an inline request, a request left incomplete, a client
    not yet authenticated) the exact parser, which follows Redis's rules below, reads the chunk from
    its start, and keeps the connection until it is back at a request boundary.
    """

    __slots__ = ("buf", "pos", "max_bulk_len", "args", "left", "bulk_len", "require_auth", "_fast", "_chunk",
                 "_reader", "sizes", "_tail")

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024):
        self.buf = bytearray()
        self.pos = 0
        self.max_bulk_len = max_bulk_len
        self.args: list[bytes] | None = None  # the multibulk request being read
        self.left = 0  # its bulks still to read
        self.bulk_len = -1  # the length of the bulk being read, -1 before its header
        self.require_auth = False  # an unauthenticated client gets tighter limits, as in Redis 7
        self._fast = hiredis is not None  # at a request boundary, where hiredis may try the next chunk
        self._chunk = b""
        self._reader = hiredis.Reader() if hiredis is not None else None  # empty between chunks
        # Set to a list by a caller that wants each request's wire size (a proxy forwarding the bytes
        # as received): filled when hiredis read the whole chunk, None after the exact parser ran.
        self.sizes: list | None = None
        self._tail = b""  # SpanParser: the start of a request that hiredis holds, until the chunk that ends it

    def feed(self, data: bytes) -> None:
        if self._fast and not self.require_auth:
            self._chunk = data
            return
        self._fast = False
        if self.pos:
            del self.buf[: self.pos]
            self.pos = 0
        self.buf += data

    def pending(self) -> int:
        return len(self.buf) - self.pos + len(self._chunk) + len(self._tail)

    def read(self, data: bytes) -> tuple[list[list[bytes]], ProtocolError | None]:
        """`feed(data)` then `parse()`, in one call (the connection's hot path).

        At a request boundary, hiredis reads the chunk; its requests are taken only if the chunk is
        exactly their canonical encoding (then Redis reads the very same requests from it), else
        the exact parser reads the chunk from its start.

        The proof: hiredis reads `*` and `$` lengths as strictly as Redis (no sign, no leading
        zero, no space) and, like Redis, skips the two bytes after a bulk unchecked, so a `$`
        element is exactly as long as its canonical encoding, and the canonical sizes of what
        hiredis returned must add up to the chunk's length (nothing left half-read; `$-1`, an
        integer or a double has no len: refused; `*0` and `*-1`, which Redis skips, are refused
        here). Then every request must be an array (`*`) of bulks (`$`), checked one of two ways:
        - without any of the bytes `= ~ > % |` in the chunk, and with as many `*` as requests:
          a list at the top is then a `*` array (no `~ >`), each `*` is a request's own, so no
          element is an array; an element with a len is then a `$` bulk, or a `+` or `(` line,
          which is shorter than the canonical `$` frame of its text (only a verbatim `=`, absent,
          is longer): the sizes add up only when every element is a `$` bulk;
        - otherwise `_canonical_walk` looks for `*` and `$` at the offsets the sizes give.
        A chunk with a huge aggregate header (_BIG_ARRAY), or longer than proto-max-bulk-len (it
        may hold a bulk longer than that), goes to the exact parser."""
        if not self._fast or self.require_auth or self._chunk:
            self.feed(data)
            return self.parse()
        end = len(data)
        if 2 < end <= self.max_bulk_len:
            if 126 in data or 62 in data or 37 in data or 124 in data:  # ~ > % |: RESP3 aggregates
                ok = _BIG_AGGREGATE(data) is None
                stars = -1  # _canonical_walk
            else:
                stars = 1 if data[2] == 13 and 42 not in data[1:] else 0  # 1: one `*`, counting 9 at most
                ok = stars or _BIG_ARRAY(data) is None
                if 61 in data:  # `=`: a verbatim string may be there
                    stars = -1
            if ok:
                reader = self._reader
                reader.feed(data)
                gets = reader.gets
                hsize = _HEADER_SIZE
                asize = _ARG_SIZE
                out = []
                pos = 0
                try:
                    while pos < end:  # at `end` hiredis has consumed the chunk: no gets() to learn that
                        req = gets()
                        if not req:  # False: the chunk ends inside a request
                            break
                        pos += hsize[len(req)]
                        for a in req:
                            pos += asize[len(a)]
                        out.append(req)
                    else:
                        if pos == end and (len(out) == stars or stars == 0 and data.count(42) == len(out)
                                           or _canonical_walk(data, out)):
                            sizes = self.sizes
                            if sizes is not None:  # a proxy forwarding the bytes as received
                                sizes.extend([hsize[len(r)] + sum([asize[len(a)] for a in r]) for r in out])
                            return out, None
                except (hiredis.ProtocolError, IndexError, TypeError):
                    pass  # IndexError: past the size tables (the exact parser takes it); TypeError: no len
                self._reader = hiredis.Reader()  # the old one may hold part of a frame
        self._fast = False
        self.sizes = None
        self.buf = bytearray(data)
        self.pos = 0
        return self.parse()

    def parse(self) -> tuple[list[list[bytes]], ProtocolError | None]:
        chunk = self._chunk
        if chunk:
            self._chunk = b""
            return self.read(chunk)
        out, error = self._parse_exact()
        if error is None and self.args is None and not self.buf and hiredis is not None:
            self._fast = True
        return out, error

    def _parse_exact(self) -> tuple[list[list[bytes]], ProtocolError | None]:
        buf = self.buf
        n = len(buf)
        pos = self.pos
        out: list[list[bytes]] = []
        find = buf.find
        try:
            while pos < n:
                args = self.args
                if args is None:
                    if buf[pos] != 42:  # not '*': an inline request
                        nl = find(b"\n", pos)
                        if nl == -1:
                            if n - pos > PROTO_INLINE_MAX_SIZE:
                                raise ProtocolError(errors.PROTO_INLINE_TOO_BIG)
                            break
                        end = nl - 1 if nl > pos and buf[nl - 1] == 13 else nl
                        words = split_args(bytes(buf[pos:end]))
                        if words is None:
                            raise ProtocolError(errors.PROTO_UNBALANCED_QUOTES)
                        pos = nl + 1
                        if words:
                            out.append(words)
                        continue
                    cr = find(b"\r", pos)
                    if cr == -1:
                        if n - pos > PROTO_INLINE_MAX_SIZE:
                            raise ProtocolError(errors.PROTO_MBULK_COUNT_TOO_BIG)
                        break
                    if cr + 1 >= n:
                        break
                    count = string2ll(buf[pos + 1:cr])
                    if count is None or count > INT_MAX:
                        raise ProtocolError(errors.PROTO_INVALID_MBULK_LENGTH)
                    if count > 10 and self.require_auth:
                        raise ProtocolError(errors.PROTO_UNAUTHENTICATED_MBULK_LENGTH)
                    pos = cr + 2
                    if count <= 0:
                        continue
                    args = self.args = []
                    self.left = count
                    self.bulk_len = -1
                # the bulks of a multibulk request
                left = self.left
                blen = self.bulk_len
                while left:
                    if blen == -1:
                        if pos >= n:
                            break
                        cr = find(b"\r", pos)
                        if cr == -1:
                            if n - pos > PROTO_INLINE_MAX_SIZE:
                                raise ProtocolError(errors.PROTO_BULK_COUNT_TOO_BIG)
                            break
                        if cr + 1 >= n:
                            break
                        if buf[pos] != 36:  # '$'
                            raise ProtocolError(errors.proto_expected_dollar(chr(buf[pos])))
                        blen = string2ll(buf[pos + 1:cr])
                        if blen is None or blen < 0 or blen > self.max_bulk_len:
                            raise ProtocolError(errors.PROTO_INVALID_BULK_LENGTH)
                        if blen > 16384 and self.require_auth:
                            raise ProtocolError(errors.PROTO_UNAUTHENTICATED_BULK_LENGTH)
                        pos = cr + 2
                    end = pos + blen
                    if end + 2 > n:
                        break
                    args.append(bytes(buf[pos:end]))
                    pos = end + 2
                    blen = -1
                    left -= 1
                self.left = left
                self.bulk_len = blen
                if left:
                    break
                out.append(args)
                self.args = None
        except ProtocolError as e:
            self.pos = pos
            return out, e
        self.pos = pos
        if pos == n:
            buf.clear()
            self.pos = 0
        return out, None


# --- replies -----------------------------------------------------------------------------------


class Simple(str):
    """A status reply: `+text`."""

    __slots__ = ()


class Verbatim(str):
    """A RESP3 verbatim string (`=len\\r\\ntxt:...`); a bulk string in RESP2."""

    __slots__ = ()


class RespSet(list):
    """A RESP3 set (`~`); an array in RESP2. Keeps the order it was built in."""

    __slots__ = ()


class Push(list):
    """A RESP3 push frame (`>`); an array in RESP2 (pub/sub messages)."""

    __slots__ = ()


class MapPairs(list):
    """A map as a list of (key, value) pairs, for the replies whose keys may repeat (XREAD ... STREAMS
    k k): a dict would merge them, Redis sends both."""

    __slots__ = ()


class HumanDouble(bytes):
    """A double already written out (addReplyHumanLongDouble): a bulk string in RESP2, a RESP3
    double (`,text`) in RESP3."""

    __slots__ = ()


class BigNumber(str):
    """A RESP3 big number (`(digits`); a bulk string in RESP2 (a Lua script's `{big_number=...}`)."""

    __slots__ = ()


class _NullArray:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NULL_ARRAY"


NULL_ARRAY = _NullArray()
OK = Simple("OK")
QUEUED = Simple("QUEUED")
PONG = Simple("PONG")


def format_double(d: float) -> bytes:
    """A double as Redis 7.2+ writes it: the shortest text that reads back the same (fpconv_dtoa)."""
    if d != d:
        return b"nan"
    if d == math.inf:
        return b"inf"
    if d == -math.inf:
        return b"-inf"
    if d == int(d) and abs(d) < 1e17:
        return b"%d" % int(d) if d or math.copysign(1, d) > 0 else b"-0"
    r = repr(d)
    if "e" in r:
        mant, exp = r.split("e")
        e = int(exp)
        r = "%se%s%02d" % (mant, "-" if e < 0 else "+", abs(e))
    return r.encode()


def _enc_error(v: RespError) -> bytes:
    m = v.message
    return b"-" + (m if isinstance(m, bytes) else m.encode("latin-1", "replace")) + b"\r\n"


def encode2(v) -> bytes:
    """Encode a reply for a RESP2 connection."""
    t = type(v)
    if t is bytes:
        return b"$%d\r\n%b\r\n" % (len(v), v)
    if t is int:
        return b":%d\r\n" % v
    if v is None:
        return b"$-1\r\n"
    if t is Simple:
        return b"+" + v.encode() + b"\r\n"
    if t is list or t is tuple or t is RespSet or t is Push:
        return b"*%d\r\n" % len(v) + b"".join([encode2(x) for x in v])
    if t is dict:
        parts = [b"*%d\r\n" % (2 * len(v))]
        for k, x in v.items():
            parts.append(encode2(k))
            parts.append(encode2(x))
        return b"".join(parts)
    if t is float:
        s = format_double(v)
        return b"$%d\r\n%b\r\n" % (len(s), s)
    if t is bool:
        return b":1\r\n" if v else b":0\r\n"
    if isinstance(v, RespError):
        return _enc_error(v)
    if t is str or t is Verbatim:
        b = v.encode()
        return b"$%d\r\n%b\r\n" % (len(b), b)
    if t is set or t is frozenset:
        return b"*%d\r\n" % len(v) + b"".join([encode2(x) for x in v])
    if v is NULL_ARRAY:
        return b"*-1\r\n"
    if t is BigNumber:
        b = v.encode()
        return b"$%d\r\n%b\r\n" % (len(b), b)
    if t is bytearray or t is memoryview:
        return encode2(bytes(v))
    if t is MapPairs:
        return b"*%d\r\n" % (2 * len(v)) + b"".join([encode2(k) + encode2(x) for k, x in v])
    if t is HumanDouble:
        return b"$%d\r\n%b\r\n" % (len(v), v)
    raise TypeError(f"cannot encode {t.__name__} as RESP")


def encode3(v) -> bytes:
    """Encode a reply for a RESP3 connection."""
    t = type(v)
    if t is bytes:
        return b"$%d\r\n%b\r\n" % (len(v), v)
    if t is int:
        return b":%d\r\n" % v
    if v is None or v is NULL_ARRAY:
        return b"_\r\n"
    if t is Simple:
        return b"+" + v.encode() + b"\r\n"
    if t is list or t is tuple:
        return b"*%d\r\n" % len(v) + b"".join([encode3(x) for x in v])
    if t is dict:
        parts = [b"%%%d\r\n" % len(v)]
        for k, x in v.items():
            parts.append(encode3(k))
            parts.append(encode3(x))
        return b"".join(parts)
    if t is float:
        return b"," + format_double(v) + b"\r\n"
    if t is bool:
        return b"#t\r\n" if v else b"#f\r\n"
    if isinstance(v, RespError):
        return _enc_error(v)
    if t is RespSet or t is set or t is frozenset:
        return b"~%d\r\n" % len(v) + b"".join([encode3(x) for x in v])
    if t is Push:
        return b">%d\r\n" % len(v) + b"".join([encode3(x) for x in v])
    if t is Verbatim:
        b = v.encode()
        return b"=%d\r\ntxt:%b\r\n" % (len(b) + 4, b)
    if t is str:
        b = v.encode()
        return b"$%d\r\n%b\r\n" % (len(b), b)
    if t is BigNumber:
        return b"(" + v.encode() + b"\r\n"
    if t is bytearray or t is memoryview:
        return encode3(bytes(v))
    if t is MapPairs:
        return b"%%%d\r\n" % len(v) + b"".join([encode3(k) + encode3(x) for k, x in v])
    if t is HumanDouble:
        return b"," + v + b"\r\n"
    raise TypeError(f"cannot encode {t.__name__} as RESP")


def encode_command(*args) -> bytes:
    """A request as clients send it: an array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(a), a))
    return b"".join(parts)


def decode_reply(buf: bytes, pos: int = 0):
    """Decode one reply starting at `pos` into the types the encoders take; `(value, next_pos)`.

    Raises IndexError/ValueError on an incomplete buffer. Used by tools and tests, not on hot paths.
    """
    cr = buf.index(b"\r\n", pos)
    t = buf[pos]
    line = buf[pos + 1:cr]
    nxt = cr + 2
    if t == 43:  # +
        return Simple(line.decode()), nxt
    if t == 45:  # -
        return RespError(line.decode("latin-1")), nxt
    if t == 58:  # :
        return int(line), nxt
    if t == 36 or t == 61:  # $ =
        n = int(line)
        if n < 0:
            return None, nxt
        if nxt + n + 2 > len(buf):
            raise IndexError("incomplete")
        data = bytes(buf[nxt:nxt + n])
        if t == 61:
            return Verbatim(data[4:].decode()), nxt + n + 2
        return data, nxt + n + 2
    if t in (42, 126, 62):  # * ~ >
        n = int(line)
        if n < 0:
            return NULL_ARRAY, nxt
        items = []
        for _ in range(n):
            v, nxt = decode_reply(buf, nxt)
            items.append(v)
        return (list if t == 42 else RespSet if t == 126 else Push)(items), nxt
    if t == 37:  # %
        d = {}
        for _ in range(int(line)):
            k, nxt = decode_reply(buf, nxt)
            v, nxt = decode_reply(buf, nxt)
            d[k if not isinstance(k, list) else tuple(k)] = v
        return d, nxt
    if t == 95:  # _
        return None, nxt
    if t == 44:  # ,
        return float(line), nxt
    if t == 35:  # #
        return line == b"t", nxt
    if t == 40:  # ( big number
        return int(line), nxt
    raise ValueError(f"unknown RESP type byte {chr(t)!r}")


class SpanParser(RequestParser):
    """The proxy's request parser: `read_spans` also tells where each request ends in the chunk, so
    that a request forwarded unchanged goes as the very bytes received."""

    __slots__ = ()

    def read_spans(self, data: bytes) -> tuple[list[list[bytes]], list[int] | None, bytes, ProtocolError | None]:
        """`read(data)` as (requests, ends, buf, error): `ends[i]` is the offset just past request i in
        `buf` when the chunk was read by hiredis and proven canonical (see `read`); None when the exact
        parser read it (then the requests' bytes are not the chunk's, or not all of them).

        A chunk that ends inside a request (a long pipeline, a replication stream read in pieces)
        gives the requests before it; the start of the last one waits, as hiredis holds it, for the
        chunk that ends it, and `buf` then begins with it. A start longer than _TAIL_MAX, or a chunk
        shorter than a quarter of the start that waits (a request sent in small pieces, copied again
        and again: this bounds the copies to five times what is received), goes to the exact parser,
        which reads what comes incrementally."""
        new = data
        tail = self._tail
        if tail:
            self._tail = b""
            data = tail + data
            # (require_auth: a RESET since, and the limits of a client not authenticated)
            if len(new) * 4 < len(tail) or self.require_auth:
                return self._exact(data)
        if self._fast and not self.require_auth and not self._chunk:
            end = len(data)
            if end <= self.max_bulk_len and _BIG_ARRAY(data) is None:
                reader = self._reader
                reader.feed(new)
                gets = reader.gets
                out = []
                ends = []
                pos = 0
                hsize = _HEADER_SIZE
                asize = _ARG_SIZE
                try:
                    while pos < end:
                        req = gets()
                        if data[pos] != 42 or not req:
                            if req is False and data[pos] == 42 and end - pos <= _TAIL_MAX:
                                self._tail = data[pos:] if pos else data
                                return out, ends, data, None
                            break
                        pos += hsize[len(req)]
                        for a in req:
                            if data[pos] != 36:
                                break
                            pos += asize[len(a)]
                        else:
                            out.append(req)
                            ends.append(pos)
                            continue
                        break
                    else:
                        if pos == end:
                            return out, ends, data, None
                except (hiredis.ProtocolError, IndexError, TypeError):
                    pass
            return self._exact(data)
        requests, error = self.read(data)
        return requests, None, data, error

    def _exact(self, data: bytes) -> tuple[list[list[bytes]], None, bytes, ProtocolError | None]:
        """read_spans by the exact parser, from the start of `data` (what hiredis held is dropped)."""
        self._reader = hiredis.Reader()
        self._fast = False
        self.buf = bytearray(data)
        self.pos = 0
        requests, error = self.parse()
        return requests, None, data, error
