"""The vote over scripted candidates: the largest group of equal results wins, ties go to the earliest
(greedy) candidate, fitting answers outvote misfits, failures have no vote."""

from __future__ import annotations

from decimal import Decimal

from thelook_ecommerce_analysis.rag.vote import Ballot, signature_key, vote

TEN = signature_key([(10,)])
ELEVEN = signature_key([(11,)])
TWELVE = signature_key([(12,)])


def test_the_majority_wins_even_against_the_greedy_candidate() -> None:
    verdict = vote([Ballot(0, TEN), Ballot(1, ELEVEN), Ballot(2, ELEVEN)])
    assert verdict.winner == 1
    assert verdict.agreeing == (1, 2)
    assert verdict.summary == "2 of 3 candidates agree (2 different answers)"


def test_a_tie_goes_to_the_greedy_candidate() -> None:
    assert vote([Ballot(0, TEN), Ballot(1, ELEVEN)]).winner == 0
    assert vote([Ballot(0, TEN), Ballot(1, ELEVEN), Ballot(2, ELEVEN), Ballot(3, TEN)]).winner == 0


def test_a_tie_without_the_greedy_candidate_goes_to_the_earliest() -> None:
    verdict = vote(
        [Ballot(0, None), Ballot(1, TWELVE), Ballot(2, ELEVEN), Ballot(3, ELEVEN), Ballot(4, TWELVE)]
    )
    assert verdict.winner == 1 and verdict.agreeing == (1, 4)


def test_one_right_among_failures_wins() -> None:
    verdict = vote([Ballot(0, None), Ballot(1, None), Ballot(2, TEN)])
    assert verdict.winner == 2
    assert verdict.summary == "1 of 3 candidates agree (1 different answer)"


def test_when_every_candidate_fails_there_is_no_winner() -> None:
    verdict = vote([Ballot(0, None), Ballot(1, None)])
    assert verdict.winner is None and verdict.summary == "no candidate ran"
    assert vote([]).winner is None


def test_fitting_answers_outvote_a_larger_group_of_misfits() -> None:
    verdict = vote([Ballot(0, TEN, fits=False), Ballot(1, TEN, fits=False), Ballot(2, ELEVEN)])
    assert verdict.winner == 2


def test_misfits_vote_among_themselves_when_nothing_fits() -> None:
    verdict = vote([Ballot(0, TEN, fits=False), Ballot(1, ELEVEN, fits=False), Ballot(2, ELEVEN, fits=False)])
    assert verdict.winner == 1


def test_results_agree_whatever_the_column_order_names_and_float_noise() -> None:
    first = signature_key([("Jeans", 10.001), ("Tops", Decimal("3.5"))])
    second = signature_key([(3.5, "Tops"), (10.0, "Jeans")])
    assert first == second
    assert signature_key([(1,), (1,)]) != signature_key([(1,)])
    assert vote([Ballot(0, None), Ballot(1, first), Ballot(2, second), Ballot(3, TEN)]).agreeing == (1, 2)
