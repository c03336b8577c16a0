"""What the 3x3 depthwise band kernel reads from flash: per channel its weights as doubled int16 pairs and its
requantization constants, built once here instead of per call.

The band path (runtime_c/src/conv/edgec_dw3x3_band.h) multiplies two adjacent int16 inputs by two weights in one
SMLAD, so per kernel row r it wants A_r = (w[r][0], w[r][1]) and B_r = (w[r][1], w[r][2]) as 32-bit words, the
first weight in the low halfword. Built per call (nine strided byte loads, six words and the requantization
constants per channel) that set-up costs about as much as a channel's multiply-accumulates on short rows and in
tiled calls; :func:`dw3_table` builds it once, for ``edgec_depthwise_conv3x3_pairs_s8``:

- word 0: flags, EDGEC_DW3_T_TRANSPOSED (bit 0: the pairs are of the transposed filter and the kernel walks the
  map column by column, so that a narrow map (KWS's 25x5) makes long lines) and EDGEC_DW3_T_NOSIGN (bit 1: the
  clamp's lower bound is at or above the output offset, so the negative-accumulator correction below never
  changes an output); word 1: the channel count (the kernel declines a table of another layer);
- then 10 words per channel c at 2 + 10c: A_0, A_1, A_2, B_0, B_1, B_2 of 2 * w (doubled weights), 2 * bias,
  the multiplier m, K = 2^r1 + offset * 2^(r1 + 1) and s = r1 + 1, with r1 = -1 - shift.

Requantization with them (one SMMLAR, ADD, ASR and the clamp per output): with the doubled accumulator x2 = 2x,
SMMLAR(x2, m, K) = K + floor((x m + 2^30) / 2^31) (exact, 64-bit inside), and the reference's
floor((x m + 2^30 - [x < 0] 2^31 + 2^(31 + r1) + offset 2^(32 + r1)) / 2^(32 + r1)) (edgec_requantize_right with
the offset folded) is (K + floor((x m + 2^30) / 2^31) - [x < 0]) >> s, the offset included. It is exact while
nothing overflows int32; :func:`dw3_table` checks that at compile time (|bias| + 128 * sum |w| < 2^29, a right
shift with r1 <= 22, m >= 0) and returns None otherwise (the layer then keeps the general kernels). For x < 0 the
value before the clamp is at most the offset with or without the -1 (x m <= 0), so where act_min >= offset the
kernel skips it (EDGEC_DW3_T_NOSIGN).

Rule (:func:`for_target`): the table is emitted only where the band path runs, so only on targets without Helium
(whose depthwise is edgec_depthwise_mve_s8.h) and outside Armv6-M and Armv8-M Baseline (no band path there:
EDGEC_DW3_BAND in edgec_dw3x3_band_s8.h), and where the constants fit (above); elsewhere the layer keeps the int8
filter alone and ``edgec_depthwise_conv_fast_s8``. Layers with stride 1 whose output is narrower than
TRANSPOSE_BELOW and taller than wide get the transposed table (weight_layout "pairs_t").
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import ir

PAIR_WORDS = 6
CHANNEL_WORDS = 10
HEADER_WORDS = 2
TRANSPOSED = 1
NOSIGN = 2
LAYOUTS = ("pairs", "pairs_t")

# Outputs narrower than this (and taller than wide, stride 1) walk the map by columns (EDGEC_DW3_T_TRANSPOSED).
TRANSPOSE_BELOW = 6


def wants_pairs(kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
                depth_multiplier: int, weight_bits: int) -> bool:
    """Whether the band path can take the layer (3x3, undilated, depth multiplier 1, int8, stride_w 1 or 2,
    stride_h 1..4), so that the table is worth its flash."""
    return (kernel == (3, 3) and dilation == (1, 1) and depth_multiplier == 1 and weight_bits == 8
            and stride[1] in (1, 2) and 1 <= stride[0] <= 4)


def pair_table(weights: np.ndarray) -> np.ndarray:
    """[3, 3, C] int16-range weights -> int32 [C, 6]: per channel A_0, A_1, A_2, B_0, B_1, B_2."""
    w = np.asarray(weights, dtype=np.int64)
    lo = lambda v: v & 0xFFFF  # noqa: E731 - two's complement halfword
    a = lo(w[:, 0, :]) | (lo(w[:, 1, :]) << 16)  # [3, C]
    b = lo(w[:, 1, :]) | (lo(w[:, 2, :]) << 16)
    words = np.concatenate([a, b], axis=0).T  # [C, 6]
    return np.ascontiguousarray(words.astype(np.uint32).view(np.int32))


def _fits(op: ir.DepthwiseConv2D) -> bool:
    """The compile-time bounds of the module docstring, for every channel."""
    w = np.asarray(op.weights, dtype=np.int64)
    bound = np.abs(np.asarray(op.bias, dtype=np.int64)) + 128 * np.abs(w).sum(axis=(0, 1))
    shift = np.asarray(op.shift, dtype=np.int64)
    mult = np.asarray(op.multiplier, dtype=np.int64)
    return bool(np.all(bound < 2**29) and np.all(shift < 0) and np.all(-1 - shift <= 22) and np.all(mult >= 0)
                and -128 <= op.output_offset <= 127)


def dw3_table(op: ir.DepthwiseConv2D, transposed: bool) -> np.ndarray | None:
    """The int32 table of the module docstring, or None where its requantization would not be exact."""
    if not _fits(op):
        return None
    w = np.asarray(op.weights, dtype=np.int64) * 2
    if transposed:
        w = w.transpose(1, 0, 2)
    chans = w.shape[2]
    r1 = -1 - np.asarray(op.shift, dtype=np.int64)
    k = (1 << r1) + op.output_offset * (1 << (r1 + 1))
    per = np.concatenate([pair_table(w).astype(np.int64),
                          np.stack([2 * np.asarray(op.bias, dtype=np.int64),
                                    np.asarray(op.multiplier, dtype=np.int64), k, r1 + 1], axis=1)], axis=1)
    flags = (TRANSPOSED if transposed else 0) | (NOSIGN if op.act_min >= op.output_offset else 0)
    table = np.concatenate([np.array([flags, chans], dtype=np.int64), per.ravel()])
    assert np.all(table >= -2**31) and np.all(table < 2**31)
    return np.ascontiguousarray(table.astype(np.int32))


NO_BAND_ARCHS = ("armv6-m", "armv8-m.base")  # no band path: the Cortex-M0/M0+/M23 take the general depthwise


def runs_band(target) -> bool:
    """Whether the target's build takes the band path (EDGEC_DW3_BAND in edgec_dw3x3_band_s8.h)."""
    return "mve" not in target.features and target.arch not in NO_BAND_ARCHS


def transposes(stride: tuple[int, int], out_h: int, out_w: int) -> bool:
    """Whether the layer walks the map by columns (weight_layout "pairs_t")."""
    return stride == (1, 1) and out_w < TRANSPOSE_BELOW and out_h > out_w


def for_target(program: ir.Program, target) -> ir.Program:
    """The program with the depthwise layers the band path takes on this target set to weight_layout "pairs"
    (or "pairs_t", transposed)."""
    if not runs_band(target):
        return program

    def layout(op: ir.Op) -> ir.Op:
        if not (isinstance(op, ir.DepthwiseConv2D)
                and wants_pairs(op.weights.shape[:2], op.stride, op.dilation, op.depth_multiplier, op.weight_bits)
                and _fits(op)):
            return op
        shape = program.value(op.outputs[0]).shape
        name = "pairs_t" if transposes(op.stride, shape[1], shape[2]) else "pairs"
        return dataclasses.replace(op, weight_layout=name)

    return dataclasses.replace(program, ops=tuple(layout(op) for op in program.ops))
