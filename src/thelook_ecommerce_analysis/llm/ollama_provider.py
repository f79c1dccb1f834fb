"""Ollama through its official client: the provider the Docker setup runs (deepseek-r1:1.5b by default).

Every failure the client can raise (refused connection, timeout, HTTP error, unreadable body) becomes one
`LLMUnavailable` line naming the host and the fix, since the caller is a CLI or a web page, not a
developer with a debugger.
"""

from __future__ import annotations

import json
import time

import httpx
import ollama
import pydantic

from thelook_ecommerce_analysis.llm.base import ChatMessage, LLMReply, LLMUnavailable, split_reasoning

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

    `transport` replaces httpx's network layer; tests pass an `httpx.MockTransport` to script the server.
    """

    def __init__(
        self,
        model: str = DEFAULT_OLLAMA_MODEL,
        host: str = DEFAULT_OLLAMA_HOST,
        *,
        keep_alive: str = DEFAULT_KEEP_ALIVE,
        timeout_s: float = 120.0,
        health_timeout_s: float = 1.0,
        context_tokens: int = DEFAULT_CONTEXT_TOKENS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.model = model
        self.host = host
        self.keep_alive = keep_alive
        self.timeout_s = timeout_s
        self.context_tokens = context_tokens
        self._client = ollama.Client(host=host, timeout=timeout_s, transport=transport)
        self._health_client = ollama.Client(host=host, timeout=health_timeout_s, transport=transport)

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
        try:
            response = self._client.chat(
                model=self.model, messages=messages, options=options, keep_alive=self.keep_alive
            )
        except _CALL_FAILURES as error:
            raise self._explain(error) from None
        seconds = time.perf_counter() - started
        text, reasoning = split_reasoning(response.message.content or "")
        if response.message.thinking:
            reasoning = "\n\n".join(part for part in (response.message.thinking.strip(), reasoning) if part)
        return LLMReply(text=text, reasoning=reasoning, model=response.model or self.model, seconds=seconds)

    def health(self) -> tuple[bool, str]:
        """Reachable within the health timeout, and the model pulled (a missing model is a 404 later)."""
        try:
            listing = self._health_client.list()
        except _CALL_FAILURES as error:
            return False, str(self._explain(error))
        names = {entry.model for entry in listing.models}
        if self.model in names or f"{self.model}:latest" in names:
            return True, f"Ollama at {self.host} has {self.model}"
        return False, f"Ollama at {self.host} has no model {self.model!r}: run `ollama pull {self.model}`"

    def _explain(self, error: Exception) -> LLMUnavailable:
        """The one-line story of a failed call: what went wrong at which host, and the fix."""
        where = f"Ollama at {self.host}"
        if isinstance(error, ConnectionError | httpx.ConnectError):
            return LLMUnavailable(
                f"{where} is not reachable: start it (`ollama serve`) or set OLLAMA_HOST to where it runs"
            )
        if isinstance(error, httpx.TimeoutException):
            return LLMUnavailable(
                f"{where} did not answer within {self.timeout_s:g} s: the model may still be loading; "
                "retry, or raise THELOOK_LLM_TIMEOUT"
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
