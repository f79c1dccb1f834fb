"""Extracting the query from what a small model wrote."""

import pytest

from thelook_ecommerce_analysis.rag.extract import extract_sql


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("```sql\nSELECT 1\n```", "SELECT 1"),
        (
            "Here you go:\n```sql\nSELECT count(*) FROM raw_data.orders;\n```\nThis counts orders.",
            "SELECT count(*) FROM raw_data.orders",
        ),
        ("```\nWITH x AS (SELECT 1 AS a) SELECT a FROM x\n```", "WITH x AS (SELECT 1 AS a) SELECT a FROM x"),
        ("```python\nprint(1)\n```\n```sql\nSELECT 2\n```", "SELECT 2"),
        (
            "The answer is SELECT status, count(*) FROM raw_data.orders GROUP BY status;\nThat is all.",
            "SELECT status, count(*) FROM raw_data.orders GROUP BY status",
        ),
        (
            "SELECT name FROM raw_data.products WHERE name = 'a;b'; SELECT 2",
            "SELECT name FROM raw_data.products WHERE name = 'a;b'",
        ),
        ("```sql\nSELECT 1", "SELECT 1"),
        ("I cannot answer that question from this data.", None),
        ("", None),
        ("```sql\n\n```", None),
    ],
)
def test_extract_sql(reply: str, expected: str | None) -> None:
    assert extract_sql(reply) == expected
