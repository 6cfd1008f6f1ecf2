"""REPLICAOF SLAVEOF PSYNC SYNC REPLCONF ROLE WAIT (replication.c). The state lives in
shard/replication (server.repl); these are the commands' faces."""
from __future__ import annotations

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import OK, Simple, string2ll

from ..dispatch import NO_REPLY, Blocked
from . import command


@command("replicaof")
def replicaof_command(c, argv):
    repl = c.server.repl
    if c.server.config.values.get("cluster-enabled") == "yes":
        raise RespError(errors.REPLICAOF_CLUSTER)
    host, port_arg = argv[1], argv[2]
    if host.lower() == b"no" and port_arg.lower() == b"one":
        if c.server.is_replica:
            repl.unset_master()
        return OK
    if c in repl.replicas:
        raise RespError(errors.REPLICAOF_BY_REPLICA)
    port = string2ll(port_arg)
    if port is None or not 0 <= port <= 65535:
        raise RespError(errors.INVALID_MASTER_PORT)
    host_s = host.decode("latin-1")
    if c.server.is_replica and repl.master_host.lower() == host_s.lower() and repl.master_port == port:
        return Simple("OK Already connected to specified master")
    repl.set_master(host_s, port)
    return OK


@command("slaveof")
def slaveof_command(c, argv):
    return replicaof_command(c, argv)


@command("psync")
def psync_command(c, argv):
    c.server.repl.sync_command(c, argv)
    return NO_REPLY


@command("sync")
def sync_command(c, argv):
    c.server.repl.sync_command(c, argv)
    return NO_REPLY


@command("replconf")
def replconf_command(c, argv):
    return c.server.repl.replconf_command(c, argv)


@command("role")
def role_command(c, argv):
    return c.server.repl.role_reply()


@command("wait")
def wait_command(c, argv):
    server = c.server
    repl = server.repl
    if server.is_replica:
        raise RespError(errors.WAIT_ON_REPLICA)
    numreplicas = string2ll(argv[1])
    if numreplicas is None:
        raise RespError(errors.NOT_INTEGER)
    timeout = string2ll(argv[2])
    if timeout is None:
        raise RespError(errors.TIMEOUT_NOT_INTEGER)
    if timeout < 0:
        raise RespError(errors.TIMEOUT_NEGATIVE)
    offset = getattr(c, "woff", 0)  # this client's last write (set by dispatch.propagate_effects)
    acked = repl.count_acks(offset)
    if acked >= numreplicas or c.deny_blocking:
        return acked
    repl.wait_register(c, offset, numreplicas, timeout / 1000)
    raise Blocked([], 0)
