"""Quantized float models run in the reference interpreter and compile bit-identically; the CLI's quantize."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import mlperf_model
from e2e import assert_bit_identical, build_model
from float_models import calibration, conv_batchnorm, small_cnn

from compiler.frontend import read_tflite
from compiler.quantize import QuantizeOptions, quantize
from compiler.quantize.evaluate import evaluate

FLOAT_MLPERF = ["ad_fcae_float", "kws_dscnn_float", "resnet8_float", "vww_mbv1_float"]


def _quantized_types(model: bytes) -> set[str]:
    return {read_tflite(model).tensor(i).dtype for op in read_tflite(model).operators for i in op.inputs if i >= 0}


@pytest.mark.parametrize("options", [
    QuantizeOptions(show_progress=False),
    QuantizeOptions(method="minmax", show_progress=False),
    QuantizeOptions(method="kl", per_channel=False, show_progress=False),
    QuantizeOptions(method="mse", bias_correction=True, equalize=True, show_progress=False),
], ids=["default-mse-per-channel", "minmax-per-channel", "kl-per-tensor", "mse-repairs"])
def test_small_cnn_quantizes_and_compiles_bit_identically(options: QuantizeOptions, tmp_path: Path) -> None:
    float_model = small_cnn()
    q = quantize(float_model, calibration((1, 8, 8, 3), 64), options)
    assert _quantized_types(q.tflite) <= {"int8", "int32"}
    built = build_model(q.tflite, "host", tmp_path, sanitize=True)
    assert_bit_identical(q.tflite, built, range(2))


def test_batchnorm_graph_is_folded_then_compiles(tmp_path: Path) -> None:
    q = quantize(conv_batchnorm(), calibration((1, 6, 6, 2), 32), QuantizeOptions(show_progress=False))
    assert [op.op for op in read_tflite(q.tflite).operators] == ["CONV_2D", "RESHAPE", "FULLY_CONNECTED"]
    assert_bit_identical(q.tflite, build_model(q.tflite, "host", tmp_path), range(1))


def test_int8_model_tracks_the_float_model() -> None:
    float_model = small_cnn()
    q = quantize(float_model, calibration((1, 8, 8, 3), 128), QuantizeOptions(show_progress=False))
    report = evaluate(q.model, q.tflite, calibration((1, 8, 8, 3), 64, seed=9), show_progress=False)
    assert report.output_sqnr_db > 25.0
    assert report.top1_agreement >= 0.9
    assert len(report.layers) == len(read_tflite(float_model).operators)


def test_weight_only_int8_constants_of_a_float_model_are_dequantized() -> None:
    """KWS's float model stores its convolution weights as int8 with a scale (weight-only quantization)."""
    path = mlperf_model("kws_dscnn_float")
    graph = read_tflite(path)
    assert any(t.dtype == "int8" and t.is_constant for t in graph.tensors)
    q = quantize(path, np.random.default_rng(0).normal(0, 1, (8, 49, 10, 1)).astype(np.float32),
                 QuantizeOptions(show_progress=False))
    assert _quantized_types(q.tflite) <= {"int8", "int32"}


@pytest.mark.slow
@pytest.mark.mlperf
@pytest.mark.parametrize("name", FLOAT_MLPERF)
def test_mlperf_float_models_quantize_and_compile_bit_identically(name: str, tmp_path: Path) -> None:
    path = mlperf_model(name)
    shape = read_tflite(path).tensor(read_tflite(path).inputs[0]).shape
    q = quantize(path, np.random.default_rng(0).normal(0, 0.5, (16, *shape[1:])).astype(np.float32),
                 QuantizeOptions(show_progress=False))
    assert_bit_identical(q.tflite, build_model(q.tflite, "host", tmp_path, sanitize=True), range(1))


def edgec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], check=False, capture_output=True, text=True,
                          timeout=600)


def test_cli_quantize_writes_model_and_evaluates(tmp_path: Path) -> None:
    model = tmp_path / "float.tflite"
    model.write_bytes(small_cnn())
    np.save(tmp_path / "cal.npy", calibration((1, 8, 8, 3), 32))
    np.save(tmp_path / "ev.npy", calibration((1, 8, 8, 3), 16, seed=3))
    np.save(tmp_path / "labels.npy", np.zeros(16, dtype=np.int64))
    out = tmp_path / "int8.tflite"
    done = edgec("quantize", str(model), "--calibration", str(tmp_path / "cal.npy"), "-o", str(out),
                 "--method", "percentile", "--eval", str(tmp_path / "ev.npy"), "--labels", str(tmp_path / "labels.npy"))
    assert done.returncode == 0, done.stderr
    assert out.exists() and _quantized_types(out.read_bytes()) <= {"int8", "int32"}
    assert "output SQNR vs float" in done.stdout and "accuracy:" in done.stdout
    assert "calibrating ranges" in done.stderr  # the progress bar


def test_cli_run_quantizes_a_float_model_first(tmp_path: Path) -> None:
    model = tmp_path / "float.tflite"
    model.write_bytes(small_cnn())
    np.save(tmp_path / "cal.npy", calibration((1, 8, 8, 3), 32))
    report = tmp_path / "r.json"
    done = edgec("run", str(model), "--calibration", str(tmp_path / "cal.npy"), "--target", "host", "--no-progress",
                 "--method", "kl", "--report", str(report))
    assert done.returncode == 0, done.stderr
    assert "yes, bit-identical" in done.stdout
    # the quantized model is named after its float file and the choices, in the summary and the report
    assert "<bytes>" not in done.stdout + done.stderr + report.read_text()
    named = f"{model} quantized (kl, per-channel, int8)"
    assert f"model        {named}  ->  host" in done.stdout, done.stdout
    assert json.loads(report.read_text())["model"] == named


@pytest.mark.parametrize("content,phrase", [
    ("wrong-shape", "the model's input is [1, 8, 8, 3]"),
    ("missing", "cannot read calibration data"),
])
def test_cli_quantize_bad_calibration_is_a_usage_error(content: str, phrase: str, tmp_path: Path) -> None:
    model = tmp_path / "float.tflite"
    model.write_bytes(small_cnn())
    cal = tmp_path / "cal.npy"
    if content == "wrong-shape":
        np.save(cal, np.zeros((4, 5, 5), np.float32))
    out = tmp_path / "out.tflite"
    done = edgec("quantize", str(model), "--calibration", str(cal), "-o", str(out))
    assert done.returncode == 5 and "Traceback" not in done.stderr
    assert phrase in done.stderr, done.stderr
    assert not out.exists()


def test_cli_quantize_rejects_a_quantized_model(tmp_path: Path) -> None:
    np.save(tmp_path / "cal.npy", np.zeros((2, 16, 16, 1), np.float32))
    tiny = Path(__file__).resolve().parent.parent / "examples" / "tiny_cnn" / "tiny_cnn.tflite"
    done = edgec("quantize", str(tiny), "--calibration", str(tmp_path / "cal.npy"), "-o", str(tmp_path / "o.tflite"))
    assert done.returncode == 3 and "quantized models compile directly" in done.stderr, done.stderr


def test_cli_mixed_needs_a_budget(tmp_path: Path) -> None:
    model = tmp_path / "float.tflite"
    model.write_bytes(small_cnn())
    np.save(tmp_path / "cal.npy", calibration((1, 8, 8, 3), 8))
    done = edgec("quantize", str(model), "--calibration", str(tmp_path / "cal.npy"), "-o", str(tmp_path / "o"),
                 "--weights", "mixed")
    assert done.returncode == 5 and "--flash-budget" in done.stderr


def test_cli_compile_of_a_float_model_without_calibration_says_how(tmp_path: Path) -> None:
    model = tmp_path / "float.tflite"
    model.write_bytes(small_cnn())
    done = edgec("compile", str(model), "-o", str(tmp_path / "out"))
    assert done.returncode == 5 and "Traceback" not in done.stderr
    assert "is a float model; give --calibration DATA.npy" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()
