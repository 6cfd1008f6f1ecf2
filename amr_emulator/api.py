"""The Python API: a running cache as a context manager.

    from amr_emulator import Cache

    with Cache(nodes=3, policy="oss", timing="fast") as cache:
        r = cache.client()            # redis.RedisCluster (oss) or redis.Redis, with the access key
        r.set("k", "v")
        cache.topology(); cache.events(); cache.status()

The cache runs in its own controller process (`python -m amr_emulator.controller`), driven over the
management API. `stop()` (also on `with` exit, on interpreter exit and after a failing test) stops it
through the API and then kills whatever is left by process group, so no process outlives it; and if
this process dies without stopping it (SIGKILL), the controller notices and stops the cache.
"""
from __future__ import annotations

import atexit
import secrets
import subprocess
import threading
from collections.abc import Iterable
from typing import Any

from amr_emulator.config import CacheSpec, parse_size
from amr_emulator.controller.launch import ApiError, launch, reap, request, stop_cache
from amr_emulator.topology import Topology

_live: set["Cache"] = set()
_live_lock = threading.Lock()


def _stop_all() -> None:
    for cache in list(_live):
        cache.stop()


atexit.register(_stop_all)


class Cache:
    """An emulated AMR cache. Keyword arguments are the `amr-emulator up` options; differences for
    tests: a unique name (`amr-<random>`), a free port (port=0) and the `fast` timing profile."""

    def __init__(self, name: str | None = None, *, nodes: int = 3, shards: int | None = None,
                 sku: str | None = None, policy: str = "oss", zones: list[str] | tuple[str, ...] | None = None,
                 ha: bool = True, host: str = "127.0.0.1", port: int = 0, timing: str = "fast",
                 eviction_policy: str = "volatile-lru", maxmemory: int | str | None = None,
                 data_dir: str | None = None, auth: bool = True, access_key: str | None = None,
                 tls: bool = False, node_restart_delay: float | None = None,
                 timers: dict[str, int] | None = None, ready_timeout: float = 60.0):
        self.spec = CacheSpec(
            name=name or f"amr-{secrets.token_hex(4)}", host=host, port=port, nodes=nodes, shards=shards,
            sku=sku, policy=policy, zones=None if zones is None else tuple(str(z) for z in zones), ha=ha,
            eviction_policy=eviction_policy, maxmemory=parse_size(maxmemory), data_dir=data_dir,
            timing=timing, auth=auth, access_key=access_key, tls=tls, node_restart_delay=node_restart_delay,
            timers=dict(timers) if timers else None)
        self.ready_timeout = ready_timeout
        self.info: dict[str, Any] | None = None
        self._proc: subprocess.Popen | None = None
        self._clients: list[Any] = []

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> "Cache":
        if self.info is not None:
            return self
        self._proc, self.info = launch(self.spec, self.ready_timeout, tied=True)
        with _live_lock:
            _live.add(self)
        return self

    def stop(self) -> None:
        if self.info is None:
            return
        for client in self._clients:
            try:
                client.close()
            except Exception:
                pass
        self._clients.clear()
        try:
            stop_cache(self.info)
        finally:
            reap(self.info)
            if self._proc is not None:
                try:
                    self._proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass
            self.info = None
            with _live_lock:
                _live.discard(self)

    def __enter__(self) -> "Cache":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.info is not None

    # --- facts ---------------------------------------------------------------------------------

    def _need(self) -> dict[str, Any]:
        if self.info is None:
            raise RuntimeError("the cache is not running (call start() or use `with Cache(...)`)")
        return self.info

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def policy(self) -> str:
        return self.spec.policy

    @property
    def host(self) -> str:
        return self._need()["endpoint_host"]

    @property
    def port(self) -> int:
        return self._need()["endpoint_port"]

    @property
    def endpoint(self) -> str:
        """`host:port` of the cache endpoint."""
        return self._need()["endpoint"]

    @property
    def management_url(self) -> str:
        return self._need()["management_url"]

    @property
    def tls(self) -> bool:
        return self.spec.tls

    @property
    def ca_path(self) -> str | None:
        """The CA certificate (PEM) clients trust under TLS (`ssl_ca_certs`), else None."""
        return self._need().get("ca_path")

    def _client_options(self, password: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        info = self._need()
        if password is None and info.get("auth"):
            password = self.access_key
        options: dict[str, Any] = {"host": self.host, "port": self.port, "password": password}
        if info.get("tls"):
            options.update(ssl=True, ssl_ca_certs=info["ca_path"])
        if self.policy == "oss":
            # keep the cache endpoint among the nodes to ask: patching replaces every node, and a client that
            # knew only the discovered node addresses would have none left to ask after two patches
            options["dynamic_startup_nodes"] = False
        options.update(kwargs)
        return options

    @property
    def controller_pid(self) -> int:
        return self._need()["controller_pid"]

    @property
    def ready_after(self) -> float:
        return self._need()["ready_after_s"]

    def _api(self, method: str, path: str, body: Any = None, timeout: float = 30.0) -> Any:
        return request(self.management_url, method, f"/caches/{self.name}{path}", body, timeout=timeout)

    def topology(self) -> Topology:
        return Topology.from_dict(self._api("GET", "/topology"))

    def status(self) -> dict[str, Any]:
        return self._api("GET", "/status")

    def events(self) -> list[dict[str, Any]]:
        return self._api("GET", "/events")

    def keys(self) -> dict[str, Any]:
        return self._api("GET", "/keys")

    @property
    def access_key(self) -> str | None:
        return self.keys()["primary"]

    def regenerate_key(self, which: str = "primary") -> dict[str, Any]:
        return self._api("POST", "/keys/regenerate", {"key": which})

    def node_pids(self) -> dict[int, int]:
        return {int(k): v for k, v in self._need().get("node_pids", {}).items()}

    # --- failover and faults ------------------------------------------------------------------------

    def failover(self, *, shard: int | None = None, node: int | None = None,
                 partition: int | None = None) -> dict[str, Any]:
        """Planned failover (the leader pauses writes, waits for the replica, swaps roles, commits):
        of one shard's partition, of every primary on a node, or of every partition."""
        return self._api("POST", "/failover", {"shard": shard, "node": node, "partition": partition})

    def patch(self, version: str | None = None) -> dict[str, Any]:
        """Patch the cache as AMR does (new nodes, leader moved to one, old nodes drained one by one and
        removed); returns when done: the new version, the migrations, the seconds it took."""
        return self._api("POST", "/patch", {"version": version}, timeout=600.0)

    def kill_node(self, node: int, *, keep_down: bool = False) -> dict[str, Any]:
        """SIGKILL of the node's process group (a lost VM); restarted after the node restart delay
        unless `keep_down`."""
        return self._api("POST", f"/nodes/{node}/kill", {"keep_down": keep_down})

    def restart_node(self, node: int) -> dict[str, Any]:
        return self._api("POST", f"/nodes/{node}/restart")

    def start_node(self, node: int) -> dict[str, Any]:
        return self._api("POST", f"/nodes/{node}/start")

    def pause_node(self, node: int, seconds: float) -> dict[str, Any]:
        """SIGSTOP of the node's process group, SIGCONT after `seconds`."""
        return self._api("POST", f"/nodes/{node}/pause", {"seconds": seconds})

    def kill_shard(self, shard: int) -> dict[str, Any]:
        return self._api("POST", f"/shards/{shard}/kill")

    def zone_down(self, zone: str) -> dict[str, Any]:
        return self._api("POST", f"/zones/{zone}/down")

    def zone_up(self, zone: str) -> dict[str, Any]:
        return self._api("POST", f"/zones/{zone}/up")

    def drill(self, kind: str = "planned-failover", *, clients: int = 4, duration: float = 10.0) -> dict[str, Any]:
        """Run a redis-py write workload during `kind` (planned-failover, unplanned-failover, kill-node,
        zone-down; amr_emulator.drill.DRILLS): per-second ops and errors, the unavailability window, the
        cache's convergence, lost acknowledged writes (split into the unreplicated tail of an unplanned
        failover and the unexplained)."""
        from amr_emulator.drill import run_drill
        return run_drill(self._api, kind, self.client, clients, duration)

    def partition(self, *nodes: int, from_nodes: Iterable[int] | None = None) -> dict[str, Any]:
        """Cut the network between these nodes and every other node (or `from_nodes`) until `heal()`:
        quorum messages, proxies' connections to the other side's shards, replication links."""
        body: dict[str, Any] = {"nodes": list(nodes)}
        if from_nodes is not None:
            body["from"] = list(from_nodes)
        return self._api("POST", "/partition", body)

    def slow_node(self, node: int, latency_ms: float) -> dict[str, Any]:
        """Every reply of the node's proxy comes `latency_ms` late (0: normal again)."""
        return self._api("POST", f"/nodes/{node}/slow", {"latency_ms": latency_ms})

    def heal(self) -> dict[str, Any]:
        return self._api("POST", "/heal")

    def leader(self) -> int:
        return self._api("GET", "/leader")["leader"]

    def node_events(self) -> list[dict[str, Any]]:
        return self._api("GET", "/node-events")

    def wait_for(self, predicate, timeout: float = 15.0, interval: float = 0.05) -> Topology:
        """Poll the topology until `predicate(topology)` holds; the topology, or TimeoutError."""
        import time
        deadline = time.monotonic() + timeout
        while True:
            try:
                t = self.topology()
                if predicate(t):
                    return t
            except ApiError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the topology did not reach the expected state within {timeout} s")
            time.sleep(interval)

    def wait_for_epoch(self, epoch: int, timeout: float = 15.0) -> Topology:
        return self.wait_for(lambda t: t.epoch >= epoch, timeout)

    # --- clients -------------------------------------------------------------------------------

    def client(self, *, password: str | None = None, **kwargs: Any):
        """A redis-py client for this cache: RedisCluster under the OSS policy, Redis otherwise, with the
        primary access key (or `password`), and under TLS `ssl=True` with the cache's CA. Closed when the
        cache stops."""
        import redis
        options = self._client_options(password, kwargs)
        if self.policy == "oss":
            client = redis.RedisCluster(**options)
        else:
            client = redis.Redis(**options)
        self._clients.append(client)
        return client

    def async_client(self, *, password: str | None = None, **kwargs: Any):
        """The asyncio flavour of `client()` (redis.asyncio); the caller closes it."""
        import redis.asyncio
        options = self._client_options(password, kwargs)
        if self.policy == "oss":
            return redis.asyncio.RedisCluster(**options)
        return redis.asyncio.Redis(**options)

    def __repr__(self) -> str:
        where = self.info["endpoint"] if self.info else "stopped"
        return f"<Cache {self.name} {self.policy} {where}>"


__all__ = ["Cache", "ApiError"]
