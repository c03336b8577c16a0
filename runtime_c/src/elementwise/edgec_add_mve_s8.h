/*
 * edgec runtime, internal to edgec_add_table_s8.c: the Helium (MVE) loop of the table ADD (compiled only where
 * __ARM_FEATURE_MVE has integer MVE).
 *
 * Four elements per step, in int32 lanes: VLDRB.S32 widens four int8 values of each input, VLDRW gathers their
 * rescaled terms from the two tables (the signed value, scaled by 4, is the offset from the table's middle; the
 * address is formed modulo 2^32, so negative values index below it), VADD adds them (wrapping, as the scalar
 * loop), and the sum is requantized as edgec_requantize(sum, multiplier, shift) for the accepted non-negative
 * multiplier and right shift r = -shift in [0, 31]: VQRDMULH is floor((a * m + 2^30) / 2^31), TFLite's
 * SaturatingRoundingDoublingHighMul for m >= 0; RoundingDivideByPOT (half away from zero) is VRSHL's half-up
 * rounding shift after subtracting 1 from the negative lanes when r > 0 (saturating, so INT32_MIN stays exact).
 * The offset is added with saturation, the clamp applied to int32 lanes and VSTRB.32 stores the low bytes. The
 * last 1-3 elements load under a VCTP predicate (the inactive lanes read 0, whose term exists) and store under it.
 * Each element's inputs are read before its output is written and a step reads only its own four elements, so
 * output may alias either input.
 */
#ifndef EDGEC_ADD_MVE_S8_H
#define EDGEC_ADD_MVE_S8_H

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#include <stdint.h>

#include "edgec_nn.h"

/* The outputs of four elements x1, x2 (inactive lanes read 0, a valid index). */
static inline int32x4_t edgec_add_mve_step(const int32_t *table1, const int32_t *table2, int32x4_t x1, int32x4_t x2,
                                           int32_t multiplier, int32x4_t right, int32_t offset, int32x4_t lo,
                                           int32x4_t hi)
{
    const int32x4_t t1 = vldrwq_gather_shifted_offset_s32(table1, vreinterpretq_u32_s32(x1));
    const int32x4_t t2 = vldrwq_gather_shifted_offset_s32(table2, vreinterpretq_u32_s32(x2));
    int32x4_t v = vaddq_s32(t1, t2);
    v = vqrdmulhq_n_s32(v, multiplier);
    v = vqaddq_s32(v, vshrq_n_s32(vandq_s32(v, right), 31)); /* -1 on negative lanes that shift right */
    v = vrshlq_s32(v, right);
    v = vqaddq_n_s32(v, offset);
    v = vmaxq_s32(v, lo);
    return vminq_s32(v, hi);
}

/* table1 / table2 point at the term of value 0 (tables + 128, tables + 384). */
static inline void edgec_add_table_mve_s8(const edgec_add_params *params, const int32_t *table1,
                                          const int32_t *table2, const int8_t *input1, const int8_t *input2,
                                          int32_t size, int8_t *output)
{
    const int32_t multiplier = params->output_multiplier;
    const int32x4_t right = vdupq_n_s32(params->output_shift); /* minus the right shift, in [-31, 0] */
    const int32_t offset = params->output_offset;
    const int32x4_t lo = vdupq_n_s32(params->act_min);
    const int32x4_t hi = vdupq_n_s32(params->act_max);
    int32_t left = size;
    for (; left >= 4; left -= 4) { /* whole steps unpredicated */
        const int32x4_t y = edgec_add_mve_step(table1, table2, vldrbq_s32(input1), vldrbq_s32(input2), multiplier,
                                               right, offset, lo, hi);
        vstrbq_s32(output, y);
        input1 += 4;
        input2 += 4;
        output += 4;
    }
    if (left > 0) {
        const mve_pred16_t p = vctp32q((uint32_t)left);
        const int32x4_t y = edgec_add_mve_step(table1, table2, vldrbq_z_s32(input1, p), vldrbq_z_s32(input2, p),
                                               multiplier, right, offset, lo, hi);
        vstrbq_p_s32(output, y, p);
    }
}

#endif

#endif /* EDGEC_ADD_MVE_S8_H */
