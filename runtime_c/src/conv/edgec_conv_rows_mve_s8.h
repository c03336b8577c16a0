/*
 * edgec runtime, internal to edgec_convolve_mve_s8.h: the Helium (MVE) convolution for windows of at most three
 * kernel rows of at most 16 bytes each (KH <= 3, KW * IC <= 16, dilation_w 1): e.g. a 3x3 window over three
 * input channels or a 1x1 window over up to 16. Same arguments, OHWI layout and results as edgec_convolve_s8.
 *
 * Weights stay in registers, positions stream past them. Output rows are cut into chunks of positions; per chunk
 *  1. raw sums: for a group of G output channels (G = 6, 3, 2 for 1, 2, 3 kernel rows, so that the G * KH weight
 *     vectors and one input vector fit the eight Q registers) each kernel row's weights are one vector (loaded
 *     once per group, zero in the lanes past KW * IC), and every position of the chunk costs one 16-byte load
 *     per kernel row and one VMLADAV(A) per row and channel, its G sums stored into an int32 block;
 *  2. requantization: four channels per vector across the chunk's positions (bias, multipliers and shifts
 *     loaded once per four channels, edgec_mve_requant_split), stored as int8.
 * The input loads read 16 bytes from each window row: the lanes past the row meet zero weights. A position whose
 * window leaves the input (padding), or whose loads would reach past the end of the input tensor, is first
 * copied into a 3 x 16-byte patch with pad_value in place of the missing taps (a masked load and a select per
 * kernel row) and summed alone. Sums wrap like the reference's int32 accumulator.
 * Two more shapes take the same passes as 16-byte segments of a contiguous window:
 *  - segment mode: 1x1 windows without padding over 17-48 channels (ceil(IC / 16) segments, 16 apart);
 *  - packed mode: 2-3 kernel rows whose K bytes fit fewer segments than rows (3x3 over 3 channels: 27 bytes in
 *    two): every window of the chunk is first packed into a slot of 16 * segments bytes, its rows rb apart
 *    (whole 16-byte row stores in place, in position order, so a row's spill lands in bytes written later;
 *    border windows under a lane mask and stored as rb bytes only).
 */
#ifndef EDGEC_CONV_ROWS_MVE_S8_H
#define EDGEC_CONV_ROWS_MVE_S8_H

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#include <stddef.h>
#include <stdint.h>

#include "edgec_conv_common.h"
#include "edgec_mve_requant.h"

#if defined(__GNUC__)
#define EDGEC_CONV_ROWS_INLINE inline __attribute__((always_inline))
#define EDGEC_CONV_ROWS_NOINLINE __attribute__((noinline))
#else
#define EDGEC_CONV_ROWS_INLINE inline
#define EDGEC_CONV_ROWS_NOINLINE
#endif

#define EDGEC_CONV_ROWS_ACC 1024  /* int32 raw sums of one chunk (positions x channels rounded up to 4) */
#define EDGEC_CONV_ROWS_PACK 2048 /* bytes of packed windows of one chunk (packed mode) */
#define EDGEC_CONV_ROWS_MAX_OC 256 /* more output channels: the general Helium path */

/* Raw sums of G channels (weights w, K = R * rb bytes per channel) at n positions whose windows start at x and
 * x + step * i, kernel rows rs apart: acc[i * acc_step + j]. One asm statement per position: the input rows
 * load into one scratch vector, VMLADAV(A) sums into the even registers r0, r2, ... (VMLADAV's accumulator must
 * be even) and one STM stores the G sums; the weights are asm inputs, so they stay in Q registers across the
 * loop. */
static EDGEC_CONV_ROWS_NOINLINE void edgec_conv_rows_1x1(const int8_t *x, size_t rs, size_t step, int32_t n,
                                            const int8_t *w, size_t k, size_t rb, int32_t *acc, size_t acc_step)
{
    (void)rs;
    (void)rb;
    const mve_pred16_t pl = vctp8q((uint32_t)k); /* the only row */
    const int8x16_t w0_0 = vldrbq_z_s8(w + 0u * k + 0u * rb, pl);
    for (int32_t i = 0; i < n; ++i) {
        int8x16_t t;
        __asm__ volatile("vldrb.8 %q[t], [%[x]]\n\t"
                         "vmladav.s8 r0, %q[t], %q[w0_0]\n\t"
                         "str r0, [%[acc]]\n\t"
                         : [t] "=&w"(t)
                         : [x] "r"(x), [acc] "r"(acc), [w0_0] "w"(w0_0)
                         : "r0", "memory");
        x += step;
        acc += acc_step;
    }
}

static EDGEC_CONV_ROWS_NOINLINE void edgec_conv_rows_1x2(const int8_t *x, size_t rs, size_t step, int32_t n,
                                            const int8_t *w, size_t k, size_t rb, int32_t *acc, size_t acc_step)
{
    (void)rs;
    (void)rb;
    const mve_pred16_t pl = vctp8q((uint32_t)k); /* the only row */
    const int8x16_t w0_0 = vldrbq_z_s8(w + 0u * k + 0u * rb, pl);
    const int8x16_t w1_0 = vldrbq_z_s8(w + 1u * k + 0u * rb, pl);
    for (int32_t i = 0; i < n; ++i) {
        int8x16_t t;
        __asm__ volatile("vldrb.8 %q[t], [%[x]]\n\t"
                         "vmladav.s8 r0, %q[t], %q[w0_0]\n\t"
                         "vmladav.s8 r2, %q[t], %q[w1_0]\n\t"
                         "stm %[acc], {r0, r2}\n\t"
                         : [t] "=&w"(t)
                         : [x] "r"(x), [acc] "r"(acc), [w0_0] "w"(w0_0), [w1_0] "w"(w1_0)
                         : "r0", "r2", "memory");
        x += step;
        acc += acc_step;
    }
}

static EDGEC_CONV_ROWS_NOINLINE void edgec_conv_rows_1x3(const int8_t *x, size_t rs, size_t step, int32_t n,
                                            const int8_t *w, size_t k, size_t rb, int32_t *acc, size_t acc_step)
{
    (void)rs;
    (void)rb;
    const mve_pred16_t pl = vctp8q((uint32_t)k); /* the only row */
    const int8x16_t w0_0 = vldrbq_z_s8(w + 0u * k + 0u * rb, pl);
    const int8x16_t w1_0 = vldrbq_z_s8(w + 1u * k + 0u * rb, pl);
    const int8x16_t w2_0 = vldrbq_z_s8(w + 2u * k + 0u * rb, pl);
    for (int32_t i = 0; i < n; ++i) {
        int8x16_t t;
        __asm__ volatile("vldrb.8 %q[t], [%[x]]\n\t"
                         "vmladav.s8 r0, %q[t], %q[w0_0]\n\t"
                         "vmladav.s8 r2, %q[t], %q[w1_0]\n\t"
                         "vmladav.s8 r4, %q[t], %q[w2_0]\n\t"
                         "stm %[acc], {r0, r2, r4}\n\t"
                         : [t] "=&w"(t)
                         : [x] "r"(x), [acc] "r"(acc), [w0_0] "w"(w0_0), [w1_0] "w"(w1_0), [w2_0] "w"(w2_0)
                         : "r0", "r2", "r4", "memory");
        x += step;
        acc += acc_step;
    }
}

static EDGEC_CONV_ROWS_NOINLINE void edgec_conv_rows_1x4(const int8_t *x, size_t rs, size_t step, int32_t n,
                                            const int8_t *w, size_t k, size_t rb, int32_t *acc, size_t acc_step)
{
    (void)rs;
    (void)rb;
    const mve_pred16_t pl = vctp8q((uint32_t)k); /* the only row */
    const int8x16_t w0_0 = vldrbq_z_s8(w + 0u * k + 0u * rb, pl);
    const int8x16_t w1_0 = vldrbq_z_s8(w + 1u * k + 0u * rb, pl);
    const int8x16_t w2_0 = vldrbq_z_s8(w + 2u * k + 0u * rb, pl);
    const int8x16_t w3_0 = vldrbq_z_s8(w + 3u * k + 0u * rb, pl);
    for (int32_t i = 0; i < n; ++i) {
        int8x16_t t;
        __asm__ volatile("vldrb.8 %q[t], [%[x]]\n\t"
                         "vmladav.s8 r0, %q[t], %q[w0_0]\n\t"
                         "vmladav.s8 r2, %q[t], %q[w1_0]\n\t"
                         "vmladav.s8 r4, %q[t], %q[w2_0]\n\t"
                         "vmladav.s8 r6, %q[t], %q[w3_0]\n\t"
                         "stm %[acc], {r0, r2, r4, r6}\n\t"
                         : [t] "=&w"(t)
                         : [x] "r"(x), [acc] "r"(acc), [w0_0] "w"(w0_0), [w1_0] "w"(w1_0), [w2_0] "w"(w2_0),
                           [w3_0] "w"(w3_0)
                         : "r0", "r2", "r4", "r6", "memory");
        x += step;
        acc += acc_step;
    }
}

static EDGEC_CONV_ROWS_NOINLINE void edgec_conv_rows_1x5(const int8_t *x, size_t rs, size_t step, int32_t n,
                                            const int8_t *w, size_t k, size_t rb, int32_t *acc, size_t acc_step)
{
    (void)rs;
    (void)rb;
    const mve_pred16_t pl = vctp8q((uint32_t)k); /* the only row */
    const int8x16_t w0_0 = vldrbq_z_s8(w + 0u * k + 0u * rb, pl);
    const int8x16_t w1_0 = vldrbq_z_s8(w + 1u * k + 0u * rb, pl);
    const int8x16_t w2_0 = vldrbq_z_s8(w + 2u * k + 0u * rb, pl);
    const int8x16_t w3_0 = vldrbq_z_s8(w + 3u * k + 0u * rb, pl);
    const int8x16_t w4_0 = vldrbq_z_s8(w + 4u * k + 0u * rb, pl);
    for (int32_t i = 0; i < n; ++i) {
        int8x16_t t;
        __asm__ volatile("vldrb.8 %q[t], [%[x]]\n\t"
                         "vmladav.s8 r0, %q[t], %q[w0_0]\n\t"
                         "vmladav.s8 r2, %q[t], %q[w1_0]\n\t"
                         "vmladav.s8 r4, %q[t], %q[w2_0]\n\t"
                         "vmladav.s8 r6, %q[t], %q[w3_0]\n\t"
                         "vmladav.s8 r8, %q[t], %q[w4_0]\n\t"
                         "stm %[acc], {r0, r2, r4, r6, r8}\n\t"
                         : [t] "=&w"(t)
                         : [x] "r"(x), [acc] "r"(acc), [w0_0] "w"(w0_0), [w1_0] "w"(w1_0), [w2_0] "w"(w2_0),
                           [w3_0] "w"(w3_0), [w4_0] "w"(w4_0)
                         : "r0", "r2", "r4", "r6", "r8", "memory");
        x += step;
        acc += acc_step;
    }
}

static EDGEC_CONV_ROWS_NOINLINE void edgec_conv_rows_1x6(const int8_t *x, size_t rs, size_t step, int32_t n,
                                            const int8_t *w, size_t k, size_t rb, int32_t *acc, size_t acc_step)
{
    (void)rs;
    (void)rb;
    const mve_pred16_t pl = vctp8q((uint32_t)k); /* the only row */
    const int8x16_t w0_0 = vldrbq_z_s8(w + 0u * k + 0u * rb, pl);
    const int8x16_t w1_0 = vldrbq_z_s8(w + 1u * k + 0u * rb, pl);
    const int8x16_t w2_0 = vldrbq_z_s8(w + 2u * k + 0u * rb, pl);
    const int8x16_t w3_0 = vldrbq_z_s8(w + 3u * k + 0u * rb, pl);
    const int8x16_t w4_0 = vldrbq_z_s8(w + 4u * k + 0u * rb, pl);
    const int8x16_t w5_0 = vldrbq_z_s8(w + 5u * k + 0u * rb, pl);
    for (int32_t i = 0; i < n; ++i) {
        int8x16_t t;
        __asm__ volatile("vldrb.8 %q[t], [%[x]]\n\t"
                         "vmladav.s8 r0, %q[t], %q[w0_0]\n\t"
                         "vmladav.s8 r2, %q[t], %q[w1_0]\n\t"
                         "vmladav.s8 r4, %q[t], %q[w2_0]\n\t"
                         "vmladav.s8 r6, %q[t], %q[w3_0]\n\t"
                         "vmladav.s8 r8, %q[t], %q[w4_0]\n\t"
                         "vmladav.s8 r10, %q[t], %q[w5_0]\n\t"
                         "stm %[acc], {r0, r2, r4, r6, r8, r10}\n\t"
                         : [t] "=&w"(t)
                         : [x] "r"(x), [acc] "r"(acc), [w0_0] "w"(w0_0), [w1_0] "w"(w1_0), [w2_0] "w"(w2_0),
                           [w3_0] "w"(w3_0), [w4_0] "w"(w4_0), [w5_0] "w"(w5_0)
                         : "r0", "r2", "r4", "r6", "r8", "r10", "memory");
        x += step;
        acc += acc_step;
    }
}

static EDGEC_CONV_ROWS_NOINLINE void edgec_conv_rows_2x1(const int8_t *x, size_t rs, size_t step, int32_t n,
                                            const int8_t *w, size_t k, size_t rb, int32_t *acc, size_t acc_step)
{
    const mve_pred16_t pr = vctp8q((uint32_t)rb);
    const mve_pred16_t pl = vctp8q((uint32_t)(k - 1u * rb)); /* the last row: a segment's tail */
    const int8x16_t w0_0 = vldrbq_z_s8(w + 0u * k + 0u * rb, pr);
    const int8x16_t w0_1 = vldrbq_z_s8(w + 0u * k + 1u * rb, pl);
    for (int32_t i = 0; i < n; ++i) {
        int8x16_t t;
        __asm__ volatile("vldrb.8 %q[t], [%[x]]\n\t"
                         "vmladav.s8 r0, %q[t], %q[w0_0]\n\t"
                         "vldrb.8 %q[t], [%[x1]]\n\t"
                         "vmladava.s8 r0, %q[t], %q[w0_1]\n\t"
                         "str r0, [%[acc]]\n\t"
                         : [t] "=&w"(t)
                         : [x] "r"(x), [x1] "r"(x + rs), [acc] "r"(acc), [w0_0] "w"(w0_0), [w0_1] "w"(w0_1)
                         : "r0", "memory");
        x += step;
        acc += acc_step;
    }
}

static EDGEC_CONV_ROWS_NOINLINE void edgec_conv_rows_2x2(const int8_t *x, size_t rs, size_t step, int32_t n,
                                            const int8_t *w, size_t k, size_t rb, int32_t *acc, size_t acc_step)
{
    const mve_pred16_t pr = vctp8q((uint32_t)rb);
    const mve_pred16_t pl = vctp8q((uint32_t)(k - 1u * rb)); /* the last row: a segment's tail */
    const int8x16_t w0_0 = vldrbq_z_s8(w + 0u * k + 0u * rb, pr);
    const int8x16_t w0_1 = vldrbq_z_s8(w + 0u * k + 1u * rb, pl);
    const int8x16_t w1_0 = vldrbq_z_s8(w + 1u * k + 0u * rb, pr);
    const int8x16_t w1_1 = vldrbq_z_s8(w + 1u * k + 1u * rb, pl);
    for (int32_t i = 0; i < n; ++i) {
        int8x16_t t;
        __asm__ volatile("vldrb.8 %q[t], [%[x]]\n\t"
                         "vmladav.s8 r0, %q[t], %q[w0_0]\n\t"
                         "vmladav.s8 r2, %q[t], %q[w1_0]\n\t"
                         "vldrb.8 %q[t], [%[x1]]\n\t"
                         "vmladava.s8 r0, %q[t], %q[w0_1]\n\t"
                         "vmladava.s8 r2, %q[t], %q[w1_1]\n\t"
                         "stm %[acc], {r0, r2}\n\t"
                         : [t] "=&w"(t)
                         : [x] "r"(x), [x1] "r"(x + rs), [acc] "r"(acc), [w0_0] "w"(w0_0), [w0_1] "w"(w0_1),
                           [w1_0] "w"(w1_0), [w1_1] "w"(w1_1)
                         : "r0", "r2", "memory");
        x += step;
        acc += acc_step;
    }
}

static EDGEC_CONV_ROWS_NOINLINE void edgec_conv_rows_2x3(const int8_t *x, size_t rs, size_t step, int32_t n,
                                            const int8_t *w, size_t k, size_t rb, int32_t *acc, size_t acc_step)
{
    const mve_pred16_t pr = vctp8q((uint32_t)rb);
    const mve_pred16_t pl = vctp8q((uint32_t)(k - 1u * rb)); /* the last row: a segment's tail */
    const int8x16_t w0_0 = vldrbq_z_s8(w + 0u * k + 0u * rb, pr);
    const int8x16_t w0_1 = vldrbq_z_s8(w + 0u * k + 1u * rb, pl);
    const int8x16_t w1_0 = vldrbq_z_s8(w + 1u * k + 0u * rb, pr);
    const int8x16_t w1_1 = vldrbq_z_s8(w + 1u * k + 1u * rb, pl);
    const int8x16_t w2_0 = vldrbq_z_s8(w + 2u * k + 0u * rb, pr);
    const int8x16_t w2_1 = vldrbq_z_s8(w + 2u * k + 1u * rb, pl);
    for (int32_t i = 0; i < n; ++i) {
        int8x16_t t;
        __asm__ volatile("vldrb.8 %q[t], [%[x]]\n\t"
                         "vmladav.s8 r0, %q[t], %q[w0_0]\n\t"
                         "vmladav.s8 r2, %q[t], %q[w1_0]\n\t"
                         "vmladav.s8 r4, %q[t], %q[w2_0]\n\t"
                         "vldrb.8 %q[t], [%[x1]]\n\t"
                         "vmladava.s8 r0, %q[t], %q[w0_1]\n\t"
                         "vmladava.s8 r2, %q[t], %q[w1_1]\n\t"
                         "vmladava.s8 r4, %q[t], %q[w2_1]\n\t"
                         "stm %[acc], {r0, r2, r4}\n\t"
                         : [t] "=&w"(t)
                         : [x] "r"(x), [x1] "r"(x + rs), [acc] "r"(acc), [w0_0] "w"(w0_0), [w0_1] "w"(w0_1),
                           [w1_0] "w"(w1_0), [w1_1] "w"(w1_1), [w2_0] "w"(w2_0), [w2_1] "w"(w2_1)
                         : "r0", "r2", "r4", "memory");
        x += step;
        acc += acc_step;
    }
}

static EDGEC_CONV_ROWS_NOINLINE void edgec_conv_rows_3x1(const int8_t *x, size_t rs, size_t step, int32_t n,
                                            const int8_t *w, size_t k, size_t rb, int32_t *acc, size_t acc_step)
{
    const mve_pred16_t pr = vctp8q((uint32_t)rb);
    const mve_pred16_t pl = vctp8q((uint32_t)(k - 2u * rb)); /* the last row: a segment's tail */
    const int8x16_t w0_0 = vldrbq_z_s8(w + 0u * k + 0u * rb, pr);
    const int8x16_t w0_1 = vldrbq_z_s8(w + 0u * k + 1u * rb, pr);
    const int8x16_t w0_2 = vldrbq_z_s8(w + 0u * k + 2u * rb, pl);
    for (int32_t i = 0; i < n; ++i) {
        int8x16_t t;
        __asm__ volatile("vldrb.8 %q[t], [%[x]]\n\t"
                         "vmladav.s8 r0, %q[t], %q[w0_0]\n\t"
                         "vldrb.8 %q[t], [%[x1]]\n\t"
                         "vmladava.s8 r0, %q[t], %q[w0_1]\n\t"
                         "vldrb.8 %q[t], [%[x2]]\n\t"
                         "vmladava.s8 r0, %q[t], %q[w0_2]\n\t"
                         "str r0, [%[acc]]\n\t"
                         : [t] "=&w"(t)
                         : [x] "r"(x), [x1] "r"(x + rs), [x2] "r"(x + 2 * rs), [acc] "r"(acc), [w0_0] "w"(w0_0),
                           [w0_1] "w"(w0_1), [w0_2] "w"(w0_2)
                         : "r0", "memory");
        x += step;
        acc += acc_step;
    }
}

static EDGEC_CONV_ROWS_NOINLINE void edgec_conv_rows_3x2(const int8_t *x, size_t rs, size_t step, int32_t n,
                                            const int8_t *w, size_t k, size_t rb, int32_t *acc, size_t acc_step)
{
    const mve_pred16_t pr = vctp8q((uint32_t)rb);
    const mve_pred16_t pl = vctp8q((uint32_t)(k - 2u * rb)); /* the last row: a segment's tail */
    const int8x16_t w0_0 = vldrbq_z_s8(w + 0u * k + 0u * rb, pr);
    const int8x16_t w0_1 = vldrbq_z_s8(w + 0u * k + 1u * rb, pr);
    const int8x16_t w0_2 = vldrbq_z_s8(w + 0u * k + 2u * rb, pl);
    const int8x16_t w1_0 = vldrbq_z_s8(w + 1u * k + 0u * rb, pr);
    const int8x16_t w1_1 = vldrbq_z_s8(w + 1u * k + 1u * rb, pr);
    const int8x16_t w1_2 = vldrbq_z_s8(w + 1u * k + 2u * rb, pl);
    for (int32_t i = 0; i < n; ++i) {
        int8x16_t t;
        __asm__ volatile("vldrb.8 %q[t], [%[x]]\n\t"
                         "vmladav.s8 r0, %q[t], %q[w0_0]\n\t"
                         "vmladav.s8 r2, %q[t], %q[w1_0]\n\t"
                         "vldrb.8 %q[t], [%[x1]]\n\t"
                         "vmladava.s8 r0, %q[t], %q[w0_1]\n\t"
                         "vmladava.s8 r2, %q[t], %q[w1_1]\n\t"
                         "vldrb.8 %q[t], [%[x2]]\n\t"
                         "vmladava.s8 r0, %q[t], %q[w0_2]\n\t"
                         "vmladava.s8 r2, %q[t], %q[w1_2]\n\t"
                         "stm %[acc], {r0, r2}\n\t"
                         : [t] "=&w"(t)
                         : [x] "r"(x), [x1] "r"(x + rs), [x2] "r"(x + 2 * rs), [acc] "r"(acc), [w0_0] "w"(w0_0),
                           [w0_1] "w"(w0_1), [w0_2] "w"(w0_2), [w1_0] "w"(w1_0), [w1_1] "w"(w1_1), [w1_2] "w"(w1_2)
                         : "r0", "r2", "memory");
        x += step;
        acc += acc_step;
    }
}

/* The raw sums of g channels (1 <= g <= 6 / R) with R kernel rows: edgec_conv_rows_RxG. */
static inline void edgec_conv_rows_sums(const int8_t *x, size_t rs, size_t step, int32_t n, const int8_t *w,
                                        size_t k, size_t rb, int R, int g, int32_t *acc, size_t acc_step)
{
    switch (R * 8 + g) {
    case 9:
        edgec_conv_rows_1x1(x, rs, step, n, w, k, rb, acc, acc_step);
        break;
    case 10:
        edgec_conv_rows_1x2(x, rs, step, n, w, k, rb, acc, acc_step);
        break;
    case 11:
        edgec_conv_rows_1x3(x, rs, step, n, w, k, rb, acc, acc_step);
        break;
    case 12:
        edgec_conv_rows_1x4(x, rs, step, n, w, k, rb, acc, acc_step);
        break;
    case 13:
        edgec_conv_rows_1x5(x, rs, step, n, w, k, rb, acc, acc_step);
        break;
    case 14:
        edgec_conv_rows_1x6(x, rs, step, n, w, k, rb, acc, acc_step);
        break;
    case 17:
        edgec_conv_rows_2x1(x, rs, step, n, w, k, rb, acc, acc_step);
        break;
    case 18:
        edgec_conv_rows_2x2(x, rs, step, n, w, k, rb, acc, acc_step);
        break;
    case 19:
        edgec_conv_rows_2x3(x, rs, step, n, w, k, rb, acc, acc_step);
        break;
    case 25:
        edgec_conv_rows_3x1(x, rs, step, n, w, k, rb, acc, acc_step);
        break;
    case 26:
        edgec_conv_rows_3x2(x, rs, step, n, w, k, rb, acc, acc_step);
        break;
    default:
        break;
    }
}

/* Every channel group's raw sums at n positions (windows as for edgec_conv_rows_group). */
static inline void edgec_conv_rows_all(const int8_t *x, size_t rs, size_t step, int32_t n, const int8_t *filter,
                                       size_t k, size_t rb, int R, int32_t out_c, int32_t *acc, size_t acc_step)
{
    const int32_t gmax = 6 / R;
    for (int32_t c = 0; c < out_c; c += gmax) {
        const int32_t g = out_c - c < gmax ? out_c - c : gmax;
        edgec_conv_rows_sums(x, rs, step, n, filter + (size_t)c * k, k, rb, R, (int)g, acc + c, acc_step);
    }
}

/* Requantize n positions' sums (acc rows acc_step apart) into out (rows out_c apart), four channels per vector. */
static EDGEC_CONV_ROWS_NOINLINE void edgec_conv_rows_finish(const int32_t *acc, size_t acc_step, int32_t n,
                                                            int32_t out_c, const int32_t *bias,
                                                            const int32_t *mult, const int32_t *shift,
                                                            const edgec_conv_params *params, int8_t *out)
{
    const int32_t offset = params->output_offset;
    const int32x4_t lo = vdupq_n_s32(params->act_min);
    const int32x4_t hi = vdupq_n_s32(params->act_max);
    const int32x4_t zero = vdupq_n_s32(0);
    for (int32_t c = 0; c < out_c; c += 4) {
        const int32_t left_c = out_c - c;
        const mve_pred16_t p = vctp32q((uint32_t)left_c);
        const int32x4_t vb = vldrwq_z_s32(bias + c, p);
        const int32x4_t m = vldrwq_z_s32(mult + c, p);
        const int32x4_t s = vldrwq_z_s32(shift + c, p);
        const int32x4_t left = vmaxq_s32(s, zero);
        const int32x4_t right = vminq_s32(s, zero);
        const int32_t *a = acc + c;
        int8_t *o = out + c;
        if (left_c >= 4 && vmaxvq_s32(INT32_MIN, s) < 0) {
            /* Every channel shifts right by at least one: no left shift, and every lane takes the -1 of a negative
             * value before VRSHL (edgec_mve_requant_split with left 0 and right == s). The rounded high half of a
             * product with a multiplier below 2^31 is above INT32_MIN, so the plain add cannot wrap. */
            for (int32_t i = 0; i < n; ++i) {
                int32x4_t y = vqrdmulhq_s32(vaddq_s32(vldrwq_s32(a), vb), m);
                y = vaddq_s32(y, vshrq_n_s32(y, 31));
                y = vqaddq_n_s32(vrshlq_s32(y, s), offset);
                vstrbq_s32(o, vminq_s32(vmaxq_s32(y, lo), hi));
                a += acc_step;
                o += out_c;
            }
        } else if (left_c >= 4) {
            for (int32_t i = 0; i < n; ++i) {
                vstrbq_s32(o, edgec_mve_requant_split(vaddq_s32(vldrwq_s32(a), vb), m, left, right, offset, lo, hi));
                a += acc_step;
                o += out_c;
            }
        } else {
            for (int32_t i = 0; i < n; ++i) {
                vstrbq_p_s32(o, edgec_mve_requant_split(vaddq_s32(vldrwq_s32(a), vb), m, left, right, offset, lo, hi),
                             p);
                a += acc_step;
                o += out_c;
            }
        }
    }
}

/* edgec_convolve_mve_s8 for windows of at most three kernel rows of at most 16 bytes: 1 when done, 0 when the
 * shape is not one of those (the caller takes its other paths). */
static inline int edgec_conv_rows_mve_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                         const edgec_dims *input_dims, const int8_t *input,
                                         const edgec_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                         const edgec_dims *output_dims, int8_t *output)
{
    const int32_t k_h = filter_dims->h;
    const int32_t k_w = filter_dims->w;
    const int32_t in_c = input_dims->c;
    const int32_t out_c = filter_dims->n;
    /* Row mode: R = KH kernel rows of rb = KW * IC <= 16 bytes, rs apart in the input. Segment mode: a 1x1 window
     * without padding over 16 < IC <= 48 channels, R = ceil(IC / 16) segments of 16 bytes, 16 apart. */
    const int seg = k_h == 1 && k_w == 1 && in_c > 16 && in_c <= 48 && params->pad_top == 0 &&
                    params->pad_left == 0;
    size_t rb = (size_t)k_w * (size_t)in_c;
    if (out_c > EDGEC_CONV_ROWS_MAX_OC || (!seg && (params->dilation_w != 1 || rb > 16 || k_h > 3))) {
        return 0;
    }
    const int32_t R = seg ? (in_c + 15) / 16 : k_h;
    rb = seg ? 16u : rb;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;
    const int32_t stride_w = params->stride_w;
    const int32_t dil_h = params->dilation_h;
    const size_t k = (size_t)k_h * (size_t)k_w * (size_t)in_c;
    const size_t row_stride = (size_t)in_w * (size_t)in_c;
    const size_t image = (size_t)in_h * row_stride;
    const size_t rs = seg ? 16u : (size_t)dil_h * row_stride;
    const size_t reach = seg ? 16u * (size_t)R : 16u; /* bytes read from the last row's start */
    const size_t step = (size_t)stride_w * (size_t)in_c;
    const int8_t *const end = input + (size_t)input_dims->n * image;
    const size_t acc_step = ((size_t)out_c + 3u) & ~(size_t)3u;
    /* Packed mode: KH >= 2 rows whose K bytes fit fewer 16-byte segments than KH (e.g. 3x3 over 3 channels: 27
     * bytes in two): each position's window is first packed into a slot of 16 * segs bytes (its rows at rb
     * apart, a masked load and a select where it leaves the input), then summed as segments. */
    const size_t segs = (k + 15u) / 16u;
    const int packed = !seg && k_h >= 2 && segs < (size_t)k_h;
    const size_t slot = 16u * segs;
    int32_t chunk = (int32_t)(EDGEC_CONV_ROWS_ACC / acc_step);
    if (packed && (size_t)chunk * slot > EDGEC_CONV_ROWS_PACK) {
        chunk = (int32_t)(EDGEC_CONV_ROWS_PACK / slot);
    }
    const int8x16_t pad = vdupq_n_s8((int8_t)params->pad_value);
    /* Output columns whose window lies inside the input horizontally: [ox_lo, ox_hi). */
    const int32_t ox_lo = (params->pad_left + stride_w - 1) / stride_w;
    int32_t ox_hi = in_w - k_w + params->pad_left < 0 ? 0 : (in_w - k_w + params->pad_left) / stride_w + 1;
    ox_hi = ox_hi < out_w ? ox_hi : out_w;
    int32_t acc[EDGEC_CONV_ROWS_ACC];
    int8_t patch[48];
    int8_t pack[EDGEC_CONV_ROWS_PACK + 16]; /* + 16: the last row's load stores 16 bytes past its slot's rows */
    int8_t *out = output;
    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *const in_batch = input + (size_t)b * image;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t origin_y = oy * params->stride_h - params->pad_top;
            int32_t ky0, ky1;
            valid_taps(origin_y, dil_h, k_h, in_h, &ky0, &ky1);
            const int rows_in = ky0 == 0 && ky1 == k_h;
            /* In-place windows of this output row: [in_lo, in_hi), none when a kernel row leaves the input. */
            int32_t in_lo = rows_in ? ox_lo : 0;
            int32_t in_hi = rows_in ? ox_hi : 0;
            if (rows_in) {
                const int8_t *const last_row = in_batch + (size_t)(origin_y + (k_h - 1) * dil_h) * row_stride;
                while (in_hi > in_lo &&
                       (size_t)(end - last_row) <
                           (size_t)((in_hi - 1) * stride_w - params->pad_left) * (size_t)in_c + reach) {
                    --in_hi; /* its 16-byte loads would pass the end of the input */
                }
            }
            for (int32_t ox0 = 0; packed && ox0 < out_w; ox0 += chunk) {
                const int32_t n = out_w - ox0 < chunk ? out_w - ox0 : chunk;
                const int32_t a = in_lo > ox0 ? in_lo : ox0;
                const int32_t e = in_hi < ox0 + n ? in_hi : ox0 + n;
                if (a < e) { /* in place: whole 16-byte rows (the bytes past rb are overwritten by the next row or
                              * meet zero weights), the rows walked by pointers */
                    const int8_t *s0 = in_batch + (size_t)origin_y * row_stride +
                                       (size_t)(a * stride_w - params->pad_left) * (size_t)in_c;
                    const int8_t *s1 = s0 + rs;
                    int8_t *d0 = pack + (size_t)(a - ox0) * slot;
                    int8_t *d1 = d0 + rb;
                    if (k_h == 3) {
                        const int8_t *s2 = s1 + rs;
                        int8_t *d2 = d1 + rb;
                        for (int32_t i = a; i < e; ++i) {
                            const int8x16_t v0 = vldrbq_s8(s0);
                            const int8x16_t v1 = vldrbq_s8(s1);
                            const int8x16_t v2 = vldrbq_s8(s2);
                            vstrbq_s8(d0, v0);
                            vstrbq_s8(d1, v1);
                            vstrbq_s8(d2, v2);
                            s0 += step;
                            s1 += step;
                            s2 += step;
                            d0 += slot;
                            d1 += slot;
                            d2 += slot;
                        }
                    } else {
                        for (int32_t i = a; i < e; ++i) {
                            const int8x16_t v0 = vldrbq_s8(s0);
                            const int8x16_t v1 = vldrbq_s8(s1);
                            vstrbq_s8(d0, v0);
                            vstrbq_s8(d1, v1);
                            s0 += step;
                            s1 += step;
                            d0 += slot;
                            d1 += slot;
                        }
                    }
                }
                for (int32_t ox = ox0; ox < ox0 + n; ++ox) {
                    if (ox == a && a < e) {
                        ox = e - 1; /* past the in-place run */
                        continue;
                    }
                    /* a window leaving the input (or near its end): each row's in-bounds bytes under a lane mask */
                    const mve_pred16_t store_rb = vctp8q((uint32_t)rb);
                    int8_t *dst = pack + (size_t)(ox - ox0) * slot;
                    const int32_t origin_x = ox * stride_w - params->pad_left;
                    const int8_t *row = in_batch + (ptrdiff_t)origin_y * (ptrdiff_t)row_stride +
                                        (ptrdiff_t)origin_x * (ptrdiff_t)in_c;
                    int32_t kx0, kx1;
                    valid_taps(origin_x, 1, k_w, in_w, &kx0, &kx1);
                    const mve_pred16_t valid = (mve_pred16_t)(vctp8q((uint32_t)kx1 * (uint32_t)in_c) &
                                                              (mve_pred16_t)~vctp8q((uint32_t)kx0 * (uint32_t)in_c));
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        int8x16_t v = pad;
                        if (ky >= ky0 && ky < ky1) {
                            v = vpselq_s8(vldrbq_z_s8(row + (ptrdiff_t)ky * (ptrdiff_t)rs, valid), pad, valid);
                        }
                        /* only rb bytes: a whole store would reach into the next slot, maybe already packed */
                        vstrbq_p_s8(dst + (size_t)ky * rb, v, store_rb);
                    }
                }
                edgec_conv_rows_all(pack, 16, slot, n, filter, k, 16, (int)segs, out_c, acc, acc_step);
                edgec_conv_rows_finish(acc, acc_step, n, out_c, bias, quant->multiplier, quant->shift, params, out);
                out += (size_t)n * (size_t)out_c;
            }
            for (int32_t ox0 = 0; !packed && ox0 < out_w; ox0 += chunk) {
                const int32_t n = out_w - ox0 < chunk ? out_w - ox0 : chunk;
                const int32_t a = in_lo > ox0 ? in_lo : ox0;
                const int32_t e = in_hi < ox0 + n ? in_hi : ox0 + n;
                if (a < e) {
                    const int8_t *x = in_batch + (size_t)origin_y * row_stride +
                                      (size_t)(a * stride_w - params->pad_left) * (size_t)in_c;
                    edgec_conv_rows_all(x, rs, step, e - a, filter, k, rb, (int)R, out_c,
                                        acc + (size_t)(a - ox0) * acc_step, acc_step);
                }
                for (int32_t ox = ox0; ox < ox0 + n; ++ox) {
                    if (ox == a && a < e) {
                        ox = e - 1; /* past the in-place run */
                        continue;
                    }
                    /* A patched window: each kernel row's in-bounds bytes under a lane mask, pad_value elsewhere. */
                    const int32_t origin_x = ox * stride_w - params->pad_left;
                    if (seg) { /* the window's K bytes, in bounds (no padding): only the end of the input is near */
                        const int8_t *src = in_batch + (size_t)origin_y * row_stride + (size_t)origin_x * (size_t)in_c;
                        for (int32_t r = 0; r < R; ++r) {
                            const uint32_t left_r = (uint32_t)k - 16u * (uint32_t)r;
                            const mve_pred16_t pv = vctp8q(left_r < 16u ? left_r : 16u);
                            vstrbq_s8(patch + 16 * r, vldrbq_z_s8(src + 16 * r, pv));
                        }
                        edgec_conv_rows_all(patch, 16, 0, 1, filter, k, rb, (int)R, out_c,
                                            acc + (size_t)(ox - ox0) * acc_step, acc_step);
                        continue;
                    }
                    int32_t kx0, kx1;
                    valid_taps(origin_x, 1, k_w, in_w, &kx0, &kx1);
                    const mve_pred16_t valid = (mve_pred16_t)(vctp8q((uint32_t)kx1 * (uint32_t)in_c) &
                                                              (mve_pred16_t)~vctp8q((uint32_t)kx0 * (uint32_t)in_c));
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        int8x16_t v = pad;
                        if (ky >= ky0 && ky < ky1) {
                            const int8_t *src = in_batch +
                                                (ptrdiff_t)(origin_y + ky * dil_h) * (ptrdiff_t)row_stride +
                                                (ptrdiff_t)origin_x * (ptrdiff_t)in_c;
                            v = vpselq_s8(vldrbq_z_s8(src, valid), pad, valid);
                        }
                        vstrbq_s8(patch + 16 * ky, v);
                    }
                    edgec_conv_rows_all(patch, 16, 0, 1, filter, k, rb, (int)R, out_c,
                                        acc + (size_t)(ox - ox0) * acc_step, acc_step);
                }
                edgec_conv_rows_finish(acc, acc_step, n, out_c, bias, quant->multiplier, quant->shift, params, out);
                out += (size_t)n * (size_t)out_c;
            }
        }
    }
    return 1;
}

#endif

#endif /* EDGEC_CONV_ROWS_MVE_S8_H */
