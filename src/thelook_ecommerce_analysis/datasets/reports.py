"""What a dataset that writes tells the run log: the rows its last save wrote or quarantined.

The run-log hook finds each saved dataset through the catalog and asks any that implements this protocol,
instead of probing attributes, so a new writing dataset joins the counts by implementing one method.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class WriteCounts:
    inserted: int = 0
    updated: int = 0
    quarantined: int = 0


@runtime_checkable
class ReportsWrites(Protocol):
    def last_write(self) -> WriteCounts:
        """The rows the last save of this dataset object wrote (zeros before any save)."""
        ...
