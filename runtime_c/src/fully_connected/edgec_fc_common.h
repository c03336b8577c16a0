/*
 * edgec runtime, internal to the fully connected family: argument checks and the double rescale of one output.
 * Shared by edgec_fully_connected_s8.c and edgec_fully_connected_fast_s8.c; not part of the public API.
 */
#ifndef EDGEC_FC_COMMON_H
#define EDGEC_FC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "edgec_fixedpoint.h"
#include "edgec_nn.h"

/* Pointers present, sizes positive with products inside int32, offsets and clamps int8, scales non-negative. */
static inline int fc_args_ok(const edgec_fc_params *params, const double *scale, int32_t batches,
                             int32_t in_features, const int8_t *input, int32_t out_features, const int8_t *filter,
                             const int32_t *bias, const int8_t *output)
{
    if (params == NULL || scale == NULL || input == NULL || filter == NULL || bias == NULL || output == NULL) {
        return 0;
    }
    if (batches <= 0 || in_features <= 0 || out_features <= 0 || (int64_t)batches * in_features > INT32_MAX ||
        (int64_t)out_features * in_features > INT32_MAX || (int64_t)batches * out_features > INT32_MAX) {
        return 0;
    }
    const int32_t offset = params->output_offset;
    if (offset < -128 || offset > 127 || params->act_min < -128 || params->act_max > 127 ||
        params->act_min > params->act_max) {
        return 0;
    }
    for (int32_t o = 0; o < out_features; ++o) {
        if (!(scale[o] >= 0.0)) {
            return 0;
        }
    }
    return 1;
}

/* round(double(acc) * scale) + output_offset, clamped; the sum cannot overflow (compared before adding). */
static inline int8_t fc_finish(uint32_t acc, double scale, const edgec_fc_params *params)
{
    const int32_t v = edgec_round_to_int32((double)edgec_wrap_int32(acc) * scale);
    if (v >= params->act_max - params->output_offset) {
        return (int8_t)params->act_max;
    }
    if (v <= params->act_min - params->output_offset) {
        return (int8_t)params->act_min;
    }
    return (int8_t)(v + params->output_offset);
}

#endif /* EDGEC_FC_COMMON_H */
