"""Commands run to their end by the tests: `run_captured`."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def run_captured(
    command: Sequence[str | Path], timeout: float = 30, **options: Any
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to its end, its output captured as text; it is killed
    (and the test fails) after ``timeout`` seconds.  ``options`` go to
    `subprocess.run` (``cwd``, ``env``, ``input``, ``check``)."""
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        **options,
    )
