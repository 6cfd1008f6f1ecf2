"""The Redis Cluster API of the OSS policy: CLUSTER SLOTS, SHARDS, NODES, INFO, MYID, MYSHARDID,
KEYSLOT, REPLICAS, LINKS, HELP, in Redis 7.4's formats (checked against a real `redis-server
--cluster-enabled yes` cluster).

Each node's proxy is one cluster node, addressed `ip:cluster_port` (85xx), owning the slots of the
primary shards it holds. Replica shards are not exposed (as Redis Enterprise's OSS Cluster API does
not): every node is a `master`. Node ids are stable per cache and node id.

Write subcommands (ADDSLOTS, DELSLOTS, FAILOVER, FORGET, MEET, REPLICATE, RESET, SETSLOT, ...) are
refused as subcommands the server does not know: `-ERR unknown subcommand 'X'. Try CLUSTER HELP.`;
the slot map belongs to the cache, not to clients (Redis Enterprise refuses them too).
"""
from __future__ import annotations

import hashlib
from time import time

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import Simple, Verbatim, string2ll
from amr_emulator.protocol.slots import SLOTS, key_slot

HELP = [
    "COUNTKEYSINSLOT <slot>",
    "    Return the number of keys in <slot>.",
    "GETKEYSINSLOT <slot> <count>",
    "    Return key names stored by current node in a slot.",
    "INFO",
    "    Return information about the cluster.",
    "KEYSLOT <key>",
    "    Return the hash slot for <key>.",
    "MYID",
    "    Return the node id.",
    "MYSHARDID",
    "    Return the node's shard id.",
    "NODES",
    "    Return cluster configuration seen by node. Output format:",
    "    <id> <ip:port@bus-port[,hostname]> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
    "REPLICAS <node-id>",
    "    Return <node-id> replicas.",
    "SLOTS",
    "    Return information about slots range mappings. Each range is made of:",
    "    start, end, master and replicas IP addresses, ports and ids",
    "SHARDS",
    "    Return information about slot range mappings and the nodes associated with them.",
]

WRITE_SUBCOMMANDS = frozenset([
    b"addslots", b"addslotsrange", b"bumpepoch", b"delslots", b"delslotsrange", b"failover", b"forget",
    b"flushslots", b"meet", b"replicate", b"reset", b"set-config-epoch", b"setslot", b"saveconfig",
    b"count-failure-reports",
])


def help_reply() -> list:
    return ([Simple("CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")]
            + [Simple(line) for line in HELP] + [Simple("HELP"), Simple("    Print this help.")])


def node_ranges(router) -> dict:
    """node id -> [(start, end), ...]: the contiguous slot ranges whose primary is on the node."""
    out: dict = {}
    cur = None
    start = 0
    for slot, ref in enumerate(router.slot_shard):
        owner = None if ref is None else ref.node
        if owner != cur:
            if cur is not None:
                out.setdefault(cur, []).append((start, slot - 1))
            cur, start = owner, slot
    if cur is not None:
        out.setdefault(cur, []).append((start, SLOTS - 1))
    return out


def _live_nodes(router):
    return [n for n in router.topology.nodes if n.state == "up" or n.id == router.node_id]


def _shard_id(router, node_id: int) -> str:
    return hashlib.sha1(f"amr-emulator:{router.topology.name}:shard-of-node:{node_id}".encode()).hexdigest()


def cluster_slots(router) -> list:
    ranges = node_ranges(router)
    nodes = {n.id: n for n in router.topology.nodes}
    flat = sorted((s, e, nid) for nid, rs in ranges.items() for s, e in rs)
    return [[s, e, [nodes[nid].ip.encode(), nodes[nid].cluster_port, router.node_ids[nid].encode(), {}]]
            for s, e, nid in flat]


def cluster_shards(router) -> list:
    ranges = node_ranges(router)
    out = []
    for n in _live_nodes(router):
        slots = []
        for s, e in ranges.get(n.id, ()):
            slots += [s, e]
        out.append({
            b"slots": slots,
            b"nodes": [{
                b"id": router.node_ids[n.id].encode(),
                b"port": n.cluster_port,
                b"ip": n.ip.encode(),
                b"endpoint": n.ip.encode(),
                b"role": b"master",
                b"replication-offset": 0,
                b"health": b"online",
            }],
        })
    return out


def cluster_nodes(router) -> Verbatim:
    ranges = node_ranges(router)
    epoch = router.topology.epoch
    now_ms = int(time()) * 1000
    lines = []
    for n in _live_nodes(router):
        me = n.id == router.node_id
        slots = " ".join(f"{s}-{e}" if s != e else str(s) for s, e in ranges.get(n.id, ()))
        line = (f"{router.node_ids[n.id]} {n.ip}:{n.cluster_port}@{n.cluster_port + 10000} "
                f"{'myself,master' if me else 'master'} - 0 {now_ms} {epoch} connected")
        if slots:
            line += " " + slots
        lines.append(line + "\n")
    return Verbatim("".join(lines))


def cluster_info(router) -> Verbatim:
    ranges = node_ranges(router)
    assigned = sum(e - s + 1 for rs in ranges.values() for s, e in rs)
    epoch = router.topology.epoch
    known = len(_live_nodes(router))
    fields = [
        ("cluster_state", "ok" if assigned == SLOTS else "fail"),
        ("cluster_slots_assigned", assigned),
        ("cluster_slots_ok", assigned),
        ("cluster_slots_pfail", 0),
        ("cluster_slots_fail", 0),
        ("cluster_known_nodes", known),
        ("cluster_size", len(ranges)),
        ("cluster_current_epoch", epoch),
        ("cluster_my_epoch", epoch),
        ("cluster_stats_messages_sent", 0),
        ("cluster_stats_messages_received", 0),
        ("total_cluster_links_buffer_limit_exceeded", 0),
    ]
    return Verbatim("".join(f"{k}:{v}\r\n" for k, v in fields))


def cluster_command(router, argv: list):
    """A CLUSTER subcommand answered by the proxy itself. Returns a reply value, or a
    (slot, kind, count) tuple for COUNTKEYSINSLOT / GETKEYSINSLOT, which need the slot's shard."""
    sub = argv[1].lower()
    argc = len(argv)
    if sub == b"help" and argc == 2:
        return help_reply()
    if sub in WRITE_SUBCOMMANDS:
        raise RespError(errors.unknown_subcommand(argv[1], argv[0]))
    if sub == b"slots" and argc == 2:
        return cluster_slots(router)
    if sub == b"shards" and argc == 2:
        return cluster_shards(router)
    if sub == b"nodes" and argc == 2:
        return cluster_nodes(router)
    if sub == b"info" and argc == 2:
        return cluster_info(router)
    if sub == b"myid" and argc == 2:
        return router.node_ids[router.node_id].encode()
    if sub == b"myshardid" and argc == 2:
        return _shard_id(router, router.node_id).encode()
    if sub == b"keyslot" and argc == 3:
        return key_slot(argv[2])
    if sub in (b"replicas", b"slaves") and argc == 3:
        if argv[2].decode("latin-1") not in router.node_ids.values():
            raise RespError(errors.cluster_unknown_node(argv[2]))
        return []
    if sub == b"links" and argc == 2:
        return []
    if sub == b"countkeysinslot" and argc == 3:
        slot = string2ll(argv[2])
        if slot is None:
            raise RespError(errors.NOT_INTEGER)
        if slot < 0 or slot >= SLOTS:
            raise RespError(errors.CLUSTER_INVALID_SLOT)
        return (slot, "count", 0)
    if sub == b"getkeysinslot" and argc == 4:
        slot = string2ll(argv[2])
        count = string2ll(argv[3])
        if slot is None or count is None:
            raise RespError(errors.NOT_INTEGER)
        if slot < 0 or slot >= SLOTS or count < 0:
            raise RespError(errors.CLUSTER_INVALID_SLOT_OR_COUNT)
        return (slot, "keys", count)
    raise RespError(errors.unknown_subcommand(argv[1], argv[0]))
