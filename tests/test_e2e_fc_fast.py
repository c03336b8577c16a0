"""The fast FULLY_CONNECTED kernel's paths, end to end on QEMU and on the host under ASan/UBSan.

edgec_fully_connected_fast_s8 splits each input row into chunks of 32 outputs (accumulators first, then one
rescale loop), unpacks the row to SMLAD halfwords on the DSP targets (fc_blocks_x16 when in_features % 4 == 0,
per-block asm with C tails otherwise), gathers on Helium and runs C on the M3. One chained model per case covers:
in_features with 1..3 leftover inputs and with groups % 4 != 0, out_features not multiples of 4 and above one chunk,
batch 1 and batch 3, per-channel and per-tensor weights, nonzero input zero points, the full int8 range (SSAT)
and a RELU range (clamped), a tiny output scale (clamped outputs), exact rounding ties, and a row longer than
the DSP path's stack buffer. Outputs must equal TFLite's reference
interpreter and the IR interpreter bit for bit.
"""

from __future__ import annotations

import pytest
from e2e import assert_bit_identical, build_model

from compiler import modelbuilder as mb


def _chain(batches: int, widths: list[int], per_channel: bool, seed: int, relu_every: int = 2,
           input_qparams: tuple[float, int] | None = None, last_qparams: tuple[float, int] | None = None) -> bytes:
    g = mb._CalibratedGraph(seed)
    x = g.input("input", (batches, widths[0]), input_qparams)
    for i, width in enumerate(widths[1:]):
        last = i == len(widths) - 2
        x = g.fully_connected(x, f"fc{i}", width, activation="RELU" if i % relu_every == 1 else "NONE",
                              per_channel=per_channel, output_qparams=last_qparams if last else None)
    g.output(x)
    return g.build()


def _exact_ties(seed: int) -> bytes:
    """One FC whose rescale is exactly 2^-3 (input scale 2^-7, output scale s_w * 2^-4, both exact): every
    accumulator = 4 mod 8 is a rounding tie, so an eighth of the outputs take the double fallback, inside the
    integer loops of every path (Helium's four-lane rescale hands its group to the scalar loop). 20 inputs, 13
    rows, batch 16, per-tensor weights (one s_w: the first build only reads it)."""
    from ai_edge_litert.interpreter import Interpreter

    def build(out_scale: float) -> bytes:
        g = mb._CalibratedGraph(seed)
        x = g.input("input", (16, 20), (2.0**-7, 3))
        g.output(g.fully_connected(x, "fc", 13, output_qparams=(out_scale, -5)))
        return g.build()

    details = Interpreter(model_content=build(1.0)).get_tensor_details()
    s_w = float(next(d for d in details if d["name"] == "fc/weights")["quantization_parameters"]["scales"][0])
    return build(s_w * 2.0**-4)


CASES: dict[str, bytes] = {
    # 37: 9 groups + 1 leftover input; 70 rows: 2 chunks + 2 leftover rows; 8 inputs: groups % 4 == 2;
    # 40: 10 groups (2 quads + 2); 66 = 16 groups + 2.
    "b1_per_channel": _chain(1, [37, 70, 8, 40, 66, 5], True, 41, input_qparams=(0.04, 11)),
    "b3_per_tensor": _chain(3, [64, 35, 19, 128, 6], False, 42, relu_every=3, input_qparams=(0.03, -9)),
    "b2_tiny_scale": _chain(2, [20, 33, 12], True, 43, last_qparams=(2e-5, 3)),
    "b16_exact_ties": _exact_ties(7),
    # 1030 inputs: beyond the DSP path's 1024-input row buffer (the int8-input asm), 2 leftover inputs.
    "b2_long_row": _chain(2, [1030, 6, 3], True, 44),
}

pytestmark = pytest.mark.qemu


@pytest.mark.parametrize("target", ["mps2-an386", "mps2-an505", "mps3-an547", "mps2-an385"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_fc_fast_bit_identical(name: str, target: str, tmp_path) -> None:
    model = CASES[name]
    assert_bit_identical(model, build_model(model, target, tmp_path), range(2))


@pytest.mark.parametrize("name", sorted(CASES))
def test_fc_fast_host_sanitized(name: str, tmp_path) -> None:
    model = CASES[name]
    assert_bit_identical(model, build_model(model, "host", tmp_path, sanitize=True), range(2))
