"""Client-side caching: CLIENT TRACKING's server side, as Redis 7.4's tracking.c.

- The invalidation table maps a key name (any database, as Redis) to the ids of the clients that
  read it while tracking (default mode); a change to the key sends each of them one invalidation
  and forgets the entry.
- BCAST clients register prefixes instead; changed keys are gathered per prefix and sent once per
  event-loop turn (Redis sends them in beforeSleep), sorted as Redis's radix tree keeps them.
- The message: a RESP3 push `>2 invalidate [keys]`, or, for a client that REDIRECTs to a RESP2
  connection subscribed to `__redis__:invalidate`, a pub/sub message on that channel whose payload
  is the array of keys. FLUSHALL/FLUSHDB send a null instead of the keys to every tracking client.
- An invalidation for the client running the command waits until its reply is out (after EXEC's
  reply inside a transaction).

`server.tracking` is None while no client tracks (before the first CLIENT TRACKING ON and after
the last one turns it off or leaves), so the hooks in dispatch and the keyspace cost one attribute
test then.
"""
from __future__ import annotations

from amr_emulator.protocol.commands import get_keys
from amr_emulator.protocol.resp import Push

CHANNEL = b"__redis__:invalidate"


class TrackState:
    """One client's tracking mode (the CLIENT_TRACKING_* flags and its redirection)."""

    __slots__ = ("redirect", "bcast", "optin", "optout", "noloop", "caching", "broken", "prefixes")

    def __init__(self, redirect: int, bcast: bool, optin: bool, optout: bool, noloop: bool):
        self.redirect = redirect
        self.bcast = bcast
        self.optin = optin
        self.optout = optout
        self.noloop = noloop
        self.caching = False
        self.broken = False
        self.prefixes: list = []


def state(c) -> TrackState | None:
    return getattr(c, "tracking", None)


class Tracking:
    def __init__(self, server):
        self.server = server
        self.table: dict = {}  # key -> {client id: None}
        self.items = 0
        self.prefixes: dict = {}  # prefix -> [ {key: last modifying client}, {client: None} ]
        self.clients = 0
        self.current = None  # the client running a command
        self.pending: list = []  # invalidations for `current`, sent after its reply (None: a flush)
        self.bcast_scheduled = False

    # --- turning on and off ---------------------------------------------------------------------
    def enable(self, c, redirect: int, bcast: bool, optin: bool, optout: bool, noloop: bool,
               prefixes: list) -> None:
        st = state(c)
        if st is None:
            self.clients += 1
            st = c.tracking = TrackState(redirect, bcast, optin, optout, noloop)
        else:
            st.redirect, st.bcast, st.optin, st.optout, st.noloop = redirect, bcast, optin, optout, noloop
            st.broken = False
        if bcast:
            for p in prefixes or [b""]:
                entry = self.prefixes.get(p)
                if entry is None:
                    entry = self.prefixes[p] = [{}, {}]
                if c not in entry[1]:
                    entry[1][c] = None
                    st.prefixes.append(p)
            st.prefixes.sort()

    def disable(self, c) -> None:
        st = state(c)
        if st is None:
            return
        for p in st.prefixes:
            entry = self.prefixes.get(p)
            if entry is not None:
                entry[1].pop(c, None)
                if not entry[1]:
                    del self.prefixes[p]
        c.tracking = None
        self.clients -= 1
        if not self.clients and self.server.tracking is self:
            # nobody tracks: drop the table, and the hooks go back to one attribute test
            self.server.tracking = None

    # --- reads and writes -------------------------------------------------------------------------
    def after_call(self, c, entry, argv: list) -> None:
        """After a command: remember the keys a tracking client read; end a CLIENT CACHING; send
        the invalidations that waited for this client's reply."""
        st = state(c)
        if st is not None:
            spec = entry.spec
            if ("readonly" in spec.flags and not st.bcast and spec.key_specs and "pubsub" not in spec.flags
                    and not ((st.optin and not st.caching) or (st.optout and st.caching))):
                table = self.table
                for i in get_keys(spec, argv):
                    ids = table.get(argv[i])
                    if ids is None:
                        ids = table[argv[i]] = {}
                    if c.id not in ids:
                        ids[c.id] = None
                        self.items += 1
            if st.caching and not c.in_exec and c.multi is None and not spec.name.startswith("client"):
                st.caching = False
        if not c.in_exec:
            self.current = None
            if self.pending:
                pending, self.pending = self.pending, []
                for key in pending:
                    self.send(c, None if key is None else [key])

    def invalidate(self, key: bytes) -> None:
        """trackingInvalidateKey (from signalModifiedKey): the key changed."""
        current = self.current
        if self.prefixes:
            for p, (keys, _) in self.prefixes.items():
                if key.startswith(p):
                    keys[key] = current
                    if not self.bcast_scheduled:
                        self.bcast_scheduled = True
                        self.server.loop.call_soon(self.broadcast)
        ids = self.table.pop(key, None)
        if ids is None:
            return
        self.items -= len(ids)
        clients = self.server.clients
        for cid in ids:
            target = clients.get(cid)
            if target is None:
                continue
            st = state(target)
            if st is None or st.bcast:
                continue
            if st.noloop and target is current:
                continue
            if target is current:
                self.pending.append(key)
            else:
                self.send(target, [key])

    def flushed(self) -> None:
        """trackingInvalidateKeysOnFlush: a null invalidation to every tracking client."""
        current = self.current
        for c in list(self.server.clients.values()):
            if state(c) is not None:
                if c is current:
                    self.pending.append(None)
                else:
                    self.send(c, None)
        self.table = {}
        self.items = 0

    def broadcast(self) -> None:
        """trackingBroadcastInvalidationMessages: every prefix's changed keys to its clients."""
        self.bcast_scheduled = False
        for prefix in sorted(self.prefixes):  # Redis walks its prefix radix tree in order
            keys, clients = self.prefixes[prefix]
            if not keys:
                continue
            ordered = sorted(keys)
            for c in list(clients):
                st = state(c)
                if st is not None and st.noloop:
                    mine = [k for k in ordered if keys[k] is not c]
                    if mine:
                        self.send(c, mine)
                else:
                    self.send(c, ordered)
            keys.clear()

    # --- delivery -----------------------------------------------------------------------------------
    def send(self, c, keys) -> None:
        """sendTrackingMessage: `keys` (a list, or None for a flush) to c or its redirection."""
        st = state(c)
        if st is None:
            return
        target = c
        redirected = False
        if st.redirect:
            target = self.server.clients.get(st.redirect)
            if target is None:
                st.broken = True
                if c.resp == 3:
                    c.push(Push([b"tracking-redir-broken", st.redirect]))
                return
            redirected = True
        if target.resp == 3:
            target.push(Push([b"invalidate", keys]))
        elif redirected and target.pubsub_count:
            target.push(Push([b"message", CHANNEL, keys]))


def ensure(server) -> Tracking:
    t = server.tracking
    if t is None:
        t = server.tracking = Tracking(server)
        server.hot_path_changed()
    return t
