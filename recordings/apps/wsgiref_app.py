"""A WSGI app on wsgiref, the standard library's reference server (as under
Django's runserver of old): a generator of hand-written events.  wsgiref
answers in HTTP/1.0, so the body is neither chunked nor sized: it ends when
the server closes the connection.

    python wsgiref_app.py PORT
"""

import sys
import time
from wsgiref.simple_server import make_server


def app(environ, start_response):
    start_response(
        "200 OK", [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]
    )
    return stream()


def stream():
    yield b"retry: 2000\n\n"
    yield b"id: 1\nevent: greeting\ndata: hello\n\n"
    yield 'id: 2\nevent: json\ndata: {"text": "naïve café ✓ 日本語 🎉"}\n\n'.encode()
    time.sleep(0.6)
    yield b": keep-alive\n\n"
    time.sleep(0.6)
    yield b"id: 3\nevent: multi\ndata: line one\ndata: line two\ndata:\n"
    yield b"data: line four\n\n"
    yield b"id: 4\nevent: done\ndata: bye\n\n"


if __name__ == "__main__":
    make_server("127.0.0.1", int(sys.argv[1]), app).serve_forever()
