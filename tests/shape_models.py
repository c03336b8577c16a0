"""Single-op int8 models of the shape, data-movement and MEAN ops, written with the ModelBuilder.

Each helper returns .tflite bytes; quantization parameters are arguments so property tests can draw
them. The data-movement ops copy bytes, so their input and output share quantization unless a
test says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from compiler.modelbuilder import ModelBuilder

Q = tuple[float, int]
DEFAULT_Q: Q = (0.05, -3)


def single_op(kind: str, in_shape: Sequence[int], out_shapes: Sequence[Sequence[int]], params: Sequence[object] = (),
              *, q_in: Q = DEFAULT_Q, q_out: Q | None = None, data_position: int = 0, **options: object) -> bytes:
    """One ``kind`` operator: the activation input at ``data_position`` among constant int32 ``params``."""
    mb = ModelBuilder()
    x = mb.input("x", in_shape, "int8", *q_in)
    inputs = []
    for i, p in enumerate(params):
        if isinstance(p, int) and p == -1:
            inputs.append(-1)
        elif isinstance(p, np.ndarray) and p.dtype == np.int8:
            inputs.append(mb.const(f"p{i}", p, "int8", scales=(q_out or q_in)[0], zero_points=(q_out or q_in)[1]))
        else:
            inputs.append(mb.const(f"p{i}", np.asarray(p, dtype=np.int32), "int32"))
    inputs.insert(data_position, x)
    qo = q_out or q_in
    outs = [mb.tensor(f"y{k}", shape, "int8", *qo) for k, shape in enumerate(out_shapes)]
    mb.op(kind, inputs, outs, **options)
    for y in outs:
        mb.output(y)
    return mb.build()


def concat(shapes: Sequence[Sequence[int]], axis: int, *, qs: Sequence[Q] | None = None, q_out: Q = DEFAULT_Q) -> bytes:
    """CONCATENATION of one model input per shape along ``axis``."""
    mb = ModelBuilder()
    qs = qs or [q_out] * len(shapes)
    xs = [mb.input(f"x{i}", s, "int8", *q) for i, (s, q) in enumerate(zip(shapes, qs))]
    out_shape = list(shapes[0])
    out_shape[axis] = sum(s[axis] for s in shapes)
    y = mb.tensor("y", out_shape, "int8", *q_out)
    mb.op("CONCATENATION", xs, [y], axis=axis)
    mb.output(y)
    return mb.build()


def mean(in_shape: Sequence[int], axes: Sequence[int], keep_dims: bool, *, q_in: Q = DEFAULT_Q,
         q_out: Q = (0.04, 5)) -> bytes:
    rank = len(in_shape)
    reduced = {a % rank for a in axes}
    out = [1 if k in reduced else d for k, d in enumerate(in_shape) if keep_dims or k not in reduced]
    return single_op("MEAN", in_shape, [out], [list(axes)], q_in=q_in, q_out=q_out, keep_dims=keep_dims)
