/*
 * edgec runtime: int8 depthwise 3x3 convolution with the weights also given offline as int16 pairs
 * (see edgec_depthwise_conv3x3_pairs_s8 in edgec_nn.h, compiler/dw_layout.py).
 *
 * Off Helium the band path of edgec_dw3x3_band.h reads the pairs instead of packing each channel per call, which
 * made it too dear for narrow output rows and tiled calls; shapes it declines, and Helium, are
 * edgec_depthwise_conv_fast_s8's on the int8 filter.
 */
#include <stddef.h>

#include "edgec_conv_common.h"
#include "edgec_dw3x3_band_s8.h"

edgec_status edgec_depthwise_conv3x3_pairs_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                              const edgec_dims *input_dims, const int8_t *input,
                                              const edgec_dims *filter_dims, const int8_t *filter,
                                              const int32_t *pairs, const int32_t *bias,
                                              const edgec_dims *output_dims, int8_t *output)
{
#if defined(EDGEC_DW3_BAND)
    /* The band path reading the offline pairs; whatever it declines is edgec_depthwise_conv_fast_s8's. */
    if (pairs != NULL &&
        depthwise_args_ok(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output) &&
        params->depth_multiplier == 1 && filter_dims->h == 3 && filter_dims->w == 3 && params->dilation_h == 1 &&
        params->dilation_w == 1 &&
        edgec_dw3x3_band_s8(params, quant, input_dims, input, filter, pairs, bias, output_dims, output)) {
        return EDGEC_OK;
    }
#else
    (void)pairs;
#endif
    return edgec_depthwise_conv_fast_s8(params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                                        output);
}
