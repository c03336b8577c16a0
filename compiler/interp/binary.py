"""Broadcasting two-operand int8 ops: ADD/SUB with broadcasting or a constant, MUL, PRELU.

Operands are expanded to the 4-D output walk of ``op.broadcast`` (a stride of 0 repeats an element),
then combined elementwise with the arithmetic of TFLite's reference kernels:

- ADD/SUB: :func:`compiler.interp.add.add_values` (SUB's input2 multiplier is negative).
- MUL: ``clamp(requantize((x1 + off1) * (x2 + off2), m, s) + off_out, act_min, act_max)``.
- PRELU: with ``v = x + off_in``: ``requantize(v, m_pos, s_pos)`` where ``v >= 0``, else
  ``requantize(v * (alpha + off_alpha), m_neg, s_neg)``; plus ``off_out``, clamped to int8.
"""

from __future__ import annotations

import numpy as np

from .. import ir
from ..fixedpoint import multiply_by_quantized_multiplier
from . import kernel
from .add import add_values


def expand(op: ir.Binary, inputs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Both operands (activations in order, constants from the op) as int64 arrays of the output walk."""
    pending = iter(inputs)
    dims = op.broadcast.out_dims
    grids = np.indices(dims).reshape(4, -1)
    result = []
    for constant, strides in ((op.constant1, op.broadcast.strides1), (op.constant2, op.broadcast.strides2)):
        data = (constant if constant is not None else next(pending)).astype(np.int64).ravel()
        index = (np.asarray(strides, dtype=np.int64)[:, None] * grids).sum(axis=0)
        result.append(data[index])
    return result[0], result[1]


@kernel(ir.OpKind.ADD_BROADCAST)
def add_broadcast(op: ir.AddBroadcast, *inputs: np.ndarray, out: ir.Value) -> np.ndarray:
    x1, x2 = expand(op, inputs)
    return add_values(op, x1, x2).astype(np.int8).reshape(out.shape)


@kernel(ir.OpKind.MUL)
def mul(op: ir.Mul, *inputs: np.ndarray, out: ir.Value) -> np.ndarray:
    x1, x2 = expand(op, inputs)
    product = (x1 + op.input1_offset) * (x2 + op.input2_offset)
    result = multiply_by_quantized_multiplier(product, op.output_multiplier, op.output_shift) + op.output_offset
    return np.clip(result, op.act_min, op.act_max).astype(np.int8).reshape(out.shape)


@kernel(ir.OpKind.PRELU)
def prelu(op: ir.PRelu, *inputs: np.ndarray, out: ir.Value) -> np.ndarray:
    x, alpha = expand(op, inputs)
    v = x + op.input_offset
    positive = multiply_by_quantized_multiplier(v, op.multiplier_pos, op.shift_pos)
    negative = multiply_by_quantized_multiplier(v * (alpha + op.alpha_offset), op.multiplier_neg, op.shift_neg)
    result = np.where(v >= 0, positive, negative) + op.output_offset
    return np.clip(result, -128, 127).astype(np.int8).reshape(out.shape)
