"""The reference interpreter: TFLite's own reference kernels, the ground truth edgec must match bit for bit.

:func:`run_reference` runs a model with ``ai_edge_litert``'s interpreter using the BUILTIN_REF op
resolver (the portable reference kernels, no optimized paths or delegates), single-threaded.
:func:`input_details` and :func:`output_details` describe a model's I/O tensors.

Beware: for some quantization parameters TFLite does not return an error but aborts the whole
process (e.g. an int8 ADD whose output rescale multiplier is >= 1 fails a CHECK while tensors are
allocated). Pass ``isolated=True`` to :func:`run_reference` to run in a child process and get a
``ModelFileError`` instead, at the cost of starting a Python process.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from compiler.errors import ModelFileError, UsageError

ModelSource = bytes | bytearray | str | Path
"""A model: the ``.tflite`` file's bytes or its path."""


@dataclass(frozen=True)
class TensorDetails:
    """One input or output tensor of a model as the interpreter sees it."""

    name: str
    index: int
    shape: tuple[int, ...]
    dtype: np.dtype
    scales: tuple[float, ...]
    """Quantization scales: empty when not quantized, one per tensor, or one per channel."""
    zero_points: tuple[int, ...]
    quantized_dimension: int

    @property
    def scale(self) -> float | None:
        """The per-tensor scale, or None when the tensor is not quantized per tensor."""
        return self.scales[0] if len(self.scales) == 1 else None

    @property
    def zero_point(self) -> int | None:
        """The per-tensor zero point, or None when the tensor is not quantized per tensor."""
        return self.zero_points[0] if len(self.zero_points) == 1 else None


def _describe(model: ModelSource) -> str:
    """How to name the model in messages: its path, or its label (``<bytes>`` when it has none)."""
    from .modelname import model_label

    return model_label(model)


def _interpreter(model: ModelSource) -> Any:
    """A reference-kernel interpreter for the model (tensors not yet allocated)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kwargs: dict[str, Any] = {"num_threads": 1, "experimental_op_resolver_type": OpResolverType.BUILTIN_REF}
    if isinstance(model, str | Path):
        path = Path(model)
        if not path.is_file():
            raise ModelFileError(str(path), "open", "no such file")
        source: dict[str, Any] = {"model_path": str(path)}
    elif isinstance(model, bytes | bytearray):
        source = {"model_content": bytes(model)}
    else:
        raise TypeError(f"a model is bytes or a path, not {type(model).__name__}")
    try:
        return Interpreter(**source, **kwargs)
    except (ValueError, RuntimeError) as exc:
        raise ModelFileError(_describe(model), "load into the reference interpreter", str(exc).strip()) from exc


def _details(raw: dict[str, Any]) -> TensorDetails:
    """Our view of one entry of the interpreter's get_input_details()/get_output_details()."""
    quant = raw["quantization_parameters"]
    return TensorDetails(
        name=raw["name"],
        index=int(raw["index"]),
        shape=tuple(int(d) for d in raw["shape"]),
        dtype=np.dtype(raw["dtype"]),
        scales=tuple(float(s) for s in quant["scales"]),
        zero_points=tuple(int(z) for z in quant["zero_points"]),
        quantized_dimension=int(quant["quantized_dimension"]),
    )


def input_details(model: ModelSource) -> list[TensorDetails]:
    """The model's input tensors, in input order."""
    return [_details(d) for d in _interpreter(model).get_input_details()]


def output_details(model: ModelSource) -> list[TensorDetails]:
    """The model's output tensors, in output order."""
    return [_details(d) for d in _interpreter(model).get_output_details()]


def run_reference(model: ModelSource, inputs: list[np.ndarray], *, isolated: bool = False) -> list[np.ndarray]:
    """Run the model once on ``inputs`` (one array per model input, exact shape and dtype).

    Returns copies of the outputs in the model's output order. Raises ``UsageError`` when the
    inputs do not match the model, ``ModelFileError`` when the interpreter rejects the model.
    With ``isolated`` the run happens in a child process, so an abort inside TFLite becomes a
    ``ModelFileError`` rather than the end of this process.
    """
    if isolated:
        return _run_isolated(model, inputs)
    interpreter = _interpreter(model)
    expected = interpreter.get_input_details()
    if len(inputs) != len(expected):
        raise UsageError(f"{_describe(model)} takes {len(expected)} input(s), got {len(inputs)}")
    for position, (array, detail) in enumerate(zip(inputs, expected, strict=True)):
        array = np.asarray(array)
        want_shape = tuple(int(d) for d in detail["shape"])
        want_dtype = np.dtype(detail["dtype"])
        if array.shape != want_shape or array.dtype != want_dtype:
            raise UsageError(
                f"input {position} ({detail['name']!r}) of {_describe(model)} must be {want_dtype} "
                f"of shape {want_shape}, got {array.dtype} of shape {array.shape}"
            )
    try:
        interpreter.allocate_tensors()
        for array, detail in zip(inputs, expected, strict=True):
            interpreter.set_tensor(detail["index"], np.ascontiguousarray(array))
        interpreter.invoke()
    except (ValueError, RuntimeError) as exc:
        raise ModelFileError(_describe(model), "run in the reference interpreter", str(exc).strip()) from exc
    return [np.array(interpreter.get_tensor(d["index"]), copy=True) for d in interpreter.get_output_details()]


def _child_run(model: ModelSource, inputs: list[np.ndarray]) -> tuple[str, Any]:
    """The child's side of an isolated run: outputs, or the error as plain data (our errors do not pickle)."""
    try:
        return "ok", run_reference(model, inputs)
    except UsageError as exc:
        return "usage", str(exc)
    except ModelFileError as exc:
        return "model", (exc.step, exc.detail)


def _run_isolated(model: ModelSource, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """run_reference in a freshly spawned process; a crash of that process becomes a ModelFileError."""
    if isinstance(model, bytearray):
        model = bytes(model)
    arrays = [np.asarray(a) for a in inputs]
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            kind, payload = pool.submit(_child_run, model, arrays).result()
        except BrokenProcessPool:
            raise ModelFileError(
                _describe(model),
                "run in the reference interpreter",
                "TFLite aborted the process (it does so for some invalid quantization parameters, "
                "e.g. an int8 ADD whose output scale is too small for its inputs)",
            ) from None
    if kind == "usage":
        raise UsageError(payload)
    if kind == "model":
        raise ModelFileError(_describe(model), *payload)
    return payload
