"""C kernels edgec_strided_copy_s8, edgec_pad_s8 and edgec_mean_s8 against the numpy interpreter (cffi, UBSan).

Hypothesis draws shapes, slice parameters, permutations, paddings, reduction axes and quantization;
the C kernel, driven by the geometry codegen derives (compiler/codegen/movement.py), must give the
same bytes as the numpy kernel, which uses numpy indexing instead of strides.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_lib import load_runtime

from compiler import interp, ir
from compiler.codegen import movement
from compiler.fixedpoint import quantize_multiplier
from compiler.lower.reduce import mean_multiplier

SETTINGS = settings(max_examples=60, deadline=None)
shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)


def _value(vid: int, shape: tuple[int, ...]) -> ir.Value:
    return ir.Value(vid, f"v{vid}", shape, ir.DType.INT8)


def _copy(lib, ffi, g: movement.CopyGeometry, src: np.ndarray, dst: np.ndarray) -> None:
    params = ffi.new("edgec_copy_params *", {"extent": list(g.extent), "in_offset": g.in_offset,
                                             "in_stride": list(g.in_stride), "out_offset": g.out_offset,
                                             "out_stride": list(g.out_stride)})
    status = lib.edgec_strided_copy_s8(params, ffi.cast("const int8_t *", ffi.from_buffer(src)),
                                       ffi.cast("int8_t *", ffi.from_buffer(dst)))
    assert status == lib.EDGEC_OK


def _random(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, shape, dtype=np.int8)


@st.composite
def slices(draw):
    shape = draw(shapes)
    begin, step, extent = [], [], []
    for d in shape:
        s = draw(st.sampled_from([1, 2, 3, -1, -2]))
        b = draw(st.integers(0, d - 1))
        room = (d - 1 - b) // s + 1 if s > 0 else b // -s + 1
        begin.append(b)
        step.append(s)
        extent.append(draw(st.integers(1, room)))
    return shape, tuple(begin), tuple(step), tuple(extent)


@SETTINGS
@given(slices(), st.integers(0, 1000))
def test_strided_slice_kernel(case, seed: int) -> None:
    ffi, lib = load_runtime()
    shape, begin, step, extent = case
    op = ir.StridedSlice("s", (0,), (1,), begin=begin, step=step, extent=extent)
    x = _random(shape, seed)
    want = interp.run_op(op, [x], _value(1, extent))
    got = np.zeros(extent, np.int8)
    _copy(lib, ffi, movement.strided_slice(op, shape), x, got)
    assert np.array_equal(got, want)


@SETTINGS
@given(shapes.flatmap(lambda s: st.tuples(st.just(s), st.permutations(range(len(s))))), st.integers(0, 1000))
def test_transpose_kernel(case, seed: int) -> None:
    ffi, lib = load_runtime()
    shape, perm = case
    op = ir.Transpose("t", (0,), (1,), perm=tuple(perm))
    out_shape = tuple(shape[p] for p in perm)
    x = _random(shape, seed)
    got = np.zeros(out_shape, np.int8)
    _copy(lib, ffi, movement.transpose(op, shape), x, got)
    assert np.array_equal(got, interp.run_op(op, [x], _value(1, out_shape)))


@SETTINGS
@given(shapes.flatmap(lambda s: st.tuples(st.just(s), st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)),
                                                            min_size=len(s), max_size=len(s)))),
       st.integers(-128, 127), st.integers(0, 1000))
def test_pad_kernel(case, pad_value: int, seed: int) -> None:
    ffi, lib = load_runtime()
    shape, pads = case
    op = ir.Pad("p", (0,), (1,), before=tuple(p[0] for p in pads), after=tuple(p[1] for p in pads),
                pad_value=pad_value)
    out_shape = tuple(d + b + a for d, (b, a) in zip(shape, pads))
    x = _random(shape, seed)
    got = np.zeros(out_shape, np.int8)
    params = movement.pad(op, shape, out_shape)
    c = ffi.new("edgec_copy_params *", {"extent": list(params.extent), "in_offset": params.in_offset,
                                        "in_stride": list(params.in_stride), "out_offset": params.out_offset,
                                        "out_stride": list(params.out_stride)})
    assert lib.edgec_pad_s8(c, pad_value, got.size, ffi.cast("const int8_t *", ffi.from_buffer(x)),
                            ffi.cast("int8_t *", ffi.from_buffer(got))) == lib.EDGEC_OK
    assert np.array_equal(got, interp.run_op(op, [x], _value(1, out_shape)))


@SETTINGS
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple), st.integers(1, 3), st.data())
def test_concatenation_kernel(base, parts: int, data) -> None:
    ffi, lib = load_runtime()
    axis = data.draw(st.integers(0, len(base) - 1))
    shapes_ = [base[:axis] + (data.draw(st.integers(1, 3)),) + base[axis + 1:] for _ in range(parts)]
    out_shape = base[:axis] + (sum(s[axis] for s in shapes_),) + base[axis + 1:]
    op = ir.Concatenation("c", tuple(range(parts)), (parts,), axis=axis)
    xs = [_random(s, i) for i, s in enumerate(shapes_)]
    got = np.zeros(out_shape, np.int8)
    for g, x in zip(movement.concatenation(op, shapes_, out_shape), xs):
        _copy(lib, ffi, g, x, got)
    assert np.array_equal(got, interp.run_op(op, xs, _value(parts, out_shape)))


@SETTINGS
@given(shapes, st.data(), st.floats(0.001, 1.0), st.floats(0.001, 1.0), st.integers(-128, 127),
       st.integers(-128, 127))
def test_mean_kernel(shape, data, s_in: float, s_out: float, zp_in: int, zp_out: int) -> None:
    ffi, lib = load_runtime()
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    count = int(np.prod([shape[a] for a in axes]))
    m, s = mean_multiplier(*quantize_multiplier(float(np.float32(s_in)) / float(np.float32(s_out))), count)
    op = ir.Mean("m", (0,), (1,), axes=axes, input_offset=-zp_in, multiplier=m, shift=s, count=count,
                 output_offset=zp_out)
    out_shape = tuple(d for k, d in enumerate(shape) if k not in axes)
    x = _random(shape, count)
    want = interp.run_op(op, [x], _value(1, out_shape))
    p = movement.mean_params(op, shape)
    params = ffi.new("edgec_mean_params *", {k: (list(v) if isinstance(v, tuple) else v) for k, v in p.items()})
    got = np.zeros(out_shape, np.int8)
    assert lib.edgec_mean_s8(params, ffi.cast("const int8_t *", ffi.from_buffer(x)),
                             ffi.cast("int8_t *", ffi.from_buffer(got))) == lib.EDGEC_OK
    assert np.array_equal(got, want)
