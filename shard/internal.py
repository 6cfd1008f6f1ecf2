"""The emulator's own commands to a shard, for its node's proxy: not Redis commands, not in the command
table, and answered only on a connection authenticated with the shard's password (the emulator's internal
credential; a shard started without one has none of them).

- `AMR.LINK ON|OFF`: the replica's link to its primary is cut (OFF: closed, and not opened again) or
  restored (ON), as a network partition between their nodes would do (`amr-emulator partition`).
- `AMR.TAIL <offset>`: the replication stream this shard wrote from `offset` on (a bulk string), or nil
  when its backlog no longer holds that offset: what a demoted primary wrote beyond its successor's
  history, which its resync discards (the proxy reports it as lost writes).
"""
from __future__ import annotations

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import OK


def is_internal(c, name: bytes) -> bool:
    return name.startswith(b"amr.") and bool(c.server.requirepass) and c.authenticated


def run(c, argv: list) -> None:
    name = argv[0].lower()
    repl = c.server.repl
    if name == b"amr.link" and len(argv) == 2 and argv[1].lower() in (b"on", b"off"):
        repl.set_link_cut(argv[1].lower() == b"off")
        c.reply(OK)
    elif name == b"amr.tail" and len(argv) == 2:
        try:
            offset = int(argv[1])
        except ValueError:
            c.reply(RespError(errors.NOT_INTEGER))
            return
        backlog = repl.backlog
        c.reply(backlog.read_from(offset) if backlog is not None and backlog.covers(offset) else None)
    else:
        c.reply(RespError(errors.unknown_command(argv[0], argv[1:])))
