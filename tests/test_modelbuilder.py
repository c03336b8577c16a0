"""Tests of compiler.modelbuilder (models written from Python) and compiler.reference (the TFLite reference run).

Every model is run by TFLite's own reference kernels, read back through the schema's object API,
and, for the convolutions, checked against a plain-loop integer computation written here, so a
wrong stride, dilation, padding or channel order in the builder shows up as a wrong number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from compiler import modelbuilder as mb
from compiler.errors import ModelFileError, UsageError
from compiler.reference import input_details, output_details, run_reference

REPO = Path(__file__).resolve().parent.parent
OP_NAMES = {code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")}


# -- helpers ---------------------------------------------------------------------------------------


def random_inputs(model: bytes, seed: int = 123) -> list[np.ndarray]:
    """One random array per model input: the whole int8 range, or floats within the input's usual range."""
    rng = np.random.default_rng(seed)
    arrays = []
    for detail in input_details(model):
        if detail.dtype == np.int8:
            arrays.append(rng.integers(-128, 128, size=detail.shape, dtype=np.int8))
        else:
            arrays.append(rng.uniform(-1.0, 1.0, size=detail.shape).astype(detail.dtype))
    return arrays


def read_model(model: bytes) -> schema.ModelT:
    """The model unpacked by the schema's object API."""
    return schema.ModelT.InitFromPackedBuf(model, 0)


def tensor_named(model: schema.ModelT, name: str) -> schema.TensorT:
    """The subgraph's tensor called ``name``."""
    matches = [t for t in model.subgraphs[0].tensors if t.name.decode() == name]
    assert len(matches) == 1, f"expected one tensor {name!r}, found {len(matches)}"
    return matches[0]


def const_data(model: schema.ModelT, tensor: schema.TensorT, dtype: type[np.generic]) -> np.ndarray:
    """A constant tensor's data as an array of its shape."""
    raw = np.asarray(model.buffers[tensor.buffer].data, dtype=np.uint8).tobytes()
    return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(tuple(tensor.shape))


def op_names(model: schema.ModelT) -> list[str]:
    """Builtin operator names of the subgraph, in execution order."""
    codes = model.operatorCodes
    return [OP_NAMES[codes[op.opcodeIndex].builtinCode] for op in model.subgraphs[0].operators]


def qparams(tensor: schema.TensorT) -> tuple[np.ndarray, np.ndarray]:
    """A tensor's scales (float64) and zero points (int64)."""
    return np.asarray(tensor.quantization.scale, np.float64), np.asarray(tensor.quantization.zeroPoint, np.int64)


# -- every layer helper runs in the reference interpreter -------------------------------------------

HELPERS: dict[str, tuple[Callable[[], bytes], tuple[int, ...], type[np.generic]]] = {
    "conv": (lambda: mb.conv2d_model(), (1, 8, 8, 4), np.int8),
    "conv_valid_stride2_relu_per_tensor_no_bias": (
        lambda: mb.conv2d_model(
            (1, 9, 7, 2),
            5,
            kernel=(3, 2),
            stride=2,
            padding="VALID",
            activation="RELU",
            per_channel=False,
            use_bias=False,
        ),
        (1, 4, 3, 5),
        np.int8,
    ),
    "conv_dilated_relu6": (lambda: mb.conv2d_model(dilation=(2, 1), activation="RELU6"), (1, 8, 8, 4), np.int8),
    "depthwise": (lambda: mb.depthwise_conv2d_model(), (1, 8, 8, 4), np.int8),
    "depthwise_m2_stride2_no_bias": (
        lambda: mb.depthwise_conv2d_model((1, 7, 7, 3), depth_multiplier=2, stride=2, use_bias=False),
        (1, 4, 4, 6),
        np.int8,
    ),
    "fc": (lambda: mb.fully_connected_model((4, 32), 16), (4, 16), np.int8),
    "fc_per_channel_relu": (
        lambda: mb.fully_connected_model((2, 24), 12, activation="RELU", per_channel=True),
        (2, 12),
        np.int8,
    ),
    "fc_keep_num_dims_no_bias": (
        lambda: mb.fully_connected_model((2, 3, 16), 8, use_bias=False, keep_num_dims=True),
        (2, 3, 8),
        np.int8,
    ),
    "avg_pool_same": (lambda: mb.pool_model("AVG", padding="SAME", filter_size=3, stride=2), (1, 4, 4, 4), np.int8),
    "max_pool": (lambda: mb.pool_model("MAX", (1, 6, 6, 3), filter_size=2, stride=2), (1, 3, 3, 3), np.int8),
    "add": (lambda: mb.add_model(), (1, 4, 4, 8), np.int8),
    "add_broadcast_relu": (lambda: mb.add_model((1, 4, 4, 8), (1, 1, 1, 8), activation="RELU"), (1, 4, 4, 8), np.int8),
    "softmax": (lambda: mb.softmax_model((2, 10), beta=0.5), (2, 10), np.int8),
    "reshape": (lambda: mb.reshape_model(), (1, 16), np.int8),
    "reshape_option_only": (lambda: mb.reshape_model((1, 3, 4), (1, 12), shape_as_input=False), (1, 12), np.int8),
    "quantize_edges": (lambda: mb.quantize_edges_model((1, 16), 8), (1, 8), np.float32),
    "tiny_cnn": (lambda: mb.tiny_cnn_model(), (1, 10), np.int8),
}


@pytest.mark.parametrize("case", list(HELPERS))
def test_helper_model_runs_in_reference(case: str) -> None:
    factory, shape, dtype = HELPERS[case]
    model = factory()
    (out,) = run_reference(model, random_inputs(model))
    assert out.shape == shape
    assert out.dtype == dtype
    assert len(np.unique(out)) > 1, "output is constant for a random input"


@pytest.mark.parametrize("case", ["conv", "conv_dilated_relu6", "depthwise", "depthwise_m2_stride2_no_bias", "fc"])
def test_conv_and_fc_outputs_use_the_int8_range(case: str) -> None:
    model = HELPERS[case][0]()
    (out,) = run_reference(model, random_inputs(model))
    assert len(np.unique(out)) >= 8
    assert np.mean(out == 127) < 0.05, "outputs saturate at 127: the output scale is too small"
    if output_details(model)[0].zero_point != -128:  # with RELU/RELU6 the zero point is the floor; -128 is common
        assert np.mean(out == -128) < 0.05, "outputs saturate at -128: the output scale is too small"
    assert np.ptp(out.astype(np.int32)) >= 64, "outputs use under a quarter of the int8 range: scale too large"


def test_softmax_output_quantization_is_the_one_tflite_requires() -> None:
    model = read_model(mb.softmax_model())
    scales, zero_points = qparams(tensor_named(model, "softmax/output"))
    assert scales.tolist() == [1.0 / 256.0]
    assert zero_points.tolist() == [-128]


def test_quantize_edges_model_is_float_in_float_out() -> None:
    model = mb.quantize_edges_model()
    assert op_names(read_model(model)) == ["QUANTIZE", "FULLY_CONNECTED", "DEQUANTIZE"]
    assert input_details(model)[0].dtype == np.float32
    (out,) = run_reference(model, random_inputs(model))
    assert out.dtype == np.float32 and len(np.unique(out)) >= 4


def test_tiny_cnn_structure_and_quantization() -> None:
    model = read_model(mb.tiny_cnn_model())
    assert op_names(model) == [
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "CONV_2D",
        "ADD",
        "AVERAGE_POOL_2D",
        "RESHAPE",
        "FULLY_CONNECTED",
        "SOFTMAX",
    ]
    for tensor in model.subgraphs[0].tensors:
        if tensor.type == schema.TensorType.INT8:
            scales, zero_points = qparams(tensor)
            assert np.all(scales > 0) and np.all(np.isfinite(scales))
            assert np.all((zero_points >= -128) & (zero_points <= 127))
    assert len(mb.tiny_cnn_model()) < 8 * 1024


# -- quantization survives a round trip -------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "name", "axis", "channels"),
    [
        (lambda: mb.conv2d_model((1, 6, 6, 3), 7), "conv", 0, 7),
        (lambda: mb.depthwise_conv2d_model((1, 6, 6, 3), depth_multiplier=2), "depthwise", 3, 6),
        (lambda: mb.fully_connected_model((1, 10), 5, per_channel=True), "fc", 0, 5),
    ],
)
def test_per_channel_quantization_round_trip(factory: Callable[[], bytes], name: str, axis: int, channels: int) -> None:
    model = read_model(factory())
    weights = tensor_named(model, f"{name}/weights")
    bias = tensor_named(model, f"{name}/bias")
    inp = tensor_named(model, "input")

    w_scales, w_zps = qparams(weights)
    assert weights.type == schema.TensorType.INT8
    assert weights.quantization.quantizedDimension == axis
    assert len(w_scales) == channels and np.all(w_scales > 0)
    assert np.all(w_zps == 0)
    assert len(set(w_scales.tolist())) > 1, "per-channel scales should differ between channels"

    # Symmetric per-channel: every channel spans at most [-127, 127] and reaches 127 in magnitude.
    q = const_data(model, weights, np.int8)
    per_channel_max = np.abs(np.moveaxis(q, axis, 0).reshape(channels, -1).astype(np.int32)).max(axis=1)
    assert q.min() >= -127
    assert np.all(per_channel_max == 127)

    b_scales, b_zps = qparams(bias)
    assert bias.type == schema.TensorType.INT32
    assert bias.quantization.quantizedDimension == 0
    assert np.all(b_zps == 0)
    input_scale = qparams(inp)[0][0]
    np.testing.assert_allclose(b_scales, input_scale * w_scales, rtol=1e-6)


def test_per_tensor_weights_have_one_scale() -> None:
    model = read_model(mb.conv2d_model(per_channel=False))
    w_scales, w_zps = qparams(tensor_named(model, "conv/weights"))
    b_scales, _ = qparams(tensor_named(model, "conv/bias"))
    assert len(w_scales) == 1 and w_zps.tolist() == [0]
    assert len(b_scales) == 1
    assert np.abs(const_data(model, tensor_named(model, "conv/weights"), np.int8).astype(int)).max() == 127


def test_explicit_quantization_parameters_are_kept() -> None:
    model = read_model(mb.add_model(input1_qparams=(0.02, -5), input2_qparams=(0.05, 7), output_qparams=(0.1, 127)))
    assert qparams(tensor_named(model, "input1"))[1].tolist() == [-5]
    np.testing.assert_allclose(qparams(tensor_named(model, "input2"))[0], [0.05], rtol=1e-7)
    scales, zero_points = qparams(tensor_named(model, "add/output"))
    np.testing.assert_allclose(scales, [0.1], rtol=1e-7)
    assert zero_points.tolist() == [127]


def test_operator_options_and_codes_round_trip() -> None:
    model = read_model(
        mb.conv2d_model(
            (1, 9, 9, 2), 3, kernel=(3, 1), stride=(2, 1), padding="VALID", dilation=(1, 2), activation="RELU6"
        )
    )
    (op,) = model.subgraphs[0].operators
    options = op.builtinOptions
    assert op.builtinOptionsType == schema.BuiltinOptions.Conv2DOptions
    assert (options.strideH, options.strideW) == (2, 1)
    assert (options.dilationHFactor, options.dilationWFactor) == (1, 2)
    assert options.padding == schema.Padding.VALID
    assert options.fusedActivationFunction == schema.ActivationFunctionType.RELU6
    (code,) = model.operatorCodes
    assert code.builtinCode == code.deprecatedBuiltinCode == schema.BuiltinOperator.CONV_2D
    assert code.version == 3


def test_builds_are_deterministic() -> None:
    for factory in (mb.conv2d_model, mb.depthwise_conv2d_model, mb.fully_connected_model, mb.tiny_cnn_model):
        assert factory(seed=5) == factory(seed=5)
        assert factory(seed=5) != factory(seed=6)


def test_constant_buffers_are_16_byte_aligned() -> None:
    model = mb.tiny_cnn_model()
    base = np.frombuffer(model, np.uint8).__array_interface__["data"][0]
    root = schema.Model.GetRootAsModel(model, 0)
    checked = 0
    for i in range(root.BuffersLength()):
        buffer = root.Buffers(i)
        if buffer.DataLength():
            address = buffer.DataAsNumpy().__array_interface__["data"][0]
            assert (address - base) % 16 == 0
            checked += 1
    assert checked >= 8
    assert schema.Model.ModelBufferHasIdentifier(model, 0)


# -- the models compute what the builder says: plain-loop integer convolutions ----------------------


def same_or_valid(size: int, kernel: int, stride: int, dilation: int, padding: str) -> tuple[int, int]:
    """Output size and leading padding of one axis (TFLite rules), computed independently of the builder."""
    span = (kernel - 1) * dilation + 1
    if padding == "VALID":
        return (size - span) // stride + 1, 0
    out = math.ceil(size / stride)
    return out, max((out - 1) * stride + span - size, 0) // 2


def loop_conv(
    x: np.ndarray,
    x_zp: int,
    w: np.ndarray,
    bias: np.ndarray,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    padding: str,
    depth_multiplier: int | None,
) -> np.ndarray:
    """int32 accumulators of a conv (w: OHWI) or depthwise conv (w: 1HW(C*m)) on one NHWC image, by loops."""
    _, h, wd, _ = x.shape
    kh, kw = w.shape[1:3]
    out_c = w.shape[3] if depth_multiplier else w.shape[0]
    oh, pt = same_or_valid(h, kh, stride[0], dilation[0], padding)
    ow, pl = same_or_valid(wd, kw, stride[1], dilation[1], padding)
    acc = np.zeros((1, oh, ow, out_c), dtype=np.int64)
    for oy in range(oh):
        for ox in range(ow):
            for o in range(out_c):
                total = int(bias[o])
                for ky in range(kh):
                    for kx in range(kw):
                        iy, ix = oy * stride[0] + ky * dilation[0] - pt, ox * stride[1] + kx * dilation[1] - pl
                        if not (0 <= iy < h and 0 <= ix < wd):
                            continue
                        if depth_multiplier:
                            ic = o // depth_multiplier
                            total += (int(x[0, iy, ix, ic]) - x_zp) * int(w[0, ky, kx, o])
                        else:
                            total += int(np.dot(x[0, iy, ix, :].astype(np.int64) - x_zp, w[o, ky, kx, :]))
                acc[0, oy, ox, o] = total
    return acc


@pytest.mark.parametrize(
    ("kind", "kwargs"),
    [
        (
            "conv",
            {"input_shape": (1, 7, 6, 2), "out_channels": 3, "kernel": (3, 2), "stride": (2, 1), "dilation": (1, 2)},
        ),
        (
            "conv",
            {"input_shape": (1, 7, 6, 2), "out_channels": 3, "kernel": (2, 3), "stride": (1, 2), "padding": "VALID"},
        ),
        ("depthwise", {"input_shape": (1, 6, 7, 2), "depth_multiplier": 3, "kernel": (3, 3), "stride": (1, 2)}),
        (
            "depthwise",
            {"input_shape": (1, 6, 7, 2), "kernel": (2, 2), "dilation": (2, 1), "padding": "VALID", "use_bias": False},
        ),
    ],
)
def test_convolutions_match_a_plain_loop_computation(kind: str, kwargs: dict) -> None:
    factory = mb.conv2d_model if kind == "conv" else mb.depthwise_conv2d_model
    model_bytes = factory(seed=3, **kwargs)
    model = read_model(model_bytes)
    name = "conv" if kind == "conv" else "depthwise"
    weights = tensor_named(model, f"{name}/weights")
    w = const_data(model, weights, np.int8)
    w_scales = qparams(weights)[0]
    channels = w.shape[0] if kind == "conv" else w.shape[3]
    has_bias = kind == "conv" or kwargs.get("use_bias", True)
    bias = const_data(model, tensor_named(model, f"{name}/bias"), np.int32) if has_bias else np.zeros(channels)
    x_scale, x_zp = (v[0] for v in qparams(tensor_named(model, "input")))
    y_scales, y_zps = qparams(tensor_named(model, f"{name}/output"))

    (x,) = random_inputs(model_bytes, seed=11)
    (ref,) = run_reference(model_bytes, [x])
    acc = loop_conv(
        x,
        int(x_zp),
        w,
        bias,
        kwargs.get("stride", (1, 1)),
        kwargs.get("dilation", (1, 1)),
        kwargs.get("padding", "SAME"),
        kwargs.get("depth_multiplier", 1) if kind == "depthwise" else None,
    )
    expected = np.clip(np.round(acc * (x_scale * w_scales / y_scales[0])) + y_zps[0], -128, 127)
    assert ref.shape == expected.shape
    # The reference rescales with a fixed-point multiplier; rounding may differ from float by one step.
    assert np.max(np.abs(ref.astype(np.int64) - expected)) <= 1


# -- ModelBuilder used directly ---------------------------------------------------------------------


def test_hand_built_fully_connected_without_bias() -> None:
    builder = mb.ModelBuilder()
    x = builder.input("x", (1, 4), scale=0.5, zero_point=0)
    w = builder.const("w", np.array([[1, 2, 3, 4], [-1, -1, -1, -1]], dtype=np.int8), "int8", [1.0, 0.25])
    y = builder.tensor("y", (1, 2), "int8", scale=1.0, zero_point=0)
    builder.op("FULLY_CONNECTED", [x, w, -1], [y])
    builder.output(y)
    (out,) = run_reference(builder.build(), [np.array([[2, 4, 6, 8]], dtype=np.int8)])
    # real x = [1, 2, 3, 4]; row 0 = 30 * 1.0, row 1 = -10 * 0.25 -> -2.5, rounded half away from zero.
    assert out.tolist() == [[30, -3]]


def test_builder_saves_what_it_builds(tmp_path: Path) -> None:
    builder = mb.ModelBuilder()
    x = builder.input("x", (1, 4), scale=0.1, zero_point=1)
    y = builder.tensor("y", (1, 2, 2), "int8", scale=0.1, zero_point=1)
    builder.op("RESHAPE", [x, builder.const("shape", np.array([1, 2, 2], dtype=np.int32))], [y])
    builder.output(y)
    path = builder.save(tmp_path / "reshape.tflite")
    assert path.read_bytes() == builder.build()
    (out,) = run_reference(path, [np.array([[1, 2, 3, 4]], dtype=np.int8)])
    assert out.tolist() == [[[1, 2], [3, 4]]]


def test_builder_rejects_structural_mistakes() -> None:
    builder = mb.ModelBuilder()
    x = builder.input("x", (1, 2, 2, 3), scale=0.1, zero_point=0)
    y = builder.tensor("y", (1, 2, 2, 3), scale=0.1, zero_point=0)
    with pytest.raises(ValueError, match="unsupported op"):
        builder.op("CONV_3D", [x], [y])
    with pytest.raises(ValueError, match="bad options for ADD"):
        builder.op("ADD", [x, x], [y], stride=2)
    with pytest.raises(ValueError, match="unknown padding"):
        builder.op("MAX_POOL_2D", [x], [y], filter_size=2, padding="FULL")
    with pytest.raises(ValueError, match="no tensor with index 9"):
        builder.op("ADD", [x, 9], [y])
    with pytest.raises(ValueError, match="outside int8"):
        builder.const("w", np.array([200]), "int8", 0.1)
    with pytest.raises(ValueError, match="quantize float64 data"):
        builder.const("w", np.array([0.5, 1.5]), "int8", 0.1)
    with pytest.raises(ValueError, match="3 scales for axis 0 of size 2"):
        builder.const("w", np.zeros((2, 3), np.int8), "int8", [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="scales must be finite and > 0"):
        builder.tensor("z", (1,), "int8", scale=0.0, zero_point=0)
    with pytest.raises(ValueError, match="at least one input and one output"):
        builder.build()


# -- the reference wrapper --------------------------------------------------------------------------


def test_reference_rejects_mismatched_inputs() -> None:
    model = mb.add_model((1, 2, 2, 3))
    good = np.zeros((1, 2, 2, 3), np.int8)
    with pytest.raises(UsageError, match="takes 2 input"):
        run_reference(model, [good])
    with pytest.raises(UsageError, match=r"input 1 .* must be int8 of shape \(1, 2, 2, 3\), got int8 of shape"):
        run_reference(model, [good, np.zeros((1, 2, 3, 2), np.int8)])
    with pytest.raises(UsageError, match="got uint8"):
        run_reference(model, [good, good.astype(np.uint8)])
    assert run_reference(model, [good, good])[0].shape == (1, 2, 2, 3)


def test_reference_reports_unreadable_models(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError):
        run_reference(b"this is not a flatbuffer", [])
    with pytest.raises(ModelFileError, match="no such file"):
        run_reference(tmp_path / "missing.tflite", [])


def test_reference_details_describe_io() -> None:
    model = mb.conv2d_model((1, 5, 5, 2), 3, input_qparams=(0.03, -7))
    (inp,) = input_details(model)
    (out,) = output_details(model)
    assert (inp.name, inp.shape, inp.dtype, inp.zero_point) == ("input", (1, 5, 5, 2), np.dtype(np.int8), -7)
    assert inp.scale == pytest.approx(0.03, rel=1e-7)
    assert out.shape == (1, 5, 5, 3) and out.scale is not None and out.scale > 0


def test_reference_outputs_are_copies() -> None:
    model = mb.softmax_model()
    inputs = random_inputs(model)
    first = run_reference(model, inputs)[0]
    first[...] = 0
    assert not np.array_equal(run_reference(model, inputs)[0], first)


def test_example_tiny_cnn_files_match_the_model() -> None:
    example = REPO / "examples" / "tiny_cnn"
    model_path = example / "tiny_cnn.tflite"
    image = np.load(example / "input.npy")
    (detail,) = input_details(model_path)
    assert image.shape == detail.shape and image.dtype == detail.dtype
    assert model_path.stat().st_size < 8 * 1024
    (probabilities,) = run_reference(model_path, [image])
    assert probabilities.shape == (1, 10) and probabilities.dtype == np.int8
    assert op_names(read_model(model_path.read_bytes())) == op_names(read_model(mb.tiny_cnn_model()))


def test_isolated_run_matches_and_survives_a_tflite_abort() -> None:
    model = mb.add_model((1, 2, 2, 3), seed=4)
    inputs = random_inputs(model)
    assert np.array_equal(run_reference(model, inputs, isolated=True)[0], run_reference(model, inputs)[0])
    with pytest.raises(UsageError, match="takes 2 input"):
        run_reference(model, inputs[:1], isolated=True)
    # An output scale this small makes ADD's rescale multiplier exceed 1: TFLite aborts the process.
    aborting = mb.add_model((1, 2, 2, 3), input1_qparams=(0.01, 0), input2_qparams=(0.01, 0), output_qparams=(1e-9, 0))
    with pytest.raises(ModelFileError, match="aborted"):
        run_reference(aborting, random_inputs(aborting), isolated=True)


def test_depthwise_options_round_trip() -> None:
    # The reference kernel derives the multiplier from the shapes, so only reading the option back catches it.
    model = read_model(mb.depthwise_conv2d_model((1, 5, 5, 2), depth_multiplier=3, stride=(1, 2), padding="VALID"))
    (op,) = model.subgraphs[0].operators
    assert op.builtinOptionsType == schema.BuiltinOptions.DepthwiseConv2DOptions
    options = op.builtinOptions
    assert options.depthMultiplier == 3
    assert (options.strideH, options.strideW, options.padding) == (1, 2, schema.Padding.VALID)
    assert tensor_named(model, "depthwise/weights").shape.tolist() == [1, 3, 3, 6]
