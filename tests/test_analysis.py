"""The accumulator-range proof: hand-computed bounds, a layer that can overflow, and the real models."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import mlperf_model

from compiler import ir
from compiler.analysis import accumulator_bounds, warnings
from compiler.driver import compile_program
from compiler.fixedpoint import INT32_MAX


def _fc_program(weights: np.ndarray, bias: np.ndarray) -> ir.Program:
    oc, ic = weights.shape
    values = (ir.Value(0, "x", (1, ic), ir.DType.INT8), ir.Value(1, "y", (1, oc), ir.DType.INT8))
    op = ir.FullyConnected("dense", (0,), (1,), weights=weights.astype(np.int8), bias=bias.astype(np.int32),
                           scale=np.full(oc, 0.01), output_offset=0, act_min=-128, act_max=127)
    return ir.Program("t", values, (op,), (0,), (1,), "0" * 64)


def test_bound_is_bias_plus_128_times_abs_weights() -> None:
    # channel 0: |-7| + 128 * (3 + 4) = 903; channel 1: 100 + 128 * (127 + 127) = 32612
    p = _fc_program(np.array([[3, -4], [127, -127]]), np.array([-7, 100]))
    (b,) = accumulator_bounds(p)
    assert b.bound == 32612 and b.safe
    assert warnings(p) == []


def test_layer_that_can_overflow_is_named() -> None:
    p = _fc_program(np.full((1, 4), 127), np.array([INT32_MAX - 1000]))
    (b,) = accumulator_bounds(p)
    assert b.bound == INT32_MAX - 1000 + 128 * 4 * 127 and not b.safe
    (text,) = warnings(p)
    assert "'dense'" in text and "FULLY_CONNECTED" in text


@pytest.mark.parametrize("name", ["kws_dscnn_int8", "vww_mbv1_int8", "resnet8_int8", "ad_fcae_int8"])
def test_mlperf_models_are_proved_safe(name: str) -> None:
    program, _ = compile_program(mlperf_model(name))
    assert warnings(program) == []
    assert len(accumulator_bounds(program)) == sum(op.kind.family == "conv" for op in program.ops)
