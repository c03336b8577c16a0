"""Property tests: random small graphs of the shape, data-movement, pooling and MEAN ops, with random shapes,
parameters and quantization, written with the ModelBuilder; the compiled result must equal TFLite's reference.

This tier runs the IR interpreter against the reference on many graphs, including batch-axis slices,
rank-1..4 shapes and chains the calibrated generator of tests/test_random_graphs.py does not draw; that
file runs these ops (one strategy each) through the generated C on the host (ASan+UBSan) and on QEMU.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import interp
from compiler.frontend import read_tflite
from compiler.lower import lower
from compiler.modelbuilder import ModelBuilder
from compiler.reference import run_reference

OPS = ("PAD", "PADV2", "SLICE", "STRIDED_SLICE", "TRANSPOSE", "MEAN", "CONCATENATION", "SQUEEZE", "EXPAND_DIMS",
       "SPLIT", "MAX_POOL_2D", "AVERAGE_POOL_2D")
quant = st.tuples(st.floats(0.005, 0.5).map(lambda s: float(np.float32(s))), st.integers(-100, 100))


class _Chain:
    """The graph being drawn: the builder and the current tensor (index, shape, quantization)."""

    def __init__(self, draw, shape: tuple[int, ...], q: tuple[float, int]) -> None:
        self.draw, self.mb, self.n = draw, ModelBuilder(), 0
        self.x, self.shape, self.q = self.mb.input("x", shape, "int8", *q), shape, q

    def const(self, values) -> int:
        self.n += 1
        return self.mb.const(f"c{self.n}", np.asarray(values, dtype=np.int32))

    def emit(self, kind: str, inputs: list[int], shape: tuple[int, ...], q: tuple[float, int] | None = None,
             **options: object) -> None:
        self.n += 1
        y = self.mb.tensor(f"t{self.n}", shape, "int8", *(q or self.q))
        self.mb.op(kind, inputs, [y], **options)
        self.x, self.shape, self.q = y, shape, q or self.q


def _step(c: _Chain, kind: str) -> None:
    draw, shape, rank = c.draw, c.shape, len(c.shape)
    if kind in ("PAD", "PADV2"):
        pads = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape]
        inputs = [c.x, c.const(pads)]
        if kind == "PADV2":
            inputs.append(c.mb.const(f"v{c.n}", np.array([draw(st.integers(-128, 127))], np.int8), "int8",
                                     scales=c.q[0], zero_points=c.q[1]))
        c.emit(kind, inputs, tuple(d + a + b for d, (a, b) in zip(shape, pads)))
    elif kind == "SLICE":
        begin = [draw(st.integers(0, d - 1)) for d in shape]
        size = [draw(st.sampled_from([-1, draw(st.integers(1, d - b))])) for d, b in zip(shape, begin)]
        out = tuple(d - b if s == -1 else s for d, b, s in zip(shape, begin, size))
        c.emit("SLICE", [c.x, c.const(begin), c.const(size)], out)
    elif kind == "STRIDED_SLICE":
        from compiler.lower.movement import resolve_strided_slice
        begin = [draw(st.integers(-d, d - 1)) for d in shape]
        end = [draw(st.integers(-d, d)) for d in shape]
        strides = [draw(st.sampled_from([1, 2, -1, -2])) for _ in shape]
        masks = [draw(st.integers(0, (1 << rank) - 1)) for _ in range(3)]
        masks[2] &= ~sum(1 << k for k, s in enumerate(strides) if s < 0)  # shrink needs a positive stride
        _, _, counts = resolve_strided_slice(shape, tuple(begin), tuple(end), tuple(strides), *masks)
        if 0 in counts or all(masks[2] >> k & 1 for k in range(rank)):
            return
        out = tuple(n for k, n in enumerate(counts) if not masks[2] >> k & 1)
        c.emit("STRIDED_SLICE", [c.x, c.const(begin), c.const(end), c.const(strides)], out, begin_mask=masks[0],
               end_mask=masks[1], shrink_axis_mask=masks[2])
    elif kind == "TRANSPOSE":
        perm = draw(st.permutations(range(rank)))
        c.emit("TRANSPOSE", [c.x, c.const(perm)], tuple(shape[p] for p in perm))
    elif kind == "MEAN":
        axes = sorted(draw(st.sets(st.integers(0, rank - 1), min_size=1)))
        keep = draw(st.booleans())
        if rank == 4 and keep and draw(st.booleans()):
            axes = [1, 2] if draw(st.booleans()) else [2, 1]
        raw = [a - rank if draw(st.booleans()) else a for a in axes] if axes != [2, 1] else axes
        out = tuple(1 if k in axes else d for k, d in enumerate(shape) if keep or k not in axes)
        if not out:
            return
        c.emit("MEAN", [c.x, c.const(raw)], out, draw(st.one_of(st.just(c.q), quant)), keep_dims=keep)
    elif kind == "CONCATENATION":
        axis = draw(st.integers(-rank, rank - 1))
        out = list(shape)
        out[axis] *= 2
        c.emit("CONCATENATION", [c.x, c.x], tuple(out), axis=axis)
    elif kind == "SQUEEZE" and 1 in shape and set(shape) != {1}:
        c.emit("SQUEEZE", [c.x], tuple(d for d in shape if d != 1), squeeze_dims=[])
    elif kind == "EXPAND_DIMS" and rank < 4:
        axis = draw(st.integers(0, rank))
        c.emit("EXPAND_DIMS", [c.x, c.const([axis])], shape[:axis] + (1,) + shape[axis:])
    elif kind == "SPLIT":
        axis = draw(st.integers(0, rank - 1))
        parts = draw(st.sampled_from([n for n in (1, 2, 3) if shape[axis] % n == 0]))
        piece = shape[:axis] + (shape[axis] // parts,) + shape[axis + 1:]
        ys = [c.mb.tensor(f"s{c.n}_{i}", piece, "int8", *c.q) for i in range(parts)]
        c.mb.op("SPLIT", [c.const([axis]), c.x], ys, num_splits=parts)
        c.n += 1
        for extra in ys[1:]:
            c.mb.output(extra)
        c.x, c.shape = ys[0], piece
    elif kind in ("MAX_POOL_2D", "AVERAGE_POOL_2D") and rank == 4:
        from compiler.lower.common import output_size
        fh, fw, sh, sw = (draw(st.integers(1, 4)) for _ in range(4))
        padding = draw(st.sampled_from(["SAME", "VALID"]))
        oh, ow = output_size(shape[1], fh, sh, 1, padding), output_size(shape[2], fw, sw, 1, padding)
        if min(oh, ow) < 1:
            return
        c.emit(kind, [c.x], (shape[0], oh, ow, shape[3]), filter_size=(fh, fw), stride=(sh, sw), padding=padding)


@st.composite
def graphs(draw) -> bytes:
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
    chain = _Chain(draw, shape, draw(quant))
    for kind in draw(st.lists(st.sampled_from(OPS), min_size=1, max_size=3)):
        _step(chain, kind)
    chain.mb.output(chain.x)
    return chain.mb.build()


def _reference_check(model: bytes) -> None:
    program = lower(read_tflite(model))
    rng = np.random.default_rng(0)
    xs = [rng.integers(-128, 128, program.value(v).shape, dtype=np.int8) for v in program.inputs]
    for want, got in zip(run_reference(model, xs), interp.run(program, xs), strict=True):
        assert want.shape == got.shape and np.array_equal(want, got)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=graphs())
def test_random_graphs_interpreter_matches_reference(model: bytes) -> None:
    _reference_check(model)
