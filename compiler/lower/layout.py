"""RESHAPE: the same bytes under the output tensor's (static) shape."""

from __future__ import annotations

import numpy as np

from .. import ir
from ..graph import Graph, Operator
from . import LoweringContext, register
from .common import static_shapes

RESHAPE_DTYPES = ("int8", "float32")


def reshape_tensors(graph: Graph, op: Operator) -> str | None:
    """RESHAPE moves an int8 or float32 activation (not a constant) to an output of the same dtype and size."""
    if not 1 <= len(op.inputs) <= 2 or len(op.outputs) != 1:
        return f"RESHAPE takes one or two inputs and one output, got {len(op.inputs)} and {len(op.outputs)}"
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if inp.is_constant:
        return f"input {inp.name!r} is a constant tensor; RESHAPE of a constant is not supported"
    if inp.dtype not in RESHAPE_DTYPES or out.dtype != inp.dtype:
        return f"RESHAPE from {inp.dtype} to {out.dtype} is not supported (int8 or float32, unchanged)"
    if int(np.prod(inp.shape, dtype=np.int64)) != int(np.prod(out.shape, dtype=np.int64)):
        return f"input shape {list(inp.shape)} and output shape {list(out.shape)} hold different element counts"
    return None


def reshape_static_target(graph: Graph, op: Operator) -> str | None:
    """The RESHAPE target shape is known when compiling: the shape input, if any, is a constant."""
    if len(op.inputs) == 2 and op.inputs[1] >= 0 and not graph.tensors[op.inputs[1]].is_constant:
        return f"the shape input {graph.tensors[op.inputs[1]].name!r} is computed at run time"
    return None


@register("RESHAPE", reshape_tensors, reshape_static_target, static_shapes)
def lower_reshape(ctx: LoweringContext, op: Operator) -> None:
    out = ctx.tensor(op.outputs[0])
    ctx.emit(ir.Reshape(name=out.name, inputs=(ctx.value(op.inputs[0]),), outputs=(ctx.value(op.outputs[0]),)))
