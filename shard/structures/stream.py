"""The stream value (t_stream.c): entries ordered by ID, plus consumer groups.

An ID `<ms>-<seq>` (two unsigned 64-bit numbers) is kept as one Python int, `ms << 64 | seq`,
so IDs compare as Redis compares them and cost one object each. `format_id` / `MAX_ID` convert.

Fields of `Stream` (what an RDB writer needs; Redis's names in brackets):

| field | meaning |
| --- | --- |
| `entries` | dict id -> tuple (field1, value1, field2, value2, ...) of the live entries, in ID order |
| `last_id` | the greatest ID ever added or set by XSETID [last_id] |
| `first_id` | the first live entry's ID, 0 when empty [first_id] |
| `max_deleted_entry_id` | the greatest ID removed by XDEL (or set by XSETID) [max_deleted_entry_id] |
| `entries_added` | entries ever added [entries_added] |
| `groups` | dict name -> ConsumerGroup [cgroups]; listed in name (memcmp) order |
| `nodes` | the macro nodes Redis would have (see below) |

`len(stream)` is the number of live entries [length]. `ids()` lists their IDs in order.

XADD only ever appends a greater ID, so a plain dict keeps the entries in ID order; `_ids` (a list,
live from index `_head`) holds the same IDs for bisection. Trimming from the head moves `_head`
(the list is compacted now and then); XDEL in the middle deletes from the list.

ConsumerGroup: `last_id` [last_id], `entries_read` (-1 when unknown) [entries_read], `pel`
(SortedDict id -> Nack) [pel], `consumers` (dict name -> Consumer) [consumers].
Consumer: `name`, `seen_time` and `active_time` (ms since the epoch, active_time -1 when never
active) [seen_time, active_time], `pel` (SortedDict id -> the same Nack objects as the group's).
Nack: `consumer` (a Consumer, or None for a moment during XCLAIM FORCE), `delivery_time` (ms),
`delivery_count`.

The RDB codec's frozen `Stream` (amr_emulator.protocol.rdb.model) converts both ways:
`from_rdb_stream(codec_stream)` builds one (the file's macro nodes kept as they were: each node's
master ID, master fields, live and deleted counts, last ID and listpack size, so XINFO STREAM and
later trims and appends see what Redis would after loading the same file; a codec stream without a
node layout gets fresh nodes, as Redis lays out a new stream), and `to_rdb_stream()` gives the codec
value (entries in ID order, the fields above, groups and consumers in name order, PELs in ID order,
and the node layout: the writer writes the live entries of each node under the node's master ID;
the deleted entries' contents are not kept here, so it writes stand-ins flagged deleted of the same
number and total size, and Redis loading the node holds one of the size its own would have).

Macro nodes. Redis stores a stream as a radix tree of listpacks ("macro nodes") of at most
stream-node-max-entries entries (live or deleted) and stream-node-max-bytes bytes. Approximate
trimming (`MAXLEN ~`, `MINID ~`) only removes whole nodes, and XINFO shows the tree's size, so the
node boundaries are visible. `nodes` reproduces them without the listpacks: one `Node` per macro
node, in ID order, with its master ID (the first ID appended to it), its live and deleted counts,
the ID appended last, its master fields and the bytes its listpack would take (computed with
listpack's encoding sizes, so that a node closes exactly when Redis's would).
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right

from sortedcontainers import SortedDict

from amr_emulator.protocol.rdb import model as rdb
from amr_emulator.protocol.resp import string2ll

from .listpack import lp_entry_size, lp_int_size

SEQ_MASK = (1 << 64) - 1
MAX_ID = (1 << 128) - 1
U64_MAX = SEQ_MASK


def format_id(i: int) -> bytes:
    return b"%d-%d" % (i >> 64, i & SEQ_MASK)


def make_id(ms: int, seq: int) -> int:
    return ms << 64 | seq


# --- listpack sizes (only what macro nodes need) ----------------------------------------------------

_lp_int = lp_int_size     # bytes of a listpack integer element, back-length included
_lp_str = lp_entry_size   # bytes of a listpack element holding a string


def _i64(v: int) -> int:
    """A difference of two uint64 as C stores it in an int64 (wrapping)."""
    return ((v + (1 << 63)) & SEQ_MASK) - (1 << 63)


class Node:
    """One macro node of Redis's radix tree (see the module docstring)."""

    __slots__ = ("master", "count", "deleted", "last", "fields", "body")

    def __init__(self, master: int, fields: tuple):
        self.master = master
        self.count = 0
        self.deleted = 0
        self.last = master
        self.fields = fields  # the master entry's field names
        # every listpack element but the count and deleted counters: header and terminator (7),
        # num-fields, the master fields, the master entry's terminating 0
        self.body = 7 + _lp_int(len(fields)) + sum(map(_lp_str, fields)) + 2

    def lp_bytes(self) -> int:
        count, deleted = self.count, self.deleted
        if count <= 127 and deleted <= 127:
            return self.body + 4
        return self.body + _lp_int(count) + _lp_int(deleted)


class Nack:
    __slots__ = ("consumer", "delivery_time", "delivery_count")

    def __init__(self, consumer, delivery_time: int, delivery_count: int = 1):
        self.consumer = consumer
        self.delivery_time = delivery_time
        self.delivery_count = delivery_count


class Consumer:
    __slots__ = ("name", "seen_time", "active_time", "pel")

    def __init__(self, name: bytes, now: int):
        self.name = name
        self.seen_time = now
        self.active_time = -1
        self.pel = SortedDict()


class ConsumerGroup:
    __slots__ = ("last_id", "entries_read", "pel", "consumers")

    def __init__(self, last_id: int, entries_read: int):
        self.last_id = last_id
        self.entries_read = entries_read  # -1: unknown (SCG_INVALID_ENTRIES_READ)
        self.pel = SortedDict()
        self.consumers: dict = {}

    def create_consumer(self, name: bytes, now: int) -> Consumer | None:
        """A new consumer, or None if one of that name exists."""
        if name in self.consumers:
            return None
        c = self.consumers[name] = Consumer(name, now)
        return c

    def delete_consumer(self, consumer: Consumer) -> int:
        """Remove a consumer and its pending entries from the group PEL; the number it had."""
        n = len(consumer.pel)
        pel = self.pel
        for i in consumer.pel:
            pel.pop(i, None)
        del self.consumers[consumer.name]
        return n


class Stream:
    __slots__ = ("entries", "_ids", "_head", "nodes", "node_keys", "last_id", "first_id",
                 "max_deleted_entry_id", "entries_added", "groups")

    TYPE_NAME = b"stream"
    encoding = b"stream"

    def __init__(self):
        self.entries: dict = {}
        self._ids: list = []
        self._head = 0
        self.nodes: list[Node] = []
        self.node_keys: list[int] = []  # the master IDs of `nodes`, for bisection
        self.last_id = 0
        self.first_id = 0
        self.max_deleted_entry_id = 0
        self.entries_added = 0
        self.groups: dict = {}

    def __len__(self) -> int:
        return len(self.entries)

    # --- adding --------------------------------------------------------------------------------
    def append(self, i: int, fv: tuple, total_len: int, max_entries: int, max_bytes: int) -> None:
        """streamAppendItem with an ID already checked to be greater than last_id. `fv` is the
        flat (field, value, ...) tuple, `total_len` the sum of their lengths."""
        nodes = self.nodes
        n = len(fv)
        node = nodes[-1] if nodes else None
        if node is not None:
            if max_bytes == 0 or max_bytes > 0x3FFFFFFF:
                max_bytes = 0x3FFFFFFF  # STREAM_LISTPACK_MAX_SIZE
            if node.lp_bytes() + total_len >= max_bytes:
                node = None
            elif max_entries and node.count + node.deleted >= max_entries:
                node = None
        if node is None:
            node = Node(i, fv[0::2])
            nodes.append(node)
            self.node_keys.append(i)
            same = True
        elif n == 2:
            mf = node.fields
            same = len(mf) == 1 and mf[0] == fv[0]
        else:
            same = node.fields == fv[0::2]
        node.count += 1
        # the entry: flags, ms and seq deltas, [num-fields, fields], values, lp-count
        master = node.master
        d = (i >> 64) - (master >> 64)
        size = 4 if 0 <= d <= 127 else 2 + _lp_int(_i64(d))
        d = (i & SEQ_MASK) - (master & SEQ_MASK)
        size += 2 if 0 <= d <= 127 else _lp_int(_i64(d))
        if n == 2:
            size += _lp_str(fv[1])
        else:
            size += sum(map(_lp_str, fv[1::2]))
        numfields = n >> 1
        if same:
            size += 2 if numfields < 125 else _lp_int(numfields + 3)
        else:
            size += _lp_int(numfields) + sum(map(_lp_str, fv[0::2])) + _lp_int(numfields * 2 + 4)
        node.body += size
        node.last = i
        self.entries[i] = fv
        self._ids.append(i)
        self.entries_added += 1
        self.last_id = i
        if len(self.entries) == 1:
            self.first_id = i

    # --- removing ------------------------------------------------------------------------------
    def _node_index(self, i: int) -> int:
        return bisect_right(self.node_keys, i) - 1

    def _drop_node(self, k: int) -> None:
        del self.nodes[k]
        del self.node_keys[k]

    def delete(self, i: int) -> bool:
        """Remove one live entry (XDEL's streamDeleteItem); False if there is none with that ID."""
        if self.entries.pop(i, None) is None:
            return False
        ids = self._ids
        pos = bisect_left(ids, i, self._head)
        if pos == self._head:
            self._advance(1)
        else:
            del ids[pos]
        k = self._node_index(i)
        node = self.nodes[k]
        if node.count == 1:
            self._drop_node(k)
        else:
            node.count -= 1
            node.deleted += 1
        return True

    def _advance(self, n: int) -> None:
        """Forget the first n live IDs of `_ids` (their entries are gone)."""
        self._head += n
        ids = self._ids
        if self._head >= len(ids):
            ids.clear()
            self._head = 0
        elif self._head > 1024 and self._head * 2 > len(ids):
            del ids[:self._head]
            self._head = 0

    def _remove_positions(self, lo: int, hi: int) -> int:
        """Remove the live entries at _ids[lo:hi]."""
        ids = self._ids
        entries = self.entries
        if hi - lo == len(entries):
            entries.clear()
        else:
            for k in range(lo, hi):
                del entries[ids[k]]
        if lo == self._head:
            self._advance(hi - lo)
        else:
            del ids[lo:hi]
        return hi - lo

    def _pos(self, i: int) -> int:
        return bisect_left(self._ids, i, self._head)

    def trim(self, maxlen: int | None, minid: int | None, approx: bool, limit: int) -> int:
        """streamTrim: by length (maxlen) or by ID (minid); approx removes whole nodes only;
        limit (0: none) caps the entries removed. Returns the number removed."""
        if maxlen is None and minid is None:
            return 0
        deleted = 0
        entries = self.entries
        nodes = self.nodes
        while nodes:
            if maxlen is not None and len(entries) <= maxlen:
                break
            node = nodes[0]
            n = node.count
            if limit and deleted + n > limit:
                break
            if maxlen is not None:
                remove_node = len(entries) - n >= maxlen
            else:
                remove_node = node.last < minid
            if remove_node:
                # the node's live entries are the first n
                self._remove_positions(self._head, self._head + n)
                self._drop_node(0)
                deleted += n
                continue
            if approx:
                break
            # trim inside the node, entry by entry, then stop
            if maxlen is not None:
                k = len(entries) - maxlen  # fewer than n
            else:
                k = min(n, self._pos(minid) - self._head)
            self._remove_positions(self._head, self._head + k)
            node.count -= k
            node.deleted += k
            deleted += k
            break
        if deleted:
            self.fix_first_id()
        return deleted

    def fix_first_id(self) -> None:
        self.first_id = self._ids[self._head] if self.entries else 0

    # --- reading -------------------------------------------------------------------------------
    def ids(self) -> list:
        return self._ids[self._head:]

    def first_live_id(self) -> int:
        """The first live entry's ID (0 when empty)."""
        return self._ids[self._head] if self.entries else 0

    def last_valid_id(self) -> int:
        """The last live entry's ID (0 when empty)."""
        return self._ids[-1] if self.entries else 0

    def range(self, start: int, end: int, count: int = 0, rev: bool = False) -> list:
        """The (id, fields) of live entries with start <= id <= end, at most `count` (0: all)."""
        if start > end or not self.entries:
            return []
        ids = self._ids
        entries = self.entries
        lo = bisect_left(ids, start, self._head)
        hi = bisect_right(ids, end, lo)
        if count and hi - lo > count:
            if rev:
                lo = hi - count
            else:
                hi = lo + count
        if rev:
            return [(i, entries[i]) for i in reversed(ids[lo:hi])]
        return [(i, entries[i]) for i in ids[lo:hi]]

    def tree_size(self) -> tuple[int, int]:
        """(radix-tree-keys, radix-tree-nodes): the keys and nodes of Redis's rax of macro nodes
        (keys are the 16-byte big-endian master IDs; the node count of a compressed radix tree)."""
        keys = [k.to_bytes(16, "big") for k in self.node_keys]
        if not keys:
            return 0, 1
        return len(keys), _rax_nodes(keys, 0, len(keys), 0)

    # --- consumer groups -----------------------------------------------------------------------
    def has_tombstones_in(self, start: int, end: int = MAX_ID) -> bool:
        """streamRangeHasTombstones."""
        mdel = self.max_deleted_entry_id
        if not self.entries or mdel == 0:
            return False
        if self.first_id > mdel:
            return False
        return start <= mdel <= end

    def estimate_distance(self, i: int) -> int:
        """streamEstimateDistanceFromFirstEverEntry; -1 when unknown."""
        if not self.entries_added:
            return 0
        n = len(self.entries)
        if not n and i <= self.last_id:
            return self.entries_added
        if i == self.last_id:
            return self.entries_added
        if i > self.last_id:
            return -1
        mdel = self.max_deleted_entry_id
        if mdel == 0 or mdel < self.first_id:
            if i < self.first_id:
                return self.entries_added - n
            if i == self.first_id:
                return self.entries_added - n + 1
        return -1

    def group_lag(self, g: ConsumerGroup) -> int | None:
        """streamReplyWithCGLag: the entries not yet delivered to the group, None if unknown."""
        if not self.entries_added:
            return 0
        if g.entries_read != -1 and not self.has_tombstones_in(g.last_id):
            return self.entries_added - g.entries_read
        er = self.estimate_distance(g.last_id)
        if er != -1:
            return self.entries_added - er
        return None

    # --- copies ----------------------------------------------------------------------------------
    def copy(self) -> "Stream":
        """streamDup: entries, nodes, metadata, and the groups with their PELs and consumers."""
        s = Stream()
        s.entries = self.entries.copy()
        s._ids = self.ids()
        for node in self.nodes:
            n = Node.__new__(Node)
            n.master, n.count, n.deleted, n.last, n.fields, n.body = (
                node.master, node.count, node.deleted, node.last, node.fields, node.body)
            s.nodes.append(n)
        s.node_keys = list(self.node_keys)
        s.last_id = self.last_id
        s.first_id = self.first_id
        s.max_deleted_entry_id = self.max_deleted_entry_id
        s.entries_added = self.entries_added
        for name, g in self.groups.items():
            ng = ConsumerGroup(g.last_id, g.entries_read)
            for cname, cons in g.consumers.items():
                nc = Consumer(cname, cons.seen_time)
                nc.active_time = cons.active_time
                ng.consumers[cname] = nc
            for i, nack in g.pel.items():
                owner = ng.consumers[nack.consumer.name]
                nn = Nack(owner, nack.delivery_time, nack.delivery_count)
                ng.pel[i] = nn
                owner.pel[i] = nn
            s.groups[name] = ng
        return s

    def memory_usage(self) -> int:
        """An estimate of the bytes Redis would use (MEMORY USAGE): the listpacks, the tree, the
        groups."""
        total = 16 + 80  # robj + stream struct
        for node in self.nodes:
            total += node.lp_bytes() + 48
        for name, g in self.groups.items():
            total += 64 + len(name) + len(g.pel) * 48
            for cname in g.consumers:
                total += 64 + len(cname)
        return total

    def to_rdb_stream(self) -> "rdb.Stream":
        """The codec's value of this stream (see the module docstring)."""
        entries = [(i >> 64, i & SEQ_MASK, list(fv)) for i, fv in self.entries.items()]
        groups = []
        for name, g in sorted(self.groups.items()):
            pending = tuple(rdb.StreamPendingEntry(_pair(i), nack.consumer.name, nack.delivery_time,
                                                   nack.delivery_count) for i, nack in g.pel.items())
            consumers = tuple(rdb.StreamConsumer(cname, c.seen_time, c.active_time, tuple(map(_pair, c.pel)))
                              for cname, c in sorted(g.consumers.items()))
            groups.append(rdb.StreamGroup(name, _pair(g.last_id), g.entries_read, pending, consumers))
        nodes = tuple(rdb.StreamNode(_pair(n.master), n.fields, n.count, n.deleted, _pair(n.last), n.lp_bytes())
                      for n in self.nodes)
        return rdb.Stream(entries, len(entries), _pair(self.last_id), _pair(self.first_id),
                          _pair(self.max_deleted_entry_id), self.entries_added, tuple(groups), nodes)


def _rax_nodes(keys: list, lo: int, hi: int, depth: int) -> int:
    """Nodes of the compressed radix tree holding keys[lo:hi] (sorted, same length) below `depth`."""
    if hi - lo == 1:
        return 1 if depth == len(keys[lo]) else 2  # a compressed node for the rest, and the key node
    first, last = keys[lo], keys[hi - 1]
    end = len(first)
    d = depth
    while d < end and first[d] == last[d]:
        d += 1
    if d == end:  # duplicate keys cannot happen
        return 1
    n = 1 if d > depth else 0  # a compressed node for the common part
    n += 1  # the branching node
    i = lo
    while i < hi:
        b = keys[i][d]
        j = i + 1
        while j < hi and keys[j][d] == b:
            j += 1
        n += _rax_nodes(keys, i, j, d + 1)
        i = j
    return n


# --- ID parsing (streamGenericParseIDOrReply) -------------------------------------------------------

_SPACE = b" \t\n\v\f\r"


def _strtoull(b: bytes) -> int | None:
    """string2ull: strict string2ll first, then strtoull's laxer form (spaces, sign, zeros)."""
    v = string2ll(b)
    if v is not None:
        return v if v >= 0 else None
    s = b.lstrip(_SPACE)
    neg = False
    if s[:1] in (b"+", b"-"):
        neg = s[:1] == b"-"
        s = s[1:]
    if not s or not s.isdigit():
        return None
    v = int(s)
    if v > U64_MAX:
        return None
    return (-v) & U64_MAX if neg else v


def parse_id(b: bytes, missing_seq: int = 0, strict: bool = False, allow_auto_seq: bool = False):
    """An ID argument: its int, or None if invalid. With allow_auto_seq, `<ms>-*` gives
    (ms << 64, False) and every other valid form (id, True)."""
    if len(b) > 127:
        return None
    if b"\0" in b:
        b = b[:b.index(b"\0")]
    if b == b"-":
        if strict:
            return None
        return (0, True) if allow_auto_seq else 0
    if b == b"+":
        if strict:
            return None
        return (MAX_ID, True) if allow_auto_seq else MAX_ID
    ms_part, dash, seq_part = b.partition(b"-")
    ms = _strtoull(ms_part)
    if ms is None:
        return None
    if dash:
        if allow_auto_seq and seq_part == b"*":
            return ms << 64, False
        seq = _strtoull(seq_part)
        if seq is None:
            return None
    else:
        seq = missing_seq
    i = ms << 64 | seq
    return (i, True) if allow_auto_seq else i


# --- the RDB codec's value ---------------------------------------------------------------------------


def _tid(t) -> int:
    return t[0] << 64 | t[1]


def _pair(i: int) -> tuple:
    return (i >> 64, i & SEQ_MASK)


def from_rdb_stream(rs, max_entries: int = 100, max_bytes: int = 4096) -> Stream:
    """A Stream from the codec's (see the module docstring). `max_entries` / `max_bytes`
    (stream-node-max-entries / -bytes) lay out the nodes when the codec value has no layout."""
    s = Stream()
    entries = s.entries
    layout = rs.nodes
    if layout and sum(n.count for n in layout) == len(rs.entries):
        for ms, seq, fv in rs.entries:
            entries[ms << 64 | seq] = tuple(fv)
        s._ids = list(entries)
        for n in layout:
            if not n.count:
                continue
            node = Node.__new__(Node)
            node.master = _tid(n.master_id)
            node.count = n.count
            node.deleted = n.deleted
            node.last = _tid(n.last_id)
            node.fields = tuple(n.fields)
            node.body = n.lp_bytes - _lp_int(n.count) - _lp_int(n.deleted)
            s.nodes.append(node)
            s.node_keys.append(node.master)
    else:
        for ms, seq, fv in rs.entries:
            fv = tuple(fv)
            s.append(ms << 64 | seq, fv, sum(map(len, fv)), max_entries, max_bytes)
    s.last_id = _tid(rs.last_id)
    s.first_id = _tid(rs.first_id)
    s.max_deleted_entry_id = _tid(rs.max_deleted_entry_id)
    s.entries_added = rs.entries_added
    for g in sorted(rs.groups, key=lambda g: g.name):
        cg = ConsumerGroup(_tid(g.last_id), g.entries_read)
        consumers = cg.consumers
        for c in sorted(g.consumers, key=lambda c: c.name):
            cons = Consumer(c.name, c.seen_time)
            cons.active_time = c.active_time
            consumers[c.name] = cons
        pel = cg.pel
        for p in g.pending:
            owner = consumers[p.consumer]
            i = _tid(p.id)
            nack = Nack(owner, p.delivery_time, p.delivery_count)
            pel[i] = nack
            owner.pel[i] = nack
        s.groups[g.name] = cg
    return s
