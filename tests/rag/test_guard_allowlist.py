"""The allowlist does not break analytics: every allowed function, called as an analyst would, passes the
guard and runs as the read-only role; every query the project ships (few-shot examples, the dev set) passes
the guard; no dangerous family names an allowed function."""

from __future__ import annotations

import psycopg
import pytest
import yaml

from tests.conftest import REPO_ROOT
from thelook_ecommerce_analysis.db.local import RoleUrls
from thelook_ecommerce_analysis.rag.allowlist import (
    ALLOWED_FUNCTION_GROUPS,
    ALLOWED_FUNCTIONS,
    DENIED_FUNCTION_FAMILIES,
    denied_function_family,
)
from thelook_ecommerce_analysis.rag.catalog import Catalog, load_catalog
from thelook_ecommerce_analysis.rag.evaluate import load_questions
from thelook_ecommerce_analysis.rag.guard import guard_sql

ORDERS = "FROM raw_data.orders"
PRODUCTS = "FROM raw_data.products"
VECTORS = "FROM embeddings.products"
DOCUMENT = '\'{"a": {"b": [1, 2]}, "c": null}\'::jsonb'

SAMPLE_CALLS: dict[str, str] = {
    # aggregate
    "any_value": f"SELECT any_value(status) {ORDERS}",
    "array_agg": f"SELECT array_agg(order_id ORDER BY order_id) {ORDERS}",
    "avg": f"SELECT avg(num_of_item) {ORDERS}",
    "bool_and": f"SELECT bool_and(num_of_item > 0) {ORDERS}",
    "bool_or": f"SELECT bool_or(status = 'Returned') {ORDERS}",
    "corr": f"SELECT corr(cost, retail_price) {PRODUCTS}",
    "count": f"SELECT count(DISTINCT user_id) {ORDERS}",
    "covar_pop": f"SELECT covar_pop(cost, retail_price) {PRODUCTS}",
    "covar_samp": f"SELECT covar_samp(cost, retail_price) {PRODUCTS}",
    "every": f"SELECT every(num_of_item > 0) {ORDERS}",
    "grouping": f"SELECT status, grouping(status) {ORDERS} GROUP BY status",
    "json_agg": f"SELECT json_agg(status) {ORDERS}",
    "json_object_agg": f"SELECT json_object_agg(order_id, status) {ORDERS}",
    "jsonb_agg": f"SELECT jsonb_agg(status) {ORDERS}",
    "jsonb_object_agg": f"SELECT jsonb_object_agg(order_id, status) {ORDERS}",
    "max": f"SELECT max(created_at) {ORDERS}",
    "min": f"SELECT min(created_at) {ORDERS}",
    "mode": f"SELECT mode() WITHIN GROUP (ORDER BY status) {ORDERS}",
    "percentile_cont": f"SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY cost) {PRODUCTS}",
    "percentile_disc": f"SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY cost) {PRODUCTS}",
    "regr_avgx": f"SELECT regr_avgx(retail_price, cost) {PRODUCTS}",
    "regr_avgy": f"SELECT regr_avgy(retail_price, cost) {PRODUCTS}",
    "regr_count": f"SELECT regr_count(retail_price, cost) {PRODUCTS}",
    "regr_intercept": f"SELECT regr_intercept(retail_price, cost) {PRODUCTS}",
    "regr_r2": f"SELECT regr_r2(retail_price, cost) {PRODUCTS}",
    "regr_slope": f"SELECT regr_slope(retail_price, cost) {PRODUCTS}",
    "stddev": f"SELECT stddev(cost) {PRODUCTS}",
    "stddev_pop": f"SELECT stddev_pop(cost) {PRODUCTS}",
    "stddev_samp": f"SELECT stddev_samp(cost) {PRODUCTS}",
    "string_agg": f"SELECT string_agg(DISTINCT status, ', ') {ORDERS}",
    "sum": f"SELECT sum(num_of_item) {ORDERS}",
    "var_pop": f"SELECT var_pop(cost) {PRODUCTS}",
    "var_samp": f"SELECT var_samp(cost) {PRODUCTS}",
    "variance": f"SELECT variance(cost) {PRODUCTS}",
    # window
    "cume_dist": f"SELECT cume_dist() OVER (ORDER BY cost) {PRODUCTS}",
    "dense_rank": f"SELECT dense_rank() OVER (ORDER BY cost) {PRODUCTS}",
    "first_value": f"SELECT first_value(name) OVER (PARTITION BY category ORDER BY cost) {PRODUCTS}",
    "lag": f"SELECT lag(cost, 1) OVER (ORDER BY id) {PRODUCTS}",
    "last_value": f"SELECT last_value(name) OVER (ORDER BY cost) {PRODUCTS}",
    "lead": f"SELECT lead(cost) OVER (ORDER BY id) {PRODUCTS}",
    "nth_value": f"SELECT nth_value(name, 2) OVER (ORDER BY cost) {PRODUCTS}",
    "ntile": f"SELECT ntile(4) OVER (ORDER BY cost) {PRODUCTS}",
    "percent_rank": f"SELECT percent_rank() OVER (ORDER BY cost) {PRODUCTS}",
    "rank": f"SELECT rank() OVER (PARTITION BY category ORDER BY cost DESC) {PRODUCTS}",
    "row_number": f"SELECT row_number() OVER (ORDER BY id) {PRODUCTS}",
    # math
    "abs": f"SELECT abs(cost - retail_price) {PRODUCTS}",
    "acos": "SELECT acos(0.5)",
    "asin": "SELECT asin(0.5)",
    "atan": "SELECT atan(0.5)",
    "atan2": "SELECT atan2(1, 2)",
    "cbrt": f"SELECT cbrt(cost) {PRODUCTS}",
    "ceil": f"SELECT ceil(cost) {PRODUCTS}",
    "ceiling": f"SELECT ceiling(cost) {PRODUCTS}",
    "cos": "SELECT cos(0)",
    "degrees": "SELECT degrees(1)",
    "div": f"SELECT div(order_id, 7) {ORDERS}",
    "exp": "SELECT exp(1)",
    "floor": f"SELECT floor(cost) {PRODUCTS}",
    "gcd": f"SELECT gcd(order_id, 12) {ORDERS}",
    "lcm": f"SELECT lcm(order_id, 12) {ORDERS}",
    "ln": f"SELECT ln(cost) {PRODUCTS}",
    "log": f"SELECT log(cost::numeric) {PRODUCTS}",
    "log10": f"SELECT log10(cost::numeric) {PRODUCTS}",
    "mod": f"SELECT mod(order_id, 7) {ORDERS}",
    "pi": "SELECT pi()",
    "pow": f"SELECT pow(cost, 2) {PRODUCTS}",
    "power": f"SELECT power(cost, 2) {PRODUCTS}",
    "radians": "SELECT radians(180)",
    "random": "SELECT random() < 2",
    "round": f"SELECT round(avg(cost)::numeric, 2) {PRODUCTS}",
    "scale": "SELECT scale(1.25)",
    "sign": f"SELECT sign(cost - 15) {PRODUCTS}",
    "sin": "SELECT sin(0)",
    "sqrt": f"SELECT sqrt(cost) {PRODUCTS}",
    "tan": "SELECT tan(0)",
    "trim_scale": "SELECT trim_scale(1.500)",
    "trunc": f"SELECT trunc(cost) {PRODUCTS}",
    "width_bucket": f"SELECT width_bucket(cost, 0, 100, 10) {PRODUCTS}",
    # string
    "array_to_string": f"SELECT array_to_string(array_agg(status), ',') {ORDERS}",
    "btrim": f"SELECT btrim(name, 'P') {PRODUCTS}",
    "char_length": f"SELECT char_length(name) {PRODUCTS}",
    "character_length": f"SELECT character_length(name) {PRODUCTS}",
    "concat": f"SELECT concat(brand, ' ', name) {PRODUCTS}",
    "concat_ws": f"SELECT concat_ws(' / ', brand, category) {PRODUCTS}",
    "initcap": f"SELECT initcap(name) {PRODUCTS}",
    "left": f"SELECT left(name, 3) {PRODUCTS}",
    "length": f"SELECT length(name) {PRODUCTS}",
    "lower": f"SELECT lower(name) {PRODUCTS}",
    "ltrim": f"SELECT ltrim(name) {PRODUCTS}",
    "octet_length": f"SELECT octet_length(name) {PRODUCTS}",
    "overlay": f"SELECT overlay(name PLACING 'X' FROM 1 FOR 1) {PRODUCTS}",
    "position": f"SELECT position('shirt' IN name) {PRODUCTS}",
    "regexp_count": f"SELECT regexp_count(name, 't') {PRODUCTS}",
    "regexp_like": f"SELECT name {PRODUCTS} WHERE regexp_like(name, 'shirt$')",
    "regexp_match": f"SELECT regexp_match(name, '[0-9]+') {PRODUCTS}",
    "regexp_matches": f"SELECT regexp_matches(name, '[0-9]+') {PRODUCTS}",
    "regexp_replace": f"SELECT regexp_replace(name, '[0-9]+', '#') {PRODUCTS}",
    "regexp_split_to_array": f"SELECT regexp_split_to_array(name, ' ') {PRODUCTS}",
    "regexp_split_to_table": "SELECT part FROM regexp_split_to_table('a b c', ' ') AS part",
    "regexp_substr": f"SELECT regexp_substr(name, '[0-9]+') {PRODUCTS}",
    "replace": f"SELECT replace(name, 'shirt', 'tee') {PRODUCTS}",
    "reverse": f"SELECT reverse(name) {PRODUCTS}",
    "right": f"SELECT right(name, 5) {PRODUCTS}",
    "rtrim": f"SELECT rtrim(name) {PRODUCTS}",
    "split_part": f"SELECT split_part(name, ' ', 2) {PRODUCTS}",
    "starts_with": f"SELECT name {PRODUCTS} WHERE starts_with(name, 'Product')",
    "string_to_array": f"SELECT string_to_array(name, ' ') {PRODUCTS}",
    "strpos": f"SELECT strpos(name, 'shirt') {PRODUCTS}",
    "substr": f"SELECT substr(name, 1, 4) {PRODUCTS}",
    "substring": f"SELECT substring(name FROM 1 FOR 4) {PRODUCTS}",
    "to_char": f"SELECT to_char(created_at, 'YYYY-MM') {ORDERS}",
    "to_number": "SELECT to_number('12,454.8', '99G999D9')",
    "translate": f"SELECT translate(name, 'st', 'ST') {PRODUCTS}",
    "trim": f"SELECT trim(BOTH ' ' FROM name) {PRODUCTS}",
    "upper": f"SELECT upper(status) {ORDERS}",
    # date/time
    "age": f"SELECT age(delivered_at, created_at) {ORDERS}",
    "date": f"SELECT date(created_at) {ORDERS}",
    "date_bin": f"SELECT date_bin('15 minutes', created_at, timestamp '2024-01-01') {ORDERS}",
    "date_part": f"SELECT date_part('dow', created_at) {ORDERS}",
    "date_trunc": f"SELECT date_trunc('week', created_at) {ORDERS}",
    "extract": f"SELECT extract(quarter FROM created_at) {ORDERS}",
    "isfinite": f"SELECT isfinite(created_at) {ORDERS}",
    "justify_days": "SELECT justify_days(interval '35 days')",
    "justify_hours": "SELECT justify_hours(interval '27 hours')",
    "justify_interval": "SELECT justify_interval(interval '1 mon -1 hour')",
    "make_date": "SELECT make_date(2024, 6, 1)",
    "make_interval": "SELECT make_interval(days => 10)",
    "make_time": "SELECT make_time(8, 15, 23.5)",
    "make_timestamp": "SELECT make_timestamp(2024, 6, 1, 8, 15, 23.5)",
    "make_timestamptz": "SELECT make_timestamptz(2024, 6, 1, 8, 15, 23.5)",
    "now": f"SELECT order_id {ORDERS} WHERE created_at < now()",
    "timezone": f"SELECT timezone('Europe/Paris', created_at) {ORDERS}",
    "to_date": "SELECT to_date('2024-06-01', 'YYYY-MM-DD')",
    "to_timestamp": "SELECT to_timestamp(1717200000)",
    # conditional
    "cast": f"SELECT CAST(num_of_item AS numeric) / 2 {ORDERS}",
    "coalesce": f"SELECT coalesce(returned_at, delivered_at) {ORDERS}",
    "exists": "SELECT EXISTS (SELECT 1 FROM raw_data.orders WHERE status = 'Returned')",
    "greatest": f"SELECT greatest(shipped_at, delivered_at) {ORDERS}",
    "least": f"SELECT least(cost, retail_price) {PRODUCTS}",
    "nullif": f"SELECT sum(cost) / nullif(count(*), 0) {PRODUCTS}",
    "num_nonnulls": f"SELECT num_nonnulls(shipped_at, delivered_at, returned_at) {ORDERS}",
    "num_nulls": f"SELECT num_nulls(shipped_at, delivered_at, returned_at) {ORDERS}",
    # JSON
    "json_array_elements": "SELECT e.value FROM json_array_elements('[1, 2]') AS e",
    "json_array_elements_text": "SELECT e.value FROM json_array_elements_text('[1, 2]') AS e",
    "json_array_length": "SELECT json_array_length('[1, 2]')",
    "json_build_array": f"SELECT json_build_array(order_id, status) {ORDERS}",
    "json_build_object": f"SELECT json_build_object('id', order_id) {ORDERS}",
    "json_each": "SELECT e.key, e.value FROM json_each('{\"a\": 1}') AS e",
    "json_each_text": "SELECT e.key FROM json_each_text('{\"a\": 1}') AS e",
    "json_extract_path": "SELECT json_extract_path('{\"a\": {\"b\": 1}}', 'a', 'b')",
    "json_extract_path_text": "SELECT json_extract_path_text('{\"a\": {\"b\": 1}}', 'a', 'b')",
    "json_object_keys": 'SELECT k FROM json_object_keys(\'{"a": 1, "b": 2}\') AS k',
    "json_typeof": "SELECT json_typeof('[1]')",
    "jsonb_array_elements": "SELECT e.value FROM jsonb_array_elements('[1, 2]') AS e",
    "jsonb_array_elements_text": "SELECT e.value FROM jsonb_array_elements_text('[1, 2]') AS e",
    "jsonb_array_length": f"SELECT jsonb_array_length({DOCUMENT} -> 'a' -> 'b')",
    "jsonb_build_array": f"SELECT jsonb_build_array(order_id, status) {ORDERS}",
    "jsonb_build_object": f"SELECT jsonb_build_object('id', order_id) {ORDERS}",
    "jsonb_each": f"SELECT e.key FROM jsonb_each({DOCUMENT}) AS e",
    "jsonb_each_text": f"SELECT e.key, e.value FROM jsonb_each_text({DOCUMENT}) AS e",
    "jsonb_extract_path": f"SELECT jsonb_extract_path({DOCUMENT}, 'a', 'b')",
    "jsonb_extract_path_text": f"SELECT jsonb_extract_path_text({DOCUMENT}, 'a')",
    "jsonb_object_keys": f"SELECT k FROM jsonb_object_keys({DOCUMENT}) AS k",
    "jsonb_strip_nulls": f"SELECT jsonb_strip_nulls({DOCUMENT})",
    "jsonb_typeof": f"SELECT jsonb_typeof({DOCUMENT} -> 'a')",
    "row_to_json": "SELECT row_to_json(t) FROM (SELECT order_id, status FROM raw_data.orders) AS t",
    "to_json": f"SELECT to_json(status) {ORDERS}",
    "to_jsonb": f"SELECT to_jsonb(status) {ORDERS}",
    # array
    "array": "SELECT ARRAY(SELECT order_id FROM raw_data.orders ORDER BY order_id LIMIT 3)",
    "array_append": "SELECT array_append(ARRAY[1, 2], 3)",
    "array_cat": "SELECT array_cat(ARRAY[1], ARRAY[2])",
    "array_length": f"SELECT array_length(array_agg(order_id), 1) {ORDERS}",
    "array_lower": "SELECT array_lower(ARRAY[1, 2], 1)",
    "array_position": "SELECT array_position(ARRAY['a', 'b'], 'b')",
    "array_positions": "SELECT array_positions(ARRAY['a', 'b', 'a'], 'a')",
    "array_prepend": "SELECT array_prepend(0, ARRAY[1, 2])",
    "array_remove": "SELECT array_remove(ARRAY[1, 2, 1], 1)",
    "array_upper": "SELECT array_upper(ARRAY[1, 2], 1)",
    "cardinality": f"SELECT cardinality(array_agg(order_id)) {ORDERS}",
    "unnest": "SELECT u FROM unnest(ARRAY['Complete', 'Returned']) AS u",
    # series, pg_trgm, pgvector
    "generate_series": (
        "SELECT d::date AS month FROM generate_series(date '2024-01-01', date '2024-12-01', "
        "interval '1 month') AS d"
    ),
    "similarity": f"SELECT name, similarity(name, 'shirt') {PRODUCTS}",
    "strict_word_similarity": f"SELECT strict_word_similarity('shirt', name) {PRODUCTS}",
    "word_similarity": f"SELECT word_similarity('shirt', name) {PRODUCTS}",
    "cosine_distance": f"SELECT id, cosine_distance(embedding, '[1, 0, 0]') {VECTORS}",
    "inner_product": f"SELECT inner_product(embedding, '[1, 0, 0]') {VECTORS}",
    "l1_distance": f"SELECT l1_distance(embedding, '[1, 0, 0]') {VECTORS}",
    "l2_distance": f"SELECT l2_distance(embedding, '[1, 0, 0]') {VECTORS}",
    "l2_normalize": f"SELECT l2_normalize(embedding) {VECTORS}",
    "subvector": f"SELECT subvector(embedding, 1, 2) {VECTORS}",
    "vector_dims": f"SELECT vector_dims(embedding) {VECTORS}",
    "vector_norm": f"SELECT vector_norm(embedding) {VECTORS}",
}


def test_every_allowed_function_has_a_sample_call() -> None:
    assert set(SAMPLE_CALLS) == ALLOWED_FUNCTIONS


EXTENSION_FUNCTIONS = frozenset().union(
    *(group.names for group in ALLOWED_FUNCTION_GROUPS if group.label in {"pg_trgm", "pgvector"})
)
WITH_EXTENSIONS = "-c search_path=raw_data,metrics,embeddings,public"
"""pg_trgm and pgvector live in `public`, which the reader's search_path leaves out (sql/init.sql): the
app's own retrieval calls them schema-qualified, and the guard refuses schema-qualified calls, so a
generated query reaches them only where a deployment puts `public` on the reader's path."""


def run_as_reader(url: str, sql: str, extensions: bool = False) -> None:
    with psycopg.connect(url, options=WITH_EXTENSIONS if extensions else "") as connection:
        connection.execute(sql).fetchall()


@pytest.mark.parametrize("name", sorted(SAMPLE_CALLS))
def test_an_allowed_function_passes_the_guard_and_runs_as_the_reader(
    name: str, catalog: Catalog, thelook_db: RoleUrls
) -> None:
    result = guard_sql(SAMPLE_CALLS[name], catalog)
    assert result.ok, result.reason
    run_as_reader(thelook_db.reader, result.sql, extensions=name in EXTENSION_FUNCTIONS)


def test_extension_functions_are_out_of_the_readers_reach_without_public_on_its_path(
    catalog: Catalog, thelook_db: RoleUrls
) -> None:
    result = guard_sql(SAMPLE_CALLS["cosine_distance"], catalog)
    with pytest.raises(psycopg.errors.UndefinedFunction):
        run_as_reader(thelook_db.reader, result.sql)


def test_no_dangerous_family_names_an_allowed_function() -> None:
    assert all(name == name.lower() for name in ALLOWED_FUNCTIONS)
    assert not [name for name in ALLOWED_FUNCTIONS if denied_function_family(name)]
    assert not {name for family in DENIED_FUNCTION_FAMILIES for name in family.names} & ALLOWED_FUNCTIONS


EXTENSION_OPERATORS = (
    f"SELECT id, embedding <-> '[1, 1, 0]' AS distance {VECTORS} ORDER BY distance LIMIT 3",
    f"SELECT name, name % 'Product 1 shirt' AS alike {PRODUCTS}",
)


@pytest.mark.parametrize(
    "query",
    [
        *EXTENSION_OPERATORS,
        f"SELECT {DOCUMENT} -> 'a' AS a, {DOCUMENT} ->> 'c' AS c, {DOCUMENT} #> '{{a,b}}' AS b",
        f"SELECT order_id {ORDERS} WHERE status = ANY (ARRAY['Complete', 'Shipped'])",
        f"SELECT created_at AT TIME ZONE 'UTC' AS utc {ORDERS}",
        "SELECT first_name || ' ' || last_name AS full_name FROM raw_data.users",
        f"SELECT name {PRODUCTS} WHERE name ~* 'SHIRT' AND name !~ '^x'",
        f"SELECT order_id {ORDERS} WHERE shipped_at IS DISTINCT FROM delivered_at",
        f"SELECT order_id {ORDERS} WHERE created_at BETWEEN date '2024-01-01' AND date '2024-03-01'",
        f"SELECT ARRAY[order_id, user_id] @> ARRAY[1::bigint] AS holds {ORDERS}",
        f"SELECT CASE WHEN num_of_item > 1 THEN 'many' ELSE 'one' END AS size {ORDERS}",
        f"SELECT -num_of_item, num_of_item % 2, num_of_item ^ 2, |/ 16.0 AS root {ORDERS}",
        "SELECT g.g, g.ordinality FROM generate_series(1, 3) WITH ORDINALITY AS g",
        "SELECT count(*) FROM generate_series(1, 300) AS a, generate_series(1, 300) AS b",
        "SELECT d FROM generate_series(current_date - interval '1 year', current_date, interval '1 day') "
        "AS d",
        "SELECT d FROM generate_series(now() - interval '7 days', now(), '1 hour') AS d",
    ],
)
def test_operators_and_syntax_of_analytics_pass_and_run(
    query: str, catalog: Catalog, thelook_db: RoleUrls
) -> None:
    result = guard_sql(query, catalog)
    assert result.ok, result.reason
    run_as_reader(thelook_db.reader, result.sql, extensions=query in EXTENSION_OPERATORS)


def test_every_query_the_project_ships_passes_the_guard(loaded_db: RoleUrls) -> None:
    """The few-shot examples (conf/base/examples.yml) and the dev set's gold queries, against the catalog
    of a database loaded by the real pipelines: an allowlist that refused one would teach the model that
    a right answer is wrong."""
    examples = yaml.safe_load((REPO_ROOT / "conf" / "base" / "examples.yml").read_text())["examples"]
    shipped = [("examples.yml", example["question"], example["sql"]) for example in examples]
    dev_set = load_questions(REPO_ROOT / "evaluation" / "dev_set.yml")
    shipped += [("dev_set.yml", question.id, question.sql) for question in dev_set]
    with psycopg.connect(loaded_db.reader) as connection:
        catalog = load_catalog(connection)
    refused = [
        f"{source}: {name}: {verdict.reason}"
        for source, name, sql in shipped
        if not (verdict := guard_sql(sql, catalog)).ok
    ]
    assert len(shipped) >= 100
    assert refused == []
