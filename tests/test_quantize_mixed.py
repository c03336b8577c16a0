"""Mixed precision under a flash budget, and the evaluation report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from e2e import assert_bit_identical, build_model
from float_models import calibration, small_cnn

from compiler.errors import DoesNotFitError
from compiler.quantize import QuantizeOptions, quantize
from compiler.quantize.evaluate import evaluate
from compiler.quantize.mixed import layer_bytes, layer_sensitivity
from compiler.quantize.pipeline import read_float_model


def _sizes() -> tuple[int, int]:
    data = calibration((1, 8, 8, 3), 16)
    q8 = quantize(small_cnn(), data, QuantizeOptions(show_progress=False))
    q4 = quantize(small_cnn(), data, QuantizeOptions(weights="int4", show_progress=False))
    return q8.weight_bytes, q4.weight_bytes


def test_mixed_fits_the_budget_by_lowering_the_least_sensitive_layers(tmp_path: Path) -> None:
    full, smallest = _sizes()
    budget = (full + smallest) // 2
    data = calibration((1, 8, 8, 3), 64)
    q = quantize(small_cnn(), data, QuantizeOptions(weights="mixed", flash_budget=budget, show_progress=False))
    assert smallest < q.weight_bytes <= budget
    assert set(q.bits.values()) == {4, 8}
    model = read_float_model(small_cnn())
    sensitivity = layer_sensitivity(model, data, True, "minmax")
    lowered = [i for i, b in q.bits.items() if b == 4]
    kept = [i for i, b in q.bits.items() if b == 8]
    assert min(sensitivity[i] for i in lowered) >= max(sensitivity[i] for i in kept)
    # The greedy stops as soon as the budget holds: restoring the last lowered layer would break it.
    last = min(lowered, key=lambda i: sensitivity[i])
    assert q.weight_bytes + layer_bytes(model, last, 8) - layer_bytes(model, last, 4) > budget
    assert_bit_identical(q.tflite, build_model(q.tflite, "host", tmp_path), range(1))  # s4 and s8 kernels in one


def test_mixed_with_room_keeps_int8() -> None:
    full, _ = _sizes()
    q = quantize(small_cnn(), calibration((1, 8, 8, 3), 16),
                 QuantizeOptions(weights="mixed", flash_budget=full, show_progress=False))
    assert set(q.bits.values()) == {8}


def test_budget_below_all_int4_does_not_fit() -> None:
    _, smallest = _sizes()
    with pytest.raises(DoesNotFitError, match="raise the budget"):
        quantize(small_cnn(), calibration((1, 8, 8, 3), 16),
                 QuantizeOptions(weights="mixed", flash_budget=smallest - 1, show_progress=False))


def test_evaluation_reports_sqnr_agreement_and_accuracy() -> None:
    """Per-layer SQNRs are finite; int4 weights lower the output SQNR below int8; accuracy against labels."""
    data = calibration((1, 8, 8, 3), 64)
    held_out = calibration((1, 8, 8, 3), 32, seed=5)
    labels = np.argmax(read_float_model(small_cnn()).outputs(held_out), axis=1)
    r8 = evaluate(*_quantized(data, "int8"), held_out, labels, show_progress=False)
    r4 = evaluate(*_quantized(data, "int4"), held_out, labels, show_progress=False)
    assert r8.float_accuracy == 1.0  # labels are the float model's own predictions
    assert r8.accuracy == r8.top1_agreement
    assert r4.output_sqnr_db < r8.output_sqnr_db
    assert all(np.isfinite(s) for _, _, s in r8.layers)
    assert "output SQNR vs float" in "\n".join(r8.lines())


def _quantized(data: np.ndarray, weights: str) -> tuple:
    q = quantize(small_cnn(), data, QuantizeOptions(weights=weights, show_progress=False))
    return q.model, q.tflite
