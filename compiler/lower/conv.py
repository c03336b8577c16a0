"""Lowering of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED to :class:`ir.Conv2D`, :class:`ir.DepthwiseConv2D`
and :class:`ir.FullyConnected`, with the support checks that must pass first.

What TFLite's int8 reference kernels compute, and how the IR holds it:

- Per output channel ``c`` the rescale is ``quantize_multiplier(double(s_in) * double(s_w[c]) / double(s_out))``
  (``PopulateConvolutionQuantizationParams``); per-tensor weights broadcast their one scale to every channel.
- The reference accumulates ``sum((x - zp_in) * w) + bias`` in int32, skipping taps outside the image. The IR
  folds the zero-point term into the bias (``bias - zp_in * sum(w)``) and lets out-of-image taps read
  ``pad_value = zp_in``, which contributes ``zp_in * w`` and so cancels exactly: the two agree modulo 2^32.
- DEPTHWISE_CONV_2D takes its depth multiplier from the shapes (``OC / IC``, TFLite's ``ComputeDepthMultiplier``),
  not from the option, and its weights ``[1, KH, KW, OC]`` become ``[KH, KW, OC]``.
- FULLY_CONNECTED views its input as ``[-1, IC]``; the output is ``[batches, OC]`` or, with ``keep_num_dims``,
  the input's shape with the last axis replaced by ``OC``.

Every check is a small named predicate whose docstring is the rule as users read it.
"""

from __future__ import annotations

import math

import numpy as np

from .. import ir
from ..fixedpoint import INT32_MAX, INT32_MIN, quantize_multiplier
from ..graph import Graph, Operator, Tensor
from . import LoweringContext, register
from .common import fused_range, int8_activations, leading_padding, output_size, static_shapes, supported_activation

PADDINGS = ("SAME", "VALID")
MAX_SHIFT = 30  # TFLite's MultiplyByQuantizedMultiplier handles left shifts up to 30
WEIGHT_AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}  # the output-channel axis


# ---- small accessors shared by checks and lowerings (tolerant of malformed operators) ----

def _input(graph: Graph, op: Operator, position: int) -> Tensor | None:
    """The operator's input tensor at ``position``, or None when absent (-1 or not given)."""
    if position >= len(op.inputs) or op.inputs[position] < 0:
        return None
    return graph.tensors[op.inputs[position]]


def _output(graph: Graph, op: Operator) -> Tensor | None:
    return graph.tensors[op.outputs[0]] if op.outputs else None


def _out_channels(graph: Graph, op: Operator) -> int | None:
    """Output channels as the weights give them, or None when the weights are unusable."""
    w = _input(graph, op, 1)
    if w is None or not w.shape:
        return None
    return int(w.shape[WEIGHT_AXIS[op.op]]) if len(w.shape) > WEIGHT_AXIS[op.op] else None


def _weight_scales(graph: Graph, op: Operator) -> np.ndarray:
    """One float scale per output channel (a per-tensor scale repeated)."""
    w = _input(graph, op, 1)
    oc = _out_channels(graph, op)
    assert w is not None and w.quant is not None and oc is not None
    scales = np.asarray(w.quant.scale, dtype=np.float64)
    return np.broadcast_to(scales, (oc,)) if scales.size == 1 else scales


def _effective_scales(graph: Graph, op: Operator) -> list[float]:
    """``double(s_in) * double(s_w[c]) / double(s_out)`` per output channel, in TFLite's order of operations."""
    x, out = _input(graph, op, 0), _output(graph, op)
    assert x is not None and out is not None
    return [float(x.scale) * float(s) / float(out.scale) for s in _weight_scales(graph, op)]


def _bias_or_zeros(graph: Graph, op: Operator, oc: int) -> np.ndarray:
    """The int32 bias as int64 values; zeros when the operator has none."""
    b = _input(graph, op, 2)
    if b is None or b.data is None:
        return np.zeros(oc, dtype=np.int64)
    return np.asarray(b.data, dtype=np.int64).reshape(oc)


def _folded_bias(graph: Graph, op: Operator) -> np.ndarray:
    """``bias[oc] - zp_in * sum(weights of oc)`` as int64 (range-checked by :func:`folded_bias_fits_int32`)."""
    x, w = _input(graph, op, 0), _input(graph, op, 1)
    assert x is not None and w is not None and w.data is not None
    axis = WEIGHT_AXIS[op.op]
    weights = np.moveaxis(np.asarray(w.data, dtype=np.int64), axis, 0)
    sums = weights.reshape(weights.shape[0], -1).sum(axis=1)
    return _bias_or_zeros(graph, op, weights.shape[0]) - int(x.zero_point) * sums


def _window(op: Operator) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """(padding, stride, dilation) options of a convolution; the pairs as given (checked by window_geometry)."""
    stride = tuple(int(v) for v in op.options.get("stride", (1, 1)))
    dilation = tuple(int(v) for v in op.options.get("dilation", (1, 1)))
    return str(op.options.get("padding", "")), stride, dilation


# ---- support checks (docstrings are the user-facing rules) ----

def int8_weights(graph: Graph, op: Operator) -> str | None:
    """Weights are a constant int8 (or int4) tensor with quantization scales."""
    w = _input(graph, op, 1)
    if w is None:
        return "the weights input is missing"
    if not w.is_constant:
        return f"weights {w.name!r} are not a constant tensor"
    if w.dtype not in ("int8", "int4"):
        return f"weights {w.name!r} are {w.dtype}; only int8 and int4 weights are supported"
    if w.quant is None or not w.quant.scale:
        return f"weights {w.name!r} have no quantization parameters"
    return None


def symmetric_weights(graph: Graph, op: Operator) -> str | None:
    """Weights are quantized symmetrically: every weight zero point is 0."""
    w = _input(graph, op, 1)
    if w is None or w.quant is None:
        return None  # reported by int8_weights
    nonzero = sorted({int(z) for z in w.quant.zero_point if int(z) != 0})
    if nonzero:
        return f"weights {w.name!r} have nonzero zero point(s) {nonzero[:4]}; only symmetric weights are supported"
    return None


def weight_scales_per_output_channel(graph: Graph, op: Operator) -> str | None:
    """Weight scales are per tensor, or one per output channel along the output-channel axis (axis 0 for
    CONV_2D and FULLY_CONNECTED, axis 3 for DEPTHWISE_CONV_2D), and every scale is positive and finite."""
    w = _input(graph, op, 1)
    if w is None or w.quant is None or not w.quant.scale:
        return None  # reported by int8_weights
    scales = w.quant.scale
    if not all(math.isfinite(s) and s > 0 for s in scales):
        return f"weights {w.name!r} have a zero, negative or non-finite scale"
    if len(scales) == 1:
        return None
    axis, oc = WEIGHT_AXIS[op.op], _out_channels(graph, op)
    if w.quant.axis != axis:
        return f"weights {w.name!r} are quantized per channel along axis {w.quant.axis}; {op.op} needs axis {axis}"
    if oc is None or len(scales) != oc:
        return f"weights {w.name!r} have {len(scales)} scales for {oc} output channels"
    return None


def int32_bias(graph: Graph, op: Operator) -> str | None:
    """The bias, when present, is a constant int32 tensor with zero point 0 and one value per output channel."""
    if len(op.inputs) > 3:
        return f"{op.op} takes at most 3 inputs, got {len(op.inputs)}"
    b = _input(graph, op, 2)
    if b is None:
        return None
    if not b.is_constant:
        return f"bias {b.name!r} is not a constant tensor"
    if b.dtype != "int32":
        return f"bias {b.name!r} is {b.dtype}; int8 layers need an int32 bias"
    if b.quant is not None and any(int(z) != 0 for z in b.quant.zero_point):
        return f"bias {b.name!r} has a nonzero zero point"
    oc = _out_channels(graph, op)
    if oc is not None and int(np.prod(b.shape, dtype=np.int64)) != oc:
        return f"bias {b.name!r} has shape {list(b.shape)}, expected {oc} values (one per output channel)"
    return None


def bias_scale_consistent(graph: Graph, op: Operator) -> str | None:
    """A quantized bias has scale input_scale * weight_scale[c] per output channel (within a relative 1e-6, TFLite's
    tolerance): the kernels add the bias to the accumulator as is, so any other scale would change its meaning."""
    b = _input(graph, op, 2)
    if b is None or b.quant is None or not b.quant.scale:
        return None
    if int8_weights(graph, op) or weight_scales_per_output_channel(graph, op) or _out_channels(graph, op) is None:
        return None  # the weights' own checks report that
    x = graph.tensors[op.inputs[0]]
    if x.quant is None or not x.quant.scale:
        return None
    expected = float(x.scale) * _weight_scales(graph, op).astype(np.float64)
    got = np.asarray(b.quant.scale, dtype=np.float64)
    if got.size not in (1, expected.size):
        return f"bias {b.name!r} has {got.size} scales for {expected.size} output channels"
    got = np.broadcast_to(got, expected.shape)
    bad = np.flatnonzero(np.abs(got - expected) > 1e-6 * np.minimum(got, expected))
    if bad.size:
        c = int(bad[0])
        return (f"bias {b.name!r} has scale {got[c]:.9g} on channel {c}, but input scale x weight scale is "
                f"{expected[c]:.9g}")
    return None


def int8_zero_points(graph: Graph, op: Operator) -> str | None:
    """Input and output zero points are within the int8 range [-128, 127]."""
    for t in (_input(graph, op, 0), _output(graph, op)):
        if t is not None and t.quant is not None and t.quant.zero_point and not -128 <= int(t.zero_point) <= 127:
            return f"tensor {t.name!r} has zero point {t.zero_point}, outside [-128, 127]"
    return None


def conv_shapes(graph: Graph, op: Operator) -> str | None:
    """CONV_2D: input and output are 4-D NHWC with the same batch; weights are [OC, KH, KW, IC] with IC equal to
    the input's channels (grouped convolution is not supported) and OC equal to the output's channels."""
    x, w, out = _input(graph, op, 0), _input(graph, op, 1), _output(graph, op)
    if x is None or w is None or out is None:
        return "CONV_2D needs an input, weights and an output"
    if len(x.shape) != 4 or len(out.shape) != 4 or len(w.shape) != 4:
        return (f"input {list(x.shape)}, weights {list(w.shape)} and output {list(out.shape)} "
                "must all be 4-D (NHWC, OHWI)")
    if w.shape[3] != x.shape[3]:
        return (f"weights have {w.shape[3]} input channels but the input has {x.shape[3]} "
                "(grouped convolution is not supported)")
    if w.shape[0] != out.shape[3]:
        return f"weights have {w.shape[0]} output channels but the output has {out.shape[3]}"
    if x.shape[0] != out.shape[0]:
        return f"input batch {x.shape[0]} differs from output batch {out.shape[0]}"
    return None


def depthwise_shapes(graph: Graph, op: Operator) -> str | None:
    """DEPTHWISE_CONV_2D: input and output are 4-D NHWC with the same batch; weights are [1, KH, KW, OC] with OC a
    multiple of the input's channels (the depth multiplier) and equal to the output's channels."""
    x, w, out = _input(graph, op, 0), _input(graph, op, 1), _output(graph, op)
    if x is None or w is None or out is None:
        return "DEPTHWISE_CONV_2D needs an input, weights and an output"
    if len(x.shape) != 4 or len(out.shape) != 4 or len(w.shape) != 4:
        return (f"input {list(x.shape)}, weights {list(w.shape)} and output {list(out.shape)} "
                "must all be 4-D (NHWC, 1HWO)")
    if w.shape[0] != 1:
        return f"depthwise weights must be [1, KH, KW, OC], got {list(w.shape)}"
    ic, oc = x.shape[3], w.shape[3]
    if ic <= 0 or oc % ic != 0:
        return f"weights have {oc} output channels, not a multiple of the input's {ic} channels"
    if out.shape[3] != oc:
        return f"weights have {oc} output channels but the output has {out.shape[3]}"
    if x.shape[0] != out.shape[0]:
        return f"input batch {x.shape[0]} differs from output batch {out.shape[0]}"
    return None


def window_geometry(graph: Graph, op: Operator) -> str | None:
    """Padding is SAME or VALID, strides and dilations are positive, and the output's height and width are the
    ones that padding gives (TFLite's ComputeOutSize)."""
    padding, stride, dilation = _window(op)
    if padding not in PADDINGS:
        return f"padding {padding or 'missing'} is not supported (supported: {', '.join(PADDINGS)})"
    if len(stride) != 2 or len(dilation) != 2 or min(*stride, *dilation) < 1:
        return f"stride {list(stride)} and dilation {list(dilation)} must be positive (h, w) pairs"
    x, w, out = _input(graph, op, 0), _input(graph, op, 1), _output(graph, op)
    if x is None or w is None or out is None or len(x.shape) != 4 or len(w.shape) != 4 or len(out.shape) != 4:
        return None  # reported by the shape check
    expected = tuple(output_size(x.shape[1 + i], w.shape[1 + i], stride[i], dilation[i], padding) for i in (0, 1))
    if min(expected) < 1:
        return (f"the {w.shape[1]}x{w.shape[2]} window (dilation {list(dilation)}) does not fit the "
                f"{x.shape[1]}x{x.shape[2]} input with {padding} padding")
    if tuple(out.shape[1:3]) != expected:
        return (f"output is {out.shape[1]}x{out.shape[2]} but {padding} padding with stride {list(stride)} gives "
                f"{expected[0]}x{expected[1]}")
    return None


def fc_shapes(graph: Graph, op: Operator) -> str | None:
    """FULLY_CONNECTED: weights are 2-D [OC, IC]; the input's element count is a multiple of IC; the output is
    [batches, OC], or with keep_num_dims the input's shape with the last axis (which must be IC) replaced by OC."""
    x, w, out = _input(graph, op, 0), _input(graph, op, 1), _output(graph, op)
    if x is None or w is None or out is None:
        return "FULLY_CONNECTED needs an input, weights and an output"
    if len(w.shape) != 2 or min(w.shape) < 1:
        return f"weights must be 2-D [OC, IC], got {list(w.shape)}"
    oc, ic = w.shape
    size = int(np.prod(x.shape, dtype=np.int64))
    if size % ic != 0:
        return f"input {list(x.shape)} has {size} elements, not a multiple of the weights' {ic} input features"
    if op.options.get("keep_num_dims", False):
        if not x.shape or x.shape[-1] != ic:
            return f"keep_num_dims needs the input's last axis to be {ic}, got {list(x.shape)}"
        expected: tuple[int, ...] = (*x.shape[:-1], oc)
    else:
        expected = (size // ic, oc)
    if tuple(out.shape) != expected:
        return f"output shape {list(out.shape)} differs from {list(expected)} computed from the input and weights"
    return None


def fc_default_weights_format(graph: Graph, op: Operator) -> str | None:
    """FULLY_CONNECTED weights use the DEFAULT format (not the shuffled SHUFFLED4x16INT8 layout)."""
    fmt = op.options.get("weights_format", "DEFAULT")
    if fmt != "DEFAULT":
        return f"weights format {fmt} is not supported (only DEFAULT)"
    if len(op.outputs) != 1:
        return f"FULLY_CONNECTED must have exactly one output, got {len(op.outputs)}"
    return None


def rescale_in_range(graph: Graph, op: Operator) -> str | None:
    """The per-channel rescale input_scale * weight_scale / output_scale is below 2^30, so it fits a Q31
    multiplier with a left shift of at most 30."""
    x, w, out = _input(graph, op, 0), _input(graph, op, 1), _output(graph, op)
    for t in (x, w, out):
        if t is None or t.quant is None or not t.quant.scale:
            return None  # reported by the dtype checks
    assert x is not None and out is not None
    if not (math.isfinite(x.scale) and x.scale > 0 and math.isfinite(out.scale) and out.scale > 0):
        return "input and output scales must be positive and finite"
    if weight_scales_per_output_channel(graph, op) is not None or _out_channels(graph, op) is None:
        return None
    for c, eff in enumerate(_effective_scales(graph, op)):
        if not math.isfinite(eff) or quantize_multiplier(eff)[1] > MAX_SHIFT:
            return f"output channel {c} rescales by {eff:g}, too large for a Q31 multiplier (must be below 2^30)"
    return None


def folded_bias_fits_int32(graph: Graph, op: Operator) -> str | None:
    """The bias with the input zero-point term folded in, bias - input_zero_point * sum(weights of the channel),
    fits in int32."""
    for check in (int8_weights, int32_bias, weight_scales_per_output_channel):
        if check(graph, op) is not None:
            return None  # the folded bias cannot be computed; the failing check reports why
    x = _input(graph, op, 0)
    if x is None or x.quant is None or not x.quant.zero_point or _out_channels(graph, op) is None:
        return None
    try:
        folded = _folded_bias(graph, op)
    except ValueError:
        return None  # inconsistent shapes, reported by the shape checks
    bad = np.flatnonzero((folded < INT32_MIN) | (folded > INT32_MAX))
    if bad.size:
        return (f"output channel {int(bad[0])}: the bias with the input zero point folded in ({int(folded[bad[0]])}) "
                "does not fit in int32")
    return None


COMMON_CHECKS = (int8_activations, static_shapes, int8_zero_points, supported_activation, int8_weights,
                 symmetric_weights, weight_scales_per_output_channel, int32_bias, bias_scale_consistent,
                 rescale_in_range,
                 folded_bias_fits_int32)


# ---- lowerings ----

def weight_bits(w: Tensor) -> int:
    """4 for int4 weights (stored packed, run by the _s4 kernels), else 8."""
    return 4 if w.dtype == "int4" else 8


def _requant_arrays(graph: Graph, op: Operator) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel (multiplier, shift) as int32 arrays."""
    pairs = [quantize_multiplier(e) for e in _effective_scales(graph, op)]
    return (np.array([p[0] for p in pairs], dtype=np.int32), np.array([p[1] for p in pairs], dtype=np.int32))


def _padding(x: Tensor, w_hw: tuple[int, int], out: Tensor, op: Operator) -> tuple[int, int]:
    """(top, left) leading padding, as TFLite's ComputePaddingHeightWidth."""
    padding, stride, dilation = _window(op)
    top, left = (leading_padding(padding, x.shape[1 + i], out.shape[1 + i], stride[i], w_hw[i], dilation[i])
                 for i in (0, 1))
    return int(top), int(left)


def _window_fields(graph: Graph, op: Operator, kernel_hw: tuple[int, int]) -> dict:
    """The fields Conv2D and DepthwiseConv2D share: rescale, geometry, zero points and clamp."""
    x, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    multiplier, shift = _requant_arrays(graph, op)
    act_min, act_max = fused_range(graph, op)
    _, stride, dilation = _window(op)
    return {
        "name": out.name,
        "bias": _folded_bias(graph, op).astype(np.int32),
        "multiplier": multiplier,
        "shift": shift,
        "stride": (int(stride[0]), int(stride[1])),
        "dilation": (int(dilation[0]), int(dilation[1])),
        "padding": _padding(x, kernel_hw, out, op),
        "pad_value": int(x.zero_point),
        "output_offset": int(out.zero_point),
        "act_min": act_min,
        "act_max": act_max,
    }


@register("CONV_2D", *COMMON_CHECKS, conv_shapes, window_geometry)
def lower_conv2d(ctx: LoweringContext, op: Operator) -> None:
    """CONV_2D -> ir.Conv2D (weights OHWI as in the file)."""
    graph = ctx.graph
    w, out = graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    assert w.data is not None
    _, kh, kw, ic = w.shape
    ctx.emit(ir.Conv2D(
        inputs=(ctx.value(op.inputs[0]),),
        outputs=(ctx.value(op.outputs[0]),),
        weights=np.ascontiguousarray(w.data, dtype=np.int8),
        macs_=int(np.prod(out.shape, dtype=np.int64)) * kh * kw * ic,
        weight_bits=weight_bits(w),
        **_window_fields(graph, op, (kh, kw)),
    ))


@register("DEPTHWISE_CONV_2D", *COMMON_CHECKS, depthwise_shapes, window_geometry)
def lower_depthwise_conv2d(ctx: LoweringContext, op: Operator) -> None:
    """DEPTHWISE_CONV_2D -> ir.DepthwiseConv2D (weights [1, KH, KW, OC] -> [KH, KW, OC]; multiplier from shapes)."""
    graph = ctx.graph
    x, w, out = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    assert w.data is not None
    kh, kw, oc = w.shape[1:]
    ctx.emit(ir.DepthwiseConv2D(
        inputs=(ctx.value(op.inputs[0]),),
        outputs=(ctx.value(op.outputs[0]),),
        weights=np.ascontiguousarray(np.asarray(w.data, dtype=np.int8).reshape(kh, kw, oc)),
        depth_multiplier=oc // x.shape[3],
        macs_=int(np.prod(out.shape, dtype=np.int64)) * kh * kw,
        weight_bits=weight_bits(w),
        **_window_fields(graph, op, (kh, kw)),
    ))


@register("FULLY_CONNECTED", *COMMON_CHECKS, fc_shapes, fc_default_weights_format)
def lower_fully_connected(ctx: LoweringContext, op: Operator) -> None:
    """FULLY_CONNECTED -> ir.FullyConnected (input viewed as [-1, IC]; per-channel double rescale as TFLite's
    reference kernel, see ir.FullyConnected)."""
    graph = ctx.graph
    w, out = graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    assert w.data is not None
    ic = w.shape[1]
    act_min, act_max = fused_range(graph, op)
    ctx.emit(ir.FullyConnected(
        name=out.name,
        inputs=(ctx.value(op.inputs[0]),),
        outputs=(ctx.value(op.outputs[0]),),
        weights=np.ascontiguousarray(w.data, dtype=np.int8),
        bias=_folded_bias(graph, op).astype(np.int32),
        scale=np.array(_effective_scales(graph, op), dtype=np.float64),
        output_offset=int(out.zero_point),
        act_min=act_min,
        act_max=act_max,
        macs_=int(np.prod(out.shape, dtype=np.int64)) * ic,
        weight_bits=weight_bits(w),
    ))
