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
    const edgec_dims *d = &shape->output;
    int8_t *out = output;
    for (int32_t n = 0; n < d->n; ++n) {
        for (int32_t h = 0; h < d->h; ++h) {
            for (int32_t w = 0; w < d->w; ++w) {
                for (int32_t c = 0; c < d->c; ++c) {
                    const int32_t v = input[edgec_broadcast_offset(&shape->stride1, n, h, w, c)] + params->input_offset;
                    int32_t value;
                    if (v >= 0) {
                        value = edgec_requantize(v, params->multiplier_pos, params->shift_pos);
                    } else {
                        const int32_t a = alpha[edgec_broadcast_offset(&shape->stride2, n, h, w, c)] +
                                          params->alpha_offset;
                        value = edgec_requantize(v * a, params->multiplier_neg, params->shift_neg);
                    }
                    *out++ = (int8_t)edgec_clamp(value + params->output_offset, -128, 127);
                }
            }
        }
    }
    return EDGEC_OK;
}
