"""Live servers made with real SSE frameworks: sse-starlette on uvicorn and
aiohttp-sse, each run by tests/live_apps.py in a process of its own on
127.0.0.1, read by `sseclient.connect` and `sseclient.aconnect`.

The server logs each request (with its Last-Event-ID) and how each stream
ended, so the tests check what the server saw: the resumed request after
the server process was killed and started again, the wait the server's
``retry:`` asked for before reconnecting, and the disconnect when the
client closes.
"""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

import sseclient

pytest.importorskip("sse_starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("aiohttp_sse")

APPS = Path(__file__).resolve().parent / "live_apps.py"
FRAMEWORKS = ["starlette", "aiohttp"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not so after {timeout} s")
        time.sleep(0.01)
    return result


class LiveServer:
    """One of live_apps.py's servers, in a process that can be killed and
    started again on the same port; its log outlives the process."""

    def __init__(self, framework: str, directory: Path) -> None:
        self.framework = framework
        self.port = free_port()
        self.log = directory / f"{framework}.log"
        self.log.touch()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, str(APPS), self.framework, str(self.port)]
        self.process = subprocess.Popen([*command, str(self.log)])
        wait_until(self._accepts, 20)

    def _accepts(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the {self.framework} server exited")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def stop(self, kill: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill() if kill else self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def url(self, tag: str, **query: object) -> str:
        params = "&".join(f"{k}={v}" for k, v in {"tag": tag, **query}.items())
        return f"http://127.0.0.1:{self.port}/events?{params}"

    def entries(self, tag: str) -> list[dict[str, Any]]:
        lines = self.log.read_text().splitlines()
        return [e for e in map(json.loads, lines) if e["tag"] == tag]


@pytest.fixture(scope="module", params=FRAMEWORKS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    live = LiveServer(request.param, tmp_path_factory.mktemp("live"))
    live.start()
    yield live
    live.stop()


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex


def ticks(*ids: int) -> list[tuple[str | None, str, str]]:
    return [(str(k), "tick", f"tick {k}") for k in ids]


def test_connect(server: LiveServer, tag: str) -> None:
    """Read to the end: the stream ends, the client reconnects with the last
    ID, and the server's 204 ends the iteration."""
    with sseclient.connect(server.url(tag, n=4, retry=50), max_attempts=1) as stream:
        events = [(e.id, e.event, e.data) for e in stream]
        assert stream.retry == 50
    assert events == ticks(1, 2, 3, 4)
    log = server.entries(tag)
    requests = [e["last_event_id"] for e in log if e["what"] == "request"]
    assert requests == [None, "4"]
    assert [e["what"] for e in log] == ["request", "end", "request"]


async def test_aconnect(
    server: LiveServer, tag: str, loop_errors: list[dict[str, Any]]
) -> None:
    url = server.url(tag, n=4, retry=50)
    async with sseclient.aconnect(url, max_attempts=1) as stream:
        events = [(e.id, e.event, e.data) async for e in stream]
        assert stream.retry == 50
    assert events == ticks(1, 2, 3, 4)
    requests = [
        e["last_event_id"] for e in server.entries(tag) if e["what"] == "request"
    ]
    assert requests == [None, "4"]


def test_retry_sets_the_wait_before_reconnecting(server: LiveServer, tag: str) -> None:
    """``retry: 200`` from the server: it sees the client back after about
    200 ms, not after the default 3 s (measured by the server, loosely)."""
    with sseclient.connect(server.url(tag, n=2, retry=200)) as stream:
        assert [e.id for e in stream] == ["1", "2"]
    log = server.entries(tag)
    assert [e["what"] for e in log] == ["request", "end", "request"]
    gap = log[2]["t"] - log[1]["t"]
    assert 0.15 <= gap < 2.5, gap


def test_resume_after_the_server_is_killed_and_started_again(
    server: LiveServer, tag: str
) -> None:
    restart = threading.Thread(target=server.start)
    ids = []
    url = server.url(tag, n=5, pause=0.1, retry=100)
    with sseclient.connect(url, max_retry_delay=300) as stream:
        for event in stream:
            ids.append(event.id)
            if event.id == "3":
                # Mid-stream (event 4 is 0.1 s away): kill the server, and
                # start it again while the client tries to reconnect.
                server.stop(kill=True)
                restart.start()
    restart.join()
    assert ids == ["1", "2", "3", "4", "5"]
    requests = [e for e in server.entries(tag) if e["what"] == "request"]
    first_pid = requests[0]["pid"]
    assert requests[0]["last_event_id"] is None
    # The new process was asked to resume after the last event the client
    # had (3, or 4 if the client was slow to see 3 and 4 was on its way),
    # then, at the end of its stream, after event 5 (answered with 204).
    resumed = [e["last_event_id"] for e in requests if e["pid"] != first_pid]
    assert resumed[0] in ("3", "4") and resumed[1:] == ["5"], resumed


def test_close_reading_mid_stream(server: LiveServer, tag: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with sseclient.connect(server.url(tag, n=1000, pause=0.05)) as stream:
            for event in stream:
                if event.id == "3":
                    break
        gc.collect()  # an unclosed socket would warn here
    assert [str(w.message) for w in caught] == []
    # The server sees the client go away (at its next write).
    log = wait_until(lambda: [e["what"] for e in server.entries(tag)][1:], 5)
    assert log == ["disconnected"]


async def test_aclose_reading_mid_stream(
    server: LiveServer, tag: str, loop_errors: list[dict[str, Any]]
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        url = server.url(tag, n=1000, pause=0.05)
        async with sseclient.aconnect(url) as stream:
            async for event in stream:
                if event.id == "3":
                    break
        gc.collect()
        await asyncio.sleep(0)
    assert [str(w.message) for w in caught] == []
    for _ in range(500):
        whats = [e["what"] for e in server.entries(tag)]
        if len(whats) > 1:
            break
        await asyncio.sleep(0.01)
    assert whats == ["request", "disconnected"]
