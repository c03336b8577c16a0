/*
 * edgec runtime, internal: int8 dot products shared by the fast convolution and fully connected kernels (kept in
 * include/ so that every subset of the runtime a firmware copies has it).
 *
 * edgec_dot4_s8 accumulates four dot products that share one int8 vector x (four weight rows w, w_stride
 * apart): acc[j] += sum_{i < len} x[i] * w[j * w_stride + i]. edgec_dot1_s8 is the single-row case.
 * Sums wrap modulo 2^32 like the reference's int32 accumulator; the result is the same on every path:
 *  - Helium (__ARM_FEATURE_MVE, Cortex-M55): VMLADAVA over 16 lanes, the tail under a VCTP predicate.
 *  - DSP extension (__ARM_FEATURE_DSP, Cortex-M4/M7/M33): four bytes per load; SXTB16 unpacks bytes 0,2 and
 *    (after a rotate by 8) bytes 1,3 of both operands into halfword pairs, SMLAD adds both products. SMLAD
 *    wraps (it only sets the sticky Q flag on overflow), so the sum is the modular one.
 *  - Portable C (Cortex-M0/M3, RISC-V, host): four independent accumulators, 32-bit modular sums in uint32_t.
 * Loads of four bytes go through memcpy, so no alignment is assumed.
 */
#ifndef EDGEC_DOT_S8_H
#define EDGEC_DOT_S8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define EDGEC_DOT_MVE 1
#include <arm_mve.h>
#elif defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define EDGEC_DOT_DSP 1
#include <arm_acle.h>
#endif

/* The portable four-row dot product, also the tail (len % 4 bytes) of the DSP path. */
static inline void edgec_dot4_s8_c(const int8_t *x, const int8_t *w0, size_t w_stride, size_t len, uint32_t acc[4])
{
    uint32_t s0 = acc[0];
    uint32_t s1 = acc[1];
    uint32_t s2 = acc[2];
    uint32_t s3 = acc[3];
    const int8_t *w1 = w0 + w_stride;
    const int8_t *w2 = w1 + w_stride;
    const int8_t *w3 = w2 + w_stride;
    for (size_t i = 0; i < len; ++i) {
        const int32_t xi = x[i];
        s0 += (uint32_t)(xi * w0[i]);
        s1 += (uint32_t)(xi * w1[i]);
        s2 += (uint32_t)(xi * w2[i]);
        s3 += (uint32_t)(xi * w3[i]);
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

#if defined(EDGEC_DOT_MVE)

static inline void edgec_dot4_s8(const int8_t *x, const int8_t *w, size_t w_stride, size_t len, uint32_t acc[4])
{
    int32_t a0 = (int32_t)acc[0];
    int32_t a1 = (int32_t)acc[1];
    int32_t a2 = (int32_t)acc[2];
    int32_t a3 = (int32_t)acc[3];
    const int8_t *w0 = w;
    const int8_t *w1 = w + w_stride;
    const int8_t *w2 = w1 + w_stride;
    const int8_t *w3 = w2 + w_stride;
    for (; len >= 16; len -= 16) { /* whole vectors unpredicated (no VPST per load) */
        const int8x16_t vx = vldrbq_s8(x);
        a0 = vmladavaq_s8(a0, vx, vldrbq_s8(w0));
        a1 = vmladavaq_s8(a1, vx, vldrbq_s8(w1));
        a2 = vmladavaq_s8(a2, vx, vldrbq_s8(w2));
        a3 = vmladavaq_s8(a3, vx, vldrbq_s8(w3));
        x += 16;
        w0 += 16;
        w1 += 16;
        w2 += 16;
        w3 += 16;
    }
    if (len > 0) {
        const mve_pred16_t p = vctp8q((uint32_t)len);
        const int8x16_t vx = vldrbq_z_s8(x, p);
        a0 = vmladavaq_p_s8(a0, vx, vldrbq_z_s8(w0, p), p);
        a1 = vmladavaq_p_s8(a1, vx, vldrbq_z_s8(w1, p), p);
        a2 = vmladavaq_p_s8(a2, vx, vldrbq_z_s8(w2, p), p);
        a3 = vmladavaq_p_s8(a3, vx, vldrbq_z_s8(w3, p), p);
    }
    acc[0] = (uint32_t)a0;
    acc[1] = (uint32_t)a1;
    acc[2] = (uint32_t)a2;
    acc[3] = (uint32_t)a3;
}

static inline uint32_t edgec_dot1_s8(const int8_t *x, const int8_t *w, size_t len, uint32_t acc)
{
    int32_t a = (int32_t)acc;
    for (; len >= 16; len -= 16) {
        a = vmladavaq_s8(a, vldrbq_s8(x), vldrbq_s8(w));
        x += 16;
        w += 16;
    }
    if (len > 0) {
        const mve_pred16_t p = vctp8q((uint32_t)len);
        a = vmladavaq_p_s8(a, vldrbq_z_s8(x, p), vldrbq_z_s8(w, p), p);
    }
    return (uint32_t)a;
}

#elif defined(EDGEC_DOT_DSP)

static inline int32_t edgec_load_s8x4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Bytes 1 and 3 of v, sign-extended into the two halfwords: one SXTB16 with its rotate (GCC's __sxtb16 of a
 * rotated value costs a separate ROR). */
static inline int32_t edgec_sxtb16_odd(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

static inline void edgec_dot4_s8(const int8_t *x, const int8_t *w, size_t w_stride, size_t len, uint32_t acc[4])
{
    int32_t a0 = (int32_t)acc[0];
    int32_t a1 = (int32_t)acc[1];
    int32_t a2 = (int32_t)acc[2];
    int32_t a3 = (int32_t)acc[3];
    const int8_t *w0 = w;
    const int8_t *w1 = w + w_stride;
    const int8_t *w2 = w1 + w_stride;
    const int8_t *w3 = w2 + w_stride;
    const int8_t *x_end = x + (len & ~(size_t)3);
    while (x != x_end) {
        const int32_t xv = edgec_load_s8x4(x);
        const int32_t xe = __sxtb16(xv);
        const int32_t xo = edgec_sxtb16_odd(xv);
        int32_t wv = edgec_load_s8x4(w0);
        a0 = __smlad(xe, __sxtb16(wv), a0);
        a0 = __smlad(xo, edgec_sxtb16_odd(wv), a0);
        wv = edgec_load_s8x4(w1);
        a1 = __smlad(xe, __sxtb16(wv), a1);
        a1 = __smlad(xo, edgec_sxtb16_odd(wv), a1);
        wv = edgec_load_s8x4(w2);
        a2 = __smlad(xe, __sxtb16(wv), a2);
        a2 = __smlad(xo, edgec_sxtb16_odd(wv), a2);
        wv = edgec_load_s8x4(w3);
        a3 = __smlad(xe, __sxtb16(wv), a3);
        a3 = __smlad(xo, edgec_sxtb16_odd(wv), a3);
        x += 4;
        w0 += 4;
        w1 += 4;
        w2 += 4;
        w3 += 4;
    }
    len &= 3;
    acc[0] = (uint32_t)a0;
    acc[1] = (uint32_t)a1;
    acc[2] = (uint32_t)a2;
    acc[3] = (uint32_t)a3;
    edgec_dot4_s8_c(x, w0, w_stride, len, acc);
}

static inline uint32_t edgec_dot1_s8(const int8_t *x, const int8_t *w, size_t len, uint32_t acc)
{
    int32_t a = (int32_t)acc;
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        const int32_t xv = edgec_load_s8x4(x + i);
        const int32_t wv = edgec_load_s8x4(w + i);
        a = __smlad(__sxtb16(xv), __sxtb16(wv), a);
        a = __smlad(edgec_sxtb16_odd(xv), edgec_sxtb16_odd(wv), a);
    }
    uint32_t s = (uint32_t)a;
    for (; i < len; ++i) {
        s += (uint32_t)((int32_t)x[i] * w[i]);
    }
    return s;
}

#else

static inline void edgec_dot4_s8(const int8_t *x, const int8_t *w, size_t w_stride, size_t len, uint32_t acc[4])
{
    edgec_dot4_s8_c(x, w, w_stride, len, acc);
}

static inline uint32_t edgec_dot1_s8(const int8_t *x, const int8_t *w, size_t len, uint32_t acc)
{
    for (size_t i = 0; i < len; ++i) {
        acc += (uint32_t)((int32_t)x[i] * w[i]);
    }
    return acc;
}

#endif

#endif /* EDGEC_DOT_S8_H */
