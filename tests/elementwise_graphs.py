"""A hypothesis strategy for random small graphs of the elementwise family, written by the model builder.

A graph starts from one int8 input of random rank (1-4) and shape and chains one to four ops drawn from
ADD, SUB, MUL (the other operand a second model input or a constant, of a shape that broadcasts either
way, in either operand order, with a random fused activation), PRELU (constant alpha broadcast onto the
input), the unary activations and a requantizing QUANTIZE. Every tensor gets random quantization
(scale 2^-8 .. 2^0, any zero point), except where TFLite fixes it (LOGISTIC's output scale 1/256).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from compiler import modelbuilder as mb
from compiler.lower.broadcast import broadcast_geometry, broadcast_shape
from compiler.lower.lut_tables import hard_swish_params

UNARY = tuple(mb.UNARY_ACTIVATIONS)
KINDS = ("ADD", "SUB", "MUL", "PRELU", "QUANTIZE", *UNARY)


@dataclass(frozen=True)
class RandomGraph:
    model: bytes
    ops: tuple[str, ...]

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        return f"RandomGraph(ops={self.ops}, {len(self.model)} bytes)"


@st.composite
def qparams(draw: st.DrawFn) -> tuple[float, int]:
    scale = float(np.float32(2.0 ** draw(st.floats(-8.0, 0.0))))
    return scale, draw(st.integers(-128, 127))


@st.composite
def _other_shape(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts with ``shape``: per axis the same extent or 1 (or, where shape has 1, up to 3);
    possibly fewer leading axes, or (keeping them all) one more."""
    dims = [draw(st.sampled_from([d, 1])) if d > 1 else draw(st.integers(1, 3)) for d in shape]
    drop = draw(st.integers(0, len(dims) - 1))
    dims = dims[drop:]
    if drop == 0 and len(shape) < 4 and draw(st.booleans()):
        dims = [draw(st.integers(1, 2)), *dims]
    return tuple(dims)


@st.composite
def elementwise_graphs(draw: st.DrawFn) -> RandomGraph:
    b = mb.ModelBuilder()
    rank = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank)))
    input_q = draw(qparams())
    current, current_q = b.input("x", shape, "int8", *input_q), input_q[0]
    kinds = []
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(KINDS))
        out_q = draw(qparams())
        if kind in ("ADD", "SUB", "MUL"):
            other_shape = draw(_other_shape(shape))
            if broadcast_geometry(shape, other_shape) is None:
                other_shape = shape
            if draw(st.booleans()):
                data = np.array(draw(st.lists(st.integers(-128, 127), min_size=int(np.prod(other_shape)),
                                              max_size=int(np.prod(other_shape)))), dtype=np.int8)
                other = b.const(f"c{i}", data.reshape(other_shape), "int8", *draw(qparams()))
            else:
                other = b.input(f"x{i}", other_shape, "int8", *draw(qparams()))
            operands = [current, other] if draw(st.booleans()) else [other, current]
            shape = broadcast_shape(shape, other_shape)  # type: ignore[assignment]
            out = b.tensor(f"{kind.lower()}{i}", shape, "int8", *out_q)
            b.op(kind, operands, [out], activation=draw(st.sampled_from(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"])))
        elif kind == "PRELU":
            alpha_shape = tuple(draw(st.sampled_from([d, 1])) for d in shape[draw(st.integers(0, len(shape) - 1)):])
            alpha = b.const(f"alpha{i}", np.array(draw(st.lists(st.integers(-128, 127), min_size=int(
                np.prod(alpha_shape)), max_size=int(np.prod(alpha_shape)))), dtype=np.int8).reshape(alpha_shape),
                "int8", *draw(qparams()))
            out = b.tensor(f"prelu{i}", shape, "int8", *out_q)
            b.op("PRELU", [current, alpha], [out])
        else:
            if kind == "LOGISTIC":
                out_q = (1.0 / 256.0, out_q[1])
            if kind == "HARD_SWISH" and hard_swish_params(current_q, out_q[0])[1] > 0:
                out_q = (current_q, out_q[1])  # TFLite refuses an output scale below input / 128
            out = b.tensor(f"{kind.lower()}{i}", shape, "int8", *out_q)
            options = {"alpha": draw(st.sampled_from([0.0, 0.1, 0.2, 0.5, 1.5]))} if kind == "LEAKY_RELU" else {}
            b.op(kind, [current], [out], **options)
        kinds.append(kind)
        current, current_q = out, out_q[0]
    b.output(current)
    return RandomGraph(b.build(), tuple(kinds))
