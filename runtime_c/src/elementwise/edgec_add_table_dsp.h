/*
 * edgec runtime, internal: edgec_add_table_s8's loop in Thumb-2 assembly for Armv7-M and Armv8-M Mainline
 * (Cortex-M3, M4, M33: EDGEC_ADD_TABLE_ASM is defined where it is compiled), for the common case of a right
 * output shift with r = -output_shift <= EDGEC_RQ_FOLD_MAX_R1 + 1, left_shift <= 21 and the full clamp
 * [-128, 127] (every residual ADD the compiler has met: TFLite's left shift is 20).
 *
 * The arithmetic is edgec_requantize_right with the output offset folded (edgec_rq_right_fold_offset), doubled:
 * with s the sum of the two table terms, P = s * m and off the output offset, that computes floor(Y / 2^(31 + r))
 * with Y = P + 2^30 + 2^(30 + r) - [s < 0] * 2^31 + off * 2^(31 + r). Twice Y is
 *   2Y = (2s) * m + 2^31 + 2^32 * c,   c = 2^(r-1) + off * 2^r - [s < 0],
 * so the result is floor(H / 2^r) with H = floor(((2s) * m + 2^31) / 2^32) + c: one SMMLAR (Rn * Rm + 2^31 +
 * Ra * 2^32, high word) onto Ra = c with the DSP extension, one SMLAL onto (2^31, c) without it. c is one ADD of
 * the constant and s >> 31 (-1 or 0); H >> r by register, then SSAT #8 is the clamp. |c| < 2^31 for r <= 23 and
 * |off| <= 128. 2s fits in int32: each table term made from accepted params with left_shift <= 21 has magnitude
 * at most 255 * 2^21 < 2^29 (the input rescale never grows a value), so |s| < 2^30.
 *
 * Per element: two LDRSB (post-indexed) of the inputs, two table LDR, ADD, ADD (c), LSL (2s), [MOV (2^31) on
 * the M3], SMMLAR or SMLAL, ASR, SSAT, STRB; four elements per loop pass. Each element's inputs are read before
 * its output byte is written, so output may alias input1 or input2 (same pointer).
 */
#ifndef EDGEC_ADD_TABLE_DSP_H
#define EDGEC_ADD_TABLE_DSP_H

#include "edgec_nn.h"

#include "edgec_fixedpoint.h"

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__) || \
    defined(__ARM_ARCH_8_1M_MAIN__)
#define EDGEC_ADD_TABLE_ASM 1

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/* a, b: scratch; s = a + b, c = cst - [s < 0], H = high(2s * m + 2^31) + c, out = ssat8(H >> r). */
#define EDGEC_ADD_TABLE_STEP                          \
    "ldrsb  %[a], [%[in1]], #1\n\t"                   \
    "ldrsb  %[b], [%[in2]], #1\n\t"                   \
    "ldr    %[a], [%[t1], %[a], lsl #2]\n\t"          \
    "ldr    %[b], [%[t2], %[b], lsl #2]\n\t"          \
    "add    %[a], %[a], %[b]\n\t"                     \
    "add    %[b], %[cst], %[a], asr #31\n\t"          \
    "lsl    %[a], %[a], #1\n\t"                       \
    "smmlar %[a], %[a], %[m], %[b]\n\t"               \
    "asr    %[a], %[a], %[r]\n\t"                     \
    "ssat   %[a], #8, %[a]\n\t"                       \
    "strb   %[a], [%[out]], #1\n\t"
#else
/* Without SMMLAR: SMLAL onto (lo, hi) = (2^31, c); the result is the high word. */
#define EDGEC_ADD_TABLE_STEP                          \
    "ldrsb  %[a], [%[in1]], #1\n\t"                   \
    "ldrsb  %[b], [%[in2]], #1\n\t"                   \
    "ldr    %[a], [%[t1], %[a], lsl #2]\n\t"          \
    "ldr    %[b], [%[t2], %[b], lsl #2]\n\t"          \
    "add    %[a], %[a], %[b]\n\t"                     \
    "add    %[h], %[cst], %[a], asr #31\n\t"          \
    "lsl    %[a], %[a], #1\n\t"                       \
    "mov    %[b], #0x80000000\n\t"                    \
    "smlal  %[b], %[h], %[a], %[m]\n\t"               \
    "asr    %[h], %[h], %[r]\n\t"                     \
    "ssat   %[h], #8, %[h]\n\t"                       \
    "strb   %[h], [%[out]], #1\n\t"
#endif

/* Whether edgec_add_table_asm applies to params (already accepted by edgec_add_params_ok). */
static inline int edgec_add_table_asm_ok(const edgec_add_params *params)
{
    return params->output_shift < 0 && -1 - params->output_shift <= EDGEC_RQ_FOLD_MAX_R1 &&
           params->left_shift <= 21 && params->act_min == -128 && params->act_max == 127;
}

/* The temporaries of EDGEC_ADD_TABLE_STEP (the Cortex-M3's SMLAL takes a third). */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define EDGEC_ADD_TABLE_TEMPS [a] "=&r"(a), [b] "=&r"(b)
#else
#define EDGEC_ADD_TABLE_TEMPS [a] "=&r"(a), [b] "=&r"(b), [h] "=&r"(h)
#endif

/* BODY (whole steps) repeated count > 0 times over edgec_add_table_asm's pointers and constants. */
#define EDGEC_ADD_TABLE_LOOP(BODY, count)                                                                             \
    __asm__ volatile("1:\n\t" BODY "subs   %[n], %[n], #1\n\t"                                                        \
                     "bne    1b\n\t"                                                                                   \
                     : [in1] "+r"(input1), [in2] "+r"(input2), [out] "+r"(output), [n] "+r"(count),                    \
                       EDGEC_ADD_TABLE_TEMPS                                                                            \
                     : [t1] "r"(table1), [t2] "r"(table2), [cst] "r"(cst), [m] "r"(m), [r] "r"(r)                      \
                     : "cc", "memory")

/* size >= 0 elements; table1 and table2 point at the entry of value 0 (indexed by the int8 value). */
static inline void edgec_add_table_asm(const edgec_add_params *params, const int32_t *table1, const int32_t *table2,
                                       const int8_t *input1, const int8_t *input2, int32_t size, int8_t *output)
{
    const uint32_t r = (uint32_t)-params->output_shift;                                  /* in [1, 23] */
    const int32_t cst = (int32_t)(((uint32_t)params->output_offset << r) + (1u << (r - 1u)));
    const int32_t m = params->output_multiplier;
    int32_t quads = size >> 2;
    int32_t tail = size & 3;
    int32_t a;
    int32_t b;
#if !(defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP)
    int32_t h;
#endif
    if (quads > 0) {
        EDGEC_ADD_TABLE_LOOP(EDGEC_ADD_TABLE_STEP EDGEC_ADD_TABLE_STEP EDGEC_ADD_TABLE_STEP EDGEC_ADD_TABLE_STEP,
                             quads);
    }
    if (tail > 0) {
        EDGEC_ADD_TABLE_LOOP(EDGEC_ADD_TABLE_STEP, tail);
    }
}

#undef EDGEC_ADD_TABLE_LOOP
#undef EDGEC_ADD_TABLE_TEMPS
#undef EDGEC_ADD_TABLE_STEP
#endif

#endif /* EDGEC_ADD_TABLE_DSP_H */
