"""Latency: from the server's write of an event to the client yielding it.

A raw-socket server on 127.0.0.1 writes one short event every ``--interval``
seconds, each holding the time of its own write (``time.monotonic_ns()``: one
clock for every process of the machine on Linux and macOS).  The client runs
in its own process and notes when each event is yielded to it.  The body is
framed ``chunked`` or ``close`` (``Connection: close`` and no length: the
body ends when the server closes, as behind many proxies); after its last
event the server keeps the connection open ``--linger`` seconds, so an event
that a client holds back until the server hangs up shows as that much
latency.

Clients: this library over requests, urllib3, http.client and httpx, and
sseclient-py 1.9.0 over requests (as its README shows), run by the Python of
its own venv (``--peer-python``; by default the venv that ``setup_peers.py``
makes, with requests beside sseclient-py, built on first use).  Our
``sseclient.py`` is copied from the repository root at the start.

Usage::

    python benchmarks/latency.py                    # 200 events, 20 ms apart
    python benchmarks/latency.py --quick            # 50 events
    python benchmarks/latency.py --events 50 --peer-python /path/to/python
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import harness  # noqa: E402

FRAMINGS = ("chunked", "close")
OURS = ("requests", "urllib3", "http.client", "httpx")
PEER = "sseclient-py"
BARE = "socket"


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------


def serve_one(
    listener: socket.socket, framing: str, events: int, interval: float, linger: float
) -> None:
    """Answer one request with ``events`` timestamped events."""
    conn, _ = listener.accept()
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = b""
        while b"\r\n\r\n" not in request:
            data = conn.recv(65536)
            if not data:
                return
            request += data
        framing_header = (
            b"Transfer-Encoding: chunked"
            if framing == "chunked"
            else b"Connection: close"
        )
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Cache-Control: no-cache\r\n" + framing_header + b"\r\n\r\n"
        )
        time.sleep(0.2)  # the client is set up and waiting in its first read
        start = time.monotonic()
        for i in range(events):
            delay = start + i * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            event = b"data: %d\n\n" % time.monotonic_ns()
            if framing == "chunked":
                event = b"%x\r\n%s\r\n" % (len(event), event)
            conn.sendall(event)
        time.sleep(linger)
        if framing == "chunked":
            conn.sendall(b"0\r\n\r\n")
        conn.shutdown(socket.SHUT_WR)
        # Let the client read to the end before the socket goes.
        conn.settimeout(5)
        while conn.recv(65536):
            pass


def measure(
    python: str,
    client: str,
    framing: str,
    args: argparse.Namespace,
) -> list[int]:
    """The latencies (ns) of one client over one framing."""
    events, interval, linger = args.events, args.interval, args.linger
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/stream"
        server = threading.Thread(
            target=serve_one, args=(listener, framing, events, interval, linger)
        )
        server.start()
        outcome = harness.run_worker(
            [python, __file__, "--worker", client, url, str(args.ours_dir)],
            timeout=60 + events * interval + linger,
        )
        server.join()
    message = outcome.last("latencies")
    if outcome.status != "ok" or message is None:
        raise RuntimeError(f"{client} worker failed: {outcome.detail}")
    latencies: list[int] = message["values"]
    if len(latencies) != events:
        raise RuntimeError(f"{client} got {len(latencies)} of {events} events")
    return latencies


# ---------------------------------------------------------------------------
# The client, in its own process
# ---------------------------------------------------------------------------


_KEEP = contextlib.ExitStack()  # what must outlive open_response()


def open_response(client: str, url: str) -> object:
    """A streaming GET of ``url`` with the named HTTP library."""
    if client in ("requests", PEER):
        import requests

        return requests.get(url, stream=True)
    if client == "urllib3":
        import urllib3

        return urllib3.PoolManager().request("GET", url, preload_content=False)
    if client == "http.client":
        import http.client
        import urllib.parse

        parts = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(parts.netloc)
        connection.request("GET", parts.path)
        return connection.getresponse()
    if client == "httpx":
        import httpx

        session = _KEEP.enter_context(httpx.Client(timeout=None))
        return _KEEP.enter_context(session.stream("GET", url))
    raise ValueError(f"unknown client {client!r}")


def bare_socket_latencies(url: str) -> list[int]:
    """The floor: a bare socket that finds each event's timestamp in what
    each recv() returns, no HTTP and no SSE parsing."""
    import re
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    latencies = []
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        pending = b""
        while data := sock.recv(65536):
            now = time.monotonic_ns()
            pending += data
            end = 0
            for match in re.finditer(rb"data: (\d+)\n\n", pending):
                latencies.append(now - int(match[1]))
                end = match.end()
            pending = pending[end:]
    return latencies


def worker(client: str, url: str, ours_dir: str) -> None:
    if client == BARE:
        harness.send_message(kind="latencies", values=bare_socket_latencies(url))
        return
    if client == PEER:
        import sseclient

        if hasattr(sseclient, "EventStreamParser"):
            raise SystemExit(f"{client}: imported ours ({sseclient.__file__})")
    else:
        sseclient = harness.load_ours(ours_dir)
    response = open_response(client, url)
    latencies = []
    clock = time.monotonic_ns
    for event in sseclient.SSEClient(response).events():
        latencies.append(clock() - int(event.data))
    harness.send_message(kind="latencies", values=latencies)


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


def ms(ns: float) -> str:
    return f"{ns / 1e6:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="50 events")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds")
    parser.add_argument("--linger", type=float, default=1.0, help="seconds")
    parser.add_argument(
        "--peer-python", help="python with sseclient-py and requests (default: a venv)"
    )
    parser.add_argument(
        "--ours-python",
        help="python with requests, urllib3 and httpx for ours (default: this"
        " one if it has them, else a venv of them)",
    )
    parser.add_argument(
        "--no-setup", action="store_true", help="do not create missing venvs"
    )
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    if args.quick:
        args.events = 50
    with tempfile.TemporaryDirectory(prefix="sse-latency-") as tmp:
        args.ours_dir, ours_desc = harness.snapshot_ours(Path(tmp))
        print(f"ours: {ours_desc}")
        report(args)


def report(args: argparse.Namespace) -> None:
    load_before = harness.load_average()
    runs = [("bare socket recv (the floor)", sys.executable, BARE)]
    ours_python = harness.transports_python(args.ours_python, not args.no_setup)
    if ours_python is None:
        print("(no python with requests, urllib3, httpx: give --ours-python)")
    else:
        runs += [(f"sseclient + {name}", ours_python, name) for name in OURS]
    peer_python = args.peer_python
    if peer_python is None:
        if not args.no_setup:
            harness.ensure_peers(["sseclient-py"])
        found = harness.peer_python("sseclient-py")
        peer_python = None if found is None else str(found)
    if peer_python is not None and Path(peer_python).exists():
        runs.append(("sseclient-py 1.9.0 + requests", peer_python, PEER))
    else:
        print(
            "(no python for sseclient-py: run `python benchmarks/setup_peers.py"
            " sseclient-py`, or give --peer-python)"
        )

    print(
        f"Latency, server write -> event yielded, 127.0.0.1, {args.events} events of"
        f" ~27 bytes every {args.interval * 1000:g} ms, in milliseconds"
    )
    stats = ("median", "p99", "worst")
    print(f"{'':<30}" + "".join(f"{framing:^27}" for framing in FRAMINGS))
    print(f"{'client':<30}" + "".join(f"{name:>9}" for name in stats) * len(FRAMINGS))
    for label, python, client in runs:
        line = f"{label:<30}"
        for framing in FRAMINGS:
            try:
                latencies = measure(python, client, framing, args)
            except RuntimeError as e:
                print(f"{label}: {e}", file=sys.stderr)
                line += f"{'failed':>27}"
                continue
            p99 = statistics.quantiles(latencies, n=100, method="inclusive")[98]
            for value in (statistics.median(latencies), p99, max(latencies)):
                line += f"{ms(value):>9}"
        print(line, flush=True)
    print("\n".join(harness.machine_lines(load_before)))


if __name__ == "__main__":
    main()
