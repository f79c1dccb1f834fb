"""embeddings: retrieval documents (schema, metrics, examples, products) and their vectors."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
