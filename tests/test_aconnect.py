"""`sseclient.aconnect`: the reconnecting stream of `connect`, over httpx's
AsyncClient, driven by the same `_Reconnection` policy.

The scenarios are those of test_reconnect.py, against the same threaded
`EventServer` (numbered events, resumption after ``Last-Event-ID``, drops on
cue); closing and cancellation use the asyncio `AsyncSSEServer`, which sees
the client hang up.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
from typing import Any

import httpx
import pytest
from async_server import AsyncSSEServer, HoldOpen, Response, collect
from reconnect_server import DROP_KINDS, EventServer, Reply, numbered_events
from test_reconnect import (  # noqa: F401  (certificate is a fixture)
    FAST,
    NumberedStream,
    Step,
    certificate,
    errors_then_events,
    numbers,
    random_drops_and_errors,
    tls_server,
)

import sseclient
from sseclient import (
    AsyncEventSource,
    ContentTypeError,
    Event,
    EventTooLarge,
    HTTPStatusError,
    RetriesExhausted,
    aconnect,
)

pytestmark = [
    pytest.mark.filterwarnings("error"),
    pytest.mark.usefixtures("loop_errors"),
]

NO_CONTENT = Reply(status=204, headers=(), framing="length")


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


# ---------------------------------------------------------------------------
# Drops and resumption
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["chunked", "close"])
@pytest.mark.parametrize("drop", [k for k in DROP_KINDS if k != "after-headers"])
async def test_every_event_arrives_once_in_order_across_drops(
    drop: str, framing: str
) -> None:
    stream = NumberedStream(12, lambda n: Step(3, drop, framing))
    with EventServer(stream) as server:
        events = await read_all(aconnect(server.url, **FAST))
    assert numbers(events) == list(range(1, 13))
    assert [e.id for e in events] == [str(n) for n in range(1, 13)]
    assert stream.wrong_ids == []
    assert [r.headers.get("last-event-id") for r in server.requests] == [
        None, "3", "6", "9", "12"
    ]  # fmt: skip


async def test_random_drops_and_errors_lose_and_repeat_nothing() -> None:
    stream = NumberedStream(400, random_drops_and_errors(20240612))
    with EventServer(stream) as server:
        events = await read_all(aconnect(server.url, **FAST))
    assert numbers(events) == list(range(1, 401))
    assert stream.wrong_ids == []
    assert stream.served > 25
    assert server.errors == []


async def test_the_incomplete_event_before_a_drop_is_never_delivered() -> None:
    replies = [
        Reply(
            body=b"retry: 1\n\nid: 1\ndata: one\n\nid: 2\ndata: partial\n", drop_at=40
        ),
        Reply(body=b"id: 2\ndata: two\n\n"),
        NO_CONTENT,
    ]
    with EventServer(lambda request: replies[len(server.requests) - 1]) as server:
        events = await read_all(aconnect(server.url, **FAST))
    assert [(e.id, e.data) for e in events] == [("1", "one"), ("2", "two")]
    assert [r.headers.get("last-event-id") for r in server.requests] == [None, "1", "2"]


async def test_a_non_ascii_last_event_id_is_sent_as_utf8() -> None:
    replies = [Reply(body="id: é\ndata: x\n\n".encode(), drop_at=16), NO_CONTENT]
    with EventServer(lambda request: replies[len(server.requests) - 1]) as server:
        assert [e.data for e in await read_all(aconnect(server.url, **FAST))] == ["x"]
    header = server.requests[1].headers["last-event-id"]
    assert header.encode("latin-1").decode() == "é"


# ---------------------------------------------------------------------------
# Statuses, content types, attempts
# ---------------------------------------------------------------------------


async def test_204_ends_the_stream_without_error() -> None:
    stream = NumberedStream(2, lambda n: Step(2))
    with EventServer(stream) as server:
        async with aconnect(server.url, **FAST) as source:
            assert numbers(await read_all(source)) == [1, 2]
            assert source.closed
            assert source.response is None
            assert await read_all(source) == []
    assert len(server.requests) == 2


async def test_404_raises_at_once() -> None:
    reply = Reply(status=404, headers=(("Content-Type", "text/plain"),), body=b"no")
    with EventServer(lambda request: reply) as server:
        source = aconnect(server.url, **FAST)
        with pytest.raises(HTTPStatusError) as info:
            await source.__anext__()
    error = info.value
    assert error.status_code == 404
    assert isinstance(error.response, httpx.Response)
    assert error.response.is_closed
    assert "404 Not Found" in str(error)
    assert len(server.requests) == 1
    assert source.closed


async def test_an_error_response_keeps_its_body() -> None:
    body = b'{"error": {"message": "invalid key"}}'
    json_type = (("Content-Type", "application/json"),)
    reply = Reply(status=401, headers=json_type, body=body, framing="length")
    server = EventServer(lambda request: reply)
    with server, pytest.raises(HTTPStatusError) as info:
        await read_all(aconnect(server.url, **FAST))
    assert info.value.response.json() == {"error": {"message": "invalid key"}}
    assert info.value.response.is_closed


async def test_a_page_served_instead_of_a_stream_keeps_its_body() -> None:
    html = (("Content-Type", "text/html"),)
    reply = Reply(headers=html, body=b"<p>log in</p>", framing="length")
    server = EventServer(lambda request: reply)
    with server, pytest.raises(ContentTypeError) as info:
        await read_all(aconnect(server.url, **FAST))
    assert info.value.response.text == "<p>log in</p>"


async def test_a_wrong_content_type_raises_at_once() -> None:
    reply = Reply(headers=(("Content-Type", "text/html; charset=utf-8"),), body=b"<p>")
    server = EventServer(lambda request: reply)
    with server, pytest.raises(ContentTypeError) as info:
        await read_all(aconnect(server.url, **FAST))
    assert info.value.content_type == "text/html; charset=utf-8"
    assert info.value.response.status_code == 200
    assert len(server.requests) == 1


async def test_an_unretried_status_on_reconnection_raises_after_the_events() -> None:
    replies = [
        Reply(body=numbered_events(1, 2)[0]),
        Reply(status=410, headers=(), framing="length"),
    ]
    got = []
    server = EventServer(lambda request: replies[len(server.requests) - 1])
    with server, pytest.raises(HTTPStatusError) as info:
        async for event in aconnect(server.url, **FAST):
            got.append(event)
    assert numbers(got) == [1, 2]
    assert info.value.status_code == 410


async def test_server_errors_are_retried() -> None:
    stream = NumberedStream(3, errors_then_events(500, 502, 503, 504, 429))
    with EventServer(stream) as server:
        assert numbers(await read_all(aconnect(server.url, **FAST))) == [1, 2, 3]
    assert len(server.requests) == 7


async def test_max_attempts_gives_up_with_the_last_error_as_cause() -> None:
    reply = Reply(status=500, headers=(), framing="length")
    server = EventServer(lambda request: reply)
    with server, pytest.raises(RetriesExhausted) as info:
        await read_all(aconnect(server.url, max_attempts=3, **FAST))
    assert info.value.attempts == 3
    cause = info.value.__cause__
    assert isinstance(cause, HTTPStatusError)
    assert cause.status_code == 500
    assert len(server.requests) == 3


async def test_max_attempts_counts_refused_connections() -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RetriesExhausted) as info:
        await read_all(aconnect(f"http://127.0.0.1:{port}/", max_attempts=2, **FAST))
    assert info.value.attempts == 2
    assert isinstance(info.value.__cause__, httpx.ConnectError)


async def test_a_read_timeout_counts_as_a_drop() -> None:
    replies = [
        Response([numbered_events(1, 1)[0], HoldOpen()]),
        Response([numbered_events(2, 1)[0]]),
    ]
    async with AsyncSSEServer(replies) as server:
        source = aconnect(server.url, timeout=(5, 0.1), **FAST)
        assert numbers(await read_all(source)) == [1, 2]
    assert server.requests[1].headers["last-event-id"] == "1"


async def test_an_oversized_event_is_raised_not_retried() -> None:
    reply = Reply(body=b"data: " + b"x" * 100 + b"\n\n")
    with EventServer(lambda request: reply) as server, pytest.raises(EventTooLarge):
        await read_all(aconnect(server.url, max_event_size=50, **FAST))
    assert len(server.requests) == 1


async def test_tls_streams_reconnect(
    certificate: tuple[str, str],  # noqa: F811  (the fixture)
) -> None:
    stream = NumberedStream(6, lambda n: Step(2, "mid-event"))
    trusted = ssl.create_default_context(cafile=certificate[0])
    async with httpx.AsyncClient(verify=trusted) as client:
        with tls_server(certificate, stream) as server:
            events = await read_all(aconnect(server.url, client=client, **FAST))
    assert server.url.startswith("https://")
    assert numbers(events) == list(range(1, 7))
    assert stream.wrong_ids == []


async def test_a_rejected_certificate_is_raised_at_once(
    certificate: tuple[str, str],  # noqa: F811  (the fixture)
) -> None:
    stream = NumberedStream(6, lambda n: Step(2))
    with tls_server(certificate, stream) as server:
        with pytest.raises(httpx.ConnectError) as info:  # an untrusted CA
            await read_all(aconnect(server.url, max_attempts=3, **FAST))
        assert server.connections == 1
    assert server.requests == []
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)


# ---------------------------------------------------------------------------
# Requests: method, body, redirects, the user's client
# ---------------------------------------------------------------------------


async def test_a_redirect_is_followed_on_every_connection() -> None:
    stream = NumberedStream(4, lambda n: Step(2))

    def handler(request: Any) -> Reply:
        if request.path == "/old":
            return Reply(status=302, headers=(("Location", "/new"),), framing="length")
        return stream(request)

    with EventServer(handler) as server:
        events = await read_all(aconnect(server.url_for("/old"), **FAST))
    assert numbers(events) == [1, 2, 3, 4]
    paths = [r.path for r in server.requests]
    assert paths == ["/old", "/new", "/old", "/new", "/old", "/new"]
    assert server.requests[3].headers["last-event-id"] == "2"


@pytest.mark.parametrize(
    ("body", "sent", "content_type"),
    [
        ({"json": {"q": 1}}, b'{"q":1}', "application/json"),
        ({"data": b"raw"}, b"raw", None),
        ({"data": {"q": "1"}}, b"q=1", "application/x-www-form-urlencoded"),
    ],
)
async def test_a_body_is_resent_on_every_connection(
    body: dict[str, Any], sent: bytes, content_type: str | None
) -> None:
    stream = NumberedStream(4, lambda n: Step(2, "mid-line"))
    with EventServer(stream) as server:
        events = await read_all(aconnect(server.url, method="POST", **body, **FAST))
    assert numbers(events) == [1, 2, 3, 4]
    assert len(server.requests) == 3
    for request in server.requests:
        assert request.method == "POST"
        assert request.body.replace(b" ", b"") == sent
        assert request.headers.get("content-type") == content_type


async def test_the_users_client_is_used_on_every_connection_and_left_open() -> None:
    stream = NumberedStream(4, lambda n: Step(2, "between-events"))
    async with httpx.AsyncClient(
        auth=("user", "secret"), headers={"X-Client": "c"}
    ) as client:
        with EventServer(stream) as server:
            source = aconnect(
                server.url,
                client=client,
                headers={"X-Extra": "e"},
                params={"topic": "a"},
                **FAST,
            )
            assert numbers(await read_all(source)) == [1, 2, 3, 4]
        assert not client.is_closed
    basic = "Basic " + base64.b64encode(b"user:secret").decode()
    for request in server.requests:
        assert request.path == "/?topic=a"
        assert request.headers["authorization"] == basic
        assert request.headers["x-client"] == "c"
        assert request.headers["x-extra"] == "e"
        assert request.headers["accept"] == "text/event-stream"
        assert request.headers["cache-control"] == "no-cache"


async def test_last_event_id_option_resumes_a_stored_stream() -> None:
    stream = NumberedStream(8, lambda n: Step(10))
    stream.sent_whole = 5
    with EventServer(stream) as server:
        source = aconnect(server.url, last_event_id="5", **FAST)
        assert numbers(await read_all(source)) == [6, 7, 8]
        assert source.last_event_id == "8"
    assert server.requests[0].headers["last-event-id"] == "5"
    assert stream.wrong_ids == []


async def test_the_stream_reports_where_it_stands() -> None:
    body = b"retry: 7\n\nid: a\ndata: x\n\n"
    replies = [Reply(body=body), NO_CONTENT]
    with EventServer(lambda request: replies[len(server.requests) - 1]) as server:
        source = aconnect(server.url_for("/s"), retry=1000)
        assert (source.url, source.retry, source.response) == (
            server.url_for("/s"),
            1000,
            None,
        )
        event = await source.__anext__()
        assert (event.id, event.data) == ("a", "x")
        assert (source.retry, source.last_event_id) == (7, "a")
        assert isinstance(source.response, httpx.Response)
        assert await read_all(source) == []


# ---------------------------------------------------------------------------
# Closing and cancellation
# ---------------------------------------------------------------------------

HELD_OPEN = [Response([b"id: 1\ndata: a\n\n", HoldOpen()])]


async def test_cancelling_the_consumer_closes_the_response_and_the_client() -> None:
    got = asyncio.Event()
    async with AsyncSSEServer(HELD_OPEN) as server:
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


async def test_aclose_from_another_task_stops_a_read() -> None:
    got = asyncio.Event()
    async with AsyncSSEServer(HELD_OPEN) as server:
        source = aconnect(server.url, **FAST)
        task = asyncio.create_task(collect(source, got))
        await asyncio.wait_for(got.wait(), 5)
        await source.aclose()
        assert await asyncio.wait_for(task, 5) == ["a"]
        await asyncio.wait_for(server.hung_up.wait(), 5)
        assert len(server.requests) == 1


async def test_aclose_from_another_task_stops_a_wait_before_reconnecting() -> None:
    got = asyncio.Event()
    replies = [Response([b"data: a\n\n"])]  # then the stream ends: reconnect
    async with AsyncSSEServer(replies) as server:
        # A reconnection time of an hour: only aclose() can end the wait.
        source = aconnect(server.url, retry=3_600_000)
        task = asyncio.create_task(collect(source, got))
        await asyncio.wait_for(got.wait(), 5)

        async def between_connections() -> None:
            while source.response is not None:
                await asyncio.sleep(0.001)

        await asyncio.wait_for(between_connections(), 5)
        await source.aclose()
        assert await asyncio.wait_for(task, 5) == ["a"]
        assert len(server.requests) == 1


async def test_leaving_async_with_closes_the_stream() -> None:
    async with AsyncSSEServer(HELD_OPEN) as server:
        async with aconnect(server.url, **FAST) as source:
            async for event in source:
                assert event.data == "a"
                break
        assert source.closed
        await asyncio.wait_for(server.hung_up.wait(), 5)
