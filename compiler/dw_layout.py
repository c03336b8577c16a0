"""What the 3x3 depthwise band kernel reads from flash: each channel's weights as int16 pairs.

The band path (runtime_c/src/conv/edgec_dw3x3_band.h) multiplies two horizontally adjacent int16 inputs by two
weights in one SMLAD, so per kernel row r it wants A_r = (w[r][0], w[r][1]) and B_r = (w[r][1], w[r][2]) as 32-bit
words, the first weight in the low halfword. Built per call, that packing (nine strided byte loads and six words
per channel) costs about as much as the channel's multiply-accumulates on short rows and in tiled calls (a band
of one output row); :func:`pair_table` builds it once here, for ``edgec_depthwise_conv3x3_pairs_s8``: channel c's
six words at 6c.. in the order A_0, A_1, A_2, B_0, B_1, B_2 (24 bytes a channel next to the 9 of the int8 filter,
which the kernel keeps for the shapes the band path declines).

Rule (:func:`for_target`): the pairs are emitted only where the band path runs, so only on targets without Helium
(whose depthwise is edgec_depthwise_mve_s8.h) and outside Armv6-M and Armv8-M Baseline (no band path there:
EDGEC_DW3_BAND in edgec_dw3x3_band_s8.h), and for output rows at least MIN_WIDTH wide (below); elsewhere the
layer keeps the int8 filter alone and ``edgec_depthwise_conv_fast_s8``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import ir

PAIR_WORDS = 6


def wants_pairs(kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
                depth_multiplier: int, weight_bits: int) -> bool:
    """Whether the band path can take the layer (3x3, undilated, depth multiplier 1, int8, stride_w 1 or 2,
    stride_h 1..4), so that the table is worth its flash."""
    return (kernel == (3, 3) and dilation == (1, 1) and depth_multiplier == 1 and weight_bits == 8
            and stride[1] in (1, 2) and 1 <= stride[0] <= 4)


def pair_table(weights: np.ndarray) -> np.ndarray:
    """[3, 3, C] int8 -> int32 [C * 6] of the module docstring."""
    w = np.asarray(weights, dtype=np.int64)
    lo = lambda v: v & 0xFFFF  # noqa: E731 - two's complement halfword
    a = lo(w[:, 0, :]) | (lo(w[:, 1, :]) << 16)  # [3, C]
    b = lo(w[:, 1, :]) | (lo(w[:, 2, :]) << 16)
    words = np.concatenate([a, b], axis=0).T  # [C, 6]
    return np.ascontiguousarray(words.astype(np.uint32).view(np.int32).ravel())


NO_BAND_ARCHS = ("armv6-m", "armv8-m.base")  # no band path: the Cortex-M0/M0+/M23 take the general depthwise


def runs_band(target) -> bool:
    """Whether the target's build takes the band path (EDGEC_DW3_BAND in edgec_dw3x3_band_s8.h)."""
    return "mve" not in target.features and target.arch not in NO_BAND_ARCHS


# Output rows narrower than this keep the general depthwise (EDGEC_DW3_MIN_WIDTH in edgec_dw3x3_band.h). The band
# path with pairs takes them and is faster untiled (KWS's 5-wide layers: 7.5 -> 3.4 instructions per MAC on the
# Cortex-M4), but it pays ~160 instructions per channel and call: KWS tiled to issue 4's 10,000-byte arena then
# ran 11% over untiled, against the tiling contract of at most 10%. Until that set-up is cheaper they stay out.
MIN_WIDTH = 6


def for_target(program: ir.Program, target) -> ir.Program:
    """The program with the depthwise layers the band path takes on this target set to weight_layout "pairs"."""
    if not runs_band(target):
        return program
    ops = tuple(dataclasses.replace(op, weight_layout="pairs")
                if isinstance(op, ir.DepthwiseConv2D)
                and wants_pairs(op.weights.shape[:2], op.stride, op.dilation, op.depth_multiplier, op.weight_bits)
                and program.value(op.outputs[0]).shape[2] >= MIN_WIDTH
                else op for op in program.ops)
    return dataclasses.replace(program, ops=ops)
