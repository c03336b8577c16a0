"""Integer fixed-point arithmetic exactly as TFLite's reference kernels do it.

Every rescale in the IR is a (Q31 multiplier, shift) pair made by :func:`quantize_multiplier`
and applied by :func:`multiply_by_quantized_multiplier` (TFLite's double-rounding form:
saturating rounding doubling high multiply, then rounding divide by a power of two). The C
runtime mirrors these in ``runtime_c/include/edgec_fixedpoint.h`` with identical rounding;
tests hold both to literal goldens.

The numpy functions are vectorised and work on int64 arrays holding int32 values; results
are returned as int64 arrays of int32 values (callers cast where they store).
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """Q31 multiplier and shift (positive: left) for a non-negative real multiplier.

    As TFLite's ``QuantizeMultiplier``: frexp, round half away from zero, renormalise 2^31,
    and flush multipliers below 2^-31 to zero.
    """
    if real_multiplier < 0:
        raise ValueError(f"negative multiplier {real_multiplier}")
    if real_multiplier == 0.0:
        return 0, 0
    q, shift = math.frexp(real_multiplier)
    q_fixed = math.floor(q * (1 << 31) + 0.5)  # q in [0.5, 1): std::round
    assert q_fixed <= (1 << 31)
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return int(q_fixed), int(shift)


def quantize_multiplier_array(real_multipliers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`quantize_multiplier` over an array; returns (int32 multipliers, int32 shifts)."""
    pairs = [quantize_multiplier(float(m)) for m in np.asarray(real_multipliers, dtype=np.float64).ravel()]
    mult = np.array([p[0] for p in pairs], dtype=np.int32)
    shift = np.array([p[1] for p in pairs], dtype=np.int32)
    return mult, shift


def wrap_int32(x: np.ndarray | int) -> np.ndarray:
    """Two's-complement wrap of integers to int32 (as int64 values)."""
    return ((np.asarray(x, dtype=np.int64) + 2**31) % 2**32) - 2**31


def saturating_rounding_doubling_high_mul(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp's SaturatingRoundingDoublingHighMul: round(a*b / 2^31), saturating INT32_MIN*INT32_MIN."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    num = ab + nudge
    # C++ integer division truncates toward zero.
    high = np.where(num >= 0, num // (1 << 31), -((-num) // (1 << 31)))
    return np.where(overflow, INT32_MAX, high).astype(np.int64)


def rounding_divide_by_pot(x: np.ndarray | int, exponent: np.ndarray | int) -> np.ndarray:
    """gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded half away from zero (0 <= exponent <= 31)."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int64)
    return (x >> exponent) + (remainder > threshold).astype(np.int64)


def multiply_by_quantized_multiplier(x: np.ndarray | int, multiplier: np.ndarray | int, shift: np.ndarray | int) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplier (double rounding): x * multiplier * 2^shift / 2^31."""
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    shifted = wrap_int32(np.asarray(x, dtype=np.int64) * (np.int64(1) << left))
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right)


def requantize(acc: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int, output_offset: int,
               act_min: int, act_max: int) -> np.ndarray:
    """Accumulator to output: rescale, add the output zero point, clamp to the activation range."""
    out = multiply_by_quantized_multiplier(acc, multiplier, shift) + output_offset
    return np.clip(out, act_min, act_max)


def quantize_value(real: float, scale: float, zero_point: int) -> int:
    """zero_point + round(real / scale) in float32, as TFLite's CalculateActivationRangeQuantized does."""
    q = np.float32(real) / np.float32(scale)
    return int(zero_point) + int(math.copysign(math.floor(abs(float(q)) + 0.5), float(q)))


def activation_range(activation: str, scale: float, zero_point: int, qmin: int = -128, qmax: int = 127) -> tuple[int, int]:
    """Integer clamp bounds of a fused activation on a quantized output (TFLite semantics)."""
    if activation == "NONE":
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, quantize_value(0.0, scale, zero_point)), qmax
    if activation == "RELU6":
        return max(qmin, quantize_value(0.0, scale, zero_point)), min(qmax, quantize_value(6.0, scale, zero_point))
    if activation == "RELU_N1_TO_1":
        return max(qmin, quantize_value(-1.0, scale, zero_point)), min(qmax, quantize_value(1.0, scale, zero_point))
    raise ValueError(f"no integer range for fused activation {activation}")
