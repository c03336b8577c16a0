/*
 * edgec runtime: 2-D convolution with int4 weights (see edgec_convolve_s4 in edgec_nn.h).
 *
 * The weights are nibble-group rows (edgec_s4_common.h, compiler/int4.py): per output channel its K = KH * KW * IC
 * window taps in OHWI order, padded to K8 (a multiple of 8) with zero weights, eight taps per 32-bit word.
 *
 * Windows of at most S4_QUAD_TAPS padded taps go four output positions at a time (not on Armv6-M, see below) (consecutive in (batch, y, x)
 * order; a last partial group repeats its last position and stores only the real ones). Each position's window
 * is K8 int8 bytes in the filter's (ky, kx, ic) order: the input itself when it is one contiguous in-bounds run
 * (e.g. every 1x1 window) and K is whole groups, else a copy with the out-of-bounds taps set to pad_value and
 * the K..K8 tail zeroed. Then every output channel is one pass over its weight row for all four positions:
 *
 * - DSP extension (Cortex-M4/M33/M55): the four windows are unpacked once into an int16 quad buffer, group g of
 *   pixel p as the four SXTB16 halfword pairs (x0,x2) (x1,x3) (x4,x6) (x5,x7) at words 16g + 4t + p (interior
 *   windows whose kernel rows are whole groups straight from the input rows). Per group of a channel: one
 *   weight word, and per pair t one AND (W << 4t) & 0xF000F000 (the weights already at the halfword tops: scaled
 *   by 4096, sign-extended), one LDM of the four pixels' pair t and four SMLAD: 25 instructions for 32 MACs. The
 *   sums are shifted back (ASR 12) every S4_BLOCK_GROUPS groups (exact, edgec_s4_common.h) and added to the bias
 *   in wrapping 32-bit arithmetic.
 * - Helium (Cortex-M55; s4_mve_permute): each window permuted once by two VLDRB gathers per 32 taps to match the
 *   low and high nibbles of a 16-byte weight vector (four groups); per 32 taps of a channel one weight load, VSHL
 *   #4 and VAND 0xF0 (the nibbles as int8 lanes scaled by 16), then per position two loads and two VMLADAVA; the
 *   sums shifted back by ASR 4.
 * - Elsewhere (Cortex-M0/M3, RISC-V, the host) in C: per group one weight word decoded into eight weights, each
 *   multiplied with two pairs of windows packed per tap (s4_pack_pair: two sums per 64-bit multiply-accumulate).
 *
 * The channel is then requantized at the four positions with its constants made once (edgec_rq_right_make for
 * a right shift, edgec_requantize_nonneg for a left one). Larger windows take the one-position walk: per channel
 * and in-bounds tap the weight read from its nibble, out-of-bounds taps read pad_value. Stack: the quad buffer
 * (8 bytes per tap, 4608) and one window copy on the DSP extension, one window copy and four permuted windows
 * (2880) on Helium, one window copy and the two packed pairs (5184) elsewhere.
 * Accumulation wraps like the reference's int32 accumulator.
 */
#include <stddef.h>
#include <string.h>

#include "../conv/edgec_conv_common.h"
#include "edgec_s4_common.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && defined(__GNUC__)
#include <arm_mve.h>
#define EDGEC_S4_MVE 1 /* Helium (Cortex-M55): takes the quad walk's channel loop instead of the DSP path */
#undef EDGEC_S4_DSP
#endif

#define S4_QUAD_TAPS 576u /* K8 limit of the four-position walk (a multiple of 32) */

typedef struct {
    const edgec_conv_params *params;
    const int8_t *input;
    int32_t in_h, in_w, in_c, k_h, k_w, out_h, out_w;
    size_t k;           /* taps of one window */
    size_t k8;          /* padded to whole groups */
    size_t row_stride;  /* bytes of one input row */
    size_t image_bytes; /* bytes of one input image */
} s4_geometry;

/* Position number pos as (b, oy, ox). */
static inline void s4_position(const s4_geometry *g, size_t pos, int32_t *b, int32_t *oy, int32_t *ox)
{
    const size_t per_image = (size_t)g->out_h * (size_t)g->out_w;
    *b = (int32_t)(pos / per_image);
    const size_t rest = pos % per_image;
    *oy = (int32_t)(rest / (size_t)g->out_w);
    *ox = (int32_t)(rest % (size_t)g->out_w);
}

/* Whether the window of (oy, ox) lies inside the input with dilation_w 1 (kernel rows are contiguous runs). */
static inline int s4_interior(const s4_geometry *g, int32_t origin_y, int32_t origin_x)
{
    const edgec_conv_params *p = g->params;
    return p->dilation_w == 1 && origin_y >= 0 && origin_x >= 0 &&
           origin_y + (g->k_h - 1) * p->dilation_h < g->in_h && origin_x + g->k_w <= g->in_w;
}

/* The window of position (b, oy, ox) as K8 bytes: the input itself when it is one contiguous in-bounds run of
 * whole groups, else a copy in patch (K8 bytes) with out-of-bounds taps pad_value and the padded taps 0. */
static inline const int8_t *s4_window(const s4_geometry *g, int32_t b, int32_t oy, int32_t ox, int8_t *patch)
{
    const edgec_conv_params *p = g->params;
    const int8_t *in_batch = g->input + (size_t)b * g->image_bytes;
    const int32_t origin_y = oy * p->stride_h - p->pad_top;
    const int32_t origin_x = ox * p->stride_w - p->pad_left;
    const size_t tap = (size_t)g->in_c;
    if (g->k_h == 1 && g->k == g->k8 && s4_interior(g, origin_y, origin_x)) {
        return in_batch + (size_t)origin_y * g->row_stride + (size_t)origin_x * tap;
    }
    const size_t row_bytes = (size_t)g->k_w * tap;
    if (s4_interior(g, origin_y, origin_x)) { /* short rows (e.g. 3x3 over 3 channels): a plain copy per row */
        const int8_t *src = in_batch + (size_t)origin_y * g->row_stride + (size_t)origin_x * tap;
        const size_t step = (size_t)p->dilation_h * g->row_stride;
        int8_t *dst = patch;
        for (int32_t ky = 0; ky < g->k_h; ++ky, src += step) {
            for (size_t i = 0; i < row_bytes; ++i) {
                *dst++ = src[i];
            }
        }
        for (size_t i = g->k; i < g->k8; ++i) {
            patch[i] = 0;
        }
        return patch;
    }
    int32_t ky0, ky1, kx0, kx1;
    valid_taps(origin_y, p->dilation_h, g->k_h, g->in_h, &ky0, &ky1);
    valid_taps(origin_x, p->dilation_w, g->k_w, g->in_w, &kx0, &kx1);
    for (int32_t ky = 0; ky < g->k_h; ++ky) {
        int8_t *dst = patch + (size_t)ky * row_bytes;
        if (ky < ky0 || ky >= ky1) {
            memset(dst, p->pad_value, row_bytes);
            continue;
        }
        const int8_t *src = in_batch + (size_t)(origin_y + ky * p->dilation_h) * g->row_stride;
        memset(dst, p->pad_value, (size_t)kx0 * tap);
        if (p->dilation_w == 1) {
            memcpy(dst + (size_t)kx0 * tap, src + (size_t)(origin_x + kx0) * tap, (size_t)(kx1 - kx0) * tap);
        } else {
            for (int32_t kx = kx0; kx < kx1; ++kx) {
                memcpy(dst + (size_t)kx * tap, src + (size_t)(origin_x + kx * p->dilation_w) * tap, tap);
            }
        }
        memset(dst + (size_t)kx1 * tap, p->pad_value, (size_t)(g->k_w - kx1) * tap);
    }
    memset(patch + g->k, 0, g->k8 - g->k);
    return patch;
}

/* The output range of a call, read once (the output stores through int8_t pointers may alias *params). */
typedef struct {
    int32_t offset, lo, hi;
} s4_range;

/* finish() of one output with the channel's right-shift constants made once (edgec_fixedpoint.h). */
static inline int8_t s4_finish_right(uint32_t s, const edgec_rq_right *q, const s4_range *r)
{
    return (int8_t)edgec_offset_clamp(edgec_requantize_right(edgec_wrap_int32(s), q), r->offset, r->lo, r->hi);
}

/* The outputs out[j * stride] (j < n <= 4) of one channel from its wrapped sums s0..s3: finish()'s results, the
 * requantization constants made once for a right shift, the four outputs unrolled when n is 4. */
static inline void s4_finish_quad(uint32_t s0, uint32_t s1, uint32_t s2, uint32_t s3, int32_t multiplier,
                                  int32_t shift, const s4_range *r, int n, int8_t *out, size_t stride)
{
    if (!EDGEC_UNLIKELY(shift >= 0)) {
        const edgec_rq_right q = edgec_rq_right_make(multiplier, shift);
        if (n == 4) {
            out[0] = s4_finish_right(s0, &q, r);
            out[stride] = s4_finish_right(s1, &q, r);
            out[2u * stride] = s4_finish_right(s2, &q, r);
            out[3u * stride] = s4_finish_right(s3, &q, r);
            return;
        }
    }
    const uint32_t s[4] = {s0, s1, s2, s3};
    for (int j = 0; j < n; ++j) {
        out[(size_t)j * stride] = (int8_t)edgec_offset_clamp(
            edgec_requantize_nonneg(edgec_wrap_int32(s[j]), multiplier, shift), r->offset, r->lo, r->hi);
    }
}

#if defined(EDGEC_S4_DSP)
/* Quad buffer words for windows of k8 taps. */
#define S4_QUAD_WORDS(k8) ((k8) * 2u)

/* groups groups of pixel p's window bytes x into the quad buffer from group word q (16 words per group). */
static inline void s4_quad_unpack(const int8_t *x, size_t groups, int p, int32_t *q)
{
    int32_t *d = q + p;
    for (size_t i = 0; i < groups; ++i) {
        int32_t lo, hi;
        memcpy(&lo, x, 4);
        memcpy(&hi, x + 4, 4);
        d[0] = s4_sxtb16(lo);
        d[4] = s4_sxtb16_ror8(lo);
        d[8] = s4_sxtb16(hi);
        d[12] = s4_sxtb16_ror8(hi);
        x += 8;
        d += 16;
    }
}

/* One group: the weight word, then per pair t its AND, the LDM of the four pixels' pair t and four SMLAD. */
#define S4_QUAD_PAIR_ASM(SHIFT)                                                                                       \
    "ldmia %[q]!, {%[x0], %[x1], %[x2], %[x3]}\n\t"                                                                  \
    "and %[t], %[m], %[w]" SHIFT "\n\t"                                                                              \
    "smlad %[a0], %[t], %[x0], %[a0]\n\t"                                                                            \
    "smlad %[a1], %[t], %[x1], %[a1]\n\t"                                                                            \
    "smlad %[a2], %[t], %[x2], %[a2]\n\t"                                                                            \
    "smlad %[a3], %[t], %[x3], %[a3]\n\t"
#define S4_QUAD_GROUP_ASM                                                                                             \
    "ldr %[w], [%[wp]], #4\n\t"                                                                                      \
    S4_QUAD_PAIR_ASM("") S4_QUAD_PAIR_ASM(", lsl #4") S4_QUAD_PAIR_ASM(", lsl #8") S4_QUAD_PAIR_ASM(", lsl #12")

/* s[p] += sum over groups (at most S4_BLOCK_GROUPS) of pixel p's window times the weight row w, for the four
 * pixels of quad buffer q: the scaled sums in registers, then shifted back. */
static inline void s4_dot4px(const int32_t *q, const uint8_t *w, size_t groups, uint32_t s[4])
{
    /* Fixed registers: LDM needs its list ascending (r8-r11); r7 (the Thumb frame pointer) stays free, so the loop
     * end is read from memory. */
    register int32_t a0 __asm__("r0") = 0;
    register int32_t a1 __asm__("r1") = 0;
    register int32_t a2 __asm__("r2") = 0;
    register int32_t a3 __asm__("r3") = 0;
    register const int32_t *qp __asm__("r4") = q;
    register const uint8_t *wp __asm__("r5") = w;
    register uint32_t wv __asm__("r6");
    register uint32_t t __asm__("r12");
    register uint32_t m __asm__("lr") = 0xF000F000u;
    register int32_t x0 __asm__("r8");
    register int32_t x1 __asm__("r9");
    register int32_t x2 __asm__("r10");
    register int32_t x3 __asm__("r11");
    if (groups % 2u != 0u) {
        __asm__ volatile(S4_QUAD_GROUP_ASM
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [q] "+r"(qp), [wp] "+r"(wp),
                           [w] "=&r"(wv), [t] "=&r"(t), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2),
                           [x3] "=&r"(x3)
                         : [m] "r"(m)
                         : "memory");
    }
    if (groups >= 2u) {
        const int32_t *end = qp + 16u * (groups & ~(size_t)1u);
        __asm__ volatile("1:\n\t"
                         S4_QUAD_GROUP_ASM
                         S4_QUAD_GROUP_ASM
                         "ldr %[t], %[end]\n\t"
                         "cmp %[q], %[t]\n\t"
                         "bne 1b\n\t"
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [q] "+r"(qp), [wp] "+r"(wp),
                           [w] "=&r"(wv), [t] "=&r"(t), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2),
                           [x3] "=&r"(x3)
                         : [m] "r"(m), [end] "m"(end)
                         : "cc", "memory");
    }
    s[0] += (uint32_t)(a0 >> 12);
    s[1] += (uint32_t)(a1 >> 12);
    s[2] += (uint32_t)(a2 >> 12);
    s[3] += (uint32_t)(a3 >> 12);
}

/* Channels per call of s4_quad_channels (their sums go to the stack: 16 bytes each). */
#define S4_CHANNEL_CHUNK 32u

/* sums[4c + p] = 4096 x (pixel p's window times row c) for count channels whose weight rows follow one another
 * from w, each of groups groups (1 <= groups <= S4_BLOCK_GROUPS): the channel loop in the assembly too (the loop
 * state that does not fit in registers, the quad buffer's start and end, the odd-group flag, the sums pointer and
 * the channel count, read from memory), so a channel costs the groups plus about 15 instructions. Not inlined:
 * its own small frame keeps those words within reach of one LDR (the caller's holds the 4.6 KB quad buffer). */
__attribute__((noinline)) static void s4_quad_channels(const int32_t *q, const uint8_t *w, size_t groups, size_t count, int32_t *sums)
{
    register int32_t a0 __asm__("r0");
    register int32_t a1 __asm__("r1");
    register int32_t a2 __asm__("r2");
    register int32_t a3 __asm__("r3");
    register const int32_t *qp __asm__("r4");
    register const uint8_t *wp __asm__("r5") = w;
    register uint32_t wv __asm__("r6");
    register uint32_t t __asm__("r12");
    register uint32_t m __asm__("lr") = 0xF000F000u;
    register int32_t x0 __asm__("r8");
    register int32_t x1 __asm__("r9");
    register int32_t x2 __asm__("r10");
    register int32_t x3 __asm__("r11");
    const int32_t *end = q + 16u * groups;
    const uint32_t odd = (uint32_t)(groups % 2u);
    int32_t *out = sums;
    uint32_t left = (uint32_t)count;
    __asm__ volatile("2:\n\t"
                     "movs %[a0], #0\n\t"
                     "movs %[a1], #0\n\t"
                     "movs %[a2], #0\n\t"
                     "movs %[a3], #0\n\t"
                     "ldr %[q], %[qbase]\n\t"
                     "ldr %[t], %[odd]\n\t"
                     "cmp %[t], #0\n\t"
                     "beq 3f\n\t"
                     S4_QUAD_GROUP_ASM
                     "ldr %[t], %[end]\n\t"
                     "cmp %[q], %[t]\n\t"
                     "beq 4f\n"
                     "3:\n\t"
                     S4_QUAD_GROUP_ASM
                     S4_QUAD_GROUP_ASM
                     "ldr %[t], %[end]\n\t"
                     "cmp %[q], %[t]\n\t"
                     "bne 3b\n"
                     "4:\n\t"
                     "ldr %[t], %[out]\n\t"
                     "stmia %[t]!, {%[a0], %[a1], %[a2], %[a3]}\n\t"
                     "str %[t], %[out]\n\t"
                     "ldr %[t], %[left]\n\t"
                     "subs %[t], %[t], #1\n\t"
                     "str %[t], %[left]\n\t"
                     "bne 2b\n\t"
                     : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [q] "=&r"(qp),
                       [wp] "+r"(wp), [w] "=&r"(wv), [t] "=&r"(t), [x0] "=&r"(x0), [x1] "=&r"(x1),
                       [x2] "=&r"(x2), [x3] "=&r"(x3), [out] "+m"(out), [left] "+m"(left)
                     : [m] "r"(m), [qbase] "m"(q), [odd] "m"(odd), [end] "m"(end)
                     : "cc", "memory");
}
#endif

#if defined(EDGEC_S4_MVE)
/* Helium: a 16-byte weight vector is four groups (32 taps) of one row; VSHL #4 and VAND 0xF0 split it into the
 * low and the high nibbles as int8 lanes scaled by 16 (sign-extended for free), each dotted with VMLADAVA against
 * the window permuted to match: lane 4i + b of the low vector is tap 8i + {5, 1, 7, 3}[b] of the 32, of the high
 * vector tap 8i + {4, 0, 6, 2}[b] (S4_TAP_OF_NIBBLE of nibbles 2b and 2b + 1). Per 32 taps of a channel: one
 * load and two splits shared by the four positions, two loads and two VMLADAVA per position. The sums are 16
 * times the true ones (exact: |sum| <= 576 * 1024) and shifted back (ASR 4). */
static const uint8_t s4_mve_lo_offsets[16] = {5, 1, 7, 3, 13, 9, 15, 11, 21, 17, 23, 19, 29, 25, 31, 27};
static const uint8_t s4_mve_hi_offsets[16] = {4, 0, 6, 2, 12, 8, 14, 10, 20, 16, 22, 18, 28, 24, 30, 26};

/* The window x (K8 bytes) permuted into xq, 32 bytes per 32 taps (low lanes, then high lanes), the taps past K8
 * of the last 32 zero (gathered with a predicate: no byte past K8 is read). */
static inline void s4_mve_permute(const int8_t *x, size_t k8, int8_t *xq)
{
    const uint8x16_t lo = vldrbq_u8(s4_mve_lo_offsets);
    const uint8x16_t hi = vldrbq_u8(s4_mve_hi_offsets);
    for (size_t c = 0; c < k8; c += 32u) {
        const mve_pred16_t pr = vctp8q((uint32_t)(k8 - c >= 32u ? 16u : (k8 - c) / 2u));
        vstrbq_s8(xq, vldrbq_gather_offset_z_s8(x + c, lo, pr));
        vstrbq_s8(xq + 16, vldrbq_gather_offset_z_s8(x + c, hi, pr));
        xq += 32;
    }
}
#endif

#if !defined(EDGEC_S4_DSP) && !defined(EDGEC_S4_MVE) && !defined(__ARM_ARCH_6M__)
/* Portable C (the Cortex-M3's 64-bit SMLAL does two MACs): two positions' window bytes packed per tap as
 * x_a + x_b * 2^21, so one 32 x 32 -> 64-bit multiply-accumulate by the tap's weight sums both, S_a + S_b * 2^21.
 * Exact: |S_a| <= K8 * 1024 < 2^20 for K8 <= 576, so S_a is the sign-extended low 21 bits and S_b the rest. */
static inline void s4_pack_pair(const int8_t *x, size_t k8, int p, int32_t *pair)
{
    if (p % 2 == 0) {
        for (size_t i = 0; i < k8; ++i) {
            pair[i] = x[i];
        }
    } else {
        for (size_t i = 0; i < k8; ++i) {
            pair[i] += x[i] * (1 << 21);
        }
    }
}

/* sum_{j < 8} pair[j] * (tap j of word w) in 64 bits. */
static inline int64_t s4g_dot8_pairs(const int32_t *pair, uint32_t w)
{
    return (int64_t)pair[0] * s4_nibble(w, 3) + (int64_t)pair[1] * s4_nibble(w, 2) +
           (int64_t)pair[2] * s4_nibble(w, 7) + (int64_t)pair[3] * s4_nibble(w, 6) +
           (int64_t)pair[4] * s4_nibble(w, 1) + (int64_t)pair[5] * s4_nibble(w, 0) +
           (int64_t)pair[6] * s4_nibble(w, 5) + (int64_t)pair[7] * s4_nibble(w, 4);
}

/* *lo += S_a, *hi += S_b (wrapping) from acc = S_a + S_b * 2^21. */
static inline void s4_split_pair(int64_t acc, uint32_t *lo, uint32_t *hi)
{
    const uint32_t low21 = (uint32_t)acc & 0x1FFFFFu;
    const int32_t a = (int32_t)(low21 ^ 0x100000u) - 0x100000; /* sign-extended from bit 20 */
    *lo += (uint32_t)a;
    *hi += (uint32_t)((acc - a) / (1 << 21)); /* exact: a multiple of 2^21 */
}
#endif

/* The Cortex-M0/M0+ (Armv6-M: no 64-bit multiply-accumulate, stacks of 2 KB on the micro:bit) keep the
 * one-position walk, whose stack is a few words; elsewhere the four-position walk below. */
#if !defined(__ARM_ARCH_6M__)
#define S4_QUADS 1

/* All output positions (positions of them), four at a time; windows of K8 <= S4_QUAD_TAPS. */
static void s4_convolve_quads(const s4_geometry *g, const edgec_per_channel_quant *quant, const uint8_t *filter,
                              const int32_t *bias, int32_t out_c, size_t positions, int8_t *output)
{
    const size_t k8 = g->k8;
    const size_t groups = k8 / 8u;
    (void)groups; /* unused by the Helium loop */
    const size_t row_bytes = k8 / 2u; /* flash bytes of one channel's weights */
    const size_t oc_n = (size_t)out_c;
    const s4_range range = {g->params->output_offset, g->params->act_min, g->params->act_max};
#if defined(EDGEC_S4_DSP)
    int8_t patch[S4_QUAD_TAPS];
    int32_t quad[S4_QUAD_WORDS(S4_QUAD_TAPS)];
    const size_t k_row = (size_t)g->k_w * (size_t)g->in_c;
    const int rows_direct = k_row % 8u == 0u;
#elif defined(EDGEC_S4_MVE)
    int8_t patch[S4_QUAD_TAPS];
    int8_t xq[4][S4_QUAD_TAPS];
#else
    int8_t patch[S4_QUAD_TAPS];
    int32_t pairs[2][S4_QUAD_TAPS]; /* positions (0, 1) and (2, 3) packed per tap (s4_pack_pair) */
#endif
    for (size_t done = 0; done < positions; done += 4u) {
        const int n = positions - done < 4u ? (int)(positions - done) : 4;
        for (int p = 0; p < 4; ++p) {
            int32_t b, oy, ox;
            s4_position(g, done + (size_t)(p < n ? p : n - 1), &b, &oy, &ox);
#if defined(EDGEC_S4_DSP)
            const int32_t origin_y = oy * g->params->stride_h - g->params->pad_top;
            const int32_t origin_x = ox * g->params->stride_w - g->params->pad_left;
            if (rows_direct && s4_interior(g, origin_y, origin_x)) {
                /* Kernel rows of whole groups straight from the input rows. */
                const int8_t *src = g->input + (size_t)b * g->image_bytes + (size_t)origin_y * g->row_stride +
                                    (size_t)origin_x * (size_t)g->in_c;
                const size_t step = (size_t)g->params->dilation_h * g->row_stride;
                for (int32_t ky = 0; ky < g->k_h; ++ky) {
                    s4_quad_unpack(src, k_row / 8u, p, quad + (size_t)ky * (k_row / 8u) * 16u);
                    src += step;
                }
            } else {
                s4_quad_unpack(s4_window(g, b, oy, ox, patch), groups, p, quad);
            }
#elif defined(EDGEC_S4_MVE)
            s4_mve_permute(s4_window(g, b, oy, ox, patch), k8, xq[p]);
#else
            s4_pack_pair(s4_window(g, b, oy, ox, patch), k8, p, pairs[p / 2]);
#endif
        }
        int8_t *out = output + done * oc_n;
        const uint8_t *w = filter;
#if defined(EDGEC_S4_DSP)
        if (groups <= S4_BLOCK_GROUPS) { /* one run per channel: the channel loop in the assembly */
            int32_t sums[4u * S4_CHANNEL_CHUNK];
            for (size_t oc0 = 0; oc0 < oc_n; oc0 += S4_CHANNEL_CHUNK) {
                const size_t count = oc_n - oc0 < S4_CHANNEL_CHUNK ? oc_n - oc0 : S4_CHANNEL_CHUNK;
                s4_quad_channels(quad, filter + oc0 * row_bytes, groups, count, sums);
                for (size_t c = 0; c < count; ++c) {
                    const size_t oc = oc0 + c;
                    const uint32_t b0 = (uint32_t)bias[oc];
                    const int32_t *a = sums + 4u * c;
                    s4_finish_quad(b0 + (uint32_t)(a[0] >> 12), b0 + (uint32_t)(a[1] >> 12),
                                   b0 + (uint32_t)(a[2] >> 12), b0 + (uint32_t)(a[3] >> 12), quant->multiplier[oc],
                                   quant->shift[oc], &range, n, out + oc, oc_n);
                }
            }
            continue;
        }
#elif defined(EDGEC_S4_MVE)
        {
            const size_t whole = row_bytes / 16u;            /* full 16-byte weight vectors of a row */
            const uint32_t tail = (uint32_t)(row_bytes % 16u); /* bytes of a last partial one (8 or 0) */
            const int8x16_t high_mask = vdupq_n_s8(-16);     /* 0xF0 */
            for (size_t oc = 0; oc < oc_n; ++oc, w += row_bytes) {
                const int8_t *wr = (const int8_t *)(const void *)w;
                int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                size_t c = 0;
                for (; c < whole; ++c) {
                    const int8x16_t wv = vldrbq_s8(wr + 16u * c);
                    const int8x16_t lo = vshlq_n_s8(wv, 4);
                    const int8x16_t hi = vandq_s8(wv, high_mask);
                    a0 = vmladavaq_s8(a0, lo, vldrbq_s8(xq[0] + 32u * c));
                    a0 = vmladavaq_s8(a0, hi, vldrbq_s8(xq[0] + 32u * c + 16u));
                    a1 = vmladavaq_s8(a1, lo, vldrbq_s8(xq[1] + 32u * c));
                    a1 = vmladavaq_s8(a1, hi, vldrbq_s8(xq[1] + 32u * c + 16u));
                    a2 = vmladavaq_s8(a2, lo, vldrbq_s8(xq[2] + 32u * c));
                    a2 = vmladavaq_s8(a2, hi, vldrbq_s8(xq[2] + 32u * c + 16u));
                    a3 = vmladavaq_s8(a3, lo, vldrbq_s8(xq[3] + 32u * c));
                    a3 = vmladavaq_s8(a3, hi, vldrbq_s8(xq[3] + 32u * c + 16u));
                }
                if (tail != 0u) { /* the lanes past the row read as zero weights */
                    const int8x16_t wv = vldrbq_z_s8(wr + 16u * c, vctp8q(tail));
                    const int8x16_t lo = vshlq_n_s8(wv, 4);
                    const int8x16_t hi = vandq_s8(wv, high_mask);
                    a0 = vmladavaq_s8(a0, lo, vldrbq_s8(xq[0] + 32u * c));
                    a0 = vmladavaq_s8(a0, hi, vldrbq_s8(xq[0] + 32u * c + 16u));
                    a1 = vmladavaq_s8(a1, lo, vldrbq_s8(xq[1] + 32u * c));
                    a1 = vmladavaq_s8(a1, hi, vldrbq_s8(xq[1] + 32u * c + 16u));
                    a2 = vmladavaq_s8(a2, lo, vldrbq_s8(xq[2] + 32u * c));
                    a2 = vmladavaq_s8(a2, hi, vldrbq_s8(xq[2] + 32u * c + 16u));
                    a3 = vmladavaq_s8(a3, lo, vldrbq_s8(xq[3] + 32u * c));
                    a3 = vmladavaq_s8(a3, hi, vldrbq_s8(xq[3] + 32u * c + 16u));
                }
                const uint32_t b0 = (uint32_t)bias[oc];
                s4_finish_quad(b0 + (uint32_t)(a0 >> 4), b0 + (uint32_t)(a1 >> 4), b0 + (uint32_t)(a2 >> 4),
                               b0 + (uint32_t)(a3 >> 4), quant->multiplier[oc], quant->shift[oc], &range, n,
                               out + oc, oc_n);
            }
            continue;
        }
#endif
#if !defined(EDGEC_S4_MVE)
        for (size_t oc = 0; oc < oc_n; ++oc) {
            uint32_t s[4] = {(uint32_t)bias[oc], (uint32_t)bias[oc], (uint32_t)bias[oc], (uint32_t)bias[oc]};
#if defined(EDGEC_S4_DSP)
            for (size_t g0 = 0; g0 < groups; g0 += S4_BLOCK_GROUPS) {
                const size_t run = groups - g0 < S4_BLOCK_GROUPS ? groups - g0 : S4_BLOCK_GROUPS;
                s4_dot4px(quad + 16u * g0, w + 4u * g0, run, s);
            }
#else
            int64_t acc01 = 0, acc23 = 0;
            for (size_t gi = 0; gi < groups; ++gi) {
                const uint32_t word = s4_word(w + 4u * gi);
                acc01 += s4g_dot8_pairs(pairs[0] + 8u * gi, word);
                acc23 += s4g_dot8_pairs(pairs[1] + 8u * gi, word);
            }
            s4_split_pair(acc01, &s[0], &s[1]);
            s4_split_pair(acc23, &s[2], &s[3]);
#endif
            s4_finish_quad(s[0], s[1], s[2], s[3], quant->multiplier[oc], quant->shift[oc], &range, n, out + oc,
                           oc_n);
            w += row_bytes;
        }
#endif
    }
}

#endif

/* Every output position one at a time (windows too large for the quad walk, and on Armv6-M): per channel and in-bounds tap the
 * weight from its nibble; the out-of-bounds taps read pad_value. */
static void s4_convolve_positions(const s4_geometry *g, const edgec_per_channel_quant *quant, const uint8_t *filter,
                                  const int32_t *bias, int32_t batches, int32_t out_c, int8_t *output)
{
    const edgec_conv_params *params = g->params;
    const uint32_t pad_value = (uint32_t)params->pad_value;
    const size_t in_c = (size_t)g->in_c;
    const size_t row_bytes = g->k8 / 2u;
    int8_t *out = output;
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_batch = g->input + (size_t)b * g->image_bytes;
        for (int32_t oy = 0; oy < g->out_h; ++oy) {
            const int32_t origin_y = oy * params->stride_h - params->pad_top;
            for (int32_t ox = 0; ox < g->out_w; ++ox) {
                const int32_t origin_x = ox * params->stride_w - params->pad_left;
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    const uint8_t *w = filter + (size_t)oc * row_bytes;
                    uint32_t acc = (uint32_t)bias[oc];
                    size_t k = 0;
                    for (int32_t ky = 0; ky < g->k_h; ++ky) {
                        const int32_t iy = origin_y + ky * params->dilation_h;
                        for (int32_t kx = 0; kx < g->k_w; ++kx, k += in_c) {
                            const int32_t ix = origin_x + kx * params->dilation_w;
                            if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w) {
                                for (size_t c = 0; c < in_c; ++c) {
                                    acc += pad_value * (uint32_t)s4g_at(w, k + c);
                                }
                                continue;
                            }
                            const int8_t *px = in_batch + (size_t)iy * g->row_stride + (size_t)ix * in_c;
                            for (size_t c = 0; c < in_c; ++c) {
                                acc += (uint32_t)(px[c] * s4g_at(w, k + c));
                            }
                        }
                    }
                    *out++ = finish(acc, quant->multiplier[oc], quant->shift[oc], params);
                }
            }
        }
    }
}

edgec_status edgec_convolve_s4(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                               const edgec_dims *input_dims, const int8_t *input,
                               const edgec_dims *filter_dims, const uint8_t *packed_filter, const int32_t *bias,
                               const edgec_dims *output_dims, int8_t *output)
{
    if (!convolve_args_ok(params, quant, input_dims, input, filter_dims, (const int8_t *)(const void *)packed_filter,
                          bias, output_dims, output)) {
        return EDGEC_ARG_ERROR;
    }
    s4_geometry g;
    g.params = params;
    g.input = input;
    g.in_h = input_dims->h;
    g.in_w = input_dims->w;
    g.in_c = input_dims->c;
    g.k_h = filter_dims->h;
    g.k_w = filter_dims->w;
    g.out_h = output_dims->h;
    g.out_w = output_dims->w;
    g.k = (size_t)g.k_h * (size_t)g.k_w * (size_t)g.in_c;
    g.k8 = s4_padded(g.k);
    g.row_stride = (size_t)g.in_w * (size_t)g.in_c;
    g.image_bytes = (size_t)g.in_h * g.row_stride;
#if defined(S4_QUADS)
    if (g.k8 <= S4_QUAD_TAPS) {
        const size_t positions = (size_t)input_dims->n * (size_t)g.out_h * (size_t)g.out_w;
        s4_convolve_quads(&g, quant, packed_filter, bias, filter_dims->n, positions, output);
        return EDGEC_OK;
    }
#endif
    s4_convolve_positions(&g, quant, packed_filter, bias, input_dims->n, filter_dims->n, output);
    return EDGEC_OK;
}
