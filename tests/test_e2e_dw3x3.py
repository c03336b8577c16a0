"""The 3x3 depthwise band path's DSP assembly (Cortex-M4, M33) and its portable C (Cortex-M3), end to end on QEMU.

Builder models through runtime_c/src/conv/edgec_dw3x3_band.h: SAME and VALID, strides 1 and 2, odd widths and
heights (the single-output tail of a row), channel counts that are not multiples of 4 (the 1-3 channel chunk),
non-zero input zero points (pad values), RELU6 (a narrow clamp) and the whole int8 range, a tall input (several
bands), and left-shift rescales. The Cortex-M55 keeps its Helium path (tests/test_e2e_fast_kernels.py).
Outputs must equal TFLite's reference interpreter and the IR interpreter bit for bit.
"""

from __future__ import annotations

import pytest
from e2e import assert_bit_identical, build_model

from compiler import modelbuilder as mb

CASES: dict[str, bytes] = {
    "s1_same_c7_relu6": mb.depthwise_conv2d_model(input_shape=(1, 9, 7, 7), kernel=(3, 3), padding="SAME",
                                                  activation="RELU6", input_qparams=(0.05, 9), seed=41),
    "s1_same_c64_kws": mb.depthwise_conv2d_model(input_shape=(1, 25, 5, 64), kernel=(3, 3), padding="SAME",
                                                 activation="RELU", input_qparams=(0.1, -20), seed=42),
    "s2_same_c13_odd": mb.depthwise_conv2d_model(input_shape=(1, 11, 9, 13), kernel=(3, 3), stride=(2, 2),
                                                 padding="SAME", input_qparams=(0.05, -5), seed=43),
    "s2_valid_c6_even": mb.depthwise_conv2d_model(input_shape=(1, 12, 10, 6), kernel=(3, 3), stride=(2, 2),
                                                  padding="VALID", activation="RELU6", seed=44),
    "s1_valid_tall_c9": mb.depthwise_conv2d_model(input_shape=(1, 41, 30, 9), kernel=(3, 3), padding="VALID",
                                                  input_qparams=(0.02, 4), seed=45),
    "s1_left_shift_c5": mb.depthwise_conv2d_model(input_shape=(1, 6, 7, 5), kernel=(3, 3), padding="SAME",
                                                  input_qparams=(0.05, 3), output_qparams=(2e-5, -4), seed=46),
    # narrow rows, which only the offline pairs (edgec_depthwise_conv3x3_pairs_s8) send through the band path
    "s1_same_w3_c6_pairs": mb.depthwise_conv2d_model(input_shape=(1, 7, 3, 6), kernel=(3, 3), padding="SAME",
                                                     activation="RELU6", input_qparams=(0.05, 127), seed=47),
    "s1_same_w1_c3_pairs": mb.depthwise_conv2d_model(input_shape=(1, 6, 1, 3), kernel=(3, 3), padding="SAME",
                                                     input_qparams=(0.05, -100), seed=49),
    "s1_valid_w2_c4_pairs": mb.depthwise_conv2d_model(input_shape=(1, 9, 4, 4), kernel=(3, 3), padding="VALID",
                                                      activation="RELU", input_qparams=(0.05, 50), seed=50),
    "s2_valid_w2_c11_pairs": mb.depthwise_conv2d_model(input_shape=(1, 13, 5, 11), kernel=(3, 3), stride=(2, 2),
                                                       padding="VALID", input_qparams=(0.05, -128), seed=48),
    # stride 2: even and odd inputs, SAME and VALID, channels off multiples of 4, a tall narrow map (bands)
    "s2_same_even_c10": mb.depthwise_conv2d_model(input_shape=(1, 16, 14, 10), kernel=(3, 3), stride=(2, 2),
                                                  padding="SAME", activation="RELU", input_qparams=(0.05, 17), seed=60),
    "s2_valid_odd_c7": mb.depthwise_conv2d_model(input_shape=(1, 15, 17, 7), kernel=(3, 3), stride=(2, 2),
                                                 padding="VALID", input_qparams=(0.05, -60), seed=61),
    "s2_same_tall_c5": mb.depthwise_conv2d_model(input_shape=(1, 61, 9, 5), kernel=(3, 3), stride=(2, 2),
                                                 padding="SAME", activation="RELU6", input_qparams=(0.05, 3), seed=62),
    # stride 1 rows whose copy ends in a pair and a pixel alone (input width 4k + 3), word aligned (VALID)
    "s1_valid_w11_c8": mb.depthwise_conv2d_model(input_shape=(1, 7, 11, 8), kernel=(3, 3), padding="VALID",
                                                 input_qparams=(0.05, -9), seed=63),
}

# The fused line loops (edgec_dw3x3_band.h dw3_fused_*, dw3_fusede_*, dw3_fusedc*: stride 1 or 2 along the line, the
# full int8 clamp, act_min at the output offset -128), DSP assembly only, so on the Cortex-M4 and (a few) the M33:
# transposed (narrow, tall) and not, odd and even lines, lines of one pair and of fifty outputs, chunks of eight
# and tails, a vertical stride of 2.
FUSED: dict[str, bytes] = {
    "s1_same_kws_fused": mb.depthwise_conv2d_model(input_shape=(1, 25, 5, 64), kernel=(3, 3), padding="SAME",
                                                   activation="RELU", input_qparams=(0.1, -20),
                                                   output_qparams=(0.05, -128), seed=51),
    "s1_same_t8_c12_fusede": mb.depthwise_conv2d_model(input_shape=(1, 8, 5, 12), kernel=(3, 3), padding="SAME",
                                                       input_qparams=(0.05, 7), output_qparams=(0.03, -128),
                                                       seed=52),
    "s1_same_w8_c20_fusede": mb.depthwise_conv2d_model(input_shape=(1, 6, 8, 20), kernel=(3, 3), padding="SAME",
                                                       activation="RELU", input_qparams=(0.05, -128),
                                                       output_qparams=(0.04, -128), seed=53),
    "s21_same_w7_c9_fused": mb.depthwise_conv2d_model(input_shape=(1, 9, 7, 9), kernel=(3, 3), stride=(2, 1),
                                                      padding="SAME", output_qparams=(0.05, -128), seed=54),
    "s1_valid_t9_c6_fused": mb.depthwise_conv2d_model(input_shape=(1, 11, 5, 6), kernel=(3, 3), padding="VALID",
                                                      activation="RELU", input_qparams=(0.05, 100),
                                                      output_qparams=(0.05, -128), seed=55),
    "s2_same_c12_fusedc2": mb.depthwise_conv2d_model(input_shape=(1, 12, 12, 12), kernel=(3, 3), stride=(2, 2),
                                                     padding="SAME", activation="RELU", input_qparams=(0.05, -3),
                                                     output_qparams=(0.05, -128), seed=56),
    "s2_valid_w3_c9_fusedc2": mb.depthwise_conv2d_model(input_shape=(1, 7, 7, 9), kernel=(3, 3), stride=(2, 2),
                                                        padding="VALID", output_qparams=(0.05, -128), seed=57),
    "s2_same_w50_c4_fusedc2": mb.depthwise_conv2d_model(input_shape=(1, 5, 100, 4), kernel=(3, 3), stride=(2, 2),
                                                        padding="SAME", input_qparams=(0.05, 20),
                                                        output_qparams=(0.05, -128), seed=58),
    "s1_same_6x6_c20_fusedc1": mb.depthwise_conv2d_model(input_shape=(1, 6, 6, 20), kernel=(3, 3), padding="SAME",
                                                         activation="RELU", input_qparams=(0.05, -128),
                                                         output_qparams=(0.04, -128), seed=59),
    # the fixed lines (dw3_fusedf<S>_<6|3>): MobileNet's 6x6 and 3x3 maps, both strides, SAME and VALID, channel
    # counts off multiples of 8 (a short chunk after chunks of eight)
    "s1_same_3x3_c13_fusedf": mb.depthwise_conv2d_model(input_shape=(1, 3, 3, 13), kernel=(3, 3), padding="SAME",
                                                        activation="RELU", input_qparams=(0.05, 40),
                                                        output_qparams=(0.05, -128), seed=64),
    "s1_valid_8x5_c9_fusedf": mb.depthwise_conv2d_model(input_shape=(1, 8, 5, 9), kernel=(3, 3), padding="VALID",
                                                        input_qparams=(0.05, -2), output_qparams=(0.05, -128),
                                                        seed=65),
    "s2_same_12x12_c20_fusedf": mb.depthwise_conv2d_model(input_shape=(1, 12, 12, 20), kernel=(3, 3), stride=(2, 2),
                                                          padding="SAME", activation="RELU",
                                                          input_qparams=(0.05, -128), output_qparams=(0.05, -128),
                                                          seed=66),
    "s2_valid_13x13_c6_fusedf": mb.depthwise_conv2d_model(input_shape=(1, 13, 13, 6), kernel=(3, 3), stride=(2, 2),
                                                          padding="VALID", input_qparams=(0.05, 90),
                                                          output_qparams=(0.05, -128), seed=67),
    "s2_same_6x6_c19_fusedf": mb.depthwise_conv2d_model(input_shape=(1, 6, 6, 19), kernel=(3, 3), stride=(2, 2),
                                                        padding="SAME", input_qparams=(0.05, -30),
                                                        output_qparams=(0.05, -128), seed=68),
    # stride 2, an even number of pairs a line (dw3_fusede2_<P>): pitches 16, 32 and 64, a tall map in bands
    "s2_same_8x8_c11_fusede2": mb.depthwise_conv2d_model(input_shape=(1, 8, 8, 11), kernel=(3, 3), stride=(2, 2),
                                                         padding="SAME", input_qparams=(0.05, 5),
                                                         output_qparams=(0.05, -128), seed=69),
    "s2_valid_17x17_c6_fusede2": mb.depthwise_conv2d_model(input_shape=(1, 17, 17, 6), kernel=(3, 3),
                                                           stride=(2, 2), padding="VALID",
                                                           input_qparams=(0.05, -77), output_qparams=(0.05, -128),
                                                           seed=70),
    "s2_same_tall_w48_c5_fusede2": mb.depthwise_conv2d_model(input_shape=(1, 40, 48, 5), kernel=(3, 3),
                                                             stride=(2, 2), padding="SAME", activation="RELU",
                                                             input_qparams=(0.05, 12), output_qparams=(0.05, -128),
                                                             seed=71),
}

pytestmark = pytest.mark.qemu


@pytest.mark.parametrize("target", ["mps2-an386", "mps2-an505", "mps2-an385"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_dw3x3_bit_identical(name: str, target: str, tmp_path) -> None:
    model = CASES[name]
    assert_bit_identical(model, build_model(model, target, tmp_path), range(2))


@pytest.mark.parametrize("name", sorted(FUSED))
def test_dw3x3_fused_bit_identical(name: str, tmp_path) -> None:
    targets = ["mps2-an386"] + (["mps2-an505"] if name in ("s1_same_kws_fused", "s1_same_t8_c12_fusede",
                                                           "s2_same_c12_fusedc2", "s2_same_12x12_c20_fusedf",
                                                           "s2_same_tall_w48_c5_fusede2") else [])
    for target in targets:
        model = FUSED[name]
        assert_bit_identical(model, build_model(model, target, tmp_path / target), range(2))
