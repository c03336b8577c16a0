"""Mixed precision under a flash budget, and the evaluation report."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
from e2e import assert_bit_identical, build_model
from float_models import calibration, small_cnn

from compiler.errors import DoesNotFitError
from compiler.quantize import QuantizeOptions, quantize
from compiler.quantize.evaluate import evaluate
from compiler.quantize.mixed import DP_CELLS, layer_bytes, layer_sensitivity, lowering_cost
from compiler.quantize.pipeline import read_float_model

DIGITS = Path(__file__).resolve().parents[1] / "examples" / "digits"


def _sizes() -> tuple[int, int]:
    data = calibration((1, 8, 8, 3), 16)
    q8 = quantize(small_cnn(), data, QuantizeOptions(show_progress=False))
    q4 = quantize(small_cnn(), data, QuantizeOptions(weights="int4", show_progress=False))
    return q8.weight_bytes, q4.weight_bytes


def test_mixed_fits_the_budget_at_the_least_predicted_cost(tmp_path: Path) -> None:
    full, smallest = _sizes()
    budget = (full + smallest) // 2
    data = calibration((1, 8, 8, 3), 64)
    q = quantize(small_cnn(), data, QuantizeOptions(weights="mixed", flash_budget=budget, show_progress=False))
    assert smallest < q.weight_bytes <= budget
    assert set(q.bits.values()) == {4, 8}
    model = read_float_model(small_cnn())
    cost = {i: lowering_cost(s) for i, s in layer_sensitivity(model, data, True, "minmax").items()}
    lowered = {i for i, b in q.bits.items() if b == 4}
    # no other set of layers at int4 that fits the budget has a smaller summed cost (all subsets tried)
    fitting = [set(c) for r in range(len(cost) + 1) for c in itertools.combinations(cost, r)
               if full - sum(layer_bytes(model, i, 8) - layer_bytes(model, i, 4) for i in c) <= budget]
    assert sum(cost[i] for i in lowered) <= min(sum(cost[i] for i in c) for c in fitting) + 1e-12
    assert_bit_identical(q.tflite, build_model(q.tflite, "host", tmp_path), range(1))  # s4 and s8 kernels in one


@pytest.mark.parametrize("cells", [DP_CELLS, 7], ids=["exact", "coarse-units"])
def test_cheapest_lowering_saves_enough_and_is_optimal_when_exact(cells: int, monkeypatch) -> None:
    """Against every subset on random small instances; with coarse units (few DP cells) the savings still suffice."""
    from compiler.quantize import mixed

    monkeypatch.setattr(mixed, "DP_CELLS", cells)
    rng = np.random.default_rng(cells)
    for _ in range(200):
        saved = {3 * i: int(rng.integers(1, 500)) for i in range(int(rng.integers(1, 7)))}
        cost = {i: float(rng.random()) for i in saved}
        need = int(rng.integers(0, sum(saved.values()) + 1))
        chosen = mixed.cheapest_lowering(saved, cost, need)
        assert sum(saved[i] for i in chosen) >= need
        if cells == DP_CELLS:
            optimum = min(sum(cost[i] for i in c) for r in range(len(saved) + 1)
                          for c in itertools.combinations(saved, r) if sum(saved[i] for i in c) >= need)
            assert sum(cost[i] for i in chosen) == pytest.approx(optimum, abs=1e-12)


def _old_greedy(model, data: np.ndarray, options: QuantizeOptions) -> dict[int, int]:  # type: ignore[no-untyped-def]
    """The previous choice, kept here to compare against: least sensitive first, bytes ignored, stop once it fits."""
    bits = {op.index: 8 for op in model.weighted_ops()}
    total = sum(layer_bytes(model, i, 8) for i in bits)
    sensitivity = layer_sensitivity(model, data, options.per_channel, options.weight_method)
    for index in sorted(sensitivity, key=lambda i: -sensitivity[i]):
        if total <= options.flash_budget:
            break
        bits[index] = 4
        total -= layer_bytes(model, index, 8) - layer_bytes(model, index, 4)
    return bits


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75])
def test_mixed_on_digits_beats_or_ties_the_old_greedy(fraction: float, monkeypatch) -> None:
    """Measured on the 450 held-out digits: output SQNR and accuracy at least the old choice's, within the budget."""
    from compiler.quantize import mixed

    split = np.load(DIGITS / "digits_split.npz")
    cal, x, y = split["x_train"][:256], split["x_test"], split["y_test"]
    model = DIGITS / "digits_w1_float.tflite"
    base = QuantizeOptions(weight_method="mse", show_progress=False)
    full = quantize(model, cal, base).weight_bytes
    smallest = quantize(model, cal, dataclasses.replace(base, weights="int4")).weight_bytes
    options = dataclasses.replace(base, weights="mixed", flash_budget=int(smallest + fraction * (full - smallest)))
    new = quantize(model, cal, options)
    monkeypatch.setattr(mixed, "choose_bits", _old_greedy)
    old = quantize(model, cal, options)
    assert smallest <= new.weight_bytes <= options.flash_budget
    r_new, r_old = (evaluate(q.model, q.tflite, x, y, show_progress=False) for q in (new, old))
    assert r_new.output_sqnr_db >= r_old.output_sqnr_db
    assert (r_new.accuracy or 0.0) >= (r_old.accuracy or 0.0)


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
