"""Tiled and reordered plans end to end: band calls in generated C bit-identical to TFLite's reference,
on the host under ASan/UBSan and on QEMU Cortex-M4 (mps2-an386); the MLPerf Tiny arenas and overheads."""

from __future__ import annotations

import pytest
from conftest import mlperf_model
from e2e import assert_bit_identical, build_model
from test_tiling import _chain, _downsampling_block, _interleaved_branches, _random_model, _residual_block

SMALL = {"chain": _chain, "residual": _residual_block, "downsampling": _downsampling_block}

# The targets for the arena with tiling and fusion (bytes).
TARGETS = {"kws_dscnn_int8": 10_000, "vww_mbv1_int8": 40_960, "resnet8_int8": 24_576, "ad_fcae_int8": 768}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_tiled_models_on_host_sanitized(name: str, tmp_path) -> None:
    model = SMALL[name]()
    built = build_model(model, "host", tmp_path, sanitize=True, sram_budget="min")
    assert built.compiled.plan.tiles
    assert_bit_identical(model, built, range(3))


@pytest.mark.parametrize("seed", [0, 5, 16, 23])
def test_random_tiled_models_on_host_sanitized(seed: int, tmp_path) -> None:
    model = _random_model(seed)
    built = build_model(model, "host", tmp_path, sanitize=True, sram_budget="min")
    assert built.compiled.plan.tiles
    assert_bit_identical(model, built, range(2))


@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_tiled_models_on_cortex_m4(name: str, tmp_path) -> None:
    model = SMALL[name]()
    untiled = build_model(model, "mps2-an386", tmp_path)
    tiled = build_model(model, "mps2-an386", tmp_path, sram_budget="min")
    assert tiled.compiled.plan.arena_bytes < untiled.compiled.plan.arena_bytes
    assert_bit_identical(model, tiled, range(3))


@pytest.mark.qemu
def test_reordered_branches_on_cortex_m4(tmp_path) -> None:
    model = _interleaved_branches()
    built = build_model(model, "mps2-an386", tmp_path)
    assert [op.name for op in built.compiled.program.ops][:2] == ["P/output", "p/output"]
    assert built.compiled.plan.arena_bytes == 320
    assert_bit_identical(model, built, range(3))


@pytest.mark.qemu
@pytest.mark.mlperf
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_mlperf_arena_targets_on_cortex_m4(name: str, tmp_path) -> None:
    """The scheduler issue's contract: with the arena target as the budget, the arena is within it, the output
    bit-identical, and the tiled plan takes at most 10% more instructions than the untiled one. (At
    --sram-budget min, one output row per band, KWS takes 48% more: the fast kernels' per-call set-up is a large
    share of its 1.0-instruction-per-MAC untiled layers; at 10,000 bytes it is about 9%.)"""
    path = mlperf_model(name)
    untiled = build_model(path, "mps2-an386", tmp_path)
    tiled = build_model(path, "mps2-an386", tmp_path, sram_budget=TARGETS[name])
    assert tiled.compiled.plan.arena_bytes <= TARGETS[name]
    (base,) = assert_bit_identical(path, untiled, [1])
    (sim,) = assert_bit_identical(path, tiled, [1])
    assert sim.instructions <= 1.10 * base.instructions, (sim.instructions, base.instructions)


@pytest.mark.mlperf
@pytest.mark.slow
@pytest.mark.parametrize("name", ["kws_dscnn_int8", "resnet8_int8", "vww_mbv1_int8"])
def test_mlperf_smallest_arena_on_host_sanitized(name: str, tmp_path) -> None:
    """Every band call's pointer offsets and dimensions stay inside the arena (ASan would abort)."""
    path = mlperf_model(name)
    assert_bit_identical(path, build_model(path, "host", tmp_path, sanitize=True, sram_budget="min"), [2])
