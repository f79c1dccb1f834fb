"""The embeddings pipeline end to end: generated data -> data_processing -> metrics -> embeddings, on the real
embedded PostgreSQL with the real model.

Covers the issue's promises: documents for every published table, column, metric, example and product (and
none for the job's etl_* tables); a re-run embeds nothing; editing one column comment re-embeds exactly that
document; every curated example's SQL runs for the app's read-only role and the examples cover every table;
the KNN query plans use the HNSW indexes; paraphrased questions find the table or metric that answers them.

The product catalogue is cut to the products that were sold (with their stock rows), so that the test embeds
a few hundred product documents instead of 29,120; bench/retrieval.py measures the full catalogue.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.conftest import REPO_ROOT, keep_sold_products, make_project, new_database, project_home
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.embed import embed_query
from thelook_ecommerce_analysis.job import run_pipeline
from thelook_ecommerce_analysis.pipelines.embeddings.nodes import tables_in_sql
from thelook_ecommerce_analysis.rag.retrieve import knn_query, retrieve, vector_literal
from thelook_ecommerce_analysis.synth import generate

pytestmark = pytest.mark.slow

USERS = 150
SEED = 5
AS_OF = date(2025, 9, 30)
RAW_TABLES = (
    "distribution_centers",
    "products",
    "users",
    "orders",
    "order_items",
    "inventory_items",
    "events",
)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Iterator[Path]:
    """A throwaway copy of this project (conf, sql) over a small generated data set."""
    raw = tmp_path_factory.mktemp("embeddings-raw")
    generate(raw, users=USERS, seed=SEED, as_of=AS_OF, progress=False)
    keep_sold_products(raw)
    root = make_project(raw)
    with project_home(root):
        yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def loaded(pg_urls: RoleUrls, project: Path) -> Iterator[RoleUrls]:
    """A new database after one full run of every pipeline."""
    with new_database(pg_urls) as urls:
        run_pipeline()
        yield urls


def documents_by_kind(url: str) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        return dict(connection.execute("SELECT kind, count(*) FROM embeddings.documents GROUP BY kind"))


def embedded_at(url: str) -> dict[str, object]:
    """Each document's updated_at: it changes exactly when the document is (re-)embedded."""
    with psycopg.connect(url) as connection:
        return dict(connection.execute("SELECT id, updated_at FROM embeddings.documents"))


def published_tables(url: str) -> set[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            " WHERE table_schema IN ('raw_data', 'metrics') AND table_name NOT LIKE 'etl%%'"
        ).fetchall()
    return {name for (name,) in rows}


def test_every_table_column_metric_example_and_product_has_one_document(loaded: RoleUrls) -> None:
    counts = documents_by_kind(loaded.owner)
    tables = published_tables(loaded.owner)
    with psycopg.connect(loaded.owner) as connection:
        (columns,) = connection.execute(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_schema || '.' || table_name = ANY(%s)",
            (sorted(tables),),
        ).fetchone()
        (products,) = connection.execute("SELECT count(*) FROM raw_data.products").fetchone()
        etl = connection.execute(
            "SELECT count(*) FROM embeddings.documents WHERE metadata->>'table' LIKE 'etl%%'"
        ).fetchone()[0]
        status = connection.execute(
            "SELECT text, metadata->'distinct_values' FROM embeddings.documents"
            " WHERE id = 'column:raw_data.orders.status'"
        ).fetchone()
    examples = yaml.safe_load((REPO_ROOT / "conf" / "base" / "examples.yml").read_text())["examples"]
    assert counts["table"] == len(tables) == 7 + 15 + 1  # raw, metrics, and the summaries' table
    assert counts["column"] == columns
    assert counts["product"] == products > 0
    assert counts["example"] == len(examples) >= 45
    assert counts["metric"] > 100
    assert etl == 0, "the job's own tables are not retrieval documents"
    assert status[1] == ["Cancelled", "Complete", "Processing", "Returned", "Shipped"]
    assert "'Cancelled'" in status[0]


def test_a_rerun_embeds_nothing_and_a_changed_comment_re_embeds_exactly_its_document(
    loaded: RoleUrls, project: Path
) -> None:
    before = embedded_at(loaded.owner)
    run_pipeline("embeddings")
    assert embedded_at(loaded.owner) == before, "an unchanged re-run must embed no document"

    contract = project / "conf" / "base" / "globals_raw_data.yml"
    original = contract.read_text(encoding="utf-8")
    orders_status = original.index("      status: {type: string, comment: '", original.index("\n  orders:\n"))
    marker = "comment: '"
    at = original.index(marker, orders_status) + len(marker)
    contract.write_text(original[:at] + "Lifecycle state. " + original[at:], encoding="utf-8")
    try:
        run_pipeline("embeddings")  # the index hook applies the contract's comments before any pipeline
    finally:
        contract.write_text(original, encoding="utf-8")
    after = embedded_at(loaded.owner)
    changed = {doc_id for doc_id in before if after.get(doc_id) != before[doc_id]}
    assert changed == {"column:raw_data.orders.status"}
    assert after.keys() == before.keys()


def test_every_example_runs_read_only_and_the_examples_cover_every_table(loaded: RoleUrls) -> None:
    examples = yaml.safe_load((REPO_ROOT / "conf" / "base" / "examples.yml").read_text())["examples"]
    used: set[str] = set()
    failures = []
    with psycopg.connect(loaded.reader, autocommit=True) as connection:
        for example in examples:
            used.update(tables_in_sql(example["sql"]))
            try:
                connection.execute(example["sql"]).fetchall()
            except psycopg.Error as error:
                failures.append(f"{example['question']}: {error.diag.message_primary}")
    assert failures == []
    assert published_tables(loaded.owner) - used == set(), "every table needs at least one example"


def test_the_product_knn_query_uses_the_hnsw_index(loaded: RoleUrls) -> None:
    """The product partition is the large one. (For the few hundred knowledge documents of this small
    database the planner may rightly prefer an exact scan; bench/retrieval.py covers the full catalogue.)"""
    kinds = ["product"]
    with psycopg.connect(loaded.reader) as connection:
        plan = connection.execute(
            b"EXPLAIN " + knn_query(kinds).as_bytes(connection),
            {"vector": vector_literal(embed_query("orders")), "kinds": kinds, "candidates": 10},
        ).fetchall()
    text = "\n".join(line for (line,) in plan)
    assert "Index Scan using documents_product_embedding_hnsw" in text, text


PARAPHRASES = [
    (
        "how much money did we keep each day once refunds for sent-back goods are taken out",
        "metrics.sales_daily",
    ),
    ("turnover per nation of the shopper, day by day", "metrics.sales_daily_by_country"),
    ("which kinds of garments bring in the most each day", "metrics.sales_daily_by_category"),
    ("total spend of each shopper over their whole history", "metrics.customer_lifetime_value"),
    ("do shoppers come back in the months after their first purchase", "metrics.cohort_retention_monthly"),
    ("recency frequency monetary scoring of shoppers", "metrics.customer_rfm"),
    ("first-time purchasers versus repeat purchasers per month", "metrics.buyers_new_vs_returning_monthly"),
    (
        "which marketing channel did sign-ups arrive from, and are they worth it",
        "metrics.acquisition_source_monthly",
    ),
    ("profit earned on every single article in the catalogue", "metrics.product_performance"),
    ("which labels earn the most money", "metrics.brand_performance"),
    ("how long do the warehouses take to dispatch parcels", "metrics.fulfilment_monthly"),
    (
        "how many days did goods sit on the shelf before someone bought them",
        "metrics.inventory_sold_aging_monthly",
    ),
    ("stock nobody has bought yet, grouped by how old it is", "metrics.inventory_unsold_aging"),
    ("share of browsing visits that end with a checkout", "metrics.web_sessions_daily"),
    ("coordinates of our warehouses", "raw_data.distribution_centers"),
    ("shopper demographics like age and sex", "raw_data.users"),
    ("which web browser did visitors click around with", "raw_data.events"),
    ("orders that were called off by the customer", "raw_data.orders"),
]


REQUIRED_HITS = 15
"""Issue 6 asks for at least 15 paraphrases answered in the top 5; the misses are printed, not hidden."""


def test_paraphrased_questions_find_the_table_that_answers_them_in_the_top_5(loaded: RoleUrls) -> None:
    misses = {}
    with psycopg.connect(loaded.reader) as connection:
        for question, answering_table in PARAPHRASES:
            found = retrieve(
                connection, embed_query(question), question, kinds=["table", "column", "metric"], k=5
            )
            assert all(found[i].score >= found[i + 1].score for i in range(len(found) - 1))
            tables = {f"{document.metadata['schema']}.{document.metadata['table']}" for document in found}
            if answering_table not in tables:
                misses[question] = [document.id for document in found]
    hits = len(PARAPHRASES) - len(misses)
    print(f"paraphrases answered in the top 5: {hits}/{len(PARAPHRASES)}; misses: {misses}")
    assert hits >= REQUIRED_HITS, misses


def test_examples_verified_in_the_app_survive_a_re_run(loaded: RoleUrls, project: Path) -> None:
    """An approved thumbs-up is a verified example outside the curated YAML; the pipeline must not delete
    it."""
    from thelook_ecommerce_analysis.app.feedback import FeedbackStore, Verdict
    from thelook_ecommerce_analysis.rag.examples_review import ExampleReview

    store = FeedbackStore(loaded.owner, project / "sql")
    record = store.record("How many orders came in?", "SELECT count(*) FROM raw_data.orders", Verdict.UP)
    approved = ExampleReview(loaded.owner, loaded.reader, project / "sql").approve(record.feedback_id)
    run_pipeline("embeddings")
    with psycopg.connect(loaded.reader) as connection:
        kept = connection.execute(
            "SELECT metadata->>'verified' FROM embeddings.documents WHERE id = %s", (approved.example_id,)
        ).fetchone()
    assert kept == ("true",)
