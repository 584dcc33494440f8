"""The stream files in tests/streams/, replayed through every layer that can
cut them up.

Each ``NAME.sse`` is a raw response body; ``NAME.expected.json`` holds the
events the WHATWG rules give for it (see tests/streams/README.md).  Today
every stream is synthetic (tests/streams/synthetic/, written by its
generate_streams.py); streams recorded from real servers will go to
tests/streams/recorded/ and be replayed the same way.  Every stream is
checked:

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
import random
import socket
import threading
from collections.abc import Iterable, Iterator
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
from stream_files import (
    FIELDS,
    SYNTHETIC_DIR,
    as_dicts,
    expected_events,
    load_stream,
    stream_files,
)

import sseclient

STREAMS = stream_files()
NAMES = [stream.name for stream in STREAMS]

#: Client-side ``iter_content`` chunk sizes; None reads whatever is there
#: (the whole body for Content-Length/close framing, one HTTP chunk otherwise).
CLIENT_CHUNKS = [1, 7, 64, 4096, None]
#: Chunk sizes for feeding the parser directly; 0 means the whole stream.
PARSER_CHUNKS = [1, 2, 3, 5, 7, 13, 64, 4096, 0]
#: How the raw server cuts the body into writes (and HTTP chunks).
SERVER_PIECES = ["bytes", "lines", "odd", "whole"]

#: Streams larger than this are not read over HTTP one byte at a time (1-byte
#: reads, or 1-byte server writes): a byte per read costs ~1 ms round trip
#: here.  Their 1-byte chunkings are covered without HTTP, by
#: test_parser_fixed_chunks[NAME-k1] and test_client_over_iterator[NAME-k1];
#: 1-byte HTTP reads and writes, by the smaller streams.
BIG = 16 * 1024
#: The streams read over HTTP one byte at a time.
SMALL = {stream.name for stream in STREAMS if stream.size <= BIG}


def k(chunk_size: int | None) -> str:
    """A test id for a client chunk size."""
    return f"k{chunk_size or 'whole'}"


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


def test_synthetic_files_match_their_generator() -> None:
    """The committed synthetic bytes are what generate_streams.py builds (this
    catches line-ending conversion by git or an editor), and every stream
    has its expected file."""
    spec = importlib.util.spec_from_file_location(
        "generate_streams", SYNTHETIC_DIR / "generate_streams.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    synthetic = [stream.name for stream in stream_files(SYNTHETIC_DIR)]
    assert sorted(module.STREAMS) == synthetic
    for name, body in module.STREAMS.items():
        assert (SYNTHETIC_DIR / f"{name}.sse").read_bytes() == body, name
    assert len(synthetic) >= 9


def test_every_stream_has_its_expected_file() -> None:
    for folder in {stream.folder for stream in STREAMS}:
        bodies = {p.name[: -len(".sse")] for p in folder.glob("*.sse")}
        expected = {
            p.name[: -len(".expected.json")] for p in folder.glob("*.expected.json")
        }
        assert expected == bodies, folder


@pytest.mark.parametrize("name", NAMES)
def test_expected_file_format(name: str) -> None:
    _, expected = load_stream(name)
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


@pytest.mark.parametrize("size", PARSER_CHUNKS, ids=k)
@pytest.mark.parametrize("name", NAMES)
def test_parser_fixed_chunks(name: str, size: int) -> None:
    body, expected = load_stream(name)
    events, parser = parse_with_parser(chunked(body, size))
    check(events, expected)
    check_state(parser, expected)


@pytest.mark.parametrize("name", NAMES)
def test_parser_every_two_way_split(name: str) -> None:
    """Cut the stream in two at every offset (for the large stream: at every
    offset near a line terminator and at a stride elsewhere)."""
    body, expected = load_stream(name)
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
    body, expected = load_stream(name)
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
    body, expected = load_stream(name)
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
    body, expected = load_stream(name)
    cuts = data.draw(
        st.lists(st.integers(0, len(body)), max_size=40), label="cut offsets"
    )
    events, parser = parse_with_parser(split_at(body, cuts))
    check(events, expected)
    check_state(parser, expected)


# ---------------------------------------------------------------------------
# SSEClient over a plain iterator
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", PARSER_CHUNKS, ids=k)
@pytest.mark.parametrize("name", NAMES)
def test_client_over_iterator(name: str, size: int) -> None:
    body, expected = load_stream(name)
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
    body, expected = load_stream(name)
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


# The cases below leave out 1-byte reads and writes of the streams larger
# than BIG (see there for where those are covered).


@pytest.mark.parametrize(
    ("name", "chunk_size"),
    [
        pytest.param(name, size, id=f"{name}-{k(size)}")
        for name in NAMES
        for size in CLIENT_CHUNKS
        if name in SMALL or size != 1
    ],
)
def test_requests_over_pytest_httpserver(
    httpserver: Any, name: str, chunk_size: int | None
) -> None:
    body, expected = load_stream(name)
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


@pytest.mark.parametrize(
    ("name", "framing", "pieces", "chunk_size"),
    [
        pytest.param(
            name, framing, pieces, size, id=f"{name}-{framing}-{pieces}-{k(size)}"
        )
        for name in NAMES
        for framing, pieces in RAW_FRAMINGS
        for size in CLIENT_CHUNKS
        if name in SMALL or not (size == 1 or pieces == "bytes")
    ],
)
def test_requests_over_raw_server(
    name: str, framing: str, pieces: str, chunk_size: int | None
) -> None:
    body, expected = load_stream(name)
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


LIVE = [("chunked", 1), ("chunked", 4096), ("chunked", None), ("close", 1)]


@pytest.mark.parametrize(
    ("name", "framing", "chunk_size"),
    [
        pytest.param(name, framing, size, id=f"{name}-{framing}-{k(size)}")
        for name in NAMES
        for framing, size in LIVE
        if name in SMALL or size != 1
    ],
)
def test_events_arrive_while_the_stream_is_open(
    name: str, framing: str, chunk_size: int | None
) -> None:
    """Each event reaches the caller while the server is still holding the
    rest of the stream back, waiting for it.  (Close-delimited bodies are
    only live with 1-byte reads: urllib3 fills larger reads before returning.)
    """
    body, expected = load_stream(name)
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
    body, expected = load_stream("anthropic_messages")
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
