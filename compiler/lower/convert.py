"""QUANTIZE (float32 -> int8) and DEQUANTIZE (int8 -> float32): the float edges of a model.

Both carry the int8 side's per-tensor (scale, zero point); kernels follow TFLite's reference
AffineQuantize (divide in float, round half away from zero) and Dequantize (multiply in double).
A requantizing QUANTIZE (int8 -> int8) is a 256-entry table (``ir.Lut``) of TFLite's Requantize.
"""

from __future__ import annotations

import numpy as np

from .. import ir
from ..graph import Graph, Operator, Tensor
from . import LoweringContext, register
from .common import int8_tensor_problem, static_shapes
from .lut_tables import requantize_table


def _int8_side(t: Tensor) -> str | None:
    """Problem with the int8 tensor of an edge conversion, or None."""
    problem = int8_tensor_problem(t)
    if problem:
        return problem
    if not -128 <= t.zero_point <= 127:
        return f"tensor {t.name!r} has zero point {t.zero_point} outside int8"
    return None


def _same_size(inp: Tensor, out: Tensor) -> str | None:
    if int(np.prod(inp.shape, dtype=np.int64)) != int(np.prod(out.shape, dtype=np.int64)):
        return f"input shape {list(inp.shape)} and output shape {list(out.shape)} hold different element counts"
    return None


def quantize_float_to_int8(graph: Graph, op: Operator) -> str | None:
    """QUANTIZE turns a float32 activation into per-tensor int8, or requantizes per-tensor int8 to int8."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if inp.dtype not in ("float32", "int8"):
        what = "requantization" if inp.quant is not None else "conversion"
        return (f"QUANTIZE {what} from {inp.dtype} to {out.dtype} is not supported "
                "(only float32 -> int8 and int8 -> int8)")
    if out.dtype != "int8":
        return f"QUANTIZE to {out.dtype} is not supported (only float32 -> int8 and int8 -> int8)"
    if inp.is_constant:
        return f"input {inp.name!r} is a constant tensor; QUANTIZE of a constant is not supported"
    return (_int8_side(inp) if inp.dtype == "int8" else None) or _int8_side(out) or _same_size(inp, out)


def dequantize_int8_to_float(graph: Graph, op: Operator) -> str | None:
    """DEQUANTIZE turns an int8 activation with per-tensor quantization into float32."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if inp.dtype != "int8" or out.dtype != "float32":
        return f"DEQUANTIZE from {inp.dtype} to {out.dtype} is not supported (only int8 -> float32)"
    if inp.is_constant:
        return f"input {inp.name!r} is a constant tensor; DEQUANTIZE of a constant is not supported"
    return _int8_side(inp) or _same_size(inp, out)


@register("QUANTIZE", quantize_float_to_int8, static_shapes)
def lower_quantize(ctx: LoweringContext, op: Operator) -> None:
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if inp.dtype == "int8":
        table = requantize_table(inp.scale, inp.zero_point, out.scale, out.zero_point)
        ctx.emit(ir.Lut(name=out.name, inputs=(ctx.value(inp.index),), outputs=(ctx.value(out.index),),
                        table=table, source_op=op.op))
        return
    ctx.emit(ir.Quantize(name=out.name, inputs=(ctx.value(op.inputs[0]),), outputs=(ctx.value(op.outputs[0]),),
                         scale=out.scale, zero_point=out.zero_point))


@register("DEQUANTIZE", dequantize_int8_to_float, static_shapes)
def lower_dequantize(ctx: LoweringContext, op: Operator) -> None:
    inp, out = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    ctx.emit(ir.Dequantize(name=out.name, inputs=(ctx.value(op.inputs[0]),), outputs=(ctx.value(op.outputs[0]),),
                           scale=inp.scale, zero_point=inp.zero_point))
