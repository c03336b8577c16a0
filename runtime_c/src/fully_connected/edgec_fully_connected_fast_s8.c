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
    const edgec_fc_range range = edgec_fc_range_of(params);
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
            if (tail != 0) {
                acc[0] = edgec_dot1_s8(in_tail, w, tail, acc[0]);
                acc[1] = edgec_dot1_s8(in_tail, w + tail, tail, acc[1]);
                acc[2] = edgec_dot1_s8(in_tail, w + 2 * tail, tail, acc[2]);
                acc[3] = edgec_dot1_s8(in_tail, w + 3 * tail, tail, acc[3]);
                w += 4 * tail;
            }
            out_row[o] = edgec_fc_finish(acc[0], multiplier[o], n[o], scale + o, params, range);
            out_row[o + 1] = edgec_fc_finish(acc[1], multiplier[o + 1], n[o + 1], scale + o + 1, params, range);
            out_row[o + 2] = edgec_fc_finish(acc[2], multiplier[o + 2], n[o + 2], scale + o + 2, params, range);
            out_row[o + 3] = edgec_fc_finish(acc[3], multiplier[o + 3], n[o + 3], scale + o + 3, params, range);
        }
        for (; o < out_features; ++o) {
            const uint32_t acc = edgec_dot1_s8(in_row, w, depth, (uint32_t)bias[o]);
            w += depth;
            out_row[o] = edgec_fc_finish(acc, multiplier[o], n[o], scale + o, params, range);
        }
    }
    return EDGEC_OK;
}
