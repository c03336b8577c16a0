"""Per-layer instruction counts from a profiling build on the emulator.

How it is measured
------------------
A profiling build (``make PROFILE=1``: model.c and the simulation main compiled with
``-DEDGEC_PROFILE`` into ``build-profile/``) calls ``edgec_profile_mark(i)`` at the start of
``edgec_model_run`` (i = 0) and after every kernel call of layer i - 1 (one call per layer when
nothing is tiled; one per band for a tiled layer, interleaved between the layers of a fused
segment, line-buffer moves counted with the layer they serve). A mark reads the same
free-running timer that times the whole inference (``-icount shift=0``: one tick per
``1e9 / hz`` instructions, 40 on the 25 MHz mps2 timers, 1 on riscv32-virt's minstret), adds the ticks since the previous mark
to slot i and counts itself there. Before the inference, one mark followed by ``k`` = 32 marks
back to back (unrolled) measures what one mark costs: ``mark = calibration_ticks *
instructions_per_tick / k``.

From slot i's ticks ``T_i`` (in instructions) and mark count ``c_i``:

- layer i costs ``T_(i+1) - c_(i+1) * mark``: every interval holds its kernel call and exactly
  one mark (the end of the previous mark after its timer read, the start of this one before it);
- ``outside_layers`` = profiled total - (T_1 + ... + T_n) - mark: the input and output copies of
  ``edgec_model_invoke`` and the calls themselves (slot 0 and the tail after the last mark share
  one mark between them).

So ``sum(layers) + outside_layers = profiled_total - marks * mark`` with ``marks`` = all marks of
the inference. The whole-inference count in report.json's ``instructions`` comes from the normal
build, which contains no marks; the profiling build's own total is larger by about
``marks * mark`` and is reported separately.

Limits: every timer read is quantised to one tick, so each interval is exact to about one tick
(+/- ``instructions_per_tick``): an untiled layer to one tick, a tiled one to about one tick per
band in the worst case; the sum over all layers telescopes and stays exact to about one tick per
mark of calibration error. A layer cheaper than a tick (a reshape that is a view) can come out
below zero and is reported as 0; the mark cost is measured with a resolution of
``instructions_per_tick / k``. Instructions are a proxy for cycles, not cycles. On the host
nothing is timed and there is no profile; likewise on a target whose timer kind has no mark
implementation (``PROFILED_TIMERS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InternalError, ToolchainError
from .targets import Target

PROFILED_TIMERS = ("cmsdk-apb-timer", "systick", "riscv-instret")  # the timers whose marks main_sim.c.j2 implements
_HEADER = re.compile(r"^EDGEC_PROFILE layers=(\d+) calibration_marks=(\d+) calibration_ticks=(\d+)\s*$", re.MULTILINE)
_MARK = re.compile(r"^EDGEC_MARK (\d+) (\d+) (\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class LayerProfile:
    """What a profiling run measured, in instructions (see the module docstring for the arithmetic)."""

    layers: tuple[int, ...]  # per layer, the cost of its marks removed
    outside_layers: int  # input/output copies and calls outside the layers
    mark_instructions: float  # measured cost of one timer mark
    instructions_per_tick: float  # the timer's resolution
    profiled_total: int  # the profiling build's whole-inference count (marks included)
    marks: int  # timer marks during the inference (layers + 1 when nothing is tiled)

    def as_dict(self) -> dict[str, float | int]:
        return {"outside_layers": self.outside_layers, "mark_instructions": round(self.mark_instructions, 3),
                "marks": self.marks, "instructions_per_tick": self.instructions_per_tick,
                "profiled_total": self.profiled_total}


def parse_profile(stdout: str, target: Target, profiled_total: int) -> LayerProfile:
    """Read the EDGEC_PROFILE and EDGEC_MARK lines a profiling build printed."""
    header = _HEADER.search(stdout)
    if header is None or target.ticks_to_instructions is None:
        raise ToolchainError(f"the profiling build for {target.name} printed no EDGEC_PROFILE line")
    n, k, cal_ticks = (int(g) for g in header.groups())
    num, den = target.ticks_to_instructions
    slots = {int(i): (int(t), int(c)) for i, t, c in _MARK.findall(stdout)}
    if sorted(slots) != list(range(n + 1)):
        raise ToolchainError(f"the profiling build printed marks {sorted(slots)}, expected 0..{n}")
    per_tick = num / den
    mark = cal_ticks * per_tick / k
    ticks = [slots[i][0] * per_tick for i in range(n + 1)]
    counts = [slots[i][1] for i in range(n + 1)]
    layers = tuple(max(0, round(ticks[i + 1] - counts[i + 1] * mark)) for i in range(n))
    outside = round(profiled_total - sum(ticks[1:]) - mark)
    return LayerProfile(layers, outside, mark, per_tick, profiled_total, sum(counts))


def profile_inference(outdir: Path, target: Target, input_bytes: bytes, expected_output: bytes) -> LayerProfile | None:
    """Build the profiling program in outdir, run it once, and return its profile.

    None where nothing is timed: the host, and targets whose timer kind has no marks in the
    simulation main (PROFILED_TIMERS).

    The profiling build must compute the same output bytes as the normal build; a difference is an
    internal error (the marks changed what the model computes).
    """
    if not target.is_qemu or target.timer is None or target.timer.kind not in PROFILED_TIMERS:
        return None
    from .build import build
    from .simulate import run

    executable = build(outdir, target, werror=True, profile=True)
    sim = run(executable, target, input_bytes, len(expected_output))
    if sim.output != expected_output:
        raise InternalError("the profiling build's output differs from the normal build's")
    if sim.instructions is None:
        raise ToolchainError(f"the profiling build for {target.name} measured no instructions")
    return parse_profile(sim.stdout, target, sim.instructions)
