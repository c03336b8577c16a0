/*
 * edgec runtime, internal: the assembler text that opens and closes a Thumb-2 function written as a top-level
 * __asm__ statement (the convolution channel loops that keep their whole state in registers), in its own
 * .text.NAME section so that --gc-sections drops it when no kernel calls it. NAME is a string literal.
 */
#ifndef EDGEC_THUMB_FUNC_H
#define EDGEC_THUMB_FUNC_H

#define EDGEC_THUMB_FUNC_BEGIN(NAME)                                                                                  \
    ".pushsection .text." NAME ",\"ax\",%progbits\n\t"                                                               \
    ".syntax unified\n\t"                                                                                            \
    ".thumb\n\t"                                                                                                     \
    ".balign 4\n\t"                                                                                                  \
    ".global " NAME "\n\t"                                                                                           \
    ".hidden " NAME "\n\t"                                                                                           \
    ".type " NAME ", %function\n\t"                                                                                  \
    ".thumb_func\n" NAME ":\n\t"

#define EDGEC_THUMB_FUNC_END(NAME)                                                                                    \
    ".size " NAME ", . - " NAME "\n\t"                                                                               \
    ".popsection"

#endif /* EDGEC_THUMB_FUNC_H */
