/*
 * edgec runtime: any unary int8 function as a 256-entry table.
 *
 *   output[i] = table[input[i] + 128]
 *
 * The compiler fills the table by running the TFLite reference kernel's algorithm on every int8
 * input (RELU family, LEAKY_RELU, HARD_SWISH, LOGISTIC, TANH, int8 -> int8 QUANTIZE).
 */
#include "edgec_nn.h"

edgec_status edgec_lut_s8(const int8_t *table, const int8_t *input, int32_t size, int8_t *output)
{
    if (table == 0 || input == 0 || output == 0 || size < 0) {
        return EDGEC_ARG_ERROR;
    }
    for (int32_t i = 0; i < size; ++i) {
        output[i] = table[(int32_t)input[i] + 128];
    }
    return EDGEC_OK;
}
