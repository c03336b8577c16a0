/*
 * edgec runtime: int8 average pooling (TFLite reference_integer_ops::AveragePool semantics).
 *
 * Each output cell averages the cells of its window that lie inside the input (padding is never
 * read): the int32 sum is divided by the count rounding half away from zero, then clamped to
 * [act_min, act_max].
 */
#include "edgec_nn.h"

#include "edgec_fixedpoint.h"
#include "edgec_pool_common.h"

/* The shared checks, plus: at most 2^24 cells per window keeps a sum of int8 values inside int32. */
static int edgec_avgpool_args_ok(const edgec_pool_params *p, const edgec_dims *in, const edgec_dims *out)
{
    if (!edgec_pool_args_ok(p, in, out)) {
        return 0;
    }
    const int64_t cells_h = p->filter_h < in->h ? p->filter_h : in->h;
    const int64_t cells_w = p->filter_w < in->w ? p->filter_w : in->w;
    return cells_h * cells_w <= ((int64_t)1 << 24);
}

edgec_status edgec_avgpool_s8(const edgec_pool_params *params, const edgec_dims *input_dims, const int8_t *input,
                              const edgec_dims *output_dims, int8_t *output)
{
    if (params == 0 || input_dims == 0 || input == 0 || output_dims == 0 || output == 0 ||
        !edgec_avgpool_args_ok(params, input_dims, output_dims)) {
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
                const int32_t count = (ky_end - ky_start) * (kx_end - kx_start);
                for (int32_t ch = 0; ch < depth; ++ch) {
                    int32_t acc = 0;
                    for (int32_t ky = ky_start; ky < ky_end; ++ky) {
                        const int8_t *row = batch + ((int64_t)(y0 + ky) * in_w + (x0 + kx_start)) * depth + ch;
                        for (int32_t kx = 0; kx < kx_end - kx_start; ++kx) {
                            acc += row[(int64_t)kx * depth];
                        }
                    }
                    /* Round half away from zero; C division truncates toward zero. */
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    *dst++ = (int8_t)edgec_clamp(acc, params->act_min, params->act_max);
                }
            }
        }
    }
    return EDGEC_OK;
}
