"""The total deadline of every LLM call, over real sockets on 127.0.0.1: a server that trickles one byte
every 0.5 s (in the body, in the headers, or in a body that ends only at close) or that never says a word
must fail the call at the deadline, for every provider, while a normal or a slow-but-finishing server
still answers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.llm.servers import TRICKLE_MODES, JsonHandler, json_server, serving, trickling_server
from thelook_ecommerce_analysis.llm.base import LLMProvider, LLMUnavailable
from thelook_ecommerce_analysis.llm.deadline import (
    HEALTH_HINT,
    LLMDeadlineExceeded,
    deadline_message,
)
from thelook_ecommerce_analysis.llm.local_server import EmbeddedLlamaProvider, LocalServerSettings
from thelook_ecommerce_analysis.llm.ollama_provider import OllamaProvider
from thelook_ecommerce_analysis.llm.openai_compatible import OpenAICompatibleProvider
from thelook_ecommerce_analysis.llm.select import LLMSettings, choose_provider

DEADLINE_S = 1.2
MARGIN_S = 1.0  # scheduling on a busy 2-core machine; a per-read timeout would wait ~30 s (lasts_s)
MESSAGES = [{"role": "user", "content": "How many users are there?"}]
CHAT_REPLY = {
    "model": "deepseek-r1:1.5b",
    "created_at": "2025-01-01T00:00:00Z",
    "message": {"role": "assistant", "content": "SELECT count(*) FROM users"},
    "done": True,
}
COMPLETION = {
    "model": "served-model",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "SELECT count(*) FROM users"}}],
}


def _ollama(url: str, tmp_path: Path) -> tuple[LLMProvider, str]:
    return OllamaProvider(host=url, timeout_s=DEADLINE_S), url


def _openai(url: str, tmp_path: Path) -> tuple[LLMProvider, str]:
    return OpenAICompatibleProvider(f"{url}/v1", "served-model", timeout_s=DEADLINE_S), f"{url}/v1"


def _embedded(url: str, tmp_path: Path) -> tuple[LLMProvider, str]:
    """The embedded provider pointed at the server's port: its readiness check (GET /health) passes, so
    it goes on to chat through the OpenAI-compatible path, which is the path under test."""
    port = int(url.rsplit(":", 1)[1])
    settings = LocalServerSettings(model_path=tmp_path / "model.gguf", port=port)
    provider = EmbeddedLlamaProvider(settings, tmp_path / "llm.log", timeout_s=DEADLINE_S)
    return provider, settings.base_url


PROVIDERS: dict[str, Callable[[str, Path], tuple[LLMProvider, str]]] = {
    "ollama": _ollama,
    "openai-compatible": _openai,
    "embedded": _embedded,
}


def _fails_at_the_deadline(call: Callable[[], object]) -> tuple[LLMUnavailable, float]:
    started = time.monotonic()
    with pytest.raises(LLMUnavailable) as caught:
        call()
    return caught.value, time.monotonic() - started


@pytest.mark.parametrize("mode", TRICKLE_MODES)
@pytest.mark.parametrize("kind", PROVIDERS)
def test_a_stalling_server_fails_the_call_at_the_deadline(kind: str, mode: str, tmp_path: Path) -> None:
    with trickling_server(mode) as url:
        provider, where = PROVIDERS[kind](url, tmp_path)
        error, elapsed = _fails_at_the_deadline(lambda: provider.complete(MESSAGES))
    assert DEADLINE_S - 0.05 <= elapsed < DEADLINE_S + MARGIN_S, f"{kind}/{mode} took {elapsed:.2f} s"
    assert isinstance(error, LLMDeadlineExceeded)
    assert str(error) == deadline_message(DEADLINE_S, where)
    assert str(error).startswith(f"the language model did not answer within 1.2 s (deadline) at {where}: ")
    assert "THELOOK_LLM_TIMEOUT" in str(error)
    assert not (tmp_path / "llm.log").exists(), "the embedded provider must use the server it found"


@pytest.mark.parametrize(
    ("provider_for", "where_for"),
    [
        (lambda url: OllamaProvider(host=url), lambda url: url),
        (lambda url: OpenAICompatibleProvider(f"{url}/v1", "m"), lambda url: f"{url}/v1"),
    ],
    ids=["ollama", "openai-compatible"],
)
def test_health_checks_have_a_one_second_deadline_too(provider_for, where_for) -> None:
    with trickling_server("body") as url:
        started = time.monotonic()
        healthy, why = provider_for(url).health()
        elapsed = time.monotonic() - started
    assert not healthy
    assert 1.0 - 0.05 <= elapsed < 1.0 + MARGIN_S
    assert why == deadline_message(1.0, where_for(url), HEALTH_HINT)


def test_the_deadline_comes_from_thelook_llm_timeout(tmp_path: Path) -> None:
    with trickling_server("body") as url:
        settings = LLMSettings.from_environment(
            {"THELOOK_LLM": "ollama", "OLLAMA_HOST": url, "THELOOK_LLM_TIMEOUT": "0.8"}
        )
        error, elapsed = _fails_at_the_deadline(lambda: choose_provider(settings).complete(MESSAGES))
    assert 0.8 - 0.05 <= elapsed < 0.8 + MARGIN_S
    assert str(error).startswith(f"the language model did not answer within 0.8 s (deadline) at {url}")


@pytest.mark.parametrize("kind", ["ollama", "openai-compatible"])
def test_a_normal_server_still_answers_well_within_the_deadline(kind: str, tmp_path: Path) -> None:
    routes = {"/api/chat": CHAT_REPLY, "/v1/chat/completions": COMPLETION}
    with json_server(routes) as url:
        provider, _ = PROVIDERS[kind](url, tmp_path)
        started = time.monotonic()
        reply = provider.complete(MESSAGES)
        assert time.monotonic() - started < DEADLINE_S / 2
        time.sleep(DEADLINE_S)  # the deadline's timer must be gone: the next call starts a budget afresh
        assert provider.complete(MESSAGES).text == reply.text
    assert reply.text == "SELECT count(*) FROM users"


@contextmanager
def _slow_but_finishing(body: dict, pieces: int, every_s: float) -> Iterator[str]:
    """Answers every POST with `body` sent in `pieces` parts `every_s` apart: slow, and it finishes."""
    payload = json.dumps(body).encode()

    class Handler(JsonHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server names the handler methods)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            size = -(-len(payload) // pieces)
            for start in range(0, len(payload), size):
                time.sleep(every_s)
                self.wfile.write(payload[start : start + size])

    with serving(Handler) as url:
        yield url


@pytest.mark.parametrize(("kind", "body"), [("ollama", CHAT_REPLY), ("openai-compatible", COMPLETION)])
def test_a_slow_answer_that_ends_before_the_deadline_is_kept_whole(
    kind: str, body: dict, tmp_path: Path
) -> None:
    with _slow_but_finishing(body, pieces=4, every_s=0.15) as url:
        provider, _ = PROVIDERS[kind](url, tmp_path)
        reply = provider.complete(MESSAGES)
    assert reply.text == "SELECT count(*) FROM users"
    assert 0.5 <= reply.seconds < DEADLINE_S
