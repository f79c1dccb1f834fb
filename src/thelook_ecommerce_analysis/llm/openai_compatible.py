"""Any server that speaks OpenAI's `/v1/chat/completions`: llama.cpp's server (our embedded default), vLLM,
LM Studio, or a hosted API. Plain httpx, since the request is one POST and the OpenAI SDK would be a large
dependency for it. Each request runs under a total `CallDeadline` (llm/deadline.py), as every provider's do.
"""

from __future__ import annotations

import json
import time

import httpx

from thelook_ecommerce_analysis.llm.base import ChatMessage, LLMReply, LLMUnavailable, split_reasoning
from thelook_ecommerce_analysis.llm.deadline import (
    DEFAULT_LLM_TIMEOUT_S,
    HEALTH_HINT,
    HEALTH_TIMEOUT_S,
    RAISE_TIMEOUT_HINT,
    CallDeadline,
)


class OpenAICompatibleProvider:
    """Chat with `model` at `base_url`, the URL that ends in `/v1` (as OpenAI clients expect it).

    `timeout_s` is the whole budget of one chat call and `health_timeout_s` that of one health check.
    `transport` replaces httpx's network layer; tests pass an `httpx.MockTransport` to script the server.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = DEFAULT_LLM_TIMEOUT_S,
        health_timeout_s: float = HEALTH_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self.health_timeout_s = health_timeout_s
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._transport = transport

    def describe(self) -> str:
        return f"OpenAI-compatible {self.model} at {self.base_url}"

    def complete(
        self,
        messages: list[ChatMessage],
        *,
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 512,
    ) -> LLMReply:
        body: dict = {
            "model": self.model,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "stream": False,
        }
        if seed is not None:
            body["seed"] = seed
        started = time.perf_counter()
        payload = self._call("POST", "/chat/completions", body=body, budget_s=self.timeout_s)
        seconds = time.perf_counter() - started
        try:
            message = payload["choices"][0]["message"]
            raw = message.get("content") or ""
            server_reasoning = message.get("reasoning_content")
        except (KeyError, IndexError, TypeError, AttributeError):  # any shape but the expected one
            raise LLMUnavailable(
                f"{self._where()} answered JSON without choices[0].message: is it an OpenAI-compatible "
                f"chat endpoint? (got {json.dumps(payload)[:200]})"
            ) from None
        text, reasoning = split_reasoning(raw)
        if server_reasoning:
            reasoning = "\n\n".join(part for part in (server_reasoning.strip(), reasoning) if part)
        model = payload.get("model") or self.model
        return LLMReply(text=text, reasoning=reasoning, model=model, seconds=seconds)

    def health(self) -> tuple[bool, str]:
        """`GET /models` answers within the health timeout; every OpenAI-compatible server has it."""
        try:
            self._call("GET", "/models", budget_s=self.health_timeout_s, hint=HEALTH_HINT)
        except LLMUnavailable as error:
            return False, str(error)
        return True, f"{self._where()} answers"

    def _where(self) -> str:
        return f"the LLM server at {self.base_url}"

    def _call(
        self,
        method: str,
        path: str,
        *,
        budget_s: float,
        body: dict | None = None,
        hint: str = RAISE_TIMEOUT_HINT,
    ) -> dict:
        """The decoded JSON body of one request within `budget_s` in all, or `LLMUnavailable` saying what
        went wrong and the fix (`hint`: the advice when the budget runs out)."""
        where = self._where()
        with (
            CallDeadline(budget_s, self.base_url, hint) as deadline,
            httpx.Client(
                base_url=self.base_url,
                headers=self._headers,
                transport=self._transport,
                **deadline.client_options(),
            ) as client,
        ):
            try:
                response = client.request(method, path, json=body)
            except httpx.HTTPError as error:
                if deadline.overran(error):
                    raise deadline.exceeded() from None
                if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
                    raise LLMUnavailable(
                        f"{where} is not reachable: start it (`thelook llm serve` for the embedded one) "
                        "or set THELOOK_LLM_BASE_URL to where it runs"
                    ) from None
                raise LLMUnavailable(f"{where} failed: {type(error).__name__}: {error}") from None
        if deadline.overran():  # the timer cut a body that ends at connection close: it is incomplete
            raise deadline.exceeded()
        if response.status_code == 404 and path == "/chat/completions":
            raise LLMUnavailable(
                f"{where} has no {path} or no model {self.model!r} (HTTP 404): check that the base URL "
                "ends in /v1 and THELOOK_LLM_MODEL names a model it serves"
            )
        if response.status_code in (401, 403):
            raise LLMUnavailable(
                f"{where} refused our key (HTTP {response.status_code}): set THELOOK_LLM_API_KEY"
            )
        if response.is_error:
            raise LLMUnavailable(
                f"{where} refused the request (HTTP {response.status_code}): {response.text[:200]}"
            )
        try:
            payload = response.json()
        except json.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            raise LLMUnavailable(
                f"{where} answered something that is not a JSON object ({response.text[:80]!r}): "
                "is it an OpenAI-compatible server?"
            )
        return payload
