"""Async parse throughput: `AsyncSSEClient` against httpx-sse's ``aiter_sse``.

    python benchmarks/bench_async.py            # full workloads
    python benchmarks/bench_async.py --quick    # workloads ~10x smaller

Every implementation gets the same bytes in the same chunks (the workloads of
``bench_parse.py``), from an async generator, in one process and one event
loop; nothing touches the network.  Each run is timed with ``perf_counter``
after a ``gc.collect()``, the implementations taking turns; the table shows
the best of ``--repeat`` runs and checks every run's event count.

It needs ``httpx`` and ``httpx-sse`` (``httpx2`` adds a row).  If the python
that runs it lacks them, it runs itself again with the httpx-sse venv that
``setup_peers.py`` builds.  Our ``sseclient`` comes from the repository root.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import os
import platform
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path[:0] = [str(REPO_DIR), str(BENCH_DIR)]

import bench_parse  # noqa: E402
import parse_worker  # noqa: E402
import setup_peers  # noqa: E402

HEADERS = {"content-type": "text/event-stream"}

Driver = Callable[[list[bytes]], Awaitable[int]]


async def chunks_of(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def count(events: AsyncIterator[Any]) -> int:
    n = 0
    async for _ in events:
        n += 1
    return n


def ours() -> Driver:
    from sseclient import AsyncSSEClient

    async def drive(chunks: list[bytes]) -> int:
        return await count(AsyncSSEClient(chunks_of(chunks)).events())

    return drive


def ours_response() -> Driver:
    import httpx

    from sseclient import AsyncSSEClient

    async def drive(chunks: list[bytes]) -> int:
        response = httpx.Response(200, headers=HEADERS, content=chunks_of(chunks))
        return await count(AsyncSSEClient(response).events())

    return drive


class TextResponse:
    """The part of ``httpx.Response`` that ``EventSource.aiter_sse`` uses:
    ``aiter_text()`` as httpx does it for an identity-encoded body read in the
    server's chunks, httpx's own ``TextDecoder`` on each chunk."""

    def __init__(self, chunks: list[bytes]) -> None:
        from httpx._decoders import TextDecoder

        self.headers = HEADERS
        self._chunks = chunks
        self._decoder = TextDecoder(encoding="utf-8")

    async def aiter_text(self) -> AsyncIterator[str]:
        async for chunk in chunks_of(self._chunks):
            text = self._decoder.decode(chunk)
            if text:
                yield text
        text = self._decoder.flush()
        if text:
            yield text


def httpx_sse() -> Driver:
    from httpx_sse import EventSource

    async def drive(chunks: list[bytes]) -> int:
        return await count(EventSource(TextResponse(chunks)).aiter_sse())  # type: ignore[arg-type]

    return drive


def httpx_sse_response() -> Driver:
    import httpx
    from httpx_sse import EventSource

    async def drive(chunks: list[bytes]) -> int:
        response = httpx.Response(200, headers=HEADERS, content=chunks_of(chunks))
        return await count(EventSource(response).aiter_sse())

    return drive


def httpx2_response() -> Driver:
    import httpx2

    async def drive(chunks: list[bytes]) -> int:
        request = httpx2.Request("GET", "http://bench.invalid/")
        response = httpx2.Response(
            200, headers=HEADERS, content=chunks_of(chunks), request=request
        )
        # Its default 1 MiB event limit would stop the `big` workload.
        source = httpx2.EventSource(response, max_event_size=None)
        return await count(source.__aiter__())

    return drive


#: name: (driver factory, what is timed)
IMPLS: dict[str, tuple[Callable[[], Driver], str]] = {
    "ours.AsyncSSEClient": (ours, "AsyncSSEClient(<async gen of chunks>).events()"),
    "ours.AsyncSSEClient+Response": (
        ours_response,
        "AsyncSSEClient(httpx.Response(200, content=<async gen>))",
    ),
    "httpx-sse.aiter_sse": (
        httpx_sse,
        "EventSource(r).aiter_sse(), r.aiter_text() = httpx TextDecoder on chunks",
    ),
    "httpx-sse.aiter_sse+Response": (
        httpx_sse_response,
        "EventSource(httpx.Response(200, content=<async gen>)).aiter_sse()",
    ),
    "httpx2.EventSource+Response": (
        httpx2_response,
        "async for in httpx2.EventSource(httpx2.Response(200, content=<async gen>))",
    ),
}
#: Which of our rows each peer row is compared with (the same path to bytes).
PEER_OF = {
    "httpx-sse.aiter_sse": "ours.AsyncSSEClient",
    "httpx-sse.aiter_sse+Response": "ours.AsyncSSEClient+Response",
    "httpx2.EventSource+Response": "ours.AsyncSSEClient+Response",
}


async def best_times(
    drivers: dict[str, Driver],
    chunks: list[bytes],
    expected: int,
    repeat: int,
    budget: float,
) -> dict[str, tuple[float, int]]:
    """Each driver's best of up to ``repeat`` timed runs, and how many ran.

    The runs go round the drivers in turn, so that a change in the load of
    the machine falls on all of them alike.  A driver stops once another
    run would take it past ``budget`` seconds.
    """
    best = dict.fromkeys(drivers, float("inf"))
    spent = dict.fromkeys(drivers, 0.0)
    runs = dict.fromkeys(drivers, 0)
    for _ in range(repeat):
        for name, drive in drivers.items():
            if runs[name] and spent[name] + best[name] > budget:
                continue
            gc.collect()
            start = time.perf_counter()
            events = await drive(chunks)
            seconds = time.perf_counter() - start
            if events != expected:
                raise RuntimeError(f"{name}: {events} events, not {expected}")
            best[name] = min(best[name], seconds)
            spent[name] += seconds
            runs[name] += 1
    return {name: (best[name], runs[name]) for name in drivers}


def rerun_in_peer_venv() -> None:
    """Run this script again with the httpx-sse venv's python, if it has one."""
    peer = setup_peers.PEERS["httpx-sse"]
    if not setup_peers.venv_ready(peer) or Path(sys.executable) == peer.python:
        sys.exit(
            "needs httpx and httpx-sse: pip install httpx httpx-sse, or build"
            " the venv with python benchmarks/setup_peers.py httpx-sse"
        )
    os.execv(str(peer.python), [str(peer.python), __file__, *sys.argv[1:]])


async def run(args: argparse.Namespace) -> None:
    scale = 0.1 if args.quick else 1.0
    impls = [
        name for name in args.impl or IMPLS if name != "httpx2.EventSource+Response"
    ]
    if args.impl is None and importlib.util.find_spec("httpx2") is not None:
        impls.append("httpx2.EventSource+Response")
    drivers = {name: IMPLS[name][0]() for name in impls}
    print(
        f"Python {platform.python_version()} ({sys.executable}), {platform.platform()}"
    )
    print(f"CPUs: {os.cpu_count()}; load average: {os.getloadavg()}")
    print(f"best of <= {args.repeat} runs, each in the same asyncio loop")
    for name in impls:
        print(f"  {name:30} {IMPLS[name][1]}")
    print()
    header = f"{'workload':15} {'implementation':30} {'events/s':>11} {'MB/s':>7}"
    print(f"{header} {'runs':>4} {'x peer':>7}")
    for wname in args.workload or bench_parse.WORKLOADS:
        workload = bench_parse.WORKLOADS[wname]
        stream = workload.make(scale)
        sizes = parse_worker.chunk_sizes(workload.chunking, len(stream.data))
        chunks, offset = [], 0
        for size in sizes:
            chunks.append(stream.data[offset : offset + size])
            offset += size
        results = await best_times(
            drivers, chunks, stream.events, args.repeat, args.budget
        )
        rates = {name: len(stream.data) / best for name, (best, _) in results.items()}
        for name, (seconds, runs) in results.items():
            peer = PEER_OF.get(name)
            ratio = f"{rates[peer] / rates[name]:.2f}" if peer in rates else ""
            print(
                f"{wname:15} {name:30} {stream.events / seconds:11,.1f}"
                f" {rates[name] / 1e6:7.2f} {runs:4} {ratio:>7}",
                flush=True,
            )
    print("\nx peer: how many times faster our row with the same source is.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="workloads ~10x smaller")
    parser.add_argument("--repeat", type=int, default=5, help="best of N (default 5)")
    parser.add_argument(
        "--budget", type=float, default=8.0, help="seconds of timed runs per row"
    )
    parser.add_argument("--workload", action="append", choices=bench_parse.WORKLOADS)
    parser.add_argument("--impl", action="append", choices=IMPLS)
    args = parser.parse_args()
    if importlib.util.find_spec("httpx_sse") is None:
        rerun_in_peer_venv()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
