"""Close latency: how long a stream's iteration goes on after ``close()``.

    python benchmarks/close_latency.py             # 20 tries of each case
    python benchmarks/close_latency.py --tries 50

A stream is iterated on a thread of its own (``connect``, over requests and
over the standard library's http.client) or in a task of its own
(``aconnect``, over httpx) while it waits in one of
four places, and ``close()`` or ``aclose()`` is called from the main thread
or task.  The time measured runs from that call to the moment the
iteration has ended (the thread's ``for`` loop has left, or the task's
``async for``).  The places:

* connect: for a TCP connection, to a port on 127.0.0.1 whose listening
  queue is full, so that the SYN is dropped (``servers.stalled_port``);
* headers: for the response headers, from a server that reads the request
  and answers nothing (``servers.unanswered``);
* read: for the next bytes of a body, after a first event;
* backoff: the reconnection time (10 s) after a 503.

The servers are those of the tests (``tests/servers.py``), on 127.0.0.1.
Every wait outlasts the measurement by far (timeouts of 30 s), so a close
that did not cut it short would show as seconds.  The table gives the
median and the worst of the tries; the target is a worst under 0.1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from servers import (  # noqa: E402
    HoldOpen,
    Response,
    SSEServer,
    stalled_port,
    status_only,
    unanswered,
)

import sseclient  # noqa: E402

PHASES = ("connect", "headers", "read", "backoff")
#: Options of every stream: long waits everywhere, so that only close ends them.
OPTIONS: dict[str, Any] = {"timeout": (30, 30), "retry": 10_000}
#: How long to let a stream settle into its wait before closing it.
SETTLE = 0.15


@contextmanager
def place(phase: str) -> Iterator[tuple[str, SSEServer | None]]:
    """A URL whose stream waits in ``phase``, and its server (if any)."""
    if phase == "connect":
        with stalled_port() as port:
            yield f"http://127.0.0.1:{port}/", None
        return
    release = threading.Event()
    answers: Any = {
        "headers": unanswered(release, timeout=60),
        "read": Response([b"data: first\n\n", HoldOpen(60)]),
        "backoff": status_only(503),
    }[phase]
    with SSEServer(answers) as server:
        try:
            yield server.url, server
        finally:
            release.set()


def wait_for_request(server: SSEServer | None, count: int) -> None:
    deadline = time.monotonic() + 5
    while server is not None and len(server.requests) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the server got no request")
        time.sleep(0.002)
    time.sleep(SETTLE)


def sync_try(url: str, server: SSEServer | None, transport: str) -> float:
    stream = sseclient.connect(url, transport=transport, **OPTIONS)
    ended: list[float] = []

    def read() -> None:
        try:
            for _ in stream:
                pass
        except Exception as exc:
            print(f"  the iteration raised {sseclient._describe(exc)}")
        ended.append(time.perf_counter())

    before = len(server.requests) if server else 0
    thread = threading.Thread(target=read)
    thread.start()
    wait_for_request(server, before + 1)
    start = time.perf_counter()
    stream.close()
    thread.join(60)
    return ended[0] - start


async def async_try(url: str, server: SSEServer | None) -> float:
    stream = sseclient.aconnect(url, **OPTIONS)
    ended: list[float] = []

    async def read() -> None:
        try:
            async for _ in stream:
                pass
        except Exception as exc:
            print(f"  the iteration raised {sseclient._describe(exc)}")
        ended.append(time.perf_counter())

    before = len(server.requests) if server else 0
    task = asyncio.ensure_future(read())
    # The server runs on threads: poll it without blocking the loop.
    deadline = time.monotonic() + 5
    while server is not None and len(server.requests) < before + 1:
        if time.monotonic() > deadline:
            raise RuntimeError("the server got no request")
        await asyncio.sleep(0.002)
    await asyncio.sleep(SETTLE)
    start = time.perf_counter()
    await stream.aclose()
    await asyncio.wait_for(task, 60)
    return ended[0] - start


def measure(tries: int) -> dict[tuple[str, str], list[float]]:
    results: dict[tuple[str, str], list[float]] = {}
    for phase in PHASES:
        with place(phase) as (url, server):
            for transport in ("requests", "stdlib"):
                sync = [sync_try(url, server, transport) for _ in range(tries)]
                results[f"connect ({transport})", phase] = sync

            async def run(url: str = url, server: Any = server) -> list[float]:
                return [await async_try(url, server) for _ in range(tries)]

            results["aconnect (httpx)", phase] = asyncio.run(run())
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tries", type=int, default=20, help="tries per case")
    args = parser.parse_args()
    results = measure(args.tries)
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("requests", "urllib3", "httpx", "anyio")
    )
    print(f"Python {platform.python_version()}, {versions}")
    print(f"load average: {', '.join(f'{n:.2f}' for n in os.getloadavg())}")
    print(f"close latency, {args.tries} tries per case (ms: median / worst)\n")
    print(f"| {'':<18} | " + " | ".join(f"{p:>15}" for p in PHASES) + " |")
    print(f"| {'-' * 18} | " + " | ".join("-" * 14 + ":" for _ in PHASES) + " |")
    worst = 0.0
    for client in ("connect (requests)", "connect (stdlib)", "aconnect (httpx)"):
        cells = []
        for phase in PHASES:
            times = results[client, phase]
            worst = max(worst, max(times))
            cells.append(
                f"{statistics.median(times) * 1000:6.2f} / {max(times) * 1000:6.2f}"
            )
        print(f"| {client:<18} | " + " | ".join(f"{c:>15}" for c in cells) + " |")
    print(f"\nworst of all: {worst * 1000:.2f} ms (target < 100 ms)")
    return 0 if worst < 0.1 else 1


if __name__ == "__main__":
    sys.exit(main())
