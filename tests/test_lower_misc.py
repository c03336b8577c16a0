"""Pooling, ADD, SOFTMAX, RESHAPE, QUANTIZE and DEQUANTIZE end to end, and their support checks.

Graph tests build a model with ``compiler.modelbuilder``, read it with the frontend, lower it and
run the numpy interpreter; the outputs must equal TFLite's reference kernels (BUILTIN_REF) bit for
bit. Check tests call each named support check on a graph that passes and on one that fails it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pytest

from compiler import ir
from compiler import modelbuilder as mb
from compiler.errors import UnsupportedModelError
from compiler.frontend.tflite import read_tflite
from compiler.graph import Graph, Operator, QuantParams
from compiler.interp import run
from compiler.lower import lower
from compiler.lower.add import add_scales_representable
from compiler.lower.convert import dequantize_int8_to_float, quantize_float_to_int8
from compiler.lower.layout import reshape_static_target, reshape_tensors
from compiler.lower.pool import pool_geometry, pool_keeps_quantization
from compiler.lower.softmax import softmax_beta_scale, softmax_output_quantization, softmax_shape
from compiler.reference import run_reference

PoolKind = Literal["AVG", "MAX"]
ACTIVATIONS: tuple[mb.Activation, ...] = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def _f32(x: float) -> float:
    return float(np.float32(x))


def _random_inputs(program: ir.Program, rng: np.random.Generator) -> list[np.ndarray]:
    inputs = []
    for vid in program.inputs:
        v = program.value(vid)
        if v.dtype == ir.DType.INT8:
            inputs.append(rng.integers(-128, 128, size=v.shape, dtype=np.int8))
        else:
            inputs.append(rng.normal(0.0, 2.0, size=v.shape).astype(np.float32))
    return inputs


def assert_matches_reference(model: bytes, trials: int = 4, seed: int = 0,
                             inputs: list[list[np.ndarray]] | None = None) -> ir.Program:
    """Lower the model, run it on random (or given) inputs, and compare every output bit for bit with TFLite."""
    program = lower(read_tflite(model))
    rng = np.random.default_rng(seed)
    for batch in inputs if inputs is not None else [_random_inputs(program, rng) for _ in range(trials)]:
        ours = run(program, batch)
        theirs = run_reference(model, batch)
        assert len(ours) == len(theirs)
        for got, want in zip(ours, theirs, strict=True):
            assert got.dtype == want.dtype and got.shape == want.shape
            if got.dtype == np.float32:
                np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
            else:
                np.testing.assert_array_equal(got, want)
    return program


def _op_kinds(program: ir.Program) -> list[str]:
    return [op.kind.name for op in program.ops]


# ==============================================================================================
# Graph tests against TFLite's reference kernels
# ==============================================================================================

POOL_CASES = [
    (kind, f, s, padding)
    for kind in ("AVG", "MAX")
    for f in (1, 2, 3)
    for s in (1, 2)
    for padding in ("SAME", "VALID")
]


@pytest.mark.parametrize("kind, filter_size, stride, padding", POOL_CASES)
def test_pool_matches_reference(kind: PoolKind, filter_size: int, stride: int, padding: mb.Padding) -> None:
    index = POOL_CASES.index((kind, filter_size, stride, padding))
    activation = ACTIVATIONS[index % len(ACTIVATIONS)]
    model = mb.pool_model(kind, (2, 7, 9, 3), filter_size, stride, padding, activation, seed=index)
    program = assert_matches_reference(model, seed=index)
    assert _op_kinds(program) == [{"AVG": "AVERAGE_POOL_2D", "MAX": "MAX_POOL_2D"}[kind]]


@pytest.mark.parametrize("kind", ["AVG", "MAX"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_pool_asymmetric_windows_and_activations(kind: PoolKind, activation: mb.Activation) -> None:
    cases: list[tuple[tuple[int, ...], tuple[int, int], tuple[int, int], mb.Padding]] = [
        ((1, 5, 11, 2), (2, 3), (1, 2), "SAME"),
        ((1, 6, 6, 4), (3, 1), (3, 2), "VALID"),
        ((1, 1, 9, 1), (1, 4), (1, 3), "SAME"),
        ((1, 4, 4, 2), (4, 4), (1, 1), "SAME"),  # global-sized window with SAME: edge windows are clipped
    ]
    for i, (shape, filt, stride, padding) in enumerate(cases):
        qp = (_f32(0.02 + 0.01 * i), 5 - 7 * i)  # zero points away from -128 make RELU clamps bite
        model = mb.pool_model(kind, shape, filt, stride, padding, activation, seed=i, input_qparams=qp)
        assert_matches_reference(model, trials=3, seed=i)


ADD_QPARAMS = [
    ((0.05, -3), (0.05, -3), (0.1, 0)),
    ((0.02, 10), (0.3, -100), (0.25, 20)),
    ((0.5, 127), (0.001, -128), (0.4, -5)),
    ((0.0078125, 0), (0.015625, 0), (0.0234375, -128)),
    ((0.1, -128), (0.1, 127), (0.003, 3)),  # output scale smaller than the inputs': saturation
]


@pytest.mark.parametrize("qparams", ADD_QPARAMS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_add_matches_reference(qparams: tuple, activation: mb.Activation) -> None:
    (s1, z1), (s2, z2), (so, zo) = qparams
    model = mb.add_model((1, 5, 3, 7), input1_qparams=(_f32(s1), z1), input2_qparams=(_f32(s2), z2),
                         output_qparams=(_f32(so), zo), activation=activation)
    program = assert_matches_reference(model, seed=hash(qparams) % 1000)
    assert _op_kinds(program) == ["ADD"]


@pytest.mark.parametrize("seed", range(6))
def test_add_calibrated_matches_reference(seed: int) -> None:
    model = mb.add_model((2, 3, 4, 5), activation=ACTIVATIONS[seed % 4], seed=seed)
    assert_matches_reference(model, seed=seed)


def test_add_all_value_pairs() -> None:
    grid = np.arange(-128, 128, dtype=np.int8)
    a, b = (g.reshape(1, 256, 256, 1).copy() for g in np.meshgrid(grid, grid))
    model = mb.add_model((1, 256, 256, 1), input1_qparams=(_f32(0.037), -17), input2_qparams=(_f32(0.011), 44),
                         output_qparams=(_f32(0.05), 9), activation="RELU")
    assert_matches_reference(model, inputs=[[a, b]])


SOFTMAX_CASES = [
    ((1, 10), 0.1, 1.0), ((1, 10), 0.0039, 1.0), ((3, 7), 0.5, 1.0), ((2, 16), 0.05, 2.0), ((1, 100), 0.25, 0.5),
    ((4, 3, 20), 0.02, 1.0), ((1, 1), 0.1, 1.0), ((2, 300), 0.08, 1.0), ((1, 10), 1.5, 3.0), ((1, 50), 0.001, 0.3),
    ((1, 12), 64.0, 1.0),  # the multiplier saturates at 2^31 - 1: only the maxima count
    ((1, 1000), 0.5, 1.0),  # a long row whose sum of exps stays below 512 (TFLite aborts from 512 on)
]


@pytest.mark.parametrize("shape, scale, beta", SOFTMAX_CASES)
def test_softmax_matches_reference(shape: tuple, scale: float, beta: float) -> None:
    index = SOFTMAX_CASES.index((shape, scale, beta))
    model = mb.softmax_model(shape, input_qparams=(_f32(scale), (37 * index) % 256 - 128), beta=beta, seed=index)
    program = assert_matches_reference(model, trials=5, seed=index)
    assert _op_kinds(program) == ["SOFTMAX"]


def test_softmax_ties_and_extremes() -> None:
    model = mb.softmax_model((1, 16), input_qparams=(_f32(0.03), 0))
    rows = [np.full((1, 16), v, np.int8) for v in (-128, 0, 127)]
    rows.append(np.array([[127, -128] * 8], np.int8))
    rows.append(np.arange(-128, 128, 16, dtype=np.int8).reshape(1, 16))
    assert_matches_reference(model, inputs=[[r] for r in rows])


@pytest.mark.parametrize("shape_as_input", [True, False])
@pytest.mark.parametrize("in_shape, new_shape", [((1, 2, 2, 4), (1, 16)), ((1, 6), (1, 2, 3)), ((2, 3, 4), (2, 12, 1))])
def test_reshape_matches_reference(in_shape: tuple, new_shape: tuple, shape_as_input: bool) -> None:
    model = mb.reshape_model(in_shape, new_shape, shape_as_input=shape_as_input)
    program = assert_matches_reference(model)
    assert _op_kinds(program) == ["RESHAPE"]
    assert program.value(program.outputs[0]).shape == new_shape


def _float_edges_model(shape: tuple[int, ...], scale: float, zero_point: int, middle: str = "NONE") -> bytes:
    """float32 -> QUANTIZE -> [middle op] -> DEQUANTIZE -> float32."""
    b = mb.ModelBuilder()
    x = b.input("x", shape, "float32")
    q = b.tensor("q", shape, "int8", scale=scale, zero_point=zero_point)
    b.op("QUANTIZE", [x], [q])
    if middle == "MAX_POOL_2D":
        out_shape = (shape[0], shape[1] - 1, shape[2] - 1, shape[3])
        m = b.tensor("pooled", out_shape, "int8", scale=scale, zero_point=zero_point)
        b.op("MAX_POOL_2D", [q], [m], filter_size=2, stride=1, padding="VALID")
        q, shape = m, out_shape
    elif middle == "RESHAPE":
        flat = (shape[0], int(np.prod(shape[1:])))
        m = b.tensor("flat", flat, "int8", scale=scale, zero_point=zero_point)
        b.op("RESHAPE", [q, b.const("shape", np.array(flat, np.int32))], [m])
        q, shape = m, flat
    elif middle == "SOFTMAX":
        m = b.tensor("probs", shape, "int8", scale=1 / 256, zero_point=-128)
        b.op("SOFTMAX", [q], [m], beta=1.0)
        q = m
    y = b.tensor("y", shape, "float32")
    b.op("DEQUANTIZE", [q], [y])
    b.output(y)
    return b.build()


@pytest.mark.parametrize("scale, zero_point", [(0.05, 0), (0.0078125, -128), (0.25, 17), (0.013, -3), (3.7, 127)])
def test_quantize_dequantize_match_reference(scale: float, zero_point: int) -> None:
    scale = _f32(scale)
    model = _float_edges_model((1, 64), scale, zero_point)
    rng = np.random.default_rng(zero_point + 128)
    s32 = np.float32(scale)
    ties = ((np.arange(64, dtype=np.float32) - 32 + np.float32(0.5)) * s32).reshape(1, 64)  # x / scale at .5
    near = np.nextafter(ties, np.float32(0)).astype(np.float32)
    wide = (rng.normal(0, 150, size=(1, 64)) * scale).astype(np.float32)  # mostly saturating
    small = (rng.normal(0, 3, size=(1, 64)) * scale).astype(np.float32)
    special = np.array([[0.0, -0.0, 1e-30, -1e-30, 1e6, -1e6] + [0.0] * 58], dtype=np.float32)
    program = assert_matches_reference(model, inputs=[[ties], [near], [wide], [small], [special]])
    assert _op_kinds(program) == ["QUANTIZE", "DEQUANTIZE"]
    assert program.value(program.inputs[0]).dtype == ir.DType.FLOAT32


@pytest.mark.parametrize("middle", ["MAX_POOL_2D", "RESHAPE", "SOFTMAX"])
def test_float_edges_around_int8_ops(middle: str) -> None:
    model = _float_edges_model((1, 5, 5, 3), _f32(0.04), -10, middle)
    program = assert_matches_reference(model, trials=4, seed=3)
    assert _op_kinds(program) == ["QUANTIZE", middle, "DEQUANTIZE"]


# ==============================================================================================
# Support checks: each one passes on a good graph and names the problem on a bad one
# ==============================================================================================


def _graph(model: bytes) -> tuple[Graph, Operator]:
    graph = read_tflite(model)
    return graph, graph.operators[-1]


def _single_op(kind: str, in_shape: tuple, out_shape: tuple, in_dtype: str = "int8", out_dtype: str = "int8",
               in_q: tuple | None = (0.05, 0), out_q: tuple | None = (0.05, 0), extra_inputs: int = 0,
               **options: Any) -> tuple[Graph, Operator]:
    b = mb.ModelBuilder()
    inputs = [b.input(f"x{i}" if i else "x", in_shape, in_dtype, *(in_q or (None, None)))  # type: ignore[arg-type]
              for i in range(1 + extra_inputs)]
    y = b.tensor("y", out_shape, out_dtype, *(out_q or (None, None)))  # type: ignore[arg-type]
    b.op(kind, inputs, [y], **options)
    b.output(y)
    return _graph(b.build())


def _assert_check(check: Callable[[Graph, Operator], str | None], good: tuple[Graph, Operator],
                  bad: tuple[Graph, Operator], expect: str) -> None:
    assert check.__doc__ and check.__doc__.strip()
    assert check(*good) is None
    problem = check(*bad)
    assert problem is not None and expect in problem, problem


def test_check_pool_geometry() -> None:
    good = _single_op("MAX_POOL_2D", (1, 5, 5, 2), (1, 2, 2, 2), filter_size=2, stride=2, padding="VALID")
    _assert_check(pool_geometry, good,
                  _single_op("MAX_POOL_2D", (1, 5, 5, 2), (1, 3, 3, 2), filter_size=2, stride=2, padding="VALID"),
                  "differs from the [1, 2, 2, 2]")
    _assert_check(pool_geometry, good,
                  _single_op("AVERAGE_POOL_2D", (5, 5, 2), (2, 2, 2), filter_size=2, stride=2, padding="VALID"),
                  "4-D")
    graph, op = _single_op("AVERAGE_POOL_2D", (1, 5, 5, 2), (1, 5, 5, 2), filter_size=1, stride=1, padding="SAME")
    assert pool_geometry(graph, op) is None
    _assert_check(pool_geometry, good, (graph, replace(op, options={**op.options, "filter": (0, 1)})), "at least 1")
    _assert_check(pool_geometry, good, (graph, replace(op, options={**op.options, "padding": "EXPLICIT"})),
                  "not supported")
    _assert_check(pool_geometry, good,
                  _single_op("AVERAGE_POOL_2D", (1, 2, 2, 2), (1, 1, 1, 2), filter_size=3, stride=1,
                             padding="VALID"),
                  "does not fit")


def test_check_pool_keeps_quantization() -> None:
    good = _single_op("AVERAGE_POOL_2D", (1, 4, 4, 1), (1, 2, 2, 1), filter_size=2, stride=2)
    bad = _single_op("AVERAGE_POOL_2D", (1, 4, 4, 1), (1, 2, 2, 1), out_q=(0.05, 3), filter_size=2, stride=2)
    _assert_check(pool_keeps_quantization, good, bad, "without rescaling")
    bad = _single_op("MAX_POOL_2D", (1, 4, 4, 1), (1, 2, 2, 1), out_q=(0.1, 0), filter_size=2, stride=2)
    _assert_check(pool_keeps_quantization, good, bad, "differs from the input's")


def test_check_add_scales_representable() -> None:
    good = _graph(mb.add_model((1, 4), input1_qparams=(0.5, 0), input2_qparams=(0.5, 0), output_qparams=(1e-6, 0)))
    bad = _graph(mb.add_model((1, 4), input1_qparams=(0.5, 0), input2_qparams=(0.5, 0), output_qparams=(1e-7, 0)))
    _assert_check(add_scales_representable, good, bad, "too small")


def test_check_softmax_output_quantization() -> None:
    good = _single_op("SOFTMAX", (1, 10), (1, 10), out_q=(1 / 256, -128), beta=1.0)
    _assert_check(softmax_output_quantization, good,
                  _single_op("SOFTMAX", (1, 10), (1, 10), out_q=(1 / 256, 0), beta=1.0), "1/256 and -128")
    _assert_check(softmax_output_quantization, good,
                  _single_op("SOFTMAX", (1, 10), (1, 10), out_q=(1 / 255, -128), beta=1.0), "1/256 and -128")
    near = _single_op("SOFTMAX", (1, 10), (1, 10), out_q=(1 / 256 * 1.0005, -128), beta=1.0)
    assert softmax_output_quantization(*near) is None  # inside TFLite's 0.1% tolerance


def test_check_softmax_shape() -> None:
    good = _single_op("SOFTMAX", (2, 10), (2, 10), out_q=(1 / 256, -128), beta=1.0)
    bad = _single_op("SOFTMAX", (2, 10), (1, 20), out_q=(1 / 256, -128), beta=1.0)
    _assert_check(softmax_shape, good, bad, "must be equal")


def test_check_softmax_beta_scale() -> None:
    good = _single_op("SOFTMAX", (1, 10), (1, 10), in_q=(2.0**-20, 0), out_q=(1 / 256, -128), beta=1.0)
    bad = _single_op("SOFTMAX", (1, 10), (1, 10), in_q=(2.0**-20, 0), out_q=(1 / 256, -128), beta=2.0**-6)
    _assert_check(softmax_beta_scale, good, bad, "at most 2^-26")
    neg = _single_op("SOFTMAX", (1, 10), (1, 10), out_q=(1 / 256, -128), beta=-1.0)
    _assert_check(softmax_beta_scale, good, neg, "positive")


def test_check_reshape_tensors() -> None:
    good = _graph(mb.reshape_model((1, 2, 2, 4), (1, 16)))
    _assert_check(reshape_tensors, good,
                  _single_op("RESHAPE", (1, 8), (1, 4, 4), new_shape=(1, 4, 4)), "different element counts")
    _assert_check(reshape_tensors, good,
                  _single_op("RESHAPE", (1, 8), (2, 4), out_dtype="int16", new_shape=(2, 4)), "int8 to int16")
    b = mb.ModelBuilder()
    x = b.input("x", (1, 4), "int8", 0.1, 0)
    c = b.const("c", np.zeros((2, 2), np.int8), "int8", 0.1, 0)
    y = b.tensor("y", (1, 4), "int8", 0.1, 0)
    b.op("RESHAPE", [c], [y], new_shape=(1, 4))
    z = b.tensor("z", (1, 4), "int8", 0.2, 0)
    b.op("ADD", [x, y], [z])
    b.output(z)
    graph = read_tflite(b.build())
    problem = reshape_tensors(graph, graph.operators[0])
    assert problem is not None and "constant" in problem


def test_check_reshape_static_target() -> None:
    good = _graph(mb.reshape_model((1, 2, 2, 4), (1, 16), shape_as_input=True))
    b = mb.ModelBuilder()
    x = b.input("x", (1, 16), "int8", 0.1, 0)
    shape = b.input("shape", (2,), "int32")
    y = b.tensor("y", (4, 4), "int8", 0.1, 0)
    b.op("RESHAPE", [x, shape], [y])
    b.output(y)
    _assert_check(reshape_static_target, good, _graph(b.build()), "computed at run time")


def test_check_quantize_float_to_int8() -> None:
    good = _single_op("QUANTIZE", (1, 8), (1, 8), in_dtype="float32", in_q=None)
    requant = _single_op("QUANTIZE", (1, 8), (1, 8), in_q=(0.05, 0), out_q=(0.1, 3))
    assert quantize_float_to_int8(*requant) is None  # int8 -> int8 requantization is a table (test_lower_elementwise)
    _assert_check(quantize_float_to_int8, good,
                  _single_op("QUANTIZE", (1, 8), (1, 8), in_q=(0.05, 0), out_dtype="int16", out_q=(0.1, 3)),
                  "only float32 -> int8 and int8 -> int8")
    _assert_check(quantize_float_to_int8, good,
                  _single_op("QUANTIZE", (1, 8), (1, 8), in_dtype="int16", in_q=(0.05, 0), out_q=(0.1, 3)),
                  "requantization from int16 to int8 is not supported")
    _assert_check(quantize_float_to_int8, good,
                  _single_op("QUANTIZE", (1, 8), (1, 8), in_dtype="float32", out_dtype="int16", in_q=None),
                  "only float32 -> int8")
    # The reader rejects a zero point of 200 already (tests/test_validation.py); the check holds on its own too.
    graph, op = good
    out = graph.tensors[op.outputs[0]]
    tensors = list(graph.tensors)
    tensors[out.index] = dataclasses.replace(out, quant=QuantParams((0.1,), (200,)))
    _assert_check(quantize_float_to_int8, good, (dataclasses.replace(graph, tensors=tuple(tensors)), op),
                  "outside int8")
    int16_requant = _single_op("QUANTIZE", (1, 8), (1, 8), in_dtype="int16", in_q=(0.05, 0), out_q=(0.1, 3))
    with pytest.raises(UnsupportedModelError, match="requantization"):
        lower(int16_requant[0])


def test_check_dequantize_int8_to_float() -> None:
    good = _single_op("DEQUANTIZE", (1, 8), (1, 8), out_dtype="float32", out_q=None)
    bad = _single_op("DEQUANTIZE", (1, 8), (1, 8), in_dtype="int16", out_dtype="float32", in_q=(0.05, 0), out_q=None)
    _assert_check(dequantize_int8_to_float, good, bad, "only int8 -> float32")
    b = mb.ModelBuilder()
    x = b.input("x", (1, 8), "int8", 0.1, 0)
    y = b.tensor("y", (1, 8), "float32")
    b.op("DEQUANTIZE", [x], [y])
    b.output(y)
    per_channel = mb.ModelBuilder()
    xf = per_channel.input("x", (1, 2), "float32")
    xc = per_channel.tensor("q", (1, 2), "int8", scale=[0.1, 0.2], zero_point=[0, 0], quantized_dimension=1)
    per_channel.op("QUANTIZE", [xf], [xc])
    yc = per_channel.tensor("y", (1, 2), "float32")
    per_channel.op("DEQUANTIZE", [xc], [yc])
    per_channel.output(yc)
    _assert_check(dequantize_int8_to_float, _graph(b.build()), _graph(per_channel.build()), "per channel")


def test_unsupported_model_lists_every_problem() -> None:
    b = mb.ModelBuilder()
    x = b.input("x", (1, 4, 4, 2), "int8", 0.05, 0)
    p = b.tensor("p", (1, 2, 2, 2), "int8", 0.07, 1)
    b.op("AVERAGE_POOL_2D", [x], [p], filter_size=2, stride=2)
    s = b.tensor("s", (1, 2, 2, 2), "int8", 0.01, 0)
    b.op("SOFTMAX", [p], [s], beta=1.0)
    b.output(s)
    with pytest.raises(UnsupportedModelError) as info:
        lower(read_tflite(b.build()))
    problems = info.value.problems
    assert len(problems) == 2
    assert "AVERAGE_POOL_2D" in problems[0] and "rescaling" in problems[0]
    assert "SOFTMAX" in problems[1] and "1/256" in problems[1]
