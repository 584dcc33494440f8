"""aiohttp-sse: sse_response, with its ping.

/events sends a handful of events and ends.

    python aiohttp_app.py PORT
"""

import asyncio
import json
import sys

from aiohttp import web
from aiohttp_sse import sse_response


async def events(request: web.Request) -> web.StreamResponse:
    async with sse_response(request, ping_interval=0.5) as resp:
        await resp.send("hello", id="1", event="greeting", retry=2000)
        text = json.dumps(
            {"n": 2, "text": "naïve café ✓ 日本語 🎉"}, ensure_ascii=False
        )
        await resp.send(text, id="2", event="json")
        await asyncio.sleep(1.3)  # the pings (every 0.5 s) come in here
        await resp.send("line one\nline two\n\nline four", id="3", event="multi")
        await resp.send("bye", id="4", event="done")
    return resp


app = web.Application()
app.router.add_get("/events", events)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
