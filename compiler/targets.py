"""Targets as data: one TOML file per machine under ``targets/`` becomes one frozen :class:`Target`.

A target says which CPU and toolchain flags to compile for, where code and data live
(memory regions, rendered into the linker script), how much flash and SRAM the fit checks
may assume, and how to run the result: as a host process (``kind = "host"``) or on a QEMU
machine (``kind = "qemu"``) with a timer that counts executed instructions. A real board
(``kind = "board"``) is compile-only: its memory regions come from the vendor's datasheet and
``edgec firmware`` writes a flashable project for it; nothing runs it here.

Targets can also be named by an alias (``aliases = ["cortex-m4"]`` in the file): ``load_target``
accepts either, and an alias belongs to exactly one target.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Any, Literal

from compiler.errors import InternalError, UsageError
from compiler.resources import targets_dir

DEFAULT_TARGET = "mps2-an386"

TargetKind = Literal["host", "qemu", "board"]
RegionRole = Literal["flash", "sram"]

_KINDS: tuple[str, ...] = ("host", "qemu", "board")
_ROLES: tuple[str, ...] = ("flash", "sram")
_TIMER_KINDS: tuple[str, ...] = ("cmsdk-apb-timer", "systick", "riscv-instret")


@dataclass(frozen=True, slots=True)
class MemoryRegion:
    """One region of the memory map, as the linker script's ``MEMORY`` block names it."""

    name: str
    role: RegionRole
    origin: int
    length: int

    @property
    def end(self) -> int:
        return self.origin + self.length


@dataclass(frozen=True, slots=True)
class SimTimer:
    """The free-running timer the simulation main reads around one inference.

    ``kind`` is the peripheral model: ``"cmsdk-apb-timer"`` (32-bit, ``irq`` is its external
    interrupt number, used to count wraps) or ``"systick"`` (the core's 24-bit SysTick at
    0xE000E010 on the processor clock; ``irq`` is -1, i.e. exception 15) or ``"riscv-instret"``
    (the minstret CSR pair: ``hz`` is 1 GHz, one count per instruction, no interrupt). ``base`` is
    its address, ``hz`` its clock.
    """

    kind: str
    base: int
    irq: int
    hz: int


@dataclass(frozen=True, slots=True)
class Target:
    """A machine or board edgec compiles for, loaded from ``targets/<name>.toml``."""

    name: str
    description: str
    kind: TargetKind
    cpu: str
    arch: str
    features: tuple[str, ...]
    toolchain_prefix: str
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...]
    qemu_machine: str | None = None
    clock_hz: int | None = None
    regions: tuple[MemoryRegion, ...] = ()
    flash_bytes: int | None = None
    """Capacity for fit checks; None means unlimited (host)."""
    sram_bytes: int | None = None
    """Capacity for fit checks; None means unlimited (host)."""
    stack_bytes: int | None = None
    """Main stack reserved by the linker script (bare-metal targets)."""
    heap_bytes: int | None = None
    """Heap reserved by the linker script for newlib's stdio (bare-metal targets)."""
    irq_count: int = 0
    """External interrupt vectors in the start-up code's vector table."""
    timer: SimTimer | None = None
    startup_template: str | None = None
    """File name under ``targets/templates/`` rendered to ``target/startup.c``."""
    linker_template: str | None = None
    """File name under ``targets/templates/`` rendered to ``target/linker.ld``."""
    qemu_binary: str = "qemu-system-arm"
    """The QEMU system emulator that runs this machine."""
    qemu_args: tuple[str, ...] = ()
    """Extra QEMU arguments, e.g. ``-bios none`` on RISC-V ``virt``."""
    aliases: tuple[str, ...] = ()
    """Other names ``load_target`` accepts, e.g. the core name ``cortex-m4``."""
    harness_sram_bytes: int = 0
    """Static data of the simulation main and its C library (measured; used by the fit checks)."""
    harness_flash_bytes: int = 0
    """Code of the simulation main, start-up and C library (measured; used by the fit checks)."""
    boot_reserved_bytes: int = 0
    """Bytes at the start of flash kept for a boot stage the vendor supplies (RP2040's boot2)."""
    flash_instructions: tuple[str, ...] = ()
    """Boards: how to put the built firmware on the board (lines of the firmware README)."""
    source: str | None = None
    """Boards: the vendor documents the memory map was taken from."""

    @property
    def is_host(self) -> bool:
        return self.kind == "host"

    @property
    def is_qemu(self) -> bool:
        return self.kind == "qemu"

    @property
    def is_board(self) -> bool:
        """A real board: compile-only (``edgec firmware``), no emulator."""
        return self.kind == "board"

    @property
    def is_riscv(self) -> bool:
        return self.arch.startswith("rv")

    @property
    def executable_name(self) -> str:
        """File name of the linked program under the project's ``build/`` folder."""
        return "edgec_model" if self.is_host else "edgec_model.elf"

    @property
    def instructions_per_tick(self) -> int | None:
        """Instructions per timer tick under ``-icount shift=0`` (1 ns of virtual time each).

        None without a timer, or when a tick is not a whole number of instructions (see
        :attr:`ticks_to_instructions`).
        """
        if self.timer is None or 1_000_000_000 % self.timer.hz:
            return None
        return 1_000_000_000 // self.timer.hz

    @property
    def ticks_to_instructions(self) -> tuple[int, int] | None:
        """Instructions per tick as a reduced fraction (numerator, denominator), e.g. 125/4 at 32 MHz."""
        if self.timer is None:
            return None
        g = gcd(1_000_000_000, self.timer.hz)
        return 1_000_000_000 // g, self.timer.hz // g

    @property
    def flash_region(self) -> MemoryRegion | None:
        return next((r for r in self.regions if r.role == "flash"), None)

    @property
    def sram_region(self) -> MemoryRegion | None:
        return next((r for r in self.regions if r.role == "sram"), None)

    def tool(self, name: str) -> str:
        """Command name of a toolchain program, e.g. ``tool("gcc") == "arm-none-eabi-gcc"``."""
        return self.toolchain_prefix + name


def _target_files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(targets_dir().glob("*.toml"))}


def _get(table: dict[str, Any], key: str, typ: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise InternalError(f"{where}: missing key {key!r}")
        return default
    value = table[key]
    if not isinstance(value, typ) or (isinstance(value, bool) and typ is int):
        raise InternalError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")
    return value


def _str_tuple(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _get(table, key, list, where, [])
    if not all(isinstance(v, str) for v in values):
        raise InternalError(f"{where}: {key!r} must be a list of strings")
    return tuple(values)


def _parse(path: Path) -> Target:
    """Read one target file; a malformed file shipped with edgec is an InternalError."""
    where = str(path)
    try:
        with path.open("rb") as f:
            doc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise InternalError(f"{where}: cannot read target description: {e}") from e
    kind = _get(doc, "kind", str, where)
    if kind not in _KINDS:
        raise InternalError(f"{where}: kind must be one of {', '.join(_KINDS)}, not {kind!r}")
    toolchain = _get(doc, "toolchain", dict, where, {})
    qemu = _get(doc, "qemu", dict, where, {})
    memory = _get(doc, "memory", dict, where, {})
    templates = _get(doc, "templates", dict, where, {})
    regions = []
    for i, reg in enumerate(_get(memory, "regions", list, where, [])):
        rwhere = f"{where}: memory.regions[{i}]"
        role = _get(reg, "role", str, rwhere)
        if role not in _ROLES:
            raise InternalError(f"{rwhere}: role must be one of {', '.join(_ROLES)}")
        regions.append(
            MemoryRegion(
                name=_get(reg, "name", str, rwhere),
                role=role,
                origin=_get(reg, "origin", int, rwhere),
                length=_get(reg, "length", int, rwhere),
            )
        )
    timer = None
    if "timer" in doc:
        t = _get(doc, "timer", dict, where)
        twhere = f"{where}: timer"
        timer = SimTimer(
            kind=_get(t, "kind", str, twhere),
            base=_get(t, "base", int, twhere),
            irq=_get(t, "irq", int, twhere),
            hz=_get(t, "hz", int, twhere),
        )
        if timer.kind not in _TIMER_KINDS:
            raise InternalError(f"{twhere}: kind must be one of {', '.join(_TIMER_KINDS)}, not {timer.kind!r}")
        if timer.kind == "cmsdk-apb-timer" and 1_000_000_000 % timer.hz:
            raise InternalError(f"{twhere}: a cmsdk-apb-timer needs a clock that divides 1 GHz")
    target = Target(
        name=_get(doc, "name", str, where),
        description=_get(doc, "description", str, where),
        kind=kind,
        cpu=_get(doc, "cpu", str, where),
        arch=_get(doc, "arch", str, where),
        features=_str_tuple(doc, "features", where),
        toolchain_prefix=_get(toolchain, "prefix", str, where, ""),
        cflags=_str_tuple(toolchain, "cflags", where),
        ldflags=_str_tuple(toolchain, "ldflags", where),
        qemu_machine=_get(qemu, "machine", str, where, None),
        clock_hz=_get(doc, "clock_hz", int, where, None),
        regions=tuple(regions),
        flash_bytes=_get(memory, "flash_bytes", int, where, None),
        sram_bytes=_get(memory, "sram_bytes", int, where, None),
        stack_bytes=_get(memory, "stack_bytes", int, where, None),
        heap_bytes=_get(memory, "heap_bytes", int, where, None),
        irq_count=_get(memory, "irq_count", int, where, 0),
        timer=timer,
        startup_template=_get(templates, "startup", str, where, None),
        linker_template=_get(templates, "linker", str, where, None),
        qemu_binary=_get(qemu, "binary", str, where, "qemu-system-arm"),
        qemu_args=_str_tuple(qemu, "args", where),
        aliases=_str_tuple(doc, "aliases", where),
        harness_sram_bytes=_get(memory, "harness_sram_bytes", int, where, 0),
        harness_flash_bytes=_get(memory, "harness_flash_bytes", int, where, 0),
        boot_reserved_bytes=_get(memory, "boot_reserved_bytes", int, where, 0),
        flash_instructions=_str_tuple(doc.get("board", {}), "flash", where),
        source=_get(doc.get("board", {}), "source", str, where, None),
    )
    if target.name != path.stem:
        raise InternalError(f"{where}: name {target.name!r} differs from the file name")
    if target.is_qemu or target.is_board:
        needs = (
            ("qemu.machine", target.qemu_machine or target.is_board),
            ("memory.regions (flash and sram)", target.flash_region and target.sram_region),
            ("memory.stack_bytes", target.stack_bytes),
            ("memory.heap_bytes", target.heap_bytes is not None),
            ("timer", target.timer or target.is_board),
            ("templates.startup", target.startup_template or target.is_board),
            ("templates.linker", target.linker_template or target.is_board),
            ("board.flash and board.source", (target.flash_instructions and target.source) or not target.is_board),
        )
        missing = [k for k, v in needs if not v]
        if missing:
            raise InternalError(f"{where}: a {target.kind} target needs {', '.join(missing)}")
    return target


def list_targets() -> list[Target]:
    """Every target shipped with edgec, sorted by name."""
    return [_parse(p) for p in _target_files().values()]


def aliases() -> dict[str, str]:
    """Every alias and the target it names; InternalError if two targets claim one name."""
    names: dict[str, str] = {}
    files = _target_files()
    for target in list_targets():
        for alias in target.aliases:
            if alias in files or alias in names:
                raise InternalError(f"alias {alias!r} of target {target.name} is already a target or alias")
            names[alias] = target.name
    return names


def load_target(name: str) -> Target:
    """The target called ``name`` (or an alias of it); UsageError naming the known targets if there is none."""
    files = _target_files()
    path = files.get(name)
    if path is None:
        by_alias = aliases()
        if name in by_alias:
            return _parse(files[by_alias[name]])
        known = ", ".join(files) or "(none installed)"
        extra = f"; aliases: {', '.join(sorted(by_alias))}" if by_alias else ""
        raise UsageError(f"unknown target {name!r}; known targets: {known}{extra}")
    return _parse(path)


def _kib(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n // 1024:,} KiB" if n % 1024 == 0 else f"{n:,} B"


def target_table() -> str:
    """The ``edgec targets`` listing: name (default marked *), kind, core, features, flash, SRAM, emulated, aliases."""
    header = ("", "target", "kind", "core", "features", "flash", "SRAM", "emulated", "aliases")
    rows = [header]
    for t in list_targets():
        emulated = f"QEMU {t.qemu_machine}" if t.is_qemu else ("host process" if t.is_host else "no (firmware only)")
        features = ",".join(f.upper() for f in t.features) or "-"
        rows.append(("*" if t.name == DEFAULT_TARGET else "", t.name, t.kind, t.cpu, features, _kib(t.flash_bytes),
                     _kib(t.sram_bytes), emulated, ", ".join(t.aliases) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [(r[0].ljust(widths[0]) + " " + "  ".join(c.ljust(w) for c, w in zip(r[1:], widths[1:]))).rstrip()
             for r in rows]
    legend = "* default target; FPU/DSP/MVE as the core has them; flash and SRAM as the fit checks use them"
    return "\n".join([*lines, legend])
