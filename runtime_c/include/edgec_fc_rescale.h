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
#include <string.h>

#include "edgec_fixedpoint.h"
#include "edgec_nn.h"

/* scale >= 0.0 (so neither negative nor NaN; -0.0 passes), from the bits: no soft-float compare per channel. */
static inline int edgec_fc_scale_ok(double scale)
{
    uint64_t bits;
    memcpy(&bits, &scale, sizeof bits);
    return bits <= UINT64_C(0x7FF0000000000000) || bits == UINT64_C(0x8000000000000000);
}

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
        const uint32_t m = (uint32_t)quant->multiplier[o];
        if (m != 0u && ((m >> 30) != 1u || (uint32_t)quant->n[o] - 1u > 29u)) {
            return 0;
        }
    }
    return 1;
}

/* The double formula for channel o, out of line: it runs next to rounding ties only (and for channels without an
 * integer form), so the common path neither loads the double nor keeps its registers. */
#if defined(__GNUC__)
__attribute__((noinline, cold))
#endif
static int8_t edgec_fc_finish_fallback(uint32_t acc, const double *scale, const edgec_fc_params *params)
{
    return edgec_fc_finish_double(acc, *scale, params);
}

/* The output range of a kernel call, read once (output stores through int8_t pointers may alias *params). */
typedef struct {
    int32_t offset;
    int32_t act_min;
    int32_t act_max;
} edgec_fc_range;

static inline edgec_fc_range edgec_fc_range_of(const edgec_fc_params *params)
{
    const edgec_fc_range r = {params->output_offset, params->act_min, params->act_max};
    return r;
}

/*
 * edgec_fc_finish_double(acc, scale, params) without double arithmetic on almost every output. With a = acc
 * (int32), t = a * multiplier + 2^(31 + n), q = t >> (32 + n) and f the 32 bits of t below q: q = floor(p' + 1/2)
 * for p' = a * multiplier / 2^(32 + n), and f / 2^32 is how far p' + 1/2 lies above q. compiler/fc_layout.py
 * proves: unless p' lies within 2^-20 of a tie (f < 2^12 or f > 2^32 - 2^12 - 1), the reference's
 * round(fl(a * scale)) is q when |q| < 512, and clamps like q when |q| >= 512. Inside the window (and where
 * multiplier is 0) the double formula runs on *scale. 2^(31 + n) only adds 2^(n - 1) to the high word of a * multiplier
 * (|a * multiplier| <= 2^62, so the high word stays within +-2^30 + 2^29).
 */
static inline int8_t edgec_fc_finish(uint32_t acc, int32_t multiplier, int32_t n, const double *scale,
                                     const edgec_fc_params *params, edgec_fc_range range)
{
    if (multiplier == 0) {
        return edgec_fc_finish_fallback(acc, scale, params);
    }
    const int64_t prod = (int64_t)edgec_wrap_int32(acc) * multiplier;
    const int32_t hi = (int32_t)(prod >> 32) + (INT32_C(1) << (n - 1)); /* arithmetic shift (GCC, Clang) */
    const uint32_t lo = (uint32_t)prod;
    const uint32_t f = ((uint32_t)hi << (32 - n)) | (lo >> n); /* 1 <= n <= 30 */
    if (f - 4096u > 0xFFFFDFFFu) {                              /* f outside [2^12, 2^32 - 2^12) */
        return edgec_fc_finish_fallback(acc, scale, params);
    }
    const int32_t v = (hi >> n) + range.offset; /* |q| <= 2^30: no overflow */
    return (int8_t)(v < range.act_min ? range.act_min : (v > range.act_max ? range.act_max : v));
}

#endif /* EDGEC_FC_RESCALE_H */
