// better-sse on Express: createSession with its retry and keep-alive, and
// session.push (which sends each value JSON-serialized, by default).
//
// /events sends a handful of events and ends.
//
//     node better_sse_app.mjs PORT

import express from "express";
import { createSession } from "better-sse";

const app = express();

app.get("/events", async (req, res) => {
  const session = await createSession(req, res, { retry: 2000, keepAlive: 500 });
  session.push("hello", "greeting", "1");
  session.push({ n: 2, text: "naïve café ✓ 日本語 🎉" }, "json", "2");
  await new Promise((resolve) => setTimeout(resolve, 1300)); // keep-alives here
  session.push("line one\nline two\n\nline four", "multi", "3");
  session.push("bye", "done", "4");
  res.end();
});

app.listen(Number(process.argv[2]), "127.0.0.1");
