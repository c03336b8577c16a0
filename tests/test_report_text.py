"""Terminal output: capacity bars, `edgec report`'s table, and `edgec run --target a,b` (the model x target table)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.report_text import bar, fits

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "examples" / "tiny_cnn" / "tiny_cnn.tflite"
needs_qemu = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("arm-none-eabi-gcc", "qemu-system-arm", "make", "gcc")),
    reason="Arm toolchain, QEMU or host gcc not installed (bash toolchains/install.sh)",
)


def edgec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], check=False, capture_output=True, text=True,
                          timeout=600)


def test_bar_shows_the_share_of_capacity() -> None:
    assert bar(256, 1024, width=8) == "[##......]  25.0% of 1.0 KiB"
    assert bar(2048, 1024, width=4) == "[####] 200.0% of 1.0 KiB OVER CAPACITY"
    assert bar(5, None) == "(the target sets no limit)"
    assert bar(None, 1024) == "(not measured)"


def test_fits_names_what_overflows() -> None:
    report = {"capacity": {"flash_bytes": 100, "sram_bytes": 50},
              "flash_bytes": {"total": 120, "weights": 90}, "sram_bytes": {"total": 40, "arena": 30}}
    assert fits(report) == "no (flash)"
    report["sram_bytes"]["total"] = 60
    assert fits(report) == "no (flash and SRAM)"
    report["flash_bytes"]["total"] = 100
    report["sram_bytes"]["total"] = 50
    assert fits(report) == "yes"


def test_report_prints_every_layer_of_a_compiled_project(tmp_path) -> None:
    project = tmp_path / "p"
    done = edgec("compile", str(TINY), "-o", str(project))
    assert done.returncode == 0, done.stderr
    assert "sram peak    at op #" in done.stdout and "% of " in done.stdout  # the summary with its bars
    report = json.loads((project / "report.json").read_text())
    done = edgec("report", str(project / "report.json"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for i, layer in enumerate(report["layers"]):
        row = next(line for line in lines if line[2:6].strip() == str(i))
        assert layer["op"] in row and f"{layer['macs']:,}" in row and f"{layer['arena_bytes']:,}" in row
    peak = report["arena"]["peak_step"]
    assert next(line for line in lines if line[2:6].strip() == str(peak)).startswith("^")
    assert "instructions per layer not measured" in done.stdout


@pytest.mark.parametrize("content", [None, "not json", json.dumps({"model": "x"})])
def test_report_rejects_what_is_not_a_report(tmp_path, content) -> None:
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    done = edgec("report", str(path))
    assert done.returncode == 5 and "Traceback" not in done.stderr
    assert done.stderr.startswith("edgec: error: ") and "report" in done.stderr


@needs_qemu
def test_run_on_several_targets_prints_one_table(tmp_path) -> None:
    targets = ["host", "mps2-an386", "mps2-an505"]
    done = edgec("run", str(TINY), "--target", ",".join(targets), "--report", str(tmp_path / "all.json"))
    assert done.returncode == 0, done.stderr
    reports = json.loads((tmp_path / "all.json").read_text())
    assert [r["target"] for r in reports] == targets
    rows = done.stdout.splitlines()[1:]
    assert len(rows) == len(targets)
    for row, report in zip(rows, reports):
        cells = row.split()
        assert cells[1] == report["target"] and cells[-1] == "yes"
        expected = "-" if report["instructions"] is None else f"{report['instructions']:,}"
        assert cells[2] == expected
        flash = report['flash_bytes']['total'] or report['flash_bytes']['weights']
        sram = report['sram_bytes']['total'] or report['sram_bytes']['arena']
        assert cells[3] == f"{flash:,}" and cells[4] == f"{sram:,}"
    assert "3/3" in done.stderr  # progress
    again = edgec("report", str(tmp_path / "all.json"))
    assert again.returncode == 0 and again.stdout.splitlines()[1:] == rows


@needs_qemu
def test_run_on_several_targets_passes_the_conv_weight_layout_to_each(tmp_path) -> None:
    done = edgec("run", str(TINY), "--target", "mps2-an386,mps2-an505", "--conv-weights", "int8",
                 "--report", str(tmp_path / "all.json"))
    assert done.returncode == 0, done.stderr
    reports = json.loads((tmp_path / "all.json").read_text())
    layouts = {layer["weight_layout"] for r in reports for layer in r["layers"] if layer["op"] == "CONV_2D"}
    assert layouts == {"ohwi"}  # auto would widen them to w16 on both DSP cores
    assert all(r["outputs"][0]["matches_reference"] for r in reports)


def test_run_on_several_targets_refuses_one_output(tmp_path) -> None:
    done = edgec("run", str(TINY), "--target", "host,mps2-an386", "--output", str(tmp_path / "y.npy"))
    assert done.returncode == 5 and "--output takes one target" in done.stderr


def test_unknown_target_in_a_list_is_named(tmp_path) -> None:
    done = edgec("run", str(TINY), "--target", "host,nope")
    assert done.returncode == 5 and "unknown target 'nope'" in done.stderr
