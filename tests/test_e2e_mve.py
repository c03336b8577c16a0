"""The Helium (MVE) convolution and depthwise kernels (Cortex-M55, mps3-an547), end to end on QEMU.

Builder models chosen for the Helium paths: conv windows of K bytes not a multiple of 16 (predicated tails),
odd output channel counts (partial channel groups), odd position counts and batches (partial position groups),
SAME padding with a non-zero input zero point (pad taps), strides, dilation and rescales with left shifts;
depthwise channel counts around the 8-lane groups (1..40), strides 1 and 2, SAME/VALID, RELU6, and a 5x5 and a
dilated window; the four-rows-per-vector 3x3 stride-1 path (single and overlapping strips, widths 3..10, the
plain and the general requantization, saturation and right shifts of 1..17); the table ADD (at least 1024
elements) with element counts not a multiple of 4 (predicated tail), extreme zero points, scales far apart
(small and large right shifts) and RELU/RELU6 clamps. Outputs must equal TFLite's reference interpreter and the IR
interpreter bit for bit.
"""

from __future__ import annotations

import pytest
from e2e import assert_bit_identical, build_model

from compiler import modelbuilder as mb

CASES: dict[str, bytes] = {
    "conv1x1_ic27_oc13": mb.conv2d_model(input_shape=(1, 3, 5, 27), out_channels=13, kernel=(1, 1),
                                         input_qparams=(0.05, -11), seed=41),
    "conv1x1_b2_ic40_oc6_s2": mb.conv2d_model(input_shape=(2, 5, 5, 40), out_channels=6, kernel=(1, 1),
                                              stride=(2, 2), seed=42),
    "conv3x3_same_ic3_oc9_s2": mb.conv2d_model(input_shape=(1, 9, 7, 3), out_channels=9, kernel=(3, 3),
                                               stride=(2, 2), padding="SAME", activation="RELU",
                                               input_qparams=(0.05, 17), seed=43),
    "conv3x3_valid_ic16_oc7": mb.conv2d_model(input_shape=(1, 6, 5, 16), out_channels=7, kernel=(3, 3),
                                              padding="VALID", seed=44),
    "conv3x3_dil2_ic5_oc4": mb.conv2d_model(input_shape=(1, 9, 9, 5), out_channels=4, kernel=(3, 3),
                                            dilation=(2, 2), padding="SAME", input_qparams=(0.05, 6), seed=45),
    "conv10x4_ic1_oc8_s2": mb.conv2d_model(input_shape=(1, 13, 9, 1), out_channels=8, kernel=(10, 4),
                                           stride=(2, 2), padding="SAME", input_qparams=(0.05, -3), seed=46),
    "conv_left_shift": mb.conv2d_model(input_shape=(1, 5, 5, 8), out_channels=5, kernel=(3, 3),
                                       input_qparams=(0.05, -7), output_qparams=(2e-5, 5), seed=47),
    # Windows of at most 16 bytes (one vector per window, kept in registers): a 1x1 with 8 input channels and an
    # odd output count, a 3x3 single-channel window copied row by row under a lane mask.
    "conv1x1_ic8_oc11": mb.conv2d_model(input_shape=(1, 4, 5, 8), out_channels=11, kernel=(1, 1), seed=48),
    "conv3x3_same_ic1_oc6": mb.conv2d_model(input_shape=(1, 6, 7, 1), out_channels=6, kernel=(3, 3),
                                            padding="SAME", input_qparams=(0.05, 12), seed=49),
    # Channels in whole groups of eight: runs of interior windows in one assembly call (stride 1 and 2); more than
    # 128 channels: border windows take the portable tap walk.
    "dw3x3_same_c24_b2": mb.depthwise_conv2d_model(input_shape=(2, 6, 7, 24), kernel=(3, 3), padding="SAME",
                                                   input_qparams=(0.05, -9), seed=58),
    "dw3x3_s2_same_c136": mb.depthwise_conv2d_model(input_shape=(1, 5, 6, 136), kernel=(3, 3), stride=(2, 2),
                                                    padding="SAME", input_qparams=(0.05, 7), seed=59),
    "dw3x3_same_c1": mb.depthwise_conv2d_model(input_shape=(1, 5, 4, 1), kernel=(3, 3), padding="SAME",
                                               input_qparams=(0.05, 9), seed=51),
    "dw3x3_same_c13_relu6": mb.depthwise_conv2d_model(input_shape=(2, 6, 5, 13), kernel=(3, 3), padding="SAME",
                                                      activation="RELU6", input_qparams=(0.05, -5), seed=52),
    "dw3x3_s2_same_c16": mb.depthwise_conv2d_model(input_shape=(1, 7, 8, 16), kernel=(3, 3), stride=(2, 2),
                                                   padding="SAME", input_qparams=(0.05, 4), seed=53),
    "dw3x3_s2_valid_c40": mb.depthwise_conv2d_model(input_shape=(1, 7, 7, 40), kernel=(3, 3), stride=(2, 2),
                                                    padding="VALID", seed=54),
    "dw5x5_same_c23": mb.depthwise_conv2d_model(input_shape=(1, 6, 6, 23), kernel=(5, 5), padding="SAME",
                                                input_qparams=(0.05, -2), seed=55),
    "dw3x3_dil2_c7": mb.depthwise_conv2d_model(input_shape=(1, 7, 7, 7), kernel=(3, 3), dilation=(2, 2),
                                               padding="SAME", input_qparams=(0.05, 3), seed=56),
    "dw_left_shift_c30": mb.depthwise_conv2d_model(input_shape=(1, 5, 5, 30), kernel=(3, 3),
                                                   input_qparams=(0.05, 3), output_qparams=(2e-5, -4), seed=57),
    # 3x3 stride-1 SAME maps of at least 4 rows and 3 columns: four output rows per vector (edgec_dw_rows_asm). A
    # single strip (4 rows: the top and the bottom pad row in one), an overlapping last strip, batches, widths
    # 3..10 (every column tail of the three-column rotation), odd channel counts; the plain routine (int8 clamp,
    # output offset -128, RELU) and the general one (a non-zero output offset without activation: the
    # negative-accumulator correction; RELU6 clamping below 127; large and small right shifts).
    "dw_rows_h4_w3_c5_relu": mb.depthwise_conv2d_model(input_shape=(1, 4, 3, 5), kernel=(3, 3), padding="SAME",
                                                       activation="RELU", input_qparams=(0.05, 21),
                                                       output_qparams=(0.02, -128), seed=70),
    "dw_rows_h9_w6_c3_b2": mb.depthwise_conv2d_model(input_shape=(2, 9, 6, 3), kernel=(3, 3), padding="SAME",
                                                     input_qparams=(0.05, -30), output_qparams=(0.03, 25),
                                                     seed=71),
    "dw_rows_h7_w8_c17_relu6": mb.depthwise_conv2d_model(input_shape=(1, 7, 8, 17), kernel=(3, 3),
                                                         padding="SAME", activation="RELU6",
                                                         input_qparams=(0.05, 3), output_qparams=(0.05, -128),
                                                         seed=72),
    "dw_rows_h5_w10_c64_relu": mb.depthwise_conv2d_model(input_shape=(1, 5, 10, 64), kernel=(3, 3),
                                                         padding="SAME", activation="RELU",
                                                         input_qparams=(0.05, -128), output_qparams=(0.01, -128),
                                                         seed=73),
    "dw_rows_h6_w4_c9": mb.depthwise_conv2d_model(input_shape=(1, 6, 4, 9), kernel=(3, 3), padding="SAME",
                                                  input_qparams=(0.05, 127), output_qparams=(0.5, -3), seed=74),
    "dw_rows_h13_w7_c2_relu": mb.depthwise_conv2d_model(input_shape=(1, 13, 7, 2), kernel=(3, 3), padding="SAME",
                                                        activation="RELU", input_qparams=(0.05, -128),
                                                        output_qparams=(0.001, 7), seed=75),
    "dw_rows_h8_w5_c8_sat": mb.depthwise_conv2d_model(input_shape=(1, 8, 5, 8), kernel=(3, 3), padding="SAME",
                                                      input_qparams=(0.05, 40), output_qparams=(0.002, 10),
                                                      seed=76),
    "dw_rows_h4_w9_c6_tiny": mb.depthwise_conv2d_model(input_shape=(1, 4, 9, 6), kernel=(3, 3), padding="SAME",
                                                       input_qparams=(0.05, -60), output_qparams=(30.0, -5),
                                                       seed=77),
    # The table ADD: 1287 and 1025 elements (tails of 3 and 1), zero points at the int8 ends, input scales far
    # apart, an output scale far above and one below the inputs'.
    "add_tail3_relu": mb.add_model(shape=(1, 9, 13, 11), input1_qparams=(0.02, -128), input2_qparams=(0.5, 127),
                                   output_qparams=(0.3, -128), activation="RELU", seed=61),
    "add_tail1_relu6": mb.add_model(shape=(1, 1025), input1_qparams=(0.05, 100), input2_qparams=(0.04, -90),
                                    output_qparams=(0.01, 3), activation="RELU6", seed=62),
    "add_wide_out": mb.add_model(shape=(1, 16, 16, 6), input1_qparams=(0.003, 5), input2_qparams=(0.004, -7),
                                 output_qparams=(8.0, 127), seed=63),
    "add_narrow_out": mb.add_model(shape=(1, 8, 8, 17), input1_qparams=(0.1, -20), input2_qparams=(0.2, 30),
                                   output_qparams=(0.001, -1), seed=64),
    "add_calibrated": mb.add_model(shape=(1, 32, 32, 4), seed=65),
}

pytestmark = pytest.mark.qemu


@pytest.mark.parametrize("name", sorted(CASES))
def test_mve_kernels_bit_identical(name: str, tmp_path) -> None:
    model = CASES[name]
    assert_bit_identical(model, build_model(model, "mps3-an547", tmp_path), range(2))
