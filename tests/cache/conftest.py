"""Caches started through the Python API, each test's processes checked gone afterwards.

Every cache here lives under a temporary AMR_EMULATOR_HOME, so a user's running caches are neither
seen nor touched."""
from __future__ import annotations

import os

from tests.helpers import alive, amr_home  # noqa: F401  (amr_home: the session's AMR_EMULATOR_HOME)


def cache_pids(cache) -> set[int]:
    """The controller, every node proxy and every shard process of a running cache."""
    pids = {cache.controller_pid, *cache.node_pids().values()}
    for node in cache.status()["nodes"]:
        shards = (node.get("status") or {}).get("shards") or []
        if isinstance(shards, dict):
            shards = list(shards.values())
        pids.update(s["pid"] for s in shards if s.get("pid"))
    return pids


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if text.encode() in f.read() and alive(int(entry)):
                        found.append(int(entry))
            except OSError:
                pass
    return found
