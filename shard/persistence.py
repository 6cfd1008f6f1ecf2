"""Snapshots: the shard's keyspace to and from RDB (amr_emulator.protocol.rdb), SAVE, background
saves in a forked child, loading at start-up.

- `snapshot_bytes(server, repl_id, repl_offset)`: every database, with expiries and function
  libraries, as one RDB file (version 10).
- `load_bytes(server, data)`: parse the whole file first, then replace the keyspace; on RdbError the
  keyspace is untouched.
- `bgsave(server)` (BGSAVE) and `snapshot_in_background(server, on_done, ...)` (replication full
  sync): `os.fork()`; the child, holding a copy-on-write image of the keyspace, serializes it and
  writes the file, then `os._exit`s; the parent keeps serving and learns of the child's end through
  a pipe watched by the event loop (no polling), then reaps it.

Values: the writer takes the shard's values as they are (bytes, deque, dict, set, ZSet; a stream
structure offering `to_rdb_stream()`); `from_codec` builds the shard's from the codec's. A stream is
kept as the codec's frozen `Stream` until the streams family provides `shard.structures.stream` with
`from_rdb_stream(Stream)` (used when present).

Function libraries: when the server has `rdb_functions()` (the library sources) it is saved; when it
has `rdb_load_functions(list_of_sources)`, loading calls it (the functions family provides both).
"""
from __future__ import annotations

import gc
import logging
import os
import signal
import time
from collections import deque

from amr_emulator.protocol.rdb import RdbError, Stream, ZSetPairs, read_rdb, write_rdb_to

from .structures.zset import ZSet

log = logging.getLogger("shard")

REPL_ID_NONE = "0" * 40


class PersistenceState:
    """Per server: what INFO persistence and LASTSAVE report, and the running child."""

    __slots__ = ("child_pid", "child_start", "child_dirty", "child_purpose", "last_bgsave_ok",
                 "last_bgsave_time", "saves", "loading", "keys_loaded", "keys_expired", "sync_children",
                 "scheduled", "functions", "last_try", "child_killed")

    def __init__(self):
        self.child_pid = 0  # the BGSAVE child, 0 if none
        self.child_start = 0.0
        self.child_dirty = 0
        self.child_purpose = ""
        self.last_bgsave_ok = True
        self.last_bgsave_time = -1
        self.saves = 0
        self.loading = False
        self.keys_loaded = 0
        self.keys_expired = 0
        self.sync_children: dict = {}  # pid -> callback, for replication snapshots
        self.scheduled = False  # BGSAVE SCHEDULE waiting for the running child
        self.last_try = 0.0  # time() of the last BGSAVE attempt
        self.child_killed = False  # the BGSAVE child was stopped on purpose (FLUSHALL)
        self.functions: list = []  # library sources loaded from a file, kept for the next save while
        # the server has no function engine (no rdb_functions / rdb_load_functions)


def state(server) -> PersistenceState:
    st = getattr(server, "persistence", None)
    if st is None:
        st = server.persistence = PersistenceState()
    return st


# --- values ---------------------------------------------------------------------------------------

try:  # the streams family's structure, when it exists
    from .structures.stream import from_rdb_stream as _stream_from_codec  # type: ignore
except ImportError:  # pragma: no cover - depends on the streams family
    _stream_from_codec = None


def from_codec(value, server):
    """A shard value from a codec value."""
    t = type(value)
    if t is bytes:
        return value
    if t is list:
        return deque(value)
    if t is set or t is dict:
        return value
    if t is ZSetPairs:
        z = ZSet.from_pairs(value)
        z.fit_encoding(server)
        return z
    if t is Stream:
        return _stream_from_codec(value) if _stream_from_codec is not None else value
    raise RdbError("unsupported value type %s" % t.__name__)


def to_codec(value):
    """The codec value of a shard value (the writer takes shard values directly; this is for tests
    and comparisons)."""
    t = type(value)
    if t is deque:
        return list(value)
    if isinstance(value, ZSet):
        return ZSetPairs(value.items())
    to_stream = getattr(value, "to_rdb_stream", None)
    if to_stream is not None:
        return to_stream()
    return value


# --- snapshot -------------------------------------------------------------------------------------


def _aux_fields(server, repl_id, repl_offset) -> list:
    return [
        (b"redis-ver", server.version),
        (b"redis-bits", 64),
        (b"ctime", int(time.time())),
        (b"used-mem", server.used_memory()),
        (b"repl-stream-db", 0),
        (b"repl-id", repl_id or getattr(server, "replid", None) or REPL_ID_NONE),
        (b"repl-offset", repl_offset if repl_offset is not None else getattr(server, "master_repl_offset", 0)),
        (b"aof-base", 0),
    ]


def snapshot_bytes(server, repl_id=None, repl_offset=None) -> bytes:
    """The whole keyspace as an RDB file."""
    chunks: list = []
    snapshot_to(server, chunks.append, repl_id, repl_offset)
    return b"".join(chunks)


def snapshot_to(server, write, repl_id=None, repl_offset=None) -> int:
    """The whole keyspace as an RDB file handed to `write(bytes)` in pieces; the file's size."""
    functions = getattr(server, "rdb_functions", None)
    return write_rdb_to(write, ((db.id, db.data, db.expires) for db in server.dbs),
                        aux=_aux_fields(server, repl_id, repl_offset),
                        functions=functions() if functions is not None else state(server).functions)


def load_bytes(server, data, flush: bool = True, merge: bool = False) -> None:
    """Replace the whole keyspace (and function libraries) with an RDB file's. Parses and converts
    everything before touching the keyspace: RdbError leaves it as it was.

    flush=False (DEBUG RELOAD NOFLUSH) adds the file's keys to the keyspace instead: a key present
    in both is an error, unless merge=True (the file's wins)."""
    st = state(server)
    parsed = read_rdb(data)
    ndbs = len(server.dbs)
    for dbid in parsed.dbs:
        if dbid >= ndbs:
            raise RdbError("the file holds database %d; this server has %d databases" % (dbid, ndbs))
    server.update_clock()
    now = server.now_ms
    primary = not server.is_replica
    loaded = expired = 0
    new = {}
    for dbid, pdb in parsed.dbs.items():
        data_out = pdb.data  # the reader's own dict: converted in place
        for key, value in data_out.items():
            if type(value) is not bytes:
                data_out[key] = from_codec(value, server)
        expires_out = pdb.expires
        if primary:
            gone = [key for key, when in expires_out.items() if when < now]
            for key in gone:
                del data_out[key]
                del expires_out[key]
            expired += len(gone)
        loaded += len(data_out)
        new[dbid] = (data_out, expires_out)
    load_functions = getattr(server, "rdb_load_functions", None)
    if load_functions is not None:
        load_functions(parsed.functions)  # raises before any change if a library is bad
    elif flush:
        st.functions = list(parsed.functions)
    else:
        st.functions = st.functions + [f for f in parsed.functions if f not in st.functions]
    if not flush and not merge:
        for dbid, (data_out, _) in new.items():
            present = server.dbs[dbid].data
            for key in data_out:
                if key in present:
                    raise RdbError("duplicate key %r in database %d" % (key[:64], dbid))
    for db in server.dbs:
        data_out, expires_out = new.get(db.id, ({}, {}))
        if flush:
            db.flush()
            db.data = data_out
            db.expires = expires_out
        else:
            for key, value in data_out.items():
                db.data[key] = value
                db.expires.pop(key, None)
                db.changed(key)
            db.expires.update(expires_out)
        for key in db.blocking:
            if key in data_out:
                server.ready_keys[(db, key)] = None
    st.keys_loaded = loaded
    st.keys_expired = expired


def load_file(server, path: str) -> bool:
    """Load `path` if it exists: True if loaded. RdbError if it is not a valid RDB file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return False
    st = state(server)
    st.loading = True
    try:
        load_bytes(server, data)
    finally:
        st.loading = False
    return True


def rdb_path(server) -> str:
    return os.path.join(os.getcwd(), server.config.values["dbfilename"])


def load_at_startup(server) -> None:
    """Load dir/dbfilename when it exists (Redis's loadDataFromDisk)."""
    path = rdb_path(server)
    t0 = time.monotonic()
    if load_file(server, path):
        st = state(server)
        log.warning("DB loaded from disk: %.3f seconds (%d keys, %d expired keys skipped)",
                    time.monotonic() - t0, st.keys_loaded, st.keys_expired)


def _write_snapshot(server, path: str, repl_id=None, repl_offset=None) -> None:
    """The snapshot into `path`: written to a temporary file, synced, renamed (as rdbSave)."""
    tmp = os.path.join(os.path.dirname(path) or ".", "temp-%d.rdb" % os.getpid())
    try:
        with open(tmp, "wb") as f:
            snapshot_to(server, f.write, repl_id, repl_offset)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save(server) -> None:
    """SAVE: write the snapshot in the foreground. OSError on failure."""
    st = state(server)
    _write_snapshot(server, rdb_path(server))
    server.dirty = 0
    server.lastsave = int(time.time())
    st.last_bgsave_ok = True
    st.saves += 1


# --- background saves ------------------------------------------------------------------------------


def _fork_child(server, work) -> tuple[int, int]:
    """Fork; the child runs work() and exits 0 (1 on an exception). Returns (pid, read end of a pipe
    the child holds the write end of: it reads EOF when the child is gone)."""
    r, w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        raise
    if pid == 0:  # child
        code = 1
        try:
            gc.disable()  # a collection would touch (and so copy) every page of the parent's heap
            os.close(r)
            work()
            code = 0
        except BaseException:
            try:
                log.exception("background save failed")
            except BaseException:
                pass
        finally:
            os._exit(code)
    os.close(w)
    return pid, r


def _watch_child(server, pid: int, rfd: int, done) -> None:
    """Call done(ok) from the event loop once the child exited (its pipe reads EOF)."""
    loop = server.loop

    def on_readable():
        try:
            chunk = os.read(rfd, 64)
        except OSError:
            chunk = b""
        if chunk:
            return
        loop.remove_reader(rfd)
        os.close(rfd)
        _, status = os.waitpid(pid, 0)
        done(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0)

    loop.add_reader(rfd, on_readable)


def bgsave_in_progress(server) -> bool:
    return state(server).child_pid != 0


def bgsave(server) -> None:
    """BGSAVE: fork a child that writes dir/dbfilename. The caller checks no save is running."""
    st = state(server)
    path = rdb_path(server)
    st.last_try = time.time()
    st.child_start = time.monotonic()
    st.child_dirty = server.dirty
    pid, rfd = _fork_child(server, lambda: _write_snapshot(server, path))
    st.child_pid = pid
    log.warning("Background saving started by pid %d", pid)

    def done(ok: bool) -> None:
        st.child_pid = 0
        st.last_bgsave_time = int(time.monotonic() - st.child_start)
        if st.child_killed:  # killRDBChild: not an error, and the temporary file goes
            st.child_killed = False
            try:
                os.unlink(os.path.join(os.path.dirname(path) or ".", "temp-%d.rdb" % pid))
            except OSError:
                pass
            log.warning("Background saving terminated by signal")
            return
        st.last_bgsave_ok = ok
        if ok:
            server.dirty = max(0, server.dirty - st.child_dirty)
            server.lastsave = int(time.time())
            st.saves += 1
            log.warning("Background saving terminated with success")
        else:
            log.warning("Background saving error")
        if st.scheduled:
            st.scheduled = False
            bgsave(server)

    _watch_child(server, pid, rfd, done)


def snapshot_in_background(server, on_done, repl_id=None, repl_offset=None) -> int:
    """For replication full sync: fork a child that writes a snapshot to a temporary file; when it is
    done, `on_done(data)` is called on the event loop with the RDB bytes (None if the child failed).
    The snapshot is the keyspace at the time of the call. Returns the child's pid."""
    st = state(server)
    path = os.path.join(os.getcwd(), "temp-sync-%d-%d.rdb" % (os.getpid(), time.monotonic_ns()))
    pid, rfd = _fork_child(server, lambda: _write_snapshot(server, path, repl_id, repl_offset))
    st.sync_children[pid] = on_done

    def done(ok: bool) -> None:
        st.sync_children.pop(pid, None)
        data = None
        if ok:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                data = None
        try:
            os.unlink(path)
        except OSError:
            pass
        on_done(data)

    _watch_child(server, pid, rfd, done)
    return pid


def info_fields(server) -> dict:
    """The rdb_* / loading fields of INFO persistence."""
    st = state(server)
    return {
        "loading": int(st.loading),
        "rdb_bgsave_in_progress": int(st.child_pid != 0),
        "rdb_last_bgsave_status": "ok" if st.last_bgsave_ok else "err",
        "rdb_last_bgsave_time_sec": st.last_bgsave_time,
        "rdb_current_bgsave_time_sec": int(time.monotonic() - st.child_start) if st.child_pid else -1,
        "rdb_saves": st.saves,
        "rdb_last_load_keys_expired": st.keys_expired,
        "rdb_last_load_keys_loaded": st.keys_loaded,
    }


# --- save points ----------------------------------------------------------------------------------

BGSAVE_RETRY_DELAY = 5  # seconds before retrying a failed automatic save (CONFIG_BGSAVE_RETRY_DELAY)
_parsed_save: tuple = ("", [])


def save_points(server) -> list:
    """The `save` setting as [(seconds, changes), ...]."""
    global _parsed_save
    text = server.config.values.get("save", "")
    if text != _parsed_save[0]:
        nums = [int(x) for x in text.split()]
        _parsed_save = (text, list(zip(nums[0::2], nums[1::2])))
    return _parsed_save[1]


def cron(server) -> None:
    """serverCron's part: start a BGSAVE when a save point is reached (`save <seconds> <changes>`:
    at least `changes` writes and more than `seconds` since the last save), and a scheduled one."""
    st = state(server)
    if st.child_pid:
        return
    if st.scheduled:
        st.scheduled = False
        bgsave(server)
        return
    points = save_points(server)
    if not points:
        return
    now = time.time()
    if not st.last_bgsave_ok and now - st.last_try <= BGSAVE_RETRY_DELAY:
        return
    for seconds, changes in points:
        if server.dirty >= changes and now - server.lastsave > seconds:
            log.warning("%d changes in %d seconds. Saving...", changes, seconds)
            try:
                bgsave(server)
            except OSError as e:
                log.warning("Can't save in background: fork: %s", e)
                st.last_bgsave_ok = False
            return


def save_on_shutdown(server) -> None:
    """prepareForShutdown: with save points configured, a last foreground SAVE."""
    if save_points(server):
        try:
            save(server)
        except (OSError, RdbError) as e:
            log.warning("Error trying to save the DB on shutdown: %s", e)


def flushall_hook(server) -> None:
    """flushAllDataAndResetRDB, after FLUSHALL emptied the keyspace: stop a running BGSAVE child
    (its snapshot is obsolete) and, with save points configured, save the empty dataset."""
    st = state(server)
    if st.child_pid:
        st.child_killed = True
        try:
            os.kill(st.child_pid, signal.SIGUSR1)
        except OSError:
            pass
    if save_points(server):
        try:
            save(server)
        except (OSError, RdbError) as e:
            log.warning("Failed saving the DB after FLUSHALL: %s", e)
            st.last_bgsave_ok = False
