/*
 * edgec runtime: fully connected layer with int4 weights (see edgec_fully_connected_s4 in edgec_nn.h).
 *
 * As edgec_fully_connected_s8, with the [out_features][in_features] weights packed two per byte
 * (edgec_s4_common.h): out[b][o] = clamp(round(double(bias[o] + sum_i in[b][i] * w[o][i]) * scale[o])
 * + output_offset), TFLite's reference rescale, computed in integers as in edgec_fully_connected_fast_s8
 * (edgec_fc_finish; the double formula only next to a rounding tie). Accumulation wraps like int32.
 */
#include <stddef.h>

#include "edgec_fc_rescale.h"
#include "edgec_nn.h"
#include "edgec_s4_common.h"

edgec_status edgec_fully_connected_s4(const edgec_fc_params *params, const edgec_fc_quant *quant,
                                      int32_t batches, int32_t in_features, const int8_t *input,
                                      int32_t out_features, const uint8_t *packed_filter, const int32_t *bias,
                                      int8_t *output)
{
    if (params == NULL || quant == NULL || quant->scale == NULL || input == NULL || packed_filter == NULL || bias == NULL || output == NULL) {
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
    const double *scale = quant->scale;
    for (int32_t o = 0; o < out_features; ++o) {
        if (!edgec_fc_scale_ok(scale[o])) {
            return EDGEC_ARG_ERROR;
        }
    }
    if (!edgec_fc_fixed_ok(quant, out_features)) {
        return EDGEC_ARG_ERROR;
    }

    const edgec_fc_range range = edgec_fc_range_of(params);
    const size_t depth = (size_t)in_features;
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_row = input + (size_t)b * depth;
        int8_t *out_row = output + (size_t)b * (size_t)out_features;
        for (int32_t o = 0; o < out_features; ++o) {
            const uint32_t acc = s4_dot((uint32_t)bias[o], in_row, 1, packed_filter, (size_t)o * depth, depth);
            out_row[o] = edgec_fc_finish(acc, quant->multiplier[o], quant->n[o], scale + o, params, range);
        }
    }
    return EDGEC_OK;
}
