"""The `amr-emulator` command line (click): parsing and printing only."""
from __future__ import annotations

import asyncio
import datetime
import json
import logging
import sys

import click

from amr_emulator.config import EVICTION_POLICIES, CacheSpec, SpecError, parse_size, running_caches
from amr_emulator.drill import DRILLS
from amr_emulator.topology import POLICIES, TIMING_PROFILES
from proxy.quorum import WITNESS

# AMR's own spellings (ARM/CLI values) accepted next to ours
POLICY_ALIASES = {"osscluster": "oss", "enterprisecluster": "enterprise", "nocluster": "nocluster",
                  "oss": "oss", "enterprise": "enterprise", "non-clustered": "nocluster"}
EVICTION_ALIASES = {p.replace("-", ""): p for p in EVICTION_POLICIES}


def _policy(ctx, param, value):
    if value is None:
        return value
    try:
        return POLICY_ALIASES[value.lower()]
    except KeyError:
        raise click.BadParameter(f"{value!r} is not one of {', '.join(POLICIES)} "
                                 "(or AMR's OSSCluster, EnterpriseCluster, NoCluster)") from None


def _eviction(ctx, param, value):
    key = value.lower().replace("-", "").replace("_", "")
    if key not in EVICTION_ALIASES:
        raise click.BadParameter(f"{value!r} is not one of {', '.join(EVICTION_POLICIES)}")
    return EVICTION_ALIASES[key]


def _zones(ctx, param, value):
    if value is None:
        return None
    zones = tuple(z.strip() for z in value.split(",") if z.strip())
    if not zones:
        raise click.BadParameter("give zones as a comma-separated list, e.g. 1,2,3")
    return zones


def _size(ctx, param, value):
    try:
        return parse_size(value)
    except SpecError as e:
        raise click.BadParameter(str(e)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="amr-emulator")
def main():
    """A local emulator of an Azure Managed Redis cache: point any Redis client at 127.0.0.1:10000."""


# --- up ----------------------------------------------------------------------------------------

def _snippet(info: dict) -> list[str]:
    host, port = info["endpoint_host"], info["endpoint_port"]
    key = (info.get("keys") or {}).get("primary")
    pw = f", password={key!r}" if key else ""
    cls = "RedisCluster" if info["policy"] == "oss" else "Redis"
    cli_flags = "-c " if info["policy"] == "oss" else ""
    ca = info.get("ca_path") if info.get("tls") else None
    if ca:
        pw += f", ssl=True, ssl_ca_certs={ca!r}"
        cli_flags += f"--tls --cacert {ca} "
    if cls == "RedisCluster":
        pw += ", dynamic_startup_nodes=False"   # keeps the endpoint to ask once patching replaced every node
    lines = [
        f"  endpoint:        {host}:{port}",
        f"  access key:      {key}  (both keys: amr-emulator keys --name {info['name']})" if key
        else "  access key:      none (started with --no-auth)",
        f"  management API:  {info['management_url']}",
        *([f"  TLS:             on; clients trust the CA {ca}"] if ca else []),
        "  python:",
        "    import redis",
        f"    r = redis.{cls}(host={host!r}, port={port}{pw})",
        f"  redis-cli {cli_flags}-h {host} -p {port}" + (f" -a '{key}'" if key else ""),
    ]
    return lines


def _timers(values) -> dict[str, int] | None:
    out = {}
    for v in values or ():
        name, sep, ms = v.partition("=")
        try:
            out[name.strip()] = int(ms)
        except ValueError:
            raise click.BadParameter(f"{v!r}: use NAME=MILLISECONDS", param_hint="--timer") from None
        if not sep:
            raise click.BadParameter(f"{v!r}: use NAME=MILLISECONDS", param_hint="--timer")
    return out or None


def _print_ready(info: dict) -> None:
    click.echo(f"Cache {info['name']!r} is ready in {info['ready_after_s']:.2f}s "
               f"(policy {info['policy']}, {info['nodes']} nodes, {info['partitions']} partitions, "
               f"{info['shards']} shards, timing {info['timing']}).")
    for line in _snippet(info):
        click.echo(line)


@main.command()
@click.option("--name", default="amr", show_default=True, help="Name of the cache.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of the cache endpoint.")
@click.option("--port", default=10000, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the cache endpoint (AMR's is 10000).")
@click.option("--nodes", default=3, show_default=True, type=click.IntRange(1, 64), help="Nodes (VMs).")
@click.option("--shards", default=None, type=click.IntRange(1, 512),
              help="Primary shards (partitions)  [default: the SKU's, else 3]")
@click.option("--sku", default=None, help="An AMR SKU (Balanced_B10, B10, ...): its primary shard count and memory.")
@click.option("--policy", default="oss", show_default=True, callback=_policy,
              help="Clustering policy: oss, enterprise or nocluster.")
@click.option("--zones", default=None, callback=_zones, help="Availability zones of the nodes, e.g. 1,2,3.")
@click.option("--ha/--no-ha", default=True, show_default=True,
              help="A replica of every partition on another node (AMR's high availability).")
@click.option("--eviction-policy", default="volatile-lru", show_default=True, callback=_eviction,
              help="maxmemory-policy of every shard.")
@click.option("--maxmemory", default=None, callback=_size, help="The cache's memory (bytes or 100mb, 1gb), split over the primary shards  [default: the SKU's, else none]")
@click.option("--data-dir", default=None, type=click.Path(file_okay=False),
              help="Directory for the nodes' persistent data (one sub-directory per node).")
@click.option("--timing", default="azure", show_default=True, type=click.Choice(sorted(TIMING_PROFILES)),
              help="Timers of failure detection and failover: azure (AMR's figures) or fast (tests).")
@click.option("--access-key", default=None, help="Primary access key (default: generated, as AMR does).")
@click.option("--timer", "timers", multiple=True, metavar="NAME=MS",
              help="Override one timer of the profile, e.g. --timer node_failure_detection_ms=2000 (repeatable).")
@click.option("--node-restart-delay", default=None, type=click.FloatRange(0),
              help="Seconds before a node that died is started again  [default: fast 2, azure 30]")
@click.option("--no-auth", is_flag=True, help="Accept clients without AUTH (AMR always requires a key).")
@click.option("--tls", is_flag=True,
              help="TLS 1.2/1.3 on every client port, with a CA and certificate made for the cache.")
@click.option("--detach", "-d", is_flag=True, help="Return once the cache is ready; stop it with `amr-emulator down`.")
@click.option("--ready-timeout", default=60.0, show_default=True, type=click.FloatRange(1), help="Seconds to wait.")
@click.option("--json", "as_json", is_flag=True, help="Print the ready cache's facts as JSON.")
@click.option("--verbose", "-v", is_flag=True, help="Show the event log as it happens (foreground).")
def up(name, host, port, nodes, shards, sku, policy, zones, ha, eviction_policy, maxmemory, data_dir, timing,
       access_key, timers, node_restart_delay, no_auth, tls, detach, ready_timeout, as_json, verbose):
    """Start a cache: its controller (management API) and its nodes (proxies and shards).

    In the foreground Ctrl-C (or SIGTERM) stops every process of the cache; with --detach the
    command returns once the cache is ready. With --tls the CA to trust is shown (and in `status`).
    """
    try:
        spec = CacheSpec(name=name, host=host, port=port, nodes=nodes, shards=shards, sku=sku, policy=policy,
                         zones=zones, ha=ha, eviction_policy=eviction_policy, maxmemory=maxmemory,
                         data_dir=data_dir, timing=timing, auth=not no_auth, access_key=access_key,
                         tls=tls, node_restart_delay=node_restart_delay, timers=_timers(timers))
    except SpecError as e:
        raise click.UsageError(str(e)) from None
    from amr_emulator.controller import Controller, StartError

    def show(info):
        if as_json:
            click.echo(json.dumps(info, indent=2))
        else:
            _print_ready(info)

    if detach:
        from amr_emulator.controller.launch import launch
        try:
            _, info = launch(spec, ready_timeout)
        except StartError as e:
            raise click.ClickException(str(e)) from None
        show(info)
        if not as_json:
            click.echo(f"Running in the background (controller pid {info['controller_pid']}); "
                       f"`amr-emulator down --name {name}` stops it.")
        return

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(message)s")
    controller = Controller(spec, ready_timeout=ready_timeout)

    def ready(info):
        show({**info, "keys": controller.keys()})
        if not as_json:
            click.echo("Ctrl-C stops it.")
        sys.stdout.flush()

    try:
        asyncio.run(controller.run(ready))
    except StartError as e:
        raise click.ClickException(str(e)) from None
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        pass
    if not as_json:
        click.echo(f"Cache {name!r} stopped.")


# --- down, status, keys ------------------------------------------------------------------------

def _find(name):
    from amr_emulator.controller.launch import find_cache
    try:
        return find_cache(name)
    except LookupError as e:
        raise click.ClickException(str(e)) from None


def _api(state, method, path, body=None, timeout: float = 30.0):
    from amr_emulator.controller.launch import ApiError, request
    try:
        return request(state["management_url"], method, f"/caches/{state['name']}{path}", body, timeout=timeout)
    except ApiError as e:
        raise click.ClickException(str(e)) from None


@main.command()
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--all", "all_", is_flag=True, help="Stop every running cache.")
def down(name, all_):
    """Stop a cache: every node, shard and its controller."""
    from amr_emulator.config import stale_caches
    from amr_emulator.controller.launch import reap, stop_cache
    stale = stale_caches()
    if all_:
        states = list(running_caches().values())
    elif name is not None and name in stale:
        states = []
    else:
        states = [_find(name)]
    for state in states:
        stop_cache(state)
        click.echo(f"Cache {state['name']!r} stopped.")
    for state in stale.values():   # controllers that died (SIGKILL): kill what they left
        if all_ or state["name"] == name:
            reap(state)
            click.echo(f"Cache {state['name']!r}: its controller was gone; killed what was left of its nodes.")


def _fmt_time(iso: str) -> str:
    try:
        return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%H:%M:%S.%f")[:-3]
    except ValueError:
        return iso


def _table(rows: list[list], header: list[str]) -> list[str]:
    cells = [[str(c) for c in header]] + [["-" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]


def _slots(partition: dict) -> str:
    return ",".join(f"{a}-{b}" if a != b else str(a) for a, b in partition["slots"])


def render_status(st: dict) -> list[str]:
    cache, topo = st["cache"], st["topology"]
    lines = [f"cache {cache['name']}  state {cache['state']}  policy {topo['policy']}  "
             f"endpoint {cache['endpoint']}  epoch {topo['epoch']}  leader node {topo.get('leader')}",
             f"management API {cache['management_url']}  controller pid {cache['controller_pid']}  "
             f"timing {topo['timing']['profile']}  auth {'access keys' if cache['auth'] else 'none'}  "
             f"tls {('on, CA ' + cache['ca_path']) if cache.get('tls') else 'off'}", ""]
    node_rows = []
    for n in st["nodes"]:
        status = n.get("status") or {}
        state = n["state"] if n["running"] or n["state"] == "removed" else "stopped"
        if n.get("error") and n["running"]:
            state += " (no answer)"
        node_rows.append([n["id"], n["zone"], n["ip"], n["port"], n["cluster_port"], n.get("version"), n["pid"], state,
                          "yes" if status.get("ready") else "no", status.get("epoch")])
    lines += _table(node_rows, ["NODE", "ZONE", "IP", "PORT", "CLUSTER", "VERSION", "PID", "STATE", "READY", "EPOCH"])
    lines.append("")
    partitions = {p["id"]: p for p in topo["partitions"]}
    reported = {}
    for n in st["nodes"]:
        shards = (n.get("status") or {}).get("shards") or []
        if isinstance(shards, dict):
            shards = [{**v, "id": int(k)} for k, v in shards.items()]
        for s in shards:
            if isinstance(s, dict) and "id" in s:
                reported[int(s["id"])] = s
    offsets = {}
    for s in topo["shards"]:
        if s["role"] == "primary":
            offsets[s["partition"]] = reported.get(s["id"], {}).get("master_repl_offset")
    shard_rows = []
    for s in sorted(topo["shards"], key=lambda s: (s["partition"], s["role"] != "primary", s["id"])):
        rep = reported.get(s["id"], {})
        offset = rep.get("master_repl_offset")
        lag = None
        if s["role"] == "replica" and offset is not None and offsets.get(s["partition"]) is not None:
            lag = offsets[s["partition"]] - offset
        up = rep.get("up")
        shard_rows.append([s["id"], s["partition"], s["role"], _slots(partitions[s["partition"]]), s["node"],
                           s["port"], rep.get("pid"), None if up is None else ("yes" if up else "no"),
                           # a primary has no link to a primary (a promoted replica may still report its old one)
                           None if s["role"] == "primary" else rep.get("link") or rep.get("master_link_status"),
                           offset, lag])
    lines += _table(shard_rows, ["SHARD", "PARTITION", "ROLE", "SLOTS", "NODE", "PORT", "PID", "UP", "LINK",
                                 "OFFSET", "LAG"])
    events = st.get("events") or []
    if events:
        lines += ["", "recent events:"]
        for e in events[-8:]:
            lines.append(f"  {_fmt_event(e)}")
    return lines


@main.command()
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--json", "as_json", is_flag=True, help="The full status as JSON.")
def status(name, as_json):
    """Nodes, zones, addresses, shards, roles, slots, replication offsets and lag, leader, epoch, events."""
    running = running_caches()
    if name is None and len(running) > 1:
        if as_json:
            click.echo(json.dumps(list(running.values()), indent=2))
            return
        rows = [[s["name"], s.get("state"), s.get("policy"), s.get("endpoint"), s.get("nodes"), s.get("shards"),
                 s.get("management_url")] for s in running.values()]
        for line in _table(rows, ["NAME", "STATE", "POLICY", "ENDPOINT", "NODES", "SHARDS", "MANAGEMENT API"]):
            click.echo(line)
        return
    st = _api(_find(name), "GET", "/status")
    if as_json:
        click.echo(json.dumps(st, indent=2))
        return
    for line in render_status(st):
        click.echo(line)


@main.command()
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--regenerate", type=click.Choice(["primary", "secondary"]), default=None,
              help="Replace one key (clients using the other keep working).")
@click.option("--json", "as_json", is_flag=True)
def keys(name, regenerate, as_json):
    """Show the access keys, or regenerate one."""
    state = _find(name)
    result = _api(state, "POST", "/keys/regenerate", {"key": regenerate}) if regenerate else \
        _api(state, "GET", "/keys")
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    if not result.get("auth"):
        click.echo(f"Cache {state['name']!r} has no access keys (started with --no-auth).")
        return
    click.echo(f"primary:    {result['primary']}")
    click.echo(f"secondary:  {result['secondary']}")
    if regenerate:
        click.echo(f"regenerated the {regenerate} key (topology epoch {result.get('epoch')})")
        for node, err in (result.get("errors") or {}).items():
            click.echo(f"warning: node {node} did not take the new key: {err}", err=True)


# --- failover and faults ---------------------------------------------------------------------------

def _duration(ctx, param, value):
    if value is None:
        return None
    text = str(value).strip().lower()
    try:
        if text.endswith("ms"):
            return float(text[:-2]) / 1000
        if text.endswith("s"):
            return float(text[:-1])
        if text.endswith("m"):
            return float(text[:-1]) * 60
        return float(text)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a duration (5s, 500ms, 1m)") from None


def _print_result(result, as_json: bool, line: str) -> None:
    click.echo(json.dumps(result, indent=2) if as_json else line)


@main.command()
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--shard", type=int, default=None, help="Fail over the partition of this shard.")
@click.option("--node", type=int, default=None, help="Fail over every primary on this node.")
@click.option("--partition", type=int, default=None, help="Fail over this partition.")
@click.option("--json", "as_json", is_flag=True)
def failover(name, shard, node, partition, as_json):
    """Planned failover: the replica becomes primary without losing an acknowledged write (writes wait
    while it catches up). Without options: every primary of the node that holds the most primaries, as
    a maintenance of that node would."""
    state = _find(name)
    result = _api(state, "POST", "/failover", {"shard": shard, "node": node, "partition": partition})
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for f in result["failovers"]:
        click.echo(f"partition {f['partition']}: shard {f['new_primary']} (node {f['new_primary_node']}) is primary, "
                   f"shard {f['old_primary']} its replica; writes paused {f['write_pause_ms']} ms")
    click.echo(f"topology epoch {result['epoch']} (leader node {result['leader']})")


@main.command()
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--version", "version", default=None,
              help="The version the new nodes run (default: the current one's last number plus one).")
@click.option("--json", "as_json", is_flag=True)
def patch(name, version, as_json):
    """Patch the cache as AMR does: new up-to-date nodes are created, one of them becomes cluster leader,
    the old nodes are removed one by one (each shard migrated to a new node by a full sync, primaries by a
    planned failover), then deleted. Connections through a removed node see errors; nothing acknowledged
    is lost."""
    r = _api(_find(name), "POST", "/patch", {"version": version}, timeout=600.0)
    if as_json:
        click.echo(json.dumps(r, indent=2))
        return
    for m in r["migrations"]:
        line = (f"partition {m['partition']}: shard {m['old_shard']} ({m['role']}) -> shard {m['new_shard']} "
                f"on node {m['node']} (synced in {m['sync_ms']} ms")
        if "write_pause_ms" in m:
            line += f", writes paused {m['write_pause_ms']} ms"
        click.echo(line + ")")
    replaced = ", ".join(f"{o} -> {n}" for o, n in r["replaced"].items())
    click.echo(f"patched to {r['version']} in {r['seconds']} s: nodes {replaced}; leader node {r['leader']}, "
               f"topology epoch {r['epoch']}")


@main.command("kill-node")
@click.argument("node", type=int)
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--keep-down", is_flag=True, help="Do not restart it after the node restart delay.")
@click.option("--json", "as_json", is_flag=True)
def kill_node(node, name, keep_down, as_json):
    """Kill a node (SIGKILL to its proxy and shards: a lost VM). Its partitions fail over after the
    detection time; the node is started again after the restart delay unless --keep-down."""
    r = _api(_find(name), "POST", f"/nodes/{node}/kill", {"keep_down": keep_down})
    _print_result(r, as_json, f"node {node} killed (pid {r['pid']}); "
                  + ("kept down" if keep_down else f"restarts in {r['restart_in_s']} s"))


@main.command("restart-node")
@click.argument("node", type=int)
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--json", "as_json", is_flag=True)
def restart_node(node, name, as_json):
    """Stop a node (if running) and start it again; it rejoins with the current topology."""
    r = _api(_find(name), "POST", f"/nodes/{node}/restart")
    _print_result(r, as_json, f"node {node} started (pid {r['pid']})")


@main.command("pause-node")
@click.argument("node", type=int)
@click.option("--for", "seconds", default="5s", callback=_duration, show_default=True,
              help="How long (5s, 500ms): longer than the detection time means a failover.")
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--json", "as_json", is_flag=True)
def pause_node(node, seconds, name, as_json):
    """Freeze a node (SIGSTOP of its processes), resumed (SIGCONT) after --for."""
    r = _api(_find(name), "POST", f"/nodes/{node}/pause", {"seconds": seconds})
    _print_result(r, as_json, f"node {node} paused for {seconds} s")


@main.command("kill-shard")
@click.argument("shard", type=int)
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--json", "as_json", is_flag=True)
def kill_shard(shard, name, as_json):
    """Kill one shard process; its proxy restarts it (a primary's partition fails over first)."""
    r = _api(_find(name), "POST", f"/shards/{shard}/kill")
    _print_result(r, as_json, f"shard {shard} ({r['role']}, node {r['node']}, pid {r['pid']}) killed")


@main.command("zone-down")
@click.argument("zone")
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--json", "as_json", is_flag=True)
def zone_down(zone, name, as_json):
    """Kill every node of an availability zone (kept down until zone-up)."""
    r = _api(_find(name), "POST", f"/zones/{zone}/down")
    _print_result(r, as_json, f"zone {zone} down: nodes {', '.join(map(str, r['nodes']))}")


@main.command("zone-up")
@click.argument("zone")
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--json", "as_json", is_flag=True)
def zone_up(zone, name, as_json):
    """Start again every node of a zone."""
    r = _api(_find(name), "POST", f"/zones/{zone}/up")
    _print_result(r, as_json, f"zone {zone} up: nodes {', '.join(map(str, r['nodes']))}")


@main.command()
@click.argument("nodes", type=int, nargs=-1, required=True)
@click.option("--from", "from_nodes", type=int, multiple=True,
              help="Cut them from these nodes only (repeat it)  [default: every other node]")
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--json", "as_json", is_flag=True)
def partition(nodes, from_nodes, name, as_json):
    """Cut the network between NODES and the other nodes (or those --from names) until `heal`: quorum
    messages, proxies' connections to the other side's shards and replication links. Clients still
    reach every node. The majority side fails the cut-off primaries over; a node without the majority
    closes its client connections after the minority write bound; writes it acknowledged before then
    are lost when it rejoins (`events` lists them)."""
    body = {"nodes": list(nodes), **({"from": list(from_nodes)} if from_nodes else {})}
    r = _api(_find(name), "POST", "/partition", body)
    sides = f"nodes {', '.join(map(str, r['partitioned']))} from " + \
        ", ".join("the witness" if m == WITNESS else f"node {m}" for m in r["from"])
    _print_result(r, as_json, f"partitioned: {sides}")


@main.command()
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--last", default=50, show_default=True, help="How many of the newest events.")
@click.option("--json", "as_json", is_flag=True, help="Every event as JSON.")
def events(name, last, as_json):
    """The cache's event log: operations, elections, failovers (with what was lost), nodes down and up."""
    r = _api(_find(name), "GET", "/events")
    if as_json:
        click.echo(json.dumps(r, indent=2))
        return
    for e in r[-last:] if last > 0 else r:
        click.echo(_fmt_event(e))


def _fmt_event(e: dict) -> str:
    """One line: time, operation, details (a long list, as a lost write's keys, cut short)."""
    def value(v):
        if isinstance(v, list) and len(v) > 5:
            return "[" + ", ".join(map(str, v[:5])) + f", ... {len(v)} in all]"
        return v
    details = " ".join(f"{k}={value(v)}" for k, v in (e.get("details") or {}).items())
    return f"{_fmt_time(e['time'])}  {e['operation']}  {details}".rstrip()


@main.command("slow-node")
@click.argument("node", type=int)
@click.option("--latency", default="100ms", callback=_duration, show_default=True,
              help="Added to every reply of the node's proxy (0 ends it).")
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--json", "as_json", is_flag=True)
def slow_node(node, latency, name, as_json):
    """Make a node slow: its proxy answers every client request late."""
    r = _api(_find(name), "POST", f"/nodes/{node}/slow", {"latency_ms": latency * 1000})
    _print_result(r, as_json, f"node {node}: replies {r['latency_ms']:g} ms late")


@main.command()
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--json", "as_json", is_flag=True)
def heal(name, as_json):
    """End every network partition."""
    r = _api(_find(name), "POST", "/heal")
    _print_result(r, as_json, f"healed: nodes {', '.join(map(str, r['healed']))}")


def _around(before_ms: list[float]) -> str:
    """Where writes were sent relative to a failure, from their `sent_before_fault_ms`."""
    def one(ms: float) -> str:
        return f"{ms:g} ms before" if ms >= 0 else f"{-ms:g} ms after"
    lo, hi = min(before_ms), max(before_ms)
    return f"{one(hi)} it started" if lo == hi else f"from {one(hi)} to {one(lo)} it started"


def render_drill(result: dict) -> list[str]:
    """A drill's result as `amr-emulator drill` prints it."""
    lines = ["second  ops     errors"]
    for i, (o, e) in enumerate(zip(result["ops_per_second"], result["error_kinds_per_second"])):
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(e.items()))
        lines.append(f"{i:>6}  {o:<6}  {sum(e.values()) or ''}{f'  ({kinds})' if kinds else ''}".rstrip())
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(result["error_kinds"].items())) or "none"
    lines.append(f"acknowledged writes: {result['acknowledged_writes']}; errors: {kinds}")
    lines.append(f"unavailability window: {result['unavailability_ms']} ms (the longest time a client had no "
                 "write acknowledged after the operation)")
    if result["converged_after_s"] is not None:
        lines.append(f"converged {result['converged_after_s']} s after the workload ended")
    else:
        lines.append(f"did not converge: {'; '.join(result['convergence_problems'])}")
    for f in result["unplanned_failovers"]:
        lines.append(f"unplanned failover at {f['at_s']}s: partition {f['partition']} ({f['reason']})"
                     + ("" if f["after_operation"] else ", decided by the cache itself"))
    explained, other = result["lost_unreplicated_tail"], result["lost_unexplained"]
    reported = [w for w in explained if w.get("reported")]
    tail = [w for w in explained if not w.get("reported")]
    why = ([f"{len(reported)} reported by the event log (writes-lost: a cut-off or paused primary's "
            "writes its successor never had)"] if reported else []) + \
        ([f"{len(tail)} the unreplicated tail of an unplanned failover, sent "
          f"{_around([w['sent_before_fault_ms'] for w in tail])}"] if tail else [])
    lines.append(f"lost acknowledged writes: {result['lost_writes']}" + (f" ({'; '.join(why)})" if why else ""))
    for w in other:
        lines.append(f"  LOST {w['key']} (partition {w['partition']}), not explained by an unplanned failover")
    return lines


@main.command()
@click.argument("kind", type=click.Choice(list(DRILLS)))
@click.option("--name", default=None, help="The cache (default: the only running one).")
@click.option("--clients", default=4, show_default=True, type=click.IntRange(1, 64), help="redis-py clients writing.")
@click.option("--duration", default="10s", callback=_duration, show_default=True, help="Length of the drill.")
@click.option("--json", "as_json", is_flag=True)
def drill(kind, name, clients, duration, as_json):
    """Run a write workload during an operation (a failover, a node or zone lost): per-second ops and
    errors, the unavailability window, and a check that every acknowledged write is still there."""
    import redis
    from amr_emulator.drill import run_drill
    state = _find(name)
    keys = _api(state, "GET", "/keys")
    password = keys.get("primary")
    host, port = state["endpoint_host"], state["endpoint_port"]

    def make_client():
        if state.get("policy") == "oss":
            # the endpoint stays a startup node: a patch replaces every node the client discovered
            return redis.RedisCluster(host=host, port=port, password=password, dynamic_startup_nodes=False)
        return redis.Redis(host=host, port=port, password=password)
    try:
        result = run_drill(lambda m, p, b=None, timeout=30.0: _api(state, m, p, b, timeout=timeout), kind,
                           make_client, clients, duration,
                           log=(lambda s: None) if as_json else click.echo)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        for line in render_drill(result):
            click.echo(line)
    if result["lost_unexplained"] or result["convergence_problems"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
