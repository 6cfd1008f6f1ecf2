"""Geo commands against a real redis-server: scores, coordinates, distances and search results
(including their order) byte for byte, in RESP2 and RESP3, and error texts."""
import random

import pytest

from amr_emulator.protocol.resp import decode_reply

SICILY = ("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania",
          "12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2", "13.583333", "37.316667",
          "Agrigento")

SCENARIOS = {
    "geoadd": [
        SICILY, ("ZRANGE", "Sicily", "0", "-1", "WITHSCORES"), ("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo"),
        ("GEOADD", "Sicily", "CH", "13.361390", "38.115556", "Palermo"), ("GEOADD", "Sicily", "NX", "1", "2", "Palermo"),
        ("GEOADD", "Sicily", "XX", "1", "2", "New"), ("GEOADD", "Sicily", "XX", "CH", "1", "2", "Palermo", "3", "4", "New"),
        ("GEOADD", "Sicily", "NX", "XX", "1", "2", "x"), ("GEOADD", "Sicily", "1", "2"), ("GEOADD", "Sicily", "CH", "1", "2"),
        ("GEOADD", "Sicily", "200", "100", "x"), ("GEOADD", "Sicily", "-180.1", "0", "x"), ("GEOADD", "Sicily", "0", "85.06", "x"),
        ("GEOADD", "Sicily", "180", "85.05112878", "corner"), ("GEOADD", "Sicily", "-180", "-85.05112878", "corner2"),
        ("GEOADD", "Sicily", "0", "0", "zero"), ("GEOADD", "Sicily", "x", "1", "m"), ("GEOADD", "Sicily", "1", "nan", "m"),
        ("GEOADD", "Sicily", "1", "inf", "m"), ("GEOADD", "Sicily", "1", "2", "ok", "500", "2", "bad"), ("ZSCORE", "Sicily", "ok"),
        ("GEOADD", "Sicily", "CH", "CH", "CH"), ("GEOADD", "Sicily", "GT", "1", "2", "m"),
        ("ZRANGE", "Sicily", "0", "-1", "WITHSCORES"), ("SET", "str", "x"), ("GEOADD", "str", "1", "2", "m"),
        ("GEOADD", "str", "1", "200", "m"), ("GEOADD", "k"), ("GEOADD", "k", "1", "2"),
    ],
    "geopos-geohash-geodist": [
        SICILY, ("GEOPOS", "Sicily", "Palermo", "nope", "Catania", "edge1"), ("GEOPOS", "nokey", "a", "b"),
        ("GEOPOS", "Sicily"), ("GEOHASH", "Sicily", "Palermo", "Catania", "nope", "edge2"), ("GEOHASH", "nokey", "a"),
        ("GEOHASH", "Sicily"), ("GEODIST", "Sicily", "Palermo", "Catania"), ("GEODIST", "Sicily", "Palermo", "Catania", "km"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "MI"), ("GEODIST", "Sicily", "Palermo", "Catania", "ft"),
        ("GEODIST", "Sicily", "Palermo", "Palermo"), ("GEODIST", "Sicily", "Palermo", "nope"), ("GEODIST", "nokey", "a", "b"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "yards"), ("GEODIST", "Sicily", "Palermo", "Catania", "km", "x"),
        ("GEODIST", "nokey", "a", "b", "bad"), ("GEOADD", "w", "180", "85.05112878", "a", "-180", "-85.05112878", "b"),
        ("GEOPOS", "w", "a", "b"), ("GEOHASH", "w", "a", "b"), ("GEODIST", "w", "a", "b"),
        ("ZADD", "z", "0", "zero", "4503599627370495", "max", "-1", "neg", "1e20", "big"),
        ("GEOPOS", "z", "zero", "max"), ("GEOHASH", "z", "zero", "max"), ("GEODIST", "z", "zero", "max"),
        # scores no GEOADD writes: decoded through C's (uint64_t) cast, as x86-64 does it
        ("ZADD", "z", "-1e20", "nbig", "4503599627370496", "over", "inf", "inf", "-inf", "ninf",
         "-9223372036854775808", "min", "-9.3e18", "below", "1.8e19", "u64"),
        ("GEOPOS", "z", "neg", "big", "nbig", "over", "inf", "ninf", "min", "below", "u64"),
        ("GEOHASH", "z", "neg", "big", "nbig", "over", "inf", "ninf", "min", "below", "u64"),
        ("GEODIST", "z", "neg", "big"), ("GEOSEARCH", "z", "FROMMEMBER", "neg", "BYRADIUS", "100", "km"),
        ("GEOSEARCH", "z", "FROMLONLAT", "0", "0", "BYRADIUS", "30000", "km", "WITHHASH"),
        ("SET", "str", "x"), ("GEOPOS", "str", "a"), ("GEOHASH", "str", "a"), ("GEODIST", "str", "a", "b"),
        ("GEODIST", "str", "a", "b", "bad"),
    ],
    "georadius": [
        SICILY, ("GEORADIUS", "Sicily", "15", "37", "200", "km"), ("GEORADIUS", "Sicily", "15", "37", "200", "km", "ASC"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC", "WITHDIST"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "2"), ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "2", "DESC"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "ANY"), ("GEORADIUS", "Sicily", "15", "37", "1", "m"),
        ("GEORADIUS", "Sicily", "15", "37", "0", "km"), ("GEORADIUS", "Sicily", "15", "37", "10000", "km", "withcoord"),
        ("GEORADIUS", "Sicily", "15", "37", "100", "mi", "WITHDIST"), ("GEORADIUS", "Sicily", "15", "37", "500000", "ft", "WITHDIST"),
        ("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "WITHDIST"), ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km"),
        ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST", "ASC"),
        ("GEORADIUSBYMEMBER_RO", "Sicily", "Agrigento", "100", "km", "WITHCOORD", "DESC"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst"), ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "dst2"), ("ZRANGE", "dst2", "0", "-1", "WITHSCORES"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst", "COUNT", "1"), ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("GEORADIUS", "Sicily", "15", "37", "1", "m", "STORE", "dst"), ("EXISTS", "dst"),
        ("GEORADIUS", "nokey", "15", "37", "1", "m", "STORE", "dst2"), ("EXISTS", "dst2"),
        ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "STOREDIST", "d3"), ("ZRANGE", "d3", "0", "-1", "WITHSCORES"),
        ("GEORADIUS", "nokey", "15", "37", "200", "km"), ("GEORADIUSBYMEMBER", "nokey", "x", "200", "km"),
        ("GEORADIUSBYMEMBER", "nokey", "x", "bad", "bad", "WITHDIST"), ("GEORADIUSBYMEMBER", "nokey", "x", "1", "km", "BAD"),
    ],
    "georadius-errors": [
        SICILY, ("GEORADIUS", "Sicily", "15", "37", "200", "yd"), ("GEORADIUS", "Sicily", "15", "37", "x", "km"),
        ("GEORADIUS", "Sicily", "15", "37", "-1", "km"), ("GEORADIUS", "Sicily", "x", "37", "1", "km"),
        ("GEORADIUS", "Sicily", "15", "90", "1", "km"), ("GEORADIUS", "Sicily", "15", "37", "1", "km", "COUNT", "0"),
        ("GEORADIUS", "Sicily", "15", "37", "1", "km", "COUNT", "-1"), ("GEORADIUS", "Sicily", "15", "37", "1", "km", "COUNT", "x"),
        ("GEORADIUS", "Sicily", "15", "37", "1", "km", "COUNT"), ("GEORADIUS", "Sicily", "15", "37", "1", "km", "ANY"),
        ("GEORADIUS", "Sicily", "15", "37", "1", "km", "STORE"), ("GEORADIUS", "Sicily", "15", "37", "1", "km", "BAD"),
        ("GEORADIUS", "Sicily", "15", "37", "1", "km", "STORE", "d", "WITHDIST"),
        ("GEORADIUS", "Sicily", "15", "37", "1", "km", "WITHHASH", "STOREDIST", "d"),
        ("GEORADIUS_RO", "Sicily", "15", "37", "1", "km", "STORE", "d"), ("GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "1", "km", "STORE", "d"),
        ("GEORADIUSBYMEMBER", "Sicily", "nope", "1", "km"), ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "1", "parsec"),
        ("GEORADIUS", "Sicily", "15", "37", "1", "km", "FROMLONLAT", "1", "2"), ("SET", "str", "x"),
        ("GEORADIUS", "str", "15", "37", "1", "km"), ("GEORADIUS", "str", "x", "37", "1", "km"),
        ("GEORADIUSBYMEMBER", "str", "a", "1", "km"), ("GEORADIUS", "Sicily", "15", "37", "1"),
        ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "1"), ("GEORADIUS", "Sicily", "15", "37", "1", "km", "ANY", "COUNT", "1"),
    ],
    "geosearch": [
        SICILY, ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "WITHDIST"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "WITHCOORD", "WITHDIST"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "200", "100", "km", "DESC", "WITHHASH"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "0", "0", "km"),
        ("GEOSEARCH", "Sicily", "frommember", "Agrigento", "bybox", "1000", "1000", "mi", "COUNT", "2"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "3", "ANY"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "COUNT", "3"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "STOREDIST"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"), ("EXISTS", "dst"),
        ("GEOSEARCHSTORE", "dst", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"),
        ("GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "m"), ("GEOSEARCHSTORE", "d", "nokey", "FROMMEMBER", "x", "BYBOX", "1", "1", "m"),
        # errors
        ("GEOSEARCH", "Sicily", "BYRADIUS", "200", "km"), ("geosearch", "Sicily", "FROMLONLAT", "15", "37"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "1", "1", "km", "BYRADIUS", "1", "km"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "x", "1", "km"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "1", "x", "km"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "-1", "1", "km"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "1", "1", "au"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "1", "1"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "1", "km"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "STORE", "x"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "STOREDIST"),
        ("GEOSEARCHSTORE", "d", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "WITHDIST"),
        ("GEOSEARCHSTORE", "d", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "STORE", "x"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "ANY"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "200", "37", "BYRADIUS", "1", "km"),
        ("GEOSEARCH", "nokey", "FROMLONLAT", "15", "37"), ("GEOSEARCH", "nokey", "BYRADIUS", "1", "km"),
        ("SET", "str", "x"), ("GEOSEARCH", "str", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km"),
        ("GEOSEARCHSTORE", "d", "str", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km"),
        ("GEOSEARCHSTORE", "str", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"), ("TYPE", "str"),
    ],
}


def scores_equal(compat, *args):
    """ZRANGE ... WITHSCORES compared as numbers: 7.0.15 differs in how it prints a double score
    (%.17g; 7.2+ prints the shortest text that reads back the same), not in the double itself."""
    ours, theirs = (decode_reply(r)[0] for r in compat.both(*args))
    assert [float(x) for x in ours[1::2]] == [float(x) for x in theirs[1::2]], args
    assert ours[0::2] == theirs[0::2], args


def run(compat, steps):
    for step in steps:
        if step[0] == "ZRANGE":
            scores_equal(compat, *step)
        else:
            compat.call(*step)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(compat, name):
    run(compat, SCENARIOS[name])


def test_resp3(compat):
    compat.resp3()
    run(compat, SCENARIOS["geopos-geohash-geodist"] + SCENARIOS["geosearch"][:8])


def _points(rng, n, lon0, lat0, spread):
    args = []
    for i in range(n):
        lon = max(-180.0, min(180.0, lon0 + rng.uniform(-spread, spread)))
        lat = max(-85.0, min(85.0, lat0 + rng.uniform(-spread, spread)))
        args += ["%.6f" % lon, "%.6f" % lat, f"p{i}"]
    return args


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_searches(compat, seed):
    """Many random centres and sizes, near the equator, the poles and the antimeridian; every reply
    (member order included, unsorted replies too) byte for byte."""
    rng = random.Random(seed)
    for lon0, lat0, spread in ((0, 0, 5), (179.5, 70, 3), (-30, -82, 4), (100, 45, 40)):
        compat.call("DEL", "g")
        compat.call("GEOADD", "g", *_points(rng, 300, lon0, lat0, spread))
        for _ in range(25):
            lon = "%.5f" % max(-180.0, min(180.0, lon0 + rng.uniform(-spread, spread)))
            lat = "%.5f" % max(-85.0, min(85.0, lat0 + rng.uniform(-spread, spread)))
            unit = rng.choice(["m", "km", "mi", "ft"])
            size = str(rng.choice([1, 10, 50, 100, 300, 1000]) * {"m": 1000, "km": 1, "mi": 1, "ft": 3000}[unit])
            order = rng.choice([[], ["ASC"], ["DESC"]])
            opts = order + rng.choice([[], ["WITHDIST"], ["WITHCOORD", "WITHDIST", "WITHHASH"]])
            compat.call("GEOSEARCH", "g", "FROMLONLAT", lon, lat, "BYRADIUS", size, unit, *opts)
            compat.call("GEOSEARCH", "g", "FROMLONLAT", lon, lat, "BYBOX", size, str(int(size) // 2 + 1), unit, *opts)
            compat.call("GEORADIUSBYMEMBER", "g", f"p{rng.randrange(300)}", size, unit, *opts)
            compat.call("GEOSEARCH", "g", "FROMLONLAT", lon, lat, "BYRADIUS", size, unit, "COUNT", "5", "ANY")
            compat.call("GEODIST", "g", f"p{rng.randrange(300)}", f"p{rng.randrange(300)}", unit)
        compat.call("GEOPOS", "g", *[f"p{i}" for i in range(0, 300, 7)])
        compat.call("GEOHASH", "g", *[f"p{i}" for i in range(0, 300, 7)])
