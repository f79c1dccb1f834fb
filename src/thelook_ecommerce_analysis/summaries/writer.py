"""Writing summaries with a model, checked, and with the template whenever the model cannot be trusted.

For each period, in order of importance:

1. the model is asked (temperature 0) and its answer cleaned (reasoning, quotes, labels, line breaks
   removed; at most five sentences kept);
2. if a number in it is not one of the facts, it is asked once more, told which numbers were wrong, at a
   little temperature (the same prompt at temperature 0 would return the same text);
3. if that fails too, the template summary is stored (`source = 'template'`, `model` = the model that
   failed the check).

The job must never fail or hang because of the model: the first time it is unreachable, too slow (every
call has a total deadline, llm/deadline.py) or refuses, the writer stops asking and every remaining period
gets the template with `model` empty; once the step's time budget is spent, the same. The writer records
why, and the pipeline logs it as a warning, which the run log copies into raw_data.etl_runs.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from thelook_ecommerce_analysis.config import environment, variable
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.llm.base import LLMProvider, split_reasoning
from thelook_ecommerce_analysis.llm.select import LLMSettings, choose_provider
from thelook_ecommerce_analysis.summaries.facts import PeriodFacts
from thelook_ecommerce_analysis.summaries.grounding import check_grounded
from thelook_ecommerce_analysis.summaries.prompt import retry_messages, summary_messages
from thelook_ecommerce_analysis.summaries.template import template_summary

logger = logging.getLogger(__name__)

Source = Literal["llm", "template"]
LLM_SWITCH_VARIABLE = variable("summaries_llm")
"""`off` makes the job write template summaries without asking any model (e.g. a quick local run)."""
MAX_SENTENCES = 5
RETRY_TEMPERATURE = 0.3
SEED = 7
NO_TEXT = "(no text)"

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?:(?:daily|weekly|monthly)\s+)?summary\s*:?(?:\*\*)?\s*:?\s*", re.IGNORECASE
)
_MARKUP = re.compile(r"[*_#`]+|<\|[^|>]*\|>")


def sentences(text: str) -> list[str]:
    """`text` split after '.', '!' or '?' followed by a space and a capital (or a quote, a parenthesis);
    '$85.20' and '2025-06-29' stay whole."""
    return [sentence for sentence in _SENTENCE_END.split(text.strip()) if sentence]


def clean_text(raw: str) -> str:
    """A model's answer as one paragraph of at most MAX_SENTENCES sentences: reasoning split off, a
    leading 'Summary:' label, Markdown emphasis, chat-template tokens, quotes and line breaks removed."""
    text, _ = split_reasoning(raw)
    text = _MARKUP.sub("", _LABEL.sub("", text.strip()))
    text = " ".join(text.split()).strip().strip('"').strip()
    return " ".join(sentences(text)[:MAX_SENTENCES])


@dataclass(frozen=True)
class WrittenSummary:
    """What is stored for one period: the text, who wrote it, and (for a template) why."""

    text: str
    source: Source
    model: str | None
    reason: str | None = None


class SummaryLLM:
    """The model the job's summaries ask, chosen only when a summary is first needed, so that a run with
    nothing new neither probes Ollama nor starts the embedded server.

    The choice is the app's (llm/select.py: THELOOK_LLM, Ollama if it answers, else the embedded model),
    with a shorter per-call deadline unless THELOOK_LLM_TIMEOUT says otherwise: a batch job should give
    up on a stuck model sooner than a person waiting for an answer would.
    """

    def __init__(
        self,
        *,
        call_timeout_s: float,
        environ: Mapping[str, str] | None = None,
        choose: Callable[[LLMSettings], LLMProvider] = choose_provider,
    ) -> None:
        self._environ = environ
        self._call_timeout_s = call_timeout_s
        self._choose = choose
        self._provider: LLMProvider | None = None

    @property
    def enabled(self) -> bool:
        """False when THELOOK_SUMMARIES_LLM=off."""
        return environment(self._environ).summaries_llm

    def provider(self) -> LLMProvider:
        """The chosen provider (chosen on the first call); ThelookError when none can be set up."""
        if self._provider is None:
            settings = LLMSettings.from_environment(self._environ)
            if environment(self._environ).llm_timeout_s is None:
                settings = dataclasses.replace(settings, timeout_s=self._call_timeout_s)
            self._provider = self._choose(settings)
            logger.info("summaries: %s", getattr(self._provider, "reason", self._provider.describe()))
        return self._provider

    def close(self) -> None:
        """Stop an embedded server this object's provider started, so that its memory is free for the
        rest of the job (the embeddings pipeline loads its own model next)."""
        chosen = getattr(self._provider, "provider", self._provider)
        if callable(close := getattr(chosen, "close", None)):
            close()


class SummaryWriter:
    """Writes the summaries of one run: asks the model, checks, falls back; remembers why it stopped."""

    def __init__(
        self,
        llm: SummaryLLM | None,
        *,
        budget_s: float,
        max_tokens: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._llm = llm if llm is not None and llm.enabled else None
        self._budget_s = budget_s
        self._max_tokens = max_tokens
        self._clock = clock
        self._started: float | None = None
        self.stopped_because: str | None = None
        self.model_calls = 0

    def _stop_reason(self) -> str | None:
        if self._llm is None:
            return f"{LLM_SWITCH_VARIABLE}=off"
        if self.stopped_because is not None:
            return self.stopped_because
        if self._started is not None and self._clock() - self._started >= self._budget_s:
            self.stopped_because = f"the step's time budget of {self._budget_s:g} s for the model is spent"
            return self.stopped_because
        return None

    def write(self, facts: PeriodFacts) -> WrittenSummary:
        """The stored summary of `facts`: the model's grounded text, else the template."""
        if (reason := self._stop_reason()) is not None:
            return WrittenSummary(template_summary(facts), "template", None, reason)
        if self._started is None:
            self._started = self._clock()
        model: str | None = None
        text, unsupported = "", ()
        try:
            provider = self._llm.provider()
            for attempt, temperature in enumerate((0.0, RETRY_TEMPERATURE)):
                messages = (
                    retry_messages(facts, text or NO_TEXT, unsupported)
                    if attempt
                    else summary_messages(facts)
                )
                self.model_calls += 1  # attempts, answered or not
                reply = provider.complete(
                    messages, temperature=temperature, seed=SEED + attempt, max_tokens=self._max_tokens
                )
                model = reply.model
                text = clean_text(reply.text)
                check = check_grounded(text, facts)
                if text and check.ok:
                    return WrittenSummary(text, "llm", model)
                unsupported = check.unsupported or (NO_TEXT,)
        except ThelookError as error:  # LLMUnavailable (dead, slow, refusing), or no provider at all
            self.stopped_because = f"the language model is not available: {error}"
            return WrittenSummary(template_summary(facts), "template", None, self.stopped_because)
        reason = f"the model's text had numbers that are not facts twice ({', '.join(unsupported)})"
        return WrittenSummary(template_summary(facts), "template", model, reason)

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
