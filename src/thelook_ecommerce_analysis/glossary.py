"""The metric glossary: conf/base/globals_metrics.yml as typed definitions, rendered as docs/metrics.md.

The same YAML feeds the database COMMENTs (through the catalog's ${globals:...} references), this module's
Markdown page and the embeddings pipeline's metric documents, so the three can never disagree. Each column
definition is one sentence pattern, "<Name> [<unit>]: <definition> Formula: <formula>", which keeps the
database comment self-contained for a reader of pg_description while still splitting into fields here.

Ground floor (it knows YAML, not Kedro): the metrics and summaries pipelines are defined by it, the
embeddings pipeline reads it, and no pipeline has to import another to share it.

Regenerate the page after editing the YAML:  python -m thelook_ecommerce_analysis.glossary
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from thelook_ecommerce_analysis.config import project_root
from thelook_ecommerce_analysis.errors import ThelookError

GLOSSARY_KEY = "metrics_glossary"
SUMMARIES_GLOSSARY_KEY = "summaries_glossary"  # the summaries pipeline's table, defined the same way
GLOSSARY_RELATIVE_PATH = Path("conf") / "base" / "globals_metrics.yml"
DOCS_RELATIVE_PATH = Path("docs") / "metrics.md"
COLUMN_DEFINITION_PATTERN = re.compile(
    r"^(?P<name>[^\[\]]+?) \[(?P<unit>[^\[\]]+)\]: (?P<definition>.+?) Formula: (?P<formula>.+)$", re.DOTALL
)
EXPECTED_FORMAT = "'<Name> [<unit>]: <definition> Formula: <formula>'"


@dataclass(frozen=True)
class MetricDefinition:
    """One column of a metrics table, the unit the embeddings pipeline turns into a retrieval document."""

    table: str
    column: str
    name: str
    unit: str
    definition: str
    formula: str

    @property
    def comment(self) -> str:
        """The text stored as the column's COMMENT (the glossary entry, reassembled)."""
        return f"{self.name} [{self.unit}]: {self.definition} Formula: {self.formula}"


@dataclass(frozen=True)
class TableDefinition:
    """One table of the metrics schema: its grain (key columns), description and columns in order."""

    name: str
    family: str
    key_columns: tuple[str, ...]
    description: str
    columns: tuple[MetricDefinition, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(metric.column for metric in self.columns)


def parse_column_definition(table: str, column: str, text: str) -> MetricDefinition:
    """Split one glossary entry into its fields; a malformed entry names itself and the expected form."""
    match = COLUMN_DEFINITION_PATTERN.match(" ".join(str(text).split()))
    if match is None:
        raise ThelookError(
            f"metric glossary: {table}.{column} is not written as {EXPECTED_FORMAT}; "
            f"fix it in {GLOSSARY_RELATIVE_PATH}"
        )
    return MetricDefinition(table=table, column=column, **match.groupdict())


def _table_definition(name: str, entry: dict[str, Any]) -> TableDefinition:
    missing = [key for key in ("family", "key_columns", "description", "columns") if not entry.get(key)]
    if missing:
        raise ThelookError(
            f"metric glossary: table {name} lacks {', '.join(missing)}; add it in {GLOSSARY_RELATIVE_PATH}"
        )
    columns = tuple(parse_column_definition(name, column, text) for column, text in entry["columns"].items())
    table = TableDefinition(
        name=name,
        family=entry["family"],
        key_columns=tuple(entry["key_columns"]),
        description=" ".join(entry["description"].split()),
        columns=columns,
    )
    if unknown_keys := [key for key in table.key_columns if key not in table.column_names]:
        raise ThelookError(
            f"metric glossary: key column(s) {', '.join(unknown_keys)} of {name} have no definition; "
            f"add them under {name}.columns in {GLOSSARY_RELATIVE_PATH}"
        )
    return table


def load_glossary(path: Path | None = None, key: str = GLOSSARY_KEY) -> tuple[TableDefinition, ...]:
    """Every table under `key` (by default the metrics pipeline's; SUMMARIES_GLOSSARY_KEY for the
    summaries pipeline's), in the glossary's order (the project's file unless `path` is given)."""
    source = path or project_root() / GLOSSARY_RELATIVE_PATH
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as error:
        raise ThelookError(f"metric glossary: cannot read {source} ({error.strerror})") from error
    if not isinstance(document, dict) or not isinstance(document.get(key), dict):
        raise ThelookError(f"metric glossary: {source} has no '{key}' mapping at the top level")
    return tuple(_table_definition(name, entry) for name, entry in document[key].items())


def metric_definitions(glossary: tuple[TableDefinition, ...]) -> list[MetricDefinition]:
    """All column definitions of all tables, flattened (one embeddings document each)."""
    return [metric for table in glossary for metric in table.columns]


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _render_table(table: TableDefinition) -> list[str]:
    lines = [
        f"### `metrics.{table.name}`",
        "",
        table.description,
        "",
        f"Key (one row per): {', '.join(f'`{column}`' for column in table.key_columns)}",
        "",
        "| column | name | unit | definition | formula |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| `{metric.column}` | {_markdown_cell(metric.name)} | {_markdown_cell(metric.unit)} "
        f"| {_markdown_cell(metric.definition)} | `{_markdown_cell(metric.formula)}` |"
        for metric in table.columns
    ]
    return [*lines, ""]


def render_markdown(
    glossary: tuple[TableDefinition, ...], summaries: tuple[TableDefinition, ...] = ()
) -> str:
    """docs/metrics.md: the tables grouped by family, each with its grain and column definitions; then
    the summaries pipeline's tables, written from the metrics tables after them."""
    lines = [
        "# Metric glossary",
        "",
        f"<!-- Generated from {GLOSSARY_RELATIVE_PATH.as_posix()} by "
        "`python -m thelook_ecommerce_analysis.glossary`; do not edit by hand. -->",
        "",
        "The tables of the `metrics` schema, recomputed by the Kedro pipeline `metrics` from the `raw_data` "
        "tables on every run. The same text is stored as the tables' and columns' COMMENTs in PostgreSQL.",
        "",
        "Shared rules: an item or order is **sold** unless its status is `Cancelled` (Processing, Shipped, "
        "Complete and Returned count); **GMV** is the sale price of sold items, Returned included; **net "
        "revenue** also leaves out Returned items. Days and months are UTC, taken from `orders.created_at`. "
        "Money is in USD. Ratios are stored next to their additive components: to roll a ratio up to a month "
        "or quarter, sum the components and divide.",
        "",
    ]
    families = list(dict.fromkeys(table.family for table in glossary))
    for family in families:
        lines += [f"## {family}", ""]
        for table in glossary:
            if table.family == family:
                lines += _render_table(table)
    for family in dict.fromkeys(table.family for table in summaries):
        lines += [
            f"## {family}",
            "",
            "Written by the Kedro pipeline `summaries` after the metrics, from the tables above (see "
            "[the summaries](summaries.md) for how the facts are chosen, checked and stored).",
            "",
        ]
        lines += [line for table in summaries if table.family == family for line in _render_table(table)]
    return "\n".join(lines).rstrip() + "\n"


def write_docs(root: Path | None = None) -> Path:
    """Regenerate docs/metrics.md of the project at `root` from its glossary; returns the page's path."""
    project = root or project_root()
    target = project / DOCS_RELATIVE_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    source = project / GLOSSARY_RELATIVE_PATH
    page = render_markdown(load_glossary(source), load_glossary(source, SUMMARIES_GLOSSARY_KEY))
    target.write_text(page, encoding="utf-8")
    return target


if __name__ == "__main__":
    sys.stdout.write(f"wrote {write_docs()}\n")
