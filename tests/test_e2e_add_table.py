"""edgec_add_table_s8 on QEMU, called directly: its assembly loops (edgec_add_table_dsp.h: SMMLAR on the M4, M33
and M55, SMLAL on the M3) and its C fallbacks against the IR interpreter's arithmetic ADD (no tables).

A model's ADD only meets the kernel with large aligned arena buffers, so the project of a one-ADD model gets its
model.c and model.h replaced by a harness that, per parameter set, runs the kernel on every 256 x 256 input pair,
in place (output = input1) over 4099 elements, and on every length 0..33 with input and output pointers at byte
offsets 0..3 (lengths not multiple of 4: the loop's tail), writing into a guarded buffer: one byte before and
after each output must keep its fill. The parameter sets cover the assembly path's limits (output shifts -1 and
-23, left shift 21, offsets -127/128 and -128/127, the largest multipliers, SUB, small sums with exact rounding
ties) and the fallbacks (a clamp
narrower than int8, left shift 22, shift -24, no right shift).
"""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import numpy as np
import pytest

from compiler import ir
from compiler import modelbuilder as mb
from compiler.build import build
from compiler.driver import compile_model
from compiler.fixedpoint import quantize_multiplier
from compiler.interp import run_op
from compiler.interp.add import input_tables
from compiler.lower.add import LEFT_SHIFT, add_real_multipliers
from compiler.simulate import run

pytestmark = pytest.mark.qemu

GRID = 65536
IN_PLACE = 4099
SMALL = range(34)
OFFSETS = ((0, 0, 0), (1, 2, 3), (3, 3, 1), (2, 1, 0))
SMALL_BASE = 1000  # where the small cases' inputs start inside the grid arrays
FILL = 0x5A
PARAM_WORDS = 12
INPUT_BYTES = 4 * (PARAM_WORDS + 512) + 2 * GRID
OUTPUT_BYTES = GRID + IN_PLACE + sum((n + 2) * len(OFFSETS) for n in SMALL)

HARNESS_H = f"""#ifndef EDGEC_MODEL_H
#define EDGEC_MODEL_H
#include <stdint.h>
#define EDGEC_MODEL_NUM_INPUTS 1
#define EDGEC_MODEL_NUM_OUTPUTS 1
#define EDGEC_MODEL_INPUT_BYTES {INPUT_BYTES}
#define EDGEC_MODEL_OUTPUT_BYTES {OUTPUT_BYTES}
#define EDGEC_MODEL_LAYERS 1
int edgec_model_invoke(const void *input, void *output);
#endif
"""

HARNESS_C = f"""/* test harness: edgec_add_table_s8 called directly (tests/test_e2e_add_table.py) */
#include <string.h>

#include "edgec_nn.h"
#include "model.h"

static int8_t work[{IN_PLACE} + 8];
static int8_t in1_buf[64];
static int8_t in2_buf[64];
static int8_t out_buf[64];

int edgec_model_invoke(const void *input, void *output)
{{
    static const int offsets[{len(OFFSETS)}][3] = {{{", ".join("{%d, %d, %d}" % o for o in OFFSETS)}}};
    const int32_t *words = (const int32_t *)input;
    edgec_add_params p;
    memcpy(&p, words, sizeof p);
    const int32_t *tables = words + {PARAM_WORDS};
    const int8_t *a = (const int8_t *)(tables + 512);
    const int8_t *b = a + {GRID};
    int8_t *out = (int8_t *)output;
    if (edgec_add_table_s8(&p, tables, a, b, {GRID}, out) != EDGEC_OK) {{
        return 1;
    }}
    out += {GRID};
    memcpy(work + 1, a, {IN_PLACE});
    if (edgec_add_table_s8(&p, tables, work + 1, b, {IN_PLACE}, work + 1) != EDGEC_OK) {{
        return 2;
    }}
    memcpy(out, work + 1, {IN_PLACE});
    out += {IN_PLACE};
    for (int32_t n = {SMALL.start}; n < {SMALL.stop}; ++n) {{
        for (int k = 0; k < {len(OFFSETS)}; ++k) {{
            memcpy(in1_buf + offsets[k][0], a + {SMALL_BASE} + 37 * n, (size_t)n);
            memcpy(in2_buf + offsets[k][1], b + {SMALL_BASE} + 37 * n, (size_t)n);
            memset(out_buf, {FILL}, sizeof out_buf);
            if (edgec_add_table_s8(&p, tables, in1_buf + offsets[k][0], in2_buf + offsets[k][1], n,
                                   out_buf + 4 + offsets[k][2]) != EDGEC_OK) {{
                return 3;
            }}
            memcpy(out, out_buf + 3 + offsets[k][2], (size_t)n + 2u);
            out += n + 2;
        }}
    }}
    return 0;
}}
"""


def _rescale(s1: float, s2: float, so: float, sign: int = 1, **changes: int) -> ir.AddRescale:
    """The lowering's parameters for input scales s1, s2 and output scale so (then any field changed)."""
    (m1, sh1), (m2, sh2), (mo, sho) = (quantize_multiplier(r) for r in add_real_multipliers(s1, s2, so))
    rescale = ir.AddRescale(input1_offset=5, input1_multiplier=m1, input1_shift=sh1, input2_offset=-9,
                            input2_multiplier=sign * m2, input2_shift=sh2, left_shift=LEFT_SHIFT,
                            output_multiplier=mo, output_shift=sho, output_offset=-128, act_min=-128, act_max=127)
    return dataclasses.replace(rescale, **changes)


PARAMS: dict[str, ir.AddRescale] = {
    "resnet_like": _rescale(0.05, 0.07, 0.09),
    "sub": _rescale(0.03, 0.02, 0.04, sign=-1, output_offset=3),
    "offsets_extreme": _rescale(0.01, 0.01, 0.0101, input1_offset=128, input2_offset=-127, output_offset=127),
    "output_offset_min": _rescale(0.2, 0.001, 0.004, input1_offset=-127, input2_offset=128, output_offset=-128),
    "shift_1": _rescale(0.5, 0.25, 0.3, output_shift=-1, output_multiplier=2**31 - 1, output_offset=-3),
    "shift_23_left_21": _rescale(0.5, 0.5, 0.5, left_shift=21, output_shift=-23, output_multiplier=2**31 - 1,
                                 input1_multiplier=2**31 - 1, input2_multiplier=-(2**31 - 1)),
    "small_output_scale": _rescale(0.05, 0.04, 0.002, output_offset=17),  # many saturated outputs
    # No left shift and a multiplier of one half: small sums and exact rounding ties (the sign's correction).
    "ties_half": _rescale(0.05, 0.05, 0.05, left_shift=0, input1_multiplier=1 << 30, input1_shift=0,
                          input2_multiplier=1 << 30, input2_shift=0, output_multiplier=1 << 30, output_shift=-1,
                          output_offset=0),
    "ties_sub": _rescale(0.05, 0.05, 0.05, sign=-1, left_shift=0, input1_multiplier=1 << 30, input1_shift=0,
                         input2_multiplier=-(1 << 30), input2_shift=0, output_multiplier=1 << 30, output_shift=-2,
                         output_offset=-1),
    # C fallbacks
    "clamp_relu6_like": _rescale(0.05, 0.07, 0.02, output_offset=-20, act_min=-20, act_max=90),
    "left_22": _rescale(0.05, 0.07, 0.09, left_shift=22, output_shift=-19),
    "shift_24": _rescale(0.5, 0.5, 0.5, output_shift=-24, output_offset=100),
    "no_right_shift": _rescale(0.05, 0.07, 0.09, output_shift=0, output_multiplier=1 << 20),
}


def _inputs(seed: int) -> tuple[np.ndarray, np.ndarray]:
    grid = np.arange(-128, 128, dtype=np.int8)
    a, b = (g.ravel().copy() for g in np.meshgrid(grid, grid))
    order = np.random.default_rng(seed).permutation(GRID)  # the small cases see varied pairs
    return a[order], b[order]


def _expected(rescale: ir.AddRescale, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    op = ir.Add("add", (0, 1), (2,), rescale=rescale)
    return run_op(op, [a, b], ir.Value(2, "v2", a.shape, ir.DType.INT8))


@pytest.fixture(scope="module", params=["mps2-an386", "mps2-an385", "mps2-an505", "mps3-an547"])
def harness(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    model = mb.add_model(shape=(1, 8, 8, 16), seed=3)  # a table ADD: the project compiles edgec_add_table_s8
    compiled = compile_model(model, request.param, tmp_path_factory.mktemp("add_table") / "project")
    (compiled.outdir / "model.c").write_text(HARNESS_C)
    (compiled.outdir / "model.h").write_text(HARNESS_H)
    return build(compiled.outdir, compiled.target, werror=True), compiled.target


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_add_table_kernel_on_target(harness: tuple[Path, object], name: str) -> None:
    executable, target = harness
    rescale = PARAMS[name]
    tables = input_tables(rescale)
    a, b = _inputs(sorted(PARAMS).index(name))
    params = struct.pack("<12i", *dataclasses.astuple(rescale))
    sim = run(executable, target, params + tables.astype("<i4").tobytes() + a.tobytes() + b.tobytes(), OUTPUT_BYTES)
    assert sim.status == 0
    got = np.frombuffer(sim.output, dtype=np.int8)
    expected = _expected(rescale, a, b)
    np.testing.assert_array_equal(got[:GRID], expected, err_msg=f"{name}: all pairs")
    pos = GRID
    np.testing.assert_array_equal(got[pos:pos + IN_PLACE], expected[:IN_PLACE], err_msg=f"{name}: in place")
    pos += IN_PLACE
    fill = np.int8(FILL)
    for n in SMALL:
        start = SMALL_BASE + 37 * n
        want = np.concatenate([[fill], expected[start:start + n], [fill]]).astype(np.int8)
        for k in OFFSETS:
            np.testing.assert_array_equal(got[pos:pos + n + 2], want, err_msg=f"{name}: length {n}, offsets {k}")
            pos += n + 2
