/*
 * edgec runtime: float32 -> int8 (TFLite reference_ops::AffineQuantize semantics).
 *
 *   out = clamp(round_half_away(in / scale) + zero_point, -128, 127), the division in float.
 *
 * TFLite converts the rounded quotient to int32 with a plain cast, undefined for NaN and for
 * |quotient| >= 2^31 (x86 hosts produce INT32_MIN there). edgec defines both: out-of-range
 * quotients saturate, NaN maps to the zero point. No libm: the rounding is done by hand.
 */
#include <float.h>

#include "edgec_nn.h"

#include "edgec_fixedpoint.h"

/* Any |quotient| above this saturates whatever the zero point; it keeps the float -> int conversion exact. */
#define EDGEC_QUANTIZE_LIMIT 1024.0f

edgec_status edgec_quantize_f32_s8(const float *input, int32_t size, float scale, int32_t zero_point,
                                   int8_t *output)
{
    if (input == 0 || output == 0 || size < 0 || !(scale > 0.0f) || scale > FLT_MAX || zero_point < -128 ||
        zero_point > 127) {
        return EDGEC_ARG_ERROR;
    }
    for (int32_t i = 0; i < size; ++i) {
        float q = input[i] / scale;
        int32_t value = zero_point;
        if (q == q) { /* not NaN */
            if (q > EDGEC_QUANTIZE_LIMIT) {
                q = EDGEC_QUANTIZE_LIMIT;
            } else if (q < -EDGEC_QUANTIZE_LIMIT) {
                q = -EDGEC_QUANTIZE_LIMIT;
            }
            int32_t whole = (int32_t)q;           /* truncation toward zero */
            const float frac = q - (float)whole;  /* exact for |q| < 2^23 */
            whole += frac >= 0.5f ? 1 : (frac <= -0.5f ? -1 : 0);
            value = edgec_clamp(whole + zero_point, -128, 127);
        }
        output[i] = (int8_t)value;
    }
    return EDGEC_OK;
}
