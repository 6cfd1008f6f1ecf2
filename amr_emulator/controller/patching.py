"""Patching (a mixin of `Controller`), as AMR's "Failover and patching" page describes it:

1. create new, up-to-date nodes to replace every node being patched (same zones; a new version that
   `status` and `INFO` show);
2. make one of the new nodes the cluster leader;
3. remove the old nodes one by one: each shard on one is migrated to the old node's new twin (a replica
   is built there by a full sync; for a primary, a planned failover to it follows), then the old shard
   is dropped; a node without shards is removed from the cluster;
4. delete the replaced nodes (their processes stop: connections routed through them see errors, others
   do not).

Every change of the topology goes through the cluster leader (`AMR.PROPOSE`, committed by a majority);
a proposal made from a topology that moved on meanwhile (an unplanned failover, say) is refused and
made again from the newer one. Each step goes to the event log.
"""
from __future__ import annotations

import asyncio
import os
import re
import time
from typing import Any, Callable

from amr_emulator.controller import addresses
from amr_emulator.controller.http import HttpError
from amr_emulator.controller.internal import InternalError, node_json
from amr_emulator.topology import Node, Partition, Shard, Topology, free_port

#: How long a migrated shard's new replica may take to sync, in seconds.
SYNC_TIMEOUT = 60.0


def next_version(version: str) -> str:
    """The version after `version`: its last number plus one (7.4.0 -> 7.4.1; 7.4.0-amr.2 -> 7.4.0-amr.3)."""
    m = re.search(r"(\d+)(\D*)$", version)
    if m is None:
        return version + ".1"
    return version[:m.start(1)] + str(int(m.group(1)) + 1) + m.group(2)


class Patching:
    async def patch(self, version: str | None = None) -> dict[str, Any]:
        self._need_ready()
        if getattr(self, "patching", False):
            raise HttpError(409, "a patch is already running")
        self.patching = True
        try:
            return await self._patch(version)
        finally:
            self.patching = False

    async def _patch(self, version: str | None) -> dict[str, Any]:
        t = await self.current_topology()
        old = [n for n in t.nodes if n.state != "removed"]
        down = [n.id for n in old if n.state != "up" or not self.nodes[n.id].running]
        if down:
            raise HttpError(409, f"node(s) {', '.join(map(str, down))} are down: patching needs every node up "
                                 f"(start them with `amr-emulator restart-node`)")
        version = version or next_version(max(n.version for n in old))
        started = time.monotonic()
        self.event("patch-started", version=version, nodes=[n.id for n in old])

        twins = await self._create_nodes(old, version)
        new_leader = await self._lead_from(list(twins.values()))

        migrated = []
        for node in old:
            # the leader is a new node (an election under load may have moved it back: move it again)
            await self._lead_from(list(twins.values()), quiet=True)
            migrated += await self._drain(node.id, twins[node.id])
            await self._lead_from(list(twins.values()), quiet=True)
            await self._remove_node(node.id)
        await asyncio.gather(*(self._delete_node(n.id) for n in old))

        seconds = round(time.monotonic() - started, 3)
        t = await self.current_topology()
        self.event("patch-completed", version=version, seconds=seconds, epoch=t.epoch,
                   replaced={str(o): n for o, n in twins.items()})
        self._write_state()
        return {"version": version, "seconds": seconds, "epoch": t.epoch, "leader": new_leader,
                "replaced": {str(o): n for o, n in twins.items()}, "migrations": migrated}

    # --- leader calls ------------------------------------------------------------------------------
    async def _leader_call(self, *args: str, timeout: float = 5.0) -> Any:
        """An AMR.* operation on the cluster leader, asked again if the leadership moved meanwhile."""
        for attempt in range(5):
            leader, _ = await self.leader()
            t = self.topology
            n = t.node(leader)
            try:
                return await node_json(n.ip, n.port, t.internal_password, *args, timeout=timeout)
            except InternalError as e:
                if "not the leader" not in str(e) or attempt == 4:
                    raise HttpError(500, f"{args[0]} on the leader (node {leader}): {e}") from None
                await asyncio.sleep(0.1)

    async def _lead_from(self, candidates: list[int], quiet: bool = False) -> int:
        """Make one of `candidates` (the new nodes) the cluster leader; its id. `quiet`: no event when one
        of them leads already."""
        for attempt in range(4):
            leader, _ = await self.leader()
            if leader in candidates:
                break
            if attempt == 3:
                raise HttpError(500, f"patching: the leadership stayed on node {leader}")
            try:
                await self._leader_call("AMR.TRANSFER", str(candidates[0]), timeout=10.0)
            except HttpError as e:
                self.event("leader-transfer-retried", error=e.message)
            quiet = False
        if not quiet:
            self.elected_leader = leader
            self.event("leader-transferred", node=leader)
        return leader

    async def _change(self, make: Callable[[Topology], Topology], what: str) -> Topology:
        """Commit `make(current topology)` through the leader; made again if the topology moved on."""
        for attempt in range(5):
            t = await self.current_topology()
            try:
                await self._leader_call("AMR.PROPOSE", str(t.epoch), make(t).to_json())
            except HttpError as e:
                if "stale proposal" not in e.message or attempt == 4:
                    raise HttpError(500, f"patching: {what}: {e.message}") from None
                continue
            return await self.current_topology()
        raise AssertionError("unreachable")

    # --- step 1: new nodes -------------------------------------------------------------------------
    async def _create_nodes(self, old: list[Node], version: str) -> dict[int, int]:
        """Start a new node for each old one (same zone), add them to the cluster; old id -> new id."""
        t = await self.current_topology()
        first = max(n.id for n in t.nodes) + 1
        placed = addresses.allocate(len(old), t.endpoint_port, first)
        new_nodes = tuple(Node(id=first + i, ip=ip, port=port, cluster_port=cport, zone=o.zone, version=version)
                          for i, (o, (ip, port, cport)) in enumerate(zip(old, placed)))
        twins = {o.id: n.id for o, n in zip(old, new_nodes)}
        proposed = t.replace(nodes=t.nodes + new_nodes).bump()
        # the new nodes start from the topology that names them, the one the leader is asked to commit
        path = os.path.join(self.dir, f"topology-patch-{proposed.epoch}.json")
        with open(path, "w") as f:
            f.write(proposed.to_json(indent=2))
        tls = None
        if self.tls:
            from amr_emulator.controller.tls import issue_server_certificate
            tls = issue_server_certificate(os.path.dirname(self.tls.ca), self.spec.name,
                                           [self.spec.host, t.endpoint_host, *(n.ip for n in t.nodes + new_nodes)],
                                           name=f"server-{first}")
        for n in new_nodes:
            self.nodes[n.id] = self._node_process(n, path, tls)
        for n in new_nodes:
            await self._start_process(n, proposed)
        await self._wait_nodes_ready(new_nodes)
        try:
            await self._change(lambda cur: cur.replace(nodes=cur.nodes + new_nodes), "adding the new nodes")
        except HttpError as e:
            for n in new_nodes:   # not part of the cluster: gone again
                proc = self.nodes.pop(n.id)
                proc.keep_down = True
                await proc.stop(n.ip, n.port, t.internal_password)
            addresses.release(n.ip for n in new_nodes)
            raise HttpError(409, f"patching could not add its new nodes ({e.message}); try again") from None
        for n in new_nodes:   # their restarts start from the cache's topology file, as every node's
            self.nodes[n.id].topology_path = self.topology_path
        await self.current_topology()
        self.event("nodes-created", nodes=[n.id for n in new_nodes], version=version,
                   ips=[n.ip for n in new_nodes], epoch=self.topology.epoch)
        self._write_state()
        return twins

    async def _wait_nodes_ready(self, nodes: tuple[Node, ...], timeout: float = 30.0) -> None:
        password = self.topology.internal_password
        deadline = time.monotonic() + timeout
        waiting = list(nodes)
        while waiting:
            for n in list(waiting):
                proc = self.nodes[n.id]
                if proc.proc is not None and proc.proc.returncode is not None:
                    raise HttpError(500, f"new node {n.id} exited with status {proc.proc.returncode} "
                                         f"(log {proc.log_path}):\n{proc.log_tail()}")
                try:
                    if (await node_json(n.ip, n.port, password, "AMR.STATUS", timeout=1.0)).get("ready"):
                        waiting.remove(n)
                except InternalError:
                    pass
            if waiting and time.monotonic() > deadline:
                raise HttpError(500, f"new node(s) {[n.id for n in waiting]} not ready after {timeout:.0f}s")
            await asyncio.sleep(0.05)

    # --- step 3: migrate shards, remove nodes -------------------------------------------------------
    async def _drain(self, node_id: int, twin: int) -> list[dict[str, Any]]:
        """Move every shard of `node_id` to `twin`: a new replica there for each (built together, by full
        syncs), a planned failover to it for each primary, then the old shards dropped."""
        started = time.monotonic()
        moving = self.topology.node_shards(node_id)
        if not moving:
            return []
        new_ids: dict[int, int] = {}   # old shard -> its new replica

        def add_replicas(t: Topology) -> Topology:
            shards, parts = list(t.shards), {p.id: p for p in t.partitions}
            sid = max(s.id for s in t.shards)
            for old in t.node_shards(node_id):
                sid += 1
                new_ids[old.id] = sid
                shards.append(Shard(id=sid, node=twin, port=free_port(), partition=old.partition, role="replica"))
                p = parts[old.partition]
                parts[p.id] = Partition(p.id, p.slots, p.primary, p.replicas + (sid,))
            return t.replace(shards=tuple(shards), partitions=tuple(parts[p.id] for p in t.partitions))
        await self._change(add_replicas, f"replicas on node {twin} of node {node_id}'s shards")
        for old in moving:
            self.event("shard-migrating", shard=old.id, partition=old.partition, role=old.role, to_node=twin,
                       new_shard=new_ids[old.id])
        await asyncio.gather(*(self._wait_synced(sid) for sid in new_ids.values()))
        synced_ms = round((time.monotonic() - started) * 1000, 1)
        pauses: dict[int, float] = {}
        for old in moving:
            if self.topology.partition(old.partition).primary == old.id:
                result = await self._failover_to(old.partition, new_ids[old.id])
                pauses[old.id] = result.get("write_pause_ms")
                await self.current_topology()

        def drop_old(t: Topology) -> Topology:
            gone = {s.id for s in t.node_shards(node_id)}
            for pid in {t.shard(s).partition for s in gone}:
                if t.partition(pid).primary in gone:
                    raise HttpError(500, f"patching: partition {pid}'s primary is still on node {node_id}")
            parts = tuple(Partition(q.id, q.slots, q.primary, tuple(r for r in q.replicas if r not in gone))
                          for q in t.partitions)
            return t.replace(shards=tuple(s for s in t.shards if s.id not in gone), partitions=parts)
        t = await self._change(drop_old, f"dropping node {node_id}'s shards")
        done = []
        for old in moving:
            result = {"partition": old.partition, "old_shard": old.id, "new_shard": new_ids[old.id], "node": twin,
                      "role": old.role, "sync_ms": synced_ms,
                      **({"write_pause_ms": pauses[old.id]} if old.id in pauses else {})}
            self.event("shard-migrated", epoch=t.epoch, **result)
            done.append(result)
        return done

    async def _failover_to(self, partition: int, shard: int) -> dict[str, Any]:
        """A planned failover to the shard, asked again if the leader did not see it up yet (a loaded node
        misses pings) or the leadership moved meanwhile."""
        for attempt in range(3):
            try:
                return (await self._leader_call("AMR.FAILOVER.TO", str(partition), str(shard), timeout=15.0))[0]
            except HttpError as e:
                if attempt == 2 or "not a live replica" not in e.message:
                    raise
                self.event("failover-retried", partition=partition, shard=shard, error=e.message)
                await asyncio.sleep(0.5)
        raise AssertionError("unreachable")

    async def _wait_synced(self, shard_id: int) -> None:
        """Until the shard (a new replica) has finished its full sync and follows its primary."""
        deadline = time.monotonic() + SYNC_TIMEOUT
        while True:
            t = self.topology
            node = t.node(t.shard(shard_id).node)
            try:
                st = await node_json(node.ip, node.port, t.internal_password, "AMR.STATUS", timeout=1.0)
                mine = next((s for s in st.get("shards", []) if s.get("id") == shard_id), None)
                if mine and mine.get("up") and mine.get("master_link_status") == "up":
                    return
            except InternalError:
                pass
            if time.monotonic() > deadline:
                raise HttpError(500, f"patching: shard {shard_id} did not sync within {SYNC_TIMEOUT:.0f}s")
            await asyncio.sleep(0.05)

    async def _remove_node(self, node_id: int) -> None:
        """Out of the cluster: the node stops serving (its proxy closes its listeners and clients)."""
        def remove(t: Topology) -> Topology:
            if t.node_shards(node_id):
                raise HttpError(500, f"patching: node {node_id} still holds shards")
            return t.replace(nodes=tuple(n.__class__(**{**n.__dict__, "state": "removed"}) if n.id == node_id
                                         else n for n in t.nodes))
        t = await self._change(remove, f"removing node {node_id}")
        proc = self.nodes[node_id]
        proc.keep_down = True   # its exit from now on is no failure to repair
        self.event("node-removed", node=node_id, epoch=t.epoch)

    async def _delete_node(self, node_id: int) -> None:
        """Delete a removed node: its process group stops."""
        n = self.topology.node(node_id)
        await self.nodes[node_id].stop(n.ip, n.port, self.topology.internal_password)
        addresses.release([n.ip])
        self.event("node-deleted", node=node_id)
        self._write_state()
