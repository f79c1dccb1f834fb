"""Which LLM answers, and the sentence that says why: explicit settings, else a reachable Ollama, else the
embedded model. Ollama is played by a real HTTP server on a real socket."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.llm.servers import closed_port, json_server
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.llm.base import LLMProvider
from thelook_ecommerce_analysis.llm.local_server import EmbeddedLlamaProvider
from thelook_ecommerce_analysis.llm.ollama_provider import OllamaProvider
from thelook_ecommerce_analysis.llm.openai_compatible import OpenAICompatibleProvider
from thelook_ecommerce_analysis.llm.select import LLMSettings, choose_provider


def _settings(tmp_path: Path, **environ: str) -> LLMSettings:
    base = {"THELOOK_LLM_MODEL_PATH": str(tmp_path / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")}
    settings = LLMSettings.from_environment({**base, **environ})
    return dataclasses.replace(settings, log_path=tmp_path / "llm.log")


def test_defaults_from_an_empty_environment() -> None:
    settings = LLMSettings.from_environment({})
    assert settings.kind is None
    assert settings.ollama_host == "http://127.0.0.1:11434"
    assert (settings.keep_alive, settings.timeout_s, settings.context_tokens) == ("5m", 120.0, 8192)
    assert settings.local_port == 8081


def test_every_variable_is_read() -> None:
    settings = LLMSettings.from_environment(
        {
            "THELOOK_LLM": " Ollama ",
            "THELOOK_LLM_MODEL": "qwen2.5-coder:1.5b",
            "THELOOK_LLM_BASE_URL": "http://h:1/v1",
            "THELOOK_LLM_API_KEY": "k",
            "THELOOK_LLM_TIMEOUT": "30.5",
            "THELOOK_LLM_CTX": "4096",
            "OLLAMA_HOST": "http://gpu-box:11434",
            "OLLAMA_KEEP_ALIVE": "1h",
            "THELOOK_LLM_PORT": "9000",
            "THELOOK_LLM_THREADS": "3",
            "THELOOK_LLM_MODEL_PATH": "/models/x.gguf",
        }
    )
    assert settings == LLMSettings(
        kind="ollama",
        model="qwen2.5-coder:1.5b",
        base_url="http://h:1/v1",
        api_key="k",
        ollama_host="http://gpu-box:11434",
        keep_alive="1h",
        timeout_s=30.5,
        context_tokens=4096,
        local_port=9000,
        local_threads=3,
        local_model_path=Path("/models/x.gguf"),
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"THELOOK_LLM": "gpt"}, "THELOOK_LLM='gpt' is not one of ollama, openai, local"),
        ({"THELOOK_LLM_TIMEOUT": "soon"}, "THELOOK_LLM_TIMEOUT='soon' is not a number"),
        ({"THELOOK_LLM_PORT": "-1"}, "THELOOK_LLM_PORT='-1' must be positive"),
    ],
)
def test_bad_settings_are_one_clear_error(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ThelookError, match=message):
        LLMSettings.from_environment(environ)


def test_explicit_ollama_is_used_without_probing(tmp_path: Path) -> None:
    chosen = choose_provider(
        _settings(tmp_path, THELOOK_LLM="ollama", OLLAMA_HOST=f"127.0.0.1:{closed_port()}")
    )
    assert isinstance(chosen.provider, OllamaProvider)
    assert chosen.provider.model == "deepseek-r1:1.5b"
    assert chosen.reason.startswith("THELOOK_LLM=ollama: using Ollama deepseek-r1:1.5b")


def test_base_url_alone_selects_the_openai_compatible_server(tmp_path: Path) -> None:
    chosen = choose_provider(_settings(tmp_path, THELOOK_LLM_BASE_URL="http://h:1/v1", THELOOK_LLM_MODEL="m"))
    assert isinstance(chosen.provider, OpenAICompatibleProvider)
    assert chosen.describe() == "OpenAI-compatible m at http://h:1/v1"


def test_openai_without_url_or_model_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(ThelookError, match=r"needs THELOOK_LLM_BASE_URL .* and THELOOK_LLM_MODEL"):
        choose_provider(_settings(tmp_path, THELOOK_LLM="openai", THELOOK_LLM_BASE_URL="http://h:1/v1"))


def test_reachable_ollama_with_the_model_wins(tmp_path: Path) -> None:
    with json_server({"/api/tags": {"models": [{"model": "deepseek-r1:1.5b"}]}}) as url:
        chosen = choose_provider(_settings(tmp_path, OLLAMA_HOST=url))
    assert isinstance(chosen.provider, OllamaProvider)
    assert chosen.reason == f"Ollama at {url} has deepseek-r1:1.5b: using Ollama deepseek-r1:1.5b at {url}"
    assert isinstance(chosen, LLMProvider)


def test_unreachable_ollama_falls_back_to_the_embedded_model_and_says_so(tmp_path: Path) -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    chosen = choose_provider(_settings(tmp_path, OLLAMA_HOST=host, THELOOK_LLM_PORT=str(closed_port())))
    assert isinstance(chosen.provider, EmbeddedLlamaProvider)
    assert chosen.reason.startswith(f"Ollama at {host} is not reachable")
    assert (
        "; using the embedded llama.cpp qwen2.5-coder-0.5b-instruct-q4_k_m at http://127.0.0.1:"
        in chosen.reason
    )
    assert not (tmp_path / "llm.log").exists(), "choosing must not start the server; first use does"


def test_ollama_without_the_model_falls_back_too(tmp_path: Path) -> None:
    with json_server({"/api/tags": {"models": [{"model": "llama3.2:1b"}]}}) as url:
        chosen = choose_provider(_settings(tmp_path, OLLAMA_HOST=url))
    assert isinstance(chosen.provider, EmbeddedLlamaProvider)
    assert (
        "has no model 'deepseek-r1:1.5b': run `ollama pull deepseek-r1:1.5b`; using the embedded"
        in chosen.reason
    )


def test_explicit_local_skips_ollama(tmp_path: Path) -> None:
    chosen = choose_provider(_settings(tmp_path, THELOOK_LLM="local", THELOOK_LLM_PORT="9123"))
    assert isinstance(chosen.provider, EmbeddedLlamaProvider)
    assert (
        chosen.describe()
        == "embedded llama.cpp qwen2.5-coder-0.5b-instruct-q4_k_m at http://127.0.0.1:9123/v1"
    )
