"""Reconnecting streams: the policy that `sseclient.connect` and
`sseclient.aconnect` share, what only `connect` has, and `SSEClient(url)`.

The policy tests drive the sans-I/O `_Reconnection` directly; the rest run
`connect` with real requests against `SSEServer`, which numbers events,
resumes after ``Last-Event-ID`` and drops connections where a test says.
The scenarios that `connect` and `aconnect` share are run over both in
test_connect_and_aconnect.py.
"""

from __future__ import annotations

import email.utils
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from drivers import FAST, numbers
from servers import (
    NO_CONTENT,
    NumberedStream,
    Request,
    Response,
    SSEServer,
    Step,
    status_only,
)

import sseclient
from sseclient import (
    ContentTypeError,
    Event,
    EventStreamParser,
    HTTPStatusError,
    ResponseError,
    RetriesExhausted,
    SSEClient,
    SSEError,
    connect,
)

URL = "http://example.invalid/stream"


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
# connect() only (the scenarios that aconnect() shares are in
# test_connect_and_aconnect.py)
# ---------------------------------------------------------------------------


def test_503_retry_after_is_waited_for() -> None:
    arrivals: list[float] = []
    replies = [
        status_only(503, (("Retry-After", "1"),)),
        Response([b"data: x\n\n"]),
        NO_CONTENT,
    ]

    def handler(request: Request) -> Response:
        arrivals.append(time.monotonic())
        return replies[len(arrivals) - 1]

    with SSEServer(handler) as server:
        assert [e.data for e in connect(server.url, **FAST)] == ["x"]
    assert arrivals[1] - arrivals[0] >= 0.95


# ---------------------------------------------------------------------------
# SSEClient(url): sseclient 0.0.27's form
# ---------------------------------------------------------------------------


def test_sseclient_with_a_url_reconnects_like_connect() -> None:
    stream = NumberedStream(9, lambda n: Step(2, "mid-event"))
    stream.sent_whole = 3
    with SSEServer(stream) as server:
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
    with SSEServer(stream) as server:
        client = SSEClient(server.url, "1", 1, session, 4096, timeout=5)
        assert [msg.data for msg in client] == ["2", "3", "4"]
        client.close()
    session.close()
    assert server.requests[0].headers["last-event-id"] == "1"


def test_sseclient_with_a_url_raises_the_same_errors() -> None:
    with SSEServer(status_only(404)) as server, pytest.raises(HTTPStatusError):
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
