"""Fan-in worker: N concurrent event streams in one asyncio process.

Run by ``bench_fanin.py``, one process per (client, N), with the python of
the client's venv.  It opens N streams of the server at once, waits until
each has delivered its first event (the time to connect all), lets them run
``--warmup`` seconds, then measures for ``--duration`` seconds: events
delivered, the process's CPU time, the delay from the server's write of
each event (its data starts with the server's ``time.monotonic_ns()``, one
clock for every process on Linux and macOS) to the event reaching the
code, and the resident memory that the streams added.  One JSON line on
stdout::

    {"kind": "result", "connected": ..., "connect_s": ..., "events": ...,
     "window_s": ..., "cpu_s": ..., "lags_ns": [p50, p99, max], ...}
    {"kind": "n/a", "why": ...}
    {"kind": "error", "stage": ..., "error": ...}
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness


class NotSupported(Exception):
    """The client cannot run here (an API this sseclient.py lacks)."""


@dataclass(frozen=True)
class Client:
    name: str
    venv: str | None  # peer venv; None: ours
    dists: tuple[str, ...]
    how: str


CLIENTS: dict[str, Client] = {
    c.name: c
    for c in (
        Client(
            "aconnect.httpx",
            None,
            ("httpx",),
            "aconnect(url, client=<one shared httpx.AsyncClient>)",
        ),
        Client(
            "aconnect",
            None,
            ("httpx",),
            "aconnect(url): no client=, so an httpx.AsyncClient per stream",
        ),
        Client(
            "aconnect.aiohttp",
            None,
            ("aiohttp",),
            "aconnect(url, client=<one shared aiohttp.ClientSession>)",
        ),
        Client(
            "AsyncSSEClient.aiohttp",
            None,
            ("aiohttp",),
            "AsyncSSEClient(await session.get(url)), one shared ClientSession",
        ),
        Client(
            "AsyncSSEClient.httpx",
            None,
            ("httpx",),
            'AsyncSSEClient(client.stream("GET", url)), one shared AsyncClient',
        ),
        Client(
            "httpx-sse",
            "httpx-sse",
            ("httpx-sse", "httpx"),
            'aconnect_sse(client, "GET", url).aiter_sse(), one shared AsyncClient',
        ),
    )
}

#: A client's streams: given the shared resources, open stream number i and
#: return its events.
Opener = Callable[[AsyncExitStack, str], Awaitable[AsyncIterator[Any]]]


@dataclass
class Tally:
    """What the streams delivered; counted only while ``measuring``."""

    n: int
    connected: int = 0
    all_connected: asyncio.Event = field(default_factory=asyncio.Event)
    measuring: bool = False
    events: int = 0
    lags: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def _read(open_stream: Opener, url: str, tally: Tally) -> None:
    clock = time.monotonic_ns
    async with AsyncExitStack() as stack:
        try:
            events = await open_stream(stack, url)
            first = True
            async for event in events:
                if first:
                    first = False
                    tally.connected += 1
                    if tally.connected == tally.n:
                        tally.all_connected.set()
                if tally.measuring:
                    tally.events += 1
                    tally.lags.append(clock() - int(event.data.partition(" ")[0]))
        except asyncio.CancelledError:
            raise
        except (TypeError, AttributeError, NotImplementedError) as exc:
            tally.errors.append(f"{type(exc).__name__}: {exc}")
            raise NotSupported(tally.errors[-1]) from exc
        except Exception as exc:
            tally.errors.append(f"{type(exc).__name__}: {exc}")


async def _opener(name: str, sseclient: Any, shared: AsyncExitStack) -> Opener:
    """The way ``name`` opens a stream; shared clients go on ``shared``."""
    if name in ("aconnect.httpx", "AsyncSSEClient.httpx", "httpx-sse"):
        import httpx

        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        timeout = httpx.Timeout(60.0)
        client = await shared.enter_async_context(
            httpx.AsyncClient(limits=limits, timeout=timeout)
        )
    if name in ("aconnect.aiohttp", "AsyncSSEClient.aiohttp"):
        import aiohttp

        session = await shared.enter_async_context(
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                timeout=aiohttp.ClientTimeout(total=None, sock_read=60),
            )
        )

    if name == "aconnect.httpx":

        async def open_stream(stack: AsyncExitStack, url: str) -> Any:
            return await stack.enter_async_context(
                sseclient.aconnect(url, client=client)
            )

    elif name == "aconnect":
        # aconnect imports it at the first stream: here, before any is timed.
        import httpx

        async def open_stream(stack: AsyncExitStack, url: str) -> Any:
            return await stack.enter_async_context(sseclient.aconnect(url))

    elif name == "aconnect.aiohttp":

        async def open_stream(stack: AsyncExitStack, url: str) -> Any:
            source = sseclient.aconnect(url, client=session)
            return await stack.enter_async_context(source)

    elif name == "AsyncSSEClient.aiohttp":

        async def open_stream(stack: AsyncExitStack, url: str) -> Any:
            response = await stack.enter_async_context(session.get(url))
            return sseclient.AsyncSSEClient(response)

    elif name == "AsyncSSEClient.httpx":

        async def open_stream(stack: AsyncExitStack, url: str) -> Any:
            response = await stack.enter_async_context(client.stream("GET", url))
            return sseclient.AsyncSSEClient(response)

    elif name == "httpx-sse":
        from httpx_sse import aconnect_sse

        async def open_stream(stack: AsyncExitStack, url: str) -> Any:
            source = await stack.enter_async_context(aconnect_sse(client, "GET", url))
            return source.aiter_sse()

    else:
        raise ValueError(name)
    return open_stream


async def _probe(open_stream: Opener, url: str) -> None:
    """One stream to its first event: raises NotSupported if the client
    cannot run here."""
    tally = Tally(1)
    task = asyncio.create_task(_read(open_stream, url, tally))
    waiter = asyncio.create_task(tally.all_connected.wait())
    await asyncio.wait([task, waiter], timeout=30, return_when="FIRST_COMPLETED")
    for t in (task, waiter):
        t.cancel()
    results = await asyncio.gather(task, waiter, return_exceptions=True)
    for result in results:
        if isinstance(result, NotSupported):
            raise result
    if not tally.connected:
        raise RuntimeError(f"no first event in 30 s: {tally.errors[-1:]}")


def _log(text: str) -> None:
    """Progress on stderr: the parent shows the last line if it kills us."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


async def run(args: argparse.Namespace) -> None:
    """Open the streams, measure, send the result; then end the streams."""
    sseclient = None if CLIENTS[args.client].venv else harness.load_ours(args.ours_dir)
    async with AsyncExitStack() as shared:
        open_stream = await _opener(args.client, sseclient, shared)
        await _probe(open_stream, args.url)
        _log("one stream delivered; opening the others")
        # What the streams add: the libraries and a shared client are in.
        rss_start = harness.rss_now()
        tally = Tally(args.n)
        start = time.perf_counter()
        tasks = [
            asyncio.create_task(_read(open_stream, args.url, tally))
            for _ in range(args.n)
        ]
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(tally.all_connected.wait(), args.connect_timeout)
        connect_s = time.perf_counter() - start
        connected = tally.connected
        _log(f"{connected} of {args.n} streams delivered in {connect_s:.1f} s")
        await asyncio.sleep(args.warmup)

        server_cpu = harness.process_cpu_seconds(args.server_pid)
        cpu = time.process_time()
        window = time.perf_counter()
        tally.measuring = True
        _log("measuring")
        await asyncio.sleep(args.duration)
        tally.measuring = False
        _log(f"measured {tally.events} events")
        window = time.perf_counter() - window
        cpu = time.process_time() - cpu
        server_cpu = harness.process_cpu_seconds(args.server_pid) - server_cpu
        rss = harness.rss_now()
        lags = tally.lags
        result = {
            "kind": "result",
            "connected": connected,
            "connected_end": tally.connected,
            "connect_s": connect_s,
            "events": tally.events,
            "window_s": window,
            "cpu_s": cpu,
            "server_cpu_s": server_cpu,
            "rss_start": rss_start,
            "rss": rss,
            "lags_ns": [harness.percentile(lags, q) for q in (50, 99, 100)],
            "errors": len(tally.errors),
            "first_error": tally.errors[0] if tally.errors else "",
            "version": " ".join(
                harness.dist_version(d) for d in CLIENTS[args.client].dists
            ),
            "python": platform.python_version(),
        }
        harness.send_message(**result)
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description="N streams in one asyncio loop")
    parser.add_argument("--client", required=True, choices=sorted(CLIENTS))
    parser.add_argument("--url", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connect-timeout", type=float, default=120.0)
    parser.add_argument("--server-pid", type=int, default=0)
    parser.add_argument("--ours-dir")
    args = parser.parse_args()
    harness.raise_nofile(args.n * 2 + 256)
    try:
        asyncio.run(run(args))
    except NotSupported as exc:
        harness.send_message(kind="n/a", why=str(exc))
    except Exception as exc:
        traceback.print_exc()
        harness.send_message(kind="error", stage="run", error=repr(exc))
    sys.stdout.flush()
    sys.stderr.flush()
    # What is left to close is not measured: exit at once.
    os._exit(0)


if __name__ == "__main__":
    main()
