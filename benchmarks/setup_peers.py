"""Create one virtualenv per peer SSE library under ``benchmarks/.venvs/<name>``.

Peers are installed from PyPI by name with pip.  Each venv gets a ``.bench-spec``
stamp holding the pip requirement it was built for; a venv whose stamp matches is
left alone, so running this again is cheap.  A peer that fails to install gets a
``.bench-failed`` file (with pip's output) instead and is reported as unavailable
by ``bench_parse.py``; the other peers are unaffected.

Usage::

    python benchmarks/setup_peers.py            # create missing venvs
    python benchmarks/setup_peers.py --force    # rebuild all of them
    python benchmarks/setup_peers.py sseclient-py httpx-sse   # only these
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
VENVS_DIR = BENCH_DIR / ".venvs"
SPEC_STAMP = ".bench-spec"
FAILED_STAMP = ".bench-failed"


@dataclass(frozen=True)
class Peer:
    """A peer library: the venv it lives in and the pip requirements to install."""

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
        # requests: latency.py drives sseclient-py as its README shows.
        Peer("sseclient-py", ("sseclient-py==1.9.0", "requests")),
        # httpx-sse does not declare its httpx dependency.
        Peer("httpx-sse", ("httpx-sse>=0.4,<0.5", "httpx")),
        Peer("launchdarkly-eventsource", ("launchdarkly-eventsource>=1,<2",)),
        # The old ``sseclient`` (btubbs) package, also module ``sseclient``.
        Peer("sseclient-0.0.27", ("sseclient==0.0.27",)),
    )
}


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
    names: list[str] | None = None,
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("peers", nargs="*", metavar="PEER", help=", ".join(PEERS))
    parser.add_argument("--force", action="store_true", help="rebuild venvs")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter the venvs are created from (default: this one)",
    )
    args = parser.parse_args()
    unknown = sorted(set(args.peers) - set(PEERS))
    if unknown:
        parser.error(f"unknown peer(s) {unknown}; known: {', '.join(PEERS)}")
    status = ensure_peers(
        args.peers or None, force=args.force, retry_failed=True, base_python=args.python
    )
    for name, ok in status.items():
        print(f"{name:28} {'ok' if ok else 'UNAVAILABLE'}  ({PEERS[name].path})")
    return 0 if all(status.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
