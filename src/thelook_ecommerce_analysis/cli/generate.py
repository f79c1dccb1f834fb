"""`thelook generate`: write a theLook snapshot (optionally damaged) into the raw-data folder.

The `thelook` group (cli/__init__.py) loads it when it runs and turns ThelookError into one line; the
command itself only validates, calls the generator (synth/) and reports.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import click

from thelook_ecommerce_analysis.synth.corrupt import CORRUPTION_KINDS, write_corrupt_variant
from thelook_ecommerce_analysis.synth.generator import (
    DEFAULT_SEED,
    DEFAULT_USERS,
    check_size,
    effective_as_of,
    generate,
)
from thelook_ecommerce_analysis.synth.rules import HORIZON
from thelook_ecommerce_analysis.synth.schema import TABLES


@click.command("generate")
@click.option(
    "--users", type=int, default=DEFAULT_USERS, show_default=True, help="Sign-ups up to the horizon."
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="One seed, one timeline.")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help=f"Snapshot date YYYY-MM-DD: what existed by the end of that day [default: today, at most {HORIZON}]",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder [default: the project's data/01_raw].",
)
@click.option(
    "--corrupt",
    type=click.Choice(CORRUPTION_KINDS),
    default=None,
    help="Damage one table afterwards, for testing the pipeline's checks.",
)
@click.option(
    "--table",
    type=click.Choice(TABLES),
    default="order_items",
    show_default=True,
    help="The table --corrupt damages.",
)
def generate_command(
    *, users: int, seed: int, as_of: datetime | None, out_dir: Path | None, corrupt: str | None, table: str
) -> None:
    """Generate the seven theLook tables as Parquet, one snapshot of a seeded timeline."""
    check_size(users, seed)
    day: date = effective_as_of(as_of.date() if as_of else None)
    if out_dir is None:
        from thelook_ecommerce_analysis.config import paths

        out_dir = paths().raw_data
    click.echo(
        f"generating theLook data: {users:,} users, seed {seed}, as of {day.isoformat()} into {out_dir}"
    )
    started = time.perf_counter()
    rows = generate(out_dir, users=users, seed=seed, as_of=day, progress=True)
    for name, count in rows.items():
        click.echo(f"  {name:<22}{count:>12,} rows")
    if corrupt:
        damaged = write_corrupt_variant(out_dir, out_dir, corrupt, table)
        click.echo(f"corrupted {damaged.name}: {corrupt}")
    click.echo(f"done in {time.perf_counter() - started:.1f} s")
