"""What a user asks for when creating a cache (CacheSpec), checked once, and where caches live on disk.

The spec is a frozen value with AMR's names and defaults; the controller turns it into the first
topology (`amr_emulator.topology.plan`). Runtime directories: one per cache under `runtime_root()`
(`$AMR_EMULATOR_HOME`, else `$XDG_RUNTIME_DIR/amr-emulator`, else `~/.local/state/amr-emulator`),
holding `state.json` (controller pid, management port, node pids), `topology.json`, `events.jsonl` and
the processes' logs.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass
from typing import Any

from amr_emulator.topology import POLICIES, TIMING_PROFILES, sku_lookup

EVICTION_POLICIES = ("volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu", "volatile-random",
                     "allkeys-random", "volatile-ttl", "noeviction")
NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])?$")  # AMR: letters, digits, hyphens
_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?$", re.IGNORECASE)
_UNITS = {None: 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000 ** 2, "mb": 1024 ** 2, "g": 1000 ** 3,
          "gb": 1024 ** 3}


class SpecError(ValueError):
    """A cache spec that cannot be built; the message is for the user."""


def parse_size(text: str | int | None) -> int | None:
    """Redis's memory units (`100mb`, `1gb`, `2g`, bytes) -> bytes."""
    if text is None or text == "":
        return None
    if isinstance(text, int):
        return text
    m = _SIZE_RE.match(str(text).strip())
    if not m:
        raise SpecError(f"bad memory size {text!r} (use bytes or a unit: 100mb, 1gb)")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower() if m.group(2) else None])


@dataclass(frozen=True)
class CacheSpec:
    name: str = "amr"
    host: str = "127.0.0.1"
    port: int = 10000
    nodes: int = 3
    shards: int | None = None           # None: the SKU's count, else 3
    sku: str | None = None
    policy: str = "oss"
    zones: tuple[str, ...] | None = None
    ha: bool = True
    eviction_policy: str = "volatile-lru"
    maxmemory: int | None = None        # bytes, the whole cache's (split over the primary shards)
    data_dir: str | None = None
    timing: str = "azure"
    auth: bool = True                   # AMR requires an access key by default
    access_key: str | None = None       # None: generated
    tls: bool = False                   # TLS on every client port, with a CA made for the cache
    node_restart_delay: float | None = None   # seconds before a dead node is started again (None: the profile's)
    timers: dict[str, int] | None = None      # overrides of the timing profile's timers (name -> ms)

    def __post_init__(self):
        if not NAME_RE.match(self.name):
            raise SpecError(f"bad cache name {self.name!r}: letters, digits and hyphens, 1 to 60 characters")
        if self.policy not in POLICIES:
            raise SpecError(f"unknown clustering policy {self.policy!r} (one of: {', '.join(POLICIES)})")
        if not 0 <= self.port <= 65535:
            raise SpecError(f"bad port {self.port}")
        if self.nodes < 1:
            raise SpecError("a cache needs at least one node")
        if self.ha and self.nodes < 2:
            raise SpecError("high availability needs at least two nodes (use --no-ha for one node)")
        if self.shards is not None and self.shards < 1:
            raise SpecError("a cache needs at least one shard")
        if self.sku is not None:
            try:
                sku_lookup(self.sku)
            except ValueError as e:
                raise SpecError(str(e)) from None
        if self.eviction_policy not in EVICTION_POLICIES:
            raise SpecError(f"unknown eviction policy {self.eviction_policy!r} "
                            f"(one of: {', '.join(EVICTION_POLICIES)})")
        if self.timing not in TIMING_PROFILES:
            raise SpecError(f"unknown timing profile {self.timing!r} (one of: {', '.join(TIMING_PROFILES)})")
        if self.timers:
            known = TIMING_PROFILES.get(self.timing, {})
            for k, v in self.timers.items():
                if k not in known:
                    raise SpecError(f"unknown timer {k!r} (known: {', '.join(known)})")
                if not isinstance(v, int) or v < 0:
                    raise SpecError(f"timer {k} must be a number of milliseconds, not {v!r}")
        if self.zones is not None and len(self.zones) == 0:
            raise SpecError("--zones needs at least one zone")
        if self.access_key is not None and not self.auth:
            raise SpecError("--access-key and --no-auth contradict each other")
        if self.access_key is not None and (not self.access_key or any(c.isspace() for c in self.access_key)):
            raise SpecError("an access key cannot be empty or contain spaces")

    @property
    def shard_config(self) -> dict[str, str]:
        # Replicas of a cache sync at once (Redis's 5 s diskless delay would only slow every failover).
        return {"maxmemory-policy": self.eviction_policy, "repl-diskless-sync-delay": "0"}

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["zones"] = None if self.zones is None else list(self.zones)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CacheSpec":
        d = dict(d)
        if d.get("zones") is not None:
            d["zones"] = tuple(str(z) for z in d["zones"])
        return cls(**d)


def runtime_root() -> str:
    if os.environ.get("AMR_EMULATOR_HOME"):
        return os.environ["AMR_EMULATOR_HOME"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(os.environ["XDG_RUNTIME_DIR"], "amr-emulator")
    return os.path.join(os.path.expanduser("~"), ".local", "state", "amr-emulator")


def cache_dir(name: str) -> str:
    return os.path.join(runtime_root(), name)


def read_state(name: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(cache_dir(name), "state.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def pid_alive(pid: int | None) -> bool:
    """True while the process exists and is not a zombie (an exited child not yet waited for)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _caches(alive: bool) -> dict[str, dict[str, Any]]:
    """name -> state of every cache with a state file whose controller is (not) alive."""
    found = {}
    try:
        names = sorted(os.listdir(runtime_root()))
    except OSError:
        return found
    for name in names:
        state = read_state(name)
        if state and pid_alive(state.get("controller_pid")) == alive:
            found[name] = state
    return found


def running_caches() -> dict[str, dict[str, Any]]:
    """name -> state of every cache whose controller is alive."""
    return _caches(True)


def stale_caches() -> dict[str, dict[str, Any]]:
    """name -> state of every cache whose state file remains but whose controller is gone."""
    return _caches(False)
