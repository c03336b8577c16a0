"""The fast conv, depthwise and fully connected kernels (the ones codegen selects) against the IR interpreter.

On the host these run the portable C path of runtime_c/include/edgec_dot_s8.h under UBSan; the DSP
(SMLAD) and Helium (VMLADAVA) paths are the same kernels built for Cortex-M and are checked end to end on QEMU
in tests/test_e2e_fast_kernels.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_kernels_conv import CCall, assert_c_matches_interp, random_conv, random_fc

EDGEC_ARG_ERROR = -1


@pytest.mark.parametrize("seed", range(30))
def test_convolve_fast_random(runtime: Any, seed: int) -> None:
    rng = np.random.default_rng(5000 + seed)
    for _ in range(5):
        assert_c_matches_interp(runtime, random_conv(rng, depthwise=False), fast=True)


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("dilation", [1, 2])
def test_fast_conv_and_depthwise_grid(runtime: Any, k: int, stride: int, dilation: int) -> None:
    rng = np.random.default_rng(6000 + k * 100 + stride * 10 + dilation)
    for _ in range(3):
        assert_c_matches_interp(runtime, random_conv(rng, False, k, stride, dilation), fast=True)
        assert_c_matches_interp(runtime, random_conv(rng, True, k, stride, dilation, 1), fast=True)


@pytest.mark.parametrize("seed", range(30))
def test_depthwise_fast_random(runtime: Any, seed: int) -> None:
    rng = np.random.default_rng(7000 + seed)
    for _ in range(5):
        assert_c_matches_interp(runtime, random_conv(rng, True, mult=1), fast=True)


def test_depthwise_fast_rejects_depth_multiplier(runtime: Any) -> None:
    """Only depth_multiplier 1 has a fast path; codegen keeps edgec_depthwise_conv_s8 for the others."""
    case = random_conv(np.random.default_rng(1), True, mult=2)
    assert CCall(runtime, case, fast=True).run() == EDGEC_ARG_ERROR


@pytest.mark.parametrize("seed", range(30))
def test_fully_connected_fast_random(runtime: Any, seed: int) -> None:
    rng = np.random.default_rng(8000 + seed)
    for _ in range(5):
        assert_c_matches_interp(runtime, random_fc(rng), fast=True)


@pytest.mark.parametrize("pad_value", [-128, 0, 37])
def test_convolve_fast_window_larger_than_patch(runtime: Any, pad_value: int) -> None:
    """A 3x3x120 window (1080 bytes) exceeds the 1024-byte patch: the run path with pad-vector border correction."""
    from test_kernels_conv import Case, _quant

    from compiler import ir

    rng = np.random.default_rng(pad_value + 500)
    x = rng.integers(-128, 128, size=(1, 6, 7, 120)).astype(np.int8)
    op = ir.Conv2D("conv", (0,), (1,), weights=rng.integers(-127, 128, size=(6, 3, 3, 120)).astype(np.int8),
                   stride=(1, 1), dilation=(1, 1), padding=(1, 1), pad_value=pad_value, **_quant(rng, 6))
    assert_c_matches_interp(runtime, Case(op, x, ir.Value(1, "out", (1, 6, 7, 6), ir.DType.INT8)), fast=True)


@pytest.mark.parametrize("channels", [4, 70, 133])
@pytest.mark.parametrize("stride", [1, 2])
def test_depthwise_fast_3x3_interior_and_border(runtime: Any, channels: int, stride: int) -> None:
    """The 3x3 path: interior boxes channel-group outer, border windows copied in chunks of 64 channels (70 and
    133 channels span chunks and leave a 1-3 channel tail), shifts on both sides of 0, every pad value kind."""
    from test_kernels_conv import Case, _quant

    from compiler import ir

    rng = np.random.default_rng(channels * 10 + stride)
    for (h, w), (pt, pl), pad_value in [((7, 6), (1, 1), -128), ((5, 9), (0, 1), 0), ((2, 2), (1, 1), 37),
                                        ((9, 4), (1, 1), 5)]:
        oh = (h + 2 * pt - 3) // stride + 1
        ow = (w + 2 * pl - 3) // stride + 1
        x = rng.integers(-128, 128, size=(2, h, w, channels)).astype(np.int8)
        op = ir.DepthwiseConv2D("dw", (0,), (1,), weights=rng.integers(-128, 128, size=(3, 3, channels)).astype(
            np.int8), depth_multiplier=1, stride=(stride, stride), dilation=(1, 1), padding=(pt, pl),
            pad_value=pad_value, **_quant(rng, channels))
        out = ir.Value(1, "out", (2, oh, ow, channels), ir.DType.INT8)
        assert_c_matches_interp(runtime, Case(op, x, out), fast=True)
