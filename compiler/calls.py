"""The execution list: every kernel call and copy of an inference, with the arena bytes it reads and writes.

A memory plan ends in a flat list of :class:`Call` (one C kernel call over a range of rows of its
output) and :class:`Move` (a ``memmove`` of rows of one value). An untiled op is one call over all
rows; a tiled op is several calls over row bands (``compiler.tiling``). Codegen emits the list as
it is, the numpy executor (``compiler.interp.calls``) runs it on a byte arena, and
:func:`verify_calls` proves it before either.

Rows. A rank-4 NHWC value of batch 1 has ``H`` rows of ``W * C * itemsize`` bytes, stored back to
back; any other value is one row. An :class:`Access` names rows ``[r0, r1)`` of a value stored
contiguously from an arena byte offset.

Verification (:func:`verify_calls`) simulates the list on a map of which (value, row) each arena
byte range holds: model inputs start at their offsets; a call must find every row it reads at the
address it reads it from (so a row clobbered before its last read is caught, whoever clobbered
it); then its write replaces whatever overlapped. A call's write may not overlap its own reads,
because a kernel may read any input after writing any output, with one exception per op kind,
where the C kernel's access pattern makes it exact:

- ADD (``edgec_add_s8``): output element ``i`` is written after both inputs' elements ``i`` are
  read and nothing else, so the output may occupy exactly the bytes of either input (same start,
  same length);
- RESHAPE: the same bytes under a new shape (a view), so its output may be exactly its input;
- Move (``memmove``): defined for overlapping ranges.

Every other op kind (convolutions, pooling, fully connected, softmax, conversions) must write
bytes disjoint from what that call reads. At the end every model output must be present.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from . import ir
from .errors import InternalError

EXACT_IN_PLACE = frozenset({ir.OpKind.ADD, ir.OpKind.RESHAPE})  # output may be exactly one input's bytes


@dataclass(frozen=True, slots=True)
class Access:
    """Rows [r0, r1) of value vid, stored contiguously from arena byte offset."""

    vid: int
    r0: int
    r1: int
    offset: int


@dataclass(frozen=True, slots=True)
class Call:
    """One kernel call of program.ops[op]: reads inputs (one Access per op input), writes output rows."""

    op: int
    inputs: tuple[Access, ...]
    output: Access


@dataclass(frozen=True, slots=True)
class Move:
    """memmove of rows of one value from one place to another (a line buffer dropping its oldest rows)."""

    op: int  # the op whose band schedule needs it (for comments and error codes)
    src: Access
    dst: Access


Entry = Call | Move


def rows(value: ir.Value) -> int:
    """Row count: H for batch-1 rank-4 values, else 1."""
    return value.shape[1] if len(value.shape) == 4 and value.shape[0] == 1 else 1


def row_bytes(value: ir.Value) -> int:
    return value.nbytes // rows(value)


def band_value(program: ir.Program, a: Access) -> ir.Value:
    """The value as one call sees it: just the rows of the access (the value itself when it is all of them)."""
    v = program.value(a.vid)
    if rows(v) == a.r1 - a.r0:
        return v
    return dataclasses.replace(v, shape=(1, a.r1 - a.r0, *v.shape[2:]))


def span(program: ir.Program, a: Access) -> tuple[int, int]:
    """Arena byte range [start, end) of an access."""
    return a.offset, a.offset + (a.r1 - a.r0) * row_bytes(program.value(a.vid))


def whole_op_calls(program: ir.Program, offset_of) -> list[Call]:  # type: ignore[no-untyped-def]
    """One call per op over every row, values at offset_of(vid)."""
    def full(vid: int) -> Access:
        return Access(vid, 0, rows(program.value(vid)), offset_of(vid))

    return [Call(i, tuple(full(v) for v in op.inputs), full(op.outputs[0])) for i, op in enumerate(program.ops)]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def verify_calls(program: ir.Program, entries: list[Entry] | tuple[Entry, ...], arena_bytes: int,
                 ports: dict[int, int]) -> None:
    """Raise InternalError if any read finds a row missing or clobbered, or a write is illegal (see module doc).

    ports maps every model input and output to its arena offset: inputs are there before the first entry
    (invoke copies them in), outputs must be there after the last.
    """
    held: dict[int, tuple[int, int, int]] = {}  # start byte -> (end byte, vid, row)

    def full(vid: int) -> Access:
        return Access(vid, 0, rows(program.value(vid)), ports[vid])

    def write(a: Access) -> None:
        r = row_bytes(program.value(a.vid))
        start, end = span(program, a)
        if start < 0 or end > arena_bytes:
            raise InternalError(f"rows {a.r0}..{a.r1} of value {a.vid} at [{start}, {end}) leave the arena "
                                f"of {arena_bytes} B")
        for s in [s for s, (e, _, _) in held.items() if s < end and start < e]:
            del held[s]
        for k in range(a.r1 - a.r0):
            held[start + k * r] = (start + (k + 1) * r, a.vid, a.r0 + k)

    def read(a: Access, where: str) -> None:
        r = row_bytes(program.value(a.vid))
        for k in range(a.r1 - a.r0):
            got = held.get(a.offset + k * r)
            if got != (a.offset + (k + 1) * r, a.vid, a.r0 + k):
                raise InternalError(f"{where} reads row {a.r0 + k} of value {a.vid} at offset "
                                    f"{a.offset + k * r}, which does not hold it (never written there, or clobbered)")

    for vid in program.inputs:
        write(full(vid))
    for index, entry in enumerate(entries):
        if isinstance(entry, Move):
            read(entry.src, f"move {index}")
            if (entry.src.vid, entry.src.r0, entry.src.r1) != (entry.dst.vid, entry.dst.r0, entry.dst.r1):
                raise InternalError(f"move {index} changes which rows it carries")
            write(entry.dst)
            continue
        op = program.ops[entry.op]
        where = f"call {index} ({op.kind.name} {op.name!r})"
        for a in entry.inputs:
            read(a, where)
        out = span(program, entry.output)
        for a in entry.inputs:
            inp = span(program, a)
            if _overlap(out, inp) and not (op.kind in EXACT_IN_PLACE and inp == out):
                raise InternalError(f"{where} writes [{out[0]}, {out[1]}) over its own input bytes "
                                    f"[{inp[0]}, {inp[1]}); {op.kind.name} is not exact in place there")
        write(entry.output)
    for vid in program.outputs:
        read(full(vid), "the model's end")
