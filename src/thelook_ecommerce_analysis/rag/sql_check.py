"""The SQL guard against the live catalog, as the app's read-only role sees it (`thelook sql-check`).

For people and scripts: what the app would run for a statement, or why not.
"""

from __future__ import annotations

from thelook_ecommerce_analysis.config import database_url
from thelook_ecommerce_analysis.db.admin import connect
from thelook_ecommerce_analysis.rag.catalog import load_catalog
from thelook_ecommerce_analysis.rag.guard import GuardResult, guard_sql


def check_sql(sql: str, max_rows: int = 1000) -> GuardResult:
    """The guard's verdict on `sql`, with the catalog read as the app's read-only role, so that the check
    sees exactly the tables the app may use."""
    with connect(database_url("reader")) as connection:
        catalog = load_catalog(connection)
    return guard_sql(sql, catalog, max_rows=max_rows)
