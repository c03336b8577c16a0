/*
 * edgec runtime: int8 2-D convolution, fast path (see edgec_convolve_fast_s8 in edgec_nn.h).
 *
 * Same arguments and results as edgec_convolve_s8. Per output position the in-bounds tap range is computed once.
 * A window of at most PATCH_MAX bytes is copied into a stack buffer with its out-of-bounds taps set to pad_value
 * (a full 1 x KW window with dilation_w 1 is already contiguous and is used in place), so every output channel is
 * one dot product over the window. Larger windows use runs:
 * the taps of one kernel row that fall inside the input are contiguous in both the NHWC input and the OHWI
 * filter when dilation_w is 1 (one run of (kx1 - kx0) * IC bytes), so each kernel row is one dot product.
 * Four output channels are computed together (edgec_dot4_s8: the input is loaded and unpacked once for four
 * weight rows), on the DSP extension with SMLAD, on Helium with VMLADAVA, in portable C otherwise; leftover
 * channels use the single-row dot product. Border taps read pad_value: their contribution is the same dot
 * product over the missing taps' weights with a vector of pad values (so a border pixel costs about twice an
 * interior one). The 32-bit sums wrap like the reference's int32 accumulator.
 *
 * Four positions at a time first (consecutive in (batch, y, x) order, across rows and batches) where the window has
 * at most QUAD_TAPS (576 unless EDGEC_CONV_QUAD_TAPS says less) taps (edgec_conv_quad_s8.h): on the DSP extension the four windows are unpacked into an
 * int16 quad buffer (interior windows straight from the input rows) and each channel is one pass of SMLAD over
 * it; on the Cortex-M3 two pixels are packed per int32 and each SMLAL does two MACs. With the full int8 output
 * range (and on the DSP extension K >= 8) the whole channel loop, sums,
 * requantization and stores, is one assembly function per target; otherwise a C loop with the general clamp.
 * Stack of that walk (a separate frame): the 4608-byte quad buffer plus one (DSP) or two (M3) 576-byte window
 * copies. The leftover positions (at most three) then go to the pair and one-position walks below.
 *
 * Two positions at a time (consecutive in (batch, y, x) order, so odd widths pair across rows) where a register
 * blocked loop exists and the window has at most PAIR_TAPS taps (edgec_dot2px_s8.h): on the DSP extension both
 * windows are unpacked into an int16 stack buffer of 4 * PAIR_TAPS bytes and multiplied with two channels per
 * pass; on the Cortex-M3 (ARMv7-M, no DSP) both int8 windows (in place or in the two halves of the patch) with
 * three channels per pass. One channel of both positions is then requantized together (edgec_requantize_nonneg)
 * with the output range held in locals. An odd last position, and every position of larger windows, take the
 * one-position walk; Helium, the Cortex-M0 and RISC-V only that walk. Stack: the one-position walk 1088 bytes
 * (pad 64, patch 1024); the pair walk, a separate frame, on DSP targets a 576-byte window copy and the 2304-byte
 * pair buffer, on the Cortex-M3 two 576-byte window copies.
 */
#include "edgec_asm_opt.h" /* first: register-resident asm needs the allocator even at -O0 */
#include <stddef.h>
#include <string.h>

#include "edgec_conv_quad_s8.h"
#include "edgec_dot2px_s8.h"
#include "edgec_dot_s8.h"
#include "edgec_conv_common.h"
#include "edgec_finish4.h"
#include "edgec_convolve_mve_s8.h"

#define PAD_RUN 64 /* bytes of pad_value the border correction multiplies weights with per step */

/* acc[j] (j < n; n is 4 or 1) += pad * (weights of taps [r0, r1) x [c0, c1) of channel oc + j): one contiguous
 * weight run per kernel row, dotted in steps of PAD_RUN with a vector of pad values. */
static void add_pad_rect(const int8_t *pad, const int8_t *w_oc, size_t filter_per_oc, int32_t k_w, int32_t in_c,
                         int32_t r0, int32_t r1, int32_t c0, int32_t c1, int32_t n, uint32_t *acc)
{
    for (int32_t ky = r0; ky < r1; ++ky) {
        const int8_t *w = w_oc + ((size_t)ky * (size_t)k_w + (size_t)c0) * (size_t)in_c;
        size_t len = c1 > c0 ? (size_t)(c1 - c0) * (size_t)in_c : 0u;
        while (len > 0) {
            const size_t step = len < PAD_RUN ? len : PAD_RUN;
            if (n == 4) {
                edgec_dot4_s8(pad, w, filter_per_oc, step, acc);
            } else {
                acc[0] = edgec_dot1_s8(pad, w, step, acc[0]);
            }
            w += step;
            len -= step;
        }
    }
}

/* The taps outside [ky0, ky1) x [kx0, kx1) read pad_value: rows above and below, then left and right of the run. */
static void add_pad_taps(const int8_t *pad, const int8_t *w_oc, size_t filter_per_oc, int32_t k_h, int32_t k_w,
                         int32_t in_c, int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1, int32_t n, uint32_t *acc)
{
    add_pad_rect(pad, w_oc, filter_per_oc, k_w, in_c, 0, ky0, 0, k_w, n, acc);
    add_pad_rect(pad, w_oc, filter_per_oc, k_w, in_c, ky1, k_h, 0, k_w, n, acc);
    add_pad_rect(pad, w_oc, filter_per_oc, k_w, in_c, ky0, ky1, 0, kx0, n, acc);
    add_pad_rect(pad, w_oc, filter_per_oc, k_w, in_c, ky0, ky1, kx1, k_w, n, acc);
}

#define PATCH_MAX 1024 /* bytes of the per-position window copy (on the stack); larger windows use runs */

/* The window of one output position as KH * KW * IC contiguous bytes in the filter's (ky, kx, ic) order, taps
 * outside [ky0, ky1) x [kx0, kx1) set to pad: then the whole window is one dot product with each OHWI filter. */
static void fill_patch(int8_t *patch, const int8_t *in_batch, size_t row_stride, int32_t in_c, int32_t k_h,
                       int32_t k_w, int32_t dil_h, int32_t dil_w, int32_t origin_y, int32_t origin_x, int32_t ky0,
                       int32_t ky1, int32_t kx0, int32_t kx1, int pad)
{
    const size_t tap = (size_t)in_c;
    const size_t row_bytes = (size_t)k_w * tap;
    for (int32_t ky = 0; ky < k_h; ++ky) {
        int8_t *dst = patch + (size_t)ky * row_bytes;
        if (ky < ky0 || ky >= ky1) {
            memset(dst, pad, row_bytes);
            continue;
        }
        const int8_t *src = in_batch + (size_t)(origin_y + ky * dil_h) * row_stride;
        memset(dst, pad, (size_t)kx0 * tap);
        if (dil_w == 1) {
            memcpy(dst + (size_t)kx0 * tap, src + (size_t)(origin_x + kx0) * tap, (size_t)(kx1 - kx0) * tap);
        } else {
            for (int32_t kx = kx0; kx < kx1; ++kx) {
                memcpy(dst + (size_t)kx * tap, src + (size_t)(origin_x + kx * dil_w) * tap, tap);
            }
        }
        memset(dst + (size_t)kx1 * tap, pad, (size_t)(k_w - kx1) * tap);
    }
}

/* Every output channel of one position whose window is the contiguous x[0, len): four channels per pass. */
static int8_t *window_dot(const int8_t *x, const int8_t *filter, size_t len, const int32_t *bias,
                          const edgec_per_channel_quant *quant, const edgec_conv_params *params, int32_t out_c,
                          int8_t *out)
{
    int32_t oc = 0;
    for (; oc + 4 <= out_c; oc += 4) {
        uint32_t acc[4] = {(uint32_t)bias[oc], (uint32_t)bias[oc + 1], (uint32_t)bias[oc + 2], (uint32_t)bias[oc + 3]};
        edgec_dot4_s8(x, filter + (size_t)oc * len, len, len, acc);
        out = finish4(acc, quant->multiplier + oc, quant->shift + oc, params, 4, out);
    }
    for (; oc < out_c; ++oc) {
        const uint32_t acc = edgec_dot1_s8(x, filter + (size_t)oc * len, len, (uint32_t)bias[oc]);
        *out++ = finish(acc, quant->multiplier[oc], quant->shift[oc], params);
    }
    return out;
}

/* Whether two positions go together (where a register-blocked loop exists: edgec_dot2px_s8.h). */
#if defined(EDGEC_DOT_DSP) || defined(EDGEC_DOT_2X3_ASM)
#define EDGEC_CONV_PAIRS 1
#else
#define EDGEC_CONV_PAIRS 0
#endif

/* With pairs the two walks are separate functions, so their stack buffers are not live together; without, the
 * only walk is compiled into the entry point (as one function it allocates registers as before the pairs). */
#if defined(__GNUC__)
#define EDGEC_NOINLINE __attribute__((noinline))
#define EDGEC_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define EDGEC_NOINLINE
#define EDGEC_ALWAYS_INLINE inline
#endif
#if EDGEC_CONV_PAIRS
#define EDGEC_POSITIONS_INLINE EDGEC_NOINLINE
#else
#define EDGEC_POSITIONS_INLINE EDGEC_ALWAYS_INLINE
#endif

/* The output positions from the first-th on (in (batch, y, x) order), one at a time: the window copied into the
 * patch (or used in place) and dotted with four channels per pass, or for larger windows by runs. */
static EDGEC_POSITIONS_INLINE void convolve_positions(const edgec_conv_params *params,
                                                     const edgec_per_channel_quant *quant,
                                                     const edgec_dims *input_dims, const int8_t *input,
                                                     const edgec_dims *filter_dims, const int8_t *filter,
                                                     const int32_t *bias, const edgec_dims *output_dims,
                                                     size_t first, int8_t *output)
{
    const int32_t batches = input_dims->n;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t in_c = input_dims->c;
    const int32_t out_c = filter_dims->n;
    const int32_t k_h = filter_dims->h;
    const int32_t k_w = filter_dims->w;
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;

    const int32_t dil_h = params->dilation_h;
    const int32_t dil_w = params->dilation_w;
    const uint32_t pad_value = (uint32_t)params->pad_value;
    const size_t filter_per_oc = (size_t)k_h * (size_t)k_w * (size_t)in_c;
    const size_t row_stride = (size_t)in_w * (size_t)in_c;
    const size_t tap_step = (size_t)dil_w * (size_t)in_c;
    int8_t *out = output + first * (size_t)out_c;
#if EDGEC_CONV_PAIRS
    size_t position = 0;
#endif
    int8_t pad[PAD_RUN];
    int8_t patch[PATCH_MAX];
    memset(pad, params->pad_value, sizeof pad);

    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * (size_t)in_h * row_stride;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t origin_y = oy * params->stride_h - params->pad_top;
            int32_t ky0, ky1;
            valid_taps(origin_y, dil_h, k_h, in_h, &ky0, &ky1);
            for (int32_t ox = 0; ox < out_w; ++ox) {
#if EDGEC_CONV_PAIRS
                if (position++ < first) {
                    continue;
                }
#endif
                const int32_t origin_x = ox * params->stride_w - params->pad_left;
                int32_t kx0, kx1;
                valid_taps(origin_x, dil_w, k_w, in_w, &kx0, &kx1);
                const int full = ky0 == 0 && ky1 == k_h && kx0 == 0 && kx1 == k_w;
                const size_t row_taps = (size_t)(kx1 - kx0);
                /* One contiguous run per kernel row when dilation_w is 1, else one run per tap. */
                const size_t runs = dil_w == 1 ? (row_taps > 0 ? 1u : 0u) : row_taps;
                const size_t run_len = dil_w == 1 ? row_taps * (size_t)in_c : (size_t)in_c;
                const int8_t *in_first = in_batch + (size_t)(origin_x + kx0 * dil_w) * (size_t)in_c;
                const size_t w_first = (size_t)kx0 * (size_t)in_c;
                if (filter_per_oc <= PATCH_MAX) {
                    /* One run over the whole window: the input itself for a full single-row window, else a copy. */
                    const int8_t *x = in_first + (size_t)origin_y * row_stride;
                    if (!(full && k_h == 1 && dil_w == 1)) {
                        fill_patch(patch, in_batch, row_stride, in_c, k_h, k_w, dil_h, dil_w, origin_y, origin_x, ky0,
                                   ky1, kx0, kx1, params->pad_value);
                        x = patch;
                    }
                    out = window_dot(x, filter, filter_per_oc, bias, quant, params, out_c, out);
                    continue;
                }

                int32_t oc = 0;
                for (; oc + 4 <= out_c; oc += 4) {
                    const int8_t *w_oc = filter + (size_t)oc * filter_per_oc;
                    uint32_t acc[4] = {(uint32_t)bias[oc], (uint32_t)bias[oc + 1], (uint32_t)bias[oc + 2],
                                       (uint32_t)bias[oc + 3]};
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *x = in_first + (size_t)(origin_y + ky * dil_h) * row_stride;
                        const int8_t *w = w_oc + (size_t)ky * (size_t)k_w * (size_t)in_c + w_first;
                        for (size_t r = 0; r < runs; ++r) {
                            edgec_dot4_s8(x + r * tap_step, w + r * (size_t)in_c, filter_per_oc, run_len, acc);
                        }
                    }
                    if (!full && pad_value != 0u) {
                        add_pad_taps(pad, w_oc, filter_per_oc, k_h, k_w, in_c, ky0, ky1, kx0, kx1, 4, acc);
                    }
                    out = finish4(acc, quant->multiplier + oc, quant->shift + oc, params, 4, out);
                }
                for (; oc < out_c; ++oc) {
                    const int8_t *w_oc = filter + (size_t)oc * filter_per_oc;
                    uint32_t acc = (uint32_t)bias[oc];
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *x = in_first + (size_t)(origin_y + ky * dil_h) * row_stride;
                        const int8_t *w = w_oc + (size_t)ky * (size_t)k_w * (size_t)in_c + w_first;
                        for (size_t r = 0; r < runs; ++r) {
                            acc = edgec_dot1_s8(x + r * tap_step, w + r * (size_t)in_c, run_len, acc);
                        }
                    }
                    if (!full && pad_value != 0u) {
                        add_pad_taps(pad, w_oc, filter_per_oc, k_h, k_w, in_c, ky0, ky1, kx0, kx1, 1, &acc);
                    }
                    *out++ = finish(acc, quant->multiplier[oc], quant->shift[oc], params);
                }
            }
        }
    }
}

/* The geometry of one call, read once. */
typedef struct {
    const edgec_conv_params *params;
    const edgec_per_channel_quant *quant;
    const int8_t *input;
    const int8_t *filter;
    const int32_t *bias;
    int32_t in_h, in_w, in_c, out_c, k_h, k_w, out_h, out_w;
    size_t filter_per_oc; /* K = KH * KW * IC taps of one window */
    size_t row_stride;    /* bytes of one input row */
    size_t image_bytes;   /* bytes of one input image */
} conv_geometry;

/* The window of position (oy, ox) of batch b as K contiguous bytes: the input itself when that window is one
 * contiguous in-bounds run (a full 1 x KW window with dilation_w 1, e.g. every 1x1 window), else a copy in
 * patch (K <= PATCH_MAX) with its out-of-bounds taps set to pad_value. */
static inline const int8_t *window_bytes(const conv_geometry *g, int32_t b, int32_t oy, int32_t ox, int8_t *patch)
{
    const edgec_conv_params *params = g->params;
    const int8_t *in_batch = g->input + (size_t)b * g->image_bytes;
    const int32_t origin_y = oy * params->stride_h - params->pad_top;
    const int32_t origin_x = ox * params->stride_w - params->pad_left;
    int32_t ky0, ky1, kx0, kx1;
    valid_taps(origin_y, params->dilation_h, g->k_h, g->in_h, &ky0, &ky1);
    valid_taps(origin_x, params->dilation_w, g->k_w, g->in_w, &kx0, &kx1);
    if (g->k_h == 1 && params->dilation_w == 1 && ky0 == 0 && ky1 == 1 && kx0 == 0 && kx1 == g->k_w) {
        return in_batch + (size_t)origin_y * g->row_stride + (size_t)origin_x * (size_t)g->in_c;
    }
    fill_patch(patch, in_batch, g->row_stride, g->in_c, g->k_h, g->k_w, params->dilation_h, params->dilation_w,
               origin_y, origin_x, ky0, ky1, kx0, kx1, params->pad_value);
    return patch;
}

/* The output range of one call in locals (the int8 stores may alias params, so finish4 reads it per group). */
typedef struct {
    int32_t offset;
    int32_t lo; /* act_min - offset: the clamp applies before the offset is added */
    int32_t hi;
} out_range;

static inline out_range out_range_of(const edgec_conv_params *params)
{
    const out_range r = {params->output_offset, params->act_min - params->output_offset,
                         params->act_max - params->output_offset};
    return r;
}

/* finish() of one channel at two positions: the same requantization (edgec_requantize_nonneg, one fused
 * multiply-accumulate and shift; both calls inline and share the channel's constants), clamp and offset. */
static inline void finish_two(uint32_t acc0, uint32_t acc1, int32_t multiplier, int32_t shift, out_range r,
                              int8_t *out0, int8_t *out1)
{
    int32_t v0 = edgec_requantize_nonneg(edgec_wrap_int32(acc0), multiplier, shift);
    int32_t v1 = edgec_requantize_nonneg(edgec_wrap_int32(acc1), multiplier, shift);
    v0 = v0 < r.lo ? r.lo : (v0 > r.hi ? r.hi : v0);
    v1 = v1 < r.lo ? r.lo : (v1 > r.hi ? r.hi : v1);
    *out0 = (int8_t)(v0 + r.offset);
    *out1 = (int8_t)(v1 + r.offset);
}

#define PAIR_TAPS 576 /* windows up to this many taps (3x3x64) go two positions at a time */

#if defined(EDGEC_DOT_DSP)
#define PAIR_PATCH PAIR_TAPS /* the window copy, unpacked before the next is made */

/* Every output channel of two positions whose windows are x0 and x1 (K taps each): both unpacked once into the
 * pair buffer, then two channels per pass (edgec_dot2x2_s8), an odd last channel alone. */
static void convolve_pair(const conv_geometry *g, int32_t *pair, int8_t *out0, int8_t *out1)
{
    const size_t k = g->filter_per_oc;
    const int32_t *mult = g->quant->multiplier;
    const int32_t *shift = g->quant->shift;
    const out_range r = out_range_of(g->params);
    for (int32_t oc = 0; oc < g->out_c; oc += 2) {
        const int32_t n = g->out_c - oc >= 2 ? 2 : 1;
        const uint32_t b0 = (uint32_t)g->bias[oc];
        const uint32_t b1 = n == 2 ? (uint32_t)g->bias[oc + 1] : 0u;
        uint32_t acc0[2] = {b0, b1};
        uint32_t acc1[2] = {b0, b1};
        edgec_dot2x2_s8(pair, g->filter + (size_t)oc * k, k, k, n, acc0, acc1);
        finish_two(acc0[0], acc1[0], mult[oc], shift[oc], r, out0 + oc, out1 + oc);
        if (n == 2) {
            finish_two(acc0[1], acc1[1], mult[oc + 1], shift[oc + 1], r, out0 + oc + 1, out1 + oc + 1);
        }
    }
}
#elif defined(EDGEC_DOT_2X3_ASM)
#define PAIR_PATCH (2 * PAIR_TAPS) /* both windows' copies */

/* Every output channel of two positions whose windows are x0 and x1 (K bytes each): three channels per pass
 * (edgec_dot2x3_s8), the leftover channels one at a time. */
static void convolve_pair(const conv_geometry *g, const int8_t *x0, const int8_t *x1, int8_t *out0, int8_t *out1)
{
    const size_t k = g->filter_per_oc;
    const int32_t *mult = g->quant->multiplier;
    const int32_t *shift = g->quant->shift;
    const out_range r = out_range_of(g->params);
    int32_t oc = 0;
    for (; oc + 3 <= g->out_c; oc += 3) {
        const int32_t *b = g->bias + oc;
        uint32_t acc0[3] = {(uint32_t)b[0], (uint32_t)b[1], (uint32_t)b[2]};
        uint32_t acc1[3] = {(uint32_t)b[0], (uint32_t)b[1], (uint32_t)b[2]};
        edgec_dot2x3_s8(x0, x1, g->filter + (size_t)oc * k, k, k, acc0, acc1);
        for (int32_t j = 0; j < 3; ++j) {
            finish_two(acc0[j], acc1[j], mult[oc + j], shift[oc + j], r, out0 + oc + j, out1 + oc + j);
        }
    }
    for (; oc < g->out_c; ++oc) {
        uint32_t acc[2] = {(uint32_t)g->bias[oc], (uint32_t)g->bias[oc]};
        edgec_dot2x1_s8_c(x0, x1, g->filter + (size_t)oc * k, k, acc);
        finish_two(acc[0], acc[1], mult[oc], shift[oc], r, out0 + oc, out1 + oc);
    }
}
#endif

/* The next output position in (b, oy, ox) order. */
static inline void next_position(const conv_geometry *g, int32_t *b, int32_t *oy, int32_t *ox)
{
    if (++*ox == g->out_w) {
        *ox = 0;
        if (++*oy == g->out_h) {
            *oy = 0;
            ++*b;
        }
    }
}

#if EDGEC_CONV_PAIRS
/* The first 2 * floor(positions / 2) output positions, two at a time; returns how many. */
static void geometry_of(conv_geometry *g, const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                        const edgec_dims *input_dims, const int8_t *input, const edgec_dims *filter_dims,
                        const int8_t *filter, const int32_t *bias, const edgec_dims *output_dims)
{
    g->params = params;
    g->quant = quant;
    g->input = input;
    g->filter = filter;
    g->bias = bias;
    g->in_h = input_dims->h;
    g->in_w = input_dims->w;
    g->in_c = input_dims->c;
    g->out_c = filter_dims->n;
    g->k_h = filter_dims->h;
    g->k_w = filter_dims->w;
    g->out_h = output_dims->h;
    g->out_w = output_dims->w;
    g->filter_per_oc = (size_t)g->k_h * (size_t)g->k_w * (size_t)g->in_c;
    g->row_stride = (size_t)g->in_w * (size_t)g->in_c;
    g->image_bytes = (size_t)g->in_h * g->row_stride;
}

/* Position number first as (b, oy, ox). */
static inline void position_of(const conv_geometry *g, size_t first, int32_t *b, int32_t *oy, int32_t *ox)
{
    const size_t per_image = (size_t)g->out_h * (size_t)g->out_w;
    *b = (int32_t)(first / per_image);
    const size_t rest = first % per_image;
    *oy = (int32_t)(rest / (size_t)g->out_w);
    *ox = (int32_t)(rest % (size_t)g->out_w);
}

#if defined(EDGEC_CONV_QUADS) || defined(EDGEC_CONV_QUADS_PACKED)
/* Windows up to this many taps go four positions at a time; the quad walk's stack is about 8 bytes per tap (a
 * build may lower it with -DEDGEC_CONV_QUAD_TAPS=n, larger windows then take the pair walk). */
#if defined(EDGEC_CONV_QUAD_TAPS)
#define QUAD_TAPS EDGEC_CONV_QUAD_TAPS
#else
#define QUAD_TAPS PAIR_TAPS
#endif
#if QUAD_TAPS > PAIR_TAPS || QUAD_TAPS < 1
#error "EDGEC_CONV_QUAD_TAPS must be in [1, 576]"
#endif

/* finish() of one channel at four positions (out[0], out[stride], ...): the channel's requantization constants
 * made once (edgec_rq_right for a right shift) and the output range in locals. */
static inline void finish_quad(const int32_t acc[4], int32_t multiplier, int32_t shift, out_range r, int8_t *out,
                               size_t stride)
{
    if (!EDGEC_UNLIKELY(shift >= 0)) {
        const edgec_rq_right q = edgec_rq_right_make(multiplier, shift);
        for (int j = 0; j < 4; ++j) {
            int32_t v = edgec_requantize_right(acc[j], &q);
            v = v < r.lo ? r.lo : (v > r.hi ? r.hi : v);
            out[(size_t)j * stride] = (int8_t)(v + r.offset);
        }
    } else {
        for (int j = 0; j < 4; ++j) {
            int32_t v = edgec_requantize_nonneg(acc[j], multiplier, shift);
            v = v < r.lo ? r.lo : (v > r.hi ? r.hi : v);
            out[(size_t)j * stride] = (int8_t)(v + r.offset);
        }
    }
}

#endif

#if defined(EDGEC_CONV_QUADS)
/* The window of position (b, oy, ox) as pixel p of the quad buffer: unpacked straight from the input rows when
 * it lies inside the input and each kernel row is whole 4-tap chunks (KW * IC a multiple of 4, dilation_w 1),
 * else from window_bytes (the input itself or the patch copy). */
static inline void quad_unpack_position(const conv_geometry *g, int32_t b, int32_t oy, int32_t ox, int p,
                                        int8_t *patch, int32_t *quad)
{
    const edgec_conv_params *params = g->params;
    const size_t row_bytes = (size_t)g->k_w * (size_t)g->in_c;
    const int32_t origin_y = oy * params->stride_h - params->pad_top;
    const int32_t origin_x = ox * params->stride_w - params->pad_left;
    if (params->dilation_w == 1 && (g->k_h > 1 || row_bytes % 4u == 0u) && origin_y >= 0 && origin_x >= 0 &&
        origin_y + (g->k_h - 1) * params->dilation_h < g->in_h && origin_x + g->k_w <= g->in_w) {
        const int8_t *src = g->input + (size_t)b * g->image_bytes + (size_t)origin_y * g->row_stride +
                            (size_t)origin_x * (size_t)g->in_c;
        const size_t step = (size_t)params->dilation_h * g->row_stride;
        if (row_bytes % 4u == 0u) {
            int32_t *dst = quad + 2 * p;
            for (int32_t ky = 0; ky < g->k_h; ++ky) {
                dst = edgec_quad_unpack_chunks(src, row_bytes / 4u, dst);
                src += step;
            }
            return;
        }
        /* Rows of other lengths (e.g. 3x3 over 3 channels) copied without fill_patch's padding steps. */
        int8_t *dst = patch;
        for (int32_t ky = 0; ky < g->k_h; ++ky) {
            for (size_t i = 0; i < row_bytes; ++i) {
                dst[i] = src[i];
            }
            dst += row_bytes;
            src += step;
        }
        edgec_quad_unpack_s8(patch, g->filter_per_oc, p, quad);
        return;
    }
    edgec_quad_unpack_s8(window_bytes(g, b, oy, ox, patch), g->filter_per_oc, p, quad);
}

/* The first 4 * floor(positions / 4) output positions, four at a time (edgec_conv_quad_s8.h); returns how many. */
static EDGEC_NOINLINE size_t convolve_quads(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                           const edgec_dims *input_dims, const int8_t *input,
                                           const edgec_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                           const edgec_dims *output_dims, int8_t *output)
{
    conv_geometry g;
    geometry_of(&g, params, quant, input_dims, input, filter_dims, filter, bias, output_dims);
    int8_t patch[QUAD_TAPS];
    int32_t quad[EDGEC_QUAD_WORDS(QUAD_TAPS)];
    const size_t positions = (size_t)input_dims->n * (size_t)g.out_h * (size_t)g.out_w;
    const size_t out_c = (size_t)g.out_c;
    const size_t k = g.filter_per_oc;
    const out_range r = out_range_of(params);
    const int full_range = params->act_min == -128 && params->act_max == 127; /* the clamp is one SSAT */
    const int all_asm = full_range && k >= 8u; /* the assembly channel loop */
    int32_t b = 0, oy = 0, ox = 0;
    size_t done = 0;
    for (; done + 4 <= positions; done += 4) {
        for (int p = 0; p < 4; ++p) {
            quad_unpack_position(&g, b, oy, ox, p, patch, quad);
            next_position(&g, &b, &oy, &ox);
        }
        int8_t *out = output + done * out_c;
        if (all_asm) {
            edgec_quad_channels st = {quad, filter, bias, (uint32_t)(k / 8u * 64u), quant->shift, quant->multiplier,
                                      out, (uint32_t)out_c, (uint32_t)out_c, r.offset,
                                      (uint32_t)((k / 4u) % 2u + (k % 4u) * 2u)};
            edgec_conv_quad_channels_s8(&st);
            continue;
        }
        const int8_t *w = filter;
        for (size_t oc = 0; oc < out_c; ++oc) {
            int32_t acc[4];
            edgec_dot4px_s8(quad, w, k, bias[oc], acc);
            const int32_t shift = quant->shift[oc];
            if (full_range && shift < 0) {
                edgec_quad_finish_right(acc, quant->multiplier[oc], shift, r.offset, out + oc, out_c);
            } else {
                finish_quad(acc, quant->multiplier[oc], shift, r, out + oc, out_c);
            }
            w += k;
        }
    }
    return done;
}
#elif defined(EDGEC_CONV_QUADS_PACKED)
/* The first 4 * floor(positions / 4) output positions, four at a time (the packed pairs of edgec_conv_quad_s8.h
 * on the Cortex-M3); returns how many. */
static EDGEC_NOINLINE size_t convolve_quads(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                           const edgec_dims *input_dims, const int8_t *input,
                                           const edgec_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                           const edgec_dims *output_dims, int8_t *output)
{
    conv_geometry g;
    geometry_of(&g, params, quant, input_dims, input, filter_dims, filter, bias, output_dims);
    int8_t patch[2 * QUAD_TAPS]; /* both windows of a pair */
    int32_t quad[EDGEC_PACKED_WORDS(QUAD_TAPS)];
    const size_t positions = (size_t)input_dims->n * (size_t)g.out_h * (size_t)g.out_w;
    const size_t out_c = (size_t)g.out_c;
    const size_t k = g.filter_per_oc;
    const out_range r = out_range_of(params);
    const int all_asm = params->act_min == -128 && params->act_max == 127; /* the assembly channel loop */
    int32_t b = 0, oy = 0, ox = 0;
    size_t done = 0;
    for (; done + 4 <= positions; done += 4) {
        for (int pair = 0; pair < 2; ++pair) {
            const int8_t *x0 = window_bytes(&g, b, oy, ox, patch);
            next_position(&g, &b, &oy, &ox);
            const int8_t *x1 = window_bytes(&g, b, oy, ox, patch + QUAD_TAPS);
            next_position(&g, &b, &oy, &ox);
            edgec_quad_pack_pair_s8(x0, x1, k, pair, quad);
        }
        int8_t *out = output + done * out_c;
        if (all_asm) {
            edgec_quad_packed_channels st = {quad, filter, bias, (uint32_t)(k * 8u), EDGEC_PACKED_RUN * 8u,
                                             quant->shift, quant->multiplier, out, (uint32_t)out_c,
                                             (uint32_t)out_c, r.offset};
            if (k % 4u == 0u) {
                edgec_conv_quad_packed_channels_s8(&st);
            } else {
                edgec_conv_quad_packed_channels_tail_s8(&st);
            }
            continue;
        }
        const int8_t *w = filter;
        for (size_t oc = 0; oc < out_c; ++oc) {
            uint32_t sums[4];
            edgec_dot4px_packed(quad, w, k, bias[oc], sums);
            const int32_t acc[4] = {edgec_wrap_int32(sums[0]), edgec_wrap_int32(sums[1]), edgec_wrap_int32(sums[2]),
                                    edgec_wrap_int32(sums[3])};
            finish_quad(acc, quant->multiplier[oc], quant->shift[oc], r, out + oc, out_c);
            w += k;
        }
    }
    return done;
}
#endif

/* Output positions first, first + 1, ... two at a time while two remain; returns the position after the last. */
static EDGEC_NOINLINE size_t convolve_pairs(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                           const edgec_dims *input_dims, const int8_t *input,
                                           const edgec_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                           const edgec_dims *output_dims, size_t first, int8_t *output)
{
    conv_geometry g;
    geometry_of(&g, params, quant, input_dims, input, filter_dims, filter, bias, output_dims);

    int8_t patch[PAIR_PATCH];
#if defined(EDGEC_DOT_DSP)
    int32_t pair[EDGEC_PAIR_WORDS(PAIR_TAPS)];
#endif
    const size_t positions = (size_t)input_dims->n * (size_t)g.out_h * (size_t)g.out_w;
    const size_t out_c = (size_t)g.out_c;
    int32_t b, oy, ox;
    position_of(&g, first, &b, &oy, &ox);
    size_t done = first;
    for (; done + 2 <= positions; done += 2) {
        int8_t *out0 = output + done * out_c;
#if defined(EDGEC_DOT_DSP)
        edgec_pair_unpack_s8(window_bytes(&g, b, oy, ox, patch), g.filter_per_oc, 0, pair);
        next_position(&g, &b, &oy, &ox);
        edgec_pair_unpack_s8(window_bytes(&g, b, oy, ox, patch), g.filter_per_oc, 1, pair);
        next_position(&g, &b, &oy, &ox);
        convolve_pair(&g, pair, out0, out0 + out_c);
#else
        const int8_t *x0 = window_bytes(&g, b, oy, ox, patch);
        next_position(&g, &b, &oy, &ox);
        const int8_t *x1 = window_bytes(&g, b, oy, ox, patch + PAIR_TAPS);
        next_position(&g, &b, &oy, &ox);
        convolve_pair(&g, x0, x1, out0, out0 + out_c);
#endif
    }
    return done;
}
#endif

edgec_status edgec_convolve_fast_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                    const edgec_dims *input_dims, const int8_t *input,
                                    const edgec_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                    const edgec_dims *output_dims, int8_t *output)
{
    if (!convolve_args_ok(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output)) {
        return EDGEC_ARG_ERROR;
    }
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) /* Helium: edgec_convolve_mve_s8.h */
    if (edgec_convolve_mve_s8(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output)) {
        return EDGEC_OK;
    }
#endif
    size_t done = 0;
#if EDGEC_CONV_PAIRS /* elsewhere one position at a time (Helium's 16-lane dot products are already wide) */
    if ((size_t)filter_dims->h * (size_t)filter_dims->w * (size_t)filter_dims->c <= PAIR_TAPS) {
#if defined(EDGEC_CONV_QUADS) || defined(EDGEC_CONV_QUADS_PACKED)
        if ((size_t)filter_dims->h * (size_t)filter_dims->w * (size_t)filter_dims->c <= QUAD_TAPS) {
            done = convolve_quads(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output);
        }
#endif
        done = convolve_pairs(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, done, output);
    }
#endif
    convolve_positions(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, done, output);
    return EDGEC_OK;
}
