"""Real network endpoints for provider tests: a port where nothing listens, and a tiny HTTP server that
answers fixed JSON (as a remote Ollama would), so selection is tested over real sockets."""

from __future__ import annotations

import json
import socket
import threading
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
    """An HTTP server on 127.0.0.1 answering GET `path` with `routes[path]`, else 404; yields its URL."""

    class Handler(JsonHandler):
        def do_GET(self) -> None:
            body = routes.get(self.path)
            self.send_json(
                200 if body is not None else 404, body if body is not None else {"error": "not found"}
            )

    with serving(Handler) as url:
        yield url
