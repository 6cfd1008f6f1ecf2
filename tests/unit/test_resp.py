"""The RESP codec: request parsing (split at every byte, inline, errors as Redis words them) and
reply encoding in RESP2 and RESP3."""
import math

import pytest

from amr_emulator.protocol.errors import ProtocolError, RespError
from amr_emulator.protocol.resp import (NULL_ARRAY, Push, RequestParser, RespSet, Simple, SpanParser, Verbatim,
                                        decode_reply, encode2, encode3, encode_command, format_double, split_args,
                                        string2ll)


def parse_all(data: bytes, chunk: int | None = None, **kw):
    p = RequestParser(**kw)
    out = []
    error = None
    pieces = [data] if chunk is None else [data[i:i + chunk] for i in range(0, len(data), chunk)]
    for piece in pieces:
        p.feed(piece)
        reqs, error = p.parse()
        out.extend(reqs)
        if error:
            break
    return out, error


PIPELINE = (encode_command("SET", "key", "value") + b"PING\r\n" + encode_command("MSET", "a", "", "b", "x" * 300)
            + b"*0\r\n" + b'set "a b" \'c\'\r\n' + encode_command("GET", b"\x00\r\n\xff"))
EXPECTED = [[b"SET", b"key", b"value"], [b"PING"], [b"MSET", b"a", b"", b"b", b"x" * 300], [b"set", b"a b", b"c"],
            [b"GET", b"\x00\r\n\xff"]]


def test_pipeline_whole():
    assert parse_all(PIPELINE) == (EXPECTED, None)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
def test_pipeline_split_at_every_byte(chunk):
    assert parse_all(PIPELINE, chunk) == (EXPECTED, None)


def test_split_at_each_position():
    for cut in range(len(PIPELINE) + 1):
        p = RequestParser()
        p.feed(PIPELINE[:cut])
        first, err = p.parse()
        p.feed(PIPELINE[cut:])
        rest, err2 = p.parse()
        assert err is None and err2 is None
        assert first + rest == EXPECTED, cut


def spans_all(pieces, parser=None):
    """SpanParser.read_spans over `pieces`: the requests, and each one's bytes as its span says
    (None for those the exact parser read), and the error."""
    p = parser or SpanParser()
    reqs, spans, error = [], [], None
    for piece in pieces:
        got, ends, buf, error = p.read_spans(piece)
        reqs.extend(got)
        if ends is None:
            spans.extend([None] * len(got))
        else:
            assert len(ends) == len(got)
            spans.extend(buf[a:b] for a, b in zip([0] + ends, ends))
        if error:
            break
    return reqs, spans, error


CANONICAL = b"".join(encode_command(*r) for r in [["SET", "k" * 20, "v" * 30], ["GET", "k"], ["DEL", "a", "b", "c"],
                                                 ["SET", "big", "x" * 500], ["INCR", "n"]] * 3)
CANONICAL_REQS = RequestParser()
CANONICAL_REQS.feed(CANONICAL)
CANONICAL_REQS = CANONICAL_REQS.parse()[0]


def test_spans_of_a_pipeline_split_anywhere():
    """A canonical pipeline cut in two anywhere: every request comes out with its very bytes (the
    start of the one cut in two waits for the rest), none by the exact parser unless the rest is
    less than a quarter of that start."""
    for cut in range(len(CANONICAL) + 1):
        p = SpanParser()
        reqs, spans, err = spans_all([CANONICAL[:cut], CANONICAL[cut:]], p)
        assert err is None and reqs == CANONICAL_REQS, cut
        assert all(s in (None, encode_command(*r)) for s, r in zip(spans, reqs)), cut
        if len(CANONICAL) - cut >= 150:  # a quarter of the longest request, and more
            assert None not in spans, cut
        assert p.pending() == 0


def test_spans_in_growing_pieces_stay_on_the_fast_path():
    pieces, i, size = [], 0, 7
    while i < len(CANONICAL):
        if len(CANONICAL) - i < 2 * size:
            size = len(CANONICAL) - i
        pieces.append(CANONICAL[i:i + size])
        i += size
        size *= 2
    reqs, spans, err = spans_all(pieces)
    assert reqs == CANONICAL_REQS and None not in spans


def test_spans_in_small_pieces_go_to_the_exact_parser():
    """Pieces smaller than the request start that waits would copy it again and again: the exact
    parser takes them, and the requests are the same."""
    p = SpanParser()
    reqs, spans, err = spans_all([CANONICAL[i:i + 3] for i in range(0, len(CANONICAL), 3)], p)
    assert err is None and reqs == CANONICAL_REQS
    assert None in spans
    assert p.pending() == 0
    more = encode_command("PING")  # back at a request boundary: the fast path again
    assert spans_all([more], p)[1] == [more]


def test_a_waiting_request_start_counts_as_pending():
    p = SpanParser()
    whole = encode_command("SET", "key", "value")
    reqs, ends, buf, err = p.read_spans(whole + whole[:9])
    assert reqs == [[b"SET", b"key", b"value"]] and ends == [len(whole)] and err is None
    assert p.pending() == 9
    reqs, ends, buf, err = p.read_spans(whole[9:] + b"*1\r\n:1\r\n")
    assert reqs == [[b"SET", b"key", b"value"]] and ends is None
    assert err.message == "ERR Protocol error: expected '$', got ':'"


def test_a_long_request_start_goes_to_the_exact_parser():
    big = encode_command("SET", "k", "x" * 100_000)
    reqs, spans, err = spans_all([big[:70_000], big[70_000:]])
    assert reqs == [[b"SET", b"k", b"x" * 100_000]] and spans == [None] and err is None


def test_a_waiting_start_then_a_reset_gets_the_limits_of_an_unauthenticated_client():
    p = SpanParser()
    p.read_spans(b"*11\r\n$3\r\n")
    p.require_auth = True
    assert p.read_spans(b"SET\r\n")[3].message == "ERR Protocol error: unauthenticated multibulk length"


@pytest.mark.parametrize("data,message", [
    (b"*1\r\n:5\r\n", "ERR Protocol error: expected '$', got ':'"),
    (b"*-0\r\n", "ERR Protocol error: invalid multibulk length"),
    (b"*01\r\n", "ERR Protocol error: invalid multibulk length"),
    (b"*x\r\n", "ERR Protocol error: invalid multibulk length"),
    (b"*3000000000\r\n", "ERR Protocol error: invalid multibulk length"),
    (b"*1\r\n$-0\r\n", "ERR Protocol error: invalid bulk length"),
    (b"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"),
    (b"*1\r\n$abc\r\n", "ERR Protocol error: invalid bulk length"),
    (b'PING "a\r\n', "ERR Protocol error: unbalanced quotes in request"),
    (b"PING 'a'b\r\n", "ERR Protocol error: unbalanced quotes in request"),
    (b"x" * (64 * 1024 + 1), "ERR Protocol error: too big inline request"),
    (b"*" + b"1" * (64 * 1024 + 1), "ERR Protocol error: too big mbulk count string"),
    (b"*1\r\n" + b"$" + b"1" * (64 * 1024 + 1), "ERR Protocol error: too big bulk count string"),
])
def test_protocol_errors(data, message):
    reqs, err = parse_all(data)
    assert reqs == []
    assert isinstance(err, ProtocolError) and err.message == message


def test_requests_before_an_error_are_kept():
    reqs, err = parse_all(encode_command("PING") + b"*1\r\n:1\r\n" + encode_command("PING"))
    assert reqs == [[b"PING"]] and err.message.endswith("got ':'")


def test_bulk_longer_than_the_limit():
    reqs, err = parse_all(b"*1\r\n$2000000\r\n", max_bulk_len=1024 * 1024)
    assert err.message == "ERR Protocol error: invalid bulk length"


def test_unauthenticated_limits():
    p = RequestParser()
    p.require_auth = True
    p.feed(b"*11\r\n")
    assert p.parse()[1].message == "ERR Protocol error: unauthenticated multibulk length"
    p = RequestParser()
    p.require_auth = True
    p.feed(b"*1\r\n$16385\r\n")
    assert p.parse()[1].message == "ERR Protocol error: unauthenticated bulk length"


def test_trailing_bytes_after_bulk_are_not_checked():
    # Redis skips the two bytes after a bulk without looking at them
    assert parse_all(b"*1\r\n$4\r\nPINGxx")[0] == [[b"PING"]]


def test_empty_lines_and_empty_multibulk_are_skipped():
    assert parse_all(b"\r\n\n  \r\n*0\r\n*-1\r\nPING\r\n")[0] == [[b"PING"]]


@pytest.mark.parametrize("line,words", [
    (b"set a b", [b"set", b"a", b"b"]),
    (b'  set  "a\\nb"  c  ', [b"set", b"a\nb", b"c"]),
    (b'"\\x41\\x4a"', [b"AJ"]),
    (b"'it\\'s'", [b"it's"]),
    (b'a"b c"d', None),
    (b'ab"c d"', [b"abc d"]),
    (b"", []),
])
def test_split_args(line, words):
    assert split_args(line) == words


@pytest.mark.parametrize("text,value", [
    (b"0", 0), (b"-1", -1), (b"9223372036854775807", 2**63 - 1), (b"-9223372036854775808", -(2**63)),
    (b"9223372036854775808", None), (b"01", None), (b"-0", None), (b"+1", None), (b" 1", None), (b"", None),
    (b"1a", None), (b"-", None),
])
def test_string2ll(text, value):
    assert string2ll(text) == value


ENCODINGS = [
    (b"abc", b"$3\r\nabc\r\n", b"$3\r\nabc\r\n"),
    (7, b":7\r\n", b":7\r\n"),
    (None, b"$-1\r\n", b"_\r\n"),
    (NULL_ARRAY, b"*-1\r\n", b"_\r\n"),
    (Simple("OK"), b"+OK\r\n", b"+OK\r\n"),
    ([b"a", 1, None], b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n", b"*3\r\n$1\r\na\r\n:1\r\n_\r\n"),
    ({b"k": 1}, b"*2\r\n$1\r\nk\r\n:1\r\n", b"%1\r\n$1\r\nk\r\n:1\r\n"),
    (RespSet([b"x"]), b"*1\r\n$1\r\nx\r\n", b"~1\r\n$1\r\nx\r\n"),
    (1.5, b"$3\r\n1.5\r\n", b",1.5\r\n"),
    (math.inf, b"$3\r\ninf\r\n", b",inf\r\n"),
    (True, b":1\r\n", b"#t\r\n"),
    (Verbatim("hi"), b"$2\r\nhi\r\n", b"=6\r\ntxt:hi\r\n"),
    (Push([b"message", b"c", b"m"]), b"*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n",
     b">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n"),
    (RespError("ERR x"), b"-ERR x\r\n", b"-ERR x\r\n"),
    ([], b"*0\r\n", b"*0\r\n"),
]


@pytest.mark.parametrize("value,resp2,resp3", ENCODINGS)
def test_encode(value, resp2, resp3):
    assert encode2(value) == resp2
    assert encode3(value) == resp3


@pytest.mark.parametrize("value,resp2,resp3", ENCODINGS)
def test_decode_round_trip(value, resp2, resp3):
    decoded, end = decode_reply(resp3)
    assert end == len(resp3)
    assert encode3(decoded) == resp3


@pytest.mark.parametrize("d,text", [
    (1.0, b"1"), (1.5, b"1.5"), (1.1, b"1.1"), (-0.0, b"-0"), (1e20, b"1e+20"), (0.1 + 0.2, b"0.30000000000000004"),
    (-math.inf, b"-inf"), (123456.789, b"123456.789"), (1e-5, b"1e-05"),
])
def test_format_double(d, text):
    assert format_double(d) == text
