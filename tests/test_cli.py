"""The command line, run for real: ``python -m sseclient`` in a subprocess,
against servers on 127.0.0.1, files and pipes."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import servers
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

ROOT = Path(__file__).resolve().parent.parent
COMMAND = [sys.executable, "-m", "sseclient"]
TIMEOUT = 15  # seconds: a hang fails instead of blocking the run

STREAM = (
    b"retry: 20\n\n"
    b"id: 1\ndata: hello\ndata: world\n\n"
    b'id: 2\nevent: update\ndata: {"n": 2}\n\n'
)
STREAM_PRETTY = 'message id=1\n  hello\n  world\nupdate id=2\n  {"n": 2}\n'
STREAM_EVENTS = [
    {"id": "1", "event": "message", "data": "hello\nworld", "retry": None},
    {"id": "2", "event": "update", "data": '{"n": 2}', "retry": None},
]


def cli_env(**extra: str) -> dict[str, str]:
    # Output buffered as usual, so that a missing flush shows.
    unset = ("NO_COLOR", "PYTHONPATH", "PYTHONUNBUFFERED")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's sseclient.py, not an installed one
    env.update(extra)
    return env


def run_cli(
    *args: str, input: bytes | None = None, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*COMMAND, *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        env=cli_env(),
        cwd=ROOT,
    )
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8"),
        result.stderr.decode("utf-8"),
    )


def start_cli(*args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*COMMAND, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
        cwd=ROOT,
        **kwargs,
    )


class LineReader:
    """Lines of a pipe, read on a thread, so a test can wait for one with a
    timeout."""

    def __init__(self, pipe: Any) -> None:
        self._lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe: Any) -> None:
        for line in iter(pipe.readline, b""):
            self._lines.put(line)

    def next(self) -> str:
        return self._lines.get(timeout=TIMEOUT).decode()


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sseclient: error: ")
    return lines[0]


@pytest.fixture(scope="module")
def module_server() -> Iterator[HTTPServer]:
    # Threaded, so that a test can hold one stream open and still answer.
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def server(module_server: HTTPServer) -> Iterator[HTTPServer]:
    """A server on 127.0.0.1 with no handlers and an empty log."""
    module_server.clear()
    yield module_server
    module_server.clear()


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown: lets held streams (see `held_stream`) end."""
    event = threading.Event()
    yield event
    event.set()


def held_stream(body: bytes, release: threading.Event) -> Response:
    """A stream that sends `body`, then stays open until `release` is set."""

    def chunks() -> Iterator[bytes]:
        yield body
        release.wait(TIMEOUT)

    return Response(chunks(), content_type="text/event-stream")


def serve_stream_then_204(server: HTTPServer, body: bytes = STREAM) -> str:
    server.expect_oneshot_request("/stream").respond_with_data(
        body, content_type="text/event-stream"
    )
    server.expect_request("/stream").respond_with_data("", status=204)
    return server.url_for("/stream")


def requests_seen(server: HTTPServer) -> list[Request]:
    return [request for request, _ in server.log]


# -- output ------------------------------------------------------------------


def test_pretty_output_then_reconnect_and_end_on_204(server: HTTPServer) -> None:
    result = run_cli(serve_stream_then_204(server))
    assert (result.returncode, result.stdout, result.stderr) == (0, STREAM_PRETTY, "")
    first, second = requests_seen(server)
    assert first.headers.get("Last-Event-ID") is None
    assert second.headers.get("Last-Event-ID") == "2"


def test_json_output_one_object_per_line(server: HTTPServer) -> None:
    result = run_cli("--json", serve_stream_then_204(server))
    assert result.returncode == 0
    assert json_lines(result.stdout) == STREAM_EVENTS


def test_json_output_shows_retry_and_unicode(tmp_path: Path) -> None:
    path = tmp_path / "s.sse"
    path.write_bytes("retry: 20\ndata: héllo ✓\n\n".encode())
    result = run_cli("--json", str(path))
    assert json_lines(result.stdout) == [
        {"id": None, "event": "message", "data": "héllo ✓", "retry": 20}
    ]


def test_event_filter(server: HTTPServer) -> None:
    url = serve_stream_then_204(server)
    result = run_cli("--event", "update", "--event", "other", url)
    assert (result.returncode, result.stdout) == (0, 'update id=2\n  {"n": 2}\n')


# -- requests ------------------------------------------------------------------


def test_headers_and_last_event_id_reach_the_server(server: HTTPServer) -> None:
    url = serve_stream_then_204(server)
    auth = ("-H", "Authorization: Bearer s3cret")
    trace = ("--header", "X-Trace:  abc ")
    result = run_cli(*auth, *trace, "--last-event-id", "41", url)
    assert result.returncode == 0
    first, second = requests_seen(server)
    assert first.method == "GET"
    assert first.headers["Authorization"] == "Bearer s3cret"
    assert first.headers["X-Trace"] == "abc"
    assert first.headers["Last-Event-ID"] == "41"
    # The reconnection sends the stream's own last ID, and the headers again.
    assert second.headers["Last-Event-ID"] == "2"
    assert second.headers["Authorization"] == "Bearer s3cret"


def test_post_with_json_body(server: HTTPServer) -> None:
    url = serve_stream_then_204(server)
    result = run_cli("--no-reconnect", "-d", '{"prompt": "hi"}', url)
    assert (result.returncode, result.stdout) == (0, STREAM_PRETTY)
    [request] = requests_seen(server)
    assert request.method == "POST"
    assert request.get_data() == b'{"prompt": "hi"}'
    assert request.headers["Content-Type"] == "application/json"


def test_method_and_plain_body(server: HTTPServer) -> None:
    url = serve_stream_then_204(server)
    plain = ("-H", "Content-Type: text/plain")
    result = run_cli("--no-reconnect", "-X", "put", "--data", "a=1", *plain, url)
    assert result.returncode == 0
    [request] = requests_seen(server)
    assert (request.method, request.get_data()) == ("PUT", b"a=1")
    assert request.headers["Content-Type"] == "text/plain"


def test_no_reconnect_makes_one_request(server: HTTPServer) -> None:
    url = serve_stream_then_204(server)
    result = run_cli("--no-reconnect", url)
    assert (result.returncode, result.stdout) == (0, STREAM_PRETTY)
    assert len(requests_seen(server)) == 1


def test_max_events_stops_an_open_stream(
    server: HTTPServer, release: threading.Event
) -> None:
    # The stream stays open: only --max-events can end this run in time.
    body = b"".join(b"data: %d\n\n" % n for n in range(1, 4))
    server.expect_request("/stream").respond_with_handler(
        lambda request: held_stream(body, release)
    )
    result = run_cli("--max-events", "2", "--json", server.url_for("/stream"))
    assert result.returncode == 0
    assert [event["data"] for event in json_lines(result.stdout)] == ["1", "2"]


def test_max_events_counts_only_the_events_shown(server: HTTPServer) -> None:
    url = serve_stream_then_204(server)
    result = run_cli("--max-events", "1", "--event", "update", url)
    assert (result.returncode, result.stdout) == (0, 'update id=2\n  {"n": 2}\n')


# -- exit status ----------------------------------------------------------------


def test_an_outage_after_events_is_ridden_out(server: HTTPServer) -> None:
    # Once a connection has delivered, failed attempts are retried (the first
    # attempt failing would end the command, as the tests below show).
    for body, status in [
        (b"retry: 10\nid: 1\ndata: one\n\n", 200),
        (b"restarting", 503),
        (b"restarting", 503),
        (b"id: 2\ndata: two\n\n", 200),
        (b"", 204),
    ]:
        server.expect_ordered_request("/stream").respond_with_data(
            body, status=status, content_type="text/event-stream"
        )
    result = run_cli("--json", server.url_for("/stream"))
    assert result.returncode == 0, result.stderr
    assert [event["data"] for event in json_lines(result.stdout)] == ["one", "two"]
    sent = [request.headers.get("Last-Event-ID") for request in requests_seen(server)]
    assert sent == [None, "1", "1", "1", "2"]


def test_204_at_once_exits_0(server: HTTPServer) -> None:
    server.expect_request("/stream").respond_with_data("", status=204)
    result = run_cli(server.url_for("/stream"))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_404_is_a_one_line_error(server: HTTPServer) -> None:
    server.expect_request("/stream").respond_with_data("nope", status=404)
    assert "404" in one_line_error(run_cli(server.url_for("/stream")))
    assert len(requests_seen(server)) == 1  # no retrying a 404


def test_wrong_content_type_is_a_one_line_error(server: HTTPServer) -> None:
    server.expect_request("/stream").respond_with_data(
        "<html></html>", content_type="text/html"
    )
    assert "text/html" in one_line_error(run_cli(server.url_for("/stream")))


@pytest.mark.parametrize("status", [401, 500])
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_an_http_error_shows_what_the_server_said(status: int, framing: str) -> None:
    body = (
        b'{"error": {"message": "Incorrect API key provided: sk-\x1b[2J",\n'
        b' "type": "invalid_request_error"}}'
    )
    reply = servers.Response(
        [body], framing, status, (("Content-Type", "application/json"),)
    )
    with servers.SSEServer(reply) as server:
        error = one_line_error(run_cli(server.url))
    assert f"{server.url} answered {status} " in error
    if framing == "length":  # a body of a known length is kept, and quoted
        assert error.endswith(
            ': {"error": {"message": "Incorrect API key provided: sk-\\x1b[2J",'
            ' "type": "invalid_request_error"}}'
        )


def test_a_long_error_body_is_cut_short() -> None:
    reply = servers.status_only(502, body=b"<p>" + b"bad gateway " * 200 + b"</p>")
    with servers.SSEServer(reply) as server:
        error = one_line_error(run_cli(server.url))
    assert ": <p>bad gateway bad gateway " in error
    assert error.endswith("...")
    assert len(error) < 450


@pytest.mark.parametrize(
    "url", ["ftp://example.com/feed", "FILE:///etc/passwd", "ws://x/"]
)
def test_other_schemes_are_refused(url: str) -> None:
    result = run_cli(url)
    assert result.returncode == 2
    scheme = url.partition(":")[0]
    assert f"unsupported scheme {scheme!r}" in result.stderr
    assert "no such file" not in result.stderr


def test_data_goes_as_a_form_like_curl(server: HTTPServer) -> None:
    url = serve_stream_then_204(server)
    result = run_cli("--no-reconnect", "-d", "q=news&lang=en", url)
    assert (result.returncode, result.stdout) == (0, STREAM_PRETTY)
    [request] = requests_seen(server)
    assert (request.method, request.get_data()) == ("POST", b"q=news&lang=en")
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form["lang"] == "en"


def test_refused_connection_is_a_one_line_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port now: the first attempt fails, and that ends it.
    error = one_line_error(run_cli(f"http://127.0.0.1:{port}/stream"))
    assert f"http://127.0.0.1:{port}/stream: " in error


def test_timeout_on_a_silent_server(
    server: HTTPServer, release: threading.Event
) -> None:
    def silent(request: Request) -> Response:
        release.wait(TIMEOUT)
        return Response("", status=204)

    server.expect_request("/stream").respond_with_handler(silent)
    error = one_line_error(
        run_cli("--timeout", "0.3", "--no-reconnect", server.url_for("/stream"))
    )
    assert "timed out" in error.lower()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--demo", "http://example.com/"],
        ["-H", "no colon", "http://example.com/"],
        ["--no-reconnect", "stream.sse"],
        ["--max-events", "0", "-"],
        ["--timeout", "-1", "http://example.com/"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run_cli(*args, input=b"")
    assert result.returncode == 2
    assert "usage: sseclient" in result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_exits_130(server: HTTPServer, release: threading.Event) -> None:
    if sys.platform == "win32":
        pytest.skip("SIGINT to a child is POSIX")
    server.expect_request("/stream").respond_with_handler(
        lambda request: held_stream(b"data: first\n\n", release)
    )
    process = start_cli(server.url_for("/stream"))
    assert LineReader(process.stdout).next() == "message\n"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=TIMEOUT)
    # 128 + SIGINT, as a shell reports a command that Ctrl-C stopped.
    assert (process.returncode, stderr) == (130, b"")


# -- files and standard input -------------------------------------------------------


SAVED = (
    b"\xef\xbb\xbf: a stream saved to a file, with a BOM and CRLF line ends\r\n"
    b"id: a\r\nevent: greeting\r\ndata: hi\r\n\r\n"
    b"data: line 1\r\ndata: line 2\r\n\r\n"
    b"id: b\r\ndata: cut off at the end of the file"
)
SAVED_EVENTS = [
    {"id": "a", "event": "greeting", "data": "hi", "retry": None},
    {"id": "a", "event": "message", "data": "line 1\nline 2", "retry": None},
]


def test_file_input(tmp_path: Path) -> None:
    path = tmp_path / "saved.sse"
    path.write_bytes(SAVED)
    result = run_cli("--json", str(path))
    assert (result.returncode, result.stderr) == (0, "")
    assert json_lines(result.stdout) == SAVED_EVENTS


def test_file_input_pretty(tmp_path: Path) -> None:
    path = tmp_path / "saved.sse"
    path.write_bytes(SAVED)
    result = run_cli(str(path))
    assert result.stdout == "greeting id=a\n  hi\nmessage id=a\n  line 1\n  line 2\n"


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    assert "nothing.sse" in one_line_error(run_cli(str(tmp_path / "nothing.sse")))


def test_stdin_input() -> None:
    result = run_cli("--json", "-", input=SAVED)
    assert (result.returncode, result.stderr) == (0, "")
    assert json_lines(result.stdout) == SAVED_EVENTS


def test_stdin_events_print_as_they_arrive() -> None:
    # The second event is only written once the first has been printed: a
    # reader that waits for a full buffer (or the end) never prints it.
    process = start_cli("--json", "-", stdin=subprocess.PIPE)
    assert process.stdin is not None
    lines = LineReader(process.stdout)
    process.stdin.write(b"data: one\n\n")
    process.stdin.flush()
    assert json.loads(lines.next())["data"] == "one"
    process.stdin.write(b"data: two\n\n")
    process.stdin.close()
    assert json.loads(lines.next())["data"] == "two"
    assert process.wait(timeout=TIMEOUT) == 0


def test_closed_stdout_stops_quietly() -> None:
    # `sseclient - | head -1`: the reader goes away while events keep coming.
    process = start_cli("-", stdin=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"data: first\n\n")
    process.stdin.flush()
    assert process.stdout.readline() == b"message\n"
    process.stdout.close()
    try:
        process.stdin.write(b"data: more\n\n" * 20000)
        process.stdin.close()
    except BrokenPipeError:
        pass  # it stopped reading: also fine
    assert process.wait(timeout=TIMEOUT) == 0
    assert process.stderr is not None
    assert process.stderr.read() == b""


# -- the terminal ---------------------------------------------------------------


def run_on_terminal(args: list[str], **env: str) -> str:
    """The command's output when its standard output is a terminal."""
    pty = pytest.importorskip("pty")
    main_fd, child_fd = pty.openpty()
    process = subprocess.Popen(
        [*COMMAND, *args], stdout=child_fd, env=cli_env(**env), cwd=ROOT
    )
    os.close(child_fd)
    output = b""
    try:
        while True:
            chunk = os.read(main_fd, 4096)
            if not chunk:
                break
            output += chunk
    except OSError:  # Linux: EIO once the child side is closed
        pass
    finally:
        os.close(main_fd)
    assert process.wait(timeout=TIMEOUT) == 0
    return output.decode().replace("\r\n", "\n")


def test_colour_on_a_terminal_only(tmp_path: Path) -> None:
    path = tmp_path / "s.sse"
    path.write_bytes(b"id: 7\nevent: tick\ndata: \x1b[2Jx\n\n")
    output = run_on_terminal([str(path)])
    assert "\x1b[1;36mtick\x1b[0m" in output
    assert "id=7" in output
    # The server's own escape sequence is shown, not obeyed.
    assert "\\x1b[2Jx" in output
    assert run_on_terminal([str(path)], NO_COLOR="1") == "tick id=7\n  \\x1b[2Jx\n"
    assert run_cli(str(path)).stdout == "tick id=7\n  \x1b[2Jx\n"


# -- the demo ------------------------------------------------------------------------


def test_demo_prints_every_event_once_across_a_drop() -> None:
    result = run_cli("--demo", "-v")
    assert result.returncode == 0, result.stderr
    headers = [line for line in result.stdout.splitlines() if line[:1] != " "]
    assert headers == [
        "message id=1",
        "progress id=2",
        "progress id=3",
        "message id=4",
        "progress id=5",
        "done id=6",
    ]
    assert "  it drops the connection half-way through.\n" in result.stdout
    # The story on standard error: the drop, the resumption, the end.
    assert "dropping the connection in the middle of event 4" in result.stderr
    assert "sseclient: connecting to http" in result.stderr  # -v
    assert "reconnected with Last-Event-ID: 3; resuming at event 4" in result.stderr
    assert "204 No Content" in result.stderr
    assert "Traceback" not in result.stderr


# -- --comments -------------------------------------------------------------------

CLI_STREAM = b": hello\ndata: a\n: inside\n\n:\nid: 2\ndata: b\n\n: bye\n"


def test_cli_comments_pretty(tmp_path: Path) -> None:
    path = tmp_path / "s.sse"
    path.write_bytes(CLI_STREAM)
    result = run_cli("--comments", str(path))
    assert result.returncode == 0, result.stderr
    # A file is read as one chunk, yet the lines come in stream order.
    assert (
        result.stdout
        == ": hello\n: inside\nmessage\n  a\n: \nmessage id=2\n  b\n: bye\n"
    )
    assert run_cli(str(path)).stdout == "message\n  a\nmessage id=2\n  b\n"


def test_cli_comments_json(tmp_path: Path) -> None:
    path = tmp_path / "s.sse"
    path.write_bytes(CLI_STREAM)
    result = run_cli("--comments", "--json", str(path))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {"comment": "hello"},
        {"comment": "inside"},
        {"id": None, "event": "message", "data": "a", "retry": None},
        {"comment": ""},
        {"id": "2", "event": "message", "data": "b", "retry": None},
        {"comment": "bye"},
    ]


def test_cli_comments_are_dim_on_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "s.sse"
    path.write_bytes(b": tick \x1b[2J\ndata: a\n\n")
    output = run_on_terminal(["--comments", str(path)])
    # Dim, and the server's escape sequence shown, not obeyed.
    assert output.startswith("\x1b[2m: tick \\x1b[2J\x1b[0m\n"), output
    assert run_on_terminal(["--comments", str(path)], NO_COLOR="1").startswith(
        ": tick \\x1b[2J\n"
    )


def test_cli_shows_a_keep_alive_as_it_arrives() -> None:
    go = threading.Event()
    script = [
        b"data: a\n\n",
        b": keep-alive\n",
        servers.WaitFor(go, timeout=10),
        b"data: b\n\n",
    ]
    with servers.SSEServer(servers.Response(script, framing="close")) as server:
        process = start_cli("--comments", "--no-reconnect", server.url)
        try:
            lines = LineReader(process.stdout)
            assert [lines.next() for _ in range(3)] == [
                "message\n",
                "  a\n",
                ": keep-alive\n",
            ]
            go.set()
            assert [lines.next() for _ in range(2)] == ["message\n", "  b\n"]
            assert process.wait(timeout=10) == 0
        finally:
            go.set()
            if process.poll() is None:
                process.kill()
                process.wait()
