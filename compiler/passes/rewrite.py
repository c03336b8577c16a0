"""Helpers the graph passes share: who produces and consumes a tensor, and immutable edits of a Graph."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np

from ..graph import Graph, Operator, Tensor


def producer(graph: Graph, tensor: int) -> int | None:
    """Position (in graph.operators) of the operator writing ``tensor``, or None for inputs and constants."""
    for position, op in enumerate(graph.operators):
        if tensor in op.outputs:
            return position
    return None


def consumers(graph: Graph, tensor: int) -> list[int]:
    """Positions of the operators reading ``tensor``."""
    return [position for position, op in enumerate(graph.operators) if tensor in op.inputs]


def is_interface(graph: Graph, tensor: int) -> bool:
    """A model input or output: passes never rename or remove these."""
    return tensor in graph.inputs or tensor in graph.outputs


def same_quantization(a: Tensor, b: Tensor) -> bool:
    return a.dtype == b.dtype and a.quant == b.quant


def edit(graph: Graph, *, remove: Iterable[int] = (), replace: dict[int, Operator] | None = None,
         tensors: dict[int, Tensor] | None = None) -> Graph:
    """A new graph without the operators at positions ``remove``, with ``replace`` and ``tensors`` swapped in."""
    gone, replace, tensors = set(remove), replace or {}, tensors or {}
    ops = tuple(replace.get(p, op) for p, op in enumerate(graph.operators) if p not in gone)
    new_tensors = tuple(tensors.get(t.index, t) for t in graph.tensors)
    return dataclasses.replace(graph, operators=ops, tensors=new_tensors)


def rename_uses(graph: Graph, old: int, new: int, *, skip: int) -> dict[int, Operator]:
    """Replacements making every operator but the one at ``skip`` read or write ``new`` where it used ``old``."""
    out: dict[int, Operator] = {}
    for position, op in enumerate(graph.operators):
        if position == skip or (old not in op.inputs and old not in op.outputs):
            continue
        out[position] = dataclasses.replace(
            op, inputs=tuple(new if i == old else i for i in op.inputs),
            outputs=tuple(new if o == old else o for o in op.outputs))
    return out


def bypass(graph: Graph, position: int) -> Graph:
    """Remove the one-input view-like operator at ``position`` whose output equals its input byte for byte.

    The output's readers read the input instead; when the output is a model output, the input's
    producer and readers switch to the output tensor instead. Returns the graph unchanged when
    neither is possible (both ends are model interface tensors).
    """
    op = graph.operators[position]
    src, dst = op.inputs[0], op.outputs[0]
    if not is_interface(graph, dst):
        return edit(graph, remove=[position], replace=rename_uses(graph, dst, src, skip=position))
    if not is_interface(graph, src) and producer(graph, src) is not None:
        return edit(graph, remove=[position], replace=rename_uses(graph, src, dst, skip=position))
    return graph


def as_constant(tensor: Tensor, data: np.ndarray) -> Tensor:
    """The tensor holding ``data`` (its dtype and shape become the data's)."""
    array = np.array(data, copy=True, order="C")  # keeps 0-d arrays 0-d (ascontiguousarray would not)
    array.setflags(write=False)
    return dataclasses.replace(tensor, data=array, shape=tuple(int(d) for d in array.shape), dtype=str(array.dtype))
