"""Commands sent to several shards, and their replies merged into the one a single server would send.

- Split per shard (Enterprise, keys in several slots): DEL UNLINK EXISTS TOUCH (sum), MGET (values
  put back in request order), MSET (OK when every part is).
- Every primary this endpoint serves: DBSIZE (sum), KEYS (concatenation), FLUSHALL / FLUSHDB /
  CONFIG SET / CONFIG RESETSTAT / CLIENT PAUSE / CLIENT UNPAUSE (OK), RANDOMKEY (a key of a random
  shard that has one), SCAN (one shard at a time, see `scan_cursor`).

An error from any part is the reply (the first one, in shard order), as a single server would send
one error for the whole command.
"""
from __future__ import annotations

import random

from amr_emulator.protocol import errors
from amr_emulator.protocol.resp import decode_reply, encode_command


class Part:
    __slots__ = ("fan", "index")
    count = 1

    def __init__(self, fan, index):
        self.fan = fan
        self.index = index

    def on_reply(self, data: bytes) -> None:
        fan = self.fan
        fan.parts[self.index] = data
        fan.remaining -= 1
        if fan.remaining == 0:
            fan.finish()


class Fan:
    """Parts of one request; `merge(parts, encode)` makes the reply once all have answered."""

    __slots__ = ("slot", "parts", "remaining", "merge", "encode")

    def __init__(self, slot, n: int, merge, encode):
        self.slot = slot
        self.parts = [None] * n
        self.remaining = n
        self.merge = merge
        self.encode = encode

    def finish(self) -> None:
        for p in self.parts:
            if p[:1] == b"-":
                self.slot.on_reply(p)
                return
        try:
            out = self.merge(self.parts, self.encode)
        except Exception:  # noqa: BLE001 - a reply we could not read
            out = errors.error_frame(errors.MERGE_FAILED)
        self.slot.on_reply(out)


def send(client, requests: list, merge) -> None:
    """`requests`: [(shard, argv)]. Queues one reply slot for the client and sends every part."""
    slot = client.new_slot()
    if not requests:
        slot.on_reply(merge([], client.encode))
        return
    fan = Fan(slot, len(requests), merge, client.encode)
    for i, (shard, argv) in enumerate(requests):
        client.conn_for(shard).send(encode_command(*argv), Part(fan, i))


# --- merges --------------------------------------------------------------------------------------
def merge_sum(parts, encode) -> bytes:
    return b":%d\r\n" % sum(decode_reply(p)[0] for p in parts)


def merge_first(parts, encode) -> bytes:
    return parts[0] if parts else b"+OK\r\n"


def merge_concat(parts, encode) -> bytes:
    out = []
    for p in parts:
        out.extend(decode_reply(p)[0])
    return encode(out)


def merge_union(parts, encode) -> bytes:
    out: dict = {}
    for p in parts:
        for v in decode_reply(p)[0]:
            out[v] = None
    return encode(list(out))


def merge_numsub(parts, encode) -> bytes:
    """PUBSUB SHARDNUMSUB: [channel, count, ...] from each shard, counts added."""
    replies = [decode_reply(p)[0] for p in parts]
    out = list(replies[0]) if replies else []
    for r in replies[1:]:
        for i in range(1, len(out), 2):
            out[i] += r[i]
    return encode(out)


def merge_random(parts, encode) -> bytes:
    found = [p for p in parts if decode_reply(p)[0] is not None]
    if not found:
        return parts[0] if parts else encode(None)
    return random.choice(found)


def merge_positions(positions: list, total: int):
    """MGET: part i's values go to `positions[i]` of the reply."""

    def merge(parts, encode) -> bytes:
        values = [None] * total
        for pos, p in zip(positions, parts):
            for i, v in zip(pos, decode_reply(p)[0]):
                values[i] = v
        return encode(values)

    return merge


def split_by_shard(router, argv: list, step: int) -> tuple[list, list]:
    """Enterprise: a multi-key request split per shard, keeping each shard's keys in request order.
    Returns ([(shard, argv)], [positions of each part's keys among the request's keys])."""
    groups: dict = {}
    order = []
    for k, i in enumerate(range(1, len(argv), step)):
        shard = router.shard_of_key_anywhere(argv[i])
        g = groups.get(shard.id)
        if g is None:
            g = groups[shard.id] = (shard, [argv[0]], [])
            order.append(g)
        g[1].extend(argv[i:i + step])
        g[2].append(k)
    return [(g[0], g[1]) for g in order], [g[2] for g in order]


# --- SCAN ------------------------------------------------------------------------------------------
def scan_cursor(cursor: int, n: int) -> tuple[int, int]:
    """A proxy SCAN cursor is `shard_cursor * n + shard_index`: (shard index, the shard's cursor)."""
    return cursor % n, cursor // n


def scan_merge(index: int, n: int):
    def merge(parts, encode) -> bytes:
        reply = decode_reply(parts[0])[0]
        cur = int(reply[0])
        if cur == 0:
            nxt = index + 1 if index + 1 < n else 0
        else:
            nxt = cur * n + index
        return encode([str(nxt).encode(), reply[1]])

    return merge
