"""Rolling a tiled layer's band calls back into C loops, so tiling costs little flash.

A tiled plan's execution list repeats itself: band after band, the same kernel calls with the same
parameters and dimensions, the arena offsets moving by a constant stride (a single-op segment
repeats one call; a fused segment repeats its calls and line-buffer moves, a period of several
steps). :func:`loop_groups` finds, from each step on, the period of up to ``MAX_PERIOD`` steps
that repeats the most times with every offset affine in the repetition count ``k``, and turns the
run into one :class:`Group` whose steps carry offsets as C expressions (``base + stride * k``).
Steps that differ in anything but offsets (border bands with their own padding or height) stay
single. The rendered loop executes exactly the unrolled list the planner verified.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

MAX_PERIOD = 8


@dataclass(frozen=True, slots=True)
class Group:
    count: int  # iterations; 1 for a step emitted as it is
    steps: list  # Step objects; offsets are ints, or C expressions in k when count > 1


def _signature(step) -> tuple:  # type: ignore[no-untyped-def]
    """Everything about a step but its arena offsets."""
    return (step.index, step.kind, tuple(sorted(step.params.items())), tuple(sorted(step.dims.items())),
            tuple(sorted(step.consts.items())), tuple(sorted(step.extra.items())),
            tuple((b.ctype, b.nbytes) for b in (*step.inputs, step.output)))


def _offsets(step) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    return tuple(b.offset for b in (*step.inputs, step.output))


def _repeats(steps: list, start: int, period: int) -> int:
    """How many times steps[start:start + period] repeats from start with offsets moving by one stride each time."""
    if start + 2 * period > len(steps):
        return 1
    first = steps[start:start + period]
    sigs = [_signature(s) for s in first]
    base = [_offsets(s) for s in first]
    nxt = steps[start + period:start + 2 * period]
    if [_signature(s) for s in nxt] != sigs:
        return 1
    stride = [tuple(b - a for a, b in zip(x, y, strict=True)) for x, y in zip(base, map(_offsets, nxt), strict=True)]
    count = 2
    while start + (count + 1) * period <= len(steps):
        block = steps[start + count * period:start + (count + 1) * period]
        for j, s in enumerate(block):
            want = tuple(o + count * d for o, d in zip(base[j], stride[j], strict=True))
            if _signature(s) != sigs[j] or _offsets(s) != want:
                return count
        count += 1
    return count


def _affine(step, later):  # type: ignore[no-untyped-def]
    """step with each offset written as base + stride * k, the stride taken from the next repetition."""
    def expr(base: int, nxt: int) -> int | str:
        d = nxt - base
        return base if d == 0 else f"({base} {'+' if d > 0 else '-'} {abs(d)} * k)"

    ins = [dataclasses.replace(b, offset=expr(b.offset, n.offset)) for b, n in zip(step.inputs, later.inputs,
                                                                                   strict=True)]
    out = dataclasses.replace(step.output, offset=expr(step.output.offset, later.output.offset))
    return dataclasses.replace(step, inputs=ins, output=out, comment=step.comment + " (first of the loop)")


def loop_groups(steps: list) -> list[Group]:
    groups: list[Group] = []
    i = 0
    while i < len(steps):
        period, count = 1, 1
        for p in range(1, MAX_PERIOD + 1):
            c = _repeats(steps, i, p)
            if c >= 2 and c * p > period * count:
                period, count = p, c
        if count == 1:
            groups.append(Group(1, [steps[i]]))
            i += 1
            continue
        groups.append(Group(count, [_affine(steps[i + j], steps[i + period + j]) for j in range(period)]))
        i += period * count
    return groups
