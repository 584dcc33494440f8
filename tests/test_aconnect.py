"""What only `sseclient.aconnect` has: the same `_Reconnection` policy as
`connect`, driven by httpx's AsyncClient, and a consumer task that can be
cancelled.

The scenarios that `aconnect` shares with `connect` are run over both in
test_connect_and_aconnect.py.
"""

from __future__ import annotations

import asyncio

import pytest
from drivers import FAST, collect
from servers import AsyncSSEServer, HoldOpen, Response

import sseclient
from sseclient import AsyncEventSource, Event, aconnect

pytestmark = [
    pytest.mark.filterwarnings("error"),
    pytest.mark.usefixtures("loop_errors"),
]


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


async def test_cancelling_the_consumer_closes_the_response_and_the_client() -> None:
    got = asyncio.Event()
    held_open = Response([b"id: 1\ndata: a\n\n", HoldOpen()])
    async with AsyncSSEServer([held_open]) as server:
        source = aconnect(server.url, **FAST)
        task = asyncio.create_task(collect(source, got))
        await asyncio.wait_for(got.wait(), 5)
        response = source.response
        assert response is not None
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(server.hung_up.wait(), 5)
        assert response.is_closed and source.closed
        assert len(server.requests) == 1
