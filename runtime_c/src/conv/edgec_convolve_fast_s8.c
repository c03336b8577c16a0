/*
 * edgec runtime: int8 2-D convolution, fast path (see edgec_convolve_fast_s8 in edgec_nn.h).
 *
 * Same arguments and results as edgec_convolve_s8. Per output position the in-bounds tap range is computed once;
 * the taps of one kernel row that fall inside the input are contiguous in both the NHWC input and the OHWI
 * filter when dilation_w is 1 (one run of (kx1 - kx0) * IC bytes), so each kernel row is one dot product.
 * Four output channels are computed together (edgec_dot4_s8: the input is loaded and unpacked once for four
 * weight rows), on the DSP extension with SMLAD, on Helium with VMLADAVA, in portable C otherwise; leftover
 * channels use the single-row dot product. Border taps read pad_value, added as pad_value * (sum of the weights
 * of the missing taps). The 32-bit sums wrap like the reference's int32 accumulator.
 */
#include <stddef.h>

#include "../common/edgec_dot_s8.h"
#include "edgec_conv_common.h"

/* Sum of one output channel's weights over the taps outside [ky0, ky1) x [kx0, kx1). */
static uint32_t missing_weight_sum(const int8_t *w_oc, int32_t k_h, int32_t k_w, int32_t in_c, int32_t ky0,
                                   int32_t ky1, int32_t kx0, int32_t kx1)
{
    uint32_t sum = 0;
    for (int32_t ky = 0; ky < k_h; ++ky) {
        const int row_inside = ky >= ky0 && ky < ky1;
        for (int32_t kx = 0; kx < k_w; ++kx) {
            if (row_inside && kx >= kx0 && kx < kx1) {
                continue;
            }
            const int8_t *w_px = w_oc + ((size_t)ky * (size_t)k_w + (size_t)kx) * (size_t)in_c;
            for (int32_t ic = 0; ic < in_c; ++ic) {
                const int32_t w = w_px[ic];
                sum += (uint32_t)w;
            }
        }
    }
    return sum;
}

edgec_status edgec_convolve_fast_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                    const edgec_dims *input_dims, const int8_t *input,
                                    const edgec_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                    const edgec_dims *output_dims, int8_t *output)
{
    if (!conv_args_present(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output)) {
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
    if (output_dims->n != batches || filter_dims->c != in_c || output_dims->c != out_c) {
        return EDGEC_ARG_ERROR;
    }
    if (!extent_ok(in_h, out_h, params->stride_h, k_h, params->dilation_h, params->pad_top) ||
        !extent_ok(in_w, out_w, params->stride_w, k_w, params->dilation_w, params->pad_left) ||
        !params_ok(params, quant, out_c)) {
        return EDGEC_ARG_ERROR;
    }

    const int32_t dil_h = params->dilation_h;
    const int32_t dil_w = params->dilation_w;
    const uint32_t pad_value = (uint32_t)params->pad_value;
    const size_t filter_per_oc = (size_t)k_h * (size_t)k_w * (size_t)in_c;
    const size_t row_stride = (size_t)in_w * (size_t)in_c;
    const size_t tap_step = (size_t)dil_w * (size_t)in_c;
    int8_t *out = output;

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
                    for (int32_t j = 0; j < 4; ++j) {
                        if (!full && pad_value != 0u) {
                            acc[j] += pad_value * missing_weight_sum(w_oc + (size_t)j * filter_per_oc, k_h, k_w,
                                                                     in_c, ky0, ky1, kx0, kx1);
                        }
                        *out++ = finish(acc[j], quant->multiplier[oc + j], quant->shift[oc + j], params);
                    }
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
                        acc += pad_value * missing_weight_sum(w_oc, k_h, k_w, in_c, ky0, ky1, kx0, kx1);
                    }
                    *out++ = finish(acc, quant->multiplier[oc], quant->shift[oc], params);
                }
            }
        }
    }
    return EDGEC_OK;
}
