"""Fitting a model into an SRAM budget: which ops to tile, and in bands of how many rows.

Algorithm (greedy, each step judged by a full placement):

1. Without a budget, or when the untiled plan fits, nothing is tiled (no overhead at all).
2. Smallest arena: start from every single-op segment in one-row bands (each op streams its
   output over its dying input); then, while the op at the arena's peak is in some candidate
   segment (``compiler.tiling.find_segments``: runs of up to six ops, fused so their
   intermediates live in line buffers) whose adoption, replacing the segments it overlaps,
   lowers the arena, adopt the best one.
3. Cheapest plan that fits: from the smallest arena's segments, drop each segment whose removal
   keeps the arena within the budget (most expensive first), then double each remaining
   segment's band while the arena still fits, then add one row at a time while it fits (the
   tallest band that fits: fewer calls, e.g. 25 rows in five bands of 5 instead of seven of 4). The cost of a plan is
   ``compiler.tiling.extra_instructions`` summed over its segments: extra kernel calls and
   line-buffer bytes moved (bands keep halos, so no MAC is computed twice).

``--sram-budget min`` is step 2 followed by step 3 with the smallest arena as the budget.
Limits: greedy, so not proven optimal; a budget below the smallest arena found raises
:class:`DoesNotFitError` naming that arena.
"""

from __future__ import annotations

import dataclasses

from . import ir
from .errors import DoesNotFitError
from .schedule import Plan, plan_memory
from .tiling import Segment, extra_instructions, find_segments, forward

MIN = "min"


def cost(plan: Plan) -> int:
    """Estimated instructions the plan's tiling adds over one call per op."""
    return sum(extra_instructions(t.front if t.direction == "front" else t.back or t.front, plan.program)
               for t in plan.tiles)


def _disjoint(a: Segment, b: Segment) -> bool:
    return a.last < b.first or b.last < a.first


def smallest(program: ir.Program) -> tuple[list[Segment], Plan]:
    """Step 2 of the module doc: the segments of the smallest arena found, and its plan."""
    candidates = find_segments(program)
    chosen = [s for s in candidates if s.first == s.last]
    plan = plan_memory(program, chosen, verify=False)
    base = plan_memory(program, verify=False)
    if base.arena_bytes <= plan.arena_bytes:
        chosen, plan = [], base
    tried: set[tuple] = set()
    while True:
        peak = plan.peak_op
        best: tuple[int, int, list[Segment], Plan] | None = None
        for c in candidates:
            if not c.first <= peak <= c.last or c in chosen:
                continue
            trial = sorted([s for s in chosen if _disjoint(s, c)] + [c], key=lambda s: s.first)
            key = tuple((s.first, s.last) for s in trial)
            if key in tried:
                continue
            tried.add(key)
            p = plan_memory(program, trial, verify=False)
            if best is None or (p.arena_bytes, cost(p)) < best[:2]:
                best = (p.arena_bytes, cost(p), trial, p)
        if best is None or best[0] >= plan.arena_bytes:
            return chosen, plan
        chosen, plan = best[2], best[3]


def cheapest(program: ir.Program, chosen: list[Segment], budget: int) -> Plan:
    """Step 3 of the module doc."""
    by_cost = sorted(chosen, key=lambda s: -extra_instructions_of(program, s))
    for s in by_cost:
        trial = [t for t in chosen if t != s]
        p = plan_memory(program, trial, verify=False)
        if p.arena_bytes <= budget:
            chosen = trial
    for i in range(len(chosen)):
        rows = program.value(chosen[i].o).shape[1]
        for step in ("double", "add one"):  # the band doubles while it fits, then grows a row at a time
            while chosen[i].band < rows:
                band = chosen[i].band * 2 if step == "double" else chosen[i].band + 1
                wider = dataclasses.replace(chosen[i], band=min(band, rows))
                trial = chosen[:i] + [wider] + chosen[i + 1:]
                p = plan_memory(program, trial, verify=False)
                if p.arena_bytes > budget:
                    break
                chosen = trial
    return plan_memory(program, chosen)


def extra_instructions_of(program: ir.Program, seg: Segment) -> int:
    return extra_instructions(forward(program, seg), program)


def plan_for_budget(program: ir.Program, budget: int | str | None) -> Plan:
    """The plan for an SRAM budget in bytes, MIN for the smallest arena, or None for no tiling."""
    base = plan_memory(program)
    if budget is None or (budget != MIN and base.arena_bytes <= int(budget)):
        return base
    chosen, small = smallest(program)
    if budget == MIN:
        return cheapest(program, chosen, small.arena_bytes)
    if small.arena_bytes > int(budget):
        raise DoesNotFitError(
            f"the activation arena needs at least {small.arena_bytes:,} bytes even tiled (untiled "
            f"{base.arena_bytes:,}), more than the --sram-budget of {int(budget):,}; use --sram-budget "
            f"{small.arena_bytes} or more (--sram-budget min picks it)")
    return cheapest(program, chosen, int(budget))
