"""The ``edgec`` command line: compile, run, targets, inspect.

Library code raises CompilerError subclasses; this is the only place that turns them into a
message and an exit code (a traceback only with --debug).
"""

from __future__ import annotations

import argparse
import os
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
    c.add_argument("--conv-weights", choices=("auto", "int8", "int16"), default="auto",
                   help="CONV_2D weights on DSP targets (Cortex-M4/M7/M33): int16, widened for the fast loop "
                        "(twice the flash), int8, or auto: int16 while the flash allows (default)")
    add_quantize_options(c)

    r = sub.add_parser("run", help="compile, build, run one inference on the target, report")
    r.add_argument("model", help="a .tflite model")
    r.add_argument("--target", default=None,
                   help="target name, a comma-separated list, or `all`: several targets print one table")
    r.add_argument("--input", action="append", metavar="IN.npy",
                   help=".npy input, once per model input in order (default: every input at its zero point)")
    r.add_argument("--output", action="append", metavar="OUT.npy", help=".npy to write, once per model output")
    r.add_argument("--report", metavar="R.json",
                   help="write report.json here (with several targets: a JSON list of reports)")
    r.add_argument("--sram-budget", default=None, help="as for compile")
    r.add_argument("--conv-weights", choices=("auto", "int8", "int16"), default="auto", help="as for compile")
    r.add_argument("--keep", metavar="DIR",
                   help="keep the generated project in DIR (with several targets: DIR/<target>)")
    r.add_argument("--no-check", action="store_true", help="skip the comparison with the TFLite reference interpreter")
    r.add_argument("--no-profile", action="store_true",
                   help="skip the per-layer profiling build (by default a second build times every layer on QEMU "
                        "targets; the whole-inference count always comes from the normal build)")
    add_quantize_options(r)

    add_quantize_command(sub)

    sub.add_parser("targets", help="list targets: core, features, flash, SRAM, emulated or not")

    f = sub.add_parser("firmware", help="write a buildable firmware project for a real board")
    f.add_argument("model", help="a .tflite model")
    f.add_argument("--board", required=True, help="board name (see `edgec targets`, kind board)")
    f.add_argument("-o", "--output-dir", required=True, help="directory to write (replaced atomically)")
    f.add_argument("--force", action="store_true", help="replace a directory edgec did not write")
    f.add_argument("--conv-weights", choices=("auto", "int8", "int16"), default="auto",
                   help="as for compile: int8 keeps the flash small on Cortex-M4/M7/M33 boards, int16 is faster")
    f.add_argument("--no-build", action="store_true",
                   help="do not build the project once to check that it fits (no toolchain needed)")

    i = sub.add_parser("inspect", help="print the per-layer table and memory timeline of a model")
    i.add_argument("model", help="a .tflite model")
    i.add_argument("--check", action="store_true",
                   help="report per operator whether edgec supports it, without compiling (exit 3 if not all)")
    i.add_argument("--sram-budget", default=None, help="plan as for compile with this budget (bytes or min)")
    i.add_argument("--target", default=None,
                   help="lay out the weights as for this target (widened conv and depthwise weights on DSP targets "
                        "take more flash); default: int8 weights as in the model, no target")
    i.add_argument("--conv-weights", choices=("auto", "int8", "int16"), default="auto",
                   help="as for compile (with --target)")

    rep = sub.add_parser("report", help="print the per-layer table of a report.json (or a compiled project)")
    rep.add_argument("report", metavar="DIR_OR_JSON", help="a report.json, or a directory holding one")
    rep.add_argument("--html", metavar="OUT.html", help="also write a self-contained HTML page with charts")
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
    except BrokenPipeError:  # `edgec inspect M | head`: the reader left; say nothing more, as other Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


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


def _weight_budget(args: argparse.Namespace) -> int | None:
    """--flash-budget (bytes of weights, a quantize option) when given: the widened conv weights stay within it."""
    if getattr(args, "flash_budget", None) is None:
        return None
    from .quantize.command import options_from

    return options_from(args).flash_budget


def _cmd_compile(args: argparse.Namespace) -> int:
    from .driver import compile_model

    compiled = compile_model(model_source(args), _target(args), args.output_dir, force=args.force,
                             sram_budget=_budget(args), conv_weights=args.conv_weights,
                             weight_budget=_weight_budget(args))
    _print_warnings(compiled.program)
    p = compiled.program
    print(f"wrote {compiled.outdir}/ for {compiled.target.name}: {len(p.ops)} layers, {p.macs:,} MACs, "
          f"arena {compiled.plan.arena_bytes:,} B; build it with `make -C {compiled.outdir}`")
    from .report import read_report
    from .report_text import summary

    print(summary(read_report(compiled.outdir / "report.json")))
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
    from .multi import run_targets, target_names

    names = target_names(_target(args))
    model = model_source(args)
    arrays = _load_inputs(args.input, model)
    if len(names) > 1:
        return run_targets(model, names, arrays, keep=args.keep, report_path=args.report, outputs=args.output,
                           check_reference=not args.no_check, sram_budget=_budget(args),
                           conv_weights=args.conv_weights)
    result = run_model(model, names[0], arrays, workdir=args.keep, check_reference=not args.no_check,
                       sram_budget=_budget(args), profile=not args.no_profile, conv_weights=args.conv_weights)
    for path, output in zip(args.output or [], result.outputs):
        np.save(path, output)
    if args.report:
        from .report import write_report

        write_report(Path(args.report), result.report)
    _print_warnings(result.compiled.program)
    _print_summary(result.report, result.outputs)
    saved = args.report or (str(Path(args.keep) / "report.json") if args.keep else None)
    if saved:
        print(f"per layer    `edgec report {saved}` prints the table, with --html OUT.html the page")
    else:
        print("per layer    keep the report (--report R.json or --keep DIR), then `edgec report` it")
    if result.matches_reference is False:
        print("edgec: error: the output differs from the TFLite reference interpreter's", file=sys.stderr)
        return 1
    return 0


def _print_summary(report: dict, outputs: list[np.ndarray]) -> None:
    from .report_text import summary

    print(summary(report))
    for output in outputs:
        flat = output.ravel()
        shown = np.array2string(flat[:12], separator=" ") + (" ..." if flat.size > 12 else "")
        print(f"output       {shown}")
    if report["outputs"] and "matches_reference" in report["outputs"][0]:
        same = all(e["matches_reference"] for e in report["outputs"])
        print(f"reference    matches TFLite's reference interpreter: {'yes, bit-identical' if same else 'NO'}")
    if report["instructions"] is None:
        print(f"instructions not measured on this target ({report['macs']:,} MACs)")
    f, s = report["flash_bytes"], report["sram_bytes"]
    split = (f"model code {f['model_code']:,} + harness and libc {f['harness']:,}"
             if f.get("model_code") is not None else f"code {f['code']:,}")
    print(f"flash split  weights {f['weights']:,} + {split}")
    stack = "not measured" if s["stack"] is None else f"{s['stack']:,}"
    print(f"sram split   arena {s['arena']:,} + static {s['static']:,} + stack {stack}")


def _cmd_targets(args: argparse.Namespace) -> int:
    from .targets import target_table

    print(target_table())
    return 0


def _cmd_firmware(args: argparse.Namespace) -> int:
    from .firmware import write_firmware

    fw = write_firmware(args.model, args.board, args.output_dir, force=args.force, build=not args.no_build,
                        conv_weights=args.conv_weights)
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

    if args.check:
        return _print_coverage(args.model)
    target = None
    if args.target is not None:
        from .targets import load_target

        target = load_target(args.target)
    elif args.conv_weights != "auto":
        raise UsageError("--conv-weights needs --target: the weight layouts depend on the target's core")
    program, plan = compile_program(args.model, _budget(args), target, args.conv_weights)
    print(f"{program.name}{f' on {target.name}' if target else ''}: {len(program.ops)} layers, "
          f"{program.macs:,} MACs, weights {program.constant_bytes:,} B, "
          f"arena {plan.arena_bytes:,} B (live-set bound {plan.live_bound:,} B)")
    width = max(len("op"), *(len(_layer_kind(op)) for op in program.ops))
    print(f"{'#':>3} {'op':{width}s} {'output shape':18s} {'MACs':>12} {'const B':>9} {'live B':>9}  name")
    for step, op in enumerate(program.ops):
        shape = "x".join(str(d) for d in program.value(op.outputs[0]).shape)
        consts = sum(a.nbytes for a in op.constants.values())
        name = op.name if len(op.name) <= 60 else op.name[:57] + "..."
        print(f"{step:3d} {_layer_kind(op):{width}s} {shape:18s} {op.macs:12,} {consts:9,} {plan.live_bytes(step):9,}  {name}")
    from .timeline import memory_timeline

    print()
    print(memory_timeline(plan))
    return 0


def _layer_kind(op) -> str:
    """The op kind, with the widened weight layout a target gave it (w16 conv; pairs or pairs_t, the transposed
    walk, depthwise) after it."""
    from .dw_layout import LAYOUTS

    layout = getattr(op, "weight_layout", None)
    return op.kind.name + (f" {layout}" if layout == "w16" or layout in LAYOUTS else "")


def _print_coverage(model: str) -> int:
    """`edgec inspect --check`: one line per operator (after the graph passes), a summary, exit 3 if any fails."""
    from .coverage import coverage

    report = coverage(model)
    for line in report.lines():
        print(line)
    return 0 if report.all_supported else 3


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import read_report
    from .report_text import layer_table, targets_table

    path = Path(args.report)
    if path.is_file() and path.read_bytes()[:1] == b"[":  # `edgec run --target a,b --report R.json` wrote a list
        from .multi import read_reports

        print(targets_table(read_reports(path)))
        return 0
    report = read_report(path)
    print(layer_table(report))
    if args.html:
        from .report_html import write_html

        write_html(Path(args.html), report)
        print(f"wrote {args.html}")
    return 0


_COMMANDS = {"compile": _cmd_compile, "run": _cmd_run, "targets": _cmd_targets, "inspect": _cmd_inspect,
             "firmware": _cmd_firmware, "quantize": cmd_quantize, "report": _cmd_report}


if __name__ == "__main__":
    sys.exit(main())
