"""Guard: every wire error text lives in amr_emulator/protocol/errors.py.

A string literal elsewhere in the emulator's code that starts like an error reply (`ERR ...`,
`-WRONGTYPE ...\\r\\n`, `\\0EERR ...` for an error raised into Lua) or quotes one (Lua source held in a
Python string) is an error text written inline: it belongs in errors.py, in its family's section,
verbatim from Redis. A bare code used as a rule (`"ERR " + message`, `startswith(b"-READONLY ")`)
is not a text and passes; docstrings pass.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("amr_emulator", "proxy", "shard")
ERRORS_PY = Path("amr_emulator/protocol/errors.py")

CODES = ("ERR", "WRONGTYPE", "NOSCRIPT", "BUSY", "BUSYKEY", "BUSYGROUP", "NOTBUSY", "UNKILLABLE", "NOPERM",
         "EXECABORT", "LOADING", "READONLY", "MOVED", "ASK", "TRYAGAIN", "CROSSSLOT", "CLUSTERDOWN", "NOAUTH",
         "WRONGPASS", "NOPROTO", "UNBLOCKED", "OOM", "MASTERDOWN", "NOREPLICAS", "NOMASTERLINK", "MISCONF",
         "NOGROUP", "INVALIDOBJ")
_CODE = "(?:%s)" % "|".join(CODES)
_STARTS = re.compile(r"(?:-|\x00E)?%s [^\s'\"]" % _CODE)
_QUOTED = re.compile(r"""['"]-?%s [^\s'"]""" % _CODE)

# (file, text): the few literals that look like an error text but are not one we send
ALLOWED = {
    # a reply of an old primary to AUTH, which the replica's handshake reads and tolerates
    ("shard/replication/replica.py", "-ERR operation not permitted"),
}


def inline_texts(source: str) -> list[tuple[int, str]]:
    """(line, text) of each literal in `source` that is or quotes an error text."""
    tree = ast.parse(source)
    prose = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    found = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, (str, bytes)) and id(n) not in prose:
            text = n.value.decode("latin-1") if isinstance(n.value, bytes) else n.value
            if _STARTS.match(text) or _QUOTED.search(text):
                found.append((n.lineno, text))
    return found


def _scan() -> dict[tuple[str, str], int]:
    hits = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel == ERRORS_PY:
                continue
            for line, text in inline_texts(path.read_text()):
                hits[(rel.as_posix(), text)] = line
    return hits


def test_no_error_text_outside_errors_py():
    inline = {k: line for k, line in _scan().items() if k not in ALLOWED}
    assert not inline, "error texts written inline (move them to errors.py):\n" + "\n".join(
        f"  {path}:{line}: {text[:100]!r}" for (path, text), line in sorted(inline.items()))


def test_allow_list_is_still_needed():
    hits = _scan()
    assert not [k for k in ALLOWED if k not in hits], "stale ALLOWED entries: remove them"


def test_errors_py_holds_the_texts():
    texts = inline_texts((ROOT / ERRORS_PY).read_text())
    assert len(texts) > 300
    assert any(t == "WRONGTYPE Operation against a key holding the wrong kind of value" for _, t in texts)


def test_the_scan_sees_each_way_of_writing_one():
    caught = [
        'raise RespError("ERR boom")',
        "raise RespError('WRONGTYPE the %s kind' % x)",
        'raise RespError(f"ERR bad {x} value")',
        'c.transport.write(b"-NOAUTH Authentication required.\\r\\n")',
        'raise ScriptError("\\0EERR a Lua error")',
        "BOOT = '''\nif x then return {err = 'ERR oops'} end\n'''",
        'M = ("NOPERM this user " "can not")',
    ]
    for source in caught:
        assert inline_texts(source), source
    passed = [
        '"""ERR in a docstring is prose."""',
        'def f():\n    """-MOVED 3999 127.0.0.1:6381 is what a client sees."""',
        'msg = "ERR " + reason',
        'if data.startswith(b"-READONLY "): pass',
        'ok = line.startswith(b"-NOAUTH")',
        'x = "ERRATA are not errors"',
        'raise RespError(errors.SYNTAX)',
    ]
    for source in passed:
        assert not inline_texts(source), source
