"""Replies scripted in order for the question loop's tests (the HTTP server is tests/ollama_double.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.ollama_double import serve_ollama
from thelook_ecommerce_analysis.llm.ollama_provider import DEFAULT_OLLAMA_MODEL

MODEL = DEFAULT_OLLAMA_MODEL


@dataclass
class Script:
    """Replies in order (the last repeats), an optional delay per reply, and the requests received."""

    replies: list[str]
    delay_s: float = 0.0
    requests: list[dict] = field(default_factory=list)

    def reply_to(self, request: dict) -> str:
        self.requests.append(request)
        return self.replies[min(len(self.requests), len(self.replies)) - 1]


@contextmanager
def ollama_double(script: Script) -> Iterator[str]:
    """Serve `script` as Ollama; yields the host URL to give OllamaProvider."""
    with serve_ollama(script.reply_to, delay_s=script.delay_s) as url:
        yield url
