"""Soak benchmark: a reconnecting stream of a million events over loopback.

    python benchmarks/soak.py                  # 1,000,000 events, a drop every ~3000
    python benchmarks/soak.py --quick          # 100,000 events, a few seconds

A server process (``servers.ThreadedServer``) serves numbered events on
127.0.0.1, resuming after each request's ``Last-Event-ID``, and drops the
connection every few thousand events at a random point: between events,
mid-line, mid-event (the event's lines without its blank line), or right
after the headers; half the responses are chunked, half end by closing the
connection.  It sends ``retry: 1`` so that reconnections are quick.  This
process reads the stream with ``sseclient.connect`` and its default options,
checks each event's number, and samples its own resident memory as it goes.

It prints events/s, reconnections, lost and duplicated events (both must be
0: it exits with status 1 otherwise) and the memory samples, which must stay
flat: a stream that reconnects for ever must not grow.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import random
import sys
import tempfile
import time
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import harness  # noqa: E402
from servers import (  # noqa: E402
    Reply,
    Request,
    ThreadedServer,
    drop_point,
    numbered_events,
)

MIB = 1024 * 1024
KINDS = ("between-events", "mid-line", "mid-event", "after-headers")
WEIGHTS = (32, 32, 32, 4)


def serve(
    options: argparse.Namespace,
    port: Synchronized[int],
    requests: Synchronized[int],
    stop: object,
) -> None:
    """The server process: numbered events with random drops until the last
    one, then 204."""
    rng = random.Random(options.seed)
    padding = b" " + b"x" * max(0, options.data_size - 8)
    kinds: collections.Counter[str] = collections.Counter()

    def handler(request: Request) -> Reply:
        requests.value += 1
        first = request.last_event_id + 1
        if first > options.events:
            return Reply(status=204, headers=(), framing="length")
        framing = rng.choice(("chunked", "close"))
        per_connection = rng.randint(
            options.drop_every // 2, options.drop_every * 3 // 2
        )
        count = min(per_connection, options.events - first + 1)
        kind = rng.choices(KINDS, WEIGHTS)[0]
        if count < per_connection:  # the last events: send them all
            body, _ = numbered_events(first, count, padding=padding)
            return Reply(body=body, framing=framing)
        kinds[kind] += 1
        body, ends = numbered_events(first, count + 1, padding=padding)
        complete = 0 if kind == "after-headers" else count
        drop_at = drop_point(body, ends, complete, kind)
        return Reply(body=body, framing=framing, drop_at=drop_at)

    with ThreadedServer(handler) as server:
        port.value = server.port
        stop.wait()  # type: ignore[attr-defined]
        print("server: drops by kind:", dict(sorted(kinds.items())), flush=True)


def rss_mib() -> float:
    """This process's resident memory now (Linux), else its peak so far."""
    return harness.rss_now() / MIB


def peak_rss_mib() -> float:
    return harness.peak_rss() / MIB


def read(
    sseclient: ModuleType, url: str, total: int, samples: int
) -> dict[str, object]:
    """Read the stream to its end; count what arrived, lost and repeated."""
    sample_every = max(1, total // samples)
    expected = 1
    received = lost = duplicated = 0
    memory: list[float] = []
    start = time.perf_counter()
    with sseclient.connect(url) as stream:
        for event in stream:
            number = int(event.id)  # type: ignore[arg-type]
            received += 1
            if number == expected:
                expected += 1
            elif number < expected:
                duplicated += 1
            else:
                lost += number - expected
                expected = number + 1
            if received % sample_every == 1 or sample_every == 1:
                memory.append(rss_mib())
    elapsed = time.perf_counter() - start
    lost += total + 1 - expected
    return {
        "received": received,
        "lost": lost,
        "duplicated": duplicated,
        "elapsed": elapsed,
        "memory": memory,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--quick", action="store_true", help="100,000 events (as --events 100000)"
    )
    parser.add_argument(
        "--drop-every",
        type=int,
        default=3000,
        help="mean events per connection (each one takes 0.5x to 1.5x)",
    )
    parser.add_argument(
        "--data-size", type=int, default=40, help="bytes of data per event"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=10, help="memory samples")
    options = parser.parse_args()
    if options.quick:
        options.events = 100_000

    with tempfile.TemporaryDirectory(prefix="sse-soak-") as tmp:
        ours_dir, ours_desc = harness.snapshot_ours(Path(tmp))
        print(f"ours: {ours_desc}", flush=True)
        return soak(harness.load_ours(ours_dir), options)


def soak(sseclient: ModuleType, options: argparse.Namespace) -> int:
    """Serve, read, report; 1 if an event was lost or repeated."""

    context = multiprocessing.get_context("spawn")
    port = context.Value("i", 0)
    requests = context.Value("i", 0)
    stop = context.Event()
    server = context.Process(
        target=serve, args=(options, port, requests, stop), daemon=True
    )
    server.start()
    try:
        deadline = time.monotonic() + 30
        while port.value == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        if port.value == 0:
            print("the server did not start", file=sys.stderr)
            return 2
        result = read(
            sseclient,
            f"http://127.0.0.1:{port.value}/",
            options.events,
            options.samples,
        )
    finally:
        stop.set()
        server.join(10)

    print(
        f"soak: {options.events:,} events of {options.data_size} data bytes, a drop"
        f" every ~{options.drop_every:,} events (seed {options.seed}),"
        f" Python {sys.version.split()[0]}"
    )
    memory = result["memory"]
    assert isinstance(memory, list)
    received, elapsed = result["received"], result["elapsed"]
    assert isinstance(received, int) and isinstance(elapsed, float)
    rate = received / elapsed
    print(f"events received: {received:,} in {elapsed:.2f} s = {rate:,.0f}/s")
    print(f"reconnections: {requests.value - 1:,} (the last one answered 204)")
    print(f"lost: {result['lost']}, duplicated: {result['duplicated']}")
    print(
        "RSS MiB, at the first event and every"
        f" {max(1, options.events // options.samples):,} events: "
        + " ".join(f"{m:.1f}" for m in memory)
    )
    print(f"peak RSS: {peak_rss_mib():.1f} MiB")
    return 0 if result["lost"] == result["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
