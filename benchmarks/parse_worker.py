"""Benchmark worker: time one SSE implementation on one workload file.

Run by ``bench_parse.py``, one process per (workload, implementation), with the
python of the implementation's venv.  Standard library only at import time (the
implementation is imported after start-up), so the parent can import this module
for the implementation table and the chunking rule.

The worker reads the workload file into a list of ``bytes`` chunks, reports
``ready`` and then obeys commands read from stdin, one a line, so that the parent
can interleave the runs of all implementations:

* ``rep``: one timed run over the whole chunk list, timed with ``perf_counter``
  (wall) and ``process_time`` (CPU), preceded by ``gc.collect()``.
* ``finish [plain|traced]``: report the peak RSS; then (with ``plain`` or
  ``traced``) run once more, untimed, reading every event's data to check its
  total length, under ``tracemalloc`` if ``traced`` (the peak memory that
  parsing allocated); then exit.

Messages: one JSON object per line on the original stdout (everything the
implementation prints goes to stderr)::

    {"kind": "ready", "python": ..., "version": ..., "module": ..., ...}
    {"kind": "rep", "seconds": ..., "cpu": ..., "events": ...}
    {"kind": "rss", "peak_rss": ..., "load_rss": ...}  # VmHWM now / after load
    {"kind": "check", "events": ..., "chars": ..., "trace_peak": ...}
    {"kind": "done"}
    {"kind": "error", "stage": ..., "error": ...}      # instead, on failure
"""

from __future__ import annotations

import argparse
import codecs
import gc
import importlib
import json
import os
import platform
import sys
import time
import traceback
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from harness import load_ours, peak_rss
from workloads import chunk_sizes, load_chunks

__all__ = ["DRIVERS", "IMPLS", "Impl", "chunk_sizes", "load_chunks"]

# ---------------------------------------------------------------------------
# Implementations.  Each driver takes the chunk list and ``touch``; it returns
# (number of events, total length of their data).  With touch=False it only
# counts (the timed runs); with touch=True it also reads every ``.data``.
# ---------------------------------------------------------------------------

Driver = Callable[[list[bytes], bool], "tuple[int, int]"]


@dataclass(frozen=True)
class Impl:
    """An implementation under test."""

    name: str
    venv: str | None  # peer venv under benchmarks/.venvs; None = ours
    dist: str | None  # distribution name for the version; None = ours
    how: str  # one line: what exactly is driven


IMPLS: dict[str, Impl] = {
    impl.name: impl
    for impl in (
        Impl("ours.feed", None, None, "sseclient.EventStreamParser().feed(chunk)"),
        Impl("ours.SSEClient", None, None, "sseclient.SSEClient(chunks).events()"),
        Impl(
            "sseclient-py",
            "sseclient-py",
            "sseclient-py",
            "sseclient.SSEClient(chunks).events()",
        ),
        Impl(
            "httpx-sse",
            "httpx-sse",
            "httpx-sse",
            "EventSource(r).iter_sse(), r.iter_text() = httpx TextDecoder on chunks",
        ),
        Impl(
            "httpx-sse+Response",
            "httpx-sse",
            "httpx-sse",
            "EventSource(httpx.Response(200, content=iter(chunks))).iter_sse()",
        ),
        Impl(
            "ld-eventsource",
            "launchdarkly-eventsource",
            "launchdarkly-eventsource",
            "_SSEReader(_BufferedLineReader.lines_from(chunks)).events_and_comments()",
        ),
        Impl(
            "ld-eventsource.SSEClient",
            "launchdarkly-eventsource",
            "launchdarkly-eventsource",
            "SSEClient(connect=<ConnectStrategy giving chunks>).events",
        ),
        Impl(
            "sseclient-0.0.27",
            "sseclient-0.0.27",
            "sseclient",
            "SSEClient.__next__ with _connect() overridden to read the chunks",
        ),
    )
}


def _consume(events: Iterable[Any], touch: bool) -> tuple[int, int]:
    """Drain an iterable of events: count them (and sum ``len(data)``)."""
    n = chars = 0
    if touch:
        for event in events:
            n += 1
            chars += len(event.data)
    else:
        for _ in events:
            n += 1
    return n, chars


def _ours_feed() -> Driver:
    import sseclient

    def drive(chunks: list[bytes], touch: bool) -> tuple[int, int]:
        parser = sseclient.EventStreamParser()
        n = chars = 0
        if touch:
            for chunk in chunks:
                for event in parser.feed(chunk):
                    n += 1
                    chars += len(event.data)
        else:
            for chunk in chunks:
                n += len(parser.feed(chunk))
        end: Callable[[], Any] = parser.end
        tail = end()  # None per the contract; tolerate a list of events
        if tail:
            n += len(tail)
            chars += sum(len(event.data) for event in tail)
        return n, chars

    return drive


def _ours_client() -> Driver:
    import sseclient

    def drive(chunks: list[bytes], touch: bool) -> tuple[int, int]:
        return _consume(sseclient.SSEClient(chunks).events(), touch)

    return drive


def _sseclient_py() -> Driver:
    sseclient: Any = importlib.import_module("sseclient")  # the peer's

    def drive(chunks: list[bytes], touch: bool) -> tuple[int, int]:
        return _consume(sseclient.SSEClient(chunks).events(), touch)

    return drive


class _TextResponse:
    """The part of ``httpx.Response`` that ``EventSource.iter_sse`` uses.

    ``iter_text()`` is what ``httpx.Response.iter_text()`` does for an identity
    encoded body read in the server's chunks (``chunk_size=None``): httpx's own
    incremental ``TextDecoder`` on each chunk, empty texts dropped, then its
    flush.
    """

    def __init__(self, chunks: list[bytes], decoder_cls: Any) -> None:
        self.headers = {"content-type": "text/event-stream"}
        self._chunks = chunks
        self._decoder_cls = decoder_cls

    def iter_text(self) -> Iterator[str]:
        decoder = self._decoder_cls(encoding="utf-8")
        for chunk in self._chunks:
            text = decoder.decode(chunk)
            if text:
                yield text
        text = decoder.flush()
        if text:
            yield text


def _httpx_sse() -> Driver:
    from httpx._decoders import TextDecoder
    from httpx_sse import EventSource

    def drive(chunks: list[bytes], touch: bool) -> tuple[int, int]:
        response: Any = _TextResponse(chunks, TextDecoder)  # duck-typed Response
        source = EventSource(response)
        return _consume(source.iter_sse(), touch)

    return drive


def _httpx_sse_response() -> Driver:
    import httpx
    from httpx_sse import EventSource

    headers = {"content-type": "text/event-stream"}

    def drive(chunks: list[bytes], touch: bool) -> tuple[int, int]:
        response = httpx.Response(200, headers=headers, content=iter(chunks))
        return _consume(EventSource(response).iter_sse(), touch)

    return drive


def _ld_reader() -> Driver:
    from ld_eventsource.actions import Event
    from ld_eventsource.reader import _BufferedLineReader, _SSEReader

    def drive(chunks: list[bytes], touch: bool) -> tuple[int, int]:
        reader = _SSEReader(_BufferedLineReader.lines_from(chunks))
        n = chars = 0
        for item in reader.events_and_comments():
            if isinstance(item, Event):
                n += 1
                if touch:
                    chars += len(item.data)
        return n, chars

    return drive


def _ld_client() -> Driver:
    from ld_eventsource import SSEClient
    from ld_eventsource.config import (
        ConnectionClient,
        ConnectionResult,
        ConnectStrategy,
        ErrorStrategy,
    )

    class Chunks(ConnectStrategy):
        def __init__(self, chunks: list[bytes]) -> None:
            self.chunks = chunks

        def create_client(self, logger: Any) -> ConnectionClient:
            chunks = self.chunks

            class Client(ConnectionClient):
                def connect(self, last_event_id: str | None) -> ConnectionResult:
                    return ConnectionResult(iter(chunks), None)

            return Client()

    def drive(chunks: list[bytes], touch: bool) -> tuple[int, int]:
        # always_fail (the default): the stream ending stops the iteration
        # instead of reconnecting.
        client = SSEClient(Chunks(chunks), error_strategy=ErrorStrategy.always_fail())
        return _consume(client.events, touch)

    return drive


class _EndOfStream(Exception):
    pass


def _sseclient_0027() -> Driver:
    sseclient: Any = importlib.import_module("sseclient")  # the peer's

    class BytesSSEClient(sseclient.SSEClient):  # type: ignore[misc]
        """The package's SSEClient with its HTTP request replaced by the chunks.

        ``_connect`` is the only I/O: it sets ``resp_iterator`` and ``decoder``
        (as the original does from a requests response).  At the end of the
        chunks, ``__next__`` "reconnects": that raises ``_EndOfStream``.
        """

        def __init__(self, chunks: list[bytes]) -> None:
            self._chunks: list[bytes] | None = chunks
            super().__init__("bench://chunks", retry=0)

        def _connect(self) -> None:
            if self._chunks is None:
                raise _EndOfStream
            self.resp_iterator = iter(self._chunks)
            self._chunks = None
            self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def events(chunks: list[bytes]) -> Iterator[Any]:
        try:
            yield from BytesSSEClient(chunks)
        except _EndOfStream:
            return

    def drive(chunks: list[bytes], touch: bool) -> tuple[int, int]:
        return _consume(events(chunks), touch)

    return drive


DRIVERS: dict[str, Callable[[], Driver]] = {
    "ours.feed": _ours_feed,
    "ours.SSEClient": _ours_client,
    "sseclient-py": _sseclient_py,
    "httpx-sse": _httpx_sse,
    "httpx-sse+Response": _httpx_sse_response,
    "ld-eventsource": _ld_reader,
    "ld-eventsource.SSEClient": _ld_client,
    "sseclient-0.0.27": _sseclient_0027,
}


def _module_info(impl: Impl, ours_dir: Path | None) -> dict[str, str]:
    """Version of the implementation and where its module came from."""
    if impl.dist is None:
        sseclient = load_ours(ours_dir)
        origin = Path(sseclient.__file__ or "?").resolve()
        return {
            "version": str(getattr(sseclient, "__version__", "?")),
            "module": str(origin),
        }

    top = {
        "sseclient-py": "sseclient",
        "httpx-sse": "httpx_sse",
        "launchdarkly-eventsource": "ld_eventsource",
        "sseclient": "sseclient",
    }[impl.dist]
    module = importlib.import_module(top)
    origin = Path(module.__file__ or "?").resolve()
    if not str(origin).startswith(sys.prefix):
        raise RuntimeError(f"{top} imported from {origin}, outside {sys.prefix}")
    return {"version": metadata.version(impl.dist), "module": str(origin)}


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def serve(args: argparse.Namespace, commands: TextIO, out: TextIO) -> None:
    """Load the chunks, then obey commands (one a line) until ``finish``/EOF."""

    def send(**message: Any) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    impl = IMPLS[args.impl]
    ours_dir = Path(args.ours_dir) if args.ours_dir else None
    try:
        info = _module_info(impl, ours_dir)
        drive = DRIVERS[impl.name]()
    except Exception as exc:
        send(kind="error", stage="import", error=f"{type(exc).__name__}: {exc}")
        return

    chunks = load_chunks(Path(args.data), args.chunking)
    load_rss = peak_rss()
    send(
        kind="ready",
        python=platform.python_version(),
        implementation=platform.python_implementation(),
        executable=sys.executable,
        chunks=len(chunks),
        **info,
    )

    for command in commands:
        command = command.strip()
        if command == "rep":
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                events, _ = drive(chunks, False)
            except Exception as exc:
                send(kind="error", stage="run", error=f"{type(exc).__name__}: {exc}")
                traceback.print_exc()
                return
            seconds = time.perf_counter() - start
            cpu = time.process_time() - start_cpu
            send(kind="rep", seconds=seconds, cpu=cpu, events=events)
        elif command.startswith("finish"):
            send(kind="rss", peak_rss=peak_rss(), load_rss=load_rss)
            mode = command.partition(" ")[2]
            if mode in ("plain", "traced"):
                check(drive, chunks, mode == "traced", send)
            send(kind="done")
            return


def check(
    drive: Driver, chunks: list[bytes], traced: bool, send: Callable[..., None]
) -> None:
    """The untimed check run: read every event's data, maybe under tracemalloc
    (which slows allocation-heavy code several times) for the peak memory."""
    gc.collect()
    if traced:
        tracemalloc.start()
    try:
        events, chars = drive(chunks, True)
        peak = tracemalloc.get_traced_memory()[1] if traced else None
    except Exception as exc:
        send(kind="error", stage="check", error=f"{type(exc).__name__}: {exc}")
        return
    finally:
        tracemalloc.stop()
    send(kind="check", events=events, chars=chars, trace_peak=peak)


def main() -> None:
    parser = argparse.ArgumentParser(description="time one SSE parser on one file")
    parser.add_argument("--impl", required=True, choices=sorted(IMPLS))
    parser.add_argument("--data", required=True, help="workload file")
    parser.add_argument("--chunking", required=True, help="fixed:N or random:S:LO:HI")
    parser.add_argument("--ours-dir", help="directory holding our sseclient.py")
    args = parser.parse_args()

    # Keep stdout for the protocol; whatever else is printed goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(args, sys.stdin, out)


if __name__ == "__main__":
    main()
