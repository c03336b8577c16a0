"""Support checks of the data-movement ops and MEAN: each rule passes on a model it allows and fails on one it does
not; an unsupported model lists every problem once with operator index and output tensor."""

from __future__ import annotations

import numpy as np
import pytest
from shape_models import concat, mean, single_op

from compiler.errors import UnsupportedModelError
from compiler.frontend.tflite import read_tflite
from compiler.lower import check_support, lower
from compiler.lower.movement import (
    concat_geometry,
    concat_same_quantization,
    constant_parameters,
    moves_an_activation,
    pad_geometry,
    pad_keeps_quantization,
    rank_at_most_4,
    resolve_strided_slice,
    slice_geometry,
    split_geometry,
    strided_slice_geometry,
    strided_slice_masks,
    transpose_perm,
    view_shape,
    view_tensors,
)
from compiler.lower.reduce import mean_axes, mean_multiplier
from compiler.modelbuilder import ModelBuilder


def _verdict(check, model: bytes) -> str | None:
    graph = read_tflite(model)
    return check(graph, graph.operators[0])


def _dynamic_param_model() -> bytes:
    """TRANSPOSE whose perm is a second model input (computed at run time)."""
    mb = ModelBuilder()
    x = mb.input("x", (2, 3), "int8", 0.05, 0)
    perm = mb.input("perm", (2,), "int32")
    y = mb.tensor("y", (3, 2), "int8", 0.05, 0)
    mb.op("TRANSPOSE", [x, perm], [y])
    mb.output(y)
    return mb.build()


def _constant_data_model() -> bytes:
    """SLICE of a constant int8 tensor."""
    mb = ModelBuilder()
    x = mb.input("x", (1, 2), "int8", 0.05, 0)
    c = mb.const("c", np.arange(6, dtype=np.int8).reshape(2, 3), "int8", scales=0.05, zero_points=0)
    begin, size = mb.const("begin", np.array([0, 0], np.int32)), mb.const("size", np.array([1, 2], np.int32))
    y = mb.tensor("y", (1, 2), "int8", 0.05, 0)
    mb.op("SLICE", [c, begin, size], [y])
    z = mb.tensor("z", (1, 2), "int8", 0.05, 0)
    mb.op("SLICE", [x, begin, size], [z])
    mb.output(y)
    mb.output(z)
    return mb.build()


GOOD_SLICE = single_op("SLICE", (1, 5, 6, 3), [(1, 2, 4, 2)], [[0, 1, 2, 1], [1, 2, -1, 2]])

# (check, a model it allows, a model it rejects, a phrase of the rejection)
CASES = [
    (rank_at_most_4, GOOD_SLICE,
     single_op("SLICE", (1, 2, 2, 2, 2), [(1, 1, 2, 2, 2)], [[0] * 5, [1, 1, 2, 2, 2]]), "rank 5"),
    (moves_an_activation, GOOD_SLICE, _constant_data_model(), "constant tensor"),
    (constant_parameters, GOOD_SLICE, _dynamic_param_model(), "not an int32/int64 constant"),
    (strided_slice_masks, single_op("STRIDED_SLICE", (4, 4), [(2, 4)], [[0, 0], [2, 4], [1, 1]]),
     single_op("STRIDED_SLICE", (4, 4), [(2, 4)], [[0, 0], [2, 4], [1, 1]], ellipsis_mask=2), "ellipsis_mask"),
    (strided_slice_geometry, single_op("STRIDED_SLICE", (4, 4), [(2, 4)], [[0, 0], [2, 4], [1, 1]]),
     single_op("STRIDED_SLICE", (4, 4), [(3, 4)], [[0, 0], [2, 4], [1, 1]]), "differs"),
    (slice_geometry, GOOD_SLICE, single_op("SLICE", (1, 5, 6, 3), [(1, 2, 4, 2)], [[0, 4, 2, 1], [1, 2, -1, 2]]),
     "leaves the input"),
    (split_geometry, single_op("SPLIT", (4, 6), [(4, 3)] * 2, [[1]], data_position=1, num_splits=2),
     single_op("SPLIT", (4, 5), [(4, 2)] * 2, [[1]], data_position=1, num_splits=2), "equal parts"),
    (split_geometry, single_op("SPLIT_V", (4, 6), [(4, 1), (4, 5)], [[1, -1], [1]], num_splits=2),
     single_op("SPLIT_V", (4, 6), [(4, 1), (4, 4)], [[1, 4], [1]], num_splits=2), "do not add up"),
    (transpose_perm, single_op("TRANSPOSE", (2, 3), [(3, 2)], [[1, 0]]),
     single_op("TRANSPOSE", (2, 3), [(3, 2)], [[1, 1]]), "not a permutation"),
    (pad_geometry, single_op("PAD", (2, 3), [(3, 5)], [[[1, 0], [1, 1]]]),
     single_op("PAD", (2, 3), [(3, 5)], [[[1, 0], [2, 1]]]), "differs from the padded"),
    (pad_keeps_quantization, single_op("PAD", (2, 3), [(3, 5)], [[[1, 0], [1, 1]]]),
     single_op("PAD", (2, 3), [(3, 5)], [[[1, 0], [1, 1]]], q_out=(0.1, 0)), "TFLite pads without rescaling"),
    (concat_geometry, concat([(1, 2), (1, 3)], 1),
     single_op("CONCATENATION", (1, 2), [(1, 2)], axis=1, activation="RELU"), "fused activation"),
    (concat_same_quantization, concat([(1, 2), (1, 3)], 1),
     concat([(1, 2), (1, 3)], 1, qs=[(0.05, -3), (0.1, -3)]), "quantized differently"),
    (view_tensors, single_op("SQUEEZE", (1, 4, 1), [(4,)]), single_op("SQUEEZE", (1, 4, 1), [(3,)]),
     "different element counts"),
    (view_shape, single_op("SQUEEZE", (1, 4, 1), [(4, 1)], squeeze_dims=[0]), single_op("SQUEEZE", (1, 4, 1), [(1, 4)]),
     "TFLite computes"),
    (view_shape, single_op("EXPAND_DIMS", (4, 3), [(4, 3, 1)], [[-1]]), single_op("EXPAND_DIMS", (4, 3), [(1, 4, 3)], [[1]]),
     "TFLite computes"),
    (mean_axes, mean((1, 4, 4, 2), (1, 2), True), single_op("MEAN", (1, 4, 4, 2), [(1, 2)], [[1, 5]]),
     "does not name axes"),
]


@pytest.mark.parametrize("check, good, bad, phrase", CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_support_check(check, good: bytes, bad: bytes, phrase: str) -> None:
    assert _verdict(check, good) is None
    problem = _verdict(check, bad)
    assert problem is not None and phrase in problem, problem


def test_unsupported_model_lists_every_problem_once() -> None:
    """Three unsupported operators (an unknown op, a bad concat, a dynamic transpose) each get one line with every
    reason, plus the model-input problem."""
    mb = ModelBuilder()
    a = mb.input("a", (1, 4), "int8", 0.05, 0)
    b = mb.input("b", (1, 4), "int8", 0.1, 0)
    shape = mb.tensor("shape_out", (2,), "int32")
    mb.op("SHAPE", [a], [shape], out_type="int32")
    mb.output(shape)
    joined = mb.tensor("joined", (1, 8), "int8", 0.05, 0)
    mb.op("CONCATENATION", [a, b], [joined], axis=1)
    perm = mb.input("perm", (2,), "int32")
    t = mb.tensor("transposed", (8, 1), "int8", 0.05, 0)
    mb.op("TRANSPOSE", [joined, perm], [t])
    mb.output(t)
    with pytest.raises(UnsupportedModelError) as info:
        lower(read_tflite(mb.build()))
    problems = info.value.problems
    assert len([p for p in problems if p.startswith("operator #0 SHAPE (output 'shape_out'): op SHAPE")]) == 1
    assert len([p for p in problems if p.startswith("operator #1 CONCATENATION (output 'joined')")]) == 1
    assert len([p for p in problems if p.startswith("operator #2 TRANSPOSE (output 'transposed')")]) == 1
    assert "not an int32/int64 constant" in problems[2] and "; " in problems[2]
    assert len(problems) == 4 and "model input 'perm' is int32" in problems[3]
    assert "STRIDED_SLICE" in info.value.supported and "MEAN" in info.value.supported


def test_supported_models_have_no_problems() -> None:
    for model in (GOOD_SLICE, mean((1, 4, 4, 2), (1, 2), True), concat([(1, 2), (1, 3)], 1)):
        assert check_support(read_tflite(model)) == []


@pytest.mark.parametrize("shape, begin, end, strides, masks, want", [
    ((5,), (1,), (4,), (1,), (0, 0, 0), ((1,), (1,), (3,))),
    ((5,), (-1,), (0,), (-1,), (0, 0, 0), ((4,), (-1,), (4,))),  # negative begin, reversed
    ((5,), (3,), (0,), (1,), (1, 1, 0), ((0,), (1,), (5,))),  # begin and end masks: whole axis
    ((5,), (3,), (0,), (-2,), (1, 1, 0), ((4,), (-2,), (3,))),  # masks with a negative stride start at the end
    ((5,), (-2,), (99,), (1,), (0, 0, 1), ((3,), (1,), (1,))),  # shrink ignores end
    ((5,), (9,), (-9,), (-1,), (0, 0, 0), ((4,), (-1,), (5,))),  # clamping out-of-range indices
])
def test_resolve_strided_slice(shape, begin, end, strides, masks, want) -> None:
    """Hand-worked cases of TFLite's StartForAxis/StopForAxis."""
    assert resolve_strided_slice(shape, begin, end, strides, *masks) == want


def test_mean_multiplier_folds_the_count() -> None:
    """count 6: k = floor(log2 6) = 2, m' = (m << 2) // 6, s' = s - 2 (worked by hand for m = 2^30)."""
    assert mean_multiplier(1 << 30, 1, 6) == ((1 << 32) // 6, -1)
    assert mean_multiplier(1 << 30, -31, 6) == ((1 << 30) // 6, -31)  # 31 + shift = 0 caps k at 0
