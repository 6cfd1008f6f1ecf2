"""Argument converters with Redis's exact error texts (getLongLongFromObjectOrReply and friends)."""
from __future__ import annotations

import math
import time
import re
from decimal import Decimal
from fractions import Fraction

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import LLONG_MAX, LLONG_MIN, string2ll

__all__ = ["parse_int", "parse_float", "parse_timeout", "parse_positive", "string2ll", "parse_double_strict",
           "LLONG_MAX", "LLONG_MIN", "format_long_double", "parse_long_double", "long_double_add",
           "upper", "clamp_range"]


def parse_int(b: bytes, message: str = errors.NOT_INTEGER) -> int:
    """A signed 64-bit integer as Redis's string2ll reads it, or `message`."""
    v = string2ll(b)
    if v is None:
        raise RespError(message)
    return v


def clamp_range(start: int, end: int, length: int) -> tuple[int, int]:
    """An inclusive (start, end) as GETRANGE, BITCOUNT and BITPOS read it: a negative index counts
    from `length`, then both are clamped into [0, length - 1] (start > end means empty)."""
    if start < 0:
        start += length
    if end < 0:
        end += length
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= length:
        end = length - 1
    return start, end


def parse_positive(b: bytes, name: str = "") -> int:
    v = string2ll(b)
    if v is None:
        raise RespError(errors.NOT_INTEGER)
    if v < 0:
        raise RespError(errors.OUT_OF_RANGE_POSITIVE)
    return v


_INF_WORDS = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf,
              "+infinity": math.inf, "-infinity": -math.inf}


def parse_double_strict(b: bytes) -> float | None:
    """Redis's getDoubleFromObject (strtod over the whole string): no spaces, not empty, not NaN,
    no overflow to infinity or underflow to zero; 'inf' and '-inf' spelled out are fine."""
    if not b or len(b) > 5000 or b[0] in b" \t\n\r\v\f" or b[-1] in b" \t\n\r\v\f" or b"_" in b:
        return None
    try:
        s = b.decode("ascii")
    except UnicodeDecodeError:
        return None
    low = s.lower()
    if low in _INF_WORDS:
        return _INF_WORDS[low]
    try:
        v = float.fromhex(s) if "0x" in low else float(s)
    except (ValueError, OverflowError):
        return None
    if v != v or v in (math.inf, -math.inf):
        return None
    if v == 0.0 and any(ch in "123456789" for ch in low.split("e")[0].replace("0x", "")):
        return None  # underflow: strtod sets ERANGE
    return v


def parse_float(b: bytes, message: str = errors.NOT_FLOAT) -> float:
    v = parse_double_strict(b)
    if v is None:
        raise RespError(message)
    return v


def parse_timeout(b: bytes) -> float:
    """getTimeoutFromObjectOrReply(UNIT_SECONDS): seconds read as a long double (string2ld), made
    milliseconds in long double and rounded up (ceill); 0 means forever. Returns seconds."""
    v = parse_long_double(b)
    if v is None:
        raise RespError(errors.TIMEOUT_NOT_FLOAT)
    if type(v) is float:  # +inf ms is over LLONG_MAX; -inf ms converts to LLONG_MIN: negative
        raise RespError(errors.TIMEOUT_OUT_OF_RANGE if v > 0 else errors.TIMEOUT_NEGATIVE)
    ms = v * 1000
    ms = _ld_round(ms.numerator, ms.denominator)
    if ms > LLONG_MAX:
        raise RespError(errors.TIMEOUT_OUT_OF_RANGE)
    ms = math.ceil(ms)
    if ms < 0:
        raise RespError(errors.TIMEOUT_NEGATIVE)
    if ms > LLONG_MAX - int(time.time() * 1000):  # now + timeout would overflow
        raise RespError(errors.TIMEOUT_OUT_OF_RANGE)
    return ms / 1000


# --- long double (x87 80-bit extended) arithmetic: INCRBYFLOAT, HINCRBYFLOAT ------------------
#
# Redis computes INCRBYFLOAT in C `long double` (on x86-64: a 64-bit significand, exponents down to
# 2**-16445 for denormals, overflow at 2**16384), reads values with strtold and writes them with
# "%.17Lf" minus the trailing zeros. Python has no such type, so values are kept exact (Fraction)
# and every result is rounded to the 64-bit significand the way the FPU rounds (to nearest, ties
# to even). Infinities are floats; a NaN never comes out of parse_long_double.

_LD_DENORM_EXP = -16445  # the exponent of the least significant bit of the smallest denormal
_LD_OVERFLOW_BITS = 16384  # |value| >= 2**16384 is infinite
_LD_MAX_CHARS = 5 * 1024  # MAX_LONG_DOUBLE_CHARS
_BIG_DECIMAL = 10**4000
_DEC_RE = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX_RE = re.compile(rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?")
_LD_INF = {b"inf": math.inf, b"+inf": math.inf, b"-inf": -math.inf, b"infinity": math.inf,
           b"+infinity": math.inf, b"-infinity": -math.inf}


def _big_int(digits: bytes) -> int:
    """int() of a long decimal digit string (beyond Python's 4300-digit str->int guard)."""
    if len(digits) <= 4000:
        return int(digits)
    half = len(digits) // 2
    return _big_int(digits[:half]) * 10 ** (len(digits) - half) + _big_int(digits[half:])


def _ld_round(num: int, den: int):
    """The long double nearest num/den (den > 0): a Fraction, or +-inf on overflow."""
    if num == 0:
        return Fraction(0)
    neg = num < 0
    if neg:
        num = -num
    e = num.bit_length() - den.bit_length() - 64
    while True:
        if e >= 0:
            n, d = num, den << e
        else:
            n, d = num << -e, den
        m = n // d
        if m >> 64:
            e += 1
        elif not m >> 63:
            e -= 1
        else:
            break
    if e < _LD_DENORM_EXP:
        e = _LD_DENORM_EXP
        n, d = num << -e, den
        m = n // d
    rem = n - m * d
    if 2 * rem > d or (2 * rem == d and m & 1):
        m += 1
        if m >> 64:
            m >>= 1
            e += 1
    if m == 0:
        return Fraction(0)
    if m.bit_length() + e > _LD_OVERFLOW_BITS:
        return -math.inf if neg else math.inf
    if neg:
        m = -m
    return Fraction(m << e) if e >= 0 else Fraction(m, 1 << -e)


def parse_long_double(b: bytes):
    """string2ld: strtold over the whole string, as Redis accepts it. A Fraction, +-inf, or None
    (empty, too long, spaces, trailing bytes, NaN, overflow, underflow to zero)."""
    n = len(b)
    if n == 0 or n >= _LD_MAX_CHARS:
        return None
    if _DEC_RE.fullmatch(b):
        mant, _, exp = b.lower().partition(b"e")
        exp10 = _exp_value(exp)
        neg = mant[:1] == b"-"
        if mant[:1] in b"+-":
            mant = mant[1:]
        ip, _, fp = mant.partition(b".")
        digits = (ip + fp).lstrip(b"0")
        if not digits:
            return Fraction(0)
        exp10 -= len(fp)
        lead = len(digits) - 1 + exp10  # the decimal exponent of the leading digit
        if lead > 4933:
            return None
        if lead < -4952:
            return None
        v = _big_int(digits)
        if neg:
            v = -v
        r = _ld_round(v * 10 ** exp10, 1) if exp10 >= 0 else _ld_round(v, 10 ** -exp10)
    elif _HEX_RE.fullmatch(b):
        low = b.lower()
        neg = low[:1] == b"-"
        if low[:1] in b"+-":
            low = low[1:]
        mant, _, exp = low[2:].partition(b"p")
        exp2 = _exp_value(exp)
        ip, _, fp = mant.partition(b".")
        digits = (ip + fp).lstrip(b"0")
        if not digits:
            return Fraction(0)
        exp2 -= 4 * len(fp)
        lead = 4 * len(digits) + exp2
        if lead > _LD_OVERFLOW_BITS + 8 or lead < _LD_DENORM_EXP - 8:
            return None
        v = int(digits, 16)
        if neg:
            v = -v
        r = _ld_round(v << exp2, 1) if exp2 >= 0 else _ld_round(v, 1 << -exp2)
    else:
        return _LD_INF.get(b.lower())
    if r == 0 or type(r) is float:
        return None  # ERANGE: underflow to zero, or overflow
    return r


def _exp_value(exp: bytes) -> int:
    if not exp:
        return 0
    sign = -1 if exp[:1] == b"-" else 1
    digits = exp.lstrip(b"+-").lstrip(b"0")
    if len(digits) > 12:
        return sign * 10**12  # far beyond any long double: over/underflows
    return sign * int(digits or b"0")


def long_double_add(a, b):
    """a + b in long double: a Fraction, +-inf, or nan."""
    if type(a) is float or type(b) is float:
        return float(a) + float(b)
    s = a + b
    return _ld_round(s.numerator, s.denominator)


def format_long_double(v) -> bytes:
    """ld2string(LD_STR_HUMAN): "%.17Lf" without trailing zeros ("-0" as "0"), as INCRBYFLOAT and
    HINCRBYFLOAT reply. `v` is a value of parse_long_double/long_double_add, a float or an int;
    it is printed exactly (with the 17 decimals rounded half to even, as glibc does)."""
    if type(v) is float:
        if v != v:
            return b"nan"
        if v == math.inf:
            return b"inf"
        if v == -math.inf:
            return b"-inf"
    q = Fraction(v)
    num, den = q.numerator, q.denominator
    neg = num < 0
    if neg:
        num = -num
    n, rem = divmod(num * 10**17, den)
    if 2 * rem > den or (2 * rem == den and n & 1):
        n += 1
    digits = str(n) if n < _BIG_DECIMAL else str(Decimal(n))
    if len(digits) < 18:
        digits = "0" * (18 - len(digits)) + digits
    if len(digits) + 1 + neg + 1 > _LD_MAX_CHARS:
        return b""  # no room: Redis's ld2string fails and the value is the empty string
    frac = digits[-17:].rstrip("0")
    s = digits[:-17]
    if frac:
        s += "." + frac
    if neg and s != "0":
        s = "-" + s
    return s.encode()


def upper(b: bytes) -> bytes:
    return b.upper()
