"""Which LLM answers: explicit configuration first, else Ollama if it answers, else the embedded model.

The choice is made once per process and explained in words ("Ollama not reachable at ...; using the
embedded ..."), because a user who gets slow or odd answers first needs to know which model wrote them.

Configuration (environment variables, all optional; docs/llm.md lists them with examples):
THELOOK_LLM (ollama|openai|local), THELOOK_LLM_MODEL, THELOOK_LLM_BASE_URL, THELOOK_LLM_API_KEY,
THELOOK_LLM_TIMEOUT, THELOOK_LLM_CTX, OLLAMA_HOST, OLLAMA_KEEP_ALIVE, THELOOK_LLM_PORT, THELOOK_LLM_THREADS,
THELOOK_LLM_MODEL_PATH.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from thelook_ecommerce_analysis.config import environment, variable
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.llm.base import ChatMessage, LLMProvider, LLMReply
from thelook_ecommerce_analysis.llm.deadline import DEFAULT_LLM_TIMEOUT_S
from thelook_ecommerce_analysis.llm.local_server import (
    DEFAULT_CONTEXT_TOKENS,
    DEFAULT_LLM_PORT,
    DEFAULT_THREADS,
    EmbeddedLlamaProvider,
    LocalServerSettings,
    default_model_path,
)
from thelook_ecommerce_analysis.llm.ollama_provider import (
    DEFAULT_KEEP_ALIVE,
    DEFAULT_OLLAMA_HOST,
    DEFAULT_OLLAMA_MODEL,
    OllamaProvider,
)
from thelook_ecommerce_analysis.llm.openai_compatible import OpenAICompatibleProvider

PROVIDER_KINDS = ("ollama", "openai", "local")


@dataclass(frozen=True)
class LLMSettings:
    """Everything that decides which LLM is used and how it is reached."""

    kind: str | None = None  # None: automatic (Ollama if reachable, else embedded)
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    ollama_host: str = DEFAULT_OLLAMA_HOST
    keep_alive: str = DEFAULT_KEEP_ALIVE
    timeout_s: float = DEFAULT_LLM_TIMEOUT_S  # the whole budget of one call (llm/deadline.py)
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    local_port: int = DEFAULT_LLM_PORT
    local_threads: int = DEFAULT_THREADS
    local_model_path: Path | None = None  # None: default_model_path()
    log_path: Path | None = None  # None: logs/llm_server.log in the project

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> LLMSettings:
        """Settings from the environment variables listed in this module's docstring."""
        settings = environment(environ)
        kind = (settings.llm or "").strip().lower() or None
        if kind is not None and kind not in PROVIDER_KINDS:
            raise ThelookError(
                f"{variable('llm')}={kind!r} is not one of {', '.join(PROVIDER_KINDS)}: fix or unset it"
            )
        return cls(
            kind=kind,
            model=settings.llm_model,
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key,
            ollama_host=settings.ollama_host or DEFAULT_OLLAMA_HOST,
            keep_alive=settings.ollama_keep_alive or DEFAULT_KEEP_ALIVE,
            timeout_s=settings.llm_timeout_s or DEFAULT_LLM_TIMEOUT_S,
            context_tokens=settings.llm_context_tokens or DEFAULT_CONTEXT_TOKENS,
            local_port=settings.llm_port or DEFAULT_LLM_PORT,
            local_threads=settings.llm_threads or DEFAULT_THREADS,
            local_model_path=settings.llm_model_path.expanduser().resolve()
            if settings.llm_model_path
            else None,
        )


class ChosenProvider:
    """The selected provider together with why it was selected; it is itself an `LLMProvider`."""

    def __init__(self, provider: LLMProvider, reason: str) -> None:
        self.provider = provider
        self.reason = reason

    def complete(
        self,
        messages: list[ChatMessage],
        *,
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 512,
    ) -> LLMReply:
        return self.provider.complete(messages, temperature=temperature, seed=seed, max_tokens=max_tokens)

    def describe(self) -> str:
        return self.provider.describe()

    def health(self) -> tuple[bool, str]:
        return self.provider.health()


def ollama_provider(settings: LLMSettings) -> OllamaProvider:
    return OllamaProvider(
        model=settings.model or DEFAULT_OLLAMA_MODEL,
        host=settings.ollama_host,
        keep_alive=settings.keep_alive,
        timeout_s=settings.timeout_s,
        context_tokens=settings.context_tokens,
    )


def openai_provider(settings: LLMSettings) -> OpenAICompatibleProvider:
    if not (settings.base_url and settings.model):
        raise ThelookError(
            "THELOOK_LLM=openai needs THELOOK_LLM_BASE_URL (e.g. http://127.0.0.1:8000/v1) "
            "and THELOOK_LLM_MODEL (a model that server serves)"
        )
    return OpenAICompatibleProvider(
        settings.base_url, settings.model, api_key=settings.api_key, timeout_s=settings.timeout_s
    )


def embedded_provider(settings: LLMSettings) -> EmbeddedLlamaProvider:
    from thelook_ecommerce_analysis.config import paths

    server = LocalServerSettings(
        model_path=settings.local_model_path or default_model_path(),
        port=settings.local_port,
        threads=settings.local_threads,
        context_tokens=settings.context_tokens,
    )
    log_path = settings.log_path or paths().logs / "llm_server.log"
    return EmbeddedLlamaProvider(server, log_path, timeout_s=settings.timeout_s)


def choose_provider(settings: LLMSettings | None = None) -> ChosenProvider:
    """The LLM to use, and the reason in words.

    Order: THELOOK_LLM if set; else an OpenAI-compatible server if THELOOK_LLM_BASE_URL is set; else Ollama
    if it answers within a second and has the model; else the embedded model (started on first use).
    """
    settings = settings or LLMSettings.from_environment()
    if settings.kind == "ollama":
        provider = ollama_provider(settings)
        return ChosenProvider(provider, f"THELOOK_LLM=ollama: using {provider.describe()}")
    if settings.kind == "openai" or (settings.kind is None and settings.base_url):
        provider = openai_provider(settings)
        return ChosenProvider(provider, f"configured: using {provider.describe()}")
    embedded = embedded_provider(settings)
    if settings.kind == "local":
        return ChosenProvider(embedded, f"THELOOK_LLM=local: using {embedded.describe()}")
    ollama = ollama_provider(settings)
    reachable, why = ollama.health()
    if reachable:
        return ChosenProvider(ollama, f"{why}: using {ollama.describe()}")
    return ChosenProvider(embedded, f"{why}; using the {embedded.describe()} (started on first use)")
