"""sse-starlette on uvicorn: EventSourceResponse with its ping.

/events sends a handful of events and ends; /forever sends a tick every
0.2 s until the server is stopped.

    python starlette_app.py PORT
"""

import asyncio
import sys

import uvicorn
from sse_starlette import EventSourceResponse, JSONServerSentEvent, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route


async def events(request: Request) -> EventSourceResponse:
    async def stream():
        yield ServerSentEvent(retry=2000)
        yield {"id": "1", "event": "greeting", "data": "hello"}
        yield JSONServerSentEvent(
            {"n": 2, "text": "naïve café ✓ 日本語 🎉"}, id="2", event="json"
        )
        yield ServerSentEvent(comment="a comment from the app")
        await asyncio.sleep(1.3)  # the pings (every 0.5 s) come in here
        yield {"id": "3", "event": "multi", "data": "line one\nline two\n\nline four"}
        yield ServerSentEvent("bye", id="4", event="done", retry=1500)

    return EventSourceResponse(stream(), ping=0.5)


async def forever(request: Request) -> EventSourceResponse:
    async def stream():
        n = 0
        while True:
            n += 1
            yield {"id": str(n), "event": "tick", "data": f"tick {n}"}
            await asyncio.sleep(0.2)

    return EventSourceResponse(stream(), ping=0.5)


app = Starlette(routes=[Route("/events", events), Route("/forever", forever)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
