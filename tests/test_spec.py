"""Conformance tests for ``sseclient.EventStreamParser``.

Each rule of WHATWG HTML "Interpreting an event stream" is tested with
explicit expected events. Every case is also:

* checked against the literal reference parser in ``reference.py``;
* re-fed to the parser under every chunking: the whole input at once, split
  in two at every byte position (including empty first/last chunks), and one
  byte at a time. All chunkings must give identical events, and after every
  ``feed`` the events returned so far must be exactly those whose blank line
  has been received (no event held back, none emitted early).
"""

import sys

import pytest
import reference

import sseclient


def E(data, event="message", id=None, retry=None):
    """Expected event as an (id, event, data, retry) tuple."""
    return (id, event, data, retry)


def as_tuple(ev):
    assert isinstance(ev, sseclient.Event), f"feed() returned {ev!r}, not an Event"
    return (ev.id, ev.event, ev.data, ev.retry)


def chunkings(data):
    """Yield (label, chunks) for every chunking of ``data`` we test."""
    yield "whole", [data]
    for i in range(len(data) + 1):
        yield f"split@{i}", [data[:i], data[i:]]
    yield "1-byte", [data[i : i + 1] for i in range(len(data))]


def feed_all(chunks, **parser_kwargs):
    """Feed ``chunks`` to a fresh parser.

    After each feed, checks the cumulative events and last_event_id against
    the reference parser run on the bytes received so far. Returns the final
    (events, last_event_id, retry) after ``end()``.
    """
    p = sseclient.EventStreamParser(**parser_kwargs)
    got = []
    received = b""
    for n, chunk in enumerate(chunks):
        out = p.feed(chunk)
        assert isinstance(out, list), f"feed() returned {type(out).__name__}"
        got.extend(as_tuple(ev) for ev in out)
        received += chunk
        ref_events, ref_last_id, _ = reference.parse(received)
        assert got == ref_events, (
            f"after feed #{n} (received {received!r}) events so far {got!r}, "
            f"expected {ref_events!r}"
        )
        assert p.last_event_id == ref_last_id, (
            f"after feed #{n} (received {received!r}) last_event_id "
            f"{p.last_event_id!r}, expected {ref_last_id!r}"
        )
    assert p.end() is None
    return got, p.last_event_id, p.retry


def check_stream(data, events, last_event_id=None, retry=None):
    expected = (list(events), last_event_id, retry)
    # The literal reference must agree with the hand-written expectation.
    assert reference.parse(data) == expected, "reference.py disagrees"
    for label, chunks in chunkings(data):
        got = feed_all(chunks)
        assert got == expected, (
            f"{label} {chunks!r}: got {got!r}, expected {expected!r}"
        )
        got = iter_all(chunks)
        assert got == expected, (
            f"iter_events {label} {chunks!r}: got {got!r}, expected {expected!r}"
        )


def iter_all(chunks):
    """Run ``chunks`` through ``iter_events``, checking that every event the
    bytes so far complete has been yielded before the next chunk is pulled."""
    p = sseclient.EventStreamParser()
    got = []

    def source():
        received = b""
        for chunk in chunks:
            assert got == reference.parse(received)[0], f"late after {received!r}"
            received += chunk
            yield chunk
        assert got == reference.parse(received)[0]

    got.extend(as_tuple(ev) for ev in p.iter_events(source()))
    return got, p.last_event_id, p.retry


#: Every case of the tables below, for `test_stream`.
ALL_CASES = []


def cases(group, *items):
    """pytest.param list from (id, data, events[, last_event_id[, retry]]),
    each id prefixed with ``group``; they join ALL_CASES."""
    params = []
    for item in items:
        name, data, events, *rest = item
        last_id = rest[0] if len(rest) > 0 else None
        retry = rest[1] if len(rest) > 1 else None
        params.append(pytest.param(data, events, last_id, retry, id=f"{group}-{name}"))
    ALL_CASES.extend(params)
    return params


ARGS = "data, events, last_event_id, retry"


# --------------------------------------------------------------------------
# Decoding: UTF-8, incremental, U+FFFD replacement, one leading BOM dropped.
# --------------------------------------------------------------------------

UTF8_CASES = cases(
    "decoding",
    ("ascii", b"data: hello\n\n", [E("hello")]),
    (
        "multibyte-2-3-4",
        "data: é€😀\n\n".encode(),
        [E("é€😀")],
    ),
    ("multibyte-in-event-type", "event: ünï\ndata: x\n\n".encode(), [E("x", "ünï")]),
    ("multibyte-in-id", "id: ⓘd\ndata: x\n\n".encode(), [E("x", id="ⓘd")], "ⓘd"),
    ("invalid-ff", b"data: a\xffb\n\n", [E("a\ufffdb")]),
    ("invalid-fe-ff", b"data: \xfe\xff\n\n", [E("\ufffd\ufffd")]),
    ("lone-continuation", b"data: \x80x\n\n", [E("\ufffdx")]),
    ("raw-0x85-byte", b"data: a\x85b\n\n", [E("a\ufffdb")]),
    ("truncated-3byte-before-lf", b"data: \xe2\x82\n\n", [E("\ufffd")]),
    ("truncated-4byte-before-lf", b"data: \xf0\x9f\x98\n\n", [E("\ufffd")]),
    ("truncated-then-ascii", b"data: \xe2\x82x\n\n", [E("\ufffdx")]),
    ("truncated-before-cr", b"data: \xc3\r\r", [E("\ufffd")]),
    ("overlong", b"data: \xc0\xaf\n\n", [E("\ufffd\ufffd")]),
    ("surrogate", b"data: \xed\xa0\x80\n\n", [E("\ufffd\ufffd\ufffd")]),
    ("above-max", b"data: \xf4\x90\x80\x80\n\n", [E("\ufffd" * 4)]),
    ("invalid-in-field-name", b"d\xffata: x\n\n", []),
    ("invalid-in-id", b"id: \xff\ndata: x\n\n", [E("x", id="\ufffd")], "\ufffd"),
    ("bom-dropped", b"\xef\xbb\xbfdata: x\n\n", [E("x")]),
    ("bom-then-blank-line", b"\xef\xbb\xbf\ndata: x\n\n", [E("x")]),
    ("bom-only", b"\xef\xbb\xbf", []),
    ("bom-then-comment", b"\xef\xbb\xbf: hi\ndata: x\n\n", [E("x")]),
    # A second BOM is content: the first line's field is "\ufeffdata".
    (
        "second-bom-is-content",
        b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n",
        [E("y")],
    ),
    ("bom-later-in-data", b"data: \xef\xbb\xbfx\n\n", [E("\ufeffx")]),
    ("bom-at-start-of-later-line", b"data: a\n\n\xef\xbb\xbfdata: b\n\n", [E("a")]),
    ("bom-after-bom-data", b"\xef\xbb\xbfdata: \xef\xbb\xbf\n\n", [E("\ufeff")]),
    # A truncated BOM is not a BOM: EF BB decodes to one U+FFFD.
    ("truncated-bom", b"\xef\xbbdata: x\n\ndata: y\n\n", [E("y")]),
    ("lone-ef", b"\xefdata: x\n\ndata: y\n\n", [E("y")]),
    ("bom-tail-without-head", b"\xbb\xbfdata: x\n\ndata: y\n\n", [E("y")]),
    ("nul-in-data", b"data: a\x00b\n\n", [E("a\x00b")]),
)


# --------------------------------------------------------------------------
# Line endings: CRLF, LF, CR. Nothing else.
# --------------------------------------------------------------------------

ODD_CHARS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"

LINE_CASES = cases(
    "line_endings",
    ("lf", b"data: a\n\n", [E("a")]),
    ("crlf", b"data: a\r\n\r\n", [E("a")]),
    ("cr", b"data: a\r\r", [E("a")]),
    ("lf-multi", b"data: a\ndata: b\n\n", [E("a\nb")]),
    ("crlf-multi", b"data: a\r\ndata: b\r\n\r\n", [E("a\nb")]),
    ("cr-multi", b"data: a\rdata: b\r\r", [E("a\nb")]),
    ("mixed", b"data: a\r\ndata: b\rdata: c\n\r\n", [E("a\nb\nc")]),
    ("lf-cr-lf", b"data: a\n\r\ndata: b\n\n", [E("a"), E("b")]),
    ("lf-cr", b"data: a\n\rdata: b\n\n", [E("a"), E("b")]),
    ("cr-cr-lf", b"data: a\r\r\ndata: b\n\n", [E("a"), E("b")]),
    ("crlf-lf", b"data: a\r\n\ndata: b\r\n\n", [E("a"), E("b")]),
    ("crlf-cr", b"data: a\r\n\rdata: b\r\r", [E("a"), E("b")]),
    ("cr-crlf", b"data: a\r\r\n", [E("a")]),
    ("lf-lf-cr-lf", b"data: a\n\n\r\ndata: b\n\n", [E("a"), E("b")]),
    ("many-blank-lines", b"\n\n\r\r\n\r\n\ndata: a\n\n\n\r\n\r\r", [E("a")]),
    # CR then LF is ONE terminator, so "data: a\r\n" is not followed by a
    # blank line: no event.
    ("crlf-is-one-terminator", b"data: a\r\n", []),
    ("cr-lf-cr-lf-is-two", b"data: a\r\n\r\n", [E("a")]),
    # A lone CR in the middle of a line ends it; "b" is an unknown field.
    ("lone-cr-mid-line", b"data: a\rb\n\n", [E("a")]),
    ("lone-cr-starts-data", b"x\rdata: a\n\n", [E("a")]),
    ("lf-cr-in-value", b"data: a\n\rb\n\n", [E("a")]),
    (
        "odd-chars-in-data",
        ("data: a" + ODD_CHARS + "b\n\n").encode(),
        [E("a" + ODD_CHARS + "b")],
    ),
    (
        "odd-chars-separate-lines",
        ("data: a\x0bdata: b\u2028data: c\n\n").encode(),
        [E("a\x0bdata: b\u2028data: c")],
    ),
    (
        "odd-chars-as-blank-lines",
        ("data: a\n" + "\x0c\n" + "\x1c\n" + "\u2028\n" + "data: b\n\n").encode(),
        [E("a\nb")],
    ),
    ("vt-ff-in-data", b"data: x\x0by\x0cz\n\n", [E("x\x0by\x0cz")]),
    ("odd-chars-in-field-name", ("data\u2028: x\n\ndata\x0b: y\n\n").encode(), []),
    (
        "odd-chars-in-event-and-id",
        ("event: a\u2029b\nid: 1\x852\ndata: x\n\n").encode(),
        [E("x", "a\u2029b", id="1\x852")],
        "1\x852",
    ),
    ("nel-c2-85-in-data", b"data: a\xc2\x85b\n\n", [E("a\x85b")]),
)


# --------------------------------------------------------------------------
# Comments, field/value split, leading space, no colon, case, unknown.
# --------------------------------------------------------------------------

FIELD_CASES = cases(
    "fields",
    ("comment-ignored", b": comment\ndata: x\n\n", [E("x")]),
    ("comment-only-block", b": hi\n\n", []),
    ("empty-comment", b":\n\n", []),
    ("comment-looks-like-data", b":data: x\n\n", []),
    ("comment-between-data", b"data: a\n: c\ndata: b\n\n", [E("a\nb")]),
    ("comment-keeps-event-type", b"event: foo\n: c\ndata: x\n\n", [E("x", "foo")]),
    ("comment-crlf", b":c\r\ndata: x\r\n\r\n", [E("x")]),
    ("first-colon-splits", b"data: a:b: c\n\n", [E("a:b: c")]),
    ("colon-value-only", b"data::\n\n", [E(":")]),
    ("no-space", b"data:a\n\n", [E("a")]),
    ("one-space-removed", b"data: a\n\n", [E("a")]),
    ("two-spaces-one-kept", b"data:  a\n\n", [E(" a")]),
    ("three-spaces", b"data:   a\n\n", [E("  a")]),
    ("tab-not-stripped", b"data:\ta\n\n", [E("\ta")]),
    ("space-then-tab", b"data: \ta\n\n", [E("\ta")]),
    ("trailing-spaces-kept", b"data: a  \n\n", [E("a  ")]),
    ("only-space-value", b"data: \n\n", [E("")]),
    ("two-space-value", b"data:  \n\n", [E(" ")]),
    ("nbsp-not-stripped", "data:\u00a0a\n\n".encode(), [E("\u00a0a")]),
    ("no-colon-data", b"data\n\n", [E("")]),
    ("no-colon-data-twice", b"data\ndata\n\n", [E("\n")]),
    ("no-colon-data-then-value", b"data\ndata: b\n\n", [E("\nb")]),
    ("no-colon-event", b"event\ndata: x\n\n", [E("x")]),
    ("case-Data", b"Data: x\n\n", []),
    ("case-DATA", b"DATA: x\n\n", []),
    ("case-Event", b"Event: foo\ndata: x\n\n", [E("x")]),
    ("case-ID", b"ID: 1\ndata: x\n\n", [E("x")]),
    ("case-Id", b"Id: 1\ndata: x\n\n", [E("x")]),
    ("case-Retry", b"Retry: 5\ndata: x\n\n", [E("x")]),
    ("unknown-field", b"foo: bar\ndata: x\n\n", [E("x")]),
    ("unknown-no-colon", b"foo\n\n", []),
    ("unknown-datum", b"datum: x\n\n", []),
    ("unknown-dat", b"dat: x\n\n", []),
    ("unknown-data-space", b"data : x\n\n", []),
    ("unknown-space-data", b" data: x\n\n", []),
    ("unknown-space-colon", b" : x\n\n", []),
    ("unknown-empty-name", b"a\n\n", []),
    ("unknown-tab-data", b"\tdata: x\n\n", []),
    ("unknown-nul-data", b"data\x00: x\n\n", []),
    ("unknown-only-data-survives", b"foo: 1\ndata: a\nbar\ndata: b\n\n", [E("a\nb")]),
)


# --------------------------------------------------------------------------
# data: buffer, trailing LF removal, dispatch on blank line.
# --------------------------------------------------------------------------

DATA_CASES = cases(
    "data",
    ("single", b"data: a\n\n", [E("a")]),
    ("multi-line", b"data: a\ndata: b\ndata: c\n\n", [E("a\nb\nc")]),
    ("empty-data-dispatches", b"data:\n\n", [E("")]),
    ("two-empty-data", b"data:\ndata:\n\n", [E("\n")]),
    ("three-empty-data", b"data:\ndata:\ndata:\n\n", [E("\n\n")]),
    ("trailing-empty-data", b"data: a\ndata:\n\n", [E("a\n")]),
    ("leading-empty-data", b"data:\ndata: a\n\n", [E("\na")]),
    ("only-one-lf-removed", b"data: a\ndata:\ndata:\n\n", [E("a\n\n")]),
    ("two-events", b"data: a\n\ndata: b\n\n", [E("a"), E("b")]),
    ("blank-without-data", b"\n", []),
    ("empty-stream", b"", []),
    ("blank-lines-only", b"\n\n\n\n", []),
    ("data-then-many-blanks", b"data: a\n\n\n\n", [E("a")]),
    ("data-with-json", b'data: {"a": 1}\n\n', [E('{"a": 1}')]),
    (
        "data-whitespace",
        b"data:    \ndata: \t \n\n",
        [E("   \n\t ")],
    ),
    ("data-long", b"data: " + b"x" * 300 + b"\n\n", [E("x" * 300)]),
)


# --------------------------------------------------------------------------
# event: type, default "message", reset after every blank line.
# --------------------------------------------------------------------------

EVENT_CASES = cases(
    "event_type",
    ("set", b"event: foo\ndata: x\n\n", [E("x", "foo")]),
    ("empty-means-message", b"event:\ndata: x\n\n", [E("x")]),
    ("empty-with-space", b"event: \ndata: x\n\n", [E("x")]),
    ("no-colon-means-message", b"event\ndata: x\n\n", [E("x")]),
    ("last-wins", b"event: foo\nevent: bar\ndata: x\n\n", [E("x", "bar")]),
    ("empty-overrides", b"event: foo\nevent:\ndata: x\n\n", [E("x")]),
    ("after-data", b"data: x\nevent: foo\n\n", [E("x", "foo")]),
    ("two-spaces", b"event:  foo\ndata: x\n\n", [E("x", " foo")]),
    ("explicit-message", b"event: message\ndata: x\n\n", [E("x")]),
    (
        "reset-after-dispatch",
        b"event: foo\ndata: a\n\ndata: b\n\n",
        [E("a", "foo"), E("b")],
    ),
    ("reset-after-blank-without-data", b"event: foo\n\ndata: x\n\n", [E("x")]),
    ("reset-after-crlf-blank", b"event: foo\r\n\r\ndata: x\r\n\r\n", [E("x")]),
    ("reset-after-cr-blank", b"event: foo\r\rdata: x\r\r", [E("x")]),
    ("event-only-not-dispatched", b"event: foo\n\n", []),
    ("event-with-colon", b"event: a:b\ndata: x\n\n", [E("x", "a:b")]),
    (
        "each-block-own-type",
        b"event: a\ndata: 1\n\nevent: b\ndata: 2\n\ndata: 3\n\n",
        [E("1", "a"), E("2", "b"), E("3")],
    ),
)


# --------------------------------------------------------------------------
# id: last event ID, NUL rule, persistence, id-only blocks.
# --------------------------------------------------------------------------

#: The events of a stream whose second event comes after an empty id.
EMPTIED = [E("a", id="1"), E("b", id="")]

ID_CASES = cases(
    "id",
    ("set", b"id: 1\ndata: x\n\n", [E("x", id="1")], "1"),
    ("never-set", b"data: x\n\n", [E("x")], None),
    (
        "persists",
        b"id: 1\ndata: a\n\ndata: b\n\n",
        [E("a", id="1"), E("b", id="1")],
        "1",
    ),
    (
        "changes",
        b"id: 1\ndata: a\n\nid: 2\ndata: b\n\n",
        [E("a", id="1"), E("b", id="2")],
        "2",
    ),
    # An empty id, written three ways, empties the last event ID.
    *(
        (f"{way}-sets-empty", b"id: 1\ndata: a\n\n%s\ndata: b\n\n" % line, EMPTIED, "")
        for way, line in [("no-colon", b"id"), ("colon", b"id:"), ("space", b"id: ")]
    ),
    ("empty-first", b"id:\ndata: x\n\n", [E("x", id="")], ""),
    (
        "nul-ignored",
        b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n",
        [E("a", id="1"), E("b", id="1")],
        "1",
    ),
    ("nul-only-ignored", b"id: \x00\ndata: x\n\n", [E("x")], None),
    ("nul-at-end-ignored", b"id: 5\x00\ndata: x\n\n", [E("x")], None),
    ("nul-at-start-ignored", b"id: \x005\ndata: x\n\n", [E("x")], None),
    ("nul-does-not-clear", b"id: 1\nid: \x00\ndata: x\n\n", [E("x", id="1")], "1"),
    ("id-only-block", b"id: 7\n\n", [], "7"),
    ("id-only-block-then-data", b"id: 7\n\ndata: x\n\n", [E("x", id="7")], "7"),
    ("id-after-data-in-block", b"data: x\nid: 5\n\n", [E("x", id="5")], "5"),
    ("last-id-in-block-wins", b"id: 1\nid: 2\ndata: x\n\n", [E("x", id="2")], "2"),
    ("id-with-colon", b"id: a:b\ndata: x\n\n", [E("x", id="a:b")], "a:b"),
    ("id-two-spaces", b"id:  5\ndata: x\n\n", [E("x", id=" 5")], " 5"),
    ("id-not-stripped", b"id: 5 \ndata: x\n\n", [E("x", id="5 ")], "5 "),
    # An id in a block that never ends is not committed.
    ("id-in-unfinished-block", b"data: a\n\nid: 9\n", [E("a")], None),
    ("id-in-unfinished-event", b"data: a\n\nid: 9\ndata: b\n", [E("a")], None),
    ("id-unfinished-after-id", b"id: 1\ndata: a\n\nid: 2\n", [E("a", id="1")], "1"),
    # id set but reset to empty in a block without data
    ("id-reset-in-empty-block", b"id: 1\n\nid\n\ndata: x\n\n", [E("x", id="")], ""),
    ("id-crlf", b"id: 3\r\ndata: x\r\n\r\n", [E("x", id="3")], "3"),
    ("id-cr", b"id: 3\rdata: x\r\r", [E("x", id="3")], "3"),
)


# --------------------------------------------------------------------------
# retry: only non-empty all-ASCII-digit values.
# --------------------------------------------------------------------------

RETRY_CASES = cases(
    "retry",
    ("valid", b"retry: 1000\ndata: x\n\n", [E("x", retry=1000)], None, 1000),
    ("valid-no-space", b"retry:1000\ndata: x\n\n", [E("x", retry=1000)], None, 1000),
    ("zero", b"retry: 0\ndata: x\n\n", [E("x", retry=0)], None, 0),
    ("leading-zeros", b"retry: 007\ndata: x\n\n", [E("x", retry=7)], None, 7),
    (
        "huge",
        b"retry: 123456789012345678901234567890\ndata: x\n\n",
        [E("x", retry=123456789012345678901234567890)],
        None,
        123456789012345678901234567890,
    ),
    ("letters", b"retry: 10a\ndata: x\n\n", [E("x")]),
    ("negative", b"retry: -1\ndata: x\n\n", [E("x")]),
    ("plus", b"retry: +5\ndata: x\n\n", [E("x")]),
    ("decimal", b"retry: 1.5\ndata: x\n\n", [E("x")]),
    ("exponent", b"retry: 1e3\ndata: x\n\n", [E("x")]),
    ("hex", b"retry: 0x10\ndata: x\n\n", [E("x")]),
    ("underscore", b"retry: 1_000\ndata: x\n\n", [E("x")]),
    ("empty-with-space", b"retry: \ndata: x\n\n", [E("x")]),
    ("empty-colon", b"retry:\ndata: x\n\n", [E("x")]),
    ("no-colon", b"retry\ndata: x\n\n", [E("x")]),
    ("two-spaces", b"retry:  100\ndata: x\n\n", [E("x")]),
    ("trailing-space", b"retry: 100 \ndata: x\n\n", [E("x")]),
    ("tab", b"retry:\t100\ndata: x\n\n", [E("x")]),
    ("arabic-indic", "retry: ١٢\ndata: x\n\n".encode(), [E("x")]),
    ("fullwidth", "retry: \uff11\uff12\ndata: x\n\n".encode(), [E("x")]),
    ("superscript", "retry: 1²\ndata: x\n\n".encode(), [E("x")]),
    ("devanagari", "retry: ५\ndata: x\n\n".encode(), [E("x")]),
    ("nul", b"retry: 1\x00\ndata: x\n\n", [E("x")]),
    (
        "only-own-block",
        b"retry: 5\ndata: a\n\ndata: b\n\n",
        [E("a", retry=5), E("b")],
        None,
        5,
    ),
    ("retry-only-block", b"retry: 5\n\ndata: b\n\n", [E("b")], None, 5),
    ("after-data", b"data: a\nretry: 5\n\n", [E("a", retry=5)], None, 5),
    ("last-valid-wins", b"retry: 5\nretry: 6\ndata: a\n\n", [E("a", retry=6)], None, 6),
    (
        "invalid-does-not-clear",
        b"retry: 5\nretry: x\ndata: a\n\n",
        [E("a", retry=5)],
        None,
        5,
    ),
    (
        "parser-retry-persists",
        b"retry: 5\ndata: a\n\nretry: x\ndata: b\n\n",
        [E("a", retry=5), E("b")],
        None,
        5,
    ),
    (
        "parser-retry-updates",
        b"retry: 5\ndata: a\n\nretry: 9\ndata: b\n\n",
        [E("a", retry=5), E("b", retry=9)],
        None,
        9,
    ),
    # Reconnection time is updated as soon as the line is parsed, even if
    # the block is never completed.
    ("in-unfinished-block", b"data: a\n\nretry: 7\n", [E("a")], None, 7),
    ("in-unfinished-block-cr", b"data: a\n\nretry: 7\r", [E("a")], None, 7),
    ("unterminated-line", b"data: a\n\nretry: 7", [E("a")], None, None),
    (
        "with-id-and-event",
        b"id: 1\nevent: t\nretry: 3\ndata: x\n\n",
        [E("x", "t", "1", 3)],
        "1",
        3,
    ),
)


# --------------------------------------------------------------------------
# End of stream: the unfinished event is discarded.
# --------------------------------------------------------------------------

EOF_CASES = cases(
    "end_of_stream",
    ("no-blank-line", b"data: a\n", []),
    ("no-terminator", b"data: a", []),
    ("cr-only", b"data: a\r", []),
    ("crlf-only", b"data: a\r\n", []),
    ("after-complete-event", b"data: a\n\ndata: b\n", [E("a")]),
    ("after-complete-event-no-lf", b"data: a\n\ndata: b", [E("a")]),
    ("half-crlf-blank", b"data: a\r\n\r", [E("a")]),
    ("partial-field-name", b"data: a\n\nda", [E("a")]),
    ("partial-multibyte", b"data: a\n\ndata: \xe2\x82", [E("a")]),
    ("event-type-only", b"event: x\n", []),
)


@pytest.mark.parametrize(ARGS, ALL_CASES)
def test_stream(data, events, last_event_id, retry):
    """Each table's streams give the events, last event ID and retry they
    list (the tables above: decoding, line endings, fields, data, event
    type, id, retry, end of stream)."""
    check_stream(data, events, last_event_id, retry)


# --------------------------------------------------------------------------
# Timing: events are returned by the feed() that completes them.
# --------------------------------------------------------------------------


def feed_steps(steps, **kwargs):
    """steps: list of (chunk, expected events from that feed)."""
    p = sseclient.EventStreamParser(**kwargs)
    for chunk, expected in steps:
        got = [as_tuple(ev) for ev in p.feed(chunk)]
        assert got == expected, (
            f"feed({chunk!r}) returned {got!r}, expected {expected!r}"
        )
    return p


def test_feed_returns_event_in_same_call():
    feed_steps([(b"data: a\n\n", [E("a")])])


def test_feed_returns_several_events_in_order():
    feed_steps(
        [
            (
                b"data: a\n\nevent: t\ndata: b\n\ndata: c\n\n",
                [E("a"), E("b", "t"), E("c")],
            )
        ]
    )


def test_blank_line_in_next_chunk():
    feed_steps([(b"data: a\n", []), (b"\n", [E("a")])])


def test_cr_cr_dispatches_without_waiting_for_more_bytes():
    # The second CR ends the blank line whatever follows; the event must not
    # be held back until the next chunk shows whether an LF follows.
    feed_steps([(b"data: a\r\r", [E("a")]), (b"\n", []), (b"data: b\n\n", [E("b")])])


def test_lf_cr_dispatches_without_waiting_for_more_bytes():
    feed_steps([(b"data: a\n\r", [E("a")]), (b"\ndata: b\r\n\r\n", [E("b")])])


def test_cr_split_from_lf_is_one_line_end():
    feed_steps([(b"data: a\r", []), (b"\n", []), (b"\r", [E("a")]), (b"\n", [])])


def test_cr_then_cr_in_next_chunk():
    feed_steps([(b"data: a\r", []), (b"\r", [E("a")])])


def test_empty_feed():
    p = feed_steps(
        [(b"", []), (b"data: a\n", []), (b"", []), (b"\n", [E("a")]), (b"", [])]
    )
    assert p.end() is None


def test_retry_updated_when_line_parsed():
    p = sseclient.EventStreamParser()
    assert p.retry is None
    assert p.feed(b"retry: 5\n") == []
    assert p.retry == 5
    assert p.feed(b"retry: 6\r") == []
    assert p.retry == 6
    assert p.feed(b"\nretry: 7\r\n") == []
    assert p.retry == 7
    assert p.feed(b"retry: x\n") == []
    assert p.retry == 7


def test_retry_read_while_its_event_is_unfinished():
    # The parser reads an event's lines once its blank line is in; a retry:
    # line must still count as soon as it is read, whenever retry is asked.
    p = sseclient.EventStreamParser()
    assert p.feed(b"data: a\n\nretry: 5\ndata: b\n") == [sseclient.Event(data="a")]
    assert p.retry == 5
    assert p.feed(b"data: c\n") == []
    assert p.feed(b"\n") == [sseclient.Event(data="b\nc", retry=5)]


def test_retry_read_between_the_events_of_one_chunk():
    client = sseclient.SSEClient([b"data: a\n\nretry: 5\ndata: b\n", b"\n"])
    events = client.events()
    assert next(events) == sseclient.Event(data="a")
    assert client.retry == 5
    assert list(events) == [sseclient.Event(data="b", retry=5)]


def test_retry_in_unfinished_event_counts_at_end():
    # "Set the event stream's reconnection time" even if the event is never
    # dispatched: a reconnection after this stream waits 7 ms.
    p = sseclient.EventStreamParser()
    assert p.feed(b"id: 1\nretry: 7\ndata: x\n") == []
    p.end()
    assert p.retry == 7
    assert p.last_event_id is None


@pytest.mark.parametrize("size", [1, 4096, 100_000])
def test_many_lines_before_blank_line(size):
    # More lines than the tail keeps waiting for their event's end: they are
    # read at once, and a retry: line among them counts at once.
    lines = b"".join(b"data: %d\n" % i for i in range(20_000))
    stream = lines + b"retry: 5\n"
    p = sseclient.EventStreamParser()
    for start in range(0, len(stream), size):
        assert p.feed(stream[start : start + size]) == []
    assert p.retry == 5
    expected = "\n".join(str(i) for i in range(20_000))
    assert p.feed(b"\n") == [sseclient.Event(data=expected, retry=5)]


def test_last_event_id_updated_at_blank_line():
    p = sseclient.EventStreamParser()
    assert p.last_event_id is None
    p.feed(b"id: 1\n")
    assert p.last_event_id is None, "last event ID must only change when the block ends"
    p.feed(b"\n")
    assert p.last_event_id == "1"
    p.feed(b"id: 2\r")
    assert p.last_event_id == "1"
    p.feed(b"\r")
    assert p.last_event_id == "2"


# --------------------------------------------------------------------------
# end(): discard the unfinished event, reset decoder/BOM, keep id and retry.
# --------------------------------------------------------------------------


def test_end_discards_pending_data_line():
    p = feed_steps([(b"data: a\n", [])])
    p.end()
    assert p.feed(b"\n") == []
    assert p.feed(b"data: b\n\n") == [sseclient.Event(data="b")]


def test_end_discards_pending_after_cr():
    p = feed_steps([(b"data: a\r", [])])
    p.end()
    # A new stream: this LF is a blank line of the new stream, not the tail
    # of the old CRLF, and the old data buffer is gone.
    assert p.feed(b"\n") == []
    assert p.feed(b"data: b\n\n") == [sseclient.Event(data="b")]


def test_end_discards_partial_line():
    p = feed_steps([(b"data: a", [])])
    p.end()
    assert p.feed(b"\n\n") == []


def test_end_discards_event_type():
    p = feed_steps([(b"event: foo\n", [])])
    p.end()
    assert [as_tuple(e) for e in p.feed(b"data: x\n\n")] == [E("x")]


def test_end_discards_uncommitted_block_retry():
    p = feed_steps([(b"retry: 5\n", [])])
    p.end()
    assert p.retry == 5  # parser-level value kept
    # but it does not belong to the next stream's first event
    assert [as_tuple(e) for e in p.feed(b"data: x\n\n")] == [E("x")]


def test_end_keeps_last_event_id_and_retry():
    p = feed_steps([(b"id: 1\nretry: 5\ndata: a\n\n", [E("a", id="1", retry=5)])])
    assert p.end() is None
    assert p.last_event_id == "1"
    assert p.retry == 5


def test_end_does_not_commit_pending_id():
    p = feed_steps([(b"id: 1\n\nid: 2\n", [])])
    p.end()
    assert p.last_event_id == "1"


def test_end_resets_bom_state():
    p = feed_steps([(b"\xef\xbb\xbfdata: a\n\n", [E("a")])])
    p.end()
    assert [as_tuple(e) for e in p.feed(b"\xef\xbb\xbfdata: b\n\n")] == [E("b")]
    p.end()
    # BOM split byte by byte at the start of a third stream
    assert p.feed(b"\xef") == []
    assert p.feed(b"\xbb") == []
    assert p.feed(b"\xbf") == []
    assert [as_tuple(e) for e in p.feed(b"data: c\n\n")] == [E("c")]


def test_end_resets_bom_state_when_first_stream_had_none():
    p = feed_steps([(b"data: a\n\n", [E("a")])])
    p.end()
    assert [as_tuple(e) for e in p.feed(b"\xef\xbb\xbfdata: b\n\n")] == [E("b")]


def test_end_resets_decoder_partial_bom():
    # Stream 1 is just EF BB (an incomplete BOM). Stream 2 starts with BF.
    # Decoded on its own, stream 2 starts with U+FFFD, so its first line's
    # field is "\ufffddata": ignored.
    p = feed_steps([(b"\xef\xbb", [])])
    p.end()
    assert p.feed(b"\xbfdata: x\n\ndata: y\n\n") == [sseclient.Event(data="y")]


def test_end_resets_decoder_partial_char():
    p = feed_steps([(b"data: a\n\n\xef", [E("a")])])
    p.end()
    assert p.feed(b"\xbb\xbfdata: x\n\ndata: y\n\n") == [sseclient.Event(data="y")]


def test_end_on_fresh_parser_and_twice():
    p = sseclient.EventStreamParser()
    assert p.end() is None
    assert p.end() is None
    assert p.last_event_id is None
    assert p.retry is None
    assert p.feed(b"data: x\n\n") == [sseclient.Event(data="x")]


def test_not_bom_after_data_in_same_stream():
    # BOM only at the very start of the stream, not after the first chunk.
    p = feed_steps([(b"data: a\n\n", [E("a")]), (b"\xef\xbb\xbfdata: b\n\n", [])])
    p.end()


# --------------------------------------------------------------------------
# Other encodings via char_enc.
# --------------------------------------------------------------------------


def test_char_enc_latin1():
    for _label, chunks in chunkings(b"data: caf\xe9\n\n"):
        p = sseclient.EventStreamParser(char_enc="latin-1")
        got = []
        for chunk in chunks:
            got.extend(as_tuple(e) for e in p.feed(chunk))
        assert got == [E("café")]


# --------------------------------------------------------------------------
# max_event_size
# --------------------------------------------------------------------------


def test_event_too_large_is_sse_error():
    assert issubclass(sseclient.EventTooLarge, sseclient.SSEError)
    assert issubclass(sseclient.SSEError, Exception)


def test_event_too_large_multi_line_event():
    p = sseclient.EventStreamParser(max_event_size=1000)
    with pytest.raises(sseclient.EventTooLarge):
        for _ in range(100):
            p.feed(b"data: " + b"x" * 50 + b"\n")


def test_event_too_large_single_chunk():
    p = sseclient.EventStreamParser(max_event_size=1000)
    with pytest.raises(sseclient.EventTooLarge):
        p.feed(b"data: " + b"x" * 5000 + b"\n\n")


def test_event_too_large_unterminated_line():
    p = sseclient.EventStreamParser(max_event_size=1000)
    with pytest.raises(sseclient.EventTooLarge):
        for _ in range(100):
            p.feed(b"x" * 100)


def test_event_too_large_catchable_as_sse_error():
    p = sseclient.EventStreamParser(max_event_size=100)
    with pytest.raises(sseclient.SSEError):
        p.feed(b"data: " + b"y" * 1000 + b"\n\n")


def test_event_too_large_reports_the_size_and_the_limit():
    """``size`` is the size the message reports ("at least N characters")
    and ``limit`` the ``max_event_size``.  An event that comes whole is
    measured whole, in characters (its lines and the line ends between
    them), not bytes; fed a byte at a time, it is known to be over the limit
    as soon as it is."""
    limit = 100
    text = "data: a\ndata: " + "é" * 150
    data = text.encode() + b"\n\n"
    assert len(text.encode()) > len(text)  # so characters are not bytes here
    for label, chunks in [
        ("whole", [data]),
        ("bytes", [data[i : i + 1] for i in range(len(data))]),
    ]:
        p = sseclient.EventStreamParser(max_event_size=limit)
        with pytest.raises(sseclient.EventTooLarge) as info:
            for chunk in chunks:
                p.feed(chunk)
        error = info.value
        assert error.limit == limit, label
        if label == "whole":
            assert error.size == len(text)
        else:
            assert limit < error.size <= len(text)
        assert f"at least {error.size} characters" in str(error), label
        assert f"max_event_size={limit}" in str(error), label


def test_small_events_under_limit_pass():
    p = sseclient.EventStreamParser(max_event_size=1000)
    out = p.feed(b"data: " + b"z" * 500 + b"\n\n")
    assert [as_tuple(e) for e in out] == [E("z" * 500)]


def test_limit_is_per_event_not_per_chunk():
    # 200 events of ~16 bytes in ONE chunk of ~3 kB: no single event or line
    # exceeds the 100-byte limit.
    p = sseclient.EventStreamParser(max_event_size=100)
    chunk = b"".join(b"data: %05d\n\n" % i for i in range(200))
    assert len(chunk) > 100 * 10
    out = p.feed(chunk)
    assert [e.data for e in out] == [f"{i:05d}" for i in range(200)]


def test_limit_is_per_event_not_per_stream():
    p = sseclient.EventStreamParser(max_event_size=100)
    for i in range(200):
        assert [e.data for e in p.feed(b"data: %05d\n\n" % i)] == [f"{i:05d}"]


def test_limit_not_counting_comments_between_events():
    p = sseclient.EventStreamParser(max_event_size=100)
    out = []
    for _ in range(50):
        out += p.feed(b": keepalive\n\n")
    out += p.feed(b"data: ok\n\n")
    assert [as_tuple(e) for e in out] == [E("ok")]


def _limit_stream():
    # Three events of 60 to 70 characters each, none near the 100 limit.
    return (
        b"data: " + b"x" * 60 + b"\n"
        b"\n"
        b"data: " + b"y" * 60 + b"\n"
        b"\n"
        b"data: " + b"z" * 40 + b"\n"
        b"\n"
    )


def test_limit_not_exceeded_by_neighbouring_events_any_chunking():
    data = _limit_stream()
    expected = [E("x" * 60), E("y" * 60), E("z" * 40)]
    for label, chunks in chunkings(data):
        p = sseclient.EventStreamParser(max_event_size=100)
        got = []
        for chunk in chunks:
            try:
                got.extend(as_tuple(e) for e in p.feed(chunk))
            except sseclient.EventTooLarge as exc:
                pytest.fail(f"{label} {chunks!r}: spurious {exc!r}")
        assert got == expected, label


def test_limit_blank_line_starting_next_chunk():
    # The event's blank line is the first byte of a chunk that also carries
    # the next, separate events: their sizes must not be added together.
    p = sseclient.EventStreamParser(max_event_size=100)
    assert p.feed(b"data: " + b"x" * 60 + b"\n") == []
    out = p.feed(b"\ndata: " + b"y" * 60 + b"\n\ndata: " + b"z" * 40 + b"\n\n")
    assert [e.data for e in out] == ["x" * 60, "y" * 60, "z" * 40]


def test_too_large_event_raises_under_every_chunking():
    # 141 characters of data in one event, limit 100: however the bytes are
    # chunked, the event exceeds the limit and must not be dispatched.
    data = b"data: " + b"x" * 90 + b"\ndata: " + b"y" * 50 + b"\n\n"
    for label, chunks in chunkings(data):
        p = sseclient.EventStreamParser(max_event_size=100)
        got = []
        with pytest.raises(sseclient.EventTooLarge):
            for chunk in chunks:
                got += p.feed(chunk)
            pytest.fail(f"{label} {chunks!r}: no EventTooLarge, dispatched {got!r}")


MIB = 1024 * 1024


def _big_event_chunks(total_payload, chunk_size=MIB):
    yield b"data: "
    sent = 0
    while sent < total_payload:
        n = min(chunk_size, total_payload - sent)
        yield b"x" * n
        sent += n
    yield b"\n\n"


def _feed_big(parser, total_payload):
    out = []
    for chunk in _big_event_chunks(total_payload):
        out += parser.feed(chunk)
    return out


def test_default_limit_allows_32_mib_event():
    p = sseclient.EventStreamParser()
    out = _feed_big(p, 32 * MIB)
    assert len(out) == 1
    assert len(out[0].data) == 32 * MIB
    assert out[0].data == "x" * (32 * MIB)


def test_default_limit_rejects_over_64_mib():
    p = sseclient.EventStreamParser()
    with pytest.raises(sseclient.EventTooLarge):
        _feed_big(p, 65 * MIB)


def test_max_event_size_none_disables_limit():
    p = sseclient.EventStreamParser(max_event_size=None)
    out = _feed_big(p, 65 * MIB)
    assert len(out) == 1
    assert len(out[0].data) == 65 * MIB


# ---------------------------------------------------------------------------
# Lines longer than a chunk by far: the parser finishes such a line on its
# own (sseclient._LONG_LINE), so every way one can end is checked here.
# ---------------------------------------------------------------------------

LONG = b"x\xc3\xa9" * 40_000  # 120,000 bytes, a 2-byte character repeating


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"data: " + LONG + b"\n\n", id="data-lf"),
        pytest.param(b"data:" + LONG + b"\r\n\r\n", id="data-no-space-crlf"),
        pytest.param(b"data: " + LONG + b"\r\rdata: b\r\r", id="data-cr-then-more"),
        pytest.param(b"data: a\ndata: " + LONG + b"\ndata: b\n\n", id="middle-line"),
        pytest.param(b"id: " + LONG + b"\ndata: x\n\n", id="long-id"),
        pytest.param(b": " + LONG + b"\ndata: x\n\n", id="long-comment"),
        pytest.param(b"event: " + LONG + b"\r\ndata: x\r\n\r\n", id="long-event"),
        pytest.param(b"data: " + LONG + b"\n", id="unterminated-event"),
        pytest.param(b"data: " + LONG, id="unterminated-line"),
    ],
)
@pytest.mark.parametrize("size", [1000, 4096, 65_537])
def test_long_lines(data, size):
    assert len(LONG) > 65536
    expected = reference.parse(data)
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    # ... and the line end split from the line, wherever it is.
    cut = data.find(b"\r") if b"\r" in data else data.find(b"\n")
    for pieces in (chunks, [data[:cut], data[cut : cut + 1], data[cut + 1 :]]):
        parser = sseclient.EventStreamParser()
        got = [as_tuple(event) for piece in pieces for event in parser.feed(piece)]
        parser.end()
        assert (got, parser.last_event_id, parser.retry) == expected
        assert iter_all(pieces) == expected


def test_long_line_counts_towards_the_limit():
    parser = sseclient.EventStreamParser(max_event_size=100_000)
    parser.feed(b"data: " + b"x" * 90_000)
    with pytest.raises(sseclient.EventTooLarge):
        parser.feed(b"x" * 20_000 + b"\n")


@pytest.mark.parametrize("first", [b"", b"data: a\n\n"])
def test_lines_that_wait_count_towards_the_limit(first):
    # The lines of an event wait for its blank line: they count all the same.
    # An event before them is returned first, and the error raised by the
    # next call; once raised, ending the stream does not raise it again.
    parser = sseclient.EventStreamParser(max_event_size=100)
    chunk = first + b"data: x\n" * 20
    if first:
        assert [as_tuple(e) for e in parser.feed(chunk)] == [E("a")]
        chunk = b""
    with pytest.raises(sseclient.EventTooLarge):
        parser.feed(chunk)
    parser.end()
    assert parser.retry is None


def test_retry_too_long_for_int():
    """Python's `int` refuses more than 4300 digits; such a retry still
    counts, as the largest delay there is, rather than raise."""
    parser = sseclient.EventStreamParser()
    events = parser.feed(b"retry: " + b"9" * 5000 + b"\ndata: x\n\n")
    assert [as_tuple(event) for event in events] == [E("x", retry=sys.maxsize)]
    assert parser.retry == sys.maxsize


def test_str_chunks_are_refused_with_a_clear_error():
    """Text instead of bytes (say, requests' decode_unicode=True) is an
    error that says so, from feed() and from SSEClient alike."""
    with pytest.raises(TypeError, match="bytes, not str"):
        sseclient.EventStreamParser().feed("data: x\n\n")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bytes, not str"):
        list(sseclient.SSEClient(["data: x\n\n"]))
    parser = sseclient.EventStreamParser()
    assert parser.feed(b"data: x\n") == []
    with pytest.raises(TypeError, match="bytes, not str"):
        parser.feed("\n")  # type: ignore[arg-type]
