"""summaries: what happened in the latest days, week and month, in words, in metrics.daily_summaries."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
