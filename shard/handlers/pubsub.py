"""Pub/sub: SUBSCRIBE PSUBSCRIBE SSUBSCRIBE and their UNSUBSCRIBEs, PUBLISH SPUBLISH, PUBSUB (pubsub.c).

Each (un)subscription is confirmed with its own frame: a push in RESP3, an array in RESP2. In RESP2 a
client with subscriptions may only (un)subscribe, PING, QUIT and RESET (dispatch enforces it).
"""
from __future__ import annotations

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import Push

from ..dispatch import NO_REPLY
from ..glob import glob_match
from . import command, help_reply


def _normal_count(c) -> int:
    return len(c.subscriptions) + len(c.psubscriptions)


def _shard_count(c) -> int:
    return len(c.ssubscriptions)


def _subscribe(c, names, registry, mine, kind: bytes, count) -> None:
    for name in names:
        if name not in mine:
            mine[name] = None
            subs = registry.get(name)
            if subs is None:
                subs = registry[name] = {}
            subs[c] = None
        c.reply(Push([kind, name, count(c)]))


def _unsubscribe(c, names, registry, mine, kind: bytes, count) -> None:
    if not names:
        names = list(mine)
        if not names:
            c.reply(Push([kind, None, count(c)]))
            return
    for name in names:
        if name in mine:
            del mine[name]
            subs = registry.get(name)
            if subs is not None:
                subs.pop(c, None)
                if not subs:
                    del registry[name]
        c.reply(Push([kind, name, count(c)]))


@command("subscribe")
def subscribe_command(c, argv):
    _subscribe(c, argv[1:], c.server.channels, c.subscriptions, b"subscribe", _normal_count)
    return NO_REPLY


@command("psubscribe")
def psubscribe_command(c, argv):
    _subscribe(c, argv[1:], c.server.patterns, c.psubscriptions, b"psubscribe", _normal_count)
    return NO_REPLY


@command("ssubscribe")
def ssubscribe_command(c, argv):
    _subscribe(c, argv[1:], c.server.shard_channels, c.ssubscriptions, b"ssubscribe", _shard_count)
    return NO_REPLY


@command("unsubscribe")
def unsubscribe_command(c, argv):
    _unsubscribe(c, argv[1:], c.server.channels, c.subscriptions, b"unsubscribe", _normal_count)
    return NO_REPLY


@command("punsubscribe")
def punsubscribe_command(c, argv):
    _unsubscribe(c, argv[1:], c.server.patterns, c.psubscriptions, b"punsubscribe", _normal_count)
    return NO_REPLY


@command("sunsubscribe")
def sunsubscribe_command(c, argv):
    _unsubscribe(c, argv[1:], c.server.shard_channels, c.ssubscriptions, b"sunsubscribe", _shard_count)
    return NO_REPLY


@command("publish")
def publish_command(c, argv):
    return c.server.publish(argv[1], argv[2])


@command("spublish")
def spublish_command(c, argv):
    return c.server.spublish(argv[1], argv[2])


def _channels(registry, argv) -> list:
    if len(argv) > 3:
        raise RespError(errors.subcommand_syntax(argv[1], argv[0]))
    pattern = argv[2] if len(argv) > 2 else None
    return [ch for ch in registry if pattern is None or glob_match(pattern, ch)]


@command("pubsub|channels")
def pubsub_channels_command(c, argv):
    return _channels(c.server.channels, argv)


@command("pubsub|shardchannels")
def pubsub_shardchannels_command(c, argv):
    return _channels(c.server.shard_channels, argv)


@command("pubsub|numsub")
def pubsub_numsub_command(c, argv):
    out = []
    for ch in argv[2:]:
        out.append(ch)
        out.append(len(c.server.channels.get(ch, ())))
    return out


@command("pubsub|shardnumsub")
def pubsub_shardnumsub_command(c, argv):
    out = []
    for ch in argv[2:]:
        out.append(ch)
        out.append(len(c.server.shard_channels.get(ch, ())))
    return out


@command("pubsub|numpat")
def pubsub_numpat_command(c, argv):
    if len(argv) != 2:
        raise RespError(errors.subcommand_syntax(argv[1], argv[0]))
    return len(c.server.patterns)


PUBSUB_HELP = [
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
]


@command("pubsub|help")
def pubsub_help_command(c, argv):
    return help_reply(argv[0], PUBSUB_HELP)
