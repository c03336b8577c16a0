/*
 * edgec runtime: included first by the kernels whose inline assembly keeps a whole loop's state in registers.
 *
 * At -O0 GCC reserves r7 as the frame pointer and gives every asm operand its own register without reusing any,
 * so statements with a dozen or more register operands cannot be allocated ("'asm' operand has impossible
 * constraints"). A build at -O0 (for debugging the application around the model) compiles the functions after
 * this header at -O1 instead, which allocates them; the rest of the build keeps its level. No effect otherwise.
 */
#ifndef EDGEC_ASM_OPT_H
#define EDGEC_ASM_OPT_H

#if defined(__GNUC__) && !defined(__clang__) && !defined(__OPTIMIZE__)
#pragma GCC optimize("O1")
#endif

#endif /* EDGEC_ASM_OPT_H */
