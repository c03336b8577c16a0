"""The memory timeline `edgec inspect` prints: which arena bytes each step uses, as text.

One line per op: the step, its arena occupancy, and a bar over the arena (``width`` columns, each
standing for ``arena / width`` bytes) with a letter per buffer alive at that step (the same letter
for a buffer all along its life; ``~`` for a tiled segment's line buffers, ``*`` where an output
overlaps its dying input inside a tiled segment), so reuse, in-place sharing and overlap are
visible. Then the tiled segments.
"""

from __future__ import annotations

import string

from .schedule import Plan

_LETTERS = string.ascii_letters + string.digits


def memory_timeline(plan: Plan, width: int = 64) -> str:
    program = plan.program
    arena = max(plan.arena_bytes, 1)
    letter: dict[int, str] = {}
    for b in plan.buffers:
        if b.line_of < 0:
            letter[b.key] = _LETTERS[len(letter) % len(_LETTERS)]
    peak = plan.live_bytes(plan.peak_op) if program.ops else 0
    head = f"memory timeline: arena {plan.arena_bytes:,} B, one column = {arena / width:,.0f} B, "
    lines = [head + f"peak at step {plan.peak_op} ({peak:,} B)"]
    for step, op in enumerate(program.ops):
        row = [" "] * width
        alive = [b for b in plan.buffers if b.first <= step <= b.last]

        def columns(start: int, end: int) -> range:
            lo = start * width // arena
            return range(lo, min(width, max(lo + 1, -(-end * width // arena))))

        for b in alive:
            for c in columns(b.offset, b.offset + b.size):
                if row[c] == " ":
                    row[c] = "~" if b.line_of >= 0 else letter[b.key]
        for i, a in enumerate(alive):
            for b in alive[i + 1:]:
                start, end = max(a.offset, b.offset), min(a.offset + a.size, b.offset + b.size)
                for c in columns(start, end) if start < end else ():
                    row[c] = "*"
        lines.append(f"{step:3d} {op.kind.name:18s} {plan.live_bytes(step):9,} |{''.join(row)}|")
    for t in plan.tiles:
        seg = t.segment
        shared = ", output in its input's bytes" if t.shared else ""
        line = f", line buffers {sum(t.front.line_rows.values())} rows" if t.front.line_rows else ""
        lines.append(f"tiled steps {seg.first}..{seg.last}: bands of {seg.band} row(s), "
                     f"{t.direction} order{shared}{line}")
    return "\n".join(lines)
