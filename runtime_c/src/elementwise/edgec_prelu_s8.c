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

static void edgec_prelu_row(const void *params, const int8_t *input, int32_t step1, const int8_t *alpha,
                            int32_t step2, int32_t size, int8_t *output)
{
    const edgec_prelu_params *p = (const edgec_prelu_params *)params;
    for (int32_t c = 0; c < size; ++c) {
        const int32_t v = input[c * step1] + p->input_offset;
        const int32_t value = v >= 0 ? edgec_requantize(v, p->multiplier_pos, p->shift_pos)
                                     : edgec_requantize(v * (alpha[c * step2] + p->alpha_offset), p->multiplier_neg,
                                                        p->shift_neg);
        output[c] = (int8_t)edgec_clamp(value + p->output_offset, -128, 127);
    }
}

edgec_status edgec_prelu_s8(const edgec_prelu_params *params, const edgec_broadcast *shape, const int8_t *input,
                            const int8_t *alpha, int8_t *output)
{
    if (params == 0 || input == 0 || alpha == 0 || output == 0 || !edgec_broadcast_ok(shape) ||
        !edgec_offset_ok(params->input_offset) || !edgec_offset_ok(params->alpha_offset) ||
        params->shift_pos > 31 || params->shift_pos < -31 || params->shift_neg > 31 || params->shift_neg < -31 ||
        params->output_offset < -128 || params->output_offset > 127) {
        return EDGEC_ARG_ERROR;
    }
    edgec_broadcast_rows(shape, params, input, alpha, output, edgec_prelu_row);
    return EDGEC_OK;
}
