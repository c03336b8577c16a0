/*
 * edgec runtime: int8 2-D convolution, fast path (see edgec_convolve_fast_s8 in edgec_nn.h).
 *
 * Same arguments and results as edgec_convolve_s8. Per output position the in-bounds tap range is computed once.
 * A window of at most PATCH_MAX bytes is copied into a stack buffer with its out-of-bounds taps set to pad_value
 * (a full 1 x KW window with dilation_w 1 is already contiguous and is used in place), so every output channel is
 * one dot product over the window. Larger windows use runs:
 * the taps of one kernel row that fall inside the input are contiguous in both the NHWC input and the OHWI
 * filter when dilation_w is 1 (one run of (kx1 - kx0) * IC bytes), so each kernel row is one dot product.
 * Four output channels are computed together (edgec_dot4_s8: the input is loaded and unpacked once for four
 * weight rows), on the DSP extension with SMLAD, on Helium with VMLADAVA, in portable C otherwise; leftover
 * channels use the single-row dot product. Border taps read pad_value: their contribution is the same dot
 * product over the missing taps' weights with a vector of pad values (so a border pixel costs about twice an
 * interior one). The 32-bit sums wrap like the reference's int32 accumulator.
 */
#include <stddef.h>
#include <string.h>

#include "edgec_dot_s8.h"
#include "edgec_conv_common.h"
#include "edgec_finish4.h"

#define PAD_RUN 64 /* bytes of pad_value the border correction multiplies weights with per step */

/* acc[j] (j < n; n is 4 or 1) += pad * (weights of taps [r0, r1) x [c0, c1) of channel oc + j): one contiguous
 * weight run per kernel row, dotted in steps of PAD_RUN with a vector of pad values. */
static void add_pad_rect(const int8_t *pad, const int8_t *w_oc, size_t filter_per_oc, int32_t k_w, int32_t in_c,
                         int32_t r0, int32_t r1, int32_t c0, int32_t c1, int32_t n, uint32_t *acc)
{
    for (int32_t ky = r0; ky < r1; ++ky) {
        const int8_t *w = w_oc + ((size_t)ky * (size_t)k_w + (size_t)c0) * (size_t)in_c;
        size_t len = c1 > c0 ? (size_t)(c1 - c0) * (size_t)in_c : 0u;
        while (len > 0) {
            const size_t step = len < PAD_RUN ? len : PAD_RUN;
            if (n == 4) {
                edgec_dot4_s8(pad, w, filter_per_oc, step, acc);
            } else {
                acc[0] = edgec_dot1_s8(pad, w, step, acc[0]);
            }
            w += step;
            len -= step;
        }
    }
}

/* The taps outside [ky0, ky1) x [kx0, kx1) read pad_value: rows above and below, then left and right of the run. */
static void add_pad_taps(const int8_t *pad, const int8_t *w_oc, size_t filter_per_oc, int32_t k_h, int32_t k_w,
                         int32_t in_c, int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1, int32_t n, uint32_t *acc)
{
    add_pad_rect(pad, w_oc, filter_per_oc, k_w, in_c, 0, ky0, 0, k_w, n, acc);
    add_pad_rect(pad, w_oc, filter_per_oc, k_w, in_c, ky1, k_h, 0, k_w, n, acc);
    add_pad_rect(pad, w_oc, filter_per_oc, k_w, in_c, ky0, ky1, 0, kx0, n, acc);
    add_pad_rect(pad, w_oc, filter_per_oc, k_w, in_c, ky0, ky1, kx1, k_w, n, acc);
}

#define PATCH_MAX 1024 /* bytes of the per-position window copy (on the stack); larger windows use runs */

/* The window of one output position as KH * KW * IC contiguous bytes in the filter's (ky, kx, ic) order, taps
 * outside [ky0, ky1) x [kx0, kx1) set to pad: then the whole window is one dot product with each OHWI filter. */
static void fill_patch(int8_t *patch, const int8_t *in_batch, size_t row_stride, int32_t in_c, int32_t k_h,
                       int32_t k_w, int32_t dil_h, int32_t dil_w, int32_t origin_y, int32_t origin_x, int32_t ky0,
                       int32_t ky1, int32_t kx0, int32_t kx1, int pad)
{
    const size_t tap = (size_t)in_c;
    const size_t row_bytes = (size_t)k_w * tap;
    for (int32_t ky = 0; ky < k_h; ++ky) {
        int8_t *dst = patch + (size_t)ky * row_bytes;
        if (ky < ky0 || ky >= ky1) {
            memset(dst, pad, row_bytes);
            continue;
        }
        const int8_t *src = in_batch + (size_t)(origin_y + ky * dil_h) * row_stride;
        memset(dst, pad, (size_t)kx0 * tap);
        if (dil_w == 1) {
            memcpy(dst + (size_t)kx0 * tap, src + (size_t)(origin_x + kx0) * tap, (size_t)(kx1 - kx0) * tap);
        } else {
            for (int32_t kx = kx0; kx < kx1; ++kx) {
                memcpy(dst + (size_t)kx * tap, src + (size_t)(origin_x + kx * dil_w) * tap, tap);
            }
        }
        memset(dst + (size_t)kx1 * tap, pad, (size_t)(k_w - kx1) * tap);
    }
}

/* Every output channel of one position whose window is the contiguous x[0, len): four channels per pass. */
static int8_t *window_dot(const int8_t *x, const int8_t *filter, size_t len, const int32_t *bias,
                          const edgec_per_channel_quant *quant, const edgec_conv_params *params, int32_t out_c,
                          int8_t *out)
{
    int32_t oc = 0;
    for (; oc + 4 <= out_c; oc += 4) {
        uint32_t acc[4] = {(uint32_t)bias[oc], (uint32_t)bias[oc + 1], (uint32_t)bias[oc + 2], (uint32_t)bias[oc + 3]};
        edgec_dot4_s8(x, filter + (size_t)oc * len, len, len, acc);
        out = finish4(acc, quant->multiplier + oc, quant->shift + oc, params, 4, out);
    }
    for (; oc < out_c; ++oc) {
        const uint32_t acc = edgec_dot1_s8(x, filter + (size_t)oc * len, len, (uint32_t)bias[oc]);
        *out++ = finish(acc, quant->multiplier[oc], quant->shift[oc], params);
    }
    return out;
}

edgec_status edgec_convolve_fast_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                    const edgec_dims *input_dims, const int8_t *input,
                                    const edgec_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                    const edgec_dims *output_dims, int8_t *output)
{
    if (!convolve_args_ok(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output)) {
        return EDGEC_ARG_ERROR;
    }
    const int32_t batches = input_dims->n;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t in_c = input_dims->c;
    const int32_t out_c = filter_dims->n;
    const int32_t k_h = filter_dims->h;
    const int32_t k_w = filter_dims->w;
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;

    const int32_t dil_h = params->dilation_h;
    const int32_t dil_w = params->dilation_w;
    const uint32_t pad_value = (uint32_t)params->pad_value;
    const size_t filter_per_oc = (size_t)k_h * (size_t)k_w * (size_t)in_c;
    const size_t row_stride = (size_t)in_w * (size_t)in_c;
    const size_t tap_step = (size_t)dil_w * (size_t)in_c;
    int8_t *out = output;
    int8_t pad[PAD_RUN];
    int8_t patch[PATCH_MAX];
    memset(pad, params->pad_value, sizeof pad);

    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * (size_t)in_h * row_stride;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t origin_y = oy * params->stride_h - params->pad_top;
            int32_t ky0, ky1;
            valid_taps(origin_y, dil_h, k_h, in_h, &ky0, &ky1);
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t origin_x = ox * params->stride_w - params->pad_left;
                int32_t kx0, kx1;
                valid_taps(origin_x, dil_w, k_w, in_w, &kx0, &kx1);
                const int full = ky0 == 0 && ky1 == k_h && kx0 == 0 && kx1 == k_w;
                const size_t row_taps = (size_t)(kx1 - kx0);
                /* One contiguous run per kernel row when dilation_w is 1, else one run per tap. */
                const size_t runs = dil_w == 1 ? (row_taps > 0 ? 1u : 0u) : row_taps;
                const size_t run_len = dil_w == 1 ? row_taps * (size_t)in_c : (size_t)in_c;
                const int8_t *in_first = in_batch + (size_t)(origin_x + kx0 * dil_w) * (size_t)in_c;
                const size_t w_first = (size_t)kx0 * (size_t)in_c;
                if (filter_per_oc <= PATCH_MAX) {
                    /* One run over the whole window: the input itself for a full single-row window, else a copy. */
                    const int8_t *x = in_first + (size_t)origin_y * row_stride;
                    if (!(full && k_h == 1 && dil_w == 1)) {
                        fill_patch(patch, in_batch, row_stride, in_c, k_h, k_w, dil_h, dil_w, origin_y, origin_x, ky0,
                                   ky1, kx0, kx1, params->pad_value);
                        x = patch;
                    }
                    out = window_dot(x, filter, filter_per_oc, bias, quant, params, out_c, out);
                    continue;
                }

                int32_t oc = 0;
                for (; oc + 4 <= out_c; oc += 4) {
                    const int8_t *w_oc = filter + (size_t)oc * filter_per_oc;
                    uint32_t acc[4] = {(uint32_t)bias[oc], (uint32_t)bias[oc + 1], (uint32_t)bias[oc + 2],
                                       (uint32_t)bias[oc + 3]};
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *x = in_first + (size_t)(origin_y + ky * dil_h) * row_stride;
                        const int8_t *w = w_oc + (size_t)ky * (size_t)k_w * (size_t)in_c + w_first;
                        for (size_t r = 0; r < runs; ++r) {
                            edgec_dot4_s8(x + r * tap_step, w + r * (size_t)in_c, filter_per_oc, run_len, acc);
                        }
                    }
                    if (!full && pad_value != 0u) {
                        add_pad_taps(pad, w_oc, filter_per_oc, k_h, k_w, in_c, ky0, ky1, kx0, kx1, 4, acc);
                    }
                    out = finish4(acc, quant->multiplier + oc, quant->shift + oc, params, 4, out);
                }
                for (; oc < out_c; ++oc) {
                    const int8_t *w_oc = filter + (size_t)oc * filter_per_oc;
                    uint32_t acc = (uint32_t)bias[oc];
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *x = in_first + (size_t)(origin_y + ky * dil_h) * row_stride;
                        const int8_t *w = w_oc + (size_t)ky * (size_t)k_w * (size_t)in_c + w_first;
                        for (size_t r = 0; r < runs; ++r) {
                            acc = edgec_dot1_s8(x + r * tap_step, w + r * (size_t)in_c, run_len, acc);
                        }
                    }
                    if (!full && pad_value != 0u) {
                        add_pad_taps(pad, w_oc, filter_per_oc, k_h, k_w, in_c, ky0, ky1, kx0, kx1, 1, &acc);
                    }
                    *out++ = finish(acc, quant->multiplier[oc], quant->shift[oc], params);
                }
            }
        }
    }
    return EDGEC_OK;
}
