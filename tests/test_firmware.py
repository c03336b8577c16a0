"""edgec firmware for real boards, and edgec compile's output as a library in someone else's build.

Every board's project is built from its folder with its own Makefile and with CMake (the real
arm-none-eabi toolchain), and the ELF is read back: every allocated section must run, and load,
inside the board's regions from its target file, and the vector table must hold the stack top in
SRAM and a Thumb reset handler in flash.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import mlperf_model

from compiler import modelbuilder as mb
from compiler.errors import DoesNotFitError, UsageError
from compiler.firmware import write_firmware
from compiler.footprint import placed_sections
from compiler.reference import run_reference
from compiler.targets import Target, load_target

BOARDS = ["arduino-nano33-ble-sense", "nrf52840-dk", "nucleo-l4r5zi", "rpi-pico", "stm32f746g-disco"]
REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "examples" / "tiny_cnn" / "tiny_cnn.tflite"

needs_arm = pytest.mark.skipif(any(shutil.which(t) is None for t in ("arm-none-eabi-gcc", "make", "cmake")),
                               reason="arm-none-eabi-gcc, make or cmake not installed (bash toolchains/install.sh)")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "CC", "CFLAGS")}
    env["LC_ALL"] = "C"
    return env


def _run(cmd: list[str], cwd: Path) -> None:
    done = subprocess.run(cmd, cwd=cwd, check=False, capture_output=True, text=True, env=_env(), timeout=600)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def assert_inside_board(elf: Path, board: Target) -> None:
    """Read the ELF: sections inside the board's regions, vectors where the core looks for them."""
    sections = placed_sections(elf)
    assert {s.name for s in sections} >= {".text", ".rodata", ".bss", ".stack"}
    by_role = {role: [r for r in board.regions if r.role == role] for role in ("flash", "sram")}

    def within(addr: int, size: int, role: str) -> bool:
        return any(r.origin <= addr and addr + size <= r.origin + r.length for r in by_role[role])

    for s in sections:
        assert within(s.addr, s.size, "flash") or within(s.addr, s.size, "sram"), (s, board.name)
        if s.load_addr is not None and s.load_addr != s.addr:  # .data: loaded from flash, runs in SRAM
            assert within(s.load_addr, s.size, "flash") and within(s.addr, s.size, "sram"), s
    assert all(within(s.addr, s.size, "sram") for s in sections if s.name in (".bss", ".stack", ".data"))
    flash = by_role["flash"][0]
    text = next(s for s in sections if s.name == ".text")
    assert text.addr == flash.origin + board.boot_reserved_bytes  # vector table first (after RP2040's boot2)
    data = elf.read_bytes()
    offset = _file_offset(data, text.addr)
    stack_top, reset = struct.unpack_from("<II", data, offset)
    stack = next(s for s in sections if s.name == ".stack")
    assert stack_top == stack.addr + stack.size and within(stack_top - 4, 4, "sram")
    assert reset & 1 and within(reset & ~1, 2, "flash")


def _file_offset(data: bytes, addr: int) -> int:
    (shoff,) = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x2E)
    for i in range(shnum):
        _name, _typ, _flags, sh_addr, sh_offset, sh_size = struct.unpack_from("<IIIIII", data, shoff + i * shentsize)
        if sh_addr <= addr < sh_addr + sh_size and _typ != 8:
            return sh_offset + addr - sh_addr
    raise AssertionError(f"no section holds 0x{addr:08X}")


@pytest.fixture(scope="module")
def kws() -> Path:
    return mlperf_model("kws_dscnn_int8")


@needs_arm
@pytest.mark.mlperf
@pytest.mark.parametrize("name", BOARDS)
def test_firmware_builds_with_make_and_cmake_inside_the_board(name: str, kws: Path, tmp_path: Path) -> None:
    board = load_target(name)
    out = tmp_path / "fw"
    fw = write_firmware(kws, name, out, build=False)
    assert fw.footprint is None
    for rel in ("main.c", "app.c", "app.h", "model.c", "model.h", "target/startup.c", "target/linker.ld", "Makefile",
                "CMakeLists.txt", "cmake/arm-none-eabi.cmake", "library.cmake", "sources.txt", "flags.txt",
                "README.md"):
        assert (out / rel).is_file(), rel
    assert "USER CODE" in (out / "app.c").read_text()
    readme = (out / "README.md").read_text()
    assert board.flash_instructions[0] in readme and "make" in readme and "cmake" in readme
    _run(["make", "-j2", "WERROR=1"], out)
    assert_inside_board(out / "build" / "edgec_model.elf", board)
    assert (out / "build" / "firmware.bin").stat().st_size > 0
    _run(["cmake", "-S", ".", "-B", "build-cmake"], out)
    _run(["cmake", "--build", "build-cmake", "-j2"], out)
    assert_inside_board(out / "build-cmake" / "edgec_model.elf", board)


@needs_arm
def test_firmware_default_builds_once_and_reports_the_fit(tmp_path: Path) -> None:
    out = tmp_path / "fw"
    done = subprocess.run([sys.executable, "-m", "compiler.cli", "firmware", str(TINY), "--board", "cortex-m0plus",
                           "-o", str(out)], check=False, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "every section inside the board's regions" in done.stdout
    assert not (out / "build").exists()  # built in staging to check the fit, then cleaned
    report = json.loads((out / "report.json").read_text())
    assert report["target"] == "rpi-pico"
    flash = report["flash_bytes"]
    assert flash["weights"] == 776 and flash["total"] > flash["weights"] + 256  # boot2 space, code
    assert f"{flash['total']:,}" in (out / "README.md").read_text()
    # Only the kernels tiny_cnn calls are copied; it has no max pooling and no float edges.
    copied = {p.name for p in (out / "runtime").rglob("*.c")}
    assert "edgec_convolve_fast_s8.c" in copied and "edgec_maxpool_s8.c" not in copied
    assert "edgec_quantize_f32_s8.c" not in copied


def test_firmware_needs_a_board_and_boards_need_firmware(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a board"):
        write_firmware(TINY, "mps2-an386", tmp_path / "a", build=False)
    done = subprocess.run([sys.executable, "-m", "compiler.cli", "compile", str(TINY), "--target", "nrf52840-dk",
                           "-o", str(tmp_path / "b")], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 5 and "edgec firmware" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "b").exists()


def test_firmware_that_does_not_fit_writes_nothing(tmp_path: Path) -> None:
    big = mb.conv2d_model(input_shape=(1, 80, 80, 16), out_channels=16, seed=1)  # 102,400 B in, 102,400 B out
    with pytest.raises(DoesNotFitError, match=r"bytes of SRAM.*rpi-pico|rpi-pico.*bytes of SRAM"):
        write_firmware(big, "rpi-pico", tmp_path / "fw", build=False)
    assert list(tmp_path.iterdir()) == []


def test_firmware_uses_compile_output_rules(tmp_path: Path) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="--force"):
        write_firmware(TINY, "nrf52840-dk", foreign, build=False)
    assert (foreign / "notes.txt").read_text() == "keep me"
    write_firmware(TINY, "nrf52840-dk", foreign, build=False, force=True)
    assert (foreign / ".edgec-output").is_file() and not (foreign / "notes.txt").exists()
    write_firmware(TINY, "rpi-pico", foreign, build=False)  # edgec's own output: replaced without --force
    assert "rpi-pico" in (foreign / "Makefile").read_text()


# ---- edgec compile's output as a library --------------------------------------------------------


@pytest.fixture(scope="module")
def host_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from compiler.driver import compile_model

    out = tmp_path_factory.mktemp("lib") / "model"
    compile_model(TINY, "host", out)
    return out


APP_C = """#include <stdio.h>
#include "model.h"
static signed char in[EDGEC_MODEL_INPUT_BYTES];
static signed char out[EDGEC_MODEL_OUTPUT_BYTES];
int main(int argc, char **argv) {
    FILE *f = fopen(argv[1], "rb");
    if (argc < 3 || f == NULL || fread(in, 1, sizeof in, f) != sizeof in) { return 2; }
    fclose(f);
    if (edgec_model_invoke(in, out) != 0) { return 3; }
    f = fopen(argv[2], "wb");
    fwrite(out, 1, sizeof out, f);
    fclose(f);
    return 0;
}
"""


def _check_app(exe: Path, tmp_path: Path) -> None:
    x = np.random.default_rng(5).integers(-128, 128, (1, 16, 16, 1), dtype=np.int8)
    (tmp_path / "x.bin").write_bytes(x.tobytes())
    _run([str(exe), str(tmp_path / "x.bin"), str(tmp_path / "y.bin")], tmp_path)
    expected = run_reference(TINY, [x])[0]
    got = np.frombuffer((tmp_path / "y.bin").read_bytes(), dtype=np.int8).reshape(expected.shape)
    assert np.array_equal(got, expected)


def test_library_lists_build_a_foreign_program(host_library: Path, tmp_path: Path) -> None:
    """sources.txt + flags.txt alone, from the project folder, link into another program that runs bit-identically."""
    sources = (host_library / "sources.txt").read_text().split()
    flags = (host_library / "flags.txt").read_text().split()
    assert sources[0] == "model.c" and all((host_library / s).is_file() for s in sources)
    assert "runtime/src/pooling/edgec_maxpool_s8.c" not in sources  # only what tiny_cnn calls
    (tmp_path / "app.c").write_text(APP_C)
    exe = tmp_path / "app"
    cmd = ["gcc", *flags, "-Wall", "-Wextra", "-Werror", str(tmp_path / "app.c"), *sources, "-o", str(exe)]
    _run(cmd, host_library)
    _check_app(exe, tmp_path)


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
def test_library_cmake_target_links_into_a_foreign_project(host_library: Path, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.c").write_text(APP_C)
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(consumer C)\n"
        f'include("{host_library}/library.cmake")\n'
        "add_executable(app app.c)\ntarget_link_libraries(app PRIVATE edgec_model)\n")
    _run(["cmake", "-S", ".", "-B", "build"], app)
    _run(["cmake", "--build", "build"], app)
    _check_app(app / "build" / "app", tmp_path)


def test_firmware_conv_weights_choose_the_layout_and_its_flash(tmp_path: Path) -> None:
    """On a Cortex-M4 board auto widens the CONV_2D weights to int16 (the fast loop); int8 keeps them as in the
    model, for the smallest flash."""
    auto = write_firmware(TINY, "nucleo-l4r5zi", tmp_path / "auto", build=False)
    small = write_firmware(TINY, "nucleo-l4r5zi", tmp_path / "int8", build=False, conv_weights="int8")
    layouts = lambda fw: {op.weight_layout for op in fw.program.ops if op.kind.name == "CONV_2D"}  # noqa: E731
    assert layouts(auto) == {"w16"} and layouts(small) == {"ohwi"}
    assert small.program.constant_bytes < auto.program.constant_bytes
