"""The `amr-emulator` commands as a user runs them (subprocesses): up (foreground and --detach),
status, keys, down; bad options and taken ports fail with a message and leave nothing running."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import redis

from tests.helpers import alive

BIN = [sys.executable, "-m", "amr_emulator.cli"]


def free_port() -> int:
    from amr_emulator.topology import free_port as fp
    return fp()


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ, AMR_EMULATOR_HOME=str(tmp_path / "home"))
    yield e
    # whatever a failing test left behind
    subprocess.run(BIN + ["down", "--all"], env=e, capture_output=True, timeout=60)


def run(env, *args, check=True, timeout=90):
    p = subprocess.run(BIN + list(args), env=env, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{args} exited {p.returncode}: {p.stdout}\n{p.stderr}")
    return p


def all_pids(status: dict) -> set[int]:
    pids = {status["cache"]["controller_pid"]}
    for n in status["nodes"]:
        pids.add(n["pid"])
        shards = (n.get("status") or {}).get("shards") or []
        if isinstance(shards, dict):
            shards = list(shards.values())
        pids.update(s["pid"] for s in shards if s.get("pid"))
    return pids


def test_detached_lifecycle(env):
    port = free_port()
    out = run(env, "up", "--detach", "--name", "c1", "--port", str(port), "--timing", "fast").stdout
    assert f"endpoint:        127.0.0.1:{port}" in out and "redis.RedisCluster(host='127.0.0.1'" in out
    snippet = next(line.strip() for line in out.splitlines() if line.strip().startswith("r = redis."))
    assert "dynamic_startup_nodes=False" in snippet   # the endpoint stays a startup node (patching)
    scope = {"redis": redis}
    exec(snippet, scope)   # the snippet as a user pastes it
    assert scope["r"].set("snippet", "1")
    scope["r"].close()
    status = json.loads(run(env, "status", "--json").stdout)
    assert status["cache"]["state"] == "ready" and status["topology"]["epoch"] == 1
    pids = all_pids(status)
    assert len(pids) == 1 + 3 + 6 and all(alive(p) for p in pids)

    table = run(env, "status").stdout
    assert "NODE  ZONE  IP" in table and "127.0.1." in table or "127.0.0.1" in table
    assert "primary  0-5460" in table and "replica  0-5460" in table and "cache-ready" in table

    keys = json.loads(run(env, "keys", "--json").stdout)
    r = redis.RedisCluster(host="127.0.0.1", port=port, password=keys["secondary"])
    assert r.set("a", "1") and r.get("a") == b"1"
    r.close()
    out = run(env, "keys", "--regenerate", "secondary").stdout
    assert "regenerated the secondary key (topology epoch 2)" in out
    new = json.loads(run(env, "keys", "--json").stdout)
    assert new["primary"] == keys["primary"] and new["secondary"] != keys["secondary"]

    assert "Cache 'c1' stopped." in run(env, "down").stdout
    assert not [p for p in pids if alive(p)]
    p = run(env, "status", check=False)
    assert p.returncode == 1 and "no cache is running" in p.stderr


def test_foreground_ctrl_c_stops_everything(env):
    port = free_port()
    proc = subprocess.Popen(BIN + ["up", "--name", "fg", "--port", str(port), "--timing", "fast", "--policy",
                                   "enterprise", "--no-auth"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C stops it" in line:
                break
        text = "".join(lines)
        assert "is ready in" in text and f"redis.Redis(host='127.0.0.1', port={port})" in text
        r = redis.Redis(port=port)
        assert r.set("k", "v") and r.get("k") == b"v"
        r.close()
        pids = all_pids(json.loads(run(env, "status", "--json", "--name", "fg").stdout))
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert "Cache 'fg' stopped." in proc.stdout.read()
        assert not [p for p in pids if alive(p)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_taken_port_fails_cleanly(env):
    port = free_port()
    run(env, "up", "-d", "--name", "first", "--port", str(port), "--timing", "fast", "--nodes", "2",
        "--shards", "1")
    p = run(env, "up", "-d", "--name", "second", "--port", str(port), "--timing", "fast", check=False)
    assert p.returncode == 1
    assert f"Error: 127.0.0.1:{port} is already in use" in p.stderr
    assert run(env, "status").stdout.startswith("cache first ")   # the only running one
    p = run(env, "status", "--name", "second", check=False)
    assert p.returncode == 1 and "no running cache named 'second' (running: first)" in p.stderr
    run(env, "down", "--name", "first")


@pytest.mark.parametrize("args, message", [
    (["--policy", "cluster"], "Invalid value for '--policy'"),
    (["--nodes", "1"], "high availability needs at least two nodes"),
    (["--sku", "Z9"], "unknown SKU"),
    (["--eviction-policy", "lru"], "Invalid value for '--eviction-policy'"),
    (["--maxmemory", "lots"], "bad memory size"),
    (["--port", "1", "--detach"], "permission denied to listen on 127.0.0.1:1"),
    (["--name", "bad_name!"], "bad cache name"),
])
def test_bad_options(env, args, message):
    if "--port" in args and os.geteuid() == 0:
        pytest.skip("root may listen on port 1")
    p = run(env, "up", "--timing", "fast", *args, check=False)
    assert p.returncode != 0
    assert message in p.stderr


def test_commands_without_a_cache(env):
    for args in (["down"], ["keys"], ["status", "--name", "nope"]):
        p = run(env, *args, check=False)
        assert p.returncode == 1 and "Error: no" in p.stderr


def test_nodes_do_not_outlive_a_killed_controller(env):
    port = free_port()
    run(env, "up", "-d", "--name", "orphan", "--port", str(port), "--timing", "fast", "--nodes", "2",
        "--shards", "1")
    status = json.loads(run(env, "status", "--json").stdout)
    pids = all_pids(status)
    os.kill(status["cache"]["controller_pid"], signal.SIGKILL)
    deadline = time.monotonic() + 15
    while [p for p in pids if alive(p)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if alive(p)]
    out = run(env, "down", "--all").stdout   # the state file it left is cleaned up
    assert "its controller was gone" in out
    p = run(env, "status", check=False)
    assert p.returncode == 1 and "no cache is running" in p.stderr
