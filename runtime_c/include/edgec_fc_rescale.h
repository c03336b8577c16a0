/*
 * edgec runtime, internal: the rescale of one fully connected output, TFLite's reference formula
 * clamp(round_half_away(double(acc) * scale) + output_offset) (edgec_fc_finish_double) and its integer form with
 * the same results (edgec_fc_finish; compiler/fc_layout.py derives the per-channel multiplier and n and proves the
 * error bound). Shared by the int8 and int4 fully connected kernels (kept in include/ so that every subset of the
 * runtime a firmware copies has it); not part of the public API.
 */
#ifndef EDGEC_FC_RESCALE_H
#define EDGEC_FC_RESCALE_H

#include <stddef.h>
#include <stdint.h>

#include "edgec_fixedpoint.h"
#include "edgec_nn.h"

/* round(double(acc) * scale) + output_offset, clamped; the sum cannot overflow (compared before adding). */
static inline int8_t edgec_fc_finish_double(uint32_t acc, double scale, const edgec_fc_params *params)
{
    const int32_t v = edgec_round_to_int32((double)edgec_wrap_int32(acc) * scale);
    if (v >= params->act_max - params->output_offset) {
        return (int8_t)params->act_max;
    }
    if (v <= params->act_min - params->output_offset) {
        return (int8_t)params->act_min;
    }
    return (int8_t)(v + params->output_offset);
}

/* The integer rescale's per-channel form: multiplier 0, or in [2^30, 2^31) with n in [1, 30]. */
static inline int edgec_fc_fixed_ok(const edgec_fc_quant *quant, int32_t out_features)
{
    if (quant->multiplier == NULL || quant->n == NULL) {
        return 0;
    }
    for (int32_t o = 0; o < out_features; ++o) {
        const int32_t m = quant->multiplier[o];
        const int32_t n = quant->n[o];
        if (m != 0 && (m < (INT32_C(1) << 30) || n < 1 || n > 30)) {
            return 0;
        }
    }
    return 1;
}

/*
 * edgec_fc_finish_double(acc, scale, params) without double arithmetic on almost every output. With a = acc (int32),
 * t = a * multiplier + 2^(31 + n), q = t >> (32 + n) and f the 32 bits of t below q: q = floor(p' + 1/2) for
 * p' = a * multiplier / 2^(32 + n), and f / 2^32 is how far p' + 1/2 lies above q. compiler/fc_layout.py proves:
 * |q| >= 512 clamps as the reference does; for |q| < 512 the reference's round(fl(a * scale)) is q unless p'
 * lies within 2^-20 of a tie (f < 2^12 or f > 2^32 - 2^12 - 1), where (and where multiplier is 0) the double
 * formula runs. |t| < 2^63: |a * multiplier| <= 2^62 and 2^(31 + n) <= 2^61.
 */
static inline int8_t edgec_fc_finish(uint32_t acc, int32_t multiplier, int32_t n, double scale,
                                     const edgec_fc_params *params)
{
    if (multiplier == 0) {
        return edgec_fc_finish_double(acc, scale, params);
    }
    const int64_t t = (int64_t)edgec_wrap_int32(acc) * multiplier + ((int64_t)1 << (31 + n));
    const int32_t hi = (int32_t)(t >> 32); /* arithmetic shift (GCC and Clang define it) */
    const uint32_t lo = (uint32_t)t;
    const int32_t q = hi >> n;
    const uint32_t f = ((uint32_t)hi << (32 - n)) | (lo >> n); /* 1 <= n <= 30 */
    if ((uint32_t)(q + 511) < 1023u && f - 4096u > 0xFFFFDFFFu) { /* |q| < 512, f outside [2^12, 2^32 - 2^12) */
        return edgec_fc_finish_double(acc, scale, params);
    }
    if (q >= params->act_max - params->output_offset) {
        return (int8_t)params->act_max;
    }
    if (q <= params->act_min - params->output_offset) {
        return (int8_t)params->act_min;
    }
    return (int8_t)(q + params->output_offset);
}

#endif /* EDGEC_FC_RESCALE_H */
