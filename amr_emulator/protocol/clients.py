"""Client-connection logic shared by the shard and the proxy (sans-IO): HELLO and CLIENT argument
parsing and the CLIENT LIST / CLIENT INFO line, with Redis 7.4's texts."""
from __future__ import annotations

from . import errors
from .errors import RespError
from .resp import string2ll

CLIENT_TYPES = {b"normal", b"master", b"replica", b"slave", b"pubsub"}


def address_text(sockaddr) -> str:
    """A socket address as CLIENT LIST shows it ("host:port"); "?:0" when it is not an IP one."""
    if isinstance(sockaddr, tuple):
        return f"{sockaddr[0]}:{sockaddr[1]}"
    return "?:0"


def valid_client_attr(value: bytes) -> bool:
    """No spaces, newlines or other characters outside '!'..'~' (CLIENT LIST must stay parseable)."""
    return all(33 <= ch <= 126 for ch in value)


def parse_hello(argv: list) -> tuple:
    """HELLO [protover [AUTH user pass] [SETNAME name]] -> (version or None, (user, pass) or None,
    name or None); raises Redis's error for a bad version, option or name."""
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
            raise RespError(errors.hello_syntax(argv[i]))
    return version, auth, name


def client_type_arg(value: bytes) -> bytes:
    """A TYPE argument of CLIENT LIST / CLIENT KILL, lowercased, 'slave' read as 'replica'."""
    low = value.lower()
    if low not in CLIENT_TYPES:
        raise RespError(errors.unknown_client_type(value))
    return b"replica" if low == b"slave" else low


def check_client_name(argv: list) -> bytes:
    """CLIENT SETNAME name -> the name."""
    if not valid_client_attr(argv[2]):
        raise RespError(errors.CLIENT_NAME_INVALID)
    return argv[2]


def parse_setinfo(argv: list) -> tuple:
    """CLIENT SETINFO LIB-NAME|LIB-VER value -> (b"lib-name" or b"lib-ver", value)."""
    attr = argv[2].lower()
    if attr not in (b"lib-name", b"lib-ver"):
        raise RespError(errors.setinfo_unrecognized(argv[2]))
    if not valid_client_attr(argv[3]):
        raise RespError(errors.setinfo_invalid(argv[2]))
    return attr, argv[3]


def parse_client_list(argv: list) -> tuple:
    """CLIENT LIST [TYPE type | ID id ...] -> (type or None, list of ids or None)."""
    if len(argv) == 4 and argv[2].lower() == b"type":
        return client_type_arg(argv[3]), None
    if len(argv) > 3 and argv[2].lower() == b"id":
        ids = []
        for a in argv[3:]:
            v = string2ll(a)
            if v is None:
                raise RespError(errors.CLIENT_ID_INVALID)
            ids.append(v)
        return None, ids
    if len(argv) != 2:
        raise RespError(errors.SYNTAX)
    return None, None


def client_info_line(*, id: int, addr: str, laddr: str, name: bytes, age: int, idle: int, flags: str,
                     db: int, sub: int, psub: int, ssub: int, multi: int, watch: int, qbuf: int,
                     cmd: str, user: str, redir: int, resp: int, lib_name: bytes, lib_ver: bytes) -> str:
    """One line of CLIENT LIST / CLIENT INFO (without the newline), fields in Redis 7.4's order."""
    return (
        f"id={id} addr={addr} laddr={laddr} fd={8 + id} name={name.decode('latin-1')} "
        f"age={age} idle={idle} flags={flags} "
        f"db={db} sub={sub} psub={psub} ssub={ssub} "
        f"multi={multi} watch={watch} qbuf={qbuf} qbuf-free={max(0, 20474 - qbuf)} argv-mem=0 "
        f"multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=0 tot-mem={22426 + qbuf} events=r "
        f"cmd={cmd} user={user} redir={redir} resp={resp} "
        f"lib-name={lib_name.decode('latin-1')} lib-ver={lib_ver.decode('latin-1')}"
    )


class KillFilter:
    """CLIENT KILL's filters: which clients match (None/0 = any)."""

    __slots__ = ("addr", "laddr", "cid", "ctype", "user", "skipme", "max_age", "old_form")

    def __init__(self):
        self.addr = self.laddr = self.ctype = self.user = None
        self.cid = 0
        self.max_age = 0
        self.skipme = True
        self.old_form = False  # `CLIENT KILL addr:port`: +OK or -ERR No such client


def parse_client_kill(argv: list, user_exists) -> KillFilter:
    """CLIENT KILL's arguments as Redis reads them (clientKillCommand), in its order of errors;
    `user_exists(name)` answers for the USER filter."""
    f = KillFilter()
    if len(argv) == 3:
        f.addr = argv[2].decode("latin-1")
        f.skipme = False
        f.old_form = True
        return f
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
            f.cid = v
        elif opt == b"maxage":
            v = string2ll(val)
            if v is None:
                raise RespError(errors.MAXAGE_NOT_INTEGER)
            if v <= 0:
                raise RespError(errors.MAXAGE_POSITIVE)
            f.max_age = v
        elif opt == b"type":
            f.ctype = client_type_arg(val)
        elif opt == b"addr":
            f.addr = val.decode("latin-1")
        elif opt == b"laddr":
            f.laddr = val.decode("latin-1")
        elif opt == b"user":
            if not user_exists(val):
                raise RespError(errors.no_such_user(val))
            f.user = val
        elif opt == b"skipme":
            low = val.lower()
            if low not in (b"yes", b"no"):
                raise RespError(errors.SYNTAX)
            f.skipme = low == b"yes"
        else:
            raise RespError(errors.SYNTAX)
        i += 2
    return f
