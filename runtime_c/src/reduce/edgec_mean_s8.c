/*
 * edgec runtime: int8 MEAN over any set of the four (extended) axes, TFLite's reference arithmetic
 * (QuantizedMeanOrSum): out = clamp(requantize(sum(x + input_offset), multiplier, shift) + output_offset),
 * with 1/count already folded into (multiplier, shift). Outputs are written in row-major order of
 * the non-reduced axes.
 */
#include "edgec_nn.h"

#include "edgec_fixedpoint.h"

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
                    const int32_t v = edgec_requantize(edgec_wrap_int32(acc), params->multiplier, params->shift);
                    *dst++ = (int8_t)edgec_clamp(v + params->output_offset, -128, 127);
                }
            }
        }
    }
    return EDGEC_OK;
}
