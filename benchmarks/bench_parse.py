"""Parse-throughput benchmark: our sseclient against its peers, one command.

    python benchmarks/bench_parse.py            # full run (~6-8 min on 2 cores)
    python benchmarks/bench_parse.py --quick    # workloads ~10x smaller

It creates the peers' venvs if they are missing (``setup_peers.py``), writes each
workload's bytes once to a temporary file, and for every (workload,
implementation) starts ``parse_worker.py`` with that implementation's python.  The
worker cuts the file into chunks in memory, times the parse best-of-N, checks
the event count, and measures peak memory.  See README.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
WORKER = BENCH_DIR / "parse_worker.py"
sys.path.insert(0, str(BENCH_DIR))

import harness  # noqa: E402
import parse_worker  # noqa: E402
from harness import fmt_mib, fmt_rate, load_average, print_table  # noqa: E402
from workloads import PARSE_WORKLOADS as WORKLOADS  # noqa: E402
from workloads import Expected, Workload  # noqa: E402

# ---------------------------------------------------------------------------
# Running the workers
# ---------------------------------------------------------------------------


@dataclass
class Result:
    workload: str
    impl: str
    status: str = "ok"  # ok | timeout | unavailable | error
    detail: str = ""
    times: list[float] = field(default_factory=list)  # per --clock
    wall: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    rss: dict[str, int] | None = None
    check: dict[str, Any] | None = None
    finished: bool = False

    @property
    def best(self) -> float | None:
        return min(self.times) if self.times else None


def impl_python(impl: parse_worker.Impl, ours_python: str) -> Path | None:
    """The python that runs ``impl``, or None if its venv is unusable."""
    if impl.venv is None:
        return Path(ours_python)
    return harness.peer_python(impl.venv)


class Worker:
    """One ``parse_worker.py`` process: one implementation on one workload."""

    def __init__(
        self,
        python: Path,
        impl: str,
        workload: Workload,
        path: Path,
        args: argparse.Namespace,
    ) -> None:
        self.result = Result(workload.name, impl)
        self.clock_key = "cpu" if args.clock == "cpu" else "seconds"
        self.stopped = False  # no more timed runs
        self.alive = True
        cmd = [str(python), str(WORKER), "--impl", impl, "--data", str(path)]
        cmd += ["--chunking", workload.chunking]
        if args.ours_dir is not None:
            cmd += ["--ours-dir", str(args.ours_dir)]
        self._process = harness.JsonWorker(cmd)

    @property
    def wall(self) -> list[float]:
        return self.result.wall

    def command(self, line: str) -> None:
        self._process.send(line)

    def receive(self, timeout: float) -> str | None:
        """Read and record the next message; return its kind, "eof" if the
        worker exited, or None after ``timeout`` seconds of silence."""
        message = self._process.receive(timeout)
        if not isinstance(message, dict):
            return message
        kind: str = message.pop("kind")
        result = self.result
        if kind == "ready":
            result.info = message
        elif kind == "rep":
            result.wall.append(message["seconds"])
            result.times.append(message[self.clock_key])
            result.counts.append(message["events"])
        elif kind == "rss":
            result.rss = message
        elif kind == "check":
            result.check = message
        elif kind == "done":
            result.finished = True
        elif kind == "error":
            stage = message["stage"]
            result.status = "unavailable" if stage == "import" else "error"
            result.detail = f"{stage}: {message['error']}"
        return kind

    def fail(self, kind: str | None, doing: str, timeout: float) -> None:
        """Record why the worker stopped answering, and end it."""
        result = self.result
        if kind is None:
            silent = f"killed after {timeout:.0f}s"
            if not result.times:
                result.status = "timeout"
                result.detail = f"{doing} {silent}"
            else:
                result.detail = f"{doing} {silent} (after {len(result.times)} runs)"
        elif kind == "eof" and result.status == "ok":
            tail = self._process.stderr_tail()
            if not result.times:
                result.status = "error"
            code = self._process.proc.poll()
            result.detail = f"{doing}: worker exited {code}: {tail}"
        self.close()

    def close(self) -> None:
        self._process.close(wait=10 if self.result.finished else 0)
        self.alive = False
        self.stopped = True


def run_workload(
    workload: Workload, path: Path, args: argparse.Namespace
) -> list[Result]:
    """Run every implementation on one workload file, their timed runs
    interleaved (round robin) so that all see the same machine conditions."""
    results: list[Result] = []
    workers: list[Worker] = []
    for name in args.impls:
        impl = parse_worker.IMPLS[name]
        if impl.venv is None and args.ours_dir is None:
            results.append(
                Result(workload.name, name, "unavailable", "no sseclient.py")
            )
            continue
        python = impl_python(impl, args.ours_python)
        if python is None:
            why = "no venv (or outdated): see setup_peers.py"
            results.append(Result(workload.name, name, "unavailable", why))
            continue
        try:
            worker = Worker(python, name, workload, path, args)
        except OSError as exc:
            results.append(Result(workload.name, name, "unavailable", str(exc)))
            continue
        workers.append(worker)
        results.append(worker.result)

    for w in workers:  # loading the input is not timed: allow it extra time
        kind = w.receive(args.timeout + 30)
        if kind != "ready":
            w.fail(kind, "start", args.timeout + 30)

    # A worker stops once another run would go past the time budget.
    for w in harness.round_robin(workers, args.repeat, args.budget):
        w.command("rep")
        kind = w.receive(args.timeout)
        if kind != "rep":
            w.fail(kind, "run", args.timeout)

    for w in workers:
        if not w.alive:
            continue
        best_wall = min(w.result.wall)
        mode = ""
        if best_wall <= args.trace_limit:
            mode = "traced"
        elif best_wall <= args.check_limit:
            mode = "plain"
        w.command(f"finish {mode}")
        reply: str | None = ""
        while reply not in ("done", "error"):
            reply = w.receive(args.timeout)
            if reply is None or reply == "eof":
                w.fail(reply, "check run", args.timeout)
                break
        w.close()
    return results


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def is_ours(impl: str) -> bool:
    return parse_worker.IMPLS[impl].venv is None


def marks(result: Result, stream: Expected) -> str:
    notes: list[str] = []
    wrong = sorted({n for n in result.counts if n != stream.events})
    if wrong:
        notes.append(f"COUNT {'/'.join(map(str, wrong))} != {stream.events}")
    if result.check is not None:
        if result.check["chars"] != stream.chars:
            notes.append(f"DATA {result.check['chars']} != {stream.chars} chars")
    elif result.status == "ok" and not result.detail:
        notes.append("data unchecked (slow)")
    if result.detail:
        notes.append(result.detail)
    return "; ".join(notes)


def print_report(
    results: list[Result],
    streams: dict[str, Expected],
    args: argparse.Namespace,
) -> None:
    print()
    runs = f"; best of <= {args.repeat} runs by {args.clock} time"
    print("\n".join(harness.machine_lines(args.load_before, runs)))
    versions: dict[str, str] = {}
    for r in results:
        if r.info and r.impl not in versions:
            versions[r.impl] = f"{r.info['version']} (python {r.info['python']})"
    print(f"ours: {args.ours_desc}")
    print("Implementations:")
    for name, impl in parse_worker.IMPLS.items():
        if name in args.impls:
            version = versions.get(name, "UNAVAILABLE")
            print(f"  {name:26} {version:24} {impl.how}")
    print()
    print("Workloads:")
    for name, stream in streams.items():
        w = WORKLOADS[name]
        print(
            f"  {name:15} {stream.size / 1e6:7.2f} MB {stream.events:>8} events"
            f"  {w.chunking:18} {w.description}"
        )
    print()

    headers = [
        "workload",
        "implementation",
        "events/s",
        "MB/s",
        "best s",
        "wall s",
        "runs",
        "peak MiB",
        "RSS+ MiB",
        "x best peer",
        "notes",
    ]
    rows: list[list[str]] = []
    summary: list[list[str]] = []
    for wname, stream in streams.items():
        size = stream.size
        wres = [r for r in results if r.workload == wname]
        rate = {r.impl: stream.events / r.best for r in wres if r.best}
        peers = {i: v for i, v in rate.items() if not is_ours(i)}
        ours = {i: v for i, v in rate.items() if is_ours(i)}
        best_peer = max(peers, key=peers.__getitem__) if peers else None
        # Without any finished peer, the timeout bounds the best peer's rate.
        peer_bound = stream.events / args.timeout
        for r in wres:
            rss = r.rss["peak_rss"] - r.rss["load_rss"] if r.rss else None
            if r.best is None:
                status = {"timeout": f">{args.timeout:.0f}s"}.get(r.status, r.status)
                rows.append([wname, r.impl, status, *[""] * 7, marks(r, stream)])
                continue
            if best_peer is not None:
                ratio = f"{rate[r.impl] / peers[best_peer]:.2f}"
            else:
                ratio = f">{rate[r.impl] / peer_bound:.1f}"
            rows.append(
                [
                    wname,
                    r.impl,
                    fmt_rate(rate[r.impl]),
                    fmt_rate(size / r.best / 1e6),
                    f"{r.best:.3f}",
                    f"{min(r.wall):.3f}",
                    str(len(r.times)),
                    fmt_mib(r.check["trace_peak"] if r.check else None),
                    fmt_mib(rss),
                    ratio,
                    marks(r, stream),
                ]
            )
        if ours:
            best_ours = max(ours, key=ours.__getitem__)
            if best_peer is not None:
                ratio = f"{ours[best_ours] / peers[best_peer]:.2f}x"
                peer_text = best_peer
            else:
                ratio = f">{ours[best_ours] / peer_bound:.1f}x"
                peer_text = f"(none within {args.timeout:.0f}s)"
            summary.append([wname, best_ours, peer_text, ratio])

    print_table(headers, rows, right={2, 3, 4, 5, 6, 7, 8, 9}, group=True)
    print()
    print(
        f"Rates from the best run's {args.clock} time (best s); wall s: best"
        " wall-clock time.  MB/s: 10^6 input bytes/s.\npeak MiB: tracemalloc peak"
        " of one untimed parse.  RSS+ MiB: growth of the worker's peak RSS over"
        " the loaded input.\nx best peer: rate / the fastest peer's rate."
    )
    print()
    print("ours / best peer (best variant of ours vs the fastest peer):")
    if summary:
        print_table(["workload", "ours", "best peer", "ratio"], summary, right={3})
    else:
        print("  (no result for ours)")


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="SSE parse-throughput benchmark: ours vs peers."
    )
    parser.add_argument("--quick", action="store_true", help="workloads ~10x smaller")
    parser.add_argument("--repeat", type=int, default=5, help="best of N (default 5)")
    parser.add_argument(
        "--budget",
        type=float,
        default=8.0,
        help="stop repeating once a worker's timed runs reach ~this many seconds",
    )
    parser.add_argument(
        "--clock",
        choices=["cpu", "wall"],
        default="cpu",
        help="rate runs by the worker's CPU time (default: steadier when other"
        " processes share the CPUs) or by wall-clock time",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds a single run may take before it is killed (default 60)",
    )
    parser.add_argument(
        "--check-limit",
        type=float,
        default=10.0,
        help="skip the data check run if the best timed run took longer (10)",
    )
    parser.add_argument(
        "--trace-limit",
        type=float,
        default=2.5,
        help="check without tracemalloc if the best timed run took longer (2.5)",
    )
    parser.add_argument(
        "--workload",
        dest="workloads",
        action="append",
        choices=list(WORKLOADS),
        help="run only this workload (repeatable)",
    )
    parser.add_argument(
        "--impl",
        dest="impls",
        action="append",
        choices=list(parse_worker.IMPLS),
        help="run only this implementation (repeatable)",
    )
    parser.add_argument(
        "--ours-python",
        default=sys.executable,
        help="python that runs our sseclient.py (default: this one)",
    )
    parser.add_argument(
        "--no-setup", action="store_true", help="do not create missing peer venvs"
    )
    parser.add_argument("--json", type=Path, help="also write raw results here")
    args = parser.parse_args()
    args.workloads = args.workloads or list(WORKLOADS)
    args.impls = args.impls or list(parse_worker.IMPLS)
    return args


def main() -> int:
    args = parse_args()
    args.load_before = load_average()
    scale = 0.1 if args.quick else 1.0

    venvs = sorted({v for i in args.impls if (v := parse_worker.IMPLS[i].venv)})
    if not args.no_setup:
        harness.ensure_peers(venvs)

    started = time.monotonic()
    results: list[Result] = []
    streams: dict[str, Expected] = {}
    with tempfile.TemporaryDirectory(prefix="sse-bench-") as tmp:
        args.ours_dir, args.ours_desc = harness.snapshot_ours(Path(tmp))
        print(f"ours: {args.ours_desc}", file=sys.stderr, flush=True)
        for wname in args.workloads:
            workload = WORKLOADS[wname]
            path = Path(tmp) / f"{wname}.sse"
            generated = workload.make(scale)
            path.write_bytes(generated.data)
            # Keep only the figures: the bytes would swell this process.
            stream = streams[wname] = generated.expected()
            del generated
            print(
                f"[{wname}] {stream.size / 1e6:.2f} MB, {stream.events} events",
                file=sys.stderr,
                flush=True,
            )
            for result in run_workload(workload, path, args):
                results.append(result)
                best = f"{result.best:.3f}s" if result.best else result.status
                print(
                    f"  {result.impl:26} {best:>10}  {marks(result, stream)}",
                    file=sys.stderr,
                    flush=True,
                )
            path.unlink()
    print(f"total {time.monotonic() - started:.0f}s", file=sys.stderr)

    print_report(results, streams, args)
    if args.json:
        harness.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
