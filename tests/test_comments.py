"""``on_comment``: each comment line (a line that starts with a colon) is
reported with its text as soon as its line is complete, through the parser,
`SSEClient`, `AsyncSSEClient`, `connect` and `aconnect` (the command line's
``--comments`` is tested in test_cli.py); and comment lines never count
towards ``max_event_size``.

The differential tests (test_differential.py) check the same contract on
random streams against tests/reference.py (``reference.items``).
"""

from __future__ import annotations

import asyncio
import threading
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
import reference
import requests
from drivers import FAST, Driver, streaming_response
from servers import Action, AsyncSSEServer, Response, SSEServer, WaitFor

import sseclient
from sseclient import AsyncSSEClient, Event, EventStreamParser, EventTooLarge, SSEClient

BOM = b"\xef\xbb\xbf"


def as_tuple(event: Event) -> tuple[str | None, str, str, int | None]:
    return (event.id, event.event, event.data, event.retry)


class PingLog:
    """A stream whose server waits, after a ``: ping`` line, until the client
    has reported it (``ready`` is a threading or asyncio event), and the log
    of what the client reported, comments and events in the order they came."""

    def __init__(self, ready: Any) -> None:
        self.ready = ready
        self.script: list[Action] = [*BODY[:2], b": ping\n", WaitFor(ready), *BODY[2:]]
        self.log: list[tuple[str, Any]] = []

    def on_comment(self, text: str) -> None:
        self.log.append(("comment", text))
        if text == "ping":
            self.ready.set()

    def event(self, event: Event) -> None:
        self.log.append(("event", as_tuple(event)))

    def expected(self) -> list[tuple[str, Any]]:
        return reference.items(b"".join([*BODY[:2], b": ping\n", *BODY[2:]]))


def logged(chunks: list[bytes], **options: Any) -> list[tuple[str, Any]]:
    """What iterating the parser over ``chunks`` gives, comments and events
    in the order the caller sees them."""
    log: list[tuple[str, Any]] = []
    parser = EventStreamParser(
        on_comment=lambda t: log.append(("comment", t)), **options
    )
    for event in parser.iter_events(chunks):
        log.append(("event", as_tuple(event)))
    return log


def fed(chunks: list[bytes]) -> list[tuple[list[str], list[str]]]:
    """For each ``feed``: the comments it reported and the data of the
    events it returned."""
    comments: list[str] = []
    parser = EventStreamParser(on_comment=comments.append)
    steps = []
    for chunk in chunks:
        events = parser.feed(chunk)
        steps.append((comments[:], [e.data for e in events]))
        comments.clear()
    parser.end()
    return steps


def splits(data: bytes) -> Iterator[list[bytes]]:
    yield [data]
    for i in range(1, len(data)):
        yield [data[:i], data[i:]]
    yield [data[i : i + 1] for i in range(len(data))]


# ---------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------

POSITIONS = {
    "first line": b": first\ndata: a\n\n",
    "between events": b"data: a\n\n: between\n\ndata: b\n\n",
    "inside an event": b"data: a\n: inside\ndata: b\n\n",
    "before the blank line": b"data: a\n: last\n\n",
    "after a BOM": BOM + b": after bom\ndata: a\n\n",
    "crlf": b": one\r\ndata: a\r\n: two\r\n\r\n",
    "cr": b": one\rdata: a\r: two\r\r",
    "no blank line after it": b"data: a\n\n: keep-alive\n",
    "a lone colon": b":\n:\ndata: a\n\n",
    "several in a row": b": a\n: b\n: c\ndata: x\n: d\n: e\n\n",
    "unfinished last line": b"data: a\n\n: never ended",
}


@pytest.mark.parametrize("data", POSITIONS.values(), ids=POSITIONS.keys())
def test_comments_in_every_position_under_every_split(data: bytes) -> None:
    expected = reference.items(data)
    assert any(kind == "comment" for kind, _ in expected) or data.endswith(b"ended")
    for chunks in splits(data):
        assert logged(chunks) == expected, chunks
        comments: list[str] = []
        parser = EventStreamParser(on_comment=comments.append)
        events = [as_tuple(e) for chunk in chunks for e in parser.feed(chunk)]
        parser.end()
        assert events == [x for kind, x in expected if kind == "event"], chunks
        assert comments == [x for kind, x in expected if kind == "comment"], chunks


def test_the_text_loses_one_leading_space_as_a_value_does() -> None:
    data = b": one\n:two\n:  three\n:\n: \n:a: b\n::\n"
    assert [x for _, x in logged([data])] == [
        "one",
        "two",
        " three",
        "",
        "",
        "a: b",
        ":",
    ]


def test_a_keep_alive_is_reported_by_the_feed_that_ends_its_line() -> None:
    # No blank line follows: a lone ':' line, as many servers send.
    assert fed([b":", b"\n", b": ping", b"\r", b"\n"]) == [
        ([], []),
        ([""], []),
        ([], []),
        (["ping"], []),
        ([], []),
    ]


def test_a_comment_inside_an_event_does_not_wait_for_its_blank_line() -> None:
    assert fed([b"data: a\n", b": ping\n", b"data: b\n", b"\n"]) == [
        ([], []),
        (["ping"], []),
        ([], []),
        ([], ["a\nb"]),
    ]


def test_feed_reports_a_chunks_comments_before_it_returns_its_events() -> None:
    # One chunk: the comment that follows event a is reported while feed()
    # runs, so before feed() returns a (the documented order for feed).
    assert fed([b"data: a\n\n: c\n\ndata: b\n\n"]) == [(["c"], ["a", "b"])]


def test_an_iterator_gives_comments_and_events_in_stream_order() -> None:
    # The same single chunk through iter_events: in stream order, the
    # comment reported only once event a has been taken.
    log = logged([b"data: a\n\n: c\n\ndata: b\n\n"])
    assert log == [
        ("event", (None, "message", "a", None)),
        ("comment", "c"),
        ("event", (None, "message", "b", None)),
    ]


def test_without_on_comment_the_events_are_the_same() -> None:
    for data in POSITIONS.values():
        for chunks in splits(data):
            parser = EventStreamParser()
            got = [as_tuple(e) for chunk in chunks for e in parser.feed(chunk)]
            assert got == [x for kind, x in reference.items(data) if kind == "event"]


def test_an_error_in_on_comment_propagates() -> None:
    def fail(text: str) -> None:
        raise ValueError(text)

    with pytest.raises(ValueError, match="boom"):
        EventStreamParser(on_comment=fail).feed(b": boom\n")
    with pytest.raises(ValueError, match="boom"):
        list(EventStreamParser(on_comment=fail).iter_events([b"data: a\n: boom\n"]))


def test_last_event_id_is_current_when_a_comment_is_reported() -> None:
    parser = EventStreamParser()
    seen = []
    parser = EventStreamParser(on_comment=lambda t: seen.append(parser.last_event_id))
    list(parser.iter_events([b"id: 1\ndata: a\n\n: c\nid: 2\ndata: b\n\n: d\n"]))
    assert seen == ["1", "2"]


# ---------------------------------------------------------------------------
# max_event_size does not count comments; memory stays flat on comments
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("callback", [False, True])
def test_comments_inside_an_event_do_not_count(callback: bool) -> None:
    data = b"data: " + b"a" * 40 + b"\n" + b": padding padding\n" * 200 + b"data: b\n\n"
    for chunks in ([data], [data[i : i + 7] for i in range(0, len(data), 7)]):
        seen: list[str] = []
        parser = EventStreamParser(
            max_event_size=60, on_comment=seen.append if callback else None
        )
        events = [e.data for chunk in chunks for e in parser.feed(chunk)]
        assert events == ["a" * 40 + "\nb"]
        assert len(seen) == (200 if callback else 0)


def comment_chunks(lines: int, per_chunk: int) -> Iterator[bytes]:
    chunk = b": keep-alive\n" * per_chunk
    for _ in range(lines // per_chunk):
        yield chunk


@pytest.mark.parametrize(
    ("limit", "per_chunk", "lines", "bound"),
    [
        (100, 1, 20_000, 64_000),
        (100, 250, 100_000, 64_000),
        # Without a callback, whole lines wait in the tail up to 64 KiB before
        # they are parsed, and parsing them takes some 14 times their size.
        (sseclient.DEFAULT_MAX_EVENT_SIZE, 250, 100_000, 1_200_000),
    ],
)
@pytest.mark.parametrize("callback", [False, True])
def test_endless_comments_neither_raise_nor_grow(
    limit: int, per_chunk: int, lines: int, bound: int, callback: bool
) -> None:
    # Hours of keep-alives and never a blank line: up to 1.3 MB of them.
    count = [0]

    def on_comment(text: str) -> None:
        count[0] += 1

    parser = EventStreamParser(
        max_event_size=limit, on_comment=on_comment if callback else None
    )
    peaks = []
    tracemalloc.start()
    try:
        for _ in range(2):  # the peak of the second half is that of the first
            tracemalloc.reset_peak()
            for event in parser.iter_events(comment_chunks(lines // 2, per_chunk)):
                raise AssertionError(f"an event from comments: {event!r}")
            peaks.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    assert max(peaks) < bound, peaks
    assert peaks[1] < peaks[0] * 1.1 + 1000, peaks
    assert count[0] == (lines if callback else 0)


def test_endless_comments_through_feed_stay_flat() -> None:
    parser = EventStreamParser(max_event_size=50)
    tracemalloc.start()
    try:
        for _ in range(100_000):
            assert parser.feed(b": keep-alive\n") == []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000, peak
    assert [e.data for e in parser.feed(b"data: ok\n\n")] == ["ok"]


@pytest.mark.parametrize("callback", [False, True])
def test_one_unfinished_comment_line_is_still_bounded(callback: bool) -> None:
    parser = EventStreamParser(
        max_event_size=1000, on_comment=(lambda t: None) if callback else None
    )
    with pytest.raises(EventTooLarge):
        for _ in range(100):
            parser.feed(b": " + b"x" * 100)


@pytest.mark.parametrize("callback", [False, True])
@pytest.mark.parametrize("size", [4096, 65_537, 300_000])
def test_a_long_comment_line_in_an_event(callback: bool, size: int) -> None:
    # Longer than the parser's long-line threshold (64 KiB): still not
    # counted towards the event (with it, the event would be 100,012
    # characters), and reported whole.  (An unfinished line is measured in
    # bytes, so the line is 100,000 bytes, under the limit on its own.)
    long = "x" * 99_990 + "é" * 4
    data = f"data: a\n: {long}\ndata: b\n\n".encode()
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    seen: list[str] = []
    parser = EventStreamParser(
        max_event_size=100_010, on_comment=seen.append if callback else None
    )
    assert [e.data for c in chunks for e in parser.feed(c)] == ["a\nb"]
    assert seen == ([long] if callback else [])


# ---------------------------------------------------------------------------
# SSEClient, AsyncSSEClient, connect, aconnect over loopback servers
# ---------------------------------------------------------------------------

#: A body with comments everywhere, each write a read of its own.
BODY = [
    b": hello\n",
    b"id: 1\ndata: a\n: inside\n\n",
    b":\n",
    b": tick\r\n",
    b"data: b\r\n\r\n: bye\n",
]
BODY_ITEMS = reference.items(b"".join(BODY))


def test_sseclient_over_a_requests_response() -> None:
    log: list[tuple[str, Any]] = []
    with SSEServer(Response(BODY, framing="chunked")) as server:
        response = requests.get(server.url, stream=True, timeout=5)
        with SSEClient(response, on_comment=lambda t: log.append(("comment", t))) as c:
            for event in c:
                log.append(("event", as_tuple(event)))
    assert log == BODY_ITEMS


def test_sseclient_reports_a_keep_alive_before_more_bytes_come() -> None:
    # The server waits, after a lone keep-alive line, until the client has
    # reported it: if the comment waited for a blank line, the wait would
    # time out (and be counted).
    reported = threading.Event()
    script = [b"data: a\n\n", b": ping\n", WaitFor(reported), b"data: b\n\n"]
    seen = []

    def on_comment(text: str) -> None:
        seen.append(text)
        reported.set()

    with SSEServer(Response(script, framing="chunked")) as server:
        response = requests.get(server.url, stream=True, timeout=5)
        with SSEClient(response, on_comment=on_comment) as client:
            assert [e.data for e in client] == ["a", "b"]
    assert seen == ["ping"]
    assert server.timeouts == 0


def test_sseclient_url_form_passes_on_comment_to_connect() -> None:
    seen: list[str] = []
    with SSEServer(Response(BODY)) as server:
        client = SSEClient(server.url, retry=1, on_comment=seen.append)
        with client:
            assert [next(client).data for _ in range(2)] == ["a", "b"]
    assert seen[:4] == ["hello", "inside", "", "tick"]


@pytest.mark.parametrize("library", ["httpx", "aiohttp"])
async def test_async_sseclient(library: str) -> None:
    ping = PingLog(asyncio.Event())
    server = AsyncSSEServer([Response(ping.script, framing="chunked")])
    async with (
        server,
        streaming_response(library, server.url) as response,
        AsyncSSEClient(response, on_comment=ping.on_comment) as client,
    ):
        async for event in client:
            ping.event(event)
    assert ping.log == ping.expected()
    assert server.timeouts == 0


async def test_connect_and_aconnect(driver: Driver) -> None:
    ping = PingLog(threading.Event())
    with SSEServer(Response(ping.script)) as server:
        source = driver.open(server.url, on_comment=ping.on_comment, reconnect=False)
        async for event in source:
            ping.event(event)
    assert ping.log == ping.expected()
    assert server.timeouts == 0


async def test_connect_and_aconnect_across_reconnections(driver: Driver) -> None:
    seen: list[str] = []
    replies = [
        Response([b": first\nid: 1\ndata: a\n\n: cut"]),
        Response([b": second\nid: 2\ndata: b\n\n"]),
    ]
    with SSEServer(replies) as server:
        events = await driver.read_all(server.url, on_comment=seen.append, **FAST)
    assert [e.data for e in events] == ["a", "b"]
    # The unfinished ": cut" line of the first body is never reported.
    assert seen == ["first", "second"]


def test_a_subclass_of_the_parser_reports_comments_too() -> None:
    class Mine(EventStreamParser):
        pass

    seen: list[str] = []
    parser = Mine(on_comment=seen.append)
    assert isinstance(parser, Mine)
    assert [e.data for e in parser.feed(b": x\ndata: a\n\n")] == ["a"]
    assert seen == ["x"]
    assert type(Mine(on_comment=seen.append)) is type(parser)
    assert type(Mine()) is Mine
    assert type(EventStreamParser()) is EventStreamParser
