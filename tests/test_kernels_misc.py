"""C kernels for pooling, ADD, softmax and the float edges against the numpy interpreter, plus fixed-point goldens.

Every C kernel runs through cffi (UBSan, -Werror) on many random shapes and parameters and must
give byte-identical outputs to the numpy kernel of ``compiler.interp``. The gemmlowp fixed-point
helpers that softmax needs are checked three ways: literal goldens (from gemmlowp's definitions),
the numpy versions against those, and the C versions against the numpy ones.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest

from compiler import ir
from compiler.fixedpoint import (
    INT32_MAX,
    INT32_MIN,
    count_leading_zeros_u32,
    exp_on_interval_between_negative_one_quarter_and_0_excl,
    exp_on_negative_values,
    get_reciprocal,
    one_over_one_plus_x_for_x_in_0_1,
    quantize_multiplier,
    rescale,
    rounding_half_sum,
    saturating_rounding_multiply_by_pot,
)
from compiler.interp import run_op
from compiler.interp.add import input_tables
from compiler.interp.convert import dequantize_s8, quantize_f32
from compiler.interp.softmax import softmax_rows
from compiler.lower.add import LEFT_SHIFT, add_real_multipliers
from compiler.lower.common import leading_padding, output_size
from compiler.lower.softmax import calculate_input_radius, preprocess_softmax_scaling, softmax_params
from compiler.resources import runtime_dir

EDGEC_OK = 0
EDGEC_ARG_ERROR = -1


def _value(vid: int, shape: tuple[int, ...], dtype: ir.DType = ir.DType.INT8) -> ir.Value:
    return ir.Value(vid, f"v{vid}", tuple(shape), dtype)


def _ptr(ffi: Any, ctype: str, array: np.ndarray) -> Any:
    assert array.flags.c_contiguous
    return ffi.from_buffer(f"{ctype}[]", array, require_writable=False)


# ==============================================================================================
# Literal goldens of the gemmlowp fixed-point functions (compiler/fixedpoint.py, appended section)
# ==============================================================================================
# The non-obvious values below are what gemmlowp's own fixedpoint.h produces (its polynomial and
# Newton-Raphson steps carry a few hundred ulps of approximation error, which must be reproduced).


@pytest.mark.parametrize(
    "x, exponent, expected",
    [
        (5, 2, 20),
        ((1 << 29) - 1, 2, 2147483644),  # largest value that still fits: (2^29 - 1) * 4
        (1 << 29, 2, INT32_MAX),  # above the threshold 2^29 - 1: saturates
        (-(1 << 29) + 1, 2, -2147483644),
        (-(1 << 29), 2, INT32_MIN),
        (7, -1, 4),  # 3.5 rounds away from zero
        (-7, -1, -4),
        (5, -2, 1),  # 1.25
        (6, -2, 2),  # 1.5
        (-6, -2, -2),  # -1.5
        (123, 0, 123),
    ],
)
def test_saturating_rounding_multiply_by_pot_goldens(x: int, exponent: int, expected: int) -> None:
    assert int(saturating_rounding_multiply_by_pot(x, exponent)) == expected


def test_rescale_goldens() -> None:
    assert int(rescale(INT32_MAX, 0, 12)) == 1 << 19  # gemmlowp One() of Q0 is 2^31 - 1, in Q12 exactly 1.0
    assert int(rescale(-(1 << 24), 5, 0)) == -(1 << 29)  # -1/4 from Q5.26 to Q0.31
    assert int(rescale(1 << 27, 5, 0)) == INT32_MAX  # 2.0 does not fit Q0
    assert int(rescale(3 << 28, 2, 1)) == 3 << 29  # 1.5: Q2 -> Q1


@pytest.mark.parametrize(
    "a, b, expected",
    [(3, 4, 4), (-3, -4, -4), (1, 1, 1), (0, INT32_MAX, 1 << 30), (INT32_MAX, INT32_MAX, INT32_MAX), (-5, 4, -1)],
)
def test_rounding_half_sum_goldens(a: int, b: int, expected: int) -> None:
    assert int(rounding_half_sum(a, b)) == expected


@pytest.mark.parametrize(
    "a, expected",
    [
        (0, INT32_MAX),  # exp(0) is gemmlowp's One
        (-(1 << 24), 1672462419),  # exp(-1/4) = 0.7788007831 -> 1672461947.2 exactly; gemmlowp is 472 ulp off
        (-(1 << 26), 790015308),  # exp(-1) = 0.3678794412 -> 790015084.3
        (-(1 << 31), 0),  # exp(-32) underflows Q0.31
    ],
)
def test_exp_on_negative_values_goldens(a: int, expected: int) -> None:
    assert int(exp_on_negative_values(a, 5)) == expected
    assert abs(expected / 2**31 - math.exp(a / 2**26)) < 1e-6


@pytest.mark.parametrize("a, expected", [(-(1 << 29), 1672462419), (-1, 2147483155)])
def test_exp_on_interval_goldens(a: int, expected: int) -> None:
    assert int(exp_on_interval_between_negative_one_quarter_and_0_excl(a)) == expected


@pytest.mark.parametrize(
    "a, expected",
    [
        (0, INT32_MAX),  # 1 / 1: saturates at One
        (1 << 30, 1431655762),  # 1 / 1.5 = 0.6666666667 -> 1431655765.3
        (INT32_MAX, 1073741820),  # 1 / 2 -> 2^30
    ],
)
def test_one_over_one_plus_x_goldens(a: int, expected: int) -> None:
    assert int(one_over_one_plus_x_for_x_in_0_1(a)) == expected


@pytest.mark.parametrize(
    "x, expected",
    [
        (1 << 19, (INT32_MAX, 0)),  # 1.0 in Q12.19: clz 12, nothing above the unit, reciprocal 1
        (3 << 19, (1431655762, 1)),  # 1.5: normalised to 0.75 * 2, reciprocal of 1.5 in Q0 and one bit over
        (1 << 20, (INT32_MAX, 1)),  # 2.0: 1/2 = 1 * 2^-1
        (1 << 30, (INT32_MAX, 11)),  # 2048.0 = 1 * 2^11
    ],
)
def test_get_reciprocal_goldens(x: int, expected: tuple[int, int]) -> None:
    raw, bits = get_reciprocal(x, 12)
    assert (int(raw), int(bits)) == expected


def test_count_leading_zeros_goldens() -> None:
    values = np.array([0, 1, 2, 3, 1 << 19, INT32_MAX, -1, INT32_MIN], dtype=np.int64)
    assert count_leading_zeros_u32(values).tolist() == [32, 31, 30, 30, 12, 1, 0, 0]


def test_get_reciprocal_rejects_non_positive() -> None:
    with pytest.raises(ValueError):
        get_reciprocal(0, 12)


# ---- softmax parameter computation (TFLite quantization_util.cc) ----


def test_preprocess_softmax_scaling_goldens() -> None:
    scale = float(np.float32(0.1))  # 13421773 * 2^-27
    # 13421773 * 2^-27 * 2^26 = 6710886.5 = 0.8000000119 * 2^23; * 2^31 -> 6710886.5 * 2^8 = 1717986944
    assert preprocess_softmax_scaling(1.0, scale, 5) == (1717986944, 23)
    assert preprocess_softmax_scaling(1.0, 1 / 16, 5) == (1 << 30, 23)  # 2^22 = 0.5 * 2^23
    assert preprocess_softmax_scaling(1.0, 64.0, 5) == (INT32_MAX, 31)  # capped at 2^31 - 1
    with pytest.raises(ValueError):
        preprocess_softmax_scaling(1.0, 2.0**-26, 5)  # exactly one: TFLite's GreaterThanOne check fails


def test_calculate_input_radius_goldens() -> None:
    assert calculate_input_radius(5, 23) == 248  # 31 * 2^26 / 2^23
    assert calculate_input_radius(5, 31) == 0  # 31 * 2^26 / 2^31 = 0.96875
    assert calculate_input_radius(5, 20) == 1984
    assert softmax_params(1.0, 1 / 16) == (1 << 30, 23, -248)


def test_add_multiplier_goldens() -> None:
    reals = add_real_multipliers(0.5, 0.25, 1.0)
    assert reals == (0.5, 0.25, 2.0**-20)
    assert [quantize_multiplier(r) for r in reals] == [(1 << 30, 0), (1 << 30, -1), (1 << 30, -19)]


# ==============================================================================================
# Pooling
# ==============================================================================================


def _pool_case(rng: np.random.Generator, tflite_padding: bool) -> tuple[ir.Pool2D, ir.Pool2D, tuple, tuple]:
    """Random pool geometry: TFLite's SAME/VALID or any padding with every window overlapping the input."""
    while True:
        n, c = int(rng.integers(1, 3)), int(rng.integers(1, 6))
        h, w = int(rng.integers(1, 10)), int(rng.integers(1, 10))
        fh, fw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        if tflite_padding:
            padding = str(rng.choice(["SAME", "VALID"]))
            oh, ow = output_size(h, fh, sh, 1, padding), output_size(w, fw, sw, 1, padding)
            if oh < 1 or ow < 1:
                continue
            pt, pl = leading_padding(padding, h, oh, sh, fh), leading_padding(padding, w, ow, sw, fw)
        else:
            pt, pl = int(rng.integers(0, fh)), int(rng.integers(0, fw))
            oh, ow = (h - 1 + pt) // sh + 1, (w - 1 + pl) // sw + 1
        lo = int(rng.integers(-128, 128))
        act = (-128, 127) if rng.random() < 0.5 else (lo, int(rng.integers(lo, 128)))
        avg = ir.AveragePool2D("avg", (0,), (1,), filter=(fh, fw), stride=(sh, sw), padding=(pt, pl),
                               act_min=act[0], act_max=act[1])
        mx = ir.MaxPool2D("max", (0,), (1,), filter=(fh, fw), stride=(sh, sw), padding=(pt, pl),
                          act_min=act[0], act_max=act[1])
        return avg, mx, (n, h, w, c), (n, oh, ow, c)


def _run_pool_c(ffi: Any, lib: Any, op: ir.Pool2D, x: np.ndarray, out_shape: tuple) -> tuple[int, np.ndarray]:
    params = ffi.new("edgec_pool_params *", {
        "stride_h": op.stride[0], "stride_w": op.stride[1], "pad_top": op.padding[0], "pad_left": op.padding[1],
        "filter_h": op.filter[0], "filter_w": op.filter[1], "act_min": op.act_min, "act_max": op.act_max})
    in_dims = ffi.new("edgec_dims *", dict(zip("nhwc", x.shape, strict=True)))
    out_dims = ffi.new("edgec_dims *", dict(zip("nhwc", out_shape, strict=True)))
    out = np.zeros(out_shape, dtype=np.int8)
    fn = lib.edgec_avgpool_s8 if isinstance(op, ir.AveragePool2D) else lib.edgec_maxpool_s8
    status = fn(params, in_dims, _ptr(ffi, "int8_t", x), out_dims, _ptr(ffi, "int8_t", out))
    return status, out


@pytest.mark.parametrize("seed", range(60))
def test_pool_kernels_match_numpy(runtime: Any, seed: int) -> None:
    ffi, lib = runtime
    rng = np.random.default_rng(seed)
    avg, mx, in_shape, out_shape = _pool_case(rng, tflite_padding=seed % 2 == 0)
    x = rng.integers(-128, 128, size=in_shape, dtype=np.int8)
    if seed % 7 == 0:
        x[:] = -128 if seed % 14 == 0 else 127  # extremes: sums at their limits, ties in the max
    for op in (avg, mx):
        status, got = _run_pool_c(ffi, lib, op, x, out_shape)
        assert status == EDGEC_OK
        want = run_op(op, [x], _value(1, out_shape))
        np.testing.assert_array_equal(got, want, err_msg=f"{op.kind.name} {in_shape} -> {out_shape} {op}")


@pytest.mark.parametrize("cells", [(16, 16), (1, 256), (16, 17), (5, 25)])
@pytest.mark.parametrize("fill", ["min", "max", "alternate", "random"])
def test_avgpool_four_channel_sums_at_their_lane_limits(runtime: Any, cells: tuple[int, int], fill: str) -> None:
    """Windows of up to 256 cells sum four channels in halfword lanes: at 256 cells of 127 (or -128) a lane is at
    its largest (smallest), neighbouring lanes at opposite extremes must not carry into each other, and 257 or
    more cells take the per-channel loop. Nine channels: two groups of four and a leftover."""
    ffi, lib = runtime
    fh, fw = cells
    rng = np.random.default_rng(fh * 1000 + fw)
    shape = (2, fh, fw, 9)
    if fill == "random":
        x = rng.integers(-128, 128, size=shape, dtype=np.int8)
    elif fill == "alternate":
        x = np.broadcast_to(np.where(np.arange(9) % 2 == 0, 127, -128).astype(np.int8), shape).copy()
    else:
        x = np.full(shape, -128 if fill == "min" else 127, dtype=np.int8)
    op = ir.AveragePool2D("p", (0,), (1,), filter=(fh, fw), stride=(1, 1), padding=(0, 0), act_min=-128,
                          act_max=127)
    status, got = _run_pool_c(ffi, lib, op, x, (2, 1, 1, 9))
    assert status == EDGEC_OK
    want = run_op(op, [x], _value(1, (2, 1, 1, 9)))
    np.testing.assert_array_equal(got, want)
    sums = x.astype(np.int64).sum(axis=(1, 2)).ravel().tolist()
    n = fh * fw
    halfway = [(s + n // 2) // n if s > 0 else -((-s + n // 2) // n) for s in sums]  # half away from zero
    assert got.ravel().tolist() == halfway


def test_avgpool_rounds_half_away_from_zero(runtime: Any) -> None:
    ffi, lib = runtime
    op = ir.AveragePool2D("p", (0,), (1,), filter=(1, 2), stride=(1, 2), padding=(0, 0), act_min=-128, act_max=127)
    x = np.array([1, 2, -1, -2, 3, 4, -3, -4, 0, 1, 0, -1], dtype=np.int8).reshape(1, 1, 12, 1)
    status, got = _run_pool_c(ffi, lib, op, x, (1, 1, 6, 1))
    assert status == EDGEC_OK
    # 1.5 -> 2, -1.5 -> -2, 3.5 -> 4, -3.5 -> -4, 0.5 -> 1, -0.5 -> -1 (TFLite: (acc +- n/2) / n)
    assert got.ravel().tolist() == [2, -2, 4, -4, 1, -1]
    np.testing.assert_array_equal(run_op(op, [x], _value(1, (1, 1, 6, 1))), got)


def test_pool_counts_only_cells_inside_the_input(runtime: Any) -> None:
    ffi, lib = runtime
    # 3x3 SAME on a 2x2 input: each window covers all 4 cells; average of 10, 20, 30, 41 = 25.25 -> 25.
    op = ir.AveragePool2D("p", (0,), (1,), filter=(3, 3), stride=(1, 1), padding=(1, 1), act_min=-128, act_max=127)
    x = np.array([10, 20, 30, 41], dtype=np.int8).reshape(1, 2, 2, 1)
    status, got = _run_pool_c(ffi, lib, op, x, (1, 2, 2, 1))
    assert status == EDGEC_OK and got.ravel().tolist() == [25, 25, 25, 25]
    mx = ir.MaxPool2D("p", (0,), (1,), filter=(3, 3), stride=(1, 1), padding=(1, 1), act_min=-128, act_max=127)
    x = np.full((1, 2, 2, 1), -100, dtype=np.int8)
    status, got = _run_pool_c(ffi, lib, mx, x, (1, 2, 2, 1))
    assert status == EDGEC_OK and got.ravel().tolist() == [-100] * 4  # padding never reads as -128 or 0


POOL_2X2 = {"stride_h": 1, "stride_w": 1, "pad_top": 0, "pad_left": 0, "filter_h": 2, "filter_w": 2, "act_min": -128,
            "act_max": 127}


def _nhwc(n: int, h: int, w: int, c: int) -> dict[str, int]:
    return {"n": n, "h": h, "w": w, "c": c}


@pytest.mark.parametrize(
    "change",
    [
        {"stride_h": 0}, {"filter_w": 0}, {"pad_top": -1}, {"pad_left": 2},  # pad_left >= filter_w: empty window
        {"act_min": 5, "act_max": 4}, {"act_min": -129}, {"act_max": 128},
    ],
)
def test_pool_rejects_bad_params(runtime: Any, change: dict) -> None:
    ffi, lib = runtime
    fields = {**POOL_2X2, **change}
    params = ffi.new("edgec_pool_params *", fields)
    dims = ffi.new("edgec_dims *", {"n": 1, "h": 3, "w": 3, "c": 2})
    out_dims = ffi.new("edgec_dims *", {"n": 1, "h": 2, "w": 2, "c": 2})
    x, out = np.zeros((1, 3, 3, 2), np.int8), np.zeros((1, 2, 2, 2), np.int8)
    for fn in (lib.edgec_avgpool_s8, lib.edgec_maxpool_s8):
        assert fn(params, dims, _ptr(ffi, "int8_t", x), out_dims, _ptr(ffi, "int8_t", out)) == EDGEC_ARG_ERROR


def test_pool_rejects_bad_dims_and_nulls(runtime: Any) -> None:
    ffi, lib = runtime
    params = ffi.new("edgec_pool_params *", POOL_2X2)
    dims = ffi.new("edgec_dims *", {"n": 1, "h": 3, "w": 3, "c": 2})
    x, out = np.zeros((1, 3, 3, 2), np.int8), np.zeros((1, 3, 3, 2), np.int8)
    xp, op = _ptr(ffi, "int8_t", x), _ptr(ffi, "int8_t", out)
    for fn in (lib.edgec_avgpool_s8, lib.edgec_maxpool_s8):
        for bad in (_nhwc(1, 4, 2, 2), _nhwc(1, 2, 2, 3), _nhwc(2, 2, 2, 2), _nhwc(1, 0, 2, 2)):
            assert fn(params, dims, xp, ffi.new("edgec_dims *", bad), op) == EDGEC_ARG_ERROR
        good = ffi.new("edgec_dims *", {"n": 1, "h": 2, "w": 2, "c": 2})
        assert fn(params, dims, xp, good, op) == EDGEC_OK
        assert fn(ffi.NULL, dims, xp, good, op) == EDGEC_ARG_ERROR
        assert fn(params, ffi.NULL, xp, good, op) == EDGEC_ARG_ERROR
        assert fn(params, dims, ffi.NULL, good, op) == EDGEC_ARG_ERROR
        assert fn(params, dims, xp, ffi.NULL, op) == EDGEC_ARG_ERROR
        assert fn(params, dims, xp, good, ffi.NULL) == EDGEC_ARG_ERROR


# ==============================================================================================
# ADD
# ==============================================================================================


def _add_op(rng: np.random.Generator, tflite_params: bool) -> ir.Add:
    if tflite_params:  # what the lowering derives from random scales
        while True:
            s1, s2 = (float(np.float32(rng.uniform(0.001, 0.5))) for _ in range(2))
            so = float(np.float32(rng.uniform(0.001, 1.0)))
            pairs = [quantize_multiplier(r) for r in add_real_multipliers(s1, s2, so)]
            if all(0 < r < 1 for r in add_real_multipliers(s1, s2, so)) and all(s <= 0 for _, s in pairs):
                break
        (m1, sh1), (m2, sh2), (mo, sho) = pairs
        left = LEFT_SHIFT
    else:  # anything the C argument checks accept
        m1, m2, mo = (int(rng.integers(0, 2**31)) for _ in range(3))
        sh1, sh2, sho = (int(rng.integers(-31, 1)) for _ in range(3))
        left = int(rng.integers(0, 23))
    lo = int(rng.integers(-128, 128))
    act = (-128, 127) if rng.random() < 0.5 else (lo, int(rng.integers(lo, 128)))
    rescale = ir.AddRescale(input1_offset=int(rng.integers(-127, 129)), input1_multiplier=m1, input1_shift=sh1,
                            input2_offset=int(rng.integers(-127, 129)), input2_multiplier=m2, input2_shift=sh2,
                            left_shift=left, output_multiplier=mo, output_shift=sho,
                            output_offset=int(rng.integers(-128, 128)), act_min=act[0], act_max=act[1])
    return ir.Add("add", (0, 1), (2,), rescale=rescale)


def _add_params(ffi: Any, op: ir.Add) -> Any:
    return ffi.new("edgec_add_params *", dataclasses.asdict(op.rescale))


@pytest.mark.parametrize("seed", range(60))
def test_add_kernel_matches_numpy(runtime: Any, seed: int) -> None:
    ffi, lib = runtime
    rng = np.random.default_rng(1000 + seed)
    op = _add_op(rng, tflite_params=seed % 3 != 0)
    shape = tuple(int(d) for d in rng.integers(1, 7, size=int(rng.integers(1, 5))))
    a = rng.integers(-128, 128, size=shape, dtype=np.int8)
    b = rng.integers(-128, 128, size=shape, dtype=np.int8)
    if seed % 5 == 0:  # every pair of values once
        grid = np.arange(-128, 128, dtype=np.int8)
        a, b = (g.ravel().copy() for g in np.meshgrid(grid, grid))
        shape = a.shape
    out = np.zeros(shape, dtype=np.int8)
    status = lib.edgec_add_s8(_add_params(ffi, op), _ptr(ffi, "int8_t", a), _ptr(ffi, "int8_t", b), a.size,
                              _ptr(ffi, "int8_t", out))
    assert status == EDGEC_OK
    np.testing.assert_array_equal(out, run_op(op, [a, b], _value(2, shape)), err_msg=str(op))


@pytest.mark.parametrize("seed", range(30))
def test_add_table_kernel_matches_arithmetic_kernel_on_every_pair(runtime: Any, seed: int) -> None:
    """edgec_add_table_s8 with the lowering's tables gives edgec_add_s8's result (and the interpreter's) on all
    256 x 256 input pairs; the output may alias input1 (in-place ADD)."""
    ffi, lib = runtime
    op = _add_op(np.random.default_rng(5000 + seed), tflite_params=seed % 3 != 0)
    if seed % 4 == 3:  # no output right shift: the kernel's other requantization path
        op = dataclasses.replace(op, rescale=dataclasses.replace(op.rescale, output_shift=0))
    tables = input_tables(op.rescale)
    grid = np.arange(-128, 128, dtype=np.int8)
    a, b = (g.ravel().copy() for g in np.meshgrid(grid, grid))
    expected = np.zeros_like(a)
    params = _add_params(ffi, op)
    assert lib.edgec_add_s8(params, _ptr(ffi, "int8_t", a), _ptr(ffi, "int8_t", b), a.size,
                            _ptr(ffi, "int8_t", expected)) == EDGEC_OK
    in_place = a.copy()
    assert lib.edgec_add_table_s8(params, _ptr(ffi, "int32_t", tables), _ptr(ffi, "int8_t", in_place),
                                  _ptr(ffi, "int8_t", b), a.size, _ptr(ffi, "int8_t", in_place)) == EDGEC_OK
    np.testing.assert_array_equal(in_place, expected, err_msg=str(op))
    tabled = dataclasses.replace(op, input_tables=tables)
    np.testing.assert_array_equal(run_op(tabled, [a, b], _value(2, a.shape)), expected)


def test_add_table_rejects_missing_tables_and_bad_params(runtime: Any) -> None:
    ffi, lib = runtime
    op = _add_op(np.random.default_rng(0), tflite_params=True)
    tables = input_tables(op.rescale)
    a, out = np.zeros(4, np.int8), np.zeros(4, np.int8)
    p, o, t = _ptr(ffi, "int8_t", a), _ptr(ffi, "int8_t", out), _ptr(ffi, "int32_t", tables)
    params = _add_params(ffi, op)
    assert lib.edgec_add_table_s8(params, ffi.NULL, p, p, 4, o) == EDGEC_ARG_ERROR
    assert lib.edgec_add_table_s8(params, t, p, p, -1, o) == EDGEC_ARG_ERROR
    params.act_min, params.act_max = 10, 9
    assert lib.edgec_add_table_s8(params, t, p, p, 4, o) == EDGEC_ARG_ERROR


@pytest.mark.parametrize(
    "change",
    [
        {"input1_offset": -128}, {"input2_offset": 129}, {"left_shift": 23}, {"left_shift": -1},
        {"input1_shift": 1}, {"output_shift": -32}, {"input1_multiplier": -1}, {"input2_multiplier": -(2**31)},
        {"output_offset": 128},
        {"act_min": 10, "act_max": 9}, {"act_max": 128},
    ],
)
def test_add_rejects_bad_params(runtime: Any, change: dict) -> None:
    ffi, lib = runtime
    op = _add_op(np.random.default_rng(0), tflite_params=True)
    params = _add_params(ffi, op)
    for key, value in change.items():
        setattr(params, key, value)
    a = np.zeros(4, np.int8)
    out = np.zeros(4, np.int8)
    p = _ptr(ffi, "int8_t", a)
    assert lib.edgec_add_s8(params, p, p, 4, _ptr(ffi, "int8_t", out)) == EDGEC_ARG_ERROR


def test_add_rejects_nulls_and_negative_size(runtime: Any) -> None:
    ffi, lib = runtime
    params = _add_params(ffi, _add_op(np.random.default_rng(0), tflite_params=True))
    a, out = np.zeros(4, np.int8), np.zeros(4, np.int8)
    p, o = _ptr(ffi, "int8_t", a), _ptr(ffi, "int8_t", out)
    assert lib.edgec_add_s8(params, p, p, 0, o) == EDGEC_OK
    assert lib.edgec_add_s8(params, p, p, -1, o) == EDGEC_ARG_ERROR
    for args in ((ffi.NULL, p, p, 4, o), (params, ffi.NULL, p, 4, o), (params, p, ffi.NULL, 4, o),
                 (params, p, p, 4, ffi.NULL)):
        assert lib.edgec_add_s8(*args) == EDGEC_ARG_ERROR


# ==============================================================================================
# Softmax
# ==============================================================================================


def _run_softmax_c(ffi: Any, lib: Any, params: tuple[int, int, int], x: np.ndarray) -> np.ndarray:
    rows, depth = x.shape
    out = np.zeros_like(x)
    p = ffi.new("edgec_softmax_params *", {"input_multiplier": params[0], "input_left_shift": params[1],
                                               "diff_min": params[2]})
    assert lib.edgec_softmax_s8(p, _ptr(ffi, "int8_t", x), rows, depth, _ptr(ffi, "int8_t", out)) == EDGEC_OK
    return out


@pytest.mark.parametrize("seed", range(60))
def test_softmax_kernel_matches_numpy(runtime: Any, seed: int) -> None:
    ffi, lib = runtime
    rng = np.random.default_rng(2000 + seed)
    beta_scale = float(np.exp(rng.uniform(np.log(2.0**-25), np.log(64.0))))  # tiny to saturating multipliers
    params = softmax_params(1.0, beta_scale)
    rows = int(rng.integers(1, 5))
    depth = int(rng.choice([1, 2, 3, 10, 37, 100, 700, 3000]))
    x = rng.integers(-128, 128, size=(rows, depth), dtype=np.int8)
    if seed % 6 == 0:
        x[:, : depth // 2] = x[:, :1]  # many ties with one value
    got = _run_softmax_c(ffi, lib, params, x)
    op = ir.Softmax("s", (0,), (1,), *params)
    np.testing.assert_array_equal(got, run_op(op, [x], _value(1, x.shape)), err_msg=f"params {params}")


@pytest.mark.parametrize("depth", [1, 2, 255, 256, 511, 512, 513, 1000, 4095, 4096, 20000])
def test_softmax_of_equal_values(runtime: Any, depth: int) -> None:
    """Uniform rows: 1/depth on the 1/256 grid; from 512 entries on (where TFLite aborts) every output is -128."""
    ffi, lib = runtime
    x = np.full((1, depth), 7, dtype=np.int8)
    got = _run_softmax_c(ffi, lib, softmax_params(1.0, 0.05), x)
    np.testing.assert_array_equal(got, softmax_rows(x, *softmax_params(1.0, 0.05)))
    if depth >= 512:
        assert (got == -128).all()
    else:
        assert np.all(np.abs(got.astype(int) + 128 - 256 / depth) <= 1.0)


def test_softmax_is_close_to_float(runtime: Any) -> None:
    ffi, lib = runtime
    rng = np.random.default_rng(7)
    scale = 0.07
    x = rng.integers(-128, 128, size=(20, 10), dtype=np.int8)
    got = _run_softmax_c(ffi, lib, softmax_params(1.0, scale), x).astype(np.float64)
    logits = x.astype(np.float64) * scale
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    assert np.max(np.abs((got + 128) / 256 - p)) <= 1.5 / 256


@pytest.mark.parametrize(
    "params",
    [(-1, 23, -248), (1 << 30, -1, -248), (1 << 30, 32, 0), (1 << 30, 23, 1), (1 << 30, 24, -255),
     (1 << 30, 31, -1)],
)
def test_softmax_rejects_bad_params(runtime: Any, params: tuple[int, int, int]) -> None:
    ffi, lib = runtime
    p = ffi.new("edgec_softmax_params *", {"input_multiplier": params[0], "input_left_shift": params[1],
                                               "diff_min": params[2]})
    x, out = np.zeros((1, 4), np.int8), np.zeros((1, 4), np.int8)
    assert lib.edgec_softmax_s8(p, _ptr(ffi, "int8_t", x), 1, 4, _ptr(ffi, "int8_t", out)) == EDGEC_ARG_ERROR


def test_softmax_rejects_nulls_and_sizes(runtime: Any) -> None:
    ffi, lib = runtime
    p = ffi.new("edgec_softmax_params *", {"input_multiplier": 1 << 30, "input_left_shift": 23, "diff_min": -248})
    x, out = np.zeros((1, 4), np.int8), np.zeros((1, 4), np.int8)
    xp, op = _ptr(ffi, "int8_t", x), _ptr(ffi, "int8_t", out)
    assert lib.edgec_softmax_s8(p, xp, 0, 4, op) == EDGEC_OK
    for args in ((ffi.NULL, xp, 1, 4, op), (p, ffi.NULL, 1, 4, op), (p, xp, 1, 4, ffi.NULL), (p, xp, -1, 4, op),
                 (p, xp, 1, 0, op)):
        assert lib.edgec_softmax_s8(*args) == EDGEC_ARG_ERROR


# ---- the C fixed-point helpers of the softmax, called directly ----

_HELPER_WRAPPERS = """
#include "../src/softmax/edgec_softmax_s8.c"
int32_t t_exp_q5(int32_t a) { return edgec_sm_exp_on_negative_values_q5(a); }
int32_t t_exp_quarter(int32_t a) { return edgec_sm_exp_quarter(a); }
int32_t t_one_over(int32_t a) { return edgec_sm_one_over_one_plus_x(a); }
int32_t t_shl(int32_t x, int32_t e) { return edgec_sm_saturating_shl(x, e); }
int32_t t_half_sum(int32_t a, int32_t b) { return edgec_sm_rounding_half_sum(a, b); }
int32_t t_reciprocal(int32_t x, int32_t *bits) { return edgec_sm_get_reciprocal(x, 12, bits); }
"""
_HELPER_CDEF = """
int32_t t_exp_q5(int32_t a);
int32_t t_exp_quarter(int32_t a);
int32_t t_one_over(int32_t a);
int32_t t_shl(int32_t x, int32_t e);
int32_t t_half_sum(int32_t a, int32_t b);
int32_t t_reciprocal(int32_t x, int32_t *bits);
"""


@pytest.fixture(scope="module")
def softmax_helpers() -> Any:
    """The static helpers of edgec_softmax_s8.c, exported by a test-only cffi module (UBSan, -Werror)."""
    from runtime_lib import build_extension, runtime_headers

    return build_extension("_edgec_softmax_helpers", _HELPER_CDEF, _HELPER_WRAPPERS,
                           inputs=[runtime_dir() / "src" / "softmax" / "edgec_softmax_s8.c", *runtime_headers()])


def _edges(lo: int, hi: int, rng: np.random.Generator, count: int = 3000) -> np.ndarray:
    fixed = [v for v in (lo, lo + 1, hi - 1, hi, 0, -1, 1, -(1 << 24), -(1 << 26), 1 << 30) if lo <= v <= hi]
    return np.concatenate([np.array(fixed, dtype=np.int64), rng.integers(lo, hi + 1, count)])


def test_c_softmax_helpers_match_numpy(softmax_helpers: Any) -> None:
    ffi, lib = softmax_helpers
    rng = np.random.default_rng(11)
    cases = [
        (lib.t_exp_q5, lambda a: exp_on_negative_values(a, 5), _edges(INT32_MIN, 0, rng)),
        (lib.t_exp_quarter, exp_on_interval_between_negative_one_quarter_and_0_excl, _edges(-(1 << 29), -1, rng)),
        (lib.t_one_over, one_over_one_plus_x_for_x_in_0_1, _edges(0, INT32_MAX, rng)),
        (lambda a: lib.t_half_sum(a, INT32_MAX), lambda a: rounding_half_sum(a, INT32_MAX),
         _edges(INT32_MIN, INT32_MAX, rng)),
    ]
    for c_fn, py_fn, values in cases:
        want = py_fn(values)
        got = np.array([c_fn(int(v)) for v in values], dtype=np.int64)
        np.testing.assert_array_equal(got, want)
    for exponent in (1, 2, 5, 12, 30):
        values = _edges(INT32_MIN, INT32_MAX, rng, 500)
        got = np.array([lib.t_shl(int(v), exponent) for v in values], dtype=np.int64)
        np.testing.assert_array_equal(got, saturating_rounding_multiply_by_pot(values, exponent))
    values = _edges(1, INT32_MAX, rng)
    bits = ffi.new("int32_t *")
    raws: list[int] = []
    raw_bits: list[int] = []
    for v in values:
        raws.append(lib.t_reciprocal(int(v), bits))
        raw_bits.append(bits[0])
    want, want_bits = get_reciprocal(values, 12)
    np.testing.assert_array_equal(np.array(raws), want)
    np.testing.assert_array_equal(np.array(raw_bits), want_bits)


# ==============================================================================================
# QUANTIZE / DEQUANTIZE
# ==============================================================================================


def _specials(scale: np.float32) -> np.ndarray:
    halves = (np.arange(-300, 301, dtype=np.float32) + np.float32(0.5)) * scale  # exact ties when scale is 2^k
    return np.concatenate([
        halves,
        np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e30, -1e30, 3e9, -3e9, 2.0**31, -(2.0**31),
                  np.finfo(np.float32).tiny, -np.finfo(np.float32).tiny, 1e-45, np.finfo(np.float32).max],
                 dtype=np.float32),
        np.nextafter(np.float32(0.5) * scale, np.float32(0)) * np.ones(1, np.float32),
        np.nextafter(np.float32(-0.5) * scale, np.float32(0)) * np.ones(1, np.float32),
    ]).astype(np.float32)


@pytest.mark.parametrize("seed", range(40))
def test_quantize_kernel_matches_numpy(runtime: Any, seed: int) -> None:
    ffi, lib = runtime
    rng = np.random.default_rng(3000 + seed)
    scale = np.float32(2.0 ** int(rng.integers(-8, 0))) if seed % 2 == 0 else np.float32(rng.uniform(1e-4, 2.0))
    zp = int(rng.integers(-128, 128))
    x = np.concatenate([rng.normal(0, 200 * float(scale), size=2000).astype(np.float32), _specials(scale)])
    out = np.zeros(x.shape, dtype=np.int8)
    status = lib.edgec_quantize_f32_s8(_ptr(ffi, "float", x), x.size, float(scale), zp, _ptr(ffi, "int8_t", out))
    assert status == EDGEC_OK
    op = ir.Quantize("q", (0,), (1,), scale=float(scale), zero_point=zp)
    np.testing.assert_array_equal(out, run_op(op, [x], _value(1, x.shape)))


def test_quantize_semantics(runtime: Any) -> None:
    """Half away from zero after a float division; saturation; NaN -> zero point."""
    x = np.array([0.25, 0.75, -0.25, -0.75, 1.25, -1.25, 0.2499999, 1000.0, -1000.0, np.inf, -np.inf, np.nan],
                 dtype=np.float32)
    got = quantize_f32(x, 0.5, 3)
    assert got.tolist() == [4, 5, 2, 1, 6, 0, 3, 127, -128, 127, -128, 3]
    ffi, lib = runtime
    out = np.zeros(x.shape, np.int8)
    assert lib.edgec_quantize_f32_s8(_ptr(ffi, "float", x), x.size, 0.5, 3, _ptr(ffi, "int8_t", out)) == EDGEC_OK
    np.testing.assert_array_equal(out, got)


@pytest.mark.parametrize("seed", range(20))
def test_dequantize_kernel_matches_numpy(runtime: Any, seed: int) -> None:
    ffi, lib = runtime
    rng = np.random.default_rng(4000 + seed)
    scale = float(np.float32(np.exp(rng.uniform(np.log(1e-6), np.log(10.0)))))
    zp = int(rng.integers(-128, 128))
    q = np.arange(-128, 128, dtype=np.int8)
    out = np.zeros(q.shape, dtype=np.float32)
    status = lib.edgec_dequantize_s8_f32(_ptr(ffi, "int8_t", q), q.size, scale, zp, _ptr(ffi, "float", out))
    assert status == EDGEC_OK
    op = ir.Dequantize("d", (0,), (1,), scale=scale, zero_point=zp)
    want = run_op(op, [q], _value(1, q.shape, ir.DType.FLOAT32))
    np.testing.assert_array_equal(out.view(np.uint32), want.view(np.uint32))
    assert np.array_equal(want, dequantize_s8(q, scale, zp))


def test_dequantize_rounds_the_double_product_once() -> None:
    scale = float(np.float32(0.1))  # 13421773 * 2^-27
    got = dequantize_s8(np.array([3], np.int8), scale, 0)
    assert got.dtype == np.float32 and got[0] == np.float32(3 * 13421773 * 2.0**-27)


def test_convert_kernels_reject_bad_args(runtime: Any) -> None:
    ffi, lib = runtime
    x, q = np.zeros(4, np.float32), np.zeros(4, np.int8)
    xp, qp = _ptr(ffi, "float", x), _ptr(ffi, "int8_t", q)
    for scale, zp, size in ((0.0, 0, 4), (-1.0, 0, 4), (float("nan"), 0, 4), (float("inf"), 0, 4), (0.5, 128, 4),
                            (0.5, -129, 4), (0.5, 0, -1)):
        assert lib.edgec_quantize_f32_s8(xp, size, scale, zp, qp) == EDGEC_ARG_ERROR
        assert lib.edgec_dequantize_s8_f32(qp, size, scale, zp, xp) == EDGEC_ARG_ERROR
    assert lib.edgec_quantize_f32_s8(ffi.NULL, 4, 0.5, 0, qp) == EDGEC_ARG_ERROR
    assert lib.edgec_quantize_f32_s8(xp, 4, 0.5, 0, ffi.NULL) == EDGEC_ARG_ERROR
    assert lib.edgec_dequantize_s8_f32(ffi.NULL, 4, 0.5, 0, xp) == EDGEC_ARG_ERROR
    assert lib.edgec_dequantize_s8_f32(qp, 4, 0.5, 0, ffi.NULL) == EDGEC_ARG_ERROR
    assert lib.edgec_quantize_f32_s8(xp, 0, 0.5, 0, qp) == EDGEC_OK
    assert lib.edgec_dequantize_s8_f32(qp, 0, 0.5, 0, xp) == EDGEC_OK
