/*
 * edgec runtime: fully connected layer with int4 weights (see edgec_fully_connected_s4 in edgec_nn.h).
 *
 * As edgec_fully_connected_s8, with the [out_features][in_features] weights packed two per byte
 * (edgec_s4_common.h): out[b][o] = clamp(round(double(bias[o] + sum_i in[b][i] * w[o][i]) * scale[o])
 * + output_offset), TFLite's reference rescale in double. Accumulation wraps like int32.
 */
#include <stddef.h>

#include "edgec_fixedpoint.h"
#include "edgec_nn.h"
#include "edgec_s4_common.h"

edgec_status edgec_fully_connected_s4(const edgec_fc_params *params, const double *scale,
                                      int32_t batches, int32_t in_features, const int8_t *input,
                                      int32_t out_features, const uint8_t *packed_filter, const int32_t *bias,
                                      int8_t *output)
{
    if (params == NULL || scale == NULL || input == NULL || packed_filter == NULL || bias == NULL || output == NULL) {
        return EDGEC_ARG_ERROR;
    }
    if (batches <= 0 || in_features <= 0 || out_features <= 0 || (int64_t)batches * in_features > INT32_MAX ||
        (int64_t)out_features * in_features > INT32_MAX || (int64_t)batches * out_features > INT32_MAX) {
        return EDGEC_ARG_ERROR;
    }
    const int32_t offset = params->output_offset;
    const int32_t act_min = params->act_min;
    const int32_t act_max = params->act_max;
    if (offset < -128 || offset > 127 || act_min < -128 || act_max > 127 || act_min > act_max) {
        return EDGEC_ARG_ERROR;
    }
    for (int32_t o = 0; o < out_features; ++o) {
        if (!(scale[o] >= 0.0)) {
            return EDGEC_ARG_ERROR;
        }
    }

    const size_t depth = (size_t)in_features;
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_row = input + (size_t)b * depth;
        int8_t *out_row = output + (size_t)b * (size_t)out_features;
        for (int32_t o = 0; o < out_features; ++o) {
            const uint32_t acc = s4_dot((uint32_t)bias[o], in_row, 1, packed_filter, (size_t)o * depth, depth);
            const int32_t v = edgec_round_to_int32((double)edgec_wrap_int32(acc) * scale[o]);
            int32_t r;
            if (v >= act_max - offset) {
                r = act_max;
            } else if (v <= act_min - offset) {
                r = act_min;
            } else {
                r = v + offset;
            }
            out_row[o] = (int8_t)r;
        }
    }
    return EDGEC_OK;
}
