/*
 * edgec runtime, internal to the int4-weight kernels: reading weights packed two per byte.
 *
 * Two layouts (compiler/int4.py writes both):
 *
 * Dense (TFLite's INT4 tensors; edgec_depthwise_conv_s4): the weights, flattened in their tensor's order, are
 * packed densely; element 2k sits in the low nibble of byte k and element 2k+1 in its high nibble, each a
 * two's-complement value in [-8, 7]. A nibble n is sign-extended without casts as (n ^ 8) - 8.
 *
 * Nibble groups (edgec_convolve_s4, edgec_fully_connected_s4): a row of K weights (one output channel's OHWI
 * window, one fully connected row) padded with zero weights to K8 = K rounded up to a multiple of 8, stored as
 * K8 / 8 little-endian 32-bit words, one per group of eight taps 8g..8g+7. Nibble n of a word (bits 4n..4n+3)
 * holds tap S4_TAP_OF_NIBBLE[n] = {5, 4, 1, 0, 7, 6, 3, 2} of its group. The order is the DSP extension's: there
 * (W << 4t) & 0xF000F000 (t = 0..3, one AND each) puts two weights at the tops of a word's halfwords, i.e.
 * sign-extended int16 values scaled by 4096, ready for SMLAD with the input halfword pair t of the group as SXTB16
 * unpacks it: t = 0 (x0, x2), 1 (x1, x3) (SXTB16 ROR 8 of the first four bytes), 2 (x4, x6), 3 (x5, x7). The sums
 * are then 4096 times the true ones, exact while a run of at most S4_BLOCK_GROUPS groups cannot reach 2^31 (every
 * |x * w| <= 1024, so |sum| <= 504 * 1024 < 2^19), and shifted back (ASR 12) per run.
 * Not part of the public API.
 */
#ifndef EDGEC_S4_COMMON_H
#define EDGEC_S4_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__GNUC__)
#define EDGEC_S4_DSP 1 /* SMLAD, SXTB16 (Cortex-M4/M7/M33/M55) */
#endif

/* The weight at flat index i (dense layout). */
static inline int32_t s4_at(const uint8_t *packed, size_t i)
{
    const uint32_t byte = packed[i >> 1];
    const uint32_t nibble = (i & 1u) ? (byte >> 4) : (byte & 0x0Fu);
    return (int32_t)(nibble ^ 0x08u) - 8;
}

/* K rounded up to whole groups of eight taps. */
static inline size_t s4_padded(size_t k)
{
    return (k + 7u) & ~(size_t)7u;
}

/* Groups of a run with at most this many groups give exact scaled sums on the DSP path (header comment). */
#define S4_BLOCK_GROUPS 63u

/* Nibble n of word w, sign-extended: the nibble moved to the top and shifted back arithmetically, one SBFX on
 * Armv7-M and later (the (v ^ 8) - 8 form costs three instructions for the top nibble). The conversion to int32_t
 * and the right shift of a negative value are GCC's and Clang's modular and arithmetic ones, as in
 * edgec_fixedpoint.h. */
static inline int32_t s4_nibble(uint32_t w, unsigned n)
{
    return (int32_t)(w << (28u - 4u * n)) >> 28;
}

/* The little-endian word at p (one LDR on the Cortex-M, which allows unaligned words). */
static inline uint32_t s4_word(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Tap k of a nibble-group row (the inverse of S4_TAP_OF_NIBBLE: tap j of a group is nibble {3,2,7,6,1,0,5,4}[j]). */
static inline int32_t s4g_at(const uint8_t *row, size_t k)
{
    static const uint8_t nibble_of_tap[8] = {3, 2, 7, 6, 1, 0, 5, 4};
    const unsigned n = nibble_of_tap[k & 7u];
    const uint32_t byte = row[4u * (k >> 3) + (n >> 1)];
    const uint32_t nibble = (n & 1u) ? (byte >> 4) : (byte & 0x0Fu);
    return (int32_t)(nibble ^ 0x08u) - 8;
}

/* sum_{j < 8} x[j] * (tap j of word w): one group in portable C. */
static inline int32_t s4g_dot8(const int8_t *x, uint32_t w)
{
    return x[0] * s4_nibble(w, 3) + x[1] * s4_nibble(w, 2) + x[2] * s4_nibble(w, 7) + x[3] * s4_nibble(w, 6) +
           x[4] * s4_nibble(w, 1) + x[5] * s4_nibble(w, 0) + x[6] * s4_nibble(w, 5) + x[7] * s4_nibble(w, 4);
}

#if defined(EDGEC_S4_DSP)
static inline int32_t s4_sxtb16(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(v));
    return r;
}

static inline int32_t s4_sxtb16_ror8(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* The four SMLAD operands of group word W for accumulator A against input pairs X0..X3 (header comment). */
#define S4_ROW_ASM(A, X0, X1, X2, X3)                                                                                 \
    "and %[t], %[w], %[m]\n\t"                                                                                       \
    "smlad %[" A "], %[t], %[" X0 "], %[" A "]\n\t"                                                                  \
    "and %[t], %[m], %[w], lsl #4\n\t"                                                                               \
    "smlad %[" A "], %[t], %[" X1 "], %[" A "]\n\t"                                                                  \
    "and %[t], %[m], %[w], lsl #8\n\t"                                                                               \
    "smlad %[" A "], %[t], %[" X2 "], %[" A "]\n\t"                                                                  \
    "and %[t], %[m], %[w], lsl #12\n\t"                                                                              \
    "smlad %[" A "], %[t], %[" X3 "], %[" A "]\n\t"
#endif

#endif /* EDGEC_S4_COMMON_H */
