"""Close latency: how long a stream's iteration goes on after ``close()``.

    python benchmarks/close_latency.py             # 20 tries of each case
    python benchmarks/close_latency.py --tries 50

A stream is iterated on a thread of its own (``connect``, over requests and
over the standard library's http.client) or in a task of its own
(``aconnect``, over httpx and over an ``aiohttp.ClientSession`` passed as
its ``client``) while it waits in one of four places, and ``close()`` or
``aclose()`` is called from the main thread or task.  The time measured
runs from that call to the moment the iteration has ended (the thread's
``for`` loop has left, or the task's ``async for``).  The places:

* connect: for a TCP connection, to a port on 127.0.0.1 whose listening
  queue is full, so that the SYN is dropped (``servers.stalled_port``);
* headers: for the response headers, from a server that reads the request
  and answers nothing (``servers.unanswered``);
* read: for the next bytes of a body, after a first event;
* backoff: the reconnection time (10 s) after a 503.

The servers are the benchmarks' own (``benchmarks/servers.py``), on
127.0.0.1.  Every wait outlasts the measurement by far (timeouts of 30 s),
so a close that did not cut it short would show as seconds.  The table
gives the median and the worst of the tries; the target is a worst under
0.1 s.  It needs requests, httpx and aiohttp.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH_DIR.parent), str(BENCH_DIR)]

import aiohttp  # noqa: E402
import harness  # noqa: E402
from servers import Reply, ThreadedServer, stalled_port, unanswered  # noqa: E402

import sseclient  # noqa: E402

PHASES = ("connect", "headers", "read", "backoff")
CLIENTS = (
    "connect (requests)",
    "connect (stdlib)",
    "aconnect (httpx)",
    "aconnect (aiohttp)",
)
#: Options of every stream: long waits everywhere, so that only close ends them.
OPTIONS: dict[str, Any] = {"timeout": (30, 30), "retry": 10_000}
#: How long to let a stream settle into its wait before closing it.
SETTLE = 0.15


@contextmanager
def place(phase: str) -> Iterator[tuple[str, ThreadedServer | None]]:
    """A URL whose stream waits in ``phase``, and its server (if any)."""
    if phase == "connect":
        with stalled_port() as port:
            yield f"http://127.0.0.1:{port}/", None
        return
    release = threading.Event()
    answers = {
        "headers": unanswered(release, timeout=60),
        "read": lambda request: Reply(body=b"data: first\n\n", hold=60),
        "backoff": lambda request: Reply(status=503, headers=(), framing="length"),
    }[phase]
    with ThreadedServer(answers) as server:
        try:
            yield server.url, server
        finally:
            release.set()


def requested(server: ThreadedServer | None, count: int) -> bool:
    """Whether ``server`` has had ``count`` requests (true if there is none)."""
    return server is None or server.requests >= count


def sync_try(url: str, server: ThreadedServer | None, transport: str) -> float:
    stream = sseclient.connect(url, transport=transport, **OPTIONS)
    ended: list[float] = []

    def read() -> None:
        try:
            for _ in stream:
                pass
        except Exception as exc:
            print(f"  the iteration raised {sseclient._describe(exc)}")
        ended.append(time.perf_counter())

    before = server.requests if server else 0
    thread = threading.Thread(target=read)
    thread.start()
    deadline = time.monotonic() + 5
    while not requested(server, before + 1):
        if time.monotonic() > deadline:
            raise RuntimeError("the server got no request")
        time.sleep(0.002)
    time.sleep(SETTLE)
    start = time.perf_counter()
    stream.close()
    thread.join(60)
    return ended[0] - start


async def async_try(
    url: str, server: ThreadedServer | None, client: aiohttp.ClientSession | None
) -> float:
    stream = sseclient.aconnect(url, client=client, **OPTIONS)
    ended: list[float] = []

    async def read() -> None:
        try:
            async for _ in stream:
                pass
        except Exception as exc:
            print(f"  the iteration raised {sseclient._describe(exc)}")
        ended.append(time.perf_counter())

    before = server.requests if server else 0
    task = asyncio.ensure_future(read())
    # The server runs on threads: poll it without blocking the loop.
    deadline = time.monotonic() + 5
    while not requested(server, before + 1):
        if time.monotonic() > deadline:
            raise RuntimeError("the server got no request")
        await asyncio.sleep(0.002)
    await asyncio.sleep(SETTLE)
    start = time.perf_counter()
    await stream.aclose()
    await asyncio.wait_for(task, 60)
    return ended[0] - start


async def async_tries(
    url: str, server: ThreadedServer | None, tries: int, library: str
) -> list[float]:
    """``tries`` closes of aconnect's streams over ``library``; over aiohttp,
    the streams share one session, as an application's would."""
    if library == "httpx":
        return [await async_try(url, server, None) for _ in range(tries)]
    async with aiohttp.ClientSession() as session:
        return [await async_try(url, server, session) for _ in range(tries)]


def measure(tries: int) -> dict[tuple[str, str], list[float]]:
    results: dict[tuple[str, str], list[float]] = {}
    for phase in PHASES:
        with place(phase) as (url, server):
            for transport in ("requests", "stdlib"):
                sync = [sync_try(url, server, transport) for _ in range(tries)]
                results[f"connect ({transport})", phase] = sync
            for library in ("httpx", "aiohttp"):
                times = asyncio.run(async_tries(url, server, tries, library))
                results[f"aconnect ({library})", phase] = times
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tries", type=int, default=20, help="tries per case")
    args = parser.parse_args()
    load_before = harness.load_average()
    results = measure(args.tries)
    for line in harness.machine_lines(load_before):
        print(line)
    libraries = ("requests", "urllib3", "httpx", "anyio", "aiohttp")
    print(", ".join(f"{name} {harness.dist_version(name)}" for name in libraries))
    print(f"close latency, {args.tries} tries per case (ms: median / worst)\n")
    rows = []
    for client in CLIENTS:
        cells = []
        for phase in PHASES:
            times = results[client, phase]
            median, worst = statistics.median(times), max(times)
            cells.append(f"{median * 1000:.2f} / {worst * 1000:.2f}")
        rows.append([client, *cells])
    harness.print_table(["", *PHASES], rows, right={1, 2, 3, 4})
    worst = max(max(times) for times in results.values())
    print(f"\nworst of all: {worst * 1000:.2f} ms (target < 100 ms)")
    return 0 if worst < 0.1 else 1


if __name__ == "__main__":
    sys.exit(main())
