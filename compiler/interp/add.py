"""Elementwise int8 ADD (and SUB, whose input2 multiplier is negative), as TFLite's reference_integer_ops::AddFunc.

Each input is offset by its negated zero point, shifted left by ``left_shift`` (20) bits of
headroom, rescaled onto the shared grid of 2*max(input scale) by a multiplier below one; the sum
is rescaled to the output scale, offset by the output zero point and clamped.
"""

from __future__ import annotations

import numpy as np

from .. import ir
from ..fixedpoint import multiply_by_quantized_multiplier, wrap_int32
from . import kernel


def add_values(op: ir.Add | ir.AddBroadcast, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """The ADD arithmetic on two aligned operand arrays (int64 results, clamped)."""
    r = op.rescale
    shifted1 = (x1.astype(np.int64) + r.input1_offset) << r.left_shift
    shifted2 = (x2.astype(np.int64) + r.input2_offset) << r.left_shift
    scaled1 = multiply_by_quantized_multiplier(shifted1, r.input1_multiplier, r.input1_shift)
    scaled2 = multiply_by_quantized_multiplier(shifted2, r.input2_multiplier, r.input2_shift)
    raw_sum = wrap_int32(scaled1 + scaled2)
    result = multiply_by_quantized_multiplier(raw_sum, r.output_multiplier, r.output_shift) + r.output_offset
    return np.clip(result, r.act_min, r.act_max)


@kernel(ir.OpKind.ADD)
def add(op: ir.Add, x1: np.ndarray, x2: np.ndarray, *, out: ir.Value) -> np.ndarray:
    return add_values(op, x1, x2).astype(np.int8).reshape(out.shape)
