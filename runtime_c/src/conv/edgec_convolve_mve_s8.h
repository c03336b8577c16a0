/*
 * edgec runtime, internal to edgec_convolve_fast_s8.c: the Helium (MVE) path of the int8 convolution (compiled
 * only where __ARM_FEATURE_MVE has integer MVE). Same arguments, OHWI layout and results as edgec_convolve_s8.
 *
 * Three output positions at a time (consecutive in (batch, y, x) order). Their raw sums are computed for a block of
 * up to EDGEC_CONV_MVE_BLOCK output channels, then requantized four channels per vector (edgec_mve_requant.h):
 *  - windows of more than 32 bytes: edgec_conv_mve_dot3, a naked assembly routine that walks every pair of
 *    weight rows of the block with a tail-predicated low-overhead loop (DLSTP.8 / LETP): per 16 bytes three input
 *    loads and two weight loads feed six VMLADAVA into even registers; an odd last row goes alone;
 *  - windows of up to 16 or 32 bytes: the three windows stay in one or two vectors each across the channels.
 * A window is the input itself where it is one contiguous in-bounds run (a full 1 x KW window with dilation_w 1,
 * e.g. every 1x1 window), else a copy of K <= EDGEC_CONV_MVE_PATCH bytes in the filter's (ky, kx, ic) order with
 * pad_value in place of the taps outside the input (kernel rows of at most 16 bytes in one masked load and a
 * select, longer ones by predicated 16-byte copies). A last block of 1-3 channels stores under a predicate; a
 * last group of 1-2 positions repeats the first window and stores only its own outputs. Larger patched windows
 * return 0 and take the portable walk. Sums wrap like the reference's int32 accumulator.
 */
#ifndef EDGEC_CONVOLVE_MVE_S8_H
#define EDGEC_CONVOLVE_MVE_S8_H

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#include <stddef.h>
#include <stdint.h>

#include "edgec_conv_common.h"
#include "edgec_conv_rows_mve_s8.h"
#include "edgec_mve_copy.h"
#include "edgec_mve_requant.h"

#define EDGEC_CONV_MVE_PATCH 576 /* bytes of each of the three window copies (on the stack): up to 3x3x64 */

/* The geometry of one call. */
typedef struct {
    const int8_t *input;
    int32_t in_h, in_w, in_c, k_h, k_w, out_h, out_w;
    int32_t stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
    size_t k;          /* KH * KW * IC bytes of one window */
    size_t row_stride; /* bytes of one input row */
    size_t image;      /* bytes of one input image */
    int8x16_t pad;
    int unit; /* 1x1 window, no padding */
} edgec_conv_mve_geometry;

/* The window of position (b, oy, ox) as K contiguous bytes: in place, or copied into patch. */
static inline const int8_t *edgec_conv_mve_window(const edgec_conv_mve_geometry *g, int32_t b, int32_t oy,
                                                  int32_t ox, int8_t *patch)
{
    const int8_t *in_batch = g->input + (size_t)b * g->image;
    const int32_t origin_y = oy * g->stride_h - g->pad_top;
    const int32_t origin_x = ox * g->stride_w - g->pad_left;
    if (g->unit) { /* a 1x1 window without padding: always in place */
        return in_batch + (size_t)origin_y * g->row_stride + (size_t)origin_x * (size_t)g->in_c;
    }
    int32_t ky0, ky1, kx0, kx1;
    valid_taps(origin_y, g->dil_h, g->k_h, g->in_h, &ky0, &ky1);
    valid_taps(origin_x, g->dil_w, g->k_w, g->in_w, &kx0, &kx1);
    if (g->k_h == 1 && g->dil_w == 1 && ky0 == 0 && ky1 == 1 && kx0 == 0 && kx1 == g->k_w) {
        return in_batch + (size_t)origin_y * g->row_stride + (size_t)origin_x * (size_t)g->in_c;
    }
    const size_t tap = (size_t)g->in_c;
    const size_t row_bytes = (size_t)g->k_w * tap;
    int8_t *dst = patch;
    if (g->dil_w == 1 && row_bytes <= 16) {
        /* Each kernel row is one vector: the in-bounds bytes loaded under a lane mask (the others not read), the
         * pad value selected into the rest. */
        const mve_pred16_t store = vctp8q((uint32_t)row_bytes);
        const mve_pred16_t valid = (mve_pred16_t)(vctp8q((uint32_t)((size_t)kx1 * tap)) &
                                                  (mve_pred16_t)~vctp8q((uint32_t)((size_t)kx0 * tap)));
        const ptrdiff_t x_off = (ptrdiff_t)origin_x * (ptrdiff_t)tap;
        for (int32_t ky = 0; ky < g->k_h; ++ky) {
            int8x16_t v = g->pad;
            if (ky >= ky0 && ky < ky1) {
                const int8_t *src = in_batch + (size_t)(origin_y + ky * g->dil_h) * g->row_stride + x_off;
                v = vpselq_s8(vldrbq_z_s8(src, valid), g->pad, valid);
            }
            vstrbq_p_s8(dst, v, store);
            dst += row_bytes;
        }
        return patch;
    }
    for (int32_t ky = 0; ky < g->k_h; ++ky) {
        if (ky < ky0 || ky >= ky1) {
            edgec_mve_fill(dst, g->pad, row_bytes);
        } else {
            const int8_t *src = in_batch + (size_t)(origin_y + ky * g->dil_h) * g->row_stride;
            edgec_mve_fill(dst, g->pad, (size_t)kx0 * tap);
            if (g->dil_w == 1) {
                edgec_mve_copy(dst + (size_t)kx0 * tap, src + (size_t)(origin_x + kx0) * tap,
                                    (size_t)(kx1 - kx0) * tap);
            } else {
                for (int32_t kx = kx0; kx < kx1; ++kx) {
                    edgec_mve_copy(dst + (size_t)kx * tap, src + (size_t)(origin_x + kx * g->dil_w) * tap, tap);
                }
            }
            edgec_mve_fill(dst + (size_t)kx1 * tap, g->pad, (size_t)(g->k_w - kx1) * tap);
        }
        dst += row_bytes;
    }
    return patch;
}

#define EDGEC_CONV_MVE_BLOCK 32 /* output channels per block of raw sums */
#define EDGEC_CONV_MVE_ROW 36   /* int32 sums per position in the block (room for an odd channel's spare) */

/* One call of edgec_conv_mve_dot3: three windows, the first two weight rows, the sums' block, the pair count and
 * K (the offsets are fixed: the assembly reads them). */
typedef struct {
    const int8_t *x0;  /* 0 */
    const int8_t *x1;  /* 4 */
    const int8_t *x2;  /* 8 */
    const int8_t *w0;  /* 12 */
    const int8_t *w1;  /* 16 */
    int32_t *acc;      /* 20: acc[ROW * i + 2 * p + j] = x_i . (row j of pair p) */
    int32_t pairs;     /* 24 */
    uint32_t k;        /* 28 */
} edgec_conv_mve_job;

/* The dot products of three windows with `pairs` pairs of weight rows (rows w0 + 2pk and w1 + 2pk, or w0 == w1
 * with one pair): per pair a tail-predicated low-overhead loop (DLSTP.8 / LETP: the last K % 16 bytes load under
 * the loop's predicate, inactive lanes read as 0 and add nothing), two weight loads and three input loads feeding
 * six VMLADAVA per 16 bytes, into six even registers (VMLADAVA's accumulator must be even); the first 16 bytes
 * (K > 32) go before the loop with VMLADAV, which starts the sums without zeroing them. After a pair three STRD
 * store the sums, the input pointers step back by the loop's advance (16 * ceil(K / 16)) and the weight pointers
 * move on by 2K; the pairs end at the sums' end pointer. */
#if defined(__GNUC__)
__attribute__((naked, noinline))
#endif
static void edgec_conv_mve_dot3(const edgec_conv_mve_job *job __attribute__((unused)))
{
    __asm__ volatile(
        "push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"
        "mov r12, r0\n\t"
        "ldr r1, [r12, #0]\n\t"
        "ldr r3, [r12, #4]\n\t"
        "ldr r5, [r12, #8]\n\t"
        "ldr r7, [r12, #12]\n\t"
        "ldr r9, [r12, #16]\n\t"
        "ldr r11, [r12, #20]\n\t"
        "ldr r0, [r12, #24]\n\t"
        "ldr r12, [r12, #28]\n\t"
        "add r0, r11, r0, lsl #3\n\t" /* [sp]: the sums' pointer after the last pair */
        "add lr, r12, #15\n\t"        /* [sp, #4]: the loop's advance, 16 * ceil(K / 16) */
        "bic lr, lr, #15\n\t"
        "push {r0, lr}\n"
        "2:\n\t"
        /* the first 16 bytes (K > 32) start the sums: VMLADAV, no zeroing */
        "vldrb.8 q0, [r1], #16\n\t"
        "vldrb.8 q1, [r3], #16\n\t"
        "vldrb.8 q2, [r5], #16\n\t"
        "vldrb.8 q3, [r7], #16\n\t"
        "vmladav.s8 r0, q0, q3\n\t"
        "vmladav.s8 r2, q1, q3\n\t"
        "vmladav.s8 r4, q2, q3\n\t"
        "vldrb.8 q3, [r9], #16\n\t"
        "vmladav.s8 r6, q0, q3\n\t"
        "vmladav.s8 r8, q1, q3\n\t"
        "vmladav.s8 r10, q2, q3\n\t"
        "sub lr, r12, #16\n\t"
        "dlstp.8 lr, lr\n"
        "1:\n\t"
        "vldrb.8 q0, [r1], #16\n\t"
        "vldrb.8 q1, [r3], #16\n\t"
        "vldrb.8 q2, [r5], #16\n\t"
        "vldrb.8 q3, [r7], #16\n\t"
        "vmladava.s8 r0, q0, q3\n\t"
        "vmladava.s8 r2, q1, q3\n\t"
        "vmladava.s8 r4, q2, q3\n\t"
        "vldrb.8 q3, [r9], #16\n\t"
        "vmladava.s8 r6, q0, q3\n\t"
        "vmladava.s8 r8, q1, q3\n\t"
        "vmladava.s8 r10, q2, q3\n\t"
        "letp lr, 1b\n\t"
        "strd r2, r8, [r11, #144]\n\t"
        "strd r4, r10, [r11, #288]\n\t"
        "strd r0, r6, [r11], #8\n\t"
        "ldr lr, [sp, #4]\n\t"
        "subs r1, r1, lr\n\t"
        "subs r3, r3, lr\n\t"
        "subs r5, r5, lr\n\t"
        "sub r7, r9, lr\n\t"
        "add r7, r7, r12\n\t"
        "add r9, r7, r12\n\t"
        "ldr r0, [sp]\n\t"
        "cmp r11, r0\n\t"
        "bne 2b\n\t"
        "add sp, sp, #8\n\t"
        "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n");
}

/* Raw sums of channels [0, nc) (rows w) for the three windows x into acc (edgec_conv_mve_job's layout). */
static inline void edgec_conv_mve_block(const int8_t *const x[3], const int8_t *w, size_t k, int32_t nc,
                                        int32_t *acc)
{
    if (k <= 16) { /* one vector per window: the windows stay in registers across the channels */
        const mve_pred16_t pk = vctp8q((uint32_t)k);
        const int8x16_t u0 = vldrbq_z_s8(x[0], pk);
        const int8x16_t u1 = vldrbq_z_s8(x[1], pk);
        const int8x16_t u2 = vldrbq_z_s8(x[2], pk);
        for (int32_t j = 0; j < nc; ++j) {
            const int8x16_t v = vldrbq_z_s8(w, pk);
            acc[j] = vmladavq_s8(u0, v);
            acc[EDGEC_CONV_MVE_ROW + j] = vmladavq_s8(u1, v);
            acc[2 * EDGEC_CONV_MVE_ROW + j] = vmladavq_s8(u2, v);
            w += k;
        }
        return;
    }
    if (k <= 32) { /* two vectors per window, in registers across the channels */
        const mve_pred16_t pk = vctp8q((uint32_t)(k - 16));
        const int8x16_t u0 = vldrbq_s8(x[0]);
        const int8x16_t u1 = vldrbq_s8(x[1]);
        const int8x16_t u2 = vldrbq_s8(x[2]);
        const int8x16_t t0 = vldrbq_z_s8(x[0] + 16, pk);
        const int8x16_t t1 = vldrbq_z_s8(x[1] + 16, pk);
        const int8x16_t t2 = vldrbq_z_s8(x[2] + 16, pk);
        for (int32_t j = 0; j < nc; ++j) {
            const int8x16_t v = vldrbq_s8(w);
            const int8x16_t z = vldrbq_z_s8(w + 16, pk);
            acc[j] = vmladavaq_s8(vmladavq_s8(u0, v), t0, z);
            acc[EDGEC_CONV_MVE_ROW + j] = vmladavaq_s8(vmladavq_s8(u1, v), t1, z);
            acc[2 * EDGEC_CONV_MVE_ROW + j] = vmladavaq_s8(vmladavq_s8(u2, v), t2, z);
            w += k;
        }
        return;
    }
    edgec_conv_mve_job job;
    job.x0 = x[0];
    job.x1 = x[1];
    job.x2 = x[2];
    job.k = (uint32_t)k;
    if (nc >= 2) {
        job.w0 = w;
        job.w1 = w + k;
        job.acc = acc;
        job.pairs = nc / 2;
        edgec_conv_mve_dot3(&job);
    }
    if (nc & 1) { /* the last row alone (its pair's second sums land in the row's spare) */
        job.w0 = w + (size_t)(nc - 1) * k;
        job.w1 = job.w0;
        job.acc = acc + (nc - 1);
        job.pairs = 1;
        edgec_conv_mve_dot3(&job);
    }
}

/* Every output channel of three positions with windows x[0..2] (out[i] NULL: no position i, x[i] a copy of x[0]). */
static inline void edgec_conv_mve_triple(const int8_t *const x[3], const int8_t *filter, size_t k,
                                         const int32_t *bias, const edgec_per_channel_quant *quant, int32_t out_c,
                                         edgec_mve_range range, int8_t *const out[3])
{
    int32_t acc[3 * EDGEC_CONV_MVE_ROW];
    const int32_t offset = vgetq_lane_s32(range.offset, 0);
    const int32x4_t lo = range.lo;
    const int32x4_t hi = range.hi;
    const int32_t npos = out[1] == NULL ? 1 : (out[2] == NULL ? 2 : 3);
    const int32_t *const mult = quant->multiplier; /* in locals: the output stores may alias the struct */
    const int32_t *const shift = quant->shift;
    for (int32_t c0 = 0; c0 < out_c; c0 += EDGEC_CONV_MVE_BLOCK) {
        const int32_t nc = out_c - c0 < EDGEC_CONV_MVE_BLOCK ? out_c - c0 : EDGEC_CONV_MVE_BLOCK;
        edgec_conv_mve_block(x, filter + (size_t)c0 * k, k, nc, acc);
        int32_t oc = 0;
        if (npos == 3) { /* whole groups of four channels at three positions, unrolled */
            int8_t *o0 = out[0] + c0;
            int8_t *o1 = out[1] + c0;
            int8_t *o2 = out[2] + c0;
            const int32_t *a = acc;
            for (; oc + 4 <= nc; oc += 4) {
                const int32_t c = c0 + oc;
                const int32x4_t vb = vldrwq_s32(bias + c);
                const int32x4_t m = vldrwq_s32(mult + c);
                const int32x4_t s = vldrwq_s32(shift + c);
                const int32x4_t zero = vdupq_n_s32(0);
                const int32x4_t left = vmaxq_s32(s, zero);
                const int32x4_t right = vminq_s32(s, zero);
                vstrbq_s32(o0, edgec_mve_requant_split(vaddq_s32(vldrwq_s32(a), vb), m, left, right, offset, lo, hi));
                vstrbq_s32(o1, edgec_mve_requant_split(vaddq_s32(vldrwq_s32(a + EDGEC_CONV_MVE_ROW), vb), m, left,
                                                       right, offset, lo, hi));
                vstrbq_s32(o2, edgec_mve_requant_split(vaddq_s32(vldrwq_s32(a + 2 * EDGEC_CONV_MVE_ROW), vb), m,
                                                       left, right, offset, lo, hi));
                o0 += 4;
                o1 += 4;
                o2 += 4;
                a += 4;
            }
        }
        for (; oc < nc; oc += 4) {
            const int32_t n = nc - oc < 4 ? nc - oc : 4;
            const mve_pred16_t p = vctp32q((uint32_t)n);
            const int32_t c = c0 + oc;
            const int32x4_t vb = vldrwq_z_s32(bias + c, p);
            const int32x4_t m = vldrwq_z_s32(quant->multiplier + c, p);
            const int32x4_t s = vldrwq_z_s32(quant->shift + c, p);
            const int32x4_t zero = vdupq_n_s32(0);
            const int32x4_t left = vmaxq_s32(s, zero);
            const int32x4_t right = vminq_s32(s, zero);
            for (int32_t i = 0; i < npos; ++i) {
                const int32x4_t a = vaddq_s32(vldrwq_s32(acc + EDGEC_CONV_MVE_ROW * i + oc), vb);
                vstrbq_p_s32(out[i] + c, edgec_mve_requant_split(a, m, left, right, offset, lo, hi), p);
            }
        }
    }
}

/* edgec_convolve_fast_s8 on Helium, after its argument checks: 1 when done, 0 when a window needs a copy larger
 * than EDGEC_CONV_MVE_PATCH (the caller then runs its portable walk). */
static inline int edgec_convolve_mve_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                        const edgec_dims *input_dims, const int8_t *input,
                                        const edgec_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                        const edgec_dims *output_dims, int8_t *output)
{
    if (edgec_conv_rows_mve_s8(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output)) {
        return 1; /* windows of at most three rows of 16 bytes: weights in registers (edgec_conv_rows_mve_s8.h) */
    }
    edgec_conv_mve_geometry g;
    g.input = input;
    g.in_h = input_dims->h;
    g.in_w = input_dims->w;
    g.in_c = input_dims->c;
    g.k_h = filter_dims->h;
    g.k_w = filter_dims->w;
    g.out_h = output_dims->h;
    g.out_w = output_dims->w;
    g.stride_h = params->stride_h;
    g.stride_w = params->stride_w;
    g.dil_h = params->dilation_h;
    g.dil_w = params->dilation_w;
    g.pad_top = params->pad_top;
    g.pad_left = params->pad_left;
    g.k = (size_t)g.k_h * (size_t)g.k_w * (size_t)g.in_c;
    g.row_stride = (size_t)g.in_w * (size_t)g.in_c;
    g.image = (size_t)g.in_h * g.row_stride;
    g.pad = vdupq_n_s8((int8_t)params->pad_value);
    g.unit = g.k_h == 1 && g.k_w == 1 && g.pad_top == 0 && g.pad_left == 0;
    const int in_place = g.k_h == 1 && g.dil_w == 1; /* a full window is contiguous; border ones are copied */
    if (g.k > EDGEC_CONV_MVE_PATCH && !(in_place && params->pad_top == 0 && params->pad_left == 0 &&
                                          (g.out_w - 1) * g.stride_w + g.k_w <= g.in_w && (g.out_h - 1) * g.stride_h < g.in_h)) {
        return 0;
    }
    const edgec_mve_range range = edgec_mve_range_make(params->output_offset, params->act_min, params->act_max);
    const int32_t out_c = filter_dims->n;
    const size_t positions = (size_t)input_dims->n * (size_t)g.out_h * (size_t)g.out_w;
    int8_t patch[3][EDGEC_CONV_MVE_PATCH];
    int32_t b = 0, oy = 0, ox = 0;
    for (size_t done = 0; done < positions; done += 3) {
        const int8_t *x[3];
        int8_t *out[3];
        for (int32_t i = 0; i < 3; ++i) {
            if (done + (size_t)i < positions) {
                x[i] = edgec_conv_mve_window(&g, b, oy, ox, patch[i]);
                out[i] = output + (done + (size_t)i) * (size_t)out_c;
                if (++ox == g.out_w) {
                    ox = 0;
                    if (++oy == g.out_h) {
                        oy = 0;
                        ++b;
                    }
                }
            } else {
                x[i] = x[0];
                out[i] = NULL;
            }
        }
        edgec_conv_mve_triple(x, filter, g.k, bias, quant, out_c, range, out);
    }
    return 1;
}

#endif

#endif /* EDGEC_CONVOLVE_MVE_S8_H */
