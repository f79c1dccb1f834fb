"""The data_processing nodes on small in-memory tables (ibis on DuckDB): contract, cleaning,
incremental selection, rejections. The load's clock is a node input (LoadStart), fixed here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ibis
import pyarrow as pa
import pytest

from thelook_ecommerce_analysis.datasets.postgres_reads import LoadStart
from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.pipelines.data_processing import nodes


def contract_columns(**types: str) -> dict[str, dict[str, str]]:
    """Columns as the contract writes them (conf/base/globals_raw_data.yml)."""
    return {name: {"type": type_, "comment": f"The {name}."} for name, type_ in types.items()}


ORDER_RULES = {
    "columns": contract_columns(
        order_id="integer", user_id="integer", status="string", created_at="timestamp"
    ),
    "key_columns": ["order_id"],
    "not_null": ["user_id"],
    "accepted_values": {"status": ["Processing", "Complete"]},
    "non_negative": ["user_id"],
}
# The same with user_id a foreign key to users.id.
ORDER_RULES_WITH_USERS = {
    **ORDER_RULES,
    "columns": {**ORDER_RULES["columns"], "user_id": {"type": "integer", "references": "users.id"}},
}
RUN_ID = "2024-01-11T00.00.00.000Z"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=10)


def load_start(
    watermark: datetime | None = None, *, has_rows: bool = False, margin: timedelta = timedelta(days=1)
) -> LoadStart:
    """The state a run starts from, with the clock at NOW (no database needed)."""
    return LoadStart("orders", NOW, NOW + margin, watermark, has_rows)


def orders(**overrides) -> ibis.Table:
    columns = {
        "order_id": pa.array([1, 2, 3], pa.int64()),
        "user_id": pa.array([10, 11, 12], pa.int64()),
        "status": pa.array(["Processing", "Complete", "Complete"]),
        "created_at": pa.array(
            [T0, T0 + timedelta(days=1), T0 + timedelta(days=2)], pa.timestamp("us", "UTC")
        ),
    }
    columns.update(overrides)
    return ibis.memtable(pa.table(columns))


def test_a_valid_table_passes_unchanged() -> None:
    table = orders()
    assert nodes.check_contract(table, ORDER_RULES, load_start(), False) is table


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"extra": pa.array([1, 2, 3])}, "unexpected column(s) extra"),
        ({"user_id": pa.array(["10", "11", "12"])}, "column user_id is string, expected integer"),
        ({"order_id": pa.array([1, None, None], pa.int64())}, "NULL key order_id: 2 row(s)"),
        ({"order_id": pa.array([7, 7, 3], pa.int64())}, "duplicate key order_id: 1 extra row(s) (e.g. 7)"),
    ],
)
def test_hard_contract_violations_stop_the_table(overrides: dict, message: str) -> None:
    with pytest.raises(ThelookError) as raised:
        nodes.check_contract(orders(**overrides), ORDER_RULES, load_start(), False)
    assert str(raised.value).startswith("orders: contract violated, nothing written: ")
    assert message in str(raised.value)


def test_missing_column_is_named() -> None:
    table = orders().drop("status")
    with pytest.raises(ThelookError, match="missing column\\(s\\) status"):
        nodes.check_contract(table, ORDER_RULES, load_start(), False)


def test_cleaning_trims_normalises_countries_and_casing() -> None:
    table = ibis.memtable(
        {
            "id": [1, 2, 3],
            "country": [" España", "Deutschland ", "Brasil"],
            "status": ["complete", "SHIPPED", "Processing"],
            "gender": ["f", "M", " "],
        }
    )
    rules = {"columns": contract_columns(id="integer", country="string", status="string", gender="string")}
    cleaned = nodes.clean_table(table, rules, {"España": "Spain", "Deutschland": "Germany"}).to_pyarrow()
    assert cleaned["country"].to_pylist() == ["Spain", "Germany", "Brasil"]
    assert cleaned["status"].to_pylist() == ["Complete", "Shipped", "Processing"]
    assert cleaned["gender"].to_pylist() == ["F", "M", None]


def test_conform_types_gives_the_canonical_arrow_types() -> None:
    table = ibis.memtable(
        pa.table(
            {
                "id": pa.array([1], pa.int32()),
                "price": pa.array([1], pa.int64()),
                "at": pa.array([T0.replace(tzinfo=None)], pa.timestamp("ns")),
            }
        )
    )
    schema = (
        nodes.conform_types(table, {"id": "integer", "price": "float", "at": "timestamp"}).to_pyarrow().schema
    )
    assert schema.field("id").type == pa.int64()
    assert schema.field("price").type == pa.float64()
    assert schema.field("at").type == pa.timestamp("us", tz="UTC")


def test_incremental_selection_uses_watermark_minus_lookback() -> None:
    table = orders()
    settings = {"watermark": "created_at", "lookback_days": 1}
    everything = nodes.select_incremental(table, load_start(None), settings)
    recent = nodes.select_incremental(table, load_start(T0 + timedelta(days=2)), settings)
    assert everything.count().execute() == 3
    assert sorted(recent.order_id.to_pyarrow().to_pylist()) == [3]
    no_watermark = nodes.select_incremental(table, load_start(T0), {"watermark": None})
    assert no_watermark.count().execute() == 3


def test_rejections_name_the_first_broken_rule_and_orphans() -> None:
    table = orders(
        user_id=pa.array([10, None, 99], pa.int64()),
        status=pa.array(["Processing", "Complete", "Lost"]),
    )
    users = ibis.memtable({"id": [10, 11, 12]})
    marked = nodes.mark_rejections(table, ORDER_RULES_WITH_USERS, load_start(), users)
    accepted = nodes.accepted_rows(marked).to_pyarrow()
    rejected = (
        nodes.rejected_rows(marked, ORDER_RULES, RUN_ID).order_by("record_key").to_pyarrow().to_pylist()
    )
    assert tuple(accepted.column_names) == tuple(table.columns)
    assert accepted["order_id"].to_pylist() == [1]
    assert [(row["run_id"], row["record_key"], row["reason"]) for row in rejected] == [
        (RUN_ID, "2", "user_id is NULL"),
        (RUN_ID, "3", "status not in accepted values"),
    ]
    assert '"status":"Lost"' in rejected[1]["record"].replace(" ", "")


def test_orphan_foreign_keys_are_rejected_but_null_foreign_keys_pass() -> None:
    table = orders(user_id=pa.array([10, None, 99], pa.int64()))
    rules = {**ORDER_RULES_WITH_USERS, "not_null": []}
    marked = nodes.mark_rejections(table, rules, load_start(), ibis.memtable({"id": [10]}))
    rejected = nodes.rejected_rows(marked, ORDER_RULES, RUN_ID).to_pyarrow().to_pylist()
    assert {row["record_key"]: row["reason"] for row in rejected} == {"3": "user_id not found in users.id"}


SHIPPED_RULES = {
    **ORDER_RULES,
    "columns": {**ORDER_RULES["columns"], **contract_columns(shipped_at="timestamp")},
    "ordered": [["created_at", "shipped_at"]],
}


def test_timestamps_later_than_the_clock_plus_margin_are_rejected_first() -> None:
    """Any timestamp column counts; exactly at the cutoff is still accepted; a NULL is never future."""
    cutoff = NOW + timedelta(days=1)
    table = orders(
        created_at=pa.array([cutoff, datetime(2099, 1, 1, tzinfo=UTC), T0], pa.timestamp("us", "UTC")),
        shipped_at=pa.array([None, T0, cutoff + timedelta(microseconds=1)], pa.timestamp("us", "UTC")),
    )
    marked = nodes.mark_rejections(table, SHIPPED_RULES, load_start())
    assert nodes.accepted_rows(marked).order_id.to_pyarrow().to_pylist() == [1]
    rejected = (
        nodes.rejected_rows(marked, ORDER_RULES, RUN_ID).order_by("record_key").to_pyarrow().to_pylist()
    )
    assert [(row["record_key"], row["reason"]) for row in rejected] == [
        ("2", "created_at is in the future"),  # it also breaks 'shipped_at before created_at'
        ("3", "shipped_at is in the future"),
    ]


def test_the_margin_is_the_load_starts_and_the_clock_decides() -> None:
    table = orders(
        created_at=pa.array([NOW + timedelta(hours=h) for h in (1, 30, 50)], pa.timestamp("us", "UTC"))
    )
    for margin, accepted in ((timedelta(days=1), [1]), (timedelta(days=2), [1, 2]), (timedelta(0), [])):
        marked = nodes.mark_rejections(table, ORDER_RULES, load_start(margin=margin))
        assert sorted(nodes.accepted_rows(marked).order_id.to_pyarrow().to_pylist()) == accepted, margin


def test_an_empty_input_warns_while_the_table_is_empty(caplog) -> None:
    empty = orders().filter(ibis.literal(False))
    with caplog.at_level("WARNING"):
        assert nodes.check_contract(empty, ORDER_RULES, load_start(), False) is empty
    assert "orders: the input has no rows (the table holds none yet either): nothing to load" in caplog.text


def test_an_empty_input_for_a_loaded_table_stops_unless_allowed(caplog) -> None:
    empty = orders().filter(ibis.literal(False))
    with pytest.raises(ThelookError) as raised:
        nodes.check_contract(empty, ORDER_RULES, load_start(T0, has_rows=True), False)
    assert str(raised.value).startswith("orders: the input has no rows but the table already holds rows")
    assert "--allow-empty-input" in str(raised.value)
    with caplog.at_level("WARNING"):
        nodes.check_contract(empty, ORDER_RULES, load_start(T0, has_rows=True), True)
    assert "allowed by allow_empty_input" in caplog.text
