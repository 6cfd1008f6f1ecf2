"""The failover and fault commands as a user runs them: `amr-emulator failover`, `kill-shard`,
`pause-node`, `kill-node`, `restart-node`, and their events in the log."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

BIN = [sys.executable, "-m", "amr_emulator.cli"]


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ, AMR_EMULATOR_HOME=str(tmp_path / "home"))
    yield e
    subprocess.run(BIN + ["down", "--all"], env=e, capture_output=True, timeout=60)


def run(env, *args):
    p = subprocess.run(BIN + list(args), env=env, capture_output=True, text=True, timeout=90)
    assert p.returncode == 0, f"{args} exited {p.returncode}: {p.stdout}\n{p.stderr}"
    return p.stdout


def topology(env) -> dict:
    return json.loads(run(env, "status", "--json"))["topology"]


def wait_topology(env, predicate, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        t = topology(env)
        if predicate(t):
            return t
        assert time.monotonic() < deadline, "the topology did not change in time"
        time.sleep(0.1)


def test_failover_and_faults_from_the_command_line(env):
    from amr_emulator.topology import free_port
    run(env, "up", "--detach", "--name", "f1", "--port", str(free_port()), "--timing", "fast",
        "--node-restart-delay", "1")
    t = topology(env)
    out = run(env, "failover", "--partition", "0")
    assert "partition 0: shard 3 (node 1) is primary, shard 0 its replica; writes paused" in out
    assert topology(env)["partitions"][0]["primary"] == 3

    primary = t["partitions"][1]["primary"]
    out = run(env, "kill-shard", str(primary))
    assert f"shard {primary} (primary, node 1" in out
    wait_topology(env, lambda x: x["partitions"][1]["primary"] != primary)

    epoch = topology(env)["epoch"]
    assert "node 2 paused for 0.3 s" in run(env, "pause-node", "2", "--for", "300ms")
    out = run(env, "kill-node", "0", "--keep-down")
    assert "node 0 killed" in out and "kept down" in out
    after = wait_topology(env, lambda x: x["nodes"][0]["state"] == "down")
    assert after["epoch"] > epoch
    assert "node 0 started" in run(env, "restart-node", "0")
    wait_topology(env, lambda x: x["nodes"][0]["state"] == "up")
    events = [e["operation"] for e in json.loads(run(env, "status", "--json"))["events"]]
    assert "node-killed" in events and "node-restarted" in events

    # patching: new nodes 3-5 running 7.4.1 replace nodes 0-2
    wait_topology(env, lambda x: all(n["state"] == "up" for n in x["nodes"]))
    out = run(env, "patch")
    assert "patched to 7.4.1 in" in out and "nodes 0 -> 3, 1 -> 4, 2 -> 5" in out, out
    assert out.count("writes paused") == 3, out
    after = topology(env)
    assert [(n["id"], n["state"], n["version"]) for n in after["nodes"]] == [
        (0, "removed", "7.4.0"), (1, "removed", "7.4.0"), (2, "removed", "7.4.0"),
        (3, "up", "7.4.1"), (4, "up", "7.4.1"), (5, "up", "7.4.1")]
    table = run(env, "status")
    assert "7.4.1" in table and "removed" in table, table

    # a partition between two nodes, the event log, heal
    out = run(env, "partition", "4", "--from", "5")
    assert out.strip() == "partitioned: nodes 4 from node 5", out
    out = run(env, "heal")
    assert out.strip() == "healed: nodes 4, 5", out
    deadline = time.monotonic() + 10   # (the nodes' own events are copied into the log as they come)
    while "network-restored  source=node node=5" not in (log := run(env, "events", "--last", "0")):
        assert time.monotonic() < deadline, log
        time.sleep(0.1)
    assert "network-partition  nodes=[4] cut_from=[5] cuts=[[4, 5]]" in log, log
    assert "network-cut  source=node node=4" in log and "network-healed  nodes=[4, 5]" in log, log
    p = subprocess.run(BIN + ["partition", "4", "--from", "4"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "two sides" in p.stdout + p.stderr
