"""Benchmark the MLPerf Tiny int8 models on the QEMU targets through the project's own driver.

For each (model, target) pair: compile, build (-O2, -Werror), run one inference on a fixed random input
under QEMU with ``-icount shift=0`` via :func:`compiler.driver.run_model`, compare with the TFLite
reference interpreter, and record instructions, instructions per MAC (MACs counted from the graph),
flash (total and weights) and SRAM (arena + static + measured stack). Writes a markdown table with the
command line in its header, and the same rows as CSV next to it.

    python benchmarks/run.py [--targets mps2-an386,...] [--models kws_dscnn_int8,...] [--out benchmarks/results.md]

Instructions are a proxy for cycles, not cycles. A row whose output differs from the reference is
marked "MISMATCH" and makes the script exit with status 1.
"""

from __future__ import annotations

import argparse
import csv
import os
import shlex
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from compiler.driver import compile_program, run_model  # noqa: E402

MODELS = ["kws_dscnn_int8", "vww_mbv1_int8", "resnet8_int8", "ad_fcae_int8"]
TARGETS = ["mps2-an386", "mps2-an385", "mps2-an505", "mps3-an547"]
MODELS_DIR = Path(os.environ.get("EDGEC_MODELS_DIR", REPO.parent / "shared" / "models" / "mlperf_tiny"))
COLUMNS = ["model", "target", "macs", "instructions", "instr_per_mac", "flash_total", "flash_weights",
           "sram_total", "arena", "bit_identical"]


def _input(path: Path, seed: int = 0) -> list[np.ndarray]:
    program, _ = compile_program(path)
    rng = np.random.default_rng(seed)
    arrays = []
    for vid in program.inputs:
        v = program.value(vid)
        if v.dtype.value == "float32":
            arrays.append(rng.uniform(-1.0, 1.0, v.shape).astype(np.float32))
        else:
            arrays.append(rng.integers(-128, 128, v.shape, dtype=np.int8))
    return arrays


def measure(model: str, target: str) -> dict:
    path = MODELS_DIR / f"{model}.tflite"
    result = run_model(path, target, _input(path))
    r = result.report
    return {
        "model": model, "target": target, "macs": r["macs"], "instructions": r["instructions"],
        "instr_per_mac": r["instructions_per_mac"], "flash_total": r["flash_bytes"]["total"],
        "flash_weights": r["flash_bytes"]["weights"], "sram_total": r["sram_bytes"]["total"],
        "arena": r["sram_bytes"]["arena"], "bit_identical": bool(result.matches_reference),
    }


def markdown(rows: list[dict], command: str) -> str:
    lines = [f"Command: `{command}`", "",
             "| model | target | MACs | instructions | instr/MAC | flash (total / weights) | SRAM (total / arena) "
             "| bit-identical |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        ok = "yes" if r["bit_identical"] else "MISMATCH"
        lines.append(f"| {r['model']} | {r['target']} | {r['macs']:,} | {r['instructions']:,} | "
                     f"{r['instr_per_mac']:.2f} | {r['flash_total']:,} / {r['flash_weights']:,} | "
                     f"{r['sram_total']:,} / {r['arena']:,} | {ok} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results.md")
    args = ap.parse_args(argv)
    args_given = argv if argv is not None else sys.argv[1:]
    command = "python benchmarks/run.py " + " ".join(shlex.quote(a) for a in args_given)
    rows = []
    for target in args.targets.split(","):
        for model in args.models.split(","):
            row = measure(model, target)
            print(f"{model:16s} {target:11s} {row['instructions']:>12,} instr  {row['instr_per_mac']:6.2f}/MAC  "
                  f"{'ok' if row['bit_identical'] else 'MISMATCH'}", flush=True)
            rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(rows, command.strip()))
    with open(args.out.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return 0 if all(r["bit_identical"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
