"""Builds the synthetic ``*.sse`` byte streams in this folder.

Run ``python tests/streams/synthetic/generate_streams.py`` to (re)write them;
the test suite checks that the committed files still equal what this script
builds, so a line-ending conversion or a stray edit is caught.

Only the ``.sse`` files come from here (and ``large_payload.expected.json``).
Every other ``NAME.expected.json`` is written by hand from the WHATWG
"Interpreting an event stream" rules (see README.md) and is never produced by
running a parser.

Each stream is written from literals here, in the framing a server of that
kind uses; none was recorded from a running server.  Some are framed with LF,
one with CRLF and a BOM, one mixing CR, LF and CRLF, some cut off mid-event.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def lf(text: str) -> bytes:
    """A text stream framed with LF, as most servers send it."""
    return text.encode("utf-8")


# --- OpenAI chat completions (stream=true, stream_options.include_usage) ---
_OAI_HEAD = (
    '{"id":"chatcmpl-9xQ2mZb7LwKp3","object":"chat.completion.chunk",'
    '"created":1718123456,"model":"gpt-4o-mini-2024-07-18",'
    '"system_fingerprint":"fp_0ba0d124f1",'
)
_OAI_DELTAS = [
    '"choices":[{"index":0,"delta":{"role":"assistant","content":"",'
    '"refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}',
    '"choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,'
    '"finish_reason":null}],"usage":null}',
    '"choices":[{"index":0,"delta":{"content":"!"},"logprobs":null,'
    '"finish_reason":null}],"usage":null}',
    # JSON escapes (backslash-n, backslash-quote) are just characters here.
    '"choices":[{"index":0,"delta":{"content":" Here is a list:\\n\\n1. data: '
    'not a field\\n2. id: 42 \\"quoted\\""},"logprobs":null,'
    '"finish_reason":null}],"usage":null}',
    '"choices":[{"index":0,"delta":{"content":" caf\\u00e9 \\ud83d\\ude80"},'
    '"logprobs":null,"finish_reason":null}],"usage":null}',
    '"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],'
    '"usage":null}',
    '"choices":[],"usage":{"prompt_tokens":19,"completion_tokens":14,'
    '"total_tokens":33}}',
]
OPENAI = lf(
    "".join(f"data: {_OAI_HEAD}{d}\n\n" for d in _OAI_DELTAS) + "data: [DONE]\n\n"
)

# --- Anthropic Messages API (stream=true), text then a tool_use block ---
ANTHROPIC = lf(
    "event: message_start\n"
    'data: {"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL",'
    '"type":"message","role":"assistant","content":[],'
    '"model":"claude-3-5-sonnet-20241022","stop_reason":null,"stop_sequence":null,'
    '"usage":{"input_tokens":472,"output_tokens":2}}}\n'
    "\n"
    "event: content_block_start\n"
    'data: {"type":"content_block_start","index":0,'
    '"content_block":{"type":"text","text":""}}\n'
    "\n"
    "event: ping\n"
    'data: {"type": "ping"}\n'
    "\n"
    "event: content_block_delta\n"
    'data: {"type":"content_block_delta","index":0,'
    '"delta":{"type":"text_delta","text":"Okay"}}\n'
    "\n"
    "event: content_block_delta\n"
    'data: {"type":"content_block_delta","index":0,'
    '"delta":{"type":"text_delta","text":", let\'s check the weather:"}}\n'
    "\n"
    "event: content_block_stop\n"
    'data: {"type":"content_block_stop","index":0}\n'
    "\n"
    "event: content_block_start\n"
    'data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use",'
    '"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}\n'
    "\n"
    "event: content_block_delta\n"
    'data: {"type":"content_block_delta","index":1,'
    '"delta":{"type":"input_json_delta","partial_json":""}}\n'
    "\n"
    "event: content_block_delta\n"
    'data: {"type":"content_block_delta","index":1,'
    '"delta":{"type":"input_json_delta",'
    '"partial_json":"{\\"location\\": \\"San Fra"}}\n'
    "\n"
    "event: ping\n"
    'data: {"type": "ping"}\n'
    "\n"
    "event: content_block_delta\n"
    'data: {"type":"content_block_delta","index":1,'
    '"delta":{"type":"input_json_delta","partial_json":"ncisco, CA\\"}"}}\n'
    "\n"
    "event: content_block_stop\n"
    'data: {"type":"content_block_stop","index":1}\n'
    "\n"
    "event: message_delta\n"
    'data: {"type":"message_delta","delta":{"stop_reason":"tool_use",'
    '"stop_sequence":null},"usage":{"output_tokens":89}}\n'
    "\n"
    "event: message_stop\n"
    'data: {"type":"message_stop"}\n'
    "\n"
)

# --- A Mercure-style hub: heartbeat comments, retry, ids (some non-numeric) ---
HEARTBEAT = lf(
    ":\n"
    "retry: 2000\n"
    "\n"
    "id: urn:uuid:5e94c686-2c0b-4f9b-958c-92ccc3bbb4eb\n"
    'data: {"@id":"/books/1","status":"OutOfStock"}\n'
    "\n"
    ": heartbeat\n"
    "\n"
    ": heartbeat\n"
    "\n"
    "id: urn:uuid:1c4a0b6e-8d2e-4f1a-9a7e-2f3c5d6e7f80\n"
    "event: book-updated\n"
    "retry: 5000\n"
    'data: {"@id":"/books/2","price":12.99}\n'
    "\n"
    'data: {"@id":"/books/3","status":"InStock"}\n'
    "\n"
    "retry: 10s\n"
    'data: {"@id":"/books/4"}\n'
    "\n"
    "retry: 7500\n"
    "retry: 1e3\n"
    "id: 42\n"
    'data: {"@id":"/books/5"}\n'
    "\n"
    "id: 43\n"
    "\n"
    ": ping\n"
    'data: {"@id":"/books/6"}\n'
    "\n"
    "retry:  250\n"
    "retry:250\n"
    'data:{"@id":"/books/7"}\n'
    "\n"
    ": heartbeat\n"
    "\n"
)

# --- ASP.NET-style: UTF-8 BOM first, CRLF everywhere ---
DOTNET_CRLF = b"\xef\xbb\xbf" + "\r\n".join(
    [
        "retry: 3000",
        "id: 1",
        "event: orderCreated",
        'data: {"orderId":"A-1001","total":42.5,"currency":"EUR"}',
        "",
        ":",
        "",
        "id: 2",
        "event: orderShipped",
        'data: {"orderId":"A-1001","carrier":"DHL","eta":"2024-06-12T10:00:00+02:00"}',
        "",
        "id: 3",
        "event: orderNote",
        "data: Customer requested",
        "data: gift wrapping.",
        "",
        "id: 4",
        "data: ",
        "",
        ": keep-alive 00:00:15",
        "",
        "id: 5",
        "event: orderCancelled",
        'data: {"orderId":"A-1002","reason":"payment_failed"}',
        "",
        "",
    ]
).encode("utf-8")

# --- Pretty-printed JSON (JSON.stringify(obj, null, 2)) split over data lines ---
MULTILINE_JSON = lf(
    "event: deployment\n"
    "id: 1\n"
    "data: {\n"
    'data:   "kind": "Deployment",\n'
    'data:   "metadata": {\n'
    'data:     "name": "api",\n'
    'data:     "annotations": {\n'
    'data:       "url": "http://api.internal:8080/healthz"\n'
    "data:     }\n"
    "data:   },\n"
    'data:   "replicas": 3\n'
    "data: }\n"
    "\n"
    "event: note\n"
    "data: First paragraph.\n"
    "data\n"
    "data: Second paragraph:  with trailing spaces  \n"
    "data:\n"
    "\n"
    "data: [\n"
    "data: \t1,\n"
    'data: \t{"a": "b:c"}\n'
    "data: ]\n"
    "\n"
    "data: before a whitespace-only line\n"
    "   \n"
    "\t\n"
    "data: after it\n"
    "\n"
)

# --- CI log streaming (GitHub Actions-like timestamps, ANSI colours) ---
CI_LOG = lf(
    "retry: 1000\n"
    "id: 1\n"
    "event: job\n"
    'data: {"id":1837,"name":"build (ubuntu-latest, 3.11)","status":"in_progress"}\n'
    "\n"
    "id: 2\n"
    "event: log\n"
    "data: 2024-06-11T09:14:02.1931020Z ##[group]Run actions/checkout@v4\n"
    "data: 2024-06-11T09:14:02.1932511Z with:\n"
    "data: 2024-06-11T09:14:02.1933003Z   repository: octo-org/hello-world\n"
    "data: 2024-06-11T09:14:02.1933410Z   fetch-depth: 1\n"
    "data: 2024-06-11T09:14:02.1934022Z ##[endgroup]\n"
    "\n"
    "id: 3\n"
    "event: log\n"
    "data: 2024-06-11T09:14:05.0012345Z \x1b[36;1mpython -m pytest -q\x1b[0m\n"
    "data: 2024-06-11T09:14:09.8811230Z "
    "........................................ [100%]\n"
    "data: 2024-06-11T09:14:09.8812000Z \x1b[32m40 passed\x1b[0m in 4.12s\x0c\n"
    "\n"
    ": keep-alive\n"
    "\n"
    "id: 4\n"
    "event:log\n"
    "data:\t2024-06-11T09:14:10.0000001Z Post job cleanup.\n"
    "\n"
    "id: 5\n"
    "event: job\n"
    'data: {"id":1837,"status":"completed","conclusion":"success"}\n'
    "\n"
    "event: end\n"
    "data: \n"
    "\n"
)

# --- Firebase Realtime Database REST streaming ---
FIREBASE = lf(
    "event: put\n"
    'data: {"path":"/","data":{"users":{"alice":{"name":"Alice","online":true}},'
    '"count":1}}\n'
    "\n"
    "event: patch\n"
    'data: {"path":"/users/alice","data":{"online":false}}\n'
    "\n"
    "event: keep-alive\n"
    "data: null\n"
    "\n"
    "event: put\n"
    'data: {"path":"/users/bob","data":{"name":"Bob","online":true}}\n'
    "\n"
    "event: put\n"
    'data: {"path":"/users/alice","data":null}\n'
    "\n"
    "event: keep-alive\n"
    "data: null\n"
    "\n"
    "event: auth_revoked\n"
    'data: "credential is no longer valid"\n'
    "\n"
)

# --- Non-ASCII text: CJK, emoji, astral plane, RTL, and characters that
# str.splitlines() treats as line breaks but the event stream format does not
# (U+2028, U+2029, U+0085, VT, FF, FS, GS, RS).
UNICODE = lf(
    "id: 消息-001\n"
    "event: chat\n"
    'data: {"user":"李雷","text":"你好，世界！こんにちは 🌍🚀"}\n'  # noqa: RUF001
    "\n"
    "id: 消息-002\n"
    "event: chat\n"
    "data: 🇯🇵 flag, 👩\u200d👩\u200d👧\u200d👦 family, \u00e9 vs e\u0301\n"
    "data: 한국어 텍스트 \u05e2\u05d1\u05e8\u05d9\u05ea "
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629\n"
    "\n"
    ": 💓 heartbeat with an emoji\n"
    "\n"
    "event: 🚀\n"
    "data: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 astral plane: 𠜎𠜱𠝹\n"  # noqa: RUF001
    "\n"
    'data: {"text":"para\u2028line\u2029nel\u0085vt\x0bff\x0cfs\x1cgs\x1drs\x1eend"}\n'
    "\n"
    "id: 消息-003\n"
    "data: trailing emoji 😀\n"
    "\n"
)

# --- A legacy server that sends ISO-8859-1 (and worse) as if it were UTF-8 ---
MISLABELED = (
    b"event: greeting\n"
    b"data: Gr\xfc\xdfe aus K\xf6ln\n"
    b"\n"
    b"id: caf\xe9\n"
    b"data: na\xefve \xa9 2024\n"
    b"\n"
    b": comment with junk \xff\xfe\n"
    b"data: truncated \xe2\x82 euro\n"
    b"\n"
    b"data: overlong \xc0\xaf surrogate \xed\xa0\x80 cut \xf0\x9f\x98\n"
    b"\n"
    b"data: valid: \xe2\x82\xac \xf0\x9f\x98\x80\n"
    b"\n"
)

# --- A job-status stream whose server died before the last blank line ---
TRUNCATED_EVENT = lf(
    "retry: 3000\n"
    "id: 100\n"
    "event: status\n"
    'data: {"state":"running","progress":0.5}\n'
    "\n"
    "id: 101\n"
    "event: status\n"
    'data: {"state":"running","progress":0.75}\n'
    "\n"
    "id: 102\n"
    "event: status\n"
    "retry: 9000\n"
    'data: {"state":"done","progress":1.0}\n'
)

# --- A token stream cut mid-line, in the middle of a UTF-8 character ---
TRUNCATED_MID_CHAR = (
    b'event: token\ndata: {"text":"Bon"}\n\nevent: token\ndata: {"text":"jour caf\xc3'
)

# --- Line endings mixed by a proxy, ending in a bare CR at end of stream ---
MIXED_EOL = (
    b"id: a\r\ndata: crlf\r\n\r\n"
    b"id: b\ndata: lf\n\n"
    b"id: c\rdata: cr\r\r"
    b"data: m1\rdata: m2\ndata: m3\r\n\n"
    b"data: x\n\r\n"
    b"data: y\r\r\n"
    b"data: z\n\r\r\n"
    b"event: last\rdata: end\r\r"
)

# --- Spec corner cases a real stream may hit ---
CORNERS = (
    b"id: 1\n"
    b"data:  two leading spaces\n"
    b"\n"
    b"Data: capitalised field name is another field\n"
    b"data : space before the colon too\n"
    b" data: and a leading space\n"
    b"foo: unknown field\n"
    b"data: only this line counts\n"
    b"\n"
    b"id: bad\x00id\n"
    b"data: an id with NUL is ignored\n"
    b"\n"
    b"event: custom\n"
    b"\n"
    b"data: the event type does not carry over\n"
    b"\n"
    b"event\n"
    b"data: an empty event type means message\n"
    b"\n"
    b"id: 2\n"
    b"\n"
    b"data: an id-only block still sets the last event ID\n"
    b"\n"
    b"id\n"
    b"data: a bare id resets the last event ID\n"
    b"\n"
    b"data\n"
    b"\n"
    b"data:\n"
    b"data:\n"
    b"\n"
    b"data: a:b:c\n"
    b"\n"
    b"event: x\n"
    b"event: y\n"
    b"retry: 100\n"
    b"retry: 200x\n"
    b"data: the last valid value wins\n"
    b"\n"
    b"retry: \xd9\xa1\xd9\xa2\xd9\xa3\n"
    b"retry: \xc2\xb2\n"
    b"retry: +5\n"
    b"retry: 5 \n"
    b"retry: 1_000\n"
    b"retry: -1\n"
    b"data: none of those retry values is valid\n"
    b"\n"
    b"retry: 0\n"
    b"data: zero is valid\n"
    b"\n"
    b"retry: 007\n"
    b"id: \xc3\xbcmlaut-\xe2\x84\x96 7\n"
    b"data: leading zeros\n"
    b"\n"
)


def _large_payload() -> tuple[bytes, dict[str, object]]:
    """An image-generation-like stream: one event carries ~40 KB of base64, one
    has 40 data lines.  This is the one stream whose expected file is written
    here (it is too big to write by hand); the expected values below are
    spelled out from the rules, not read back from the bytes.
    """
    raw = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(960))
    b64 = base64.b64encode(raw).decode("ascii")
    assert len(b64) == 40960
    image = f'{{"b64_json":"{b64}","partial_image_index":0}}'
    rows = [f"row {i:03d} " + "x" * 100 for i in range(40)]
    body = lf(
        "event: image_generation.partial_image\n"
        "id: img-1\n"
        f"data: {image}\n"
        "\n"
        "event: table\n" + "".join(f"data: {row}\n" for row in rows) + "\n"
        "event: image_generation.completed\n"
        'data: {"status":"completed"}\n'
        "\n"
    )
    expected: dict[str, object] = {
        "description": "A ~40 KB single-line data field (base64 image) and a"
        " 40-line data field, for buffer handling across many chunks."
        " Generated by generate_streams.py.",
        "events": [
            {
                "id": "img-1",
                "event": "image_generation.partial_image",
                "retry": None,
                "data": image,
            },
            # Each data line adds its value and an LF; the last LF is removed.
            {"id": "img-1", "event": "table", "retry": None, "data": "\n".join(rows)},
            {
                "id": "img-1",
                "event": "image_generation.completed",
                "retry": None,
                "data": '{"status":"completed"}',
            },
        ],
        "last_event_id": "img-1",
        "retry": None,
    }
    return body, expected


LARGE_PAYLOAD, LARGE_PAYLOAD_EXPECTED = _large_payload()

STREAMS: dict[str, bytes] = {
    "openai_chat_completion": OPENAI,
    "anthropic_messages": ANTHROPIC,
    "heartbeat_retry_ids": HEARTBEAT,
    "dotnet_crlf_bom": DOTNET_CRLF,
    "multiline_json": MULTILINE_JSON,
    "ci_log": CI_LOG,
    "firebase": FIREBASE,
    "unicode_multibyte": UNICODE,
    "mislabeled_latin1": MISLABELED,
    "truncated_final_event": TRUNCATED_EVENT,
    "truncated_mid_char": TRUNCATED_MID_CHAR,
    "mixed_line_endings": MIXED_EOL,
    "spec_corner_cases": CORNERS,
    "large_payload": LARGE_PAYLOAD,
}


def main() -> int:
    for name, body in STREAMS.items():
        (HERE / f"{name}.sse").write_bytes(body)
        print(f"{name}.sse: {len(body)} bytes")
    expected = json.dumps(LARGE_PAYLOAD_EXPECTED, indent=2, ensure_ascii=False)
    (HERE / "large_payload.expected.json").write_text(expected + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
