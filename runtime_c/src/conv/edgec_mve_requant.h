/*
 * edgec runtime, internal to the Helium (MVE) convolution kernels: requantize, clamp and offset four int32 lanes,
 * with exactly the results of finish() in edgec_conv_common.h (the arithmetic of finish4 in edgec_finish4.h).
 *
 * VQRDMULH is floor((a * b + 2^30) / 2^31), the reference's SaturatingRoundingDoublingHighMul for a non-negative
 * multiplier; RoundingDivideByPOT (half away from zero) is VRSHL's half-up rounding shift after subtracting 1 from
 * negative lanes that shift right (saturating, which leaves INT32_MIN exact); the offset is added with saturation
 * so the clamp sees the true order. Compiled only on Helium.
 */
#ifndef EDGEC_MVE_REQUANT_H
#define EDGEC_MVE_REQUANT_H

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#include <stdint.h>

/* The output range of one call, splatted once. */
typedef struct {
    int32x4_t offset;
    int32x4_t lo;
    int32x4_t hi;
} edgec_mve_range;

static inline edgec_mve_range edgec_mve_range_make(int32_t offset, int32_t act_min, int32_t act_max)
{
    edgec_mve_range r;
    r.offset = vdupq_n_s32(offset);
    r.lo = vdupq_n_s32(act_min);
    r.hi = vdupq_n_s32(act_max);
    return r;
}

/* Four accumulators x with their channels' multiplier m and shift s: the int8 outputs as int32 lanes. */
static inline int32x4_t edgec_mve_requant(int32x4_t x, int32x4_t m, int32x4_t s, edgec_mve_range r)
{
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t right = vminq_s32(s, zero); /* minus the right shift */
    x = vshlq_s32(x, vmaxq_s32(s, zero));       /* wrapping left shift, as (uint32_t)x << left */
    x = vqrdmulhq_s32(x, m);
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, right), 31)); /* -1 on negative lanes that shift right */
    x = vrshlq_s32(x, right);
    x = vqaddq_s32(x, r.offset);
    x = vmaxq_s32(x, r.lo);
    return vminq_s32(x, r.hi);
}

/* edgec_mve_requant with the shift split once per channel group (left = max(shift, 0), right = min(shift, 0)) and
 * the output offset a scalar (VQADD with a register): fewer live vectors where one group serves several
 * positions. */
static inline int32x4_t edgec_mve_requant_split(int32x4_t x, int32x4_t m, int32x4_t left, int32x4_t right,
                                                int32_t offset, int32x4_t lo, int32x4_t hi)
{
    x = vshlq_s32(x, left);
    x = vqrdmulhq_s32(x, m);
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, right), 31));
    x = vrshlq_s32(x, right);
    x = vqaddq_n_s32(x, offset);
    x = vmaxq_s32(x, lo);
    return vminq_s32(x, hi);
}

/* The requantized accumulators x plus the output offset (saturating), before the clamp: with the clamp applied
 * after a saturating narrowing to int16 (edgec_mve_clamp16; the bounds lie inside int16, so the result is the
 * same) eight channels share one clamp and the bounds are not live during the arithmetic. */
static inline int32x4_t edgec_mve_requant_unclamped(int32x4_t x, int32x4_t m, int32x4_t s, int32_t offset)
{
    const int32x4_t zero = vdupq_n_s32(0);
    x = vshlq_s32(x, vmaxq_s32(s, zero));
    x = vqrdmulhq_s32(x, m);
    const int32x4_t right = vminq_s32(s, zero);
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, right), 31));
    x = vrshlq_s32(x, right);
    return vqaddq_n_s32(x, offset);
}

/* Even lanes e and odd lanes o (edgec_mve_requant_unclamped) narrowed with saturation into eight int16 lanes in
 * channel order, clamped to [lo, hi]. */
static inline int16x8_t edgec_mve_clamp16(int32x4_t e, int32x4_t o, int16_t lo, int16_t hi)
{
    int16x8_t y = vqmovntq_s32(vqmovnbq_s32(vdupq_n_s16(0), e), o);
    y = vmaxq_s16(y, vdupq_n_s16(lo));
    return vminq_s16(y, vdupq_n_s16(hi));
}

#endif

#endif /* EDGEC_MVE_REQUANT_H */
