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
import hashlib
import json
import os
import platform
import random
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
WORKER = BENCH_DIR / "parse_worker.py"
sys.path.insert(0, str(BENCH_DIR))

import parse_worker  # noqa: E402
import setup_peers  # noqa: E402

MIB = 1024 * 1024

# ---------------------------------------------------------------------------
# Workloads: deterministic bytes, with the expected event count and data size.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stream:
    """A generated event stream and what parsing it must give."""

    data: bytes
    events: int
    chars: int  # total len(event.data), in characters

    def expected(self) -> Expected:
        return Expected(len(self.data), self.events, self.chars)


@dataclass(frozen=True)
class Expected:
    """A stream's size and what parsing it must give (the bytes are on disk)."""

    size: int
    events: int
    chars: int


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    chunking: str  # parse_worker.chunk_sizes spec
    make: Callable[[float], Stream]  # scale (1.0 full, 0.1 quick) -> stream


TOKENS = [
    "Hello",
    " world",
    ",",
    " the",
    " quick",
    " brown",
    " fox",
    " jumps",
    ".",
    "\n",
    " naïve",
    " café",
    " 日本語",
    " 🙂",
    ' "quoted"',
    " back\\slash",
    " 42",
    "",
]


def llm_stream(events: int, seed: int) -> Stream:
    """OpenAI-style chat completion chunks: one small JSON ``data:`` line each."""
    rng = random.Random(seed)
    parts: list[str] = []
    chars = 0
    for i in range(events):
        delta = {"content": "".join(rng.choices(TOKENS, k=rng.randint(1, 3)))}
        payload = json.dumps(
            {"id": f"chatcmpl-{i // 500}", "choices": [{"delta": delta}]},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        chars += len(payload)
        parts.append(f"data: {payload}\n\n")
    return Stream("".join(parts).encode(), events, chars)


def make_llm(scale: float) -> Stream:
    return llm_stream(round(200_000 * scale), seed=1)


def make_fields(scale: float) -> Stream:
    rng = random.Random(2)
    symbols = ["AAPL", "GOOG", "MSFT", "NVDA", "TSLA", "AMZN"]
    parts: list[str] = []
    chars = 0
    events = round(100_000 * scale)
    for i in range(events):
        payload = json.dumps(
            {
                "seq": i,
                "symbol": rng.choice(symbols),
                "price": round(rng.uniform(10, 1000), 2),
                "qty": rng.randint(1, 5000),
                "side": rng.choice(["buy", "sell"]),
            },
            separators=(",", ":"),
        )
        chars += len(payload)
        parts.append(f"id: {i}\nevent: update\ndata: {payload}\n\n")
    return Stream("".join(parts).encode(), events, chars)


WORDS = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
]


def make_crlf_multiline(scale: float) -> Stream:
    rng = random.Random(3)
    parts: list[str] = []
    chars = 0
    events = round(50_000 * scale)
    for i in range(events):
        lines = [
            f"{i}.{j} " + " ".join(rng.choices(WORDS, k=rng.randint(2, 8)))
            for j in range(rng.randint(3, 5))
        ]
        chars += len("\n".join(lines))
        parts.extend(f"data: {line}\r\n" for line in lines)
        parts.append("\r\n")
    return Stream("".join(parts).encode(), events, chars)


def make_big(scale: float) -> Stream:
    size = round(32 * MIB * scale)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    payload = (alphabet * (size // len(alphabet) + 1))[:size]
    return Stream(b"data: " + payload + b"\n\n", 1, size)


def make_bytewise(scale: float) -> Stream:
    # llm events average ~70 bytes: about 2 MB at full scale.
    return llm_stream(round(29_000 * scale), seed=4)


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            "llm",
            "small JSON data: events (LLM token stream), 128-320 B chunks",
            "random:11:128:320",
            make_llm,
        ),
        Workload(
            "fields",
            "id:/event:/data: events, 4 KiB chunks",
            "fixed:4096",
            make_fields,
        ),
        Workload(
            "crlf_multiline",
            "3-5 data: lines per event, CRLF line ends, 4 KiB chunks",
            "fixed:4096",
            make_crlf_multiline,
        ),
        Workload(
            "big",
            "one single-line data: event (32 MiB full scale), 4 KiB chunks",
            "fixed:4096",
            make_big,
        ),
        Workload(
            "bytewise",
            "llm-style stream (~2 MB full scale), 1-byte chunks",
            "fixed:1",
            make_bytewise,
        ),
    )
}

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
    peer = setup_peers.PEERS[impl.venv]
    return peer.python if setup_peers.venv_ready(peer) else None


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE"):
        env.pop(name, None)
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONNOUSERSITE"] = "1"
    return env


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
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (see close())
        cmd = [str(python), str(WORKER), "--impl", impl, "--data", str(path)]
        cmd += ["--chunking", workload.chunking]
        if args.ours_dir is not None:
            cmd += ["--ours-dir", str(args.ours_dir)]
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=worker_env(),
            )
        except OSError:
            self._stderr.close()
            raise
        assert self._proc.stdout is not None
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._proc.stdout, selectors.EVENT_READ)
        self._pending = b""

    def command(self, line: str) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(line.encode() + b"\n")
            self._proc.stdin.flush()
        except BrokenPipeError:
            pass  # it died: receive() reports it

    def receive(self, timeout: float) -> str | None:
        """Read and record the next message; return its kind, "eof" if the
        worker exited, or None after ``timeout`` seconds of silence."""
        assert self._proc.stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._selector.select(remaining):
                return None
            data = os.read(self._proc.stdout.fileno(), 65536)
            if not data:
                return "eof"
            self._pending += data
        line, self._pending = self._pending.split(b"\n", 1)
        message = json.loads(line)
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
            self._stderr.seek(0)
            text = self._stderr.read().decode(errors="replace").strip()
            tail = " ".join(text.splitlines()[-1:])
            if not result.times:
                result.status = "error"
            result.detail = f"{doing}: worker exited {self._proc.poll()}: {tail}"
        self.close()

    def close(self) -> None:
        try:
            self._proc.wait(timeout=10 if self.result.finished else 0)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self.alive = False
        self.stopped = True
        self._selector.close()
        for stream in (self._proc.stdin, self._proc.stdout, self._stderr):
            if stream is not None:
                stream.close()


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

    for round_no in range(args.repeat):
        live = [w for w in workers if not w.stopped]
        if not live:
            break
        shift = round_no % len(live)
        for w in live[shift:] + live[:shift]:
            wall = w.result.wall
            if wall and sum(wall) + min(wall) > args.budget:
                w.stopped = True  # another run would go past the time budget
                continue
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


def fmt_rate(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value >= 1 else f"{value:.3f}"


def fmt_mib(n: int | None) -> str:
    return "-" if n is None else f"{n / MIB:.2f}"


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
    print(
        f"Python {platform.python_version()} ({sys.executable}), {platform.platform()}"
    )
    print(
        f"CPUs: {os.cpu_count()}; load average before/after: {args.load_before}"
        f" / {load_average()}; best of <= {args.repeat} runs by {args.clock} time"
    )
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


def print_table(
    headers: list[str], rows: list[list[str]], right: set[int], group: bool = False
) -> None:
    """Print rows in aligned columns; if ``group``, a blank line where column 0
    changes."""
    widths = [
        max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)
    ]

    def line(cells: list[str]) -> str:
        out = [
            c.rjust(widths[i]) if i in right else c.ljust(widths[i])
            for i, c in enumerate(cells)
        ]
        return "  ".join(out).rstrip()

    print(line(headers))
    print(line(["-" * w for w in widths]))
    previous = None
    for row in rows:
        if group and previous is not None and row[0] != previous:
            print()
        previous = row[0]
        print(line(row))


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


def snapshot_ours(tmp: Path) -> tuple[Path | None, str]:
    """Copy our sseclient.py into ``tmp``: the whole run measures that one
    version even if the file is edited meanwhile.  Returns the copy's folder
    (None if there is no sseclient.py) and a line saying which version it is."""
    module = REPO_DIR / "sseclient.py"
    if not module.exists():
        return None, f"{module} missing"
    source = module.read_bytes()
    folder = tmp / "ours"
    folder.mkdir()
    (folder / module.name).write_bytes(source)
    digest = hashlib.sha256(source).hexdigest()[:12]
    git = ["git", "-C", str(REPO_DIR)]
    try:
        commit = subprocess.run(
            [*git, "log", "-1", "--format=%h", "--", module.name],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "diff", "--quiet", "HEAD", "--", module.name],
            capture_output=True,
            timeout=10,
        ).returncode
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", 0
    state = f"as of commit {commit}" if commit else "not committed"
    if commit and dirty:
        state += " + uncommitted changes"
    return folder, f"{module} sha256:{digest} ({state}), copied at start"


def load_average() -> str:
    """The 1-minute load average: other work on the machine skews timings."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def main() -> int:
    args = parse_args()
    args.load_before = load_average()
    scale = 0.1 if args.quick else 1.0

    venvs = sorted({v for i in args.impls if (v := parse_worker.IMPLS[i].venv)})
    if not args.no_setup:
        setup_peers.ensure_peers(venvs)

    started = time.monotonic()
    results: list[Result] = []
    streams: dict[str, Expected] = {}
    with tempfile.TemporaryDirectory(prefix="sse-bench-") as tmp:
        args.ours_dir, args.ours_desc = snapshot_ours(Path(tmp))
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
        args.json.write_text(
            json.dumps([r.__dict__ for r in results], indent=1, default=str)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
