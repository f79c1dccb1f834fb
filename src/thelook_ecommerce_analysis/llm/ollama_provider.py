"""Ollama through its official client: the provider the Docker setup runs (deepseek-r1:1.5b by default).

Every failure the client can raise (refused connection, timeout, HTTP error, unreadable body) becomes one
`LLMUnavailable` line naming the host and the fix, since the caller is a CLI or a web page, not a
developer with a debugger. Each call runs under a total `CallDeadline` (llm/deadline.py): the client's
own timeouts are per read, and a server trickling bytes would otherwise hold the caller forever.
"""

from __future__ import annotations

import json
import time

import httpx
import ollama
import pydantic

from thelook_ecommerce_analysis.llm.base import ChatMessage, LLMReply, LLMUnavailable, split_reasoning
from thelook_ecommerce_analysis.llm.deadline import (
    DEFAULT_LLM_TIMEOUT_S,
    HEALTH_HINT,
    HEALTH_TIMEOUT_S,
    CallDeadline,
)

DEFAULT_OLLAMA_MODEL = "deepseek-r1:1.5b"
DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
DEFAULT_KEEP_ALIVE = "5m"
# Ollama's own default window (2048-4096 tokens, by version) silently truncates a ~3k-token prompt.
DEFAULT_CONTEXT_TOKENS = 8192


# What the client raises when the server, not our code, is at fault: ConnectionError for a refused
# connection, httpx errors for timeouts and broken transfers, ResponseError for HTTP errors, and the
# decoding errors for a body that is not an Ollama reply.
_CALL_FAILURES = (
    ConnectionError,
    httpx.HTTPError,
    ollama.ResponseError,
    json.JSONDecodeError,
    pydantic.ValidationError,
)


class OllamaProvider:
    """Chat with one model on one Ollama server.

    `timeout_s` is the whole budget of one chat call and `health_timeout_s` that of one health check.
    `transport` replaces httpx's network layer; tests pass an `httpx.MockTransport` to script the server.
    """

    def __init__(
        self,
        model: str = DEFAULT_OLLAMA_MODEL,
        host: str = DEFAULT_OLLAMA_HOST,
        *,
        keep_alive: str = DEFAULT_KEEP_ALIVE,
        timeout_s: float = DEFAULT_LLM_TIMEOUT_S,
        health_timeout_s: float = HEALTH_TIMEOUT_S,
        context_tokens: int = DEFAULT_CONTEXT_TOKENS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.model = model
        self.host = host
        self.keep_alive = keep_alive
        self.timeout_s = timeout_s
        self.health_timeout_s = health_timeout_s
        self.context_tokens = context_tokens
        self._transport = transport

    def _client(self, deadline: CallDeadline) -> ollama.Client:
        """A client for one call, bound to its deadline (see llm/deadline.py for why not one for all)."""
        return ollama.Client(host=self.host, transport=self._transport, **deadline.client_options())

    def describe(self) -> str:
        return f"Ollama {self.model} at {self.host}"

    def complete(
        self,
        messages: list[ChatMessage],
        *,
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 512,
    ) -> LLMReply:
        options = {"temperature": temperature, "num_predict": max_tokens, "num_ctx": self.context_tokens}
        if seed is not None:
            options["seed"] = seed
        started = time.perf_counter()
        with CallDeadline(self.timeout_s, self.host) as deadline, self._client(deadline) as client:
            try:
                response = client.chat(
                    model=self.model, messages=messages, options=options, keep_alive=self.keep_alive
                )
            except _CALL_FAILURES as error:
                raise self._explain(error, deadline) from None
        if deadline.overran():  # the timer cut a body that ends at connection close: it is incomplete
            raise deadline.exceeded()
        seconds = time.perf_counter() - started
        text, reasoning = split_reasoning(response.message.content or "")
        if response.message.thinking:
            reasoning = "\n\n".join(part for part in (response.message.thinking.strip(), reasoning) if part)
        return LLMReply(text=text, reasoning=reasoning, model=response.model or self.model, seconds=seconds)

    def health(self) -> tuple[bool, str]:
        """Reachable within the health timeout, and the model pulled (a missing model is a 404 later)."""
        with (
            CallDeadline(self.health_timeout_s, self.host, HEALTH_HINT) as deadline,
            self._client(deadline) as client,
        ):
            try:
                listing = client.list()
            except _CALL_FAILURES as error:
                return False, str(self._explain(error, deadline))
        if deadline.overran():
            return False, str(deadline.exceeded())
        names = {entry.model for entry in listing.models}
        if self.model in names or f"{self.model}:latest" in names:
            return True, f"Ollama at {self.host} has {self.model}"
        return False, f"Ollama at {self.host} has no model {self.model!r}: run `ollama pull {self.model}`"

    def _explain(self, error: Exception, deadline: CallDeadline) -> LLMUnavailable:
        """The one-line story of a failed call: what went wrong at which host, and the fix."""
        if deadline.overran(error):
            return deadline.exceeded()
        where = f"Ollama at {self.host}"
        if isinstance(error, ConnectionError | httpx.ConnectError | httpx.ConnectTimeout):
            return LLMUnavailable(
                f"{where} is not reachable: start it (`ollama serve`) or set OLLAMA_HOST to where it runs"
            )
        if isinstance(error, ollama.ResponseError):
            if error.status_code == 404:
                return LLMUnavailable(
                    f"{where} has no model {self.model!r}: run `ollama pull {self.model}` "
                    "or set THELOOK_LLM_MODEL to a pulled model"
                )
            return LLMUnavailable(f"{where} refused the request (HTTP {error.status_code}): {error.error}")
        if isinstance(error, json.JSONDecodeError | pydantic.ValidationError):
            return LLMUnavailable(
                f"{where} answered something that is not an Ollama chat reply: is Ollama listening there?"
            )
        return LLMUnavailable(f"{where} failed: {type(error).__name__}: {error}; is the server healthy?")
