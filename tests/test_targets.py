"""Targets are data: every shipped TOML loads into a consistent Target."""

from __future__ import annotations

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
