"""ACL: WHOAMI CAT LIST USERS GETUSER SETUSER DELUSER DRYRUN LOG HELP GENPASS LOAD SAVE (Redis 7.4).

The user model is shard/acl.py; this module only parses and replies.
"""
from __future__ import annotations

import secrets

from amr_emulator.protocol import errors
from amr_emulator.protocol.commands import REDIS_COMMANDS
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import OK, RespSet, string2ll

from ..acl import CATEGORIES, REASONS, ACLError, error_message, has_spaces, specs_in_category
from . import command, help_reply

_HELP = [
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
]

@command("acl|help")
def acl_help_command(c, argv):
    return help_reply(argv[0], _HELP)


@command("acl|whoami")
def acl_whoami_command(c, argv):
    return c.user


@command("acl|users")
def acl_users_command(c, argv):
    return sorted(c.server.acl.users)


@command("acl|list")
def acl_list_command(c, argv):
    acl = c.server.acl
    return [b"user " + name + b" " + acl.users[name].describe().encode("latin-1") for name in sorted(acl.users)]


@command("acl|cat")
def acl_cat_command(c, argv):
    if len(argv) == 2:
        return [cat.encode() for cat in CATEGORIES]
    cat = argv[2].decode("latin-1")
    if cat.lower() not in CATEGORIES:
        raise RespError(errors.acl_unknown_category(cat))
    return [s.name.encode() for s in specs_in_category(cat.lower())]


@command("acl|setuser")
def acl_setuser_command(c, argv):
    name = argv[2]
    if has_spaces(name):
        raise RespError(errors.ACL_USERNAME_SPACES)
    try:
        c.server.acl.set_user(name, argv[3:])
    except ACLError as e:
        raise RespError(errors.err_reply(str(e))) from None
    return OK


@command("acl|deluser")
def acl_deluser_command(c, argv):
    names = argv[2:]
    if b"default" in names:
        raise RespError(errors.ACL_DEFAULT_UNDELETABLE)
    server = c.server
    acl = server.acl
    deleted = 0
    for name in names:
        if acl.users.pop(name, None) is not None:
            deleted += 1
            for other in list(server.clients.values()):  # ACLFreeUserAndKillClients
                if other.user == name:
                    if other is c:
                        other.close_after_reply()
                    elif other.transport is not None:
                        other.closing = True
                        other.transport.close()
    acl.changed()
    return deleted


@command("acl|getuser")
def acl_getuser_command(c, argv):
    u = c.server.acl.users.get(argv[2])
    if u is None:
        return None
    reply = {b"flags": RespSet(u.flags()), b"passwords": [p.encode() for p in u.passwords]}
    reply.update(u.root.reply())
    reply[b"selectors"] = [s.reply() for s in u.selectors[1:]]
    return reply


@command("acl|genpass")
def acl_genpass_command(c, argv):
    bits = 256
    if len(argv) == 3:
        bits = string2ll(argv[2])
        if bits is None:
            raise RespError(errors.NOT_INTEGER)
    if bits <= 0 or bits > 4096:
        raise RespError(errors.ACL_GENPASS_BITS)
    chars = (bits + 3) // 4
    return secrets.token_hex((chars + 1) // 2)[:chars].encode()


@command("acl|log")
def acl_log_command(c, argv):
    acl = c.server.acl
    count = 10
    if len(argv) == 3:
        if argv[2].lower() == b"reset":
            acl.log.clear()
            return OK
        count = string2ll(argv[2])
        if count is None:
            raise RespError(errors.NOT_INTEGER)
        count = max(0, count)
    now = c.server.now_ms
    out = []
    for e in list(acl.log)[:count]:
        out.append({
            b"count": e["count"],
            b"reason": REASONS[e["reason"]],
            b"context": e["context"],
            b"object": e["object"],
            b"username": e["username"],
            b"age-seconds": (now - e["ctime"]) / 1000,
            b"client-info": e["cinfo"],
            b"entry-id": e["id"],
            b"timestamp-created": e["created"],
            b"timestamp-last-updated": e["ctime"],
        })
    return out


@command("acl|dryrun")
def acl_dryrun_command(c, argv):
    u = c.server.acl.users.get(argv[2])
    if u is None:
        raise RespError(errors.acl_user_not_found(argv[2]))
    cmd_argv = argv[3:]
    spec = REDIS_COMMANDS.get(cmd_argv[0].decode("latin-1").lower())
    if spec is not None and spec.subcommands and len(cmd_argv) >= 2:
        spec = spec.subcommands.get(cmd_argv[1].decode("latin-1").lower())
    if spec is None:
        raise RespError(errors.acl_command_not_found(cmd_argv[0]))
    argc = len(cmd_argv)
    if (spec.arity > 0 and spec.arity != argc) or argc < -spec.arity:
        raise RespError(errors.wrong_arity(spec.name))
    reason, idx = u.check(spec, cmd_argv)
    if reason:
        return error_message(reason, u.name, spec, cmd_argv[idx], True).encode("latin-1")
    return OK


@command("acl|load")
def acl_load_command(c, argv):
    raise RespError(errors.ACL_NO_FILE)


@command("acl|save")
def acl_save_command(c, argv):
    raise RespError(errors.ACL_NO_FILE)
