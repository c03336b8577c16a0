"""MEAN, int8, as TFLite's reference kernel computes it (QuantizedMeanOrSum, 1/count folded into the multiplier)."""

from __future__ import annotations

import numpy as np

from .. import ir
from ..fixedpoint import multiply_by_quantized_multiplier
from . import kernel


@kernel(ir.OpKind.MEAN)
def mean(op: ir.Mean, x: np.ndarray, *, out: ir.Value) -> np.ndarray:
    acc = (x.astype(np.int64) + op.input_offset).sum(axis=op.axes)
    result = multiply_by_quantized_multiplier(acc, op.multiplier, op.shift).astype(np.int64) + op.output_offset
    return np.clip(result, -128, 127).astype(np.int8).reshape(out.shape)
