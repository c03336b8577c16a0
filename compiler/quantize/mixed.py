"""Mixed precision: per-layer int8 or int4 weights chosen by measured sensitivity under a flash budget.

Sensitivity of a layer is the output SQNR (dB) of the float model when only that layer's weights
are fake-quantized to int4 (all else float), measured on up to ``SENSITIVITY_SAMPLES`` calibration
samples. Greedy: start from all int8 and move layers to int4 from the least sensitive (highest
SQNR) on, skipping none, until the weight bytes (4-bit packed, plus int32 biases) fit the budget.
Limits: the greedy order ignores how much a layer saves; it does not model interactions between
layers (each is measured alone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import DoesNotFitError
from ..graph import Operator
from .floatexec import FloatModel
from .metrics import sqnr_db
from .weights import CHANNEL_AXIS, fake_quantize

if TYPE_CHECKING:
    from .pipeline import QuantizeOptions

SENSITIVITY_SAMPLES = 128


def layer_sensitivity(model: FloatModel, data: np.ndarray, per_channel: bool, weight_method: str) -> dict[int, float]:
    """Output SQNR in dB with only each weighted layer at int4."""
    x = np.asarray(data[:SENSITIVITY_SAMPLES], dtype=np.float32)
    reference = model.outputs(x)
    out = {}
    for op in model.weighted_ops():
        def only_this(o: Operator, w: np.ndarray, target: int = op.index) -> np.ndarray:
            return fake_quantize(w, CHANNEL_AXIS[o.op], 4, per_channel, weight_method) if o.index == target else w
        out[op.index] = sqnr_db(reference, model.outputs(x, weight_transform=only_this))
    return out


def layer_bytes(model: FloatModel, index: int, bits: int) -> int:
    op = model.graph.operators[index]
    w = model.constants[op.inputs[1]]
    channels = w.shape[CHANNEL_AXIS[op.op]]
    return ((w.size + 1) // 2 if bits == 4 else w.size) + 4 * channels


def choose_bits(model: FloatModel, data: np.ndarray, options: QuantizeOptions) -> dict[int, int]:
    """Per weighted op 8 or 4 bits: the least sensitive layers go to int4 until the budget holds."""
    bits = {op.index: 8 for op in model.weighted_ops()}
    total = sum(layer_bytes(model, i, 8) for i in bits)
    budget = options.flash_budget
    assert budget is not None, "checked by QuantizeOptions.check"
    smallest = sum(layer_bytes(model, i, 4) for i in bits)
    if smallest > budget:
        raise DoesNotFitError(f"the weights need at least {smallest:,} bytes with every layer at int4, more than the "
                              f"--flash-budget of {budget:,}; raise the budget")
    if total <= budget:
        return bits
    sensitivity = layer_sensitivity(model, data, options.per_channel, options.weight_method)
    for index in sorted(sensitivity, key=lambda i: -sensitivity[i]):
        bits[index] = 4
        total -= layer_bytes(model, index, 8) - layer_bytes(model, index, 4)
        if total <= budget:
            break
    return bits
