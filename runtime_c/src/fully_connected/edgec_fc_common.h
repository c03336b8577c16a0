/*
 * edgec runtime, internal to the fully connected family: argument checks (the rescale of one output is in
 * include/edgec_fc_rescale.h). Shared by edgec_fully_connected_s8.c and edgec_fully_connected_fast_s8.c; not part
 * of the public API.
 */
#ifndef EDGEC_FC_COMMON_H
#define EDGEC_FC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "edgec_fc_rescale.h"
#include "edgec_fixedpoint.h"
#include "edgec_nn.h"

/* Pointers present, sizes positive with products inside int32, offsets and clamps int8 (the scales unread). */
static inline int fc_shape_args_ok(const edgec_fc_params *params, const double *scale, int32_t batches,
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
    return 1;
}

/* fc_shape_args_ok, and every scale non-negative. */
static inline int fc_args_ok(const edgec_fc_params *params, const double *scale, int32_t batches,
                             int32_t in_features, const int8_t *input, int32_t out_features, const int8_t *filter,
                             const int32_t *bias, const int8_t *output)
{
    return fc_shape_args_ok(params, scale, batches, in_features, input, out_features, filter, bias, output) &&
           edgec_fc_scales_ok(scale, out_features);
}

#endif /* EDGEC_FC_COMMON_H */
