"""What each quantization choice costs in accuracy and saves in flash, on the digits CNNs.

    python examples/digits/study.py            # needs only edgec (the models and split are committed)

For each float model (width 1 and 2, from train.py) and each activation calibration method
(minmax, percentile, mse, kl) x weight granularity (per-channel, per-tensor) x weights:

* ``int8``: symmetric int8 weights, min/max clipping;
* ``int4``: int4 weights, min/max clipping, no repairs;
* ``int4+c``: int4 weights with MSE-optimal weight clipping, no repairs;
* ``int4+r``: int4 weights with MSE weight clipping, cross-layer equalization and bias correction;
* ``mixed``: int8/int4 per layer by sensitivity per byte saved (an exact knapsack,
  compiler/quantize/mixed.py) under a flash budget halfway between all-int4 and all-int8 (with
  the int4+r repairs);

it quantizes with 256 training images as the calibration set, runs the int8 model in TFLite's
reference interpreter on the 450 held-out test images, and prints the accuracy, the output SQNR
against the float model over those images (dB) and the flash bytes of weights and biases (int4
packed two per byte). Accuracy is top-1 on the test split; one image is 0.22 points.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from compiler.quantize import QuantizeOptions, quantize
from compiler.quantize.evaluate import evaluate
from compiler.quantize.pipeline import read_float_model

HERE = Path(__file__).resolve().parent
CALIBRATION = 256
METHODS = ("minmax", "percentile", "mse", "kl")
GRANULARITIES = (("per-channel", True), ("per-tensor", False))
WEIGHTS = ("int8", "int4", "int4+c", "int4+r", "mixed")


def options_for(method: str, per_channel: bool, weights: str, budget: int) -> QuantizeOptions:
    base = QuantizeOptions(method=method, per_channel=per_channel, show_progress=False)
    if weights == "int8":
        return base
    if weights == "int4":
        return replace(base, weights="int4")
    if weights == "int4+c":
        return replace(base, weights="int4", weight_method="mse")
    repaired = replace(base, weight_method="mse", bias_correction=True, equalize=True)
    if weights == "int4+r":
        return replace(repaired, weights="int4")
    return replace(repaired, weights="mixed", flash_budget=budget)


def study(model_path: Path, split: dict) -> list[tuple[str, str, str, float, float, int]]:
    """(method, granularity, weights, accuracy %, output SQNR dB, weight bytes) for every combination."""
    calib = split["x_train"][:CALIBRATION]
    x_test, y_test = split["x_test"], split["y_test"]
    model = read_float_model(model_path)
    float_acc = float(np.mean(np.argmax(model.outputs(x_test), axis=1) == y_test))
    print(f"\n{model_path.name}: float accuracy {100 * float_acc:.2f}% on {len(y_test)} test images")
    sizes = {}
    for bits in ("int8", "int4"):
        sizes[bits] = quantize(model_path, calib, options_for("minmax", True, bits, 0)).weight_bytes
    budget = (sizes["int8"] + sizes["int4"]) // 2
    print(f"weights+biases: int8 {sizes['int8']:,} B, int4 {sizes['int4']:,} B; mixed budget {budget:,} B")
    print(f"{'calibration':12s} {'granularity':12s} {'weights':8s} {'accuracy':>9s} {'vs float':>9s} {'SQNR dB':>8s} "
          f"{'bytes':>7s}")
    rows = []
    for method in METHODS:
        for gran_name, per_channel in GRANULARITIES:
            for weights in WEIGHTS:
                q = quantize(model_path, calib, options_for(method, per_channel, weights, budget))
                report = evaluate(q.model, q.tflite, x_test, y_test, show_progress=False)
                acc = report.accuracy or 0.0
                rows.append((method, gran_name, weights, 100 * acc, report.output_sqnr_db, q.weight_bytes))
                print(f"{method:12s} {gran_name:12s} {weights:8s} {100 * acc:8.2f}% {100 * (acc - float_acc):+8.2f} "
                      f"{report.output_sqnr_db:8.2f} {q.weight_bytes:7,}")
    return rows


def main() -> int:
    split = dict(np.load(HERE / "digits_split.npz"))
    for width in (1, 2):
        study(HERE / f"digits_w{width}_float.tflite", split)
    return 0


if __name__ == "__main__":
    sys.exit(main())
