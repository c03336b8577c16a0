"""CONV_2D over int16 weights widened offline (edgec_convolve_w16_s8, compiler/conv_layout.py) end to end on QEMU.

On the DSP targets (Cortex-M4 an386, Cortex-M33 an505) the compiler widens every CONV_2D with K <= 576 by default,
so the cases of tests/test_e2e_conv_fast.py already run this path there; these add what is particular to it:
K of 1..9 and other sizes that are not a multiple of 4 (zero taps up to Kp), Kp / 4 of every residue mod 8 (the
entry into the 8-chunk loop) and above 8 chunks, odd channel counts (the last channel in C), dilation, position counts below and
around multiples of four (the last group recomputed), a tiny output scale (left shifts in the assembly), ReLU6
(the C loop), a nonzero input zero point with padding, the doubled streams (compiler/conv_layout.w16_doubled:
SMMLAR requantization, with the sign's ADD for full-range layers and without it for ReLU into the zero point),
3x3 windows over 2 and 3 channels at stride 2 (SAME and VALID, odd sizes), 1x1 over 8 channels with odd OC, and
the int8 kernel forced with --conv-weights int8 on the same targets. Each run checks which kernel the generated model calls and that outputs equal TFLite's reference
interpreter and the IR interpreter bit for bit.
"""

from __future__ import annotations

import pytest
from e2e import Built, assert_bit_identical

from compiler import modelbuilder as mb
from compiler.build import build
from compiler.driver import compile_model

CASES: dict[str, bytes] = {
    "pw_k1": mb.conv2d_model(input_shape=(1, 3, 7, 1), out_channels=5, kernel=(1, 1), seed=61),
    "pw_k3_two_positions": mb.conv2d_model(input_shape=(1, 1, 2, 3), out_channels=7, kernel=(1, 1), seed=62),
    "pw_k5": mb.conv2d_model(input_shape=(1, 3, 6, 5), out_channels=9, kernel=(1, 1), seed=63),
    "pw_k9_relu6": mb.conv2d_model(input_shape=(1, 2, 8, 9), out_channels=6, kernel=(1, 1), activation="RELU6",
                                   seed=64),
    "pw_k12": mb.conv2d_model(input_shape=(1, 4, 5, 12), out_channels=7, kernel=(1, 1), seed=65),
    "c3x3_ic3_s2": mb.conv2d_model(input_shape=(1, 11, 9, 3), out_channels=8, kernel=(3, 3), stride=(2, 2),
                                   padding="SAME", input_qparams=(0.05, 13), seed=66),
    "c3x3_ic3_dil2": mb.conv2d_model(input_shape=(1, 9, 9, 3), out_channels=5, kernel=(3, 3), dilation=(2, 2),
                                     padding="SAME", input_qparams=(0.05, -20), seed=67),
    "pw_s2_ic16": mb.conv2d_model(input_shape=(1, 9, 9, 16), out_channels=12, kernel=(1, 1), stride=(2, 2),
                                  seed=68),
    "pw_left_shift_k7": mb.conv2d_model(input_shape=(1, 4, 4, 7), out_channels=6, kernel=(1, 1),
                                        input_qparams=(0.05, -7), output_qparams=(2e-5, 5), seed=69),
    # The pairs loop's computed entry (Kp / 4 % 8 chunks in the first pass of its 8-chunk loop) and odd counts:
    "pw_k20_15pos": mb.conv2d_model(input_shape=(1, 3, 5, 20), out_channels=6, kernel=(1, 1), seed=70),
    "pw_k24": mb.conv2d_model(input_shape=(1, 2, 8, 24), out_channels=4, kernel=(1, 1), seed=71),
    "c3x3_ic4_k36": mb.conv2d_model(input_shape=(1, 6, 7, 4), out_channels=10, kernel=(3, 3), padding="SAME",
                                    input_qparams=(0.05, 9), seed=72),
    "pw_k64_25pos": mb.conv2d_model(input_shape=(1, 5, 5, 64), out_channels=12, kernel=(1, 1), seed=73),
    "c10x4_ic1_s2": mb.conv2d_model(input_shape=(1, 13, 6, 1), out_channels=8, kernel=(10, 4), stride=(2, 2),
                                    padding="SAME", seed=74),
    # ReLU into the zero point (-128): the doubled stream (SMMLAR requantization), 3x3 over 3 channels straight from
    # the input at stride 2 (SAME: the last row and column padded; VALID of odd sizes), 1x1 over 8 channels, odd OC
    "relu_c3x3_ic3_s2": mb.conv2d_model(input_shape=(1, 12, 10, 3), out_channels=8, kernel=(3, 3), stride=(2, 2),
                                        padding="SAME", activation="RELU", input_qparams=(0.05, 3), seed=75),
    "relu_c3x3_ic3_valid": mb.conv2d_model(input_shape=(1, 9, 11, 3), out_channels=7, kernel=(3, 3),
                                           stride=(2, 2), padding="VALID", activation="RELU", seed=76),
    "relu_c3x3_ic2_s2": mb.conv2d_model(input_shape=(1, 9, 7, 2), out_channels=5, kernel=(3, 3), stride=(2, 2),
                                        padding="SAME", activation="RELU", seed=77),
    "relu_pw_k8": mb.conv2d_model(input_shape=(1, 6, 7, 8), out_channels=16, kernel=(1, 1), activation="RELU",
                                  seed=78),
    "relu_pw_k8_oc9": mb.conv2d_model(input_shape=(1, 5, 5, 8), out_channels=9, kernel=(1, 1), activation="RELU",
                                      seed=79),
    "relu_pw_k64": mb.conv2d_model(input_shape=(1, 4, 5, 64), out_channels=12, kernel=(1, 1), activation="RELU",
                                   seed=80),
    # Few positions (an odd last one is a one-position pass: edgec_conv_w16_one_s8 / _folded_s8), odd channels:
    "pw_k128_9pos": mb.conv2d_model(input_shape=(1, 3, 3, 128), out_channels=13, kernel=(1, 1), seed=75),
    "pw_k256_1pos": mb.conv2d_model(input_shape=(1, 1, 1, 256), out_channels=9, kernel=(1, 1), seed=76),
    "pw_k24_2pos": mb.conv2d_model(input_shape=(1, 1, 2, 24), out_channels=6, kernel=(1, 1), seed=77),
    "pw_k36_3pos": mb.conv2d_model(input_shape=(1, 1, 3, 36), out_channels=11, kernel=(1, 1), seed=78),
    "c3x3_ic3_5pos": mb.conv2d_model(input_shape=(1, 3, 11, 3), out_channels=7, kernel=(3, 3), stride=(2, 2),
                                     padding="VALID", seed=79),
    "c3x3_ic8_6pos": mb.conv2d_model(input_shape=(1, 2, 3, 8), out_channels=5, kernel=(3, 3), padding="SAME",
                                     input_qparams=(0.05, 11), seed=80),
    "pw_s2_7pos": mb.conv2d_model(input_shape=(1, 1, 13, 16), out_channels=10, kernel=(1, 1), stride=(1, 2),
                                  seed=81),
    "c3x3_ic16_9pos_left_shift": mb.conv2d_model(input_shape=(1, 3, 3, 16), out_channels=8, kernel=(3, 3),
                                                 padding="SAME", output_qparams=(2e-5, 5), seed=82),
    "pw_k8_5pos_relu6": mb.conv2d_model(input_shape=(1, 1, 5, 8), out_channels=7, kernel=(1, 1),
                                        activation="RELU6", seed=83),
}

pytestmark = pytest.mark.qemu

# int16 forced: the same choice as auto (compiler/conv_layout.eligible takes any position count).
FORCED = ("pw_k3_two_positions", "pw_k20_15pos")
RUNS = [(name, "mps2-an386", "int16" if name in FORCED else "auto") for name in sorted(CASES)] + [
    ("c3x3_ic3_s2", "mps2-an505", "auto"), ("pw_left_shift_k7", "mps2-an505", "auto"),
    ("pw_k64_25pos", "mps2-an505", "auto"), ("relu_c3x3_ic3_s2", "mps2-an505", "auto"),
    ("relu_pw_k64", "mps2-an505", "auto"),
    ("pw_k64_25pos", "mps2-an505", "auto"), ("pw_k128_9pos", "mps2-an505", "auto"),
    ("c3x3_ic16_9pos_left_shift", "mps2-an505", "auto"),
    ("c3x3_ic3_s2", "mps2-an386", "int8"), ("pw_k9_relu6", "mps2-an386", "int8"),
    ("c3x3_ic3_s2", "mps2-an385", "int16"),  # no DSP: the choice is ignored, int8 OHWI stays
]


@pytest.mark.parametrize(("name", "target", "mode"), RUNS)
def test_conv_w16_bit_identical(name: str, target: str, mode: str, tmp_path) -> None:
    model = CASES[name]
    compiled = compile_model(model, target, tmp_path / "project", conv_weights=mode)
    source = (compiled.outdir / "model.c").read_text()
    widened = mode != "int8" and target != "mps2-an385"
    assert ("edgec_convolve_w16_s8(" in source) == widened
    assert ("edgec_convolve_fast_s8(" in source) != widened
    assert_bit_identical(model, Built(compiled, build(compiled.outdir, compiled.target, werror=True)), range(2))
