"""A scripted Ollama server on 127.0.0.1: the only test double of the project, at the HTTP boundary.

It speaks the two routes the provider uses (/api/chat and /api/tags), answers each chat request with the
next scripted reply, and records every request so that tests can check what the loop sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "deepseek-r1:1.5b"


@dataclass
class Script:
    """Replies in order (the last repeats), an optional delay per reply, and the requests received."""

    replies: list[str]
    delay_s: float = 0.0
    requests: list[dict] = field(default_factory=list)

    def next_reply(self) -> str:
        index = min(len(self.requests) - 1, len(self.replies) - 1)
        return self.replies[index]


@contextmanager
def ollama_double(script: Script) -> Iterator[str]:
    """Serve `script` as Ollama; yields the host URL to give OllamaProvider."""

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: dict) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            if self.path == "/api/tags":
                self._send(200, {"models": [{"name": MODEL, "model": MODEL}]})
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            request = json.loads(self.rfile.read(length) or b"{}")
            script.requests.append(request)
            time.sleep(script.delay_s)
            reply = script.next_reply()
            self._send(
                200,
                {
                    "model": request.get("model", MODEL),
                    "created_at": "2026-01-01T00:00:00Z",
                    "message": {"role": "assistant", "content": reply},
                    "done": True,
                    "done_reason": "stop",
                },
            )

        def log_message(self, *args) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
