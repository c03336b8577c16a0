/*
 * edgec runtime, internal to the Helium (MVE) convolution kernels: copy and pad-fill of byte runs (window patches,
 * padded bands), 16 bytes per vector store, the last partial vector under a VCTP predicate. Compiled only on Helium.
 */
#ifndef EDGEC_MVE_COPY_H
#define EDGEC_MVE_COPY_H

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#include <stddef.h>
#include <stdint.h>

/* n bytes of src to dst. */
static inline void edgec_mve_copy(int8_t *dst, const int8_t *src, size_t n)
{
    for (; n >= 16; n -= 16) {
        vstrbq_s8(dst, vldrbq_s8(src));
        dst += 16;
        src += 16;
    }
    if (n > 0) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        vstrbq_p_s8(dst, vldrbq_z_s8(src, p), p);
    }
}

/* n bytes of pad at dst. */
static inline void edgec_mve_fill(int8_t *dst, int8x16_t pad, size_t n)
{
    for (; n >= 16; n -= 16) {
        vstrbq_s8(dst, pad);
        dst += 16;
    }
    if (n > 0) {
        vstrbq_p_s8(dst, pad, vctp8q((uint32_t)n));
    }
}
#endif

#endif /* EDGEC_MVE_COPY_H */
