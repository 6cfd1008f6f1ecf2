"""Caches started through the Python API, each test's processes checked gone afterwards.

Every cache here lives under a temporary AMR_EMULATOR_HOME, so a user's running caches are neither
seen nor touched."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def amr_home(tmp_path_factory):
    home = str(tmp_path_factory.mktemp("amr-home"))
    old = os.environ.get("AMR_EMULATOR_HOME")
    os.environ["AMR_EMULATOR_HOME"] = home
    yield home
    if old is None:
        os.environ.pop("AMR_EMULATOR_HOME", None)
    else:
        os.environ["AMR_EMULATOR_HOME"] = old


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


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
