/*
 * edgec runtime, internal to the pooling family: the argument checks both pooling kernels share.
 * Not part of the public API.
 */
#ifndef EDGEC_POOL_COMMON_H
#define EDGEC_POOL_COMMON_H

#include <stdint.h>

#include "edgec_nn.h"

/* Parameters in range, shapes consistent, and every window overlapping the input (never wholly in padding). */
static inline int edgec_pool_args_ok(const edgec_pool_params *p, const edgec_dims *in, const edgec_dims *out)
{
    if (p->stride_h < 1 || p->stride_w < 1 || p->filter_h < 1 || p->filter_w < 1 || p->pad_top < 0 ||
        p->pad_left < 0 || p->act_min < -128 || p->act_max > 127 || p->act_min > p->act_max) {
        return 0;
    }
    if (in->n < 1 || in->h < 1 || in->w < 1 || in->c < 1 || out->n != in->n || out->h < 1 || out->w < 1 ||
        out->c != in->c) {
        return 0;
    }
    /* First window must reach into the input, last window must start inside it (64-bit: no overflow). */
    if (p->pad_top >= p->filter_h || p->pad_left >= p->filter_w) {
        return 0;
    }
    if ((int64_t)(out->h - 1) * p->stride_h - p->pad_top >= in->h ||
        (int64_t)(out->w - 1) * p->stride_w - p->pad_left >= in->w) {
        return 0;
    }
    return 1;
}

#endif /* EDGEC_POOL_COMMON_H */
