"""Kedro datasets of thelook: PostgreSQL tables written by streaming binary COPY and a change-aware merge."""

from thelook_ecommerce_analysis.datasets.ibis_upsert_dataset import IbisUpsertDataset
from thelook_ecommerce_analysis.datasets.upsert import MERGE_STATEMENTS, UpsertResult, upsert_batches

__all__ = ["MERGE_STATEMENTS", "IbisUpsertDataset", "UpsertResult", "upsert_batches"]
