"""A question as typed, made fit for the loop before any work is spent on it.

The app and `thelook ask` both go through `read_question`, so a question with a NUL, bytes that are not
UTF-8 (a shell hands Python those as lone surrogates), or no words at all is refused with the same one
line everywhere, instead of failing later in the database driver, the tokenizer or the terminal.
Harmless control characters (a pasted form feed, a vertical tab) become spaces.
"""

from __future__ import annotations

import re

from thelook_ecommerce_analysis.errors import ThelookError

MAX_QUESTION_CHARACTERS = 2000
NOT_UTF8 = re.compile("[\ud800-\udfff]")
"""Lone surrogates: how Python carries bytes that did not decode as UTF-8 (surrogateescape)."""
WORD = re.compile(r"\w+")
CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters other than tab, newline, carriage return and NUL."""


class BadQuestionError(ThelookError):
    """The question cannot be asked as it is; the message says why, in one line."""


def printable(text: str | bytes) -> str:
    """`text` safe to print and store: invalid bytes and lone surrogates become U+FFFD, NUL becomes ␀."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return NOT_UTF8.sub("\ufffd", text).replace("\x00", "\u2400")


def read_question(raw: str | bytes) -> str:
    """The question to work on: decoded, control characters spaced out, trimmed; BadQuestionError when
    it is empty, too long, or holds a NUL or bytes that are not UTF-8 text."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise BadQuestionError(not_text(error.start)) from None
    if (invalid := NOT_UTF8.search(raw)) is not None:
        raise BadQuestionError(not_text(invalid.start()))
    if (nul := raw.find("\x00")) >= 0:
        raise BadQuestionError(
            f"could not answer: the question holds a NUL character (at character {nul + 1}); retype it"
        )
    question = CONTROL.sub(" ", raw).strip()
    if not question:
        raise BadQuestionError("could not answer: the question is empty")
    if len(question) > MAX_QUESTION_CHARACTERS:
        raise BadQuestionError(
            f"could not answer: the question has {len(question):,} characters; "
            f"ask it in at most {MAX_QUESTION_CHARACTERS:,}"
        )
    return question


def question_key(question: str) -> str:
    """The words of a question, lower case, one space apart: two wordings that differ only in case,
    spacing or punctuation are the same question (an evaluation withholds its own from the prompt)."""
    return " ".join(WORD.findall(question.lower()))


def not_text(position: int) -> str:
    return (
        f"could not answer: the question holds bytes that are not UTF-8 text (at character {position + 1}); "
        "retype it"
    )
