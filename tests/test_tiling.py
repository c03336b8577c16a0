"""Tiling to a budget: hand-computed arenas of small graphs, the execution-list verifier rejecting
illegal plans, and band schedules run on the numpy interpreter equal to whole-op execution."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import mlperf_model

from compiler import interp
from compiler import modelbuilder as mb
from compiler.calls import Access, Call, verify_calls
from compiler.errors import DoesNotFitError, InternalError
from compiler.fit import cost, plan_for_budget
from compiler.frontend import read_tflite
from compiler.interp.calls import run_plan
from compiler.lower import lower
from compiler.reorder import reorder
from compiler.schedule import live_set_bound, plan_memory
from compiler.tiling import find_segments, input_rows


def _program(model: bytes):
    return lower(read_tflite(model))


def _residual_block(seed: int = 2, shape=(1, 8, 4, 4)) -> bytes:
    """x -> conv 3x3 (RELU) -> conv 3x3 -> ADD(x, .): a ResNet basic block."""
    g = mb._CalibratedGraph(seed)
    x = g.input("x", shape)
    y = g.conv2d(x, "a", shape[3], kernel=3, activation="RELU")
    z = g.conv2d(y, "b", shape[3], kernel=3)
    g.output(g.add(x, z, "res"))
    return g.build()


def _chain(seed: int = 3) -> bytes:
    """conv 3x3 s2 -> depthwise 3x3 -> pointwise x2 channels -> depthwise 3x3 s2 VALID -> max pool 2x2."""
    g = mb._CalibratedGraph(seed)
    x = g.input("x", (1, 17, 6, 3))
    a = g.conv2d(x, "c0", 8, kernel=3, stride=2, activation="RELU")
    b = g.depthwise_conv2d(a, "dw1", kernel=3, activation="RELU6")
    c = g.conv2d(b, "pw1", 16, kernel=1, activation="RELU")
    d = g.depthwise_conv2d(c, "dw2", kernel=3, stride=2, padding="VALID")
    g.output(g.pool(d, "pool", "MAX", filter_size=2, stride=1, padding="SAME"))
    return g.build()


def _downsampling_block(seed: int = 4) -> bytes:
    """ResNet's stride-2 block: conv 3x3 s2 -> conv 3x3, and a 1x1 s2 shortcut, added."""
    g = mb._CalibratedGraph(seed)
    x = g.input("x", (1, 12, 6, 4))
    a = g.conv2d(x, "a", 8, kernel=3, stride=2, activation="RELU")
    b = g.conv2d(a, "b", 8, kernel=3)
    s = g.conv2d(x, "short", 8, kernel=1, stride=2)
    g.output(g.add(s, b, "res"))
    return g.build()


def test_row_dependencies_of_a_strided_padded_window() -> None:
    p = _program(_chain())
    conv = p.ops[0]  # 3x3 stride 2 SAME on 17 rows: pad top 1
    assert conv.padding[0] == 1
    assert input_rows(conv, 17, 0, 1) == (0, 2)  # taps at rows -1, 0, 1
    assert input_rows(conv, 17, 3, 5) == (5, 10)  # rows 5..9
    assert input_rows(conv, 17, 8, 9) == (15, 17)  # rows 15, 16 and one padding row


def test_depthwise_streams_over_its_own_input() -> None:
    # 8 rows of 4 x 4 = 16 B. One-row bands: output row r reads input rows r-1..r+1, so written top-down
    # the output may start up to 2 rows (32 B) before the input, bottom-up 2 rows after: x + 2 rows = 160 B.
    p = _program(mb.depthwise_conv2d_model(input_shape=(1, 8, 4, 4), kernel=(3, 3), padding="SAME", seed=1))
    assert plan_memory(p).arena_bytes == 256
    plan = plan_for_budget(p, "min")
    (tile,) = plan.tiles
    assert (tile.front_bound, tile.back_bound) == (-32, 32)
    assert plan.arena_bytes == 160
    assert abs(plan.offset(1) - plan.offset(0)) >= 32


def test_residual_block_needs_only_its_input_and_line_buffers() -> None:
    # Untiled, x, y and z (128 B each) are alive at the second conv: 384 B. Fused into one segment in one-row
    # bands, the ADD writes each output row over the row of x it reads; y keeps 3 rows (48 B), z 1 row (16 B).
    p = _program(_residual_block())
    assert plan_memory(p).arena_bytes == 384
    plan = plan_for_budget(p, "min")
    (tile,) = plan.tiles
    assert (tile.segment.first, tile.segment.last, tile.shared) == (0, 2, True)
    assert tile.front.line_rows == {1: 3, 2: 1}
    assert plan.arena_bytes == 128 + 48 + 16
    assert plan.arena_bytes < plan.live_bound


def test_in_place_add_goes_below_the_live_set_bound() -> None:
    # conv -> a (128 B), conv a -> b (128 B), add(a, b) -> c, conv c -> out. In graph order a, b, c are alive at
    # the ADD: 384 B; the ADD writing c over a (dead after it) leaves 256 B.
    g = mb._CalibratedGraph(5)
    x = g.input("x", (1, 4, 4, 2))
    a = g.conv2d(x, "a", 8, kernel=1)
    b = g.conv2d(a, "b", 8, kernel=1)
    c = g.add(a, b, "add")
    g.output(g.conv2d(c, "out", 2, kernel=1))
    p = _program(g.build())
    plan = plan_memory(p)
    assert plan.live_bound == 32 + 128 * 3 - 32  # x is dead at the ADD: a + b + c
    assert plan.arena_bytes == 256
    assert plan.offset(p.ops[2].outputs[0]) in (plan.offset(p.ops[2].inputs[0]), plan.offset(p.ops[2].inputs[1]))


@pytest.mark.parametrize("model", [_chain(), _residual_block(), _downsampling_block(),
                                   mb.pool_model(kind="AVG", input_shape=(1, 9, 7, 5), filter_size=(3, 3),
                                                 stride=(2, 2), padding="SAME", seed=10),
                                   mb.conv2d_model(input_shape=(1, 13, 13, 2), out_channels=3, dilation=(2, 2),
                                                   seed=4),
                                   mb.depthwise_conv2d_model(input_shape=(1, 9, 11, 4), depth_multiplier=2,
                                                             stride=(2, 2), padding="VALID", seed=12)],
                         ids=["chain", "residual", "downsampling", "avgpool", "dilated", "dw_dm2_s2"])
def test_band_schedules_equal_whole_op_execution_in_numpy(model: bytes) -> None:
    p = _program(model)
    untiled = plan_memory(p)
    rng = np.random.default_rng(0)
    xs = [rng.integers(-128, 128, p.value(v).shape, dtype=np.int8) for v in p.inputs]
    want = interp.run(p, xs)
    plans = [plan_for_budget(p, "min")]
    plans += [plan_memory(p, [dataclasses.replace(s, band=band)]) for s in find_segments(p) for band in (1, 2, 3)]
    assert plans[0].arena_bytes < untiled.arena_bytes
    for plan in plans:
        got = run_plan(plan, xs)
        assert all(np.array_equal(w, g) for w, g in zip(want, got, strict=True)), [t.segment for t in plan.tiles]


def test_budget_between_min_and_untiled_is_met_more_cheaply() -> None:
    p = _program(_chain())
    untiled = plan_for_budget(p, None)
    smallest = plan_for_budget(p, "min")
    assert untiled.tiles == () and smallest.arena_bytes < untiled.arena_bytes
    budget = (smallest.arena_bytes + untiled.arena_bytes) // 2
    fitted = plan_for_budget(p, budget)
    assert smallest.arena_bytes <= fitted.arena_bytes <= budget
    assert cost(fitted) <= cost(smallest)
    assert plan_for_budget(p, untiled.arena_bytes).tiles == ()


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75])
def test_fitted_bands_are_the_tallest_that_fit(fraction: float) -> None:
    """Each tiled segment of a fitted plan has the most rows per band the budget allows: one row more overflows it
    (or the band already covers the whole output), so no call is spent that the budget did not force."""
    p = _program(_chain())
    untiled, smallest = plan_for_budget(p, None), plan_for_budget(p, "min")
    budget = int(smallest.arena_bytes + fraction * (untiled.arena_bytes - smallest.arena_bytes))
    fitted = plan_for_budget(p, budget)
    segments = [t.segment for t in fitted.tiles]
    assert segments, "the budget is below the untiled arena, so something is tiled"
    for i, seg in enumerate(segments):
        rows = p.value(seg.o).shape[1]
        if seg.band >= rows:
            continue
        taller = segments[:i] + [dataclasses.replace(seg, band=seg.band + 1)] + segments[i + 1:]
        assert plan_memory(p, taller, verify=False).arena_bytes > budget, (i, seg.band, rows)


def test_impossible_budget_names_the_smallest_that_works() -> None:
    p = _program(_chain())
    smallest = plan_for_budget(p, "min").arena_bytes
    with pytest.raises(DoesNotFitError, match=f"--sram-budget {smallest} or more"):
        plan_for_budget(p, smallest - 1)


def test_verifier_rejects_a_band_written_over_rows_still_needed() -> None:
    p = _program(mb.depthwise_conv2d_model(input_shape=(1, 8, 4, 4), kernel=(3, 3), padding="SAME", seed=1))
    plan = plan_for_budget(p, "min")
    ports = {0: plan.offset(0), 1: plan.offset(1)}
    verify_calls(p, plan.entries, plan.arena_bytes, ports)
    # Place the output one row closer to the input than the schedule allows: a later band reads a clobbered row.
    shift = 16 if plan.offset(1) < plan.offset(0) else -16
    moved = [dataclasses.replace(e, output=dataclasses.replace(e.output, offset=e.output.offset + shift))
             for e in plan.entries]
    with pytest.raises(InternalError, match="does not hold it|over its own input"):
        verify_calls(p, moved, plan.arena_bytes + 32, {0: ports[0], 1: ports[1] + shift})


def test_verifier_rejects_a_line_buffer_over_the_input() -> None:
    p = _program(_residual_block())
    plan = plan_for_budget(p, "min")
    x_at = plan.offset(0)
    line = next(b for b in plan.buffers if b.line_of == 1)
    entries = []
    for e in plan.entries:  # put the line buffer of y at the start of x (whose rows conv a still reads)
        def fix(a: Access) -> Access:
            return dataclasses.replace(a, offset=a.offset - line.offset + x_at) if a.vid == 1 else a
        if isinstance(e, Call):
            entries.append(Call(e.op, tuple(fix(a) for a in e.inputs), fix(e.output)))
        else:
            entries.append(dataclasses.replace(e, src=fix(e.src), dst=fix(e.dst)))
    with pytest.raises(InternalError, match="does not hold it|over its own input"):
        verify_calls(p, entries, plan.arena_bytes, {0: x_at, 3: plan.offset(3)})


def test_verifier_allows_exact_add_in_place_and_nothing_else() -> None:
    p = _program(mb.add_model(shape=(1, 4, 4, 4), seed=11))
    rows_of = p.value(0).shape[1]
    ins = (Access(0, 0, rows_of, 0), Access(1, 0, rows_of, 64))
    ports = {0: 0, 1: 64, 2: 0}
    verify_calls(p, [Call(0, ins, Access(2, 0, rows_of, 0))], 128, ports)  # exactly over input 1
    with pytest.raises(InternalError, match="not exact in place"):
        verify_calls(p, [Call(0, ins, Access(2, 0, rows_of, 16))], 128, {**ports, 2: 16})  # shifted one row
    conv = _program(mb.conv2d_model(input_shape=(1, 4, 4, 4), out_channels=4, kernel=(1, 1), seed=2))
    with pytest.raises(InternalError, match="CONV_2D is not exact in place"):
        verify_calls(conv, [Call(0, (Access(0, 0, 4, 0),), Access(1, 0, 4, 0))], 64, {0: 0, 1: 0})


@pytest.mark.mlperf
@pytest.mark.parametrize("name,target", [("kws_dscnn_int8", 10_000), ("vww_mbv1_int8", 40_960),
                                         ("resnet8_int8", 24_576), ("ad_fcae_int8", 768)])
def test_mlperf_smallest_arena_meets_the_issue_targets_in_numpy(name: str, target: int) -> None:
    p = lower(read_tflite(mlperf_model(name)))
    untiled = plan_memory(p)
    assert untiled.arena_bytes <= untiled.live_bound
    plan = plan_for_budget(p, "min")
    assert plan.arena_bytes <= target
    xs = [np.random.default_rng(1).integers(-128, 128, p.value(v).shape, dtype=np.int8) for v in p.inputs]
    assert all(np.array_equal(a, b) for a, b in zip(interp.run(p, xs), run_plan(plan, xs), strict=True))


def _interleaved_branches(seed: int = 6) -> bytes:
    """x (32 B) -> P, Q (1x1 convs to 16 channels: 256 B each) -> p, q (back to 2 channels: 32 B) -> ADD.

    Built in the interleaved order P, Q, p, q, so both 256-byte tensors are alive at once."""
    g = mb._CalibratedGraph(seed)
    x = g.input("x", (1, 4, 4, 2))
    big_p = g.conv2d(x, "P", 16, kernel=1)
    big_q = g.conv2d(x, "Q", 16, kernel=1)
    p = g.conv2d(big_p, "p", 2, kernel=1)
    q = g.conv2d(big_q, "q", 2, kernel=1)
    g.output(g.add(p, q, "add"))
    return g.build()


def test_reordering_finishes_one_branch_before_starting_the_other() -> None:
    # Graph order: at Q, x + P + Q = 32 + 256 + 256 = 544 B. Order P, p, Q, q: at Q, x + p + Q = 320 B,
    # at q, p + Q + q = 320 B; nothing needs more.
    p = _program(_interleaved_branches())
    assert live_set_bound(p)[0] == 544
    q = reorder(p)
    assert [op.name for op in q.ops][:4] == ["P/output", "p/output", "Q/output", "q/output"]
    assert live_set_bound(q)[0] == 320
    assert plan_memory(q).arena_bytes == 320
    xs = [np.random.default_rng(3).integers(-128, 128, (1, 4, 4, 2), dtype=np.int8)]
    assert np.array_equal(interp.run(p, xs)[0], interp.run(q, xs)[0])


def test_reordering_keeps_a_chain_as_it_is() -> None:
    p = _program(_chain())
    assert reorder(p) is p


def _random_model(seed: int) -> bytes:
    """A random stack of convolutions, depthwise convolutions, pools and residual ADDs on a small image."""
    rng = np.random.default_rng(seed)
    g = mb._CalibratedGraph(seed, calibration_samples=8)
    shape = (1, int(rng.integers(5, 14)), int(rng.integers(2, 7)), int(rng.integers(1, 5)))
    x = g.input("x", shape)
    channels = shape[3]
    for i in range(int(rng.integers(2, 6))):
        kind = rng.choice(["conv", "dw", "pool", "res"])
        k, s = int(rng.choice([1, 2, 3, 5])), int(rng.choice([1, 1, 2]))
        pad = str(rng.choice(["SAME", "VALID"]))
        rows_in, cols_in = g.values[x].shape[1:3]
        if pad == "VALID" and k > min(rows_in, cols_in):
            pad = "SAME"
        if kind == "conv":
            channels = int(rng.integers(1, 9))
            x = g.conv2d(x, f"c{i}", channels, kernel=(k, min(k, int(rng.choice([1, 3])))), stride=s, padding=pad,
                         dilation=int(rng.choice([1, 1, 2])) if s == 1 and pad == "SAME" else 1, activation="RELU")
        elif kind == "dw":
            x = g.depthwise_conv2d(x, f"d{i}", depth_multiplier=int(rng.choice([1, 2])), kernel=k, stride=s,
                                   padding=pad, activation="RELU6")
            channels = g.values[x].shape[-1]
        elif kind == "pool" and rows_in >= 2:
            x = g.pool(x, f"p{i}", str(rng.choice(["AVG", "MAX"])), filter_size=2, stride=int(rng.choice([1, 2])),
                       padding="SAME")
        else:
            y = g.conv2d(x, f"ra{i}", channels, kernel=3, activation="RELU")
            x = g.add(x, g.conv2d(y, f"rb{i}", channels, kernel=3), f"r{i}")
    g.output(x)
    return g.build()


@pytest.mark.parametrize("seed", range(24))
def test_random_models_tile_exactly_at_every_budget(seed: int) -> None:
    p = _program(_random_model(seed))
    xs = [np.random.default_rng(seed).integers(-128, 128, p.value(v).shape, dtype=np.int8) for v in p.inputs]
    want = interp.run(p, xs)
    untiled = plan_for_budget(p, None).arena_bytes
    smallest = plan_for_budget(p, "min")
    assert smallest.arena_bytes <= untiled
    for plan in (smallest, plan_for_budget(p, (smallest.arena_bytes + untiled) // 2)):
        assert plan.arena_bytes <= max(untiled, smallest.arena_bytes)
        got = run_plan(plan, xs)
        assert all(np.array_equal(w, g) for w, g in zip(want, got, strict=True)), [t.segment for t in plan.tiles]


def test_band_calls_roll_into_loops_that_expand_to_the_verified_list() -> None:
    from compiler.codegen.model import build_context

    plan = plan_for_budget(_program(_chain()), "min")
    ctx = build_context(plan)
    groups = ctx.groups
    assert any(g.count > 1 for g in groups) and len(groups) < len(ctx.steps)

    def value(offset, k: int) -> int:  # the C expression "(base +- stride * k)" evaluated
        return offset if isinstance(offset, int) else eval(offset.replace("k", str(k)))  # noqa: S307

    expanded = [[value(b.offset, k) for b in (*s.inputs, s.output)] + [s.kind, s.params, s.dims]
                for g in groups for k in range(g.count) for s in g.steps]
    original = [[b.offset for b in (*s.inputs, s.output)] + [s.kind, s.params, s.dims] for s in ctx.steps]
    assert expanded == original


def test_placement_never_goes_below_offset_zero() -> None:
    """Regression: an overlap rule whose allowed range ends below the other buffer's offset gave a candidate
    offset of -16 (found on the quantizer's small CNN at --sram-budget min); offsets start at 0."""
    import float_models

    from compiler.quantize.pipeline import quantize

    data = np.random.default_rng(0).normal(0, 1, (16, 8, 8, 3)).astype(np.float32)
    p = _program(quantize(float_models.small_cnn(), data).tflite)
    plan = plan_for_budget(p, "min")  # verify_plan inside raised InternalError before the fix
    assert min(b.offset for b in plan.buffers) == 0
    xs = [np.random.default_rng(1).integers(-128, 128, p.value(v).shape, dtype=np.int8) for v in p.inputs]
    assert all(np.array_equal(w, g) for w, g in zip(interp.run(p, xs), run_plan(plan, xs), strict=True))
