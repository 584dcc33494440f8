"""CPU instructions per event, counted by valgrind: a measure that does not
move with the load on a shared machine, as times do.

    python benchmarks/instructions.py                  # every workload, scale 0.1
    python benchmarks/instructions.py --workload llm --scale 0.05

For each workload and implementation it runs ``parse_worker.py`` (the worker
of ``bench_parse.py``, with the implementation's venv) under
``valgrind --tool=callgrind`` twice: once loading the chunks only, once loading
them and parsing them once.  The difference, divided by the number of events,
is what one event costs.  Needs ``valgrind`` on the PATH; slow (callgrind runs
Python some 50 times slower), hence the small default scale.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import bench_parse  # noqa: E402
import harness  # noqa: E402
import parse_worker  # noqa: E402
from workloads import PARSE_WORKLOADS  # noqa: E402

IMPLS = ["ours.SSEClient", "ours.feed", "ld-eventsource", "httpx-sse", "sseclient-py"]


def instructions(cmd: list[str], commands: str) -> int:
    """Instructions that ``cmd`` executes, given ``commands`` on stdin."""
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        input=commands,
        capture_output=True,
        text=True,
        env=harness.worker_env(),
        check=True,
    )
    found = re.search(r"Collected : (\d+)", run.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind: {run.stderr[-500:]}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", action="append", choices=PARSE_WORKLOADS)
    parser.add_argument("--impl", action="append", choices=parse_worker.IMPLS)
    parser.add_argument("--scale", type=float, default=0.1, help="workload size")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="sse-instr-") as tmp:
        ours_dir, ours_desc = harness.snapshot_ours(Path(tmp))
        print(f"ours: {ours_desc}")
        print(f"{'workload':15} {'implementation':16} {'instr/event':>12} {'ratio':>6}")
        for name in args.workload or list(PARSE_WORKLOADS):
            workload = PARSE_WORKLOADS[name]
            stream = workload.make(args.scale)
            data = Path(tmp) / f"{name}.sse"
            data.write_bytes(stream.data)
            costs: dict[str, int] = {}
            for impl_name in args.impl or IMPLS:
                impl = parse_worker.IMPLS[impl_name]
                python = bench_parse.impl_python(impl, sys.executable)
                if python is None:
                    print(f"{name:15} {impl_name:16} {'(no venv)':>12}")
                    continue
                cmd = [str(python), str(bench_parse.WORKER), "--impl", impl_name]
                cmd += ["--data", str(data), "--chunking", workload.chunking]
                cmd += ["--ours-dir", str(ours_dir)]
                loaded = instructions(cmd, "")
                parsed = instructions(cmd, "rep\n")
                costs[impl_name] = (parsed - loaded) // stream.events
                ours = [v for k, v in costs.items() if k.startswith("ours.")]
                ratio = f"{costs[impl_name] / min(ours):.2f}" if ours else ""
                print(f"{name:15} {impl_name:16} {costs[impl_name]:12,} {ratio:>6}")
        print("ratio: instructions per event / ours (the fewer of ours.*)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
