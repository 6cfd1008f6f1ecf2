"""Redis's glob-style matching (util.c stringmatchlen): `*`, `?`, `[abc]`, `[^a-z]`, `\\x` escapes.

Patterns are translated once to a regular expression and cached.
"""
from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=4096)
def _compile(pattern: bytes, nocase: bool):
    out = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i:i + 1]
        if ch == b"*":
            while i + 1 < n and pattern[i + 1:i + 2] == b"*":
                i += 1
            out.append(b".*")
        elif ch == b"?":
            out.append(b".")
        elif ch == b"\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i:i + 1]))
        elif ch == b"[":
            i += 1
            negate = i < n and pattern[i:i + 1] == b"^"
            if negate:
                i += 1
            items = []
            while i < n and pattern[i:i + 1] != b"]":
                c = pattern[i:i + 1]
                if c == b"\\" and i + 1 < n:
                    i += 1
                    items.append(re.escape(pattern[i:i + 1]))
                elif i + 2 < n and pattern[i + 1:i + 2] == b"-" and pattern[i + 2:i + 3] != b"]":
                    a, b = pattern[i], pattern[i + 2]
                    if a > b:
                        a, b = b, a
                    items.append(re.escape(bytes([a])) + b"-" + re.escape(bytes([b])))
                    i += 2
                else:
                    items.append(re.escape(c))
                i += 1
            body = b"".join(items)
            if not body:
                out.append(b"(?!)" if not negate else b".")
            else:
                out.append(b"[" + (b"^" if negate else b"") + body + b"]")
        else:
            out.append(re.escape(ch))
        i += 1
    flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
    return re.compile(b"".join(out), flags).fullmatch


def glob_match(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    if pattern == b"*":
        return True
    return _compile(pattern, nocase)(string) is not None


def glob_matcher(pattern: bytes, nocase: bool = False):
    """A reusable predicate for one pattern (SCAN MATCH, KEYS)."""
    if pattern == b"*":
        return lambda s: True
    m = _compile(pattern, nocase)
    return lambda s: m(s) is not None
