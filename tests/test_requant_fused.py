"""The fast convolution's fused requantizer (runtime_c/src/conv/edgec_requant_fused.h) against
edgec_requantize_nonneg, on the host under UBSan: edges of every operand, products on a rounding tie of either
stage, and random operands over the whole domain (non-negative multipliers, shifts -31..31)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest


_WRAPPER = """
#include "../src/conv/edgec_requant_fused.h"
int32_t t_requant_fused(int32_t x, int32_t m, int32_t s)
{
    const edgec_requant_fused q = edgec_requant_fused_of(m, s);
    return edgec_requant_fused_apply(x, &q);
}
int32_t t_requantize_nonneg(int32_t x, int32_t m, int32_t s) { return edgec_requantize_nonneg(x, m, s); }
"""
_CDEF = """
int32_t t_requant_fused(int32_t x, int32_t m, int32_t s);
int32_t t_requantize_nonneg(int32_t x, int32_t m, int32_t s);
"""


@pytest.fixture(scope="module")
def fused() -> Any:
    from runtime_lib import build_extension, runtime_headers

    return build_extension("_edgec_requant_fused", _CDEF, _WRAPPER, inputs=runtime_headers())[1]


def test_fused_requant_equals_requantize_nonneg(fused: Any) -> None:
    rng = np.random.default_rng(5)
    edges = [-(2**31), -(2**31) + 1, -(2**30), -(2**30) - 1, -3, -1, 0, 1, 3, 2**30, 2**31 - 1]
    mults = [0, 1, 2**20, 2**30, 3 * 2**29, 2**31 - 1]
    cases = [(x, m, s) for x in edges for m in mults for s in (-31, -30, -12, -2, -1, 0, 1, 7, 31)]
    # x * 2^20 = odd * 2^30: a tie of the high multiply; x = odd * 2^(e-1) after it: a tie of the shift.
    cases += [(int(k) * 2**10, 2**20, s) for k in rng.integers(-2**20, 2**20, 300) * 2 + 1 for s in (-3, 0)]
    odd = rng.integers(-2**8, 2**8, 60) * 2 + 1
    cases += [(int(k) * 2**(e - 1), 2**31 - 1, -e) for e in (1, 2, 5, 17) for k in odd]
    xs = rng.integers(-(2**31), 2**31, 20000)
    ms = rng.integers(0, 2**31, 20000)
    ss = rng.integers(-31, 32, 20000)
    cases += [(int(x), int(m), int(s)) for x, m, s in zip(xs, ms, ss)]
    small = rng.integers(-(2**16), 2**16, 20000)  # accumulators of real layers, typical right shifts
    cases += [(int(x), int(m), int(s)) for x, m, s in zip(small, ms, rng.integers(-12, 1, 20000))]
    bad = [(x, m, s) for x, m, s in cases if fused.t_requant_fused(x, m, s) != fused.t_requantize_nonneg(x, m, s)]
    assert not bad, bad[:5]
