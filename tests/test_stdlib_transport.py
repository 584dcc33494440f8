"""`connect` without requests: the standard library's transport.

The reconnection scenarios run on it with the others (the ``connect-stdlib``
driver in test_connect_and_aconnect.py); here is what is its own: how the
transport is chosen, running where requests cannot be imported, proxies from
the environment, TLS options, the keyword arguments it takes from requests,
and a close while the request waits for its response.
"""

from __future__ import annotations

import base64
import os
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Literal

import pytest
import requests
from drivers import FAST, HANG, numbers
from servers import (
    Certificate,
    NumberedStream,
    Proxy,
    Request,
    Response,
    SSEServer,
    Step,
    numbered_events,
)

import sseclient
from sseclient import connect

pytestmark = pytest.mark.filterwarnings("error")

#: The folder of the sseclient.py under test.
SOURCE = str(Path(sseclient.__file__).resolve().parent)
TIMEOUT = 20  # seconds for a subprocess: a hang fails instead of blocking
Transport = Literal["requests", "stdlib"]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# ---------------------------------------------------------------------------
# Which transport
# ---------------------------------------------------------------------------


def test_requests_is_the_default_where_it_is_installed() -> None:
    with SSEServer(Response([b"data: x\n\n"])) as server:
        source = connect(server.url, reconnect=False)
        assert next(source).data == "x"
        assert isinstance(source.response, requests.Response)
        source.close()


def test_stdlib_can_be_chosen_where_requests_is_installed() -> None:
    with SSEServer(Response([b"data: x\n\n"])) as server:
        source = connect(server.url, transport="stdlib", reconnect=False)
        assert next(source).data == "x"
        assert isinstance(source.response, sseclient._StdlibResponse)
        source.close()
        request = server.requests[0]
    assert request.headers["accept-encoding"] == "gzip, deflate"
    assert request.headers["user-agent"].startswith("sseclient/")


def test_an_unknown_transport_is_refused_with_the_accepted_names() -> None:
    with pytest.raises(ValueError, match="'requests', 'stdlib' or None") as info:
        connect("http://127.0.0.1:9/", transport="urllib3")  # type: ignore[arg-type]
    assert "'urllib3'" in str(info.value)


def test_a_session_needs_requests() -> None:
    with requests.Session() as session, pytest.raises(ValueError, match="session"):
        connect("http://127.0.0.1:9/", session=session, transport="stdlib")


@pytest.mark.parametrize("name", ["cookies", "proxies", "hooks"])
def test_options_only_requests_takes_are_refused_at_the_call(name: str) -> None:
    options: dict[str, Any] = {name: {}}
    with pytest.raises(TypeError, match=repr(name)):
        connect("http://127.0.0.1:9/", transport="stdlib", **options)


def test_a_body_that_cannot_be_sent_again_is_refused_at_the_call() -> None:
    with pytest.raises(TypeError, match=r"data: .*sent again"):
        connect("http://127.0.0.1:9/", transport="stdlib", data=iter([b"x"]))


# ---------------------------------------------------------------------------
# Without requests: a subprocess in which it cannot be imported
# ---------------------------------------------------------------------------


@pytest.fixture
def without_requests(tmp_path: Path) -> dict[str, str]:
    """The environment of a Python in which ``import requests`` fails: a
    sitecustomize puts None in its place in sys.modules."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nsys.modules['requests'] = None\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), SOURCE])
    return env


READ_A_STREAM = """
import sys
try:
    import requests
except ImportError:
    print("requests: cannot be imported")
import sseclient
stream = sseclient.connect(sys.argv[1], retry=1, max_retry_delay=5)
for event in stream:
    print(event.id, event.data, type(stream.response).__name__)
"""


def test_connect_reconnects_where_requests_cannot_be_imported(
    without_requests: dict[str, str],
) -> None:
    stream = NumberedStream(6, lambda n: Step(2, "mid-event"))
    with SSEServer(stream) as server:
        result = subprocess.run(
            [sys.executable, "-c", READ_A_STREAM, server.url],
            env=without_requests,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "requests: cannot be imported"
    assert lines[1:] == [f"{n} {n} _StdlibResponse" for n in range(1, 7)]
    assert stream.wrong_ids == []
    assert [r.headers.get("last-event-id") for r in server.requests] == [
        None, "2", "4", "6"
    ]  # fmt: skip


def test_the_demo_runs_where_requests_cannot_be_imported(
    without_requests: dict[str, str],
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sseclient", "--demo", "--max-events", "3"],
        env=without_requests,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[::2] == [
        "message id=1",
        "progress id=2",
        "progress id=3",
    ]


# ---------------------------------------------------------------------------
# Proxies from the environment (both transports read the same variables)
# ---------------------------------------------------------------------------


@pytest.fixture
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variable of the machine's: only those the test sets."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize("transport", ["requests", "stdlib"])
def test_http_goes_through_the_forwarding_proxy_of_http_proxy(
    transport: Transport, no_proxy_settings: pytest.MonkeyPatch
) -> None:
    stream = NumberedStream(4, lambda n: Step(2, "mid-event"))
    with SSEServer(stream) as server, Proxy() as proxy:
        no_proxy_settings.setenv(
            "HTTP_PROXY", f"http://user:p%40ss@127.0.0.1:{proxy.port}"
        )
        url = server.url_for("/s?topic=a")
        events = list(connect(url, transport=transport, **FAST))
    assert numbers(events) == [1, 2, 3, 4]
    assert len(server.requests) == len(proxy.requests) > 1
    for through, served in zip(proxy.requests, server.requests):
        assert (through.method, through.target) == ("GET", url)
        assert through.headers["proxy-authorization"] == basic("user", "p@ss")
        assert served.target == "/s?topic=a"
    assert server.requests[1].headers["last-event-id"] == "2"
    assert proxy.errors == []


@pytest.mark.parametrize("transport", ["requests", "stdlib"])
def test_https_goes_through_a_connect_tunnel_of_https_proxy(
    transport: Transport,
    no_proxy_settings: pytest.MonkeyPatch,
    certificate: Certificate,
    tls_context: ssl.SSLContext,
) -> None:
    stream = NumberedStream(4, lambda n: Step(2, "mid-event"))
    with SSEServer(stream, ssl_context=tls_context) as server, Proxy() as proxy:
        no_proxy_settings.setenv("HTTPS_PROXY", proxy.url)
        source = connect(
            server.url,
            transport=transport,
            verify=certificate.cert,
            **FAST,
        )
        events = list(source)
    assert numbers(events) == [1, 2, 3, 4]
    assert server.url.startswith("https://")
    address = f"127.0.0.1:{server.port}"
    assert [(r.method, r.target) for r in proxy.requests] == [
        ("CONNECT", address)
    ] * server.connections
    assert [r.target for r in server.requests] == ["/"] * len(server.requests)
    assert proxy.errors == []


@pytest.mark.parametrize("transport", ["requests", "stdlib"])
@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "example.com,127.0.0.1", "*"])
def test_hosts_in_no_proxy_are_reached_directly(
    transport: Transport, no_proxy: str, no_proxy_settings: pytest.MonkeyPatch
) -> None:
    with SSEServer(Response([b"data: x\n\n"])) as server, Proxy() as proxy:
        no_proxy_settings.setenv("HTTP_PROXY", proxy.url)
        no_proxy_settings.setenv("NO_PROXY", no_proxy)
        events = list(connect(server.url, transport=transport, reconnect=False))
    assert [e.data for e in events] == ["x"]
    assert proxy.requests == []
    assert len(server.requests) == 1


# ---------------------------------------------------------------------------
# TLS options
# ---------------------------------------------------------------------------


def test_verify_false_reads_a_stream_from_an_untrusted_certificate(
    tls_context: ssl.SSLContext,
) -> None:
    with SSEServer([Response([b"data: x\n\n"])], ssl_context=tls_context) as server:
        source = connect(server.url, transport="stdlib", verify=False, **FAST)
        events = list(source)
    assert [e.data for e in events] == ["x"]


def test_a_verify_path_that_does_not_exist_is_raised_at_the_call(
    tmp_path: Path,
) -> None:
    with pytest.raises(FileNotFoundError):
        connect("https://127.0.0.1:9/", transport="stdlib", verify=str(tmp_path / "x"))


def test_a_folder_of_cas_is_trusted(
    tmp_path: Path, certificate: Certificate, tls_context: ssl.SSLContext
) -> None:
    # A CA folder names each certificate by its subject's hash.
    result = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", certificate.cert],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / f"{result.stdout.strip()}.0").write_bytes(
        Path(certificate.cert).read_bytes()
    )
    with SSEServer([Response([b"data: x\n\n"])], ssl_context=tls_context) as server:
        source = connect(server.url, transport="stdlib", verify=str(tmp_path), **FAST)
        assert [e.data for e in source] == ["x"]


# ---------------------------------------------------------------------------
# What it takes of requests' options
# ---------------------------------------------------------------------------


def test_auth_and_params_are_sent_on_every_connection() -> None:
    stream = NumberedStream(4, lambda n: Step(2, "between-events"))
    with SSEServer(stream) as server:
        source = connect(
            server.url_for("/s?a=1"),
            transport="stdlib",
            auth=("user", "secret"),
            params={"topic": "news", "tag": ["x", "y"], "none": None},
            **FAST,
        )
        assert numbers(list(source)) == [1, 2, 3, 4]
    assert len(server.requests) == 3
    for request in server.requests:
        assert request.target == "/s?a=1&topic=news&tag=x&tag=y"
        assert request.headers["authorization"] == basic("user", "secret")


def test_credentials_in_the_url_are_basic_auth() -> None:
    with SSEServer(Response([b"data: x\n\n"])) as server:
        url = f"http://me:p%40ss@127.0.0.1:{server.port}/s"
        events = list(connect(url, transport="stdlib", reconnect=False))
    assert [e.data for e in events] == ["x"]
    (request,) = server.requests
    assert request.headers["authorization"] == basic("me", "p@ss")
    assert request.headers["host"] == f"127.0.0.1:{server.port}"


def test_a_non_ascii_path_is_percent_encoded() -> None:
    with SSEServer(Response([b"data: x\n\n"])) as server:
        events = list(
            connect(server.url_for("/é s"), transport="stdlib", reconnect=False)
        )
    assert [e.data for e in events] == ["x"]
    assert server.requests[0].target == "/%C3%A9%20s"


# ---------------------------------------------------------------------------
# Closing while the request waits for its response
# ---------------------------------------------------------------------------


def test_close_from_another_thread_stops_a_request_waiting_for_headers() -> None:
    answered = threading.Event()  # set once the test has closed the stream

    def slow(request: Request) -> Response:
        answered.wait(3 * HANG)  # longer than the hang guard below
        return Response([numbered_events(1, 1)[0]])

    with SSEServer(slow) as server:
        source = connect(server.url, transport="stdlib", timeout=None, **FAST)
        got: list[Any] = []
        reader = threading.Thread(target=lambda: got.extend(source), daemon=True)
        reader.start()
        assert server_has_requests(server, 1)
        source.close()
        reader.join(HANG)  # a hang guard: close() must end the wait
        alive = reader.is_alive()
        answered.set()
    assert not alive
    assert got == []
    assert source.closed
    assert len(server.requests) == 1


def server_has_requests(server: SSEServer, count: int) -> bool:
    """Whether the server has read `count` requests within `HANG` seconds."""
    deadline = time.monotonic() + HANG
    while len(server.requests) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True
