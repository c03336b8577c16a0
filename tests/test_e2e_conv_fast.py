"""The fast CONV_2D's blocked paths end to end on QEMU (runtime_c/src/conv/edgec_convolve_fast_s8.c).

On the DSP extension (Cortex-M4 an386, Cortex-M33 an505) four output positions go together
(edgec_conv_quad_s8.h): the assembly channel loop where the window is a multiple of 8 taps, the output range is the
full int8 range and every shift is to the right; the C loop with its tail taps, clamps and left shifts otherwise;
the leftover positions in pairs and one at a time. The Cortex-M3 (an385) and Helium (an547) take their own paths.
The cases cover 1x1 windows with small and odd channel counts, 3x3 SAME and VALID with strides (border windows,
a nonzero input zero point), a KWS-like 10x4 first layer, ReLU6 clamps, left-shift rescales, batches above one and
position counts that are not a multiple of four (smaller windows, VALID padding and windows above the blocked
limit: tests/test_kernels_conv_fast2.py on the host, tests/test_e2e_fast_kernels.py and the MLPerf models). Outputs must
equal TFLite's reference interpreter and the IR interpreter bit for bit.
"""

from __future__ import annotations

import pytest
from e2e import assert_bit_identical, build_model

from compiler import modelbuilder as mb

CASES: dict[str, bytes] = {
    # 1x1, K = 64 (asm loop), 5x5 = 25 positions: six quads and one left over.
    "pw_ic64_oc20": mb.conv2d_model(input_shape=(1, 5, 5, 64), out_channels=20, kernel=(1, 1), seed=41),
    # 1x1, K = 8 (one chunk pair), batch 2 of 3x3: 18 positions (two left over, a pair), odd OC.
    "pw_b2_ic8_oc13": mb.conv2d_model(input_shape=(2, 3, 3, 8), out_channels=13, kernel=(1, 1), seed=42),
    # 1x1, K = 15 and 12 (an odd chunk with and without tail taps; ReLU6's narrow range: the C loop).
    "pw_ic15_oc6": mb.conv2d_model(input_shape=(1, 2, 5, 15), out_channels=6, kernel=(1, 1), seed=51),
    "pw_ic12_oc7_relu6": mb.conv2d_model(input_shape=(1, 3, 3, 12), out_channels=7, kernel=(1, 1),
                                         activation="RELU6", seed=44),
    # 3x3 SAME, K = 144 (asm loop) with border windows and a nonzero input zero point (pad value).
    "c3x3_same_ic16_oc9": mb.conv2d_model(input_shape=(1, 5, 6, 16), out_channels=9, kernel=(3, 3),
                                          padding="SAME", input_qparams=(0.05, 11), seed=45),
    # 3x3 SAME stride 2, K = 72, a negative input zero point.
    "c3x3_s2_same_ic8_oc6": mb.conv2d_model(input_shape=(1, 7, 7, 8), out_channels=6, kernel=(3, 3),
                                            stride=(2, 2), padding="SAME", input_qparams=(0.05, -9), seed=47),
    # KWS's first layer: 10x4 window over one channel (K = 40), SAME padding, stride 2.
    "kws_first_10x4": mb.conv2d_model(input_shape=(1, 13, 6, 1), out_channels=8, kernel=(10, 4), stride=(2, 2),
                                      padding="SAME", input_qparams=(0.1, 5), seed=48),
    # A tiny output scale: left shifts (the C loop's general requantization) and clamped outputs.
    "pw_left_shift": mb.conv2d_model(input_shape=(1, 3, 3, 16), out_channels=6, kernel=(1, 1),
                                     input_qparams=(0.05, -7), output_qparams=(2e-5, 5), seed=49),
}

pytestmark = pytest.mark.qemu

# Every case on the Cortex-M4 and the Cortex-M3 (the paths this file is about); one each on the Cortex-M33 (the
# M4's code) and Helium (its own path), to keep the suite's time down.
RUNS = [(name, target) for name in sorted(CASES) for target in ("mps2-an386", "mps2-an385")] + [
    ("c3x3_s2_same_ic8_oc6", "mps2-an505"), ("pw_left_shift", "mps2-an505"), ("c3x3_same_ic16_oc9", "mps3-an547")]


@pytest.mark.parametrize(("name", "target"), RUNS)
def test_conv_fast_bit_identical(name: str, target: str, tmp_path) -> None:
    model = CASES[name]
    assert_bit_identical(model, build_model(model, target, tmp_path), range(2))
