"""A node's process: `python -m proxy --topology <path> --node <id> [--data-dir D]` in its own process
group (the proxy spawns its shards in the same group); stopped by AMR.SHUTDOWN, then the group's
SIGTERM, then SIGKILL, so nothing of the node survives."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time

from amr_emulator.controller.internal import InternalError, node_call


def die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the parent dies, even by SIGKILL, so the
    proxy stops its shards and no node outlives its controller (and no test server its test run)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class NodeProcess:
    def __init__(self, node_id: int, topology_path: str, log_path: str, data_dir: str | None = None,
                 tls: tuple[str, str, str] | None = None):
        self.node_id = node_id
        self.tls = tls   # (certificate, key, CA) files: every client port speaks TLS
        self.topology_path = topology_path
        self.log_path = log_path
        self.data_dir = data_dir
        self.proc: asyncio.subprocess.Process | None = None
        self.started_at: float | None = None
        self.stopping = False
        # set by the controller before a start:
        self.witness: str | None = None   # the controller votes in a two-node cache's quorum (host:port)
        self.rejoin = False   # a node started again: its primaries wait for their failover
        self.cut: set[int] = set()   # members across a network partition still in force

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def args(self) -> list[str]:
        args = [sys.executable, "-m", "proxy", "--topology", self.topology_path, "--node", str(self.node_id)]
        if self.data_dir:
            args += ["--data-dir", self.data_dir]
        if self.tls:
            args += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1], "--tls-ca", self.tls[2]]
        if self.witness:
            args += ["--witness", self.witness]
        if self.rejoin:
            args.append("--rejoin")
        if self.cut:
            args += ["--cut", json.dumps(sorted(self.cut))]
        return args

    async def start(self) -> None:
        if self.data_dir:
            os.makedirs(self.data_dir, exist_ok=True)
        self.stopping = False
        with open(self.log_path, "ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *self.args(), stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                preexec_fn=die_with_parent if sys.platform.startswith("linux") else None)
        self.started_at = time.time()

    def log_tail(self, lines: int = 15) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 8192))
                return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return ""

    async def stop(self, ip: str, port: int, password: str, grace: float = 3.0) -> None:
        """AMR.SHUTDOWN, then SIGTERM and SIGKILL to the whole group; returns when it is gone."""
        if self.proc is None:
            return
        self.stopping = True
        pgid = self.proc.pid
        if self.proc.returncode is None:
            try:
                await node_call(ip, port, password, "AMR.SHUTDOWN", timeout=1.0)
            except InternalError:
                pass
            try:
                await asyncio.wait_for(self.proc.wait(), grace)
            except asyncio.TimeoutError:
                kill_group(pgid, signal.SIGTERM)
                try:
                    await asyncio.wait_for(self.proc.wait(), 2.0)
                except asyncio.TimeoutError:
                    kill_group(pgid, signal.SIGKILL)
                    await self.proc.wait()
        # shards left behind by a proxy that exited: the group still exists while any member lives
        if group_alive(pgid):
            kill_group(pgid, signal.SIGTERM)
            deadline = time.monotonic() + 2.0
            while group_alive(pgid) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            kill_group(pgid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL to the group at once (a lost VM)."""
        if self.proc is not None:
            kill_group(self.proc.pid, signal.SIGKILL)
