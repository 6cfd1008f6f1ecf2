"""EVAL EVALSHA EVAL_RO EVALSHA_RO SCRIPT (eval.c). The Lua runtime is shard/scripting.py."""
from __future__ import annotations

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import OK, string2ll

from .. import scripting
from . import command, help_reply

NOSCRIPT = errors.NOSCRIPT


def _numkeys(c, argv) -> int:
    n = string2ll(argv[2])
    if n is None:
        raise RespError(errors.NOT_INTEGER)
    if n > len(argv) - 3:
        raise RespError(errors.NUMKEYS_GREATER)
    if n < 0:
        raise RespError(errors.NUMKEYS_NEGATIVE)
    return n


def eval_generic(c, argv, evalsha: bool, ro: bool):
    server = c.server
    if server.monitors:
        server.feed_monitors(c, argv)  # before the commands the script runs (skip_monitor in the table)
    if evalsha and len(argv[1]) != 40:
        raise RespError(NOSCRIPT)
    numkeys = _numkeys(c, argv)
    engine = scripting.get_eval_engine(server)
    if evalsha:
        sha = argv[1].lower()
        script = engine.scripts.get(sha)
        if script is None:
            raise RespError(NOSCRIPT)
    else:
        sha = engine.create(argv[1], from_eval=True)
        script = engine.scripts[sha]
    if sha in engine.lru:  # most recently used last
        del engine.lru[sha]
        engine.lru[sha] = None
    return scripting.run_script(engine, c, engine.sc, script.fn, argv[3:3 + numkeys], argv[3 + numkeys:],
                                sha.decode(), script.flags, ro, True, argv)


@command("eval")
def eval_command(c, argv):
    return eval_generic(c, argv, False, False)


@command("eval_ro")
def eval_ro_command(c, argv):
    return eval_generic(c, argv, False, True)


@command("evalsha")
def evalsha_command(c, argv):
    return eval_generic(c, argv, True, False)


@command("evalsha_ro")
def evalsha_ro_command(c, argv):
    return eval_generic(c, argv, True, True)


@command("script|load")
def script_load_command(c, argv):
    return scripting.get_eval_engine(c.server).create(argv[2], from_eval=False)


@command("script|exists")
def script_exists_command(c, argv):
    scripts = scripting.get_eval_engine(c.server).scripts
    return [1 if a in scripts else 0 for a in argv[2:]]


@command("script|flush")
def script_flush_command(c, argv):
    if len(argv) == 3 and argv[2].lower() in (b"sync", b"async"):
        pass
    elif len(argv) != 2:
        raise RespError(errors.SCRIPT_FLUSH_MODE)
    scripting.reset_eval_engine(c.server)
    return OK


@command("script|kill")
def script_kill_command(c, argv):
    return scripting.script_kill(c, True)


@command("script|help")
def script_help_command(c, argv):
    return help_reply(argv[0], [
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
    ])
