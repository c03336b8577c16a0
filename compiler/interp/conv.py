"""Numpy kernels of the convolution family: Conv2D, DepthwiseConv2D, FullyConnected.

Each follows the IR's definition literally: ``acc = bias[oc] + sum(x * w)`` with out-of-image taps reading
``pad_value``, wrapped to int32 as the reference's int32 accumulator, then
``requantize(acc, multiplier[oc], shift[oc]) + output_offset`` clamped to ``[act_min, act_max]``.

Vectorised enough for real layers: the input is padded with ``pad_value`` once, the windows are gathered
with fancy indexing (im2col), and the dot products of conv and fully connected run as float64 matrix
products. That is exact: every product of two int8 values is at most 2^14 in magnitude, so any sum of fewer
than 2^39 of them is an integer below 2^53, which float64 holds exactly.
"""

from __future__ import annotations

import numpy as np

from .. import ir
from ..fixedpoint import requantize, requantize_double, wrap_int32
from . import kernel


def _windows(x: np.ndarray, kernel_hw: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
             padding: tuple[int, int], out_hw: tuple[int, int], pad_value: int) -> np.ndarray:
    """im2col: the input taps of every output position, shape (N, OH, OW, KH, KW, C), padding read as pad_value.

    The bottom/right padding is whatever the output extent needs beyond the input (zero if none).
    """
    _, h, w, _ = x.shape
    kh, kw = kernel_hw
    oh, ow = out_hw
    rows = np.arange(oh)[:, None] * stride[0] + np.arange(kh)[None, :] * dilation[0]  # in padded coordinates
    cols = np.arange(ow)[:, None] * stride[1] + np.arange(kw)[None, :] * dilation[1]
    pad_bottom = max(int(rows.max()) + 1 - padding[0] - h, 0)
    pad_right = max(int(cols.max()) + 1 - padding[1] - w, 0)
    padded = np.pad(x, ((0, 0), (padding[0], pad_bottom), (padding[1], pad_right), (0, 0)),
                    mode="constant", constant_values=pad_value)
    return padded[:, rows[:, None, :, None], cols[None, :, None, :], :]


def _finish(acc: np.ndarray, op: ir.Conv2D | ir.DepthwiseConv2D) -> np.ndarray:
    """int32 wrap, per-channel requantization (channels on the last axis), clamp, int8."""
    acc = wrap_int32(acc)
    out = requantize(acc, op.multiplier.astype(np.int64), op.shift.astype(np.int64), op.output_offset,
                     op.act_min, op.act_max)
    return out.astype(np.int8)


def _exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer matrix product a @ b of int8-range values, computed exactly in float64 and returned as int64."""
    return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)


@kernel(ir.OpKind.CONV_2D)
def conv2d(op: ir.Conv2D, x: np.ndarray, *, out: ir.Value) -> np.ndarray:
    """2-D convolution: NHWC input, OHWI weights, output geometry from ``out``."""
    n, oh, ow, oc = out.shape
    _, kh, kw, ic = op.weights.shape
    win = _windows(x, (kh, kw), op.stride, op.dilation, op.padding, (oh, ow), op.pad_value)
    cols = win.reshape(n * oh * ow, kh * kw * ic)
    acc = _exact_matmul(cols, op.weights.reshape(oc, kh * kw * ic).T) + op.bias.astype(np.int64)
    return _finish(acc, op).reshape(out.shape)


@kernel(ir.OpKind.DEPTHWISE_CONV_2D)
def depthwise_conv2d(op: ir.DepthwiseConv2D, x: np.ndarray, *, out: ir.Value) -> np.ndarray:
    """Depthwise convolution: output channel oc reads input channel oc // depth_multiplier."""
    _, oh, ow, _ = out.shape
    kh, kw, _ = op.weights.shape
    win = _windows(x, (kh, kw), op.stride, op.dilation, op.padding, (oh, ow), op.pad_value)
    win = np.repeat(win, op.depth_multiplier, axis=-1).astype(np.int64)  # channel c*m + j <- input channel c
    acc = np.einsum("nhwijc,ijc->nhwc", win, op.weights.astype(np.int64)) + op.bias.astype(np.int64)
    return _finish(acc, op)


@kernel(ir.OpKind.FULLY_CONNECTED)
def fully_connected(op: ir.FullyConnected, x: np.ndarray, *, out: ir.Value) -> np.ndarray:
    """out[b, o] = round(double(bias[o] + sum_i x[b, i] * w[o, i]) * scale[o]) + offset, clamped; input [batches, IC]."""
    ic = op.weights.shape[1]
    acc = wrap_int32(_exact_matmul(x.reshape(-1, ic), op.weights.T) + op.bias.astype(np.int64))
    y = requantize_double(acc, op.scale, op.output_offset, op.act_min, op.act_max)
    return y.astype(np.int8).reshape(out.shape)
