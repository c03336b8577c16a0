/*
 * edgec runtime: int8 elementwise ADD (TFLite reference_integer_ops::AddFunc semantics).
 *
 *   v_i    = (x_i + input_i_offset) << left_shift
 *   s_i    = requantize(v_i, input_i_multiplier, input_i_shift)        (shift <= 0)
 *   output = clamp(requantize(s_1 + s_2, output_multiplier, output_shift) + output_offset)
 *
 * SUB is the same with a negative input2_multiplier. With TFLite's parameters (left_shift 20,
 * multipliers of magnitude below one) no intermediate overflows int32; the argument checks bound
 * every parameter so that this holds for any accepted call.
 */
#include "edgec_nn.h"

#include "edgec_elementwise_common.h"

edgec_status edgec_add_s8(const edgec_add_params *params, const int8_t *input1, const int8_t *input2,
                          int32_t size, int8_t *output)
{
    if (params == 0 || input1 == 0 || input2 == 0 || output == 0 || size < 0 || !edgec_add_params_ok(params)) {
        return EDGEC_ARG_ERROR;
    }
    for (int32_t i = 0; i < size; ++i) {
        output[i] = edgec_add_element(params, input1[i], input2[i]);
    }
    return EDGEC_OK;
}
