"""Command handlers, one module per family. Each is a plain synchronous function `fn(c, argv)`:
`c` is the calling Client, `argv` the request (argv[0] the command name); it returns the reply (see
amr_emulator.protocol.resp for the types) or raises RespError. Running on one event loop, every
handler is atomic, as in Redis.

Register with `@command("name")` (a subcommand as `"container|sub"`); a name the command table
does not implement fails at import.
"""
from __future__ import annotations

import importlib

from amr_emulator.protocol.commands.supported import IMPLEMENTED

HANDLERS: dict = {}

# A module not written yet is skipped (see load_all).
MODULES = ("connection", "server", "keys", "strings", "hashes", "lists", "sets", "zsets", "transactions",
           "pubsub", "introspection", "streams", "scripting", "functions", "bitmaps", "hyperloglog", "geo",
           "sort", "replication", "persistence", "acl")


def command(name: str):
    def register(fn):
        if name not in IMPLEMENTED:
            raise RuntimeError(f"handler for {name!r}, which the command table does not list as implemented")
        if name in HANDLERS:
            raise RuntimeError(f"two handlers for {name!r}")
        HANDLERS[name] = fn
        return fn

    return register


def help_reply(argv0: bytes, lines: list[str]) -> list:
    """A HELP subcommand's reply as Redis 7.4 builds it (addReplyHelp): a header naming the command,
    the lines, then HELP itself; all status replies."""
    from amr_emulator.protocol.resp import Simple

    header = "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" % argv0.decode("latin-1").upper()
    return [Simple(header)] + [Simple(line) for line in lines] + [Simple("HELP"), Simple("    Print this help.")]


def load_all() -> dict:
    for mod in MODULES:
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{mod}":
                raise
    return HANDLERS
