/*
 * edgec runtime, internal to edgec_depthwise_conv_fast_s8.c: the Helium (MVE) path of the depthwise convolution
 * with depth multiplier 1 (compiled only where __ARM_FEATURE_MVE has integer MVE).
 *
 * 3x3 undilated stride-1 windows whose output map is the input's (one row and column of padding), at least 4 rows
 * and 3 columns, every channel shifting right by at most 24 and a map row of at most EDGEC_DW_MVE_BAND bytes: four
 * output rows of one channel per int32 vector (edgec_dw_rows_asm, described where it is defined). Otherwise:
 *
 * Channels are the lanes: channel c of a tap is at offset c both in the NHWC input pixel and in the [KH][KW][C]
 * filter row. Eight channels per step: VLDRB.S16 widens eight int8 inputs and eight weights to int16 lanes,
 * VMULL(B/T).S16 multiplies the even and the odd lanes into 32-bit products, added into two int32x4 accumulators
 * (even and odd channels); bias, multipliers and shifts are loaded in the same even/odd order, four lanes are
 * requantized at a time (edgec_mve_requant.h), VQMOVN(B/T) narrows the two halves with saturation back into
 * channel order, the clamp is applied to the int16 lanes and VSTRB.16 stores eight int8 outputs.
 *  - 3x3 undilated windows, whole groups of eight channels: edgec_dw_mve_asm3x3, a naked assembly routine (every
 *    value in a register); a row's run of windows inside the input goes in one call when the channel count is a
 *    multiple of eight; a border window (up to EDGEC_DW_MVE_WINDOW channels) is first copied with pad_value in
 *    place of its missing taps. The last 1-7 channels take the C step below under VCTP predicates.
 *  - other windows: the C step with per-tap input pointers (a row of pad values for the taps outside the input),
 *    or, for more channels or taps than the stack buffers hold, the in-bounds rectangle of taps plus pad_value
 *    times the weights of the missing ones.
 * Sums wrap like the reference's int32 accumulator (int8 x int8 products are exact in 32 bits).
 */
#ifndef EDGEC_DEPTHWISE_MVE_S8_H
#define EDGEC_DEPTHWISE_MVE_S8_H

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "edgec_conv_common.h"
#include "edgec_mve_copy.h"
#include "edgec_mve_requant.h"

/* Eight (or, predicated, the first n) channels of one int8 vector, widened to int16 lanes. */
static inline int16x8_t edgec_dw_mve_load(const int8_t *p, int whole, mve_pred16_t p16)
{
    return whole ? vldrbq_s16(p) : vldrbq_z_s16(p, p16);
}

/* acc += x * w lane by lane for eight int16 channels: even channels into *ae, odd into *ao. */
static inline void edgec_dw_mve_mac(int16x8_t x, int16x8_t w, int32x4_t *ae, int32x4_t *ao)
{
    *ae = vaddq_s32(*ae, vmullbq_int_s16(x, w));
    *ao = vaddq_s32(*ao, vmulltq_int_s16(x, w));
}

/* The geometry of one position's window. */
typedef struct {
    const int8_t *x;   /* input at the first in-bounds tap, channel 0 */
    const int8_t *w;   /* filter at the first in-bounds tap, channel 0 */
    int32_t ky0, ky1, kx0, kx1;
    int full3x3;       /* a whole 3x3 undilated window */
    int pad;           /* the missing taps need pad * weight */
} edgec_dw_mve_window;

/* The per-call constants. */
typedef struct {
    const int8_t *filter;
    const int32_t *bias;
    const int32_t *multiplier;
    const int32_t *shift;
    size_t pixel, x_row, x_tap, w_row;
    int32_t k_h, k_w;
    int16x8_t pad;
    edgec_mve_range range;
    int32_t offset;
    int16_t lo, hi;
} edgec_dw_mve_call;

/* Outputs of channels [c, c + n) (n <= 8; whole: n == 8) of one position: the general path (any channel count and
 * window), the in-bounds rectangle of taps and then pad times the weights of the missing ones. */
static inline void edgec_dw_mve_group(const edgec_dw_mve_call *k, const edgec_dw_mve_window *win, int32_t c,
                                      int32_t n, int whole, int8_t *out)
{
    const mve_pred16_t p16 = vctp16q((uint32_t)n);
    const mve_pred16_t pe = vctp32q((uint32_t)(n + 1) >> 1);
    const mve_pred16_t po = vctp32q((uint32_t)n >> 1);
    const uint32x4_t even = vidupq_n_u32(0, 2);
    const uint32x4_t odd = vidupq_n_u32(1, 2);
    int32x4_t ae = whole ? vldrwq_gather_shifted_offset_s32(k->bias + c, even)
                         : vldrwq_gather_shifted_offset_z_s32(k->bias + c, even, pe);
    int32x4_t ao = whole ? vldrwq_gather_shifted_offset_s32(k->bias + c, odd)
                         : vldrwq_gather_shifted_offset_z_s32(k->bias + c, odd, po);
    const int8_t *x = win->x + c;
    const int8_t *w = win->w + c;
    if (win->full3x3) {
        const size_t xt = k->x_tap;
        const size_t wt = k->pixel;
        for (int32_t r = 0; r < 3; ++r) {
            edgec_dw_mve_mac(edgec_dw_mve_load(x, whole, p16), edgec_dw_mve_load(w, whole, p16), &ae, &ao);
            edgec_dw_mve_mac(edgec_dw_mve_load(x + xt, whole, p16), edgec_dw_mve_load(w + wt, whole, p16), &ae,
                             &ao);
            edgec_dw_mve_mac(edgec_dw_mve_load(x + 2 * xt, whole, p16), edgec_dw_mve_load(w + 2 * wt, whole, p16),
                             &ae, &ao);
            x += k->x_row;
            w += k->w_row;
        }
    } else {
        for (int32_t ky = win->ky0; ky < win->ky1; ++ky) {
            const int8_t *xp = x;
            const int8_t *wp = w;
            for (int32_t kx = win->kx0; kx < win->kx1; ++kx) {
                edgec_dw_mve_mac(edgec_dw_mve_load(xp, whole, p16), edgec_dw_mve_load(wp, whole, p16), &ae, &ao);
                xp += k->x_tap;
                wp += k->pixel;
            }
            x += k->x_row;
            w += k->w_row;
        }
        if (win->pad) { /* the taps outside the rectangle read pad_value */
            const int8_t *wr = k->filter + c;
            for (int32_t ky = 0; ky < k->k_h; ++ky) {
                const int row_in = ky >= win->ky0 && ky < win->ky1;
                for (int32_t kx = 0; kx < k->k_w; ++kx) {
                    if (!(row_in && kx >= win->kx0 && kx < win->kx1)) {
                        edgec_dw_mve_mac(k->pad, edgec_dw_mve_load(wr + (size_t)kx * k->pixel, whole, p16), &ae,
                                         &ao);
                    }
                }
                wr += k->w_row;
            }
        }
    }
    const int32x4_t me = whole ? vldrwq_gather_shifted_offset_s32(k->multiplier + c, even)
                               : vldrwq_gather_shifted_offset_z_s32(k->multiplier + c, even, pe);
    const int32x4_t mo = whole ? vldrwq_gather_shifted_offset_s32(k->multiplier + c, odd)
                               : vldrwq_gather_shifted_offset_z_s32(k->multiplier + c, odd, po);
    const int32x4_t se = whole ? vldrwq_gather_shifted_offset_s32(k->shift + c, even)
                               : vldrwq_gather_shifted_offset_z_s32(k->shift + c, even, pe);
    const int32x4_t so = whole ? vldrwq_gather_shifted_offset_s32(k->shift + c, odd)
                               : vldrwq_gather_shifted_offset_z_s32(k->shift + c, odd, po);
    const int32x4_t ye = edgec_mve_requant(ae, me, se, k->range);
    const int32x4_t yo = edgec_mve_requant(ao, mo, so, k->range);
    const int16x8_t y = vmovntq_s32(vmovnbq_s32(vdupq_n_s16(0), ye), yo);
    if (whole) {
        vstrbq_s16(out + c, y);
    } else {
        vstrbq_p_s16(out + c, y, p16);
    }
}

#if defined(__GNUC__)
#define EDGEC_DW_MVE_INLINE inline __attribute__((always_inline))
#else
#define EDGEC_DW_MVE_INLINE inline
#endif

#define EDGEC_DW_MVE_TAPS 25  /* windows up to 5x5 take the tap-pointer path */
#define EDGEC_DW_MVE_PAD 512  /* channels up to this many: a missing tap reads a row of pad values */
#define EDGEC_DW_MVE_WINDOW 128 /* channels up to this many: a 3x3 border window is copied for the assembly step */

/* Even and odd channels of four consecutive int32 values (bias, multiplier, shift) at p. */
static EDGEC_DW_MVE_INLINE int32x4_t edgec_dw_mve_gather(const int32_t *p, uint32x4_t lanes, int whole,
                                                         mve_pred16_t pred)
{
    return whole ? vldrwq_gather_shifted_offset_s32(p, lanes) : vldrwq_gather_shifted_offset_z_s32(p, lanes, pred);
}

/* Requantize eight channels (even lanes ae, odd lanes ao) of channel c and store them at out + c. */
static EDGEC_DW_MVE_INLINE void edgec_dw_mve_store8(int32x4_t ae, int32x4_t ao, const edgec_dw_mve_call *k,
                                                    int32_t c, int32_t n, int whole, int8_t *out)
{
    const mve_pred16_t pe = vctp32q((uint32_t)(n + 1) >> 1);
    const mve_pred16_t po = vctp32q((uint32_t)n >> 1);
    const uint32x4_t even = vidupq_n_u32(0, 2);
    const uint32x4_t odd = vidupq_n_u32(1, 2);
    const int32x4_t ye = edgec_mve_requant_unclamped(ae, edgec_dw_mve_gather(k->multiplier + c, even, whole, pe),
                                                     edgec_dw_mve_gather(k->shift + c, even, whole, pe), k->offset);
    const int32x4_t yo = edgec_mve_requant_unclamped(ao, edgec_dw_mve_gather(k->multiplier + c, odd, whole, po),
                                                     edgec_dw_mve_gather(k->shift + c, odd, whole, po), k->offset);
    const int16x8_t y = edgec_mve_clamp16(ye, yo, k->lo, k->hi);
    if (whole) {
        vstrbq_s16(out + c, y);
    } else {
        vstrbq_p_s16(out + c, y, vctp16q((uint32_t)n));
    }
}

/* Channels [c, c + 8 * halves) (whole groups: halves 1 or 2) or [c, c + n) (n < 8, predicated: halves 1, whole 0)
 * of one position whose taps are at tx[t] (the input pixel, or a row of pad values), with weights at filter +
 * t * pixel. */
static EDGEC_DW_MVE_INLINE void edgec_dw_mve_taps(const edgec_dw_mve_call *k, const int8_t *const *tx, int32_t taps,
                                                  int32_t c, int32_t n, int halves, int whole, int8_t *out)
{
    const mve_pred16_t p16 = vctp16q((uint32_t)n);
    const uint32x4_t even = vidupq_n_u32(0, 2);
    const uint32x4_t odd = vidupq_n_u32(1, 2);
    const mve_pred16_t pe = vctp32q((uint32_t)(n + 1) >> 1);
    const mve_pred16_t po = vctp32q((uint32_t)n >> 1);
    int32x4_t ae0 = edgec_dw_mve_gather(k->bias + c, even, whole, pe);
    int32x4_t ao0 = edgec_dw_mve_gather(k->bias + c, odd, whole, po);
    int32x4_t ae1 = vdupq_n_s32(0);
    int32x4_t ao1 = vdupq_n_s32(0);
    if (halves == 2) {
        ae1 = vldrwq_gather_shifted_offset_s32(k->bias + c + 8, even);
        ao1 = vldrwq_gather_shifted_offset_s32(k->bias + c + 8, odd);
    }
    const int8_t *w = k->filter + c;
    const size_t pixel = k->pixel; /* in a local: the output stores may alias the call's constants */
    if (taps < 0) { /* a whole 3x3 undilated window inside the input at tx[0]: addressed directly */
        const int8_t *x = tx[0] + c;
        const size_t xt = k->x_tap;
        const size_t xr = k->x_row;
        for (int32_t r = 0; r < 3; ++r) {
            edgec_dw_mve_mac(edgec_dw_mve_load(x, whole, p16), edgec_dw_mve_load(w, whole, p16), &ae0, &ao0);
            edgec_dw_mve_mac(edgec_dw_mve_load(x + xt, whole, p16), edgec_dw_mve_load(w + pixel, whole, p16),
                             &ae0, &ao0);
            edgec_dw_mve_mac(edgec_dw_mve_load(x + 2 * xt, whole, p16),
                             edgec_dw_mve_load(w + 2 * pixel, whole, p16), &ae0, &ao0);
            x += xr;
            w += 3 * pixel;
        }
        taps = 0;
    }
    for (int32_t t = 0; t < taps; ++t) {
        const int8_t *x = tx[t] + c;
        edgec_dw_mve_mac(edgec_dw_mve_load(x, whole, p16), edgec_dw_mve_load(w, whole, p16), &ae0, &ao0);
        if (halves == 2) {
            edgec_dw_mve_mac(vldrbq_s16(x + 8), vldrbq_s16(w + 8), &ae1, &ao1);
        }
        w += pixel;
    }
    edgec_dw_mve_store8(ae0, ao0, k, c, n, whole, out);
    if (halves == 2) {
        edgec_dw_mve_store8(ae1, ao1, k, c + 8, 8, 1, out);
    }
}

/* Every channel of one position with the taps at tx[0 .. taps) (taps a constant at each call; -1: a whole 3x3
 * undilated window at tx[0]). */
static EDGEC_DW_MVE_INLINE void edgec_dw_mve_position(const edgec_dw_mve_call *k, const int8_t *const *tx,
                                                      int32_t taps, int32_t chans, int8_t *out)
{
    int32_t c = 0;
    for (; c + 8 <= chans; c += 8) {
        edgec_dw_mve_taps(k, tx, taps, c, 8, 1, 1, out);
    }
    if (c < chans) {
        edgec_dw_mve_taps(k, tx, taps, c, chans - c, 1, 0, out);
    }
}

/* One call of edgec_dw_mve_asm3x3 (the offsets are fixed: the assembly reads them). */
typedef struct {
    const int8_t *x;         /* 0: tap (0, 0) of the window, channel 0 */
    const int8_t *w;         /* 4: filter tap 0, channel 0 */
    uint32_t tap;            /* 8: bytes between the window's columns (and between filter taps: the channel count) */
    uint32_t row;            /* 12: bytes between the window's rows */
    const int32_t *bias;     /* 16 */
    const int32_t *mult;     /* 20 */
    const int32_t *shift;    /* 24 */
    int8_t *out;             /* 28 */
    int32_t groups;          /* 32: groups of eight channels, at least 1 */
    int32_t offset;          /* 36 */
    int32_t lo;              /* 40 */
    int32_t hi;              /* 44 */
    uint32_t w_tap;          /* 48: bytes between filter taps */
    int32_t positions;       /* 52: consecutive positions (at least 1; more only when the channels are whole groups,
                                so that the outputs are contiguous) */
    uint32_t x_step;         /* 56: input bytes between them */
} edgec_dw_mve_job;

/* Eight channels at a time of one whole 3x3 window (the depthwise step of edgec_dw_mve_group written out, with
 * every value in a register): VLD20/VLD21 load bias, multipliers and shifts already split into even and odd
 * channels; per tap VLDRB.S16 of the input and the weights, VMULLB/VMULLT.S16 and two VADD; the requantization of
 * edgec_mve_requant_unclamped with the shift split by its sign mask (VSHR #31, VBIC, VAND); VQMOVNB/VQMOVNT narrow
 * with saturation into channel order, VMAX/VMIN.S16 clamp and VSTRB.16 stores eight outputs. */
#if defined(__GNUC__)
__attribute__((naked, noinline))
#endif
static void edgec_dw_mve_asm3x3(const edgec_dw_mve_job *job __attribute__((unused)))
{
#define EDGEC_DW_TAP(X)                                                                                            \
    "vldrb.s16 q2, [" X "]\n\t"                                                                                   \
    "vldrb.s16 q3, [r2]\n\t"                                                                                      \
    "add r2, r2, r6\n\t"                                                                                          \
    "vmullb.s16 q4, q2, q3\n\t"                                                                                   \
    "vadd.i32 q0, q0, q4\n\t"                                                                                     \
    "vmullt.s16 q4, q2, q3\n\t"                                                                                   \
    "vadd.i32 q1, q1, q4\n\t"
#define EDGEC_DW_ROW                                                                                               \
    EDGEC_DW_TAP("r0")                                                                                            \
    "add r1, r0, r7\n\t" EDGEC_DW_TAP("r1") "add r1, r1, r7\n\t" EDGEC_DW_TAP("r1") "add r0, r0, r8\n\t"
#define EDGEC_DW_REQUANT(X, M, S)                                                                                  \
    "vshr.s32 q6, " S ", #31\n\t"                                                                                 \
    "vbic q7, " S ", q6\n\t"                                                                                      \
    "vshl.s32 " X ", " X ", q7\n\t"                                                                               \
    "vqrdmulh.s32 " X ", " X ", " M "\n\t"                                                                        \
    "vand q7, " S ", q6\n\t"                                                                                      \
    "vand q6, " X ", q7\n\t"                                                                                      \
    "vshr.s32 q6, q6, #31\n\t"                                                                                    \
    "vqadd.s32 " X ", " X ", q6\n\t"                                                                              \
    "vrshl.s32 " X ", " X ", q7\n\t"                                                                              \
    "vqadd.s32 " X ", " X ", r12\n\t"
    /* r4 input, r5 weights (both at the group's first channel), r6 filter tap stride, r7 window column stride, r8
     * window row stride, r9-r11 bias / multipliers / shifts, r3 output, r12 offset, lr upper bound; on the stack
     * the group count and the lower bound. r0-r2 (low registers: the widening loads need them) walk the taps. */
    __asm__ volatile(
        "push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"
        "sub sp, sp, #40\n\t"
        "ldr r1, [r0, #32]\n\t" /* [sp]: groups left; [sp, #8]: groups */
        "str r1, [sp, #8]\n\t"
        "ldr r1, [r0, #40]\n\t" /* [sp, #4]: lower bound */
        "str r1, [sp, #4]\n\t"
        "ldr r1, [r0, #52]\n\t" /* [sp, #12]: positions left */
        "str r1, [sp, #12]\n\t"
        "ldr r1, [r0, #56]\n\t" /* [sp, #16]: input step between positions */
        "str r1, [sp, #16]\n\t"
        "ldr r1, [r0, #4]\n\t" /* [sp, #20..32]: weights, bias, multipliers, shifts at channel 0 */
        "str r1, [sp, #20]\n\t"
        "ldr r1, [r0, #16]\n\t"
        "str r1, [sp, #24]\n\t"
        "ldr r1, [r0, #20]\n\t"
        "str r1, [sp, #28]\n\t"
        "ldr r1, [r0, #24]\n\t"
        "str r1, [sp, #32]\n\t"
        "ldr r1, [r0, #0]\n\t" /* [sp, #36]: the position's input */
        "str r1, [sp, #36]\n\t"
        "ldr r7, [r0, #8]\n\t"
        "ldr r8, [r0, #12]\n\t"
        "ldr r3, [r0, #28]\n\t"
        "ldr r12, [r0, #36]\n\t"
        "ldr lr, [r0, #44]\n\t"
        "ldr r6, [r0, #48]\n"
        "2:\n\t"
        "ldr r0, [sp, #8]\n\t"
        "str r0, [sp]\n\t"
        "ldr r4, [sp, #36]\n\t"
        "ldr r5, [sp, #20]\n\t"
        "ldr r9, [sp, #24]\n\t"
        "ldr r10, [sp, #28]\n\t"
        "ldr r11, [sp, #32]\n"
        "1:\n\t"
        "vld20.32 {q0, q1}, [r9]\n\t"
        "vld21.32 {q0, q1}, [r9]!\n\t"
        "mov r0, r4\n\t"
        "mov r2, r5\n\t"
        EDGEC_DW_ROW EDGEC_DW_ROW EDGEC_DW_ROW
        "vld20.32 {q2, q3}, [r10]\n\t"
        "vld21.32 {q2, q3}, [r10]!\n\t"
        "vld20.32 {q4, q5}, [r11]\n\t"
        "vld21.32 {q4, q5}, [r11]!\n\t"
        EDGEC_DW_REQUANT("q0", "q2", "q4")
        EDGEC_DW_REQUANT("q1", "q3", "q5")
        "vqmovnb.s32 q6, q0\n\t"
        "vqmovnt.s32 q6, q1\n\t"
        "ldr r0, [sp, #4]\n\t"
        "vdup.16 q7, r0\n\t"
        "vmax.s16 q6, q6, q7\n\t"
        "vdup.16 q7, lr\n\t"
        "vmin.s16 q6, q6, q7\n\t"
        "vstrb.16 q6, [r3], #8\n\t"
        "adds r4, r4, #8\n\t"
        "adds r5, r5, #8\n\t"
        "ldr r0, [sp]\n\t"
        "subs r0, r0, #1\n\t"
        "str r0, [sp]\n\t"
        "bne 1b\n\t"
        "ldr r0, [sp, #36]\n\t"
        "ldr r1, [sp, #16]\n\t"
        "add r0, r0, r1\n\t"
        "str r0, [sp, #36]\n\t"
        "ldr r0, [sp, #12]\n\t"
        "subs r0, r0, #1\n\t"
        "str r0, [sp, #12]\n\t"
        "bne 2b\n\t"
        "add sp, sp, #40\n\t"
        "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n");
#undef EDGEC_DW_TAP
#undef EDGEC_DW_ROW
#undef EDGEC_DW_REQUANT
}

#define EDGEC_DW_MVE_BAND 4096 /* bytes of the band of three padded input rows (on the stack), at least
                                 9 * EDGEC_DW_MVE_WINDOW */

#define EDGEC_DW_MVE_PACK 256 /* channels up to this many: the right-shift routine's packed weights (on the stack) */

/* edgec_dw_mve_asm3x3 for a call whose every channel shifts right (shift in [-31, -1]), with the weights packed
 * per group of eight channels as [group][tap][8] (job->w; job->w_tap unused), so that one pointer walks them with
 * post-incremented loads across the groups. The requantization needs no left shift and no shift mask: VQRDMULH,
 * the -1 of negative lanes (VSHR #31 and a plain VADD: the rounded high half of a product with a multiplier below
 * 2^31 is above INT32_MIN), VRSHL by the shift itself and VQADD of the offset (edgec_mve_requant.h's arithmetic with
 * left 0 and right == shift). The bounds stay in q6/q7 for the whole call; the loops count in registers. */
#define EDGEC_DW_TAP(X)                                                                                            \
    "vldrb.s16 q2, " X "\n\t"                                                                                     \
    "vldrb.s16 q3, [r2], #8\n\t"                                                                                  \
    "vmullb.s16 q4, q2, q3\n\t"                                                                                   \
    "vadd.i32 q0, q0, q4\n\t"                                                                                     \
    "vmullt.s16 q4, q2, q3\n\t"                                                                                   \
    "vadd.i32 q1, q1, q4\n\t"
/* One kernel row: the window's columns r7 apart (r1 walks them), or, where the channel count C is small enough
 * for an immediate (2C <= 127), at [r0, #C] and [r0, #2C]. */
#define EDGEC_DW_ROW3 EDGEC_DW_TAP("[r0]") "add r1, r0, r7\n\t" EDGEC_DW_TAP("[r1]") "add r1, r1, r7\n\t" EDGEC_DW_TAP("[r1]")
#define EDGEC_DW_ROW3_IMM(C, C2) EDGEC_DW_TAP("[r0]") EDGEC_DW_TAP("[r0, #" C "]") EDGEC_DW_TAP("[r0, #" C2 "]")
/* r4 input at the group's first channel (after a position's last group it moves on by r5 = step - C), r2 packed
 * weights, r7 window column stride, r8 window row stride, r9-r11 bias / multipliers / shifts, r3 output, r12
 * offset, r6 groups left, lr positions left; on the stack the group count and the packed weights, bias,
 * multipliers and shifts at channel 0. r0-r2 (low registers: the widening loads need them) walk the taps. */
#define EDGEC_DW_RSHIFT_BODY(ROW3)                                                                                 \
    __asm__ volatile("push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"                                            \
                     "sub sp, sp, #24\n\t"                                                                        \
                     "ldr r1, [r0, #32]\n\t" /* [sp]: groups */                                                   \
                     "str r1, [sp]\n\t"                                                                           \
                     "ldr r5, [r0, #56]\n\t" /* r5: input step between positions minus 8 * groups */             \
                     "sub r5, r5, r1, lsl #3\n\t"                                                                 \
                     "ldr r1, [r0, #4]\n\t" /* [sp, #8..20]: packed weights, bias, multipliers, shifts */        \
                     "str r1, [sp, #8]\n\t"                                                                       \
                     "ldr r1, [r0, #16]\n\t"                                                                      \
                     "str r1, [sp, #12]\n\t"                                                                      \
                     "ldr r1, [r0, #20]\n\t"                                                                      \
                     "str r1, [sp, #16]\n\t"                                                                      \
                     "ldr r1, [r0, #24]\n\t"                                                                      \
                     "str r1, [sp, #20]\n\t"                                                                      \
                     "ldr r4, [r0, #0]\n\t"                                                                       \
                     "ldr r1, [r0, #40]\n\t"                                                                      \
                     "vdup.16 q6, r1\n\t"                                                                         \
                     "ldr r1, [r0, #44]\n\t"                                                                      \
                     "vdup.16 q7, r1\n\t"                                                                         \
                     "ldr r7, [r0, #8]\n\t"                                                                       \
                     "ldr r8, [r0, #12]\n\t"                                                                      \
                     "ldr r3, [r0, #28]\n\t"                                                                      \
                     "ldr r12, [r0, #36]\n\t"                                                                     \
                     "ldr lr, [r0, #52]\n"                                                                        \
                     "2:\n\t"                                                                                     \
                     "ldr r6, [sp]\n\t"                                                                           \
                     "ldr r2, [sp, #8]\n\t"                                                                       \
                     "ldr r9, [sp, #12]\n\t"                                                                      \
                     "ldr r10, [sp, #16]\n\t"                                                                     \
                     "ldr r11, [sp, #20]\n"                                                                       \
                     "1:\n\t"                                                                                     \
                     "vld20.32 {q0, q1}, [r9]\n\t"                                                                \
                     "vld21.32 {q0, q1}, [r9]!\n\t"                                                               \
                     "mov r0, r4\n\t" ROW3 "add r0, r0, r8\n\t" ROW3 "add r0, r0, r8\n\t" ROW3                   \
                     "vld20.32 {q2, q3}, [r10]\n\t"                                                               \
                     "vld21.32 {q2, q3}, [r10]!\n\t"                                                              \
                     "vqrdmulh.s32 q0, q0, q2\n\t"                                                                \
                     "vqrdmulh.s32 q1, q1, q3\n\t"                                                                \
                     "vld20.32 {q2, q3}, [r11]\n\t"                                                               \
                     "vld21.32 {q2, q3}, [r11]!\n\t"                                                              \
                     "vshr.s32 q4, q0, #31\n\t"                                                                   \
                     "vadd.i32 q0, q0, q4\n\t"                                                                    \
                     "vshr.s32 q4, q1, #31\n\t"                                                                   \
                     "vadd.i32 q1, q1, q4\n\t"                                                                    \
                     "vrshl.s32 q0, q0, q2\n\t"                                                                   \
                     "vrshl.s32 q1, q1, q3\n\t"                                                                   \
                     "vqadd.s32 q0, q0, r12\n\t"                                                                  \
                     "vqadd.s32 q1, q1, r12\n\t"                                                                  \
                     "vqmovnb.s32 q5, q0\n\t"                                                                     \
                     "vqmovnt.s32 q5, q1\n\t"                                                                     \
                     "vmax.s16 q5, q5, q6\n\t"                                                                    \
                     "vmin.s16 q5, q5, q7\n\t"                                                                    \
                     "vstrb.16 q5, [r3], #8\n\t"                                                                  \
                     "adds r4, r4, #8\n\t"                                                                        \
                     "subs r6, r6, #1\n\t"                                                                        \
                     "bne 1b\n\t"                                                                                 \
                     "add r4, r4, r5\n\t"                                                                         \
                     "subs lr, lr, #1\n\t"                                                                        \
                     "bne 2b\n\t"                                                                                 \
                     "add sp, sp, #24\n\t"                                                                        \
                     "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n")

#if defined(__GNUC__)
#define EDGEC_DW_NAKED __attribute__((naked, noinline))
#else
#define EDGEC_DW_NAKED
#endif

static EDGEC_DW_NAKED void edgec_dw_mve_asm3x3_rshift(const edgec_dw_mve_job *job __attribute__((unused)))
{
    EDGEC_DW_RSHIFT_BODY(EDGEC_DW_ROW3);
}

/* The same with the window's column stride (job->tap) 8, 16 or 32 bytes as immediates. */
static EDGEC_DW_NAKED void edgec_dw_mve_asm3x3_rshift_c8(const edgec_dw_mve_job *job __attribute__((unused)))
{
    EDGEC_DW_RSHIFT_BODY(EDGEC_DW_ROW3_IMM("8", "16"));
}

static EDGEC_DW_NAKED void edgec_dw_mve_asm3x3_rshift_c16(const edgec_dw_mve_job *job __attribute__((unused)))
{
    EDGEC_DW_RSHIFT_BODY(EDGEC_DW_ROW3_IMM("16", "32"));
}

static EDGEC_DW_NAKED void edgec_dw_mve_asm3x3_rshift_c32(const edgec_dw_mve_job *job __attribute__((unused)))
{
    EDGEC_DW_RSHIFT_BODY(EDGEC_DW_ROW3_IMM("32", "64"));
}
#undef EDGEC_DW_TAP
#undef EDGEC_DW_ROW3
#undef EDGEC_DW_ROW3_IMM
#undef EDGEC_DW_RSHIFT_BODY

/* The right-shift routine for the job's column stride. */
static inline void edgec_dw_mve_rshift_call(const edgec_dw_mve_job *job)
{
    switch (job->tap) {
    case 8:
        edgec_dw_mve_asm3x3_rshift_c8(job);
        break;
    case 16:
        edgec_dw_mve_asm3x3_rshift_c16(job);
        break;
    case 32:
        edgec_dw_mve_asm3x3_rshift_c32(job);
        break;
    default:
        edgec_dw_mve_asm3x3_rshift(job);
        break;
    }
}

/* --- Four output rows per vector (3x3, stride 1, one row and column of padding, the map's own size) ---------------
 * The lanes are four output rows of one channel: per input column three VLDRB.S32 gathers (kernel rows 0, 1, 2 of
 * the four rows, a map row apart) each feed three VMLA by a scalar weight, into the accumulators of the output
 * columns left of, at and right of that column (each input vector serves three outputs). The missing column left
 * or right of the map is pad_value times the weights of kernel column 0 or 2, folded into the first or last
 * column's bias; a lane whose tap row lies above or below the map reads a row of pad values (its gather offset
 * points there). Strips of four rows walk down the map, the last one moved up to end at the last row (it
 * recomputes up to three rows, with the same values). Requantization per vector, all lanes one channel: VQRDMLASH
 * gives K + floor((x m + 2^30) / 2^31) with K = 2^(s-1) + offset * 2^s (s = -shift in [1, 24]); the reference's
 * rounding right shift with the offset added is (that - [x < 0]) >> s (the derivation of compiler/dw_layout.py);
 * VQSHL by 24 - s then VSHR #24 is that shift saturated to int8, and VSTRB.32 scatters the four rows. The general
 * routine adds the [x < 0] term (VSHR #31, VQADD) and the clamp to [act_min, act_max]; the plain one is for the
 * int8 clamp with offset -128, where a negative accumulator gives -128 either way. K + t saturating in int32 gives
 * a value beyond int8 of the same sign, as the exact sum does. */

/* One call of edgec_dw_rows_asm: every channel and strip of one image (the offsets are fixed: the assembly reads
 * them). */
typedef struct {
    uint32_t out[4];      /* 0: scatter offsets from the input column one right of the output */
    int32_t lo[4];        /* 16 */
    int32_t hi[4];        /* 32 */
    uint32_t o0top[4];    /* 48: gather offsets of kernel row 0 in the top strip */
    uint32_t o0[4];       /* 64 */
    uint32_t o1[4];       /* 80 */
    uint32_t o2[4];       /* 96 */
    uint32_t o2bot[4];    /* 112: kernel row 2 in the bottom strip */
    const int8_t *x;      /* 128: channel 0 at row 0, column 0 */
    uint32_t step;        /* 132: the channel count */
    int32_t strips;       /* 136 */
    uint32_t adv;         /* 140: bytes from one strip to the next (four rows) */
    uint32_t adv_last;    /* 144: to the last strip */
    int32_t groups;       /* 148: (width - 3) / 3 */
    int32_t tail;         /* 152: (width - 3) % 3 */
    const int8_t *filter; /* 156 */
    const int32_t *bias;  /* 160 */
    const int32_t *mult;  /* 164 */
    const int32_t *shift; /* 168 */
    int32_t pad;          /* 172 */
    int32_t offset;       /* 176 */
    int32_t chans;        /* 180 */
} edgec_dw_rows_job;

#define EDGEC_DW_R_FAST(P) "vqrdmlash.s32 " P ", q7, r9\n\t" "vqshl.s32 " P ", r10\n\t" "vshr.s32 " P ", " P ", #24\n\t"
#define EDGEC_DW_R_GEN(P)                                                                                          \
    "vshr.s32 q3, " P ", #31\n\t" "vqrdmlash.s32 " P ", q7, r9\n\t" "vqadd.s32 " P ", " P ", q3\n\t"            \
    "vqshl.s32 " P ", r10\n\t" "vshr.s32 " P ", " P ", #24\n\t" "vldrw.32 q3, [sp, #64]\n\t"                    \
    "vmax.s32 " P ", " P ", q3\n\t" "vldrw.32 q3, [sp, #80]\n\t" "vmin.s32 " P ", " P ", q3\n\t"
/* One kernel row's gather at the column (q4 / q5 / q6) into next, cur and prev with weights A, B, C. */
#define EDGEC_DW_R_G3(O, N, C, P, WA, WB, WC)                                                                      \
    "vldrb.s32 q3, [r11, " O "]\n\t" "vmla.s32 " N ", q3, " WA "\n\t" "vmla.s32 " C ", q3, " WB "\n\t"          \
    "vmla.s32 " P ", q3, " WC "\n\t"
#define EDGEC_DW_R_STORE(P) "vldrw.32 q3, [sp, #48]\n\t" "vstrb.32 " P ", [r11, q3]\n\t"
/* A middle column: next (bias at INIT) starts, prev is finished and stored. */
#define EDGEC_DW_R_COL(FIN, INIT, P, C, N)                                                                         \
    "vldrw.32 " N ", [sp, #" INIT "]\n\t" EDGEC_DW_R_G3("q4", N, C, P, "r0", "r1", "r2")                        \
        EDGEC_DW_R_G3("q5", N, C, P, "r3", "r4", "r5") EDGEC_DW_R_G3("q6", N, C, P, "r6", "r7", "r8") FIN(P)     \
            EDGEC_DW_R_STORE(P) "add r11, r11, r12\n\t"
#define EDGEC_DW_R_G2(O, C, N, WC, WB) "vldrb.s32 q3, [r11, " O "]\n\t" "vmla.s32 " C ", q3, " WC "\n\t"          \
    "vmla.s32 " N ", q3, " WB "\n\t"
/* The last column: cur (kernel column 2) and next (kernel column 1), both finished. */
#define EDGEC_DW_R_LAST(FIN, C, N)                                                                                 \
    EDGEC_DW_R_G2("q4", C, N, "r2", "r1") EDGEC_DW_R_G2("q5", C, N, "r5", "r4")                                  \
        EDGEC_DW_R_G2("q6", C, N, "r8", "r7") FIN(C) EDGEC_DW_R_STORE(C) "add r11, r11, r12\n\t" FIN(N)         \
            EDGEC_DW_R_STORE(N) "b 9f\n"
/* In a strip: r0-r8 the weights, r9 K, r10 24 - s, r11 the input column, r12 the channel count, lr the group
 * count, q4-q6 the gather offsets, q7 the multiplier. The frame: b, br, bl, the scatter offsets, lo, hi (16 bytes
 * each), then at 96 the strip's input, strips left, the job, the channel, 24 - s, the bias, the group count and
 * the tail. Per channel the weights (nine LDRSB), K, 24 - s, the multiplier and the three biases are derived
 * here. */
#define EDGEC_DW_R_BODY(FIN)                                                                                       \
    __asm__ volatile(                                                                                             \
        "push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"                                                        \
        "sub sp, sp, #132\n\t"                                                                                    \
        "str r0, [sp, #104]\n\t"                                                                                  \
        "ldr r1, [r0, #148]\n\t" "str r1, [sp, #120]\n\t" "ldr r1, [r0, #152]\n\t" "str r1, [sp, #124]\n\t"   \
        "vldrw.32 q0, [r0, #0]\n\t" "vstrw.32 q0, [sp, #48]\n\t"                                                 \
        "vldrw.32 q0, [r0, #16]\n\t" "vstrw.32 q0, [sp, #64]\n\t"                                                \
        "vldrw.32 q0, [r0, #32]\n\t" "vstrw.32 q0, [sp, #80]\n\t"                                                \
        "vldrw.32 q5, [r0, #80]\n\t"                                                                              \
        "movs r1, #0\n\t" "str r1, [sp, #108]\n"                                                                  \
        "0:\n\t" /* a channel */                                                                                  \
        "ldr lr, [sp, #104]\n\t" "ldr r10, [sp, #108]\n\t"                                                      \
        "ldr r11, [lr, #128]\n\t" "add r11, r11, r10\n\t" "str r11, [sp, #96]\n\t"                             \
        "ldr r0, [lr, #164]\n\t" "ldr r0, [r0, r10, lsl #2]\n\t" "vdup.32 q7, r0\n\t"                          \
        "ldr r0, [lr, #168]\n\t" "ldr r0, [r0, r10, lsl #2]\n\t"                                                \
        "ldr r3, [lr, #176]\n\t" "rsbs r2, r0, #0\n\t" "lsls r3, r3, r2\n\t" "subs r2, r2, #1\n\t"            \
        "movs r9, #1\n\t" "lsls r9, r9, r2\n\t" "add r9, r9, r3\n\t"                                            \
        "adds r0, r0, #24\n\t" "str r0, [sp, #112]\n\t"                                                         \
        "ldr r0, [lr, #160]\n\t" "ldr r0, [r0, r10, lsl #2]\n\t" "str r0, [sp, #116]\n\t"                     \
        "ldr r12, [lr, #132]\n\t" "ldr r11, [lr, #156]\n\t" "add r11, r11, r10\n\t"                            \
        "ldrsb r0, [r11]\n\t" "ldrsb r1, [r11, r12]\n\t" "add r11, r11, r12, lsl #1\n\t"                       \
        "ldrsb r2, [r11]\n\t" "ldrsb r3, [r11, r12]\n\t" "add r11, r11, r12, lsl #1\n\t"                       \
        "ldrsb r4, [r11]\n\t" "ldrsb r5, [r11, r12]\n\t" "add r11, r11, r12, lsl #1\n\t"                       \
        "ldrsb r6, [r11]\n\t" "ldrsb r7, [r11, r12]\n\t" "add r11, r11, r12, lsl #1\n\t"                       \
        "ldrsb r8, [r11]\n\t"                                                                                     \
        "ldr r10, [lr, #172]\n\t" "ldr lr, [sp, #116]\n\t"                                                      \
        "vdup.32 q0, lr\n\t" "vstrw.32 q0, [sp, #0]\n\t"                                                         \
        "add r11, r0, r3\n\t" "add r11, r11, r6\n\t" "mla r11, r11, r10, lr\n\t"                               \
        "vdup.32 q0, r11\n\t" "vstrw.32 q0, [sp, #32]\n\t"                                                       \
        "add r11, r2, r5\n\t" "add r11, r11, r8\n\t" "mla r11, r11, r10, lr\n\t"                               \
        "vdup.32 q0, r11\n\t" "vstrw.32 q0, [sp, #16]\n\t"                                                       \
        "ldr r10, [sp, #112]\n\t" "ldr r11, [sp, #96]\n\t"                                                      \
        "ldr lr, [sp, #104]\n\t" "vldrw.32 q4, [lr, #48]\n\t" "ldr lr, [lr, #136]\n\t" "str lr, [sp, #100]\n\t" \
        "cmp lr, #1\n\t" "ldr lr, [sp, #104]\n\t" "add lr, lr, #96\n\t" "it eq\n\t"                           \
        "addeq lr, lr, #16\n\t" "vldrw.32 q6, [lr]\n"                                                            \
        "2:\n\t" /* a strip */                                                                                    \
        "vldrw.32 q0, [sp, #32]\n\t" "vldrw.32 q1, [sp, #0]\n\t"                                                 \
        EDGEC_DW_R_G2("q4", "q1", "q0", "r0", "r1") EDGEC_DW_R_G2("q5", "q1", "q0", "r3", "r4")                  \
        EDGEC_DW_R_G2("q6", "q1", "q0", "r6", "r7") "add r11, r11, r12\n\t"                                      \
        "ldr lr, [sp, #120]\n\t" "cmp lr, #0\n\t" "beq 3f\n"                         \
        "1:\n\t"                                                                                                  \
        EDGEC_DW_R_COL(FIN, "0", "q0", "q1", "q2") EDGEC_DW_R_COL(FIN, "0", "q1", "q2", "q0")                    \
        EDGEC_DW_R_COL(FIN, "0", "q2", "q0", "q1")                                                                \
        "subs lr, lr, #1\n\t" "bne 1b\n"                                                                          \
        "3:\n\t"                                                                                                  \
        "ldr lr, [sp, #124]\n\t" "cmp lr, #1\n\t" "beq 5f\n\t" "bgt 6f\n\t"          \
        EDGEC_DW_R_COL(FIN, "16", "q0", "q1", "q2") EDGEC_DW_R_LAST(FIN, "q1", "q2")                             \
        "5:\n\t"                                                                                                  \
        EDGEC_DW_R_COL(FIN, "0", "q0", "q1", "q2") EDGEC_DW_R_COL(FIN, "16", "q1", "q2", "q0")                   \
        EDGEC_DW_R_LAST(FIN, "q2", "q0")                                                                          \
        "6:\n\t"                                                                                                  \
        EDGEC_DW_R_COL(FIN, "0", "q0", "q1", "q2") EDGEC_DW_R_COL(FIN, "0", "q1", "q2", "q0")                    \
        EDGEC_DW_R_COL(FIN, "16", "q2", "q0", "q1") EDGEC_DW_R_LAST(FIN, "q0", "q1")                             \
        "9:\n\t"                                                                                                  \
        "ldr lr, [sp, #100]\n\t" "subs lr, lr, #1\n\t" "beq 8f\n\t" "str lr, [sp, #100]\n\t"                  \
        "ldr r11, [sp, #104]\n\t" "vldrw.32 q4, [r11, #64]\n\t" "cmp lr, #1\n\t" "bne 7f\n\t"                 \
        "vldrw.32 q6, [r11, #112]\n\t" "ldr lr, [r11, #144]\n\t" "b 4f\n"                                      \
        "7:\n\t" "ldr lr, [r11, #140]\n"                                                                          \
        "4:\n\t" "ldr r11, [sp, #96]\n\t" "add r11, r11, lr\n\t" "str r11, [sp, #96]\n\t" "b 2b\n"            \
        "8:\n\t"                                                                                                  \
        "ldr r0, [sp, #108]\n\t" "adds r0, r0, #1\n\t" "str r0, [sp, #108]\n\t" "ldr lr, [sp, #104]\n\t"      \
        "ldr r1, [lr, #180]\n\t" "cmp r0, r1\n\t" "bne 0b\n\t"                                                   \
        "add sp, sp, #132\n\t"                                                                                    \
        "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n")

static EDGEC_DW_NAKED void edgec_dw_rows_asm(const edgec_dw_rows_job *job __attribute__((unused)))
{
    EDGEC_DW_R_BODY(EDGEC_DW_R_FAST);
}

static EDGEC_DW_NAKED void edgec_dw_rows_asm_general(const edgec_dw_rows_job *job __attribute__((unused)))
{
    EDGEC_DW_R_BODY(EDGEC_DW_R_GEN);
}
#undef EDGEC_DW_R_FAST
#undef EDGEC_DW_R_GEN
#undef EDGEC_DW_R_G3
#undef EDGEC_DW_R_G2
#undef EDGEC_DW_R_STORE
#undef EDGEC_DW_R_COL
#undef EDGEC_DW_R_LAST
#undef EDGEC_DW_R_BODY

/* Every channel and strip of one batch image (height >= 4, width >= 3). padrow: width * chans bytes of
 * pad_value. */
static inline void edgec_dw_rows_image(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                       const int8_t *filter, const int32_t *bias, const int8_t *in, int8_t *out,
                                       int32_t height, int32_t width, int32_t chans, const int8_t *padrow,
                                       int general)
{
    const uint32_t step = (uint32_t)chans;
    const uint32_t row = (uint32_t)width * step;
    edgec_dw_rows_job job __attribute__((aligned(16)));
    const uint32x4_t o1 = vmulq_n_u32(vidupq_n_u32(0, 1), row);
    const uint32x4_t o0 = vsubq_n_u32(o1, row);
    const uint32x4_t o2 = vaddq_n_u32(o1, row);
    const uint32_t pad_at = (uint32_t)((uintptr_t)padrow - (uintptr_t)in);
    vstrwq_u32(job.o0, o0);
    vstrwq_u32(job.o1, o1);
    vstrwq_u32(job.o2, o2);
    vstrwq_u32(job.o0top, vsetq_lane_u32(pad_at, o0, 0));
    vstrwq_u32(job.o2bot, vsetq_lane_u32(pad_at - (uint32_t)(height - 4) * row, o2, 3));
    vstrwq_u32(job.out, vaddq_n_u32(o1, (uint32_t)((uintptr_t)out - (uintptr_t)in) - step));
    vstrwq_s32(job.lo, vdupq_n_s32(params->act_min));
    vstrwq_s32(job.hi, vdupq_n_s32(params->act_max));
    job.x = in;
    job.step = step;
    job.strips = (height + 3) / 4;
    job.adv = 4u * row;
    job.adv_last = (uint32_t)(height - 4 - 4 * (job.strips > 1 ? job.strips - 2 : 0)) * row;
    job.groups = (width - 3) / 3;
    job.tail = (width - 3) % 3;
    job.filter = filter;
    job.bias = bias;
    job.mult = quant->multiplier;
    job.shift = quant->shift;
    job.pad = params->pad_value;
    job.offset = params->output_offset;
    job.chans = chans;
    if (general) {
        edgec_dw_rows_asm_general(&job);
    } else {
        edgec_dw_rows_asm(&job);
    }
}

/* edgec_depthwise_conv_fast_s8 on Helium, after its argument checks (depth multiplier 1). */
static inline edgec_status edgec_depthwise_conv_mve_s8(const edgec_conv_params *params,
                                                       const edgec_per_channel_quant *quant,
                                                       const edgec_dims *input_dims, const int8_t *input,
                                                       const edgec_dims *filter_dims, const int8_t *filter,
                                                       const int32_t *bias, const edgec_dims *output_dims,
                                                       int8_t *output)
{
    const int32_t batches = input_dims->n;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t chans = input_dims->c;
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;
    const int32_t dil_h = params->dilation_h;
    const int32_t dil_w = params->dilation_w;
    edgec_dw_mve_call k;
    k.filter = filter;
    k.bias = bias;
    k.multiplier = quant->multiplier;
    k.shift = quant->shift;
    k.pixel = (size_t)chans;
    k.x_row = (size_t)dil_h * (size_t)in_w * k.pixel;
    k.x_tap = (size_t)dil_w * k.pixel;
    k.k_h = filter_dims->h;
    k.k_w = filter_dims->w;
    k.w_row = (size_t)k.k_w * k.pixel;
    k.pad = vdupq_n_s16((int16_t)params->pad_value);
    k.range = edgec_mve_range_make(params->output_offset, params->act_min, params->act_max);
    k.offset = params->output_offset;
    k.lo = (int16_t)params->act_min;
    k.hi = (int16_t)params->act_max;
    const int is3x3 = k.k_h == 3 && k.k_w == 3 && dil_h == 1 && dil_w == 1;
    const int32_t whole_end = chans & ~7;
    const int32_t taps = k.k_h * k.k_w;
    const int tap_path = taps <= EDGEC_DW_MVE_TAPS && chans <= EDGEC_DW_MVE_PAD;
    int8_t pad_row[EDGEC_DW_MVE_PAD];
    const int32_t groups8 = chans / 8;
    /* Every whole group's channel shifts right and every 3x3 window takes the assembly step (at most
     * EDGEC_DW_MVE_WINDOW channels: else the border windows take the C steps and packing would not pay): the
     * weights packed per group of eight as [group][tap][8] for edgec_dw_mve_asm3x3_rshift. */
    int8_t packed[9 * EDGEC_DW_MVE_PACK];
    int rshift = is3x3 && groups8 > 0 && chans <= EDGEC_DW_MVE_PACK && chans <= EDGEC_DW_MVE_WINDOW;
    if (rshift) {
        int32_t most = INT32_MIN;
        int32_t c = 0;
        for (; c + 4 <= whole_end; c += 4) {
            most = vmaxvq_s32(most, vldrwq_s32(quant->shift + c));
        }
        for (; c < whole_end; ++c) {
            most = quant->shift[c] > most ? quant->shift[c] : most;
        }
        rshift = most < 0;
    }
    if (rshift) {
        int8_t *dst = packed;
        for (int32_t g = 0; g < groups8; ++g) {
            const int8_t *src = filter + 8 * g;
            for (int32_t t = 0; t < 9; ++t) {
                vstrbq_s16(dst, vldrbq_s16(src));
                dst += 8;
                src += k.pixel;
            }
        }
    }
    if (tap_path) {
        memset(pad_row, params->pad_value, (size_t)chans);
    }
    /* Rows with border windows go through a band of three padded input rows when the channels are whole groups of
     * eight and the band fits EDGEC_DW_MVE_BAND bytes; band_sides: every row has border windows at its ends. */
    const int32_t band_w = (out_w - 1) * params->stride_w + 3;
    const int band_ok = is3x3 && groups8 > 0 && whole_end == chans &&
                        (size_t)band_w * k.pixel * 3u <= EDGEC_DW_MVE_BAND;
    const int band_sides = params->pad_left > 0 || band_w - params->pad_left > in_w;
    int8_t band[EDGEC_DW_MVE_BAND]; /* also the copy of one border window */
    int8_t *const window = band;
    const int8x16_t pad16 = vdupq_n_s8((int8_t)params->pad_value);
    int8_t *out = output;
    if (is3x3 && params->stride_h == 1 && params->stride_w == 1 && params->pad_top == 1 && params->pad_left == 1 &&
        out_h == in_h && out_w == in_w && in_h >= 4 && in_w >= 3 && (size_t)in_w * k.pixel <= EDGEC_DW_MVE_BAND) {
        /* Four output rows per vector (edgec_dw_rows_image) when every shift is a right shift of at most 24 and
         * no multiplier is negative (the sign argument of its requantization). */
        int32_t most = INT32_MIN;
        int32_t least = INT32_MAX;
        int32_t least_m = INT32_MAX;
        int32_t c = 0;
        for (; c + 4 <= chans; c += 4) {
            const int32x4_t s4 = vldrwq_s32(quant->shift + c);
            most = vmaxvq_s32(most, s4);
            least = vminvq_s32(least, s4);
            least_m = vminvq_s32(least_m, vldrwq_s32(quant->multiplier + c));
        }
        for (; c < chans; ++c) {
            most = quant->shift[c] > most ? quant->shift[c] : most;
            least = quant->shift[c] < least ? quant->shift[c] : least;
            least_m = quant->multiplier[c] < least_m ? quant->multiplier[c] : least_m;
        }
        if (most < 0 && least >= -24 && least_m >= 0) {
            const size_t image = (size_t)in_h * (size_t)in_w * k.pixel;
            const int general = params->act_min != -128 || params->act_max != 127 || params->output_offset != -128;
            edgec_mve_fill(band, pad16, (size_t)in_w * k.pixel);
            for (int32_t b = 0; b < batches; ++b) {
                if (general) {
                    edgec_dw_rows_image(params, quant, filter, bias, input + (size_t)b * image,
                                        output + (size_t)b * image, in_h, in_w, chans, band, 1);
                } else {
                    edgec_dw_rows_image(params, quant, filter, bias, input + (size_t)b * image,
                                        output + (size_t)b * image, in_h, in_w, chans, band, 0);
                }
            }
            return EDGEC_OK;
        }
    }
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * (size_t)in_h * (size_t)in_w * k.pixel;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t origin_y = oy * params->stride_h - params->pad_top;
            edgec_dw_mve_window win;
            valid_taps(origin_y, dil_h, k.k_h, in_h, &win.ky0, &win.ky1);
            if (band_ok && (win.ky0 != 0 || win.ky1 != 3 || band_sides)) {
                /* A row with border windows: its three input rows over the columns the row's windows read, copied
                 * with pad_value outside the input, then every position in one assembly call. */
                const size_t bw = (size_t)band_w * k.pixel;
                const int32_t x0 = -params->pad_left;
                const int32_t in_a = x0 < 0 ? 0 : x0;
                const int32_t in_b = x0 + band_w < in_w ? x0 + band_w : in_w;
                const size_t left_pad = (size_t)(in_a - x0) * k.pixel;
                const size_t mid = in_b > in_a ? (size_t)(in_b - in_a) * k.pixel : 0;
                for (int32_t ky = 0; ky < 3; ++ky) {
                    int8_t *dst = band + (size_t)ky * bw;
                    if (ky < win.ky0 || ky >= win.ky1) {
                        edgec_mve_fill(dst, pad16, bw);
                        continue;
                    }
                    edgec_mve_fill(dst, pad16, left_pad);
                    edgec_mve_copy(dst + left_pad,
                                      in_batch + (size_t)(origin_y + ky) * (size_t)in_w * k.pixel +
                                          (size_t)in_a * k.pixel,
                                      mid);
                    edgec_mve_fill(dst + left_pad + mid, pad16, bw - left_pad - mid);
                }
                edgec_dw_mve_job job;
                job.x = band;
                job.w = rshift ? packed : filter;
                job.tap = (uint32_t)k.pixel;
                job.row = (uint32_t)bw;
                job.bias = bias;
                job.mult = quant->multiplier;
                job.shift = quant->shift;
                job.out = out;
                job.groups = groups8;
                job.offset = params->output_offset;
                job.lo = params->act_min;
                job.hi = params->act_max;
                job.w_tap = (uint32_t)k.pixel;
                job.positions = out_w;
                job.x_step = (uint32_t)((size_t)params->stride_w * k.pixel);
                if (rshift) {
                    edgec_dw_mve_rshift_call(&job);
                } else {
                    edgec_dw_mve_asm3x3(&job);
                }
                out += (size_t)out_w * k.pixel;
                continue;
            }
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t origin_x = ox * params->stride_w - params->pad_left;
                valid_taps(origin_x, dil_w, k.k_w, in_w, &win.kx0, &win.kx1);
                const int full = win.ky0 == 0 && win.ky1 == k.k_h && win.kx0 == 0 && win.kx1 == k.k_w;
                win.full3x3 = full && is3x3;
                win.pad = !full && params->pad_value != 0;
                win.x = in_batch + ((size_t)(origin_y + win.ky0 * dil_h) * (size_t)in_w +
                                    (size_t)(origin_x + win.kx0 * dil_w)) * k.pixel;
                win.w = filter + ((size_t)win.ky0 * (size_t)k.k_w + (size_t)win.kx0) * k.pixel;
                if (is3x3 && groups8 > 0 && (win.full3x3 || chans <= EDGEC_DW_MVE_WINDOW)) {
                    /* Whole groups of eight channels in the assembly step: in place, or from a copy of the window
                     * with pad_value in place of the taps outside the input. */
                    edgec_dw_mve_job job;
                    job.x = win.x;
                    job.tap = (uint32_t)k.x_tap;
                    job.row = (uint32_t)k.x_row;
                    if (!win.full3x3) {
                        const int8_t *row = in_batch + (ptrdiff_t)origin_y * (ptrdiff_t)in_w * (ptrdiff_t)k.pixel +
                                            (ptrdiff_t)origin_x * (ptrdiff_t)k.pixel;
                        int8_t *dst = window;
                        for (int32_t ky = 0; ky < 3; ++ky) {
                            const int row_in = ky >= win.ky0 && ky < win.ky1;
                            for (int32_t kx = 0; kx < 3; ++kx) {
                                const int8_t *src = row + (size_t)kx * k.x_tap;
                                if (row_in && kx >= win.kx0 && kx < win.kx1) {
                                    edgec_mve_copy(dst, src, (size_t)chans);
                                } else {
                                    edgec_mve_fill(dst, pad16, (size_t)chans);
                                }
                                dst += k.pixel;
                            }
                            row += k.x_row;
                        }
                        job.x = window;
                        job.tap = (uint32_t)k.pixel;
                        job.row = 3u * (uint32_t)k.pixel;
                    }
                    const int8_t *const xw = job.x;
                    const size_t tap_w = job.tap;
                    const size_t row_w = job.row;
                    job.w = rshift ? packed : filter;
                    job.w_tap = (uint32_t)k.pixel;
                    job.bias = bias;
                    job.mult = quant->multiplier;
                    job.shift = quant->shift;
                    job.out = out;
                    job.groups = groups8;
                    job.offset = params->output_offset;
                    job.lo = params->act_min;
                    job.hi = params->act_max;
                    job.positions = 1;
                    job.x_step = (uint32_t)((size_t)params->stride_w * k.pixel);
                    if (win.full3x3 && whole_end == chans) {
                        /* the following windows of the row inside the input go in the same call */
                        int32_t run = (in_w - 3 - origin_x) / params->stride_w + 1;
                        run = run < out_w - ox ? run : out_w - ox;
                        job.positions = run;
                        ox += run - 1;
                        out += (size_t)(run - 1) * k.pixel;
                    }
                    if (rshift) {
                        edgec_dw_mve_rshift_call(&job);
                    } else {
                        edgec_dw_mve_asm3x3(&job);
                    }
                    if (whole_end < chans) {
                        edgec_dw_mve_window tail = win;
                        tail.full3x3 = 1;
                        tail.x = xw;
                        tail.w = filter;
                        edgec_dw_mve_call kt = k;
                        kt.x_tap = tap_w;
                        kt.x_row = row_w;
                        edgec_dw_mve_group(&kt, &tail, whole_end, chans - whole_end, 0, out);
                    }
                } else if (win.full3x3) {
                    const int8_t *const tx0[1] = {win.x};
                    edgec_dw_mve_position(&k, tx0, -1, chans, out);
                } else if (tap_path) {
                    /* Every tap's input pixel, or the pad row where the tap falls outside the input. */
                    const int8_t *tx[EDGEC_DW_MVE_TAPS];
                    const int8_t *row = in_batch + (ptrdiff_t)origin_y * (ptrdiff_t)in_w * (ptrdiff_t)k.pixel +
                                        (ptrdiff_t)origin_x * (ptrdiff_t)k.pixel;
                    int32_t t = 0;
                    for (int32_t ky = 0; ky < k.k_h; ++ky) {
                        const int row_in = ky >= win.ky0 && ky < win.ky1;
                        for (int32_t kx = 0; kx < k.k_w; ++kx) {
                            tx[t++] = row_in && kx >= win.kx0 && kx < win.kx1 ? row + (size_t)kx * k.x_tap : pad_row;
                        }
                        row += k.x_row;
                    }
                    if (taps == 9) {
                        edgec_dw_mve_position(&k, tx, 9, chans, out);
                    } else {
                        edgec_dw_mve_position(&k, tx, taps, chans, out);
                    }
                } else {
                    int32_t c = 0;
                    for (; c < whole_end; c += 8) {
                        edgec_dw_mve_group(&k, &win, c, 8, 1, out);
                    }
                    if (c < chans) {
                        edgec_dw_mve_group(&k, &win, c, chans - c, 0, out);
                    }
                }
                out += k.pixel;
            }
        }
    }
    return EDGEC_OK;
}

#endif

#endif /* EDGEC_DEPTHWISE_MVE_S8_H */
