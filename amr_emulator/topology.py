"""The topology of a cache: nodes, shards, partitions, slots and the epoch that versions them.

Pure values (frozen dataclasses) and their JSON form: the controller plans the first topology, writes it
to a file and hands it to every node's proxy (`python -m proxy --topology <path.json> --node <id>`);
the proxies agree on newer ones (higher epoch) and exchange them as JSON (`AMR.TOPOLOGY`,
`AMR.TOPOLOGY.SET <json>`). Nothing here touches a socket except `free_port`, which `plan` uses only
when the caller gives no shard ports.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import math
import secrets
import socket
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable, Sequence

from amr_emulator.protocol.slots import SLOTS

POLICIES = ("oss", "enterprise", "nocluster")
ROLES = ("primary", "replica")
NODE_STATES = ("up", "down", "removed")
DEFAULT_VERSION = "7.4.0"
CLUSTER_PORT_BASE = 8500   # Redis Enterprise's node ports are 85xx
LOOPBACK_PREFIX = "127.0.1."


# Every timer of the proxies (self-healing, quorum, failover), in milliseconds, by profile.
# `azure` follows AMR's documented figures (unplanned failover in 10 to 15 s, planned under 1 s);
# `fast` is for test suites (failure detected in about 1 s).
TIMING_PROFILES: dict[str, dict[str, int]] = {
    "azure": {
        "heartbeat_ms": 500,              # leader -> followers
        "election_timeout_min_ms": 3000,  # randomized in [min, max]
        "election_timeout_max_ms": 6000,
        "node_failure_detection_ms": 10000,   # a node silent this long is declared failed
        "shard_ping_interval_ms": 1000,       # a proxy pings its shards
        "shard_failure_detection_ms": 5000,   # a shard silent this long is restarted / failed over
        "shard_restart_backoff_ms": 1000,
        "minority_write_stop_ms": 10000,      # a proxy cut from the majority stops writes after this
        "planned_failover_timeout_ms": 1000,  # catch-up bound of a planned failover
    },
    "fast": {
        "heartbeat_ms": 100,
        "election_timeout_min_ms": 300,
        "election_timeout_max_ms": 600,
        "node_failure_detection_ms": 1000,
        "shard_ping_interval_ms": 100,
        "shard_failure_detection_ms": 500,
        "shard_restart_backoff_ms": 100,
        "minority_write_stop_ms": 1000,
        "planned_failover_timeout_ms": 1000,
    },
}

# AMR's SKUs: name -> (memory in GB, vCPUs, primary shards), from the "sharding configuration" table of
# the AMR architecture page (learn.microsoft.com/azure/redis/architecture). The seeds do not carry the
# table; these figures are that page's as we know them. The shard count shapes the emulated cache; the
# memory, when the user gives no --maxmemory, is split over the primary shards as their maxmemory.
SKUS: dict[str, tuple[float, int, int]] = {
    "Balanced_B0": (0.5, 2, 1), "Balanced_B1": (1, 2, 1), "Balanced_B3": (3, 2, 2),
    "Balanced_B5": (6, 2, 2), "Balanced_B10": (12, 4, 2), "Balanced_B20": (24, 8, 6),
    "Balanced_B50": (60, 16, 12), "Balanced_B100": (120, 32, 24), "Balanced_B150": (180, 48, 48),
    "Balanced_B250": (240, 64, 48), "Balanced_B350": (360, 96, 96), "Balanced_B500": (480, 128, 96),
    "Balanced_B700": (720, 192, 192), "Balanced_B1000": (960, 256, 192),
    "MemoryOptimized_M10": (12, 2, 2), "MemoryOptimized_M20": (24, 4, 2),
    "MemoryOptimized_M50": (60, 8, 6), "MemoryOptimized_M100": (120, 16, 12),
    "MemoryOptimized_M150": (180, 24, 24), "MemoryOptimized_M250": (240, 32, 24),
    "MemoryOptimized_M350": (360, 48, 48), "MemoryOptimized_M500": (480, 64, 48),
    "MemoryOptimized_M700": (720, 96, 96), "MemoryOptimized_M1000": (960, 128, 96),
    "ComputeOptimized_X3": (3, 4, 2), "ComputeOptimized_X5": (6, 4, 2),
    "ComputeOptimized_X10": (12, 8, 6), "ComputeOptimized_X20": (24, 16, 12),
    "ComputeOptimized_X50": (60, 32, 24), "ComputeOptimized_X100": (120, 64, 48),
    "ComputeOptimized_X150": (180, 96, 96), "ComputeOptimized_X250": (240, 128, 96),
    "ComputeOptimized_X350": (360, 192, 192), "ComputeOptimized_X500": (480, 256, 192),
    "ComputeOptimized_X700": (720, 384, 384),
}


def sku_lookup(sku: str) -> tuple[str, float, int, int]:
    """(canonical name, memory GB, vCPUs, primary shards) of an SKU: `Balanced_B10`, `B10` or `b10`."""
    wanted = sku.strip().lower()
    for name, spec in SKUS.items():
        if wanted in (name.lower(), name.split("_", 1)[1].lower()):
            return (name, *spec)
    raise ValueError(f"unknown SKU {sku!r} (known: {', '.join(SKUS)})")


@dataclass(frozen=True)
class Timing:
    profile: str
    timers: dict[str, int]

    @classmethod
    def named(cls, profile: str, **overrides: int) -> "Timing":
        if profile not in TIMING_PROFILES:
            raise ValueError(f"unknown timing profile {profile!r} (known: {', '.join(TIMING_PROFILES)})")
        timers = dict(TIMING_PROFILES[profile])
        for key, value in overrides.items():
            if key not in timers:
                raise ValueError(f"unknown timer {key!r}")
            timers[key] = int(value)
        return cls(profile, timers)

    def __getitem__(self, name: str) -> int:
        return self.timers[name]


@dataclass(frozen=True)
class AccessKeys:
    primary: str
    secondary: str | None = None

    def accepts(self, key: str) -> bool:
        return key == self.primary or (self.secondary is not None and key == self.secondary)


@dataclass(frozen=True)
class Node:
    id: int
    ip: str
    port: int           # node endpoint (the cache's port on the node's own IP)
    cluster_port: int   # OSS cluster port (85xx): what CLUSTER SLOTS and -MOVED name
    zone: str | None = None
    version: str = DEFAULT_VERSION
    state: str = "up"

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def cluster_address(self) -> str:
        return f"{self.ip}:{self.cluster_port}"


@dataclass(frozen=True)
class Shard:
    id: int
    node: int
    port: int           # on the node's IP
    partition: int
    role: str           # 'primary' | 'replica'


@dataclass(frozen=True)
class Partition:
    id: int
    slots: tuple[tuple[int, int], ...]   # inclusive (start, end) ranges
    primary: int                         # shard id
    replicas: tuple[int, ...] = ()       # shard ids

    @property
    def slot_count(self) -> int:
        return sum(end - start + 1 for start, end in self.slots)

    def owns(self, slot: int) -> bool:
        return any(start <= slot <= end for start, end in self.slots)


@dataclass(frozen=True)
class Topology:
    name: str
    policy: str
    epoch: int
    endpoint_host: str
    endpoint_port: int
    internal_password: str
    access_keys: AccessKeys | None
    timing: Timing
    nodes: tuple[Node, ...]
    shards: tuple[Shard, ...]
    partitions: tuple[Partition, ...]
    leader: int | None = None
    shard_config: dict[str, str] = field(default_factory=dict)  # CONFIG settings every shard starts with

    # --- lookups -------------------------------------------------------------------------------

    def node(self, node_id: int) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(f"no node {node_id}")

    def shard(self, shard_id: int) -> Shard:
        for shard in self.shards:
            if shard.id == shard_id:
                return shard
        raise KeyError(f"no shard {shard_id}")

    def partition(self, partition_id: int) -> Partition:
        for partition in self.partitions:
            if partition.id == partition_id:
                return partition
        raise KeyError(f"no partition {partition_id}")

    def node_shards(self, node_id: int) -> tuple[Shard, ...]:
        return tuple(s for s in self.shards if s.node == node_id)

    def primary_shard(self, partition_id: int) -> Shard:
        return self.shard(self.partition(partition_id).primary)

    def primary_node(self, partition_id: int) -> Node:
        return self.node(self.primary_shard(partition_id).node)

    def replica_shards(self, partition_id: int) -> tuple[Shard, ...]:
        return tuple(self.shard(s) for s in self.partition(partition_id).replicas)

    @cached_property
    def slot_table(self) -> tuple[int | None, ...]:
        """Partition id of every slot (None for a slot no partition serves)."""
        table: list[int | None] = [None] * SLOTS
        for partition in self.partitions:
            for start, end in partition.slots:
                table[start:end + 1] = [partition.id] * (end - start + 1)
        return tuple(table)

    def partition_for_slot(self, slot: int) -> Partition | None:
        pid = self.slot_table[slot]
        return None if pid is None else self.partition(pid)

    def unserved_slots(self) -> list[tuple[int, int]]:
        """Slot ranges no partition serves (empty when every slot is served)."""
        ranges, start = [], None
        for slot, pid in enumerate(self.slot_table):
            if pid is None and start is None:
                start = slot
            elif pid is not None and start is not None:
                ranges.append((start, slot - 1))
                start = None
        if start is not None:
            ranges.append((start, SLOTS - 1))
        return ranges

    def live_nodes(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.state == "up")

    # --- changes (each returns a new value; `bump` moves to the next epoch) -------------------

    def replace(self, **changes: Any) -> "Topology":
        return dataclasses.replace(self, **changes)

    def bump(self, **changes: Any) -> "Topology":
        return dataclasses.replace(self, epoch=self.epoch + 1, **changes)

    # --- JSON ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "policy": self.policy,
            "epoch": self.epoch,
            "endpoint_host": self.endpoint_host,
            "endpoint_port": self.endpoint_port,
            "internal_password": self.internal_password,
            "access_keys": None if self.access_keys is None else {
                "primary": self.access_keys.primary, "secondary": self.access_keys.secondary},
            "timing": {"profile": self.timing.profile, "timers": dict(self.timing.timers)},
            "nodes": [dataclasses.asdict(n) for n in self.nodes],
            "shards": [dataclasses.asdict(s) for s in self.shards],
            "partitions": [{"id": p.id, "slots": [list(r) for r in p.slots], "primary": p.primary,
                            "replicas": list(p.replicas)} for p in self.partitions],
            "leader": self.leader,
            "shard_config": dict(self.shard_config),
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=indent is not None)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Topology":
        keys = d.get("access_keys")
        return cls(
            name=d["name"],
            policy=d["policy"],
            epoch=int(d["epoch"]),
            endpoint_host=d["endpoint_host"],
            endpoint_port=int(d["endpoint_port"]),
            internal_password=d["internal_password"],
            access_keys=None if keys is None else AccessKeys(keys["primary"], keys.get("secondary")),
            timing=Timing(d["timing"]["profile"], {k: int(v) for k, v in d["timing"]["timers"].items()}),
            nodes=tuple(Node(**n) for n in d["nodes"]),
            shards=tuple(Shard(**s) for s in d["shards"]),
            partitions=tuple(Partition(id=p["id"], slots=tuple((int(a), int(b)) for a, b in p["slots"]),
                                       primary=p["primary"], replicas=tuple(p.get("replicas", ())))
                             for p in d["partitions"]),
            leader=d.get("leader"),
            shard_config={str(k): str(v) for k, v in (d.get("shard_config") or {}).items()},
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "Topology":
        return cls.from_dict(json.loads(text))

    def validate(self) -> None:
        """Raise ValueError if the topology is inconsistent."""
        if self.policy not in POLICIES:
            raise ValueError(f"unknown policy {self.policy!r}")
        node_ids = {n.id for n in self.nodes}
        if len(node_ids) != len(self.nodes):
            raise ValueError("duplicate node ids")
        shard_ids = {s.id for s in self.shards}
        if len(shard_ids) != len(self.shards):
            raise ValueError("duplicate shard ids")
        seen: set[int] = set()
        for p in self.partitions:
            shard = self.shard(p.primary)
            if shard.role != "primary" or shard.partition != p.id:
                raise ValueError(f"partition {p.id}: shard {p.primary} is not its primary")
            for r in p.replicas:
                replica = self.shard(r)
                if replica.role != "replica" or replica.partition != p.id:
                    raise ValueError(f"partition {p.id}: shard {r} is not its replica")
                if replica.node == shard.node:
                    raise ValueError(f"partition {p.id}: primary and replica on node {shard.node}")
            for start, end in p.slots:
                if not 0 <= start <= end < SLOTS:
                    raise ValueError(f"partition {p.id}: bad slot range {start}-{end}")
                span = set(range(start, end + 1))
                if span & seen:
                    raise ValueError(f"partition {p.id}: slots {start}-{end} overlap another partition")
                seen |= span
        for s in self.shards:
            if s.node not in node_ids:
                raise ValueError(f"shard {s.id} on unknown node {s.node}")
        if self.leader is not None and self.leader not in node_ids:
            raise ValueError(f"leader {self.leader} is not a node")


# --- planning the first topology ---------------------------------------------------------------

def split_slots(count: int) -> list[tuple[int, int]]:
    """Redis's even split of the 16384 slots over `count` primaries (as `redis-cli --cluster create`)."""
    if count < 1:
        raise ValueError("at least one partition is needed")
    per = SLOTS / count
    ranges, first, cursor = [], 0, 0.0
    for i in range(count):
        last = math.floor(cursor + per - 1 + 0.5)
        if last > SLOTS or i == count - 1:
            last = SLOTS - 1
        if last < first:
            last = first
        ranges.append((first, last))
        first = last + 1
        cursor += per
    return ranges


def generate_key() -> str:
    """An access key shaped like AMR's: 32 random bytes, base64 (44 characters)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def plan(name: str = "amr", *, policy: str = "oss", nodes: int = 3, shards: int | None = None,
         sku: str | None = None, ha: bool = True, zones: Sequence[str] | None = None,
         host: str = "127.0.0.1", port: int = 10000, timing: str | Timing = "azure",
         access_keys: AccessKeys | None | str = "generate", internal_password: str | None = None,
         first_ip: int = 1, node_ips: Sequence[str] | None = None, node_ports: Sequence[int] | None = None,
         cluster_ports: Sequence[int] | None = None, shard_ports: Iterable[int] | None = None,
         version: str = DEFAULT_VERSION, shard_config: dict[str, str] | None = None,
         maxmemory: int | None = None) -> Topology:
    """The first topology (epoch 1) of a cache.

    - `nodes` nodes with IPs 127.0.1.<first_ip + id> (or `node_ips`), node port = `port`, cluster
      ports 8500 + id; on a host without per-node loopback IPs, pass node_ips=["127.0.0.1"]*n with
      distinct `node_ports` and `cluster_ports`.
    - `shards` primary shards (default 3, or the SKU's count); NoCluster has a single partition.
    - HA: one replica per partition on another node (in another zone when there are zones).
    - `access_keys`: "generate" (default: new primary and secondary keys), None (no AUTH), or keys.
    - `maxmemory`: the cache's memory in bytes (default: the SKU's, else none), split evenly over the
      primary shards as every shard's `maxmemory`.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown clustering policy {policy!r} (one of {', '.join(POLICIES)})")
    if sku is not None:
        _, memory_gb, _, sku_shards = sku_lookup(sku)
        if shards is None:
            shards = sku_shards
        if maxmemory is None:
            maxmemory = int(memory_gb * 1024 ** 3)
    if shards is None:
        shards = 3
    if policy == "nocluster":
        shards = 1
    if maxmemory is not None and shards >= 1:
        shard_config = {**(shard_config or {}), "maxmemory": str(max(1, maxmemory // shards))}
    if nodes < 1:
        raise ValueError("a cache needs at least one node")
    if shards < 1:
        raise ValueError("a cache needs at least one shard")
    if ha and nodes < 2:
        raise ValueError("high availability needs at least two nodes (or no HA)")
    if zones is not None:
        zones = [str(z) for z in zones]
        if not zones:
            zones = None

    ips = list(node_ips) if node_ips is not None else [f"{LOOPBACK_PREFIX}{first_ip + i}" for i in range(nodes)]
    nports = list(node_ports) if node_ports is not None else [port] * nodes
    cports = list(cluster_ports) if cluster_ports is not None else [CLUSTER_PORT_BASE + i for i in range(nodes)]
    if not (len(ips) == len(nports) == len(cports) == nodes):
        raise ValueError("node_ips, node_ports and cluster_ports need one entry per node")
    node_list = tuple(Node(id=i, ip=ips[i], port=nports[i], cluster_port=cports[i],
                           zone=None if zones is None else zones[i % len(zones)], version=version)
                      for i in range(nodes))

    ports = iter(shard_ports) if shard_ports is not None else None

    def next_port(node: Node) -> int:
        if ports is None:
            return free_port("127.0.0.1")
        return next(ports)

    shard_list: list[Shard] = []
    partitions: list[Partition] = []
    ranges = split_slots(shards)
    for pid in range(shards):
        pnode = node_list[pid % nodes]
        shard_list.append(Shard(id=pid, node=pnode.id, port=next_port(pnode), partition=pid, role="primary"))
    for pid in range(shards):
        replicas: tuple[int, ...] = ()
        if ha:
            pnode = node_list[pid % nodes]
            rnode = _replica_node(node_list, pnode)
            sid = shards + pid
            shard_list.append(Shard(id=sid, node=rnode.id, port=next_port(rnode), partition=pid,
                                    role="replica"))
            replicas = (sid,)
        partitions.append(Partition(id=pid, slots=(ranges[pid],), primary=pid, replicas=replicas))

    if access_keys == "generate":
        keys: AccessKeys | None = AccessKeys(generate_key(), generate_key())
    elif isinstance(access_keys, str):
        keys = AccessKeys(access_keys, generate_key())
    else:
        keys = access_keys
    topology = Topology(
        name=name, policy=policy, epoch=1, endpoint_host=host, endpoint_port=port,
        internal_password=internal_password or secrets.token_hex(16), access_keys=keys,
        timing=timing if isinstance(timing, Timing) else Timing.named(timing),
        nodes=node_list, shards=tuple(shard_list), partitions=tuple(partitions), leader=0,
        shard_config=dict(shard_config or {}))
    topology.validate()
    return topology


def _replica_node(nodes: tuple[Node, ...], primary: Node) -> Node:
    """The next node after the primary's (cyclically) in another zone, else simply another node."""
    n = len(nodes)
    order = [nodes[(primary.id + k) % n] for k in range(1, n)]
    for node in order:
        if primary.zone is None or node.zone != primary.zone:
            return node
    return order[0]
