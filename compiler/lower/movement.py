"""Data-movement ops: SLICE, STRIDED_SLICE, SPLIT, SPLIT_V, TRANSPOSE, PAD, PADV2, CONCATENATION, SQUEEZE, EXPAND_DIMS.

None of them does arithmetic, so the int8 output is the input's bytes rearranged, exactly as in
TFLite's reference kernels. SQUEEZE and EXPAND_DIMS lower to RESHAPE (a view when the planner can
alias the buffers); SLICE, STRIDED_SLICE and each output of SPLIT/SPLIT_V to one strided copy; PAD to
a fill plus a strided copy; CONCATENATION to one strided copy per input. All index arithmetic
(negative indices, masks, clamping) is resolved here, at compile time, following TFLite's
strided_slice_logic (StartForAxis/StopForAxis).
"""

from __future__ import annotations

import numpy as np

from .. import ir
from ..graph import Graph, Operator, Tensor
from . import LoweringContext, constant, register
from .common import int8_activations, static_shapes

MAX_RANK = 4
INT_MAX = (1 << 31) - 1
INT_MIN = -(1 << 31)


# ---- small helpers --------------------------------------------------------------------------------

def _const_ints(graph: Graph, index: int) -> tuple[int, ...] | None:
    """A constant integer input as a flat tuple, or None when absent, computed at run time or not integer."""
    if index < 0:
        return None
    t = graph.tensors[index]
    if not t.is_constant or t.dtype not in ("int32", "int64"):
        return None
    return tuple(int(v) for v in np.asarray(t.data).ravel())


def _activation(graph: Graph, op: Operator, position: int) -> Tensor:
    return graph.tensors[op.inputs[position]]


def _data_input(op: Operator) -> int:
    """Position of the moved tensor among the inputs (SPLIT takes the axis first)."""
    return 1 if op.op == "SPLIT" else 0


# ---- support checks shared by the family (docstrings are the user-facing rules) ------------------

def rank_at_most_4(graph: Graph, op: Operator) -> str | None:
    """Tensors have rank 4 or less."""
    for index in [i for i in op.inputs if i >= 0] + list(op.outputs):
        t = graph.tensors[index]
        if not t.is_constant and len(t.shape) > MAX_RANK:
            return f"tensor {t.name!r} has rank {len(t.shape)}; at most {MAX_RANK} is supported"
    return None


def moves_an_activation(graph: Graph, op: Operator) -> str | None:
    """The moved tensors are activations computed by the model, not constants."""
    positions = range(len(op.inputs)) if op.op == "CONCATENATION" else [_data_input(op)]
    for position in positions:
        if position >= len(op.inputs) or op.inputs[position] < 0:
            return "the data input is missing"
        t = _activation(graph, op, position)
        if t.is_constant:
            return f"input {t.name!r} is a constant tensor; moving constant data is not supported"
    return None


# Positions of the index-parameter inputs of each op.
PARAMETER_INPUTS = {"STRIDED_SLICE": (1, 2, 3), "SLICE": (1, 2), "SPLIT": (0,), "SPLIT_V": (1, 2), "TRANSPOSE": (1,),
                    "PAD": (1,), "PADV2": (1,)}


def constant_parameters(graph: Graph, op: Operator) -> str | None:
    """Index parameters (begin, end, strides, size, perm, paddings, axis, splits) are int32/int64 constants."""
    for position in PARAMETER_INPUTS.get(op.op, ()):
        index = op.inputs[position] if position < len(op.inputs) else -1
        if _const_ints(graph, index) is None:
            name = graph.tensors[index].name if index >= 0 else "(absent)"
            return f"parameter {name!r} is not an int32/int64 constant; only static {op.op} is supported"
    return None


# ---- SLICE and STRIDED_SLICE ---------------------------------------------------------------------

def resolve_strided_slice(shape: tuple[int, ...], begin: tuple[int, ...], end: tuple[int, ...],
                          strides: tuple[int, ...], begin_mask: int, end_mask: int,
                          shrink_mask: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(start, step, count) per axis as TFLite's StartForAxis/StopForAxis resolve masks and negative indices."""
    starts, counts = [], []
    for k, size in enumerate(shape):
        step = strides[k]
        start = (INT_MIN if step > 0 else INT_MAX) if begin_mask >> k & 1 else begin[k]
        if start < 0:
            start += size
        start = min(max(start, 0), size) if step > 0 else min(max(start, -1), size - 1)
        if shrink_mask >> k & 1:
            stop = start + 1
        else:
            stop = (INT_MAX if step > 0 else INT_MIN) if end_mask >> k & 1 else end[k]
            if stop < 0:
                stop += size
            stop = min(max(stop, 0), size) if step > 0 else min(max(stop, -1), size - 1)
        span = stop - start
        count = max(0, (span + step - (1 if step > 0 else -1)) // step)
        starts.append(start)
        counts.append(count)
    return tuple(starts), tuple(strides), tuple(counts)


def _strided_slice_geometry(graph: Graph, op: Operator) -> tuple[tuple[int, ...], ...] | str:
    inp = graph.tensors[op.inputs[0]]
    begin, end, strides = (_const_ints(graph, i) for i in op.inputs[1:4])
    if begin is None or end is None or strides is None:
        return "the slice parameters are not constants"  # constant_parameters names the tensor
    rank = len(inp.shape)
    if not len(begin) == len(end) == len(strides) == rank:
        return f"begin/end/strides have {len(begin)}/{len(end)}/{len(strides)} entries for a rank-{rank} input"
    if 0 in strides:
        return "a stride is zero"
    shrink = op.options.get("shrink_axis_mask", 0)
    if any(shrink >> k & 1 and strides[k] < 0 for k in range(rank)):
        return "shrink_axis_mask on an axis with a negative stride is not supported"
    return resolve_strided_slice(inp.shape, begin, end, strides, op.options.get("begin_mask", 0),
                                 op.options.get("end_mask", 0), shrink)


def strided_slice_masks(graph: Graph, op: Operator) -> str | None:
    """STRIDED_SLICE has no ellipsis_mask, no new_axis_mask and no offset (begin/end/shrink masks are supported)."""
    for name in ("ellipsis_mask", "new_axis_mask"):
        if op.options.get(name, 0):
            return f"{name} {op.options[name]} is not supported"
    if op.options.get("offset", False):
        return "offset=true (end relative to begin) is not supported"
    return None


def _resolved(graph: Graph, op: Operator, resolve):  # (graph, op) -> geometry | problem text
    """``resolve``'s geometry, its problem text, or None when the parameters are not constants (another check
    reports that)."""
    return None if constant_parameters(graph, op) else resolve(graph, op)


def strided_slice_geometry(graph: Graph, op: Operator) -> str | None:
    """The slice is non-empty and its shape (shrunk axes removed) is the output tensor's."""
    geometry = _resolved(graph, op, _strided_slice_geometry)
    if geometry is None or isinstance(geometry, str):
        return geometry
    _, _, counts = geometry
    shrink = op.options.get("shrink_axis_mask", 0)
    expect = tuple(n for k, n in enumerate(counts) if not shrink >> k & 1)
    out = graph.tensors[op.outputs[0]]
    if 0 in counts:
        return f"the slice is empty (extent {list(counts)})"
    if tuple(out.shape) != expect:
        return f"output shape {list(out.shape)} differs from the {list(expect)} the slice selects"
    return None


def _slice_geometry(graph: Graph, op: Operator) -> tuple[tuple[int, ...], tuple[int, ...]] | str:
    inp = graph.tensors[op.inputs[0]]
    begin, size = _const_ints(graph, op.inputs[1]), _const_ints(graph, op.inputs[2])
    if begin is None or size is None:
        return "the slice parameters are not constants"  # constant_parameters names the tensor
    if not len(begin) == len(size) == len(inp.shape):
        return f"begin/size have {len(begin)}/{len(size)} entries for a rank-{len(inp.shape)} input"
    extent = tuple(d - b if s == -1 else s for d, b, s in zip(inp.shape, begin, size))
    for d, b, n in zip(inp.shape, begin, extent):
        if b < 0 or n < 1 or b + n > d:
            return f"begin {list(begin)} with size {list(size)} leaves the input shape {list(inp.shape)}"
    return begin, extent


def slice_geometry(graph: Graph, op: Operator) -> str | None:
    """SLICE's begin is within the input, size is positive or -1 (to the end), and the output has that shape."""
    geometry = _resolved(graph, op, _slice_geometry)
    if geometry is None or isinstance(geometry, str):
        return geometry
    out = graph.tensors[op.outputs[0]]
    if tuple(out.shape) != geometry[1]:
        return f"output shape {list(out.shape)} differs from the slice size {list(geometry[1])}"
    return None


SLICE_CHECKS = (int8_activations, static_shapes, rank_at_most_4, moves_an_activation, constant_parameters)


@register("STRIDED_SLICE", *SLICE_CHECKS, strided_slice_masks, strided_slice_geometry)
def lower_strided_slice(ctx: LoweringContext, op: Operator) -> None:
    geometry = _strided_slice_geometry(ctx.graph, op)
    assert not isinstance(geometry, str)
    begin, step, extent = geometry
    _emit_slice(ctx, op.inputs[0], op.outputs[0], begin, step, extent)


@register("SLICE", *SLICE_CHECKS, slice_geometry)
def lower_slice(ctx: LoweringContext, op: Operator) -> None:
    geometry = _slice_geometry(ctx.graph, op)
    assert not isinstance(geometry, str)
    begin, extent = geometry
    _emit_slice(ctx, op.inputs[0], op.outputs[0], begin, (1,) * len(begin), extent)


def _emit_slice(ctx: LoweringContext, src: int, dst: int, begin: tuple[int, ...], step: tuple[int, ...],
                extent: tuple[int, ...]) -> None:
    ctx.emit(ir.StridedSlice(name=ctx.tensor(dst).name, inputs=(ctx.value(src),), outputs=(ctx.value(dst),),
                             begin=tuple(begin), step=tuple(step), extent=tuple(extent)))


# ---- SPLIT and SPLIT_V ---------------------------------------------------------------------------

def _split_sizes(graph: Graph, op: Operator) -> tuple[int, tuple[int, ...]] | str:
    """(axis, size of each output along it) for SPLIT (input order: axis, value) or SPLIT_V (value, sizes, axis)."""
    if op.op == "SPLIT":
        value, axis_values = graph.tensors[op.inputs[1]], _const_ints(graph, op.inputs[0])
    else:
        value, axis_values = graph.tensors[op.inputs[0]], _const_ints(graph, op.inputs[2])
    assert axis_values is not None
    rank = len(value.shape)
    if len(axis_values) != 1 or not -rank <= axis_values[0] < rank:
        return f"split axis {list(axis_values)} is not one axis of a rank-{rank} input"
    axis = axis_values[0] % rank
    n = len(op.outputs)
    if op.op == "SPLIT":
        if n < 1 or value.shape[axis] % n:
            return f"axis {axis} of size {value.shape[axis]} does not split into {n} equal parts"
        return axis, (value.shape[axis] // n,) * n
    sizes = list(_const_ints(graph, op.inputs[1]) or ())
    if len(sizes) != n or sizes.count(-1) > 1:
        return f"size_splits {sizes} does not give one size per output ({n})"
    if -1 in sizes:
        sizes[sizes.index(-1)] = value.shape[axis] - (sum(sizes) + 1)
    if min(sizes) < 1 or sum(sizes) != value.shape[axis]:
        return f"size_splits {sizes} do not add up to axis {axis} of size {value.shape[axis]} with positive parts"
    return axis, tuple(sizes)


def split_geometry(graph: Graph, op: Operator) -> str | None:
    """The split axis is one constant axis, the parts are positive and add up to it, each output has its part's shape."""
    geometry = _resolved(graph, op, _split_sizes)
    if geometry is None or isinstance(geometry, str):
        return geometry
    axis, sizes = geometry
    value = graph.tensors[op.inputs[_data_input(op)]]
    for index, size in zip(op.outputs, sizes):
        expect = value.shape[:axis] + (size,) + value.shape[axis + 1:]
        if graph.tensors[index].shape != expect:
            return f"output {graph.tensors[index].name!r} has shape {list(graph.tensors[index].shape)}, not {list(expect)}"
    return None


def _lower_split(ctx: LoweringContext, op: Operator) -> None:
    geometry = _split_sizes(ctx.graph, op)
    assert not isinstance(geometry, str)
    axis, sizes = geometry
    src = op.inputs[_data_input(op)]
    shape = ctx.tensor(src).shape
    at = 0
    for dst, size in zip(op.outputs, sizes):
        begin = tuple(at if k == axis else 0 for k in range(len(shape)))
        extent = shape[:axis] + (size,) + shape[axis + 1:]
        _emit_slice(ctx, src, dst, begin, (1,) * len(shape), extent)
        at += size


register("SPLIT", *SLICE_CHECKS, split_geometry)(_lower_split)
register("SPLIT_V", *SLICE_CHECKS, split_geometry)(_lower_split)


# ---- TRANSPOSE -----------------------------------------------------------------------------------

def transpose_perm(graph: Graph, op: Operator) -> str | None:
    """perm is a permutation of the input's axes and the output has the permuted shape."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    perm = _const_ints(graph, op.inputs[1])
    if perm is None:
        return None  # reported by constant_parameters
    if sorted(perm) != list(range(len(inp.shape))):
        return f"perm {list(perm)} is not a permutation of {len(inp.shape)} axes"
    expect = tuple(inp.shape[p] for p in perm)
    if tuple(out.shape) != expect:
        return f"output shape {list(out.shape)} differs from the permuted {list(expect)}"
    return None


@register("TRANSPOSE", *SLICE_CHECKS, transpose_perm)
def lower_transpose(ctx: LoweringContext, op: Operator) -> None:
    perm = _const_ints(ctx.graph, op.inputs[1])
    assert perm is not None
    out = ctx.tensor(op.outputs[0])
    ctx.emit(ir.Transpose(name=out.name, inputs=(ctx.value(op.inputs[0]),), outputs=(ctx.value(op.outputs[0]),),
                          perm=perm))


# ---- PAD and PADV2 -------------------------------------------------------------------------------

def _paddings(graph: Graph, op: Operator) -> tuple[tuple[int, ...], tuple[int, ...]]:
    flat = _const_ints(graph, op.inputs[1])
    assert flat is not None
    return flat[0::2], flat[1::2]


def pad_geometry(graph: Graph, op: Operator) -> str | None:
    """paddings is a [rank, 2] constant of non-negative (before, after) amounts; the output has the padded shape."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    pads = graph.tensors[op.inputs[1]]
    if constant_parameters(graph, op):
        return None  # reported by constant_parameters
    if tuple(pads.shape) != (len(inp.shape), 2):
        return f"paddings has shape {list(pads.shape)}, not [{len(inp.shape)}, 2]"
    before, after = _paddings(graph, op)
    if min(before + after) < 0:
        return f"negative paddings {list(zip(before, after))} are not supported"
    expect = tuple(d + b + a for d, b, a in zip(inp.shape, before, after))
    if tuple(out.shape) != expect:
        return f"output shape {list(out.shape)} differs from the padded {list(expect)}"
    return None


def _same_quant(a: Tensor, b: Tensor) -> bool:
    return a.quant is not None and b.quant is not None and a.scale == b.scale and a.zero_point == b.zero_point


def pad_keeps_quantization(graph: Graph, op: Operator) -> str | None:
    """PAD's output has the input's scale and zero point; a PADV2 pad value is a one-element int8 constant with them too."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if inp.quant is None or out.quant is None:
        return None  # int8_activations reports it
    if not _same_quant(inp, out):
        return "output quantization differs from the input's; TFLite pads without rescaling"
    if op.op == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        value = graph.tensors[op.inputs[2]]
        if not value.is_constant or value.dtype != "int8" or np.asarray(value.data).size != 1:
            return f"the pad value {value.name!r} is not a one-element int8 constant"
        if not _same_quant(value, out):
            return f"the pad value {value.name!r} is quantized differently from the output"
    return None


def _pad_value(ctx: LoweringContext, op: Operator) -> int:
    if op.op == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        return int(constant(ctx.graph, op.inputs[2], np.int64).ravel()[0])
    return ctx.tensor(op.outputs[0]).zero_point  # PAD pads with the output zero point (real 0.0)


def _lower_pad(ctx: LoweringContext, op: Operator) -> None:
    before, after = _paddings(ctx.graph, op)
    out = ctx.tensor(op.outputs[0])
    ctx.emit(ir.Pad(name=out.name, inputs=(ctx.value(op.inputs[0]),), outputs=(ctx.value(op.outputs[0]),),
                    before=before, after=after, pad_value=_pad_value(ctx, op)))


register("PAD", *SLICE_CHECKS, pad_geometry, pad_keeps_quantization)(_lower_pad)
register("PADV2", *SLICE_CHECKS, pad_geometry, pad_keeps_quantization)(_lower_pad)


# ---- CONCATENATION -------------------------------------------------------------------------------

def concat_geometry(graph: Graph, op: Operator) -> str | None:
    """CONCATENATION has no fused activation, a valid axis, inputs agreeing off the axis, and the joined output shape."""
    if op.options.get("activation", "NONE") != "NONE":
        return f"fused activation {op.options['activation']} on CONCATENATION is not supported"
    ins = [graph.tensors[i] for i in op.inputs]
    out = graph.tensors[op.outputs[0]]
    rank = len(out.shape)
    axis = op.options.get("axis", 0)
    if not -rank <= axis < rank:
        return f"axis {axis} is outside rank {rank}"
    axis %= rank
    for t in ins:
        if len(t.shape) != rank or any(a != b for k, (a, b) in enumerate(zip(t.shape, out.shape)) if k != axis):
            return f"input {t.name!r} of shape {list(t.shape)} does not fit output {list(out.shape)} on axis {axis}"
    if sum(t.shape[axis] for t in ins) != out.shape[axis]:
        return f"input sizes along axis {axis} do not add up to the output's {out.shape[axis]}"
    return None


def concat_same_quantization(graph: Graph, op: Operator) -> str | None:
    """Every CONCATENATION input has the output's scale and zero point (TFLite's int8 kernel refuses others; the
    converter inserts a requantizing QUANTIZE before such an input)."""
    out = graph.tensors[op.outputs[0]]
    for index in op.inputs:
        t = graph.tensors[index]
        if t.quant is not None and out.quant is not None and not _same_quant(t, out):
            return (f"input {t.name!r} (scale {t.scale:g}, zero point {t.zero_point}) is quantized differently "
                    f"from the output (scale {out.scale:g}, zero point {out.zero_point})")
    return None


@register("CONCATENATION", int8_activations, static_shapes, rank_at_most_4, moves_an_activation, concat_geometry,
          concat_same_quantization)
def lower_concatenation(ctx: LoweringContext, op: Operator) -> None:
    out = ctx.tensor(op.outputs[0])
    ctx.emit(ir.Concatenation(name=out.name, inputs=tuple(ctx.value(i) for i in op.inputs),
                              outputs=(ctx.value(op.outputs[0]),), axis=op.options.get("axis", 0) % len(out.shape)))


# ---- SQUEEZE and EXPAND_DIMS: views ----------------------------------------------------------------

def view_tensors(graph: Graph, op: Operator) -> str | None:
    """The input is an int8 activation and the output holds the same number of int8 elements (a reshape)."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if inp.is_constant:
        return f"input {inp.name!r} is a constant tensor; {op.op} of a constant is not supported"
    if inp.dtype != "int8" or out.dtype != "int8":
        return f"{op.op} from {inp.dtype} to {out.dtype} is not supported (int8 only)"
    if int(np.prod(inp.shape, dtype=np.int64)) != int(np.prod(out.shape, dtype=np.int64)):
        return f"input shape {list(inp.shape)} and output shape {list(out.shape)} hold different element counts"
    return None


def view_shape(graph: Graph, op: Operator) -> str | None:
    """The output shape is the one TFLite computes: SQUEEZE drops the listed size-1 axes (all size-1 axes when none
    are listed); EXPAND_DIMS inserts a size-1 axis at its constant axis input (negative counts from the end)."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    rank = len(inp.shape)
    if op.op == "SQUEEZE":
        dims = {d % rank for d in op.options.get("squeeze_dims", ()) if -rank <= d < rank}
        if len(dims) != len(set(op.options.get("squeeze_dims", ()))) or any(inp.shape[d] != 1 for d in dims):
            return f"squeeze_dims {list(op.options.get('squeeze_dims', ()))} are not size-1 axes of {list(inp.shape)}"
        expect = tuple(d for k, d in enumerate(inp.shape) if (k not in dims if dims else d != 1))
    else:
        axis = _const_ints(graph, op.inputs[1]) if len(op.inputs) > 1 else None
        if axis is None or len(axis) != 1 or not -rank - 1 <= axis[0] <= rank:
            return "the axis input is not one int32/int64 constant within the rank"
        at = axis[0] + rank + 1 if axis[0] < 0 else axis[0]
        expect = inp.shape[:at] + (1,) + inp.shape[at:]
    if tuple(out.shape) != expect:
        return f"output shape {list(out.shape)} differs from the {list(expect)} TFLite computes"
    return None


def _lower_view(ctx: LoweringContext, op: Operator) -> None:
    out = ctx.tensor(op.outputs[0])
    ctx.emit(ir.Reshape(name=out.name, inputs=(ctx.value(op.inputs[0]),), outputs=(ctx.value(op.outputs[0]),)))


register("SQUEEZE", view_tensors, static_shapes, view_shape)(_lower_view)
register("EXPAND_DIMS", view_tensors, static_shapes, view_shape)(_lower_view)
