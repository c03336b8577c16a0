/*
 * edgec runtime, internal to the fast convolution: register-blocked dot products of two output pixels at once.
 *
 * Both pixels' windows (K taps each, in the filter's (ky, kx, ic) order) are multiplied with the same OHWI filter
 * rows, so every weight loaded (and unpacked) serves two pixels and every input loaded serves several channels.
 * Sums wrap modulo 2^32 like the reference's int32 accumulator; the result is the same on every path.
 *
 *  - DSP extension (Cortex-M4/M7/M33): the two windows are first unpacked once per pixel pair into an int16
 *    buffer (edgec_pair_unpack_s8), so the inner loop only unpacks weights. Chunk c of four taps is four words:
 *    pixel 0's taps (4c, 4c+2) and (4c+1, 4c+3) as halfword pairs (SXTB16, SXTB16 ROR 8), then pixel 1's.
 *    The K % 4 tail taps follow one per word, pixel 0's then pixel 1's. edgec_dot2x2_s8 then computes
 *    2 pixels x 2 channels per pass: per chunk two 64-bit input loads, two weight words, four SXTB16 and eight
 *    SMLAD for 16 MACs (two chunks per iteration, so the loop test is paid once per 32 MACs).
 *  - ARMv7-M without DSP (Cortex-M3): edgec_dot2x3_s8 reads both windows as int8 and computes 2 pixels x
 *    3 channels per pass in six int32 accumulators: per tap two input and three weight loads (LDRSB) for six
 *    MLA, four taps per iteration (11.5 instructions per 6 MACs).
 *  - Elsewhere (Cortex-M0, RISC-V, host) the convolution keeps one position at a time (edgec_dot4_s8).
 */
#ifndef EDGEC_DOT2PX_S8_H
#define EDGEC_DOT2PX_S8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "edgec_dot_s8.h"

#if defined(__ARM_ARCH_7M__) && !defined(EDGEC_DOT_DSP)
#define EDGEC_DOT_2X3_ASM 1

/* One tap for two pixels and three channels in ARMv7-M assembly: rows 1 and 2 by register offset (stride, stride
 * shifted left once), row 0 post-incremented last: five loads, six MLA. */
#define EDGEC_2X3_TAP_ASM                                                                                             \
    "ldrsb %[x0], [%[p0]], #1\n\t"                                                                                   \
    "ldrsb %[x1], [%[p1]], #1\n\t"                                                                                   \
    "ldrsb %[t], [%[w], %[s]]\n\t"                                                                                   \
    "mla %[a01], %[x0], %[t], %[a01]\n\t"                                                                            \
    "mla %[a11], %[x1], %[t], %[a11]\n\t"                                                                            \
    "ldrsb %[t], [%[w], %[s], lsl #1]\n\t"                                                                           \
    "mla %[a02], %[x0], %[t], %[a02]\n\t"                                                                            \
    "mla %[a12], %[x1], %[t], %[a12]\n\t"                                                                            \
    "ldrsb %[t], [%[w]], #1\n\t"                                                                                     \
    "mla %[a00], %[x0], %[t], %[a00]\n\t"                                                                            \
    "mla %[a10], %[x1], %[t], %[a10]\n\t"

/* accp[j] += sum_{i < len} x_p[i] * w[j * w_stride + i] for pixels p < 2, channels j < 3: four taps per
 * iteration in assembly (eleven live accumulators and pointers plus three values: GCC spills them), the
 * len % 4 tail in C. MLA wraps, so the sums are the modular ones. */
static inline void edgec_dot2x3_s8(const int8_t *x0, const int8_t *x1, const int8_t *w, size_t w_stride, size_t len,
                                   uint32_t acc0[3], uint32_t acc1[3])
{
    uint32_t a00 = acc0[0], a01 = acc0[1], a02 = acc0[2];
    uint32_t a10 = acc1[0], a11 = acc1[1], a12 = acc1[2];
    const size_t body = len & ~(size_t)3;
    if (body > 0) {
        const int8_t *end = x0 + body;
        int32_t v0, v1, t;
        __asm__ volatile(
            "1:\n\t"
            EDGEC_2X3_TAP_ASM
            EDGEC_2X3_TAP_ASM
            EDGEC_2X3_TAP_ASM
            EDGEC_2X3_TAP_ASM
            "cmp %[p0], %[end]\n\t"
            "bne 1b\n\t"
            : [a00] "+r"(a00), [a01] "+r"(a01), [a02] "+r"(a02), [a10] "+r"(a10), [a11] "+r"(a11), [a12] "+r"(a12),
              [p0] "+r"(x0), [p1] "+r"(x1), [w] "+r"(w), [x0] "=&r"(v0), [x1] "=&r"(v1), [t] "=&r"(t)
            : [s] "r"(w_stride), [end] "r"(end)
            : "cc", "memory");
    }
    for (size_t i = 0; i < len - body; ++i) {
        const int32_t p = x0[i];
        const int32_t q = x1[i];
        int32_t v = w[i];
        a00 += (uint32_t)(p * v);
        a10 += (uint32_t)(q * v);
        v = w[w_stride + i];
        a01 += (uint32_t)(p * v);
        a11 += (uint32_t)(q * v);
        v = w[2u * w_stride + i];
        a02 += (uint32_t)(p * v);
        a12 += (uint32_t)(q * v);
    }
    acc0[0] = a00;
    acc0[1] = a01;
    acc0[2] = a02;
    acc1[0] = a10;
    acc1[1] = a11;
    acc1[2] = a12;
}
#endif

/* acc[p] += sum_{i < len} x_p[i] * w[i] for pixels p < 2 (the leftover channels of the portable path). */
static inline void edgec_dot2x1_s8_c(const int8_t *x0, const int8_t *x1, const int8_t *w, size_t len,
                                     uint32_t acc[2])
{
    uint32_t s0 = acc[0];
    uint32_t s1 = acc[1];
    for (size_t i = 0; i < len; ++i) {
        const int32_t v = w[i];
        s0 += (uint32_t)(x0[i] * v);
        s1 += (uint32_t)(x1[i] * v);
    }
    acc[0] = s0;
    acc[1] = s1;
}

#if defined(EDGEC_DOT_DSP)

/* Words of the unpacked pair buffer for windows of len taps: four per whole chunk, then the two tails. */
#define EDGEC_PAIR_WORDS(len) (((len) / 4u) * 4u + ((len) % 4u) * 2u)

/* Pixel p's (p < 2) window x[0, len) into the pair buffer q (layout in the header comment). */
static inline void edgec_pair_unpack_s8(const int8_t *x, size_t len, int p, int32_t *q)
{
    const size_t chunks = len / 4u;
    int32_t *dst = q + 2 * p;
    for (size_t c = 0; c < chunks; ++c) {
        const int32_t v = edgec_load_s8x4(x + 4u * c);
        dst[0] = __sxtb16(v);
        dst[1] = edgec_sxtb16_odd(v);
        dst += 4;
    }
    const size_t tail = len % 4u;
    int32_t *t = q + 4u * chunks + (size_t)p * tail;
    for (size_t i = 0; i < tail; ++i) {
        t[i] = x[4u * chunks + i];
    }
}

/* One chunk of four taps for two pixels and two channels in assembly: two 64-bit loads of the pair buffer, a
 * post-incremented word of each weight row, four SXTB16, eight SMLAD (16 MACs in 16 instructions). */
#define EDGEC_PAIR_CHUNK_ASM                                                                                          \
    "ldrd %[x1e], %[x1o], [%[q], #8]\n\t"                                                                            \
    "ldrd %[x0e], %[x0o], [%[q]], #16\n\t"                                                                           \
    "ldr %[v], [%[w0]], #4\n\t"                                                                                      \
    "sxtb16 %[t], %[v]\n\t"                                                                                          \
    "smlad %[a00], %[x0e], %[t], %[a00]\n\t"                                                                         \
    "smlad %[a10], %[x1e], %[t], %[a10]\n\t"                                                                         \
    "sxtb16 %[t], %[v], ror #8\n\t"                                                                                  \
    "smlad %[a00], %[x0o], %[t], %[a00]\n\t"                                                                         \
    "smlad %[a10], %[x1o], %[t], %[a10]\n\t"                                                                         \
    "ldr %[v], [%[w1]], #4\n\t"                                                                                      \
    "sxtb16 %[t], %[v]\n\t"                                                                                          \
    "smlad %[a01], %[x0e], %[t], %[a01]\n\t"                                                                         \
    "smlad %[a11], %[x1e], %[t], %[a11]\n\t"                                                                         \
    "sxtb16 %[t], %[v], ror #8\n\t"                                                                                  \
    "smlad %[a01], %[x0o], %[t], %[a01]\n\t"                                                                         \
    "smlad %[a11], %[x1o], %[t], %[a11]\n\t"

/* One chunk of four taps for two pixels and two channels (w0 and w1 rows), in C for the odd last chunk. */
static inline void edgec_pair_chunk(const int32_t *q, const int8_t *w0, const int8_t *w1, int32_t *a00,
                                    int32_t *a01, int32_t *a10, int32_t *a11)
{
    const int32_t x0e = q[0];
    const int32_t x0o = q[1];
    const int32_t x1e = q[2];
    const int32_t x1o = q[3];
    int32_t v = edgec_load_s8x4(w0);
    int32_t t = __sxtb16(v);
    *a00 = __smlad(x0e, t, *a00);
    *a10 = __smlad(x1e, t, *a10);
    t = edgec_sxtb16_odd(v);
    *a00 = __smlad(x0o, t, *a00);
    *a10 = __smlad(x1o, t, *a10);
    v = edgec_load_s8x4(w1);
    t = __sxtb16(v);
    *a01 = __smlad(x0e, t, *a01);
    *a11 = __smlad(x1e, t, *a11);
    t = edgec_sxtb16_odd(v);
    *a01 = __smlad(x0o, t, *a01);
    *a11 = __smlad(x1o, t, *a11);
}

/* accp[j] += sum_{i < len} x_p[i] * w[j * w_stride + i] for pixels p < 2 (from the pair buffer q of windows of
 * len taps), channels j < n (n is 2 or 1; with n == 1 only w's row is read and accp[1] is meaningless). */
static inline void edgec_dot2x2_s8(const int32_t *q, const int8_t *w, size_t w_stride, size_t len, int n,
                                   uint32_t acc0[2], uint32_t acc1[2])
{
    int32_t a00 = (int32_t)acc0[0];
    int32_t a01 = (int32_t)acc0[1];
    int32_t a10 = (int32_t)acc1[0];
    int32_t a11 = (int32_t)acc1[1];
    const int8_t *w0 = w;
    const int8_t *w1 = n == 2 ? w + w_stride : w; /* a single channel computes its row twice, ignored */
    const size_t chunks = len / 4u;
    if (chunks >= 2u) {
        /* Two chunks per iteration, by hand: GCC's allocation of the fourteen live values spills. */
        const int32_t *end2 = q + 8u * (chunks / 2u);
        int32_t x0e, x0o, x1e, x1o, v, t;
        __asm__ volatile(
            "1:\n\t"
            EDGEC_PAIR_CHUNK_ASM
            EDGEC_PAIR_CHUNK_ASM
            "cmp %[q], %[end]\n\t"
            "bne 1b\n\t"
            : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [q] "+r"(q), [w0] "+r"(w0),
              [w1] "+r"(w1), [x0e] "=&r"(x0e), [x0o] "=&r"(x0o), [x1e] "=&r"(x1e), [x1o] "=&r"(x1o), [v] "=&r"(v),
              [t] "=&r"(t)
            : [end] "r"(end2)
            : "cc", "memory");
    }
    if (chunks % 2u != 0u) {
        edgec_pair_chunk(q, w0, w1, &a00, &a01, &a10, &a11);
        q += 4;
        w0 += 4;
        w1 += 4;
    }
    const size_t tail = len % 4u;
    const int32_t *t0 = q;
    const int32_t *t1 = q + tail;
    uint32_t s00 = (uint32_t)a00, s01 = (uint32_t)a01, s10 = (uint32_t)a10, s11 = (uint32_t)a11;
    for (size_t i = 0; i < tail; ++i) {
        s00 += (uint32_t)(t0[i] * w0[i]);
        s10 += (uint32_t)(t1[i] * w0[i]);
        s01 += (uint32_t)(t0[i] * w1[i]);
        s11 += (uint32_t)(t1[i] * w1[i]);
    }
    acc0[0] = s00;
    acc0[1] = s01;
    acc1[0] = s10;
    acc1[1] = s11;
}

#endif

#endif /* EDGEC_DOT2PX_S8_H */
