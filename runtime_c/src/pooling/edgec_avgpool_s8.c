/*
 * edgec runtime: int8 average pooling (TFLite reference_integer_ops::AveragePool semantics).
 *
 * Each output cell averages the cells of its window that lie inside the input (padding is never
 * read): the int32 sum is divided by the count rounding half away from zero, then clamped to
 * [act_min, act_max].
 *
 * Windows of at most 256 cells sum four channels at a time in two 32-bit words (SWAR, every target): each loaded
 * word of four int8 is biased to unsigned bytes (x ^ 0x80 = x + 128), and bytes 0/2 and 1/3 are added into the
 * halfwords of two words. A halfword then holds at most 256 * 255 = 65280, so no carry crosses lanes, and the
 * true sum is the lane minus 128 * count. That is three ALU operations per four cells instead of four loads
 * and four adds. The remaining depth % 4 channels, and larger windows, take the per-channel loop.
 */
#include "edgec_nn.h"

#include <string.h>

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

#define SWAR_MAX_CELLS 256 /* a halfword lane holds 256 * 255 */

/* The window sums of channels c..c+3 (from p: rows x cols cells at row_stride / col_stride bytes), in SWAR
 * halfword lanes (see the header comment); bias = 128 * cells. */
static inline void sum4(const int8_t *p, size_t row_stride, size_t col_stride, int32_t rows, int32_t cols,
                        int32_t bias, int32_t sums[4])
{
    uint32_t even = 0u; /* channels c and c + 2 */
    uint32_t odd = 0u;  /* channels c + 1 and c + 3 */
    for (int32_t ky = 0; ky < rows; ++ky) {
        const int8_t *q = p + (size_t)ky * row_stride;
        for (int32_t kx = 0; kx < cols; ++kx) {
            uint32_t v;
            memcpy(&v, q, sizeof v);
            v ^= 0x80808080u;
            even += v & 0x00ff00ffu;
            odd += (v >> 8) & 0x00ff00ffu;
            q += col_stride;
        }
    }
    sums[0] = (int32_t)(even & 0xffffu) - bias;
    sums[1] = (int32_t)(odd & 0xffffu) - bias;
    sums[2] = (int32_t)(even >> 16) - bias;
    sums[3] = (int32_t)(odd >> 16) - bias;
}

/* The sum of count cells divided by count, rounding half away from zero (C division truncates toward zero),
 * clamped to the activation range. */
static inline int8_t average(int32_t acc, int32_t count, const edgec_pool_params *params)
{
    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
    return (int8_t)edgec_clamp(acc, params->act_min, params->act_max);
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
                const int8_t *first = batch + ((int64_t)(y0 + ky_start) * in_w + (x0 + kx_start)) * depth;
                const int32_t rows = ky_end - ky_start;
                const int32_t cols = kx_end - kx_start;
                int32_t ch = 0;
                if (count <= SWAR_MAX_CELLS) {
                    for (; ch + 4 <= depth; ch += 4) {
                        int32_t sums[4];
                        sum4(first + ch, (size_t)in_w * (size_t)depth, (size_t)depth, rows, cols, 128 * count, sums);
                        for (int32_t j = 0; j < 4; ++j) {
                            *dst++ = average(sums[j], count, params);
                        }
                    }
                }
                for (; ch < depth; ++ch) {
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < rows; ++ky) {
                        const int8_t *row = first + (int64_t)ky * in_w * depth + ch;
                        for (int32_t kx = 0; kx < cols; ++kx) {
                            acc += row[(int64_t)kx * depth];
                        }
                    }
                    *dst++ = average(acc, count, params);
                }
            }
        }
    }
    return EDGEC_OK;
}
