"""Any server that speaks OpenAI's `/v1/chat/completions`: llama.cpp's server (our embedded default), vLLM,
LM Studio, or a hosted API. Plain httpx, since the request is one POST and the OpenAI SDK would be a large
dependency for it.
"""

from __future__ import annotations

import json
import time

import httpx

from thelook_ecommerce_analysis.llm.base import ChatMessage, LLMReply, LLMUnavailable, split_reasoning


class OpenAICompatibleProvider:
    """Chat with `model` at `base_url`, the URL that ends in `/v1` (as OpenAI clients expect it).

    `transport` replaces httpx's network layer; tests pass an `httpx.MockTransport` to script the server.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        health_timeout_s: float = 1.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self.health_timeout_s = health_timeout_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=self.base_url, headers=headers, transport=transport)

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
        payload = self._call("POST", "/chat/completions", body=body, timeout=self.timeout_s)
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
            self._call("GET", "/models", timeout=self.health_timeout_s)
        except LLMUnavailable as error:
            return False, str(error)
        return True, f"{self._where()} answers"

    def close(self) -> None:
        self._client.close()

    def _where(self) -> str:
        return f"the LLM server at {self.base_url}"

    def _call(self, method: str, path: str, *, timeout: float, body: dict | None = None) -> dict:
        """The decoded JSON body of one request, or `LLMUnavailable` saying what went wrong and the fix."""
        where = self._where()
        try:
            response = self._client.request(method, path, json=body, timeout=timeout)
        except httpx.ConnectError:
            raise LLMUnavailable(
                f"{where} is not reachable: start it (`thelook llm serve` for the embedded one) "
                "or set THELOOK_LLM_BASE_URL to where it runs"
            ) from None
        except httpx.TimeoutException:
            raise LLMUnavailable(
                f"{where} did not answer within {timeout:g} s: it may be overloaded; "
                "retry, or raise THELOOK_LLM_TIMEOUT"
            ) from None
        except httpx.HTTPError as error:
            raise LLMUnavailable(f"{where} failed: {type(error).__name__}: {error}") from None
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
