"""Streams recorded from real servers, replayed over HTTP on 127.0.0.1.

Each ``tests/streams/recorded/NAME.rec`` is what one server (sse-starlette,
aiohttp-sse, Flask, tornado, better-sse, wsgiref, some behind nginx with
gzip) sent, as ``python -m sseclient URL --record`` saved it: status line,
headers, and the body's bytes as they arrived (see tests/replay.py for the
format and tests/streams/recorded/README.md for what each one is).
``NAME.expected.json`` holds the events, worked out by hand from the bytes.

Every recording is served again by `replay.ReplayServer` with its recorded
status, headers and framing, cut at the recorded boundaries, one byte at a
time and all at once, and read through each real transport: `SSEClient`
over requests, httpx and http.client, `AsyncSSEClient` over aiohttp, and
`sseclient.connect` and `aconnect`.  The server sends no byte past the end
of an event until the client has yielded that event, so an event held back
until more bytes come fails the test (the server gives up waiting after a
while and the stall is reported).
"""

from __future__ import annotations

import asyncio
import bisect
import http.client
import json
import os
import ssl
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
import pytest
import reference
import requests
from hypothesis import given
from hypothesis import strategies as st
from replay import (
    Chunking,
    Recording,
    ReplayServer,
    parse_recording,
    pieces,
    read_recording,
    recordings,
    unescape,
)

import sseclient

ROOT = Path(__file__).resolve().parent.parent
RECORDED = Path(__file__).resolve().parent / "streams" / "recorded"
NAMES = [path.name[: -len(".rec")] for path in recordings(RECORDED)]
FIELDS = ("id", "event", "data", "retry")
CHUNKINGS: list[Chunking] = ["original", 1, "whole"]
#: How long the server waits for the client to yield an event it has all
#: the bytes of, before it sends the rest anyway and reports a stall.
STALL = 5.0

#: One TLS context for every httpx client (making one takes ~0.1 s; the
#: replay server is plain HTTP anyway).
TLS = ssl.create_default_context()

#: The error each transport raises for a chunked body cut short.
CUT_ERRORS: dict[str, type[BaseException]] = {
    "requests": requests.exceptions.ChunkedEncodingError,
    "httpx": httpx.RemoteProtocolError,
    "http.client": http.client.IncompleteRead,
    "aiohttp": aiohttp.ClientPayloadError,
}


def load(name: str) -> tuple[Recording, dict[str, Any]]:
    recording = read_recording(RECORDED / f"{name}.rec")
    expected = json.loads((RECORDED / f"{name}.expected.json").read_text("utf-8"))
    return recording, expected


def decoder(recording: Recording) -> Callable[[bytes], bytes]:
    """Undoes the recorded Content-Encoding, piece by piece (with zlib, not
    the library's decoder)."""
    coding = (recording.header("Content-Encoding") or "identity").lower()
    if coding == "identity":
        return bytes
    assert coding == "gzip", coding
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress


def decoded(recording: Recording, chunks: Iterable[bytes]) -> Iterator[bytes]:
    decode = decoder(recording)
    return (decode(chunk) for chunk in chunks)


def as_dicts(events: Iterable[sseclient.Event]) -> list[dict[str, Any]]:
    return [{k: getattr(event, k) for k in FIELDS} for event in events]


# -- the file format ---------------------------------------------------------


def write_recording(recording: Recording) -> str:
    """A recording written out again, line by line as the recorder writes
    it, with the recorder's own escaping."""
    escape = sseclient._escaped
    lines = [f"# {comment}" for comment in recording.comments]
    head = [recording.status_line, *(f"{k}: {v}" for k, v in recording.headers)]
    lines.append(f"+{recording.head_time:.6f} {escape(head[0].encode('latin-1'))}")
    lines += [escape(line.encode("latin-1")) for line in head[1:]]
    lines.append("")
    lines += [f"+{when:.6f} {escape(chunk)}" for when, chunk in recording.chunks]
    lines.append(f"end +{recording.end_time:.6f} {recording.end}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", NAMES)
def test_the_file_reads_back_byte_exact(name: str) -> None:
    text = (RECORDED / f"{name}.rec").read_text("utf-8")
    recording = parse_recording(text)
    assert write_recording(recording) == text
    assert recording.chunks, "a recording with no body"
    assert all(chunk for _, chunk in recording.chunks)
    times = [recording.head_time, *(t for t, _ in recording.chunks)]
    assert times == sorted(times) and times[-1] <= recording.end_time
    assert recording.end == "eof" or recording.end.startswith("error ")


@given(st.binary(max_size=200))
def test_escaping_round_trips(data: bytes) -> None:
    text = sseclient._escaped(data)
    assert unescape(text) == data
    assert not any(c in text for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
    text.encode("utf-8")  # no lone surrogates
    assert not text.endswith((" ", "\t"))


def test_escaping_every_byte_and_some_text() -> None:
    every = bytes(range(256))
    assert unescape(sseclient._escaped(every)) == every
    text = "tab\t, CRLF\r\n, back\\slash, é, 日本, 🎉, BOM \ufeff, NEL \x85"
    escaped = sseclient._escaped(text.encode())
    assert escaped == (
        "tab\\t, CRLF\\r\\n, back\\\\slash, é, 日本, 🎉,"
        " BOM \\xef\\xbb\\xbf, NEL \\xc2\\x85"
    )
    assert sseclient._escaped(b"\xff\xc3 ") == "\\xff\\xc3\\x20"
    with pytest.raises(ValueError, match="backslash"):
        unescape("a \\q")


@pytest.mark.parametrize("name", NAMES)
def test_meta(name: str) -> None:
    meta = json.loads((RECORDED / f"{name}.meta.json").read_text("utf-8"))
    assert isinstance(meta["server"], str) and any(c.isdigit() for c in meta["server"])
    assert meta["via"] is None or "nginx" in meta["via"]
    assert meta["date"][:2] == "20"
    assert meta["command"].startswith("python -m sseclient http://127.0.0.1:")
    assert f"--record tests/streams/recorded/{name}.rec" in meta["command"]
    recording = read_recording(RECORDED / f"{name}.rec")
    assert recording.url in meta["command"]
    assert (ROOT / meta["app"]).is_file()


# -- parsing the recorded bytes directly --------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_reference_parser_agrees_with_the_hand_written_events(name: str) -> None:
    recording, expected = load(name)
    events, last_event_id, retry = reference.parse(
        b"".join(decoded(recording, [recording.body]))
    )
    assert [dict(zip(FIELDS, e)) for e in events] == expected["events"]
    assert (last_event_id, retry) == (expected["last_event_id"], expected["retry"])


@pytest.mark.parametrize("chunking", CHUNKINGS)
@pytest.mark.parametrize("name", NAMES)
def test_parser(name: str, chunking: Chunking) -> None:
    recording, expected = load(name)
    parser = sseclient.EventStreamParser()
    chunks = decoded(recording, (piece for _, piece in pieces(recording, chunking)))
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    assert as_dicts(events) == expected["events"]
    assert parser.last_event_id == expected["last_event_id"]
    assert parser.retry == expected["retry"]


@pytest.mark.parametrize("name", NAMES)
def test_sseclient_over_the_recorded_chunks(name: str) -> None:
    """The still-encoded chunks, through the library's own decoding."""
    recording, expected = load(name)
    chunks = (chunk for _, chunk in recording.chunks)
    client = sseclient.SSEClient(
        sseclient._decoded(chunks, recording.header("Content-Encoding"))
    )
    assert as_dicts(client) == expected["events"]
    assert client.last_event_id == expected["last_event_id"]
    assert client.retry == expected["retry"]


# -- replayed over HTTP -------------------------------------------------------


class Gate:
    """Before the server sends piece ``i``, wait until the client has
    yielded every event that the pieces before it complete (counted with
    the reference parser on the decoded bytes)."""

    def __init__(self, recording: Recording, chunking: Chunking) -> None:
        lengths = []
        body = b""
        for chunk in decoded(recording, (p for _, p in pieces(recording, chunking))):
            body += chunk
            lengths.append(len(body))
        # Events are dispatched only at line ends: count them there.
        ends = [i + 1 for i, byte in enumerate(body) if byte in b"\r\n"]
        counts = [len(reference.parse(body[:end])[0]) for end in ends]
        self.needed = [0] + [
            counts[i - 1] if i else 0
            for i in (bisect.bisect_right(ends, length) for length in lengths)
        ]
        self.events: list[sseclient.Event] = []
        self.stalls: list[str] = []

    def __call__(self, index: int) -> None:
        needed = self.needed[index]
        deadline = time.monotonic() + STALL
        while len(self.events) < needed:
            if time.monotonic() > deadline:
                self.stalls.append(
                    f"before piece {index}: {len(self.events)} of {needed} events"
                )
                return
            time.sleep(0.001)


def read_sync(transport: str, url: str, gate: Gate, count: int) -> Any:
    """Read the stream at `url` with `transport` into ``gate.events``; return
    the client (for its state at the end) or the error that ended it."""
    events = gate.events
    try:
        if transport == "connect":
            with sseclient.connect(url, max_attempts=1) as stream:
                for event in stream:
                    events.append(event)
                    if len(events) == count:
                        break  # the next would come from another connection
                return stream
        if transport == "requests":
            with requests.get(url, stream=True, timeout=10) as response:
                client = sseclient.SSEClient(response)
                events.extend(client)
                return client
        if transport == "httpx":
            with (
                httpx.Client(timeout=10, verify=TLS) as session,
                session.stream("GET", url) as response,
            ):
                client = sseclient.SSEClient(response)
                events.extend(client)
                return client
        assert transport == "http.client"
        parts = urlsplit(url)
        conn = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
        try:
            conn.request("GET", parts.path, headers={"Accept": "text/event-stream"})
            client = sseclient.SSEClient(conn.getresponse())
            events.extend(client)
            return client
        finally:
            conn.close()
    except Exception as exc:
        return exc


async def read_async(transport: str, url: str, gate: Gate, count: int) -> Any:
    events = gate.events
    try:
        if transport == "aconnect":
            client = httpx.AsyncClient(verify=TLS)
            async with (
                client,
                sseclient.aconnect(url, max_attempts=1, client=client) as stream,
            ):
                async for event in stream:
                    events.append(event)
                    if len(events) == count:
                        break
                return stream
        assert transport == "aiohttp"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            client = sseclient.AsyncSSEClient(response)
            async for event in client:
                events.append(event)
            return client
    except Exception as exc:
        return exc


def replay_and_read(
    name: str, transport: str, chunking: Chunking, pace: float = 0.0
) -> None:
    recording, expected = load(name)
    gate = Gate(recording, chunking)
    count = len(expected["events"])
    with ReplayServer(recording, chunking, pace, gate=gate) as server:
        if transport in ("aiohttp", "aconnect"):
            result = asyncio.run(read_async(transport, server.url, gate, count))
        else:
            result = read_sync(transport, server.url, gate, count)
    assert not gate.stalls, gate.stalls
    assert as_dicts(gate.events) == expected["events"]
    if transport in ("connect", "aconnect"):
        assert not isinstance(result, Exception), result
        assert result.last_event_id == expected["last_event_id"]
        assert result.retry == (expected["retry"] or 3000)
    elif recording.end == "eof":
        assert not isinstance(result, Exception), result
        assert result.last_event_id == expected["last_event_id"]
        assert result.retry == expected["retry"]
    else:  # cut in the middle of the chunked body
        assert isinstance(result, CUT_ERRORS[transport]), repr(result)


SYNC = ["requests", "httpx", "http.client", "connect"]
ASYNC = ["aiohttp", "aconnect"]


@pytest.mark.parametrize("chunking", CHUNKINGS)
@pytest.mark.parametrize("transport", SYNC)
@pytest.mark.parametrize("name", NAMES)
def test_replayed(name: str, transport: str, chunking: Chunking) -> None:
    replay_and_read(name, transport, chunking)


@pytest.mark.parametrize("chunking", CHUNKINGS)
@pytest.mark.parametrize("transport", ASYNC)
@pytest.mark.parametrize("name", NAMES)
def test_replayed_async(name: str, transport: str, chunking: Chunking) -> None:
    replay_and_read(name, transport, chunking)


@pytest.mark.parametrize("name", NAMES)
def test_replayed_at_a_tenth_of_the_recorded_pace(name: str) -> None:
    replay_and_read(name, "requests", "original", pace=0.1)


def test_the_replay_server_frames_as_recorded() -> None:
    """Chunked stays chunked, the HTTP/1.0 body ends at the close, and the
    server's own headers come back."""
    for name, framing in [("tornado", "chunked"), ("wsgiref", None)]:
        recording, _ = load(name)
        with (
            ReplayServer(recording, 7) as server,
            requests.get(server.url, stream=True, timeout=10) as response,
        ):
            assert response.raw.version == (11 if framing else 10)
            assert response.headers.get("Transfer-Encoding") == framing
            assert "Content-Length" not in response.headers
            assert response.headers["Server"] == recording.header("Server")
            assert response.raw.read() == recording.body


# -- recording again: the command line's --record -----------------------------


def run_recorder(url: str, path: Path, *more: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's sseclient.py
    command = [sys.executable, "-m", "sseclient", url, "--record", str(path)]
    return subprocess.run(
        [*command, "--json", *more], capture_output=True, text=True, timeout=30, env=env
    )


@pytest.mark.parametrize("name", NAMES)
def test_recording_the_replay_gives_the_recording_back(
    name: str, tmp_path: Path
) -> None:
    recording, expected = load(name)
    path = tmp_path / "again.rec"
    with ReplayServer(recording) as server:
        result = run_recorder(server.url, path)
        (request,) = server.requests
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert printed == expected["events"]
    lines = request.lower().split("\r\n")
    assert "accept: text/event-stream" in lines
    assert "cache-control: no-cache" in lines
    assert "accept-encoding: gzip, deflate" in lines
    again = read_recording(path)
    assert again.comments == [f"sseclient recording 1: GET {server.url}"]
    assert again.status_line == recording.status_line
    assert again.headers == recording.headers
    assert again.body == recording.body
    if recording.chunked:
        # Each read gives at most one HTTP chunk: the boundaries come back.
        assert [c for _, c in again.chunks] == [c for _, c in recording.chunks]
    if recording.end == "eof":
        assert (result.returncode, result.stderr) == (0, "")
        assert again.end == "eof"
    else:
        assert result.returncode == 1
        assert "closed in the middle of the body" in result.stderr
        assert again.end.startswith("error IncompleteRead")


def test_recording_stops_with_max_events(tmp_path: Path) -> None:
    recording, _ = load("aiohttp_sse")
    path = tmp_path / "two.rec"
    with ReplayServer(recording) as server:
        result = run_recorder(server.url, path, "--max-events", "2")
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert printed == ["1", "2"]
    again = read_recording(path)
    assert again.end == "stopped"
    assert again.body == b"".join(c for _, c in recording.chunks[:2])


def test_record_is_only_for_a_url(tmp_path: Path) -> None:
    result = run_recorder(str(RECORDED / "tornado.rec"), tmp_path / "x.rec")
    assert result.returncode == 2
    assert "--record: only for a URL" in result.stderr
