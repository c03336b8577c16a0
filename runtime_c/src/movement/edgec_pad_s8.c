/*
 * edgec runtime: int8 constant padding (TFLite PAD / PADV2): fill the output with pad_value, then
 * copy the input into its interior with edgec_strided_copy_s8 (params place it).
 */
#include <string.h>

#include "edgec_nn.h"

edgec_status edgec_pad_s8(const edgec_copy_params *params, int32_t pad_value, int32_t output_size,
                          const int8_t *input, int8_t *output)
{
    if (params == 0 || input == 0 || output == 0 || output_size < 1 || pad_value < -128 || pad_value > 127) {
        return EDGEC_ARG_ERROR;
    }
    memset(output, (int)(int8_t)pad_value, (size_t)output_size);
    return edgec_strided_copy_s8(params, input, output);
}
