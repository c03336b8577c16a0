/*
 * edgec runtime: integer requantization with TFLite's reference rounding.
 *
 * Mirrors compiler/fixedpoint.py bit for bit: a rescale is
 *   rounding_divide_by_pot(srdhm(x << left, multiplier), right)
 * with (left, right) split from a TFLite-convention shift (positive = left).
 */
#ifndef EDGEC_FIXEDPOINT_H
#define EDGEC_FIXEDPOINT_H

#include <stdint.h>

/* uint32_t -> int32_t two's-complement reinterpretation (accumulators wrap in uint32_t, where it is defined). */
static inline int32_t edgec_wrap_int32(uint32_t v)
{
    return v <= (uint32_t)INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

/* gemmlowp SaturatingRoundingDoublingHighMul: round(a * b / 2^31), saturating INT32_MIN * INT32_MIN. */
static inline int32_t edgec_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent, rounding half away from zero; 0 <= exponent <= 31. */
static inline int32_t edgec_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLite MultiplyByQuantizedMultiplier (double rounding). */
static inline int32_t edgec_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int32_t shifted = (int32_t)((uint32_t)x << left); /* wraps like the reference's int32 multiply */
    return edgec_rounding_divide_by_pot(edgec_srdhm(shifted, multiplier), right);
}

/*
 * edgec_requantize for a non-negative multiplier, in fewer instructions, with the same result:
 *  - SaturatingRoundingDoublingHighMul's nudged truncating division equals floor((a * b + 2^30) / 2^31) for every
 *    product (the only saturating case, INT32_MIN * INT32_MIN, needs a negative multiplier): one 64-bit
 *    multiply-accumulate and a shift;
 *  - RoundingDivideByPOT with a 32-bit mask (the exponent is at most 31).
 * tests/test_fixedpoint.py checks it against edgec_requantize on edge and random values.
 */
static inline int32_t edgec_requantize_nonneg(int32_t x, int32_t multiplier, int32_t shift)
{
    const uint32_t left = (uint32_t)(shift > 0 ? shift : 0);
    const int32_t right = (int32_t)left - shift;
    const int32_t shifted = (int32_t)((uint32_t)x << left);
    const int64_t ab = (int64_t)shifted * (int64_t)multiplier + ((int64_t)1 << 30);
    const int32_t high = (int32_t)(ab >> 31); /* arithmetic shift (GCC and Clang define it); fits int32 */
    const int32_t mask = (int32_t)((1u << right) - 1u);
    const int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
    return (high >> right) + ((high & mask) > threshold ? 1 : 0);
}

/*
 * C's (int32_t)round(x) for doubles (half away from zero), saturating outside int32 where the
 * plain cast is undefined. No libm: truncate, then compare the exact remainder.
 */
static inline int32_t edgec_round_to_int32(double x)
{
    if (!(x > -2147483648.0)) { /* also NaN */
        return x != x ? 0 : INT32_MIN;
    }
    if (x >= 2147483647.0) {
        return INT32_MAX;
    }
    const int32_t whole = (int32_t)x; /* truncates toward zero */
    const double frac = x - (double)whole;
    if (frac >= 0.5) {
        return whole + 1;
    }
    if (frac <= -0.5) {
        return whole - 1;
    }
    return whole;
}

static inline int32_t edgec_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

#endif /* EDGEC_FIXEDPOINT_H */
