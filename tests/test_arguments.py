"""Every public constructor, `connect` and `aconnect` check their arguments
at the call: a wrong argument raises there, naming the argument and what it
accepts, instead of failing later (at the first request, or deep in a
read).  Nothing is sent for a call that fails its checks."""

from __future__ import annotations

import io
from typing import Any, Callable

import pytest
from servers import Response, SSEServer

from sseclient import (
    AsyncSSEClient,
    EventStreamParser,
    SSEClient,
    aconnect,
    connect,
)

URL = "http://127.0.0.1:9/stream"

# (what is called, the error, words the message must hold)
Case = tuple[Callable[[], Any], type[Exception], str]

CASES: dict[str, Case] = {
    # SSEClient's source
    "SSEClient(None)": (lambda: SSEClient(None), TypeError, "event_source: expected"),
    "SSEClient(42)": (lambda: SSEClient(42), TypeError, "not int"),
    "SSEClient(text)": (
        lambda: SSEClient("data: x\n\n"),
        ValueError,
        "url: unsupported scheme",
    ),
    "SSEClient(ftp)": (
        lambda: SSEClient("ftp://x/"),
        ValueError,
        "http:// or https://",
    ),
    # the parser's options, through each constructor
    "SSEClient char_enc": (
        lambda: SSEClient(b"", "no-such-codec"),
        LookupError,
        "char_enc: unknown",
    ),
    "SSEClient char_enc type": (
        lambda: SSEClient(b"", 8),
        TypeError,
        "char_enc: expected",
    ),
    "SSEClient max_event_size -1": (
        lambda: SSEClient(b"", max_event_size=-1),
        ValueError,
        "max_event_size: expected an int of at least 1, or None",
    ),
    "SSEClient max_event_size x": (
        lambda: SSEClient(b"", max_event_size="x"),
        TypeError,
        "max_event_size",
    ),
    "AsyncSSEClient char_enc": (
        lambda: AsyncSSEClient(aiter_of(b""), "nope"),
        LookupError,
        "char_enc",
    ),
    "AsyncSSEClient max_event_size": (
        lambda: AsyncSSEClient(aiter_of(b""), max_event_size=0),
        ValueError,
        "max_event_size",
    ),
    "AsyncSSEClient(bytes)": (
        lambda: AsyncSSEClient(b"data: x\n\n"),
        TypeError,
        "source: expected an async iterable",
    ),
    "parser char_enc": (lambda: EventStreamParser("klingon"), LookupError, "char_enc"),
    "parser max_event_size": (
        lambda: EventStreamParser(max_event_size=-1),
        ValueError,
        "max_event_size",
    ),
    "parser max_event_size bool": (
        lambda: EventStreamParser(max_event_size=True),
        TypeError,
        "max_event_size",
    ),
    "parser last_event_id": (
        lambda: EventStreamParser(last_event_id=5),
        TypeError,
        "last_event_id",
    ),
    # SSEClient(url, ...), sseclient 0.0.27's form
    "SSEClient(url, bogus=)": (lambda: SSEClient(URL, bogus=1), TypeError, "'bogus'"),
    "SSEClient(url, retry=x)": (
        lambda: SSEClient(URL, retry="x"),
        TypeError,
        "retry: expected a number of milliseconds",
    ),
    "SSEClient(url, last_id=1)": (lambda: SSEClient(URL, 1), TypeError, "last_id"),
}


def aiter_of(*chunks: bytes) -> Any:
    async def chunks_() -> Any:
        for chunk in chunks:
            yield chunk

    return chunks_()


STREAM_CASES: dict[str, tuple[dict[str, Any], type[Exception], str]] = {
    "url None": ({"url": None}, TypeError, "url: expected an http:// or https:// URL"),
    "url ftp": ({"url": "ftp://example.com/"}, ValueError, "url: unsupported scheme"),
    "url relative": ({"url": "/stream"}, ValueError, "url: unsupported scheme"),
    "bogus option": ({"bogus": 1}, TypeError, "'bogus'"),
    "stream option": ({"stream": False}, TypeError, "'stream'"),
    "timeout str": ({"timeout": "x"}, TypeError, "timeout: expected seconds"),
    "timeout 0": ({"timeout": 0}, ValueError, "timeout"),
    "timeout triple": ({"timeout": (1, 2, 3)}, ValueError, "timeout"),
    "timeout part": ({"timeout": (1, "2")}, TypeError, "timeout"),
    "retry str": ({"retry": "3000"}, TypeError, "retry: expected a number"),
    "retry negative": ({"retry": -1}, ValueError, "retry"),
    "max_retry_delay": ({"max_retry_delay": None}, TypeError, "max_retry_delay"),
    "max_attempts 0": (
        {"max_attempts": 0},
        ValueError,
        "max_attempts: expected an int of at least 1, or None",
    ),
    "max_attempts float": ({"max_attempts": 2.5}, TypeError, "max_attempts"),
    "max_event_size": ({"max_event_size": -1}, ValueError, "max_event_size"),
    "last_event_id": ({"last_event_id": 7}, TypeError, "last_event_id"),
    "headers": ({"headers": ["Accept: x"]}, TypeError, "headers: expected a mapping"),
    "method": ({"method": None}, TypeError, "method"),
    "data iterator": (
        {"data": iter([b"x"])},
        TypeError,
        "data: expected bytes, str or a dict",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_constructors_check_their_arguments(case: str) -> None:
    call, error, words = CASES[case]
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


@pytest.mark.parametrize("case", STREAM_CASES)
@pytest.mark.parametrize("function", [connect, aconnect], ids=["connect", "aconnect"])
def test_connect_and_aconnect_check_at_the_call(
    function: Callable[..., Any], case: str
) -> None:
    changes, error, words = STREAM_CASES[case]
    with SSEServer(Response([b"data: x\n\n"])) as server:
        arguments = {"url": server.url, **changes}
        with pytest.raises(error) as info:
            function(**arguments)  # no iteration: the call itself raises
        assert server.requests == []
    assert words in str(info.value)


def test_each_library_takes_its_own_options() -> None:
    # httpx's names are refused by connect (requests), and the other way round.
    with pytest.raises(TypeError, match="'follow_redirects'"):
        connect(URL, follow_redirects=True)
    with pytest.raises(TypeError, match="'allow_redirects'"):
        aconnect(URL, allow_redirects=True)


def test_options_that_pass_the_checks_reach_the_server() -> None:
    with SSEServer(Response([b"data: x\n\n"])) as server:
        stream = connect(
            server.url,
            params={"a": "1"},
            allow_redirects=False,
            timeout=(5, None),
            retry=0.5,
            max_attempts=None,
            reconnect=False,
        )
        assert [e.data for e in stream] == ["x"]
    assert server.requests[0].target == "/?a=1"


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_bytes_are_a_whole_stream(kind: Callable[[bytes], Any]) -> None:
    client = SSEClient(kind(b"id: 1\ndata: a\n\ndata: b\n\ndata: cut"))
    assert [(e.id, e.data) for e in client] == [("1", "a"), ("1", "b")]


def test_a_binary_file_is_still_read() -> None:
    client = SSEClient(io.BytesIO(b"data: a\n\n"))
    assert [e.data for e in client] == ["a"]
