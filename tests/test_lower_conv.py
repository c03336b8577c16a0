"""Lowering of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, checked end to end against TFLite.

Graph tests: single-op models from ``compiler.modelbuilder`` are read with ``read_tflite``, lowered, run by
the numpy interpreter and compared to TFLite's reference kernels (``compiler.reference``) with
``np.array_equal`` on several random inputs each.

FULLY_CONNECTED: TFLite's reference FC (LiteRT 1.3 and later) requantizes in double,
``(int32)round((double)acc * s_in * s_w / s_out)``, not with a Q31 multiplier; the IR's FullyConnected carries
that per-channel double scale. A Q31 rescale would differ by one on roughly 0.1% of outputs, so the many-input
test below is what would catch a regression to it.

Unit tests hold each support check to one passing and one failing operator, and one lowered op to literal,
hand-computed goldens.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from compiler import ir
from compiler import modelbuilder as mb
from compiler.errors import UnsupportedModelError
from compiler.frontend.tflite import read_tflite
from compiler.graph import Graph, QuantParams
from compiler.interp import run
from compiler.lower import REGISTRY, check_support, common, lower
from compiler.lower import conv as lc
from compiler.reference import run_reference

INPUTS_PER_MODEL = 3


def _inputs(program: ir.Program, seed: int, count: int = INPUTS_PER_MODEL) -> list[np.ndarray]:
    """Random int8 inputs covering the whole range, plus the two extremes (all -128, all 127) first."""
    shape = program.value(program.inputs[0]).shape
    rng = np.random.default_rng(seed)
    fixed = [np.full(shape, -128, np.int8), np.full(shape, 127, np.int8)]
    return fixed + [rng.integers(-128, 128, size=shape).astype(np.int8) for _ in range(count)]


def assert_matches_reference(model: bytes, seed: int = 0) -> ir.Program:
    """Lower the model, run it on several inputs and require bit-identical outputs from TFLite's reference."""
    program = lower(read_tflite(model))
    for i, x in enumerate(_inputs(program, seed)):
        ours = run(program, [x])[0]
        ref = run_reference(model, [x])[0]
        assert ours.shape == ref.shape and ours.dtype == ref.dtype
        if not np.array_equal(ours, ref):
            bad = np.argwhere(ours != ref)
            first = tuple(int(j) for j in bad[0])
            raise AssertionError(f"input #{i}: {len(bad)} of {ref.size} outputs differ; first at {first}: "
                                 f"ours {ours[first]} vs TFLite {ref[first]}")
    return program


# ---- CONV_2D ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kernel", [1, 3, 5])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_conv2d_geometry(kernel: int, stride: int, padding: mb.Padding) -> None:
    model = mb.conv2d_model((1, 11, 9, 3), out_channels=5, kernel=kernel, stride=stride, padding=padding,
                            seed=kernel * 10 + stride)
    program = assert_matches_reference(model, seed=kernel)
    (op,) = program.ops
    assert isinstance(op, ir.Conv2D) and op.weights.shape == (5, kernel, kernel, 3)


@pytest.mark.parametrize("activation", ["NONE", "RELU", "RELU6"])
@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("use_bias", [True, False])
def test_conv2d_quantization(activation: mb.Activation, per_channel: bool, use_bias: bool) -> None:
    model = mb.conv2d_model((1, 7, 7, 4), out_channels=6, kernel=3, stride=1, padding="SAME",
                            activation=activation, per_channel=per_channel, use_bias=use_bias, seed=3)
    assert_matches_reference(model, seed=1)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_conv2d_dilation_and_non_square(padding: mb.Padding) -> None:
    model = mb.conv2d_model((1, 13, 10, 2), out_channels=3, kernel=(3, 5), stride=(2, 1), padding=padding,
                            dilation=(2, 2), seed=5)
    assert_matches_reference(model, seed=2)


def test_conv2d_batch() -> None:
    assert_matches_reference(mb.conv2d_model((3, 6, 5, 3), out_channels=4, kernel=3, stride=2, seed=6), seed=3)


def test_conv2d_input_zero_point_extremes() -> None:
    """zp_in = -128 (after a ReLU) and 127: the folded bias and pad value carry all of it."""
    for zp, seed in ((-128, 7), (127, 8)):
        model = mb.conv2d_model((1, 5, 5, 3), out_channels=4, kernel=3, padding="SAME", seed=seed,
                                input_qparams=(0.02, zp))
        assert_matches_reference(model, seed=seed)


# ---- DEPTHWISE_CONV_2D -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kernel", [1, 3, 5])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_depthwise_geometry(kernel: int, stride: int, padding: mb.Padding) -> None:
    model = mb.depthwise_conv2d_model((1, 11, 9, 4), kernel=kernel, stride=stride, padding=padding,
                                      seed=kernel * 10 + stride)
    program = assert_matches_reference(model, seed=kernel)
    (op,) = program.ops
    assert isinstance(op, ir.DepthwiseConv2D) and op.weights.shape == (kernel, kernel, 4)


@pytest.mark.parametrize("depth_multiplier", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
def test_depthwise_multiplier_and_dilation(depth_multiplier: int, dilation: int) -> None:
    model = mb.depthwise_conv2d_model((2, 9, 8, 3), depth_multiplier=depth_multiplier, kernel=3, stride=1,
                                      padding="SAME", dilation=dilation, seed=depth_multiplier)
    program = assert_matches_reference(model, seed=dilation)
    (op,) = program.ops
    assert isinstance(op, ir.DepthwiseConv2D) and op.depth_multiplier == depth_multiplier


@pytest.mark.parametrize("activation", ["NONE", "RELU", "RELU6"])
@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("use_bias", [True, False])
def test_depthwise_quantization(activation: mb.Activation, per_channel: bool, use_bias: bool) -> None:
    model = mb.depthwise_conv2d_model((1, 7, 7, 6), depth_multiplier=2, kernel=3, stride=2, padding="SAME",
                                      activation=activation, per_channel=per_channel, use_bias=use_bias,
                                      seed=4)
    assert_matches_reference(model, seed=4)


def test_depthwise_mobilenet_sized_layer() -> None:
    """A 96x96 MobileNet-style layer: 3x3 depthwise stride 2 over 96x96x16, zp_in -128."""
    model = mb.depthwise_conv2d_model((1, 96, 96, 16), kernel=3, stride=2, padding="SAME", activation="RELU6",
                                      seed=11, input_qparams=(0.0235, -128))
    assert_matches_reference(model, seed=11)


# ---- FULLY_CONNECTED -------------------------------------------------------------------------------------

def assert_fc_matches_reference(model: bytes, seed: int = 0, count: int = INPUTS_PER_MODEL) -> None:
    graph = read_tflite(model)
    program = lower(graph)
    for i, x in enumerate(_inputs(program, seed, count)):
        assert np.array_equal(run(program, [x])[0], run_reference(model, [x])[0]), f"input #{i} differs"


@pytest.mark.parametrize("input_shape", [(1, 16), (4, 16), (2, 3, 10)])
@pytest.mark.parametrize("keep_num_dims", [False, True])
def test_fully_connected_shapes(input_shape: tuple[int, ...], keep_num_dims: bool) -> None:
    model = mb.fully_connected_model(input_shape, out_features=7, keep_num_dims=keep_num_dims, seed=len(input_shape))
    program = lower(read_tflite(model))
    out_shape = program.value(program.outputs[0]).shape
    expected = (*input_shape[:-1], 7) if keep_num_dims else (int(np.prod(input_shape[:-1])), 7)
    assert out_shape == expected
    assert_fc_matches_reference(model, seed=3)


@pytest.mark.parametrize("activation", ["NONE", "RELU", "RELU6"])
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_fully_connected_quantization(activation: mb.Activation, per_channel: bool, use_bias: bool) -> None:
    model = mb.fully_connected_model((3, 24), out_features=10, activation=activation,
                                     per_channel=per_channel, use_bias=use_bias, seed=9)
    assert_fc_matches_reference(model, seed=5)


def test_fully_connected_bit_identical_on_many_inputs() -> None:
    """Thousands of outputs: a Q31 rescale instead of TFLite's double one would differ on a few of them."""
    model = mb.fully_connected_model((8, 64), out_features=32, seed=21)
    program = lower(read_tflite(model))
    for x in _inputs(program, seed=21, count=20):
        assert np.array_equal(run(program, [x])[0], run_reference(model, [x])[0])


# ---- literal goldens -------------------------------------------------------------------------------------

def _golden_model(activation: str = "RELU6") -> bytes:
    """CONV_2D 3x3 stride 2 SAME on 1x7x7x1: s_in 0.5 zp 3, s_w 0.625, s_out 3.0 zp -2, bias 10."""
    b = mb.ModelBuilder()
    x = b.input("x", (1, 7, 7, 1), "int8", scale=0.5, zero_point=3)
    weights = np.array([1, 2, -4, 0, 5, 0, -1, 0, 1], dtype=np.int8).reshape(1, 3, 3, 1)  # sums to 4
    w = b.const("w", weights, "int8", scales=[0.625], zero_points=[0])
    bias = b.const("b", np.array([10], dtype=np.int32), "int32", scales=[0.3125], zero_points=[0])
    y = b.tensor("y", (1, 4, 4, 1), "int8", scale=3.0, zero_point=-2)
    b.op("CONV_2D", [x, w, bias], [y], padding="SAME", stride=2, activation=activation)
    b.output(y)
    return b.build()


def test_golden_lowered_conv_constants() -> None:
    """Hand-computed: eff = 0.5 * 0.625 / 3.0 = 5/48 = (5/6) * 2^-3, so multiplier = round(2^31 * 5/6)
    = round(1789569706.67) = 1789569707 and shift = -3. Folded bias = 10 - 3 * 4 = -2. RELU6 on
    (3.0, -2): [max(-128, -2 + 0), min(127, -2 + round(6 / 3))] = [-2, 0]. SAME, 7 -> 4 with stride 2:
    total padding (4 - 1) * 2 + 3 - 7 = 2, leading 1. MACs = 16 outputs * 9 taps = 144."""
    model = _golden_model()
    (op,) = lower(read_tflite(model)).ops
    assert isinstance(op, ir.Conv2D)
    assert op.multiplier.tolist() == [1789569707]
    assert op.shift.tolist() == [-3]
    assert op.bias.tolist() == [-2]
    assert (op.act_min, op.act_max) == (-2, 0)
    assert op.padding == (1, 1) and op.stride == (2, 2) and op.dilation == (1, 1)
    assert op.pad_value == 3 and op.output_offset == -2
    assert op.macs == 144
    assert op.multiplier.dtype == np.int32 and op.shift.dtype == np.int32 and op.bias.dtype == np.int32
    assert_matches_reference(_golden_model("NONE"), seed=1)


def test_golden_depthwise_and_fc_layout() -> None:
    """Depthwise weights lose their leading 1; the depth multiplier comes from the shapes; FC MACs = B*OC*IC."""
    (dw,) = lower(read_tflite(mb.depthwise_conv2d_model((1, 5, 5, 2), depth_multiplier=3, kernel=3))).ops
    assert isinstance(dw, ir.DepthwiseConv2D)
    assert dw.weights.shape == (3, 3, 6) and dw.depth_multiplier == 3 and dw.macs == 5 * 5 * 6 * 9
    (fc,) = lower(read_tflite(mb.fully_connected_model((4, 16), out_features=8))).ops
    assert isinstance(fc, ir.FullyConnected) and fc.macs == 4 * 8 * 16


def test_absent_bias_folds_to_zero_point_term() -> None:
    """FULLY_CONNECTED with bias -1: bias = -zp_in * sum(w) exactly."""
    model = mb.fully_connected_model((1, 12), out_features=5, use_bias=False, seed=2, input_qparams=(0.03, 17))
    graph = read_tflite(model)
    assert graph.operators[0].inputs[2] == -1
    (op,) = lower(graph).ops
    assert isinstance(op, ir.FullyConnected)
    w = graph.tensors[graph.operators[0].inputs[1]].data
    assert w is not None
    assert op.bias.tolist() == (-17 * w.astype(np.int64).sum(axis=1)).tolist()


# ---- support checks: one passing and one failing operator each -------------------------------------------

def _conv() -> Graph:
    return read_tflite(mb.conv2d_model((1, 8, 8, 3), out_channels=4, kernel=3, seed=1))


def _dw() -> Graph:
    return read_tflite(mb.depthwise_conv2d_model((1, 8, 8, 3), depth_multiplier=2, kernel=3, seed=1))


def _fc() -> Graph:
    return read_tflite(mb.fully_connected_model((2, 12), out_features=5, seed=1))


def tensor_of(graph: Graph, position: int) -> int:
    """Graph tensor index of operator 0's input at ``position`` (-1 for the output)."""
    op = graph.operators[0]
    return op.outputs[0] if position == -1 else op.inputs[position]


def with_tensor(graph: Graph, position: int, **changes: Any) -> Graph:
    """Operator 0's input ``position`` (or output, -1) replaced by a copy with ``changes``."""
    index = tensor_of(graph, position)
    tensors = list(graph.tensors)
    tensors[index] = dataclasses.replace(tensors[index], **changes)
    return dataclasses.replace(graph, tensors=tuple(tensors))


def with_quant(graph: Graph, position: int, **changes: Any) -> Graph:
    quant = graph.tensors[tensor_of(graph, position)].quant
    assert quant is not None
    return with_tensor(graph, position, quant=dataclasses.replace(quant, **changes))


def with_op(graph: Graph, **changes: Any) -> Graph:
    ops = list(graph.operators)
    ops[0] = dataclasses.replace(ops[0], **changes)
    return dataclasses.replace(graph, operators=tuple(ops))


def with_options(graph: Graph, **options: Any) -> Graph:
    return with_op(graph, options={**graph.operators[0].options, **options})


def _weights_data(graph: Graph) -> np.ndarray:
    data = graph.tensors[tensor_of(graph, 1)].data
    assert data is not None
    return data


CheckFn = Callable[[Graph, Any], "str | None"]

CHECK_CASES: list[tuple[str, CheckFn, Callable[[], Graph], Callable[[Graph], Graph], str]] = [
    ("int8_weights", lc.int8_weights, _conv,
     lambda g: with_tensor(g, 1, dtype="int16", data=_weights_data(g).astype(np.int16)), "only int8 and int4 weights"),
    ("int8_weights/not constant", lc.int8_weights, _fc, lambda g: with_tensor(g, 1, data=None), "not a constant"),
    ("symmetric_weights", lc.symmetric_weights, _fc, lambda g: with_quant(g, 1, zero_point=(3,)), "nonzero zero"),
    ("weight_scales_per_output_channel/axis", lc.weight_scales_per_output_channel, _dw,
     lambda g: with_quant(g, 1, axis=0), "needs axis 3"),
    ("weight_scales_per_output_channel/count", lc.weight_scales_per_output_channel, _conv,
     lambda g: with_quant(g, 1, scale=(0.1, 0.2), zero_point=(0, 0)), "2 scales for 4"),
    ("weight_scales_per_output_channel/sign", lc.weight_scales_per_output_channel, _fc,
     lambda g: with_quant(g, 1, scale=(-0.5,)), "negative"),
    ("int32_bias/dtype", lc.int32_bias, _conv,
     lambda g: with_tensor(g, 2, dtype="int64", data=np.zeros(4, np.int64)), "int32 bias"),
    ("int32_bias/zero point", lc.int32_bias, _dw, lambda g: with_quant(g, 2, zero_point=(1,) * 6), "zero point"),
    ("int32_bias/length", lc.int32_bias, _fc,
     lambda g: with_tensor(g, 2, shape=(3,), data=np.zeros(3, np.int32)), "expected 5 values"),
    ("bias_scale_consistent", lc.bias_scale_consistent, _conv,
     lambda g: with_quant(g, 2, scale=tuple(1.001 * s for s in g.tensors[tensor_of(g, 2)].quant.scale)),
     "but input scale x weight scale is"),
    ("bias_scale_consistent/count", lc.bias_scale_consistent, _dw,
     lambda g: with_quant(g, 2, scale=(0.1, 0.2), zero_point=(0, 0)), "2 scales for 6"),
    ("int8_zero_points", lc.int8_zero_points, _conv, lambda g: with_quant(g, 0, zero_point=(200,)), "outside"),
    ("conv_shapes/grouped", lc.conv_shapes, _conv, lambda g: with_tensor(g, 0, shape=(1, 8, 8, 6)), "grouped"),
    ("conv_shapes/batch", lc.conv_shapes, _conv, lambda g: with_tensor(g, -1, shape=(2, 8, 8, 4)), "batch"),
    ("depthwise_shapes", lc.depthwise_shapes, _dw, lambda g: with_tensor(g, 0, shape=(1, 8, 8, 4)),
     "not a multiple"),
    ("window_geometry/output size", lc.window_geometry, _conv, lambda g: with_tensor(g, -1, shape=(1, 7, 7, 4)),
     "gives 8x8"),
    ("window_geometry/padding", lc.window_geometry, _dw, lambda g: with_options(g, padding="EXPLICIT"),
     "not supported"),
    ("window_geometry/stride", lc.window_geometry, _conv, lambda g: with_options(g, stride=(0, 1)), "positive"),
    ("window_geometry/too small", lc.window_geometry, _conv,
     lambda g: with_options(with_tensor(g, 0, shape=(1, 2, 2, 3)), padding="VALID"), "does not fit"),
    ("fc_shapes/output", lc.fc_shapes, _fc, lambda g: with_tensor(g, -1, shape=(1, 5)), "differs from [2, 5]"),
    ("fc_shapes/input", lc.fc_shapes, _fc, lambda g: with_tensor(g, 0, shape=(2, 13)), "not a multiple"),
    ("fc_shapes/keep_num_dims", lc.fc_shapes, _fc,
     lambda g: with_options(with_tensor(g, 0, shape=(1, 24)), keep_num_dims=True), "last axis"),
    ("fc_default_weights_format", lc.fc_default_weights_format, _fc,
     lambda g: with_options(g, weights_format="FORMAT_1"), "FORMAT_1"),
    ("rescale_in_range", lc.rescale_in_range, _conv, lambda g: with_quant(g, -1, scale=(1e-15,)), "too large"),
    ("folded_bias_fits_int32", lc.folded_bias_fits_int32, _fc,
     lambda g: with_quant(with_tensor(g, 2, data=np.full(5, 2**31 - 1, np.int32)), 0, zero_point=(-128,)),
     "does not fit in int32"),
    ("int8_activations", common.int8_activations, _conv, lambda g: with_tensor(g, 0, dtype="int16"),
     "only int8 activations"),
    ("supported_activation", common.supported_activation, _fc, lambda g: with_options(g, activation="TANH"),
     "TANH"),
    ("static_shapes", common.static_shapes, _dw, lambda g: with_tensor(g, 0, shape=(1, -1, 8, 3)), "dynamic"),
]


@pytest.mark.parametrize("name,check,make,break_it,message", CHECK_CASES, ids=[c[0] for c in CHECK_CASES])
def test_check_passes_and_fails(name: str, check: CheckFn, make: Callable[[], Graph],
                                break_it: Callable[[Graph], Graph], message: str) -> None:
    good = make()
    assert check(good, good.operators[0]) is None
    bad = break_it(good)
    problem = check(bad, bad.operators[0])
    assert problem is not None and message in problem, problem
    assert check in REGISTRY[bad.operators[0].op].checks
    # The whole-graph path reports it too, without crashing in the other checks.
    assert any(message in p for p in check_support(bad)), check_support(bad)
    with pytest.raises(UnsupportedModelError):
        lower(bad)


def test_every_check_is_documented_and_registered() -> None:
    for op_name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        checks = REGISTRY[op_name].checks
        for required in (common.int8_activations, common.supported_activation, common.static_shapes,
                         lc.int8_weights, lc.int32_bias, lc.weight_scales_per_output_channel, lc.symmetric_weights,
                         lc.folded_bias_fits_int32, lc.rescale_in_range):
            assert required in checks, (op_name, required.__name__)
        for check in checks:
            assert inspect.getdoc(check), f"{check.__name__} has no docstring (it is the user-facing rule)"
    assert lc.window_geometry in REGISTRY["CONV_2D"].checks and lc.conv_shapes in REGISTRY["CONV_2D"].checks
    assert lc.depthwise_shapes in REGISTRY["DEPTHWISE_CONV_2D"].checks
    assert lc.fc_default_weights_format in REGISTRY["FULLY_CONNECTED"].checks


def test_per_channel_quant_params_from_file_axis() -> None:
    """The frontend's axis for per-channel depthwise weights is 3 and the scales map to output channels."""
    graph = _dw()
    w = graph.tensors[tensor_of(graph, 1)]
    assert w.quant is not None and w.quant.axis == 3 and len(w.quant.scale) == 6
    assert isinstance(w.quant, QuantParams)
