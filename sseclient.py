"""A fast, spec-exact Server-Sent Events client in one file.

Drop-in for sseclient-py::

    import requests
    from sseclient import SSEClient

    response = requests.get(url, stream=True)
    for event in SSEClient(response).events():
        print(event.event, event.data)

The parsing follows the WHATWG HTML Living Standard, "Server-sent events",
part "Interpreting an event stream", rule by rule.  The file reads top to
bottom in the order data flows, in layers; each layer uses the layers above
it through their public names only, and only the transports name an HTTP
library:

1. Errors and `Event`.
2. The parser, `EventStreamParser`: bytes in, events out, no I/O.
3. Transports: the byte sources of every HTTP library, sync and async, how to
   close them, their network errors, and the requests each reconnecting
   stream makes.
4. Clients over a byte source: `SSEClient` and its async twin `AsyncSSEClient`.
5. Reconnection: the policy `_Reconnection`, `EventSource` and its async twin
   `AsyncEventSource`, and `connect` and `aconnect`, which make them.
6. The command line and its demo.

Sync and async twins mirror each other method for method, so that a change
to one shows where the other must change.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import json
import logging
import os
import random
import socket
import sys
import threading
import time
import warnings
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast, overload

if TYPE_CHECKING:
    import argparse
    import asyncio
    import http.client
    import http.server
    import io
    import ssl
    from typing import Literal, Protocol, Union
    from urllib.parse import SplitResult

    import aiohttp
    import anyio
    import httpx
    import requests
    from typing_extensions import Self

__version__ = "1.0.0"


def __getattr__(name: str) -> Any:
    """``sseclient.requests``: the requests module, imported when first asked
    for.  sseclient 0.0.27 imported it at its top, and its users' tests patch
    ``sseclient.requests.get`` or ``sseclient.requests.Session.send``; this
    module does not import it until a URL is read."""
    if name == "requests":
        import requests

        return requests
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_MAX_EVENT_SIZE",
    "AsyncEventSource",
    "AsyncSSEClient",
    "ContentTypeError",
    "ContentTypeWarning",
    "Event",
    "EventSource",
    "EventStreamParser",
    "EventTooLarge",
    "HTTPStatusError",
    "NotStreamingWarning",
    "ResponseError",
    "RetriesExhausted",
    "SSEClient",
    "SSEError",
    "__version__",
    "aconnect",
    "connect",
    "main",
]

logger = logging.getLogger("sseclient")
# A library logs only where the application configures logging.
logger.addHandler(logging.NullHandler())

# ---------------------------------------------------------------------------
# 1. Errors and Event
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


class ContentTypeWarning(SSEError, UserWarning):
    """`SSEClient` or `AsyncSSEClient` got a 2xx response (or sseclient
    0.0.27's ``SSEClient(url)`` a first one) whose ``Content-Type`` is not
    ``text/event-stream``.

    Its body is parsed as an event stream all the same, as sseclient-py
    does; `connect` and `aconnect` raise `ContentTypeError` instead.
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


class ResponseError(SSEError):
    """The server answered, but not with an event stream to read.

    ``status_code`` is the HTTP status and ``response`` the response object
    of the HTTP library (a ``requests.Response`` for `connect` over requests;
    over the standard library, one with the same ``status_code``,
    ``headers``, ``content``, ``text`` and ``json()``).  One that `connect`
    or ``SSEClient(url)`` made is closed, and its body was read first if the
    server declared a length of at most 1 MiB, so that ``response.text``
    shows what the server said; one given to `SSEClient` is left open (a
    requests response's small body is read and kept too).
    """

    def __init__(self, message: str, status_code: int, response: Any) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.response = response


class HTTPStatusError(ResponseError):
    """The server answered with a status other than 200 and 204 (`SSEClient`
    and `AsyncSSEClient`: a status outside 2xx, raised at construction, the
    start of the body quoted in the message).

    `connect` and `aconnect` raise it at once for a status that retrying
    cannot fix (most 4xx); a status worth retrying (408, 429, 5xx but 501
    and 505) is retried, and is the ``__cause__`` of `RetriesExhausted` if
    every attempt failed.
    ``retry_after`` is the wait in seconds that the server asked for in a
    ``Retry-After`` header, or ``None``.
    """

    def __init__(
        self,
        message: str,
        status_code: int,
        response: Any,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code, response)
        self.retry_after = retry_after


class ContentTypeError(ResponseError):
    """A 200 response whose ``Content-Type`` is not ``text/event-stream``.

    ``content_type`` is the header's value (``None`` if it was missing).
    Never retried: the URL does not serve an event stream.
    """

    def __init__(self, message: str, content_type: str | None, response: Any) -> None:
        super().__init__(message, 200, response)
        self.content_type = content_type


class RetriesExhausted(SSEError):
    """``max_attempts`` connection attempts in a row failed.

    ``attempts`` is how many; the last attempt's error (an `HTTPStatusError`,
    or the HTTP library's network error) is the ``__cause__``, or ``None``
    if the last connection ended cleanly without delivering an event.
    """

    def __init__(self, attempts: int, url: str, cause: BaseException | None) -> None:
        reason = "ended without an event" if cause is None else _describe(cause)
        super().__init__(f"gave up on {url} after {attempts} failed attempts: {reason}")
        self.attempts = attempts


def _describe(error: BaseException) -> str:
    """An error's type and message, in one line; the type alone where the
    message is blank (httpx's timeouts have none), so that no report of an
    error ends in nothing."""
    text = " ".join(str(error).split())
    name = type(error).__name__
    return f"{name}: {text}" if text else name


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

    @classmethod
    def parse(cls, raw: str) -> Event:
        """One block of event stream text as an `Event` (sseclient 0.0.27's
        ``Event.parse``, the inverse of `dump`).

        The lines, ended by CRLF, LF or CR, are read by the spec's field
        rules; blank lines are skipped, so the block may end with its blank
        line or not.  ``id`` is the block's own ``id:`` value (``None``
        without one), ``event`` its type (``"message"`` unless named),
        ``data`` its data lines joined with LF (``""`` without any), and
        ``retry`` its last valid ``retry:`` value (ASCII digits), or ``None``.
        """
        if not isinstance(raw, str):
            raise TypeError(
                f"raw: expected the text of an event (str), not {raw!r:.60}"
            )
        event_id: str | None = None
        event_type = ""
        data: list[str] = []
        retry: int | None = None
        for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            field, _, value = line.partition(":")
            if value[:1] == " ":
                value = value[1:]
            if field == "data":
                data.append(value)
            elif field == "event":
                event_type = value
            elif field == "id" and "\0" not in value:
                event_id = value
            elif field == "retry" and value.isdigit() and value.isascii():
                try:
                    retry = int(value)
                except ValueError:  # more digits than int() takes
                    retry = sys.maxsize
        return cls(event_id, event_type or "message", "\n".join(data), retry)

    def json(self) -> Any:
        """The data parsed as JSON."""
        return json.loads(self.data)

    def dump(self) -> str:
        """The event as event stream text, which parses back to this event
        (sseclient 0.0.27's ``Event.dump()``, handy for proxying a stream)."""
        lines = [] if self.id is None else [f"id: {self.id}"]
        if self.event != "message":
            lines.append(f"event: {self.event}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        lines += [f"data: {line}" for line in self.data.split("\n")]
        return "\n".join(lines) + "\n\n"

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


def _make_event(id: str | None, event: str, data: str, retry: int | None) -> Event:
    """The parser's constructor of `Event`: ``object.__new__`` and four stores
    cost a fifth less than ``Event(...)``, whose ``__init__`` is Python code
    (176 against 196 ns an event on Python 3.11)."""
    made = _new_object(Event)
    made.id = id
    made.event = event
    made.data = data
    made.retry = retry
    return made


_new_object = object.__new__


# -- Argument checks: each names the argument and what it accepts ---------


def _check_char_enc(char_enc: object) -> None:
    if not isinstance(char_enc, str):
        raise TypeError(
            "char_enc: expected the name of a text encoding (str),"
            f" not {char_enc!r:.60}"
        )
    try:
        codecs.lookup(char_enc)
    except LookupError:
        raise LookupError(
            f"char_enc: unknown text encoding {char_enc!r:.60} (e.g. 'utf-8')"
        ) from None


def _check_int(name: str, value: object, minimum: int, none_means: str = "") -> None:
    """An int of at least `minimum`, or None if ``none_means`` says what that
    means."""
    if value is None and none_means:
        return
    accepts = f"an int of at least {minimum}"
    if none_means:
        accepts += f", or None ({none_means})"
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name}: expected {accepts}, not {value!r:.60}")
    if value < minimum:
        raise ValueError(f"{name}: expected {accepts}, not {value!r}")


def _check_number(name: str, value: object, unit: str) -> None:
    """A number (int or float) of at least 0, and finite."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{name}: expected a number of {unit}, not {value!r:.60}")
    if not 0 <= value < float("inf"):
        raise ValueError(
            f"{name}: expected a number of {unit} (0 or more), not {value!r}"
        )


def _check_optional_str(name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name}: expected a str or None, not {value!r:.60}")


def _check_url(url: object) -> None:
    if not isinstance(url, str):
        raise TypeError(
            f"url: expected an http:// or https:// URL (str), not {url!r:.60}"
        )
    scheme, colon, _ = url.partition(":")
    if not colon or scheme.lower() not in ("http", "https"):
        raise ValueError(
            f"url: unsupported scheme in {url!r:.80}:"
            " expected an http:// or https:// URL"
        )


def _check_options(
    options: Mapping[str, object], accepted: frozenset[str], where: str
) -> None:
    """Keyword arguments passed on to an HTTP library: refuse an unknown one
    now, not at the first request."""
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise TypeError(
            f"unexpected keyword argument {unknown[0]!r}; the other keyword"
            f" arguments go to {where}, which takes {', '.join(sorted(accepted))}"
        )


# ---------------------------------------------------------------------------
# 2. The parser: bytes in, events out, no I/O
# ---------------------------------------------------------------------------

_BOM = b"\xef\xbb\xbf"  # U+FEFF in UTF-8

# A line that grows longer than this (in bytes) is finished on its own when
# it ends, so that a long data value is decoded without copying the line
# around it; and whole lines of at most this many bytes wait in the tail.
_LONG_LINE = 65536


class EventStreamParser:
    """A sans-I/O event stream parser: bytes in, `Event` objects out.

    ``feed(chunk)`` returns the events that the chunk completes, in order, as
    soon as their terminating blank line is in; ``end()`` marks the end of a
    stream (a connection), discarding an unterminated event as the spec says.
    The same parser can then be fed the next connection's stream: it keeps
    ``last_event_id`` and ``retry``, which is what reconnection needs.

    ``on_comment``, if given, is called with the text of each comment line
    (a line that starts with a colon): what follows the colon, less one
    space if a space follows it, as for a field's value (``": ping"`` and
    ``":ping"`` both give ``"ping"``, a lone ``":"`` gives ``""``).  It is
    called as soon as the comment's line is complete, without waiting for a
    blank line, when the parser reads that line.  The iterators
    (`iter_events`, `feed_iter`) read lazily, event by event, so comments
    and events come in stream order; `feed` reads its whole chunk before it
    returns, so it reports the chunk's comments before it returns the
    chunk's events.  An exception that ``on_comment`` raises propagates, and
    the rest of that chunk is lost.

    ``max_event_size`` bounds the characters of one event (its lines and
    the line ends between them; comment lines do not count) and of any one
    line, comment or not.  The events before an oversized one are delivered
    first (and ``last_event_id`` is theirs); then `EventTooLarge` is raised
    by the next call: the same call if no event came before it in its chunk,
    else the next `feed` or `end` (for `iter_events`, the next chunk or the
    end of the chunks).  From then on, every `feed` raises it again, until
    `end` starts a new stream.

    It knows nothing of sockets, so sync, async and custom transports all
    drive it the same way.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        # With a callback, the parser is a `_CommentParser` (a subclass's
        # too: it gets a class that is both).
        if kwargs.get("on_comment") is not None:
            return cast("Self", object.__new__(_with_comments(cls)))
        return object.__new__(cls)

    def __init__(
        self,
        char_enc: str = "utf-8",
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        last_event_id: str | None = None,
        *,
        on_comment: Callable[[str], object] | None = None,
    ) -> None:
        _check_char_enc(char_enc)
        _check_int("max_event_size", max_event_size, 1, "no limit")
        _check_optional_str("last_event_id", last_event_id)
        # -- What the stream has set, kept across `end` for the next stream.
        #: The spec's "last event ID string": the ID buffer as it stood at the
        #: last blank line.  This is what a reconnection sends.
        self.last_event_id = last_event_id
        #: The spec's "reconnection time": the last valid ``retry:`` value, in
        #: milliseconds (one too long for `int` counts as `sys.maxsize`), or
        #: ``None``.  Set as soon as its line is read.
        self.retry: int | None = None
        self._char_enc = char_enc  # decodes whole lines; bad bytes become U+FFFD
        self._limit = sys.maxsize if max_event_size is None else max_event_size
        # Called with each comment's text; None: comments are dropped unseen.
        self._on_comment = on_comment

        # -- The bytes not parsed yet.  The buffering plan, in one place:
        #
        #     _tail = [whole lines of the unfinished event][the unfinished line]
        #
        # * The whole lines wait, undecoded, till their event's blank line is
        #   in, so that an event is decoded and parsed once, whole, however
        #   the chunks cut it.  They each end in LF (CRLF and CR are made LF
        #   first), hold no blank line, come to at most _LONG_LINE bytes, and
        #   hold no ``retry:`` line: the reconnection time is set when its line
        #   is read, so lines with one are parsed at once (`_take_waiting_lines`).
        #   With ``on_comment`` set they hold no comment either: a comment is
        #   reported when its line is complete (`_CommentParser`).
        # * The unfinished line holds no CR or LF.  It is decoded once it is
        #   whole, so a character split between chunks needs no incremental
        #   decoder.
        self._tail = bytearray()

        # -- An event that went over the limit.  Once set, the error stays
        # till `end`: `_event_size` is then over the limit, so that every
        # path of the parser reaches a size check, which raises it again,
        # before it parses another line.
        self._too_large: EventTooLarge | None = None
        # It was raised (not only noted while the events before it went
        # out): `end` raises it only if not.
        self._too_large_raised = False
        self.end()

    def end(self) -> None:
        """End of the stream: forget any unterminated event and get ready to
        parse a new stream (a BOM may start it again).

        Raise `EventTooLarge` if the stream went over ``max_event_size`` and
        no call has raised it yet (the chunk that went over also ended
        events, which `feed` returned); the parser is reset all the same.
        """
        error = self._too_large
        self._too_large = None
        # -- Where the stream stands.
        # True until the stream's first bytes are in: a BOM may start it.
        self._at_start = True
        # The first bytes of the stream while they may yet be a BOM.
        self._start = b""
        # The last chunk ended in CR, so an LF that starts the next one is the
        # second half of a CRLF, not a line end of its own.
        self._after_cr = False
        # Lines that wait for a blank line will never see it: "If the file
        # ends in the middle of an event, before the final empty line, the
        # incomplete event is not dispatched."
        self._tail.clear()

        # -- The event being read: the spec's buffers, from the lines of it
        # that were parsed (lines that wait in the tail are not).
        # The characters of those lines, each line end counted.  Invariant:
        # 0 exactly when no line of the unfinished event was parsed; then the
        # buffers below are empty and the ID buffer is the last event ID
        # string, which the data path of `_parse_chunks` relies on.
        self._event_size = 0
        self._data: list[str] = []  # the data buffer, one item a line
        self._event_type = ""  # the event type buffer
        self._event_retry: int | None = None  # what this block set: Event.retry
        # The last event ID buffer.  Browsers start each connection's from the
        # last event ID string, so an ID survives a reconnection.
        self._id_buffer = self.last_event_id
        raised, self._too_large_raised = self._too_large_raised, False
        if error is not None and not raised:
            raise error.with_traceback(None)

    def feed(self, data: bytes) -> list[Event]:
        """Parse the next chunk of the stream; return the events it ends."""
        try:
            line_end = 10 in data or 13 in data
        except TypeError:
            _refuse_text(data)
            raise
        if line_end or self._at_start or self._after_cr:
            return list(self._parse_chunks((data,), end_stream=False))
        # Fast path: no line end, so the unfinished line goes on.  Tiny chunks
        # are common from a slow stream; this spares them the engine's start.
        self._tail += data
        if len(self._tail) + self._event_size > self._limit:
            self._check_unfinished()
        return []

    def feed_iter(self, data: bytes) -> Iterator[Event]:
        """`feed`, lazily: the events the chunk ends, each parsed when the
        iteration gets to it, so that ``on_comment`` is called between them
        in stream order.  Iterate it to its end before the next call.
        (Without ``on_comment``, the same as `feed`, but an iterator.)"""
        return self._parse_chunks((data,), end_stream=False)

    def iter_events(self, chunks: Iterable[bytes]) -> Iterator[Event]:
        """The events of a whole stream, given as an iterable of chunks:
        each as soon as the chunk that completes it is in, as `feed` would
        give them; `end` when the chunks run out.

        This is the fastest way to drive the parser: the loop over the chunks
        runs inside it, so a chunk without a line end (tiny chunks are common
        from a slow stream) costs no call.
        """
        return self._parse_chunks(chunks, end_stream=True)

    # -- The plain path: the spec's rules, line by line ---------------------

    def _take_lines(self, data: bytes) -> str:
        """The lines that `data` ends (with the lines and the start of a line
        in the tail before them), decoded, without their last line end and
        with CR and CRLF made LF; what follows them stays in the tail."""
        tail = self._tail
        end = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
        tail += data[:end]
        # "Bytes or sequences of bytes that are not valid UTF-8 sequences must
        # be interpreted as the U+FFFD REPLACEMENT CHARACTER."
        text = tail.decode(self._char_enc, "replace")
        tail.clear()
        if end < len(data):
            tail += data[end:]
        elif data[-1] == 13:
            self._after_cr = True  # an LF may follow
        return text.replace("\r\n", "\n").replace("\r", "\n")[:-1]

    def _take_text(self, text: str) -> list[Event]:
        """Parse complete lines (`text` without its last line end), continuing
        the event that earlier lines began; at each blank line, dispatch it.
        If an event goes over the limit, parse only the events before it."""
        if self._event_size + len(text) >= self._limit:
            start, size = self._too_large_at(text + "\n")
            if start >= 0:
                before = self._take_text(text[: start - 1]) if start else []
                self._over_limit(size, deliver=bool(before))
                return before
        lines = text.split("\n")
        events: list[Event] = []
        data = self._data
        event_type = self._event_type
        id_buffer = self._id_buffer
        retry = self._event_retry
        for line in lines:
            if not line:
                # Dispatch.  "Set the last event ID string of the event
                # source to the value of the last event ID buffer."
                self.last_event_id = id_buffer
                # "If the data buffer is an empty string, set the data
                # buffer and the event type buffer to the empty string and
                # return."  Otherwise "if the data buffer's last character
                # is a U+000A LINE FEED (LF) character, then remove the last
                # character from the data buffer": the LF after the last line.
                if data:
                    events.append(
                        _make_event(
                            id_buffer, event_type or "message", "\n".join(data), retry
                        )
                    )
                    data = []
                event_type = ""
                retry = None
                continue
            # "Collect the characters on the line before the first U+003A
            # COLON character (:), and let field be that string.  Collect the
            # characters on the line after the first U+003A COLON character
            # (:), and let value be that string.  If value starts with a
            # U+0020 SPACE character, remove it from value."  Splitting at
            # the first ": " does all that at once, unless a colon comes
            # before it.  A line with no colon is a field with an empty value,
            # and a comment (a line starting with a colon) is a field named
            # "", which is ignored.
            field, _, value = line.partition(": ")
            if ":" in field:
                field, _, value = line.partition(":")
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
                self.retry = retry = _milliseconds(value)
        self._data = data
        self._event_type = event_type
        self._id_buffer = id_buffer
        self._event_retry = retry
        if not lines[-1]:
            self._event_size = 0
            return events
        # The text ends inside an event: how much of it is in?  Its lines
        # from `start` on, each line end counted, but comment lines.
        blank_line = text.rfind("\n\n")
        if blank_line >= 0:
            start, size = blank_line + 2, 0
        elif not lines[0]:
            start, size = 1, 0
        else:
            start, size = 0, self._event_size
        if text.startswith(":", start) or text.find("\n:", start) >= 0:
            size += _counted(text[start:] + "\n")
        else:
            size += len(text) - start + 1
        self._event_size = size
        return events

    def _too_large_at(self, text: str) -> tuple[int, int]:
        """Where the first event of `text` (whole lines, each with its line
        end) that is over the limit starts (0 if it is the one that earlier
        lines began), and its size; (-1, 0) if none is.  An event's size is
        the characters of its lines and the line ends between them, comment
        lines left out."""
        if self._too_large is not None:
            return 0, self._event_size  # still inside the event that went over
        limit = self._limit
        # A quick bound first: no event of `text` can be larger than this.
        bound = 0
        if self._event_size and text[0] != "\n":
            # The text continues an event.
            blank_line = text.find("\n\n")
            bound = self._event_size + (len(text) if blank_line < 0 else blank_line)
        if len(text) > limit:
            bound = max(bound, *(len(event) for event in text.split("\n\n")))
        if bound <= limit:
            return -1, 0
        # Event by event, each from `start` to its blank line.
        size = self._event_size  # what earlier lines gave the first event
        start = 0
        while start < len(text):
            if text[start] == "\n":
                blank = start
            else:
                blank = text.find("\n\n", start)
                blank = len(text) if blank < 0 else blank + 1
            lines = text[start:blank]
            if lines[:1] == ":" or "\n:" in lines:
                size += _counted(lines)
            else:
                size += len(lines)
            if size - 1 > limit:
                return start, size - 1
            size = 0
            start = blank + 1
        return -1, 0

    def _check_unfinished(self, deliver: bool = False) -> int:
        """If the unfinished event, its parsed lines and the tail, is over
        the limit, go over it (`_over_limit`).  Return the room left for it.

        Comment lines do not count: the whole lines that wait are parsed
        first (comments drop out of the count), and an unfinished comment
        line counts on its own."""
        size = self._event_size + len(self._tail)
        if self._too_large is None:
            if size <= self._limit:
                return self._limit - self._event_size
            self._take_waiting_lines()
            tail = self._tail
            size = len(tail) + (0 if tail.startswith(b":") else self._event_size)
            if size <= self._limit:
                return self._limit - self._event_size
        self._over_limit(size, deliver)
        return self._limit - self._event_size

    def _over_limit(self, size: int, deliver: bool) -> None:
        """The event being read is over the limit, at `size` characters: it
        cannot be parsed, nor can what follows it.  Raise `EventTooLarge`, or
        if `deliver` (the caller holds events that came before it) only note
        it, for the next call to raise.  Every call raises it from then on,
        till `end`."""
        error = self._too_large
        if error is None:
            error = self._too_large = EventTooLarge(size, self._limit)
            # Stay inside the oversized event (see `__init__`).
            self._event_size = max(size, self._limit + 1)
            self._tail.clear()
        if not deliver:
            self._too_large_raised = True
            raise error.with_traceback(None)

    # -- The engine, and its fast paths -------------------------------------

    def _parse_chunks(
        self, chunks: Iterable[bytes], end_stream: bool
    ) -> Iterator[Event]:
        """The engine of `feed` and `iter_events`: the events that `chunks`
        end, in order.  Each chunk takes the first of these steps that fits:

        1. At the start of a stream, or after a chunk that ended in CR: drop
           a byte order mark, or the LF of a CRLF that the chunks split
           (`_strip_start`), then go on.
        2. No line end in the chunk: the unfinished line grows.  Fast path:
           one append (slow streams send many tiny chunks).
        3. A line longer than _LONG_LINE ends: `_end_long_line` decodes it
           without copying it and parses the rest of the chunk (the way a
           32 MiB event stays linear).
        4. A lone CR, or a CR at the end whose LF may start the next chunk:
           the plain path (`_take_lines`, `_take_text`).  Otherwise CRLF
           becomes LF and the rest reads LF line ends only.
        5. More whole lines than may wait, or more than one event may hold:
           the plain path.
        6. No event ends in the chunk: its lines wait in the tail.  Fast path:
           one append, however many lines; an event that arrives line by line
           is still parsed once, whole (16.7k instead of 28.6k instructions
           an event when each line and its LF come apart).
        7. Events end: from the tail's start to the chunk's last blank line,
           the text is decoded once, and
           a. if it is events of ``data: `` lines only, they are split apart
              with one call, and their `Event` made without parsing a line.
              Fast path: the commonest text of all (LLM token streams cost
              6.8k instructions an event this way, 10.6k by 7b);
           b. else parsed by `_take_text`.
           What follows the last blank line waits in the tail (as in 6).

        `benchmarks/instructions.py` counts what each workload costs.
        """
        # The hot loop keeps what it needs on every chunk in locals.  After a
        # step that calls the plain path, `_settle` gives the two that state
        # can change: `room`, what the unfinished event may still take before
        # it is too large, and `plain`, that step 1 is not needed.
        tail = self._tail  # the same bytearray
        room = self._limit - self._event_size
        plain = not (self._at_start or self._after_cr)
        char_enc = self._char_enc
        new_object = _new_object
        data: object = None
        try:
            for data in chunks:
                if not plain:  # 1.
                    data = self._strip_start(data)
                    plain = not (self._at_start or self._after_cr)
                # "Lines must be separated by either a U+000D CARRIAGE RETURN
                # U+000A LINE FEED (CRLF) character pair, a single U+000A LINE
                # FEED (LF) character, or a single U+000D CARRIAGE RETURN (CR)
                # character."  (`10 in data` is much cheaper than `b"\n" in data`.)
                if 10 not in data and 13 not in data:  # 2.
                    tail += data
                    if len(tail) > room:
                        room = self._check_unfinished()
                    continue
                if len(tail) > _LONG_LINE:  # 3.
                    events, room, plain = self._settle(self._end_long_line(data))
                    yield from events
                    continue
                if 13 in data:  # 4.
                    lf_only = data.replace(b"\r\n", b"\n")
                    if 13 in lf_only:
                        lines = self._take_lines(data)
                        events, room, plain = self._settle(self._take_text(lines))
                        yield from events
                        continue
                    data = lf_only
                # The chunk's last blank line: what comes before it ends events,
                # what follows it waits.  (Or the blank line starts the chunk,
                # after a line end that ended the tail.)
                head, blank_line, rest = data.rpartition(b"\n\n")
                straddle = False
                if not blank_line and data[0] == 10:
                    straddle = not tail or tail[-1] == 10
                if straddle:
                    rest = data[1:]
                if 10 in rest and len(tail) + len(rest) > min(_LONG_LINE, room):  # 5.
                    lines = self._take_lines(data)
                    events, room, plain = self._settle(self._take_text(lines))
                    yield from events
                    continue
                if not (blank_line or straddle):  # 6.
                    tail += data
                    if tail.find(b"retry:") >= 0:  # rare: parse its lines now
                        room = self._take_waiting_lines()
                    if len(tail) > room:
                        room = self._check_unfinished()
                    continue
                # 7.  The text is whole lines, without the last one's "\n\n".
                if straddle and tail:
                    del tail[-1]
                if tail:
                    tail += head
                    text = tail.decode(char_enc, "replace")
                    tail.clear()
                else:
                    text = head.decode(char_enc, "replace")
                if rest:
                    tail += rest
                if text[:6] == "data: " and not self._event_size and len(text) < room:
                    # 7a.
                    values = text[6:].split("\n\ndata: ")
                    for value in values:
                        if "\n" in value:  # an event of more lines than one
                            values = _data_lines(values)
                            break
                    if values:
                        if 10 in rest and rest.find(b"retry:") >= 0:  # rare, as in 6.
                            room = self._take_waiting_lines()
                        # Each Event made inline, as `_make_event` would: a call
                        # for each took LLM token streams from 6.8k instructions
                        # an event to 8.3k.
                        last_id = self.last_event_id
                        for value in values:
                            made = new_object(Event)
                            made.id = last_id
                            made.event = "message"
                            made.data = value
                            made.retry = None
                            yield made
                        continue
                # 7b.
                events, room, plain = self._settle(self._take_text(text + "\n"))
                if 10 in rest and rest.find(b"retry:") >= 0:  # rare, as in 6.
                    room = self._take_waiting_lines()
                yield from events
        except TypeError:
            _refuse_text(data)
            raise
        if end_stream:
            self.end()

    def _settle(self, events: list[Event]) -> tuple[list[Event], int, bool]:
        """After a step of `_parse_chunks` that parsed lines: check the size
        of the unfinished event, and give the engine the events and its
        locals ``room`` and ``plain`` anew."""
        room = self._limit - self._event_size
        if len(self._tail) > room:
            room = self._check_unfinished(deliver=bool(events))
        return events, room, not self._after_cr

    def _strip_start(self, data: bytes) -> bytes:
        """Drop what starts a chunk but is not text: the byte order mark
        that may start a stream, the LF of a CRLF that the last chunk split."""
        if self._at_start:
            data = self._skip_bom(data)
        if self._after_cr and data:
            self._after_cr = False
            if data[0] == 10:
                data = data[1:]
        return data

    def _skip_bom(self, data: bytes) -> bytes:
        """Drop a byte order mark at the start of the stream: "One leading
        U+FEFF BYTE ORDER MARK character must be ignored if any are
        present."  Return what follows it, or b"" while it may still come."""
        start = self._start + data
        if len(start) < 3 and _BOM.startswith(start):
            self._start = start
            return b""
        self._at_start = False
        self._start = b""
        return start[3:] if start[:3] == _BOM else start

    def _end_long_line(self, data: bytes) -> list[Event]:
        """End the long unfinished line in the tail with `data`'s first line,
        then parse the rest of `data`; return the events that it ends."""
        cr, lf = data.find(b"\r"), data.find(b"\n")
        line_end = lf if cr < 0 or 0 <= lf < cr else cr
        self._take_waiting_lines()
        line = self._tail
        line += data[:line_end]
        comment = line.startswith(b":")  # a line of its own, not of the event
        size = len(line) + (0 if comment else self._event_size)
        if size > self._limit:
            self._over_limit(size, deliver=False)
        if line.startswith(b"data:"):
            # A long data value (a whole document sent as one event) is
            # decoded without copying the line around it first.
            start = 6 if line[5:6] == b" " else 5
            with memoryview(line) as view:
                self._data.append(str(view[start:], self._char_enc, "replace"))
        else:
            self._take_text(line.decode(self._char_enc, "replace"))
        line.clear()
        if not comment:
            self._event_size = size + 1
        rest = data[line_end + 1 :]
        if data[line_end] == 13:  # a CR, perhaps the first half of a CRLF
            if rest[:1] == b"\n":
                rest = rest[1:]
            elif not rest:
                self._after_cr = True
        if 10 in rest or 13 in rest:
            return self._take_text(self._take_lines(rest))
        line += rest
        return []

    def _take_waiting_lines(self) -> int:
        """Parse the whole lines that wait in the tail, which keeps the
        unfinished line; return the room left for the unfinished event."""
        # They are all in the first _LONG_LINE bytes (see _parse_chunks, 5).
        end = self._tail.rfind(b"\n", 0, _LONG_LINE)
        if end >= 0:
            self._take_text(self._tail[:end].decode(self._char_enc, "replace"))
            del self._tail[: end + 1]
        return self._limit - self._event_size


class _CommentParser(EventStreamParser):
    """An `EventStreamParser` given ``on_comment`` (`EventStreamParser.__new__`
    makes one): its engine reports each comment when its line is complete.
    A class of its own, so that a parser without a callback never tests for
    one (a test in `feed` cost 0.4% of its instructions, llm workload)."""

    _on_comment: Callable[[str], object]

    def _parse_chunks(
        self, chunks: Iterable[bytes], end_stream: bool
    ) -> Iterator[Event]:
        """The engine that reports comments: the parser's own a chunk at a
        time, but a chunk that ends a comment line is parsed by the plain
        path, whole, so that no comment waits in the tail: its callback is
        due when its line is complete."""
        engine = EventStreamParser._parse_chunks
        data: object = None
        try:
            for data in chunks:
                if self._at_start or self._after_cr:
                    data = self._strip_start(data)
                if self._ends_comment(data):
                    yield from self._take_commented(self._take_lines(data))
                else:
                    yield from engine(self, (data,), end_stream=False)
        except TypeError:
            _refuse_text(data)
            raise
        if end_stream:
            self.end()

    def _take_commented(self, text: str) -> Iterator[Event]:
        """`_take_text` for whole lines some of which are comments: the runs
        of lines between comments are parsed one by one, and each comment
        is reported between them as the iteration gets there, so that an
        iterator gives comments and events in stream order.  (Comments never
        reach `_take_text`, which ignores them.)"""
        on_comment = self._on_comment
        delivered = False  # an event of this text went out
        start = 0  # where the next run of lines begins
        while start <= len(text):
            if text.startswith(":", start):
                comment = start
            else:
                line_end = text.find("\n:", start)
                run = text[start:] if line_end < 0 else text[start:line_end]
                try:
                    events = self._take_text(run)
                except EventTooLarge:
                    if not delivered:
                        raise
                    # Events of this text went out first: the next call
                    # raises it, as `_over_limit` does with ``deliver``.
                    self._too_large_raised = False
                    break
                if events:
                    delivered = True
                    yield from events
                if line_end < 0 or self._too_large is not None:
                    break
                comment = line_end + 1
            line_end = text.find("\n", comment)
            if line_end < 0:
                line_end = len(text)
            # "If the line starts with a U+003A COLON character (:)": ignored
            # by the spec, reported here; one leading space goes, as it does
            # from a field's value.
            value = text[comment + 1 : line_end]
            on_comment(value[1:] if value[:1] == " " else value)
            start = line_end + 1
        if len(self._tail) > self._limit - self._event_size:
            self._check_unfinished(deliver=delivered)

    def _ends_comment(self, data: bytes) -> bool:
        """Whether `data` may end a comment line: a line that starts in it,
        or the unfinished line in the tail, starts with a colon, and a line
        ends in it."""
        if (10 not in data and 13 not in data) or self._too_large is not None:
            return False  # (the engine raises the error at once)
        if data[:1] == b":" or b"\n:" in data or b"\r:" in data:
            return True
        tail = self._tail
        return tail.startswith(b":", tail.rfind(b"\n") + 1)


def _with_comments(cls: type[EventStreamParser]) -> type[EventStreamParser]:
    """The class of a parser of class `cls` given ``on_comment``."""
    if issubclass(cls, _CommentParser):
        return cls
    made = _COMMENT_CLASSES.get(cls)
    if made is None:
        bases = (_CommentParser, cls)
        made = type(cls.__name__, bases, {"__module__": cls.__module__})
        _COMMENT_CLASSES[cls] = made
    return made


# Each class of parser, and the class of its parsers given ``on_comment``.
_COMMENT_CLASSES: dict[type[EventStreamParser], type[EventStreamParser]] = {
    EventStreamParser: _CommentParser
}


def _counted(lines: str) -> int:
    """The characters of `lines` (each with its line end) that count
    towards an event's size: all but those of comment lines."""
    return sum(len(line) + 1 for line in lines.split("\n")[:-1] if line[:1] != ":")


def _data_lines(values: list[str]) -> list[str]:
    """The data of events written as one text of ``data: `` lines each,
    their first line's prefix cut; [] if an event has another kind of line."""
    data = []
    for value in values:
        lines = value.replace("\ndata: ", "\n")
        # Every LF must have lost the 6 characters of a "data: " after it.
        if lines.count("\n") * 6 != len(value) - len(lines):
            return []
        data.append(lines)
    return data


def _refuse_text(data: object) -> None:
    """Say what is wrong if a chunk is text: the parser reads bytes."""
    if isinstance(data, str):
        raise TypeError(
            "an event stream is read as bytes, not str: pass the chunks"
            " undecoded (requests: iter_content(), not decode_unicode)"
        ) from None


def _milliseconds(digits: str) -> int:
    """A ``retry:`` value as an int, even one too long for `int`."""
    try:
        return int(digits)
    except ValueError:
        return sys.maxsize


# ---------------------------------------------------------------------------
# 3. Transports: byte sources, closing them, and the requests of a stream
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
    if hasattr(getattr(response, "_fp", None), "read1") and hasattr(
        response, "_error_catcher"
    ):
        return _urllib3_read1_chunks(response)
    # Not an HTTPResponse over http.client (another BaseHTTPResponse): its
    # public reads, which may wait for a full block without read1.
    if hasattr(response, "read1"):
        return _read_chunks(functools.partial(response.read1, decode_content=True))
    chunks: Iterator[bytes] = response.stream(_READ_SIZE, decode_content=True)
    return chunks


def _urllib3_read1_chunks(response: Any) -> Iterator[bytes]:
    """The body of a urllib3 response (1.26 and 2.x) as the http.client
    response under it returns it: read that response's ``read1`` and do
    what urllib3's own reads do around it, once for the whole body.

    urllib3 1.26 to 2.1 have no ``read1``, and their ``read(n)`` waits for
    ``n`` bytes.  2.2 and later have one, but (2.8, one HTTP chunk per
    event) a call of it takes ~5.5 us of CPU against ~1.6 us for the
    http.client read1 under it (a context manager, a buffer of decoded
    bytes and several calls each time), and this reader ~1.65 us an event:
    SSEClient over requests or urllib3 went from 32 to 71 MB/s on the
    ``llm`` workload of benchmarks/bench_e2e.py (event-chunks framing).
    No public API reads the body under urllib3, so its internals are used,
    in 1.26, 2.0 to 2.1 and 2.2 and later alike:
    ``_fp`` (the http.client response), ``_error_catcher()`` (turns socket
    and http.client errors into urllib3's, and lets the connection go back
    to the pool when the body is read or closed), ``_init_decoder()`` and
    ``_decode()`` (the Content-Encoding: gzip, deflate, br, zstd),
    ``_fp_bytes_read`` and ``length_remaining`` (what ``tell()`` reports, and
    how a Content-Length body cut short is found), ``_decoded_buffer`` and
    the decoder's ``has_unconsumed_tail`` (2.x: what an earlier read left).
    """
    file = response._fp
    response._init_decoder()
    decoder = response._decoder  # None: the body is not encoded
    with response._error_catcher():
        # What an earlier read of the user's left behind comes first: bytes
        # decoded but not returned (urllib3 2.x), and input that the decoder
        # was told not to decode yet (2.6 and later).
        buffered = getattr(response, "_decoded_buffer", None)
        if buffered:
            yield buffered.get(len(buffered))
        if getattr(decoder, "has_unconsumed_tail", False):
            yield response._decode(b"", True, False)
        read1 = file.read1
        # Whether the body has a Content-Length, whose rest urllib3 counts.
        counted = response.length_remaining is not None
        while chunk := read1(_READ_SIZE):
            response._fp_bytes_read += len(chunk)
            if counted:
                response.length_remaining -= len(chunk)
            yield chunk if decoder is None else response._decode(chunk, True, False)
        # As urllib3 does at the end: http.client's read1 (before Python
        # 3.13) leaves the response open when a Content-Length body has
        # been read in full, and closing it gives the connection back.
        file.close()
        if response.enforce_content_length and response.length_remaining:
            # The server closed the connection before the Content-Length
            # was reached; urllib3 raises ProtocolError for this (requests:
            # ChunkedEncodingError).
            from urllib3.exceptions import IncompleteRead

            raise IncompleteRead(response._fp_bytes_read, response.length_remaining)
        if decoder is not None:
            yield response._decode(b"", True, True)


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
    # stacklevel: this function, the reader, _byte_chunks, SSEClient._read,
    # SSEClient.__init__, then the caller's line.
    warnings.warn(
        f"SSEClient got {what} whose body was already read in full, so no event"
        f" comes before the whole stream has ended; use {remedy} for a live"
        " stream",
        NotStreamingWarning,
        stacklevel=6,
    )


def _close_response(source: object) -> None:
    """Close a response (or any source of bytes that can be closed), cutting
    short a read of it in another thread."""
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


# -- Responses: their status, headers and the start of their body ---------


def _response_status(source: object) -> tuple[int, Mapping[str, str] | None] | None:
    """The status and headers of an HTTP response of any library; ``None``
    for a source that is not a response (a file, an iterable of chunks) or
    whose status is not a number (a test double such as a ``Mock``).  The
    headers (looked up without regard to case) are ``None`` if the response
    has none to read (a test double again): it is read as sseclient 0.0.27
    would, without a ``Content-Type`` check."""
    status = getattr(source, "status_code", None)  # requests, httpx
    if status is None:
        status = getattr(source, "status", None)  # urllib3, http.client, aiohttp
    if not isinstance(status, int) or isinstance(status, bool):
        return None
    headers = getattr(source, "headers", None)
    if isinstance(headers, Mapping):
        return status, headers
    if hasattr(source, "getheader") and hasattr(headers, "get_content_type"):
        # http.client: an email.message.Message, whose get() ignores case.
        return status, cast("Mapping[str, str]", headers)
    return status, None


#: The most characters of a body that an error message quotes.
_EXCERPT_LIMIT = 300


def _body_start(source: Any, *, read: bool) -> bytes:
    """The first bytes of a response's body, its Content-Encoding undone:
    what the library holds already if it read the body, else (with
    ``read``) what the first reads give, up to a little more than an error
    message quotes.  Whatever fails here, the error being reported is the
    one that matters: a body that cannot be read is ``b""``."""
    for name in ("_content", "_body"):  # requests and httpx; urllib3 and aiohttp
        held = getattr(source, name, None)
        if isinstance(held, bytes):
            return held[: 4 * _EXCERPT_LIMIT]
    start = b""
    if read and hasattr(source, "iter_content") and hasattr(source, "raw"):
        # requests: a small body is read whole, so that the response's
        # ``text`` and ``json()`` still give it.
        with contextlib.suppress(Exception):
            if _body_worth_keeping(source.headers):
                return bytes(source.content[: 4 * _EXCERPT_LIMIT])
    if read:
        with contextlib.suppress(Exception):
            for chunk in _byte_chunks(source):
                start += chunk
                if len(start) >= 4 * _EXCERPT_LIMIT:
                    break
    return start


def _excerpt(body: bytes) -> str:
    """The start of a body, for an error message: decoded as UTF-8, control
    characters escaped (a body may hold terminal escapes), cut at
    _EXCERPT_LIMIT characters."""
    text = body[: 4 * _EXCERPT_LIMIT].decode("utf-8", "replace")
    text = text[: _EXCERPT_LIMIT + 1].translate(_ESCAPES)
    return text if len(text) <= _EXCERPT_LIMIT else text[:_EXCERPT_LIMIT] + "..."


_ESCAPES = {
    **{c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))},
    0x09: "\\t",
    0x0A: "\\n",
    0x0D: "\\r",
}


def _is_event_stream(content_type: str | None) -> bool:
    # "HTTP 200 OK responses with a `Content-Type` header specifying the type
    # `text/event-stream`, ignoring any MIME type parameters, must be
    # processed line by line."
    if content_type is None:
        return False
    return content_type.partition(";")[0].strip().lower() == "text/event-stream"


def _status_text(status: int) -> str:
    import http

    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


if TYPE_CHECKING:

    class _HttpxResponse(Protocol):
        """An ``httpx.Response`` (or ``httpx2.Response``) opened for streaming."""

        def aiter_bytes(self) -> AsyncIterator[bytes]: ...
        async def aclose(self) -> None: ...

    class _AiohttpBody(Protocol):
        """An ``aiohttp.StreamReader``: a response's body."""

        def iter_any(self) -> AsyncIterator[bytes]: ...

    class _AiohttpResponse(Protocol):
        """An ``aiohttp.ClientResponse``."""

        @property
        def content(self) -> _AiohttpBody: ...
        def release(self) -> object: ...

    AsyncByteSource = Union[
        AsyncIterable[bytes], _HttpxResponse, _AiohttpResponse, _AiohttpBody
    ]


def _async_byte_chunks(source: AsyncByteSource) -> AsyncIterator[bytes]:
    """The chunks of bytes an async source gives, each as soon as it has it."""
    if hasattr(source, "aiter_bytes"):
        # httpx: the body with its Content-Encoding undone, each read handed
        # on as it comes off the socket (no chunk_size, so no regrouping).
        return cast("_HttpxResponse", source).aiter_bytes()
    body = getattr(source, "content", source)
    if hasattr(body, "iter_any"):
        # aiohttp: whatever the (decompressed) body buffer holds.  A
        # StreamReader's own iteration would wait for a whole LF-ended line.
        return cast("_AiohttpBody", body).iter_any()
    if not hasattr(source, "__aiter__"):
        raise TypeError(
            "source: expected an async iterable of bytes chunks or an httpx or"
            f" aiohttp response, not {type(source).__name__}"
            " (SSEClient reads sync ones)"
        )
    return cast("AsyncIterable[bytes]", source).__aiter__()


async def _aclose(closable: object) -> None:
    aclose = getattr(closable, "aclose", None)
    if aclose is not None:
        await aclose()  # an async generator, an httpx response
    elif hasattr(closable, "release"):
        # An aiohttp response: this drops a connection whose body was not
        # read to the end, and gives back to the pool one that was.
        cast("_AiohttpResponse", closable).release()


# -- The requests of a reconnecting stream --------------------------------
#
# `EventSource` and `AsyncEventSource` make their requests through a
# transport, twins again: ``send(headers)`` makes one request and returns
# the library's response once its headers are in; ``status(response)``
# gives its status and headers, ``chunks(response)`` its body;
# ``keep_small_body`` reads the body of a response that is not a stream,
# for the error that reports it; ``close_response`` ends one response and
# ``close`` the whole transport; ``network_errors`` are the errors that
# mean a connection could not be made or was lost.
#
# ``abort()``, called from another thread (sync) or task (async), makes the
# request in flight fail at once in whatever it waits for: the connection
# to be made, the response headers, or the next bytes of the body; and it
# makes any request started before the next ``rearm()`` fail too, so that
# an abort that comes just before a request starts is not lost.  `close`
# and `restart` abort; `EventSource` calls ``rearm`` as each attempt starts.
#
# The async transports also wait, in their library's way (httpx runs under
# asyncio and trio through anyio; aiohttp under asyncio alone): ``wakeup()``
# makes the event that ends a wait, ``sleep(delay, wakeup)`` waits ``delay``
# seconds or until that event is set.

#: The largest body, in bytes, of a response that is not a stream that is
#: read for the `ResponseError` that reports it.
_ERROR_BODY_LIMIT = 1 << 20


def _body_worth_keeping(headers: Mapping[str, str]) -> bool:
    """Whether to read the body of a response that is not a stream: if its
    length is known and small, so that ``error.response.text`` (or
    ``.json()``) shows what the server said, such as an API's error message."""
    length = headers.get("Content-Length", "")
    return length.isdigit() and int(length) <= _ERROR_BODY_LIMIT


def _requests_network_errors() -> tuple[type[BaseException], ...]:
    """The errors of requests (and of the libraries under it) that mean a
    connection could not be made or was lost: worth another attempt."""
    import http.client

    import requests
    import urllib3

    return (
        requests.exceptions.ConnectionError,
        requests.exceptions.Timeout,
        requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.ProtocolError,
        urllib3.exceptions.ReadTimeoutError,
        http.client.HTTPException,
        ConnectionError,
        TimeoutError,
        socket.timeout,
    )


def _requests_importable() -> bool:
    """Whether requests is installed (and imports)."""
    try:
        import requests  # noqa: F401
    except ImportError:
        return False
    return True


def _httpx_network_errors() -> tuple[type[BaseException], ...]:
    """The errors of httpx that mean a connection could not be made or was
    lost: worth another attempt."""
    import httpx

    return (
        httpx.TimeoutException,
        httpx.NetworkError,
        httpx.RemoteProtocolError,
        httpx.ProxyError,
    )


if TYPE_CHECKING:

    class _Transport(Protocol):
        """What `EventSource` asks of a transport; ``response`` is whatever
        ``send`` returns."""

        network_errors: tuple[type[BaseException], ...]

        def send(self, headers: Mapping[str, str | bytes]) -> Any: ...
        def status(self, response: Any) -> tuple[int, Mapping[str, str] | None]: ...
        def chunks(self, response: Any) -> Iterator[bytes]: ...
        def keep_small_body(self, response: Any) -> None: ...
        def close_response(self, response: Any) -> None: ...
        def rearm(self) -> None: ...
        def abort(self) -> None: ...
        def close(self) -> None: ...


class _Aborted(SSEError):
    """A request that its transport's ``abort`` ended.  Only `close` and
    `restart` abort, and they expect it: it never reaches the caller."""


class _SocketWatch:
    """The socket of the request a `_RequestsTransport` has in flight, held
    so that another thread can shut it down: that ends at once a wait for
    the connection to be made, for the response headers, or for the body,
    which closing the socket would not (the blocked call would go on)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # `abort` comes from another thread
        self._aborted = False  # `abort` came since `rearm`: refuse new sockets
        self._watched: object = None  # the request's socket object, last watched
        # A descriptor of our own on that socket, closed here: it stays valid
        # when TLS takes the request's own socket object over.
        self._socket: socket.socket | None = None

    def rearm(self) -> None:
        with self._lock:
            self._aborted = False

    def watch(self, sock: socket.socket) -> None:
        """Watch the socket the request uses from now on; raise
        `ConnectionAbortedError` if `abort` came since `rearm`."""
        with self._lock:
            if self._aborted:
                raise ConnectionAbortedError("the request was aborted")
            if sock is self._watched:
                return
            self._release()
            with contextlib.suppress(OSError):
                self._socket = socket.fromfd(
                    sock.fileno(), sock.family, sock.type, sock.proto
                )
                self._watched = sock

    def abort(self) -> bool:
        """Shut the watched socket down; False if none is watched."""
        with self._lock:
            self._aborted = True
            if self._socket is None:
                return False
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
            return True

    def release(self) -> None:
        """Stop watching (the request is over)."""
        with self._lock:
            self._release()

    def _release(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket = self._watched = None


def _watched_connection(
    address: tuple[str, int],
    timeout: object,
    source_address: tuple[str, int] | None,
    watch: _SocketWatch,
    family: int = socket.AF_UNSPEC,
    socket_options: Iterable[tuple[Any, ...]] = (),
) -> socket.socket:
    """``socket.create_connection`` (and urllib3's), with each socket shown
    to ``watch`` before it connects.  A ``timeout`` that is not a number or
    None (a library's "default" marker) leaves the socket's default."""
    host, port = address
    error: OSError = OSError("getaddrinfo returns an empty list")
    for af, kind, proto, _, sockaddr in socket.getaddrinfo(
        host.strip("[]"), port, family, socket.SOCK_STREAM
    ):
        sock = socket.socket(af, kind, proto)
        try:
            watch.watch(sock)
            for option in socket_options:
                sock.setsockopt(*option)
            if timeout is None or isinstance(timeout, (int, float)):
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as e:
            error = e
            sock.close()
    raise error


#: The `_SocketWatch` of the request that a `_RequestsTransport` makes on
#: this thread, for the connections of `_watching_adapter` to report to.
_sending = threading.local()


@functools.cache
def _watching_adapter() -> type[requests.adapters.HTTPAdapter]:
    """A ``requests`` adapter whose urllib3 connections show their socket to
    the `_SocketWatch` of the request being made on their thread: before
    connecting it (the socket is made here, as urllib3 would make it), and
    before each wait for a response's headers.  Without a watch they are
    urllib3's own."""
    import requests
    from urllib3 import connectionpool, exceptions
    from urllib3.util import connection

    class Watched:
        """Mixed into urllib3's connection classes."""

        def _new_conn(self: Any) -> socket.socket:
            watch: _SocketWatch | None = getattr(_sending, "watch", None)
            if watch is None:
                return cast("socket.socket", super()._new_conn())  # type: ignore[misc]
            # The errors urllib3's own _new_conn raises (1.26 has no
            # NameResolutionError).
            failed = "Failed to establish a new connection"
            try:
                sock = _watched_connection(
                    (self._dns_host, self.port),
                    self.timeout,
                    self.source_address,
                    watch,
                    connection.allowed_gai_family(),
                    self.socket_options or (),
                )
            except socket.gaierror as e:
                name_error = getattr(exceptions, "NameResolutionError", None)
                if name_error is not None:
                    raise name_error(self.host, self, e) from e
                raise exceptions.NewConnectionError(self, f"{failed}: {e}") from e
            except socket.timeout as e:
                raise exceptions.ConnectTimeoutError(
                    self,
                    f"Connection to {self.host} timed out."
                    f" (connect timeout={self.timeout})",
                ) from e
            except OSError as e:
                raise exceptions.NewConnectionError(self, f"{failed}: {e}") from e
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock

        def getresponse(self: Any, *args: Any, **kwargs: Any) -> Any:
            watch: _SocketWatch | None = getattr(_sending, "watch", None)
            if watch is not None and self.sock is not None:
                watch.watch(self.sock)
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]

    def watched(pool: type[Any]) -> type[Any]:
        conn = pool.ConnectionCls
        return type(pool.__name__, (pool,), {
            "ConnectionCls": type(conn.__name__, (Watched, conn), {})
        })  # fmt: skip

    pools = {
        "http": watched(connectionpool.HTTPConnectionPool),
        "https": watched(connectionpool.HTTPSConnectionPool),
    }

    class WatchingAdapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            # (Older types-requests, as on Python 3.9, leave these untyped.)
            super().init_poolmanager(*args, **kwargs)  # type: ignore[no-untyped-call,unused-ignore]
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)  # type: ignore[no-untyped-call,unused-ignore]
            if not proxy.lower().startswith("socks"):  # SOCKS has its own
                manager.pool_classes_by_scheme = pools
            return manager

    return WatchingAdapter


class _RequestsTransport:
    """The requests of an `EventSource`, made with a ``requests.Session``
    (arguments: those of `connect`).

    A session made here watches the socket of each request, so that
    ``abort`` ends any wait at once.  With the caller's session, ``abort``
    ends a read of the body at once, but a wait for the connection or for
    the headers lasts until the timeouts end it.
    """

    def __init__(
        self,
        session: requests.Session | None,
        method: str,
        url: str,
        data: Any,
        json: Any,
        timeout: float | tuple[float | None, float | None] | None,
        options: dict[str, Any],
    ) -> None:
        import requests

        self.network_errors = _requests_network_errors()
        self._owns_session = session is None  # made here: closed by `close`
        if session is None:
            session = requests.Session()
            adapter = _watching_adapter()
            session.mount("https://", adapter())
            session.mount("http://", adapter())
        self._session = session
        self._watch = _SocketWatch()  # the socket of the request in flight
        self._response: requests.Response | None = None  # sent, not yet closed
        # Session.request's arguments, but the headers.
        self._request = {
            "method": method,
            "url": url,
            "data": data,
            "json": json,
            "timeout": timeout,
            **options,
        }

    def send(self, headers: Mapping[str, str | bytes]) -> requests.Response:
        _sending.watch = self._watch
        try:
            response = self._session.request(
                headers=headers, stream=True, **self._request
            )
        except BaseException:
            self._watch.release()
            raise
        finally:
            _sending.watch = None
        self._response = response
        return response

    def status(
        self, response: requests.Response
    ) -> tuple[int, Mapping[str, str] | None]:
        return response.status_code, response.headers

    def chunks(self, response: requests.Response) -> Iterator[bytes]:
        return _byte_chunks(response)

    def keep_small_body(self, response: requests.Response) -> None:
        if _body_worth_keeping(response.headers):
            with contextlib.suppress(*self.network_errors):
                response.content  # noqa: B018  (reads and keeps the body)

    def close_response(self, response: requests.Response) -> None:
        self._response = None
        self._watch.release()
        response.close()

    def rearm(self) -> None:
        self._watch.rearm()

    def abort(self) -> None:
        response = self._response
        if not self._watch.abort() and response is not None:
            _shut_down(response)  # the caller's session: its sockets are not watched

    def close(self) -> None:
        self._watch.release()
        if self._owns_session:
            self._session.close()


#: The keyword arguments that `connect` passes on to ``Session.request``
#: (those it does not set itself).
_REQUESTS_OPTIONS = frozenset(
    [
        "params",
        "cookies",
        "files",
        "auth",
        "allow_redirects",
        "proxies",
        "hooks",
        "verify",
        "cert",
    ]
)
#: The keyword arguments that ``SSEClient(url, ...)`` passes on to
#: ``requests.get`` (all but ``stream``).
_REQUESTS_GET_OPTIONS = _REQUESTS_OPTIONS | {"data", "json", "headers", "timeout"}
#: The keyword arguments that `aconnect` passes on to httpx: those of
#: ``AsyncClient.build_request`` and ``send`` that it does not set itself.
_HTTPX_OPTIONS = frozenset(
    ["params", "cookies", "files", "content", "extensions", "auth", "follow_redirects"]
)
#: The keyword arguments that `aconnect` passes on to aiohttp's
#: ``ClientSession.request`` (those it does not set itself).
_AIOHTTP_OPTIONS = frozenset(
    [
        "params",
        "cookies",
        "auth",
        "allow_redirects",
        "max_redirects",
        "proxy",
        "proxy_auth",
        "ssl",
        "server_hostname",
    ]
)


class _RequestsGetTransport(_RequestsTransport):
    """The requests of sseclient 0.0.27's ``SSEClient(url, ...)``: each is
    ``requests.get(url, stream=True, headers=..., **options)``, that function
    looked up as each request is made (so a test that replaces
    ``requests.get`` sees it), or ``session.get(...)`` when a session is
    given.  `open` makes the first one, in the constructor; `send` then hands
    that response over before it makes any other."""

    def __init__(
        self, session: requests.Session | None, url: str, options: dict[str, Any]
    ) -> None:
        self.network_errors = _requests_network_errors()
        # requests.get's own sockets are not watched: `abort` shuts the
        # response's down (see _RequestsTransport.abort).
        self._watch = _SocketWatch()
        self._response: requests.Response | None = None  # sent, not yet closed
        self._get_session = session  # the caller's, never closed here
        self._url = url
        self._options = options  # requests.get's arguments but the headers
        self._first: requests.Response | None = None  # made by open, not read
        #: The response of the last request made (sseclient 0.0.27's ``resp``).
        self.last_response: requests.Response | None = None

    def open(self, headers: Mapping[str, str | bytes]) -> requests.Response:
        self._first = self.send(headers)
        return self._first

    def send(self, headers: Mapping[str, str | bytes]) -> requests.Response:
        if self._first is not None:
            response, self._first = self._first, None
            return response
        import requests

        get = requests.get if self._get_session is None else self._get_session.get
        self.last_response = get(
            self._url, headers=dict(headers), stream=True, **self._options
        )
        self._response = self.last_response
        return self.last_response

    def status(
        self, response: requests.Response
    ) -> tuple[int, Mapping[str, str] | None]:
        judged = _response_status(response)
        return (200, None) if judged is None else judged

    def keep_small_body(self, response: requests.Response) -> None:
        if isinstance(getattr(response, "headers", None), Mapping):
            super().keep_small_body(response)

    def close_response(self, response: requests.Response) -> None:
        self._response = None
        _close_response(response)  # a test double may have no close()

    def close(self) -> None:
        # requests.get closes its own session; a given one is the caller's.
        # Only the first response may still be open: made, never read.
        if self._first is not None:
            self.close_response(self._first)
            self._first = None


if TYPE_CHECKING:

    class _Wakeup(Protocol):
        """An ``anyio.Event`` or an ``asyncio.Event``."""

        def set(self) -> None: ...
        async def wait(self) -> object: ...

    class _AsyncTransport(Protocol):
        """What `AsyncEventSource` needs of `_HttpxTransport` and
        `_AiohttpTransport`; ``response`` is their library's."""

        network_errors: tuple[type[BaseException], ...]

        async def send(self, headers: Mapping[str, str | bytes]) -> Any: ...
        def status(self, response: Any) -> tuple[int, Mapping[str, str]]: ...
        def chunks(self, response: Any) -> AsyncIterator[bytes]: ...
        async def keep_small_body(self, response: Any) -> None: ...
        async def close_response(self, response: Any) -> None: ...
        def rearm(self) -> None: ...
        async def abort(self) -> None: ...
        async def close(self) -> None: ...
        def wakeup(self) -> _Wakeup: ...
        async def sleep(self, delay: float, wakeup: _Wakeup) -> None: ...


@functools.cache
def _httpx_ssl_context() -> ssl.SSLContext:
    """The TLS settings of the ``httpx.AsyncClient`` that `aconnect` makes
    when it is given none, made once and shared by all of them.  httpx
    would make the same ones (certifi's CAs, or ``SSL_CERT_FILE``) for each
    client, loading the CA certificates anew: 1000 streams without a client
    took 31 s of CPU time to connect and 870 KiB each; 1.6 s and 41 KiB
    with this one (a shared client: 2.1 s and 37 KiB)."""
    import httpx

    return httpx.create_ssl_context()


class _HttpxTransport:
    """The requests of an `AsyncEventSource`, made with an
    ``httpx.AsyncClient`` (arguments: those of `aconnect`)."""

    def __init__(
        self,
        client: httpx.AsyncClient | None,
        method: str,
        url: str,
        data: Any,
        json: Any,
        timeout: float | tuple[float | None, float | None] | None,
        options: dict[str, Any],
    ) -> None:
        import httpx

        self.network_errors = _httpx_network_errors()
        self._owns_client = client is None  # made by `send`: closed by `close`
        self._client = client
        self._aborted = False  # `abort` came since `rearm`: cancel new sends
        self._sending: anyio.CancelScope | None = None  # of the send in flight
        self._response: httpx.Response | None = None  # sent, not yet closed
        if isinstance(timeout, tuple):
            connect_timeout, read_timeout = timeout
            httpx_timeout = httpx.Timeout(connect_timeout, read=read_timeout)
        else:
            httpx_timeout = httpx.Timeout(timeout)
        # AsyncClient.send's arguments; the others go to build_request.
        options = dict(options)
        self._send_options = {"follow_redirects": options.pop("follow_redirects", True)}
        if "auth" in options:
            self._send_options["auth"] = options.pop("auth")
        # httpx takes a raw body as `content`, and only a form as `data`.
        body = {"content": data} if isinstance(data, (bytes, str)) else {"data": data}
        # AsyncClient.build_request's arguments, but the headers.
        self._request = {
            "method": method,
            "url": url,
            "json": json,
            "timeout": httpx_timeout,
            **body,
            **options,
        }

    async def send(self, headers: Mapping[str, str | bytes]) -> httpx.Response:
        import anyio
        import httpx

        if self._client is None:
            # Its own client, so that nothing it does (redirects, cookies,
            # closing) touches another stream; the TLS settings are shared.
            self._client = httpx.AsyncClient(verify=_httpx_ssl_context())
        client = self._client
        # httpx takes bytes values (a non-ASCII Last-Event-ID) too.
        request = client.build_request(
            headers=cast("Mapping[str, str]", headers), **self._request
        )
        response = None
        # `abort` cancels the scope: httpx then closes what it opened.
        with anyio.CancelScope() as self._sending:
            if self._aborted:
                self._sending.cancel()
            try:
                response = await client.send(request, stream=True, **self._send_options)
            finally:
                self._sending = None
        if response is None:
            raise _Aborted("the request was aborted")
        self._response = response
        return response

    def status(self, response: httpx.Response) -> tuple[int, Mapping[str, str]]:
        return response.status_code, response.headers

    def chunks(self, response: httpx.Response) -> AsyncIterator[bytes]:
        return _async_byte_chunks(response)

    async def keep_small_body(self, response: httpx.Response) -> None:
        if _body_worth_keeping(response.headers):
            with contextlib.suppress(*self.network_errors):
                await response.aread()

    async def close_response(self, response: httpx.Response) -> None:
        self._response = None
        await response.aclose()

    def rearm(self) -> None:
        self._aborted = False

    async def abort(self) -> None:
        self._aborted = True
        if self._sending is not None:
            self._sending.cancel()
        response = self._response
        if response is not None:
            await response.aclose()

    async def close(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()

    def wakeup(self) -> anyio.Event:
        import anyio

        return anyio.Event()

    async def sleep(self, delay: float, wakeup: _Wakeup) -> None:
        import anyio

        with anyio.move_on_after(delay):
            await wakeup.wait()


def _aiohttp_network_errors() -> tuple[type[BaseException], ...]:
    """The errors of aiohttp that mean a connection could not be made or was
    lost: worth another attempt."""
    import asyncio

    import aiohttp

    return (
        aiohttp.ClientConnectionError,  # refused, reset, disconnected, timeouts
        aiohttp.ClientPayloadError,  # a body cut short or badly framed
        aiohttp.ClientHttpProxyError,
        asyncio.TimeoutError,
    )


class _AiohttpTransport:
    """The requests of an `AsyncEventSource`, made with an
    ``aiohttp.ClientSession`` (arguments: those of `aconnect`).  The session
    is the caller's: never closed here."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        data: Any,
        json: Any,
        timeout: float | tuple[float | None, float | None] | None,
        options: dict[str, Any],
    ) -> None:
        import aiohttp

        self.network_errors = _aiohttp_network_errors()
        self._session = session
        self._aborted = False  # `abort` came since `rearm`: cancel new sends
        self._sender: asyncio.Task[Any] | None = None  # the task in `send`
        self._cancelled = False  # `abort` cancelled that task
        self._response: aiohttp.ClientResponse | None = None  # sent, not closed
        connect_timeout, read_timeout = (
            timeout if isinstance(timeout, tuple) else (timeout, timeout)
        )
        # No limit on the whole request (the session's default is 5 min):
        # a stream is read for as long as it lasts.
        aiohttp_timeout = aiohttp.ClientTimeout(
            total=None, connect=connect_timeout, sock_read=read_timeout
        )
        # ClientSession.request's arguments, but the headers.
        self._request = {
            "method": method,
            "url": url,
            "data": data,
            "json": json,
            "timeout": aiohttp_timeout,
            **options,
        }

    async def send(self, headers: Mapping[str, str | bytes]) -> aiohttp.ClientResponse:
        import asyncio

        # aiohttp writes str values as UTF-8, which a non-ASCII Last-Event-ID
        # must be sent as.
        text = {
            name: value.decode() if isinstance(value, bytes) else value
            for name, value in headers.items()
        }
        # `abort` cancels the task that sends (this one) while it waits:
        # aiohttp then closes what it opened.
        self._sender = asyncio.current_task()
        try:
            if self._aborted:
                raise _Aborted("the request was aborted")
            response = await self._session.request(headers=text, **self._request)
        except asyncio.CancelledError:
            if not self._cancelled:
                raise  # cancelled by someone else
            uncancel = getattr(self._sender, "uncancel", None)  # Python 3.11+
            if uncancel is not None:
                uncancel()
            raise _Aborted("the request was aborted") from None
        finally:
            self._sender = None
            self._cancelled = False
        self._response = response
        return response

    def status(self, response: aiohttp.ClientResponse) -> tuple[int, Mapping[str, str]]:
        return response.status, response.headers

    def chunks(self, response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        return _async_byte_chunks(response)

    async def keep_small_body(self, response: aiohttp.ClientResponse) -> None:
        if _body_worth_keeping(response.headers):
            with contextlib.suppress(*self.network_errors):
                await response.read()  # kept for ``await response.text()``

    async def close_response(self, response: aiohttp.ClientResponse) -> None:
        # Gives the connection back to the session's pool if the body was
        # read to its end, else closes it.
        self._response = None
        response.release()

    def rearm(self) -> None:
        self._aborted = False

    async def abort(self) -> None:
        import asyncio

        self._aborted = True
        sender = self._sender
        if sender is not None and sender is not asyncio.current_task():
            self._cancelled = True
            sender.cancel()
        response = self._response
        if response is not None:
            response.close()  # a read in another task raises at once

    async def close(self) -> None:
        pass  # the session is the caller's

    def wakeup(self) -> asyncio.Event:
        import asyncio

        return asyncio.Event()

    async def sleep(self, delay: float, wakeup: _Wakeup) -> None:
        import asyncio

        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(wakeup.wait(), delay)


def _is_aiohttp(client: object) -> bool:
    """Whether `client` is aiohttp's, known by the module of its class (or
    of a base), so that aiohttp is never imported for httpx."""
    return client is not None and any(
        klass.__module__.partition(".")[0] == "aiohttp"
        for klass in type(client).__mro__
    )


def _async_transport(
    client: httpx.AsyncClient | aiohttp.ClientSession | None,
    method: str,
    url: str,
    data: Any,
    json: Any,
    timeout: float | tuple[float | None, float | None] | None,
    options: dict[str, Any],
) -> _AsyncTransport:
    """The transport for `aconnect`'s ``client``: aiohttp's for an aiohttp
    session, known by the module of its class (or of a base), so that
    aiohttp is never imported for httpx; else httpx's."""
    if _is_aiohttp(client):
        session = cast("aiohttp.ClientSession", client)
        return _AiohttpTransport(session, method, url, data, json, timeout, options)
    httpx_client = cast("httpx.AsyncClient | None", client)
    return _HttpxTransport(httpx_client, method, url, data, json, timeout, options)


# -- The standard library's transport ---------------------------------------
#
# `connect` without requests: http.client does the requests, and what
# requests would add is done here: TLS with the system's CAs, proxies from
# the environment, redirects, gzip and deflate bodies, (connect, read)
# timeouts.

#: The most redirects followed for one request (requests follows 30).
_MAX_REDIRECTS = 10
#: The statuses that redirect, with a ``Location`` header.
_REDIRECTS = (301, 302, 303, 307, 308)
#: The keyword arguments of ``Session.request`` that the standard library's
#: transport also takes.
_STDLIB_OPTIONS = ("params", "auth", "verify", "cert")
#: The ports a URL without one means.
_DEFAULT_PORTS = {"http": 80, "https": 443}


#: The first line of a recording.  The format is told in the project's
#: tests/streams/recorded/README.md.
_RECORDING_MAGIC = "# sseclient recording 1"


class _Recorder:
    """`connect`'s ``record``: each response of a `_StdlibTransport`, written
    to a text file as it arrives, one recording after the other.

    A recording is the request's method and URL, the status line and
    headers, then each read of the body (de-chunked but still encoded: gzip
    stays gzip), then how the body ended: ``eof``, ``error NAME: MESSAGE``,
    or ``stopped`` (closed, restarted or given up before its end).  Each line
    has the seconds since the request was sent.  Another thread may stop a
    recording (`close`, `restart`), so every write holds a lock.
    """

    def __init__(self, file: TextIO | str | os.PathLike[str]) -> None:
        # `_file`: where the recordings go, one after the other.
        if isinstance(file, (str, os.PathLike)):
            self._file: TextIO = open(file, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
            self._owned = True  # opened here: closed with the stream
        elif callable(getattr(file, "write", None)):
            self._file = file
            self._owned = False  # the caller's: left open
        else:
            raise TypeError(
                "record: expected a text file or the path of one, not"
                f" {type(file).__name__}"
            )
        self._lock = threading.Lock()  # `end` and `close` come from any thread
        self._start = 0.0  # when the request of the open recording was sent
        self._open = False  # a recording has begun, and has no end line yet
        self._closed = False  # `close` came: nothing more is written

    def begin(
        self, method: str, url: str, response: http.client.HTTPResponse, sent: float
    ) -> None:
        """Start the recording of `response`, whose request was sent at
        `sent` (``time.monotonic()``): its first line, status line and
        headers."""
        lines = [
            f"HTTP/{response.version / 10:.1f} {response.status} {response.reason}"
        ]
        lines += [f"{name}: {value}" for name, value in response.msg.items()]
        head = "\n".join(_escaped(line.encode("latin-1")) for line in lines)
        with self._lock:
            if self._closed:
                return
            self._start = sent
            self._open = True
            self._write(
                f"{_RECORDING_MAGIC}: {method} {_escaped(url.encode())}\n"
                f"+{time.monotonic() - sent:.6f} {head}\n\n"
            )

    def chunks(self, read1: Callable[[int], bytes]) -> Iterator[bytes]:
        """The reads of a body, each written down as it is read; at its end
        (the body's, or a failed read's), the end line."""
        try:
            while True:
                chunk = read1(_READ_SIZE)
                if not chunk:
                    self.end("eof")
                    return
                line = _escaped(chunk)
                with self._lock:
                    if self._open:
                        self._write(f"+{time.monotonic() - self._start:.6f} {line}\n")
                yield chunk
        except Exception as exc:
            self.end("error " + _escaped(f"{type(exc).__name__}: {exc}".encode()))
            raise

    def end(self, how: str) -> None:
        """End the open recording, if any, with how its body ended."""
        with self._lock:
            if self._open:
                self._open = False
                self._write(f"end +{time.monotonic() - self._start:.6f} {how}\n")

    def close(self) -> None:
        """The stream is over: end any open recording (``stopped``) and close
        the file if `connect` opened it."""
        self.end("stopped")
        with self._lock:
            if not self._closed and self._owned:
                self._file.close()
            self._closed = True

    def _write(self, text: str) -> None:
        self._file.write(text)
        self._file.flush()


_SHORT_ESCAPES = {"\\": r"\\", "\n": r"\n", "\r": r"\r", "\t": r"\t"}


def _escaped(data: bytes) -> str:
    r"""`data` as one line of text that gives back the same bytes: its valid
    UTF-8 as itself, but backslash, LF, CR and tab as ``\\``, ``\n``, ``\r``,
    ``\t``, and as ``\xHH`` each byte of control and other unprintable
    characters, of invalid UTF-8, and a space at the end."""
    import re

    def escape(match: re.Match[str]) -> str:
        char = match[0]
        if char in _SHORT_ESCAPES:
            return _SHORT_ESCAPES[char]
        if char.isprintable():  # not so for the surrogates of invalid bytes
            return char
        return "".join(f"\\x{b:02x}" for b in char.encode("utf-8", "surrogateescape"))

    text = re.sub(r"[^ -\[\]-~]", escape, data.decode("utf-8", "surrogateescape"))
    return text[:-1] + r"\x20" if text.endswith(" ") else text


class _StdlibResponse:
    """A response of the standard library's transport: the
    ``http.client.HTTPResponse`` as ``raw``, with the names of a
    ``requests.Response`` that code handling a `ResponseError` uses
    (``status_code``, ``headers``, ``url``, ``content``, ``text``,
    ``json()``)."""

    def __init__(
        self,
        url: str,
        raw: http.client.HTTPResponse,
        connection: http.client.HTTPConnection,
        sent: float,
    ) -> None:
        self.url = url  # the URL that answered, after any redirects
        self.raw = raw  # its body is the stream
        self.status_code = raw.status  # as the status line says
        self.reason = raw.reason  # the status line's text
        #: The response headers, looked up whatever the case of the name.
        self.headers = cast("Mapping[str, str]", raw.msg)
        self._connection = connection  # closed with the response
        self._content: bytes | None = None  # the body, once `content` read it
        self._sent = sent  # when its request was sent (time.monotonic())
        #: Its body goes through the transport's `_Recorder`.
        self.recorded = False

    @property
    def content(self) -> bytes:
        """The body with its Content-Encoding undone, read at the first use
        (empty if the response was closed before), or as `keep` kept it."""
        if self._content is None:
            encoding = self.raw.getheader("Content-Encoding")
            chunks = _decoded(_read_chunks(self.raw.read1), encoding)
            self._content = b"".join(chunks)
        return self._content

    def keep(self, body: bytes) -> None:
        """Keep ``body`` (decoded) as the body `content` gives."""
        self._content = body

    @property
    def text(self) -> str:
        """The body as text, in the charset of its Content-Type (else UTF-8)."""
        charset = self.raw.msg.get_content_charset() or "utf-8"
        try:
            return self.content.decode(charset, "replace")
        except LookupError:  # an unknown charset
            return self.content.decode("utf-8", "replace")

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.content, **kwargs)

    def close(self) -> None:
        self.raw.close()
        self._connection.close()

    def __repr__(self) -> str:
        return f"<_StdlibResponse [{self.status_code}] {self.url}>"


class _StdlibTransport:
    """The requests of an `EventSource`, made with the standard library's
    ``http.client`` (arguments: those of `connect`; ``options`` may hold
    ``params``, ``auth``, ``verify`` and ``cert``, as for requests)."""

    def __init__(
        self,
        method: str,
        url: str,
        data: Any,
        json: Any,
        timeout: float | tuple[float | None, float | None] | None,
        options: dict[str, Any],
        record: TextIO | str | os.PathLike[str] | None = None,
    ) -> None:
        import http.client
        from urllib.parse import unquote, urlsplit

        unknown = [name for name in options if name not in _STDLIB_OPTIONS]
        if unknown:
            raise TypeError(
                f"connect() got {', '.join(map(repr, unknown))}, which only"
                " transport='requests' takes (the standard library's transport"
                f" takes {', '.join(_STDLIB_OPTIONS)})"
            )
        # An ssl.SSLError is an OSError; a certificate that fails
        # verification is told apart by the policy, and raised at once.
        self.network_errors: tuple[type[BaseException], ...] = (
            OSError,
            http.client.HTTPException,
        )
        url = _with_params(url, options.get("params"))
        parts = urlsplit(url)
        if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not an http:// or https:// URL: {url!r}")
        auth = options.get("auth")
        if auth is None and parts.username is not None:
            # As requests does: credentials in the URL are Basic auth.
            auth = (unquote(parts.username), unquote(parts.password or ""))
        self._url = _without_credentials(url)  # where each connection starts
        self._method = method.upper()  # of the first request (a redirect may change it)
        # The body of every request, and its Content-Type.
        self._body, content_type = _request_body(data, json)
        #: Headers that this transport adds, but where the caller gave its own.
        self._defaults = {
            "User-Agent": f"sseclient/{__version__}",
            "Accept-Encoding": "gzip, deflate",
        }
        if content_type is not None:
            self._defaults["Content-Type"] = content_type
        # The Authorization header of Basic auth, sent to the URL's origin only.
        self._authorization = None if auth is None else _basic_auth(auth)
        # (connect, read) in seconds: the first for making the connection
        # (and a CONNECT tunnel, and the TLS handshake), the second for each
        # read after it.
        self._timeouts = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self._verify = options.get("verify", True)  # as requests' verify
        self._cert = options.get("cert")  # as requests' cert
        # Made now if it will be used, so that a wrong CA or certificate path
        # is raised here rather than retried as a network error.
        self._tls: ssl.SSLContext | None = None
        if parts.scheme.lower() == "https" or "verify" in options or self._cert:
            self._tls = self._tls_context()
        self._watch = _SocketWatch()  # the socket of the request in flight
        # `connect`'s ``record``: where each response is written as it arrives.
        self._recorder = None if record is None else _Recorder(record)

    def send(self, headers: Mapping[str, str | bytes]) -> _StdlibResponse:
        """Make the request, following redirects as requests does."""
        from urllib.parse import urldefrag, urljoin

        method, url, body = self._method, self._url, self._body
        sent = dict(headers)
        given = {name.lower() for name in sent}
        for name, value in self._defaults.items():
            if name.lower() not in given:
                sent[name] = value
        if self._authorization is not None:
            _drop_headers(sent, ("Authorization",))
            sent["Authorization"] = self._authorization
        for redirects in range(_MAX_REDIRECTS + 1):
            try:
                response = self._request(method, url, body, sent)
            except BaseException:
                self._watch.release()
                raise
            status = response.status_code
            location = response.headers.get("Location")
            if status not in _REDIRECTS or location is None:
                if self._recorder is not None:
                    # The response the redirects led to is the one recorded.
                    self._recorder.begin(method, url, response.raw, response._sent)
                    response.recorded = True
                return response
            response.close()
            if redirects == _MAX_REDIRECTS:
                break
            new_url = urldefrag(urljoin(url, location))[0]
            if status in (301, 302, 303):
                # As requests (and browsers) do: 303, and 302 but for HEAD,
                # and 301 for POST, turn into a GET; the body goes with the
                # headers that describe it, whatever the method.
                if (status != 301 and method != "HEAD") or method == "POST":
                    method = "GET"
                body = None
                _drop_headers(sent, ("Content-Type", "Content-Length"))
            if not _same_origin(url, new_url):
                # Credentials stay with the host they were given for.
                _drop_headers(sent, ("Authorization", "Cookie"))
            logger.debug("%s redirects (%d) to %s", url, status, new_url)
            url = new_url
        raise HTTPStatusError(
            f"{self._url} redirected more than {_MAX_REDIRECTS} times",
            status,
            response,
        )

    def status(self, response: _StdlibResponse) -> tuple[int, Mapping[str, str]]:
        return response.status_code, response.headers

    def chunks(self, response: _StdlibResponse) -> Iterator[bytes]:
        # read1 returns what has arrived; Content-Encoding is undone.
        if not response.recorded:
            return _byte_chunks(response.raw)
        # Recorded before the decoding, as it arrived.
        chunks = cast("_Recorder", self._recorder).chunks(response.raw.read1)
        return _decoded(chunks, response.raw.getheader("Content-Encoding"))

    def keep_small_body(self, response: _StdlibResponse) -> None:
        if response.recorded:
            self._keep_recorded_body(response)
        elif _body_worth_keeping(response.headers):
            # The body only explains the error about to be raised: a body
            # that cannot be read or decoded must not take that error's place.
            with contextlib.suppress(Exception):
                response.content  # noqa: B018  (reads and keeps the body)

    def close_response(self, response: _StdlibResponse) -> None:
        self._watch.release()
        if response.recorded:
            # A body that nothing is left of (a 204's, one read to its
            # Content-Length) ended; any other was stopped before its end.
            ended = response.raw.length == 0
            cast("_Recorder", self._recorder).end("eof" if ended else "stopped")
        response.close()

    def rearm(self) -> None:
        self._watch.rearm()

    def abort(self) -> None:
        if self._recorder is not None:
            # `close` or `restart`: the read that the abort breaks is no error.
            self._recorder.end("stopped")
        self._watch.abort()

    def close(self) -> None:
        """No more requests; one in flight ends at once."""
        if self._recorder is not None:
            self._recorder.close()
        self._watch.abort()
        self._watch.release()

    def _keep_recorded_body(self, response: _StdlibResponse) -> None:
        """The body of a recorded response that is not a stream goes into
        the recording up to `_ERROR_BODY_LIMIT` bytes, whatever its length
        (it may tell why); kept for `ResponseError` if it ended by then."""
        reads = []
        size = 0
        recorder = cast("_Recorder", self._recorder)
        # As in `keep_small_body`: this body must not replace the error.
        with contextlib.suppress(Exception):
            for chunk in recorder.chunks(response.raw.read1):
                reads.append(chunk)
                size += len(chunk)
                if size >= _ERROR_BODY_LIMIT:
                    return
            encoding = response.raw.getheader("Content-Encoding")
            response.keep(b"".join(_decoded(iter(reads), encoding)))

    def _request(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str | bytes]
    ) -> _StdlibResponse:
        """One request to `url`, directly or through the environment's proxy."""
        import http.client
        from urllib.parse import quote, unquote, urlsplit

        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname or ""
        if scheme not in _DEFAULT_PORTS:
            raise SSEError(f"{self._url} redirected to {url}, not an http(s) URL")
        port = parts.port or _DEFAULT_PORTS[scheme]
        target = quote(parts.path or "/", safe="!#$%&'()*+,/:;=?@[]~")
        if parts.query:
            target += "?" + quote(parts.query, safe="!#$%&'()*+,/:;=?@[]~")
        headers = dict(headers)
        proxy = _proxy_for(scheme, host, parts.port)
        address, proxy_headers = (host, port), {}
        if proxy is not None:
            address = (proxy.hostname or "", proxy.port or 80)
            if proxy.username is not None:
                credentials = (unquote(proxy.username), unquote(proxy.password or ""))
                proxy_headers["Proxy-Authorization"] = _basic_auth(credentials)
        connect_timeout, read_timeout = self._timeouts
        connection: http.client.HTTPConnection
        if scheme == "https":
            if self._tls is None:
                self._tls = self._tls_context()
            connection = http.client.HTTPSConnection(
                *address, timeout=connect_timeout, context=self._tls
            )
            if proxy is not None:
                # CONNECT through the proxy, then TLS with the server.
                connection.set_tunnel(host, port, headers=proxy_headers)
        else:
            connection = http.client.HTTPConnection(*address, timeout=connect_timeout)
            if proxy is not None:
                # A forwarding proxy takes the whole URL as the target.
                target = f"{scheme}://{parts.netloc}{target}"
                headers.update(proxy_headers)
        # Its socket is watched from before it connects, for `abort`.
        connection._create_connection = functools.partial(  # type: ignore[attr-defined]
            _watched_connection, watch=self._watch
        )
        try:
            connection.connect()
            cast("socket.socket", connection.sock).settimeout(read_timeout)
            connection.request(method, target, body, headers)
            sent = time.monotonic()  # where a recording's times count from
            raw = connection.getresponse()
        except BaseException:
            connection.close()
            raise
        return _StdlibResponse(url, raw, connection, sent)

    def _tls_context(self) -> ssl.SSLContext:
        """TLS as requests sets it up: ``verify`` is True (the system's CAs),
        False (no verification) or the path of a CA bundle file or folder;
        ``cert`` the client certificate's file, or (certificate, key)."""
        import ssl

        verify = self._verify
        if isinstance(verify, (str, os.PathLike)):
            path = os.fspath(verify)
            if os.path.isdir(path):
                context = ssl.create_default_context(capath=path)
            else:
                context = ssl.create_default_context(cafile=path)
        else:
            context = ssl.create_default_context()
            if not verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        if isinstance(self._cert, (tuple, list)):
            context.load_cert_chain(*self._cert)
        elif self._cert:
            context.load_cert_chain(self._cert)
        return context


def _with_params(url: str, params: Any) -> str:
    """`url` with ``params`` (a dict, a list of pairs or a string) added to
    its query, as requests adds them; None values are left out."""
    if not params:
        return url
    from urllib.parse import urlencode, urlsplit, urlunsplit

    if isinstance(params, bytes):
        query = params.decode()
    elif isinstance(params, str):
        query = params
    else:
        pairs = params.items() if isinstance(params, Mapping) else params
        query = urlencode([(k, v) for k, v in pairs if v is not None], doseq=True)
    parts = urlsplit(url)
    if parts.query:
        query = f"{parts.query}&{query}"
    return urlunsplit(parts._replace(query=query))


def _without_credentials(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _request_body(data: Any, json_body: Any) -> tuple[bytes | None, str | None]:
    """The body of every request, and its Content-Type, from `connect`'s
    ``data`` and ``json`` as requests makes them (a str is sent as UTF-8)."""
    if not data and json_body is not None:
        return json.dumps(json_body, allow_nan=False).encode(), "application/json"
    if not data:
        return None, None
    if isinstance(data, bytes):
        return data, None
    if isinstance(data, str):
        return data.encode(), None
    if isinstance(data, (Mapping, list, tuple)):
        from urllib.parse import urlencode

        return urlencode(data, doseq=True).encode(), "application/x-www-form-urlencoded"
    raise TypeError(
        "with the standard library's transport, data must be bytes, str, a"
        f" dict or a list of pairs (sent again on every connection), not"
        f" {type(data).__name__}"
    )


def _basic_auth(auth: Any) -> str:
    """The Authorization header of HTTP Basic auth for a (user, password) pair."""
    import base64

    if not (isinstance(auth, (tuple, list)) and len(auth) == 2):
        raise TypeError(
            "with the standard library's transport, auth must be a (user,"
            f" password) pair, not {type(auth).__name__}"
        )

    def encoded(value: str | bytes) -> bytes:
        if isinstance(value, bytes):
            return value
        try:
            return value.encode("latin-1")  # as requests encodes them
        except UnicodeEncodeError:
            return value.encode()

    token = base64.b64encode(encoded(auth[0]) + b":" + encoded(auth[1]))
    return "Basic " + token.decode("ascii")


def _drop_headers(headers: dict[str, str | bytes], names: Iterable[str]) -> None:
    lowered = {name.lower() for name in names}
    for name in [name for name in headers if name.lower() in lowered]:
        del headers[name]


def _same_origin(old_url: str, new_url: str) -> bool:
    """Whether credentials sent to `old_url` may go to `new_url` (requests'
    rule): the same host, scheme and port, or the same host moving from
    http to https on the default ports."""
    from urllib.parse import urlsplit

    old, new = urlsplit(old_url), urlsplit(new_url)
    if old.hostname != new.hostname:
        return False
    old_scheme, new_scheme = old.scheme.lower(), new.scheme.lower()
    if (old_scheme, new_scheme) == ("http", "https"):
        return old.port in (None, 80) and new.port in (None, 443)
    old_port = old.port or _DEFAULT_PORTS.get(old_scheme)
    new_port = new.port or _DEFAULT_PORTS.get(new_scheme)
    return old_scheme == new_scheme and old_port == new_port


def _proxy_for(scheme: str, host: str, port: int | None) -> SplitResult | None:
    """The proxy that the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, as
    urllib reads them) names for a URL, or None to connect directly."""
    import urllib.request
    from urllib.parse import urlsplit

    proxy = urllib.request.getproxies().get(scheme)
    if not proxy:
        return None
    address = host if port is None else f"{host}:{port}"
    if urllib.request.proxy_bypass(address):
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy
    parts = urlsplit(proxy)
    if parts.scheme.lower() != "http":
        raise SSEError(
            f"the proxy {proxy} is not an http:// proxy, which is all the"
            " standard library's transport speaks (transport='requests' may)"
        )
    return parts


# ---------------------------------------------------------------------------
# 4. Clients over a byte source: SSEClient and AsyncSSEClient
# ---------------------------------------------------------------------------


def _is_byte_source(source: object) -> bool:
    """Whether `SSEClient` can read `source` (bytes aside): a response, a
    file, or an iterable of chunks."""
    return not isinstance(source, str) and (
        hasattr(source, "read") or hasattr(source, "__iter__")
    )


def _check_response(
    source: object, *, read_body: bool, stacklevel: int, url: str | None = None
) -> None:
    """Judge an HTTP response that a client is given (nothing to judge in a
    file or an iterable): raise `HTTPStatusError` for a status outside 2xx,
    quoting the start of the body (``read_body``: read it, if the library
    has not), and warn with `ContentTypeWarning` (``stacklevel`` from here)
    if the Content-Type is not ``text/event-stream``."""
    judged = _response_status(source)
    if judged is None:
        return
    status, headers = judged
    where = url or str(getattr(source, "url", None) or "") or "the server"
    if not 200 <= status < 300:
        message = f"{where} answered {_status_text(status)}"
        body = _excerpt(_body_start(source, read=read_body))
        if body:
            message += f": {body}"
        raise HTTPStatusError(message, status, source)
    content_type = None if headers is None else headers.get("Content-Type")
    if headers is not None and not _is_event_stream(content_type):
        warnings.warn(
            f"{where} answered with Content-Type {content_type!r}, not"
            " text/event-stream; its body is parsed as an event stream all the"
            " same",
            ContentTypeWarning,
            stacklevel=stacklevel,
        )


class SSEClient:
    """Events from an event stream source; a drop-in for sseclient-py.

    ``event_source`` is one of (anything else raises `TypeError`):

    * a ``requests.Response`` got with ``stream=True``;
    * a ``urllib3.HTTPResponse`` got with ``preload_content=False``
      (urllib3 1.26 or 2.x);
    * an ``httpx.Response`` (or ``httpx2.Response``) from
      ``client.stream(...)``;
    * an ``http.client.HTTPResponse`` (as from ``urllib.request.urlopen``)
      or any binary file object (``read1``, else ``read``);
    * any other iterable of ``bytes`` chunks;
    * ``bytes`` (or ``bytearray``, ``memoryview``): a whole stream, read as
      one chunk.

    An HTTP response is judged when the client is made: a status outside
    2xx raises `HTTPStatusError` (its message quotes the start of the body),
    and a ``Content-Type`` other than ``text/event-stream`` warns with
    `ContentTypeWarning`, then the body is parsed all the same.  A response
    whose status is not a number or which has no headers (a test double) is
    read as it is.

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

    ``max_event_size`` and ``on_comment`` are those of `EventStreamParser`:
    ``on_comment(text)`` is called with each comment as soon as its line is
    in, before the client yields the events that the same read completes;
    an oversized event raises `EventTooLarge` after the events before it.

    Given a URL instead, it takes the arguments of PyPI ``sseclient`` 0.0.27,
    ``SSEClient(url, last_id=None, retry=3000, session=None, chunk_size=1024,
    **requests_kwargs)``, and works as 0.0.27 does: the constructor sends
    the first request, ``requests.get(url, stream=True, headers=...,
    **requests_kwargs)`` (``session.get`` when a session is given), so that a
    network error or an error status (`HTTPStatusError`) is raised there.
    The headers are ``Accept: text/event-stream``, ``Cache-Control:
    no-cache``, ``Last-Event-ID`` once known, and the caller's.  Later
    requests are made the same way, when the stream reconnects by the rules
    of `connect`; as in 0.0.27, any 2xx answer but 204 is read, and no
    timeout is set unless ``timeout`` is given.
    """

    _events: Iterator[Event]

    @overload
    def __init__(
        self,
        event_source: object,
        char_enc: str = "utf-8",
        *,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        on_comment: Callable[[str], object] | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self,
        event_source: str,
        last_id: str | None = None,
        retry: int = 3000,
        session: requests.Session | None = None,
        chunk_size: int = 1024,
        **requests_kwargs: Any,
    ) -> None: ...

    def __init__(self, event_source: object, *args: Any, **kwargs: Any) -> None:
        # What iterating gives: the parser's events from the source, or the
        # reconnecting stream of a URL.
        self._iterator: Iterator[Event]
        # What knows where the stream stands: the parser, or that stream.
        self._state: EventStreamParser | EventSource
        self._close: Callable[[], None]  # closes the source, or that stream
        self._closed = False  # close() was called: a failed read is the end
        # sseclient 0.0.27's form: the requests of SSEClient(url), else None.
        self._transport: _RequestsGetTransport | None = None
        if isinstance(event_source, str):
            stream = self._connect(event_source, *args, **kwargs)
            self._iterator = self._state = stream
            self._close = stream.close
        else:
            self._read(event_source, *args, **kwargs)

    def _read(
        self,
        event_source: object,
        char_enc: str = "utf-8",
        *,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        on_comment: Callable[[str], object] | None = None,
    ) -> None:
        if isinstance(event_source, (bytes, bytearray, memoryview)):
            event_source = (bytes(event_source),)  # one chunk of a whole stream
        elif not _is_byte_source(event_source):
            raise TypeError(
                "event_source: expected an HTTP response (requests, urllib3,"
                " httpx, http.client), a binary file, an iterable of bytes"
                " chunks, bytes (a whole stream) or an http(s) URL (str), not"
                f" {type(event_source).__name__}"
            )
        parser = EventStreamParser(char_enc, max_event_size, on_comment=on_comment)
        _check_response(event_source, read_body=True, stacklevel=4)
        chunks = _byte_chunks(event_source)
        if hasattr(event_source, "close"):
            # close() may cut a read short from another thread.
            chunks = self._until_closed(chunks)
        self._iterator = parser.iter_events(chunks)
        self._state = parser
        self._close = functools.partial(_close_response, event_source)

    def _connect(
        self,
        url: str,
        last_id: str | None = None,
        retry: int = 3000,
        session: requests.Session | None = None,
        chunk_size: int = 1024,
        *,
        on_comment: Callable[[str], object] | None = None,
        **requests_kwargs: Any,
    ) -> EventSource:
        """sseclient 0.0.27's ``SSEClient(url, ...)``: the first request is
        made here, as 0.0.27 makes it (``requests.get`` or ``session.get``),
        and judged at once; the stream then reconnects as `connect` does.
        ``chunk_size`` is ignored: each read returns what has arrived.
        ``on_comment`` is this module's, as for `connect`."""
        _check_url(url)
        _check_optional_str("last_id", last_id)
        _check_number("retry", retry, "milliseconds")
        _check_options(requests_kwargs, _REQUESTS_GET_OPTIONS, "requests.get")
        headers = requests_kwargs.pop("headers", None)
        policy = _Reconnection(
            url,
            headers=headers,
            last_event_id=last_id,
            retry=retry,
            lenient=True,
            on_comment=on_comment,
        )
        transport = _RequestsGetTransport(session, url, requests_kwargs)
        self._transport = transport
        response = transport.open(policy.request_headers())
        try:
            _check_response(response, read_body=True, stacklevel=4, url=url)
        except HTTPStatusError:
            _close_response(response)
            raise
        return EventSource(transport, policy, reconnect=True)

    @property
    def resp(self) -> Any:
        """sseclient 0.0.27's ``resp``: for a URL, the response of the last
        request made (``None`` otherwise)."""
        return None if self._transport is None else self._transport.last_response

    @property
    def last_event_id(self) -> str | None:
        """The last event ID the stream set (``None`` until it sets one)."""
        return self._state.last_event_id

    @property
    def last_id(self) -> str | None:
        """`last_event_id` under sseclient 0.0.27's name."""
        return self._state.last_event_id

    @property
    def retry(self) -> int | None:
        """The last valid ``retry:`` value in milliseconds, or ``None``; for
        a URL, the reconnection time (which such a value sets)."""
        return self._state.retry

    def _until_closed(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        try:
            yield from chunks
        except Exception:
            if not self._closed:
                raise
            # close() cut short a read in another thread: no error, the end.

    def events(self) -> Generator[Event, None, None]:
        """The stream's events, each yielded as soon as it is complete."""
        # A generator in both forms (the parser's engine, or the stream's
        # loop), typed as sseclient-py types it, so that its users' code
        # type-checks unchanged.
        return cast("Generator[Event, None, None]", iter(self._iterator))

    def __iter__(self) -> Iterator[Event]:
        return iter(self._iterator)

    def __next__(self) -> Event:
        return next(self._iterator)

    def close(self) -> None:
        """Stop reading and close the event source (if it can be closed).

        It may be called from another thread than the one iterating: the
        response's socket is shut down, which ends that thread's iteration
        at once (with no error).
        """
        self._closed = True
        self._close()
        if isinstance(self._iterator, Generator):
            # ValueError: "generator already executing", in the other thread.
            with contextlib.suppress(ValueError):
                self._iterator.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncSSEClient:
    """Events from an async source of bytes: the asyncio twin of `SSEClient`.

    ``source`` is any async iterable of ``bytes`` chunks (an async generator,
    httpx's ``response.aiter_bytes()``, aiohttp's
    ``response.content.iter_any()``), or an ``httpx.Response`` or
    ``aiohttp.ClientResponse`` itself, which is read as it arrives, its
    content encoding undone.  ``async for event in client`` (or
    ``client.events()``) gives each `Event` as soon as its terminating blank
    line has arrived.

    ``max_event_size`` and ``on_comment`` are those of `EventStreamParser`,
    as for `SSEClient`.

    The end of the stream, an error or the cancellation of the consuming task
    closes the source (and so the response and its connection); so does
    ``aclose()`` or leaving ``async with``.

    A response is judged when the client is made, as by `SSEClient`: a
    status outside 2xx raises `HTTPStatusError` (its message quotes the
    start of the body if the response was read, e.g. by ``await
    response.aread()``; the constructor cannot wait for it), and a
    ``Content-Type`` other than ``text/event-stream`` warns with
    `ContentTypeWarning`.
    """

    def __init__(
        self,
        source: AsyncByteSource,
        char_enc: str = "utf-8",
        *,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        on_comment: Callable[[str], object] | None = None,
    ) -> None:
        self._parser = EventStreamParser(
            char_enc, max_event_size, on_comment=on_comment
        )
        # The body is not read here: the message of an HTTPStatusError
        # quotes it only if the response was read first.
        _check_response(source, read_body=False, stacklevel=3)
        self._source = source  # what aclose() closes
        self._chunks = _async_byte_chunks(source)  # the iterator made over it
        self._lazy = on_comment is not None  # chunks are parsed lazily
        self._iterator = self._read_events()  # the events
        self._source_closed = False  # the chunks and the source are closed
        self._closing = False  # aclose() was called while a read was pending

    @property
    def last_event_id(self) -> str | None:
        """The last event ID the stream set (``None`` until it sets one)."""
        return self._parser.last_event_id

    @property
    def retry(self) -> int | None:
        """The last valid ``retry:`` value in milliseconds, or ``None``."""
        return self._parser.retry

    async def _read_events(self) -> AsyncGenerator[Event, None]:
        # With on_comment, each chunk's events and comments in stream order.
        feed: Callable[[bytes], Iterable[Event]] = self._parser.feed
        if self._lazy:
            feed = self._parser.feed_iter
        try:
            async for chunk in self._chunks:
                for event in feed(chunk):
                    yield event
            self._parser.end()
        except Exception:
            # A read that failed because another task closed the response is
            # the end that task asked for, not an error.
            if not self._closing:
                raise
        finally:
            # Also reached when the consuming task is cancelled while it
            # waits for bytes: the response must not outlive it.
            await self._close_source()

    async def _close_source(self) -> None:
        """Close the chunk iterator we made, then the source it reads."""
        if not self._source_closed:
            self._source_closed = True
            await _aclose(self._chunks)
            if self._source is not self._chunks:
                await _aclose(self._source)

    def events(self) -> AsyncGenerator[Event, None]:
        """The stream's events, each yielded as soon as it is complete."""
        return self._iterator

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterator

    def __anext__(self) -> Awaitable[Event]:
        return self._iterator.__anext__()

    async def aclose(self) -> None:
        """Stop reading and close the source (and so the response).

        Called from another task while this client's consumer waits for
        bytes, it closes the response at once, and the consumer's iteration
        ends.  A bare async iterable cannot be closed while it is awaited
        (Python raises `RuntimeError`): cancel the consuming task instead.
        """
        if self._iterator.ag_running:  # type: ignore[attr-defined]
            self._closing = True
            await _aclose(self._source)
        else:
            await self._iterator.aclose()
            await self._close_source()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


# ---------------------------------------------------------------------------
# 5. Reconnection: connect() and aconnect()
# ---------------------------------------------------------------------------

#: The reconnection time, in milliseconds, until the server sets one with
#: ``retry:`` (the spec leaves it to the client; browsers and sseclient 0.0.27
#: wait 3 s).
_DEFAULT_RETRY = 3000
#: The most, in milliseconds, that the backoff after failed attempts waits.
_DEFAULT_MAX_RETRY_DELAY = 30_000
#: (connect, read) timeouts in seconds.  A read that gets no byte at all, not
#: even a comment, for this long counts as a dropped connection: twice the
#: longest keep-alive interval servers commonly use (15 to 30 s).
_DEFAULT_TIMEOUT = (10.0, 60.0)
#: The first backoff step, in seconds, when the reconnection time is shorter:
#: a server that says ``retry: 0`` and then fails must not be hammered.
_MIN_BACKOFF = 0.1


def _is_retried(status: int) -> bool:
    """Whether another attempt may get a different answer to this status:
    timeouts, rate limits and server errors, not the permanent 501 and 505."""
    return status in (408, 429) or (500 <= status < 600 and status not in (501, 505))


def _retry_after(value: str | None) -> float | None:
    """The seconds a ``Retry-After`` header asks to wait: delay-seconds or an
    HTTP-date.  ``None`` when it is missing or malformed."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit() and value.isascii():
        return float(value)
    import datetime
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):  # TypeError on Python 3.9
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - time.time())


def _rejected_certificate(error: BaseException) -> bool:
    """Whether a network error comes from a server certificate that failed
    verification, which no retry can fix: a client may fail the connection
    when it "knows that to be futile".  HTTP libraries wrap the `ssl` error
    in their own, so look through causes, contexts, reasons and arguments."""
    import ssl

    seen: set[int] = set()
    pending = [error]
    while pending:
        exc = pending.pop()
        if isinstance(exc, ssl.SSLCertVerificationError):
            return True
        seen.add(id(exc))
        linked = (
            exc.__cause__,
            exc.__context__,
            getattr(exc, "reason", None),
            *exc.args,
        )
        pending += [
            e for e in linked if isinstance(e, BaseException) and id(e) not in seen
        ]
    return False


def _check_max_attempts(max_attempts: int | None) -> None:
    _check_int("max_attempts", max_attempts, 1, "retry forever")


def _check_stream_args(
    url: object,
    method: object,
    headers: object,
    data: object,
    last_event_id: object,
    retry: object,
    max_retry_delay: object,
    max_attempts: object,
    timeout: object,
    max_event_size: object,
    options: Mapping[str, object],
    accepted: frozenset[str],
    where: str,
) -> None:
    """The argument checks of `connect` and `aconnect`, made at the call."""
    _check_url(url)
    if not isinstance(method, str):
        raise TypeError(f"method: expected an HTTP method (str), not {method!r:.60}")
    if headers is not None and not isinstance(headers, Mapping):
        raise TypeError(f"headers: expected a mapping or None, not {headers!r:.60}")
    if isinstance(data, Iterator):
        raise TypeError(
            "data: expected bytes, str or a dict that can be sent again on"
            f" reconnection, not an iterator ({type(data).__name__})"
        )
    _check_optional_str("last_event_id", last_event_id)
    _check_number("retry", retry, "milliseconds")
    _check_number("max_retry_delay", max_retry_delay, "milliseconds")
    _check_max_attempts(max_attempts)  # type: ignore[arg-type]
    _check_timeout(timeout)
    _check_int("max_event_size", max_event_size, 1, "no limit")
    _check_options(options, accepted, where)


def _check_timeout(timeout: object) -> None:
    accepts = (
        "seconds (a number more than 0), a (connect, read) tuple of them"
        " (either may be None), or None"
    )
    parts = timeout if isinstance(timeout, tuple) else (timeout,)
    if isinstance(timeout, tuple) and len(timeout) != 2:
        raise ValueError(f"timeout: expected {accepts}, not {timeout!r:.60}")
    for part in parts:
        if part is None:
            continue
        if not isinstance(part, (int, float)) or isinstance(part, bool):
            raise TypeError(f"timeout: expected {accepts}, not {timeout!r:.60}")
        if not part > 0:
            raise ValueError(f"timeout: expected {accepts}, not {timeout!r:.60}")


class _Reconnection:
    """The rules of one reconnecting event stream, without any I/O.

    It builds each request's headers, judges each response, parses the
    bodies with one `EventStreamParser` kept across connections, and decides
    how long to wait after each connection ends, or to give up.  The sync
    `EventSource` and the async form drive it the same way; only the I/O
    differs::

        delay = 0.0
        while not closed_within(delay):
            error = None
            try:
                response = transport.send(policy.request_headers())
                status, headers = transport.status(response)
                if not policy.check_response(status, headers, response):
                    return                       # 204: the server says stop
                yield from policy.events(transport.chunks(response))
                # (async: for each chunk, the events of policy.feed(chunk))
            except (HTTPStatusError, *transport.network_errors) as exc:
                error = exc
            finally:
                transport.close_response(response)
            delay = policy.next_delay(error)     # or raises

    Arguments are those of `connect`; ``jitter`` draws the jitter, in [0, 1).
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        last_event_id: str | None = None,
        retry: int = _DEFAULT_RETRY,
        max_retry_delay: int = _DEFAULT_MAX_RETRY_DELAY,
        max_attempts: int | None = None,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        on_comment: Callable[[str], object] | None = None,
        jitter: Callable[[], float] = random.random,
        lenient: bool = False,
    ) -> None:
        if retry < 0 or max_retry_delay < 0:
            raise ValueError("retry and max_retry_delay must not be negative")
        _check_max_attempts(max_attempts)
        self.url = url
        self._headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        for name, value in (headers or {}).items():
            if name.lower() == "last-event-id":
                # The header this object sends; the caller's says where to start.
                last_event_id = value if last_event_id is None else last_event_id
                continue
            for ours in [key for key in self._headers if key.lower() == name.lower()]:
                del self._headers[ours]
            self._headers[name] = value
        self.parser = EventStreamParser(
            max_event_size=max_event_size,
            last_event_id=last_event_id,
            on_comment=on_comment,
        )
        self._initial_retry = retry
        self._max_delay = max_retry_delay / 1000
        #: Failed attempts in a row that make it give up (None: never).
        self.max_attempts = max_attempts
        self._jitter = jitter  # draws a number in [0, 1)
        # sseclient 0.0.27's rules (SSEClient(url)): read any 2xx response but
        # 204, whatever its Content-Type (the constructor warned of the first).
        self._lenient = lenient
        #: Connection attempts in a row that failed (delivered no event).
        self.failures = 0
        self._delivered = False
        self._lazy = on_comment is not None  # chunks are parsed lazily

    @property
    def retry(self) -> int:
        """The reconnection time in milliseconds: the server's last valid
        ``retry:`` value, else the initial one."""
        server_retry = self.parser.retry
        return self._initial_retry if server_retry is None else server_retry

    def request_headers(self) -> dict[str, str | bytes]:
        """The headers of the next request."""
        headers: dict[str, str | bytes] = dict(self._headers)
        last_id = self.parser.last_event_id
        if last_id:
            # "If the event source's last event ID string is not the empty
            # string, set `Last-Event-ID`/last event ID string, encoded as
            # UTF-8, in request's header list."  (HTTP libraries would encode
            # a str as Latin-1 or ASCII.)
            headers["Last-Event-ID"] = (
                last_id if last_id.isascii() else last_id.encode()
            )
        logger.debug("connecting to %s (Last-Event-ID: %r)", self.url, last_id)
        return headers

    def check_response(
        self, status: int, headers: Mapping[str, str] | None, response: Any
    ) -> bool:
        """Judge a response by its status and (case-insensitive) headers:
        True if its body is the stream to read, False for 204 No Content
        ("a client can be told to stop reconnecting using the HTTP 204 No
        Content response code").  Raise `HTTPStatusError` for any other
        status than 200 (`next_delay` tells whether it is retried) and
        `ContentTypeError` for a 200 that is not an event stream."""
        if status == 204:
            logger.info("%s answered 204 No Content: the stream is over", self.url)
            return False
        if status != 200 and not (self._lenient and 200 <= status < 300):
            raise HTTPStatusError(
                f"{self.url} answered {_status_text(status)}",
                status,
                response,
                _retry_after(None if headers is None else headers.get("Retry-After")),
            )
        content_type = None if headers is None else headers.get("Content-Type")
        if not (self._lenient or _is_event_stream(content_type)):
            raise ContentTypeError(
                f"{self.url} answered with Content-Type {content_type!r},"
                " not text/event-stream",
                content_type,
                response,
            )
        logger.info("connected to %s", self.url)
        return True

    def events(self, chunks: Iterable[bytes]) -> Iterator[Event]:
        """The events of one response's body, given as its chunks: the sync
        read loop.  Fast path: the parser loops over the chunks itself, and
        this generator hands its events on with ``yield from`` once the
        first is marked delivered, so a chunk costs no call of ours.  (A
        chunk for each event, as from a server that flushes each one:
        `connect` went from 0.82x to 0.99x the events/s of `SSEClient` over
        a requests response, by CPU time; benchmarks/bench_e2e.py, llm.)"""
        # `iter_events` ends the parser's stream at the body's clean end, as
        # `next_delay` does at any end.
        events = self.parser.iter_events(chunks)
        for event in events:
            self._delivered = True
            yield event
            yield from events

    def feed(self, chunk: bytes) -> Iterable[Event]:
        """Parse the next chunk of the body; return the events it completes:
        the async read loop, whose chunks come one await at a time.  (With
        ``on_comment``, lazily, so that comments come between them in stream
        order.)"""
        if self._lazy:
            return self._delivering(self.parser.feed_iter(chunk))
        events = self.parser.feed(chunk)
        if events:
            self._delivered = True
        return events

    def _delivering(self, events: Iterator[Event]) -> Iterator[Event]:
        for event in events:
            self._delivered = True
            yield event

    def next_delay(self, error: BaseException | None) -> float:
        """The connection is over, at a clean end of the body (``error`` is
        None) or with ``error``, an `HTTPStatusError` or a network error.
        Return the seconds to wait before the next attempt.  Raise ``error``
        itself if another attempt cannot help, and `RetriesExhausted` once
        ``max_attempts`` attempts in a row have failed."""
        # "If the file ends in the middle of an event, before the final empty
        # line, the incomplete event is not dispatched."
        self.parser.end()
        if isinstance(error, HTTPStatusError):
            if not _is_retried(error.status_code):
                raise error
        elif error is not None and _rejected_certificate(error):
            raise error
        delivered, self._delivered = self._delivered, False
        if delivered:
            self.failures = 0
        else:
            self.failures += 1
            if self.max_attempts is not None and self.failures >= self.max_attempts:
                logger.warning(
                    "giving up on %s after %d failed attempts", self.url, self.failures
                )
                raise RetriesExhausted(self.failures, self.url, error) from error
        delay = self._backoff()
        if isinstance(error, HTTPStatusError) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        # A server may ask for any wait; a timer takes at most this one.
        delay = min(delay, threading.TIMEOUT_MAX)
        cause = "" if error is None else _describe(error)
        if delivered:
            how = f"lost ({cause})" if cause else "ended"
            logger.info(
                "connection to %s %s; reconnecting in %.3f s", self.url, how, delay
            )
        else:
            logger.warning(
                "connection attempt to %s failed (%s), %d in a row; retrying in %.3f s",
                self.url,
                cause or "no event before the end",
                self.failures,
                delay,
            )
        return delay

    def restarted(self) -> None:
        """The connection was ended by `EventSource.restart`: the next
        attempt starts at once, and this one is not counted as failed."""
        # As at any end of a connection, an unfinished event is dropped.
        self.parser.end()
        delivered, self._delivered = self._delivered, False
        if delivered:
            self.failures = 0
        logger.info("restarting the connection to %s", self.url)

    def _backoff(self) -> float:
        """Seconds to wait: the reconnection time after a connection that
        delivered events; after failed ones an exponential backoff with
        jitter, capped by ``max_retry_delay`` but never shorter than the
        reconnection time."""
        base = min(self.retry, 2**53) / 1000  # a float, however many digits
        if self.failures == 0:
            # "Wait a delay equal to the reconnection time of the event source."
            return base
        # "Optionally, wait some more.  In particular, if the previous attempt
        # failed, then user agents might introduce an exponential backoff
        # delay to avoid overloading a potentially already overloaded server."
        step = max(base, _MIN_BACKOFF) * 2.0 ** min(self.failures - 1, 32)
        ceiling = min(self._max_delay, step)
        # Somewhere in the upper half, so that clients dropped together do not
        # come back together, yet none comes back at once.
        return max(base, ceiling * (1 + self._jitter()) / 2)


class _StreamState:
    """Where a reconnecting stream stands, as its policy knows it: what
    `EventSource` and `AsyncEventSource` tell alike."""

    _policy: _Reconnection
    _response: Any

    @property
    def url(self) -> str:
        return self._policy.url

    @property
    def last_event_id(self) -> str | None:
        """The last event ID string, sent as ``Last-Event-ID`` on reconnection."""
        return self._policy.parser.last_event_id

    @property
    def retry(self) -> int:
        """The reconnection time in milliseconds (the server's ``retry:``, or
        the initial ``retry`` option)."""
        return self._policy.retry

    @property
    def max_attempts(self) -> int | None:
        """Failed attempts in a row after which the stream gives up with
        `RetriesExhausted` (``None``: it never does).  It may be changed
        while the stream runs: say, 1 until a first event has come, to fail
        fast on a wrong URL, then ``None`` to ride out any outage."""
        return self._policy.max_attempts

    @max_attempts.setter
    def max_attempts(self, value: int | None) -> None:
        _check_max_attempts(value)
        self._policy.max_attempts = value

    @property
    def response(self) -> Any:
        """The response being read (the HTTP library's), or ``None`` between
        connections."""
        return self._response


class EventSource(_StreamState):
    """An event stream that reconnects, made by `connect`: iterate it for
    `Event` objects, across dropped connections, until the server answers
    204, an error that retrying cannot fix is raised, or `close` is called;
    `restart` makes a new connection at once.

    Also a context manager that closes it.  ``last_event_id``, ``retry`` and
    ``response`` tell where the stream stands.
    """

    def __init__(
        self, transport: _Transport, policy: _Reconnection, *, reconnect: bool
    ) -> None:
        self._transport = transport
        self._policy = policy
        # False: one request, whose errors are raised as they are.
        self._reconnect = reconnect
        self._closed = threading.Event()  # set once the stream is over
        self._restart = False  # `restart` was called during this attempt
        self._wakeup = threading.Event()  # set by `close` and `restart`
        # Holds `close` and `restart` off while an attempt starts.
        self._lock = threading.Lock()
        # The thread that iterates: only there can `close` close the
        # generator without racing a `next()`.
        self._reader: int | None = None
        # Being read: a requests.Response, or a _StdlibResponse.
        self._response: Any = None
        self._iterator = self._run()

    @property
    def closed(self) -> bool:
        """True once the stream is over: closed, ended by 204, or failed."""
        return self._closed.is_set()

    def __iter__(self) -> Iterator[Event]:
        # The generator itself, so that a `for` loop costs no Python call
        # per event.
        return self._iterator

    def __next__(self) -> Event:
        if self._closed.is_set():
            raise StopIteration
        return next(self._iterator)

    def close(self) -> None:
        """End the stream; safe from any thread.  Whatever the iterating
        thread waits for (a connection, the response headers, the next
        bytes, the time before reconnecting) it stops waiting at once, and
        its iteration ends.  (With a ``session`` of the caller's, a wait for
        a connection or for headers lasts until the timeouts end it.)"""
        with self._lock:
            self._closed.set()
            self._wakeup.set()
            self._transport.abort()
        running = self._iterator.gi_running  # type: ignore[attr-defined]
        if self._reader == threading.get_ident() and not running:
            # Here the loop is paused at an event: end it and close the
            # response now.  Another thread's loop ends at its next read.
            self._iterator.close()
        self._transport.close()

    def restart(self) -> None:
        """End the connection and make a new one at once, which sends
        ``Last-Event-ID``; safe from any thread.  Whatever the iterating
        thread waits for (a connection, the response headers, the next
        bytes, the time before reconnecting) it stops waiting.  A restart is
        not a failed attempt and waits for no reconnection time; an event
        whose blank line had not come is dropped, as at any end of a
        connection.  Nothing happens once the stream is closed."""
        with self._lock:
            if self._closed.is_set():
                return
            self._restart = True
            self._wakeup.set()
            self._transport.abort()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> Generator[Event, None, None]:
        retried: tuple[type[BaseException], ...] = (
            HTTPStatusError,
            *self._transport.network_errors,
        )
        self._reader = threading.get_ident()
        delay = 0.0
        try:
            while not self._closed_within(delay):
                error = None
                try:
                    yield from self._connection()
                except Exception as exc:
                    # `close` or `restart` may have broken the connection.
                    if not (self._closed.is_set() or self._restart):
                        if not (self._reconnect and isinstance(exc, retried)):
                            raise
                        error = exc
                if self._closed.is_set():
                    return
                if self._restart:
                    self._policy.restarted()
                    delay = 0.0
                    continue
                if not self._reconnect:
                    return
                delay = self._policy.next_delay(error)
        finally:
            self._closed.set()
            self._transport.close()

    def _begin(self) -> bool:
        """Start an attempt: False if the stream is closed."""
        with self._lock:
            if self._closed.is_set():
                return False
            self._restart = False
            self._wakeup.clear()
            self._transport.rearm()
            return True

    def _connection(self) -> Generator[Event, None, None]:
        """Make one request and read its events; a 204 ends the stream."""
        transport, policy = self._transport, self._policy
        if not self._begin():
            return
        response = transport.send(policy.request_headers())
        self._response = response
        try:
            if self._closed.is_set() or self._restart:
                return
            status, headers = transport.status(response)
            try:
                if not policy.check_response(status, headers, response):
                    self._closed.set()
                    return
            except ResponseError:
                transport.keep_small_body(response)
                raise
            yield from policy.events(transport.chunks(response))
        finally:
            self._response = None
            transport.close_response(response)

    def _closed_within(self, delay: float) -> bool:
        """Wait ``delay`` seconds, less if `close` or `restart` is called;
        True if the stream is closed."""
        if delay > 0:
            self._wakeup.wait(delay)
        return self._closed.is_set()


class AsyncEventSource(_StreamState):
    """The async twin of `EventSource`, made by `aconnect`: iterate it with
    ``async for`` for `Event` objects, across dropped connections, until the
    server answers 204, an error that retrying cannot fix is raised, or
    `aclose` is called; `restart` makes a new connection at once.

    Also an async context manager that closes it.  ``last_event_id``,
    ``retry`` and ``response`` tell where the stream stands.
    """

    def __init__(
        self, transport: _AsyncTransport, policy: _Reconnection, *, reconnect: bool
    ) -> None:
        self._transport = transport
        self._policy = policy
        # False: one request, whose errors are raised as they are.
        self._reconnect = reconnect
        self._closed = False  # set once the stream is over
        self._restart = False  # `restart` was called during this attempt
        # Set by `aclose` and `restart` (made anew by the transport as each
        # attempt starts, in the event loop).
        self._wakeup: _Wakeup | None = None
        # Being read: an httpx.Response or an aiohttp.ClientResponse.
        self._response: Any = None
        self._iterator = self._run()

    @property
    def closed(self) -> bool:
        """True once the stream is over: closed, ended by 204, or failed."""
        return self._closed

    def __aiter__(self) -> AsyncIterator[Event]:
        # The generator itself, so that an `async for` loop costs no Python
        # call per event.
        return self._iterator

    def __anext__(self) -> Awaitable[Event]:
        return self._iterator.__anext__()

    async def aclose(self) -> None:
        """End the stream; safe from another task.  Whatever the iterating
        task waits for (a connection, the response headers, the next bytes,
        the time before reconnecting) it stops waiting at once, and its
        iteration ends."""
        self._closed = True
        if self._wakeup is not None:
            self._wakeup.set()
        await self._transport.abort()
        if not self._iterator.ag_running:  # type: ignore[attr-defined]
            # Here the loop is paused at an event, or not started: end it.
            await self._iterator.aclose()

    async def restart(self) -> None:
        """End the connection and make a new one at once, which sends
        ``Last-Event-ID``; safe from any task.  Whatever the iterating task
        waits for (a connection, the response headers, the next bytes, the
        time before reconnecting) it stops waiting.  A restart is not a
        failed attempt and waits for no reconnection time; an event whose
        blank line had not come is dropped, as at any end of a connection.
        Nothing happens once the stream is closed."""
        if self._closed:
            return
        self._restart = True
        if self._wakeup is not None:
            self._wakeup.set()
        await self._transport.abort()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self) -> AsyncGenerator[Event, None]:
        retried: tuple[type[BaseException], ...] = (
            HTTPStatusError,
            *self._transport.network_errors,
        )
        delay = 0.0
        try:
            while not await self._closed_within(delay):
                error = None
                connection = self._connection()
                try:
                    async for event in connection:
                        yield event
                except Exception as exc:
                    # `aclose` or `restart` may have broken the connection.
                    if not (self._closed or self._restart):
                        if not (self._reconnect and isinstance(exc, retried)):
                            raise
                        error = exc
                finally:
                    await connection.aclose()  # as `yield from` would
                if self._closed:
                    return
                if self._restart:
                    self._policy.restarted()
                    delay = 0.0
                    continue
                if not self._reconnect:
                    return
                delay = self._policy.next_delay(error)
        finally:
            self._closed = True
            await self._transport.close()

    def _begin(self) -> bool:
        """Start an attempt: False if the stream is closed."""
        if self._closed:
            return False
        self._restart = False
        self._wakeup = self._transport.wakeup()
        self._transport.rearm()
        return True

    async def _connection(self) -> AsyncGenerator[Event, None]:
        """Make one request and read its events; a 204 ends the stream."""
        transport, policy = self._transport, self._policy
        if not self._begin():
            return
        response = await transport.send(policy.request_headers())
        self._response = response
        try:
            if self._closed or self._restart:
                return
            status, headers = transport.status(response)
            try:
                if not policy.check_response(status, headers, response):
                    self._closed = True
                    return
            except ResponseError:
                await transport.keep_small_body(response)
                raise
            # The twin of `policy.events`: the parser cannot loop over an
            # async iterable, so each chunk is fed to it.
            async for chunk in transport.chunks(response):
                for event in policy.feed(chunk):
                    yield event
            policy.parser.end()  # raises an EventTooLarge that waits
        finally:
            self._response = None
            await transport.close_response(response)

    async def _closed_within(self, delay: float) -> bool:
        """Wait ``delay`` seconds, less if `aclose` or `restart` is called;
        True if the stream is closed."""
        if delay > 0 and self._wakeup is not None:
            await self._transport.sleep(delay, self._wakeup)
        return self._closed


def connect(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    data: Any = None,
    json: Any = None,
    session: requests.Session | None = None,
    transport: Literal["requests", "stdlib"] | None = None,
    last_event_id: str | None = None,
    retry: int = _DEFAULT_RETRY,
    max_retry_delay: int = _DEFAULT_MAX_RETRY_DELAY,
    max_attempts: int | None = None,
    timeout: float | tuple[float | None, float | None] | None = _DEFAULT_TIMEOUT,
    max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
    on_comment: Callable[[str], object] | None = None,
    reconnect: bool = True,
    record: TextIO | str | os.PathLike[str] | None = None,
    **requests_kwargs: Any,
) -> EventSource:
    """Open a reconnecting event stream, as a browser's ``EventSource``
    would: iterate the result for `Event` objects.

    Nothing is sent until the iteration starts.  Each request carries
    ``Accept: text/event-stream``, ``Cache-Control: no-cache`` and, once the
    stream has set an ID, ``Last-Event-ID``.  A dropped connection, a clean
    end of the body, a read timeout, a 408, 429 or 5xx (but 501 and 505)
    answer is followed by another attempt after the reconnection time
    (``retry`` ms until the server sends ``retry:``), with an exponential
    backoff and jitter after attempts that delivered no event, capped at
    ``max_retry_delay`` ms, and at least as long as any ``Retry-After``.
    A 204 ends the iteration.  Any other status raises `HTTPStatusError`, a
    200 that is not ``text/event-stream`` raises `ContentTypeError`, a
    certificate that fails verification raises ``requests``' ``SSLError``
    (``ssl.SSLCertVerificationError`` with the standard library), and
    ``max_attempts`` failed attempts in a row raise `RetriesExhausted`.

    The requests are made with ``requests`` if it is installed or a
    ``session`` is given, else with the standard library's ``http.client``;
    ``transport="requests"`` or ``"stdlib"`` chooses.  The standard
    library's transport takes, of requests' other keyword arguments,
    ``params``, ``auth`` (a (user, password) pair), ``verify`` (True, False
    or the path of a CA bundle) and ``cert``, and reads proxies from
    ``HTTP_PROXY``, ``HTTPS_PROXY`` and ``NO_PROXY``.

    ``method``, ``data`` and ``json`` make the request (``data`` must be
    re-sendable: bytes, str or a dict, not an iterator); ``session`` is a
    ``requests.Session`` for auth, cookies, proxies and TLS settings (closed
    with the stream only if `connect` made it).  ``headers`` add to or
    override the defaults; ``last_event_id`` resumes from a stored ID.
    ``timeout`` is ``(connect, read)`` in seconds, or one number for both,
    or None.  Other keyword arguments go to ``Session.request`` (``params``,
    ``auth``, ``cookies``, ``verify``, ``cert``, ``proxies``, ...);
    redirects are followed.

    ``max_event_size`` and ``on_comment`` are those of `EventStreamParser`:
    ``on_comment(text)`` is called with each comment (a keep-alive, say) as
    soon as its line is in, before the stream yields the events that the
    same read completes.  An event over ``max_event_size`` raises
    `EventTooLarge` (never retried) once the events before it are out:
    when the next bytes arrive or the body ends.

    With ``reconnect=False`` it makes one request, judges the response by
    the same rules and reads its events; an error is raised as it is, and
    the iteration ends with the body.

    ``record`` (a text file, or the path of one, which is then opened at the
    call, written over, and closed with the stream) receives each response
    as it arrives, in the format of the project's recordings: the method and
    URL, the time, status line and headers, each read of the body (the HTTP
    chunked framing taken off, any gzip left on) with its time, and how the
    body ended (``eof``, ``error ...``, or ``stopped`` by `close`,
    `restart` or the stream giving up).  Each connection adds one recording
    to the file, after the last; of a redirect, the response it leads to is
    recorded.  It needs the standard library's transport, which it chooses
    (with ``transport="requests"`` or a ``session`` it raises `ValueError`).

    Arguments are checked at the call: a wrong type raises `TypeError`, a
    value out of range (or a URL whose scheme is not http or https)
    `ValueError`, and a keyword argument that ``Session.request`` does not
    take `TypeError`.
    """
    _check_stream_args(
        url, method, headers, data, last_event_id, retry, max_retry_delay,
        max_attempts, timeout, max_event_size, requests_kwargs,
        _REQUESTS_OPTIONS, "requests.Session.request",
    )  # fmt: skip
    policy = _Reconnection(
        url,
        headers=headers,
        last_event_id=last_event_id,
        retry=retry,
        max_retry_delay=max_retry_delay,
        max_attempts=max_attempts,
        max_event_size=max_event_size,
        on_comment=on_comment,
    )
    chosen = _sync_transport(
        transport, session, method, url, data, json, timeout, requests_kwargs, record
    )
    return EventSource(chosen, policy, reconnect=reconnect)


#: The values of `connect`'s ``transport``, but None (the default).
_TRANSPORTS = ("requests", "stdlib")


def _sync_transport(
    name: str | None,
    session: requests.Session | None,
    method: str,
    url: str,
    data: Any,
    json: Any,
    timeout: float | tuple[float | None, float | None] | None,
    options: dict[str, Any],
    record: TextIO | str | os.PathLike[str] | None = None,
) -> _Transport:
    """The transport `connect` makes its requests with: the one `name`s, or
    requests if a session is given or requests can be imported, else the
    standard library's (always, to `record`)."""
    if name is not None and name not in _TRANSPORTS:
        raise ValueError(
            f"transport must be 'requests', 'stdlib' or None, not {name!r}"
        )
    if record is not None:
        if name == "requests" or session is not None:
            given = "a session" if name is None else "transport='requests'"
            raise ValueError(
                f"record needs the standard library's transport, not {given}:"
                " give one or the other"
            )
        return _StdlibTransport(method, url, data, json, timeout, options, record)
    if name is None:
        has_requests = session is not None or _requests_importable()
        name = "requests" if has_requests else "stdlib"
    if name == "requests":
        return _RequestsTransport(session, method, url, data, json, timeout, options)
    if session is not None:
        raise ValueError("session is a requests.Session: it needs transport='requests'")
    return _StdlibTransport(method, url, data, json, timeout, options)


def aconnect(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    data: Any = None,
    json: Any = None,
    client: httpx.AsyncClient | aiohttp.ClientSession | None = None,
    last_event_id: str | None = None,
    retry: int = _DEFAULT_RETRY,
    max_retry_delay: int = _DEFAULT_MAX_RETRY_DELAY,
    max_attempts: int | None = None,
    timeout: float | tuple[float | None, float | None] | None = _DEFAULT_TIMEOUT,
    max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
    on_comment: Callable[[str], object] | None = None,
    reconnect: bool = True,
    **client_kwargs: Any,
) -> AsyncEventSource:
    """`connect` for asyncio, over ``httpx.AsyncClient`` or
    ``aiohttp.ClientSession``: open a reconnecting event stream and iterate
    it with ``async for``.

    The options, the rules (what is retried, how long to wait, which headers
    are sent, 204) and the errors are those of `connect`, from the same
    policy; network errors are those of the HTTP library (a certificate
    that fails verification raises ``httpx.ConnectError`` or
    ``aiohttp.ClientConnectorCertificateError`` at once).

    ``client`` is an ``httpx.AsyncClient`` or an ``aiohttp.ClientSession``
    for auth, cookies, proxies, HTTP/2 (httpx) and TLS settings, which both
    take per client, not per request; it is never closed by the stream.  If
    none is given, the stream makes an ``httpx.AsyncClient`` of its own at
    the first iteration (sharing the TLS settings of all such clients) and
    closes it with the stream.  Other keyword arguments go to
    ``AsyncClient.build_request`` or ``ClientSession.request`` (``params``,
    ``auth``, ``cookies``, ...); redirects are followed.  ``timeout`` becomes
    httpx's ``Timeout(connect, read=read)`` or aiohttp's
    ``ClientTimeout(connect=connect, sock_read=read)``, never a limit on the
    whole stream.  ``reconnect=False`` makes one request, as with `connect`.

    Under asyncio, aiohttp reads a stream with a fraction of httpx's CPU
    time (about a sixth, when each event comes in a read of its own):
    for many streams in one process, pass a shared ``aiohttp.ClientSession``.
    httpx runs under trio too.  Arguments are checked at the call, as by
    `connect`.
    """
    accepted, where = (
        (_AIOHTTP_OPTIONS, "aiohttp.ClientSession.request")
        if _is_aiohttp(client)
        else (_HTTPX_OPTIONS, "httpx.AsyncClient.build_request and send")
    )
    _check_stream_args(
        url, method, headers, data, last_event_id, retry, max_retry_delay,
        max_attempts, timeout, max_event_size, client_kwargs, accepted, where,
    )  # fmt: skip
    policy = _Reconnection(
        url,
        headers=headers,
        last_event_id=last_event_id,
        retry=retry,
        max_retry_delay=max_retry_delay,
        max_attempts=max_attempts,
        max_event_size=max_event_size,
        on_comment=on_comment,
    )
    transport = _async_transport(
        client, method, url, data, json, timeout, client_kwargs
    )
    return AsyncEventSource(transport, policy, reconnect=reconnect)


# ---------------------------------------------------------------------------
# 6. The command line, python -m sseclient, and its demo (public API only)
# ---------------------------------------------------------------------------

_EXAMPLES = """\
examples:
  sseclient --demo                  a built-in server shows a stream resuming
  sseclient https://example.com/stream
  sseclient -H 'Authorization: Bearer TOKEN' --json URL | jq -r .data
  sseclient -X POST -d '{"prompt": "hi"}' URL
  sseclient -d 'q=news&lang=en' URL   a form, as curl -d sends it
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
    "record": "--record",
}


def main(argv: list[str] | None = None) -> int:
    """Run the ``sseclient`` command; return its exit status.

    0 when the stream ends for good (HTTP 204, the end of a file) or when
    ``--max-events`` is reached; 1 on a failure, reported in one line on
    standard error (an HTTP error with the start of what the server said);
    2 on a usage error; 130 on Ctrl-C (128 + SIGINT, as shells report it).
    """
    args = _parse_args(argv)
    _log_to_stderr(args.verbose)
    try:
        if args.demo:
            _run_demo(args)
        else:
            with _open_events(args, _comment_printer(args, sys.stdout)) as events:
                _print_events(events, args, sys.stdout)
    except KeyboardInterrupt:
        # Ctrl-C is how one stops watching a stream: no traceback, but the
        # status that tells a script the command was interrupted.
        logger.info("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`sseclient URL | head`): stop quietly.  Point
        # stdout at devnull so that its flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except Exception as exc:
        logger.debug("failed", exc_info=True)
        source = args.source or "the demo server"
        print(f"sseclient: error: {_describe_error(exc, source)}", file=sys.stderr)
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
        help="send this request body, as it is (POST unless -X says otherwise);"
        " unless -H gives a Content-Type, a JSON object or array goes as"
        " application/json and anything else as application/x-www-form-urlencoded,"
        " as curl -d sends it",
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
        "--comments",
        action="store_true",
        help="also print the stream's comments (keep-alives and such) as they"
        ' arrive: a dim ": text" line, or with --json {"comment": "text"}',
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
        "--record",
        metavar="FILE",
        help="also save the response to FILE as it arrives (status, headers, each"
        " read of the body with its time), for replaying; one connection only",
    )
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
    scheme, colon_slashes, _ = (args.source or "").partition("://")
    if colon_slashes and not _is_url(args.source):
        error(
            f"{args.source}: unsupported scheme {scheme!r}:"
            " give an http:// or https:// URL"
        )
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
    """The ``-H 'Name: value'`` options as a dict.  A body gets a
    Content-Type unless one is given: application/json for a JSON document,
    else application/x-www-form-urlencoded, as curl sends ``-d``."""
    headers = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"-H {line!r}: expected 'Name: value'")
        headers[name.strip()] = value.strip()
    if body is not None and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = (
            "application/json"
            if _is_json_document(body)
            else "application/x-www-form-urlencoded"
        )
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
        return  # a failure is told in one line, at the end
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s.%(msecs)03d %(name)s: %(message)s", "%H:%M:%S")
    )
    target = logging.getLogger() if verbosity > 1 else logger
    target.addHandler(handler)
    target.setLevel(logging.DEBUG)


def _open_events(
    args: argparse.Namespace, on_comment: Callable[[str], object] | None
) -> contextlib.AbstractContextManager[Iterable[Event]]:
    """The events of the URL, the file or standard input (``-``)."""
    if args.source == "-":
        logger.info("reading events from standard input")
        # SSEClient reads a file with read1, which returns what one read of a
        # pipe gives instead of waiting to fill a buffer.
        return SSEClient(sys.stdin.buffer, on_comment=on_comment)
    if not _is_url(args.source):
        logger.info("reading events from %s", args.source)
        return SSEClient(_open_file(args.source), on_comment=on_comment)
    return _url_events(args.source, args, on_comment)


def _open_file(path: str) -> io.BufferedIOBase:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise SSEError(
            f"{path}: no such file (a URL starts with http:// or https://)"
        ) from None


@contextlib.contextmanager
def _url_events(
    url: str,
    args: argparse.Namespace,
    on_comment: Callable[[str], object] | None = None,
) -> Iterator[Iterable[Event]]:
    """The events of the URL, across reconnections unless ``--no-reconnect``.

    Until the first event, a failed attempt ends the command: it says at
    once that the URL is wrong or the server down, rather than retrying in
    silence.  Once events have come, drops and outages are ridden out as a
    browser would: reconnecting with Last-Event-ID, backing off while the
    server stays away.  ``--record FILE`` reads one connection, and saves
    it to FILE as it arrives.
    """
    data = args.data
    # connect's own default timeouts, unless --timeout is given.
    timeout: dict[str, Any] = {} if args.timeout is None else {"timeout": args.timeout}
    stream = connect(
        url,
        method=args.method or ("GET" if data is None else "POST"),
        headers=args.headers,
        data=None if data is None else data.encode(),
        last_event_id=args.last_event_id,
        max_attempts=1,
        on_comment=on_comment,
        reconnect=not (args.no_reconnect or args.record),
        record=args.record,
        **timeout,
    )
    with stream:
        yield _patient_after_first_event(stream)


def _patient_after_first_event(stream: EventSource) -> Iterator[Event]:
    """The stream's events; after the first, it retries without end."""
    for event in stream:
        stream.max_attempts = None
        yield event


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


def _comment_printer(
    args: argparse.Namespace, out: TextIO
) -> Callable[[str], None] | None:
    """With ``--comments``, what prints each comment as it arrives, in the
    layout of the events; else None."""
    if not args.comments:
        return None
    if args.json:

        def show(text: str) -> str:
            return json.dumps({"comment": text}, separators=(",", ":"))

    else:
        clean, _, dim, reset = _terminal_style(out)

        def show(text: str) -> str:
            return f"{dim}: {clean(text)}{reset}"

    def print_comment(text: str) -> None:
        out.write(show(text) + "\n")
        out.flush()

    return print_comment


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


def _terminal_style(out: TextIO) -> tuple[Callable[[str], str], str, str, str]:
    """How to show a server's text on `out`: a function that escapes control
    characters on a terminal, and the bold, dim and reset escapes (empty but
    on a terminal with colour: not NO_COLOR, not TERM=dumb)."""
    on_terminal = out.isatty()
    colour = (
        on_terminal
        and not os.environ.get("NO_COLOR")
        and os.environ.get("TERM") != "dumb"
    )
    bold, dim, reset = ("\x1b[1;36m", "\x1b[2m", "\x1b[0m") if colour else ("", "", "")

    def clean(text: str) -> str:
        return text.translate(_CONTROL_ESCAPES) if on_terminal else text

    return clean, bold, dim, reset


def _pretty_printer(out: TextIO) -> Callable[[Event], str]:
    """A readable layout: the type (coloured on a terminal unless NO_COLOR is
    set), the ID and the retry on one line, then the data lines, indented."""
    clean, bold, dim, reset = _terminal_style(out)

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


def _describe_error(exc: BaseException, source: str) -> str:
    """One line on what went wrong: the first cause, without the wrappers
    that HTTP libraries put around it."""
    root = exc
    while True:
        if _is_cut_body(root):
            return f"{source}: the connection closed in the middle of the body"
        if not (root.__cause__ or root.__context__):
            break
        root = root.__cause__ or root.__context__  # type: ignore[assignment]
    if isinstance(root, ResponseError):
        return str(root) + _server_reason(root.response)  # it names the URL
    if isinstance(root, SSEError):
        return str(root)  # it names the URL
    if isinstance(root, OSError) and (root.strerror or str(root).strip()):
        return f"{source}: {root.strerror or root}"
    # The type alone where the message is blank (httpx's timeouts have none).
    name, text = type(root).__name__, " ".join(str(root).split())
    return f"{source}: {name}: {text}" if text else f"{source}: {name}"


def _is_cut_body(error: BaseException) -> bool:
    """Whether `error` is http.client's ``IncompleteRead`` (or urllib3's, its
    subclass): a body cut short.  Told by its name, since this layer names
    no HTTP library."""
    return any(kind.__name__ == "IncompleteRead" for kind in type(error).__mro__)


def _server_reason(response: Any) -> str:
    """What the server said in the body of a response that is not a stream
    (an API's error message): ``": "`` and its start on one line, or "" if
    the body was not kept (`connect` keeps one of a known, small length)."""
    body = b""
    # A body not kept is read from a closed response: b"" or an error.
    with contextlib.suppress(Exception):
        body = response.content
    if not isinstance(body, bytes):
        return ""  # not a requests response
    text = " ".join(body.decode("utf-8", "replace").split())  # one line
    cut = "..." if len(text) > _REASON_LIMIT else ""
    text = text[:_REASON_LIMIT].translate(_CONTROL_ESCAPES)
    return f": {text}{cut}" if text else ""


#: The most characters of a server's error body that the command prints.
_REASON_LIMIT = 300


# -- the demo ---------------------------------------------------------------

# The demo's feed.  The first connection is dropped in the middle of
# _DEMO_FEED[_DEMO_DROP_AT].
_DEMO_FEED = (
    Event("1", "message", "Hello from the sseclient demo server."),
    Event("2", "progress", '{"step": 1, "of": 3}'),
    Event("3", "progress", '{"step": 2, "of": 3}'),
    Event(
        "4",
        "message",
        "A two-line event: the first time the server sends it,\n"
        "it drops the connection half-way through.",
    ),
    Event("5", "progress", '{"step": 3, "of": 3}'),
    Event("6", "done", "That was every event, each printed once."),
)
_DEMO_DROP_AT = 3
_DEMO_RETRY_MS = 300
_DEMO_PAUSE = 0.15  # seconds between events


def _run_demo(args: argparse.Namespace) -> None:
    server = _start_demo_server()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    _demo_note(f"sseclient demo: serving a sample event stream at {url}")
    try:
        on_comment = _comment_printer(args, sys.stdout)
        with _url_events(url, args, on_comment) as stream:
            _print_events(stream, args, sys.stdout)
    finally:
        server.shutdown()
        server.server_close()


def _demo_note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _start_demo_server() -> http.server.ThreadingHTTPServer:
    """The demo's server, on 127.0.0.1 at a free port, serving in a thread."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            _serve_demo_feed(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # _serve_demo_feed tells what happens

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
    ids = [event.id for event in _DEMO_FEED]
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
        block = _DEMO_FEED[index].dump().encode()
        if last_id is None and index == _DEMO_DROP_AT:
            request.wfile.write(block[: len(block) // 2])
            _demo_note(
                f"demo server: dropping the connection in the middle of event"
                f" {ids[index]}"
            )
            return
        request.wfile.write(block)


if __name__ == "__main__":
    sys.exit(main())
