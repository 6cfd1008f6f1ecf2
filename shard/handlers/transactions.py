"""MULTI EXEC DISCARD WATCH UNWATCH (multi.c).

Commands queue in `c.multi` (dispatch does the queuing and flags a rejected command, so that EXEC
answers EXECABORT). EXEC fails with a null array if a WATCHed key was modified, or expired, since WATCH.
"""
from __future__ import annotations

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import NULL_ARRAY, OK

from ..dispatch import run_exec
from . import command


@command("multi")
def multi_command(c, argv):
    if c.multi is not None:
        raise RespError(errors.MULTI_NESTED)
    c.multi = []
    c.multi_error = False
    return OK


def _discard(c) -> None:
    c.multi = None
    c.multi_error = False
    c.server.unwatch_all(c)


def _watched_key_expired(c) -> bool:
    """A key that existed when WATCHed and has logically expired since (even if nobody touched it)."""
    now = c.server.now_ms
    for db, key, expired_at_watch in c.watched:
        if expired_at_watch:
            continue
        when = db.expires.get(key)
        if when is not None and when < now and key in db.data:
            return True
    return False


@command("exec")
def exec_command(c, argv):
    if c.multi is None:
        raise RespError(errors.EXEC_WITHOUT_MULTI)
    queued = c.multi
    if c.multi_error:
        _discard(c)
        raise RespError(errors.EXECABORT)
    if c.dirty_cas or _watched_key_expired(c):
        _discard(c)
        return NULL_ARRAY
    c.multi = None
    server = c.server
    server.unwatch_all(c)
    server.propagate_begin()  # the effects go to replicas as one MULTI ... EXEC
    try:
        replies = run_exec(c, queued)
    finally:
        server.propagate_end()
    c.propagate_as()  # EXEC itself is not replicated
    return replies


@command("discard")
def discard_command(c, argv):
    if c.multi is None:
        raise RespError(errors.DISCARD_WITHOUT_MULTI)
    _discard(c)
    return OK


@command("watch")
def watch_command(c, argv):
    if c.multi is not None:
        raise RespError(errors.WATCH_IN_MULTI)
    if c.dirty_cas:
        return OK  # already doomed: no point watching more (as Redis)
    db = c.db
    now = c.server.now_ms
    for key in argv[1:]:
        if any(w[0] is db and w[1] == key for w in c.watched):
            continue
        when = db.expires.get(key)
        expired = when is not None and when < now and key in db.data
        c.watched.append((db, key, expired))
        clients = db.watched.get(key)
        if clients is None:
            clients = db.watched[key] = set()
        clients.add(c)
    return OK


@command("unwatch")
def unwatch_command(c, argv):
    c.server.unwatch_all(c)
    return OK
