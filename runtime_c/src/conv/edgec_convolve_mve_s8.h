/*
 * edgec runtime, internal to edgec_convolve_fast_s8.c: the Helium (MVE) path of the int8 convolution (compiled
 * only where __ARM_FEATURE_MVE has integer MVE). Same arguments, OHWI layout and results as edgec_convolve_s8.
 *
 * Two output positions and four output channels per pass: per 16 bytes of the window, two input loads and four
 * weight loads feed eight VMLADAVA (16 int8 products summed into a scalar accumulator each), the last K % 16
 * bytes under a VCTP predicate. A window is the input itself where it is one contiguous in-bounds run (a full
 * 1 x KW window with dilation_w 1, e.g. every 1x1 window), else a copy of K <= EDGEC_CONV_MVE_PATCH bytes in the
 * filter's (ky, kx, ic) order with pad_value in place of the taps outside the input (predicated 16-byte copies).
 * Four outputs are requantized per vector (edgec_mve_requant.h). A last channel group of 1-3 reuses the first
 * row's weights for the missing rows and stores its outputs under a predicate; an odd last position pairs with
 * itself and stores once. Larger patched windows return 0 and take the portable walk. Sums wrap like the
 * reference's int32 accumulator.
 */
#ifndef EDGEC_CONVOLVE_MVE_S8_H
#define EDGEC_CONVOLVE_MVE_S8_H

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#include <stddef.h>
#include <stdint.h>

#include "edgec_conv_common.h"
#include "edgec_mve_requant.h"

#define EDGEC_CONV_MVE_PATCH 640 /* bytes of each of the two window copies (on the stack) */

/* n bytes of src to dst, 16 at a time, the last under a predicate. */
static inline void edgec_conv_mve_copy(int8_t *dst, const int8_t *src, size_t n)
{
    for (; n >= 16; n -= 16) {
        vstrbq_s8(dst, vldrbq_s8(src));
        dst += 16;
        src += 16;
    }
    if (n > 0) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        vstrbq_p_s8(dst, vldrbq_z_s8(src, p), p);
    }
}

/* n bytes of pad at dst. */
static inline void edgec_conv_mve_fill(int8_t *dst, int8x16_t pad, size_t n)
{
    for (; n >= 16; n -= 16) {
        vstrbq_s8(dst, pad);
        dst += 16;
    }
    if (n > 0) {
        vstrbq_p_s8(dst, pad, vctp8q((uint32_t)n));
    }
}

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
    for (int32_t ky = 0; ky < g->k_h; ++ky) {
        if (ky < ky0 || ky >= ky1) {
            edgec_conv_mve_fill(dst, g->pad, row_bytes);
        } else {
            const int8_t *src = in_batch + (size_t)(origin_y + ky * g->dil_h) * g->row_stride;
            edgec_conv_mve_fill(dst, g->pad, (size_t)kx0 * tap);
            if (g->dil_w == 1) {
                edgec_conv_mve_copy(dst + (size_t)kx0 * tap, src + (size_t)(origin_x + kx0) * tap,
                                    (size_t)(kx1 - kx0) * tap);
            } else {
                for (int32_t kx = kx0; kx < kx1; ++kx) {
                    edgec_conv_mve_copy(dst + (size_t)kx * tap, src + (size_t)(origin_x + kx * g->dil_w) * tap, tap);
                }
            }
            edgec_conv_mve_fill(dst + (size_t)kx1 * tap, g->pad, (size_t)(g->k_w - kx1) * tap);
        }
        dst += row_bytes;
    }
    return patch;
}

/* acc[4 * i + j] += x_i . w_j over k bytes for three windows x0..x2 and two weight rows w0, w1: a tail-predicated
 * low-overhead loop (DLSTP.8 / LETP: the last k % 16 bytes load under the loop's predicate, inactive lanes read as
 * 0 and are not summed). VMLADAVA's accumulator is an even register, hence the register variables. */
#if defined(__GNUC__)
__attribute__((noinline)) /* its own frame: the eleven operands' registers are free there */
#endif
static void edgec_conv_mve_dot3x2(const int8_t *x0, const int8_t *x1, const int8_t *x2, const int8_t *w0,
                                         const int8_t *w1, size_t k, int32_t *acc)
{
    register int32_t a0 __asm__("r0") = acc[0];
    register int32_t a1 __asm__("r2") = acc[4];
    register int32_t a2 __asm__("r4") = acc[8];
    register int32_t b0 __asm__("r6") = acc[1];
    register int32_t b1 __asm__("r8") = acc[5];
    register int32_t b2 __asm__("r10") = acc[9];
    register size_t n __asm__("lr") = k;
    __asm__ volatile("dlstp.8 lr, lr\n"
                     "1:\n\t"
                     "vldrb.8 q0, [%[x0]], #16\n\t"
                     "vldrb.8 q1, [%[x1]], #16\n\t"
                     "vldrb.8 q2, [%[x2]], #16\n\t"
                     "vldrb.8 q3, [%[w0]], #16\n\t"
                     "vmladava.s8 %[a0], q0, q3\n\t"
                     "vmladava.s8 %[a1], q1, q3\n\t"
                     "vmladava.s8 %[a2], q2, q3\n\t"
                     "vldrb.8 q3, [%[w1]], #16\n\t"
                     "vmladava.s8 %[b0], q0, q3\n\t"
                     "vmladava.s8 %[b1], q1, q3\n\t"
                     "vmladava.s8 %[b2], q2, q3\n\t"
                     "letp lr, 1b\n"
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [b0] "+r"(b0), [b1] "+r"(b1), [b2] "+r"(b2),
                       [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [w0] "+r"(w0), [w1] "+r"(w1), "+r"(n)
                     :
                     : "q0", "q1", "q2", "q3", "memory");
    acc[0] = a0;
    acc[4] = a1;
    acc[8] = a2;
    acc[1] = b0;
    acc[5] = b1;
    acc[9] = b2;
}

/* Every output channel of three positions with windows x[0..2] (out[i] NULL: no position i, x[i] a copy of x[0]). */
static inline void edgec_conv_mve_triple(const int8_t *const x[3], const int8_t *filter, size_t k,
                                         const int32_t *bias, const edgec_per_channel_quant *quant, int32_t out_c,
                                         edgec_mve_range range, int8_t *const out[3])
{
    for (int32_t oc = 0; oc < out_c; oc += 4) {
        const int32_t n = out_c - oc < 4 ? out_c - oc : 4;
        const int8_t *w0 = filter + (size_t)oc * k;
        const int8_t *w1 = n > 1 ? w0 + k : w0;
        const int8_t *w2 = n > 2 ? w0 + 2 * k : w0;
        const int8_t *w3 = n > 3 ? w0 + 3 * k : w0;
        const mve_pred16_t p = vctp32q((uint32_t)n);
        int32x4_t vb, m, s;
        if (n == 4) {
            vb = vldrwq_s32(bias + oc);
            m = vldrwq_s32(quant->multiplier + oc);
            s = vldrwq_s32(quant->shift + oc);
        } else {
            vb = vldrwq_z_s32(bias + oc, p);
            m = vldrwq_z_s32(quant->multiplier + oc, p);
            s = vldrwq_z_s32(quant->shift + oc, p);
        }
        int32_t acc[12]; /* acc[4 * i + j]: position i, channel oc + j, from the bias on */
        vstrwq_s32(acc, vb);
        vstrwq_s32(acc + 4, vb);
        vstrwq_s32(acc + 8, vb);
        edgec_conv_mve_dot3x2(x[0], x[1], x[2], w0, w1, k, acc);
        edgec_conv_mve_dot3x2(x[0], x[1], x[2], w2, w3, k, acc + 2);
        for (int32_t i = 0; i < 3; ++i) {
            if (out[i] == NULL) {
                break;
            }
            const int32x4_t a = vldrwq_s32(acc + 4 * i);
            const int32x4_t y = edgec_mve_requant(a, m, s, range);
            if (n == 4) {
                vstrbq_s32(out[i] + oc, y);
            } else {
                vstrbq_p_s32(out[i] + oc, y, p);
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
