"""Edge conversions between float32 and int8, as TFLite's reference AffineQuantize / Dequantize.

QUANTIZE divides in float32 (``val / (float)scale``), rounds half away from zero, adds the zero
point and clamps to int8. Out-of-range quotients saturate and NaN maps to the zero point (TFLite
casts those to int32 with undefined behaviour; edgec defines them, see the C kernel).
DEQUANTIZE multiplies ``(q - zero_point)`` by the scale in double and rounds the product to float32.
"""

from __future__ import annotations

import numpy as np

from .. import ir
from . import kernel

# |quotient| beyond this saturates whatever the zero point; keeps the float -> int conversion exact.
QUOTIENT_LIMIT = np.float32(1024.0)


def quantize_f32(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """float32 array -> int8 array, exactly as edgec_quantize_f32_s8."""
    with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN quotients are handled below
        q = np.asarray(x, dtype=np.float32) / np.float32(scale)
    nan = np.isnan(q)
    q = np.clip(np.where(nan, np.float32(0), q), -QUOTIENT_LIMIT, QUOTIENT_LIMIT).astype(np.float32)
    whole = np.trunc(q)
    frac = q - whole  # exact: the fractional part of a float32 below 2^23
    rounded = whole.astype(np.int64) + (frac >= 0.5).astype(np.int64) - (frac <= -0.5).astype(np.int64)
    result = np.where(nan, zero_point, np.clip(rounded + zero_point, -128, 127))
    return result.astype(np.int8)


def dequantize_s8(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """int8 array -> float32 array, exactly as edgec_dequantize_s8_f32."""
    return (np.float64(scale) * (np.asarray(q, dtype=np.int64) - zero_point).astype(np.float64)).astype(np.float32)


@kernel(ir.OpKind.QUANTIZE)
def quantize(op: ir.Quantize, x: np.ndarray, *, out: ir.Value) -> np.ndarray:
    return quantize_f32(x, op.scale, op.zero_point).reshape(out.shape)


@kernel(ir.OpKind.DEQUANTIZE)
def dequantize(op: ir.Dequantize, x: np.ndarray, *, out: ir.Value) -> np.ndarray:
    return dequantize_s8(x, op.scale, op.zero_point).reshape(out.shape)
