"""Property-based tests: random small graphs, compiled to C, identical to TFLite's reference interpreter.

For each op in the table :data:`LAYERS`, hypothesis draws chains of 1 to 4 layers that start
with that op (so every op is tested even in a short run) on a random input: NHWC ``1 x H x W x C``
or ``1 x N``, int8 with random parameters, or float32 behind a QUANTIZE with a DEQUANTIZE at the
output. Each layer's parameters are drawn too: kernel, stride, padding, dilation, depth multiplier,
per-tensor or per-channel weights, bias or none, fused activation, keep_num_dims, the target shape
of a RESHAPE, and the other operand of an ADD (an earlier tensor of the same shape, the tensor
itself, or a new model input). The model is written by ``compiler.modelbuilder.CalibratedGraph``,
which picks every activation's quantization from a float calibration pass the way the TFLite
converter does. Every example is compiled, built once as a host executable under ASan+UBSan, and
run on three random inputs; the firmware, the IR interpreter and the reference interpreter must
agree bit for bit. One example per op also runs on QEMU mps2-an386.

Adding an op is ONE entry: a strategy function registered in the table with ``@layer``::

    @layer("MUL")
    def _mul(draw: Draw, chain: Chain, x: int) -> int | None:
        other = draw(st.sampled_from(chain.same_shape(x)))
        return chain.g.mul(x, other, chain.name("mul"))

A strategy gets hypothesis's ``draw``, the chain built so far and the tensor to extend; it draws the
op's parameters, adds the op through the calibrated builder and returns the new tensor, or None when
the op cannot follow ``x`` (wrong rank, too small), and another op is drawn instead.
:func:`test_every_supported_op_has_a_strategy` fails until every op the compiler supports has an
entry (or is one of the float edges), and :func:`test_every_strategy_was_generated` fails if an
entry never made it into a graph during the session's host examples.

Cost: compiling C dominates (about 1.5 s per host example, 1 s per QEMU one on an idle machine), so
the default run is bounded to :data:`HOST_EXAMPLES_PER_OP` host and :data:`QEMU_EXAMPLES_PER_OP` QEMU
examples per op, drawn with a fixed seed (``derandomize``) so CI always tests the same graphs, and not
shrunk (each shrink step compiles C; a failure prints the ``@reproduce_failure`` blob that replays
it). For a longer, freshly random run set ``EDGEC_RANDOM_GRAPH_EXAMPLES=N``: N host and N // 3 QEMU
examples per op, new graphs each run.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from e2e import assert_bit_identical, build_model
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from compiler.frontend import read_tflite
from compiler.lower import check_support, supported_ops
from compiler.lower.common import ACTIVATIONS  # the fused activations the compiler accepts
from compiler.modelbuilder import CalibratedGraph

Draw = Callable[[st.SearchStrategy], Any]
Strategy = Callable[[Draw, "Chain", int], "int | None"]

_LONG_RUN = os.environ.get("EDGEC_RANDOM_GRAPH_EXAMPLES")
HOST_EXAMPLES_PER_OP = int(_LONG_RUN) if _LONG_RUN else 3
QEMU_EXAMPLES_PER_OP = max(1, HOST_EXAMPLES_PER_OP // 3)
MAX_LAYERS = 4
EDGE_OPS = ("QUANTIZE", "DEQUANTIZE")  # made by the float-I/O form of the input and output, not by LAYERS

LAYERS: dict[str, Strategy] = {}
GENERATED: Counter = Counter()  # ops put into host-example graphs this session


def layer(op: str) -> Callable[[Strategy], Strategy]:
    """Register the strategy that appends one ``op`` layer to a chain."""

    def register(fn: Strategy) -> Strategy:
        assert op not in LAYERS, f"two strategies for {op}"
        LAYERS[op] = fn
        return fn

    return register


@dataclass
class Chain:
    """A graph being drawn: the calibrated builder, the int8 tensors so far and the ops added."""

    g: CalibratedGraph
    tensors: list[int] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)
    inputs: int = 1

    def shape(self, x: int) -> tuple[int, ...]:
        """The model's shape of tensor ``x`` (its calibration values hold ``samples`` copies of the model's batch)."""
        values = self.g.values[x]
        return (values.shape[0] // self.g.samples, *values.shape[1:])

    def name(self, op: str) -> str:
        return f"l{len(self.ops)}_{op.lower()}"

    def same_shape(self, x: int) -> list[int]:
        """Earlier int8 tensors with the shape of ``x`` (``x`` itself included)."""
        return [t for t in self.tensors if self.shape(t) == self.shape(x)]


def _window(draw: Draw, size: int, padding: str, max_kernel: int = 3, dilation: int = 1) -> int:
    """A kernel extent along one axis that fits ``size`` under ``padding`` (VALID needs the whole window inside)."""
    fits = max_kernel if padding == "SAME" else min(max_kernel, (size - 1) // dilation + 1)
    return draw(st.integers(1, max(1, fits)))


def _conv_geometry(draw: Draw, chain: Chain, x: int, max_kernel: int = 3) -> dict[str, Any] | None:
    """Kernel, stride, padding and dilation of a 2-D window over the 4-D tensor ``x``; None if ``x`` is not 4-D."""
    shape = chain.shape(x)
    if len(shape) != 4:
        return None
    padding = draw(st.sampled_from(("SAME", "VALID")))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    kernel = tuple(_window(draw, shape[1 + a], padding, max_kernel, dilation[a]) for a in range(2))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    return {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}


@layer("CONV_2D")
def _conv2d(draw: Draw, chain: Chain, x: int) -> int | None:
    geometry = _conv_geometry(draw, chain, x)
    if geometry is None:
        return None
    return chain.g.conv2d(x, chain.name("CONV_2D"), draw(st.integers(1, 8)), **geometry,
                          activation=draw(st.sampled_from(ACTIVATIONS)), per_channel=draw(st.booleans()),
                          use_bias=draw(st.booleans()))


@layer("DEPTHWISE_CONV_2D")
def _depthwise(draw: Draw, chain: Chain, x: int) -> int | None:
    geometry = _conv_geometry(draw, chain, x)
    if geometry is None:
        return None
    multiplier = draw(st.integers(1, max(1, min(3, 12 // chain.shape(x)[3]))))
    return chain.g.depthwise_conv2d(x, chain.name("DEPTHWISE_CONV_2D"), multiplier, **geometry,
                                    activation=draw(st.sampled_from(ACTIVATIONS)), per_channel=draw(st.booleans()),
                                    use_bias=draw(st.booleans()))


@layer("FULLY_CONNECTED")
def _fully_connected(draw: Draw, chain: Chain, x: int) -> int | None:
    shape = chain.shape(x)
    keep_num_dims = len(shape) > 2 and draw(st.booleans())
    return chain.g.fully_connected(x, chain.name("FULLY_CONNECTED"), draw(st.integers(1, 8)),
                                   activation=draw(st.sampled_from(ACTIVATIONS)), per_channel=draw(st.booleans()),
                                   use_bias=draw(st.booleans()), keep_num_dims=keep_num_dims)


def _pool(kind: str) -> Strategy:
    def strategy(draw: Draw, chain: Chain, x: int) -> int | None:
        shape = chain.shape(x)
        if len(shape) != 4:
            return None
        padding = draw(st.sampled_from(("SAME", "VALID")))
        filter_size = tuple(_window(draw, shape[1 + a], padding) for a in range(2))
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        return chain.g.pool(x, chain.name(f"{kind}_POOL"), kind, filter_size=filter_size, stride=stride,
                            padding=padding, activation=draw(st.sampled_from(ACTIVATIONS)))

    return strategy


layer("AVERAGE_POOL_2D")(_pool("AVG"))
layer("MAX_POOL_2D")(_pool("MAX"))


@layer("ADD")
def _add(draw: Draw, chain: Chain, x: int) -> int | None:
    if draw(st.booleans()):
        other = draw(st.sampled_from(chain.same_shape(x)))
    else:
        other = chain.g.input(f"input{chain.inputs}", chain.shape(x))
        chain.inputs += 1
    return chain.g.add(x, other, chain.name("ADD"), activation=draw(st.sampled_from(ACTIVATIONS)))


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@layer("RESHAPE")
def _reshape(draw: Draw, chain: Chain, x: int) -> int | None:
    n = int(np.prod(chain.shape(x)))
    rank = draw(st.sampled_from((2, 3, 4)))
    dims = []
    for _ in range(rank - 2):
        d = draw(st.sampled_from(_divisors(n)))
        dims.append(d)
        n //= d
    return chain.g.reshape(x, chain.name("RESHAPE"), (1, *dims, n), shape_as_input=draw(st.booleans()))


@layer("SOFTMAX")
def _softmax(draw: Draw, chain: Chain, x: int) -> int | None:
    return chain.g.softmax(x, chain.name("SOFTMAX"), beta=draw(st.sampled_from((1.0, 0.5, 2.0))))


# ---- shape, data-movement and reduction layers: axis 0 (the calibration batch) is never moved ----------------

def _movement(chain: Chain, x: int, kind: str, params: list, values, qparams: Any = "same", **options: Any) -> int:
    """Add ``kind`` on ``x`` with int32 constant ``params`` after it; ``values`` are its float outputs (one or a list)."""
    g = chain.g
    consts = [g.mb.const(f"{chain.name(kind)}/p{i}", np.asarray(p, dtype=np.int32)) for i, p in enumerate(params)]
    outputs = values if isinstance(values, list) else [values]
    q = g.qparams[x] if qparams == "same" else qparams
    return g.op_with_values(kind, [x, *consts], chain.name(kind), outputs, q, **options)[0]


@layer("PAD")
def _pad(draw: Draw, chain: Chain, x: int) -> int | None:
    pads = [(0, 0)] + [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in chain.shape(x)[1:]]
    return _movement(chain, x, "PAD", [pads], np.pad(chain.g.values[x], pads))


@layer("PADV2")
def _padv2(draw: Draw, chain: Chain, x: int) -> int | None:
    g, pads = chain.g, [(0, 0)] + [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in chain.shape(x)[1:]]
    scale, zp = g.qparams[x]
    code = draw(st.integers(-128, 127))
    value = g.mb.const(f"{chain.name('PADV2')}/value", np.array([code], np.int8), "int8", scales=scale, zero_points=zp)
    padded = np.pad(g.values[x], pads, constant_values=(code - zp) * scale)
    pad_t = g.mb.const(f"{chain.name('PADV2')}/pads", np.asarray(pads, np.int32))
    return g.op_with_values("PADV2", [x, pad_t, value], chain.name("PADV2"), [padded], g.qparams[x])[0]


@layer("SLICE")
def _slice(draw: Draw, chain: Chain, x: int) -> int | None:
    shape = chain.shape(x)
    begin = [0] + [draw(st.integers(0, d - 1)) for d in shape[1:]]
    size = [-1] + [draw(st.sampled_from((-1, draw(st.integers(1, d - b))))) for d, b in zip(shape[1:], begin[1:])]
    index = tuple(slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))
    return _movement(chain, x, "SLICE", [begin, size], chain.g.values[x][index])


@layer("STRIDED_SLICE")
def _strided_slice(draw: Draw, chain: Chain, x: int) -> int | None:
    from compiler.lower.movement import resolve_strided_slice

    shape = chain.shape(x)
    rank = len(shape)
    begin = [0] + [draw(st.integers(-d, d - 1)) for d in shape[1:]]
    end = [1] + [draw(st.integers(-d - 1, d + 1)) for d in shape[1:]]
    strides = [1] + [draw(st.sampled_from((1, 2, -1, -2))) for _ in shape[1:]]
    begin_mask, end_mask = (draw(st.integers(0, (1 << rank) - 1)) for _ in range(2))
    shrink = draw(st.integers(0, (1 << rank) - 1)) & ~1 & ~sum(1 << k for k, s in enumerate(strides) if s < 0)
    start, step, count = resolve_strided_slice(shape, tuple(begin), tuple(end), tuple(strides), begin_mask,
                                               end_mask, shrink)
    if 0 in count or all(shrink >> k & 1 for k in range(1, rank)):
        return None
    values = chain.g.values[x]
    picked = values[np.ix_(np.arange(values.shape[0]), *(b + s * np.arange(n) for b, s, n in
                                                          zip(start[1:], step[1:], count[1:])))]
    picked = picked.reshape([values.shape[0]] + [n for k, n in enumerate(count) if k and not shrink >> k & 1])
    return _movement(chain, x, "STRIDED_SLICE", [begin, end, strides], picked, begin_mask=begin_mask,
                     end_mask=end_mask, shrink_axis_mask=shrink)


@layer("TRANSPOSE")
def _transpose(draw: Draw, chain: Chain, x: int) -> int | None:
    rank = len(chain.shape(x))
    perm = [0, *draw(st.permutations(range(1, rank)))]
    return _movement(chain, x, "TRANSPOSE", [perm], np.transpose(chain.g.values[x], perm))


@layer("MEAN")
def _mean(draw: Draw, chain: Chain, x: int) -> int | None:
    rank = len(chain.shape(x))
    if rank < 2:
        return None
    axes = sorted(draw(st.sets(st.integers(1, rank - 1), min_size=1)))
    keep = draw(st.booleans()) or len(axes) == rank - 1  # the other layers expect a batch axis and at least one more
    raw = [a - rank if draw(st.booleans()) else a for a in axes]
    return _movement(chain, x, "MEAN", [raw], chain.g.values[x].mean(axis=tuple(axes), keepdims=keep), qparams=None,
                     keep_dims=keep)


@layer("CONCATENATION")
def _concatenation(draw: Draw, chain: Chain, x: int) -> int | None:
    """Joins ``x`` with earlier tensors of its quantization (the int8 kernel needs one scale) along a non-batch axis."""
    rank = len(chain.shape(x))
    if rank < 2:
        return None
    axis = draw(st.integers(1, rank - 1))
    same = [t for t in chain.tensors if chain.g.qparams[t] == chain.g.qparams[x] and len(chain.shape(t)) == rank
            and all(a == b for k, (a, b) in enumerate(zip(chain.shape(t), chain.shape(x))) if k != axis)]
    parts = [x, *draw(st.lists(st.sampled_from(same), min_size=1, max_size=2))]
    joined = np.concatenate([chain.g.values[t] for t in parts], axis=axis)
    return chain.g.op_with_values("CONCATENATION", parts, chain.name("CONCATENATION"), [joined], chain.g.qparams[x],
                                  axis=axis if draw(st.booleans()) else axis - rank)[0]


@layer("SQUEEZE")
def _squeeze(draw: Draw, chain: Chain, x: int) -> int | None:
    ones = [k for k, d in enumerate(chain.shape(x)) if k and d == 1]
    if not ones:
        return None
    dims = sorted(draw(st.sets(st.sampled_from(ones), min_size=1)))
    if len(dims) == len(chain.shape(x)) - 1:
        dims = dims[1:]
        if not dims:
            return None
    return _movement(chain, x, "SQUEEZE", [], np.squeeze(chain.g.values[x], axis=tuple(dims)), squeeze_dims=dims)


@layer("EXPAND_DIMS")
def _expand_dims(draw: Draw, chain: Chain, x: int) -> int | None:
    rank = len(chain.shape(x))
    if rank >= 4:
        return None
    axis = draw(st.integers(1, rank))
    raw = axis - rank - 1 if draw(st.booleans()) else axis
    return _movement(chain, x, "EXPAND_DIMS", [[raw]], np.expand_dims(chain.g.values[x], axis))


def _split_layer(kind: str) -> Strategy:
    def strategy(draw: Draw, chain: Chain, x: int) -> int | None:
        g, shape = chain.g, chain.shape(x)
        axes = [k for k, d in enumerate(shape) if k and d > 1]
        if not axes:
            return None
        axis = draw(st.sampled_from(axes))
        size = shape[axis]
        if kind == "SPLIT":
            parts = draw(st.sampled_from([n for n in range(2, size + 1) if size % n == 0]))
            sizes = [size // parts] * parts
        else:
            cut = draw(st.integers(1, size - 1))
            sizes = [cut, size - cut]
        pieces = np.split(g.values[x], np.cumsum(sizes)[:-1], axis=axis)
        name = chain.name(kind)
        axis_t = g.mb.const(f"{name}/axis", np.array([axis if draw(st.booleans()) else axis - len(shape)], np.int32))
        if kind == "SPLIT":
            inputs = [axis_t, x]
        else:
            sizes_t = g.mb.const(f"{name}/sizes", np.array([-1, sizes[1]] if draw(st.booleans()) else sizes, np.int32))
            inputs = [x, sizes_t, axis_t]
        outs = g.op_with_values(kind, inputs, name, pieces, g.qparams[x], num_splits=len(sizes))
        return outs[draw(st.integers(0, len(outs) - 1))]

    return strategy


def _broadcast_partner(draw: Draw, chain: Chain, x: int, name: str) -> int:
    """The other operand of a two-operand op on ``x``: an earlier tensor of its shape, a new model input of its
    shape or of one broadcast along all but the last axis, or a constant (per channel, or a scalar)."""
    shape = chain.shape(x)
    kind = draw(st.sampled_from(("same", "input", "row_input", "channel_constant", "scalar_constant")))
    if kind == "same":
        return draw(st.sampled_from(chain.same_shape(x)))
    if kind in ("input", "row_input"):
        row = (1,) * (len(shape) - 1) + shape[-1:]
        other = chain.g.input(f"input{chain.inputs}", shape if kind == "input" else row)
        chain.inputs += 1
        return other
    const_shape = (shape[-1],) if kind == "channel_constant" else ()
    return chain.g.constant(f"{name}/constant", chain.g.rng.uniform(-2.0, 2.0, size=const_shape))


def _binary(kind: str) -> Strategy:
    def strategy(draw: Draw, chain: Chain, x: int) -> int | None:
        name = chain.name(kind)
        other = _broadcast_partner(draw, chain, x, name)
        a, b = (x, other) if draw(st.booleans()) else (other, x)
        return chain.g.binary(kind, a, b, name, activation=draw(st.sampled_from(ACTIVATIONS)))

    return strategy


layer("SPLIT")(_split_layer("SPLIT"))
layer("SPLIT_V")(_split_layer("SPLIT_V"))
layer("SUB")(_binary("SUB"))
layer("MUL")(_binary("MUL"))


@layer("PRELU")
def _prelu(draw: Draw, chain: Chain, x: int) -> int | None:
    name = chain.name("PRELU")
    channels = chain.shape(x)[-1]
    alpha_shape = draw(st.sampled_from(((channels,), (1,))))
    alpha = chain.g.constant(f"{name}/alpha", chain.g.rng.uniform(-0.5, 0.5, size=alpha_shape))
    return chain.g.prelu(x, alpha, name)


def _unary(kind: str) -> Strategy:
    def strategy(draw: Draw, chain: Chain, x: int) -> int | None:
        return chain.g.unary(kind, x, chain.name(kind), alpha=draw(st.sampled_from((0.0, 0.1, 0.3, 1.5))))

    return strategy


for _kind in ("RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "HARD_SWISH", "LOGISTIC", "TANH"):
    layer(_kind)(_unary(_kind))


@st.composite
def graphs(draw: Draw, first: str) -> tuple[bytes, list[str]]:
    """A random model (its bytes) whose first layer is ``first``, and the ops its layers use, in order."""
    g = CalibratedGraph(seed=draw(st.integers(0, 2**32 - 1)), calibration_samples=16)
    if draw(st.integers(0, 4)) == 0:
        shape: tuple[int, ...] = (1, draw(st.integers(1, 48)))
    else:
        shape = (1, draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(st.integers(1, 6)))
    float_io = draw(st.booleans())
    if float_io:
        lo, hi = draw(st.floats(-4.0, -0.1)), draw(st.floats(0.1, 4.0))
        x = g.quantize(g.float_input("input", shape, lo, hi), "quantize")
    else:
        x = g.input("input", shape)
    chain = Chain(g, [x])
    y = LAYERS[first](draw, chain, x)
    assume(y is not None)  # e.g. a pooling layer on a 1 x N input: draw another input
    for layers in range(draw(st.integers(1, MAX_LAYERS))):
        if layers:
            candidates = sorted(LAYERS)
            while (y := LAYERS[op := draw(st.sampled_from(candidates))](draw, chain, x)) is None:
                candidates.remove(op)
        else:
            op = first
        chain.tensors.append(y)
        chain.ops.append(op)
        x = y
    g.output(g.dequantize(x, "dequantize") if float_io else x)
    return g.build(), chain.ops


def _check(model: bytes, ops: list[str], target: str) -> None:
    problems = check_support(read_tflite(model))
    assert not problems, f"the generated graph {ops} is not supported: {problems}"
    with tempfile.TemporaryDirectory(prefix="edgec-random-graph-") as tmp:
        built = build_model(model, target, Path(tmp), sanitize=target == "host")
        assert_bit_identical(model, built, range(3))


def _settings(examples: int) -> settings:
    # No shrinking: every shrink step compiles C, and a failure already prints the blob that replays it.
    return settings(max_examples=examples, deadline=None, derandomize=not _LONG_RUN, database=None,
                    phases=[Phase.explicit, Phase.generate], print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("first", sorted(LAYERS))
@given(data=st.data())
@_settings(HOST_EXAMPLES_PER_OP)
def test_host_random_graph_bit_identical(first: str, data: st.DataObject) -> None:
    model, ops = data.draw(graphs(first), label="graph")
    _check(model, ops, "host")
    GENERATED.update(ops)


@pytest.mark.qemu
@pytest.mark.parametrize("first", sorted(LAYERS))
@given(data=st.data())
@_settings(QEMU_EXAMPLES_PER_OP)
def test_cortex_m4_random_graph_bit_identical(first: str, data: st.DataObject) -> None:
    _check(*data.draw(graphs(first), label="graph"), "mps2-an386")


def test_every_supported_op_has_a_strategy() -> None:
    """An op the compiler supports but the generator never draws is untested here: add its entry to LAYERS."""
    missing = sorted(set(supported_ops()) - set(LAYERS) - set(EDGE_OPS))
    assert not missing, f"no random-graph strategy for {missing}; register one with @layer (see the module docstring)"
    assert set(LAYERS) <= set(supported_ops())


def test_every_strategy_was_generated() -> None:
    """Runs after the host examples: each registered op was in at least one generated graph."""
    if not GENERATED:
        pytest.skip("the host random-graph test did not run in this session")
    assert set(GENERATED) == set(LAYERS), f"never generated: {sorted(set(LAYERS) - set(GENERATED))}"
