"""The C libraries Redis links into its Lua (cjson, cmsgpack, struct, bit), written in Python for lupa's
Lua 5.1, which ships none of them. Each follows the behaviour of the library Redis bundles
(deps/lua/src/lua_cjson.c, lua_cmsgpack.c, lua_struct.c, lua_bit.c) for the common cases.

A failing function raises scripting.ScriptError, which reaches Lua as an error that the bootstrap's
error handler prefixes with the caller's position, as the C function's luaL_error would.
"""
from __future__ import annotations

import math
import re
import struct

import lupa.lua51 as lupa


class LibError(Exception):
    pass


def _wrap(fn):
    from .scripting import ScriptError

    def call(*args):
        try:
            return fn(*args)
        except LibError as e:
            raise ScriptError("\0P" + str(e)) from None
        except (struct.error, OverflowError, ValueError, TypeError, IndexError) as e:
            raise ScriptError("\0P" + str(e)) from None

    return call


def _is_table(v) -> bool:
    return lupa.lua_type(v) == "table"


def tonumber(v):
    """A number a script passed, as a number or a byte string that reads as one; else None."""
    if type(v) in (int, float):
        return v
    if type(v) is bytes:
        try:
            return float(v)
        except ValueError:
            return None
    return None


def _num(v, argn: int, fname: str) -> float:
    n = tonumber(v)
    if n is not None:
        return n
    raise LibError("bad argument #%d to '%s' (number expected, got %s)" % (argn, fname, _tname(v)))


def _tname(v) -> str:
    if v is None:
        return "no value"
    t = type(v)
    if t is bool:
        return "boolean"
    if t in (int, float):
        return "number"
    if t is bytes:
        return "string"
    return lupa.lua_type(v) or "userdata"


# --- bit (LuaBitOp) --------------------------------------------------------------------------------
def _tobit(x) -> int:
    """LuaBitOp's normalisation: the low 32 bits of x + 2^52 + 2^51, as a signed integer."""
    b = struct.pack("<d", float(x) + 6755399441055744.0)
    return struct.unpack("<i", b[:4])[0]


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


def _bitargs(args, fname):
    if not args:
        raise LibError("bad argument #1 to '%s' (number expected, got no value)" % fname)
    return [_tobit(_num(a, i + 1, fname)) for i, a in enumerate(args)]


def bit_library(lua) -> dict:
    def band(*a):
        v = -1
        for x in _bitargs(a, "band"):
            v &= x
        return _s32(v)

    def bor(*a):
        v = 0
        for x in _bitargs(a, "bor"):
            v |= x
        return _s32(v)

    def bxor(*a):
        v = 0
        for x in _bitargs(a, "bxor"):
            v ^= x
        return _s32(v)

    def two(a, fname):
        if len(a) < 2:
            raise LibError("bad argument #%d to '%s' (number expected, got no value)" % (len(a) + 1, fname))
        return _tobit(_num(a[0], 1, fname)) & 0xFFFFFFFF, _tobit(_num(a[1], 2, fname)) & 31

    def tohex(*a):
        x = _tobit(_num(a[0] if a else None, 1, "tohex"))
        n = 8 if len(a) < 2 or a[1] is None else _tobit(_num(a[1], 2, "tohex"))
        upper = n < 0
        n = min(abs(n), 8)
        s = "%08x" % (x & 0xFFFFFFFF)
        s = s[-n:] if n else ""
        return (s.upper() if upper else s).encode()

    return {
        "tobit": lambda *a: _tobit(_num(a[0] if a else None, 1, "tobit")),
        "bnot": lambda *a: _s32(~_tobit(_num(a[0] if a else None, 1, "bnot"))),
        "band": band, "bor": bor, "bxor": bxor,
        "lshift": lambda *a: (lambda x, n: _s32(x << n))(*two(a, "lshift")),
        "rshift": lambda *a: (lambda x, n: _s32(x >> n))(*two(a, "rshift")),
        "arshift": lambda *a: (lambda x, n: _s32(_s32(x) >> n))(*two(a, "arshift")),
        "rol": lambda *a: (lambda x, n: _s32((x << n) | (x >> (32 - n))))(*two(a, "rol")),
        "ror": lambda *a: (lambda x, n: _s32((x >> n) | (x << (32 - n))))(*two(a, "ror")),
        "bswap": lambda *a: _s32(int.from_bytes((_tobit(_num(a[0] if a else None, 1, "bswap")) & 0xFFFFFFFF)
                                                .to_bytes(4, "little"), "big")),
        "tohex": tohex,
    }


# --- cjson --------------------------------------------------------------------------------------------
_ESC = {i: "\\u%04x" % i for i in range(32)}
_ESC.update({8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\", 47: "\\/", 127: "\\u007f"})
_ESC_B = {k: v.encode() for k, v in _ESC.items()}


def _json_string(s: bytes) -> bytes:
    out = bytearray(b'"')
    for ch in s:
        e = _ESC_B.get(ch)
        if e is None:
            out.append(ch)
        else:
            out += e
    out += b'"'
    return bytes(out)


def _json_number(x) -> bytes:
    if type(x) is float and (x != x or x in (math.inf, -math.inf)):
        raise LibError("Cannot serialise number: must not be NaN or Inf")
    if type(x) is int:
        if abs(x) < 10 ** 14:
            return b"%d" % x
        x = float(x)
    s = ("%.14g" % x).encode()
    return s


def _json_encode(v, depth: int) -> bytes:
    t = type(v)
    if t is bytes:
        return _json_string(v)
    if t is bool:
        return b"true" if v else b"false"
    if t is int or t is float:
        return _json_number(v)
    if v is None:
        return b"null"
    lt = lupa.lua_type(v)
    if lt == "table":
        if depth > 1000:
            raise LibError("Cannot serialise, excessive nesting (%d)" % depth)
        items = list(v.items())
        maxk = 0
        is_array = True
        for k, _ in items:
            if type(k) in (int, float) and k >= 1 and math.floor(k) == k:
                maxk = max(maxk, int(k))
            else:
                is_array = False
                break
        if is_array and maxk > len(items) * 2 and maxk > 10:
            raise LibError("Cannot serialise table: excessively sparse array")
        if is_array and maxk > 0:
            vals = dict(items)
            return b"[" + b",".join(_json_encode(vals.get(i), depth + 1) for i in range(1, maxk + 1)) + b"]"
        parts = []
        for k, x in items:
            if type(k) is bytes:
                ks = _json_string(k)
            elif type(k) in (int, float):
                ks = b'"' + _json_number(k) + b'"'
            else:
                raise LibError("Cannot serialise %s: table key must be a number or string" % _tname(k))
            parts.append(ks + b":" + _json_encode(x, depth + 1))
        return b"{" + b",".join(parts) + b"}"
    if lt == "userdata":
        return b"null"  # cjson.null
    raise LibError("Cannot serialise %s: type not supported" % (lt or _tname(v)))


_TOKEN_NAMES = {"{": "T_OBJ_BEGIN", "}": "T_OBJ_END", "[": "T_ARR_BEGIN", "]": "T_ARR_END", ":": "T_COLON",
                ",": "T_COMMA", "string": "T_STRING", "number": "T_NUMBER", "boolean": "T_BOOLEAN",
                "null": "T_NULL", "end": "T_END"}
_NUMBER = re.compile(rb"-?(?:0[xX][0-9a-fA-F]+|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN]"
                     rb"|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")
_SIMPLE_ESC = {ord('"'): b'"', ord("\\"): b"\\", ord("/"): b"/", ord("b"): b"\b", ord("f"): b"\f",
               ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t"}


class _JsonParser:
    """lua-cjson's decoder: its tokens, its error texts ("Expected X but found Y at character N")."""

    def __init__(self, lua, data: bytes, null):
        self.lua = lua
        self.d = data
        self.p = 0
        self.null = null
        self.depth = 0

    def token(self):
        d = self.d
        n = len(d)
        while self.p < n and d[self.p] in b" \t\n\r":
            self.p += 1
        start = self.p
        if start >= n or d[start] == 0:
            return "end", None, start
        ch = chr(d[start])
        if ch in "{}[]:,":
            self.p += 1
            return ch, None, start
        if ch == '"':
            return self.string(start)
        if ch == "-" or ch.isdigit() or d.startswith((b"inf", b"nan", b"Inf", b"NaN", b"INF", b"NAN"), start):
            m = _NUMBER.match(d, start)
            if m is None or not m.group(0).lstrip(b"-"):
                return "error", "invalid number", start
            self.p = m.end()
            text = m.group(0)
            low = text.lower().lstrip(b"-")
            if low.startswith(b"0x"):
                v = float(int(low, 16)) * (-1 if text.startswith(b"-") else 1)
            else:
                v = float(text)
            return "number", v, start
        for word, value in ((b"true", True), (b"false", False)):
            if d.startswith(word, start):
                self.p += len(word)
                return "boolean", value, start
        if d.startswith(b"null", start):
            self.p += 4
            return "null", None, start
        return "error", "invalid token", start

    def string(self, start):
        d = self.d
        out = bytearray()
        i = start + 1
        n = len(d)
        while True:
            if i >= n:
                return "error", "unexpected end of string", i
            ch = d[i]
            if ch == 34:
                self.p = i + 1
                return "string", bytes(out), start
            if ch != 92:
                out.append(ch)
                i += 1
                continue
            if i + 1 >= n:
                return "error", "invalid escape code", i
            e = d[i + 1]
            if e == ord("u"):
                cp = self._hex4(i + 2)
                if cp is None:
                    return "error", "invalid unicode escape code", i
                esc = i
                i += 6
                if 0xD800 <= cp <= 0xDBFF:
                    low = self._hex4(i + 2) if d[i:i + 2] == b"\\u" else None
                    if low is None or not 0xDC00 <= low <= 0xDFFF:
                        return "error", "invalid unicode escape code", esc
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                elif 0xDC00 <= cp <= 0xDFFF:
                    return "error", "invalid unicode escape code", esc
                out += chr(cp).encode("utf-8")
                continue
            rep = _SIMPLE_ESC.get(e)
            if rep is None:
                return "error", "invalid escape code", i
            out += rep
            i += 2

    def _hex4(self, i):
        h = self.d[i:i + 4]
        if len(h) != 4 or any(c not in b"0123456789abcdefABCDEF" for c in h):
            return None
        return int(h, 16)

    def fail(self, expected, tok):
        kind, value, index = tok
        found = value if kind == "error" else _TOKEN_NAMES.get(kind, kind)
        raise LibError("Expected %s but found %s at character %d" % (expected, found, index + 1))

    def value(self, tok):
        kind, value, index = tok
        if kind in ("string", "number", "boolean"):
            return value
        if kind == "null":
            return self.null
        if kind == "{":
            return self.obj(index)
        if kind == "[":
            return self.arr(index)
        self.fail("value", tok)

    def _descend(self, index):
        self.depth += 1
        if self.depth > 1000:
            raise LibError("Found too many nested data structures (%d) at character %d" % (self.depth, index + 1))

    def obj(self, index):
        self._descend(index)
        t = self.lua.table_from({})
        tok = self.token()
        if tok[0] == "}":
            self.depth -= 1
            return t
        while True:
            if tok[0] != "string":
                self.fail("object key string", tok)
            key = tok[1]
            tok = self.token()
            if tok[0] != ":":
                self.fail("colon", tok)
            t[key] = self.value(self.token())
            tok = self.token()
            if tok[0] == "}":
                self.depth -= 1
                return t
            if tok[0] != ",":
                self.fail("comma or object end", tok)
            tok = self.token()

    def arr(self, index):
        self._descend(index)
        t = self.lua.table_from({})
        tok = self.token()
        if tok[0] == "]":
            self.depth -= 1
            return t
        i = 1
        while True:
            t[i] = self.value(tok)
            i += 1
            tok = self.token()
            if tok[0] == "]":
                self.depth -= 1
                return t
            if tok[0] != ",":
                self.fail("comma or array end", tok)
            tok = self.token()


def cjson_library(lua) -> dict:
    null = lua.eval(b"newproxy()")

    def encode(*a):
        if len(a) != 1:
            raise LibError("bad argument #1 to 'encode' (expected 1 argument)")
        return _json_encode(a[0], 1)

    def decode(*a):
        if len(a) != 1:
            raise LibError("bad argument #1 to 'decode' (expected 1 argument)")
        s = a[0]
        if type(s) is not bytes:
            if type(s) in (int, float):
                s = _json_number(s)
            else:
                raise LibError("bad argument #1 to 'decode' (string expected, got %s)" % _tname(s))
        if len(s) >= 2 and (s[0] == 0 or s[1] == 0):
            raise LibError("JSON parser does not support UTF-16 or UTF-32")
        parser = _JsonParser(lua, s, null)
        v = parser.value(parser.token())
        tok = parser.token()
        if tok[0] != "end":
            parser.fail("the end", tok)
        return v

    return {"encode": encode, "decode": decode, "null": null}


# --- cmsgpack -------------------------------------------------------------------------------------------
def _mp_int(n: int) -> bytes:
    if n >= 0:
        if n < 128:
            return bytes([n])
        if n < 256:
            return b"\xcc" + bytes([n])
        if n < 65536:
            return b"\xcd" + struct.pack(">H", n)
        if n < 2 ** 32:
            return b"\xce" + struct.pack(">I", n)
        return b"\xcf" + struct.pack(">Q", n)
    if n >= -32:
        return struct.pack(">b", n)
    if n >= -128:
        return b"\xd0" + struct.pack(">b", n)
    if n >= -32768:
        return b"\xd1" + struct.pack(">h", n)
    if n >= -(2 ** 31):
        return b"\xd2" + struct.pack(">i", n)
    return b"\xd3" + struct.pack(">q", n)


def _mp_encode(v, depth: int) -> bytes:
    t = type(v)
    if v is None:
        return b"\xc0"
    if t is bool:
        return b"\xc3" if v else b"\xc2"
    if t is int:
        if -(2 ** 63) <= v < 2 ** 64:
            return _mp_int(v)
        v = float(v)
        t = float
    if t is float:
        if v == v and abs(v) < 2 ** 63 and v == int(v):
            return _mp_int(int(v))
        f = struct.unpack(">f", struct.pack(">f", v))[0] if abs(v) < 3.5e38 or v != v or math.isinf(v) else None
        if f is not None and (f == v or (v != v)):
            return b"\xca" + struct.pack(">f", v)
        return b"\xcb" + struct.pack(">d", v)
    if t is bytes:
        n = len(v)
        if n < 32:
            h = bytes([0xA0 | n])
        elif n <= 0xFF:
            h = b"\xd9" + bytes([n])
        elif n <= 0xFFFF:
            h = b"\xda" + struct.pack(">H", n)
        else:
            h = b"\xdb" + struct.pack(">I", n)
        return h + v
    if lupa.lua_type(v) == "table":
        if depth > 16:
            return b"\xc0"
        items = list(v.items())
        count = len(items)
        maxk = 0
        is_array = True
        for k, _ in items:
            if type(k) in (int, float) and k > 0 and k == int(k):
                maxk = max(maxk, int(k))
            else:
                is_array = False
                break
        if is_array and maxk == count:
            vals = dict(items)
            if count < 16:
                h = bytes([0x90 | count])
            elif count <= 0xFFFF:
                h = b"\xdc" + struct.pack(">H", count)
            else:
                h = b"\xdd" + struct.pack(">I", count)
            return h + b"".join(_mp_encode(vals[i], depth + 1) for i in range(1, count + 1))
        if count < 16:
            h = bytes([0x80 | count])
        elif count <= 0xFFFF:
            h = b"\xde" + struct.pack(">H", count)
        else:
            h = b"\xdf" + struct.pack(">I", count)
        return h + b"".join(_mp_encode(k, depth + 1) + _mp_encode(x, depth + 1) for k, x in items)
    return b"\xc0"


class _MPReader:
    def __init__(self, data: bytes, pos: int = 0):
        self.d = data
        self.p = pos

    def take(self, n: int) -> bytes:
        if self.p + n > len(self.d):
            raise LibError("Missing bytes in input.")
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def read(self, lua):
        b = self.take(1)[0]
        if b < 0x80:
            return b
        if b >= 0xE0:
            return b - 256
        if 0xA0 <= b <= 0xBF:
            return self.take(b & 0x1F)
        if 0x90 <= b <= 0x9F:
            return self._array(lua, b & 0x0F)
        if 0x80 <= b <= 0x8F:
            return self._map(lua, b & 0x0F)
        fmt = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q", 0xd0: ">b", 0xd1: ">h", 0xd2: ">i", 0xd3: ">q",
               0xca: ">f", 0xcb: ">d"}.get(b)
        if fmt is not None:
            return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        if b == 0xC0:
            return None
        if b == 0xC2:
            return False
        if b == 0xC3:
            return True
        if b in (0xD9, 0xC4):
            return self.take(self.take(1)[0])
        if b in (0xDA, 0xC5):
            return self.take(struct.unpack(">H", self.take(2))[0])
        if b in (0xDB, 0xC6):
            return self.take(struct.unpack(">I", self.take(4))[0])
        if b == 0xDC:
            return self._array(lua, struct.unpack(">H", self.take(2))[0])
        if b == 0xDD:
            return self._array(lua, struct.unpack(">I", self.take(4))[0])
        if b == 0xDE:
            return self._map(lua, struct.unpack(">H", self.take(2))[0])
        if b == 0xDF:
            return self._map(lua, struct.unpack(">I", self.take(4))[0])
        raise LibError("Bad data format in input.")

    def _array(self, lua, n):
        t = lua.table_from({})
        for i in range(1, n + 1):
            t[i] = self.read(lua)
        return t

    def _map(self, lua, n):
        t = lua.table_from({})
        for _ in range(n):
            k = self.read(lua)
            v = self.read(lua)
            if k is not None:
                t[k] = v
        return t


def cmsgpack_library(lua) -> dict:
    def pack(*a):
        if not a:
            raise LibError("bad argument #0 to 'pack' (MessagePack pack needs input.)")
        return b"".join(_mp_encode(x, 0) for x in a)

    def unpack(*a):
        s = a[0] if a else None
        if type(s) is not bytes:
            raise LibError("bad argument #1 to 'unpack' (string expected, got %s)" % _tname(s))
        r = _MPReader(s)
        out = []
        while r.p < len(s):
            out.append(r.read(lua))
        return tuple(out)

    def unpack_one(*a):
        s = a[0] if a else None
        offset = int(a[1]) if len(a) > 1 and a[1] is not None else 0
        if type(s) is not bytes:
            raise LibError("bad argument #1 to 'unpack_one' (string expected, got %s)" % _tname(s))
        r = _MPReader(s, offset)
        v = r.read(lua)
        return (-1 if r.p >= len(s) else r.p), v

    def unpack_limit(*a):
        s = a[0] if a else None
        if type(s) is not bytes:
            raise LibError("bad argument #1 to 'unpack_limit' (string expected, got %s)" % _tname(s))
        limit = int(a[1]) if len(a) > 1 and a[1] is not None else 0
        offset = int(a[2]) if len(a) > 2 and a[2] is not None else 0
        if offset < 0 or limit < 0:
            raise LibError("Invalid request to unpack with offset of %d and limit of %d." % (offset, len(s)))
        if offset > len(s):
            raise LibError("Start offset %d greater than input length %d." % (offset, len(s)))
        decode_all = not limit and not offset
        r = _MPReader(s, offset)
        out = []
        while r.p < len(s) and (decode_all or len(out) < limit):
            out.append(r.read(lua))
        if decode_all:
            return tuple(out)
        return ((-1 if r.p >= len(s) else r.p),) + tuple(out)

    return {"pack": pack, "unpack": unpack, "unpack_one": unpack_one, "unpack_limit": unpack_limit}


# --- struct ---------------------------------------------------------------------------------------------
_SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "l": 8, "L": 8, "T": 8, "f": 4, "d": 8, "x": 1}
_MAXALIGN = 8


def _getnum(fmt: bytes, i: int, default: int):
    j = i
    while j < len(fmt) and 48 <= fmt[j] <= 57:
        j += 1
    if j == i:
        return default, i
    return int(fmt[i:j]), j


def _struct_ops(fmt: bytes, fname: str):
    """lua_struct's walk over a format: yields (option, size, toalign) for the data options, handling
    the control options (endianness, alignment) itself. `toalign` is the padding before the item."""
    i = 0
    state = {"endian": "<", "align": 1}
    while i < len(fmt):
        opt = chr(fmt[i])
        i += 1
        if opt in "cC" and opt == "c":
            size, i = _getnum(fmt, i, 1)
        elif opt in "iI":
            size, i = _getnum(fmt, i, 4)
            if size > 32:
                raise LibError("integral size %d is larger than limit of %d" % (size, 32))
        else:
            size = _SIZES.get(opt, 0)
        if opt in "bBhHlLTiIxfdcs":
            yield opt, size, state
            continue
        if opt == " ":
            continue
        if opt == ">":
            state["endian"] = ">"
        elif opt in "<=":
            state["endian"] = "<"
        elif opt == "!":
            a, i = _getnum(fmt, i, _MAXALIGN)
            if a & (a - 1):
                raise LibError("alignment %d is not a power of 2" % a)
            state["align"] = a
        else:
            raise LibError("bad argument #1 to '%s' (invalid format option '%s')" % (fname, opt))


def _toalign(pos: int, st: dict, opt: str, size: int) -> int:
    if size == 0 or opt == "c":
        return 0
    a = min(size, st["align"])
    return (a - (pos & (a - 1))) & (a - 1)


def struct_library(lua) -> dict:
    def pack(*a):
        fmt = a[0] if a else None
        if type(fmt) is not bytes:
            raise LibError("bad argument #1 to 'pack' (string expected, got %s)" % _tname(fmt))
        out = bytearray()
        arg = 1
        for opt, size, st in _struct_ops(fmt, "pack"):
            out += b"\0" * _toalign(len(out), st, opt, size)
            endian = st["endian"]
            if opt == "x":
                out.append(0)
                continue
            v = a[arg] if arg < len(a) else None
            arg += 1
            if opt in "bBhHlLTiI":
                if type(v) not in (int, float) and not (type(v) is bytes and _tonum(v) is not None):
                    raise LibError("bad argument #%d to 'pack' (number expected, got %s)" % (arg, _tname(v)))
                x = int(v if type(v) is not bytes else _tonum(v))
                x &= (1 << (8 * size)) - 1
                out += x.to_bytes(size, "big" if endian == ">" else "little")
            elif opt in "fd":
                if type(v) not in (int, float) and not (type(v) is bytes and _tonum(v) is not None):
                    raise LibError("bad argument #%d to 'pack' (number expected, got %s)" % (arg, _tname(v)))
                out += struct.pack(endian + opt, float(v if type(v) is not bytes else _tonum(v)))
            else:  # c, s
                if type(v) in (int, float):
                    v = _lua_tostring(v)
                if type(v) is not bytes:
                    raise LibError("bad argument #%d to 'pack' (string expected, got %s)" % (arg, _tname(v)))
                n = size if size else len(v)
                if len(v) < n:
                    raise LibError("bad argument #%d to 'pack' (string too short)" % arg)
                out += v[:n]
                if opt == "s":
                    out.append(0)
        return bytes(out)

    def unpack(*a):
        fmt = a[0] if a else None
        if type(fmt) is not bytes:
            raise LibError("bad argument #1 to 'unpack' (string expected, got %s)" % _tname(fmt))
        data = a[1] if len(a) > 1 else None
        if type(data) is not bytes:
            raise LibError("bad argument #2 to 'unpack' (string expected, got %s)" % _tname(data))
        pos = int(a[2]) - 1 if len(a) > 2 and a[2] is not None else 0
        ld = len(data)
        out = []
        for opt, size, st in _struct_ops(fmt, "unpack"):
            pos += _toalign(pos, st, opt, size)
            if size > ld or pos > ld - size:
                raise LibError("bad argument #2 to 'unpack' (data string too short)")
            endian = st["endian"]
            if opt in "bBhHlLTiI":
                out.append(int.from_bytes(data[pos:pos + size], "big" if endian == ">" else "little",
                                          signed=opt in "bhliT" and opt != "T"))
            elif opt in "fd":
                out.append(struct.unpack(endian + opt, data[pos:pos + size])[0])
            elif opt == "c":
                if size == 0:
                    if not out or type(out[-1]) not in (int, float):
                        raise LibError("format 'c0' needs a previous size")
                    size = int(out.pop())
                    if size > ld - pos:
                        raise LibError("bad argument #2 to 'unpack' (data string too short)")
                out.append(data[pos:pos + size])
            elif opt == "s":
                end = data.find(b"\0", pos)
                if end < 0:
                    raise LibError("unfinished string in data")
                out.append(data[pos:end])
                size = end - pos + 1
            pos += size
        out.append(pos + 1)
        return tuple(out)

    def size(*a):
        fmt = a[0] if a else None
        if type(fmt) is not bytes:
            raise LibError("bad argument #1 to 'size' (string expected, got %s)" % _tname(fmt))
        pos = 0
        for opt, sz, st in _struct_ops(fmt, "size"):
            pos += _toalign(pos, st, opt, sz)
            if opt == "s":
                raise LibError("bad argument #1 to 'size' (option 's' has no fixed size)")
            if opt == "c" and sz == 0:
                raise LibError("bad argument #1 to 'size' (option 'c0' has no fixed size)")
            pos += sz
        return pos

    return {"pack": pack, "unpack": unpack, "size": size}


def _tonum(b: bytes):
    try:
        return float(b)
    except ValueError:
        return None


def _lua_tostring(v) -> bytes:
    if type(v) is int:
        return b"%d" % v
    return (("%.14g" % v).encode())


def libraries(lua) -> dict:
    """name -> {function name -> Python callable or value}, for the Lua bootstrap."""
    libs = {"bit": bit_library(lua), "cjson": cjson_library(lua), "cmsgpack": cmsgpack_library(lua),
            "struct": struct_library(lua)}
    out = {}
    for name, fns in libs.items():
        out[name] = {k: (_wrap(f) if callable(f) and not lupa.lua_type(f) else f) for k, f in fns.items()}
    return out
