"""A threaded raw-socket HTTP/1.1 server for reconnection tests and the soak
benchmark, that serves numbered events and drops connections on cue.

A handler answers each request (a `Request`) with a `Reply`: status, headers,
body, body framing, and where to drop the connection::

    def handler(request):
        first = request.last_event_id + 1
        body, ends = numbered_events(first, 10)
        return Reply(body=body, drop_at=drop_point(body, ends, 3, "mid-line"))

    with EventServer(handler) as server:
        for event in sseclient.connect(server.url): ...

Events are ``id: N``/``data: N`` blocks (`numbered_events`), so a test can
check that every event arrived exactly once and in order, and a handler can
resume after the ``Last-Event-ID`` a request carries.  The server binds
127.0.0.1 on a free port, serves each connection on its own thread (keeping
it alive between responses), records every request, and stops when the
``with`` block ends.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import BinaryIO, Callable

__all__ = [
    "DROP_KINDS",
    "EventServer",
    "Reply",
    "Request",
    "drop_point",
    "numbered_events",
]

EVENT_STREAM = (("Content-Type", "text/event-stream; charset=utf-8"),)
#: Where `drop_point` can cut a body.
DROP_KINDS = ("after-headers", "between-events", "mid-line", "mid-event")


@dataclass
class Request:
    """A request as the server read it; ``headers`` keys are lower case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int

    @property
    def last_event_id(self) -> int:
        """The ``Last-Event-ID`` header as a number (0 when absent)."""
        return int(self.headers.get("last-event-id", "0"))


@dataclass
class Reply:
    """One response.

    ``framing`` is ``"chunked"``, ``"close"`` (no length: the body ends when
    the connection closes) or ``"length"`` (``Content-Length``).  With
    ``drop_at`` the connection is closed after that many body bytes, so a
    chunked body is left unterminated and a ``close`` one looks complete.
    ``hold``, if given, keeps the connection open after the body until it is
    set or the server stops.  A chunked body is sent in chunks of at most
    ``chunk_size`` bytes.
    """

    status: int = 200
    headers: tuple[tuple[str, str], ...] = EVENT_STREAM
    body: bytes = b""
    framing: str = "chunked"
    drop_at: int | None = None
    hold: threading.Event | None = None
    chunk_size: int = 65536


@dataclass
class EventServer:
    handler: Callable[[Request], Reply]
    #: Serve HTTPS with this context (None: plain HTTP).
    ssl_context: ssl.SSLContext | None = None
    #: Every request, in arrival order.
    requests: list[Request] = field(default_factory=list)
    #: Exceptions raised by the handler or while serving.
    errors: list[BaseException] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._sockets: set[socket.socket] = set()
        self._connections = 0

    @property
    def url(self) -> str:
        return self.url_for("/")

    def url_for(self, path: str) -> str:
        scheme = "http" if self.ssl_context is None else "https"
        return f"{scheme}://127.0.0.1:{self.port}/{path.lstrip('/')}"

    @property
    def connections(self) -> int:
        """Connections accepted so far."""
        return self._connections

    def __enter__(self) -> EventServer:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._start(self._accept)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            with self._lock:
                self._connections += 1
                self._sockets.add(conn)
            self._start(self._serve, conn, self._connections)

    def _serve(self, conn: socket.socket, number: int) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(10)
        if self.ssl_context is not None:
            with self._lock:
                self._sockets.discard(conn)
            try:
                conn = self.ssl_context.wrap_socket(conn, server_side=True)
            except OSError:  # the client rejected the handshake
                conn.close()
                return
            with self._lock:
                self._sockets.add(conn)
        reader = conn.makefile("rb")
        try:
            while not self._stopping.is_set():
                request = _read_request(reader, number)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                if not self._send(conn, self.handler(request)):
                    return
        except (OSError, ValueError):
            pass  # the client went away, or the server is stopping
        except Exception as exc:
            self.errors.append(exc)
        finally:
            with self._lock:
                self._sockets.discard(conn)
            reader.close()
            with contextlib.suppress(OSError):
                conn.close()

    def _send(self, conn: socket.socket, reply: Reply) -> bool:
        """Write one reply; True if the connection may serve another."""
        head = [f"HTTP/1.1 {reply.status} {HTTPStatus(reply.status).phrase}"]
        head += [f"{name}: {value}" for name, value in reply.headers]
        body = reply.body if reply.drop_at is None else reply.body[: reply.drop_at]
        if reply.framing == "chunked":
            head.append("Transfer-Encoding: chunked")
            size = reply.chunk_size
            pieces = [body[i : i + size] for i in range(0, len(body), size)]
            payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
        elif reply.framing == "close":
            head.append("Connection: close")
            payload = body
        else:
            head.append(f"Content-Length: {len(reply.body)}")
            payload = body
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        if reply.drop_at is not None:
            return False
        if reply.hold is not None:
            while not (reply.hold.wait(0.02) or self._stopping.is_set()):
                pass
        if reply.framing == "chunked":
            conn.sendall(b"0\r\n\r\n")
        return reply.framing != "close"


def _read_request(reader: BinaryIO, number: int) -> Request | None:
    readline = reader.readline
    line = readline(65537)
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        line = readline(65537).decode("latin-1").rstrip("\r\n")
        if not line:
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = reader.read(int(headers.get("content-length", "0")))
    return Request(method, path, headers, body, number)


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
