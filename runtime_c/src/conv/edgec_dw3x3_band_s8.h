/*
 * edgec runtime, internal: the 3x3 depthwise band path (edgec_dw3x3_band.h) behind one function, shared by
 * edgec_depthwise_conv_fast_s8 (pairs NULL: packs per call) and edgec_depthwise_conv3x3_pairs_s8 (the offline
 * pairs), so that a model calling both links the band code once. Off Helium and not on the small-stack Armv6-M /
 * Armv8-M Baseline cores (its buffer is up to 4 KiB of stack), where EDGEC_DW3_BAND is defined.
 */
#ifndef EDGEC_DW3X3_BAND_S8_H
#define EDGEC_DW3X3_BAND_S8_H

#include <stdint.h>

#include "edgec_dot_s8.h"
#include "edgec_nn.h"

#if !defined(EDGEC_DOT_MVE) && !defined(__ARM_ARCH_6M__) && !defined(__ARM_ARCH_8M_BASE__)
#define EDGEC_DW3_BAND 1

/* Every batch through the band path, for arguments depthwise_args_ok accepts with depth_multiplier 1, a 3x3
 * filter and unit dilation; 1 when it took the shape (outputs written), 0 when it declined (nothing written).
 * pairs: EDGEC_DW3_PAIR_WORDS int32 per channel (compiler/dw_layout.py), or NULL. */
int edgec_dw3x3_band_s8(const edgec_conv_params *params, const edgec_per_channel_quant *quant,
                        const edgec_dims *input_dims, const int8_t *input, const int8_t *filter,
                        const int32_t *pairs, const int32_t *bias, const edgec_dims *output_dims, int8_t *output);
#endif

#endif /* EDGEC_DW3X3_BAND_S8_H */
