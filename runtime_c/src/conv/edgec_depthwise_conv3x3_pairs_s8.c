/*
 * edgec runtime: int8 depthwise 3x3 convolution with the weights also given offline as int16 pairs
 * (see edgec_depthwise_conv3x3_pairs_s8 in edgec_nn.h, compiler/dw_layout.py).
 *
 * Off Helium the band path of edgec_dw3x3_band.h reads the table (doubled int16 pairs and the per-channel SMMLAR
 * requantization constants, compiler/dw_layout.py) instead of packing each channel per call, which made it too
 * dear for narrow output rows and tiled calls; shapes it declines, and Helium, are edgec_depthwise_conv_fast_s8's
 * on the int8 filter.
 */
#include <stddef.h>

#include "edgec_conv_common.h"
#include "edgec_dw3x3_band_s8.h"

#if defined(EDGEC_DW3_BAND)
/* depthwise_args_ok without the per-channel look at quant, which the table path does not read (its constants are
 * the table's); a tiled layer pays this check once per band call. */
static int table_args_ok(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                         const edgec_dims *input_dims, const int8_t *input, const edgec_dims *filter_dims,
                         const int8_t *filter, const int32_t *bias, const edgec_dims *output_dims, const int8_t *output)
{
    const edgec_per_channel_quant none = {NULL, NULL};
    const int32_t c = input_dims != NULL ? input_dims->c : 0;
    return conv_args_present(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output) &&
           params->depth_multiplier == 1 && filter_dims->n == 1 && filter_dims->c == c && output_dims->c == c &&
           output_dims->n == input_dims->n &&
           extent_ok(input_dims->h, output_dims->h, params->stride_h, filter_dims->h, params->dilation_h,
                     params->pad_top) &&
           extent_ok(input_dims->w, output_dims->w, params->stride_w, filter_dims->w, params->dilation_w,
                     params->pad_left) &&
           params_ok(params, &none, 0);
}
#endif

edgec_status edgec_depthwise_conv3x3_pairs_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                              const edgec_dims *input_dims, const int8_t *input,
                                              const edgec_dims *filter_dims, const int8_t *filter,
                                              const int32_t *pairs, const int32_t *bias,
                                              const edgec_dims *output_dims, int8_t *output)
{
#if defined(EDGEC_DW3_BAND)
    /* The band path reading the offline table; whatever it declines is edgec_depthwise_conv_fast_s8's. */
    if (pairs != NULL &&
        table_args_ok(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output) &&
        filter_dims->h == 3 && filter_dims->w == 3 && params->dilation_h == 1 && params->dilation_w == 1 &&
        edgec_dw3x3_band_s8(params, quant, input_dims, input, filter, pairs, bias, output_dims, output)) {
        return EDGEC_OK;
    }
#else
    (void)pairs;
#endif
    return edgec_depthwise_conv_fast_s8(params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                                        output);
}
