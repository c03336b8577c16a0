"""Run a plan's execution list on a numpy byte arena: the tiled schedule checked before any C exists.

Each kernel call reads its input rows from the arena bytes it names, runs the op's numpy kernel
with the geometry the C call gets (band heights, band top padding, see ``compiler.tiling``), and
writes its output rows back; moves copy bytes. The model outputs are then read from the arena.
If this equals :func:`compiler.interp.run` on the whole program, the band decomposition and the
placement are exact (up to what the C kernels do, which their own tests compare with this).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from .. import ir
from ..calls import Access, Move, band_value, row_bytes, rows
from ..tiling import band_padding, window
from . import run_op


def _load(arena: np.ndarray, program: ir.Program, a: Access) -> np.ndarray:
    v = band_value(program, a)
    data = arena[a.offset:a.offset + v.nbytes]
    return data.view(np.dtype(v.dtype.value)).reshape(v.shape).copy()


def _store(arena: np.ndarray, a: Access, value: np.ndarray) -> None:
    raw = np.ascontiguousarray(value).view(np.uint8).ravel()
    arena[a.offset:a.offset + raw.size] = raw


def run_plan(plan, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    """Execute plan.entries on a zero arena of plan.arena_bytes with the model inputs copied in."""
    program = plan.program
    arena = np.zeros(plan.arena_bytes, dtype=np.uint8)
    for vid, array in zip(program.inputs, inputs, strict=True):
        v = program.value(vid)
        _store(arena, Access(vid, 0, rows(v), plan.offset(vid)), np.asarray(array, dtype=v.dtype.value))
    for entry in plan.entries:
        if isinstance(entry, Move):
            n = (entry.src.r1 - entry.src.r0) * row_bytes(program.value(entry.src.vid))
            arena[entry.dst.offset:entry.dst.offset + n] = arena[entry.src.offset:entry.src.offset + n].copy()
            continue
        op = program.ops[entry.op]
        out = entry.output
        if window(op) is not None and rows(program.value(out.vid)) != out.r1 - out.r0:
            op = dataclasses.replace(op, padding=(band_padding(op, out.r0, entry.inputs[0].r0), op.padding[1]))
        args = [_load(arena, program, a) for a in entry.inputs]
        _store(arena, out, run_op(op, args, band_value(program, out)))
    return [_load(arena, program, Access(v, 0, rows(program.value(v)), plan.offset(v))) for v in program.outputs]
