"""Graph passes: each pass on a graph before/after, and the reference interpreter's output (of the original
model) equal to the IR interpreter's output of the rewritten, lowered graph, bit for bit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pass_models as pm
import pytest
from e2e import assert_bit_identical, build_model

from compiler import interp
from compiler.errors import InternalError
from compiler.frontend import read_tflite
from compiler.graph import Graph
from compiler.lower import lower
from compiler.passes import PASSES, optimize
from compiler.passes.activation import fuse_activation
from compiler.passes.dilation import fold_space_to_batch_conv
from compiler.passes.shapes import drop_identity_reshape, drop_noop_quantize, fold_constants
from compiler.reference import run_reference


def _ops(graph: Graph) -> list[str]:
    return [op.op for op in graph.operators]


def _assert_reference_unchanged(model: bytes, graph: Graph, seeds: range = range(3)) -> None:
    """The rewritten graph, lowered and interpreted, gives the reference's outputs for the original model."""
    program = lower(graph)
    for seed in seeds:
        rng = np.random.default_rng(seed)
        xs = [rng.integers(-128, 128, program.value(v).shape, dtype=np.int8) for v in program.inputs]
        for want, got in zip(run_reference(model, xs), interp.run(program, xs), strict=True):
            assert want.dtype == got.dtype and np.array_equal(want, got)


def _to_fixed_point(rewrite, graph: Graph) -> Graph:
    while (next_graph := rewrite(graph)) is not graph:
        graph = next_graph
    return graph


def test_fold_constants_turns_the_flatten_chain_into_a_constant_shape() -> None:
    model = pm.flatten_chain()
    before = read_tflite(model)
    assert _ops(before) == ["SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE"]
    after = _to_fixed_point(fold_constants, before)
    assert _ops(after) == ["RESHAPE"]
    shape = after.tensors[after.operators[0].inputs[1]]
    assert shape.is_constant and shape.data.tolist() == [1, -1]  # the batch, then -1 as PACK wrote it
    assert after.operators[0].index == 3  # the file's operator index survives
    _assert_reference_unchanged(model, after)


def test_fold_constants_leaves_activations_alone() -> None:
    graph = read_tflite(pm.with_noops())
    assert fold_constants(graph) is graph


@pytest.mark.parametrize("kind, size, block, padding", [
    ("CONV_2D", 9, 2, "SAME"), ("CONV_2D", 10, 2, "VALID"), ("DEPTHWISE_CONV_2D", 11, 3, "SAME"),
    ("DEPTHWISE_CONV_2D", 8, 2, "VALID"),
])
def test_space_to_batch_conv_becomes_dilated(kind: str, size: int, block: int, padding: str) -> None:
    model = pm.space_to_batch_conv(kind, size, block, padding)
    before = read_tflite(model)
    assert _ops(before) == ["SPACE_TO_BATCH_ND", kind, "BATCH_TO_SPACE_ND"]
    after = fold_space_to_batch_conv(before)
    assert _ops(after) == [kind]
    conv = after.operators[0]
    assert conv.options["dilation"] == (block, block) and conv.options["padding"] == padding
    assert conv.inputs[0] == before.inputs[0] and conv.outputs[0] == before.outputs[0]
    _assert_reference_unchanged(model, after)


def test_space_to_batch_with_other_padding_is_not_folded() -> None:
    """Leading padding 1 for a dilation-2 3x3 filter is neither SAME (2) nor VALID (0): left as it is."""
    graph = read_tflite(pm.space_to_batch_conv("CONV_2D", 9, 2, "SAME"))
    pads = graph.operators[0].inputs[2]
    shifted = dataclasses.replace(graph.tensors[pads], data=np.array([[1, 3], [2, 2]], np.int32))
    graph = dataclasses.replace(graph, tensors=tuple(shifted if t.index == pads else t for t in graph.tensors))
    assert fold_space_to_batch_conv(graph) is graph


@pytest.mark.parametrize("act", ["RELU", "RELU6", "RELU_N1_TO_1"])
def test_standalone_activation_fuses_into_its_producer(act: str) -> None:
    model = pm.conv_then_relu(act)
    before = read_tflite(model)
    after = fuse_activation(before)
    assert _ops(after) == ["CONV_2D"]
    assert after.operators[0].options["activation"] == act and after.operators[0].outputs == before.outputs
    _assert_reference_unchanged(model, after)


def test_activation_with_its_own_quantization_is_not_fused() -> None:
    """A RELU that also rescales (output scale differs) cannot be folded into the producer bit for bit."""
    graph = read_tflite(pm.conv_then_relu("RELU", relu_q=(0.07, -10)))
    assert fuse_activation(graph) is graph


def test_identity_reshape_and_noop_quantize_are_dropped() -> None:
    model = pm.with_noops()
    before = read_tflite(model)
    assert _ops(before) == ["QUANTIZE", "RESHAPE", "AVERAGE_POOL_2D"]
    no_quantize = drop_noop_quantize(before)
    assert _ops(no_quantize) == ["RESHAPE", "AVERAGE_POOL_2D"]
    after = drop_identity_reshape(no_quantize)
    assert _ops(after) == ["AVERAGE_POOL_2D"] and after.operators[0].inputs == before.inputs
    _assert_reference_unchanged(model, after)


def test_identity_reshape_writing_a_model_output_renames_the_producer() -> None:
    model = pm.with_noops(reshape_last=True)
    after = optimize(read_tflite(model))
    assert _ops(after) == ["AVERAGE_POOL_2D"] and after.operators[0].outputs == after.outputs
    _assert_reference_unchanged(model, after)


def test_requantizing_quantize_is_kept() -> None:
    changed = read_tflite(pm.with_noops(requant=(0.06, 2)))
    assert drop_noop_quantize(changed) is changed


def test_optimize_reaches_a_fixed_point_and_rejects_interface_changes() -> None:
    graph = read_tflite(pm.flatten_chain())
    once = optimize(graph)
    assert optimize(once) is once

    def breaks_outputs(g: Graph) -> Graph:
        return dataclasses.replace(g, outputs=g.inputs)

    with pytest.raises(InternalError, match="breaks_outputs"):
        optimize(graph, (*PASSES, breaks_outputs))


def test_passes_compile_to_c_on_the_host(tmp_path) -> None:
    """The rewritten graphs through the whole compiler (C, ASan+UBSan) against the reference."""
    for i, model in enumerate((pm.flatten_chain(), pm.space_to_batch_conv("DEPTHWISE_CONV_2D", 11, 3, "SAME"),
                               pm.conv_then_relu("RELU6"))):
        assert_bit_identical(model, build_model(model, "host", tmp_path / str(i), sanitize=True), range(2))


def test_fold_constants_skips_inconsistent_parameters() -> None:
    """A PACK of differently shaped constants cannot be evaluated: it is left for the support checks to report."""
    from compiler.modelbuilder import ModelBuilder

    mb = ModelBuilder()
    x = mb.input("x", (1, 4), "int8", 0.05, 0)
    packed = mb.tensor("packed", (2, 2), "int32")
    mb.op("PACK", [mb.const("a", np.array([1, 2], np.int32)), mb.const("b", np.array([3], np.int32))], [packed],
          values_count=2)
    y = mb.tensor("y", (1, 4), "int8", 0.05, 0)
    mb.op("RESHAPE", [x, packed], [y])
    mb.output(y)
    graph = read_tflite(mb.build())
    assert fold_constants(graph) is graph
