/*
 * edgec runtime, internal to edgec_convolve_w16_s8 on the DSP extension (Cortex-M4/M7/M33): the channel loop of
 * four output positions times one channel per pass over weights the compiler already widened to int16.
 *
 * The quad buffer is edgec_conv_quad_s8.h's (chunk c of four taps is eight words: pixel p's halfword pairs of
 * taps (4c, 4c+2) and (4c+1, 4c+3) at words 2p and 2p + 1), with K padded to a multiple of 8 by zero taps. The
 * weights come in the same pairs (compiler/conv_layout.py), so a chunk is one LDRD of two weight words, two LDM of
 * four buffer words and eight SMLAD: 11 instructions for 16 MACs (the int8 row needs two SXTB16 more), and with
 * K a multiple of 8 there is neither an odd chunk nor a tail tap.
 */
#ifndef EDGEC_CONV_QUAD_W16_H
#define EDGEC_CONV_QUAD_W16_H

#include <stdint.h>

#include "edgec_thumb_func.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !(defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1))
#define EDGEC_CONV_W16_ASM 1

/* One chunk: two weight words (four int16 taps), two LDM of the buffer, eight SMLAD. */
#define EDGEC_W16_CHUNK                                                                                               \
        "ldrd r6, r12, [r5], #8\n\t"                                                                                 \
        "ldmia r4!, {r8, r9, r10, r11}\n\t"                                                                          \
        "smlad r0, r8, r6, r0\n\t"                                                                                   \
        "smlad r0, r9, r12, r0\n\t"                                                                                  \
        "smlad r1, r10, r6, r1\n\t"                                                                                  \
        "smlad r1, r11, r12, r1\n\t"                                                                                 \
        "ldmia r4!, {r8, r9, r10, r11}\n\t"                                                                          \
        "smlad r2, r8, r6, r2\n\t"                                                                                   \
        "smlad r2, r9, r12, r2\n\t"                                                                                  \
        "smlad r3, r10, r6, r3\n\t"                                                                                  \
        "smlad r3, r11, r12, r3\n\t"
/* One output from constants made at run time (r11 lo, r10 hi, r9 multiplier, r12 r - 1), the offset (r5) added
 * with saturation, SSAT to int8: edgec_conv_quad_s8.h's EDGEC_QUAD_FINISH_FIXED. */
#define EDGEC_W16_FINISH(a)                                                                                           \
        "and r4, " a ", #0x80000000\n\t"                                                                             \
        "adds r4, r4, r11\n\t"                                                                                       \
        "adc lr, r10, " a ", asr #31\n\t"                                                                            \
        "smlal r4, lr, " a ", r9\n\t"                                                                                \
        "asr lr, lr, r12\n\t"                                                                                        \
        "qadd lr, lr, r5\n\t"                                                                                        \
        "ssat lr, #8, lr\n\t"
/* One output for a left shift (r12 the shift): edgec_requantize_nonneg's shift >= 0 branch. */
#define EDGEC_W16_FINISH_LEFT(a)                                                                                      \
        "lsl lr, " a ", r12\n\t"                                                                                    \
        "mov r4, #0x40000000\n\t"                                                                                  \
        "mov r10, #0\n\t"                                                                                          \
        "smlal r4, r10, lr, r9\n\t"                                                                                \
        "lsl lr, r10, #1\n\t"                                                                                      \
        "orr lr, lr, r4, lsr #31\n\t"                                                                              \
        "qadd lr, lr, r5\n\t"                                                                                      \
        "ssat lr, #8, lr\n\t"


/* The state of edgec_conv_w16_table_s8 and edgec_conv_w16_table_odd_s8 (word offsets fixed). */
typedef struct {
    const int32_t *quad;  /*  0: the quad buffer */
    const int16_t *w;     /*  4: the next channel's weight row */
    uint32_t row_bytes;   /*  8: bytes of the quad buffer: Kp / 8 * 64 */
    const int32_t *table; /* 12: the next channel's entry {bias, lo, hi, multiplier, r1}, offset folded */
    int8_t *out;          /* 16: the next channel's output at the first position (advances by 1) */
    uint32_t stride;      /* 20: bytes from one position's outputs to the next (OC) */
    uint32_t count;       /* 24: channels left (at least 1) */
    int32_t offset;       /* 28: the output offset (for the channels whose entry is not folded) */
} edgec_w16_table;

/* As edgec_conv_w16_channels_s8 with every channel's right-shift constants taken from its table entry (the output
 * offset folded in, edgec_rq_right_fold_offset: no QADD) in one LDM, and four chunks per loop step; ENTRY "b 3f"
 * enters the loop in its middle when Kp / 8 is odd. About 48 instructions per channel besides the chunks. */
#define EDGEC_W16_TABLE_ASM(NAME, ENTRY)                                                                              \
__asm__(EDGEC_THUMB_FUNC_BEGIN(NAME)                                                                                  \
        "push {r4-r11, lr}\n\t"                                                                                        \
        "mov r7, r0\n"                                                                                                 \
        "1:\n\t"                                                                                                       \
        "ldm r7, {r4, r5, r12, lr}\n\t"   /* quad, w, row_bytes, table */                                              \
        "ldr r0, [lr]\n\t"                /* bias */                                                                   \
        "mov r1, r0\n\t"                                                                                               \
        "mov r2, r0\n\t"                                                                                               \
        "mov r3, r0\n\t"                                                                                               \
        "add lr, r4, r12\n\t"                                                                                          \
        ENTRY                                                                                                          \
        "2:\n\t"                                                                                                       \
        EDGEC_W16_CHUNK                                                                                                \
        EDGEC_W16_CHUNK                                                                                                \
        "3:\n\t"                                                                                                       \
        EDGEC_W16_CHUNK                                                                                                \
        EDGEC_W16_CHUNK                                                                                                \
        "cmp r4, lr\n\t"                                                                                               \
        "bne 2b\n\t"                                                                                                   \
        "str r5, [r7, #4]\n\t"                                                                                         \
        "ldr lr, [r7, #12]\n\t"                                                                                        \
        "ldmia lr!, {r4, r9, r10, r11, r12}\n\t" /* bias (done with), lo, hi, multiplier, r1 */                        \
        "str lr, [r7, #12]\n\t"                                                                                        \
        "add r4, r7, #16\n\t"                                                                                          \
        "ldm r4, {r6, r8}\n\t"            /* out, stride */                                                            \
        "adds r4, r6, #1\n\t"                                                                                          \
        "str r4, [r7, #16]\n\t"                                                                                        \
        "cmp r12, #22\n\t"                                                                                             \
        "bhi 7f\n\t"                      /* not folded: {bias, shift, -, multiplier, -1} */                           \
        EDGEC_W16_FINISH_TABLE("r0")                                                                                   \
        "strb lr, [r6]\n\t"                                                                                            \
        EDGEC_W16_FINISH_TABLE("r1")                                                                                   \
        "strb lr, [r6, r8]\n\t"                                                                                        \
        "add r6, r6, r8, lsl #1\n\t"                                                                                   \
        EDGEC_W16_FINISH_TABLE("r2")                                                                                   \
        "strb lr, [r6]\n\t"                                                                                            \
        EDGEC_W16_FINISH_TABLE("r3")                                                                                   \
        "strb lr, [r6, r8]\n"                                                                                          \
        "8:\n\t"                                                                                                       \
        "ldr r4, [r7, #24]\n\t"                                                                                        \
        "subs r4, r4, #1\n\t"                                                                                          \
        "str r4, [r7, #24]\n\t"                                                                                        \
        "bne 1b\n\t"                                                                                                   \
        "pop {r4-r11, pc}\n"                                                                                           \
        "7:\n\t"                          /* edgec_conv_w16_channels_s8's requantization from shift, multiplier */     \
        "mov r12, r9\n\t"                                                                                              \
        "mov r9, r11\n\t"                                                                                              \
        "ldr r5, [r7, #28]\n\t"                                                                                        \
        "mvns r12, r12\n\t"               /* r - 1 = -1 - shift */                                                     \
        "bmi 6f\n\t"                      /* shift >= 0 */                                                             \
        "movs r10, #1\n\t"                                                                                             \
        "lsl r10, r10, r12\n\t"                                                                                        \
        "lsl r11, r10, #31\n\t"                                                                                        \
        "orr r11, r11, #0x40000000\n\t"                                                                                \
        "lsr r10, r10, #1\n\t"                                                                                         \
        EDGEC_W16_FINISH("r0")                                                                                         \
        "strb lr, [r6]\n\t"                                                                                            \
        EDGEC_W16_FINISH("r1")                                                                                         \
        "strb lr, [r6, r8]\n\t"                                                                                        \
        "add r6, r6, r8, lsl #1\n\t"                                                                                   \
        EDGEC_W16_FINISH("r2")                                                                                         \
        "strb lr, [r6]\n\t"                                                                                            \
        EDGEC_W16_FINISH("r3")                                                                                         \
        "strb lr, [r6, r8]\n\t"                                                                                        \
        "b 8b\n"                                                                                                       \
        "6:\n\t"                                                                                                       \
        "mvn r12, r12\n\t"                                                                                             \
        EDGEC_W16_FINISH_LEFT("r0")                                                                                    \
        "strb lr, [r6]\n\t"                                                                                            \
        EDGEC_W16_FINISH_LEFT("r1")                                                                                    \
        "strb lr, [r6, r8]\n\t"                                                                                        \
        "add r6, r6, r8, lsl #1\n\t"                                                                                   \
        EDGEC_W16_FINISH_LEFT("r2")                                                                                    \
        "strb lr, [r6]\n\t"                                                                                            \
        EDGEC_W16_FINISH_LEFT("r3")                                                                                    \
        "strb lr, [r6, r8]\n\t"                                                                                        \
        "b 8b\n\t"                                                                                                     \
        EDGEC_THUMB_FUNC_END(NAME));
/* One output: edgec_requantize_right with the folded constant (value plus offset), SSAT to int8. */
#define EDGEC_W16_FINISH_TABLE(a)                                                                                     \
        "and r4, " a ", #0x80000000\n\t"                                                                             \
        "adds r4, r4, r9\n\t"                                                                                        \
        "adc lr, r10, " a ", asr #31\n\t"                                                                            \
        "smlal r4, lr, " a ", r11\n\t"                                                                               \
        "asr lr, lr, r12\n\t"                                                                                        \
        "ssat lr, #8, lr\n\t"

void edgec_conv_w16_table_s8(edgec_w16_table *st);     /* Kp / 8 even */
void edgec_conv_w16_table_odd_s8(edgec_w16_table *st); /* Kp / 8 odd */
EDGEC_W16_TABLE_ASM("edgec_conv_w16_table_s8", "")
EDGEC_W16_TABLE_ASM("edgec_conv_w16_table_odd_s8", "b 3f\n\t")
#undef EDGEC_W16_TABLE_ASM
#undef EDGEC_W16_FINISH_TABLE
#undef EDGEC_W16_CHUNK
#undef EDGEC_W16_FINISH
#undef EDGEC_W16_FINISH_LEFT
#endif

#endif /* EDGEC_CONV_QUAD_W16_H */
