"""Node addresses: each node of a cache gets a loopback IP of its own (127.0.1.x) where the machine lets
us bind one, else 127.0.0.1 with distinct ports.

Which IPs are taken is kept machine-wide, whatever runtime directory a cache uses (tests give each cache
its own): one file per reserved IP under `<tmp>/amr-emulator-<uid>/ips/`, holding the pid of the
controller that reserved it, written under an exclusive lock. Two caches starting at the same moment
therefore never pick the same block, and an IP whose controller died is free again.
"""
from __future__ import annotations

import errno
import fcntl
import os
import socket
import tempfile
from contextlib import contextmanager
from typing import Iterator

from amr_emulator.config import pid_alive
from amr_emulator.topology import CLUSTER_PORT_BASE, LOOPBACK_PREFIX, free_port


def probe(host: str, port: int) -> int:
    """0 when (host, port) can be listened on, else the errno (EADDRINUSE, EACCES, EADDRNOTAVAIL)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # TIME_WAIT is not "in use"
        try:
            s.bind((host, port))
            s.listen(1)
        except OSError as e:
            return e.errno or errno.EADDRINUSE
    return 0


def registry_dir() -> str:
    return os.path.join(tempfile.gettempdir(), f"amr-emulator-{os.getuid()}", "ips")


@contextmanager
def _locked() -> Iterator[str]:
    directory = registry_dir()
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with open(os.path.join(os.path.dirname(directory), "ips.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield directory
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _owner(directory: str, ip: str) -> int | None:
    try:
        with open(os.path.join(directory, ip)) as f:
            return int(f.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


def per_node_ips() -> bool:
    """Whether this machine lets us bind 127.0.1.x (Linux routes all of 127/8 to loopback; macOS does not)."""
    if os.environ.get("AMR_EMULATOR_SHARED_IP", "") not in ("", "0"):   # force the fallback
        return False
    return probe(f"{LOOPBACK_PREFIX}1", 0) != errno.EADDRNOTAVAIL


def allocate(count: int, port: int, first_id: int = 0, owner: int | None = None) -> list[tuple[str, int, int]]:
    """(ip, node port, cluster port) for `count` new nodes with ids first_id, first_id+1, ...: a block of
    free 127.0.1.x IPs (reserved for `owner`, default this process, until `release`), node port `port`
    and cluster ports 8500 + id; else 127.0.0.1 with distinct free ports."""
    owner = owner or os.getpid()
    if per_node_ips():
        with _locked() as directory:
            for first in range(1, 255 - count + 1):
                ips = [f"{LOOPBACK_PREFIX}{first + i}" for i in range(count)]
                if any(pid_alive(_owner(directory, ip)) for ip in ips):
                    continue
                cports = [CLUSTER_PORT_BASE + first_id + i for i in range(count)]
                if all(probe(ip, port) == 0 and probe(ip, cport) == 0 for ip, cport in zip(ips, cports)):
                    for ip in ips:
                        with open(os.path.join(directory, ip), "w") as f:
                            f.write(str(owner))
                    return [(ip, port, cport) for ip, cport in zip(ips, cports)]
    ports: set[int] = set()
    while len(ports) < 2 * count:
        ports.add(free_port())
    ordered = sorted(ports)
    return [("127.0.0.1", ordered[i], ordered[count + i]) for i in range(count)]


def release(ips, owner: int | None = None) -> None:
    """Give back the IPs `owner` (default this process) reserved."""
    owner = owner or os.getpid()
    with _locked() as directory:
        for ip in set(ips):
            if _owner(directory, ip) == owner:
                try:
                    os.unlink(os.path.join(directory, ip))
                except OSError:
                    pass
