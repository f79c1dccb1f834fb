"""Vectorised text: turn arrays of numbers into Arrow string columns without a Python loop over rows.

Categorical text (names, cities, statuses) is an index into a small vocabulary, decoded by Arrow's
`take`; composite text (e-mails, addresses, uris, ip addresses) is joined element-wise by Arrow
compute; random identifiers (sku, session ids) are written as one byte matrix and wrapped as a string
array without copying. This keeps millions of event rows at C speed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
UUID_GROUPS = (8, 4, 4, 4, 12)
UUID_VERSION_NIBBLE = 12  # position of the "4" in xxxxxxxx-xxxx-4xxx-...
UUID_VARIANT_NIBBLE = 16  # position of the 8/9/a/b variant digit


def decode(vocabulary: Sequence[str] | pa.Array, indices: np.ndarray) -> pa.StringArray:
    """vocabulary[indices] as a string column."""
    words = vocabulary if isinstance(vocabulary, pa.Array) else pa.array(vocabulary, type=pa.string())
    return words.take(pa.array(indices))


def concatenate(*parts: pa.Array | str) -> pa.StringArray:
    """Element-wise concatenation of string columns and constant strings."""
    return pc.binary_join_element_wise(*parts, "")


def integers_as_text(values: np.ndarray) -> pa.StringArray:
    return pa.array(values).cast(pa.string())


def random_nibbles(rng: np.random.Generator, count: int, width: int) -> np.ndarray:
    """`count` x `width` random hex digits (0-15): the raw material of a sku or a uuid."""
    return rng.integers(0, 16, size=(count, width), dtype=np.uint8)


def hex_text(nibbles: np.ndarray) -> pa.StringArray:
    """Each row of nibbles as a lowercase hex string, e.g. an md5-like 32-character sku."""
    return _fixed_width_strings(HEX_DIGITS[nibbles])


def uuid_text(nibbles: np.ndarray) -> pa.StringArray:
    """Each row of 32 nibbles as a version-4 uuid string (8-4-4-4-12, with version and variant digits)."""
    digits = nibbles.copy()
    digits[:, UUID_VERSION_NIBBLE] = 4
    digits[:, UUID_VARIANT_NIBBLE] = 8 + (digits[:, UUID_VARIANT_NIBBLE] & 3)
    characters = HEX_DIGITS[digits]
    ends = np.cumsum(UUID_GROUPS)
    pieces = np.split(characters, ends[:-1], axis=1)
    dash = np.full((len(digits), 1), ord("-"), dtype=np.uint8)
    joined = [piece for group in pieces for piece in (group, dash)][:-1]
    return _fixed_width_strings(np.hstack(joined))


def _fixed_width_strings(characters: np.ndarray) -> pa.StringArray:
    """Wrap an (n, width) ASCII byte matrix as n strings of `width` characters, sharing its buffer."""
    count, width = characters.shape
    offsets = np.arange(0, (count + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(characters)
    return pa.Array.from_buffers(pa.string(), count, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
