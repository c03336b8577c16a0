"""ADD: int8 elementwise addition with TFLite's general rescaling (kernels/add.cc, Prepare).

Both inputs move onto a grid of ``2 * max(input scales)`` with ``LEFT_SHIFT`` = 20 bits of headroom:
input multipliers ``s_i / (2 * max)`` (at most 1/2) and output multiplier ``2 * max / (2^20 * s_out)``,
each a Q31 (multiplier, shift <= 0) pair from QuantizeMultiplierSmallerThanOneExp.
"""

from __future__ import annotations

from .. import ir
from ..fixedpoint import quantize_multiplier
from ..graph import Graph, Operator
from . import LoweringContext, register
from .common import fused_range, int8_activations, static_shapes, supported_activation

LEFT_SHIFT = 20


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


def add_same_shape(graph: Graph, op: Operator) -> str | None:
    """Both ADD operands and the output have one shape (broadcasting is not supported yet)."""
    if len(op.inputs) != 2:
        return f"ADD takes two inputs, got {len(op.inputs)}"
    a, b, out = (graph.tensors[i] for i in (*op.inputs, op.outputs[0]))
    if a.shape != b.shape or a.shape != out.shape:
        return (f"operand shapes {list(a.shape)} and {list(b.shape)} (output {list(out.shape)}) differ; "
                "broadcasting ADD is not supported yet")
    return None


def add_activation_operands(graph: Graph, op: Operator) -> str | None:
    """Both ADD operands are activations computed by the model, not constant tensors."""
    for index in op.inputs:
        if index < 0:
            return "an ADD operand is missing"
        t = graph.tensors[index]
        if t.is_constant:
            return f"operand {t.name!r} is a constant tensor; ADD of a constant is not supported yet"
    return None


def add_scales_representable(graph: Graph, op: Operator) -> str | None:
    """The output scale exceeds 2 * max(input scales) / 2^20 (TFLite refuses smaller ones)."""
    if len(op.inputs) != 2:
        return None  # add_same_shape reports it
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


@register("ADD", add_same_shape, add_activation_operands, int8_activations, static_shapes, supported_activation,
          add_scales_representable)
def lower_add(ctx: LoweringContext, op: Operator) -> None:
    a, b, out = (ctx.tensor(i) for i in (*op.inputs, op.outputs[0]))
    reals = add_real_multipliers(a.scale, b.scale, out.scale)
    (m1, s1), (m2, s2), (mo, so) = (_smaller_than_one(r) or (0, 0) for r in reals)
    act_min, act_max = fused_range(ctx.graph, op)
    ctx.emit(ir.Add(
        name=out.name,
        inputs=(ctx.value(op.inputs[0]), ctx.value(op.inputs[1])),
        outputs=(ctx.value(op.outputs[0]),),
        input1_offset=-a.zero_point,
        input1_multiplier=m1,
        input1_shift=s1,
        input2_offset=-b.zero_point,
        input2_multiplier=m2,
        input2_shift=s2,
        left_shift=LEFT_SHIFT,
        output_multiplier=mo,
        output_shift=so,
        output_offset=out.zero_point,
        act_min=act_min,
        act_max=act_max,
    ))
