"""Accuracy repairs around quantization: batch-norm folding, cross-layer equalization, bias correction.

* :func:`fold_batchnorm` (graph rewrite, before anything else): a CONV_2D, DEPTHWISE_CONV_2D or
  FULLY_CONNECTED without fused activation whose output feeds only a MUL by a per-channel constant
  and/or an ADD of one (batch norm left as arithmetic) becomes one op with ``w * gamma`` and
  ``b * gamma + beta`` and the last op's activation. Repeats until nothing matches.
* :func:`equalize` (Nagel et al. 2019): for a weighted op whose output goes only to a CONV_2D or
  FULLY_CONNECTED through no activation or a RELU (positively homogeneous, so
  ``relu(x / s) = relu(x) / s`` for s > 0), output channel i of the first is divided by
  ``s_i = sqrt(r1_i / r2_i)`` and input channel i of the second multiplied by it, where r1, r2 are
  the channel's weight ranges; both ranges become ``sqrt(r1_i * r2_i)``. The float function is
  unchanged everywhere (data free).

  RELU6 joins (only when calibration data is given): RELU6 is not homogeneous, and TFLite clips
  per tensor, so scaling channel i by 1/s_i turns what the second layer sees into
  ``min(relu(z_i), 6 s_i)`` instead of ``min(relu(z_i), 6)``. As in the data-free paper, such a
  channel is treated as a RELU where that is safe: with ``m_i`` the largest pre-activation of
  channel i over the calibration set (read from the RELU6 output; ``m_i < 6`` means it never
  reached the clip), a channel with ``m_i >= 6`` keeps ``s_i = 1``, and one with ``m_i < 6`` gets
  ``s_i = max(sqrt(r1_i / r2_i), m_i / 6)``, so that ``6 s_i >= m_i`` and neither clip is met on the
  calibration data (tracked through the iterations as ``m_i / s_i``). Preserved: the float
  function on every calibration sample (and any input whose pre-activations stay within the
  measured ``m_i``), up to float rounding. Not preserved: on inputs whose pre-activation in an
  equalized channel exceeds ``6 min(1, s_i)``; there the channel's effective clip has moved from 6
  to ``6 s_i`` (at or above the measured maximum). Channels that clip on the calibration data are
  not equalized, so a RELU6 join balances fewer channels than a RELU one.
* :func:`correct_biases` (empirical, Nagel et al. 2019 / Finkelstein et al. 2019): with float
  inputs from the calibration set, the mean pre-activation shift that weight rounding causes in
  output channel c is ``sum(E[window] * (W_q - W)[c])``; it is subtracted from the bias.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..graph import Graph, Operator, Tensor
from ..modelbuilder import _patches
from .floatexec import WEIGHTED_OPS, FloatModel, batches
from .weights import CHANNEL_AXIS
from .writer import LayerWeights

# --------------------------------------------------------------------------------------------------
# Batch-norm folding
# --------------------------------------------------------------------------------------------------


def _consumers(graph: Graph, tensor: int) -> list[Operator]:
    return [op for op in graph.operators if tensor in op.inputs]


def _channel_vector(graph: Graph, op: Operator, x: int, channels: int) -> np.ndarray | None:
    """The per-channel constant operand of a MUL/ADD whose other operand is ``x``, or None."""
    if len(op.inputs) != 2 or x not in op.inputs:
        return None
    other = graph.tensor(op.inputs[1] if op.inputs[0] == x else op.inputs[0])
    if not other.is_constant or other.data is None or other.data.dtype.kind != "f":
        return None
    if other.data.size not in (1, channels) or any(d != 1 for d in other.data.shape[:-1]):
        return None
    return np.broadcast_to(other.data.reshape(-1).astype(np.float32), (channels,))


def _float_data(t: Tensor) -> np.ndarray:
    from .floatexec import _float_constant

    return _float_constant(t)


def fold_batchnorm(graph: Graph) -> Graph:
    """The graph with every foldable batch-norm MUL/ADD absorbed into the weighted op before it."""
    while True:
        folded = _fold_one(graph)
        if folded is None:
            return graph
        graph = folded


def _fold_one(graph: Graph) -> Graph | None:
    for op in graph.operators:
        if op.op not in WEIGHTED_OPS or op.options.get("activation", "NONE") != "NONE":
            continue
        w_t = graph.tensor(op.inputs[1])
        axis = CHANNEL_AXIS[op.op]
        channels = w_t.shape[axis]
        y = op.outputs[0]
        users = _consumers(graph, y)
        if len(users) != 1 or users[0].op not in ("MUL", "ADD") or y in graph.outputs:
            continue
        nxt = users[0]
        vec = _channel_vector(graph, nxt, y, channels)
        if vec is None:
            continue
        w = _float_data(w_t)
        has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
        b = _float_data(graph.tensor(op.inputs[2])) if has_bias else np.zeros(channels, np.float32)
        if nxt.op == "MUL":
            shape = [1] * w.ndim
            shape[axis] = channels
            w, b = w * vec.reshape(shape), b * vec
        else:
            b = b + vec
        return _replace_op(graph, op, nxt, w.astype(np.float32), b.astype(np.float32))
    return None


def _replace_op(graph: Graph, op: Operator, absorbed: Operator, w: np.ndarray, b: np.ndarray) -> Graph:
    """The graph with ``op`` taking new weights and bias and ``absorbed``'s output and activation."""
    tensors = list(graph.tensors)
    w_index = op.inputs[1]
    tensors[w_index] = dataclasses.replace(graph.tensor(w_index), dtype="float32", quant=None, data=w)
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        b_index = op.inputs[2]
        tensors[b_index] = dataclasses.replace(graph.tensor(b_index), dtype="float32", quant=None, data=b)
    else:
        b_index = len(tensors)
        tensors.append(Tensor(b_index, f"{graph.tensor(op.outputs[0]).name}/folded_bias", b.shape, "float32",
                              data=b))
    options = dict(op.options)
    options["activation"] = absorbed.options.get("activation", "NONE")
    new_op = dataclasses.replace(op, inputs=(op.inputs[0], w_index, b_index), outputs=absorbed.outputs,
                                 options=options)
    ops = [new_op if o.index == op.index else o for o in graph.operators if o.index != absorbed.index]
    ops = [dataclasses.replace(o, index=i) for i, o in enumerate(ops)]
    return dataclasses.replace(graph, tensors=tuple(tensors), operators=tuple(ops))


# --------------------------------------------------------------------------------------------------
# Cross-layer equalization
# --------------------------------------------------------------------------------------------------

EQUALIZE_JOINS = ("NONE", "RELU")
RELU6_CLIP = 6.0


def equalization_pairs(model: FloatModel, relu6: bool = False) -> list[tuple[Operator, Operator]]:
    """(first, second) weighted ops that can be equalized: a single consumer, joined by NONE or RELU (and RELU6
    with ``relu6``, for :func:`equalize` with calibration data)."""
    g = model.graph
    joins = (*EQUALIZE_JOINS, "RELU6") if relu6 else EQUALIZE_JOINS
    pairs = []
    for op in model.weighted_ops():
        if op.options.get("activation", "NONE") not in joins or op.outputs[0] in g.outputs:
            continue
        if op.op == "DEPTHWISE_CONV_2D" and op.options.get("depth_multiplier", 1) != 1:
            continue
        users = _consumers(g, op.outputs[0])
        if len(users) == 1 and users[0].op in ("CONV_2D", "FULLY_CONNECTED") and users[0].inputs[0] == op.outputs[0]:
            pairs.append((op, users[0]))
    return pairs


def _output_channel_ranges(op: Operator, w: np.ndarray) -> np.ndarray:
    axis = CHANNEL_AXIS[op.op]
    return np.abs(np.moveaxis(w, axis, 0)).reshape(w.shape[axis], -1).max(axis=1)


def _input_channel_ranges(op: Operator, w: np.ndarray) -> np.ndarray:
    axis = w.ndim - 1  # OHWI and OI: input channels last
    return np.abs(np.moveaxis(w, axis, 0)).reshape(w.shape[axis], -1).max(axis=1)


def relu6_peaks(model: FloatModel, ops: list[Operator], data: np.ndarray, batch_size: int) -> dict[int, np.ndarray]:
    """For each of ``ops`` (RELU6 fused), the largest value of each output channel over ``data``, streamed."""
    peaks: dict[int, np.ndarray] = {}
    for batch in batches(data, batch_size):
        values = model.run(batch)
        for op in ops:
            y = values[op.outputs[0]]
            top = y.reshape(-1, y.shape[-1]).max(axis=0)
            peaks[op.index] = np.maximum(peaks[op.index], top) if op.index in peaks else top
    return peaks


def equalize(model: FloatModel, data: np.ndarray | None = None, batch_size: int = 32,
             iterations: int = 20) -> FloatModel:
    """A copy of the model with every equalization pair's channel ranges balanced.

    Without ``data`` only NONE/RELU joins are equalized and the function is unchanged everywhere; with
    calibration ``data`` RELU6 joins are too, keeping the function on that data (module docstring).
    """
    model = model.copy()
    pairs = equalization_pairs(model, relu6=data is not None)
    clipped = [first for first, _ in pairs if first.options.get("activation") == "RELU6"]
    peaks = relu6_peaks(model, clipped, data, batch_size) if clipped and data is not None else {}
    free = {i: m < RELU6_CLIP for i, m in peaks.items()}  # channels that never reached the clip
    for _ in range(iterations):
        for first, second in pairs:
            w1, w2 = model.constants[first.inputs[1]], model.constants[second.inputs[1]]
            r1, r2 = _output_channel_ranges(first, w1), _input_channel_ranges(second, w2)
            s = np.where((r1 > 0) & (r2 > 0), np.sqrt(r1 / np.maximum(r2, 1e-30)), 1.0).astype(np.float32)
            if first.index in peaks:
                m = peaks[first.index]
                s = np.where(free[first.index], np.maximum(s, m / RELU6_CLIP), 1.0).astype(np.float32)
                peaks[first.index] = m / s
            shape1 = [1] * w1.ndim
            shape1[CHANNEL_AXIS[first.op]] = len(s)
            model.constants[first.inputs[1]] = (w1 / s.reshape(shape1)).astype(np.float32)
            if len(first.inputs) > 2 and first.inputs[2] >= 0:
                model.constants[first.inputs[2]] = (model.constants[first.inputs[2]] / s).astype(np.float32)
            model.constants[second.inputs[1]] = (w2 * s).astype(np.float32)
    return model


# --------------------------------------------------------------------------------------------------
# Bias correction
# --------------------------------------------------------------------------------------------------


def _windows(op: Operator, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The op's input windows, samples and positions flattened: (count, window...)."""
    if op.op == "FULLY_CONNECTED":
        return x.reshape(-1, w.shape[1])
    kernel = w.shape[1:3]
    o = op.options
    win = _patches(x, kernel, o["stride"], o["dilation"], o["padding"])
    return win.reshape(-1, *win.shape[3:])


def mean_windows(model: FloatModel, data: np.ndarray, batch_size: int) -> dict[int, np.ndarray]:
    """For each weighted op, the mean over the data set of its float input windows."""
    ops = model.weighted_ops()
    sums: dict[int, np.ndarray] = {}
    counts: dict[int, int] = {}
    for batch in batches(data, batch_size):
        values = model.run(batch)
        for op in ops:
            win = _windows(op, values[op.inputs[0]], model.constants[op.inputs[1]]).astype(np.float64)
            sums[op.index] = sums.get(op.index, 0) + win.sum(axis=0)
            counts[op.index] = counts.get(op.index, 0) + win.shape[0]
    return {i: s / counts[i] for i, s in sums.items()}


def mean_shift(op: Operator, mean_window: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """The mean pre-activation shift per output channel caused by a weight error ``delta``."""
    if op.op == "FULLY_CONNECTED":
        return delta @ mean_window
    if op.op == "CONV_2D":
        return np.tensordot(delta, mean_window, axes=([1, 2, 3], [0, 1, 2]))
    kh, kw, oc = delta.shape[1:]
    m = oc // mean_window.shape[-1]
    window = np.repeat(mean_window, m, axis=-1)  # output channel c reads input channel c // m
    return (delta.reshape(kh, kw, oc) * window).sum(axis=(0, 1))


def correct_biases(model: FloatModel, layers: dict[int, LayerWeights], data: np.ndarray,
                   batch_size: int) -> dict[int, LayerWeights]:
    """Layers whose float biases compensate the mean output shift of their rounded weights."""
    means = mean_windows(model, data, batch_size)
    out = {}
    for op in model.weighted_ops():
        lw = layers[op.index]
        delta = lw.weights.dequantize().astype(np.float64) - model.constants[op.inputs[1]].astype(np.float64)
        shift = mean_shift(op, means[op.index], delta)
        out[op.index] = LayerWeights(lw.weights, (lw.bias - shift).astype(np.float32))
    return out


