"""Literals of text columns too large to list in the prompt are matched to the values the data holds, by
PostgreSQL's own trigram similarity, on the real server: case, spelling, several in an IN list."""

from __future__ import annotations

import psycopg
import pytest

from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.rag.catalog import Catalog
from thelook_ecommerce_analysis.rag.values import (
    closest_stored_value,
    modest_text_columns,
    repair_stored_values,
)

PRODUCTS = ("raw_data", "products")


@pytest.fixture(scope="module")
def reader(thelook_db: RoleUrls):
    with psycopg.connect(thelook_db.owner, autocommit=True) as owner:
        owner.execute("ANALYZE raw_data.users, raw_data.products")  # the statistics the search relies on
    with psycopg.connect(thelook_db.reader, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def searchable(reader, catalog: Catalog):
    return modest_text_columns(reader, catalog)


def test_text_columns_with_few_values_are_searchable_and_others_not(reader, catalog: Catalog) -> None:
    found = modest_text_columns(reader, catalog, max_distinct=5)
    assert {("raw_data", "products", "brand"), ("raw_data", "users", "gender")} <= found
    assert ("raw_data", "users", "email") not in found  # 20 values: free text at this threshold
    assert ("raw_data", "users", "age") not in found  # not text


@pytest.mark.parametrize(
    ("literal", "stored"), [("brand1", "Brand1"), ("BRAND2", "Brand2"), ("Brnd3", "Brand3"), ("Brand0", None)]
)
def test_the_value_meant_is_found_in_the_column(reader, literal: str, stored: str | None) -> None:
    assert closest_stored_value(reader, PRODUCTS, "brand", literal) == stored


def test_a_literal_like_no_value_is_left_alone(reader) -> None:
    assert closest_stored_value(reader, PRODUCTS, "brand", "Zyxwvut") is None


def test_literals_are_repaired_in_comparisons_and_in_lists(reader, catalog: Catalog, searchable) -> None:
    query = (
        "SELECT count(*) FROM raw_data.products AS p "
        "WHERE p.brand IN ('brand1', 'Brand2') AND p.brand <> 'brnd3'"
    )
    repair = repair_stored_values(query, catalog, searchable, {}, reader)
    assert repair is not None and repair.kind == "value"
    assert "IN ('Brand1', 'Brand2')" in repair.sql and "<> 'Brand3'" in repair.sql
    assert repair.note == "'brand1' -> 'Brand1' (products.brand); 'brnd3' -> 'Brand3' (products.brand)"


def test_listed_columns_and_matching_literals_are_not_touched(reader, catalog: Catalog, searchable) -> None:
    listed = {("raw_data", "products", "brand"): ("Brand0", "Brand1", "Brand2", "Brand3")}
    query = "SELECT count(*) FROM raw_data.products WHERE brand = 'brand1'"
    assert repair_stored_values(query, catalog, searchable, listed, reader) is None
    assert (
        repair_stored_values(
            "SELECT count(*) FROM raw_data.products WHERE brand = 'Brand1'", catalog, searchable, {}, reader
        )
        is None
    )
    assert repair_stored_values("not sql at all (", catalog, searchable, {}, reader) is None
