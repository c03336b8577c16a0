"""Per-layer profiling: the arithmetic on hand-written marks, and real profiling runs on QEMU.

The end-to-end bound, stated once. report.json's ``instructions`` comes from the normal build
(no marks). The profiling build reads the timer at M marks (n + 1 for n untiled layers: one at
the start, one after each layer; a tiled layer marks every band). Each layer is the ticks of its
intervals minus the calibrated cost of its marks, and ``outside_layers`` (the input and output
copies) is the profiling build's total minus all layer intervals minus one mark. So
``sum(layers) + outside_layers = profiled_total - M * mark`` by construction, and the claim under
test is that this equals the mark-free count: that the marks' measured cost explains all the
profiling build's excess. The two differ by
  - the quantisation of the two builds' whole-inference counts (one tick each), and
  - the error of the calibrated mark cost over the M marks (calibration resolves tick / 32 per
    mark, and a mark's cost varies by a few instructions between call sites),
bounded here by one tick per mark: M * instructions_per_tick (M >= 2 also covers the two
quantisation ticks). Measured untiled: at most 45 of a 1,000 bound (VWW, 31 layers,
mps3-an547); tiled (KWS at --sram-budget min, 158 marks): 270 of 6,320. The same bound holds
for the profiling build's excess over the normal build against M * mark. What this bound cannot
see: a mark costs less than a tick (35 instructions on the M4), so forgetting to subtract it
would stay inside one tick per mark; that subtraction is pinned exactly by the test on hand-written
marks below. Independently of the identity above, ``outside_layers`` must be plausible for two
memcpys of the input and output bytes (at most one instruction per byte plus 1,000), so
instructions cannot hide outside the layers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from compiler.profile import parse_profile
from compiler.targets import load_target

needs_qemu = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("arm-none-eabi-gcc", "qemu-system-arm", "make")),
    reason="Arm toolchain or QEMU not installed (bash toolchains/install.sh)",
)

MLPERF_INT8 = ["kws_dscnn_int8", "vww_mbv1_int8", "resnet8_int8", "ad_fcae_int8"]


def test_parse_profile_subtracts_one_mark_per_interval() -> None:
    an386 = load_target("mps2-an386")  # 40 instructions per tick
    stdout = ("EDGEC_RESULT status=0 instructions=4000 stack_bytes=8\n"
              "EDGEC_PROFILE layers=2 calibration_marks=32 calibration_ticks=16\n"
              "EDGEC_MARK 0 3 1\nEDGEC_MARK 1 50 1\nEDGEC_MARK 2 40 3\n")
    p = parse_profile(stdout, an386, profiled_total=4000)
    # mark = 16 ticks * 40 / 32 = 20; layer 0 = 50 ticks * 40 - 1 mark; layer 1 (3 bands) = 40 * 40 - 3 marks
    assert p.mark_instructions == 20
    assert p.layers == (1980, 1540)
    # outside = 4000 - (50 + 40) * 40 - 20
    assert p.outside_layers == 380
    assert p.marks == 5


def test_parse_profile_fractional_ticks_on_systick() -> None:
    an547 = load_target("mps3-an547")  # 32 MHz SysTick: 31.25 instructions per tick
    stdout = "EDGEC_PROFILE layers=1 calibration_marks=32 calibration_ticks=30\nEDGEC_MARK 0 10 1\nEDGEC_MARK 1 100 1\n"
    p = parse_profile(stdout, an547, profiled_total=3500)
    assert p.instructions_per_tick == 31.25
    assert p.layers == (round(100 * 31.25 - 30 * 31.25 / 32),)


def test_parse_profile_rejects_missing_marks() -> None:
    from compiler.errors import ToolchainError

    an386 = load_target("mps2-an386")
    with pytest.raises(ToolchainError, match="expected 0..2"):
        parse_profile("EDGEC_PROFILE layers=2 calibration_marks=32 calibration_ticks=1\nEDGEC_MARK 0 1 1\n", an386, 10)


def _io_bytes(result) -> int:
    program = result.compiled.program
    return sum(program.value(v).nbytes for v in (*program.inputs, *program.outputs))


def _check_sum(report: dict, io_bytes: int, copy_per_byte: int = 1) -> None:
    prof = report["profile"]
    n = len(report["layers"])
    tick = prof["instructions_per_tick"]
    bound = prof["marks"] * tick
    layers = [layer["instructions"] for layer in report["layers"]]
    assert all(isinstance(v, int) and v >= 0 for v in layers)
    assert prof["marks"] >= n + 1  # n + 1 when nothing is tiled
    total = report["instructions"]  # the normal build's count: no marks in it
    assert abs(sum(layers) + prof["outside_layers"] - total) <= bound, (sum(layers), prof, total)
    excess = prof["profiled_total"] - total  # what the marks cost, seen from outside
    assert abs(excess - prof["marks"] * prof["mark_instructions"]) <= bound, (excess, prof)
    assert 10 <= prof["mark_instructions"] <= 60  # a timer read and a store: tens of instructions
    assert 0 < prof["outside_layers"] <= copy_per_byte * io_bytes + 1000, (prof["outside_layers"], io_bytes)
    # a layer that multiplies costs more than the timer can miss
    for layer in report["layers"]:
        if layer["macs"]:
            assert layer["instructions"] > tick, layer


@needs_qemu
@pytest.mark.parametrize("name", MLPERF_INT8)
def test_layers_sum_to_the_total_on_cortex_m4(name: str, profiled_run) -> None:
    result = profiled_run(name, "mps2-an386")
    assert result.matches_reference is True
    _check_sum(result.report, _io_bytes(result))


@needs_qemu
def test_layers_sum_to_the_total_on_systick_target(profiled_run) -> None:
    result = profiled_run("kws_dscnn_int8", "mps3-an547")
    assert result.report["profile"]["instructions_per_tick"] == 31.25
    _check_sum(result.report, _io_bytes(result))


@needs_qemu
def test_layers_sum_to_the_total_on_riscv(profiled_run) -> None:
    """minstret counts every instruction: one tick is one instruction. picolibc's RV32IMAC memcpy copies one
    byte per 6-instruction iteration (lb, sb, three adds, bnez), which the input/output copies pay."""
    result = profiled_run("ad_fcae_int8", "riscv32-virt")
    assert result.matches_reference is True
    assert result.report["profile"]["instructions_per_tick"] == 1
    _check_sum(result.report, _io_bytes(result), copy_per_byte=6)


def test_host_has_no_profile(profiled_run) -> None:
    if shutil.which("gcc") is None or shutil.which("make") is None:
        pytest.skip("host gcc/make not installed")
    report = profiled_run("ad_fcae_int8", "host").report
    assert report["profile"] is None
    assert all(layer["instructions"] is None for layer in report["layers"])
    assert report["instructions"] is None


def test_profiling_build_on_the_host_compiles_clean_and_prints_no_profile(tmp_path) -> None:
    """PROFILE=1 on the host: the marks are no-ops, -Werror holds, ASan/UBSan stay quiet, the output is unchanged."""
    if shutil.which("gcc") is None or shutil.which("make") is None:
        pytest.skip("host gcc/make not installed")
    from compiler.build import build
    from compiler.driver import compile_model
    from compiler.simulate import run

    tiny = Path(__file__).resolve().parent.parent / "examples" / "tiny_cnn" / "tiny_cnn.tflite"
    compiled = compile_model(tiny, "host", tmp_path / "p")
    x = np.load(tiny.parent / "input.npy").tobytes()
    plain = run(build(compiled.outdir, compiled.target, werror=True, sanitize=True), compiled.target, x, 10)
    profiled = build(compiled.outdir, compiled.target, werror=True, sanitize=True, profile=True)
    assert profiled.parent.name == "build-profile"
    sim = run(profiled, compiled.target, x, 10)
    assert sim.output == plain.output and "EDGEC_PROFILE" not in sim.stdout


@needs_qemu
def test_no_profile_leaves_layers_unmeasured(tmp_path) -> None:
    import json
    import subprocess
    import sys

    tiny = Path(__file__).resolve().parent.parent / "examples" / "tiny_cnn" / "tiny_cnn.tflite"
    done = subprocess.run([sys.executable, "-m", "compiler.cli", "run", str(tiny), "--no-profile", "--keep",
                           str(tmp_path / "p"), "--report", str(tmp_path / "r.json")], check=False, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["instructions"] > 0 and report["profile"] is None
    assert all(layer["instructions"] is None for layer in report["layers"])
    assert not (tmp_path / "p" / "build-profile").exists()


@needs_qemu
def test_tiled_layers_sum_to_the_total(tmp_path) -> None:
    """At the smallest arena KWS runs tiled (bands, fused segments): every band's mark is counted and removed."""
    from conftest import mlperf_model

    from compiler.driver import run_model

    model = mlperf_model("kws_dscnn_int8")
    x = np.random.default_rng(3).integers(-128, 128, (1, 49, 10, 1), dtype=np.int8)
    result = run_model(model, "mps2-an386", [x], workdir=tmp_path / "p", sram_budget="min", profile=True)
    assert result.matches_reference is True
    assert result.report["arena"]["tiles"], "expected a tiled plan at --sram-budget min"
    assert result.report["profile"]["marks"] > len(result.report["layers"]) + 1
    _check_sum(result.report, _io_bytes(result))
