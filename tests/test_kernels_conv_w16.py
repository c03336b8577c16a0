"""edgec_convolve_w16_s8 (int16 weights widened offline, compiler/conv_layout.py) on the host (UBSan build of the
runtime) against the IR interpreter, and the layout and layer choice of compiler/conv_layout.py.

On the host the kernel runs its portable loop over the same quad buffer and weight layout the Cortex-M4/M33
assembly reads (edgec_conv_quad_w16.h; on QEMU: tests/test_e2e_conv_w16.py): K of 1..9 and others not a multiple
of 4 or 8 (the zero taps up to Kp), padding with a nonzero pad value, strides, dilations, position counts below
four and around multiples of four (the last group repeated), batches, left and right shifts, narrow output
ranges, biases near the int32 limits (wrapping sums) and extreme offsets; 3x3 windows over 3 channels (unpacked
straight from the input) and small IC at stride 2, 1x1 over 8 channels; and the doubled streams the compiler makes
for full-range layers (conv_layout.w16_doubled: given the output range; constant channels, ReLU offset -128 and
signed rounding), whose requantization the C model here computes as the assembly does.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from test_kernels_conv import EDGEC_OK, Case, CCall, _quant, random_conv

from compiler import conv_layout, ir
from compiler.interp import run_op

EDGEC_ARG_ERROR = -1


def _run(runtime: Any, case: Case, ranged: bool = False) -> np.ndarray:
    """ranged: the stream given the output range, as the compiler makes it (doubled where conv_layout allows)."""
    ffi, lib = runtime
    call = CCall(runtime, case)
    op = case.op
    clamp = (op.act_min, op.act_max) if ranged else ()
    keep = [np.ascontiguousarray(conv_layout.w16_weights(op.weights, op.bias, op.multiplier, op.shift,
                                                         op.output_offset, *clamp)),
            np.ascontiguousarray(op.bias.astype(np.int32))]
    status = lib.edgec_convolve_w16_s8(call.args["params"], call.args["quant"], call.args["input_dims"],
                                      call.args["input"], call.args["filter_dims"],
                                      ffi.from_buffer("int16_t[]", keep[0]), ffi.from_buffer("int32_t[]", keep[1]),
                                      call.args["output_dims"], call.args["output"])
    assert status == EDGEC_OK
    return call.output


def _check(runtime: Any, case: Case, ranged: bool = False) -> None:
    expected = run_op(case.op, [case.x], case.out)
    got = _run(runtime, case, ranged)
    if not np.array_equal(got, expected):
        first = tuple(int(i) for i in np.argwhere(got != expected)[0])
        raise AssertionError(f"output {first}: C {got[first]} vs interp {expected[first]} for {case.op!r}")


def _conv(rng: np.random.Generator, n: int, h: int, w: int, ic: int, oc: int, k: tuple[int, int],
          stride=(1, 1), padding=(0, 0), dilation=(1, 1), full_range: bool = False) -> Case:
    kh, kw = k
    oh = (h + 2 * padding[0] - ((kh - 1) * dilation[0] + 1)) // stride[0] + 1
    ow = (w + 2 * padding[1] - ((kw - 1) * dilation[1] + 1)) // stride[1] + 1
    x = rng.integers(-128, 128, size=(n, h, w, ic)).astype(np.int8)
    weights = rng.integers(-128, 128, size=(oc, kh, kw, ic)).astype(np.int8)
    q = _quant(rng, oc)
    if full_range:
        q["act_min"], q["act_max"] = -128, 127
    op = ir.Conv2D("conv", (0,), (1,), weights=weights, stride=stride, dilation=dilation, padding=padding,
                   pad_value=int(rng.integers(-128, 128)), **q)
    return Case(op, x, ir.Value(1, "out", (n, oh, ow, oc), ir.DType.INT8))


SHAPES = [
    # (n, h, w, ic, oc, k, stride, padding, dilation)
    *[(1, 3, 5, ic, 5, (1, 1), (1, 1), (0, 0), (1, 1)) for ic in range(1, 10)],  # K = 1..9, 15 positions
    (1, 1, 3, 5, 4, (1, 1), (1, 1), (0, 0), (1, 1)),      # three positions: fewer than four
    (1, 1, 1, 16, 3, (1, 1), (1, 1), (0, 0), (1, 1)),     # one position
    (2, 3, 3, 8, 13, (1, 1), (1, 1), (0, 0), (1, 1)),     # K = 8, batch 2, 18 positions
    (1, 2, 5, 15, 6, (1, 1), (1, 1), (0, 0), (1, 1)),     # K = 15
    (1, 3, 3, 12, 7, (1, 1), (1, 1), (0, 0), (1, 1)),     # K = 12: a zero chunk after the direct unpack
    (1, 5, 6, 16, 9, (3, 3), (1, 1), (1, 1), (1, 1)),     # K = 144, border windows
    (1, 11, 9, 3, 8, (3, 3), (2, 2), (1, 1), (1, 1)),     # K = 27, stride 2, rows of 9 bytes
    (1, 9, 9, 3, 5, (3, 3), (1, 1), (2, 2), (2, 2)),      # K = 27, dilation 2
    (1, 8, 8, 4, 6, (3, 3), (1, 2), (0, 1), (2, 1)),      # dilation_h 2 over whole-chunk rows
    (1, 13, 6, 1, 8, (10, 4), (2, 2), (4, 1), (1, 1)),    # K = 40, KWS's first layer
    (1, 9, 9, 16, 6, (1, 1), (2, 2), (0, 0), (1, 1)),     # 1x1 stride 2
    (1, 3, 4, 64, 5, (3, 3), (1, 1), (1, 1), (1, 1)),     # K = 576: the limit
    (1, 7, 7, 3, 4, (3, 3), (2, 2), (1, 1), (1, 1)),      # K = 27 rows copied as words up to the input's end
    (1, 6, 5, 2, 5, (2, 2), (1, 1), (1, 1), (1, 1)),      # rows of one chunk, border windows row by row
    (1, 7, 9, 1, 3, (3, 8), (1, 2), (1, 3), (1, 1)),      # rows of two chunks partly outside
    (1, 5, 7, 5, 4, (2, 3), (1, 1), (1, 1), (1, 1)),      # rows of 15 bytes: the word copy's overrun, borders
    # 3x3 over 3 channels (rows of 9 bytes, unpacked straight from the input): odd sizes, stride 2, VALID/SAME,
    # the window at the input's last byte, odd OC, batches
    (1, 9, 9, 3, 7, (3, 3), (2, 2), (0, 0), (1, 1)),      # VALID, odd input: every window inside
    (1, 10, 11, 3, 8, (3, 3), (2, 2), (0, 0), (1, 1)),    # SAME of an even height: the last row and column padded
    (2, 7, 5, 3, 5, (3, 3), (1, 1), (1, 1), (1, 1)),      # stride 1, padding all round, batch 2
    (1, 5, 13, 3, 3, (3, 3), (2, 3), (1, 0), (2, 1)),     # dilation_h 2, stride 3 across
    (1, 3, 3, 3, 9, (3, 3), (1, 1), (0, 0), (1, 1)),      # one position, the window the whole input
    # small IC at stride 2 through the other builders
    *[(1, 9, 7, ic, 5, (3, 3), (2, 2), (1, 1), (1, 1)) for ic in (1, 2, 4)],
    (1, 8, 8, 8, 16, (1, 1), (1, 1), (0, 0), (1, 1)),     # 1x1 over 8 channels: both windows without loops
    (1, 7, 5, 8, 15, (1, 1), (1, 1), (0, 0), (1, 1)),     # the same, odd positions and channels
    # odd position counts: the last one alone (dense 1x1 and unpacked windows, across rows and batches)
    *[(1, 1, p, 8, 7, (1, 1), (1, 1), (0, 0), (1, 1)) for p in (2, 5, 7, 9)],
    (3, 2, 2, 8, 5, (1, 1), (2, 2), (0, 0), (1, 1)),      # 3 positions, one per batch: the last in batch 2
    (1, 3, 3, 3, 7, (3, 3), (1, 1), (1, 1), (1, 1)),      # 9 positions of 3x3 over 3, SAME: the last a border
    (1, 5, 5, 4, 9, (3, 3), (2, 2), (1, 1), (1, 1)),      # 9 positions of 3x3 stride 2 over whole chunks
    (1, 1, 1, 9, 1, (1, 1), (1, 1), (0, 0), (1, 1)),      # one position, one channel (all in C)
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s[:5])) + f"_k{s[5][0]}{s[5][1]}"
                         f"_s{s[6][0]}{s[6][1]}_d{s[8][0]}{s[8][1]}")
@pytest.mark.parametrize("full_range", [False, True])
def test_w16_shapes(runtime: Any, shape: tuple, full_range: bool) -> None:
    n, h, w, ic, oc, k, stride, padding, dilation = shape
    rng = np.random.default_rng(hash((shape, full_range)) % (1 << 32))
    for _ in range(2):
        _check(runtime, _conv(rng, n, h, w, ic, oc, k, stride, padding, dilation, full_range))


def _doubled_case(case: Case, rng: np.random.Generator, dead: int = 0, offset: int = -128) -> Case:
    """case with the full output range, the offset (-128: a ReLU folded into the zero point), right shifts of 1 to
    22; dead: channels made constant (huge biases, tiny multipliers, shifts no live channel may have)."""
    op = case.op
    oc = op.weights.shape[0]
    shift = rng.integers(-22, 0, size=oc).astype(np.int32)
    bias = rng.integers(-(1 << 20), 1 << 20, size=oc).astype(np.int32)
    multiplier = op.multiplier.copy()
    for c in rng.choice(oc, size=min(dead, oc), replace=False):
        kind = int(rng.integers(0, 3))
        if kind == 0:  # far below: -128 for every input
            bias[c], shift[c] = -(1 << 30) - int(rng.integers(0, 1 << 20)), -int(rng.integers(1, 31))
        elif kind == 1:  # far above: 127 for every input, a left shift
            bias[c], shift[c], multiplier[c] = (1 << 29), 1, 1 << 30
        else:  # a tiny multiplier: the offset for every input
            multiplier[c], shift[c] = 1, -31
    op = dataclasses.replace(op, bias=bias, shift=shift, multiplier=multiplier, output_offset=offset, act_min=-128,
                             act_max=127)
    return Case(op, case.x, case.out)


def _is_doubled(op: ir.Conv2D) -> bool:
    stream = conv_layout.w16_weights(op.weights, op.bias, op.multiplier, op.shift, op.output_offset, op.act_min,
                                     op.act_max)
    kp = conv_layout.padded_taps(int(np.prod(op.weights.shape[1:])))
    mark = conv_layout.DOUBLED_MARK if op.output_offset == -128 else conv_layout.DOUBLED_SIGNED_MARK
    return int(stream.view(np.int32)[4 + kp + 3]) == mark


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s[:5])) + f"_k{s[5][0]}{s[5][1]}"
                         f"_s{s[6][0]}{s[6][1]}_d{s[8][0]}{s[8][1]}")
def test_w16_doubled_shapes(runtime: Any, shape: tuple) -> None:
    """The doubled stream (ReLU layers: SMMLAR, ASR, SSAT in the assembly; its C model here) on every shape, with
    and without constant channels; the layer whose channel fits neither keeps the folded stream."""
    n, h, w, ic, oc, k, stride, padding, dilation = shape
    rng = np.random.default_rng(hash((shape, "doubled")) % (1 << 32))
    for dead, offset in ((0, -128), (2, -128), (0, int(rng.integers(-127, 128))), (2, 127)):
        case = _doubled_case(_conv(rng, n, h, w, ic, oc, k, stride, padding, dilation, True), rng, dead, offset)
        assert _is_doubled(case.op)
        _check(runtime, case, ranged=True)
    op = _doubled_case(_conv(rng, n, h, w, ic, oc, k, stride, padding, dilation, True), rng).op
    shift, bias, multiplier, weights = op.shift.copy(), op.bias.copy(), op.multiplier.copy(), op.weights.copy()
    shift[-1], bias[-1], multiplier[-1], weights[-1] = -23, 3 << 22, (1 << 31) - 1, 100  # s > 22, a rounding edge
    assert not _is_doubled(dataclasses.replace(op, shift=shift, bias=bias, multiplier=multiplier, weights=weights))
    assert not _is_doubled(dataclasses.replace(op, act_max=100))
    assert not _is_doubled(dataclasses.replace(op, act_min=-127))


def test_w16_doubled_table_matches_the_reference_requantization() -> None:
    """(SMMLAR(2a, m, c) [+ sign(a) where signed]) >> s, SSAT #8 in Python integers equals requantize(a) + offset
    clamped, for every right shift of 1..22, accumulators up to 2^30 in magnitude, multipliers from 0 to 2^31 - 1
    and offsets -128 (no sign term) to 127."""
    from compiler.fixedpoint import requantize

    rng = np.random.default_rng(9)
    accs = [-(2**30) + 1, -1, 0, 1, 2**30 - 1, *rng.integers(-(2**30) + 1, 2**30, size=60).tolist()]
    # ties of the rounding right shift (a * m = k * 2^31 exactly before it): m = 2^30, a = odd multiples of 2^(s-1)
    for shift in range(-conv_layout.DOUBLED_MAX_S, 0):
        ties = [sign * (2 * j + 1) << (-shift) for j in (0, 1, 5) for sign in (1, -1)]
        for m in (0, 1, 1 << 30, (1 << 31) - 1, int(rng.integers(1 << 30, 1 << 31))):
            for offset in (-128, -127, 0, 5, 127):
                t = conv_layout.w16_doubled_table(np.array([m], np.int32), np.array([shift], np.int32), offset)
                mm, c, s, mark = (int(v) for v in t[0])
                signed = mark == conv_layout.DOUBLED_SIGNED_MARK
                assert mark == (conv_layout.DOUBLED_MARK if offset == -128 else conv_layout.DOUBLED_SIGNED_MARK)
                assert mm == m and s == -shift
                values = accs + ties
                got = np.clip([((((c << 32) + 2 * a * m + (1 << 31)) >> 32) - (signed and a < 0)) >> s
                               for a in values], -128, 127)
                want = requantize(np.array(values, np.int32), m, shift, offset, -128, 127)
                assert got.tolist() == want.tolist(), (shift, m, offset)


@pytest.mark.parametrize("seed", range(30))
def test_w16_random(runtime: Any, seed: int) -> None:
    rng = np.random.default_rng(7000 + seed)
    for _ in range(4):
        case = random_conv(rng, depthwise=False)
        _check(runtime, case)
        _check(runtime, case, ranged=True)  # doubled where the range allows
        _check(runtime, _doubled_case(case, rng, dead=int(rng.integers(0, 3))), ranged=True)
        _check(runtime, _doubled_case(case, rng, int(rng.integers(0, 3)), int(rng.integers(-128, 128))), ranged=True)


@pytest.mark.parametrize("extreme", ["weights_min", "offsets"])
def test_w16_extremes(runtime: Any, extreme: str) -> None:
    """All weights and inputs -128 (the largest products), pad value and offsets at the int8 ends."""
    rng = np.random.default_rng(17)
    case = _conv(rng, 1, 5, 7, 9, 6, (3, 3), padding=(1, 1), full_range=True)
    op = case.op
    if extreme == "weights_min":
        op = dataclasses.replace(op, weights=np.full_like(op.weights, -128))
        case = Case(op, np.full_like(case.x, -128), case.out)
    else:
        op = dataclasses.replace(op, pad_value=-128, output_offset=127)
        case = Case(op, case.x, case.out)
    _check(runtime, case)
    _check(runtime, Case(dataclasses.replace(op, pad_value=127, output_offset=-128), case.x, case.out))


def test_w16_rejects_windows_above_the_limit(runtime: Any) -> None:
    ffi, lib = runtime
    case = _conv(np.random.default_rng(3), 1, 3, 3, 72, 2, (3, 3), padding=(1, 1))  # K = 648
    call = CCall(runtime, case)
    keep = [np.zeros(2 * 648, dtype=np.int16), np.zeros(2 * 5, dtype=np.int32)]
    status = lib.edgec_convolve_w16_s8(call.args["params"], call.args["quant"], call.args["input_dims"],
                                      call.args["input"], call.args["filter_dims"],
                                      ffi.from_buffer("int16_t[]", keep[0]), ffi.from_buffer("int32_t[]", keep[1]),
                                      call.args["output_dims"], call.args["output"])
    assert status == EDGEC_ARG_ERROR


def test_w16_layout() -> None:
    """The stream of compiler/conv_layout.py built by hand: per channel pair four bias words, per 4-tap chunk
    c0's and c1's halfword pairs (w0, w2), (w1, w3), then each channel's four table words; an odd last channel
    with a zero partner."""
    w = np.arange(3 * 1 * 1 * 9, dtype=np.int8).reshape(3, 1, 1, 9) - 9
    bias = np.array([7, -8, 9], np.int32)
    mult, shift = np.full(3, 1 << 30, np.int32), np.array([-3, -4, -5], np.int32)
    got = conv_layout.w16_weights(w, bias, mult, shift, 5)
    assert got.dtype == np.int16
    table = conv_layout.w16_table(bias, mult, shift, 5).reshape(3, 5)
    rows = [[int(v) for v in w[o].ravel()] + [0] * 3 for o in range(3)] + [[0] * 12]
    want: list[int] = []
    for pair in range(2):
        a, b = 2 * pair, 2 * pair + 1
        tb = table[b] if b < 3 else table[a]
        halves = [int(table[a][0]), int(tb[0])] * 2
        want += [h for v in halves for h in (v & 0xFFFF, (v >> 16) & 0xFFFF)]
        for c in range(3):
            for o in (a, b):
                want += [rows[o][4 * c + j] & 0xFFFF for j in (0, 2, 1, 3)]
        for t in (table[a], tb):
            want += [h for v in t[1:].tolist() for h in (v & 0xFFFF, (v >> 16) & 0xFFFF)]
    assert (got.view(np.uint16)).tolist() == want


def _program(*ks: int, out_hw: tuple[int, int] = (4, 4)) -> ir.Program:
    values = (ir.Value(0, "in", (1, *out_hw, 4), ir.DType.INT8), ir.Value(1, "out", (1, *out_hw, 4), ir.DType.INT8))
    ops = []
    for i, k in enumerate(ks):
        weights = np.ones((4, 1, 1, k), dtype=np.int8)
        ops.append(ir.Conv2D(f"c{i}", (0,), (1,), weights=weights, bias=np.zeros(4, np.int32),
                             multiplier=np.ones(4, np.int32), shift=np.zeros(4, np.int32), stride=(1, 1),
                             dilation=(1, 1), padding=(0, 0), pad_value=0, output_offset=0, act_min=-128,
                             act_max=127))
    return ir.Program("p", values, tuple(ops), (0,), (1,), "")


def test_choice_by_target_and_flash() -> None:
    p = _program(27, 144, 700)
    layouts = lambda q: [op.weight_layout for op in q.ops]  # noqa: E731
    assert layouts(conv_layout.choose(p, ("dsp", "fpu"), None)) == ["w16", "w16", "ohwi"]  # K 700 > 576
    assert layouts(conv_layout.choose(p, (), None)) == ["ohwi"] * 3  # the Cortex-M3
    assert layouts(conv_layout.choose(p, ("dsp", "fpu", "mve"), None)) == ["ohwi"] * 3  # Helium
    assert layouts(conv_layout.choose(p, ("dsp",), None, "int8")) == ["ohwi"] * 3
    extra27 = conv_layout.extra_bytes(p.ops[0])
    assert extra27 == 2 * 4 * 32 - 4 * 27 + 16 * 4
    # Flash for the small-K layer only (smallest K first), then for none: the int8 fallback.
    room = conv_layout.FLASH_MARGIN + extra27
    assert layouts(conv_layout.choose(p, ("dsp",), room)) == ["w16", "ohwi", "ohwi"]
    assert layouts(conv_layout.choose(p, ("dsp",), conv_layout.FLASH_MARGIN - 1)) == ["ohwi"] * 3
    assert layouts(conv_layout.choose(p, ("dsp",), 0, "int16")) == ["w16", "w16", "ohwi"]  # forced
    # Any position count takes int16 (an odd last position is a one-position pass): 1, 3, 3x3 = 9, 4x5 = 20.
    for hw in ((1, 1), (1, 3), (3, 3), (4, 5)):
        assert layouts(conv_layout.choose(_program(144, out_hw=hw), ("dsp",), None)) == ["w16"]
    with pytest.raises(ValueError):
        conv_layout.choose(p, ("dsp",), None, "int4")


def test_for_target_keeps_int8_when_flash_is_short() -> None:
    from compiler.targets import load_target

    p = _program(27, 144)
    m4 = load_target("mps2-an386")
    assert [op.weight_layout for op in conv_layout.for_target(p, m4).ops] == ["w16", "w16"]
    need = m4.boot_reserved_bytes + m4.harness_flash_bytes + p.constant_bytes + conv_layout.FLASH_MARGIN
    short = dataclasses.replace(m4, flash_bytes=need + conv_layout.extra_bytes(p.ops[0]))
    assert [op.weight_layout for op in conv_layout.for_target(p, short).ops] == ["w16", "ohwi"]
    shorter = dataclasses.replace(m4, flash_bytes=need)
    assert [op.weight_layout for op in conv_layout.for_target(p, shorter).ops] == ["ohwi", "ohwi"]
    m3 = load_target("mps2-an385")
    assert [op.weight_layout for op in conv_layout.for_target(p, m3, "int16").ops] == ["ohwi", "ohwi"]


def _table_result(acc: int, lo: int, hi: int, m: int, r1: int) -> int:
    """edgec_conv_w16_table_s8's requantization in Python integers: AND/ADDS/ADC, SMLAL, ASR, SSAT #8."""
    lo, hi = lo & 0xFFFFFFFF, hi & 0xFFFFFFFF
    base = (hi << 32) + lo + ((acc & 0x80000000) if acc < 0 else 0) + (((1 << 32) - 1) << 32 if acc < 0 else 0)
    y = (base + acc * m) & ((1 << 64) - 1)
    high = (y >> 32) - ((1 << 32) if y >> 63 else 0)
    return max(-128, min(127, high >> r1))


def test_w16_table_matches_the_reference_requantization() -> None:
    """The folded table entries give requantize(acc) + offset, clamped, for every foldable shift, extreme
    accumulators and offsets; other shifts are marked r1 = -1."""
    from compiler.fixedpoint import requantize

    rng = np.random.default_rng(5)
    accs = [-(2**31), -(2**31) + 1, -1, 0, 1, 2**31 - 1, *rng.integers(-(2**31), 2**31, size=40).tolist()]
    for shift in range(-31, 2):
        for m in (0, 1 << 30, (1 << 31) - 1, int(rng.integers(1 << 30, 1 << 31))):
            for offset in (-128, 0, 127):
                t = conv_layout.w16_table(np.zeros(1, np.int32), np.array([m], np.int32), np.array([shift], np.int32),
                                          offset)
                if not (shift < 0 and -1 - shift <= conv_layout.FOLD_MAX_R1):
                    assert int(t[4]) == -1 and int(t[1]) == shift and int(t[3]) == m
                    continue
                for acc in accs:
                    want = int(requantize(np.array([acc], np.int32), m, shift, offset, -128, 127)[0])
                    assert _table_result(int(acc), int(t[1]), int(t[2]), int(t[3]), int(t[4])) == want


def test_for_target_keeps_the_weights_within_the_flash_budget() -> None:
    from compiler.targets import load_target

    p = _program(27, 144)
    m4 = load_target("mps2-an386")
    budget = p.constant_bytes + conv_layout.extra_bytes(p.ops[0])
    assert [op.weight_layout for op in conv_layout.for_target(p, m4, weight_budget=budget).ops] == ["w16", "ohwi"]
    assert [op.weight_layout for op in conv_layout.for_target(p, m4, weight_budget=budget - 1).ops] == ["ohwi"] * 2
    assert conv_layout.for_target(p, m4, weight_budget=budget).constant_bytes == budget
