"""report.json: what a compiled model costs and what it computed.

Fields (the contract in docs/ARCHITECTURE.md): ``model``, ``target``, ``macs``,
``instructions`` (one inference measured on the emulator; null when not measured),
``flash_bytes`` {total, weights, code, plus model_code and harness: the split of code between the
model with its kernels and the simulation main with start-up and libc}, ``sram_bytes`` {total, arena, static, stack}, and
``layers`` (per op: name, op, macs, arena_bytes = bytes of the arena in use during the op, the
union of the buffers alive then, instructions = null until per-layer profiling exists), and
``arena`` (the memory plan: bytes, graph-order live-set bound, placement strategy, the op at the
peak, kernel calls, and each tiled segment with its band, order and line buffers). Instructions
are a proxy for cycles.
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
                 reference: list[np.ndarray] | None = None) -> dict[str, Any]:
    layers = [
        {"name": op.name, "op": op.kind.name, "macs": op.macs, "arena_bytes": plan.live_bytes(step),
         "instructions": None}
        for step, op in enumerate(program.ops)
    ]
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
        "arena": arena_summary(plan),
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


def write_report(path: Path, report: dict[str, Any]) -> None:
    path.write_text(json.dumps(report, indent=2) + "\n")
