"""Every Python example in README.md runs as written.

Each ```python block is run in a fresh interpreter, with the example host
(``https://example.com``) replaced by a server on 127.0.0.1 that serves a
small stream: events 41 to 44, the last of type ``done``, after the
request's ``Last-Event-ID``, and ``204 No Content`` once none is left, so
that reconnecting examples end.  The examples run with ``-W error``: one
that warns fails.  A block that cannot run must say why in an
HTML comment on the line before it, ``<!-- not run: REASON -->``; such
blocks are listed in `NOT_RUN`, so that none is skipped unnoticed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from servers import NO_CONTENT, Request, Response, SSEServer

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

#: Blocks that are not run, by their first line, and why.
NOT_RUN: dict[str, str] = {}

BLOCK = re.compile(
    r"(?:<!-- not run: (?P<reason>.*?) -->\n)?```python\n(?P<code>.*?)```", re.S
)

EVENTS = [
    (41, "message", "hello"),
    (42, "message", "world"),
    (43, "update", '{"n": 43}'),
    (44, "done", "bye"),
]


def readme_blocks() -> list[tuple[str, str | None]]:
    return [(m["code"], m["reason"]) for m in BLOCK.finditer(README.read_text("utf-8"))]


def serve(request: Request) -> Response:
    after = int(request.headers.get("last-event-id", "0"))
    left = [event for event in EVENTS if event[0] > after]
    if not left:
        return NO_CONTENT
    # retry: 10 ms, so that the reconnecting examples come back (to a 204) at once.
    body = b"retry: 10\n\n" + b"".join(
        b"id: %d\nevent: %s\ndata: %s\n\n" % (n, kind.encode(), data.encode())
        for n, kind, data in left
    )
    return Response([body], "length")


def test_every_block_is_found_and_the_skipped_ones_are_listed() -> None:
    blocks = readme_blocks()
    assert len(blocks) >= 14
    skipped = {code.splitlines()[0]: reason for code, reason in blocks if reason}
    assert skipped == NOT_RUN


@pytest.mark.parametrize(
    "code",
    [code for code, reason in readme_blocks() if not reason],
    ids=lambda code: code.strip().splitlines()[-1].strip()[:40],
)
def test_block_runs(code: str) -> None:
    with SSEServer(serve) as server:
        base = server.url.rstrip("/")
        local = code.replace("https://example.com", base).replace(
            'http.client.HTTPSConnection("example.com")',
            f'http.client.HTTPConnection("127.0.0.1", {server.port})',
        )
        assert "example.com" not in local
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-W", "error", "-c", local],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    if "print(" in code and "for " in code:
        # The example printed the events it read: at least the last one.
        assert "bye" in done.stdout or "world" in done.stdout, done.stdout
