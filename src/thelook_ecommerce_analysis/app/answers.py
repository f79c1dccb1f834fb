"""How an answer is explained to a person: a failed answer becomes a friendly message of the right kind,
a result becomes a CSV download. Pure functions, no Streamlit, so the wording rules are tested directly.

The engine reports a failure as one technical line and its kind (`FailureKind`); a business user needs the
next step that kind calls for: rephrase (the data cannot answer, or the question was garbled), wait or
call an admin (the model is down), narrow the question (it ran too long, or its answer was too large), or
look at the details (anything else).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pa_csv

from thelook_ecommerce_analysis.rag.engine import Answer, FailureKind


@dataclass(frozen=True)
class FriendlyFailure:
    """A headline for the person, the next step, and the engine's own line for the curious."""

    kind: FailureKind
    headline: str
    advice: str
    detail: str


_WORDING = {
    FailureKind.UNANSWERABLE: (
        "This question cannot be answered from the shop's data.",
        "The data covers orders, order items, products, users, inventory, web events and the metric "
        "tables. Try asking about sales, customers, products, shipping or website sessions.",
    ),
    FailureKind.LLM_DOWN: (
        "The language model is not answering right now.",
        "Check the LLM line in the status panel on the left; once it shows the model as answering, "
        "ask again. Your question was not lost: it is in the history below.",
    ),
    FailureKind.TIMEOUT: (
        "The query took too long and was stopped.",
        "Ask for a shorter period, fewer groups, or a total instead of a detailed list.",
    ),
    FailureKind.TOO_LARGE: (
        "The answer was too large to show and was stopped.",
        "Ask for fewer rows or columns (a top 10, a total, a shorter period) instead of every detail.",
    ),
    FailureKind.BAD_QUESTION: (
        "This question cannot be asked as it is.",
        "Retype it in plain text (the details below say what is wrong with it) and ask again.",
    ),
    FailureKind.NO_ANSWER: (
        "I could not write a query that answers this.",
        "Try rephrasing with the names used in the data (GMV, orders, category, country, traffic "
        "source); the details below show each attempt and why it failed.",
    ),
}


def friendly_failure(answer: Answer) -> FriendlyFailure:
    """The message to show for an answer that is not ok."""
    kind = answer.failure or FailureKind.NO_ANSWER
    headline, advice = _WORDING[kind]
    return FriendlyFailure(kind, headline, advice, answer.error or "no error recorded")


def csv_bytes(table: pa.Table) -> bytes:
    """The result as UTF-8 CSV with a header row, for the download button."""
    sink = io.BytesIO()
    pa_csv.write_csv(table, sink)
    return sink.getvalue()
