"""``connect(url, record=FILE)``: each response written to FILE as it arrives.

The recorded streams of ``tests/streams/recorded/`` are served again by
`replay.ReplayServer`, read through the public ``connect(record=...)``, and
the file it writes must read back (with `replay.parse_recording`) as the
same status line, headers, body reads and end.  The command line's
``--record``, which is this option, is tested in test_recordings.py.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from replay import MAGIC, Recording, ReplayServer, parse_recording, read_recording

import sseclient

RECORDED = Path(__file__).resolve().parent / "streams" / "recorded"
NAMES = sorted(path.name[: -len(".rec")] for path in RECORDED.glob("*.rec"))
FIELDS = ("id", "event", "data", "retry")


def load(name: str) -> tuple[Recording, dict[str, Any]]:
    recording = read_recording(RECORDED / f"{name}.rec")
    expected = json.loads((RECORDED / f"{name}.expected.json").read_text("utf-8"))
    return recording, expected


def as_dicts(events: list[sseclient.Event]) -> list[dict[str, Any]]:
    return [{k: getattr(event, k) for k in FIELDS} for event in events]


def split_recordings(text: str) -> list[Recording]:
    """The recordings of a file that holds several, one after the other."""
    starts = [i for i, line in enumerate(text.split("\n")) if line.startswith(MAGIC)]
    lines = text.split("\n")
    ends = [*starts[1:], len(lines)]
    return [parse_recording("\n".join(lines[a:b])) for a, b in zip(starts, ends)]


def assert_same_response(again: Recording, recording: Recording) -> None:
    assert again.status_line == recording.status_line
    assert again.headers == recording.headers
    assert again.body == recording.body
    if recording.chunked:
        # One read gives at most one HTTP chunk: the boundaries come back.
        assert [c for _, c in again.chunks] == [c for _, c in recording.chunks]
    times = [again.head_time, *(t for t, _ in again.chunks), again.end_time]
    assert times == sorted(times)


@pytest.mark.parametrize("name", NAMES)
def test_a_connection_recorded_to_a_path_reads_back(name: str, tmp_path: Path) -> None:
    recording, expected = load(name)
    path = tmp_path / "again.rec"
    events: list[sseclient.Event] = []
    error: BaseException | None = None
    with ReplayServer(recording) as server:
        stream = sseclient.connect(server.url, reconnect=False, record=path)
        try:
            with stream:
                events.extend(stream)
        except http.client.IncompleteRead as exc:
            error = exc
        (request,) = server.requests
    assert as_dicts(events) == expected["events"]
    assert "accept-encoding: gzip, deflate" in request.lower().split("\r\n")
    again = read_recording(path)
    assert again.comments == [f"sseclient recording 1: GET {server.url}"]
    assert_same_response(again, recording)
    if recording.end == "eof":
        assert error is None
        assert again.end == "eof"
    else:  # the body was cut: the error is raised, after the events before it
        assert error is not None
        assert again.end.startswith("error IncompleteRead: ")


def test_a_text_file_gets_the_recording_and_stays_open() -> None:
    recording, expected = load("nginx_gzip_sse_starlette")  # a gzip body
    file = io.StringIO()
    with ReplayServer(recording) as server:
        with sseclient.connect(server.url, reconnect=False, record=file) as stream:
            events = list(stream)
        assert stream.closed
    assert as_dicts(events) == expected["events"]
    assert not file.closed
    again = parse_recording(file.getvalue())
    assert again.header("Content-Encoding") == "gzip"  # recorded as it came
    assert_same_response(again, recording)
    assert again.end == "eof"


def test_each_connection_adds_a_recording(tmp_path: Path) -> None:
    """A reconnecting stream: one recording per connection, one after the
    other; closing the stream stops the one being read."""
    recording, expected = load("sse_starlette_shutdown")  # it sets no retry
    count = len(expected["events"])
    path = tmp_path / "two.rec"
    with ReplayServer(recording) as server:
        with sseclient.connect(server.url, retry=0, record=path) as stream:
            events = []
            for event in stream:
                events.append(event)
                if len(events) == 2 * count:
                    break
        assert len(server.requests) == 2
        assert "Last-Event-ID: 3" in server.requests[1]
    assert as_dicts(events) == expected["events"] * 2
    first, second = split_recordings(path.read_text("utf-8"))
    assert_same_response(first, recording)
    assert first.end == "eof"
    assert second.status_line == recording.status_line
    # Read up to the last event; what came after it (a ping) was not read.
    reads = [c for _, c in second.chunks]
    assert reads == [c for _, c in recording.chunks][: len(reads)]
    assert b"id: 3" in reads[-1]
    assert second.end == "stopped"


def test_a_restart_stops_the_recording_and_starts_another() -> None:
    recording, _ = load("aiohttp_sse")
    file = io.StringIO()
    with ReplayServer(recording) as server:
        with sseclient.connect(server.url, record=file) as stream:
            assert next(stream).id == "1"
            stream.restart()
            # The replay ignores Last-Event-ID: event 1 comes again, from
            # the new connection.
            assert "1" in (event.id for event in stream)
        assert len(server.requests) == 2
    one, two = split_recordings(file.getvalue())
    reads = [c for _, c in recording.chunks]
    assert [c for _, c in one.chunks] == reads[: len(one.chunks)]
    assert [c for _, c in two.chunks] == reads[: len(two.chunks)]
    assert one.end == two.end == "stopped"


def synthetic(
    status_line: str, headers: list[tuple[str, str]], body: bytes
) -> Recording:
    """A response made up for a test (not recorded from a server)."""
    chunks = [(0.0, body)] if body else []
    return Recording(
        ["synthetic: GET http://x/"], 0.0, status_line, headers, chunks, 0.0, "eof"
    )


def test_an_error_body_is_recorded_and_kept_for_the_error(tmp_path: Path) -> None:
    body = b'{"error": "no such stream"}'
    headers = [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]
    served = synthetic("HTTP/1.1 404 Not Found", headers, body)
    path = tmp_path / "error.rec"
    with (
        ReplayServer(served) as server,
        pytest.raises(sseclient.HTTPStatusError) as info,
        sseclient.connect(server.url, record=path) as stream,
    ):
        next(stream)
    # A chunked body has no declared length; recording, it is read anyway.
    assert info.value.response.json() == {"error": "no such stream"}
    again = read_recording(path)
    assert again.status_line == "HTTP/1.1 404 Not Found"
    assert (again.body, again.end) == (body, "eof")


def test_a_204_ends_its_recording_with_the_empty_body(tmp_path: Path) -> None:
    served = synthetic("HTTP/1.1 204 No Content", [], b"")
    path = tmp_path / "204.rec"
    with (
        ReplayServer(served) as server,
        sseclient.connect(server.url, record=path) as stream,
    ):
        assert list(stream) == []
    again = read_recording(path)
    assert again.status_line == "HTTP/1.1 204 No Content"
    assert (again.chunks, again.end) == ([], "eof")


def test_record_needs_the_standard_librarys_transport(tmp_path: Path) -> None:
    path = tmp_path / "x.rec"
    with pytest.raises(ValueError, match=r"record .*transport='requests'"):
        sseclient.connect("http://x/", transport="requests", record=path)
    with requests.Session() as session, pytest.raises(ValueError, match="record"):
        sseclient.connect("http://x/", session=session, record=path)
    with pytest.raises(TypeError, match="record: expected a text file"):
        sseclient.connect("http://x/", record=3)  # type: ignore[arg-type]
    assert not path.exists()
    stream = sseclient.connect("http://x/", transport="stdlib", record=path)
    stream.close()  # never iterated: the file was made at the call, and closed
    assert path.read_text() == ""


def test_the_command_line_records_an_error_body_then_reports(tmp_path: Path) -> None:
    """``--record``: the body of an error response (of unknown length here)
    goes into the file before the command reports the error with it."""
    body = b'{"error": "Incorrect API key provided"}'
    headers = [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]
    served = synthetic("HTTP/1.1 401 Unauthorized", headers, body)
    path = tmp_path / "error.rec"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(RECORDED.parent.parent.parent)  # this sseclient.py
    with ReplayServer(served) as server:
        result = subprocess.run(
            [sys.executable, "-m", "sseclient", server.url, "--record", str(path)],
            capture_output=True, text=True, timeout=30, env=env,
        )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (
        f"sseclient: error: {server.url} answered 401 Unauthorized:"
        ' {"error": "Incorrect API key provided"}\n'
    )
    again = read_recording(path)
    assert (again.status_line, again.body, again.end) == (
        "HTTP/1.1 401 Unauthorized",
        body,
        "eof",
    )
