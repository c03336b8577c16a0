/*
 * edgec runtime, internal to edgec_convolve_w16_s8 on the DSP extension (Cortex-M4/M7/M33): the channel loop of
 * two output positions times two channels per pass over one stream of int16 weights and int32 constants the
 * compiler laid out offline (compiler/conv_layout.py).
 *
 * Pair buffer: per chunk of four taps 4c..4c+3 four words, pixel p's halfword pairs (4c, 4c+2) and (4c+1, 4c+3)
 * at words 4c + 2p and 4c + 2p + 1 (SXTB16 and SXTB16 ROR 8 of four input bytes), K padded to Kp, a multiple of
 * 4, by zero taps. Stream, per pair of channels (c0, c1): {bias0, bias1, bias0, bias1}, then per chunk the
 * weights in the buffer's pairs {c0 (w0,w2), c0 (w1,w3), c1 (w0,w2), c1 (w1,w3)}, then c0's and c1's folded
 * right-shift constants {lo, hi, multiplier, r1} (edgec_rq_right_fold_offset: output offset included).
 *
 * Why 2 x 2: a chunk is one LDM of the four weight words, one LDM of the four pixel words and eight SMLAD,
 * 10 instructions for 16 MACs (the former four positions x one channel needed 11: one more load per chunk),
 * and the four accumulators start from the bias in one LDM. The 14 registers are all taken in the chunk, so
 * the loop keeps its bounds on the stack; the chunk loop is eight chunks long and entered at chunk
 * (8 - Kp / 4 % 8) % 8 by a computed branch (every chunk instruction is 32-bit: 40 bytes a chunk), which is
 * what lets Kp be a multiple of 4 rather than 8 (K = 27: 7 chunks, not 8). After the chunks each output is the
 * six-instruction folded requantization (AND/ADDS/ADC, SMLAL, ASR, SSAT) and one STRB, or for a doubled stream
 * (compiler/conv_layout.py) three (SMMLAR, ASR, SSAT; four with the sign's ADD where the output offset is not
 * -128) and one STRB; with the constants' two LDM and the pass's bookkeeping (bias LDM, buffer reload,
 * computed entry, output pointer, bound) about 39 instructions of a folded pass and 27 of a doubled one go to the
 * four outputs (two more a channel to check it is folded).
 *
 * One position: the same functions built for one position (edgec_conv_w16_one_*_s8) take an odd last position,
 * or a single one, as pixel 0 of the buffer: per chunk one LDM of weights, one LDRD of its two pixel words and
 * four SMLAD (6 instructions for 8 MACs, 24 bytes a chunk for the computed entry), two outputs a pass.
 */
#ifndef EDGEC_CONV_QUAD_W16_H
#define EDGEC_CONV_QUAD_W16_H

#include <stdint.h>

#include "edgec_thumb_func.h"

/* The fourth word of a doubled stream's constants (compiler/conv_layout.py's DOUBLED_MARK): biases and weights
 * twice their values, each channel's constants {multiplier, c, s, EDGEC_W16_DOUBLED}. */
#define EDGEC_W16_DOUBLED 0x444F5542
#define EDGEC_W16_DOUBLED_SIGNED 0x444F5553 /* the same where the output offset is not -128 */

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !(defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1))
#define EDGEC_CONV_W16_ASM 1

/* The state of edgec_conv_w16_pairs_s8 (word offsets fixed): its first seven words are the loop's locals, copied
 * to its stack in one LDM/STM; entry is 0 until the first call computes it from skip and stores it back. */
typedef struct {
    const int32_t *quad;     /*  0: the pair buffer */
    const int32_t *quad_end; /*  4: past its Kp / 4 chunks */
    int8_t *out;             /*  8: the first channel's output at the first position */
    uint32_t stride;         /* 12: bytes from one position's outputs to the next (OC) */
    int8_t *out_end;         /* 16: out + 2 * pairs (at least one pair) */
    uintptr_t entry;         /* 20: the chunk loop's entry (Thumb bit set); 0 before the first call */
    int32_t offset;          /* 24: the output offset (for a channel whose constants are not folded) */
    const int32_t *stream;   /* 28: the first channel pair's stream entry */
    uint32_t skip;           /* 32: chunks skipped at the loop's entry: (8 - Kp / 4 % 8) % 8 */
} edgec_w16_pairs;

/* One chunk: r4 the pair buffer, r5 the stream; r0 p0c0, r1 p0c1, r2 p1c0, r3 p1c1. */
#define EDGEC_W16_CHUNK2                                                                                              \
        "ldmia.w r5!, {r6, r7, r8, r9}\n\t"                                                                           \
        "ldmia.w r4!, {r10, r11, r12, lr}\n\t"                                                                        \
        "smlad r0, r10, r6, r0\n\t"                                                                                   \
        "smlad r0, r11, r7, r0\n\t"                                                                                   \
        "smlad r1, r10, r8, r1\n\t"                                                                                   \
        "smlad r1, r11, r9, r1\n\t"                                                                                   \
        "smlad r2, r12, r6, r2\n\t"                                                                                   \
        "smlad r2, lr, r7, r2\n\t"                                                                                    \
        "smlad r3, r12, r8, r3\n\t"                                                                                   \
        "smlad r3, lr, r9, r3\n\t"
/* One chunk of one position (pixel 0's two words, then on to the next chunk's): r0 c0, r1 c1. */
#define EDGEC_W16_CHUNK1                                                                                               \
        "ldmia.w r5!, {r6, r7, r8, r9}\n\t"                                                                            \
        "ldrd r10, r11, [r4], #16\n\t"                                                                                 \
        "smlad r0, r10, r6, r0\n\t"                                                                                    \
        "smlad r0, r11, r7, r0\n\t"                                                                                    \
        "smlad r1, r10, r8, r1\n\t"                                                                                    \
        "smlad r1, r11, r9, r1\n\t"
/* Per position count P (2 or 1): a chunk's bytes (the computed entry's step; every chunk instruction is 32-bit)
 * and what only a pass over two positions does (EDGEC_W16_IF2(x) is x, EDGEC_W16_IF1(x) nothing). */
#define EDGEC_W16_BYTES2 "40"
#define EDGEC_W16_BYTES1 "24"
#define EDGEC_W16_IF2(x) x
#define EDGEC_W16_IF1(x)
/* One output into d: edgec_requantize_right with the folded constants (r6 lo, r7 hi, r8 multiplier, r9 r1),
 * the offset included, SSAT to int8; r12 scratch. */
#define EDGEC_W16_FINISH(a, d)                                                                                        \
        "and r12, " a ", #0x80000000\n\t"                                                                             \
        "adds r12, r12, r6\n\t"                                                                                        \
        "adc " d ", r7, " a ", asr #31\n\t"                                                                            \
        "smlal r12, " d ", " a ", r8\n\t"                                                                              \
        "asr " d ", " d ", r9\n\t"                                                                                     \
        "ssat " d ", #8, " d "\n\t"

/* One output into d from a doubled accumulator (r6 multiplier, r7 c, r8 s): SMMLAR gives
 * SaturatingRoundingDoublingHighMul of the true accumulator plus c, ASR the rounding right shift plus the offset
 * (exact where the accumulator is non-negative; elsewhere both are at most the offset, -128, as the clamp makes
 * them), SSAT to int8. */
#define EDGEC_W16_FINISH_DOUBLED(a, d)                                                                                \
        "smmlar " d ", " a ", r6, r7\n\t"                                                                              \
        "asr " d ", " d ", r8\n\t"                                                                                     \
        "ssat " d ", #8, " d "\n\t"

/* The same where the output offset is not -128: a negative accumulator one less before the shift (its sign
 * added), as RoundingDivideByPOT rounds half away from zero. */
#define EDGEC_W16_FINISH_SIGNED(a, d)                                                                                 \
        "smmlar " d ", " a ", r6, r7\n\t"                                                                              \
        "add " d ", " d ", " a ", asr #31\n\t"                                                                         \
        "asr " d ", " d ", r8\n\t"                                                                                     \
        "ssat " d ", #8, " d "\n\t"

/* A channel whose table entry is not folded ({shift, 0, multiplier, -1}: a left shift or r1 > 22, r6..r9): the
 * constants made here, the offset (r12) added with saturation: edgec_requantize_nonneg's two branches. */
#define EDGEC_W16_FINISH_RIGHT(a)                                                                                     \
        "and r4, " a ", #0x80000000\n\t"                                                                             \
        "adds r4, r4, r6\n\t"                                                                                        \
        "adc lr, r7, " a ", asr #31\n\t"                                                                             \
        "smlal r4, lr, " a ", r8\n\t"                                                                                \
        "asr lr, lr, r9\n\t"                                                                                         \
        "qadd lr, lr, r12\n\t"                                                                                       \
        "ssat lr, #8, lr\n\t"
#define EDGEC_W16_FINISH_LEFT(a)                                                                                      \
        "lsl lr, " a ", r6\n\t"                                                                                      \
        "mov r4, #0x40000000\n\t"                                                                                    \
        "mov r7, #0\n\t"                                                                                             \
        "smlal r4, r7, lr, r8\n\t"                                                                                   \
        "lsl lr, r7, #1\n\t"                                                                                         \
        "orr lr, lr, r4, lsr #31\n\t"                                                                                \
        "qadd lr, lr, r12\n\t"                                                                                       \
        "ssat lr, #8, lr\n\t"
/* The unfolded channel's two outputs (accumulators A at [r10 + D], B at [r10 + r11 + D]), then back to label
 * BACK: r1 = -1 - shift, the right shift's constants {0x40000000 | t << 31, t >> 1} with t = 1 << r1. */
#define EDGEC_W16_UNFOLDED(A, B, D, BACK)                                                                             \
        "ldr r12, [sp, #24]\n\t"                                                                                     \
        "mvns r9, r6\n\t"                                                                                            \
        "bmi 9f\n\t"                                                                                                 \
        "movs r7, #1\n\t"                                                                                            \
        "lsl r7, r7, r9\n\t"                                                                                         \
        "lsl r6, r7, #31\n\t"                                                                                        \
        "orr r6, r6, #0x40000000\n\t"                                                                                \
        "lsr r7, r7, #1\n\t"                                                                                         \
        EDGEC_W16_FINISH_RIGHT(A)                                                                                     \
        "strb lr, [r10, #" D "]\n\t"                                                                                 \
        EDGEC_W16_FINISH_RIGHT(B)                                                                                     \
        "add r4, r10, r11\n\t"                                                                                       \
        "strb lr, [r4, #" D "]\n\t"                                                                                  \
        "b " BACK "\n"                                                                                                \
        "9:\n\t"                                                                                                     \
        EDGEC_W16_FINISH_LEFT(A)                                                                                      \
        "strb lr, [r10, #" D "]\n\t"                                                                                 \
        EDGEC_W16_FINISH_LEFT(B)                                                                                      \
        "add r4, r10, r11\n\t"                                                                                       \
        "strb lr, [r4, #" D "]\n\t"                                                                                  \
        "b " BACK "\n"

/* Locals on the stack: [sp] quad, [sp, 4] quad_end, [sp, 8] out, [sp, 12] stride, [sp, 16] out_end,
 * [sp, 20] the loop's entry address (Thumb bit set), [sp, 24] the output offset. P: the positions of a pass (2,
 * or 1: pixel 0 of the buffer alone, its own state with stride 0 as its entry is another). */
#define EDGEC_W16_PAIRS_ASM(NAME, P, LOOP, TAIL, UNFOLDED)                                                             \
__asm__(EDGEC_THUMB_FUNC_BEGIN(NAME)                                                                                   \
        "push {r4-r11, lr}\n\t"                                                                                        \
        "sub sp, sp, #32\n\t"                                                                                          \
        "ldm r0, {r1, r2, r3, r4, r6, r7, r8}\n\t" /* quad, quad_end, out, stride, out_end, entry, offset */           \
        "cbnz r7, 7f\n\t"                                                                                              \
        "ldr r9, [r0, #32]\n\t" /* skip: the entry made once */                                                        \
        "adr.w r7, 2f\n\t"                                                                                             \
        "movs r5, #" EDGEC_W16_BYTES##P "\n\t"                                                                         \
        "mla r7, r9, r5, r7\n\t"                                                                                       \
        "orr r7, r7, #1\n\t"                                                                                           \
        "str r7, [r0, #20]\n"                                                                                          \
        "7:\n\t"                                                                                                       \
        "ldr r5, [r0, #28]\n\t" /* stream */                                                                           \
        "stm sp, {r1, r2, r3, r4, r6, r7, r8}\n"                                                                       \
        "1:\n\t"                                                                                                       \
        "ldm r5!, {r0, r1, r2, r3}\n\t" /* the biases */                                                               \
        "ldr r4, [sp]\n\t"                                                                                             \
        "ldr pc, [sp, #20]\n\t"                                                                                        \
        ".p2align 2\n"                                                                                                 \
        "2:\n\t"                                                                                                       \
        EDGEC_W16_CHUNK##P                                                                                             \
        EDGEC_W16_CHUNK##P                                                                                             \
        EDGEC_W16_CHUNK##P                                                                                             \
        EDGEC_W16_CHUNK##P                                                                                             \
        EDGEC_W16_CHUNK##P                                                                                             \
        EDGEC_W16_CHUNK##P                                                                                             \
        EDGEC_W16_CHUNK##P                                                                                             \
        EDGEC_W16_CHUNK##P                                                                                             \
        LOOP                                                                                                           \
        TAIL                                                                                                           \
        "add sp, sp, #32\n\t"                                                                                          \
        "pop {r4-r11, pc}\n\t"                                                                                         \
        UNFOLDED                                                                                                       \
        EDGEC_THUMB_FUNC_END(NAME));
/* The loop back over the next eight chunks (left out where Kp / 4 <= 8), the pass's tail (below: with the check
 * for an unfolded entry, or without it where the C side found every entry folded or the stream doubled) and the
 * unfolded requantization the check branches to. */
#define EDGEC_W16_LOOP "ldr r6, [sp, #4]\n\t" "cmp r4, r6\n\t" "bne 2b\n\t"
/* After the chunks: the outputs of P positions, then the next pass. Checked: each channel whose r1 (r9) is above
 * EDGEC_RQ_FOLD_MAX_R1 (22; -1 for an unfolded entry) branches to its unfolded tail. Plain (every entry folded,
 * or doubled): p0c0 is kept in r4 and stored last with the output pointer's post-increment. */
#define EDGEC_W16_TAIL_CHECKED(P)                                                                                      \
        "ldm r5!, {r6, r7, r8, r9}\n\t" /* c0's constants */                                                           \
        "ldrd r10, r11, [sp, #8]\n\t" /* out, stride */                                                                \
        "cmp r9, #22\n\t"                                                                                              \
        "bhi 5f\n\t"                                                                                                   \
        EDGEC_W16_FINISH("r0", "lr")                                                                                   \
        "strb lr, [r10]\n\t"                                                                                           \
        EDGEC_W16_IF##P(EDGEC_W16_FINISH("r2", "lr") "strb lr, [r10, r11]\n\t")                                        \
        "3:\n\t"                                                                                                       \
        "ldm r5!, {r6, r7, r8, r9}\n\t" /* c1's constants */                                                           \
        "cmp r9, #22\n\t"                                                                                              \
        "bhi 6f\n\t"                                                                                                   \
        EDGEC_W16_FINISH("r1", "lr")                                                                                   \
        "strb lr, [r10, #1]\n\t"                                                                                       \
        EDGEC_W16_IF##P(EDGEC_W16_FINISH("r3", "lr") "add r4, r10, r11\n\t" "strb lr, [r4, #1]\n\t")                   \
        "4:\n\t"                                                                                                       \
        "adds r10, r10, #2\n\t"                                                                                        \
        "str r10, [sp, #8]\n\t"                                                                                        \
        "ldr r4, [sp, #16]\n\t"                                                                                        \
        "cmp r10, r4\n\t"                                                                                              \
        "bne 1b\n\t"
#define EDGEC_W16_TAIL_PLAIN(FINISH, P)                                                                                \
        "ldm r5!, {r6, r7, r8, r9}\n\t" /* c0's constants */                                                           \
        "ldrd r10, r11, [sp, #8]\n\t" /* out, stride */                                                                \
        FINISH("r0", "r4")                                                                                             \
        EDGEC_W16_IF##P(FINISH("r2", "lr") "strb lr, [r10, r11]\n\t")                                                  \
        "ldm r5!, {r6, r7, r8, r9}\n\t" /* c1's constants */                                                           \
        FINISH("r1", "lr")                                                                                             \
        "strb lr, [r10, #1]\n\t"                                                                                       \
        EDGEC_W16_IF##P(FINISH("r3", "lr") "add r0, r10, r11\n\t" "strb lr, [r0, #1]\n\t")                             \
        "strb r4, [r10], #2\n\t"                                                                                       \
        "str r10, [sp, #8]\n\t"                                                                                        \
        "ldr r4, [sp, #16]\n\t"                                                                                        \
        "cmp r10, r4\n\t"                                                                                              \
        "bne 1b\n\t"
/* The unfolded requantization of both positions' outputs; for one position (stride 0) its second output is the
 * first again, stored twice to the same byte. */
#define EDGEC_W16_UNFOLDED_TAILS(B0, B1)                                                                               \
        "5:\n\t" EDGEC_W16_UNFOLDED("r0", B0, "0", "3b") "6:\n\t" EDGEC_W16_UNFOLDED("r1", B1, "1", "4b")
#define EDGEC_W16_UNFOLDED2 EDGEC_W16_UNFOLDED_TAILS("r2", "r3")
#define EDGEC_W16_UNFOLDED1 EDGEC_W16_UNFOLDED_TAILS("r0", "r1")
/* The pass of P positions in every variant (Kp / 4 <= 8 without the loop back: the SHORT ones, two positions
 * only, as the one-position pass runs at most once a layer). */
#define EDGEC_W16_VARIANTS(P, NAME)                                                                                    \
EDGEC_W16_PAIRS_ASM(NAME "_s8", P, EDGEC_W16_LOOP, EDGEC_W16_TAIL_CHECKED(P), EDGEC_W16_UNFOLDED##P)                   \
EDGEC_W16_PAIRS_ASM(NAME "_folded_s8", P, EDGEC_W16_LOOP, EDGEC_W16_TAIL_PLAIN(EDGEC_W16_FINISH, P), "")               \
EDGEC_W16_PAIRS_ASM(NAME "_doubled_s8", P, EDGEC_W16_LOOP, EDGEC_W16_TAIL_PLAIN(EDGEC_W16_FINISH_DOUBLED, P), "")      \
EDGEC_W16_PAIRS_ASM(NAME "_signed_s8", P, EDGEC_W16_LOOP, EDGEC_W16_TAIL_PLAIN(EDGEC_W16_FINISH_SIGNED, P), "")
EDGEC_W16_VARIANTS(2, "edgec_conv_w16_pairs")
EDGEC_W16_VARIANTS(1, "edgec_conv_w16_one")
EDGEC_W16_PAIRS_ASM("edgec_conv_w16_pairs_short_s8", 2, "", EDGEC_W16_TAIL_CHECKED(2), EDGEC_W16_UNFOLDED2)
EDGEC_W16_PAIRS_ASM("edgec_conv_w16_pairs_short_folded_s8", 2, "", EDGEC_W16_TAIL_PLAIN(EDGEC_W16_FINISH, 2), "")
EDGEC_W16_PAIRS_ASM("edgec_conv_w16_pairs_short_doubled_s8", 2, "", EDGEC_W16_TAIL_PLAIN(EDGEC_W16_FINISH_DOUBLED, 2),
                    "")
EDGEC_W16_PAIRS_ASM("edgec_conv_w16_pairs_short_signed_s8", 2, "", EDGEC_W16_TAIL_PLAIN(EDGEC_W16_FINISH_SIGNED, 2),
                    "")
void edgec_conv_w16_pairs_s8(edgec_w16_pairs *st);               /* any Kp, any entry */
void edgec_conv_w16_pairs_folded_s8(edgec_w16_pairs *st);        /* any Kp, every entry folded */
void edgec_conv_w16_pairs_short_s8(edgec_w16_pairs *st);         /* Kp <= 32, any entry */
void edgec_conv_w16_pairs_short_folded_s8(edgec_w16_pairs *st);  /* Kp <= 32, every entry folded */
void edgec_conv_w16_pairs_doubled_s8(edgec_w16_pairs *st);       /* any Kp, a doubled stream */
void edgec_conv_w16_pairs_short_doubled_s8(edgec_w16_pairs *st); /* Kp <= 32, a doubled stream */
void edgec_conv_w16_pairs_signed_s8(edgec_w16_pairs *st);        /* any Kp, doubled, offset not -128 */
void edgec_conv_w16_pairs_short_signed_s8(edgec_w16_pairs *st);  /* Kp <= 32, doubled, offset not -128 */
/* One position (pixel 0; the state's stride 0), any Kp: */
void edgec_conv_w16_one_s8(edgec_w16_pairs *st);                 /* any entry */
void edgec_conv_w16_one_folded_s8(edgec_w16_pairs *st);          /* every entry folded */
void edgec_conv_w16_one_doubled_s8(edgec_w16_pairs *st);         /* a doubled stream */
void edgec_conv_w16_one_signed_s8(edgec_w16_pairs *st);          /* doubled, offset not -128 */
#undef EDGEC_W16_CHUNK2
#undef EDGEC_W16_CHUNK1
#undef EDGEC_W16_BYTES2
#undef EDGEC_W16_BYTES1
#undef EDGEC_W16_IF2
#undef EDGEC_W16_IF1
#undef EDGEC_W16_FINISH
#undef EDGEC_W16_FINISH_DOUBLED
#undef EDGEC_W16_FINISH_SIGNED
#undef EDGEC_W16_FINISH_RIGHT
#undef EDGEC_W16_FINISH_LEFT
#undef EDGEC_W16_UNFOLDED
#undef EDGEC_W16_PAIRS_ASM
#undef EDGEC_W16_LOOP
#undef EDGEC_W16_TAIL_CHECKED
#undef EDGEC_W16_TAIL_PLAIN
#undef EDGEC_W16_UNFOLDED_TAILS
#undef EDGEC_W16_UNFOLDED2
#undef EDGEC_W16_UNFOLDED1
#undef EDGEC_W16_VARIANTS
#endif

#endif /* EDGEC_CONV_QUAD_W16_H */
