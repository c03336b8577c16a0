"""The ``edgec`` command line: compile, run, targets, inspect.

Library code raises CompilerError subclasses; this is the only place that turns them into a
message and an exit code (a traceback only with --debug).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

import numpy as np

from . import __version__
from .errors import CompilerError, UsageError
from .quantize.command import add_quantize_command, add_quantize_options, cmd_quantize, model_source


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="edgec", description="Compile TFLite models to integer-only C for microcontrollers.")
    p.add_argument("--version", action="version", version=f"edgec {__version__}")
    p.add_argument("--debug", action="store_true", help="show the Python traceback on errors")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("compile", help="write a self-contained C project for a target")
    c.add_argument("model", help="a .tflite model")
    c.add_argument("--target", default=None, help="target name (see `edgec targets`); default mps2-an386")
    c.add_argument("-o", "--output-dir", required=True, help="directory to write (replaced atomically)")
    c.add_argument("--sram-budget", default=None,
                   help="bytes of SRAM the arena must fit in (tiling layers into row bands as needed), or min")
    c.add_argument("--force", action="store_true", help="replace a directory edgec did not write")
    add_quantize_options(c)

    r = sub.add_parser("run", help="compile, build, run one inference on the target, report")
    r.add_argument("model")
    r.add_argument("--target", default=None)
    r.add_argument("--input", action="append", metavar="IN.npy",
                   help=".npy input, once per model input in order (default: every input at its zero point)")
    r.add_argument("--output", action="append", metavar="OUT.npy", help=".npy to write, once per model output")
    r.add_argument("--report", help="write report.json here")
    r.add_argument("--sram-budget", default=None, help="as for compile")
    r.add_argument("--keep", metavar="DIR", help="keep the generated project in DIR")
    r.add_argument("--no-check", action="store_true", help="skip the comparison with the TFLite reference interpreter")
    add_quantize_options(r)

    add_quantize_command(sub)

    sub.add_parser("targets", help="list targets: core, features, flash, SRAM, emulated or not")

    f = sub.add_parser("firmware", help="write a buildable firmware project for a real board")
    f.add_argument("model", help="a .tflite model")
    f.add_argument("--board", required=True, help="board name (see `edgec targets`, kind board)")
    f.add_argument("-o", "--output-dir", required=True, help="directory to write (replaced atomically)")
    f.add_argument("--force", action="store_true", help="replace a directory edgec did not write")
    f.add_argument("--no-build", action="store_true",
                   help="do not build the project once to check that it fits (no toolchain needed)")

    i = sub.add_parser("inspect", help="print the per-layer table and memory timeline of a model")
    i.add_argument("model")
    i.add_argument("--sram-budget", default=None, help="plan as for compile with this budget (bytes or min)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except CompilerError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"edgec: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("edgec: interrupted", file=sys.stderr)
        return 130


def _target(args: argparse.Namespace) -> str:
    from .targets import DEFAULT_TARGET

    return args.target or DEFAULT_TARGET


def _budget(args: argparse.Namespace) -> int | str | None:
    if args.sram_budget is None:
        return None
    if args.sram_budget == "min":
        return "min"
    try:
        budget = int(args.sram_budget)
    except ValueError:
        raise UsageError(f"--sram-budget takes a number of bytes or min, not {args.sram_budget!r}") from None
    if budget <= 0:
        raise UsageError(f"--sram-budget must be positive, not {budget}")
    return budget


def _cmd_compile(args: argparse.Namespace) -> int:
    from .driver import compile_model

    compiled = compile_model(model_source(args), _target(args), args.output_dir, force=args.force,
                             sram_budget=_budget(args))
    _print_warnings(compiled.program)
    p = compiled.program
    print(f"wrote {compiled.outdir}/ for {compiled.target.name}: {len(p.ops)} layers, {p.macs:,} MACs, "
          f"arena {compiled.plan.arena_bytes:,} B; build it with `make -C {compiled.outdir}`")
    return 0


def _print_warnings(program) -> None:  # type: ignore[no-untyped-def]
    from .analysis import warnings

    for text in warnings(program):
        print(f"edgec: warning: {text}", file=sys.stderr)


def _load_inputs(paths: list[str] | None, model: str | bytes) -> list[np.ndarray]:
    if not paths:
        from .frontend import read_tflite

        graph = read_tflite(model)
        return [np.full(t.shape, t.zero_point if t.quant else 0, dtype=t.dtype)
                for t in (graph.tensor(i) for i in graph.inputs)]
    arrays = []
    for path in paths:
        try:
            arrays.append(np.load(path, allow_pickle=False))
        except (OSError, ValueError, EOFError) as exc:  # np.load raises EOFError on an empty file
            raise UsageError(f"cannot read input {path} as a .npy array: {exc or type(exc).__name__}") from None
    return arrays


def _cmd_run(args: argparse.Namespace) -> int:
    from .driver import run_model

    model = model_source(args)
    arrays = _load_inputs(args.input, model)
    result = run_model(model, _target(args), arrays, workdir=args.keep, check_reference=not args.no_check,
                       sram_budget=_budget(args))
    for path, output in zip(args.output or [], result.outputs):
        np.save(path, output)
    if args.report:
        from .report import write_report

        write_report(Path(args.report), result.report)
    _print_warnings(result.compiled.program)
    _print_summary(result.report, result.outputs)
    if result.matches_reference is False:
        print("edgec: error: the output differs from the TFLite reference interpreter's", file=sys.stderr)
        return 1
    return 0


def _print_summary(report: dict, outputs: list[np.ndarray]) -> None:
    print(f"model        {report['model']}  ->  {report['target']}")
    for entry, output in zip(report["outputs"], outputs):
        flat = output.ravel()
        shown = np.array2string(flat[:12], separator=" ") + (" ..." if flat.size > 12 else "")
        print(f"prediction   class {entry['argmax']}   output {shown}")
    if report["outputs"] and "matches_reference" in report["outputs"][0]:
        same = all(e["matches_reference"] for e in report["outputs"])
        print(f"reference    matches TFLite's reference interpreter: {'yes, bit-identical' if same else 'NO'}")
    instr = report["instructions"]
    if instr is not None:
        per_mac = f"{report['instructions_per_mac']} per MAC, " if report["macs"] else ""  # none for MAC-free models
        print(f"instructions {instr:,} per inference ({per_mac}{report['macs']:,} MACs;"
              " counted on QEMU, a proxy for cycles)")
    else:
        print(f"instructions not measured on this target ({report['macs']:,} MACs)")
    f, s = report["flash_bytes"], report["sram_bytes"]
    split = (f"model code {f['model_code']:,} + harness and libc {f['harness']:,}"
             if f.get("model_code") is not None else f"code {f['code']:,}")
    print(f"flash        {f['total']:,} B  (weights {f['weights']:,} + {split})")
    stack = "not measured" if s["stack"] is None else f"{s['stack']:,}"
    total = "" if s["total"] is None else f"{s['total']:,} B  "
    print(f"sram         {total}(arena {s['arena']:,} + static {s['static']:,} + stack {stack})")


def _cmd_targets(args: argparse.Namespace) -> int:
    from .targets import target_table

    print(target_table())
    return 0


def _cmd_firmware(args: argparse.Namespace) -> int:
    from .firmware import write_firmware

    fw = write_firmware(args.model, args.board, args.output_dir, force=args.force, build=not args.no_build)
    _print_warnings(fw.program)
    board = fw.board
    if fw.footprint is not None:
        fp = fw.footprint
        sram = fp.sram_static + fp.stack_reserved + fp.heap_reserved
        fit = (f"flash {fp.flash_total:,} of {board.flash_bytes:,} B, SRAM {sram:,} of {board.sram_bytes:,} B "
               f"(arena {fw.plan.arena_bytes:,}, stack {fp.stack_reserved:,}); "
               "every section inside the board's regions")
    else:
        fit = (f"at least flash {fw.demand.flash_total:,} of {board.flash_bytes:,} B, SRAM {fw.demand.sram_total:,} "
               f"of {board.sram_bytes:,} B (not built)")
    print(f"wrote {fw.outdir}/ for {board.name}: {fit}; build it with `make -C {fw.outdir}` or CMake, "
          f"flash it as {fw.outdir}/README.md says")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .driver import compile_program

    program, plan = compile_program(args.model, _budget(args))
    print(f"{program.name}: {len(program.ops)} layers, {program.macs:,} MACs, "
          f"weights {program.constant_bytes:,} B, "
          f"arena {plan.arena_bytes:,} B (live-set bound {plan.live_bound:,} B)")
    print(f"{'#':>3} {'op':18s} {'output shape':18s} {'MACs':>12} {'const B':>9} {'live B':>9}  name")
    for step, op in enumerate(program.ops):
        shape = "x".join(str(d) for d in program.value(op.outputs[0]).shape)
        consts = sum(a.nbytes for a in op.constants.values())
        name = op.name if len(op.name) <= 60 else op.name[:57] + "..."
        print(f"{step:3d} {op.kind.name:18s} {shape:18s} {op.macs:12,} {consts:9,} {plan.live_bytes(step):9,}  {name}")
    from .timeline import memory_timeline

    print()
    print(memory_timeline(plan))
    return 0


_COMMANDS = {"compile": _cmd_compile, "run": _cmd_run, "targets": _cmd_targets, "inspect": _cmd_inspect,
             "firmware": _cmd_firmware, "quantize": cmd_quantize}


if __name__ == "__main__":
    sys.exit(main())
