/*
 * edgec runtime, internal to the fast convolution kernels: requantize, offset and clamp up to four outputs at a
 * time, with exactly the results of finish() in edgec_conv_common.h.
 *
 * Helium (__ARM_FEATURE_MVE): one vector of four lanes. VQRDMULH is floor((a * b + 2^30) / 2^31), which is the
 * reference's SaturatingRoundingDoublingHighMul for a non-negative multiplier; RoundingDivideByPOT (half away from
 * zero) is VRSHL's half-up rounding shift after subtracting 1 from negative lanes (saturating, which leaves
 * INT32_MIN exact); the output offset is added with saturation so the clamp sees the true order; VSTRB.32 narrows.
 * Elsewhere: finish()'s arithmetic per output.
 */
#ifndef EDGEC_FINISH4_H
#define EDGEC_FINISH4_H

#include <stdint.h>

#include "edgec_conv_common.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#endif

/* out[j] for j < n (n <= 4) from acc[j] with channel j's multiplier and shift; returns out + n. */
static inline int8_t *finish4(const uint32_t acc[4], const int32_t *multiplier, const int32_t *shift,
                              const edgec_conv_params *params, int32_t n, int8_t *out)
{
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
    const mve_pred16_t p = vctp32q((uint32_t)n);
    const int whole = n == 4; /* folded where the caller passes 4: no VPST before each load */
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t s = whole ? vldrwq_s32(shift) : vldrwq_z_s32(shift, p);
    const int32x4_t m = whole ? vldrwq_s32(multiplier) : vldrwq_z_s32(multiplier, p);
    const int32x4_t right = vminq_s32(s, zero); /* minus the right shift */
    int32x4_t x = vldrwq_s32((const int32_t *)(const void *)acc);
    x = vshlq_s32(x, vmaxq_s32(s, zero)); /* wrapping left shift, as (uint32_t)x << left */
    x = vqrdmulhq_s32(x, m);
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, right), 31)); /* -1 on negative lanes that shift right */
    x = vrshlq_s32(x, right);
    x = vqaddq_s32(x, vdupq_n_s32(params->output_offset));
    x = vmaxq_s32(x, vdupq_n_s32(params->act_min));
    x = vminq_s32(x, vdupq_n_s32(params->act_max));
    if (whole) {
        vstrbq_s32(out, x);
    } else {
        vstrbq_p_s32(out, x, p);
    }
#else
    /* finish() with the offset and clamp bounds read once per group (the stores to out may alias params). */
    const int32_t offset = params->output_offset;
    const int32_t lo = params->act_min;
    const int32_t hi = params->act_max;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
    for (int32_t j = 0; j < n; ++j) {
        const int32_t v = edgec_requantize_nonneg(edgec_wrap_int32(acc[j]), multiplier[j], shift[j]);
        out[j] = (int8_t)edgec_offset_clamp(v, offset, lo, hi);
    }
#endif
    return out + n;
}

#endif /* EDGEC_FINISH4_H */
