"""A fast, spec-exact Server-Sent Events client in one file.

Drop-in for sseclient-py::

    import requests
    from sseclient import SSEClient

    response = requests.get(url, stream=True)
    for event in SSEClient(response).events():
        print(event.event, event.data)

The parsing follows the WHATWG HTML Living Standard, "Server-sent events",
part "Interpreting an event stream", rule by rule.  The module reads top to
bottom in the order data flows: constants and errors, `Event`, the sans-I/O
`EventStreamParser`, `SSEClient` and its byte sources, async, reconnection,
and the command line.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast

if TYPE_CHECKING:
    import argparse
    import http.server

    from typing_extensions import Self

__version__ = "1.0.0"

__all__ = [
    "DEFAULT_MAX_EVENT_SIZE",
    "Event",
    "EventStreamParser",
    "EventTooLarge",
    "SSEClient",
    "SSEError",
    "__version__",
]

logger = logging.getLogger("sseclient")

# ---------------------------------------------------------------------------
# Constants and errors
# ---------------------------------------------------------------------------

#: The largest event (its whole block of lines, in characters) the parser
#: buffers before it gives up.  Large enough for a whole document sent as one
#: event (a Firebase stream's first ``put`` can be tens of MiB).
DEFAULT_MAX_EVENT_SIZE = 64 * 1024 * 1024


class SSEError(Exception):
    """Base class of every error this module raises."""


class EventTooLarge(SSEError):
    """An event, or one line of it, grew past ``max_event_size`` characters.

    The stream cannot go on after this: the rest of the oversized event is
    not known to be well formed.
    """

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"event of at least {size} characters is larger than max_event_size={limit}"
        )
        self.size = size
        self.limit = limit


# ---------------------------------------------------------------------------
# Event
# ---------------------------------------------------------------------------


class Event:
    """One dispatched event: ``id``, ``event`` (type), ``data`` and ``retry``.

    ``id`` is the stream's last event ID when the event was dispatched
    (``None`` if the stream never set one), ``event`` is the type
    (``"message"`` unless the server named one), ``data`` the data lines
    joined with LF, and ``retry`` the reconnection time in milliseconds that
    this event's own block set, or ``None``.
    """

    __slots__ = ("data", "event", "id", "retry")

    def __init__(
        self,
        id: str | None = None,
        event: str = "message",
        data: str = "",
        retry: int | None = None,
    ) -> None:
        self.id = id
        self.event = event
        self.data = data
        self.retry = retry

    def json(self) -> Any:
        """The data parsed as JSON."""
        return json.loads(self.data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return (self.id, self.event, self.data, self.retry) == (
            other.id,
            other.event,
            other.data,
            other.retry,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like sseclient-py's

    def __repr__(self) -> str:
        return (
            f"Event(id={self.id!r}, event={self.event!r}, data={self.data!r},"
            f" retry={self.retry!r})"
        )

    def __str__(self) -> str:
        # sseclient-py's format, to the letter (its "1 bytes" included).
        s = f"{self.event} event"
        if self.id:
            s += f" #{self.id}"
        s += f", {len(self.data)} bytes" if self.data else ", no data"
        if self.retry:
            s += f", retry in {self.retry}ms"
        return s


# ---------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------


class EventStreamParser:
    """A sans-I/O event stream parser: bytes in, `Event` objects out.

    ``feed(chunk)`` returns the events that the chunk completes, in order, as
    soon as their terminating blank line is in; ``end()`` marks the end of a
    stream (a connection), discarding an unterminated event as the spec says.
    The same parser can then be fed the next connection's stream: it keeps
    ``last_event_id`` and ``retry``, which is what reconnection needs.

    It knows nothing of sockets, so sync, async and custom transports all
    drive it the same way.
    """

    def __init__(
        self,
        char_enc: str = "utf-8",
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        last_event_id: str | None = None,
    ) -> None:
        #: The spec's "last event ID string": the ID buffer as it stood at the
        #: last blank line.  This is what a reconnection sends.
        self.last_event_id = last_event_id
        #: The last valid ``retry:`` value, in milliseconds.
        self.retry: int | None = None
        self._char_enc = char_enc
        self._limit = sys.maxsize if max_event_size is None else max_event_size
        self.end()

    def end(self) -> None:
        """End of the stream: forget any unterminated event and get ready to
        parse a new stream (a BOM may start it again)."""
        if self._char_enc.lower().replace("_", "-") in ("utf-8", "utf8"):
            self._decoder = None
        else:
            self._decoder = codecs.getincrementaldecoder(self._char_enc)("replace")
        self._undecoded = b""  # the start of a UTF-8 character split by a chunk
        self._at_start = True
        # The last text ended in CR, so an LF that starts the next text is the
        # second half of a CRLF, not a line of its own.
        self._after_cr = False
        # The unterminated last line, in pieces: joining on every chunk would
        # make a long line cost quadratic time.
        self._tail: list[str] = []
        self._tail_size = 0
        self._start_block()

    def _start_block(self) -> None:
        # The fields of the event whose first lines came in earlier chunks.
        self._in_block = False
        self._block_size = 0
        self._data: list[str] = []
        self._event_type = ""
        self._block_retry: int | None = None
        # Browsers start each connection's ID buffer from the last event ID
        # string, so an ID survives a reconnection.
        self._id_buffer = self.last_event_id

    def feed(self, data: bytes) -> list[Event]:
        """Parse the next chunk of the stream; return the events it ends."""
        if self._decoder is None:
            # The standard library's UTF-8 codec, without the Python-level
            # wrapper of its incremental decoder, which would cost more than
            # the parsing of a typical chunk.
            if self._undecoded:
                data = self._undecoded + data
            text, used = codecs.utf_8_decode(data, "replace", False)
            self._undecoded = data[used:]
        else:
            text = self._decoder.decode(data)
        if not text:
            return []
        if self._at_start:
            # "One leading U+FEFF BYTE ORDER MARK character must be ignored if
            # any are present."
            self._at_start = False
            if text[0] == "\ufeff":
                text = text[1:]
        if self._after_cr:
            self._after_cr = False
            if text[0] == "\n":
                text = text[1:]
            if not text:
                return []
        if "\r" in text:
            # "Lines must be separated by either a U+000D CARRIAGE RETURN
            # U+000A LINE FEED (CRLF) character pair, a single U+000A LINE
            # FEED (LF) character, or a single U+000D CARRIAGE RETURN (CR)
            # character."  From here on, LF is the only line end.
            self._after_cr = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            self._add_to_tail(text)
            return []
        if self._tail:
            self._tail.append(text)
            text = "".join(self._tail)
            self._tail = []
            self._tail_size = 0
        # `text` starts at the start of a line.
        if len(text) > self._limit:
            self._check_block_sizes(text)
        events: list[Event] = []
        if self._in_block:
            text = self._finish_block(text, events)
        blocks = text.split("\n\n")
        rest = blocks.pop()
        last_id = self.last_event_id
        for block in blocks:
            if block[:5] == "data:" and "\n" not in block:
                # The common case, worth its own path: one `data` line.
                value = block[6:] if block[5:6] == " " else block[5:]
                events.append(Event(last_id, "message", value))
            else:
                event = self._take_lines(block.split("\n"), True)
                last_id = self.last_event_id
                if event is not None:
                    events.append(event)
        if "\n" in rest:
            self._start_partial_block(rest)
        elif rest:
            # The start of the next event's first line.
            self._tail = [rest]
            self._tail_size = len(rest)
            if self._tail_size > self._limit:
                raise EventTooLarge(self._tail_size, self._limit)
        return events

    def _add_to_tail(self, text: str) -> None:
        self._tail.append(text)
        self._tail_size += len(text)
        self._check_size()

    def _check_size(self) -> None:
        size = self._block_size + self._tail_size
        if size > self._limit:
            raise EventTooLarge(size, self._limit)

    def _check_block_sizes(self, text: str) -> None:
        # Only called for a text longer than the limit, so rarely.
        sizes = [len(block) for block in text.split("\n\n")]
        if self._in_block:
            sizes[0] += self._block_size
        if max(sizes) > self._limit:
            raise EventTooLarge(max(sizes), self._limit)

    def _finish_block(self, text: str, events: list[Event]) -> str:
        """Feed `text` to an event begun in earlier chunks; return what follows
        the event's blank line, or "" if the blank line is not in yet."""
        if text[0] == "\n":
            lines, rest = [], text[1:]
        else:
            head, blank, rest = text.partition("\n\n")
            if not blank:
                self._start_partial_block(text)
                return ""
            lines = head.split("\n")
        event = self._take_lines(lines, True)
        if event is not None:
            events.append(event)
        return rest

    def _start_partial_block(self, text: str) -> None:
        """Take the complete lines of an unterminated block; keep the last,
        incomplete, line for the next chunk."""
        lines = text.split("\n")
        last = lines.pop()
        if lines:
            self._take_lines(lines, False)
            self._block_size += len(text) - len(last)
        if last:
            self._tail.append(last)
            self._tail_size = len(last)
        self._check_size()

    def _take_lines(self, lines: list[str], blank_line_follows: bool) -> Event | None:
        """Process the field lines of one event, continuing what earlier
        chunks began; if the event's blank line follows them, dispatch it.

        `lines` holds no blank line but perhaps a leading one, which only
        repeats the reset that ended the event before."""
        data = self._data
        event_type = self._event_type
        id_buffer = self._id_buffer
        retry = self._block_retry
        for line in lines:
            # "Collect the characters on the line before the first U+003A
            # COLON character (:), and let field be that string.  Collect the
            # characters on the line after the first U+003A COLON character
            # (:), and let value be that string.  If value starts with a
            # U+0020 SPACE character, remove it from value."  A line with no
            # colon is a field with an empty value, and a comment (a line
            # starting with a colon) is a field named "", which is ignored.
            field, _, value = line.partition(":")
            if value[:1] == " ":
                value = value[1:]
            if field == "data":
                data.append(value)
            elif field == "event":
                event_type = value
            elif field == "id":
                # "If the field value does not contain U+0000 NULL, then set
                # the last event ID buffer to the field value."
                if "\0" not in value:
                    id_buffer = value
            elif field == "retry" and value.isdigit() and value.isascii():
                # "If the field value consists of only ASCII digits, then
                # interpret the field value as an integer in base ten."
                self.retry = retry = int(value)
        if not blank_line_follows:
            self._in_block = True
            self._event_type = event_type
            self._id_buffer = id_buffer
            self._block_retry = retry
            return None
        # Dispatch: "Set the last event ID string of the event source to the
        # value of the last event ID buffer."
        self.last_event_id = self._id_buffer = id_buffer
        if self._in_block:
            self._start_block()
        elif data:
            self._data = []
        # "If the data buffer is an empty string, set the data buffer and the
        # event type buffer to the empty string and return."
        if not data:
            return None
        # "If the data buffer's last character is a U+000A LINE FEED (LF)
        # character, then remove the last character from the data buffer."
        return Event(id_buffer, event_type or "message", "\n".join(data), retry)


# ---------------------------------------------------------------------------
# SSEClient: events from a source of bytes
# ---------------------------------------------------------------------------


def _byte_chunks(source: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks of bytes a source gives, each as soon as it has it."""
    return iter(source)


class SSEClient:
    """Events from an event stream source; a drop-in for sseclient-py.

    ``event_source`` is any iterable of ``bytes`` chunks.  Iterate the client,
    or its ``events()``, to get each `Event` as soon as its terminating blank
    line has arrived.
    """

    def __init__(
        self,
        event_source: Iterable[bytes],
        char_enc: str = "utf-8",
        *,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        self._event_source = event_source
        self._parser = EventStreamParser(char_enc, max_event_size)
        self._events = self._read_events(_byte_chunks(event_source))

    @property
    def last_event_id(self) -> str | None:
        """The last event ID the stream set (``None`` until it sets one)."""
        return self._parser.last_event_id

    @property
    def retry(self) -> int | None:
        """The last valid ``retry:`` value in milliseconds, or ``None``."""
        return self._parser.retry

    def _read_events(self, chunks: Iterator[bytes]) -> Generator[Event, None, None]:
        feed = self._parser.feed
        for chunk in chunks:
            yield from feed(chunk)
        self._parser.end()

    def events(self) -> Iterator[Event]:
        """The stream's events, each yielded as soon as it is complete."""
        return self._events

    def __iter__(self) -> Iterator[Event]:
        return self._events

    def __next__(self) -> Event:
        return next(self._events)

    def close(self) -> None:
        """Stop reading and close the event source (if it can be closed)."""
        self._events.close()
        close = getattr(self._event_source, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# ---------------------------------------------------------------------------
# Async: AsyncSSEClient
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Reconnection: connect() and aconnect()
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Command line: python -m sseclient
# ---------------------------------------------------------------------------

_EXAMPLES = """\
examples:
  sseclient --demo                  a built-in server shows a stream resuming
  sseclient https://example.com/stream
  sseclient -H 'Authorization: Bearer TOKEN' --json URL | jq -r .data
  sseclient -X POST -d '{"prompt": "hi"}' URL
  curl -sN URL | sseclient -        events from standard input
  sseclient recorded.sse            events from a file
"""

# Options that only mean something for a URL: attribute name, flag.
_URL_OPTIONS = {
    "headers": "-H",
    "last_event_id": "--last-event-id",
    "method": "-X",
    "data": "-d",
    "no_reconnect": "--no-reconnect",
    "timeout": "--timeout",
}


def main(argv: list[str] | None = None) -> int:
    """Run the ``sseclient`` command; return its exit status.

    0 when the stream ends for good (HTTP 204, the end of a file), when
    ``--max-events`` is reached, or on Ctrl-C; 1 on a failure, reported in one
    line on standard error; 2 on a usage error.
    """
    args = _parse_args(argv)
    _log_to_stderr(args.verbose)
    try:
        if args.demo:
            _run_demo(args)
        else:
            with _open_stream(args) as stream:
                _print_events(stream, args, sys.stdout)
    except KeyboardInterrupt:
        # Ctrl-C is how one stops watching a stream, not a failure.
        logger.info("interrupted")
    except BrokenPipeError:
        # The reader went away (`sseclient URL | head`): stop quietly.  Point
        # stdout at devnull so that its flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except Exception as exc:
        logger.debug("failed", exc_info=True)
        print(f"sseclient: error: {_describe_error(exc)}", file=sys.stderr)
        return 1
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    import argparse

    parser = argparse.ArgumentParser(
        prog="sseclient",
        description="Print the events of a Server-Sent Events stream as they arrive.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "source",
        nargs="?",
        metavar="URL|FILE|-",
        help="an http(s) URL, a file of a recorded stream, or - for standard input",
    )
    add(
        "--demo",
        action="store_true",
        help="stream from a built-in server on 127.0.0.1 that drops the connection"
        " once, to show the client resuming (no network needed)",
    )
    add(
        "-H",
        "--header",
        dest="headers",
        action="append",
        metavar="'NAME: VALUE'",
        help="send this request header (repeatable)",
    )
    add("--last-event-id", metavar="ID", help="send Last-Event-ID: ID, to resume")
    add(
        "-X",
        "--method",
        type=str.upper,
        help="the request method (default: GET, or POST with -d)",
    )
    add(
        "-d",
        "--data",
        metavar="BODY",
        help="send this request body (a JSON object or array goes as"
        " application/json unless -H gives a Content-Type)",
    )
    add(
        "--json",
        action="store_true",
        help="print each event as one line of JSON: id, event, data, retry",
    )
    add(
        "--event",
        action="append",
        metavar="TYPE",
        help="print only the events of this type (repeatable)",
    )
    add(
        "--no-reconnect",
        action="store_true",
        help="stop when the connection ends instead of reconnecting",
    )
    add(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="give up connecting, or waiting on a silent stream, after this long",
    )
    add("--max-events", type=int, metavar="N", help="stop after printing N events")
    add(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log connections to standard error (-vv: the HTTP library's too)",
    )
    add("--version", action="version", version=f"%(prog)s {__version__}")
    args = parser.parse_args(argv)
    _check_args(args, parser.error)
    return args


def _check_args(args: argparse.Namespace, error: Callable[[str], NoReturn]) -> None:
    if args.demo == (args.source is not None):
        error("give a URL, a FILE or - (standard input), or --demo")
    if args.source is not None and not _is_url(args.source):
        given = [flag for name, flag in _URL_OPTIONS.items() if getattr(args, name)]
        if given:
            error(f"{', '.join(given)}: only for a URL")
    if args.timeout is not None and not args.timeout > 0:
        error("--timeout: must be more than 0")
    if args.max_events is not None and args.max_events < 1:
        error("--max-events: must be 1 or more")
    try:
        args.headers = _request_headers(args.headers or [], args.data)
    except ValueError as exc:
        error(str(exc))


def _is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def _request_headers(lines: list[str], body: str | None) -> dict[str, str]:
    """The ``-H 'Name: value'`` options as a dict; a JSON body gets its
    Content-Type unless one is given."""
    headers = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"-H {line!r}: expected 'Name: value'")
        headers[name.strip()] = value.strip()
    if (
        body is not None
        and _is_json_document(body)
        and not any(name.lower() == "content-type" for name in headers)
    ):
        headers["Content-Type"] = "application/json"
    return headers


def _is_json_document(text: str) -> bool:
    """Whether `text` is a JSON object or array."""
    if text.lstrip()[:1] not in ("{", "["):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _log_to_stderr(verbosity: int) -> None:
    """``-v``: this module's log on standard error; ``-vv``: every logger's."""
    if not verbosity:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s.%(msecs)03d %(name)s: %(message)s", "%H:%M:%S")
    )
    target = logging.getLogger() if verbosity > 1 else logger
    target.addHandler(handler)
    target.setLevel(logging.DEBUG)


def _open_stream(args: argparse.Namespace) -> SSEClient:
    if args.source == "-":
        logger.info("reading events from standard input")
        stdin = cast("io.BufferedIOBase", sys.stdin.buffer)
        return SSEClient(_read1_chunks(stdin))
    if not _is_url(args.source):
        logger.info("reading events from %s", args.source)
        return SSEClient(_read1_chunks(_open_file(args.source)))
    return _connect(args.source, args)


def _open_file(path: str) -> io.BufferedIOBase:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise SSEError(
            f"{path}: no such file (a URL starts with http:// or https://)"
        ) from None


def _read1_chunks(file: io.BufferedIOBase) -> Iterator[bytes]:
    """The file's bytes, each chunk as soon as it is in: `read1` returns what
    one read of a pipe gives instead of waiting to fill a buffer."""
    with file:
        while True:
            chunk = file.read1(65536)
            if not chunk:
                return
            yield chunk


def _connect(url: str, args: argparse.Namespace) -> SSEClient:
    raise NotImplementedError  # waiting for connect()


def _print_events(
    events: Iterable[Event], args: argparse.Namespace, out: TextIO
) -> int:
    """Print each event that ``--event`` lets through as soon as it arrives,
    up to ``--max-events``; return how many were printed."""
    show = _json_line if args.json else _pretty_printer(out)
    count = 0
    for event in events:
        if args.event and event.event not in args.event:
            continue
        out.write(show(event) + "\n")
        out.flush()
        count += 1
        if count == args.max_events:
            break
    return count


def _json_line(event: Event) -> str:
    # ASCII JSON stays valid whatever the encoding of standard output.
    return json.dumps(
        {
            "id": event.id,
            "event": event.event,
            "data": event.data,
            "retry": event.retry,
        },
        separators=(",", ":"),
    )


# A server's text could carry terminal escape sequences: on a terminal, show
# control characters (but tab) as escapes instead.
_CONTROL_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F) if c != 0x09}


def _pretty_printer(out: TextIO) -> Callable[[Event], str]:
    """A readable layout: the type (coloured on a terminal unless NO_COLOR is
    set), the ID and the retry on one line, then the data lines, indented."""
    on_terminal = out.isatty()
    colour = (
        on_terminal
        and not os.environ.get("NO_COLOR")
        and os.environ.get("TERM") != "dumb"
    )
    bold, dim, reset = ("\x1b[1;36m", "\x1b[2m", "\x1b[0m") if colour else ("", "", "")

    def clean(text: str) -> str:
        return text.translate(_CONTROL_ESCAPES) if on_terminal else text

    def pretty(event: Event) -> str:
        text = f"{bold}{clean(event.event)}{reset}"
        if event.id:
            text += f" {dim}id={clean(event.id)}{reset}"
        if event.retry is not None:
            text += f" {dim}retry={event.retry}ms{reset}"
        if event.data:
            for line in event.data.split("\n"):
                text += f"\n  {clean(line)}" if line else "\n"
        return text

    return pretty


def _describe_error(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


# -- the demo ---------------------------------------------------------------

# The demo's feed: (id, type, data).  The first connection is dropped in the
# middle of _DEMO_FEED[_DEMO_DROP_AT].
_DEMO_FEED = (
    ("1", "message", "Hello from the sseclient demo server."),
    ("2", "progress", '{"step": 1, "of": 3}'),
    ("3", "progress", '{"step": 2, "of": 3}'),
    (
        "4",
        "message",
        "A two-line event: the first time the server sends it,\n"
        "it drops the connection half-way through.",
    ),
    ("5", "progress", '{"step": 3, "of": 3}'),
    ("6", "done", "That was every event, each printed once."),
)
_DEMO_DROP_AT = 3
_DEMO_RETRY_MS = 300
_DEMO_PAUSE = 0.15  # seconds between events


def _run_demo(args: argparse.Namespace) -> None:
    server = _start_demo_server()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    _demo_note(f"sseclient demo: serving a sample event stream at {url}")
    try:
        with _connect(url, args) as stream:
            _print_events(stream, args, sys.stdout)
    finally:
        server.shutdown()
        server.server_close()


def _demo_note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _start_demo_server() -> http.server.ThreadingHTTPServer:
    """The demo's server, on 127.0.0.1 at a free port, serving in a thread."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            _serve_demo_feed(self)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("demo server: " + format, *args)

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            # Most likely the client went away (Ctrl-C, --max-events).
            logger.debug("demo server: connection error", exc_info=True)

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server


def _serve_demo_feed(request: http.server.BaseHTTPRequestHandler) -> None:
    """Stream the feed after the request's Last-Event-ID; drop the first
    connection part-way; answer 204 once there is nothing left."""
    last_id = request.headers.get("Last-Event-ID")
    ids = [id for id, _, _ in _DEMO_FEED]
    start = ids.index(last_id) + 1 if last_id in ids else 0
    if start == len(ids):
        _demo_note(
            f"demo server: Last-Event-ID: {last_id} was the last event:"
            " answering 204 No Content, which ends the stream"
        )
        request.send_response(204)
        request.end_headers()
        return
    if last_id is None:
        _demo_note("demo server: a client connected; streaming from event 1")
    else:
        _demo_note(
            f"demo server: the client reconnected with Last-Event-ID: {last_id};"
            f" resuming at event {ids[start]}"
        )
    request.send_response(200)
    request.send_header("Content-Type", "text/event-stream")
    request.send_header("Cache-Control", "no-cache")
    request.end_headers()
    request.wfile.write(f"retry: {_DEMO_RETRY_MS}\n\n".encode())
    for index in range(start, len(ids)):
        time.sleep(_DEMO_PAUSE)
        block = _demo_block(*_DEMO_FEED[index])
        if last_id is None and index == _DEMO_DROP_AT:
            request.wfile.write(block[: len(block) // 2])
            _demo_note(
                f"demo server: dropping the connection in the middle of event"
                f" {ids[index]}"
            )
            return
        request.wfile.write(block)


def _demo_block(id: str, type: str, data: str) -> bytes:
    lines = [f"id: {id}"]
    if type != "message":
        lines.append(f"event: {type}")
    lines += [f"data: {line}" for line in data.split("\n")]
    return ("\n".join(lines) + "\n\n").encode()


if __name__ == "__main__":
    sys.exit(main())
