/*
 * edgec runtime, internal to the fast convolution: edgec_requantize_nonneg with its two roundings fused into one
 * 64-bit multiply-accumulate and one shift, for requantizing several accumulators of one channel.
 *
 * edgec_requantize_nonneg(x, m, s) (m >= 0) is high = floor((x' * m + 2^30) / 2^31) with x' = x << max(s, 0)
 * (wrapping), then TFLite's RoundingDivideByPOT(high, e), e = max(s, 0) - s. For e >= 1 the latter equals
 * floor((high + 2^(e-1) - [high < 0]) / 2^e) (remainders above half round up; on negative values ties round down,
 * i.e. away from zero). Nested floors of divisions by powers of two compose, so the result is
 * floor((x' * m + 2^30 + (2^(e-1) - [high < 0]) * 2^31) / 2^(31+e)): the high word of the 64-bit sum shifted
 * right by e - 1. [high < 0] may be replaced by [x' < 0]: they differ only when x' < 0 and high == 0, and then
 * both give 0. For e == 0 the result is high itself. The 64-bit sum cannot overflow: |x' * m| <= 2^62.
 * So per accumulator: one shift, the sign's correction of the addend (2 instructions), SMLAL, one shift.
 */
#ifndef EDGEC_REQUANT_FUSED_H
#define EDGEC_REQUANT_FUSED_H

#include <stdint.h>

#include "edgec_fixedpoint.h"

/* One channel's requantization decoded once: multiplier, left shift, right shift e and the addend for x' >= 0. */
typedef struct {
    int32_t multiplier;
    uint32_t left;
    int32_t right;
    int64_t addend; /* 2^30 + 2^(e-1) * 2^31 (e >= 1), 2^30 (e == 0) */
} edgec_requant_fused;

static inline edgec_requant_fused edgec_requant_fused_of(int32_t multiplier, int32_t shift)
{
    edgec_requant_fused q;
    q.multiplier = multiplier;
    q.left = (uint32_t)(shift > 0 ? shift : 0);
    q.right = (int32_t)q.left - shift;
    q.addend = ((int64_t)1 << 30) + (q.right > 0 ? (int64_t)1 << (30 + q.right) : 0);
    return q;
}

/* edgec_requantize_nonneg(x, q.multiplier, shift) for the q made from them. */
static inline int32_t edgec_requant_fused_apply(int32_t x, const edgec_requant_fused *q)
{
    const int32_t shifted = (int32_t)((uint32_t)x << q->left);
    if (q->right == 0) {
        return (int32_t)(((int64_t)shifted * q->multiplier + q->addend) >> 31);
    }
    /* minus 2^31 when shifted < 0 */
    const int64_t addend = q->addend - (shifted < 0 ? (int64_t)1 << 31 : 0);
    const int64_t sum = (int64_t)shifted * q->multiplier + addend;
    return (int32_t)(sum >> 32) >> (q->right - 1);
}

#endif /* EDGEC_REQUANT_FUSED_H */
