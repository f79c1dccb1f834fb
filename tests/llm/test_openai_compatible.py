"""The OpenAI-compatible provider against scripted servers at the HTTP boundary (httpx.MockTransport);
the same provider against the real llama.cpp server is tested in test_local_model.py."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from tests.llm.servers import closed_port
from thelook_ecommerce_analysis.llm.base import LLMUnavailable
from thelook_ecommerce_analysis.llm.openai_compatible import OpenAICompatibleProvider

BASE_URL = "http://vllm.test:8000/v1"
MESSAGES = [{"role": "system", "content": "Answer in SQL."}, {"role": "user", "content": "Count users."}]


def _completion(content: str, **message_fields) -> dict:
    return {
        "object": "chat.completion",
        "model": "served-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, **message_fields}}],
    }


def _provider(handler: Callable[[httpx.Request], httpx.Response], **options) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(BASE_URL, "sqlcoder", transport=httpx.MockTransport(handler), **options)


def test_reply_text_and_the_request_the_server_receives() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_completion("SELECT count(*) FROM users"))

    reply = _provider(handler, api_key="secret").complete(MESSAGES, temperature=0.3, seed=11, max_tokens=99)
    assert (reply.text, reply.reasoning, reply.model) == ("SELECT count(*) FROM users", None, "served-model")
    [request] = seen
    assert str(request.url) == f"{BASE_URL}/chat/completions"
    assert request.headers["authorization"] == "Bearer secret"
    assert json.loads(request.content) == {
        "model": "sqlcoder",
        "messages": MESSAGES,
        "temperature": 0.3,
        "max_tokens": 99,
        "stream": False,
        "seed": 11,
    }


def test_think_block_and_server_side_reasoning_are_both_reasoning() -> None:
    body = _completion("<think>users table</think>SELECT 1", reasoning_content="server parsed this")
    reply = _provider(lambda request: httpx.Response(200, json=body)).complete(MESSAGES)
    assert reply.text == "SELECT 1"
    assert reply.reasoning == "server parsed this\n\nusers table"


def test_prose_comes_back_raw_for_the_caller_to_judge() -> None:
    prose = "I cannot answer that without the schema."
    reply = _provider(lambda request: httpx.Response(200, json=_completion(prose))).complete(MESSAGES)
    assert reply.text == prose


def test_timeout_names_the_server_and_the_setting() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(
        LLMUnavailable, match=r"did not answer within 2\.5 s \(deadline\) at http://vllm\.test:8000/v1: "
    ):
        _provider(handler, timeout_s=2.5).complete(MESSAGES)


def test_refused_connection_on_a_real_closed_port() -> None:
    provider = OpenAICompatibleProvider(f"http://127.0.0.1:{closed_port()}/v1", "any")
    with pytest.raises(LLMUnavailable, match=r"not reachable: start it \(`thelook llm serve`"):
        provider.complete(MESSAGES)
    assert provider.health()[0] is False


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (404, r"HTTP 404\): check that the base URL ends in /v1"),
        (401, "set THELOOK_LLM_API_KEY"),
        (503, "HTTP 503"),
    ],
)
def test_http_errors_say_what_to_fix(status: int, expected: str) -> None:
    handler = lambda request: httpx.Response(status, json={"error": {"message": "nope"}})  # noqa: E731
    with pytest.raises(LLMUnavailable, match=expected):
        _provider(handler).complete(MESSAGES)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(200, text="<html>gateway</html>"), "not a JSON object"),
        (httpx.Response(200, json=["a", "list"]), "not a JSON object"),
        (httpx.Response(200, json={"choices": []}), r"without choices\[0\]\.message"),
    ],
    ids=["html", "json-list", "no-choices"],
)
def test_garbage_bodies(response: httpx.Response, expected: str) -> None:
    with pytest.raises(LLMUnavailable, match=expected):
        _provider(lambda request: response).complete(MESSAGES)


def test_health_asks_for_the_model_list() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, json={"object": "list", "data": [{"id": "sqlcoder"}]})

    assert _provider(handler).health() == (True, f"the LLM server at {BASE_URL} answers")
    assert paths == ["/v1/models"]
