"""Lua scripting for the shard: a real Lua 5.1 (lupa.lua51) sandboxed as Redis 7.4 sandboxes it.

Two Lua states, as in Redis: one for EVAL scripts (`EvalEngine`, the script cache keyed by SHA1) and
one for FUNCTION libraries (`FunctionEngine`). Both are set up by the same Lua bootstrap (`_BOOT`):

- the sandbox: scripts see a read-only global table holding only Redis's allow list (no `io`, no
  `dofile`/`loadfile`/`print`, `os` with `clock` only, `debug` removed); reading a missing global
  raises `Script attempted to access nonexistent global variable 'x'`, writing any global or a library
  table raises `Attempt to modify a readonly table`. `loadstring`/`load` compile into the same sandbox.
- the `redis` API (call, pcall, error_reply, status_reply, sha1hex, log, setresp, set_repl,
  replicate_commands, breakpoint/debug no-ops, acl_check_cmd, REDIS_VERSION[_NUM], LOG_*, REPL_*),
  Redis's error handler (an error table `{err=..., source=..., line=...}`), Redis's `pcall`
  (returns the `err` text of an error table), `math.random` on Redis's rand48.
- the libraries Redis bundles: `cjson`, `cmsgpack`, `struct`, `bit`. lupa's Lua has none of them, so
  they are implemented in Python (luaclibs.py) and exposed as Lua tables.

`redis.call` runs a command through the shard's own handlers on a script client (a Client that is
not connected), with the checks of Redis's scriptCall (unknown command, arity, noscript, writes in a
read-only script, OOM, READONLY replica). Effects are replicated, not the script: each write the
script makes goes to `server.propagate` (unless redis.set_repl took REPL_REPLICA away) between
`server.propagate_begin()` and `propagate_end()`, so that several reach replicas as one MULTI ... EXEC,
with the SELECTs inside it (Redis 7's effects replication; in a transaction, EXEC's own batch).

Long scripts (busy-reply-threshold, alias lua-time-limit): a Lua count hook fires every 100000
instructions and calls `ScriptRun.interrupt`. Past the threshold the script is "timed out" and the hook
serves the other clients itself (busy.py), since the event loop is held by this handler: they get
`-BUSY ...` except for the allow_busy commands (SCRIPT KILL, FUNCTION KILL, ...). A kill makes the hook
raise the kill error (then on every line, so pcall cannot swallow it).

FUNCTION DUMP / RESTORE payloads are built and read by the RDB codec (amr_emulator.protocol.rdb.functions).
"""
from __future__ import annotations

import hashlib
import logging
import math
from time import monotonic

import lupa.lua51 as lupa

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import NULL_ARRAY, BigNumber, Push, RespSet, Simple, Verbatim, format_double

from . import luaclibs
from .busy import adopt_busy_clients, catch_termination, restore_termination, serve_while_busy
from .dispatch import NO_REPLY, Blocked

log = logging.getLogger("shard")

REDIS_VERSION = b"7.4.0"
REDIS_VERSION_NUM = 0x070400

# script flags (shebang `#!lua flags=...` and register_function's flags)
FLAG_NO_WRITES = 1
FLAG_ALLOW_OOM = 2
FLAG_ALLOW_STALE = 4
FLAG_NO_CLUSTER = 8
FLAG_ALLOW_CROSS_SLOT = 16
FLAG_EVAL_COMPAT = 32
FLAG_NAMES = {b"no-writes": FLAG_NO_WRITES, b"allow-oom": FLAG_ALLOW_OOM, b"allow-stale": FLAG_ALLOW_STALE,
              b"no-cluster": FLAG_NO_CLUSTER, b"allow-cross-slot-keys": FLAG_ALLOW_CROSS_SLOT}
FLAG_ORDER = (b"no-writes", b"allow-oom", b"allow-stale", b"no-cluster", b"allow-cross-slot-keys")

PROPAGATE_AOF = 1
PROPAGATE_REPL = 2

_LL_MIN = -(2 ** 63)
_LL_MAX = 2 ** 63 - 1


def sha1hex(data: bytes) -> bytes:
    return hashlib.sha1(data).hexdigest().encode()


# --- the Lua side ----------------------------------------------------------------------------------

_BOOT = r"""
local mode, py = ...
local E, nonexistent_global = py.errors, py.nonexistent_global  -- texts of errors.py
local G0 = _G
local type, error, tostring, select, pairs, rawget, rawset, setmetatable, getmetatable, setfenv, unpack =
      type, error, tostring, select, pairs, rawget, rawset, setmetatable, getmetatable, setfenv, unpack
local xpcall, pcall0, loadstring0, load0 = xpcall, pcall, loadstring, load
local dgetinfo, sethook = debug.getinfo, debug.sethook
local INTERNAL = dgetinfo(1, 'S').source

local protected = setmetatable({}, {__mode = 'k'})
local function ro_error() error(E.readonly_table, 2) end
local function readonly(t)
  local p = setmetatable({}, {__index = t, __newindex = ro_error})
  protected[p] = t
  return p
end
local function missing(_, k)
  error(nonexistent_global(tostring(k)), 2)
end
-- errors raised by the Python side arrive as userdata: "\0E" + an error reply text (redis.call),
-- or "\0P" + a message that gets the caller's position (what luaL_error does in a C library)
local function convert(err)
  if type(err) == 'userdata' then
    local s = tostring(err)
    local tag = s:sub(1, 2)
    if tag == '\0E' then return {err = s:sub(3)} end
    if tag == '\0P' then return s:sub(3), true end
  end
  return err
end

-- the globals scripts see: G holds the values, env is the read-only face
local G = {}
local env = setmetatable({}, {__index = function(t, k)
  local v = G[k]
  if v == nil then
    error(nonexistent_global(tostring(k)), 2)
  end
  return v
end, __newindex = ro_error})
protected[env] = G

for _, k in ipairs({'xpcall', 'tostring', 'getfenv', 'next', 'assert', 'tonumber', 'rawequal',
    'collectgarbage', 'getmetatable', 'type', 'select', 'unpack', 'gcinfo', 'pairs', 'rawget', 'ipairs',
    '_VERSION', 'error'}) do
  G[k] = G0[k]
end
local next0 = next
G.rawget = function(t, k) return rawget(protected[t] or t, k) end
G.next = function(t, k) return next0(protected[t] or t, k) end
G.pairs = function(t) return G.next, t, nil end
G.rawset = function(t, k, v)
  if protected[t] then error(E.readonly_table, 0) end
  return rawset(t, k, v)
end
G.setmetatable = function(t, m)
  if protected[t] then error(E.readonly_table, 0) end
  return setmetatable(t, m)
end
local getfenv0 = getfenv
G.getfenv = function(f)
  if f == nil then f = 1 end
  if type(f) == 'number' and f > 0 then f = f + 1 end
  local e = getfenv0(f)
  if e == G0 then return env end
  return e
end
G.setfenv = function(f, t)
  if f == 0 then error(E.readonly_table, 2) end
  if type(f) == 'number' and f > 0 then f = f + 1 end
  if getfenv0(f) == G0 then error(E.readonly_table, 2) end
  return setfenv(f, t)
end
G.loadstring = function(s, name)
  local f, e = loadstring0(s, name)
  if f then setfenv(f, env) end
  return f, e
end
G.load = function(fn, name)
  local f, e = load0(fn, name)
  if f then setfenv(f, env) end
  return f, e
end
G.pcall = function(...)
  local r = {pcall0(...)}
  if not r[1] then
    local e = convert(r[2])
    if type(e) == 'table' then
      local m = e.err
      if type(m) == 'string' or type(m) == 'number' then e = m end
    end
    return false, e
  end
  return unpack(r, 1, table.maxn(r))
end
G._G = env

-- math with Redis's rand48
local mathlib = {}
for k, v in pairs(math) do mathlib[k] = v end
local rand, srand = py.rand, py.srand
local floor = math.floor
mathlib.random = function(...)
  local n = select('#', ...)
  local r = rand()
  if n == 0 then return r end
  local a, b = ...
  if n == 1 then
    local u = G0.assert(G0.tonumber(a), "bad argument #1 to 'random' (number expected, got " .. type(a) .. ")")
    u = u - u % 1
    if u < 1 then error("bad argument #1 to 'random' (interval is empty)", 2) end
    return floor(r * u) + 1
  elseif n == 2 then
    local l = G0.assert(G0.tonumber(a), "bad argument #1 to 'random' (number expected, got " .. type(a) .. ")")
    local u = G0.assert(G0.tonumber(b), "bad argument #2 to 'random' (number expected, got " .. type(b) .. ")")
    l = l - l % 1; u = u - u % 1
    if l > u then error("bad argument #2 to 'random' (interval is empty)", 2) end
    return floor(r * (u - l + 1)) + l
  end
  error(E.random_wrong_args, 2)
end
mathlib.randomseed = function(s)
  local v = G0.tonumber(s)
  if v == nil then error("bad argument #1 to 'randomseed' (number expected, got " .. type(s) .. ")", 2) end
  srand(v)
end

G.math = readonly(mathlib)
G.string = readonly(string)
getmetatable('').__index = G.string  -- ("x"):len() reaches the read-only face too
G.table = readonly(table)
G.coroutine = readonly(coroutine)
G.os = readonly({clock = os.clock})
for name, lib in pairs(py.libs) do
  local t = {}
  for k, v in pairs(lib) do
    t[k] = v
  end
  G[name] = readonly(t)
end

-- Redis's error handler: an error table with the place of the error in the user's code
local function errh(err)
  local lvl = 2
  local i = dgetinfo(lvl, 'nSl')
  while i and (i.what == 'C' or i.source == INTERNAL) do
    lvl = lvl + 1
    i = dgetinfo(lvl, 'nSl')
  end
  local pos
  err, pos = convert(err)
  if pos and i then err = i.short_src .. ':' .. tostring(i.currentline) .. ': ' .. err end
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if i then
    err.source = i.source
    err.line = i.currentline
  end
  return err
end

local function push_error(msg)
  -- luaPushErrorBuff: "-CODE msg" keeps its code, anything else gets ERR
  if msg:sub(1, 1) == '-' then
    local sp = msg:find(' ', 1, true)
    if sp then
      msg = msg:sub(2, sp - 1) .. ' ' .. msg:sub(sp + 1)
    else
      msg = 'ERR ' .. msg:sub(2)
    end
  else
    msg = 'ERR ' .. msg
  end
  msg = msg:gsub('^[\r\n]+', ''):gsub('[\r\n]+$', '')
  return {err = msg}
end

local redis = {}
redis.call = py.call
redis.pcall = py.pcall
redis.sha1hex = py.sha1hex
redis.error_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then return {err = E.wrong_args_or_type} end
  if s:sub(1, 1) ~= '-' then s = '-' .. s end
  return push_error(s)
end
redis.status_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then return {err = E.wrong_args_or_type} end
  return {ok = s}
end
local logfn = py.log
redis.log = logfn
redis.setresp = py.setresp
redis.set_repl = py.setrepl
redis.acl_check_cmd = py.acl_check
local function consts(t)
  t.LOG_DEBUG, t.LOG_VERBOSE, t.LOG_NOTICE, t.LOG_WARNING = 0, 1, 2, 3
  t.REDIS_VERSION, t.REDIS_VERSION_NUM = py.version, py.version_num
end
consts(redis)
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
if mode == 'eval' then
  redis.breakpoint = function() return false end
  redis.debug = function() end
  redis.replicate_commands = function() return true end
end
G.redis = readonly(redis)

-- the Python functions of the API are userdata to Lua; scripts see them as functions, as in Redis
local pyfuncs = setmetatable({}, {__mode = 'k'})
local pyfunc_names = {}
local nfuncs = 0
local function mark(t)
  for k, v in pairs(t) do
    if type(v) == 'userdata' and k ~= 'null' then
      pyfuncs[v] = true
      nfuncs = nfuncs + 1
      pyfunc_names[v] = string.format('function: builtin: 0x%08x', nfuncs)
    end
  end
end
mark(redis)
for _, name in ipairs({'cjson', 'cmsgpack', 'struct', 'bit'}) do mark(protected[G[name]]) end
local type0, tostring0 = type, tostring
G.type = function(...)
  local v = ...
  if select('#', ...) == 0 then error("bad argument #1 to 'type' (value expected)", 2) end
  if pyfuncs[v] then return 'function' end
  return type0(v)
end
G.tostring = function(...)
  local v = ...
  if select('#', ...) == 0 then error("bad argument #1 to 'tostring' (value expected)", 2) end
  local n = pyfunc_names[v]
  if n then return n end
  return tostring0(v)
end

-- SCRIPT KILL / FUNCTION KILL and FUNCTION LOAD timeout: a count hook
local interrupt = py.interrupt
local kill_msg = E.script_killed
local function in_internal()
  local i = dgetinfo(3, 'S')
  return i and i.source == INTERNAL
end
local function killhook()
  if in_internal() then return end
  error({err = kill_msg})
end
local function hook()
  if in_internal() then return end
  local m = interrupt()
  if m then
    kill_msg = m
    sethook(killhook, 'l')
    error({err = m})
  end
end

local api = {}
local function compile(code, chunkname, e)
  local f, err = loadstring0(code, chunkname)
  if not f then return nil, err end
  setfenv(f, e or env)
  return f
end
api.compile = compile
local function split(nkeys, ...)
  local a = {...}
  local keys, argv = {}, {}
  for i = 1, nkeys do keys[i] = a[i] end
  for i = nkeys + 1, #a do argv[i - nkeys] = a[i] end
  return keys, argv
end
-- run an EVAL script (KEYS and ARGV are globals) or a function (called with keys, args)
api.run = function(f, hooked, is_eval, nkeys, ...)
  local keys, argv = split(nkeys, ...)
  local ok, r
  if hooked then sethook(hook, '', 100000) end
  if is_eval then
    G.KEYS = keys
    G.ARGV = argv
    ok, r = xpcall(f, errh)
  else
    ok, r = xpcall(function() return f(keys, argv) end, errh)
  end
  if hooked then sethook() end
  return ok, r
end
api.push_error = push_error
api.newtable = function() return {} end

if mode == 'function' then
  -- FUNCTION LOAD runs the library code with only redis.register_function, log and versions
  local libredis = {}
  local pyreg = py.register
  libredis.register_function = pyreg
  libredis.log = logfn
  consts(libredis)
  mark(libredis)
  local libG = {redis = setmetatable(libredis, {__index = missing, __newindex = ro_error})}
  protected[libG.redis] = libredis
  local current = G
  local fenv = setmetatable({}, {__index = function(t, k)
    local v = current[k]
    if v == nil then
      error(nonexistent_global(tostring(k)), 2)
    end
    return v
  end, __newindex = ro_error})
  protected[fenv] = libG
  api.load_library = function(code)
    local f, err = loadstring0(code, '@user_function')
    if not f then return false, 'compile', err end
    setfenv(f, fenv)
    current = libG
    sethook(hook, '', 100000)
    local ok, r = xpcall(f, errh)
    sethook()
    current = G
    if not ok then
      local m = r
      if type(r) == 'table' then m = r.err end
      if m == nil then m = tostring(r) end
      return false, 'register', tostring(m)
    end
    return true
  end
end

return api
"""


# the error texts the Lua bootstrap raises (E.<name> there)
_LUA_ERRORS = {b"readonly_table": errors.LUA_READONLY_TABLE, b"random_wrong_args": errors.LUA_RANDOM_WRONG_ARGS,
               b"wrong_args_or_type": errors.LUA_WRONG_ARGS_OR_TYPE, b"script_killed": errors.SCRIPT_KILLED}


def _nonexistent_global(name: bytes) -> bytes:
    return errors.lua_nonexistent_global(name.decode("latin-1")).encode("latin-1")


class ScriptError(Exception):
    """Raised by a Python function called from Lua: a Lua error whose text the bootstrap reads back."""

    def __str__(self) -> str:
        return self.args[0]


class _Engine:
    """One Lua state with the sandbox and the redis API; `run` carries the running ScriptRun."""

    mode = "eval"

    def __init__(self, server):
        self.server = server
        # Lua code sees Python functions as userdata; the attribute filter stops it from reaching
        # their attributes (redis.call.__self__ ... would be an escape from the sandbox)
        self.lua = lupa.LuaRuntime(encoding=None, unpack_returned_tuples=True, register_eval=False,
                                   register_builtins=False, attribute_filter=_deny_attributes)
        self.run: ScriptRun | None = None
        self.load_deadline = 0.0
        self.load_registry = None
        py = self.lua.table_from({
            b"call": self._call, b"pcall": self._pcall, b"sha1hex": self._sha1hex,
            b"log": self._log, b"setresp": self._setresp, b"setrepl": self._setrepl,
            b"interrupt": self._interrupt, b"acl_check": self._acl_check,
            b"register": self._register, b"rand": server_rand, b"srand": server_srand,
            b"version": REDIS_VERSION, b"version_num": REDIS_VERSION_NUM,
            b"errors": self.lua.table_from({k: v.encode() for k, v in _LUA_ERRORS.items()}),
            b"nonexistent_global": _nonexistent_global,
            b"libs": self.lua.table_from({name.encode(): self.lua.table_from(
                {k.encode(): v for k, v in lib.items()}) for name, lib in luaclibs.libraries(self.lua).items()}),
        })
        boot = self.lua.execute(b"return function(...) " + _BOOT.encode() + b" end")
        self.api = boot(self.mode.encode(), py)
        self.compile = self.api[b"compile"]
        self.run_lua = self.api[b"run"]
        self.push_error = self.api[b"push_error"]
        self.table_from = self.lua.table_from
        self.newtable = self.api[b"newtable"]

    # --- callbacks from Lua -----------------------------------------------------------------------
    def _call(self, *args):
        run = self.run
        if run is None:
            raise ScriptError("\0E" + errors.LUA_CALL_OUTSIDE_RUN)
        v, e = run.call(args)
        if e is not None:
            raise ScriptError("\0E" + e)
        return v

    def _pcall(self, *args):
        run = self.run
        if run is None:
            return self.table_from({b"err": errors.LUA_CALL_OUTSIDE_RUN.encode()})
        v, e = run.call(args)
        if e is not None:
            return self.table_from({b"err": e.encode("latin-1", "replace")})
        return v

    def _sha1hex(self, *args):
        if len(args) != 1:
            raise ScriptError("\0E" + errors.LUA_WRONG_ARGS)
        s = args[0]
        if type(s) is not bytes:
            s = _lua_args([s])[0] if type(s) in (int, float) else b""
        return sha1hex(s)

    def _log(self, *args):
        if len(args) < 2:
            raise ScriptError("\0E" + errors.LUA_LOG_ARGS)
        level = _tonumber(args[0])
        if level is None:
            raise ScriptError("\0E" + errors.LUA_LOG_LEVEL_NOT_NUMBER)
        level = int(level)
        if level < 0 or level > 3:
            raise ScriptError("\0E" + errors.LUA_LOG_LEVEL_INVALID)
        parts = [a if type(a) is bytes else _lua_args([a])[0] for a in args[1:] if type(a) in (bytes, int, float)]
        pylevel = (logging.DEBUG, logging.INFO, logging.WARNING, logging.WARNING)[level]
        log.log(pylevel, "%s", b" ".join(parts).decode("utf-8", "replace"))

    def _setresp(self, *args):
        if len(args) != 1:
            raise ScriptError("\0E" + errors.LUA_SETRESP_ARGS)
        v = _tonumber(args[0])
        if v not in (2, 3):
            raise ScriptError("\0E" + errors.LUA_SETRESP_VERSION)
        if self.run is not None:
            self.run.sc.set_resp(int(v))

    def _setrepl(self, *args):
        if len(args) != 1:
            raise ScriptError("\0E" + errors.LUA_SET_REPL_ARGS)
        v = _tonumber(args[0])
        v = int(v) if v is not None else 0
        if v & ~3:
            raise ScriptError("\0E" + errors.LUA_SET_REPL_FLAGS)
        if self.run is not None:
            self.run.repl_flags = v

    def _interrupt(self):
        run = self.run
        if run is not None:
            return run.interrupt()
        if self.load_deadline and monotonic() > self.load_deadline:
            return errors.FUNCTION_LOAD_TIMEOUT.encode()
        return None

    def _acl_check(self, *args):
        if not args:
            raise ScriptError("\0E" + errors.LUA_CALL_NO_ARGS)
        argv = _lua_args(args)
        if argv is None:
            raise ScriptError("\0E" + errors.LUA_CALL_ARG_TYPE)
        if _lookup(self.server, argv) is None:
            raise ScriptError("\0E" + errors.LUA_ACL_CHECK_INVALID)
        return True

    def _register(self, *args):
        if self.load_registry is None:
            raise ScriptError("\0E" + errors.REGISTER_OUTSIDE_LOAD)
        e = self.load_registry(self, len(args), args)
        if e is not None:
            raise ScriptError("\0E" + e)


_tonumber = luaclibs.tonumber


def _deny_attributes(obj, name, is_setting):
    raise AttributeError("not accessible from a script")


def _lua_args(args) -> list | None:
    """luaArgsToRedisArgv: strings as they are, numbers as Redis prints them; None if another type."""
    argv = []
    for a in args:
        t = type(a)
        if t is bytes:
            argv.append(a)
        elif t is int:
            argv.append(b"%d" % a)
        elif t is float:
            if a == a and abs(a) < 2 ** 63 and a == int(a):
                argv.append(b"%d" % int(a))
            else:
                argv.append(format_double(a))
        else:
            return None
    return argv


def _lookup(server, argv):
    entry = server.table.get(argv[0].lower())
    if entry is None:
        return None
    if entry.subs is not None and len(argv) > 1:
        return entry.subs.get(argv[1].lower())
    return entry


# --- Redis's rand48, shared by every script (redisLrand48) ---------------------------------------
_rand_state = [0x1234ABCD330E]


def server_rand() -> float:
    x = (0x5DEECE66D * _rand_state[0] + 0xB) & 0xFFFFFFFFFFFF
    _rand_state[0] = x
    r = x >> 17
    return (r % 0x7FFFFFFF) / 0x7FFFFFFF


def server_srand(seed) -> None:
    s = int(seed) & 0xFFFFFFFF
    _rand_state[0] = (s << 16) | 0x330E


# --- conversions -------------------------------------------------------------------------------------
def _err_text(message: str) -> str:
    """luaPushErrorBuff of a command's error reply `-CODE msg`: the text a Lua error table holds."""
    if " " not in message:
        return errors.err_reply(message.strip("\r\n"))
    return message.strip("\r\n")


def reply_to_lua(engine: _Engine, v, resp: int):
    """A command's reply as the script sees it (redisProtocolToLuaType), RESP2 or RESP3."""
    t = type(v)
    if t is bytes or t is int:
        return v
    if v is None or v is NULL_ARRAY:
        return False if resp == 2 else None
    if t is Simple:
        return engine.table_from({b"ok": v.encode()})
    if t is list or t is tuple or t is Push or (resp == 2 and (t is RespSet or t is set or t is frozenset)):
        return engine.table_from([reply_to_lua(engine, x, resp) for x in v])
    if t is dict:
        if resp == 2:
            flat = []
            for k, x in v.items():
                flat.append(reply_to_lua(engine, k, resp))
                flat.append(reply_to_lua(engine, x, resp))
            return engine.table_from(flat)
        m = engine.newtable()
        for k, x in v.items():
            m[reply_to_lua(engine, k, resp)] = reply_to_lua(engine, x, resp)
        return engine.table_from({b"map": m})
    if t is RespSet or t is set or t is frozenset:
        s = engine.newtable()
        for x in v:
            s[reply_to_lua(engine, x, resp)] = True
        return engine.table_from({b"set": s})
    if t is float:
        if resp == 2:
            return format_double(v)
        return engine.table_from({b"double": v})
    if t is bool:
        if resp == 2:
            return 1 if v else 0
        return v
    if isinstance(v, RespError):
        m = v.message
        return engine.table_from({b"err": _err_text(m).encode("latin-1", "replace")})
    if t is BigNumber:
        if resp == 2:
            return v.encode()
        return engine.table_from({b"big_number": v.encode()})
    if t is Verbatim:
        if resp == 2:
            return v.encode()
        return engine.table_from({b"verbatim_string": engine.table_from({b"format": b"txt",
                                                                         b"string": v.encode()})})
    if t is str:
        return v.encode()
    if t is bytearray or t is memoryview:
        return bytes(v)
    return None


def _oneline(b: bytes) -> bytes:
    return b.replace(b"\r", b" ").replace(b"\n", b" ")


_MAX_DEPTH = 200


def lua_to_reply(v, script_resp: int, depth: int = 0):
    """The script's return value as a reply (luaReplyToRedisReply)."""
    t = type(v)
    if t is bytes:
        return v
    if t is int:
        return v
    if t is float:
        if v != v or v in (math.inf, -math.inf):
            return _LL_MIN
        i = int(v)
        return i if _LL_MIN <= i <= _LL_MAX else _LL_MIN
    if t is bool:
        if script_resp == 2:
            return 1 if v else None
        return v
    if lupa.lua_type(v) == "table":
        if depth >= _MAX_DEPTH:  # a table that holds itself: Redis runs out of Lua stack
            return RespError(errors.LUA_STACK_LIMIT)
        depth += 1
        e = v[b"err"]
        if type(e) is bytes:
            return RespError(_oneline(e).decode("latin-1"))
        ok = v[b"ok"]
        if type(ok) is bytes:
            return Simple(_oneline(ok).decode("latin-1"))
        d = v[b"double"]
        if type(d) is int or type(d) is float:
            return float(d)
        big = v[b"big_number"]
        if type(big) is bytes:
            return BigNumber(_oneline(big).decode("latin-1"))
        vs = v[b"verbatim_string"]
        if lupa.lua_type(vs) == "table":
            f = vs[b"format"]
            s = vs[b"string"]
            if type(f) is bytes and type(s) is bytes:
                return Verbatim(s.decode("latin-1"))
        m = v[b"map"]
        if lupa.lua_type(m) == "table":
            return {_hashable(lua_to_reply(k, script_resp, depth)): lua_to_reply(x, script_resp, depth) for k, x in m.items()}
        s = v[b"set"]
        if lupa.lua_type(s) == "table":
            return RespSet(lua_to_reply(k, script_resp, depth) for k in s.keys())
        out = []
        i = 1
        while True:
            x = v[i]
            if x is None:
                break
            out.append(lua_to_reply(x, script_resp, depth))
            i += 1
        return out
    return None


class _Key:
    """A map key that is not hashable in Python (a nested reply) keeps its place in the dict."""

    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v


def _hashable(k):
    try:
        hash(k)
        return k
    except TypeError:
        return _Key(k)


def lua_error_reply(err, funcname: str) -> RespError:
    """The error reply of a failed script (luaCallFunction)."""
    if lupa.lua_type(err) != "table":
        msg = err.decode("latin-1") if isinstance(err, bytes) else str(err)
        return RespError(_oneline_s(errors.script_run_error(funcname, msg)))
    e = err[b"err"]
    msg = e.decode("latin-1") if isinstance(e, bytes) else ("" if e is None else str(e))
    src = err[b"source"]
    line = err[b"line"]
    text = msg
    if src is not None and line is not None:
        if isinstance(src, bytes):
            src = src.decode("latin-1")
        text += " script: %s, on %s:%s." % (funcname, src, line)
    return RespError(_oneline_s(text))


def _oneline_s(s: str) -> str:
    return s.replace("\r", " ").replace("\n", " ")


# --- a running script --------------------------------------------------------------------------------
class ScriptRun:
    """scriptRunCtx: the caller, the script client, the flags of this run, the effects to replicate."""

    __slots__ = ("engine", "server", "caller", "sc", "name", "is_eval", "read_only", "allow_oom", "oom_at_start",
                 "write_dirty", "killed", "timed_out", "repl_flags", "start", "threshold", "argv",
                 "entry", "caller_argv", "cluster", "cross_slot", "slot")

    def __init__(self, engine, caller, sc, name: str, flags: int, ro: bool, is_eval: bool):
        server = caller.server
        self.engine = engine
        self.server = server
        self.caller = caller
        self.sc = sc
        self.name = name
        self.is_eval = is_eval
        self.read_only = ro or (not flags & FLAG_EVAL_COMPAT and bool(flags & FLAG_NO_WRITES))
        self.allow_oom = bool(not flags & FLAG_EVAL_COMPAT and flags & FLAG_ALLOW_OOM)
        self.oom_at_start = bool(server.maxmemory) and server.over_maxmemory()
        self.write_dirty = False
        self.killed = False
        self.timed_out = False
        self.repl_flags = PROPAGATE_AOF | PROPAGATE_REPL
        self.start = monotonic()
        self.threshold = _busy_threshold(server)
        self.argv = None  # the command being run (FUNCTION STATS)
        self.cluster = server.config.values.get("cluster-enabled") == "yes"
        self.cross_slot = bool(flags & (FLAG_EVAL_COMPAT | FLAG_ALLOW_CROSS_SLOT))
        self.slot = -1  # the slot the script's keys hash to (cluster mode)

    # redis.call / redis.pcall
    def call(self, args):
        if not args:
            return None, errors.LUA_CALL_NO_ARGS
        argv = _lua_args(args)
        if argv is None:
            return None, errors.LUA_CALL_ARG_TYPE
        err = self._check(argv)
        if err is not None:
            self.server.stat_rejected_calls += 1
            return None, err
        sc = self.sc
        reply = self._run(argv)
        if isinstance(reply, RespError):
            return None, _err_text(reply.message)
        return reply_to_lua(self.engine, reply, sc.resp), None

    def _check(self, argv):
        server = self.server
        entry = server.table.get(argv[0].lower())
        argc = len(argv)
        if entry is not None and entry.subs is not None:
            if argc == 1:
                if entry.handler is None:
                    return errors.SCRIPT_CALL_ARITY
            else:
                entry = entry.subs.get(argv[1].lower())
        if entry is None:
            return errors.SCRIPT_CALL_UNKNOWN
        arity = entry.spec.arity
        if (arity > 0 and arity != argc) or argc < -arity:
            return errors.SCRIPT_CALL_ARITY
        if "noscript" in entry.flags:
            return errors.SCRIPT_CALL_NOSCRIPT
        is_write = entry.is_write
        if self.read_only and (is_write or "may_replicate" in entry.flags):
            return errors.SCRIPT_CALL_WRITE_IN_RO
        if is_write and not self.write_dirty:
            if server.is_replica and server.replica_read_only and not self.caller.is_master:
                return errors.READONLY
        if (not self.allow_oom and server.maxmemory and not self.write_dirty and self.oom_at_start
                and entry.denyoom and not self.caller.is_master):
            return errors.OOM
        if is_write:
            self.write_dirty = True
        if self.cluster and entry.spec.key_specs:
            err = self._check_slots(entry, argv)
            if err is not None:
                return err
        self.entry = entry
        return None

    def _check_slots(self, entry, argv):
        """scriptVerifyClusterState: one command's keys in one slot; the script's too, unless it may
        cross slots (no shebang, or allow-cross-slot-keys)."""
        from amr_emulator.protocol.commands import get_keys
        from amr_emulator.protocol.slots import key_slot as key_hash_slot

        slot = -1
        try:
            positions = get_keys(entry.spec, argv)
        except Exception:
            positions = []
        for pos in positions:
            s = key_hash_slot(argv[pos])
            if slot == -1:
                slot = s
            elif s != slot:
                return errors.script_call_crossslot(entry.name)
        if slot != -1 and not self.cross_slot:
            if self.slot == -1:
                self.slot = slot
            elif self.slot != slot:
                return errors.SCRIPT_CROSSSLOT
        return None

    def _run(self, argv):
        """call() for the script client: the handler, stats, monitors, and the effects propagated."""
        entry = self.entry
        sc = self.sc
        server = self.server
        stats = entry.stats
        if server.monitors and not entry.skip_monitor:
            server.feed_monitors(sc, argv)
        sc.cmd_name = entry.name
        dirty = server.dirty
        sink = sc.reply_sink = []
        self.argv = argv
        try:
            result = entry.handler(sc, argv)
        except RespError as e:
            stats[3] += 1
            server.stat_failed_calls += 1
            result = e
        except Blocked as b:  # cannot happen with deny_blocking; answer as a timeout would
            result = NULL_ARRAY if b.timeout_reply is None else b.timeout_reply
        except Exception:
            log.exception("error executing %r from a script", argv[:4])
            stats[3] += 1
            result = RespError(errors.internal_error(entry.name))
        if result is NO_REPLY:
            result = sink[0] if sink else None
        stats[0] += 1
        server.stat_numcommands += 1
        if server.dirty != dirty or sc.rewritten is not None:
            rewritten = sc.rewritten
            sc.rewritten = None
            if self.repl_flags & PROPAGATE_REPL:  # (there is no AOF: REPL_AOF alone replicates nothing)
                dbid = sc.db.id
                if rewritten is None:
                    server.propagate(dbid, list(argv))
                else:
                    for effect in rewritten:
                        server.propagate(dbid, effect)
        return result

    # the count hook
    def interrupt(self):
        if self.timed_out:
            serve_while_busy(self.server, self.caller)
            return self.kill_message() if self.killed else None
        elapsed = (monotonic() - self.start) * 1000
        if self.threshold <= 0 or elapsed < self.threshold:
            return None
        log.warning("Slow script detected: still in execution after %d milliseconds. You can try killing the "
                    "script using the %s command. Script name is: %s.", elapsed,
                    "SCRIPT KILL" if self.is_eval else "FUNCTION KILL", self.name)
        self.timed_out = True
        self.server.busy_script = self
        self.server.hot_path_changed()
        catch_termination(self)
        serve_while_busy(self.server, self.caller)
        return self.kill_message() if self.killed else None

    def terminate(self) -> None:
        """SIGTERM while the script holds the loop: stop it, even after writes, and shut down after."""
        log.warning("Received SIGTERM during a busy script: killing it and shutting down.")
        self.killed = True
        self.server.loop.call_soon(self.server.request_stop)

    def kill_message(self) -> bytes:
        return errors.SCRIPT_KILLED.encode()

    def duration_ms(self) -> int:
        return int((monotonic() - self.start) * 1000)


def _busy_threshold(server) -> int:
    try:
        return int(server.config.values["busy-reply-threshold"])
    except (KeyError, ValueError):
        return 5000


def script_kill(c, is_eval: bool):
    """scriptKill: SCRIPT KILL (is_eval) and FUNCTION KILL."""
    run = getattr(c.server, "script_run", None)
    if run is None:
        raise RespError(errors.NOTBUSY)
    if run.caller.is_master:
        raise RespError(errors.UNKILLABLE_MASTER)
    if run.write_dirty:
        raise RespError(errors.UNKILLABLE_WRITES)
    if is_eval and not run.is_eval:
        raise RespError(errors.BUSY_FUNCTION)
    if not is_eval and run.is_eval:
        raise RespError(errors.BUSY_EVAL)
    run.killed = True
    return Simple("OK")




def run_script(engine, caller, sc, fn, keys, args, name: str, flags: int, ro: bool, is_eval: bool, argv=()):
    """scriptPrepareForRun + luaCallFunction + scriptResetRun. Returns the reply."""
    server = caller.server
    if (not flags & FLAG_EVAL_COMPAT and flags & FLAG_NO_CLUSTER
            and server.config.values.get("cluster-enabled") == "yes"):
        raise RespError(errors.SCRIPT_NO_CLUSTER)
    if not flags & FLAG_EVAL_COMPAT:
        # Outside a transaction, processCommand already judged the script by its flags (a script
        # that may write counts as a write, deny-oom command) and answers with its generic errors.
        generic = not caller.in_exec
        if not flags & FLAG_NO_WRITES:
            if server.is_replica and server.replica_read_only and not caller.is_master:
                raise RespError(errors.READONLY if generic and not ro else errors.SCRIPT_READONLY_REPLICA)
            if ro:
                raise RespError(errors.SCRIPT_WRITE_FLAG_RO)
        if (server.maxmemory and not flags & (FLAG_ALLOW_OOM | FLAG_NO_WRITES) and server.over_maxmemory()
                and not caller.is_master):
            raise RespError(errors.OOM if generic else errors.SCRIPT_OOM)
    run = ScriptRun(engine, caller, sc, name, flags, ro, is_eval)
    run.caller_argv = argv
    if run.cluster and keys:
        from amr_emulator.protocol.slots import key_slot as key_hash_slot

        run.slot = key_hash_slot(keys[0])
    sc.db = caller.db
    sc.set_resp(2)
    sc.is_master = caller.is_master
    engine.run = run
    server.script_run = run
    hooked = run.threshold > 0
    server.propagate_begin()  # the script's effects (and keys expired meanwhile): one MULTI ... EXEC
    try:
        ok, value = engine.run_lua(fn, hooked, is_eval, len(keys), *keys, *args)
        if ok:
            reply = lua_to_reply(value, sc.resp)
        else:
            reply = lua_error_reply(value, name)
    finally:
        engine.run = None
        server.script_run = None
        server.busy_script = None
        sc.reply_sink = None
        if run.timed_out:
            restore_termination(server)
            adopt_busy_clients(server)
        server.propagate_end()
    caller.propagate_as()  # the script is replicated by its effects, never itself
    return reply


def make_script_client(server):
    from .session import Client

    sc = Client(server)
    sc.in_exec = True  # deny blocking, as Redis's lua client (CLIENT_DENY_BLOCKING)
    sc.addr = "lua"
    sc.name = b""
    return sc


# --- EVAL scripts --------------------------------------------------------------------------------------
class Script:
    __slots__ = ("body", "flags", "fn", "from_eval")

    def __init__(self, body, flags, fn, from_eval):
        self.body = body
        self.flags = flags
        self.fn = fn
        self.from_eval = from_eval


def split_shebang(body: bytes):
    """evalExtractShebangFlags: (flags, shebang length); raises RespError."""
    from amr_emulator.protocol.resp import split_args

    if not body.startswith(b"#!"):
        return FLAG_EVAL_COMPAT, 0
    end = body.find(b"\n")
    if end < 0:
        raise RespError(errors.SHEBANG_INVALID)
    parts = split_args(body[:end])
    if not parts:
        raise RespError(errors.SHEBANG_INVALID_ENGINE)
    if parts[0] != b"#!lua":
        raise RespError(errors.shebang_unexpected_engine(parts[0]))
    flags = 0
    for p in parts[1:]:
        if p.startswith(b"flags="):
            for f in p[6:].split(b","):
                bit = FLAG_NAMES.get(f)
                if bit is None:
                    raise RespError(errors.shebang_unexpected_flag(f))
                flags |= bit
        else:
            raise RespError(errors.shebang_unknown_option(p))
    return flags, end


class EvalEngine(_Engine):
    mode = "eval"
    LRU_MAX = 500

    def __init__(self, server):
        super().__init__(server)
        self.scripts: dict = {}  # sha (bytes, lower case) -> Script
        self.lru: dict = {}  # EVAL-created shas, oldest first
        self.sc = make_script_client(server)
        self.evicted = 0

    def create(self, body: bytes, from_eval: bool) -> bytes:
        sha = sha1hex(body)
        if sha in self.scripts:
            return sha
        flags, skip = split_shebang(body)
        fn = self.compile(body[skip:], b"@user_script")
        if isinstance(fn, tuple):
            fn, err = fn
        else:
            err = None
        if fn is None:
            raise RespError(errors.script_compile_error(_oneline_s(err.decode("latin-1"))))
        self.scripts[sha] = Script(body, flags, fn, from_eval)
        if from_eval:
            while len(self.lru) >= self.LRU_MAX:
                oldest = next(iter(self.lru))
                del self.lru[oldest]
                del self.scripts[oldest]
                self.evicted += 1
            self.lru[sha] = None
        return sha

    def flush(self) -> None:
        self.scripts.clear()
        self.lru.clear()
        self.lua.execute(b"collectgarbage()")


def get_eval_engine(server) -> EvalEngine:
    e = getattr(server, "eval_engine", None)
    if e is None:
        e = server.eval_engine = EvalEngine(server)
    return e


def info_fields(server) -> dict:
    """What INFO memory/stats report about scripts and functions."""
    ev = getattr(server, "eval_engine", None)
    fn = getattr(server, "function_engine", None)

    def vm(engine) -> int:
        if engine is None:
            return 32 * 1024  # an empty Lua state
        try:
            return int(engine.lua.execute(b"return collectgarbage('count')") * 1024)
        except Exception:
            return 0

    vm_eval, vm_fn = vm(ev), vm(fn)
    return {
        "used_memory_vm_eval": vm_eval,
        "used_memory_vm_functions": vm_fn,
        "number_of_cached_scripts": len(ev.scripts) if ev else 0,
        "used_memory_scripts_eval": sum(len(x.body) + 104 for x in ev.scripts.values()) if ev else 0,
        "number_of_functions": len(fn.functions) if fn else 0,
        "number_of_libraries": len(fn.libraries) if fn else 0,
        "used_memory_functions": sum(len(lib.code) + 200 for lib in fn.libraries.values()) if fn else 0,
        "evicted_scripts": ev.evicted if ev else 0,
    }


def reset_eval_engine(server) -> None:
    """SCRIPT FLUSH: a new Lua state, as Redis's scriptingReset."""
    old = getattr(server, "eval_engine", None)
    server.eval_engine = EvalEngine(server)
    if old is not None:
        server.eval_engine.evicted = old.evicted


# --- FUNCTION libraries ----------------------------------------------------------------------------------
class Function:
    __slots__ = ("name", "fn", "desc", "flags", "library")

    def __init__(self, name, fn, desc, flags, library):
        self.name = name
        self.fn = fn
        self.desc = desc
        self.flags = flags
        self.library = library


class Library:
    __slots__ = ("name", "engine", "code", "functions")

    def __init__(self, name, code):
        self.name = name
        self.engine = b"LUA"
        self.code = code
        self.functions: dict = {}


def _valid_name(name: bytes) -> bool:
    return bool(name) and all(ch == 95 or 48 <= ch <= 57 or 65 <= ch <= 90 or 97 <= ch <= 122 for ch in name)


LOAD_TIMEOUT_MS = 500


class FunctionEngine(_Engine):
    mode = "function"

    def __init__(self, server):
        super().__init__(server)
        self.load_library_lua = self.api[b"load_library"]
        self.libraries: dict = {}  # name -> Library
        self.functions: dict = {}  # name -> Function
        self.sc = make_script_client(server)
        self._loading: Library | None = None

    def _register_cb(self, engine, n, args):
        lib = self._loading
        if n < 1 or n > 2:
            return errors.REGISTER_ARGS
        flags = 0
        desc = None
        if n == 1:
            t = args[0]
            if lupa.lua_type(t) != "table":
                return errors.REGISTER_SINGLE_NOT_TABLE
            name = None
            fn = None
            for k, v in t.items():
                if type(k) is not bytes and type(k) not in (int, float):
                    return errors.REGISTER_KEY_NOT_STRING
                key = k.lower() if type(k) is bytes else b"%d" % k
                if key == b"function_name":
                    if type(v) not in (bytes, int, float):
                        return errors.REGISTER_NAME_NOT_STRING
                    name = v if type(v) is bytes else _lua_args([v])[0]
                elif key == b"description":
                    if type(v) not in (bytes, int, float):
                        return errors.REGISTER_DESCRIPTION_NOT_STRING
                    desc = v if type(v) is bytes else _lua_args([v])[0]
                elif key == b"callback":
                    if lupa.lua_type(v) != "function":
                        return errors.REGISTER_CALLBACK_NOT_FUNCTION
                    fn = v
                elif key == b"flags":
                    if lupa.lua_type(v) != "table":
                        return errors.REGISTER_FLAGS_NOT_TABLE
                    i = 1
                    while True:
                        f = v[i]
                        if f is None:
                            break
                        bit = FLAG_NAMES.get(f.lower()) if type(f) is bytes else None
                        if bit is None:
                            return errors.REGISTER_UNKNOWN_FLAG
                        flags |= bit
                        i += 1
                else:
                    return errors.REGISTER_UNKNOWN_ARGUMENT
            if name is None:
                return errors.REGISTER_NO_NAME
            if fn is None:
                return errors.REGISTER_NO_CALLBACK
        else:
            name, fn = args
            if type(name) not in (bytes, int, float):
                return errors.REGISTER_FIRST_NOT_STRING
            if type(name) is not bytes:
                name = _lua_args([name])[0]
            if lupa.lua_type(fn) != "function":
                return errors.REGISTER_SECOND_NOT_FUNCTION
        if not _valid_name(name):
            return errors.LIBRARY_NAME_INVALID
        if name in lib.functions:
            return errors.LIBRARY_FUNCTION_TWICE
        lib.functions[name] = Function(name, fn, desc, flags, lib)
        return None

    def create_library(self, code: bytes, timeout_ms: int = LOAD_TIMEOUT_MS, replace: bool = True) -> Library:
        """Compile and run a library's code; a Library with its functions, not yet linked. With
        replace=False an existing library of that name is refused before its code runs."""
        name, end = parse_library_metadata(code)
        if not replace and name in self.libraries:
            raise RespError(errors.library_exists(name))
        lib = Library(name, code)
        self._loading = lib
        self.load_registry = self._register_cb
        self.load_deadline = monotonic() + timeout_ms / 1000 if timeout_ms else 0.0
        try:
            res = self.load_library_lua(code[end:])
        finally:
            self._loading = None
            self.load_registry = None
            self.load_deadline = 0.0
        if res is not True:  # (false, 'compile' or 'register', the Lua error)
            _, stage, err = res
            err = err.decode("latin-1")
            text = errors.function_compile_error(err) if stage == b"compile" else errors.function_register_error(err)
            raise RespError(_oneline_s(text))
        if not lib.functions:
            raise RespError(errors.LIBRARY_NO_FUNCTIONS)
        return lib

    def link(self, lib: Library, replace: bool) -> None:
        old = self.libraries.get(lib.name)
        if old is not None and not replace:
            raise RespError(errors.library_exists(lib.name))
        for fname in lib.functions:
            owner = self.functions.get(fname)
            if owner is not None and owner.library is not old:
                raise RespError(errors.function_exists(fname))
        if old is not None:
            self.unlink(old)
        self.libraries[lib.name] = lib
        for fname, f in lib.functions.items():
            self.functions[fname] = f

    def unlink(self, lib: Library) -> None:
        del self.libraries[lib.name]
        for fname in lib.functions:
            self.functions.pop(fname, None)


def parse_library_metadata(code: bytes):
    """functionExtractLibMetaData and the checks before the code runs: (name, end of the shebang)."""
    from amr_emulator.protocol.resp import split_args

    if not code.startswith(b"#!"):
        raise RespError(errors.LIBRARY_METADATA_MISSING)
    end = code.find(b"\n")
    if end < 0:
        raise RespError(errors.LIBRARY_METADATA_INVALID)
    parts = split_args(code[:end])
    if not parts:
        raise RespError(errors.LIBRARY_METADATA_INVALID)
    engine_name = parts[0][2:]
    name = None
    for p in parts[1:]:
        if p[:5].lower() == b"name=":
            if name is not None:
                raise RespError(errors.LIBRARY_NAME_TWICE)
            name = p[5:]
            continue
        raise RespError(errors.library_metadata_invalid_value(p))
    if name is None:
        raise RespError(errors.LIBRARY_NAME_MISSING)
    if not _valid_name(name):
        raise RespError(errors.LIBRARY_NAME_INVALID)
    if engine_name.upper() != b"LUA":
        raise RespError(errors.engine_not_found(engine_name))
    return name, end


def get_function_engine(server) -> FunctionEngine:
    e = getattr(server, "function_engine", None)
    if e is None:
        e = server.function_engine = FunctionEngine(server)
    return e


def rdb_libraries(server) -> list:
    """The sources of the function libraries, for an RDB file (in creation order)."""
    engine = getattr(server, "function_engine", None)
    return [] if engine is None else [lib.code for lib in engine.libraries.values()]


def load_rdb_libraries(server, sources, flush: bool = True, merge: bool = False) -> None:
    """The function libraries of an RDB file (rdbFunctionLoad), compiled in a new engine that replaces
    the server's only when every one is good; RdbError otherwise. flush: the file's libraries replace
    the present ones (as emptyData before a load); else they join them, a library of the same name
    being an error, or replaced with merge (RDBFLAGS_ALLOW_DUP)."""
    from amr_emulator.protocol.rdb import RdbError

    old = getattr(server, "function_engine", None)
    if not sources and (not flush or old is None or not old.libraries):
        return
    fresh = FunctionEngine(server)
    try:
        if not flush and old is not None:
            for lib in old.libraries.values():
                fresh.link(fresh.create_library(lib.code, 0), False)
        for code in sources:
            fresh.link(fresh.create_library(code, 0, replace=merge), merge)
    except RespError as e:
        raise RdbError("cannot load a function library: %s" % e.message) from None
    server.function_engine = fresh
