"""edgec_convolve_fast_s8 on the host (ASan/UBSan build of the runtime) against the IR interpreter, on the shapes
the blocked Cortex-M paths split on (runtime_c/src/conv/edgec_conv_quad_s8.h): position counts around multiples
of four, windows of whole 8-tap steps, an odd 4-tap chunk, tail taps, up to and above the 576-tap blocked limit,
batches, padding with a nonzero pad value, full and narrow output ranges, left and right shifts. On the host the
kernel runs its portable path; the same shapes run on QEMU in tests/test_e2e_conv_fast.py.

Also a model of the Cortex-M3 packing: two pixels per int32 (x0 + x1 * 2^23), SMLAL's 64-bit sum over runs of
at most 252 taps, then the split into the two pixels' sums, exact at the worst-case magnitudes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_kernels_conv import Case, _quant, assert_c_matches_interp

from compiler import ir

PACKED_RUN = 252  # EDGEC_PACKED_RUN


def _conv(rng: np.random.Generator, n: int, h: int, w: int, ic: int, oc: int, k: tuple[int, int],
          stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0), full_range: bool = False) -> Case:
    kh, kw = k
    oh = (h + 2 * padding[0] - kh) // stride[0] + 1
    ow = (w + 2 * padding[1] - kw) // stride[1] + 1
    x = rng.integers(-128, 128, size=(n, h, w, ic)).astype(np.int8)
    weights = rng.integers(-128, 128, size=(oc, kh, kw, ic)).astype(np.int8)
    q = _quant(rng, oc)
    if full_range:
        q["act_min"], q["act_max"] = -128, 127
    op = ir.Conv2D("conv", (0,), (1,), weights=weights, stride=stride, dilation=(1, 1), padding=padding,
                   pad_value=int(rng.integers(-128, 128)), **q)
    return Case(op, x, ir.Value(1, "out", (n, oh, ow, oc), ir.DType.INT8))


SHAPES = [
    # (n, h, w, ic, oc, k, stride, padding)
    (1, 5, 5, 64, 20, (1, 1), (1, 1), (0, 0)),    # 25 positions: quads and one left over
    (2, 3, 3, 8, 13, (1, 1), (1, 1), (0, 0)),     # K = 8, 18 positions
    (1, 1, 7, 3, 5, (1, 1), (1, 1), (0, 0)),      # K = 3 < 8
    (1, 2, 5, 15, 6, (1, 1), (1, 1), (0, 0)),     # an odd chunk and tail taps
    (1, 3, 3, 12, 7, (1, 1), (1, 1), (0, 0)),     # an odd chunk
    (1, 5, 6, 16, 9, (3, 3), (1, 1), (1, 1)),     # K = 144, border windows
    (1, 11, 9, 3, 8, (3, 3), (2, 2), (0, 0)),     # K = 27, stride 2
    (1, 13, 6, 1, 8, (10, 4), (2, 2), (4, 1)),    # K = 40, KWS's first layer
    (1, 3, 4, 64, 5, (3, 3), (1, 1), (1, 1)),     # K = 576: the blocked limit
    (1, 3, 3, 72, 4, (3, 3), (1, 1), (1, 1)),     # K = 648: above it
    (3, 1, 1, 40, 3, (1, 1), (1, 1), (0, 0)),     # three positions, one per batch
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s[:5])) + f"_k{s[5][0]}{s[5][1]}")
@pytest.mark.parametrize("full_range", [False, True])
def test_convolve_fast_blocked_shapes(runtime: Any, shape: tuple, full_range: bool) -> None:
    n, h, w, ic, oc, k, stride, padding = shape
    rng = np.random.default_rng(hash((shape, full_range)) % (1 << 32))
    for _ in range(2):
        assert_c_matches_interp(runtime, _conv(rng, n, h, w, ic, oc, k, stride, padding, full_range), fast=True)


def _packed_sums(x0: np.ndarray, x1: np.ndarray, w: np.ndarray) -> tuple[int, int]:
    """The Cortex-M3 path's arithmetic in Python integers: per run the 64-bit SMLAL sum of the packed pairs,
    split into S0 (the low 23 bits sign-extended) and S1 = (sum - S0) >> 23, added up modulo 2^32."""
    s0 = s1 = 0
    for start in range(0, len(w), PACKED_RUN):
        run = slice(start, start + PACKED_RUN)
        packed = x0[run].astype(np.int64) + (x1[run].astype(np.int64) << 23)
        assert np.all(np.abs(packed) < 2**31)  # each X is an int32
        total = int(np.sum(packed * w[run].astype(np.int64)))
        assert -(2**63) <= total < 2**63
        low = total & ((1 << 23) - 1)
        low = low - (1 << 23) if low >= 1 << 22 else low
        s0 += low
        s1 += (total - low) >> 23
    return s0 % 2**32, s1 % 2**32


@pytest.mark.parametrize("extreme", [(-128, -128), (-128, 127), (127, -128), (127, 127), None])
def test_m3_packed_pairs_exact(extreme: tuple[int, int] | None) -> None:
    rng = np.random.default_rng(77)
    for k in (4, 251, 252, 253, 576, 1000):
        if extreme is None:
            x0, x1, w = (rng.integers(-128, 128, size=k).astype(np.int8) for _ in range(3))
        else:
            x0 = np.full(k, extreme[0], dtype=np.int8)
            x1 = np.full(k, extreme[1], dtype=np.int8)
            w = np.full(k, extreme[0], dtype=np.int8)
        expected = (int(np.dot(x0.astype(np.int64), w)) % 2**32, int(np.dot(x1.astype(np.int64), w)) % 2**32)
        assert _packed_sums(x0, x1, w) == expected
