"""The controller's side of the proxies' internal commands: one request over RESP on a node endpoint
after `AUTH <internal_password>` (`AMR.STATUS`, `AMR.TOPOLOGY`, `AMR.TOPOLOGY.SET <json>`, `AMR.SHUTDOWN`)."""
from __future__ import annotations

import asyncio
import json
from typing import Any

from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import decode_reply, encode_command


class InternalError(Exception):
    """A node did not answer, or answered with an error."""


#: The client TLS context of this process's cache when it runs with TLS (the node endpoints speak TLS
#: only then); set once by the controller.
_ssl = None


def use_tls(context) -> None:
    global _ssl
    _ssl = context


async def node_call(host: str, port: int, password: str, *args: str | bytes, timeout: float = 2.0) -> Any:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=_ssl), timeout)
    except (OSError, asyncio.TimeoutError) as e:
        raise InternalError(f"{host}:{port}: cannot connect ({e or 'timeout'})") from None
    try:
        writer.write(encode_command("AUTH", password) + encode_command(*args))
        buf, pos, replies = b"", 0, []
        async with asyncio.timeout(timeout):
            while len(replies) < 2:
                chunk = await reader.read(65536)
                if not chunk:
                    if args and str(args[0]).upper() == "AMR.SHUTDOWN" and replies:
                        return None   # the node closed the connection on its way out
                    raise InternalError(f"{host}:{port}: connection closed")
                buf += chunk
                while len(replies) < 2:
                    try:
                        value, pos = decode_reply(buf, pos)
                    except (IndexError, ValueError):
                        break
                    replies.append(value)
    except (OSError, TimeoutError) as e:
        raise InternalError(f"{host}:{port}: {type(e).__name__} {e}") from None
    finally:
        writer.close()
    auth, reply = replies
    if isinstance(auth, RespError):
        raise InternalError(f"{host}:{port}: AUTH refused: {auth}")
    if isinstance(reply, RespError):
        raise InternalError(f"{host}:{port}: {args[0]}: {reply}")
    return reply


async def node_json(host: str, port: int, password: str, *args: str, timeout: float = 2.0) -> Any:
    reply = await node_call(host, port, password, *args, timeout=timeout)
    if isinstance(reply, (bytes, str)):
        try:
            return json.loads(reply)
        except ValueError:
            raise InternalError(f"{host}:{port}: {args[0]} did not answer JSON: {reply[:200]!r}") from None
    raise InternalError(f"{host}:{port}: {args[0]} answered {reply!r}")
