"""Evaluate a quantized model against its float original: per-layer and output SQNR, top-1 agreement, accuracy.

The quantized model runs in TFLite's reference interpreter (BUILTIN_REF kernels, every
intermediate tensor preserved), one sample at a time on the float samples quantized with the
model's input parameters; each activation is dequantized and compared with the float
interpreter's value of the tensor of the same name. SQNR is accumulated over all samples
(signal and noise energies summed, then the ratio).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageError
from ..frontend import read_tflite
from .floatexec import FloatModel, batches
from .metrics import sqnr_db
from .progress import progress


@dataclass
class Evaluation:
    """What :func:`evaluate` measured."""

    samples: int
    output_sqnr_db: float
    top1_agreement: float
    accuracy: float | None
    float_accuracy: float | None
    layers: list[tuple[str, str, float]] = field(default_factory=list)  # (op, output name, SQNR dB)

    def lines(self) -> list[str]:
        out = [f"{'op':18s} {'SQNR dB':>8}  output tensor"]
        out += [f"{op:18s} {s:8.2f}  {name[:70]}" for op, name, s in self.layers]
        out.append(f"output SQNR vs float: {self.output_sqnr_db:.2f} dB over {self.samples} samples")
        out.append(f"top-1 agreement with float: {100 * self.top1_agreement:.2f}%")
        if self.accuracy is not None:
            out.append(f"accuracy: {100 * self.accuracy:.2f}% (float model {100 * (self.float_accuracy or 0):.2f}%)")
        return out


class _Energy:
    def __init__(self) -> None:
        self.signal = 0.0
        self.noise = 0.0

    def add(self, ref: np.ndarray, approx: np.ndarray) -> None:
        ref = ref.astype(np.float64)
        self.signal += float(np.sum(ref ** 2))
        self.noise += float(np.sum((ref - approx) ** 2))

    @property
    def db(self) -> float:
        if self.noise == 0:
            return math.inf
        return 10 * math.log10(self.signal / self.noise) if self.signal > 0 else -math.inf


def quantized_interpreter(tflite: bytes):  # type: ignore[no-untyped-def]
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=tflite, num_threads=1, experimental_preserve_all_tensors=True,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    return it


def _dequantize(it, detail: dict) -> np.ndarray:  # type: ignore[no-untyped-def]
    q = it.get_tensor(detail["index"]).astype(np.float64)
    scale, zp = detail["quantization"]
    return (q - zp) * scale if scale else q


def quantize_input(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)


def evaluate(model: FloatModel, tflite: bytes, data: np.ndarray, labels: np.ndarray | None = None,
             show_progress: bool = True, batch_size: int = 32) -> Evaluation:
    """Compare the int8 model with the float model on ``data`` (and ``labels``, class indices)."""
    if labels is not None and len(labels) != len(data):
        raise UsageError(f"{len(labels)} labels for {len(data)} evaluation samples; give one label per sample")
    it = quantized_interpreter(tflite)
    qgraph = read_tflite(tflite)
    details = {d["name"]: d for d in it.get_tensor_details()}
    inp = it.get_input_details()[0]
    out_name = qgraph.tensor(qgraph.outputs[0]).name
    g = model.graph
    watched = [(op.op, g.tensor(op.outputs[0]).name, op.outputs[0]) for op in g.operators
               if g.tensor(op.outputs[0]).name in details]
    energy = {name: _Energy() for _, name, _ in watched}
    out_energy = _Energy()
    agree = correct = float_correct = 0
    steps = math.ceil(len(data) / batch_size)
    done = 0
    for batch in progress(batches(data, batch_size), steps, "evaluating", show_progress):
        values = model.run(batch)
        xq = quantize_input(batch, *inp["quantization"])
        for k in range(len(batch)):
            it.set_tensor(inp["index"], xq[k:k + 1].reshape(inp["shape"]))
            it.invoke()
            for _, name, tid in watched:
                energy[name].add(values[tid][k], _dequantize(it, details[name]).reshape(values[tid][k].shape))
            ref = values[g.outputs[0]][k].ravel()
            got = _dequantize(it, details[out_name]).ravel()
            out_energy.add(ref, got)
            agree += int(np.argmax(ref) == np.argmax(got))
            if labels is not None:
                correct += int(np.argmax(got) == int(labels[done + k]))
                float_correct += int(np.argmax(ref) == int(labels[done + k]))
        done += len(batch)
    n = len(data)
    return Evaluation(
        samples=n, output_sqnr_db=out_energy.db, top1_agreement=agree / n,
        accuracy=None if labels is None else correct / n,
        float_accuracy=None if labels is None else float_correct / n,
        layers=[(op, name, energy[name].db) for op, name, _ in watched])


__all__ = ["Evaluation", "evaluate", "quantize_input", "quantized_interpreter", "sqnr_db"]
