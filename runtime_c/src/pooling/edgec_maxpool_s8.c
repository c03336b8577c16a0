/*
 * edgec runtime: int8 max pooling (TFLite reference_integer_ops::MaxPool semantics).
 *
 * Each output cell is the maximum of the cells of its window inside the input (padding is never
 * read), clamped to [act_min, act_max].
 */
#include "edgec_nn.h"

#include "edgec_fixedpoint.h"
#include "edgec_pool_common.h"

edgec_status edgec_maxpool_s8(const edgec_pool_params *params, const edgec_dims *input_dims, const int8_t *input,
                              const edgec_dims *output_dims, int8_t *output)
{
    if (params == 0 || input_dims == 0 || input == 0 || output_dims == 0 || output == 0 ||
        !edgec_pool_args_ok(params, input_dims, output_dims)) {
        return EDGEC_ARG_ERROR;
    }
    const int32_t in_h = input_dims->h, in_w = input_dims->w, depth = input_dims->c;
    int8_t *dst = output;
    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *batch = input + (int64_t)b * in_h * in_w * depth;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride_h - params->pad_top;
            const int32_t ky_start = y0 < 0 ? -y0 : 0;
            const int32_t ky_end = params->filter_h < in_h - y0 ? params->filter_h : in_h - y0;
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t x0 = ox * params->stride_w - params->pad_left;
                const int32_t kx_start = x0 < 0 ? -x0 : 0;
                const int32_t kx_end = params->filter_w < in_w - x0 ? params->filter_w : in_w - x0;
                for (int32_t ch = 0; ch < depth; ++ch) {
                    int32_t best = -128;
                    for (int32_t ky = ky_start; ky < ky_end; ++ky) {
                        const int8_t *row = batch + ((int64_t)(y0 + ky) * in_w + (x0 + kx_start)) * depth + ch;
                        for (int32_t kx = 0; kx < kx_end - kx_start; ++kx) {
                            const int32_t v = row[(int64_t)kx * depth];
                            best = v > best ? v : best;
                        }
                    }
                    *dst++ = (int8_t)edgec_clamp(best, params->act_min, params->act_max);
                }
            }
        }
    }
    return EDGEC_OK;
}
