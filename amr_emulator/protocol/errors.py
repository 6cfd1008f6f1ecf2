"""Every error string the emulator sends on the wire, verbatim from Redis 7.x.

Handlers raise `RespError`; the session encodes it as `-<message>\\r\\n`. A message carries its own
prefix (`ERR`, `WRONGTYPE`, `NOSCRIPT`, ...), exactly as Redis sends it. The few texts without a code
are parts that another text wraps, as in Redis (a protocol error's detail, a CONFIG SET reason, an ACL
SETUSER rule's error, a Lua error before the script's error handler adds `ERR`). Texts of our own (the
proxy's, the internal AMR.* commands') say so in their section. tests/unit/test_error_texts.py fails
when an error text is written anywhere else.
"""


class RespError(Exception):
    """An error reply. `message` is the full text after the `-`, prefix included."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ProtocolError(Exception):
    """A malformed request: answered with `-ERR Protocol error: ...` and the connection is closed."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.message = "ERR Protocol error: " + detail


# --- protocol: the details of `ERR Protocol error: <detail>` (processInlineBuffer, processMultibulkBuffer) ---
PROTO_INLINE_TOO_BIG = "too big inline request"
PROTO_UNBALANCED_QUOTES = "unbalanced quotes in request"
PROTO_MBULK_COUNT_TOO_BIG = "too big mbulk count string"
PROTO_INVALID_MBULK_LENGTH = "invalid multibulk length"
PROTO_UNAUTHENTICATED_MBULK_LENGTH = "unauthenticated multibulk length"
PROTO_BULK_COUNT_TOO_BIG = "too big bulk count string"
PROTO_INVALID_BULK_LENGTH = "invalid bulk length"
PROTO_UNAUTHENTICATED_BULK_LENGTH = "unauthenticated bulk length"


def proto_expected_dollar(got: str) -> str:
    return "expected '$', got '%s'" % got


def error_frame(message: str) -> bytes:
    """`-<message>\\r\\n`, for the few places that write an error frame themselves rather than raise."""
    return b"-" + message.encode("latin-1", "replace") + b"\r\n"


def err_reply(message: str) -> str:
    """addReplyError's rule: a message built elsewhere without a code gets `ERR `."""
    return "ERR " + message


# --- generic -------------------------------------------------------------------------------
SYNTAX = "ERR syntax error"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
NAN_OR_INF = "ERR increment would produce NaN or Infinity"
NO_SUCH_KEY = "ERR no such key"
INDEX_OUT_OF_RANGE = "ERR index out of range"
OUT_OF_RANGE_POSITIVE = "ERR value is out of range, must be positive"
INVALID_EXPIRE = "ERR invalid expire time in '{}' command"
OFFSET_OUT_OF_RANGE = "ERR offset is out of range"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
DB_INDEX_OUT_OF_RANGE = "ERR DB index is out of range"
SAME_OBJECT = "ERR source and destination objects are the same"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_OUT_OF_RANGE = "ERR timeout is out of range"
MIN_MAX_NOT_FLOAT = "ERR min or max is not a float"
MIN_MAX_NOT_STRING_RANGE = "ERR min or max not valid string range item"
NUMKEYS_ZERO = "ERR numkeys should be greater than 0"
NUMKEYS_TOO_BIG = "ERR Number of keys can't be greater than number of args"
NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
AUTH_NOT_CONFIGURED = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
NOPROTO = "NOPROTO unsupported protocol version"
EXECABORT = "EXECABORT Transaction discarded because of previous errors."
MULTI_NESTED = "ERR MULTI calls can not be nested"
EXEC_WITHOUT_MULTI = "ERR EXEC without MULTI"
DISCARD_WITHOUT_MULTI = "ERR DISCARD without MULTI"
WATCH_IN_MULTI = "ERR WATCH inside MULTI is not allowed"


def execabort_because(message: str) -> str:
    """execCommandAbort: the reason (an error text, code included) of a transaction discarded at EXEC."""
    return "EXECABORT Transaction discarded because of: " + message


def internal_error(command_name: str) -> str:
    """Our own reply when a handler raised a Python exception (a bug of ours): the shard serves on."""
    return "ERR internal error executing '%s'" % command_name
READONLY = "READONLY You can't write against a read only replica."
LOADING = "LOADING Redis is loading the dataset in memory"
OOM = "OOM command not allowed when used memory > 'maxmemory'."
BUSYKEY = "BUSYKEY Target key name already exists."
CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot"


def wrong_arity(name: str) -> str:
    return f"ERR wrong number of arguments for '{name}' command"


def _one_line(s: str) -> str:
    return s.replace("\r", " ").replace("\n", " ")


def unknown_command(name: bytes, args: list) -> str:
    """Redis's text: the name (128 bytes at most), then arguments quoted while they fit in 128 bytes.

    Messages carry client bytes as latin-1 so that every byte survives the round trip to the wire.
    """
    shown = ""
    for a in args:
        if len(shown) >= 128:
            break
        shown += "'" + a[: 128 - len(shown)].decode("latin-1") + "' "
    return _one_line(f"ERR unknown command '{name[:128].decode('latin-1')}', with args beginning with: {shown}")


def unknown_subcommand(sub: bytes, command: bytes) -> str:
    return _one_line(
        f"ERR unknown subcommand '{sub[:128].decode('latin-1')}'. Try {command.decode('latin-1').upper()} HELP."
    )


def pubsub_context(name: str) -> str:
    return (
        f"ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
        "are allowed in this context"
    )


def invalid_expire(name: str) -> str:
    return INVALID_EXPIRE.format(name)

# --- connection ---
PROTO_VERSION_INVALID = "ERR Protocol version is not an integer or out of range"
CLIENT_NAME_INVALID = "ERR Client names cannot contain spaces, newlines or special characters."
HELLO_NOAUTH = ("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> "
                "AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol "
                "version at the same time")
NO_SUCH_CLIENT = "ERR No such client"
CLIENT_ID_INVALID = "ERR Invalid client ID"
CLIENT_ID_POSITIVE = "ERR client-id should be greater than 0"
MAXAGE_NOT_INTEGER = "ERR maxage is not an integer or out of range"
MAXAGE_POSITIVE = "ERR maxage should be greater than 0"


MAX_CLIENTS = "ERR max number of clients reached"


def no_such_user(name: bytes) -> str:
    return "ERR No such user '%s'" % name.decode("latin-1")


def hello_syntax(option: bytes) -> str:
    return "ERR Syntax error in HELLO option '%s'" % option.decode("latin-1")


def unknown_client_type(name: bytes) -> str:
    return "ERR Unknown client type '%s'" % name.decode("latin-1")


def setinfo_unrecognized(attr: bytes) -> str:
    return "ERR Unrecognized option '%s'" % attr.decode("latin-1")


def setinfo_invalid(attr: bytes) -> str:
    return "ERR %s cannot contain spaces, newlines or special characters." % attr.decode("latin-1")


PAUSE_MODE = "ERR CLIENT PAUSE mode must be WRITE or ALL"
TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range"
UNBLOCK_REASON = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
UNBLOCKED = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
INT_OUT_OF_RANGE = "ERR value is out of range, value must between -2147483648 and 2147483647"


def subcommand_syntax(sub: bytes, command: bytes) -> str:
    """addReplySubcommandSyntaxError."""
    return _one_line("ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP."
                     % (sub[:128].decode("latin-1"), command.decode("latin-1").upper()))

# --- strings and generic keys ---
DECREMENT_OVERFLOW = "ERR decrement would overflow"
LCS_NOT_STRINGS = "ERR The specified keys must contain string values"
LCS_LEN_AND_IDX = "ERR If you want both the length and indexes, please just use IDX."
LCS_TOO_LONG = "ERR String too long for LCS"
LCS_TOO_MUCH_MEMORY = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
INVALID_CURSOR = "ERR invalid cursor"
SCAN_NOVALUES = "ERR NOVALUES option can only be used in HSCAN"
EXPIRE_NX_AND_OTHERS = "ERR NX and XX, GT or LT options at the same time are not compatible"
EXPIRE_GT_AND_LT = "ERR GT and LT options at the same time are not compatible"
EXPIRE_UNSUPPORTED_OPTION = "ERR Unsupported option {}"

# --- server and introspection ---
INVALID_FIRST_DB = "ERR invalid first DB index"
INVALID_SECOND_DB = "ERR invalid second DB index"
SWAPDB_CLUSTER = "ERR SWAPDB is not allowed in cluster mode"
DEBUG_NOT_ALLOWED = ("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can "
                     "run it from a local connection, otherwise you need to set this option in the configuration "
                     "file, and then restart the server.")
LFU_NOT_SELECTED = ("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
                    "when switching between policies at runtime LRU and LFU data will take some time to adjust.")
LFU_SELECTED = ("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching "
                "between policies at runtime LRU and LFU data will take some time to adjust.")
SLOWLOG_COUNT = "ERR count should be greater than or equal to -1"
MONITOR_DENY_BLOCKING = "ERR MONITOR isn't allowed for DENY BLOCKING client"
GETKEYS_INVALID_COMMAND = "ERR Invalid command specified"
GETKEYS_NO_KEYS = "ERR The command has no key arguments"
GETKEYS_ARITY = "ERR Invalid number of arguments specified for command"
GETKEYS_INVALID_ARGS = "ERR Invalid arguments specified for command"


# why CONFIG SET refuses a value (config.c): the reason after " - " in config_set_failed
CONFIG_NOT_BOOL = "argument must be 'yes' or 'no'"
CONFIG_NOT_MEMORY_OR_PERCENT = "argument must be a memory or percent value"
CONFIG_NOT_MEMORY = "argument must be a memory value"
CONFIG_NOT_OCTAL = "argument couldn't be parsed as an octal number"
CONFIG_NOT_INTEGER = "argument couldn't be parsed into an integer"
CONFIG_WRONG_ARGS = "wrong number of arguments"
CONFIG_SAVE_PARAMS = "Invalid save parameters"
CONFIG_OBUF_ARGS = "Wrong number of arguments in buffer limit configuration."
CONFIG_OBUF_CLASS = "Invalid client class specified in buffer limit configuration."
CONFIG_OBUF_LIMITS = "Error in hard, soft or soft_seconds setting in buffer limit configuration."
CONFIG_OOM_SCORE_ADJ = "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
CONFIG_NOTIFY_CLASS = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
CONFIG_TOO_MANY_BINDS = "Too many bind addresses specified."
CONFIG_MASTER_PORT = "Invalid master port"
CONFIG_PERCENTILES = "Invalid latency-tracking-info-percentiles parameters"
CONFIG_PERCENTILES_RANGE = "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
CONFIG_DBFILENAME_PATH = "dbfilename can't be a path, just a filename"
CONFIG_APPENDFILENAME_EMPTY = "appendfilename can't be empty"
CONFIG_APPENDFILENAME_PATH = "appendfilename can't be a path, just a filename"
CONFIG_APPENDDIRNAME_EMPTY = "appenddirname can't be empty"
CONFIG_APPENDDIRNAME_PATH = "appenddirname can't be a path, just a dirname"
CONFIG_HOSTNAME_LENGTH = "Hostnames must be less than 256 characters"
CONFIG_HOSTNAME_CHARS = "Hostnames may only contain alphanumeric characters, hyphens or dots"
CONFIG_NODENAME_CHARS = "Announced human node name contained invalid character"
CONFIG_TITLE_TEMPLATE = "template format is invalid or contains unknown variables"
CONFIG_SHUTDOWN_SAVE_AND_NOSAVE = "shutdown options SAVE and NOSAVE can't be used simultaneously"
CONFIG_PORT_LISTEN = "Unable to listen on this port. Check server logs."
CONFIG_BIND_FAILED = "Failed to bind to specified addresses."


def config_range(lo: int, hi: int) -> str:
    return "argument must be between %d and %d inclusive" % (lo, hi)


def config_range_octal(lo: int, hi: int) -> str:
    return "argument must be between %o and %o inclusive" % (lo, hi)


def config_percent_max(most: int) -> str:
    return "percentage argument must be less or equal to %d" % most


def config_enum_choices(names) -> str:
    """The list of an enum's names, cut as Redis's 256-byte buffer cuts it."""
    return ("argument(s) must be one of the following: " + ", ".join(names))[:255]


def config_unknown_option(name: str) -> str:
    return f"ERR Unknown option or number of arguments for CONFIG SET - '{name}'"


def config_set_failed(name: str, reason: str) -> str:
    return f"ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"

# --- zset ---
ZADD_XX_AND_NX = "ERR XX and NX options at the same time are not compatible"
ZADD_GT_LT_NX = "ERR GT, LT, and/or NX options at the same time are not compatible"
ZADD_INCR_PAIR = "ERR INCR option supports a single increment-element pair"
ZSET_NAN = "ERR resulting score is not a number (NaN)"
ZRANGE_LIMIT_NEEDS_BY = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
ZRANGE_WITHSCORES_BYLEX = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
ZSET_WEIGHT_NOT_FLOAT = "ERR weight value is not a float"
ZSET_LIMIT_NEGATIVE = "ERR LIMIT can't be negative"
ZSET_COUNT_NOT_POSITIVE = "ERR count should be greater than 0"
ZSET_VALUE_OUT_OF_RANGE = "ERR value is out of range"
ZSET_NEEDS_KEY = "ERR at least 1 input key is needed for '{}' command"

# --- hashes and sets ---
HASH_NOT_INTEGER = "ERR hash value is not an integer"
HASH_NOT_FLOAT = "ERR hash value is not a float"
VALUE_NAN_OR_INF = "ERR value is NaN or Infinity"
VALUE_OUT_OF_RANGE = "ERR value is out of range"
LONG_RANGE = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
SINTERCARD_LIMIT_NEGATIVE = "ERR LIMIT can't be negative"

# --- lists ---
LPOS_RANK_ZERO = ("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                  "or use negative to start from the end of the list")
LPOS_COUNT_NEGATIVE = "ERR COUNT can't be negative"
LPOS_MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative"
COUNT_NOT_POSITIVE = "ERR count should be greater than 0"

# --- streams (t_stream.c) ---
STREAM_ID_INVALID = "ERR Invalid stream ID specified as stream command argument"
XADD_ID_ZERO = "ERR The ID specified in XADD must be greater than 0-0"
XADD_ID_TOO_SMALL = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
XADD_ID_EXHAUSTED = "ERR The stream has exhausted the last possible ID, unable to add more items"
XADD_TOO_LARGE = "ERR Elements are too large to be stored"
STREAM_MAXLEN_NEGATIVE = "ERR The MAXLEN argument must be >= 0."
STREAM_LIMIT_NEGATIVE = "ERR The LIMIT argument must be >= 0."
STREAM_MAXLEN_AND_MINID = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
STREAM_LIMIT_WITHOUT_STRATEGY = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
XTRIM_NO_STRATEGY = "ERR syntax error, XTRIM must be called with a trimming strategy"
STREAM_LIMIT_WITHOUT_APPROX = "ERR syntax error, LIMIT cannot be used without the special ~ option"
STREAM_INVALID_START = "ERR invalid start ID for the interval"
STREAM_INVALID_END = "ERR invalid end ID for the interval"
XREAD_GROUP_OPTION = "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
XREAD_NOACK_OPTION = "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
XREADGROUP_NO_GROUP = "ERR Missing GROUP option for XREADGROUP"
XREADGROUP_DOLLAR = ("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of "
                     "this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would "
                     "just return an empty result set.")
XREADGROUP_PLUS = ("ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of "
                   "this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would "
                   "just return an empty result set.")
XREAD_LAST_ID_ZERO = "ERR the stream last element ID is 0-0"
XREAD_GT_ID = ("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> "
               "option.")
XGROUP_ENTRIESREAD = "ERR value for ENTRIESREAD must be positive or -1"
XGROUP_NEEDS_KEY = ("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use "
                    "the MKSTREAM option to create an empty stream automatically.")
BUSYGROUP = "BUSYGROUP Consumer Group name already exists"
XSETID_ENTRIES_ADDED_NEGATIVE = "ERR entries_added must be positive"
XSETID_SMALLER_THAN_MAXDEL_ARG = "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
XSETID_SMALLER_THAN_MAXDEL = "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id"
XSETID_SMALLER_THAN_TOP = "ERR The ID specified in XSETID is smaller than the target stream top item"
XSETID_ENTRIES_ADDED_SMALL = "ERR The entries_added specified in XSETID is smaller than the target stream length"
XCLAIM_MIN_IDLE = "ERR Invalid min-idle-time argument for XCLAIM"
XCLAIM_IDLE = "ERR Invalid IDLE option argument for XCLAIM"
XCLAIM_TIME = "ERR Invalid TIME option argument for XCLAIM"
XCLAIM_RETRYCOUNT = "ERR Invalid RETRYCOUNT option argument for XCLAIM"
XAUTOCLAIM_MIN_IDLE = "ERR Invalid min-idle-time argument for XAUTOCLAIM"
XAUTOCLAIM_COUNT = "ERR COUNT must be > 0"


def _c(b: bytes) -> str:
    """A client argument inside an error: as C's %s prints it (up to a NUL), on one line."""
    return _one_line(b.split(b"\0", 1)[0].decode("latin-1"))


def xread_unbalanced(xreadgroup: bool) -> str:
    return ("ERR Unbalanced '%s' list of streams: for each stream key an ID or '%s' must be specified."
            % (("xreadgroup", ">") if xreadgroup else ("xread", "$")))


def nogroup_xreadgroup(key: bytes, group: bytes) -> str:
    return "NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option" % (_c(key), _c(group))


def nogroup_for_key(group: bytes, key: bytes) -> str:
    return "NOGROUP No such consumer group '%s' for key name '%s'" % (_c(group), _c(key))


def nogroup(key: bytes, group: bytes) -> str:
    return "NOGROUP No such key '%s' or consumer group '%s'" % (_c(key), _c(group))


def xclaim_unrecognized(opt: bytes) -> str:
    return "ERR Unrecognized XCLAIM option '%s'" % _c(opt)
# --- bitmaps ---
BIT_OFFSET = "ERR bit offset is not an integer or out of range"
BIT_VALUE = "ERR bit is not an integer or out of range"
BITPOS_BIT = "ERR The bit argument must be 1 or 0."
BITOP_NOT_ONE_KEY = "ERR BITOP NOT must be called with a single source key."
BITFIELD_TYPE = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
BITFIELD_OVERFLOW = "ERR Invalid OVERFLOW type specified"
BITFIELD_RO = "ERR BITFIELD_RO only supports the GET subcommand"

# --- hyperloglog ---
HLL_NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
HLL_INVALID = "INVALIDOBJ Corrupted HLL object detected"
HLL_NO_KEY = "ERR The specified key does not exist"
HLL_NOT_SPARSE = "ERR HLL encoding is not sparse"
HLL_UNKNOWN_SUB = "ERR Unknown PFDEBUG subcommand '{}'"

# --- geo ---
GEO_INVALID_PAIR = "ERR invalid longitude,latitude pair %f,%f"
GEO_UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI"
GEO_NEED_RADIUS = "ERR need numeric radius"
GEO_NEGATIVE_RADIUS = "ERR radius cannot be negative"
GEO_NEED_WIDTH = "ERR need numeric width"
GEO_NEED_HEIGHT = "ERR need numeric height"
GEO_NEGATIVE_BOX = "ERR height or width cannot be negative"
GEO_COUNT = "ERR COUNT must be > 0"
GEO_DECODE_MEMBER = "ERR could not decode requested zset member"
GEO_STORE_INCOMPATIBLE = "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
GEO_NEED_FROM = "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s"
GEO_NEED_BY = "ERR exactly one of BYRADIUS and BYBOX can be specified for %s"
GEO_ANY_NEEDS_COUNT = "ERR the ANY argument requires COUNT argument"

# --- sort ---
SORT_NOT_DOUBLE = "ERR One or more scores can't be converted into double"
# --- replication ---
MASTERDOWN = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
NOREPLICAS = "NOREPLICAS Not enough good replicas to write."
NOMASTERLINK = "NOMASTERLINK Can't SYNC while not connected with my master"
REPLICAOF_CLUSTER = "ERR REPLICAOF not allowed in cluster mode."
REPLICAOF_BY_REPLICA = "ERR Command is not valid when client is a replica."
INVALID_MASTER_PORT = "ERR Invalid master port"
WAIT_ON_REPLICA = ("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a "
                   "replica is configured to be writable (which is not the default) writes to replicas are just "
                   "local and are not propagated.")
UNBLOCKED_ROLE_CHANGE = ("UNBLOCKED force unblock from blocking operation, instance state changed "
                         "(master -> replica?)")


def replconf_unrecognized(option: str) -> str:
    return "ERR Unrecognized REPLCONF option: %s" % option


def replconf_ip_too_long(length: int) -> str:
    return "ERR REPLCONF ip-address provided by replica instance is too long: %d bytes" % length


def rdb_filter_unsupported(name: bytes) -> str:
    return "ERR Unsupported rdb-filter-only option: %s" % name.decode("latin-1")


# --- persistence (DUMP, RESTORE, SAVE, BGSAVE, DEBUG RELOAD) ----------------------------------------
DUMP_PAYLOAD_WRONG = "ERR DUMP payload version or checksum are wrong"
BAD_DATA_FORMAT = "ERR Bad data format"
INVALID_TTL = "ERR Invalid TTL value, must be >= 0"
INVALID_IDLETIME = "ERR Invalid IDLETIME value, must be >= 0"
INVALID_FREQ = "ERR Invalid FREQ value, must be >= 0 and <= 255"
BGSAVE_IN_PROGRESS = "ERR Background save already in progress"
PLAIN_ERR = "ERR"
DEBUG_RELOAD_OPTIONS = "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."
DEBUG_RELOAD_FAILED = "ERR Error trying to load the RDB dump, check server logs."
# --- scripting ---
BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."
NOTBUSY = "NOTBUSY No scripts in execution right now."
UNKILLABLE_WRITES = ("UNKILLABLE Sorry the script already executed write commands against the dataset. You can "
                     "either wait the script termination or kill the server in a hard way using the SHUTDOWN "
                     "NOSAVE command.")
UNKILLABLE_MASTER = ("UNKILLABLE The busy script was sent by a master instance in the context of replication and "
                     "cannot be killed.")
NUMKEYS_GREATER = "ERR Number of keys can't be greater than number of args"
NUMKEYS_NEGATIVE = "ERR Number of keys can't be negative"
SCRIPT_FLUSH_MODE = "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
SHEBANG_INVALID = "ERR Invalid script shebang"
SHEBANG_INVALID_ENGINE = "ERR Invalid engine in script shebang"
# scriptPrepareForRun: a script refused by its flags
SCRIPT_NO_CLUSTER = "ERR Can not run script on cluster, 'no-cluster' flag is set."
SCRIPT_READONLY_REPLICA = "READONLY Can not run script with write flag on readonly replica"
SCRIPT_WRITE_FLAG_RO = "ERR Can not execute a script with write flag using *_ro command."
SCRIPT_OOM = "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"
# scriptCall: a command refused inside a script (redis.call / redis.pcall)
SCRIPT_CALL_ARITY = "ERR Wrong number of args calling Redis command from script"
SCRIPT_CALL_UNKNOWN = "ERR Unknown Redis command called from script"
SCRIPT_CALL_NOSCRIPT = "ERR This Redis command is not allowed from script"
SCRIPT_CALL_WRITE_IN_RO = "ERR Write commands are not allowed from read-only scripts."
SCRIPT_CROSSSLOT = "ERR Script attempted to access keys that do not hash to the same slot"
SCRIPT_KILLED = "ERR Script killed by user with SCRIPT KILL..."
# the redis API of Lua scripts (script_lua.c)
LUA_CALL_NO_ARGS = "ERR Please specify at least one argument for this redis lib call"
LUA_CALL_ARG_TYPE = "ERR Lua redis lib command arguments must be strings or integers"
LUA_CALL_OUTSIDE_RUN = "ERR redis.call/pcall can only be called inside a script invocation"  # ours: Redis asserts
LUA_WRONG_ARGS = "ERR wrong number of arguments"
LUA_WRONG_ARGS_OR_TYPE = "ERR wrong number or type of arguments"
LUA_LOG_ARGS = "ERR redis.log() requires two arguments or more."
LUA_LOG_LEVEL_NOT_NUMBER = "ERR First argument must be a number (log level)."
LUA_LOG_LEVEL_INVALID = "ERR Invalid log level."
LUA_SETRESP_ARGS = "ERR redis.setresp() requires one argument."
LUA_SETRESP_VERSION = "ERR RESP version must be 2 or 3."
LUA_SET_REPL_ARGS = "ERR redis.set_repl() requires one argument."
LUA_SET_REPL_FLAGS = "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."
LUA_ACL_CHECK_INVALID = "ERR Invalid command passed to redis.acl_check_cmd()"
LUA_STACK_LIMIT = "ERR reached lua stack limit"
# Lua errors raised by the sandbox (Lua adds the position, the error handler the code `ERR`)
LUA_READONLY_TABLE = "Attempt to modify a readonly table"
LUA_RANDOM_WRONG_ARGS = "wrong number of arguments"


def lua_nonexistent_global(name: str) -> str:
    return "Script attempted to access nonexistent global variable '%s'" % name


def shebang_unexpected_engine(engine: bytes) -> str:
    return "ERR Unexpected engine in script shebang: %s" % engine.decode("latin-1")


def shebang_unexpected_flag(flag: bytes) -> str:
    return "ERR Unexpected flag in script shebang: %s" % flag.decode("latin-1")


def shebang_unknown_option(option: bytes) -> str:
    return "ERR Unknown lua shebang option: %s" % option.decode("latin-1")


def script_compile_error(message: str) -> str:
    return "ERR Error compiling script (new function): %s" % message


def script_run_error(funcname: str, message: str) -> str:
    """luaCallFunction, when the error is not an error table."""
    return "ERR Error running script %s, %.100s" % (funcname, message)


def script_call_crossslot(command: str) -> str:
    return "ERR Command '%s' in script attempted to access keys that don't hash to the same slot" % command


# --- functions (functions.c, function_lua.c) ---
FUNCTION_NOT_FOUND = "ERR Function not found"
FUNCTION_BAD_NUMKEYS = "ERR Bad number of keys provided"
FUNCTION_CODE_MISSING = "ERR Function code is missing"
FUNCTION_LIBRARY_NOT_FOUND = "ERR Library not found"
FUNCTION_FLUSH_MODE = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
FUNCTION_LIST_NO_LIBRARY_NAME = "ERR library name argument was not given"
FUNCTION_RESTORE_POLICY = "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
FUNCTION_RESTORE_PRE_GA = "ERR Pre-GA function format not supported"
FUNCTION_RESTORE_NOT_FUNCTION = "ERR given type is not a function"
FUNCTION_RESTORE_LOAD_FAILED = "ERR failed loading the given functions payload"
FUNCTION_LOAD_TIMEOUT = "ERR FUNCTION LOAD timeout"
LIBRARY_METADATA_MISSING = "ERR Missing library metadata"
LIBRARY_METADATA_INVALID = "ERR Invalid library metadata"
LIBRARY_NAME_TWICE = "ERR Invalid metadata value, name argument was given multiple times"
LIBRARY_NAME_MISSING = "ERR Library name was not given"
LIBRARY_NAME_INVALID = ("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least "
                        "one character long")
LIBRARY_NO_FUNCTIONS = "ERR No functions registered"
LIBRARY_FUNCTION_TWICE = "ERR Function already exists in the library"
# redis.register_function (luaRegisterFunction*)
REGISTER_OUTSIDE_LOAD = "ERR redis.register_function can only be called on FUNCTION LOAD command"
REGISTER_ARGS = "ERR wrong number of arguments to redis.register_function"
REGISTER_SINGLE_NOT_TABLE = ("ERR calling redis.register_function with a single argument is only applicable to Lua "
                             "table (representing named arguments).")
REGISTER_KEY_NOT_STRING = "ERR named argument key given to redis.register_function is not a string"
REGISTER_NAME_NOT_STRING = "ERR function_name argument given to redis.register_function must be a string"
REGISTER_DESCRIPTION_NOT_STRING = "ERR description argument given to redis.register_function must be a string"
REGISTER_CALLBACK_NOT_FUNCTION = "ERR callback argument given to redis.register_function must be a function"
REGISTER_FLAGS_NOT_TABLE = ("ERR flags argument to redis.register_function must be a table representing function "
                            "flags")
REGISTER_UNKNOWN_FLAG = "ERR unknown flag given"
REGISTER_UNKNOWN_ARGUMENT = "ERR unknown argument given to redis.register_function"
REGISTER_NO_NAME = "ERR redis.register_function must get a function name argument"
REGISTER_NO_CALLBACK = "ERR redis.register_function must get a callback argument"
REGISTER_FIRST_NOT_STRING = "ERR first argument to redis.register_function must be a string"
REGISTER_SECOND_NOT_FUNCTION = "ERR second argument to redis.register_function must be a function"


def function_load_unknown_option(option: bytes) -> str:
    return "ERR Unknown option given: %s" % option.decode("latin-1")


def function_list_unknown_argument(arg: bytes) -> str:
    return "ERR Unknown argument %s" % arg.decode("latin-1")


def library_exists(name: bytes) -> str:
    """functionsCreateWithLibraryCtx (FUNCTION LOAD without REPLACE, a library twice in a payload)."""
    return "ERR Library '%s' already exists" % name.decode("latin-1")


def library_join_exists(name: bytes) -> str:
    """libraryJoin (FUNCTION RESTORE APPEND): the same text, without the quotes."""
    return "ERR Library %s already exists" % name.decode("latin-1")


def function_exists(name: bytes) -> str:
    return "ERR Function %s already exists" % name.decode("latin-1")


def engine_not_found(name: bytes) -> str:
    return "ERR Engine '%s' not found" % name.decode("latin-1")


def library_metadata_invalid_value(part: bytes) -> str:
    return "ERR Invalid metadata value given: %s" % part.decode("latin-1")


def function_compile_error(message: str) -> str:
    return "ERR Error compiling function: " + message


def function_register_error(message: str) -> str:
    return "ERR Error registering functions: " + message


# --- client-side caching (CLIENT TRACKING / CACHING) ---
TRACKING_ONE_REDIRECT = "ERR A client can only redirect to a single other client"
TRACKING_NO_REDIRECT_CLIENT = "ERR The client ID you want redirect to does not exist"
TRACKING_PREFIX_NEEDS_BCAST = "ERR PREFIX option requires BCAST mode to be enabled"
TRACKING_SWITCH_BCAST = ("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and "
                         "then re-enabling it with a different mode.")
TRACKING_OPTIN_BCAST = "ERR OPTIN and OPTOUT are not compatible with BCAST"
TRACKING_OPTIN_AND_OPTOUT = "ERR You can't specify both OPTIN mode and OPTOUT mode"
TRACKING_SWITCH_OPTIN = ("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and "
                         "then re-enabling it with a different mode.")
CACHING_NOT_TRACKING = ("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
                        "OPTOUT mode enabled")
CACHING_YES_NOT_OPTIN = "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
CACHING_NO_NOT_OPTOUT = "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."


def tracking_prefix_overlap(prefix: bytes, other: bytes, existing: bool) -> str:
    return ("ERR Prefix '%s' overlaps with %s prefix '%s'. Prefixes for a single client must not overlap."
            % (prefix.decode("latin-1"), "an existing" if existing else "another provided", other.decode("latin-1")))


# --- ACL (acl.c; multi.c for EXEC) ---
ACL_NO_FILE = ("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via "
               "the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration "
               "file set) in order to store users in the Redis configuration.")
ACL_USERNAME_SPACES = "ERR Usernames can't contain spaces or null characters"
ACL_DEFAULT_UNDELETABLE = "ERR The 'default' user cannot be removed"
ACL_GENPASS_BITS = ("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number "
                    "up to 4096")
# ACLSetUserStringError's texts: an ACL SETUSER rule refused (the reply adds "ERR " before them)
ACL_UNKNOWN_COMMAND_OR_CATEGORY = "Unknown command or category name in ACL"
ACL_SYNTAX = "Syntax error"
ACL_PATTERN_AFTER_ALLKEYS = ("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not "
                             "have any effect. Try 'resetkeys' to start with an empty list of patterns")
ACL_PATTERN_AFTER_ALLCHANNELS = ("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and "
                                 "does not have any effect. Try 'resetchannels' to start with an empty list of "
                                 "channels")
ACL_NO_SUCH_PASSWORD = "The password you are trying to remove from the user does not exist"
ACL_BAD_PASSWORD_HASH = ("The password hash must be exactly 64 characters and contain only lowercase hexadecimal "
                         "characters")
ACL_SUBCOMMAND_FIRST_ARG = "Allowing first-arg of a subcommand is not supported"
# getAclErrorMessage: why a command is denied (after "NOPERM ", or ACL DRYRUN's reply)
ACL_DENIED_KEY = "No permissions to access a key"
ACL_DENIED_CHANNEL = "No permissions to access a channel"
# execCommand's re-check of a queued command
ACL_EXEC_DENIED_COMMAND = "no permission to execute the command or subcommand"
ACL_EXEC_DENIED_KEY = "no permission to touch the specified keys"
ACL_EXEC_DENIED_CHANNEL = "no permission to access one of the channels used as arguments"


def acl_unknown_category(name: str) -> str:
    return "ERR Unknown category '%s'" % name[:128]


def acl_user_not_found(name: bytes) -> str:
    return "ERR User '%s' not found" % name.decode("latin-1")


def acl_command_not_found(name: bytes) -> str:
    return "ERR Command '%s' not found" % name.decode("latin-1")


def acl_unmatched_parenthesis(op: bytes) -> str:
    return "Unmatched parenthesis in acl selector starting at '%s'." % op.decode("latin-1")


def acl_setuser_modifier(op: bytes, reason: str) -> str:
    return "Error in ACL SETUSER modifier '%s': %s" % (op.decode("latin-1"), reason)


def acl_denied_command(user: bytes, command: str) -> str:
    return "User %s has no permissions to run the '%s' command" % (user.decode("latin-1"), command)


def acl_denied_key(user: bytes, key: bytes) -> str:
    return "User %s has no permissions to access the '%s' key" % (user.decode("latin-1"), key.decode("latin-1"))


def acl_denied_channel(user: bytes, channel: bytes) -> str:
    return ("User %s has no permissions to access the '%s' channel"
            % (user.decode("latin-1"), channel.decode("latin-1")))


def noperm(reason: str) -> str:
    return "NOPERM " + reason


def exec_acl_changed(reason: str) -> str:
    return ("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. "
            "This command is no longer allowed for the following reason: " + reason)


# --- cluster (cluster.c: what the proxy answers on the OSS policy) ---
CLUSTERDOWN_UNSERVED = "CLUSTERDOWN Hash slot not served"
CLUSTER_DISABLED = "ERR This instance has cluster support disabled"
CLUSTER_INVALID_SLOT = "ERR Invalid slot"
CLUSTER_INVALID_SLOT_OR_COUNT = "ERR Invalid slot or number of keys"


def moved(slot: int, addr: str) -> str:
    return "MOVED %d %s" % (slot, addr)


def cluster_unknown_node(name: bytes) -> str:
    return "ERR Unknown node %s" % name.decode("latin-1")


# --- the proxy's own (AMR's proxy; Redis has no such case) ---
PROXY_NOT_IN_MULTI = "ERR Command not allowed inside a transaction"
SHARD_UNAVAILABLE = "ERR shard unavailable (connection to the shard was lost)"
MERGE_FAILED = "ERR internal error merging the shards' replies"
# the internal AMR.* commands between proxies (and the controller's witness)
UNREACHABLE = "ERR unreachable (a network partition lies between these nodes)"
INVALID_CUT = "ERR invalid cut (a JSON list of member ids)"
NOT_QUORUM_MEMBER = "ERR not a quorum member yet"
INVALID_QUORUM_MESSAGE = "ERR invalid quorum message"
INVALID_LATENCY = "ERR invalid latency"
INVALID_PARTITION = "ERR invalid partition"
INVALID_NODE = "ERR invalid node"
INVALID_TERM = "ERR invalid term"
WITNESS_UNKNOWN_COMMAND = "ERR unknown command"


def proxy_internal_error(command_name: str) -> str:
    """A Python exception in the proxy (a bug of ours): it serves on."""
    return "ERR internal error in the proxy processing '%s'" % command_name


def invalid_topology(detail: str) -> str:
    return "ERR invalid topology: %s" % detail


def stale_topology(epoch: int, current: int) -> str:
    return "ERR stale topology epoch %d (current %d)" % (epoch, current)


def not_leader(leader) -> str:
    return "ERR not the leader (leader is %s)" % leader


def operation_failed(what: str, detail: str) -> str:
    """A leader's operation (a planned failover, a proposal, a leadership transfer) that failed."""
    return "ERR %s failed: %s" % (what, detail)
