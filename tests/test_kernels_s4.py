"""The int4-weight C kernels (edgec_*_s4) against the numpy interpreter, bit for bit, on random geometries.

The cases are the int8 kernel tests' random ops (see test_kernels_conv: kernels 1/3/5, strides, dilations,
paddings, depth multipliers, accumulators that wrap) with weights redrawn in [-8, 7] and marked 4-bit; the
kernels get them packed two per byte as codegen emits them (odd counts and rows that start mid-byte
included). The runtime is built with UBSan.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from test_kernels_conv import EDGEC_OK, Case, CCall, _geometry, _quant, random_conv, random_fc

from compiler import ir
from compiler.interp import run_op


def _as_int4(case: Case, rng: np.random.Generator) -> Case:
    weights = rng.integers(-8, 8, size=case.op.weights.shape).astype(np.int8)
    return dataclasses.replace(case, op=dataclasses.replace(case.op, weights=weights, weight_bits=4))


def _run_s4(runtime: Any, case: Case) -> np.ndarray:
    ffi, lib = runtime
    call = CCall(runtime, case)
    packed = np.ascontiguousarray(case.op.constants["weights"])
    assert packed.dtype == np.uint8
    a = {**call.args, "filter": ffi.from_buffer("uint8_t[]", packed)}
    op = case.op
    if isinstance(op, ir.FullyConnected):
        status = lib.edgec_fully_connected_s4(a["params"], a["quant"], a["batches"], a["in_features"], a["input"],
                                              a["out_features"], a["filter"], a["bias"], a["output"])
    else:
        fn = lib.edgec_convolve_s4 if isinstance(op, ir.Conv2D) else lib.edgec_depthwise_conv_s4
        status = fn(a["params"], a["quant"], a["input_dims"], a["input"], a["filter_dims"], a["filter"], a["bias"],
                    a["output_dims"], a["output"])
    assert int(status) == EDGEC_OK
    return call.output


def _check(runtime: Any, case: Case) -> None:
    expected = run_op(case.op, [case.x], case.out)
    got = _run_s4(runtime, case)
    assert np.array_equal(got, expected), f"{np.count_nonzero(got != expected)} of {got.size} differ: {case.op!r}"


@pytest.mark.parametrize("seed", range(30))
def test_convolve_s4_random(runtime: Any, seed: int) -> None:
    rng = np.random.default_rng(5000 + seed)
    for _ in range(4):
        _check(runtime, _as_int4(random_conv(rng, depthwise=False), rng))


@pytest.mark.parametrize("seed", range(30))
def test_depthwise_conv_s4_random(runtime: Any, seed: int) -> None:
    rng = np.random.default_rng(6000 + seed)
    for _ in range(4):
        _check(runtime, _as_int4(random_conv(rng, depthwise=True), rng))


@pytest.mark.parametrize("seed", range(30))
def test_fully_connected_s4_random(runtime: Any, seed: int) -> None:
    rng = np.random.default_rng(7000 + seed)
    for _ in range(4):
        _check(runtime, _as_int4(random_fc(rng), rng))


def test_s4_kernels_read_the_sign_of_both_nibbles(runtime: Any) -> None:
    """Weights -8 and 7 in both nibble positions, odd in_features: every extreme decoded exactly."""
    x = np.array([[1, -1, 2, -2, 3]], dtype=np.int8)
    weights = np.array([[-8, 7, -8, 7, -8], [7, -8, 7, -8, 7]], dtype=np.int8)
    op = ir.FullyConnected("fc", (0,), (1,), weights=weights, bias=np.zeros(2, np.int32), scale=np.ones(2),
                           output_offset=0, act_min=-128, act_max=127, weight_bits=4)
    case = Case(op, x, ir.Value(1, "out", (1, 2), ir.DType.INT8))
    np.testing.assert_array_equal(_run_s4(runtime, case), [[-8 - 7 - 16 - 14 - 24, 7 + 8 + 14 + 16 + 21]])


@pytest.mark.parametrize(("channels", "k", "stride", "dilation"), [
    (4, 3, 1, 1), (8, 3, 2, 1), (12, 5, 1, 2), (64, 3, 1, 1), (132, 3, 2, 1), (256, 1, 1, 1), (20, 2, 1, 3)])
def test_depthwise_s4_four_channel_walk(runtime: Any, channels: int, k: int, stride: int, dilation: int) -> None:
    """Depth multiplier 1 and OC a multiple of 4 (the four-channel walk with pad-row pointers): borders with a
    nonzero pad value, channel chunks of 128 (132 and 256 channels), strides, dilations, wrapping biases."""
    rng = np.random.default_rng(8000 + channels + 10 * k)
    for _ in range(3):
        h, w = int(rng.integers(k, 9)), int(rng.integers(1, 9))
        pad_h, oh = _geometry(rng, h, k, stride, dilation)
        pad_w, ow = _geometry(rng, w, k, stride, dilation)
        op = ir.DepthwiseConv2D("dw", (0,), (1,), weights=rng.integers(-8, 8, (k, k, channels)).astype(np.int8),
                                depth_multiplier=1, stride=(stride, stride), dilation=(dilation, dilation),
                                padding=(pad_h, pad_w), pad_value=int(rng.integers(-128, 128)), weight_bits=4,
                                **_quant(rng, channels))
        x = rng.integers(-128, 128, (2, h, w, channels)).astype(np.int8)
        _check(runtime, Case(op, x, ir.Value(1, "out", (2, oh, ow, channels), ir.DType.INT8)))
