"""A scriptable raw-socket HTTP/1.1 server for event stream tests.

`RawSSEServer` writes a response body exactly as a test scripts it, piece by
piece, so the test controls the TCP-level and HTTP-level framing the client
sees::

    with RawSSEServer([b"data: a\\n\\n", Pause(0.01), b"data: b\\n\\n"]) as srv:
        response = requests.get(srv.url, stream=True)

A script is a sequence of actions:

* ``bytes``: written with one ``sendall`` (TCP_NODELAY is on).  With chunked
  framing each one is one HTTP chunk (empty ones are skipped: an empty chunk
  would end the body).
* `Pause` (seconds): sleep.
* `WaitFor` (a `threading.Event`): wait until the test sets it; on timeout
  the wait is counted in `RawSSEServer.timeouts` and the script goes on.
* `Close`: close the connection at once, mid-body (``reset=True`` sends a TCP
  RST instead of a FIN).  With chunked framing no last chunk is sent, so the
  client sees a truncated body.

The body framing is ``"chunked"`` (``Transfer-Encoding: chunked``, the
connection stays open for another request), ``"close"`` (``Connection:
close``, no ``Content-Length``: the body ends when the server closes) or
``"length"`` (``Content-Length`` is the sum of the script's bytes).

Every request is recorded (`RecordedRequest`) in `RawSSEServer.requests`.  The
server binds 127.0.0.1 on a free port and serves each connection on its own
thread; leaving the ``with`` block stops it.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Callable, Union

__all__ = [
    "Action",
    "Close",
    "Pause",
    "RawSSEServer",
    "RecordedRequest",
    "Response",
    "WaitFor",
    "split_at",
    "split_every",
]


@dataclass(frozen=True)
class Pause:
    """Sleep for ``seconds`` before the next action."""

    seconds: float


@dataclass(frozen=True)
class WaitFor:
    """Block the script until ``event`` is set (or ``timeout`` passes)."""

    event: threading.Event
    timeout: float = 5.0


@dataclass(frozen=True)
class Close:
    """Drop the connection now; ``reset=True`` makes it a TCP RST."""

    reset: bool = False


Action = Union[bytes, Pause, WaitFor, Close]

FRAMINGS = ("chunked", "close", "length")

DEFAULT_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Type", "text/event-stream; charset=utf-8"),
    ("Cache-Control", "no-cache"),
)


@dataclass
class Response:
    """One scripted response: status, headers, body framing and actions."""

    actions: Sequence[Action]
    framing: str = "chunked"
    status: int = 200
    headers: Sequence[tuple[str, str]] = DEFAULT_HEADERS

    def __post_init__(self) -> None:
        if self.framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {FRAMINGS}: {self.framing!r}")
        for action in self.actions:
            if not isinstance(action, (bytes, Pause, WaitFor, Close)):
                raise TypeError(f"not a script action: {action!r}")


@dataclass
class RecordedRequest:
    """A request as the server read it."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    connection: int = 0

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first header called ``name`` (any case), else ``default``."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return default


Handler = Callable[[RecordedRequest], Union[Response, Sequence[Action]]]


def split_every(body: bytes, size: int) -> list[bytes]:
    """``body`` in pieces of ``size`` bytes (the last may be shorter)."""
    if size <= 0:
        raise ValueError("size must be positive")
    return [body[i : i + size] for i in range(0, len(body), size)] or [b""]


def split_at(body: bytes, offsets: Sequence[int]) -> list[bytes]:
    """``body`` cut at each offset (sorted, deduplicated, ends dropped)."""
    cuts = [0, *sorted({o for o in offsets if 0 < o < len(body)}), len(body)]
    return [body[a:b] for a, b in zip(cuts, cuts[1:])]


class RawSSEServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 that follows a script.

    Give exactly one of:

    * ``actions`` (with ``framing``, ``status``, ``headers``): the same
      response to every request;
    * ``responses``: one `Response` per request, in order (a request beyond
      them gets ``204 No Content``, which tells an EventSource to stop);
    * ``handler``: called with each `RecordedRequest`, returns a `Response`
      or a sequence of actions (sent with ``framing``/``status``/``headers``).
    """

    def __init__(
        self,
        actions: Sequence[Action] | None = None,
        *,
        framing: str = "chunked",
        status: int = 200,
        headers: Sequence[tuple[str, str]] = DEFAULT_HEADERS,
        responses: Sequence[Response] | None = None,
        handler: Handler | None = None,
        io_timeout: float = 10.0,
    ) -> None:
        if sum(x is not None for x in (actions, responses, handler)) != 1:
            raise ValueError("give exactly one of actions, responses, handler")
        self._default = Response([], framing, status, headers)
        if actions is not None:
            Response(actions, framing, status, headers)  # validate now
        self._actions = actions
        self._responses = list(responses) if responses is not None else None
        self._handler = handler
        self._io_timeout = io_timeout
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._accepter: threading.Thread | None = None
        self._next_response = 0
        #: Every request read, in arrival order.
        self.requests: list[RecordedRequest] = []
        #: How many `WaitFor` actions gave up waiting.
        self.timeouts = 0
        #: Exceptions other than the client going away, from serving threads.
        self.errors: list[BaseException] = []
        #: Connections the client closed or reset while we were writing.
        self.client_disconnects = 0
        #: Connections accepted so far.
        self.connections = 0
        #: Responses finished (written in full, or dropped by a `Close`).
        self.responses_done = 0
        self.port = 0

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> RawSSEServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._accepter = threading.Thread(
            target=self._accept_loop, name=f"RawSSEServer:{self.port}", daemon=True
        )
        self._accepter.start()
        return self

    def stop(self) -> None:
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

    def __enter__(self) -> RawSSEServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/`` (any path gets the scripted answer)."""
        return f"http://127.0.0.1:{self.port}/"

    def url_for(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until ``count`` requests have arrived; True if they did."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every request so far has had its whole response (or its
        `Close`); idle keep-alive connections do not count as busy."""
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
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(self._io_timeout)
        buffered = b""
        try:
            while not self._stopping.is_set():
                request, buffered = self._read_request(conn, buffered, number)
                if request is None:
                    break
                with self._lock:
                    self.requests.append(request)
                try:
                    keep_open = self._send(conn, request, self._choose(request))
                finally:
                    with self._lock:
                        self.responses_done += 1
                if not keep_open:
                    break
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

    def _read_request(
        self, conn: socket.socket, buffered: bytes, number: int
    ) -> tuple[RecordedRequest | None, bytes]:
        while b"\r\n\r\n" not in buffered:
            try:
                data = conn.recv(65536)
            except socket.timeout:
                return None, b""
            if not data:
                return None, b""
            buffered += data
        head, _, rest = buffered.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        request = RecordedRequest(method, target, version, headers, b"", number)
        length = int(request.header("Content-Length", "0") or "0")
        while len(rest) < length:
            data = conn.recv(65536)
            if not data:
                break
            rest += data
        request.body, rest = rest[:length], rest[length:]
        return request, rest

    def _choose(self, request: RecordedRequest) -> Response:
        if self._handler is not None:
            answer = self._handler(request)
            if isinstance(answer, Response):
                return answer
            d = self._default
            return Response(list(answer), d.framing, d.status, d.headers)
        if self._responses is not None:
            with self._lock:
                index = self._next_response
                self._next_response += 1
            if index < len(self._responses):
                return self._responses[index]
            return Response([], "length", 204, ())
        assert self._actions is not None
        d = self._default
        return Response(self._actions, d.framing, d.status, d.headers)

    def _send(
        self, conn: socket.socket, request: RecordedRequest, response: Response
    ) -> bool:
        """Write one response; True if the connection may serve another."""
        reason = HTTPStatus(response.status).phrase
        head = [f"HTTP/1.1 {response.status} {reason}"]
        head += [f"{name}: {value}" for name, value in response.headers]
        if response.framing == "chunked":
            head.append("Transfer-Encoding: chunked")
        elif response.framing == "close":
            head.append("Connection: close")
        elif response.status not in (204, 304):
            size = sum(len(a) for a in response.actions if isinstance(a, bytes))
            head.append(f"Content-Length: {size}")
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        for action in response.actions:
            if isinstance(action, bytes):
                if response.framing == "chunked":
                    if action:
                        conn.sendall(b"%x\r\n%s\r\n" % (len(action), action))
                else:
                    conn.sendall(action)
            elif isinstance(action, Pause):
                time.sleep(action.seconds)
            elif isinstance(action, WaitFor):
                if not self._wait(action):
                    with self._lock:
                        self.timeouts += 1
            elif isinstance(action, Close):
                if action.reset:
                    conn.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                return False
        if response.framing == "chunked":
            conn.sendall(b"0\r\n\r\n")
        if response.framing == "close":
            conn.shutdown(socket.SHUT_WR)
            return False
        wants_close = (request.header("Connection") or "").lower() == "close"
        return not wants_close and request.version == "HTTP/1.1"

    def _wait(self, action: WaitFor) -> bool:
        deadline = time.monotonic() + action.timeout
        while not action.event.wait(0.02):
            if self._stopping.is_set() or time.monotonic() > deadline:
                return False
        return True
