"""The app's tests use the session's loaded database (tests/conftest.py: generated data, the real
pipelines, the product catalogue cut to what sold) and point thelook at it (and at an LLM) only for a
test module's duration. Also the scripted replies of the Ollama double: SQL by question, standalone
questions by follow-up, and answers in words by question (their numbers read from the database)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import REPO_ROOT, database_environment
from thelook_ecommerce_analysis.db.local import RoleUrls

APP_ENTRY = REPO_ROOT / "src" / "thelook_ecommerce_analysis" / "app" / "main.py"

# Replies of the Ollama double: valid SQL for the sample questions, and one refusal.
UNANSWERABLE = "What will the weather be in Paris tomorrow?"
SCRIPTED_SQL = {
    "What was the GMV in each month?": (
        "SELECT date_trunc('month', order_date)::date AS month, sum(gmv) AS gmv "
        "FROM metrics.sales_daily GROUP BY 1 ORDER BY 1"
    ),
    "Which 10 product categories had the highest GMV?": (
        "SELECT category, sum(gmv) AS gmv FROM metrics.category_performance "
        "GROUP BY category ORDER BY gmv DESC LIMIT 10"
    ),
    "How many orders were cancelled in total?": (
        "SELECT sum(cancelled_orders) AS cancelled_orders FROM metrics.sales_daily"
    ),
    "What is the cart abandonment rate by traffic source?": (
        "SELECT session_traffic_source, sum(abandoned_cart_sessions)::float8 / nullif(sum(cart_sessions), 0) "
        "AS cart_abandonment_rate FROM metrics.web_sessions_daily GROUP BY 1 ORDER BY 2 DESC"
    ),
}

# A conversation: the first sample question, then a follow-up that the double rewrites as a standalone
# question, whose SQL is the gold the second answer's table is compared with.
FIRST_QUESTION = "What was the GMV in each month?"
FOLLOW_UP = "only for the Jeans category"
JEANS_QUESTION = "What was the GMV in each month for the Jeans category?"
SCRIPTED_SQL[JEANS_QUESTION] = (
    "SELECT date_trunc('month', order_date)::date AS month, sum(gmv) AS gmv "
    "FROM metrics.sales_daily_by_category WHERE category = 'Jeans' GROUP BY 1 ORDER BY 1"
)
# A suggested next question (rag/suggest.py offers it under a single number) and what it is read as.
CANCELLED_QUESTION = "How many orders were cancelled in total?"
SUGGESTION = "Show it per month"
CANCELLED_PER_MONTH = "How many orders were cancelled in each month?"
SCRIPTED_SQL[CANCELLED_PER_MONTH] = (
    "SELECT date_trunc('month', order_date)::date AS month, sum(cancelled_orders) AS cancelled_orders "
    "FROM metrics.sales_daily GROUP BY 1 ORDER BY 1"
)
# A question whose SQL reply the double holds back, so that a cancel can be clicked while it runs.
SLOW_QUESTION = "How many orders were placed in total, counted slowly?"
SCRIPTED_SQL[SLOW_QUESTION] = "SELECT sum(orders) AS orders FROM metrics.sales_daily"
SLOW_REPLY_S = 6.0
STANDALONE = {FOLLOW_UP: JEANS_QUESTION, SUGGESTION: CANCELLED_PER_MONTH}
INVENTED_SENTENCE = "GMV reached $987,654,321.00 in its best month."
"""The first question's scripted sentence: its number is in no row, so the template must be shown."""
REPLIES = {
    **{
        question: f"<think>The metrics tables answer this.</think>\n```sql\n{sql}\n```"
        for question, sql in SCRIPTED_SQL.items()
    },
    UNANSWERABLE: "CANNOT ANSWER: the shop's data has no weather forecasts.",
}


def scripted_sentences(reader_url: str) -> dict[str, str]:
    """The answers in words the double gives, each number read from the database as the engine's number
    check demands; the first question's invents one."""
    with psycopg.connect(reader_url) as connection:
        ((cancelled,),) = connection.execute(SCRIPTED_SQL[CANCELLED_QUESTION]).fetchall()
        month, peak = connection.execute(
            f"SELECT month, gmv FROM ({SCRIPTED_SQL[JEANS_QUESTION]}) AS jeans ORDER BY gmv DESC LIMIT 1"
        ).fetchone()
    return {
        FIRST_QUESTION: INVENTED_SENTENCE,
        CANCELLED_QUESTION: f"{int(cancelled):,} orders were cancelled in total.",
        JEANS_QUESTION: f"Jeans GMV peaked at ${float(peak):,.2f} in {month:%B %Y}.",
    }


@pytest.fixture(scope="session")
def app_database(loaded_db: RoleUrls) -> RoleUrls:
    """The session's database loaded by the real pipelines (tests/conftest.py)."""
    return loaded_db


@pytest.fixture(scope="module")
def app_environment(app_database: RoleUrls) -> Iterator[RoleUrls]:
    """thelook pointed at the loaded database for one test module."""
    with database_environment(app_database):
        yield app_database
