"""MEAN: int8 averages over constant axes, with TFLite's reference arithmetic (kernels/reduce.cc).

TFLite's Prepare computes ``(m, s) = QuantizeMultiplier(s_in / s_out)`` in double. Its reference
Eval (LiteRT 1.x; older TensorFlow had a third, truncating path for equal quantization, which the
tests show is gone) then takes one of two paths, chosen on the raw axis values:

1. SPATIAL: keep_dims, a 4-D input and the axis tensor exactly ``[1, 2]`` or ``[2, 1]``:
   ``acc = sum(x - zp_in)``, ``acc = MultiplyByQuantizedMultiplier(acc, m, s)``, then divided by the
   cell count rounding half away from zero, plus ``zp_out``, clamped.
2. GENERAL: otherwise ``1/count`` is folded into the multiplier: with ``k = min(floor(log2(count)), 32,
   31 + s)``, ``m' = (m << k) / count`` (int64, truncating) and ``s' = s - k``; the output is
   ``MultiplyByQuantizedMultiplier(sum(x - zp_in), m', s') + zp_out``, clamped.
"""

from __future__ import annotations

import numpy as np

from .. import ir
from ..fixedpoint import quantize_multiplier
from ..graph import Graph, Operator
from . import LoweringContext, register
from .common import int8_activations, static_shapes
from .movement import moves_an_activation, rank_at_most_4


def _axes(graph: Graph, op: Operator) -> tuple[int, ...] | None:
    t = graph.tensors[op.inputs[1]]
    if not t.is_constant or t.dtype != "int32":
        return None
    return tuple(int(a) for a in np.asarray(t.data).ravel())


def mean_axes(graph: Graph, op: Operator) -> str | None:
    """The axis input is a non-empty int32 constant naming axes of the input; the output has the reduced shape."""
    axes = _axes(graph, op)
    if axes is None:
        return f"the axis input {graph.tensors[op.inputs[1]].name!r} is not an int32 constant"
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    rank = len(inp.shape)
    if not axes or any(not -rank <= a < rank for a in axes):
        return f"axis {list(axes)} does not name axes of a rank-{rank} input"
    reduced = {a % rank for a in axes}
    keep = op.options.get("keep_dims", False)
    expect = tuple(1 if k in reduced else d for k, d in enumerate(inp.shape) if keep or k not in reduced)
    if tuple(out.shape) != expect:
        return f"output shape {list(out.shape)} differs from the {list(expect)} the reduction gives"
    return None


def mean_method(graph: Graph, op: Operator) -> ir.MeanMethod:
    """Which of the reference kernel's paths TFLite takes for this operator."""
    inp = graph.tensors[op.inputs[0]]
    axes = _axes(graph, op)
    if op.options.get("keep_dims", False) and len(inp.shape) == 4 and axes in ((1, 2), (2, 1)):
        return ir.MeanMethod.SPATIAL
    return ir.MeanMethod.GENERAL


def general_multiplier(multiplier: int, shift: int, count: int) -> tuple[int, int]:
    """The GENERAL path's (m', s'): 1/count folded into (m, s) as TFLite's QuantizedMeanOrSum does."""
    k = min(count.bit_length() - 1, 32, 31 + shift)
    return int((multiplier << k) // count), shift - k  # both non-negative: Python's // truncates like C here


@register("MEAN", int8_activations, static_shapes, rank_at_most_4, moves_an_activation, mean_axes)
def lower_mean(ctx: LoweringContext, op: Operator) -> None:
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    axes = _axes(ctx.graph, op)
    assert axes is not None
    rank = len(inp.shape)
    reduced = tuple(sorted({a % rank for a in axes}))
    count = int(np.prod([inp.shape[a] for a in reduced]))
    method = mean_method(ctx.graph, op)
    multiplier, shift = quantize_multiplier(float(np.float64(inp.scale) / np.float64(out.scale)))
    if method == ir.MeanMethod.GENERAL:
        multiplier, shift = general_multiplier(multiplier, shift, count)
    ctx.emit(ir.Mean(
        name=out.name,
        inputs=(ctx.value(op.inputs[0]),),
        outputs=(ctx.value(op.outputs[0]),),
        axes=reduced,
        method=method,
        input_offset=-inp.zero_point,
        multiplier=multiplier,
        shift=shift,
        count=count,
        output_offset=out.zero_point,
    ))
