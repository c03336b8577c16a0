/*
 * edgec runtime, internal: what the elementwise kernels share.
 *
 * The per-element arithmetic of ADD (TFLite reference_integer_ops::AddFunc; SUB is ADD with a
 * negative input2 multiplier), and the argument checks of a 4-D broadcast walk.
 */
#ifndef EDGEC_ELEMENTWISE_COMMON_H
#define EDGEC_ELEMENTWISE_COMMON_H

#include "edgec_nn.h"

#include "edgec_fixedpoint.h"

/* A negated int8 zero point. */
static inline int edgec_offset_ok(int32_t offset)
{
    return offset >= -127 && offset <= 128;
}

static inline int edgec_add_params_ok(const edgec_add_params *p)
{
    /* (x + offset) is within [-255, 255]; 255 << 22 and the sum of two rescaled values fit in int32. */
    return edgec_offset_ok(p->input1_offset) && edgec_offset_ok(p->input2_offset) && p->left_shift >= 0 &&
           p->left_shift <= 22 && p->input1_multiplier >= 0 && p->input1_shift <= 0 && p->input1_shift >= -31 &&
           p->input2_multiplier > INT32_MIN && p->input2_shift <= 0 && p->input2_shift >= -31 &&
           p->output_multiplier >= 0 && p->output_shift <= 0 && p->output_shift >= -31 && p->output_offset >= -128 &&
           p->output_offset <= 127 && p->act_min >= -128 && p->act_max <= 127 && p->act_min <= p->act_max;
}

static inline int8_t edgec_add_element(const edgec_add_params *p, int32_t x1, int32_t x2)
{
    const int32_t shifted1 = (x1 + p->input1_offset) * ((int32_t)1 << p->left_shift);
    const int32_t shifted2 = (x2 + p->input2_offset) * ((int32_t)1 << p->left_shift);
    const int32_t scaled1 = edgec_requantize(shifted1, p->input1_multiplier, p->input1_shift);
    const int32_t scaled2 = edgec_requantize(shifted2, p->input2_multiplier, p->input2_shift);
    const int32_t raw = edgec_requantize(scaled1 + scaled2, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int8_t)edgec_clamp(raw, p->act_min, p->act_max);
}

static inline int edgec_dims_ok(const edgec_dims *d)
{
    return d->n >= 0 && d->h >= 0 && d->w >= 0 && d->c >= 0;
}

static inline int edgec_strides_ok(const edgec_dims *s)
{
    return s->n >= 0 && s->h >= 0 && s->w >= 0 && s->c >= 0;
}

static inline int edgec_broadcast_ok(const edgec_broadcast *b)
{
    if (b == 0 || !edgec_dims_ok(&b->output) || !edgec_strides_ok(&b->stride1) || !edgec_strides_ok(&b->stride2)) {
        return 0;
    }
    const edgec_dims *d = &b->output;
    return (int64_t)d->n * d->h * d->w * d->c <= INT32_MAX; /* the walk counts elements in int32 */
}

/*
 * One row (the c axis) of a broadcasting op: size outputs from operands that advance by step1 and
 * step2 elements (0: the operand repeats along the row).
 */
typedef void (*edgec_row_fn)(const void *params, const int8_t *input1, int32_t step1, const int8_t *input2,
                             int32_t step2, int32_t size, int8_t *output);

/*
 * Walk the output of a broadcasting op row by row in row-major order (n, h, w), keeping each operand's
 * row start at n*stride.n + h*stride.h + w*stride.w, and call row() for every row. static inline with
 * a constant row function, so the compiler can inline the row into the walk.
 */
static inline void edgec_broadcast_rows(const edgec_broadcast *b, const void *params, const int8_t *input1,
                                        const int8_t *input2, int8_t *output, edgec_row_fn row)
{
    const edgec_dims *d = &b->output;
    const edgec_dims *s1 = &b->stride1;
    const edgec_dims *s2 = &b->stride2;
    for (int32_t n = 0; n < d->n; ++n) {
        for (int32_t h = 0; h < d->h; ++h) {
            for (int32_t w = 0; w < d->w; ++w) {
                row(params, input1 + n * s1->n + h * s1->h + w * s1->w, s1->c,
                    input2 + n * s2->n + h * s2->h + w * s2->w, s2->c, d->c, output);
                output += d->c;
            }
        }
    }
}

#endif /* EDGEC_ELEMENTWISE_COMMON_H */
