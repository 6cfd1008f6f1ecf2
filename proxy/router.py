"""Routing, per clustering policy: keys -> slot -> partition -> primary shard.

The `Router` is built from one topology and this node's id, and rebuilt when a newer topology is
adopted (shard connections whose address did not change are kept). It answers, for a request's keys:
the shard to forward to, or the error Redis Cluster would send (`-MOVED`, `-CROSSSLOT`,
`-CLUSTERDOWN`), or, under the Enterprise policy, that the command is split over shards (fanout.py).

- OSS: this node is a Redis Cluster node that owns the slots of the primaries it holds; a key owned
  by another node's primary gets `-MOVED <slot> <ip>:<cluster_port>`.
- Enterprise: every key goes to its primary wherever it is; `DEL UNLINK EXISTS TOUCH MGET MSET` may span
  slots (split and merged); other multi-key commands need one slot.
- NoCluster: one partition; no slot is ever checked.
"""
from __future__ import annotations

import hashlib

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.slots import SLOTS, key_slot
from amr_emulator.topology import Topology

from .backend import Pool

#: Enterprise: multi-key commands the proxy splits per shard and merges (key step of each).
SPLIT = {"del": 1, "unlink": 1, "exists": 1, "touch": 1, "mget": 1, "mset": 2}

CLUSTERDOWN_UNSERVED = errors.CLUSTERDOWN_UNSERVED


class ShardRef:
    """A shard as the router sees it: where it is, and its shared connections (by RESP version)."""

    __slots__ = ("id", "node", "host", "port", "partition", "role", "pools", "password")

    def __init__(self, shard, host: str, password: str):
        self.id = shard.id
        self.node = shard.node
        self.host = host
        self.port = shard.port
        self.partition = shard.partition
        self.role = shard.role
        self.password = password
        # by RESP version: pools[2], pools[3]
        self.pools = [None, None, Pool(host, shard.port, password, 2), Pool(host, shard.port, password, 3)]

    @property
    def address(self) -> tuple:
        return (self.host, self.port)

    def close(self) -> None:
        for p in self.pools[2:]:
            p.close()


def node_run_id(cache: str, node_id: int) -> str:
    """A node's 40-hex Redis Cluster id, stable for a cache and node id."""
    return hashlib.sha1(f"amr-emulator:{cache}:node:{node_id}".encode()).hexdigest()


class Router:
    def __init__(self, topology: Topology, node_id: int, old: "Router | None" = None):
        self.topology = topology
        self.node_id = node_id
        self.policy = topology.policy
        self.oss = topology.policy == "oss"
        self.nocluster = topology.policy == "nocluster"
        self.split = topology.policy == "enterprise"
        password = topology.internal_password
        ips = {n.id: n.ip for n in topology.nodes}
        kept = {}
        if old is not None:
            for ref in old.shards.values():
                kept[(ref.host, ref.port)] = ref
        self.shards: dict[int, ShardRef] = {}
        for s in topology.shards:
            host = ips[s.node]
            ref = kept.pop((host, s.port), None)
            if ref is None or ref.password != password:
                ref = ShardRef(s, host, password)
            else:
                ref.id, ref.node, ref.partition, ref.role = s.id, s.node, s.partition, s.role
            self.shards[s.id] = ref
        for ref in kept.values():  # shards no longer in the topology
            ref.close()
        # every partition's primary, in partition order; this node's primaries
        self.primaries = [self.shards[p.primary] for p in topology.partitions]
        self.local_primaries = [r for r in self.primaries if r.node == node_id]
        self.default = self.local_primaries[0] if self.local_primaries else (
            self.primaries[0] if self.primaries else None)
        # keyless fan-out commands cover what this endpoint serves
        self.fanout_targets = self.local_primaries if self.oss else self.primaries
        if self.oss and not self.fanout_targets and self.primaries:
            self.fanout_targets = []
        by_partition = {p.id: self.shards[p.primary] for p in topology.partitions}
        table = topology.slot_table
        self.slot_shard: list = [None if pid is None else by_partition[pid] for pid in table]
        self.single = self.primaries[0] if self.nocluster and self.primaries else None
        nodes = {n.id: n for n in topology.nodes}
        self.moved_addr: list = [None] * SLOTS  # OSS: "ip:port" of the owning node when not this one
        if self.oss:
            for slot, ref in enumerate(self.slot_shard):
                if ref is not None and ref.node != node_id:
                    self.moved_addr[slot] = nodes[ref.node].cluster_address
        self.node_ids = {n.id: node_run_id(topology.name, n.id) for n in topology.nodes}
        # the hot path's table: the shard a single-key command goes to as is (None: MOVED or unserved)
        self.slot_local: list = [ref if self.moved_addr[slot] is None else None
                                 for slot, ref in enumerate(self.slot_shard)]

    def close(self) -> None:
        for ref in self.shards.values():
            ref.close()

    # --- routing ---------------------------------------------------------------------------------
    def shard_for_slot(self, slot: int) -> ShardRef:
        """The primary serving `slot`, or the Cluster error for it (MOVED on OSS)."""
        ref = self.slot_shard[slot]
        if ref is None:
            raise RespError(CLUSTERDOWN_UNSERVED)
        if self.oss:
            addr = self.moved_addr[slot]
            if addr is not None:
                raise RespError(errors.moved(slot, addr))
        return ref

    def shard_for_keys(self, argv: list, positions) -> ShardRef | None:
        """The shard for a request's keys; None when they span slots and the command may be split
        (Enterprise); raises CROSSSLOT / MOVED / CLUSTERDOWN."""
        if self.single is not None:
            return self.single
        slot = key_slot(argv[positions[0]])
        for p in positions[1:] if len(positions) > 1 else ():
            if key_slot(argv[p]) != slot:
                if self.split and argv[0].lower().decode("latin-1") in SPLIT:
                    return None
                raise RespError(errors.CROSSSLOT)
        return self.shard_for_slot(slot)

    def slot_of_keys(self, argv: list, positions) -> int:
        """The one slot of a request's keys (-1 under NoCluster); raises CROSSSLOT."""
        if self.single is not None:
            return -1
        slot = key_slot(argv[positions[0]])
        for p in positions[1:] if len(positions) > 1 else ():
            if key_slot(argv[p]) != slot:
                raise RespError(errors.CROSSSLOT)
        return slot

    def shard_of_key_anywhere(self, key: bytes) -> ShardRef:
        """The primary holding `key`'s slot, on whichever node (PUBLISH's channel, SCAN targets)."""
        if self.single is not None:
            return self.single
        ref = self.slot_shard[key_slot(key)]
        if ref is None:
            raise RespError(CLUSTERDOWN_UNSERVED)
        return ref
