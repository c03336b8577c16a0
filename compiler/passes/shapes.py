"""Shape arithmetic folding and removal of operators that do nothing.

- :func:`fold_constants`: an operator of :data:`EVALUATORS` whose inputs are all constant (SHAPE:
  whose input has a static shape) and whose output is integer becomes a constant tensor. This turns
  the SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE chain the TFLite converter emits for Keras
  Flatten/Reshape into a RESHAPE with a constant shape. Evaluation uses the same index rules as the
  lowering of STRIDED_SLICE (:func:`compiler.lower.movement.resolve_strided_slice`).
- :func:`drop_identity_reshape`: RESHAPE, SQUEEZE or EXPAND_DIMS whose output has the input's shape,
  dtype and quantization.
- :func:`drop_noop_quantize`: QUANTIZE from int8 to int8 with identical scale and zero point (TFLite
  then copies the bytes: the requantization multiplier is exactly one).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..graph import Graph, Operator
from ..lower.movement import resolve_strided_slice
from .rewrite import as_constant, bypass, edit, is_interface, same_quantization

Evaluator = Callable[[Graph, Operator, list[np.ndarray]], np.ndarray]

FOLDABLE_DTYPES = ("int32", "int64")


def _shape(graph: Graph, op: Operator, args: list[np.ndarray]) -> np.ndarray:
    dtype = graph.tensors[op.outputs[0]].dtype
    return np.asarray(graph.tensors[op.inputs[0]].shape, dtype=dtype)


def _strided_slice(graph: Graph, op: Operator, args: list[np.ndarray]) -> np.ndarray:
    x, begin, end, strides = args
    o = op.options
    start, step, count = resolve_strided_slice(x.shape, tuple(begin.tolist()), tuple(end.tolist()),
                                               tuple(strides.tolist()), o.get("begin_mask", 0), o.get("end_mask", 0),
                                               o.get("shrink_axis_mask", 0))
    index = np.ix_(*(b + s * np.arange(n) for b, s, n in zip(start, step, count)))
    shrink = o.get("shrink_axis_mask", 0)
    return x[index].reshape([n for k, n in enumerate(count) if not shrink >> k & 1])


def _slice(graph: Graph, op: Operator, args: list[np.ndarray]) -> np.ndarray:
    x, begin, size = args
    return x[tuple(slice(b, d if s == -1 else b + s) for b, s, d in zip(begin.tolist(), size.tolist(), x.shape))]


def _pack(graph: Graph, op: Operator, args: list[np.ndarray]) -> np.ndarray:
    return np.stack(args, axis=op.options.get("axis", 0))


def _concatenation(graph: Graph, op: Operator, args: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(args, axis=op.options.get("axis", 0))


def _reshape(graph: Graph, op: Operator, args: list[np.ndarray]) -> np.ndarray:
    return args[0].reshape(graph.tensors[op.outputs[0]].shape)


EVALUATORS: dict[str, Evaluator] = {"SHAPE": _shape, "STRIDED_SLICE": _strided_slice, "SLICE": _slice,
                                    "PACK": _pack, "CONCATENATION": _concatenation, "RESHAPE": _reshape}


def _foldable(graph: Graph, op: Operator) -> bool:
    if op.op not in EVALUATORS or len(op.outputs) != 1 or is_interface(graph, op.outputs[0]):
        return False
    if graph.tensors[op.outputs[0]].dtype not in FOLDABLE_DTYPES:
        return False
    if op.op == "SHAPE":
        return min(graph.tensors[op.inputs[0]].shape, default=1) > 0
    if op.op == "STRIDED_SLICE" and any(op.options.get(m, 0) for m in ("ellipsis_mask", "new_axis_mask", "offset")):
        return False
    return all(i >= 0 and graph.tensors[i].is_constant for i in op.inputs)


def fold_constants(graph: Graph) -> Graph:
    """Replace every foldable integer operator by the constant it computes."""
    remove, tensors = [], {}
    for position, op in enumerate(graph.operators):
        if not _foldable(graph, op):
            continue
        args = [] if op.op == "SHAPE" else [np.asarray(graph.tensors[i].data) for i in op.inputs]
        out = graph.tensors[op.outputs[0]]
        try:
            value = EVALUATORS[op.op](graph, op, args).astype(out.dtype)
        except (ValueError, IndexError, TypeError):
            continue  # inconsistent parameters: left in place for the support checks to report
        tensors[out.index] = as_constant(out, value)
        remove.append(position)
        break  # one at a time: later operators see the new constant in the next round
    return edit(graph, remove=remove, tensors=tensors) if remove else graph


VIEW_OPS = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")


def _first(graph: Graph, wanted: Callable[[Operator], bool]) -> Graph:
    for position, op in enumerate(graph.operators):
        if wanted(op):
            rewritten = bypass(graph, position)
            if rewritten is not graph:
                return rewritten
    return graph


def drop_identity_reshape(graph: Graph) -> Graph:
    """Remove a RESHAPE/SQUEEZE/EXPAND_DIMS that leaves shape, dtype and quantization as they were."""
    def identity(op: Operator) -> bool:
        if op.op not in VIEW_OPS or not op.inputs or len(op.outputs) != 1:
            return False
        src, dst = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
        return not src.is_constant and src.shape == dst.shape and same_quantization(src, dst)

    return _first(graph, identity)


def drop_noop_quantize(graph: Graph) -> Graph:
    """Remove a QUANTIZE from int8 to int8 with one scale and zero point on both sides."""
    def noop(op: Operator) -> bool:
        if op.op != "QUANTIZE" or len(op.inputs) != 1 or len(op.outputs) != 1:
            return False
        src, dst = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
        return (src.dtype == dst.dtype == "int8" and src.quant is not None and not src.quant.per_channel
                and same_quantization(src, dst) and src.shape == dst.shape)

    return _first(graph, noop)
