/*
 * edgec runtime, internal to the fast convolution on the DSP extension (Cortex-M4/M7/M33): four output pixels
 * times one channel per pass.
 *
 * The four windows (K taps each, in the filter's (ky, kx, ic) order) are unpacked once per group of four pixels
 * into an int16 quad buffer (edgec_quad_unpack_s8). Chunk c of four taps is eight words: for pixel p < 4 the
 * halfword pairs of taps (4c, 4c+2) (SXTB16) and (4c+1, 4c+3) (SXTB16 ROR 8) at words 2p and 2p + 1. The K % 4
 * tail taps follow, four words per tap (pixel 0..3, each a sign-extended int32). edgec_dot4px_s8 then multiplies
 * one OHWI weight row with all four pixels: per chunk one weight word and its two SXTB16, two LDM of four
 * buffer words each and eight SMLAD: 13 instructions for 16 MACs, with the four sums held in registers across the
 * whole row (two chunks per loop iteration). Sums wrap modulo 2^32 like the reference's int32 accumulator.
 */
#ifndef EDGEC_CONV_QUAD_S8_H
#define EDGEC_CONV_QUAD_S8_H

#include <stddef.h>
#include <stdint.h>

#include "edgec_dot_s8.h"
#include "edgec_fixedpoint.h"
#include "edgec_thumb_func.h"

#if defined(EDGEC_DOT_DSP)
#define EDGEC_CONV_QUADS 1

/* Words of the quad buffer for windows of len taps. */
#define EDGEC_QUAD_WORDS(len) (((len) / 4u) * 8u + ((len) % 4u) * 4u)

/* chunks whole 4-tap chunks of one pixel from x into the quad buffer at dst (that pixel's first word of the
 * first chunk); returns dst past them. */
static inline int32_t *edgec_quad_unpack_chunks(const int8_t *x, size_t chunks, int32_t *dst)
{
    for (size_t c = 0; c < chunks; ++c) {
        const int32_t v = edgec_load_s8x4(x + 4u * c);
        dst[0] = __sxtb16(v);
        dst[1] = edgec_sxtb16_odd(v);
        dst += 8;
    }
    return dst;
}

/* Pixel p's (p < 4) window x[0, len) into the quad buffer q (layout in the header comment). */
static inline void edgec_quad_unpack_s8(const int8_t *x, size_t len, int p, int32_t *q)
{
    const size_t chunks = len / 4u;
    edgec_quad_unpack_chunks(x, chunks, q + 2 * p);
    const size_t tail = len % 4u;
    int32_t *t = q + 8u * chunks + p;
    for (size_t i = 0; i < tail; ++i) {
        t[4u * i] = x[4u * chunks + i];
    }
}

/* One chunk: a weight word (post-incremented), its two halfword pairs, two LDM of the buffer, eight SMLAD. */
#define EDGEC_QUAD_CHUNK_ASM                                                                                          \
    "ldr %[w], [%[wp]], #4\n\t"                                                                                      \
    "ldmia %[q]!, {%[x0], %[x1], %[x2], %[x3]}\n\t"                                                                  \
    "sxtb16 %[wo], %[w], ror #8\n\t"                                                                                 \
    "sxtb16 %[w], %[w]\n\t"                                                                                          \
    "smlad %[a0], %[x0], %[w], %[a0]\n\t"                                                                            \
    "smlad %[a0], %[x1], %[wo], %[a0]\n\t"                                                                           \
    "smlad %[a1], %[x2], %[w], %[a1]\n\t"                                                                            \
    "smlad %[a1], %[x3], %[wo], %[a1]\n\t"                                                                           \
    "ldmia %[q]!, {%[x0], %[x1], %[x2], %[x3]}\n\t"                                                                  \
    "smlad %[a2], %[x0], %[w], %[a2]\n\t"                                                                            \
    "smlad %[a2], %[x1], %[wo], %[a2]\n\t"                                                                           \
    "smlad %[a3], %[x2], %[w], %[a3]\n\t"                                                                            \
    "smlad %[a3], %[x3], %[wo], %[a3]\n\t"

/* acc[p] = init + sum_{i < len} pixel_p[i] * w[i] for the four pixels of the quad buffer q (windows of len taps). */
static inline void edgec_dot4px_s8(const int32_t *q, const int8_t *w, size_t len, int32_t init, int32_t acc[4])
{
    /* Fixed registers: LDM needs its list ascending (r8-r11); r7 (the Thumb frame pointer) stays free. */
    register int32_t a0 __asm__("r0") = init;
    register int32_t a1 __asm__("r1") = init;
    register int32_t a2 __asm__("r2") = init;
    register int32_t a3 __asm__("r3") = init;
    register const int32_t *qp __asm__("r4") = q;
    register const int8_t *wp __asm__("r5") = w;
    register int32_t wv __asm__("r6");
    register int32_t wo __asm__("r12");
    register int32_t x0 __asm__("r8");
    register int32_t x1 __asm__("r9");
    register int32_t x2 __asm__("r10");
    register int32_t x3 __asm__("r11");
    const size_t chunks = len / 4u;
    if (chunks % 2u != 0u) {
        __asm__ volatile(EDGEC_QUAD_CHUNK_ASM
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [q] "+r"(qp), [wp] "+r"(wp),
                           [w] "=&r"(wv), [wo] "=&r"(wo), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2),
                           [x3] "=&r"(x3)
                         :
                         : "memory");
    }
    if (chunks >= 2u) {
        register const int32_t *end __asm__("lr") = qp + 8u * (chunks & ~(size_t)1);
        __asm__ volatile("1:\n\t"
                         EDGEC_QUAD_CHUNK_ASM
                         EDGEC_QUAD_CHUNK_ASM
                         "cmp %[q], %[end]\n\t"
                         "bne 1b\n\t"
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [q] "+r"(qp), [wp] "+r"(wp),
                           [w] "=&r"(wv), [wo] "=&r"(wo), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2),
                           [x3] "=&r"(x3)
                         : [end] "r"(end)
                         : "cc", "memory");
    }
    uint32_t s0 = (uint32_t)a0, s1 = (uint32_t)a1, s2 = (uint32_t)a2, s3 = (uint32_t)a3;
    const int32_t *t = qp;
    for (size_t i = 0; i < len % 4u; ++i) {
        const int32_t v = wp[i];
        s0 += (uint32_t)(t[0] * v);
        s1 += (uint32_t)(t[1] * v);
        s2 += (uint32_t)(t[2] * v);
        s3 += (uint32_t)(t[3] * v);
        t += 4;
    }
    acc[0] = (int32_t)s0;
    acc[1] = (int32_t)s1;
    acc[2] = (int32_t)s2;
    acc[3] = (int32_t)s3;
}

/* One output of edgec_quad_finish_right: edgec_requantize_right (the 64-bit constant plus INT32_MIN's sign
 * extension for a negative sum by AND/ADDS/ADC, then SMLAL and the shift of the high word), the output offset
 * added with saturation (QADD) and SSAT to int8, which is the clamp to [-128, 127]. */
#define EDGEC_QUAD_FINISH_ASM(a)                                                                                      \
    "and %[t], %[" a "], #0x80000000\n\t"                                                                             \
    "adds %[t], %[t], %[lo]\n\t"                                                                                    \
    "adc %[h], %[hi], %[" a "], asr #31\n\t"                                                                          \
    "smlal %[t], %[h], %[" a "], %[m]\n\t"                                                                            \
    "asr %[h], %[h], %[r1]\n\t"                                                                                     \
    "qadd %[h], %[h], %[off]\n\t"                                                                                   \
    "ssat %[h], #8, %[h]\n\t"

/* finish() of one channel at four positions out[0], out[stride], out[2 * stride], out[3 * stride] for a right
 * shift (shift < 0) and the full int8 output range (act_min -128, act_max 127): the same results. */
static inline void edgec_quad_finish_right(const int32_t acc[4], int32_t multiplier, int32_t shift, int32_t offset,
                                           int8_t *out, size_t stride)
{
    const edgec_rq_right q = edgec_rq_right_make(multiplier, shift);
    int8_t *out2 = out + 2u * stride;
    int32_t t, h;
    __asm__ volatile(EDGEC_QUAD_FINISH_ASM("a0")
                     "strb %[h], [%[o]]\n\t"
                     EDGEC_QUAD_FINISH_ASM("a1")
                     "strb %[h], [%[o], %[s]]\n\t"
                     EDGEC_QUAD_FINISH_ASM("a2")
                     "strb %[h], [%[o2]]\n\t"
                     EDGEC_QUAD_FINISH_ASM("a3")
                     "strb %[h], [%[o2], %[s]]\n\t"
                     : [t] "=&r"(t), [h] "=&r"(h)
                     : [a0] "r"(acc[0]), [a1] "r"(acc[1]), [a2] "r"(acc[2]), [a3] "r"(acc[3]), [lo] "r"(q.lo),
                       [hi] "r"(q.hi), [m] "r"(q.multiplier), [r1] "r"(q.r1), [off] "r"(offset), [o] "r"(out),
                       [o2] "r"(out2), [s] "r"(stride)
                     : "cc", "memory");
}

/* The state of edgec_conv_quad_channels_s8 (word offsets fixed: the assembly reads them). */
typedef struct {
    const int32_t *quad;      /*  0: the quad buffer */
    const int8_t *w;          /*  4: the next channel's weight row (advances by K) */
    const int32_t *bias;      /*  8: the next channel's bias */
    uint32_t row_bytes;       /* 12: bytes of the quad buffer's whole chunk pairs: K / 8 * 64 */
    const int32_t *shift;     /* 16: the next channel's shift */
    const int32_t *mult;      /* 20: the next channel's multiplier */
    int8_t *out;              /* 24: the next channel's output at the first position (advances by 1) */
    uint32_t stride;          /* 28: bytes from one position's outputs to the next (OC) */
    uint32_t count;           /* 32: channels left */
    int32_t offset;           /* 36: the output offset */
    uint32_t extra;           /* 40: 1 if K / 4 is odd, plus twice the K % 4 tail taps */
} edgec_quad_channels;

/* For every channel left: the four sums (edgec_dot4px_s8, K at least 8 taps) and their
 * edgec_quad_finish_right, all in registers, in assembly (the compiler's version of this loop spills its state
 * around the inner loop). r7 holds the state throughout; AAPCS: r4-r11 saved. */
void edgec_conv_quad_channels_s8(edgec_quad_channels *st);
__asm__(EDGEC_THUMB_FUNC_BEGIN("edgec_conv_quad_channels_s8")
        "push {r4-r11, lr}\n\t"
        "mov r7, r0\n"
        "1:\n\t"
        "ldm r7, {r4, r5, r6, r12}\n\t"     /* quad, w, bias, row_bytes */
        "ldr r0, [r6], #4\n\t"
        "str r6, [r7, #8]\n\t"
        "mov r1, r0\n\t"
        "mov r2, r0\n\t"
        "mov r3, r0\n\t"
        "add lr, r4, r12\n"
        "2:\n\t"
#define EDGEC_QUAD_CHUNK_FIXED                                                                                        \
        "ldr r6, [r5], #4\n\t"                                                                                       \
        "ldmia r4!, {r8, r9, r10, r11}\n\t"                                                                          \
        "sxtb16 r12, r6, ror #8\n\t"                                                                                 \
        "sxtb16 r6, r6\n\t"                                                                                          \
        "smlad r0, r8, r6, r0\n\t"                                                                                   \
        "smlad r0, r9, r12, r0\n\t"                                                                                  \
        "smlad r1, r10, r6, r1\n\t"                                                                                  \
        "smlad r1, r11, r12, r1\n\t"                                                                                 \
        "ldmia r4!, {r8, r9, r10, r11}\n\t"                                                                          \
        "smlad r2, r8, r6, r2\n\t"                                                                                   \
        "smlad r2, r9, r12, r2\n\t"                                                                                  \
        "smlad r3, r10, r6, r3\n\t"                                                                                  \
        "smlad r3, r11, r12, r3\n\t"
        EDGEC_QUAD_CHUNK_FIXED
        EDGEC_QUAD_CHUNK_FIXED
        "cmp r4, lr\n\t"
        "bne 2b\n\t"
        "ldr r6, [r7, #40]\n\t"
        "cbz r6, 3f\n\t"                   /* an odd chunk, then the tail taps (four words each) */
        "lsrs r12, r6, #1\n\t"
        "bcc 6f\n\t"
        EDGEC_QUAD_CHUNK_FIXED
        "ldr r12, [r7, #40]\n\t"          /* the chunk used r12 */
        "lsrs r12, r12, #1\n\t"
        "beq 3f\n"
        "6:\n\t"
        "ldmia r4!, {r8, r9, r10, r11}\n\t"
        "ldrsb r6, [r5], #1\n\t"
        "mla r0, r8, r6, r0\n\t"
        "mla r1, r9, r6, r1\n\t"
        "mla r2, r10, r6, r2\n\t"
        "mla r3, r11, r6, r3\n\t"
        "subs r12, r12, #1\n\t"
        "bne 6b\n"
        "3:\n\t"
        "str r5, [r7, #4]\n\t"
        "add lr, r7, #16\n\t"
        "ldm lr, {r4, r5, r6, r8}\n\t"      /* shift, mult, out, stride */
        "ldr r12, [r4], #4\n\t"
        "ldr r9, [r5], #4\n\t"              /* multiplier */
        "stm lr, {r4, r5}\n\t"
        "adds r4, r6, #1\n\t"
        "str r4, [r7, #24]\n\t"
        "ldr r5, [r7, #36]\n\t"             /* output offset */
        "mvns r12, r12\n\t"                 /* r - 1 = -1 - shift */
        "bmi 7f\n\t"                        /* shift >= 0 */
        "movs r10, #1\n\t"
        "lsl r10, r10, r12\n\t"             /* t = 2^(r-1) */
        "lsl r11, r10, #31\n\t"
        "orr r11, r11, #0x40000000\n\t"     /* lo = 2^30 | t << 31 */
        "lsr r10, r10, #1\n\t"              /* hi = t >> 1 */
#define EDGEC_QUAD_FINISH_FIXED(a)                                                                                    \
        "and r4, " a ", #0x80000000\n\t"                                                                             \
        "adds r4, r4, r11\n\t"                                                                                       \
        "adc lr, r10, " a ", asr #31\n\t"                                                                            \
        "smlal r4, lr, " a ", r9\n\t"                                                                                \
        "asr lr, lr, r12\n\t"                                                                                        \
        "qadd lr, lr, r5\n\t"                                                                                        \
        "ssat lr, #8, lr\n\t"
        EDGEC_QUAD_FINISH_FIXED("r0")
        "strb lr, [r6]\n\t"
        EDGEC_QUAD_FINISH_FIXED("r1")
        "strb lr, [r6, r8]\n\t"
        "add r6, r6, r8, lsl #1\n\t"
        EDGEC_QUAD_FINISH_FIXED("r2")
        "strb lr, [r6]\n\t"
        EDGEC_QUAD_FINISH_FIXED("r3")
        "strb lr, [r6, r8]\n"
        "8:\n\t"
        "ldr r4, [r7, #32]\n\t"
        "subs r4, r4, #1\n\t"
        "str r4, [r7, #32]\n\t"
        "bne 1b\n\t"
        "pop {r4-r11, pc}\n"
        "7:\n\t"                            /* a left shift: edgec_requantize_nonneg's shift >= 0 branch */
        "mvn r12, r12\n\t"
#define EDGEC_QUAD_FINISH_LEFT(a)                                                                                     \
        "lsl lr, " a ", r12\n\t"                                                                                    \
        "mov r4, #0x40000000\n\t"                                                                                  \
        "mov r10, #0\n\t"                                                                                          \
        "smlal r4, r10, lr, r9\n\t"                                                                                \
        "lsl lr, r10, #1\n\t"                                                                                      \
        "orr lr, lr, r4, lsr #31\n\t"                                                                              \
        "qadd lr, lr, r5\n\t"                                                                                      \
        "ssat lr, #8, lr\n\t"
        EDGEC_QUAD_FINISH_LEFT("r0")
        "strb lr, [r6]\n\t"
        EDGEC_QUAD_FINISH_LEFT("r1")
        "strb lr, [r6, r8]\n\t"
        "add r6, r6, r8, lsl #1\n\t"
        EDGEC_QUAD_FINISH_LEFT("r2")
        "strb lr, [r6]\n\t"
        EDGEC_QUAD_FINISH_LEFT("r3")
        "strb lr, [r6, r8]\n\t"
        "b 8b\n\t"
        EDGEC_THUMB_FUNC_END("edgec_conv_quad_channels_s8"));
#undef EDGEC_QUAD_CHUNK_FIXED
#undef EDGEC_QUAD_FINISH_FIXED
#undef EDGEC_QUAD_FINISH_LEFT
#endif

#if defined(__ARM_ARCH_7M__) && !defined(EDGEC_DOT_DSP)
/*
 * ARMv7-M without the DSP extension (Cortex-M3): two MACs per SMLAL. Pixels 0 and 1 (and 2 and 3) of a tap are
 * packed into one int32 X = x0 + x1 * 2^23 (exact: |X| < 2^31), so SMLAL's 64-bit sum of X * w over the taps is
 * S0 + S1 * 2^23 exactly, S0 and S1 the two pixels' sums. While a run has at most EDGEC_PACKED_RUN taps,
 * |S0| <= 252 * 2^14 < 2^22: S0 is the low 23 bits sign-extended and S1 = (sum - S0) / 2^23, both exact. Tap t of
 * the packed quad buffer is two words: X01, X23. Per tap one LDRSB of the weight, one LDRD and two SMLAL for four
 * MACs (four taps per loop iteration); longer windows go in runs, each extracted and added with wrapping.
 */
#define EDGEC_CONV_QUADS_PACKED 1
#define EDGEC_PACKED_RUN 252u /* taps per run: a multiple of 4 with 252 * 2^14 < 2^22 */

/* Words of the packed quad buffer for windows of len taps. */
#define EDGEC_PACKED_WORDS(len) ((len) * 2u)

/* The windows x0 and x1 (len taps each) of pixels 2 * pair and 2 * pair + 1 into the packed quad buffer q. */
static inline void edgec_quad_pack_pair_s8(const int8_t *x0, const int8_t *x1, size_t len, int pair, int32_t *q)
{
    int32_t *dst = q + pair;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
    for (size_t i = 0; i < len; ++i) {
        dst[2u * i] = (int32_t)((uint32_t)(int32_t)x0[i] + ((uint32_t)(int32_t)x1[i] << 23));
    }
}

/* One tap: the weight, both packed pairs, two SMLAL. */
#define EDGEC_PACKED_TAP_ASM                                                                                          \
    "ldrsb %[t], [%[w]], #1\n\t"                                                                                     \
    "ldrd %[x0], %[x1], [%[q]], #8\n\t"                                                                              \
    "smlal %[l0], %[h0], %[x0], %[t]\n\t"                                                                            \
    "smlal %[l1], %[h1], %[x1], %[t]\n\t"

/* The pixels' sums of one 64-bit packed sum (lo, hi) = S0 + S1 * 2^23: acc[0] += S0, acc[1] += S1 (wrapping). */
static inline void edgec_packed_split(uint32_t lo, uint32_t hi, uint32_t acc[2])
{
    const int32_t s0 = (int32_t)(lo << 9) >> 9; /* arithmetic shift (GCC and Clang define it) */
    const int64_t sum = (int64_t)(((uint64_t)hi << 32) | lo);
    acc[0] += (uint32_t)s0;
    acc[1] += (uint32_t)(int32_t)((sum - s0) >> 23);
}

/* acc[p] += sum_{i < len} pixel_p[i] * w[i] for the four pixels of the packed quad buffer q (len <= the run). */
static inline void edgec_dot4px_packed_run(const int32_t *q, const int8_t *w, size_t len, uint32_t acc[4])
{
    uint32_t l0 = 0, h0 = 0, l1 = 0, h1 = 0;
    const size_t body = len & ~(size_t)3;
    if (body > 0) {
        const int32_t *end = q + 2u * body;
        int32_t t, x0, x1;
        __asm__ volatile("1:\n\t"
                         EDGEC_PACKED_TAP_ASM
                         EDGEC_PACKED_TAP_ASM
                         EDGEC_PACKED_TAP_ASM
                         EDGEC_PACKED_TAP_ASM
                         "cmp %[q], %[end]\n\t"
                         "bne 1b\n\t"
                         : [l0] "+r"(l0), [h0] "+r"(h0), [l1] "+r"(l1), [h1] "+r"(h1), [q] "+r"(q), [w] "+r"(w),
                           [t] "=&r"(t), [x0] "=&r"(x0), [x1] "=&r"(x1)
                         : [end] "r"(end)
                         : "cc", "memory");
    }
    int64_t s01 = (int64_t)(((uint64_t)h0 << 32) | l0);
    int64_t s23 = (int64_t)(((uint64_t)h1 << 32) | l1);
    for (size_t i = 0; i < len - body; ++i) {
        s01 += (int64_t)q[2u * i] * w[i];
        s23 += (int64_t)q[2u * i + 1u] * w[i];
    }
    edgec_packed_split((uint32_t)s01, (uint32_t)((uint64_t)s01 >> 32), acc);
    edgec_packed_split((uint32_t)s23, (uint32_t)((uint64_t)s23 >> 32), acc + 2);
}

/* The state of edgec_conv_quad_packed_channels_s8 (word offsets fixed: the assembly reads them). */
typedef struct {
    const int32_t *quad;      /*  0: the packed quad buffer */
    const int8_t *w;          /*  4: the next channel's weight row (advances by K) */
    const int32_t *bias;      /*  8: the next channel's bias */
    uint32_t quad_bytes;      /* 12: bytes of the buffer: K * 8 (K a multiple of 4 but for the _tail variant) */
    uint32_t run_bytes;       /* 16: bytes of one run: EDGEC_PACKED_RUN * 8 */
    const int32_t *shift;     /* 20: the next channel's shift */
    const int32_t *mult;      /* 24: the next channel's multiplier */
    int8_t *out;              /* 28: the next channel's output at the first position (advances by 1) */
    uint32_t stride;          /* 32: bytes from one position's outputs to the next (OC) */
    uint32_t count;           /* 36: channels left */
    int32_t offset;           /* 40: the output offset */
} edgec_quad_packed_channels;

/* For every channel left: the four sums (edgec_dot4px_packed) and edgec_requantize_right (or the left shift),
 * offset and clamp to the full int8 range (SSAT 9, ADD, SSAT 8: the Cortex-M3 has no QADD), in assembly.
 * The bias-initialized sums stay on the stack between runs. r7 holds the state; AAPCS: r4-r11 saved. */
#define EDGEC_PACKED_TAP_FIXED                                                                                        \
        "ldrsb r6, [r5], #1\n\t"                                                                                     \
        "ldrd r8, r9, [r4], #8\n\t"                                                                                  \
        "smlal r0, r1, r8, r6\n\t"                                                                                   \
        "smlal r2, r3, r9, r6\n\t"

#define EDGEC_PACKED_FINISH_FIXED(a)                                                                                  \
        "and r4, " a ", #0x80000000\n\t"                                                                             \
        "adds r4, r4, r11\n\t"                                                                                       \
        "adc lr, r10, " a ", asr #31\n\t"                                                                            \
        "smlal r4, lr, " a ", r9\n\t"                                                                                \
        "asr lr, lr, r12\n\t"                                                                                        \
        "ssat lr, #9, lr\n\t"                                                                                        \
        "add lr, lr, r5\n\t"                                                                                         \
        "ssat lr, #8, lr\n\t"

#define EDGEC_PACKED_FINISH_LEFT(a)                                                                                   \
        "lsl lr, " a ", r12\n\t"                                                                                    \
        "mov r4, #0x40000000\n\t"                                                                                  \
        "mov r10, #0\n\t"                                                                                          \
        "smlal r4, r10, lr, r9\n\t"                                                                                \
        "lsl lr, r10, #1\n\t"                                                                                      \
        "orr lr, lr, r4, lsr #31\n\t"                                                                              \
        "ssat lr, #9, lr\n\t"                                                                                      \
        "add lr, lr, r5\n\t"                                                                                       \
        "ssat lr, #8, lr\n\t"

/* The channel loop as assembly text: RUN_START and RUN_TAIL around the four-tap loop, which ends at STEP_END. */
#define EDGEC_PACKED_CHANNELS_ASM(NAME, RUN_START, STEP_END, RUN_TAIL)                                                 \
__asm__(EDGEC_THUMB_FUNC_BEGIN(NAME)                                                                                  \
        "push {r4-r11, lr}\n\t"                                                                                        \
        "sub sp, sp, #16\n\t"                                                                                          \
        "mov r7, r0\n"                                                                                                 \
        "1:\n\t"                                                                                                       \
        "ldr r5, [r7, #4]\n\t"              /* w */                                                                    \
        "ldr r6, [r7, #8]\n\t"                                                                                         \
        "ldr r0, [r6], #4\n\t"              /* bias */                                                                 \
        "str r6, [r7, #8]\n\t"                                                                                         \
        "mov r1, r0\n\t"                                                                                               \
        "mov r2, r0\n\t"                                                                                               \
        "mov r3, r0\n\t"                                                                                               \
        "stm sp, {r0, r1, r2, r3}\n\t"                                                                                 \
        "ldr r4, [r7, #0]\n\t"              /* q */                                                                    \
        "ldr r12, [r7, #12]\n\t"                                                                                       \
        "add r12, r4, r12\n"                /* the buffer's end */                                                     \
        "2:\n\t"                                                                                                       \
        "ldr lr, [r7, #16]\n\t"                                                                                        \
        "add lr, r4, lr\n\t"                                                                                           \
        "cmp lr, r12\n\t"                                                                                              \
        "it hi\n\t"                                                                                                    \
        "movhi lr, r12\n\t"                 /* this run's end */                                                       \
        "movs r0, #0\n\t"                                                                                              \
        "movs r1, #0\n\t"                                                                                              \
        "movs r2, #0\n\t"                                                                                              \
        "movs r3, #0\n\t"                                                                                              \
        RUN_START                                                                                                      \
        "3:\n\t"                                                                                                       \
        EDGEC_PACKED_TAP_FIXED                                                                                         \
        EDGEC_PACKED_TAP_FIXED                                                                                         \
        EDGEC_PACKED_TAP_FIXED                                                                                         \
        EDGEC_PACKED_TAP_FIXED                                                                                         \
        "cmp r4, " STEP_END "\n\t"                                                                                     \
        "bne 3b\n\t"                                                                                                   \
        RUN_TAIL                                                                                                       \
        "sbfx r8, r0, #0, #23\n\t"          /* S0: the low 23 bits */                                                  \
        "subs r0, r0, r8\n\t"                                                                                          \
        "sbc r1, r1, r8, asr #31\n\t"                                                                                  \
        "lsrs r0, r0, #23\n\t"                                                                                         \
        "orr r9, r0, r1, lsl #9\n\t"        /* S1 = (sum - S0) >> 23 */                                                \
        "sbfx r10, r2, #0, #23\n\t"                                                                                    \
        "subs r2, r2, r10\n\t"                                                                                         \
        "sbc r3, r3, r10, asr #31\n\t"                                                                                 \
        "lsrs r2, r2, #23\n\t"                                                                                         \
        "orr r11, r2, r3, lsl #9\n\t"                                                                                  \
        "ldm sp, {r0, r1, r2, r3}\n\t"                                                                                 \
        "add r0, r0, r8\n\t"                                                                                           \
        "add r1, r1, r9\n\t"                                                                                           \
        "add r2, r2, r10\n\t"                                                                                          \
        "add r3, r3, r11\n\t"                                                                                          \
        "cmp r4, r12\n\t"                                                                                              \
        "beq 4f\n\t"                                                                                                   \
        "stm sp, {r0, r1, r2, r3}\n\t"                                                                                 \
        "b 2b\n"                                                                                                       \
        "4:\n\t"                                                                                                       \
        "str r5, [r7, #4]\n\t"                                                                                         \
        "add lr, r7, #20\n\t"                                                                                          \
        "ldm lr, {r4, r5, r6, r8}\n\t"      /* shift, mult, out, stride */                                             \
        "ldr r12, [r4], #4\n\t"                                                                                        \
        "ldr r9, [r5], #4\n\t"              /* multiplier */                                                           \
        "stm lr, {r4, r5}\n\t"                                                                                         \
        "adds r4, r6, #1\n\t"                                                                                          \
        "str r4, [r7, #28]\n\t"                                                                                        \
        "ldr r5, [r7, #40]\n\t"             /* output offset */                                                        \
        "mvns r12, r12\n\t"                 /* r - 1 = -1 - shift */                                                   \
        "bmi 7f\n\t"                        /* shift >= 0 */                                                           \
        "movs r10, #1\n\t"                                                                                             \
        "lsl r10, r10, r12\n\t"             /* t = 2^(r-1) */                                                          \
        "lsl r11, r10, #31\n\t"                                                                                        \
        "orr r11, r11, #0x40000000\n\t"     /* lo = 2^30 | t << 31 */                                                  \
        "lsr r10, r10, #1\n\t"              /* hi = t >> 1 */                                                          \
        EDGEC_PACKED_FINISH_FIXED("r0")                                                                                \
        "strb lr, [r6]\n\t"                                                                                            \
        EDGEC_PACKED_FINISH_FIXED("r1")                                                                                \
        "strb lr, [r6, r8]\n\t"                                                                                        \
        "add r6, r6, r8, lsl #1\n\t"                                                                                   \
        EDGEC_PACKED_FINISH_FIXED("r2")                                                                                \
        "strb lr, [r6]\n\t"                                                                                            \
        EDGEC_PACKED_FINISH_FIXED("r3")                                                                                \
        "strb lr, [r6, r8]\n"                                                                                          \
        "8:\n\t"                                                                                                       \
        "ldr r4, [r7, #36]\n\t"                                                                                        \
        "subs r4, r4, #1\n\t"                                                                                          \
        "str r4, [r7, #36]\n\t"                                                                                        \
        "bne 1b\n\t"                                                                                                   \
        "add sp, sp, #16\n\t"                                                                                          \
        "pop {r4-r11, pc}\n"                                                                                           \
        "7:\n\t"                            /* a left shift: edgec_requantize_nonneg's shift >= 0 branch */            \
        "mvn r12, r12\n\t"                                                                                             \
        EDGEC_PACKED_FINISH_LEFT("r0")                                                                                 \
        "strb lr, [r6]\n\t"                                                                                            \
        EDGEC_PACKED_FINISH_LEFT("r1")                                                                                 \
        "strb lr, [r6, r8]\n\t"                                                                                        \
        "add r6, r6, r8, lsl #1\n\t"                                                                                   \
        EDGEC_PACKED_FINISH_LEFT("r2")                                                                                 \
        "strb lr, [r6]\n\t"                                                                                            \
        EDGEC_PACKED_FINISH_LEFT("r3")                                                                                 \
        "strb lr, [r6, r8]\n\t"                                                                                        \
        "b 8b\n\t"                                                                                                     \
        EDGEC_THUMB_FUNC_END(NAME));

void edgec_conv_quad_packed_channels_s8(edgec_quad_packed_channels *st);
EDGEC_PACKED_CHANNELS_ASM("edgec_conv_quad_packed_channels_s8", "", "lr", "")

/* As edgec_conv_quad_packed_channels_s8 for any K: each run's whole four-tap steps end at r10, then the last
 * run's K % 4 tail taps one at a time (a separate function: the plain one keeps its shorter run setup). */
void edgec_conv_quad_packed_channels_tail_s8(edgec_quad_packed_channels *st);
EDGEC_PACKED_CHANNELS_ASM("edgec_conv_quad_packed_channels_tail_s8",
                          "sub r10, lr, r4\n\t"
                          "bics r10, r10, #31\n\t"
                          "beq 5f\n\t"
                          "add r10, r4, r10\n\t",
                          "r10",
                          "5:\n\t"
                          "cmp r4, lr\n\t"
                          "beq 6f\n\t"
                          EDGEC_PACKED_TAP_FIXED
                          "b 5b\n"
                          "6:\n\t")
#undef EDGEC_PACKED_CHANNELS_ASM
#undef EDGEC_PACKED_TAP_FIXED
#undef EDGEC_PACKED_FINISH_FIXED
#undef EDGEC_PACKED_FINISH_LEFT

/* acc[p] = init + sum_{i < len} pixel_p[i] * w[i] for the four pixels of the packed quad buffer q, in runs. */
static inline void edgec_dot4px_packed(const int32_t *q, const int8_t *w, size_t len, int32_t init, uint32_t acc[4])
{
    acc[0] = acc[1] = acc[2] = acc[3] = (uint32_t)init;
    for (size_t i = 0; i < len; i += EDGEC_PACKED_RUN) {
        const size_t n = len - i < EDGEC_PACKED_RUN ? len - i : EDGEC_PACKED_RUN;
        edgec_dot4px_packed_run(q + 2u * i, w + i, n, acc);
    }
}
#endif

#endif /* EDGEC_CONV_QUAD_S8_H */
