"""Data movement: strided slice, transpose, pad, concatenation. Bytes move unchanged; no arithmetic.

Each is written with numpy's own indexing (not the stride arithmetic the C kernel uses), so the
interpreter is an independent check of the strides codegen derives.
"""

from __future__ import annotations

import numpy as np

from .. import ir
from . import kernel


@kernel(ir.OpKind.STRIDED_SLICE)
def strided_slice(op: ir.StridedSlice, x: np.ndarray, *, out: ir.Value) -> np.ndarray:
    index = np.ix_(*(b + s * np.arange(n) for b, s, n in zip(op.begin, op.step, op.extent)))
    return x[index].reshape(out.shape).copy()


@kernel(ir.OpKind.TRANSPOSE)
def transpose(op: ir.Transpose, x: np.ndarray, *, out: ir.Value) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(x, op.perm))


@kernel(ir.OpKind.PAD)
def pad(op: ir.Pad, x: np.ndarray, *, out: ir.Value) -> np.ndarray:
    return np.pad(x, list(zip(op.before, op.after)), constant_values=np.int8(op.pad_value))


@kernel(ir.OpKind.CONCATENATION)
def concatenation(op: ir.Concatenation, *xs: np.ndarray, out: ir.Value) -> np.ndarray:
    return np.concatenate(xs, axis=op.axis)
