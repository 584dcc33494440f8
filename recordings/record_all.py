"""Record event streams from real server software into tests/streams/recorded/.

Each recording starts a server app from recordings/apps/ on 127.0.0.1 (and
nginx in front of it for some), runs the command-line client on it with
``--record``, stops the servers, and writes beside the recording the
``NAME.meta.json`` that says which software, which versions, when and how.
``NAME.expected.json`` is not written here: it is worked out by hand from
the recorded bytes.

    python recordings/record_all.py            # every recording
    python recordings/record_all.py aiohttp_sse tornado

What it needs:

* the Python servers: recordings/.venv, made from recordings/requirements.txt
  on first use (or ``--python`` names an interpreter that has them);
* Node.js and npm: recordings/node_modules, installed with ``npm ci`` on
  first use;
* nginx on the PATH (Debian: ``apt-get install nginx``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
APPS = HERE / "apps"
OUT = ROOT / "tests" / "streams" / "recorded"
VENV = HERE / ".venv"


@dataclass
class Server:
    app: str  # a file in recordings/apps/
    packages: list[str]  # "name" for Python, "npm:name" for Node: for the version
    describe: str  # how they are put together, from the versions


SERVERS = {
    "starlette": Server(
        "starlette_app.py",
        ["sse-starlette", "uvicorn", "starlette"],
        "sse-starlette {sse-starlette} on uvicorn {uvicorn} (starlette {starlette})",
    ),
    "aiohttp": Server(
        "aiohttp_app.py",
        ["aiohttp-sse", "aiohttp"],
        "aiohttp-sse {aiohttp-sse} on aiohttp {aiohttp}",
    ),
    "flask": Server(
        "flask_app.py",
        ["flask", "werkzeug"],
        "Flask {flask} on the Werkzeug {werkzeug} development server",
    ),
    "tornado": Server("tornado_app.py", ["tornado"], "tornado {tornado}"),
    "wsgiref": Server(
        "wsgiref_app.py", [], "wsgiref (the standard library of Python {python})"
    ),
    "better-sse": Server(
        "better_sse_app.mjs",
        ["npm:better-sse", "npm:express"],
        "better-sse {better-sse} on Express {express}",
    ),
}


@dataclass
class Recording:
    name: str
    server: str  # a key of SERVERS
    path: str
    nginx: bool = False  # nginx (gzip on) in front of the server
    stop_after: int | None = None  # stop the server after this many events
    note: str = ""


RECORDINGS = [
    Recording("sse_starlette", "starlette", "/events"),
    Recording(
        "sse_starlette_shutdown",
        "starlette",
        "/forever",
        stop_after=3,
        note="an endless stream; the server was sent SIGTERM after the client"
        " had printed 3 events",
    ),
    Recording("aiohttp_sse", "aiohttp", "/events"),
    Recording(
        "flask_cut",
        "flask",
        "/events",
        stop_after=3,
        note="the app starts a 4th event and never finishes it; the server was"
        " sent SIGTERM 0.5 s after the client had printed 3 events",
    ),
    Recording("tornado", "tornado", "/events"),
    Recording("wsgiref", "wsgiref", "/events"),
    Recording("better_sse", "better-sse", "/events"),
    Recording("nginx_gzip_sse_starlette", "starlette", "/events", nginx=True),
    Recording("nginx_gzip_tornado", "tornado", "/events", nginx=True),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="recordings to make (default: all)")
    parser.add_argument(
        "--python", help="a Python that has the servers' packages (default: .venv)"
    )
    args = parser.parse_args()
    chosen = [r for r in RECORDINGS if not args.names or r.name in args.names]
    if args.names and len(chosen) != len(args.names):
        known = ", ".join(r.name for r in RECORDINGS)
        parser.error(f"unknown recording; known: {known}")
    python = os.path.abspath(args.python) if args.python else str(python_venv())
    if any(r.server == "better-sse" for r in chosen):
        node_modules()
    for recording in chosen:
        record(recording, python)


def python_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "-r", str(HERE / "requirements.txt")], check=True)
    return python


def node_modules() -> None:
    if not (HERE / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)


def record(recording: Recording, python: str) -> None:
    server = SERVERS[recording.server]
    print(f"== {recording.name}", file=sys.stderr)
    app = APPS / server.app
    with contextlib.ExitStack() as stack:
        port = free_port()
        command = ["node", str(app)] if app.suffix == ".mjs" else [python, str(app)]
        backend = stack.enter_context(running([*command, str(port)], port))
        via = None
        if recording.nginx:
            nginx_port = free_port()
            stack.enter_context(running_nginx(nginx_port, port))
            via = f"{nginx_version()} (gzip on)"
            port = nginx_port
        url = f"http://127.0.0.1:{port}{recording.path}"
        rec = OUT / f"{recording.name}.rec"
        cli = [
            "python",
            "-m",
            "sseclient",
            url,
            "--record",
            str(rec.relative_to(ROOT)),
            "--json",
        ]
        client = subprocess.Popen(
            [python, *cli[1:]], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert client.stdout is not None
        for printed, line in enumerate(client.stdout, 1):
            print("  " + line.rstrip("\n"), file=sys.stderr)
            if printed == recording.stop_after:
                if recording.server == "flask":
                    time.sleep(0.5)  # into the event that is never finished
                backend.terminate()
        client.wait(timeout=30)
        print(f"  client exit status {client.returncode}", file=sys.stderr)
    meta = {
        "server": server.describe.format(**versions(server, python)),
        "via": via,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "command": " ".join(cli),
        "app": f"recordings/apps/{server.app}",
        "runtime": runtime(app, python),
        "note": recording.note or None,
        "client_exit_status": client.returncode,
    }
    path = OUT / f"{recording.name}.meta.json"
    path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def running(command: list[str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, once it accepts connections on `port`; stopped at
    the end (SIGTERM, then SIGKILL)."""
    process = subprocess.Popen(command, cwd=HERE)
    try:
        deadline = time.monotonic() + 20
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=1),
            ):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command} did not start")
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_nginx(port: int, upstream: int) -> Iterator[None]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    with tempfile.TemporaryDirectory() as directory:
        os.chmod(directory, 0o755)  # nginx's workers run as another user
        conf = (HERE / "nginx.conf").read_text()
        for key, value in {
            "DIR": directory,
            "PORT": port,
            "UPSTREAM": upstream,
        }.items():
            conf = conf.replace(f"@{key}@", str(value))
        path = Path(directory) / "nginx.conf"
        path.write_text(conf)
        with running([nginx, "-e", "stderr", "-p", directory, "-c", str(path)], port):
            yield


def nginx_version() -> str:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    result = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=True)
    match = re.search(r"nginx/(\S+)", result.stderr)
    assert match, result.stderr
    return f"nginx {match[1]}"


def versions(server: Server, python: str) -> dict[str, str]:
    code = "import platform; print(platform.python_version())"
    result = subprocess.run([python, "-c", code], capture_output=True, text=True)
    found = {"python": result.stdout.strip()}
    for package in server.packages:
        if package.startswith("npm:"):
            name = package[4:]
            meta = json.loads(
                (HERE / "node_modules" / name / "package.json").read_text()
            )
            found[name] = meta["version"]
        else:
            code = f"import importlib.metadata as m; print(m.version({package!r}))"
            result = subprocess.run(
                [python, "-c", code], capture_output=True, text=True, check=True
            )
            found[package] = result.stdout.strip()
    return found


def runtime(app: Path, python: str) -> str:
    if app.suffix == ".mjs":
        node = subprocess.run(["node", "--version"], capture_output=True, text=True)
        return f"Node.js {node.stdout.strip()}"
    return f"Python {versions(SERVERS['wsgiref'], python)['python']}"


if __name__ == "__main__":
    main()
