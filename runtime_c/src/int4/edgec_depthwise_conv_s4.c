/*
 * edgec runtime: depthwise 2-D convolution with int4 weights (see edgec_depthwise_conv_s4 in edgec_nn.h).
 *
 * As edgec_depthwise_conv_s8 with the [KH][KW][OC] weights packed two per byte (edgec_s4_common.h).
 * Output channel oc = ic * depth_multiplier + m reads input channel ic. Consecutive taps of one
 * channel are OC weights apart, so each weight is unpacked on its own (s4_at); taps outside the
 * input read params->pad_value. Accumulation wraps like int32. Depth multiplier 1 with OC a multiple of 4 takes
 * depthwise_quads_s4 below.
 */
#include <stddef.h>
#include <string.h>

#include "../conv/edgec_conv_common.h"
#include "edgec_s4_common.h"

/*
 * Depth multiplier 1, OC a multiple of 4 and at most DW_TAPS taps: per output position the window's taps as
 * pointers, each into the input or, outside it, into a row of pad_value bytes (so border taps cost what interior
 * ones do and need no separate correction), for channels in chunks of DW_CHUNK; then four channels at a time,
 * their sums in registers across the window. The four weights of one tap are two whole bytes (OC even).
 */
#define DW_TAPS 25
#define DW_CHUNK 128

static void depthwise_quads_s4(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                               const edgec_dims *input_dims, const int8_t *input, const edgec_dims *filter_dims,
                               const uint8_t *packed_filter, const int32_t *bias, const edgec_dims *output_dims,
                               int8_t *output)
{
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const size_t chans = (size_t)input_dims->c;
    const int32_t k_h = filter_dims->h;
    const int32_t k_w = filter_dims->w;
    const size_t taps = (size_t)k_h * (size_t)k_w;
    const size_t row_stride = (size_t)in_w * chans;
    const size_t tap_bytes = chans / 2u; /* packed bytes of one tap's OC weights */
    int8_t pad[DW_CHUNK];
    const int8_t *tap_ptr[DW_TAPS];
    memset(pad, params->pad_value, sizeof pad);
    int8_t *out = output;
    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *in_batch = input + (size_t)b * (size_t)in_h * row_stride;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t origin_y = oy * params->stride_h - params->pad_top;
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t origin_x = ox * params->stride_w - params->pad_left;
                for (size_t c0 = 0; c0 < chans; c0 += DW_CHUNK) {
                    const size_t c1 = chans - c0 < DW_CHUNK ? chans : c0 + DW_CHUNK;
                    size_t t = 0;
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        const int32_t iy = origin_y + ky * params->dilation_h;
                        for (int32_t kx = 0; kx < k_w; ++kx, ++t) {
                            const int32_t ix = origin_x + kx * params->dilation_w;
                            tap_ptr[t] = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w
                                             ? in_batch + (size_t)iy * row_stride + (size_t)ix * chans + c0
                                             : pad;
                        }
                    }
                    for (size_t c = c0; c < c1; c += 4u) {
                        const size_t dc = c - c0;
                        uint32_t a0 = (uint32_t)bias[c], a1 = (uint32_t)bias[c + 1];
                        uint32_t a2 = (uint32_t)bias[c + 2], a3 = (uint32_t)bias[c + 3];
                        const uint8_t *w = packed_filter + c / 2u;
                        for (t = 0; t < taps; ++t, w += tap_bytes) {
                            const int8_t *x = tap_ptr[t] + dc;
                            const uint32_t w4 = (uint32_t)w[0] | ((uint32_t)w[1] << 8); /* one LDRH */
                            a0 += (uint32_t)(x[0] * s4_nibble(w4, 0));
                            a1 += (uint32_t)(x[1] * s4_nibble(w4, 1));
                            a2 += (uint32_t)(x[2] * s4_nibble(w4, 2));
                            a3 += (uint32_t)(x[3] * s4_nibble(w4, 3));
                        }
                        int8_t *o = out + c;
                        o[0] = finish(a0, quant->multiplier[c], quant->shift[c], params);
                        o[1] = finish(a1, quant->multiplier[c + 1], quant->shift[c + 1], params);
                        o[2] = finish(a2, quant->multiplier[c + 2], quant->shift[c + 2], params);
                        o[3] = finish(a3, quant->multiplier[c + 3], quant->shift[c + 3], params);
                    }
                }
                out += chans;
            }
        }
    }
}

edgec_status edgec_depthwise_conv_s4(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                     const edgec_dims *input_dims, const int8_t *input,
                                     const edgec_dims *filter_dims, const uint8_t *packed_filter,
                                     const int32_t *bias, const edgec_dims *output_dims, int8_t *output)
{
    if (!depthwise_args_ok(params, quant, input_dims, input, filter_dims, (const int8_t *)(const void *)packed_filter,
                           bias, output_dims, output)) {
        return EDGEC_ARG_ERROR;
    }
    if (params->depth_multiplier == 1 && input_dims->c % 4 == 0 && (int64_t)filter_dims->h * filter_dims->w <= DW_TAPS) {
        depthwise_quads_s4(params, quant, input_dims, input, filter_dims, packed_filter, bias, output_dims, output);
        return EDGEC_OK;
    }
    const int32_t batches = input_dims->n;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t in_c = input_dims->c;
    const int32_t mult = params->depth_multiplier;
    const int32_t out_c = filter_dims->c;
    const int32_t k_h = filter_dims->h;
    const int32_t k_w = filter_dims->w;
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;

    const int32_t dil_w = params->dilation_w;
    const uint32_t pad_value = (uint32_t)params->pad_value;
    const size_t in_tap_step = (size_t)dil_w * (size_t)in_c;
    const size_t w_tap_step = (size_t)out_c;
    int8_t *out = output;

    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * (size_t)in_h * (size_t)in_w * (size_t)in_c;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t origin_y = oy * params->stride_h - params->pad_top;
            int32_t ky0, ky1;
            valid_taps(origin_y, params->dilation_h, k_h, in_h, &ky0, &ky1);
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t origin_x = ox * params->stride_w - params->pad_left;
                int32_t kx0, kx1;
                valid_taps(origin_x, dil_w, k_w, in_w, &kx0, &kx1);
                const int full = ky0 == 0 && ky1 == k_h && kx0 == 0 && kx1 == k_w;
                const size_t first_col = (size_t)(origin_x + kx0 * dil_w);

                int32_t oc = 0;
                for (int32_t ic = 0; ic < in_c; ++ic) {
                    for (int32_t m = 0; m < mult; ++m, ++oc) {
                        uint32_t acc = (uint32_t)bias[oc];
                        for (int32_t ky = ky0; ky < ky1; ++ky) {
                            const int32_t iy = origin_y + ky * params->dilation_h;
                            const int8_t *in_px =
                                in_batch + ((size_t)iy * (size_t)in_w + first_col) * (size_t)in_c + (size_t)ic;
                            size_t w_px = ((size_t)ky * (size_t)k_w + (size_t)kx0) * w_tap_step + (size_t)oc;
                            for (int32_t kx = kx0; kx < kx1; ++kx) {
                                acc += (uint32_t)((int32_t)*in_px * s4_at(packed_filter, w_px));
                                in_px += in_tap_step;
                                w_px += w_tap_step;
                            }
                        }
                        if (!full && pad_value != 0u) {
                            uint32_t w_sum = 0;
                            for (int32_t ky = 0; ky < k_h; ++ky) {
                                const int row_inside = ky >= ky0 && ky < ky1;
                                for (int32_t kx = 0; kx < k_w; ++kx) {
                                    if (!(row_inside && kx >= kx0 && kx < kx1)) {
                                        const size_t tap = (size_t)ky * (size_t)k_w + (size_t)kx;
                                        w_sum += (uint32_t)s4_at(packed_filter, tap * w_tap_step + (size_t)oc);
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
    }
    return EDGEC_OK;
}
