"""The values the RDB codec reads and writes, and its one error.

| Redis type | value |
| --- | --- |
| string | bytes |
| list | list of bytes (the writer also takes any sequence, e.g. a deque) |
| set | set of bytes (or frozenset) |
| hash | dict bytes -> bytes |
| sorted set | ZSetPairs: a list of (member: bytes, score: float) pairs (the writer also takes any object with `TYPE_NAME == b"zset"` and an `items()` yielding such pairs) |
| stream | Stream (below) |

Stream IDs are (ms, seq) tuples of ints.
"""
from __future__ import annotations

from dataclasses import dataclass, field


class RdbError(ValueError):
    """A corrupt, truncated or unsupported RDB file or DUMP payload. The message says what and
    (for files) at which byte offset."""


class ZSetPairs(list):
    """A sorted set as the codec sees it: a list of (member, score) pairs. Order is not significant
    for the writer; the reader gives the order of the file (Redis writes a skiplist from the
    highest score down, a listpack from the lowest up)."""

    __slots__ = ()


StreamID = tuple  # (ms, seq)


@dataclass(frozen=True)
class StreamPendingEntry:
    """One entry of a consumer group's PEL (pending entries list): delivered, not yet acknowledged."""

    id: StreamID  # the stream entry's ID
    consumer: bytes  # the consumer that owns it (every PEL entry belongs to exactly one consumer)
    delivery_time: int  # ms since the epoch of the last delivery
    delivery_count: int  # number of deliveries


@dataclass(frozen=True)
class StreamConsumer:
    name: bytes
    seen_time: int  # ms since the epoch of the last interaction (any read attempt)
    active_time: int  # ms since the epoch of the last successful read (7.2+; older files: seen_time)
    pending: tuple = ()  # IDs (ms, seq) of the group PEL entries this consumer owns, ascending


@dataclass(frozen=True)
class StreamGroup:
    name: bytes
    last_id: StreamID  # last delivered ID
    entries_read: int  # the group's read counter ("entries-read"); -1 (SCG_INVALID_ENTRIES_READ) when unknown
    pending: tuple = ()  # StreamPendingEntry, ascending by id
    consumers: tuple = ()  # StreamConsumer, in file order (Redis writes them sorted by name)


@dataclass(frozen=True)
class Stream:
    """A stream key.

    entries: the live entries, ascending: (ms, seq, [field1, value1, field2, value2, ...]).
    length: number of live entries (== len(entries) in any consistent file).
    last_id: the greatest ID ever added (XADD refuses IDs <= it), even if that entry was deleted.
    first_id: ID of the first live entry, (0, 0) when empty.
    max_deleted_entry_id: greatest ID ever deleted (XDEL / XTRIM), (0, 0) if none.
    entries_added: count of every entry ever added (the "offset" consumer group lag is based on).
    groups: consumer groups, in file order (Redis writes them sorted by name).

    Files of RDB type STREAM_LISTPACKS (v1, Redis 5/6) carry no first_id / max_deleted_entry_id /
    entries_added / entries_read: the reader fills first_id from the entries, max_deleted_entry_id
    (0, 0), entries_added = length, and each group's entries_read as Redis estimates it
    (streamEstimateDistanceFromFirstEverEntry: exact at the first and the last entry, else -1).
    """

    entries: list
    length: int
    last_id: StreamID
    first_id: StreamID = (0, 0)
    max_deleted_entry_id: StreamID = (0, 0)
    entries_added: int = 0
    groups: tuple = ()

    TYPE_NAME = b"stream"

    # Until the shard has its own stream structure it may hold this (immutable) value as it is:
    # what TYPE, OBJECT ENCODING and COPY ask of a value.
    def encoding(self, server=None) -> bytes:
        return b"stream"

    def copy(self) -> "Stream":
        return self


@dataclass(frozen=True)
class RdbDatabase:
    """One database of a file: `data` key -> value, `expires` key -> absolute expiry in ms since the
    epoch (keys without expiry are absent). Keys the file gave with an LRU idle time or an LFU
    frequency have them in `idle` (seconds) / `freq` (0..255)."""

    data: dict
    expires: dict
    idle: dict = field(default_factory=dict)
    freq: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RdbFile:
    """A whole file: its version, its AUX fields (name -> value, e.g. b"redis-ver", b"repl-id"),
    its databases by number (only those with keys, or with a SELECTDB), and its function libraries
    (each the library's source code, as FUNCTION LOAD takes it)."""

    version: int
    aux: dict
    dbs: dict
    functions: list
