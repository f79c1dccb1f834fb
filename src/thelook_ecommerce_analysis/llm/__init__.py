"""LLM providers behind one small interface (`LLMProvider`), and the embedded llama.cpp server.

Callers need three names: `choose_provider()` for the configured or best available LLM, `LLMReply` for what
comes back, and `LLMUnavailable` for every way it can fail (`LLMDeadlineExceeded` when the call's total
deadline ran out). Modules that import xllamacpp do so lazily, so the rest of thelook works without the
`llm` extra.
"""

from thelook_ecommerce_analysis.llm.base import (
    ChatMessage,
    LLMProvider,
    LLMReply,
    LLMUnavailable,
    split_reasoning,
)
from thelook_ecommerce_analysis.llm.deadline import LLMDeadlineExceeded
from thelook_ecommerce_analysis.llm.select import ChosenProvider, LLMSettings, choose_provider

__all__ = [
    "ChatMessage",
    "ChosenProvider",
    "LLMDeadlineExceeded",
    "LLMProvider",
    "LLMReply",
    "LLMSettings",
    "LLMUnavailable",
    "choose_provider",
    "split_reasoning",
]
