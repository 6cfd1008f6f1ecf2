"""Redis's geohash math (geohash.c, geohash_helper.c), computed in doubles in Redis's order so
that scores, decoded coordinates and distances are bit-identical.

A position is stored as a sorted-set score: the 52-bit interleave of the latitude (even bits)
and longitude (odd bits) offsets, 26 bits each, over latitudes -85.05112878..85.05112878 (the
Mercator limits) and longitudes -180..180.
"""
from __future__ import annotations

import math

STEP_MAX = 26
LAT_MIN = -85.05112878
LAT_MAX = 85.05112878
LONG_MIN = -180.0
LONG_MAX = 180.0

D_R = math.pi / 180.0
EARTH_RADIUS_IN_METERS = 6372797.560856
MERCATOR_MAX = 20037726.37

_M64 = (1 << 64) - 1
_B = (0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF,
      0x0000FFFF0000FFFF, 0x00000000FFFFFFFF)


def _spread(x: int) -> int:
    x = (x | (x << 16)) & _B[4]
    x = (x | (x << 8)) & _B[3]
    x = (x | (x << 4)) & _B[2]
    x = (x | (x << 2)) & _B[1]
    return (x | (x << 1)) & _B[0]


def _squash(x: int) -> int:
    x &= _B[0]
    x = (x | (x >> 1)) & _B[1]
    x = (x | (x >> 2)) & _B[2]
    x = (x | (x >> 4)) & _B[3]
    x = (x | (x >> 8)) & _B[4]
    return (x | (x >> 16)) & _B[5]


def interleave64(xlo: int, ylo: int) -> int:
    return _spread(xlo & 0xFFFFFFFF) | (_spread(ylo & 0xFFFFFFFF) << 1)


def deinterleave64(bits: int) -> tuple[int, int]:
    """(even bits, odd bits)."""
    return _squash(bits), _squash(bits >> 1)


def _to_u32(v: float) -> int:
    """C's (uint32_t) conversion of a non-negative double below 2**32 (truncation)."""
    return int(v) & 0xFFFFFFFF


def encode(longitude: float, latitude: float, step: int = STEP_MAX,
           long_range=(LONG_MIN, LONG_MAX), lat_range=(LAT_MIN, LAT_MAX)):
    """geohashEncode: the `2*step`-bit hash, or None when out of range."""
    if (longitude > LONG_MAX or longitude < LONG_MIN or latitude > LAT_MAX or latitude < LAT_MIN):
        return None
    if (latitude < lat_range[0] or latitude > lat_range[1] or longitude < long_range[0]
            or longitude > long_range[1]):
        return None
    lat_offset = (latitude - lat_range[0]) / (lat_range[1] - lat_range[0])
    long_offset = (longitude - long_range[0]) / (long_range[1] - long_range[0])
    lat_offset *= float(1 << step)
    long_offset *= float(1 << step)
    return interleave64(_to_u32(lat_offset), _to_u32(long_offset))


def score_of(longitude: float, latitude: float) -> int:
    """The 52-bit score GEOADD stores (geohashAlign52Bits of a step-26 hash)."""
    return encode(longitude, latitude)


def decode_area(bits: int, step: int, long_range=(LONG_MIN, LONG_MAX), lat_range=(LAT_MIN, LAT_MAX)):
    """geohashDecode: (long_min, long_max, lat_min, lat_max)."""
    ilato, ilono = deinterleave64(bits)
    ilato &= 0xFFFFFFFF
    ilono &= 0xFFFFFFFF
    lat_scale = lat_range[1] - lat_range[0]
    long_scale = long_range[1] - long_range[0]
    div = float(1 << step)
    return (long_range[0] + (ilono * 1.0 / div) * long_scale,
            long_range[0] + ((ilono + 1) * 1.0 / div) * long_scale,
            lat_range[0] + (ilato * 1.0 / div) * lat_scale,
            lat_range[0] + ((ilato + 1) * 1.0 / div) * lat_scale)


def decode(bits: int, step: int = STEP_MAX) -> tuple[float, float]:
    """geohashDecodeToLongLatWGS84: the centre of the cell, clamped."""
    lo_min, lo_max, la_min, la_max = decode_area(bits, step)
    x = (lo_min + lo_max) / 2
    if x > LONG_MAX:
        x = LONG_MAX
    if x < LONG_MIN:
        x = LONG_MIN
    y = (la_min + la_max) / 2
    if y > LAT_MAX:
        y = LAT_MAX
    if y < LAT_MIN:
        y = LAT_MIN
    return x, y


_TWO63 = float(1 << 63)


def c_uint64(x: float) -> int:
    """C's (uint64_t) conversion of a double as x86-64 code does it (cvttsd2si; out of range
    gives the "integer indefinite" 1 << 63, which the high half flips back to 0)."""
    if x < _TWO63:
        if x != x or x < -_TWO63:
            return 1 << 63
        return int(x) & _M64
    y = x - _TWO63
    if y < _TWO63:
        return int(y) ^ (1 << 63)
    return 0


def decode_score(score: float) -> tuple[float, float]:
    """decodeGeohash: a zset score (C's (uint64_t) cast) to (longitude, latitude)."""
    return decode(c_uint64(score))


def geohash_string(score: float) -> bytes:
    """GEOHASH's 11-character standard geohash (re-encoded over -90..90 latitudes)."""
    x, y = decode_score(score)
    bits = encode(x, y, 26, (-180.0, 180.0), (-90.0, 90.0))
    if bits is None:
        bits = 0
    alphabet = b"0123456789bcdefghjkmnpqrstuvwxyz"
    out = bytearray()
    for i in range(10):
        out.append(alphabet[(bits >> (52 - (i + 1) * 5)) & 0x1F])
    out.append(alphabet[0])
    return bytes(out)


# --- distances -----------------------------------------------------------------------------------
def lat_distance(lat1d: float, lat2d: float) -> float:
    return EARTH_RADIUS_IN_METERS * abs(lat2d * D_R - lat1d * D_R)


def distance(lon1d: float, lat1d: float, lon2d: float, lat2d: float) -> float:
    """geohashGetDistance: haversine on Redis's sphere."""
    lon1r = lon1d * D_R
    lon2r = lon2d * D_R
    v = math.sin((lon2r - lon1r) / 2)
    if v == 0.0:
        return lat_distance(lat1d, lat2d)
    lat1r = lat1d * D_R
    lat2r = lat2d * D_R
    u = math.sin((lat2r - lat1r) / 2)
    a = u * u + math.cos(lat1r) * math.cos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS_IN_METERS * math.asin(math.sqrt(a))


# --- search areas --------------------------------------------------------------------------------
def estimate_steps(range_meters: float, lat: float) -> int:
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return max(1, min(26, step))


def _move_x(bits: int, step: int, d: int) -> int:
    if d == 0:
        return bits
    x = bits & 0xAAAAAAAAAAAAAAAA
    y = bits & 0x5555555555555555
    zz = 0x5555555555555555 >> (64 - step * 2)
    if d > 0:
        x = (x + (zz + 1)) & _M64
    else:
        x = ((x | zz) - (zz + 1)) & _M64
    x &= 0xAAAAAAAAAAAAAAAA >> (64 - step * 2)
    return x | y


def _move_y(bits: int, step: int, d: int) -> int:
    if d == 0:
        return bits
    x = bits & 0xAAAAAAAAAAAAAAAA
    y = bits & 0x5555555555555555
    zz = 0xAAAAAAAAAAAAAAAA >> (64 - step * 2)
    if d > 0:
        y = (y + (zz + 1)) & _M64
    else:
        y = ((y | zz) - (zz + 1)) & _M64
    y &= 0x5555555555555555 >> (64 - step * 2)
    return x | y


# neighbours in the order membersOfAllNeighbors visits them after the centre:
# north, south, east, west, north-east, north-west, south-east, south-west
_DIRS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))


def _neighbors(bits: int, step: int) -> list:
    return [_move_y(_move_x(bits, step, dx), step, dy) for dx, dy in _DIRS]


def bounding_box(lon: float, lat: float, width_m: float, height_m: float):
    """geohashBoundingBox with the half-extents already in metres (radius: both = radius)."""
    lat_delta = (height_m / EARTH_RADIUS_IN_METERS) / D_R
    long_delta_top = (width_m / EARTH_RADIUS_IN_METERS / math.cos((lat + lat_delta) * D_R)) / D_R
    long_delta_bottom = (width_m / EARTH_RADIUS_IN_METERS / math.cos((lat - lat_delta) * D_R)) / D_R
    if lat < 0:
        return lon - long_delta_bottom, lat - lat_delta, lon + long_delta_bottom, lat + lat_delta
    return lon - long_delta_top, lat - lat_delta, lon + long_delta_top, lat + lat_delta


def search_areas(lon: float, lat: float, radius_m: float, half_w: float, half_h: float):
    """geohashCalculateAreasByShapeWGS84: the 9 boxes to scan, as (bits, step) or None for a box
    left out, in the order Redis scans them (centre, N, S, E, W, NE, NW, SE, SW)."""
    min_lon, min_lat, max_lon, max_lat = bounding_box(lon, lat, half_w, half_h)
    steps = estimate_steps(radius_m, lat)
    bits = encode(lon, lat, steps) or 0
    nb = _neighbors(bits, steps)
    area = decode_area(bits, steps)
    north = decode_area(nb[0], steps)
    south = decode_area(nb[1], steps)
    east = decode_area(nb[2], steps)
    west = decode_area(nb[3], steps)
    decrease = (north[3] < max_lat or south[2] > min_lat or east[1] < max_lon or west[0] > min_lon)
    if steps > 1 and decrease:
        steps -= 1
        bits = encode(lon, lat, steps) or 0
        nb = _neighbors(bits, steps)
        area = decode_area(bits, steps)
    boxes = [(bits, steps)] + [(b, steps) for b in nb]
    if steps >= 2:
        drop = set()
        if area[2] < min_lat:
            drop.update((2, 7, 8))  # south, south-east, south-west
        if area[3] > max_lat:
            drop.update((1, 5, 6))  # north, north-east, north-west
        if area[0] < min_lon:
            drop.update((4, 8, 6))  # west, south-west, north-west
        if area[1] > max_lon:
            drop.update((3, 7, 5))  # east, south-east, north-east
        for i in drop:
            boxes[i] = None
    return boxes


def box_scores(bits: int, step: int) -> tuple[int, int]:
    """scoresOfGeoHashBox: [min, max) of the scores inside a box."""
    shift = 52 - step * 2
    return (bits << shift) & _M64, ((bits + 1) << shift) & _M64
