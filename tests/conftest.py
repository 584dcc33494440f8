"""Fixtures shared by the test modules.

Helpers that are not fixtures live in plain modules: `servers` (the test
servers and the bodies they send), `drivers` (connect/aconnect scenarios run
once per driver) and `stream_files` (the stream files in tests/streams/).
"""

from __future__ import annotations

import asyncio
import gc
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from drivers import DRIVERS, Driver
from servers import Certificate

# ---------------------------------------------------------------------------
# Async tests
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def frozen_heap() -> Iterator[None]:
    """Keep what is alive now out of the collections below, which then only
    look at what the tests made (a full collection takes ~0.1 s here)."""
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture
async def loop_errors(frozen_heap: None) -> AsyncIterator[list[dict[str, Any]]]:
    """Fail the test if anything is reported to the loop's exception handler
    (aiohttp's unclosed session and connection reports, destroyed tasks)."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    yield errors
    gc.collect()
    await asyncio.sleep(0)  # let what the collection scheduled run
    loop.set_exception_handler(None)
    assert not errors, [e.get("message") for e in errors]


@pytest.fixture(params=list(DRIVERS))
async def driver(request: pytest.FixtureRequest) -> AsyncIterator[Driver]:
    """Each driver in turn: the scenario runs over `sseclient.connect`, then
    over `sseclient.aconnect` with httpx and with aiohttp (see drivers.py)."""
    made = DRIVERS[request.param]()
    yield made
    await made.aclose()


# ---------------------------------------------------------------------------
# TLS
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, made once per test run."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return Certificate(cert, key)


@pytest.fixture(scope="session")
def tls_context(certificate: Certificate) -> ssl.SSLContext:
    """A server-side TLS context with `certificate`, for ``SSEServer``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert, certificate.key)
    return context
