"""A cache with TLS (`Cache(tls=True)`, `up --tls`): a CA and a server certificate made for the cache,
TLS 1.2 and 1.3 on the same ports (cache endpoint, node endpoints, cluster ports), redis-py clients with
`ssl=True, ssl_ca_certs=...`; proxy-to-shard traffic stays plaintext."""
from __future__ import annotations

import socket
import ssl

import pytest
import redis
import redis.asyncio

from amr_emulator import Cache
from amr_emulator.protocol.slots import key_slot


@pytest.fixture(scope="module")
def oss_tls():
    with Cache(policy="oss", tls=True, timing="fast") as cache:
        yield cache


def test_cluster_client_over_tls(oss_tls):
    ca = oss_tls.ca_path
    assert ca and ca.endswith("ca.pem") and oss_tls.status()["cache"]["ca_path"] == ca
    rc = redis.RedisCluster(host=oss_tls.host, port=oss_tls.port, password=oss_tls.access_key, ssl=True,
                            ssl_ca_certs=ca)
    try:
        keys = [f"tls:{i}" for i in range(40)]
        assert {key_slot(k.encode()) * 3 // 16384 for k in keys} == {0, 1, 2}   # every node, via 85xx
        for k in keys:
            rc.set(k, k)
        assert [rc.get(k) for k in keys] == [k.encode() for k in keys]
        assert {n.host for n in rc.get_nodes()} <= {n.ip for n in oss_tls.topology().nodes}
    finally:
        rc.close()
    r = oss_tls.client()            # configured with the CA
    assert r.get("tls:7") == b"tls:7"


def test_every_port_verifies_against_the_cache_ca(oss_tls):
    t = oss_tls.topology()
    ctx = ssl.create_default_context(cafile=oss_tls.ca_path)
    endpoints = [(oss_tls.host, oss_tls.port), ("localhost", oss_tls.port)]
    endpoints += [(n.ip, n.port) for n in t.nodes] + [(n.ip, n.cluster_port) for n in t.nodes]
    for host, port in endpoints:
        with socket.create_connection((host, port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as s:
                assert s.version() in ("TLSv1.2", "TLSv1.3")
                s.sendall(b"PING\r\n")
                assert s.recv(100) == b"-NOAUTH Authentication required.\r\n"
    # a client that does not trust the cache's CA is refused
    with socket.create_connection((oss_tls.host, oss_tls.port), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(raw, server_hostname=oss_tls.host)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_versions(oss_tls, version):
    ctx = ssl.create_default_context(cafile=oss_tls.ca_path)
    ctx.minimum_version = ctx.maximum_version = version
    with socket.create_connection((oss_tls.host, oss_tls.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=oss_tls.host) as s:
            assert s.version() == version.name.replace("v1_", "v1.")


def test_plaintext_client_gets_nothing(oss_tls):
    r = redis.Redis(host=oss_tls.host, port=oss_tls.port, password=oss_tls.access_key, socket_timeout=2,
                    retry=None)
    with pytest.raises(redis.ConnectionError):
        r.ping()
    r.close()


def test_shards_stay_plaintext(oss_tls):
    t = oss_tls.topology()
    shard = t.shards[0]
    r = redis.Redis(host=t.node(shard.node).ip, port=shard.port, password=t.internal_password)
    try:
        assert r.ping()
    finally:
        r.close()


async def test_asyncio_client_over_tls(oss_tls):
    r = oss_tls.async_client(protocol=3)
    try:
        await r.set("tls:async", "yes")
        assert await r.get("tls:async") == b"yes"
    finally:
        await r.aclose()


def test_enterprise_over_tls():
    with Cache(policy="enterprise", nodes=2, shards=2, tls=True, timing="fast") as cache:
        r = redis.Redis(host=cache.host, port=cache.port, password=cache.access_key, ssl=True,
                        ssl_ca_certs=cache.ca_path, protocol=3)
        try:
            assert r.mset({"a": 1, "b": 2}) and r.mget("a", "b") == [b"1", b"2"]
            p = r.pubsub()
            p.subscribe("news")
            assert p.get_message(timeout=5)["type"] == "subscribe"
            assert r.publish("news", "hello") == 1
            assert p.get_message(timeout=5)["data"] == b"hello"
            p.close()
        finally:
            r.close()
