"""The C convolution-family kernels against the numpy interpreter, bit for bit.

Every case draws a random geometry (kernel 1/3/5, stride 1/2, dilation 1/2, leading padding up to the
window's reach, extra trailing padding, odd spatial sizes, batch 1-2, depth multiplier 1/2/3) and random
quantization (per-channel multipliers with shifts from -10 to +2, zero multipliers, pad values, output
offsets, clamps, biases up to the int32 limits so the 32-bit accumulator wraps). The C runtime is built with
UBSan, so these runs also prove the kernels free of undefined behaviour on those shapes.

The interpreter itself is held to a naive loop-by-loop implementation of the IR's definition on small cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from compiler import ir
from compiler.fixedpoint import requantize, wrap_int32
from compiler.interp import run_op

EDGEC_OK = 0
EDGEC_ARG_ERROR = -1


# ---- random ops -------------------------------------------------------------------------------------------

ConvFamilyOp = ir.Conv2D | ir.DepthwiseConv2D | ir.FullyConnected


@dataclass(frozen=True)
class Case:
    """One op with its input and the IR value describing its output."""

    op: ConvFamilyOp
    x: np.ndarray
    out: ir.Value


def _quant(rng: np.random.Generator, oc: int) -> dict[str, Any]:
    """Per-channel multipliers/shifts, bias, output offset and clamp."""
    multiplier = rng.integers(1 << 30, (1 << 31) - 1, size=oc, endpoint=True).astype(np.int32)
    multiplier[rng.random(oc) < 0.05] = 0
    shift = rng.integers(-10, 2, size=oc, endpoint=True).astype(np.int32)
    kind = rng.integers(0, 3)
    if kind == 0:
        bias = rng.integers(-5000, 5000, size=oc)
    elif kind == 1:
        bias = rng.integers(-(1 << 22), 1 << 22, size=oc)
    else:  # near the int32 limits: the accumulator wraps
        bias = rng.choice([-(2**31), 2**31 - 1, -(2**31) + 7, 2**31 - 1000], size=oc)
    lo, hi = sorted(int(v) for v in rng.integers(-128, 128, size=2))
    if rng.random() < 0.4:
        lo, hi = -128, 127
    return {"bias": bias.astype(np.int32), "multiplier": multiplier, "shift": shift,
            "output_offset": int(rng.integers(-128, 128)), "act_min": lo, "act_max": hi}


def _geometry(rng: np.random.Generator, size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """(leading padding, output size) for one axis: padding anywhere in [0, reach), trailing padding likewise."""
    reach = (k - 1) * dilation + 1
    pad = int(rng.integers(0, reach))  # 0 .. reach-1
    # The last window may start anywhere up to size - 1 + (reach - 1) - pad in padded terms.
    span = size + pad + int(rng.integers(0, reach))  # padded extent actually used
    out = max((span - reach) // stride + 1, 1)
    return pad, out


def random_conv(rng: np.random.Generator, depthwise: bool, k: int | None = None, stride: int | None = None,
                dilation: int | None = None, mult: int | None = None) -> Case:
    """A random Conv2D or DepthwiseConv2D with an int8 input."""
    kh = k if k is not None else int(rng.choice([1, 3, 5]))
    kw = k if k is not None else int(rng.choice([1, 3, 5]))
    sh = stride if stride is not None else int(rng.choice([1, 2]))
    sw = stride if stride is not None else int(rng.choice([1, 2]))
    dh = dilation if dilation is not None else int(rng.choice([1, 2]))
    dw = dilation if dilation is not None else int(rng.choice([1, 2]))
    n = int(rng.integers(1, 3))
    h, w = int(rng.integers(1, 12)), int(rng.integers(1, 12))
    ic = int(rng.integers(1, 9))
    pt, oh = _geometry(rng, h, kh, sh, dh)
    pl, ow = _geometry(rng, w, kw, sw, dw)
    x = rng.integers(-128, 128, size=(n, h, w, ic)).astype(np.int8)
    common: dict[str, Any] = {"stride": (sh, sw), "dilation": (dh, dw), "padding": (pt, pl),
              "pad_value": int(rng.integers(-128, 128))}
    if depthwise:
        m = mult if mult is not None else int(rng.choice([1, 2, 3]))
        oc = ic * m
        weights = rng.integers(-128, 128, size=(kh, kw, oc)).astype(np.int8)
        op: ConvFamilyOp = ir.DepthwiseConv2D("dw", (0,), (1,), weights=weights, depth_multiplier=m, **common,
                                       **_quant(rng, oc))
    else:
        oc = int(rng.integers(1, 9))
        weights = rng.integers(-128, 128, size=(oc, kh, kw, ic)).astype(np.int8)
        op = ir.Conv2D("conv", (0,), (1,), weights=weights, **common, **_quant(rng, oc))
    return Case(op, x, ir.Value(1, "out", (n, oh, ow, oc), ir.DType.INT8))


def random_fc(rng: np.random.Generator) -> Case:
    """A random FullyConnected; the input is sometimes N-D (viewed as [-1, IC])."""
    ic, oc, batches = int(rng.integers(1, 70)), int(rng.integers(1, 20)), int(rng.integers(1, 5))
    x = rng.integers(-128, 128, size=(batches, ic)).astype(np.int8)
    if rng.random() < 0.3:
        x = x.reshape(batches, 1, ic)
    weights = rng.integers(-128, 128, size=(oc, ic)).astype(np.int8)
    op = ir.FullyConnected("fc", (0,), (1,), weights=weights, **_fc_quant(rng, oc))
    return Case(op, x, ir.Value(1, "out", (batches, oc), ir.DType.INT8))


# ---- calling the C kernels -------------------------------------------------------------------------------

def _buf(ffi: Any, ctype: str, array: np.ndarray) -> Any:
    return ffi.from_buffer(f"{ctype}[]", array)


def _fc_quant(rng: np.random.Generator, oc: int) -> dict[str, Any]:
    """As _quant, but FULLY_CONNECTED's per-channel double scale: random mantissas over 2^-16 .. 2^-1."""
    q = _quant(rng, oc)
    del q["multiplier"], q["shift"]
    scale = rng.uniform(0.5, 1.0, size=oc) * np.exp2(rng.integers(-16, 0, size=oc))
    scale[rng.random(oc) < 0.05] = 0.0
    return {**q, "scale": scale.astype(np.float64)}


def _dims(ffi: Any, shape: tuple[int, ...]) -> Any:
    n, h, w, c = shape
    return ffi.new("edgec_dims *", {"n": n, "h": h, "w": w, "c": c})


class CCall:
    """The arguments of one C kernel call, kept alive together; :meth:`run` calls it with overrides."""

    def __init__(self, runtime: Any, case: Case, *, fast: bool = False) -> None:
        self.ffi, self.lib = runtime
        self.case = case
        self.suffix = "fast_s8" if fast else "s8"  # edgec_<op>_fast_s8: the kernels codegen selects
        op = case.op
        weights = op.weights
        if isinstance(op, ir.FullyConnected):
            c = op.constants  # the fast and int4 kernels: blocked weights, the integer rescale beside the double
            rescale: tuple[np.ndarray, ...] = (op.scale, c["multiplier"], c["n"])
            weights = c["weights"] if fast else op.weights
        else:
            rescale = (op.multiplier, op.shift)
        self.keep = [np.ascontiguousarray(a) for a in (case.x, weights, op.bias, *rescale)]
        x, weights, bias = self.keep[:3]
        self.output = np.zeros(case.out.shape, dtype=np.int8)
        ffi = self.ffi
        if isinstance(op, ir.FullyConnected) and not fast and op.weight_bits == 8:
            self.quant = _buf(ffi, "double", self.keep[3])  # edgec_fully_connected_s8: the double scale only
        elif isinstance(op, ir.FullyConnected):
            self.quant = ffi.new("edgec_fc_quant *", {"scale": _buf(ffi, "double", self.keep[3]),
                                                      "multiplier": _buf(ffi, "int32_t", self.keep[4]),
                                                      "n": _buf(ffi, "int32_t", self.keep[5])})
        else:
            self.quant = ffi.new("edgec_per_channel_quant *", {"multiplier": _buf(ffi, "int32_t", self.keep[3]),
                                                                "shift": _buf(ffi, "int32_t", self.keep[4])})
        self.args: dict[str, Any] = {
            "input": _buf(ffi, "int8_t", x), "filter": _buf(ffi, "int8_t", weights),
            "bias": _buf(ffi, "int32_t", bias),
            "output": ffi.from_buffer("int8_t[]", self.output, require_writable=True),
            "quant": self.quant,
        }
        if isinstance(op, ir.FullyConnected):
            oc, ic = op.weights.shape
            self.args["params"] = ffi.new("edgec_fc_params *", {
                "output_offset": op.output_offset, "act_min": op.act_min, "act_max": op.act_max})
            self.args.update(batches=x.size // ic, in_features=ic, out_features=oc)
        else:
            assert isinstance(op, (ir.Conv2D, ir.DepthwiseConv2D))
            dm = op.depth_multiplier if isinstance(op, ir.DepthwiseConv2D) else 1
            self.args["params"] = ffi.new("edgec_conv_params *", {
                "stride_h": op.stride[0], "stride_w": op.stride[1], "dilation_h": op.dilation[0],
                "dilation_w": op.dilation[1], "pad_top": op.padding[0], "pad_left": op.padding[1],
                "pad_value": op.pad_value, "depth_multiplier": dm, "output_offset": op.output_offset,
                "act_min": op.act_min, "act_max": op.act_max})
            fshape = op.weights.shape if isinstance(op, ir.Conv2D) else (1, *op.weights.shape)
            self.args.update(input_dims=_dims(ffi, x.shape), filter_dims=_dims(ffi, fshape),
                             output_dims=_dims(ffi, case.out.shape))

    def run(self, **overrides: Any) -> int:
        a = {**self.args, **overrides}
        op = self.case.op
        if isinstance(op, ir.FullyConnected):
            fc = getattr(self.lib, f"edgec_fully_connected_{self.suffix}")
            return int(fc(a["params"], a["quant"], a["batches"], a["in_features"], a["input"], a["out_features"],
                          a["filter"], a["bias"], a["output"]))
        fn = getattr(self.lib, f"edgec_convolve_{self.suffix}" if isinstance(op, ir.Conv2D)
                     else f"edgec_depthwise_conv_{self.suffix}")
        return int(fn(a["params"], a["quant"], a["input_dims"], a["input"], a["filter_dims"], a["filter"], a["bias"],
                      a["output_dims"], a["output"]))


def assert_c_matches_interp(runtime: Any, case: Case, *, fast: bool = False) -> None:
    expected = run_op(case.op, [case.x], case.out)
    call = CCall(runtime, case, fast=fast)
    assert call.run() == EDGEC_OK
    if not np.array_equal(call.output, expected):
        diff = np.argwhere(call.output != expected)
        first = tuple(int(i) for i in diff[0])
        raise AssertionError(f"{len(diff)} of {expected.size} outputs differ; first at {first}: "
                             f"C {call.output[first]} vs interp {expected[first]} for {case.op!r}")


# ---- C kernels vs interpreter ----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(60))
def test_convolve_s8_random(runtime: Any, seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    for _ in range(5):
        assert_c_matches_interp(runtime, random_conv(rng, depthwise=False))


@pytest.mark.parametrize("seed", range(60))
def test_depthwise_conv_s8_random(runtime: Any, seed: int) -> None:
    rng = np.random.default_rng(2000 + seed)
    for _ in range(5):
        assert_c_matches_interp(runtime, random_conv(rng, depthwise=True))


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("dilation", [1, 2])
def test_convolve_s8_grid(runtime: Any, k: int, stride: int, dilation: int) -> None:
    rng = np.random.default_rng(k * 100 + stride * 10 + dilation)
    for _ in range(4):
        assert_c_matches_interp(runtime, random_conv(rng, False, k, stride, dilation))


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("mult", [1, 2, 3])
def test_depthwise_conv_s8_grid(runtime: Any, k: int, stride: int, dilation: int, mult: int) -> None:
    rng = np.random.default_rng(k * 1000 + stride * 100 + dilation * 10 + mult)
    for _ in range(3):
        assert_c_matches_interp(runtime, random_conv(rng, True, k, stride, dilation, mult))


@pytest.mark.parametrize("seed", range(40))
def test_fully_connected_s8_random(runtime: Any, seed: int) -> None:
    rng = np.random.default_rng(3000 + seed)
    for _ in range(5):
        assert_c_matches_interp(runtime, random_fc(rng))


def test_convolve_s8_mobilenet_sized(runtime: Any) -> None:
    """A realistically sized layer: 3x3 stride 2 SAME on 48x48x8 -> 24x24x16, input zero point -128."""
    rng = np.random.default_rng(7)
    x = rng.integers(-128, 128, size=(1, 48, 48, 8)).astype(np.int8)
    q = _quant(rng, 16)
    op = ir.Conv2D("conv", (0,), (1,), weights=rng.integers(-127, 128, size=(16, 3, 3, 8)).astype(np.int8),
                   stride=(2, 2), dilation=(1, 1), padding=(0, 0), pad_value=-128, **q)
    assert_c_matches_interp(runtime, Case(op, x, ir.Value(1, "out", (1, 24, 24, 16), ir.DType.INT8)))


def test_accumulator_wraps_like_int32(runtime: Any) -> None:
    """bias = INT32_MAX plus a positive sum wraps negative in both implementations (as the reference's int32)."""
    x = np.full((1, 1, 1, 4), 100, dtype=np.int8)
    op = ir.FullyConnected("fc", (0,), (1,), weights=np.full((1, 4), 100, dtype=np.int8),
                           bias=np.array([2**31 - 1], dtype=np.int32), scale=np.array([2.0**-21]),
                           output_offset=0, act_min=-128, act_max=127)
    case = Case(op, x, ir.Value(1, "out", (1, 1), ir.DType.INT8))
    expected = run_op(op, [x], case.out)
    assert expected[0, 0] == -128  # wrapped to about -2^31, then scaled by 2^-21: far below -128
    assert_c_matches_interp(runtime, case)


# ---- argument validation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("depthwise", [False, True])
def test_conv_kernels_reject_bad_arguments(runtime: Any, depthwise: bool) -> None:
    ffi, _ = runtime
    rng = np.random.default_rng(5)
    case = random_conv(rng, depthwise, k=3, stride=1, dilation=1, mult=2)
    call = CCall(runtime, case)
    assert call.run() == EDGEC_OK
    for name in ("params", "quant", "input_dims", "input", "filter_dims", "filter", "bias", "output_dims", "output"):
        assert call.run(**{name: ffi.NULL}) == EDGEC_ARG_ERROR, name
    n, h, w, c = case.x.shape
    _, oh, ow, oc = case.out.shape
    bad_dims = {
        "input_dims": [(n, h, w, c + 1), (0, h, w, c), (n, -1, w, c)],
        "output_dims": [(n + 1, oh, ow, oc), (n, oh, ow, oc + 1), (n, 0, ow, oc)],
    }
    for name, shapes in bad_dims.items():
        for shape in shapes:
            assert call.run(**{name: _dims(ffi, shape)}) == EDGEC_ARG_ERROR, (name, shape)
    base = {f: getattr(call.args["params"], f) for f in ("stride_h", "stride_w", "dilation_h", "dilation_w", "pad_top",
                                                          "pad_left", "pad_value", "depth_multiplier",
                                                          "output_offset", "act_min", "act_max")}
    for field, value in [("stride_h", 0), ("dilation_w", 0), ("pad_top", -1), ("pad_value", 128),
                         ("act_min", 10), ("act_max", 128), ("output_offset", -129)]:
        if field == "act_min":
            bad = {**base, "act_min": 10, "act_max": 9}
        else:
            bad = {**base, field: value}
        params = ffi.new("edgec_conv_params *", bad)
        assert call.run(params=params) == EDGEC_ARG_ERROR, field
    shift = np.full(case.out.shape[3], 32, dtype=np.int32)
    quant = ffi.new("edgec_per_channel_quant *",
                    {"multiplier": call.quant.multiplier, "shift": _buf(ffi, "int32_t", shift)})
    assert call.run(quant=quant) == EDGEC_ARG_ERROR
    quant = ffi.new("edgec_per_channel_quant *", {"multiplier": ffi.NULL, "shift": call.quant.shift})
    assert call.run(quant=quant) == EDGEC_ARG_ERROR
    if depthwise:
        assert call.run(params=ffi.new("edgec_conv_params *", {**base, "depth_multiplier": 1})) == EDGEC_ARG_ERROR
        kh, kw, _ = case.op.weights.shape
        assert call.run(filter_dims=_dims(ffi, (2, kh, kw, oc))) == EDGEC_ARG_ERROR
    assert call.run() == EDGEC_OK


def test_fully_connected_rejects_bad_arguments(runtime: Any) -> None:
    ffi, _ = runtime
    call = CCall(runtime, random_fc(np.random.default_rng(9)))
    assert call.run() == EDGEC_OK
    for name in ("params", "quant", "input", "filter", "bias", "output"):
        assert call.run(**{name: ffi.NULL}) == EDGEC_ARG_ERROR, name
    for name in ("batches", "in_features", "out_features"):
        assert call.run(**{name: 0}) == EDGEC_ARG_ERROR, name
    assert call.run(params=ffi.new("edgec_fc_params *", {"output_offset": 0, "act_min": 5, "act_max": 4})) == \
        EDGEC_ARG_ERROR
    assert call.run(batches=1 << 20, in_features=1 << 12) == EDGEC_ARG_ERROR  # element count beyond int32


# ---- the interpreter against a naive implementation of the IR's definition -------------------------------

def naive_conv(op: ir.Conv2D | ir.DepthwiseConv2D, x: np.ndarray, out_shape: tuple[int, ...]) -> np.ndarray:
    """Loop-by-loop: every tap, out-of-image taps reading pad_value, int32 wrap, requantize, clamp."""
    n, oh, ow, oc = out_shape
    _, h, w, _ = x.shape
    depthwise = isinstance(op, ir.DepthwiseConv2D)
    kh, kw = (op.weights.shape[0], op.weights.shape[1]) if depthwise else (op.weights.shape[1], op.weights.shape[2])
    acc = np.zeros(out_shape, dtype=np.int64)
    for b in range(n):
        for oy in range(oh):
            for ox in range(ow):
                for c in range(oc):
                    total = int(op.bias[c])
                    for ky in range(kh):
                        for kx in range(kw):
                            iy = oy * op.stride[0] - op.padding[0] + ky * op.dilation[0]
                            ix = ox * op.stride[1] - op.padding[1] + kx * op.dilation[1]
                            inside = 0 <= iy < h and 0 <= ix < w
                            if depthwise:
                                assert isinstance(op, ir.DepthwiseConv2D)
                                v = int(x[b, iy, ix, c // op.depth_multiplier]) if inside else op.pad_value
                                total += v * int(op.weights[ky, kx, c])
                            else:
                                vs = x[b, iy, ix, :].astype(np.int64) if inside else np.full(x.shape[3], op.pad_value)
                                total += int(np.dot(vs, op.weights[c, ky, kx, :].astype(np.int64)))
                    acc[b, oy, ox, c] = total
    out = requantize(wrap_int32(acc), op.multiplier.astype(np.int64), op.shift.astype(np.int64), op.output_offset,
                     op.act_min, op.act_max)
    return out.astype(np.int8)


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("depthwise", [False, True])
def test_interp_conv_matches_naive_definition(seed: int, depthwise: bool) -> None:
    rng = np.random.default_rng(4000 + seed)
    case = random_conv(rng, depthwise)
    assert isinstance(case.op, (ir.Conv2D, ir.DepthwiseConv2D))
    assert np.array_equal(run_op(case.op, [case.x], case.out), naive_conv(case.op, case.x, case.out.shape))


@pytest.mark.parametrize("seed", range(10))
def test_interp_fully_connected_matches_naive_definition(seed: int) -> None:
    rng = np.random.default_rng(5000 + seed)
    case = random_fc(rng)
    op = case.op
    assert isinstance(op, ir.FullyConnected)
    oc, ic = op.weights.shape
    rows = case.x.reshape(-1, ic).astype(np.int64)
    acc = np.array([[int(op.bias[o]) + sum(int(rows[b, i]) * int(op.weights[o, i]) for i in range(ic))
                     for o in range(oc)] for b in range(rows.shape[0])], dtype=np.int64)
    # round(double(acc) * scale) half away from zero, via Python's exact rationals
    from fractions import Fraction

    def c_round(v: Fraction) -> int:
        whole = int(v)  # truncates toward zero
        return whole + (1 if v - whole >= Fraction(1, 2) else -1 if v - whole <= Fraction(-1, 2) else 0)

    wrapped = wrap_int32(acc)
    expected = np.array([[min(max(c_round(Fraction(float(wrapped[b, o]) * float(op.scale[o]))) + op.output_offset,
                                  op.act_min), op.act_max) for o in range(oc)] for b in range(rows.shape[0])],
                        dtype=np.int8)
    assert np.array_equal(run_op(op, [case.x], case.out).reshape(expected.shape), expected)
