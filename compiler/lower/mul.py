"""MUL and PRELU: broadcasting int8 products (TFLite kernels mul.cc and activations.cc PRELU).

MUL computes ``requantize((x1 - zp1) * (x2 - zp2)) + zp_out`` clamped to the fused activation range, with
the Q31 pair of ``s1 * s2 / s_out`` evaluated in float32 as TFLite's Prepare does. PRELU keeps
``v = x - zp_in`` where it is >= 0 (rescaled by ``s_in / s_out``) and takes ``v * (alpha - zp_alpha)``
elsewhere (rescaled by ``s_in * s_alpha / s_out``), both ratios in float32 as TFLite's PreluPrepare.
"""

from __future__ import annotations

import numpy as np

from .. import ir
from ..graph import Graph, Operator
from . import LoweringContext, register
from .broadcast import at_most_one_constant, broadcastable_operands, int8_operands, operands
from .common import fused_range, static_shapes, supported_activation
from .lut_tables import quantize_multiplier_signed


def _ratio(*scales: float) -> float:
    """``a * b * ... / last`` in float32 arithmetic, as TFLite's Prepare functions compute it."""
    *factors, divisor = (np.float32(s) for s in scales)
    product = np.float32(1.0)
    for f in factors:
        product = np.float32(product * f)
    return float(np.float32(product / divisor))


def prelu_output_shape(graph: Graph, op: Operator) -> str | None:
    """PRELU's output has the input's shape (alpha broadcasts onto the input, never the other way)."""
    if len(op.inputs) != 2 or min(op.inputs) < 0:
        return None  # broadcastable_operands reports it
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if inp.shape != out.shape:
        return f"output shape {list(out.shape)} differs from the input shape {list(inp.shape)}"
    if inp.is_constant:
        return f"input {inp.name!r} is a constant tensor; edgec does not fold constant expressions"
    return None


@register("MUL", broadcastable_operands, at_most_one_constant, int8_operands, static_shapes, supported_activation)
def lower_mul(ctx: LoweringContext, op: Operator) -> None:
    a, b, out = (ctx.tensor(i) for i in (*op.inputs, op.outputs[0]))
    multiplier, shift = quantize_multiplier_signed(_ratio(a.scale, b.scale, out.scale))
    act_min, act_max = fused_range(ctx.graph, op)
    ctx.emit(ir.Mul(**operands(ctx, op), input1_offset=-a.zero_point, input2_offset=-b.zero_point,
                    output_multiplier=multiplier, output_shift=shift, output_offset=out.zero_point,
                    act_min=act_min, act_max=act_max))


@register("PRELU", broadcastable_operands, prelu_output_shape, int8_operands, static_shapes)
def lower_prelu(ctx: LoweringContext, op: Operator) -> None:
    x, alpha, out = (ctx.tensor(i) for i in (*op.inputs, op.outputs[0]))
    m_pos, s_pos = quantize_multiplier_signed(_ratio(x.scale, out.scale))
    m_neg, s_neg = quantize_multiplier_signed(_ratio(x.scale, alpha.scale, out.scale))
    ctx.emit(ir.PRelu(**operands(ctx, op), input_offset=-x.zero_point, alpha_offset=-alpha.zero_point,
                      multiplier_pos=m_pos, shift_pos=s_pos, multiplier_neg=m_neg, shift_neg=s_neg,
                      output_offset=out.zero_point))
