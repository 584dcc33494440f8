"""End-to-end throughput over loopback HTTP: every way of reading a stream
with our sseclient, the peers, and a bare socket as the floor.

    python benchmarks/bench_e2e.py            # 300,000 events a workload (8-17 min)
    python benchmarks/bench_e2e.py --quick    # 30,000 events a workload (~1 min)

A server process on 127.0.0.1 sends a prepared body (``workloads.E2E_WORKLOADS``)
as fast as the socket takes it, chunk-encoded with one HTTP chunk per event
(as a server that flushes each event sends it) and in 64 KiB chunks.  Each
client reads it in a fresh process (``e2e_worker.py``, with the python of the
client's venv), consuming every event: the worker counts the events and
their data's characters, and both are checked.  The runs go round robin; the
table gives each client's best of ``--repeat`` (3).  See README.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
WORKER = BENCH_DIR / "e2e_worker.py"
sys.path.insert(0, str(BENCH_DIR))

import harness  # noqa: E402
from e2e_worker import CLIENTS  # noqa: E402
from harness import fmt_rate, print_table, ratio  # noqa: E402
from servers import Reply, Request, ThreadedServer  # noqa: E402
from workloads import E2E_WORKLOADS, Expected  # noqa: E402

#: How the server frames the body: name -> (Reply framing, chunk size).
FRAMINGS = {
    "event-chunks": ("chunked", 0),  # one HTTP chunk per event
    "chunked": ("chunked", 65536),
    "close": ("close", 0),
    "length": ("length", 0),
}
RAW = "raw.recv"
#: Ratios of one way of ours to another: (row, compared with).
PATHS = (
    ("ours.connect", "ours.requests"),
    ("ours.aconnect", "ours.async.httpx"),
    ("ours.aconnect.aiohttp", "ours.async.aiohttp"),
    ("ours.async.httpx", "ours.httpx"),
)


# ---------------------------------------------------------------------------
# The server (a process of its own: bench_e2e.py --serve FOLDER FRAMING)
# ---------------------------------------------------------------------------


def serve(folder: Path, framing: str) -> None:
    """Serve ``FOLDER/NAME.sse`` at ``/NAME``, framed as ``framing``, each
    response made once, ahead; the connection closes after it."""
    responses: dict[str, bytes] = {}
    how, chunk_size = FRAMINGS[framing]
    for path in sorted(folder.glob("*.sse")):
        reply = Reply(body=path.read_bytes(), framing=how, chunk_size=chunk_size)
        reply.headers += (("Cache-Control", "no-cache"),)
        responses["/" + path.stem] = reply.encode()

    def handler(request: Request) -> Reply:
        prepared = responses.get(request.path.split("?")[0])
        if prepared is None:
            return Reply(status=404, headers=(), framing="length")
        return Reply(prepared=prepared)

    with ThreadedServer(handler) as server:
        sizes = {name[1:]: len(data) for name, data in responses.items()}
        harness.serve_until_stdin_closes(server.port, sizes=sizes)


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------


@dataclass
class Result:
    workload: str
    framing: str
    client: str
    status: str = "ok"  # ok | n/a | unavailable | error | timeout
    detail: str = ""
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    chars: list[int] = field(default_factory=list)
    version: str = ""
    stopped: bool = False

    def best(self, clock: str) -> float | None:
        times = self.wall if clock == "wall" else self.cpu
        return min(times) if times else None


def client_python(name: str, args: argparse.Namespace) -> str | None:
    venv = CLIENTS[name].venv
    if venv is None:
        return args.ours_python
    python = harness.peer_python(venv)
    return None if python is None else str(python)


def run_once(
    result: Result,
    python: str,
    url: str,
    expected: Expected,
    wire_size: int,
    args: argparse.Namespace,
) -> None:
    """One timed run of one client, in a fresh process; recorded in ``result``."""
    cmd = [python, str(WORKER), "--client", result.client, "--url", url]
    cmd += ["--events", str(expected.events)]
    if args.ours_dir is not None:
        cmd += ["--ours-dir", str(args.ours_dir)]
    outcome = harness.run_worker(cmd, args.timeout)
    message = outcome.last("result")
    na = outcome.last("n/a")
    if na is not None:
        result.status, result.detail, result.stopped = "n/a", na["why"], True
        return
    if outcome.status != "ok" or message is None:
        if not result.wall:
            result.status = outcome.status if outcome.status != "ok" else "error"
        result.detail = outcome.detail or "no result"
        if outcome.last("error") and outcome.messages[-1].get("stage") == "import":
            result.status = "unavailable"
        result.stopped = True
        return
    result.wall.append(message["seconds"])
    result.cpu.append(message["cpu"])
    result.first.append(message["first"])
    result.counts.append(message["events"])
    result.chars.append(message["chars"])
    result.version = f"{message['version']} (python {message['python']})"
    if result.client == RAW:
        if message["chars"] != wire_size:
            result.detail = f"BYTES {message['chars']} != {wire_size}"
    elif message["events"] != expected.events or message["chars"] != expected.chars:
        result.detail = (
            f"WRONG: {message['events']} events / {message['chars']} chars,"
            f" not {expected.events} / {expected.chars}"
        )


def run_workload(
    name: str,
    framing: str,
    expected: Expected,
    server: harness.ServerProcess,
    args: argparse.Namespace,
) -> list[Result]:
    results = [Result(name, framing, client) for client in args.clients]
    pythons: dict[str, str] = {}
    for result in results:
        python = client_python(result.client, args)
        if python is None:
            result.status, result.stopped = "unavailable", True
            result.detail = "no venv (or outdated): see setup_peers.py"
        else:
            pythons[result.client] = python
    url = server.url(name)
    wire_size = server.info["sizes"][name]
    for result in harness.round_robin(results, args.repeat):
        run_once(result, pythons[result.client], url, expected, wire_size, args)
        best = result.best(args.clock)
        shown = f"{best:.3f}s" if best is not None else result.status
        print(
            f"  {result.client:24} run {len(result.wall)}: {shown:>9}  {result.detail}",
            file=sys.stderr,
            flush=True,
        )
    return results


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def is_ours(client: str) -> bool:
    return client.startswith("ours.")


def print_report(
    results: list[Result],
    expected: dict[str, Expected],
    args: argparse.Namespace,
) -> None:
    print()
    runs = f"; best of {args.repeat} runs by {args.clock} time"
    print("\n".join(harness.machine_lines(args.load_before, runs)))
    print(f"ours: {args.ours_desc}")
    print(
        "server and clients on 127.0.0.1; body framings: event-chunks = chunked,"
        " one HTTP chunk per event; chunked = 64 KiB chunks"
    )
    versions = {r.client: r.version for r in results if r.version}
    print("Clients:")
    for name in args.clients:
        version = versions.get(name, "-")
        print(f"  {name:22} {version:36} {CLIENTS[name].how}")
    print()
    print("Workloads:")
    for name, stream in expected.items():
        print(
            f"  {name:7} {stream.size / 1e6:7.2f} MB {stream.events:>8} events"
            f"  {E2E_WORKLOADS[name][0]}"
        )
    print()

    other = "wall" if args.clock == "cpu" else "cpu"
    headers = ["workload", "client", "MB/s", "events/s", "best s", f"{other} s"]
    headers += [f"MB/s {other}", "first ms", "runs", "x raw", "x best peer", "notes"]
    rows: list[list[str]] = []
    summary: list[list[str]] = []
    for (wname, framing), stream in [
        ((w, f), expected[w]) for f in args.framings for w in expected
    ]:
        wres = [r for r in results if r.workload == wname and r.framing == framing]
        label = f"{wname}/{framing}"
        rate = {
            r.client: stream.size / best
            for r in wres
            if (best := r.best(args.clock)) and not r.detail.startswith("WRONG")
        }
        peers = {c: v for c, v in rate.items() if c != RAW and not is_ours(c)}
        best_peer = max(peers, key=peers.__getitem__) if peers else None
        peer_rate = peers.get(best_peer) if best_peer else None
        for r in wres:
            best = r.best(args.clock)
            if best is None:
                rows.append([label, r.client, r.status, *[""] * 8, r.detail])
                continue
            alt = min(r.wall if other == "wall" else r.cpu)
            this = stream.size / best
            rows.append(
                [
                    label,
                    r.client,
                    fmt_rate(this / 1e6),
                    fmt_rate(stream.events / best),
                    f"{best:.3f}",
                    f"{alt:.3f}",
                    fmt_rate(stream.size / alt / 1e6) if alt else "-",
                    f"{min(r.first) * 1000:.1f}",
                    str(len(r.wall)),
                    ratio(this, rate.get(RAW), digits=3),
                    "" if r.client == RAW else ratio(this, peer_rate),
                    r.detail,
                ]
            )
        ours = {c: v for c, v in rate.items() if is_ours(c)}
        if ours and best_peer is not None:
            best_ours = max(ours, key=ours.__getitem__)
            summary.append(
                [
                    label,
                    f"{best_ours} / {best_peer}",
                    ratio(ours[best_ours], peer_rate, "x"),
                ]
            )
        for row, base in PATHS:
            if row in rate and base in rate:
                summary.append(
                    [label, f"{row} / {base}", ratio(rate[row], rate[base], "x")]
                )
        if RAW in rate:
            for name in ("ours.requests", "ours.connect"):
                if name in rate:
                    summary.append(
                        [
                            label,
                            f"{name} / {RAW}",
                            ratio(rate[name], rate[RAW], "x", digits=3),
                        ]
                    )

    print_table(headers, rows, right={2, 3, 4, 5, 6, 7, 8, 9, 10}, group=True)
    print()
    print(
        f"MB/s: 10^6 body bytes per second of the best run's {args.clock} time"
        " (cpu: the client process's user + system time), from making the"
        " client\nto the last event (the raw floor: to the server's close)."
        f"  {other} s, MB/s {other}: the best run by {other} time.  first ms:"
        " time to the first event\n(best run).  x raw: rate / the bare"
        " socket's.  x best peer: rate / the fastest peer's (a client whose"
        " events or data were WRONG is left out)."
    )
    print()
    print("Ratios:")
    if summary:
        print_table(["workload", "what", "ratio"], summary, right={2}, group=True)
    else:
        print("  (none)")


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="SSE end-to-end throughput over loopback HTTP: ours vs peers."
    )
    parser.add_argument("--quick", action="store_true", help="30,000 events each")
    parser.add_argument(
        "--events", type=int, help="events per workload (default 300,000)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of N (default 3)")
    parser.add_argument(
        "--clock",
        choices=["cpu", "wall"],
        default="cpu",
        help="rate runs by the client's CPU time (default: steadier when other"
        " processes share the CPUs; the server is ~10x faster than any client,"
        " so a client hardly waits for it) or by wall-clock time",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds one run may take before it is killed (default 120)",
    )
    parser.add_argument(
        "--framing",
        dest="framings",
        action="append",
        choices=list(FRAMINGS),
        help="how the server frames the body (repeatable; default: event-chunks"
        " and chunked): event-chunks = one HTTP chunk per event, chunked = 64 KiB"
        " chunks, close = no length, the server closes, length = Content-Length",
    )
    parser.add_argument(
        "--workload",
        dest="workloads",
        action="append",
        choices=list(E2E_WORKLOADS),
        help="run only this workload (repeatable)",
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
        help="python that runs ours and the raw floor, with requests, urllib3,"
        " httpx and aiohttp (default: this one if it has them, else a venv)",
    )
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    harness.add_common_options(parser)
    args = parser.parse_args()
    args.workloads = args.workloads or list(E2E_WORKLOADS)
    args.clients = args.clients or list(CLIENTS)
    args.framings = args.framings or ["event-chunks", "chunked"]
    if args.events is None:
        args.events = 30_000 if args.quick else 300_000
    return args


def main() -> int:
    args = parse_args()
    if args.serve:
        serve(Path(args.serve[0]), args.serve[1])
        return 0
    args.load_before = harness.load_average()
    started = time.monotonic()
    venvs = sorted({v for c in args.clients if (v := CLIENTS[c].venv)})
    if not args.no_setup:
        harness.ensure_peers(venvs)
    args.ours_python = harness.transports_python(args.ours_python, not args.no_setup)

    results: list[Result] = []
    expected: dict[str, Expected] = {}
    with tempfile.TemporaryDirectory(prefix="sse-e2e-") as tmp:
        args.ours_dir, args.ours_desc = harness.snapshot_ours(Path(tmp))
        print(f"ours: {args.ours_desc}", file=sys.stderr, flush=True)
        bodies = Path(tmp) / "bodies"
        bodies.mkdir()
        for name in args.workloads:
            stream = E2E_WORKLOADS[name][1](args.events)
            (bodies / f"{name}.sse").write_bytes(stream.data)
            expected[name] = stream.expected()
            del stream
        for framing in args.framings:
            cmd = [sys.executable, __file__, "--serve", str(bodies), framing]
            with harness.ServerProcess(cmd) as server:
                for name, stream in expected.items():
                    print(
                        f"[{name}/{framing}] {stream.size / 1e6:.2f} MB,"
                        f" {stream.events} events",
                        file=sys.stderr,
                        flush=True,
                    )
                    results += run_workload(name, framing, stream, server, args)
    print(f"total {time.monotonic() - started:.0f}s", file=sys.stderr)
    print_report(results, expected, args)
    if args.json:
        harness.write_json(
            args.json,
            results,
            ours=args.ours_desc,
            framings=args.framings,
            workloads={k: v.__dict__ for k, v in expected.items()},
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
