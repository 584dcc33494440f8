"""sseclient-py's documented usage, run unchanged against this library.

The code blocks below are copied verbatim from the README (the package's
long description) of sseclient-py 1.9.0, and of 1.8.0, whose older example
(``client = sseclient.SSEClient(response)`` with the response object itself)
is the one most code in the wild was copied from.  The only change made at run
time is the URL, pointed at a local `SSEServer`.  The ``close()`` test
follows 1.9.0's docstrings (``SSEClient.__init__``: "The event source is
expected to be a binary stream and have a close() method"; ``close()``:
"Manually close the event source stream.").

What the examples pass to ``SSEClient``:

* ``with_urllib3``: the urllib3 ``HTTPResponse`` itself (iterating it yields
  its body line by line, split at LF only);
* ``with_requests``: the requests ``Response`` itself (iterating it yields
  128-byte ``iter_content`` chunks);
* ``with_httpx``: ``s.iter_bytes()`` (1.9.0), or a generator re-yielding it
  (1.8.0).
"""

from __future__ import annotations

import json
import pprint
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3
from servers import Action, Response, SSEServer, WaitFor
from stream_files import as_dicts, expected_events, load_stream

import sseclient

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_URL = "http://domain.com/events"

# sseclient-py 1.9.0 README, "Usage" (verbatim).
README_1_9_0 = '''\
import sseclient

def with_urllib3(url):
    """Get a streaming response for the given event feed using urllib3."""
    import urllib3
    http = urllib3.PoolManager()
    res = http.request('GET', url, preload_content=False)
    yield from sseclient.SSEClient(res).events()

def with_requests(url):
    """Get a streaming response for the given event feed using requests."""
    import requests
    res = requests.get(url, stream=True)
    yield from sseclient.SSEClient(res).events()

def with_httpx(url):
    """Get a streaming response for the given event feed using httpx."""
    import httpx
    with httpx.stream('GET', url) as s:
        # Note: 'yield from' is Python >= 3.3. Use for/yield instead if you
        # are using an earlier version.
        yield from sseclient.SSEClient(s.iter_bytes()).events()


url = 'http://domain.com/events'
for event in with_urllib3(url):
    ...
for event in with_requests(url):
    ...
for event in with_httpx(url):
    ...
'''

# sseclient-py 1.8.0 README, "Usage" (verbatim).
README_1_8_0 = '''\
import json
import pprint
import sseclient

def with_urllib3(url, headers):
    """Get a streaming response for the given event feed using urllib3."""
    import urllib3
    http = urllib3.PoolManager()
    return http.request('GET', url, preload_content=False, headers=headers)

def with_requests(url, headers):
    """Get a streaming response for the given event feed using requests."""
    import requests
    return requests.get(url, stream=True, headers=headers)

def with_httpx(url, headers):
    """Get a streaming response for the given event feed using httpx."""
    import httpx
    with httpx.stream('GET', url, headers=headers) as s:
        # Note: 'yield from' is Python >= 3.3. Use for/yield instead if you
        # are using an earlier version.
        yield from s.iter_bytes()


url = 'http://domain.com/events'
headers = {'Accept': 'text/event-stream'}
response = with_urllib3(url, headers)  # or with_requests(url, headers)
client = sseclient.SSEClient(response)
for event in client.events():
    pprint.pprint(json.loads(event.data))
'''

#: A spread of the stream files (tests/streams/): LF/JSON, CRLF+BOM, multi-byte
#: text, CR-only line ends (urllib3's line iterator splits at LF only),
#: truncation.
STREAMS = [
    "anthropic_messages",
    "dotnet_crlf_bom",
    "unicode_multibyte",
    "mixed_line_endings",
    "truncated_final_event",
]
#: Streams whose every event's data is JSON (the 1.8.0 example json.loads it).
JSON_STREAMS = ["anthropic_messages", "firebase", "heartbeat_retry_ids"]
FRAMINGS = ["chunked", "close"]


def load(name: str) -> tuple[bytes, list[dict[str, Any]]]:
    """A stream file's body and its expected events."""
    body, expected = load_stream(name)
    return body, expected_events(expected)


def run_example(source: str, url: str, *, definitions_only: bool = False) -> dict:
    """Execute README code with only its URL changed; return its namespace."""
    assert source.count(EXAMPLE_URL) == 1
    if definitions_only:
        source = source.split("\n\nurl = ", 1)[0] + "\n"
    namespace: dict[str, Any] = {"__name__": "sseclient_py_readme"}
    code = compile(source.replace(EXAMPLE_URL, url), "README.rst", "exec")
    exec(code, namespace)
    return namespace


def serve(name: str, framing: str) -> SSEServer:
    body, _ = load(name)
    # Several writes, so chunked framing gives several HTTP chunks.
    pieces = [body[i : i + 100] for i in range(0, len(body), 100)]
    return SSEServer(Response(pieces, framing=framing))


def test_this_is_the_library_under_test() -> None:
    """``import sseclient`` in the examples must be this project's module."""
    assert hasattr(sseclient, "EventStreamParser")
    assert Path(sseclient.__file__).resolve().parent == ROOT


@pytest.mark.parametrize("framing", FRAMINGS)
def test_readme_1_9_0_runs_as_written(framing: str) -> None:
    """The whole 1.9.0 usage block, module-level loops included."""
    with serve("anthropic_messages", framing) as server:
        run_example(README_1_9_0, server.url)
        assert server.wait_idle()
        assert server.errors == []
    assert len(server.requests) == 3
    agents = {r.headers.get("user-agent", "").split("/")[0] for r in server.requests}
    assert agents == {
        "python-urllib3",
        "python-requests",
        "python-httpx",
    }


@pytest.mark.parametrize("transport", ["with_urllib3", "with_requests", "with_httpx"])
@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("name", STREAMS)
def test_readme_1_9_0_example_events(name: str, framing: str, transport: str) -> None:
    _, expected = load(name)
    with serve(name, framing) as server:
        example = run_example(README_1_9_0, server.url, definitions_only=True)
        events = list(example[transport](server.url))
        assert server.wait_idle()
    assert all(isinstance(e, sseclient.Event) for e in events)
    assert as_dicts(events) == expected


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("name", JSON_STREAMS)
def test_readme_1_8_0_runs_as_written(
    name: str, framing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The 1.8.0 block: ``SSEClient(response)`` with urllib3's response
    object, then ``pprint.pprint(json.loads(event.data))`` for each event."""
    _, expected = load(name)
    with serve(name, framing) as server:
        run_example(README_1_8_0, server.url)
        assert server.wait_idle()
    printed = capsys.readouterr().out
    assert printed == "".join(
        pprint.pformat(json.loads(e["data"])) + "\n" for e in expected
    )
    (request,) = server.requests
    assert request.headers.get("accept") == "text/event-stream"


@pytest.mark.parametrize("transport", ["with_urllib3", "with_requests", "with_httpx"])
@pytest.mark.parametrize("name", STREAMS)
def test_readme_1_8_0_example_events(name: str, transport: str) -> None:
    """1.8.0's "# or with_requests(url, headers)": each helper's return value
    (a urllib3 response, a requests response, a generator of bytes) handed
    to ``SSEClient`` as is."""
    _, expected = load(name)
    with serve(name, "chunked") as server:
        example = run_example(README_1_8_0, server.url, definitions_only=True)
        headers = {"Accept": "text/event-stream"}
        client = example["sseclient"].SSEClient(example[transport](server.url, headers))
        events = list(client.events())
        assert server.wait_idle()
    assert as_dicts(events) == expected


def _urllib3_response(url: str) -> Any:
    return urllib3.PoolManager().request("GET", url, preload_content=False)


def _requests_response(url: str) -> Any:
    return requests.get(url, stream=True, timeout=10)


@pytest.mark.parametrize("opener", [_urllib3_response, _requests_response])
def test_close_closes_the_event_source(opener: Any) -> None:
    """``SSEClient(response).close()`` closes the response mid-stream, as
    sseclient-py documents."""
    body, expected = load("firebase")
    first = body.index(b"\n\n") + 2
    release = threading.Event()
    script: list[Action] = [body[:first], WaitFor(release, 5.0), body[first:] * 50]
    with SSEServer(Response(script, framing="chunked")) as server:
        response = opener(server.url)
        client = sseclient.SSEClient(response)
        events = client.events()
        assert as_dicts([next(events)]) == expected[:1]
        client.close()
        closed = getattr(response, "closed", None)
        if closed is None:  # requests: the raw urllib3 response
            closed = response.raw.closed
        assert closed
        release.set()
        assert server.wait_idle()
