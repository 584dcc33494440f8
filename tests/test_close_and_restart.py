"""``close()`` and ``restart()`` in every place a stream waits, and errors
whose message is blank; each scenario run over `sseclient.connect` and over
`sseclient.aconnect` (the ``driver`` fixture).

A stream waits for a TCP connection (to a port whose listening queue is
full: `servers.stalled_port`), for response headers (from a server that
answers nothing: `servers.unanswered`), for the next bytes of a body, or
for the time before reconnecting.  Every wait here outlasts the test's hang
guard (`drivers.HANG`) by far, so only ``close`` or ``restart`` can end it.
How fast they end it is measured by benchmarks/close_latency.py.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from drivers import FAST, Driver, eventually, numbers
from servers import (
    NO_CONTENT,
    HoldOpen,
    Request,
    Response,
    SSEServer,
    WaitFor,
    numbered_events,
    stalled_port,
    status_only,
    unanswered,
)

import sseclient
from sseclient import RetriesExhausted

pytestmark = [
    pytest.mark.filterwarnings("error"),
    pytest.mark.usefixtures("loop_errors"),
]

#: Waits far longer than a test: a connect or read timeout, a reconnection time.
LONG = {"timeout": (60, 60), "retry": 3_600_000}


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of the test: lets `unanswered` handlers go."""
    event = threading.Event()
    yield event
    event.set()


def in_turn(*answers: Response | Any) -> Any:
    """A handler that gives each request the next of ``answers`` (a
    `Response`, or a handler called with the request), then 204."""
    count = itertools.count()

    def handler(request: Request) -> Response:
        index = next(count)
        if index >= len(answers):
            return NO_CONTENT
        answer = answers[index]
        return answer if isinstance(answer, Response) else answer(request)

    return handler


def logged(caplog: pytest.LogCaptureFixture, text: str) -> int:
    """How many of the module's log messages so far hold ``text``."""
    return sum(text in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------------
# close() in each wait
# ---------------------------------------------------------------------------


async def test_close_from_another_thread_or_task_stops_a_wait_for_a_connection(
    driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sseclient")
    with stalled_port() as port:
        source = driver.open(f"http://127.0.0.1:{port}/", **LONG)
        reading = source.read_in_background()
        assert await eventually(lambda: logged(caplog, "connecting to"))
        await asyncio.sleep(0.1)  # into the wait for the SYN's answer
        await source.close()
        await reading.join()  # a hang guard: close() must end the wait
    assert reading.error is None
    assert reading.events == []
    assert source.closed


async def test_close_from_another_thread_or_task_stops_a_wait_for_headers(
    driver: Driver, release: threading.Event
) -> None:
    with SSEServer(unanswered(release)) as server:
        source = driver.open(server.url, **LONG)
        reading = source.read_in_background()
        assert await eventually(lambda: server.requests)
        await source.close()
        await reading.join()  # a hang guard: close() must end the wait
        release.set()
    assert reading.error is None
    assert reading.events == []
    assert source.closed
    assert len(server.requests) == 1


async def test_close_before_the_first_request_makes_none(driver: Driver) -> None:
    with SSEServer(Response([b"data: a\n\n"])) as server:
        source = driver.open(server.url, **FAST)
        await source.close()
        assert await source.rest() == []
    assert server.requests == []


# ---------------------------------------------------------------------------
# restart() in each wait
# ---------------------------------------------------------------------------

#: Events 1 and 2, then an event without its blank line, and nothing more:
#: the connection stays open until the client closes it.
TWO_AND_A_HALF = Response(
    [numbered_events(1, 2, retry=None)[0] + b"id: 3\ndata: 3\n", HoldOpen()]
)


async def test_restart_from_another_thread_or_task_during_a_read(
    driver: Driver,
) -> None:
    answers = in_turn(TWO_AND_A_HALF, Response([b"retry: 1\ndata: after\n\n"]))
    with SSEServer(answers) as server:
        # One failed attempt would end the stream: a restart is not one.
        source = driver.open(server.url, max_attempts=1, **LONG)
        reading = source.read_in_background()
        assert await eventually(lambda: len(reading.events) == 2)
        await source.restart()
        await reading.join()  # a hang guard: no reconnection time is waited
        assert await eventually(server.hung_up.is_set)
    assert reading.error is None
    # The unfinished event 3 was dropped, not joined to the next one.
    assert [e.data for e in reading.events] == ["1", "2", "after"]
    assert [r.headers.get("last-event-id") for r in server.requests] == [
        None, "2", "2"
    ]  # fmt: skip


async def test_restart_from_another_thread_or_task_during_waits_to_reconnect(
    driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    """The reconnection time after a body that ended, then the backoff
    after a 503: each an hour long, each cut short by a restart."""
    caplog.set_level(logging.INFO, logger="sseclient")
    answers = in_turn(
        Response([numbered_events(1, 1, retry=None)[0]]),
        status_only(503),
        Response([numbered_events(2, 1, retry=1)[0]]),
    )
    with SSEServer(answers) as server:
        # A second failed attempt in a row would end the stream.
        source = driver.open(server.url, max_attempts=2, **LONG)
        reading = source.read_in_background()
        for waits in (1, 2):
            assert await eventually(
                lambda waits=waits: logged(caplog, "in 3600.000 s") == waits
            )
            await source.restart()
        await reading.join()  # a hang guard: the waits were cut short
    assert reading.error is None
    assert numbers(reading.events) == [1, 2]
    assert [r.headers.get("last-event-id") for r in server.requests] == [
        None, "1", "1", "2"
    ]  # fmt: skip


async def test_restart_from_another_thread_or_task_during_a_wait_for_headers(
    driver: Driver, release: threading.Event
) -> None:
    answers = in_turn(
        Response([numbered_events(1, 1, retry=None)[0]]),
        unanswered(release),
        Response([numbered_events(2, 1, retry=None)[0]]),
    )
    with SSEServer(answers) as server:
        # One failed attempt would end the stream: a restart is not one.
        source = driver.open(server.url, max_attempts=1, timeout=(60, 60), retry=1)
        reading = source.read_in_background()
        assert await eventually(lambda: len(server.requests) == 2)
        await source.restart()
        await reading.join()  # a hang guard: the restart ends the wait
        release.set()
    assert reading.error is None
    assert numbers(reading.events) == [1, 2]
    assert [r.headers.get("last-event-id") for r in server.requests] == [
        None, "1", "1", "2"
    ]  # fmt: skip


async def test_restart_inside_the_loop_reconnects_at_once(driver: Driver) -> None:
    go = threading.Event()
    first = numbered_events(1, 2, retry=None)[0].split(b"\n\n")
    answers = in_turn(
        Response([first[0] + b"\n\n", WaitFor(go), first[1] + b"\n\n", HoldOpen()]),
        Response([b"retry: 1\ndata: after\n\n"]),
    )
    with SSEServer(answers) as server:
        source = driver.open(server.url, max_attempts=1, **LONG)
        got = []
        async for event in source:
            got.append(event.data)
            if event.data == "1":
                await source.restart()
                go.set()
        assert await eventually(server.hung_up.is_set)
    assert got == ["1", "after"]
    assert [r.headers.get("last-event-id") for r in server.requests] == [
        None, "1", "1"
    ]  # fmt: skip


async def test_restart_before_the_first_request_and_after_close_do_nothing(
    driver: Driver,
) -> None:
    with SSEServer(Response([b"data: a\n\n"])) as server:
        source = driver.open(server.url, **FAST)
        await source.restart()
        assert (await source.next()).data == "a"
        await source.close()
        await source.restart()
        assert await source.rest() == []
    assert len(server.requests) == 1


# ---------------------------------------------------------------------------
# Errors whose message is blank
# ---------------------------------------------------------------------------


async def test_an_error_without_a_message_is_named_by_its_type(
    driver: Driver, release: threading.Event, caplog: pytest.LogCaptureFixture
) -> None:
    """httpx's ReadTimeout has an empty message: the reports of it say
    "ReadTimeout" rather than nothing."""
    caplog.set_level(logging.WARNING, logger="sseclient")
    with SSEServer(unanswered(release)) as server:
        source = driver.open(server.url, timeout=(2, 0.5), max_attempts=2, **FAST)
        with pytest.raises(RetriesExhausted) as info:
            await source.rest()
        release.set()
    message, cause = str(info.value), info.value.__cause__
    prefix = f"gave up on {server.url} after 2 failed attempts: "
    assert message.startswith(prefix)
    # The cause's type, then its message if it has one.
    assert message[len(prefix) :].startswith(type(cause).__name__)
    assert logged(caplog, f"failed ({type(cause).__name__}") == 1
    if driver.name == "aconnect":
        assert str(cause) == ""  # httpx's ReadTimeout
        assert message == prefix + "ReadTimeout"
        assert logged(caplog, "failed (ReadTimeout), 1 in a row") == 1
    else:
        assert message.startswith(prefix + type(cause).__name__ + ": ")


@pytest.mark.parametrize(
    ("error", "described"),
    [
        (TimeoutError(), "http://x/: TimeoutError"),
        (TimeoutError("timed out"), "http://x/: timed out"),
        (ValueError(""), "http://x/: ValueError"),
        (ValueError("bad\nvalue"), "http://x/: ValueError: bad value"),
    ],
)
def test_the_command_line_names_an_error_without_a_message(
    error: BaseException, described: str
) -> None:
    assert sseclient._describe_error(error, "http://x/") == described
