"""FUNCTION LOAD|DELETE|FLUSH|LIST|DUMP|RESTORE|STATS|KILL|HELP, FCALL, FCALL_RO (functions.c)."""
from __future__ import annotations

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.rdb import (FunctionPayloadError, function_dump_payload, read_function_payload,
                                       verify_dump_payload)
from amr_emulator.protocol.resp import OK, RespSet, Simple, string2ll

from .. import scripting
from ..glob import glob_match
from . import command, help_reply


def fcall_generic(c, argv, ro: bool):
    server = c.server
    if server.monitors:
        server.feed_monitors(c, argv)
    engine = scripting.get_function_engine(server)
    f = engine.functions.get(argv[1])
    if f is None:
        raise RespError(errors.FUNCTION_NOT_FOUND)
    n = string2ll(argv[2])
    if n is None:
        raise RespError(errors.FUNCTION_BAD_NUMKEYS)
    if n > len(argv) - 3:
        raise RespError(errors.NUMKEYS_GREATER)
    if n < 0:
        raise RespError(errors.NUMKEYS_NEGATIVE)
    return scripting.run_script(engine, c, engine.sc, f.fn, argv[3:3 + n], argv[3 + n:],
                                f.name.decode("latin-1"), f.flags, ro, False, argv)


@command("fcall")
def fcall_command(c, argv):
    return fcall_generic(c, argv, False)


@command("fcall_ro")
def fcall_ro_command(c, argv):
    return fcall_generic(c, argv, True)


@command("function|load")
def function_load_command(c, argv):
    replace = False
    i = 2
    while i < len(argv) - 1:
        if argv[i].lower() == b"replace":
            replace = True
            i += 1
            continue
        raise RespError(errors.function_load_unknown_option(argv[i]))
    if i >= len(argv):
        raise RespError(errors.FUNCTION_CODE_MISSING)
    engine = scripting.get_function_engine(c.server)
    lib = engine.create_library(argv[i], 0 if c.is_master else scripting.LOAD_TIMEOUT_MS, replace)
    engine.link(lib, replace)
    c.server.dirty += 1
    return lib.name


@command("function|delete")
def function_delete_command(c, argv):
    engine = scripting.get_function_engine(c.server)
    lib = engine.libraries.get(argv[2])
    if lib is None:
        raise RespError(errors.FUNCTION_LIBRARY_NOT_FOUND)
    engine.unlink(lib)
    c.server.dirty += 1
    return OK


@command("function|flush")
def function_flush_command(c, argv):
    if len(argv) > 3:
        raise RespError(errors.subcommand_syntax(argv[1], argv[0]))
    if len(argv) == 3 and argv[2].lower() not in (b"sync", b"async"):
        raise RespError(errors.FUNCTION_FLUSH_MODE)
    c.server.function_engine = scripting.FunctionEngine(c.server)
    c.server.dirty += 1
    return OK


def _flags_reply(flags: int):
    return RespSet(Simple(name.decode()) for name in scripting.FLAG_ORDER if flags & scripting.FLAG_NAMES[name])


@command("function|list")
def function_list_command(c, argv):
    with_code = False
    pattern = None
    i = 2
    while i < len(argv):
        a = argv[i]
        if not with_code and a.lower() == b"withcode":
            with_code = True
            i += 1
            continue
        if pattern is None and a.lower() == b"libraryname":
            if i >= len(argv) - 1:
                raise RespError(errors.FUNCTION_LIST_NO_LIBRARY_NAME)
            pattern = argv[i + 1]
            i += 2
            continue
        raise RespError(errors.function_list_unknown_argument(a))
    engine = scripting.get_function_engine(c.server)
    out = []
    for lib in engine.libraries.values():
        if pattern is not None and not glob_match(pattern, lib.name):
            continue
        entry = {b"library_name": lib.name, b"engine": lib.engine,
                 b"functions": [{b"name": f.name, b"description": f.desc, b"flags": _flags_reply(f.flags)}
                                for f in lib.functions.values()]}
        if with_code:
            entry[b"library_code"] = lib.code
        out.append(entry)
    return out


@command("function|dump")
def function_dump_command(c, argv):
    return function_dump_payload([lib.code for lib in scripting.get_function_engine(c.server).libraries.values()])


_RESTORE_ERRORS = {"pre-ga": errors.FUNCTION_RESTORE_PRE_GA, "type": errors.FUNCTION_RESTORE_NOT_FUNCTION,
                   "load": errors.FUNCTION_RESTORE_LOAD_FAILED}


@command("function|restore")
def function_restore_command(c, argv):
    if len(argv) > 4:
        raise RespError(errors.subcommand_syntax(argv[1], argv[0]))
    policy = b"append"
    if len(argv) == 4:
        policy = argv[3].lower()
        if policy not in (b"append", b"replace", b"flush"):
            raise RespError(errors.FUNCTION_RESTORE_POLICY)
    data = argv[2]
    if not verify_dump_payload(data):
        raise RespError(errors.DUMP_PAYLOAD_WRONG)
    try:
        codes = read_function_payload(data)
    except FunctionPayloadError as e:
        raise RespError(_RESTORE_ERRORS[e.kind]) from None
    server = c.server
    engine = scripting.get_function_engine(server)
    # compile every library in a new engine state first: nothing changes if one fails
    fresh = scripting.FunctionEngine(server)
    libs = []
    for code in codes:
        lib = fresh.create_library(code, 0)
        if any(lib.name == other.name for other in libs):
            raise RespError(errors.library_exists(lib.name))
        for other in libs:
            for fname in lib.functions:
                if fname in other.functions:
                    raise RespError(errors.function_exists(fname))
        libs.append(lib)
    if policy == b"flush":
        for lib in libs:
            fresh.link(lib, False)
        server.function_engine = fresh
    else:
        replace = policy == b"replace"
        if not replace:
            for lib in libs:
                if lib.name in engine.libraries:
                    raise RespError(errors.library_join_exists(lib.name))
        replaced = [engine.libraries[lib.name] for lib in libs if lib.name in engine.libraries]
        new_names = {lib.name for lib in libs}
        for lib in libs:
            for fname in lib.functions:
                owner = engine.functions.get(fname)
                if owner is not None and owner.library.name not in new_names:
                    raise RespError(errors.function_exists(fname))
        for old in replaced:
            engine.unlink(old)
        # the libraries were compiled in `fresh`: move the whole state over when it is the only one used
        for lib in engine.libraries.values():
            fresh_lib = fresh.create_library(lib.code, 0)
            fresh.link(fresh_lib, False)
        for lib in libs:
            fresh.link(lib, False)
        server.function_engine = fresh
    server.dirty += 1
    return OK


@command("function|stats")
def function_stats_command(c, argv):
    server = c.server
    run = getattr(server, "script_run", None)
    if run is not None and run.is_eval:
        raise RespError(errors.BUSY_EVAL)
    engine = scripting.get_function_engine(server)
    running = None
    if run is not None:
        running = {b"name": run.name.encode("latin-1"), b"command": list(run.caller_argv),
                   b"duration_ms": run.duration_ms()}
    return {b"running_script": running,
            b"engines": {b"LUA": {b"libraries_count": len(engine.libraries),
                                  b"functions_count": len(engine.functions)}}}


@command("function|kill")
def function_kill_command(c, argv):
    return scripting.script_kill(c, False)


@command("function|help")
def function_help_command(c, argv):
    return help_reply(argv[0], [
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION "
        "RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
    ])
