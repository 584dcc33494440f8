"""The event stream files under tests/streams/ (see its README.md).

Each ``NAME.sse`` is a raw response body and ``NAME.expected.json`` the
events the WHATWG rules give for it.  They live in one folder per kind:
``synthetic/`` (written by a generator, not recorded) and ``recorded/``
(recorded from server software someone else wrote; none yet).  A name is
unique across the folders, so a test can ask for a stream by name alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sseclient

STREAMS_DIR = Path(__file__).resolve().parent / "streams"
SYNTHETIC_DIR = STREAMS_DIR / "synthetic"
RECORDED_DIR = STREAMS_DIR / "recorded"
#: The folders, in the order their streams are listed.
FOLDERS = (SYNTHETIC_DIR, RECORDED_DIR)
#: The fields of each event in an expected file.
FIELDS = ("id", "event", "data", "retry")


@dataclass(frozen=True)
class StreamFile:
    """One ``NAME.sse`` and its ``NAME.expected.json``."""

    name: str
    folder: Path

    @property
    def kind(self) -> str:
        """The folder's name: ``"synthetic"`` or ``"recorded"``."""
        return self.folder.name

    @property
    def size(self) -> int:
        """The body's length in bytes."""
        return (self.folder / f"{self.name}.sse").stat().st_size

    def body(self) -> bytes:
        return (self.folder / f"{self.name}.sse").read_bytes()

    def expected(self) -> dict[str, Any]:
        """The expected file's contents."""
        text = (self.folder / f"{self.name}.expected.json").read_text("utf-8")
        result: dict[str, Any] = json.loads(text)
        return result

    def __str__(self) -> str:
        return self.name


def stream_files(*folders: Path) -> list[StreamFile]:
    """The streams in ``folders`` (default: all of them), sorted by name; a
    folder that does not exist has none."""
    found = [
        StreamFile(path.name[: -len(".sse")], folder)
        for folder in folders or FOLDERS
        if folder.is_dir()
        for path in folder.glob("*.sse")
    ]
    names = [stream.name for stream in found]
    duplicated = {name for name in names if names.count(name) > 1}
    if duplicated:
        raise ValueError(f"stream names used in two folders: {sorted(duplicated)}")
    return sorted(found, key=lambda stream: stream.name)


def load_stream(name: str) -> tuple[bytes, dict[str, Any]]:
    """The body and the expected file of the stream called ``name``."""
    for stream in stream_files():
        if stream.name == name:
            return stream.body(), stream.expected()
    raise LookupError(f"no stream file called {name!r} in {STREAMS_DIR}")


def expected_events(expected: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of an expected file, each a dict of `FIELDS`."""
    return [{k: e[k] for k in FIELDS} for e in expected["events"]]


def as_dicts(events: Any) -> list[dict[str, Any]]:
    """`sseclient.Event` objects as dicts of `FIELDS`, to compare with
    `expected_events`."""
    out = []
    for event in events:
        assert isinstance(event, sseclient.Event), type(event)
        out.append({k: getattr(event, k) for k in FIELDS})
    return out
