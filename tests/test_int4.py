"""int4 weights end to end: packing, TFLite's int4 semantics, the _s4 kernels bit-identical to the reference."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from conftest import mlperf_model
from e2e import assert_bit_identical, build_model
from float_models import FloatNet, calibration, small_cnn

from compiler.driver import compile_program
from compiler.frontend import read_tflite
from compiler import ir
from compiler.int4 import pack_int4, padded_depth, unpack_int4
from compiler.quantize import QuantizeOptions, quantize
from compiler.quantize.writer import LayerWeights, activation_qparams, write_model
from compiler.reference import run_reference

INT4 = QuantizeOptions(weights="int4", weight_method="mse", show_progress=False)


def test_packing_is_low_nibble_first() -> None:
    assert pack_int4(np.array([1, -1, -8, 7, 3])).tolist() == [0xF1, 0x78, 0x03]
    values = np.random.default_rng(0).integers(-8, 8, size=(3, 5, 7))
    np.testing.assert_array_equal(unpack_int4(pack_int4(values), values.shape), values)


def test_int4_weights_mean_the_same_as_int8_weights_in_the_reference() -> None:
    """TFLite's reference kernels unpack int4 weights to int8: a model with int4 weights computes exactly what
    the same model with those values stored as int8 computes. So edgec's IR holds int4 weights unpacked."""
    q = quantize(small_cnn(), calibration((1, 8, 8, 3), 32), INT4)
    twin_layers = {i: LayerWeights(dataclasses.replace(lw.weights, bits=8), lw.bias) for i, lw in q.layers.items()}
    twin = write_model(q.model, activation_qparams(q.model, q.ranges), twin_layers)
    assert {t.dtype for t in read_tflite(q.tflite).tensors if t.is_constant} >= {"int4"}
    assert "int4" not in {t.dtype for t in read_tflite(twin).tensors}
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = rng.integers(-128, 128, (1, 8, 8, 3), dtype=np.int8)
        np.testing.assert_array_equal(run_reference(q.tflite, [x])[0], run_reference(twin, [x])[0])


def test_int4_weights_take_half_the_flash() -> None:
    q8 = quantize(small_cnn(), calibration((1, 8, 8, 3), 16), QuantizeOptions(show_progress=False))
    q4 = quantize(small_cnn(), calibration((1, 8, 8, 3), 16), INT4)
    p8, _ = compile_program(q8.tflite)
    p4, _ = compile_program(q4.tflite)
    w8 = sum(op.constants["weights"].nbytes for op in p8.ops if "weights" in op.constants)
    w4 = sum(op.constants["weights"].nbytes for op in p4.ops if "weights" in op.constants)
    counts = [op.weights.size for op in p4.ops if hasattr(op, "weights")]
    assert w8 == sum(counts)
    # Depthwise: dense packing; conv and fully connected: rows padded to whole groups of eight taps, fully
    # connected rows to a multiple of four (compiler/int4.py).
    expected = 0
    for op in p4.ops:
        if isinstance(op, ir.DepthwiseConv2D):
            expected += (op.weights.size + 1) // 2
        elif isinstance(op, (ir.Conv2D, ir.FullyConnected)):
            rows = op.weights.shape[0]
            rows = -(-rows // 4) * 4 if isinstance(op, ir.FullyConnected) else rows
            expected += rows * padded_depth(op.weights.size // op.weights.shape[0]) // 2
    assert w4 == expected < w8


@pytest.mark.parametrize("seed", [0, 1])
def test_int4_model_compiles_bit_identically_with_s4_kernels(seed: int, tmp_path: Path) -> None:
    q = quantize(small_cnn(seed), calibration((1, 8, 8, 3), 32, seed=seed), INT4)
    built = build_model(q.tflite, "host", tmp_path, sanitize=True)
    source = (built.compiled.outdir / "model.c").read_text()
    for kernel in ("edgec_convolve_s4", "edgec_depthwise_conv_s4", "edgec_fully_connected_s4"):
        assert kernel in source
    assert "edgec_convolve_s8" not in source
    assert_bit_identical(q.tflite, built, range(3))


@pytest.mark.qemu
def test_int4_model_bit_identical_on_cortex_m4(tmp_path: Path) -> None:
    q = quantize(small_cnn(), calibration((1, 8, 8, 3), 32), INT4)
    assert_bit_identical(q.tflite, build_model(q.tflite, "mps2-an386", tmp_path), range(2))


@pytest.mark.slow
@pytest.mark.mlperf
@pytest.mark.parametrize("name", ["kws_dscnn_float", "resnet8_float", "vww_mbv1_float", "ad_fcae_float"])
def test_mlperf_int4_weights_bit_identical(name: str, tmp_path: Path) -> None:
    path = mlperf_model(name)
    shape = read_tflite(path).tensor(read_tflite(path).inputs[0]).shape
    q = quantize(path, np.random.default_rng(0).normal(0, 0.5, (8, *shape[1:])).astype(np.float32), INT4)
    assert_bit_identical(q.tflite, build_model(q.tflite, "host", tmp_path, sanitize=True), range(1))


def _tiny_float_cnn() -> bytes:
    """examples/tiny_cnn's topology as a float model: 16x16x1 CONV -> DW stride 2 -> CONV 1x1 -> ADD -> pool -> FC."""
    n = FloatNet((1, 16, 16, 1), seed=3)
    c = n.conv(n.x, "conv1", 8)
    d = n.dw(c, "dw", stride=2)
    r = n.add(d, n.conv(d, "pw", 8, k=1, activation="NONE"), "residual")
    return n.build(n.softmax(n.fc(n.flatten(n.avgpool(r, "pool", 8), "flatten"), "fc", 10), "softmax"))


def test_int4_model_tiled_to_the_smallest_arena(tmp_path: Path) -> None:
    """Row-band calls of the _s4 kernels (the planner's tiling at --sram-budget min) stay bit-identical."""
    q = quantize(_tiny_float_cnn(), calibration((1, 16, 16, 1), 32), INT4)
    built = build_model(q.tflite, "host", tmp_path, sanitize=True, sram_budget="min")
    assert built.compiled.plan.tiles
    assert "edgec_convolve_s4" in (built.compiled.outdir / "model.c").read_text()
    assert_bit_identical(q.tflite, built, range(2))
