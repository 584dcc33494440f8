"""Reconnecting streams: `sseclient.connect`, its policy, and `SSEClient(url)`.

The policy tests drive the sans-I/O `_Reconnection` directly; the rest run
`connect` with real requests against `EventServer`, which numbers events,
resumes after ``Last-Event-ID`` and drops connections where a test says.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import random
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import requests
from reconnect_server import (
    DROP_KINDS,
    EventServer,
    Reply,
    Request,
    drop_point,
    numbered_events,
)

import sseclient
from sseclient import (
    ContentTypeError,
    Event,
    EventStreamParser,
    EventTooLarge,
    HTTPStatusError,
    ResponseError,
    RetriesExhausted,
    SSEClient,
    SSEError,
    connect,
)

URL = "http://example.invalid/stream"
# Fast reconnection for tests: 1 ms, and a backoff capped at 5 ms.
FAST = {"retry": 1, "max_retry_delay": 5}


def policy(**options: object) -> sseclient._Reconnection:
    return sseclient._Reconnection(URL, **options)  # type: ignore[arg-type]


def status_error(
    p: sseclient._Reconnection, status: int, **headers: str
) -> HTTPStatusError:
    with pytest.raises(HTTPStatusError) as info:
        p.check_response(status, headers, None)
    return info.value


# ---------------------------------------------------------------------------
# The policy, without I/O
# ---------------------------------------------------------------------------


def test_request_headers_ask_for_an_uncached_event_stream() -> None:
    assert policy().request_headers() == {
        "Accept": "text/event-stream",
        "Cache-Control": "no-cache",
    }


def test_last_event_id_header_follows_the_parser() -> None:
    p = policy()
    p.feed(b"id: 7\ndata: x\n\n")
    assert p.request_headers()["Last-Event-ID"] == "7"
    p.feed(b"id: 8\ndata: never finished\n")
    p.next_delay(None)
    assert p.request_headers()["Last-Event-ID"] == "7"
    # "If the event source's last event ID string is not the empty string"
    p.feed(b"id\ndata: y\n\n")
    assert "Last-Event-ID" not in p.request_headers()


def test_last_event_id_header_is_utf8() -> None:
    p = policy(last_event_id="é-1")
    assert p.request_headers()["Last-Event-ID"] == "é-1".encode()


def test_user_headers_override_defaults_whatever_their_case() -> None:
    p = policy(headers={"accept": "text/event-stream, */*", "X-Key": "k"})
    assert p.request_headers() == {
        "Cache-Control": "no-cache",
        "accept": "text/event-stream, */*",
        "X-Key": "k",
    }


def test_a_last_event_id_header_given_by_the_user_is_where_to_start() -> None:
    p = policy(headers={"last-event-id": "5"})
    assert p.request_headers() == {
        "Accept": "text/event-stream",
        "Cache-Control": "no-cache",
        "Last-Event-ID": "5",
    }
    p.feed(b"id: 6\ndata: x\n\n")
    assert p.request_headers()["Last-Event-ID"] == "6"
    assert (
        policy(headers={"Last-Event-ID": "5"}, last_event_id="9").parser.last_event_id
        == "9"
    )


RETRIED = [408, 429, 500, 502, 503, 504, 507, 520, 599]
RAISED = [201, 202, 206, 301, 304, 400, 401, 403, 404, 405, 410, 422, 451, 501, 505]


@pytest.mark.parametrize("status", RETRIED)
def test_statuses_worth_another_attempt_are_retried(status: int) -> None:
    p = policy(retry=1000, max_retry_delay=1000)
    error = status_error(p, status)
    assert (error.status_code, error.response) == (status, None)
    assert p.next_delay(error) == 1.0


@pytest.mark.parametrize("status", RAISED)
def test_other_statuses_are_raised(status: int) -> None:
    p = policy()
    error = status_error(p, status)
    with pytest.raises(HTTPStatusError) as info:
        p.next_delay(error)
    assert info.value is error
    assert isinstance(error, ResponseError)
    assert isinstance(error, SSEError)
    assert str(status) in str(error)


def test_204_stops_and_200_reads() -> None:
    p = policy()
    assert p.check_response(204, {}, None) is False
    assert p.check_response(200, {"Content-Type": "text/event-stream"}, None) is True


@pytest.mark.parametrize(
    "content_type",
    ["text/event-stream", "text/event-stream; charset=utf-8", "Text/Event-Stream ;x=y"],
)
def test_event_stream_content_types_ignore_parameters_and_case(
    content_type: str,
) -> None:
    assert policy().check_response(200, {"Content-Type": content_type}, None)


@pytest.mark.parametrize(
    "content_type", [None, "text/html", "text/event-streams", "application/json", ""]
)
def test_other_content_types_raise(content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    with pytest.raises(ContentTypeError) as info:
        policy().check_response(200, headers, "the response")
    error = info.value
    assert (error.content_type, error.status_code) == (content_type, 200)
    assert error.response == "the response"
    assert repr(content_type) in str(error)


def test_retry_after_seconds_is_honoured() -> None:
    p = policy(retry=1, max_retry_delay=5)
    error = status_error(p, 503, **{"Retry-After": "7"})
    assert error.retry_after == 7.0
    assert p.next_delay(error) == 7.0


def test_retry_after_http_date_is_honoured() -> None:
    p = policy(retry=1, max_retry_delay=5)
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    error = status_error(p, 429, **{"Retry-After": date})
    assert error.retry_after is not None
    assert 25 < error.retry_after <= 30
    assert p.next_delay(error) == error.retry_after


@pytest.mark.parametrize("value", ["soon", "-1", "1.5", ""])
def test_malformed_retry_after_is_ignored(value: str) -> None:
    assert status_error(policy(), 503, **{"Retry-After": value}).retry_after is None


def test_retry_after_never_shortens_the_backoff() -> None:
    p = policy(retry=4000)
    assert p.next_delay(status_error(p, 503, **{"Retry-After": "1"})) == 4.0


def delays(p: sseclient._Reconnection, count: int) -> list[float]:
    return [p.next_delay(ConnectionError("refused")) for _ in range(count)]


def test_backoff_doubles_up_to_the_cap_with_jitter_in_its_upper_half() -> None:
    high = policy(retry=1000, max_retry_delay=8000, jitter=lambda: 1.0)
    assert delays(high, 6) == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    low = policy(retry=1000, max_retry_delay=8000, jitter=lambda: 0.0)
    # Never shorter than the reconnection time.
    assert delays(low, 6) == [1.0, 1.0, 2.0, 4.0, 4.0, 4.0]
    rng = random.Random(1)
    jittered = delays(policy(retry=1000, max_retry_delay=8000, jitter=rng.random), 40)
    assert all(4.0 <= d <= 8.0 for d in jittered[4:])
    assert len(set(jittered[4:])) > 30


def test_backoff_resets_after_a_connection_that_delivered_events() -> None:
    p = policy(retry=1000, max_retry_delay=8000, jitter=lambda: 1.0)
    assert delays(p, 3) == [1.0, 2.0, 4.0]
    assert p.failures == 3
    p.feed(b"data: x\n\n")
    assert p.next_delay(ConnectionError("dropped")) == 1.0
    assert p.failures == 0
    assert delays(p, 2) == [1.0, 2.0]


def test_a_connection_with_only_comments_or_partial_events_is_a_failure() -> None:
    p = policy(retry=1000, jitter=lambda: 1.0)
    p.feed(b": keep-alive\n\ndata: partial\n")
    assert p.next_delay(None) == 1.0
    p.feed(b"retry: 1000\n\n")
    assert p.next_delay(None) == 2.0
    assert p.failures == 2


def test_server_retry_sets_the_reconnection_time() -> None:
    p = policy(retry=3000)
    assert p.retry == 3000
    p.feed(b"retry: 250\ndata: x\n\n")
    assert p.retry == 250
    assert p.next_delay(None) == 0.25


def test_a_tiny_reconnection_time_never_makes_a_tight_loop_of_failures() -> None:
    p = policy(retry=0, jitter=lambda: 0.0)
    assert [round(d, 3) for d in delays(p, 4)] == [0.05, 0.1, 0.2, 0.4]
    p.feed(b"retry: 0\ndata: x\n\n")
    assert p.next_delay(None) == 0.0  # progress was made: the server's time


def test_backoff_survives_very_many_failures() -> None:
    p = policy(retry=1000, max_retry_delay=30_000, jitter=lambda: 1.0)
    p.failures = 100_000
    assert p.next_delay(ConnectionError("down")) == 30.0


def test_an_absurd_wait_asked_by_the_server_is_still_a_wait() -> None:
    p = policy()
    p.feed(b"retry: " + b"9" * 400 + b"\ndata: x\n\n")
    assert p.next_delay(None) == threading.TIMEOUT_MAX
    retry_after = {"Retry-After": "9" * 400}
    assert p.next_delay(status_error(p, 503, **retry_after)) == threading.TIMEOUT_MAX


def test_max_attempts_raises_after_that_many_failures_in_a_row() -> None:
    p = policy(max_attempts=3, **FAST)
    p.next_delay(ConnectionError("1"))
    p.feed(b"data: progress\n\n")
    p.next_delay(ConnectionError("dropped after an event: not a failure"))
    p.next_delay(ConnectionError("1"))
    p.next_delay(None)
    last = status_error(p, 500)
    with pytest.raises(RetriesExhausted) as info:
        p.next_delay(last)
    assert info.value.attempts == 3
    assert info.value.__cause__ is last
    assert "3 failed attempts" in str(info.value)


def test_max_attempts_one_never_retries_a_failure() -> None:
    with pytest.raises(RetriesExhausted) as info:
        policy(max_attempts=1).next_delay(None)
    assert info.value.__cause__ is None


@pytest.mark.parametrize(
    "options",
    [{"retry": -1}, {"max_retry_delay": -1}, {"max_attempts": 0}],
)
def test_bad_options_are_refused(options: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        policy(**options)


def test_max_attempts_can_change_while_the_stream_runs() -> None:
    stream = connect("http://127.0.0.1:9/never-opened", max_attempts=1)
    stream.max_attempts = None
    assert stream.max_attempts is None
    with pytest.raises(ValueError):
        stream.max_attempts = 0
    stream.close()


def test_event_dump_parses_back_to_the_event() -> None:
    events = [
        Event(data="one"),
        Event("7", "update", "two\nlines\n", 1500),
        Event("", data=" leading space"),
    ]
    for event in events:
        parsed = EventStreamParser().feed(event.dump().encode())
        assert parsed == [event]
    assert Event("1", data="a").dump() == "id: 1\ndata: a\n\n"


# ---------------------------------------------------------------------------
# connect() against a server that numbers events and drops connections
# ---------------------------------------------------------------------------


@dataclass
class Step:
    """What one connection of a `NumberedStream` does: deliver ``complete``
    events, then drop the connection as ``drop`` says (None: end the body
    cleanly after them), with the given body framing."""

    complete: int
    drop: str | None = None
    framing: str = "chunked"


class NumberedStream:
    """A handler serving events 1 to ``total``, each connection resuming
    after its ``Last-Event-ID``; ``script(n)`` says what connection ``n``
    (from 0) does: a `Step`, or a `Reply` sent as is.  Past the last event
    it answers 204.  It checks that each request's ``Last-Event-ID`` is the
    last event the client can have received whole."""

    def __init__(self, total: int, script: Callable[[int], Step | Reply]) -> None:
        self.total = total
        self.script = script
        self.served = 0
        self.sent_whole = 0
        self.wrong_ids: list[tuple[int, int]] = []

    def __call__(self, request: Request) -> Reply:
        if request.last_event_id != self.sent_whole:
            self.wrong_ids.append((request.last_event_id, self.sent_whole))
        first = request.last_event_id + 1
        if first > self.total:
            return Reply(status=204, headers=(), framing="length")
        step = self.script(self.served)
        self.served += 1
        if isinstance(step, Reply):
            return step
        complete = min(step.complete, self.total - first + 1)
        if step.drop is None:
            body, _ = numbered_events(first, complete)
            self.sent_whole = first + complete - 1
            return Reply(body=body, framing=step.framing)
        body, ends = numbered_events(first, complete + 1)
        self.sent_whole = (
            first + complete - 1 if step.drop != "after-headers" else first - 1
        )
        drop_at = drop_point(body, ends, complete, step.drop)
        return Reply(body=body, framing=step.framing, drop_at=drop_at)


def numbers(events: list[Event]) -> list[int]:
    return [int(event.data) for event in events]


@pytest.mark.parametrize("framing", ["chunked", "close"])
@pytest.mark.parametrize("drop", [k for k in DROP_KINDS if k != "after-headers"])
def test_every_event_arrives_once_in_order_across_drops(
    drop: str, framing: str
) -> None:
    stream = NumberedStream(12, lambda n: Step(3, drop, framing))
    with EventServer(stream) as server:
        events = list(connect(server.url, **FAST))
    assert numbers(events) == list(range(1, 13))
    assert [e.id for e in events] == [str(n) for n in range(1, 13)]
    assert stream.wrong_ids == []
    assert [r.headers.get("last-event-id") for r in server.requests] == [
        None, "3", "6", "9", "12"
    ]  # fmt: skip


def test_a_drop_right_after_the_headers_is_retried() -> None:
    steps = [Step(0, "after-headers"), Step(2, "mid-event"), Step(0, "after-headers")]
    stream = NumberedStream(4, lambda n: steps[n] if n < len(steps) else Step(5))
    with EventServer(stream) as server:
        assert numbers(list(connect(server.url, **FAST))) == [1, 2, 3, 4]
    assert stream.wrong_ids == []
    assert len(server.requests) == 5


def test_the_incomplete_event_before_a_drop_is_never_delivered() -> None:
    replies = [
        Reply(
            body=b"retry: 1\n\nid: 1\ndata: one\n\nid: 2\ndata: partial\n", drop_at=40
        ),
        Reply(body=b"id: 2\ndata: two\n\n"),
        Reply(status=204, headers=(), framing="length"),
    ]
    with EventServer(lambda request: replies[len(server.requests) - 1]) as server:
        events = list(connect(server.url, **FAST))
    assert [(e.id, e.data) for e in events] == [("1", "one"), ("2", "two")]
    assert [r.headers.get("last-event-id") for r in server.requests] == [None, "1", "2"]


def random_drops_and_errors(seed: int) -> Callable[[int], Step | Reply]:
    """A seeded script: 500s, 503s with Retry-After, and connections that
    send a few events, then drop at a random kind of place (or end)."""
    rng = random.Random(seed)

    def script(n: int) -> Step | Reply:
        roll = rng.random()
        if roll < 0.08:
            return Reply(status=500, headers=(), body=b"oops", framing="length")
        if roll < 0.16:
            headers = (("Retry-After", "0"),)
            return Reply(status=503, headers=headers, framing="length")
        drop = rng.choice([*DROP_KINDS, None])
        framing = rng.choice(["chunked", "close"])
        return Step(rng.randint(1, 25), drop, framing)

    return script


def test_random_drops_and_errors_lose_and_repeat_nothing() -> None:
    stream = NumberedStream(600, random_drops_and_errors(20240611))
    with EventServer(stream) as server:
        events = list(connect(server.url, **FAST))
    assert numbers(events) == list(range(1, 601))
    assert stream.wrong_ids == []
    assert stream.served > 40
    assert server.errors == []


def test_204_ends_the_stream_without_error() -> None:
    stream = NumberedStream(2, lambda n: Step(2))
    with EventServer(stream) as server, connect(server.url, **FAST) as source:
        assert numbers(list(source)) == [1, 2]
        assert source.closed
        assert source.response is None
        assert list(source) == []
    assert len(server.requests) == 2


def test_404_raises_at_once() -> None:
    reply = Reply(status=404, headers=(("Content-Type", "text/plain"),), body=b"no")
    with EventServer(lambda request: reply) as server:
        source = connect(server.url, **FAST)
        with pytest.raises(HTTPStatusError) as info:
            next(source)
    error = info.value
    assert error.status_code == 404
    assert isinstance(error.response, requests.Response)
    assert error.response.status_code == 404
    assert "404 Not Found" in str(error)
    assert len(server.requests) == 1
    assert source.closed


def test_an_error_response_keeps_its_body() -> None:
    body = b'{"error": {"message": "invalid key"}}'
    json_type = (("Content-Type", "application/json"),)
    reply = Reply(status=401, headers=json_type, body=body, framing="length")
    with (
        EventServer(lambda request: reply) as server,
        pytest.raises(HTTPStatusError) as info,
    ):
        list(connect(server.url, **FAST))
    assert info.value.response.json() == {"error": {"message": "invalid key"}}


def test_a_page_served_instead_of_a_stream_keeps_its_body() -> None:
    html = (("Content-Type", "text/html"),)
    reply = Reply(headers=html, body=b"<p>log in</p>", framing="length")
    with (
        EventServer(lambda request: reply) as server,
        pytest.raises(ContentTypeError) as info,
    ):
        list(connect(server.url, **FAST))
    assert info.value.response.text == "<p>log in</p>"


def test_an_unretried_status_on_reconnection_raises_after_the_events() -> None:
    replies = [
        Reply(body=numbered_events(1, 2)[0]),
        Reply(status=410, headers=(), framing="length"),
    ]
    with EventServer(lambda request: replies[len(server.requests) - 1]) as server:
        got = []
        with pytest.raises(HTTPStatusError) as info:
            for event in connect(server.url, **FAST):
                got.append(event)
    assert numbers(got) == [1, 2]
    assert info.value.status_code == 410


def test_a_wrong_content_type_raises_at_once() -> None:
    reply = Reply(headers=(("Content-Type", "text/html; charset=utf-8"),), body=b"<p>")
    with (
        EventServer(lambda request: reply) as server,
        pytest.raises(ContentTypeError) as info,
    ):
        list(connect(server.url, **FAST))
    assert info.value.content_type == "text/html; charset=utf-8"
    assert "text/html" in str(info.value)
    assert info.value.response.status_code == 200
    assert len(server.requests) == 1


def errors_then_events(*statuses: int) -> Callable[[int], Step | Reply]:
    """A script: answer these statuses in turn, then send the events."""
    replies = iter(statuses)

    def script(n: int) -> Step | Reply:
        status = next(replies, None)
        return Step(5) if status is None else Reply(status=status, framing="length")

    return script


def test_server_errors_are_retried() -> None:
    stream = NumberedStream(3, errors_then_events(500, 502, 503, 504, 429))
    with EventServer(stream) as server:
        assert numbers(list(connect(server.url, **FAST))) == [1, 2, 3]
    assert len(server.requests) == 7


def test_503_retry_after_is_waited_for() -> None:
    arrivals: list[float] = []
    replies = [
        Reply(status=503, headers=(("Retry-After", "1"),), framing="length"),
        Reply(body=b"data: x\n\n"),
        Reply(status=204, headers=(), framing="length"),
    ]

    def handler(request: Request) -> Reply:
        arrivals.append(time.monotonic())
        return replies[len(arrivals) - 1]

    with EventServer(handler) as server:
        assert [e.data for e in connect(server.url, **FAST)] == ["x"]
    assert arrivals[1] - arrivals[0] >= 0.95


def test_max_attempts_gives_up_with_the_last_error_as_cause() -> None:
    reply = Reply(status=500, headers=(), framing="length")
    with (
        EventServer(lambda request: reply) as server,
        pytest.raises(RetriesExhausted) as info,
    ):
        list(connect(server.url, max_attempts=3, **FAST))
    assert info.value.attempts == 3
    cause = info.value.__cause__
    assert isinstance(cause, HTTPStatusError)
    assert cause.status_code == 500
    assert len(server.requests) == 3


def test_max_attempts_counts_refused_connections() -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RetriesExhausted) as info:
        list(connect(f"http://127.0.0.1:{port}/", max_attempts=2, **FAST))
    assert info.value.attempts == 2
    assert isinstance(info.value.__cause__, requests.ConnectionError)


def test_a_read_timeout_counts_as_a_drop() -> None:
    silence = threading.Event()
    replies = [
        Reply(body=numbered_events(1, 1)[0], hold=silence),
        Reply(body=numbered_events(2, 1)[0]),
        Reply(status=204, headers=(), framing="length"),
    ]
    try:
        with EventServer(lambda request: replies[len(server.requests) - 1]) as server:
            events = list(connect(server.url, timeout=(5, 0.2), **FAST))
    finally:
        silence.set()
    assert numbers(events) == [1, 2]
    assert server.requests[1].headers["last-event-id"] == "1"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


def tls_server(
    certificate: tuple[str, str], handler: Callable[[Request], Reply]
) -> EventServer:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return EventServer(handler, ssl_context=context)


def test_tls_streams_reconnect(certificate: tuple[str, str]) -> None:
    stream = NumberedStream(6, lambda n: Step(2, "mid-event"))
    with tls_server(certificate, stream) as server:
        events = list(connect(server.url, verify=certificate[0], **FAST))
    assert server.url.startswith("https://")
    assert numbers(events) == list(range(1, 7))
    assert stream.wrong_ids == []


def test_a_rejected_certificate_is_raised_at_once(certificate: tuple[str, str]) -> None:
    stream = NumberedStream(6, lambda n: Step(2))
    with tls_server(certificate, stream) as server:
        with pytest.raises(requests.exceptions.SSLError):
            list(connect(server.url, max_attempts=3, **FAST))  # an untrusted CA
        assert server.connections == 1
    assert server.requests == []


def test_a_redirect_is_followed_on_every_connection() -> None:
    stream = NumberedStream(4, lambda n: Step(2))

    def handler(request: Request) -> Reply:
        if request.path == "/old":
            return Reply(status=302, headers=(("Location", "/new"),), framing="length")
        return stream(request)

    with EventServer(handler) as server:
        assert numbers(list(connect(server.url_for("/old"), **FAST))) == [1, 2, 3, 4]
    paths = [r.path for r in server.requests]
    assert paths == ["/old", "/new", "/old", "/new", "/old", "/new"]
    assert server.requests[3].headers["last-event-id"] == "2"


def test_post_with_a_body_is_resent_on_every_connection() -> None:
    stream = NumberedStream(4, lambda n: Step(2, "mid-line"))
    with EventServer(stream) as server:
        events = list(connect(server.url, method="POST", json={"q": 1}, **FAST))
    assert numbers(events) == [1, 2, 3, 4]
    assert len(server.requests) == 3
    for request in server.requests:
        assert request.method == "POST"
        assert request.body == b'{"q": 1}'
        assert request.headers["content-type"] == "application/json"


def test_session_auth_and_headers_are_used_on_every_connection() -> None:
    stream = NumberedStream(4, lambda n: Step(2, "between-events"))
    session = requests.Session()
    session.auth = ("user", "secret")
    session.headers["X-Session"] = "s"
    with EventServer(stream) as server:
        source = connect(
            server.url,
            session=session,
            headers={"X-Extra": "e"},
            params={"topic": "a"},
            **FAST,
        )
        assert numbers(list(source)) == [1, 2, 3, 4]
    basic = "Basic " + base64.b64encode(b"user:secret").decode()
    for request in server.requests:
        assert request.path == "/?topic=a"
        assert request.headers["authorization"] == basic
        assert request.headers["x-session"] == "s"
        assert request.headers["x-extra"] == "e"
        assert request.headers["accept"] == "text/event-stream"
        assert request.headers["cache-control"] == "no-cache"
    session.close()


def test_last_event_id_option_resumes_a_stored_stream() -> None:
    stream = NumberedStream(8, lambda n: Step(10))
    stream.sent_whole = 5
    with EventServer(stream) as server:
        source = connect(server.url, last_event_id="5", **FAST)
        assert source.last_event_id == "5"
        assert numbers(list(source)) == [6, 7, 8]
        assert source.last_event_id == "8"
    assert server.requests[0].headers["last-event-id"] == "5"
    assert stream.wrong_ids == []


def test_the_stream_reports_where_it_stands() -> None:
    body = b"retry: 7\n\nid: a\ndata: x\n\n"
    replies = [Reply(body=body), Reply(status=204, headers=(), framing="length")]
    with EventServer(lambda request: replies[len(server.requests) - 1]) as server:
        source = connect(server.url_for("/s"), retry=1000)
        assert (source.url, source.retry, source.response) == (
            server.url_for("/s"),
            1000,
            None,
        )
        event = next(source)
        assert (event.id, event.data) == ("a", "x")
        assert source.retry == 7
        assert source.last_event_id == "a"
        assert isinstance(source.response, requests.Response)
        assert list(source) == []


def test_an_oversized_event_is_raised_not_retried() -> None:
    reply = Reply(body=b"data: " + b"x" * 100 + b"\n\n")
    with EventServer(lambda request: reply) as server, pytest.raises(EventTooLarge):
        list(connect(server.url, max_event_size=50, **FAST))
    assert len(server.requests) == 1


def test_logs_connects_drops_and_delays_and_prints_nothing(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = [Step(1, "mid-line"), Reply(status=500, headers=(), framing="length")]
    stream = NumberedStream(2, lambda n: steps[n] if n < len(steps) else Step(5))
    caplog.set_level(logging.DEBUG, logger="sseclient")
    with EventServer(stream) as server:
        assert numbers(list(connect(server.url, **FAST))) == [1, 2]
    messages = [r.getMessage() for r in caplog.records if r.name == "sseclient"]
    assert any(m.startswith("connecting to") and "'1'" in m for m in messages)
    assert any(m.startswith("connected to") for m in messages)
    assert any(" lost (" in m and "reconnecting in" in m for m in messages)
    assert any("answered 500" in m and "retrying in" in m for m in messages)
    assert any("204 No Content" in m for m in messages)
    assert capsys.readouterr() == ("", "")


# ---------------------------------------------------------------------------
# close()
# ---------------------------------------------------------------------------


class Consumer(threading.Thread):
    """Iterates a stream on its own thread, noting events and any error."""

    def __init__(self, source: sseclient.EventSource) -> None:
        super().__init__(daemon=True)
        self.source = source
        self.events: list[Event] = []
        self.first_event = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for event in self.source:
                self.events.append(event)
                self.first_event.set()
        except BaseException as exc:
            self.error = exc


def test_close_from_another_thread_stops_a_blocked_read() -> None:
    never = threading.Event()
    reply = Reply(body=numbered_events(1, 1)[0], hold=never)
    with EventServer(lambda request: reply) as server:
        consumer = Consumer(connect(server.url, timeout=None, **FAST))
        consumer.start()
        assert consumer.first_event.wait(5)
        consumer.source.close()
        consumer.join(5)  # a hang guard: close() must end the blocked read
        assert not consumer.is_alive()
        assert consumer.error is None
        assert numbers(consumer.events) == [1]
        assert len(server.requests) == 1
        assert consumer.source.closed


def test_close_from_another_thread_while_the_loop_is_busy_ends_it() -> None:
    never = threading.Event()
    reply = Reply(body=numbered_events(1, 3)[0], hold=never)
    resume = threading.Event()
    with EventServer(lambda request: reply) as server:
        source = connect(server.url, timeout=None, **FAST)
        got: list[Event] = []
        errors: list[BaseException] = []

        def consume() -> None:
            try:
                for event in source:
                    got.append(event)
                    resume.wait(5)  # busy with the event while close() runs
            except BaseException as exc:
                errors.append(exc)

        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        while not got and consumer.is_alive():
            time.sleep(0.001)
        source.close()
        resume.set()
        consumer.join(5)  # a hang guard: the loop must end at its next read
        assert not consumer.is_alive()
    assert errors == []
    # The events already read may still come; nothing after them does.
    assert numbers(got) in ([1], [1, 2], [1, 2, 3])
    assert len(server.requests) == 1


class Watch(logging.Handler):
    """Sets ``seen`` when a record's message contains ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()


def test_close_from_another_thread_stops_a_wait_before_reconnecting() -> None:
    reply = Reply(status=503, headers=(), framing="length")
    watch = Watch("retrying in 60.000 s")
    logging.getLogger("sseclient").addHandler(watch)
    try:
        with EventServer(lambda request: reply) as server:
            consumer = Consumer(connect(server.url, retry=60_000))
            consumer.start()
            assert watch.seen.wait(5)
            consumer.source.close()
            consumer.join(5)  # a hang guard: the 60 s wait must be cut short
            assert not consumer.is_alive()
    finally:
        logging.getLogger("sseclient").removeHandler(watch)
    assert consumer.error is None
    assert len(server.requests) == 1


def test_close_inside_the_loop_ends_it_and_closes_the_response() -> None:
    never = threading.Event()
    reply = Reply(body=numbered_events(1, 3)[0], hold=never)
    with EventServer(lambda request: reply) as server:
        source = connect(server.url, **FAST)
        got = []
        for event in source:
            got.append(event)
            response = source.response
            source.close()
        assert numbers(got) == [1]
        assert response is not None and response.raw.closed
        assert source.response is None
        assert len(server.requests) == 1


def test_leaving_the_with_block_closes_the_stream() -> None:
    never = threading.Event()
    reply = Reply(body=numbered_events(1, 3)[0], hold=never)
    with EventServer(lambda request: reply) as server:
        with connect(server.url, **FAST) as source:
            assert next(source).data == "1"
        assert source.closed
        assert list(source) == []


# ---------------------------------------------------------------------------
# SSEClient(url): sseclient 0.0.27's form
# ---------------------------------------------------------------------------


def test_sseclient_with_a_url_reconnects_like_connect() -> None:
    stream = NumberedStream(9, lambda n: Step(2, "mid-event"))
    stream.sent_whole = 3
    with EventServer(stream) as server:
        client = SSEClient(server.url, last_id="3", retry=1, headers={"X-A": "b"})
        assert (client.last_id, client.retry) == ("3", 1)
        first = next(client)
        rest = list(client)
    assert numbers([first, *rest]) == list(range(4, 10))
    assert client.last_id == client.last_event_id == "9"
    assert stream.wrong_ids == []
    assert all(r.headers["x-a"] == "b" for r in server.requests)


def test_sseclient_takes_0027_positional_arguments() -> None:
    stream = NumberedStream(4, lambda n: Step(2, "between-events"))
    stream.sent_whole = 1
    session = requests.Session()
    with EventServer(stream) as server:
        client = SSEClient(server.url, "1", 1, session, 4096, timeout=5)
        assert [msg.data for msg in client] == ["2", "3", "4"]
        client.close()
    session.close()
    assert server.requests[0].headers["last-event-id"] == "1"


def test_sseclient_with_a_url_raises_the_same_errors() -> None:
    reply = Reply(status=404, headers=(), framing="length")
    with EventServer(lambda request: reply) as server, pytest.raises(HTTPStatusError):
        list(SSEClient(server.url).events())


def test_nothing_is_printed_when_the_application_has_not_configured_logging() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = (
        "import sseclient\n"
        "try:\n"
        f"    list(sseclient.connect('http://127.0.0.1:{port}/', max_attempts=2,"
        " retry=1, max_retry_delay=5))\n"
        "except sseclient.RetriesExhausted:\n"
        "    pass\n"
    )
    root = Path(sseclient.__file__).parent
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, timeout=30
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
