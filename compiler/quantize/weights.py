"""Weight quantization: symmetric, per channel (default) or per tensor, 8 bits ([-127, 127]) or 4 ([-7, 7]).

The scale of a channel is ``t / qmax`` for a clipping threshold ``t``: the largest magnitude
(``minmax``) or the threshold on a grid of 100 fractions of it that minimises the squared rounding
plus clipping error of that channel's own weights (``mse``; matters at 4 bits, where the largest
weight otherwise wastes most of the 15 levels). Channels are the output channels: axis 0 of
CONV_2D (OHWI) and FULLY_CONNECTED (OI) weights, axis 3 of DEPTHWISE_CONV_2D (1HWC) weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UsageError

WEIGHT_METHODS = ("minmax", "mse")
CHANNEL_AXIS = {"CONV_2D": 0, "FULLY_CONNECTED": 0, "DEPTHWISE_CONV_2D": 3}
_FRACTIONS = np.linspace(1.0, 0.2, 100)


@dataclass(frozen=True)
class QuantizedWeights:
    """Integer weights (int8 storage, values in [-qmax, qmax]) and their float32 scales (one per channel or one)."""

    q: np.ndarray
    scales: np.ndarray
    axis: int
    bits: int

    def dequantize(self) -> np.ndarray:
        shape = [1] * self.q.ndim
        if len(self.scales) > 1:
            shape[self.axis] = len(self.scales)
        return (self.q.astype(np.float64) * self.scales.astype(np.float64).reshape(shape)).astype(np.float32)

    @property
    def nbytes(self) -> int:
        """Bytes in flash: two 4-bit weights per byte (rounded up), or one byte per 8-bit weight."""
        return (self.q.size + 1) // 2 if self.bits == 4 else self.q.size


def qmax(bits: int) -> int:
    if bits not in (4, 8):
        raise UsageError(f"weights are quantized to 8 or 4 bits, not {bits}")
    return 2 ** (bits - 1) - 1


def _thresholds(channels: np.ndarray, q_max: int, method: str) -> np.ndarray:
    """One clipping threshold per row of ``channels`` (rows = channels, columns = that channel's weights)."""
    max_abs = np.abs(channels).max(axis=1)
    if method == "minmax":
        return max_abs
    if method != "mse":
        raise UsageError(f"unknown weight method {method!r}; choose one of {', '.join(WEIGHT_METHODS)}")
    best_t, best_err = max_abs.copy(), np.full(len(max_abs), np.inf)
    for f in _FRACTIONS:
        t = max_abs * f
        s = np.where(t > 0, t / q_max, 1.0)[:, None]
        err = ((np.clip(np.round(channels / s), -q_max, q_max) * s - channels) ** 2).sum(axis=1)
        better = err < best_err
        best_t[better], best_err[better] = t[better], err[better]
    return best_t


def quantize_weights(w: np.ndarray, axis: int, bits: int = 8, per_channel: bool = True,
                     method: str = "minmax", min_scales: np.ndarray | None = None) -> QuantizedWeights:
    """Symmetric quantization of float weights ``w`` with channels along ``axis``.

    ``min_scales`` (one per channel, or one) raises scales that are smaller: the bias of a channel
    with tiny weights and a large bias would otherwise not fit int32 at scale ``s_in * s_w`` (the
    converter makes the same adjustment).
    """
    q_max = qmax(bits)
    w = np.asarray(w, dtype=np.float64)
    rows = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1) if per_channel else w.reshape(1, -1)
    scales = np.asarray(_thresholds(rows, q_max, method) / q_max, dtype=np.float32)
    scales = np.where(scales > 0, scales, np.float32(1.0)).astype(np.float32)
    if min_scales is not None:
        floor = np.asarray(min_scales, dtype=np.float64)
        floor = floor if per_channel else np.array([floor.max()])
        scales = np.maximum(scales, floor).astype(np.float32)
    shape = [1] * w.ndim
    if per_channel:
        shape[axis] = w.shape[axis]
    q = np.clip(np.round(w / scales.astype(np.float64).reshape(shape)), -q_max, q_max).astype(np.int8)
    return QuantizedWeights(q, scales, axis, bits)


def fake_quantize(w: np.ndarray, axis: int, bits: int = 8, per_channel: bool = True,
                  method: str = "minmax") -> np.ndarray:
    """``w`` after quantizing and dequantizing (what the integer model computes with)."""
    return quantize_weights(w, axis, bits, per_channel, method).dequantize()
