"""Flask on Werkzeug's development server: a streamed response written by
hand, one line per yield, as a generator in a Flask app often is.

/events sends a handful of events, then starts one more that it never
finishes (record_all.py stops the server there).

    python flask_app.py PORT
"""

import json
import sys
import time

from flask import Flask, Response, stream_with_context

app = Flask(__name__)


@app.route("/events")
def events() -> Response:
    def stream():
        yield "retry: 2000\n\n"
        yield "id: 1\n"
        yield "event: greeting\n"
        yield "data: hello\n\n"
        yield "id: 2\n"
        yield "event: json\n"
        data = json.dumps(
            {"n": 2, "text": "naïve café ✓ 日本語 🎉"}, ensure_ascii=False
        )
        yield f"data: {data}\n\n"
        yield ": keep-alive\n\n"
        time.sleep(1.0)
        yield "id: 3\nevent: multi\n"
        for line in ["line one", "line two", "", "line four"]:
            yield f"data: {line}\n"
        yield "\n"
        yield "id: 4\n"
        yield "data: this event is never finished\n"
        time.sleep(60)  # the server is stopped here
        yield "\n"

    return Response(stream_with_context(stream()), mimetype="text/event-stream")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
