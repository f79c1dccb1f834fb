"""The app's tests use the session's loaded database (tests/conftest.py: generated data, the real
pipelines, the product catalogue cut to what sold) and point thelook at it (and at an LLM) only for a
test module's duration. Also the scripted replies of the Ollama double."""

from __future__ import annotations

from collections.abc import Iterator

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
REPLIES = {
    **{
        question: f"<think>The metrics tables answer this.</think>\n```sql\n{sql}\n```"
        for question, sql in SCRIPTED_SQL.items()
    },
    UNANSWERABLE: "CANNOT ANSWER: the shop's data has no weather forecasts.",
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
