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
 * A walk over the rows (the c axis) of a broadcasting op's output in row-major order, keeping the
 * element offset of each operand's row start: edgec_walk_next_row steps w, carrying into h and n,
 * and moves the offsets by the strides. Within a row, operand k advances by stride_k.c.
 */
typedef struct {
    int32_t h;
    int32_t w;
    int32_t offset1;
    int32_t offset2;
} edgec_walk;

static inline int32_t edgec_walk_rows(const edgec_broadcast *b)
{
    return b->output.n * b->output.h * b->output.w;
}

static inline void edgec_walk_next_row(const edgec_broadcast *b, edgec_walk *it)
{
    const edgec_dims *d = &b->output;
    const edgec_dims *s1 = &b->stride1;
    const edgec_dims *s2 = &b->stride2;
    it->offset1 += s1->w;
    it->offset2 += s2->w;
    if (++it->w < d->w) {
        return;
    }
    it->w = 0;
    it->offset1 += s1->h - d->w * s1->w;
    it->offset2 += s2->h - d->w * s2->w;
    if (++it->h < d->h) {
        return;
    }
    it->h = 0;
    it->offset1 += s1->n - d->h * s1->h;
    it->offset2 += s2->n - d->h * s2->h;
}

#endif /* EDGEC_ELEMENTWISE_COMMON_H */
