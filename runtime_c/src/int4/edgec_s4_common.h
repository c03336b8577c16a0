/*
 * edgec runtime, internal to the int4-weight kernels: reading weights packed two per byte.
 *
 * Layout (TFLite's INT4 tensors): the weights, flattened in their tensor's order, are packed
 * densely; element 2k sits in the low nibble of byte k and element 2k+1 in its high nibble, each a
 * two's-complement value in [-8, 7]. A nibble n is sign-extended without casts as (n ^ 8) - 8.
 * Not part of the public API.
 */
#ifndef EDGEC_S4_COMMON_H
#define EDGEC_S4_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The weight at flat index i. */
static inline int32_t s4_at(const uint8_t *packed, size_t i)
{
    const uint32_t byte = packed[i >> 1];
    const uint32_t nibble = (i & 1u) ? (byte >> 4) : (byte & 0x0Fu);
    return (int32_t)(nibble ^ 0x08u) - 8;
}

/*
 * acc + sum over k < n of x[k * x_step] * w[w_index + k]: the weights are contiguous from flat index
 * w_index; both nibbles of a byte are unpacked from one load when the run is byte-aligned.
 * 32-bit wrap-around arithmetic, as the reference's int32 accumulator.
 */
static inline uint32_t s4_dot(uint32_t acc, const int8_t *x, size_t x_step, const uint8_t *packed, size_t w_index,
                              size_t n)
{
    size_t k = 0;
    if ((w_index & 1u) && n > 0) {
        acc += (uint32_t)((int32_t)x[0] * s4_at(packed, w_index));
        k = 1;
    }
    const uint8_t *p = packed + ((w_index + k) >> 1);
    for (; k + 1 < n; k += 2) {
        const uint32_t byte = *p++;
        const int32_t lo = (int32_t)((byte & 0x0Fu) ^ 0x08u) - 8;
        const int32_t hi = (int32_t)((byte >> 4) ^ 0x08u) - 8;
        acc += (uint32_t)((int32_t)x[k * x_step] * lo);
        acc += (uint32_t)((int32_t)x[(k + 1) * x_step] * hi);
    }
    if (k < n) {
        acc += (uint32_t)((int32_t)x[k * x_step] * s4_at(packed, w_index + k));
    }
    return acc;
}

/* Sum of n contiguous weights from flat index w_index (for the padding term), wrapping like int32. */
static inline uint32_t s4_sum(const uint8_t *packed, size_t w_index, size_t n)
{
    uint32_t sum = 0;
    for (size_t k = 0; k < n; ++k) {
        sum += (uint32_t)s4_at(packed, w_index + k);
    }
    return sum;
}

#endif /* EDGEC_S4_COMMON_H */
