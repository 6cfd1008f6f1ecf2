"""Geo commands (geo.c): GEOADD GEODIST GEOHASH GEOPOS GEOSEARCH GEOSEARCHSTORE GEORADIUS
GEORADIUS_RO GEORADIUSBYMEMBER GEORADIUSBYMEMBER_RO.

Positions live in ordinary sorted sets (structures.zset.ZSet) with the 52-bit geohash as score,
exactly as Redis stores them; GEOADD is ZADD with computed scores. Searches scan the same 9
geohash boxes as Redis, in the same order, with the same distance formula (structures.geohash),
so results, their order and every printed digit match.
"""
from __future__ import annotations

import math

from amr_emulator.protocol import errors
from amr_emulator.protocol.errors import RespError
from amr_emulator.protocol.resp import NULL_ARRAY, HumanDouble

from ..args import format_long_double, parse_double_strict, parse_int
from ..structures import geohash
from ..structures.zset import ZSet
from . import command
from .keys import lookup_read
from .zsets import _store as zset_store
from .zsets import zadd_command

_UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}


def _zset(c, key: bytes):
    v = lookup_read(c, key)
    if v is not None and type(v) is not ZSet:
        raise RespError(errors.WRONGTYPE)
    return v


def _double(arg: bytes, message: str = errors.NOT_FLOAT) -> float:
    v = parse_double_strict(arg)
    if v is None:
        raise RespError(message)
    return v


def _lonlat(argv, i: int) -> tuple[float, float]:
    """extractLongLatOrReply."""
    lon = _double(argv[i])
    lat = _double(argv[i + 1])
    if lon < geohash.LONG_MIN or lon > geohash.LONG_MAX or lat < geohash.LAT_MIN or lat > geohash.LAT_MAX:
        raise RespError(errors.GEO_INVALID_PAIR % (lon, lat))
    return lon, lat


def _unit(arg: bytes) -> float:
    conv = _UNITS.get(arg.lower())
    if conv is None:
        raise RespError(errors.GEO_UNIT)
    return conv


def _distance_arg(argv, i: int) -> tuple[float, float]:
    """extractDistanceOrReply: (radius, conversion)."""
    d = _double(argv[i], errors.GEO_NEED_RADIUS)
    if d < 0:
        raise RespError(errors.GEO_NEGATIVE_RADIUS)
    return d, _unit(argv[i + 1])


def _box_arg(argv, i: int) -> tuple[float, float, float]:
    """extractBoxOrReply: (width, height, conversion)."""
    w = _double(argv[i], errors.GEO_NEED_WIDTH)
    h = _double(argv[i + 1], errors.GEO_NEED_HEIGHT)
    if h < 0 or w < 0:
        raise RespError(errors.GEO_NEGATIVE_BOX)
    return w, h, _unit(argv[i + 2])


def format_distance(d: float) -> bytes:
    """fixedpoint_d2string(d, 4): llrint(d * 10000) written with 4 decimals."""
    if d == 0:
        return b"0.0000"
    v = round(d * 10000.0)
    sign = b"-" if v < 0 else b""
    v = abs(v)
    return b"%s%d.%04d" % (sign, v // 10000, v % 10000)


def _human(d: float) -> HumanDouble:
    return HumanDouble(format_long_double(d))


# --- GEOADD ----------------------------------------------------------------------------------------

@command("geoadd")
def geoadd_command(c, argv):
    n = len(argv)
    i = 2
    xx = nx = False
    while i < n:
        opt = argv[i].lower()
        if opt == b"nx":
            nx = True
        elif opt == b"xx":
            xx = True
        elif opt != b"ch":
            break
        i += 1
    if (n - i) % 3 or (xx and nx):
        raise RespError(errors.SYNTAX)
    zargv = [b"zadd"] + argv[1:i]
    for j in range(i, n, 3):
        lon, lat = _lonlat(argv, j)
        zargv.append(b"%d" % geohash.score_of(lon, lat))
        zargv.append(argv[j + 2])
    reply = zadd_command(c, zargv)
    c.propagate_as(zargv)
    return reply


# --- GEODIST GEOHASH GEOPOS --------------------------------------------------------------------------

@command("geodist")
def geodist_command(c, argv):
    to_meter = 1.0
    if len(argv) == 5:
        to_meter = _unit(argv[4])
    elif len(argv) > 5:
        raise RespError(errors.SYNTAX)
    z = _zset(c, argv[1])
    if z is None:
        return None
    s1 = z.score(argv[2])
    s2 = z.score(argv[3])
    if s1 is None or s2 is None:
        return None
    x1, y1 = geohash.decode_score(s1)
    x2, y2 = geohash.decode_score(s2)
    return format_distance(geohash.distance(x1, y1, x2, y2) / to_meter)


@command("geohash")
def geohash_command(c, argv):
    z = _zset(c, argv[1])
    out = []
    for member in argv[2:]:
        s = z.score(member) if z is not None else None
        out.append(None if s is None else geohash.geohash_string(s))
    return out


@command("geopos")
def geopos_command(c, argv):
    z = _zset(c, argv[1])
    out = []
    for member in argv[2:]:
        s = z.score(member) if z is not None else None
        if s is None:
            out.append(NULL_ARRAY)
        else:
            x, y = geohash.decode_score(s)
            out.append([_human(x), _human(y)])
    return out


# --- searches ----------------------------------------------------------------------------------------

_COORDS, _MEMBER, _NOSTORE, _SEARCH, _SEARCHSTORE = 1, 2, 4, 8, 16
_SORT_NONE, _SORT_ASC, _SORT_DESC = 0, 1, 2


def _member_position(z, member: bytes) -> tuple[float, float]:
    s = z.score(member)
    if s is None:
        raise RespError(errors.GEO_DECODE_MEMBER)
    return geohash.decode_score(s)


def _points_in_box(z, bits: int, step: int, shape, found: list, limit: int) -> None:
    """geoGetPointsInRange over one geohash box: append (dist, score, member, lon, lat)."""
    lo, hi = geohash.box_scores(bits, step)
    lon0, lat0, circular, radius_m, width_m, height_m = shape
    distance = geohash.distance
    pos = z.count_below(float(lo))
    for score, member in z.iter_from(pos):
        if not score < hi:
            break
        x, y = geohash.decode_score(score)
        if circular:
            d = distance(lon0, lat0, x, y)
            inside = d <= radius_m
        else:
            inside = False
            if geohash.lat_distance(y, lat0) <= height_m / 2 and distance(x, y, lon0, y) <= width_m / 2:
                d = distance(lon0, lat0, x, y)
                inside = True
        if inside:
            found.append((d, score, member, x, y))
        if found and limit and len(found) >= limit:
            break


def _georadius_generic(c, argv, src_index: int, flags: int):
    storekey = None
    storedist = False
    z = _zset(c, argv[src_index])
    lon = lat = 0.0
    circular = True
    radius = width = height = 0.0
    conversion = 0.0
    if flags & _COORDS:
        base = 6
        lon, lat = _lonlat(argv, 2)
        radius, conversion = _distance_arg(argv, 4)
    elif flags & _MEMBER and z is None:
        base = 5
    elif flags & _MEMBER:
        base = 5
        lon, lat = _member_position(z, argv[2])
        radius, conversion = _distance_arg(argv, 3)
    else:
        base = 2
        if flags & _SEARCHSTORE:
            base = 3
            storekey = argv[1]
    withdist = withhash = withcoord = False
    frommember = fromloc = byradius = bybox = False
    sort = _SORT_NONE
    any_ = False
    count = 0
    n = len(argv)
    remaining = n - base
    i = 0
    while i < remaining:
        arg = argv[base + i].lower()
        if arg == b"withdist":
            withdist = True
        elif arg == b"withhash":
            withhash = True
        elif arg == b"withcoord":
            withcoord = True
        elif arg == b"any":
            any_ = True
        elif arg == b"asc":
            sort = _SORT_ASC
        elif arg == b"desc":
            sort = _SORT_DESC
        elif arg == b"count" and i + 1 < remaining:
            count = parse_int(argv[base + i + 1])
            if count <= 0:
                raise RespError(errors.GEO_COUNT)
            i += 1
        elif arg in (b"store", b"storedist") and i + 1 < remaining and not flags & (_NOSTORE | _SEARCH):
            storekey = argv[base + i + 1]
            storedist = arg == b"storedist"
            i += 1
        elif arg == b"storedist" and flags & _SEARCH and flags & _SEARCHSTORE:
            storedist = True
        elif arg == b"frommember" and i + 1 < remaining and flags & _SEARCH and not fromloc:
            if z is not None:
                lon, lat = _member_position(z, argv[base + i + 1])
            frommember = True
            i += 1
        elif arg == b"fromlonlat" and i + 2 < remaining and flags & _SEARCH and not frommember:
            lon, lat = _lonlat(argv, base + i + 1)
            fromloc = True
            i += 2
        elif arg == b"byradius" and i + 2 < remaining and flags & _SEARCH and not bybox:
            radius, conversion = _distance_arg(argv, base + i + 1)
            circular = True
            byradius = True
            i += 2
        elif arg == b"bybox" and i + 3 < remaining and flags & _SEARCH and not byradius:
            width, height, conversion = _box_arg(argv, base + i + 1)
            circular = False
            bybox = True
            i += 3
        else:
            raise RespError(errors.SYNTAX)
        i += 1
    if storekey is not None and (withdist or withhash or withcoord):
        raise RespError(errors.GEO_STORE_INCOMPATIBLE % (
            "GEOSEARCHSTORE" if flags & _SEARCHSTORE else "STORE option in GEORADIUS"))
    name = argv[0].decode("utf-8", "replace")
    if flags & _SEARCH and not (frommember or fromloc):
        raise RespError(errors.GEO_NEED_FROM % name)
    if flags & _SEARCH and not (byradius or bybox):
        raise RespError(errors.GEO_NEED_BY % name)
    if any_ and not count:
        raise RespError(errors.GEO_ANY_NEEDS_COUNT)
    if z is None:
        if storekey is not None:
            zset_store(c, storekey, None, b"")  # deletes it, if it exists
            return 0
        return []
    if count and sort == _SORT_NONE and not any_:
        sort = _SORT_ASC

    if circular:
        radius_m = radius * conversion
        half_w = half_h = conversion * radius
        steps_radius = radius_m
    else:
        half_w = conversion * (width / 2)
        half_h = conversion * (height / 2)
        steps_radius = math.sqrt((width / 2) * (width / 2) + (height / 2) * (height / 2)) * conversion
        radius_m = 0.0
    shape = (lon, lat, circular, radius_m, width * conversion, height * conversion)
    boxes = geohash.search_areas(lon, lat, steps_radius, half_w, half_h)
    found: list = []
    limit = count if any_ else 0
    last = 0  # membersOfAllNeighbors: a box equal to the last one scanned is skipped (not the centre)
    for k, box in enumerate(boxes):
        if box is None:
            continue
        if last and box == boxes[last]:
            continue
        if found and limit and len(found) >= limit:
            break
        _points_in_box(z, box[0], box[1], shape, found, limit)
        last = k
    if not found and storekey is None:
        return []
    returned = len(found) if not count or len(found) < count else count
    if sort == _SORT_ASC:
        found.sort(key=lambda p: p[0])
    elif sort == _SORT_DESC:
        found.sort(key=lambda p: p[0], reverse=True)
    found = found[:returned]
    if storekey is None:
        out = []
        for d, score, member, x, y in found:
            if not (withdist or withhash or withcoord):
                out.append(member)
                continue
            item = [member]
            if withdist:
                item.append(format_distance(d / conversion))
            if withhash:
                item.append(int(score))
            if withcoord:
                item.append([_human(x), _human(y)])
            out.append(item)
        return out
    if not found:
        zset_store(c, storekey, None, b"")
        return 0
    result = ZSet.from_pairs((member, d / conversion if storedist else score)
                             for d, score, member, x, y in found)
    zset_store(c, storekey, result, b"geosearchstore" if flags & _SEARCH else b"georadiusstore")
    c.server.dirty += returned - 1
    return returned


@command("georadius")
def georadius_command(c, argv):
    return _georadius_generic(c, argv, 1, _COORDS)


@command("georadiusbymember")
def georadiusbymember_command(c, argv):
    return _georadius_generic(c, argv, 1, _MEMBER)


@command("georadius_ro")
def georadius_ro_command(c, argv):
    return _georadius_generic(c, argv, 1, _COORDS | _NOSTORE)


@command("georadiusbymember_ro")
def georadiusbymember_ro_command(c, argv):
    return _georadius_generic(c, argv, 1, _MEMBER | _NOSTORE)


@command("geosearch")
def geosearch_command(c, argv):
    return _georadius_generic(c, argv, 1, _SEARCH)


@command("geosearchstore")
def geosearchstore_command(c, argv):
    return _georadius_generic(c, argv, 2, _SEARCH | _SEARCHSTORE)
