/*
 * edgec runtime: the generic int8 strided copy behind SLICE, STRIDED_SLICE, SPLIT, TRANSPOSE, PAD and
 * CONCATENATION.
 *
 * For every index (i0, i1, i2, i3) below extent:
 *   output[out_offset + sum(i_k * out_stride[k])] = input[in_offset + sum(i_k * in_stride[k])]
 * Strides are in elements and may be negative (reversed slices); a unit innermost stride on both
 * sides copies whole rows with memcpy.
 */
#include <string.h>

#include "edgec_nn.h"

edgec_status edgec_strided_copy_s8(const edgec_copy_params *params, const int8_t *input, int8_t *output)
{
    if (params == 0 || input == 0 || output == 0) {
        return EDGEC_ARG_ERROR;
    }
    const int32_t *n = params->extent;
    const int32_t *is = params->in_stride;
    const int32_t *os = params->out_stride;
    for (int k = 0; k < 4; ++k) {
        if (n[k] < 1) {
            return EDGEC_ARG_ERROR;
        }
    }
    const int rows = is[3] == 1 && os[3] == 1;
    for (int32_t i0 = 0; i0 < n[0]; ++i0) {
        for (int32_t i1 = 0; i1 < n[1]; ++i1) {
            for (int32_t i2 = 0; i2 < n[2]; ++i2) {
                const int8_t *src = input + params->in_offset + i0 * is[0] + i1 * is[1] + i2 * is[2];
                int8_t *dst = output + params->out_offset + i0 * os[0] + i1 * os[1] + i2 * os[2];
                if (rows) {
                    memcpy(dst, src, (size_t)n[3]);
                    continue;
                }
                for (int32_t i3 = 0; i3 < n[3]; ++i3) {
                    dst[i3 * os[3]] = src[i3 * is[3]];
                }
            }
        }
    }
    return EDGEC_OK;
}
