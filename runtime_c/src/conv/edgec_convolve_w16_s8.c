/*
 * edgec runtime: int8 2-D convolution over weights the compiler widened to int16 (see edgec_convolve_w16_s8 in
 * edgec_nn.h; the layout is compiler/conv_layout.py's).
 *
 * Output positions go two at a time (consecutive in (batch, y, x) order, across rows and batches): the two
 * windows are unpacked into an int16 pair buffer (edgec_conv_quad_w16.h's layout: per chunk of four taps four
 * words, pixel p's halfword pairs (4c, 4c+2) and (4c+1, 4c+3) at words 4c + 2p and 4c + 2p + 1), each window
 * with K rounded up to Kp, a multiple of 4: a last partial chunk comes from the zero tail of the window copy,
 * and its zero weights make it add nothing. Interior windows whose kernel rows are whole 4-tap chunks are
 * unpacked straight from the input rows, as are interior 3x3 windows over 3 channels (taken from the position
 * loop itself), other windows of whole-chunk taps (IC a multiple of 4) tap by tap with the pad value's words for
 * out-of-bounds taps; the rest are copied first with out-of-bounds taps set to pad_value.
 * An odd last position (or a single one) is computed alone as pixel 0 of the buffer (edgec_conv_w16_one_*: 6
 * instructions a chunk for 8 MACs, its own state with stride 0). With the full int8 output range and every channel's
 * shift folded, on the DSP extension, the channel pairs are one assembly loop (edgec_conv_w16_pairs_s8); an odd
 * last channel, narrowed ranges and unfolded shifts take the C loop (SMLAD where there is one) with the general
 * requantization from quant (a doubled stream: its own constants, as the assembly). The weights, biases and
 * folded constants are one stream (edgec_nn.h).
 * Stack: the pair buffer (4 words per 4 taps, 2304 bytes at 576 taps) and one 576-byte window copy.
 */
#include <stddef.h>
#include <string.h>

#include "edgec_conv_common.h"
#include "edgec_conv_quad_w16.h"
#include "edgec_nn.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#endif

#define W16_QUAD_WORDS EDGEC_CONV_W16_TAPS /* 4 words per 4 taps: two pixels */

typedef struct {
    const int8_t *input;
    int32_t in_h, in_w, in_c, k_h, k_w, out_h, out_w;
    int32_t stride_h, stride_w, dil_h, dil_w, pad_top, pad_left, pad_value;
    size_t k;           /* KH * KW * IC taps of one window */
    size_t row_stride;  /* bytes of one input row */
    size_t image_bytes; /* bytes of one input image */
    int32_t batches;
} w16_geometry;

/* The four taps at x as the two words of the quad buffer: halfword pairs (x0, x2) and (x1, x3). */
static inline void unpack4(const int8_t *x, int32_t *dst)
{
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    int32_t v;
    memcpy(&v, x, sizeof v);
    int32_t odd;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(odd) : "r"(v));
    dst[0] = __sxtb16(v);
    dst[1] = odd;
#else
    dst[0] = (int32_t)(((uint32_t)(uint16_t)x[0]) | ((uint32_t)(uint16_t)x[2] << 16));
    dst[1] = (int32_t)(((uint32_t)(uint16_t)x[1]) | ((uint32_t)(uint16_t)x[3] << 16));
#endif
}

/* chunks 4-tap chunks of one pixel from x to dst (that pixel's words of its first chunk); returns dst past them. */
static inline int32_t *unpack_chunks(const int8_t *x, size_t chunks, int32_t *dst)
{
    for (; chunks >= 4u; chunks -= 4u) { /* four chunks per step: the loads and stores paired by the compiler */
        unpack4(x, dst);
        unpack4(x + 4, dst + 4);
        unpack4(x + 8, dst + 8);
        unpack4(x + 12, dst + 12);
        x += 16;
        dst += 16;
    }
    for (size_t c = 0; c < chunks; ++c) {
        unpack4(x + 4u * c, dst);
        dst += 4;
    }
    return dst;
}

#if !(defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP)
/* Four bytes at x as one word (little-endian: x[0] in the low byte). */
static inline uint32_t load_word(const int8_t *x)
{
    uint32_t v;
    memcpy(&v, x, sizeof v);
    return v;
}

/* The four taps of word v (x[0] in its low byte) as unpack4 stores them. */
static inline void unpack_word(uint32_t v, int32_t *dst)
{
    int8_t x[4];
    memcpy(x, &v, sizeof x);
    unpack4(x, dst);
}
#endif

/* A window of three rows of 9 bytes (3x3 over 3 channels: first layers) at src, rows step bytes apart (step >= 9),
 * as one pixel's 7 chunks at q, straight from the input: the chunks that straddle two rows are one word of the
 * later row with its low byte(s) replaced (BFI, PKHTB), the last chunk's fourth tap (K = 27) is zero. Every byte
 * read lies in [src, src + 2 * step + 9), so no window reads past the input. On the DSP extension one block of
 * 9 loads, 3 merges, 14 SXTB16 and 7 STRD. */
static inline void unpack_rows9(const int8_t *src, size_t step, int32_t *q)
{
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    uint32_t t0, t1, t2;
    const int8_t *r1 = src + step;
    const int8_t *r2 = r1 + step;
#define EDGEC_W16_ROWS9_STORE(off)                                                                                    \
    "sxtb16 %[t2], %[t1]\n\t"                                                                                       \
    "sxtb16 %[t1], %[t1], ror #8\n\t"                                                                               \
    "strd %[t2], %[t1], [%[q], #" off "]\n\t"
    __asm__("ldr %[t1], [%[r0]]\n\t" EDGEC_W16_ROWS9_STORE("0")         /* r0[0..3] */
            "ldr %[t1], [%[r0], #4]\n\t" EDGEC_W16_ROWS9_STORE("16")    /* r0[4..7] */
            "ldrb %[t0], [%[r0], #8]\n\t"
            "ldr %[t1], [%[r1], #-1]\n\t"
            "bfi %[t1], %[t0], #0, #8\n\t" EDGEC_W16_ROWS9_STORE("32")  /* r0[8] r1[0..2] */
            "ldr %[t1], [%[r1], #3]\n\t" EDGEC_W16_ROWS9_STORE("48")    /* r1[3..6] */
            "ldr %[t0], [%[r1], #5]\n\t"
            "ldr %[t1], [%[r2], #-2]\n\t"
            "pkhtb %[t1], %[t1], %[t0], asr #16\n\t" EDGEC_W16_ROWS9_STORE("64") /* r1[7..8] r2[0..1] */
            "ldr %[t1], [%[r2], #2]\n\t" EDGEC_W16_ROWS9_STORE("80")    /* r2[2..5] */
            "ldr %[t1], [%[r2], #5]\n\t"
            "lsr %[t1], %[t1], #8\n\t" EDGEC_W16_ROWS9_STORE("96")      /* r2[6..8], 0 */
            : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), "=m"(*(int32_t(*)[28])q)
            : [r0] "r"(src), [r1] "r"(r1), [r2] "r"(r2), [q] "r"(q), "m"(*(const int8_t(*)[9])src),
              "m"(*(const int8_t(*)[10])(r1 - 1)), "m"(*(const int8_t(*)[11])(r2 - 2)));
#undef EDGEC_W16_ROWS9_STORE
#else
    const int8_t *r1 = src + step;
    const int8_t *r2 = r1 + step;
    unpack_word(load_word(src), q);
    unpack_word(load_word(src + 4), q + 4);
    unpack_word((load_word(r1 - 1) & ~0xFFu) | (uint8_t)src[8], q + 8);                 /* r0[8] r1[0..2] */
    unpack_word(load_word(r1 + 3), q + 12);                                              /* r1[3..6] */
    unpack_word((load_word(r2 - 2) & 0xFFFF0000u) | (load_word(r1 + 5) >> 16), q + 16); /* r1[7..8] r2[0..1] */
    unpack_word(load_word(r2 + 2), q + 20);                                              /* r2[2..5] */
    unpack_word(load_word(r2 + 5) >> 8, q + 24);                                         /* r2[6..8], 0 */
#endif
}

/* Two neighbouring windows of ic bytes (a multiple of 4) at src as pixels 0 and 1 of the quad buffer; 8 bytes (two
 * chunks each, e.g. pointwise layers over 8 channels) without loops. */
static inline void unpack_dense_pair(const int8_t *src, size_t ic, int32_t *quad)
{
    if (ic == 8u) {
        unpack4(src, quad);
        unpack4(src + 4, quad + 4);
        unpack4(src + 8, quad + 2);
        unpack4(src + 12, quad + 6);
        return;
    }
    unpack_chunks(src, ic / 4u, quad);
    unpack_chunks(src + ic, ic / 4u, quad + 2);
}

/* The window of position (b, oy, ox) as pixel p of the quad buffer (taps past K are zero or left as set). */
static void unpack_position(const w16_geometry *g, int32_t b, int32_t oy, int32_t ox, int p, int8_t *patch,
                            size_t kp, int32_t *quad)
{
    const size_t row_bytes = (size_t)g->k_w * (size_t)g->in_c;
    const int32_t origin_y = oy * g->stride_h - g->pad_top;
    const int32_t origin_x = ox * g->stride_w - g->pad_left;
    const int8_t *in_batch = g->input + (size_t)b * g->image_bytes;
    const int inside = origin_y >= 0 && origin_x >= 0 && origin_y + (g->k_h - 1) * g->dil_h < g->in_h &&
                       origin_x + (g->k_w - 1) * g->dil_w < g->in_w;
    if (inside && g->dil_w == 1 && row_bytes % 4u == 0u) {
        const int8_t *src = in_batch + (size_t)origin_y * g->row_stride + (size_t)origin_x * (size_t)g->in_c;
        const size_t step = (size_t)g->dil_h * g->row_stride;
        int32_t *dst = quad + 2 * p;
        if (row_bytes == 4u) { /* one chunk a row (e.g. KWS's 10x4 over one channel) */
            for (int32_t ky = 0; ky < g->k_h; ++ky) {
                unpack4(src, dst);
                dst += 4;
                src += step;
            }
            return;
        }
        for (int32_t ky = 0; ky < g->k_h; ++ky) {
            dst = unpack_chunks(src, row_bytes / 4u, dst);
            src += step;
        }
        return;
    }
    if (inside && g->dil_w == 1 && g->k_h == 3 && row_bytes == 9u) { /* 3x3 over 3 channels: first layers */
        const int8_t *src = in_batch + (size_t)origin_y * g->row_stride + (size_t)origin_x * (size_t)g->in_c;
        unpack_rows9(src, (size_t)g->dil_h * g->row_stride, quad + 2 * p);
        return;
    }
    if (g->dil_w == 1 && g->k_h == 3 && row_bytes == 9u) { /* the same at the border: pixel by pixel into patch */
        const int8_t pad = (int8_t)g->pad_value;
        for (int32_t ky = 0; ky < 3; ++ky) {
            const int32_t iy = origin_y + ky * g->dil_h;
            const int row_in = iy >= 0 && iy < g->in_h;
            const int8_t *row = in_batch + (row_in ? (size_t)iy * g->row_stride : 0u);
            for (int32_t kx = 0; kx < 3; ++kx) {
                const int32_t ix = origin_x + kx;
                int8_t *d = patch + 9 * ky + 3 * kx;
                if (row_in && ix >= 0 && ix < g->in_w) {
                    const int8_t *src = row + 3 * (size_t)ix;
                    d[0] = src[0];
                    d[1] = src[1];
                    d[2] = src[2];
                } else {
                    d[0] = pad;
                    d[1] = pad;
                    d[2] = pad;
                }
            }
        }
        unpack_rows9(patch, 9u, quad + 2 * p);
        return;
    }
    int8_t *dst = patch;
    if (inside && g->dil_w == 1) { /* rows of other lengths (e.g. 3x3 over 3 channels): one copy per row */
        const int8_t *src = in_batch + (size_t)origin_y * g->row_stride + (size_t)origin_x * (size_t)g->in_c;
        const size_t step = (size_t)g->dil_h * g->row_stride;
        /* Whole words per row: a row's overrun lands where the next row is then copied, the last row's past K
         * (taps whose weights are zero; patch has room for it); rows whose words would reach past the input's
         * end are copied byte by byte. */
        const size_t words = (row_bytes + 3u) / 4u;
        const int8_t *const input_end = g->input + g->image_bytes * (size_t)g->batches;
        for (int32_t ky = 0; ky < g->k_h; ++ky) {
            if ((size_t)(input_end - src) >= 4u * words) {
                for (size_t i = 0; i < words; ++i) {
                    memcpy(dst + 4u * i, src + 4u * i, 4u);
                }
            } else {
                for (size_t i = 0; i < row_bytes; ++i) {
                    dst[i] = src[i];
                }
            }
            dst += row_bytes;
            src += step;
        }
        unpack_chunks(patch, kp / 4u, quad + 2 * p);
        return;
    }
    const size_t tap = (size_t)g->in_c;
    if (tap % 4u == 0u) { /* whole chunks per tap: unpacked from the input, the pad value's words elsewhere */
        const uint32_t half_pad = (uint32_t)(uint16_t)(int16_t)g->pad_value;
        const int32_t pad_word = (int32_t)(half_pad | (half_pad << 16));
        int32_t *q = quad + 2 * p;
        for (int32_t ky = 0; ky < g->k_h; ++ky) {
            const int32_t iy = origin_y + ky * g->dil_h;
            const int row_in = iy >= 0 && iy < g->in_h;
            const int8_t *row = row_in ? in_batch + (size_t)iy * g->row_stride : in_batch;
            for (int32_t kx = 0; kx < g->k_w; ++kx) {
                const int32_t ix = origin_x + kx * g->dil_w;
                if (row_in && ix >= 0 && ix < g->in_w) {
                    q = unpack_chunks(row + (size_t)ix * tap, tap / 4u, q);
                } else {
                    for (size_t c = 0; c < tap / 4u; ++c) {
                        q[0] = pad_word;
                        q[1] = pad_word;
                        q += 4;
                    }
                }
            }
        }
        return;
    }
    if (g->dil_w == 1 && row_bytes % 4u == 0u) { /* border windows of whole-chunk rows, row by row into quad */
        int32_t kx0, kx1;
        valid_taps(origin_x, 1, g->k_w, g->in_w, &kx0, &kx1);
        const size_t before = (size_t)kx0 * tap;
        const size_t run = (size_t)(kx1 - kx0) * tap;
        const int8_t pad = (int8_t)g->pad_value;
        const uint32_t half_pad = (uint32_t)(uint16_t)(int16_t)g->pad_value;
        const int32_t pad_word = (int32_t)(half_pad | (half_pad << 16));
        int32_t *q = quad + 2 * p;
        for (int32_t ky = 0; ky < g->k_h; ++ky) {
            const int32_t iy = origin_y + ky * g->dil_h;
            if (iy < 0 || iy >= g->in_h || run == 0u) {
                for (size_t c = 0; c < row_bytes / 4u; ++c) {
                    q[4u * c] = pad_word;
                    q[4u * c + 1u] = pad_word;
                }
            } else {
                const int8_t *src = in_batch + (size_t)iy * g->row_stride + (size_t)(origin_x + kx0) * tap;
                if (run == row_bytes) {
                    unpack_chunks(src, row_bytes / 4u, q);
                } else if (row_bytes == 4u) { /* one chunk: its four bytes picked, no loops */
                    int8_t bytes[4];
                    for (size_t i = 0; i < 4u; ++i) {
                        bytes[i] = i >= before && i < before + run ? src[i - before] : pad;
                    }
                    unpack4(bytes, q);
                } else {
                    for (size_t i = 0; i < before; ++i) {
                        dst[i] = pad;
                    }
                    for (size_t i = 0; i < run; ++i) {
                        dst[before + i] = src[i];
                    }
                    for (size_t i = before + run; i < row_bytes; ++i) {
                        dst[i] = pad;
                    }
                    unpack_chunks(dst, row_bytes / 4u, q);
                }
            }
            q += row_bytes;
        }
        return;
    }
    if (g->dil_w == 1) { /* border windows row by row: the valid taps of a row are one run (e.g. 3x3 over 3) */
        int32_t kx0, kx1;
        valid_taps(origin_x, 1, g->k_w, g->in_w, &kx0, &kx1);
        const size_t before = (size_t)kx0 * tap;
        const size_t run = (size_t)(kx1 - kx0) * tap;
        const int8_t pad = (int8_t)g->pad_value;
        for (int32_t ky = 0; ky < g->k_h; ++ky) {
            const int32_t iy = origin_y + ky * g->dil_h;
            if (iy < 0 || iy >= g->in_h || run == 0u) {
                for (size_t i = 0; i < row_bytes; ++i) {
                    dst[i] = pad;
                }
            } else {
                const int8_t *src = in_batch + (size_t)iy * g->row_stride + (size_t)(origin_x + kx0) * tap;
                for (size_t i = 0; i < before; ++i) {
                    dst[i] = pad;
                }
                for (size_t i = 0; i < run; ++i) {
                    dst[before + i] = src[i];
                }
                for (size_t i = before + run; i < row_bytes; ++i) {
                    dst[i] = pad;
                }
            }
            dst += row_bytes;
        }
        unpack_chunks(patch, kp / 4u, quad + 2 * p);
        return;
    }
    for (int32_t ky = 0; ky < g->k_h; ++ky) {
        const int32_t iy = origin_y + ky * g->dil_h;
        const int row_in = iy >= 0 && iy < g->in_h;
        const int8_t *row = row_in ? in_batch + (size_t)iy * g->row_stride : in_batch;
        for (int32_t kx = 0; kx < g->k_w; ++kx) {
            const int32_t ix = origin_x + kx * g->dil_w;
            if (row_in && ix >= 0 && ix < g->in_w) {
                const int8_t *src = row + (size_t)ix * tap;
                for (size_t i = 0; i < tap; ++i) {
                    dst[i] = src[i];
                }
            } else {
                for (size_t i = 0; i < tap; ++i) {
                    dst[i] = (int8_t)g->pad_value;
                }
            }
            dst += tap;
        }
    }
    unpack_chunks(patch, kp / 4u, quad + 2 * p);
}

/* The halfword h (0 low, 1 high) of a word as a signed value. */
static inline int32_t half(int32_t word, int h)
{
    const uint32_t u = ((uint32_t)word >> (16 * h)) & 0xFFFFu;
    return (int32_t)(u ^ 0x8000u) - 0x8000;
}

static inline int32_t word_at(const int16_t *stream, size_t word)
{
    int32_t v;
    memcpy(&v, stream + 2u * word, sizeof v);
    return v;
}

/* e * w summed over the two halfword pairs, added to acc modulo 2^32 (SMLAD where there is one). */
static inline uint32_t dot2(uint32_t acc, int32_t e, int32_t w)
{
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    return (uint32_t)__smlad(e, w, (int32_t)acc);
#else
    return acc + (uint32_t)(half(e, 0) * half(w, 0)) + (uint32_t)(half(e, 1) * half(w, 1));
#endif
}

/* EDGEC_W16_FINISH_DOUBLED / _SIGNED (edgec_conv_quad_w16.h) in C: the doubled sum, the channel's constants
 * {multiplier, c, s, mark} at word consts: SMMLAR, the sign's ADD (signed), ASR (as a floor division), SSAT #8. */
static inline int8_t finish_doubled(uint32_t sum, const int16_t *stream, size_t consts, int is_signed)
{
    const int32_t a2 = edgec_wrap_int32(sum);
    const int64_t t = (int64_t)word_at(stream, consts + 1u) * 4294967296LL + (int64_t)a2 * word_at(stream, consts) +
                      0x80000000LL;
    const int32_t high = edgec_wrap_int32((uint32_t)((uint64_t)t >> 32)) - (is_signed && a2 < 0);
    const uint32_t s = (uint32_t)word_at(stream, consts + 2u);
    const int32_t v = high >= 0 ? (int32_t)((uint32_t)high >> s) : -(int32_t)((uint32_t)(-(high + 1)) >> s) - 1;
    return (int8_t)edgec_clamp(v, -128, 127);
}

/* Every channel of the two pixels in the pair buffer from the stream (edgec_conv_quad_w16.h's layout), the first n
 * (1 or 2) positions stored at out, out + out_c; from channel pair first_pair on; doubled: 0 (the folded
 * stream), 1 (doubled, offset -128) or 2 (doubled, signed rounding). */
static void channels_c(const int32_t *quad, const int16_t *stream, size_t kp, const int32_t *bias,
                       const edgec_per_channel_quant *quant, const edgec_conv_params *params, int32_t out_c, int n,
                       size_t first_pair, size_t end_pair, int doubled, int8_t *out)
{
    const size_t chunks = kp / 4u;
    const size_t entry_words = 12u + kp;
    for (size_t pair = first_pair; pair < end_pair && 2u * pair < (size_t)out_c; ++pair) {
        const size_t w = pair * entry_words + 4u;
        for (int ch = 0; ch < 2 && 2 * (int32_t)pair + ch < out_c; ++ch) {
            const int32_t oc = 2 * (int32_t)pair + ch;
            for (int p = 0; p < n; ++p) {
                /* a doubled stream: the stream's biases (twice the values, 0 for a constant channel) */
                uint32_t sum = doubled ? (uint32_t)word_at(stream, pair * entry_words + (size_t)ch) : (uint32_t)bias[oc];
                for (size_t c = 0; c < chunks; ++c) {
                    sum = dot2(sum, quad[4u * c + 2u * (size_t)p], word_at(stream, w + 4u * c + 2u * (size_t)ch));
                    sum = dot2(sum, quad[4u * c + 2u * (size_t)p + 1u],
                               word_at(stream, w + 4u * c + 2u * (size_t)ch + 1u));
                }
                out[(size_t)p * (size_t)out_c + (size_t)oc] =
                    doubled ? finish_doubled(sum, stream, pair * entry_words + 4u + kp + 4u * (size_t)ch,
                                             doubled == 2)
                            : finish(sum, quant->multiplier[oc], quant->shift[oc], params);
            }
        }
    }
}

/* The output positions whose windows unpack_rows9 takes straight from the position loop: rows [y0, y0 + rows) and
 * columns [x0, x0 + cols) of a 3x3 window over 3 channels (columns not dilated) that lie inside the input; none
 * (rows 0) for other layers. */
typedef struct {
    int32_t y0, x0;
    uint32_t rows, cols;
    size_t step;                    /* bytes from one window row to the next */
    size_t y_step, x_step;          /* bytes from one window to the next down, across */
    ptrdiff_t origin;               /* the window of position (0, 0, 0) from the input (before the padding) */
} w16_rows9;

/* The output indices [*first, *first + count) whose windows along one axis lie inside [0, size). */
static uint32_t inside_span(int32_t size, int32_t out, int32_t stride, int32_t taps, int32_t dil, int32_t pad,
                            int32_t *first)
{
    const int32_t room = size - 1 - (taps - 1) * dil + pad; /* the largest origin * stride inside, plus pad */
    *first = (pad + stride - 1) / stride;
    if (room < 0) {
        return 0u;
    }
    int32_t last = room / stride;
    if (last > out - 1) {
        last = out - 1;
    }
    return last >= *first ? (uint32_t)(last - *first + 1) : 0u;
}

static w16_rows9 rows9_span(const w16_geometry *g)
{
    w16_rows9 r = {0, 0, 0u, 0u, (size_t)g->dil_h * g->row_stride, (size_t)g->stride_h * g->row_stride,
                   (size_t)g->stride_w * 3u,
                   -(ptrdiff_t)g->pad_top * (ptrdiff_t)g->row_stride - (ptrdiff_t)g->pad_left * 3};
    if (g->k_h == 3 && g->k_w * g->in_c == 9 && g->dil_w == 1) {
        r.rows = inside_span(g->in_h, g->out_h, g->stride_h, g->k_h, g->dil_h, g->pad_top, &r.y0);
        r.cols = inside_span(g->in_w, g->out_w, g->stride_w, g->k_w, 1, g->pad_left, &r.x0);
    }
    return r;
}

/* The window of position (b, oy, ox) as pixel p of the quad buffer: straight from the input rows where rows9
 * takes it, else unpack_position. */
static inline void unpack_pixel(const w16_geometry *g, const w16_rows9 *r, int32_t b, int32_t oy, int32_t ox, int p,
                                int8_t *patch, size_t kp, int32_t *quad)
{
    if ((uint32_t)(oy - r->y0) < r->rows && (uint32_t)(ox - r->x0) < r->cols) {
        unpack_rows9(g->input + (r->origin + (ptrdiff_t)((size_t)b * g->image_bytes + (size_t)oy * r->y_step +
                                                         (size_t)ox * r->x_step)),
                     r->step, quad + 2 * p);
    } else {
        unpack_position(g, b, oy, ox, p, patch, kp, quad);
    }
}

/* The next output position in (b, oy, ox) order. */
static inline void next_position(const w16_geometry *g, int32_t *b, int32_t *oy, int32_t *ox)
{
    if (++*ox == g->out_w) {
        *ox = 0;
        if (++*oy == g->out_h) {
            *oy = 0;
            ++*b;
        }
    }
}

edgec_status edgec_convolve_w16_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                   const edgec_dims *input_dims, const int8_t *input, const edgec_dims *filter_dims,
                                   const int16_t *filter, const int32_t *table, const edgec_dims *output_dims,
                                   int8_t *output)
{
    if (!convolve_args_ok(params, quant, input_dims, input, filter_dims, (const int8_t *)filter, table, output_dims,
                          output)) {
        return EDGEC_ARG_ERROR;
    }
    w16_geometry g = {input, input_dims->h, input_dims->w, input_dims->c, filter_dims->h, filter_dims->w,
                      output_dims->h, output_dims->w, params->stride_h, params->stride_w, params->dilation_h,
                      params->dilation_w, params->pad_top, params->pad_left, params->pad_value, 0, 0, 0, input_dims->n};
    g.k = (size_t)g.k_h * (size_t)g.k_w * (size_t)g.in_c;
    if (g.k > EDGEC_CONV_W16_TAPS) {
        return EDGEC_ARG_ERROR;
    }
    g.row_stride = (size_t)g.in_w * (size_t)g.in_c;
    g.image_bytes = (size_t)g.in_h * g.row_stride;
    const size_t kp = (g.k + 3u) & ~(size_t)3u;
    const size_t out_c = (size_t)filter_dims->n;
    const size_t positions = (size_t)input_dims->n * (size_t)g.out_h * (size_t)g.out_w;
    int8_t patch[EDGEC_CONV_W16_TAPS + 4]; /* + the last row's word overrun */
    int32_t quad[W16_QUAD_WORDS];
    memset(patch + g.k, 0, kp - g.k);
    /* compiler/conv_layout.py doubles a whole layer's stream or none of it: its first entry tells */
    const int32_t mark = word_at(filter, 4u + kp + 3u);
    const int doubled = mark == (int32_t)EDGEC_W16_DOUBLED ? 1 : mark == (int32_t)EDGEC_W16_DOUBLED_SIGNED ? 2 : 0;
    size_t asm_pairs = 0; /* channel pairs the assembly loop takes; the rest (an odd last channel) in C */
#if defined(EDGEC_CONV_W16_ASM)
    void (*pairs_loop)(edgec_w16_pairs *) = edgec_conv_w16_pairs_s8;
    void (*one_loop)(edgec_w16_pairs *) = edgec_conv_w16_one_s8; /* an odd last position */
    if (params->act_min == -128 && params->act_max == 127) { /* the clamp is one SSAT */
        asm_pairs = out_c / 2u;
        int folded = 1; /* every entry's r1 <= EDGEC_RQ_FOLD_MAX_R1: the loop without the check */
        for (size_t pair = 0; pair < asm_pairs; ++pair) {
            const size_t consts = pair * (12u + kp) + 4u + kp;
            folded &= (uint32_t)word_at(filter, consts + 3u) <= (uint32_t)EDGEC_RQ_FOLD_MAX_R1 &&
                      (uint32_t)word_at(filter, consts + 7u) <= (uint32_t)EDGEC_RQ_FOLD_MAX_R1;
        }
        if (doubled == 1) {
            pairs_loop = kp <= 32u ? edgec_conv_w16_pairs_short_doubled_s8 : edgec_conv_w16_pairs_doubled_s8;
            one_loop = edgec_conv_w16_one_doubled_s8;
        } else if (doubled == 2) {
            pairs_loop = kp <= 32u ? edgec_conv_w16_pairs_short_signed_s8 : edgec_conv_w16_pairs_signed_s8;
            one_loop = edgec_conv_w16_one_signed_s8;
        } else if (kp <= 32u) {
            pairs_loop = folded ? edgec_conv_w16_pairs_short_folded_s8 : edgec_conv_w16_pairs_short_s8;
        } else {
            pairs_loop = folded ? edgec_conv_w16_pairs_folded_s8 : edgec_conv_w16_pairs_s8;
        }
        if (!doubled && folded) {
            one_loop = edgec_conv_w16_one_folded_s8;
        }
    }
    const uint32_t skip = (uint32_t)((8u - kp / 4u % 8u) % 8u);
    /* The loop's state but for the outputs, set once (the loop only reads it). */
    edgec_w16_pairs st = {quad, quad + kp, output, (uint32_t)out_c, output + 2u * asm_pairs, 0u,
                          params->output_offset, (const int32_t *)(const void *)filter, skip};
#endif
    /* A 1x1 window at stride 1 without padding over whole chunks: position i's window is input[i * IC, +IC). */
    const int dense = g.k_h == 1 && g.k_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
                      g.pad_left == 0 && g.out_h == g.in_h && g.out_w == g.in_w && g.in_c % 4 == 0;
    const w16_rows9 rows9 = rows9_span(&g);
    int32_t b = 0, oy = 0, ox = 0;
    const size_t paired = positions & ~(size_t)1u; /* then an odd last position alone, as pixel 0 */
    for (size_t done = 0; done < paired; done += 2u) {
        if (dense) {
            unpack_dense_pair(input + done * (size_t)g.in_c, (size_t)g.in_c, quad);
        } else {
            for (int p = 0; p < 2; ++p) {
                unpack_pixel(&g, &rows9, b, oy, ox, p, patch, kp, quad);
                next_position(&g, &b, &oy, &ox);
            }
        }
        int8_t *out = output + done * out_c;
#if defined(EDGEC_CONV_W16_ASM)
        if (asm_pairs > 0u) {
            st.out = out;
            st.out_end = out + 2u * asm_pairs;
            pairs_loop(&st);
        }
#endif
        if (2u * asm_pairs < out_c) {
            channels_c(quad, filter, kp, table, quant, params, (int32_t)out_c, 2, asm_pairs, out_c, doubled, out);
        }
    }
    if (paired < positions) { /* (b, oy, ox) is that position */
        if (dense) {
            unpack_chunks(input + paired * (size_t)g.in_c, (size_t)g.in_c / 4u, quad);
        } else {
            unpack_pixel(&g, &rows9, b, oy, ox, 0, patch, kp, quad);
        }
        int8_t *out = output + paired * out_c;
#if defined(EDGEC_CONV_W16_ASM)
        if (asm_pairs > 0u) { /* its own state: stride 0, and its entry steps over chunks of another size */
            edgec_w16_pairs one = {quad, quad + kp, out, 0u, out + 2u * asm_pairs, 0u, params->output_offset,
                                   (const int32_t *)(const void *)filter, skip};
            one_loop(&one);
        }
#endif
        if (2u * asm_pairs < out_c) {
            channels_c(quad, filter, kp, table, quant, params, (int32_t)out_c, 1, asm_pairs, out_c, doubled, out);
        }
    }
    return EDGEC_OK;
}
