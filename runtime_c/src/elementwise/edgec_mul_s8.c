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
    const int32_t c1 = shape->stride1.c;
    const int32_t c2 = shape->stride2.c;
    edgec_walk it = {0, 0, 0, 0};
    int8_t *out = output;
    for (int32_t row = edgec_walk_rows(shape); row > 0; --row, edgec_walk_next_row(shape, &it)) {
        const int8_t *x1 = input1 + it.offset1;
        const int8_t *x2 = input2 + it.offset2;
        for (int32_t c = 0; c < shape->output.c; ++c) {
            const int32_t product = (x1[c * c1] + params->input1_offset) * (x2[c * c2] + params->input2_offset);
            const int32_t raw =
                edgec_requantize(product, params->output_multiplier, params->output_shift) + params->output_offset;
            *out++ = (int8_t)edgec_clamp(raw, params->act_min, params->act_max);
        }
    }
    return EDGEC_OK;
}
