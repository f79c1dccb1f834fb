"""Reasoning models' <think> blocks must never reach the SQL extractor, in whatever shape they arrive."""

from __future__ import annotations

import pytest

from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.llm.base import LLMUnavailable, split_reasoning


def test_plain_answer_has_no_reasoning() -> None:
    assert split_reasoning("  SELECT 1  ") == ("SELECT 1", None)


def test_whole_think_block_is_split_off() -> None:
    text, reasoning = split_reasoning(
        "<think>\nusers has a country column\n</think>\n\nSELECT country FROM users"
    )
    assert text == "SELECT country FROM users"
    assert reasoning == "users has a country column"


def test_several_blocks_are_all_kept_as_reasoning_in_order() -> None:
    text, reasoning = split_reasoning("<think>first</think>SELECT<THINK>second</THINK> 1")
    assert text == "SELECT 1"
    assert reasoning == "first\n\nsecond"


def test_unterminated_think_cut_off_by_max_tokens_is_all_reasoning() -> None:
    text, reasoning = split_reasoning("<think>I should count the orders and then")
    assert text == ""
    assert reasoning == "I should count the orders and then"


def test_closing_tag_without_opening_one_from_the_chat_template() -> None:
    text, reasoning = split_reasoning("the template opened the block\n</think>\nSELECT 2")
    assert text == "SELECT 2"
    assert reasoning == "the template opened the block"


def test_llm_unavailable_is_a_user_facing_thelook_error() -> None:
    with pytest.raises(ThelookError, match="down"):
        raise LLMUnavailable("down")
