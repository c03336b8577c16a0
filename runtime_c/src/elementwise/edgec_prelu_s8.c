/*
 * edgec runtime: int8 PRELU with a broadcast alpha (TFLite reference_ops::BroadcastPrelu4DSlow).
 *
 *   v = x + input_offset
 *   v >= 0: out = requantize(v, multiplier_pos, shift_pos)
 *   v <  0: out = requantize(v * (alpha + alpha_offset), multiplier_neg, shift_neg)
 *   output = clamp(out + output_offset, -128, 127)
 */
#include "edgec_nn.h"

#include "edgec_elementwise_common.h"

edgec_status edgec_prelu_s8(const edgec_prelu_params *params, const edgec_broadcast *shape, const int8_t *input,
                            const int8_t *alpha, int8_t *output)
{
    if (params == 0 || input == 0 || alpha == 0 || output == 0 || !edgec_broadcast_ok(shape) ||
        !edgec_offset_ok(params->input_offset) || !edgec_offset_ok(params->alpha_offset) ||
        params->shift_pos > 31 || params->shift_pos < -31 || params->shift_neg > 31 || params->shift_neg < -31 ||
        params->output_offset < -128 || params->output_offset > 127) {
        return EDGEC_ARG_ERROR;
    }
    const int32_t c1 = shape->stride1.c;
    const int32_t c2 = shape->stride2.c;
    edgec_walk it = {0, 0, 0, 0};
    int8_t *out = output;
    for (int32_t row = edgec_walk_rows(shape); row > 0; --row, edgec_walk_next_row(shape, &it)) {
        const int8_t *x = input + it.offset1;
        const int8_t *a = alpha + it.offset2;
        for (int32_t c = 0; c < shape->output.c; ++c) {
            const int32_t v = x[c * c1] + params->input_offset;
            const int32_t value =
                v >= 0 ? edgec_requantize(v, params->multiplier_pos, params->shift_pos)
                       : edgec_requantize(v * (a[c * c2] + params->alpha_offset), params->multiplier_neg,
                                          params->shift_neg);
            *out++ = (int8_t)edgec_clamp(value + params->output_offset, -128, 127);
        }
    }
    return EDGEC_OK;
}
