"""CacheSpec checks (messages for the user), memory sizes, runtime directories."""
import pytest

from amr_emulator.config import CacheSpec, SpecError, cache_dir, parse_size, runtime_root


def test_defaults_are_amrs():
    s = CacheSpec()
    assert (s.name, s.host, s.port, s.nodes, s.policy, s.ha, s.eviction_policy, s.auth) == (
        "amr", "127.0.0.1", 10000, 3, "oss", True, "volatile-lru", True)
    assert s.shard_config == {"maxmemory-policy": "volatile-lru"}


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "bad name"}, "bad cache name"),
    ({"name": "-x"}, "bad cache name"),
    ({"policy": "cluster"}, "unknown clustering policy 'cluster'"),
    ({"nodes": 1}, "high availability needs at least two nodes"),
    ({"nodes": 0, "ha": False}, "at least one node"),
    ({"shards": 0}, "at least one shard"),
    ({"sku": "Basic_C1"}, "unknown SKU"),
    ({"eviction_policy": "lru"}, "unknown eviction policy"),
    ({"timing": "slow"}, "unknown timing profile"),
    ({"zones": ()}, "at least one zone"),
    ({"auth": False, "access_key": "k"}, "contradict"),
    ({"access_key": "a b"}, "cannot be empty or contain spaces"),
])
def test_bad_specs(kwargs, message):
    with pytest.raises(SpecError, match=message):
        CacheSpec(**kwargs)


def test_sizes():
    assert parse_size("100mb") == 100 * 1024 ** 2
    assert parse_size("1gb") == 1024 ** 3
    assert parse_size("2g") == 2 * 1000 ** 3
    assert parse_size("4096") == 4096
    assert parse_size(None) is None
    with pytest.raises(SpecError, match="bad memory size"):
        parse_size("lots")


def test_round_trip():
    s = CacheSpec(name="x1", zones=("1", "2"), sku="B10", maxmemory=10)
    assert CacheSpec.from_dict(s.to_dict()) == s


def test_runtime_root(monkeypatch, tmp_path):
    monkeypatch.setenv("AMR_EMULATOR_HOME", str(tmp_path))
    assert runtime_root() == str(tmp_path) and cache_dir("a") == str(tmp_path / "a")
    monkeypatch.delenv("AMR_EMULATOR_HOME")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/7")
    assert runtime_root() == "/run/user/7/amr-emulator"
