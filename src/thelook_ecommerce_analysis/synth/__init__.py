"""A faithful, fast, deterministic generator of the theLook e-commerce tables, with as-of snapshots.

`generate(out_dir, users, seed, as_of)` writes the seven tables of one snapshot as Parquet;
`write_corrupt_variant` damages a copy of them for the pipeline's negative tests. The schema and the
distributions follow ../shared/thelook_spec.md; docs/generator.md explains the timeline.
"""

from thelook_ecommerce_analysis.synth.corrupt import CORRUPTION_KINDS, write_corrupt_variant
from thelook_ecommerce_analysis.synth.generator import effective_as_of, generate
from thelook_ecommerce_analysis.synth.rules import HORIZON, TIMELINE_START
from thelook_ecommerce_analysis.synth.schema import FOREIGN_KEYS, PRIMARY_KEYS, TABLE_SCHEMAS, TABLES

__all__ = [
    "CORRUPTION_KINDS",
    "FOREIGN_KEYS",
    "HORIZON",
    "PRIMARY_KEYS",
    "TABLES",
    "TABLE_SCHEMAS",
    "TIMELINE_START",
    "effective_as_of",
    "generate",
    "write_corrupt_variant",
]
