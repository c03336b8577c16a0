/*
 * edgec runtime: int8 MUL with broadcasting (TFLite reference_integer_ops::Mul / BroadcastMul*Slow).
 *
 *   output = clamp(requantize((x1 + input1_offset) * (x2 + input2_offset), multiplier, shift)
 *                  + output_offset, act_min, act_max)
 *
 * The product of two offset int8 values is within [-65025, 65280]; the rescale may shift left
 * (the real multiplier s1 * s2 / s_out can exceed one) and wraps as the reference's does.
 */
#include "edgec_nn.h"

#include "edgec_elementwise_common.h"

static void edgec_mul_row(const void *params, const int8_t *input1, int32_t step1, const int8_t *input2,
                          int32_t step2, int32_t size, int8_t *output)
{
    const edgec_mul_params *p = (const edgec_mul_params *)params;
    for (int32_t c = 0; c < size; ++c) {
        const int32_t product = (input1[c * step1] + p->input1_offset) * (input2[c * step2] + p->input2_offset);
        const int32_t raw = edgec_requantize(product, p->output_multiplier, p->output_shift) + p->output_offset;
        output[c] = (int8_t)edgec_clamp(raw, p->act_min, p->act_max);
    }
}

edgec_status edgec_mul_s8(const edgec_mul_params *params, const edgec_broadcast *shape, const int8_t *input1,
                          const int8_t *input2, int8_t *output)
{
    if (params == 0 || input1 == 0 || input2 == 0 || output == 0 || !edgec_broadcast_ok(shape) ||
        !edgec_offset_ok(params->input1_offset) || !edgec_offset_ok(params->input2_offset) ||
        params->output_shift > 31 || params->output_shift < -31 || params->output_offset < -128 ||
        params->output_offset > 127 || params->act_min < -128 || params->act_max > 127 ||
        params->act_min > params->act_max) {
        return EDGEC_ARG_ERROR;
    }
    edgec_broadcast_rows(shape, params, input1, input2, output, edgec_mul_row);
    return EDGEC_OK;
}
