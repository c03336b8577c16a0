"""Operator ordering: the topological order of a branched graph with the smallest live-set peak.

The peak of an order is the largest total of 16-byte-aligned values alive at one step (a value
lives from its producer to its last consumer; model inputs from the start, outputs to the end),
as :func:`compiler.schedule.live_set_bound` counts it. The values alive after a set of ops has run
depend only on that set, so the least peak of the remaining ops is a function of the set: a
memoised search over the sets reachable in topological order (the graph's order ideals) finds the
exact minimum. A chain has one ideal per prefix, and each residual block or two-way branch
multiplies the count by a small factor, so real models stay far below the limit.

Limits: exact only while at most ``MAX_STATES`` sets are visited; beyond that (wide graphs) the
graph order is kept. Ties keep the graph order, so a graph already in a best order is unchanged.
"""

from __future__ import annotations

from functools import cache

from . import ir
from .schedule import ALIGNMENT, live_set_bound

MAX_STATES = 20_000


class _TooWide(Exception):
    pass


def reorder(program: ir.Program) -> ir.Program:
    """program with its ops in an order of least live-set peak (the graph order if no order is better)."""
    n = len(program.ops)
    if n < 3:
        return program
    size = [-(-v.nbytes // ALIGNMENT) * ALIGNMENT for v in program.values]
    producer = {op.outputs[0]: i for i, op in enumerate(program.ops)}
    needs = [frozenset(producer[v] for v in op.inputs if v in producer) for op in program.ops]
    readers: dict[int, set[int]] = {}
    for i, op in enumerate(program.ops):
        for v in op.inputs:
            readers.setdefault(v, set()).add(i)
    kept = set(program.outputs)

    def alive_after(done: frozenset[int]) -> int:
        vals = set(program.inputs) | {program.ops[i].outputs[0] for i in done}
        return sum(size[v] for v in vals if v in kept or not readers.get(v, set()) <= done)

    states = 0

    @cache
    def best(done: frozenset[int]) -> tuple[int, tuple[int, ...]]:
        nonlocal states
        states += 1
        if states > MAX_STATES:
            raise _TooWide
        if len(done) == n:
            return 0, ()
        base = alive_after(done)
        result: tuple[int, tuple[int, ...]] | None = None
        for i in range(n):  # ascending: among equal peaks the graph order comes first
            if i in done or not needs[i] <= done:
                continue
            out = program.ops[i].outputs[0]
            step = base + (size[out] if out not in set(program.inputs) else 0)
            rest_peak, rest = best(done | {i})
            peak = max(step, rest_peak)
            if result is None or peak < result[0]:
                result = (peak, (i, *rest))
        assert result is not None
        return result

    try:
        peak, order = best(frozenset())
    except _TooWide:
        return program
    if peak >= live_set_bound(program)[0] or list(order) == list(range(n)):
        return program
    reordered = ir.Program(program.name, program.values, tuple(program.ops[i] for i in order), program.inputs,
                           program.outputs, program.source_sha256)
    ir.verify(reordered)
    return reordered
