"""One model on several targets: `edgec run MODEL --target all` (or a comma-separated list).

Each target is compiled, built and run in turn (no per-layer profiling: the table shows whole
inferences). A target the model does not fit, or whose toolchain is missing, becomes a row that
says why instead of stopping the others. The exit status is 0 when every target ran and matched
the reference, 1 otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CompilerError, UsageError
from .modelname import model_label


def target_names(spec: str) -> list[str]:
    """``all`` -> every target; ``a,b`` -> [a, b] (each checked); a single name -> [name]."""
    from .targets import list_targets, load_target

    if spec == "all":
        return [t.name for t in list_targets()]
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise UsageError(f"--target {spec!r} names no target; see `edgec targets`")
    for name in names:
        load_target(name)  # an unknown name is a UsageError naming the known ones
    return names


def run_targets(model: str | bytes, names: list[str], arrays: list[np.ndarray], *, keep: str | None, report_path: str | None,
                outputs: list[str] | None, check_reference: bool, sram_budget: int | str | None,
                conv_weights: str = "auto") -> int:
    """Run on each target, print the model x target table; --report writes the list of reports."""
    from .driver import run_model
    from .report_text import Progress, targets_table

    if outputs:
        raise UsageError("--output takes one target; with several, read each output from --report or --keep DIR")
    progress = Progress(len(names))
    reports: list[dict[str, Any]] = []
    ok = True
    for name in names:
        progress.step(f"{name}: compile, build, run")
        workdir = Path(keep) / name if keep else None
        try:
            result = run_model(model, name, arrays, workdir=workdir, check_reference=check_reference,
                               sram_budget=sram_budget, conv_weights=conv_weights)
        except CompilerError as exc:
            label = model_label(model)
            reports.append({"model": label, "target": name, "error": str(exc).splitlines()[0]})
            ok = False
            continue
        reports.append(result.report)
        ok = ok and result.matches_reference is not False
    print(targets_table(reports))
    if report_path:
        Path(report_path).write_text(json.dumps(reports, indent=2) + "\n")
    return 0 if ok else 1


def read_reports(path: Path) -> list[dict[str, Any]]:
    """The list of reports `run_targets` wrote; UsageError when it is not one."""
    try:
        reports = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path} as a list of reports: {exc}") from None
    if not isinstance(reports, list) or not all(isinstance(r, dict) and {"model", "target"} <= set(r) for r in reports):
        raise UsageError(f"{path} is not a list of edgec reports")
    return reports
