"""The integer FULLY_CONNECTED rescale (compiler/fc_layout.py, edgec_fc_finish) against TFLite's double formula.

The reference computes round_half_away(fl(double(acc) * scale)). The expected values here come from numpy's
IEEE double multiply and an exact half-away rounding written out below, never from the code under test. Pairs:
random accumulators over the whole int32 range and scales over 2^-33 .. 2^-1 (so some channels have no integer
form), and adversarial ones whose exact product lies within a few ulps (far below 2^-40) of a tie k + 1/2 or on
it, where a rescale without the double fallback would round the wrong way. The C kernels run on the host
(UBSan); the DSP and Helium builds share the function and are checked end to end in test_e2e_fast_kernels.py.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from test_kernels_conv import EDGEC_OK, Case, CCall

from compiler import ir
from compiler.fc_layout import SAFE_MAGNITUDE, blocked_weights, fixed_rescale, fixed_rescale_result


def _round_half_away(p: np.ndarray) -> np.ndarray:
    """C's round() of doubles with |p| < 2^52, exactly: truncate, then compare the remainder with 1/2 (p - trunc(p)
    only drops leading bits, so it is exact; p - floor(p) is not: 1 - 0.49999999999999994 rounds to above 1/2)."""
    t = np.trunc(p)
    frac = p - t
    return (t + (frac >= 0.5) - (frac <= -0.5)).astype(np.int64)


def _reference(acc: np.ndarray, scale: np.ndarray, offset: int, lo: int, hi: int) -> np.ndarray:
    p = acc.astype(np.float64) * scale
    v = _round_half_away(np.clip(p, -2.0**40, 2.0**40))  # beyond int8 either way: the clamp decides
    return np.clip(v + offset, lo, hi)


def _random_pairs(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    scale = rng.uniform(1.0, 2.0, count) * np.exp2(rng.integers(-33, -1, count).astype(np.float64))
    magnitude = np.exp2(rng.uniform(0, 31, count))
    acc = np.clip(np.round(rng.choice([-1, 1], count) * magnitude), -2**31, 2**31 - 1).astype(np.int64)
    return acc, scale


def _near_tie_pairs(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """acc * scale within a few ulps of k + 1/2, |k| <= 140, from both sides; a quarter exactly on the tie."""
    tie = rng.integers(-140, 141, count) + 0.5
    exact = rng.random(count) < 0.25
    bits = rng.integers(8, 31, count)
    acc = np.where(exact, np.exp2(bits), np.floor(rng.uniform(0.5, 1.0, count) * np.exp2(bits)))
    acc = (np.sign(tie) * np.maximum(acc, 1)).astype(np.int64)
    scale = tie / acc.astype(np.float64)  # exact when acc is a power of two
    nudge = np.where(exact, 0, rng.integers(-3, 4, count))
    for i in np.nonzero(nudge)[0]:
        direction = np.inf if nudge[i] > 0 else -np.inf
        for _ in range(abs(int(nudge[i]))):
            scale[i] = np.nextafter(scale[i], direction)
    return acc, scale


def test_near_tie_pairs_are_adversarial() -> None:
    """The constructed products lie within 2^-40 of a tie (so no fixed-point approximation alone can decide)."""
    acc, scale = _near_tie_pairs(np.random.default_rng(3), 2000)
    for a, s in zip(acc, scale):
        x = int(a) * Fraction(float(s))
        assert abs(x - math.floor(x) - Fraction(1, 2)) < Fraction(1, 2**40)


@pytest.mark.parametrize("kind", ["random", "near_tie"])
def test_python_model_decides_only_where_safe(kind: str) -> None:
    """Where the integer step claims to decide, its q is the reference's result; near ties it must defer."""
    rng = np.random.default_rng(11 if kind == "random" else 12)
    acc, scale = (_random_pairs if kind == "random" else _near_tie_pairs)(rng, 200_000)
    multiplier, n = fixed_rescale(scale)
    ref = _round_half_away(np.clip(acc.astype(np.float64) * scale, -2.0**40, 2.0**40))
    q, safe = fixed_rescale_result(acc, multiplier, n)
    small = safe & (np.abs(q) < SAFE_MAGNITUDE)
    assert np.array_equal(q[small], ref[small])
    large = safe & (np.abs(q) >= SAFE_MAGNITUDE)
    assert np.all(np.sign(q[large]) == np.sign(ref[large])) and np.all(np.abs(ref[large]) >= 511)
    has_fixed = multiplier != 0
    assert np.count_nonzero(has_fixed) > acc.size * 0.9  # the scales mostly have an integer form
    deferred = np.count_nonzero(~safe & has_fixed)
    if kind == "random":
        assert deferred <= acc.size * 1e-4  # the window is 2^-19 of the line
    else:
        assert np.all(~safe[has_fixed])  # every near-tie product defers to the double formula


def _fc_case(acc: np.ndarray, scale: np.ndarray, offset: int, lo: int, hi: int) -> Case:
    """One output channel per pair: IC 5 with a zero input, so each channel's accumulator is its bias."""
    oc = acc.size
    op = ir.FullyConnected("fc", (0,), (1,), weights=np.ones((oc, 5), dtype=np.int8),
                           bias=acc.astype(np.int32), scale=scale.astype(np.float64), output_offset=offset,
                           act_min=lo, act_max=hi)
    return Case(op, np.zeros((1, 5), dtype=np.int8), ir.Value(1, "out", (1, oc), ir.DType.INT8))


@pytest.mark.parametrize("kind", ["random", "near_tie"])
@pytest.mark.parametrize("clamp", [(0, -128, 127), (-128, -128, 127), (37, -20, 90)])
def test_c_kernels_match_double_formula(runtime: Any, kind: str, clamp: tuple[int, int, int]) -> None:
    offset, lo, hi = clamp
    rng = np.random.default_rng([len(kind), offset + 128, lo + 128, hi + 128])
    acc, scale = (_random_pairs if kind == "random" else _near_tie_pairs)(rng, 4000)
    expected = _reference(acc, scale, offset, lo, hi)
    case = _fc_case(acc, scale, offset, lo, hi)
    call = CCall(runtime, case, fast=True)
    assert call.run() == EDGEC_OK
    assert np.array_equal(call.output.ravel().astype(np.int64), expected)
    assert np.array_equal(np.asarray(call.keep[1]), blocked_weights(case.op.weights))
