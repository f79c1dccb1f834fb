"""Self-consistency: several candidate queries per question, and the answer most of them agree on.

A small model's greedy query is one draw; sampled queries at a temperature are others. Queries that are
written differently but return the same rows agree, so candidates are grouped by their RESULT (the same
multiset of rows, column order and names ignored, numbers rounded to 2 decimals: the signature the eval
also judges by), and the largest group answers. Published: majority voting over 8 samples took
Qwen2.5-Coder-7B from 50.9 to 61.3 on BIRD dev (OmniSQL, arXiv 2503.02240, Table 5).

Ties go to the group holding the earliest candidate, and candidate 0 is the greedy one, so with one
candidate, or when every candidate disagrees, the answer is what greedy decoding alone would give.
Answers that fit the question outvote answers that ran but do not (rag/fit.py); failed candidates have
no vote.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any


def normalised_value(value: Any) -> Any:
    """A value as answers are compared: numbers rounded to 2 decimals, a whole number as an int whatever
    its type (EXTRACT gives numeric 2019, a cast gives integer 2019: the same year), dates as ISO text, a
    timestamp at midnight as its date (a month truncated from a timestamp or a date is the same month)."""
    if isinstance(value, float | Decimal):
        rounded = round(float(value), 2)
        return int(rounded) if rounded.is_integer() else rounded
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()  # date_trunc('month', a timestamp): the month's first day
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value if value is None or isinstance(value, int | str | bool) else str(value)


def mixed_order(value: Any) -> tuple[str, str]:
    """A sort key for values of mixed types (None, numbers, text), which Python will not compare."""
    return str(type(value)), str(value)


def result_signature(rows: Iterable[Iterable[Any]]) -> Counter:
    """The multiset of rows, each row as the sorted multiset of its normalised values."""
    return Counter(tuple(sorted((normalised_value(value) for value in row), key=mixed_order)) for row in rows)


def signature_key(rows: Iterable[Iterable[Any]]) -> Hashable:
    """`result_signature` as a value that can be grouped on."""
    return frozenset(result_signature(rows).items())


@dataclass(frozen=True)
class Ballot:
    """One candidate's vote: its position (0 is the greedy candidate), the signature of its result (None
    when it never ran), and whether that result fits the question."""

    candidate: int
    signature: Hashable | None
    fits: bool = True


@dataclass(frozen=True)
class Verdict:
    """The winning candidate and how strong the agreement behind it was."""

    winner: int | None
    agreeing: tuple[int, ...] = ()
    voters: int = 0
    groups: int = 0

    @property
    def summary(self) -> str:
        """`3 of 5 candidates agree (2 answers)`: for the answer's details and the eval."""
        if self.winner is None:
            return "no candidate ran"
        return (
            f"{len(self.agreeing)} of {self.voters} candidate{'s' if self.voters != 1 else ''} agree "
            f"({self.groups} different answer{'s' if self.groups != 1 else ''})"
        )


def vote(ballots: Sequence[Ballot]) -> Verdict:
    """The largest group of candidates with the same result wins; among fitting answers if any fit,
    else among all that ran. A tie goes to the group with the earliest candidate."""
    ran = [ballot for ballot in ballots if ballot.signature is not None]
    voters = [ballot for ballot in ran if ballot.fits] or ran
    if not voters:
        return Verdict(None, voters=len(ballots))
    groups: dict[Hashable, list[int]] = {}
    for ballot in sorted(voters, key=lambda ballot: ballot.candidate):
        groups.setdefault(ballot.signature, []).append(ballot.candidate)
    agreeing = max(groups.values(), key=lambda members: (len(members), -members[0]))
    return Verdict(agreeing[0], tuple(agreeing), voters=len(ballots), groups=len(groups))
