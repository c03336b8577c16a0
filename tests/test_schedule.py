"""Arena planning: hand-computed peaks on small programs, views, and verify_plan catching overlaps."""

from __future__ import annotations

import dataclasses

import pytest

from compiler import ir
from compiler.errors import InternalError
from compiler.schedule import plan_memory, verify_plan


def _values(sizes: list[int]) -> tuple[ir.Value, ...]:
    return tuple(ir.Value(i, f"v{i}", (n,), ir.DType.INT8) for i, n in enumerate(sizes))


def _program(sizes: list[int], ops: list[ir.Op], inputs=(0,), outputs=None) -> ir.Program:
    outputs = outputs if outputs is not None else (len(sizes) - 1,)
    return ir.Program("t", _values(sizes), tuple(ops), tuple(inputs), tuple(outputs), "0" * 64)


def _reshape(i: int, o: int) -> ir.Reshape:
    return ir.Reshape(f"r{o}", (i,), (o,))


def _add(a: int, b: int, o: int) -> ir.Add:
    return ir.Add(f"a{o}", (a, b), (o,), ir.AddRescale(0, 1, 0, 0, 1, 0, 20, 1, 0, 0, -128, 127))


def test_chain_reuses_memory() -> None:
    # v0 -> v1 -> v2 -> v3 with a copy-reshape would alias; use ADD(x, x) to force real buffers.
    # Sizes 160, 320, 160, 32 (16-aligned). Live sets: {v0,v1}=480, {v1,v2}=480, {v2,v3}=192.
    p = _program([160, 320, 160, 32], [_add(0, 0, 1), _add(1, 1, 2), _add(2, 2, 3)])
    plan = plan_memory(p)
    assert plan.live_bound == 480
    assert plan.arena_bytes == 480
    verify_plan(plan)


def test_residual_keeps_skip_alive() -> None:
    # v0 (64) feeds v1 (64) and the final add; v1 -> v2 (64); add(v0, v2) -> v3 (64).
    # At step 1, v0, v1, v2 are alive: 192; at step 2, v0, v2, v3: 192.
    p = _program([64, 64, 64, 64], [_add(0, 0, 1), _add(1, 1, 2), _add(0, 2, 3)])
    plan = plan_memory(p)
    assert plan.live_bound == 192
    assert plan.arena_bytes == 192


def test_reshape_is_a_view_when_its_input_dies() -> None:
    p = _program([48, 48, 48, 48], [_add(0, 0, 1), _reshape(1, 2), _add(2, 2, 3)])
    plan = plan_memory(p)
    assert plan.offset(1) == plan.offset(2)
    assert plan.arena_bytes == 96  # two 48-byte buffers, each aligned to 48


def test_reshape_of_model_input_is_a_copy() -> None:
    p = _program([48, 48], [_reshape(0, 1)])
    plan = plan_memory(p)
    assert plan.offset(0) != plan.offset(1)


def test_verify_plan_catches_overlap() -> None:
    p = _program([64, 64, 64], [_add(0, 0, 1), _add(1, 1, 2)])
    plan = plan_memory(p)
    b0, b1, b2 = plan.buffers
    broken = dataclasses.replace(plan, buffers=(b0, dataclasses.replace(b1, offset=b0.offset), b2))
    with pytest.raises(InternalError, match="overlap"):
        verify_plan(broken)


def test_verify_plan_catches_misalignment() -> None:
    p = _program([64, 64], [_add(0, 0, 1)])
    plan = plan_memory(p)
    b0, b1 = plan.buffers
    broken = dataclasses.replace(plan, buffers=(b0, dataclasses.replace(b1, offset=b1.offset + 4)))
    with pytest.raises(InternalError, match="misaligned"):
        verify_plan(broken)
