/*
 * edgec runtime: int8 2-D convolution (see edgec_convolve_s8 in edgec_nn.h).
 *
 * acc = bias[oc] + sum over the KH x KW x IC window of x * w, where taps outside the input read
 * params->pad_value; then requantize per channel, add the output offset, clamp.
 *
 * For each output position the range of kernel taps that fall inside the input is computed once
 * (no division in a MAC loop), so the MAC loops carry no bounds checks. Taps outside the input
 * only occur at the border; there the pad_value contribution is added by a separate loop over the
 * missing taps. Accumulation is 32-bit with wrap-around, as the reference's int32 accumulator;
 * it is kept in uint32_t so the wrap is defined behaviour in C.
 */
#include <stddef.h>

#include "edgec_conv_common.h"

edgec_status edgec_convolve_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
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

    const int32_t stride_h = params->stride_h;
    const int32_t stride_w = params->stride_w;
    const int32_t dil_h = params->dilation_h;
    const int32_t dil_w = params->dilation_w;
    const uint32_t pad_value = (uint32_t)params->pad_value;
    const size_t filter_per_oc = (size_t)k_h * (size_t)k_w * (size_t)in_c;
    const size_t tap_step = (size_t)dil_w * (size_t)in_c; /* input elements between horizontal taps */
    int8_t *out = output;

    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * (size_t)in_h * (size_t)in_w * (size_t)in_c;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t origin_y = oy * stride_h - params->pad_top;
            int32_t ky0, ky1;
            valid_taps(origin_y, dil_h, k_h, in_h, &ky0, &ky1);
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t origin_x = ox * stride_w - params->pad_left;
                int32_t kx0, kx1;
                valid_taps(origin_x, dil_w, k_w, in_w, &kx0, &kx1);
                const int full = ky0 == 0 && ky1 == k_h && kx0 == 0 && kx1 == k_w;
                const size_t row_len = (size_t)(kx1 - kx0);

                for (int32_t oc = 0; oc < out_c; ++oc) {
                    const int8_t *w_oc = filter + (size_t)oc * filter_per_oc;
                    uint32_t acc = (uint32_t)bias[oc];
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int32_t iy = origin_y + ky * dil_h;
                        const int8_t *in_px =
                            in_batch + ((size_t)iy * (size_t)in_w + (size_t)(origin_x + kx0 * dil_w)) * (size_t)in_c;
                        const int8_t *w_px = w_oc + ((size_t)ky * (size_t)k_w + (size_t)kx0) * (size_t)in_c;
                        for (size_t kx = 0; kx < row_len; ++kx) {
                            for (int32_t ic = 0; ic < in_c; ++ic) {
                                acc += (uint32_t)((int32_t)in_px[ic] * (int32_t)w_px[ic]);
                            }
                            in_px += tap_step;
                            w_px += in_c;
                        }
                    }
                    if (!full && pad_value != 0u) {
                        /* Border: the taps outside the input read pad_value. */
                        uint32_t w_sum = 0;
                        for (int32_t ky = 0; ky < k_h; ++ky) {
                            const int row_inside = ky >= ky0 && ky < ky1;
                            for (int32_t kx = 0; kx < k_w; ++kx) {
                                if (row_inside && kx >= kx0 && kx < kx1) {
                                    continue;
                                }
                                const int8_t *w_px = w_oc + ((size_t)ky * (size_t)k_w + (size_t)kx) * (size_t)in_c;
                                for (int32_t ic = 0; ic < in_c; ++ic) {
                                    const int32_t w = w_px[ic];
                                    w_sum += (uint32_t)w;
                                }
                            }
                        }
                        acc += pad_value * w_sum;
                    }
                    *out++ = finish(acc, quant->multiplier[oc], quant->shift[oc], params);
                }
            }
        }
    }
    return EDGEC_OK;
}
