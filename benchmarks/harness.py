"""The parts every benchmark here shares.

* **Peers' venvs**: one virtualenv per peer library under ``benchmarks/.venvs``,
  built with pip on first use (`ensure_peers`) and found by name
  (`peer_python`).  ``setup_peers.py`` is the command line for them.
* **Ours**: `snapshot_ours` copies the repository's ``sseclient.py`` into a
  temporary folder when a run starts and says which version it is (sha256,
  commit); `load_ours` imports that copy in a worker and checks that it did.
* **Processes**: `worker_env` (a clean environment), `JsonWorker` (a worker
  process that answers in JSON lines, read with a timeout), `run_worker`
  (run one to its end, killed after a timeout) and `ServerProcess` (a
  server on 127.0.0.1 that prints its port).
* **Timing**: `round_robin` orders best-of-N runs, the entrants taking turns.
* **Machine**: `load_average`, `machine_lines`, `peak_rss`, `rss_now`,
  `raise_nofile`.
* **Report**: `print_table`, `fmt_rate`, `fmt_mib`, `ratio`, `percentile`,
  `write_json`.

Standard library only: the workers import it too, with whatever python they
run on (a peer's venv included).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import resource
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, TypeVar

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
VENVS_DIR = BENCH_DIR / ".venvs"
MIB = 1024 * 1024

# ---------------------------------------------------------------------------
# Peers' venvs
# ---------------------------------------------------------------------------

SPEC_STAMP = ".bench-spec"
FAILED_STAMP = ".bench-failed"


@dataclass(frozen=True)
class Peer:
    """A venv under ``.venvs``: its name and the pip requirements it holds."""

    venv: str
    requirements: tuple[str, ...]

    @property
    def path(self) -> Path:
        return VENVS_DIR / self.venv

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def spec(self) -> str:
        return " ".join(self.requirements)


PEERS: dict[str, Peer] = {
    peer.venv: peer
    for peer in (
        # Module name ``sseclient``: clashes with ours, hence separate venvs.
        # requests: latency.py and bench_e2e.py drive sseclient-py as its
        # README shows, over a requests response.
        Peer("sseclient-py", ("sseclient-py==1.9.0", "requests")),
        # httpx-sse does not declare its httpx dependency.
        Peer("httpx-sse", ("httpx-sse>=0.4,<0.5", "httpx")),
        Peer("launchdarkly-eventsource", ("launchdarkly-eventsource>=1,<2",)),
        # The old ``sseclient`` (btubbs) package, also module ``sseclient``.
        Peer("sseclient-0.0.27", ("sseclient==0.0.27",)),
        # Not a peer: the HTTP libraries our sseclient.py is driven over in
        # bench_e2e.py and bench_fanin.py, for a python that lacks them.
        Peer("transports", ("requests", "urllib3", "httpx", "aiohttp")),
    )
}

#: What bench_e2e.py and bench_fanin.py import to drive our sseclient.py.
TRANSPORT_MODULES = ("requests", "urllib3", "httpx", "aiohttp")


def venv_ready(peer: Peer) -> bool:
    """True if the peer's venv exists and was built for its current spec."""
    stamp = peer.path / SPEC_STAMP
    return (
        peer.python.exists()
        and stamp.exists()
        and stamp.read_text().strip() == peer.spec
    )


def venv_failed(peer: Peer) -> bool:
    """True if the last attempt to build this peer's venv failed."""
    return (peer.path / FAILED_STAMP).exists()


def build_venv(peer: Peer, base_python: str, log: bool = True) -> bool:
    """(Re)create the venv of ``peer`` and pip-install it; True on success."""
    if peer.path.exists():
        shutil.rmtree(peer.path)
    peer.path.parent.mkdir(parents=True, exist_ok=True)
    if log:
        print(
            f"[setup] {peer.venv}: creating venv, pip install {peer.spec}", flush=True
        )
    steps = [
        [base_python, "-m", "venv", str(peer.path)],
        [
            str(peer.python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            *peer.requirements,
        ],
    ]
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            peer.path.mkdir(parents=True, exist_ok=True)
            (peer.path / FAILED_STAMP).write_text(
                f"$ {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
            )
            if log:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
                print(f"[setup] {peer.venv}: FAILED: {' | '.join(tail)}", flush=True)
            return False
    (peer.path / SPEC_STAMP).write_text(peer.spec + "\n")
    return True


def ensure_peers(
    names: Sequence[str] | None = None,
    force: bool = False,
    retry_failed: bool = False,
    base_python: str = sys.executable,
) -> dict[str, bool]:
    """Make sure the venvs of ``names`` (default: all peers) exist.

    Returns ``{venv name: usable}``.  A venv that failed before is not retried
    unless ``retry_failed`` (or ``force``) is set.
    """
    result: dict[str, bool] = {}
    for name in names or list(PEERS):
        peer = PEERS[name]
        if not force and venv_ready(peer):
            result[name] = True
        elif not force and not retry_failed and venv_failed(peer):
            result[name] = False
        else:
            result[name] = build_venv(peer, base_python)
    return result


def peer_python(name: str) -> Path | None:
    """The python of the venv ``name``, or None if it is missing or outdated."""
    peer = PEERS[name]
    return peer.python if venv_ready(peer) else None


def has_modules(python: str, modules: Sequence[str]) -> bool:
    """Whether ``python`` can import every one of ``modules``."""
    code = "import importlib.util, sys; sys.exit(not all(importlib.util.find_spec(m)"
    code += f" for m in {list(modules)!r}))"
    try:
        return subprocess.run([python, "-c", code], timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def transports_python(requested: str | None, setup: bool) -> str | None:
    """The python that drives our sseclient.py over the HTTP libraries:
    ``requested`` if given, else this one if it has them all, else the
    ``transports`` venv (built now unless ``setup`` is false)."""
    if requested is not None:
        return requested
    if has_modules(sys.executable, TRANSPORT_MODULES):
        return sys.executable
    if setup:
        ensure_peers(["transports"])
    python = peer_python("transports")
    return None if python is None else str(python)


# ---------------------------------------------------------------------------
# Ours
# ---------------------------------------------------------------------------


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


def load_ours(ours_dir: str | Path | None) -> ModuleType:
    """Import our sseclient from ``ours_dir`` (the snapshot) in a worker, and
    make sure that is the one imported."""
    if ours_dir is None:
        raise RuntimeError("no folder given for our sseclient.py")
    folder = Path(ours_dir).resolve()
    sys.path.insert(0, str(folder))
    import sseclient

    origin = Path(sseclient.__file__ or "?").resolve()
    if origin.parent != folder:
        raise RuntimeError(f"imported sseclient from {origin}, not {folder}")
    return sseclient


def dist_version(dist: str) -> str:
    """The installed version of distribution ``dist``, or "?"."""
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------


def worker_env() -> dict[str, str]:
    """The environment of a worker: nothing that would change what it imports."""
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE"):
        env.pop(name, None)
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONNOUSERSITE"] = "1"
    return env


class JsonWorker:
    """A worker process that answers with one JSON object a line on stdout.

    Commands go to its stdin, one a line (`send`); `receive` waits for the
    next message at most ``timeout`` seconds.  Its stderr is kept in a
    temporary file for `stderr_tail`.
    """

    def __init__(self, cmd: Sequence[str]) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (see close())
        try:
            self.proc = subprocess.Popen(
                list(cmd),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=worker_env(),
            )
        except OSError:
            self._stderr.close()
            raise
        assert self.proc.stdout is not None
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)
        self._pending = b""
        self.closed = False

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # it died: receive() reports it

    def end_input(self) -> None:
        """Close the worker's stdin (it gets no more commands)."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()

    def receive(self, timeout: float) -> dict[str, Any] | str | None:
        """The next message; "eof" if the worker closed its stdout (exited),
        None after ``timeout`` seconds of silence."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._selector.select(remaining):
                return None
            data = os.read(self.proc.stdout.fileno(), 65536)
            if not data:
                return "eof"
            self._pending += data
        line, self._pending = self._pending.split(b"\n", 1)
        message: dict[str, Any] = json.loads(line)
        return message

    def stderr_tail(self, lines: int = 1) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return " | ".join(text.splitlines()[-lines:])

    def close(self, wait: float = 0) -> None:
        """Wait up to ``wait`` seconds for the worker to exit, then kill it."""
        if self.closed:
            return
        self.closed = True
        self.end_input()
        try:
            self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._selector.close()
        for stream in (self.proc.stdin, self.proc.stdout, self._stderr):
            if stream is not None:
                stream.close()


@dataclass
class Outcome:
    """How a one-shot worker run ended: ``status`` is ok, timeout or error."""

    status: str
    messages: list[dict[str, Any]]
    detail: str = ""

    def last(self, kind: str) -> dict[str, Any] | None:
        found = [m for m in self.messages if m.get("kind") == kind]
        return found[-1] if found else None


def run_worker(cmd: Sequence[str], timeout: float) -> Outcome:
    """Run a worker to its end (it gets no stdin) and collect its messages.
    It is killed after ``timeout`` seconds; a worker that sends an ``error``
    message, or exits with another status than 0, has failed."""
    worker = JsonWorker(cmd)
    worker.end_input()
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    status, detail = "ok", ""
    try:
        while True:
            message = worker.receive(max(0.0, deadline - time.monotonic()))
            if message is None:
                status, detail = "timeout", f"killed after {timeout:.0f}s"
                tail = worker.stderr_tail()
                if tail:
                    detail += f", last said: {tail}"
                break
            if message == "eof":
                break
            assert isinstance(message, dict)
            messages.append(message)
            if message.get("kind") == "error":
                status = "error"
                detail = f"{message.get('stage', '?')}: {message.get('error')}"
    finally:
        worker.close(wait=0 if status == "timeout" else 10)
    code = worker.proc.returncode
    if status == "ok" and code != 0:
        status, detail = "error", f"exited {code}: {worker.stderr_tail()}"
    return Outcome(status, messages, detail)


class ServerProcess:
    """A server in a process of its own, for the length of a ``with`` block.

    ``cmd`` must start a server on 127.0.0.1 that announces its port with
    `serve_until_stdin_closes` (the JSON line it prints is kept as ``info``)
    and runs until its stdin closes (or it is killed).
    """

    def __init__(self, cmd: Sequence[str], start_timeout: float = 60) -> None:
        self.cmd = list(cmd)
        self.start_timeout = start_timeout
        self.port = 0

    def __enter__(self) -> ServerProcess:
        self.worker = JsonWorker(self.cmd)
        message = self.worker.receive(self.start_timeout)
        if not isinstance(message, dict) or "port" not in message:
            tail = self.worker.stderr_tail(3)
            self.worker.close()
            raise RuntimeError(f"the server did not start ({message}): {tail}")
        self.info: dict[str, Any] = message
        self.port = int(message["port"])
        return self

    @property
    def pid(self) -> int:
        return self.worker.proc.pid

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server has used so far (Linux)."""
        return process_cpu_seconds(self.pid)

    def __exit__(self, *exc_info: object) -> None:
        self.worker.close(wait=10)


def serve_until_stdin_closes(port: int, **info: Any) -> None:
    """For a server process: tell the parent the port (and ``info``), then
    block until the parent closes our stdin (the server runs in other
    threads or tasks)."""
    send_message(kind="listening", port=port, **info)
    sys.stdin.read()


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of process ``pid`` from /proc (0.0 where there is none)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def send_message(**message: Any) -> None:
    """A worker's message to its parent: one JSON line on stdout."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


class Entrant(Protocol):
    """What `round_robin` needs of an entrant: its runs' wall times so far
    and whether it is out (failed, or over its budget)."""

    stopped: bool

    @property
    def wall(self) -> list[float]: ...


E = TypeVar("E", bound=Entrant)


def round_robin(
    entrants: Sequence[E], repeat: int, budget: float | None = None
) -> Iterator[E]:
    """The order of the timed runs: round ``r`` runs every entrant still in
    once, starting from the ``r``-th one, so that a burst of load from
    elsewhere hits all of them alike.  The caller runs each entrant yielded
    and records its wall time (or sets ``stopped`` if it failed).  An entrant
    whose runs reach about ``budget`` seconds of wall time stops there: it
    stays out once another run would take it past the budget."""
    for round_no in range(repeat):
        live = [e for e in entrants if not e.stopped]
        if not live:
            return
        shift = round_no % len(live)
        for entrant in live[shift:] + live[:shift]:
            wall = entrant.wall
            if budget is not None and wall and sum(wall) + min(wall) > budget:
                entrant.stopped = True
                continue
            yield entrant


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, by nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# ---------------------------------------------------------------------------
# Machine
# ---------------------------------------------------------------------------


def load_average() -> str:
    """The 1-minute load average: other work on the machine skews timings."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def machine_lines(load_before: str, extra: str = "") -> list[str]:
    """The header lines that say where and under what load a run went."""
    return [
        f"Python {platform.python_version()} ({sys.executable}), {platform.platform()}",
        f"CPUs: {os.cpu_count()}; load average before/after: {load_before}"
        f" / {load_average()}{extra}",
    ]


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def peak_rss() -> int:
    """Peak resident set size of this process so far, in bytes.

    Linux's VmHWM starts afresh at exec; ``ru_maxrss`` would include the
    parent's peak, which it inherits across fork and exec.
    """
    peak = _status_kib("VmHWM:")
    if peak is not None:
        return peak
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def rss_now() -> int:
    """This process's resident memory now (Linux), else its peak so far."""
    rss = _status_kib("VmRSS:")
    return peak_rss() if rss is None else rss


def raise_nofile(wanted: int) -> int:
    """Raise this process's limit of open files to ``wanted`` (or as far as
    the hard limit allows); return the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def fmt_rate(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value >= 1 else f"{value:.3f}"


def fmt_mib(n: float | None) -> str:
    return "-" if n is None else f"{n / MIB:.2f}"


def ratio(a: float | None, b: float | None, suffix: str = "", digits: int = 2) -> str:
    """``a / b`` to ``digits`` decimals, or "-" if either is missing."""
    if not a or not b:
        return "-"
    return f"{a / b:.{digits}f}{suffix}"


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


def write_json(path: Path, results: Sequence[Any], **header: Any) -> None:
    """Write the raw results (dataclasses or dicts) as JSON; with ``header``
    items, as ``{**header, "results": [...]}``."""
    rows = [
        dataclasses.asdict(r) if dataclasses.is_dataclass(r) else r  # type: ignore[arg-type]
        for r in results
    ]
    document: Any = {**header, "results": rows} if header else rows
    path.write_text(json.dumps(document, indent=1, default=str))


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options every throughput benchmark takes the same way."""
    parser.add_argument(
        "--no-setup", action="store_true", help="do not create missing peer venvs"
    )
    parser.add_argument("--json", type=Path, help="also write raw results here")
