"""Static safety analysis of a lowered program: what can be proved before any C runs.

Accumulator range: a convolution or fully connected layer computes ``acc = bias'[c] + Σ x·w`` in
int32, with every input ``x`` in [-128, 127] (padding reads the input zero point, also in that
range). The worst case over all inputs is ``|bias'[c]| + 128 · Σ|w[c]|``; when that fits in int32
the accumulator provably never overflows, whatever the input. A layer where it does not fit gets
a warning naming it: the C kernels wrap like TFLite's int32 accumulator (identical results), but
such a layer computes garbage on the inputs that overflow, in TFLite as in edgec.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import ir
from .fixedpoint import INT32_MAX


@dataclass(frozen=True, slots=True)
class AccumulatorBound:
    layer: str
    op: str
    bound: int  # largest possible |acc| over every input and channel

    @property
    def safe(self) -> bool:
        return self.bound <= INT32_MAX


def accumulator_bounds(program: ir.Program) -> list[AccumulatorBound]:
    """The worst-case |accumulator| of every MAC layer, from its actual weights and biases."""
    bounds = []
    for op in program.ops:
        if isinstance(op, ir.Conv2D):
            per_channel = np.abs(op.weights.astype(np.int64)).reshape(op.weights.shape[0], -1).sum(axis=1)
        elif isinstance(op, ir.DepthwiseConv2D):
            per_channel = np.abs(op.weights.astype(np.int64)).reshape(-1, op.weights.shape[2]).sum(axis=0)
        elif isinstance(op, ir.FullyConnected):
            per_channel = np.abs(op.weights.astype(np.int64)).sum(axis=1)
        else:
            continue
        worst = np.abs(op.bias.astype(np.int64)) + 128 * per_channel
        bounds.append(AccumulatorBound(op.name, op.kind.name, int(worst.max(initial=0))))
    return bounds


def warnings(program: ir.Program) -> list[str]:
    """User-facing warnings about the program (empty when everything is proved safe)."""
    return [
        f"layer {b.layer!r} ({b.op}): the int32 accumulator can reach {b.bound:,} (> {INT32_MAX:,}) for some "
        "inputs and then wraps, in TFLite as in edgec; retrain or requantize with smaller weights or biases"
        for b in accumulator_bounds(program) if not b.safe
    ]
