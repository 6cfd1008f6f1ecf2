"""The proxy's quorum member and, on the leader, failure detection and failovers.

`Coordinator` drives this node's `quorum.Quorum` over the internal control channel (the node endpoint,
authenticated with the internal password):

- `AMR.PREVOTE|AMR.VOTE <term> <candidate> <epoch>` -> `[term, granted]`;
- `AMR.HEARTBEAT <term> <leader> <epoch>` -> `[term, ok, epoch, report]`: the follower's topology epoch
  (the leader pushes its topology to a follower that is behind) and a JSON report of its shards
  (up, down for how long, exited, role, replication offset);
- `AMR.TOPOLOGY.SET <json> [<term>]`: how the leader commits a topology (stored by a majority).

The leader, each turn of its loop, decides (`plan_failover`, a pure function):
- unplanned failover: a node silent past `node_failure_detection_ms` while the leader hears a majority,
  or a primary shard whose process exited or that stopped answering past `shard_failure_detection_ms`:
  its partition's replica with the highest replication offset becomes primary (each proxy's supervisor
  then sends `REPLICAOF NO ONE` / `REPLICAOF <new primary>` as the committed topology says);
- a node marked down that answers again is marked up; its shards rejoin as the topology says
  (a former primary as a replica of the new one).
Planned failover (`AMR.FAILOVER`, on the leader): pause writes on the primary, wait until the replica's
offset equals the primary's, promote it, demote the old primary, commit, resume.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from time import monotonic
from typing import Any

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import decode_reply, encode_command
from amr_emulator.topology import Partition, Shard, Topology

from .backend import reply_end
from .quorum import Message, Quorum
from .supervisor import info_fields, shard_call

log = logging.getLogger("proxy")


class FailoverError(Exception):
    pass


# --- the topology change of a failover (pure) -----------------------------------------------------

def promote(topology: Topology, partition_id: int, new_primary: int) -> tuple[tuple[Shard, ...], tuple[Partition, ...]]:
    """Shards and partitions with `new_primary` (a replica of the partition) as its primary and the old
    primary as one of its replicas."""
    p = topology.partition(partition_id)
    old = p.primary
    replicas = tuple([old] + [r for r in p.replicas if r != new_primary])
    shards = tuple(s.__class__(id=s.id, node=s.node, port=s.port, partition=s.partition,
                               role="primary" if s.id == new_primary else "replica" if s.id == old else s.role)
                   for s in topology.shards)
    parts = tuple(Partition(id=q.id, slots=q.slots, primary=new_primary, replicas=replicas) if q.id == p.id else q
                  for q in topology.partitions)
    return shards, parts


def plan_failover(topology: Topology, failed_nodes: set[int], failed_shards: set[int],
                  shard_info: dict[int, dict[str, Any]], revived_nodes: set[int] = frozenset(),
                  leader: int | None = None, last_offsets: dict[int, int] | None = None,
                  ) -> tuple[Topology | None, list[dict[str, Any]]]:
    """The next topology after failures (None if nothing changes) and what was done, for the event log.

    `shard_info`: shard id -> {"up": bool, "offset": int} as the nodes last reported. A partition whose
    primary is failed (its node failed, or the shard) gets its live replica with the highest offset as
    primary; a partition without one stays as it is (its slots fail until the primary is back).
    `last_offsets`: the last replication offset each shard was seen at, however long ago: the event of a
    failover names what the old primary had written beyond the promoted replica when last seen (the
    unreplicated tail, at least)."""
    t = topology
    actions: list[dict[str, Any]] = []
    for p in t.partitions:
        primary = t.shard(p.primary)
        if primary.node not in failed_nodes and primary.id not in failed_shards:
            continue
        candidates = [t.shard(r) for r in p.replicas]
        candidates = [s for s in candidates if s.node not in failed_nodes and s.id not in failed_shards
                      and shard_info.get(s.id, {}).get("up")]
        if not candidates:
            actions.append({"operation": "failover-impossible", "partition": p.id, "primary": primary.id,
                            "reason": "no live replica"})
            continue
        best = max(candidates, key=lambda s: (shard_info.get(s.id, {}).get("offset", 0), -s.id))
        shards, parts = promote(t, p.id, best.id)
        t = t.replace(shards=shards, partitions=parts)
        offset = shard_info.get(best.id, {}).get("offset", 0)
        seen = (last_offsets or {}).get(primary.id)
        lost = {} if seen is None else {"old_primary_last_offset": seen,
                                        "unreplicated_bytes_at_least": max(0, seen - offset)}
        actions.append({"operation": "failover", "kind": "unplanned", "partition": p.id, "old_primary": primary.id,
                        "new_primary": best.id, "new_primary_node": best.node, "offset": offset, **lost,
                        "reason": f"node {primary.node} unreachable" if primary.node in failed_nodes
                        else f"shard {primary.id} failed"})
    nodes = []
    for n in t.nodes:
        if n.id in failed_nodes and n.state == "up":
            n = n.__class__(**{**n.__dict__, "state": "down"})
            actions.append({"operation": "node-down", "node": n.id})
        elif n.id in revived_nodes and n.state == "down":
            n = n.__class__(**{**n.__dict__, "state": "up"})
            actions.append({"operation": "node-up", "node": n.id})
        nodes.append(n)
    t = t.replace(nodes=tuple(nodes))
    if not actions or all(a["operation"] == "failover-impossible" for a in actions):
        return None, actions
    return t.bump(leader=leader if leader is not None else t.leader), actions


# --- a connection to a peer proxy ---------------------------------------------------------------------

class Peer:
    """One persistent connection to another node's endpoint, one request at a time."""

    def __init__(self, host: str, port: int, password: str, ssl=None):
        self.host, self.port, self.password = host, port, password
        self.ssl = ssl   # a TLS cache: the client context that trusts its CA
        self.reader = self.writer = None
        self.busy = False

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def call(self, *args, timeout: float = 0.5) -> Any:
        self.busy = True
        try:
            return await asyncio.wait_for(self._call(args), timeout)
        except BaseException:
            self.close()
            raise
        finally:
            self.busy = False

    async def _call(self, args) -> Any:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, ssl=self.ssl)
            self.writer.write(encode_command(b"AUTH", self.password))
            auth = await self._read()
            if isinstance(auth, RespError):
                raise ConnectionError(f"AUTH refused: {auth}")
        self.writer.write(encode_command(*args))
        reply = await self._read()
        if isinstance(reply, RespError):
            raise FailoverError(str(reply))
        return reply

    async def _read(self) -> Any:
        buf = b""
        while True:
            if buf and reply_end(buf, 0) > 0:
                return decode_reply(buf, 0)[0]
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("closed")
            buf += data


def _int(x) -> int:
    return int(x.decode() if isinstance(x, bytes) else x)


def _text(x) -> str:
    return x.decode() if isinstance(x, bytes) else str(x)


# --- the coordinator ------------------------------------------------------------------------------------

class Coordinator:
    def __init__(self, server, witness: tuple[str, int] | None = None):
        self.server = server
        t = server.topology
        self.node_id = server.node_id
        self.witness = witness
        self.quorum = Quorum(self.node_id, self.members(t), t.timing, clock=monotonic,
                             epoch=lambda: server.topology.epoch, rng=random.Random(),
                             can_lead=t.node(self.node_id).state != "removed")
        self.peers: dict[int, Peer] = {}
        self.pushers: dict[int, Peer] = {}
        self.reports: dict[int, tuple[float, dict]] = {}
        self.pushing: set[int] = set()
        self.changing = False
        self.task: asyncio.Task | None = None
        self.events: list[dict] = []
        self.seq = 0
        self.started = monotonic()
        self.leader_epoch = 0   # the topology epoch in the leader's last heartbeat
        self.cut: set[int] = set()   # members across a network partition (`amr-emulator partition`, AMR.CUT)

    def timer(self, name: str) -> float:
        return self.server.topology.timing[name] / 1000.0

    def members(self, t: Topology) -> list[int]:
        """The quorum's voters in a topology: its nodes not removed, and the witness if there is one."""
        members = [n.id for n in t.nodes if n.state != "removed"]
        if self.witness is not None:
            from .quorum import WITNESS
            members.append(WITNESS)
        return members

    def on_topology(self, t: Topology) -> None:
        """A newer topology: nodes added (patching's new nodes) or removed change who votes."""
        self.quorum.set_members(self.members(t), can_lead=t.node(self.node_id).state != "removed")
        self._update_fence()
        if self.cut:
            self._cut_data_plane(t)

    def set_cut(self, members: set[int]) -> None:
        """AMR.CUT: the members this node cannot reach from now on (none: the partition is healed). Every
        link to their nodes is cut, both ways (each side is told): quorum messages, this proxy's
        connections to their shards, and the replication links of this node's replicas of their primaries."""
        if members == self.cut:
            return
        self.cut = set(members)
        for m in self.cut:
            for pool in (self.peers, self.pushers):
                p = pool.pop(m, None)
                if p is not None:
                    p.close()
        self._cut_data_plane(self.server.topology)
        self.event("network-cut" if self.cut else "network-restored", unreachable=sorted(self.cut))

    def _cut_data_plane(self, t: Topology) -> None:
        from . import backend
        nodes = {n.id: n for n in t.nodes}
        addresses = {(nodes[s.node].ip, s.port) for s in t.shards if s.node in self.cut and s.node in nodes}
        backend.cut_off(addresses)
        self.server.supervisor.cut_off(addresses)

    # --- peers ---------------------------------------------------------------------------------
    def _addr(self, member: int, topology: Topology | None = None) -> tuple[str, int]:
        from .quorum import WITNESS
        if member == WITNESS and self.witness is not None:
            return self.witness
        n = (topology or self.server.topology).node(member)
        return n.ip, n.port

    def new_peer(self, member: int, topology: Topology | None = None) -> Peer:
        """A connection to a member: its node endpoint (TLS in a TLS cache), or the witness's."""
        from .quorum import WITNESS
        if member in self.cut:
            raise ConnectionError(f"member {member} is across a network partition")
        topology = topology or self.server.topology
        ssl = None if member == WITNESS else self.server.probe_ssl
        return Peer(*self._addr(member, topology), topology.internal_password, ssl)

    def peer(self, member: int, pool: dict | None = None) -> Peer:
        pool = self.peers if pool is None else pool
        p = pool.get(member)
        host, port = self._addr(member)
        if p is None or (p.host, p.port) != (host, port):
            if p is not None:
                p.close()
            p = pool[member] = self.new_peer(member)
        return p

    def event(self, operation: str, **details) -> None:
        self.seq += 1
        entry = {"operation": operation, "node": self.node_id, "term": self.quorum.term, "seq": self.seq,
                 "time": time.time(), **details}
        self.events.append(entry)
        del self.events[:-200]
        log.warning("%s", json.dumps(entry))

    # --- loop --------------------------------------------------------------------------------
    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.run())

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        for p in list(self.peers.values()) + list(self.pushers.values()):
            p.close()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        period = min(0.05, self.timer("heartbeat_ms") / 2)
        while True:
            try:
                for m in self.quorum.tick():
                    self._send(m)
                for kind, details in self.quorum.events:
                    self.event(kind, **details)
                self.quorum.events.clear()
                self._update_fence()
                if self.quorum.is_leader and not self.changing:
                    self.changing = True
                    loop.create_task(self._leader_duties())
            except Exception:  # noqa: BLE001 - a bug must not stop the quorum
                log.exception("quorum loop")
            await asyncio.sleep(period)

    def _update_fence(self) -> None:
        """Writes stop (client connections close) once this node has not been on the majority side for
        `minority_write_stop_ms`; a single-node cache is its own majority. Checked against the time of
        each request, so a node resumed after a pause refuses requests until the leader is heard again."""
        q = self.quorum
        window = self.timer("minority_write_stop_ms")
        if self.leader_epoch > self.server.topology.epoch:
            self.server.fence_at = 0.0      # the leader has a newer topology: route nothing by ours
        elif len(q.members) == 1:
            self.server.fence_at = float("inf")
        else:   # (a grace at start-up, while the first leader is elected)
            self.server.fence_at = max(q.last_contact + window, self.started + 3 * window)

    def _send(self, m: Message) -> None:
        if m.to in self.cut:
            return
        peer = self.peer(m.to)
        if peer.busy:
            if m.kind == "heartbeat":
                return   # the previous one is still out: that peer is slow or gone
            peer = Peer(peer.host, peer.port, peer.password, peer.ssl)   # votes must not wait behind a heartbeat
        asyncio.get_running_loop().create_task(self._exchange(peer, m))

    async def _exchange(self, peer: Peer, m: Message) -> None:
        timeout = max(0.2, self.timer("election_timeout_min_ms") / 2)
        cmd = {"prevote": b"AMR.PREVOTE", "vote": b"AMR.VOTE", "heartbeat": b"AMR.HEARTBEAT"}[m.kind]
        try:
            extra = (b"%.6f" % monotonic(),) if m.kind == "heartbeat" else (b"transfer",) if m.transfer else ()
            reply = await peer.call(cmd, str(m.term), str(m.sender), str(m.epoch), *extra, timeout=timeout)
        except (OSError, asyncio.TimeoutError, ConnectionError, FailoverError, IndexError, ValueError):
            return
        finally:
            if peer is not self.peers.get(m.to):
                peer.close()
        try:
            term, ok = _int(reply[0]), bool(_int(reply[1]))
        except (TypeError, ValueError, IndexError):
            return
        q = self.quorum
        if m.kind == "prevote":
            out = q.on_prevote_reply(m.to, term, ok)
        elif m.kind == "vote":
            out = q.on_vote_reply(m.to, term, ok)
        else:
            q.on_heartbeat_reply(m.to, term, ok)
            out = []
            if ok and len(reply) >= 4:
                try:
                    self.reports[m.to] = (monotonic(), json.loads(reply[3]))
                except (ValueError, TypeError):
                    pass
                if _int(reply[2]) < self.server.topology.epoch:
                    self._push(m.to)
        for msg in out:
            self._send(msg)

    def _push(self, member: int) -> None:
        """Bring a follower that is behind up to this leader's topology."""
        from .quorum import WITNESS
        if member in self.pushing or member == WITNESS or member in self.cut:
            return
        self.pushing.add(member)

        async def go():
            try:
                await self.peer(member, self.pushers).call(
                    b"AMR.TOPOLOGY.SET", self.server.topology.to_json(), str(self.quorum.term), timeout=2.0)
            except Exception:  # noqa: BLE001
                pass
            finally:
                self.pushing.discard(member)
        asyncio.get_running_loop().create_task(go())

    # --- answers ---------------------------------------------------------------------------------
    def report(self) -> dict:
        now = monotonic()
        shards = {}
        for sp in self.server.supervisor.shards.values():
            shards[str(sp.shard.id)] = {
                "up": sp.up, "offset": sp.repl_offset, "role": sp.role_reported, "exited": sp.state == "FAILED",
                "down_for": None if sp.down_since is None else round(now - sp.down_since, 3)}
        return {"shards": shards}

    def handle(self, argv: list) -> list:
        name = argv[0].lower()
        try:
            term, member, epoch = _int(argv[1]), _int(argv[2]), _int(argv[3])
        except (ValueError, IndexError):
            raise RespError(errors.INVALID_QUORUM_MESSAGE) from None
        if member in self.cut:
            raise RespError(errors.UNREACHABLE)
        q = self.quorum
        if name == b"amr.prevote":
            t, ok = q.on_prevote_request(term, member, epoch)
        elif name == b"amr.vote":
            t, ok = q.on_vote_request(term, member, epoch, transfer=len(argv) == 5 and argv[4] == b"transfer")
        else:
            # a heartbeat that waited in the socket while this node was paused is no contact with the leader:
            # the nodes share the host's monotonic clock, so its age is known
            if len(argv) == 5:
                try:
                    if monotonic() - float(argv[4]) > self.timer("minority_write_stop_ms") / 2:
                        return [q.term, 0, self.server.topology.epoch, b"{}"]
                except ValueError:
                    pass
            t, ok = q.on_heartbeat(term, member, epoch)
            if ok:
                self.leader_epoch = epoch
                self._update_fence()
            return [t, int(ok), self.server.topology.epoch, json.dumps(self.report()).encode()]
        return [t, int(ok)]

    # --- the leader --------------------------------------------------------------------------------
    def shard_info(self) -> dict[int, dict]:
        """What the nodes last reported about their shards (this node's own, live)."""
        info: dict[int, dict] = {}
        fresh = max(1.0, 3 * self.timer("heartbeat_ms"))
        now = monotonic()
        for node, (at, rep) in self.reports.items():
            if now - at > fresh:
                continue
            for sid, s in rep.get("shards", {}).items():
                info[int(sid)] = s
        for sid, s in self.report()["shards"].items():
            info[int(sid)] = s
        return info

    async def _leader_duties(self) -> None:
        try:
            t = self.server.topology
            q = self.quorum
            info = self.shard_info()
            now = monotonic()
            grace = 2 * self.timer("node_failure_detection_ms") + self.timer("election_timeout_max_ms")
            failed_nodes = {m for m in q.unreachable() if m in {n.id for n in t.nodes}
                            and (m in q.seen or now - self.started > grace)}
            failed_nodes = {m for m in failed_nodes if t.node(m).state == "up"}
            fresh = 3 * self.timer("heartbeat_ms")
            revived = {n.id for n in t.nodes if n.state == "down" and n.id in q.last_ack
                       and now - q.last_ack[n.id] < fresh and n.id in self.reports
                       and now - self.reports[n.id][0] < fresh}
            detection = self.timer("shard_failure_detection_ms")
            failed_shards = set()
            for p in t.partitions:
                s = info.get(p.primary)
                if s is not None and (s.get("exited") or (s.get("down_for") or 0) > detection):
                    if t.shard(p.primary).node not in failed_nodes:
                        failed_shards.add(p.primary)
            if not failed_nodes and not failed_shards and not revived:
                return
            last = {int(sid): sh.get("offset", 0) for _, rep in self.reports.values()
                    for sid, sh in rep.get("shards", {}).items()}
            last.update({sid: sh.get("offset", 0) for sid, sh in info.items()})
            new, actions = plan_failover(t, failed_nodes, failed_shards, info, revived, leader=self.node_id,
                                         last_offsets=last)
            if new is None:
                return
            started = monotonic()
            ok = await self.commit(new)
            for a in actions:
                self.event(a.pop("operation"), epoch=new.epoch, committed=ok, **a)
            if ok:
                self.event("topology-committed", epoch=new.epoch, ms=round((monotonic() - started) * 1000, 1))
        except Exception:  # noqa: BLE001
            log.exception("leader duties")
        finally:
            self.changing = False

    async def commit(self, new: Topology, wait_all: bool = False) -> bool:
        """Store `new` on a majority (this leader included); then adopt it here. `wait_all`: also wait
        (briefly) for every other live node, so all route by it before, say, writes resume."""
        q = self.quorum
        if not q.is_leader:
            return False
        proposal = q.propose(new.epoch)
        text = new.to_json()
        term = str(q.term)
        others = [m for m in self.members(new) if m != self.node_id and m not in self.cut]
        # a change of members is committed by a majority of the new set (patching adds or removes nodes)
        proposal.needed = max(proposal.needed, (len(others) + 1) // 2 + 1)
        done = asyncio.Event()
        proposal.ack(self.node_id)
        if proposal.committed:
            done.set()

        async def one(member: int):
            try:
                await self.new_peer(member, new).call(
                    b"AMR.TOPOLOGY.SET", text, term, timeout=1.0)
            except Exception as e:  # noqa: BLE001
                log.info("epoch %d not stored by member %d: %r", new.epoch, member, e)
                return False
            if proposal.ack(member):
                done.set()
            return True
        tasks = [asyncio.get_running_loop().create_task(one(m)) for m in others]
        try:
            await asyncio.wait_for(done.wait(), 2.0)
        except asyncio.TimeoutError:
            for task in tasks:
                task.cancel()
            log.warning("topology epoch %d not stored by a majority", new.epoch)
            return False
        if self.server.topology.epoch < new.epoch:
            self.server.adopt(new)
        if wait_all and tasks:
            await asyncio.wait(tasks, timeout=0.5)
        return True

    # --- the controller's changes (patching): on the leader, one at a time -----------------------------
    async def _exclusive(self):
        if not self.quorum.is_leader:
            raise FailoverError(f"not the leader (leader is {self.quorum.leader})")
        while self.changing:
            await asyncio.sleep(0.01)
        if not self.quorum.is_leader:
            raise FailoverError(f"not the leader (leader is {self.quorum.leader})")
        self.changing = True

    async def propose(self, base_epoch: int, proposed: Topology) -> int:
        """Commit a topology the controller made from epoch `base_epoch` (nodes added or removed, a shard
        added to or removed from a partition) as the next epoch; refused if the topology moved on
        meanwhile (the controller then starts again from the newer one). Returns the committed epoch."""
        await self._exclusive()
        try:
            t = self.server.topology
            if base_epoch != t.epoch:
                raise FailoverError(f"stale proposal: made from epoch {base_epoch}, the topology is at {t.epoch}")
            new = proposed.replace(epoch=t.epoch + 1, leader=self.node_id, timing=t.timing,
                                   internal_password=t.internal_password, access_keys=t.access_keys)
            try:
                new.validate()
            except ValueError as e:
                raise FailoverError(f"invalid topology: {e}") from None
            if not await self.commit(new, wait_all=True):
                raise FailoverError(f"epoch {new.epoch} was not stored by a majority")
            self.event("topology-committed", epoch=new.epoch, proposed_by="controller")
            return new.epoch
        finally:
            self.changing = False

    async def transfer(self, target: int, timeout: float = 5.0) -> int:
        """Hand the leadership to `target` (patching makes a new node the cluster leader): once it holds
        this leader's topology, tell it to stand (AMR.TAKEOVER); it wins at once, a live leader blocking no
        vote of a transfer. Returns the new term."""
        await self._exclusive()
        try:
            t = self.server.topology
            node = t.node(target)
            if node.state != "up" or target not in self.quorum.members:
                raise FailoverError(f"node {target} cannot lead (state {node.state})")
            if target == self.node_id:
                return self.quorum.term
            deadline = monotonic() + timeout
            while True:   # the target must hold our topology, or its votes are refused
                try:
                    theirs = Topology.from_json(await self.peer(target, self.pushers).call(b"AMR.TOPOLOGY",
                                                                                           timeout=1.0))
                    if theirs.epoch == t.epoch:
                        break
                except (OSError, asyncio.TimeoutError, ConnectionError, FailoverError, ValueError, KeyError):
                    pass
                self._push(target)
                if monotonic() > deadline:
                    raise FailoverError(f"node {target} did not catch up with epoch {t.epoch}")
                await asyncio.sleep(0.02)
            self.event("leadership-transfer", to=target, epoch=t.epoch)
            await self.new_peer(target).call(b"AMR.TAKEOVER", str(self.quorum.term), timeout=1.0)
            while self.quorum.leader != target or self.quorum.is_leader:
                if monotonic() > deadline:
                    raise FailoverError(f"node {target} did not take over the leadership")
                await asyncio.sleep(0.01)
            return self.quorum.term
        finally:
            self.changing = False

    def take_over(self, term: int) -> None:
        """AMR.TAKEOVER <term>: the leader of that term hands over; stand now."""
        for m in self.quorum.take_over(term):
            self._send(m)

    # --- planned failover ------------------------------------------------------------------------------
    async def planned(self, partitions: list[int], to: dict[int, int] | None = None) -> list[dict]:
        """Planned failover of each partition, to its best replica or to the shard `to[partition]`."""
        await self._exclusive()
        try:
            results = []
            for pid in partitions:
                results.append(await self._planned_one(pid, (to or {}).get(pid)))
            return results
        finally:
            self.changing = False

    async def _planned_one(self, pid: int, to: int | None = None) -> dict:
        t = self.server.topology
        pw = t.internal_password
        p = t.partition(pid)
        old = t.shard(p.primary)
        eligible = [t.shard(r) for r in p.replicas if t.node(t.shard(r).node).state == "up" and to in (None, r)]
        info = self.shard_info()
        candidates = [s for s in eligible if info.get(s.id, {}).get("up")]
        # a replica just built, or a leader just elected, knows a replica is up only from the next heartbeats'
        # reports (and a loaded node may miss a ping or two meanwhile)
        deadline = monotonic() + 5.0
        while not candidates and eligible and monotonic() < deadline:
            await asyncio.sleep(0.02)
            info = self.shard_info()
            candidates = [s for s in eligible if info.get(s.id, {}).get("up")]
        if not candidates:
            raise FailoverError(f"partition {pid} has no live replica" if to is None
                                else f"shard {to} is not a live replica of partition {pid}")
        new = max(candidates, key=lambda s: info.get(s.id, {}).get("offset", 0))
        oip, nip = t.node(old.node).ip, t.node(new.node).ip
        bound = self.timer("planned_failover_timeout_ms")
        started = monotonic()
        swapped = False
        # writes wait on the primary (they are answered once it is a replica: the proxies redirect them)
        await shard_call(oip, old.port, pw, (b"CLIENT", b"PAUSE", str(int(bound * 3000)).encode(), b"WRITE"),
                         timeout=1.0)
        try:
            deadline = started + bound
            while True:
                pi, ri = await asyncio.gather(_replication(oip, old.port, pw), _replication(nip, new.port, pw))
                if caught_up(pi, ri):
                    break
                if monotonic() > deadline:
                    raise FailoverError(
                        f"partition {pid}: replica shard {new.id} did not catch up within {bound * 1000:.0f} ms "
                        f"(link {ri.get('master_link_status')}, offset {ri.get('slave_repl_offset')} of "
                        f"{pi.get('master_repl_offset')})")
                await asyncio.sleep(0.002)
            po = int(pi.get("master_repl_offset", 0))
            synced_at = monotonic()
            swapped = True
            await shard_call(nip, new.port, pw, (b"REPLICAOF", b"NO", b"ONE"), timeout=1.0)
            await shard_call(oip, old.port, pw, (b"REPLICAOF", nip.encode(), str(new.port).encode()), timeout=1.0)
            shards, parts = promote(t, pid, new.id)
            topo = t.replace(shards=shards, partitions=parts).bump(leader=self.node_id)
            if not await self.commit(topo, wait_all=True):
                raise FailoverError(f"partition {pid}: the new topology was not committed")
        except BaseException:
            if swapped:   # not committed: the roles go back to what the topology still says
                await _quietly(shard_call(oip, old.port, pw, (b"REPLICAOF", b"NO", b"ONE"), timeout=1.0))
                await _quietly(shard_call(nip, new.port, pw, (b"REPLICAOF", oip.encode(), str(old.port).encode()),
                                          timeout=1.0))
            await _quietly(shard_call(oip, old.port, pw, (b"CLIENT", b"UNPAUSE"), timeout=1.0))
            raise
        await shard_call(oip, old.port, pw, (b"CLIENT", b"UNPAUSE"), timeout=1.0)
        done = monotonic()
        result = {"partition": pid, "old_primary": old.id, "new_primary": new.id, "new_primary_node": new.node,
                  "offset": po, "epoch": topo.epoch, "catch_up_ms": round((synced_at - started) * 1000, 1),
                  "write_pause_ms": round((done - started) * 1000, 1)}
        self.event("failover", kind="planned", **result)
        return result


async def _quietly(call) -> None:
    """A clean-up call after a failure: its own failure must not hide the first one."""
    try:
        await call
    except Exception as e:  # noqa: BLE001
        log.warning("clean-up after a failed failover: %r", e)


async def _replication(host: str, port: int, pw: str) -> dict[str, str]:
    return info_fields((await shard_call(host, port, pw, (b"INFO", b"replication"), timeout=1.0))[0])


def caught_up(primary: dict[str, str], replica: dict[str, str]) -> bool:
    """The replica holds everything the primary wrote: linked and synced to the same history, at the
    primary's offset."""
    return (replica.get("role") == "slave" and replica.get("master_link_status") == "up"
            and replica.get("master_sync_in_progress") == "0"
            and replica.get("master_replid") == primary.get("master_replid")
            and replica.get("slave_repl_offset") == primary.get("master_repl_offset"))
