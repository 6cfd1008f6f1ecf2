"""Bad input never disturbs other clients or stops the shard, and gets Redis's reply."""
import asyncio
import socket

import pytest

from tests.servers import RawConnection


def test_malformed_request_closes_only_that_connection(shard, r):
    r.set("keep", "1")
    bad = RawConnection(shard.host, shard.port)
    bad.send(b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n:5\r\n")
    assert bad.read_until_closed() == b"+PONG\r\n-ERR Protocol error: expected '$', got ':'\r\n"
    assert r.get("keep") == b"1"


@pytest.mark.parametrize("data,reply", [
    (b"*x\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b'SET "unbalanced\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b"\x01\x02garbage x\r\n", b"-ERR unknown command '\x01\x02garbage', with args beginning with: 'x' \r\n"),
])
def test_malformed_variants(shard, r, data, reply):
    conn = RawConnection(shard.host, shard.port)
    conn.send(data)
    assert conn.read_until_closed(timeout=0.5) == reply
    assert r.ping()


def test_bulk_over_proto_max_bulk_len(shard, r):
    r.config_set("proto-max-bulk-len", "1mb")
    try:
        conn = RawConnection(shard.host, shard.port)
        conn.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")
        assert conn.read_until_closed() == b"-ERR Protocol error: invalid bulk length\r\n"
    finally:
        r.config_set("proto-max-bulk-len", "512mb")
    assert r.exists("k") == 0


def test_client_vanishes_mid_command(shard, r):
    for partial in (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc", b"*2\r\n$3\r\nGE", b"PIN"):
        s = socket.create_connection((shard.host, shard.port))
        s.sendall(partial)
        s.close()
    assert r.ping()
    assert r.exists("k") == 0


def test_client_vanishes_mid_pipeline(shard, r):
    s = socket.create_connection((shard.host, shard.port))
    s.sendall(b"*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$1\r\nv\r\n" * 1000 + b"*3\r\n$3\r\nSET\r\n$2\r\nk2")
    s.close()
    assert r.ping()


def test_large_values_round_trip(r):
    big = b"x" * (20 * 1024 * 1024)
    assert r.set("big", big)
    assert r.get("big") == big
    assert r.strlen("big") == len(big)


def test_many_arguments(r):
    args = [b"m%d" % i for i in range(100000)]
    assert r.execute_command("ECHO", b"a") == b"a"
    me = r.client_id()
    assert len(r.execute_command("CLIENT", "LIST", "ID", *[str(i) for i in range(me, me + 2000)])) > 0
    assert r.execute_command("DEL", *args) == 0


def test_handler_exception_is_answered_and_logged(caplog):
    """A bug in a handler (here: one made to fail on purpose) answers -ERR and the shard serves on."""
    from shard.server import Server

    async def scenario():
        server = Server(port=0)
        await server.start()
        try:
            def broken(c, argv):
                raise ZeroDivisionError("boom")

            server.table[b"echo"].handler = broken
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"*2\r\n$4\r\nECHO\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n")
            await writer.drain()
            data = b""
            while not data.endswith(b"+PONG\r\n"):
                data += await asyncio.wait_for(reader.read(1024), 5)
            writer.close()
            return data
        finally:
            await server.stop()

    with caplog.at_level("ERROR", logger="shard"):
        data = asyncio.run(scenario())
    assert data == b"-ERR internal error executing 'echo'\r\n+PONG\r\n"
    assert "ZeroDivisionError: boom" in caplog.text


def test_second_shard_on_a_taken_port(shard):
    import subprocess
    import sys

    from tests.servers import ROOT

    proc = subprocess.run([sys.executable, "-m", "shard", "--port", str(shard.port)], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert f"cannot listen on 127.0.0.1:{shard.port}" in proc.stderr
