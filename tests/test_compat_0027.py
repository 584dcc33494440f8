"""sseclient 0.0.27's API: ``Event.parse``, ``SSEClient(url, ...)`` making its
first request in the constructor through ``requests.get`` (or
``session.get``), and ``sseclient.requests``.

The servers are real (`servers.SSEServer` on 127.0.0.1); where a test needs
to see how ``requests.get`` is called, it wraps the real function and
records the calls, as a user's test that patches ``requests.get`` would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from servers import (
    EVENT_STREAM,
    HoldOpen,
    NumberedStream,
    Request,
    Response,
    SSEServer,
    Step,
    cut_off,
    status_only,
)

import sseclient
from sseclient import (
    ContentTypeWarning,
    Event,
    EventStreamParser,
    HTTPStatusError,
    SSEClient,
)

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------
# Event.parse
# ---------------------------------------------------------------------------

ROUND_TRIPS = [
    Event("abc", "salutation", "hi there\nsecond line", 10000),
    Event(None, "message", "plain"),
    Event("", "message", "an empty id resets it"),
    Event("7", "update", "", None),
    Event(None, "message", "\n\nblank lines inside\n"),
    Event("x", "message", "data: that looks like a field"),
]


@pytest.mark.parametrize("event", ROUND_TRIPS, ids=repr)
def test_parse_inverts_dump(event: Event) -> None:
    assert Event.parse(event.dump()) == event


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("data", Event(None, "message", "", None)),
        ("data:hi", Event(None, "message", "hi", None)),
        ("data:  two spaces", Event(None, "message", " two spaces", None)),
        (":a comment\ndata: x", Event(None, "message", "x", None)),
        ("data: a\ndata\ndata: b", Event(None, "message", "a\n\nb", None)),
        ("event: hello\r\ndata: eol\r\n", Event(None, "hello", "eol", None)),
        ("event: hello\rdata: eol\r", Event(None, "hello", "eol", None)),
        ("event:\ndata: x", Event(None, "message", "x", None)),
        ("retry: 4000\ndata: x", Event(None, "message", "x", 4000)),
        ("retry: 12a\ndata: x", Event(None, "message", "x", None)),
        ("retry: -5\ndata: x", Event(None, "message", "x", None)),
        ("id: 1\nid: a\0b\ndata: x", Event("1", "message", "x", None)),
        ("id: 1\n\ndata: x\n\n", Event("1", "message", "x", None)),
        ("data: \u2028 and \x0b", Event(None, "message", "\u2028 and \x0b", None)),
        ("", Event(None, "message", "", None)),
    ],
)  # fmt: skip
def test_parse_reads_a_block_by_the_spec_rules(raw: str, expected: Event) -> None:
    assert Event.parse(raw) == expected


@pytest.mark.parametrize(
    "block",
    [
        "id: 5\nevent: tick\ndata: a\ndata: b\nretry: 250",
        "data:x\r\n: comment\r\nevent: e\r\nid: 9",
        "data\ndata: \ndata:  y",
        "retry: 1\nretry: zz\ndata: last valid retry wins",
    ],
)
def test_parse_agrees_with_the_stream_parser(block: str) -> None:
    [streamed] = EventStreamParser().feed(block.encode() + b"\n\n")
    assert Event.parse(block) == streamed


def test_parse_takes_text_only() -> None:
    with pytest.raises(TypeError, match="raw: expected the text of an event"):
        Event.parse(b"data: x")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# SSEClient(url): the first request is made by the constructor
# ---------------------------------------------------------------------------


class RecordedGet:
    """``requests.get`` wrapped: each call's arguments recorded, the real
    function called."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((args, kwargs))
        return self.real(*args, **kwargs)


@pytest.fixture
def recorded_get(monkeypatch: pytest.MonkeyPatch) -> RecordedGet:
    get = RecordedGet(requests.get)
    monkeypatch.setattr(requests, "get", get)
    return get


def test_the_constructor_sends_the_request(recorded_get: RecordedGet) -> None:
    with SSEServer(Response([b"id: 1\ndata: one\n\n"])) as server:
        client = SSEClient(server.url, params={"q": "1"})
        # Before any iteration, the server has the request.
        assert len(server.requests) == 1
        [(args, kwargs)] = recorded_get.calls
        assert args == (server.url,)
        assert kwargs == {
            "headers": {"Accept": "text/event-stream", "Cache-Control": "no-cache"},
            "stream": True,
            "params": {"q": "1"},
        }
        assert client.resp is not None and client.resp.status_code == 200
        assert next(client).data == "one"
        client.close()
    assert server.requests[0].target == "/?q=1"


def test_reconnections_go_through_requests_get(recorded_get: RecordedGet) -> None:
    stream = NumberedStream(4, lambda n: Step(2, "mid-event"))
    with SSEServer(stream) as server:
        client = SSEClient(server.url, retry=1, headers={"X-Token": "t"})
        assert [e.data for e in client] == ["1", "2", "3", "4"]
    assert stream.wrong_ids == []
    # Every request, the constructor's and each reconnection's, was a
    # requests.get looked up when it was made.
    assert len(recorded_get.calls) == len(server.requests) >= 3
    sent = [kwargs["headers"] for _, kwargs in recorded_get.calls]
    assert all(h["X-Token"] == "t" and h["Accept"] == "text/event-stream" for h in sent)
    assert "Last-Event-ID" not in sent[0]
    assert [h.get("Last-Event-ID") for h in sent[1:3]] == ["2", "4"]


def test_a_session_makes_the_requests_with_its_cookies() -> None:
    session = requests.Session()
    session.cookies.set("foo", "bar")
    first = b"id: 1\ndata: a\n\n"
    replies = [cut_off(first, len(first)), Response([b"data: b\n\n"])]
    with SSEServer(replies) as server:
        client = SSEClient(server.url, session=session, retry=1)
        assert server.requests[0].headers["cookie"] == "foo=bar"
        assert [e.data for e in client] == ["a", "b"]
    session.close()
    assert [r.headers.get("cookie") for r in server.requests] == ["foo=bar"] * 3
    assert server.requests[1].headers["last-event-id"] == "1"


def test_an_error_status_is_raised_by_the_constructor() -> None:
    body = b'{"error": "invalid API key"}'
    reply = status_only(401, (("Content-Type", "application/json"),), body)
    with SSEServer(reply) as server, pytest.raises(HTTPStatusError) as info:
        SSEClient(server.url)
    assert info.value.status_code == 401
    assert info.value.response.json() == {"error": "invalid API key"}
    assert "401 Unauthorized" in str(info.value)
    assert "invalid API key" in str(info.value)
    assert len(server.requests) == 1


def test_a_server_error_at_the_first_request_is_not_retried() -> None:
    with SSEServer(status_only(503)) as server, pytest.raises(HTTPStatusError):
        SSEClient(server.url, retry=1)
    assert len(server.requests) == 1


def test_a_refused_connection_raises_requests_error_at_construction() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(requests.ConnectionError):
        SSEClient(f"http://127.0.0.1:{port}/")


def test_another_content_type_warns_and_is_read() -> None:
    reply = Response([b"data: x\n\n"], headers=(("Content-Type", "text/plain"),))
    with SSEServer([reply]) as server:
        with pytest.warns(ContentTypeWarning, match="text/plain") as record:
            client = SSEClient(server.url)
        assert record[0].filename == __file__
        assert next(client).data == "x"
        client.close()


def test_an_unknown_argument_fails_before_any_request() -> None:
    with SSEServer(Response([b"data: x\n\n"])) as server:
        with pytest.raises(TypeError, match=r"'bogus'.*requests\.get"):
            SSEClient(server.url, bogus=1)
        assert server.requests == []


def test_a_response_without_headers_is_read_as_0027_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A test double of a response, as sseclient 0.0.27's users write them:
    a status and a body, no headers."""

    class Double:
        status_code = 200
        headers = None

        def __init__(self, body: bytes) -> None:
            import io

            self.raw = io.BytesIO(body)

        def iter_content(self, chunk_size: int = 1024) -> Any:
            return self.raw

    calls: list[Any] = []

    def get(url: str, **kwargs: Any) -> Double:
        calls.append(kwargs["headers"])
        return Double(b"id: 1\ndata: one\n\ndata: two\n\n")

    monkeypatch.setattr(requests, "get", get)
    client = SSEClient("http://127.0.0.1:9/")
    assert [e.data for e in (next(client), next(client))] == ["one", "two"]
    assert client.last_id == "1"
    assert len(calls) == 1


# ---------------------------------------------------------------------------
# sseclient.requests
# ---------------------------------------------------------------------------


def test_sseclient_requests_is_the_requests_module() -> None:
    assert sseclient.requests is requests
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        sseclient.nothing  # type: ignore[attr-defined]  # noqa: B018


def test_importing_sseclient_imports_no_http_library() -> None:
    code = (
        "import sys, sseclient\n"
        "http = ('requests', 'urllib3', 'httpx')\n"
        "print(sorted(m for m in http if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert done.stdout == "[]\n"
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()]
    assert "sseclient" in imported
    assert not [m for m in imported if m.split(".")[0] == "requests"]


def test_0027_arguments_after_the_first_request(recorded_get: RecordedGet) -> None:
    def handler(request: Request) -> Response:
        return Response([b"data: x\n\n"], headers=EVENT_STREAM)

    with SSEServer(handler) as server:
        client = SSEClient(server.url, "41", 2000, None, 51, timeout=5)
        [(_, kwargs)] = recorded_get.calls
        assert kwargs["timeout"] == 5
        assert kwargs["headers"]["Last-Event-ID"] == "41"
        assert (client.last_id, client.retry) == ("41", 2000)
        client.close()


def test_closing_before_reading_closes_the_first_response() -> None:
    with SSEServer(Response([b"data: x\n\n", HoldOpen()])) as server:
        client = SSEClient(server.url)
        assert len(server.requests) == 1
        client.close()
        assert server.hung_up.wait(5)
    assert list(client) == []
