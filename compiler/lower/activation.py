"""Unary int8 activations as one 256-entry lookup table each (``ir.Lut``, C kernel ``edgec_lut_s8``).

RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, HARD_SWISH, LOGISTIC and TANH map each int8 input to one int8
output that depends only on that input and the tensors' quantization, so the whole op is a table;
:mod:`compiler.lower.lut_tables` fills it by running the reference kernel's algorithm on all 256 inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import ir
from ..graph import Graph, Operator, Tensor
from . import LoweringContext, register
from .common import int8_tensor_problem, static_shapes
from .lut_tables import hard_swish_params, hard_swish_table, leaky_relu_table, logistic_table, relu_table, tanh_table

LOGISTIC_OUTPUT_SCALE = 1.0 / 256.0


def _io(graph: Graph, op: Operator) -> tuple[Tensor, Tensor]:
    return graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]


# ---- support checks (docstrings are the user-facing rules) ----

def unary_int8(graph: Graph, op: Operator) -> str | None:
    """One int8 activation in, one int8 tensor of the same size out, both quantized per tensor (the op runs as a
    256-entry table, C kernel `edgec_lut_s8`; int16 and float activations are not supported)."""
    if len(op.inputs) != 1 or op.inputs[0] < 0 or len(op.outputs) != 1:
        return f"{op.op} takes one input and one output, got {len(op.inputs)} and {len(op.outputs)}"
    inp, out = _io(graph, op)
    if inp.is_constant:
        return f"input {inp.name!r} is a constant tensor; edgec does not fold constant expressions"
    problem = int8_tensor_problem(inp) or int8_tensor_problem(out)
    if problem:
        return problem
    if math.prod(inp.shape) != math.prod(out.shape):
        return f"input shape {list(inp.shape)} and output shape {list(out.shape)} differ in size"
    return None


def logistic_output_scale(graph: Graph, op: Operator) -> str | None:
    """LOGISTIC's int8 output scale is exactly 1/256 (TFLite refuses any other)."""
    out = graph.tensors[op.outputs[0]]
    if out.quant is not None and out.quant.scale and out.scale != LOGISTIC_OUTPUT_SCALE:
        return f"output scale {out.scale:g} is not 1/256"
    return None


def leaky_relu_alpha(graph: Graph, op: Operator) -> str | None:
    """LEAKY_RELU's alpha is a finite number."""
    alpha = op.options.get("alpha")
    if alpha is None or not math.isfinite(alpha):
        return f"alpha {alpha} is not a finite number"
    return None


def hard_swish_scales(graph: Graph, op: Operator) -> str | None:
    """HARD_SWISH's output scale is above the input scale / 128 (TFLite refuses a rescale of one or more)."""
    inp, out = _io(graph, op)
    if int8_tensor_problem(inp) or int8_tensor_problem(out):
        return None  # unary_int8 reports it
    _, exponent, _, _ = hard_swish_params(inp.scale, out.scale)
    if exponent > 0:
        return f"output scale {out.scale:g} is not above input scale {inp.scale:g} / 128"
    return None


_CHECKS = (unary_int8, static_shapes)


def emit_table(ctx: LoweringContext, op: Operator, table: np.ndarray) -> None:
    """One ``ir.Lut`` from the op's input to its output."""
    out = ctx.tensor(op.outputs[0])
    ctx.emit(ir.Lut(name=out.name, inputs=(ctx.value(op.inputs[0]),), outputs=(ctx.value(out.index),),
                    table=table, source_op=op.op))


def _register_table(op_name: str, make: Callable[[Operator, Tensor, Tensor], np.ndarray], *checks) -> None:
    def lower_op(ctx: LoweringContext, op: Operator) -> None:
        inp, out = _io(ctx.graph, op)
        emit_table(ctx, op, make(op, inp, out))

    lower_op.__name__ = f"lower_{op_name.lower()}"
    register(op_name, *_CHECKS, *checks)(lower_op)


def _relu(lower: float | None, upper: float | None) -> Callable[[Operator, Tensor, Tensor], np.ndarray]:
    return lambda op, i, o: relu_table(lower, upper, i.scale, i.zero_point, o.scale, o.zero_point)


_register_table("RELU", _relu(0.0, None))
_register_table("RELU6", _relu(0.0, 6.0))
_register_table("RELU_N1_TO_1", _relu(-1.0, 1.0))
_register_table("LEAKY_RELU", lambda op, i, o: leaky_relu_table(op.options["alpha"], i.scale, i.zero_point, o.scale,
                                                                o.zero_point), leaky_relu_alpha)
_register_table("HARD_SWISH", lambda op, i, o: hard_swish_table(i.scale, i.zero_point, o.scale, o.zero_point),
                hard_swish_scales)
_register_table("LOGISTIC", lambda op, i, o: logistic_table(i.scale, i.zero_point, o.scale, o.zero_point),
                logistic_output_scale)
_register_table("TANH", lambda op, i, o: tanh_table(i.scale, i.zero_point, o.scale, o.zero_point))
