/*
 * edgec runtime: int8 fully connected layer, fast path (see edgec_fully_connected_fast_s8 in edgec_nn.h).
 *
 * Same results as edgec_fully_connected_s8, from weights blocked four rows at a time (compiler/fc_layout.py).
 * The outputs go in chunks of up to FC_CHUNK: first every accumulator of the chunk (edgec_fc_dot_blocked.h: on
 * the DSP extension from the row unpacked once to SMLAD halfwords on the stack, whole runs of blocks in one asm;
 * on Helium gathered VMLADAVA, whole runs of blocks in one asm when in_features % 16 == 0; on the Cortex-M3 two
 * blocks per pass; portable C elsewhere; the in_features % 4 leftover inputs in C; the out_features % 4 leftover
 * rows by the single-row dot product), then their rescale in one loop (integers, four lanes at a time on Helium;
 * the reference's double formula next to a rounding tie). Splitting the two keeps the dot product's registers
 * free of the rescale's pointers and the rescale loop free of spills. One scan per call checks the scales (as
 * edgec_fully_connected_s8 does) and whether every channel has the integer form, which lets the rescale loop
 * skip the per-output form test; channels out of form (multiplier 0 or outside edgec_fc_fixed_ok's range) take
 * the double formula.
 */
#include "edgec_asm_opt.h" /* first: register-resident asm needs the allocator even at -O0 */
#include <stddef.h>
#include <string.h>

#include "edgec_dot_s8.h"
#include "edgec_fc_common.h"
#include "edgec_fc_dot_blocked.h"

/* Accumulators per chunk (a multiple of 4): 4 * FC_CHUNK bytes of stack. */
#define FC_CHUNK 32

/* The largest input row unpacked to halfwords on the DSP path (2 * in_features bytes of stack); longer rows are
 * read as int8 (fc_dot4_groups). */
#define EDGEC_FC_X16_MAX_GROUPS 256

#if defined(EDGEC_FC_MVE)
/* edgec_fc_finish_fixed four lanes at a time (VMULH and VMUL give the product's two words exactly), as long as
 * no lane of the four lies in the window; returns how many outputs it wrote (a multiple of 4), the caller does
 * the rest. */
static size_t fc_rescale_mve(const uint32_t *acc, size_t count, const int32_t *m, const int32_t *n,
                             edgec_fc_range range, int8_t *out)
{
    const int32x4_t thirty_two = vdupq_n_s32(32);
    const int32x4_t lo_clamp = vdupq_n_s32(range.act_min);
    const int32x4_t hi_clamp = vdupq_n_s32(range.act_max);
    size_t j = 0;
    for (; j + 4 <= count; j += 4) {
        const int32x4_t a = vldrwq_s32((const int32_t *)(const void *)(acc + j));
        const int32x4_t vm = vldrwq_s32(m + j);
        const int32x4_t vn = vldrwq_s32(n + j);
        const int32x4_t hi = vmulhq_s32(a, vm);
        const uint32x4_t lo = vreinterpretq_u32_s32(vmulq_s32(a, vm));
        const int32x4_t neg_n = vnegq_s32(vn);
        const uint32x4_t fl = vorrq_u32(vshlq_u32(vreinterpretq_u32_s32(hi), vsubq_s32(thirty_two, vn)),
                                        vshlq_u32(lo, neg_n));
        if (vcmpcsq_n_u32(vaddq_n_u32(fl, 0x80001000u), 0x2000u) != 0xFFFFu) {
            break; /* a lane next to a tie: these four go the scalar way */
        }
        int32x4_t v = vaddq_s32(vshlq_s32(hi, neg_n), vreinterpretq_s32_u32(vshrq_n_u32(fl, 31)));
        v = vminq_s32(vmaxq_s32(vaddq_n_s32(v, range.offset), lo_clamp), hi_clamp);
        vstrbq_s32(out + j, v);
    }
    return j;
}
#endif

/* out[j] for acc[j], j < count: the rescale of channels m, n, scale (already offset to the chunk). fixed: every
 * channel's (multiplier, n) is of the integer form, none 0 (fc_channels_scan), so no per-output check. */
static void fc_rescale_run(const uint32_t *acc, size_t count, const int32_t *m, const int32_t *n,
                           const double *scale, const edgec_fc_params *params, edgec_fc_range range, int fixed,
                           int8_t *out)
{
    if (!fixed) {
        for (size_t j = 0; j < count; ++j) {
            out[j] = edgec_fc_finish(acc[j], m[j], n[j], scale + j, params, range);
        }
        return;
    }
    uint32_t window = 0x80001000u;
    __asm__("" : "+r"(window)); /* one register, not two immediate adds per output */
#if defined(EDGEC_FC_MVE)
    size_t done = fc_rescale_mve(acc, count, m, n, range, out);
    acc += done;
    m += done;
    n += done;
    scale += done;
    out += done;
    count -= done;
#endif
    if (range.act_min == -128 && range.act_max == 127) { /* the clamp is the int8 conversion's saturation */
        /* edgec_fc_finish_fixed written out: each branch stores its own byte (no re-extension of a merged int8),
         * and the scale's address is derived only on the fallback path */
        const uint32_t *end = acc + count;
#if defined(__thumb2__) && defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
        /* In asm (18 instructions per output); it leaves the loop after a tie, whose output the fallback writes
         * (it has read one accumulator more than it has written outputs). */
        const uint32_t *pa = acc;
        int8_t *po = out;
        const int32_t offset = range.offset;
        while (pa != end) {
            uint32_t av;
            uint32_t lo;
            int32_t hi;
            uint32_t t;
            int32_t mv;
            int32_t nv;
            __asm__ volatile("1:\n\t"
                             "ldr    %[av], [%[pa]], #4\n\t"
                             "ldr    %[mv], [%[pm]], #4\n\t"
                             "ldr    %[nv], [%[pn]], #4\n\t"
                             "smull  %[lo], %[hi], %[av], %[mv]\n\t"
                             "rsb    %[t], %[nv], #32\n\t"
                             "lsl    %[t], %[hi], %[t]\n\t"
                             "lsr    %[lo], %[lo], %[nv]\n\t"
                             "orr    %[t], %[t], %[lo]\n\t"
                             "asr    %[hi], %[hi], %[nv]\n\t"
                             "add    %[hi], %[hi], %[t], lsr #31\n\t"
                             "add    %[t], %[t], %[win]\n\t"
                             "cmp    %[t], #0x2000\n\t"
                             "blo    2f\n\t"
                             "add    %[hi], %[hi], %[off]\n\t"
                             "ssat   %[hi], #8, %[hi]\n\t"
                             "strb   %[hi], [%[po]], #1\n\t"
                             "cmp    %[pa], %[end]\n\t"
                             "bne    1b\n\t"
                             "2:\n\t"
                             : [pa] "+r"(pa), [pm] "+r"(m), [pn] "+r"(n), [po] "+r"(po), [av] "=&r"(av),
                               [mv] "=&r"(mv), [nv] "=&r"(nv), [lo] "=&r"(lo), [hi] "=&r"(hi), [t] "=&r"(t)
                             : [end] "r"(end), [win] "r"(window), [off] "r"(offset)
                             : "cc", "memory");
            if (po - out < pa - acc) { /* stopped at a tie: pa[-1] */
                *po++ = edgec_fc_finish_fallback(pa[-1], scale + (pa - 1 - acc), params);
            }
        }
        return;
#endif
        for (const uint32_t *a = acc; a != end; ++a, ++m, ++n, ++out) {
            const int64_t prod = (int64_t)edgec_wrap_int32(*a) * *m;
            const int32_t hi = (int32_t)(prod >> 32);
            const uint32_t fl = ((uint32_t)hi << (32 - *n)) | ((uint32_t)prod >> *n);
            if (fl + window < 0x2000u) {
                *out = edgec_fc_finish_fallback(*a, scale + (a - acc), params);
                continue;
            }
            int32_t v = (hi >> *n) + (int32_t)(fl >> 31) + range.offset;
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
            __asm__("ssat %0, #8, %0" : "+r"(v));
            *out = (int8_t)v;
#else
            *out = edgec_fc_sat8(v);
#endif
        }
        return;
    }
    for (size_t j = 0; j < count; ++j) {
        out[j] = edgec_fc_finish_fixed(acc[j], m[j], n[j], scale + j, params, range, window, 0);
    }
}

/* One pass over the channels: 1 when every scale passes edgec_fc_scale_ok (else 0), *fixed = 1 when moreover every
 * (multiplier, n) has the integer form with multiplier nonzero. Reductions first (the high words of the scales ORed
 * below 0x7FF00000; the multipliers' AND with bit 30 and OR without bit 31; the n - 1 ORed to at most 29 suffice),
 * the exact per-channel tests only where those do not decide. */
/* The high word of a double: sign, exponent and the top 20 bits of the mantissa. */
static inline uint32_t fc_high_word(const double *d)
{
    uint64_t bits;
    memcpy(&bits, d, sizeof bits);
    return (uint32_t)(bits >> 32);
}

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int fc_channels_scan(const edgec_fc_quant *quant, int32_t count, int *fixed)
{
    const int32_t *m = quant->multiplier;
    const int32_t *n = quant->n;
    uint32_t hi_or = 0;
    uint32_t m_and = UINT32_MAX;
    uint32_t m_or = 0;
    uint32_t n_or = 0;
    int32_t o = 0;
#if defined(EDGEC_FC_MVE)
    {
        const uint32_t *words = (const uint32_t *)(const void *)quant->scale;
        uint32x4_t v_hi = vdupq_n_u32(0);
        uint32x4_t v_and = vdupq_n_u32(UINT32_MAX);
        uint32x4_t v_or = vdupq_n_u32(0);
        uint32x4_t v_n = vdupq_n_u32(0);
        for (; o + 4 <= count; o += 4) {
            v_hi = vorrq_u32(v_hi, vorrq_u32(vldrwq_u32(words + 2 * o), vldrwq_u32(words + 2 * o + 4)));
            const uint32x4_t vm = vldrwq_u32((const uint32_t *)(const void *)(m + o));
            v_and = vandq_u32(v_and, vm);
            v_or = vorrq_u32(v_or, vm);
            v_n = vorrq_u32(v_n, vsubq_n_u32(vldrwq_u32((const uint32_t *)(const void *)(n + o)), 1u));
        }
        hi_or = vgetq_lane_u32(v_hi, 1) | vgetq_lane_u32(v_hi, 3); /* lanes 0, 2: the low words */
        m_and = vgetq_lane_u32(v_and, 0) & vgetq_lane_u32(v_and, 1) & vgetq_lane_u32(v_and, 2) &
                vgetq_lane_u32(v_and, 3);
        m_or = vgetq_lane_u32(v_or, 0) | vgetq_lane_u32(v_or, 1) | vgetq_lane_u32(v_or, 2) | vgetq_lane_u32(v_or, 3);
        n_or = vgetq_lane_u32(v_n, 0) | vgetq_lane_u32(v_n, 1) | vgetq_lane_u32(v_n, 2) | vgetq_lane_u32(v_n, 3);
    }
#elif defined(__thumb2__)
    if (count >= 4) {
        /* LDM of four multipliers and four n at a time; the high words of the four scales by offset */
        register uint32_t t0 __asm__("r0");
        register uint32_t t1 __asm__("r1");
        register uint32_t t2 __asm__("r2");
        register uint32_t t3 __asm__("r3");
        const int32_t *pm = m;
        const int32_t *pn = n;
        const double *ps = quant->scale;
        uint32_t quads = (uint32_t)count / 4u;
        __asm__("1:\n\t"
                "ldmia  %[pm]!, {%[t0], %[t1], %[t2], %[t3]}\n\t"
                "and    %[mand], %[mand], %[t0]\n\t"
                "orr    %[mor], %[mor], %[t0]\n\t"
                "and    %[mand], %[mand], %[t1]\n\t"
                "orr    %[mor], %[mor], %[t1]\n\t"
                "and    %[mand], %[mand], %[t2]\n\t"
                "orr    %[mor], %[mor], %[t2]\n\t"
                "and    %[mand], %[mand], %[t3]\n\t"
                "orr    %[mor], %[mor], %[t3]\n\t"
                "ldmia  %[pn]!, {%[t0], %[t1], %[t2], %[t3]}\n\t"
                "sub    %[t0], %[t0], #1\n\t"
                "orr    %[nor], %[nor], %[t0]\n\t"
                "sub    %[t1], %[t1], #1\n\t"
                "orr    %[nor], %[nor], %[t1]\n\t"
                "sub    %[t2], %[t2], #1\n\t"
                "orr    %[nor], %[nor], %[t2]\n\t"
                "sub    %[t3], %[t3], #1\n\t"
                "orr    %[nor], %[nor], %[t3]\n\t"
                "ldr    %[t0], [%[ps], #4]\n\t"
                "ldr    %[t1], [%[ps], #12]\n\t"
                "ldr    %[t2], [%[ps], #20]\n\t"
                "ldr    %[t3], [%[ps], #28]\n\t"
                "orr    %[hi], %[hi], %[t0]\n\t"
                "orr    %[hi], %[hi], %[t1]\n\t"
                "orr    %[hi], %[hi], %[t2]\n\t"
                "orr    %[hi], %[hi], %[t3]\n\t"
                "adds   %[ps], %[ps], #32\n\t"
                "subs   %[k], %[k], #1\n\t"
                "bne    1b\n\t"
                : [pm] "+r"(pm), [pn] "+r"(pn), [ps] "+r"(ps), [k] "+r"(quads), [mand] "+r"(m_and),
                  [mor] "+r"(m_or), [nor] "+r"(n_or), [hi] "+r"(hi_or), [t0] "=&r"(t0), [t1] "=&r"(t1),
                  [t2] "=&r"(t2), [t3] "=&r"(t3)
                : "m"(*(const int32_t(*)[])m), "m"(*(const int32_t(*)[])n), "m"(*(const double(*)[])quant->scale)
                : "cc");
        o = count & ~3;
    }
#endif
    for (; o + 4 <= count; o += 4) {
        const double *sc = quant->scale + o;
        const uint32_t m0 = (uint32_t)m[o], m1 = (uint32_t)m[o + 1], m2 = (uint32_t)m[o + 2], m3 = (uint32_t)m[o + 3];
        hi_or |= (fc_high_word(sc) | fc_high_word(sc + 1)) | (fc_high_word(sc + 2) | fc_high_word(sc + 3));
        m_and &= (m0 & m1) & (m2 & m3);
        m_or |= (m0 | m1) | (m2 | m3);
        n_or |= (((uint32_t)n[o] - 1u) | ((uint32_t)n[o + 1] - 1u)) | (((uint32_t)n[o + 2] - 1u) | ((uint32_t)n[o + 3] - 1u));
    }
    for (; o < count; ++o) {
        uint64_t bits;
        memcpy(&bits, quant->scale + o, sizeof bits);
        hi_or |= (uint32_t)(bits >> 32); /* the sign, the exponent and the top of the mantissa */
        m_and &= (uint32_t)m[o];
        m_or |= (uint32_t)m[o];
        n_or |= (uint32_t)n[o] - 1u;
    }
    if (hi_or >= 0x7FF00000u && !edgec_fc_scales_ok(quant->scale, count)) {
        return 0;
    }
    *fixed = (m_and & 0x40000000u) != 0 && (m_or & 0x80000000u) == 0 && n_or <= 29u;
    if (!*fixed) {
        int all = 1;
        for (int32_t c = 0; c < count && all; ++c) {
            all = ((uint32_t)m[c] >> 30) == 1u && (uint32_t)n[c] - 1u <= 29u;
        }
        *fixed = all;
    }
    return 1;
}

/* The accumulators of rows [o, o + count) of one input row into acc; *wp walks the blocked weights. x16: the row's
 * halfword form (DSP path) or NULL. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void fc_chunk_acc(const int8_t *in_row, const uint32_t *x16, size_t groups, size_t tail,
                                const int8_t **wp, const int32_t *bias, size_t count, uint32_t *acc)
{
    const int8_t *w = *wp;
    const int8_t *in_tail = in_row + 4 * groups;
    size_t j = 0;
#if defined(EDGEC_FC_DSP)
    if (x16 != NULL && tail == 0 && count >= 4) {
        fc_blocks_x16(x16, groups, &w, bias, count / 4, acc);
        j = count & ~(size_t)3;
    }
#endif
#if defined(EDGEC_FC_MVE)
    if (tail == 0 && groups > 0 && (groups & 3u) == 0 && count >= 4 && ((uintptr_t)w & 3u) == 0) {
        fc_blocks_mve(in_row, groups / 4, &w, bias, count / 4, acc);
        j = count & ~(size_t)3;
    }
#endif
#if defined(EDGEC_FC_M3)
    if (groups >= 2) { /* two blocks per pass, their groups two at a time, the odd group and the tails in C */
        const size_t block_bytes = 16 * groups + 4 * tail;
        const size_t pairs = groups / 2;
        for (; j + 8 <= count; j += 8) {
            uint32_t *a = acc + j;
            fc_dot8_groups_m3(in_row, w, w + block_bytes, pairs, bias + j, a);
            for (size_t half = 0; half < 2; ++half) {
                const int8_t *wb = w + half * block_bytes;
                uint32_t *ab = a + 4 * half;
                if ((groups & 1u) != 0) {
                    fc_dot4_groups_c(in_row + 8 * pairs, wb + 32 * pairs, 1, ab);
                }
                const int8_t *wt = wb + 16 * groups;
                for (size_t r = 0; r < 4 && tail != 0; ++r) {
                    ab[r] = edgec_dot1_s8(in_tail, wt + r * tail, tail, ab[r]);
                }
            }
            w += 2 * block_bytes;
        }
    }
#endif
    for (; j + 4 <= count; j += 4) {
        uint32_t *a = acc + j;
        a[0] = (uint32_t)bias[j];
        a[1] = (uint32_t)bias[j + 1];
        a[2] = (uint32_t)bias[j + 2];
        a[3] = (uint32_t)bias[j + 3];
#if defined(EDGEC_FC_DSP)
        if (x16 != NULL) {
            fc_dot4_x16(x16, &w, groups, a);
        } else if (((uintptr_t)w & 3u) == 0) { /* LDM needs word alignment */
            fc_dot4_groups(in_row, w, groups, a);
            w += 16 * groups;
        } else {
            fc_dot4_groups_c(in_row, w, groups, a);
            w += 16 * groups;
        }
#else
        (void)x16;
        fc_dot4_groups(in_row, w, groups, a);
        w += 16 * groups;
#endif
        if (tail != 0) {
            a[0] = edgec_dot1_s8(in_tail, w, tail, a[0]);
            a[1] = edgec_dot1_s8(in_tail, w + tail, tail, a[1]);
            a[2] = edgec_dot1_s8(in_tail, w + 2 * tail, tail, a[2]);
            a[3] = edgec_dot1_s8(in_tail, w + 3 * tail, tail, a[3]);
            w += 4 * tail;
        }
    }
    const size_t depth = 4 * groups + tail;
    for (; j < count; ++j) { /* the out_features % 4 leftover rows, stored plainly */
        acc[j] = edgec_dot1_s8(in_row, w, depth, (uint32_t)bias[j]);
        w += depth;
    }
    *wp = w;
}

/* Every output of one input row. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void fc_row(const int8_t *in_row, const uint32_t *x16, size_t groups, size_t tail, int32_t out_features,
                   const int8_t *w, const int32_t *bias, const edgec_fc_quant *quant, const edgec_fc_params *params,
                   edgec_fc_range range, int fixed, int8_t *out_row)
{
    uint32_t acc[FC_CHUNK];
    const size_t total = (size_t)out_features;
    for (size_t o = 0; o < total; o += FC_CHUNK) {
        const size_t count = total - o < FC_CHUNK ? total - o : FC_CHUNK;
        fc_chunk_acc(in_row, x16, groups, tail, &w, bias + o, count, acc);
        fc_rescale_run(acc, count, quant->multiplier + o, quant->n + o, quant->scale + o, params, range, fixed,
                       out_row + o);
    }
}

#if defined(EDGEC_FC_DSP)
/* The DSP path's halfword buffer (a variable-length array) lives here, outside fc_row's frame: a frame pointer
 * there would take a register from the dot product's asm. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void fc_batches_x16(int32_t batches, const int8_t *input, size_t groups, size_t tail, int32_t out_features,
                           const int8_t *w, const int32_t *bias, const edgec_fc_quant *quant,
                           const edgec_fc_params *params, edgec_fc_range range, int fixed, int8_t *output)
{
    uint64_t x16[groups]; /* 8-byte aligned for LDRD */
    const size_t depth = 4 * groups + tail;
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_row = input + (size_t)b * depth;
        fc_unpack_x16(in_row, groups, (uint32_t *)(void *)x16);
        fc_row(in_row, (const uint32_t *)(const void *)x16, groups, tail, out_features, w, bias, quant, params,
               range, fixed, output + (size_t)b * (size_t)out_features);
    }
}
#endif

edgec_status edgec_fully_connected_fast_s8(const edgec_fc_params *params, const edgec_fc_quant *quant,
                                           int32_t batches, int32_t in_features, const int8_t *input,
                                           int32_t out_features, const int8_t *blocked_filter,
                                           const int32_t *bias, int8_t *output)
{
    /* (multiplier, n) needs no check: edgec_fc_finish takes the double formula where they are out of form. */
    int fixed = 0;
    if (quant == NULL || quant->multiplier == NULL || quant->n == NULL ||
        !fc_shape_args_ok(params, quant->scale, batches, in_features, input, out_features, blocked_filter, bias,
                          output) ||
        !fc_channels_scan(quant, out_features, &fixed)) {
        return EDGEC_ARG_ERROR;
    }
    const edgec_fc_range range = edgec_fc_range_of(params);
    const size_t depth = (size_t)in_features;
    const size_t groups = depth / 4;
    const size_t tail = depth % 4;
#if defined(EDGEC_FC_DSP)
    if (groups > 0 && groups <= EDGEC_FC_X16_MAX_GROUPS && ((uintptr_t)blocked_filter & 3u) == 0) {
        fc_batches_x16(batches, input, groups, tail, out_features, blocked_filter, bias, quant, params, range, fixed,
                       output);
        return EDGEC_OK;
    }
#endif
    for (int32_t b = 0; b < batches; ++b) {
        fc_row(input + (size_t)b * depth, NULL, groups, tail, out_features, blocked_filter, bias, quant, params,
               range, fixed, output + (size_t)b * (size_t)out_features);
    }
    return EDGEC_OK;
}
