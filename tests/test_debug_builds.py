"""Builds at the optimisation levels users pick for debugging (-O0, -Og) as well as the default -O2.

The register-resident kernels (inline assembly with a dozen or more register operands) cannot be allocated by GCC at
-O0; runtime_c/include/edgec_asm_opt.h compiles them at -O1 in such a build. These tests prove that every runtime
source compiles without warnings at -O0 and -Og for every Arm core a target names, and that a -O0 firmware runs the
fast paths to the reference's exact output on QEMU (M4 with the DSP assembly, M3, M55 with Helium).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from e2e import Built, assert_bit_identical

from compiler.build import executable_path
from compiler.driver import compile_model
from compiler.targets import list_targets

REPO = Path(__file__).resolve().parent.parent
RUNTIME = REPO / "runtime_c"
TINY = REPO / "examples" / "tiny_cnn" / "tiny_cnn.tflite"
ARM_GCC = "arm-none-eabi-gcc"
needs_arm = pytest.mark.skipif(shutil.which(ARM_GCC) is None, reason="arm-none-eabi-gcc is not installed")
needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm is not installed")


def _arm_core_flags() -> dict[str, tuple[str, ...]]:
    """One target per distinct set of Arm compile flags (the cores and FPU/ABI choices the targets use)."""
    cores: dict[tuple[str, ...], str] = {}
    for t in list_targets():
        if t.tool("gcc") == ARM_GCC:
            cores.setdefault(tuple(t.cflags), t.name)
    return {name: flags for flags, name in cores.items()}


CORES = _arm_core_flags()


@needs_arm
@pytest.mark.parametrize("level", ["-O0", "-Og"])
@pytest.mark.parametrize("target", sorted(CORES))
def test_every_runtime_source_compiles_cleanly_at_debug_levels(tmp_path: Path, target: str, level: str) -> None:
    sources = sorted((RUNTIME / "src").rglob("*.c"))
    includes = ["-I", str(RUNTIME / "include"), *(f"-I{d}" for d in sorted({str(s.parent) for s in sources}))]
    cmd = [ARM_GCC, *CORES[target], "-std=c99", level, "-Wall", "-Wextra", "-Wshadow", "-Wconversion", "-Werror", *includes, "-c",
           *map(str, sources)]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


@needs_arm
@needs_qemu
@pytest.mark.parametrize("target", ["mps2-an386", "mps2-an385", "mps3-an547"])
def test_firmware_built_at_O0_matches_the_reference(tmp_path: Path, target: str) -> None:
    # int8 conv weights: the layer takes edgec_convolve_fast_s8 (the quad assembly) rather than the widened kernel.
    compiled = compile_model(TINY, target, tmp_path / "proj", conv_weights="int8")
    done = subprocess.run(["make", "-C", str(compiled.outdir), "OPT=-O0", "WERROR=1"], capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_bit_identical(TINY, Built(compiled, executable_path(compiled.outdir, compiled.target)), [0, 1])
