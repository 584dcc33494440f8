"""End-to-end worker: read one event stream over HTTP with one client, once.

Run by ``bench_e2e.py``, a fresh process for every timed run, with the
python of the client's venv.  It imports the client's libraries, then times
everything a user's code does to read the stream: making the client or
session, the request, and the loop over the events, which counts them and
adds up the length of their data; the clock stops at the expected last event
(the reconnecting clients would otherwise go on to reconnect).  It answers
with one JSON line on stdout::

    {"kind": "result", "seconds": ..., "cpu": ..., "first": ...,
     "events": ..., "chars": ..., "version": ...}
    {"kind": "n/a", "why": ...}        # the client is not supported here
    {"kind": "error", "stage": ..., "error": ...}

``first`` is the time from the start to the first event, ``cpu`` the
process's CPU time over the same span as ``seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import socket
import sys
import time
import traceback
import urllib.parse
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness


class NotSupported(Exception):
    """The client cannot run here (an API this sseclient.py lacks)."""


@dataclass(frozen=True)
class Client:
    """A way of reading the stream."""

    name: str
    venv: str | None  # peer venv; None: ours (or the raw floor)
    dists: tuple[str, ...]  # distributions whose versions the report gives
    how: str  # one line: what exactly is timed


CLIENTS: dict[str, Client] = {
    c.name: c
    for c in (
        Client("raw.recv", None, (), "socket recv(65536) until the server closes"),
        Client(
            "ours.requests",
            None,
            ("requests",),
            "SSEClient(requests.get(url, stream=True))",
        ),
        Client(
            "ours.urllib3",
            None,
            ("urllib3",),
            'SSEClient(PoolManager().request("GET", url, preload_content=False))',
        ),
        Client(
            "ours.http.client",
            None,
            (),
            "SSEClient(HTTPConnection(host).getresponse())",
        ),
        Client(
            "ours.httpx",
            None,
            ("httpx",),
            'SSEClient(r), r from httpx.Client().stream("GET", url)',
        ),
        Client("ours.connect", None, ("requests",), "sseclient.connect(url)"),
        Client(
            "ours.aconnect",
            None,
            ("httpx",),
            "async for in sseclient.aconnect(url) (its own httpx.AsyncClient)",
        ),
        Client(
            "ours.aconnect.aiohttp",
            None,
            ("aiohttp",),
            "async for in sseclient.aconnect(url, client=aiohttp.ClientSession())",
        ),
        Client(
            "ours.async.httpx",
            None,
            ("httpx",),
            'AsyncSSEClient(r), r from httpx.AsyncClient().stream("GET", url)',
        ),
        Client(
            "ours.async.aiohttp",
            None,
            ("aiohttp",),
            "AsyncSSEClient(r), r from aiohttp.ClientSession().get(url)",
        ),
        Client(
            "sseclient-py",
            "sseclient-py",
            ("sseclient-py", "requests"),
            "sseclient.SSEClient(requests.get(url, stream=True)).events()",
        ),
        Client(
            "sseclient-0.0.27",
            "sseclient-0.0.27",
            ("sseclient", "requests"),
            "for in sseclient.SSEClient(url)",
        ),
        Client(
            "httpx-sse",
            "httpx-sse",
            ("httpx-sse", "httpx"),
            'connect_sse(httpx.Client(), "GET", url).iter_sse()',
        ),
        Client(
            "httpx-sse.async",
            "httpx-sse",
            ("httpx-sse", "httpx"),
            'aconnect_sse(httpx.AsyncClient(), "GET", url).aiter_sse()',
        ),
        Client(
            "ld-eventsource",
            "launchdarkly-eventsource",
            ("launchdarkly-eventsource", "urllib3"),
            "ld_eventsource.SSEClient(url).events",
        ),
    )
}

#: (url, events expected) -> (events, chars, seconds to the first event)
Run = Callable[[str, int], "tuple[int, int, float]"]

_START = 0.0  # perf_counter at the start of the timed run


def _consume(events: Iterable[Any], expected: int) -> tuple[int, int, float]:
    """Count the events and their data's characters, up to ``expected``."""
    n = chars = 0
    first = 0.0
    for event in events:
        if not n:
            first = time.perf_counter() - _START
        n += 1
        chars += len(event.data)
        if n == expected:
            break
    return n, chars, first


async def _aconsume(
    events: AsyncIterable[Any], expected: int
) -> tuple[int, int, float]:
    n = chars = 0
    first = 0.0
    async for event in events:
        if not n:
            first = time.perf_counter() - _START
        n += 1
        chars += len(event.data)
        if n == expected:
            break
    return n, chars, first


def _raw() -> Run:
    def run(url: str, expected: int) -> tuple[int, int, float]:
        parts = urllib.parse.urlsplit(url)
        request = f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        request += "Connection: close\r\n\r\n"
        received = 0
        first = 0.0
        with socket.create_connection((parts.hostname, parts.port)) as sock:
            sock.sendall(request.encode())
            recv = sock.recv
            while data := recv(65536):
                if not received:
                    first = time.perf_counter() - _START
                received += len(data)
        return 0, received, first

    return run


def _ours_requests(sseclient: Any) -> Run:
    import requests

    def run(url: str, expected: int) -> tuple[int, int, float]:
        with requests.get(url, stream=True) as response:
            return _consume(sseclient.SSEClient(response), expected)

    return run


def _ours_urllib3(sseclient: Any) -> Run:
    import urllib3

    def run(url: str, expected: int) -> tuple[int, int, float]:
        http = urllib3.PoolManager()
        response = http.request("GET", url, preload_content=False)
        try:
            return _consume(sseclient.SSEClient(response), expected)
        finally:
            response.release_conn()

    return run


def _ours_http_client(sseclient: Any) -> Run:
    import http.client

    def run(url: str, expected: int) -> tuple[int, int, float]:
        parts = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(parts.netloc)
        connection.request("GET", parts.path)
        try:
            return _consume(sseclient.SSEClient(connection.getresponse()), expected)
        finally:
            connection.close()

    return run


def _ours_httpx(sseclient: Any) -> Run:
    import httpx

    def run(url: str, expected: int) -> tuple[int, int, float]:
        with httpx.Client(timeout=None) as client, client.stream("GET", url) as r:
            return _consume(sseclient.SSEClient(r), expected)

    return run


def _ours_connect(sseclient: Any) -> Run:
    import requests  # noqa: F401  (imported before the clock starts)

    def run(url: str, expected: int) -> tuple[int, int, float]:
        with sseclient.connect(url) as stream:
            return _consume(stream, expected)

    return run


def _ours_aconnect(sseclient: Any) -> Run:
    import httpx  # noqa: F401  (imported before the clock starts)

    async def read(url: str, expected: int) -> tuple[int, int, float]:
        async with sseclient.aconnect(url) as stream:
            return await _aconsume(stream, expected)

    return lambda url, expected: asyncio.run(read(url, expected))


def _ours_aconnect_aiohttp(sseclient: Any) -> Run:
    import aiohttp

    async def read(url: str, expected: int) -> tuple[int, int, float]:
        async with aiohttp.ClientSession() as session:
            try:
                stream = sseclient.aconnect(url, client=session)
                async with stream:
                    return await _aconsume(stream, expected)
            except (TypeError, AttributeError, NotImplementedError) as exc:
                # aconnect takes an httpx.AsyncClient only.
                raise NotSupported(f"{type(exc).__name__}: {exc}") from exc

    return lambda url, expected: asyncio.run(read(url, expected))


def _ours_async_httpx(sseclient: Any) -> Run:
    import httpx

    async def read(url: str, expected: int) -> tuple[int, int, float]:
        client = httpx.AsyncClient(timeout=None)
        async with client, client.stream("GET", url) as response:
            return await _aconsume(sseclient.AsyncSSEClient(response), expected)

    return lambda url, expected: asyncio.run(read(url, expected))


def _ours_async_aiohttp(sseclient: Any) -> Run:
    import aiohttp

    async def read(url: str, expected: int) -> tuple[int, int, float]:
        timeout = aiohttp.ClientTimeout(total=None)
        session = aiohttp.ClientSession(timeout=timeout)
        async with session, session.get(url) as response:
            return await _aconsume(sseclient.AsyncSSEClient(response), expected)

    return lambda url, expected: asyncio.run(read(url, expected))


def _sseclient_py() -> Run:
    import requests

    import sseclient

    def run(url: str, expected: int) -> tuple[int, int, float]:
        headers = {"Accept": "text/event-stream"}
        with requests.get(url, stream=True, headers=headers) as response:
            return _consume(sseclient.SSEClient(response).events(), expected)

    return run


def _sseclient_0027() -> Run:
    import sseclient

    def run(url: str, expected: int) -> tuple[int, int, float]:
        client = sseclient.SSEClient(url)
        try:
            return _consume(client, expected)
        finally:
            client.resp.close()

    return run


def _httpx_sse() -> Run:
    import httpx
    from httpx_sse import connect_sse

    def run(url: str, expected: int) -> tuple[int, int, float]:
        client = httpx.Client(timeout=None)
        with client, connect_sse(client, "GET", url) as source:
            return _consume(source.iter_sse(), expected)

    return run


def _httpx_sse_async() -> Run:
    import httpx
    from httpx_sse import aconnect_sse

    async def read(url: str, expected: int) -> tuple[int, int, float]:
        client = httpx.AsyncClient(timeout=None)
        async with client, aconnect_sse(client, "GET", url) as source:
            return await _aconsume(source.aiter_sse(), expected)

    return lambda url, expected: asyncio.run(read(url, expected))


def _ld_eventsource() -> Run:
    from ld_eventsource import SSEClient

    def run(url: str, expected: int) -> tuple[int, int, float]:
        client = SSEClient(url)
        try:
            return _consume(client.events, expected)
        finally:
            client.close()

    return run


OURS: dict[str, Callable[[Any], Run]] = {
    "ours.requests": _ours_requests,
    "ours.urllib3": _ours_urllib3,
    "ours.http.client": _ours_http_client,
    "ours.httpx": _ours_httpx,
    "ours.connect": _ours_connect,
    "ours.aconnect": _ours_aconnect,
    "ours.aconnect.aiohttp": _ours_aconnect_aiohttp,
    "ours.async.httpx": _ours_async_httpx,
    "ours.async.aiohttp": _ours_async_aiohttp,
}
OTHERS: dict[str, Callable[[], Run]] = {
    "raw.recv": _raw,
    "sseclient-py": _sseclient_py,
    "sseclient-0.0.27": _sseclient_0027,
    "httpx-sse": _httpx_sse,
    "httpx-sse.async": _httpx_sse_async,
    "ld-eventsource": _ld_eventsource,
}


def main() -> None:
    global _START
    parser = argparse.ArgumentParser(description="read one stream with one client")
    parser.add_argument("--client", required=True, choices=sorted(CLIENTS))
    parser.add_argument("--url", required=True)
    parser.add_argument("--events", type=int, required=True, help="events expected")
    parser.add_argument("--ours-dir", help="folder holding our sseclient.py")
    args = parser.parse_args()
    client = CLIENTS[args.client]
    try:
        if args.client in OURS:
            run = OURS[args.client](harness.load_ours(args.ours_dir))
            version = str(getattr(sys.modules["sseclient"], "__version__", "?"))
        else:
            run = OTHERS[args.client]()
            version = ""
        versions = [harness.dist_version(d) for d in client.dists]
        version = " ".join(v for v in (version, *versions) if v)
    except Exception as exc:
        harness.send_message(kind="error", stage="import", error=repr(exc))
        return
    _START = time.perf_counter()
    cpu = time.process_time()
    try:
        events, chars, first = run(args.url, args.events)
    except NotSupported as exc:
        harness.send_message(kind="n/a", why=str(exc))
        return
    except Exception as exc:
        traceback.print_exc()
        harness.send_message(kind="error", stage="run", error=repr(exc))
        return
    seconds = time.perf_counter() - _START
    cpu = time.process_time() - cpu
    harness.send_message(
        kind="result",
        seconds=seconds,
        cpu=cpu,
        first=first,
        events=events,
        chars=chars,
        version=version or "-",
        python=platform.python_version(),
    )


if __name__ == "__main__":
    main()
