"""metrics: the business metric tables of the `metrics` schema, recomputed with ibis from raw_data.*."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
