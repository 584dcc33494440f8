"""Tornado: a RequestHandler that writes the stream by hand and flushes
after each event (Tornado has no SSE helper).

/events sends a handful of events, with a keep-alive comment in a pause,
and ends.

    python tornado_app.py PORT
"""

import asyncio
import json
import sys

import tornado.web


class EventsHandler(tornado.web.RequestHandler):
    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        await self.send("retry: 2000\nid: 1\nevent: greeting\ndata: hello\n\n")
        data = json.dumps(
            {"n": 2, "text": "naïve café ✓ 日本語 🎉"}, ensure_ascii=False
        )
        await self.send(f"id: 2\nevent: json\ndata: {data}\n\n")
        for _ in range(2):
            await asyncio.sleep(0.6)
            await self.send(": keep-alive\n\n")
        lines = "".join(
            f"data: {line}\n" for line in ["line one", "line two", "", "line four"]
        )
        await self.send(f"id: 3\nevent: multi\n{lines}\n")
        await self.send("id: 4\nevent: done\ndata: bye\n\n")

    async def send(self, text: str) -> None:
        self.write(text)
        await self.flush()


async def main() -> None:
    app = tornado.web.Application([("/events", EventsHandler)])
    app.listen(int(sys.argv[1]), address="127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
