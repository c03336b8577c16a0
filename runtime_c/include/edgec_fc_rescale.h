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

/* edgec_fc_scale_ok for scale[0..count): a high word below 0x7FF00000 (finite, non-negative) decides alone. */
static inline int edgec_fc_scales_ok(const double *scale, int32_t count)
{
    for (int32_t o = 0; o < count; ++o) {
        uint64_t bits;
        memcpy(&bits, scale + o, sizeof bits);
        if ((uint32_t)(bits >> 32) >= 0x7FF00000u && !edgec_fc_scale_ok(scale[o])) {
            return 0;
        }
    }
    return 1;
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
 * round(fl(a * scale)) is q when |q| < 512, and clamps like q when |q| >= 512. Inside the window, where multiplier
 * is 0 and wherever (multiplier, n) is not of the form edgec_fc_fixed_ok accepts, the double formula runs on
 * *scale (so the integer path needs no separate argument check).
 * The rounding half is not added: with P = a * multiplier (|P| <= 2^62, high word hi, low word lo), the 32 bits of
 * P below bit 32 + n are fl = hi << (32 - n) | lo >> n, and adding 2^(31 + n) to P flips fl's top bit (f = fl ^
 * 2^31) and carries it into q: q = (hi >> n) + (fl >> 31). The window test on f becomes fl + 2^31 + 2^12 < 2^13.
 */
/* v clamped to [-128, 127]: one SSAT where the target has it. */
static inline int8_t edgec_fc_sat8(int32_t v)
{
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
    __asm__("ssat %0, #8, %0" : "+r"(v));
    return (int8_t)v;
#else
    return (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
#endif
}

/* The integer path of edgec_fc_finish for a channel whose (multiplier, n) edgec_fc_fixed_ok accepts with multiplier
 * nonzero; window = 0x80001000 (a register the caller hoists out of its loop); sat8 (a constant): the range is
 * [-128, 127], clamped by edgec_fc_sat8. */
static inline int8_t edgec_fc_finish_fixed(uint32_t acc, int32_t multiplier, int32_t n, const double *scale,
                                           const edgec_fc_params *params, edgec_fc_range range, uint32_t window,
                                           int sat8)
{
    const int64_t prod = (int64_t)edgec_wrap_int32(acc) * multiplier;
    const int32_t hi = (int32_t)(prod >> 32); /* arithmetic shift (GCC, Clang) */
    const uint32_t lo = (uint32_t)prod;
    const uint32_t fl = ((uint32_t)hi << (32 - n)) | (lo >> n); /* 1 <= n <= 30 */
    if (fl + window < 0x2000u) {                                 /* f outside [2^12, 2^32 - 2^12) */
        return edgec_fc_finish_fallback(acc, scale, params);
    }
    const int32_t v = (hi >> n) + (int32_t)(fl >> 31) + range.offset; /* |q| <= 2^30: no overflow */
    if (sat8) {
        return edgec_fc_sat8(v);
    }
    return (int8_t)(v < range.act_min ? range.act_min : (v > range.act_max ? range.act_max : v));
}

static inline int8_t edgec_fc_finish(uint32_t acc, int32_t multiplier, int32_t n, const double *scale,
                                     const edgec_fc_params *params, edgec_fc_range range)
{
    if (((uint32_t)multiplier >> 30) != 1u || (uint32_t)n - 1u > 29u) {
        return edgec_fc_finish_fallback(acc, scale, params);
    }
    return edgec_fc_finish_fixed(acc, multiplier, n, scale, params, range, 0x80001000u, 0);
}

#endif /* EDGEC_FC_RESCALE_H */
