"""The controller's failover and fault operations (a mixin of `Controller`): planned failover through the
cluster leader, and the faults a test injects - kill a node (SIGKILL of its process group, a lost VM), kill
a shard, restart or pause a node (SIGSTOP/SIGCONT), take a zone down and up. A node that dies is started
again after the cache's node restart delay unless it is kept down (kill-node --keep-down, zone-down); it
rejoins with the newest topology, holding replicas. Every operation goes to the event log."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from typing import Any

from amr_emulator.controller.http import HttpError
from amr_emulator.controller.internal import InternalError, node_call, node_json
from proxy.quorum import WITNESS

log = logging.getLogger("amr_emulator.controller")

#: Seconds before the controller restarts a node that died, by timing profile (AMR replaces a lost VM).
NODE_RESTART_DELAY = {"fast": 2.0, "azure": 30.0}


class Operations:
    # --- helpers ---------------------------------------------------------------------------------
    def _need_ready(self) -> None:
        if self.state != "ready":
            raise HttpError(409, f"the cache is {self.state}")

    def _node_id(self, value: Any) -> int:
        try:
            node_id = int(value)
            node = self.topology.node(node_id)
        except (TypeError, ValueError, KeyError):
            raise HttpError(404, f"no node {value!r}") from None
        if node.state == "removed":
            raise HttpError(409, f"node {node_id} was removed from the cache (patching replaced it)")
        return node_id

    @property
    def restart_delay(self) -> float:
        delay = getattr(self.spec, "node_restart_delay", None)
        if delay is None:
            delay = NODE_RESTART_DELAY.get(self.spec.timing, 30.0)
        return float(delay)

    async def leader(self) -> tuple[int, dict]:
        """(node id, AMR.STATUS) of the cluster leader, waiting briefly for an election."""
        deadline = time.monotonic() + 5.0
        while True:
            statuses = await self.node_statuses(timeout=0.5)
            for node_id, st in statuses.items():
                if isinstance(st, dict) and (st.get("quorum") or {}).get("role") == "leader":
                    return node_id, st
            if time.monotonic() > deadline:
                raise HttpError(503, "the cache has no cluster leader (no majority of nodes answers)")
            await asyncio.sleep(0.05)

    async def start_witness(self) -> str | None:
        """A two-node cache: the controller joins the quorum as a voting witness; its address for the
        nodes (host:port), else None."""
        if len(self.topology.nodes) != 2:
            return None
        from amr_emulator.controller.witness import Witness

        def stored(topology):
            if topology.epoch > self.topology.epoch:
                self.topology = topology
                self._write_topology()
        self.witness = Witness(self.topology, stored)
        port = await self.witness.start("127.0.0.1")
        self.event("witness-started", address=f"127.0.0.1:{port}")
        return f"127.0.0.1:{port}"

    # --- planned failover ------------------------------------------------------------------------
    async def failover(self, shard: int | None = None, node: int | None = None,
                       partition: int | None = None) -> dict[str, Any]:
        self._need_ready()
        t = await self.current_topology()
        if partition is not None:
            try:
                pids = [t.partition(int(partition)).id]
            except (ValueError, KeyError):
                raise HttpError(404, f"no partition {partition!r}") from None
        elif shard is not None:
            try:
                pids = [t.shard(int(shard)).partition]
            except (ValueError, KeyError):
                raise HttpError(404, f"no shard {shard!r}") from None
        elif node is not None:
            node_id = self._node_id(node)
            pids = [p.id for p in t.partitions if t.shard(p.primary).node == node_id]
            if not pids:
                raise HttpError(409, f"node {node_id} holds no primary shard")
        else:   # a maintenance of one node: the one holding the most primaries
            count: dict[int, int] = {}
            for p in t.partitions:
                count[t.shard(p.primary).node] = count.get(t.shard(p.primary).node, 0) + 1
            busiest = max(count, key=lambda n: (count[n], -n))
            pids = [p.id for p in t.partitions if t.shard(p.primary).node == busiest]
        if not all(t.partition(pid).replicas for pid in pids):
            raise HttpError(409, "a failover needs a replica (this cache has no high availability)")
        leader, _ = await self.leader()
        self.event("failover-requested", kind="planned", partitions=pids, leader=leader)
        n = t.node(leader)
        try:
            results = await node_json(n.ip, n.port, t.internal_password, "AMR.FAILOVER",
                                      *[str(p) for p in pids], timeout=5.0 + 2.0 * len(pids))
        except InternalError as e:
            self.event("failover-failed", kind="planned", partitions=pids, error=str(e))
            raise HttpError(500, str(e)) from None
        # the leader's own "failover" events reach the log through follow_node_events
        await self.current_topology()
        self._write_state()
        return {"leader": leader, "failovers": results, "epoch": self.topology.epoch}

    # --- node lifecycle ----------------------------------------------------------------------------
    def node_exited(self, node_id: int, code: int | None) -> None:
        """Called by the node watcher when a node's proxy exits without being asked to."""
        proc = self.nodes[node_id]
        if getattr(proc, "keep_down", False) or self.state not in ("ready",):
            return
        delay = self.restart_delay
        self.event("node-restart-scheduled", node=node_id, delay_s=delay)

        async def later():
            await asyncio.sleep(delay)
            if self.state == "ready" and not proc.running and not getattr(proc, "keep_down", False):
                await self.start_node(node_id, reason="auto")
        asyncio.get_running_loop().create_task(later())

    async def start_node(self, node_id: int, reason: str = "requested") -> dict[str, Any]:
        proc = self.nodes[node_id]
        if proc.running:
            return {"node": node_id, "pid": proc.pid, "already_running": True}
        proc.keep_down = False
        proc.rejoin = True
        await self.current_topology()      # the restarted node starts from the newest topology
        self._write_topology()
        proc.cut = self._unreachable_from(node_id, self.cuts)
        await proc.start()
        self._watchers.append(asyncio.create_task(self._watch(node_id)))
        self.event("node-restarted", node=node_id, pid=proc.pid, reason=reason)
        self._write_state()
        return {"node": node_id, "pid": proc.pid}

    async def kill_node(self, node_id: int, keep_down: bool = False, reason: str = "kill-node") -> dict[str, Any]:
        proc = self.nodes[node_id]
        if not proc.running:
            raise HttpError(409, f"node {node_id} is not running")
        proc.keep_down = keep_down
        pid = proc.pid
        self.event("node-killed", node=node_id, pid=pid, signal="SIGKILL", keep_down=keep_down, reason=reason)
        proc.kill()
        await proc.proc.wait()
        return {"node": node_id, "pid": pid, "keep_down": keep_down,
                "restart_in_s": None if keep_down else self.restart_delay}

    async def restart_node(self, node_id: int) -> dict[str, Any]:
        proc = self.nodes[node_id]
        if proc.running:
            proc.keep_down = True      # the watcher must not schedule a second start
            t = self.topology
            await proc.stop(t.node(node_id).ip, t.node(node_id).port, t.internal_password)
        return await self.start_node(node_id, reason="restart-node")

    async def pause_node(self, node_id: int, seconds: float) -> dict[str, Any]:
        proc = self.nodes[node_id]
        if not proc.running:
            raise HttpError(409, f"node {node_id} is not running")
        pgid = proc.pid
        os.killpg(pgid, signal.SIGSTOP)
        self.event("node-paused", node=node_id, seconds=seconds)

        async def resume():
            await asyncio.sleep(seconds)
            try:
                os.killpg(pgid, signal.SIGCONT)
                self.event("node-resumed", node=node_id)
            except ProcessLookupError:
                pass
        asyncio.get_running_loop().create_task(resume())
        return {"node": node_id, "paused_for_s": seconds}

    async def kill_shard(self, shard_id: int) -> dict[str, Any]:
        t = await self.current_topology()
        try:
            shard = t.shard(int(shard_id))
        except (ValueError, KeyError):
            raise HttpError(404, f"no shard {shard_id!r}") from None
        n = t.node(shard.node)
        try:
            st = await node_json(n.ip, n.port, t.internal_password, "AMR.STATUS", timeout=1.0)
        except InternalError as e:
            raise HttpError(409, f"node {n.id} does not answer: {e}") from None
        pid = next((s.get("pid") for s in st.get("shards", []) if s.get("id") == shard.id), None)
        if not pid:
            raise HttpError(409, f"shard {shard.id} is not running")
        os.kill(pid, signal.SIGKILL)
        self.event("shard-killed", shard=shard.id, node=n.id, pid=pid, role=shard.role, partition=shard.partition)
        return {"shard": shard.id, "node": n.id, "pid": pid, "role": shard.role}

    async def partition(self, node_ids: list[int], from_ids: list[int] | None = None) -> dict[str, Any]:
        """A network partition between nodes `node_ids` and nodes `from_ids` (default: every other node,
        and the controller's witness of a two-node cache), until `heal`: every link between the two sides
        is cut (quorum messages, proxies' connections to the other side's shards, replication links);
        clients still reach every node. The majority side fails the cut-off primaries over; a proxy
        without the majority closes its clients after the minority write bound. Partitions add up."""
        t = self.topology
        ids = {n.id for n in t.nodes if n.state != "removed"}
        side = set(node_ids)
        other = (ids - side) if from_ids is None else set(from_ids)
        for i in side | other:
            if i not in ids:
                raise HttpError(404, f"no node {i}")
        if not side or not other or side & other:
            raise HttpError(400, "a partition needs two sides: nodes, and other nodes to cut them from")
        if from_ids is None and self.witness_address is not None:
            other.add(WITNESS)
        cuts = self.cuts | {frozenset((a, b)) for a in side for b in other}
        await self._apply_cuts(cuts)
        self.cuts = cuts
        pairs = sorted(sorted(c) for c in cuts)
        self.event("network-partition", nodes=sorted(side), cut_from=sorted(other), cuts=pairs)
        return {"partitioned": sorted(side), "from": sorted(other), "cuts": pairs}

    async def heal(self) -> dict[str, Any]:
        """End every network partition."""
        healed = sorted({m for c in self.cuts for m in c if m != WITNESS})
        await self._apply_cuts(set(), strict=False)
        self.cuts = set()
        self.event("network-healed", nodes=healed)
        return {"healed": healed}

    @staticmethod
    def _unreachable_from(node_id: int, cuts: set) -> set[int]:
        """The members a node cannot reach under `cuts` (pairs of members cut from each other)."""
        return {m for c in cuts if node_id in c for m in c if m != node_id}

    async def _apply_cuts(self, cuts: set, strict: bool = True) -> None:
        """Tell every running node which members it cannot reach (AMR.CUT)."""
        t = self.topology

        async def one(i: int) -> str | None:
            unreachable = sorted(self._unreachable_from(i, cuts))
            n = t.node(i)
            try:
                await node_call(n.ip, n.port, t.internal_password, "AMR.CUT", json.dumps(unreachable), timeout=1.0)
            except InternalError as e:
                return f"node {i}: {e}"
            return None
        # every node at once: the two sides' links go down together, as in a real partition
        running = [i for i, proc in self.nodes.items() if proc.running and t.node(i).state != "removed"]
        failed = [e for e in await asyncio.gather(*(one(i) for i in running)) if e]
        if failed and strict:
            raise HttpError(409, "; ".join(failed))

    async def slow_node(self, node_id: int, latency_ms: float) -> dict[str, Any]:
        """Every reply of the node's proxy to its clients comes `latency_ms` late (0: normal again)."""
        t = self.topology
        n = t.node(node_id)
        try:
            await node_call(n.ip, n.port, t.internal_password, "AMR.SLOW", str(latency_ms), timeout=1.0)
        except InternalError as e:
            raise HttpError(409, f"node {node_id}: {e}") from None
        self.event("node-slow", node=node_id, latency_ms=latency_ms)
        return {"node": node_id, "latency_ms": latency_ms}

    def _zone_nodes(self, zone: str) -> list[int]:
        ids = [n.id for n in self.topology.nodes if n.zone == zone and n.state != "removed"]
        if not ids:
            zones = sorted({n.zone for n in self.topology.nodes if n.zone})
            raise HttpError(404, f"no node in zone {zone!r} (zones: {', '.join(zones) or 'none'})")
        return ids

    async def zone_down(self, zone: str) -> dict[str, Any]:
        ids = self._zone_nodes(zone)
        self.event("zone-down", zone=zone, nodes=ids)
        for i in ids:
            if self.nodes[i].running:
                await self.kill_node(i, keep_down=True, reason=f"zone-down {zone}")
        return {"zone": zone, "nodes": ids}

    async def zone_up(self, zone: str) -> dict[str, Any]:
        ids = self._zone_nodes(zone)
        self.event("zone-up", zone=zone, nodes=ids)
        for i in ids:
            await self.start_node(i, reason=f"zone-up {zone}")
        return {"zone": zone, "nodes": ids}

    async def follow_node_events(self) -> None:
        """Copy what the nodes' quorum members did (elections, unplanned failovers, nodes down and up)
        into the cache's event log, as it happens."""
        seen: dict[tuple[int, int], int] = {}   # (node, pid) -> last seq copied
        interval = 0.25 if self.spec.timing == "fast" else 1.0
        while self.state in ("starting", "ready"):
            await asyncio.sleep(interval)
            t = self.topology
            for node_id, proc in list(self.nodes.items()):
                if not proc.running:
                    continue
                try:   # (a node patching just added may not be in the topology known here yet)
                    n = t.node(node_id)
                    events = await node_json(n.ip, n.port, t.internal_password, "AMR.EVENTS", timeout=0.5)
                except (KeyError, InternalError):
                    continue
                except Exception:  # noqa: BLE001 - the log must go on
                    log.exception("copying node %d's events", node_id)
                    continue
                key = (node_id, proc.pid)
                last = seen.get(key, 0)
                for e in events:
                    if e.get("seq", 0) > last:
                        last = e["seq"]
                        details = {k: v for k, v in e.items() if k not in ("operation", "seq", "time", "source")}
                        op = e["operation"]
                        if op == "elected":
                            self.elected_leader = e.get("node")
                        self.event(op if op != "elected" else "leader-elected", source="node", **details)
                seen[key] = last

    async def node_events(self) -> list[dict[str, Any]]:
        """What the nodes' quorum members did (elections, failovers), newest last."""
        t = self.topology
        out = []
        for node_id, proc in self.nodes.items():
            if proc.running:
                n = t.node(node_id)
                try:
                    out.extend(await node_json(n.ip, n.port, t.internal_password, "AMR.EVENTS", timeout=1.0))
                except InternalError:
                    pass
        return out

    # --- management API --------------------------------------------------------------------------
    def _operation_routes(self, named, prefix: str) -> None:
        h = self.http

        def body_of(body) -> dict:
            return body if isinstance(body, dict) else {}

        async def failover(match, body):
            b = body_of(body)
            return 200, await self.failover(shard=b.get("shard"), node=b.get("node"), partition=b.get("partition"))

        async def kill_node(match, body):
            self._need_ready()
            return 200, await self.kill_node(self._node_id(match["node"]), keep_down=bool(body_of(body).get("keep_down")))

        async def restart_node(match, body):
            self._need_ready()
            return 200, await self.restart_node(self._node_id(match["node"]))

        async def start_node(match, body):
            self._need_ready()
            return 200, await self.start_node(self._node_id(match["node"]))

        async def pause_node(match, body):
            self._need_ready()
            try:
                seconds = float(body_of(body).get("seconds", 5))
            except (TypeError, ValueError):
                raise HttpError(400, "seconds must be a number") from None
            return 200, await self.pause_node(self._node_id(match["node"]), seconds)

        async def kill_shard(match, body):
            self._need_ready()
            return 200, await self.kill_shard(match["shard"])

        async def zone(match, body):
            self._need_ready()
            if match["action"] == "down":
                return 200, await self.zone_down(match["zone"])
            return 200, await self.zone_up(match["zone"])

        async def partition(match, body):
            self._need_ready()
            b = body_of(body)
            nodes, others = b.get("nodes") or [], b.get("from")
            if not isinstance(nodes, list) or not (others is None or isinstance(others, list)):
                raise HttpError(400, "nodes and from are lists of node ids")
            return 200, await self.partition([self._node_id(n) for n in nodes],
                                             None if others is None else [self._node_id(n) for n in others])

        async def slow(match, body):
            self._need_ready()
            try:
                ms = float(body_of(body).get("latency_ms", 100))
            except (TypeError, ValueError):
                raise HttpError(400, "latency_ms must be a number") from None
            if not 0 <= ms <= 600000:
                raise HttpError(400, "latency_ms must be between 0 and 600000")
            return 200, await self.slow_node(self._node_id(match["node"]), ms)

        async def heal(match, body):
            self._need_ready()
            return 200, await self.heal()

        async def leader(match, body):
            node_id, st = await self.leader()
            return 200, {"leader": node_id, "term": st["quorum"]["term"], "epoch": st["epoch"]}

        async def node_events(match, body):
            return 200, await self.node_events()

        async def patch(match, body):
            version = body_of(body).get("version")
            if version is not None and (not isinstance(version, str) or not version.strip()):
                raise HttpError(400, "version must be a non-empty string")
            return 200, await self.patch(version)

        h.route("POST", prefix + r"/failover", named(failover))
        h.route("POST", prefix + r"/nodes/(?P<node>\d+)/kill", named(kill_node))
        h.route("POST", prefix + r"/nodes/(?P<node>\d+)/restart", named(restart_node))
        h.route("POST", prefix + r"/nodes/(?P<node>\d+)/start", named(start_node))
        h.route("POST", prefix + r"/nodes/(?P<node>\d+)/pause", named(pause_node))
        h.route("POST", prefix + r"/shards/(?P<shard>\d+)/kill", named(kill_shard))
        h.route("POST", prefix + r"/zones/(?P<zone>[A-Za-z0-9_-]+)/(?P<action>down|up)", named(zone))
        h.route("POST", prefix + r"/partition", named(partition))
        h.route("POST", prefix + r"/heal", named(heal))
        h.route("POST", prefix + r"/nodes/(?P<node>\d+)/slow", named(slow))
        h.route("GET", prefix + r"/leader", named(leader))
        h.route("GET", prefix + r"/node-events", named(node_events))
        h.route("POST", prefix + r"/patch", named(patch))
