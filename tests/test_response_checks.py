"""SSEClient and AsyncSSEClient judge the HTTP response they are given, at
construction: a status outside 2xx raises `HTTPStatusError` (quoting the
start of the body), a 2xx that is not ``text/event-stream`` warns with
`ContentTypeWarning` and is parsed on, an event stream reads as before.

Each library opens a real response from `servers.SSEServer` (sync) or
`servers.AsyncSSEServer` (async) on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import urllib.parse
import urllib.request
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any, Callable

import aiohttp
import httpx
import pytest
import requests
import urllib3
from servers import AsyncSSEServer, Response, SSEServer, status_only

from sseclient import (
    AsyncSSEClient,
    ContentTypeWarning,
    HTTPStatusError,
    SSEClient,
    SSEError,
)

TIMEOUT = 5.0

Opener = Callable[[str, contextlib.ExitStack], Any]


def open_requests(url: str, stack: contextlib.ExitStack) -> Any:
    response = requests.get(url, stream=True, timeout=TIMEOUT)
    stack.callback(response.close)
    return response


def open_urllib3(url: str, stack: contextlib.ExitStack) -> Any:
    pool = stack.enter_context(urllib3.PoolManager(retries=False, timeout=TIMEOUT))
    return pool.request("GET", url, preload_content=False)


def open_http_client(url: str, stack: contextlib.ExitStack) -> Any:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    stack.callback(connection.close)
    connection.request("GET", parts.path)
    return connection.getresponse()


def open_httpx(url: str, stack: contextlib.ExitStack) -> Any:
    client = stack.enter_context(httpx.Client(timeout=TIMEOUT))
    return stack.enter_context(client.stream("GET", url))


def open_urlopen(url: str, stack: contextlib.ExitStack) -> Any:
    response = urllib.request.urlopen(url, timeout=TIMEOUT)
    stack.callback(response.close)
    return response


OPENERS: dict[str, Opener] = {
    "requests": open_requests,
    "urllib3": open_urllib3,
    "http.client": open_http_client,
    "httpx": open_httpx,
}


@pytest.fixture
def stack() -> Iterator[contextlib.ExitStack]:
    with contextlib.ExitStack() as stack:
        yield stack


API_ERROR = b'{"error": {"message": "invalid API key", "code": "\x1b[31mE401"}}'


def status_code(response: Any) -> int:
    return int(getattr(response, "status_code", None) or response.status)


# ---------------------------------------------------------------------------
# SSEClient
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("library", OPENERS)
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_an_error_status_raises_with_the_body(
    library: str, framing: str, stack: contextlib.ExitStack
) -> None:
    reply = Response([API_ERROR], framing, 401, (("Content-Type", "application/json"),))
    server = stack.enter_context(SSEServer(reply))
    response = OPENERS[library](server.url, stack)
    with pytest.raises(HTTPStatusError) as info:
        SSEClient(response)
    error = info.value
    assert isinstance(error, SSEError)
    assert (error.status_code, error.response) == (401, response)
    message = str(error)
    assert "401 Unauthorized" in message
    assert '"message": "invalid API key"' in message
    # The terminal escape in the body is shown, not sent to the terminal.
    assert "\x1b" not in message
    assert "\\x1b[31mE401" in message


def test_requests_keeps_a_small_error_body_for_the_caller(
    stack: contextlib.ExitStack,
) -> None:
    server = stack.enter_context(SSEServer(status_only(403, body=b"go away")))
    response = open_requests(server.url, stack)
    with pytest.raises(HTTPStatusError):
        SSEClient(response)
    assert response.text == "go away"


@pytest.mark.parametrize("library", OPENERS)
def test_a_long_error_body_is_cut(library: str, stack: contextlib.ExitStack) -> None:
    body = b"<html>" + b"x\r\n" * 2000 + b"</html>"
    server = stack.enter_context(SSEServer(status_only(500, body=body)))
    with pytest.raises(HTTPStatusError) as info:
        SSEClient(OPENERS[library](server.url, stack))
    message = str(info.value)
    assert message.endswith("...")
    assert "<html>x\\r\\nx\\r\\n" in message
    assert len(message) < 400


@pytest.mark.parametrize("library", [*OPENERS, "urlopen"])
def test_another_content_type_warns_and_is_parsed(
    library: str, stack: contextlib.ExitStack
) -> None:
    opener = {**OPENERS, "urlopen": open_urlopen}[library]
    plain = (("Content-Type", "text/plain"),)
    reply = Response([b"data: one\n\n", b"data: two\n\n"], headers=plain)
    server = stack.enter_context(SSEServer(reply))
    response = opener(server.url, stack)
    with pytest.warns(ContentTypeWarning, match="'text/plain'") as record:
        client = SSEClient(response)
    assert record[0].filename == __file__  # it points at the caller's line
    assert issubclass(ContentTypeWarning, (SSEError, UserWarning))
    assert [e.data for e in client] == ["one", "two"]


@pytest.mark.parametrize("library", [*OPENERS, "urlopen"])
def test_an_event_stream_reads_without_a_warning(
    library: str, stack: contextlib.ExitStack
) -> None:
    opener = {**OPENERS, "urlopen": open_urlopen}[library]
    server = stack.enter_context(SSEServer(Response([b"id: 1\ndata: x\n\n"])))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client = SSEClient(opener(server.url, stack))
        assert [(e.id, e.data) for e in client] == [("1", "x")]


def test_a_2xx_other_than_200_is_read(stack: contextlib.ExitStack) -> None:
    reply = Response([b"data: x\n\n"], status=203)
    server = stack.enter_context(SSEServer(reply))
    response = open_requests(server.url, stack)
    assert response.status_code == 203
    assert [e.data for e in SSEClient(response)] == ["x"]


# ---------------------------------------------------------------------------
# AsyncSSEClient
# ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def async_response(library: str, url: str) -> AsyncIterator[Any]:
    if library == "aiohttp":
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            yield response
        return
    async with (
        httpx.AsyncClient(timeout=TIMEOUT) as client,
        client.stream("GET", url) as response,
    ):
        yield response


async def read_body(response: Any) -> None:
    if isinstance(response, httpx.Response):
        await response.aread()
    else:
        await response.read()


@pytest.mark.parametrize("library", ["httpx", "aiohttp"])
@pytest.mark.parametrize("read_first", [False, True], ids=["unread", "read"])
async def test_async_error_status_raises_at_construction(
    library: str, read_first: bool
) -> None:
    reply = status_only(429, (("Content-Type", "application/json"),), API_ERROR)
    async with (
        AsyncSSEServer(reply) as server,
        async_response(library, server.url) as response,
    ):
        if read_first:
            await read_body(response)
        with pytest.raises(HTTPStatusError) as info:
            AsyncSSEClient(response)
    error = info.value
    assert (error.status_code, error.response) == (429, response)
    assert "429 Too Many Requests" in str(error)
    # The constructor cannot wait for the body: it is quoted once read.
    assert ("invalid API key" in str(error)) == read_first
    assert "\x1b" not in str(error)


@pytest.mark.parametrize("library", ["httpx", "aiohttp"])
async def test_async_content_type_warns_and_is_parsed(library: str) -> None:
    reply = Response([b"data: one\n\n"], headers=(("Content-Type", "text/html"),))
    async with (
        AsyncSSEServer(reply) as server,
        async_response(library, server.url) as response,
    ):
        with pytest.warns(ContentTypeWarning, match="text/html") as record:
            client = AsyncSSEClient(response)
        assert record[0].filename == __file__
        assert [e.data async for e in client] == ["one"]


@pytest.mark.parametrize("library", ["httpx", "aiohttp"])
async def test_async_event_stream_reads_without_a_warning(library: str) -> None:
    async with (
        AsyncSSEServer(Response([b"data: one\n\n"])) as server,
        async_response(library, server.url) as response,
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            client = AsyncSSEClient(response)
            assert [e.data async for e in client] == ["one"]
