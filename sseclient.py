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

import contextlib
import functools
import json
import logging
import socket
import sys
import warnings
from collections.abc import Callable, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

__version__ = "1.0.0"

__all__ = [
    "DEFAULT_MAX_EVENT_SIZE",
    "Event",
    "EventStreamParser",
    "EventTooLarge",
    "NotStreamingWarning",
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


class NotStreamingWarning(SSEError, UserWarning):
    """`SSEClient` got an HTTP response whose body was already read in full.

    Its events are all there, but none came before the whole stream had
    ended: for a live stream, open the response with ``stream=True``
    (requests), ``preload_content=False`` (urllib3) or ``client.stream()``
    (httpx).
    """


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
        self._at_start = True
        # The last chunk ended in CR, so an LF that starts the next one is the
        # second half of a CRLF, not a line end of its own.
        self._after_cr = False
        # The bytes of the unfinished last line, as the chunks brought them.
        # They are decoded once the line is complete, so a character split
        # between chunks needs no incremental decoder, and a long line is
        # joined once rather than on every chunk.
        self._tail: list[bytes] = []
        self._tail_size = 0
        self._start_block()

    def _start_block(self) -> None:
        # The fields of an event whose first lines came in earlier chunks.
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
        if self._after_cr and data:
            self._after_cr = False
            if data[0] == 10:
                data = data[1:]
        # "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A
        # LINE FEED (CRLF) character pair, a single U+000A LINE FEED (LF)
        # character, or a single U+000D CARRIAGE RETURN (CR) character."
        end = data.rfind(b"\n")
        cr = data.rfind(b"\r")
        if cr > end:
            end = cr
        if end < 0:
            if data:
                self._tail.append(bytes(data))  # a bytearray may be reused
                self._tail_size += len(data)
                self._check_size()
            return []
        end += 1
        self._after_cr = end == len(data) and data[-1] == 13
        lines, rest = data[:end], data[end:]
        finished_long_line = False
        if len(self._tail) == 1:
            lines = self._tail[0] + lines
            self._tail = []
            self._tail_size = 0
        elif self._tail:
            lines = self._finish_long_line(lines)
            finished_long_line = True
        if self._at_start:
            text = self._decode(lines)
        else:
            text = lines.decode(self._char_enc, "replace")
        if "\r" in text:
            # From here on, LF is the only line end.
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if finished_long_line:
            text = text[1:]  # the long line's own line end
        events: list[Event] = []
        if text:
            self._take_text(text, events)
        if rest:
            self._tail.append(rest)
            self._tail_size = len(rest)
            if self._block_size + self._tail_size > self._limit:
                self._check_size()
        return events

    def _take_text(self, text: str, events: list[Event]) -> None:
        """Parse complete lines (`text` ends with a line end)."""
        if self._in_block:
            text = self._finish_block(text, events)
        if len(text) > self._limit:
            self._check_block_sizes(text)
        blocks = text.split("\n\n")
        unfinished = blocks.pop()
        last_id = self.last_event_id
        for block in blocks:
            # The common cases, worth their own paths: one `data` line, or
            # only `data: ` lines.
            if block.startswith("data:"):
                if "\n" not in block:
                    value = block[6:] if block[5:6] == " " else block[5:]
                    events.append(Event(last_id, "message", value))
                    continue
                if block[5:6] == " " and block.count("\n") == block.count("\ndata: "):
                    value = block[6:].replace("\ndata: ", "\n")
                    events.append(Event(last_id, "message", value))
                    continue
            event = self._take_lines(block.split("\n"), True)
            last_id = self.last_event_id
            if event is not None:
                events.append(event)
        if unfinished:
            self._take_lines(unfinished[:-1].split("\n"), False)
            self._block_size += len(unfinished)
            self._check_size()

    def _decode(self, raw: bytes) -> str:
        # Only whole lines are decoded, so no character is split.  "Bytes or
        # sequences of bytes that are not valid UTF-8 sequences must be
        # interpreted as the U+FFFD REPLACEMENT CHARACTER."  feed() decodes
        # inline once the stream has started.
        text = raw.decode(self._char_enc, "replace")
        if self._at_start:
            # "One leading U+FEFF BYTE ORDER MARK character must be ignored
            # if any are present."
            self._at_start = False
            if text[:1] == "\ufeff":
                text = text[1:]
        return text

    def _finish_long_line(self, lines: bytes) -> bytes:
        """End the line that spans the tail's chunks with the first line of
        `lines`; return `lines` from that line's line end on."""
        cr, lf = lines.find(b"\r"), lines.find(b"\n")
        line_end = lf if cr < 0 or 0 <= lf < cr else cr
        pieces = self._tail
        pieces.append(lines[:line_end])
        self._block_size += self._tail_size + line_end + 1
        self._tail = []
        self._tail_size = 0
        self._check_size()
        field, _, value = pieces[0].partition(b":")
        if field == b"data" and value and not self._at_start:
            # A long data value (a whole document sent as one event) is
            # joined and decoded once, without copying the line around it.
            pieces[0] = value[1:] if value[:1] == b" " else value
            self._data.append(self._decode(b"".join(pieces)))
            self._in_block = True
        else:
            self._take_lines([self._decode(b"".join(pieces))], False)
        return lines[line_end:]

    def _check_size(self) -> None:
        """Raise EventTooLarge if the unfinished event is over the limit."""
        size = self._block_size + self._tail_size
        if size > self._limit:
            raise EventTooLarge(size, self._limit)

    def _check_block_sizes(self, text: str) -> None:
        # Only called for a text longer than the limit, so rarely.
        size = max(len(block) for block in text.split("\n\n"))
        if size > self._limit:
            raise EventTooLarge(size, self._limit)

    def _finish_block(self, text: str, events: list[Event]) -> str:
        """Feed `text` to an event begun in earlier chunks; return what follows
        the event's blank line, or "" if the blank line is not in yet."""
        if text[0] == "\n":
            lines, rest = [], text[1:]
        else:
            head, blank, rest = text.partition("\n\n")
            self._block_size += len(head)
            self._check_size()
            if not blank:
                self._take_lines(text[:-1].split("\n"), False)
                return ""
            lines = head.split("\n")
        event = self._take_lines(lines, True)
        if event is not None:
            events.append(event)
        return rest

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

#: The most one read asks for.  Every reader below returns whatever bytes have
#: arrived, so this only bounds a chunk: it never makes a read wait.
_READ_SIZE = 65536


def _byte_chunks(source: Any) -> Iterator[bytes]:
    """The chunks of bytes a source gives, each as soon as it has it.

    The HTTP libraries' own iterators read blocks of a fixed size and wait
    for a block to fill, which holds the last event of a burst back until
    the next burst when the body is not chunk-encoded; these readers return
    what has arrived.  Each library's response is recognised by its methods,
    so none of the libraries is imported here.
    """
    if hasattr(source, "iter_content") and hasattr(source, "raw"):
        return _requests_chunks(source)
    if hasattr(source, "iter_bytes") and hasattr(source, "iter_raw"):
        return _httpx_chunks(source)
    if hasattr(source, "release_conn") and hasattr(source, "stream"):
        return _urllib3_chunks(source)
    if hasattr(source, "read1"):
        chunks = _read_chunks(source.read1)
        if hasattr(source, "getheader"):
            # An http.client.HTTPResponse, which leaves the body encoded.
            return _decoded(chunks, source.getheader("Content-Encoding"))
        return chunks
    if hasattr(source, "read"):
        # A raw binary file (io.RawIOBase) reads what is there.
        return _read_chunks(source.read)
    return iter(source)


def _read_chunks(read: Callable[[int], bytes | None]) -> Iterator[bytes]:
    """Chunks from a ``read1``-like function, until it returns no bytes."""
    while True:
        chunk = read(_READ_SIZE)
        if not chunk:
            return
        yield chunk


def _requests_chunks(response: Any) -> Iterator[bytes]:
    content = getattr(response, "_content", None)
    if isinstance(content, bytes):
        _warn_read_in_full("a requests.Response", "requests.get(url, stream=True)")
        return iter((content,))
    return _requests_errors(_byte_chunks(response.raw))


def _requests_errors(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """`chunks`, with urllib3's errors raised as the ones that
    ``Response.iter_content`` raises for them, so that code written for
    sseclient-py over requests catches what it always caught."""
    from requests import exceptions
    from urllib3 import exceptions as urllib3_exceptions

    try:
        yield from chunks
    except urllib3_exceptions.ProtocolError as e:
        raise exceptions.ChunkedEncodingError(e) from e
    except urllib3_exceptions.DecodeError as e:
        raise exceptions.ContentDecodingError(e) from e
    except urllib3_exceptions.ReadTimeoutError as e:
        raise exceptions.ConnectionError(e) from e
    except urllib3_exceptions.SSLError as e:
        raise exceptions.SSLError(e) from e


def _urllib3_chunks(response: Any) -> Iterator[bytes]:
    body = getattr(response, "_body", None)
    if isinstance(body, bytes):
        _warn_read_in_full("a urllib3.HTTPResponse", "preload_content=False")
        return iter((body,))
    if hasattr(response, "read1"):  # urllib3 2.2 and later
        return _read_chunks(functools.partial(response.read1, decode_content=True))
    return _urllib3_legacy_chunks(response)


def _urllib3_legacy_chunks(response: Any) -> Iterator[bytes]:
    """The body of a urllib3 1.26 to 2.1 response, whose ``read(n)`` waits
    for ``n`` bytes: read the http.client response under it, decode as
    urllib3 would, and let urllib3 turn socket errors into its own."""
    file = response._fp
    if not hasattr(file, "read1"):
        yield from response.stream(_READ_SIZE, decode_content=True)
        return
    response._init_decoder()
    decode = response._decode
    with response._error_catcher():
        for chunk in _read_chunks(file.read1):
            yield decode(chunk, True, False)
        yield decode(b"", True, True)


def _httpx_chunks(response: Any) -> Iterator[bytes]:
    # httpx (and httpx2) hand over what each socket read returns, decoded.
    if isinstance(getattr(response, "_content", None), bytes):
        _warn_read_in_full("an httpx.Response", 'client.stream("GET", url)')
    chunks: Iterator[bytes] = response.iter_bytes()
    return chunks


def _decoded(chunks: Iterator[bytes], content_encoding: str | None) -> Iterator[bytes]:
    """`chunks` with their Content-Encoding undone (gzip or deflate)."""
    coding = (content_encoding or "identity").strip().lower()
    if coding == "identity":
        return chunks
    if coding in ("gzip", "x-gzip", "deflate"):
        return _inflated(chunks)
    raise SSEError(f"cannot decode a body with Content-Encoding: {content_encoding}")


def _inflated(chunks: Iterator[bytes]) -> Iterator[bytes]:
    import zlib

    # 32 + MAX_WBITS takes a gzip or a zlib header, whichever the body has.
    decompressor = zlib.decompressobj(32 + zlib.MAX_WBITS)
    for chunk in chunks:
        yield decompressor.decompress(chunk)
    yield decompressor.flush()


def _warn_read_in_full(what: str, remedy: str) -> None:
    # stacklevel: this function, the reader, _byte_chunks, SSEClient.__init__,
    # and then the caller's line.
    warnings.warn(
        f"SSEClient got {what} whose body was already read in full, so no event"
        f" comes before the whole stream has ended; use {remedy} for a live"
        " stream",
        NotStreamingWarning,
        stacklevel=5,
    )


def _close_source(source: object) -> None:
    _shut_down(source)
    close = getattr(source, "close", None)
    if close is not None:
        close()
    # A urllib3 response gives its (now closed) connection back to its pool,
    # as requests does when it closes one.
    release_conn = getattr(source, "release_conn", None)
    if release_conn is not None:
        release_conn()


def _shut_down(source: Any) -> None:
    """Shut the reading side of the socket under a response still being read,
    so that a read blocked on it in another thread returns at once: closing
    alone would wait for that read to end."""
    with contextlib.suppress(OSError, ValueError, LookupError, AttributeError):
        if hasattr(source, "iter_bytes"):
            # httpx: only an HTTP/1 connection is this response's alone.
            if not source.is_closed and source.http_version.startswith("HTTP/1"):
                stream = source.extensions["network_stream"]
                stream.get_extra_info("socket").shutdown(socket.SHUT_RD)
            return
        # requests holds a urllib3 response, and urllib3 an http.client one,
        # whose file number is its socket's until the body has been read.
        sock = socket.socket(fileno=getattr(source, "raw", source).fileno())
        try:
            sock.shutdown(socket.SHUT_RD)
        finally:
            sock.detach()  # the handle made here must not close the socket


class SSEClient:
    """Events from an event stream source; a drop-in for sseclient-py.

    ``event_source`` is one of:

    * a ``requests.Response`` got with ``stream=True``;
    * a ``urllib3.HTTPResponse`` got with ``preload_content=False``
      (urllib3 1.26 or 2.x);
    * an ``httpx.Response`` (or ``httpx2.Response``) from
      ``client.stream(...)``;
    * an ``http.client.HTTPResponse`` (as from ``urllib.request.urlopen``)
      or any binary file object (``read1``, else ``read``);
    * any other iterable of ``bytes`` chunks.

    From a response or file the client reads whatever bytes have arrived,
    never waiting for a block to fill, and undoes a gzip or deflate
    Content-Encoding.  Iterate the client, or its ``events()``, to get each
    `Event` as soon as its terminating blank line has arrived.

    A requests, urllib3 or httpx response whose body was already read in full
    (``requests.get`` without ``stream=True``, urllib3's default
    ``preload_content=True``) still gives its events, but only after the
    whole stream has ended, so the client warns with `NotStreamingWarning`
    (an error under ``-W error``) rather than fail a script that works.

    Errors of the HTTP library propagate: a body cut short mid-chunk raises
    as it would when read directly (requests' errors for a requests
    response, as its ``iter_content`` would raise them).  ``close()``, also
    on leaving a ``with`` block, closes the response.
    """

    def __init__(
        self,
        event_source: object,
        char_enc: str = "utf-8",
        *,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        self._event_source = event_source
        self._closed = False
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
        try:
            for chunk in chunks:
                yield from feed(chunk)
        except Exception:
            if not self._closed:
                raise
            # close() cut short a read in another thread: no error, the end.
        self._parser.end()

    def events(self) -> Iterator[Event]:
        """The stream's events, each yielded as soon as it is complete."""
        return self._events

    def __iter__(self) -> Iterator[Event]:
        return self._events

    def __next__(self) -> Event:
        return next(self._events)

    def close(self) -> None:
        """Stop reading and close the event source (if it can be closed).

        It may be called from another thread than the one iterating: the
        response's socket is shut down, which ends that thread's iteration
        at once (with no error).
        """
        self._closed = True
        _close_source(self._event_source)
        # ValueError: "generator already executing", in the other thread.
        with contextlib.suppress(ValueError):
            self._events.close()

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
