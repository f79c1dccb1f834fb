"""Nodes of the data_processing pipeline: contract, cleaning, incremental selection, row rules.

Every function takes and returns ibis expressions and leaves execution to the datasets, except the
contract check, whose whole point is to look at the data before anything is written: it runs ONE
aggregation per table and raises when a hard rule fails.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from thelook_ecommerce_analysis.contract import column_types
from thelook_ecommerce_analysis.datasets.postgres_reads import LoadStart  # at run time: Kedro reads the hints
from thelook_ecommerce_analysis.errors import ThelookError

logger = logging.getLogger(__name__)

# The type families of the contracts, and the exact types the database receives for each.
TYPE_FAMILIES = {
    "integer": (lambda dtype: dtype.is_integer(), dt.int64),
    "float": (lambda dtype: dtype.is_floating() or dtype.is_decimal() or dtype.is_integer(), dt.float64),
    "string": (lambda dtype: dtype.is_string(), dt.string),
    "timestamp": (lambda dtype: dtype.is_timestamp(), dt.Timestamp(timezone="UTC", scale=6)),
}
REJECTION_REASON = "rejection_reason"
EXAMPLES_SHOWN = 5


# -- hard contract ---------------------------------------------------------------------------------


def _schema_violations(schema: ibis.Schema, expected: dict[str, str]) -> list[str]:
    """Missing, extra and mistyped columns, compared with the contract's type families."""
    problems = []
    missing = [name for name in expected if name not in schema]
    extra = [name for name in schema.names if name not in expected]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected column(s) {', '.join(extra)}")
    for name, family in expected.items():
        if name in schema and not TYPE_FAMILIES[family][0](schema[name]):
            problems.append(f"column {name} is {schema[name]}, expected {family}")
    return problems


def _row_rule_predicates(table: ir.Table, rules: dict[str, Any]) -> dict[str, ir.BooleanValue]:
    """Named predicates that are TRUE for a row breaking a row-level rule (NULLs never break a rule,
    except not_null)."""
    predicates: dict[str, ir.BooleanValue] = {}
    for column in rules.get("not_null", []):
        predicates[f"{column} is NULL"] = table[column].isnull()
    for column in rules.get("non_negative", []):
        predicates[f"{column} is negative"] = (table[column] < 0).fill_null(False)
    for column, accepted in rules.get("accepted_values", {}).items():
        predicates[f"{column} not in accepted values"] = (~table[column].isin(accepted)).fill_null(False)
    for earlier, later in rules.get("ordered", []):
        predicates[f"{later} before {earlier}"] = (table[later] < table[earlier]).fill_null(False)
    return predicates


def _key_expression(table: ir.Table, key: list[str]) -> ir.Value:
    return table[key[0]] if len(key) == 1 else ibis.struct({column: table[column] for column in key})


def check_contract(
    table: ir.Table,
    rules: dict[str, Any],
    load_start: LoadStart,
    allow_empty_input: bool,
) -> ir.Table:
    """Stop this table before any write when its hard contract fails; log the row-rule counts.

    Hard: exact columns and type families, key non-null and unique, and no empty input for a table
    that already holds rows (an export that lost its rows is far likelier than a business that did;
    `allow_empty_input` accepts it). One aggregation computes the key checks and every row rule's count
    together, so a large file is scanned once.
    """
    table_name = load_start.table
    if problems := _schema_violations(table.schema(), column_types(rules)):
        raise ThelookError(f"{table_name}: contract violated, nothing written: {'; '.join(problems)}")
    key = rules["key_columns"]
    key_is_null = ibis.or_(*(table[column].isnull() for column in key))
    counts = {
        "rows": table.count(),
        "null_keys": key_is_null.sum(),
        "distinct_keys": _key_expression(table, key).nunique(),
    }
    predicates = _row_rule_predicates(table, rules)
    counts |= {f"rule_{index}": predicate.sum() for index, predicate in enumerate(predicates.values())}
    result = table.aggregate(**counts).to_pyarrow().to_pylist()[0]
    rows, null_keys = result["rows"], result["null_keys"] or 0
    duplicates = rows - null_keys - result["distinct_keys"]
    problems = []
    if null_keys:
        problems.append(f"NULL key {'+'.join(key)}: {null_keys} row(s)")
    if duplicates:
        problems.append(
            f"duplicate key {'+'.join(key)}: {duplicates} extra row(s) "
            f"(e.g. {_duplicate_key_examples(table, key)})"
        )
    if problems:
        raise ThelookError(f"{table_name}: contract violated, nothing written: {'; '.join(problems)}")
    if rows == 0:
        _check_empty_input(table_name, load_start.has_rows, allow_empty_input)
    broken = {
        name: result[f"rule_{index}"] for index, name in enumerate(predicates) if result[f"rule_{index}"]
    }
    logger.info(
        "%s: %d rows pass the contract; row rules broken: %s",
        table_name,
        rows,
        ", ".join(f"{name} ({count})" for name, count in broken.items()) or "none",
    )
    return table


def _check_empty_input(table_name: str, table_has_rows: bool, allow_empty_input: bool) -> None:
    """An input without rows: a warning when there is nothing to lose, an error when the table already
    holds rows (unless allowed), since an empty export is usually a broken one."""
    if table_has_rows and not allow_empty_input:
        raise ThelookError(
            f"{table_name}: the input has no rows but the table already holds rows: an empty export is "
            "probably a broken one; nothing written (if it really is empty, run `thelook run "
            "--allow-empty-input` or `kedro run --params allow_empty_input=true`)"
        )
    logger.warning(
        "%s: the input has no rows (%s): nothing to load",
        table_name,
        "allowed by allow_empty_input" if table_has_rows else "the table holds none yet either",
    )


def _duplicate_key_examples(table: ir.Table, key: list[str]) -> str:
    """A few duplicated keys, to make the error actionable (runs only when the contract failed)."""
    duplicated = (
        table.filter(ibis.and_(*(table[column].notnull() for column in key)))
        .group_by(key)
        .aggregate(copies=lambda t: t.count())
        .filter(lambda t: t.copies > 1)
        .order_by(key)
        .limit(EXAMPLES_SHOWN)
        .to_pyarrow()
        .to_pylist()
    )
    return ", ".join("/".join(str(row[column]) for column in key) for row in duplicated)


# -- cleaning --------------------------------------------------------------------------------------


def conform_types(table: ir.Table, columns: dict[str, str]) -> ir.Table:
    """Cast every column to its family's canonical type (int64, float64, string, UTC microseconds),
    so that any theLook export, whatever widths it used, loads into the same database columns."""
    return table.select(
        **{name: table[name].cast(TYPE_FAMILIES[family][1]) for name, family in columns.items()}
    )


def trim_strings(table: ir.Table) -> ir.Table:
    """Strip surrounding blanks; an empty string becomes NULL (it carries no value).

    Only values that start or end with a blank, or are empty, are rewritten: on millions of clean
    event rows, trimming everything costs several times the read itself.
    """

    def cleaned(column: ir.StringValue) -> ir.StringValue:
        needs_trim = column.startswith(" ") | column.endswith(" ") | (column == "")
        return ibis.ifelse(needs_trim, column.strip().nullif(""), column)

    changes = {name: cleaned(table[name]) for name, dtype in table.schema().items() if dtype.is_string()}
    return table.mutate(**changes) if changes else table


def normalise_countries(table: ir.Table, spellings: dict[str, str]) -> ir.Table:
    """Map the public data's alternative spellings ('España', 'Deutschland') to one name per country."""
    if "country" not in table.columns or not spellings:
        return table
    return table.mutate(country=table.country.substitute(spellings, else_=table.country))


def normalise_casing(table: ir.Table) -> ir.Table:
    """theLook's casing: statuses capitalised ('Complete'), genders upper ('F'), event types lower."""
    fixes = {
        "status": lambda column: column.capitalize(),
        "gender": lambda column: column.upper(),
        "event_type": lambda column: column.lower(),
    }
    changes = {name: fix(table[name]) for name, fix in fixes.items() if name in table.columns}
    return table.mutate(**changes) if changes else table


def clean_table(table: ir.Table, rules: dict[str, Any], country_spellings: dict[str, str]) -> ir.Table:
    """All cleaning of one table, in order: types, blanks, spellings, casing."""
    conformed = conform_types(table, column_types(rules))
    return normalise_casing(normalise_countries(trim_strings(conformed), country_spellings))


# -- incremental selection -------------------------------------------------------------------------


def select_incremental(table: ir.Table, load_start: LoadStart, rules: dict[str, Any]) -> ir.Table:
    """Rows that may be new or changed since the last load.

    Empty target (no watermark): everything. Otherwise rows created after the watermark, minus the
    table's look-back window, which brings back recent rows whose status may have moved on. Rows older
    than the window are immutable, and the upsert leaves unchanged rows untouched anyway. The watermark
    never counts a row later than the load's future cutoff (see LoadStart), so it cannot be stalled.
    """
    column = rules.get("watermark")
    watermark = load_start.watermark
    if column is None or watermark is None:
        return table
    since = watermark - timedelta(days=rules.get("lookback_days", 0))
    return table.filter(table[column] > ibis.literal(since, type=table[column].type()))


# -- row rules and foreign keys --------------------------------------------------------------------


def _future_predicates(
    table: ir.Table, columns: dict[str, str], cutoff: datetime
) -> dict[str, ir.BooleanValue]:
    """TRUE for a row with a timestamp later than `cutoff`: a clock set wrong, or a bad export. Loaded,
    such a row would move its table's watermark past every real row to come."""
    predicates: dict[str, ir.BooleanValue] = {}
    for name, family in columns.items():
        if family == "timestamp":
            later = table[name] > ibis.literal(cutoff, type=table[name].type())
            predicates[f"{name} is in the future"] = later.fill_null(False)
    return predicates


def mark_rejections(
    table: ir.Table,
    rules: dict[str, Any],
    load_start: LoadStart,
    *parent_keys: ir.Table,
) -> ir.Table:
    """Add `rejection_reason`: the first rule or foreign key the row breaks, NULL when it is good.

    A timestamp later than `load_start.future_cutoff` comes first (it explains any ordering rule the
    same timestamp also breaks), then the row rules, then the foreign keys: the contract's `references`,
    whose parent keys (already in PostgreSQL, as memtables) arrive in the order of the columns.
    """
    columns = rules["columns"]
    references = {name: spec["references"] for name, spec in columns.items() if spec.get("references")}
    marked, found = _with_parent_flags(table, references, parent_keys)
    checks = list(_future_predicates(marked, column_types(rules), load_start.future_cutoff).items())
    checks += list(_row_rule_predicates(marked, rules).items())
    for (column, parent), flag in zip(references.items(), found, strict=True):
        orphan = marked[column].notnull() & marked[flag].isnull()
        checks.append((f"{column} not found in {parent}", orphan))
    if not checks:
        return table.mutate(**{REJECTION_REASON: ibis.null(dt.string)})
    reason = ibis.cases(*((predicate, name) for name, predicate in checks), else_=ibis.null(dt.string))
    return marked.mutate(**{REJECTION_REASON: reason}).drop(*found)


def _with_parent_flags(
    table: ir.Table, references: dict[str, str], parent_keys: tuple[ir.Table, ...]
) -> tuple[ir.Table, list[str]]:
    """The table left-joined to each parent's keys, with a flag column per foreign key that is NULL
    where the parent has no such key.

    A join rather than `column.isin(keys)`: inside the CASE of `rejection_reason` an IN-subquery is
    planned by Spark as a nested-loop existence join (rows x keys comparisons: 22x DuckDB's time on
    10,000 users, hopeless on millions), while every engine plans an equality left join as a hash join.
    Parent keys are primary keys, so no row is repeated.
    """
    flags = []
    joined = table
    for index, ((column, parent), keys) in enumerate(zip(references.items(), parent_keys, strict=True)):
        key, flag = f"_parent_key_{index}", f"_parent_found_{index}"
        present = keys.select(**{key: keys[parent.split(".")[-1]], flag: ibis.literal(True)})
        joined = joined.left_join(present, joined[column] == present[key]).drop(key)
        flags.append(flag)
    return joined, flags


def accepted_rows(marked: ir.Table) -> ir.Table:
    """The rows that break no rule, without the marker column."""
    return marked.filter(marked[REJECTION_REASON].isnull()).drop(REJECTION_REASON)


def _as_json_value(column: ir.Value) -> ir.Value:
    """A timestamp as the text PostgreSQL prints for it in UTC ('2024-01-22 14:55:29.305192+00'): JSON has
    no timestamp type, and engines write one differently (Spark keeps only milliseconds)."""
    if column.type().is_timestamp():
        return column.cast(dt.Timestamp(scale=6)).cast(dt.string) + "+00"
    return column


def rejected_rows(marked: ir.Table, rules: dict[str, Any], run_id: str) -> ir.Table:
    """The rows that break a rule, as (run, key, reason, the whole row as JSON) for the quarantine table."""
    rejected = marked.filter(marked[REJECTION_REASON].notnull())
    payload = ibis.struct(
        {name: _as_json_value(rejected[name]) for name in marked.columns if name != REJECTION_REASON}
    )
    return rejected.select(
        run_id=ibis.literal(run_id, type=dt.string),
        record_key=_key_expression(rejected, rules["key_columns"]).cast(dt.string),
        reason=rejected[REJECTION_REASON],
        record=payload.cast(dt.json).cast(dt.string),
    )
