"""No event lost at the edges of ``max_event_size``: every complete event
before an oversized one is delivered (and ``last_event_id`` is its), then
`EventTooLarge` is raised; through the parser, `SSEClient`,
`AsyncSSEClient`, `connect` and `aconnect`, over loopback servers.

The differential tests (test_differential.py) check, on random streams and
chunkings, that the events delivered before the error are the stream's
first ones.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from drivers import FAST, Driver, streaming_response
from servers import AsyncSSEServer, Response, SSEServer

from sseclient import AsyncSSEClient, EventStreamParser, EventTooLarge, SSEClient

pytestmark = [
    pytest.mark.filterwarnings("error"),
    pytest.mark.usefixtures("loop_errors"),
]

#: Event 1, then event 2 of 5,012 characters, in one chunk; the limit is 1000.
BODY = b"id: 1\ndata: one\n\nid: 2\ndata: " + b"x" * 5000 + b"\n\n"
LIMIT = 1000


# ---------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------


def test_feed_returns_the_events_before_and_the_next_call_raises() -> None:
    parser = EventStreamParser(max_event_size=LIMIT)
    assert [(e.id, e.data) for e in parser.feed(BODY)] == [("1", "one")]
    assert parser.last_event_id == "1"
    with pytest.raises(EventTooLarge) as info:
        parser.feed(b"data: more\n\n")
    assert (info.value.size, info.value.limit) == (5012, LIMIT)
    assert parser.last_event_id == "1"
    # The stream cannot go on: every feed raises it again, whatever it gets.
    for chunk in (b"", b"\n", b"\n\n", b"data: x", b"data: y\n\n", b"\r"):
        with pytest.raises(EventTooLarge):
            parser.feed(chunk)
    # end() starts a new stream (it does not raise again: feed has).
    parser.end()
    assert [(e.id, e.data) for e in parser.feed(b"data: new\n\n")] == [("1", "new")]


def test_end_raises_an_error_that_no_feed_has() -> None:
    parser = EventStreamParser(max_event_size=LIMIT)
    assert len(parser.feed(BODY)) == 1
    with pytest.raises(EventTooLarge):
        parser.end()
    parser.end()  # once raised, not again: the parser is new
    assert [e.data for e in parser.feed(b"data: a\n\n")] == ["a"]


def test_a_chunk_with_no_event_before_raises_at_once() -> None:
    parser = EventStreamParser(max_event_size=LIMIT)
    with pytest.raises(EventTooLarge):
        parser.feed(b"data: " + b"x" * 5000 + b"\n\n")


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(b"\n\n", id="complete"),
        pytest.param(b"\n", id="unfinished-event"),
        pytest.param(b"", id="unfinished-line"),
        pytest.param(b"\ndata: y\n\nid: 3\ndata: z\n\n", id="events-after"),
    ],
)
@pytest.mark.parametrize("before", [b"", b": c\n", b"data: a\n\n", b"id: 9\n\n"])
def test_every_event_before_comes_out_first(tail: bytes, before: bytes) -> None:
    data = before + b"id: 1\ndata: one\n\nid: 2\r\ndata: " + b"x" * 5000 + tail
    expected = [e.data for e in EventStreamParser().feed(before + b"\n")]
    expected.append("one")
    for size in (len(data), 4096, 1000, 7):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        got: list[str] = []
        parser = EventStreamParser(max_event_size=LIMIT)
        with pytest.raises(EventTooLarge):
            for chunk in chunks:
                got += [e.data for e in parser.feed(chunk)]
            parser.end()
        assert got == expected, size
        assert parser.last_event_id == "1", size

        parser = EventStreamParser(max_event_size=LIMIT)
        got = []
        with pytest.raises(EventTooLarge):
            for event in parser.iter_events(chunks):
                got.append(event.data)
        assert got == expected, size
        assert parser.last_event_id == "1", size


def test_iter_events_yields_the_event_then_raises() -> None:
    parser = EventStreamParser(max_event_size=LIMIT)
    events = parser.iter_events([BODY])
    assert next(events).data == "one"
    with pytest.raises(EventTooLarge):
        next(events)
    assert parser.last_event_id == "1"


# ---------------------------------------------------------------------------
# The clients, over loopback servers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_sseclient(framing: str) -> None:
    with SSEServer(Response([BODY, b"data: later\n\n"], framing=framing)) as server:
        response = requests.get(server.url, stream=True, timeout=5)
        with SSEClient(response, max_event_size=LIMIT) as client:
            got = []
            with pytest.raises(EventTooLarge):
                for event in client:
                    got.append(event.data)
            assert got == ["one"]
            assert client.last_event_id == "1"


@pytest.mark.parametrize("library", ["httpx", "aiohttp"])
async def test_async_sseclient(library: str) -> None:

    got: list[str] = []

    async def read(source: Any) -> None:
        client = AsyncSSEClient(source, max_event_size=LIMIT)
        with pytest.raises(EventTooLarge):
            async for event in client:
                got.append(event.data)
        assert client.last_event_id == "1"

    server = AsyncSSEServer([Response([BODY])])
    async with server, streaming_response(library, server.url) as response:
        await read(response)
    assert got == ["one"]


@pytest.mark.parametrize("reconnect", [True, False])
@pytest.mark.parametrize("after", [b"", b"data: later\n\n"])
async def test_connect_and_aconnect(
    driver: Driver, reconnect: bool, after: bytes
) -> None:
    # The body ends right after the oversized event, or goes on: either way
    # event 1 comes out, then the error; it is never retried.
    with SSEServer(Response([BODY, after])) as server:
        source = driver.open(
            server.url, max_event_size=LIMIT, reconnect=reconnect, **FAST
        )
        event = await source.next()
        assert (event.id, event.data) == ("1", "one")
        with pytest.raises(EventTooLarge) as info:
            await source.next()
        assert info.value.limit == LIMIT
        assert source.last_event_id == "1"
        await source.close()
    assert len(server.requests) == 1
