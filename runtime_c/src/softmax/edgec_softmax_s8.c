/*
 * edgec runtime: int8 softmax over rows (TFLite reference_ops::Softmax, the gemmlowp fixed-point path
 * that TFLite's reference op resolver runs for int8 -> int8).
 *
 * Per row: d = x - max(row). Entries with d < diff_min output -128 and add nothing. The others are
 * rescaled to Q5.26 (d * 2^input_left_shift * input_multiplier / 2^31), exponentiated into Q0.31,
 * and summed in Q12.19; each exp times the Q0.31 reciprocal of the sum, shifted down to 8 bits,
 * minus 128, is the output (scale 1/256, zero point -128).
 *
 * Where TFLite aborts (TFLITE_CHECK: the final shift exceeds 31 bits, i.e. the sum of exps is at
 * least 512) edgec writes the correctly rounded -128: every probability is then below 1/512. The
 * sum saturates at INT32_MAX instead of overflowing on very long rows, which leads to the same.
 *
 * The gemmlowp helpers below mirror compiler/fixedpoint.py (the section "gemmlowp fixed-point
 * functions used by softmax") bit for bit. Input and output must not overlap.
 */
#include "edgec_nn.h"

#include "edgec_fixedpoint.h"

#define EDGEC_SM_EXP_MINUS_ONE_EIGHTH 1895147668 /* exp(-1/8), Q0.31 */
#define EDGEC_SM_ONE_THIRD 715827883             /* 1/3, Q0.31 */
#define EDGEC_SM_48_OVER_17 1515870810           /* 48/17, Q2.29 */
#define EDGEC_SM_MINUS_32_OVER_17 (-1010580540)  /* -32/17, Q2.29 */
#define EDGEC_SM_ACCUM_INTEGER_BITS 12           /* sum of exps: Q12.19 */

/* gemmlowp SaturatingRoundingMultiplyByPOT<exponent> for 1 <= exponent <= 30: saturating x * 2^exponent. */
static inline int32_t edgec_sm_saturating_shl(int32_t x, int32_t exponent)
{
    const int32_t threshold = ((int32_t)1 << (31 - exponent)) - 1;
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return x * ((int32_t)1 << exponent);
}

/* gemmlowp RoundingHalfSum for int32: (a + b) / 2 rounded half away from zero. */
static inline int32_t edgec_sm_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl: exp(a), a in [-1/4, 0), Q0.31 in and out. */
static inline int32_t edgec_sm_exp_quarter(int32_t a)
{
    const int32_t x = a + ((int32_t)1 << 28); /* a + 1/8 */
    const int32_t x2 = edgec_srdhm(x, x);
    const int32_t x3 = edgec_srdhm(x2, x);
    const int32_t x4 = edgec_srdhm(x2, x2);
    const int32_t x4_over_4 = edgec_rounding_divide_by_pot(x4, 2);
    const int32_t poly =
        edgec_rounding_divide_by_pot(edgec_srdhm(x4_over_4 + x3, EDGEC_SM_ONE_THIRD) + x2, 1);
    return EDGEC_SM_EXP_MINUS_ONE_EIGHTH + edgec_srdhm(EDGEC_SM_EXP_MINUS_ONE_EIGHTH, x + poly);
}

/* gemmlowp exp_on_negative_values for a Q5.26 input a <= 0; result Q0.31 (exp(0) = INT32_MAX). */
static inline int32_t edgec_sm_exp_on_negative_values_q5(int32_t a)
{
    static const int32_t barrel[7] = {
        1672461947, /* exp(-1/4) */
        1302514674, /* exp(-1/2) */
        790015084,  /* exp(-1) */
        290630308,  /* exp(-2) */
        39332535,   /* exp(-4) */
        720401,     /* exp(-8) */
        242,        /* exp(-16) */
    };
    const int32_t one_quarter = (int32_t)1 << 24; /* 1/4 in Q5.26 */
    const int32_t a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = edgec_sm_exp_quarter(edgec_sm_saturating_shl(a_mod_quarter_minus_one_quarter, 5));
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    for (int32_t k = 0; k < 7; ++k) {
        if (remainder & ((int32_t)1 << (24 + k))) { /* the bit worth 2^(k-2) */
            result = edgec_srdhm(result, barrel[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a) for a Q0.31 a in [0, 1), Q0.31 result. */
static inline int32_t edgec_sm_one_over_one_plus_x(int32_t a)
{
    const int32_t half_denominator = edgec_sm_rounding_half_sum(a, INT32_MAX);
    int32_t x = EDGEC_SM_48_OVER_17 + edgec_srdhm(half_denominator, EDGEC_SM_MINUS_32_OVER_17);
    for (int32_t i = 0; i < 3; ++i) {
        const int32_t one_minus_half_denominator_times_x = ((int32_t)1 << 29) - edgec_srdhm(half_denominator, x);
        x = x + edgec_sm_saturating_shl(edgec_srdhm(x, one_minus_half_denominator_times_x), 2);
    }
    return edgec_sm_saturating_shl(x, 1);
}

static inline int32_t edgec_sm_clz32(uint32_t x)
{
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* TFLite GetReciprocal: Q0.31 of 2^k / x for a positive Q(x_integer_digits) x; *num_bits_over_unit = k. */
static inline int32_t edgec_sm_get_reciprocal(int32_t x, int32_t x_integer_digits, int32_t *num_bits_over_unit)
{
    const int32_t headroom_plus_one = edgec_sm_clz32((uint32_t)x);
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    const int32_t shifted_sum_minus_one = (int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31));
    return edgec_sm_one_over_one_plus_x(shifted_sum_minus_one);
}

/* exp(beta * scale * diff) in Q0.31 for a difference the caller checked against diff_min. */
static inline int32_t edgec_sm_exp_of_diff(const edgec_softmax_params *params, int32_t diff)
{
    const int32_t rescaled = edgec_requantize(diff, params->input_multiplier, params->input_left_shift);
    return edgec_sm_exp_on_negative_values_q5(rescaled);
}

edgec_status edgec_softmax_s8(const edgec_softmax_params *params, const int8_t *input, int32_t rows,
                              int32_t row_size, int8_t *output)
{
    if (params == 0 || input == 0 || output == 0 || rows < 0 || row_size < 1) {
        return EDGEC_ARG_ERROR;
    }
    /* The rescale of every difference d >= diff_min (|d| <= 255) must not leave int32. */
    const int64_t widest = params->diff_min < -255 ? 255 : -(int64_t)params->diff_min;
    if (params->input_multiplier < 0 || params->input_left_shift < 0 || params->input_left_shift > 31 ||
        params->diff_min > 0 || (widest << params->input_left_shift) > (int64_t)INT32_MAX) {
        return EDGEC_ARG_ERROR;
    }
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *in = input + (int64_t)r * row_size;
        int8_t *out = output + (int64_t)r * row_size;
        int32_t max_in_row = -128;
        for (int32_t c = 0; c < row_size; ++c) {
            max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
        }
        int32_t sum_of_exps = 0; /* Q12.19, saturating */
        for (int32_t c = 0; c < row_size; ++c) {
            const int32_t diff = in[c] - max_in_row;
            if (diff >= params->diff_min) {
                /* gemmlowp Rescale<12> of a Q0.31 value: a rounding shift right by 12 bits. */
                const int32_t term =
                    edgec_rounding_divide_by_pot(edgec_sm_exp_of_diff(params, diff), EDGEC_SM_ACCUM_INTEGER_BITS);
                sum_of_exps = term > INT32_MAX - sum_of_exps ? INT32_MAX : sum_of_exps + term;
            }
        }
        int32_t num_bits_over_unit;
        const int32_t shifted_scale =
            edgec_sm_get_reciprocal(sum_of_exps, EDGEC_SM_ACCUM_INTEGER_BITS, &num_bits_over_unit);
        const int32_t exponent = num_bits_over_unit + 31 - 8;
        for (int32_t c = 0; c < row_size; ++c) {
            const int32_t diff = in[c] - max_in_row;
            int32_t value = -128;
            if (diff >= params->diff_min) {
                const int32_t product = edgec_srdhm(shifted_scale, edgec_sm_exp_of_diff(params, diff));
                /* exponent > 31: product / 2^exponent < 1/2 rounds to zero (TFLite aborts here). */
                const int32_t unsat = exponent <= 31 ? edgec_rounding_divide_by_pot(product, exponent) : 0;
                value = edgec_clamp(unsat - 128, -128, 127);
            }
            out[c] = (int8_t)value;
        }
    }
    return EDGEC_OK;
}
