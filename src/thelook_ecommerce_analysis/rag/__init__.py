"""Retrieval-augmented text-to-SQL: a library with no UI (the guard, the catalog it checks against, ...)."""
