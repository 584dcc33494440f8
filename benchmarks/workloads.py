"""Synthetic event streams for the benchmarks, and how they are cut.

Every stream is generated from a fixed seed, so each run of a benchmark (and
each implementation in it) gets the same bytes.  A generator returns a
`Stream`: the bytes, the number of events they hold and the total length of
those events' data in characters, which a benchmark checks against what a
client gave.

* `PARSE_WORKLOADS`: the workloads of ``bench_parse.py``, ``bench_async.py``
  and ``instructions.py``, each with its chunking rule (`chunk_sizes`).
* `E2E_WORKLOADS`: the bodies that ``bench_e2e.py`` serves over HTTP.

Standard library only (the parse worker imports it in the peers' venvs).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024


@dataclass(frozen=True)
class Stream:
    """A generated event stream and what parsing it must give."""

    data: bytes
    events: int
    chars: int  # total len(event.data), in characters

    def expected(self) -> Expected:
        return Expected(len(self.data), self.events, self.chars)


@dataclass(frozen=True)
class Expected:
    """A stream's size and what parsing it must give (the bytes are on disk)."""

    size: int
    events: int
    chars: int


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    chunking: str  # a chunk_sizes spec
    make: Callable[[float], Stream]  # scale (1.0 full, 0.1 quick) -> stream


# ---------------------------------------------------------------------------
# Chunking
# ---------------------------------------------------------------------------


def chunk_sizes(spec: str, total: int) -> Iterator[int]:
    """Sizes of the chunks ``total`` bytes are cut into, per ``spec``.

    ``fixed:N`` cuts N-byte chunks; ``random:SEED:LO:HI`` cuts chunks of sizes
    drawn uniformly from [LO, HI] by ``random.Random(SEED)`` (deterministic).
    The last chunk may be shorter.
    """
    kind, _, rest = spec.partition(":")
    left = total
    if kind == "fixed":
        size = int(rest)
        while left > 0:
            yield min(size, left)
            left -= size
    elif kind == "random":
        seed, lo, hi = (int(x) for x in rest.split(":"))
        rng = random.Random(seed)
        while left > 0:
            size = rng.randint(lo, hi)
            yield min(size, left)
            left -= size
    else:
        raise ValueError(f"unknown chunking {spec!r}")


def load_chunks(path: Path, spec: str) -> list[bytes]:
    """Read ``path`` as a list of chunks; never holds the file twice."""
    total = path.stat().st_size
    with path.open("rb") as f:
        return [f.read(size) for size in chunk_sizes(spec, total)]


def cut(data: bytes, spec: str) -> list[bytes]:
    """``data`` cut into chunks per ``spec``."""
    chunks, offset = [], 0
    for size in chunk_sizes(spec, len(data)):
        chunks.append(data[offset : offset + size])
        offset += size
    return chunks


# ---------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------

TOKENS = [
    "Hello",
    " world",
    ",",
    " the",
    " quick",
    " brown",
    " fox",
    " jumps",
    ".",
    "\n",
    " naïve",
    " café",
    " 日本語",
    " 🙂",
    ' "quoted"',
    " back\\slash",
    " 42",
    "",
]


def llm_stream(events: int, seed: int) -> Stream:
    """LLM token stream: one small JSON ``data:`` line per event (the
    ``choices[].delta`` of OpenAI's chat completion chunks, ~70 bytes)."""
    rng = random.Random(seed)
    parts: list[str] = []
    chars = 0
    for i in range(events):
        delta = {"content": "".join(rng.choices(TOKENS, k=rng.randint(1, 3)))}
        payload = json.dumps(
            {"id": f"chatcmpl-{i // 500}", "choices": [{"delta": delta}]},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        chars += len(payload)
        parts.append(f"data: {payload}\n\n")
    return Stream("".join(parts).encode(), events, chars)


def chat_completion_stream(events: int, seed: int) -> Stream:
    """LLM token stream as OpenAI's chat completions API sends it: one
    ``data:`` line per event holding a whole ``chat.completion.chunk``
    object (~240 bytes), in the field order that API uses."""
    rng = random.Random(seed)
    parts: list[str] = []
    chars = 0
    for i in range(events):
        content = "".join(rng.choices(TOKENS, k=rng.randint(1, 3)))
        payload = json.dumps(
            {
                "id": f"chatcmpl-B{i // 500:09d}xQ3vTnK8aLmZ0pRwYs",
                "object": "chat.completion.chunk",
                "created": 1730000000 + i // 500,
                "model": "gpt-4o-mini-2024-07-18",
                "system_fingerprint": "fp_0ba0d124f1",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"content": content},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                ],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        chars += len(payload)
        parts.append(f"data: {payload}\n\n")
    return Stream("".join(parts).encode(), events, chars)


def fields_stream(events: int, seed: int) -> Stream:
    """``id: N`` / ``event: update`` / ``data: {json}`` events (~110 bytes)."""
    rng = random.Random(seed)
    symbols = ["AAPL", "GOOG", "MSFT", "NVDA", "TSLA", "AMZN"]
    parts: list[str] = []
    chars = 0
    for i in range(events):
        payload = json.dumps(
            {
                "seq": i,
                "symbol": rng.choice(symbols),
                "price": round(rng.uniform(10, 1000), 2),
                "qty": rng.randint(1, 5000),
                "side": rng.choice(["buy", "sell"]),
            },
            separators=(",", ":"),
        )
        chars += len(payload)
        parts.append(f"id: {i}\nevent: update\ndata: {payload}\n\n")
    return Stream("".join(parts).encode(), events, chars)


def make_llm(scale: float) -> Stream:
    return llm_stream(round(200_000 * scale), seed=1)


def make_fields(scale: float) -> Stream:
    return fields_stream(round(100_000 * scale), seed=2)


WORDS = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
]


def make_crlf_multiline(scale: float) -> Stream:
    rng = random.Random(3)
    parts: list[str] = []
    chars = 0
    events = round(50_000 * scale)
    for i in range(events):
        lines = [
            f"{i}.{j} " + " ".join(rng.choices(WORDS, k=rng.randint(2, 8)))
            for j in range(rng.randint(3, 5))
        ]
        chars += len("\n".join(lines))
        parts.extend(f"data: {line}\r\n" for line in lines)
        parts.append("\r\n")
    return Stream("".join(parts).encode(), events, chars)


def make_big(scale: float) -> Stream:
    size = round(32 * MIB * scale)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    payload = (alphabet * (size // len(alphabet) + 1))[:size]
    return Stream(b"data: " + payload + b"\n\n", 1, size)


def make_bytewise(scale: float) -> Stream:
    # llm events average ~70 bytes: about 2 MB at full scale.
    return llm_stream(round(29_000 * scale), seed=4)


PARSE_WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            "llm",
            "small JSON data: events (LLM token stream), 128-320 B chunks",
            "random:11:128:320",
            make_llm,
        ),
        Workload(
            "fields",
            "id:/event:/data: events, 4 KiB chunks",
            "fixed:4096",
            make_fields,
        ),
        Workload(
            "crlf_multiline",
            "3-5 data: lines per event, CRLF line ends, 4 KiB chunks",
            "fixed:4096",
            make_crlf_multiline,
        ),
        Workload(
            "big",
            "one single-line data: event (32 MiB full scale), 4 KiB chunks",
            "fixed:4096",
            make_big,
        ),
        Workload(
            "bytewise",
            "llm-style stream (~2 MB full scale), 1-byte chunks",
            "fixed:1",
            make_bytewise,
        ),
    )
}

#: bench_e2e.py's bodies: name -> (description, stream of N events).
E2E_WORKLOADS: dict[str, tuple[str, Callable[[int], Stream]]] = {
    "llm": (
        "data: {chat.completion.chunk JSON} events, ~240 B each",
        lambda events: chat_completion_stream(events, seed=5),
    ),
    "fields": (
        "id: N / event: update / data: {JSON} events, ~110 B each",
        lambda events: fields_stream(events, seed=6),
    ),
}
