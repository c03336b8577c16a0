"""MEAN, int8, as TFLite's reference kernels compute it (two paths, see :class:`compiler.ir.MeanMethod`)."""

from __future__ import annotations

import numpy as np

from .. import ir
from ..fixedpoint import multiply_by_quantized_multiplier
from . import kernel


@kernel(ir.OpKind.MEAN)
def mean(op: ir.Mean, x: np.ndarray, *, out: ir.Value) -> np.ndarray:
    acc = (x.astype(np.int64) + op.input_offset).sum(axis=op.axes)
    n = op.count
    if op.method == ir.MeanMethod.SPATIAL:
        scaled = multiply_by_quantized_multiplier(acc, op.multiplier, op.shift).astype(np.int64)
        half = n // 2
        # C division truncates toward zero: (acc + n/2) / n when positive, (acc - n/2) / n otherwise.
        result = np.where(scaled > 0, (scaled + half) // n, -((half - scaled) // n)) + op.output_offset
    else:
        result = multiply_by_quantized_multiplier(acc, op.multiplier, op.shift).astype(np.int64) + op.output_offset
    return np.clip(result, -128, 127).astype(np.int8).reshape(out.shape)
