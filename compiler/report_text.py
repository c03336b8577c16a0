"""Plain-text views of report.json for the terminal: a summary with capacity bars, the per-layer
table, the model x target table, and a progress line for long work.

Plain text (no colour library): the output reads the same in a terminal, a CI log and a file.
Every number comes from the report dict; nothing is recomputed here except shares and sums.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

BAR_WIDTH = 30


def bar(used: int | None, capacity: int | None, width: int = BAR_WIDTH) -> str:
    """``[#####.....]  41.2% of 256.0 KiB`` for used against capacity; a note where either is unknown."""
    if used is None:
        return "(not measured)"
    if not capacity:
        return "(the target sets no limit)"
    share = used / capacity
    filled = min(width, round(share * width))
    over = " OVER CAPACITY" if used > capacity else ""
    return f"[{'#' * filled}{'.' * (width - filled)}] {share * 100:5.1f}% of {kib(capacity)}{over}"


def kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


def summary(report: dict[str, Any]) -> str:
    """The compact summary `edgec run` and `edgec compile` print: prediction, instructions, flash and SRAM bars."""
    lines = [f"model        {report['model']}  ->  {report['target']}"]
    for entry in report.get("outputs", []):
        match = entry.get("matches_reference")
        ref = "" if match is None else ("  (bit-identical to TFLite's reference)" if match else "  (DIFFERS from the reference)")
        lines.append(f"prediction   class {entry['argmax']}{ref}")
    instr = report["instructions"]
    if instr is not None:
        lines.append(f"instructions {instr:,} per inference, {report['instructions_per_mac']} per MAC "
                     "(counted on QEMU; a proxy for cycles)")
    top = dominant_layer(report)
    if top is not None and instr:
        i, layer = top
        lines.append(f"top layer    #{i} {layer['op']} with {layer['instructions']:,} instructions "
                     f"({layer['instructions'] / instr * 100:.1f}%)")
    cap = report.get("capacity", {})
    flash = report["flash_bytes"]
    flash_used = flash["total"] if flash["total"] is not None else flash["weights"]
    what = "total" if flash["total"] is not None else "weights only, before linking"
    lines.append(f"flash        {flash_used:>9,} B {bar(flash_used, cap.get('flash_bytes'))}  ({what})")
    sram = report["sram_bytes"]
    sram_used = sram["total"] if sram["total"] is not None else sram["arena"]
    what = "arena + static + stack" if sram["total"] is not None else "arena only"
    lines.append(f"sram         {sram_used:>9,} B {bar(sram_used, cap.get('sram_bytes'))}  ({what})")
    arena = report.get("arena", {})
    if arena.get("peak_op") is not None:
        name = arena["peak_op"] if len(arena["peak_op"]) <= 60 else arena["peak_op"][:57] + "..."
        peak = report["layers"][arena["peak_step"]]
        lines.append(f"sram peak    at op #{arena['peak_step']} {peak['op']} ({peak['arena_bytes']:,} B alive): {name}")
    return "\n".join(lines)


def dominant_layer(report: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """(index, layer) with the most instructions, or None when layers were not profiled."""
    measured = [(i, layer) for i, layer in enumerate(report["layers"]) if layer.get("instructions") is not None]
    if not measured:
        return None
    return max(measured, key=lambda item: item[1]["instructions"])


def _num(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else str(value)


def layer_table(report: dict[str, Any], name_width: int = 40) -> str:
    """The per-layer table of `edgec report`: ops, MACs, bytes, instructions and their share.

    ``>`` marks the layer with the most instructions; ``^`` the op where the arena is fullest.
    """
    layers = report["layers"]
    total = report["instructions"]
    top = dominant_layer(report)
    peak = report.get("arena", {}).get("peak_step")
    header = (f"  {'#':>3} {'op':18s} {'output':14s} {'MACs':>12} {'weights B':>10} {'arena B':>9} "
              f"{'instructions':>13} {'share':>6} {'instr/MAC':>9}  name")
    rows = [f"{report['model']} on {report['target']}: {len(layers)} layers", header]
    for i, layer in enumerate(layers):
        mark = ">" if top is not None and top[0] == i else ("^" if peak == i else " ")
        if top is not None and top[0] == i and peak == i:
            mark = "*"
        instr = layer.get("instructions")
        share = f"{instr / total * 100:5.1f}%" if instr is not None and total else "-"
        shape = "x".join(str(d) for d in layer.get("output_shape", []))
        name = layer["name"] if len(layer["name"]) <= name_width else layer["name"][:name_width - 3] + "..."
        op = layer["op"] + (" w16" if layer.get("weight_layout") == "w16" else "")
        rows.append(f"{mark} {i:3d} {op:18s} {shape:14s} {layer['macs']:12,} {_num(layer.get('weight_bytes')):>10} "
                    f"{layer['arena_bytes']:9,} {_num(instr):>13} {share:>6} {_num(layer.get('instructions_per_mac')):>9}  {name}")
    rows.append(_footer(report, top, peak))
    return "\n".join(rows)


def _footer(report: dict[str, Any], top: tuple[int, dict[str, Any]] | None, peak: int | None) -> str:
    notes = []
    if top is not None:
        notes.append(f"> most instructions: #{top[0]} {top[1]['op']}")
    else:
        notes.append("instructions per layer not measured (profile with `edgec run` on a QEMU target)")
    if peak is not None:
        notes.append(f"^ SRAM peak: #{peak} ({report['arena']['bytes']:,} B arena)")
    prof = report.get("profile")
    if prof:
        notes.append(f"outside layers (input/output copies): {prof['outside_layers']:,} instructions; "
                     f"per-layer resolution +/-{prof['instructions_per_tick']:g}")
    return "  " + "; ".join(notes)


def targets_table(reports: list[dict[str, Any]]) -> str:
    """One row per (model, target): instructions, flash, SRAM, and whether it fits."""
    header = f"{'model':28s} {'target':14s} {'instructions':>13} {'flash B':>10} {'SRAM B':>9}  fits"
    rows = [header]
    for r in reports:
        name = r["model"].rsplit("/", 1)[-1]
        name = name if len(name) <= 28 else name[:25] + "..."
        if "error" in r:
            rows.append(f"{name:28s} {r['target']:14s} {'-':>13} {'-':>10} {'-':>9}  no: {r['error']}")
            continue
        flash = r["flash_bytes"]["total"] or r["flash_bytes"]["weights"]
        sram = r["sram_bytes"]["total"] or r["sram_bytes"]["arena"]
        rows.append(f"{name:28s} {r['target']:14s} {_num(r['instructions']):>13} {flash:10,} {sram:9,}  {fits(r)}")
    return "\n".join(rows)


def fits(report: dict[str, Any]) -> str:
    """``yes`` when flash and SRAM are within the target's capacity (or it sets none)."""
    cap = report.get("capacity", {})
    flash = report["flash_bytes"]["total"] or report["flash_bytes"]["weights"]
    sram = report["sram_bytes"]["total"] or report["sram_bytes"]["arena"]
    over = []
    if cap.get("flash_bytes") and flash > cap["flash_bytes"]:
        over.append("flash")
    if cap.get("sram_bytes") and sram > cap["sram_bytes"]:
        over.append("SRAM")
    return "yes" if not over else f"no ({' and '.join(over)})"


class Progress:
    """``[3/7] building mps2-an505 ...`` lines on stderr: long work shows where it is, logs stay readable."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr

    def step(self, what: str) -> None:
        self.done += 1
        filled = round(self.done / self.total * 20) if self.total else 20
        print(f"[{'#' * filled}{'.' * (20 - filled)}] {self.done}/{self.total} {what}", file=self.stream, flush=True)
