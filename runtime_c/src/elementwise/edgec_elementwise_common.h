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
    return b != 0 && edgec_dims_ok(&b->output) && edgec_strides_ok(&b->stride1) && edgec_strides_ok(&b->stride2);
}

/* Element offset of (n, h, w, c) in an operand walked with strides s. */
static inline int32_t edgec_broadcast_offset(const edgec_dims *s, int32_t n, int32_t h, int32_t w, int32_t c)
{
    return n * s->n + h * s->h + w * s->w + c * s->c;
}

#endif /* EDGEC_ELEMENTWISE_COMMON_H */
