"""Print the model x target table: instructions, flash and SRAM of one inference on every QEMU target.

    python tests/target_table.py [--models DIR] [--out DIR]

For each QEMU target and each model (examples/tiny_cnn and the four MLPerf Tiny int8 models in
DIR, default $EDGEC_MODELS_DIR or ../shared/models/mlperf_tiny) it runs
`edgec run MODEL --target T --report OUT/T-MODEL.json` (input: every element at its zero point;
output checked against the reference interpreter) and prints one markdown row per model with, per
target, instructions / flash bytes / SRAM bytes, or the fit error's overflow where it does not fit.
Opt-in (about ten minutes on two cores); not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODELS = ["tiny_cnn", "ad_fcae_int8", "kws_dscnn_int8", "resnet8_int8", "vww_mbv1_int8"]


def _cell(report_path: Path, done: subprocess.CompletedProcess[str]) -> str:
    if done.returncode == 4:
        return "does not fit"
    if done.returncode != 0 or not report_path.is_file():
        return f"error {done.returncode}"
    report = json.loads(report_path.read_text())
    same = all(o.get("matches_reference") for o in report.get("outputs", []))
    return (f"{report['instructions']:,} / {report['flash_bytes']['total']:,} / {report['sram_bytes']['total']:,}"
            + ("" if same else " (DIFFERS)"))


def main() -> int:
    default = os.environ.get("EDGEC_MODELS_DIR", str(REPO.parent / "shared" / "models" / "mlperf_tiny"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=default)
    parser.add_argument("--out", default="target-table")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from compiler.targets import list_targets

    targets = [t.name for t in list_targets() if t.is_qemu]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print("| model | " + " | ".join(targets) + " |")
    print("| --- |" + " ---: |" * len(targets))
    for name in MODELS:
        tiny = REPO / "examples" / "tiny_cnn" / "tiny_cnn.tflite"
        path = tiny if name == "tiny_cnn" else Path(args.models) / f"{name}.tflite"
        cells = []
        for target in targets:
            report = out / f"{target}-{name}.json"
            done = subprocess.run([sys.executable, "-m", "compiler.cli", "run", str(path), "--target", target,
                                   "--report", str(report)], check=False, capture_output=True, text=True, cwd=REPO)
            cells.append(_cell(report, done))
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
