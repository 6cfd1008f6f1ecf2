"""pytest plugin (entry point `pytest11`): a running emulated AMR cache as a fixture.

    def test_cart(amr_cache):
        r = amr_cache.client()      # RedisCluster (oss) or Redis, authenticated
        r.set("cart:1", "3")

    @pytest.mark.amr_cache(policy="enterprise", shards=2)
    def test_enterprise(amr_cache): ...

`amr_cache` lives for the whole session: one cache per distinct set of options, started when a test
first asks for it and stopped (every process of it) at the end of the session, also when tests fail.
Options: the `amr_cache` marker (on a test, class or module: `Cache(...)` keyword arguments) over the
ini settings `amr_cache_policy`, `amr_cache_nodes`, `amr_cache_shards`, `amr_cache_zones`,
`amr_cache_timing` (default `fast`), `amr_cache_ha`, `amr_cache_auth`, `amr_cache_tls`. `amr_cache` itself is
function-scoped so that it can read the test's marker; session- or module-scoped fixtures use
`amr_cache_session` (the ini options; the same cache as an unmarked `amr_cache`).
`amr_cache_factory(**options)` starts further caches, stopped at the end of the session.
"""
from __future__ import annotations

from typing import Any

import pytest

INI = {
    "amr_cache_policy": ("clustering policy of the amr_cache fixture: oss, enterprise, nocluster", "oss"),
    "amr_cache_nodes": ("nodes of the amr_cache fixture", "3"),
    "amr_cache_shards": ("primary shards of the amr_cache fixture (empty: 3)", ""),
    "amr_cache_zones": ("zones of the amr_cache fixture, e.g. 1,2,3 (empty: none)", ""),
    "amr_cache_timing": ("timing profile of the amr_cache fixture: fast or azure", "fast"),
    "amr_cache_ha": ("a replica per partition (true/false)", "true"),
    "amr_cache_auth": ("require the access key (true/false)", "true"),
    "amr_cache_tls": ("TLS on the cache's ports; cache.client() trusts its CA (true/false)", "false"),
}


def pytest_addoption(parser):
    for name, (help_text, default) in INI.items():
        parser.addini(name, help_text, default=default)


def pytest_configure(config):
    config.addinivalue_line("markers", "amr_cache(**options): options (Cache keyword arguments) of the "
                                       "amr_cache fixture's cache")


def _truthy(text: str) -> bool:
    return str(text).strip().lower() in ("1", "true", "yes", "on")


def _ini_options(config) -> dict[str, Any]:
    options: dict[str, Any] = {
        "policy": config.getini("amr_cache_policy") or "oss",
        "nodes": int(config.getini("amr_cache_nodes") or 3),
        "timing": config.getini("amr_cache_timing") or "fast",
        "ha": _truthy(config.getini("amr_cache_ha")),
        "auth": _truthy(config.getini("amr_cache_auth")),
        "tls": _truthy(config.getini("amr_cache_tls")),
    }
    if config.getini("amr_cache_shards"):
        options["shards"] = int(config.getini("amr_cache_shards"))
    zones = config.getini("amr_cache_zones")
    if zones:
        options["zones"] = tuple(z.strip() for z in zones.split(",") if z.strip())
    return options


def _key(options: dict[str, Any]) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else tuple(sorted(v.items())) if isinstance(v, dict)
                         else v) for k, v in options.items()))


class CachePool:
    """The session's caches, one per set of options."""

    def __init__(self):
        self.caches: dict[tuple, Any] = {}
        self.extra: list[Any] = []

    def get(self, options: dict[str, Any]):
        from amr_emulator.api import Cache
        key = _key(options)
        cache = self.caches.get(key)
        if cache is None or not cache.running:
            cache = Cache(**options).start()
            self.caches[key] = cache
        return cache

    def new(self, **options: Any):
        from amr_emulator.api import Cache
        cache = Cache(**options).start()
        self.extra.append(cache)
        return cache

    def stop_all(self) -> None:
        for cache in [*self.caches.values(), *self.extra]:
            cache.stop()
        self.caches.clear()
        self.extra.clear()


@pytest.fixture(scope="session")
def amr_cache_pool():
    pool = CachePool()
    try:
        yield pool
    finally:
        pool.stop_all()


@pytest.fixture
def amr_cache(request, amr_cache_pool):
    """A running cache (session-lived, shared by the tests that ask for the same options)."""
    options = _ini_options(request.config)
    marker = request.node.get_closest_marker("amr_cache")
    if marker is not None:
        if marker.args:
            raise pytest.UsageError("amr_cache marker takes keyword arguments only")
        options.update(marker.kwargs)
    return amr_cache_pool.get(options)


@pytest.fixture(scope="session")
def amr_cache_session(request, amr_cache_pool):
    """The same cache as `amr_cache` with the ini options, for fixtures of any scope (a session-scoped
    fixture cannot see a test's marker)."""
    return amr_cache_pool.get(_ini_options(request.config))


@pytest.fixture(scope="session")
def amr_cache_factory(amr_cache_pool):
    """`amr_cache_factory(**options)` starts another cache, stopped at the end of the session."""
    return amr_cache_pool.new
