"""The one small interface every LLM backend speaks, so that the text-to-SQL loop never knows which it has.

A provider takes chat messages and returns plain text. Everything a caller must handle the same way
whatever the backend is settled here: reasoning models' `<think>` blocks are split off the answer, and a
server that is down, slow, or answers nonsense raises `LLMUnavailable` with one line saying what failed,
where, and what to do, so the CLI and the app can print it instead of a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict, runtime_checkable

from thelook_ecommerce_analysis.errors import ThelookError


class ChatMessage(TypedDict):
    """One turn of a chat, in the shape both the Ollama and the OpenAI APIs accept."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class LLMReply:
    """What the model said (`text`, reasoning removed), its reasoning if any, who said it and how fast."""

    text: str
    reasoning: str | None
    model: str
    seconds: float


class LLMUnavailable(ThelookError):  # noqa: N818 (the name the RAG loop and the app catch)
    """The model server is unreachable, too slow, refused the request, or answered something unreadable."""


@runtime_checkable
class LLMProvider(Protocol):
    """A chat model behind some server. Implementations must raise only `LLMUnavailable`."""

    def complete(
        self,
        messages: list[ChatMessage],
        *,
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 512,
    ) -> LLMReply:
        """The model's answer to `messages`; raw text, since judging it is the caller's job."""
        ...

    def describe(self) -> str:
        """Provider, model and address in one line, for logs and for the user."""
        ...

    def health(self) -> tuple[bool, str]:
        """Whether the server answers and has the model; when not, the reason and what to do."""
        ...


_THINK_BLOCK = re.compile(r"<think>(.*?)</think>", re.DOTALL | re.IGNORECASE)
_OPEN_THINK = re.compile(r"<think>", re.IGNORECASE)
_CLOSE_THINK = re.compile(r"</think>", re.IGNORECASE)


def split_reasoning(raw: str) -> tuple[str, str | None]:
    """(answer, reasoning) from a model's raw output.

    Reasoning models such as deepseek-r1 think aloud inside `<think>...</think>` before answering. Three
    shapes occur: whole blocks; a reply cut off (max_tokens) inside an unterminated `<think>`, where
    everything after the tag is reasoning; and a reply whose opening tag was part of the chat template, so
    only `</think>` appears and everything before it is reasoning.
    """
    thoughts = [block.strip() for block in _THINK_BLOCK.findall(raw)]
    answer = _THINK_BLOCK.sub("", raw)
    if orphan_close := list(_CLOSE_THINK.finditer(answer)):
        thoughts.insert(0, _CLOSE_THINK.sub("", answer[: orphan_close[-1].start()]).strip())
        answer = answer[orphan_close[-1].end() :]
    if unterminated := _OPEN_THINK.search(answer):
        thoughts.append(answer[unterminated.end() :].strip())
        answer = answer[: unterminated.start()]
    reasoning = "\n\n".join(thought for thought in thoughts if thought)
    return answer.strip(), reasoning or None
