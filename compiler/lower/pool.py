"""AVERAGE_POOL_2D and MAX_POOL_2D: int8 NHWC pooling, windows clipped to the input (TFLite's reference)."""

from __future__ import annotations

from .. import ir
from ..graph import Graph, Operator
from . import LoweringContext, register
from .common import fused_range, int8_activations, leading_padding, output_size, static_shapes, supported_activation

PADDINGS = ("SAME", "VALID")


def pool_geometry(graph: Graph, op: Operator) -> str | None:
    """Pooling is 4-D NHWC with filter and stride >= 1, SAME or VALID padding and TFLite's output shape."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if len(inp.shape) != 4 or len(out.shape) != 4:
        return f"pooling needs 4-D NHWC tensors, got input {list(inp.shape)} and output {list(out.shape)}"
    padding = op.options.get("padding")
    if padding not in PADDINGS:
        return f"padding {padding} is not supported (SAME or VALID)"
    filt, stride = op.options.get("filter", (0, 0)), op.options.get("stride", (0, 0))
    if min(filt) < 1 or min(stride) < 1:
        return f"filter {tuple(filt)} and stride {tuple(stride)} must be at least 1"
    n, h, w, c = inp.shape
    expect = (n, output_size(h, filt[0], stride[0], 1, padding), output_size(w, filt[1], stride[1], 1, padding), c)
    if min(expect) < 1:
        return f"the {filt[0]}x{filt[1]} filter does not fit the {h}x{w} input with VALID padding"
    if tuple(out.shape) != expect:
        return f"output shape {list(out.shape)} differs from the {list(expect)} TFLite computes"
    return None


def pool_keeps_quantization(graph: Graph, op: Operator) -> str | None:
    """The pooling output has the input's scale and zero point (TFLite's kernels do not rescale)."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if inp.quant is None or out.quant is None:
        return None  # int8_activations reports it
    if abs(inp.scale - out.scale) > 1e-6 or inp.zero_point != out.zero_point:
        return (f"output quantization (scale {out.scale:g}, zero point {out.zero_point}) differs from the input's "
                f"(scale {inp.scale:g}, zero point {inp.zero_point}); TFLite pools without rescaling")
    return None


POOL_CHECKS = (int8_activations, static_shapes, supported_activation, pool_geometry, pool_keeps_quantization)


def _lower_pool(ctx: LoweringContext, op: Operator, cls: type[ir.Pool2D]) -> None:
    graph = ctx.graph
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    (fh, fw), (sh, sw), padding = op.options["filter"], op.options["stride"], op.options["padding"]
    pad_top = leading_padding(padding, inp.shape[1], out.shape[1], sh, fh)
    pad_left = leading_padding(padding, inp.shape[2], out.shape[2], sw, fw)
    act_min, act_max = fused_range(graph, op)
    ctx.emit(cls(
        name=out.name,
        inputs=(ctx.value(op.inputs[0]),),
        outputs=(ctx.value(op.outputs[0]),),
        filter=(int(fh), int(fw)),
        stride=(int(sh), int(sw)),
        padding=(pad_top, pad_left),
        act_min=act_min,
        act_max=act_max,
    ))


@register("AVERAGE_POOL_2D", *POOL_CHECKS)
def lower_average_pool_2d(ctx: LoweringContext, op: Operator) -> None:
    _lower_pool(ctx, op, ir.AveragePool2D)


@register("MAX_POOL_2D", *POOL_CHECKS)
def lower_max_pool_2d(ctx: LoweringContext, op: Operator) -> None:
    _lower_pool(ctx, op, ir.MaxPool2D)
