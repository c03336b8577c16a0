"""MEAN: int8 averages over constant axes, with TFLite's reference arithmetic (kernels/reduce.cc).

TFLite's Prepare computes ``(m, s) = QuantizeMultiplier(s_in / s_out)`` in double. The reference Eval
of the installed LiteRT (ai-edge-litert 2.3.0) sends every int8 MEAN through ``QuantizedMeanOrSum``, which folds ``1/count``
into the multiplier: with ``k = min(floor(log2(count)), 32, 31 + s)``, ``m' = (m << k) / count`` (int64,
truncating) and ``s' = s - k``; the output is ``MultiplyByQuantizedMultiplier(sum(x - zp_in), m', s') +
zp_out``, clamped to int8. Older TensorFlow sources also show a spatial path for keep_dims 4-D
``axis=[1, 2]`` (rescale, then divide rounding half away) and a truncating path for equal
quantization; tests against the installed reference (tests/test_e2e_shapes.py and the property
tests, including those axis and quantization cases) show neither is taken any more.
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


def mean_multiplier(multiplier: int, shift: int, count: int) -> tuple[int, int]:
    """(m', s'): 1/count folded into (m, s) as TFLite's QuantizedMeanOrSum does."""
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
    multiplier, shift = mean_multiplier(*quantize_multiplier(float(np.float64(inp.scale) / np.float64(out.scale))),
                                        count)
    ctx.emit(ir.Mean(name=out.name, inputs=(ctx.value(op.inputs[0]),), outputs=(ctx.value(op.outputs[0]),),
                     axes=reduced, input_offset=-inp.zero_point, multiplier=multiplier, shift=shift, count=count,
                     output_offset=out.zero_point))
