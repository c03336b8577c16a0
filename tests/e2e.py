"""Helpers for end-to-end tests: compile once, build once, run many inputs; compare with the reference."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compiler import interp
from compiler.build import build
from compiler.driver import Compiled, compile_model, pack, unpack
from compiler.reference import run_reference
from compiler.simulate import SimResult, run


@dataclass
class Built:
    compiled: Compiled
    executable: Path

    def infer(self, xs: list[np.ndarray]) -> tuple[list[np.ndarray], SimResult]:
        p = self.compiled.program
        out_bytes = sum(p.value(v).nbytes for v in p.outputs)
        sim = run(self.executable, self.compiled.target, pack(xs), out_bytes)
        return unpack(p, sim.output), sim


def build_model(model: bytes | Path, target: str, workdir: Path, *, sanitize: bool = False,
                sram_budget: int | str | None = None) -> Built:
    compiled = compile_model(model, target, workdir / f"project-{target}-{sram_budget}", sram_budget=sram_budget)
    return Built(compiled, build(compiled.outdir, compiled.target, werror=True, sanitize=sanitize))


def random_inputs(compiled: Compiled, seed: int) -> list[np.ndarray]:
    """One random array per model input: int8 over the whole range, float32 in [-1, 1)."""
    p = compiled.program
    rng = np.random.default_rng(seed)
    arrays = []
    for vid in p.inputs:
        v = p.value(vid)
        if v.dtype.value == "float32":
            arrays.append(rng.uniform(-1.0, 1.0, v.shape).astype(np.float32))
        else:
            arrays.append(rng.integers(-128, 128, v.shape, dtype=np.int8))
    return arrays


def assert_bit_identical(model: bytes | Path, built: Built, seeds: range | list[int]) -> list[SimResult]:
    """For each seed: the firmware's output equals the reference interpreter's and the IR interpreter's."""
    sims = []
    for seed in seeds:
        xs = random_inputs(built.compiled, seed)
        expected = run_reference(model, xs)
        got, sim = built.infer(xs)
        ours = interp.run(built.compiled.program, xs)
        for e, o, g in zip(expected, ours, got):
            assert o.dtype == e.dtype and np.array_equal(o, e), f"IR interpreter differs from the reference (seed {seed})"
            assert g.dtype == e.dtype and np.array_equal(g, e), (
                f"firmware on {built.compiled.target.name} differs from the reference (seed {seed}): "
                f"{np.count_nonzero(g != e)} of {e.size} elements")
        sims.append(sim)
    return sims
