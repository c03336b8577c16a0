"""Targets are data: every shipped TOML loads into a consistent Target."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.errors import UsageError
from compiler.resources import targets_dir
from compiler.targets import DEFAULT_TARGET, Target, list_targets, load_target


def test_list_targets_has_host_and_default() -> None:
    names = [t.name for t in list_targets()]
    assert names == sorted(names)
    assert "host" in names
    assert DEFAULT_TARGET in names


def test_every_target_loads_by_name() -> None:
    for target in list_targets():
        assert load_target(target.name) == target
        assert isinstance(target, Target)
        assert target.description


def test_unknown_target_lists_known_ones() -> None:
    with pytest.raises(UsageError) as info:
        load_target("no-such-board")
    message = str(info.value)
    assert "no-such-board" in message
    for target in list_targets():
        assert target.name in message


def test_mps2_an386_facts() -> None:
    t = load_target("mps2-an386")
    assert t.kind == "qemu" and t.is_qemu and not t.is_host
    assert t.cpu == "cortex-m4" and t.arch == "armv7e-m"
    assert set(t.features) == {"dsp", "fpu"}
    assert t.qemu_machine == "mps2-an386"
    assert t.clock_hz == 25_000_000
    assert t.tool("gcc") == "arm-none-eabi-gcc"
    assert "-mcpu=cortex-m4" in t.cflags
    flash, sram = t.flash_region, t.sram_region
    assert flash is not None and (flash.origin, flash.length) == (0x0, 4 << 20)
    assert sram is not None and (sram.origin, sram.length) == (0x20000000, 4 << 20)
    assert t.flash_bytes == flash.length and t.sram_bytes == sram.length
    assert t.timer is not None and t.timer.base == 0x40000000 and t.timer.irq == 8
    assert t.instructions_per_tick == 40
    assert t.executable_name == "edgec_model.elf"
    assert t.stack_bytes and t.heap_bytes and t.stack_bytes + t.heap_bytes < sram.length
    for name in (t.startup_template, t.linker_template):
        assert name is not None and (targets_dir() / "templates" / name).is_file()


def test_trustzone_and_helium_targets() -> None:
    """AN505 runs in Secure state from the Secure aliases; AN547 counts with SysTick at 32 MHz."""
    an505 = load_target("mps2-an505")
    assert an505.cpu == "cortex-m33" and an505.qemu_machine == "mps2-an505"
    assert an505.flash_region is not None and an505.flash_region.origin == 0x10000000
    assert an505.sram_region is not None and an505.sram_region.origin == 0x38000000
    assert an505.timer is not None and (an505.timer.kind, an505.timer.base, an505.timer.irq) == (
        "cmsdk-apb-timer", 0x40000000, 3)
    assert an505.instructions_per_tick == 50 and an505.ticks_to_instructions == (50, 1)
    an547 = load_target("mps3-an547")
    assert an547.cpu == "cortex-m55" and "mve" in an547.features
    assert an547.flash_region is not None and (an547.flash_region.origin, an547.flash_region.length) == (0, 512 << 10)
    assert an547.sram_region is not None and (an547.sram_region.origin, an547.sram_region.length) == (
        0x20000000, 512 << 10)
    assert an547.timer is not None and (an547.timer.kind, an547.timer.irq) == ("systick", -1)
    assert an547.instructions_per_tick is None and an547.ticks_to_instructions == (125, 4)
    assert an547.stack_bytes and an547.heap_bytes and an547.stack_bytes + an547.heap_bytes < an547.sram_region.length


def test_host_target_is_unmeasured() -> None:
    t = load_target("host")
    assert t.is_host
    assert t.timer is None and t.instructions_per_tick is None
    assert t.flash_bytes is None and t.sram_bytes is None
    assert t.regions == ()
    assert t.tool("gcc") == "gcc"
    assert t.executable_name == "edgec_model"


def test_target_is_frozen() -> None:
    t = load_target("host")
    with pytest.raises(AttributeError):
        t.name = "other"  # type: ignore[misc]


# ---- new cores, aliases, boards ------------------------------------------------------------


def test_microbit_is_the_small_cortex_m0() -> None:
    t = load_target("microbit")
    assert t.cpu == "cortex-m0" and t.arch == "armv6-m" and t.features == ()
    assert t.qemu_machine == "microbit" and t.qemu_binary == "qemu-system-arm"
    flash, sram = t.flash_region, t.sram_region
    assert flash is not None and (flash.origin, flash.length) == (0, 256 << 10)
    assert sram is not None and (sram.origin, sram.length) == (0x20000000, 16 << 10)
    assert t.timer is not None and (t.timer.kind, t.timer.hz) == ("systick", 16_000_000)
    assert t.ticks_to_instructions == (125, 2)  # 62.5 instructions per tick under -icount shift=0
    assert "-mcpu=cortex-m0" in t.cflags


def test_riscv_target_uses_its_own_emulator_and_templates() -> None:
    t = load_target("riscv32-virt")
    assert t.is_qemu and t.is_riscv and t.cpu == "rv32imac"
    assert t.qemu_binary == "qemu-system-riscv32" and t.qemu_args == ("-bios", "none")
    assert t.tool("gcc") == "riscv64-unknown-elf-gcc"
    assert {"-march=rv32imac", "-mabi=ilp32"} <= set(t.cflags)
    assert t.timer is not None and t.timer.kind == "riscv-instret" and t.instructions_per_tick == 1
    assert (t.startup_template, t.linker_template) == ("riscv_startup.c.j2", "riscv_linker.ld.j2")


@pytest.mark.parametrize(("alias", "name"), [
    ("cortex-m0", "microbit"), ("cortex-m3", "mps2-an385"), ("cortex-m4", "mps2-an386"), ("cortex-m7", "mps2-an500"),
    ("cortex-m33", "mps2-an505"), ("cortex-m55", "mps3-an547"), ("rv32imac", "riscv32-virt"),
    ("riscv32", "riscv32-virt"), ("rp2040", "rpi-pico")])
def test_core_name_aliases(alias: str, name: str) -> None:
    assert load_target(alias) == load_target(name)


def test_aliases_are_unique_and_listed_in_errors() -> None:
    from compiler.targets import aliases

    names = aliases()
    assert len(names) == sum(len(t.aliases) for t in list_targets())
    assert not set(names) & {t.name for t in list_targets()}
    with pytest.raises(UsageError, match="cortex-m4"):
        load_target("cortex-m99")


BOARDS = ["arduino-nano33-ble-sense", "nrf52840-dk", "nucleo-l4r5zi", "rpi-pico", "stm32f746g-disco"]


def test_boards_are_compile_only_with_cited_regions() -> None:
    assert sorted(t.name for t in list_targets() if t.is_board) == BOARDS
    for name in BOARDS:
        t = load_target(name)
        assert not t.is_qemu and t.timer is None and t.source and t.flash_instructions
        flash, sram = t.flash_region, t.sram_region
        assert flash is not None and sram is not None
        assert (t.flash_bytes, t.sram_bytes) == (flash.length, sram.length)
        assert t.stack_bytes and t.stack_bytes < sram.length


@pytest.mark.parametrize(("name", "flash", "sram"), [
    # (origin, length) from the vendors' documents cited in each file
    ("nucleo-l4r5zi", (0x08000000, 2 << 20), (0x20000000, 640 << 10)),
    ("stm32f746g-disco", (0x08000000, 1 << 20), (0x20000000, 320 << 10)),
    ("nrf52840-dk", (0x0, 1 << 20), (0x20000000, 256 << 10)),
    ("arduino-nano33-ble-sense", (0x10000, (1 << 20) - 0x10000), (0x20000000, 256 << 10)),
    ("rpi-pico", (0x10000000, 2 << 20), (0x20000000, 264 << 10)),
])
def test_board_memory_maps(name: str, flash: tuple[int, int], sram: tuple[int, int]) -> None:
    t = load_target(name)
    assert t.flash_region is not None and (t.flash_region.origin, t.flash_region.length) == flash
    assert t.sram_region is not None and (t.sram_region.origin, t.sram_region.length) == sram


def test_targets_command_lists_core_features_memory_and_emulation() -> None:
    from compiler.targets import target_table

    lines = target_table().splitlines()
    assert lines[0].split()[:8] == ["target", "kind", "core", "features", "flash", "SRAM", "emulated", "aliases"]
    rows = {}
    for line in lines[1:-1]:
        cells = line.split()
        rows[cells[1] if cells[0] == "*" else cells[0]] = line
    assert rows["mps2-an386"].startswith("*")
    assert "DSP,FPU,MVE" in rows["mps3-an547"] and "QEMU mps3-an547" in rows["mps3-an547"]
    assert "16 KiB" in rows["microbit"] and "cortex-m0" in rows["microbit"]
    assert "no (firmware only)" in rows["rpi-pico"] and "264 KiB" in rows["rpi-pico"]
    assert "QEMU virt" in rows["riscv32-virt"]


# ---- instruction counting on the new cores: a loop of known length -----------------------------

LOOP_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "loop_model"


def _loop_count(root: Path, target: Target, iterations: int) -> int:
    import shutil

    from compiler.build import build
    from compiler.codegen.project import write_project_support
    from compiler.simulate import run

    outdir = root / f"{target.name}-{iterations}"
    shutil.copytree(LOOP_FIXTURE, outdir)
    (outdir / "loop_config.h").write_text(f"#define LOOP_ITERATIONS {iterations}u\n")
    write_project_support(outdir, target, "generated by edgec test; do not edit")
    result = run(build(outdir, target, werror=True), target, b"\x01\x02\x03\x04", 4, timeout_s=120)
    assert result.output == b"\x01\x02\x03\x04" and result.instructions is not None
    return result.instructions


@pytest.mark.qemu
@pytest.mark.parametrize(("name", "tolerance"), [("riscv32-virt", 0), ("microbit", 63)])
def test_ten_million_iteration_loop_reads_what_it_should(name: str, tolerance: int, tmp_path: Path) -> None:
    """2 instructions x 10,000,000 more iterations must read 20,000,000 more instructions: exactly on
    RISC-V (minstret), within one 62.5-instruction SysTick tick on the micro:bit."""
    import shutil

    target = load_target(name)
    if any(shutil.which(t) is None for t in (target.tool("gcc"), target.qemu_binary)):
        pytest.skip(f"toolchain or QEMU for {name} not installed (bash toolchains/install.sh)")
    ten, twenty = (_loop_count(tmp_path, target, n) for n in (10_000_000, 20_000_000))
    assert abs((twenty - ten) - 20_000_000) <= tolerance
    assert 20_000_000 <= ten + tolerance and ten - 20_000_000 < 200  # plus the call and the counter reads
