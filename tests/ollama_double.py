"""A real HTTP server on 127.0.0.1 that speaks the two Ollama routes thelook uses: the project's only test
double, at the HTTP boundary.

The production OllamaProvider (the official client) talks to it over a real socket, exactly as it would to
Ollama, so everything above the network is production code. GET /api/tags lists the model (the health
check); POST /api/chat answers with whatever `reply_to(request)` returns, after `delay_s` (to play a slow
server). Callers decide how replies are scripted: in order, or by question.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tests.llm.servers import JsonHandler, serving
from thelook_ecommerce_analysis.llm.ollama_provider import DEFAULT_OLLAMA_MODEL


@contextmanager
def serve_ollama(
    reply_to: Callable[[dict], str], *, delay_s: float = 0.0, model: str = DEFAULT_OLLAMA_MODEL
) -> Iterator[str]:
    """Serve until the block ends; yields the host URL to give OllamaProvider."""

    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server names the handler methods)
            if self.path == "/api/tags":
                self.send_json(200, {"models": [{"model": model, "name": model}]})
            else:
                self.send_json(404, {"error": "not found"})

        def do_POST(self) -> None:  # noqa: N802 (http.server names the handler methods)
            if self.path != "/api/chat":
                self.send_json(404, {"error": "not found"})
                return
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            text = reply_to(request)
            time.sleep(delay_s)
            message = {"role": "assistant", "content": text}
            self.send_json(
                200, {"model": model, "created_at": "2026-01-01T00:00:00Z", "message": message, "done": True}
            )

    with serving(Handler) as url:
        yield url
