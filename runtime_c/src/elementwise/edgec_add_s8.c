/*
 * edgec runtime: int8 elementwise ADD (TFLite reference_integer_ops::AddFunc semantics).
 *
 *   v_i    = (x_i + input_i_offset) << left_shift
 *   s_i    = requantize(v_i, input_i_multiplier, input_i_shift)        (shift <= 0)
 *   output = clamp(requantize(s_1 + s_2, output_multiplier, output_shift) + output_offset)
 *
 * With TFLite's parameters (left_shift 20, multipliers below one) no intermediate overflows int32;
 * the argument checks bound every parameter so that this holds for any accepted call.
 */
#include "edgec_nn.h"

#include "edgec_fixedpoint.h"

static int edgec_add_offset_ok(int32_t offset)
{
    return offset >= -127 && offset <= 128; /* the negated zero point of an int8 tensor */
}

static int edgec_add_rescale_ok(int32_t multiplier, int32_t shift)
{
    return multiplier >= 0 && shift <= 0 && shift >= -31;
}

edgec_status edgec_add_s8(const edgec_add_params *params, const int8_t *input1, const int8_t *input2,
                          int32_t size, int8_t *output)
{
    if (params == 0 || input1 == 0 || input2 == 0 || output == 0 || size < 0) {
        return EDGEC_ARG_ERROR;
    }
    /* (x + offset) is within [-255, 255]; 255 << 22 and the sum of two such values fit in int32. */
    if (!edgec_add_offset_ok(params->input1_offset) || !edgec_add_offset_ok(params->input2_offset) ||
        params->left_shift < 0 || params->left_shift > 22 ||
        !edgec_add_rescale_ok(params->input1_multiplier, params->input1_shift) ||
        !edgec_add_rescale_ok(params->input2_multiplier, params->input2_shift) ||
        !edgec_add_rescale_ok(params->output_multiplier, params->output_shift) || params->output_offset < -128 ||
        params->output_offset > 127 || params->act_min < -128 || params->act_max > 127 ||
        params->act_min > params->act_max) {
        return EDGEC_ARG_ERROR;
    }
    for (int32_t i = 0; i < size; ++i) {
        const int32_t shifted1 = (input1[i] + params->input1_offset) * ((int32_t)1 << params->left_shift);
        const int32_t shifted2 = (input2[i] + params->input2_offset) * ((int32_t)1 << params->left_shift);
        const int32_t scaled1 = edgec_requantize(shifted1, params->input1_multiplier, params->input1_shift);
        const int32_t scaled2 = edgec_requantize(shifted2, params->input2_multiplier, params->input2_shift);
        const int32_t raw = edgec_requantize(scaled1 + scaled2, params->output_multiplier, params->output_shift) +
                            params->output_offset;
        output[i] = (int8_t)edgec_clamp(raw, params->act_min, params->act_max);
    }
    return EDGEC_OK;
}
