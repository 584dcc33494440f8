"""Recorded event streams, replayed through every layer that can cut them up.

Each ``tests/streams/NAME.sse`` is a raw response body; ``NAME.expected.json``
holds the events the WHATWG rules give for it, worked out by hand (see
tests/streams/README.md).  Every stream is checked:

* fed straight into `EventStreamParser` in many chunkings (fixed sizes, every
  two-way split, empty chunks, Hypothesis-chosen cuts);
* through `SSEClient` over a plain iterator of chunks, including a check that
  each event comes out before the client asks for the bytes after it;
* over real HTTP with ``requests`` and ``iter_content(chunk_size=k)``:
  pytest-httpserver (Content-Length body), and `SSEServer` writing the body
  in chosen pieces with ``Transfer-Encoding: chunked`` or close-delimited
  (``Connection: close``, no Content-Length) framing;
* live over HTTP: the server holds back the rest of the stream until the
  client has seen the events already sent.
"""

from __future__ import annotations

import importlib.util
import json
import random
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import (
    Action,
    Close,
    Response,
    SSEServer,
    WaitFor,
    split_at,
    split_every,
)

import sseclient

STREAMS_DIR = Path(__file__).resolve().parent / "streams"
NAMES = sorted(p.name[: -len(".sse")] for p in STREAMS_DIR.glob("*.sse"))
FIELDS = ("id", "event", "data", "retry")

#: Client-side ``iter_content`` chunk sizes; None reads whatever is there
#: (the whole body for Content-Length/close framing, one HTTP chunk otherwise).
CLIENT_CHUNKS = [1, 7, 64, 4096, None]
#: Chunk sizes for feeding the parser directly; 0 means the whole stream.
PARSER_CHUNKS = [1, 2, 3, 5, 7, 13, 64, 4096, 0]
#: How the raw server cuts the body into writes (and HTTP chunks).
SERVER_PIECES = ["bytes", "lines", "odd", "whole"]

BIG = 16 * 1024  # streams larger than this skip the 1-byte HTTP variants


def load(name: str) -> tuple[bytes, dict[str, Any]]:
    body = (STREAMS_DIR / f"{name}.sse").read_bytes()
    text = (STREAMS_DIR / f"{name}.expected.json").read_text(encoding="utf-8")
    return body, json.loads(text)


def expected_events(expected: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: e[k] for k in FIELDS} for e in expected["events"]]


def as_dicts(events: Iterable[Any]) -> list[dict[str, Any]]:
    out = []
    for event in events:
        assert isinstance(event, sseclient.Event), type(event)
        out.append({k: getattr(event, k) for k in FIELDS})
    return out


def chunked(body: bytes, size: int) -> list[bytes]:
    return split_every(body, size) if size else [body]


def line_pieces(body: bytes) -> list[bytes]:
    """Cut right after every CR and every LF: pieces end on line terminators,
    so a CRLF is split between two writes."""
    return split_at(body, [i + 1 for i, b in enumerate(body) if b in b"\r\n"])


def odd_pieces(body: bytes, seed: str) -> list[bytes]:
    """Deterministic pseudo-random piece sizes from 1 to 17 bytes."""
    rng = random.Random(seed)
    cuts, pos = [], 0
    while pos < len(body):
        pos += rng.randint(1, 17)
        cuts.append(pos)
    return split_at(body, cuts)


def server_pieces(body: bytes, how: str, seed: str) -> list[bytes]:
    if how == "bytes":
        return split_every(body, 1)
    if how == "lines":
        return line_pieces(body)
    if how == "odd":
        return odd_pieces(body, seed)
    assert how == "whole"
    return [body]


def parse_with_parser(chunks: Iterable[bytes]) -> tuple[list[Any], Any]:
    parser = sseclient.EventStreamParser()
    events: list[Any] = []
    for chunk in chunks:
        got = parser.feed(chunk)
        assert isinstance(got, list)
        events.extend(got)
    parser.end()
    return events, parser


def check(events: Iterable[Any], expected: dict[str, Any]) -> None:
    assert as_dicts(events) == expected_events(expected)


def check_state(obj: Any, expected: dict[str, Any]) -> None:
    """The final last event ID and reconnection time of a parser/client."""
    assert obj.last_event_id == expected["last_event_id"]
    assert obj.retry == expected["retry"]


# ---------------------------------------------------------------------------
# The data files themselves
# ---------------------------------------------------------------------------


def test_stream_files_match_generator() -> None:
    """The committed bytes are what generate_streams.py builds (this catches
    line-ending conversion by git or an editor), and every stream has its
    hand-written expectations."""
    spec = importlib.util.spec_from_file_location(
        "generate_streams", STREAMS_DIR / "generate_streams.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert sorted(module.STREAMS) == NAMES
    for name, body in module.STREAMS.items():
        assert (STREAMS_DIR / f"{name}.sse").read_bytes() == body, name
    assert (
        sorted(
            p.name[: -len(".expected.json")]
            for p in STREAMS_DIR.glob("*.expected.json")
        )
        == NAMES
    )
    assert len(NAMES) >= 9


@pytest.mark.parametrize("name", NAMES)
def test_expected_file_format(name: str) -> None:
    _, expected = load(name)
    assert isinstance(expected["description"], str)
    assert set(expected) == {"description", "events", "last_event_id", "retry"}
    for event in expected["events"]:
        assert set(event) == set(FIELDS)
        assert event["id"] is None or isinstance(event["id"], str)
        assert isinstance(event["event"], str) and event["event"]
        assert isinstance(event["data"], str)
        assert event["retry"] is None or isinstance(event["retry"], int)


# ---------------------------------------------------------------------------
# EventStreamParser, fed directly
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", PARSER_CHUNKS, ids=lambda s: f"k{s or 'whole'}")
@pytest.mark.parametrize("name", NAMES)
def test_parser_fixed_chunks(name: str, size: int) -> None:
    body, expected = load(name)
    events, parser = parse_with_parser(chunked(body, size))
    check(events, expected)
    check_state(parser, expected)


@pytest.mark.parametrize("name", NAMES)
def test_parser_every_two_way_split(name: str) -> None:
    """Cut the stream in two at every offset (for the large stream: at every
    offset near a line terminator and at a stride elsewhere)."""
    body, expected = load(name)
    want = expected_events(expected)
    if len(body) <= 4096:
        offsets: Iterable[int] = range(len(body) + 1)
    else:
        near_eol = {
            i + d for i, b in enumerate(body) if b in b"\r\n" for d in (-2, -1, 0, 1, 2)
        }
        offsets = sorted(near_eol | set(range(0, len(body), 97)))
    for cut in offsets:
        events, parser = parse_with_parser([body[:cut], body[cut:]])
        assert as_dicts(events) == want, f"split at {cut}"
        assert parser.last_event_id == expected["last_event_id"], f"split at {cut}"
        assert parser.retry == expected["retry"], f"split at {cut}"


@pytest.mark.parametrize("name", NAMES)
def test_parser_with_empty_chunks(name: str) -> None:
    """Empty feeds anywhere (as a transport may produce) change nothing."""
    body, expected = load(name)
    pieces = odd_pieces(body, name)
    chunks: list[bytes] = [b""]
    for piece in pieces:
        chunks += [piece, b"", b""]
    events, parser = parse_with_parser(chunks)
    check(events, expected)
    check_state(parser, expected)


@pytest.mark.parametrize("name", NAMES)
def test_parser_events_come_out_of_the_feed_that_completes_them(name: str) -> None:
    """Fed event by event (cut right after each dispatching blank line), each
    ``feed`` returns exactly the events its bytes complete."""
    body, expected = load(name)
    pieces, counts = event_pieces(body)
    assert sum(counts) == len(expected["events"])
    parser = sseclient.EventStreamParser()
    seen: list[Any] = []
    for piece, count in zip(pieces, counts):
        got = parser.feed(piece)
        assert len(got) == count, (piece, as_dicts(got))
        seen += got
    parser.end()
    check(seen, expected)


@settings(
    max_examples=15,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
@pytest.mark.parametrize("name", NAMES)
def test_parser_hypothesis_chunkings(name: str, data: st.DataObject) -> None:
    body, expected = load(name)
    cuts = data.draw(
        st.lists(st.integers(0, len(body)), max_size=40), label="cut offsets"
    )
    events, parser = parse_with_parser(split_at(body, cuts))
    check(events, expected)
    check_state(parser, expected)


# ---------------------------------------------------------------------------
# SSEClient over a plain iterator
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", PARSER_CHUNKS, ids=lambda s: f"k{s or 'whole'}")
@pytest.mark.parametrize("name", NAMES)
def test_client_over_iterator(name: str, size: int) -> None:
    body, expected = load(name)
    client = sseclient.SSEClient(iter(chunked(body, size)))
    check(client.events(), expected)
    check_state(client, expected)


def event_pieces(body: bytes) -> tuple[list[bytes], list[int]]:
    """Cut ``body`` after each blank line that dispatches an event.

    Returns the pieces and, for each, how many events its last line completes
    (1 for every piece but a trailing unterminated one, which gets 0).  A
    block dispatches iff it holds a ``data`` field: that is all the spec asks
    for a non-empty data buffer.  Lines are split the spec's way (CRLF, LF or
    CR; a CR at the very end of the stream ends a line).
    """
    start = 3 if body.startswith(b"\xef\xbb\xbf") else 0
    cuts: list[int] = []
    has_data = False
    i, line_start, n = start, start, len(body)
    while i < n:
        byte = body[i : i + 1]
        if byte in (b"\r", b"\n"):
            line = body[line_start:i]
            end = i + 2 if body[i : i + 2] == b"\r\n" else i + 1
            if line == b"":
                if has_data:
                    cuts.append(end)
                has_data = False
            elif line == b"data" or line.startswith(b"data:"):
                has_data = True
            i = line_start = end
        else:
            i += 1
    pieces = split_at(body, cuts)
    counts = [1] * len(cuts) + [0] * (len(pieces) - len(cuts))
    return pieces, counts


@pytest.mark.parametrize("name", NAMES)
def test_client_yields_each_event_before_reading_further(name: str) -> None:
    """The client must hand over an event as soon as its blank line is in,
    before it pulls the next chunk (on a live stream that chunk may come
    minutes later)."""
    body, expected = load(name)
    pieces, counts = event_pieces(body)
    received: list[Any] = []

    def source() -> Iterator[bytes]:
        owed = 0
        for piece, count in zip(pieces, counts):
            assert len(received) == owed, "client read ahead of its events"
            yield piece
            owed += count
        assert len(received) == owed

    client = sseclient.SSEClient(source())
    for event in client.events():
        received.append(event)
    check(received, expected)


# ---------------------------------------------------------------------------
# Over HTTP with requests
# ---------------------------------------------------------------------------


def fetch(url: str, chunk_size: int | None) -> tuple[list[Any], Any]:
    with requests.get(url, stream=True, timeout=10) as response:
        response.raise_for_status()
        client = sseclient.SSEClient(response.iter_content(chunk_size=chunk_size))
        return list(client.events()), client


def skip_if_too_slow(body: bytes, *sizes: int | None) -> None:
    if len(body) > BIG and 1 in sizes:
        pytest.skip("1-byte HTTP reads of the large stream are covered by parser tests")


@pytest.mark.parametrize("chunk_size", CLIENT_CHUNKS, ids=lambda k: f"k{k or 'whole'}")
@pytest.mark.parametrize("name", NAMES)
def test_requests_over_pytest_httpserver(
    httpserver: Any, name: str, chunk_size: int | None
) -> None:
    body, expected = load(name)
    skip_if_too_slow(body, chunk_size)
    httpserver.expect_request("/stream").respond_with_data(
        body, content_type="text/event-stream"
    )
    events, client = fetch(httpserver.url_for("/stream"), chunk_size)
    check(events, expected)
    check_state(client, expected)


#: With chunked framing each server write is one HTTP chunk, and urllib3 hands
#: over at most one chunk per read, so the client sees every combination of
#: piece and read size.  Close-delimited reads are filled to ``chunk_size``
#: whatever the writes were, so fewer write patterns are needed there.
RAW_FRAMINGS = [("chunked", p) for p in SERVER_PIECES] + [
    ("close", "bytes"),
    ("close", "odd"),
]


@pytest.mark.parametrize("chunk_size", CLIENT_CHUNKS, ids=lambda k: f"k{k or 'whole'}")
@pytest.mark.parametrize(
    ("framing", "pieces"), RAW_FRAMINGS, ids=[f"{f}-{p}" for f, p in RAW_FRAMINGS]
)
@pytest.mark.parametrize("name", NAMES)
def test_requests_over_raw_server(
    name: str, framing: str, pieces: str, chunk_size: int | None
) -> None:
    body, expected = load(name)
    skip_if_too_slow(body, chunk_size, 1 if pieces == "bytes" else None)
    script = server_pieces(body, pieces, seed=name)
    with SSEServer(Response(script, framing=framing)) as server:
        events, client = fetch(server.url_for("/v1/stream"), chunk_size)
        assert server.wait_idle()
        assert server.errors == []
    check(events, expected)
    check_state(client, expected)
    (request,) = server.requests
    assert request.method == "GET"
    assert request.target == "/v1/stream"


def test_raw_server_frames_as_asked() -> None:
    """A self-check of the helper: the bytes on the wire carry the framing."""
    import socket

    body = b"data: a\n\ndata: b\n\n"
    for framing, marker in [
        ("chunked", b"Transfer-Encoding: chunked"),
        ("close", b"Connection: close"),
        ("length", b"Content-Length: 18"),
    ]:
        with SSEServer(Response([body[:9], body[9:]], framing=framing)) as server:
            with socket.create_connection(("127.0.0.1", server.port), 5) as sock:
                sock.sendall(
                    b"GET /x HTTP/1.1\r\nHost: t\r\nLast-Event-ID: 42\r\n"
                    b"Connection: close\r\n\r\n"
                )
                raw = b""
                while chunk := sock.recv(65536):
                    raw += chunk
            assert server.requests[0].headers["last-event-id"] == "42"
        head, _, wire = raw.partition(b"\r\n\r\n")
        assert marker in head
        assert b"Content-Length" not in head or framing == "length"
        if framing == "chunked":
            assert wire == b"9\r\ndata: a\n\n\r\n9\r\ndata: b\n\n\r\n0\r\n\r\n"
        else:
            assert wire == body


# ---------------------------------------------------------------------------
# Live streams: the server waits for the client before sending more
# ---------------------------------------------------------------------------


def live_script(
    body: bytes,
) -> tuple[list[Action], list[threading.Event], list[int]]:
    """Pieces that each end with a dispatching blank line, each followed by a
    wait until the client has seen every event so far."""
    pieces, counts = event_pieces(body)
    script: list[Action] = []
    acks: list[threading.Event] = []
    owed: list[int] = []
    total = 0
    for piece, count in zip(pieces, counts):
        script.append(piece)
        total += count
        if count:
            ack = threading.Event()
            acks.append(ack)
            owed.append(total)
            script.append(WaitFor(ack, timeout=5.0))
    return script, acks, owed


@pytest.mark.parametrize(
    ("framing", "chunk_size"),
    [("chunked", 1), ("chunked", 4096), ("chunked", None), ("close", 1)],
    ids=["chunked-k1", "chunked-k4096", "chunked-kwhole", "close-k1"],
)
@pytest.mark.parametrize("name", NAMES)
def test_events_arrive_while_the_stream_is_open(
    name: str, framing: str, chunk_size: int | None
) -> None:
    """Each event reaches the caller while the server is still holding the
    rest of the stream back, waiting for it.  (Close-delimited bodies are
    only live with 1-byte reads: urllib3 fills larger reads before returning.)
    """
    body, expected = load(name)
    skip_if_too_slow(body, chunk_size)
    script, acks, owed = live_script(body)
    received: list[Any] = []
    with SSEServer(Response(script, framing=framing)) as server:
        with requests.get(server.url, stream=True, timeout=10) as response:
            client = sseclient.SSEClient(response.iter_content(chunk_size=chunk_size))
            for event in client.events():
                received.append(event)
                for ack, count in zip(acks, owed):
                    if len(received) >= count:
                        ack.set()
        assert server.wait_idle()
        assert server.timeouts == 0, "an event was held back until more bytes came"
    check(received, expected)


def test_events_before_a_dropped_connection_are_delivered() -> None:
    """A connection reset mid-event: the complete events come out, then the
    transport's error propagates (it is not swallowed, and the half event is
    not delivered)."""
    body, expected = load("anthropic_messages")
    pieces, _ = event_pieces(body)
    half = pieces[3][: len(pieces[3]) // 2]
    got: list[Any] = []
    script: list[Action] = [*pieces[:3], half, Close()]
    with SSEServer(Response(script, framing="chunked")) as server:
        response = requests.get(server.url, stream=True, timeout=10)
        client = sseclient.SSEClient(response.iter_content(chunk_size=64))
        with response, pytest.raises(requests.exceptions.RequestException):
            for event in client.events():
                got.append(event)
    check(got, {"events": expected["events"][:3]})
