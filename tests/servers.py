"""Processes and raw connections for tests: a shard (`python -m shard`) and a real redis-server.

Every process is started in its own process group and stopped by that group, even when the test
fails; ports are chosen by the OS.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from amr_emulator.controller.nodes import die_with_parent
from amr_emulator.protocol.resp import decode_reply, encode_command

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A server process in its own process group."""

    def __init__(self, args: list[str], port: int, cwd: str | None = None, env=None, tmp: str | None = None):
        self.args = args
        self.port = port
        self.tmp = tmp  # a directory of this process's own, removed when it stops
        self.host = "127.0.0.1"
        # its own group (stopped by it); and it dies with the test run, even one killed, so no server
        # outlives a suite stopped half-way
        self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True,
                                     preexec_fn=die_with_parent if sys.platform.startswith("linux") else None)

    def wait_ready(self, timeout: float = 15.0) -> "Process":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise RuntimeError(f"{self.args[0]} exited {self.proc.returncode}: {err.decode()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                    s.sendall(b"*1\r\n$4\r\nPING\r\n")
                    if s.recv(64):
                        return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.args} not ready on port {self.port}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


def start_shard(*extra: str, port: int | None = None) -> Process:
    """A shard working in a temporary directory of its own (where SAVE and full syncs write files), as
    start_redis does, so no test leaves an RDB file that a later shard would load."""
    port = port or free_port()
    tmp = tempfile.mkdtemp(prefix="amr-shard-")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    args = [sys.executable, "-m", "shard", "--port", str(port), *extra]
    return Process(args, port, cwd=tmp, env=env, tmp=tmp).wait_ready()


def redis_server_path() -> str | None:
    return shutil.which("redis-server")


def start_redis(*extra: str) -> Process:
    path = redis_server_path()
    if path is None:
        raise RuntimeError("redis-server is not installed (scripts/test installs it)")
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="amr-redis-")
    args = [path, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", tmp, "--daemonize", "no", *extra]
    return Process(args, port, cwd=tmp, tmp=tmp).wait_ready()


class RawConnection:
    """A plain socket that sends requests and reads whole replies as raw bytes."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_reply(self) -> bytes:
        """One complete reply, as the bytes the server sent."""
        while True:
            if self.buf:
                try:
                    _, end = decode_reply(self.buf)
                    out, self.buf = self.buf[:end], self.buf[end:]
                    return out
                except (IndexError, ValueError):
                    pass
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionError(f"connection closed; unread: {self.buf[:200]!r}")
            self.buf += data

    def call(self, *args) -> bytes:
        self.send(encode_command(*args))
        return self.read_reply()

    def read_until_closed(self, timeout: float = 5.0) -> bytes:
        self.sock.settimeout(timeout)
        out = self.buf
        self.buf = b""
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                return out
            if not data:
                return out
            out += data

    def close(self) -> None:
        self.sock.close()
