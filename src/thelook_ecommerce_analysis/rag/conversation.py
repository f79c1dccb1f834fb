"""Follow-up questions: a question that leans on the conversation becomes a standalone one first.

"And only for Jeans?", "same for 2024", "split it by gender" mean nothing alone. Before retrieval, the
prompt and the checks see a question, the engine asks whether it leans on what came before; only then is
the model asked (once, at temperature 0) to rewrite it as one standalone question, given the earlier
questions, their SQL and their result columns. A question that stands on its own costs no LLM call. The
answer says "Understood as: ..." so the person can see, and correct, the reading.

Leaning is read from the words, the way a listener hears it, not from a list of known follow-ups: a
question that opens with a connective or a bare qualifier ("and", "only", "what about", "for 2024",
"by month"), or that points back ("it", "that", "those", "the same", "instead"), or that is too short to
name a measure of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from thelook_ecommerce_analysis.llm.base import ChatMessage, LLMProvider

MAX_TURNS = 3
"""Earlier turns shown to the rewrite: the latest ones, where a follow-up's referent lives."""
MAX_STANDALONE_CHARACTERS = 400
SHORT_QUESTION_WORDS = 3

_OPENS_AS_FOLLOW_UP = re.compile(
    r"^\s*(?:and|but|or|also|only|just|now|then|same|so|plus|instead|versus|vs\.?|compared|"
    r"what about|how about|what if|and what|for|in|by|per|from|during|with|without|excluding|except|"
    r"over|since|before|after|between|split|break|group|sort|order|show (?:it|that|them|those)|"
    r"limit|top|bottom|exclude|include|drop|remove)\b",
    re.IGNORECASE,
)
_POINTS_BACK = re.compile(
    r"\b(?:it|its|that|those|these|them|they|this|same|instead|too|again|previous|above|earlier|"
    r"the rest|as well)\b",
    re.IGNORECASE,
)

REWRITE_PROMPT = (
    "You turn a follow-up message into ONE standalone question about an e-commerce shop's data.\n"
    "Use the earlier questions for everything the follow-up leaves out: keep their measure, filters, "
    "grouping and period unless the follow-up changes them; apply exactly what the follow-up adds or "
    "replaces. Answer with the standalone question only, on one line, no SQL, no explanation."
)


@dataclass(frozen=True)
class Turn:
    """One earlier question of the conversation, as the rewrite sees it."""

    question: str
    sql: str | None = None
    columns: tuple[str, ...] = ()


def leans_on_conversation(question: str, conversation: Sequence[Turn]) -> bool:
    """Does `question` need the conversation to be understood? Never without one."""
    if not conversation:
        return False
    words = question.split()
    return bool(
        _OPENS_AS_FOLLOW_UP.search(question)
        or _POINTS_BACK.search(question)
        or len(words) <= SHORT_QUESTION_WORDS
    )


def rewrite_messages(question: str, conversation: Sequence[Turn]) -> list[ChatMessage]:
    """The chat that asks for the standalone question: earlier turns (question, SQL, columns), then the
    follow-up."""
    earlier = []
    for number, turn in enumerate(conversation[-MAX_TURNS:], start=1):
        lines = [f"Earlier question {number}: {turn.question}"]
        if turn.sql:
            lines.append(f"Its SQL: {' '.join(turn.sql.split())}")
        if turn.columns:
            lines.append(f"Its result columns: {', '.join(turn.columns)}")
        earlier.append("\n".join(lines))
    return [
        {"role": "system", "content": REWRITE_PROMPT},
        {"role": "user", "content": "\n\n".join([*earlier, f"Follow-up: {question}"])},
    ]


def standalone_from_reply(reply: str, question: str, conversation: Sequence[Turn]) -> str:
    """The rewrite's question, or, when the model said nothing usable (empty, SQL, rambling), the last
    earlier question and the follow-up side by side: the loop then still sees everything said."""
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    first = re.sub(r"^(?:standalone question|question)\s*:\s*", "", lines[0] if lines else "", flags=re.I)
    first = first.strip().strip('"').strip()
    if first and len(first) <= MAX_STANDALONE_CHARACTERS and not re.match(r"(?i)\s*(select|with)\b", first):
        return first
    return f"{conversation[-1].question.rstrip(' ?.')}; {question}"


def standalone_question(provider: LLMProvider, question: str, conversation: Sequence[Turn]) -> str | None:
    """The standalone form of a follow-up, or None when the question stands on its own (no LLM call)."""
    if not leans_on_conversation(question, conversation):
        return None
    reply = provider.complete(rewrite_messages(question, conversation), temperature=0.0, max_tokens=96)
    return standalone_from_reply(reply.text, question, conversation)
