"""This node's shard processes: start, ping, restart (self-healing), point replicas at primaries.

Each shard runs as `python -m shard --port P --bind <node ip> --requirepass <internal> --config
masterauth=<internal> ...`, a child in the proxy's process group (so killing the node's group kills
them too). A state machine per shard, as supervisor/circus keep one:

    STARTING --(answers PING)--> RUNNING --(process exits)--> BACKOFF --(delay)--> STARTING
                                                   \\--(stop)--> STOPPED

The restart delay starts at the timing profile's `shard_restart_backoff_ms` and doubles up to 5 s
while a shard keeps dying quickly; it resets once a shard has run for 10 s. A replica shard gets
`REPLICAOF <primary ip> <primary port>` each time it (re)starts or its primary moves; a shard that
does not know REPLICAOF yet answers an error, which is logged once. A replica whose primary is across a
network partition gets `AMR.LINK OFF` (and `ON` when it is healed).

A primary the topology demotes while it is still running (its node was paused or cut off past the
detection time, and its replica took over) holds writes its successor never got: its resync discards
them. Before it is pointed at its successor, the stream it wrote beyond the successor's history
(`AMR.TAIL`) is read back, and the writes in it are reported as lost (`writes-lost` in the event log).
"""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import sys
import tempfile
from time import monotonic

import hiredis

from amr_emulator.protocol.commands import get_keys, lookup
from amr_emulator.protocol.resp import decode_reply, encode_command

from .backend import reply_end

log = logging.getLogger("proxy")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_BACKOFF = 5.0
STABLE_AFTER = 10.0


async def shard_call(host: str, port: int, password: str, *requests, timeout: float = 1.0, ssl=None) -> list:
    """Send requests on a fresh connection (AUTH first); the decoded replies, AUTH's excluded. `ssl`: a
    client TLS context, for a node endpoint of a cache with TLS."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=ssl), timeout)
    try:
        reqs = ([encode_command(b"AUTH", password)] if password else []) + [encode_command(*r) for r in requests]
        writer.write(b"".join(reqs))
        buf = b""
        replies = []
        pos = 0
        deadline = monotonic() + timeout
        while len(replies) < len(reqs):
            end = reply_end(buf, pos)
            if end < 0:
                left = deadline - monotonic()
                if left <= 0:
                    raise asyncio.TimeoutError()
                data = await asyncio.wait_for(reader.read(65536), left)
                if not data:
                    raise ConnectionError("closed")
                buf += data
                continue
            replies.append(decode_reply(buf, pos)[0])
            pos = end
        return replies[1:] if password else replies
    finally:
        writer.close()


class ControlConnection:
    """One authenticated connection to a shard for the supervisor's pings, opened again when lost."""

    def __init__(self, host: str, port: int, password: str):
        self.host = host
        self.port = port
        self.password = password
        self.reader = None
        self.writer = None
        self.buf = b""
        self.lock = asyncio.Lock()

    async def call(self, *requests, timeout: float = 1.0) -> list:
        async with self.lock:  # one exchange at a time: replies are read in order
            try:
                return await asyncio.wait_for(self._call(requests), timeout)
            except BaseException:
                self.close()
                raise

    async def _call(self, requests) -> list:
        reqs = [encode_command(*r) for r in requests]
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.buf = b""
            if self.password:
                reqs.insert(0, encode_command(b"AUTH", self.password))
                requests = ((b"AUTH",),) + tuple(requests)
            fresh = bool(self.password)
        else:
            fresh = False
        self.writer.write(b"".join(reqs))
        replies = []
        while len(replies) < len(reqs):
            end = reply_end(self.buf, 0)
            if end < 0:
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionError("closed")
                self.buf += data
                continue
            replies.append(decode_reply(self.buf, 0)[0])
            self.buf = self.buf[end:]
        if fresh:
            if hasattr(replies[0], "message"):
                raise ConnectionError(f"AUTH refused: {replies[0].message}")
            replies = replies[1:]
        return replies

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None
        self.buf = b""


class ShardProcess:
    def __init__(self, sup: "Supervisor", shard, ip: str):
        self.sup = sup
        self.shard = shard
        self.ip = ip
        self.state = "STOPPED"
        self.proc: asyncio.subprocess.Process | None = None
        self.pid: int | None = None
        self.adopted = False  # found running at start (a proxy restarted without its group)
        self.up = False
        self.started_at = 0.0
        self.backoff = sup.timing_s("shard_restart_backoff_ms", 1.0)
        self.restarts = 0
        self.repl_offset = 0
        self.link_status = None
        self.role_reported = None
        self.pointed_at = None  # (ip, port) last sent in REPLICAOF
        self.link_cut = False   # what AMR.LINK last told it (a network partition from its primary)
        self.tail_checking = False
        self.tail_reported = None   # (replid, fork offset) of the last writes-lost reported
        self.replicaof_unknown = False
        self.down_since: float | None = None   # when it stopped answering (failure detection)
        self.task: asyncio.Task | None = None
        self.workdir: str | None = None   # a temporary directory of its own, when the node has no data dir
        self.control = ControlConnection(ip, shard.port, sup.topology.internal_password)

    @property
    def port(self) -> int:
        return self.shard.port

    def status(self) -> dict:
        return {"id": self.shard.id, "pid": self.pid, "port": self.port, "ip": self.ip, "role": self.shard.role,
                "partition": self.shard.partition, "state": self.state, "up": self.up,
                "restarts": self.restarts, "master_repl_offset": self.repl_offset,
                "master_link_status": self.link_status}

    def args(self) -> list:
        sup = self.sup
        pw = sup.topology.internal_password
        args = [sys.executable, "-m", "shard", "--port", str(self.port), "--bind", self.ip, "--requirepass", pw,
                "--config", f"masterauth={pw}"]
        for k, v in sup.topology.shard_config.items():
            args += ["--config", f"{k}={v}"]
        # A shard works in a directory of its own (snapshots, full-sync files): under the node's data
        # dir, else a temporary one kept for this shard's restarts and removed when it stops for good.
        if sup.data_dir:
            d = os.path.join(sup.data_dir, f"shard-{self.shard.id}")
            os.makedirs(d, exist_ok=True)
        else:
            d = self.workdir = self.workdir or tempfile.mkdtemp(prefix=f"amr-shard-{self.shard.id}-")
        args += ["--config", f"dir={d}"]
        return args

    async def run(self) -> None:
        """Keep the shard running until stopped."""
        sup = self.sup
        pw = sup.topology.internal_password
        try:
            await shard_call(self.ip, self.port, pw, (b"PING",), timeout=0.3)
            info = await shard_call(self.ip, self.port, pw, (b"INFO", b"server"), timeout=1.0)
            for line in info[0].decode().split("\r\n"):
                if line.startswith("process_id:"):
                    self.pid = int(line.split(":")[1])
            self.adopted = True
            log.warning("shard %d already running on %s:%d (pid %s): adopted", self.shard.id, self.ip, self.port,
                        self.pid)
        except Exception:  # noqa: BLE001 - nothing there: start it
            pass
        if not self.adopted and sup.rejoining and self.shard.role == "primary" and sup.has_replica(self.shard):
            # this node was lost and is back: its primaries are empty now, their replicas elsewhere hold
            # the data. Report them failed and start them once the leader has failed them over.
            log.warning("shard %d: primary of a rejoining node, waiting for failover", self.shard.id)
            await self._await_failover()
        while not sup.stopping and self.state != "STOPPED_FOR_GOOD":
            if self.adopted:
                await self._watch_adopted()
                if sup.stopping or self.state == "STOPPED_FOR_GOOD":
                    break
                self.adopted = False
            self.state = "STARTING"
            self.up = False
            env = dict(os.environ)
            env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
            try:
                self.proc = await asyncio.create_subprocess_exec(*self.args(), cwd=ROOT, env=env,
                                                                 stdin=asyncio.subprocess.DEVNULL)
            except OSError as e:
                log.error("cannot start shard %d: %s", self.shard.id, e)
                await self._backoff()
                continue
            self.pid = self.proc.pid
            self.started_at = monotonic()
            self.pointed_at = None
            self.link_cut = False
            rc = await self.proc.wait()
            self.up = False
            self.pid = None
            if sup.stopping or self.state == "STOPPED_FOR_GOOD":
                break
            self.restarts += 1
            if self.shard.role == "primary" and sup.has_replica(self.shard):
                # a restarted primary comes back empty: it must not be the one its replica syncs from
                log.warning("shard %d (port %d, primary) exited with %s: waiting for failover", self.shard.id,
                            self.port, rc)
                await self._await_failover()
                if sup.stopping or self.state == "STOPPED_FOR_GOOD":
                    break
            log.warning("shard %d (port %d) exited with %s: restarting", self.shard.id, self.port, rc)
            if monotonic() - self.started_at > STABLE_AFTER:
                self.backoff = sup.timing_s("shard_restart_backoff_ms", 1.0)
            await self._backoff()
        self.state = "STOPPED"

    async def _await_failover(self) -> None:
        """Report this primary failed (state FAILED: the leader fails its partition over) and wait until
        the topology makes it a replica, or the detection time passed and nobody did (then it restarts
        as primary: without a failover its partition has no other copy anyway)."""
        sup = self.sup
        self.state = "FAILED"
        if self.down_since is None:
            self.down_since = monotonic()
        deadline = monotonic() + sup.timing_s("shard_failure_detection_ms", 5.0) + \
            sup.timing_s("node_failure_detection_ms", 10.0)
        while (self.shard.role == "primary" and monotonic() < deadline and not sup.stopping
               and self.state == "FAILED"):
            await asyncio.sleep(0.02)
        self.backoff = sup.timing_s("shard_restart_backoff_ms", 1.0)
        if self.state == "FAILED":
            self.state = "BACKOFF"

    async def _watch_adopted(self) -> None:
        """A shard we did not start: watch it by pings until it stops answering."""
        misses = 0
        while not self.sup.stopping and self.state != "STOPPED_FOR_GOOD":
            await asyncio.sleep(self.sup.timing_s("shard_ping_interval_ms", 1.0))
            if self.up:
                misses = 0
            else:
                misses += 1
                if misses >= 3:
                    return

    async def _backoff(self) -> None:
        self.state = "BACKOFF"
        await asyncio.sleep(self.backoff)
        self.backoff = min(self.backoff * 2, MAX_BACKOFF)

    async def check(self) -> None:
        """One ping: up/down, replication status; REPLICAOF when the topology wants it."""
        sup = self.sup
        try:
            want = sup.replica_target(self.shard)
            replies = await self.control.call((b"PING",), (b"INFO", b"replication"),
                                              timeout=max(0.5, sup.timing_s("shard_ping_interval_ms", 1.0)))
            was_up = self.up
            self.up = replies[0] == "PONG" or replies[0] == b"PONG"
            if self.up:
                self.down_since = None
            if self.up and self.state == "STARTING":
                self.state = "RUNNING"
            if isinstance(replies[1], bytes):
                info = info_fields(replies[1])
                self.repl_offset = int(info.get("master_repl_offset", self.repl_offset))
                self.link_status = info.get("master_link_status", self.link_status)
                self.role_reported = info.get("role", self.role_reported)
            cut = want is not None and want in sup.unreachable
            if self.up and cut != self.link_cut:
                await self.control.call((b"AMR.LINK", b"OFF" if cut else b"ON"), timeout=1.0)
                self.link_cut = cut
            if self.up and (not was_up or want != self.pointed_at) and not self.replicaof_unknown:
                await self._point(want)
        except Exception:  # noqa: BLE001 - down, or not yet up
            self.up = False
            if self.down_since is None and self.state != "STARTING":
                self.down_since = monotonic()

    async def _point(self, want) -> None:
        if want is None:
            if self.role_reported in (None, "master"):
                self.pointed_at = None
                return
            args = (b"REPLICAOF", b"NO", b"ONE")
        else:
            if self.role_reported == "master" and want not in self.sup.unreachable:
                try:
                    await self._report_lost_tail(want)
                except Exception as e:  # noqa: BLE001 - an account of the loss must not stop the demotion
                    log.warning("shard %d: the writes its demotion discards are unknown: %r", self.shard.id, e)
            args = (b"REPLICAOF", want[0].encode(), str(want[1]).encode())
        reply = (await self.control.call(args, timeout=2.0))[0]
        if hasattr(reply, "message"):
            if "unknown command" in reply.message:
                self.replicaof_unknown = True
                log.warning("shard %d does not know REPLICAOF yet (%s): replication is not set up",
                            self.shard.id, reply.message)
            else:
                log.warning("shard %d: REPLICAOF answered %s", self.shard.id, reply.message)
            return
        self.pointed_at = want

    async def _report_lost_tail(self, successor: tuple[str, int]) -> None:
        """This primary, about to follow `successor`: report what it wrote beyond the point where the
        successor's history forked from it (the successor's `second_repl_offset`)."""
        if self.tail_checking:
            return   # (the ping loop and a new topology both demote it: one account is enough)
        self.tail_checking = True
        try:
            await self._report_lost_tail_once(successor)
        finally:
            self.tail_checking = False

    async def _report_lost_tail_once(self, successor: tuple[str, int]) -> None:
        pw = self.sup.topology.internal_password
        theirs = info_fields((await shard_call(successor[0], successor[1], pw, (b"INFO", b"replication"),
                                               timeout=1.0))[0])
        mine = info_fields((await self.control.call((b"INFO", b"replication"), timeout=1.0))[0])
        if mine.get("master_replid") != theirs.get("master_replid2"):
            return   # not the history the successor came from (a restarted, empty shard)
        start, end = int(theirs["second_repl_offset"]), int(mine["master_repl_offset"])
        if end < start or self.tail_reported == (mine.get("master_replid"), start):
            return
        self.tail_reported = (mine.get("master_replid"), start)
        tail = (await self.control.call((b"AMR.TAIL", str(start).encode()), timeout=2.0))[0]
        facts = {"shard": self.shard.id, "partition": self.shard.partition, "bytes": end - start + 1,
                 "from_offset": start, "successor": f"{successor[0]}:{successor[1]}"}
        if not isinstance(tail, bytes):
            self.sup.event("writes-lost", writes=None, keys=[], **facts)   # beyond its backlog
            return
        writes, keys = stream_writes(tail)
        if writes:
            self.sup.event("writes-lost", writes=writes, keys=keys[:1000], keys_omitted=max(0, len(keys) - 1000), **facts)

    async def stop(self, grace: float = 3.0) -> None:
        self.state = "STOPPED_FOR_GOOD"
        self.control.close()
        pid = self.pid
        if self.proc is not None and self.proc.returncode is None:
            try:
                self.proc.terminate()
                await asyncio.wait_for(self.proc.wait(), grace)
            except (ProcessLookupError, asyncio.TimeoutError):
                try:
                    self.proc.kill()
                except ProcessLookupError:
                    pass
        elif self.adopted and pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if self.task is not None:
            self.task.cancel()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


class Supervisor:
    def __init__(self, topology, node_id: int, data_dir: str | None = None, rejoining: bool = False):
        self.topology = topology
        self.node_id = node_id
        self.data_dir = data_dir
        self.rejoining = rejoining   # the node was lost and restarted: its primaries wait for a failover
        self.stopping = False
        self.shards: dict[int, ShardProcess] = {}
        self._pinger: asyncio.Task | None = None
        self.unreachable: set = set()   # (ip, port) of shards across a network partition from this node
        self.event = lambda operation, **details: log.warning("%s %s", operation, details)

    def cut_off(self, addresses) -> None:
        """A network partition (or its end): replicas of primaries at `addresses` lose their link."""
        self.unreachable = set(addresses)
        loop = asyncio.get_running_loop()
        for sp in self.shards.values():
            if sp.up:
                loop.create_task(sp.check())

    def timing_s(self, name: str, default: float) -> float:
        try:
            return self.topology.timing[name] / 1000.0
        except KeyError:
            return default

    def node_ip(self) -> str:
        return self.topology.node(self.node_id).ip

    def replica_target(self, shard):
        """(ip, port) of the primary a local replica shard must follow; None for a primary."""
        topo = self.topology
        try:
            current = topo.shard(shard.id)
        except KeyError:
            return None
        if current.role != "replica":
            return None
        primary = topo.primary_shard(current.partition)
        return (topo.node(primary.node).ip, primary.port)

    def has_replica(self, shard) -> bool:
        try:
            return bool(self.topology.partition(shard.partition).replicas)
        except KeyError:
            return False

    def start(self) -> None:
        self.reconcile()
        self._pinger = asyncio.get_running_loop().create_task(self._ping_loop())

    def reconcile(self) -> None:
        """Start the local shards the topology has and we do not run; stop those it no longer has."""
        wanted = {s.id: s for s in self.topology.node_shards(self.node_id)}
        ip = self.node_ip()
        for sid, sp in list(self.shards.items()):
            if sid not in wanted or wanted[sid].port != sp.port:
                asyncio.get_running_loop().create_task(sp.stop())
                del self.shards[sid]
        for sid, s in wanted.items():
            sp = self.shards.get(sid)
            if sp is None:
                sp = self.shards[sid] = ShardProcess(self, s, ip)
                sp.task = asyncio.get_running_loop().create_task(sp.run())
            else:
                sp.shard = s

    def adopt(self, topology) -> None:
        """A newer topology: start/stop shards, and re-point or promote replicas now, not at the next ping."""
        self.topology = topology
        self.reconcile()
        loop = asyncio.get_running_loop()
        for sp in self.shards.values():
            if sp.up:
                loop.create_task(sp.check())

    async def _ping_loop(self) -> None:
        while not self.stopping:
            shards = list(self.shards.values())
            if shards:
                await asyncio.gather(*(sp.check() for sp in shards), return_exceptions=True)
            up = all(sp.up for sp in shards)
            await asyncio.sleep(self.timing_s("shard_ping_interval_ms", 1.0) if up else 0.05)

    def ready(self) -> bool:
        return all(sp.up for sp in self.shards.values())

    async def wait_ready(self, timeout: float) -> bool:
        deadline = monotonic() + timeout
        while monotonic() < deadline:
            if self.ready():
                return True
            await asyncio.sleep(0.05)
        return self.ready()

    async def stop(self) -> None:
        self.stopping = True
        if self._pinger is not None:
            self._pinger.cancel()
        await asyncio.gather(*(sp.stop() for sp in self.shards.values()), return_exceptions=True)

    def status(self) -> list:
        return [sp.status() for sp in sorted(self.shards.values(), key=lambda s: s.shard.id)]


def info_fields(info) -> dict[str, str]:
    """An INFO reply's `field:value` lines, as a dict."""
    text = info.decode("latin-1") if isinstance(info, bytes) else str(info)
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line and not line.startswith("#"))


def stream_writes(data: bytes) -> tuple[int, list[str]]:
    """The writes in a stretch of replication stream (RESP arrays of commands) and the keys they wrote,
    each key once, in the order written. A write is a command the command table flags `write` (not the
    stream's PING, SELECT, MULTI/EXEC, REPLCONF, nor a PUBLISH)."""
    reader = hiredis.Reader()
    reader.feed(data)
    writes = 0
    keys: dict[str, None] = {}
    while True:
        argv = reader.gets()
        if argv is False:
            break
        spec = lookup(argv) if isinstance(argv, list) and argv else None
        if spec is None or not spec.is_write:
            continue
        writes += 1
        for i in get_keys(spec, argv):
            keys[argv[i].decode("utf-8", "backslashreplace")] = None
    return writes, list(keys)
