"""The soak (amr_emulator/soak.py): a fast-profile cache under redis-py writers goes through a seeded
sequence of every kind of fault, converging after each; afterwards it has converged, every acknowledged
write is readable except the unreplicated tail of an unplanned failover, no lossless fault caused a
failover, and no process of the cache is left. OSS with `RedisCluster` and Enterprise with `Redis`;
AMR_SOAK=full runs three rounds of faults per policy instead of ten faults."""
from __future__ import annotations

import os

import pytest

from amr_emulator.drill import UNREPLICATED_TAIL_S
from amr_emulator.soak import FAULTS, render, soak

FULL = os.environ.get("AMR_SOAK") == "full"


@pytest.mark.timeout(600 if FULL else 150)
@pytest.mark.parametrize("policy, seed", [("oss", 11), ("enterprise", 12)])
def test_soak(policy, seed):
    report = soak(policy=policy, seed=seed, faults=3 * len(FAULTS) if FULL else len(FAULTS) + 4)
    text = "\n".join(render(report))
    assert report["problems"] == [], text
    assert {f["kind"] for f in report["faults"]} == set(FAULTS), text
    # a planned failover and a short pause lose nothing; an unplanned failover at most the writes sent
    # shortly before the failure (for a paused node: until the failover, see drill.Fault)
    assert report["lost_unexplained"] == [], text
    assert report["lost_tail_max_ms"] is None or report["lost_tail_max_ms"] <= UNREPLICATED_TAIL_S * 1000
    assert report["one_primary_per_partition"], text
    assert report["leaked"] == [], text
    assert report["processes_seen"] >= 1 + 3 + 6, text    # controller, 3 node proxies, 6 shards at least
    assert report["acknowledged_writes"] > 1000, text
    # what clients saw: connection errors and timeouts, never READONLY (redis-py does not recover from it)
    assert not [k for k in report["error_kinds"] if "READONLY" in k.upper()], text
    # the faults that lose a primary did fail over (the kill or pause of a node holding one, at least)
    assert any(f["unplanned_failovers"] for f in report["faults"]), text
