"""Flash a compiled model needs on a target beside its weights, and the whole demand by part.

A bare-metal program's flash holds more than the weights: the vendor's boot stage where a board
has one (RP2040's 256-byte boot2), and the code of the main, start-up and C library. SRAM is
:func:`compiler.driver.sram_parts` (arena, stack, heap, I/O buffers, harness data). This module
adds the flash parts up and raises :class:`DoesNotFitError` naming each one:

    flash = boot stage + weights + harness code

The harness code comes from the target file (``[memory] harness_flash_bytes``, measured on that
target with the simulation main). The model's own code is not known before it is compiled, so
this is a lower bound: the linker checks the whole image again, and :func:`compiler.build.build`
reports a region overflow as the same error.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.errors import DoesNotFitError
from compiler.schedule import Plan
from compiler.targets import Target

__all__ = ["Demand", "check_flash_fit", "demand", "flash_parts"]


@dataclass(frozen=True, slots=True)
class Demand:
    """Bytes of SRAM and flash one program needs, by part (a lower bound: model code not included)."""

    sram: dict[str, int]
    flash: dict[str, int]

    @property
    def sram_total(self) -> int:
        return sum(self.sram.values())

    @property
    def flash_total(self) -> int:
        return sum(self.flash.values())


def flash_parts(plan: Plan, target: Target) -> dict[str, int]:
    return {"boot stage": target.boot_reserved_bytes, "weights": plan.program.constant_bytes,
            "harness code": target.harness_flash_bytes}


def demand(plan: Plan, target: Target) -> Demand:
    """What the model plus the program around it needs on ``target``."""
    from compiler.driver import sram_parts

    return Demand(sram=sram_parts(plan, target), flash=flash_parts(plan, target))


def check_flash_fit(plan: Plan, target: Target) -> None:
    """Raise DoesNotFitError when boot stage, weights and harness code exceed the target's flash."""
    parts = flash_parts(plan, target)
    need = sum(parts.values())
    if target.flash_bytes is not None and need > target.flash_bytes:
        detail = " + ".join(f"{what} {n:,}" for what, n in parts.items() if n)
        raise DoesNotFitError(
            f"flash needs at least {need:,} bytes ({detail}), {need - target.flash_bytes:,} more than the "
            f"{target.flash_bytes:,} bytes of flash on {target.name}; choose a target with more flash")
