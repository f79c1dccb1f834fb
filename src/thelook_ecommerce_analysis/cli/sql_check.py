"""`thelook sql-check`: run the SQL guard on a statement from stdin, against the live catalog.

For people and scripts: paste what the LLM wrote and see exactly what the app would run, or why not.
"""

from __future__ import annotations

import logging
import sys

import click

from thelook_ecommerce_analysis.rag.sql_check import check_sql


@click.command("sql-check")
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="The LIMIT the guard enforces.",
)
def sql_check_command(max_rows: int) -> None:
    """Check the SQL on stdin: print the normalised query (exit 0) or why it is refused (exit 1).

    The catalog is read as the app's read-only role, so the check sees exactly the tables the app may use.
    """
    # sqlglot warns on stderr for every statement it cannot parse fully; the verdict already says so.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    sql = click.get_text_stream("stdin").read()
    result = check_sql(sql, max_rows=max_rows)
    if result.ok:
        click.echo(result.sql)
        return
    click.echo(f"refused: {result.reason}", err=True)
    for hint in result.hints:
        click.echo(f"  hint: {hint}", err=True)
    sys.exit(1)
