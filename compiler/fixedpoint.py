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


def round_half_away_to_int32(product: np.ndarray) -> np.ndarray:
    """C's ``(int32_t)round(x)`` for doubles, saturating outside int32 (where the C cast is undefined).

    Rounds by truncating and comparing the exact remainder, so no addition of 0.5 can round first.
    """
    p = np.asarray(product, dtype=np.float64)
    p = np.clip(p, float(INT32_MIN), float(INT32_MAX))
    whole = np.trunc(p)
    frac = p - whole  # exact for |p| < 2^52
    return (whole + (frac >= 0.5) - (frac <= -0.5)).clip(INT32_MIN, INT32_MAX).astype(np.int64)


def requantize_double(acc: np.ndarray, scale: np.ndarray, output_offset: int, act_min: int,
                      act_max: int) -> np.ndarray:
    """TFLite's reference FULLY_CONNECTED rescale: round(double(acc) * scale) + offset, clamped."""
    out = round_half_away_to_int32(np.asarray(acc, dtype=np.int64).astype(np.float64) * scale) + output_offset
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


# ==============================================================================================
# gemmlowp fixed-point functions used by softmax (appended by the pool/add/softmax/convert work).
#
# gemmlowp's ``FixedPoint<int32_t, I>`` holds a real value as ``raw / 2^(31 - I)``: I integer bits,
# 31 - I fractional bits. Products of Qa and Qb are SaturatingRoundingDoublingHighMul of the raws
# (in Q(a+b)); ``Rescale`` moves between formats by a saturating/rounding power-of-two multiply.
# These mirror gemmlowp's fixedpoint/fixedpoint.h and TFLite's GetReciprocal (kernels/internal/
# common.h) for int32 raws, vectorised like the functions above (int64 arrays of int32 values).
# The C runtime mirrors them in runtime_c/src/softmax/edgec_softmax_s8.c.
# ==============================================================================================

# Q0.31 constants exactly as gemmlowp spells them (raw int32 values).
EXP_MINUS_ONE_EIGHTH_Q0 = 1895147668  # exp(-1/8)
ONE_THIRD_Q0 = 715827883  # 1/3
# exp(-2^k) for k = -2 .. 4, the barrel shifter of exp_on_negative_values.
EXP_BARREL_Q0 = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535),
                 (3, 720401), (4, 242))
FORTY_EIGHT_OVER_SEVENTEEN_Q2 = 1515870810  # 48/17
MINUS_THIRTY_TWO_OVER_SEVENTEEN_Q2 = -1010580540  # -32/17


def _trunc_div(num: np.ndarray, den: int) -> np.ndarray:
    """C integer division (truncation toward zero) of an int64 array by a positive constant."""
    return np.where(num >= 0, num // den, -((-num) // den))


def saturating_rounding_multiply_by_pot(x: np.ndarray | int, exponent: int) -> np.ndarray:
    """gemmlowp's SaturatingRoundingMultiplyByPOT<exponent>: x * 2^exponent for an int32 raw.

    A positive exponent shifts left and saturates to [INT32_MIN, INT32_MAX] (gemmlowp's threshold
    masks); a negative one is a :func:`rounding_divide_by_pot`; zero is the identity.
    """
    x = np.asarray(x, dtype=np.int64)
    if exponent == 0:
        return x.copy()
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    result = x << exponent
    result = np.where(x > threshold, INT32_MAX, result)
    return np.where(x < -threshold, INT32_MIN, result).astype(np.int64)


def rescale(x: np.ndarray | int, src_integer_bits: int, dst_integer_bits: int) -> np.ndarray:
    """gemmlowp's ``Rescale<dst>``: the raw of a Q(src) value re-expressed in Q(dst) (saturating, rounding)."""
    return saturating_rounding_multiply_by_pot(x, src_integer_bits - dst_integer_bits)


def rounding_half_sum(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp's RoundingHalfSum for int32: (a + b) / 2 rounded half away from zero, in 64-bit."""
    total = np.asarray(a, dtype=np.int64) + np.asarray(b, dtype=np.int64)
    sign = np.where(total >= 0, 1, -1)
    return _trunc_div(total + sign, 2)


def exp_on_interval_between_negative_one_quarter_and_0_excl(a: np.ndarray | int) -> np.ndarray:
    """exp(a) for a Q0.31 raw in [-1/4, 0): gemmlowp's 4th-order Taylor expansion around -1/8 (Q0.31 result)."""
    a = np.asarray(a, dtype=np.int64)
    srdhm = saturating_rounding_doubling_high_mul
    x = wrap_int32(a + (1 << 28))  # a + 1/8
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2)
    poly = saturating_rounding_multiply_by_pot(
        wrap_int32(srdhm(wrap_int32(x4_over_4 + x3), ONE_THIRD_Q0) + x2), -1)
    return wrap_int32(EXP_MINUS_ONE_EIGHTH_Q0 + srdhm(EXP_MINUS_ONE_EIGHTH_Q0, wrap_int32(x + poly)))


def exp_on_negative_values(a: np.ndarray | int, integer_bits: int) -> np.ndarray:
    """gemmlowp's exp_on_negative_values: exp(a) for a Q(integer_bits) raw a <= 0, as a Q0.31 raw.

    Splits a into (a mod 1/4) - 1/4 plus a sum of powers of two, evaluates the first part with
    :func:`exp_on_interval_between_negative_one_quarter_and_0_excl` and multiplies in exp(-2^k)
    for every set bit k (k = -2 .. 4, those the format can hold); exp(0) is INT32_MAX (gemmlowp's One).
    """
    a = np.asarray(a, dtype=np.int64)
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    a_mod_quarter_minus_one_quarter = wrap_int32((a & (one_quarter - 1)) - one_quarter)
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0))
    remainder = wrap_int32(a_mod_quarter_minus_one_quarter - a)
    for exponent, multiplier in EXP_BARREL_Q0:
        if integer_bits > exponent:
            bit = 1 << (fractional_bits + exponent)
            result = np.where((remainder & bit) != 0, saturating_rounding_doubling_high_mul(result, multiplier), result)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))  # -32.0: exp underflows to zero below it
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, INT32_MAX, result).astype(np.int64)


def one_over_one_plus_x_for_x_in_0_1(a: np.ndarray | int) -> np.ndarray:
    """gemmlowp's 1 / (1 + a) for a Q0.31 raw a in [0, 1): three Newton-Raphson steps, Q0.31 result."""
    a = np.asarray(a, dtype=np.int64)
    srdhm = saturating_rounding_doubling_high_mul
    half_denominator = rounding_half_sum(a, INT32_MAX)  # (1 + a) / 2, Q0
    x = wrap_int32(FORTY_EIGHT_OVER_SEVENTEEN_Q2 + srdhm(half_denominator, MINUS_THIRTY_TWO_OVER_SEVENTEEN_Q2))  # Q2
    one_q2 = 1 << 29
    for _ in range(3):
        half_denominator_times_x = srdhm(half_denominator, x)  # Q2
        one_minus = wrap_int32(one_q2 - half_denominator_times_x)  # Q2
        x = wrap_int32(x + rescale(srdhm(x, one_minus), 4, 2))  # Q2 * Q2 = Q4, back to Q2
    return rescale(x, 1, 0)  # x / 2 (ExactMulByPot<-1>: Q2 raw read as Q1), then to Q0


def count_leading_zeros_u32(x: np.ndarray | int) -> np.ndarray:
    """Leading zero bits of the 32-bit two's-complement pattern of x (32 for zero)."""
    u = np.asarray(x, dtype=np.int64) & 0xFFFFFFFF
    bit_length = np.zeros(u.shape, dtype=np.int64)
    for k in range(32):
        bit_length += (u >= (1 << k)).astype(np.int64)
    return 32 - bit_length


def get_reciprocal(x: np.ndarray | int, x_integer_digits: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's GetReciprocal: for a positive Q(x_integer_digits) raw, (Q0.31 raw of 2^k / x, k).

    k = ``num_bits_over_unit`` = x_integer_digits - clz(x); the reciprocal of x normalised into
    [1, 2) is taken with :func:`one_over_one_plus_x_for_x_in_0_1`.
    """
    x = np.asarray(x, dtype=np.int64)
    if np.any(x <= 0):
        raise ValueError("get_reciprocal needs positive values")
    headroom_plus_one = count_leading_zeros_u32(x)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted = ((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)  # in [0, 2^31): x in [1, 2) minus one, Q0
    return one_over_one_plus_x_for_x_in_0_1(shifted), num_bits_over_unit
