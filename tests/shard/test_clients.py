"""The shard with real redis-py clients: sync and asyncio, RESP2 and RESP3."""
import asyncio
import threading
import time

import pytest
import redis
import redis.asyncio


@pytest.mark.parametrize("protocol", [2, 3])
def test_basic_and_pipeline(shard, r, protocol):
    client = redis.Redis(host=shard.host, port=shard.port, protocol=protocol)
    assert client.ping() is True
    assert client.set("a", "1") is True
    pipe = client.pipeline(transaction=False)
    for i in range(100):
        pipe.set(f"k{i}", i)
        pipe.get(f"k{i}")
    results = pipe.execute()
    assert results[1::2] == [str(i).encode() for i in range(100)]
    client.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_transaction_pipeline(shard, r, protocol):
    client = redis.Redis(host=shard.host, port=shard.port, protocol=protocol)
    with client.pipeline(transaction=True) as pipe:
        pipe.set("t", "1").get("t").echo("x")
        assert pipe.execute() == [True, b"1", b"x"]
    client.close()


def test_watch_retry_loop(shard, r):
    r.set("counter", "0")
    other = redis.Redis(host=shard.host, port=shard.port)

    def incr_with_watch():
        with r.pipeline() as pipe:
            attempts = 0
            while True:
                attempts += 1
                try:
                    pipe.watch("counter")
                    value = int(pipe.get("counter"))
                    if attempts == 1:
                        other.set("counter", "100")  # makes the first attempt fail
                    pipe.multi()
                    pipe.set("counter", value + 1)
                    pipe.execute()
                    return attempts
                except redis.WatchError:
                    continue

    assert incr_with_watch() == 2
    assert r.get("counter") == b"101"
    other.close()


async def test_asyncio_client(ar):
    assert await ar.ping()
    await ar.set("x", "y")
    assert await ar.get("x") == b"y"
    results = await asyncio.gather(*(ar.echo(f"m{i}") for i in range(50)))
    assert results == [f"m{i}".encode() for i in range(50)]


@pytest.mark.parametrize("protocol", [2, 3])
def test_pubsub_with_redis_py(shard, r, protocol):
    sub_client = redis.Redis(host=shard.host, port=shard.port, protocol=protocol)
    p = sub_client.pubsub()
    p.subscribe("news")
    p.psubscribe("ne*")
    assert p.get_message(timeout=2)["type"] == "subscribe"
    assert p.get_message(timeout=2)["type"] == "psubscribe"
    assert r.publish("news", "hello") == 2
    msgs = [p.get_message(timeout=2) for _ in range(2)]
    assert {m["type"] for m in msgs} == {"message", "pmessage"}
    assert all(m["data"] == b"hello" for m in msgs)
    p.close()
    sub_client.close()


async def test_asyncio_pubsub(shard, ar):
    sub = redis.asyncio.Redis(host=shard.host, port=shard.port)
    p = sub.pubsub()
    await p.subscribe("ch")
    assert (await p.get_message(timeout=2))["type"] == "subscribe"
    await ar.publish("ch", "x")
    msg = await p.get_message(timeout=2)
    assert msg["data"] == b"x"
    await p.aclose()
    await sub.aclose()


def test_client_introspection(shard, r):
    r.client_setname("worker-1")
    assert r.client_getname() == "worker-1"
    info = r.client_info()
    assert info["name"] == "worker-1" and str(info["db"]) == "0" and info["lib-name"] == "redis-py"
    assert str(r.client_id()) in [c["id"] for c in r.client_list()]
    other = redis.Redis(host=shard.host, port=shard.port)
    old_id = other.client_id()
    assert r.client_kill_filter(_id=old_id) == 1
    assert other.client_id() != old_id  # redis-py reconnected after the kill
    other.close()


def test_client_pause_write_holds_writes_only(shard, r):
    writer = redis.Redis(host=shard.host, port=shard.port)
    reader = redis.Redis(host=shard.host, port=shard.port)
    writer.ping()
    reader.ping()
    assert r.client_pause(300, all=False)
    started = time.monotonic()
    assert reader.get("nothing") is None  # reads go through
    read_time = time.monotonic() - started
    done = threading.Event()
    result = {}

    def write():
        result["set"] = writer.set("p", "1")
        result["elapsed"] = time.monotonic() - started
        done.set()

    t = threading.Thread(target=write)
    t.start()
    assert done.wait(5)
    t.join()
    assert result["set"] is True
    assert result["elapsed"] >= 0.25 > read_time
    writer.close()
    reader.close()


def test_client_unpause_releases_at_once(shard, r):
    writer = redis.Redis(host=shard.host, port=shard.port)
    writer.ping()
    r.client_pause(10000)
    done = threading.Event()
    threading.Thread(target=lambda: (writer.set("u", "1"), done.set())).start()
    assert not done.wait(0.2)
    other = redis.Redis(host=shard.host, port=shard.port)
    # a new connection's HELLO is paused too, so unpause from the connection that already exists
    r.client_unpause()
    assert done.wait(5)
    writer.close()
    other.close()
