"""Drills (amr_emulator/drill.py) with the clients users run: `RedisCluster` on the OSS endpoint and
`Redis` on the Enterprise one; the zone-down drill takes one zone of three down under the workload and
brings it back; `amr-emulator drill` prints the figures."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from amr_emulator import Cache
from amr_emulator.drill import OPERATIONS

from tests.cluster.conftest import converged, wait_until


@pytest.mark.parametrize("policy", ["oss", "enterprise"])
def test_zone_down_drill(policy):
    with Cache(policy=policy, zones=["1", "2", "3"], timing="fast") as cache:
        wait_until(lambda: converged(cache))
        t = cache.topology()
        zone = t.node(t.shard(t.partitions[0].primary).node).zone
        result = cache.drill("zone-down", clients=3, duration=4.5)
        assert result["operation"]["zone"] == zone and result["restore"]["zone"] == zone
        assert result["acknowledged_writes"] > 0
        assert sum(result["ops_per_second"]) == result["acknowledged_writes"]
        assert result["convergence_problems"] == [] and result["converged_after_s"] is not None
        assert result["lost_unexplained"] == []
        assert result["lost_writes"] == len(result["lost_unreplicated_tail"])
        assert result["unavailability_ms"] is not None   # (about the detection time; a figure, not checked here)
        after = cache.topology()
        zoned = [n.id for n in after.nodes if n.zone == zone]
        assert all(after.shard(p.primary).node not in zoned for p in after.partitions)   # its primaries moved
        assert all(after.node(i).state == "up" for i in zoned)                          # and it is back
        ops = [e["operation"] for e in cache.events()]
        assert "zone-down" in ops and "zone-up" in ops


def test_patch_drill_loses_nothing():
    """The patch drill with RedisCluster clients: every node replaced under the workload, nothing lost."""
    with Cache(policy="oss", timing="fast") as cache:
        wait_until(lambda: converged(cache))
        before = cache.topology()
        result = cache.drill("patch", clients=3, duration=3.0)
        assert result["operation"]["version"] == "7.4.1"
        assert result["acknowledged_writes"] > 0
        assert result["lost_writes"] == 0 and result["lost_unexplained"] == []
        assert result["convergence_problems"] == []
        after = cache.topology()
        assert {n.id for n in after.nodes if n.state == "up"}.isdisjoint(n.id for n in before.nodes)


def test_partition_drill_reports_what_it_loses():
    """The partition drill (Enterprise, `Redis` on the endpoint): the node of partition 0's primary is cut
    off and healed; the writes its primary acknowledged before the minority bound are lost, and every one
    of them is named by the event log's writes-lost entries."""
    with Cache(policy="enterprise", timing="fast") as cache:
        wait_until(lambda: converged(cache))
        victim = cache.topology().shard(cache.topology().partitions[0].primary).node
        result = cache.drill("partition", clients=3, duration=4.5)
        assert result["operation"]["partitioned"] == [victim] and result["restore"]["healed"]
        assert result["convergence_problems"] == []
        assert result["lost_unexplained"] == []
        assert all(w["reported"] for w in result["lost_unreplicated_tail"])
        assert result["lost_writes"] == len(result["lost_unreplicated_tail"])
        assert [f["partition"] for f in result["unplanned_failovers"]] == [0]


def test_zone_down_drill_needs_zones():
    with Cache(policy="nocluster", timing="fast") as cache:
        with pytest.raises(ValueError, match="needs a cache with zones"):
            cache.drill("zone-down", clients=1, duration=0.3)


def test_drill_from_the_command_line(tmp_path):
    from amr_emulator.topology import free_port
    env = dict(os.environ, AMR_EMULATOR_HOME=str(tmp_path / "home"))
    cli = [sys.executable, "-m", "amr_emulator.cli"]
    try:
        subprocess.run(cli + ["up", "--detach", "--name", "drillcli", "--port", str(free_port()), "--timing", "fast",
                              "--policy", "enterprise"], env=env, check=True, capture_output=True, timeout=90)
        p = subprocess.run(cli + ["drill", "unplanned-failover", "--clients", "2", "--duration", "3s"], env=env,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
        lines = p.stdout.splitlines()
        assert "unplanned-failover: {'shard': 0, 'node': 0" in lines[0]
        assert lines[1] == "waiting for the cache to converge ..."
        assert lines[2] == "second  ops     errors"
        assert [line.split()[0] for line in lines[3:6]] == ["0", "1", "2"]
        assert any(line.startswith("unavailability window: ") for line in lines)
        assert any(line.startswith("converged ") for line in lines)
        assert any(line.startswith("lost acknowledged writes: ") for line in lines)
        assert not any("LOST" in line for line in lines)
        p = subprocess.run(cli + ["drill", "--help"], env=env, capture_output=True, text=True, timeout=30)
        assert "{" + "|".join(OPERATIONS) + "}" in p.stdout.replace("\n", "").replace(" ", "")
    finally:
        subprocess.run(cli + ["down", "--all"], env=env, capture_output=True, timeout=60)
