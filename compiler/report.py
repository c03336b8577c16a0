"""report.json: what a compiled model costs and what it computed.

Fields (the contract in docs/ARCHITECTURE.md): ``model``, ``target``, ``macs``,
``instructions`` (one inference measured on the emulator; null when not measured),
``flash_bytes`` {total, weights, code, plus model_code and harness: the split of code between the
model with its kernels and the simulation main with start-up and libc}, ``sram_bytes`` {total, arena, static, stack}, and
``layers`` (per op: name, op, macs, arena_bytes = bytes of the arena in use during the op, the
union of the buffers alive then, instructions = measured per layer by a profiling run
(compiler/profile.py; null otherwise), weight_bytes = the op's constants in flash,
instructions_per_mac, output_shape, weight_layout = a CONV_2D's weights: "ohwi" int8 or "w16" widened to int16,
compiler/conv_layout.py; null for other ops), and ``arena`` (the memory plan: bytes, graph-order live-set
bound, placement strategy, the op at the peak, kernel calls, each tiled segment with its band,
order and line buffers, and ``buffers``: per buffer the values stored in it (none for a line
buffer: ``line_of`` names the value whose rows it holds), offset, bytes, first and last op; first
-1 = a model input, last = len(layers) = a model output). ``capacity`` is the target's flash and
SRAM bytes (null where unbounded), ``target_description`` its one-line description, ``profile``
how the per-layer counts were taken (null without a profiling run). Instructions are a proxy for
cycles.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, analysis, ir
from .calls import row_bytes
from .schedule import Plan
from .targets import Target


def build_report(program: ir.Program, plan: Plan, target: Target, model: str, *, sim: Any = None,
                 footprint: Any = None, outputs: list[np.ndarray] | None = None,
                 reference: list[np.ndarray] | None = None, profile: Any = None) -> dict[str, Any]:
    layers = [
        {"name": op.name, "op": op.kind.name, "macs": op.macs, "arena_bytes": plan.live_bytes(step),
         "instructions": None, "weight_bytes": sum(a.nbytes for a in op.constants.values()),
         "instructions_per_mac": None, "output_shape": list(program.value(op.outputs[0]).shape),
         "weight_layout": op.weight_layout if isinstance(op, ir.Conv2D) else None}
        for step, op in enumerate(program.ops)
    ]
    if profile is not None:
        for layer, instructions in zip(layers, profile.layers):
            layer["instructions"] = instructions
            if layer["macs"]:
                layer["instructions_per_mac"] = round(instructions / layer["macs"], 3)
    report: dict[str, Any] = {
        "edgec_version": __version__,
        "model": model,
        "model_sha256": program.source_sha256,
        "target": target.name,
        "macs": program.macs,
        "instructions": None,
        "instructions_per_mac": None,
        "flash_bytes": {"total": None, "weights": program.constant_bytes, "code": None},
        "sram_bytes": {"total": None, "arena": plan.arena_bytes, "static": None, "stack": None},
        "arena": {**arena_summary(plan), "buffers": _buffers(plan)},
        "capacity": {"flash_bytes": target.flash_bytes, "sram_bytes": target.sram_bytes},
        "target_description": target.description,
        "profile": None if profile is None else profile.as_dict(),
        "layers": layers,
        "warnings": analysis.warnings(program),
    }
    if footprint is not None:
        # code = everything but weights; model_code = the model and its kernels; harness = the simulation
        # main, start-up and libc (printf and semihosting dominate it: a product firmware has its own).
        report["flash_bytes"] = {"total": footprint.flash_total, "weights": footprint.flash_weights,
                                 "code": footprint.flash_code, "model_code": footprint.flash_model_code,
                                 "harness": footprint.flash_harness}
        static = footprint.data + footprint.bss - plan.arena_bytes
        report["sram_bytes"]["static"] = static
    if sim is not None:
        report["instructions"] = sim.instructions
        if sim.instructions is not None and program.macs:
            report["instructions_per_mac"] = round(sim.instructions / program.macs, 3)
        report["sram_bytes"]["stack"] = sim.stack_bytes
        if report["sram_bytes"]["static"] is not None and sim.stack_bytes is not None:
            report["sram_bytes"]["total"] = plan.arena_bytes + report["sram_bytes"]["static"] + sim.stack_bytes
    if outputs is not None:
        report["outputs"] = [{"shape": list(o.shape), "dtype": str(o.dtype), "argmax": int(np.argmax(o))}
                             for o in outputs]
        if reference is not None:
            for entry, ours, ref in zip(report["outputs"], outputs, reference):
                entry["matches_reference"] = bool(np.array_equal(ours, ref))
    return report


def arena_summary(plan: Plan) -> dict[str, Any]:
    """The memory plan: arena, graph-order live-set bound, the op at the arena's peak, and every tiled segment."""
    program = plan.program
    return {
        "bytes": plan.arena_bytes, "live_bound": plan.live_bound, "strategy": plan.strategy,
        "peak_op": program.ops[plan.peak_op].name if program.ops else None,
        "peak_step": plan.peak_op if program.ops else None,
        "kernel_calls": sum(1 for e in plan.entries if not hasattr(e, "src")),
        "tiles": [{"ops": [program.ops[i].name for i in t.segment.ops], "first_step": t.segment.first,
                   "last_step": t.segment.last, "band_rows": t.segment.band, "order": t.direction,
                   "output_shares_input": t.shared,
                   "line_buffer_bytes": {program.value(v).name: n * row_bytes(program.value(v))
                                         for v, n in t.front.line_rows.items()}}
                  for t in plan.tiles],
    }


def _buffers(plan: Plan) -> list[dict[str, Any]]:
    """The plan's arena buffers, for the memory timeline (each a bar at its offset over its lifetime)."""
    values = plan.program.values
    return [{"values": [values[v].name for v in b.values], "offset": b.offset, "size": b.size, "first": b.first,
             "last": b.last, **({"line_of": values[b.line_of].name} if b.line_of >= 0 else {})}
            for b in plan.buffers]


def write_report(path: Path, report: dict[str, Any]) -> None:
    path.write_text(json.dumps(report, indent=2) + "\n")


def read_report(path: Path) -> dict[str, Any]:
    """A report.json, or the one inside a compiled project directory; UsageError when neither reads."""
    from .errors import UsageError

    path = Path(path)
    if path.is_dir():
        path = path / "report.json"
    try:
        report = json.loads(path.read_text())
    except OSError as exc:
        raise UsageError(f"cannot read report {path}: {exc.strerror or exc}; pass a report.json or the directory "
                         "`edgec compile -o` wrote") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not a report.json (not JSON: {exc})") from None
    if not isinstance(report, dict) or not {"model", "target", "layers", "flash_bytes", "sram_bytes"} <= set(report):
        raise UsageError(f"{path} is not an edgec report.json (fields model, target, layers, ... missing)")
    return report
