"""ADD and SUB: int8 elementwise addition with TFLite's general rescaling (kernels/add.cc, sub.cc, Prepare).

Both inputs move onto a grid of ``2 * max(input scales)`` with ``LEFT_SHIFT`` = 20 bits of headroom:
input multipliers ``s_i / (2 * max)`` (at most 1/2) and output multiplier ``2 * max / (2^20 * s_out)``,
each a Q31 (multiplier, shift <= 0) pair from QuantizeMultiplierSmallerThanOneExp. SUB is the same
computation with the input2 multiplier negated (TFLite's SUB calls its ADD kernels that way).
Operands of one shape lower to ``ir.Add``; broadcasting or a constant operand to ``ir.AddBroadcast``.

An ``ir.Add`` of at least ``TABLE_MIN_ELEMENTS`` elements carries its two inputs' rescaled terms as 256-entry
int32 tables (2 KiB of flash): each term depends on one int8 value, so the kernel looks both up and
requantizes only the sum, one requantization per element instead of three. Below that size the tables
would cost more flash than the instructions they save are worth, and the arithmetic kernel runs.
"""

from __future__ import annotations

import numpy as np

from .. import ir
from ..fixedpoint import quantize_multiplier
from ..graph import Graph, Operator
from ..interp.add import input_tables
from . import LoweringContext, register
from .broadcast import at_most_one_constant, broadcastable_operands, int8_operands, operands
from .common import fused_range, static_shapes, supported_activation

LEFT_SHIFT = 20
TABLE_MIN_ELEMENTS = 1024


def add_real_multipliers(scale1: float, scale2: float, out_scale: float) -> tuple[float, float, float]:
    """(input1, input2, output) real multipliers exactly as TFLite's ADD Prepare computes them in double."""
    twice_max_input_scale = 2.0 * max(scale1, scale2)
    return (scale1 / twice_max_input_scale, scale2 / twice_max_input_scale,
            twice_max_input_scale / ((1 << LEFT_SHIFT) * out_scale))


def _smaller_than_one(real: float) -> tuple[int, int] | None:
    """QuantizeMultiplierSmallerThanOneExp, or None where TFLite's checks (0 < real < 1, shift <= 0) fail."""
    if not 0.0 < real < 1.0:
        return None
    multiplier, shift = quantize_multiplier(real)
    return (multiplier, shift) if shift <= 0 else None


def add_scales_representable(graph: Graph, op: Operator) -> str | None:
    """The output scale exceeds 2 * max(input scales) / 2^20 (TFLite refuses smaller ones)."""
    if len(op.inputs) != 2 or min(op.inputs) < 0:
        return None  # broadcastable_operands reports it
    tensors = [graph.tensors[i] for i in (*op.inputs, op.outputs[0])]
    if any(t.quant is None or not t.quant.scale for t in tensors):
        return None  # int8_activations reports it
    scales = [t.scale for t in tensors]
    if min(scales) <= 0:
        return f"scales {scales} must be positive"
    for real in add_real_multipliers(*scales):
        if _smaller_than_one(real) is None:
            return (f"output scale {scales[2]:g} is too small for input scales {scales[0]:g} and {scales[1]:g} "
                    f"(rescale factor {real:g} is not below one)")
    return None


_CHECKS = (broadcastable_operands, at_most_one_constant, int8_operands, static_shapes, supported_activation,
           add_scales_representable)


def _lower_add_or_sub(ctx: LoweringContext, op: Operator, sign: int) -> None:
    a, b, out = (ctx.tensor(i) for i in (*op.inputs, op.outputs[0]))
    reals = add_real_multipliers(a.scale, b.scale, out.scale)
    (m1, s1), (m2, s2), (mo, so) = (_smaller_than_one(r) or (0, 0) for r in reals)
    act_min, act_max = fused_range(ctx.graph, op)
    rescale = ir.AddRescale(
        input1_offset=-a.zero_point, input1_multiplier=m1, input1_shift=s1,
        input2_offset=-b.zero_point, input2_multiplier=sign * m2, input2_shift=s2,
        left_shift=LEFT_SHIFT, output_multiplier=mo, output_shift=so,
        output_offset=out.zero_point, act_min=act_min, act_max=act_max,
    )
    if a.shape == b.shape == out.shape and not a.is_constant and not b.is_constant:
        size = int(np.prod(out.shape))
        tables = input_tables(rescale) if size >= TABLE_MIN_ELEMENTS else None
        ctx.emit(ir.Add(name=out.name, inputs=(ctx.value(a.index), ctx.value(b.index)),
                        outputs=(ctx.value(out.index),), rescale=rescale, input_tables=tables))
    else:
        ctx.emit(ir.AddBroadcast(**operands(ctx, op), rescale=rescale))


@register("ADD", *_CHECKS)
def lower_add(ctx: LoweringContext, op: Operator) -> None:
    _lower_add_or_sub(ctx, op, 1)


@register("SUB", *_CHECKS)
def lower_sub(ctx: LoweringContext, op: Operator) -> None:
    _lower_add_or_sub(ctx, op, -1)
