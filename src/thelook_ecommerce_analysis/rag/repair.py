"""Deterministic repairs of a failed query, tried before asking the model again.

Small models resend the very query that failed when shown the error (83 of 86 retries, STACK_NOTES), so
the loop first fixes what a catalog can fix: MySQL habits rewritten to PostgreSQL, an unknown table or
column replaced by its closest real name (same table first, then the other tables of the query, then a
table one join away along the catalog's join keys, joined in), a column qualified with the wrong alias
moved to the table that has it, and a text literal that matches no value of a categorical column
replaced by the closest real value. Models ask theLook's order_items for a product's `category` or an
order for its user's `country` as if the tables were one: the join keys say where that column lives and
how to reach it. Each repair is a pure function over the sqlglot tree that returns None when it has
nothing to change, so a valid query passes untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

import sqlglot
from sqlglot import exp

from thelook_ecommerce_analysis.rag.catalog import Catalog, TableKey, closest_name
from thelook_ecommerce_analysis.rag.dialect import POSTGRES
from thelook_ecommerce_analysis.rag.knowledge import Knowledge

LITERAL_SIMILARITY = 0.6


@dataclass(frozen=True)
class Repair:
    """One repaired query and what was changed, for the attempt log."""

    kind: str
    sql: str
    note: str


RepairStep = Callable[[exp.Expression, Catalog, Knowledge], tuple[exp.Expression, list[str]] | None]


def parse_query(sql: str) -> exp.Expression | None:
    try:
        return sqlglot.parse_one(sql, read=POSTGRES)
    except sqlglot.errors.SqlglotError:
        return None


# -- MySQL / SQLite habits ----------------------------------------------------------------------------

_DATE_FORMAT_CODES = {"%Y": "YYYY", "%y": "YY", "%m": "MM", "%d": "DD", "%H": "HH24", "%i": "MI",
                      "%s": "SS", "%M": "FMMonth", "%b": "Mon", "%W": "FMDay", "%a": "Dy"}  # fmt: skip
_DATE_PARTS = {"YEAR": "YEAR", "MONTH": "MONTH", "DAY": "DAY", "DAYOFMONTH": "DAY", "HOUR": "HOUR",
               "QUARTER": "QUARTER", "WEEK": "WEEK", "DAYOFWEEK": "DOW"}  # fmt: skip


def is_temporal(node: exp.Expression, catalog: Catalog, tables: dict[str, TableKey]) -> bool:
    """Is `node` a date or timestamp column of one of `tables` (alias -> table)?"""
    if not isinstance(node, exp.Column):
        return False
    candidates = [tables[node.table]] if node.table in tables else list(tables.values())
    for key in candidates:
        for column in catalog.columns_of(key):
            if column.name == node.name and ("timestamp" in column.type or column.type == "date"):
                return True
    return False


def rewrite_mysql_habits(
    tree: exp.Expression, catalog: Catalog, knowledge: Knowledge
) -> tuple[exp.Expression, list[str]] | None:
    """YEAR(x), MONTH(x)... -> EXTRACT(... FROM x); DATE_FORMAT(x, '%Y-%m') -> to_char(x, 'YYYY-MM');
    `timestamp LIKE '2024%'` -> to_char(timestamp, 'YYYY-MM-DD HH24:MI:SS') LIKE '2024%';
    date_trunc('year', '2024-01-01') -> date_trunc('year', CAST('2024-01-01' AS TIMESTAMP))."""
    notes: list[str] = []
    tables = query_tables(tree, catalog)

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous | exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).upper()
            arguments = list(node.expressions) if isinstance(node, exp.Anonymous) else [node.this]
            if name in _DATE_PARTS and len(arguments) == 1 and arguments[0] is not None:
                notes.append(f"{name}(x) -> EXTRACT({_DATE_PARTS[name]} FROM x)")
                return exp.Extract(this=exp.var(_DATE_PARTS[name]), expression=arguments[0].copy())
        if (
            isinstance(node, exp.Anonymous)
            and node.name.upper() == "DATE_FORMAT"
            and len(node.expressions) == 2
        ):
            value, pattern = node.expressions
            if isinstance(pattern, exp.Literal) and pattern.is_string:
                translated = pattern.this
                for code, replacement in _DATE_FORMAT_CODES.items():
                    translated = translated.replace(code, replacement)
                notes.append(f"DATE_FORMAT(x, '{pattern.this}') -> to_char(x, '{translated}')")
                return exp.func("to_char", value.copy(), exp.Literal.string(translated))
        if (
            isinstance(node, exp.TimestampTrunc | exp.DateTrunc)
            and isinstance(node.this, exp.Literal)
            and node.this.is_string
        ):
            # PostgreSQL cannot choose among date_trunc's overloads for an untyped text literal
            notes.append(f"date_trunc(..., '{node.this.this}') -> the literal typed as a timestamp")
            typed = node.copy()
            typed.set("this", exp.cast(node.this.copy(), "TIMESTAMP"))
            return typed
        if isinstance(node, exp.Like) and is_temporal(node.this, catalog, tables):
            notes.append(f"{node.this.sql(POSTGRES)} LIKE ... compared as text")
            text = exp.func("to_char", node.this.copy(), exp.Literal.string("YYYY-MM-DD HH24:MI:SS"))
            return exp.Like(this=text, expression=node.expression.copy())
        return node

    rewritten = tree.copy().transform(rewrite)
    return (rewritten, notes) if notes else None


def rewrite_backticks(sql: str) -> str | None:
    """MySQL's `quoted` identifiers, read as MySQL and written as PostgreSQL."""
    if "`" not in sql:
        return None
    try:
        return sqlglot.transpile(sql, read="mysql", write=POSTGRES)[0]
    except sqlglot.errors.SqlglotError:
        return None


# -- unknown names ------------------------------------------------------------------------------------


def query_tables(tree: exp.Expression, catalog: Catalog) -> dict[str, TableKey]:
    """alias (or table name) -> catalog table, for the real tables the query reads."""
    mapping: dict[str, TableKey] = {}
    for table in tree.find_all(exp.Table):
        key = catalog.resolve_table(table.name, table.db or None)
        if key is not None:
            mapping[table.alias_or_name] = key
    return mapping


def _defined_names(tree: exp.Expression) -> set[str]:
    """Names a query defines itself (select aliases, CTE and subquery names and their columns): a
    column with such a name is not a catalog column and must not be 'repaired'."""
    names = {alias.alias for alias in tree.find_all(exp.Alias)}
    names |= {cte.alias for cte in tree.find_all(exp.CTE)}
    names |= {subquery.alias for subquery in tree.find_all(exp.Subquery) if subquery.alias}
    for alias in tree.find_all(exp.TableAlias):
        names |= {column.name for column in alias.columns}
    return names


def fix_unknown_tables(
    tree: exp.Expression, catalog: Catalog, knowledge: Knowledge
) -> tuple[exp.Expression, list[str]] | None:
    """A table missing from the catalog replaced by the closest real one ('order_item' -> order_items)."""
    notes: list[str] = []
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    repaired = tree.copy()
    for table in repaired.find_all(exp.Table):
        if table.name in ctes or catalog.resolve_table(table.name, table.db or None) is not None:
            continue
        closest = catalog.closest_table(table.name)
        if closest is None:
            continue
        notes.append(f"table {table.sql(POSTGRES)} -> {closest[0]}.{closest[1]}")
        alias = table.alias
        replacement = exp.table_(closest[1], db=closest[0], alias=alias or None)
        if not alias and table.name != closest[1]:
            replacement.set("alias", exp.TableAlias(this=exp.to_identifier(table.name, quoted=True)))
        table.replace(replacement)
    return (repaired, notes) if notes else None


def fix_unknown_columns(
    tree: exp.Expression, catalog: Catalog, knowledge: Knowledge
) -> tuple[exp.Expression, list[str]] | None:
    """A column its table does not have: moved to the query's table that has it (wrong alias), else
    renamed to the closest real column of the same table, then of the other tables in the query, else
    found on a table the query does not read but one catalog join key away from a table of the column's
    SELECT, which is then joined into that SELECT (`order_items.category` -> products.category, joined on
    order_items.product_id = products.id). The join follows a key that exists, never a guess, and prefers
    the many-to-one direction, which adds a column without multiplying the rows being counted."""
    repaired = tree.copy()
    tables = query_tables(repaired, catalog)
    if not tables:
        return None
    defined = _defined_names(repaired)
    aliases = {table.alias_or_name for table in repaired.find_all(exp.Table)} | defined
    notes: list[str] = []
    for column in list(repaired.find_all(exp.Column)):
        if isinstance(column.this, exp.Star) or (column.name in defined and not column.table):
            continue
        own = tables.get(column.table) if column.table else None
        if column.table and own is None:
            if column.table in defined or catalog.resolve_table(column.table) is None:
                continue  # qualified by a CTE or subquery alias: not ours to judge
            # qualified by a real table the query does not read: move it to a query table that has it
            holders = [alias for alias, key in tables.items() if column.name in catalog.column_names(key)]
            if holders:
                notes.append(
                    f"{column.table}.{column.name} -> {holders[0]}.{column.name} (table not in FROM)"
                )
                column.set("table", exp.to_identifier(holders[0]))
            continue
        if not column.table and (note := _qualify_ambiguous(column, catalog)):
            notes.append(note)
            continue
        searched = [own] if own else list(tables.values())
        if any(column.name in catalog.column_names(key) for key in searched):
            continue
        holders = [alias for alias, key in tables.items() if column.name in catalog.column_names(key)]
        if own and holders:
            notes.append(f"{column.table}.{column.name} -> {holders[0]}.{column.name} (wrong table)")
            column.set("table", exp.to_identifier(holders[0]))
            continue
        order = [own] if own else []
        order += [key for key in tables.values() if key not in order]
        for key in order:
            if closest := _real_column_for(column.name, key, catalog):
                qualifier = column.table or ""
                notes.append(f"{qualifier + '.' if qualifier else ''}{column.name} -> {closest}")
                column.set("this", exp.to_identifier(closest))
                break
        else:
            if note := _join_column(column, set(tables.values()), aliases, catalog):
                notes.append(note)
    return (repaired, notes) if notes else None


def _qualify_ambiguous(column: exp.Column, catalog: Catalog) -> str | None:
    """An unqualified column that two tables of its SELECT both have is ambiguous to PostgreSQL; the model
    did not care which, and joined tables mostly agree on shared columns: the first table's is taken."""
    select = column.find_ancestor(exp.Select)
    if select is None:
        return None
    local = select_tables(select, catalog)
    holders = [alias for alias, key in local.items() if column.name in catalog.column_names(key)]
    merged = {
        identifier.name
        for join in select.args.get("joins") or []
        for identifier in join.args.get("using") or []
    }
    if (
        len(holders) < 2
        or column.name in merged
        or any(join.args.get("kind") == "NATURAL" for join in select.args.get("joins") or [])
    ):
        return None
    column.set("table", exp.to_identifier(holders[0]))
    return f"{column.name} -> {holders[0]}.{column.name} (ambiguous: in {', '.join(holders)})"


@dataclass(frozen=True)
class _Hop:
    """One join key followed from a table the SELECT reads (`source`, its alias there) to `target`, a
    table it does not, and the real column of `target` the unknown name stands for."""

    source: str
    target: TableKey
    pairs: tuple[tuple[str, str], ...]
    column: str


def select_tables(select: exp.Select, catalog: Catalog) -> dict[str, TableKey]:
    """alias -> catalog table for the tables this SELECT itself reads (its FROM and JOINs): a join added to
    it can refer to these and to no table of an inner or outer query."""
    mapping: dict[str, TableKey] = {}
    for table in select.find_all(exp.Table):
        key = catalog.resolve_table(table.name, table.db or None)
        if key is not None and table.parent_select is select:
            mapping[table.alias_or_name] = key
    return mapping


def _hop_for(
    column: exp.Column, sources: dict[str, TableKey], read: set[TableKey], catalog: Catalog
) -> _Hop | None:
    """The best one-join route to a table that has `column`: from the column's own table first, then to
    the same schema, many-to-one (the source holds the key) before one-to-many, the exact name before a
    repaired one, then catalog order. Tables the query already reads are skipped: had they the column,
    the earlier rules would have found it. The lone-date rule is not used here, since any table's
    `created_at` would do for it and the join would answer a different question."""
    ranked: list[tuple[tuple[bool, bool, bool, bool, int], _Hop]] = []
    for alias, table in sources.items():
        for index, key in enumerate(catalog.join_keys):
            pairs = tuple(zip(key.columns, key.referenced_columns, strict=True))
            if key.table == table:
                target, many_to_one = key.references, True
            elif key.references == table:
                target, many_to_one = key.table, False
                pairs = tuple((pk, fk) for fk, pk in pairs)
            else:
                continue
            if target in read:
                continue
            exact = column.name in catalog.column_names(target)
            real = column.name if exact else _real_column_for(column.name, target, catalog, dates=False)
            if real is None:
                continue
            rank = (alias != column.table, target[0] != table[0], not many_to_one, not exact, index)
            ranked.append((rank, _Hop(alias, target, pairs, real)))
    return min(ranked, key=lambda entry: entry[0])[1] if ranked else None


def _join_column(column: exp.Column, read: set[TableKey], aliases: set[str], catalog: Catalog) -> str | None:
    """Join the table `column` was found on into the column's SELECT (once per SELECT and table, however
    many columns need it) and point the column at it; the note says what was joined, or None."""
    select = column.find_ancestor(exp.Select)
    if select is None:
        return None
    sources = select_tables(select, catalog)
    if column.table and column.table not in sources:
        return None
    hop = _hop_for(column, sources, read, catalog)
    if hop is None:
        return None
    schema, name = hop.target
    joined = next(
        (
            join.this.alias_or_name
            for join in select.args.get("joins") or []
            if isinstance(join.this, exp.Table)
            and catalog.resolve_table(join.this.name, join.this.db or None) == hop.target
        ),
        None,
    )
    original = column.sql(dialect=POSTGRES)
    if joined is None:
        joined = _fresh_alias(name, aliases)
        aliases.add(joined)
        on = [exp.column(fk, table=hop.source).eq(exp.column(pk, table=joined)) for fk, pk in hop.pairs]
        select.join(exp.table_(name, db=schema, alias=joined), on=exp.and_(*on), copy=False)
        how = f"joined {schema}.{name} on {' AND '.join(part.sql(dialect=POSTGRES) for part in on)}"
    else:
        how = f"{schema}.{name} joined above"
    column.replace(exp.column(hop.column, table=joined))
    return f"{original} -> {joined}.{hop.column} ({how})"


def _fresh_alias(name: str, taken: set[str]) -> str:
    """`name`, else `name_2`, `name_3`...: the first not `taken`, so the alias still reads as the table."""
    alias, number = name, 1
    while alias in taken:
        number += 1
        alias = f"{name}_{number}"
    return alias


_DATE_WORDS = {"date", "day", "time", "created", "month", "year", "at"}
"""Words (whole parts of a snake_case name) that make a name date-like: `created_at`, not `lifetime_gmv`."""


def _real_column_for(name: str, table: TableKey, catalog: Catalog, *, dates: bool = True) -> str | None:
    """The real column of `table` an unknown `name` stands for: the closest spelling; else the name without
    the table's own prefix (`product_name` on products -> `name`); else the table's only column ending in
    `_<name>`, since denormalised copies are named that way (`category` on inventory_items ->
    `product_category`); else, for a date-like name and when `dates` allows, the table's only date or
    timestamp column (`created_at` on a table whose one date is `cohort_month`)."""
    columns = catalog.columns_of(table)
    names = [column.name for column in columns]
    if closest := closest_name(name, names):
        return closest
    singular = table[1].removesuffix("s")
    for prefix in (f"{singular}_", f"{table[1]}_"):
        if name.startswith(prefix) and name.removeprefix(prefix) in names:
            return name.removeprefix(prefix)
    suffixed = [candidate for candidate in names if candidate.endswith(f"_{name}")]
    if len(suffixed) == 1:
        return suffixed[0]
    date_columns = [column.name for column in columns if column.type == "date" or "timestamp" in column.type]
    if dates and len(date_columns) == 1 and _DATE_WORDS & set(name.lower().split("_")):
        return date_columns[0]
    return None


# -- categorical literals -----------------------------------------------------------------------------


def closest_value(literal: str, values: tuple[str, ...]) -> str | None:
    """The real value a literal most likely means: same text in another case, a prefix either way
    ('completed' -> 'Complete', 'female' -> 'F', 'cancel' -> 'Cancelled'), else a close spelling."""
    lowered = literal.strip().lower()
    for value in values:
        if value.lower() == lowered:
            return value
    prefixed = [
        value for value in values if lowered.startswith(value.lower()) or value.lower().startswith(lowered)
    ]
    if prefixed and lowered:
        return max(prefixed, key=len)
    scored = [(SequenceMatcher(None, lowered, value.lower()).ratio(), value) for value in values]
    best = max(scored, default=(0.0, None))
    return best[1] if best[0] >= LITERAL_SIMILARITY else None


def fix_literals(
    tree: exp.Expression, catalog: Catalog, knowledge: Knowledge
) -> tuple[exp.Expression, list[str]] | None:
    """`status = 'completed'` -> `status = 'Complete'`, also in IN lists and <>: a literal compared with a
    categorical column must be one of its real values. A literal that is no value of its column, nor close
    to one, but exactly a value of another categorical column of the same table moves there
    (`department = 'Jeans'` -> `category = 'Jeans'`): the model named the value right and the column wrong."""
    repaired = tree.copy()
    tables = query_tables(repaired, catalog)
    notes: list[str] = []

    def table_of(column: exp.Column) -> tuple[str, str] | None:
        keys = [tables[column.table]] if column.table in tables else list(tables.values())
        return next((key for key in keys if (*key, column.name) in knowledge.values), None)

    def column_holding(literal: str, table: tuple[str, str], column: exp.Column) -> str | None:
        """The one other categorical column of `table` that holds `literal` exactly (case aside)."""
        holders = [
            name
            for (*key, name), values in knowledge.values.items()
            if tuple(key) == table and name != column.name and literal.lower() in {v.lower() for v in values}
        ]
        return holders[0] if len(holders) == 1 else None

    def fix(comparison: exp.Expression, literal: exp.Expression, column: exp.Column, table) -> None:
        values = knowledge.values[(*table, column.name)]
        if not (isinstance(literal, exp.Literal) and literal.is_string) or literal.this in values:
            return
        if (better := closest_value(literal.this, values)) is not None:
            notes.append(f"'{literal.this}' -> '{better}'")
            literal.replace(exp.Literal.string(better))
        elif not isinstance(comparison, exp.In) and (holder := column_holding(literal.this, table, column)):
            spelled = next(v for v in knowledge.values[(*table, holder)] if v.lower() == literal.this.lower())
            notes.append(
                f"{column.name} = '{literal.this}' -> {holder} = '{spelled}' "
                f"('{spelled}' is a {holder}, not a {column.name})"
            )
            column.replace(exp.column(holder, table=column.table or None))
            literal.replace(exp.Literal.string(spelled))

    for comparison in list(repaired.find_all(exp.EQ, exp.NEQ, exp.In)):
        column = comparison.this
        if not isinstance(column, exp.Column) or (table := table_of(column)) is None:
            continue
        targets = comparison.expressions if isinstance(comparison, exp.In) else [comparison.expression]
        for literal in list(targets):
            fix(comparison, literal, column, table)
    return (repaired, notes) if notes else None


def swap_to_named_table(
    tree: exp.Expression, catalog: Catalog, knowledge: Knowledge
) -> tuple[exp.Expression, list[str]] | None:
    """`SELECT count(users.id) FROM metrics.acquisition_source_monthly`: a column qualified by a real table
    the query does not read, which holds every column the query asks of its one table. The model named the
    table it meant in the qualifier and wrote another in FROM: read the named one."""
    return _swap_tables(tree, catalog, named_only=True)


def swap_to_table_with_columns(
    tree: exp.Expression, catalog: Catalog, knowledge: Knowledge
) -> tuple[exp.Expression, list[str]] | None:
    """A one-table query whose table lacks columns it uses, when exactly one other table (in the same
    schema, else anywhere) holds all of them: `SELECT sum(gmv) FROM metrics.buyers_new_vs_returning_monthly
    WHERE country = 'China'` -> metrics.sales_daily_by_country. Tried after the column repairs, so a typo
    or a join is preferred to a different table."""
    return _swap_tables(tree, catalog, named_only=False)


def _swap_tables(tree: exp.Expression, catalog: Catalog, *, named_only: bool):
    repaired = tree.copy()
    defined = _defined_names(repaired)
    notes: list[str] = []
    for select in list(repaired.find_all(exp.Select)):
        tables = select_tables(select, catalog)
        source = select.args.get("from_")
        if len(tables) != 1 or select.args.get("joins") or source is None:
            continue
        if not isinstance(source.this, exp.Table):
            continue
        alias, key = next(iter(tables.items()))
        columns = [c for c in select.find_all(exp.Column) if c.find_ancestor(exp.Select) is select]
        columns = [c for c in columns if not isinstance(c.this, exp.Star)]
        named = {
            resolved
            for column in columns
            if column.table
            and column.table != alias
            and (resolved := catalog.resolve_table(column.table)) is not None
        }
        mine = [c for c in columns if c.table in ("", alias) or catalog.resolve_table(c.table) in named]
        needed = {column.name for column in mine if column.table or column.name not in defined}
        if not needed or needed <= set(catalog.column_names(key)) or (named_only and not named):
            continue
        known = needed & set(catalog.column_names(key))
        spellings = {
            table: _spellings(needed, known, catalog.column_names(table))
            for table in catalog.tables
            if table != key and table[0] != "embeddings" and not table[1].startswith("etl_")
        }
        holders = [table for table, spelled in spellings.items() if spelled is not None]
        chosen = (
            _one_of([table for table in holders if table in named])
            if named_only
            else (_one_of([table for table in holders if table[0] == key[0]]) or _one_of(holders))
        )
        if chosen is None:
            continue
        new_name = source.this.alias or chosen[1]
        source.this.replace(exp.table_(chosen[1], db=chosen[0], alias=source.this.alias or None))
        renamed = {wrong: real for wrong, real in spellings[chosen].items() if wrong != real}
        for column in mine:
            if column.table:
                column.set("table", exp.to_identifier(new_name))
            if column.name in renamed:
                column.set("this", exp.to_identifier(renamed[column.name]))
        has = ", ".join(sorted(spellings[chosen].values()))
        respelled = "".join(f"; {wrong} -> {real}" for wrong, real in sorted(renamed.items()))
        notes.append(f"{key[0]}.{key[1]} -> {chosen[0]}.{chosen[1]} (it has {has}){respelled}")
    return (repaired, notes) if notes else None


def _spellings(needed: set[str], known: set[str], columns: Iterable[str]) -> dict[str, str] | None:
    """How a table spells each needed column, or None when it lacks one: the columns the old table has
    must be there as they are; those it lacks may be near matches ('product_category' -> 'category')."""
    present = set(columns)
    spelled = {}
    for name in needed:
        real = name if name in present else (None if name in known else closest_name(name, present))
        if real is None:
            return None
        spelled[name] = real
    return spelled


def _one_of(tables: list[TableKey]) -> TableKey | None:
    return tables[0] if len(tables) == 1 else None


def drop_aggregates_from_grouping(
    tree: exp.Expression, catalog: Catalog, knowledge: Knowledge
) -> tuple[exp.Expression, list[str]] | None:
    """`SELECT sum(x) AS total ... GROUP BY 1` (or `GROUP BY total`): PostgreSQL refuses an aggregate in
    GROUP BY; grouping by what is being added up never meant anything, so that item goes."""
    repaired = tree.copy()
    notes: list[str] = []
    for select in list(repaired.find_all(exp.Select)):
        group = select.args.get("group")
        if group is None:
            continue
        kept = [item for item in group.expressions if not _groups_an_aggregate(item, select.expressions)]
        if len(kept) == len(group.expressions):
            continue
        notes.append(
            f"GROUP BY {', '.join(i.sql(POSTGRES) for i in group.expressions if i not in kept)} dropped"
        )
        select.set("group", exp.Group(expressions=kept) if kept else None)
    return (repaired, notes) if notes else None


def _groups_an_aggregate(item: exp.Expression, outputs: list[exp.Expression]) -> bool:
    """Is this GROUP BY item a position or an alias of an output that aggregates?"""
    if isinstance(item, exp.Literal) and item.is_int and 1 <= int(item.this) <= len(outputs):
        return outputs[int(item.this) - 1].find(exp.AggFunc) is not None
    aggregates = {output.alias for output in outputs if output.alias and output.find(exp.AggFunc)}
    return isinstance(item, exp.Column) and not item.table and item.name in aggregates


STEPS: tuple[tuple[str, RepairStep], ...] = (
    ("dialect", rewrite_mysql_habits),
    ("table", fix_unknown_tables),
    ("swap-table", swap_to_named_table),
    ("column", fix_unknown_columns),
    ("swap-table", swap_to_table_with_columns),
    ("grouping", drop_aggregates_from_grouping),
)


def repair_literals(sql: str, catalog: Catalog, knowledge: Knowledge) -> Repair | None:
    """The literal repair alone: run on every query before it executes, since a value that matches no
    real one makes a query that runs and silently finds nothing."""
    tree = parse_query(sql)
    outcome = fix_literals(tree, catalog, knowledge) if tree is not None else None
    if outcome is None:
        return None
    repaired, notes = outcome
    return Repair("literal", repaired.sql(dialect=POSTGRES), "; ".join(notes))


def repair_sql(sql: str, catalog: Catalog, knowledge: Knowledge) -> list[Repair]:
    """Cumulative repairs of `sql`, in order: each entry applies one more kind of fix to the previous
    one, so the loop can stop at the first that passes. Empty when nothing can be repaired."""
    repairs: list[Repair] = []
    if (transpiled := rewrite_backticks(sql)) is not None:
        repairs.append(Repair("dialect", transpiled, "MySQL backtick quotes -> PostgreSQL"))
        sql = transpiled
    tree = parse_query(sql)
    if tree is None:
        return repairs
    for kind, step in STEPS:
        outcome = step(tree, catalog, knowledge)
        if outcome is None:
            continue
        tree, notes = outcome
        repairs.append(Repair(kind, tree.sql(dialect=POSTGRES), "; ".join(notes)))
    return repairs
