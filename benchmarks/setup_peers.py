"""Create one virtualenv per peer SSE library under ``benchmarks/.venvs/<name>``.

Peers are installed from PyPI by name with pip.  Each venv gets a ``.bench-spec``
stamp holding the pip requirement it was built for; a venv whose stamp matches is
left alone, so running this again is cheap.  A peer that fails to install gets a
``.bench-failed`` file (with pip's output) instead and is reported as unavailable
by the benchmarks; the other peers are unaffected.  The venvs and their
requirements are listed in ``harness.PEERS``.

Usage::

    python benchmarks/setup_peers.py            # create missing venvs
    python benchmarks/setup_peers.py --force    # rebuild all of them
    python benchmarks/setup_peers.py sseclient-py httpx-sse   # only these
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PEERS, ensure_peers


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
