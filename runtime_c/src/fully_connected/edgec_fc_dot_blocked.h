/*
 * edgec runtime, internal to the fast fully connected kernel: four dot products over blocked weights.
 *
 * fc_dot4_groups(x, w, groups, acc) adds to acc[j] (j < 4) the sum over k < groups and i < 4 of x[4k + i] *
 * w[16k + 4j + i]: w is one block of compiler/fc_layout.py's layout, 16 bytes per group of four inputs (rows
 * 0..3, four bytes each), read by one pointer from start to end. Sums wrap modulo 2^32 like the reference's
 * int32 accumulator, identically on every path:
 *  - DSP extension (Cortex-M4/M7/M33): fc_unpack_x16 turns the input row once into SMLAD halfwords (x0, x2),
 *    (x1, x3) per group on the caller's stack; fc_blocks_x16 (in_features % 4 == 0) and fc_dot4_x16 then take per
 *    group one LDRD of those, one LDM of the 16 weight bytes, SXTB16 (bytes 0,2) and SXTB16 ROR 8 (bytes 1,3) of
 *    each word and two SMLADs per row (SMLAD wraps; it only sets the sticky Q flag): 74 instructions for 64 MACs
 *    (1.16 per MAC). fc_dot4_groups (rows too long for the stack buffer) unpacks x per block: 82 for 64.
 *  - Helium (Cortex-M55): 16 inputs per step; one row's 16 weights are four words 16 bytes apart, fetched by a
 *    gather from a vector of their addresses with writeback (+64 per step), one VMLADAVA per row: 11 instructions
 *    per 64 MACs (10 with fc_blocks_mve's DLS/LE loop when in_features % 16 == 0); the last groups under a VCTP
 *    predicate with zeroing loads; word-aligned w, else the portable loop.
 *  - Armv7-M without DSP (Cortex-M3): fc_dot8_groups_m3, two blocks (eight rows) per pass, each input byte loaded
 *    once (LDRSB) for the eight rows, LDRSB + MLA per weight: 138 instructions per 64 MACs (2.16 per MAC).
 *  - Portable C (Cortex-M0, RISC-V, host, and the M3's leftovers): four accumulators, each multiply-accumulated
 *    straight from the bytes.
 * Not part of the public API.
 */
#ifndef EDGEC_FC_DOT_BLOCKED_H
#define EDGEC_FC_DOT_BLOCKED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define EDGEC_FC_MVE 1
#include <arm_mve.h>
#elif defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define EDGEC_FC_DSP 1
#include <arm_acle.h>
#elif defined(__ARM_ARCH_7M__)
#define EDGEC_FC_M3 1 /* Armv7-M without the DSP extension: LDRSB + MLA in asm */
#endif

/* acc + x * w modulo 2^32. On Armv7-M without the DSP extension (Cortex-M3) one MLA, kept as one: left to itself
 * GCC regroups the four products of a row into MUL + 3 MLA + ADD. */
static inline uint32_t fc_mla(uint32_t acc, int32_t x, int32_t w)
{
#if defined(__ARM_ARCH_7M__) && !defined(EDGEC_FC_DSP) && !defined(EDGEC_FC_MVE)
    __asm__("mla %0, %1, %2, %0" : "+r"(acc) : "r"(x), "r"(w));
    return acc;
#else
    return acc + (uint32_t)(x * w);
#endif
}

static inline void fc_dot4_groups_c(const int8_t *x, const int8_t *w, size_t groups, uint32_t acc[4])
{
    uint32_t s0 = acc[0];
    uint32_t s1 = acc[1];
    uint32_t s2 = acc[2];
    uint32_t s3 = acc[3];
    for (size_t k = 0; k < groups; ++k) {
        const int32_t x0 = x[0];
        const int32_t x1 = x[1];
        const int32_t x2 = x[2];
        const int32_t x3 = x[3];
        s0 = fc_mla(s0, x0, w[0]);
        s0 = fc_mla(s0, x1, w[1]);
        s0 = fc_mla(s0, x2, w[2]);
        s0 = fc_mla(s0, x3, w[3]);
        s1 = fc_mla(s1, x0, w[4]);
        s1 = fc_mla(s1, x1, w[5]);
        s1 = fc_mla(s1, x2, w[6]);
        s1 = fc_mla(s1, x3, w[7]);
        s2 = fc_mla(s2, x0, w[8]);
        s2 = fc_mla(s2, x1, w[9]);
        s2 = fc_mla(s2, x2, w[10]);
        s2 = fc_mla(s2, x3, w[11]);
        s3 = fc_mla(s3, x0, w[12]);
        s3 = fc_mla(s3, x1, w[13]);
        s3 = fc_mla(s3, x2, w[14]);
        s3 = fc_mla(s3, x3, w[15]);
        x += 4;
        w += 16;
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

#if defined(EDGEC_FC_M3)

/* Eight rows (two consecutive blocks, pa and pb = pa + block bytes) over `pairs` >= 1 pairs of groups: each input
 * byte loaded once for the eight rows (LDRSB), one LDRSB + MLA per weight; 138 instructions per 64 MACs. */
static inline void fc_dot8_groups_m3(const int8_t *x, const int8_t *pa, const int8_t *pb, size_t pairs,
                                     const int32_t *bias, uint32_t *acc)
{
    /* the accumulators in r0..r7: one LDM from bias, one STM to acc */
    register uint32_t a0 __asm__("r0");
    register uint32_t a1 __asm__("r1");
    register uint32_t a2 __asm__("r2");
    register uint32_t a3 __asm__("r3");
    register uint32_t a4 __asm__("r4");
    register uint32_t a5 __asm__("r5");
    register uint32_t a6 __asm__("r6");
    register uint32_t a7 __asm__("r7");
    const int8_t *end = x + 8 * pairs;
    int32_t xv;
    int32_t wv;
    __asm__ volatile("ldr    %[xv], %[biasp]\n\t"
                     "ldmia  %[xv], {%[a0], %[a1], %[a2], %[a3], %[a4], %[a5], %[a6], %[a7]}\n\t"
                     "1:\n\t"
                     "ldrsb  %[xv], [%[x]], #1\n\t"
                     "ldrsb  %[wv], [%[pa], #0]\n\t"
                     "mla    %[a0], %[xv], %[wv], %[a0]\n\t"
                     "ldrsb  %[wv], [%[pa], #4]\n\t"
                     "mla    %[a1], %[xv], %[wv], %[a1]\n\t"
                     "ldrsb  %[wv], [%[pa], #8]\n\t"
                     "mla    %[a2], %[xv], %[wv], %[a2]\n\t"
                     "ldrsb  %[wv], [%[pa], #12]\n\t"
                     "mla    %[a3], %[xv], %[wv], %[a3]\n\t"
                     "ldrsb  %[wv], [%[pb], #0]\n\t"
                     "mla    %[a4], %[xv], %[wv], %[a4]\n\t"
                     "ldrsb  %[wv], [%[pb], #4]\n\t"
                     "mla    %[a5], %[xv], %[wv], %[a5]\n\t"
                     "ldrsb  %[wv], [%[pb], #8]\n\t"
                     "mla    %[a6], %[xv], %[wv], %[a6]\n\t"
                     "ldrsb  %[wv], [%[pb], #12]\n\t"
                     "mla    %[a7], %[xv], %[wv], %[a7]\n\t"
                     "ldrsb  %[xv], [%[x]], #1\n\t"
                     "ldrsb  %[wv], [%[pa], #1]\n\t"
                     "mla    %[a0], %[xv], %[wv], %[a0]\n\t"
                     "ldrsb  %[wv], [%[pa], #5]\n\t"
                     "mla    %[a1], %[xv], %[wv], %[a1]\n\t"
                     "ldrsb  %[wv], [%[pa], #9]\n\t"
                     "mla    %[a2], %[xv], %[wv], %[a2]\n\t"
                     "ldrsb  %[wv], [%[pa], #13]\n\t"
                     "mla    %[a3], %[xv], %[wv], %[a3]\n\t"
                     "ldrsb  %[wv], [%[pb], #1]\n\t"
                     "mla    %[a4], %[xv], %[wv], %[a4]\n\t"
                     "ldrsb  %[wv], [%[pb], #5]\n\t"
                     "mla    %[a5], %[xv], %[wv], %[a5]\n\t"
                     "ldrsb  %[wv], [%[pb], #9]\n\t"
                     "mla    %[a6], %[xv], %[wv], %[a6]\n\t"
                     "ldrsb  %[wv], [%[pb], #13]\n\t"
                     "mla    %[a7], %[xv], %[wv], %[a7]\n\t"
                     "ldrsb  %[xv], [%[x]], #1\n\t"
                     "ldrsb  %[wv], [%[pa], #2]\n\t"
                     "mla    %[a0], %[xv], %[wv], %[a0]\n\t"
                     "ldrsb  %[wv], [%[pa], #6]\n\t"
                     "mla    %[a1], %[xv], %[wv], %[a1]\n\t"
                     "ldrsb  %[wv], [%[pa], #10]\n\t"
                     "mla    %[a2], %[xv], %[wv], %[a2]\n\t"
                     "ldrsb  %[wv], [%[pa], #14]\n\t"
                     "mla    %[a3], %[xv], %[wv], %[a3]\n\t"
                     "ldrsb  %[wv], [%[pb], #2]\n\t"
                     "mla    %[a4], %[xv], %[wv], %[a4]\n\t"
                     "ldrsb  %[wv], [%[pb], #6]\n\t"
                     "mla    %[a5], %[xv], %[wv], %[a5]\n\t"
                     "ldrsb  %[wv], [%[pb], #10]\n\t"
                     "mla    %[a6], %[xv], %[wv], %[a6]\n\t"
                     "ldrsb  %[wv], [%[pb], #14]\n\t"
                     "mla    %[a7], %[xv], %[wv], %[a7]\n\t"
                     "ldrsb  %[xv], [%[x]], #1\n\t"
                     "ldrsb  %[wv], [%[pa], #3]\n\t"
                     "mla    %[a0], %[xv], %[wv], %[a0]\n\t"
                     "ldrsb  %[wv], [%[pa], #7]\n\t"
                     "mla    %[a1], %[xv], %[wv], %[a1]\n\t"
                     "ldrsb  %[wv], [%[pa], #11]\n\t"
                     "mla    %[a2], %[xv], %[wv], %[a2]\n\t"
                     "ldrsb  %[wv], [%[pa], #15]\n\t"
                     "mla    %[a3], %[xv], %[wv], %[a3]\n\t"
                     "ldrsb  %[wv], [%[pb], #3]\n\t"
                     "mla    %[a4], %[xv], %[wv], %[a4]\n\t"
                     "ldrsb  %[wv], [%[pb], #7]\n\t"
                     "mla    %[a5], %[xv], %[wv], %[a5]\n\t"
                     "ldrsb  %[wv], [%[pb], #11]\n\t"
                     "mla    %[a6], %[xv], %[wv], %[a6]\n\t"
                     "ldrsb  %[wv], [%[pb], #15]\n\t"
                     "mla    %[a7], %[xv], %[wv], %[a7]\n\t"
                     "ldrsb  %[xv], [%[x]], #1\n\t"
                     "ldrsb  %[wv], [%[pa], #16]\n\t"
                     "mla    %[a0], %[xv], %[wv], %[a0]\n\t"
                     "ldrsb  %[wv], [%[pa], #20]\n\t"
                     "mla    %[a1], %[xv], %[wv], %[a1]\n\t"
                     "ldrsb  %[wv], [%[pa], #24]\n\t"
                     "mla    %[a2], %[xv], %[wv], %[a2]\n\t"
                     "ldrsb  %[wv], [%[pa], #28]\n\t"
                     "mla    %[a3], %[xv], %[wv], %[a3]\n\t"
                     "ldrsb  %[wv], [%[pb], #16]\n\t"
                     "mla    %[a4], %[xv], %[wv], %[a4]\n\t"
                     "ldrsb  %[wv], [%[pb], #20]\n\t"
                     "mla    %[a5], %[xv], %[wv], %[a5]\n\t"
                     "ldrsb  %[wv], [%[pb], #24]\n\t"
                     "mla    %[a6], %[xv], %[wv], %[a6]\n\t"
                     "ldrsb  %[wv], [%[pb], #28]\n\t"
                     "mla    %[a7], %[xv], %[wv], %[a7]\n\t"
                     "ldrsb  %[xv], [%[x]], #1\n\t"
                     "ldrsb  %[wv], [%[pa], #17]\n\t"
                     "mla    %[a0], %[xv], %[wv], %[a0]\n\t"
                     "ldrsb  %[wv], [%[pa], #21]\n\t"
                     "mla    %[a1], %[xv], %[wv], %[a1]\n\t"
                     "ldrsb  %[wv], [%[pa], #25]\n\t"
                     "mla    %[a2], %[xv], %[wv], %[a2]\n\t"
                     "ldrsb  %[wv], [%[pa], #29]\n\t"
                     "mla    %[a3], %[xv], %[wv], %[a3]\n\t"
                     "ldrsb  %[wv], [%[pb], #17]\n\t"
                     "mla    %[a4], %[xv], %[wv], %[a4]\n\t"
                     "ldrsb  %[wv], [%[pb], #21]\n\t"
                     "mla    %[a5], %[xv], %[wv], %[a5]\n\t"
                     "ldrsb  %[wv], [%[pb], #25]\n\t"
                     "mla    %[a6], %[xv], %[wv], %[a6]\n\t"
                     "ldrsb  %[wv], [%[pb], #29]\n\t"
                     "mla    %[a7], %[xv], %[wv], %[a7]\n\t"
                     "ldrsb  %[xv], [%[x]], #1\n\t"
                     "ldrsb  %[wv], [%[pa], #18]\n\t"
                     "mla    %[a0], %[xv], %[wv], %[a0]\n\t"
                     "ldrsb  %[wv], [%[pa], #22]\n\t"
                     "mla    %[a1], %[xv], %[wv], %[a1]\n\t"
                     "ldrsb  %[wv], [%[pa], #26]\n\t"
                     "mla    %[a2], %[xv], %[wv], %[a2]\n\t"
                     "ldrsb  %[wv], [%[pa], #30]\n\t"
                     "mla    %[a3], %[xv], %[wv], %[a3]\n\t"
                     "ldrsb  %[wv], [%[pb], #18]\n\t"
                     "mla    %[a4], %[xv], %[wv], %[a4]\n\t"
                     "ldrsb  %[wv], [%[pb], #22]\n\t"
                     "mla    %[a5], %[xv], %[wv], %[a5]\n\t"
                     "ldrsb  %[wv], [%[pb], #26]\n\t"
                     "mla    %[a6], %[xv], %[wv], %[a6]\n\t"
                     "ldrsb  %[wv], [%[pb], #30]\n\t"
                     "mla    %[a7], %[xv], %[wv], %[a7]\n\t"
                     "ldrsb  %[xv], [%[x]], #1\n\t"
                     "ldrsb  %[wv], [%[pa], #19]\n\t"
                     "mla    %[a0], %[xv], %[wv], %[a0]\n\t"
                     "ldrsb  %[wv], [%[pa], #23]\n\t"
                     "mla    %[a1], %[xv], %[wv], %[a1]\n\t"
                     "ldrsb  %[wv], [%[pa], #27]\n\t"
                     "mla    %[a2], %[xv], %[wv], %[a2]\n\t"
                     "ldrsb  %[wv], [%[pa], #31]\n\t"
                     "mla    %[a3], %[xv], %[wv], %[a3]\n\t"
                     "ldrsb  %[wv], [%[pb], #19]\n\t"
                     "mla    %[a4], %[xv], %[wv], %[a4]\n\t"
                     "ldrsb  %[wv], [%[pb], #23]\n\t"
                     "mla    %[a5], %[xv], %[wv], %[a5]\n\t"
                     "ldrsb  %[wv], [%[pb], #27]\n\t"
                     "mla    %[a6], %[xv], %[wv], %[a6]\n\t"
                     "ldrsb  %[wv], [%[pb], #31]\n\t"
                     "mla    %[a7], %[xv], %[wv], %[a7]\n\t"
                     "adds   %[pa], %[pa], #32\n\t"
                     "adds   %[pb], %[pb], #32\n\t"
                     "cmp    %[x], %[end]\n\t"
                     "bne    1b\n\t"
                     "ldr    %[xv], %[accp]\n\t"
                     "stmia  %[xv], {%[a0], %[a1], %[a2], %[a3], %[a4], %[a5], %[a6], %[a7]}\n\t"
                     : [x] "+r"(x), [pa] "+r"(pa), [pb] "+r"(pb), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2),
                       [a3] "=&r"(a3), [a4] "=&r"(a4), [a5] "=&r"(a5), [a6] "=&r"(a6), [a7] "=&r"(a7),
                       [xv] "=&r"(xv), [wv] "=&r"(wv)
                     : [end] "r"(end), [biasp] "m"(bias), [accp] "m"(acc)
                     : "cc", "memory");
}

#endif

#if defined(EDGEC_FC_DSP)

/* The eight SMLAD of one group: the unpacked input pair xe/xo with the four weight words w0..w3 (consumed). */
#define EDGEC_FC_GROUP_MACS_ASM                                                                                 \
    "sxtb16 %[t], %[w0]\n\t"                                                                                   \
    "smlad  %[a0], %[xe], %[t], %[a0]\n\t"                                                                     \
    "sxtb16 %[w0], %[w0], ror #8\n\t"                                                                         \
    "smlad  %[a0], %[xo], %[w0], %[a0]\n\t"                                                                    \
    "sxtb16 %[t], %[w1]\n\t"                                                                                   \
    "smlad  %[a1], %[xe], %[t], %[a1]\n\t"                                                                     \
    "sxtb16 %[w1], %[w1], ror #8\n\t"                                                                         \
    "smlad  %[a1], %[xo], %[w1], %[a1]\n\t"                                                                    \
    "sxtb16 %[t], %[w2]\n\t"                                                                                   \
    "smlad  %[a2], %[xe], %[t], %[a2]\n\t"                                                                     \
    "sxtb16 %[w2], %[w2], ror #8\n\t"                                                                         \
    "smlad  %[a2], %[xo], %[w2], %[a2]\n\t"                                                                    \
    "sxtb16 %[t], %[w3]\n\t"                                                                                   \
    "smlad  %[a3], %[xe], %[t], %[a3]\n\t"                                                                     \
    "sxtb16 %[w3], %[w3], ror #8\n\t"                                                                         \
    "smlad  %[a3], %[xo], %[w3], %[a3]\n\t"

/* One group: x word unpacked into xe/xo, the four weight words in w0..w3 (consumed). */
#define EDGEC_FC_GROUP_ASM                                                                                      \
    "ldr    %[xe], [%[x]], #4\n\t"                                                                             \
    "ldmia  %[w]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                                          \
    "sxtb16 %[xo], %[xe], ror #8\n\t"                                                                         \
    "sxtb16 %[xe], %[xe]\n\t"                                                                                  \
    EDGEC_FC_GROUP_MACS_ASM

static inline void fc_dot4_groups(const int8_t *x, const int8_t *w, size_t groups, uint32_t acc[4])
{
    uint32_t a0 = acc[0];
    uint32_t a1 = acc[1];
    uint32_t a2 = acc[2];
    uint32_t a3 = acc[3];
    /* LDM fills its register list in ascending register order: w0..w3 must be ascending registers. */
    register uint32_t w0 __asm__("r8");
    register uint32_t w1 __asm__("r9");
    register uint32_t w2 __asm__("r10");
    register uint32_t w3 __asm__("r11");
    uint32_t xe;
    uint32_t xo;
    uint32_t t;
    size_t quads = groups >> 2;
    if (quads > 0) {
        __asm__ volatile("1:\n\t" EDGEC_FC_GROUP_ASM EDGEC_FC_GROUP_ASM EDGEC_FC_GROUP_ASM EDGEC_FC_GROUP_ASM
                         "subs   %[k], %[k], #1\n\t"
                         "bne    1b\n\t"
                         : [x] "+r"(x), [w] "+r"(w), [k] "+r"(quads), [a0] "+r"(a0), [a1] "+r"(a1),
                           [a2] "+r"(a2), [a3] "+r"(a3), [xe] "=&r"(xe), [xo] "=&r"(xo), [t] "=&r"(t),
                           [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3)
                         :
                         : "cc", "memory");
    }
    for (size_t k = groups & 3u; k > 0; --k) {
        __asm__ volatile(EDGEC_FC_GROUP_ASM
                         : [x] "+r"(x), [w] "+r"(w), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2),
                           [a3] "+r"(a3), [xe] "=&r"(xe), [xo] "=&r"(xo), [t] "=&r"(t), [w0] "=&r"(w0),
                           [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3)
                         :
                         : "memory");
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#undef EDGEC_FC_GROUP_ASM

/* The input row as SMLAD operands, two words per group of four inputs: (x0, x2) and (x1, x3), sign-extended to
 * halfwords. Unpacked once per row, read by every block. */
static inline void fc_unpack_x16(const int8_t *x, size_t groups, uint32_t *x16)
{
    for (size_t k = 0; k < groups; ++k) {
        uint32_t v;
        memcpy(&v, x + 4 * k, sizeof v);
        uint32_t even;
        uint32_t odd;
        __asm__("sxtb16 %0, %1" : "=r"(even) : "r"(v));
        __asm__("sxtb16 %0, %1, ror #8" : "=r"(odd) : "r"(v));
        x16[2 * k] = even;
        x16[2 * k + 1] = odd;
    }
}

/* One group from the unpacked input: LDRD of its two words, LDM of the block's 16 weight bytes. */
#define EDGEC_FC_GROUP16_ASM                                                                                    \
    "ldrd   %[xe], %[xo], [%[x]], #8\n\t"                                                                      \
    "ldmia  %[w]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                                          \
    EDGEC_FC_GROUP_MACS_ASM

/* The groups of one row from the unpacked input: k whole quads of groups (four per loop turn), then the rest
 * (read from memory); k is consumed. */
#define EDGEC_FC_ROW16_ASM                                                                                      \
    "cmp    %[k], #0\n\t"                                                                                     \
    "beq    2f\n\t"                                                                                           \
    "1:\n\t" EDGEC_FC_GROUP16_ASM EDGEC_FC_GROUP16_ASM EDGEC_FC_GROUP16_ASM EDGEC_FC_GROUP16_ASM               \
    "subs   %[k], %[k], #1\n\t"                                                                               \
    "bne    1b\n\t"                                                                                           \
    "2:\n\t"                                                                                                  \
    "ldr    %[k], %[rest]\n\t"                                                                                \
    "cmp    %[k], #0\n\t"                                                                                     \
    "beq    4f\n\t"                                                                                           \
    "3:\n\t" EDGEC_FC_GROUP16_ASM                                                                            \
    "subs   %[k], %[k], #1\n\t"                                                                               \
    "bne    3b\n\t"                                                                                           \
    "4:\n\t"

/* fc_dot4_groups over fc_unpack_x16's words (x16 8-byte aligned for LDRD, *w word-aligned for LDM), *w advanced
 * past the block's groups: 18 instructions per group, four groups per loop turn (74 instructions for 64 MACs),
 * the groups % 4 left over one per turn. */
static inline void fc_dot4_x16(const uint32_t *x16, const int8_t **wp, size_t groups, uint32_t acc[4])
{
    uint32_t a0 = acc[0];
    uint32_t a1 = acc[1];
    uint32_t a2 = acc[2];
    uint32_t a3 = acc[3];
    register uint32_t w0 __asm__("r8");
    register uint32_t w1 __asm__("r9");
    register uint32_t w2 __asm__("r10");
    register uint32_t w3 __asm__("r11");
    uint32_t xe;
    uint32_t xo;
    uint32_t t;
    const int8_t *w = *wp;
    size_t k = groups >> 2;
    const size_t rest = groups & 3u;
    __asm__ volatile(EDGEC_FC_ROW16_ASM
                     : [x] "+r"(x16), [w] "+r"(w), [k] "+r"(k), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2),
                       [a3] "+r"(a3), [xe] "=&r"(xe), [xo] "=&r"(xo), [t] "=&r"(t), [w0] "=&r"(w0),
                       [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3)
                     : [rest] "m"(rest)
                     : "cc", "memory");
    *wp = w;
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* fc_dot4_x16 for `blocks` >= 1 consecutive blocks of a row with in_features % 4 == 0, in one asm: each block's
 * four accumulators start from bias (LDM) and end in acc (STM); the per-block state (the pointers to bias and acc,
 * the block count, the row) lives in memory between blocks, so the dot product keeps all 14 registers. */
static inline void fc_blocks_x16(const uint32_t *x16, size_t groups, const int8_t **wp, const int32_t *bias,
                                 size_t blocks, uint32_t *acc)
{
    register uint32_t a0 __asm__("r0");
    register uint32_t a1 __asm__("r1");
    register uint32_t a2 __asm__("r2");
    register uint32_t a3 __asm__("r3");
    register uint32_t w0 __asm__("r8");
    register uint32_t w1 __asm__("r9");
    register uint32_t w2 __asm__("r10");
    register uint32_t w3 __asm__("r11");
    const uint32_t *x;
    size_t k;
    uint32_t xe;
    uint32_t xo;
    uint32_t t;
    const int8_t *w = *wp;
    const size_t quads = groups >> 2;
    const size_t rest = groups & 3u;
    const int32_t *bias_at = bias;
    uint32_t *acc_at = acc;
    size_t left = blocks;
    __asm__ volatile("0:\n\t"
                     "ldr    %[t], %[bias_at]\n\t"
                     "ldmia  %[t]!, {%[a0], %[a1], %[a2], %[a3]}\n\t"
                     "str    %[t], %[bias_at]\n\t"
                     "ldr    %[x], %[x16]\n\t"
                     "ldr    %[k], %[quads]\n\t"
                     EDGEC_FC_ROW16_ASM
                     "ldr    %[t], %[acc_at]\n\t"
                     "stmia  %[t]!, {%[a0], %[a1], %[a2], %[a3]}\n\t"
                     "str    %[t], %[acc_at]\n\t"
                     "ldr    %[t], %[left]\n\t"
                     "subs   %[t], %[t], #1\n\t"
                     "str    %[t], %[left]\n\t"
                     "bne    0b\n\t"
                     : [w] "+r"(w), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [x] "=&r"(x),
                       [k] "=&r"(k), [xe] "=&r"(xe), [xo] "=&r"(xo), [t] "=&r"(t), [w0] "=&r"(w0),
                       [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3), [bias_at] "+m"(bias_at),
                       [acc_at] "+m"(acc_at), [left] "+m"(left)
                     : [x16] "m"(x16), [quads] "m"(quads), [rest] "m"(rest)
                     : "cc", "memory");
    *wp = w;
}

#undef EDGEC_FC_GROUP16_ASM

#elif defined(EDGEC_FC_MVE)

/* Row j's 16 weights of four groups are the words at w + 4j + {0, 16, 32, 48}: a gather from a vector of those
 * addresses, advanced by 64 bytes per load (VLDRW with writeback), so each step is one VLDRB of x and, per row,
 * one gather and one VMLADAVA. */
static inline void fc_dot4_groups(const int8_t *x, const int8_t *w, size_t groups, uint32_t acc[4])
{
    if (((uintptr_t)w & 3u) != 0) {
        fc_dot4_groups_c(x, w, groups, acc);
        return;
    }
    int32_t a0 = (int32_t)acc[0];
    int32_t a1 = (int32_t)acc[1];
    int32_t a2 = (int32_t)acc[2];
    int32_t a3 = (int32_t)acc[3];
    /* addresses minus 64: the pre-indexed writeback form adds 64 before it loads */
    uint32x4_t b0 = vaddq_n_u32(vshlq_n_u32(vidupq_n_u32(0, 1), 4), (uint32_t)(uintptr_t)w - 64u);
    uint32x4_t b1 = vaddq_n_u32(b0, 4u);
    uint32x4_t b2 = vaddq_n_u32(b0, 8u);
    uint32x4_t b3 = vaddq_n_u32(b0, 12u);
    size_t steps = groups >> 2;
    if (steps > 0) {
        /* VMLADAVA's accumulator is an even register; the loads are consumed at once (GCC's schedule of the
         * intrinsics spills a vector per step). */
        register int32_t r0 __asm__("r0") = a0;
        register int32_t r2 __asm__("r2") = a1;
        register int32_t r4 __asm__("r4") = a2;
        register int32_t r6 __asm__("r6") = a3;
        int8x16_t vx;
        int32x4_t t0;
        int32x4_t t1;
        __asm__ volatile("1:\n\t"
                         "vldrb.8     %q[vx], [%[x]], #16\n\t"
                         "vldrw.u32   %q[t0], [%q[b0], #64]!\n\t"
                         "vldrw.u32   %q[t1], [%q[b1], #64]!\n\t"
                         "vmladava.s8 %[a0], %q[vx], %q[t0]\n\t"
                         "vldrw.u32   %q[t0], [%q[b2], #64]!\n\t"
                         "vmladava.s8 %[a1], %q[vx], %q[t1]\n\t"
                         "vldrw.u32   %q[t1], [%q[b3], #64]!\n\t"
                         "vmladava.s8 %[a2], %q[vx], %q[t0]\n\t"
                         "vmladava.s8 %[a3], %q[vx], %q[t1]\n\t"
                         "subs        %[k], %[k], #1\n\t"
                         "bne         1b\n\t"
                         : [x] "+r"(x), [k] "+r"(steps), [a0] "+r"(r0), [a1] "+r"(r2), [a2] "+r"(r4), [a3] "+r"(r6),
                           [b0] "+w"(b0), [b1] "+w"(b1), [b2] "+w"(b2), [b3] "+w"(b3), [vx] "=&w"(vx),
                           [t0] "=&w"(t0), [t1] "=&w"(t1)
                         :
                         : "cc", "memory");
        a0 = r0;
        a1 = r2;
        a2 = r4;
        a3 = r6;
        groups &= 3u;
    }
    if (groups > 0) { /* zeroing loads: the missing lanes contribute 0 */
        const mve_pred16_t pw = vctp32q((uint32_t)groups);
        const int8x16_t vx = vldrbq_z_s8(x, vctp8q((uint32_t)(4 * groups)));
        a0 = vmladavaq_s8(a0, vx, vreinterpretq_s8_s32(vldrwq_gather_base_wb_z_s32(&b0, 64, pw)));
        a1 = vmladavaq_s8(a1, vx, vreinterpretq_s8_s32(vldrwq_gather_base_wb_z_s32(&b1, 64, pw)));
        a2 = vmladavaq_s8(a2, vx, vreinterpretq_s8_s32(vldrwq_gather_base_wb_z_s32(&b2, 64, pw)));
        a3 = vmladavaq_s8(a3, vx, vreinterpretq_s8_s32(vldrwq_gather_base_wb_z_s32(&b3, 64, pw)));
    }
    acc[0] = (uint32_t)a0;
    acc[1] = (uint32_t)a1;
    acc[2] = (uint32_t)a2;
    acc[3] = (uint32_t)a3;
}

/* fc_dot4_groups for `blocks` >= 1 consecutive blocks with in_features a positive multiple of 16 (steps = in_features
 * / 16) and *wp word-aligned, in one asm: per block the accumulators from bias (LDM), the four address vectors
 * from w, a low-overhead loop (DLS/LE) of one VLDRB, four gathers and four VMLADAVA per 64 MACs, the accumulators
 * to acc (STM). */
static inline void fc_blocks_mve(const int8_t *x, size_t steps, const int8_t **wp, const int32_t *bias,
                                 size_t blocks, uint32_t *acc)
{
    register int32_t a0 __asm__("r0");
    register int32_t a1 __asm__("r2");
    register int32_t a2 __asm__("r4");
    register int32_t a3 __asm__("r6");
    register size_t k __asm__("lr");
    const int8_t *w = *wp;
    uint32_t t;
    /* addresses minus 64: the pre-indexed writeback form adds 64 before it loads */
    const uint32x4_t off = vsubq_n_u32(vshlq_n_u32(vidupq_n_u32(0, 1), 4), 64u);
    uint32x4_t b0;
    uint32x4_t b1;
    uint32x4_t b2;
    uint32x4_t b3;
    int8x16_t vx;
    int32x4_t t0;
    int32x4_t t1;
    __asm__ volatile("0:\n\t"
                     "ldmia       %[bias]!, {%[a0], %[a1], %[a2], %[a3]}\n\t"
                     "vadd.i32    %q[b0], %q[off], %[w]\n\t"
                     "adds        %[t], %[w], #4\n\t"
                     "vadd.i32    %q[b1], %q[off], %[t]\n\t"
                     "adds        %[t], %[w], #8\n\t"
                     "vadd.i32    %q[b2], %q[off], %[t]\n\t"
                     "adds        %[t], %[w], #12\n\t"
                     "vadd.i32    %q[b3], %q[off], %[t]\n\t"
                     "dls         lr, %[steps]\n\t"
                     "1:\n\t"
                     "vldrb.8     %q[vx], [%[x]], #16\n\t"
                     "vldrw.u32   %q[t0], [%q[b0], #64]!\n\t"
                     "vldrw.u32   %q[t1], [%q[b1], #64]!\n\t"
                     "vmladava.s8 %[a0], %q[vx], %q[t0]\n\t"
                     "vldrw.u32   %q[t0], [%q[b2], #64]!\n\t"
                     "vmladava.s8 %[a1], %q[vx], %q[t1]\n\t"
                     "vldrw.u32   %q[t1], [%q[b3], #64]!\n\t"
                     "vmladava.s8 %[a2], %q[vx], %q[t0]\n\t"
                     "vmladava.s8 %[a3], %q[vx], %q[t1]\n\t"
                     "le          lr, 1b\n\t"
                     "stmia       %[acc]!, {%[a0], %[a1], %[a2], %[a3]}\n\t"
                     "sub         %[x], %[x], %[steps], lsl #4\n\t"
                     "add         %[w], %[w], %[steps], lsl #6\n\t"
                     "subs        %[n], %[n], #1\n\t"
                     "bne         0b\n\t"
                     : [w] "+r"(w), [bias] "+r"(bias), [acc] "+r"(acc), [n] "+r"(blocks), [a0] "=&r"(a0),
                       [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [k] "=&r"(k), [x] "+r"(x), [t] "=&r"(t),
                       [b0] "=&w"(b0), [b1] "=&w"(b1), [b2] "=&w"(b2), [b3] "=&w"(b3), [vx] "=&w"(vx),
                       [t0] "=&w"(t0), [t1] "=&w"(t1)
                     : [steps] "r"(steps), [off] "w"(off)
                     : "cc", "memory");
    (void)k;
    *wp = w;
}

#else

static inline void fc_dot4_groups(const int8_t *x, const int8_t *w, size_t groups, uint32_t acc[4])
{
    fc_dot4_groups_c(x, w, groups, acc);
}

#endif

#endif /* EDGEC_FC_DOT_BLOCKED_H */
