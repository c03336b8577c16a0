/*
 * edgec runtime: int8 fully connected layer, fast path (see edgec_fully_connected_fast_s8 in edgec_nn.h).
 *
 * Same results as edgec_fully_connected_s8: four output features share each pass over the input row
 * (edgec_dot4_s8: SMLAD on the DSP extension, VMLADAVA on Helium, portable C elsewhere), leftover features use
 * the single-row dot product; each output keeps the reference's double rescale.
 */
#include <stddef.h>

#include "edgec_dot_s8.h"
#include "edgec_fc_common.h"

edgec_status edgec_fully_connected_fast_s8(const edgec_fc_params *params, const double *scale,
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
        int32_t o = 0;
        for (; o + 4 <= out_features; o += 4) {
            uint32_t acc[4] = {(uint32_t)bias[o], (uint32_t)bias[o + 1], (uint32_t)bias[o + 2], (uint32_t)bias[o + 3]};
            edgec_dot4_s8(in_row, filter + (size_t)o * depth, depth, depth, acc);
            for (int32_t j = 0; j < 4; ++j) {
                out_row[o + j] = fc_finish(acc[j], scale[o + j], params);
            }
        }
        for (; o < out_features; ++o) {
            const uint32_t acc = edgec_dot1_s8(in_row, filter + (size_t)o * depth, depth, (uint32_t)bias[o]);
            out_row[o] = fc_finish(acc, scale[o], params);
        }
    }
    return EDGEC_OK;
}
