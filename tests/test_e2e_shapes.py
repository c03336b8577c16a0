"""Shape, data-movement, MEAN and pooling graphs, compiled to C and run on the host (ASan+UBSan) and QEMU.

Each model is run by TFLite's reference interpreter, the IR interpreter and the firmware; all outputs
must be identical. Cases cover MEAN on the axes where older TFLite took other paths (keep_dims 4-D [1, 2] and [2, 1],
equal quantization) as well as negative axes and other axes, every
STRIDED_SLICE mask, negative strides and indices, SPLIT/SPLIT_V, TRANSPOSE, PAD/PADV2, CONCATENATION on
each axis, the SQUEEZE/EXPAND_DIMS views, and pooling with SAME on odd and even sizes, VALID, and a
filter larger than the input (VALID is in tests/test_e2e_ops.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from e2e import assert_bit_identical, build_model
from shape_models import concat, mean, single_op

from compiler import modelbuilder as mb

CASES: dict[str, bytes] = {
    "mean_spatial_keepdims": mean((1, 5, 6, 3), (1, 2), True),
    "mean_spatial_reversed_axes": mean((2, 4, 4, 5), (2, 1), True, q_in=(0.02, 7), q_out=(0.1, -20)),
    "mean_global_no_keepdims": mean((1, 5, 6, 3), (1, 2), False),
    "mean_negative_axes": mean((2, 5, 6, 3), (-3, -2), True),
    "mean_same_quant_batch_channel": mean((2, 5, 6, 3), (0, 3), False, q_out=(0.05, -3)),
    "mean_last_axis_rank3": mean((2, 7, 3), (2,), False, q_in=(0.1, 10), q_out=(0.01, -100)),
    "slice": single_op("SLICE", (1, 5, 6, 3), [(1, 2, 4, 2)], [[0, 1, 2, 1], [1, 2, -1, 2]]),
    "strided_slice_masks_negative": single_op(
        "STRIDED_SLICE", (1, 5, 6, 3), [(2, 3, 3)], [[0, -1, 5, 0], [1, 0, 0, 3], [1, -2, -2, 1]],
        shrink_axis_mask=1, end_mask=8),
    "strided_slice_begin_end_masks": single_op(
        "STRIDED_SLICE", (2, 7, 5), [(2, 3, 2)], [[1, 1, 4], [0, 7, 1], [1, 2, -2]], begin_mask=1, end_mask=1),
    "transpose_4d": single_op("TRANSPOSE", (2, 3, 4, 5), [(4, 2, 5, 3)], [[2, 0, 3, 1]]),
    "pad": single_op("PAD", (1, 3, 4, 2), [(1, 5, 7, 2)], [[[0, 0], [1, 1], [2, 1], [0, 0]]]),
    "padv2_value": single_op("PADV2", (1, 3, 4, 2), [(2, 5, 7, 3)], [[[1, 0], [1, 1], [2, 1], [0, 1]],
                                                                    np.array([7], np.int8)]),
    "split_axis2": single_op("SPLIT", (1, 4, 6, 3), [(1, 4, 2, 3)] * 3, [[2]], data_position=1, num_splits=3),
    "split_v_negative_axis": single_op("SPLIT_V", (1, 4, 6, 3), [(1, 4, 6, 1), (1, 4, 6, 2)], [[-1, 2], [-1]],
                                       num_splits=2),
    "squeeze_view": single_op("SQUEEZE", (1, 4, 1, 3), [(4, 3)], squeeze_dims=[]),
    "expand_dims_view": single_op("EXPAND_DIMS", (4, 3), [(4, 1, 3)], [[1]]),
    "concat_axis2": concat([(1, 2, 3, 4), (1, 2, 1, 4), (1, 2, 2, 4)], 2),
    "concat_last_axis_negative": concat([(2, 3, 1), (2, 3, 5)], -1),
}
for kind in ("AVG", "MAX"):
    CASES[f"pool_{kind}_same_even"] = mb.pool_model(kind=kind, input_shape=(1, 8, 6, 3), filter_size=(2, 2),
                                                    stride=(2, 2), padding="SAME", seed=20)
    CASES[f"pool_{kind}_same_odd_stride3"] = mb.pool_model(kind=kind, input_shape=(1, 7, 10, 2), filter_size=(3, 4),
                                                           stride=(3, 3), padding="SAME", seed=21)
    CASES[f"pool_{kind}_same_filter_larger"] = mb.pool_model(kind=kind, input_shape=(1, 3, 4, 2),
                                                             filter_size=(5, 6), stride=(1, 2), padding="SAME", seed=22)


@pytest.mark.parametrize("name", sorted(CASES))
def test_host_bit_identical(name: str, tmp_path) -> None:
    model = CASES[name]
    assert_bit_identical(model, build_model(model, "host", tmp_path, sanitize=True), range(2))


# QEMU runs a sample that exercises every C kernel and MEAN path (the host runs them all).
# tests/test_random_graphs.py also runs one random graph per op on QEMU.
QEMU_CASES = ("mean_negative_axes", "strided_slice_masks_negative", "transpose_4d", "padv2_value",
              "pool_AVG_same_filter_larger")


@pytest.mark.qemu
@pytest.mark.parametrize("name", QEMU_CASES)
def test_cortex_m4_bit_identical(name: str, tmp_path) -> None:
    model = CASES[name]
    sims = assert_bit_identical(model, build_model(model, "mps2-an386", tmp_path), range(2))
    assert all(s.instructions is not None for s in sims)  # a view or tiny copy may take under one 40-instruction tick
