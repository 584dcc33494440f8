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
``setup_peers.py`` builds.  Our ``sseclient.py`` is copied from the
repository root at the start, and the report says which version it is.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import harness  # noqa: E402
from workloads import PARSE_WORKLOADS, cut  # noqa: E402

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


@dataclass
class Entrant:
    """One driver's timed runs (see `harness.round_robin`)."""

    name: str
    drive: Driver
    wall: list[float] = field(default_factory=list)
    stopped: bool = False


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
    entrants = [Entrant(name, drive) for name, drive in drivers.items()]
    for entrant in harness.round_robin(entrants, repeat, budget):
        gc.collect()
        start = time.perf_counter()
        events = await entrant.drive(chunks)
        seconds = time.perf_counter() - start
        if events != expected:
            raise RuntimeError(f"{entrant.name}: {events} events, not {expected}")
        entrant.wall.append(seconds)
    return {e.name: (min(e.wall), len(e.wall)) for e in entrants}


def rerun_in_peer_venv() -> None:
    """Run this script again with the httpx-sse venv's python, if it has one."""
    python = harness.peer_python("httpx-sse")
    if python is None or Path(sys.executable) == python:
        sys.exit(
            "needs httpx and httpx-sse: pip install httpx httpx-sse, or build"
            " the venv with python benchmarks/setup_peers.py httpx-sse"
        )
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


async def run(args: argparse.Namespace) -> None:
    scale = 0.1 if args.quick else 1.0
    impls = [
        name for name in args.impl or IMPLS if name != "httpx2.EventSource+Response"
    ]
    if args.impl is None and importlib.util.find_spec("httpx2") is not None:
        impls.append("httpx2.EventSource+Response")
    drivers = {name: IMPLS[name][0]() for name in impls}
    load_before = harness.load_average()
    print(f"ours: {args.ours_desc}")
    print(f"best of <= {args.repeat} runs, each in the same asyncio loop")
    for name in impls:
        print(f"  {name:30} {IMPLS[name][1]}")
    print()
    header = f"{'workload':15} {'implementation':30} {'events/s':>11} {'MB/s':>7}"
    print(f"{header} {'runs':>4} {'x peer':>7}")
    for wname in args.workload or PARSE_WORKLOADS:
        workload = PARSE_WORKLOADS[wname]
        stream = workload.make(scale)
        chunks = cut(stream.data, workload.chunking)
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
    print("\n".join(harness.machine_lines(load_before)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="workloads ~10x smaller")
    parser.add_argument("--repeat", type=int, default=5, help="best of N (default 5)")
    parser.add_argument(
        "--budget", type=float, default=8.0, help="seconds of timed runs per row"
    )
    parser.add_argument("--workload", action="append", choices=PARSE_WORKLOADS)
    parser.add_argument("--impl", action="append", choices=IMPLS)
    args = parser.parse_args()
    if importlib.util.find_spec("httpx_sse") is None:
        rerun_in_peer_venv()
    with tempfile.TemporaryDirectory(prefix="sse-bench-") as tmp:
        ours_dir, args.ours_desc = harness.snapshot_ours(Path(tmp))
        harness.load_ours(ours_dir)
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
