"""The int4 convolution and fully connected kernels (nibble-group layout, compiler/int4.py) end to end.

One quantized model chains the cases particular to edgec_convolve_s4 / edgec_fully_connected_s4: K = 27 (the
window copy with its taps padded to 32), 63 positions (a last group of three: the last position repeated),
K = 144 with a stride (kernel rows of whole groups straight from the input rows on the DSP extension), K = 576
(two runs of 63 and 9 groups between the ASR 12 shifts), K = 648 (beyond the quad walk: the one-position walk),
1x1 windows of 8 taps (the input in place) and of 5 taps (copied and padded), a fully connected layer of 260
inputs (a partial last group) into 600 rows and one of 600 inputs (two runs) into 6 rows (blocks of four rows
with two left over). Run on the Cortex-M4 and M33 (the SMLAD assembly), the M55 (the same scalar DSP path), the
M3 and RISC-V (portable C: two positions per 64-bit multiply-accumulate), the host under ASan/UBSan, and a
small model on the Cortex-M0 micro:bit (2 KB of stack: the one-position walk); every output equal to TFLite's reference interpreter and the IR
interpreter, bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e import assert_bit_identical, build_model
from float_models import FloatNet, calibration

from compiler.quantize import QuantizeOptions, quantize

INT4 = QuantizeOptions(weights="int4", weight_method="mse", show_progress=False)


def _chain() -> bytes:
    n = FloatNet((1, 7, 9, 3), seed=11)
    c = n.conv(n.x, "k27", 16)                    # 7x9 = 63 positions, K 27 -> 32
    c = n.conv(c, "k144_s2", 64, stride=2)        # 4x5, K 144 = 18 groups, rows of 48 taps
    c = n.conv(c, "k576", 72)                     # K 576 = 72 groups: runs of 63 and 9
    c = n.conv(c, "k648", 8)                      # K 648 > 576: the one-position walk
    c = n.conv(c, "k8_1x1", 5, k=1)               # in place
    c = n.conv(c, "k5_1x1", 13, k=1)              # K 5 -> 8, copied
    f = n.fc(n.flatten(c, "flatten"), "fc260", 600, activation="RELU")  # 260 = 32 groups + 4
    return n.build(n.fc(f, "fc600", 6))           # 600 = 75 groups: runs of 63 and 12; 6 rows = 4 + 2


@pytest.fixture(scope="module")
def model() -> bytes:
    return quantize(_chain(), calibration((1, 7, 9, 3), 16), INT4).tflite


@pytest.mark.parametrize("target", [
    pytest.param("mps2-an386", marks=pytest.mark.qemu), pytest.param("mps2-an505", marks=pytest.mark.qemu),
    pytest.param("mps3-an547", marks=pytest.mark.qemu), pytest.param("mps2-an385", marks=pytest.mark.qemu),
    pytest.param("riscv32-virt", marks=pytest.mark.qemu), "host"])
def test_int4_conv_and_fc_bit_identical(model: bytes, target: str, tmp_path: Path) -> None:
    built = build_model(model, target, tmp_path, sanitize=target == "host")
    source = (built.compiled.outdir / "model.c").read_text()
    assert source.count("edgec_convolve_s4(") >= 6 and source.count("edgec_fully_connected_s4(") >= 2
    assert_bit_identical(model, built, range(3))


@pytest.mark.qemu
def test_int4_small_model_on_cortex_m0(tmp_path: Path) -> None:
    from test_int4 import _tiny_float_cnn

    q = quantize(_tiny_float_cnn(), calibration((1, 16, 16, 1), 16), INT4).tflite
    assert_bit_identical(q, build_model(q, "microbit", tmp_path), range(2))
