"""``edgec firmware``: a complete, buildable firmware project for a real board.

For a board target (``kind = "board"`` in ``targets/``) and a model, DIR gets:

- ``model.c``/``model.h`` (the same code generator as ``edgec compile``) and the runtime kernels the
  model calls (``runtime/``, only those: see :mod:`compiler.codegen.library`);
- ``main.c``: inference in a loop around the user hooks in ``app.c``/``app.h`` (written once, yours);
- ``target/startup.c`` (vector table and reset handler) and ``target/linker.ld`` (from the board's
  memory regions, the same linker template as the QEMU targets);
- ``Makefile``, ``CMakeLists.txt`` with ``cmake/arm-none-eabi.cmake``, ``library.cmake``,
  ``sources.txt``/``flags.txt``, a ``README.md`` saying how to build and flash, and ``report.json``.

Fit: before anything is written, weights and arena are checked against the board's flash and SRAM,
with the stack and the main's buffers (:func:`compiler.driver.check_fit`, :mod:`compiler.capacity`). Then, when the toolchain is there
(``build=True``), the project is built once in the staging directory with its own Makefile: the
linker places every section in the board's regions (an overflow is the same DoesNotFitError), the
ELF's sections are checked against the regions, its sizes go into ``report.json`` and the README,
and the build folder is removed again. DIR is written through the same staging directory, marker
and ``--force`` rule as ``edgec compile`` (:func:`compiler.driver.write_output_dir`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from . import __version__, ir
from .capacity import Demand, demand
from .codegen.library import needed_runtime_sources, write_library_files
from .codegen.model import header_line, write_model_sources
from .driver import check_fit, compile_program, write_output_dir
from .errors import DoesNotFitError, UsageError
from .footprint import Footprint, Placed, measure, placed_sections
from .modelname import model_label
from .report import build_report, write_report
from .resources import runtime_dir, targets_dir, templates_dir
from .schedule import Plan
from .targets import Target, list_targets, load_target

__all__ = ["Firmware", "check_placement", "write_firmware"]


@dataclass(frozen=True, slots=True)
class Firmware:
    """What ``write_firmware`` wrote and, when it built the project, what the ELF measured."""

    program: ir.Program
    plan: Plan
    board: Target
    outdir: Path
    demand: Demand
    footprint: Footprint | None
    sections: tuple[Placed, ...]


def _environment(folder: Path) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), undefined=jinja2.StrictUndefined,
                              autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


def _board(name: str) -> Target:
    target = load_target(name)
    if not target.is_board:
        boards = ", ".join(t.name for t in list_targets() if t.is_board)
        raise UsageError(f"{target.name} is not a board (it runs on {'QEMU' if target.is_qemu else 'the host'}: "
                         f"use `edgec compile` or `edgec run`); boards: {boards}")
    return target


def _copy_runtime_subset(outdir: Path) -> None:
    """runtime/include/*.h, and only the kernel sources model.c reaches with the internal headers beside them."""
    root = runtime_dir()
    needed = [Path(rel) for rel in needed_runtime_sources(root, [(outdir / "model.c").read_text(encoding="utf-8")])]
    folders = sorted({root / "include", *(root / rel.parent for rel in needed)})
    files = [h.relative_to(root) for folder in folders for h in sorted(folder.glob("*.h"))] + needed
    for rel in files:
        dest = outdir / "runtime" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / rel, dest)


def check_placement(sections: list[Placed], board: Target) -> None:
    """Every allocated section runs (and, if loaded, loads) inside one region of the board, by its role.

    Raises DoesNotFitError naming the section and the addresses otherwise.
    """
    def inside(addr: int, size: int, role: str) -> bool:
        return any(r.role == role and r.origin <= addr and addr + size <= r.end for r in board.regions)

    for sec in sections:
        runs_in = next((role for role in ("flash", "sram") if inside(sec.addr, sec.size, role)), None)
        loaded_ok = sec.load_addr is None or sec.load_addr == sec.addr or inside(sec.load_addr, sec.size, "flash")
        if runs_in is None or not loaded_ok:
            raise DoesNotFitError(f"section {sec.name} ({sec.size:,} bytes at 0x{sec.addr:08X}) lies outside "
                                  f"{board.name}'s memory regions")


def _render_all(staging: Path, board: Target, program: ir.Program) -> None:
    """target/startup.c and target/linker.ld from the shared templates; main, hooks and build files from ours."""
    line = header_line(program)
    context = {"target": board, "header_line": line, "version": __version__}
    shared = _environment(targets_dir() / "templates")
    regions = {"flash": board.flash_region, "sram": board.sram_region}
    (staging / "target").mkdir(exist_ok=True)
    for template, name in ((board.startup_template or "firmware_startup.c.j2", "target/startup.c"),
                           (board.linker_template or "cortexm_linker.ld.j2", "target/linker.ld")):
        (staging / name).write_text(shared.get_template(template).render(**context, **regions))
    own = _environment(templates_dir() / "firmware")
    (staging / "cmake").mkdir(exist_ok=True)
    for template, name in (("main.c.j2", "main.c"), ("app.h.j2", "app.h"), ("app.c.j2", "app.c"),
                           ("Makefile.j2", "Makefile"), ("CMakeLists.txt.j2", "CMakeLists.txt"),
                           ("toolchain.cmake.j2", "cmake/arm-none-eabi.cmake")):
        (staging / name).write_text(own.get_template(template).render(**context))


def _fit_rows(board: Target, need: Demand, footprint: Footprint | None) -> tuple[list[tuple[str, str, str]], str]:
    flash_cap, sram_cap = f"{board.flash_bytes:,}", f"{board.sram_bytes:,}"
    if footprint is None:
        rows = [("flash, at least (weights and boot stage)", f"{need.flash_total:,}", flash_cap),
                ("SRAM, at least (arena, buffers, stack)", f"{need.sram_total:,}", sram_cap)]
        return rows, "Not built by edgec (`--no-build`): the numbers are lower bounds; the linker checks the rest."
    reserved = footprint.stack_reserved + footprint.heap_reserved
    rows = [("flash (code, weights, .data image)", f"{footprint.flash_total:,}", flash_cap),
            ("of it weights", f"{footprint.flash_weights:,}", ""),
            ("SRAM (.data, .bss with the arena, reserved stack)", f"{footprint.sram_static + reserved:,}", sram_cap),
            ("of it arena", f"{need.sram['arena']:,}", ""),
            ("of it stack reserved", f"{footprint.stack_reserved:,}", "")]
    return rows, ("Measured by edgec from the ELF it built with this Makefile (arm-none-eabi-gcc -O2); every "
                  "section lies inside the board's regions. The stack is what the linker script reserves "
                  "(`make STACK_BYTES=n` to change it), not a measured peak.")


def write_firmware(model: str | Path | bytes, board: str, outdir: str | Path, *, force: bool = False,
                   build: bool = True, conv_weights: str = "auto") -> Firmware:
    """Write a firmware project for ``board`` into ``outdir`` (replaced atomically); build it once to check it fits.
    ``conv_weights`` as for compile (compiler.conv_layout): "int8" keeps the CONV_2D weights unwidened on DSP cores."""
    from .build import build as run_make

    tgt = _board(board)
    program, plan = compile_program(model, target=tgt, conv_weights=conv_weights)
    check_fit(plan, tgt, None)
    need = demand(plan, tgt)
    model_name = model_label(model) if isinstance(model, bytes) else Path(model).name
    results: dict[str, Any] = {}

    def fill(staging: Path) -> None:
        write_model_sources(plan, staging)
        _copy_runtime_subset(staging)
        write_library_files(staging, tgt, header_line(program))
        _render_all(staging, tgt, program)
        footprint, sections = None, ()
        if build:
            executable = run_make(staging, tgt, werror=True)
            sections = tuple(placed_sections(executable))
            check_placement(list(sections), tgt)
            footprint = measure(executable, tgt)
            shutil.rmtree(staging / "build")
        rows, note = _fit_rows(tgt, need, footprint)
        readme = _environment(templates_dir() / "firmware").get_template("README.md.j2").render(
            header_line=header_line(program), target=tgt, model_name=model_name, sha256=program.source_sha256[:16],
            layers=len(program.ops), macs=program.macs, fit_rows=rows, fit_note=note)
        (staging / "README.md").write_text(readme)
        report = build_report(program, plan, tgt, model_name, footprint=footprint)
        write_report(staging / "report.json", report)
        results.update(footprint=footprint, sections=sections)

    write_output_dir(Path(outdir), force, fill, header_line(program))
    return Firmware(program, plan, tgt, Path(outdir), need, results["footprint"], results["sections"])
