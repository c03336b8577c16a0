"""Write the quantized model: a float Graph, activation ranges and per-layer weight choices -> int8 .tflite bytes.

Uses the project's :class:`~compiler.modelbuilder.ModelBuilder`; the result has the converter's
int8 conventions: int8 input and output (``inference_input_type = int8``), weights symmetric in
[-127, 127] (or int4 in [-7, 7]), int32 biases with scale ``float32(s_in) * s_w`` and zero point 0,
activations asymmetric int8 with ranges widened to contain 0, pools and reshapes keeping their
input's parameters, softmax output at scale 1/256 and zero point -128.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..graph import Operator
from ..modelbuilder import SOFTMAX_OUTPUT_QPARAMS, ModelBuilder, QParams, qparams_from_range
from .floatexec import FloatModel
from .weights import CHANNEL_AXIS, QuantizedWeights

_NEW_BIAS = -2  # marks a bias the float model lacks and the writer adds

SAME_PARAMS_OPS = ("AVERAGE_POOL_2D", "MAX_POOL_2D", "RESHAPE")
"""Ops whose int8 output must carry exactly the input's scale and zero point."""


@dataclass(frozen=True)
class LayerWeights:
    """What the writer stores for one weighted op: its quantized weights and float bias."""

    weights: QuantizedWeights
    bias: np.ndarray


def activation_qparams(model: FloatModel, ranges: dict[int, tuple[float, float]]) -> dict[int, QParams]:
    """Int8 (scale, zero point) of every activation, following the ops' constraints in graph order."""
    g = model.graph
    out: dict[int, QParams] = {i: qparams_from_range(*ranges[i]) for i in g.inputs}
    for op in g.operators:
        y = op.outputs[0]
        if op.op in SAME_PARAMS_OPS:
            out[y] = out[op.inputs[0]]
        elif op.op == "SOFTMAX":
            out[y] = SOFTMAX_OUTPUT_QPARAMS
        else:
            out[y] = qparams_from_range(*ranges[y])
    return out


def bias_scales(input_scale: float, weight_scales: np.ndarray) -> np.ndarray:
    """TFLite's bias scale: float32(input scale) times each float32 weight scale, in float32."""
    return (np.float32(input_scale) * weight_scales.astype(np.float32)).astype(np.float32)


def quantize_bias(bias: np.ndarray, input_scale: float, weight_scales: np.ndarray) -> np.ndarray:
    scales = np.broadcast_to(bias_scales(input_scale, weight_scales), bias.shape)
    q = np.round(bias.astype(np.float64) / scales.astype(np.float64))
    return np.clip(q, -(2 ** 31) + 1, 2 ** 31 - 1).astype(np.int32)


def write_model(model: FloatModel, qparams: dict[int, QParams], layers: dict[int, LayerWeights],
                description: str = "edgec quantize") -> bytes:
    """The int8 model's bytes; ``layers`` maps each weighted op's index to its quantized weights and bias."""
    g = model.graph
    mb = ModelBuilder(description)
    index: dict[int, int] = {}
    for i in g.inputs:
        t = g.tensor(i)
        index[i] = mb.input(t.name, t.shape, "int8", *qparams[i])
    for op in g.operators:
        operands = list(op.inputs)
        if op.index in layers and (len(operands) < 3 or operands[2] < 0):  # int8 kernels want a bias: zeros
            operands = [*operands[:2], _NEW_BIAS]
        inputs = [_operand(mb, model, op, position, i, index, qparams, layers) for position, i in enumerate(operands)]
        y = g.tensor(op.outputs[0])
        index[y.index] = mb.tensor(y.name, y.shape, "int8", *qparams[y.index])
        mb.op(op.op, inputs, [index[y.index]], **_builder_options(op))
    for i in g.outputs:
        mb.output(index[i])
    return mb.build()


def _operand(mb: ModelBuilder, model: FloatModel, op: Operator, position: int, i: int, index: dict[int, int],
             qparams: dict[int, QParams], layers: dict[int, LayerWeights]) -> int:
    if i == -1:
        return -1
    if i in index:
        return index[i]
    if op.index in layers and position == 1:
        t = model.graph.tensor(i)
        qw = layers[op.index].weights
        scales = qw.scales if len(qw.scales) > 1 else qw.scales[:1]
        return mb.const(t.name, qw.q, "int4" if qw.bits == 4 else "int8", scales,
                        np.zeros(len(scales), dtype=np.int64), quantized_dimension=CHANNEL_AXIS[op.op])
    if op.index in layers and position == 2:
        lw = layers[op.index]
        in_scale = qparams[op.inputs[0]][0]
        q = quantize_bias(lw.bias, in_scale, lw.weights.scales)
        scales = bias_scales(in_scale, lw.weights.scales)
        name = f"{model.graph.tensor(op.outputs[0]).name}/bias" if i == _NEW_BIAS else model.graph.tensor(i).name
        return mb.const(name, q, "int32", scales, np.zeros(len(scales), dtype=np.int64), quantized_dimension=0)
    # Any other constant (a RESHAPE's shape) is copied as it is.
    return mb.const(model.graph.tensor(i).name, np.asarray(model.constants[i]))


def _builder_options(op: Operator) -> dict[str, object]:
    """The frontend's normalised options, renamed to the builder's keywords."""
    o = op.options
    act = o.get("activation", "NONE")
    if op.op == "CONV_2D":
        return {"padding": o["padding"], "stride": o["stride"], "dilation": o["dilation"], "activation": act}
    if op.op == "DEPTHWISE_CONV_2D":
        return {"padding": o["padding"], "stride": o["stride"], "dilation": o["dilation"], "activation": act,
                "depth_multiplier": o.get("depth_multiplier", 1)}
    if op.op == "FULLY_CONNECTED":
        return {"activation": act, "keep_num_dims": o.get("keep_num_dims", False)}
    if op.op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        return {"filter_size": o["filter"], "padding": o["padding"], "stride": o["stride"], "activation": act}
    if op.op == "ADD":
        return {"activation": act}
    if op.op == "RESHAPE":
        return {"new_shape": o.get("new_shape")} if o.get("new_shape") else {}
    if op.op == "SOFTMAX":
        return {"beta": o.get("beta", 1.0)}
    return {}
