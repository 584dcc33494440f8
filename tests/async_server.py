"""A scriptable HTTP/1.1 server for async event stream tests, on asyncio.

`AsyncSSEServer` runs in the test's own event loop and writes each response
body exactly as the test scripts it, so the test controls the framing and the
timing the client sees, with `asyncio.Event` handshakes instead of sleeps::

    got_first = asyncio.Event()
    script = [b"data: a\\n\\n", WaitFor(got_first), b"data: b\\n\\n"]
    async with AsyncSSEServer([Response(script)]) as server:
        ...  # the client sets got_first when it has event "a"

A script is a sequence of actions:

* ``bytes``: written and drained at once.  With chunked framing each one is
  one HTTP chunk (empty ones are skipped: an empty chunk ends the body).
* `WaitFor`: wait until the test sets the event (a wait that times out is
  counted in `AsyncSSEServer.timeouts`, and the script goes on).
* `Close`: close the connection now, mid-body (chunked framing: without the
  last chunk, so the client sees a truncated body).
* `HoldOpen`: send nothing more and wait for the client to close the
  connection; that is counted in `AsyncSSEServer.hangups` and sets
  `AsyncSSEServer.hung_up`.

Responses are given as a list, served in order (requests beyond it get
``204 No Content``, which tells an event source to stop), or by a handler
called with each `Request`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Callable, Union

__all__ = [
    "AsyncSSEServer",
    "Close",
    "HoldOpen",
    "Request",
    "Response",
    "WaitFor",
    "collect",
]


@dataclass(frozen=True)
class WaitFor:
    """Hold the script until ``event`` is set (or ``timeout`` passes)."""

    event: asyncio.Event
    timeout: float = 5.0


@dataclass(frozen=True)
class Close:
    """Drop the connection now."""


@dataclass(frozen=True)
class HoldOpen:
    """Send nothing more; wait until the client closes the connection."""

    timeout: float = 5.0


Action = Union[bytes, WaitFor, Close, HoldOpen]

EVENT_STREAM: tuple[tuple[str, str], ...] = (
    ("Content-Type", "text/event-stream; charset=utf-8"),
    ("Cache-Control", "no-cache"),
)


@dataclass
class Response:
    """One scripted response: its actions, body framing, status and headers.

    ``framing`` is ``"chunked"`` (the connection can serve another request),
    ``"close"`` (the body ends when the server closes the connection) or
    ``"length"`` (``Content-Length`` is the total of the script's bytes).
    """

    actions: Sequence[Action] = ()
    framing: str = "chunked"
    status: int = 200
    headers: Sequence[tuple[str, str]] = EVENT_STREAM


NO_CONTENT = Response(framing="length", status=204, headers=())


@dataclass
class Request:
    """A request as the server read it; header names in lower case."""

    method: str
    target: str
    headers: dict[str, str]
    connection: int


Handler = Callable[[Request], Response]


@dataclass
class AsyncSSEServer:
    """An HTTP/1.1 server on 127.0.0.1 (a free port) that follows a script."""

    responses: Sequence[Response] | Handler
    #: Every request read, in arrival order.
    requests: list[Request] = field(default_factory=list)
    #: Connections accepted so far.
    connections: int = 0
    #: `WaitFor` actions that gave up waiting.
    timeouts: int = 0
    #: `HoldOpen` actions that ended because the client closed the connection.
    hangups: int = 0
    hung_up: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> AsyncSSEServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _choose(self, request: Request) -> Response:
        if callable(self.responses):
            return self.responses(request)
        index = len(self.requests) - 1
        return self.responses[index] if index < len(self.responses) else NO_CONTENT

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        number = self.connections
        try:
            while (request := await _read_request(reader, number)) is not None:
                self.requests.append(request)
                response = self._choose(request)
                if not await self._send(reader, writer, response):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away
        except asyncio.CancelledError:
            # Stopped by __aexit__: end quietly, since asyncio's streams
            # report a connection task that ends cancelled as an error.
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _send(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        response: Response,
    ) -> bool:
        """Write one response; True if the connection may serve another."""
        head = [f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}"]
        head += [f"{name}: {value}" for name, value in response.headers]
        if response.framing == "chunked":
            head.append("Transfer-Encoding: chunked")
        elif response.framing == "close":
            head.append("Connection: close")
        elif response.status not in (204, 304):
            size = sum(len(a) for a in response.actions if isinstance(a, bytes))
            head.append(f"Content-Length: {size}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        for action in response.actions:
            if isinstance(action, bytes):
                if response.framing != "chunked":
                    writer.write(action)
                elif action:
                    writer.write(b"%x\r\n%s\r\n" % (len(action), action))
                await writer.drain()
            elif isinstance(action, WaitFor):
                try:
                    await asyncio.wait_for(action.event.wait(), action.timeout)
                except asyncio.TimeoutError:
                    self.timeouts += 1
            elif isinstance(action, HoldOpen):
                try:
                    await asyncio.wait_for(_until_eof(reader), action.timeout)
                except asyncio.TimeoutError:
                    return False
                self.hangups += 1
                self.hung_up.set()
                return False
            else:
                return False  # Close
        if response.framing == "chunked":
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        return response.framing != "close"


async def _read_request(reader: asyncio.StreamReader, number: int) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None  # the client closed the connection between requests
    request_line, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, target, headers, number)


async def _until_eof(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(ConnectionError):
        while await reader.read(65536):
            pass


async def collect(events: AsyncIterable[Any], seen: asyncio.Event) -> list[str]:
    """The data of each event a client yields; ``seen`` is set at each one,
    for a `WaitFor` (or the test) to know that the client has it."""
    data = []
    async for event in events:
        data.append(event.data)
        seen.set()
    return data
