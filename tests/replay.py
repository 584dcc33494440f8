r"""Recordings of real servers' responses: read them, and serve them again.

A recording is what ``python -m sseclient URL --record FILE`` (that is,
``sseclient.connect(URL, reconnect=False, record=FILE)``) saved from one
connection, as it arrived.  It is UTF-8 text, one item a line::

    # sseclient recording 1: GET http://127.0.0.1:8000/events
    +0.001532 HTTP/1.1 200 OK
    date: Wed, 03 Dec 2025 09:30:00 GMT
    content-type: text/event-stream; charset=utf-8
    transfer-encoding: chunked

    +0.002001 : ping - 2025-12-03 09:30:00.002001+00:00\r\n\r\n
    +0.104113 id: 1\r\nevent: greeting\r\ndata: hello\r\n\r\n
    end +2.511362 eof

* Lines that start with ``#`` before the status line are comments; the
  first says what was asked for.
* Then the status line and the response headers, one a line, in the order
  and spelling they came in, ending with an empty line.  The status line
  starts with the time the headers had arrived.
* Then one line per read of the body, ``+SECONDS BYTES``: the bytes that one
  read gave, as they arrived.  They are the body after the HTTP chunked
  framing is taken off but before any ``Content-Encoding`` is undone, so a
  gzip stream is recorded, and replays, as gzip.  One read gives at most one
  HTTP chunk, and at most what had arrived, so the lines show the server's
  chunk boundaries unless TCP split a chunk.
* Last, ``end +SECONDS HOW``: how the body ended.  ``eof``: the server ended
  it (the last chunk, the Content-Length reached, or the connection closed
  where that is how the body ends); ``error NAME: TEXT``: reading it failed
  (e.g. ``IncompleteRead``: the connection closed in the middle of the
  chunked body); ``stopped``: the recorder stopped reading first.
* Every time is in seconds since the request had been sent, with six
  decimals.
* The bytes are written as text that gives back the same bytes: valid UTF-8
  is written as itself, but ``\\`` is a backslash, ``\n`` LF, ``\r`` CR,
  ``\t`` tab, and ``\xHH`` the byte HH (used for each byte of a control or
  other unprintable character, of invalid UTF-8, and for a space at the end
  of a line).  Header lines are escaped the same way (their bytes as
  Latin-1).  No other backslash sequence occurs.

`ReplayServer` serves a recording on 127.0.0.1 with the status line and
headers it recorded and the body's bytes cut as asked: at the recorded
boundaries (optionally paced as recorded, scaled), one byte at a time, all at
once, or in pieces of a fixed size.  A recorded chunked body is sent chunked,
each piece one HTTP chunk; a body with a Content-Length or that ends when the
connection closes is sent that way.  A body that ended in an error is cut off
the same way: the connection is closed without the last chunk.
"""

from __future__ import annotations

import re
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Union

MAGIC = "# sseclient recording 1"

_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|[\\nrt])|\\")
_SHORT = {"\\": b"\\", "n": b"\n", "r": b"\r", "t": b"\t"}
_TIMED = re.compile(r"\+(\d+\.\d+)(?: (.*))?\Z", re.DOTALL)


def unescape(text: str) -> bytes:
    """The bytes a line of a recording stands for."""
    out = bytearray()
    pos = 0
    for match in _ESCAPE.finditer(text):
        out += text[pos : match.start()].encode("utf-8")
        code = match[1]
        if code is None:
            raise ValueError(f"a backslash that starts no escape in {text!r}")
        out += _SHORT[code] if len(code) == 1 else bytes([int(code[1:], 16)])
        pos = match.end()
    out += text[pos:].encode("utf-8")
    return bytes(out)


@dataclass
class Recording:
    """One recorded response."""

    comments: list[str]
    head_time: float
    status_line: str
    headers: list[tuple[str, str]]
    chunks: list[tuple[float, bytes]]
    end_time: float
    end: str

    @property
    def url(self) -> str:
        """The URL recorded, from the first line."""
        return self.comments[0].rpartition(" ")[2]

    @property
    def status(self) -> int:
        return int(self.status_line.split()[1])

    @property
    def body(self) -> bytes:
        return b"".join(chunk for _, chunk in self.chunks)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def chunked(self) -> bool:
        coding = self.header("Transfer-Encoding") or ""
        return coding.lower().rsplit(",", 1)[-1].strip() == "chunked"


def parse_recording(text: str) -> Recording:
    """Read a recording (see the module docstring)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    pos = 0
    comments = []
    while pos < len(lines) and lines[pos].startswith("#"):
        comments.append(lines[pos][1:].strip())
        pos += 1
    if not comments or not lines[0].startswith(MAGIC):
        raise ValueError(f"not a recording: the first line is not {MAGIC!r}...")
    head_time, status = _timed(lines[pos])
    head = [status.decode("latin-1")]
    pos += 1
    while lines[pos] != "":
        head.append(unescape(lines[pos]).decode("latin-1"))
        pos += 1
    pos += 1
    headers = []
    for line in head[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"a header line without a colon: {line!r}")
        headers.append((name, value.strip()))
    chunks = []
    while not lines[pos].startswith("end "):
        chunks.append(_timed(lines[pos]))
        pos += 1
    end_time, how = _timed(lines[pos][len("end ") :])
    if pos + 1 != len(lines):
        raise ValueError(f"lines after the end line: {lines[pos + 1]!r}")
    return Recording(
        comments, head_time, head[0], headers, chunks, end_time, how.decode()
    )


def _timed(line: str) -> tuple[float, bytes]:
    match = _TIMED.match(line)
    if match is None:
        raise ValueError(f"expected '+SECONDS TEXT', got {line!r}")
    return float(match[1]), unescape(match[2] or "")


def read_recording(path: Path | str) -> Recording:
    # newline="": a CR in the file would be a broken recording, not a line end.
    with open(path, encoding="utf-8", newline="") as file:
        return parse_recording(file.read())


#: How `ReplayServer` cuts the body: "original" (the recorded reads),
#: "whole" (one piece), or pieces of this many bytes.
Chunking = Union[str, int]


def pieces(recording: Recording, chunking: Chunking) -> list[tuple[float, bytes]]:
    """The body cut as asked, each piece with the time to send it (the
    recorded time of the read it starts in)."""
    if chunking == "original":
        return list(recording.chunks)
    body = recording.body
    if chunking == "whole":
        return [(recording.chunks[0][0], body)] if body else []
    assert isinstance(chunking, int) and chunking > 0, chunking
    times = [t for t, chunk in recording.chunks for _ in chunk]
    return [(times[i], body[i : i + chunking]) for i in range(0, len(body), chunking)]


@dataclass
class ReplayServer:
    """Serves `recording` to every request, on 127.0.0.1 at a free port.

    ``pace`` scales the recorded times: 0 sends each piece at once, 1 at the
    moment it arrived in the recording (counted from the request).  Use it
    as a context manager; ``requests`` holds each request's head, as text.
    ``gate``, if given, is called with each piece's index before the piece
    is sent, and may hold it back.
    """

    recording: Recording
    chunking: Chunking = "original"
    pace: float = 0.0
    #: Called with each piece's index before the piece is sent.
    gate: Callable[[int], None] | None = None
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        replay = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                replay._serve(self.request)

        self._server = socketserver.ThreadingTCPServer(
            ("127.0.0.1", 0), Handler, bind_and_activate=False
        )
        self._server.daemon_threads = True
        self._server.allow_reuse_address = True
        self._server.server_bind()
        self._server.server_activate()
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), daemon=True
        )

    @property
    def url(self) -> str:
        """The recorded URL's path and query, on this server."""
        path = "/" + self.recording.url.split("://", 1)[-1].partition("/")[2]
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _serve(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = b""
        while b"\r\n\r\n" not in head:
            data = sock.recv(65536)
            if not data:
                return
            head += data
        start = time.monotonic()
        self.requests.append(head.decode("latin-1"))
        recording = self.recording
        lines = [recording.status_line, *(f"{k}: {v}" for k, v in recording.headers)]
        try:
            self._wait(start, recording.head_time)
            sock.sendall("".join(f"{line}\r\n" for line in lines).encode("latin-1"))
            sock.sendall(b"\r\n")
            for index, (when, piece) in enumerate(pieces(recording, self.chunking)):
                self._wait(start, when)
                if self.gate is not None:
                    self.gate(index)
                if recording.chunked:
                    piece = b"%x\r\n%s\r\n" % (len(piece), piece)
                sock.sendall(piece)
            if recording.chunked and not recording.end.startswith("error"):
                self._wait(start, recording.end_time)
                sock.sendall(b"0\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the client went away: it stopped reading

    def _wait(self, start: float, when: float) -> None:
        delay = start + when * self.pace - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def recordings(directory: Path) -> Iterator[Path]:
    """The recordings in `directory`, by name."""
    return iter(sorted(directory.glob("*.rec")))
