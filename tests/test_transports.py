"""SSEClient over real HTTP responses: each event as soon as it arrives.

Every test runs a raw-socket server on 127.0.0.1 (`servers.SSEServer`) that
writes the body exactly as scripted, with chunked framing, ``Connection:
close`` framing (no length: the body ends when the server closes) or a
``Content-Length``.  Latency is proven by a handshake, never a clock: the
server sends one event, then waits on a `threading.Event` that the test sets
only once SSEClient has yielded that event.  A client that holds the event
back until more bytes come times out its read (``TIMEOUT``) and fails, well
before the server would give up waiting (which `SSEServer.timeouts` would
count).
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import io
import re
import socket
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
import requests
import urllib3
from processes import run_captured
from servers import EVENT_STREAM, Close, Pause, Response, SSEServer, WaitFor, split_at

from sseclient import NotStreamingWarning, SSEClient, SSEError

#: A client read that waits this long fails the test.
TIMEOUT = 3.0
#: How long the server waits for the test's go-ahead (longer than TIMEOUT).
SERVER_WAIT = 8.0

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------
# The clients: each opens a streaming GET and returns the response object
# that users hand to SSEClient.  Anything to clean up goes on `stack`.
# ---------------------------------------------------------------------------

Opener = Callable[..., Any]  # (url, stack, timeout=TIMEOUT) -> response


def open_requests(
    url: str, stack: contextlib.ExitStack, timeout: float = TIMEOUT
) -> Any:
    response = requests.get(url, stream=True, timeout=timeout)
    stack.callback(response.close)
    return response


def urllib3_pool(
    stack: contextlib.ExitStack, timeout: float = TIMEOUT
) -> urllib3.PoolManager:
    timeouts = urllib3.Timeout(connect=timeout, read=timeout)
    return stack.enter_context(urllib3.PoolManager(retries=False, timeout=timeouts))


def open_urllib3(
    url: str, stack: contextlib.ExitStack, timeout: float = TIMEOUT
) -> Any:
    return urllib3_pool(stack, timeout).request("GET", url, preload_content=False)


class WithoutRead1:
    """A urllib3 response as urllib3 1.26 to 2.1 has it: no ``read1``.

    SSEClient reads every urllib3 version through the http.client response
    under it, so this checks that it needs no ``read1`` of urllib3's
    (``tox -e urllib3-1.26`` runs everything on the real one)."""

    def __init__(self, response: Any) -> None:
        self._response = response

    def __getattr__(self, name: str) -> Any:
        if name == "read1":
            raise AttributeError(name)
        return getattr(self._response, name)


def open_urllib3_enforcing(
    url: str, stack: contextlib.ExitStack, timeout: float = TIMEOUT
) -> Any:
    """A urllib3 response that checks the Content-Length (1.26: not by
    default), as urllib3 2 does."""
    pool = urllib3_pool(stack, timeout)
    return pool.request("GET", url, preload_content=False, enforce_content_length=True)


def open_urllib3_without_read1(
    url: str, stack: contextlib.ExitStack, timeout: float = TIMEOUT
) -> Any:
    return WithoutRead1(open_urllib3(url, stack, timeout))


def open_http_client(
    url: str, stack: contextlib.ExitStack, timeout: float = TIMEOUT
) -> Any:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    stack.callback(connection.close)
    connection.request("GET", parts.path)
    return connection.getresponse()


def open_urlopen(
    url: str, stack: contextlib.ExitStack, timeout: float = TIMEOUT
) -> Any:
    response = urllib.request.urlopen(url, timeout=timeout)
    stack.callback(response.close)
    return response


def httpx_client(
    module: str, stack: contextlib.ExitStack, timeout: float = TIMEOUT
) -> Any:
    httpx = pytest.importorskip(module)
    return stack.enter_context(httpx.Client(timeout=timeout))


def open_httpx(url: str, stack: contextlib.ExitStack, timeout: float = TIMEOUT) -> Any:
    client = httpx_client("httpx", stack, timeout)
    return stack.enter_context(client.stream("GET", url))


def open_httpx2(url: str, stack: contextlib.ExitStack, timeout: float = TIMEOUT) -> Any:
    client = httpx_client("httpx2", stack, timeout)
    return stack.enter_context(client.stream("GET", url))


CLIENTS: dict[str, Opener] = {
    "requests": open_requests,
    "urllib3": open_urllib3,
    "urllib3-without-read1": open_urllib3_without_read1,
    "http.client": open_http_client,
    "urlopen": open_urlopen,
    "httpx": open_httpx,
    # httpx2 only where it is installed: it needs Python 3.11.
    **({"httpx2": open_httpx2} if importlib.util.find_spec("httpx2") else {}),
}

FRAMINGS = ("chunked", "close", "length")

#: Every opener, those only some tests use too.
OPENERS: dict[str, Opener] = {**CLIENTS, "urllib3-enforcing": open_urllib3_enforcing}


def is_closed(response: Any) -> bool:
    """Whether the response (and so its connection) has been closed."""
    if hasattr(response, "is_closed"):  # httpx
        return bool(response.is_closed)
    if hasattr(response, "iter_content"):  # requests
        return bool(response.raw.closed)
    if hasattr(response, "release_conn"):  # urllib3: closed, connection let go
        return bool(response.closed) and response.connection is None
    return bool(response.isclosed())  # http.client


@pytest.fixture
def stack() -> Iterator[contextlib.ExitStack]:
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture
def go() -> threading.Event:
    """The test's go-ahead to the server (or writer) that waits for it."""
    return threading.Event()


def datas(events: Any) -> list[str]:
    return [event.data for event in events]


def waits_after_first(
    go: threading.Event,
    pieces: tuple[bytes, bytes] = (b"data: first\n\n", b"data: second\n\n"),
    **options: Any,
) -> SSEServer:
    """A server whose stream sends ``pieces[0]``, waits for ``go`` (or
    SERVER_WAIT), then sends ``pieces[1]``; ``options`` are the `Response`'s."""
    script = [pieces[0], WaitFor(go, SERVER_WAIT), pieces[1]]
    return SSEServer(Response(script, **options))


def first_then_rest(client: SSEClient, go: threading.Event) -> tuple[str, list[str]]:
    """The first event's data, got before the server may go on; then the
    rest of the stream's."""
    events = iter(client)
    first = next(events).data
    go.set()
    return first, datas(events)


# ---------------------------------------------------------------------------
# Every client, every framing: the first event comes while the server waits.
# ---------------------------------------------------------------------------


def gzip_pieces(*parts: bytes) -> list[bytes]:
    """``parts`` gzip-compressed as one body, cut where each part ends: each
    piece is flushed, so it can be decoded before the next one comes."""
    compressor = zlib.compressobj(wbits=31)
    pieces = [
        compressor.compress(part) + compressor.flush(zlib.Z_SYNC_FLUSH)
        for part in parts
    ]
    pieces[-1] += compressor.flush()
    return pieces


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("client", CLIENTS)
def test_first_event_arrives_while_server_waits(
    client: str,
    framing: str,
    encoding: str,
    go: threading.Event,
    stack: contextlib.ExitStack,
) -> None:
    # A gzip body is decoded as it arrives.
    if encoding == "gzip":
        first, second = gzip_pieces(b"data: first\n\n", "data: sécond\n\n".encode())
        headers = (*EVENT_STREAM, ("Content-Encoding", "gzip"))
        expected = ("first", ["sécond"])
    else:
        first, second = b"data: first\n\n", b"data: second\n\n"
        headers = EVENT_STREAM
        expected = ("first", ["second"])
    options = {"framing": framing, "headers": headers}
    with waits_after_first(go, (first, second), **options) as server:
        response = CLIENTS[client](server.url, stack)
        with SSEClient(response) as events:
            assert first_then_rest(events, go) == expected
    assert server.timeouts == 0, "the first event waited for the server to go on"
    assert server.errors == []


# CRLF line ends and multi-byte characters, written in pieces cut inside a
# CRLF pair (both the line's and the blank line's), inside a two-byte and a
# four-byte character, and between "data" and its colon.
AWKWARD_BODY = "data: café\r\n\r\nid: 7\r\ndata: 😀 ok\r\ndata\r\n\r\n".encode()
AWKWARD_CUTS = [
    AWKWARD_BODY.index(b"\xa9"),  # é is C3 A9
    AWKWARD_BODY.index(b"\r\n") + 1,
    AWKWARD_BODY.index(b"\r\n\r\n") + 3,
    AWKWARD_BODY.index(b"\xf0") + 1,  # 😀 is F0 9F 98 80
    AWKWARD_BODY.index(b"\xf0") + 3,
    AWKWARD_BODY.rindex(b"data") + 4,
    len(AWKWARD_BODY) - 1,
]


@pytest.mark.parametrize("framing", ["chunked", "close"])
@pytest.mark.parametrize("client", CLIENTS)
def test_events_split_at_awkward_places(
    client: str, framing: str, stack: contextlib.ExitStack
) -> None:
    script: list[Any] = []
    for piece in split_at(AWKWARD_BODY, AWKWARD_CUTS):
        # A pause, so that each piece is its own TCP segment and its own read.
        script += [piece, Pause(0.005)]
    with SSEServer(Response(script, framing=framing)) as server:
        events = SSEClient(CLIENTS[client](server.url, stack))
        got = [(e.id, e.data) for e in events]
    assert got == [(None, "café"), ("7", "😀 ok\n")]


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("client", CLIENTS)
def test_body_ending_mid_event_drops_it_quietly(
    client: str, framing: str, stack: contextlib.ExitStack
) -> None:
    # With "close" framing the server hangs up mid-event; the others end the
    # body properly, mid-event.  Either way: "If the file ends in the middle
    # of an event, before the final empty line, the incomplete event is not
    # dispatched."
    script = [b"data: one\n\n", b"data: unfinished\n"]
    with SSEServer(Response(script, framing=framing)) as server:
        assert datas(SSEClient(CLIENTS[client](server.url, stack))) == ["one"]


def truncation_error(client: str) -> type[BaseException]:
    """What the client raises for a chunked body cut short."""
    if client == "requests":
        return requests.exceptions.ChunkedEncodingError
    if client.startswith("urllib3"):
        return urllib3.exceptions.ProtocolError
    if client.startswith("httpx"):
        return pytest.importorskip(client).RemoteProtocolError  # type: ignore[no-any-return]
    return http.client.IncompleteRead


@pytest.mark.parametrize("client", CLIENTS)
def test_chunked_body_cut_short_raises_the_clients_error(
    client: str, stack: contextlib.ExitStack
) -> None:
    # The server drops the connection before the last chunk: an HTTP error,
    # raised as the HTTP library raises it (for requests, the error that its
    # iter_content raises, as under sseclient-py), after the events before it.
    got: list[str] = []
    script = [b"data: one\n\n", b"data: unfinished\n", Close()]
    with SSEServer(Response(script, framing="chunked")) as server:
        response = CLIENTS[client](server.url, stack)
        with pytest.raises(truncation_error(client)), SSEClient(response) as events:
            got.extend(e.data for e in events)
    assert got == ["one"]


# ---------------------------------------------------------------------------
# urllib3 (and requests over it): SSEClient reads the http.client response
# under urllib3's, and must end, fail and count as urllib3's own reads do.
# ---------------------------------------------------------------------------


def library_outcome(response: Any) -> type[BaseException] | None:
    """How the library's own iterator ends the body, read in blocks as a
    stream is read: the error it raises, or None for a quiet end."""
    try:
        if hasattr(response, "iter_content"):
            for _ in response.iter_content(1024):
                pass
        else:
            for _ in response.stream(1024, decode_content=True):
                pass
    except Exception as e:
        return type(e)
    return None


def sseclient_outcome(response: Any) -> tuple[list[str], type[BaseException] | None]:
    """The events SSEClient gives, and the error it ends with (or None)."""
    got: list[str] = []
    try:
        got.extend(event.data for event in SSEClient(response))
    except Exception as e:
        return got, type(e)
    return got, None


def two_events(encoding: str) -> list[bytes]:
    """Two events as two pieces of a body, gzip-encoded if asked."""
    pieces = [b"data: one\n\n", b"data: two\n\n"]
    return gzip_pieces(*pieces) if encoding == "gzip" else pieces


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
@pytest.mark.parametrize("client", ["requests", "urllib3", "urllib3-enforcing"])
def test_content_length_body_cut_short_ends_as_the_library_ends_it(
    client: str, encoding: str, stack: contextlib.ExitStack
) -> None:
    # The server closes the connection before the Content-Length is reached.
    # urllib3 2 raises ProtocolError (requests: ChunkedEncodingError); 1.26
    # only with enforce_content_length=True, which is not its default.
    pieces = two_events(encoding)
    length = str(sum(map(len, pieces)))
    headers = (
        *EVENT_STREAM,
        ("Content-Length", length),
        ("Content-Encoding", encoding),
    )
    # "close" framing: the server hangs up after the first piece, and the
    # Content-Length is the one given here.
    with SSEServer(Response(pieces[:1], "close", headers=headers)) as server:
        open_response = OPENERS[client]
        expected = library_outcome(open_response(server.url, stack))
        response = open_response(server.url, stack)
        assert sseclient_outcome(response) == (["one"], expected)
    if client == "urllib3-enforcing" or (
        client == "urllib3" and urllib3.__version__ >= "2"
    ):
        assert expected is urllib3.exceptions.ProtocolError
    if client == "requests" and urllib3.__version__ >= "2":
        assert expected is requests.exceptions.ChunkedEncodingError


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
@pytest.mark.parametrize("framing", ["chunked", "length"])
def test_urllib3_body_read_in_full_counts_bytes_and_frees_the_connection(
    framing: str, encoding: str, stack: contextlib.ExitStack
) -> None:
    # After the whole body: tell() gives the bytes read off the wire (before
    # decoding), and the connection is back in the pool, so that the next
    # request goes out on it.
    pieces = two_events(encoding)
    headers = (*EVENT_STREAM, ("Content-Encoding", encoding))
    with SSEServer(Response(pieces, framing, headers=headers)) as server:
        pool = urllib3_pool(stack)
        response = pool.request("GET", server.url, preload_content=False)
        assert datas(SSEClient(response)) == ["one", "two"]
        assert response.tell() == sum(map(len, pieces))
        assert response.connection is None  # given back to the pool
        again = pool.request("GET", server.url, preload_content=False)
        assert datas(SSEClient(again)) == ["one", "two"]
    assert [r.connection for r in server.requests] == [1, 1]


def test_urllib3_bytes_decoded_by_an_earlier_read_come_first(
    stack: contextlib.ExitStack,
) -> None:
    # urllib3's read1(n) of a gzip body reads a whole HTTP chunk and returns
    # n bytes of what it decodes: 2.2 to 2.5 keep the rest of the decoded
    # bytes for the next read, 2.6 and later the rest of the chunk in the
    # decoder.  SSEClient, reading on, must give them at once, without
    # waiting for the next chunk (which the server sends only then).
    go = threading.Event()
    first, second = gzip_pieces(b"data: 0\n\ndata: 1\n\n", b"data: 2\n\n")
    headers = (*EVENT_STREAM, ("Content-Encoding", "gzip"))
    script = [first, WaitFor(go, SERVER_WAIT), second]
    with SSEServer(Response(script, headers=headers)) as server:
        response = open_urllib3(server.url, stack)
        if not hasattr(response, "read1"):
            pytest.skip("urllib3 before 2.2 has no read1")
        assert response.read1(9) == b"data: 0\n\n"
        with SSEClient(response) as events:
            assert first_then_rest(events, go) == ("1", ["2"])
    assert server.timeouts == 0


# ---------------------------------------------------------------------------
# close() and the with block close the response.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["close", "with"])
@pytest.mark.parametrize("client", CLIENTS)
def test_close_closes_the_response_mid_stream(
    client: str, how: str, go: threading.Event, stack: contextlib.ExitStack
) -> None:
    with waits_after_first(go) as server:
        response = CLIENTS[client](server.url, stack)
        assert not is_closed(response)
        if how == "close":
            events = SSEClient(response)
            assert next(events).data == "first"
            events.close()
        else:
            with SSEClient(response) as events:
                assert next(events).data == "first"
        assert is_closed(response)
        assert list(events) == []
        go.set()


@pytest.mark.parametrize("framing", ["chunked", "close"])
@pytest.mark.parametrize("client", CLIENTS)
def test_close_from_another_thread_ends_a_blocked_read(
    client: str, framing: str, go: threading.Event, stack: contextlib.ExitStack
) -> None:
    # One thread is blocked in a read when another calls close(): close()
    # must not wait for that read, nor fail ("generator already executing"),
    # and the reading thread must end at once, quietly, while the server is
    # still waiting.  The client's read timeout is longer than the server's
    # wait here: a close() that waits for the read lets the server give up
    # and send the second event.
    with waits_after_first(go, framing=framing) as server:
        response = CLIENTS[client](server.url, stack, timeout=2 * SERVER_WAIT)
        events = SSEClient(response)
        assert next(events).data == "first"
        outcome: list[object] = []
        reader = threading.Thread(target=record, args=(lambda: list(events), outcome))
        reader.start()
        assert wait_until(lambda: events._iterator.gi_running)  # it is reading
        events.close()
        reader.join(SERVER_WAIT + TIMEOUT)
        assert not go.is_set() and not reader.is_alive()
        assert is_closed(response)
        go.set()
    assert outcome == [[]], "the read ended only when the server sent more"
    assert server.timeouts == 0


def record(function: Callable[[], object], outcome: list[object]) -> None:
    """Run `function`, and note what it returned or raised."""
    try:
        outcome.append(function())
    except Exception as e:
        outcome.append(e)


def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    done = threading.Event()
    for _ in range(int(timeout / 0.001)):
        if condition():
            return True
        done.wait(0.001)
    return False


# ---------------------------------------------------------------------------
# A response whose body was read in full: a warning that names the fix.
# ---------------------------------------------------------------------------


def open_requests_not_streamed(url: str, stack: contextlib.ExitStack) -> Any:
    return requests.get(url, timeout=TIMEOUT)


def open_urllib3_preloaded(url: str, stack: contextlib.ExitStack) -> Any:
    return urllib3_pool(stack).request("GET", url)


def open_httpx_read(url: str, stack: contextlib.ExitStack) -> Any:
    return httpx_client("httpx", stack).get(url)


@pytest.mark.parametrize(
    ("opener", "remedy"),
    [
        (open_requests_not_streamed, "stream=True"),
        (open_urllib3_preloaded, "preload_content=False"),
        (open_httpx_read, "client.stream("),
    ],
    ids=["requests", "urllib3", "httpx"],
)
def test_body_read_in_full_warns_and_still_parses(
    opener: Opener, remedy: str, stack: contextlib.ExitStack
) -> None:
    script = [b"data: one\n\n", b"data: two\n\n"]
    with SSEServer(Response(script)) as server:
        response = opener(server.url, stack)
        with pytest.warns(NotStreamingWarning, match=re.escape(remedy)) as record:
            events = SSEClient(response)
        assert datas(events) == ["one", "two"]
    assert record[0].filename == __file__  # it points at the SSEClient() line
    assert issubclass(NotStreamingWarning, SSEError)


def test_streamed_responses_do_not_warn(stack: contextlib.ExitStack) -> None:
    with SSEServer(Response([b"data: one\n\n"])) as server, warnings.catch_warnings():
        warnings.simplefilter("error")
        for open_response in (open_requests, open_urllib3, open_httpx):
            assert datas(SSEClient(open_response(server.url, stack))) == ["one"]


# ---------------------------------------------------------------------------
# http.client: SSEClient undoes the Content-Encoding itself.
# ---------------------------------------------------------------------------


def test_http_client_deflate_body(stack: contextlib.ExitStack) -> None:
    body = zlib.compress(b"data: squeezed\n\n")
    headers = (*EVENT_STREAM, ("Content-Encoding", "deflate"))
    with SSEServer(
        Response([body[:5], Pause(0.005), body[5:]], headers=headers)
    ) as server:
        response = open_http_client(server.url, stack)
        assert datas(SSEClient(response)) == ["squeezed"]


def test_http_client_unknown_content_encoding_is_an_error(
    stack: contextlib.ExitStack,
) -> None:
    headers = (*EVENT_STREAM, ("Content-Encoding", "br"))
    with SSEServer(Response([b"\x0b\x02\x80data"], headers=headers)) as server:
        response = open_http_client(server.url, stack)
        with pytest.raises(SSEError, match="Content-Encoding: br"):
            SSEClient(response)


# ---------------------------------------------------------------------------
# Binary file objects: read1 (buffered) or read (raw), what is there.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("buffering", [-1, 0], ids=["BufferedReader", "SocketIO"])
def test_socket_file_first_event_while_writer_waits(
    buffering: int, go: threading.Event
) -> None:
    ours, theirs = socket.socketpair()
    ours.settimeout(TIMEOUT)

    def write() -> None:
        with theirs:
            theirs.sendall(b"data: first\n\n")
            if go.wait(SERVER_WAIT):
                theirs.sendall(b"data: second\n\n")

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    file = ours.makefile("rb", buffering=buffering)
    with ours, SSEClient(file) as events:
        assert first_then_rest(events, go) == ("first", ["second"])
    assert file.closed
    writer.join(TIMEOUT)


def test_plain_iterables_still_work() -> None:
    chunks = [b"data: a", b"\n\n", b"data: b\n", b"\n"]
    assert datas(SSEClient(chunks)) == ["a", "b"]
    assert datas(SSEClient(iter(chunks))) == ["a", "b"]
    assert datas(SSEClient(io.BytesIO(b"".join(chunks)))) == ["a", "b"]


def test_module_needs_no_http_library() -> None:
    # In a fresh interpreter where the HTTP libraries cannot be imported,
    # the module imports and parses.
    code = """if True:
        import io, sys

        BLOCKED = {"requests", "urllib3", "httpx", "httpx2", "aiohttp"}

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in BLOCKED:
                    raise ImportError(f"blocked: {name}")

        sys.meta_path.insert(0, Block())
        import sseclient

        chunks = [b"data: a\\n", b"\\n"]
        assert [e.data for e in sseclient.SSEClient(chunks)] == ["a"]
        file = io.BytesIO(b"".join(chunks))
        assert [e.data for e in sseclient.SSEClient(file)] == ["a"]
        print("ok")
    """
    result = run_fresh_python(code)
    assert result.stdout == "ok\n", result.stderr


def test_module_does_not_import_http_libraries() -> None:
    libraries = "{'requests', 'urllib3', 'httpx', 'httpx2', 'aiohttp'}"
    code = f"import sys, sseclient; print(sorted({libraries} & set(sys.modules)))"
    result = run_fresh_python(code)
    assert result.stdout == "[]\n", result.stderr


def run_fresh_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter, from the repository's root."""
    return run_captured([sys.executable, "-c", code], cwd=ROOT)


# ---------------------------------------------------------------------------
# The README's examples, run as written against a local server.
# ---------------------------------------------------------------------------

DOC_FILES = [ROOT / "README.md"]
DOC_LIBRARIES = ["requests", "urllib3", "urllib.request", "http.client", "httpx"]


def doc_examples(library: str) -> list[str]:
    """The Python examples of the README that import `library`, fetch
    example.com and read it with `SSEClient` (tests/test_readme.py runs
    every example, reconnecting ones included)."""
    blocks: list[str] = []
    for path in DOC_FILES:
        if path.exists():
            for block in re.findall(r"```python\n(.*?)```", path.read_text(), re.S):
                if (
                    f"import {library}\n" in block
                    and "example.com" in block
                    and "SSEClient(" in block
                    and block not in blocks
                ):
                    blocks.append(block)
    return blocks


@pytest.mark.parametrize("library", DOC_LIBRARIES)
def test_doc_example_runs(library: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip(library)
    examples = doc_examples(library)
    assert examples, f"no example for {library} in {[p.name for p in DOC_FILES]}"
    script = [b"event: greeting\ndata: hello\n\n", b"data: world\n\n"]
    with SSEServer(Response(script, framing="close")) as server:
        for example in examples:
            local = example.replace("https://example.com", server.url.rstrip("/"))
            local = local.replace(
                'HTTPSConnection("example.com")',
                f'HTTPConnection("127.0.0.1", {server.port})',
            )
            assert "example.com" not in local
            exec(compile(local, f"<{library} example>", "exec"), {})
            lines = capsys.readouterr().out.splitlines()
            # Each example prints one line per event, with the data last.
            assert [line.rpartition(" ")[2] for line in lines] == ["hello", "world"]
            assert lines[0].startswith("greeting ")
