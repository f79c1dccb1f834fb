"""The question loop renders SQL the same whether or not ibis was imported first: ibis rewrites sqlglot's
global Postgres generator at import (array_length -> cardinality), which once made the guard hand
PostgreSQL a function call it does not have."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

# Each call PostgreSQL has, as written, and how sqlglot's own Postgres generator renders it.
CALLS = {
    "SELECT array_length(a, 1) FROM t": "SELECT ARRAY_LENGTH(a, 1) FROM t",
    "SELECT cardinality(a) FROM t": "SELECT CARDINALITY(a) FROM t",
    "SELECT string_to_array(s, ',') FROM t": "SELECT STRING_TO_ARRAY(s, ',') FROM t",
    "SELECT regexp_split_to_array(s, ' ') FROM t": "SELECT REGEXP_SPLIT_TO_ARRAY(s, ' ') FROM t",
    "SELECT make_date(2024, 1, 2) FROM t": "SELECT MAKE_DATE(2024, 1, 2) FROM t",
    "SELECT power(x, 2) FROM t": "SELECT POWER(x, 2) FROM t",
}


@pytest.mark.parametrize("ibis_first", [False, True], ids=["ibis-not-imported", "ibis-imported-first"])
def test_rendering_does_not_depend_on_whether_ibis_was_imported_first(ibis_first: bool) -> None:
    """In a fresh interpreter, so that the import order is the one under test."""
    script = textwrap.dedent(
        f"""
        import json, sys
        if {ibis_first}:
            import ibis.backends.sql.dialects
        import sqlglot
        from thelook_ecommerce_analysis.rag.dialect import POSTGRES
        calls = json.loads(sys.argv[1])
        print(json.dumps([sqlglot.transpile(q, read=POSTGRES, write=POSTGRES)[0] for q in calls]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(list(CALLS))],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(done.stdout) == list(CALLS.values())
