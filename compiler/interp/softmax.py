"""int8 SOFTMAX over the last axis, as TFLite's reference_ops::Softmax (the gemmlowp fixed-point path).

Per row: d = x - max(row). Entries with d < diff_min contribute nothing and output -128. The others
are rescaled to Q5.26 (``input_diff * 2^input_left_shift * input_multiplier``, the beta * scale
factor), exponentiated with gemmlowp's exp_on_negative_values (Q0.31), summed in Q12.19, and each
exp is multiplied by the reciprocal of the sum: output = round(exp / sum * 256) - 128, clamped.

One deliberate extension: TFLite aborts (TFLITE_CHECK) when the sum of exps reaches 512, where the
final shift would exceed 31 bits. There every probability is below 1/512, so edgec outputs the
correctly rounded -128 (the sum saturates at INT32_MAX instead of overflowing on very long rows).
"""

from __future__ import annotations

import numpy as np

from .. import ir
from ..fixedpoint import (
    INT32_MAX,
    exp_on_negative_values,
    get_reciprocal,
    multiply_by_quantized_multiplier,
    rescale,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
)
from . import kernel

SCALED_DIFF_INTEGER_BITS = 5
ACCUMULATION_INTEGER_BITS = 12


def softmax_rows(x: np.ndarray, input_multiplier: int, input_left_shift: int, diff_min: int) -> np.ndarray:
    """Softmax of each row of a 2-D int8 array; returns int8 of the same shape."""
    x = np.asarray(x, dtype=np.int64)
    diff = x - x.max(axis=1, keepdims=True)
    valid = diff >= diff_min
    scaled = multiply_by_quantized_multiplier(diff, input_multiplier, input_left_shift)
    exps = exp_on_negative_values(np.where(valid, scaled, 0), SCALED_DIFF_INTEGER_BITS)
    terms = np.where(valid, rescale(exps, 0, ACCUMULATION_INTEGER_BITS), 0)
    # Every term is non-negative, so a saturating running sum is the total capped at INT32_MAX.
    sum_of_exps = np.minimum(terms.sum(axis=1), INT32_MAX)
    shifted_scale, num_bits_over_unit = get_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS)
    exponent = (num_bits_over_unit + 31 - 8)[:, None]
    product = saturating_rounding_doubling_high_mul(shifted_scale[:, None], exps)
    # exponent > 31 (sum of exps >= 512): product / 2^exponent < 1/2, so it rounds to 0.
    unsat = np.where(exponent <= 31, rounding_divide_by_pot(product, np.minimum(exponent, 31)), 0)
    out = np.clip(unsat - 128, -128, 127)
    return np.where(valid, out, -128).astype(np.int8)


@kernel(ir.OpKind.SOFTMAX)
def softmax(op: ir.Softmax, x: np.ndarray, *, out: ir.Value) -> np.ndarray:
    depth = x.shape[-1] if x.ndim else 1
    rows = np.asarray(x).reshape(-1, depth)
    return softmax_rows(rows, op.input_multiplier, op.input_left_shift, op.diff_min).reshape(out.shape)
