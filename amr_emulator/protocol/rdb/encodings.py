"""Redis's compact encodings, as found inside RDB strings: listpack, ziplist, intset, zipmap.

Decoders return the elements as a list (integers as ints: the caller formats them), and raise
RdbError on anything malformed. `listpack_encode` builds a listpack (strings that are canonical
integers are stored as integers, as Redis's lpAppend does).
"""
from __future__ import annotations

from struct import pack, unpack_from

from .model import RdbError

# --- listpack ------------------------------------------------------------------------------------


def _backlen_size(n: int) -> int:
    if n < 128:
        return 1
    if n < 16384:
        return 2
    if n < 2097152:
        return 3
    if n < 268435456:
        return 4
    return 5


def listpack_decode(lp: bytes) -> list:
    """The elements of a listpack: bytes or int."""
    n = len(lp)
    if n < 7:
        raise RdbError("listpack too short")
    total, count = unpack_from("<IH", lp, 0)
    if total != n:
        raise RdbError("listpack size %d, header says %d" % (n, total))
    out = []
    i = 6
    append = out.append
    try:
        while True:
            b = lp[i]
            if b == 0xFF:
                break
            start = i
            if b < 0x80:  # 7-bit uint
                append(b)
                i += 1
            elif b < 0xC0:  # 6-bit string
                ln = b & 0x3F
                i += 1
                append(lp[i:i + ln])
                i += ln
            elif b < 0xE0:  # 13-bit int
                v = ((b & 0x1F) << 8) | lp[i + 1]
                append(v - 8192 if v >= 4096 else v)
                i += 2
            elif b < 0xF0:  # 12-bit string
                ln = ((b & 0x0F) << 8) | lp[i + 1]
                i += 2
                append(lp[i:i + ln])
                i += ln
            elif b == 0xF0:  # 32-bit string
                ln = unpack_from("<I", lp, i + 1)[0]
                i += 5
                append(lp[i:i + ln])
                i += ln
            elif b == 0xF1:
                append(unpack_from("<h", lp, i + 1)[0])
                i += 3
            elif b == 0xF2:
                append(int.from_bytes(lp[i + 1:i + 4], "little", signed=True))
                i += 4
            elif b == 0xF3:
                append(unpack_from("<i", lp, i + 1)[0])
                i += 5
            elif b == 0xF4:
                append(unpack_from("<q", lp, i + 1)[0])
                i += 9
            else:
                raise RdbError("listpack: invalid entry encoding 0x%02x" % b)
            if i > n - 1:
                raise RdbError("listpack entry past the end")
            i += _backlen_size(i - start)
    except IndexError:
        raise RdbError("listpack entry past the end") from None
    except Exception as e:
        if isinstance(e, RdbError):
            raise
        raise RdbError("listpack entry past the end") from None
    if i != n - 1:
        raise RdbError("listpack: terminator before the end")
    if count != 65535 and count != len(out):
        raise RdbError("listpack: header counts %d elements, found %d" % (count, len(out)))
    return out


def _backlen(n: int) -> bytes:
    if n < 128:
        return bytes((n,))
    if n < 16384:
        return bytes((n >> 7, (n & 127) | 128))
    if n < 2097152:
        return bytes((n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128))
    if n < 268435456:
        return bytes((n >> 21, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128, (n & 127) | 128))
    return bytes((n >> 28, ((n >> 21) & 127) | 128, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128,
                  (n & 127) | 128))


def canonical_int(s: bytes):
    """The int a string is the canonical decimal form of (what Redis's string2ll accepts), or None."""
    if not s or len(s) > 20:
        return None
    c = s[0]
    if not (48 <= c <= 57 or c == 45):
        return None
    try:
        v = int(s)
    except ValueError:
        return None
    if -(1 << 63) <= v < (1 << 63) and b"%d" % v == s:
        return v
    return None


def _lp_int(v: int) -> bytes:
    if 0 <= v <= 127:
        enc = bytes((v,))
    elif -4096 <= v <= 4095:
        u = v & 0x1FFF
        enc = bytes((0xC0 | (u >> 8), u & 0xFF))
    elif -32768 <= v <= 32767:
        enc = b"\xf1" + pack("<h", v)
    elif -(1 << 23) <= v < (1 << 23):
        enc = b"\xf2" + (v & 0xFFFFFF).to_bytes(3, "little")
    elif -(1 << 31) <= v < (1 << 31):
        enc = b"\xf3" + pack("<i", v)
    else:
        enc = b"\xf4" + pack("<q", v)
    return enc + _backlen(len(enc))


def _lp_entry(e) -> bytes:
    if type(e) is int:
        return _lp_int(e)
    v = canonical_int(e)
    if v is not None:
        return _lp_int(v)
    ln = len(e)
    if ln < 64:
        head = bytes((0x80 | ln,))
    elif ln < 4096:
        head = bytes((0xE0 | (ln >> 8), ln & 0xFF))
    else:
        head = b"\xf0" + pack("<I", ln)
    return head + e + _backlen(len(head) + ln)


def listpack_encode(elements) -> bytes:
    """A listpack of `elements` (bytes or int)."""
    body = b"".join([_lp_entry(e) for e in elements])
    count = len(elements)
    return pack("<IH", 7 + len(body), count if count < 65535 else 65535) + body + b"\xff"


# --- ziplist --------------------------------------------------------------------------------------


def ziplist_decode(zl: bytes) -> list:
    """The elements of a ziplist (Redis before 7.0): bytes or int."""
    n = len(zl)
    if n < 11:
        raise RdbError("ziplist too short")
    total, _tail, count = unpack_from("<IIH", zl, 0)
    if total != n:
        raise RdbError("ziplist size %d, header says %d" % (n, total))
    out = []
    i = 10
    try:
        while True:
            b = zl[i]
            if b == 0xFF:
                break
            i += 5 if b == 0xFE else 1  # prevlen
            b = zl[i]
            t = b >> 6
            if t == 0:
                ln = b & 0x3F
                i += 1
            elif t == 1:
                ln = ((b & 0x3F) << 8) | zl[i + 1]
                i += 2
            elif t == 2:
                ln = unpack_from(">I", zl, i + 1)[0]
                i += 5
            else:
                i += 1
                if b == 0xC0:
                    out.append(unpack_from("<h", zl, i)[0])
                    i += 2
                elif b == 0xD0:
                    out.append(unpack_from("<i", zl, i)[0])
                    i += 4
                elif b == 0xE0:
                    out.append(unpack_from("<q", zl, i)[0])
                    i += 8
                elif b == 0xF0:
                    out.append(int.from_bytes(zl[i:i + 3], "little", signed=True))
                    i += 3
                elif b == 0xFE:
                    out.append(unpack_from("<b", zl, i)[0])
                    i += 1
                elif 0xF1 <= b <= 0xFD:
                    out.append((b & 0x0F) - 1)
                else:
                    raise RdbError("ziplist: invalid entry encoding 0x%02x" % b)
                continue
            if i + ln > n - 1:
                raise RdbError("ziplist entry past the end")
            out.append(zl[i:i + ln])
            i += ln
    except (IndexError, Exception) as e:
        if isinstance(e, RdbError):
            raise
        raise RdbError("ziplist entry past the end") from None
    if i != n - 1:
        raise RdbError("ziplist: terminator before the end")
    if count != 65535 and count != len(out):
        raise RdbError("ziplist: header counts %d elements, found %d" % (count, len(out)))
    return out


# --- intset, zipmap ---------------------------------------------------------------------------------


def intset_decode(data: bytes) -> list:
    """The integers of an intset."""
    if len(data) < 8:
        raise RdbError("intset too short")
    width, count = unpack_from("<II", data, 0)
    fmt = {2: "h", 4: "i", 8: "q"}.get(width)
    if fmt is None:
        raise RdbError("intset: invalid encoding %d" % width)
    if len(data) != 8 + width * count:
        raise RdbError("intset: size does not match its %d elements" % count)
    return list(unpack_from("<%d%s" % (count, fmt), data, 8))


def zipmap_decode(data: bytes) -> list:
    """The fields and values of a zipmap (Redis 2.4 hashes), alternating."""
    n = len(data)
    out = []
    i = 1
    try:
        while True:
            if data[i] == 0xFF:
                break
            for is_value in (False, True):
                b = data[i]
                if b < 254:
                    ln = b
                    i += 1
                elif b == 254:
                    ln = unpack_from("<I", data, i + 1)[0]
                    i += 5
                else:
                    raise RdbError("zipmap: invalid length")
                free = 0
                if is_value:
                    free = data[i]
                    i += 1
                if i + ln + free > n - 1:
                    raise RdbError("zipmap entry past the end")
                out.append(data[i:i + ln])
                i += ln + free
    except IndexError:
        raise RdbError("zipmap entry past the end") from None
    if i != n - 1:
        raise RdbError("zipmap: terminator before the end")
    return out
