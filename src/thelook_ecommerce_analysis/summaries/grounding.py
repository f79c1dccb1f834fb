"""The grounding check: every number in a summary must be one of its facts.

A small model asked to summarise numbers will sometimes compute one ("GMV rose by $1,200"), round one
wrongly or make one up. Such a text must not reach a manager, so after generation every number written in
digits is read back and matched against the facts (`PeriodFacts.numbers`):

- at the precision the text states it: "12%" stands for anything from 11.5% to 12.5%, "$12.3k" for
  $12,250-$12,350, "1,234" for exactly 1,234, so the facts' own rounding is accepted and nothing coarser
  or finer is invented;
- in its kind: "$" amounts match money, percentages match rates and relative changes (as percentages),
  a bare number matches any fact, including the parts of the period's dates ("June 29, 2025");
- with "k"/"thousand", "M"/"million"/"mn" and "bn"/"billion" suffixes, and without its sign (the text
  says "fell 3%", the fact is -0.03).

Pure functions, no model, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from thelook_ecommerce_analysis.summaries.facts import DATE_PART, MONEY, PERCENT, FactNumber, PeriodFacts

_SUFFIXES = {
    "k": 1e3,
    "K": 1e3,
    "thousand": 1e3,
    "M": 1e6,
    "million": 1e6,
    "mn": 1e6,
    "bn": 1e9,
    "B": 1e9,
    "billion": 1e9,
}
_NUMBER = re.compile(
    r"""
    (?P<currency>\$|USD\s?|US\$)?
    (?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
    (?:\s?(?P<suffix>thousand|million|billion|mn|bn|[kKMB])\b)?
    (?P<percent>\s?%|\s?percent\b|\s?per\s?cent\b)?
    """,
    re.VERBOSE,
)
# A fact matches when it lies within half a unit of the text's last digit; this slack absorbs the binary
# representation of decimal values.
_EPSILON = 1e-9


@dataclass(frozen=True)
class QuotedNumber:
    """A number as a text writes it: its value (suffix applied, sign dropped), the half-unit of its last
    digit, and whether it is money or a percentage."""

    written: str
    value: float
    tolerance: float
    is_money: bool
    is_percent: bool

    def matches(self, fact: FactNumber) -> bool:
        if self.is_percent and fact.kind != PERCENT:
            return False
        if self.is_money and fact.kind != MONEY:
            return False
        if fact.kind == DATE_PART and self.tolerance > 0.5:
            return False  # "2k" is no year
        return abs(self.value - fact.value) <= self.tolerance + _EPSILON * max(1.0, abs(fact.value))


def quoted_numbers(text: str) -> list[QuotedNumber]:
    """Every number written in digits in `text`, in order."""
    found = []
    for match in _NUMBER.finditer(text):
        digits = match["digits"].replace(",", "")
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        scale = _SUFFIXES.get(match["suffix"] or "", 1.0)
        found.append(
            QuotedNumber(
                written=match.group(0).strip(),
                value=float(digits) * scale,
                tolerance=0.5 * 10.0**-decimals * scale,
                is_money=match["currency"] is not None,
                is_percent=match["percent"] is not None,
            )
        )
    return found


@dataclass(frozen=True)
class GroundingCheck:
    """The verdict on one text: the numbers it wrote that no fact supports (empty: grounded)."""

    unsupported: tuple[str, ...]
    numbers_checked: int

    @property
    def ok(self) -> bool:
        return not self.unsupported


def check_numbers(text: str, facts: Iterable[FactNumber]) -> GroundingCheck:
    """Which numbers of `text` match none of `facts` (see the module docstring for what matches)."""
    candidates = list(facts)
    numbers = quoted_numbers(text)
    unsupported = tuple(
        number.written for number in numbers if not any(number.matches(fact) for fact in candidates)
    )
    return GroundingCheck(unsupported=unsupported, numbers_checked=len(numbers))


def check_grounded(text: str, facts: PeriodFacts) -> GroundingCheck:
    """Whether every number of `text` is one of the period's facts."""
    return check_numbers(text, facts.numbers())
