"""One reconnection scenario, four drivers: `sseclient.connect` over
requests, `sseclient.connect` over the standard library's http.client
(``transport="stdlib"``), and `sseclient.aconnect` over httpx and over
aiohttp.

A test written once takes the ``driver`` fixture (see conftest.py), which is
each of `SyncDriver` and `AsyncDriver` in turn, and awaits what it offers:
`Driver.read_all`, `Driver.open` (a `Stream`: its next event, the rest, a
read in the background, ``close``, ``async with``, and the source's own
attributes), and the options or error types that differ between requests
and httpx (and the standard library).

The sync driver calls ``connect()`` and its `EventSource` directly, on the
test's own thread, as a sync program would; it blocks the test's event loop
meanwhile, which has nothing else to do (the servers run on threads of their
own).  The async drivers await ``aconnect()``'s `AsyncEventSource` in the
test's task, over httpx (`AsyncDriver`) and over aiohttp (`AiohttpDriver`).
So a sync close "from another thread" and an async close "from another task"
are one step of the scenario, `Stream.close`, while
`Stream.read_in_background` reads on a thread or in a task.

Also here, for any test that reads streams: `STRICT` (the marks of a
module whose tests fail on any warning or loop error), `FAST` (options for
quick reconnection), `numbers`, `eventually` and `collect`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any

import aiohttp
import httpx
import pytest
import requests

import sseclient
from sseclient import Event

#: ``pytestmark`` of a module whose tests fail on any warning, and on
#: anything reported to the event loop's exception handler (the
#: ``loop_errors`` fixture of conftest.py).
STRICT = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("loop_errors")]
# Fast reconnection for tests: 1 ms, and a backoff capped at 5 ms.
FAST: dict[str, Any] = {"retry": 1, "max_retry_delay": 5}
#: How long a step may take before a test counts it as hung.
HANG = 5.0


def numbers(events: list[Event]) -> list[int]:
    """The data of numbered events, as numbers."""
    return [int(event.data) for event in events]


async def eventually(condition: Callable[[], object], timeout: float = HANG) -> bool:
    """Whether ``condition()`` comes true within ``timeout`` seconds, checked
    while the event loop goes on (an async client closes its sockets in
    later turns of the loop)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.002)
    return True


@contextlib.asynccontextmanager
async def streaming_response(library: str, url: str) -> AsyncIterator[Any]:
    """A response to ``GET url`` from httpx or aiohttp, open for streaming."""
    if library == "httpx":
        async with httpx.AsyncClient() as client, client.stream("GET", url) as r:
            yield r
    else:
        async with aiohttp.ClientSession() as session, session.get(url) as r:
            yield r


async def collect(events: AsyncIterable[Any], seen: asyncio.Event) -> list[str]:
    """The data of each event an async client yields; ``seen`` is set at each
    one, for a `servers.WaitFor` (or the test) to know that the client has
    it."""
    data = []
    async for event in events:
        data.append(event.data)
        seen.set()
    return data


class Reading(ABC):
    """A stream read to its end in the background: on a thread (sync) or in
    a task (async).  With ``hold``, the reader is busy with each event (it
    waits, outside the stream) until `resume` is called."""

    def __init__(self, hold: bool) -> None:
        self.hold = hold
        self.events: list[Event] = []
        self.error: BaseException | None = None

    @abstractmethod
    def resume(self) -> None:
        """Let a held reader go on (with every event from now on)."""

    @abstractmethod
    async def join(self) -> list[Event]:
        """Wait (at most `HANG` seconds) for the reading to end; the events
        it got.  An error it raised is kept in ``error``."""


class Stream(ABC):
    """A stream from `Driver.open`.  Its source's attributes (``url``,
    ``retry``, ``last_event_id``, ``response``, ``closed``, ``max_attempts``)
    are read and set through it."""

    def __init__(self, source: Any) -> None:
        object.__setattr__(self, "source", source)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.source, name, value)

    @abstractmethod
    async def next(self) -> Event:
        """The next event."""

    @abstractmethod
    def __aiter__(self) -> AsyncIterator[Event]:
        """The events, as ``for``/``async for`` over the source gives them."""

    async def rest(self) -> list[Event]:
        """Every event up to the end of the stream."""
        return [event async for event in self]

    @abstractmethod
    async def close(self) -> None:
        """``close()``/``aclose()``."""

    @abstractmethod
    async def restart(self) -> None:
        """``restart()``."""

    @abstractmethod
    def read_in_background(self, hold: bool = False) -> Reading:
        """Read the stream on a thread (sync) or in a task (async)."""

    @abstractmethod
    async def __aenter__(self) -> Stream:
        """The source's ``with``/``async with``."""

    @abstractmethod
    async def __aexit__(self, *exc_info: Any) -> None: ...


class Driver(ABC):
    """What a scenario needs from ``connect`` or ``aconnect``."""

    #: The function under test: "connect" or "aconnect".
    name: str
    #: The HTTP library's response class.
    response_type: type[Any]
    #: What a refused connection raises in the HTTP library.
    connect_error: type[BaseException]
    #: What a certificate that fails verification raises.
    certificate_error: type[BaseException]
    #: What following too many redirects raises, and after how many.
    redirect_error: type[BaseException]
    max_redirects: int
    #: The Content-Type the HTTP library gives a raw (bytes) request body.
    bytes_content_type: str | None = None

    @abstractmethod
    def open(self, url: str, **options: Any) -> Stream:
        """``connect(url, **options)`` or ``aconnect(url, **options)``."""

    async def read_all(self, url: str, **options: Any) -> list[Event]:
        """Every event of a stream opened with ``options``."""
        return await self.open(url, **options).rest()

    @abstractmethod
    def is_closed(self, response: Any) -> bool:
        """Whether a response of the HTTP library is closed."""

    def status(self, response: Any) -> int:
        """A response's status code."""
        return int(response.status_code)

    async def text(self, response: Any) -> str:
        """The body of a response that was read before it was closed."""
        return str(response.text)

    @abstractmethod
    def trusting(self, cafile: str) -> dict[str, Any]:
        """Options that make the stream trust the certificates in ``cafile``."""

    @abstractmethod
    def users_client(
        self, auth: tuple[str, str], headers: dict[str, str]
    ) -> dict[str, Any]:
        """The option that hands the stream a session (requests) or client
        (httpx) of the user's, made with ``auth`` and ``headers``."""

    @abstractmethod
    def users_client_closed(self, options: dict[str, Any]) -> bool:
        """Whether the session or client of `users_client` was closed."""

    @abstractmethod
    async def aclose(self) -> None:
        """Close what the driver made (at the end of the test)."""


# ---------------------------------------------------------------------------
# connect()
# ---------------------------------------------------------------------------


class SyncReading(Reading):
    def __init__(self, source: sseclient.EventSource, hold: bool) -> None:
        super().__init__(hold)
        self._resumed = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(source,), daemon=True)
        self._thread.start()

    def _run(self, source: sseclient.EventSource) -> None:
        try:
            for event in source:
                self.events.append(event)
                if self.hold:
                    self._resumed.wait(HANG)
        except BaseException as exc:
            self.error = exc

    def resume(self) -> None:
        self._resumed.set()

    async def join(self) -> list[Event]:
        self._thread.join(HANG)
        assert not self._thread.is_alive(), "the reading did not end"
        return self.events


class SyncStream(Stream):
    source: sseclient.EventSource

    async def next(self) -> Event:
        return next(self.source)

    async def __aiter__(self) -> AsyncIterator[Event]:
        for event in self.source:
            yield event

    async def close(self) -> None:
        self.source.close()

    async def restart(self) -> None:
        self.source.restart()

    def read_in_background(self, hold: bool = False) -> Reading:
        return SyncReading(self.source, hold)

    async def __aenter__(self) -> Stream:
        self.source.__enter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.source.__exit__(*exc_info)


class NotingSession(requests.Session):
    """A requests session that notes whether it was closed."""

    closed = False

    def close(self) -> None:
        self.closed = True
        super().close()


class SyncDriver(Driver):
    name = "connect"
    #: connect()'s ``transport``.
    transport = "requests"
    response_type: type[Any] = requests.Response
    connect_error: type[BaseException] = requests.ConnectionError
    certificate_error: type[BaseException] = requests.exceptions.SSLError
    redirect_error: type[BaseException] = requests.TooManyRedirects
    max_redirects = requests.models.DEFAULT_REDIRECT_LIMIT

    def __init__(self) -> None:
        self._sessions: list[requests.Session] = []

    def open(self, url: str, **options: Any) -> Stream:
        options.setdefault("transport", self.transport)
        return SyncStream(sseclient.connect(url, **options))

    def is_closed(self, response: Any) -> bool:
        return bool(response.raw.closed)

    def trusting(self, cafile: str) -> dict[str, Any]:
        return {"verify": cafile}

    def users_client(
        self, auth: tuple[str, str], headers: dict[str, str]
    ) -> dict[str, Any]:
        session = NotingSession()
        session.auth = auth
        session.headers.update(headers)
        self._sessions.append(session)
        return {"session": session}

    def users_client_closed(self, options: dict[str, Any]) -> bool:
        return bool(options["session"].closed)

    async def aclose(self) -> None:
        for session in self._sessions:
            session.close()


class StdlibDriver(SyncDriver):
    """connect(transport="stdlib"): the same `EventSource` over http.client."""

    transport = "stdlib"
    response_type = sseclient._StdlibResponse
    connect_error = ConnectionRefusedError
    certificate_error = ssl.SSLCertVerificationError
    redirect_error = sseclient.HTTPStatusError
    max_redirects = 10  # as the README says


# ---------------------------------------------------------------------------
# aconnect()
# ---------------------------------------------------------------------------


class AsyncReading(Reading):
    def __init__(self, source: sseclient.AsyncEventSource, hold: bool) -> None:
        super().__init__(hold)
        self._resumed = asyncio.Event()
        self._task = asyncio.ensure_future(self._run(source))

    async def _run(self, source: sseclient.AsyncEventSource) -> None:
        try:
            async for event in source:
                self.events.append(event)
                if self.hold:
                    await asyncio.wait_for(self._resumed.wait(), HANG)
        except Exception as exc:
            self.error = exc

    def resume(self) -> None:
        self._resumed.set()

    async def join(self) -> list[Event]:
        await asyncio.wait_for(self._task, HANG)
        return self.events


class AsyncStream(Stream):
    source: sseclient.AsyncEventSource

    async def next(self) -> Event:
        return await self.source.__anext__()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.source.__aiter__()

    async def close(self) -> None:
        await self.source.aclose()

    async def restart(self) -> None:
        await self.source.restart()

    def read_in_background(self, hold: bool = False) -> Reading:
        return AsyncReading(self.source, hold)

    async def __aenter__(self) -> Stream:
        await self.source.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.source.__aexit__(*exc_info)


class AsyncDriver(Driver):
    name = "aconnect"
    response_type = httpx.Response
    connect_error = httpx.ConnectError
    certificate_error = httpx.ConnectError
    redirect_error = httpx.TooManyRedirects
    max_redirects = httpx._config.DEFAULT_MAX_REDIRECTS

    def __init__(self) -> None:
        self._clients: list[httpx.AsyncClient] = []

    def open(self, url: str, **options: Any) -> Stream:
        return AsyncStream(sseclient.aconnect(url, **options))

    def is_closed(self, response: Any) -> bool:
        return bool(response.is_closed)

    def _client(self, **options: Any) -> httpx.AsyncClient:
        client = httpx.AsyncClient(**options)
        self._clients.append(client)
        return client

    def trusting(self, cafile: str) -> dict[str, Any]:
        return {
            "client": self._client(verify=ssl.create_default_context(cafile=cafile))
        }

    def users_client(
        self, auth: tuple[str, str], headers: dict[str, str]
    ) -> dict[str, Any]:
        return {"client": self._client(auth=auth, headers=headers)}

    def users_client_closed(self, options: dict[str, Any]) -> bool:
        return bool(options["client"].is_closed)

    async def aclose(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients))


class AiohttpDriver(AsyncDriver):
    """``aconnect(url, client=session)`` with an ``aiohttp.ClientSession``:
    one made by the driver unless the test hands the stream one."""

    name = "aconnect.aiohttp"
    response_type = aiohttp.ClientResponse
    connect_error = aiohttp.ClientConnectorError
    certificate_error = aiohttp.ClientConnectorCertificateError
    redirect_error = aiohttp.TooManyRedirects
    # ClientSession.request's max_redirects=10 counts the answers that
    # redirect, the 10th raising: it follows 9.
    max_redirects = 9
    bytes_content_type = "application/octet-stream"

    def __init__(self) -> None:
        super().__init__()
        self._sessions: list[aiohttp.ClientSession] = []

    def _session(self, **options: Any) -> aiohttp.ClientSession:
        session = aiohttp.ClientSession(**options)
        self._sessions.append(session)
        return session

    def open(self, url: str, **options: Any) -> Stream:
        if "client" not in options:
            options["client"] = self._session()
        return AsyncStream(sseclient.aconnect(url, **options))

    def is_closed(self, response: Any) -> bool:
        return bool(response.closed)

    def status(self, response: Any) -> int:
        return int(response.status)

    async def text(self, response: Any) -> str:
        return str(await response.text())

    def trusting(self, cafile: str) -> dict[str, Any]:
        context = ssl.create_default_context(cafile=cafile)
        return {"client": self._session(connector=aiohttp.TCPConnector(ssl=context))}

    def users_client(
        self, auth: tuple[str, str], headers: dict[str, str]
    ) -> dict[str, Any]:
        # (aiohttp 3.14 deprecates its BasicAuth.)
        token = base64.b64encode(":".join(auth).encode()).decode()
        headers = {**headers, "Authorization": f"Basic {token}"}
        return {"client": self._session(headers=headers)}

    def users_client_closed(self, options: dict[str, Any]) -> bool:
        return bool(options["client"].closed)

    async def aclose(self) -> None:
        await asyncio.gather(*(session.close() for session in self._sessions))


#: The drivers by the name of the function they drive (the test ids).
DRIVERS: dict[str, Callable[[], Driver]] = {
    "connect": SyncDriver,
    "connect-stdlib": StdlibDriver,
    "aconnect": AsyncDriver,
    "aconnect.aiohttp": AiohttpDriver,
}
