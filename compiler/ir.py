"""The integer-only IR: what lowering produces and every later stage consumes.

A :class:`Program` is a list of ops over activation buffers (:class:`Value`). Ops are frozen,
slotted dataclasses holding only integers and integer arrays: weights, biases with the input
zero-point term already folded in, per-channel (multiplier, shift) pairs, offsets and clamps.
The only floats are the scales of the edge conversions (:class:`Quantize`, :class:`Dequantize`)
that turn a float model input into int8 and back, and the per-channel output scale of
:class:`FullyConnected`: TFLite's reference kernel (LiteRT 1.3 and later) rescales its int32
accumulator as ``(int32)round((double)acc * scale)`` rather than with a Q31 multiplier, and
bit-identical means doing the same. Ops name such arrays in ``float_constants``.

Conventions shared with the numpy interpreter (``compiler.interp``) and the C runtime
(``runtime_c/include/edgec_nn.h``):

- Activations are NHWC, batch included; convolution weights are OHWI ``[OC, KH, KW, IC]``,
  depthwise weights ``[KH, KW, OC]`` with ``OC = IC * depth_multiplier``, fully connected
  weights ``[OC, IC]``.
- ``shift`` follows TFLite: positive shifts left, negative right; a rescale is
  ``multiply_by_quantized_multiplier(acc, multiplier, shift)``.
- Convolutions compute ``acc = bias[oc] + sum(x * w)`` where an out-of-bounds (padding) input
  reads ``pad_value`` (the input zero point). That equals TFLite's
  ``sum((x - zp_in) * w) + bias`` exactly because the bias already carries ``-zp_in * sum(w)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

import numpy as np

from .errors import InternalError


class DType(str, Enum):
    INT8 = "int8"
    INT32 = "int32"
    FLOAT32 = "float32"

    @property
    def itemsize(self) -> int:
        return np.dtype(self.value).itemsize

    @property
    def ctype(self) -> str:
        return {"int8": "int8_t", "int32": "int32_t", "float32": "float"}[self.value]


@dataclass(frozen=True, slots=True)
class Value:
    """An activation buffer: a model input, output or intermediate tensor."""

    id: int
    name: str
    shape: tuple[int, ...]
    dtype: DType
    scale: float | None = None  # kept for reports and edge conversions; never used by kernels
    zero_point: int = 0

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize


class OpKind(Enum):
    """Every IR op kind with its static facts: C kernel, family, elementwise or not."""

    CONV_2D = ("edgec_convolve_s8", "conv", False)
    DEPTHWISE_CONV_2D = ("edgec_depthwise_conv_s8", "conv", False)
    FULLY_CONNECTED = ("edgec_fully_connected_s8", "conv", False)
    AVERAGE_POOL_2D = ("edgec_avgpool_s8", "pool", False)
    MAX_POOL_2D = ("edgec_maxpool_s8", "pool", False)
    ADD = ("edgec_add_s8", "elementwise", True)
    SOFTMAX = ("edgec_softmax_s8", "softmax", False)
    RESHAPE = ("memmove", "layout", True)
    QUANTIZE = ("edgec_quantize_f32_s8", "convert", True)
    DEQUANTIZE = ("edgec_dequantize_s8_f32", "convert", True)
    # Three kinds share one C kernel; the family's suffix keeps the enum values distinct (no aliases).
    STRIDED_SLICE = ("edgec_strided_copy_s8", "movement", False)
    TRANSPOSE = ("edgec_strided_copy_s8", "movement:transpose", False)
    PAD = ("edgec_pad_s8", "movement", False)
    CONCATENATION = ("edgec_strided_copy_s8", "movement:concatenation", False)
    MEAN = ("edgec_mean_s8", "reduce", False)
    LUT = ("edgec_lut_s8", "activation", True)
    ADD_BROADCAST = ("edgec_add_broadcast_s8", "elementwise", True)
    MUL = ("edgec_mul_s8", "elementwise", True)
    PRELU = ("edgec_prelu_s8", "elementwise", True)

    def __init__(self, kernel: str, family: str, elementwise: bool) -> None:
        self.kernel = kernel
        self.family = family
        self.elementwise = elementwise


@dataclass(frozen=True, slots=True, eq=False)
class Op:
    """Base of all ops: a name (from the source model) and its input/output value ids."""

    name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    kind: ClassVar[OpKind]
    float_constants: ClassVar[frozenset[str]] = frozenset()  # constants that are float64, not integers

    @property
    def constants(self) -> dict[str, np.ndarray]:
        """The op's constant arrays by field name (weights, bias, multipliers, ...)."""
        return {}

    @property
    def macs(self) -> int:
        return 0


def stored_weights(weights: np.ndarray, bits: int) -> np.ndarray:
    """The weights as flash holds them: int8 as they are, or for 4 bits packed two per byte (uint8,
    ``compiler.int4``'s layout over the flattened array). Ops keep ``weights`` unpacked (int8 values)."""
    if bits == 8:
        return weights
    from .int4 import pack_int4

    return pack_int4(weights)


@dataclass(frozen=True, slots=True, eq=False)
class Conv2D(Op):
    weights: np.ndarray  # int8 [OC, KH, KW, IC]
    bias: np.ndarray  # int32 [OC], input zero-point term folded in
    multiplier: np.ndarray  # int32 [OC]
    shift: np.ndarray  # int32 [OC]
    stride: tuple[int, int]  # (h, w)
    dilation: tuple[int, int]
    padding: tuple[int, int]  # (top, left); bottom/right follow from the output shape
    pad_value: int  # what an out-of-bounds input reads: the input zero point
    output_offset: int
    act_min: int
    act_max: int
    macs_: int = 0
    weight_bits: int = 8  # 4: the values are in [-8, 7] and are stored packed (see stored_weights)
    weight_layout: str = "ohwi"  # "w16": widened to int16 for edgec_convolve_w16_s8 (compiler/conv_layout.py)

    kind = OpKind.CONV_2D

    @property
    def constants(self) -> dict[str, np.ndarray]:
        if self.weight_layout == "w16":  # compiler/conv_layout.py: int16 weights, bias and rescale as one table
            from .conv_layout import w16_weights

            return {"weights": w16_weights(self.weights, self.bias, self.multiplier, self.shift, self.output_offset,
                                              self.act_min, self.act_max),
                    "bias": self.bias,
                    "multiplier": self.multiplier, "shift": self.shift}
        if self.weight_bits == 4:  # compiler/int4.py: nibble-group words for edgec_convolve_s4
            from .int4 import conv_weights_s4

            weights = conv_weights_s4(self.weights)
        else:
            weights = stored_weights(self.weights, self.weight_bits)
        return {"weights": weights, "bias": self.bias, "multiplier": self.multiplier, "shift": self.shift}

    @property
    def macs(self) -> int:
        return self.macs_


@dataclass(frozen=True, slots=True, eq=False)
class DepthwiseConv2D(Op):
    weights: np.ndarray  # int8 [KH, KW, OC]
    bias: np.ndarray  # int32 [OC], input zero-point term folded in
    multiplier: np.ndarray
    shift: np.ndarray
    depth_multiplier: int
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int]
    pad_value: int
    output_offset: int
    act_min: int
    act_max: int
    macs_: int = 0
    weight_bits: int = 8  # 4: the values are in [-8, 7] and are stored packed (see stored_weights)
    weight_layout: str = "hwc"  # "pairs"/"pairs_t": plus the 3x3 band kernel's table (compiler/dw_layout.py)

    kind = OpKind.DEPTHWISE_CONV_2D

    @property
    def constants(self) -> dict[str, np.ndarray]:
        """Plus, where the 3x3 band kernel takes the layer on the target, its table of int16 weight pairs and
        requantization constants (compiler/dw_layout.py)."""
        consts = {"weights": stored_weights(self.weights, self.weight_bits), "bias": self.bias,
                  "multiplier": self.multiplier, "shift": self.shift}
        if self.weight_layout in ("pairs", "pairs_t"):
            from .dw_layout import dw3_table

            table = dw3_table(self, self.weight_layout == "pairs_t")
            assert table is not None  # dw_layout.for_target sets the layout only where it exists
            consts["pairs"] = table
        return consts

    @property
    def macs(self) -> int:
        return self.macs_


@dataclass(frozen=True, slots=True, eq=False)
class FullyConnected(Op):
    """out[b, o] = clamp(round_half_away(double(bias[o] + sum_i x[b, i] * w[o, i]) * scale[o]) + output_offset).

    The input is viewed as [batches, IC]. ``scale[o]`` is double(s_in) * double(s_w[o]) / double(s_out),
    computed in that order, as TFLite's reference kernel does.
    """

    weights: np.ndarray  # int8 [OC, IC]
    bias: np.ndarray  # int32 [OC], input zero-point term folded in
    scale: np.ndarray  # float64 [OC] (per-tensor quantization repeats one value)
    output_offset: int
    act_min: int
    act_max: int
    macs_: int = 0
    weight_bits: int = 8

    kind = OpKind.FULLY_CONNECTED
    float_constants = frozenset({"scale"})

    @property
    def constants(self) -> dict[str, np.ndarray]:
        """As the C kernels read them (compiler/fc_layout.py): int8 weights blocked four rows at a time for
        edgec_fully_connected_fast_s8, 4-bit ones as nibble-group words four rows at a time (compiler/int4.py);
        the double scale and its integer form."""
        from .fc_layout import blocked_weights, fixed_rescale
        from .int4 import fc_weights_s4

        weights = blocked_weights(self.weights) if self.weight_bits == 8 else fc_weights_s4(self.weights)
        multiplier, n = fixed_rescale(self.scale)
        return {"weights": weights, "bias": self.bias, "scale": self.scale, "multiplier": multiplier, "n": n}

    @property
    def macs(self) -> int:
        return self.macs_


@dataclass(frozen=True, slots=True, eq=False)
class Pool2D(Op):
    """Average or max pooling over windows clipped to the input (TFLite counts only valid cells)."""

    filter: tuple[int, int]  # (h, w)
    stride: tuple[int, int]
    padding: tuple[int, int]  # (top, left)
    act_min: int
    act_max: int


@dataclass(frozen=True, slots=True, eq=False)
class AveragePool2D(Pool2D):
    kind = OpKind.AVERAGE_POOL_2D


@dataclass(frozen=True, slots=True, eq=False)
class MaxPool2D(Pool2D):
    kind = OpKind.MAX_POOL_2D


@dataclass(frozen=True, slots=True)
class AddRescale:
    """The integer arithmetic of TFLite's int8 ADD (and SUB: ``input2_multiplier`` negated), shared by
    :class:`Add` and :class:`AddBroadcast`: each input offset, shifted left by ``left_shift`` bits of headroom
    and rescaled onto the common 2*max(scale) grid; the sum rescaled to the output, offset and clamped. Field
    names are those of the C ``edgec_add_params``."""

    input1_offset: int
    input1_multiplier: int
    input1_shift: int
    input2_offset: int
    input2_multiplier: int
    input2_shift: int
    left_shift: int
    output_multiplier: int
    output_shift: int
    output_offset: int
    act_min: int
    act_max: int


@dataclass(frozen=True, slots=True, eq=False)
class Add(Op):
    """TFLite's int8 ADD of two same-shape activations (:class:`AddRescale`'s arithmetic).

    ``input_tables`` (int32 [2, 256], or None): row i, entry ``x + 128``, is input i's rescaled term
    ``requantize((x + input_i_offset) << left_shift, input_i_multiplier, input_i_shift)`` for every int8 x. Each
    term depends on one int8 value only, so a table replaces two of the three requantizations per element
    (``edgec_add_table_s8``); the lowering attaches one where the 2 KiB of flash pay (see compiler.lower.add).
    """

    rescale: AddRescale
    input_tables: np.ndarray | None = None

    @property
    def constants(self) -> dict[str, np.ndarray]:
        return {} if self.input_tables is None else {"input_tables": self.input_tables}

    kind = OpKind.ADD


@dataclass(frozen=True, slots=True, eq=False)
class Softmax(Op):
    """TFLite's int8 softmax over the last axis (gemmlowp fixed point), output scale 1/256, zp -128."""

    input_multiplier: int
    input_left_shift: int
    diff_min: int

    kind = OpKind.SOFTMAX


@dataclass(frozen=True, slots=True, eq=False)
class Reshape(Op):
    """Same bytes, new shape."""

    kind = OpKind.RESHAPE


@dataclass(frozen=True, slots=True, eq=False)
class Quantize(Op):
    """float32 -> int8 at a model input: q = clamp(round(x / scale) + zero_point)."""

    scale: float  # a float32 value
    zero_point: int

    kind = OpKind.QUANTIZE


@dataclass(frozen=True, slots=True, eq=False)
class Dequantize(Op):
    """int8 -> float32 at a model output: x = (float)(scale * (q - zero_point)) with scale in double."""

    scale: float
    zero_point: int

    kind = OpKind.DEQUANTIZE


@dataclass(frozen=True, slots=True, eq=False)
class StridedSlice(Op):
    """out = in[begin[k] + step[k] * i_k for i_k < extent[k]] per axis k; steps are non-zero, may be negative.

    ``extent`` has the input's rank; the output value holds the same elements in the same order
    (its shape may drop size-1 axes: TFLite's shrink_axis_mask). SLICE and SPLIT lower to it too.
    """

    begin: tuple[int, ...]
    step: tuple[int, ...]
    extent: tuple[int, ...]

    kind = OpKind.STRIDED_SLICE


@dataclass(frozen=True, slots=True, eq=False)
class Transpose(Op):
    """out[i_0, ..., i_r] = in[...] with output axis k taken from input axis ``perm[k]``."""

    perm: tuple[int, ...]

    kind = OpKind.TRANSPOSE


@dataclass(frozen=True, slots=True, eq=False)
class Pad(Op):
    """The input placed at offset ``before`` inside an output filled with ``pad_value`` (an int8 code)."""

    before: tuple[int, ...]
    after: tuple[int, ...]
    pad_value: int

    kind = OpKind.PAD


@dataclass(frozen=True, slots=True, eq=False)
class Concatenation(Op):
    """The inputs joined along ``axis`` (all share one quantization, so bytes are copied unchanged)."""

    axis: int

    kind = OpKind.CONCATENATION


@dataclass(frozen=True, slots=True, eq=False)
class Mean(Op):
    """int8 mean over ``axes`` (normalised, ascending): ``clamp(requantize(sum(x + input_offset), m, s) + output_offset)``.

    ``input_offset`` is -zp_in; ``(m, s)`` rescales s_in / s_out with ``1/count`` folded in (see
    compiler/lower/reduce.py for how TFLite derives them).
    """

    axes: tuple[int, ...]
    input_offset: int
    multiplier: int
    shift: int
    count: int
    output_offset: int

    kind = OpKind.MEAN


@dataclass(frozen=True, slots=True, eq=False)
class Lut(Op):
    """Any unary int8 -> int8 function as a 256-entry table: ``out = table[x + 128]``.

    The table is computed at compile time by running, for each of the 256 inputs, the exact algorithm of
    TFLite's reference kernel (RELU family, LEAKY_RELU, HARD_SWISH, LOGISTIC, TANH, int8 QUANTIZE).
    """

    table: np.ndarray  # int8 [256], indexed by input + 128
    source_op: str = ""  # the TFLite op it implements, named in the generated code's layer comment

    kind = OpKind.LUT

    @property
    def constants(self) -> dict[str, np.ndarray]:
        return {"table": self.table}


@dataclass(frozen=True, slots=True)
class Broadcast:
    """How a two-operand op walks its operands: 4-D output dims and each operand's element strides.

    A stride of 0 repeats the operand along that axis (TFLite broadcasting); shapes of any rank are
    collapsed to 4-D by merging neighbouring axes that broadcast alike.
    """

    out_dims: tuple[int, int, int, int]
    strides1: tuple[int, int, int, int]
    strides2: tuple[int, int, int, int]


@dataclass(frozen=True, slots=True, eq=False)
class Binary(Op):
    """Base of broadcasting two-operand ops. A constant operand is held in ``constant1``/``constant2``
    (int8 data) and is then not among ``inputs``; ``inputs`` lists the activation operands in order."""

    broadcast: Broadcast
    constant1: np.ndarray | None
    constant2: np.ndarray | None

    @property
    def constants(self) -> dict[str, np.ndarray]:
        pairs = (("operand1", self.constant1), ("operand2", self.constant2))
        return {name: arr for name, arr in pairs if arr is not None}


@dataclass(frozen=True, slots=True, eq=False)
class AddBroadcast(Binary):
    """ADD or SUB (input2 multiplier negated, as TFLite's SUB does) with broadcasting or a constant operand;
    the arithmetic is :class:`AddRescale`'s."""

    rescale: AddRescale

    kind = OpKind.ADD_BROADCAST


@dataclass(frozen=True, slots=True, eq=False)
class Mul(Binary):
    """TFLite's int8 MUL: clamp(requantize((x1 + off1) * (x2 + off2), multiplier, shift) + output_offset)."""

    input1_offset: int
    input2_offset: int
    output_multiplier: int
    output_shift: int
    output_offset: int
    act_min: int
    act_max: int

    kind = OpKind.MUL


@dataclass(frozen=True, slots=True, eq=False)
class PRelu(Binary):
    """TFLite's int8 PRELU; operand 2 is alpha. With v = x + input_offset:
    v >= 0: requantize(v, multiplier_pos, shift_pos); else requantize(v * (alpha + alpha_offset),
    multiplier_neg, shift_neg); then + output_offset, clamped to int8."""

    input_offset: int
    alpha_offset: int
    multiplier_pos: int
    shift_pos: int
    multiplier_neg: int
    shift_neg: int
    output_offset: int

    kind = OpKind.PRELU


@dataclass(frozen=True, slots=True, eq=False)
class Program:
    """A lowered model: values, ops in execution order, and which values are the model's inputs/outputs."""

    name: str
    values: tuple[Value, ...]
    ops: tuple[Op, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    source_sha256: str

    def value(self, vid: int) -> Value:
        return self.values[vid]

    @property
    def macs(self) -> int:
        return sum(op.macs for op in self.ops)

    @property
    def constant_bytes(self) -> int:
        """Bytes of every op's constants (weights, biases, rescales): what the model puts in flash as data."""
        return sum(a.nbytes for op in self.ops for a in op.constants.values())


def _expect(cond: bool, op: Op, what: str) -> None:
    if not cond:
        raise InternalError(f"IR check failed at op {op.name!r} ({op.kind.name}): {what}")


def verify(program: Program) -> None:
    """Check the IR's invariants; raises InternalError naming the op. Always on in tests."""
    for i, v in enumerate(program.values):
        if v.id != i:
            raise InternalError(f"value {v.name!r} has id {v.id} at position {i}")
    produced = set(program.inputs)
    for op in program.ops:
        for vid in op.inputs:
            _expect(0 <= vid < len(program.values), op, f"input id {vid} out of range")
            _expect(vid in produced, op, f"reads value {program.values[vid].name!r} before it is produced")
        for vid in op.outputs:
            _expect(0 <= vid < len(program.values), op, f"output id {vid} out of range")
            _expect(vid not in produced, op, f"writes value {program.values[vid].name!r} a second time")
            produced.add(vid)
        for name, arr in op.constants.items():
            _expect(isinstance(arr, np.ndarray), op, f"{name} is not an array")
            if name in op.float_constants:
                _expect(arr.dtype == np.float64 and bool(np.all(np.isfinite(arr))), op, f"{name} must be finite float64")
            else:
                _expect(arr.dtype.kind in "iu", op, f"{name} holds {arr.dtype}, not integers")
        bits = getattr(op, "weight_bits", 8)
        _expect(bits in (4, 8), op, f"weight_bits {bits} is neither 4 nor 8")
        if bits == 4:
            w = op.weights  # type: ignore[attr-defined]
            _expect(w.size == 0 or (int(w.min()) >= -8 and int(w.max()) <= 7), op, "4-bit weights outside [-8, 7]")
        clamped = getattr(op, "rescale", op)  # ADD keeps its clamp in its AddRescale
        if hasattr(clamped, "act_min"):
            _expect(clamped.act_min <= clamped.act_max, op, f"empty clamp [{clamped.act_min}, {clamped.act_max}]")
        _verify_shapes(program, op)
    for vid in program.outputs:
        if vid not in produced:
            raise InternalError(f"model output {program.values[vid].name!r} is never produced")


def _verify_shapes(program: Program, op: Op) -> None:
    ins = [program.values[i] for i in op.inputs]
    outs = [program.values[i] for i in op.outputs]
    if isinstance(op, Conv2D):
        oc, _, _, ic = op.weights.shape
        _expect(op.weights.dtype == np.int8, op, "weights must be int8")
        _expect(ins[0].shape[3] == ic and outs[0].shape[3] == oc, op, "channel counts disagree with weights")
        for arr in (op.bias, op.multiplier, op.shift):
            _expect(arr.shape == (oc,) and arr.dtype == np.int32, op, "per-channel arrays must be int32 [OC]")
    elif isinstance(op, DepthwiseConv2D):
        oc = op.weights.shape[2]
        _expect(ins[0].shape[3] * op.depth_multiplier == oc == outs[0].shape[3], op, "depthwise channels disagree")
        for arr in (op.bias, op.multiplier, op.shift):
            _expect(arr.shape == (oc,) and arr.dtype == np.int32, op, "per-channel arrays must be int32 [OC]")
    elif isinstance(op, FullyConnected):
        oc, ic = op.weights.shape
        _expect(ins[0].size % ic == 0, op, f"input size {ins[0].size} is not a multiple of {ic}")
        _expect(outs[0].size == ins[0].size // ic * oc, op, "output size disagrees with weights")
        _expect(op.scale.shape == (oc,) and op.bias.shape == (oc,), op, "per-channel arrays must have OC entries")
    elif isinstance(op, (Add,)):
        _expect(ins[0].shape == ins[1].shape == outs[0].shape, op, "ADD operands must have one shape")
    elif isinstance(op, (Reshape, Softmax, Quantize, Dequantize)):
        _expect(ins[0].size == outs[0].size, op, "element counts differ")
    elif isinstance(op, (StridedSlice, Transpose, Pad, Concatenation, Mean)):
        _verify_movement(op, ins, outs)
    elif isinstance(op, Lut):
        _expect(op.table.shape == (256,) and op.table.dtype == np.int8, op, "table must be int8 [256]")
        _expect(ins[0].size == outs[0].size, op, "element counts differ")
    elif isinstance(op, Binary):
        _verify_broadcast(op, ins, outs[0])


def _verify_movement(op: Op, ins: list[Value], outs: list[Value]) -> None:
    """Shape rules of the data-movement ops and MEAN (rank <= 4 is what the C kernels take)."""
    shape = ins[0].shape
    _expect(len(shape) <= 4 and len(outs[0].shape) <= 4, op, "rank above 4")
    if isinstance(op, StridedSlice):
        _expect(len(op.begin) == len(op.step) == len(op.extent) == len(shape), op, "slice rank mismatch")
        for b, s, n, d in zip(op.begin, op.step, op.extent, shape):
            _expect(s != 0 and n >= 1 and 0 <= b < d and 0 <= b + s * (n - 1) < d, op, "slice outside the input")
        _expect(int(np.prod(op.extent)) == outs[0].size, op, "slice extent disagrees with the output")
    elif isinstance(op, Transpose):
        _expect(sorted(op.perm) == list(range(len(shape))), op, "perm is not a permutation")
        _expect(tuple(shape[p] for p in op.perm) == outs[0].shape, op, "transposed shape disagrees")
    elif isinstance(op, Pad):
        expect = tuple(d + b + a for d, b, a in zip(shape, op.before, op.after))
        _expect(len(op.before) == len(op.after) == len(shape) and expect == outs[0].shape, op, "padded shape")
        _expect(min(op.before + op.after, default=0) >= 0 and -128 <= op.pad_value <= 127, op, "bad padding")
    elif isinstance(op, Concatenation):
        _expect(0 <= op.axis < len(shape), op, "axis out of range")
        for v in ins:
            _expect(len(v.shape) == len(shape) and all(
                a == b for k, (a, b) in enumerate(zip(v.shape, outs[0].shape)) if k != op.axis), op, "shapes")
        _expect(sum(v.shape[op.axis] for v in ins) == outs[0].shape[op.axis], op, "axis sizes do not add up")
    elif isinstance(op, Mean):
        _expect(all(0 <= a < len(shape) for a in op.axes) and list(op.axes) == sorted(set(op.axes)), op, "axes")
        _expect(op.count == int(np.prod([shape[a] for a in op.axes])) > 0, op, "count disagrees with the axes")
        _expect(outs[0].size * op.count == ins[0].size, op, "output size disagrees with the reduction")


def _verify_broadcast(op: Binary, ins: list[Value], out: Value) -> None:
    """Every operand (activation or constant) is exactly covered by its strides; the output by the dims."""
    dims = op.broadcast.out_dims
    _expect(int(np.prod(dims)) == out.size, op, f"broadcast dims {dims} do not cover the output {out.shape}")
    pending = iter(ins)
    for constant, strides in ((op.constant1, op.broadcast.strides1), (op.constant2, op.broadcast.strides2)):
        size = constant.size if constant is not None else next(pending).size
        if constant is not None:
            _expect(constant.dtype == np.int8, op, "constant operands must be int8")
        reach = 1 + sum((d - 1) * s for d, s in zip(dims, strides))
        _expect(reach == size, op, f"strides {strides} over {dims} reach {reach} elements of {size}")
