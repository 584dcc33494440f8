"""Event-stream servers made with real SSE frameworks, for test_live_servers.py.

    python live_apps.py starlette|aiohttp PORT LOG

serves ``GET /events`` on 127.0.0.1:PORT with sse-starlette on uvicorn, or
with aiohttp-sse on aiohttp.  The query says what to send: ``n`` events
(``id: k``, ``event: tick``, ``data: tick k``) with ``pause`` seconds after
each, and ``retry`` (ms) in the first one.  A request with ``Last-Event-ID:
k`` resumes at event k + 1; once there is nothing left the answer is 204,
which ends a client's reconnecting.

Each request, and how its stream ended ("end", or "disconnected" when the
client went away first), is appended to LOG as a line of JSON with the time,
so that a test can see what the server saw, across restarts of the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any


class Plan:
    """What to send for one request."""

    def __init__(self, query: Mapping[str, str], last_event_id: str | None) -> None:
        self.n = int(query.get("n", "5"))
        self.pause = float(query.get("pause", "0"))
        retry = query.get("retry")
        self.retry = int(retry) if retry else None
        self.start = int(last_event_id) + 1 if last_event_id else 1
        self.tag = query.get("tag")  # which test asked, in the log


def log(path: str, what: str, tag: str | None, **fields: Any) -> None:
    entry = {"t": time.time(), "pid": os.getpid(), "what": what, "tag": tag, **fields}
    with open(path, "a") as file:
        file.write(json.dumps(entry) + "\n")


def starlette_app(log_path: str) -> Any:
    from sse_starlette import EventSourceResponse, ServerSentEvent
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def events(request: Request) -> Response:
        last_event_id = request.headers.get("last-event-id")
        plan = Plan(request.query_params, last_event_id)
        log(log_path, "request", plan.tag, last_event_id=last_event_id)
        if plan.start > plan.n:
            return Response(status_code=204)

        async def stream() -> AsyncIterator[ServerSentEvent]:
            finished = False
            try:
                for k in range(plan.start, plan.n + 1):
                    retry = plan.retry if k == plan.start else None
                    yield ServerSentEvent(
                        f"tick {k}", id=str(k), event="tick", retry=retry
                    )
                    await asyncio.sleep(plan.pause)
                finished = True
            finally:
                log(log_path, "end" if finished else "disconnected", plan.tag)

        return EventSourceResponse(stream())

    return Starlette(routes=[Route("/events", events)])


def aiohttp_app(log_path: str) -> Any:
    from aiohttp import web
    from aiohttp_sse import sse_response

    async def events(request: web.Request) -> web.StreamResponse:
        last_event_id = request.headers.get("Last-Event-ID")
        plan = Plan(request.query, last_event_id)
        log(log_path, "request", plan.tag, last_event_id=last_event_id)
        if plan.start > plan.n:
            return web.Response(status=204)
        finished = False
        try:
            async with sse_response(request) as response:
                for k in range(plan.start, plan.n + 1):
                    retry = plan.retry if k == plan.start else None
                    await response.send(
                        f"tick {k}", id=str(k), event="tick", retry=retry
                    )
                    await asyncio.sleep(plan.pause)
                finished = True
        finally:
            log(log_path, "end" if finished else "disconnected", plan.tag)
        return response

    app = web.Application()
    app.router.add_get("/events", events)
    return app


def main() -> None:
    framework, port, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if framework == "starlette":
        import uvicorn

        uvicorn.run(
            starlette_app(log_path), host="127.0.0.1", port=port, log_level="error"
        )
    elif framework == "aiohttp":
        from aiohttp import web

        web.run_app(aiohttp_app(log_path), host="127.0.0.1", port=port, print=None)
    else:
        raise SystemExit(f"unknown framework {framework!r}")


if __name__ == "__main__":
    main()
