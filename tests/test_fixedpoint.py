"""Fixed-point arithmetic: literal goldens worked out by hand from the definitions, and the C mirror."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.fixedpoint import (
    INT32_MAX,
    INT32_MIN,
    activation_range,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
)


@pytest.mark.parametrize(
    "real, expected",
    [
        (0.0, (0, 0)),
        (0.5, (1 << 30, 0)),  # frexp(0.5) = 0.5 * 2^0
        (1.0, (1 << 30, 1)),  # 0.5 * 2^1
        (0.75, (1610612736, 0)),  # 0.75 * 2^31
        (0.1, (1717986918, -3)),  # 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4 rounds down
        (2.0**-40, (0, 0)),  # shift -39 < -31 flushes to zero
        ((1 - 2.0**-40) * 2.0**-3, (1 << 30, -2)),  # rounds up to 2^31, renormalised
    ],
)
def test_quantize_multiplier_goldens(real: float, expected: tuple[int, int]) -> None:
    assert quantize_multiplier(real) == expected


def test_quantize_multiplier_rejects_negative() -> None:
    with pytest.raises(ValueError):
        quantize_multiplier(-0.5)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (1 << 30, 1 << 30, 1 << 29),  # 2^60 / 2^31
        (INT32_MIN, INT32_MIN, INT32_MAX),  # the one saturating case
        (-3, 1 << 30, -1),  # -1.5: the nudge makes gemmlowp round this half upwards
        (3, 1 << 30, 2),  # 1.5 rounds to 2
        (INT32_MAX, INT32_MAX, INT32_MAX - 1),
    ],
)
def test_srdhm_goldens(a: int, b: int, expected: int) -> None:
    assert int(saturating_rounding_doubling_high_mul(a, b)) == expected


@pytest.mark.parametrize(
    "x, exponent, expected",
    [(5, 1, 3), (-5, 1, -3), (4, 1, 2), (-4, 1, -2), (7, 2, 2), (-6, 2, -2), (-7, 2, -2), (123, 0, 123)],
)
def test_rounding_divide_by_pot_goldens(x: int, exponent: int, expected: int) -> None:
    assert int(rounding_divide_by_pot(x, exponent)) == expected


@pytest.mark.parametrize(
    "x, mult, shift, expected",
    # the last: srdhm(-100, 0.8 * 2^31) = -80, then -80 / 2^3 = -10, i.e. -100 * 0.1
    [(100, 1 << 30, 0, 50), (100, 1 << 30, -1, 25), (3, 1 << 30, 1, 3), (-100, 1717986918, -3, -10)],
)
def test_multiply_by_quantized_multiplier_goldens(x: int, mult: int, shift: int, expected: int) -> None:
    assert int(multiply_by_quantized_multiplier(x, mult, shift)) == expected


def test_activation_ranges() -> None:
    assert activation_range("NONE", 0.1, 3) == (-128, 127)
    assert activation_range("RELU", 0.1, 5) == (5, 127)
    assert activation_range("RELU6", 0.05, -128) == (-128, -8)  # -128 + 6 / 0.05 = -8
    assert activation_range("RELU_N1_TO_1", 0.25, 0) == (-4, 4)


def test_c_mirror_agrees_with_python(runtime) -> None:
    _, lib = runtime
    rng = np.random.default_rng(7)
    xs = np.concatenate([rng.integers(INT32_MIN, INT32_MAX, 300, endpoint=True),
                         [0, 1, -1, INT32_MIN, INT32_MAX, 5, -5, 1 << 20, -(1 << 20)]])
    ms = rng.integers(1 << 30, INT32_MAX, xs.size, endpoint=True)
    ms[:3] = [INT32_MIN, 1 << 30, INT32_MAX]
    shifts = rng.integers(-31, 3, xs.size)
    small = (xs >> 8)  # keep left shifts from saturating so the rounding paths are exercised
    for x, m, s, xsmall in zip(xs, ms, shifts, small):
        x, m, s, xsmall = int(x), int(m), int(s), int(xsmall)
        assert lib.edgec_test_srdhm(x, m) == int(saturating_rounding_doubling_high_mul(x, m))
        e = abs(s) % 32
        assert lib.edgec_test_rdbpot(x, e) == int(rounding_divide_by_pot(x, e))
        assert lib.edgec_test_requantize(xsmall, m, s) == int(multiply_by_quantized_multiplier(xsmall, m, s))


def test_requantize_nonneg_equals_requantize(runtime) -> None:
    """The kernels' short requantize agrees with edgec_requantize for every non-negative multiplier, incl. ties."""
    _, lib = runtime
    rng = np.random.default_rng(99)
    edges = [-(2**31), -(2**31) + 1, -(2**30), -1, 0, 1, 2**30, 2**31 - 1]
    mults = [0, 1, 2**20, 2**30, 3 * 2**29, 2**31 - 1]
    cases = [(x, m, s) for x in edges for m in mults for s in range(-31, 32)]
    # Products that sit exactly on a rounding tie of either stage (x * 2^20 = odd * 2^30).
    cases += [(int(k) * 2**10, 2**20, int(s)) for k in rng.integers(-2**20, 2**20, 200) * 2 + 1
              for s in (-3, 0)]
    xs = rng.integers(-(2**31), 2**31, 4000)
    ms = rng.integers(0, 2**31, 4000)
    ss = rng.integers(-31, 32, 4000)
    cases += [(int(x), int(m), int(s)) for x, m, s in zip(xs, ms, ss)]
    # Ties of the second rounding for every right shift: high = k * 2^r + 2^(r-1), reached with m = 2^30 (high = x/2).
    cases += [(2 * (k * 2**r + 2**(r - 1)) + d, 2**30, -r) for r in range(1, 31) for k in (-3, -1, 0, 2)
              for d in (-1, 0, 1) if -(2**31) <= 2 * (k * 2**r + 2**(r - 1)) + d < 2**31]
    for x, m, s in cases:
        got = lib.edgec_test_requantize_nonneg(x, m, s)
        assert got == lib.edgec_test_requantize(x, m, s), (x, m, s)
        assert got == int(multiply_by_quantized_multiplier(x, m, s)), (x, m, s)


def test_folded_offset_equals_requantize_plus_offset(runtime) -> None:
    """edgec_rq_right_fold_offset: for every right shift it allows (r - 1 <= 22) and offsets at and inside
    [-128, 128], the requantization with the offset in its constant is the reference's result plus the offset,
    at the extremes of x and m, on rounding ties and at random."""
    _, lib = runtime
    rng = np.random.default_rng(123)
    edges = [-(2**31), -(2**31) + 1, -(2**30), -1, 0, 1, 2**30, 2**31 - 1]
    mults = [0, 1, 2**30, 2**31 - 1]
    offsets = [-128, -1, 0, 1, 127, 128]
    cases = [(x, m, -r, o) for x in edges for m in mults for r in range(1, 24) for o in offsets]
    cases += [(2 * (k * 2**r + 2**(r - 1)) + d, 2**30, -r, o) for r in range(1, 24) for k in (-3, -1, 0, 2)
              for d in (-1, 0, 1) for o in (-128, 5)]
    xs = rng.integers(-(2**31), 2**31, 3000)
    ms = rng.integers(0, 2**31, 3000)
    rs = rng.integers(1, 24, 3000)
    os_ = rng.integers(-128, 129, 3000)
    cases += [(int(x), int(m), -int(r), int(o)) for x, m, r, o in zip(xs, ms, rs, os_)]
    for x, m, s, o in cases:
        assert lib.edgec_test_requantize_folded(x, m, s, o) == int(multiply_by_quantized_multiplier(x, m, s)) + o, (
            x, m, s, o)
