"""A float numpy interpreter of a frontend Graph, run on batches, for calibration and evaluation.

It executes the float ops of the MLPerf Tiny float models (CONV_2D, DEPTHWISE_CONV_2D,
FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, ADD, RESHAPE, SOFTMAX) in float32 with TFLite's
layouts and padding rules, on a batch of samples at once (the model's batch axis of 1 becomes the
sample axis). Constant weights stored as int8 with a scale (weight-only "hybrid" float models such
as KWS's convolutions) are dequantized once.

:class:`FloatModel` holds the float constants in a mutable dict so the repairs (equalization, bias
correction) and the quantization study can swap weights and re-run; ``weight_transform`` lets a
caller run the graph with fake-quantized weights without copying the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..errors import UnsupportedModelError
from ..graph import Graph, Operator, Tensor
from ..modelbuilder import _activate, _patches

FLOAT_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD",
             "RESHAPE", "SOFTMAX")
WEIGHTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")

Observer = Callable[[int, np.ndarray], None]
"""Called with (tensor index, float values of the batch) for every activation the graph produces."""


def _float_constant(t: Tensor) -> np.ndarray:
    """A constant's float values; int8 weight-only constants are dequantized with their scales."""
    assert t.data is not None
    if t.dtype in ("float32", "float16", "float64"):
        return t.data.astype(np.float32)
    if t.quant is None:  # plain integer data: shapes and the like
        return t.data
    scale = np.asarray(t.quant.scale, dtype=np.float64)
    zp = np.asarray(t.quant.zero_point, dtype=np.float64)
    shape = [1] * t.data.ndim
    if len(scale) > 1:
        shape[t.quant.axis] = len(scale)
    return ((t.data.astype(np.float64) - zp.reshape(shape)) * scale.reshape(shape)).astype(np.float32)


@dataclass
class FloatModel:
    """A float graph ready to run: the Graph plus float copies of its constants (editable)."""

    graph: Graph
    constants: dict[int, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_graph(cls, graph: Graph) -> FloatModel:
        problems = []
        for op in graph.operators:
            if op.op not in FLOAT_OPS:
                problems.append(f"{graph.describe(op)}: the quantizer's float interpreter does not run {op.op}")
        for i in graph.inputs:
            if graph.tensor(i).dtype != "float32":
                problems.append(f"input {graph.tensor(i).name!r} is {graph.tensor(i).dtype}: the quantizer takes "
                                "float models (quantized models compile directly)")
        if problems:
            raise UnsupportedModelError(problems, list(FLOAT_OPS))
        consts = {t.index: _float_constant(t) for t in graph.tensors if t.is_constant}
        return cls(graph, consts)

    def copy(self) -> FloatModel:
        return FloatModel(self.graph, {k: v.copy() for k, v in self.constants.items()})

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.graph.tensor(self.graph.inputs[0]).shape

    def weighted_ops(self) -> list[Operator]:
        return [op for op in self.graph.operators if op.op in WEIGHTED_OPS]

    def run(self, x: np.ndarray, observer: Observer | None = None,
            weight_transform: Callable[[Operator, np.ndarray], np.ndarray] | None = None,
            activation_transform: Callable[[int, np.ndarray], np.ndarray] | None = None) -> dict[int, np.ndarray]:
        """Run a batch (samples first, each of the model's input shape without its batch 1).

        Returns every tensor's values by index. ``observer`` sees each activation as it is made;
        ``weight_transform(op, w)`` replaces an op's weights for this run (fake quantization);
        ``activation_transform(index, values)`` replaces an activation as it is made.
        """
        g = self.graph
        values: dict[int, np.ndarray] = {}
        x = np.asarray(x, dtype=np.float32)
        values[g.inputs[0]] = x.reshape(x.shape[0], *self.input_shape[1:])
        if observer:
            observer(g.inputs[0], values[g.inputs[0]])
        if activation_transform:
            values[g.inputs[0]] = activation_transform(g.inputs[0], values[g.inputs[0]])
        for op in g.operators:
            args = [values[i] if i in values else self.constants.get(i) if i >= 0 else None for i in op.inputs]
            if weight_transform is not None and op.op in WEIGHTED_OPS and args[1] is not None:
                args[1] = weight_transform(op, args[1])
            y = _RUN[op.op](op, args, g).astype(np.float32)
            values[op.outputs[0]] = y
            if observer:
                observer(op.outputs[0], y)
            if activation_transform:
                values[op.outputs[0]] = activation_transform(op.outputs[0], y)
        return values

    def outputs(self, x: np.ndarray, **kwargs: object) -> np.ndarray:
        """The first graph output for a batch."""
        return self.run(x, **kwargs)[self.graph.outputs[0]]  # type: ignore[arg-type]


def batches(data: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Consecutive batches of a (possibly memory-mapped) array, loaded one at a time."""
    for start in range(0, len(data), batch_size):
        yield np.asarray(data[start:start + batch_size], dtype=np.float32)


def _bias(args: list, channels: int) -> np.ndarray:
    return args[2] if len(args) > 2 and args[2] is not None else np.zeros(channels, dtype=np.float32)


def _conv(op: Operator, args: list, g: Graph) -> np.ndarray:
    x, w = args[0], args[1]
    o = op.options
    windows = _patches(x, w.shape[1:3], o["stride"], o["dilation"], o["padding"])  # N,OH,OW,KH,KW,C
    y = np.tensordot(windows, w, axes=([3, 4, 5], [1, 2, 3])) + _bias(args, w.shape[0])
    return _activate(y, o.get("activation", "NONE"))


def _depthwise(op: Operator, args: list, g: Graph) -> np.ndarray:
    x, w = args[0], args[1]
    o = op.options
    kh, kw, oc = w.shape[1:]
    windows = _patches(x, (kh, kw), o["stride"], o["dilation"], o["padding"])  # N,OH,OW,KH,KW,C
    wm = w.reshape(kh, kw, x.shape[-1], oc // x.shape[-1])
    y = np.einsum("nhwijc,ijcm->nhwcm", windows, wm).reshape(*windows.shape[:3], oc) + _bias(args, oc)
    return _activate(y, o.get("activation", "NONE"))


def _fully_connected(op: Operator, args: list, g: Graph) -> np.ndarray:
    x, w = args[0], args[1]
    y = x.reshape(-1, w.shape[1]) @ w.T + _bias(args, w.shape[0])
    if op.options.get("keep_num_dims"):
        y = y.reshape(*x.shape[:-1], w.shape[0])
    else:
        y = y.reshape(x.shape[0], -1)
    return _activate(y, op.options.get("activation", "NONE"))


def _pool(op: Operator, args: list, g: Graph) -> np.ndarray:
    o = op.options
    windows = _patches(args[0], o["filter"], o["stride"], (1, 1), o["padding"], fill=np.nan)
    reduce = np.nanmean if op.op == "AVERAGE_POOL_2D" else np.nanmax
    return _activate(reduce(windows, axis=(3, 4)), o.get("activation", "NONE"))


def _add(op: Operator, args: list, g: Graph) -> np.ndarray:
    return _activate(args[0] + args[1], op.options.get("activation", "NONE"))


def _reshape(op: Operator, args: list, g: Graph) -> np.ndarray:
    shape = g.tensor(op.outputs[0]).shape
    return args[0].reshape(args[0].shape[0], *shape[1:])


def _softmax(op: Operator, args: list, g: Graph) -> np.ndarray:
    logits = op.options.get("beta", 1.0) * args[0]
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


_RUN = {"CONV_2D": _conv, "DEPTHWISE_CONV_2D": _depthwise, "FULLY_CONNECTED": _fully_connected,
        "AVERAGE_POOL_2D": _pool, "MAX_POOL_2D": _pool, "ADD": _add, "RESHAPE": _reshape, "SOFTMAX": _softmax}
