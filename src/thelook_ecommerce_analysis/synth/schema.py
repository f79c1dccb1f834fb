"""The seven theLook tables as the generator writes them: derived from the raw tables' contract.

Names and column order are exactly those of `bigquery-public-data.thelook_ecommerce`, so SQL written for
the public export runs on ours. Types are what the pipeline COPYs into PostgreSQL without a cast (see
contract.COLUMN_TYPES). Every column is nullable, as in the source.
"""

from __future__ import annotations

from thelook_ecommerce_analysis.contract import COLUMN_TYPES, load_contract

_CONTRACT = load_contract()

TIMESTAMP = COLUMN_TYPES["timestamp"].arrow
TABLES: tuple[str, ...] = _CONTRACT.names
TABLE_SCHEMAS = {name: table.arrow_schema for name, table in _CONTRACT.tables.items()}
# Each table's (single-column) primary key and its foreign keys: column -> (parent table, parent key).
PRIMARY_KEYS: dict[str, str] = {name: table.key_columns[0] for name, table in _CONTRACT.tables.items()}
FOREIGN_KEYS: dict[str, dict[str, tuple[str, str]]] = {
    name: {key.column: (key.parent, key.parent_column) for key in table.foreign_keys}
    for name, table in _CONTRACT.tables.items()
}
