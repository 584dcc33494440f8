"""Reconnecting streams, each scenario run over `sseclient.connect` and over
`sseclient.aconnect` with httpx and with aiohttp: the ``driver`` fixture
(drivers.py) is each in turn.

The server is the threaded `SSEServer`; it serves numbered events
(`NumberedStream`), resumes after ``Last-Event-ID`` and drops connections
where a test says.  What only one of the two has is tested on its own:
test_reconnect.py (the policy without I/O, ``SSEClient(url)``) and
test_aconnect.py (cancellation).  Every test runs with warnings as
errors and fails if anything reaches the event loop's exception handler.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import ssl
import threading
import urllib.parse
import zlib
from typing import Any

import pytest
from drivers import FAST, Driver, eventually, numbers
from servers import (
    DROP_KINDS,
    EVENT_STREAM,
    Certificate,
    HoldOpen,
    NumberedStream,
    Request,
    Response,
    SSEServer,
    Step,
    WaitFor,
    cut_off,
    errors_then_events,
    numbered_events,
    random_drops_and_errors,
    status_only,
)

from sseclient import (
    ContentTypeError,
    EventTooLarge,
    HTTPStatusError,
    RetriesExhausted,
)

pytestmark = [
    pytest.mark.filterwarnings("error"),
    pytest.mark.usefixtures("loop_errors"),
]


# ---------------------------------------------------------------------------
# Drops and resumption
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["chunked", "close"])
@pytest.mark.parametrize("drop", [k for k in DROP_KINDS if k != "after-headers"])
async def test_every_event_arrives_once_in_order_across_drops(
    driver: Driver, drop: str, framing: str
) -> None:
    stream = NumberedStream(12, lambda n: Step(3, drop, framing))
    with SSEServer(stream) as server:
        events = await driver.read_all(server.url, **FAST)
    assert numbers(events) == list(range(1, 13))
    assert [e.id for e in events] == [str(n) for n in range(1, 13)]
    assert stream.wrong_ids == []
    assert [r.headers.get("last-event-id") for r in server.requests] == [
        None, "3", "6", "9", "12"
    ]  # fmt: skip


async def test_a_drop_right_after_the_headers_is_retried(driver: Driver) -> None:
    steps = [Step(0, "after-headers"), Step(2, "mid-event"), Step(0, "after-headers")]
    stream = NumberedStream(4, lambda n: steps[n] if n < len(steps) else Step(5))
    with SSEServer(stream) as server:
        assert numbers(await driver.read_all(server.url, **FAST)) == [1, 2, 3, 4]
    assert stream.wrong_ids == []
    assert len(server.requests) == 5


async def test_random_drops_and_errors_lose_and_repeat_nothing(
    driver: Driver,
) -> None:
    stream = NumberedStream(600, random_drops_and_errors(20240611))
    with SSEServer(stream) as server:
        events = await driver.read_all(server.url, **FAST)
    assert numbers(events) == list(range(1, 601))
    assert stream.wrong_ids == []
    assert stream.served > 40
    assert server.errors == []


async def test_the_incomplete_event_before_a_drop_is_never_delivered(
    driver: Driver,
) -> None:
    replies = [
        cut_off(b"retry: 1\n\nid: 1\ndata: one\n\nid: 2\ndata: partial\n", 40),
        Response([b"id: 2\ndata: two\n\n"]),
    ]
    with SSEServer(replies) as server:
        events = await driver.read_all(server.url, **FAST)
    assert [(e.id, e.data) for e in events] == [("1", "one"), ("2", "two")]
    assert [r.headers.get("last-event-id") for r in server.requests] == [None, "1", "2"]


async def test_a_non_ascii_last_event_id_is_sent_as_utf8(driver: Driver) -> None:
    with SSEServer([cut_off("id: é\ndata: x\n\n".encode(), 16)]) as server:
        events = await driver.read_all(server.url, **FAST)
    assert [e.data for e in events] == ["x"]
    header = server.requests[1].headers["last-event-id"]
    assert header.encode("latin-1").decode() == "é"


async def test_last_event_id_option_resumes_a_stored_stream(driver: Driver) -> None:
    stream = NumberedStream(8, lambda n: Step(10))
    stream.sent_whole = 5
    with SSEServer(stream) as server:
        source = driver.open(server.url, last_event_id="5", **FAST)
        assert source.last_event_id == "5"
        assert numbers(await source.rest()) == [6, 7, 8]
        assert source.last_event_id == "8"
    assert server.requests[0].headers["last-event-id"] == "5"
    assert stream.wrong_ids == []


async def test_the_stream_reports_where_it_stands(driver: Driver) -> None:
    body = b"retry: 7\n\nid: a\ndata: x\n\n"
    with SSEServer([Response([body])]) as server:
        source = driver.open(server.url_for("/s"), retry=1000)
        assert (source.url, source.retry, source.response) == (
            server.url_for("/s"),
            1000,
            None,
        )
        event = await source.next()
        assert (event.id, event.data) == ("a", "x")
        assert (source.retry, source.last_event_id) == (7, "a")
        assert isinstance(source.response, driver.response_type)
        assert await source.rest() == []


# ---------------------------------------------------------------------------
# Statuses, content types, attempts, timeouts, sizes
# ---------------------------------------------------------------------------


async def test_204_ends_the_stream_without_error(driver: Driver) -> None:
    stream = NumberedStream(2, lambda n: Step(2))
    with SSEServer(stream) as server:
        async with driver.open(server.url, **FAST) as source:
            assert numbers(await source.rest()) == [1, 2]
            assert source.closed
            assert source.response is None
            assert await source.rest() == []
    assert len(server.requests) == 2


async def test_404_raises_at_once(driver: Driver) -> None:
    reply = Response([b"no"], status=404, headers=(("Content-Type", "text/plain"),))
    with SSEServer(reply) as server:
        source = driver.open(server.url, **FAST)
        with pytest.raises(HTTPStatusError) as info:
            await source.next()
    error = info.value
    assert error.status_code == 404
    assert isinstance(error.response, driver.response_type)
    assert driver.status(error.response) == 404
    assert driver.is_closed(error.response)
    assert "404 Not Found" in str(error)
    assert len(server.requests) == 1
    assert source.closed


async def test_an_error_response_keeps_its_body(driver: Driver) -> None:
    body = b'{"error": {"message": "invalid key"}}'
    reply = status_only(401, (("Content-Type", "application/json"),), body)
    with SSEServer(reply) as server, pytest.raises(HTTPStatusError) as info:
        await driver.read_all(server.url, **FAST)
    assert json.loads(await driver.text(info.value.response)) == {
        "error": {"message": "invalid key"}
    }
    assert driver.is_closed(info.value.response)


async def test_a_page_served_instead_of_a_stream_keeps_its_body(
    driver: Driver,
) -> None:
    html = (("Content-Type", "text/html"),)
    reply = Response([b"<p>log in</p>"], framing="length", headers=html)
    with SSEServer(reply) as server, pytest.raises(ContentTypeError) as info:
        await driver.read_all(server.url, **FAST)
    assert await driver.text(info.value.response) == "<p>log in</p>"


async def test_a_wrong_content_type_raises_at_once(driver: Driver) -> None:
    html = (("Content-Type", "text/html; charset=utf-8"),)
    with (
        SSEServer(Response([b"<p>"], headers=html)) as server,
        pytest.raises(ContentTypeError) as info,
    ):
        await driver.read_all(server.url, **FAST)
    assert info.value.content_type == "text/html; charset=utf-8"
    assert "text/html" in str(info.value)
    assert driver.status(info.value.response) == 200
    assert len(server.requests) == 1


async def test_an_unretried_status_on_reconnection_raises_after_the_events(
    driver: Driver,
) -> None:
    replies = [Response([numbered_events(1, 2)[0]]), status_only(410)]
    got = []
    with SSEServer(replies) as server, pytest.raises(HTTPStatusError) as info:
        async for event in driver.open(server.url, **FAST):
            got.append(event)
    assert numbers(got) == [1, 2]
    assert info.value.status_code == 410


async def test_server_errors_are_retried(driver: Driver) -> None:
    stream = NumberedStream(3, errors_then_events(500, 502, 503, 504, 429))
    with SSEServer(stream) as server:
        assert numbers(await driver.read_all(server.url, **FAST)) == [1, 2, 3]
    assert len(server.requests) == 7


async def test_max_attempts_gives_up_with_the_last_error_as_cause(
    driver: Driver,
) -> None:
    with (
        SSEServer(status_only(500)) as server,
        pytest.raises(RetriesExhausted) as info,
    ):
        await driver.read_all(server.url, max_attempts=3, **FAST)
    assert info.value.attempts == 3
    cause = info.value.__cause__
    assert isinstance(cause, HTTPStatusError)
    assert cause.status_code == 500
    assert len(server.requests) == 3


async def test_max_attempts_counts_refused_connections(driver: Driver) -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RetriesExhausted) as info:
        await driver.read_all(f"http://127.0.0.1:{port}/", max_attempts=2, **FAST)
    assert info.value.attempts == 2
    assert isinstance(info.value.__cause__, driver.connect_error)


async def test_max_attempts_can_change_while_the_stream_runs(driver: Driver) -> None:
    source = driver.open("http://127.0.0.1:9/never-opened", max_attempts=1)
    source.max_attempts = None
    assert source.max_attempts is None
    with pytest.raises(ValueError):
        source.max_attempts = 0
    await source.close()


async def test_a_read_timeout_counts_as_a_drop(driver: Driver) -> None:
    replies = [
        Response([numbered_events(1, 1)[0], HoldOpen()]),
        Response([numbered_events(2, 1)[0]]),
    ]
    with SSEServer(replies) as server:
        events = await driver.read_all(server.url, timeout=(5, 0.2), **FAST)
    assert numbers(events) == [1, 2]
    assert server.requests[1].headers["last-event-id"] == "1"
    assert server.hangups == 1


async def test_an_oversized_event_is_raised_not_retried(driver: Driver) -> None:
    reply = Response([b"data: " + b"x" * 100 + b"\n\n"])
    with SSEServer(reply) as server, pytest.raises(EventTooLarge) as info:
        await driver.read_all(server.url, max_event_size=50, **FAST)
    assert info.value.limit == 50
    assert info.value.size > 50
    assert len(server.requests) == 1


# ---------------------------------------------------------------------------
# TLS
# ---------------------------------------------------------------------------


async def test_tls_streams_reconnect(
    driver: Driver, certificate: Certificate, tls_context: ssl.SSLContext
) -> None:
    stream = NumberedStream(6, lambda n: Step(2, "mid-event"))
    with SSEServer(stream, ssl_context=tls_context) as server:
        trusted = driver.trusting(certificate.cert)
        events = await driver.read_all(server.url, **trusted, **FAST)
    assert server.url.startswith("https://")
    assert numbers(events) == list(range(1, 7))
    assert stream.wrong_ids == []


async def test_a_rejected_certificate_is_raised_at_once(
    driver: Driver, tls_context: ssl.SSLContext
) -> None:
    stream = NumberedStream(6, lambda n: Step(2))
    with SSEServer(stream, ssl_context=tls_context) as server:
        with pytest.raises(driver.certificate_error) as info:  # an untrusted CA
            await driver.read_all(server.url, max_attempts=3, **FAST)
        assert server.connections == 1
    assert server.requests == []
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)


# ---------------------------------------------------------------------------
# Requests: method, body, redirects, the user's session or client
# ---------------------------------------------------------------------------


async def test_a_redirect_is_followed_on_every_connection(driver: Driver) -> None:
    stream = NumberedStream(4, lambda n: Step(2))

    def handler(request: Request) -> Response:
        if request.target == "/old":
            return status_only(302, (("Location", "/new"),))
        return stream(request)

    with SSEServer(handler) as server:
        events = await driver.read_all(server.url_for("/old"), **FAST)
    assert numbers(events) == [1, 2, 3, 4]
    targets = [r.target for r in server.requests]
    assert targets == ["/old", "/new", "/old", "/new", "/old", "/new"]
    assert server.requests[3].headers["last-event-id"] == "2"


#: Credentials a redirect may or may not carry on.
CREDENTIALS = {"Authorization": "Bearer token", "Cookie": "session=s"}


@pytest.mark.parametrize("other_host", [False, True], ids=["same-host", "other-host"])
async def test_credentials_follow_a_redirect_only_on_the_same_host(
    driver: Driver, other_host: bool
) -> None:
    def handler(request: Request) -> Response:
        if request.target == "/old":
            # 127.0.0.1 and localhost: one server, two hosts.
            host = "localhost" if other_host else "127.0.0.1"
            location = f"http://{host}:{server.port}/new"
            return status_only(307, (("Location", location),))
        return Response([b"data: x\n\n"])

    with SSEServer(handler) as server:
        events = await driver.read_all(
            server.url_for("/old"), headers=CREDENTIALS, reconnect=False
        )
    assert [e.data for e in events] == ["x"]
    first, redirected = server.requests
    assert (first.target, redirected.target) == ("/old", "/new")
    assert first.headers["authorization"] == "Bearer token"
    assert first.headers["cookie"] == "session=s"
    if other_host:
        assert redirected.headers["host"] == f"localhost:{server.port}"
        assert "authorization" not in redirected.headers
        assert "cookie" not in redirected.headers
    else:
        assert redirected.headers["authorization"] == "Bearer token"


@pytest.mark.parametrize(
    ("status", "method"), [(303, "GET"), (302, "GET"), (307, "POST"), (308, "POST")]
)
async def test_a_redirected_post_becomes_a_get_as_browsers_do(
    driver: Driver, status: int, method: str
) -> None:
    def handler(request: Request) -> Response:
        if request.target == "/submit":
            return status_only(status, (("Location", "/stream"),))
        return Response([b"data: x\n\n"])

    with SSEServer(handler) as server:
        events = await driver.read_all(
            server.url_for("/submit"), method="POST", json={"q": 1}, reconnect=False
        )
    assert [e.data for e in events] == ["x"]
    redirected = server.requests[1]
    assert (redirected.target, redirected.method) == ("/stream", method)
    if method == "GET":
        assert redirected.body == b""
        if driver.name == "connect":  # httpx keeps the Content-Type
            assert "content-type" not in redirected.headers
    else:
        assert json.loads(redirected.body) == {"q": 1}


async def test_endless_redirects_raise_at_once(driver: Driver) -> None:
    loop = status_only(302, (("Location", "/again"),))
    with SSEServer(loop) as server, pytest.raises(driver.redirect_error):
        await driver.read_all(server.url, max_attempts=3, **FAST)
    assert len(server.requests) == driver.max_redirects + 1


async def test_a_gzip_body_is_decoded_as_it_arrives(driver: Driver) -> None:
    body, ends = numbered_events(1, 3)
    blocks = [body[start:end] for start, end in zip([0, *ends], ends)]
    compressor = zlib.compressobj(wbits=31)  # gzip
    # Each event flushed on its own: the first must come before the rest.
    pieces = [compressor.compress(block) + compressor.flush(zlib.Z_SYNC_FLUSH)
              for block in blocks] + [compressor.flush()]  # fmt: skip
    go = threading.Event()
    gzip_stream = (*EVENT_STREAM, ("Content-Encoding", "gzip"))
    reply = Response([pieces[0], WaitFor(go), *pieces[1:]], headers=gzip_stream)
    with SSEServer([reply]) as server:
        source = driver.open(server.url, **FAST)
        assert numbers([await source.next()]) == [1]
        go.set()
        assert numbers(await source.rest()) == [2, 3]
    assert "gzip" in server.requests[0].headers["accept-encoding"]
    assert zlib.decompress(b"".join(pieces), wbits=31) == body
    assert server.timeouts == 0


def decoded(request: Request) -> Any:
    """A request's body as the value given for it: JSON and form bodies
    decoded, others as bytes."""
    content_type = request.headers.get("content-type")
    if content_type == "application/json":
        return json.loads(request.body)
    if content_type == "application/x-www-form-urlencoded":
        return dict(urllib.parse.parse_qsl(request.body.decode()))
    return request.body


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ({"json": {"q": 1}}, "application/json"),
        ({"data": b"raw"}, None),
        ({"data": {"q": "1"}}, "application/x-www-form-urlencoded"),
    ],
    ids=["json", "bytes", "form"],
)
async def test_a_body_is_resent_on_every_connection(
    driver: Driver, body: dict[str, Any], content_type: str | None
) -> None:
    stream = NumberedStream(4, lambda n: Step(2, "mid-line"))
    with SSEServer(stream) as server:
        events = await driver.read_all(server.url, method="POST", **body, **FAST)
    assert numbers(events) == [1, 2, 3, 4]
    assert len(server.requests) == 3
    (given,) = body.values()
    for request in server.requests:
        assert request.method == "POST"
        if content_type is None:  # what the library gives raw bytes
            content_type = driver.bytes_content_type
        assert request.headers.get("content-type") == content_type
        assert decoded(request) == given


# The standard library's transport takes no session (see test_stdlib_transport.py
# for its auth and params).
@pytest.mark.parametrize(
    "driver", ["connect", "aconnect", "aconnect.aiohttp"], indirect=True
)
async def test_the_users_session_or_client_is_used_on_every_connection_and_left_open(
    driver: Driver,
) -> None:
    stream = NumberedStream(4, lambda n: Step(2, "between-events"))
    users = driver.users_client(auth=("user", "secret"), headers={"X-Client": "c"})
    with SSEServer(stream) as server:
        source = driver.open(
            server.url, headers={"X-Extra": "e"}, params={"topic": "a"}, **users, **FAST
        )
        assert numbers(await source.rest()) == [1, 2, 3, 4]
    assert not driver.users_client_closed(users)
    basic = "Basic " + base64.b64encode(b"user:secret").decode()
    for request in server.requests:
        assert request.target == "/?topic=a"
        assert request.headers["authorization"] == basic
        assert request.headers["x-client"] == "c"
        assert request.headers["x-extra"] == "e"
        assert request.headers["accept"] == "text/event-stream"
        assert request.headers["cache-control"] == "no-cache"


# ---------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------


async def test_logs_connects_drops_and_delays_and_prints_nothing(
    driver: Driver,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    steps: list[Step | Response] = [Step(1, "mid-line"), status_only(500)]
    stream = NumberedStream(2, lambda n: steps[n] if n < len(steps) else Step(5))
    caplog.set_level(logging.DEBUG, logger="sseclient")
    with SSEServer(stream) as server:
        assert numbers(await driver.read_all(server.url, **FAST)) == [1, 2]
    messages = [r.getMessage() for r in caplog.records if r.name == "sseclient"]
    assert any(m.startswith("connecting to") and "'1'" in m for m in messages)
    assert any(m.startswith("connected to") for m in messages)
    assert any(" lost (" in m and "reconnecting in" in m for m in messages)
    assert any("answered 500" in m and "retrying in" in m for m in messages)
    assert any("204 No Content" in m for m in messages)
    assert capsys.readouterr() == ("", "")


# ---------------------------------------------------------------------------
# Closing: from the loop, from another thread or task, by the with block
# ---------------------------------------------------------------------------

#: One event, then nothing: the connection stays open until the client
#: closes it (which `SSEServer.hung_up` tells).
HELD_OPEN = Response([numbered_events(1, 1)[0], HoldOpen()])


async def test_close_from_another_thread_or_task_stops_a_blocked_read(
    driver: Driver,
) -> None:
    with SSEServer(HELD_OPEN) as server:
        source = driver.open(server.url, timeout=None, **FAST)
        reading = source.read_in_background()
        assert await eventually(lambda: reading.events)
        await source.close()
        # A hang guard: close() must end the blocked read.
        assert numbers(await reading.join()) == [1]
        assert reading.error is None
        assert await eventually(server.hung_up.is_set)
        assert len(server.requests) == 1
        assert source.closed


async def test_close_from_another_thread_or_task_while_the_loop_is_busy_ends_it(
    driver: Driver,
) -> None:
    """``close()`` while the reading loop is busy with an event (not in a
    read): the loop ends at its next read."""
    with SSEServer(Response([numbered_events(1, 3)[0], HoldOpen()])) as server:
        source = driver.open(server.url, timeout=None, **FAST)
        reading = source.read_in_background(hold=True)
        assert await eventually(lambda: reading.events)
        await source.close()
        reading.resume()
        await reading.join()  # a hang guard: the loop must end at its next read
    assert reading.error is None
    # The events already read may still come; nothing after them does.
    assert numbers(reading.events) in ([1], [1, 2], [1, 2, 3])
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "before",
    [
        pytest.param(status_only(503), id="after-a-503"),
        pytest.param(Response([b"data: a\n\n"]), id="after-the-body-ended"),
    ],
)
async def test_close_from_another_thread_or_task_stops_a_wait_before_reconnecting(
    driver: Driver, before: Response, caplog: pytest.LogCaptureFixture
) -> None:
    def waiting() -> bool:
        return any("in 3600.000 s" in r.getMessage() for r in caplog.records)

    caplog.set_level(logging.INFO, logger="sseclient")
    with SSEServer([before]) as server:
        # A reconnection time of an hour: only close() can end the wait.
        source = driver.open(server.url, retry=3_600_000)
        reading = source.read_in_background()
        assert await eventually(waiting)
        await source.close()
        await reading.join()  # a hang guard: the wait must be cut short
    assert reading.error is None
    assert [e.data for e in reading.events] == ([] if before.status == 503 else ["a"])
    assert len(server.requests) == 1


async def test_close_inside_the_loop_ends_it_and_closes_the_response(
    driver: Driver,
) -> None:
    with SSEServer(Response([numbered_events(1, 3)[0], HoldOpen()])) as server:
        source = driver.open(server.url, **FAST)
        got = []
        async for event in source:
            got.append(event)
            response = source.response
            await source.close()
        assert numbers(got) == [1]
        assert response is not None and driver.is_closed(response)
        assert source.response is None
        assert len(server.requests) == 1


async def test_leaving_the_with_block_closes_the_stream(driver: Driver) -> None:
    with SSEServer(HELD_OPEN) as server:
        async with driver.open(server.url, **FAST) as source:
            assert (await source.next()).data == "1"
        assert source.closed
        assert await source.rest() == []
        assert await eventually(server.hung_up.is_set)
