/*
 * edgec runtime: fully connected layer with int4 weights (see edgec_fully_connected_s4 in edgec_nn.h).
 *
 * out[b][o] = clamp(round(double(bias[o] + sum_i in[b][i] * w[o][i]) * scale[o]) + output_offset), TFLite's
 * reference rescale, computed in integers as in edgec_fully_connected_fast_s8 (edgec_fc_finish; the double
 * formula only next to a rounding tie). Accumulation wraps like int32.
 *
 * The weights are nibble-group rows (edgec_s4_common.h, compiler/int4.py) four rows at a time: rows padded with
 * zero rows to a multiple of 4, in_features to K8 (a multiple of 8) with zero weights; per block of four rows and
 * per group g of eight inputs the four rows' words of group g in row order. Per block the four sums run over the
 * whole input once:
 *
 * - DSP extension (Cortex-M4/M33/M55): per group the eight inputs are loaded (two LDR) and unpacked by SXTB16 into
 *   the halfword pairs (x0,x2) (x1,x3) (x4,x6) (x5,x7), then per row one weight word, per pair one AND
 *   (W << 4t) & 0xF000F000 (two weights at the halfword tops: scaled by 4096, sign-extended) and one SMLAD: 42
 *   instructions for 32 MACs (two groups per loop pass), the sums shifted back (ASR 12) every S4_BLOCK_GROUPS groups (exact).
 * - Helium (Cortex-M55): s4_fc_mve below, one row at a time over 32 taps per step.
 * - Elsewhere in C: per row and group the word decoded into eight weights.
 *
 * The last in_features % 8 inputs (a partial group) are copied into a zero-filled group first, so no input byte
 * past the row is read.
 */
#include <stddef.h>
#include <string.h>

#include "edgec_fc_rescale.h"
#include "edgec_nn.h"
#include "edgec_s4_common.h"

#if defined(EDGEC_S4_DSP)
/* One group of eight inputs against the four rows' words (post-incremented). */
#define S4_FC_ROW_ASM(A)                                                                                              \
    "ldr %[w], [%[wp]], #4\n\t"                                                                                      \
    S4_ROW_ASM(A, "x0", "x1", "x2", "x3")
#define S4_FC_GROUP_ASM                                                                                               \
    "ldr %[x0], [%[xp]], #4\n\t"                                                                                     \
    "ldr %[x2], [%[xp]], #4\n\t"                                                                                     \
    "sxtb16 %[x1], %[x0], ror #8\n\t"                                                                                \
    "sxtb16 %[x0], %[x0]\n\t"                                                                                        \
    "sxtb16 %[x3], %[x2], ror #8\n\t"                                                                                \
    "sxtb16 %[x2], %[x2]\n\t"                                                                                        \
    S4_FC_ROW_ASM("a0") S4_FC_ROW_ASM("a1") S4_FC_ROW_ASM("a2") S4_FC_ROW_ASM("a3")

/* s[r] += sum over groups (at most S4_BLOCK_GROUPS) of the inputs x times row r of the block's words w. */
static inline void s4_fc_dot4(const int8_t *x, const uint8_t *w, size_t groups, uint32_t s[4])
{
    register int32_t a0 __asm__("r0") = 0;
    register int32_t a1 __asm__("r1") = 0;
    register int32_t a2 __asm__("r2") = 0;
    register int32_t a3 __asm__("r3") = 0;
    register const int8_t *xp __asm__("r4") = x;
    register const uint8_t *wp __asm__("r5") = w;
    register uint32_t wv __asm__("r6");
    register uint32_t t __asm__("r12");
    register uint32_t m __asm__("lr") = 0xF000F000u;
    register int32_t x0 __asm__("r8");
    register int32_t x1 __asm__("r9");
    register int32_t x2 __asm__("r10");
    register int32_t x3 __asm__("r11");
    if (groups % 2u != 0u) {
        __asm__ volatile(S4_FC_GROUP_ASM
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xp] "+r"(xp),
                           [wp] "+r"(wp), [w] "=&r"(wv), [t] "=&r"(t), [x0] "=&r"(x0), [x1] "=&r"(x1),
                           [x2] "=&r"(x2), [x3] "=&r"(x3)
                         : [m] "r"(m)
                         : "memory");
    }
    if (groups >= 2u) {
        const int8_t *end = x + 8u * groups;
        __asm__ volatile("1:\n\t"
                         S4_FC_GROUP_ASM
                         S4_FC_GROUP_ASM
                         "ldr %[t], %[end]\n\t"
                         "cmp %[xp], %[t]\n\t"
                         "bne 1b\n\t"
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xp] "+r"(xp),
                           [wp] "+r"(wp), [w] "=&r"(wv), [t] "=&r"(t), [x0] "=&r"(x0), [x1] "=&r"(x1),
                           [x2] "=&r"(x2), [x3] "=&r"(x3)
                         : [m] "r"(m), [end] "m"(end)
                         : "cc", "memory");
    }
    s[0] += (uint32_t)(a0 >> 12);
    s[1] += (uint32_t)(a1 >> 12);
    s[2] += (uint32_t)(a2 >> 12);
    s[3] += (uint32_t)(a3 >> 12);
}
#else
/* Per group the eight inputs read once into locals (the sums are locals too: stores through int8_t pointers would
 * otherwise force the inputs to be reloaded for every row), then the four rows' words decoded (SBFX on the M3). */
static inline int32_t s4_fc_row8(const int32_t x[8], uint32_t w)
{
    return x[0] * s4_nibble(w, 3) + x[1] * s4_nibble(w, 2) + x[2] * s4_nibble(w, 7) + x[3] * s4_nibble(w, 6) +
           x[4] * s4_nibble(w, 1) + x[5] * s4_nibble(w, 0) + x[6] * s4_nibble(w, 5) + x[7] * s4_nibble(w, 4);
}

static inline void s4_fc_dot4(const int8_t *x, const uint8_t *w, size_t groups, uint32_t s[4])
{
    uint32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
    for (size_t g = 0; g < groups; ++g) {
        const int32_t v[8] = {x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]};
        s0 += (uint32_t)s4_fc_row8(v, s4_word(w));
        s1 += (uint32_t)s4_fc_row8(v, s4_word(w + 4));
        s2 += (uint32_t)s4_fc_row8(v, s4_word(w + 8));
        s3 += (uint32_t)s4_fc_row8(v, s4_word(w + 12));
        w += 16;
        x += 8;
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}
#endif

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && defined(__GNUC__)
#include <arm_mve.h>
#define EDGEC_S4_FC_MVE 1
#define S4_FC_MVE_TAPS 2048u /* K rounded up to 32 at most this (the permuted input row on the stack) */

/* Helium (Cortex-M55), for word-aligned weights and K32 = K rounded up to 32 taps <= S4_FC_MVE_TAPS: the input row
 * zero-padded to K32 and permuted once by two VLDRB gathers per 32 taps, as edgec_convolve_s4's Helium path does
 * (lane 4i + b of the low half is tap 8i + {5, 1, 7, 3}[b], of the high half 8i + {4, 0, 6, 2}[b]); then per row
 * and 32 taps one VLDRW gather of the row's four group words (16 bytes apart in its block), VSHL #4 and VAND 0xF0
 * (the nibbles as int8 lanes scaled by 16) and two VMLADAVA; the sums shifted back by ASR 4 (exact). */
static const uint8_t s4_fc_lo_offsets[16] = {5, 1, 7, 3, 13, 9, 15, 11, 21, 17, 23, 19, 29, 25, 31, 27};
static const uint8_t s4_fc_hi_offsets[16] = {4, 0, 6, 2, 12, 8, 14, 10, 20, 16, 22, 18, 28, 24, 30, 26};
static const uint32_t s4_fc_group_offsets[4] = {0, 16, 32, 48};

static void s4_fc_mve(const edgec_fc_params *params, const edgec_fc_quant *quant, int32_t batches, size_t depth,
                      const int8_t *input, int32_t out_features, const uint8_t *packed_filter, const int32_t *bias,
                      int8_t *output)
{
    const edgec_fc_range range = edgec_fc_range_of(params);
    const size_t groups = s4_padded(depth) / 8u;
    const size_t k32 = (depth + 31u) & ~(size_t)31u;
    const size_t block_bytes = groups * 16u;
    int8_t padded[S4_FC_MVE_TAPS];
    int8_t xq[S4_FC_MVE_TAPS];
    const uint8x16_t lo_off = vldrbq_u8(s4_fc_lo_offsets);
    const uint8x16_t hi_off = vldrbq_u8(s4_fc_hi_offsets);
    const uint32x4_t group_off = vldrwq_u32(s4_fc_group_offsets);
    const int8x16_t high_mask = vdupq_n_s8(-16); /* 0xF0 */
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_row = input + (size_t)b * depth;
        int8_t *out_row = output + (size_t)b * (size_t)out_features;
        memcpy(padded, in_row, depth);
        memset(padded + depth, 0, k32 - depth);
        for (size_t c = 0; c < k32; c += 32u) {
            vstrbq_s8(xq + c, vldrbq_gather_offset_s8(padded + c, lo_off));
            vstrbq_s8(xq + c + 16u, vldrbq_gather_offset_s8(padded + c, hi_off));
        }
        const uint8_t *w = packed_filter;
        for (int32_t o = 0; o < out_features; o += 4, w += block_bytes) {
            const int32_t rows = out_features - o < 4 ? out_features - o : 4;
            for (int32_t r = 0; r < rows; ++r) {
                const uint32_t *row = (const uint32_t *)(const void *)(w + 4u * (size_t)r);
                int32_t a = 0;
                for (size_t g = 0, c = 0; g < groups; g += 4u, c += 32u) {
                    const mve_pred16_t pr = vctp32q((uint32_t)(groups - g));
                    const int8x16_t wv =
                        vreinterpretq_s8_u32(vldrwq_gather_offset_z_u32(row + 4u * g, group_off, pr));
                    a = vmladavaq_s8(a, vshlq_n_s8(wv, 4), vldrbq_s8(xq + c));
                    a = vmladavaq_s8(a, vandq_s8(wv, high_mask), vldrbq_s8(xq + c + 16u));
                }
                out_row[o + r] = edgec_fc_finish((uint32_t)bias[o + r] + (uint32_t)(a >> 4), quant->multiplier[o + r],
                                                 quant->n[o + r], quant->scale + o + r, params, range);
            }
        }
    }
}
#endif

edgec_status edgec_fully_connected_s4(const edgec_fc_params *params, const edgec_fc_quant *quant,
                                      int32_t batches, int32_t in_features, const int8_t *input,
                                      int32_t out_features, const uint8_t *packed_filter, const int32_t *bias,
                                      int8_t *output)
{
    if (params == NULL || quant == NULL || quant->scale == NULL || input == NULL || packed_filter == NULL || bias == NULL || output == NULL) {
        return EDGEC_ARG_ERROR;
    }
    if (batches <= 0 || in_features <= 0 || out_features <= 0 || (int64_t)batches * in_features > INT32_MAX ||
        (int64_t)out_features * in_features > INT32_MAX || (int64_t)batches * out_features > INT32_MAX) {
        return EDGEC_ARG_ERROR;
    }
    const int32_t offset = params->output_offset;
    const int32_t act_min = params->act_min;
    const int32_t act_max = params->act_max;
    if (offset < -128 || offset > 127 || act_min < -128 || act_max > 127 || act_min > act_max) {
        return EDGEC_ARG_ERROR;
    }
    const double *scale = quant->scale;
    if (!edgec_fc_scales_ok(scale, out_features) || !edgec_fc_fixed_ok(quant, out_features)) {
        return EDGEC_ARG_ERROR;
    }

#if defined(EDGEC_S4_FC_MVE)
    if (((size_t)in_features + 31u) / 32u * 32u <= S4_FC_MVE_TAPS && ((uintptr_t)packed_filter & 3u) == 0u) {
        s4_fc_mve(params, quant, batches, (size_t)in_features, input, out_features, packed_filter, bias, output);
        return EDGEC_OK;
    }
#endif
    const edgec_fc_range range = edgec_fc_range_of(params);
    const size_t depth = (size_t)in_features;
    const size_t full = depth / 8u;                 /* whole groups of the input */
    const size_t groups = s4_padded(depth) / 8u;    /* groups of a row */
    const size_t block_bytes = groups * 16u;        /* four rows' words */
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_row = input + (size_t)b * depth;
        int8_t *out_row = output + (size_t)b * (size_t)out_features;
        int8_t tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        memcpy(tail, in_row + 8u * full, depth - 8u * full);
        const uint8_t *w = packed_filter;
        for (int32_t o = 0; o < out_features; o += 4, w += block_bytes) {
            uint32_t s[4] = {0, 0, 0, 0};
            for (size_t g0 = 0; g0 < full; g0 += S4_BLOCK_GROUPS) {
                const size_t run = full - g0 < S4_BLOCK_GROUPS ? full - g0 : S4_BLOCK_GROUPS;
                s4_fc_dot4(in_row + 8u * g0, w + 16u * g0, run, s);
            }
            if (full < groups) {
                s4_fc_dot4(tail, w + 16u * full, 1u, s);
            }
            const int32_t rows = out_features - o < 4 ? out_features - o : 4;
            for (int32_t r = 0; r < rows; ++r) {
                out_row[o + r] = edgec_fc_finish((uint32_t)bias[o + r] + s[r], quant->multiplier[o + r],
                                                 quant->n[o + r], scale + o + r, params, range);
            }
        }
    }
    return EDGEC_OK;
}
