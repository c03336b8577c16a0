"""Post-training quantization as one script: read float model, repair, calibrate, quantize weights, write.

:func:`quantize` takes a float ``.tflite`` (path or bytes) and a calibration array (samples first,
each of the model's input shape without its batch of 1; a memory-mapped ``.npy`` streams batch by
batch) and returns the int8 model's bytes plus what was chosen. Stages, in order:

1. read the Graph and build the float interpreter (:mod:`.floatexec`);
2. repairs on the float model: batch-norm folding, cross-layer equalization (RELU6 joins on the
   calibration data's measured ranges; :mod:`.repairs`);
3. calibrate activation ranges, streamed, one or two passes (:mod:`.calibrate`);
4. quantize weights per layer, 8 or 4 bits (:mod:`.weights`; mixed precision picks the bits,
   :mod:`.mixed`), then optional bias correction of the weight-rounding shift (:mod:`.repairs`);
5. write the int8 model with the project's model builder (:mod:`.writer`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..frontend import read_tflite
from .calibrate import Calibrator, check_method
from .floatexec import FloatModel, batches
from .progress import progress
from .weights import CHANNEL_AXIS, QuantizedWeights, quantize_weights
from .writer import LayerWeights, activation_qparams, write_model

WEIGHT_MODES = ("int8", "int4", "mixed")


@dataclass(frozen=True)
class QuantizeOptions:
    """What the user chooses. Defaults: MSE-optimal activation ranges, symmetric per-channel int8 weights.

    MSE is the default activation calibration because it was measured to beat ai-edge-quantizer's
    min/max on every MLPerf Tiny float model and both digits models, where edgec's own min/max lost
    on one (VWW); see examples/ptq_benchmark/README.md. min/max, percentile and KL stay selectable.
    """

    method: str = "mse"
    per_channel: bool = True
    weights: str = "int8"  # int8, int4 or mixed
    weight_method: str = "minmax"  # minmax or mse clipping of weights
    flash_budget: int | None = None  # bytes of weights, for mixed
    bias_correction: bool = False
    equalize: bool = False
    fold_batchnorm: bool = True
    batch_size: int = 32
    show_progress: bool = True

    def describe(self) -> str:
        """The choices in a few words, e.g. ``mse, per-channel, int8``, for naming the quantized model."""
        parts = [self.method, "per-channel" if self.per_channel else "per-tensor", self.weights]
        if self.weights == "mixed":
            parts.append(f"budget {self.flash_budget:,} B")
        if self.weight_method != "minmax":
            parts.append(f"{self.weight_method} weights")
        parts += [name for name, on in (("equalized", self.equalize), ("bias-corrected", self.bias_correction)) if on]
        return ", ".join(parts)

    def check(self) -> None:
        check_method(self.method)
        if self.weights not in WEIGHT_MODES:
            raise UsageError(f"--weights takes one of {', '.join(WEIGHT_MODES)}, not {self.weights!r}")
        if self.weights == "mixed" and self.flash_budget is None:
            raise UsageError("--weights mixed needs --flash-budget N (bytes of weights the model may use)")
        if self.batch_size < 1:
            raise UsageError(f"the batch size must be positive, not {self.batch_size}")


@dataclass
class Quantized:
    """The quantizer's result: the model's bytes and what it chose."""

    tflite: bytes
    model: FloatModel
    ranges: dict[int, tuple[float, float]]
    layers: dict[int, LayerWeights]
    bits: dict[int, int] = field(default_factory=dict)

    @property
    def weight_bytes(self) -> int:
        """Flash bytes of the weights alone (4-bit packed two per byte) plus int32 biases."""
        return sum(lw.weights.nbytes + 4 * lw.bias.size for lw in self.layers.values())


def load_calibration(path: str | Path) -> np.ndarray:
    """A calibration ``.npy``, memory-mapped so that it streams; a UsageError when unreadable."""
    try:
        data = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise UsageError(f"cannot read calibration data {path} as a .npy array: {exc or type(exc).__name__}") from None
    return data


def check_calibration(model: FloatModel, data: np.ndarray) -> np.ndarray:
    """The data as samples x input shape; a UsageError naming the shapes when it does not fit the model."""
    shape = model.input_shape
    sample = math.prod(shape[1:])
    if data.dtype.kind not in "fiu":
        raise UsageError(f"calibration data is {data.dtype}; give float samples of the model's input")
    if data.ndim == 0 or len(data) == 0 or math.prod(data.shape[1:]) != sample:
        raise UsageError(f"calibration data has shape {list(data.shape)}; the model's input is {list(shape)}, so "
                         f"give N samples of shape {list(shape[1:])} (or flattened to {sample} values each)")
    return data


def read_float_model(source: str | Path | bytes) -> FloatModel:
    from .repairs import fold_batchnorm

    return FloatModel.from_graph(fold_batchnorm(read_tflite(source)))


def calibrate(model: FloatModel, data: np.ndarray, options: QuantizeOptions) -> dict[int, tuple[float, float]]:
    """Activation ranges of every activation tensor, streamed over ``data`` in one or two passes."""
    g = model.graph
    tensors = [*g.inputs, *(op.outputs[0] for op in g.operators)]
    cal = Calibrator(tensors, options.method)
    steps = math.ceil(len(data) / options.batch_size)
    for pass_index in range(cal.passes):
        if pass_index:
            cal.next_pass()
        label = "calibrating ranges" if pass_index == 0 else f"histograms ({options.method})"
        for batch in progress(batches(data, options.batch_size), steps, label, options.show_progress):
            model.run(batch, observer=cal.observe)
    return cal.ranges()


def quantize_layers(model: FloatModel, bits: dict[int, int], options: QuantizeOptions) -> dict[int, LayerWeights]:
    """Quantized weights and float bias of every weighted op, with the bits chosen for it."""
    layers = {}
    for op in model.weighted_ops():
        w = model.constants[op.inputs[1]]
        qw: QuantizedWeights = quantize_weights(w, CHANNEL_AXIS[op.op], bits.get(op.index, 8), options.per_channel,
                                                options.weight_method)
        has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
        bias = model.constants[op.inputs[2]] if has_bias else np.zeros(w.shape[CHANNEL_AXIS[op.op]], np.float32)
        layers[op.index] = LayerWeights(qw, np.asarray(bias, dtype=np.float32))
    return layers


BIAS_LIMIT = 2.0 ** 30
"""Largest |bias| in units of ``s_in * s_w``: half of int32, leaving room for the folded zero-point term."""


def fit_biases(model: FloatModel, layers: dict[int, LayerWeights], qparams: dict,
               options: QuantizeOptions) -> dict[int, LayerWeights]:
    """Layers whose weight scales are raised where the quantized bias would exceed :data:`BIAS_LIMIT`."""
    out = dict(layers)
    for op in model.weighted_ops():
        lw = layers[op.index]
        in_scale = float(np.float32(qparams[op.inputs[0]][0]))
        floor = np.abs(lw.bias.astype(np.float64)) / (in_scale * BIAS_LIMIT)
        if np.all(np.broadcast_to(lw.weights.scales, floor.shape) >= floor):
            continue
        qw = quantize_weights(model.constants[op.inputs[1]], CHANNEL_AXIS[op.op], lw.weights.bits, options.per_channel,
                              options.weight_method, min_scales=floor)
        out[op.index] = LayerWeights(qw, lw.bias)
    return out


def quantize(source: str | Path | bytes, data: np.ndarray, options: QuantizeOptions | None = None) -> Quantized:
    """Quantize a float model with calibration data; see the module docstring for the stages."""
    from .mixed import choose_bits
    from .repairs import correct_biases, equalize

    options = options or QuantizeOptions()
    options.check()
    model = read_float_model(source)
    data = check_calibration(model, data)
    if options.equalize:
        model = equalize(model, data, options.batch_size)
    ranges = calibrate(model, data, options)
    if options.weights == "mixed":
        bits = choose_bits(model, data, options)
    else:
        bits = {op.index: 4 if options.weights == "int4" else 8 for op in model.weighted_ops()}
    layers = quantize_layers(model, bits, options)
    if options.bias_correction:
        layers = correct_biases(model, layers, data, options.batch_size)
    qparams = activation_qparams(model, ranges)
    layers = fit_biases(model, layers, qparams, options)
    tflite = write_model(model, qparams, layers)
    return Quantized(tflite, model, ranges, layers, bits)
