/*
 * edgec runtime, internal: edgec_dw3x3_band_s8 (see edgec_dw3x3_band_s8.h), the batch loop around
 * edgec_dw3x3_band.h's dw3x3_band.
 */
#include <stddef.h>

#include "edgec_conv_common.h"
#include "edgec_dw3x3_band_s8.h"

#if defined(EDGEC_DW3_BAND)
#include "edgec_dw3x3_band.h"

int edgec_dw3x3_band_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                        const edgec_dims *input_dims, const int8_t *input, const int8_t *filter,
                        const int32_t *pairs, const int32_t *bias, const edgec_dims *output_dims, int8_t *output)
{
    const int32_t chans = input_dims->c;
    const size_t in_batch = (size_t)input_dims->h * (size_t)input_dims->w * (size_t)chans;
    const size_t out_batch = (size_t)output_dims->h * (size_t)output_dims->w * (size_t)chans;
    int done = 1;
    for (int32_t b = 0; b < input_dims->n && done; ++b) {
        done = dw3x3_band(params, quant, input + (size_t)b * in_batch, input_dims->h, input_dims->w, chans, filter,
                          pairs, bias, output + (size_t)b * out_batch, output_dims->h, output_dims->w);
    }
    return done;
}
#endif
