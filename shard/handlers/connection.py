"""Connection commands: PING ECHO QUIT HELLO AUTH SELECT RESET, and the CLIENT family (Redis 7.4)."""
from __future__ import annotations

import hmac
from time import monotonic, time

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import OK, PONG, Simple, Verbatim, string2ll

from ..dispatch import NO_REPLY
from . import command, help_reply

RESET = Simple("RESET")


@command("ping")
def ping_command(c, argv):
    if len(argv) > 2:
        raise RespError(errors.wrong_arity("ping"))
    if c.pubsub_count and c.resp == 2:
        return [b"pong", argv[1] if len(argv) == 2 else b""]
    return argv[1] if len(argv) == 2 else PONG


@command("echo")
def echo_command(c, argv):
    return argv[1]


@command("quit")
def quit_command(c, argv):
    c.close_after_reply()
    return OK


# --- authentication ----------------------------------------------------------------------------


def check_password(c, user: bytes, password: bytes) -> bool:
    """The default user: no password configured accepts anything (nopass); otherwise requirepass."""
    if user != b"default":
        return False
    required = c.server.requirepass
    if not required:
        return True
    return hmac.compare_digest(required, password)


def authenticate(c, user: bytes, password: bytes) -> None:
    if not check_password(c, user, password):
        raise RespError(errors.WRONGPASS)
    c.authenticated = True
    c.parser.require_auth = False
    c.user = user


@command("auth")
def auth_command(c, argv):
    if len(argv) > 3:
        raise RespError(errors.SYNTAX)
    if len(argv) == 2:
        if not c.server.requirepass:
            raise RespError(errors.AUTH_NOT_CONFIGURED)
        authenticate(c, b"default", argv[1])
    else:
        authenticate(c, argv[1], argv[2])
    return OK


def valid_client_attr(value: bytes) -> bool:
    """No spaces, newlines or other characters outside '!'..'~' (CLIENT LIST must stay parseable)."""
    return all(33 <= ch <= 126 for ch in value)


@command("hello")
def hello_command(c, argv):
    version = None
    if len(argv) >= 2:
        version = string2ll(argv[1])
        if version is None:
            raise RespError(errors.PROTO_VERSION_INVALID)
        if version < 2 or version > 3:
            raise RespError(errors.NOPROTO)
    auth = None
    name = None
    i = 2
    while i < len(argv):
        opt = argv[i].lower()
        more = len(argv) - i - 1
        if opt == b"auth" and more >= 2:
            auth = (argv[i + 1], argv[i + 2])
            i += 3
        elif opt == b"setname" and more >= 1:
            name = argv[i + 1]
            if not valid_client_attr(name):
                raise RespError(errors.CLIENT_NAME_INVALID)
            i += 2
        else:
            raise RespError("ERR Syntax error in HELLO option '%s'" % argv[i].decode("latin-1"))
    if auth is not None:
        authenticate(c, auth[0], auth[1])
    if not c.authenticated:
        raise RespError(errors.HELLO_NOAUTH)
    if name is not None:
        c.name = name
    if version is not None:
        c.set_resp(version)
    server = c.server
    return {
        b"server": b"redis",
        b"version": server.version.encode(),
        b"proto": c.resp,
        b"id": c.id,
        b"mode": b"standalone",
        b"role": b"replica" if server.is_replica else b"master",
        b"modules": [],
    }


@command("select")
def select_command(c, argv):
    dbid = string2ll(argv[1])
    if dbid is None:
        raise RespError(errors.NOT_INTEGER)
    if not -(2**31) <= dbid < 2**31:
        raise RespError(errors.INT_OUT_OF_RANGE)
    if not 0 <= dbid < len(c.server.dbs):
        raise RespError(errors.DB_INDEX_OUT_OF_RANGE)
    c.select(dbid)
    return OK


@command("reset")
def reset_command(c, argv):
    server = c.server
    c.multi = None
    c.multi_error = False
    server.unwatch_all(c)
    server.unsubscribe_all(c)
    if c.monitor:
        c.monitor = False
        if c in server.monitors:
            server.monitors.remove(c)
    c.select(0)
    c.set_resp(2)
    c.name = b""
    c.reply_mode = 0
    c.no_evict = False
    c.no_touch = False
    c.user = b"default"
    c.authenticated = not server.requirepass
    c.parser.require_auth = not c.authenticated
    return RESET


# --- CLIENT ----------------------------------------------------------------------------------------


def client_flags(c) -> str:
    f = ""
    if c.monitor:
        f += "O"
    if c.is_master:
        f += "M"
    if c in c.server.replicas:
        f += "S"
    if c.pubsub_count:
        f += "P"
    if c.multi is not None:
        f += "x"
    if c.blocked is not None:
        f += "b"
    if c.dirty_cas:
        f += "d"
    if c.closing:
        f += "c"
    if c.no_evict:
        f += "e"
    if c.no_touch:
        f += "T"
    return f or "N"


def client_info_line(c) -> str:
    now = time()
    qbuf = c.parser.pending()
    multi_len = len(c.multi) if c.multi is not None else -1
    return (
        f"id={c.id} addr={c.addr} laddr={c.laddr} fd={8 + c.id} name={c.name.decode('latin-1')} "
        f"age={int(now - c.ctime)} idle={int(monotonic() - c.last_interaction)} flags={client_flags(c)} "
        f"db={c.db.id} sub={len(c.subscriptions)} psub={len(c.psubscriptions)} ssub={len(c.ssubscriptions)} "
        f"multi={multi_len} watch={len(c.watched)} qbuf={qbuf} qbuf-free={max(0, 20474 - qbuf)} argv-mem=0 "
        f"multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=0 tot-mem={22426 + qbuf} events=r "
        f"cmd={c.cmd_name} user={c.user.decode('latin-1')} redir=-1 resp={c.resp} "
        f"lib-name={c.lib_name.decode('latin-1')} lib-ver={c.lib_ver.decode('latin-1')}"
    )


_CLIENT_TYPES = {b"normal", b"master", b"replica", b"slave", b"pubsub"}


def client_type(c) -> bytes:
    if c.is_master:
        return b"master"
    if c in c.server.replicas:
        return b"replica"
    if c.pubsub_count:
        return b"pubsub"
    return b"normal"


def _type_arg(value: bytes) -> bytes:
    low = value.lower()
    if low not in _CLIENT_TYPES:
        raise RespError("ERR Unknown client type '%s'" % value.decode("latin-1"))
    return b"replica" if low == b"slave" else low


@command("client|id")
def client_id_command(c, argv):
    return c.id


@command("client|setname")
def client_setname_command(c, argv):
    if not valid_client_attr(argv[2]):
        raise RespError(errors.CLIENT_NAME_INVALID)
    c.name = argv[2]
    return OK


@command("client|getname")
def client_getname_command(c, argv):
    return c.name or None


@command("client|setinfo")
def client_setinfo_command(c, argv):
    attr = argv[2].lower()
    if attr not in (b"lib-name", b"lib-ver"):
        raise RespError("ERR Unrecognized option '%s'" % argv[2].decode("latin-1"))
    if not valid_client_attr(argv[3]):
        raise RespError("ERR %s cannot contain spaces, newlines or special characters." % argv[2].decode("latin-1"))
    if attr == b"lib-name":
        c.lib_name = argv[3]
    else:
        c.lib_ver = argv[3]
    return OK


@command("client|info")
def client_info_command(c, argv):
    return Verbatim(client_info_line(c) + "\n")


@command("client|list")
def client_list_command(c, argv):
    clients = list(c.server.clients.values())
    if len(argv) == 4 and argv[2].lower() == b"type":
        want = _type_arg(argv[3])
        clients = [x for x in clients if client_type(x) == want]
    elif len(argv) > 3 and argv[2].lower() == b"id":
        ids = []
        for a in argv[3:]:
            v = string2ll(a)
            if v is None:
                raise RespError(errors.CLIENT_ID_INVALID)
            ids.append(v)
        clients = [c.server.clients[i] for i in ids if i in c.server.clients]
    elif len(argv) != 2:
        raise RespError(errors.SYNTAX)
    return Verbatim("".join(client_info_line(x) + "\n" for x in clients))


@command("client|reply")
def client_reply_command(c, argv):
    if len(argv) != 3:
        raise RespError(errors.unknown_subcommand(argv[1], argv[0]))
    mode = argv[2].lower()
    if mode == b"on":
        c.reply_mode = 0
        return OK
    if mode == b"off":
        c.reply_mode = 1
    elif mode == b"skip":
        if c.reply_mode != 1:
            c.reply_mode = 3  # this command answers nothing, then the next reply is skipped
    else:
        raise RespError(errors.SYNTAX)
    return NO_REPLY


def _on_off(argv) -> bool:
    v = argv[2].lower()
    if v == b"on":
        return True
    if v == b"off":
        return False
    raise RespError(errors.SYNTAX)


@command("client|no-evict")
def client_no_evict_command(c, argv):
    c.no_evict = _on_off(argv)
    return OK


@command("client|no-touch")
def client_no_touch_command(c, argv):
    c.no_touch = _on_off(argv)
    return OK


@command("client|kill")
def client_kill_command(c, argv):
    server = c.server
    addr = laddr = user = ctype = None
    cid = 0
    max_age = 0
    skipme = True
    if len(argv) == 3:
        addr = argv[2].decode("latin-1")
        skipme = False
    else:
        i = 2
        while i < len(argv):
            opt = argv[i].lower()
            if i + 1 >= len(argv):
                raise RespError(errors.SYNTAX)
            val = argv[i + 1]
            if opt == b"id":
                v = string2ll(val)
                if v is None or v < 1:
                    raise RespError(errors.CLIENT_ID_POSITIVE)
                cid = v
            elif opt == b"maxage":
                v = string2ll(val)
                if v is None:
                    raise RespError(errors.MAXAGE_NOT_INTEGER)
                if v <= 0:
                    raise RespError(errors.MAXAGE_POSITIVE)
                max_age = v
            elif opt == b"type":
                ctype = _type_arg(val)
            elif opt == b"addr":
                addr = val.decode("latin-1")
            elif opt == b"laddr":
                laddr = val.decode("latin-1")
            elif opt == b"user":
                if val != b"default":
                    raise RespError("ERR No such user '%s'" % val.decode("latin-1"))
                user = val
            elif opt == b"skipme":
                low = val.lower()
                if low not in (b"yes", b"no"):
                    raise RespError(errors.SYNTAX)
                skipme = low == b"yes"
            else:
                raise RespError(errors.SYNTAX)
            i += 2
    now = time()
    killed = 0
    for other in list(server.clients.values()):
        if addr is not None and other.addr != addr:
            continue
        if laddr is not None and other.laddr != laddr:
            continue
        if ctype is not None and client_type(other) != ctype:
            continue
        if cid and other.id != cid:
            continue
        if user is not None and other.user != user:
            continue
        if other is c and skipme:
            continue
        if max_age and now - other.ctime < max_age:
            continue
        if other is c:
            c.close_after_reply()
        elif other.transport is not None:
            other.closing = True
            other.transport.close()
        killed += 1
    if len(argv) == 3:
        if not killed:
            raise RespError(errors.NO_SUCH_CLIENT)
        return OK
    return killed


@command("client|unblock")
def client_unblock_command(c, argv):
    if len(argv) not in (3, 4):
        raise RespError(errors.unknown_subcommand(argv[1], argv[0]))
    as_error = False
    if len(argv) == 4:
        reason = argv[3].lower()
        if reason == b"error":
            as_error = True
        elif reason != b"timeout":
            raise RespError(errors.UNBLOCK_REASON)
    cid = string2ll(argv[2])
    if cid is None:
        raise RespError(errors.NOT_INTEGER)
    target = c.server.clients.get(cid)
    if target is None or target.blocked is None:
        return 0
    if as_error:
        target.unblock_with(RespError(errors.UNBLOCKED))
    else:
        target.block_timeout()
    return 1


@command("client|pause")
def client_pause_command(c, argv):
    if len(argv) not in (3, 4):
        raise RespError(errors.unknown_subcommand(argv[1], argv[0]))
    mode = "all"
    if len(argv) == 4:
        m = argv[3].lower()
        if m == b"write":
            mode = "write"
        elif m != b"all":
            raise RespError(errors.PAUSE_MODE)
    timeout = string2ll(argv[2])
    if timeout is None:
        raise RespError(errors.TIMEOUT_NOT_INTEGER)
    if timeout < 0:
        raise RespError(errors.TIMEOUT_NEGATIVE)
    c.server.pause(mode, timeout)
    return OK


@command("client|unpause")
def client_unpause_command(c, argv):
    c.server.unpause()
    return OK


CLIENT_HELP = [
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
]


@command("client|help")
def client_help_command(c, argv):
    return help_reply(argv[0], CLIENT_HELP)
