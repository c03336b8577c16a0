"""The 3x3 depthwise band path (runtime_c/src/conv/edgec_dw3x3_band.h) on the host, against the IR interpreter.

edgec_depthwise_conv_fast_s8 sends 3x3 undilated windows with depth_multiplier 1 and horizontal stride 1 or 2
through an int16 channel-major copy of the input, cut into bands of rows and chunks of up to four channels.
These shapes cover: one band and several (tall inputs), chunks of four and the 1-3 channel tail, wide rows
where fewer than four channels fit (chunk 1-3), a row too wide for the buffer (the old path), odd and even
widths and heights, leading padding 0, 1 and 2 (2 reaches past the window: whole pad columns), vertical
strides 1-4, batches, shifts on both sides of 0 and right shifts past the folded-offset limit (r - 1 > 22),
full-range and narrow clamps, wrapping accumulators. The DSP assembly is the same kernel on QEMU
(tests/test_e2e_dw3x3.py).
"""

from __future__ import annotations

import dataclasses

from typing import Any

import numpy as np
import pytest
from test_kernels_conv import Case, _quant, assert_c_matches_interp

from compiler import ir
from compiler.interp import run_op


def _case(rng: np.random.Generator, n: int, h: int, w: int, c: int, stride: tuple[int, int],
          pad: tuple[int, int], pad_value: int, big_shift: bool = False) -> Case:
    oh = (h + 2 * pad[0] - 3) // stride[0] + 1
    ow = (w + 2 * pad[1] - 3) // stride[1] + 1
    x = rng.integers(-128, 128, size=(n, h, w, c)).astype(np.int8)
    q = _quant(rng, c)
    if big_shift:  # right shifts of 24-31: the unfolded requantization
        q["shift"] = rng.integers(-31, -23, size=c, endpoint=True).astype(np.int32)
        q["shift"][::3] = -2
    op = ir.DepthwiseConv2D("dw", (0,), (1,), weights=rng.integers(-128, 128, size=(3, 3, c)).astype(np.int8),
                            depth_multiplier=1, stride=stride, dilation=(1, 1), padding=pad, pad_value=pad_value,
                            **q)
    return Case(op, x, ir.Value(1, "out", (n, oh, ow, c), ir.DType.INT8))


SHAPES = [
    # n, h, w, c, stride, pad
    (1, 25, 5, 64, (1, 1), (1, 1)),    # KWS
    (1, 7, 6, 7, (1, 1), (1, 1)),      # odd channel tail (4 + 3)
    (2, 5, 9, 5, (1, 1), (0, 0)),      # VALID, batch 2, tail of 1
    (1, 9, 8, 13, (2, 2), (1, 1)),     # stride 2
    (1, 10, 11, 6, (2, 2), (0, 0)),    # stride 2 VALID, odd width
    (1, 8, 7, 4, (1, 2), (2, 2)),      # pad 2: columns and rows wholly outside
    (1, 13, 6, 3, (3, 1), (1, 0)),     # vertical stride 3
    (1, 12, 5, 2, (4, 2), (1, 1)),     # vertical stride 4
    (1, 40, 30, 9, (1, 1), (1, 1)),    # tall: several bands
    (1, 31, 47, 8, (2, 2), (1, 1)),    # stride 2, several bands
    (1, 4, 200, 6, (1, 1), (1, 1)),    # wide: chunks of fewer than four channels
    (1, 3, 700, 2, (1, 1), (1, 1)),    # too wide for the buffer: the general path
    (1, 1, 1, 5, (1, 1), (1, 1)),      # a single pixel
    (1, 3, 3, 1, (2, 2), (0, 0)),      # a single output, one channel
]


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{s[0]}x{s[1]}x{s[2]}x{s[3]}_s{s[4][0]}{s[4][1]}_p{s[5][0]}{s[5][1]}"
                                               for s in SHAPES])
def test_dw3x3_band_shapes(runtime: Any, shape: tuple) -> None:
    n, h, w, c, stride, pad = shape
    rng = np.random.default_rng(h * 1000 + w * 10 + c)
    for pad_value in (-128, 0, 37):
        assert_c_matches_interp(runtime, _case(rng, n, h, w, c, stride, pad, pad_value), fast=True)
    assert_c_matches_interp(runtime, _case(rng, n, h, w, c, stride, pad, -3, big_shift=True), fast=True)


@pytest.mark.parametrize("seed", range(12))
def test_dw3x3_band_random(runtime: Any, seed: int) -> None:
    rng = np.random.default_rng(9100 + seed)
    for _ in range(4):
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 3)))
        h, w = int(rng.integers(1, 20)), int(rng.integers(1, 20))
        pad = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        if h + 2 * pad[0] < 3 or w + 2 * pad[1] < 3:
            pad = (max(pad[0], 1), max(pad[1], 1))
        c = int(rng.integers(1, 19))
        case = _case(rng, int(rng.integers(1, 3)), h, w, c, stride, pad, int(rng.integers(-128, 128)),
                     big_shift=bool(rng.random() < 0.25))
        assert_c_matches_interp(runtime, case, fast=True)


# edgec_depthwise_conv3x3_pairs_s8: the band path reading the compiler's table (compiler/dw_layout.py: doubled
# int16 pairs and the SMMLAR requantization constants), which also takes output rows narrower than 6 and short row
# bands (tiled calls); in both orientations (the transposed table walks the map by columns).

def _tableable(case: Case) -> Case:
    """case with right shifts only (r - 1 up to 22), |bias| < 2^22 and, by the case's seed, act_min at or above
    the output offset (EDGEC_DW3_T_NOSIGN), so that compiler/dw_layout.py gives it a table."""
    op = case.op
    rng = np.random.default_rng(int(np.abs(op.bias).sum()) % 1000 + op.weights.shape[2])
    c = op.weights.shape[2]
    shift = rng.integers(-23, -1, size=c, endpoint=True).astype(np.int32)
    shift[::4] = -1
    bias = np.clip(op.bias.astype(np.int64), -(1 << 22), 1 << 22).astype(np.int32)
    lo = op.act_min
    if rng.random() < 0.5:
        lo = max(op.act_min, op.output_offset)
    return Case(dataclasses.replace(op, shift=shift, bias=bias, act_min=lo, act_max=max(lo, op.act_max)),
                case.x, case.out)


def _pairs_matches(runtime: Any, case: Case, transposed: bool | None = None) -> None:
    """The kernel with the case's table in both orientations (or the general path where it has none), then the
    same for the case made tableable."""
    _pairs_matches1(runtime, case, transposed)
    _pairs_matches1(runtime, _tableable(case), transposed, must=True)


def _pairs_matches1(runtime: Any, case: Case, transposed: bool | None, must: bool = False) -> None:
    from test_kernels_conv import CCall

    from compiler.dw_layout import dw3_table

    ffi, lib = runtime
    expected = run_op(case.op, [case.x], case.out)
    for t in ((False, True) if transposed is None else (transposed,)):
        call = CCall(runtime, case, fast=True)
        table = dw3_table(case.op, t)
        assert table is not None or not must
        a = call.args
        status = lib.edgec_depthwise_conv3x3_pairs_s8(a["params"], a["quant"], a["input_dims"], a["input"],
                                                      a["filter_dims"], a["filter"],
                                                      ffi.NULL if table is None else
                                                      ffi.from_buffer("int32_t[]", table), a["bias"],
                                                      a["output_dims"], a["output"])
        assert status == 0
        np.testing.assert_array_equal(call.output, expected)


def test_dw3_table_layout() -> None:
    from compiler.dw_layout import dw3_table

    q = ir.DepthwiseConv2D("dw", (0,), (1,), weights=(np.arange(-4, 5).reshape(3, 3, 1) * np.array([1, -31]))
                           .astype(np.int8), depth_multiplier=1, stride=(1, 1), dilation=(1, 1), padding=(1, 1),
                           pad_value=0, bias=np.array([5, -7], np.int32), multiplier=np.array([1 << 30, 1 << 30],
                           np.int32), shift=np.array([-3, -1], np.int32), output_offset=-128, act_min=-128,
                           act_max=127)
    for transposed in (False, True):
        t = dw3_table(q, transposed)
        assert t is not None
        assert t[0] == (1 if transposed else 0) | 2 and t[1] == 2
        rec = t[2:].view(np.uint32).reshape(2, 10)
        for c in range(2):
            w = 2 * q.weights[:, :, c].astype(np.int64)
            if transposed:
                w = w.T
            for r in range(3):
                h = w[r] & 0xFFFF
                assert rec[c, r] == h[0] | (h[1] << 16)
                assert rec[c, 3 + r] == h[1] | (h[2] << 16)
            r1 = -1 - int(q.shift[c])
            assert rec[c, 6:].view(np.int32).tolist() == [2 * int(q.bias[c]), 1 << 30, (1 << r1) - 128 * (2 << r1),
                                                          r1 + 1]
    # No table where the requantization would not be exact: a left shift, or a bias near 2^29.
    assert dw3_table(dataclasses.replace(q, shift=np.array([-3, 1], np.int32)), False) is None
    assert dw3_table(dataclasses.replace(q, bias=np.array([1 << 29, 0], np.int32)), False) is None


@pytest.mark.parametrize("stride_w", [1, 2])
@pytest.mark.parametrize("valid", [False, True])
@pytest.mark.parametrize("out_w", range(1, 9))
def test_dw3x3_pairs_widths(runtime: Any, out_w: int, valid: bool, stride_w: int) -> None:
    rng = np.random.default_rng(7700 + 10 * out_w + 2 * valid + stride_w)
    pad = (0, 0) if valid else (1, 1)
    w = (out_w - 1) * stride_w + 3 - 2 * pad[1]
    for c in (1, 2, 3, 5, 8, 13):
        stride = (int(rng.integers(1, 3)), stride_w)
        h = int(rng.integers(max(1, 3 - 2 * pad[0]), 12))
        for pad_value in (-128, 0, 127):
            _pairs_matches(runtime, _case(rng, 1, h, max(w, 1), c, stride, pad, pad_value))
        _pairs_matches(runtime, _case(rng, 1, h, max(w, 1), c, stride, pad, -7, big_shift=True))


def test_dw3x3_pairs_band_edges(runtime: Any) -> None:
    """Tiled calls: the band starts or ends mid-image (pad_top 0 with the rows above given as input, or a band
    of one output row), left-shift channels (_quant), narrow and full clamps."""
    rng = np.random.default_rng(7799)
    for h, pad_top in ((3, 0), (3, 1), (4, 1), (2, 1), (5, 0)):
        for stride in ((1, 1), (2, 2), (1, 2)):
            case = _case(rng, 1, h, 5, 64, stride, (pad_top, 1), int(rng.integers(-128, 128)))
            _pairs_matches(runtime, case)
    for seed in range(16):
        r = np.random.default_rng(7800 + seed)
        stride = (int(r.integers(1, 5)), int(r.integers(1, 3)))
        h, w = int(r.integers(1, 14)), int(r.integers(1, 14))
        pad = (int(r.integers(0, 3)), int(r.integers(0, 3)))
        if h + 2 * pad[0] < 3 or w + 2 * pad[1] < 3:
            pad = (max(pad[0], 1), max(pad[1], 1))
        _pairs_matches(runtime, _case(r, int(r.integers(1, 3)), h, w, int(r.integers(1, 20)), stride, pad,
                                      int(r.integers(-128, 128)), big_shift=bool(r.random() < 0.3)))
