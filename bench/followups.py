"""Follow-up accuracy: the conversations of evaluation/followups.yml through the question loop.

Each turn is asked with the answered turns before it as its conversation (what the app and `thelook chat`
pass: the standalone question, the SQL and the result columns), and judged twice: was it READ right (a
follow-up's standalone question holds every term listed in `mentions`; a turn marked `stands_alone` is
not rewritten at all), and were its ROWS right (the same multiset of rows as the turn's gold SQL, as
`thelook eval` compares). Run against the configured database (read-only role) and LLM:

    .venv/bin/python bench/followups.py [--questions evaluation/followups.yml] [--candidates 3] [--only ID]

(`THELOOK_LLM=local THELOOK_LLM_BUNDLED=0.5b THELOOK_LLM_PORT=18093` picks the embedded model on a port
of its own.) Prints one line per turn, then the accuracy of the readings, of the rows, and of whole
conversations.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import psycopg
import yaml

from thelook_ecommerce_analysis.config import database_url
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.llm.select import choose_provider
from thelook_ecommerce_analysis.rag.conversation import Turn
from thelook_ecommerce_analysis.rag.engine import EngineSettings, QuestionEngine
from thelook_ecommerce_analysis.rag.question import question_key
from thelook_ecommerce_analysis.rag.vote import result_signature

DEFAULT_QUESTIONS = Path(__file__).resolve().parents[1] / "evaluation" / "followups.yml"


@dataclass(frozen=True)
class FollowUpTurn:
    question: str
    sql: str
    mentions: tuple[str, ...] = ()
    stands_alone: bool = False


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: tuple[FollowUpTurn, ...]


@dataclass
class TurnOutcome:
    turn: FollowUpTurn
    understood_as: str | None
    read_right: bool
    rows_right: bool
    seconds: float
    error: str | None = None


@dataclass
class ConversationOutcome:
    conversation: Conversation
    turns: list[TurnOutcome] = field(default_factory=list)

    @property
    def right(self) -> bool:
        return all(turn.read_right and turn.rows_right for turn in self.turns)


def load_conversations(path: Path) -> list[Conversation]:
    """A YAML list of {id, turns: [{question, sql, mentions?, stands_alone?}]}; one clear line if not."""
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ThelookError(f"cannot read conversations from {path}: {error}") from None
    if not isinstance(entries, list):
        raise ThelookError(f"{path} must hold a YAML list of {{id, turns}}")
    conversations = []
    for position, entry in enumerate(entries, start=1):
        turns = entry.get("turns") if isinstance(entry, dict) else None
        if not isinstance(turns, list) or "id" not in entry:
            raise ThelookError(f"{path}: conversation {position} needs an id and a list of turns")
        parsed = []
        for number, turn in enumerate(turns, start=1):
            if not isinstance(turn, dict) or not {"question", "sql"} <= turn.keys():
                raise ThelookError(f"{path}: {entry['id']} turn {number} needs a question and its sql")
            parsed.append(
                FollowUpTurn(
                    str(turn["question"]),
                    str(turn["sql"]),
                    tuple(str(term).lower() for term in turn.get("mentions", ())),
                    bool(turn.get("stands_alone", False)),
                )
            )
        conversations.append(Conversation(str(entry["id"]), tuple(parsed)))
    return conversations


def read_right(turn: FollowUpTurn, understood_as: str | None, number: int) -> bool:
    """The first turn and a standalone one are not rewritten; a follow-up's reading names its terms."""
    if number == 1 or turn.stands_alone:
        return understood_as is None
    return understood_as is not None and all(term in understood_as.lower() for term in turn.mentions)


def play(engine: QuestionEngine, conversation: Conversation, connection: psycopg.Connection):
    """Ask the turns in order, each with the answered ones before it; yields each turn's outcome."""
    earlier: list[Turn] = []
    for number, turn in enumerate(conversation.turns, start=1):
        gold = result_signature(connection.execute(turn.sql).fetchall())
        started = time.perf_counter()
        answer = engine.ask(turn.question, conversation=earlier)
        seconds = time.perf_counter() - started
        rows_right = answer.ok and result_signature(answer.rows()) == gold
        yield TurnOutcome(
            turn,
            answer.understood_as,
            read_right(turn, answer.understood_as, number),
            rows_right,
            seconds,
            answer.error,
        )
        if answer.ok:
            earlier.append(Turn(answer.understood_as or turn.question, answer.sql, tuple(answer.columns)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--candidates", type=int, default=None)
    parser.add_argument("--only", action="append", default=[], help="Only this conversation id.")
    options = parser.parse_args()
    conversations = [
        conversation
        for conversation in load_conversations(options.questions)
        if not options.only or conversation.id in options.only
    ]
    provider = choose_provider()
    print(f"LLM: {provider.describe()} ({provider.reason})")
    overrides = {"candidates": options.candidates} if options.candidates else {}
    engine = QuestionEngine(database_url("reader"), provider, EngineSettings.from_environment(**overrides))
    # As `thelook eval` does: a stored example with one of the set's questions would be the answer key.
    withheld = frozenset(question_key(t.question) for c in conversations for t in c.turns)
    engine.settings = replace(engine.settings, withheld_questions=withheld, describe=False)
    outcomes = []
    with psycopg.connect(database_url("reader"), autocommit=True) as connection:
        for conversation in conversations:
            outcome = ConversationOutcome(conversation)
            for number, turn in enumerate(play(engine, conversation, connection), start=1):
                outcome.turns.append(turn)
                marks = f"{'read' if turn.read_right else 'MISREAD'} {'rows' if turn.rows_right else 'MISS'}"
                print(
                    f"{conversation.id} #{number} {marks:12} {turn.seconds:5.1f} s  {turn.turn.question!r}"
                    f" -> {turn.understood_as!r}" + (f"  [{turn.error}]" if turn.error else ""),
                    flush=True,
                )
            outcomes.append(outcome)
    turns = [turn for outcome in outcomes for turn in outcome.turns]
    follow_ups = [t for o in outcomes for n, t in enumerate(o.turns, 1) if n > 1 and not t.turn.stands_alone]
    print(
        f"\nturns: rows right {sum(t.rows_right for t in turns)}/{len(turns)}, "
        f"read right {sum(t.read_right for t in turns)}/{len(turns)}; "
        f"follow-ups: rows right {sum(t.rows_right for t in follow_ups)}/{len(follow_ups)}; "
        f"whole conversations right {sum(o.right for o in outcomes)}/{len(outcomes)}; "
        f"mean {sum(t.seconds for t in turns) / max(1, len(turns)):.1f} s per turn"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ThelookError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
