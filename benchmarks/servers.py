"""A small threaded HTTP/1.1 server on 127.0.0.1 for the benchmarks.

A handler answers each `Request` with a `Reply`: status, headers, body, how
the body is framed (``chunked``, ``close`` or ``length``), and optionally
where to cut the connection (``drop_at``), or a whole response made ahead
(``prepared``), sent as it is::

    def handler(request):
        body, ends = numbered_events(request.last_event_id + 1, 1000)
        return Reply(body=body, drop_at=drop_point(body, ends, 500, "mid-line"))

    with ThreadedServer(handler) as server:
        for event in sseclient.connect(server.url): ...

Each connection is served on a thread of its own and kept alive between
responses (unless a reply closes it).  `numbered_events` and `drop_point`
make the bodies of ``soak.py``: ``id: N`` / ``data: N`` events, cut at a
chosen kind of place.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import BinaryIO

EVENT_STREAM = (("Content-Type", "text/event-stream; charset=utf-8"),)
#: Where `drop_point` can cut a body.
DROP_KINDS = ("after-headers", "between-events", "mid-line", "mid-event")


@dataclass
class Request:
    """A request as the server read it; ``headers`` keys are lower case."""

    method: str
    path: str
    headers: dict[str, str]
    connection: int  # the number of the connection it came on, from 1

    @property
    def last_event_id(self) -> int:
        """The ``Last-Event-ID`` header as a number (0 when absent)."""
        return int(self.headers.get("last-event-id", "0"))


@dataclass
class Reply:
    """One response.

    ``framing`` is ``"chunked"`` (in chunks of at most ``chunk_size``
    bytes; with ``chunk_size=0``, one chunk per event, as a server that
    flushes each event sends them), ``"close"`` (no length: the body ends
    when the connection closes) or ``"length"`` (``Content-Length``).  With
    ``drop_at`` the connection is closed after that many body bytes, so that
    a chunked body is left unterminated and a ``close`` one looks complete.
    ``prepared``, if given, is the whole response, head and framed body,
    sent as it is; the connection is closed after it.
    """

    status: int = 200
    headers: tuple[tuple[str, str], ...] = EVENT_STREAM
    body: bytes = b""
    framing: str = "chunked"
    drop_at: int | None = None
    chunk_size: int = 65536
    prepared: bytes | None = None

    def encode(self) -> bytes:
        """The response as it goes on the wire (cut at ``drop_at``)."""
        head = [f"HTTP/1.1 {self.status} {HTTPStatus(self.status).phrase}"]
        head += [f"{name}: {value}" for name, value in self.headers]
        body = self.body if self.drop_at is None else self.body[: self.drop_at]
        if self.framing == "chunked":
            head.append("Transfer-Encoding: chunked")
            size = self.chunk_size
            if size:
                pieces = [body[i : i + size] for i in range(0, len(body), size)]
            else:
                pieces = [p + b"\n\n" for p in body.split(b"\n\n")]
                pieces[-1] = pieces[-1][:-2]  # (what follows the last event)
                pieces = [p for p in pieces if p]
            payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
            if self.drop_at is None:
                payload += b"0\r\n\r\n"
        elif self.framing == "close":
            head.append("Connection: close")
            payload = body
        elif self.framing == "length":
            head.append(f"Content-Length: {len(self.body)}")
            payload = body
        else:
            raise ValueError(f"unknown framing {self.framing!r}")
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload

    @property
    def keeps_connection(self) -> bool:
        return (
            self.prepared is None and self.drop_at is None and self.framing != "close"
        )


class ThreadedServer:
    """An HTTP/1.1 server on 127.0.0.1 (a free port) for a ``with`` block."""

    def __init__(self, handler: Callable[[Request], Reply]) -> None:
        self.handler = handler
        self.port = 0
        #: Requests served so far.
        self.requests = 0
        #: Exceptions raised by the handler.
        self.errors: list[BaseException] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> ThreadedServer:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
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
                # Threads of connections that ended need not be joined.
                self._threads = [t for t in self._threads if t.is_alive()]
            self._start(self._serve, conn, self._connections)

    def _serve(self, conn: socket.socket, number: int) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = conn.makefile("rb")
        try:
            while not self._stopping.is_set():
                request = _read_request(reader, number)
                if request is None:
                    return
                with self._lock:
                    self.requests += 1
                try:
                    reply = self.handler(request)
                except Exception as exc:
                    self.errors.append(exc)
                    return
                conn.sendall(reply.prepared or reply.encode())
                if not reply.keeps_connection:
                    return
        except (OSError, ValueError):
            pass  # the client went away, or the server is stopping
        finally:
            with self._lock:
                self._sockets.discard(conn)
            reader.close()
            with contextlib.suppress(OSError):
                conn.close()


def _read_request(reader: BinaryIO, number: int) -> Request | None:
    readline = reader.readline
    line = readline(65537)
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        text = readline(65537).decode("latin-1").rstrip("\r\n")
        if not text:
            break
        name, _, value = text.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(method, path, headers, number)


def numbered_events(
    first: int, count: int, retry: int | None = 1, padding: bytes = b""
) -> tuple[bytes, list[int]]:
    """Events ``first`` to ``first + count - 1`` (``id: N``, ``data: N``, the
    data followed by ``padding`` if any), preceded by ``retry:`` when given;
    and the body offset where each event ends."""
    parts = [] if retry is None else [b"retry: %d\n\n" % retry]
    offset = len(parts[0]) if parts else 0
    ends = []
    for n in range(first, first + count):
        block = b"id: %d\ndata: %d%s\n\n" % (n, n, padding)
        parts.append(block)
        offset += len(block)
        ends.append(offset)
    return b"".join(parts), ends


def drop_point(body: bytes, ends: list[int], complete: int, kind: str) -> int:
    """Where to cut ``body`` (made by `numbered_events`) so that exactly
    ``complete`` of its events are whole, and what follows is: nothing
    (``between-events``), part of the next event's ``data`` line
    (``mid-line``), or the next event's lines without its blank line
    (``mid-event``).  ``after-headers`` cuts at 0."""
    if kind == "after-headers":
        return 0
    start = ends[complete - 1] if complete else body.index(b"id: ")
    if kind == "between-events":
        return start
    if complete >= len(ends):
        raise ValueError("no event left to cut into")
    if kind == "mid-line":
        return body.index(b"data: ", start) + len(b"data: ") + 1
    if kind == "mid-event":
        return ends[complete] - 1
    raise ValueError(f"unknown drop kind {kind!r}")
