"""The frontend's graph: a model as read from its file, before lowering.

Tensors keep the file's quantization (float scales, zero points, axis); operators keep their
TFLite builtin name and their options, normalised to plain Python values. Nothing here is
specific to the flatbuffer encoding: a reader for another format produces the same types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class QuantParams:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel along ``axis``."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass(frozen=True, slots=True, eq=False)
class Tensor:
    """One tensor of the graph; ``data`` is set for constants (weights, biases, shapes)."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str  # numpy dtype name: int8, int16, int32, int64, uint8, float32, ...
    quant: QuantParams | None = None
    data: np.ndarray | None = None

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def scale(self) -> float:
        """The per-tensor scale (the first one when per channel)."""
        assert self.quant is not None, f"tensor {self.name!r} is not quantized"
        return self.quant.scale[0]

    @property
    def zero_point(self) -> int:
        assert self.quant is not None, f"tensor {self.name!r} is not quantized"
        return self.quant.zero_point[0]


@dataclass(frozen=True, slots=True)
class Operator:
    """One operator: TFLite builtin name, tensor indices (-1 marks an absent optional input), options."""

    index: int
    op: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False)
class Graph:
    """A whole model: one subgraph's tensors and operators in execution order."""

    name: str
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    sha256: str

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def describe(self, op: Operator) -> str:
        """How error messages name an operator: its index, kind and first output tensor."""
        out = self.tensors[op.outputs[0]].name if op.outputs else "?"
        return f"operator #{op.index} {op.op} (output {out!r})"
