"""Connection commands: PING ECHO QUIT HELLO AUTH SELECT RESET, and the CLIENT family (Redis 7.4)."""
from __future__ import annotations

from time import time, time_ns

from amr_emulator.protocol import clients as client_args
from amr_emulator.protocol import errors
from amr_emulator.protocol.clients import parse_client_kill
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import OK, PONG, RespSet, Simple, Verbatim, string2ll

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
    """The ACL users' credentials (the default user follows requirepass)."""
    return c.server.acl.check_credentials(user, password)


def authenticate(c, user: bytes, password: bytes) -> None:
    if not check_password(c, user, password):
        from ..acl import DENIED_AUTH

        c.server.acl.add_log(c, DENIED_AUTH, argv0_of(c), user)
        raise RespError(errors.WRONGPASS)
    c.authenticated = True
    c.parser.require_auth = False
    c.user = user


def argv0_of(c) -> bytes:
    return getattr(c, "current_argv0", None) or c.cmd_name.encode()


@command("auth")
def auth_command(c, argv):
    if len(argv) > 3:
        raise RespError(errors.SYNTAX)
    c.current_argv0 = argv[0]
    if len(argv) == 2:
        if c.server.acl.default.nopass:
            raise RespError(errors.AUTH_NOT_CONFIGURED)
        authenticate(c, b"default", argv[1])
    else:
        authenticate(c, argv[1], argv[2])
    return OK


@command("hello")
def hello_command(c, argv):
    version, auth, name = client_args.parse_hello(argv)
    if auth is not None:
        c.current_argv0 = argv[0]
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
    if server.tracking is not None:
        server.tracking.disable(c)
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
    st = getattr(c, "tracking", None)
    if st is not None:
        f += "t"
        if st.broken:
            f += "R"
        if st.bcast:
            f += "B"
    if c.dirty_cas:
        f += "d"
    if c.closing:
        f += "c"
    if c.no_evict:
        f += "e"
    if c.no_touch:
        f += "T"
    return f or "N"


def _redir(c) -> int:
    st = getattr(c, "tracking", None)
    return -1 if st is None else st.redirect


def client_info_line(c) -> str:
    return client_args.client_info_line(
        id=c.id, addr=c.addr, laddr=c.laddr, name=c.name, age=int(time() - c.ctime),
        idle=(time_ns() // 1000000 - c.last_interaction) // 1000, flags=client_flags(c), db=c.db.id,
        sub=len(c.subscriptions), psub=len(c.psubscriptions), ssub=len(c.ssubscriptions),
        multi=len(c.multi) if c.multi is not None else -1, watch=len(c.watched), qbuf=c.parser.pending(),
        cmd=c.cmd_name, user=c.user.decode("latin-1"), redir=_redir(c), resp=c.resp,
        lib_name=c.lib_name, lib_ver=c.lib_ver)


def client_type(c) -> bytes:
    if c.is_master:
        return b"master"
    if c in c.server.replicas:
        return b"replica"
    if c.pubsub_count:
        return b"pubsub"
    return b"normal"


@command("client|id")
def client_id_command(c, argv):
    return c.id


@command("client|setname")
def client_setname_command(c, argv):
    c.name = client_args.check_client_name(argv)
    return OK


@command("client|getname")
def client_getname_command(c, argv):
    return c.name or None


@command("client|setinfo")
def client_setinfo_command(c, argv):
    attr, value = client_args.parse_setinfo(argv)
    if attr == b"lib-name":
        c.lib_name = value
    else:
        c.lib_ver = value
    return OK


@command("client|info")
def client_info_command(c, argv):
    return Verbatim(client_info_line(c) + "\n")


@command("client|list")
def client_list_command(c, argv):
    want, ids = client_args.parse_client_list(argv)
    clients = list(c.server.clients.values())
    if want is not None:
        clients = [x for x in clients if client_type(x) == want]
    elif ids is not None:
        clients = [c.server.clients[i] for i in ids if i in c.server.clients]
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
    f = parse_client_kill(argv, lambda name: name in server.acl.users)
    now = time()
    killed = 0
    for other in list(server.clients.values()):
        if f.addr is not None and other.addr != f.addr:
            continue
        if f.laddr is not None and other.laddr != f.laddr:
            continue
        if f.ctype is not None and client_type(other) != f.ctype:
            continue
        if f.cid and other.id != f.cid:
            continue
        if f.user is not None and other.user != f.user:
            continue
        if other is c and f.skipme:
            continue
        if f.max_age and now - other.ctime < f.max_age:
            continue
        if other is c:
            c.close_after_reply()
        elif other.transport is not None:
            other.closing = True
            other.transport.close()
        killed += 1
    if f.old_form:
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


# --- CLIENT TRACKING (client-side caching; the server side is shard/tracking.py) ----------------------


@command("client|tracking")
def client_tracking_command(c, argv):
    from ..tracking import ensure, state

    server = c.server
    redir = 0
    bcast = optin = optout = noloop = False
    prefixes = []
    j = 3
    argc = len(argv)
    while j < argc:
        opt = argv[j].lower()
        more = argc - 1 - j
        if opt == b"redirect" and more:
            j += 1
            if redir != 0:
                raise RespError(errors.TRACKING_ONE_REDIRECT)
            redir = string2ll(argv[j])
            if redir is None:
                raise RespError(errors.NOT_INTEGER)
            if redir not in server.clients:
                raise RespError(errors.TRACKING_NO_REDIRECT_CLIENT)
        elif opt == b"bcast":
            bcast = True
        elif opt == b"optin":
            optin = True
        elif opt == b"optout":
            optout = True
        elif opt == b"noloop":
            noloop = True
        elif opt == b"prefix" and more:
            j += 1
            prefixes.append(argv[j])
        else:
            raise RespError(errors.SYNTAX)
        j += 1
    mode = argv[2].lower()
    if mode == b"on":
        st = state(c)
        if not bcast and prefixes:
            raise RespError(errors.TRACKING_PREFIX_NEEDS_BCAST)
        if st is not None and st.bcast != bcast:
            raise RespError(errors.TRACKING_SWITCH_BCAST)
        if bcast and (optin or optout):
            raise RespError(errors.TRACKING_OPTIN_BCAST)
        if optin and optout:
            raise RespError(errors.TRACKING_OPTIN_AND_OPTOUT)
        if st is not None and ((optin and st.optout) or (optout and st.optin)):
            raise RespError(errors.TRACKING_SWITCH_OPTIN)
        if bcast:
            mine = st.prefixes if st is not None else []
            for i, p in enumerate(prefixes):
                for q in mine:
                    n = min(len(p), len(q))
                    if p[:n] == q[:n]:
                        raise RespError(errors.tracking_prefix_overlap(p, q, existing=True))
                for q in prefixes[i + 1:]:
                    n = min(len(p), len(q))
                    if p[:n] == q[:n]:
                        raise RespError(errors.tracking_prefix_overlap(p, q, existing=False))
        ensure(server).enable(c, redir, bcast, optin, optout, noloop, prefixes)
    elif mode == b"off":
        if server.tracking is not None:
            server.tracking.disable(c)
    else:
        raise RespError(errors.SYNTAX)
    return OK


@command("client|caching")
def client_caching_command(c, argv):
    from ..tracking import state

    st = state(c)
    if st is None:
        raise RespError(errors.CACHING_NOT_TRACKING)
    opt = argv[2].lower()
    if opt == b"yes":
        if not st.optin:
            raise RespError(errors.CACHING_YES_NOT_OPTIN)
    elif opt == b"no":
        if not st.optout:
            raise RespError(errors.CACHING_NO_NOT_OPTOUT)
    else:
        raise RespError(errors.SYNTAX)
    st.caching = True
    return OK


@command("client|getredir")
def client_getredir_command(c, argv):
    return _redir(c)


@command("client|trackinginfo")
def client_trackinginfo_command(c, argv):
    from ..tracking import state

    st = state(c)
    flags = [b"on" if st is not None else b"off"]
    if st is not None:
        if st.bcast:
            flags.append(b"bcast")
        if st.optin:
            flags.append(b"optin")
            if st.caching:
                flags.append(b"caching-yes")
        if st.optout:
            flags.append(b"optout")
            if st.caching:
                flags.append(b"caching-no")
        if st.noloop:
            flags.append(b"noloop")
        if st.broken:
            flags.append(b"broken_redirect")
    return {b"flags": RespSet(flags), b"redirect": _redir(c),
            b"prefixes": [] if st is None else list(st.prefixes)}


@command("client|help")
def client_help_command(c, argv):
    return help_reply(argv[0], CLIENT_HELP)
