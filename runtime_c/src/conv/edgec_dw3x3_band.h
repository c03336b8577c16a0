/*
 * edgec runtime, internal to edgec_depthwise_conv_fast_s8.c (off Helium): the 3x3 undilated depthwise convolution
 * with depth_multiplier 1 and horizontal stride 1 or 2, through a channel-major int16 copy of the input.
 *
 * The output is cut into bands of rows and the channels into chunks of up to four. For one band and chunk the
 * input rows the band reads are copied once into a stack buffer laid out [channel][row][column] as int16, the
 * padding (rows and columns outside the input) holding the pad value, so every window is in bounds and the taps
 * of one channel that are horizontally adjacent are one 32-bit word of two halfwords:
 *  - DSP extension: two outputs of a row per step. For stride 1 the four columns 2k..2k+3 of a kernel row are
 *    two aligned words W0, W1 (one LDRD); with A = (w0, w1) and B = (w1, w2) of that kernel row,
 *    out(2k) += SMLAD(W0, A) + SMLABT(W1, B) and out(2k+1) += SMLAD(W1, B) + SMLATB(W0, A). For stride 2 the
 *    columns 4k..4k+4 are three words: out(2k) += SMLAD(W0, A) + SMLABB(W1, C), out(2k+1) += SMLAD(W1, A) +
 *    SMLABB(W2, C) with C = (w2, .). Eighteen multiply-accumulates in twelve instructions plus three loads.
 *  - No DSP (Cortex-M3; GCC, Thumb-2): stride 1 two outputs per step in assembly, each halfword loaded once
 *    per kernel row and multiplied into both outputs it belongs to (12 LDRSH, 18 MLA); elsewhere (stride 2, the
 *    host, other compilers) nine halfword loads and multiply-adds per output in C.
 * The accumulators of a group of rows go to a small stack array; a second loop requantizes them into the NHWC
 * output (one channel's outputs of consecutive rows are one run, a channel stride apart).
 * With the compiler's table (compiler/dw_layout.py, edgec_depthwise_conv3x3_pairs_s8) the weights are doubled
 * pairs and each channel has SMMLAR requantization constants (dw3_rq: SMMLAR, ASR, SSAT per output), nothing is
 * packed per call, and:
 *  - a transposed table (narrow tall maps, KWS's 25x5) swaps rows and columns throughout (dw3_geom's strides),
 *    so lines run down the map: 5 lines of 25 instead of 25 lines of 5;
 *  - with the DSP extension, the full int8 clamp and act_min at the output offset (EDGEC_DW3_T_NOSIGN), the
 *    buffer rows are a fixed 8..128 halfwords apart and assembly loops do the multiply-accumulates and the
 *    requantization of a line together, no accumulator array (dw3_fused_* for long stride-1 lines, unrolled by
 *    two; dw3_fusede_* for an even number of pairs a line, every channel of a chunk in one statement, the tiled
 *    bands' case, two pairs a loop step; dw3_fusede2_* the same at stride 2; dw3_fusedf*_6 / dw3_fusedf*_3 for
 *    lines of exactly 6 or 3 outputs, unrolled, MobileNet's small maps; dw3_fusedc1_* / dw3_fusedc2_* for other
 *    short stride-1 lines and the other stride-2 lines). Short calls copy eight channels a chunk. With DSP the
 *    copy is assembly (dw3_rows4: PKHBT / PKHTB gather two pixels' bytes, SXTB16 widens them, 24 instructions
 *    per 16 halfwords, one STRD a plane when the planes are word aligned, unaligned STRs at an odd pad_left).
 *    Costs on the Cortex-M4: KWS 1.90 instructions per MAC; MobileNet's stride-1 layers 1.8-2.0 (2.65 on
 *    3x3x256), stride 2 2.7-2.8 (3.5 on 6x6 -> 3x3; the copy of four inputs per output is about a third).
 * Stack: the buffer is 2 KiB when the shape's rows fit in it, else 4 KiB, plus 516 bytes of accumulators.
 * Stride 2 with at most 9 outputs (36 without DSP) keeps the general path, which is cheaper there, unless the
 * fused loops take it.
 * Column j of the buffer is input column j - pad_left; a row of the buffer is Wp halfwords, Wp even, so that
 * each row starts word aligned. The sums are those of the reference (raw input times weight plus the bias, the
 * pad value at padded taps), wrapping like its int32 accumulator (with the table, twice that, which the compiler
 * bounds so nothing wraps); the requantization is finish()'s, or the table's equivalent.
 */
#ifndef EDGEC_DW3X3_BAND_H
#define EDGEC_DW3X3_BAND_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "edgec_conv_common.h"
#include "edgec_dot_s8.h"

#if defined(__GNUC__)
#define EDGEC_DW3_ALIGNED(p) ((const int16_t *)__builtin_assume_aligned((p), 4))
#define EDGEC_DW3_NOINLINE __attribute__((noinline))
#define EDGEC_DW3_ALIGN4 __attribute__((aligned(4)))
#define EDGEC_DW3_INLINE inline __attribute__((always_inline))
#else
#define EDGEC_DW3_ALIGNED(p) (p)
#define EDGEC_DW3_NOINLINE
#define EDGEC_DW3_ALIGN4
#define EDGEC_DW3_INLINE inline
#endif

/* The assembly loops: GCC (not Clang, whose allocator is not asked to find thirteen registers), Thumb-2,
 * optimizing for speed; elsewhere the C loops, the same sums. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__thumb2__) && defined(__OPTIMIZE__) && \
    !defined(__OPTIMIZE_SIZE__)
#define EDGEC_DW3_ASM 1
#else
#define EDGEC_DW3_ASM 0
#endif

/* Geometry of one call. */
typedef struct {
    const int8_t *input;  /* the batch's first pixel */
    int8_t *output;       /* the batch's first output pixel */
    int32_t in_h, in_w, chans, out_h, out_w;
    int32_t stride_h, stride_w, pad_top, pad_left;
    int32_t wp;           /* halfwords per buffer row (even) */
    int32_t conv_cols;    /* input columns copied: [0, conv_cols) */
    size_t in_row, in_col;   /* bytes between input rows and between columns (swapped when transposed) */
    size_t out_row, out_col; /* the same for the output */
    int32_t fused;           /* the fused line loop (dw3_fused_<wp>) takes the call */
    int16_t pad;
} dw3_geom;

static inline void dw3_store2(int16_t *dst, int32_t v)
{
    memcpy(dst, &v, sizeof v);
}

/* Word i of a word-aligned run of halfwords (two int16, the lower column in the low half). */
static inline int32_t dw3_word(const int16_t *p, int32_t i)
{
    int32_t v;
    memcpy(&v, p + 2 * i, sizeof v);
    return v;
}

#if defined(EDGEC_DOT_DSP)
static inline int32_t dw3_pkhbt(int32_t lo, int32_t hi)
{
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}

static inline int32_t dw3_pkhtb(int32_t hi, int32_t lo)
{
    int32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
    return r;
}

/* The quad step of dw3_row4 (four pixels), STR selecting STRD (aligned planes) or two STRs (planes at an odd
 * halfword, which the cores with the DSP extension store unaligned). */
#define EDGEC_DW3_ROW4_ASM(STR)                                                                                    \
    "1:\n\t"                                                                                                       \
    "ldr %[a], [%[s]]\n\t"                                                                                         \
    "ldr %[b], [%[s], %[pix]]\n\t"                                                                                 \
    "add %[s], %[s], %[pix], lsl #1\n\t"                                                                           \
    "ldr %[c], [%[s]]\n\t"                                                                                         \
    "ldr %[e], [%[s], %[pix]]\n\t"                                                                                 \
    "add %[s], %[s], %[pix], lsl #1\n\t"                                                                           \
    "pkhbt %[t0], %[a], %[b], lsl #16\n\t"                                                                         \
    "pkhtb %[b], %[b], %[a], asr #16\n\t"                                                                          \
    "pkhbt %[a], %[c], %[e], lsl #16\n\t"                                                                          \
    "pkhtb %[e], %[e], %[c], asr #16\n\t"                                                                          \
    "sxtb16 %[c], %[t0]\n\t"                                                                                       \
    "sxtb16 %[t1], %[a]\n\t"                                                                                       \
    STR(d0)                                                                                                        \
    "sxtb16 %[c], %[t0], ror #8\n\t"                                                                               \
    "sxtb16 %[t1], %[a], ror #8\n\t"                                                                               \
    STR(d1)                                                                                                        \
    "sxtb16 %[c], %[b]\n\t"                                                                                        \
    "sxtb16 %[t1], %[e]\n\t"                                                                                       \
    STR(d2)                                                                                                        \
    "sxtb16 %[c], %[b], ror #8\n\t"                                                                                \
    "sxtb16 %[t1], %[e], ror #8\n\t"                                                                               \
    STR(d3)                                                                                                        \
    "subs %[n], %[n], #1\n\t"                                                                                      \
    "bne 1b\n\t"
#define EDGEC_DW3_STRD(d) "strd %[c], %[t1], [%[" #d "]], #8\n\t"
#define EDGEC_DW3_STR2(d) "str %[c], [%[" #d "]], #4\n\tstr %[t1], [%[" #d "]], #4\n\t"

/* Pixels a and b (their four channels' bytes) as the four planes' words (a_c, b_c) at d, d + p, d + 2p, d + 3p. */
static EDGEC_DW3_INLINE void dw3_pair_planes(int16_t *d, size_t p, int32_t a, int32_t b)
{
    const int32_t t0 = dw3_pkhbt(a, b), t1 = dw3_pkhtb(b, a);
    dw3_store2(d, __sxtb16(t0));
    dw3_store2(d + p, edgec_sxtb16_odd(t0));
    dw3_store2(d + 2 * p, __sxtb16(t1));
    dw3_store2(d + 3 * p, edgec_sxtb16_odd(t1));
}

/* One buffer row of the four channels of src (cols pixels, pixel bytes apart) into the planes d, d + p, d + 2p,
 * d + 3p. Two pixels a and b become the four channels' words (a_c, b_c) by two PKHs and four SXTB16s: PKHBT /
 * PKHTB gather bytes (a0 a1 b0 b1) and (a2 a3 b2 b3), whose even and odd bytes SXTB16 sign-extends
 * (dw3_pair_planes). Here a pair a step, then a pixel alone; the assembly copy below takes four pixels a step
 * (24 instructions for 16 halfwords, one STRD a plane where the planes are word aligned). */
static EDGEC_DW3_INLINE void dw3_row4(const int8_t *src, size_t pixel, int16_t *d, size_t p, int32_t cols)
{
    for (int32_t pairs = cols >> 1; pairs > 0; --pairs) {
        dw3_pair_planes(d, p, edgec_load_s8x4(src), edgec_load_s8x4(src + pixel));
        src += 2 * pixel;
        d += 2;
    }
    if (cols & 1) {
        const int32_t a = edgec_load_s8x4(src);
        const int32_t e = __sxtb16(a);
        const int32_t o = edgec_sxtb16_odd(a);
        d[0] = (int16_t)e;
        d[p] = (int16_t)o;
        d[2 * p] = (int16_t)(e >> 16);
        d[3 * p] = (int16_t)(o >> 16);
    }
}

#if EDGEC_DW3_ASM
/* Pixels a and b (registers a, b) into the four planes' words (a_c, b_c), stored at AT(d<c>): EDGEC_DW3_POST4
 * (post-incremented) or EDGEC_DW3_UP4 (four planes up, the upper channels of eight). */
#define EDGEC_DW3_POST4(d) "[%[" #d "]], #4"
#define EDGEC_DW3_UP4(d) "[%[" #d "], %[p4]]"
#define EDGEC_DW3_SPLIT4_ASM(AT)                                                                                   \
    "pkhbt %[t0], %[a], %[b], lsl #16\n\t"                                                                         \
    "pkhtb %[b], %[b], %[a], asr #16\n\t"                                                                          \
    "sxtb16 %[c], %[t0]\n\t"                                                                                       \
    "str %[c], " AT(d0) "\n\t"                                                                                     \
    "sxtb16 %[c], %[t0], ror #8\n\t"                                                                               \
    "str %[c], " AT(d1) "\n\t"                                                                                     \
    "sxtb16 %[c], %[b]\n\t"                                                                                        \
    "str %[c], " AT(d2) "\n\t"                                                                                     \
    "sxtb16 %[c], %[b], ror #8\n\t"                                                                                \
    "str %[c], " AT(d3) "\n\t"
/* The rows of a pair (PAIR) or a pixel alone (ONE) of dw3_row4, the planes' pointers post-incremented. */
#define EDGEC_DW3_PAIR4_ASM                                                                                        \
    "ldr %[a], [%[s]]\n\t"                                                                                         \
    "ldr %[b], [%[s], %[pix]]\n\t"                                                                                 \
    "add %[s], %[s], %[pix], lsl #1\n\t"                                                                           \
    EDGEC_DW3_SPLIT4_ASM(EDGEC_DW3_POST4)
#define EDGEC_DW3_ONE4_ASM                                                                                         \
    "ldr %[a], [%[s]]\n\t"                                                                                         \
    "add %[s], %[s], %[pix]\n\t"                                                                                   \
    "sxtb16 %[b], %[a]\n\t"                                                                                        \
    "sxtb16 %[c], %[a], ror #8\n\t"                                                                                \
    "strh %[b], [%[d0]], #2\n\t"                                                                                   \
    "strh %[c], [%[d1]], #2\n\t"                                                                                   \
    "asr %[b], %[b], #16\n\t"                                                                                      \
    "asr %[c], %[c], #16\n\t"                                                                                      \
    "strh %[b], [%[d2]], #2\n\t"                                                                                   \
    "strh %[c], [%[d3]], #2\n\t"
/* From a row's end to the next row's start (input and planes), and the row count. */
#define EDGEC_DW3_NEXTROW_ASM                                                                                      \
    "ldr %[a], %[sgap]\n\t"                                                                                        \
    "add %[s], %[s], %[a]\n\t"                                                                                     \
    "ldr %[a], %[dgap]\n\t"                                                                                        \
    "add %[d0], %[d0], %[a]\n\t"                                                                                   \
    "add %[d1], %[d1], %[a]\n\t"                                                                                   \
    "add %[d2], %[d2], %[a]\n\t"                                                                                   \
    "add %[d3], %[d3], %[a]\n\t"                                                                                   \
    "subs %[rows], %[rows], #1\n\t"                                                                                \
    "bne 0b\n\t"
/* Every row of dw3_rows4 in one statement: per row the quads (STR: EDGEC_DW3_STRD or EDGEC_DW3_STR2), the pair
 * and the pixel alone that the mode word asks for, then the steps to the next row (st[]: 0 quads, 1 mode, 2 / 3
 * the bytes from a row's end to the next row's start in the input and in the planes). */
#define EDGEC_DW3_ROWS4_ASM(STR)                                                                                   \
    __asm__ volatile("0:\n\t"                                                                                      \
                     "ldr %[n], %[quads]\n\t"                                                                      \
                     "cmp %[n], #0\n\t"                                                                            \
                     "beq 2f\n\t" EDGEC_DW3_ROW4_ASM(STR) "2:\n\t"                                                 \
                     "ldr %[a], %[mode]\n\t"                                                                       \
                     "lsls %[a], %[a], #31\n\t" /* C: a pair, N: a pixel alone */                                  \
                     "bcc 3f\n\t" EDGEC_DW3_PAIR4_ASM "3:\n\t"                                                     \
                     "ldr %[a], %[mode]\n\t"                                                                       \
                     "lsls %[a], %[a], #31\n\t"                                                                    \
                     "bpl 4f\n\t" EDGEC_DW3_ONE4_ASM "4:\n\t"                                                      \
                     EDGEC_DW3_NEXTROW_ASM                                                                         \
                     : [s] "+r"(src), [d0] "+r"(d), [d1] "+r"(d1), [d2] "+r"(d2), [d3] "+r"(d3), [n] "=&r"(n),     \
                       [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [e] "=&r"(e), [t0] "=&r"(t0), [t1] "=&r"(t1),     \
                       [rows] "+r"(rows)                                                                           \
                     : [pix] "r"(pixel), [quads] "m"(st[0]), [mode] "m"(st[1]), [sgap] "m"(st[2]),                 \
                       [dgap] "m"(st[3])                                                                           \
                     : "cc", "memory")

/* Eight channels a row (the chunk of short calls): two pixels a step, the upper four channels' words stored at a
 * register offset of four planes (26 instructions for 32 halfwords), then a pixel alone, in one statement for
 * every row (a short row pays about fourteen instructions besides its pixels, half of two passes of four). */
#define EDGEC_DW3_ROWS8_ASM                                                                                        \
    __asm__ volatile("0:\n\t"                                                                                      \
                     "ldr %[n], %[pairs]\n\t"                                                                      \
                     "cmp %[n], #0\n\t"                                                                            \
                     "beq 2f\n\t"                                                                                  \
                     "1:\n\t"                                                                                      \
                     "add %[t1], %[s], %[pix]\n\t"                                                                 \
                     "ldr %[a], [%[s], #4]\n\t"                                                                    \
                     "ldr %[b], [%[t1], #4]\n\t"                                                                   \
                     EDGEC_DW3_SPLIT4_ASM(EDGEC_DW3_UP4)                                                           \
                     "ldr %[a], [%[s]]\n\t"                                                                        \
                     "ldr %[b], [%[t1]]\n\t"                                                                       \
                     "add %[s], %[s], %[pix], lsl #1\n\t"                                                          \
                     EDGEC_DW3_SPLIT4_ASM(EDGEC_DW3_POST4)                                                         \
                     "subs %[n], %[n], #1\n\t"                                                                     \
                     "bne 1b\n\t"                                                                                  \
                     "2:\n\t"                                                                                      \
                     "ldr %[a], %[mode]\n\t"                                                                       \
                     "cmp %[a], #0\n\t"                                                                            \
                     "beq 4f\n\t"                                                                                  \
                     "ldr %[a], [%[s], #4]\n\t"                                                                    \
                     "sxtb16 %[b], %[a]\n\t"                                                                       \
                     "sxtb16 %[c], %[a], ror #8\n\t"                                                               \
                     "strh %[b], [%[d0], %[p4]]\n\t"                                                               \
                     "strh %[c], [%[d1], %[p4]]\n\t"                                                               \
                     "asr %[b], %[b], #16\n\t"                                                                     \
                     "asr %[c], %[c], #16\n\t"                                                                     \
                     "strh %[b], [%[d2], %[p4]]\n\t"                                                               \
                     "strh %[c], [%[d3], %[p4]]\n\t" EDGEC_DW3_ONE4_ASM "4:\n\t"                                   \
                     EDGEC_DW3_NEXTROW_ASM                                                                         \
                     : [s] "+r"(src), [d0] "+r"(d), [d1] "+r"(d1), [d2] "+r"(d2), [d3] "+r"(d3), [n] "=&r"(n),     \
                       [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [t0] "=&r"(t0), [t1] "=&r"(t1),                   \
                       [rows] "+r"(rows)                                                                           \
                     : [pix] "r"(pixel), [p4] "r"(4 * 2 * p), [pairs] "m"(st[0]), [mode] "m"(st[1]),               \
                       [sgap] "m"(st[2]), [dgap] "m"(st[3])                                                        \
                     : "cc", "memory")

/* rows (>= 1) buffer rows of dw3_row4, src_row bytes apart in the input and wp halfwords in the planes, in one
 * assembly statement (a row of a few pixels pays about twenty instructions besides its pixels). */
static EDGEC_DW3_INLINE void dw3_rows4(const int8_t *src, size_t pixel, int16_t *d, size_t p, int32_t cols,
                                       int32_t rows, size_t src_row, int32_t wp, int eight)
{
    int16_t *d1 = d + p, *d2 = d + 2 * p, *d3 = d + 3 * p;
    int32_t st[4];
    st[0] = eight ? cols >> 1 : cols >> 2;
    st[1] = eight ? cols & 1 : cols & 3;
    st[2] = (int32_t)(src_row - (size_t)cols * pixel);
    st[3] = 2 * (wp - cols);
    int32_t n, a, b, c, e, t0, t1;
    if (eight) {
        EDGEC_DW3_ROWS8_ASM;
    } else if (((uintptr_t)d & 2) == 0) {
        EDGEC_DW3_ROWS4_ASM(EDGEC_DW3_STRD);
    } else {
        EDGEC_DW3_ROWS4_ASM(EDGEC_DW3_STR2);
    }
}
#endif

/* Buffer rows [r0, r1), all inside the input, of the n (4 or 8) channels c0..c0 + n - 1, four at a time
 * (dw3_row4). Out of line, so that a row of a few pixels costs little besides its pixels (short rows and the
 * halo rows that tiled calls copy again); eight channels a chunk halve the calls of short calls. */
static EDGEC_DW3_NOINLINE void dw3_copy4(const dw3_geom *g, int16_t *buf, int32_t plane, int32_t r0, int32_t r1,
                                         int32_t first_row, int32_t c0, int32_t n)
{
    const size_t p = (size_t)plane;
    const size_t pixel = g->in_col;
    const size_t src_row = g->in_row;
    const int32_t wp = g->wp;
    const int32_t cols = g->conv_cols;
    const int8_t *src = g->input + (size_t)(first_row + r0) * src_row + (size_t)c0;
    int16_t *dst = buf + (size_t)r0 * (size_t)wp + g->pad_left;
#if EDGEC_DW3_ASM
    dw3_rows4(src, pixel, dst, p, cols, r1 - r0, src_row, wp, n == 8);
#else
    for (int32_t h = 0; h < n; h += 4) {
        const int8_t *s = src + h;
        int16_t *d = dst + (size_t)h * p;
        for (int32_t r = r0; r < r1; ++r) {
            dw3_row4(s, pixel, d, p, cols);
            s += src_row;
            d += wp;
        }
    }
#endif
}
#endif

/* Buffer rows [0, rows) of channels [c0, c0 + n) (n <= 4), buffer row r being input row first_row + r; plane is
 * the halfwords of one channel. Only the input columns are written in a row inside the input: the buffer starts
 * all pad (dw3_run), and no row ever writes the pad columns, so they stay pad. Rows outside the input are
 * written (pad) only with repad. */
static EDGEC_DW3_NOINLINE void dw3_copy_rows(const dw3_geom *g, int16_t *buf, int32_t plane, int32_t rows,
                                             int32_t first_row, int32_t c0, int32_t n, int repad)
{
    const int32_t wp = g->wp;
    const int16_t pad = g->pad;
    const int32_t left = g->pad_left;
    const int32_t cols = g->conv_cols;
    const size_t pixel = g->in_col;
#if defined(EDGEC_DOT_DSP)
    if (n == 4 || n == 8) { /* pad rows here, the rows inside the input (one run) by dw3_copy4 */
        int32_t r0 = -first_row > 0 ? -first_row : 0;
        int32_t r1 = g->in_h - first_row < rows ? g->in_h - first_row : rows;
        r0 = r0 < rows ? r0 : rows;
        r1 = r1 > r0 ? r1 : r0;
        if (!repad) { /* the pad rows stay: only the run */
            if (r1 > r0) {
                dw3_copy4(g, buf, plane, r0, r1, first_row, c0, n);
            }
            return;
        }
        for (int32_t r = 0; r < rows; ++r) {
            if (r == r0 && r1 > r0) {
                dw3_copy4(g, buf, plane, r0, r1, first_row, c0, n);
                r = r1 - 1;
                continue;
            }
            if (!repad) {
                continue;
            }
            int16_t *row = buf + (size_t)r * (size_t)wp;
            for (int32_t j = 0; j < n; ++j) {
                int16_t *d = row + (size_t)j * (size_t)plane;
                for (int32_t x = 0; x < wp; ++x) {
                    d[x] = pad;
                }
            }
        }
        return;
    }
#endif
    for (int32_t r = 0; r < rows; ++r) {
        const int32_t iy = first_row + r;
        int16_t *row = buf + (size_t)r * (size_t)wp;
        if (iy < 0 || iy >= g->in_h) {
            for (int32_t j = 0; j < n && repad; ++j) {
                int16_t *d = row + (size_t)j * (size_t)plane;
                for (int32_t x = 0; x < wp; ++x) {
                    d[x] = pad;
                }
            }
            continue;
        }
        const int8_t *src = g->input + (size_t)iy * g->in_row + (size_t)c0;
        int16_t *dst = row + left;
        int32_t x = 0;
        for (; x < cols; ++x) {
            for (int32_t j = 0; j < n; ++j) {
                dst[(size_t)j * (size_t)plane] = src[j];
            }
            src += pixel;
            ++dst;
        }
    }
}

/* Accumulators of one group of output rows (a group's outputs, rows back to back, are one strided run of the
 * channel's NHWC output). */
#define EDGEC_DW3_ACC 128

/* The packed weights of one channel, EDGEC_DW3_PAIR_WORDS words: per kernel row r, A_r = (w0, w1) at word r
 * and B_r = (w1, w2) at word 3 + r, each a pair of int16 (the lower column in the low half). The compiler emits
 * this table offline (compiler/dw_layout.py, edgec_depthwise_conv3x3_pairs_s8); edgec_depthwise_conv_fast_s8
 * builds it per call from the int8 filter (dw3_pack). Stride 2 pairs the w2 of rows 0 and 1 into one word. */
#define EDGEC_DW3_PAIR_WORDS 6

static inline void dw3_pack(const int8_t *filter, size_t pixel, int32_t c, int32_t *pk)
{
    for (int32_t r = 0; r < 3; ++r) {
        const int32_t w0 = filter[(size_t)(3 * r) * pixel + (size_t)c];
        const int32_t w1 = filter[(size_t)(3 * r + 1) * pixel + (size_t)c];
        const int32_t w2 = filter[(size_t)(3 * r + 2) * pixel + (size_t)c];
        pk[r] = (int32_t)(((uint32_t)w0 & 0xFFFFu) | ((uint32_t)w1 << 16));
        pk[3 + r] = (int32_t)(((uint32_t)w1 & 0xFFFFu) | ((uint32_t)w2 << 16));
    }
}

/* The high (resp. low) halfword of a pair word, sign-extended. */
static inline int32_t dw3_hi(int32_t v)
{
    return (int32_t)(int16_t)((uint32_t)v >> 16);
}

static inline int32_t dw3_lo(int32_t v)
{
    return (int32_t)(int16_t)(uint32_t)v;
}

/* acc[i * out_w + x] = bias + the 3x3 window of output (i, x), i < rows, from the plane's buffer rows
 * i * row_step .. (row_step in halfwords). */
static EDGEC_DW3_INLINE void dw3_macs(const int16_t *plane, int32_t row_step, int32_t wp, int32_t rows,
                                        int32_t out_w, const int32_t *pk, int32_t bias, int32_t *acc,
                                        int stride2)
{
#if defined(EDGEC_DOT_DSP)
    const int32_t a0w = pk[0], a1w = pk[1], a2w = pk[2];
    /* Stride 2 multiplies w2 alone (SMLABB / SMLABT): B_r's top half moved to the bottom. */
    const int32_t b0w = stride2 ? dw3_hi(pk[3]) : pk[3];
    const int32_t b1w = stride2 ? dw3_hi(pk[4]) : pk[4];
    const int32_t b2w = stride2 ? dw3_hi(pk[5]) : pk[5];
    /* The assembly computes an odd row's last output as a pair: the spare output's columns are inside the row
     * (wp = stride_w * (out_w + 1) + 2) and its accumulator is the next row's first (overwritten) or acc's spare. */
    const int32_t pairs = EDGEC_DW3_ASM ? (out_w + 1) >> 1 : out_w >> 1;
    const int32_t step = stride2 ? 4 : 2; /* halfwords per pair of outputs */
    (void)step;
#if EDGEC_DW3_ASM
    if (!stride2 && rows > 0 && pairs > 0) {
        /* Stride 1: every row in one assembly loop, the per-row step (end pointer, the three row pointers to the
         * next buffer row, the accumulators back over an odd row's spare) in a dozen instructions, reloaded
         * from the stack like the bias, as are b2 and the end pointer; the row loop below takes stride 2. */
        const int16_t *p0 = EDGEC_DW3_ALIGNED(plane);
        const int16_t *p1 = EDGEC_DW3_ALIGNED(p0 + wp);
        const int16_t *p2 = EDGEC_DW3_ALIGNED(p1 + wp);
        int32_t *ap = acc;
        int32_t bias_m = bias;
        int32_t b2_m = b2w;
        const int32_t pairs8_m = 8 * pairs;                      /* bytes of accumulators a row's pairs write */
        const int32_t pdelta_m = 2 * (row_step - 2 * pairs);     /* bytes from a row's end to the next row */
        const int32_t adelta_m = 4 * (out_w - 2 * pairs);        /* 0, or -4 over an odd row's spare */
        int32_t rows_m = rows;
        int32_t *end_m = ap;
        int32_t s0, s1, x0, x1;
        __asm__ volatile(
            "2:\n\t"
            "ldr %[x0], %[pairs8]\n\t"
            "add %[x0], %[ap], %[x0]\n\t"
            "str %[x0], %[end]\n\t"
            "1:\n\t"
            "ldr %[s1], %[bias]\n\t"
            "ldrd %[x0], %[x1], [%[p0]], #4\n\t"
            "smlad %[s0], %[x0], %[a0], %[s1]\n\t"
            "smlabt %[s0], %[x1], %[b0], %[s0]\n\t"
            "smlad %[s1], %[x1], %[b0], %[s1]\n\t"
            "smlatb %[s1], %[x0], %[a0], %[s1]\n\t"
            "ldrd %[x0], %[x1], [%[p1]], #4\n\t"
            "smlad %[s0], %[x0], %[a1], %[s0]\n\t"
            "smlabt %[s0], %[x1], %[b1], %[s0]\n\t"
            "smlad %[s1], %[x1], %[b1], %[s1]\n\t"
            "smlatb %[s1], %[x0], %[a1], %[s1]\n\t"
            "ldrd %[x0], %[x1], [%[p2]], #4\n\t"
            "smlad %[s0], %[x0], %[a2], %[s0]\n\t"
            "smlatb %[s1], %[x0], %[a2], %[s1]\n\t"
            "ldr %[x0], %[b2]\n\t"
            "smlabt %[s0], %[x1], %[x0], %[s0]\n\t"
            "smlad %[s1], %[x1], %[x0], %[s1]\n\t"
            "strd %[s0], %[s1], [%[ap]], #8\n\t"
            "ldr %[x0], %[end]\n\t"
            "cmp %[ap], %[x0]\n\t"
            "bne 1b\n\t"
            "ldr %[x0], %[pdelta]\n\t"
            "add %[p0], %[p0], %[x0]\n\t"
            "add %[p1], %[p1], %[x0]\n\t"
            "add %[p2], %[p2], %[x0]\n\t"
            "ldr %[x0], %[adelta]\n\t"
            "add %[ap], %[ap], %[x0]\n\t"
            "ldr %[x0], %[rows]\n\t"
            "subs %[x0], %[x0], #1\n\t"
            "str %[x0], %[rows]\n\t"
            "bne 2b\n\t"
            : [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [ap] "+r"(ap), [s0] "=&r"(s0), [s1] "=&r"(s1),
              [x0] "=&r"(x0), [x1] "=&r"(x1), [end] "+m"(end_m), [rows] "+m"(rows_m)
            : [a0] "r"(a0w), [a1] "r"(a1w), [a2] "r"(a2w), [b0] "r"(b0w), [b1] "r"(b1w), [b2] "m"(b2_m),
              [bias] "m"(bias_m), [pairs8] "m"(pairs8_m), [pdelta] "m"(pdelta_m), [adelta] "m"(adelta_m)
            : "cc", "memory");
        return;
    }
#endif
    for (int32_t i = 0; i < rows; ++i) {
        const int16_t *p0 = EDGEC_DW3_ALIGNED(plane + (size_t)i * (size_t)row_step);
        const int16_t *p1 = EDGEC_DW3_ALIGNED(p0 + wp);
        const int16_t *p2 = EDGEC_DW3_ALIGNED(p1 + wp);
        int32_t *ap = acc + (size_t)i * (size_t)out_w;
#if EDGEC_DW3_ASM
        if (pairs > 0) {
            /* Stride 2 (stride 1 returned above): the loop below in assembly, in thirteen registers (weights,
             * row and accumulator pointers, four temporaries), the bias and the end pointer reloaded from the
             * stack, the first two rows' w2 sharing one register (bottom, top). */
            int32_t bias_m = bias;
            int32_t *end_m = ap + 2 * pairs;
            const int32_t b01w = (int32_t)(((uint32_t)b0w & 0xFFFFu) | ((uint32_t)b1w << 16));
            int32_t s0, s1, x0, x1;
            __asm__ volatile(
                "1:\n\t"
                "ldr %[s1], %[bias]\n\t"
                "ldrd %[x0], %[x1], [%[p0]], #8\n\t"
                "smlad %[s0], %[x0], %[a0], %[s1]\n\t"
                "smlabb %[s0], %[x1], %[b01], %[s0]\n\t"
                "smlad %[s1], %[x1], %[a0], %[s1]\n\t"
                "ldr %[x0], [%[p0]]\n\t"
                "smlabb %[s1], %[x0], %[b01], %[s1]\n\t"
                "ldrd %[x0], %[x1], [%[p1]], #8\n\t"
                "smlad %[s0], %[x0], %[a1], %[s0]\n\t"
                "smlabt %[s0], %[x1], %[b01], %[s0]\n\t"
                "smlad %[s1], %[x1], %[a1], %[s1]\n\t"
                "ldr %[x0], [%[p1]]\n\t"
                "smlabt %[s1], %[x0], %[b01], %[s1]\n\t"
                "ldrd %[x0], %[x1], [%[p2]], #8\n\t"
                "smlad %[s0], %[x0], %[a2], %[s0]\n\t"
                "smlabb %[s0], %[x1], %[b2], %[s0]\n\t"
                "smlad %[s1], %[x1], %[a2], %[s1]\n\t"
                "ldr %[x0], [%[p2]]\n\t"
                "smlabb %[s1], %[x0], %[b2], %[s1]\n\t"
                "strd %[s0], %[s1], [%[ap]], #8\n\t"
                "ldr %[x0], %[end]\n\t"
                "cmp %[ap], %[x0]\n\t"
                "bne 1b\n\t"
                : [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [ap] "+r"(ap), [s0] "=&r"(s0), [s1] "=&r"(s1),
                  [x0] "=&r"(x0), [x1] "=&r"(x1)
                : [a0] "r"(a0w), [a1] "r"(a1w), [a2] "r"(a2w), [b01] "r"(b01w), [b2] "r"(b2w),
                  [bias] "m"(bias_m), [end] "m"(end_m)
                : "cc", "memory");
        }
#else
        int32_t *const ap_end = ap + 2 * pairs;
        while (ap != ap_end) {
            int32_t s0 = bias;
            int32_t s1 = bias;
            if (stride2) {
                s0 = __smlad(dw3_word(p0, 0), a0w, s0);
                s0 = __smlabb(dw3_word(p0, 1), b0w, s0);
                s1 = __smlad(dw3_word(p0, 1), a0w, s1);
                s1 = __smlabb(dw3_word(p0, 2), b0w, s1);
                s0 = __smlad(dw3_word(p1, 0), a1w, s0);
                s0 = __smlabb(dw3_word(p1, 1), b1w, s0);
                s1 = __smlad(dw3_word(p1, 1), a1w, s1);
                s1 = __smlabb(dw3_word(p1, 2), b1w, s1);
                s0 = __smlad(dw3_word(p2, 0), a2w, s0);
                s0 = __smlabb(dw3_word(p2, 1), b2w, s0);
                s1 = __smlad(dw3_word(p2, 1), a2w, s1);
                s1 = __smlabb(dw3_word(p2, 2), b2w, s1);
            } else {
                s0 = __smlad(dw3_word(p0, 0), a0w, s0);
                s0 = __smlabt(dw3_word(p0, 1), b0w, s0);
                s1 = __smlad(dw3_word(p0, 1), b0w, s1);
                s1 = __smlatb(dw3_word(p0, 0), a0w, s1);
                s0 = __smlad(dw3_word(p1, 0), a1w, s0);
                s0 = __smlabt(dw3_word(p1, 1), b1w, s0);
                s1 = __smlad(dw3_word(p1, 1), b1w, s1);
                s1 = __smlatb(dw3_word(p1, 0), a1w, s1);
                s0 = __smlad(dw3_word(p2, 0), a2w, s0);
                s0 = __smlabt(dw3_word(p2, 1), b2w, s0);
                s1 = __smlad(dw3_word(p2, 1), b2w, s1);
                s1 = __smlatb(dw3_word(p2, 0), a2w, s1);
            }
            p0 += step;
            p1 += step;
            p2 += step;
            ap[0] = s0;
            ap[1] = s1;
            ap += 2;
        }
#endif
        if (!EDGEC_DW3_ASM && (out_w & 1)) {
            int32_t s0 = bias;
            s0 = __smlad(dw3_word(p0, 0), a0w, s0);
            s0 = stride2 ? __smlabb(dw3_word(p0, 1), b0w, s0) : __smlabt(dw3_word(p0, 1), b0w, s0);
            s0 = __smlad(dw3_word(p1, 0), a1w, s0);
            s0 = stride2 ? __smlabb(dw3_word(p1, 1), b1w, s0) : __smlabt(dw3_word(p1, 1), b1w, s0);
            s0 = __smlad(dw3_word(p2, 0), a2w, s0);
            s0 = stride2 ? __smlabb(dw3_word(p2, 1), b2w, s0) : __smlabt(dw3_word(p2, 1), b2w, s0);
            *ap = s0;
        }
    }
#else
    const int32_t w0 = dw3_lo(pk[0]), w1 = dw3_hi(pk[0]), w2 = dw3_hi(pk[3]);
    const int32_t w3 = dw3_lo(pk[1]), w4 = dw3_hi(pk[1]), w5 = dw3_hi(pk[4]);
    const int32_t w6 = dw3_lo(pk[2]), w7 = dw3_hi(pk[2]), w8 = dw3_hi(pk[5]);
    const size_t sw = stride2 ? 2 : 1;
#if EDGEC_DW3_ASM
    if (!stride2 && rows > 0 && out_w > 0) {
        /* Stride 1 in assembly: two outputs per step, each halfword loaded once per kernel row and multiplied
         * into both outputs it belongs to (12 LDRSH and 18 MLA). Thirteen registers: the first five weights stay
         * in registers, the other four, the bias, the end pointer and the per-row step are reloaded from the
         * stack. An odd width computes one output more: its columns are inside the row (wp = out_w + 3), and its
         * accumulator is the next row's first (overwritten) or the spare one at the end of acc. Every row in one
         * loop, as on the DSP path; the C loop below takes stride 2. */
        const int32_t pairs = (out_w + 1) >> 1;
        const int16_t *p0 = plane;
        const int16_t *p1 = p0 + wp;
        const int16_t *p2 = p1 + wp;
        int32_t *ap = acc;
        int32_t bias_m = bias;
        int32_t w5_m = w5, w6_m = w6, w7_m = w7, w8_m = w8;
        const int32_t pairs8_m = 8 * pairs;
        const int32_t pdelta_m = 2 * (row_step - 2 * pairs);
        const int32_t adelta_m = 4 * (out_w - 2 * pairs);
        int32_t rows_m = rows;
        int32_t *end_m = ap;
        int32_t s0, s1, t, u;
        __asm__ volatile(
            "2:\n\t"
            "ldr %[t], %[pairs8]\n\t"
            "add %[t], %[ap], %[t]\n\t"
            "str %[t], %[end]\n\t"
            "1:\n\t"
            "ldr %[s1], %[bias]\n\t"
            "ldrsh %[t], [%[p0]], #4\n\t"
            "mla %[s0], %[t], %[w0], %[s1]\n\t"
            "ldrsh %[t], [%[p0], #-2]\n\t"
            "mla %[s0], %[t], %[w1], %[s0]\n\t"
            "mla %[s1], %[t], %[w0], %[s1]\n\t"
            "ldrsh %[t], [%[p0]]\n\t"
            "mla %[s0], %[t], %[w2], %[s0]\n\t"
            "mla %[s1], %[t], %[w1], %[s1]\n\t"
            "ldrsh %[t], [%[p0], #2]\n\t"
            "mla %[s1], %[t], %[w2], %[s1]\n\t"
            "ldr %[u], %[w5]\n\t"
            "ldrsh %[t], [%[p1]], #4\n\t"
            "mla %[s0], %[t], %[w3], %[s0]\n\t"
            "ldrsh %[t], [%[p1], #-2]\n\t"
            "mla %[s0], %[t], %[w4], %[s0]\n\t"
            "mla %[s1], %[t], %[w3], %[s1]\n\t"
            "ldrsh %[t], [%[p1]]\n\t"
            "mla %[s0], %[t], %[u], %[s0]\n\t"
            "mla %[s1], %[t], %[w4], %[s1]\n\t"
            "ldrsh %[t], [%[p1], #2]\n\t"
            "mla %[s1], %[t], %[u], %[s1]\n\t"
            "ldr %[u], %[w6]\n\t"
            "ldrsh %[t], [%[p2]], #4\n\t"
            "mla %[s0], %[t], %[u], %[s0]\n\t"
            "ldrsh %[t], [%[p2], #-2]\n\t"
            "mla %[s1], %[t], %[u], %[s1]\n\t"
            "ldr %[u], %[w7]\n\t"
            "mla %[s0], %[t], %[u], %[s0]\n\t"
            "ldrsh %[t], [%[p2]]\n\t"
            "mla %[s1], %[t], %[u], %[s1]\n\t"
            "ldr %[u], %[w8]\n\t"
            "mla %[s0], %[t], %[u], %[s0]\n\t"
            "ldrsh %[t], [%[p2], #2]\n\t"
            "mla %[s1], %[t], %[u], %[s1]\n\t"
            "strd %[s0], %[s1], [%[ap]], #8\n\t"
            "ldr %[t], %[end]\n\t"
            "cmp %[ap], %[t]\n\t"
            "bne 1b\n\t"
            "ldr %[t], %[pdelta]\n\t"
            "add %[p0], %[p0], %[t]\n\t"
            "add %[p1], %[p1], %[t]\n\t"
            "add %[p2], %[p2], %[t]\n\t"
            "ldr %[t], %[adelta]\n\t"
            "add %[ap], %[ap], %[t]\n\t"
            "ldr %[t], %[rows]\n\t"
            "subs %[t], %[t], #1\n\t"
            "str %[t], %[rows]\n\t"
            "bne 2b\n\t"
            : [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [ap] "+r"(ap), [s0] "=&r"(s0), [s1] "=&r"(s1),
              [t] "=&r"(t), [u] "=&r"(u), [end] "+m"(end_m), [rows] "+m"(rows_m)
            : [w0] "r"(w0), [w1] "r"(w1), [w2] "r"(w2), [w3] "r"(w3), [w4] "r"(w4), [w5] "m"(w5_m),
              [w6] "m"(w6_m), [w7] "m"(w7_m), [w8] "m"(w8_m), [bias] "m"(bias_m), [pairs8] "m"(pairs8_m),
              [pdelta] "m"(pdelta_m), [adelta] "m"(adelta_m)
            : "cc", "memory");
        return;
    }
#endif
    for (int32_t i = 0; i < rows; ++i) {
        const int16_t *p0 = plane + (size_t)i * (size_t)row_step;
        const int16_t *p1 = p0 + wp;
        const int16_t *p2 = p1 + wp;
        int32_t *ap = acc + (size_t)i * (size_t)out_w;
        int32_t ox = 0;
        for (; ox < out_w; ++ox) {
            uint32_t t = (uint32_t)bias;
            t += (uint32_t)(p0[0] * w0) + (uint32_t)(p0[1] * w1) + (uint32_t)(p0[2] * w2);
            t += (uint32_t)(p1[0] * w3) + (uint32_t)(p1[1] * w4) + (uint32_t)(p1[2] * w5);
            t += (uint32_t)(p2[0] * w6) + (uint32_t)(p2[1] * w7) + (uint32_t)(p2[2] * w8);
            p0 += sw;
            p1 += sw;
            p2 += sw;
            ap[ox] = edgec_wrap_int32(t);
        }
    }
#endif
}

/* out[i * pixel] = finish(acc[i] + bias), i < n (the band loop passes the bias to dw3_macs, so 0 here).
 * Mode 0: finish() in general. Modes 1 and 2, for a right shift r = r1 + 1 with r1 <= EDGEC_RQ_FOLD_MAX_R1:
 * edgec_requantize_right with the output offset folded into its constant (edgec_rq_right_fold_offset), then the
 * clamp: mode 2 for the whole int8 range, one SSAT, mode 1 for [lo, hi]. */

static inline int32_t dw3_sat8(int32_t v)
{
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(v));
    return r;
#else
    return v < -128 ? -128 : (v > 127 ? 127 : v);
#endif
}

static EDGEC_DW3_INLINE void dw3_requant(const int32_t *acc, int32_t n, int8_t *out, size_t pixel, int32_t bias,
                                         int32_t multiplier, int32_t shift, int32_t offset, int32_t lo, int32_t hi,
                                         int mode)
{
    const int32_t *const end = acc + n;
    if (mode == 0) {
        for (; acc != end; ++acc) {
            const int32_t v = edgec_requantize_nonneg(edgec_wrap_int32((uint32_t)*acc + (uint32_t)bias), multiplier,
                                                      shift);
            *out = (int8_t)edgec_offset_clamp(v, offset, lo, hi);
            out += pixel;
        }
        return;
    }
    const edgec_rq_right q = edgec_rq_right_fold_offset(edgec_rq_right_make(multiplier, shift), offset);
    const int32_t *const end2 = acc + (n & ~1);
    while (acc != end2) { /* two outputs per step: one LDRD, the second store at out + pixel */
        const int32_t v0 = edgec_requantize_right(edgec_wrap_int32((uint32_t)acc[0] + (uint32_t)bias), &q);
        const int32_t v1 = edgec_requantize_right(edgec_wrap_int32((uint32_t)acc[1] + (uint32_t)bias), &q);
        acc += 2;
        if (mode == 2) {
            out[0] = (int8_t)dw3_sat8(v0);
            out[pixel] = (int8_t)dw3_sat8(v1);
        } else {
            out[0] = (int8_t)(v0 < lo ? lo : (v0 > hi ? hi : v0));
            out[pixel] = (int8_t)(v1 < lo ? lo : (v1 > hi ? hi : v1));
        }
        out += 2 * pixel;
    }
    if (acc != end) {
        const int32_t v = edgec_requantize_right(edgec_wrap_int32((uint32_t)*acc + (uint32_t)bias), &q);
        *out = (int8_t)(mode == 2 ? dw3_sat8(v) : (v < lo ? lo : (v > hi ? hi : v)));
    }
}

/* What a band's per-channel calls share, passed by pointer so that each call's arguments fit in registers
 * (tiled calls pay these calls once per band and channel). */
typedef struct {
    int32_t row_step, wp, out_w; /* dw3_macs' geometry */
    int32_t offset, lo, hi;       /* dw3_requant's */
    size_t pixel;
    size_t out_col, out_gap;      /* dw3_requant_t's: bytes between a line's outputs, from a line's end to the next */
} dw3_shared;

/* The specializations the band loop calls. */
static EDGEC_DW3_NOINLINE void dw3_macs_s1(const int16_t *plane, const dw3_shared *k, int32_t rows,
                                           const int32_t *pk, int32_t bias, int32_t *acc)
{
    dw3_macs(plane, k->row_step, k->wp, rows, k->out_w, pk, bias, acc, 0);
}

static EDGEC_DW3_NOINLINE void dw3_macs_s2(const int16_t *plane, const dw3_shared *k, int32_t rows,
                                           const int32_t *pk, int32_t bias, int32_t *acc)
{
    dw3_macs(plane, k->row_step, k->wp, rows, k->out_w, pk, bias, acc, 1);
}

/* One channel's n accumulators into out, by the mode its shift allows (dw3_requant). */
static EDGEC_DW3_NOINLINE void dw3_requant_ch(const int32_t *acc, int32_t n, int8_t *out, const dw3_shared *k,
                                              int32_t multiplier, int32_t shift)
{
    const int32_t lo = k->lo, hi = k->hi;
    if (shift >= 0 || -1 - shift > EDGEC_RQ_FOLD_MAX_R1) {
        dw3_requant(acc, n, out, k->pixel, 0, multiplier, shift, k->offset, lo, hi, 0);
    } else if (lo == -128 && hi == 127) {
        dw3_requant(acc, n, out, k->pixel, 0, multiplier, shift, k->offset, -128, 127, 2);
    } else {
        dw3_requant(acc, n, out, k->pixel, 0, multiplier, shift, k->offset, lo, hi, 1);
    }
}

/* The compiler's table (compiler/dw_layout.py, edgec_depthwise_conv3x3_pairs_s8): a header of flags and the
 * channel count, then per channel the six pair words of the doubled weights, the doubled bias, the multiplier m,
 * the constant K (rounding and output offset) and the shift s. */
#define EDGEC_DW3_T_HEADER 2
#define EDGEC_DW3_T_WORDS 10
#define EDGEC_DW3_T_TRANSPOSED 1 /* pairs of the transposed filter: the map is walked column by column */
#define EDGEC_DW3_T_NOSIGN 2     /* act_min >= output offset: the negative-accumulator correction is moot */

/* The requantized value (before the clamp, the output offset included) of a doubled accumulator x2 by the
 * table's constants: (K + floor((x2 * m + 2^31) / 2^32) - [x2 < 0]) >> s, which compiler/dw_layout.py shows is
 * the reference's edgec_requantize_right with the offset folded, and keeps inside int32. One SMMLAR with DSP. */
static EDGEC_DW3_INLINE int32_t dw3_rq(int32_t x2, int32_t m, int32_t kc, int32_t s, int sign)
{
    int32_t t;
#if defined(EDGEC_DOT_DSP) && defined(__GNUC__)
    __asm__("smmlar %0, %1, %2, %3" : "=r"(t) : "r"(x2), "r"(m), "r"(kc));
#else
    /* K only adds to the high word: K + floor((x2 m + 2^31) / 2^32), one SMULL and a 64-bit add of 2^31 */
    t = kc + (int32_t)(((int64_t)x2 * m + 2147483648LL) >> 32);
#endif
    if (sign) {
        t -= (int32_t)((uint32_t)x2 >> 31);
    }
    return t >> s;
}

/* rows lines of cols accumulators of one channel into out (line i at out + i * (cols * out_col + out_gap)). */
static EDGEC_DW3_INLINE void dw3_requant_lines(const int32_t *acc, int32_t rows, int32_t cols, int8_t *out,
                                               const dw3_shared *k, const int32_t *rec, int sign, int full)
{
    const int32_t m = rec[7], kc = rec[8], s = rec[9];
    const int32_t lo = k->lo, hi = k->hi;
    const size_t col = k->out_col, gap = k->out_gap;
    for (int32_t r = 0; r < rows; ++r) {
        int8_t *const end = out + (size_t)cols * col;
#if EDGEC_DW3_ASM && defined(EDGEC_DOT_DSP)
        if (full && cols >= 2) {
            /* Two outputs a step: one LDRD, SMMLAR, ASR and SSAT each, the second store at out + col. */
            int8_t *const end2 = out + (size_t)(cols & ~1) * col;
            const size_t col2 = 2 * col;
            int32_t x0, x1, t0, t1;
            if (sign) {
                __asm__ volatile(
                    "1:\n\t"
                    "ldrd %[x0], %[x1], [%[acc]], #8\n\t"
                    "smmlar %[t0], %[x0], %[m], %[kc]\n\t"
                    "smmlar %[t1], %[x1], %[m], %[kc]\n\t"
                    "sub %[t0], %[t0], %[x0], lsr #31\n\t"
                    "sub %[t1], %[t1], %[x1], lsr #31\n\t"
                    "asr %[t0], %[t0], %[s]\n\t"
                    "asr %[t1], %[t1], %[s]\n\t"
                    "ssat %[t0], #8, %[t0]\n\t"
                    "ssat %[t1], #8, %[t1]\n\t"
                    "strb %[t0], [%[out]]\n\t"
                    "strb %[t1], [%[out], %[col]]\n\t"
                    "add %[out], %[out], %[col2]\n\t"
                    "cmp %[out], %[end]\n\t"
                    "bne 1b\n\t"
                    : [acc] "+r"(acc), [out] "+r"(out), [x0] "=&r"(x0), [x1] "=&r"(x1), [t0] "=&r"(t0),
                      [t1] "=&r"(t1)
                    : [m] "r"(m), [kc] "r"(kc), [s] "r"(s), [col] "r"(col), [col2] "r"(col2), [end] "r"(end2)
                    : "cc", "memory");
            } else {
                (void)t0;
                (void)t1;
                __asm__ volatile(
                    "1:\n\t"
                    "ldrd %[x0], %[x1], [%[acc]], #8\n\t"
                    "smmlar %[x0], %[x0], %[m], %[kc]\n\t"
                    "smmlar %[x1], %[x1], %[m], %[kc]\n\t"
                    "asr %[x0], %[x0], %[s]\n\t"
                    "asr %[x1], %[x1], %[s]\n\t"
                    "ssat %[x0], #8, %[x0]\n\t"
                    "ssat %[x1], #8, %[x1]\n\t"
                    "strb %[x0], [%[out]]\n\t"
                    "strb %[x1], [%[out], %[col]]\n\t"
                    "add %[out], %[out], %[col2]\n\t"
                    "cmp %[out], %[end]\n\t"
                    "bne 1b\n\t"
                    : [acc] "+r"(acc), [out] "+r"(out), [x0] "=&r"(x0), [x1] "=&r"(x1)
                    : [m] "r"(m), [kc] "r"(kc), [s] "r"(s), [col] "r"(col), [col2] "r"(col2), [end] "r"(end2)
                    : "cc", "memory");
            }
        }
#endif
        while (out != end) {
            const int32_t v = dw3_rq(*acc++, m, kc, s, sign);
            *out = (int8_t)(full ? dw3_sat8(v) : (v < lo ? lo : (v > hi ? hi : v)));
            out += col;
        }
        out += gap;
    }
}

static EDGEC_DW3_NOINLINE void dw3_requant_t(const int32_t *acc, int32_t rows, int32_t cols, int8_t *out,
                                             const dw3_shared *k, const int32_t *rec, int32_t flags)
{
    const int full = k->lo == -128 && k->hi == 127;
    if (flags & EDGEC_DW3_T_NOSIGN) {
        if (full) {
            dw3_requant_lines(acc, rows, cols, out, k, rec, 0, 1);
        } else {
            dw3_requant_lines(acc, rows, cols, out, k, rec, 0, 0);
        }
    } else if (full) {
        dw3_requant_lines(acc, rows, cols, out, k, rec, 1, 1);
    } else {
        dw3_requant_lines(acc, rows, cols, out, k, rec, 1, 0);
    }
}

#if EDGEC_DW3_ASM && defined(EDGEC_DOT_DSP)
/* One pair of outputs of a line: the multiply-accumulates, the requantization and the two stores. */
#define EDGEC_DW3_PAIR_ASM \
    "ldrd %[x0], %[x1], [%[p]], #4\n\t" \
    "smlad %[s0], %[x0], %[a0], %[bias]\n\t" \
    "smlabt %[s0], %[x1], %[b0], %[s0]\n\t" \
    "smlad %[s1], %[x1], %[b0], %[bias]\n\t" \
    "smlatb %[s1], %[x0], %[a0], %[s1]\n\t" \
    "ldrd %[x0], %[x1], [%[p], %[o1]]\n\t" \
    "smlad %[s0], %[x0], %[a1], %[s0]\n\t" \
    "smlabt %[s0], %[x1], %[b1], %[s0]\n\t" \
    "smlad %[s1], %[x1], %[b1], %[s1]\n\t" \
    "smlatb %[s1], %[x0], %[a1], %[s1]\n\t" \
    "ldrd %[x0], %[x1], [%[p], %[o2]]\n\t" \
    "smlad %[s0], %[x0], %[a2], %[s0]\n\t" \
    "smlabt %[s0], %[x1], %[b2], %[s0]\n\t" \
    "smlad %[s1], %[x1], %[b2], %[s1]\n\t" \
    "smlatb %[s1], %[x0], %[a2], %[s1]\n\t" \
    "ldrd %[x0], %[x1], %[mk]\n\t" \
    "smmlar %[s0], %[s0], %[x0], %[x1]\n\t" \
    "smmlar %[s1], %[s1], %[x0], %[x1]\n\t" \
    "ldrd %[x0], %[x1], %[sc]\n\t" \
    "asr %[s0], %[s0], %[x0]\n\t" \
    "asr %[s1], %[s1], %[x0]\n\t" \
    "ssat %[s0], #8, %[s0]\n\t" \
    "ssat %[s1], #8, %[s1]\n\t" \
    "strb %[s0], [%[o]]\n\t" \
    "strb %[s1], [%[o], %[x1]]\n\t" \
    "add %[o], %[o], %[x1], lsl #1\n\t"

/* Stride 1 with the table, the full int8 clamp and EDGEC_DW3_T_NOSIGN (KWS, MobileNet): the multiply-accumulates
 * and the requantization of a line in one assembly loop, no accumulator array. The buffer rows are a fixed
 * EDGEC_DW3_FUSED_* halfwords apart, so one pointer reaches the three rows by immediate offsets and fourteen
 * registers hold the six pair words, the bias, the row, output and end pointers and four temporaries; the
 * requantization constants (m, K) and (s, output stride) are one LDRD each from the stack. Per pair of outputs:
 * three LDRD, twelve SMLAxx, two SMMLAR, ASR and SSAT, two STRB and the loop (28 instructions for 18 MACs).
 * An odd line's last output is a second, single-output block: a spare output would be stored outside the line. */
#define EDGEC_DW3_FUSED_LINE(P)                                                                                    \
    static EDGEC_DW3_NOINLINE void dw3_fused_##P(const int16_t *buf, int32_t plane, int32_t nch, int32_t lines,  \
                                                 int32_t n, size_t row_step, const int32_t *rec, int8_t *out,      \
                                                 size_t out_col, size_t out_row)                                   \
    {                                                                                                              \
        const int32_t pairs = n >> 1;                                                                              \
        /* per line: the bytes the pairs' stores span, the steps from a line's end to the next line's start */     \
        const int32_t span_m = (int32_t)((size_t)(2 * pairs) * out_col);                                          \
        const int32_t pstep_m = (int32_t)(2 * row_step) - 4 * pairs;                                               \
        const int32_t ostep_m = (int32_t)out_row - span_m;                                                         \
        const int32_t odd_m = (n & 1) | (pairs == 0 ? 2 : pairs & 1) << 1;                                         \
        if (lines <= 0 || n <= 0) {                                                                                \
            return;                                                                                                \
        }                                                                                                          \
        for (int32_t ch = 0; ch < nch; ++ch, rec += EDGEC_DW3_T_WORDS) {                                           \
            dw3_fused1_##P(buf + (size_t)ch * (size_t)plane, lines, rec, out + ch, out_col, span_m, pstep_m,         \
                           ostep_m, odd_m);                                                                        \
        }                                                                                                          \
    }
#define EDGEC_DW3_FUSED_ONE(P)                                                                                     \
    static EDGEC_DW3_NOINLINE void dw3_fused1_##P(const int16_t *p, int32_t lines_m, const int32_t *rec, int8_t *o, \
                                                size_t out_col, int32_t span_m, int32_t pstep_m, int32_t ostep_m,  \
                                                int32_t odd_m)                                                     \
    {                                                                                                              \
        /* 1: an odd number of pairs (the loop is entered at its second half), 2: none (lines of one output) */    \
        const int32_t podd_m = odd_m >> 1;                                                                         \
        const int32_t a0 = rec[0], a1 = rec[1], a2 = rec[2], b0 = rec[3], b1 = rec[4], b2 = rec[5];                \
        const int32_t bias = rec[6];                                                                               \
        int64_t mk, sc;                                                                                            \
        const int32_t mk_w[2] = {rec[7], rec[8]};                                                                  \
        const int32_t sc_w[2] = {rec[9], (int32_t)out_col};                                                        \
        memcpy(&mk, mk_w, sizeof mk);                                                                              \
        memcpy(&sc, sc_w, sizeof sc);                                                                              \
        int8_t *end = o;                                                                                           \
        int32_t s0, s1, x0, x1;                                                                                    \
        __asm__ volatile(                                                                                          \
            "2:\n\t"                                                                                               \
            "ldr %[x0], %[span]\n\t"                                                                               \
            "add %[end], %[o], %[x0]\n\t"                                                                          \
            "ldr %[x0], %[podd]\n\t"                                                                               \
            "cmp %[x0], #1\n\t"                                                                                    \
            "beq 4f\n\t"                                                                                           \
            "bhi 5f\n\t"                                                                                           \
            "1:\n\t"                                                                                               \
            "ldrd %[x0], %[x1], [%[p]], #4\n\t"                                                                    \
            "smlad %[s0], %[x0], %[a0], %[bias]\n\t"                                                               \
            "smlabt %[s0], %[x1], %[b0], %[s0]\n\t"                                                                \
            "smlad %[s1], %[x1], %[b0], %[bias]\n\t"                                                               \
            "smlatb %[s1], %[x0], %[a0], %[s1]\n\t"                                                                \
            "ldrd %[x0], %[x1], [%[p], %[o1]]\n\t"                                                                 \
            "smlad %[s0], %[x0], %[a1], %[s0]\n\t"                                                                 \
            "smlabt %[s0], %[x1], %[b1], %[s0]\n\t"                                                                \
            "smlad %[s1], %[x1], %[b1], %[s1]\n\t"                                                                 \
            "smlatb %[s1], %[x0], %[a1], %[s1]\n\t"                                                                \
            "ldrd %[x0], %[x1], [%[p], %[o2]]\n\t"                                                                 \
            "smlad %[s0], %[x0], %[a2], %[s0]\n\t"                                                                 \
            "smlabt %[s0], %[x1], %[b2], %[s0]\n\t"                                                                \
            "smlad %[s1], %[x1], %[b2], %[s1]\n\t"                                                                 \
            "smlatb %[s1], %[x0], %[a2], %[s1]\n\t"                                                                \
            "ldrd %[x0], %[x1], %[mk]\n\t"                                                                         \
            "smmlar %[s0], %[s0], %[x0], %[x1]\n\t"                                                                \
            "smmlar %[s1], %[s1], %[x0], %[x1]\n\t"                                                                \
            "ldrd %[x0], %[x1], %[sc]\n\t"                                                                         \
            "asr %[s0], %[s0], %[x0]\n\t"                                                                          \
            "asr %[s1], %[s1], %[x0]\n\t"                                                                          \
            "ssat %[s0], #8, %[s0]\n\t"                                                                            \
            "ssat %[s1], #8, %[s1]\n\t"                                                                            \
            "strb %[s0], [%[o]]\n\t"                                                                               \
            "strb %[s1], [%[o], %[x1]]\n\t"                                                                        \
            "add %[o], %[o], %[x1], lsl #1\n\t"                                                                    \
            "4:\n\t"                                                                                               \
            "ldrd %[x0], %[x1], [%[p]], #4\n\t"                                                                    \
            "smlad %[s0], %[x0], %[a0], %[bias]\n\t"                                                               \
            "smlabt %[s0], %[x1], %[b0], %[s0]\n\t"                                                                \
            "smlad %[s1], %[x1], %[b0], %[bias]\n\t"                                                               \
            "smlatb %[s1], %[x0], %[a0], %[s1]\n\t"                                                                \
            "ldrd %[x0], %[x1], [%[p], %[o1]]\n\t"                                                                 \
            "smlad %[s0], %[x0], %[a1], %[s0]\n\t"                                                                 \
            "smlabt %[s0], %[x1], %[b1], %[s0]\n\t"                                                                \
            "smlad %[s1], %[x1], %[b1], %[s1]\n\t"                                                                 \
            "smlatb %[s1], %[x0], %[a1], %[s1]\n\t"                                                                \
            "ldrd %[x0], %[x1], [%[p], %[o2]]\n\t"                                                                 \
            "smlad %[s0], %[x0], %[a2], %[s0]\n\t"                                                                 \
            "smlabt %[s0], %[x1], %[b2], %[s0]\n\t"                                                                \
            "smlad %[s1], %[x1], %[b2], %[s1]\n\t"                                                                 \
            "smlatb %[s1], %[x0], %[a2], %[s1]\n\t"                                                                \
            "ldrd %[x0], %[x1], %[mk]\n\t"                                                                         \
            "smmlar %[s0], %[s0], %[x0], %[x1]\n\t"                                                                \
            "smmlar %[s1], %[s1], %[x0], %[x1]\n\t"                                                                \
            "ldrd %[x0], %[x1], %[sc]\n\t"                                                                         \
            "asr %[s0], %[s0], %[x0]\n\t"                                                                          \
            "asr %[s1], %[s1], %[x0]\n\t"                                                                          \
            "ssat %[s0], #8, %[s0]\n\t"                                                                            \
            "ssat %[s1], #8, %[s1]\n\t"                                                                            \
            "strb %[s0], [%[o]]\n\t"                                                                               \
            "strb %[s1], [%[o], %[x1]]\n\t"                                                                        \
            "add %[o], %[o], %[x1], lsl #1\n\t"                                                                    \
            "cmp %[o], %[end]\n\t"                                                                                 \
            "bne 1b\n\t"                                                                                           \
            "5:\n\t"                                                                                               \
            "ldr %[x0], %[odd]\n\t"                                                                                \
            "tst %[x0], #1\n\t"                                                                                    \
            "beq 3f\n\t"                                                                                           \
            "ldrd %[x0], %[x1], [%[p]]\n\t"                                                                        \
            "smlad %[s0], %[x0], %[a0], %[bias]\n\t"                                                               \
            "smlabt %[s0], %[x1], %[b0], %[s0]\n\t"                                                                \
            "ldrd %[x0], %[x1], [%[p], %[t1]]\n\t"                                                                 \
            "smlad %[s0], %[x0], %[a1], %[s0]\n\t"                                                                 \
            "smlabt %[s0], %[x1], %[b1], %[s0]\n\t"                                                                \
            "ldrd %[x0], %[x1], [%[p], %[t2]]\n\t"                                                                 \
            "smlad %[s0], %[x0], %[a2], %[s0]\n\t"                                                                 \
            "smlabt %[s0], %[x1], %[b2], %[s0]\n\t"                                                                \
            "ldrd %[x0], %[x1], %[mk]\n\t"                                                                         \
            "smmlar %[s0], %[s0], %[x0], %[x1]\n\t"                                                                \
            "ldr %[x0], %[sc]\n\t"                                                                                 \
            "asr %[s0], %[s0], %[x0]\n\t"                                                                          \
            "ssat %[s0], #8, %[s0]\n\t"                                                                            \
            "strb %[s0], [%[o]]\n\t"                                                                               \
            "3:\n\t"                                                                                               \
            "ldr %[x0], %[pstep]\n\t"                                                                              \
            "add %[p], %[p], %[x0]\n\t"                                                                            \
            "ldr %[x0], %[ostep]\n\t"                                                                              \
            "add %[o], %[o], %[x0]\n\t"                                                                            \
            "ldr %[x0], %[lines]\n\t"                                                                              \
            "subs %[x0], %[x0], #1\n\t"                                                                            \
            "str %[x0], %[lines]\n\t"                                                                              \
            "bne 2b\n\t"                                                                                           \
            : [p] "+r"(p), [o] "+r"(o), [end] "+r"(end), [s0] "=&r"(s0), [s1] "=&r"(s1), [x0] "=&r"(x0),         \
              [x1] "=&r"(x1), [lines] "+m"(lines_m)                                                                \
            : [a0] "r"(a0), [a1] "r"(a1), [a2] "r"(a2), [b0] "r"(b0), [b1] "r"(b1), [b2] "r"(b2),                 \
              [bias] "r"(bias), [mk] "m"(mk), [sc] "m"(sc), [span] "m"(span_m), [pstep] "m"(pstep_m),              \
              [ostep] "m"(ostep_m), [odd] "m"(odd_m), [podd] "m"(podd_m), [o1] "i"(2 * (P) - 4), [o2] "i"(4 * (P) - 4), [t1] "i"(2 * (P)),  \
              [t2] "i"(4 * (P))                                                                                    \
            : "cc", "memory");                                                                                     \
    }
/* The channel loop of the chunk kernels (dw3_fusede_<P>, dw3_fusedc<S>_<P>, dw3_fusedf<S>_<n>): the head loads
 * the channel's pair words and bias from its table record into registers and its requantization constants to
 * the stack (mk, sc), and points p and o at its plane and output; the next step moves to the next channel. */
#define EDGEC_DW3_CH_HEAD_ASM                                                                                      \
    "ldr %[x0], %[rec]\n\t"                                                                                        \
    "ldrd %[a0], %[a1], [%[x0]]\n\t"                                                                               \
    "ldrd %[a2], %[b0], [%[x0], #8]\n\t"                                                                           \
    "ldrd %[b1], %[b2], [%[x0], #16]\n\t"                                                                          \
    "ldrd %[bias], %[s0], [%[x0], #24]\n\t"                                                                        \
    "ldrd %[s1], %[x1], [%[x0], #32]\n\t"                                                                          \
    "strd %[s0], %[s1], %[mk]\n\t"                                                                                 \
    "str %[x1], %[sc]\n\t"                                                                                         \
    "add %[x0], %[x0], #40\n\t"                                                                                    \
    "str %[x0], %[rec]\n\t"                                                                                        \
    "ldr %[p], %[bufp]\n\t"                                                                                        \
    "ldr %[o], %[outp]\n\t"
#define EDGEC_DW3_CH_NEXT_ASM                                                                                      \
    "ldr %[x0], %[bufp]\n\t"                                                                                       \
    "ldr %[x1], %[pbytes]\n\t"                                                                                     \
    "add %[x0], %[x0], %[x1]\n\t"                                                                                  \
    "str %[x0], %[bufp]\n\t"                                                                                       \
    "ldr %[x0], %[outp]\n\t"                                                                                       \
    "add %[x0], %[x0], #1\n\t"                                                                                     \
    "str %[x0], %[outp]\n\t"                                                                                       \
    "ldr %[x0], %[nch]\n\t"                                                                                        \
    "subs %[x0], %[x0], #1\n\t"                                                                                    \
    "str %[x0], %[nch]\n\t"                                                                                        \
    "bne 0b\n\t"
/* The C side of that channel loop's state: mk and sc (m, K; s and the output stride) and st[0..3] (record,
 * plane, output, channels left). */
#define EDGEC_DW3_CH_STATE                                                                                         \
    int64_t mk = 0, sc = 0;                                                                                        \
    {                                                                                                              \
        const int32_t sc_w[2] = {0, (int32_t)out_col};                                                             \
        memcpy(&sc, sc_w, sizeof sc);                                                                              \
    }                                                                                                              \
    st[0] = (int32_t)(uintptr_t)rec;                                                                               \
    st[1] = (int32_t)(uintptr_t)buf;                                                                               \
    st[2] = (int32_t)(uintptr_t)out;                                                                               \
    st[3] = nch
/* dw3_fused_<P> for lines of an even number of outputs (KWS's tiled bands: lines of four), every channel of the
 * chunk in one assembly statement: the channel's pair words, bias and constants are loaded from its table record
 * at the top of the channel loop, and the line loop has no odd-pair entry or odd-output tail, so a short call
 * pays about 28 instructions a channel and 10 a line besides its pairs. State the loops keep across channels and
 * lines is in st[] on the stack: 0 record, 1 buffer plane, 2 output, 3 channels left, 4 lines left, 5 the lines,
 * 6 the bytes the pairs of a line store, 7 / 8 the steps from a line's end to the next line's start (buffer,
 * output), 9 the bytes between planes. */
#define EDGEC_DW3_FUSED_EVEN(P) EDGEC_DW3_FUSED_EVEN_AS(dw3_fusede_##P, P, 1, EDGEC_DW3_PAIR_ASM)
#define EDGEC_DW3_FUSED_EVEN_AS(NAME, P, S, PAIR)                                                                  \
    static EDGEC_DW3_NOINLINE void NAME(const int16_t *buf, int32_t plane, int32_t nch, int32_t lines,           \
                                                  int32_t n, size_t row_step, const int32_t *rec, int8_t *out,     \
                                                  size_t out_col, size_t out_row)                                  \
    {                                                                                                              \
        const int32_t pairs = n >> 1;                                                                              \
        int32_t st[10];                                                                                            \
        EDGEC_DW3_CH_STATE;                                                                                        \
        st[4] = lines;                                                                                             \
        st[5] = lines;                                                                                             \
        st[6] = (int32_t)((size_t)(2 * pairs) * out_col);                                                         \
        st[7] = (int32_t)(2 * row_step) - 4 * (S) * pairs;                                                         \
        st[8] = (int32_t)out_row - st[6];                                                                          \
        st[9] = 2 * plane;                                                                                         \
        if (lines <= 0 || pairs <= 0 || nch <= 0) {                                                                \
            return;                                                                                                \
        }                                                                                                          \
        const int16_t *p;                                                                                          \
        int8_t *o, *end;                                                                                           \
        int32_t s0, s1, x0, x1, a0, a1, a2, b0, b1, b2, bias;                                                      \
        __asm__ volatile(                                                                                          \
            "0:\n\t"                                                                                               \
            EDGEC_DW3_CH_HEAD_ASM                                                                                  \
            "ldr %[x0], %[nlines]\n\t"                                                                             \
            "str %[x0], %[left]\n\t"                                                                               \
            "2:\n\t"                                                                                               \
            "ldr %[x0], %[span]\n\t"                                                                               \
            "add %[end], %[o], %[x0]\n\t"                                                                          \
            "1:\n\t" /* two pairs a step: a line has an even number of them */                                        \
            PAIR                                                                                                   \
            PAIR                                                                                                   \
            "cmp %[o], %[end]\n\t"                                                                                 \
            "bne 1b\n\t"                                                                                           \
            "ldr %[x0], %[pstep]\n\t"                                                                              \
            "add %[p], %[p], %[x0]\n\t"                                                                            \
            "ldr %[x0], %[ostep]\n\t"                                                                              \
            "add %[o], %[o], %[x0]\n\t"                                                                            \
            "ldr %[x0], %[left]\n\t"                                                                               \
            "subs %[x0], %[x0], #1\n\t"                                                                            \
            "str %[x0], %[left]\n\t"                                                                               \
            "bne 2b\n\t"                                                                                           \
            EDGEC_DW3_CH_NEXT_ASM                                                                                  \
            : [p] "=&r"(p), [o] "=&r"(o), [end] "=&r"(end), [s0] "=&r"(s0), [s1] "=&r"(s1), [x0] "=&r"(x0),       \
              [x1] "=&r"(x1), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [b0] "=&r"(b0), [b1] "=&r"(b1),     \
              [b2] "=&r"(b2), [bias] "=&r"(bias)                                                                     \
            /* st[], mk and sc are written too: memory operands, ordered by the "memory" clobber, as outputs they \
             * would exceed GCC's 30 operands */                                                                   \
            : [rec] "m"(st[0]), [bufp] "m"(st[1]), [outp] "m"(st[2]), [nch] "m"(st[3]), [left] "m"(st[4]),         \
              [mk] "m"(mk), [sc] "m"(sc), [nlines] "m"(st[5]), [span] "m"(st[6]), [pstep] "m"(st[7]), [ostep] "m"(st[8]), [pbytes] "m"(st[9]), \
              [o1] "i"(2 * (P) - 4), [o2] "i"(4 * (P) - 4), [q] "i"(2 * (P))                                       \
            : "cc", "memory");                                                                                     \
    }
EDGEC_DW3_FUSED_EVEN(8)
EDGEC_DW3_FUSED_EVEN(16)
EDGEC_DW3_FUSED_EVEN(32)
EDGEC_DW3_FUSED_EVEN(64)
EDGEC_DW3_FUSED_ONE(8)
EDGEC_DW3_FUSED_ONE(16)
EDGEC_DW3_FUSED_ONE(32)
EDGEC_DW3_FUSED_ONE(64)
EDGEC_DW3_FUSED_LINE(8)
EDGEC_DW3_FUSED_LINE(16)
EDGEC_DW3_FUSED_LINE(32)
EDGEC_DW3_FUSED_LINE(64)
/* One pair of outputs of a stride-2 line (columns 4k..4k + 4; B_r's top half is w2): the three rows' LDRD and
 * LDR, the multiply-accumulates, then the requantization and stores of EDGEC_DW3_PAIR_ASM. */
#define EDGEC_DW3_PAIR_S2_ASM                                                                                      \
    "ldrd %[x0], %[x1], [%[p]], #8\n\t"                                                                            \
    "smlad %[s0], %[x0], %[a0], %[bias]\n\t"                                                                       \
    "smlabt %[s0], %[x1], %[b0], %[s0]\n\t"                                                                        \
    "smlad %[s1], %[x1], %[a0], %[bias]\n\t"                                                                       \
    "ldr %[x0], [%[p]]\n\t"                                                                                        \
    "smlabt %[s1], %[x0], %[b0], %[s1]\n\t"                                                                        \
    "ldrd %[x0], %[x1], [%[p], %[q]-8]\n\t"                                                                        \
    "smlad %[s0], %[x0], %[a1], %[s0]\n\t"                                                                         \
    "smlabt %[s0], %[x1], %[b1], %[s0]\n\t"                                                                        \
    "smlad %[s1], %[x1], %[a1], %[s1]\n\t"                                                                         \
    "ldr %[x0], [%[p], %[q]]\n\t"                                                                                  \
    "smlabt %[s1], %[x0], %[b1], %[s1]\n\t"                                                                        \
    "ldrd %[x0], %[x1], [%[p], %[q]*2-8]\n\t"                                                                      \
    "smlad %[s0], %[x0], %[a2], %[s0]\n\t"                                                                         \
    "smlabt %[s0], %[x1], %[b2], %[s0]\n\t"                                                                        \
    "smlad %[s1], %[x1], %[a2], %[s1]\n\t"                                                                         \
    "ldr %[x0], [%[p], %[q]*2]\n\t"                                                                                \
    "smlabt %[s1], %[x0], %[b2], %[s1]\n\t"                                                                        \
    EDGEC_DW3_RQ2_ASM

/* The same for stride 1 (columns 2k..2k + 3). */
#define EDGEC_DW3_PAIR_S1_ASM                                                                                      \
    "ldrd %[x0], %[x1], [%[p]], #4\n\t"                                                                            \
    "smlad %[s0], %[x0], %[a0], %[bias]\n\t"                                                                       \
    "smlabt %[s0], %[x1], %[b0], %[s0]\n\t"                                                                        \
    "smlad %[s1], %[x1], %[b0], %[bias]\n\t"                                                                       \
    "smlatb %[s1], %[x0], %[a0], %[s1]\n\t"                                                                        \
    "ldrd %[x0], %[x1], [%[p], %[q]-4]\n\t"                                                                        \
    "smlad %[s0], %[x0], %[a1], %[s0]\n\t"                                                                         \
    "smlabt %[s0], %[x1], %[b1], %[s0]\n\t"                                                                        \
    "smlad %[s1], %[x1], %[b1], %[s1]\n\t"                                                                         \
    "smlatb %[s1], %[x0], %[a1], %[s1]\n\t"                                                                        \
    "ldrd %[x0], %[x1], [%[p], %[q]*2-4]\n\t"                                                                      \
    "smlad %[s0], %[x0], %[a2], %[s0]\n\t"                                                                         \
    "smlabt %[s0], %[x1], %[b2], %[s0]\n\t"                                                                        \
    "smlad %[s1], %[x1], %[b2], %[s1]\n\t"                                                                         \
    "smlatb %[s1], %[x0], %[a2], %[s1]\n\t"                                                                        \
    EDGEC_DW3_RQ2_ASM

/* Requantization and stores of a pair (s0, s1): (m, K) and (s, output stride) from the stack. */
#define EDGEC_DW3_RQ2_ASM                                                                                          \
    "ldrd %[x0], %[x1], %[mk]\n\t"                                                                                 \
    "smmlar %[s0], %[s0], %[x0], %[x1]\n\t"                                                                        \
    "smmlar %[s1], %[s1], %[x0], %[x1]\n\t"                                                                        \
    "ldrd %[x0], %[x1], %[sc]\n\t"                                                                                 \
    "asr %[s0], %[s0], %[x0]\n\t"                                                                                  \
    "asr %[s1], %[s1], %[x0]\n\t"                                                                                  \
    "ssat %[s0], #8, %[s0]\n\t"                                                                                    \
    "ssat %[s1], #8, %[s1]\n\t"                                                                                    \
    "strb %[s0], [%[o]]\n\t"                                                                                       \
    "strb %[s1], [%[o], %[x1]]\n\t"                                                                                \
    "add %[o], %[o], %[x1], lsl #1\n\t"

/* A line's single last output (either stride: x[j] w0 + x[j + 1] w1 + x[j + 2] w2 per row), requantized. */
#define EDGEC_DW3_TAIL_ASM                                                                                         \
    "ldrd %[x0], %[x1], [%[p]]\n\t"                                                                                \
    "smlad %[s0], %[x0], %[a0], %[bias]\n\t"                                                                       \
    "smlabt %[s0], %[x1], %[b0], %[s0]\n\t"                                                                        \
    "ldrd %[x0], %[x1], [%[p], %[q]]\n\t"                                                                          \
    "smlad %[s0], %[x0], %[a1], %[s0]\n\t"                                                                         \
    "smlabt %[s0], %[x1], %[b1], %[s0]\n\t"                                                                        \
    "ldrd %[x0], %[x1], [%[p], %[q]*2]\n\t"                                                                        \
    "smlad %[s0], %[x0], %[a2], %[s0]\n\t"                                                                         \
    "smlabt %[s0], %[x1], %[b2], %[s0]\n\t"                                                                        \
    "ldrd %[x0], %[x1], %[mk]\n\t"                                                                                 \
    "smmlar %[s0], %[s0], %[x0], %[x1]\n\t"                                                                        \
    "ldr %[x0], %[sc]\n\t"                                                                                         \
    "asr %[s0], %[s0], %[x0]\n\t"                                                                                  \
    "ssat %[s0], #8, %[s0]\n\t"                                                                                    \
    "strb %[s0], [%[o]]\n\t"

/* Every channel of a chunk and every line in one assembly statement, for any line length and stride S (1 or 2):
 * like dw3_fusede_<P> plus a mode word (bit 0: an odd last output, EDGEC_DW3_TAIL_ASM; bit 1: no pairs, lines of
 * one output). Small maps (MobileNet's 6x6 and 3x3) and stride 2 pay about 28 instructions a channel and 16 a
 * line besides their outputs. */
#define EDGEC_DW3_FUSED_CH(P, S)                                                                                   \
    static EDGEC_DW3_NOINLINE void dw3_fusedc##S##_##P(const int16_t *buf, int32_t plane, int32_t nch,           \
                                                       int32_t lines, int32_t n, size_t row_step,                  \
                                                       const int32_t *rec, int8_t *out, size_t out_col,            \
                                                       size_t out_row)                                             \
    {                                                                                                              \
        const int32_t pairs = n >> 1;                                                                              \
        int32_t st[11];                                                                                            \
        EDGEC_DW3_CH_STATE;                                                                                        \
        st[4] = lines;                                                                                             \
        st[5] = lines;                                                                                             \
        st[6] = (int32_t)((size_t)(2 * pairs) * out_col);                                                         \
        st[7] = (int32_t)(2 * row_step) - 4 * (S) * pairs;                                                         \
        st[8] = (int32_t)out_row - st[6];                                                                          \
        st[9] = 2 * plane;                                                                                         \
        st[10] = (n & 1) | (pairs == 0 ? 2 : 0);                                                                   \
        if (lines <= 0 || n <= 0 || nch <= 0) {                                                                    \
            return;                                                                                                \
        }                                                                                                          \
        const int16_t *p;                                                                                          \
        int8_t *o, *end;                                                                                           \
        int32_t s0, s1, x0, x1, a0, a1, a2, b0, b1, b2, bias;                                                      \
        __asm__ volatile(                                                                                          \
            "0:\n\t"                                                                                               \
            EDGEC_DW3_CH_HEAD_ASM                                                                                  \
            "ldr %[x0], %[nlines]\n\t"                                                                             \
            "str %[x0], %[left]\n\t"                                                                               \
            "2:\n\t"                                                                                               \
            "ldr %[x0], %[span]\n\t"                                                                               \
            "add %[end], %[o], %[x0]\n\t"                                                                          \
            "ldr %[x0], %[mode]\n\t"                                                                               \
            "tst %[x0], #2\n\t"                                                                                    \
            "bne 5f\n\t"                                                                                           \
            "1:\n\t"                                                                                               \
            EDGEC_DW3_PAIR_S##S##_ASM                                                                              \
            "cmp %[o], %[end]\n\t"                                                                                 \
            "bne 1b\n\t"                                                                                           \
            "5:\n\t"                                                                                               \
            "ldr %[x0], %[mode]\n\t"                                                                               \
            "tst %[x0], #1\n\t"                                                                                    \
            "beq 3f\n\t"                                                                                           \
            EDGEC_DW3_TAIL_ASM                                                                                     \
            "3:\n\t"                                                                                               \
            "ldr %[x0], %[pstep]\n\t"                                                                              \
            "add %[p], %[p], %[x0]\n\t"                                                                            \
            "ldr %[x0], %[ostep]\n\t"                                                                              \
            "add %[o], %[o], %[x0]\n\t"                                                                            \
            "ldr %[x0], %[left]\n\t"                                                                               \
            "subs %[x0], %[x0], #1\n\t"                                                                            \
            "str %[x0], %[left]\n\t"                                                                               \
            "bne 2b\n\t"                                                                                           \
            EDGEC_DW3_CH_NEXT_ASM                                                                                  \
            : [p] "=&r"(p), [o] "=&r"(o), [end] "=&r"(end), [s0] "=&r"(s0), [s1] "=&r"(s1), [x0] "=&r"(x0),       \
              [x1] "=&r"(x1), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [b0] "=&r"(b0), [b1] "=&r"(b1),     \
              [b2] "=&r"(b2), [bias] "=&r"(bias)                                                                   \
            /* st[], mk and sc are written too (see dw3_fusede_<P>) */                                             \
            : [rec] "m"(st[0]), [bufp] "m"(st[1]), [outp] "m"(st[2]), [nch] "m"(st[3]), [left] "m"(st[4]),         \
              [mk] "m"(mk), [sc] "m"(sc), [nlines] "m"(st[5]), [span] "m"(st[6]), [pstep] "m"(st[7]),              \
              [ostep] "m"(st[8]), [pbytes] "m"(st[9]), [mode] "m"(st[10]), [q] "i"(2 * (P))                        \
            : "cc", "memory");                                                                                     \
    }
/* Pair J of a line of fixed length at immediate offsets from the line's start (p is not advanced): stride 1,
 * columns 2J..2J + 3, and stride 2, columns 4J..4J + 4 (the loop pairs' EDGEC_DW3_PAIR_S<S>_ASM). */
#define EDGEC_DW3_AT(R, X) "[%[p], %[q]*" #R "+" X "]"
/* Kernel row R of pair J (accumulating onto C0 and C1: the bias in row 0, the sums after it). */
#define EDGEC_DW3_S1_ROW_AT(R, J, A, B, C0, C1)                                                                    \
    "ldrd %[x0], %[x1], " EDGEC_DW3_AT(R, #J "*4") "\n\t"                                                          \
    "smlad %[s0], %[x0], %[" #A "], %[" #C0 "]\n\t"                                                                \
    "smlabt %[s0], %[x1], %[" #B "], %[s0]\n\t"                                                                    \
    "smlad %[s1], %[x1], %[" #B "], %[" #C1 "]\n\t"                                                                \
    "smlatb %[s1], %[x0], %[" #A "], %[s1]\n\t"
#define EDGEC_DW3_S2_ROW_AT(R, J, A, B, C0, C1)                                                                    \
    "ldrd %[x0], %[x1], " EDGEC_DW3_AT(R, #J "*8") "\n\t"                                                          \
    "smlad %[s0], %[x0], %[" #A "], %[" #C0 "]\n\t"                                                                \
    "smlabt %[s0], %[x1], %[" #B "], %[s0]\n\t"                                                                    \
    "smlad %[s1], %[x1], %[" #A "], %[" #C1 "]\n\t"                                                                \
    "ldr %[x0], " EDGEC_DW3_AT(R, #J "*8+8") "\n\t"                                                                \
    "smlabt %[s1], %[x0], %[" #B "], %[s1]\n\t"
#define EDGEC_DW3_PAIR_S1_AT(J)                                                                                    \
    EDGEC_DW3_S1_ROW_AT(0, J, a0, b0, bias, bias)                                                                  \
    EDGEC_DW3_S1_ROW_AT(1, J, a1, b1, s0, s1)                                                                      \
    EDGEC_DW3_S1_ROW_AT(2, J, a2, b2, s0, s1)                                                                      \
    EDGEC_DW3_RQ2_ASM
#define EDGEC_DW3_PAIR_S2_AT(J)                                                                                    \
    EDGEC_DW3_S2_ROW_AT(0, J, a0, b0, bias, bias)                                                                  \
    EDGEC_DW3_S2_ROW_AT(1, J, a1, b1, s0, s1)                                                                      \
    EDGEC_DW3_S2_ROW_AT(2, J, a2, b2, s0, s1)                                                                      \
    EDGEC_DW3_RQ2_ASM
/* A line's single last output at column C (EDGEC_DW3_TAIL_ASM at an offset). */
#define EDGEC_DW3_TAIL_ROW_AT(R, C, A, B, C0)                                                                      \
    "ldrd %[x0], %[x1], " EDGEC_DW3_AT(R, #C "*2") "\n\t"                                                          \
    "smlad %[s0], %[x0], %[" #A "], %[" #C0 "]\n\t"                                                                \
    "smlabt %[s0], %[x1], %[" #B "], %[s0]\n\t"
#define EDGEC_DW3_TAIL_AT(C)                                                                                       \
    EDGEC_DW3_TAIL_ROW_AT(0, C, a0, b0, bias)                                                                      \
    EDGEC_DW3_TAIL_ROW_AT(1, C, a1, b1, s0)                                                                        \
    EDGEC_DW3_TAIL_ROW_AT(2, C, a2, b2, s0)                                                                        \
    "ldrd %[x0], %[x1], %[mk]\n\t"                                                                                 \
    "smmlar %[s0], %[s0], %[x0], %[x1]\n\t"                                                                        \
    "ldr %[x0], %[sc]\n\t"                                                                                         \
    "asr %[s0], %[s0], %[x0]\n\t"                                                                                  \
    "ssat %[s0], #8, %[s0]\n\t"                                                                                    \
    "strb %[s0], [%[o]]\n\t"

/* Lines of a fixed length, LINE: the pairs (and a last output alone) unrolled at immediate offsets, so that a
 * line pays six instructions besides its outputs (the loop kernel's dw3_fusedc<S>_<P> about twenty on lines of
 * three pairs): MobileNet's 6x6 and 3x3 maps (lines of 6 and 3, stride 1 or 2). Otherwise dw3_fusedc<S>_<P>'s
 * channel loop, with the lines counted in the register the loop's end pointer takes there. */
#define EDGEC_DW3_FUSED_FIX(NAME, P, LINE)                                                                         \
    static EDGEC_DW3_NOINLINE void NAME(const int16_t *buf, int32_t plane, int32_t nch, int32_t lines,           \
                                        int32_t n, size_t row_step, const int32_t *rec, int8_t *out,               \
                                        size_t out_col, size_t out_row)                                            \
    {                                                                                                              \
        int32_t st[8];                                                                                             \
        EDGEC_DW3_CH_STATE;                                                                                        \
        st[4] = lines;                                                                                             \
        st[5] = (int32_t)(2 * row_step);                                                                           \
        st[6] = (int32_t)out_row - (int32_t)((size_t)(n & ~1) * out_col);                                         \
        st[7] = 2 * plane;                                                                                         \
        if (lines <= 0 || nch <= 0) {                                                                              \
            return;                                                                                                \
        }                                                                                                          \
        const int16_t *p;                                                                                          \
        int8_t *o;                                                                                                 \
        int32_t s0, s1, x0, x1, a0, a1, a2, b0, b1, b2, bias, left;                                                \
        __asm__ volatile(                                                                                          \
            "0:\n\t"                                                                                               \
            EDGEC_DW3_CH_HEAD_ASM                                                                                  \
            "ldr %[left], %[nlines]\n\t"                                                                           \
            "2:\n\t"                                                                                               \
            LINE                                                                                                   \
            "ldr %[x0], %[pstep]\n\t"                                                                              \
            "add %[p], %[p], %[x0]\n\t"                                                                            \
            "ldr %[x0], %[ostep]\n\t"                                                                              \
            "add %[o], %[o], %[x0]\n\t"                                                                            \
            "subs %[left], %[left], #1\n\t"                                                                        \
            "bne 2b\n\t"                                                                                           \
            EDGEC_DW3_CH_NEXT_ASM                                                                                  \
            : [p] "=&r"(p), [o] "=&r"(o), [left] "=&r"(left), [s0] "=&r"(s0), [s1] "=&r"(s1), [x0] "=&r"(x0),     \
              [x1] "=&r"(x1), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [b0] "=&r"(b0), [b1] "=&r"(b1),     \
              [b2] "=&r"(b2), [bias] "=&r"(bias)                                                                   \
            /* st[], mk and sc are written too (see dw3_fusede_<P>) */                                             \
            : [rec] "m"(st[0]), [bufp] "m"(st[1]), [outp] "m"(st[2]), [nch] "m"(st[3]), [mk] "m"(mk),              \
              [sc] "m"(sc), [nlines] "m"(st[4]), [pstep] "m"(st[5]), [ostep] "m"(st[6]), [pbytes] "m"(st[7]),        \
              [q] "i"(2 * (P))                                                                                     \
            : "cc", "memory");                                                                                     \
    }
EDGEC_DW3_FUSED_FIX(dw3_fusedf1_6, 8, EDGEC_DW3_PAIR_S1_AT(0) EDGEC_DW3_PAIR_S1_AT(1) EDGEC_DW3_PAIR_S1_AT(2))
EDGEC_DW3_FUSED_FIX(dw3_fusedf1_3, 8, EDGEC_DW3_PAIR_S1_AT(0) EDGEC_DW3_TAIL_AT(2))
EDGEC_DW3_FUSED_FIX(dw3_fusedf2_6, 16, EDGEC_DW3_PAIR_S2_AT(0) EDGEC_DW3_PAIR_S2_AT(1) EDGEC_DW3_PAIR_S2_AT(2))
EDGEC_DW3_FUSED_FIX(dw3_fusedf2_3, 16, EDGEC_DW3_PAIR_S2_AT(0) EDGEC_DW3_TAIL_AT(4))
/* Stride 2 with an even number of pairs a line (dw3_fusede_<P>'s loop on EDGEC_DW3_PAIR_S2_ASM). */
EDGEC_DW3_FUSED_EVEN_AS(dw3_fusede2_16, 16, 2, EDGEC_DW3_PAIR_S2_ASM)
EDGEC_DW3_FUSED_EVEN_AS(dw3_fusede2_32, 32, 2, EDGEC_DW3_PAIR_S2_ASM)
EDGEC_DW3_FUSED_EVEN_AS(dw3_fusede2_64, 64, 2, EDGEC_DW3_PAIR_S2_ASM)
EDGEC_DW3_FUSED_CH(8, 1)
EDGEC_DW3_FUSED_CH(16, 1)
EDGEC_DW3_FUSED_CH(8, 2)
EDGEC_DW3_FUSED_CH(16, 2)
EDGEC_DW3_FUSED_CH(32, 2)
EDGEC_DW3_FUSED_CH(64, 2)
EDGEC_DW3_FUSED_CH(128, 2)

#define EDGEC_DW3_FUSED 1
#else
#define EDGEC_DW3_FUSED 0
#endif

/* The fixed row pitch (halfwords) of the fused line loop for lines of out_w outputs, or 0 when none fits. */
static inline int32_t dw3_fused_pitch(int32_t out_w, int32_t stride_w)
{
    const int32_t need = stride_w * ((out_w + 1) & ~1) + 2;
    if (out_w < 1) {
        return 0;
    }
    if (stride_w == 2) {
        return need <= 8 ? 8 : (need <= 16 ? 16 : (need <= 32 ? 32 : (need <= 64 ? 64 : (need <= 128 ? 128 : 0))));
    }
    return need <= 8 ? 8 : (need <= 16 ? 16 : (need <= 32 ? 32 : (need <= 64 ? 64 : 0)));
}

/* Every band and chunk through buf. table: the compiler's (then filter is unused), or NULL to pack the int8
 * filter per call and requantize by quant. */
static void dw3_run(const dw3_geom *g, int16_t *buf, const int8_t *filter, const int32_t *table, const int32_t *bias,
                    const edgec_per_channel_quant *quant, const edgec_conv_params *params, int32_t chunk,
                    int32_t band_rows)
{
    const int stride2 = g->stride_w == 2;
    const size_t pixel = (size_t)g->chans;
    const int32_t out_w = g->out_w;
    const int32_t group_rows = EDGEC_DW3_ACC / out_w;
    int32_t acc[EDGEC_DW3_ACC + 1]; /* + 1: the odd-width spare of dw3_macs */
    const dw3_shared k = {g->stride_h * g->wp, g->wp, out_w, params->output_offset, params->act_min,
                          params->act_max, pixel, g->out_col, g->out_row - (size_t)out_w * g->out_col};
    const int32_t *const multiplier = quant->multiplier;
    const int32_t *const shift = quant->shift;
    const int32_t flags = table != NULL ? table[0] : 0;
    /* One layout for every band (the rows of the tallest): the pad columns are written once, here. */
    const int32_t plane = ((band_rows - 1) * g->stride_h + 3) * g->wp;
    {
        const uint32_t pad2 = ((uint32_t)(uint16_t)g->pad << 16) | (uint16_t)g->pad;
        const uint32_t pad8[4] = {pad2, pad2, pad2, pad2};
        const int32_t words = chunk * plane / 2;
        int32_t i = 0;
        for (; i + 4 <= words; i += 4) { /* four words a step (short calls fill a buffer per call) */
            memcpy(buf + 2 * i, pad8, sizeof pad8);
        }
        for (; i < words; ++i) {
            dw3_store2(buf + 2 * i, (int32_t)pad2);
        }
    }
    const size_t group_step = (size_t)group_rows * (size_t)k.row_step;
    const size_t group_out = (size_t)group_rows * g->out_row;
    for (int32_t oy0 = 0; oy0 < g->out_h; oy0 += band_rows) {
        const int32_t band = g->out_h - oy0 < band_rows ? g->out_h - oy0 : band_rows;
        const int32_t rows = (band - 1) * g->stride_h + 3;
        int8_t *const obase = g->output + (size_t)oy0 * g->out_row;
        for (int32_t c0 = 0; c0 < g->chans; c0 += chunk) {
            const int32_t n = g->chans - c0 < chunk ? g->chans - c0 : chunk;
            /* Pad rows: the initial fill holds for the first band; a later band's rows below the input held input
             * rows of an earlier band, and are written again by its first chunk (the others see them as left). */
            dw3_copy_rows(g, buf, plane, rows, oy0 * g->stride_h - g->pad_top, c0, n, oy0 > 0 && c0 == 0);
            const int16_t *pl = buf;
#if EDGEC_DW3_FUSED
            if (g->fused) { /* the chunk's channels in one call */
                const int32_t *rec = table + EDGEC_DW3_T_HEADER + (size_t)c0 * EDGEC_DW3_T_WORDS;
#define EDGEC_DW3_CALL(f) f(buf, plane, n, band, out_w, (size_t)k.row_step, rec, obase + c0, g->out_col, g->out_row)
                if (out_w == 6 && g->wp == 8 * (1 + stride2)) { /* the fixed lines of MobileNet's small maps */
                    if (stride2) {
                        EDGEC_DW3_CALL(dw3_fusedf2_6);
                    } else {
                        EDGEC_DW3_CALL(dw3_fusedf1_6);
                    }
                } else if (out_w == 3 && g->wp == 8 * (1 + stride2)) {
                    if (stride2) {
                        EDGEC_DW3_CALL(dw3_fusedf2_3);
                    } else {
                        EDGEC_DW3_CALL(dw3_fusedf1_3);
                    }
                } else if (stride2 && !(out_w & 3) && g->wp >= 16 && g->wp <= 64) { /* even pairs a line */
                    if (g->wp == 16) {
                        EDGEC_DW3_CALL(dw3_fusede2_16);
                    } else if (g->wp == 32) {
                        EDGEC_DW3_CALL(dw3_fusede2_32);
                    } else {
                        EDGEC_DW3_CALL(dw3_fusede2_64);
                    }
                } else if (stride2) { /* dw3_fusedc2_<wp> */
                    if (g->wp == 8) {
                        EDGEC_DW3_CALL(dw3_fusedc2_8);
                    } else if (g->wp == 16) {
                        EDGEC_DW3_CALL(dw3_fusedc2_16);
                    } else if (g->wp == 32) {
                        EDGEC_DW3_CALL(dw3_fusedc2_32);
                    } else if (g->wp == 64) {
                        EDGEC_DW3_CALL(dw3_fusedc2_64);
                    } else {
                        EDGEC_DW3_CALL(dw3_fusedc2_128);
                    }
                } else if ((out_w & 3) && g->wp <= 16) { /* short lines, odd pairs or an odd output */
                    if (g->wp == 8) {
                        EDGEC_DW3_CALL(dw3_fusedc1_8);
                    } else {
                        EDGEC_DW3_CALL(dw3_fusedc1_16);
                    }
                } else if (!(out_w & 3)) { /* an even number of pairs a line and no odd output: dw3_fusede_<wp> */
                    if (g->wp == 8) {
                        dw3_fusede_8(buf, plane, n, band, out_w, (size_t)k.row_step, rec, obase + c0, g->out_col,
                                     g->out_row);
                    } else if (g->wp == 16) {
                        dw3_fusede_16(buf, plane, n, band, out_w, (size_t)k.row_step, rec, obase + c0, g->out_col,
                                      g->out_row);
                    } else if (g->wp == 32) {
                        dw3_fusede_32(buf, plane, n, band, out_w, (size_t)k.row_step, rec, obase + c0, g->out_col,
                                      g->out_row);
                    } else {
                        dw3_fusede_64(buf, plane, n, band, out_w, (size_t)k.row_step, rec, obase + c0, g->out_col,
                                      g->out_row);
                    }
                } else if (g->wp == 8) {
                    dw3_fused_8(buf, plane, n, band, out_w, (size_t)k.row_step, rec, obase + c0, g->out_col,
                                g->out_row);
                } else if (g->wp == 16) {
                    dw3_fused_16(buf, plane, n, band, out_w, (size_t)k.row_step, rec, obase + c0, g->out_col,
                                 g->out_row);
                } else if (g->wp == 32) {
                    dw3_fused_32(buf, plane, n, band, out_w, (size_t)k.row_step, rec, obase + c0, g->out_col,
                                 g->out_row);
                } else {
                    dw3_fused_64(buf, plane, n, band, out_w, (size_t)k.row_step, rec, obase + c0, g->out_col,
                                 g->out_row);
                }
#undef EDGEC_DW3_CALL
                (void)pl;
                continue;
            }
#endif
            for (int32_t c = c0; c < c0 + n; ++c, pl += plane) {
                int32_t local[EDGEC_DW3_PAIR_WORDS];
                const int32_t *pk = local;
                int32_t b = 0;
                if (table != NULL) {
                    pk = table + EDGEC_DW3_T_HEADER + (size_t)c * EDGEC_DW3_T_WORDS;
                    b = pk[6];
                } else {
                    dw3_pack(filter, pixel, c, local);
                    b = bias[c];
                }
                const int16_t *gp = pl;
                int8_t *op = obase + c;
                for (int32_t left = band; left > 0; left -= group_rows) {
                    const int32_t nr = left < group_rows ? left : group_rows;
                    if (stride2) {
                        dw3_macs_s2(gp, &k, nr, pk, b, acc);
                    } else {
                        dw3_macs_s1(gp, &k, nr, pk, b, acc);
                    }
                    if (table != NULL) {
                        dw3_requant_t(acc, nr, out_w, op, &k, pk, flags);
                    } else {
                        dw3_requant_ch(acc, nr * out_w, op, &k, multiplier[c], shift[c]);
                    }
                    gp += group_step;
                    op += group_out;
                }
            }
        }
    }
}
#define EDGEC_DW3_MIN_WIDTH 6 /* narrower output rows take the general path (see dw3x3_band) */
#define EDGEC_DW3_SMALL 1024 /* halfwords: 2 KiB of stack */
#define EDGEC_DW3_LARGE 2048 /* halfwords: 4 KiB of stack */

static EDGEC_DW3_NOINLINE void dw3_run_small(const dw3_geom *g, const int8_t *filter, const int32_t *pairs,
                                             const int32_t *bias,
                                             const edgec_per_channel_quant *quant, const edgec_conv_params *params,
                                             int32_t chunk, int32_t band_rows)
{
    int16_t buf[EDGEC_DW3_SMALL] EDGEC_DW3_ALIGN4;
    dw3_run(g, buf, filter, pairs, bias, quant, params, chunk, band_rows);
}

static EDGEC_DW3_NOINLINE void dw3_run_large(const dw3_geom *g, const int8_t *filter, const int32_t *pairs,
                                             const int32_t *bias,
                                             const edgec_per_channel_quant *quant, const edgec_conv_params *params,
                                             int32_t chunk, int32_t band_rows)
{
    int16_t buf[EDGEC_DW3_LARGE] EDGEC_DW3_ALIGN4;
    dw3_run(g, buf, filter, pairs, bias, quant, params, chunk, band_rows);
}

/* The band path for one batch when the shape suits it (3x3, undilated, stride_w 1 or 2, a buffer row of at
 * least three rows of one channel fits); returns 0 (nothing written) otherwise. table: the compiler's
 * (compiler/dw_layout.py), or NULL to pack the int8 filter per call. A transposed table (narrow maps) swaps rows
 * and columns throughout: the buffer's rows are input columns, so the kernel's lines run down the map. */
static int dw3x3_band(const edgec_conv_params *params, const edgec_per_channel_quant *quant, const int8_t *input,
                      int32_t in_h, int32_t in_w, int32_t chans, const int8_t *filter, const int32_t *table,
                      const int32_t *bias, int8_t *output, int32_t out_h, int32_t out_w)
{
    const int transposed = table != NULL && (table[0] & EDGEC_DW3_T_TRANSPOSED);
    if (table != NULL && table[1] != chans) {
        return 0;
    }
    dw3_geom g;
    g.input = input;
    g.output = output;
    g.chans = chans;
    g.pad = (int16_t)params->pad_value;
    if (transposed) {
        g.in_h = in_w;
        g.in_w = in_h;
        g.out_h = out_w;
        g.out_w = out_h;
        g.stride_h = params->stride_w;
        g.stride_w = params->stride_h;
        g.pad_top = params->pad_left;
        g.pad_left = params->pad_top;
        g.in_row = (size_t)chans;
        g.in_col = (size_t)in_w * (size_t)chans;
        g.out_row = (size_t)chans;
        g.out_col = (size_t)out_w * (size_t)chans;
    } else {
        g.in_h = in_h;
        g.in_w = in_w;
        g.out_h = out_h;
        g.out_w = out_w;
        g.stride_h = params->stride_h;
        g.stride_w = params->stride_w;
        g.pad_top = params->pad_top;
        g.pad_left = params->pad_left;
        g.in_row = (size_t)in_w * (size_t)chans;
        g.in_col = (size_t)chans;
        g.out_row = (size_t)out_w * (size_t)chans;
        g.out_col = (size_t)chans;
    }
    if ((g.stride_w != 1 && g.stride_w != 2) || g.stride_h < 1 || g.stride_h > 4) {
        return 0;
    }
    /* Without the table, rows narrower than EDGEC_DW3_MIN_WIDTH outputs keep the general path: each call pays a
     * per-channel set-up (weight packing, the calls of each group) that only wide rows or many rows amortise. */
    if (table == NULL && g.out_w < EDGEC_DW3_MIN_WIDTH) {
        return 0;
    }
    /* Stride 2 over few outputs: the copy (each input used by 2.25 MACs) and the per-channel set-up cost more
     * than they save (measured: MobileNet's 6x6 -> 3x3 layer; without DSP its 12x12 -> 6x6 layer too). */
#if defined(EDGEC_DOT_DSP)
    const int32_t few = 9;
#else
    const int32_t few = 36;
#endif
    if ((table == NULL || !EDGEC_DW3_FUSED) && g.stride_w == 2 && (int64_t)g.out_h * g.out_w <= few) {
        return 0;
    }
    const int32_t out_w_even = (g.out_w + 1) & ~1;
    int64_t wp64 = (int64_t)g.stride_w * out_w_even + 2;
    /* The fused line loop (stride 1, the table, NOSIGN, the full int8 clamp) at its fixed row pitch. */
    g.fused = EDGEC_DW3_FUSED && table != NULL && (table[0] & EDGEC_DW3_T_NOSIGN) && params->act_min == -128 &&
              params->act_max == 127 && dw3_fused_pitch(g.out_w, g.stride_w) != 0;
    if (g.fused) {
        wp64 = dw3_fused_pitch(g.out_w, g.stride_w);
    }
    if (wp64 * 3 > EDGEC_DW3_LARGE || g.out_w > EDGEC_DW3_ACC) {
        return 0;
    }
    g.wp = (int32_t)wp64;
    if (g.pad_left >= g.wp) {
        return 0;
    }
    /* Input columns inside the buffer row: [0, min(in_w, wp - pad_left)). */
    g.conv_cols = g.in_w < g.wp - g.pad_left ? g.in_w : g.wp - g.pad_left;
    const int32_t rows_all = (g.out_h - 1) * g.stride_h + 3;
    int32_t chunk = chans < 4 ? chans : 4;
#if defined(EDGEC_DOT_DSP)
    /* Short calls (the whole call in the small buffer eight channels at a time, e.g. tiled bands): chunks of
     * eight halve the per-chunk and per-row costs. */
    if (g.fused && chans >= 8 && (int64_t)8 * rows_all * g.wp <= EDGEC_DW3_SMALL) {
        chunk = 8;
    }
#endif
    int32_t capacity = EDGEC_DW3_SMALL;
    if ((int64_t)chunk * rows_all * g.wp > EDGEC_DW3_SMALL) {
        capacity = EDGEC_DW3_LARGE;
    }
    int32_t rows_fit = capacity / (chunk * g.wp);
    if (rows_fit < 3) {
        chunk = capacity / (3 * g.wp);
        rows_fit = capacity / (chunk * g.wp);
    }
    int32_t band_max = (rows_fit - 3) / g.stride_h + 1;
    if (band_max > g.out_h) {
        band_max = g.out_h;
    }
    const int32_t bands = (g.out_h + band_max - 1) / band_max;
    const int32_t band_rows = (g.out_h + bands - 1) / bands;
    if (capacity == EDGEC_DW3_SMALL) {
        dw3_run_small(&g, filter, table, bias, quant, params, chunk, band_rows);
    } else {
        dw3_run_large(&g, filter, table, bias, quant, params, chunk, band_rows);
    }
    return 1;
}

#endif /* EDGEC_DW3X3_BAND_H */
