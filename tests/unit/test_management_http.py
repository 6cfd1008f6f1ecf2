"""The management API's HTTP layer: routing, JSON bodies, errors as JSON with their status."""
import asyncio
import json

from amr_emulator.controller.http import HttpError, JsonServer


async def http(port, raw: bytes) -> tuple[int, dict]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    data = await reader.read()
    writer.close()
    head, body = data.split(b"\r\n\r\n", 1)
    assert b"Content-Type: application/json" in head
    return int(head.split()[1]), json.loads(body)


async def test_routes_and_errors():
    server = JsonServer()

    async def echo(match, body):
        return 200, {"name": match["name"], "body": body}

    async def boom(match, body):
        raise RuntimeError("bug")

    async def refuse(match, body):
        raise HttpError(409, "busy")

    server.route("POST", r"/caches/(?P<name>[a-z]+)/echo", echo)
    server.route("GET", r"/boom", boom)
    server.route("GET", r"/refuse", refuse)
    port = await server.start()
    try:
        body = b'{"key": "primary"}'
        assert await http(port, b"POST /caches/abc/echo HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)) \
            == (200, {"name": "abc", "body": {"key": "primary"}})
        assert await http(port, b"POST /caches/abc/echo/ HTTP/1.1\r\n\r\n") == (200, {"name": "abc", "body": None})
        assert await http(port, b"GET /caches/abc/echo HTTP/1.1\r\n\r\n") == (
            405, {"error": "GET is not allowed on /caches/abc/echo (allowed: POST)"})
        assert await http(port, b"GET /nowhere HTTP/1.1\r\n\r\n") == (404, {"error": "no such resource: /nowhere"})
        assert await http(port, b"GET /refuse HTTP/1.1\r\n\r\n") == (409, {"error": "busy"})
        assert await http(port, b"GET /boom HTTP/1.1\r\n\r\n") == (500, {"error": "RuntimeError: bug"})
        assert await http(port, b"POST /caches/a/echo HTTP/1.1\r\nContent-Length: 3\r\n\r\n{x}") == (
            400, {"error": "the body is not JSON"})
        assert await http(port, b"NONSENSE\r\n\r\n") == (400, {"error": "bad request line"})
    finally:
        await server.close()
