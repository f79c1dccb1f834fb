"""One seed, one data set: regenerating gives identical tables; another seed gives other data."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.synth.conftest import HORIZON_SEED, HORIZON_USERS, TABLES
from thelook_ecommerce_analysis.synth import HORIZON, generate

SMALL = 500


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory, horizon_dir: Path) -> Path:
    folder = tmp_path_factory.mktemp("again")
    rows = generate(folder, users=HORIZON_USERS, seed=HORIZON_SEED, as_of=HORIZON, progress=False)
    assert rows == {table: pq.read_metadata(horizon_dir / f"{table}.parquet").num_rows for table in TABLES}
    return folder


@pytest.mark.parametrize("table", TABLES)
def test_same_seed_gives_identical_tables(horizon_dir: Path, regenerated: Path, table: str) -> None:
    assert pq.read_table(regenerated / f"{table}.parquet").equals(
        pq.read_table(horizon_dir / f"{table}.parquet")
    )


def test_another_seed_gives_other_data(tmp_path: Path, horizon_dir: Path) -> None:
    generate(tmp_path, users=HORIZON_USERS, seed=HORIZON_SEED + 1, as_of=HORIZON, progress=False)
    for table in ("products", "users", "events"):
        other = pq.read_table(tmp_path / f"{table}.parquet")
        ours = pq.read_table(horizon_dir / f"{table}.parquet")
        assert not other.equals(ours), table


def test_the_catalogue_does_not_depend_on_the_number_of_users(tmp_path: Path, horizon_dir: Path) -> None:
    rows = generate(tmp_path, users=SMALL, seed=HORIZON_SEED, as_of=HORIZON, progress=False)
    assert rows["users"] == SMALL
    for table in ("products", "distribution_centers"):
        assert pq.read_table(tmp_path / f"{table}.parquet").equals(
            pq.read_table(horizon_dir / f"{table}.parquet")
        )


def test_no_temporary_files_are_left_behind(horizon_dir: Path) -> None:
    assert sorted(path.name for path in horizon_dir.iterdir()) == sorted(
        f"{table}.parquet" for table in TABLES
    )
