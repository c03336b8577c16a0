"""Static memory plan: one arena for every activation buffer, offsets fixed at compile time.

Algorithm
---------
1. Lifetimes. Ops run in program order (step 0..n-1). A value lives from the step that
   produces it (model inputs: from before step 0) to the last step that reads it (model
   outputs: to the end). A RESHAPE whose input dies at the reshape becomes a view: input and
   output share one buffer (one lifetime, the union), so the reshape costs no copy.
2. Placement. Each strategy orders the buffers and puts each at the lowest 16-byte-aligned
   offset where it overlaps no already-placed buffer whose lifetime intersects its own
   (first fit on the gaps). Strategies: by size descending (TFLM's greedy), by start of
   life, and by size x lifetime. The smallest arena wins; ties keep the first.
3. Verification. :func:`verify_plan` checks every pair of buffers with intersecting
   lifetimes for overlapping byte ranges and every offset for alignment, and raises.

Limits: no in-place execution beyond reshape views, no operator reordering, no tiling; the
arena is therefore at least the largest set of simultaneously live buffers
(``live_bound``), which the plan reports next to the arena it reached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import ir
from .errors import InternalError

ALIGNMENT = 16


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


@dataclass(frozen=True, slots=True)
class Buffer:
    """One arena allocation: the values stored in it (more than one for views), bytes, life in steps."""

    values: tuple[int, ...]
    size: int
    first: int  # step producing it; -1 for model inputs
    last: int  # last step reading it; n for model outputs
    offset: int = -1

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass(frozen=True, slots=True)
class Plan:
    program: ir.Program
    buffers: tuple[Buffer, ...]
    arena_bytes: int
    strategy: str
    live_bound: int  # the largest total of buffers alive at one step: no placement can go below it
    peak_step: int  # the step where live_bound is reached

    def offset(self, vid: int) -> int:
        for b in self.buffers:
            if vid in b.values:
                return b.offset
        raise KeyError(vid)

    def live_bytes(self, step: int) -> int:
        """Bytes of the buffers alive at a step (for per-layer arena occupancy)."""
        return sum(b.size for b in self.buffers if b.first <= step <= b.last)


def _buffers(program: ir.Program) -> list[Buffer]:
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
    # A reshape whose input dies there is a view of its input.
    group: dict[int, int] = {}
    for step, op in enumerate(program.ops):
        src, dst = op.inputs[0] if op.inputs else -1, op.outputs[0]
        if (isinstance(op, ir.Reshape) and last_use[src] == step and src not in program.inputs
                and src not in program.outputs):
            group[dst] = group.get(src, src)
    members: dict[int, list[int]] = {}
    for vid in produced:
        members.setdefault(group.get(vid, vid), []).append(vid)
    buffers = []
    for vids in members.values():
        size = max(program.values[v].nbytes for v in vids)
        first = min(produced[v] for v in vids)
        last = max(max(last_use[v], produced[v]) for v in vids)
        buffers.append(Buffer(tuple(sorted(vids)), _align(size), first, last))
    return buffers


def _place(buffers: list[Buffer]) -> list[Buffer]:
    placed: list[Buffer] = []
    for b in buffers:
        busy = sorted((p.offset, p.offset + p.size) for p in placed if p.overlaps_in_time(b))
        offset = 0
        for start, end in busy:
            if offset + b.size <= start:
                break
            offset = max(offset, _align(end))
        placed.append(Buffer(b.values, b.size, b.first, b.last, offset))
    return placed


_STRATEGIES: dict[str, Callable[[Buffer], tuple]] = {
    "size": lambda b: (-b.size, b.first),
    "first-use": lambda b: (b.first, -b.size),
    "size-x-lifetime": lambda b: (-b.size * (b.last - b.first + 1), -b.size),
}


def plan_memory(program: ir.Program) -> Plan:
    """Place every buffer; keep the strategy with the smallest arena."""
    buffers = _buffers(program)
    n = len(program.ops)
    live = [sum(b.size for b in buffers if b.first <= s <= b.last) for s in range(-1, n + 1)]
    live_bound = max(live, default=0)
    peak_step = max(range(len(live)), key=lambda i: live[i]) - 1 if live else 0
    best: Plan | None = None
    for name, key in _STRATEGIES.items():
        placed = _place(sorted(buffers, key=key))
        arena = max((b.offset + b.size for b in placed), default=0)
        if best is None or arena < best.arena_bytes:
            placed.sort(key=lambda b: b.values[0])
            best = Plan(program, tuple(placed), arena, name, live_bound, min(max(peak_step, 0), max(n - 1, 0)))
    assert best is not None
    verify_plan(best)
    return best


def verify_plan(plan: Plan) -> None:
    """Raise InternalError if two buffers alive at once share a byte, or an offset is misaligned."""
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
    for i, a in enumerate(plan.buffers):
        for b in plan.buffers[i + 1:]:
            if a.overlaps_in_time(b) and a.offset < b.offset + b.size and b.offset < a.offset + a.size:
                raise InternalError(f"buffers {a.values} and {b.values} overlap in the arena while both are alive")
