"""End-to-end on the MLPerf Tiny int8 models: bit-identical on the host and on QEMU Cortex-M4.

Skips with a reason when ../shared/models is absent (set EDGEC_MODELS_DIR to point elsewhere).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import mlperf_model
from e2e import assert_bit_identical, build_model

from compiler.footprint import measure
from compiler.reference import run_reference
from compiler.report import build_report

MODELS = ["ad_fcae_int8", "kws_dscnn_int8", "resnet8_int8", "vww_mbv1_int8"]

pytestmark = [pytest.mark.mlperf, pytest.mark.slow]


@pytest.mark.parametrize("name", MODELS)
def test_bit_identical_on_host(name: str, tmp_path) -> None:
    """Built with AddressSanitizer and UndefinedBehaviorSanitizer: a report aborts the run."""
    path = mlperf_model(name)
    built = build_model(path, "host", tmp_path, sanitize=True)
    assert_bit_identical(path, built, range(5))


@pytest.mark.qemu
@pytest.mark.parametrize("name", MODELS)
def test_bit_identical_on_cortex_m4(name: str, tmp_path) -> None:
    path = mlperf_model(name)
    built = build_model(path, "mps2-an386", tmp_path)
    sims = assert_bit_identical(path, built, range(5))
    counts = {s.instructions for s in sims}
    assert all(c is not None and c > 0 for c in counts)
    # The kernels have no data-dependent control flow beyond clamps and softmax, so counts stay close.
    assert max(counts) - min(counts) < 0.01 * max(counts)
    assert all(s.stack_bytes is not None and 0 < s.stack_bytes < 16384 for s in sims)


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["mps2-an385", "mps2-an500", "mps2-an505", "mps3-an547"])
@pytest.mark.parametrize("name", MODELS)
def test_bit_identical_on_other_cortex_m(name: str, target: str, tmp_path) -> None:
    """Cortex-M3 (no DSP, no FPU: FULLY_CONNECTED's double rescale in soft float), Cortex-M7,
    Cortex-M33 in Secure state (AN505) and Cortex-M55 with MVE counted by SysTick (AN547).

    Every MLPerf Tiny model fits all of them, including the AN547's 512 KiB ITCM and DTCM
    (largest: ad_fcae_int8 at about 321 KB of ITCM), so none is excluded."""
    path = mlperf_model(name)
    sims = assert_bit_identical(path, build_model(path, target, tmp_path), range(2))
    assert all(s.instructions is not None and s.instructions > 0 for s in sims)


@pytest.mark.qemu
@pytest.mark.parametrize("name", MODELS)
def test_bit_identical_on_riscv32(name: str, tmp_path) -> None:
    """RV32IMAC on QEMU virt (picolibc, counted by minstret); one seed each to keep the suite short."""
    path = mlperf_model(name)
    built = build_model(path, "riscv32-virt", tmp_path)
    (sim,) = assert_bit_identical(path, built, range(1))
    assert sim.instructions is not None and sim.instructions > 0
    report = build_report(built.compiled.program, built.compiled.plan, built.compiled.target, str(path), sim=sim,
                          footprint=measure(built.executable, built.compiled.target))
    assert report["target"] == "riscv32-virt" and report["flash_bytes"]["total"] > report["flash_bytes"]["weights"]


# What each MLPerf Tiny int8 model needs that the micro:bit (256 KiB flash, 16 KiB SRAM) lacks.
MICROBIT_MISFITS = {"ad_fcae_int8": "bytes of flash", "kws_dscnn_int8": "bytes of SRAM",
                    "resnet8_int8": "bytes of SRAM", "vww_mbv1_int8": "bytes of SRAM"}


@pytest.mark.parametrize("name", MODELS)
def test_microbit_rejects_what_does_not_fit(name: str, tmp_path) -> None:
    """No MLPerf Tiny model fits the micro:bit; each fails with the fit error (exit 4) naming bytes, and
    nothing is written."""
    path = mlperf_model(name)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "compiler.cli", "compile", str(path), "--target", "cortex-m0",
                           "-o", str(out)], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 4, done.stderr
    assert "Traceback" not in done.stderr and "microbit" in done.stderr
    assert MICROBIT_MISFITS[name] in done.stderr
    assert not out.exists()


@pytest.mark.qemu
def test_cli_run_writes_output_and_full_report(tmp_path) -> None:
    """The contract command: edgec run MODEL --target mps2-an386 --input X --output Y --report R."""
    path = mlperf_model("kws_dscnn_int8")
    x = np.random.default_rng(11).integers(-128, 128, (1, 49, 10, 1), dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    cmd = [sys.executable, "-m", "compiler.cli", "run", str(path), "--target", "mps2-an386",
           "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy"), "--report", str(tmp_path / "r.json")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "bit-identical" in done.stdout
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.int8 and y.shape == (1, 12)
    assert np.array_equal(y, run_reference(path, [x])[0])
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["model"] == str(path) and report["target"] == "mps2-an386"
    assert report["instructions"] > 0 and report["macs"] > 2_000_000
    for field in ("total", "weights", "code"):
        assert report["flash_bytes"][field] > 0
    for field in ("total", "arena", "static", "stack"):
        assert report["sram_bytes"][field] > 0
    assert len(report["layers"]) == 13 and all({"name", "op", "macs", "arena_bytes"} <= set(r) for r in report["layers"])
    assert report["sram_bytes"]["total"] == sum(report["sram_bytes"][k] for k in ("arena", "static", "stack"))

