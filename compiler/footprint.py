"""Flash and static RAM of a linked program, read from its ELF file (and its linker map).

The ELF is parsed here with ``struct`` (32- and 64-bit, little-endian: Arm and x86-64), so
no toolchain program is needed and host and bare-metal programs are measured the same way:

- flash = every allocated section with contents: code, read-only data and the load image
  of ``.data`` (``text + rodata + data``);
- weights = the sizes of all ``edgec_const_*`` symbols (the model's constant arrays);
- code = flash - weights (this includes the simulation harness and libc, see below);
- data / bss = initialised / zero-initialised RAM; the ``.heap`` and ``.stack`` sections the
  bare-metal linker script reserves are reported apart, not in bss.

When the linker map (``build/edgec_model.map`` beside the program) is present, flash is
also split by who put it there: the model's own objects (every ``build/obj/`` object except
the simulation ``main.o`` and the start-up code under ``build/obj/target/``: model.c, other
generated sources, the runtime kernels) versus the harness (simulation main, start-up, newlib
or glibc start files, stdio, and any libc function the model calls, such as memcpy).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

from compiler.errors import ToolchainError
from compiler.targets import Target

__all__ = ["WEIGHTS_PREFIX", "Footprint", "Placed", "measure", "placed_sections"]

WEIGHTS_PREFIX = "edgec_const_"

_SHT_NOBITS = 8
_SHT_SYMTAB = 2
_SHF_WRITE = 0x1
_SHF_ALLOC = 0x2
_SHF_EXECINSTR = 0x4
_RESERVED_SECTIONS = {".heap": "heap", ".stack": "stack"}


@dataclass(frozen=True, slots=True)
class Footprint:
    """Sizes in bytes of one linked program."""

    flash_total: int
    """text + rodata + data load image."""
    flash_weights: int
    """Sum of the sizes of the ``edgec_const_*`` symbols."""
    flash_code: int
    """flash_total - flash_weights."""
    data: int
    """Initialised RAM (also stored in flash as its load image)."""
    bss: int
    """Zero-initialised RAM (the model's arena lives here), without reserved heap/stack."""
    text: int
    """Executable sections."""
    rodata: int
    """Read-only data sections (the weights and other constants)."""
    heap_reserved: int
    """The ``.heap`` section of the bare-metal linker script (0 when absent)."""
    stack_reserved: int
    """The ``.stack`` section of the bare-metal linker script (0 when absent)."""
    weights: tuple[tuple[str, int], ...]
    """Each ``edgec_const_*`` symbol and its size, sorted by name."""
    flash_model: int | None = None
    """Flash from the model's own objects (model.c, runtime kernels), weights included; None
    without a linker map."""
    flash_harness: int | None = None
    """flash_total - flash_model: simulation main, start-up, libc; None without a linker map."""

    @property
    def sram_static(self) -> int:
        """RAM the program occupies before it runs: data + bss."""
        return self.data + self.bss

    @property
    def flash_model_code(self) -> int | None:
        """Code and non-weight constants of the model's own objects."""
        return None if self.flash_model is None else self.flash_model - self.flash_weights


@dataclass(frozen=True, slots=True)
class _Section:
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int
    link: int
    entsize: int


def _read_elf(path: Path) -> tuple[list[_Section], bytes]:
    data = path.read_bytes()
    if len(data) < 52 or data[:4] != b"\x7fELF":
        raise ToolchainError(f"{path}: not an ELF file")
    elf_class, endian = data[4], data[5]
    if endian != 1:
        raise ToolchainError(f"{path}: big-endian ELF files are not supported")
    if elf_class == 1:
        (shoff,) = struct.unpack_from("<I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
        fmt = "<IIIIIIIIII"
    elif elf_class == 2:
        (shoff,) = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
        fmt = "<IIQQQQIIQQ"
    else:
        raise ToolchainError(f"{path}: unknown ELF class {elf_class}")
    raw = []
    for i in range(shnum):
        name, typ, flags, addr, offset, size, link, _info, _align, entsize = struct.unpack_from(
            fmt, data, shoff + i * shentsize
        )
        raw.append((name, typ, flags, addr, offset, size, link, entsize))
    strtab_off = raw[shstrndx][4] if shstrndx < len(raw) else 0

    def cstr(offset: int) -> str:
        end = data.index(b"\0", offset)
        return data[offset:end].decode("utf-8", "replace")

    sections = [_Section(cstr(strtab_off + r[0]), *r[1:]) for r in raw]
    return sections, data


def _weights(sections: list[_Section], data: bytes, elf64: bool) -> dict[str, int]:
    """Sizes of the defined ``edgec_const_*`` symbols, local or global."""
    found: dict[tuple[str, int], int] = {}
    for sec in sections:
        if sec.type != _SHT_SYMTAB or sec.entsize == 0:
            continue
        strtab = sections[sec.link]
        for off in range(sec.offset, sec.offset + sec.size, sec.entsize):
            if elf64:
                st_name, _info, _other, shndx, value, size = struct.unpack_from("<IBBHQQ", data, off)
            else:
                st_name, value, size, _info, _other, shndx = struct.unpack_from("<IIIBBH", data, off)
            if shndx == 0 or st_name == 0:
                continue
            start = strtab.offset + st_name
            name = data[start : data.index(b"\0", start)].decode("utf-8", "replace")
            if name.startswith(WEIGHTS_PREFIX):
                found[(name, value)] = size
    totals: dict[str, int] = {}
    for (name, _value), size in found.items():
        totals[name] = totals.get(name, 0) + size
    return totals


@dataclass(frozen=True, slots=True)
class Placed:
    """Where one allocated section of a linked program lives: run address and, when it has contents, load address."""

    name: str
    addr: int
    size: int
    load_addr: int | None
    """None for sections without contents in the file (.bss, .stack): nothing is loaded for them."""


def placed_sections(executable: Path) -> list[Placed]:
    """Every allocated, non-empty section with its run and load address (from the section and program headers)."""
    sections, data = _read_elf(Path(executable))
    elf64 = data[4] == 2
    if elf64:
        (phoff,) = struct.unpack_from("<Q", data, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
        fmt = "<IIQQQQQQ"
    else:
        (phoff,) = struct.unpack_from("<I", data, 0x1C)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x2A)
        fmt = "<IIIIIIII"
    segments = []  # (offset, vaddr, paddr, filesz) of PT_LOAD
    for i in range(phnum):
        fields = struct.unpack_from(fmt, data, phoff + i * phentsize)
        if elf64:
            ptype, _flags, offset, vaddr, paddr, filesz = fields[:6]
        else:
            ptype, offset, vaddr, paddr, filesz = fields[:5]
        if ptype == 1:
            segments.append((offset, vaddr, paddr, filesz))
    placed = []
    for sec in sections:
        if not sec.flags & _SHF_ALLOC or sec.size == 0:
            continue
        load = None
        if sec.type != _SHT_NOBITS:
            for offset, _vaddr, paddr, filesz in segments:
                if offset <= sec.offset < offset + filesz:
                    load = paddr + (sec.offset - offset)
                    break
        placed.append(Placed(sec.name, sec.addr, sec.size, load))
    return placed


_HEX = re.compile(r"^0x[0-9a-fA-F]+$")


def _flash_by_object(map_path: Path, flash_sections: set[str]) -> dict[str, int]:
    """Bytes each input file contributes to the flash output sections, from a GNU ld map.

    Merged string sections are listed with overlapping ranges; each entry is clipped at the
    next entry's address so that the parts add up to the section sizes.
    """
    text = map_path.read_text(encoding="utf-8", errors="replace")
    start = text.find("Linker script and memory map")
    if start < 0:
        return {}
    entries: list[tuple[int, int, str]] = []  # (address, size, file) in flash output sections
    current: str | None = None
    pending = False  # an input section name stood alone on the previous line

    def add(addr: str, size: str, name: str) -> None:
        if current in flash_sections and _HEX.match(addr) and _HEX.match(size):
            entries.append((int(addr, 16), int(size, 16), name))

    for line in text[start:].splitlines()[1:]:
        if not line.strip():
            pending = False
            continue
        tokens = line.split()
        if not line[0].isspace():  # output section: name [addr size [load address ...]]
            current = tokens[0]
            pending = False
            continue
        if pending:
            pending = False
            if len(tokens) >= 3 and _HEX.match(tokens[0]) and _HEX.match(tokens[1]):
                add(tokens[0], tokens[1], " ".join(tokens[2:]))
                continue
        if line.startswith(" ") and not line.startswith("  "):
            head = tokens[0]
            if head == "*fill*":
                if len(tokens) >= 3:
                    add(tokens[1], tokens[2], "*fill*")
                continue
            if head.startswith("*") or "(" in head:  # input section patterns, KEEP(...)
                continue
            if len(tokens) == 1:
                pending = True
            elif len(tokens) >= 4:
                add(tokens[1], tokens[2], " ".join(tokens[3:]))
    entries.sort(key=lambda e: e[0])
    by_file: dict[str, int] = {}
    for i, (addr, size, name) in enumerate(entries):
        if i + 1 < len(entries):
            size = max(0, min(size, entries[i + 1][0] - addr))
        by_file[name] = by_file.get(name, 0) + size
    return by_file


def _is_model_object(name: str) -> bool:
    return name.startswith("build/obj/") and name != "build/obj/main.o" and not name.startswith("build/obj/target/")


def measure(executable: Path, target: Target) -> Footprint:
    """Footprint of a program built by :func:`compiler.build.build` for ``target``."""
    executable = Path(executable)
    if not executable.is_file():
        raise ToolchainError(f"{executable}: no such program; build it first")
    sections, data = _read_elf(executable)
    elf64 = data[4] == 2
    sram = target.sram_region
    text = rodata = init_data = bss = 0
    reserved = {"heap": 0, "stack": 0}
    flash_sections: set[str] = set()
    for sec in sections:
        if not sec.flags & _SHF_ALLOC or sec.size == 0:
            continue
        if sec.type == _SHT_NOBITS:
            if sec.name in _RESERVED_SECTIONS:
                reserved[_RESERVED_SECTIONS[sec.name]] += sec.size
            else:
                bss += sec.size
            continue
        flash_sections.add(sec.name)
        in_ram = sram.origin <= sec.addr < sram.end if sram is not None else bool(sec.flags & _SHF_WRITE)
        if in_ram:
            init_data += sec.size
        elif sec.flags & _SHF_EXECINSTR:
            text += sec.size
        else:
            rodata += sec.size
    flash_total = text + rodata + init_data
    weights = _weights(sections, data, elf64)
    flash_weights = sum(weights.values())

    flash_model: int | None = None
    map_path = executable.parent / "edgec_model.map"
    if map_path.is_file():
        by_file = _flash_by_object(map_path, flash_sections)
        if by_file:
            flash_model = sum(size for name, size in by_file.items() if _is_model_object(name))
    return Footprint(
        flash_total=flash_total,
        flash_weights=flash_weights,
        flash_code=flash_total - flash_weights,
        data=init_data,
        bss=bss,
        text=text,
        rodata=rodata,
        heap_reserved=reserved["heap"],
        stack_reserved=reserved["stack"],
        weights=tuple(sorted(weights.items())),
        flash_model=flash_model,
        flash_harness=None if flash_model is None else flash_total - flash_model,
    )
