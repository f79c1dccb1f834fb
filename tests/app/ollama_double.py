"""A real HTTP server that speaks the two Ollama routes the app uses, with scripted replies.

Replies are scripted by question (the HTTP server itself is tests/ollama_double.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.ollama_double import serve_ollama
from thelook_ecommerce_analysis.llm.ollama_provider import DEFAULT_OLLAMA_MODEL

RETRY_PREFIX = "That query failed"
NOT_SCRIPTED = "CANNOT ANSWER: this test double has no reply scripted for the question"


def asked_question(messages: list[Mapping[str, str]]) -> str:
    """The user's question: the last user message that is not the engine's retry instruction (few-shot
    examples come before it as user/assistant pairs)."""
    questions = [
        m["content"] for m in messages if m["role"] == "user" and not m["content"].startswith(RETRY_PREFIX)
    ]
    return questions[-1].strip() if questions else ""


@dataclass
class OllamaDouble:
    url: str
    replies: dict[str, str]
    questions: list[str] = field(default_factory=list)


@contextmanager
def ollama_double(replies: Mapping[str, str], model: str = DEFAULT_OLLAMA_MODEL) -> Iterator[OllamaDouble]:
    """Serve on 127.0.0.1 (a free port) until the block ends; `replies` maps question -> model text."""
    double = OllamaDouble(url="", replies=dict(replies))

    def reply_to(request: dict) -> str:
        question = asked_question(request["messages"])
        double.questions.append(question)
        return double.replies.get(question, NOT_SCRIPTED)

    with serve_ollama(reply_to, model=model) as url:
        double.url = url
        yield double
