"""What only `sseclient.aconnect` has: the same `_Reconnection` policy as
`connect`, driven by httpx's AsyncClient or aiohttp's ClientSession, and a
consumer task that can be cancelled.

The scenarios that `aconnect` shares with `connect` are run over both in
test_connect_and_aconnect.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from drivers import FAST, collect
from servers import AsyncSSEServer, HoldOpen, Response, SSEServer, WaitFor

import sseclient
from sseclient import AsyncEventSource, Event, aconnect

pytestmark = [
    pytest.mark.filterwarnings("error"),
    pytest.mark.usefixtures("loop_errors"),
]

ROOT = Path(__file__).resolve().parent.parent


async def read_all(source: AsyncEventSource) -> list[Event]:
    return [event async for event in source]


async def test_aconnect_drives_the_policy_of_connect() -> None:
    source = aconnect("http://example.invalid/", last_event_id="4", retry=7)
    assert type(source._policy) is sseclient._Reconnection
    assert (source.url, source.last_event_id, source.retry) == (
        "http://example.invalid/",
        "4",
        7,
    )
    assert (source.response, source.closed) == (None, False)
    await source.aclose()  # never iterated: nothing was opened
    assert source.closed
    assert await read_all(source) == []


@pytest.mark.parametrize("library", ["httpx", "aiohttp"])
async def test_cancelling_the_consumer_closes_the_response_and_the_client(
    library: str,
) -> None:
    got = asyncio.Event()
    held_open = Response([b"id: 1\ndata: a\n\n", HoldOpen()])
    async with contextlib.AsyncExitStack() as stack:
        options: dict[str, Any] = {}
        if library == "aiohttp":
            options["client"] = await stack.enter_async_context(aiohttp.ClientSession())
        server = await stack.enter_async_context(AsyncSSEServer([held_open]))
        source = aconnect(server.url, **options, **FAST)
        task = asyncio.create_task(collect(source, got))
        await asyncio.wait_for(got.wait(), 5)
        response = source.response
        assert response is not None
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(server.hung_up.wait(), 5)
        closed = response.closed if library == "aiohttp" else response.is_closed
        assert closed and source.closed
        assert len(server.requests) == 1


async def test_streams_without_a_client_each_close_only_their_own() -> None:
    """Streams given no client share what httpx lets them share (the TLS
    settings), never a client: closing one leaves the others reading."""
    got = [asyncio.Event(), asyncio.Event()]
    replies = [
        Response([b"data: a\n\n", WaitFor(got[1]), b"data: b\n\n"]),
        Response([b"data: c\n\n", HoldOpen()]),
    ]
    async with AsyncSSEServer(replies) as server:
        kept, closed = (aconnect(server.url, reconnect=False) for _ in range(2))
        reading = asyncio.create_task(collect(kept, got[0]))
        await asyncio.wait_for(got[0].wait(), 5)
        assert (await closed.__anext__()).data == "c"
        await closed.aclose()
        await asyncio.wait_for(server.hung_up.wait(), 5)
        got[1].set()
        assert await asyncio.wait_for(reading, 5) == ["a", "b"]
        assert kept._transport._client is not closed._transport._client


def run_python(code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter that imports this sseclient.py;
    its output."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_an_httpx_client_never_imports_aiohttp() -> None:
    out = run_python(
        """
        import sys, httpx, sseclient
        sseclient.aconnect("http://127.0.0.1:9/", client=httpx.AsyncClient())
        sseclient.aconnect("http://127.0.0.1:9/")
        print("aiohttp" in sys.modules)
        """
    )
    assert out == "False\n"


async def test_aconnect_over_aiohttp_needs_no_anyio() -> None:
    """aiohttp does not bring anyio: the stream reconnects, waits and is
    closed from another task during its wait without it."""
    with SSEServer([Response([b"id: 1\ndata: a\n\n"])]) as server:
        out = run_python(
            """
            import asyncio, sys
            sys.modules["anyio"] = None  # any import of it fails
            import aiohttp, sseclient

            async def main(url):
                async with aiohttp.ClientSession() as session:
                    source = sseclient.aconnect(url, client=session, retry=3_600_000)
                    got = []

                    async def read():
                        async for event in source:
                            got.append(event.data)

                    task = asyncio.create_task(read())
                    while not got:
                        await asyncio.sleep(0.01)
                    await asyncio.sleep(0.05)  # now in its hour-long wait
                    await source.aclose()
                    await asyncio.wait_for(task, 5)
                    print(got, source.closed, source.last_event_id)

            asyncio.run(main(sys.argv[1]))
            """,
            server.url,
        )
    assert out == "['a'] True 1\n"
    assert len(server.requests) == 1
