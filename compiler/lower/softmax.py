"""SOFTMAX: int8 -> int8 over the last axis, TFLite's reference path (activations.cc, SoftmaxPrepare<kReference>).

The reference resolver runs the gemmlowp fixed-point kernel (reference_ops::Softmax), not the float
LUT of the optimized kernel. Prepare turns beta * input_scale into a Q31 multiplier and left shift
that rescale input differences to Q5.26 (PreprocessSoftmaxScaling), and the most negative difference
still worth exponentiating (diff_min = -CalculateInputRadius), both in
tensorflow/lite/kernels/internal/quantization_util.cc.
"""

from __future__ import annotations

import math

import numpy as np

from .. import ir
from ..fixedpoint import quantize_multiplier
from ..graph import Graph, Operator
from . import LoweringContext, register
from .common import int8_activations, static_shapes

SCALED_DIFF_INTEGER_BITS = 5
OUTPUT_ZERO_POINT = -128


def preprocess_softmax_scaling(beta: float, input_scale: float, input_integer_bits: int) -> tuple[int, int]:
    """TFLite's PreprocessSoftmaxScaling (double-rounding build): Q31 (multiplier, left shift) of the real multiplier

    ``min(beta * input_scale * 2^(31 - input_integer_bits), 2^31 - 1)``, computed in double. Raises ValueError
    unless it exceeds one (TFLite's QuantizeMultiplierGreaterThanOne check).
    """
    real = min(beta * input_scale * float(1 << (31 - input_integer_bits)), float((1 << 31) - 1))
    if not real > 1.0:
        raise ValueError(f"softmax input multiplier {real!r} is not above one")
    multiplier, shift = quantize_multiplier(real)
    assert 0 <= shift <= 31, shift
    return multiplier, shift


def calculate_input_radius(input_integer_bits: int, input_left_shift: int, total_signed_bits: int = 31) -> int:
    """TFLite's CalculateInputRadius: floor((2^ib - 1) * 2^(total - ib) / 2^left_shift), in double."""
    max_input_rescaled = (1.0 * ((1 << input_integer_bits) - 1) * float(1 << (total_signed_bits - input_integer_bits))
                          / float(1 << input_left_shift))
    return math.floor(max_input_rescaled)


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, diff_min) of TFLite's int8 reference softmax."""
    multiplier, shift = preprocess_softmax_scaling(float(np.float32(beta)), input_scale, SCALED_DIFF_INTEGER_BITS)
    return multiplier, shift, -calculate_input_radius(SCALED_DIFF_INTEGER_BITS, shift)


def softmax_beta(op: Operator) -> float:
    """The op's beta; a SOFTMAX without options has beta 0, as TFLite's parser leaves it."""
    return float(op.options.get("beta", 0.0))


def softmax_output_quantization(graph: Graph, op: Operator) -> str | None:
    """The SOFTMAX output has scale 1/256 and zero point -128, as TFLite requires of int8 softmax."""
    out = graph.tensors[op.outputs[0]]
    if out.quant is None or not out.quant.scale:
        return None  # int8_activations reports it
    # TF_LITE_ENSURE_NEAR in float: |scale - 1/256| <= 0.001 / 256.
    delta = abs(np.float32(out.scale) - np.float32(1.0 / 256))
    if out.zero_point != OUTPUT_ZERO_POINT or delta > np.float32(0.001) * np.float32(1.0 / 256):
        return (f"output scale {out.scale:g} and zero point {out.zero_point} must be 1/256 and -128 "
                f"(TFLite's int8 softmax writes probabilities on that grid)")
    return None


def softmax_shape(graph: Graph, op: Operator) -> str | None:
    """SOFTMAX has one input of rank >= 1 and an output of the same shape."""
    if len(op.inputs) != 1 or len(op.outputs) != 1:
        return f"SOFTMAX takes one input and one output, got {len(op.inputs)} and {len(op.outputs)}"
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if len(inp.shape) < 1 or inp.shape != out.shape:
        return f"input shape {list(inp.shape)} and output shape {list(out.shape)} must be equal and of rank >= 1"
    return None


def softmax_beta_scale(graph: Graph, op: Operator) -> str | None:
    """beta * input scale exceeds 2^-26 (TFLite's fixed-point softmax cannot represent smaller ones)."""
    inp = graph.tensors[op.inputs[0]]
    if inp.quant is None or not inp.quant.scale:
        return None  # int8_activations reports it
    beta = softmax_beta(op)
    if not (math.isfinite(beta) and beta > 0):
        return f"beta {beta} must be positive and finite (a SOFTMAX without options has beta 0)"
    try:
        softmax_params(beta, inp.scale)
    except ValueError:
        return (f"beta {beta:g} times input scale {inp.scale:g} is at most 2^-26; "
                "TFLite's int8 softmax needs a larger product")
    return None


@register("SOFTMAX", softmax_shape, int8_activations, static_shapes, softmax_output_quantization, softmax_beta_scale)
def lower_softmax(ctx: LoweringContext, op: Operator) -> None:
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    multiplier, shift, diff_min = softmax_params(softmax_beta(op), inp.scale)
    ctx.emit(ir.Softmax(
        name=out.name,
        inputs=(ctx.value(op.inputs[0]),),
        outputs=(ctx.value(op.outputs[0]),),
        input_multiplier=multiplier,
        input_left_shift=shift,
        diff_min=diff_min,
    ))
