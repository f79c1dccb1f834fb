"""The chat's history as data: what was asked, how it was answered (or that it was stopped), and the
conversation a new question is read against. No Streamlit here, so the rules are tested directly.

A follow-up is read against the answered turns before it: their standalone question (what the engine
understood, else what was typed), their SQL and their result columns, as `thelook chat` passes them. A
suggested question clicked under an OLDER answer follows that answer, not the latest one: its conversation
stops at the turn it was suggested under. A question whose run was stopped (the cancel button, or another
question asked meanwhile) stays in the history, marked stopped, so it is never lost and can be asked again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from thelook_ecommerce_analysis.app.progress import Step
from thelook_ecommerce_analysis.rag.conversation import Turn
from thelook_ecommerce_analysis.rag.engine import Answer


@dataclass(frozen=True)
class Asked:
    """A question on its way to the engine."""

    text: str
    follow_up_of: str | None = None
    """The id of the turn whose suggestion this is; None reads it against the whole conversation."""


@dataclass
class ChatTurn:
    """One question in the history, its answer (None when its run was stopped), the steps it went
    through, and the feedback given to it."""

    asked: Asked
    answer: Answer | None = None
    steps: tuple[Step, ...] = ()
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    feedback_note: str | None = None

    @property
    def stopped(self) -> bool:
        return self.answer is None


def conversation_for(turns: Sequence[ChatTurn], asked: Asked) -> list[Turn]:
    """The earlier turns `asked` is read against, oldest first: every answered turn, or, for a
    suggestion, those up to and including the turn it was suggested under."""
    earlier = list(turns)
    if asked.follow_up_of is not None:
        ids = [turn.id for turn in earlier]
        if asked.follow_up_of in ids:
            earlier = earlier[: ids.index(asked.follow_up_of) + 1]
    return [
        Turn(turn.answer.understood_as or turn.answer.question, turn.answer.sql, tuple(turn.answer.columns))
        for turn in earlier
        if turn.answer is not None and turn.answer.ok
    ]
