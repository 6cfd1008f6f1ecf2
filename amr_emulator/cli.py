"""The `amr-emulator` command line (click): parsing and printing only."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import click

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 10000


def _port_taken(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def _wait_ready(proc: subprocess.Popen, host: str, port: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return True
        except OSError:
            time.sleep(0.02)
    return False


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="amr-emulator")
def main():
    """A local emulator of an Azure Managed Redis cache: point any Redis client at 127.0.0.1:10000."""


@main.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address of the cache endpoint.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535),
              help="Port of the cache endpoint (AMR's is 10000).")
@click.option("--access-key", default="", help="Require AUTH with this key (default: no authentication).")
def up(host, port, access_key):
    """Start the emulator in the foreground; Ctrl-C stops it.

    For now the cache is a single shard process serving every command at the endpoint; the
    multi-node cache with proxies, replicas and failover builds on it.
    """
    if port and _port_taken(host, port):
        raise click.ClickException(f"{host}:{port} is already in use (another cache or program listens there)")
    args = [sys.executable, "-m", "shard", "--port", str(port), "--bind", host]
    if access_key:
        args += ["--requirepass", access_key]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, start_new_session=True)

    def stop(*_):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        if not _wait_ready(proc, host, port):
            stop()
            raise click.ClickException(f"the shard did not start on {host}:{port}")
        click.echo(f"amr-emulator ready at {host}:{port} (pid {proc.pid}); Ctrl-C stops it.")
        auth = f", password={access_key!r}" if access_key else ""
        click.echo(f"  python: redis.Redis(host={host!r}, port={port}{auth})")
        click.echo(f"  cli:    redis-cli -h {host} -p {port}" + (" -a <key>" if access_key else ""))
        code = proc.wait()
        if code not in (0, -signal.SIGTERM):
            raise click.ClickException(f"the shard exited with status {code}")
    except KeyboardInterrupt:
        click.echo("stopping...")
    finally:
        stop()
