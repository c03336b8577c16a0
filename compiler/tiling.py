"""Tiling by row bands: a run of ops executed band by band so its intermediate tensors never exist whole.

A :class:`Segment` is a run of consecutive ops ``[first, last]`` (convolutions, depthwise
convolutions, pooling, ADD, all on batch-1 NHWC int8 values) with exactly one value from outside,
``x`` (which dies inside the run), and one value leaving it, ``o`` (the last op's output). It runs
in bands of ``band`` rows of ``o``:

Row dependencies. Output rows ``[a, b)`` of a convolution or pool with stride ``s``, top padding
``p``, ``k`` taps of dilation ``d`` read input rows ``[max(0, a*s - p), min(H, (b-1)*s - p +
(k-1)*d + 1))``; ADD reads rows ``[a, b)`` of both inputs. The kernel called on just that input
band, with input height the band's and top padding ``max(0, p - a*s)``, computes exactly output
rows ``[a, b)`` of the whole call: rows above the band that are outside the tensor still read the
pad value, rows below it are outside the tensor exactly when they are outside the band (the band
reaches the tensor's end whenever a window does), and everything else is inside the band. So no
kernel changes, only pointer offsets and dimensions.

Pull schedule (``forward``). For each band of ``o`` the ops are walked backwards to find, per
value, the rows its consumers need next, then forwards computing only rows not computed yet.
Each intermediate lives in a line buffer holding a contiguous window of rows; before new rows are
appended the rows no consumer needs any more are dropped by moving the kept rows to the front
(a ``memmove``), so halos are kept, not recomputed: the extra work of tiling is the per-call
overhead plus those moves, never extra MACs. ``x`` is read in place; ``o`` is written straight
into its own tensor.

Overlap. Because ``x`` dies inside the run, ``o`` may overlap ``x``'s bytes wherever a row of
``x`` is dead by the time the row of ``o`` over it is written. Processing bands top-down allows
``offset(o) - offset(x) <= delta_front`` (``o`` slides in in front of ``x``); a single-op segment
also has a bottom-up schedule (``backward``), allowing ``offset(o) - offset(x) >= delta_back``.
Both bounds come from the schedule itself: for each call writing rows ``[a, b)`` of ``o``, the
rows of ``x`` still to be read from that call on must lie wholly after (front) or before (back)
the bytes written. A run whose only write over ``x`` is an ADD writing exactly the bytes it reads
may instead share ``x``'s buffer (``shares_x``). The planner (``compiler.schedule``) places the
buffers with these rules and ``compiler.calls.verify_calls`` proves the resulting list.

Limits: bands split rows only (never columns or channels); ``x`` must be a single value; only
single-op segments run bottom-up; the cost model counts calls, moved bytes and nothing of cache or
pipeline effects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from . import ir
from .calls import Access, Call, Entry, Move, row_bytes, rows
from .errors import InternalError

STREAMABLE = (ir.Conv2D, ir.DepthwiseConv2D, ir.Pool2D, ir.Add)
# Cost model of one extra kernel call: set-up plus the per-channel parameter checks the kernels run on every
# call. Calibrated on QEMU mps2-an386: KWS at --sram-budget min makes 144 more calls of 64 channels for
# about 133,000 more instructions (~920 each), ResNet-8 about 460 per extra call of 16 to 64 channels.
CALL_COST = 250
CALL_COST_PER_CHANNEL = 10
MOVE_COST_PER_BYTE = 1  # instructions per byte a line buffer moves (memmove, word copies plus overhead)


def window(op: ir.Op) -> tuple[int, int, int, int] | None:
    """(stride, top padding, taps, dilation) along H of a windowed op, or None for elementwise ones."""
    if isinstance(op, ir.Conv2D):
        return op.stride[0], op.padding[0], op.weights.shape[1], op.dilation[0]
    if isinstance(op, ir.DepthwiseConv2D):
        return op.stride[0], op.padding[0], op.weights.shape[0], op.dilation[0]
    if isinstance(op, ir.Pool2D):
        return op.stride[0], op.padding[0], op.filter[0], 1
    return None


def input_rows(op: ir.Op, in_rows: int, a: int, b: int) -> tuple[int, int]:
    """Rows of an input that output rows [a, b) of op read."""
    w = window(op)
    if w is None:
        return a, b
    s, p, k, d = w
    lo = max(0, a * s - p)
    hi = min(in_rows, (b - 1) * s - p + (k - 1) * d + 1)
    if hi <= lo:
        raise InternalError(f"{op.name}: output rows {a}..{b} read no input row")
    return lo, hi


def band_padding(op: ir.Op, a: int, in_lo: int) -> int:
    """Top padding of the call computing output rows from a with its input band starting at row in_lo."""
    w = window(op)
    assert w is not None
    s, p, _, _ = w
    return in_lo - (a * s - p)


@dataclass(frozen=True, slots=True)
class Segment:
    first: int
    last: int
    x: int  # the one value entering the run
    o: int  # the one value leaving it
    band: int = 1

    @property
    def ops(self) -> range:
        return range(self.first, self.last + 1)


class Place(NamedTuple):
    """Rows [r0, r1) of value vid at byte rel of a region: 'x' (the input tensor), 'o' (the output
    tensor) or 'line' (vid's line buffer); the planner fixes where each region starts."""

    region: str
    vid: int
    rel: int
    r0: int
    r1: int


class BandStep(NamedTuple):
    """One entry of a segment's schedule: a kernel call of op (reads, write) or a line-buffer move."""

    kind: str  # "call" or "move"
    op: int
    reads: tuple[Place, ...]
    write: Place


@dataclass(slots=True)
class Schedule:
    """A segment's steps over symbolic places (see Place)."""

    segment: Segment
    calls: list[BandStep] = field(default_factory=list)
    line_rows: dict[int, int] = field(default_factory=dict)  # intermediate vid -> rows its line buffer holds
    moved_bytes: int = 0

    @property
    def call_count(self) -> int:
        return sum(1 for c in self.calls if c.kind == "call")


def find_segments(program: ir.Program, max_ops: int = 6) -> list[Segment]:
    """Every run of at most max_ops streamable ops with one value in (dying inside) and one out."""
    n = len(program.ops)
    last_use = {v: -1 for v in range(len(program.values))}
    for i, op in enumerate(program.ops):
        for v in op.inputs:
            last_use[v] = i
    for v in program.outputs:
        last_use[v] = n
    found = []
    for first in range(n):
        for last in range(first, min(n, first + max_ops)):
            seg = _segment(program, first, last, last_use)
            if seg is not None:
                found.append(seg)
    return found


def _banded(v: ir.Value) -> bool:
    return len(v.shape) == 4 and v.shape[0] == 1 and v.dtype == ir.DType.INT8


def _segment(program: ir.Program, first: int, last: int, last_use: dict[int, int]) -> Segment | None:
    ops = program.ops[first:last + 1]
    if not all(isinstance(op, STREAMABLE) for op in ops):
        return None
    produced = {op.outputs[0] for op in ops}
    outside = {v for op in ops for v in op.inputs if v not in produced}
    o = ops[-1].outputs[0]
    if len(outside) != 1:
        return None
    (x,) = outside
    if x in program.inputs and x in program.outputs or x in program.outputs or last_use[x] > last:
        return None
    if any(last_use[v] > last for v in produced - {o}) or rows(program.value(o)) < 2:
        return None
    if not all(_banded(program.value(v)) for v in produced | {x}):
        return None
    return Segment(first, last, x, o)


def forward(program: ir.Program, seg: Segment) -> Schedule:
    """The top-down pull schedule of a segment (see module doc)."""
    ops = [program.ops[i] for i in seg.ops]
    sched = Schedule(seg)
    height = {v: rows(program.value(v)) for op in ops for v in (*op.inputs, op.outputs[0])}
    rbytes = {v: row_bytes(program.value(v)) for v in height}
    done = {op.outputs[0]: 0 for op in ops}
    held_lo = {op.outputs[0]: 0 for op in ops}
    lines = {v for v in done if v != seg.o}
    for top in range(0, height[seg.o], seg.band):
        need_hi = {seg.o: min(top + seg.band, height[seg.o])}
        need_lo: dict[int, int] = {}
        for op in reversed(ops):
            v = op.outputs[0]
            a, b = done[v], need_hi.get(v, done[v])
            if a >= height[v]:
                continue
            for u in op.inputs:  # rows a consumer still needs start where its next rows' windows start
                lo = input_rows(op, height[u], a, a + 1)[0]
                need_lo[u] = min(need_lo.get(u, lo), lo)
                if a < b:
                    need_hi[u] = max(need_hi.get(u, 0), input_rows(op, height[u], a, b)[1])
        for index, op in zip(seg.ops, ops, strict=True):
            v = op.outputs[0]
            a, b = done[v], need_hi.get(v, done[v])
            if a >= b:
                continue
            if v in lines:
                keep = need_lo.get(v, a)
                if keep > held_lo[v] and a > keep:
                    src = Access(v, keep, a, (keep - held_lo[v]) * rbytes[v])
                    sched.calls.append(BandStep("move", index, (Place("line", v, src.offset, keep, a),),
                                                Place("line", v, 0, keep, a)))
                    sched.moved_bytes += (a - keep) * rbytes[v]
                held_lo[v] = max(held_lo[v], keep) if a > keep else a
                sched.line_rows[v] = max(sched.line_rows.get(v, 0), b - held_lo[v])
                out = Place("line", v, (a - held_lo[v]) * rbytes[v], a, b)
            else:
                out = Place("o", v, a * rbytes[v], a, b)
            ins = []
            for u in op.inputs:
                lo, hi = input_rows(op, height[u], a, b)
                if u == seg.x:
                    ins.append(Place("x", u, lo * rbytes[u], lo, hi))
                else:
                    if lo < held_lo[u] or hi > done[u]:
                        raise InternalError(f"band schedule of {op.name}: rows {lo}..{hi} of value {u} not held")
                    ins.append(Place("line", u, (lo - held_lo[u]) * rbytes[u], lo, hi))
            sched.calls.append(BandStep("call", index, tuple(ins), out))
            done[v] = b
    return sched


def backward(program: ir.Program, seg: Segment) -> Schedule | None:
    """Bottom-up: the forward calls of a single-op segment in reverse order (each call is independent)."""
    if seg.first != seg.last:
        return None
    fwd = forward(program, seg)
    return Schedule(seg, list(reversed(fwd.calls)), {}, 0)


def overlap_bounds(program: ir.Program, sched: Schedule, align: int) -> tuple[int | None, int | None]:
    """(delta_front, delta_back) as in the module doc; None where every offset is allowed on that side."""
    seg = sched.segment
    rx = row_bytes(program.value(seg.x))
    ro = row_bytes(program.value(seg.o))
    front: int | None = None
    back: int | None = None
    lo_after, hi_after = None, None  # hull of x rows read from the current call on
    for kind, _, ins, out in reversed(sched.calls):
        for place in ins:
            if place.region == "x":
                lo_after = place.r0 if lo_after is None else min(lo_after, place.r0)
                hi_after = place.r1 if hi_after is None else max(hi_after, place.r1)
        if kind != "call" or out.region != "o" or lo_after is None or hi_after is None:
            continue
        a, b = out.r0, out.r1
        f = lo_after * rx - b * ro
        k = hi_after * rx - a * ro
        front = f if front is None else min(front, f)
        back = k if back is None else max(back, k)
    if front is not None:
        front = front // align * align
    if back is not None:
        back = -(-back // align) * align
    return front, back


def shares_x(program: ir.Program, sched: Schedule) -> bool:
    """Whether o may live in x's very bytes: same size, and every write over x is exact or over dead rows."""
    seg = sched.segment
    vx, vo = program.value(seg.x), program.value(seg.o)
    if vx.nbytes != vo.nbytes or row_bytes(vx) != row_bytes(vo):
        return False
    r = row_bytes(vx)
    calls = sched.calls
    for i, (kind, index, _, out) in enumerate(calls):
        if kind != "call" or out.region != "o":
            continue
        written = (out.r0, out.r1)
        exact = isinstance(program.ops[index], ir.Add)
        for j in range(i, len(calls)):
            for place in calls[j].reads:
                if place.region != "x":
                    continue
                if j == i and exact and (place.r0, place.r1) == written:
                    continue
                if place.r0 < written[1] and written[0] < place.r1:
                    return False
    return r > 0


def resolve(program: ir.Program, sched: Schedule, x_at: int, o_at: int, line_at: dict[int, int]) -> list[Entry]:
    """The schedule's entries with arena offsets: x's tensor at x_at, o's at o_at, line buffers at line_at."""
    def access(place: Place) -> Access:
        base = x_at if place.region == "x" else o_at if place.region == "o" else line_at[place.vid]
        return Access(place.vid, place.r0, place.r1, base + place.rel)

    entries: list[Entry] = []
    for kind, index, ins, out in sched.calls:
        if kind == "move":
            entries.append(Move(index, access(ins[0]), access(out)))
        else:
            entries.append(Call(index, tuple(access(p) for p in ins), access(out)))
    return entries


def extra_instructions(sched: Schedule, program: ir.Program) -> int:
    """Cost model: instructions tiling adds over one call per op (calls beyond one per op, bytes moved).

    Bands keep their halo rows in line buffers, so tiling computes no MAC twice: its cost is calls and moves.
    """
    calls: dict[int, int] = {}
    for step in sched.calls:
        if step.kind == "call":
            calls[step.op] = calls.get(step.op, 0) + 1
    per_call = {i: CALL_COST + CALL_COST_PER_CHANNEL * program.value(program.ops[i].outputs[0]).shape[-1]
                for i in calls}
    return sum((n - 1) * per_call[i] for i, n in calls.items()) + sched.moved_bytes * MOVE_COST_PER_BYTE
