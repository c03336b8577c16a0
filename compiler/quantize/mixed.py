"""Mixed precision: per-layer int8 or int4 weights chosen by measured sensitivity under a flash budget.

Sensitivity of a layer is the output SQNR (dB) of the float model when only that layer's weights
are fake-quantized to int4 (all else float), measured on up to ``SENSITIVITY_SAMPLES`` calibration
samples. Its cost is the relative noise power that lowering adds, ``10^(-SQNR/10)``; with the
layers' errors taken as independent, the costs add. Lowering layer i saves ``saved_i`` bytes (its
int8 weights less their packed int4 form).

Choice (:func:`cheapest_lowering`): the set of layers to lower whose savings bring the weight
bytes within the budget at the least total cost: a 0/1 knapsack (min-cost cover), solved exactly
by dynamic programming over bytes saved. When the bytes to save exceed ``DP_CELLS``, savings are
counted in units of ``ceil(need / DP_CELLS)`` bytes, each layer's savings rounded *down*, so the
chosen set saves at least what is needed (the budget always holds) but may not be the exact optimum.
Limits: the cost model ignores interactions between layers (each is measured alone), and the
independence of their errors is an assumption; the measured output SQNR of the mixed model can
therefore differ from what the costs predict.
"""

from __future__ import annotations

import math
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
DP_CELLS = 1 << 18
"""Largest number of byte cells the knapsack uses; beyond it savings are counted in coarser units."""


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


def lowering_cost(sqnr: float) -> float:
    """Relative output noise power that lowering one layer adds: ``10^(-SQNR/10)`` (0 when exact)."""
    return 0.0 if sqnr == math.inf else 10.0 ** (-sqnr / 10.0)


def cheapest_lowering(saved: dict[int, int], cost: dict[int, float], need: int) -> set[int]:
    """Layers whose ``saved`` bytes sum to at least ``need`` at the least total ``cost`` (module docstring).

    Raises ValueError when even all layers together save less than ``need``.
    """
    if need <= 0:
        return set()
    if sum(saved.values()) < need:
        raise ValueError(f"the layers save {sum(saved.values())} bytes, fewer than the {need} needed")
    unit = max(1, math.ceil(need / DP_CELLS))
    cells = math.ceil(need / unit)  # cell c: at least c * unit bytes saved; the last cell means "enough"
    layers = sorted(saved)
    best = np.full(cells + 1, np.inf)  # best[c]: least cost of a subset of the layers so far reaching cell c
    best[0] = 0.0
    taken = np.zeros((len(layers), cells + 1), dtype=bool)
    enough_from = []  # per layer: the cell that taking it reaches "enough" from, at least cost
    for k, index in enumerate(layers):
        step, c = saved[index] // unit, cost[index]
        reached = best.copy()
        if step < cells:  # from cell s to s + step, below "enough"
            reached[step:cells] = np.minimum(best[step:cells], best[:cells - step] + c)
        start = max(0, cells - step)  # from any cell at or above this one, taking the layer is enough
        source = start + int(np.argmin(best[start:]))
        enough_from.append(source)
        reached[cells] = min(best[cells], best[source] + c)
        taken[k] = reached < best
        best = reached
    if not np.isfinite(best[cells]):  # rounding the savings down to units lost the last few bytes
        return set(layers)
    chosen, cell = set(), cells
    for k in range(len(layers) - 1, -1, -1):
        if taken[k, cell]:
            chosen.add(layers[k])
            cell = enough_from[k] if cell == cells else cell - saved[layers[k]] // unit
    return chosen


def choose_bits(model: FloatModel, data: np.ndarray, options: QuantizeOptions) -> dict[int, int]:
    """Per weighted op 8 or 4 bits: the cheapest set of layers at int4 that brings the weights within the budget."""
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
    saved = {i: layer_bytes(model, i, 8) - layer_bytes(model, i, 4) for i in bits}
    for index in cheapest_lowering(saved, {i: lowering_cost(s) for i, s in sensitivity.items()}, total - budget):
        bits[index] = 4
    return bits
