"""Differential tests: EventStreamParser vs. the literal reference parser.

Random event streams (built from a small grammar of SSE lines, with nasty
values and terminators) and raw random bytes are fed to the parser under
random chunkings. The parser must agree with ``reference.parse`` on the
events, the final last_event_id and the final retry, and, after every
``feed``, must have returned exactly the events completed by the bytes
received so far.
"""

import reference
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import sseclient


def examples(n):
    """Deterministic settings; the whole file must stay well under 30 s."""
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


BOM = b"\xef\xbb\xbf"

GOOD_FIELD_NAMES = [b"data", b"data", b"data", b"event", b"id", b"retry"]
ODD_FIELD_NAMES = [
    b"Data",
    b"ID",
    b"foo",
    b"dat",
    b"data ",
    b" data",
    b"",
    BOM + b"data",
    b"d\xffata",
    "dätä".encode(),
]
FIELD_NAMES = st.one_of(
    st.sampled_from(GOOD_FIELD_NAMES),
    st.sampled_from(GOOD_FIELD_NAMES),
    st.sampled_from(GOOD_FIELD_NAMES),
    st.sampled_from(ODD_FIELD_NAMES),
)

SEPARATORS = st.sampled_from(
    [b": ", b": ", b": ", b":", b":", b"", b":  ", b":\t", b"::"]
)

VALUE_PIECES = [
    b"a",
    b"xyz",
    b" ",
    b":",
    b"0",
    b"1",
    b"42",
    b"1000",
    b"-1",
    b".",
    b"e",
    b"\x00",
    b"\t",
    b"\xff",  # invalid byte
    b"\x80",  # lone continuation
    b"\xe2\x82",  # truncated 3-byte sequence
    b"\xf0\x9f\x98",  # truncated 4-byte sequence
    b"\xc0\xaf",  # overlong
    b"\xed\xa0\x80",  # surrogate
    BOM,
    b"\xef\xbb",  # truncated BOM
    "é".encode(),
    "€".encode(),
    "😀".encode(),
    "١٢".encode(),  # Arabic-Indic digits
    "²".encode(),
    "\u2028".encode(),
    "\u2029".encode(),
    "\x85".encode(),
    b"\x0b",
    b"\x0c",
    b"\x1c",
    b"{}",
]

TERMINATORS = [b"\n", b"\r", b"\r\n"]

field_lines = st.builds(
    lambda name, sep, value: name + sep + value,
    FIELD_NAMES,
    SEPARATORS,
    st.lists(st.sampled_from(VALUE_PIECES), max_size=4).map(b"".join),
)
retry_lines = st.builds(
    lambda sep, digits: b"retry" + sep + digits,
    SEPARATORS,
    st.text(alphabet="0123456789", max_size=6).map(str.encode),
)
comment_lines = st.lists(st.sampled_from(VALUE_PIECES), max_size=3).map(
    lambda parts: b":" + b"".join(parts)
)
nonblank_line = st.one_of(field_lines, field_lines, retry_lines, comment_lines)
terminator = st.sampled_from(TERMINATORS)


@st.composite
def blocks(draw):
    """A few lines followed (usually) by a blank line."""
    lines = draw(st.lists(nonblank_line, max_size=5))
    if draw(st.integers(0, 5)) > 0:
        lines.append(b"")
    return b"".join(line + draw(terminator) for line in lines)


@st.composite
def streams(draw):
    prefix = draw(st.sampled_from([b"", b"", b"", BOM, BOM + BOM, b"\xef\xbb"]))
    body = b"".join(draw(st.lists(blocks(), max_size=8)))
    tail = draw(st.sampled_from([b"", b"", b"data: unfinished", b"\r", b"\xe2"]))
    return prefix + body + tail


@st.composite
def chunked(draw, data):
    """Split ``data`` at random positions (possibly empty chunks)."""
    if not data:
        return [data]
    mode = draw(st.sampled_from(["random", "random", "lines", "single", "bytes"]))
    if mode == "single":
        return [data]
    if mode == "bytes":
        return [data[i : i + 1] for i in range(len(data))]
    if mode == "lines":
        # Cut right after line terminator bytes, so chunks often start with
        # the blank line that ends the previous chunk's event.
        after_terminators = [
            i + 1 for i in range(len(data)) if data[i : i + 1] in (b"\r", b"\n")
        ]
        if not after_terminators:
            return [data]
        cuts = draw(st.lists(st.sampled_from(after_terminators), max_size=12))
    else:
        cuts = draw(st.lists(st.integers(0, len(data)), max_size=12))
    cuts = sorted(cuts)
    chunks = []
    prev = 0
    for cut in cuts:
        chunks.append(data[prev:cut])
        prev = cut
    chunks.append(data[prev:])
    return chunks


def as_tuple(ev):
    assert isinstance(ev, sseclient.Event)
    return (ev.id, ev.event, ev.data, ev.retry)


def reference_progress(data):
    """For every prefix length k of ``data``: (number of events, last event
    ID) that the reference gives for ``data[:k]``. Both can only change right
    after a CR or LF byte (the end of a blank line), so the reference only
    needs to run there."""
    progress = [(0, None)]
    for k in range(1, len(data) + 1):
        if data[k - 1 : k] in (b"\r", b"\n"):
            events, last_id, _ = reference.parse(data[:k])
            progress.append((len(events), last_id))
        else:
            progress.append(progress[-1])
    return progress


def check_against_reference(data, chunks):
    assert b"".join(chunks) == data
    expected = reference.parse(data)
    progress = reference_progress(data)
    p = sseclient.EventStreamParser()
    got = []
    received = 0
    for chunk in chunks:
        got.extend(as_tuple(ev) for ev in p.feed(chunk))
        received += len(chunk)
        count, last_id = progress[received]
        assert got == expected[0][:count], f"after receiving {data[:received]!r}"
        assert p.last_event_id == last_id, f"after receiving {data[:received]!r}"
    p.end()
    assert (got, p.last_event_id, p.retry) == expected


@examples(250)
@given(st.data())
def test_grammar_streams_match_reference(draw):
    data = draw.draw(streams(), label="stream")
    chunks = draw.draw(chunked(data), label="chunks")
    check_against_reference(data, chunks)


INTERESTING_BYTES = [
    b"data",
    b"event",
    b"id",
    b"retry",
    b":",
    b" ",
    b"\n",
    b"\r",
    b"\r\n",
    b"1",
    b"x",
    b"\x00",
    b"\xef",
    b"\xbb",
    b"\xbf",
    b"\xff",
    b"\xc3",
    b"\xa9",
    b"\xe2",
    b"\x80",
    b"\xa8",
]


@examples(300)
@given(st.data())
def test_token_soup_matches_reference(draw):
    data = b"".join(
        draw.draw(st.lists(st.sampled_from(INTERESTING_BYTES), max_size=60), "tokens")
    )
    chunks = draw.draw(chunked(data), label="chunks")
    check_against_reference(data, chunks)


@examples(300)
@given(st.data())
def test_raw_random_bytes_match_reference(draw):
    data = draw.draw(st.binary(max_size=200), label="bytes")
    chunks = draw.draw(chunked(data), label="chunks")
    check_against_reference(data, chunks)


@examples(100)
@given(st.data())
def test_every_split_point_agrees(draw):
    """For a random stream, every two-way split gives the same result."""
    data = draw.draw(streams(), label="stream")
    expected = reference.parse(data)
    for i in range(len(data) + 1):
        p = sseclient.EventStreamParser()
        got = [as_tuple(e) for e in p.feed(data[:i])]
        got += [as_tuple(e) for e in p.feed(data[i:])]
        p.end()
        assert (got, p.last_event_id, p.retry) == expected, f"split at {i}"


@examples(50)
@given(st.lists(streams(), min_size=1, max_size=3))
def test_multiple_streams_with_end(stream_list):
    """end() between streams: each stream parses like a fresh one, except
    that last_event_id and retry carry over when the new stream sets none."""
    p = sseclient.EventStreamParser()
    last_id = None
    retry = None
    for data in stream_list:
        events = [as_tuple(e) for e in p.feed(data)]
        p.end()
        ref_events, ref_last_id, ref_retry = reference.parse(data)
        # Events of a later stream may carry the id inherited from an
        # earlier one, so compare everything but the id here.
        assert [e[1:] for e in events] == [e[1:] for e in ref_events]
        if ref_last_id is not None:
            last_id = ref_last_id
        if ref_retry is not None:
            retry = ref_retry
        assert p.last_event_id == last_id
        assert p.retry == retry


def max_block_bytes(data):
    """The size in bytes of the largest block of ``data``: its lines with
    their terminators, up to and including the terminator of the blank line
    that ends it (the unfinished last block counts too). Every sane measure
    of "one event" (characters, bytes, with or without terminators) is at
    most this."""
    sizes = []
    block = 0
    line = 0
    i = 0
    while i < len(data):
        byte = data[i : i + 1]
        if byte in (b"\r", b"\n"):
            term = 2 if data[i : i + 2] == b"\r\n" else 1
            block += line + term
            if line == 0:  # blank line: the block ends here
                sizes.append(block)
                block = 0
            line = 0
            i += term
        else:
            line += 1
            i += 1
    sizes.append(block + line)
    return max(sizes)


@st.composite
def similar_blocks(draw):
    """Several events of about the same size, so that a chunk holding parts
    of two or three of them is longer than the largest one."""
    size = draw(st.integers(5, 40))
    parts = []
    for _ in range(draw(st.integers(2, 6))):
        for _ in range(draw(st.integers(1, 2))):
            n = draw(st.integers(size // 2, size))
            parts.append(b"data: " + b"v" * n + draw(terminator))
        parts.append(draw(terminator))
    return b"".join(parts)


def limit_chunkings(data, random_chunks):
    """The whole input, every two-way split, 1-byte chunks, and one random
    chunking."""
    yield [data]
    for i in range(len(data) + 1):
        yield [data[:i], data[i:]]
    yield [data[i : i + 1] for i in range(len(data))]
    yield random_chunks


@examples(120)
@given(st.data())
def test_no_spurious_event_too_large(draw):
    """With max_event_size at least the size of the largest single block, the
    parser must never raise, whatever the chunking: the limit is per event,
    not per chunk or per group of events."""
    data = draw.draw(st.one_of(streams(), similar_blocks()), label="stream")
    random_chunks = draw.draw(chunked(data), label="chunks")
    limit = max_block_bytes(data) + 4
    expected = reference.parse(data)
    for chunks in limit_chunkings(data, random_chunks):
        p = sseclient.EventStreamParser(max_event_size=limit)
        got = []
        for chunk in chunks:
            try:
                got.extend(as_tuple(ev) for ev in p.feed(chunk))
            except sseclient.EventTooLarge as exc:
                raise AssertionError(
                    f"spurious {exc!r} with max_event_size={limit} on chunks {chunks!r}"
                ) from exc
        p.end()
        assert (got, p.last_event_id, p.retry) == expected, chunks


@examples(60)
@given(st.data())
def test_oversized_event_always_raises(draw):
    """If an event's data alone is longer than max_event_size, feeding the
    stream and ending it must raise EventTooLarge, whatever the chunking,
    and the events dispatched before it must be the stream's first ones."""
    data = draw.draw(similar_blocks(), label="stream")
    events = reference.parse(data)[0]
    longest = max((len(ev[2]) for ev in events), default=0)
    assume(longest >= 2)
    random_chunks = draw.draw(chunked(data), label="chunks")
    limit = longest - 1
    for chunks in limit_chunkings(data, random_chunks):
        p = sseclient.EventStreamParser(max_event_size=limit)
        got = []
        try:
            for chunk in chunks:
                got.extend(as_tuple(ev) for ev in p.feed(chunk))
            p.end()
        except sseclient.EventTooLarge:
            assert got == events[: len(got)], chunks
            assert len(got) < len(events), chunks
            continue
        raise AssertionError(
            f"no EventTooLarge with max_event_size={limit} on chunks {chunks!r}; "
            f"dispatched {got!r}"
        )


# ---------------------------------------------------------------------------
# on_comment: each complete comment line, when its line is complete
# ---------------------------------------------------------------------------


def check_comments_against_reference(data, chunks):
    """``feed``: after each chunk, the comments reported so far are those of
    the complete lines received so far, and the events are unchanged.
    ``iter_events``: comments and events come in stream order, each before
    the next chunk is pulled."""
    expected = reference.items(data)
    # What the reference gives for the bytes up to the end of each chunk
    # (it changes only where a CR or LF completes a line).
    so_far = [[]]
    received = b""
    for chunk in chunks:
        received += chunk
        line_end = b"\r" in chunk or b"\n" in chunk
        so_far.append(reference.items(received) if line_end else so_far[-1])

    comments = []
    p = sseclient.EventStreamParser(on_comment=comments.append)
    got = []
    for n, chunk in enumerate(chunks, 1):
        got.extend(as_tuple(ev) for ev in p.feed(chunk))
        items = so_far[n]
        assert comments == [x for kind, x in items if kind == "comment"], chunks[:n]
        assert got == [x for kind, x in items if kind == "event"], chunks[:n]
    p.end()
    assert comments == [x for kind, x in expected if kind == "comment"]

    log = []
    p = sseclient.EventStreamParser(
        on_comment=lambda text: log.append(("comment", text))
    )

    def source():
        for n, chunk in enumerate(chunks):
            assert log == so_far[n], f"late after {chunks[:n]!r}"
            yield chunk

    for event in p.iter_events(source()):
        log.append(("event", as_tuple(event)))
    assert log == expected
    assert (p.last_event_id, p.retry) == reference.parse(data)[1:]


@examples(150)
@given(st.data())
def test_comments_match_reference(draw):
    data = draw.draw(streams(), label="stream")
    chunks = draw.draw(chunked(data), label="chunks")
    check_comments_against_reference(data, chunks)


@examples(12)
@given(st.data())
def test_comments_every_split_and_bytewise(draw):
    data = draw.draw(streams(), label="stream")
    for i in range(len(data) + 1):
        check_comments_against_reference(data, [data[:i], data[i:]])
    check_comments_against_reference(data, [data[i : i + 1] for i in range(len(data))])
