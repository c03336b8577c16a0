"""Elementwise int8 ADD (and SUB, whose input2 multiplier is negative), as TFLite's reference_integer_ops::AddFunc.

Each input is offset by its negated zero point, shifted left by ``left_shift`` (20) bits of
headroom, rescaled onto the shared grid of 2*max(input scale) by a multiplier below one; the sum
is rescaled to the output scale, offset by the output zero point and clamped.
"""

from __future__ import annotations

import numpy as np

from .. import ir
from ..fixedpoint import multiply_by_quantized_multiplier, wrap_int32
from . import kernel


def scaled_input(r: ir.AddRescale, which: int, x: np.ndarray) -> np.ndarray:
    """Input ``which`` (1 or 2)'s term on the shared grid: requantize((x + offset) << left_shift, m, s)."""
    offset, multiplier, shift = ((r.input1_offset, r.input1_multiplier, r.input1_shift) if which == 1 else
                                 (r.input2_offset, r.input2_multiplier, r.input2_shift))
    return multiply_by_quantized_multiplier((x.astype(np.int64) + offset) << r.left_shift, multiplier, shift)


def input_tables(r: ir.AddRescale) -> np.ndarray:
    """int32 [2, 256]: :func:`scaled_input` of both inputs for every int8 value, entry ``x + 128``."""
    every = np.arange(-128, 128, dtype=np.int64)
    return np.stack([scaled_input(r, 1, every), scaled_input(r, 2, every)]).astype(np.int32)


def _output(r: ir.AddRescale, raw_sum: np.ndarray) -> np.ndarray:
    """The sum of both rescaled terms to the output: rescaled, offset and clamped (int64)."""
    result = multiply_by_quantized_multiplier(raw_sum, r.output_multiplier, r.output_shift) + r.output_offset
    return np.clip(result, r.act_min, r.act_max)


def add_values(op: ir.Add | ir.AddBroadcast, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """The ADD arithmetic on two aligned operand arrays (int64 results, clamped)."""
    r = op.rescale
    return _output(r, wrap_int32(scaled_input(r, 1, x1) + scaled_input(r, 2, x2)))


@kernel(ir.OpKind.ADD)
def add(op: ir.Add, x1: np.ndarray, x2: np.ndarray, *, out: ir.Value) -> np.ndarray:
    if op.input_tables is None:
        return add_values(op, x1, x2).astype(np.int8).reshape(out.shape)
    # what edgec_add_table_s8 computes: the rescaled terms read from the tables
    terms = [table[x.astype(np.int64) + 128].astype(np.int64) for table, x in zip(op.input_tables, (x1, x2))]
    return _output(op.rescale, wrap_int32(terms[0] + terms[1])).astype(np.int8).reshape(out.shape)
