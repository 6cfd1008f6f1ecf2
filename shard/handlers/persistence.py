"""Persistence commands: DUMP, RESTORE, SAVE, BGSAVE (and DEBUG RELOAD's body, called from DEBUG)."""
from __future__ import annotations

import logging

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.rdb import RdbError, dump_payload, load_dump_payload, verify_dump_payload
from amr_emulator.protocol.resp import OK, Simple

from .. import persistence
from ..args import parse_int
from ..keyspace import NOTIFY_GENERIC
from . import command
from .keys import lookup_read

log = logging.getLogger("shard")


@command("dump")
def dump_command(c, argv):
    value = lookup_read(c, argv[1])
    if value is None:
        return None
    return dump_payload(value)


@command("restore")
def restore_command(c, argv):
    replace = absttl = False
    idle = freq = -1
    n = len(argv)
    j = 4
    while j < n:
        opt = argv[j].lower()
        more = n - j - 1
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and more >= 1 and freq == -1:
            idle = parse_int(argv[j + 1])
            if idle < 0:
                raise RespError(errors.INVALID_IDLETIME)
            j += 1
        elif opt == b"freq" and more >= 1 and idle == -1:
            freq = parse_int(argv[j + 1])
            if freq < 0 or freq > 255:
                raise RespError(errors.INVALID_FREQ)
            j += 1
        else:
            raise RespError(errors.SYNTAX)
        j += 1
    key = argv[1]
    db = c.db
    if not replace and db.lookup(key) is not None:
        raise RespError(errors.BUSYKEY)
    ttl = parse_int(argv[2])
    if ttl < 0:
        raise RespError(errors.INVALID_TTL)
    payload = argv[3]
    if not verify_dump_payload(payload):
        raise RespError(errors.DUMP_PAYLOAD_WRONG)
    try:
        value = persistence.from_codec(load_dump_payload(payload), c.server)
    except RdbError:
        raise RespError(errors.BAD_DATA_FORMAT) from None
    deleted = db.delete(key) if replace else False
    server = c.server
    if ttl and not absttl:
        ttl += server.now_ms
    if ttl and ttl <= server.now_ms and not server.is_replica:
        if deleted:
            c.propagate_as([b"UNLINK" if getattr(server, "lazyfree_lazy_server_del", False) else b"DEL", key])
            c.changed(key, NOTIFY_GENERIC, b"del")
        return OK
    db.add(key, value)
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:
            c.propagate_as([argv[0], key, b"%d" % ttl, *argv[3:], b"ABSTTL"])
    c.changed(key, NOTIFY_GENERIC, b"restore")
    return OK


@command("save")
def save_command(c, argv):
    if persistence.bgsave_in_progress(c.server):
        raise RespError(errors.BGSAVE_IN_PROGRESS)
    try:
        persistence.save(c.server)
    except (OSError, RdbError) as e:
        log.warning("Failed saving the DB: %s", e)
        persistence.state(c.server).last_bgsave_ok = False
        raise RespError(errors.PLAIN_ERR) from None
    return OK


@command("bgsave")
def bgsave_command(c, argv):
    schedule = False
    if len(argv) > 1:
        if len(argv) == 2 and argv[1].lower() == b"schedule":
            schedule = True
        else:
            raise RespError(errors.SYNTAX)
    server = c.server
    st = persistence.state(server)
    if st.child_pid:
        raise RespError(errors.BGSAVE_IN_PROGRESS)
    if c.in_exec:  # Redis never forks inside a transaction: it schedules the save
        if not st.scheduled:
            st.scheduled = True
            server.loop.call_soon(_run_scheduled, server)
        return Simple("Background saving scheduled")
    try:
        persistence.bgsave(server)
    except OSError as e:
        log.warning("Can't save in background: fork: %s", e)
        st.last_bgsave_ok = False
        raise RespError(errors.PLAIN_ERR) from None
    del schedule  # only meaningful while another child runs, which never happens here
    return Simple("Background saving started")


def _run_scheduled(server) -> None:
    st = persistence.state(server)
    if st.scheduled and not st.child_pid:
        st.scheduled = False
        try:
            persistence.bgsave(server)
        except OSError as e:
            log.warning("Can't save in background: fork: %s", e)
            st.last_bgsave_ok = False


def debug_reload(c, argv):
    """DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save (unless NOSAVE), empty the keyspace (unless
    NOFLUSH), load the file (MERGE: keys of the file replace existing ones instead of failing)."""
    flush = save = True
    merge = False
    for opt in argv[2:]:
        o = opt.lower()
        if o == b"merge":
            merge = True
        elif o == b"noflush":
            flush = False
        elif o == b"nosave":
            save = False
        else:
            raise RespError(errors.DEBUG_RELOAD_OPTIONS)
    server = c.server
    if save:
        try:
            persistence.save(server)
        except (OSError, RdbError) as e:
            log.warning("DEBUG RELOAD: failed saving the DB: %s", e)
            raise RespError(errors.PLAIN_ERR) from None
    try:
        with open(persistence.rdb_path(server), "rb") as f:
            data = f.read()
        persistence.load_bytes(server, data, flush=flush, merge=merge)
    except (OSError, RdbError) as e:
        log.warning("DEBUG RELOAD: %s", e)
        raise RespError(errors.DEBUG_RELOAD_FAILED) from None
    log.warning("DB reloaded by DEBUG RELOAD")
    return OK
