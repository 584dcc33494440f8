"""Fan-in: many concurrent event streams in one asyncio process.

    python benchmarks/bench_fanin.py              # N = 100, 1000, 2000 (~6 min)
    python benchmarks/bench_fanin.py --quick      # N = 100, 500, shorter windows
    python benchmarks/bench_fanin.py --n 5000     # other stream counts

One asyncio server process on 127.0.0.1 serves every stream: one small
event per stream every 100 ms (``--interval``), the streams' sends spread
evenly over the interval, each event's data starting with the server's
``time.monotonic_ns()`` at its write.  For each N, each client opens N
streams in one asyncio process of its own (``fanin_worker.py``) and reports
the time to connect them all, then events delivered per second, CPU time
per event, the resident memory per stream and the delivery lag (p50/p99)
over a measuring window.  The clients run one after another.  See README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
WORKER = BENCH_DIR / "fanin_worker.py"
sys.path.insert(0, str(BENCH_DIR))

import harness  # noqa: E402
from fanin_worker import CLIENTS  # noqa: E402
from harness import print_table  # noqa: E402

#: Sends per interval: stream i is written in slot i % SLOTS.
SLOTS = 20
PADDING = b"x" * 40

# ---------------------------------------------------------------------------
# The server (a process of its own: bench_fanin.py --serve INTERVAL)
# ---------------------------------------------------------------------------

HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
)


class _Stream(asyncio.Protocol):
    """One connection: read the request, then send events until it closes."""

    def __init__(self, server: _Server) -> None:
        self.server = server
        self.request = b""
        self.started = False
        self.seq = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.started:
            return
        self.request += data
        if b"\r\n\r\n" in self.request:
            self.started = True
            assert self.transport is not None
            self.transport.write(HEAD)
            self.server.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.remove(self)

    def send(self) -> None:
        self.seq += 1
        event = b"data: %d %d %s\n\n" % (time.monotonic_ns(), self.seq, PADDING)
        assert self.transport is not None
        self.transport.write(b"%x\r\n%s\r\n" % (len(event), event))


class _Server:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.slots: list[set[_Stream]] = [set() for _ in range(SLOTS)]
        self.count = 0
        self.where: dict[_Stream, int] = {}

    def add(self, stream: _Stream) -> None:
        slot = self.count % SLOTS
        self.count += 1
        self.slots[slot].add(stream)
        self.where[stream] = slot
        stream.send()  # the first event at once: the stream is connected

    def remove(self, stream: _Stream) -> None:
        slot = self.where.pop(stream, None)
        if slot is not None:
            self.slots[slot].discard(stream)

    async def tick(self) -> None:
        loop = asyncio.get_running_loop()
        step = self.interval / SLOTS
        due = loop.time()
        slot = 0
        while True:
            due += step
            await asyncio.sleep(max(0.0, due - loop.time()))
            for stream in list(self.slots[slot]):
                stream.send()
            slot = (slot + 1) % SLOTS


async def _serve(interval: float) -> None:
    loop = asyncio.get_running_loop()
    server = _Server(interval)
    listener = await loop.create_server(
        lambda: _Stream(server), "127.0.0.1", 0, backlog=4096
    )
    ticker = asyncio.create_task(server.tick())
    port = listener.sockets[0].getsockname()[1]
    await loop.run_in_executor(None, harness.serve_until_stdin_closes, port)
    ticker.cancel()
    listener.close()


def serve(interval: float) -> None:
    harness.raise_nofile(65536)
    asyncio.run(_serve(interval))


# ---------------------------------------------------------------------------
# Runs and report
# ---------------------------------------------------------------------------


@dataclass
class Result:
    n: int
    client: str
    status: str = "ok"  # ok | n/a | unavailable | error | timeout
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def run_one(
    client: str, n: int, server: harness.ServerProcess, args: argparse.Namespace
) -> Result:
    result = Result(n, client)
    venv = CLIENTS[client].venv
    python = args.ours_python if venv is None else harness.peer_python(venv)
    if python is None:
        result.status, result.detail = "unavailable", "no venv: see setup_peers.py"
        return result
    cmd = [str(python), str(WORKER), "--client", client, "--url", server.url()]
    cmd += ["--n", str(n), "--warmup", str(args.warmup)]
    cmd += ["--duration", str(args.duration)]
    cmd += ["--connect-timeout", str(args.connect_timeout)]
    cmd += ["--server-pid", str(server.pid)]
    if args.ours_dir is not None:
        cmd += ["--ours-dir", str(args.ours_dir)]
    # Generous: a loop that falls behind also wakes up late from its sleeps.
    timeout = args.connect_timeout + args.warmup + 3 * args.duration + 120
    outcome = harness.run_worker(cmd, timeout)
    message = outcome.last("result")
    na = outcome.last("n/a")
    if na is not None:
        result.status, result.detail = "n/a", na["why"]
    elif message is None:
        result.status = outcome.status if outcome.status != "ok" else "error"
        result.detail = outcome.detail or "no result"
    else:
        result.data = message
        if outcome.status != "ok":
            result.detail = outcome.detail
    return result


def row(result: Result, interval: float) -> list[str]:
    d = result.data
    if not d:
        return [str(result.n), result.client, result.status, *[""] * 9, result.detail]
    events = d["events"]
    # What the server sent the streams connected by the end of the window.
    sent = d.get("connected_end", d["connected"]) / interval
    rate = events / d["window_s"]
    notes = []
    if d["connected"] < result.n:
        notes.append(
            f"{d['connected']} of {result.n} connected in time,"
            f" {d.get('connected_end', '?')} by the window's end"
        )
    if d["errors"]:
        notes.append(f"{d['errors']} stream errors, first: {d['first_error']}")
    if result.detail:
        notes.append(result.detail)
    p50, p99, _ = d["lags_ns"]
    return [
        str(result.n),
        result.client,
        f"{d['connect_s']:.2f}",
        f"{rate:,.0f}",
        f"{rate / sent * 100:.0f}%" if sent else "-",
        f"{d['cpu_s'] / events * 1e6:.1f}" if events else "-",
        f"{d['cpu_s'] / d['window_s'] * 100:.0f}%",
        f"{(d['rss'] - d['rss_start']) / result.n / 1024:.1f}",
        f"{p50 / 1e6:.2f}" if events else "-",
        f"{p99 / 1e6:.2f}" if events else "-",
        f"{d['server_cpu_s'] / d['window_s'] * 100:.0f}%",
        d["version"],
        "; ".join(notes),
    ]


def print_report(results: list[Result], args: argparse.Namespace) -> None:
    print()
    print("\n".join(harness.machine_lines(args.load_before)))
    print(f"ours: {args.ours_desc}")
    print(
        f"server: one asyncio process on 127.0.0.1, chunked; every stream gets one"
        f" ~{len(PADDING) + 30}-byte event every {args.interval * 1000:g} ms"
    )
    print(
        f"per client and N: connect all (<= {args.connect_timeout:g} s), warm up"
        f" {args.warmup:g} s, measure {args.duration:g} s"
    )
    print("Clients (each in an asyncio process of its own):")
    for name in args.clients:
        print(f"  {name:24} {CLIENTS[name].how}")
    print()
    headers = ["N", "client", "connect s", "events/s", "of sent", "CPU us/ev"]
    headers += ["CPU", "KiB/stream", "lag p50 ms", "lag p99 ms", "server CPU"]
    headers += ["versions", "notes"]
    rows = [row(r, args.interval) for r in results]
    print_table(headers, rows, right=set(range(2, 11)), group=True)
    print()
    print(
        "connect s: from starting the N streams to each having its first event."
        "  events/s: delivered in the window;\nof sent: that / what the server"
        " sent the streams connected by the window's end (over 100 %: a backlog"
        " caught up).  CPU us/ev, CPU: the client process's CPU"
        " time (user + system) in the window,\nper event and as a share of one"
        " core.  KiB/stream: resident memory the streams added (after the"
        " libraries and a shared client),\nper stream.  lag: from the server's"
        " write to the event in the client's loop."
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="SSE fan-in: N concurrent streams in one asyncio process."
    )
    parser.add_argument(
        "--quick", action="store_true", help="N = 100, 500; 1 s warm-up, 3 s window"
    )
    parser.add_argument(
        "--n", type=int, action="append", help="stream count (repeatable)"
    )
    parser.add_argument(
        "--interval", type=float, default=0.1, help="seconds between a stream's events"
    )
    parser.add_argument("--warmup", type=float, help="seconds (default 2)")
    parser.add_argument("--duration", type=float, help="measuring window (10 s)")
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for every stream's first event (60); the window"
        " is measured with the streams connected by then",
    )
    parser.add_argument(
        "--client",
        dest="clients",
        action="append",
        choices=list(CLIENTS),
        help="run only this client (repeatable)",
    )
    parser.add_argument(
        "--ours-python",
        help="python with httpx and aiohttp for ours (default: this one if it"
        " has them, else a venv)",
    )
    parser.add_argument("--serve", type=float, help=argparse.SUPPRESS)
    harness.add_common_options(parser)
    args = parser.parse_args()
    args.clients = args.clients or list(CLIENTS)
    args.n = args.n or ([100, 500] if args.quick else [100, 1000, 2000])
    if args.warmup is None:
        args.warmup = 1.0 if args.quick else 2.0
    if args.duration is None:
        args.duration = 3.0 if args.quick else 10.0
    return args


def main() -> int:
    args = parse_args()
    if args.serve is not None:
        serve(args.serve)
        return 0
    args.load_before = harness.load_average()
    started = time.monotonic()
    venvs = sorted({v for c in args.clients if (v := CLIENTS[c].venv)})
    if not args.no_setup:
        harness.ensure_peers(venvs)
    args.ours_python = harness.transports_python(args.ours_python, not args.no_setup)
    harness.raise_nofile(65536)  # passed on to the workers

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="sse-fanin-") as tmp:
        args.ours_dir, args.ours_desc = harness.snapshot_ours(Path(tmp))
        print(f"ours: {args.ours_desc}", file=sys.stderr, flush=True)
        cmd = [sys.executable, __file__, "--serve", str(args.interval)]
        with harness.ServerProcess(cmd) as server:
            for n in args.n:
                for client in args.clients:
                    result = run_one(client, n, server, args)
                    results.append(result)
                    line = row(result, args.interval)
                    print(
                        f"  N={n:<5} {client:24} {'  '.join(line[2:11])}  {line[-1]}",
                        file=sys.stderr,
                        flush=True,
                    )
                    time.sleep(1)  # the server drops the closed streams
    print(f"total {time.monotonic() - started:.0f}s", file=sys.stderr)
    print_report(results, args)
    if args.json:
        harness.write_json(
            args.json, results, ours=args.ours_desc, interval=args.interval
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
