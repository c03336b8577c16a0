/*
 * edgec runtime: int8 elementwise ADD with the inputs' rescaled terms read from tables (see edgec_add_table_s8 in
 * edgec_nn.h).
 *
 * edgec_add_s8 computes, per element, s_i = requantize((x_i + input_i_offset) << left_shift, m_i, shift_i) for
 * both inputs and then requantizes s_1 + s_2. Each s_i depends on one int8 value, so the compiler tabulates
 * both over all 256 values (tables[0][x + 128] and tables[1][x + 128]) and this kernel requantizes only the sum:
 * the results are those of edgec_add_s8 for every input whose tables were made from the same parameters.
 * With a right output shift (every ADD the compiler has met) the sum takes edgec_requantize_right with constants
 * made once per call; on Armv7-M / Armv8-M Mainline an assembly loop (edgec_add_table_dsp.h) takes the usual
 * case of that. Reads input1[i] and input2[i] before writing output[i], so output may alias either input.
 */
#include "edgec_asm_opt.h" /* first: register-resident asm needs the allocator even at -O0 */
#include "edgec_nn.h"

#include "edgec_add_table_dsp.h"
#include "edgec_elementwise_common.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include "edgec_add_mve_s8.h"
#endif

/* The sum's requantization with the output offset folded in (edgec_rq_right_fold_offset), for a right output
 * shift with r - 1 <= EDGEC_RQ_FOLD_MAX_R1; the accepted output multiplier is non-negative, so
 * edgec_requantize_right applies. The clamp is then to [act_min, act_max] directly. */
static void add_folded(const edgec_add_params *params, const int32_t *table1, const int32_t *table2,
                       const int8_t *input1, const int8_t *input2, int32_t size, int8_t *output)
{
    const edgec_rq_right q = edgec_rq_right_fold_offset(
        edgec_rq_right_make(params->output_multiplier, params->output_shift), params->output_offset);
    const int32_t lo = params->act_min;
    const int32_t hi = params->act_max;
    for (int32_t i = 0; i < size; ++i) {
        const int32_t sum = (int32_t)((uint32_t)table1[input1[i]] + (uint32_t)table2[input2[i]]);
        int32_t v = edgec_requantize_right(sum, &q);
        v = v < lo ? lo : (v > hi ? hi : v);
        output[i] = (int8_t)v;
    }
}

edgec_status edgec_add_table_s8(const edgec_add_params *params, const int32_t *tables, const int8_t *input1,
                                const int8_t *input2, int32_t size, int8_t *output)
{
    if (params == 0 || tables == 0 || input1 == 0 || input2 == 0 || output == 0 || size < 0 ||
        !edgec_add_params_ok(params)) {
        return EDGEC_ARG_ERROR;
    }
    const int32_t *table1 = tables + 128;       /* indexed by the int8 value itself */
    const int32_t *table2 = tables + 256 + 128;
    const int32_t offset = params->output_offset;
    const int32_t lo = params->act_min;
    const int32_t hi = params->act_max;
    /* Tables made from accepted params hold terms below 2^30 in magnitude, so the sum is exact; any other table
     * wraps modulo 2^32 (as the compiler's interpreter does) instead of overflowing. */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) /* Helium: edgec_add_mve_s8.h, any accepted shift */
    edgec_add_table_mve_s8(params, table1, table2, input1, input2, size, output);
    return EDGEC_OK;
#elif defined(EDGEC_ADD_TABLE_ASM) /* Armv7-M / Armv8-M Mainline: edgec_add_table_dsp.h */
    if (edgec_add_table_asm_ok(params)) {
        edgec_add_table_asm(params, table1, table2, input1, input2, size, output);
        return EDGEC_OK;
    }
#endif
    if (params->output_shift < 0 && -1 - params->output_shift <= EDGEC_RQ_FOLD_MAX_R1) {
        add_folded(params, table1, table2, input1, input2, size, output);
        return EDGEC_OK;
    }
    const int32_t multiplier = params->output_multiplier;
    const int32_t shift = params->output_shift;
    for (int32_t i = 0; i < size; ++i) {
        const int32_t sum = (int32_t)((uint32_t)table1[input1[i]] + (uint32_t)table2[input2[i]]);
        const int32_t raw = edgec_requantize(sum, multiplier, shift) + offset;
        output[i] = (int8_t)edgec_clamp(raw, lo, hi);
    }
    return EDGEC_OK;
}
