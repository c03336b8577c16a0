/*
 * edgec runtime: int8 fully connected layer, fast path (see edgec_fully_connected_fast_s8 in edgec_nn.h).
 *
 * Same results as edgec_fully_connected_s8, from weights blocked four rows at a time (compiler/fc_layout.py):
 * each block of four output features takes one pass over the input row (fc_dot4_groups: LDM + SMLAD on the DSP
 * extension, gathered VMLADAVA on Helium, portable C elsewhere), its in_features % 4 leftover inputs in C; the
 * out_features % 4 leftover rows use the single-row dot product. Each output is rescaled in integers
 * (edgec_fc_finish), falling back to the reference's double formula next to a rounding tie.
 */
#include <stddef.h>

#include "edgec_dot_s8.h"
#include "edgec_fc_common.h"
#include "edgec_fc_dot_blocked.h"

edgec_status edgec_fully_connected_fast_s8(const edgec_fc_params *params, const edgec_fc_quant *quant,
                                           int32_t batches, int32_t in_features, const int8_t *input,
                                           int32_t out_features, const int8_t *blocked_filter,
                                           const int32_t *bias, int8_t *output)
{
    if (quant == NULL ||
        !fc_args_ok(params, quant->scale, batches, in_features, input, out_features, blocked_filter, bias,
                    output) ||
        !edgec_fc_fixed_ok(quant, out_features)) {
        return EDGEC_ARG_ERROR;
    }
    const double *scale = quant->scale;
    const int32_t *multiplier = quant->multiplier;
    const int32_t *n = quant->n;
    const size_t depth = (size_t)in_features;
    const size_t groups = depth / 4;
    const size_t tail = depth % 4;
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_row = input + (size_t)b * depth;
        const int8_t *in_tail = in_row + 4 * groups;
        int8_t *out_row = output + (size_t)b * (size_t)out_features;
        const int8_t *w = blocked_filter;
        int32_t o = 0;
        for (; o + 4 <= out_features; o += 4) {
            uint32_t acc[4] = {(uint32_t)bias[o], (uint32_t)bias[o + 1], (uint32_t)bias[o + 2], (uint32_t)bias[o + 3]};
            fc_dot4_groups(in_row, w, groups, acc);
            w += 16 * groups;
            for (size_t j = 0; j < 4; ++j) {
                for (size_t i = 0; i < tail; ++i) {
                    acc[j] += (uint32_t)((int32_t)in_tail[i] * w[i]);
                }
                w += tail;
            }
            for (int32_t j = 0; j < 4; ++j) {
                out_row[o + j] = edgec_fc_finish(acc[j], multiplier[o + j], n[o + j], scale[o + j], params);
            }
        }
        for (; o < out_features; ++o) {
            const uint32_t acc = edgec_dot1_s8(in_row, w, depth, (uint32_t)bias[o]);
            w += depth;
            out_row[o] = edgec_fc_finish(acc, multiplier[o], n[o], scale[o], params);
        }
    }
    return EDGEC_OK;
}
