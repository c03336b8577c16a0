"""Static memory plan: one arena for every activation buffer, offsets fixed at compile time.

Algorithm
---------
1. Lifetimes. Ops run in program order (step 0..n-1). A value lives from the step that
   produces it (model inputs: from before step 0) to the last step that reads it (model
   outputs: to the end). Two values share one buffer (one lifetime, the union) where that is
   exact (``compiler.calls`` states the rule per op kind): a RESHAPE whose input dies there is a
   view, and an ADD whose input of the same size dies there writes its output over it
   (``edgec_add_s8`` reads element i of both inputs before writing element i).
2. Tiling (only when asked for, ``compiler.tiling``): a segment's ops become one step; the
   values inside it get small line buffers alive during that step; its output may overlap its
   dying input within the bounds its band schedule proves (``offset(o) - offset(x) <= front`` or
   ``>= back``), or share its bytes outright.
3. Placement. Each strategy orders the buffers and puts each at the lowest 16-byte-aligned
   offset allowed by every already-placed buffer whose lifetime intersects its own (first fit
   over the gaps; a pair with overlap bounds forbids only offsets between them). Orders: by
   size descending (TFLM's greedy), by start of life, by size x lifetime; placements: first fit,
   and best fit (the smallest gap that holds the buffer). The smallest arena wins; ties keep the
   first.
4. Execution list. The plan ends in ``entries``: one kernel call per op, or a segment's band
   calls and line-buffer moves, with arena offsets (``compiler.calls``).
5. Verification. :func:`verify_plan` checks every pair of buffers with intersecting lifetimes
   for overlapping bytes (allowed only within a pair's proven bounds) and every offset for
   alignment; :func:`compiler.calls.verify_calls` then simulates the execution list row by row
   and raises if any read would find its bytes clobbered or any write is not exact in place.

Limits: ops are placed in the order they come (``compiler.reorder`` chooses it beforehand);
placement is greedy per strategy, not an exact packing. ``live_bound`` is the largest set of values alive at
once in graph order with nothing shared; without tiling the arena is at least the largest set of
simultaneously live *buffers*, which equals ``live_bound`` unless in-place sharing lowers it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import ir
from .calls import Entry, verify_calls, whole_op_calls
from .errors import InternalError
from .tiling import Schedule, Segment, backward, forward, overlap_bounds, resolve, shares_x

ALIGNMENT = 16


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


@dataclass(frozen=True, slots=True)
class Buffer:
    """One arena allocation: the values stored in it (more than one when shared; none for a line buffer)."""

    values: tuple[int, ...]
    size: int
    first: int  # step producing it; -1 for model inputs
    last: int  # last step reading it; n for model outputs
    offset: int = -1
    line_of: int = -1  # for a segment's line buffer: the value whose rows it holds

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last

    @property
    def key(self) -> int:
        return self.values[0] if self.values else -1 - self.line_of


@dataclass(frozen=True, slots=True)
class Tile:
    """A segment as planned: its schedules, overlap bounds and the direction the placement chose."""

    segment: Segment
    front: Schedule
    back: Schedule | None
    front_bound: int | None
    back_bound: int | None
    shared: bool  # o lives in x's buffer
    direction: str = "front"


@dataclass(frozen=True, slots=True)
class Plan:
    program: ir.Program
    buffers: tuple[Buffer, ...]
    arena_bytes: int
    strategy: str
    live_bound: int  # live_set_bound: graph order, nothing shared; in-place execution and tiling go below it
    peak_step: int  # the step where live_bound is reached
    entries: tuple[Entry, ...] = ()
    tiles: tuple[Tile, ...] = field(default=())

    def offset(self, vid: int) -> int:
        for b in self.buffers:
            if vid in b.values:
                return b.offset
        raise KeyError(vid)

    def live_bytes(self, step: int) -> int:
        """Bytes of the arena in use at a step: the union of the byte ranges of buffers alive then."""
        spans = sorted((b.offset, b.offset + b.size) for b in self.buffers if b.first <= step <= b.last)
        total, reach = 0, 0
        for start, end in spans:
            if end > reach:
                total += end - max(start, reach)
                reach = end
        return total

    @property
    def peak_op(self) -> int:
        """The step whose arena occupancy is largest."""
        n = len(self.program.ops)
        return max(range(n), key=self.live_bytes) if n else 0


def _exact_sharing(program: ir.Program, last_use: dict[int, int]) -> dict[int, int]:
    """value -> the value whose buffer it shares: reshape views and in-place ADD outputs."""
    group: dict[int, int] = {}
    ports = set(program.inputs) | set(program.outputs)
    for step, op in enumerate(program.ops):
        dst = op.outputs[0]
        if isinstance(op, ir.Reshape):
            candidates = [op.inputs[0]]
        elif isinstance(op, ir.Add):
            candidates = list(op.inputs)
        else:
            continue
        for src in candidates:
            if (last_use[src] == step and src not in ports and dst not in ports
                    and program.values[src].nbytes == program.values[dst].nbytes):
                group[dst] = group.get(src, src)
                break
    return group


def _buffers(program: ir.Program, tiles: list[Tile]) -> list[Buffer]:
    n = len(program.ops)
    produced = {vid: -1 for vid in program.inputs}
    last_use = {vid: -1 for vid in range(len(program.values))}
    for step, op in enumerate(program.ops):
        for vid in op.outputs:
            produced[vid] = step
        for vid in op.inputs:
            last_use[vid] = max(last_use[vid], step)
    for vid in program.outputs:
        last_use[vid] = n
    inside: set[int] = set()
    for t in tiles:
        seg = t.segment
        inside |= {program.ops[i].outputs[0] for i in seg.ops} - {seg.o}
        last_use[seg.x] = max(last_use[seg.x], seg.last)
        produced[seg.o] = seg.first
    tiled_ops = {i for t in tiles for i in t.segment.ops}
    group = {d: s for d, s in _exact_sharing(program, last_use).items() if produced[d] not in tiled_ops}
    for t in tiles:
        if t.shared:
            group[t.segment.o] = group.get(t.segment.x, t.segment.x)
    members: dict[int, list[int]] = {}
    for vid in produced:
        if vid not in inside:
            members.setdefault(group.get(vid, vid), []).append(vid)
    buffers = []
    for vids in members.values():
        size = max(program.values[v].nbytes for v in vids)
        first = min(produced[v] for v in vids)
        last = max(max(last_use[v], produced[v]) for v in vids)
        buffers.append(Buffer(tuple(sorted(vids)), _align(size), first, last))
    for t in tiles:
        seg = t.segment
        for vid, nrows in t.front.line_rows.items():
            nbytes = nrows * program.values[vid].nbytes // program.values[vid].shape[1]
            buffers.append(Buffer((), _align(nbytes), seg.first, seg.last, line_of=vid))
    return buffers


Rules = dict[tuple[int, int], tuple[int | None, int | None]]  # (x key, o key) -> (front, back)


def _forbidden(b: Buffer, p: Buffer, rules: Rules) -> tuple[int, int]:
    """Open interval of offsets for b that placed buffer p forbids."""
    lo, hi = p.offset - b.size, p.offset + p.size
    if (p.key, b.key) in rules:  # b is o of a segment whose x is p: o - x <= front or >= back
        front, back = rules[(p.key, b.key)]
        if front is not None:
            lo = max(lo, p.offset + front)
        if back is not None:
            hi = min(hi, p.offset + back)
    elif (b.key, p.key) in rules:  # b is x, p is o: x >= o - front or x <= o - back
        front, back = rules[(b.key, p.key)]
        if back is not None:
            lo = max(lo, p.offset - back)
        if front is not None:
            hi = min(hi, p.offset - front)
    return lo, hi


def _waste(offset: int, size: int, banned: list[tuple[int, int]]) -> int:
    """Bytes left between a buffer at offset and the next forbidden range above it (best fit's measure)."""
    above = [lo for lo, _ in banned if lo >= offset]
    return min(above) - offset - size if above else 1 << 40


def _place(buffers: list[Buffer], rules: Rules, best_fit: bool) -> list[Buffer]:
    placed: list[Buffer] = []
    for b in buffers:
        banned = sorted(_forbidden(b, p, rules) for p in placed if p.overlaps_in_time(b))
        banned = [(lo, hi) for lo, hi in banned if hi - lo > 1]
        candidates = [0] + [_align(hi) for _, hi in banned]
        fits = [c for c in candidates if c >= 0 and all(c <= lo or c >= hi for lo, hi in banned)]
        offset = min(fits, key=lambda c: (_waste(c, b.size, banned), c)) if best_fit else min(fits)
        placed.append(Buffer(b.values, b.size, b.first, b.last, offset, b.line_of))
    return placed


_ORDERS: dict[str, Callable[[Buffer], tuple]] = {
    "size": lambda b: (-b.size, b.first),
    "first-use": lambda b: (b.first, -b.size),
    "size-x-lifetime": lambda b: (-b.size * (b.last - b.first + 1), -b.size),
}


def _tile(program: ir.Program, seg: Segment) -> Tile:
    fwd = forward(program, seg)
    bwd = backward(program, seg)
    front, _ = overlap_bounds(program, fwd, ALIGNMENT)
    back = overlap_bounds(program, bwd, ALIGNMENT)[1] if bwd is not None else None
    return Tile(seg, fwd, bwd, front, back, shares_x(program, fwd))


def live_set_bound(program: ir.Program) -> tuple[int, int]:
    """(bytes, step): the largest total of 16-byte-aligned values alive at once in graph order, nothing shared.

    Without in-place execution or tiling no placement can go below it; the plan reports its arena next to it.
    """
    n = len(program.ops)
    first = {v: -1 for v in program.inputs}
    last = {v: n for v in program.outputs}
    for step, op in enumerate(program.ops):
        first.setdefault(op.outputs[0], step)
        for v in op.inputs:
            last[v] = max(last.get(v, step), step)
    live = [sum(_align(program.values[v].nbytes) for v in first if first[v] <= s <= last.get(v, first[v]))
            for s in range(n)]
    if not live:
        return 0, 0
    peak = max(range(n), key=lambda s: live[s])
    return live[peak], peak


def _rules(buffers: list[Buffer] | tuple[Buffer, ...], tiles: list[Tile] | tuple[Tile, ...]) -> Rules:
    """Overlap bounds keyed by the buffers holding each segment's x and o."""
    key = {v: b.key for b in buffers for v in b.values}
    return {(key[t.segment.x], key[t.segment.o]): (t.front_bound, t.back_bound) for t in tiles if not t.shared}


def plan_memory(program: ir.Program, segments: list[Segment] | tuple[Segment, ...] = (), *,
                verify: bool = True) -> Plan:
    """Place every buffer (tiling the given segments); keep the order and placement with the smallest arena."""
    tiles = [_tile(program, s) for s in segments]
    buffers = _buffers(program, tiles)
    rules = _rules(buffers, tiles)
    live_bound, peak_step = live_set_bound(program)
    best: Plan | None = None
    for name, key in _ORDERS.items():
        for best_fit in (False, True):
            placed = _place(sorted(buffers, key=key), rules, best_fit)
            arena = max((b.offset + b.size for b in placed), default=0)
            if best is None or arena < best.arena_bytes:
                placed.sort(key=lambda b: (b.values[0] if b.values else len(program.values) + b.line_of))
                best = Plan(program, tuple(placed), arena, name + ("/best-fit" if best_fit else ""), live_bound,
                            peak_step)
    assert best is not None
    best = _with_entries(best, tiles)
    if verify:
        verify_plan(best)
    return best


def _with_entries(plan: Plan, tiles: list[Tile]) -> Plan:
    """Resolve every op and segment into the execution list at the placed offsets."""
    program = plan.program
    whole = whole_op_calls(program, lambda v: _offset_or(plan, v))
    lines = {b.line_of: b.offset for b in plan.buffers if b.line_of >= 0}
    by_first = {t.segment.first: t for t in tiles}
    entries: list[Entry] = []
    chosen: list[Tile] = []
    step = 0
    while step < len(program.ops):
        t = by_first.get(step)
        if t is None:
            entries.append(whole[step])
            step += 1
            continue
        seg = t.segment
        x_at, o_at = plan.offset(seg.x), plan.offset(seg.o)
        d = o_at - x_at
        use_back = (not t.shared and t.back is not None and t.back_bound is not None and d >= t.back_bound
                    and not (t.front_bound is not None and d <= t.front_bound))
        sched = t.back if use_back and t.back is not None else t.front
        entries += resolve(program, sched, x_at, o_at, lines)
        chosen.append(Tile(seg, t.front, t.back, t.front_bound, t.back_bound, t.shared,
                           "back" if use_back else "front"))
        step = seg.last + 1
    return Plan(plan.program, plan.buffers, plan.arena_bytes, plan.strategy, plan.live_bound, plan.peak_step,
                tuple(entries), tuple(chosen))


def _offset_or(plan: Plan, vid: int) -> int:
    try:
        return plan.offset(vid)
    except KeyError:
        return -1  # a value inside a segment: its whole-op call is never used


def verify_plan(plan: Plan) -> None:
    """Raise InternalError if two buffers alive at once share a byte outside proven bounds, an offset is
    misaligned, or the execution list reads a clobbered row (compiler.calls.verify_calls)."""
    seen: set[int] = set()
    for b in plan.buffers:
        if b.offset < 0 or b.offset % ALIGNMENT:
            raise InternalError(f"buffer of values {b.values} at misaligned offset {b.offset}")
        if b.offset + b.size > plan.arena_bytes:
            raise InternalError(f"buffer of values {b.values} ends past the arena ({plan.arena_bytes} B)")
        for vid in b.values:
            if plan.program.values[vid].nbytes > b.size:
                raise InternalError(f"value {vid} does not fit its buffer")
            if vid in seen:
                raise InternalError(f"value {vid} placed twice")
            seen.add(vid)
    bounds = _rules(plan.buffers, plan.tiles)
    for i, a in enumerate(plan.buffers):
        for b in plan.buffers[i + 1:]:
            if not (a.overlaps_in_time(b) and a.offset < b.offset + b.size and b.offset < a.offset + a.size):
                continue
            for x, o in ((a, b), (b, a)):
                front, back = bounds.get((x.key, o.key), (None, None))
                d = o.offset - x.offset
                if (front is not None and d <= front) or (back is not None and d >= back):
                    break
            else:
                raise InternalError(f"buffers {a.values} and {b.values} overlap in the arena while both are alive")
    if plan.entries:
        ports = {v: plan.offset(v) for v in (*plan.program.inputs, *plan.program.outputs)}
        verify_calls(plan.program, plan.entries, plan.arena_bytes, ports)
