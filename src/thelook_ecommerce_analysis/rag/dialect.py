"""The one PostgreSQL dialect every part of the question loop parses and renders SQL with.

Why not sqlglot's own "postgres": ibis, imported by the pipelines and the app, rewrites sqlglot's global
Postgres generator at import (`ibis/backends/sql/dialects.py`), so that `array_length(x, 1)` renders as
`cardinality(x, 1)`, a function PostgreSQL does not have. What the guard re-generates would then depend on
whether ibis happened to be imported first. This subclass pins the generator's transforms to sqlglot's
own behaviour for those functions, whatever was imported before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.postgres import Postgres


def _array_size_sql(generator: Postgres.Generator, expression: exp.ArraySize) -> str:
    """ARRAY_LENGTH(array, dimension) as written, CARDINALITY(array) when no dimension was given."""
    if expression.expression is not None:
        return generator.func("ARRAY_LENGTH", expression.this, expression.expression)
    return generator.func("CARDINALITY", expression.this)


class _IbisProofPostgres(Postgres):
    """Postgres with the generator transforms that ibis overrides restored (see the module docstring)."""

    class Generator(Postgres.Generator):
        TRANSFORMS: ClassVar[dict[type[exp.Expression], Callable[..., str]]] = {
            **{
                kind: transform
                for kind, transform in Postgres.Generator.TRANSFORMS.items()
                if kind not in (exp.ArraySize, exp.Split, exp.RegexpSplit, exp.DateFromParts, exp.Pow)
            },
            exp.ArraySize: _array_size_sql,
        }


POSTGRES = _IbisProofPostgres()
"""Pass as `read=`/`dialect=` wherever the question loop parses or renders SQL."""
