"""Fixtures for the async tests."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest


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
