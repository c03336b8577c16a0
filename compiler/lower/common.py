"""Pieces shared by the op-family lowerings: padding, activation ranges and common support checks."""

from __future__ import annotations

import math

from ..fixedpoint import activation_range
from ..graph import Graph, Operator, Tensor

ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def same_padding(in_size: int, out_size: int, stride: int, filter_size: int, dilation: int = 1) -> int:
    """Leading padding as TFLite computes it (ComputePaddingHeightWidth): half the total, rounded down."""
    effective = (filter_size - 1) * dilation + 1
    total = max((out_size - 1) * stride + effective - in_size, 0)
    return total // 2


def output_size(in_size: int, filter_size: int, stride: int, dilation: int, padding: str) -> int:
    """Output extent of a window op for SAME or VALID padding (TFLite's ComputeOutSize)."""
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        return (in_size + stride - 1) // stride
    return (in_size - effective + stride) // stride


def leading_padding(padding: str, in_size: int, out_size: int, stride: int, filter_size: int,
                    dilation: int = 1) -> int:
    return same_padding(in_size, out_size, stride, filter_size, dilation) if padding == "SAME" else 0


def fused_range(graph: Graph, op: Operator) -> tuple[int, int]:
    """Integer clamp of the op's fused activation on its int8 output."""
    out = graph.tensors[op.outputs[0]]
    return activation_range(op.options.get("activation", "NONE"), out.scale, out.zero_point)


def int8_tensor_problem(t: Tensor) -> str | None:
    """What keeps ``t`` from being a per-tensor int8 operand (dtype, quantization, scale), or None."""
    if t.dtype != "int8":
        return f"tensor {t.name!r} is {t.dtype}; only int8 is supported (int16 and float tensors are not)"
    if t.quant is None or not t.quant.scale:
        return f"tensor {t.name!r} has no quantization parameters"
    if t.quant.per_channel:
        return f"tensor {t.name!r} is quantized per channel; only per-tensor quantization is supported here"
    if not (math.isfinite(t.scale) and t.scale > 0):
        return f"tensor {t.name!r} has scale {t.scale}; it must be positive and finite"
    return None


# ---- support checks shared by several families (docstrings are the user-facing rules) ----

def int8_activations(graph: Graph, op: Operator) -> str | None:
    """Activation inputs and outputs are int8 with per-tensor quantization."""
    for index in [i for i in op.inputs if i >= 0] + list(op.outputs):
        t = graph.tensors[index]
        if t.is_constant:
            continue
        if t.dtype != "int8":
            return f"tensor {t.name!r} is {t.dtype}; only int8 activations are supported"
        if t.quant is None or not t.quant.scale:
            return f"tensor {t.name!r} has no quantization parameters"
        if t.quant.per_channel:
            return f"activation tensor {t.name!r} is quantized per channel"
    return None


def supported_activation(graph: Graph, op: Operator) -> str | None:
    """The fused activation is NONE, RELU, RELU6 or RELU_N1_TO_1."""
    act = op.options.get("activation", "NONE")
    if act not in ACTIVATIONS:
        return f"fused activation {act} is not supported (supported: {', '.join(ACTIVATIONS)})"
    return None


def static_shapes(graph: Graph, op: Operator) -> str | None:
    """Every tensor has a fully known, positive shape."""
    for index in [i for i in op.inputs if i >= 0] + list(op.outputs):
        t = graph.tensors[index]
        if any(d <= 0 for d in t.shape):
            return f"tensor {t.name!r} has a dynamic or empty shape {list(t.shape)}"
    return None
