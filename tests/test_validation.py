"""compiler.frontend.validate: one broken model per structural rule, each failing with ModelFileError naming it.

Each model is a builder model unpacked with the schema's object API, broken in one place, and
packed again: a valid flatbuffer whose contents are wrong.
"""

from __future__ import annotations

from collections.abc import Callable

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from compiler import modelbuilder as mb
from compiler.errors import ModelFileError
from compiler.frontend import validate as v
from compiler.frontend.tflite import read_tflite


def _broken(model: bytes, edit: Callable[[schema.ModelT], None]) -> bytes:
    m = schema.ModelT.InitFromPackedBuf(model, 0)
    edit(m)
    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _tensor(m: schema.ModelT, name: str):
    return next(t for t in m.subgraphs[0].tensors if t.name.decode() == name)


def _index(m: schema.ModelT, name: str) -> int:
    return next(i for i, t in enumerate(m.subgraphs[0].tensors) if t.name.decode() == name)


def _fails(model: bytes, edit: Callable[[schema.ModelT], None], *fragments: str) -> ModelFileError:
    with pytest.raises(ModelFileError) as info:
        read_tflite(_broken(model, edit))
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    return info.value


FC = mb.fully_connected_model()
CONV = mb.conv2d_model(per_channel=True)
TINY = mb.tiny_cnn_model()


def test_well_formed_models_pass() -> None:
    for model in (FC, CONV, TINY, mb.quantize_edges_model(), mb.reshape_model()):
        read_tflite(model)


def test_operator_tensor_index_out_of_range() -> None:
    def edit(m):
        m.subgraphs[0].operators[0].inputs = [0, 99, -1]
    _fails(FC, edit, "tensor index 99 out of range")


def test_opcode_index_out_of_range() -> None:
    def edit(m):
        m.subgraphs[0].operators[0].opcodeIndex = 7
    _fails(FC, edit, "opcode index 7 out of range")


def test_buffer_index_out_of_range() -> None:
    def edit(m):
        _tensor(m, "fc/weights").buffer = 1000
    _fails(FC, edit, "fc/weights", "buffer index 1000 out of range")


def test_negative_dimension() -> None:
    def edit(m):
        _tensor(m, "input").shape = [1, -3]
    _fails(FC, edit, "'input'", "negative dimension")


def test_huge_shape() -> None:
    def edit(m):
        _tensor(m, "input").shape = [2**31 - 1, 2**31 - 1, 2**31 - 1]
    _fails(FC, edit, "'input'", "larger than edgec accepts")


def test_total_bytes_bounded() -> None:
    def edit(m):  # each below the per-tensor limit, together above the total one
        for t in m.subgraphs[0].tensors:
            if t.buffer == 0:
                t.shape = [1, 1 << 27]
    _fails(FC, edit, "MiB")


def test_operator_count_bounded() -> None:
    def edit(m):
        m.subgraphs[0].operators = m.subgraphs[0].operators * (v.MAX_OPERATORS + 1)
    _fails(FC, edit, f"{v.MAX_OPERATORS + 1} operators")


@pytest.mark.parametrize("scale", [0.0, -0.5, float("nan"), float("inf")])
def test_scale_positive_and_finite(scale: float) -> None:
    def edit(m):
        _tensor(m, "input").quantization.scale = np.array([scale], dtype=np.float32)
    _fails(FC, edit, "'input'", "positive and finite")


@pytest.mark.parametrize("zp", [128, -129, 1000])
def test_int8_zero_point_in_range(zp: int) -> None:
    def edit(m):
        _tensor(m, "input").quantization.zeroPoint = np.array([zp], dtype=np.int64)
    _fails(FC, edit, "'input'", f"zero point {zp} is outside the int8 range [-128, 127]")


def test_zero_points_one_per_scale() -> None:
    def edit(m):
        _tensor(m, "conv/weights").quantization.zeroPoint = np.zeros(1, dtype=np.int64)
    _fails(CONV, edit, "conv/weights", "4 scale(s) but 1 zero point(s)")


def test_per_channel_length_matches_dimension() -> None:
    def edit(m):
        q = _tensor(m, "conv/weights").quantization
        q.scale = np.full(3, 0.01, dtype=np.float32)
        q.zeroPoint = np.zeros(3, dtype=np.int64)
    _fails(CONV, edit, "conv/weights", "3 per-channel scales for dimension 0 of size 4")


def test_quantized_dimension_within_rank() -> None:
    def edit(m):
        _tensor(m, "conv/weights").quantization.quantizedDimension = 5
    _fails(CONV, edit, "conv/weights", "quantized dimension 5 is outside the tensor's rank 4")


def test_constant_data_matches_shape() -> None:
    def edit(m):
        t = _tensor(m, "fc/weights")
        m.buffers[t.buffer].data = np.asarray(m.buffers[t.buffer].data)[:-3]
    _fails(FC, edit, "fc/weights", "bytes")


def test_graph_inputs_not_empty() -> None:
    def edit(m):
        m.subgraphs[0].inputs = []
    _fails(FC, edit, "no inputs")


def test_graph_outputs_not_empty() -> None:
    def edit(m):
        m.subgraphs[0].outputs = []
    _fails(FC, edit, "no outputs")


def test_graph_input_not_constant() -> None:
    def edit(m):
        m.subgraphs[0].inputs = [_index(m, "fc/weights")]
    _fails(FC, edit, "graph input", "fc/weights", "constant")


def test_graph_output_not_constant() -> None:
    def edit(m):
        m.subgraphs[0].outputs = [_index(m, "fc/weights")]
    _fails(FC, edit, "graph output", "fc/weights", "constant")


def test_read_of_never_written_tensor() -> None:
    def edit(m):
        sub = m.subgraphs[0]
        dangling = schema.TensorT()
        dangling.name, dangling.shape, dangling.type = b"dangling", [1, 16], schema.TensorType.INT8
        dangling.quantization = _tensor(m, "input").quantization
        sub.tensors.append(dangling)
        sub.operators[0].inputs = [len(sub.tensors) - 1, *list(sub.operators[0].inputs)[1:]]
    _fails(FC, edit, "reads tensor #", "'dangling'", "no operator writes")


def test_cycle() -> None:
    def edit(m):  # the first operator reads the last one's output
        ops = m.subgraphs[0].operators
        ops[0].inputs = [ops[-1].outputs[0], *list(ops[0].inputs)[1:]]
    _fails(TINY, edit, "operator #0", "cycle")


def test_tensor_written_twice() -> None:
    def edit(m):
        ops = m.subgraphs[0].operators
        ops[1].outputs = list(ops[0].outputs)
    _fails(TINY, edit, "operator #1", "already written by operator #0")


def test_operator_arity() -> None:
    def edit(m):
        m.subgraphs[0].operators[-1].inputs = []  # the SOFTMAX
    _fails(TINY, edit, "SOFTMAX", "has 0 input(s)")


def test_required_input_present() -> None:
    def edit(m):
        op = m.subgraphs[0].operators[0]
        op.inputs = [op.inputs[0], -1, op.inputs[2]]
    _fails(FC, edit, "FULLY_CONNECTED", "required input 1 is absent")


def test_garbage_in_a_valid_file_is_a_model_file_error() -> None:
    data = bytearray(FC)
    data[12:] = bytes(len(data) - 12)
    with pytest.raises(ModelFileError):
        read_tflite(bytes(data))
