"""Write int8 TFLite models from Python, for tests and examples.

Two layers:

* :class:`ModelBuilder` is a thin, typed front for the TFLite flatbuffer schema's object API
  (``ai_edge_litert.schema_py_generated``): add tensors, constants and operators by name, then
  :meth:`ModelBuilder.build` packs a ``TFL3`` flatbuffer. It checks structure (indices, shapes of
  per-channel parameters, option names) but not semantics, so tests can also build invalid models.
* Layer helpers (:func:`conv2d_model`, :func:`depthwise_conv2d_model`, :func:`fully_connected_model`,
  :func:`pool_model`, :func:`add_model`, :func:`binary_model`, :func:`activation_model`, :func:`prelu_model`,
  :func:`requantize_model`, :func:`softmax_model`, :func:`reshape_model`,
  :func:`quantize_edges_model`, :func:`tiny_cnn_model`) make complete, realistic models with random
  weights from a seed. They pick quantization parameters the way the TFLite converter does with a
  representative data set: weights symmetric int8 in [-127, 127] (per channel or per tensor), biases
  int32 with scale ``input_scale * weight_scale``, activations asymmetric int8 from the min/max a
  float forward pass reaches on random calibration inputs.

Every helper is deterministic: the same arguments and seed give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

from .int4 import pack_int4

__all__ = [
    "SOFTMAX_OUTPUT_QPARAMS",
    "SUPPORTED_OPS",
    "UNARY_ACTIVATIONS",
    "CalibratedGraph",
    "ModelBuilder",
    "QParams",
    "activation_model",
    "add_model",
    "binary_model",
    "conv2d_model",
    "depthwise_conv2d_model",
    "fully_connected_model",
    "pool_model",
    "prelu_model",
    "qparams_from_range",
    "quantize_edges_model",
    "requantize_model",
    "reshape_model",
    "softmax_model",
    "tiny_cnn_model",
]

DType = Literal["int4", "int8", "uint8", "int16", "int32", "int64", "float32", "bool"]
Padding = Literal["SAME", "VALID"]
Activation = Literal["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
QParams = tuple[float, int]
"""Per-tensor quantization parameters of an activation: ``(scale, zero_point)``."""
IntPair = int | Sequence[int]
"""A 2-D window size, stride or dilation: one int for both axes or ``(height, width)``."""

FILE_IDENTIFIER = b"TFL3"
SCHEMA_VERSION = 3

SOFTMAX_OUTPUT_QPARAMS: QParams = (1.0 / 256.0, -128)
"""TFLite's int8 softmax requires exactly this output scale and zero point."""

_TENSOR_TYPES: dict[str, int] = {
    "int4": schema.TensorType.INT4,
    "int8": schema.TensorType.INT8,
    "uint8": schema.TensorType.UINT8,
    "int16": schema.TensorType.INT16,
    "int32": schema.TensorType.INT32,
    "int64": schema.TensorType.INT64,
    "float32": schema.TensorType.FLOAT32,
    "bool": schema.TensorType.BOOL,
}
_PADDINGS: dict[str, int] = {"SAME": schema.Padding.SAME, "VALID": schema.Padding.VALID}
_ACTIVATIONS: dict[str, int] = {
    "NONE": schema.ActivationFunctionType.NONE,
    "RELU": schema.ActivationFunctionType.RELU,
    "RELU_N1_TO_1": schema.ActivationFunctionType.RELU_N1_TO_1,
    "RELU6": schema.ActivationFunctionType.RELU6,
}
_PLACEHOLDER_FOR_GREATER_OP_CODES = 127
_BUFFER_ALIGNMENT = 16  # the schema asks for force_align: 16 on buffer data; the Python packer ignores it


# --------------------------------------------------------------------------------------------------
# Operator options: one function per options table, taking the Python-style keyword names.
# --------------------------------------------------------------------------------------------------


def _pair(value: IntPair, what: str) -> tuple[int, int]:
    """``(height, width)`` from an int or a pair of positive ints."""
    pair = (int(value), int(value)) if isinstance(value, int | np.integer) else tuple(int(v) for v in value)
    if len(pair) != 2 or min(pair) < 1:
        raise ValueError(f"{what} must be a positive int or a (height, width) pair of them, got {value!r}")
    return pair[0], pair[1]


def _enum(table: dict[str, int], value: str, what: str) -> int:
    """The schema enum value for a Python-side name such as ``"SAME"`` or ``"RELU6"``."""
    try:
        return table[value]
    except KeyError:
        raise ValueError(f"unknown {what} {value!r}; expected one of {sorted(table)}") from None


def _conv2d_options(
    *, padding: Padding = "SAME", stride: IntPair = 1, dilation: IntPair = 1, activation: Activation = "NONE"
) -> schema.Conv2DOptionsT:
    """Options of CONV_2D."""
    options = schema.Conv2DOptionsT()
    options.padding = _enum(_PADDINGS, padding, "padding")
    options.strideH, options.strideW = _pair(stride, "stride")
    options.dilationHFactor, options.dilationWFactor = _pair(dilation, "dilation")
    options.fusedActivationFunction = _enum(_ACTIVATIONS, activation, "activation")
    return options


def _depthwise_conv2d_options(
    *,
    padding: Padding = "SAME",
    stride: IntPair = 1,
    dilation: IntPair = 1,
    depth_multiplier: int = 1,
    activation: Activation = "NONE",
) -> schema.DepthwiseConv2DOptionsT:
    """Options of DEPTHWISE_CONV_2D."""
    options = schema.DepthwiseConv2DOptionsT()
    options.padding = _enum(_PADDINGS, padding, "padding")
    options.strideH, options.strideW = _pair(stride, "stride")
    options.dilationHFactor, options.dilationWFactor = _pair(dilation, "dilation")
    options.depthMultiplier = int(depth_multiplier)
    options.fusedActivationFunction = _enum(_ACTIVATIONS, activation, "activation")
    return options


def _fully_connected_options(
    *, activation: Activation = "NONE", keep_num_dims: bool = False
) -> schema.FullyConnectedOptionsT:
    """Options of FULLY_CONNECTED (default weights format)."""
    options = schema.FullyConnectedOptionsT()
    options.fusedActivationFunction = _enum(_ACTIVATIONS, activation, "activation")
    options.keepNumDims = bool(keep_num_dims)
    return options


def _pool2d_options(
    *, filter_size: IntPair, padding: Padding = "VALID", stride: IntPair = 1, activation: Activation = "NONE"
) -> schema.Pool2DOptionsT:
    """Options of AVERAGE_POOL_2D and MAX_POOL_2D."""
    options = schema.Pool2DOptionsT()
    options.padding = _enum(_PADDINGS, padding, "padding")
    options.strideH, options.strideW = _pair(stride, "stride")
    options.filterHeight, options.filterWidth = _pair(filter_size, "filter_size")
    options.fusedActivationFunction = _enum(_ACTIVATIONS, activation, "activation")
    return options


def _fused_activation_options(options_type: Callable[[], Any], op_name: str) -> Callable[..., Any]:
    """The options function of an op whose only option is its fused activation (ADD, SUB, MUL).

    SUB's int16-only ``pot_scale_int16`` keeps the converter's default.
    """

    def make(*, activation: Activation = "NONE") -> Any:
        options = options_type()
        options.fusedActivationFunction = _enum(_ACTIVATIONS, activation, "activation")
        return options

    make.__doc__ = f"Options of {op_name}."
    return make


_add_options = _fused_activation_options(schema.AddOptionsT, "ADD")
_mul_options = _fused_activation_options(schema.MulOptionsT, "MUL")
_sub_options = _fused_activation_options(schema.SubOptionsT, "SUB")


def _reshape_options(*, new_shape: Sequence[int] | None = None) -> schema.ReshapeOptionsT | None:
    """Options of RESHAPE; none at all when the new shape comes only from the shape input tensor."""
    if new_shape is None:
        return None
    options = schema.ReshapeOptionsT()
    options.newShape = [int(d) for d in new_shape]
    return options


def _softmax_options(*, beta: float = 1.0) -> schema.SoftmaxOptionsT:
    """Options of SOFTMAX."""
    options = schema.SoftmaxOptionsT()
    options.beta = float(beta)
    return options


def _no_options() -> None:
    """QUANTIZE, DEQUANTIZE, the RELU family, PRELU, HARD_SWISH, LOGISTIC and TANH take no options."""


def _leaky_relu_options(*, alpha: float) -> schema.LeakyReluOptionsT:
    """Options of LEAKY_RELU."""
    options = schema.LeakyReluOptionsT()
    options.alpha = float(alpha)
    return options


@dataclass(frozen=True)
class _OpSpec:
    """How one builtin operator is written: its code, the version the int8 kernels register, its options."""

    code: int
    version: int
    options_type: int
    make_options: Callable[..., object | None]


# Versions are those the TFLite converter writes for int8 models of these ops, which the builtin
# (and reference) op resolvers register.
_OPS: dict[str, _OpSpec] = {
    "CONV_2D": _OpSpec(schema.BuiltinOperator.CONV_2D, 3, schema.BuiltinOptions.Conv2DOptions, _conv2d_options),
    "DEPTHWISE_CONV_2D": _OpSpec(
        schema.BuiltinOperator.DEPTHWISE_CONV_2D,
        3,
        schema.BuiltinOptions.DepthwiseConv2DOptions,
        _depthwise_conv2d_options,
    ),
    "FULLY_CONNECTED": _OpSpec(
        schema.BuiltinOperator.FULLY_CONNECTED,
        4,
        schema.BuiltinOptions.FullyConnectedOptions,
        _fully_connected_options,
    ),
    "AVERAGE_POOL_2D": _OpSpec(
        schema.BuiltinOperator.AVERAGE_POOL_2D, 2, schema.BuiltinOptions.Pool2DOptions, _pool2d_options
    ),
    "MAX_POOL_2D": _OpSpec(schema.BuiltinOperator.MAX_POOL_2D, 2, schema.BuiltinOptions.Pool2DOptions, _pool2d_options),
    "ADD": _OpSpec(schema.BuiltinOperator.ADD, 2, schema.BuiltinOptions.AddOptions, _add_options),
    "MUL": _OpSpec(schema.BuiltinOperator.MUL, 2, schema.BuiltinOptions.MulOptions, _mul_options),
    "RESHAPE": _OpSpec(schema.BuiltinOperator.RESHAPE, 1, schema.BuiltinOptions.ReshapeOptions, _reshape_options),
    "SOFTMAX": _OpSpec(schema.BuiltinOperator.SOFTMAX, 2, schema.BuiltinOptions.SoftmaxOptions, _softmax_options),
    "QUANTIZE": _OpSpec(schema.BuiltinOperator.QUANTIZE, 2, schema.BuiltinOptions.NONE, _no_options),
    "DEQUANTIZE": _OpSpec(schema.BuiltinOperator.DEQUANTIZE, 2, schema.BuiltinOptions.NONE, _no_options),
    "SUB": _OpSpec(schema.BuiltinOperator.SUB, 2, schema.BuiltinOptions.SubOptions, _sub_options),
    "RELU": _OpSpec(schema.BuiltinOperator.RELU, 2, schema.BuiltinOptions.NONE, _no_options),
    "RELU6": _OpSpec(schema.BuiltinOperator.RELU6, 2, schema.BuiltinOptions.NONE, _no_options),
    "RELU_N1_TO_1": _OpSpec(schema.BuiltinOperator.RELU_N1_TO_1, 1, schema.BuiltinOptions.NONE, _no_options),
    "LEAKY_RELU": _OpSpec(
        schema.BuiltinOperator.LEAKY_RELU, 2, schema.BuiltinOptions.LeakyReluOptions, _leaky_relu_options
    ),
    "PRELU": _OpSpec(schema.BuiltinOperator.PRELU, 1, schema.BuiltinOptions.NONE, _no_options),
    "HARD_SWISH": _OpSpec(schema.BuiltinOperator.HARD_SWISH, 1, schema.BuiltinOptions.NONE, _no_options),
    "LOGISTIC": _OpSpec(schema.BuiltinOperator.LOGISTIC, 2, schema.BuiltinOptions.NONE, _no_options),
    "TANH": _OpSpec(schema.BuiltinOperator.TANH, 2, schema.BuiltinOptions.NONE, _no_options),
}


def _reducer_options(*, keep_dims: bool = False) -> schema.ReducerOptionsT:
    """Options of MEAN."""
    options = schema.ReducerOptionsT()
    options.keepDims = bool(keep_dims)
    return options


def _concatenation_options(*, axis: int, activation: Activation = "NONE") -> schema.ConcatenationOptionsT:
    """Options of CONCATENATION."""
    options = schema.ConcatenationOptionsT()
    options.axis = int(axis)
    options.fusedActivationFunction = _enum(_ACTIVATIONS, activation, "activation")
    return options


def _strided_slice_options(*, begin_mask: int = 0, end_mask: int = 0, shrink_axis_mask: int = 0,
                           ellipsis_mask: int = 0, new_axis_mask: int = 0,
                           offset: bool = False) -> schema.StridedSliceOptionsT:
    """Options of STRIDED_SLICE (bit k of a mask refers to axis k)."""
    options = schema.StridedSliceOptionsT()
    options.beginMask, options.endMask, options.shrinkAxisMask = int(begin_mask), int(end_mask), int(shrink_axis_mask)
    options.ellipsisMask, options.newAxisMask, options.offset = int(ellipsis_mask), int(new_axis_mask), bool(offset)
    return options


def _squeeze_options(*, squeeze_dims: Sequence[int] = ()) -> schema.SqueezeOptionsT:
    """Options of SQUEEZE (no dims: every size-1 axis)."""
    options = schema.SqueezeOptionsT()
    options.squeezeDims = [int(d) for d in squeeze_dims]
    return options


def _split_options(*, num_splits: int) -> schema.SplitOptionsT:
    """Options of SPLIT."""
    options = schema.SplitOptionsT()
    options.numSplits = int(num_splits)
    return options


def _split_v_options(*, num_splits: int) -> schema.SplitVOptionsT:
    """Options of SPLIT_V."""
    options = schema.SplitVOptionsT()
    options.numSplits = int(num_splits)
    return options


def _pack_options(*, values_count: int, axis: int = 0) -> schema.PackOptionsT:
    """Options of PACK."""
    options = schema.PackOptionsT()
    options.valuesCount, options.axis = int(values_count), int(axis)
    return options


def _shape_options(*, out_type: str = "int32") -> schema.ShapeOptionsT:
    """Options of SHAPE."""
    options = schema.ShapeOptionsT()
    options.outType = _enum(_TENSOR_TYPES, out_type, "dtype")
    return options


def _spec(name: str, version: int, options: str = "NONE", make: Callable[..., object | None] = _no_options) -> _OpSpec:
    return _OpSpec(getattr(schema.BuiltinOperator, name), version, getattr(schema.BuiltinOptions, options), make)


# Shape, data-movement and reduction ops, and the converter patterns the graph passes rewrite.
_OPS.update({
    "MEAN": _spec("MEAN", 2, "ReducerOptions", _reducer_options),
    "CONCATENATION": _spec("CONCATENATION", 2, "ConcatenationOptions", _concatenation_options),
    "PAD": _spec("PAD", 2),
    "PADV2": _spec("PADV2", 2),
    "SLICE": _spec("SLICE", 2),
    "STRIDED_SLICE": _spec("STRIDED_SLICE", 2, "StridedSliceOptions", _strided_slice_options),
    "TRANSPOSE": _spec("TRANSPOSE", 2),
    "SQUEEZE": _spec("SQUEEZE", 1, "SqueezeOptions", _squeeze_options),
    "EXPAND_DIMS": _spec("EXPAND_DIMS", 1),
    "SPLIT": _spec("SPLIT", 2, "SplitOptions", _split_options),
    "SPLIT_V": _spec("SPLIT_V", 2, "SplitVOptions", _split_v_options),
    "SHAPE": _spec("SHAPE", 1, "ShapeOptions", _shape_options),
    "PACK": _spec("PACK", 1, "PackOptions", _pack_options),
    "SPACE_TO_BATCH_ND": _spec("SPACE_TO_BATCH_ND", 2),
    "BATCH_TO_SPACE_ND": _spec("BATCH_TO_SPACE_ND", 2),
    "RELU": _spec("RELU", 2),
    "RELU6": _spec("RELU6", 2),
    "RELU_N1_TO_1": _spec("RELU_N1_TO_1", 1),
})


# --------------------------------------------------------------------------------------------------
# The builder
# --------------------------------------------------------------------------------------------------


class _AlignedBufferT(schema.BufferT):
    """A buffer whose data starts on a 16-byte boundary of the file, as the converter writes them."""

    def Pack(self, builder: flatbuffers.Builder) -> int:  # the generated API's method name
        if self.data is not None and len(self.data) > 0:
            # Pad so that, once len(data) bytes are written, the position is 16-aligned; the data
            # vector the generated Pack writes next then starts on that boundary.
            builder.Prep(_BUFFER_ALIGNMENT, len(self.data))
        return super().Pack(builder)


def _quantization(
    scales: Sequence[float] | np.ndarray | float | None,
    zero_points: Sequence[int] | np.ndarray | int | None,
    quantized_dimension: int = 0,
) -> schema.QuantizationParametersT | None:
    """Schema quantization parameters; ``None`` when there is no scale (a float or plain-int tensor)."""
    if scales is None:
        if zero_points is not None:
            raise ValueError("a zero point was given without a scale")
        return None
    scale_list = [float(s) for s in np.atleast_1d(np.asarray(scales, dtype=np.float64))]
    if zero_points is None:
        zp_list = [0] * len(scale_list)
    else:
        zp_list = [int(z) for z in np.atleast_1d(np.asarray(zero_points, dtype=np.int64))]
    if len(zp_list) != len(scale_list):
        raise ValueError(f"{len(scale_list)} scales but {len(zp_list)} zero points")
    if not scale_list or not all(math.isfinite(s) and s > 0 for s in scale_list):
        raise ValueError(f"scales must be finite and > 0, got {scale_list}")
    quant = schema.QuantizationParametersT()
    quant.scale = scale_list
    quant.zeroPoint = zp_list
    quant.quantizedDimension = int(quantized_dimension)
    return quant


class ModelBuilder:
    """Assembles one TFLite subgraph (tensors, constants, operators) and packs it into a ``.tflite`` file.

    Tensor-creating methods return the tensor's index, which operators then refer to::

        mb = ModelBuilder()
        x = mb.input("x", (1, 8), scale=0.05, zero_point=-3)
        w = mb.const("w", weights_int8, "int8", scales=[0.01] * 4, zero_points=[0] * 4)
        y = mb.tensor("y", (1, 4), "int8", scale=0.1, zero_point=2)
        mb.op("FULLY_CONNECTED", [x, w, -1], [y], activation="RELU")
        mb.output(y)
        tflite_bytes = mb.build()
    """

    def __init__(self, description: str = "edgec modelbuilder") -> None:
        self.description = description
        self._tensors: list[schema.TensorT] = []
        self._buffers: list[schema.BufferT] = [schema.BufferT()]  # buffer 0: the schema's empty buffer
        self._operators: list[schema.OperatorT] = []
        self._opcodes: list[schema.OperatorCodeT] = []
        self._opcode_index: dict[tuple[int, int], int] = {}
        self._inputs: list[int] = []
        self._outputs: list[int] = []

    # -- tensors -----------------------------------------------------------------------------------

    def tensor(
        self,
        name: str,
        shape: Sequence[int],
        dtype: DType = "int8",
        scale: float | Sequence[float] | None = None,
        zero_point: int | Sequence[int] | None = None,
        quantized_dimension: int = 0,
    ) -> int:
        """Add an activation tensor (no data) and return its index; no scale means not quantized."""
        tensor = schema.TensorT()
        tensor.name = name
        tensor.shape = [int(d) for d in shape]
        tensor.type = _enum(_TENSOR_TYPES, dtype, "dtype")
        tensor.buffer = 0
        tensor.quantization = _quantization(scale, zero_point, quantized_dimension)
        self._tensors.append(tensor)
        return len(self._tensors) - 1

    def input(
        self,
        name: str,
        shape: Sequence[int],
        dtype: DType = "int8",
        scale: float | None = None,
        zero_point: int | None = None,
    ) -> int:
        """Add a tensor and make it the subgraph's next input; returns its index."""
        index = self.tensor(name, shape, dtype, scale, zero_point)
        self._inputs.append(index)
        return index

    def const(
        self,
        name: str,
        array: np.ndarray | Sequence[int] | Sequence[float],
        dtype: DType | None = None,
        scales: float | Sequence[float] | np.ndarray | None = None,
        zero_points: int | Sequence[int] | np.ndarray | None = None,
        quantized_dimension: int = 0,
    ) -> int:
        """Add a constant tensor whose data is ``array`` and return its index.

        ``dtype`` defaults to the array's. One scale means per-tensor quantization; several mean
        per-channel along ``quantized_dimension`` (one per entry of that axis). Zero points default
        to 0. Values that do not fit ``dtype`` (or float data for an integer type) raise ``ValueError``
        rather than wrap around or truncate.
        """
        data = np.asarray(array)
        dtype = dtype or _dtype_name(data.dtype)
        if dtype == "int4":
            return self._const_int4(name, data, scales, zero_points, quantized_dimension)
        np_dtype = np.dtype(dtype).newbyteorder("<")
        if np_dtype.kind in "iu" and data.dtype.kind not in "iub":
            raise ValueError(f"constant {name!r}: quantize {data.dtype} data before storing it as {dtype}")
        if np_dtype.kind in "iu":
            info = np.iinfo(np_dtype)
            if data.size and (data.min() < info.min or data.max() > info.max):
                raise ValueError(f"constant {name!r} has values outside {dtype}: [{data.min()}, {data.max()}]")
        quant = _quantization(scales, zero_points, quantized_dimension)
        if quant is not None and len(quant.scale) > 1:
            if not 0 <= quantized_dimension < data.ndim:
                raise ValueError(f"quantized_dimension {quantized_dimension} is not an axis of shape {data.shape}")
            if data.shape[quantized_dimension] != len(quant.scale):
                raise ValueError(
                    f"constant {name!r}: {len(quant.scale)} scales for axis {quantized_dimension} "
                    f"of size {data.shape[quantized_dimension]}"
                )
        buffer = _AlignedBufferT()
        buffer.data = np.frombuffer(np.ascontiguousarray(data, dtype=np_dtype).tobytes(), dtype=np.uint8)
        self._buffers.append(buffer)

        tensor = schema.TensorT()
        tensor.name = name
        tensor.shape = [int(d) for d in data.shape]
        tensor.type = _enum(_TENSOR_TYPES, dtype, "dtype")
        tensor.buffer = len(self._buffers) - 1
        tensor.quantization = quant
        self._tensors.append(tensor)
        return len(self._tensors) - 1

    def _const_int4(self, name: str, data: np.ndarray, scales: float | Sequence[float] | np.ndarray | None,
                    zero_points: int | Sequence[int] | np.ndarray | None, quantized_dimension: int) -> int:
        """An INT4 constant: values in [-8, 7], packed densely two per byte, element 2k in the low nibble."""
        if data.dtype.kind not in "iu" or (data.size and (data.min() < -8 or data.max() > 7)):
            raise ValueError(f"constant {name!r}: int4 takes integers in [-8, 7]")
        buffer = _AlignedBufferT()
        buffer.data = pack_int4(data)
        self._buffers.append(buffer)
        tensor = schema.TensorT()
        tensor.name = name
        tensor.shape = [int(d) for d in data.shape]
        tensor.type = schema.TensorType.INT4
        tensor.buffer = len(self._buffers) - 1
        tensor.quantization = _quantization(scales, zero_points, quantized_dimension)
        self._tensors.append(tensor)
        return len(self._tensors) - 1

    def output(self, index: int) -> None:
        """Make tensor ``index`` the subgraph's next output."""
        self._check_tensor(index)
        self._outputs.append(index)

    # -- operators ---------------------------------------------------------------------------------

    def op(self, kind: str, inputs: Sequence[int], outputs: Sequence[int], **options: object) -> int:
        """Add a builtin operator and return its index in the subgraph.

        ``kind`` is the builtin name (``"CONV_2D"``, ``"ADD"``, ...; see :data:`SUPPORTED_OPS`).
        An input index of -1 marks an omitted optional input (e.g. no bias), as in TFLite.
        ``options`` use Python names: ``padding`` ("SAME"/"VALID"), ``stride``, ``dilation``,
        ``filter_size`` (pools), ``depth_multiplier``, ``activation`` ("NONE", "RELU", "RELU6",
        "RELU_N1_TO_1"), ``keep_num_dims``, ``new_shape``, ``beta``.
        """
        spec = _OPS.get(kind)
        if spec is None:
            raise ValueError(f"unsupported op {kind!r}; ModelBuilder writes {sorted(_OPS)}")
        for index in inputs:
            if index != -1:
                self._check_tensor(index)
        for index in outputs:
            self._check_tensor(index)
        try:
            options_table = spec.make_options(**options)
        except TypeError as exc:  # an unknown or missing option name
            raise ValueError(f"bad options for {kind}: {exc}") from None

        operator = schema.OperatorT()
        operator.opcodeIndex = self._opcode(spec.code, spec.version)
        operator.inputs = [int(i) for i in inputs]
        operator.outputs = [int(o) for o in outputs]
        if options_table is not None:
            operator.builtinOptionsType = spec.options_type
            operator.builtinOptions = options_table
        self._operators.append(operator)
        return len(self._operators) - 1

    # -- output ------------------------------------------------------------------------------------

    def build(self) -> bytes:
        """Pack the model into ``.tflite`` flatbuffer bytes (file identifier ``TFL3``)."""
        if not self._inputs or not self._outputs:
            raise ValueError("a model needs at least one input and one output")
        subgraph = schema.SubGraphT()
        subgraph.name = "main"
        subgraph.tensors = self._tensors
        subgraph.inputs = list(self._inputs)
        subgraph.outputs = list(self._outputs)
        subgraph.operators = self._operators

        model = schema.ModelT()
        model.version = SCHEMA_VERSION
        model.description = self.description
        model.operatorCodes = self._opcodes
        model.subgraphs = [subgraph]
        model.buffers = self._buffers

        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
        return bytes(builder.Output())

    def save(self, path: str | Path) -> Path:
        """Build the model and write it to ``path``; returns the path."""
        path = Path(path)
        path.write_bytes(self.build())
        return path

    # -- internals ---------------------------------------------------------------------------------

    def _check_tensor(self, index: int) -> None:
        if not 0 <= index < len(self._tensors):
            raise ValueError(f"no tensor with index {index} (the model has {len(self._tensors)})")

    def _opcode(self, code: int, version: int) -> int:
        """Index of the operator code for (code, version), adding it on first use."""
        key = (code, version)
        if key not in self._opcode_index:
            opcode = schema.OperatorCodeT()
            opcode.builtinCode = code
            opcode.deprecatedBuiltinCode = min(code, _PLACEHOLDER_FOR_GREATER_OP_CODES)
            opcode.version = version
            self._opcode_index[key] = len(self._opcodes)
            self._opcodes.append(opcode)
        return self._opcode_index[key]


def with_signature(tflite: bytes, key: str = "serving_default") -> bytes:
    """The model with one SignatureDef ``key`` naming its first subgraph's inputs and outputs by tensor name.

    Tools that drive LiteRT through signature runners (ai-edge-quantizer, for one) need it; models
    written by the builder or by older converters have none. Buffers keep their 16-byte alignment.
    """
    model = schema.ModelT.InitFromPackedBuf(tflite, 0)
    sub = model.subgraphs[0]

    def tensor_map(index: int) -> schema.TensorMapT:
        entry = schema.TensorMapT()
        name = sub.tensors[index].name
        entry.name = name.decode() if isinstance(name, bytes) else name
        entry.tensorIndex = int(index)
        return entry

    signature = schema.SignatureDefT()
    signature.signatureKey = key
    signature.subgraphIndex = 0
    signature.inputs = [tensor_map(i) for i in sub.inputs]
    signature.outputs = [tensor_map(i) for i in sub.outputs]
    model.signatureDefs = [signature]
    aligned = []
    for b in model.buffers or []:
        a = _AlignedBufferT()
        a.data, a.offset, a.size = b.data, b.offset, b.size
        aligned.append(a)
    model.buffers = aligned
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


SUPPORTED_OPS: tuple[str, ...] = tuple(_OPS)
"""The builtin operators :meth:`ModelBuilder.op` can write."""


def _dtype_name(dtype: np.dtype) -> DType:
    """The builder's dtype name for a numpy dtype."""
    name = np.dtype(dtype).name
    if name not in _TENSOR_TYPES:
        raise ValueError(f"no TFLite tensor type for numpy dtype {name}")
    return name  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------------
# Quantization the way the converter does it
# --------------------------------------------------------------------------------------------------


def _f32(x: float) -> float:
    """``x`` rounded to float32, the precision the file stores, so later arithmetic uses the stored value."""
    return float(np.float32(x))


def qparams_from_range(lo: float, hi: float) -> QParams:
    """Asymmetric int8 ``(scale, zero_point)`` for a float range, widened to contain 0 as TFLite requires."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < 1e-6:  # nothing but zeros was seen (e.g. a RELU that never fired): fall back to [0, 1]
        hi = lo + 1.0
    scale = _f32((hi - lo) / 255.0)
    zero_point = int(np.clip(round(-128 - lo / scale), -128, 127))
    return scale, zero_point


def _quantize_weights(w: np.ndarray, axis: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 weights in [-127, 127] and their float32 scales (per channel along ``axis`` or one)."""
    if axis is None:
        max_abs = np.array([np.abs(w).max()])
        scale_shape = [1] * w.ndim
    else:
        max_abs = np.abs(np.moveaxis(w, axis, 0)).reshape(w.shape[axis], -1).max(axis=1)
        scale_shape = [1] * w.ndim
        scale_shape[axis] = w.shape[axis]
    scales = np.where(max_abs > 0, max_abs / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.round(w / scales.reshape(scale_shape)), -127, 127).astype(np.int8)
    return q, scales


def _dequantize(q: np.ndarray, qparams: QParams) -> np.ndarray:
    """Float values of int8 activations."""
    scale, zero_point = qparams
    return (q.astype(np.float64) - zero_point) * scale


def _random_activation_qparams(rng: np.random.Generator) -> QParams:
    """Parameters of a plausible activation range: asymmetric around zero, a few units wide."""
    return qparams_from_range(-rng.uniform(0.25, 3.0), rng.uniform(0.25, 3.0))


# --------------------------------------------------------------------------------------------------
# Float forward pass used for calibration (NHWC, TFLite's padding rules)
# --------------------------------------------------------------------------------------------------


def _out_size(size: int, kernel: int, stride: int, dilation: int, padding: Padding) -> tuple[int, int]:
    """Output length and leading padding of one spatial axis, as TFLite computes them."""
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride) if padding == "SAME" else -(-(size - effective + 1) // stride)
    if out < 1:
        raise ValueError(f"window {effective} does not fit input size {size} with VALID padding")
    total = max((out - 1) * stride + effective - size, 0)
    return out, total // 2


def _patches(
    x: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    padding: Padding,
    fill: float = 0.0,
) -> np.ndarray:
    """Sliding windows of an NHWC array: shape (N, OH, OW, KH, KW, C), out-of-image positions set to ``fill``."""
    _, h, w, _ = x.shape
    oh, pad_top = _out_size(h, kernel[0], stride[0], dilation[0], padding)
    ow, pad_left = _out_size(w, kernel[1], stride[1], dilation[1], padding)
    rows = np.arange(oh)[:, None] * stride[0] + np.arange(kernel[0])[None, :] * dilation[0] - pad_top
    cols = np.arange(ow)[:, None] * stride[1] + np.arange(kernel[1])[None, :] * dilation[1] - pad_left
    pad_bottom = max(rows.max() + 1 - h, 0)
    pad_right = max(cols.max() + 1 - w, 0)
    padded = np.pad(x, ((0, 0), (pad_top, pad_bottom), (pad_left, pad_right), (0, 0)), constant_values=fill)
    return padded[:, (rows + pad_top)[:, None, :, None], (cols + pad_left)[None, :, None, :], :]


def _activate(x: np.ndarray, activation: Activation) -> np.ndarray:
    """A fused activation applied to float values."""
    bounds = {"NONE": (None, None), "RELU": (0.0, None), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}
    lo, hi = bounds[activation]
    return x if lo is None else np.clip(x, lo, hi)


UNARY_ACTIVATIONS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "RELU": lambda x, _: np.maximum(x, 0.0),
    "RELU6": lambda x, _: np.clip(x, 0.0, 6.0),
    "RELU_N1_TO_1": lambda x, _: np.clip(x, -1.0, 1.0),
    "LEAKY_RELU": lambda x, alpha: np.where(x >= 0, x, alpha * x),
    "HARD_SWISH": lambda x, _: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0,
    "LOGISTIC": lambda x, _: 0.5 * (1.0 + np.tanh(0.5 * x)),  # 1 / (1 + exp(-x)) without overflow
    "TANH": lambda x, _: np.tanh(x),
}
"""Float definitions of the unary activations the builder writes (second argument: LEAKY_RELU's alpha)."""

_FIXED_OUTPUT_QPARAMS: dict[str, QParams] = {"LOGISTIC": (1.0 / 256.0, -128), "TANH": (1.0 / 128.0, 0)}


# --------------------------------------------------------------------------------------------------
# A builder that also calibrates: each layer gets random weights and converter-style parameters
# --------------------------------------------------------------------------------------------------


class _CalibratedGraph:
    """A :class:`ModelBuilder` plus, for every activation tensor, its float values on a calibration batch.

    Each layer method draws float weights from the generator, quantizes them, runs the float layer on
    the calibration values of its input and picks the output's parameters from the min/max reached
    (unless given), just as post-training quantization with a representative data set does.
    """

    def __init__(self, seed: int, calibration_samples: int = 64) -> None:
        self.mb = ModelBuilder()
        self.rng = np.random.default_rng(seed)
        self.samples = calibration_samples
        self.values: dict[int, np.ndarray] = {}
        self.qparams: dict[int, QParams] = {}

    # -- graph edges -------------------------------------------------------------------------------

    def input(self, name: str, shape: Sequence[int], qparams: QParams | None = None) -> int:
        """An int8 input; calibration values are its whole quantized range, uniformly."""
        qparams = qparams or _random_activation_qparams(self.rng)
        index = self.mb.input(name, shape, "int8", *qparams)
        q = self.rng.integers(-128, 128, size=(self.samples, *shape), dtype=np.int64)
        self._record(index, _dequantize(q, qparams).reshape(self.samples * shape[0], *shape[1:]), qparams)
        return index

    def float_input(self, name: str, shape: Sequence[int], lo: float, hi: float) -> int:
        """A float32 input; calibration values uniform in [lo, hi]."""
        index = self.mb.input(name, shape, "float32")
        values = self.rng.uniform(lo, hi, size=(self.samples * shape[0], *shape[1:]))
        self.values[index] = values
        return index

    def output(self, index: int) -> None:
        """Mark a graph output."""
        self.mb.output(index)

    # -- layers ------------------------------------------------------------------------------------

    def conv2d(
        self,
        x: int,
        name: str,
        out_channels: int,
        kernel: IntPair = 3,
        stride: IntPair = 1,
        padding: Padding = "SAME",
        dilation: IntPair = 1,
        activation: Activation = "NONE",
        per_channel: bool = True,
        use_bias: bool = True,
        output_qparams: QParams | None = None,
    ) -> int:
        """CONV_2D with OHWI int8 weights (per-channel along axis 0) and int32 bias."""
        kernel, stride, dilation = _pair(kernel, "kernel"), _pair(stride, "stride"), _pair(dilation, "dilation")
        x_values = self.values[x]
        in_channels = x_values.shape[-1]
        w_float = self._random_weights((out_channels, *kernel, in_channels), fan_in=kernel[0] * kernel[1] * in_channels)
        w_q, w_scales = _quantize_weights(w_float, 0 if per_channel else None)
        w_index = self.mb.const(f"{name}/weights", w_q, "int8", w_scales, quantized_dimension=0)
        # TFLite's int8 CONV_2D kernel rejects a missing bias (conv.cc: has_bias), so no bias means zeros.
        bias_index, bias = self._bias(name, x, w_scales, out_channels, random=use_bias)

        w_deq = w_q.astype(np.float64) * w_scales.reshape(-1, 1, 1, 1)
        windows = _patches(x_values, kernel, stride, dilation, padding)
        y = np.einsum("nhwijc,oijc->nhwo", windows, w_deq) + bias
        y = _activate(y, activation)
        out = self._activation_tensor(f"{name}/output", y, output_qparams)
        self.mb.op(
            "CONV_2D",
            [x, w_index, bias_index],
            [out],
            padding=padding,
            stride=stride,
            dilation=dilation,
            activation=activation,
        )
        return out

    def depthwise_conv2d(
        self,
        x: int,
        name: str,
        depth_multiplier: int = 1,
        kernel: IntPair = 3,
        stride: IntPair = 1,
        padding: Padding = "SAME",
        dilation: IntPair = 1,
        activation: Activation = "NONE",
        per_channel: bool = True,
        use_bias: bool = True,
        output_qparams: QParams | None = None,
    ) -> int:
        """DEPTHWISE_CONV_2D with 1HW(C*m) int8 weights (per-channel along axis 3) and int32 bias."""
        kernel, stride, dilation = _pair(kernel, "kernel"), _pair(stride, "stride"), _pair(dilation, "dilation")
        x_values = self.values[x]
        in_channels = x_values.shape[-1]
        out_channels = in_channels * depth_multiplier
        w_float = self._random_weights((1, *kernel, out_channels), fan_in=kernel[0] * kernel[1], channel_axis=3)
        w_q, w_scales = _quantize_weights(w_float, 3 if per_channel else None)
        w_index = self.mb.const(f"{name}/weights", w_q, "int8", w_scales, quantized_dimension=3)
        inputs = [x, w_index]
        bias = np.zeros(out_channels)
        if use_bias:  # without one the input is left out: the kernel rejects a -1 placeholder here
            bias_index, bias = self._bias(name, x, w_scales, out_channels, random=True)
            inputs.append(bias_index)

        w_deq = (w_q.astype(np.float64) * w_scales).reshape(*kernel, in_channels, depth_multiplier)
        windows = _patches(x_values, kernel, stride, dilation, padding)
        y = np.einsum("nhwijc,ijcm->nhwcm", windows, w_deq)
        y = y.reshape(*y.shape[:3], out_channels) + bias
        y = _activate(y, activation)
        out = self._activation_tensor(f"{name}/output", y, output_qparams)
        self.mb.op(
            "DEPTHWISE_CONV_2D",
            inputs,
            [out],
            padding=padding,
            stride=stride,
            dilation=dilation,
            depth_multiplier=depth_multiplier,
            activation=activation,
        )
        return out

    def fully_connected(
        self,
        x: int,
        name: str,
        out_features: int,
        activation: Activation = "NONE",
        per_channel: bool = False,
        use_bias: bool = True,
        keep_num_dims: bool = False,
        output_qparams: QParams | None = None,
    ) -> int:
        """FULLY_CONNECTED with (out, in) int8 weights and int32 bias."""
        x_values = self.values[x]
        in_features = x_values.shape[-1]
        w_float = self._random_weights((out_features, in_features), fan_in=in_features)
        w_q, w_scales = _quantize_weights(w_float, 0 if per_channel else None)
        w_index = self.mb.const(f"{name}/weights", w_q, "int8", w_scales, quantized_dimension=0)
        bias_index, bias = -1, np.zeros(out_features)  # -1: no bias, as the converter writes it
        if use_bias:
            bias_index, bias = self._bias(name, x, w_scales, out_features, random=True)

        w_deq = w_q.astype(np.float64) * w_scales.reshape(-1, 1)
        y = _activate(x_values @ w_deq.T + bias, activation)
        if not keep_num_dims:
            y = y.reshape(-1, out_features)
        out = self._activation_tensor(f"{name}/output", y, output_qparams)
        self.mb.op(
            "FULLY_CONNECTED", [x, w_index, bias_index], [out], activation=activation, keep_num_dims=keep_num_dims
        )
        return out

    def pool(
        self,
        x: int,
        name: str,
        kind: Literal["AVG", "MAX"] = "AVG",
        filter_size: IntPair = 2,
        stride: IntPair = 2,
        padding: Padding = "VALID",
        activation: Activation = "NONE",
    ) -> int:
        """AVERAGE_POOL_2D or MAX_POOL_2D; the output keeps the input's parameters as the converter requires."""
        filter_size, stride = _pair(filter_size, "filter_size"), _pair(stride, "stride")
        windows = _patches(self.values[x], filter_size, stride, (1, 1), padding, fill=np.nan)
        reduce = np.nanmean if kind == "AVG" else np.nanmax
        y = _activate(reduce(windows, axis=(3, 4)), activation)
        out = self._activation_tensor(f"{name}/output", y, self.qparams[x])
        op_name = {"AVG": "AVERAGE_POOL_2D", "MAX": "MAX_POOL_2D"}[kind]
        self.mb.op(op_name, [x], [out], filter_size=filter_size, stride=stride, padding=padding, activation=activation)
        return out

    def add(
        self, a: int, b: int, name: str, activation: Activation = "NONE", output_qparams: QParams | None = None
    ) -> int:
        """Elementwise ADD (with broadcasting) of two int8 tensors."""
        y = _activate(self.values[a] + self.values[b], activation)
        out = self._activation_tensor(f"{name}/output", y, output_qparams)
        self.mb.op("ADD", [a, b], [out], activation=activation)
        return out

    def binary(
        self, kind: str, a: int, b: int, name: str, activation: Activation = "NONE",
        output_qparams: QParams | None = None,
    ) -> int:
        """ADD, SUB or MUL (with broadcasting) of two int8 tensors, either of which may be a constant."""
        combine = {"ADD": np.add, "SUB": np.subtract, "MUL": np.multiply}[kind]
        y = _activate(combine(*self._aligned(a, b)), activation)
        out = self._activation_tensor(f"{name}/output", y.reshape(-1, *y.shape[2:]), output_qparams)
        self.mb.op(kind, [a, b], [out], activation=activation)
        return out

    def constant(self, name: str, values: np.ndarray, qparams: QParams | None = None) -> int:
        """An int8 constant tensor holding float ``values`` (leading axis 1 or absent: it broadcasts over the batch)."""
        qparams = qparams or qparams_from_range(float(np.min(values)), float(np.max(values)))
        q = np.clip(np.round(np.asarray(values) / qparams[0]) + qparams[1], -128, 127).astype(np.int8)
        index = self.mb.const(name, q, "int8", qparams[0], qparams[1])
        self._record(index, _dequantize(q, qparams), qparams)
        return index

    def unary(
        self, kind: str, x: int, name: str, output_qparams: QParams | None = None, alpha: float = 0.2
    ) -> int:
        """One of the unary activations in :data:`UNARY_ACTIVATIONS`; LOGISTIC and TANH get the converter's
        fixed output parameters unless given."""
        y = UNARY_ACTIVATIONS[kind](self.values[x], alpha)
        output_qparams = output_qparams or _FIXED_OUTPUT_QPARAMS.get(kind)
        out = self._activation_tensor(f"{name}/output", y, output_qparams)
        self.mb.op(kind, [x], [out], **({"alpha": alpha} if kind == "LEAKY_RELU" else {}))
        return out

    def prelu(self, x: int, alpha: int, name: str, output_qparams: QParams | None = None) -> int:
        """PRELU of an int8 tensor with an int8 alpha tensor (usually a per-channel constant)."""
        xv, av = self._aligned(x, alpha)
        y = np.where(xv >= 0, xv, xv * av)
        out = self._activation_tensor(f"{name}/output", y.reshape(-1, *y.shape[2:]), output_qparams)
        self.mb.op("PRELU", [x, alpha], [out])
        return out

    def reshape(self, x: int, name: str, new_shape: Sequence[int], shape_as_input: bool = True) -> int:
        """RESHAPE to ``new_shape`` (batch first, no -1): as an int32 shape input like the converter, or as the option."""
        new_shape = [int(d) for d in new_shape]
        y = self.values[x].reshape(self.samples * new_shape[0], *new_shape[1:])
        out = self._activation_tensor(f"{name}/output", y, self.qparams[x])
        inputs = [x]
        if shape_as_input:
            inputs.append(self.mb.const(f"{name}/shape", np.array(new_shape, dtype=np.int32)))
        self.mb.op("RESHAPE", inputs, [out], new_shape=None if shape_as_input else new_shape)
        return out

    def softmax(self, x: int, name: str, beta: float = 1.0) -> int:
        """SOFTMAX over the last axis; output int8 with scale 1/256 and zero point -128."""
        logits = beta * self.values[x]
        e = np.exp(logits - logits.max(axis=-1, keepdims=True))
        y = e / e.sum(axis=-1, keepdims=True)
        out = self._activation_tensor(f"{name}/output", y, SOFTMAX_OUTPUT_QPARAMS)
        self.mb.op("SOFTMAX", [x], [out], beta=beta)
        return out

    def quantize(self, x: int, name: str, qparams: QParams | None = None) -> int:
        """QUANTIZE a float32 tensor to int8, or requantize an int8 one (parameters from the range unless given)."""
        out = self._activation_tensor(f"{name}/output", self.values[x], qparams)
        self.mb.op("QUANTIZE", [x], [out])
        return out

    def dequantize(self, x: int, name: str) -> int:
        """DEQUANTIZE an int8 tensor to float32."""
        values = self.values[x]
        out = self.mb.tensor(f"{name}/output", self._model_shape(values), "float32")
        self.values[out] = values
        self.mb.op("DEQUANTIZE", [x], [out])
        return out

    # -- helpers -----------------------------------------------------------------------------------

    def _random_weights(self, shape: tuple[int, ...], fan_in: int, channel_axis: int = 0) -> np.ndarray:
        """Float weights ~ N(0, 1/fan_in) with a random gain per output channel (so channel scales differ)."""
        gains_shape = [1] * len(shape)
        gains_shape[channel_axis] = shape[channel_axis]
        gains = self.rng.uniform(0.3, 1.5, size=gains_shape)
        return self.rng.normal(0.0, 1.0, size=shape) * gains / math.sqrt(fan_in)

    def _bias(self, name: str, x: int, w_scales: np.ndarray, channels: int, random: bool) -> tuple[int, np.ndarray]:
        """An int32 bias tensor with scale input_scale * weight_scale[c] and zero point 0; its float values.

        ``random`` False writes zeros (a bias-free layer whose kernel insists on a bias tensor).
        """
        input_scale = np.float32(self.qparams[x][0])
        bias_scales = (input_scale * np.broadcast_to(w_scales, (channels,))).astype(np.float32)
        if random:
            spread = float(self.values[x].std()) or 1.0
            bias_q = np.round(self.rng.normal(0.0, 0.3 * spread, size=channels) / bias_scales).astype(np.int32)
        else:
            bias_q = np.zeros(channels, dtype=np.int32)
        index = self.mb.const(
            f"{name}/bias",
            bias_q,
            "int32",
            bias_scales if len(w_scales) > 1 else bias_scales[:1],
            np.zeros(len(w_scales), dtype=np.int64),
            quantized_dimension=0,
        )
        return index, bias_q.astype(np.float64) * bias_scales

    def op_with_values(self, kind: str, inputs: Sequence[int], name: str, outputs: Sequence[np.ndarray],
                       qparams: QParams | None = None, **options: object) -> list[int]:
        """Any op, given its float outputs on the calibration batch (computed by the caller, batch first).

        The outputs keep ``qparams`` (a data-movement op copies bytes, so its output keeps the input's) or,
        when None, get them from each output's range. Returns the output tensors.
        """
        outs = [self._activation_tensor(f"{name}/output{i}", v, qparams) for i, v in enumerate(outputs)]
        self.mb.op(kind, list(inputs), outs, **options)
        return outs

    def _activation_tensor(self, name: str, values: np.ndarray, qparams: QParams | None) -> int:
        """An int8 tensor for float ``values`` (calibration batch first); qparams from their range unless given."""
        qparams = qparams or qparams_from_range(values.min(), values.max())
        index = self.mb.tensor(name, self._model_shape(values), "int8", *qparams)
        self._record(index, values, qparams)
        return index

    def _aligned(self, *indices: int) -> list[np.ndarray]:
        """Calibration values of tensors of any ranks as (samples, *model shape) arrays that broadcast
        like the model's tensors: each model shape right-aligned to the highest rank. Constants (no
        calibration batch) repeat over the samples."""
        shapes = [tuple(self.mb._tensors[i].shape) for i in indices]
        rank = max(len(shape) for shape in shapes)
        aligned = []
        for index, shape in zip(indices, shapes):
            values = self.values[index]
            samples = values.size // math.prod(shape)  # 1 for a constant
            aligned.append(values.reshape(samples, *(1,) * (rank - len(shape)), *shape))
        return aligned

    def _model_shape(self, values: np.ndarray) -> tuple[int, ...]:
        """The model's shape of a tensor: the calibration batch holds ``samples`` copies of the model's batch."""
        return (values.shape[0] // self.samples, *values.shape[1:])

    def _record(self, index: int, values: np.ndarray, qparams: QParams) -> None:
        self.values[index] = values
        self.qparams[index] = qparams

    def build(self) -> bytes:
        """The packed model."""
        return self.mb.build()


CalibratedGraph = _CalibratedGraph
"""Public name of the calibrating builder, for tests that assemble graphs layer by layer (random graphs)."""


# --------------------------------------------------------------------------------------------------
# Single-op and example models
# --------------------------------------------------------------------------------------------------


def conv2d_model(
    input_shape: Sequence[int] = (1, 8, 8, 3),
    out_channels: int = 4,
    kernel: IntPair = (3, 3),
    stride: IntPair = (1, 1),
    padding: Padding = "SAME",
    dilation: IntPair = (1, 1),
    activation: Activation = "NONE",
    per_channel: bool = True,
    use_bias: bool = True,
    seed: int = 0,
    input_qparams: QParams | None = None,
    output_qparams: QParams | None = None,
) -> bytes:
    """A model of one int8 CONV_2D: NHWC input, OHWI weights, optional int32 bias."""
    g = _CalibratedGraph(seed)
    x = g.input("input", input_shape, input_qparams)
    y = g.conv2d(
        x,
        "conv",
        out_channels,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        activation=activation,
        per_channel=per_channel,
        use_bias=use_bias,
        output_qparams=output_qparams,
    )
    g.output(y)
    return g.build()


def depthwise_conv2d_model(
    input_shape: Sequence[int] = (1, 8, 8, 4),
    depth_multiplier: int = 1,
    kernel: IntPair = (3, 3),
    stride: IntPair = (1, 1),
    padding: Padding = "SAME",
    dilation: IntPair = (1, 1),
    activation: Activation = "NONE",
    per_channel: bool = True,
    use_bias: bool = True,
    seed: int = 0,
    input_qparams: QParams | None = None,
    output_qparams: QParams | None = None,
) -> bytes:
    """A model of one int8 DEPTHWISE_CONV_2D: output channels = input channels * depth_multiplier."""
    g = _CalibratedGraph(seed)
    x = g.input("input", input_shape, input_qparams)
    y = g.depthwise_conv2d(
        x,
        "depthwise",
        depth_multiplier,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        activation=activation,
        per_channel=per_channel,
        use_bias=use_bias,
        output_qparams=output_qparams,
    )
    g.output(y)
    return g.build()


def fully_connected_model(
    input_shape: Sequence[int] = (1, 16),
    out_features: int = 8,
    activation: Activation = "NONE",
    per_channel: bool = False,
    use_bias: bool = True,
    keep_num_dims: bool = False,
    seed: int = 0,
    input_qparams: QParams | None = None,
    output_qparams: QParams | None = None,
) -> bytes:
    """A model of one int8 FULLY_CONNECTED over the last input axis (the converter's default is per-tensor)."""
    g = _CalibratedGraph(seed)
    x = g.input("input", input_shape, input_qparams)
    y = g.fully_connected(
        x,
        "fc",
        out_features,
        activation=activation,
        per_channel=per_channel,
        use_bias=use_bias,
        keep_num_dims=keep_num_dims,
        output_qparams=output_qparams,
    )
    g.output(y)
    return g.build()


def pool_model(
    kind: Literal["AVG", "MAX"] = "AVG",
    input_shape: Sequence[int] = (1, 8, 8, 4),
    filter_size: IntPair = (2, 2),
    stride: IntPair = (2, 2),
    padding: Padding = "VALID",
    activation: Activation = "NONE",
    seed: int = 0,
    input_qparams: QParams | None = None,
) -> bytes:
    """A model of one int8 AVERAGE_POOL_2D or MAX_POOL_2D (output parameters equal the input's)."""
    g = _CalibratedGraph(seed)
    x = g.input("input", input_shape, input_qparams)
    g.output(g.pool(x, "pool", kind, filter_size=filter_size, stride=stride, padding=padding, activation=activation))
    return g.build()


def add_model(
    shape: Sequence[int] = (1, 4, 4, 8),
    shape2: Sequence[int] | None = None,
    input1_qparams: QParams | None = None,
    input2_qparams: QParams | None = None,
    output_qparams: QParams | None = None,
    activation: Activation = "NONE",
    seed: int = 0,
) -> bytes:
    """A model of one int8 ADD of two inputs (``shape2`` defaults to ``shape``; a different one broadcasts)."""
    g = _CalibratedGraph(seed)
    a = g.input("input1", shape, input1_qparams)
    b = g.input("input2", shape2 or shape, input2_qparams)
    g.output(g.add(a, b, "add", activation=activation, output_qparams=output_qparams))
    return g.build()


def softmax_model(
    shape: Sequence[int] = (1, 10), input_qparams: QParams | None = None, beta: float = 1.0, seed: int = 0
) -> bytes:
    """A model of one int8 SOFTMAX over the last axis (output scale 1/256, zero point -128)."""
    g = _CalibratedGraph(seed)
    x = g.input("input", shape, input_qparams)
    g.output(g.softmax(x, "softmax", beta))
    return g.build()


def reshape_model(
    input_shape: Sequence[int] = (1, 2, 2, 4),
    new_shape: Sequence[int] = (1, 16),
    input_qparams: QParams | None = None,
    shape_as_input: bool = True,
    seed: int = 0,
) -> bytes:
    """A model of one int8 RESHAPE: the shape is an int32 constant input (as the converter writes it) or an option."""
    if math.prod(input_shape) != math.prod(new_shape):
        raise ValueError(f"cannot reshape {tuple(input_shape)} to {tuple(new_shape)}")
    g = _CalibratedGraph(seed)
    x = g.input("input", input_shape, input_qparams)
    g.output(g.reshape(x, "reshape", new_shape, shape_as_input=shape_as_input))
    return g.build()


def quantize_edges_model(
    shape: Sequence[int] = (1, 16), out_features: int = 8, activation: Activation = "NONE", seed: int = 0
) -> bytes:
    """Float32 in and out: QUANTIZE -> int8 FULLY_CONNECTED -> DEQUANTIZE (the converter's float-I/O form)."""
    g = _CalibratedGraph(seed)
    x = g.float_input("input", shape, -g.rng.uniform(0.5, 2.0), g.rng.uniform(0.5, 2.0))
    q = g.quantize(x, "quantize")
    y = g.fully_connected(q, "fc", out_features, activation=activation)
    g.output(g.dequantize(y, "dequantize"))
    return g.build()


def binary_model(
    kind: Literal["ADD", "SUB", "MUL"] = "MUL",
    shape1: Sequence[int] = (1, 4, 4, 8),
    shape2: Sequence[int] = (1, 1, 1, 8),
    constant_operand: int | None = None,
    input1_qparams: QParams | None = None,
    input2_qparams: QParams | None = None,
    output_qparams: QParams | None = None,
    activation: Activation = "NONE",
    seed: int = 0,
) -> bytes:
    """One int8 ADD, SUB or MUL with broadcasting; ``constant_operand`` 1 or 2 makes that operand a random
    constant (its leading axis must then be 1), as the converter writes e.g. a scale or a bias."""
    g = _CalibratedGraph(seed)
    operands = []
    for position, (shape, qparams) in enumerate(((shape1, input1_qparams), (shape2, input2_qparams)), start=1):
        if position == constant_operand:
            operands.append(g.constant(f"constant{position}", g.rng.uniform(-2.0, 2.0, size=shape), qparams))
        else:
            operands.append(g.input(f"input{position}", shape, qparams))
    g.output(g.binary(kind, operands[0], operands[1], kind.lower(), activation, output_qparams))
    return g.build()


def activation_model(
    kind: str = "LOGISTIC",
    shape: Sequence[int] = (1, 4, 4, 8),
    input_qparams: QParams | None = None,
    output_qparams: QParams | None = None,
    alpha: float = 0.2,
    seed: int = 0,
) -> bytes:
    """One int8 unary activation (a key of :data:`UNARY_ACTIVATIONS`)."""
    g = _CalibratedGraph(seed)
    x = g.input("input", shape, input_qparams)
    g.output(g.unary(kind, x, kind.lower(), output_qparams, alpha))
    return g.build()


def prelu_model(
    shape: Sequence[int] = (1, 4, 4, 8),
    alpha_shape: Sequence[int] = (1, 1, 8),
    input_qparams: QParams | None = None,
    alpha_qparams: QParams | None = None,
    output_qparams: QParams | None = None,
    seed: int = 0,
) -> bytes:
    """One int8 PRELU with a constant alpha (per channel by default, as Keras' PReLU shares H and W)."""
    g = _CalibratedGraph(seed)
    x = g.input("input", shape, input_qparams)
    alpha = g.constant("alpha", g.rng.uniform(-0.5, 0.5, size=alpha_shape), alpha_qparams)
    g.output(g.prelu(x, alpha, "prelu", output_qparams))
    return g.build()


def requantize_model(
    shape: Sequence[int] = (1, 16), input_qparams: QParams | None = None, output_qparams: QParams | None = None,
    seed: int = 0,
) -> bytes:
    """One int8 -> int8 QUANTIZE (a requantization between scales and zero points)."""
    g = _CalibratedGraph(seed)
    x = g.input("input", shape, input_qparams)
    g.output(g.quantize(x, "requantize", output_qparams or _random_activation_qparams(g.rng)))
    return g.build()


def tiny_cnn_model(seed: int = 0) -> bytes:
    """A small int8 image classifier with 10 classes on a 1x16x16x1 input.

    CONV_2D 3x3 8ch (RELU) -> DEPTHWISE_CONV_2D 3x3 stride 2 (RELU6) -> CONV_2D 1x1 8ch ->
    ADD (residual: depthwise output + 1x1 output) -> AVERAGE_POOL_2D 8x8 -> RESHAPE 1x8 ->
    FULLY_CONNECTED 10 -> SOFTMAX.
    """
    g = _CalibratedGraph(seed)
    image = g.input("image", (1, 16, 16, 1), qparams_from_range(-1.0, 1.0))
    c1 = g.conv2d(image, "conv1", 8, kernel=3, activation="RELU")
    dw = g.depthwise_conv2d(c1, "dwconv", kernel=3, stride=2, activation="RELU6")
    pw = g.conv2d(dw, "pwconv", 8, kernel=1)
    res = g.add(dw, pw, "residual")
    pooled = g.pool(res, "avgpool", "AVG", filter_size=8, stride=8)
    flat = g.reshape(pooled, "flatten", (1, 8))
    logits = g.fully_connected(flat, "classifier", 10)
    g.output(g.softmax(logits, "softmax"))
    return g.build()
