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
