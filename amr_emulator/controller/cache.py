"""The controller of one cache: plans its topology, starts its nodes, waits until the cache is ready,
serves the management API, keeps the event log, rotates access keys, and stops everything on `down`,
SIGINT or SIGTERM."""
from __future__ import annotations

import asyncio
import datetime
import errno
import json
import logging
import os
import signal
import time
from typing import Any, Callable

from amr_emulator.config import CacheSpec, cache_dir, pid_alive, read_state, running_caches
from amr_emulator.controller import addresses
from amr_emulator.controller.http import HttpError, JsonServer
from amr_emulator.controller.internal import InternalError, node_call, node_json, use_tls
from amr_emulator.controller.nodes import NodeProcess, kill_group
from amr_emulator.controller.operations import Operations
from amr_emulator.controller.patching import Patching
from amr_emulator.topology import AccessKeys, Timing, Topology, free_port, generate_key, plan

log = logging.getLogger("amr_emulator.controller")

READY_POLL = 0.05


class StartError(Exception):
    """The cache cannot start; the message is for the user."""


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _address_message(host: str, port: int, err: int, what: str = "the cache endpoint") -> str:
    if err == errno.EADDRINUSE:
        return (f"{host}:{port} is already in use (another cache or program listens there); "
                f"choose another --port for {what}")
    if err == errno.EACCES:
        return f"permission denied to listen on {host}:{port} (ports below 1024 need privileges)"
    if err == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}: not an address of this machine"
    return f"cannot listen on {host}:{port}: {os.strerror(err)}"


def _status_shards(status: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The shards of an AMR.STATUS reply by shard id (a list of objects or an object keyed by id)."""
    shards = status.get("shards") or {}
    if isinstance(shards, dict):
        return {int(k): {**v, "id": int(k)} for k, v in shards.items()}
    return {int(s["id"]): s for s in shards if isinstance(s, dict) and "id" in s}


def _proxy_cmdline(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"proxy" in f.read()
    except OSError:
        return True   # no /proc: trust the recorded pid


def make_tls(directory: str, spec: CacheSpec, topology: Topology):
    """A new CA and server certificate for the cache (every node IP, its host, localhost); the
    controller's own connections to the node endpoints then speak TLS too."""
    from amr_emulator.controller.tls import client_context, make_certificates

    hosts = [spec.host, topology.endpoint_host, *(n.ip for n in topology.nodes)]
    try:
        files = make_certificates(os.path.join(directory, "tls"), spec.name, hosts)
    except ImportError:
        raise StartError("--tls needs the 'cryptography' package (pip install cryptography)") from None
    use_tls(client_context(files.ca))
    return files


class Controller(Operations, Patching):
    def __init__(self, spec: CacheSpec, ready_timeout: float = 60.0, parent_pid: int | None = None):
        self.spec = spec
        self.dir = cache_dir(spec.name)
        self.ready_timeout = ready_timeout
        self.topology: Topology | None = None
        self.nodes: dict[int, NodeProcess] = {}
        self.events: list[dict[str, Any]] = []
        self.state = "starting"
        self.http = JsonServer()
        self.stop_requested = asyncio.Event()
        self.started_at = time.time()
        self.ready_after: float | None = None
        self.tls = None   # TlsFiles of a cache with TLS
        self._watchers: list[asyncio.Task] = []
        self.nodes_stopped = False
        self.witness_address: str | None = None
        self.cuts: set[frozenset] = set()   # network partitions: pairs of members cut from each other
        self.owns_state = False
        self.parent_pid = parent_pid
        self._routes()

    # --- events and files ----------------------------------------------------------------------

    def event(self, operation: str, **details: Any) -> None:
        entry = {"time": now_iso(), "operation": operation, "details": details}
        self.events.append(entry)
        log.info("%s %s", operation, json.dumps(details))
        try:
            with open(os.path.join(self.dir, "events.jsonl"), "a") as f:
                f.write(json.dumps(entry) + "\n")
        except OSError:
            pass

    def _write(self, name: str, text: str) -> None:
        path = os.path.join(self.dir, name)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)

    @property
    def topology_path(self) -> str:
        return os.path.join(self.dir, "topology.json")

    def _write_topology(self) -> None:
        self._write("topology.json", self.topology.to_json(indent=2))

    def summary(self) -> dict[str, Any]:
        t = self.topology
        return {
            "name": self.spec.name,
            "state": self.state,
            "policy": self.spec.policy,
            "endpoint": None if t is None else f"{t.endpoint_host}:{t.endpoint_port}",
            "endpoint_host": None if t is None else t.endpoint_host,
            "endpoint_port": None if t is None else t.endpoint_port,
            "epoch": None if t is None else t.epoch,
            "leader": getattr(self, "elected_leader", None) if getattr(self, "elected_leader", None) is not None
            else (None if t is None else t.leader),
            "nodes": 0 if t is None else len(t.nodes),
            "shards": 0 if t is None else len(t.shards),
            "partitions": 0 if t is None else len(t.partitions),
            "auth": t is not None and t.access_keys is not None,
            "tls": self.tls is not None,
            "ca_path": self.tls.ca if self.tls else None,
            "timing": self.spec.timing,
            "management_url": f"http://127.0.0.1:{self.http.port}",
            "controller_pid": os.getpid(),
            "controller_own_group": os.getpgrp() == os.getpid(),
            "node_pids": {str(i): n.pid for i, n in self.nodes.items() if n.pid},
            "started_at": datetime.datetime.fromtimestamp(self.started_at, datetime.timezone.utc)
            .isoformat(timespec="seconds").replace("+00:00", "Z"),
            "ready_after_s": None if self.ready_after is None else round(self.ready_after, 3),
            "dir": self.dir,
            "spec": self.spec.to_dict(),
        }

    def _write_state(self) -> None:
        state = self.summary()
        state["management_port"] = self.http.port
        state["node_ips"] = [] if self.topology is None else [n.ip for n in self.topology.nodes]
        self._write("state.json", json.dumps(state, indent=2))

    # --- lifecycle -----------------------------------------------------------------------------

    async def run(self, on_ready: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Start, call on_ready, serve until asked to stop (down, SIGINT, SIGTERM), stop everything."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.stop_requested.set)
            except (NotImplementedError, RuntimeError):
                pass
        if self.parent_pid:
            self._watchers.append(asyncio.create_task(self._watch_parent()))
        try:
            start = asyncio.create_task(self.start())
            stop = asyncio.create_task(self.stop_requested.wait())
            done, _ = await asyncio.wait({start, stop}, return_when=asyncio.FIRST_COMPLETED)
            if start not in done:
                start.cancel()
                try:
                    await start
                except (asyncio.CancelledError, StartError):
                    pass
                raise StartError("interrupted before the cache was ready")
            start.result()
            if on_ready is not None:
                on_ready(self.summary())
            await stop
        finally:
            await self.shutdown()

    async def start(self) -> None:
        spec = self.spec
        self._preflight()
        self.owns_state = True
        try:
            os.makedirs(self.dir, exist_ok=True)
        except OSError as e:
            raise StartError(f"cannot create the runtime directory {self.dir}: {e.strerror}") from None
        port = spec.port or free_port(spec.host)
        err = addresses.probe(spec.host, port)
        if err:
            raise StartError(_address_message(spec.host, port, err))
        if spec.data_dir:
            try:
                os.makedirs(spec.data_dir, exist_ok=True)
            except OSError as e:
                raise StartError(f"cannot create the data directory {spec.data_dir}: {e.strerror}") from None
            if not os.access(spec.data_dir, os.W_OK):
                raise StartError(f"cannot write to the data directory {spec.data_dir}: permission denied")
        addressing = self._node_addresses(port)
        try:
            self.topology = plan(
                spec.name, policy=spec.policy, nodes=spec.nodes, shards=spec.shards, sku=spec.sku, ha=spec.ha,
                zones=spec.zones, host=spec.host, port=port,
                timing=Timing.named(spec.timing, **(spec.timers or {})),
                access_keys=(spec.access_key or "generate") if spec.auth else None,
                shard_config=spec.shard_config, maxmemory=spec.maxmemory, **addressing)
        except ValueError as e:
            raise StartError(str(e)) from None
        with open(os.path.join(self.dir, "events.jsonl"), "w"):
            pass
        if spec.tls:
            self.tls = make_tls(self.dir, spec, self.topology)
        self._write("spec.json", json.dumps(spec.to_dict(), indent=2))
        self._write_topology()
        await self.http.start("127.0.0.1", 0)
        self._write_state()
        t = self.topology
        self.event("cache-creating", policy=t.policy, nodes=len(t.nodes), partitions=len(t.partitions),
                   shards=len(t.shards), endpoint=f"{t.endpoint_host}:{t.endpoint_port}", epoch=t.epoch,
                   management_url=f"http://127.0.0.1:{self.http.port}")
        self.witness_address = await self.start_witness()
        for node in t.nodes:
            self.nodes[node.id] = self._node_process(node, self.topology_path, self.tls)
        for node in t.nodes:
            await self._start_process(node, t)
        self._write_state()
        await self._wait_ready()
        self.state = "ready"
        self.ready_after = time.time() - self.started_at
        self.event("cache-ready", seconds=round(self.ready_after, 3))
        self._watchers.append(asyncio.create_task(self.follow_node_events()))
        self._write_state()

    def _node_process(self, node, topology_path: str, tls) -> NodeProcess:
        """The process of a node (not started): its log and its shards' data directory, which is the
        user's --data-dir, else the cache's own."""
        data_dir = os.path.join(self.spec.data_dir or os.path.join(self.dir, "data"), f"node-{node.id}")
        log_path = os.path.join(self.dir, f"node-{node.id}.log")
        open(log_path, "wb").close()   # a new node starts a new log; restarts of a node append
        proc = NodeProcess(node.id, topology_path, log_path, data_dir,
                           tls=(tls.cert, tls.key, tls.ca) if tls else None)
        proc.witness = self.witness_address
        return proc

    async def _start_process(self, node, t: Topology) -> None:
        await self.nodes[node.id].start()
        self.event("node-started", node=node.id, pid=self.nodes[node.id].pid, ip=node.ip, port=node.port,
                   cluster_port=node.cluster_port, zone=node.zone, version=node.version,
                   shards=[s.id for s in t.node_shards(node.id)])
        self._watchers.append(asyncio.create_task(self._watch(node.id)))

    def _preflight(self) -> None:
        running = running_caches()
        if self.spec.name in running:
            other = running[self.spec.name]
            raise StartError(f"a cache named {self.spec.name!r} is already running "
                             f"(endpoint {other.get('endpoint')}, pid {other.get('controller_pid')}); "
                             f"stop it with `amr-emulator down --name {self.spec.name}` or choose another --name")
        stale = read_state(self.spec.name)
        if stale:   # the controller of a previous run died: reap what it left
            for pid in (stale.get("node_pids") or {}).values():
                if pid and pid_alive(pid) and _proxy_cmdline(pid):
                    kill_group(pid)
            try:
                os.unlink(os.path.join(self.dir, "state.json"))
            except OSError:
                pass

    def _node_addresses(self, port: int) -> dict[str, Any]:
        """Node IPs 127.0.1.x (a block no other cache holds, free at the node and cluster ports), else
        127.0.0.1 with distinct free ports (addresses.py)."""
        nodes = addresses.allocate(self.spec.nodes, port)
        return {"node_ips": [ip for ip, _, _ in nodes], "node_ports": [p for _, p, _ in nodes],
                "cluster_ports": [c for _, _, c in nodes]}

    async def _watch_parent(self) -> None:
        """The process that owns this cache (a test suite) is gone, even killed: stop the cache."""
        while os.getppid() == self.parent_pid and pid_alive(self.parent_pid):
            await asyncio.sleep(0.5)
        self.event("owner-gone", pid=self.parent_pid)
        self.stop_requested.set()

    async def _watch(self, node_id: int) -> None:
        proc = self.nodes[node_id]
        code = await proc.proc.wait()
        if not proc.stopping:
            self.event("node-exited", node=node_id, pid=proc.pid, status=code)
            self._write_state()
            self.node_exited(node_id, code)

    async def node_statuses(self, timeout: float = 1.0) -> dict[int, dict[str, Any] | Exception]:
        t = self.topology
        ids = [n.id for n in t.nodes]

        async def one(node_id: int):
            node = t.node(node_id)
            proc = self.nodes.get(node_id)
            if proc is None or not proc.running:
                return InternalError(f"node {node_id} is not running")
            try:
                return await node_json(node.ip, node.port, t.internal_password, "AMR.STATUS", timeout=timeout)
            except InternalError as e:
                return e
        results = await asyncio.gather(*(one(i) for i in ids))
        return dict(zip(ids, results))

    def _not_ready(self, statuses: dict[int, Any]) -> list[str]:
        t = self.topology
        reasons = []
        for node_id, status in statuses.items():
            if isinstance(status, Exception):
                reasons.append(str(status))
            elif not status.get("ready"):
                reasons.append(f"node {node_id}: not ready")
        if reasons:
            return reasons
        if t.unserved_slots():
            return [f"slots {a}-{b} have no partition" for a, b in t.unserved_slots()]
        for p in t.partitions:
            primary = t.shard(p.primary)
            shards = _status_shards(statuses[primary.node])
            if primary.id in shards and not shards[primary.id].get("up", True):
                reasons.append(f"partition {p.id}: primary shard {primary.id} is not up")
        return reasons

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        reasons: list[str] = []
        while True:
            for node_id, proc in self.nodes.items():
                if proc.proc is not None and proc.proc.returncode is not None:
                    raise StartError(f"node {node_id} exited with status {proc.proc.returncode} while starting"
                                     f" (log {proc.log_path}):\n{proc.log_tail()}")
            reasons = self._not_ready(await self.node_statuses(timeout=1.0))
            if not reasons:
                return
            if time.monotonic() > deadline:
                raise StartError(f"the cache was not ready after {self.ready_timeout:.0f}s: " + "; ".join(reasons))
            await asyncio.sleep(READY_POLL)

    async def shutdown(self) -> None:
        if self.state == "stopped":
            return
        if self.topology is not None and self.nodes and not self.nodes_stopped:
            await self.shutdown_nodes()
        for w in self._watchers:
            w.cancel()
        self.state = "stopped"
        if self.owns_state:   # never the state file of another running cache of the same name
            try:
                os.unlink(os.path.join(self.dir, "state.json"))
            except OSError:
                pass
        if getattr(self, "witness", None) is not None:
            await self.witness.close()
        if self.topology is not None:
            addresses.release(n.ip for n in self.topology.nodes)
        await self.http.close()

    # --- topology and keys ---------------------------------------------------------------------

    async def current_topology(self) -> Topology:
        """The newest topology the nodes hold (the proxies change it on failovers), else ours."""
        t = self.topology

        async def one(node):
            try:
                return Topology.from_dict(await node_json(node.ip, node.port, t.internal_password,
                                                          "AMR.TOPOLOGY", timeout=1.0))
            except (InternalError, KeyError, TypeError, ValueError):
                return None
        live = [n for n in t.nodes if self.nodes.get(n.id) and self.nodes[n.id].running]
        newest = t
        for other in await asyncio.gather(*(one(n) for n in live)):
            if other is not None and other.epoch > newest.epoch:
                newest = other
        if newest is not t:
            self.topology = newest
            self._write_topology()
            self.event("topology-changed", epoch=newest.epoch)
        return self.topology

    async def push_topology(self, topology: Topology) -> dict[int, str]:
        """AMR.TOPOLOGY.SET on every running node; node id -> error for those that refused."""
        self.topology = topology
        self._write_topology()
        text = topology.to_json()
        errors: dict[int, str] = {}

        async def one(node):
            try:
                await node_call(node.ip, node.port, topology.internal_password, "AMR.TOPOLOGY.SET", text)
            except InternalError as e:
                errors[node.id] = str(e)
        await asyncio.gather(*(one(n) for n in topology.nodes if self.nodes.get(n.id) and self.nodes[n.id].running))
        return errors

    def keys(self) -> dict[str, Any]:
        k = self.topology.access_keys
        if k is None:
            return {"auth": False, "primary": None, "secondary": None}
        return {"auth": True, "primary": k.primary, "secondary": k.secondary}

    async def regenerate_key(self, which: str) -> dict[str, Any]:
        if which not in ("primary", "secondary"):
            raise HttpError(400, f"key must be 'primary' or 'secondary', not {which!r}")
        t = await self.current_topology()
        if t.access_keys is None:
            raise HttpError(409, "this cache has no access keys (it was started with --no-auth)")
        k = t.access_keys
        keys = AccessKeys(generate_key(), k.secondary) if which == "primary" else AccessKeys(k.primary, generate_key())
        new = t.bump(access_keys=keys)
        errors = await self.push_topology(new)
        self.event("keys-regenerated", key=which, epoch=new.epoch, **({"errors": errors} if errors else {}))
        self._write_state()
        return {**self.keys(), "epoch": new.epoch, "errors": {str(i): e for i, e in errors.items()}}

    async def status(self) -> dict[str, Any]:
        t = await self.current_topology()
        statuses = await self.node_statuses()
        for node_id, st in statuses.items():   # the cluster leader as the quorum elected it
            if isinstance(st, dict) and (st.get("quorum") or {}).get("role") == "leader":
                self.elected_leader = node_id
        nodes = []
        for n in t.nodes:
            st = statuses.get(n.id)
            proc = self.nodes.get(n.id)
            nodes.append({"id": n.id, "ip": n.ip, "port": n.port, "cluster_port": n.cluster_port, "zone": n.zone,
                          "version": n.version, "state": n.state, "pid": proc.pid if proc else None,
                          "running": bool(proc and proc.running),
                          "status": None if isinstance(st, Exception) else st,
                          "error": str(st) if isinstance(st, Exception) else None})
        return {"cache": self.summary(), "topology": t.to_dict(), "nodes": nodes, "events": self.events[-20:]}

    # --- the management API ----------------------------------------------------------------------

    def _routes(self) -> None:
        h = self.http

        def named(handler):
            async def check(match, body):
                name = match.groupdict().get("name")
                if name is not None and name != self.spec.name:
                    raise HttpError(404, f"no cache named {name!r} here (this controller runs {self.spec.name!r})")
                return await handler(match, body)
            return check

        async def caches(match, body):
            return 200, [self.summary()]

        async def cache(match, body):
            return 200, self.summary()

        async def topology(match, body):
            return 200, (await self.current_topology()).to_dict()

        async def status(match, body):
            return 200, await self.status()

        async def events(match, body):
            return 200, self.events

        async def keys(match, body):
            return 200, self.keys()

        async def regenerate(match, body):
            which = (body or {}).get("key", "primary") if isinstance(body, dict) else body
            if self.state != "ready":
                raise HttpError(409, f"the cache is {self.state}")
            return 200, await self.regenerate_key(which)

        async def delete(match, body):
            self.event("down-requested")
            if self.state in ("ready", "starting"):
                # stop the nodes before answering: once DELETE returns, only the exiting controller is left
                await self.shutdown_nodes()
            self.stop_requested.set()
            return 200, {"name": self.spec.name, "stopped": True}

        prefix = r"(?:/caches/(?P<name>[A-Za-z0-9-]+))?"
        h.route("GET", r"/caches", caches)
        h.route("GET", r"/caches/(?P<name>[A-Za-z0-9-]+)", named(cache))
        h.route("DELETE", r"/caches/(?P<name>[A-Za-z0-9-]+)", named(delete))
        h.route("DELETE", r"/?", delete)
        h.route("GET", prefix + r"/topology", named(topology))
        h.route("GET", prefix + r"/status", named(status))
        h.route("GET", prefix + r"/events", named(events))
        h.route("GET", prefix + r"/keys", named(keys))
        h.route("POST", prefix + r"/keys/regenerate", named(regenerate))
        self._operation_routes(named, prefix)

    async def shutdown_nodes(self) -> None:
        if self.nodes_stopped:
            return
        self.nodes_stopped = True
        self.state = "stopping"
        self.event("cache-stopping")
        t = self.topology
        await asyncio.gather(*(proc.stop(t.node(i).ip, t.node(i).port, t.internal_password)
                               for i, proc in self.nodes.items()))
        self.event("cache-stopped")
