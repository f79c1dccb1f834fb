"""The embedded model for real: the six PyPI chunks joined and verified, llama.cpp's server started as a
child process on first use, Qwen2.5-Coder-0.5B writing SQL, and the server gone after stop.

The model is loaded once for the module and asked only a few short questions (CPU, 2 cores: seconds each).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llm.servers import closed_port
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.llm.base import LLMUnavailable
from thelook_ecommerce_analysis.llm.local_server import (
    QWEN_CODER_05B,
    EmbeddedLlamaProvider,
    LocalServerProcess,
    LocalServerSettings,
    answers_health,
    is_verified,
    prepare_model,
    start_llama_server,
)
from thelook_ecommerce_analysis.llm.openai_compatible import OpenAICompatibleProvider

pytestmark = pytest.mark.slow

SQL_QUESTION = [
    {
        "role": "system",
        "content": "You write PostgreSQL. Answer with exactly one SQL query in a ```sql block, nothing else.",
    },
    {
        "role": "user",
        "content": "Schema: users(id int, first_name text, country text, created_at timestamp).\n"
        "Question: how many users are there in each country?",
    },
]
SELECT_FROM_USERS = re.compile(r"\bSELECT\b.*\bFROM\s+users\b", re.IGNORECASE | re.DOTALL)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    announced: list[str] = []
    path = prepare_model(tmp_path_factory.mktemp("models") / QWEN_CODER_05B.file_name, announced.append)
    assert any("sha256 verified" in line for line in announced)
    return path


@pytest.fixture(scope="module")
def embedded(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedLlamaProvider]:
    settings = LocalServerSettings(model_path=model_path, port=closed_port(), threads=2, context_tokens=4096)
    provider = EmbeddedLlamaProvider(settings, tmp_path_factory.mktemp("logs") / "llm.log", timeout_s=60)
    yield provider
    provider.close()


def test_assembled_model_is_verified_and_reused(model_path: Path) -> None:
    assert model_path.stat().st_size == QWEN_CODER_05B.size
    assert is_verified(model_path, QWEN_CODER_05B.size, QWEN_CODER_05B.sha256)
    announced: list[str] = []
    assert prepare_model(model_path, announced.append) == model_path
    assert announced == [], "a verified model must not be assembled again"


def test_first_use_starts_the_server_and_the_model_writes_a_select(embedded: EmbeddedLlamaProvider) -> None:
    assert not answers_health(embedded.settings.root_url)
    reply = embedded.complete(SQL_QUESTION, max_tokens=96)
    assert embedded.owns_server
    assert SELECT_FROM_USERS.search(reply.text), reply.text
    assert "country" in reply.text.lower()
    assert reply.model == "qwen2.5-coder-0.5b-instruct-q4_k_m"
    assert 0 < reply.seconds < 60


def test_openai_provider_against_the_real_server_is_deterministic_at_temperature_zero(
    embedded: EmbeddedLlamaProvider,
) -> None:
    embedded.ensure_running()
    provider = OpenAICompatibleProvider(embedded.settings.base_url, embedded.settings.model_alias)
    assert provider.health() == (True, f"the LLM server at {embedded.settings.base_url} answers")
    first = provider.complete(SQL_QUESTION, temperature=0.0, seed=1, max_tokens=96)
    second = provider.complete(SQL_QUESTION, temperature=0.0, seed=1, max_tokens=96)
    assert first.text == second.text
    assert SELECT_FROM_USERS.search(first.text)


def test_a_second_provider_reuses_the_running_server(embedded: EmbeddedLlamaProvider, tmp_path: Path) -> None:
    embedded.ensure_running()
    second = EmbeddedLlamaProvider(embedded.settings, tmp_path / "second.log")
    assert second.health()[0]
    assert not second.owns_server
    assert not (tmp_path / "second.log").exists()


def test_too_short_timeout_against_the_real_server(embedded: EmbeddedLlamaProvider) -> None:
    embedded.ensure_running()
    impatient = OpenAICompatibleProvider(
        embedded.settings.base_url, embedded.settings.model_alias, timeout_s=0.01
    )
    with pytest.raises(LLMUnavailable, match=r"did not answer within 0\.01 s \(deadline\)"):
        impatient.complete(SQL_QUESTION, max_tokens=8)


def test_a_taken_port_is_refused_before_loading(embedded: EmbeddedLlamaProvider) -> None:
    embedded.ensure_running()
    with pytest.raises(ThelookError, match=f"port {embedded.settings.port} on 127.0.0.1 is taken"):
        start_llama_server(embedded.settings)


def test_stop_ends_the_child_and_frees_the_port(model_path: Path, tmp_path: Path) -> None:
    settings = LocalServerSettings(model_path=model_path, port=closed_port(), threads=2, context_tokens=1024)
    server = LocalServerProcess(settings, tmp_path / "llm.log")
    with server.running_context():
        assert server.running
        assert answers_health(settings.root_url)
    assert not server.running
    assert not answers_health(settings.root_url)


def test_serve_with_a_missing_model_exits_with_one_error_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "thelook_ecommerce_analysis.cli",
            "llm",
            "serve",
            "--model-path",
            str(tmp_path / "x.gguf"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: no GGUF model at {tmp_path / 'x.gguf'}: fix --model-path / THELOOK_LLM_MODEL_PATH"
    ]
