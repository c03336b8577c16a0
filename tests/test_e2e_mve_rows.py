"""The Helium (MVE) register-resident conv rows path and the depthwise right-shift/band paths, end to end on QEMU.

Conv windows of at most three kernel rows of at most 16 bytes (edgec_conv_rows_mve_s8.h): one, two and three
rows (every channel-group width 1-6 / 1-3 / 1-2 through the channel counts), dilation_h 2, padding on every side
(patched windows), windows whose 16-byte loads would pass the end of the input (patched), output rows cut into
several chunks (many output channels), more than 256 channels (the general path), requantization with left
shifts (the general loop) and with right shifts only (the short loop), a predicated last group of 1-3 channels;
1x1 windows over 17-48 channels as 16-byte segments (tails of 1 and 8 bytes, stride 2, batch 2).
Depthwise 3x3 (edgec_depthwise_mve_s8.h): the right-shift routine with packed weights and the padded band of
border rows, strides 1 and 2, batch 2, the general routine in the band (left shifts; more than 128 channels), a
band too wide for its buffer (per-window copies), 8, 16 and 32 channels (column offsets as immediates), channel
counts not a multiple of eight (no band).
Plus two seeded random chains of such layers. Outputs must equal TFLite's reference interpreter and the IR
interpreter bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from e2e import assert_bit_identical, build_model

from compiler import modelbuilder as mb

CASES: dict[str, bytes] = {
    # three rows (G = 2): VWW's first layer in small, SAME stride 2 (bottom/right padding), end of the input
    "rows3x3_s2_ic3_oc8": mb.conv2d_model(input_shape=(1, 11, 12, 3), out_channels=8, kernel=(3, 3),
                                          stride=(2, 2), padding="SAME", activation="RELU",
                                          input_qparams=(0.05, -128), seed=71),
    # packed windows of 27 bytes with left padding: the border slots are packed after the in-place run they precede
    "rows3x3_same_ic3_oc4": mb.conv2d_model(input_shape=(1, 7, 8, 3), out_channels=4, kernel=(3, 3),
                                            padding="SAME", input_qparams=(0.05, 30), seed=88),
    # padding on all four sides, 5 channels (a predicated last group of one), left shifts
    "rows3x3_same_ic2_oc5_left": mb.conv2d_model(input_shape=(1, 6, 7, 2), out_channels=5, kernel=(3, 3),
                                                 padding="SAME", input_qparams=(0.05, 9),
                                                 output_qparams=(2e-5, 3), seed=72),
    # two rows with dilation_h 2 (rb 15), 7 channels (groups of 3, 3, 1)
    "rows2x3_dil2_ic5_oc7": mb.conv2d_model(input_shape=(1, 9, 8, 5), out_channels=7, kernel=(2, 3),
                                            dilation=(2, 1), padding="SAME", input_qparams=(0.05, -4), seed=73),
    # three rows of 5 taps x 3 channels (rb 15), VALID, 2 channels
    "rows3x5_valid_ic3_oc2": mb.conv2d_model(input_shape=(1, 7, 9, 3), out_channels=2, kernel=(3, 5),
                                             padding="VALID", seed=74),
    # one row: 16 channels, 40 outputs (groups of 6 and a last 4), right shifts only
    "rows1x1_ic16_oc40": mb.conv2d_model(input_shape=(1, 5, 9, 16), out_channels=40, kernel=(1, 1), seed=75),
    # one row, 200 outputs: five positions per chunk, two chunks per output row; a last group of 2 (6 * 33 + 2)
    "rows1x1_ic12_oc200": mb.conv2d_model(input_shape=(1, 3, 7, 12), out_channels=200, kernel=(1, 1), seed=76),
    # more than EDGEC_CONV_ROWS_MAX_OC channels: the general Helium path
    "rows1x1_ic8_oc260": mb.conv2d_model(input_shape=(1, 2, 3, 8), out_channels=260, kernel=(1, 1), seed=77),
    # one row 1x3 over 4 channels, stride 2, batch 2, odd sizes (patched last windows of each image)
    "rows1x3_b2_s2_ic4_oc9": mb.conv2d_model(input_shape=(2, 5, 7, 4), out_channels=9, kernel=(1, 3),
                                             stride=(2, 2), padding="SAME", input_qparams=(0.05, 20), seed=78),
    # segments: 32 channels (two whole), 17 (a 1-byte tail), 24 with left shifts, 48 (three whole)
    "seg1x1_ic32_oc10": mb.conv2d_model(input_shape=(1, 4, 6, 32), out_channels=10, kernel=(1, 1), seed=79),
    "seg1x1_ic17_oc6": mb.conv2d_model(input_shape=(1, 3, 5, 17), out_channels=6, kernel=(1, 1), seed=80),
    "seg1x1_ic24_oc5_left": mb.conv2d_model(input_shape=(1, 3, 3, 24), out_channels=5, kernel=(1, 1),
                                            output_qparams=(3e-5, -2), seed=81),
    "seg1x1_ic48_oc3_s2": mb.conv2d_model(input_shape=(1, 5, 5, 48), out_channels=3, kernel=(1, 1),
                                          stride=(2, 2), seed=82),
    # depthwise: the right-shift routine and the band, stride 1 (all sides padded), RELU
    "dw3x3_same_c32_rshift": mb.depthwise_conv2d_model(input_shape=(1, 6, 7, 32), kernel=(3, 3), padding="SAME",
                                                       activation="RELU", input_qparams=(0.05, -128), seed=83),
    # the general routine in the band (left shifts), stride 2
    "dw3x3_s2_same_c16_left": mb.depthwise_conv2d_model(input_shape=(1, 7, 6, 16), kernel=(3, 3), stride=(2, 2),
                                                        padding="SAME", input_qparams=(0.05, 5),
                                                        output_qparams=(2e-5, -3), seed=84),
    # eight channels (the column offsets as immediates): in the band (batch 2) and in place (VALID runs)
    "dw3x3_same_c8_b2": mb.depthwise_conv2d_model(input_shape=(2, 6, 9, 8), kernel=(3, 3), padding="SAME",
                                                  input_qparams=(0.05, -128), seed=86),
    "dw3x3_valid_c8": mb.depthwise_conv2d_model(input_shape=(1, 6, 9, 8), kernel=(3, 3), padding="VALID",
                                                activation="RELU6", seed=87),
    # a band wider than EDGEC_DW_MVE_BAND: per-window copies with the right-shift routine
    "dw3x3_same_c64_w24": mb.depthwise_conv2d_model(input_shape=(1, 3, 24, 64), kernel=(3, 3), padding="SAME",
                                                    input_qparams=(0.05, -7), seed=85),
}


def _random_chain(seed: int) -> bytes:
    """A seeded chain of conv rows / segment / depthwise layers with random geometry and channel counts."""
    g = mb._CalibratedGraph(seed)
    rng = np.random.default_rng(seed)
    h, w, c = int(rng.integers(5, 10)), int(rng.integers(5, 10)), int(rng.integers(1, 6))
    x = g.input("input", (1, h, w, c), (0.05, int(rng.integers(-128, 128))))
    for i in range(6):
        kind = ["rows", "seg", "dw"][i % 3]
        if kind == "rows":
            kh = int(rng.integers(1, 4))
            kw = int(rng.integers(1, 16 // c + 1)) if c <= 16 else 1
            kw = min(kw, 3)
            x = g.conv2d(x, f"conv{i}", int(rng.integers(1, 30)), kernel=(kh, kw),
                         stride=(int(rng.integers(1, 3)), int(rng.integers(1, 3))), padding="SAME")
        elif kind == "seg":
            x = g.conv2d(x, f"pw{i}", int(rng.choice([17, 24, 32, 40, 48])), kernel=(1, 1))
        else:
            x = g.depthwise_conv2d(x, f"dw{i}", kernel=(3, 3), stride=(int(rng.integers(1, 3)),) * 2,
                                   padding=str(rng.choice(["SAME", "VALID"])), activation="RELU")
        c = g.values[x].shape[-1]
        if min(g.values[x].shape[1:3]) < 3:
            break
    g.output(x)
    return g.build()


CASES["chain_seed1"] = _random_chain(1)
CASES["chain_seed2"] = _random_chain(2)

pytestmark = pytest.mark.qemu


@pytest.mark.parametrize("name", sorted(CASES))
def test_mve_rows_bit_identical(name: str, tmp_path) -> None:
    model = CASES[name]
    assert_bit_identical(model, build_model(model, "mps3-an547", tmp_path), range(2))
