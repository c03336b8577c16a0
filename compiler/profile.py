"""Per-layer instruction counts from a profiling build on the emulator.

How it is measured
------------------
A profiling build (``make PROFILE=1``: model.c and the simulation main compiled with
``-DEDGEC_PROFILE`` into ``build-profile/``) calls ``edgec_profile_mark(i)`` at the start of
``edgec_model_run`` (i = 0) and after each layer (i = 1..n). A mark reads the same free-running
timer that times the whole inference (``-icount shift=0``: one tick per ``1e9 / hz``
instructions, 40 on the 25 MHz mps2 timers) and stores the ticks since the inference started.
Before the inference, one mark followed by ``k`` = 32 marks back to back (unrolled) measures
what one mark costs: ``mark = calibration_ticks * instructions_per_tick / k``.

From the marks ``t_0..t_n`` (in instructions):

- layer i costs ``t_(i+1) - t_i - mark``: the interval holds the layer and exactly one mark
  (the end of mark i after its timer read and the start of mark i+1 before its read);
- ``outside_layers`` = profiled total - (t_n - t_0) - mark: the input and output copies of
  ``edgec_model_invoke`` and the calls themselves (the two edge intervals share one mark).

So ``sum(layers) + outside_layers = profiled_total - (n + 1) * mark``. The whole-inference count
in report.json's ``instructions`` comes from the normal build, which contains no marks; the
profiling build's own total is larger by about ``(n + 1) * mark`` and is reported separately.

Limits: every timer read is quantised to one tick, so each layer's count is exact to about one
tick (+/- ``instructions_per_tick``) and the per-layer sum to about one tick per layer; a layer
cheaper than that (a reshape that is a view) can come out below zero and is reported as 0; the mark
cost is measured with a resolution of ``instructions_per_tick / k``. Instructions are a proxy for
cycles, not cycles. On the host nothing is timed and there is no profile; likewise on a target
whose timer kind has no mark implementation (``PROFILED_TIMERS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InternalError, ToolchainError
from .targets import Target

PROFILED_TIMERS = ("cmsdk-apb-timer", "systick")  # the timers whose marks main_sim.c.j2 implements
_HEADER = re.compile(r"^EDGEC_PROFILE layers=(\d+) calibration_marks=(\d+) calibration_ticks=(\d+)\s*$", re.MULTILINE)
_MARK = re.compile(r"^EDGEC_MARK (\d+) (\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class LayerProfile:
    """What a profiling run measured, in instructions (see the module docstring for the arithmetic)."""

    layers: tuple[int, ...]  # per layer, the cost of one mark removed
    outside_layers: int  # input/output copies and calls outside the layers
    mark_instructions: float  # measured cost of one timer mark
    instructions_per_tick: float  # the timer's resolution
    profiled_total: int  # the profiling build's whole-inference count (marks included)

    def as_dict(self) -> dict[str, float | int]:
        return {"outside_layers": self.outside_layers, "mark_instructions": round(self.mark_instructions, 3),
                "marks": len(self.layers) + 1, "instructions_per_tick": self.instructions_per_tick,
                "profiled_total": self.profiled_total}


def parse_profile(stdout: str, target: Target, profiled_total: int) -> LayerProfile:
    """Read the EDGEC_PROFILE and EDGEC_MARK lines a profiling build printed."""
    header = _HEADER.search(stdout)
    if header is None or target.ticks_to_instructions is None:
        raise ToolchainError(f"the profiling build for {target.name} printed no EDGEC_PROFILE line")
    n, k, cal_ticks = (int(g) for g in header.groups())
    num, den = target.ticks_to_instructions
    marks = {int(i): int(t) for i, t in _MARK.findall(stdout)}
    if sorted(marks) != list(range(n + 1)):
        raise ToolchainError(f"the profiling build printed marks {sorted(marks)}, expected 0..{n}")
    per_tick = num / den
    mark = cal_ticks * per_tick / k
    times = [marks[i] * per_tick for i in range(n + 1)]
    layers = tuple(max(0, round(times[i + 1] - times[i] - mark)) for i in range(n))
    outside = round(profiled_total - (times[n] - times[0]) - mark)
    return LayerProfile(layers, outside, mark, per_tick, profiled_total)


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
