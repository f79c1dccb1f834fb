"""The Ollama provider against a scripted Ollama at the HTTP boundary: the official client runs for real,
only the network is replaced by `httpx.MockTransport` (no Ollama server can run here)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from tests.llm.servers import closed_port
from thelook_ecommerce_analysis.llm.base import LLMUnavailable
from thelook_ecommerce_analysis.llm.ollama_provider import OllamaProvider

HOST = "http://ollama.test:11434"
MESSAGES = [{"role": "user", "content": "How many users are there?"}]


def _chat_reply(content: str, model: str = "deepseek-r1:1.5b") -> dict:
    return {
        "model": model,
        "created_at": "2025-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": content},
        "done": True,
    }


def _provider(handler: Callable[[httpx.Request], httpx.Response], **options) -> OllamaProvider:
    return OllamaProvider(host=HOST, transport=httpx.MockTransport(handler), **options)


def test_reply_text_and_the_request_ollama_receives() -> None:
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append({"path": request.url.path, **json.loads(request.content)})
        return httpx.Response(200, json=_chat_reply("SELECT count(*) FROM users"))

    reply = _provider(handler, keep_alive="10m", context_tokens=4096).complete(
        MESSAGES, temperature=0.2, seed=7, max_tokens=64
    )
    assert reply.text == "SELECT count(*) FROM users"
    assert reply.reasoning is None
    assert reply.model == "deepseek-r1:1.5b"
    assert reply.seconds >= 0
    [request] = seen
    assert request["path"] == "/api/chat"
    assert request["model"] == "deepseek-r1:1.5b"
    assert request["messages"] == MESSAGES
    assert request["stream"] is False
    assert request["keep_alive"] == "10m"
    assert request["options"] == {"temperature": 0.2, "seed": 7, "num_predict": 64, "num_ctx": 4096}


def test_think_block_becomes_reasoning() -> None:
    raw = "<think>\ncount rows of users\n</think>\nSELECT count(*) FROM users"
    reply = _provider(lambda request: httpx.Response(200, json=_chat_reply(raw))).complete(MESSAGES)
    assert reply.text == "SELECT count(*) FROM users"
    assert reply.reasoning == "count rows of users"


def test_separate_thinking_field_of_newer_ollama_is_kept() -> None:
    body = _chat_reply("SELECT 1")
    body["message"]["thinking"] = "trivial"
    reply = _provider(lambda request: httpx.Response(200, json=body)).complete(MESSAGES)
    assert (reply.text, reply.reasoning) == ("SELECT 1", "trivial")


def test_timeout_names_the_host_and_the_setting_to_raise() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(
        LLMUnavailable,
        match=r"did not answer within 3 s \(deadline\) at http://ollama\.test:11434: .*THELOOK_LLM_TIMEOUT",
    ):
        _provider(handler, timeout_s=3).complete(MESSAGES)


def test_refused_connection_on_a_real_closed_port() -> None:
    provider = OllamaProvider(host=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(
        LLMUnavailable, match=r"not reachable: start it \(`ollama serve`\) or set OLLAMA_HOST"
    ):
        provider.complete(MESSAGES)
    healthy, why = provider.health()
    assert not healthy
    assert "not reachable" in why


def test_missing_model_404_says_which_model_to_pull() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": 'model "deepseek-r1:1.5b" not found, try pulling it first'})

    with pytest.raises(
        LLMUnavailable, match=r"no model 'deepseek-r1:1.5b': run `ollama pull deepseek-r1:1.5b`"
    ):
        _provider(handler).complete(MESSAGES)


def test_server_error_is_reported_with_its_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"error": "out of memory"})

    with pytest.raises(LLMUnavailable, match=r"HTTP 500\): out of memory"):
        _provider(handler).complete(MESSAGES)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>proxy login</html>"),
        httpx.Response(200, json={"model": "x", "done": True}),
    ],
    ids=["not-json", "json-without-message"],
)
def test_garbage_body_is_not_an_ollama_reply(response: httpx.Response) -> None:
    with pytest.raises(LLMUnavailable, match="not an Ollama chat reply"):
        _provider(lambda request: response).complete(MESSAGES)


def test_health_requires_the_model_to_be_pulled() -> None:
    def tags(names: list[str]) -> Callable[[httpx.Request], httpx.Response]:
        return lambda request: httpx.Response(200, json={"models": [{"model": name} for name in names]})

    assert _provider(tags(["deepseek-r1:1.5b"])).health()[0]
    assert _provider(tags(["sqlcoder:latest"]), model="sqlcoder").health()[0]
    healthy, why = _provider(tags(["llama3.2:1b"])).health()
    assert not healthy
    assert why.endswith("has no model 'deepseek-r1:1.5b': run `ollama pull deepseek-r1:1.5b`")


def test_describe_names_provider_model_and_host() -> None:
    assert _provider(lambda request: httpx.Response(200)).describe() == f"Ollama deepseek-r1:1.5b at {HOST}"
