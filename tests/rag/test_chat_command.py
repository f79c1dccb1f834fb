"""`thelook chat`: a conversation in the terminal against the real database, the LLM played by the Ollama
double at the HTTP boundary; the second line is a follow-up and is read against the first."""

from __future__ import annotations

import psycopg
from click.testing import CliRunner

from tests.conftest import database_environment, environment
from tests.ollama_double import serve_ollama
from thelook_ecommerce_analysis.cli import main
from thelook_ecommerce_analysis.rag.conversation import REWRITE_PROMPT
from thelook_ecommerce_analysis.rag.sentence import SENTENCE_PROMPT

ORDERS = "SELECT count(*) AS orders FROM raw_data.orders"
RETURNED = "SELECT count(*) AS orders FROM raw_data.orders WHERE status = 'Returned'"
STANDALONE = "How many orders have been returned?"


def reply_to(request: dict) -> str:
    """By what is asked: the rewrite, a sentence, or a query for one of the two questions."""
    system, last = request["messages"][0]["content"], request["messages"][-1]["content"]
    if system == REWRITE_PROMPT:
        return STANDALONE
    if system == SENTENCE_PROMPT:
        return "Here is what the rows say."
    return f"```sql\n{RETURNED if last == STANDALONE else ORDERS}\n```"


def test_a_follow_up_in_the_terminal_is_understood_and_answered(loaded_db) -> None:
    with (
        serve_ollama(reply_to) as host,
        database_environment(loaded_db),
        environment(THELOOK_LLM="ollama", OLLAMA_HOST=host),
    ):
        result = CliRunner().invoke(
            main,
            ["chat", "--candidates", "1"],
            input="How many orders are there?\nand only the returned ones?\n\n",
        )
    assert result.exit_code == 0, result.output
    with psycopg.connect(loaded_db.reader) as connection:
        (orders,) = connection.execute(ORDERS).fetchone()
        (returned,) = connection.execute(RETURNED).fetchone()
    first, second = result.output.split("question: ")[1:]
    assert f"\n{orders}" in first and "understood as" not in first
    assert f"understood as: {STANDALONE}" in second and f"\n{returned}" in second
    assert "Here is what the rows say." in second
