"""Replication commands' replies and errors, byte for byte against redis-server (a standalone
primary that never had a replica)."""
from __future__ import annotations

import pytest

from tests.replication.support import servers
from tests.servers import RawConnection


@pytest.fixture(scope="module")
def conns():
    with servers() as start:
        procs = start("shard"), start("redis")
        conns = [RawConnection(p.host, p.port) for p in procs]
        yield conns
        for c in conns:
            c.close()


CASES = [
    ("ROLE",),
    ("REPLCONF",),
    ("REPLCONF", "listening-port"),
    ("REPLCONF", "foo", "bar"),
    ("REPLCONF", "listening-port", "abc"),
    ("REPLCONF", "listening-port", "6380", "capa", "eof", "capa", "psync2", "capa", "other"),
    ("REPLCONF", "ip-address", "x" * 300),
    ("REPLCONF", "rdb-filter-only", "keys"),
    ("WAIT",),
    ("WAIT", "abc", "0"),
    ("WAIT", "0", "abc"),
    ("WAIT", "0", "-1"),
    ("WAIT", "0", "0"),
    ("WAIT", "-5", "0"),
    ("REPLICAOF", "localhost"),
    ("REPLICAOF", "localhost", "abc"),
    ("REPLICAOF", "localhost", "70000"),
    ("REPLICAOF", "localhost", "-1"),
    ("REPLICAOF", "NO", "ONE"),
    ("SLAVEOF", "no", "one"),
    ("PSYNC", "?"),
    ("PSYNC", "?", "abc"),
    ("SYNC", "x"),
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(a)[:40] for a in CASES])
def test_reply_matches_redis(conns, args):
    ours, theirs = (c.call(*args) for c in conns)
    assert ours == theirs


def test_ack_and_getack_from_a_client_get_no_reply(conns):
    for c in conns:
        c.send(b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$2\r\n10\r\n*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n")
    ours, theirs = (c.call("PING") for c in conns)
    assert ours == theirs == b"+PONG\r\n"
