/*
 * edgec runtime, internal to the convolution family: argument checks, the in-bounds tap range of a
 * window, and the requantize-offset-clamp of one output. Shared by edgec_convolve_s8.c and
 * edgec_depthwise_conv_s8.c; not part of the public API.
 */
#ifndef EDGEC_CONV_COMMON_H
#define EDGEC_CONV_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "edgec_fixedpoint.h"
#include "edgec_nn.h"

/* Requantized accumulator plus output offset, clamped (edgec_offset_clamp).
 * The multiplier is non-negative (params_ok checks it), so the shorter exact requantize applies. */
static inline int8_t finish(uint32_t acc, int32_t multiplier, int32_t shift, const edgec_conv_params *params)
{
    const int32_t v = edgec_requantize_nonneg(edgec_wrap_int32(acc), multiplier, shift);
    return (int8_t)edgec_offset_clamp(v, params->output_offset, params->act_min, params->act_max);
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
static inline int dims_ok(const edgec_dims *d)
{
    if (d->n <= 0 || d->h <= 0 || d->w <= 0 || d->c <= 0) {
        return 0;
    }
    return (int64_t)d->n * d->h * d->w * d->c <= (int64_t)INT32_MAX;
}

/* Window reach, padding and input extent stay far from int32 overflow in the index arithmetic. */
static inline int extent_ok(int32_t in_size, int32_t out_size, int32_t stride, int32_t taps, int32_t dilation,
                     int32_t pad)
{
    const int64_t reach = (int64_t)(out_size - 1) * stride + (int64_t)(taps - 1) * dilation;
    return stride >= 1 && dilation >= 1 && pad >= 0 && reach <= (int64_t)INT32_MAX / 4 && pad <= INT32_MAX / 4 &&
           in_size <= INT32_MAX / 4;
}

static inline int params_ok(const edgec_conv_params *p, const edgec_per_channel_quant *quant, int32_t channels)
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

/* Every pointer present, every dimension positive with an element count inside int32. */
static inline int conv_args_present(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                    const edgec_dims *input_dims, const int8_t *input, const edgec_dims *filter_dims,
                                    const int8_t *filter, const int32_t *bias, const edgec_dims *output_dims,
                                    const int8_t *output)
{
    if (params == NULL || quant == NULL || quant->multiplier == NULL || quant->shift == NULL || input_dims == NULL ||
        input == NULL || filter_dims == NULL || filter == NULL || bias == NULL || output_dims == NULL ||
        output == NULL) {
        return 0;
    }
    return dims_ok(input_dims) && dims_ok(filter_dims) && dims_ok(output_dims);
}

/* Every check of a regular convolution: arguments present, OHWI filter and output consistent with the input,
 * geometry far from overflow, parameters in range. */
static inline int convolve_args_ok(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                   const edgec_dims *input_dims, const int8_t *input, const edgec_dims *filter_dims,
                                   const int8_t *filter, const int32_t *bias, const edgec_dims *output_dims,
                                   const int8_t *output)
{
    if (!conv_args_present(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output)) {
        return 0;
    }
    if (output_dims->n != input_dims->n || filter_dims->c != input_dims->c || output_dims->c != filter_dims->n) {
        return 0;
    }
    return extent_ok(input_dims->h, output_dims->h, params->stride_h, filter_dims->h, params->dilation_h,
                     params->pad_top) &&
           extent_ok(input_dims->w, output_dims->w, params->stride_w, filter_dims->w, params->dilation_w,
                     params->pad_left) &&
           params_ok(params, quant, filter_dims->n);
}

/* Every check of a depthwise convolution: as convolve_args_ok, with a [1][KH][KW][IC * depth_multiplier] filter. */
static inline int depthwise_args_ok(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                    const edgec_dims *input_dims, const int8_t *input, const edgec_dims *filter_dims,
                                    const int8_t *filter, const int32_t *bias, const edgec_dims *output_dims,
                                    const int8_t *output)
{
    if (!conv_args_present(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output)) {
        return 0;
    }
    const int32_t mult = params->depth_multiplier;
    const int32_t out_c = filter_dims->c;
    if (filter_dims->n != 1 || mult < 1 || (int64_t)input_dims->c * mult != (int64_t)out_c ||
        output_dims->n != input_dims->n || output_dims->c != out_c) {
        return 0;
    }
    return extent_ok(input_dims->h, output_dims->h, params->stride_h, filter_dims->h, params->dilation_h,
                     params->pad_top) &&
           extent_ok(input_dims->w, output_dims->w, params->stride_w, filter_dims->w, params->dilation_w,
                     params->pad_left) &&
           params_ok(params, quant, out_c);
}

#endif /* EDGEC_CONV_COMMON_H */
