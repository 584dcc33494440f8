"""Scriptable HTTP/1.1 test servers on 127.0.0.1, and the types they share.

A test says what each response is, byte by byte and step by step, so that it
controls the framing and the timing the client sees::

    go = threading.Event()
    script = [b"data: a\\n\\n", WaitFor(go), b"data: b\\n\\n"]
    with SSEServer(Response(script, framing="close")) as server:
        response = requests.get(server.url, stream=True)

Two servers take the same `Response` scripts and record the same `Request`:

* `SSEServer` serves each connection on a thread of its own (plain HTTP, or
  HTTPS with ``ssl_context``); it runs beside any client, sync or async.
* `AsyncSSEServer` runs in the test's own event loop; its `WaitFor` takes an
  `asyncio.Event`, so a handshake with an async client needs no thread.

What to answer is one of: a `Response` (the same one to every request), a
sequence of them (one per request in order; a request beyond them gets
``204 No Content``, which tells an event source to stop), or a handler
called with each `Request` that returns a `Response`.

A response's actions:

* ``bytes``: written at once (TCP_NODELAY is on).  With chunked framing each
  one is one HTTP chunk (an empty one is skipped: it would end the body).
* `Pause`: sleep that long.
* `WaitFor`: wait until the test sets the event; a wait that times out is
  counted in the server's ``timeouts`` and the script goes on.
* `Close`: drop the connection now, mid-body (``reset=True``: with a TCP RST).
  With chunked framing no last chunk is sent: the client sees a body cut
  short.
* `HoldOpen`: send nothing more and wait until the client closes the
  connection; that is counted in ``hangups`` and sets ``hung_up``.

The body framing is ``"chunked"`` (``Transfer-Encoding: chunked``; the
connection can serve another request), ``"close"`` (``Connection: close``,
no length: the body ends when the server closes the connection) or
``"length"`` (``Content-Length`` is the total of the script's bytes).

`Proxy` is an HTTP proxy to reach either server through, as a client told
of it by HTTP_PROXY or HTTPS_PROXY does.

Helpers build answers: `status_only` (a status, no stream), `cut_off` (a
body, then the connection dropped), `split_every` and `split_at` (a body in
pieces); `numbered_events` writes events ``id: N``/``data: N`` and
`drop_point` finds where to cut them; `NumberedStream` is a handler that
serves such events, resumes after each request's ``Last-Event-ID`` and drops
connections as its script of `Step` says.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import BinaryIO, Callable, NamedTuple, Union

__all__ = [
    "DROP_KINDS",
    "EVENT_STREAM",
    "FRAMINGS",
    "NO_CONTENT",
    "Action",
    "AsyncSSEServer",
    "Certificate",
    "Close",
    "HoldOpen",
    "NumberedStream",
    "Pause",
    "Proxy",
    "Request",
    "Response",
    "SSEServer",
    "Step",
    "WaitFor",
    "cut_off",
    "drop_point",
    "errors_then_events",
    "numbered_events",
    "random_drops_and_errors",
    "split_at",
    "split_every",
    "stalled_port",
    "status_only",
    "unanswered",
]

# ---------------------------------------------------------------------------
# Requests and responses
# ---------------------------------------------------------------------------


@dataclass
class Request:
    """A request as the server read it; header names in lower case."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes
    #: Which connection (counted from 1) the request came on.
    connection: int

    @property
    def last_event_id(self) -> int:
        """The ``Last-Event-ID`` header as a number (0 when absent)."""
        return int(self.headers.get("last-event-id", "0"))


@dataclass(frozen=True)
class Pause:
    """Sleep for ``seconds`` before the next action."""

    seconds: float


@dataclass(frozen=True)
class WaitFor:
    """Hold the script until ``event`` is set (or ``timeout`` passes): a
    `threading.Event` for `SSEServer`, an `asyncio.Event` for
    `AsyncSSEServer`."""

    event: threading.Event | asyncio.Event
    timeout: float = 5.0


@dataclass(frozen=True)
class Close:
    """Drop the connection now; ``reset=True`` makes it a TCP RST."""

    reset: bool = False


@dataclass(frozen=True)
class HoldOpen:
    """Send nothing more; wait until the client closes the connection (at
    most ``timeout`` seconds, then close it)."""

    timeout: float = 5.0


Action = Union[bytes, Pause, WaitFor, Close, HoldOpen]

FRAMINGS = ("chunked", "close", "length")

EVENT_STREAM: tuple[tuple[str, str], ...] = (
    ("Content-Type", "text/event-stream; charset=utf-8"),
    ("Cache-Control", "no-cache"),
)


@dataclass
class Response:
    """One scripted response: its actions, body framing, status and headers."""

    actions: Sequence[Action] = ()
    framing: str = "chunked"
    status: int = 200
    headers: Sequence[tuple[str, str]] = EVENT_STREAM

    def __post_init__(self) -> None:
        if self.framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {FRAMINGS}: {self.framing!r}")
        for action in self.actions:
            if not isinstance(action, (bytes, Pause, WaitFor, Close, HoldOpen)):
                raise TypeError(f"not a script action: {action!r}")

    def head(self) -> bytes:
        """The status line and headers, with the framing's own header."""
        lines = [f"HTTP/1.1 {self.status} {HTTPStatus(self.status).phrase}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.framing == "chunked":
            lines.append("Transfer-Encoding: chunked")
        elif self.framing == "close":
            lines.append("Connection: close")
        elif self.status not in (204, 304):
            size = sum(len(a) for a in self.actions if isinstance(a, bytes))
            lines.append(f"Content-Length: {size}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def frame(self, data: bytes) -> bytes:
        """``data`` as the framing writes it: a chunk of its own, if chunked."""
        if self.framing != "chunked":
            return data
        return b"%x\r\n%s\r\n" % (len(data), data) if data else b""


def status_only(
    status: int, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
) -> Response:
    """A response with a ``Content-Length`` body (none by default)."""
    return Response([body] if body else [], "length", status, headers)


NO_CONTENT = status_only(204)

Handler = Callable[[Request], Response]
#: What a server answers: see the module's documentation.
Answers = Union[Response, Sequence[Response], Handler]


def _answer(answers: Answers, request: Request, index: int) -> Response:
    """The response to the ``index``-th request (from 0)."""
    if isinstance(answers, Response):
        return answers
    if callable(answers):
        return answers(request)
    return answers[index] if index < len(answers) else NO_CONTENT


def _keeps_alive(request: Request, response: Response) -> bool:
    """Whether the connection may serve another request after this one."""
    if response.framing == "close":
        return False
    wants_close = request.headers.get("connection", "").lower() == "close"
    return not wants_close and request.version == "HTTP/1.1"


def _parse_head(head: bytes, number: int) -> Request:
    """A request's line and headers (without the blank line), body to come."""
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, target, version = request_line.split(" ", 2)
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(method, target, version, headers, b"", number)


# ---------------------------------------------------------------------------
# The threaded server
# ---------------------------------------------------------------------------


class Certificate(NamedTuple):
    """Paths to a self-signed certificate for 127.0.0.1 (it is its own CA)
    and its key, for an HTTPS `SSEServer` (the ``certificate`` and
    ``tls_context`` fixtures make them)."""

    cert: str
    key: str


class SSEServer:
    """An HTTP/1.1 server on 127.0.0.1 (a free port), each connection served
    on a thread of its own; HTTPS with ``ssl_context``.  Leaving the
    ``with`` block stops it."""

    def __init__(
        self,
        answers: Answers,
        *,
        ssl_context: ssl.SSLContext | None = None,
        io_timeout: float = 10.0,
    ) -> None:
        self._answers = answers
        self._ssl_context = ssl_context
        self._io_timeout = io_timeout
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._accepter: threading.Thread | None = None
        #: Every request read, in arrival order.
        self.requests: list[Request] = []
        #: Connections accepted so far.
        self.connections = 0
        #: Responses finished (written in full, or ended by an action).
        self.responses_done = 0
        #: `WaitFor` actions that gave up waiting.
        self.timeouts = 0
        #: `HoldOpen` actions that ended because the client hung up.
        self.hangups = 0
        self.hung_up = threading.Event()
        #: Connections the client closed or reset while we were writing.
        self.client_disconnects = 0
        #: Exceptions from serving threads, other than the client going away.
        self.errors: list[BaseException] = []
        self.port = 0

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> SSEServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._accepter = threading.Thread(
            target=self._accept_loop, name=f"SSEServer:{self.port}", daemon=True
        )
        self._accepter.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        if self._accepter is not None:
            # Wake the blocking accept() with a connection of our own.
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), 1).close()
            self._accepter.join(5)
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            still_open = list(self._open)
        for conn in still_open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(5)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/`` (``https`` with TLS)."""
        return self.url_for("/")

    def url_for(self, path: str) -> str:
        scheme = "http" if self._ssl_context is None else "https"
        return f"{scheme}://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every request so far has had its whole response (or
        its script ended it); True if they have.  Idle keep-alive
        connections do not count as busy."""
        deadline = time.monotonic() + timeout
        while self.responses_done < len(self.requests):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    # -- serving -----------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            if self._stopping.is_set():
                conn.close()
                return
            with self._lock:
                self.connections += 1
                number = self.connections
                self._open.add(conn)
            thread = threading.Thread(
                target=self._serve_connection, args=(conn, number), daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _serve_connection(self, conn: socket.socket, number: int) -> None:
        try:
            # (A connection reset already refuses the option: the reads
            # below then see the reset.)
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(self._io_timeout)
            if self._ssl_context is not None:
                try:
                    tls = self._ssl_context.wrap_socket(conn, server_side=True)
                except OSError:  # the client rejected the handshake
                    return
                with self._lock:
                    self._open.discard(conn)
                    self._open.add(tls)
                conn = tls
            with conn.makefile("rb") as reader:
                self._serve_requests(conn, reader, number)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            with self._lock:
                self.client_disconnects += 1
        except socket.timeout:
            pass
        except OSError as exc:
            if not self._stopping.is_set():
                self.errors.append(exc)
        except Exception as exc:
            self.errors.append(exc)
        finally:
            with self._lock:
                self._open.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _serve_requests(
        self, conn: socket.socket, reader: BinaryIO, number: int
    ) -> None:
        while not self._stopping.is_set():
            request = _read_request(reader, number)
            if request is None:
                return
            with self._lock:
                index = len(self.requests)
                self.requests.append(request)
            try:
                response = _answer(self._answers, request, index)
                keep_alive = self._send(conn, response)
            finally:
                with self._lock:
                    self.responses_done += 1
            if not (keep_alive and _keeps_alive(request, response)):
                return

    def _send(self, conn: socket.socket, response: Response) -> bool:
        """Write one response; False if its script ended the connection."""
        conn.sendall(response.head())
        for action in response.actions:
            if isinstance(action, bytes):
                if framed := response.frame(action):
                    conn.sendall(framed)
            elif isinstance(action, Pause):
                time.sleep(action.seconds)
            elif isinstance(action, WaitFor):
                if not self._wait(action):
                    with self._lock:
                        self.timeouts += 1
            elif isinstance(action, HoldOpen):
                if self._until_hangup(conn, action.timeout):
                    with self._lock:
                        self.hangups += 1
                    self.hung_up.set()
                return False
            else:  # Close
                if action.reset:
                    linger = struct.pack("ii", 1, 0)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                return False
        if response.framing == "chunked":
            conn.sendall(b"0\r\n\r\n")
        elif response.framing == "close":
            conn.shutdown(socket.SHUT_WR)
        return True

    def _wait(self, action: WaitFor) -> bool:
        event = action.event
        if not isinstance(event, threading.Event):
            raise TypeError("SSEServer waits for a threading.Event")
        deadline = time.monotonic() + action.timeout
        while not event.wait(0.02):
            if self._stopping.is_set() or time.monotonic() > deadline:
                return False
        return True

    def _until_hangup(self, conn: socket.socket, timeout: float) -> bool:
        """Read until the client closes the connection; True if it did."""
        deadline = time.monotonic() + timeout
        conn.settimeout(0.02)
        try:
            while not self._stopping.is_set() and time.monotonic() < deadline:
                try:
                    if not conn.recv(65536):
                        return not self._stopping.is_set()
                except socket.timeout:
                    continue
                except (ConnectionResetError, ConnectionAbortedError):
                    return True
        finally:
            conn.settimeout(self._io_timeout)
        return False


def _read_request(reader: BinaryIO, number: int) -> Request | None:
    """The next request on a connection; None when the client closed it or
    sent nothing for the I/O timeout."""
    head = b""
    try:
        while True:
            line = reader.readline(65537)
            if not line:
                return None
            if line in (b"\r\n", b"\n"):
                break
            head += line
    except socket.timeout:
        return None
    request = _parse_head(head.rstrip(b"\r\n"), number)
    request.body = reader.read(int(request.headers.get("content-length", "0")))
    return request


# ---------------------------------------------------------------------------
# The asyncio server
# ---------------------------------------------------------------------------


@dataclass
class AsyncSSEServer:
    """An HTTP/1.1 server on 127.0.0.1 (a free port) in the running event
    loop.  Leaving the ``async with`` block stops it."""

    answers: Answers
    #: Every request read, in arrival order.
    requests: list[Request] = field(default_factory=list)
    #: Connections accepted so far.
    connections: int = 0
    #: `WaitFor` actions that gave up waiting.
    timeouts: int = 0
    #: `HoldOpen` actions that ended because the client hung up.
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
        return self.url_for("/")

    def url_for(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        number = self.connections
        try:
            while (request := await _read_request_async(reader, number)) is not None:
                index = len(self.requests)
                self.requests.append(request)
                response = _answer(self.answers, request, index)
                if not await self._send(reader, writer, response):
                    break
                if not _keeps_alive(request, response):
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
        """Write one response; False if its script ended the connection."""
        writer.write(response.head())
        await writer.drain()
        for action in response.actions:
            if isinstance(action, bytes):
                writer.write(response.frame(action))
                await writer.drain()
            elif isinstance(action, Pause):
                await asyncio.sleep(action.seconds)
            elif isinstance(action, WaitFor):
                if not isinstance(action.event, asyncio.Event):
                    raise TypeError("AsyncSSEServer waits for an asyncio.Event")
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
            else:  # Close
                if action.reset:
                    sock = writer.get_extra_info("socket")
                    linger = struct.pack("ii", 1, 0)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                return False
        if response.framing == "chunked":
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        return True


async def _read_request_async(
    reader: asyncio.StreamReader, number: int
) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None  # the client closed the connection between requests
    request = _parse_head(head[:-4], number)
    length = int(request.headers.get("content-length", "0"))
    request.body = await reader.readexactly(length)
    return request


async def _until_eof(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(ConnectionError):
        while await reader.read(65536):
            pass


# ---------------------------------------------------------------------------
# A proxy
# ---------------------------------------------------------------------------


class Proxy:
    """An HTTP proxy on 127.0.0.1 (a free port): a request whose target is a
    whole URL (``GET http://host:port/path``) is forwarded to that host, in
    origin form, without its Proxy-Authorization and with ``Connection:
    close``; a ``CONNECT host:port``
    opens a tunnel to it, for https.  Every request it read is in
    `requests`, as it came.  Each connection is served on a thread of its
    own; leaving the ``with`` block stops it."""

    def __init__(self) -> None:
        #: Every request read, in arrival order.
        self.requests: list[Request] = []
        #: Exceptions from serving threads, other than a side going away.
        self.errors: list[BaseException] = []
        self.port = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None

    def __enter__(self) -> Proxy:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._start(self._accept_loop)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):  # wakes the blocking accept()
            socket.create_connection(("127.0.0.1", self.port), 1).close()
        with self._lock:
            still_open = list(self._open)
        for sock in still_open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(5)
        if self._listener is not None:
            self._listener.close()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, for HTTP_PROXY or HTTPS_PROXY."""
        return f"http://127.0.0.1:{self.port}"

    def _start(self, target: Callable[..., None], *args: object) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()
        return thread

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            if self._stopping.is_set():
                conn.close()
                return
            with self._lock:
                self._open.add(conn)
            self._start(self._serve, conn)

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        try:
            with client.makefile("rb") as reader:
                request = _read_request(reader, len(self.requests) + 1)
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
            if request.method == "CONNECT":
                host, _, port = request.target.rpartition(":")
                upstream = self._connect(host, int(port))
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                url = urllib.parse.urlsplit(request.target)
                upstream = self._connect(url.hostname or "", url.port or 80)
                target = url.path + (f"?{url.query}" if url.query else "")
                # One request per connection: the client sees where the
                # response ends, and sends the next one through anew.
                lines = [f"{request.method} {target} {request.version}"]
                lines += [
                    f"{name}: {value}"
                    for name, value in request.headers.items()
                    if name not in ("proxy-authorization", "connection")
                ]
                lines.append("Connection: close")
                head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
                upstream.sendall(head + request.body)
            back = self._start(_pipe, upstream, client)
            _pipe(client, upstream)
            back.join(10)
        except OSError as exc:
            if not self._stopping.is_set():
                self.errors.append(exc)
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    with self._lock:
                        self._open.discard(sock)
                    sock.close()

    def _connect(self, host: str, port: int) -> socket.socket:
        upstream = socket.create_connection((host, port), 5)
        upstream.settimeout(None)
        with self._lock:
            self._open.add(upstream)
        return upstream


def _pipe(source: socket.socket, target: socket.socket) -> None:
    """Copy what `source` sends to `target` until it ends, then end `target`."""
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


# ---------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------


def split_every(body: bytes, size: int) -> list[bytes]:
    """``body`` in pieces of ``size`` bytes (the last may be shorter)."""
    if size <= 0:
        raise ValueError("size must be positive")
    return [body[i : i + size] for i in range(0, len(body), size)] or [b""]


def split_at(body: bytes, offsets: Sequence[int]) -> list[bytes]:
    """``body`` cut at each offset (sorted, deduplicated, ends dropped)."""
    cuts = [0, *sorted({o for o in offsets if 0 < o < len(body)}), len(body)]
    return [body[a:b] for a, b in zip(cuts, cuts[1:])]


#: Where `drop_point` can cut a body.
DROP_KINDS = ("after-headers", "between-events", "mid-line", "mid-event")


def numbered_events(
    first: int, count: int, retry: int | None = 1, padding: bytes = b""
) -> tuple[bytes, list[int]]:
    """Events ``first`` to ``first + count - 1`` (``id: N``, ``data: N``, the
    data followed by ``padding`` if any), preceded by ``retry:`` when given;
    and the body offset where each event ends."""
    parts = [] if retry is None else [b"retry: %d\n\n" % retry]
    ends = []
    offset = len(parts[0]) if parts else 0
    for n in range(first, first + count):
        block = b"id: %d\ndata: %d%s\n\n" % (n, n, padding)
        parts.append(block)
        offset += len(block)
        ends.append(offset)
    return b"".join(parts), ends


def drop_point(body: bytes, ends: list[int], complete: int, kind: str) -> int:
    """Where to cut ``body`` so that exactly ``complete`` of its events are
    whole, and what follows is: nothing (``between-events``), part of the
    next event's ``data`` line (``mid-line``), or the next event's lines
    without its blank line (``mid-event``).  ``after-headers`` cuts at 0."""
    if kind == "after-headers":
        return 0
    start = ends[complete - 1] if complete else ends[0] - len(_block_at(body, ends, 0))
    if kind == "between-events":
        return start
    if complete >= len(ends):
        raise ValueError("no event left to cut into")
    block = _block_at(body, ends, complete)
    if kind == "mid-line":
        return start + block.index(b"data: ") + len(b"data: ") + 1
    if kind == "mid-event":
        return ends[complete] - 1
    raise ValueError(f"unknown drop kind {kind!r}")


def _block_at(body: bytes, ends: list[int], index: int) -> bytes:
    start = body.rfind(b"id: ", 0, ends[index] - 1)
    return body[start : ends[index]]


def cut_off(body: bytes, at: int, framing: str = "chunked") -> Response:
    """``body`` up to byte ``at``, then the connection dropped."""
    return Response([body[:at], Close()], framing)


# ---------------------------------------------------------------------------
# A handler: numbered events that resume after Last-Event-ID
# ---------------------------------------------------------------------------


@dataclass
class Step:
    """What one connection of a `NumberedStream` does: deliver ``complete``
    events, then drop the connection as ``drop`` says (one of `DROP_KINDS`;
    None: end the body cleanly after them), with the given body framing."""

    complete: int
    drop: str | None = None
    framing: str = "chunked"


class NumberedStream:
    """A handler serving events 1 to ``total``, each connection resuming
    after its ``Last-Event-ID``; ``script(n)`` says what connection ``n``
    (from 0) does: a `Step`, or a `Response` sent as is.  Past the last
    event it answers 204.  It notes in ``wrong_ids`` each request whose
    ``Last-Event-ID`` is not the last event the client can have received
    whole."""

    def __init__(self, total: int, script: Callable[[int], Step | Response]) -> None:
        self.total = total
        self.script = script
        self.served = 0
        self.sent_whole = 0
        self.wrong_ids: list[tuple[int, int]] = []

    def __call__(self, request: Request) -> Response:
        if request.last_event_id != self.sent_whole:
            self.wrong_ids.append((request.last_event_id, self.sent_whole))
        first = request.last_event_id + 1
        if first > self.total:
            return NO_CONTENT
        step = self.script(self.served)
        self.served += 1
        if isinstance(step, Response):
            return step
        complete = min(step.complete, self.total - first + 1)
        if step.drop is None:
            body, _ = numbered_events(first, complete)
            self.sent_whole = first + complete - 1
            return Response([body], step.framing)
        body, ends = numbered_events(first, complete + 1)
        self.sent_whole = (
            first + complete - 1 if step.drop != "after-headers" else first - 1
        )
        return cut_off(body, drop_point(body, ends, complete, step.drop), step.framing)


def errors_then_events(*statuses: int) -> Callable[[int], Step | Response]:
    """A `NumberedStream` script: answer these statuses in turn, then send
    the events."""
    replies = iter(statuses)

    def script(n: int) -> Step | Response:
        status = next(replies, None)
        return Step(5) if status is None else status_only(status)

    return script


def random_drops_and_errors(seed: int) -> Callable[[int], Step | Response]:
    """A seeded `NumberedStream` script: 500s, 503s with Retry-After, and
    connections that send a few events, then drop at a random kind of place
    (or end)."""
    rng = random.Random(seed)

    def script(n: int) -> Step | Response:
        roll = rng.random()
        if roll < 0.08:
            return status_only(500, body=b"oops")
        if roll < 0.16:
            return status_only(503, (("Retry-After", "0"),))
        drop = rng.choice([*DROP_KINDS, None])
        framing = rng.choice(["chunked", "close"])
        return Step(rng.randint(1, 25), drop, framing)

    return script


# ---------------------------------------------------------------------------
# Waits that never end: for a connection, for response headers
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def stalled_port() -> Iterator[int]:
    """A port on 127.0.0.1 where a connection is never made: a listening
    socket that accepts nothing, whose queue is filled first, so that Linux
    drops each new SYN and a client waits in ``connect`` until its timeout.
    Yields the port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    queued: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(64):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            queued.append(sock)
            sock.settimeout(0.2)
            try:
                sock.connect(address)
            except (socket.timeout, OSError):
                break  # the queue is full: this SYN was dropped
        else:
            raise RuntimeError("the listening queue never filled")
        yield address[1]
    finally:
        for sock in queued:
            sock.close()
        listener.close()


def unanswered(release: threading.Event, timeout: float = 10.0) -> Handler:
    """A handler for `SSEServer` that answers no request (not even its
    headers) until ``release`` is set (or ``timeout`` passes), then 204."""

    def handler(request: Request) -> Response:
        release.wait(timeout)
        return NO_CONTENT

    return handler
