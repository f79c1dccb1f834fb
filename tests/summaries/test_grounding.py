"""The grounding check: a text with a number that is not a fact is rejected; the facts' own rounding, "$",
"%", "k"/"M" suffixes, words for signs and the period's dates are accepted."""

from __future__ import annotations

import pytest

from tests.summaries.examples import EMPTY_DAY, WEEK
from thelook_ecommerce_analysis.summaries.grounding import check_grounded, quoted_numbers
from thelook_ecommerce_analysis.summaries.template import template_summary

GROUNDED = [
    "GMV reached $123,456.78 in the week of 2025-06-23 to 2025-06-29.",
    "GMV was $123,457, up 12% on the week before.",
    "GMV came to $123.5k (12.0% more than the previous week's $110.2k).",
    "Sales were $0.12M, from 1,418 orders.",
    "The cancellation rate eased to 14.8% (down 0.3 points), returns held at 9.9%.",
    "Conversion rose to 3.21 percent, 0.23 percentage points higher.",
    "Jeans rose most, up $1,234.50 (+15.9%), while Swim lost $800.",
    "Search brought 12 more converted sessions, 40 in all, over 7 days ending June 29, 2025.",
    "Orders rose 9.1% to 1418.",
]
UNGROUNDED = [
    ("GMV rose by $13,226.78 against the previous week.", ["$13,226.78"]),  # computed by the model
    ("GMV reached $124k.", ["$124k"]),  # $123,456.78 is $123k at that precision
    ("Orders rose 9.5%.", ["9.5%"]),  # 9.08% is not 9.5%
    ("The cancellation rate was 14.83%, not 17%.", ["17%"]),
    ("GMV was $1,418.", ["$1,418"]),  # a count written as money
    ("Swim fell 800%.", ["800%"]),  # money written as a percentage
    ("AOV was $87.1, 5 sessions converted.", ["5"]),
    ("Revenue grew 12 % to $2.4M.", ["$2.4M"]),
]


@pytest.mark.parametrize("text", GROUNDED)
def test_numbers_taken_from_the_facts_at_their_own_rounding_are_accepted(text: str) -> None:
    check = check_grounded(text, WEEK)
    assert check.ok, check.unsupported
    assert check.numbers_checked >= 1


@pytest.mark.parametrize(("text", "unsupported"), UNGROUNDED)
def test_a_number_that_is_not_a_fact_is_rejected_and_named(text: str, unsupported: list[str]) -> None:
    check = check_grounded(text, WEEK)
    assert not check.ok
    assert list(check.unsupported) == unsupported


def test_a_text_without_numbers_passes_and_says_it_checked_none() -> None:
    check = check_grounded("Sales were steady; Jeans did well.", WEEK)
    assert check.ok
    assert check.numbers_checked == 0


def test_quoted_numbers_read_suffixes_signs_and_precision() -> None:
    numbers = {number.written: number for number in quoted_numbers("-$1.2k, 12 %, 3,400, 0.5M, $7")}
    assert numbers["$1.2k"].value == pytest.approx(1200)
    assert numbers["$1.2k"].tolerance == pytest.approx(50)
    assert numbers["$1.2k"].is_money
    assert numbers["12 %"].is_percent
    assert numbers["3,400"].value == 3400
    assert numbers["3,400"].tolerance == 0.5
    assert numbers["0.5M"].value == pytest.approx(500_000)
    assert numbers["$7"].is_money


def test_a_year_is_a_date_of_the_facts_not_a_free_number() -> None:
    assert check_grounded("Compared with 2024-06-24 to 2024-06-30.", WEEK).ok
    assert check_grounded("In 2023 it was better.", WEEK).unsupported == ("2023",)


@pytest.mark.parametrize("facts", [WEEK, EMPTY_DAY], ids=["week", "empty day"])
def test_the_template_summary_is_grounded_by_construction(facts) -> None:
    text = template_summary(facts)
    check = check_grounded(text, facts)
    assert check.ok, (text, check.unsupported)
    assert check.numbers_checked >= 5
