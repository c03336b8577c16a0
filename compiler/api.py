"""The Python API: the CLI's commands as functions that return typed results.

``compile``, ``run``, ``inspect``, ``load_report`` and ``list_targets`` mirror ``edgec compile``, ``edgec run``,
``edgec inspect``, ``edgec report`` and ``edgec targets`` (``report`` and ``targets`` are the names of
modules of the package, hence the longer names); they are re-exported from the package
(``import compiler; compiler.run(...)``). Errors are the CLI's: :class:`compiler.errors.CompilerError`
subclasses with a message that names the problem and the way out. Every result keeps the full
report.json dict in ``.report``; the typed fields are read from it, so the two never disagree.

There is no typed ``quantize`` wrapper yet (``compiler.quantize`` is the quantizer's subpackage): use
``compiler.quantize.pipeline.quantize(model, data).tflite``, whose bytes the functions here accept.

Each function's docstring holds a runnable example (run from the repository's top folder;
tests/test_api.py runs them all, and docs/API.md repeats them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CompileResult", "Layer", "ModelInfo", "RunResult", "TargetInfo", "compile", "inspect", "list_targets",
           "load_report", "run"]


@dataclass(frozen=True, slots=True)
class Layer:
    """One op of the lowered program, as report.json's ``layers`` describes it."""

    index: int
    name: str
    op: str
    output_shape: tuple[int, ...]
    macs: int
    weight_bytes: int
    arena_bytes: int  # bytes of arena buffers alive while it runs
    instructions: int | None  # measured by a profiling run on QEMU; None otherwise

    @classmethod
    def from_report(cls, index: int, entry: dict[str, Any]) -> Layer:
        return cls(index, entry["name"], entry["op"], tuple(entry.get("output_shape", ())), entry["macs"],
                   entry.get("weight_bytes", 0), entry["arena_bytes"], entry.get("instructions"))


def _layers(report: dict[str, Any]) -> tuple[Layer, ...]:
    return tuple(Layer.from_report(i, e) for i, e in enumerate(report["layers"]))


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What :func:`inspect` found: the model's layers, work and memory plan (no target involved)."""

    name: str
    macs: int
    weight_bytes: int
    arena_bytes: int
    sram_peak_layer: Layer  # the op where the most arena bytes are alive at once
    layers: tuple[Layer, ...]
    report: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CompileResult:
    """What :func:`compile` wrote: a C project for one target, with its report.json."""

    output_dir: Path
    target: str
    macs: int
    weight_bytes: int
    arena_bytes: int
    layers: tuple[Layer, ...]
    report: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RunResult:
    """What :func:`run` measured: one inference on the target (or a report read back by :func:`load_report`)."""

    target: str
    outputs: tuple[np.ndarray, ...]  # empty for a report read from a file
    prediction: int | None  # argmax of the first output
    matches_reference: bool | None  # None when the reference interpreter was not run
    instructions: int | None  # whole inference, counted on QEMU (a proxy for cycles); None on the host
    flash_bytes: int | None  # linked image: weights + code
    sram_bytes: int | None  # arena + static + stack
    layers: tuple[Layer, ...]
    report: dict[str, Any]

    @property
    def dominant_layer(self) -> Layer | None:
        """The layer with the most instructions (None when layers were not profiled)."""
        measured = [layer for layer in self.layers if layer.instructions is not None]
        return max(measured, key=lambda layer: layer.instructions or 0) if measured else None

    @property
    def sram_peak_layer(self) -> Layer:
        """The op where the most arena bytes are alive at once."""
        return self.layers[self.report["arena"]["peak_step"]]

    def write_html(self, path: str | Path) -> Path:
        """Write the self-contained HTML report (what `edgec report --html` writes)."""
        from .report_html import write_html

        write_html(Path(path), self.report)
        return Path(path)


@dataclass(frozen=True, slots=True)
class TargetInfo:
    name: str
    kind: str  # "qemu" or "host"
    description: str
    flash_bytes: int | None
    sram_bytes: int | None


def inspect(model: str | Path | bytes) -> ModelInfo:
    """The per-layer table of a model, like `edgec inspect`.

    >>> import compiler
    >>> info = compiler.inspect("examples/tiny_cnn/tiny_cnn.tflite")
    >>> len(info.layers), info.macs, info.arena_bytes
    (8, 27216, 2560)
    >>> info.sram_peak_layer.op
    'DEPTHWISE_CONV_2D'
    """
    from .driver import compile_program
    from .report import build_report
    from .targets import DEFAULT_TARGET, load_target

    program, plan = compile_program(model)
    from .modelname import model_label

    rep = build_report(program, plan, load_target(DEFAULT_TARGET), model_label(model))
    layers = _layers(rep)
    peak = layers[rep["arena"]["peak_step"]]
    return ModelInfo(program.name, program.macs, program.constant_bytes, plan.arena_bytes, peak, layers, rep)


def compile(model: str | Path | bytes, output_dir: str | Path, *, target: str | None = None,
            sram_budget: int | None = None, force: bool = False) -> CompileResult:
    """Write a self-contained C project for a target, like `edgec compile`.

    >>> import compiler, tempfile
    >>> out = tempfile.mkdtemp() + "/tiny"
    >>> project = compiler.compile("examples/tiny_cnn/tiny_cnn.tflite", out, target="mps2-an386")
    >>> (project.output_dir / "model.c").is_file(), project.arena_bytes, project.weight_bytes
    (True, 2560, 1672)

    (On the Cortex-M4 the CONV_2D weights are widened to int16, compiler/conv_layout.py, and the 3x3 depthwise
    layer also carries its table of int16 weight pairs and requantization constants, compiler/dw_layout.py.)
    """
    from .driver import compile_model
    from .report import read_report
    from .targets import DEFAULT_TARGET

    compiled = compile_model(model, target or DEFAULT_TARGET, output_dir, force=force, sram_budget=sram_budget)
    rep = read_report(compiled.outdir)
    return CompileResult(compiled.outdir, compiled.target.name, compiled.program.macs,
                         compiled.program.constant_bytes, compiled.plan.arena_bytes, _layers(rep), rep)


def run(model: str | Path | bytes, inputs: list[np.ndarray] | None = None, *, target: str | None = None,
        profile: bool = True, check_reference: bool = True, keep: str | Path | None = None,
        sram_budget: int | None = None) -> RunResult:
    """Compile, build and run one inference on the target and measure it, like `edgec run`.

    ``inputs``: one array per model input (default: every input at its zero point). ``profile``
    also times every layer on QEMU targets (a second build; the whole-inference count is the
    normal build's). ``keep``: a directory for the generated project (default: a temporary one).

    >>> import compiler, numpy as np
    >>> x = np.load("examples/tiny_cnn/input.npy")
    >>> result = compiler.run("examples/tiny_cnn/tiny_cnn.tflite", [x], target="mps2-an386")
    >>> result.matches_reference, result.prediction
    (True, 7)
    >>> sum(layer.instructions for layer in result.layers) < result.instructions
    True
    >>> result.dominant_layer.op, result.sram_peak_layer.op
    ('CONV_2D', 'DEPTHWISE_CONV_2D')
    """
    from .cli import _load_inputs
    from .driver import run_model
    from .targets import DEFAULT_TARGET

    arrays = _load_inputs(None, model) if inputs is None else list(inputs)  # type: ignore[arg-type]
    done = run_model(model, target or DEFAULT_TARGET, arrays, workdir=keep, check_reference=check_reference,
                     sram_budget=sram_budget, profile=profile)
    return _result(done.report, tuple(done.outputs))


def _result(rep: dict[str, Any], outputs: tuple[np.ndarray, ...]) -> RunResult:
    entries = rep.get("outputs") or [{}]
    matches = [e["matches_reference"] for e in rep.get("outputs", []) if "matches_reference" in e]
    return RunResult(rep["target"], outputs, entries[0].get("argmax"), all(matches) if matches else None,
                     rep["instructions"], rep["flash_bytes"]["total"], rep["sram_bytes"]["total"], _layers(rep), rep)


def load_report(path: str | Path) -> RunResult:
    """Read a report.json (or a project directory holding one), like `edgec report`.

    >>> import compiler, tempfile
    >>> out = compiler.compile("examples/tiny_cnn/tiny_cnn.tflite", tempfile.mkdtemp() + "/p").output_dir
    >>> r = compiler.load_report(out)
    >>> r.instructions is None, r.layers[0].op, r.sram_peak_layer.index
    (True, 'CONV_2D', 1)
    """
    from .report import read_report

    return _result(read_report(Path(path)), ())


def list_targets() -> list[TargetInfo]:
    """The targets edgec knows, like `edgec targets`.

    >>> import compiler
    >>> t = {t.name: t for t in compiler.list_targets()}
    >>> t["mps2-an386"].kind, t["host"].kind
    ('qemu', 'host')
    """
    from .targets import list_targets as _all

    return [TargetInfo(t.name, t.kind, t.description, t.flash_bytes, t.sram_bytes) for t in _all()]
