"""The elementwise family end to end: compiled C on the host (ASan+UBSan) and on QEMU Cortex-M4 vs the reference.

Single-op graphs of every op (broadcasting, constants, float edges) run on QEMU; on the host two chained
graphs cover every op in two sanitized builds. Hypothesis builds random small graphs of these ops with
random shapes, parameters and *random* quantization (elementwise_graphs.py): the IR interpreter must
equal TFLite's reference interpreter on every one (cheap, so many). The compiled C of random graphs is
held to the reference by tests/test_random_graphs.py, whose per-op strategies (calibrated quantization)
cover these ops on the sanitized host and on QEMU. ``EDGEC_PROPERTY_SCALE=N`` runs N times the examples.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from e2e import assert_bit_identical, build_model
from elementwise_graphs import RandomGraph, elementwise_graphs
from hypothesis import HealthCheck, given, settings
from test_lower_elementwise import _square_model

from compiler import modelbuilder as mb
from compiler.frontend.tflite import read_tflite
from compiler.interp import run
from compiler.lower import lower
from compiler.reference import run_reference


def _float_io_model() -> bytes:
    """float32 -> QUANTIZE -> HARD_SWISH -> MUL by a per-channel constant -> DEQUANTIZE -> float32."""
    b = mb.ModelBuilder()
    x = b.input("x", (1, 4, 4, 3), "float32")
    q = b.tensor("q", (1, 4, 4, 3), "int8", 0.02, -5)
    b.op("QUANTIZE", [x], [q])
    h = b.tensor("h", (1, 4, 4, 3), "int8", 0.015, -100)
    b.op("HARD_SWISH", [q], [h])
    c = b.const("scale", np.array([[[[40, -90, 127]]]], np.int8), "int8", 0.01, 0)
    m = b.tensor("m", (1, 4, 4, 3), "int8", 0.012, 3)
    b.op("MUL", [h, c], [m])
    y = b.tensor("y", (1, 4, 4, 3), "float32")
    b.op("DEQUANTIZE", [m], [y])
    b.output(y)
    return b.build()


CASES: dict[str, bytes] = {
    "mul_channel_broadcast": mb.binary_model("MUL", (1, 5, 5, 8), (1, 1, 1, 8), seed=1, activation="RELU6"),
    "mul_scalar_constant": mb.binary_model("MUL", (1, 4, 4, 3), (), constant_operand=2, seed=2),
    "sub_constant_first": mb.binary_model("SUB", (1, 1, 6), (2, 3, 6), constant_operand=1, seed=3),
    "sub_same_shape": mb.binary_model("SUB", (1, 7, 3), (1, 7, 3), seed=4, activation="RELU"),
    "add_broadcast_rank5": mb.binary_model("ADD", (1, 2, 3, 4, 5), (1, 2, 1, 4, 1), seed=5),
    "prelu_per_channel": mb.prelu_model((1, 5, 5, 6), (1, 1, 6), seed=6),
    "float_io": _float_io_model(),
    "mul_square": _square_model("MUL"),
    "requantize": mb.requantize_model((1, 32), seed=7),
    **{f"act_{kind.lower()}": mb.activation_model(kind, (1, 3, 3, 5), seed=10 + i)
       for i, kind in enumerate(mb.UNARY_ACTIVATIONS)},
}


def _chain_model(kinds: tuple[str, ...], seed: int) -> bytes:
    """One model chaining several ops of the family (one host build covers them all): unary activations
    in turn, and ADD/SUB/MUL/PRELU against a per-channel constant, a second input or a broadcast row."""
    rng = np.random.default_rng(seed)
    b = mb.ModelBuilder()
    shape = (1, 5, 5, 8)
    x = b.input("x", shape, "int8", 0.03, -7)
    for i, kind in enumerate(kinds):
        out_q = {"LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0)}.get(kind, (_f32(rng.uniform(0.01, 0.06)),
                                                                             int(rng.integers(-60, 60))))
        y = b.tensor(f"{kind.lower()}{i}", shape, "int8", *out_q)
        if kind in ("ADD", "SUB", "MUL", "PRELU"):
            other_shape = [(1, 1, 1, 8), (1, 8), (5, 1, 8), (8,)][i % 4]
            if i % 2:
                other = b.input(f"other{i}", other_shape, "int8", _f32(rng.uniform(0.01, 0.05)), 10)
            else:
                data = rng.integers(-128, 128, size=other_shape, dtype=np.int8)
                other = b.const(f"c{i}", data, "int8", _f32(rng.uniform(0.005, 0.05)), -3)
            b.op(kind, [x, other], [y], **({} if kind == "PRELU" else {"activation": "RELU6" if i % 3 else "NONE"}))
        elif kind == "QUANTIZE":
            b.op(kind, [x], [y])
        else:
            b.op(kind, [x], [y], **({"alpha": 0.15} if kind == "LEAKY_RELU" else {}))
        x = y
    b.output(x)
    return b.build()


def _f32(x: float) -> float:
    return float(np.float32(x))


CHAINS = {
    "binary_chain": _chain_model(("MUL", "SUB", "ADD", "PRELU", "MUL", "SUB", "QUANTIZE"), seed=1),
    "activation_chain": _chain_model(("LEAKY_RELU", "HARD_SWISH", "RELU", "ADD", "RELU6", "LOGISTIC", "QUANTIZE",
                                      "TANH", "RELU_N1_TO_1"), seed=2),
}


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_host_bit_identical(name: str, tmp_path) -> None:
    """Every op of the family on the host (ASan+UBSan), chained so that two builds cover them."""
    model = CHAINS[name]
    assert_bit_identical(model, build_model(model, "host", tmp_path, sanitize=True), range(3))


@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(CASES))
def test_cortex_m4_bit_identical(name: str, tmp_path) -> None:
    model = CASES[name]
    sims = assert_bit_identical(model, build_model(model, "mps2-an386", tmp_path), range(2))
    assert all(s.instructions is not None and s.instructions > 0 for s in sims)


def test_float_io_api_takes_and_returns_float(tmp_path) -> None:
    """The generated API of a float model is float in and out, and ties and saturation round as TFLite's."""
    model = _float_io_model()
    built = build_model(model, "host", tmp_path, sanitize=True)
    header = (built.compiled.outdir / "model.h").read_text()
    assert "float *edgec_model_input_0(void);" in header and "const float *edgec_model_output_0(void);" in header
    ties = (np.arange(48, dtype=np.float32) - 24 + np.float32(0.5)) * np.float32(0.02)  # x / scale lands on .5
    # Saturation: quotients far outside int8 (but inside int32, where TFLite's float -> int cast is defined).
    extreme = np.array([1e6, -1e6, 0.0, -0.0, 3.0, -3.0] * 8, dtype=np.float32)
    for x in (ties, np.nextafter(ties, np.float32(0)), extreme):
        xs = [x.reshape(1, 4, 4, 3)]
        got, _ = built.infer(xs)
        want = run_reference(model, xs)
        assert got[0].dtype == np.float32
        np.testing.assert_array_equal(got[0].view(np.uint32), want[0].view(np.uint32))


_SETTINGS = {
    "deadline": None,
    "derandomize": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
}


def _inputs(program, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, size=program.value(v).shape, dtype=np.int8) for v in program.inputs]


# EDGEC_PROPERTY_SCALE=10 runs ten times as many examples (an opt-in longer run).
_SCALE = int(os.environ.get("EDGEC_PROPERTY_SCALE", "1"))


@settings(max_examples=150 * _SCALE, **_SETTINGS)
@given(graph=elementwise_graphs())
def test_random_graphs_interpreter_matches_reference(graph: RandomGraph) -> None:
    program = lower(read_tflite(graph.model))
    for seed in range(2):
        xs = _inputs(program, seed)
        for got, want in zip(run(program, xs), run_reference(graph.model, xs), strict=True):
            np.testing.assert_array_equal(got, want)
