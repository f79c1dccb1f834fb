"""The raw tables' contract, conf/base/globals_raw_data.yml, as typed definitions.

One file says what each of theLook's seven tables holds (columns, types, keys, foreign keys, rules,
comments, load settings); this module reads it, refuses a contract that contradicts itself (a key or a
reference naming no column, a child listed before its parent) with one line naming the place, and derives
what the rest of the project needs from it: the Arrow schema the generator writes, the PostgreSQL type of
each column (db/raw_tables.py builds the DDL and the keys from these) and the load order. Kedro reads the
same file as `params:raw_tables`, so the pipeline and everything outside it can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from thelook_ecommerce_analysis.config import project_root
from thelook_ecommerce_analysis.errors import ThelookError

CONTRACT_RELATIVE_PATH = Path("conf") / "base" / "globals_raw_data.yml"
CONTRACT_KEY = "raw_tables"


@dataclass(frozen=True)
class ColumnType:
    """A type family of the contract and the exact types it is stored as: the Arrow type the generator
    writes is the one PostgreSQL's binary COPY accepts for the SQL type without a cast."""

    arrow: pa.DataType
    sql: str


COLUMN_TYPES: dict[str, ColumnType] = {
    "integer": ColumnType(pa.int64(), "bigint"),
    "float": ColumnType(pa.float64(), "double precision"),
    "string": ColumnType(pa.string(), "text"),
    "timestamp": ColumnType(pa.timestamp("us", tz="UTC"), "timestamptz"),
}


@dataclass(frozen=True)
class ForeignKey:
    """`table.column` points at `parent.parent_column`."""

    table: str
    column: str
    parent: str
    parent_column: str


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str
    references: tuple[str, str] | None = None

    @property
    def column_type(self) -> ColumnType:
        return COLUMN_TYPES[self.type]


@dataclass(frozen=True)
class RawTable:
    """One raw table of the contract. `rules` is its entry as written, which the data_processing nodes
    read as `params:raw_tables.<table>`."""

    name: str
    description: str
    key_columns: tuple[str, ...]
    columns: tuple[Column, ...]
    rules: Mapping[str, Any]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def arrow_schema(self) -> pa.Schema:
        """Every column nullable, as in the source: the rules, not the schema, say what may be NULL."""
        return pa.schema([(column.name, column.column_type.arrow) for column in self.columns])

    @property
    def foreign_keys(self) -> tuple[ForeignKey, ...]:
        return tuple(
            ForeignKey(self.name, column.name, *column.references)
            for column in self.columns
            if column.references is not None
        )


@dataclass(frozen=True)
class Contract:
    tables: Mapping[str, RawTable]

    @property
    def names(self) -> tuple[str, ...]:
        """The tables in load order: each after every table it references."""
        return tuple(self.tables)

    def __getitem__(self, table: str) -> RawTable:
        return self.tables[table]

    @property
    def foreign_keys(self) -> tuple[ForeignKey, ...]:
        return tuple(key for table in self.tables.values() for key in table.foreign_keys)


def column_types(rules: Mapping[str, Any]) -> dict[str, str]:
    """A table entry's columns as {name: type family}: what the contract checks the input against."""
    return {name: spec["type"] for name, spec in rules["columns"].items()}


def _problem(where: str, what: str) -> ThelookError:
    return ThelookError(f"raw tables contract: {where} {what}; fix it in {CONTRACT_RELATIVE_PATH}")


def _column(table: str, name: str, spec: Any, earlier: Mapping[str, RawTable]) -> Column:
    where = f"{table}.{name}"
    if not isinstance(spec, Mapping) or not spec.get("comment"):
        raise _problem(where, "needs a type and a comment, e.g. {type: string, comment: '...'}")
    if spec.get("type") not in COLUMN_TYPES:
        raise _problem(where, f"has type {spec.get('type')!r}, not one of {', '.join(COLUMN_TYPES)}")
    references = None
    if target := spec.get("references"):
        parent, _, parent_column = str(target).partition(".")
        if parent not in earlier or parent_column not in earlier[parent].column_names:
            raise _problem(
                where,
                f"references {target}, which is not a column of a table listed before {table}",
            )
        references = (parent, parent_column)
    return Column(name, spec["type"], " ".join(str(spec["comment"]).split()), references)


def _table(name: str, entry: Any, earlier: Mapping[str, RawTable]) -> RawTable:
    if not isinstance(entry, Mapping) or not entry.get("columns") or not entry.get("description"):
        raise _problem(name, "needs a description and columns")
    columns = tuple(_column(name, column, spec, earlier) for column, spec in entry["columns"].items())
    names = {column.name for column in columns}
    key_columns = tuple(entry.get("key_columns") or ())
    rule_columns = {
        "key_columns": key_columns,
        "not_null": entry.get("not_null", []),
        "non_negative": entry.get("non_negative", []),
        "accepted_values": list(entry.get("accepted_values", {})),
        "ordered": [column for pair in entry.get("ordered", []) for column in pair],
        "exclude_from_update": entry.get("exclude_from_update", []),
        "watermark": [entry["watermark"]] if entry.get("watermark") else [],
    }
    for rule, used in rule_columns.items():
        if unknown := [column for column in used if column not in names]:
            raise _problem(f"{name}.{rule}", f"names {', '.join(unknown)}, not a column of {name}")
    if not key_columns:
        raise _problem(name, "needs key_columns (its primary key)")
    return RawTable(name, " ".join(str(entry["description"]).split()), key_columns, columns, entry)


def parse_contract(entries: Mapping[str, Any]) -> Contract:
    """The contract from its YAML mapping (the `raw_tables` key), checked as a whole."""
    tables: dict[str, RawTable] = {}
    for name, entry in entries.items():
        tables[name] = _table(name, entry, tables)
    return Contract(tables)


def read_contract(path: Path) -> Contract:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ThelookError(f"raw tables contract: cannot read {path}: {error}") from error
    if not isinstance(document, Mapping) or not isinstance(document.get(CONTRACT_KEY), Mapping):
        raise ThelookError(f"raw tables contract: {path} has no '{CONTRACT_KEY}' mapping")
    return parse_contract(document[CONTRACT_KEY])


@cache
def _project_contract(root: Path) -> Contract:
    return read_contract(root / CONTRACT_RELATIVE_PATH)


def load_contract() -> Contract:
    """The contract of this project (conf/base/globals_raw_data.yml under the project root)."""
    return _project_contract(project_root())
