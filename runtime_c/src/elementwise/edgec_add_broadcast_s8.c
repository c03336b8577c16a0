/*
 * edgec runtime: int8 ADD / SUB with broadcasting (TFLite reference_integer_ops::BroadcastAdd*Slow).
 *
 * The arithmetic is edgec_add_s8's; operand k is read at n*stride_k.n + h*stride_k.h + w*stride_k.w
 * + c*stride_k.c for every output position (n, h, w, c), so a zero stride repeats it.
 */
#include "edgec_nn.h"

#include "edgec_elementwise_common.h"

static void edgec_add_row(const void *params, const int8_t *input1, int32_t step1, const int8_t *input2,
                          int32_t step2, int32_t size, int8_t *output)
{
    for (int32_t c = 0; c < size; ++c) {
        output[c] = edgec_add_element((const edgec_add_params *)params, input1[c * step1], input2[c * step2]);
    }
}

edgec_status edgec_add_broadcast_s8(const edgec_add_params *params, const edgec_broadcast *shape,
                                    const int8_t *input1, const int8_t *input2, int8_t *output)
{
    if (params == 0 || input1 == 0 || input2 == 0 || output == 0 || !edgec_broadcast_ok(shape) ||
        !edgec_add_params_ok(params)) {
        return EDGEC_ARG_ERROR;
    }
    edgec_broadcast_rows(shape, params, input1, input2, output, edgec_add_row);
    return EDGEC_OK;
}
