"""Hand-kept: which of Redis's commands the emulator implements, and AMR's rules for them.

The shard registers one handler per name in IMPLEMENTED (a subcommand as `container|sub`); a test
fails when a handler has no table data, or a name here has no handler.
"""

_CONNECTION = """
auth echo hello ping quit reset select
client|id client|setname client|getname client|setinfo client|info client|list client|kill client|reply
client|no-evict client|no-touch client|pause client|unpause client|unblock client|help
client|tracking client|caching client|getredir client|trackinginfo
"""
_SERVER = """
info dbsize flushall flushdb time lastsave monitor debug swapdb
config|get config|set config|resetstat config|help
memory|usage memory|help
object|encoding object|freq object|idletime object|refcount object|help
slowlog|get slowlog|len slowlog|reset slowlog|help
latency|latest latency|history latency|reset latency|help
command command|count command|info command|docs command|list command|getkeys command|help
"""
_GENERIC = """
del unlink exists type rename renamenx copy move touch randomkey keys scan
expire pexpire expireat pexpireat ttl pttl expiretime pexpiretime persist
"""
_STRING = """
append decr decrby get getdel getex getrange getset incr incrby incrbyfloat lcs mget mset msetnx
psetex set setex setnx setrange strlen substr
"""
_HASH = """
hdel hexists hget hgetall hincrby hincrbyfloat hkeys hlen hmget hmset hrandfield hscan hset hsetnx
hstrlen hvals
"""
_LIST = """
blmove blmpop blpop brpop brpoplpush lindex linsert llen lmove lmpop lpop lpos lpush lpushx lrange
lrem lset ltrim rpop rpoplpush rpush rpushx
"""
_SET = """
sadd scard sdiff sdiffstore sinter sintercard sinterstore sismember smembers smismember smove spop
srandmember srem sscan sunion sunionstore
"""
_ZSET = """
bzmpop bzpopmax bzpopmin zadd zcard zcount zdiff zdiffstore zincrby zinter zintercard zinterstore
zlexcount zmpop zmscore zpopmax zpopmin zrandmember zrange zrangebylex zrangebyscore zrangestore
zrank zrem zremrangebylex zremrangebyrank zremrangebyscore zrevrange zrevrangebylex
zrevrangebyscore zrevrank zscan zscore zunion zunionstore
"""
_TRANSACTIONS = "discard exec multi unwatch watch"
_PUBSUB = """
psubscribe publish punsubscribe spublish ssubscribe subscribe sunsubscribe unsubscribe
pubsub|channels pubsub|numsub pubsub|numpat pubsub|shardchannels pubsub|shardnumsub pubsub|help
"""
# One section per family still being built (each filled by the module that implements it).
_STREAM = """
xack xadd xautoclaim xclaim xdel xlen xpending xrange xread xreadgroup xrevrange xsetid xtrim
xgroup|create xgroup|createconsumer xgroup|delconsumer xgroup|destroy xgroup|setid xgroup|help
xinfo|consumers xinfo|groups xinfo|stream xinfo|help
"""
_ACL = """
acl|cat acl|deluser acl|dryrun acl|genpass acl|getuser acl|help acl|list acl|load acl|log acl|save acl|setuser
acl|users acl|whoami
"""
_SCRIPTING = """
eval evalsha eval_ro evalsha_ro script|load script|exists script|flush script|kill script|help
fcall fcall_ro function|load function|delete function|flush function|list function|dump function|restore
function|stats function|kill function|help
"""
_BITMAP = "setbit getbit bitcount bitpos bitop bitfield bitfield_ro"
_HYPERLOGLOG = "pfadd pfcount pfmerge pfdebug pfselftest"
_GEO = """
geoadd geodist geohash geopos geosearch geosearchstore georadius georadius_ro georadiusbymember
georadiusbymember_ro
"""
_SORT = "sort sort_ro"
_REPLICATION = "replicaof slaveof psync sync replconf role wait"
_PERSISTENCE = "dump restore save bgsave"
_CLUSTER = ""

# joined with spaces: a section written without surrounding whitespace must not glue its last name
# to the next section's first
IMPLEMENTED = frozenset(" ".join((
    _CONNECTION, _SERVER, _GENERIC, _STRING, _HASH, _LIST, _SET, _ZSET, _TRANSACTIONS, _PUBSUB,
    _STREAM, _SCRIPTING, _BITMAP, _HYPERLOGLOG, _GEO, _SORT, _REPLICATION, _PERSISTENCE,
    _CLUSTER, _ACL)).split())

# --- AMR's rules for clients (the proxy applies them; the shards keep every command for internal use) ---

#: Refused from clients, answered as unknown commands, as AMR answers them.
AMR_REFUSED = frozenset("""
bgrewriteaof bgsave save shutdown module debug move psync sync replconf replicaof slaveof swapdb failover
migrate restore-asking
""".split())

#: The CONFIG SET parameters AMR lets clients change (Redis Enterprise's list); every other is refused.
AMR_CONFIG_SET_ALLOWED = frozenset("""
activerehashing busy-reply-threshold hash-max-ziplist-entries hash-max-ziplist-value
hash-max-listpack-entries hash-max-listpack-value hll-sparse-max-bytes lazyfree-lazy-user-del
lazyfree-lazy-user-flush lua-time-limit max-intset-entries notify-keyspace-events set-max-intset-entries
set-max-listpack-entries set-max-listpack-value slowlog-log-slower-than slowlog-max-len
stream-node-max-bytes stream-node-max-entries zset-max-ziplist-entries zset-max-ziplist-value
zset-max-listpack-entries zset-max-listpack-value list-max-ziplist-size list-max-listpack-size
list-compress-depth tracking-table-max-keys
""".split())
