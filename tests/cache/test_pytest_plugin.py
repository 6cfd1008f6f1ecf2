"""The pytest plugin, as a user's test suite sees it: registered by its entry point, the amr_cache
fixture with marker options, every process gone after the session."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.cache.conftest import processes_mentioning

USER_TESTS = '''
import json, os, pytest, redis

def test_default(amr_cache):
    assert amr_cache.policy == "oss" and amr_cache.spec.timing == "fast"
    r = amr_cache.client()
    assert isinstance(r, redis.RedisCluster)
    r.set("a", "1")
    with open(os.environ["PIDS_FILE"], "a") as f:
        f.write(json.dumps([amr_cache.controller_pid, *amr_cache.node_pids().values()]) + "\\n")

def test_same_cache(amr_cache):
    assert amr_cache.client().get("a") == b"1"     # shared by the session

@pytest.fixture(scope="session")
def app(amr_cache_session):
    return amr_cache_session

def test_session_scoped_user_fixture(app, amr_cache):
    assert app is amr_cache

@pytest.mark.amr_cache(policy="enterprise", nodes=2, shards=2)
def test_marked(amr_cache):
    assert amr_cache.policy == "enterprise" and len(amr_cache.topology().partitions) == 2
    amr_cache.client().set("b", "2")

def test_fails_on_purpose(amr_cache):
    assert amr_cache.client().get("a") == b"nope"
'''


def test_plugin_in_a_user_suite(tmp_path):
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    (tmp_path / "pytest.ini").write_text(textwrap.dedent("""
        [pytest]
        amr_cache_shards = 2
    """))
    pids_file = tmp_path / "pids.jsonl"
    env = dict(os.environ, AMR_EMULATOR_HOME=str(tmp_path / "home"), PIDS_FILE=str(pids_file))
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert "1 failed, 4 passed" in p.stdout, p.stdout + p.stderr
    import json
    pids = json.loads(pids_file.read_text().splitlines()[0])
    from tests.cache.conftest import alive
    assert not [pid for pid in pids if alive(pid)]
    assert not processes_mentioning(str(tmp_path / "home"))
