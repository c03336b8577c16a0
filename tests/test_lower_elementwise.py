"""The elementwise family against TFLite's reference kernels, and its support checks.

Unary activations (RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, HARD_SWISH, LOGISTIC, TANH) and the int8 -> int8
QUANTIZE are 256-entry tables: each test feeds all 256 int8 values through a one-op model for many
quantization parameters, so the table is proven entry by entry against the reference interpreter.
ADD, SUB, MUL and PRELU are checked with broadcasting, constant operands and fused activations. The
comparisons run the IR interpreter; the C kernels are held to it in test_kernels_elementwise.py and the
compiled firmware to the reference in test_e2e_elementwise.py.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from test_lower_misc import _assert_check  # the one helper of the support-check tests

from compiler import ir
from compiler import modelbuilder as mb
from compiler.errors import ModelFileError, UnsupportedModelError
from compiler.frontend.tflite import read_tflite
from compiler.graph import Graph, Operator
from compiler.interp import run
from compiler.lower import lower
from compiler.lower.activation import hard_swish_scales, leaky_relu_alpha, logistic_output_scale, unary_int8
from compiler.lower.broadcast import at_most_one_constant, broadcast_geometry, broadcastable_operands, int8_operands
from compiler.lower.lut_tables import quantize_multiplier_signed
from compiler.lower.mul import prelu_output_shape
from compiler.reference import run_reference

ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
ACTIVATIONS: tuple[mb.Activation, ...] = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
UNARY = tuple(mb.UNARY_ACTIVATIONS)


def _f32(x: float) -> float:
    return float(np.float32(x))


def _qparams(rng: np.random.Generator, lo: float = 1e-3, hi: float = 0.5) -> tuple[float, int]:
    return _f32(math.exp(rng.uniform(math.log(lo), math.log(hi)))), int(rng.integers(-128, 128))


def assert_matches_reference(model: bytes, inputs: list[list[np.ndarray]]) -> ir.Program:
    program = lower(read_tflite(model))
    for batch in inputs:
        want = run_reference(model, batch)
        got = run(program, batch)
        for g, w in zip(got, want, strict=True):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)
    return program


def _random_inputs(program: ir.Program, rng: np.random.Generator, trials: int = 3) -> list[list[np.ndarray]]:
    return [[rng.integers(-128, 128, size=program.value(v).shape, dtype=np.int8) for v in program.inputs]
            for _ in range(trials)]


# ==============================================================================================
# Unary activations: every int8 input, many quantizations
# ==============================================================================================

@pytest.mark.parametrize("kind", UNARY)
def test_activation_tables_match_reference_on_all_inputs(kind: str) -> None:
    rng = np.random.default_rng(sum(map(ord, kind)))
    for trial in range(16):
        input_qparams = _qparams(rng, 1e-3, 1.0)
        output_qparams = None if trial % 4 == 0 else _qparams(rng, 1e-3, 1.0)  # None: calibrated
        if kind == "LOGISTIC" and output_qparams is not None:
            output_qparams = (1.0 / 256.0, output_qparams[1])  # TFLite fixes the scale, not the zero point
        if kind == "HARD_SWISH" and output_qparams is not None:
            output_qparams = (max(output_qparams[0], input_qparams[0] / 64), output_qparams[1])
        alpha = float(rng.choice([0.0, 0.01, 0.2, 0.3, 1.0, 1.7, -0.25]))
        model = mb.activation_model(kind, (1, 256), input_qparams, output_qparams, alpha=alpha, seed=trial)
        program = assert_matches_reference(model, [[ALL_INT8]])
        assert [op.kind for op in program.ops] == [ir.OpKind.LUT]


@pytest.mark.parametrize("kind", ["HARD_SWISH", "LOGISTIC", "TANH", "LEAKY_RELU"])
def test_activation_scale_extremes(kind: str) -> None:
    """Input scales from tiny to large: saturating left shifts (HARD_SWISH), flat tails (LOGISTIC, TANH)."""
    for i, scale in enumerate((2.0**-12, 0.0039, 0.07, 0.5, 3.0, 40.0)):
        out = {"LOGISTIC": None, "TANH": None}.get(kind, (_f32(scale * 0.75), 3 * i - 8))
        model = mb.activation_model(kind, (1, 256), (_f32(scale), 17 - 9 * i), out, alpha=0.125, seed=i)
        assert_matches_reference(model, [[ALL_INT8]])


@pytest.mark.parametrize("kind", ["RELU", "RELU6", "RELU_N1_TO_1"])
def test_relu_with_rescale_and_clamps_that_bite(kind: str) -> None:
    for i, (s_in, z_in, s_out, z_out) in enumerate([(0.02, 0, 0.02, 0), (0.05, -128, 0.01, -128), (0.1, 100, 0.03, -5),
                                                     (0.004, 7, 0.09, 127), (0.5, -3, 0.0078125, -128)]):
        model = mb.activation_model(kind, (1, 256), (_f32(s_in), z_in), (_f32(s_out), z_out), seed=i)
        assert_matches_reference(model, [[ALL_INT8]])


def test_requantize_matches_reference_on_all_inputs() -> None:
    rng = np.random.default_rng(7)
    cases = [((0.05, 3), (0.05, 3)), ((0.05, 3), (0.05, -20)), ((0.01, 0), (0.5, 0)), ((0.5, -128), (0.003, 127))]
    cases += [(_qparams(rng, 1e-3, 1.0), _qparams(rng, 1e-3, 1.0)) for _ in range(12)]
    for i, (qin, qout) in enumerate(cases):
        model = mb.requantize_model((1, 256), (_f32(qin[0]), qin[1]), (_f32(qout[0]), qout[1]), seed=i)
        program = assert_matches_reference(model, [[ALL_INT8]])
        assert [op.kind for op in program.ops] == [ir.OpKind.LUT]


def test_tflite_refuses_what_the_checks_refuse() -> None:
    """The two quantization rules of the activations are TFLite's own: its interpreter fails these models."""
    logistic = mb.activation_model("LOGISTIC", (1, 8), (0.05, 0), (1.0 / 128.0, 0))
    hard_swish = mb.activation_model("HARD_SWISH", (1, 8), (0.5, 0), (0.001, 0))
    for model in (logistic, hard_swish):
        with pytest.raises(ModelFileError):
            run_reference(model, [np.zeros((1, 8), np.int8)], isolated=True)
        with pytest.raises(UnsupportedModelError):
            lower(read_tflite(model))


# ==============================================================================================
# ADD, SUB, MUL, PRELU
# ==============================================================================================

BINARY_SHAPES = [
    ((1, 4, 4, 8), (1, 4, 4, 8), None),
    ((1, 4, 4, 8), (1, 1, 1, 8), None),  # per-channel scale or shift, as after a squeeze-excite
    ((1, 1, 1, 8), (1, 4, 4, 8), None),
    ((2, 3, 1, 5), (1, 1, 4, 1), None),
    ((1, 5), (5,), None),
    ((3, 1, 4), (1, 2, 1), None),
    ((1, 2, 3, 4, 5), (1, 2, 1, 4, 1), None),  # rank 5, walked in four axes
    ((1, 2, 3, 1, 2, 2), (1, 2, 3, 4, 1, 1), None),  # rank 6
    ((1, 4, 4, 8), (1, 1, 1, 8), 2),  # a constant per-channel operand
    ((1, 1, 6), (2, 3, 6), 1),  # the constant first
    ((1, 3, 3, 2), (), 2),  # a scalar constant
    ((1, 3, 3, 2), (1, 3, 3, 2), 1),  # a full-size constant
]


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("case", range(len(BINARY_SHAPES)))
def test_binary_ops_match_reference(kind: str, case: int) -> None:
    shape1, shape2, constant = BINARY_SHAPES[case]
    rng = np.random.default_rng(100 * case + len(kind))
    qparams = [_qparams(rng, 2e-3, 0.5) for _ in range(3)]
    model = mb.binary_model(kind, shape1, shape2, constant, *qparams[:2], qparams[2] if case % 2 else None,
                            activation=ACTIVATIONS[case % 4], seed=case)
    program = assert_matches_reference(model, _random_inputs(lower(read_tflite(model)), rng))
    expected = ir.OpKind.MUL if kind == "MUL" else (
        ir.OpKind.ADD if shape1 == shape2 and constant is None else ir.OpKind.ADD_BROADCAST)
    assert [op.kind for op in program.ops] == [expected]


@pytest.mark.parametrize("kind", ["SUB", "MUL"])
def test_binary_all_value_pairs(kind: str) -> None:
    grid = np.arange(-128, 128, dtype=np.int8)
    a, b = (g.reshape(1, 256, 256, 1).copy() for g in np.meshgrid(grid, grid))
    model = mb.binary_model(kind, (1, 256, 256, 1), (1, 256, 256, 1), None, (_f32(0.037), -17), (_f32(0.011), 44),
                            (_f32(0.05), 9), activation="RELU")
    assert_matches_reference(model, [[a, b]])


@pytest.mark.parametrize("shape, alpha_shape", [((1, 4, 4, 8), (1, 1, 8)), ((1, 4, 4, 8), (8,)), ((1, 3, 5), (1,)),
                                                ((2, 6), (2, 6)), ((1, 4, 4, 3), (4, 1, 3))])
def test_prelu_matches_reference(shape: tuple, alpha_shape: tuple) -> None:
    rng = np.random.default_rng(len(shape) * 10 + len(alpha_shape))
    for trial in range(3):
        model = mb.prelu_model(shape, alpha_shape, _qparams(rng), _qparams(rng), _qparams(rng) if trial else None,
                               seed=trial)
        program = assert_matches_reference(model, _random_inputs(lower(read_tflite(model)), rng))
        assert [op.kind for op in program.ops] == [ir.OpKind.PRELU]


def test_prelu_with_an_activation_alpha() -> None:
    b = mb.ModelBuilder()
    x = b.input("x", (1, 3, 3, 4), "int8", 0.05, 3)
    alpha = b.input("alpha", (1, 1, 4), "int8", 0.01, -5)
    y = b.tensor("y", (1, 3, 3, 4), "int8", 0.04, -2)
    b.op("PRELU", [x, alpha], [y])
    b.output(y)
    model = b.build()
    rng = np.random.default_rng(5)
    assert_matches_reference(model, _random_inputs(lower(read_tflite(model)), rng, trials=4))


def _square_model(kind: str) -> bytes:
    """An op whose two operands are the same tensor (x * x, x - x)."""
    b = mb.ModelBuilder()
    x = b.input("x", (1, 4, 4, 3), "int8", 0.03, -4)
    y = b.tensor("y", (1, 4, 4, 3), "int8", 0.02, -100)
    b.op(kind, [x, x], [y])
    b.output(y)
    return b.build()


@pytest.mark.parametrize("kind", ["MUL", "SUB", "ADD"])
def test_binary_of_one_tensor_with_itself(kind: str) -> None:
    model = _square_model(kind)
    rng = np.random.default_rng(11)
    program = assert_matches_reference(model, _random_inputs(lower(read_tflite(model)), rng))
    assert program.ops[0].inputs == (program.inputs[0],) * 2


def test_broadcast_geometry_merges_axes() -> None:
    g = broadcast_geometry((1, 4, 4, 8), (1, 1, 1, 8))
    assert g is not None and g.out_dims == (1, 1, 16, 8) and g.strides1 == (0, 0, 8, 1) and g.strides2 == (0, 0, 0, 1)
    g = broadcast_geometry((2, 3, 4), (2, 3, 4))
    assert g is not None and g.out_dims == (1, 1, 1, 24) and g.strides1 == g.strides2 == (0, 0, 0, 1)
    g = broadcast_geometry((3, 1, 4), (1, 2, 1))
    assert g is not None and g.out_dims == (1, 3, 2, 4)
    assert g.strides1 == (0, 4, 0, 1) and g.strides2 == (0, 0, 1, 0)
    assert broadcast_geometry((2, 1, 2, 1, 2), (1, 2, 1, 2, 1)) is None  # five alternating axes


def test_signed_multiplier_mirrors_the_positive_one() -> None:
    for real in (0.3, 0.5, 1.0, 1.7, 2.0**-20, 123.25):
        m, s = quantize_multiplier_signed(real)
        assert quantize_multiplier_signed(-real) == (-m, s)
    assert quantize_multiplier_signed(-(1.0 - 2.0**-40)) == (-(2**31), 0)  # mantissa rounds to 2^31: INT32_MIN


# ==============================================================================================
# Support checks: each passes on a good graph and names the problem on a bad one
# ==============================================================================================

def _graph(model: bytes) -> tuple[Graph, Operator]:
    graph = read_tflite(model)
    return graph, graph.operators[-1]


def _op(kind: str, shapes: list[tuple[int, ...]], out_shape: tuple[int, ...], dtype: str = "int8",
        constant: int | None = None, out_q: tuple[float, int] = (0.1, 0), per_channel: bool = False,
        **options: Any) -> tuple[Graph, Operator]:
    b = mb.ModelBuilder()
    inputs = []
    for i, shape in enumerate(shapes):
        if i == constant:
            inputs.append(b.const(f"c{i}", np.ones(shape, dtype=np.int8), "int8", 0.1, 0))
        elif per_channel and i == 1:
            inputs.append(b.const(f"c{i}", np.ones(shape, dtype=np.int8), "int8", [0.1] * shape[-1], [0] * shape[-1],
                                  quantized_dimension=len(shape) - 1))
        else:
            inputs.append(b.input(f"x{i}", shape, dtype, 0.1, 0))  # type: ignore[arg-type]
    y = b.tensor("y", out_shape, dtype, *out_q)  # type: ignore[arg-type]
    b.op(kind, inputs, [y], **options)
    b.output(y)
    return _graph(b.build())


def test_check_broadcastable_operands() -> None:
    good = _op("MUL", [(1, 4, 4, 8), (1, 1, 8)], (1, 4, 4, 8))
    _assert_check(broadcastable_operands, good, _op("MUL", [(1, 4, 4, 8), (1, 1, 3)], (1, 4, 4, 8)),
                  "do not broadcast")
    _assert_check(broadcastable_operands, good, _op("ADD", [(1, 4, 4, 8), (1, 1, 8)], (1, 4, 4, 3)),
                  "not to the output shape")
    _assert_check(broadcastable_operands, good, _op("SUB", [(2, 1, 2, 1, 2), (1, 2, 1, 2, 1)], (2, 2, 2, 2, 2)),
                  "more than 4 axes")
    graph, op = good
    _assert_check(broadcastable_operands, good, (graph, dataclasses.replace(op, inputs=op.inputs[:1])),
                  "takes two inputs")


def test_check_at_most_one_constant() -> None:
    good = _op("ADD", [(1, 4), (1, 4)], (1, 4), constant=1)
    b = mb.ModelBuilder()
    x = b.input("x", (1, 4), "int8", 0.1, 0)
    c1 = b.const("c1", np.ones((1, 4), np.int8), "int8", 0.1, 0)
    c2 = b.const("c2", np.ones((1, 4), np.int8), "int8", 0.1, 0)
    y = b.tensor("y", (1, 4), "int8", 0.2, 0)
    b.op("MUL", [c1, c2], [y])
    z = b.tensor("z", (1, 4), "int8", 0.2, 0)
    b.op("ADD", [x, y], [z])
    b.output(z)
    graph = read_tflite(b.build())
    _assert_check(at_most_one_constant, good, (graph, graph.operators[0]), "both operands are constant")


def test_check_int8_operands() -> None:
    good = _op("MUL", [(1, 4), (1, 4)], (1, 4), constant=1)
    _assert_check(int8_operands, good, _op("MUL", [(1, 4), (1, 4)], (1, 4), dtype="int16"), "only int8 is supported")
    _assert_check(int8_operands, good, _op("SUB", [(1, 4), (1, 4)], (1, 4), per_channel=True), "per channel")
    with pytest.raises(UnsupportedModelError, match="only int8 is supported"):
        lower(_op("ADD", [(1, 4), (1, 4)], (1, 4), dtype="int16")[0])


def test_check_prelu_output_shape() -> None:
    good = _op("PRELU", [(1, 2, 2, 3), (1, 1, 3)], (1, 2, 2, 3), constant=1)
    bad = _op("PRELU", [(1, 1, 1, 3), (2, 2, 3)], (1, 2, 2, 3), constant=1)
    _assert_check(prelu_output_shape, good, bad, "differs from the input shape")


def test_check_unary_int8() -> None:
    good = _op("TANH", [(1, 8)], (1, 8), out_q=(1 / 128, 0))
    _assert_check(unary_int8, good, _op("TANH", [(1, 8)], (1, 8), dtype="int16"), "only int8")
    _assert_check(unary_int8, good, _op("RELU", [(1, 8)], (1, 4)), "differ in size")
    b = mb.ModelBuilder()
    x = b.input("x", (1, 8), "int8", 0.1, 0)
    c = b.const("c", np.ones((1, 8), np.int8), "int8", 0.1, 0)
    r = b.tensor("r", (1, 8), "int8", 0.1, 0)
    b.op("RELU6", [c], [r])
    y = b.tensor("y", (1, 8), "int8", 0.2, 0)
    b.op("ADD", [x, r], [y])
    b.output(y)
    graph = read_tflite(b.build())
    _assert_check(unary_int8, good, (graph, graph.operators[0]), "constant tensor")
    graph, op = good
    _assert_check(unary_int8, good, (graph, dataclasses.replace(op, inputs=(0, 0))), "takes one input")


def test_check_logistic_output_scale() -> None:
    good = _op("LOGISTIC", [(1, 8)], (1, 8), out_q=(1 / 256, 5))
    _assert_check(logistic_output_scale, good, _op("LOGISTIC", [(1, 8)], (1, 8), out_q=(1 / 128, -128)), "not 1/256")


def test_check_leaky_relu_alpha() -> None:
    good = _op("LEAKY_RELU", [(1, 8)], (1, 8), alpha=0.2)
    _assert_check(leaky_relu_alpha, good, _op("LEAKY_RELU", [(1, 8)], (1, 8), alpha=float("nan")), "not a finite")


def test_check_hard_swish_scales() -> None:
    good = _op("HARD_SWISH", [(1, 8)], (1, 8), out_q=(0.1 / 100, 0))
    _assert_check(hard_swish_scales, good, _op("HARD_SWISH", [(1, 8)], (1, 8), out_q=(0.1 / 128, 0)),
                  "not above input scale")
