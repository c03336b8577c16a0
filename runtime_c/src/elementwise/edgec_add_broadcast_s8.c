/*
 * edgec runtime: int8 ADD / SUB with broadcasting (TFLite reference_integer_ops::BroadcastAdd*Slow).
 *
 * The arithmetic is edgec_add_s8's; operand k is read at n*stride_k.n + h*stride_k.h + w*stride_k.w
 * + c*stride_k.c for every output position (n, h, w, c), so a zero stride repeats it.
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
    const edgec_dims *d = &shape->output;
    int8_t *out = output;
    for (int32_t n = 0; n < d->n; ++n) {
        for (int32_t h = 0; h < d->h; ++h) {
            for (int32_t w = 0; w < d->w; ++w) {
                for (int32_t c = 0; c < d->c; ++c) {
                    const int8_t x1 = input1[edgec_broadcast_offset(&shape->stride1, n, h, w, c)];
                    const int8_t x2 = input2[edgec_broadcast_offset(&shape->stride2, n, h, w, c)];
                    *out++ = edgec_add_element(params, x1, x2);
                }
            }
        }
    }
    return EDGEC_OK;
}
