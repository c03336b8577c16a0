"""Average and max pooling, int8 NHWC, as TFLite's reference_integer_ops::AveragePool / MaxPool.

Each output cell reduces the window ``[oy*stride - pad_top, +filter)`` x ``[ox*stride - pad_left,
+filter)`` clipped to the input: only cells inside the input count (no padding value is read).
The average divides the int32 sum by the cell count rounding half away from zero; both pools then
clamp to the fused activation range.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .. import ir
from . import kernel


def _taps(op: ir.Pool2D, x: np.ndarray, out: ir.Value) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per filter tap: the input each output cell reads (N, OH, OW, C) and whether it lies inside the input (OH, OW)."""
    _, in_h, in_w, _ = x.shape
    _, out_h, out_w, _ = out.shape
    (fh, fw), (sh, sw), (pt, pl) = op.filter, op.stride, op.padding
    for ky in range(fh):
        iy = np.arange(out_h) * sh - pt + ky
        vy = (iy >= 0) & (iy < in_h)
        for kx in range(fw):
            ix = np.arange(out_w) * sw - pl + kx
            vx = (ix >= 0) & (ix < in_w)
            rows = x[:, np.clip(iy, 0, in_h - 1)]
            values = rows[:, :, np.clip(ix, 0, in_w - 1)]
            yield values.astype(np.int64), vy[:, None] & vx[None, :]


@kernel(ir.OpKind.AVERAGE_POOL_2D)
def average_pool_2d(op: ir.AveragePool2D, x: np.ndarray, *, out: ir.Value) -> np.ndarray:
    acc = np.zeros(out.shape, dtype=np.int64)
    count = np.zeros(out.shape[1:3], dtype=np.int64)
    for values, valid in _taps(op, x, out):
        acc += np.where(valid[None, :, :, None], values, 0)
        count += valid
    assert count.min() > 0, f"{op.name}: a pooling window lies entirely outside the input"
    n = count[None, :, :, None]
    half = n // 2
    # C truncating division: (acc + n/2) / n when positive, (acc - n/2) / n otherwise.
    avg = np.where(acc > 0, (acc + half) // n, -((half - acc) // n))
    return np.clip(avg, op.act_min, op.act_max).astype(np.int8)


@kernel(ir.OpKind.MAX_POOL_2D)
def max_pool_2d(op: ir.MaxPool2D, x: np.ndarray, *, out: ir.Value) -> np.ndarray:
    best = np.full(out.shape, -128, dtype=np.int64)
    for values, valid in _taps(op, x, out):
        best = np.where(valid[None, :, :, None], np.maximum(best, values), best)
    return np.clip(best, op.act_min, op.act_max).astype(np.int8)
