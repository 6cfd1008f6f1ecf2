"""Every error string the emulator sends on the wire, verbatim from Redis 7.x.

Handlers raise `RespError`; the session encodes it as `-<message>\\r\\n`. A message carries its own
prefix (`ERR`, `WRONGTYPE`, `NOSCRIPT`, ...), exactly as Redis sends it.
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
INVALID_DB_INDEX = "ERR invalid DB index"
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


def no_such_user(name: bytes) -> str:
    return "ERR No such user '%s'" % name.decode("latin-1")
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


# --- the proxy's own (AMR's proxy; Redis has no such case) ---
PROXY_NOT_IN_MULTI = "ERR Command not allowed inside a transaction"
