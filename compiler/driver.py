"""The compiler as one script: read, optimise (graph passes), check, lower, plan, emit, build, run, report.

Each function here is a line per stage; the stages live in their own modules. Library
callers (and the CLI) use :func:`compile_model` and :func:`run_model`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import ir
from .codegen.library import write_library_files
from .codegen.model import ModelContext, header_line, write_model_sources
from .codegen.project import write_project_support
from .errors import DoesNotFitError, UsageError
from .fit import plan_for_budget
from .frontend import read_tflite
from .lower import lower
from .passes import optimize
from .reorder import reorder
from .report import build_report, write_report
from .schedule import Plan
from .targets import Target, load_target

MARKER = ".edgec-output"  # marks a directory edgec created, so it may replace it


@dataclass(frozen=True, slots=True)
class Compiled:
    program: ir.Program
    plan: Plan
    context: ModelContext
    target: Target
    outdir: Path


@dataclass(frozen=True, slots=True)
class RunResult:
    compiled: Compiled
    outputs: list[np.ndarray]
    report: dict
    reference: list[np.ndarray] | None

    @property
    def matches_reference(self) -> bool | None:
        if self.reference is None:
            return None
        return all(np.array_equal(a, b) for a, b in zip(self.outputs, self.reference))


def compile_program(model: str | Path | bytes, sram_budget: int | str | None = None, target: Target | None = None,
                    conv_weights: str = "auto", weight_budget: int | None = None) -> tuple[ir.Program, Plan]:
    """Read, optimise (graph passes), lower, order for the least peak, choose the depthwise and conv weight layouts
    for the target (compiler.dw_layout, compiler.conv_layout; none without one), plan; with a budget (bytes or
    "min") tile to fit (compiler.fit)."""
    graph = optimize(read_tflite(model))
    program = reorder(lower(graph))
    if target is not None:
        from . import conv_layout, dw_layout

        program = dw_layout.for_target(program, target)  # first: the conv rule counts the pairs' flash
        program = conv_layout.for_target(program, target, conv_weights, weight_budget)
    plan = plan_for_budget(program, sram_budget)
    return program, plan


def compile_model(model: str | Path | bytes, target: str, outdir: str | Path, *, force: bool = False,
                  sram_budget: int | str | None = None, conv_weights: str = "auto",
                  weight_budget: int | None = None) -> Compiled:
    """Write a self-contained C project for the target into outdir (replaced atomically).

    sram_budget: bytes the arena must fit in (tiling as needed), "min" for the smallest arena, or None.
    conv_weights: "auto", "int8" or "int16", CONV_2D weights widened for the DSP path (compiler.conv_layout);
    weight_budget: bytes the weights may take (auto widens only within it).
    """
    tgt = load_target(target)
    if tgt.is_board:
        raise UsageError(f"{tgt.name} is a board without an emulator: write a firmware project for it with "
                         f"`edgec firmware MODEL --board {tgt.name} -o DIR`")
    program, plan = compile_program(model, sram_budget, tgt, conv_weights, weight_budget)
    check_fit(plan, tgt, None if sram_budget == "min" else sram_budget)
    final = Path(outdir)
    contexts: list[ModelContext] = []

    def fill(staging: Path) -> None:
        contexts.append(write_model_sources(plan, staging))
        write_project_support(staging, tgt, header_line(program))
        write_library_files(staging, tgt, header_line(program))
        write_report(staging / "report.json", build_report(program, plan, tgt, _model_name(model)))

    write_output_dir(final, force, fill, header_line(program))
    return Compiled(program, plan, contexts[0], tgt, final)


def write_output_dir(final: Path, force: bool, fill: Callable[[Path], None], marker_text: str) -> None:
    """Fill a staging directory beside ``final``, mark it as edgec's, and swap it in whole.

    ``final`` must be absent, empty, or an earlier edgec output (``force`` replaces anything); on any
    failure in ``fill`` the staging directory is removed and the previous output is left as it was.
    """
    _check_replaceable(final, force)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        fill(staging)
        (staging / MARKER).write_text(f"{marker_text}\n")
        _replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def run_model(model: str | Path | bytes, target: str, inputs: list[np.ndarray], *, workdir: str | Path | None = None,
              check_reference: bool = True, sanitize: bool = False, sram_budget: int | str | None = None,
              profile: bool = False, conv_weights: str = "auto") -> RunResult:
    """Compile, build, run one inference on the target (one array per model input), and measure it.

    ``profile`` also builds and runs the per-layer profiling program (compiler/profile.py) on QEMU
    targets, so the report's layers carry instructions; the whole-inference count stays the normal
    build's.
    """
    from .build import build
    from .footprint import measure
    from .simulate import run

    with tempfile.TemporaryDirectory(prefix="edgec-run-") as tmp:
        outdir = Path(workdir) if workdir is not None else Path(tmp) / "project"
        compiled = compile_model(model, target, outdir, force=workdir is None, sram_budget=sram_budget,
                                 conv_weights=conv_weights)
        program = compiled.program
        arrays = check_inputs(program, inputs)
        executable = build(outdir, compiled.target, werror=True, sanitize=sanitize)
        sim = run(executable, compiled.target, pack(arrays), sum(program.value(v).nbytes for v in program.outputs))
        outputs = unpack(program, sim.output)
        footprint = measure(executable, compiled.target)
        layer_profile = None
        if profile:
            from .profile import profile_inference

            layer_profile = profile_inference(outdir, compiled.target, pack(arrays), sim.output)
        reference = None
        if check_reference:
            from .reference import run_reference

            reference = run_reference(model if isinstance(model, bytes) else Path(model), arrays, isolated=True)
        report = build_report(program, compiled.plan, compiled.target, _model_name(model), sim=sim,
                              footprint=footprint, outputs=outputs, reference=reference, profile=layer_profile)
        write_report(outdir / "report.json", report)
        return RunResult(compiled, outputs, report, reference)


def pack(arrays: list[np.ndarray]) -> bytes:
    """The generated invoke's input layout: every input's bytes back to back, in model order."""
    return b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)


def unpack(program: ir.Program, data: bytes) -> list[np.ndarray]:
    """Split invoke's packed output bytes into one array per model output."""
    outputs, at = [], 0
    for vid in program.outputs:
        v = program.value(vid)
        outputs.append(np.frombuffer(data[at:at + v.nbytes], dtype=v.dtype.value).reshape(v.shape).copy())
        at += v.nbytes
    return outputs


def check_fit(plan: Plan, target: Target, sram_budget: int | None) -> None:
    """Arena and weights against the user's budget and the target's SRAM and flash, before anything is written.

    The linker checks the whole image again when it places the sections into the target's regions.
    """
    arena = plan.arena_bytes
    if sram_budget is not None and arena > int(sram_budget):
        raise DoesNotFitError(
            f"the activation arena needs {arena:,} bytes, {arena - int(sram_budget):,} more than the --sram-budget "
            f"of {int(sram_budget):,}")
    weights = plan.program.constant_bytes
    if target.flash_bytes is not None and weights > target.flash_bytes:
        raise DoesNotFitError(
            f"the weights need {weights:,} bytes, {weights - target.flash_bytes:,} more than the "
            f"{target.flash_bytes:,} bytes of flash on {target.name}; choose a target with more flash")
    if target.sram_bytes is not None:
        parts = sram_parts(plan, target)
        need = sum(parts.values())
        if need > target.sram_bytes:
            detail = " + ".join(f"{what} {n:,}" for what, n in parts.items() if n)
            raise DoesNotFitError(
                f"SRAM needs {need:,} bytes ({detail}), {need - target.sram_bytes:,} more than the "
                f"{target.sram_bytes:,} bytes of SRAM on {target.name}; choose a target with more SRAM, or lower the "
                "arena with --sram-budget")
    from .capacity import check_flash_fit

    check_flash_fit(plan, target)


def sram_parts(plan: Plan, target: Target) -> dict[str, int]:
    """What the image reserves in SRAM before it runs: the arena, the linker's stack and heap, the I/O copies.

    The I/O copies are the simulation main's buffers for the packed input and output. libc's own
    .data/.bss (a few hundred bytes with newlib) is not known before linking; the linker checks it,
    except on targets whose file records it as ``harness_sram_bytes`` (measured; 3 KB on the micro:bit).
    """
    program = plan.program
    io = sum(program.value(v).nbytes for v in (*program.inputs, *program.outputs))
    return {"arena": plan.arena_bytes, "stack": target.stack_bytes or 0, "heap": target.heap_bytes or 0,
            "input/output buffers": io, "harness data": target.harness_sram_bytes}


def _model_name(model: str | Path | bytes) -> str:
    from .modelname import model_label

    return model_label(model)


def check_inputs(program: ir.Program, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The user's arrays, checked against the model's inputs (count, dtype, element count) and reshaped."""
    if len(inputs) != len(program.inputs):
        raise UsageError(f"the model takes {len(program.inputs)} input(s), {len(inputs)} given")
    checked = []
    for array, vid in zip(inputs, program.inputs):
        value = program.value(vid)
        array = np.asarray(array)
        want = f"{value.dtype.value} {list(value.shape)}"
        if array.dtype != np.dtype(value.dtype.value):
            raise UsageError(f"input {value.name!r} is {array.dtype}, the model takes {want}")
        if array.shape != value.shape:
            if array.size != value.size:
                raise UsageError(f"input {value.name!r} has shape {list(array.shape)}, the model takes {want}")
            array = array.reshape(value.shape)
        checked.append(np.ascontiguousarray(array))
    return checked


def _check_replaceable(final: Path, force: bool) -> None:
    if not final.exists():
        return
    if not final.is_dir():
        raise UsageError(f"{final} exists and is not a directory; choose another -o")
    if any(final.iterdir()) and not (final / MARKER).exists() and not force:
        raise UsageError(f"{final} is not empty and was not written by edgec; choose another -o, or --force "
                         "to replace it")


def _replace(staging: Path, final: Path) -> None:
    """Move the finished staging directory into place; the old output survives any failure before the swap."""
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        final.rename(old)
        staging.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(final)
