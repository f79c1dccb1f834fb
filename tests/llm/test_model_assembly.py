"""Joining the model's byte chunks: verified by sha256, never left half-written, not redone needlessly.

Small real files stand in for the 491 MB parts (the real ones are joined in test_local_model.py)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.llm.local_server import (
    BUNDLED_MODELS,
    BUNDLED_VARIABLE,
    DEFAULT_BUNDLED,
    QWEN_CODER_05B,
    QWEN_CODER_15B,
    assemble_verified,
    bundled_model,
    bundled_part_paths,
    is_verified,
    prepare_model,
)

CHUNKS = [b"GGUF" + bytes(range(256)) * 3, b"middle" * 500, b"tail"]
WHOLE = b"".join(CHUNKS)
SHA = hashlib.sha256(WHOLE).hexdigest()


@pytest.fixture
def parts(tmp_path: Path) -> list[Path]:
    paths = []
    for number, chunk in enumerate(CHUNKS, start=1):
        path = tmp_path / f"part{number:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths


def test_parts_are_joined_in_order_and_verified(parts: list[Path], tmp_path: Path) -> None:
    target = tmp_path / "models" / "model.gguf"
    assert assemble_verified(target, parts, len(WHOLE), SHA) is True
    assert target.read_bytes() == WHOLE
    assert is_verified(target, len(WHOLE), SHA)


def test_verified_file_is_reused_not_rebuilt(parts: list[Path], tmp_path: Path) -> None:
    target = tmp_path / "model.gguf"
    assemble_verified(target, parts, len(WHOLE), SHA)
    before = target.stat().st_mtime_ns
    assert assemble_verified(target, parts, len(WHOLE), SHA) is False
    assert target.stat().st_mtime_ns == before


def test_a_changed_file_loses_its_marker_and_is_rebuilt(parts: list[Path], tmp_path: Path) -> None:
    target = tmp_path / "model.gguf"
    assemble_verified(target, parts, len(WHOLE), SHA)
    target.write_bytes(b"X" * len(WHOLE))  # same size, other bytes, new mtime
    os.utime(target, ns=(1, 1))
    assert not is_verified(target, len(WHOLE), SHA)
    assert assemble_verified(target, parts, len(WHOLE), SHA) is True
    assert target.read_bytes() == WHOLE


def test_hash_mismatch_is_one_clear_error_and_leaves_no_file(parts: list[Path], tmp_path: Path) -> None:
    target = tmp_path / "model.gguf"
    with pytest.raises(ThelookError, match=r"corrupt .*it was removed: reinstall the model packages"):
        assemble_verified(target, parts, len(WHOLE), "0" * 64)
    assert list(tmp_path.glob("model.gguf*")) == []


def test_size_mismatch_is_caught_too(parts: list[Path], tmp_path: Path) -> None:
    with pytest.raises(ThelookError, match=f"size {len(WHOLE):,} bytes"):
        assemble_verified(tmp_path / "model.gguf", parts, len(WHOLE) + 1, SHA)


@pytest.mark.parametrize(("name", "parts"), [("0.5b", 6), ("1.5b", 22)])
def test_installed_parts_have_the_pinned_total_size(name: str, parts: int) -> None:
    model = BUNDLED_MODELS[name]
    paths = bundled_part_paths(model)
    assert len(paths) == parts
    assert sum(path.stat().st_size for path in paths) == model.size
    with paths[0].open("rb") as first:
        assert first.read(4) == b"GGUF"


def test_the_bundled_model_is_chosen_by_name_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BUNDLED_VARIABLE, raising=False)
    assert bundled_model() is BUNDLED_MODELS[DEFAULT_BUNDLED]
    monkeypatch.setenv(BUNDLED_VARIABLE, "0.5B")
    assert bundled_model() is QWEN_CODER_05B
    assert bundled_model("1.5b") is QWEN_CODER_15B
    monkeypatch.setenv(BUNDLED_VARIABLE, "7b")
    with pytest.raises(
        ThelookError, match=r"THELOOK_LLM_BUNDLED='7b' names no bundled model: choose one of 0.5b, 1.5b"
    ):
        bundled_model()


def test_another_gguf_is_served_as_it_is(tmp_path: Path) -> None:
    own = tmp_path / "my-sqlcoder.gguf"
    own.write_bytes(b"GGUF")
    assert prepare_model(own, announce=lambda line: None) == own
    assert not any(tmp_path.glob("*.verified.json"))


def test_missing_own_gguf_says_which_setting_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ThelookError, match=r"no GGUF model at .*missing\.gguf: fix --model-path"):
        prepare_model(tmp_path / "missing.gguf")
