"""The numpy interpreter of the IR: the living definition of every op.

Slow and obvious on purpose. Each op family registers a kernel ``(op, inputs) -> output``
working on numpy arrays of the values' dtypes; :func:`run` executes a whole program. Every
lowering is checked against this before any C exists, and this is checked against TFLite's
reference interpreter; the C kernels are checked against this.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

import numpy as np

from .. import ir
from ..errors import UsageError

Kernel = Callable[..., np.ndarray]  # (op, *input arrays, out=Value) -> output array

KERNELS: dict[ir.OpKind, Kernel] = {}
_FAMILIES = ("conv", "pool", "add", "softmax", "layout", "convert", "movement", "reduce", "activation", "binary")


def kernel(kind: ir.OpKind) -> Callable[[Kernel], Kernel]:
    def wrap(fn: Kernel) -> Kernel:
        KERNELS[kind] = fn
        return fn

    return wrap


def _load_families() -> None:
    for family in _FAMILIES:
        importlib.import_module(f"{__name__}.{family}")


def run_op(op: ir.Op, inputs: Sequence[np.ndarray], out: ir.Value) -> np.ndarray:
    """One op: the kernel's result, checked for shape and dtype."""
    _load_families()
    result = KERNELS[op.kind](op, *inputs, out=out)
    assert result.shape == out.shape and result.dtype == np.dtype(out.dtype.value), (
        f"{op.kind.name} kernel returned {result.shape} {result.dtype}, expected {out.shape} {out.dtype.value}"
    )
    return result


def run(program: ir.Program, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Execute the program on input arrays (one per model input); returns the model outputs."""
    if len(inputs) != len(program.inputs):
        raise UsageError(f"the model takes {len(program.inputs)} input(s), {len(inputs)} given")
    env: dict[int, np.ndarray] = {}
    for vid, array in zip(program.inputs, inputs):
        v = program.value(vid)
        array = np.asarray(array)
        if array.shape != v.shape or array.dtype != np.dtype(v.dtype.value):
            raise UsageError(f"input {v.name!r} must be {v.dtype.value} {list(v.shape)}, "
                             f"got {array.dtype} {list(array.shape)}")
        env[vid] = array
    for op in program.ops:
        env[op.outputs[0]] = run_op(op, [env[i] for i in op.inputs], program.value(op.outputs[0]))
    return [env[vid] for vid in program.outputs]
