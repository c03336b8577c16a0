"""TFLite's dense int4 packing, shared by the model builder, the reader and the IR.

The values of a tensor, flattened in its order, are stored two per byte: element 2k in the low
nibble of byte k, element 2k+1 in the high nibble, each a two's-complement value in [-8, 7]; an
odd count leaves the last high nibble 0. ``ceil(count / 2)`` bytes.
"""

from __future__ import annotations

import math

import numpy as np

INT4_MIN, INT4_MAX = -8, 7


def packed_size(count: int) -> int:
    return (count + 1) // 2


def pack_int4(values: np.ndarray) -> np.ndarray:
    """The packed bytes (uint8) of integer ``values`` in [-8, 7]."""
    flat = (np.asarray(values).reshape(-1).astype(np.int64) & 0xF).astype(np.uint8)
    if flat.size % 2:
        flat = np.append(flat, np.uint8(0))
    return (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8)


def unpack_int4(packed: bytes | np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """int8 values of shape ``shape`` from packed bytes (exactly ``packed_size`` of them)."""
    raw = np.frombuffer(bytes(packed), dtype=np.uint8).astype(np.int16)
    count = math.prod(shape)
    if raw.size != packed_size(count):
        raise ValueError(f"{raw.size} bytes cannot hold exactly {count} int4 values")
    nibbles = np.empty(2 * raw.size, dtype=np.int16)
    nibbles[0::2], nibbles[1::2] = raw & 0xF, raw >> 4
    return ((nibbles[:count] ^ 8) - 8).astype(np.int8).reshape(shape)


# The nibble-group layout the _s4 convolution and fully connected kernels read (runtime_c/src/int4/edgec_s4_common.h).
#
# A row of K weights is padded with zeros to K8 = K rounded up to a multiple of 8 and stored as K8 / 8 little-endian
# 32-bit words, one per group of eight taps x[8g..8g+7]. On the DSP extension the kernel splits a word W into four
# SMLAD operands (W << 4t) & 0xF000F000, t = 0..3 (one AND each): two nibbles per operand, each at the top of its
# halfword, so sign-extended and scaled by 4096 for free. Operand t meets the input halfword pair t of the group as
# SXTB16 unpacks it: (x0, x2), (x1, x3), (x4, x6), (x5, x7). So nibble n of W (bits 4n..4n+3) holds tap
# TAP_OF_NIBBLE[n]: operand t takes nibbles 3 - t (low halfword) and 7 - t (high halfword).
TAP_OF_NIBBLE = (5, 4, 1, 0, 7, 6, 3, 2)
FC_ROWS = 4  # the fully connected kernel's rows per block (out_features padded to a multiple of it)


def padded_depth(k: int) -> int:
    """K rounded up to a multiple of 8: the taps a row holds in the nibble-group layout."""
    return (k + 7) // 8 * 8


def group_words(rows: np.ndarray) -> np.ndarray:
    """uint32 [R, K8 / 8]: the nibble-group words of int rows [R, K] (values in [-8, 7]), zero-padded to K8."""
    rows = np.asarray(rows).astype(np.int64)
    r, k = rows.shape
    padded = np.zeros((r, padded_depth(k)), dtype=np.int64)
    padded[:, :k] = rows
    groups = padded.reshape(r, -1, 8) & 0xF
    words = np.zeros(groups.shape[:2], dtype=np.uint64)
    for n, tap in enumerate(TAP_OF_NIBBLE):
        words |= groups[:, :, tap].astype(np.uint64) << np.uint64(4 * n)
    return words.astype(np.uint32)


def _bytes(words: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(words.astype("<u4")).reshape(-1).view(np.uint8).copy()


def conv_weights_s4(weights: np.ndarray) -> np.ndarray:
    """uint8 flash bytes of int4 OHWI conv weights [OC, KH, KW, IC] for edgec_convolve_s4: per output channel its
    K = KH * KW * IC taps as K8 / 8 nibble-group words (OC * K8 / 2 bytes)."""
    oc = weights.shape[0]
    return _bytes(group_words(np.asarray(weights).reshape(oc, -1)))


def fc_weights_s4(weights: np.ndarray) -> np.ndarray:
    """uint8 flash bytes of int4 fully connected weights [OC, IC] for edgec_fully_connected_s4: the rows padded with
    zero rows to a multiple of FC_ROWS; per block of FC_ROWS rows and per group g the FC_ROWS rows' words of group g
    (row order), so the kernel reads one block's words in sequence ((OC rounded up to 4) * K8 / 2 bytes)."""
    oc, ic = weights.shape
    oc4 = (oc + FC_ROWS - 1) // FC_ROWS * FC_ROWS
    rows = np.zeros((oc4, ic), dtype=np.int64)
    rows[:oc] = weights
    words = group_words(rows)  # [OC4, G]
    return _bytes(words.reshape(oc4 // FC_ROWS, FC_ROWS, -1).transpose(0, 2, 1))


def nibble_group_values(words: np.ndarray, k: int) -> np.ndarray:
    """The inverse of group_words for one row: int8 [K] from its uint32 words (for tests and checks)."""
    words = np.asarray(words, dtype=np.uint64)
    taps = np.zeros((words.size, 8), dtype=np.int64)
    for n, tap in enumerate(TAP_OF_NIBBLE):
        taps[:, tap] = ((words >> np.uint64(4 * n)) & np.uint64(0xF)).astype(np.int64)
    return (((taps ^ 8) - 8).reshape(-1)[:k]).astype(np.int8)
