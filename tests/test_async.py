"""AsyncSSEClient over real httpx and aiohttp responses from a local server.

The server (`servers.AsyncSSEServer`) runs in the test's event loop and
follows a script; handshakes are `asyncio.Event`s the test sets when it has
seen an event, never sleeps.  Every test runs with warnings as errors and
fails if anything reaches the loop's exception handler ("Unclosed
connection", "Task was destroyed but it is pending", ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import re
import zlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from drivers import STRICT, collect
from servers import AsyncSSEServer, Close, HoldOpen, Response, WaitFor

from sseclient import AsyncSSEClient, Event, EventTooLarge

pytestmark = STRICT

HAVE_HTTPX2 = importlib.util.find_spec("httpx2") is not None

#: How the tests get a response: the HTTP library, and what they give
#: AsyncSSEClient (the response itself, or its body's async iterator).
#: (httpx2 only where it is installed: it needs Python 3.11.)
KINDS = ["httpx", "httpx.aiter_bytes", "aiohttp", "aiohttp.iter_any"]
KINDS += ["httpx2"] if HAVE_HTTPX2 else []
#: The kinds where AsyncSSEClient owns the response and must close it.
RESPONSE_KINDS = [k for k in KINDS if "." not in k]


@contextlib.asynccontextmanager
async def opened(kind: str, url: str) -> AsyncIterator[tuple[Any, Any]]:
    """A streaming GET of ``url``: the response and the source to read."""
    library, _, method = kind.partition(".")
    if library == "aiohttp":
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            yield response, response.content.iter_any() if method else response
        return
    module: Any = httpx if library == "httpx" else __import__("httpx2")
    async with module.AsyncClient(timeout=5) as http, http.stream("GET", url) as r:
        yield r, r.aiter_bytes() if method else r


@contextlib.asynccontextmanager
async def serving(
    kind: str, responses: list[Response]
) -> AsyncIterator[tuple[AsyncSSEServer, Any, Any]]:
    """A server following ``responses``, and `opened` on its URL."""
    async with AsyncSSEServer(responses) as server, opened(kind, server.url) as opens:
        yield server, *opens


def is_closed(response: Any) -> bool:
    if hasattr(response, "is_closed"):
        return bool(response.is_closed)  # httpx
    return bool(response.closed)  # aiohttp


async def read_all(source: Any, **options: Any) -> tuple[list[Event], AsyncSSEClient]:
    client = AsyncSSEClient(source, **options)
    return [event async for event in client], client


async def one_byte_chunks(data: bytes) -> AsyncIterator[bytes]:
    for i in range(len(data)):
        yield data[i : i + 1]


# ---------------------------------------------------------------------------
# The spec's tricky inputs, over the wire and in 1-byte chunks
# ---------------------------------------------------------------------------

ab = [Event(data="a"), Event(data="b")]
DAY = "data: 日本 🙂\n\n".encode()

#: name: (the body's pieces, the events, last_event_id, retry at the end)
SPEC_CASES: dict[str, tuple[list[bytes], list[Event], str | None, int | None]] = {
    "crlf-split": ([b"data: a\r", b"\n\r", b"\ndata: b\r\n", b"\r\n"], ab, None, None),
    "cr-only": ([b"data: a\rdata: b\r", b"\r"], [Event(data="a\nb")], None, None),
    "bom-split": ([b"\xef\xbb", b"\xbfdata: a\n\n"], [Event(data="a")], None, None),
    # "One leading BOM must be ignored": a second one starts a field name.
    "bom-twice": (
        [b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: a\n\n"],
        [Event(data="a")],
        None,
        None,
    ),
    "utf8-split": (
        [DAY[:7], DAY[7:11], DAY[11:15], DAY[15:]],
        [Event(data="日本 🙂")],
        None,
        None,
    ),
    "fields": (
        [
            b": hi\nid: 7\nevent: tick\nretry: 1500\ndata: one\ndata:two\n\n",
            b"data\n\n",
        ],
        [Event("7", "tick", "one\ntwo", 1500), Event("7", "message", "", None)],
        "7",
        1500,
    ),
    "id-nul-and-bad-retry": (
        [b"id: 1\ndata: a\n\nid: 2\x003\nretry: 9x\ndata: b\n\n"],
        [Event("1", data="a"), Event("1", data="b")],
        "1",
        None,
    ),
    "incomplete-final-event": (
        [b"data: a\n\nid: 5\n", b"data: b\n"],
        [ab[0]],
        None,
        None,
    ),
}


@pytest.mark.parametrize("case", SPEC_CASES)
@pytest.mark.parametrize("kind", KINDS)
async def test_spec_cases_over_http(kind: str, case: str) -> None:
    pieces, expected, last_id, retry = SPEC_CASES[case]
    async with serving(kind, [Response(pieces)]) as (_, _, source):
        events, client = await read_all(source)
    assert events == expected
    assert (client.last_event_id, client.retry) == (last_id, retry)


@pytest.mark.parametrize("case", SPEC_CASES)
async def test_spec_cases_in_one_byte_chunks(case: str) -> None:
    pieces, expected, last_id, retry = SPEC_CASES[case]
    events, client = await read_all(one_byte_chunks(b"".join(pieces)))
    assert events == expected
    assert (client.last_event_id, client.retry) == (last_id, retry)


LLM_BODY = "".join(
    f'data: {{"n":{i},"delta":"naïve café 日本 🙂"}}\r\n\r\n' for i in range(20)
).encode()


@pytest.mark.parametrize("kind", KINDS)
async def test_one_byte_http_chunks(kind: str) -> None:
    pieces = [LLM_BODY[i : i + 1] for i in range(len(LLM_BODY))]
    async with serving(kind, [Response(pieces)]) as (_, _, source):
        events, _ = await read_all(source)
    assert [event.json()["n"] for event in events] == list(range(20))
    assert {event.json()["delta"] for event in events} == {"naïve café 日本 🙂"}


async def noting_arrivals(
    chunks: AsyncIterator[bytes], ends: Sequence[int], arrived: Sequence[asyncio.Event]
) -> AsyncIterator[bytes]:
    """Pass ``chunks`` on; set ``arrived[i]`` once ``ends[i]`` bytes are in."""
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        for end, event in zip(ends, arrived):
            if total >= end:
                event.set()
        yield chunk


@pytest.mark.parametrize("kind", ["httpx.aiter_bytes", "aiohttp.iter_any"])
async def test_every_split_reaches_the_parser(kind: str) -> None:
    """The server sends each piece only once the client has read the one
    before, so the splits of the tricky cases really are read one by one."""
    pieces = [p for case in SPEC_CASES.values() for p in case[0] if b"\0" not in p]
    ends = [sum(map(len, pieces[: i + 1])) for i in range(len(pieces))]
    arrived = [asyncio.Event() for _ in pieces]
    script: list[Any] = []
    for piece, event in zip(pieces, arrived):
        script += [piece, WaitFor(event)]
    async with serving(kind, [Response(script)]) as (server, _, source):
        events, _ = await read_all(noting_arrivals(source, ends, arrived))
    assert server.timeouts == 0
    expected = await read_all(one_byte_chunks(b"".join(pieces)))
    assert events == expected[0]


# ---------------------------------------------------------------------------
# No waiting for bytes that are already here
# ---------------------------------------------------------------------------


async def read_in_lockstep(
    kind: str, script: list[Any], got_first: asyncio.Event
) -> list[str]:
    async with serving(kind, [Response(script)]) as (server, _, source):
        data = await collect(AsyncSSEClient(source), got_first)
    assert server.timeouts == 0, "the first event was held back"
    return data


@pytest.mark.parametrize("kind", KINDS)
async def test_event_yielded_while_the_server_waits(kind: str) -> None:
    got_first = asyncio.Event()
    script = [b"data: first\n\n", WaitFor(got_first), b"data: second\n\n"]
    assert await read_in_lockstep(kind, script, got_first) == ["first", "second"]


@pytest.mark.parametrize("kind", KINDS)
async def test_gzip_is_undone_and_not_buffered(kind: str) -> None:
    gzip = zlib.compressobj(wbits=31)
    first = gzip.compress(b"data: first\n\n") + gzip.flush(zlib.Z_SYNC_FLUSH)
    second = gzip.compress(b"data: second\n\n") + gzip.flush()
    got_first = asyncio.Event()
    script = [Response([first, WaitFor(got_first), second])]
    script[0].headers = [*script[0].headers, ("Content-Encoding", "gzip")]
    async with serving(kind, script) as (server, _, source):
        data = await collect(AsyncSSEClient(source), got_first)
    assert server.timeouts == 0
    assert data == ["first", "second"]


async def test_aiohttp_stream_reader_is_read_as_it_comes() -> None:
    """aiohttp's StreamReader iterates LF-ended lines; the client reads what
    is there instead, so a CR-only stream is not held back."""
    got_first = asyncio.Event()
    script = [b"data: first\r\r", WaitFor(got_first), b"data: second\r\r"]
    async with serving("aiohttp", [Response(script)]) as (server, response, _):
        data = await collect(AsyncSSEClient(response.content), got_first)
    assert (data, server.timeouts) == (["first", "second"], 0)


# ---------------------------------------------------------------------------
# Closing: end of stream, aclose, async with, errors, cancellation
# ---------------------------------------------------------------------------

HELD_OPEN = [b"id: 1\ndata: a\n\n", HoldOpen()]


@pytest.mark.parametrize("kind", RESPONSE_KINDS)
async def test_cancelling_the_consumer_closes_the_response(kind: str) -> None:
    got = asyncio.Event()
    async with serving(kind, [Response(HELD_OPEN)]) as (server, response, source):
        task = asyncio.create_task(collect(AsyncSSEClient(source), got))
        await asyncio.wait_for(got.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert is_closed(response)
        # The connection is gone while the session/client still runs.
        await asyncio.wait_for(server.hung_up.wait(), 5)


async def test_timeout_closes_the_response() -> None:
    """asyncio.wait_for around a whole read: its cancellation closes too."""
    async with serving("httpx", [Response(HELD_OPEN)]) as (server, response, source):
        client = AsyncSSEClient(source)
        assert (await client.__anext__()).data == "a"
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.__anext__(), 0.05)
        assert is_closed(response)
        await asyncio.wait_for(server.hung_up.wait(), 5)
        with pytest.raises(StopAsyncIteration):
            await client.__anext__()


@pytest.mark.parametrize("kind", RESPONSE_KINDS)
async def test_async_with_and_aclose_close_the_response(kind: str) -> None:
    async with serving(kind, [Response(HELD_OPEN)]) as (server, response, source):
        async with AsyncSSEClient(source) as client:
            async for event in client.events():
                assert (event.data, client.last_event_id) == ("a", "1")
                break
        assert is_closed(response)
        await asyncio.wait_for(server.hung_up.wait(), 5)
        await client.aclose()  # again: nothing to do
        assert [event async for event in client] == []


@pytest.mark.parametrize("kind", RESPONSE_KINDS)
async def test_aclose_from_another_task_ends_the_iteration(kind: str) -> None:
    got = asyncio.Event()
    async with serving(kind, [Response(HELD_OPEN)]) as (server, response, source):
        client = AsyncSSEClient(source)
        task = asyncio.create_task(collect(client, got))
        await asyncio.wait_for(got.wait(), 5)
        await client.aclose()
        assert await asyncio.wait_for(task, 5) == ["a"]
        assert is_closed(response)
        await asyncio.wait_for(server.hung_up.wait(), 5)


@pytest.mark.parametrize("kind", ["httpx", "aiohttp"])
async def test_a_finished_stream_gives_its_connection_back(kind: str) -> None:
    """At the end of the body the response is released, not torn down: the
    next request reuses the connection."""
    body = [Response([b"data: a\n\n"]), Response([b"data: b\n\n"])]
    async with AsyncSSEServer(body) as server:
        if kind == "httpx":
            async with httpx.AsyncClient(timeout=5) as http:
                for _ in range(2):
                    response = await http.send(
                        http.build_request("GET", server.url), stream=True
                    )
                    events, _ = await read_all(response)
                    assert len(events) == 1 and response.is_closed
        else:
            async with aiohttp.ClientSession() as session:
                for _ in range(2):
                    response = await session.get(server.url)
                    events, _ = await read_all(response)
                    assert len(events) == 1 and response.closed
    assert [r.connection for r in server.requests] == [1, 1]


TRUNCATION_ERRORS = (httpx.RemoteProtocolError, aiohttp.ClientPayloadError)
if HAVE_HTTPX2:
    import httpx2

    TRUNCATION_ERRORS += (httpx2.RemoteProtocolError,)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_dropped_connection_raises_the_library_error(kind: str) -> None:
    script = [b"data: a\n\n", b"data: unterminated", Close()]
    async with serving(kind, [Response(script)]) as (_, response, source):
        client = AsyncSSEClient(source)
        data = []
        with pytest.raises(TRUNCATION_ERRORS):
            async for event in client:
                data.append(event.data)
        assert data == ["a"]
        assert is_closed(response) or "." in kind


@pytest.mark.parametrize("kind", RESPONSE_KINDS)
async def test_event_too_large_closes_the_response(kind: str) -> None:
    script = [b"data: 0123456789", HoldOpen()]
    async with serving(kind, [Response(script)]) as (server, response, source):
        with pytest.raises(EventTooLarge):
            await read_all(source, max_event_size=10)
        assert is_closed(response)
        await asyncio.wait_for(server.hung_up.wait(), 5)


# ---------------------------------------------------------------------------
# Other sources and options
# ---------------------------------------------------------------------------


class Chunks:
    """An async iterable (not an iterator) with its own aclose()."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


async def test_async_iterable_source_is_closed_at_the_end() -> None:
    source = Chunks(b"data: a\n", b"\ndata: b\n\n")
    events, _ = await read_all(source)
    assert (events, source.closed) == (ab, True)


async def test_generator_source_is_closed_on_cancel_and_on_aclose() -> None:
    finished: list[str] = []
    release = asyncio.Event()

    async def source(name: str) -> AsyncIterator[bytes]:
        try:
            yield b"data: a\n\n"
            await release.wait()
            yield b"data: b\n\n"
        finally:
            finished.append(name)

    client = AsyncSSEClient(source("cancelled"))
    assert (await client.__anext__()).data == "a"
    task = asyncio.create_task(client.__anext__())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished == ["cancelled"]

    client = AsyncSSEClient(source("aclosed"))
    assert (await client.__anext__()).data == "a"
    await client.aclose()
    assert finished == ["cancelled", "aclosed"]


async def test_a_source_error_propagates_and_closes_the_source() -> None:
    closed = []

    async def source() -> AsyncIterator[bytes]:
        try:
            yield b"data: a\n\n"
            raise ValueError("broken source")
        finally:
            closed.append(True)

    data = []
    with pytest.raises(ValueError, match="broken source"):
        async for event in AsyncSSEClient(source()):
            data.append(event.data)
    assert (data, closed) == (["a"], [True])


async def test_char_enc_and_anext() -> None:
    client = AsyncSSEClient(Chunks(b"data: caf\xe9\n\n"), char_enc="latin-1")
    assert client.__aiter__() is client.events()
    assert await client.__anext__() == Event(data="café")
    with pytest.raises(StopAsyncIteration):
        await client.__anext__()


def test_a_sync_iterable_is_refused() -> None:
    with pytest.raises(TypeError, match="async iterable"):
        AsyncSSEClient([b"data: a\n\n"])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# The README's async examples, run against the local server
# ---------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "README.md"
ASYNC_SECTION = (
    DOCS.read_text(encoding="utf-8").split("\n## Async")[1].split("\n## ")[0]
)
EXAMPLES = re.findall(r"```python\n(.*?)```", ASYNC_SECTION, re.S)


@pytest.mark.parametrize(
    "example", EXAMPLES, ids=["httpx", "aiohttp", "aconnect", "aconnect-aiohttp"]
)
async def test_docs_examples(example: str, capsys: pytest.CaptureFixture[str]) -> None:
    script = [b"data: hello\n\n", b"event: done\ndata: bye\n\n"]
    async with AsyncSSEServer([Response(script)]) as server:
        code = example.replace("https://example.com/events", server.url)
        code = code.replace("asyncio.run(main())", "")
        namespace: dict[str, Any] = {}
        exec(compile(code, str(DOCS), "exec"), namespace)
        await asyncio.wait_for(namespace["main"](), 5)
    assert capsys.readouterr().out == "message hello\ndone bye\n"
