"""Structural validation of a parsed Graph, before any lowering.

The reader turns bytes into a :class:`~compiler.graph.Graph`; this module checks that the graph is
internally consistent, so that everything after it (support checks, lowering, planning, codegen)
may assume well-formed data and a file from the internet cannot crash or exhaust the compiler:

- sizes: operator and tensor counts, every shape non-negative, the elements and bytes of every
  tensor and of all tensors together below fixed limits;
- quantization: scales positive and finite, zero points within the tensor type's range, one zero
  point per scale, per-channel arrays as long as the quantized dimension, that dimension within rank;
- constants: data of the tensor's dtype and shape;
- dataflow: graph inputs and outputs present, unique and not constant; every non-constant operator
  input written by an earlier operator or a graph input (so no cycles and no reads of tensors
  never written); no tensor written twice; no operator writing a constant or a graph input.

Every problem raises :class:`~compiler.errors.ModelFileError` naming the tensor (name and index)
or operator and what is wrong. Whether a well-formed graph is *supported* is the job of the
support checks in ``compiler.lower``, not this module.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ModelFileError
from ..graph import Graph, Tensor

MAX_OPERATORS = 10_000
MAX_TENSORS = 50_000
MAX_TENSOR_ELEMENTS = 1 << 28
MAX_TOTAL_BYTES = 256 << 20  # all tensors together, activations and constants

# (required inputs, most inputs, outputs) of the ops edgec knows, as TFLite's kernels check them in Prepare
# (NumInputs/NumOutputs): a model breaking these is malformed for TFLite itself. Required inputs must be
# present (not -1). Other ops keep whatever arity they have: the support checks name them unsupported.
ARITY = {
    "CONV_2D": (2, 3, 1), "DEPTHWISE_CONV_2D": (2, 3, 1), "FULLY_CONNECTED": (2, 3, 1),
    "AVERAGE_POOL_2D": (1, 1, 1), "MAX_POOL_2D": (1, 1, 1), "ADD": (2, 2, 1), "RESHAPE": (1, 2, 1),
    "SOFTMAX": (1, 1, 1), "QUANTIZE": (1, 1, 1), "DEQUANTIZE": (1, 1, 1),
    "MEAN": (2, 2, 1), "PAD": (2, 2, 1), "PADV2": (2, 3, 1), "SLICE": (3, 3, 1), "STRIDED_SLICE": (4, 4, 1),
    "TRANSPOSE": (2, 2, 1), "SQUEEZE": (1, 1, 1), "EXPAND_DIMS": (2, 2, 1),
    "SUB": (2, 2, 1), "MUL": (2, 2, 1), "PRELU": (2, 2, 1), "RELU": (1, 1, 1), "RELU6": (1, 1, 1),
    "RELU_N1_TO_1": (1, 1, 1), "LEAKY_RELU": (1, 1, 1), "HARD_SWISH": (1, 1, 1), "LOGISTIC": (1, 1, 1),
    "TANH": (1, 1, 1),
}

# Zero-point range of each integer tensor type.
ZERO_POINT_RANGE = {
    "int4": (-8, 7),
    "int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "uint16": (0, 65535),
    "int32": (-(1 << 31), (1 << 31) - 1), "uint32": (0, (1 << 32) - 1),
    "int64": (-(1 << 63), (1 << 63) - 1),
}


STORAGE_DTYPES = {"int4": "int8"}
"""Tensor types the reader holds in a wider numpy type (int4 unpacked, one int8 per value)."""


def _itemsize(dtype: str) -> int:
    if dtype == "int4":
        return 1  # counted unpacked, as held in memory
    try:
        return np.dtype(dtype).itemsize
    except TypeError:
        return 8  # a type numpy cannot hold (string, complex, resource...): count it generously


def _what(t: Tensor) -> str:
    return f"tensor #{t.index} {t.name!r}"


def validate(graph: Graph, path: str) -> None:
    """Raise ModelFileError for the first structural problem of the graph; return None when well formed."""
    _check_counts(graph, path)
    total_bytes = 0
    for t in graph.tensors:
        total_bytes += _check_tensor(t, path)
        if total_bytes > MAX_TOTAL_BYTES:
            raise ModelFileError(path, "validate sizes",
                                 f"the tensors up to {_what(t)} hold more than {MAX_TOTAL_BYTES >> 20} MiB")
    _check_dataflow(graph, path)


def _check_counts(graph: Graph, path: str) -> None:
    if len(graph.operators) > MAX_OPERATORS:
        raise ModelFileError(path, "validate sizes",
                             f"{len(graph.operators)} operators, more than the {MAX_OPERATORS} edgec accepts")
    if len(graph.tensors) > MAX_TENSORS:
        raise ModelFileError(path, "validate sizes",
                             f"{len(graph.tensors)} tensors, more than the {MAX_TENSORS} edgec accepts")
    n = len(graph.tensors)
    for op in graph.operators:
        for v in op.inputs:
            if not (-1 <= v < n):
                raise ModelFileError(path, f"validate operator #{op.index} {op.op}",
                                     f"input tensor index {v} out of range (the subgraph has {n} tensors)")
        for v in op.outputs:
            if not (0 <= v < n):
                raise ModelFileError(path, f"validate operator #{op.index} {op.op}",
                                     f"output tensor index {v} out of range (the subgraph has {n} tensors)")
        arity = ARITY.get(op.op)
        if arity is not None:
            required, most, outputs = arity
            if not required <= len(op.inputs) <= most or len(op.outputs) != outputs:
                takes = f"{required}" if required == most else f"{required} to {most}"
                raise ModelFileError(path, f"validate operator #{op.index} {op.op}",
                                     f"has {len(op.inputs)} input(s) and {len(op.outputs)} output(s); {op.op} takes "
                                     f"{takes} input(s) and {outputs} output(s)")
            absent = [i for i in range(required) if op.inputs[i] < 0]
            if absent:
                raise ModelFileError(path, f"validate operator #{op.index} {op.op}",
                                     f"required input {absent[0]} is absent (-1)")
        elif not op.outputs:
            raise ModelFileError(path, f"validate operator #{op.index} {op.op}", "has no outputs")
    for kind, indices in (("input", graph.inputs), ("output", graph.outputs)):
        for v in indices:
            if not (0 <= v < n):
                raise ModelFileError(path, "validate graph", f"graph {kind} tensor index {v} out of range "
                                     f"(the subgraph has {n} tensors)")


def _check_tensor(t: Tensor, path: str) -> int:
    """Checks one tensor; returns its size in bytes."""
    step = f"validate {_what(t)}"
    if any(d < 0 for d in t.shape):
        raise ModelFileError(path, step, f"shape {list(t.shape)} has a negative dimension")
    elements = math.prod(t.shape)
    if elements > MAX_TENSOR_ELEMENTS:
        raise ModelFileError(path, step, f"shape {list(t.shape)} has {elements} elements, more than the "
                             f"{MAX_TENSOR_ELEMENTS} edgec accepts")
    _check_quantization(t, path, step)
    if t.data is not None:
        if t.data.dtype.name != STORAGE_DTYPES.get(t.dtype, t.dtype):
            raise ModelFileError(path, step, f"constant data is {t.data.dtype}, the tensor is {t.dtype}")
        if tuple(t.data.shape) != tuple(t.shape) or t.data.size != elements:
            raise ModelFileError(path, step, f"constant data of shape {list(t.data.shape)} for a tensor of shape "
                                 f"{list(t.shape)}")
    return elements * _itemsize(t.dtype)


def _check_quantization(t: Tensor, path: str, step: str) -> None:
    q = t.quant
    if q is None:
        return
    scales, zps = q.scale, q.zero_point
    if not scales:
        return
    for i, s in enumerate(scales):
        if not (math.isfinite(s) and s > 0):
            where = f"scale[{i}]" if len(scales) > 1 else "scale"
            raise ModelFileError(path, step, f"quantization {where} is {s}; scales must be positive and finite")
    if len(zps) != len(scales):
        raise ModelFileError(path, step, f"quantization has {len(scales)} scale(s) but {len(zps)} zero point(s)")
    lo_hi = ZERO_POINT_RANGE.get(t.dtype)
    if lo_hi is not None:
        lo, hi = lo_hi
        for i, z in enumerate(zps):
            if not lo <= int(z) <= hi:
                where = f"zero point[{i}]" if len(zps) > 1 else "zero point"
                raise ModelFileError(path, step, f"{where} {int(z)} is outside the {t.dtype} range [{lo}, {hi}]")
    if len(scales) > 1:
        rank = len(t.shape)
        if not 0 <= q.axis < rank:
            raise ModelFileError(path, step, f"quantized dimension {q.axis} is outside the tensor's rank {rank} "
                                 f"(shape {list(t.shape)})")
        if t.shape[q.axis] != len(scales):
            raise ModelFileError(path, step, f"{len(scales)} per-channel scales for dimension {q.axis} of size "
                                 f"{t.shape[q.axis]} (shape {list(t.shape)})")


def _check_dataflow(graph: Graph, path: str) -> None:
    tensors = graph.tensors
    if not graph.inputs:
        raise ModelFileError(path, "validate graph", "the subgraph has no inputs")
    if not graph.outputs:
        raise ModelFileError(path, "validate graph", "the subgraph has no outputs")
    for kind, indices in (("input", graph.inputs), ("output", graph.outputs)):
        seen: set[int] = set()
        for v in indices:
            if v in seen:
                raise ModelFileError(path, "validate graph", f"{_what(tensors[v])} is listed twice as a graph {kind}")
            seen.add(v)
            if tensors[v].is_constant:
                raise ModelFileError(path, "validate graph", f"graph {kind} {_what(tensors[v])} is a constant")
    available = set(graph.inputs)
    writer: dict[int, int] = {}
    for op in graph.operators:
        step = f"validate operator #{op.index} {op.op}"
        for v in op.inputs:
            if v < 0 or v in available or tensors[v].is_constant:
                continue
            later = next((o.index for o in graph.operators if o.index >= op.index and v in o.outputs), None)
            why = (f"which only operator #{later} writes, at or after this one (a cycle or operators out of order)"
                   if later is not None else "which no operator writes and is not a graph input")
            raise ModelFileError(path, step, f"reads {_what(tensors[v])} {why}")
        for v in op.outputs:
            t = tensors[v]
            if t.is_constant:
                raise ModelFileError(path, step, f"writes {_what(t)}, which is a constant")
            if v in graph.inputs:
                raise ModelFileError(path, step, f"writes {_what(t)}, which is a graph input")
            if v in writer:
                raise ModelFileError(path, step, f"writes {_what(t)}, already written by operator #{writer[v]}")
            writer[v] = op.index
        available.update(op.outputs)
    for v in graph.outputs:
        if v not in available:
            raise ModelFileError(path, "validate graph",
                                 f"graph output {_what(tensors[v])} is written by no operator")
