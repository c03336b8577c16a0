"""The fast kernels' DSP (Cortex-M4, M33) and Helium (Cortex-M55) paths, end to end on QEMU.

Small builder models with channel counts that exercise the 4-channel blocks and their leftovers, the 4-byte
SMLAD steps and their tails, and Helium's 16-lane steps with predicated tails (26 and 40 bytes per run), with
padding (SAME, a non-zero input zero point), strides, and rescales with left shifts. Outputs must equal TFLite's
reference interpreter and the IR interpreter bit for bit.
"""

from __future__ import annotations

import pytest
from e2e import assert_bit_identical, build_model

from compiler import modelbuilder as mb

CASES: dict[str, bytes] = {
    "conv1x1_ic26_oc18": mb.conv2d_model(input_shape=(1, 5, 6, 26), out_channels=18, kernel=(1, 1), seed=21),
    "conv3x3_same_ic13_oc7_s2": mb.conv2d_model(input_shape=(1, 9, 8, 13), out_channels=7, kernel=(3, 3),
                                                stride=(2, 2), padding="SAME", activation="RELU", seed=22),
    "conv_dilated_ic5": mb.conv2d_model(input_shape=(1, 11, 11, 5), out_channels=6, dilation=(2, 2), seed=23),
    # Two positions per pass: an odd position count pairing across rows and batches, a 7-tap window (one
    # 4-tap chunk and a tail), an odd channel count (DSP pairs of channels, M3 triples); a 3x3x64 window (576
    # taps: the pair limit) and an odd 4-tap chunk count (9).
    "conv1x1_b2_ic7_oc5": mb.conv2d_model(input_shape=(2, 3, 5, 7), out_channels=5, kernel=(1, 1), seed=30),
    "conv3x3_same_ic64_oc5": mb.conv2d_model(input_shape=(1, 3, 5, 64), out_channels=5, kernel=(3, 3),
                                             padding="SAME", input_qparams=(0.05, 9), seed=31),
    "conv2x2_ic9_oc8": mb.conv2d_model(input_shape=(1, 5, 4, 9), out_channels=8, kernel=(2, 2), seed=32),
    "dw3x3_same_c22": mb.depthwise_conv2d_model(input_shape=(1, 7, 9, 22), kernel=(3, 3), padding="SAME",
                                                activation="RELU6", seed=24),
    "dw3x3_s2_valid_c9": mb.depthwise_conv2d_model(input_shape=(1, 10, 9, 9), kernel=(3, 3), stride=(2, 2),
                                                   padding="VALID", seed=25),
    "dw_dm2": mb.depthwise_conv2d_model(input_shape=(1, 6, 6, 3), depth_multiplier=2, kernel=(3, 3), seed=26),
    "fc_ic40_oc11": mb.fully_connected_model(input_shape=(2, 40), out_features=11, per_channel=True, seed=27),
    "tiny_cnn": mb.tiny_cnn_model(seed=1),
    # A tiny output scale: rescale multipliers above 1 (left shifts) and many clamped outputs.
    "conv_left_shift": mb.conv2d_model(input_shape=(1, 6, 6, 8), out_channels=9, kernel=(3, 3),
                                       input_qparams=(0.05, -7), output_qparams=(2e-5, 5), seed=28),
    "dw_left_shift": mb.depthwise_conv2d_model(input_shape=(1, 6, 6, 8), kernel=(3, 3),
                                               input_qparams=(0.05, 3), output_qparams=(2e-5, -4), seed=29),
}

pytestmark = pytest.mark.qemu


@pytest.mark.parametrize("target", ["mps2-an386", "mps2-an505", "mps3-an547", "mps2-an385"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_kernels_bit_identical(name: str, target: str, tmp_path) -> None:
    model = CASES[name]
    assert_bit_identical(model, build_model(model, target, tmp_path), range(2))
