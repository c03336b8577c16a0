/*
 * edgec runtime: int8 -> float32 (TFLite reference_integer_ops::Dequantize semantics).
 *
 *   out = (float)(scale * (in - zero_point)), the product in double and rounded once to float.
 */
#include <float.h>

#include "edgec_nn.h"

edgec_status edgec_dequantize_s8_f32(const int8_t *input, int32_t size, double scale, int32_t zero_point,
                                     float *output)
{
    if (input == 0 || output == 0 || size < 0 || !(scale > 0.0) || scale > DBL_MAX || zero_point < -128 ||
        zero_point > 127) {
        return EDGEC_ARG_ERROR;
    }
    for (int32_t i = 0; i < size; ++i) {
        output[i] = (float)(scale * (double)((int32_t)input[i] - zero_point));
    }
    return EDGEC_OK;
}
