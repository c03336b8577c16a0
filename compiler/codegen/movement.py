"""Strided-copy geometry (``edgec_copy_params``) of the data-movement IR ops, and MEAN's kernel parameters.

Each op's semantic fields (begin/step/extent, perm, paddings, axis) become the element strides the
C kernel ``edgec_strided_copy_s8`` walks. Shapes are extended to four axes with leading size-1 axes
(stride 0). The numpy interpreter computes the same ops with numpy indexing, so the two agree only
if these strides are right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import ir
from ..errors import InternalError

RANK = 4


@dataclass(frozen=True, slots=True)
class CopyGeometry:
    """One edgec_copy_params initialiser."""

    extent: tuple[int, int, int, int]
    in_offset: int
    in_stride: tuple[int, int, int, int]
    out_offset: int
    out_stride: tuple[int, int, int, int]


def contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Row-major element strides of a shape."""
    strides, step = [], 1
    for d in reversed(shape):
        strides.append(step)
        step *= d
    return tuple(reversed(strides))


def _extend(values: tuple[int, ...], fill: int) -> tuple[int, int, int, int]:
    if len(values) > RANK:
        raise InternalError(f"rank {len(values)} is above the strided copy's {RANK}")
    return tuple([fill] * (RANK - len(values)) + list(values))  # type: ignore[return-value]


def geometry(extent: tuple[int, ...], in_offset: int, in_stride: tuple[int, ...], out_offset: int,
             out_stride: tuple[int, ...]) -> CopyGeometry:
    return CopyGeometry(_extend(extent, 1), in_offset, _extend(in_stride, 0), out_offset, _extend(out_stride, 0))


def strided_slice(op: ir.StridedSlice, in_shape: tuple[int, ...]) -> CopyGeometry:
    cs = contiguous_strides(in_shape)
    offset = sum(b * s for b, s in zip(op.begin, cs))
    return geometry(op.extent, offset, tuple(st * s for st, s in zip(op.step, cs)), 0,
                    contiguous_strides(op.extent))


def transpose(op: ir.Transpose, in_shape: tuple[int, ...]) -> CopyGeometry:
    cs = contiguous_strides(in_shape)
    out_shape = tuple(in_shape[p] for p in op.perm)
    return geometry(out_shape, 0, tuple(cs[p] for p in op.perm), 0, contiguous_strides(out_shape))


def pad(op: ir.Pad, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> CopyGeometry:
    os = contiguous_strides(out_shape)
    return geometry(in_shape, 0, contiguous_strides(in_shape), sum(b * s for b, s in zip(op.before, os)), os)


def concatenation(op: ir.Concatenation, in_shapes: list[tuple[int, ...]],
                  out_shape: tuple[int, ...]) -> list[CopyGeometry]:
    os = contiguous_strides(out_shape)
    parts, at = [], 0
    for shape in in_shapes:
        parts.append(geometry(shape, 0, contiguous_strides(shape), at * os[op.axis], os))
        at += shape[op.axis]
    return parts


def mean_params(op: ir.Mean, in_shape: tuple[int, ...]) -> dict[str, object]:
    """The edgec_mean_params fields: 4-D dims, reduce flags and the integer constants."""
    pad_axes = RANK - len(in_shape)
    reduce = [0] * pad_axes + [1 if k in op.axes else 0 for k in range(len(in_shape))]
    assert int(np.prod(in_shape)) % op.count == 0
    return {"dims": _extend(in_shape, 1), "reduce": tuple(reduce), "input_offset": op.input_offset,
            "multiplier": op.multiplier, "shift": op.shift, "count": op.count, "output_offset": op.output_offset}
