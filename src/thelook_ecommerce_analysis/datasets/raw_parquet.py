"""The raw theLook Parquet files, opened through ibis (DuckDB) after pyarrow has checked that they open.

Why a check first: a truncated or damaged file (a crashed copy, an export cut short, another format under
a .parquet name) otherwise fails inside DuckDB with its own wording and a fragment of the SQL that ibis
wrote. Reading the footer with pyarrow costs a few kilobytes and names the file and the problem in plain
words. Damage deeper in a file whose footer is intact shows only when its pages are decompressed, in the
contract check's scan; DuckDB's message then names the file itself.
"""

from __future__ import annotations

from pathlib import Path

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.backends import BaseBackend
from kedro_datasets.ibis import FileDataset

from thelook_ecommerce_analysis.datasets.spark import SPARK_BACKEND, spark_backend
from thelook_ecommerce_analysis.errors import ThelookError


def missing_file_message(path: str) -> str:
    return f"{path} is missing: put the export there, or run `thelook generate`"


def unreadable_file_message(path: str, reason: str) -> str:
    return f"{path} is not a readable Parquet file (truncated or damaged): {reason}"


def _as_shown(path: str) -> str:
    """The path as the user knows it: relative to the project (the working directory of a run) when
    it lies inside it; Kedro hands datasets absolute paths."""
    local = Path(path)
    return str(local.relative_to(Path.cwd())) if local.is_relative_to(Path.cwd()) else path


def _short_reason(error: Exception) -> str:
    """pyarrow's first sentence, e.g. 'Parquet magic bytes not found in footer'."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text.split(". ")[0].rstrip(".")


class RawParquetDataset(FileDataset):
    """kedro-datasets' ibis.FileDataset for Parquet, refusing a file that does not open with one line
    naming it. Configured exactly like ibis.FileDataset (`file_format: parquet`); with
    `connection: {backend: pyspark, ...}` the other keys are Spark properties of the session
    (`spark.master: local[*]`), which must be set before it starts, so the session is built here."""

    def _connect(self) -> BaseBackend:
        config = dict(self._connection_config)
        if config.pop("backend") == SPARK_BACKEND:
            return spark_backend(config)
        return super()._connect()

    def load(self) -> ir.Table:
        path = self._fs_prefix + str(self._get_load_path())
        shown = path if self._fs_prefix else _as_shown(path)
        try:
            pq.read_metadata(path)
        except FileNotFoundError:
            raise ThelookError(missing_file_message(shown)) from None
        except (pa.ArrowException, OSError) as error:
            raise ThelookError(unreadable_file_message(shown, _short_reason(error))) from None
        return super().load()
