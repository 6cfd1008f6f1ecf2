"""The controller as the quorum's voting witness of a two-node cache (Redis Enterprise's quorum-only
node): with two nodes, a majority is two, so losing either would leave no majority; the witness is the
third member. It votes and acknowledges heartbeats and topology commits (`AMR.PREVOTE`, `AMR.VOTE`,
`AMR.HEARTBEAT`, `AMR.TOPOLOGY.SET` after `AUTH <internal password>`), never stands as a candidate and
holds no data."""
from __future__ import annotations

import asyncio
import hmac
import logging
from time import monotonic
from typing import Callable

from amr_emulator.protocol import errors
from amr_emulator.protocol.resp import OK, RequestParser, encode2
from amr_emulator.topology import Topology
from proxy.quorum import WITNESS, Quorum

log = logging.getLogger("amr_emulator.controller")


class Witness:
    def __init__(self, topology: Topology, on_topology: Callable[[Topology], None]):
        self.topology = topology
        self.on_topology = on_topology
        members = [n.id for n in topology.nodes if n.state != "removed"] + [WITNESS]
        self.quorum = Quorum(WITNESS, members, topology.timing, clock=monotonic,
                             epoch=lambda: self.topology.epoch, can_lead=False)
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self, host: str = "127.0.0.1") -> int:
        self.server = await asyncio.start_server(self._serve, host, 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()

    def answer(self, argv: list[bytes], authed: bool) -> tuple[bytes, bool]:
        name = argv[0].lower() if argv else b""
        if name == b"auth" and len(argv) == 2:
            if hmac.compare_digest(argv[1], self.topology.internal_password.encode()):
                return encode2(OK), True
            return errors.error_frame(errors.WRONGPASS), authed
        if not authed:
            return errors.error_frame(errors.NOAUTH), authed
        q = self.quorum
        try:
            if name in (b"amr.prevote", b"amr.vote", b"amr.heartbeat") and len(argv) in (4, 5):
                term, member, epoch = int(argv[1]), int(argv[2]), int(argv[3])
                if name == b"amr.prevote":
                    t, ok = q.on_prevote_request(term, member, epoch)
                elif name == b"amr.vote":
                    t, ok = q.on_vote_request(term, member, epoch, transfer=len(argv) == 5 and argv[4] == b"transfer")
                else:
                    t, ok = q.on_heartbeat(term, member, epoch)
                    return encode2([t, int(ok), self.topology.epoch, b"{}"]), authed
                return encode2([t, int(ok)]), authed
            if name == b"amr.topology.set" and len(argv) in (2, 3):
                topo = Topology.from_json(argv[1])
                if topo.epoch < self.topology.epoch:
                    return errors.error_frame(errors.stale_topology(topo.epoch, self.topology.epoch)), authed
                self.topology = topo
                # patching adds and removes nodes: the majority counts over the current ones
                q.set_members([n.id for n in topo.nodes if n.state != "removed"] + [WITNESS], can_lead=False)
                self.on_topology(topo)
                return encode2(OK), authed
            if name == b"amr.topology" and len(argv) == 1:
                return encode2(self.topology.to_json().encode()), authed
        except (ValueError, KeyError, TypeError) as e:
            return errors.error_frame(errors.err_reply(str(e)[:200])), authed
        return errors.error_frame(errors.WITNESS_UNKNOWN_COMMAND), authed

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = RequestParser()
        authed = False
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                parser.feed(data)
                requests, error = parser.parse()
                out = []
                for argv in requests:
                    reply, authed = self.answer(argv, authed)
                    out.append(reply)
                writer.write(b"".join(out))
                if error is not None:
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
