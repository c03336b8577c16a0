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

#if defined(__GNUC__)
#define EDGEC_UNLIKELY(c) __builtin_expect(!!(c), 0)
#else
#define EDGEC_UNLIKELY(c) (c)
#endif

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
 * edgec_requantize for a non-negative multiplier m, in fewer instructions, with the same result. With P = x * m:
 *  - SaturatingRoundingDoublingHighMul's nudged truncating division is high = floor((P + 2^30) / 2^31) for every
 *    product (the only saturating case, INT32_MIN * INT32_MIN, needs a negative multiplier).
 *  - shift >= 0 (no right shift): the result is high, of x << shift (wrapping).
 *  - shift = -r, r in [1, 31]: RoundingDivideByPOT(high, r) = floor((high + 2^(r-1) - [high < 0]) / 2^r), and
 *    floor((floor(A / 2^31) + c) / 2^r) = floor((A + c * 2^31) / 2^(31 + r)) for integer c, so the result is
 *    floor(Y / 2^(31 + r)) with Y = P + 2^30 + 2^(30 + r) - [high < 0] * 2^31: one 64-bit multiply-accumulate
 *    onto a constant, the high word, one arithmetic shift by r - 1. [high < 0] may be replaced by [x < 0]: they
 *    differ only when -2^30 <= P <= 0 with x < 0, where high = 0 and Y / 2^(31 + r) lies in [0, 1) either way.
 *    The constant minus [x < 0] * 2^31 is (lo, hi) = (2^30 | t << 31, t >> 1) with t = 2^(r-1), plus the
 *    sign-extended x & INT32_MIN (ADDS / ADC); |Y| < 2^63.
 * tests/test_fixedpoint.py checks it against edgec_requantize on edge and random values and every shift.
 */
/* The per-channel constants of edgec_requantize_nonneg for a right shift (shift in [-31, -1]), so that a kernel
 * can compute them once per channel: the 64-bit constant 2^30 + 2^(30 + r) as (lo, hi), the multiplier, r - 1. */
typedef struct {
    uint32_t lo;
    uint32_t hi;
    int32_t multiplier;
    uint32_t r1;
} edgec_rq_right;

static inline edgec_rq_right edgec_rq_right_make(int32_t multiplier, int32_t shift)
{
    const uint32_t r1 = (uint32_t)(-1 - shift); /* r - 1, in [0, 30] */
    const uint32_t t = 1u << r1;
    const edgec_rq_right q = {0x40000000u | (t << 31), t >> 1, multiplier, r1};
    return q;
}

/* edgec_requantize_nonneg(x, q->multiplier, shift) for the shift q was made from. */
static inline int32_t edgec_requantize_right(int32_t x, const edgec_rq_right *q)
{
    const uint64_t base = ((uint64_t)q->hi << 32) | q->lo;
    const int64_t neg = (int64_t)(x < 0 ? INT32_MIN : 0);
    const int64_t y = (int64_t)(base + (uint64_t)neg) + (int64_t)x * (int64_t)q->multiplier;
    return (int32_t)(y >> 32) >> q->r1;
}

/*
 * q with an output offset folded into its constant, so that edgec_requantize_right(x, &q) returns the requantized
 * value plus offset: floor((Y + offset * 2^(32 + r1)) / 2^(32 + r1)) = floor(Y / 2^(32 + r1)) + offset for the
 * integer offset. Exact inside int64 while q.r1 <= EDGEC_RQ_FOLD_MAX_R1 and |offset| <= 128: |x * m| < 2^62 and
 * |offset| * 2^(32 + r1) <= 2^61. Kernels then clamp the result to [act_min, act_max] directly.
 */
#define EDGEC_RQ_FOLD_MAX_R1 22

static inline edgec_rq_right edgec_rq_right_fold_offset(edgec_rq_right q, int32_t offset)
{
    q.hi += (uint32_t)offset << q.r1; /* adds offset * 2^(32 + r1) modulo 2^64 */
    return q;
}

static inline int32_t edgec_requantize_nonneg(int32_t x, int32_t multiplier, int32_t shift)
{
    if (EDGEC_UNLIKELY(shift >= 0)) {
        const int32_t shifted = (int32_t)((uint32_t)x << (uint32_t)shift);
        const int64_t ab = (int64_t)shifted * (int64_t)multiplier + ((int64_t)1 << 30);
        return (int32_t)(ab >> 31); /* arithmetic shift (GCC and Clang define it); fits int32 */
    }
    const edgec_rq_right q = edgec_rq_right_make(multiplier, shift);
    return edgec_requantize_right(x, &q);
}

/*
 * clamp(v + offset, lo, hi) for any int32 v, with offset, lo, hi in [-128, 127]: v first saturates to [-256, 255]
 * (one SSAT on Armv7-M and later), which leaves the result unchanged and keeps the sum from overflowing.
 */
static inline int32_t edgec_offset_clamp(int32_t v, int32_t offset, int32_t lo, int32_t hi)
{
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
    __asm__("ssat %0, #9, %1" : "=r"(v) : "r"(v));
#else
    v = v < -256 ? -256 : (v > 255 ? 255 : v);
#endif
    v += offset;
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
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
