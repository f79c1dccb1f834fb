"""Finding the one SQL query in what a small model wrote.

Small models wrap SQL in fences, explain it before and after, repeat it, or answer in prose. The rule
here: the first fenced block that looks like a query wins; otherwise the first statement that starts
with SELECT or WITH, up to its semicolon or the next blank line; otherwise there is no SQL.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"```[ \t]*([A-Za-z]*)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
_QUERY_START = re.compile(r"(?is)\b(WITH|SELECT)\b")
_LOOKS_LIKE_QUERY = re.compile(r"(?is)^\s*(WITH|SELECT)\b")


def _trim(candidate: str) -> str:
    """Drop what follows the first semicolon outside quotes, and surrounding blanks."""
    quote = None
    for position, character in enumerate(candidate):
        if quote:
            quote = None if character == quote else quote
        elif character in "'\"":
            quote = character
        elif character == ";":
            return candidate[:position].strip()
    return candidate.strip()


def extract_sql(text: str) -> str | None:
    """The query in `text`, or None when the model wrote none."""
    for language, body in _FENCE.findall(text):
        if language.lower() in {"", "sql", "postgresql", "postgres", "psql"} and _LOOKS_LIKE_QUERY.match(
            body
        ):
            return _trim(body) or None
    match = _QUERY_START.search(text)
    if match is None:
        return None
    remainder = text[match.start() :]
    paragraph = re.split(r"\n\s*\n", remainder, maxsplit=1)[0]
    statement = _trim(paragraph)
    return statement if _LOOKS_LIKE_QUERY.match(statement) and " " in statement else None
