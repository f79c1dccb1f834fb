"""data_processing: theLook Parquet files -> validated, cleaned, incremental raw_data.* tables."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
