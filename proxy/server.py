"""The node's proxy process: `python -m proxy --topology <path.json> --node <id> [--data-dir D]`.

Listens, with the same client protocol on each, on:
- the cache endpoint (`endpoint_host:endpoint_port`, 127.0.0.1:10000) with SO_REUSEPORT, so every live
  node's proxy shares it and the kernel spreads new connections over them;
- the node endpoint (`node ip:port`);
- under the OSS policy, the node's cluster port (`node ip:cluster_port`, 85xx), what CLUSTER SLOTS and
  -MOVED name.

Internal commands, for connections authenticated with the internal password only (anyone else gets
`unknown command`): `AMR.STATUS` (JSON: node, epoch, ready, shards, quorum), `AMR.TOPOLOGY` (the JSON
routed by), `AMR.TOPOLOGY.SET <json> [<term>]` (adopted if its epoch is newer, or equal and sent by the
leader of a term at least ours: `+OK`; otherwise `-ERR stale topology ...`), `AMR.SHUTDOWN` (stop the
shards, exit 0); the quorum's `AMR.PREVOTE`, `AMR.VOTE`, `AMR.HEARTBEAT` (failover.py);
`AMR.FAILOVER <partition> ...` (the leader's planned failover; JSON result); `AMR.EVENTS` (JSON: what
this node's quorum member did). Patching's, on the leader: `AMR.PROPOSE <base epoch> <json>` (commit a
topology the controller made: nodes or shards added or removed), `AMR.FAILOVER.TO <partition> <shard>`
(a planned failover to that replica), `AMR.TRANSFER <node>` (hand the leadership over); and on its
target, `AMR.TAKEOVER <term>` (stand for election now). Faults: `AMR.CUT <json list of member ids>`
(a network partition: the members this node cannot reach, `[]` when healed), `AMR.SLOW <ms>`.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import sys

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import OK
from amr_emulator.topology import Topology

from .router import Router
from .session import Client
from .failover import Coordinator, FailoverError, Peer
from .supervisor import Supervisor, shard_call

log = logging.getLogger("proxy")

VERSION = "7.4.0"


class ProxyServer:
    def __init__(self, topology: Topology, node_id: int, data_dir: str | None = None, ssl_context=None,
                 probe_ssl=None, rejoin: bool = False, witness: tuple[str, int] | None = None,
                 cut: frozenset = frozenset()):
        self.witness = witness   # the controller's quorum witness (two-node caches)
        self.cut_at_start = cut   # members across a network partition when this node (re)starts
        self.topology = topology
        self.ssl = ssl_context  # TLS on every client port (the cache's --tls); shards stay plaintext
        self.probe_ssl = probe_ssl  # client TLS context (the cache's CA) to ask who serves the endpoint
        self.node_id = node_id
        self.data_dir = data_dir
        self.version = topology.node(node_id).version or VERSION   # a patched node runs a newer one
        self.router = Router(topology, node_id)
        self.supervisor = Supervisor(topology, node_id, data_dir, rejoining=rejoin)
        self.clients: dict[int, Client] = {}
        self._next_id = 0
        self._servers: list = []
        self._listening: set = set()
        self.stopped: asyncio.Event | None = None
        self.exit_code = 0
        self.serving = False  # listening on the cache endpoint (part of `ready`)
        self.coordinator: Coordinator | None = None
        # monotonic time after which requests are refused (connection closed): this node lost sight of the
        # quorum's majority for the minority write bound (kept up to date by the coordinator)
        self.fence_at = float("inf")
        self.fenced_count = 0
        self.slow_s = 0.0   # added to every client reply (`amr-emulator slow-node`, AMR.SLOW <ms>)

    def next_client_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # --- listeners ------------------------------------------------------------------------------
    async def listen(self, host: str, port: int, reuseport: bool = False) -> None:
        if (host, port) in self._listening:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuseport:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(1024)
        sock.setblocking(False)
        server = await asyncio.get_running_loop().create_server(lambda: Client(self), sock=sock, ssl=self.ssl)
        self._servers.append(server)
        self._listening.add((host, port))
        log.info("node %d listening on %s:%d", self.node_id, host, port)

    async def start(self, ready_timeout: float = 20.0) -> None:
        self.stopped = asyncio.Event()
        node = self.topology.node(self.node_id)
        await self.listen(node.ip, node.port)  # AMR.STATUS answers while shards start
        await self.catch_up()
        self.coordinator = Coordinator(self, self.witness)
        self.supervisor.event = self.coordinator.event
        if self.cut_at_start:
            self.coordinator.set_cut(set(self.cut_at_start))
        self.coordinator.start()
        self.supervisor.start()
        if not await self.supervisor.wait_ready(ready_timeout):
            log.warning("node %d: not every shard answered within %.0f s", self.node_id, ready_timeout)
        await self.listen_cache()

    async def catch_up(self) -> None:
        """A node (re)starting adopts the newest topology its peers hold before it starts its shards, so
        a former primary comes back as the replica the cache made it."""
        t = self.topology

        async def one(n):
            try:
                peer = Peer(n.ip, n.port, t.internal_password, self.probe_ssl)
                return Topology.from_json(await peer.call(b"AMR.TOPOLOGY", timeout=0.5))
            except Exception:  # noqa: BLE001 - not up (yet)
                return None
        others = [n for n in t.nodes if n.id != self.node_id and n.id not in self.cut_at_start]
        if not others:
            return
        newest = t
        for other in await asyncio.gather(*(one(n) for n in others)):
            # (a node patching adds holds the topology that names it, before the others store it)
            if other is not None and other.name == t.name and other.epoch > newest.epoch and \
                    any(n.id == self.node_id for n in other.nodes):
                newest = other
        if newest is not t:
            log.warning("node %d: adopting topology epoch %d from its peers", self.node_id, newest.epoch)
            self.topology = newest
            self.router = Router(newest, self.node_id, self.router)
            self.supervisor.topology = newest

    async def foreign_listener(self, host: str, port: int) -> str | None:
        """What already listens on a shared endpoint when it is not this cache (SO_REUSEPORT would
        silently share it with any process of the same user), else None."""
        try:
            reply = (await shard_call(host, port, self.topology.internal_password, (b"AMR.TOPOLOGY",),
                                      timeout=1.0, ssl=self.probe_ssl))[0]
        except (ConnectionRefusedError, OSError) as e:
            if isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) in (111,):
                return None
            return f"something that does not answer as a node of this cache ({e})"
        except Exception as e:  # noqa: BLE001 - a timeout, or not RESP at all
            return f"something that does not answer as a node of this cache ({e!r})"
        if isinstance(reply, bytes):
            try:
                if Topology.from_json(reply).name == self.topology.name:
                    return None
            except (ValueError, KeyError, TypeError):
                pass
        return "another server (not a node of this cache)"

    async def listen_cache(self) -> None:
        topo = self.topology
        node = topo.node(self.node_id)
        other = await self.foreign_listener(topo.endpoint_host, topo.endpoint_port)
        if other is not None:
            raise SystemExit(f"proxy: {topo.endpoint_host}:{topo.endpoint_port} is already served by {other}")
        await self.listen(topo.endpoint_host, topo.endpoint_port, reuseport=True)
        if topo.policy == "oss":
            await self.listen(node.ip, node.cluster_port)
        self.serving = True

    async def stop(self) -> None:
        for s in self._servers:
            s.close()
        for c in list(self.clients.values()):
            if c.transport is not None:
                c.transport.close()
        if self.coordinator is not None:
            self.coordinator.stop()
        await self.supervisor.stop()
        self.router.close()
        if self.stopped is not None:
            self.stopped.set()

    def leave(self) -> None:
        """Patching removed this node from the cluster: no new connections (the shared endpoint's are the
        other nodes' now), and the clients routed through it see their connections close, as AMR's do.
        The controller then deletes the node."""
        log.warning("node %d: removed from the cluster, closing its listeners and %d client connection(s)",
                    self.node_id, len(self.clients))
        self.serving = False
        for s in self._servers:
            s.close()
        for c in list(self.clients.values()):
            if c.transport is not None:
                c.transport.close()

    def fence(self, c: Client) -> None:
        """A client's request while this node is cut from the majority: close its connection, as AMR does,
        so no write is acknowledged on the minority side."""
        self.fenced_count += 1
        if self.fenced_count == 1 or self.fenced_count % 1000 == 0:
            log.warning("node %d: cut from the quorum's majority, closing client connections (%d)", self.node_id,
                        self.fenced_count)
        c.closing = True
        c.pending.clear()
        c.queue.clear()
        if c.transport is not None:
            c.transport.close()

    # --- topology ----------------------------------------------------------------------------------
    def adopt(self, topology: Topology) -> None:
        self.topology = topology
        if topology.node(self.node_id).state == "removed" and self.serving:
            self.leave()
        old_router = self.router
        self.router = Router(topology, self.node_id, self.router)
        self.supervisor.adopt(topology)
        if self.coordinator is not None:
            self.coordinator.on_topology(topology)
        from .session import _resubscribe, drop_moved_schannels
        primaries = [r.id for r in self.router.primaries]
        for c in self.clients.values():
            c.server = self
            if c.schannels and self.router.oss:
                drop_moved_schannels(c, old_router)
            if c.sub_conns:   # subscribers follow the primaries (a failover moved one)
                for sid in primaries:
                    if sid not in c.sub_conns:
                        _resubscribe(c, sid, 0.1)

    # --- internal commands -------------------------------------------------------------------------
    def _leader_only(self) -> None:
        if self.coordinator is None or not self.coordinator.quorum.is_leader:
            leader = None if self.coordinator is None else self.coordinator.quorum.leader
            raise RespError(errors.not_leader(leader))

    def _answer_later(self, c: Client, what: str, work) -> None:
        """Run a leader operation and answer its JSON result (or `-ERR <what> failed: ...`) when done; the
        connection's next requests wait for it."""
        slot = c.new_slot()
        c.held = slot

        async def run():
            try:
                data = c.encode(json.dumps(await work).encode())
            except (FailoverError, OSError, asyncio.TimeoutError, ConnectionError) as e:
                detail = str(e) or type(e).__name__   # a timeout says nothing of itself
                data = errors.error_frame(errors.operation_failed(what, detail).replace("\r\n", " "))
            except Exception as e:  # noqa: BLE001 - a bug of ours: answer, serve on
                log.exception("%s", what)
                data = errors.error_frame(errors.operation_failed(what, "internal error %r" % (e,))[:299])
            slot.on_reply(data)
            c.flush()
        asyncio.get_running_loop().create_task(run())

    def status(self) -> dict:
        shards = self.supervisor.status()
        return {"node": self.node_id, "epoch": self.topology.epoch, "policy": self.topology.policy,
                "pid": os.getpid(), "ready": self.serving and self.supervisor.ready(), "clients": len(self.clients),
                "shards": shards,
                "quorum": None if self.coordinator is None else self.coordinator.quorum.status()}

    def internal_command(self, c: Client, argv: list) -> None:
        name = argv[0].lower()
        if name == b"amr.status" and len(argv) == 1:
            c.reply(json.dumps(self.status()).encode())
        elif name == b"amr.topology" and len(argv) == 1:
            c.reply(self.topology.to_json().encode())
        elif name == b"amr.topology.set" and len(argv) in (2, 3):
            try:
                topo = Topology.from_json(argv[1])
                topo.validate()
                term = int(argv[2]) if len(argv) == 3 else None
            except (ValueError, KeyError, TypeError) as e:
                raise RespError(errors.invalid_topology(str(e))) from None
            q = None if self.coordinator is None else self.coordinator.quorum
            # a leader's topology replaces an uncommitted one of the same epoch (stored from a deposed leader)
            same_epoch_ok = (term is not None and q is not None and term >= q.term and topo.epoch == self.topology.epoch
                             and argv[1] != self.topology.to_json().encode())
            if topo.epoch == self.topology.epoch and topo == self.topology:
                c.reply(OK)  # already stored (the leader passed it on before its sender got here)
                return
            if topo.epoch < self.topology.epoch or (topo.epoch == self.topology.epoch and not same_epoch_ok):
                raise RespError(errors.stale_topology(topo.epoch, self.topology.epoch))
            self.adopt(topo)
            c.reply(OK)
        elif name in (b"amr.prevote", b"amr.vote", b"amr.heartbeat") and len(argv) in (4, 5):
            if self.coordinator is None:
                raise RespError(errors.NOT_QUORUM_MEMBER)
            c.reply(self.coordinator.handle(argv))
        elif name == b"amr.cut" and len(argv) == 2:
            if self.coordinator is None:
                raise RespError(errors.NOT_QUORUM_MEMBER)
            try:
                members = {int(m) for m in json.loads(argv[1])}
            except (ValueError, TypeError):
                raise RespError(errors.INVALID_CUT) from None
            self.coordinator.set_cut(members)
            c.reply(OK)
        elif name == b"amr.slow" and len(argv) == 2:
            try:
                ms = float(argv[1])
            except ValueError:
                raise RespError(errors.INVALID_LATENCY) from None
            if not 0 <= ms <= 600000:
                raise RespError(errors.INVALID_LATENCY)
            self.slow_s = ms / 1000.0
            c.reply(OK)
        elif name == b"amr.events" and len(argv) == 1:
            c.reply(json.dumps([] if self.coordinator is None else self.coordinator.events).encode())
        elif name == b"amr.failover" and len(argv) >= 2:
            try:
                partitions = [int(a) for a in argv[1:]]
                for pid in partitions:
                    self.topology.partition(pid)
            except (ValueError, KeyError):
                raise RespError(errors.INVALID_PARTITION) from None
            self._leader_only()
            self._answer_later(c, "failover", self.coordinator.planned(partitions))
        elif name == b"amr.failover.to" and len(argv) == 3:
            try:
                pid, to = int(argv[1]), int(argv[2])
                self.topology.partition(pid)
            except (ValueError, KeyError):
                raise RespError(errors.INVALID_PARTITION) from None
            self._leader_only()
            self._answer_later(c, "failover", self.coordinator.planned([pid], {pid: to}))
        elif name == b"amr.propose" and len(argv) == 3:
            try:
                base = int(argv[1])
                proposed = Topology.from_json(argv[2])
            except (ValueError, KeyError, TypeError) as e:
                raise RespError(errors.invalid_topology(str(e))) from None
            self._leader_only()
            self._answer_later(c, "proposal", self.coordinator.propose(base, proposed))
        elif name == b"amr.transfer" and len(argv) == 2:
            try:
                target = int(argv[1])
                self.topology.node(target)
            except (ValueError, KeyError):
                raise RespError(errors.INVALID_NODE) from None
            self._leader_only()
            self._answer_later(c, "leadership transfer", self.coordinator.transfer(target))
        elif name == b"amr.takeover" and len(argv) == 2:
            if self.coordinator is None:
                raise RespError(errors.NOT_QUORUM_MEMBER)
            try:
                term = int(argv[1])
            except ValueError:
                raise RespError(errors.INVALID_TERM) from None
            self.coordinator.take_over(term)
            c.reply(OK)
        elif name == b"amr.shutdown" and len(argv) == 1:
            c.reply(OK)
            c.flush()
            asyncio.get_running_loop().create_task(self.stop())
        else:
            raise RespError(errors.unknown_command(argv[0], argv[1:]))


def tls_contexts(cert: str, key: str, ca: str | None):
    """(server, client) contexts: TLS 1.2 and 1.3 with the cache's certificate, no client certificates;
    the client one trusts the cache's CA (for asking who serves the shared endpoint)."""
    import ssl

    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.minimum_version = ssl.TLSVersion.TLSv1_2
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=ca) if ca else None
    return server, client


async def serve(topology: Topology, node_id: int, data_dir: str | None, ssl_context=None, probe_ssl=None,
                rejoin: bool = False, witness: tuple[str, int] | None = None, cut: frozenset = frozenset()) -> int:
    server = ProxyServer(topology, node_id, data_dir, ssl_context, probe_ssl, rejoin, witness, cut)
    loop = asyncio.get_running_loop()
    server.stopped = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, lambda: loop.create_task(server.stop()))
        except (NotImplementedError, RuntimeError):
            pass
    stopped = server.stopped
    try:
        await server.start()
    except BaseException:
        await server.supervisor.stop()  # never leave the shards behind
        raise
    server.stopped = stopped
    await stopped.wait()
    return server.exit_code


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m proxy", description="Run one node's proxy and its shards.")
    p.add_argument("--topology", required=True, help="the cache's topology (JSON file)")
    p.add_argument("--node", type=int, required=True, help="this node's id")
    p.add_argument("--data-dir", default=None, help="where shards keep their files (one directory each)")
    p.add_argument("--tls-cert", default=None, help="serve TLS with this certificate (PEM) on every client port")
    p.add_argument("--tls-key", default=None, help="the certificate's private key (PEM)")
    p.add_argument("--tls-ca", default=None, help="the CA that signed it (PEM)")
    p.add_argument("--rejoin", action="store_true",
                   help="the node was lost and is started again: its primaries wait for their failover")
    p.add_argument("--witness", default=None, metavar="HOST:PORT",
                   help="the quorum's witness (the controller of a two-node cache)")
    p.add_argument("--cut", default="[]", metavar="JSON",
                   help="members across a network partition from the start (a list of node ids; 1000: the witness)")
    p.add_argument("--log-level", default="WARNING")
    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format=f"%(asctime)s proxy[node {args.node}] %(levelname)s %(message)s")
    with open(args.topology) as f:
        topology = Topology.from_json(f.read())
    topology.node(args.node)  # fails early for an unknown node
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    ssl_context, probe_ssl = tls_contexts(args.tls_cert, args.tls_key, args.tls_ca) if args.tls_cert else (None, None)
    witness = None
    if args.witness:
        host, _, port = args.witness.rpartition(":")
        witness = (host, int(port))
    cut = frozenset(int(m) for m in json.loads(args.cut))
    return asyncio.run(serve(topology, args.node, args.data_dir, ssl_context, probe_ssl, args.rejoin, witness, cut))
