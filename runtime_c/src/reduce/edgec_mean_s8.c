/*
 * edgec runtime: int8 MEAN over any set of the four (extended) axes, TFLite's reference arithmetic.
 *
 * acc = sum over the reduced cells of (x + input_offset), then by method:
 *   SPATIAL     round_half_away(requantize(acc, m, s) / count) + output_offset
 *   GENERAL     requantize(acc, m, s) + output_offset (1/count already folded into m, s)
 * clamped to [-128, 127]. Outputs are written in row-major order of the non-reduced axes.
 */
#include "edgec_nn.h"

#include "edgec_fixedpoint.h"

static int32_t edgec_mean_finish(const edgec_mean_params *p, int32_t acc)
{
    int32_t v;
    if (p->method == EDGEC_MEAN_SPATIAL) {
        const int32_t scaled = edgec_requantize(acc, p->multiplier, p->shift);
        const int32_t half = p->count / 2;
        v = (scaled > 0 ? scaled + half : scaled - half) / p->count + p->output_offset;
    } else {
        v = edgec_requantize(acc, p->multiplier, p->shift) + p->output_offset;
    }
    return edgec_clamp(v, -128, 127);
}

edgec_status edgec_mean_s8(const edgec_mean_params *params, const int8_t *input, int8_t *output)
{
    if (params == 0 || input == 0 || output == 0 || params->count < 1) {
        return EDGEC_ARG_ERROR;
    }
    int32_t outer[4], inner[4], stride[4];
    int32_t count = 1;
    for (int k = 3, s = 1; k >= 0; --k) {
        const int32_t d = params->dims[k];
        if (d < 1) {
            return EDGEC_ARG_ERROR;
        }
        stride[k] = s;
        s *= d;
        outer[k] = params->reduce[k] ? 1 : d;
        inner[k] = params->reduce[k] ? d : 1;
        count *= inner[k];
    }
    if (count != params->count) {
        return EDGEC_ARG_ERROR;
    }
    int8_t *dst = output;
    for (int32_t a = 0; a < outer[0]; ++a) {
        for (int32_t b = 0; b < outer[1]; ++b) {
            for (int32_t c = 0; c < outer[2]; ++c) {
                for (int32_t d = 0; d < outer[3]; ++d) {
                    const int8_t *base = input + a * stride[0] + b * stride[1] + c * stride[2] + d * stride[3];
                    uint32_t acc = 0; /* wraps like the reference's int32 sum (never in practice) */
                    for (int32_t i = 0; i < inner[0]; ++i) {
                        for (int32_t j = 0; j < inner[1]; ++j) {
                            for (int32_t k = 0; k < inner[2]; ++k) {
                                const int8_t *row = base + i * stride[0] + j * stride[1] + k * stride[2];
                                for (int32_t l = 0; l < inner[3]; ++l) {
                                    acc += (uint32_t)((int32_t)row[l * stride[3]] + params->input_offset);
                                }
                            }
                        }
                    }
                    *dst++ = (int8_t)edgec_mean_finish(params, edgec_wrap_int32(acc));
                }
            }
        }
    }
    return EDGEC_OK;
}
