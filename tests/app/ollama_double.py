"""A real HTTP server that speaks the two Ollama routes the app uses, with scripted replies.

The engine sends three kinds of request, told apart by their content as a real model would see them:
- a follow-up's rewrite (system prompt rag.conversation.REWRITE_PROMPT, the last user message ending in
  "Follow-up: <text>"): answered from `standalone`, follow-up -> standalone question;
- the answer in words (system prompt rag.sentence.SENTENCE_PROMPT, the user message opening with
  "Question: <q>"): answered from `sentences`, question -> sentence;
- the SQL itself (any other request): answered from `replies`, question -> model text.
What is not scripted gets a reply the engine treats as no answer (an empty rewrite, a refusal).
Optional `delays` hold a question's SQL reply back, to play a slow model. The HTTP server itself is
tests/ollama_double.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.ollama_double import serve_ollama
from thelook_ecommerce_analysis.llm.ollama_provider import DEFAULT_OLLAMA_MODEL
from thelook_ecommerce_analysis.rag.conversation import REWRITE_PROMPT
from thelook_ecommerce_analysis.rag.sentence import SENTENCE_PROMPT

RETRY_PREFIX = "That query failed"
NOT_SCRIPTED = "CANNOT ANSWER: this test double has no reply scripted for the question"
FOLLOW_UP_MARK = "Follow-up: "
SENTENCE_MARK = "Question: "


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
    standalone: dict[str, str] = field(default_factory=dict)
    sentences: dict[str, str] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    questions: list[str] = field(default_factory=list)
    """The questions SQL was asked for, in order."""
    follow_ups: list[str] = field(default_factory=list)
    """The follow-ups a rewrite was asked for, in order."""
    described: list[str] = field(default_factory=list)
    """The questions an answer in words was asked for, in order."""

    def reply_to(self, request: dict) -> str:
        messages = request["messages"]
        system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
        last = messages[-1]["content"] if messages else ""
        if system == REWRITE_PROMPT:
            follow_up = last.rsplit(FOLLOW_UP_MARK, 1)[-1].strip()
            self.follow_ups.append(follow_up)
            return self.standalone.get(follow_up, "")
        if system == SENTENCE_PROMPT:
            question = last.removeprefix(SENTENCE_MARK).split("\n", 1)[0].strip()
            self.described.append(question)
            return self.sentences.get(question, NOT_SCRIPTED)
        question = asked_question(messages)
        self.questions.append(question)
        time.sleep(self.delays.get(question, 0.0))
        return self.replies.get(question, NOT_SCRIPTED)


@contextmanager
def ollama_double(
    replies: Mapping[str, str],
    *,
    standalone: Mapping[str, str] | None = None,
    sentences: Mapping[str, str] | None = None,
    delays: Mapping[str, float] | None = None,
    model: str = DEFAULT_OLLAMA_MODEL,
) -> Iterator[OllamaDouble]:
    """Serve on 127.0.0.1 (a free port) until the block ends, with the scripts above."""
    double = OllamaDouble(
        url="",
        replies=dict(replies),
        standalone=dict(standalone or {}),
        sentences=dict(sentences or {}),
        delays=dict(delays or {}),
    )
    with serve_ollama(double.reply_to, model=model) as url:
        double.url = url
        yield double
