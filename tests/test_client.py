"""Tests for ``sseclient.SSEClient`` and ``sseclient.Event``."""

import io
import itertools
import json
import threading
import time

import pytest
import requests
from werkzeug import Response

import sseclient
from sseclient import Event, SSEClient

STREAM = (
    b"retry: 3000\n"
    b"id: 1\n"
    b"event: greeting\n"
    b"data: hello\n"
    b"\n"
    b": keep-alive\n"
    b"\n"
    b"data: line one\r\n"
    b"data: line two\r\n"
    b"\r\n"
    b"id: 2\r"
    b'data: {"n": 2}\r'
    b"\r"
    b"data: never finished\n"
)
EXPECTED = [
    Event(id="1", event="greeting", data="hello", retry=3000),
    Event(id="1", event="message", data="line one\nline two"),
    Event(id="2", event="message", data='{"n": 2}'),
]


def as_tuples(events):
    return [(e.id, e.event, e.data, e.retry) for e in events]


EXPECTED_TUPLES = as_tuples(EXPECTED)


def one_byte_chunks(data):
    return [data[i : i + 1] for i in range(len(data))]


class Source:
    """An iterable byte source with a close() method that records calls."""

    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.close_calls = 0

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        self.close_calls += 1


# --------------------------------------------------------------------------
# Iteration over various sources
# --------------------------------------------------------------------------


def test_events_over_list():
    client = SSEClient([STREAM])
    events = list(client.events())
    assert all(isinstance(e, Event) for e in events)
    assert as_tuples(events) == EXPECTED_TUPLES


def test_events_over_list_of_one_byte_chunks():
    assert as_tuples(SSEClient(one_byte_chunks(STREAM)).events()) == EXPECTED_TUPLES


def test_events_over_every_two_way_split():
    for i in range(len(STREAM) + 1):
        client = SSEClient([STREAM[:i], STREAM[i:]])
        assert as_tuples(client.events()) == EXPECTED_TUPLES, f"split at {i}"


def test_events_over_generator():
    def gen():
        yield from one_byte_chunks(STREAM)

    assert as_tuples(SSEClient(gen()).events()) == EXPECTED_TUPLES


def test_events_over_tuple_and_iterator():
    assert as_tuples(SSEClient((STREAM,)).events()) == EXPECTED_TUPLES
    assert as_tuples(SSEClient(iter([STREAM])).events()) == EXPECTED_TUPLES


def test_events_over_binary_file_object():
    # sseclient-py iterates its event source: a binary file yields lines.
    assert as_tuples(SSEClient(io.BytesIO(STREAM)).events()) == EXPECTED_TUPLES


def test_empty_chunks_are_harmless():
    chunks = [b"", b"data: a\n", b"", b"", b"\n", b""]
    assert as_tuples(SSEClient(chunks).events()) == [(None, "message", "a", None)]


def test_empty_source():
    assert list(SSEClient([]).events()) == []
    assert list(SSEClient([b""]).events()) == []


def test_iter_client_same_as_events():
    assert as_tuples(iter(SSEClient([STREAM]))) == EXPECTED_TUPLES
    assert as_tuples(list(SSEClient(one_byte_chunks(STREAM)))) == EXPECTED_TUPLES


def test_incomplete_final_event_is_dropped_without_error():
    client = SSEClient([b"data: a\n\n", b"data: b\n", b"data: c"])
    assert as_tuples(client.events()) == [(None, "message", "a", None)]


def test_stream_without_any_complete_event():
    assert list(SSEClient([b"data: a\ndata: b\r\n"]).events()) == []


def test_char_enc():
    client = SSEClient([b"data: caf\xe9\n\n"], char_enc="latin-1")
    assert [e.data for e in client.events()] == ["café"]


def test_default_utf8_and_bom():
    client = SSEClient([b"\xef\xbb", b"\xbfdata: caf\xc3", b"\xa9 \xff\n\n"])
    assert [e.data for e in client.events()] == ["café \ufffd"]


def test_crlf_split_across_chunks():
    client = SSEClient([b"data: a\r", b"\n", b"\r", b"\ndata: b\r", b"\r"])
    assert [e.data for e in client.events()] == ["a", "b"]


# --------------------------------------------------------------------------
# Laziness: each event is yielded before the next chunk is pulled.
# --------------------------------------------------------------------------


def test_events_yielded_before_next_chunk_is_pulled():
    chunks = [
        b"data: a\n",  # 1
        b"\n",  # 2: completes a
        b"data: b\n\ndata: c\n\n",  # 3: completes b and c
        b"data: d\r",  # 4
        b"\r",  # 5: completes d (CR CR, no need to wait for a possible LF)
        b"\n",  # 6
        b"data: e\n\r\n",  # 7: completes e
        b"data: f\n",  # 8: never completed
    ]
    pulled = []

    def source():
        for i, chunk in enumerate(chunks, start=1):
            pulled.append(i)
            yield chunk

    seen = [(e.data, len(pulled)) for e in SSEClient(source()).events()]
    assert seen == [("a", 2), ("b", 3), ("c", 3), ("d", 5), ("e", 7)]
    assert len(pulled) == len(chunks)


def test_infinite_source_yields_events_lazily():
    def source():
        for i in itertools.count():
            yield b"id: %d\ndata: %d\n\n" % (i, i)

    events = SSEClient(source()).events()
    first = list(itertools.islice(events, 3))
    assert [(e.id, e.data) for e in first] == [("0", "0"), ("1", "1"), ("2", "2")]


def test_first_event_available_while_source_still_blocks():
    """next(events) returns as soon as the event is complete, even if the
    source would then block (here: would raise if pulled again)."""

    def source():
        yield b"data: first\n\n"
        raise AssertionError("client pulled another chunk before yielding")

    events = SSEClient(source()).events()
    assert next(events).data == "first"


# --------------------------------------------------------------------------
# last_event_id / retry attributes
# --------------------------------------------------------------------------


def test_attributes_before_iteration():
    client = SSEClient([STREAM])
    assert client.last_event_id is None
    assert client.retry is None


def test_attributes_during_and_after_iteration():
    client = SSEClient(one_byte_chunks(STREAM))
    seen = []
    for e in client.events():
        seen.append((e.data, client.last_event_id, client.retry))
    assert seen == [
        ("hello", "1", 3000),
        ("line one\nline two", "1", 3000),
        ('{"n": 2}', "2", 3000),
    ]
    assert client.last_event_id == "2"
    assert client.retry == 3000


def test_id_only_block_and_retry_only_block_update_attributes():
    client = SSEClient([b"id: abc\n\nretry: 250\n\n"])
    assert list(client.events()) == []
    assert client.last_event_id == "abc"
    assert client.retry == 250


def test_retry_attribute_ignores_invalid_values():
    client = SSEClient([b"retry: 100\n\nretry: 1.5\n\nretry: -1\n\nretry: x\n\n"])
    assert list(client.events()) == []
    assert client.retry == 100


def test_empty_id_resets():
    client = SSEClient([b"id: 1\ndata: a\n\nid\ndata: b\n\n"])
    assert [(e.id, e.data) for e in client.events()] == [("1", "a"), ("", "b")]
    assert client.last_event_id == ""


# --------------------------------------------------------------------------
# close() and context manager
# --------------------------------------------------------------------------


def test_close_closes_source():
    src = Source([b"data: a\n\n"])
    client = SSEClient(src)
    client.close()
    assert src.close_calls == 1


def test_close_source_without_close_method():
    client = SSEClient([b"data: a\n\n"])
    client.close()  # a list has no close(): must not raise


def test_close_closes_generator_source():
    finalized = []

    def gen():
        try:
            yield b"data: a\n\n"
            yield b"data: b\n\n"
        finally:
            finalized.append(True)

    g = gen()
    client = SSEClient(g)
    events = client.events()
    assert next(events).data == "a"
    client.close()
    assert finalized == [True]


def test_context_manager_closes_source():
    src = Source([STREAM])
    with SSEClient(src) as client:
        assert isinstance(client, SSEClient)
        assert as_tuples(client.events()) == EXPECTED_TUPLES
        assert src.close_calls == 0
    assert src.close_calls == 1


def test_context_manager_closes_on_error_and_propagates():
    src = Source([STREAM])
    with pytest.raises(KeyError), SSEClient(src) as client:
        next(iter(client))
        raise KeyError("boom")
    assert src.close_calls == 1


def test_context_manager_without_close_on_source():
    with SSEClient([STREAM]) as client:
        assert as_tuples(client) == EXPECTED_TUPLES


# --------------------------------------------------------------------------
# Event
# --------------------------------------------------------------------------


def test_event_defaults():
    e = Event()
    assert (e.id, e.event, e.data, e.retry) == (None, "message", "", None)


def test_event_positional_order_matches_sseclient_py():
    e = Event("7", "update", "payload", 1500)
    assert (e.id, e.event, e.data, e.retry) == ("7", "update", "payload", 1500)


def test_event_equality():
    base = dict(id="1", event="t", data="d", retry=5)
    assert Event(**base) == Event(**base)
    assert (Event(**base) != Event(**base)) is False
    for field, other in [("id", "2"), ("event", "u"), ("data", "e"), ("retry", 6)]:
        changed = dict(base, **{field: other})
        assert Event(**base) != Event(**changed), field
        assert (Event(**base) == Event(**changed)) is False, field
    assert Event(id=None) != Event(id="")
    assert Event(retry=None) != Event(retry=0)


def test_event_not_equal_to_other_types():
    assert Event() != None  # noqa: E711
    assert Event(data="a") != "a"
    assert Event() != ("message", "")
    assert Event() != object()
    assert (Event() == object()) is False


def test_event_json():
    assert Event(data='{"a": [1, 2, null], "b": "é"}').json() == {
        "a": [1, 2, None],
        "b": "é",
    }
    assert Event(data='{\n"multi":\n"line"\n}').json() == {"multi": "line"}
    assert Event(data="42").json() == 42


def test_event_json_invalid_raises_value_error():
    with pytest.raises(ValueError):
        Event(data="not json").json()
    with pytest.raises(json.JSONDecodeError):
        Event(data="").json()


def test_event_json_from_stream():
    events = list(SSEClient([b'data: {"x":\ndata: [1, 2]}\n\n']).events())
    assert events[0].json() == {"x": [1, 2]}


def test_event_repr_mentions_fields():
    e = Event(id="id-7", event="kind-t", data="hi\nthere", retry=3210)
    r = repr(e)
    assert "Event" in r
    for part in ("id-7", "kind-t", "3210"):
        assert part in r
    assert repr("hi\nthere") in r or "hi\\nthere" in r
    assert repr(Event(data="a")) != repr(Event(data="b"))


# Upstream sseclient-py 1.9.0 (sseclient/__init__.py), verbatim:
#
#     def __str__(self):
#         s = "{0} event".format(self.event)
#         if self.id:
#             s += " #{0}".format(self.id)
#         if self.data:
#             s += ", {0} byte{1}".format(len(self.data), "s" if len(self.data) else "")
#         else:
#             s += ", no data"
#         if self.retry:
#             s += ", retry in {0}ms".format(self.retry)
#         return s
#
# Note: inside `if self.data`, len(self.data) is always truthy, so the
# suffix is always "s" ("1 bytes"), the count is len() of the str (characters,
# not encoded bytes), and falsy id ("") / retry (0) are not shown.
@pytest.mark.parametrize(
    "event, text",
    [
        (Event(), "message event, no data"),
        (Event(data="hello"), "message event, 5 bytes"),
        (Event(data="x"), "message event, 1 bytes"),
        (Event(data="héllo"), "message event, 5 bytes"),
        (Event(data="a\nb"), "message event, 3 bytes"),
        (
            Event(id="42", event="update", data="x", retry=3000),
            "update event #42, 1 bytes, retry in 3000ms",
        ),
        (Event(id="42", data="ab"), "message event #42, 2 bytes"),
        (Event(id="", data="ab"), "message event, 2 bytes"),
        (Event(retry=0, data="ab"), "message event, 2 bytes"),
        (Event(event="ping", retry=100), "ping event, no data, retry in 100ms"),
        (Event(id="9", event="ping"), "ping event #9, no data"),
    ],
)
def test_event_str_matches_sseclient_py(event, text):
    assert str(event) == text


def test_errors_hierarchy():
    assert issubclass(sseclient.SSEError, Exception)
    assert issubclass(sseclient.EventTooLarge, sseclient.SSEError)


# --------------------------------------------------------------------------
# Over a real HTTP response (loopback only), as sseclient-py is used.
# --------------------------------------------------------------------------


def test_over_requests_response(httpserver):
    httpserver.expect_request("/stream").respond_with_data(
        STREAM, content_type="text/event-stream"
    )
    resp = requests.get(httpserver.url_for("/stream"), stream=True, timeout=10)
    with SSEClient(resp) as client:
        assert as_tuples(client.events()) == EXPECTED_TUPLES
        assert client.last_event_id == "2"
    assert resp.raw.closed


def test_over_requests_response_is_incremental(httpserver):
    """The first event is delivered while the server is still holding the
    rest of the response back."""
    gate = threading.Event()

    def body():
        yield b"id: 1\ndata: first\n\n"
        gate.wait(10)  # bounded: never hangs the test run
        yield b"data: second\n\n"

    httpserver.expect_request("/live").respond_with_response(
        Response(body(), content_type="text/event-stream")
    )
    resp = requests.get(httpserver.url_for("/live"), stream=True, timeout=10)
    with SSEClient(resp.iter_content(chunk_size=1)) as client:
        events = client.events()
        start = time.monotonic()
        first = next(events)
        elapsed = time.monotonic() - start
        gate.set()
        second = next(events)
        assert list(events) == []
    resp.close()
    assert (first.id, first.data) == ("1", "first")
    assert (second.id, second.data) == ("1", "second")
    assert elapsed < 5, "first event was held back until the server sent more"
