"""Whether a compiled model fits a target's memory, checked before anything is written.

A bare-metal program's SRAM holds more than the model's arena: the buffers the main keeps for
one input and one output, the stack and heap the linker script reserves, and the static data of
the main and its C library. Its flash holds the weights plus the main, start-up and library
code. This module adds those parts up and raises :class:`DoesNotFitError` naming each one:

    sram  = arena + input bytes + output bytes + stack + heap + harness static data
    flash = boot stage (RP2040's boot2) + weights + harness code

The harness parts come from the target file (``[memory] harness_sram_bytes`` and
``harness_flash_bytes``, measured on that target with the simulation main and written down
there) or, for firmware, from the caller. The model's own code is not known before it is
compiled, so this is a lower bound: the linker checks the whole image again, and
:func:`compiler.build.build` reports a region overflow as the same error.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.errors import DoesNotFitError
from compiler.schedule import Plan
from compiler.targets import Target

__all__ = ["Demand", "check_image_fit", "demand"]


@dataclass(frozen=True, slots=True)
class Demand:
    """Bytes of SRAM and flash one program needs, by part (a lower bound: model code not included)."""

    sram: tuple[tuple[str, int], ...]
    flash: tuple[tuple[str, int], ...]

    @property
    def sram_total(self) -> int:
        return sum(n for _, n in self.sram)

    @property
    def flash_total(self) -> int:
        return sum(n for _, n in self.flash)


def _io_bytes(plan: Plan) -> int:
    """The main's input and output buffers (each rounded up to 8 bytes, as main_sim allocates them)."""
    program = plan.program
    total = 0
    for ids in (program.inputs, program.outputs):
        nbytes = sum(program.value(v).nbytes for v in ids)
        total += max(8, (nbytes + 7) // 8 * 8)
    return total


def demand(plan: Plan, target: Target, *, harness_sram: int | None = None, harness_flash: int | None = None) -> Demand:
    """What the model plus the program around it needs on ``target``."""
    sram = (
        ("arena", plan.arena_bytes),
        ("input/output buffers", _io_bytes(plan)),
        ("stack", target.stack_bytes or 0),
        ("heap", target.heap_bytes or 0),
        ("harness data", target.harness_sram_bytes if harness_sram is None else harness_sram),
    )
    flash = (
        ("boot stage", target.boot_reserved_bytes),
        ("weights", plan.program.constant_bytes),
        ("harness code", target.harness_flash_bytes if harness_flash is None else harness_flash),
    )
    return Demand(sram=tuple((k, v) for k, v in sram if v), flash=tuple((k, v) for k, v in flash if v))


def _parts(parts: tuple[tuple[str, int], ...]) -> str:
    return " + ".join(f"{name} {n:,}" for name, n in parts)


def check_image_fit(plan: Plan, target: Target, *, harness_sram: int | None = None,
                    harness_flash: int | None = None, way_out: str = "choose a target with more memory") -> Demand:
    """Raise DoesNotFitError when the program cannot fit the target's SRAM or flash; return the demand."""
    need = demand(plan, target, harness_sram=harness_sram, harness_flash=harness_flash)
    for what, total, capacity, parts in (
        ("SRAM", need.sram_total, target.sram_bytes, need.sram),
        ("flash", need.flash_total, target.flash_bytes, need.flash),
    ):
        if capacity is not None and total > capacity:
            raise DoesNotFitError(
                f"on {target.name} the program needs at least {total:,} bytes of {what}, {total - capacity:,} more "
                f"than its {capacity:,} ({_parts(parts)}); {way_out}")
    return need
