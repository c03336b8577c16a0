/*
 * edgec runtime: int8 neural-network kernels (portable C99).
 *
 * Conventions (shared with compiler/ir.py and the numpy interpreter compiler/interp):
 *  - Activations are NHWC int8. Conv weights OHWI [OC][KH][KW][IC]; depthwise weights
 *    [KH][KW][OC] with OC = IC * depth_multiplier; fully connected weights [OC][IC].
 *  - Biases are int32 with the input zero-point term already folded in, so a convolution
 *    accumulates acc = bias[oc] + sum(x * w), where an input outside the tensor (padding)
 *    reads params->pad_value (the input zero point).
 *  - A rescale is edgec_requantize(acc, multiplier[oc], shift[oc]) (TFLite shift convention,
 *    positive = left), then + output_offset, then a clamp to [act_min, act_max].
 *  - No allocation, no global state: every buffer and constant is an argument. Kernels
 *    return EDGEC_OK or EDGEC_ARG_ERROR (a null pointer or inconsistent dimension).
 */
#ifndef EDGEC_NN_H
#define EDGEC_NN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    EDGEC_OK = 0,
    EDGEC_ARG_ERROR = -1,
} edgec_status;

/** Tensor dimensions, NHWC. Unused dimensions are 1. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} edgec_dims;

/** Per-output-channel requantization: arrays of length OC. */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
} edgec_per_channel_quant;

/** Geometry and output range of a convolution (regular or depthwise). */
typedef struct {
    int32_t stride_h;
    int32_t stride_w;
    int32_t dilation_h;
    int32_t dilation_w;
    int32_t pad_top;
    int32_t pad_left;
    int32_t pad_value;      /**< value of an out-of-bounds input: the input zero point, in [-128, 127] */
    int32_t depth_multiplier; /**< depthwise only; 1 for regular convolution */
    int32_t output_offset;  /**< output zero point */
    int32_t act_min;        /**< clamp, in [-128, 127] */
    int32_t act_max;
} edgec_conv_params;

/** Output range of a fully connected layer. */
typedef struct {
    int32_t output_offset;
    int32_t act_min;
    int32_t act_max;
} edgec_fc_params;

/**
 * Per-output-channel rescale of the fast fully connected kernel (arrays of length OC): the reference's double
 * scale, and its integer form multiplier in [2^30, 2^31) with shift 32 + n, n in [1, 30] (multiplier 0: the
 * channel always uses the double formula). compiler/fc_layout.py derives them and states the error bound.
 */
typedef struct {
    const double *scale;
    const int32_t *multiplier;
    const int32_t *n;
} edgec_fc_quant;

/** Geometry and output range of a pooling layer. */
typedef struct {
    int32_t stride_h;
    int32_t stride_w;
    int32_t pad_top;
    int32_t pad_left;
    int32_t filter_h;
    int32_t filter_w;
    int32_t act_min;
    int32_t act_max;
} edgec_pool_params;

/** TFLite int8 ADD: inputs rescaled to a shared grid with left_shift bits of headroom. */
typedef struct {
    int32_t input1_offset;
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_offset;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t left_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset;
    int32_t act_min;
    int32_t act_max;
} edgec_add_params;

/**
 * The 4-D walk of a broadcasting two-operand op: output dims (NHWC, row-major) and, per operand, the
 * element stride along each axis (0 repeats the operand along that axis).
 */
typedef struct {
    edgec_dims output;
    edgec_dims stride1;
    edgec_dims stride2;
} edgec_broadcast;

/** TFLite int8 MUL: product of the offset inputs, rescaled by a Q31 pair (shift may be positive). */
typedef struct {
    int32_t input1_offset;  /**< negated input1 zero point */
    int32_t input2_offset;  /**< negated input2 zero point */
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset;
    int32_t act_min;
    int32_t act_max;
} edgec_mul_params;

/** TFLite int8 PRELU: one rescale where the offset input is >= 0, another for input * alpha below. */
typedef struct {
    int32_t input_offset;   /**< negated input zero point */
    int32_t alpha_offset;   /**< negated alpha zero point */
    int32_t multiplier_pos;
    int32_t shift_pos;
    int32_t multiplier_neg;
    int32_t shift_neg;
    int32_t output_offset;
} edgec_prelu_params;

/** TFLite int8 softmax (gemmlowp fixed point); output scale 1/256, zero point -128. */
typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min;
} edgec_softmax_params;

/**
 * 2-D convolution, int8 in/out, int8 weights, int32 bias.
 * input [input_dims->n][h][w][c]; filter [OC][KH][KW][IC] with filter_dims = {OC, KH, KW, IC};
 * output [n][out_h][out_w][OC]. Output geometry comes from output_dims.
 */
edgec_status edgec_convolve_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                               const edgec_dims *input_dims, const int8_t *input,
                               const edgec_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                               const edgec_dims *output_dims, int8_t *output);

/**
 * Depthwise 2-D convolution; filter [KH][KW][OC] with filter_dims = {1, KH, KW, OC},
 * OC = IC * params->depth_multiplier; output channel oc reads input channel oc / depth_multiplier.
 */
edgec_status edgec_depthwise_conv_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                     const edgec_dims *input_dims, const int8_t *input,
                                     const edgec_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                     const edgec_dims *output_dims, int8_t *output);

/**
 * 2-D convolution, fast path: the arguments, layouts and results of edgec_convolve_s8 (any geometry, padding,
 * stride, dilation); bit-identical on every path. DSP extension: four output positions x one channel per pass
 * from an int16 quad buffer (SMLAD); Cortex-M3: two pixels packed per int32 for SMLAL; Helium: three positions
 * per pass (VMLADAVA); elsewhere four channels at a time in portable C. Stack: up to about 6 KiB on the
 * Cortex-M3/M4/M33 (the quad buffer and window copies; -DEDGEC_CONV_QUAD_TAPS=n lowers it).
 */
edgec_status edgec_convolve_fast_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                    const edgec_dims *input_dims, const int8_t *input,
                                    const edgec_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                    const edgec_dims *output_dims, int8_t *output);

/**
 * 2-D convolution as edgec_convolve_fast_s8 (same arguments and results) over weights the compiler widened
 * offline for the DSP extension (compiler/conv_layout.py). filter: one stream (int32 words stored as int16 pairs),
 * per pair of output channels {bias0, bias1, bias0, bias1}, per chunk of four taps 4c..4c+3 (K = KH * KW * IC
 * padded with zero taps to Kp, a multiple of 4) the int16 pairs c0 (w[4c], w[4c+2]), c0 (w[4c+1], w[4c+3]),
 * c1 (...), c1 (...), then c0's and c1's {lo, hi, multiplier, r1}: for a right shift with r1 = -1 - shift <=
 * EDGEC_RQ_FOLD_MAX_R1 the edgec_rq_right constants with params->output_offset folded in
 * (edgec_rq_right_fold_offset), else {shift, 0, multiplier, -1}; an odd last channel has a zero partner. A
 * doubled stream (compiler/conv_layout.py: full-range layers) has twice the biases and weights and per channel
 * {multiplier, c, s, EDGEC_W16_DOUBLED or _SIGNED} (SMMLAR, ASR, SSAT; edgec_conv_quad_w16.h). table
 * (in place of bias): the int32 biases. Two positions x two channels per pass (10 instructions per 16 MACs on the
 * DSP extension). K at most EDGEC_CONV_W16_TAPS, else EDGEC_ARG_ERROR. Portable C off the DSP extension (the
 * compiler chooses it only on DSP targets without Helium), and for narrowed output ranges or unfolded shifts.
 * Stack: about 2.9 KiB (the pair buffer and one window copy).
 */
#define EDGEC_CONV_W16_TAPS 576
edgec_status edgec_convolve_w16_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                   const edgec_dims *input_dims, const int8_t *input, const edgec_dims *filter_dims,
                                   const int16_t *filter, const int32_t *table, const edgec_dims *output_dims,
                                   int8_t *output);

/**
 * Depthwise 2-D convolution, fast path for depth_multiplier 1: the arguments, layouts and results of
 * edgec_depthwise_conv_s8; EDGEC_ARG_ERROR for another depth multiplier. Off Helium a 3x3 undilated window with
 * horizontal stride 1 or 2 and output rows of at least 6 goes through a channel-major int16 copy of each band of
 * rows (2 or 4 KiB of stack; SMLAD pairs of outputs on the DSP extension, LDRSH/MLA on the Cortex-M3); other
 * shapes vectorise four channels per step. Helium: 3x3 stride-1 SAME layers (at least 4 x 3 outputs, right shifts
 * of at most 24) four output rows of one channel per int32 vector (a row of pad values on the stack, up to 4 KiB);
 * otherwise eight channels per step in int16 lanes.
 */
edgec_status edgec_depthwise_conv_fast_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                          const edgec_dims *input_dims, const int8_t *input,
                                          const edgec_dims *filter_dims, const int8_t *filter,
                                          const int32_t *bias, const edgec_dims *output_dims, int8_t *output);

/**
 * Depthwise 3x3 with the weights also given offline: the arguments and results of edgec_depthwise_conv_fast_s8,
 * plus pairs, the compiler's table (compiler/dw_layout.py): flags and the channel count, then 10 int32 per
 * channel: for kernel row r of 2 * w (of its transpose when flag 1 is set), word r = (w[r][0], w[r][1]) and word
 * 3 + r = (w[r][1], w[r][2]), int16 halves, the first in the low half; 2 * bias; the SMMLAR requantization
 * constants m, K, s. Off Helium the band path reads it instead of packing per call, so it also takes narrow
 * output rows and short row bands (tiled calls); elsewhere (Helium, other shapes) it is
 * edgec_depthwise_conv_fast_s8 on filter (quant, bias).
 */
edgec_status edgec_depthwise_conv3x3_pairs_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                              const edgec_dims *input_dims, const int8_t *input,
                                              const edgec_dims *filter_dims, const int8_t *filter,
                                              const int32_t *pairs, const int32_t *bias,
                                              const edgec_dims *output_dims, int8_t *output);

/**
 * Fully connected, fast path: the results of edgec_fully_connected_s8 bit for bit, with the weights blocked
 * four output rows at a time (blocked_filter, compiler/fc_layout.py: per block of 4 rows, in_features / 4 groups
 * of 16 bytes = rows 0..3 x 4 consecutive inputs, then in_features % 4 leftover inputs per row; then the
 * out_features % 4 leftover rows as they are). One pass over the input feeds four rows: on the DSP extension the
 * input row is first unpacked to SMLAD halfwords (rows up to 1024 inputs, 2 KB of stack; longer rows read the
 * int8 input), then per group one LDRD of the input, one LDM of the weights, eight SXTB16 and eight SMLAD; on the
 * Cortex-M3 eight rows per pass (LDRSB/MLA); on Helium gathered VMLADAVA. Outputs are rescaled 32 at a time with
 * the integer rescale, the double formula only within 2^-20 of a rounding tie or for a channel outside the
 * integer form (edgec_fc_quant).
 */
edgec_status edgec_fully_connected_fast_s8(const edgec_fc_params *params, const edgec_fc_quant *quant,
                                           int32_t batches, int32_t in_features, const int8_t *input,
                                           int32_t out_features, const int8_t *blocked_filter,
                                           const int32_t *bias, int8_t *output);

/**
 * Fully connected: out[b][o] = clamp(round(double(bias[o] + sum_i in[b][i] * w[o][i]) * scale[o]) + output_offset).
 * batches rows of in_features int8 inputs; filter [out_features][in_features]; scale[o] is the per-channel
 * double s_in * s_w[o] / s_out (TFLite's reference kernel rescales FC in double precision, not Q31).
 */
edgec_status edgec_fully_connected_s8(const edgec_fc_params *params, const double *scale,
                                      int32_t batches, int32_t in_features, const int8_t *input,
                                      int32_t out_features, const int8_t *filter, const int32_t *bias,
                                      int8_t *output);

/*
 * int4 weights, each in [-8, 7] (edgec's quantizer writes [-7, 7]), two per byte. Everything else,
 * including the rounding, is as in the _s8 variant. Depthwise: packed_filter holds the same weights as
 * the _s8 variant's filter, in the same order, packed densely as TFLite's INT4 tensors: element 2k in
 * the low nibble of byte k, element 2k+1 in the high nibble; ceil(elements / 2) bytes.
 * Convolution and fully connected: nibble-group rows (compiler/int4.py, src/int4/edgec_s4_common.h):
 * each row (an output channel's OHWI window, a fully connected row) padded with zero weights to K8, its
 * length rounded up to a multiple of 8, as K8 / 8 little-endian words of eight taps, nibble n of a word
 * holding tap {5, 4, 1, 0, 7, 6, 3, 2}[n] of its group; the convolution's rows one after another
 * (OC * K8 / 2 bytes), the fully connected rows padded with zero rows to a multiple of 4 and per block
 * of four rows the four rows' words of each group in turn (ceil(OC / 4) * 2 * K8 bytes).
 */

/** 2-D convolution with int4 weights; see edgec_convolve_s8 for layouts and semantics. */
edgec_status edgec_convolve_s4(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                               const edgec_dims *input_dims, const int8_t *input,
                               const edgec_dims *filter_dims, const uint8_t *packed_filter, const int32_t *bias,
                               const edgec_dims *output_dims, int8_t *output);

/** Depthwise 2-D convolution with int4 weights [KH][KW][OC]; see edgec_depthwise_conv_s8. */
edgec_status edgec_depthwise_conv_s4(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                                     const edgec_dims *input_dims, const int8_t *input,
                                     const edgec_dims *filter_dims, const uint8_t *packed_filter,
                                     const int32_t *bias, const edgec_dims *output_dims, int8_t *output);

/** Fully connected with int4 weights [out_features][in_features]; see edgec_fully_connected_s8 (results) and
 * edgec_fc_quant (rescale). */
edgec_status edgec_fully_connected_s4(const edgec_fc_params *params, const edgec_fc_quant *quant,
                                      int32_t batches, int32_t in_features, const int8_t *input,
                                      int32_t out_features, const uint8_t *packed_filter, const int32_t *bias,
                                      int8_t *output);

/** Average pooling; averages only the cells inside the input, rounding half away from zero. */
edgec_status edgec_avgpool_s8(const edgec_pool_params *params, const edgec_dims *input_dims, const int8_t *input,
                              const edgec_dims *output_dims, int8_t *output);

/** Max pooling over the cells inside the input. */
edgec_status edgec_maxpool_s8(const edgec_pool_params *params, const edgec_dims *input_dims, const int8_t *input,
                              const edgec_dims *output_dims, int8_t *output);

/** Elementwise ADD of two int8 tensors of size elements each (SUB: a negative input2_multiplier). */
edgec_status edgec_add_s8(const edgec_add_params *params, const int8_t *input1, const int8_t *input2,
                          int32_t size, int8_t *output);

/**
 * Elementwise ADD as edgec_add_s8, with each input's rescaled term read from a table instead of computed:
 * tables holds 2 x 256 int32, tables[k * 256 + x + 128] = requantize((x + input{k+1}_offset) << left_shift,
 * input{k+1}_multiplier, input{k+1}_shift) for every int8 x (the compiler writes them). Only the sum is
 * requantized; the results equal edgec_add_s8's for the same params. output may alias input1 or input2.
 */
edgec_status edgec_add_table_s8(const edgec_add_params *params, const int32_t *tables, const int8_t *input1,
                                const int8_t *input2, int32_t size, int8_t *output);

/**
 * ADD (or SUB: a negative input2_multiplier) with broadcasting: output[n][h][w][c] combines
 * input1[n*s1.n + h*s1.h + w*s1.w + c*s1.c] and input2 likewise with shape->stride2.
 */
edgec_status edgec_add_broadcast_s8(const edgec_add_params *params, const edgec_broadcast *shape,
                                    const int8_t *input1, const int8_t *input2, int8_t *output);

/** MUL with broadcasting (operand walk as edgec_add_broadcast_s8); output is shape->output, row-major. */
edgec_status edgec_mul_s8(const edgec_mul_params *params, const edgec_broadcast *shape, const int8_t *input1,
                          const int8_t *input2, int8_t *output);

/** PRELU with alpha broadcast onto the input (input walked by shape->stride1, alpha by shape->stride2). */
edgec_status edgec_prelu_s8(const edgec_prelu_params *params, const edgec_broadcast *shape, const int8_t *input,
                            const int8_t *alpha, int8_t *output);

/** Any unary int8 function: output[i] = table[input[i] + 128]; table has 256 entries. */
edgec_status edgec_lut_s8(const int8_t *table, const int8_t *input, int32_t size, int8_t *output);

/** Softmax over rows of row_size elements. */
edgec_status edgec_softmax_s8(const edgec_softmax_params *params, const int8_t *input, int32_t rows,
                              int32_t row_size, int8_t *output);

/** float32 -> int8: out = clamp(round_half_away(in / scale) + zero_point), division in float. */
edgec_status edgec_quantize_f32_s8(const float *input, int32_t size, float scale, int32_t zero_point,
                                   int8_t *output);

/** int8 -> float32: out = (float)(scale * (in - zero_point)), product in double. */
edgec_status edgec_dequantize_s8_f32(const int8_t *input, int32_t size, double scale, int32_t zero_point,
                                     float *output);

/**
 * Where a strided copy reads and writes: for every index i below extent (4 axes, unused ones 1),
 * output[out_offset + sum(i[k] * out_stride[k])] = input[in_offset + sum(i[k] * in_stride[k])].
 * Strides are in elements and may be negative; the compiler keeps every address inside its buffer.
 */
typedef struct {
    int32_t extent[4];
    int32_t in_offset;
    int32_t in_stride[4];
    int32_t out_offset;
    int32_t out_stride[4];
} edgec_copy_params;

/** Generic int8 strided copy (SLICE, STRIDED_SLICE, SPLIT, TRANSPOSE, CONCATENATION: one call per input). */
edgec_status edgec_strided_copy_s8(const edgec_copy_params *params, const int8_t *input, int8_t *output);

/** Constant padding: output (output_size elements) filled with pad_value, then the input copied per params. */
edgec_status edgec_pad_s8(const edgec_copy_params *params, int32_t pad_value, int32_t output_size,
                          const int8_t *input, int8_t *output);

/** MEAN over the axes k with reduce[k] != 0 of a row-major tensor of dims (4 axes, unused ones 1). */
typedef struct {
    int32_t dims[4];
    int32_t reduce[4];
    int32_t input_offset;   /**< -input zero point */
    int32_t multiplier;     /**< s_in / s_out / count as TFLite's QuantizedMeanOrSum folds it */
    int32_t shift;
    int32_t count;          /**< cells per output: the product of the reduced dims */
    int32_t output_offset;
} edgec_mean_params;

/** int8 mean, out = clamp(requantize(sum(x + input_offset)) + output_offset); output holds one value per combination of the non-reduced axes, in row-major order. */
edgec_status edgec_mean_s8(const edgec_mean_params *params, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* EDGEC_NN_H */
