"""Broadcasting two-operand ops (ADD, SUB, MUL, PRELU): shapes, constant operands and their support checks.

TFLite broadcasts numpy-style: shapes are right-aligned, and along each axis an operand either has the
output's extent or 1 (then it repeats). :func:`broadcast_geometry` turns two operand shapes into an
``ir.Broadcast`` of at most four axes by dropping axes of extent 1 in the output and merging
neighbouring axes that both operands treat alike (both full, or one of them repeated on both).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ir
from ..graph import Graph, Operator, Tensor
from . import LoweringContext, constant
from .common import int8_tensor_problem

MAX_AXES = 4


def broadcast_shape(shape1: tuple[int, ...], shape2: tuple[int, ...]) -> tuple[int, ...] | None:
    """The broadcast result of two shapes, or None where an axis has two extents other than 1."""
    rank = max(len(shape1), len(shape2))
    a = (1,) * (rank - len(shape1)) + tuple(shape1)
    b = (1,) * (rank - len(shape2)) + tuple(shape2)
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y))
    return tuple(out)


def _axes(shape1: tuple[int, ...], shape2: tuple[int, ...]) -> list[tuple[int, bool, bool]]:
    """(extent, operand 1 full, operand 2 full) per output axis of extent > 1, neighbours merged when alike."""
    out = broadcast_shape(shape1, shape2)
    assert out is not None
    rank = len(out)
    a = (1,) * (rank - len(shape1)) + tuple(shape1)
    b = (1,) * (rank - len(shape2)) + tuple(shape2)
    merged: list[tuple[int, bool, bool]] = []
    for extent, x, y in zip(out, a, b):
        if extent == 1:
            continue
        kind = (x == extent, y == extent)
        if merged and merged[-1][1:] == kind:
            merged[-1] = (merged[-1][0] * extent, *kind)
        else:
            merged.append((extent, *kind))
    return merged


def broadcast_geometry(shape1: tuple[int, ...], shape2: tuple[int, ...]) -> ir.Broadcast | None:
    """The 4-D walk of two operands (row-major element strides, 0 where repeated); None beyond 4 axes
    or where the shapes do not broadcast."""
    if broadcast_shape(shape1, shape2) is None:
        return None
    axes = _axes(shape1, shape2)
    if len(axes) > MAX_AXES:
        return None
    axes = [(1, True, True)] * (MAX_AXES - len(axes)) + axes
    dims = tuple(extent for extent, _, _ in axes)

    def strides(which: int) -> tuple[int, ...]:
        result, step = [], 1
        for extent, *full in reversed(axes):
            result.append(step if full[which] and extent > 1 else 0)
            step *= extent if full[which] else 1
        return tuple(reversed(result))

    return ir.Broadcast(dims, strides(0), strides(1))  # type: ignore[arg-type]


def operand_data(graph: Graph, index: int) -> np.ndarray | None:
    """The int8 data of a constant operand (flattened), or None for an activation."""
    t = graph.tensors[index]
    return constant(graph, index, np.int8).ravel() if t.is_constant else None


def operands(ctx: LoweringContext, op: Operator) -> dict[str, Any]:
    """The ``ir.Binary`` fields every two-operand lowering shares: inputs, broadcast walk, constants."""
    a, b, out = (ctx.tensor(i) for i in (*op.inputs[:2], op.outputs[0]))
    geometry = broadcast_geometry(a.shape, b.shape)
    assert geometry is not None
    const1, const2 = operand_data(ctx.graph, a.index), operand_data(ctx.graph, b.index)
    inputs = tuple(ctx.value(t.index) for t, c in ((a, const1), (b, const2)) if c is None)
    return {"name": out.name, "inputs": inputs, "outputs": (ctx.value(out.index),), "broadcast": geometry,
            "constant1": const1, "constant2": const2}


def _two_operands(graph: Graph, op: Operator) -> tuple[Tensor, Tensor, Tensor] | None:
    if len(op.inputs) != 2 or min(op.inputs) < 0 or len(op.outputs) != 1:
        return None
    a, b = (graph.tensors[i] for i in op.inputs)
    return a, b, graph.tensors[op.outputs[0]]


# ---- support checks (docstrings are the user-facing rules) ----

def broadcastable_operands(graph: Graph, op: Operator) -> str | None:
    """Two operands whose shapes broadcast (each axis equal or 1) to the output's shape, walked in at most 4
    axes once alike neighbours are merged (any rank TFLite allows otherwise)."""
    tensors = _two_operands(graph, op)
    if tensors is None:
        return f"{op.op} takes two inputs and one output, got {len(op.inputs)} and {len(op.outputs)}"
    a, b, out = tensors
    shape = broadcast_shape(a.shape, b.shape)
    if shape is None:
        return f"operand shapes {list(a.shape)} and {list(b.shape)} do not broadcast"
    if math.prod(shape) != math.prod(out.shape) or tuple(d for d in shape if d != 1) != tuple(
            d for d in out.shape if d != 1):
        return f"operands broadcast to {list(shape)}, not to the output shape {list(out.shape)}"
    if broadcast_geometry(a.shape, b.shape) is None:
        return f"broadcasting {list(a.shape)} with {list(b.shape)} needs more than {MAX_AXES} axes"
    return None


def at_most_one_constant(graph: Graph, op: Operator) -> str | None:
    """At most one operand is a constant tensor (an op of two constants is constant itself; fold it first)."""
    tensors = _two_operands(graph, op)
    if tensors is not None and tensors[0].is_constant and tensors[1].is_constant:
        return "both operands are constant tensors; edgec does not fold constant expressions"
    return None


def int8_operands(graph: Graph, op: Operator) -> str | None:
    """Both operands (constants included) and the output are int8 with per-tensor quantization."""
    for index in (*op.inputs[:2], *op.outputs[:1]):
        problem = int8_tensor_problem(graph.tensors[index]) if index >= 0 else None
        if problem:
            return problem
    return None
