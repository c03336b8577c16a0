"""`edgec inspect MODEL --check`: per-operator coverage without compiling, and its exit status."""

from __future__ import annotations

from pathlib import Path

import pass_models as pm
from test_cli import TINY, edgec

from compiler.modelbuilder import ModelBuilder


def _unsupported_model(path: Path) -> Path:
    """A supported pool, an unknown op (SHAPE, kept as a model output) and a concat of differently scaled inputs."""
    mb = ModelBuilder()
    a = mb.input("a", (1, 2, 2, 4), "int8", 0.05, 0)
    b = mb.input("b", (1, 2, 2, 4), "int8", 0.1, 0)
    p = mb.tensor("pooled", (1, 1, 1, 4), "int8", 0.05, 0)
    mb.op("MAX_POOL_2D", [a], [p], filter_size=2, stride=2)
    s = mb.tensor("shape_out", (4,), "int32")
    mb.op("SHAPE", [b], [s], out_type="int32")
    j = mb.tensor("joined", (1, 2, 2, 8), "int8", 0.05, 0)
    mb.op("CONCATENATION", [a, b], [j], axis=3)
    for t in (p, s, j):
        mb.output(t)
    return mb.save(path)


def test_check_reports_every_operator_and_fails(tmp_path: Path) -> None:
    done = edgec("inspect", str(_unsupported_model(tmp_path / "bad.tflite")), "--check")
    assert done.returncode == 3, done.stderr
    lines = done.stdout.splitlines()
    assert "operator #0 MAX_POOL_2D (output 'pooled'): supported" in lines
    assert "operator #1 SHAPE (output 'shape_out'): NOT supported: op SHAPE is not supported" in lines
    assert any(ln.startswith("operator #2 CONCATENATION (output 'joined'): NOT supported: input 'b'") for ln in lines)
    assert any(ln.startswith("1 of 3 operators supported") for ln in lines)
    assert lines[-1].startswith("supported ops: ") and "MEAN" in lines[-1]
    assert not (tmp_path / "bad").exists() and "Traceback" not in done.stderr


def test_check_passes_a_supported_model_and_counts_folded_operators(tmp_path: Path) -> None:
    done = edgec("inspect", str(TINY), "--check")
    assert done.returncode == 0 and "NOT supported" not in done.stdout
    flatten = tmp_path / "flatten.tflite"
    flatten.write_bytes(pm.flatten_chain())
    done = edgec("inspect", str(flatten), "--check")
    assert done.returncode == 0, done.stdout
    assert "1 of 1 operators supported (3 folded away by graph passes from the file's 4)" in done.stdout


def test_compile_of_an_unsupported_model_lists_each_operator_once(tmp_path: Path) -> None:
    done = edgec("compile", str(_unsupported_model(tmp_path / "bad.tflite")), "-o", str(tmp_path / "out"))
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert done.stderr.count("operator #1 SHAPE") == 1 and done.stderr.count("operator #2 CONCATENATION") == 1
    assert "operator #0" not in done.stderr and not (tmp_path / "out").exists()
