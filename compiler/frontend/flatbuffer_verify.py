"""Verify a TFLite flatbuffer's structure before any of it is decoded.

The Python ``flatbuffers`` package has no verifier (the C++ one is what TFLite runs before it
trusts a file), and the generated object API follows every offset it meets. This module walks
the file the way the C++ verifier does, for the tables edgec reads, and names the first problem
with its byte offset and its path in the schema (``subgraphs[0].tensors[3].name``):

- the root offset, every table's vtable (inside the file, even length, at least 4 bytes, the
  table's inline size inside the file, every field inside the table's inline size), every
  offset to a table, vector or string inside the file, vector lengths that fit in the file,
  strings terminated by a zero byte;
- alignment: tables, vectors and offsets on 4 bytes, scalars and vector elements on their size;
- limits: nesting depth (as the C++ verifier) and table count (a fifth of its default), so a file of
  self-referencing offsets cannot hang or exhaust the reader.

What is walked is the schema subset the reader uses, spelled out in :data:`SCHEMA` with the
field numbers of TFLite's ``schema.fbs``. Union values (the per-op options) and tables the
reader does not descend into (sparsity, variant tensors, external buffers) are verified as
tables (header, vtable, inline size) but not field by field; the reader's decode of them is
guarded and turns anything left into a :class:`~compiler.errors.ModelFileError` as well.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAX_DEPTH = 64
MAX_TABLES = 200_000  # real models have hundreds; bounds the walk of a file of shared offsets


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: str  # "scalar", "string", "vector", "tables", "table", "any_table"
    size: int = 0  # scalar or vector element size in bytes
    table: str = ""  # for "tables" and "table": the table type in SCHEMA


def _scalar(name: str, size: int) -> Field:
    return Field(name, "scalar", size)


def _vector(name: str, size: int) -> Field:
    return Field(name, "vector", size)


def _tables(name: str, table: str) -> Field:
    return Field(name, "tables", table=table)


def _table(name: str, table: str) -> Field:
    return Field(name, "table", table=table)


def _string(name: str) -> Field:
    return Field(name, "string")


def _any(name: str) -> Field:
    return Field(name, "any_table")


def _any_vector(name: str) -> Field:
    return Field(name, "tables", table="")


# Field numbers (slot i lives at vtable entry 4 + 2 i) as in TFLite's schema.fbs.
SCHEMA: dict[str, dict[int, Field]] = {
    "Model": {
        0: _scalar("version", 4), 1: _tables("operator_codes", "OperatorCode"), 2: _tables("subgraphs", "SubGraph"),
        3: _string("description"), 4: _tables("buffers", "Buffer"), 5: _vector("metadata_buffer", 4),
        6: _tables("metadata", "Metadata"), 7: _tables("signature_defs", "SignatureDef"),
        8: _any_vector("external_buffer_groups"), 9: _any_vector("external_buffers"),
    },
    "SubGraph": {
        0: _tables("tensors", "Tensor"), 1: _vector("inputs", 4), 2: _vector("outputs", 4),
        3: _tables("operators", "Operator"), 4: _string("name"), 5: _scalar("debug_metadata_index", 4),
    },
    "Tensor": {
        0: _vector("shape", 4), 1: _scalar("type", 1), 2: _scalar("buffer", 4), 3: _string("name"),
        4: _table("quantization", "QuantizationParameters"), 5: _scalar("is_variable", 1), 6: _any("sparsity"),
        7: _vector("shape_signature", 4), 8: _scalar("has_rank", 1), 9: _any_vector("variant_tensors"),
        10: _scalar("external_buffer", 4),
    },
    "QuantizationParameters": {
        0: _vector("min", 4), 1: _vector("max", 4), 2: _vector("scale", 4), 3: _vector("zero_point", 8),
        4: _scalar("details_type", 1), 5: _any("details"), 6: _scalar("quantized_dimension", 4),
    },
    "Operator": {
        0: _scalar("opcode_index", 4), 1: _vector("inputs", 4), 2: _vector("outputs", 4),
        3: _scalar("builtin_options_type", 1), 4: _any("builtin_options"), 5: _vector("custom_options", 1),
        6: _scalar("custom_options_format", 1), 7: _vector("mutating_variable_inputs", 1),
        8: _vector("intermediates", 4), 9: _scalar("large_custom_options_offset", 8),
        10: _scalar("large_custom_options_size", 8), 11: _scalar("builtin_options_2_type", 1),
        12: _any("builtin_options_2"), 13: _scalar("debug_metadata_index", 4),
    },
    "OperatorCode": {
        0: _scalar("deprecated_builtin_code", 1), 1: _string("custom_code"), 2: _scalar("version", 4),
        3: _scalar("builtin_code", 4),
    },
    "Buffer": {0: _vector("data", 1), 1: _scalar("offset", 8), 2: _scalar("size", 8)},
    "Metadata": {0: _string("name"), 1: _scalar("buffer", 4)},
    "SignatureDef": {
        0: _tables("inputs", "TensorMap"), 1: _tables("outputs", "TensorMap"), 2: _string("signature_key"),
        4: _scalar("subgraph_index", 4),
    },
    "TensorMap": {0: _string("name"), 1: _scalar("tensor_index", 4)},
}


class FlatbufferError(Exception):
    """A structural problem: where (schema path and byte offset) and what."""

    def __init__(self, where: str, offset: int, problem: str) -> None:
        self.where, self.offset, self.problem = where, offset, problem
        super().__init__(f"{where or 'root'} at byte offset {offset}: {problem}")


class _Verifier:
    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.size = len(buf)
        self.tables = 0

    def _need(self, pos: int, nbytes: int, align: int, where: str, what: str) -> None:
        if pos < 0 or nbytes < 0 or pos + nbytes > self.size:
            raise FlatbufferError(where, pos, f"{what} ({nbytes} bytes) lies outside the {self.size}-byte file")
        if align > 1 and pos % align:
            raise FlatbufferError(where, pos, f"{what} is not aligned to {align} bytes")

    def _u32(self, pos: int, where: str, what: str) -> int:
        self._need(pos, 4, 4, where, what)
        return struct.unpack_from("<I", self.buf, pos)[0]

    def _target(self, pos: int, where: str, what: str) -> int:
        """Follow the uoffset stored at pos; the error names where the offset is stored when it points outside."""
        target = pos + self._u32(pos, where, f"offset to {what}")
        if target >= self.size:
            raise FlatbufferError(where, pos, f"offset to {what} points to byte {target:,}, outside the "
                                              f"{self.size}-byte file")
        return target

    def table(self, pos: int, type_name: str, where: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise FlatbufferError(where, pos, f"tables nest deeper than {MAX_DEPTH} levels")
        self.tables += 1
        if self.tables > MAX_TABLES:
            raise FlatbufferError(where, pos, f"more than {MAX_TABLES:,} tables")
        self._need(pos, 4, 4, where, "table")
        vtable = pos - struct.unpack_from("<i", self.buf, pos)[0]
        self._need(vtable, 4, 2, where, "vtable")
        vsize, inline = struct.unpack_from("<HH", self.buf, vtable)
        if vsize < 4 or vsize % 2:
            raise FlatbufferError(where, vtable, f"vtable size {vsize} is not an even number of at least 4")
        self._need(vtable, vsize, 2, where, "vtable")
        if inline < 4:
            raise FlatbufferError(where, pos, f"table size {inline} is smaller than its 4-byte header")
        self._need(pos, inline, 1, where, "table")
        fields = SCHEMA.get(type_name, {})
        for slot in range((vsize - 4) // 2):
            voff = struct.unpack_from("<H", self.buf, vtable + 4 + 2 * slot)[0]
            if voff == 0:
                continue
            spec = fields.get(slot)
            name = spec.name if spec else f"field{slot}"
            fwhere = f"{where}.{name}" if where else name
            width = spec.size if spec and spec.kind == "scalar" else 4 if spec else 1
            if voff < 4 or voff + width > inline:
                raise FlatbufferError(fwhere, pos + voff, f"field at table offset {voff} lies outside the "
                                                          f"table's {inline} bytes")
            if spec is not None:
                self.field(pos + voff, spec, fwhere, depth)

    def field(self, pos: int, spec: Field, where: str, depth: int) -> None:
        if spec.kind == "scalar":
            self._need(pos, spec.size, spec.size, where, "scalar")
        elif spec.kind == "string":
            self.string(self._target(pos, where, "string"), where)
        elif spec.kind == "vector":
            self.vector(self._target(pos, where, "vector"), spec.size, where)
        elif spec.kind == "table":
            self.table(self._target(pos, where, "table"), spec.table, where, depth + 1)
        elif spec.kind == "any_table":
            self.table(self._target(pos, where, "table"), "", where, depth + 1)
        else:  # vector of tables
            start = self._target(pos, where, "vector")
            count = self.vector(start, 4, where)
            for i in range(count):
                elem = start + 4 + 4 * i
                self.table(self._target(elem, f"{where}[{i}]", "table"), spec.table, f"{where}[{i}]", depth + 1)

    def vector(self, pos: int, elem_size: int, where: str) -> int:
        count = self._u32(pos, where, "vector length")
        if elem_size > 4 and (pos + 4) % elem_size:
            raise FlatbufferError(where, pos + 4, f"vector of {elem_size}-byte elements is not aligned")
        self._need(pos + 4, count * elem_size, 1, where, f"vector of {count:,} elements")
        return count

    def string(self, pos: int, where: str) -> None:
        length = self.vector(pos, 1, where)
        self._need(pos + 4 + length, 1, 1, where, "string terminator")
        if self.buf[pos + 4 + length] != 0:
            raise FlatbufferError(where, pos + 4 + length, "string is not terminated by a zero byte")


def verify_tflite(buf: bytes) -> None:
    """Raise :class:`FlatbufferError` at the first structural problem of a TFLite model's bytes."""
    v = _Verifier(buf)
    if len(buf) < 8:
        raise FlatbufferError("", 0, f"the file has {len(buf)} bytes, fewer than a flatbuffer's 8-byte header")
    v.table(v._target(0, "", "root table"), "Model", "", 0)
