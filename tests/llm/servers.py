"""Real network endpoints for provider tests: a port where nothing listens, a tiny HTTP server that
answers fixed JSON (as a remote Ollama would), and servers that answer too slowly to ever finish, so
selection and the total deadline are tested over real sockets."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def closed_port() -> int:
    """A port that was free a moment ago: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON and keeps the test output clean."""

    def send_json(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        return


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on 127.0.0.1 (a free port) in a thread until the block ends; yields the URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def json_server(routes: dict[str, dict]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering GET or POST `path` with `routes[path]`, else 404; yields its
    URL."""

    class Handler(JsonHandler):
        def do_GET(self) -> None:
            body = routes.get(self.path)
            self.send_json(
                200 if body is not None else 404, body if body is not None else {"error": "not found"}
            )

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.do_GET()

    with serving(Handler) as url:
        yield url


TRICKLE_MODES = ("body", "close-delimited", "headers", "silent")
"""How a trickling server stalls: `body` sends headers (Content-Length 1 MB) and then one byte per tick;
`close-delimited` the same without Content-Length, so the body ends only when the connection does;
`headers` sends even the status line one byte per tick; `silent` accepts, reads the request, sends
nothing."""


@contextmanager
def trickling_server(mode: str, *, every_s: float = 0.5, lasts_s: float = 30.0) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 whose every answer stalls as `mode` says, except GET /health, which
    answers 200 at once (so the embedded provider's readiness check passes and its chat call stalls).

    Bounded: each answer stops after `lasts_s`, when the client hangs up, or when the block ends, so no
    thread outlives the test for long whatever the code under test does."""
    if mode not in TRICKLE_MODES:
        raise ValueError(f"mode {mode!r} is not one of {TRICKLE_MODES}")
    stop = threading.Event()
    status_line = b"HTTP/1.1 200 OK\r\n"
    json_headers = b"Content-Type: application/json\r\n"
    preludes = {
        "body": status_line + json_headers + b"Content-Length: 1000000\r\n\r\n",
        "close-delimited": status_line + json_headers + b"Connection: close\r\n\r\n",
        "headers": b"",
        "silent": b"",
    }
    # Spaces are valid JSON that never completes; in `headers` mode, a header line that never ends.
    drip = status_line + b"X-Stall: " + b"a" * 1_000_000 if mode == "headers" else b" " * 1_000_000

    class Handler(JsonHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                self.send_json(200, {"status": "ok"})
            else:
                self._stall()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._stall()

        def _stall(self) -> None:
            self.close_connection = True
            ends = time.monotonic() + lasts_s
            try:
                self.wfile.write(preludes[mode])
                for byte in drip:
                    if stop.wait(every_s) or time.monotonic() > ends:
                        return
                    if mode != "silent":
                        self.wfile.write(bytes([byte]))
            except OSError:  # the client hung up: the deadline did its work
                return

    with serving(Handler) as url:
        try:
            yield url
        finally:
            stop.set()
