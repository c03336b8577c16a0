"""The flatbuffer verifier: valid models pass, each kind of structural damage is named with its byte offset."""

from __future__ import annotations

import struct
from pathlib import Path

import flatbuffers
import pytest
from conftest import MODELS_DIR

from compiler.errors import ModelFileError
from compiler.frontend import read_tflite
from compiler.frontend.flatbuffer_verify import MAX_TABLES, FlatbufferError, verify_tflite

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "tiny_cnn" / "tiny_cnn.tflite"


def _example() -> bytearray:
    return bytearray(EXAMPLE.read_bytes())


def _root(buf: bytes) -> int:
    return struct.unpack_from("<I", buf, 0)[0]


def _field_pos(buf: bytes, table: int, slot: int) -> int:
    """Absolute position of a table's field (asserts the field is present)."""
    vtable = table - struct.unpack_from("<i", buf, table)[0]
    voff = struct.unpack_from("<H", buf, vtable + 4 + 2 * slot)[0]
    assert voff, f"slot {slot} absent"
    return table + voff


def _follow(buf: bytes, pos: int) -> int:
    return pos + struct.unpack_from("<I", buf, pos)[0]


def _first_subgraph(buf: bytes) -> int:
    subgraphs = _follow(buf, _field_pos(buf, _root(buf), 2))
    return _follow(buf, subgraphs + 4)


def _first_tensor(buf: bytes) -> int:
    tensors = _follow(buf, _field_pos(buf, _first_subgraph(buf), 0))
    return _follow(buf, tensors + 4)


def test_valid_models_pass() -> None:
    verify_tflite(bytes(_example()))
    for path in sorted(MODELS_DIR.glob("*.tflite")):  # the MLPerf set when present: int8 and float
        verify_tflite(path.read_bytes())


def test_root_offset_outside_the_file() -> None:
    buf = _example()
    struct.pack_into("<I", buf, 0, len(buf) + 100)
    with pytest.raises(FlatbufferError, match=rf"root at byte offset 0: offset to root table points to byte "
                                              rf"{len(buf) + 100:,}, outside the {len(buf)}-byte file"):
        verify_tflite(bytes(buf))


def test_vtable_outside_the_file() -> None:
    buf = _example()
    root = _root(buf)
    struct.pack_into("<i", buf, root, root + 10_000)  # vtable = root - soffset: far before the start
    with pytest.raises(FlatbufferError, match="vtable .* outside"):
        verify_tflite(bytes(buf))


def test_vector_longer_than_the_file_names_the_path() -> None:
    buf = _example()
    shape = _follow(buf, _field_pos(buf, _first_tensor(buf), 0))
    struct.pack_into("<I", buf, shape, 0x7FFFFFF0)
    with pytest.raises(FlatbufferError) as info:
        verify_tflite(bytes(buf))
    assert info.value.where == "subgraphs[0].tensors[0].shape"
    assert info.value.offset == shape + 4
    assert "vector of 2,147,483,632 elements" in str(info.value)


def test_unterminated_string() -> None:
    buf = _example()
    name = _follow(buf, _field_pos(buf, _first_tensor(buf), 3))
    length = struct.unpack_from("<I", buf, name)[0]
    buf[name + 4 + length] = ord("x")
    with pytest.raises(FlatbufferError, match=r"tensors\[0\]\.name at byte offset \d+: string is not terminated"):
        verify_tflite(bytes(buf))


def test_misaligned_offset() -> None:
    buf = _example()
    pos = _field_pos(buf, _first_tensor(buf), 0)
    struct.pack_into("<I", buf, pos, struct.unpack_from("<I", buf, pos)[0] + 1)
    with pytest.raises(FlatbufferError, match="not aligned to 4 bytes"):
        verify_tflite(bytes(buf))


def test_field_outside_its_table() -> None:
    buf = _example()
    table = _first_tensor(buf)
    vtable = table - struct.unpack_from("<i", buf, table)[0]
    struct.pack_into("<H", buf, vtable + 4, 0xFFF0)  # the shape field, far past the table's inline size
    with pytest.raises(FlatbufferError, match=r"shape at byte offset \d+: field at table offset 65520 lies outside"):
        verify_tflite(bytes(buf))


def test_shared_offsets_cannot_blow_up_the_walk() -> None:
    """A small file whose vectors all point at one table would otherwise be walked n * m times."""
    b = flatbuffers.Builder(0)
    b.StartObject(11)
    tensor = b.EndObject()
    b.StartVector(4, 600, 4)
    for _ in range(600):
        b.PrependUOffsetTRelative(tensor)
    tensors = b.EndVector()
    b.StartObject(6)
    b.PrependUOffsetTRelativeSlot(0, tensors, 0)
    subgraph = b.EndObject()
    b.StartVector(4, 600, 4)
    for _ in range(600):
        b.PrependUOffsetTRelative(subgraph)
    subgraphs = b.EndVector()
    b.StartObject(10)
    b.PrependUOffsetTRelativeSlot(2, subgraphs, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    data = bytes(b.Output())
    assert len(data) < 10_000 and 600 * 600 > MAX_TABLES
    with pytest.raises(FlatbufferError, match=f"more than {MAX_TABLES:,} tables"):
        verify_tflite(data)


def test_reader_reports_the_verifier_step_and_offset() -> None:
    buf = _example()
    struct.pack_into("<I", buf, 0, len(buf) + 100)
    with pytest.raises(ModelFileError) as info:
        read_tflite(bytes(buf))
    assert info.value.step == "verify flatbuffer"
    assert "byte offset" in str(info.value)
