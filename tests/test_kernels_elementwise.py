"""C kernels of the elementwise family (LUT, broadcasting ADD/SUB, MUL, PRELU) against the numpy interpreter.

Each kernel runs through cffi (-Werror, UBSan aborting on the first report) on random shapes, broadcast
patterns and parameters, both those the lowering derives from random scales and any the C argument
checks accept, and must give byte-identical outputs to ``compiler.interp``. Bad arguments must be
refused with EDGEC_ARG_ERROR.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from compiler import ir
from compiler.fixedpoint import quantize_multiplier
from compiler.interp import run_op
from compiler.lower.add import LEFT_SHIFT, add_real_multipliers
from compiler.lower.broadcast import broadcast_geometry, broadcast_shape

EDGEC_OK = 0
EDGEC_ARG_ERROR = -1


def _ptr(ffi: Any, ctype: str, array: np.ndarray) -> Any:
    assert array.flags.c_contiguous
    return ffi.from_buffer(f"{ctype}[]", array, require_writable=False)


def _value(shape: tuple[int, ...]) -> ir.Value:
    return ir.Value(2, "out", tuple(shape), ir.DType.INT8)


def _shapes(rng: np.random.Generator) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two random shapes that broadcast (ranks 0-5, axes 1-5), walkable in four axes."""
    while True:
        rank = int(rng.integers(1, 6))
        full = [int(d) for d in rng.integers(1, 6, size=rank)]
        shapes = []
        for _ in range(2):
            keep = int(rng.integers(0, rank + 1))  # a shorter rank is right-aligned
            shapes.append(tuple(d if rng.random() < 0.6 else 1 for d in full[rank - keep:]))
        if broadcast_geometry(shapes[0], shapes[1]) is not None and broadcast_shape(*shapes):
            return shapes[0], shapes[1]


def _broadcast(ffi: Any, geometry: ir.Broadcast) -> Any:
    def dims(values: tuple[int, ...]) -> dict[str, int]:
        return dict(zip("nhwc", values))

    return ffi.new("edgec_broadcast *", {"output": dims(geometry.out_dims), "stride1": dims(geometry.strides1),
                                         "stride2": dims(geometry.strides2)})


def _operands(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, ir.Broadcast, tuple[int, ...]]:
    shape1, shape2 = _shapes(rng)
    a = rng.integers(-128, 128, size=shape1, dtype=np.int8)
    b = rng.integers(-128, 128, size=shape2, dtype=np.int8)
    geometry = broadcast_geometry(shape1, shape2)
    assert geometry is not None
    return a, b, geometry, broadcast_shape(shape1, shape2)  # type: ignore[return-value]


def _act(rng: np.random.Generator) -> tuple[int, int]:
    lo = int(rng.integers(-128, 128))
    return (-128, 127) if rng.random() < 0.5 else (lo, int(rng.integers(lo, 128)))


def _binary_fields(geometry: ir.Broadcast) -> dict[str, Any]:
    return {"name": "op", "inputs": (0, 1), "outputs": (2,), "broadcast": geometry, "constant1": None,
            "constant2": None}


# ==============================================================================================
# LUT
# ==============================================================================================

@pytest.mark.parametrize("seed", range(10))
def test_lut_kernel_matches_numpy(runtime: Any, seed: int) -> None:
    ffi, lib = runtime
    rng = np.random.default_rng(seed)
    table = rng.integers(-128, 128, size=256, dtype=np.int8)
    x = np.arange(-128, 128, dtype=np.int8) if seed == 0 else rng.integers(-128, 128, size=int(rng.integers(0, 500)),
                                                                             dtype=np.int8)
    out = np.zeros_like(x)
    assert lib.edgec_lut_s8(_ptr(ffi, "int8_t", table), _ptr(ffi, "int8_t", x), x.size, _ptr(ffi, "int8_t", out)) == 0
    op = ir.Lut("lut", (0,), (2,), table=table)
    np.testing.assert_array_equal(out, run_op(op, [x], _value(x.shape)))


def test_lut_kernel_rejects_bad_arguments(runtime: Any) -> None:
    ffi, lib = runtime
    table, x, out = np.zeros(256, np.int8), np.zeros(4, np.int8), np.zeros(4, np.int8)
    t, p, o = (_ptr(ffi, "int8_t", a) for a in (table, x, out))
    for args in ((ffi.NULL, p, 4, o), (t, ffi.NULL, 4, o), (t, p, 4, ffi.NULL), (t, p, -1, o)):
        assert lib.edgec_lut_s8(*args) == EDGEC_ARG_ERROR


# ==============================================================================================
# ADD / SUB with broadcasting
# ==============================================================================================

def _add_broadcast_op(rng: np.random.Generator, geometry: ir.Broadcast, tflite_params: bool) -> ir.AddBroadcast:
    if tflite_params:
        while True:
            s1, s2, so = (float(np.float32(rng.uniform(0.001, 0.5))) for _ in range(3))
            reals = add_real_multipliers(s1, s2, so)
            pairs = [quantize_multiplier(r) for r in reals]
            if all(0 < r < 1 for r in reals) and all(s <= 0 for _, s in pairs):
                break
        (m1, sh1), (m2, sh2), (mo, sho) = pairs
        left = LEFT_SHIFT
    else:
        m1, m2, mo = (int(rng.integers(0, 2**31)) for _ in range(3))
        sh1, sh2, sho = (int(rng.integers(-31, 1)) for _ in range(3))
        left = int(rng.integers(0, 23))
    sign = 1 if rng.random() < 0.5 else -1  # SUB negates the input2 multiplier
    act = _act(rng)
    rescale = ir.AddRescale(input1_offset=int(rng.integers(-127, 129)), input1_multiplier=m1, input1_shift=sh1,
                            input2_offset=int(rng.integers(-127, 129)), input2_multiplier=sign * m2, input2_shift=sh2,
                            left_shift=left, output_multiplier=mo, output_shift=sho,
                            output_offset=int(rng.integers(-128, 128)), act_min=act[0], act_max=act[1])
    return ir.AddBroadcast(**_binary_fields(geometry), rescale=rescale)


@pytest.mark.parametrize("seed", range(40))
def test_add_broadcast_kernel_matches_numpy(runtime: Any, seed: int) -> None:
    ffi, lib = runtime
    rng = np.random.default_rng(2000 + seed)
    a, b, geometry, out_shape = _operands(rng)
    op = _add_broadcast_op(rng, geometry, tflite_params=seed % 3 != 0)
    out = np.zeros(out_shape, np.int8)
    params = ffi.new("edgec_add_params *", dataclasses.asdict(op.rescale))
    status = lib.edgec_add_broadcast_s8(params, _broadcast(ffi, geometry), _ptr(ffi, "int8_t", a),
                                        _ptr(ffi, "int8_t", b), _ptr(ffi, "int8_t", out))
    assert status == EDGEC_OK
    np.testing.assert_array_equal(out, run_op(op, [a, b], _value(out_shape)), err_msg=str(op))


@pytest.mark.parametrize("seed", range(20))
def test_add_kernel_with_negative_input2_multiplier_matches_numpy(runtime: Any, seed: int) -> None:
    """SUB of one shape runs the flat ADD kernel with the input2 multiplier negated."""
    ffi, lib = runtime
    rng = np.random.default_rng(3000 + seed)
    shape = tuple(int(d) for d in rng.integers(1, 7, size=3))
    a, b = (rng.integers(-128, 128, size=shape, dtype=np.int8) for _ in range(2))
    geometry = broadcast_geometry(shape, shape)
    assert geometry is not None
    wide = _add_broadcast_op(rng, geometry, tflite_params=seed % 2 == 0)
    fields = dataclasses.asdict(wide.rescale)
    fields["input2_multiplier"] = -abs(fields["input2_multiplier"])
    op = ir.Add("sub", (0, 1), (2,), rescale=ir.AddRescale(**fields))
    out = np.zeros(shape, np.int8)
    params = ffi.new("edgec_add_params *", fields)
    assert lib.edgec_add_s8(params, _ptr(ffi, "int8_t", a), _ptr(ffi, "int8_t", b), a.size,
                            _ptr(ffi, "int8_t", out)) == EDGEC_OK
    np.testing.assert_array_equal(out, run_op(op, [a, b], _value(shape)))


# ==============================================================================================
# MUL and PRELU
# ==============================================================================================

def _mul_op(rng: np.random.Generator, geometry: ir.Broadcast, tflite_params: bool) -> ir.Mul:
    if tflite_params:
        real = float(np.float32(rng.uniform(1e-3, 0.5))) ** 2 / float(np.float32(rng.uniform(1e-3, 1.0)))
        multiplier, shift = quantize_multiplier(real)
    else:
        multiplier, shift = int(rng.integers(0, 2**31)), int(rng.integers(-31, 16))
    act = _act(rng)
    return ir.Mul(**_binary_fields(geometry), input1_offset=int(rng.integers(-127, 129)),
                  input2_offset=int(rng.integers(-127, 129)), output_multiplier=multiplier, output_shift=shift,
                  output_offset=int(rng.integers(-128, 128)), act_min=act[0], act_max=act[1])


_MUL_FIELDS = ("input1_offset", "input2_offset", "output_multiplier", "output_shift", "output_offset", "act_min",
               "act_max")
_PRELU_FIELDS = ("input_offset", "alpha_offset", "multiplier_pos", "shift_pos", "multiplier_neg", "shift_neg",
                 "output_offset")


@pytest.mark.parametrize("seed", range(40))
def test_mul_kernel_matches_numpy(runtime: Any, seed: int) -> None:
    ffi, lib = runtime
    rng = np.random.default_rng(4000 + seed)
    a, b, geometry, out_shape = _operands(rng)
    op = _mul_op(rng, geometry, tflite_params=seed % 3 != 0)
    out = np.zeros(out_shape, np.int8)
    params = ffi.new("edgec_mul_params *", {k: getattr(op, k) for k in _MUL_FIELDS})
    assert lib.edgec_mul_s8(params, _broadcast(ffi, geometry), _ptr(ffi, "int8_t", a), _ptr(ffi, "int8_t", b),
                            _ptr(ffi, "int8_t", out)) == EDGEC_OK
    np.testing.assert_array_equal(out, run_op(op, [a, b], _value(out_shape)), err_msg=str(op))


@pytest.mark.parametrize("seed", range(30))
def test_prelu_kernel_matches_numpy(runtime: Any, seed: int) -> None:
    ffi, lib = runtime
    rng = np.random.default_rng(5000 + seed)
    while True:
        x, alpha, geometry, out_shape = _operands(rng)
        if out_shape == x.shape:  # alpha broadcasts onto the input
            break
    pairs = [quantize_multiplier(float(rng.uniform(1e-4, 4.0))) for _ in range(2)]
    op = ir.PRelu(**_binary_fields(geometry), input_offset=int(rng.integers(-127, 129)),
                  alpha_offset=int(rng.integers(-127, 129)), multiplier_pos=pairs[0][0], shift_pos=pairs[0][1],
                  multiplier_neg=pairs[1][0], shift_neg=pairs[1][1], output_offset=int(rng.integers(-128, 128)))
    out = np.zeros(out_shape, np.int8)
    params = ffi.new("edgec_prelu_params *", {k: getattr(op, k) for k in _PRELU_FIELDS})
    assert lib.edgec_prelu_s8(params, _broadcast(ffi, geometry), _ptr(ffi, "int8_t", x), _ptr(ffi, "int8_t", alpha),
                              _ptr(ffi, "int8_t", out)) == EDGEC_OK
    np.testing.assert_array_equal(out, run_op(op, [x, alpha], _value(out_shape)), err_msg=str(op))


def test_broadcast_kernels_reject_bad_arguments(runtime: Any) -> None:
    ffi, lib = runtime
    rng = np.random.default_rng(0)
    geometry = broadcast_geometry((2, 3), (1, 3))
    assert geometry is not None
    a, out = np.zeros(6, np.int8), np.zeros(6, np.int8)
    p, o = _ptr(ffi, "int8_t", a), _ptr(ffi, "int8_t", out)
    shape = _broadcast(ffi, geometry)
    negative = _broadcast(ffi, geometry)
    negative.stride2.c = -1
    add = ffi.new("edgec_add_params *", dataclasses.asdict(_add_broadcast_op(rng, geometry, True).rescale))
    mul = ffi.new("edgec_mul_params *", {k: getattr(_mul_op(rng, geometry, True), k) for k in _MUL_FIELDS})
    prelu = ffi.new("edgec_prelu_params *", {"multiplier_pos": 1 << 30, "multiplier_neg": 1 << 30})
    for fn, params in ((lib.edgec_add_broadcast_s8, add), (lib.edgec_mul_s8, mul), (lib.edgec_prelu_s8, prelu)):
        assert fn(params, shape, p, p, o) == EDGEC_OK
        for args in ((ffi.NULL, shape, p, p, o), (params, ffi.NULL, p, p, o), (params, shape, ffi.NULL, p, o),
                     (params, shape, p, ffi.NULL, o), (params, shape, p, p, ffi.NULL), (params, negative, p, p, o)):
            assert fn(*args) == EDGEC_ARG_ERROR
    for field, value in (("input1_offset", -128), ("output_shift", 32), ("act_min", 100), ("output_offset", 128)):
        bad = ffi.new("edgec_mul_params *", {k: getattr(mul, k) for k in _MUL_FIELDS})
        setattr(bad, field, value)
        if field == "act_min":
            bad.act_max = 99
        assert lib.edgec_mul_s8(bad, shape, p, p, o) == EDGEC_ARG_ERROR
    for field, value in (("alpha_offset", 129), ("shift_neg", -32), ("output_offset", -129)):
        bad = ffi.new("edgec_prelu_params *", {k: getattr(prelu, k) for k in _PRELU_FIELDS})
        setattr(bad, field, value)
        assert lib.edgec_prelu_s8(bad, shape, p, p, o) == EDGEC_ARG_ERROR
