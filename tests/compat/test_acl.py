"""ACL users and permissions, compared with redis-server.

Redis 7.0.15 (the oracle here) differs from 7.4 in a few texts the emulator follows 7.4 in; those are
asserted against 7.4's bytes on the shard alone, each marked "7.0.15 differs":
- NOPERM texts: 7.4 "User alice has no permissions to run the 'get' command" and "No permissions to
  access a key" / "a channel" (7.0: "this user has no permissions ...");
- ACL DRYRUN: 7.4 "User alice has no permissions to access the 'k' key" (7.0: "This user ...");
- ACL LIST / GETUSER: 7.4 keeps the rules as given (`-@all +@read -keys`), 7.0 expands categories into
  commands; 7.4 shows the `sanitize-payload` flag.
"""
import pytest
import redis

from tests.servers import RawConnection, start_shard

NOPERM_SET = b"-NOPERM User alice has no permissions to run the 'set' command\r\n"


@pytest.fixture
def acl(compat):
    yield compat
    for p in compat.targets:
        conn = RawConnection(p.host, p.port)
        users = conn.call("ACL", "USERS")
        for line in users.split(b"\r\n")[1:]:
            if line and not line.startswith(b"$") and line != b"default":
                conn.call("ACL", "DELUSER", line)
        conn.call("ACL", "LOG", "RESET")
        conn.close()


def _login(acl, user=b"alice", password=b"p1"):
    other = acl.new()
    other.call("AUTH", user, password)
    return other


def test_whoami_users_and_default(acl):
    acl.call("ACL", "WHOAMI")
    acl.call("ACL", "USERS")
    acl.call("ACL", "GETUSER", "nosuch")
    acl.call("ACL", "SETUSER", "alice")
    acl.call("ACL", "SETUSER", "bob", "on", "nopass")
    acl.call("ACL", "USERS")
    acl.call("ACL", "DELUSER", "bob", "nosuch")
    acl.call("ACL", "DELUSER", "default")
    acl.call("ACL", "USERS")


def test_list_and_getuser_7_4_texts(acl):
    # 7.0.15 differs: no sanitize-payload, categories expanded into commands
    c = acl.conns[0]
    assert c.call("ACL", "LIST") == b"*1\r\n$51\r\nuser default on nopass sanitize-payload ~* &* +@all\r\n"
    c.call("ACL", "SETUSER", "alice", "on", ">p1", "~k*", "%R~r*", "%W~w*", "&ch*", "+@read", "-keys",
           "+config|get", "+select|0", "+@hash", "-@hash")
    h = "f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a"
    line = (f"user alice on sanitize-payload #{h} ~k* %R~r* %W~w* resetchannels &ch* -@all +@read -keys +config|get "
            "+select|0 -@hash").encode()
    default = _bulk("user default on nopass sanitize-payload ~* &* +@all")
    assert c.call("ACL", "LIST") == b"*2\r\n" + _bulk(line) + default
    c.call("ACL", "SETUSER", "alice", "(+get ~x*)", "(+set", "~y*)")
    assert c.call("ACL", "GETUSER", "alice") == b"".join([
        b"*12\r\n", _bulk("flags"), b"*2\r\n", _bulk("on"), _bulk("sanitize-payload"),
        _bulk("passwords"), b"*1\r\n", _bulk(h),
        _bulk("commands"), _bulk("-@all +@read -keys +config|get +select|0 -@hash"),
        _bulk("keys"), _bulk("~k* %R~r* %W~w*"), _bulk("channels"), _bulk("&ch*"),
        _bulk("selectors"), b"*2\r\n",
        b"*6\r\n", _bulk("commands"), _bulk("-@all +get"), _bulk("keys"), _bulk("~x*"), _bulk("channels"), _bulk(""),
        b"*6\r\n", _bulk("commands"), _bulk("-@all +set"), _bulk("keys"), _bulk("~y*"), _bulk("channels"), _bulk("")])
    c.call("ACL", "SETUSER", "alice", "+set", "-set", "+@read")  # 7.4 keeps the last rule for a name
    assert b"-@all -keys +config|get +select|0 -@hash -set +@read\r\n" in c.call("ACL", "GETUSER", "alice")


def _bulk(s) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    return b"$%d\r\n%s\r\n" % (len(b), b)


def test_getuser_same_as_redis_without_categories(acl):
    """The same reply but for 7.4's sanitize-payload flag (7.0.15 differs)."""
    acl.call("ACL", "SETUSER", "alice", "on", ">p1", ">p2", "<p2", "~k*", "&c", "+get")
    for resp3 in (False, True):
        if resp3:
            acl.resp3()
        ours, theirs = acl.both("ACL", "GETUSER", "alice")
        flags = b"%s\r\n$2\r\non\r\n" % (b"~1" if resp3 else b"*1")
        assert ours.replace(b"~2" if resp3 else b"*2", b"~1" if resp3 else b"*1", 1).replace(
            b"$16\r\nsanitize-payload\r\n", b"", 1) == theirs
        assert flags in theirs


@pytest.mark.parametrize("rules", [
    ["+nosuch"], ["+@nosuch"], ["~*", "~x"], ["allkeys", "~x"], ["&*", "&x"], ["allchannels", "&y"],
    ["<nopw"], ["!abc"], ["#abc"], ["#" + "A" * 64], ["+config|get|x"], ["+config|nosuch"], ["-get|x"],
    ["(+get"], ["(+get", "~x"], ["bad"], ["%X~k"], ["%R"], ["+get|"], ["on", "+get", "+bad"],
])
def test_setuser_errors(acl, rules):
    acl.call("ACL", "SETUSER", "bob", *rules)
    acl.call("ACL", "USERS")  # nothing was created or changed


def test_setuser_bad_names(acl):
    acl.call("ACL", "SETUSER", "b b")
    acl.call("ACL", "SETUSER", "b\x00b")


def test_auth_forms(acl):
    acl.call("ACL", "SETUSER", "alice", "on", ">p1", "+@all", "~*")
    acl.call("ACL", "SETUSER", "off", "off", ">p", "+@all")
    acl.call("AUTH", "alice", "wrong")
    acl.call("AUTH", "nobody", "x")
    acl.call("AUTH", "off", "p")  # disabled
    acl.call("AUTH", "x")  # the default user has no password
    acl.call("AUTH", "a", "b", "c")
    acl.call("AUTH", "alice", "p1")
    acl.call("ACL", "WHOAMI")
    acl.call("AUTH", "default", "anything")  # nopass accepts any password
    acl.call("ACL", "WHOAMI")
    hello = acl.new()
    for c in hello.conns:
        assert c.call("HELLO", "2", "AUTH", "alice", "wrong") == (
            b"-WRONGPASS invalid username-password pair or user is disabled.\r\n")
    ours, theirs = hello.both("HELLO", "3", "AUTH", "alice", "p1")
    assert ours.startswith(b"%7\r\n") and theirs.startswith(b"%7\r\n")
    hello.call("ACL", "WHOAMI")
    hello.close()


def test_command_key_and_channel_permissions(acl):
    acl.call("ACL", "SETUSER", "alice", "on", ">p1", "~k*", "%R~r*", "%W~w*", "&ch*", "+get", "+mget",
             "+publish", "+subscribe", "+psubscribe", "+select|0", "+config|get", "+acl|whoami")
    a = _login(acl)
    a.call("GET", "k1")
    a.call("MGET", "k1", "r1")
    a.call("SELECT", "0")
    a.call("CONFIG", "GET", "maxmemory")
    a.call("ACL", "WHOAMI")
    a.call("PUBLISH", "ch1", "m")
    # 7.0.15 differs in every NOPERM text below; 7.4's bytes:
    shard = a.conns[0]
    assert shard.call("SET", "k1", "v") == NOPERM_SET
    assert shard.call("GET", "w1") == b"-NOPERM No permissions to access a key\r\n"  # a write-only pattern
    assert shard.call("GET", "zz") == b"-NOPERM No permissions to access a key\r\n"
    assert shard.call("MGET", "k1", "w1") == b"-NOPERM No permissions to access a key\r\n"
    assert shard.call("SELECT", "1") == b"-NOPERM User alice has no permissions to run the 'select' command\r\n"
    assert shard.call("CONFIG", "SET", "hz", "10") == (
        b"-NOPERM User alice has no permissions to run the 'config|set' command\r\n")
    assert shard.call("PUBLISH", "other", "m") == b"-NOPERM No permissions to access a channel\r\n"
    assert shard.call("SUBSCRIBE", "ch1", "x") == b"-NOPERM No permissions to access a channel\r\n"
    assert shard.call("PSUBSCRIBE", "ch*x") == b"-NOPERM No permissions to access a channel\r\n"
    assert shard.call("PSUBSCRIBE", "ch*")[:4] == b"*3\r\n"  # a pattern matches only literally
    a.close()


def test_dryrun(acl):
    acl.call("ACL", "SETUSER", "alice", "on", "~k*", "&ch", "+get", "+publish")
    acl.call("ACL", "DRYRUN", "alice", "get", "k1")
    acl.call("ACL", "DRYRUN", "alice", "publish", "ch", "m")
    acl.call("ACL", "DRYRUN", "alice", "nosuch")
    acl.call("ACL", "DRYRUN", "nobody", "get", "x")
    acl.call("ACL", "DRYRUN", "alice", "get")
    acl.call("ACL", "DRYRUN", "alice", "config", "nosuch")
    shard = acl.conns[0]  # 7.0.15 differs ("This user ...")
    assert shard.call("ACL", "DRYRUN", "alice", "set", "k1", "v") == _bulk(
        "User alice has no permissions to run the 'set' command")
    assert shard.call("ACL", "DRYRUN", "alice", "get", "zz") == _bulk(
        "User alice has no permissions to access the 'zz' key")
    assert shard.call("ACL", "DRYRUN", "alice", "publish", "x", "m") == _bulk(
        "User alice has no permissions to access the 'x' channel")


def test_cat_genpass_load_save(acl):
    acl.call("ACL", "CAT")
    acl.call("ACL", "CAT", "nosuch")
    for cat in ("read", "keyspace", "pubsub", "scripting", "hash"):
        ours, theirs = acl.both("ACL", "CAT", cat)
        # Redis lists a category's commands in its dict's order: compare them as sets
        assert sorted(ours.split(b"\r\n")[1:]) == sorted(theirs.split(b"\r\n")[1:]), cat
    acl.call("ACL", "GENPASS", "0")
    acl.call("ACL", "GENPASS", "4097")
    acl.call("ACL", "GENPASS", "x")
    for bits, n in ((None, 64), ("1", 1), ("5", 2), ("4096", 1024)):
        ours, theirs = acl.both("ACL", "GENPASS", *([bits] if bits else []))
        assert ours.split(b"\r\n")[0] == theirs.split(b"\r\n")[0] == b"$%d" % n
    acl.call("ACL", "LOAD")
    acl.call("ACL", "SAVE")
    acl.call("ACL", "NOSUCH")
    acl.call("ACL", "LIST", "x")


def test_log(acl):
    acl.call("ACL", "SETUSER", "alice", "on", ">p1", "~k*", "+get")
    acl.call("AUTH", "alice", "bad")
    acl.call("AUTH", "alice", "bad")
    a = _login(acl)
    a.both("SET", "k", "v")
    a.both("GET", "x")
    acl.call("ACL", "LOG", "x")
    for i, target in enumerate(acl.conns):
        client = redis.Redis(host="127.0.0.1", port=target.sock.getpeername()[1], decode_responses=True)
        reply = client.acl_log()
        client.close()
        assert [(e["count"], e["reason"], e["context"], e["object"], e["username"]) for e in reply] == [
            (1, "key", "toplevel", "x", "alice"), (1, "command", "toplevel", "set", "alice"),
            (2, "auth", "toplevel", "AUTH", "alice")]
        assert {"age-seconds", "client-info"} <= set(reply[0])
        if i == 0:  # 7.0.15 differs: 7.2 added these
            assert {"entry-id", "timestamp-created", "timestamp-last-updated"} <= set(reply[0])
            ids = [e["entry-id"] for e in reply]
            assert ids == [ids[2] + 2, ids[2] + 1, ids[2]]
    acl.call("ACL", "LOG", "RESET")
    acl.call("ACL", "LOG")
    a.close()


def test_deluser_closes_the_users_connections(acl):
    acl.call("ACL", "SETUSER", "alice", "on", ">p1", "+@all", "~*")
    a = _login(acl)
    acl.call("ACL", "DELUSER", "alice")
    for c in a.conns:
        assert c.read_until_closed(timeout=2) == b""
    a.close()


def test_reset_and_selectors_work(acl):
    acl.call("ACL", "SETUSER", "alice", "on", ">p1", "+@all", "~*", "reset", "on", ">p1", "(+get ~x*)",
             "(+set ~y*)")
    a = _login(acl)
    a.call("GET", "x1")
    a.call("SET", "y1", "v")
    assert a.conns[0].call("GET", "y1") == b"-NOPERM No permissions to access a key\r\n"  # 7.0.15 differs
    assert a.conns[0].call("SET", "x1", "v") == b"-NOPERM No permissions to access a key\r\n"
    a.close()


# --- redis-py, and requirepass -------------------------------------------------------------------------

def test_redis_py_users(shard):
    admin = redis.Redis(host=shard.host, port=shard.port)
    try:
        assert admin.acl_setuser("app", enabled=True, passwords=["+secret"], keys=["app:*"],
                                 commands=["+get", "+set", "+ping", "+hello", "+client|setinfo"])
        app = redis.Redis(host=shard.host, port=shard.port, username="app", password="secret")
        assert app.set("app:1", "v") and app.get("app:1") == b"v"
        with pytest.raises(redis.exceptions.NoPermissionError) as e:
            app.get("other")
        assert str(e.value) == "No permissions to access a key"
        with pytest.raises(redis.exceptions.NoPermissionError) as e:
            app.delete("app:1")
        assert str(e.value) == "User app has no permissions to run the 'del' command"
        app3 = redis.Redis(host=shard.host, port=shard.port, username="app", password="secret", protocol=3)
        assert app3.get("app:1") == b"v"  # HELLO 3 AUTH app secret
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(host=shard.host, port=shard.port, username="app", password="bad").ping()
        assert admin.acl_whoami() == "default" or admin.acl_whoami() == b"default"
        app.close()
        app3.close()
    finally:
        admin.acl_deluser("app")
        admin.acl_log_reset()
        admin.close()


def test_default_user_follows_requirepass():
    proc = start_shard("--requirepass", "pw")
    try:
        c = RawConnection(proc.host, proc.port)
        assert c.call("GET", "x") == b"-NOAUTH Authentication required.\r\n"
        assert c.call("AUTH", "default", "pw") == b"+OK\r\n"
        h = "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"
        assert c.call("ACL", "LIST") == b"*1\r\n" + _bulk(f"user default on sanitize-payload #{h} ~* &* +@all")
        assert c.call("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"
        fresh = RawConnection(proc.host, proc.port)
        assert fresh.call("GET", "x") == b"$-1\r\n"
        assert fresh.call("ACL", "SETUSER", "default", "off") == b"+OK\r\n"
        late = RawConnection(proc.host, proc.port)
        assert late.call("GET", "x") == b"-NOAUTH Authentication required.\r\n"
        assert late.call("AUTH", "default", "x") == (
            b"-WRONGPASS invalid username-password pair or user is disabled.\r\n")
        for conn in (c, fresh, late):
            conn.close()
    finally:
        proc.stop()


def test_multi_queued_and_exec_recheck(acl):
    acl.call("ACL", "SETUSER", "alice", "on", ">p1", "~*", "+@all")
    a = _login(acl)
    a.call("MULTI")
    a.call("SET", "k", "1")
    a.call("GET", "k")
    acl.call("ACL", "SETUSER", "alice", "-set")  # the rules change before EXEC
    a.call("EXEC")  # SET refused inside the EXEC reply, GET served
    a.call("MULTI")
    a.conns[0].call("SET", "k", "2")  # refused when queued (7.0.15 differs in the NOPERM text)
    a.conns[1].call("SET", "k", "2")
    a.call("EXEC")
    ours, theirs = (c.call("ACL", "LOG", "1") for c in acl.conns)
    assert b"$7\r\ncontext\r\n$5\r\nmulti\r\n" in ours and b"$7\r\ncontext\r\n$5\r\nmulti\r\n" in theirs
    a.close()


def test_revoked_channels_disconnect_subscribers(acl):
    acl.call("ACL", "SETUSER", "alice", "on", ">p1", "resetchannels", "&news*", "+@all")
    a = _login(acl)
    a.call("SUBSCRIBE", "news1")
    acl.call("ACL", "SETUSER", "alice", "&news*")  # unchanged: stays connected
    acl.call("PUBLISH", "news1", "m")
    for c in a.conns:
        assert c.read_reply() == b"*3\r\n$7\r\nmessage\r\n$5\r\nnews1\r\n$1\r\nm\r\n"
    acl.call("ACL", "SETUSER", "alice", "resetchannels", "&other")
    for c in a.conns:
        assert c.read_until_closed(timeout=2) == b""
    a.close()


def test_client_kill_user(acl):
    acl.call("CLIENT", "KILL", "USER", "nosuch")
    acl.call("ACL", "SETUSER", "alice", "on", ">p1", "+@all", "~*")
    a = _login(acl)
    acl.call("CLIENT", "KILL", "USER", "alice")
    for c in a.conns:
        assert c.read_until_closed(timeout=2) == b""
    a.close()
