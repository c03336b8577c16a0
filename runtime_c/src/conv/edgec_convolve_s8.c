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

#include "edgec_fixedpoint.h"
#include "edgec_nn.h"

/* uint32_t -> int32_t two's-complement reinterpretation, without implementation-defined conversion. */
static inline int32_t wrap_to_int32(uint32_t v)
{
    return v <= (uint32_t)INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

/* Requantized accumulator plus output offset, clamped; the sum cannot overflow (compared before adding). */
static inline int8_t finish(uint32_t acc, int32_t multiplier, int32_t shift, const edgec_conv_params *params)
{
    const int32_t v = edgec_requantize(wrap_to_int32(acc), multiplier, shift);
    if (v >= params->act_max - params->output_offset) {
        return (int8_t)params->act_max;
    }
    if (v <= params->act_min - params->output_offset) {
        return (int8_t)params->act_min;
    }
    return (int8_t)(v + params->output_offset);
}

/* Taps [*first, *last) of a window of `taps` taps spaced `dilation` apart, starting at `origin`, inside [0, size). */
static inline void valid_taps(int32_t origin, int32_t dilation, int32_t taps, int32_t size, int32_t *first,
                              int32_t *last)
{
    int32_t lo = 0;
    int32_t hi = 0;
    if (origin < 0) {
        lo = (dilation - 1 - origin) / dilation; /* ceil(-origin / dilation) */
    }
    if (origin < size) {
        hi = (size - 1 - origin) / dilation + 1;
        if (hi > taps) {
            hi = taps;
        }
    }
    *first = lo < hi ? lo : hi;
    *last = hi;
}

/* Dimensions all positive, element count within int32. */
static int dims_ok(const edgec_dims *d)
{
    if (d->n <= 0 || d->h <= 0 || d->w <= 0 || d->c <= 0) {
        return 0;
    }
    return (int64_t)d->n * d->h * d->w * d->c <= (int64_t)INT32_MAX;
}

/* Window reach, padding and input extent stay far from int32 overflow in the index arithmetic. */
static int extent_ok(int32_t in_size, int32_t out_size, int32_t stride, int32_t taps, int32_t dilation,
                     int32_t pad)
{
    const int64_t reach = (int64_t)(out_size - 1) * stride + (int64_t)(taps - 1) * dilation;
    return stride >= 1 && dilation >= 1 && pad >= 0 && reach <= (int64_t)INT32_MAX / 4 && pad <= INT32_MAX / 4 &&
           in_size <= INT32_MAX / 4;
}

static int params_ok(const edgec_conv_params *p, const edgec_per_channel_quant *quant, int32_t channels)
{
    if (p->pad_value < -128 || p->pad_value > 127 || p->output_offset < -128 || p->output_offset > 127) {
        return 0;
    }
    if (p->act_min < -128 || p->act_max > 127 || p->act_min > p->act_max) {
        return 0;
    }
    for (int32_t c = 0; c < channels; ++c) {
        if (quant->multiplier[c] < 0 || quant->shift[c] < -31 || quant->shift[c] > 31) {
            return 0;
        }
    }
    return 1;
}

edgec_status edgec_convolve_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                               const edgec_dims *input_dims, const int8_t *input,
                               const edgec_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                               const edgec_dims *output_dims, int8_t *output)
{
    if (params == NULL || quant == NULL || quant->multiplier == NULL || quant->shift == NULL || input_dims == NULL ||
        input == NULL || filter_dims == NULL || filter == NULL || bias == NULL || output_dims == NULL ||
        output == NULL) {
        return EDGEC_ARG_ERROR;
    }
    if (!dims_ok(input_dims) || !dims_ok(filter_dims) || !dims_ok(output_dims)) {
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
