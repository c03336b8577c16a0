/*
 * edgec runtime: int8 depthwise 2-D convolution, fast path for depth_multiplier 1
 * (see edgec_depthwise_conv_fast_s8 in edgec_nn.h).
 *
 * Same results as edgec_depthwise_conv_s8. With one filter per input channel, channel c of a tap is at the same
 * offset c in the NHWC input pixel and in the [KH][KW][C] filter row, so channels vectorise directly:
 *  - DSP extension: four channels per 32-bit load; SXTB16 splits even and odd bytes into halfwords and
 *    SMLABB / SMLATT multiply-accumulate each halfword into its channel's accumulator;
 *  - Helium: four channels per VLDRB.S32 (bytes widened to 32-bit lanes), VMUL and VADD per tap, the channel tail
 *    under a VCTP predicate;
 *  - portable C: four scalar accumulators.
 * Off Helium (and off Armv6-M / Armv8-M Baseline), 3x3 undilated windows with horizontal stride 1 or 2 take the
 * int16 band path of edgec_dw3x3_band.h first (SMLAD on two outputs at a time with DSP); shapes it declines
 * (rows too wide for its buffer, other strides, stride 2 over few outputs) take the paths below.
 * The in-bounds tap range is computed once per output position; border taps are the same multiply-accumulate
 * over the missing taps' weights with a vector of pad values (input strides 0).
 * Sums wrap like the reference's int32 accumulator.
 */
#include <stddef.h>
#include <string.h>

#include "edgec_dot_s8.h"
#include "edgec_conv_common.h"
#include "edgec_finish4.h"
#include "edgec_depthwise_mve_s8.h"

/* The int16 band path for 3x3 windows (edgec_dw3x3_band.h, behind edgec_dw3x3_band_s8): off Helium, and not on
 * the small-stack Armv6-M / Armv8-M Baseline cores (its buffer is up to 4 KiB of stack). */
#include "edgec_dw3x3_band_s8.h"

/* Sum of channel c's weights over the taps outside [ky0, ky1) x [kx0, kx1). */
static uint32_t missing_weight_sum(const int8_t *filter, int32_t k_h, int32_t k_w, int32_t channels, int32_t c,
                                   int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1)
{
    uint32_t sum = 0;
    for (int32_t ky = 0; ky < k_h; ++ky) {
        const int row_inside = ky >= ky0 && ky < ky1;
        for (int32_t kx = 0; kx < k_w; ++kx) {
            if (!(row_inside && kx >= kx0 && kx < kx1)) {
                const int32_t w = filter[((size_t)ky * (size_t)k_w + (size_t)kx) * (size_t)channels + (size_t)c];
                sum += (uint32_t)w;
            }
        }
    }
    return sum;
}

#if defined(EDGEC_DOT_DSP)
/* One tap of four channels: even bytes by SMLABB / SMLATT from the SXTB16 halves, odd bytes after the rotate. */
static inline void tap_dsp(const int8_t *xp, const int8_t *wp, int32_t *a0, int32_t *a1, int32_t *a2, int32_t *a3)
{
    const int32_t xv = edgec_load_s8x4(xp);
    const int32_t wv = edgec_load_s8x4(wp);
    const int32_t xe = __sxtb16(xv);
    const int32_t we = __sxtb16(wv);
    const int32_t xo = edgec_sxtb16_odd(xv);
    const int32_t wo = edgec_sxtb16_odd(wv);
    *a0 = __smlabb(xe, we, *a0);
    *a2 = __smlatt(xe, we, *a2);
    *a1 = __smlabb(xo, wo, *a1);
    *a3 = __smlatt(xo, wo, *a3);
}

/* One kernel row of three taps. */
static inline void row3_dsp(const int8_t *x, size_t x_tap, const int8_t *w, size_t w_tap, int32_t *a0, int32_t *a1,
                            int32_t *a2, int32_t *a3)
{
    tap_dsp(x, w, a0, a1, a2, a3);
    tap_dsp(x + x_tap, w + w_tap, a0, a1, a2, a3);
    tap_dsp(x + 2 * x_tap, w + 2 * w_tap, a0, a1, a2, a3);
}
#endif

#if defined(EDGEC_DOT_MVE)
/* Four int8 lanes widened to int32: unpredicated for a whole group (n == 4, folded at the call), else the lanes
 * past n read as 0 without touching memory. */
static inline int32x4_t load4(const int8_t *ptr, int32_t n, mve_pred16_t p)
{
    return n == 4 ? vldrbq_s32(ptr) : vldrbq_z_s32(ptr, p);
}
#endif

/* acc[j] += sum over the in-bounds taps of x[tap][c + j] * w[tap][c + j], j < n (n <= 4; n == 4 off Helium). */
static inline void taps4(const int8_t *x, size_t x_row, size_t x_tap, const int8_t *w, size_t w_row, size_t w_tap,
                         int32_t rows, int32_t cols, int32_t n, uint32_t acc[4])
{
#if defined(EDGEC_DOT_MVE)
    const mve_pred16_t p = vctp32q((uint32_t)n);
    int32x4_t a = n == 4 ? vldrwq_s32((const int32_t *)(const void *)acc)
                         : vldrwq_z_s32((const int32_t *)(const void *)acc, p);
    if (rows == 3 && cols == 3) { /* the common 3x3 window, unrolled */
        for (int32_t r = 0; r < 3; ++r) {
            a = vaddq_s32(a, vmulq_s32(load4(x, n, p), load4(w, n, p)));
            a = vaddq_s32(a, vmulq_s32(load4(x + x_tap, n, p), load4(w + w_tap, n, p)));
            a = vaddq_s32(a, vmulq_s32(load4(x + 2 * x_tap, n, p), load4(w + 2 * w_tap, n, p)));
            x += x_row;
            w += w_row;
        }
        rows = 0;
    }
    for (int32_t r = 0; r < rows; ++r) {
        for (int32_t k = 0; k < cols; ++k) {
            a = vaddq_s32(a, vmulq_s32(load4(x + (size_t)k * x_tap, n, p), load4(w + (size_t)k * w_tap, n, p)));
        }
        x += x_row;
        w += w_row;
    }
    vstrwq_s32((int32_t *)(void *)acc, a); /* lanes past n stay 0 + 0 * 0 */
#elif defined(EDGEC_DOT_DSP)
    (void)n;
    int32_t a0 = (int32_t)acc[0];
    int32_t a1 = (int32_t)acc[1];
    int32_t a2 = (int32_t)acc[2];
    int32_t a3 = (int32_t)acc[3];
    if (rows == 3 && cols == 3) { /* the common 3x3 window, unrolled, accumulators in registers */
        row3_dsp(x, x_tap, w, w_tap, &a0, &a1, &a2, &a3);
        row3_dsp(x + x_row, x_tap, w + w_row, w_tap, &a0, &a1, &a2, &a3);
        row3_dsp(x + 2 * x_row, x_tap, w + 2 * w_row, w_tap, &a0, &a1, &a2, &a3);
        rows = 0;
    }
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *xp = x;
        const int8_t *wp = w;
        for (int32_t k = 0; k < cols; ++k) {
            tap_dsp(xp, wp, &a0, &a1, &a2, &a3);
            xp += x_tap;
            wp += w_tap;
        }
        x += x_row;
        w += w_row;
    }
    acc[0] = (uint32_t)a0;
    acc[1] = (uint32_t)a1;
    acc[2] = (uint32_t)a2;
    acc[3] = (uint32_t)a3;
#else
    (void)n;
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *xp = x;
        const int8_t *wp = w;
        for (int32_t k = 0; k < cols; ++k) {
            acc[0] += (uint32_t)((int32_t)xp[0] * wp[0]);
            acc[1] += (uint32_t)((int32_t)xp[1] * wp[1]);
            acc[2] += (uint32_t)((int32_t)xp[2] * wp[2]);
            acc[3] += (uint32_t)((int32_t)xp[3] * wp[3]);
            xp += x_tap;
            wp += w_tap;
        }
        x += x_row;
        w += w_row;
    }
#endif
}

/* Outputs of channels [0, n) of one position (n <= 4; n == 4 off Helium): bias, in-bounds taps, the missing taps
 * times pad (when pad is not NULL), requantized. x, w and wc (the filter at tap 0) point at the first channel. */
static inline int8_t *channel_group(const int8_t *x, size_t x_row, size_t x_tap, const int8_t *w, const int8_t *wc,
                                    size_t w_row, size_t pixel, int32_t k_h, int32_t k_w, int32_t ky0, int32_t ky1,
                                    int32_t kx0, int32_t kx1, const int8_t *pad, const int32_t *bias,
                                    const int32_t *multiplier, const int32_t *shift, const edgec_conv_params *params,
                                    int32_t n, int8_t *out)
{
    uint32_t acc[4] = {0, 0, 0, 0};
    for (int32_t j = 0; j < n; ++j) {
        acc[j] = (uint32_t)bias[j];
    }
    taps4(x, x_row, x_tap, w, w_row, pixel, ky1 - ky0, kx1 - kx0, n, acc);
    if (pad != NULL) {
        /* Missing taps: above, below, left and right of the in-bounds rectangle, times pad (input strides 0). */
        taps4(pad, 0, 0, wc, w_row, pixel, ky0, k_w, n, acc);
        taps4(pad, 0, 0, wc + (size_t)ky1 * w_row, w_row, pixel, k_h - ky1, k_w, n, acc);
        taps4(pad, 0, 0, wc + (size_t)ky0 * w_row, w_row, pixel, ky1 - ky0, kx0, n, acc);
        taps4(pad, 0, 0, wc + (size_t)ky0 * w_row + (size_t)kx1 * pixel, w_row, pixel, ky1 - ky0, k_w - kx1, n, acc);
    }
    return finish4(acc, multiplier, shift, params, n, out);
}

#if !defined(EDGEC_DOT_MVE)
/* Geometry of the 3x3 interior pass: unit dilation, the output box [oy0, oy1) x [ox0, ox1) whose windows lie
 * inside the input, and the strides of the NHWC tensors. */
typedef struct {
    int32_t oy0, oy1, ox0, ox1;
    size_t pixel, in_row, in_step, out_row;
} interior3x3;

/* Interior outputs of channels [c, c + 4) of one batch, the nine taps unrolled, no border test. x and out point at
 * the batch's first pixel. With hoisted (a constant at both calls), the group's requantization constants q stay in
 * a local table across the box; otherwise finish4. Geometry, bias and weights are copied to locals, which the
 * output stores cannot alias, so they stay in registers or one load away. */
static inline void group3x3_box(const interior3x3 *g, const edgec_conv_params *params, const int8_t *x,
                                const int8_t *filter, const int32_t *bias, const int32_t *multiplier,
                                const int32_t *shift, int32_t c, int8_t *out, const edgec_rq_right q[4], int hoisted)
{
    const interior3x3 box = *g;
    const int32_t offset = params->output_offset;
    const int32_t lo = params->act_min;
    const int32_t hi = params->act_max;
    const size_t x_first = (size_t)(box.ox0 * params->stride_w - params->pad_left) * box.pixel + (size_t)c;
    const int32_t stride_h = params->stride_h;
    const int32_t pad_top = params->pad_top;
    const uint32_t b0 = (uint32_t)bias[c];
    const uint32_t b1 = (uint32_t)bias[c + 1];
    const uint32_t b2 = (uint32_t)bias[c + 2];
    const uint32_t b3 = (uint32_t)bias[c + 3];
    int8_t w[36];
    for (int32_t t = 0; t < 9; ++t) {
        memcpy(w + 4 * t, filter + (size_t)t * box.pixel + (size_t)c, 4);
    }
    edgec_per_channel_quant group_quant = {multiplier + c, shift + c};
    for (int32_t oy = box.oy0; oy < box.oy1; ++oy) {
        const int8_t *xp = x + (size_t)(oy * stride_h - pad_top) * box.in_row + x_first;
        int8_t *op = out + (size_t)oy * box.out_row + (size_t)box.ox0 * box.pixel + (size_t)c;
        for (int32_t ox = box.ox0; ox < box.ox1; ++ox) {
            uint32_t acc[4] = {b0, b1, b2, b3};
            taps4(xp, box.in_row, box.pixel, w, 12, 4, 3, 3, 4, acc);
            if (hoisted) {
                op[0] = (int8_t)edgec_offset_clamp(edgec_requantize_right((int32_t)acc[0], &q[0]), offset, lo, hi);
                op[1] = (int8_t)edgec_offset_clamp(edgec_requantize_right((int32_t)acc[1], &q[1]), offset, lo, hi);
                op[2] = (int8_t)edgec_offset_clamp(edgec_requantize_right((int32_t)acc[2], &q[2]), offset, lo, hi);
                op[3] = (int8_t)edgec_offset_clamp(edgec_requantize_right((int32_t)acc[3], &q[3]), offset, lo, hi);
            } else {
                (void)finish4(acc, group_quant.multiplier, group_quant.shift, params, 4, op);
            }
            xp += box.in_step;
            op += box.pixel;
        }
    }
}

/* group3x3_box for channels [c, c + 4), with the requantization constants hoisted when every shift is negative. */
static void group3x3(const interior3x3 *g, const edgec_conv_params *params, const int8_t *x, const int8_t *filter,
                     const int32_t *bias, const int32_t *multiplier, const int32_t *shift, int32_t c, int8_t *out)
{
    edgec_rq_right q[4] = {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}};
    int hoisted = 1;
    for (int32_t j = 0; j < 4; ++j) {
        if (shift[c + j] >= 0) {
            hoisted = 0;
        } else {
            q[j] = edgec_rq_right_make(multiplier[c + j], shift[c + j]);
        }
    }
    if (hoisted) {
        group3x3_box(g, params, x, filter, bias, multiplier, shift, c, out, q, 1);
    } else {
        group3x3_box(g, params, x, filter, bias, multiplier, shift, c, out, q, 0);
    }
}

/* Channels per window copy of a border position (the copy is 9 * BORDER_CHANNELS bytes of stack). */
#define BORDER_CHANNELS 64

/* One border output position, channels [0, groups4): the 3x3 window is copied chunk by chunk into a local buffer,
 * the pad value in place of the taps outside the input, and takes the unrolled nine-tap path. x points at the
 * batch's first pixel; (origin_y, origin_x) is the window's top-left input position. */
static int8_t *border3x3(const edgec_conv_params *params, const int8_t *x, int32_t in_h, int32_t in_w, size_t pixel,
                         int32_t origin_y, int32_t origin_x, const int8_t *filter, const int32_t *bias,
                         const edgec_per_channel_quant *quant, int32_t groups4, int8_t *out)
{
    int8_t win[9 * BORDER_CHANNELS];
    for (int32_t c0 = 0; c0 < groups4; c0 += BORDER_CHANNELS) {
        const int32_t chunk = groups4 - c0 < BORDER_CHANNELS ? groups4 - c0 : BORDER_CHANNELS;
        for (int32_t t = 0; t < 9; ++t) {
            const int32_t iy = origin_y + t / 3;
            const int32_t ix = origin_x + t % 3;
            int8_t *dst = win + (size_t)t * (size_t)chunk;
            if (iy >= 0 && iy < in_h && ix >= 0 && ix < in_w) {
                memcpy(dst, x + ((size_t)iy * (size_t)in_w + (size_t)ix) * pixel + (size_t)c0, (size_t)chunk);
            } else {
                memset(dst, params->pad_value, (size_t)chunk);
            }
        }
        for (int32_t c = 0; c < chunk; c += 4) {
            uint32_t acc[4] = {(uint32_t)bias[c0 + c], (uint32_t)bias[c0 + c + 1], (uint32_t)bias[c0 + c + 2],
                               (uint32_t)bias[c0 + c + 3]};
            taps4(win + c, 3 * (size_t)chunk, (size_t)chunk, filter + c0 + c, 3 * pixel, pixel, 3, 3, 4, acc);
            out = finish4(acc, quant->multiplier + c0 + c, quant->shift + c0 + c, params, 4, out);
        }
    }
    return out;
}

/* First output index whose window starts inside the input, and one past the last whose window ends inside it
 * (ox * stride - pad in [0, size - 3]); an empty range when there is none. */
static void interior_range(int32_t size, int32_t stride, int32_t pad, int32_t out, int32_t *first, int32_t *last)
{
    const int32_t a = (pad + stride - 1) / stride;
    int32_t b = size - 3 + pad < 0 ? 0 : (size - 3 + pad) / stride + 1;
    b = b > out ? out : b;
    *first = a < b ? a : b;
    *last = b;
}
#endif

edgec_status edgec_depthwise_conv_fast_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                          const edgec_dims *input_dims, const int8_t *input,
                                          const edgec_dims *filter_dims, const int8_t *filter,
                                          const int32_t *bias, const edgec_dims *output_dims, int8_t *output)
{
    if (!depthwise_args_ok(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output) ||
        params->depth_multiplier != 1) {
        return EDGEC_ARG_ERROR;
    }
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) /* Helium: edgec_depthwise_mve_s8.h */
    return edgec_depthwise_conv_mve_s8(params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                                       output);
#endif
    const int32_t batches = input_dims->n;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t chans = input_dims->c;
    const int32_t k_h = filter_dims->h;
    const int32_t k_w = filter_dims->w;
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;

    const int32_t dil_h = params->dilation_h;
    const int32_t dil_w = params->dilation_w;
    const uint32_t pad_value = (uint32_t)params->pad_value;
    const size_t pixel = (size_t)chans;
    const size_t x_row = (size_t)dil_h * (size_t)in_w * pixel; /* input bytes between kernel rows */
    const size_t x_tap = (size_t)dil_w * pixel;                /* input bytes between kernel columns */
    const size_t w_row = (size_t)k_w * pixel;
    int8_t *out = output;
    int8_t pad[4];
    memset(pad, params->pad_value, sizeof pad);

    /* Off Helium, channels [0, groups4) of a 3x3 undilated window take the unrolled nine taps: the interior
     * channel-group outer (group3x3), border positions from a padded window copy (border3x3); the loop below then
     * starts every position at channel groups4. */
#if defined(EDGEC_DW3_BAND)
    if (k_h == 3 && k_w == 3 && dil_h == 1 && dil_w == 1 &&
        edgec_dw3x3_band_s8(params, quant, input_dims, input, filter, NULL, bias, output_dims, output)) {
        return EDGEC_OK;
    }
#endif
    int32_t groups4 = 0;
#if !defined(EDGEC_DOT_MVE)
    int32_t iy0 = 0, iy1 = 0, ix0 = 0, ix1 = 0;
    if (k_h == 3 && k_w == 3 && dil_h == 1 && dil_w == 1) {
        groups4 = chans & ~3;
        interior_range(in_h, params->stride_h, params->pad_top, out_h, &iy0, &iy1);
        interior_range(in_w, params->stride_w, params->pad_left, out_w, &ix0, &ix1);
        const interior3x3 g = {iy0, iy1, ix0, ix1, pixel, (size_t)in_w * pixel,
                               (size_t)params->stride_w * pixel, (size_t)out_w * pixel};
        for (int32_t b = 0; b < batches; ++b) {
            const int8_t *in_batch = input + (size_t)b * (size_t)in_h * (size_t)in_w * pixel;
            int8_t *out_batch = output + (size_t)b * (size_t)out_h * g.out_row;
            for (int32_t c = 0; c < groups4; c += 4) {
                group3x3(&g, params, in_batch, filter, bias, quant->multiplier, quant->shift, c, out_batch);
            }
        }
    }
#endif

    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * (size_t)in_h * (size_t)in_w * pixel;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t origin_y = oy * params->stride_h - params->pad_top;
            int32_t ky0, ky1;
            valid_taps(origin_y, dil_h, k_h, in_h, &ky0, &ky1);
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t origin_x = ox * params->stride_w - params->pad_left;
                int32_t kx0, kx1;
                valid_taps(origin_x, dil_w, k_w, in_w, &kx0, &kx1);
                const int full = ky0 == 0 && ky1 == k_h && kx0 == 0 && kx1 == k_w;
                const int8_t *x0 = in_batch + ((size_t)(origin_y + ky0 * dil_h) * (size_t)in_w +
                                               (size_t)(origin_x + kx0 * dil_w)) * pixel;
                const int8_t *w0 = filter + ((size_t)ky0 * (size_t)k_w + (size_t)kx0) * pixel;
                const int8_t *pad_taps = full || pad_value == 0u ? NULL : pad;
                out = output + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * pixel;
#if !defined(EDGEC_DOT_MVE)
                const int inner = oy >= iy0 && oy < iy1 && ox >= ix0 && ox < ix1;
                if (groups4 > 0 && !inner) {
                    (void)border3x3(params, in_batch, in_h, in_w, pixel, origin_y, origin_x, filter, bias, quant,
                                    groups4, out);
                }
#endif
                out += groups4;
                int32_t c = groups4;
                for (; c + 4 <= chans; c += 4) {
                    out = channel_group(x0 + c, x_row, x_tap, w0 + c, filter + c, w_row, pixel, k_h, k_w, ky0, ky1,
                                        kx0, kx1, pad_taps, bias + c, quant->multiplier + c,
                                        quant->shift + c, params, 4, out);
                }
#if defined(EDGEC_DOT_MVE)
                if (c < chans) { /* the last 1-3 channels, predicated */
                    out = channel_group(x0 + c, x_row, x_tap, w0 + c, filter + c, w_row, pixel, k_h, k_w, ky0, ky1,
                                        kx0, kx1, pad_taps, bias + c, quant->multiplier + c,
                                        quant->shift + c, params, chans - c, out);
                    c = chans;
                }
#endif
                for (; c < chans; ++c) {
                    uint32_t acc = (uint32_t)bias[c];
                    const int8_t *xr = x0 + c;
                    const int8_t *wr = w0 + c;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        for (int32_t k = 0; k < kx1 - kx0; ++k) {
                            acc += (uint32_t)((int32_t)xr[(size_t)k * x_tap] * wr[(size_t)k * pixel]);
                        }
                        xr += x_row;
                        wr += w_row;
                    }
                    if (!full && pad_value != 0u) {
                        acc += pad_value * missing_weight_sum(filter, k_h, k_w, chans, c, ky0, ky1, kx0, kx1);
                    }
                    *out++ = finish(acc, quant->multiplier[c], quant->shift[c], params);
                }
            }
        }
    }
    return EDGEC_OK;
}
