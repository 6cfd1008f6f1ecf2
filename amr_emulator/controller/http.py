"""A small HTTP/1.1 JSON server on asyncio streams for the management API (one request per connection).

Routes are `(method, pattern) -> async handler(match, body) -> (status, json-able)`; patterns are
regular expressions over the path. Nothing else (no keep-alive, no chunked bodies): the API is for the
CLI, the Python API and test suites on the same machine.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, Awaitable, Callable

log = logging.getLogger("amr_emulator.controller")

Handler = Callable[[re.Match, Any], Awaitable[tuple[int, Any]]]
REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           409: "Conflict", 413: "Payload Too Large", 500: "Internal Server Error", 503: "Service Unavailable"}
MAX_BODY = 1 << 20


class HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class JsonServer:
    def __init__(self):
        self.routes: list[tuple[str, re.Pattern, Handler]] = []
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern + r"/?$"), handler))

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self.server = await asyncio.start_server(self._serve, host, port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, payload = await self._handle(reader)
        except HttpError as e:
            status, payload = e.status, {"error": e.message}
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        except Exception as e:  # a bug: logged, answered 500, the server serves on
            log.exception("management API request failed")
            status, payload = 500, {"error": f"{type(e).__name__}: {e}"}
        body = (json.dumps(payload, indent=2) + "\n").encode()
        head = (f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        try:
            writer.write(head + body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader) -> tuple[int, Any]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, _ = lines[0].split(" ", 2)
        except ValueError:
            raise HttpError(400, "bad request line") from None
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0") or 0)
        if length > MAX_BODY:
            raise HttpError(413, "body too large")
        raw = await reader.readexactly(length) if length else b""
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                raise HttpError(400, "the body is not JSON") from None
        path = target.split("?", 1)[0]
        allowed = []
        for m, pattern, handler in self.routes:
            match = pattern.match(path)
            if match:
                if m == method.upper():
                    return await handler(match, body)
                allowed.append(m)
        if allowed:
            raise HttpError(405, f"{method} is not allowed on {path} (allowed: {', '.join(sorted(set(allowed)))})")
        raise HttpError(404, f"no such resource: {path}")
