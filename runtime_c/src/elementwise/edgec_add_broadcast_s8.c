/*
 * edgec runtime: int8 ADD / SUB with broadcasting (TFLite reference_integer_ops::BroadcastAdd*Slow).
 *
 * The arithmetic is edgec_add_s8's; operand k is read at n*stride_k.n + h*stride_k.h + w*stride_k.w
 * + c*stride_k.c for every output position (n, h, w, c), so a zero stride repeats it (edgec_walk).
 */
#include "edgec_nn.h"

#include "edgec_elementwise_common.h"

edgec_status edgec_add_broadcast_s8(const edgec_add_params *params, const edgec_broadcast *shape,
                                    const int8_t *input1, const int8_t *input2, int8_t *output)
{
    if (params == 0 || input1 == 0 || input2 == 0 || output == 0 || !edgec_broadcast_ok(shape) ||
        !edgec_add_params_ok(params)) {
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
            *out++ = edgec_add_element(params, x1[c * c1], x2[c * c2]);
        }
    }
    return EDGEC_OK;
}
