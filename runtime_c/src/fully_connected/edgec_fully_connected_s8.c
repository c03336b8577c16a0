/*
 * edgec runtime: int8 fully connected layer (see edgec_fully_connected_s8 in edgec_nn.h).
 *
 * out[b][o] = clamp(round(double(bias[o] + sum_i in[b][i] * w[o][i]) * scale[o]) + output_offset), as TFLite's
 * reference kernel computes it (a double rescale, not a Q31 multiplier).
 * The 32-bit accumulator wraps like the reference's int32 (held in uint32_t so the wrap is defined in C).
 */
#include <stddef.h>

#include "edgec_fc_common.h"

edgec_status edgec_fully_connected_s8(const edgec_fc_params *params, const double *scale,
                                      int32_t batches, int32_t in_features, const int8_t *input,
                                      int32_t out_features, const int8_t *filter, const int32_t *bias,
                                      int8_t *output)
{
    if (!fc_args_ok(params, scale, batches, in_features, input, out_features, filter, bias, output)) {
        return EDGEC_ARG_ERROR;
    }
    const size_t depth = (size_t)in_features;
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_row = input + (size_t)b * depth;
        int8_t *out_row = output + (size_t)b * (size_t)out_features;
        const int8_t *w_row = filter;
        for (int32_t o = 0; o < out_features; ++o) {
            uint32_t acc = (uint32_t)bias[o];
            for (size_t i = 0; i < depth; ++i) {
                acc += (uint32_t)((int32_t)in_row[i] * (int32_t)w_row[i]);
            }
            w_row += depth;
            out_row[o] = edgec_fc_finish_double(acc, scale[o], params);
        }
    }
    return EDGEC_OK;
}
