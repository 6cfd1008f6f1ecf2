"""Caches made of proxies (`python -m proxy`), started from a topology JSON planned in the test.

`start_cache(tmp, policy, nodes, ...)` plans a topology with `amr_emulator.topology.plan` (ports
from the OS; nodes on 127.0.1.<n+1> where this host can bind them, else 127.0.0.1 with distinct
ports), starts one proxy per node in its own process group, and waits until every node reports
ready (`AMR.STATUS`) and the cache endpoint answers. `Cache.stop()` stops every group and removes
the cache's directory, even when a test fails (the fixtures call it in `finally`).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time

import pytest

from amr_emulator.topology import plan
from tests.servers import ROOT, Process, RawConnection, free_port

INTERNAL = "internal-secret"


def loopback_ips_work() -> bool:
    try:
        with socket.socket() as s:
            s.bind(("127.0.1.2", 0))
        return True
    except OSError:
        return False


class Cache:
    def __init__(self, topology, path: str, data_dir: str):
        self.topology = topology
        self.path = path
        self.data_dir = data_dir
        self.procs: dict[int, Process] = {}
        self.host = topology.endpoint_host
        self.port = topology.endpoint_port
        self.password = topology.access_keys.primary if topology.access_keys else None

    def start_node(self, node_id: int) -> Process:
        node = self.topology.node(node_id)
        args = [sys.executable, "-m", "proxy", "--topology", self.path, "--node", str(node_id),
                "--data-dir", self.data_dir]
        p = Process(args, node.port, cwd=ROOT)
        p.host = node.ip
        self.procs[node_id] = p
        return p

    def internal(self, node_id: int) -> RawConnection:
        node = self.topology.node(node_id)
        conn = RawConnection(node.ip, node.port, timeout=5)
        assert conn.call("AUTH", INTERNAL) == b"+OK\r\n"
        return conn

    def status(self, node_id: int) -> dict:
        conn = self.internal(node_id)
        try:
            reply = conn.call("AMR.STATUS")
        finally:
            conn.close()
        body = reply.split(b"\r\n", 1)[1][:-2]
        return json.loads(body)

    def wait_ready(self, node_ids=None, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        for nid in node_ids if node_ids is not None else self.procs:
            while True:
                proc = self.procs[nid].proc
                if proc.poll() is not None:
                    raise RuntimeError(f"proxy {nid} exited: {proc.stderr.read().decode()[-3000:]}")
                try:
                    if self.status(nid)["ready"]:
                        break
                except (OSError, ConnectionError, AssertionError, ValueError, IndexError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"node {nid} not ready")
                time.sleep(0.05)
        while True:  # the cache endpoint listens once the node's shards are up
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def raw(self, node_id: int | None = None, port_kind: str = "endpoint") -> RawConnection:
        if node_id is None:
            conn = RawConnection(self.host, self.port)
        else:
            node = self.topology.node(node_id)
            conn = RawConnection(node.ip, node.cluster_port if port_kind == "cluster" else node.port)
        if self.password:
            assert conn.call("AUTH", self.password) == b"+OK\r\n"
        return conn

    def stop(self) -> None:
        """Every node's process group, even one whose proxy died first (its shards live on in it); then
        the cache's directory."""
        for p in self.procs.values():
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(p.proc.pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and _group_alive(p.proc.pid):
                    p.proc.poll()
                    time.sleep(0.02)
                if not _group_alive(p.proc.pid):
                    break
            p.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def start_cache(policy: str, nodes: int = 3, shards: int = 3, keys: bool = False, ha: bool = True) -> Cache:
    tmp = tempfile.mkdtemp(prefix="amr-proxy-")
    if loopback_ips_work():
        port = free_port()
        ips = None
        node_ports = None
    else:
        port = free_port()
        ips = ["127.0.0.1"] * nodes
        node_ports = [free_port() for _ in range(nodes)]
    topology = plan("test", policy=policy, nodes=nodes, shards=shards, ha=ha, port=port, node_ips=ips,
                    node_ports=node_ports, cluster_ports=[free_port() for _ in range(nodes)],
                    access_keys="generate" if keys else None, internal_password=INTERNAL, timing="fast")
    path = os.path.join(tmp, "topology.json")
    with open(path, "w") as f:
        f.write(topology.to_json())
    cache = Cache(topology, path, tmp)
    try:
        for n in topology.nodes:
            cache.start_node(n.id)
        cache.wait_ready()
    except BaseException:
        cache.stop()
        raise
    return cache


@pytest.fixture(scope="module")
def enterprise():
    cache = start_cache("enterprise", keys=True)
    try:
        yield cache
    finally:
        cache.stop()


@pytest.fixture(scope="module")
def oss():
    cache = start_cache("oss")
    try:
        yield cache
    finally:
        cache.stop()
