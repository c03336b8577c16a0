"""Single-op and small multi-op graphs, compiled to C and run on the host and on QEMU Cortex-M4.

Each model is written by the project's model builder, run by TFLite's reference interpreter,
by the IR interpreter and by the firmware; all outputs must be identical. The cases cover
kernel sizes 1/3/5, strides 1/2, SAME/VALID on odd spatial sizes, dilation, depth multiplier
> 1, per-tensor and per-channel weights, and fused ReLU/ReLU6.
"""

from __future__ import annotations

import os

import pytest
from e2e import assert_bit_identical, build_model

from compiler import modelbuilder as mb

CASES: dict[str, bytes] = {}


def case(name: str, model: bytes) -> None:
    CASES[name] = model


for k in (1, 3, 5):
    for stride in (1, 2):
        for padding in ("SAME", "VALID"):
            case(f"conv_k{k}_s{stride}_{padding}", mb.conv2d_model(
                input_shape=(1, 11, 9, 3), out_channels=5, kernel=(k, k), stride=(stride, stride),
                padding=padding, activation="RELU", seed=k * 10 + stride))
case("conv_per_tensor_relu6", mb.conv2d_model(input_shape=(1, 7, 7, 4), out_channels=6, per_channel=False,
                                              activation="RELU6", seed=3))
case("conv_dilated_nobias", mb.conv2d_model(input_shape=(1, 13, 13, 2), out_channels=3, dilation=(2, 2),
                                            use_bias=False, seed=4))
case("conv_rect_kernel_stride", mb.conv2d_model(input_shape=(1, 10, 15, 3), out_channels=4, kernel=(3, 5),
                                                stride=(2, 1), padding="SAME", seed=5))
for dm in (1, 2):
    for stride in (1, 2):
        for padding in ("SAME", "VALID"):
            case(f"dw_dm{dm}_s{stride}_{padding}", mb.depthwise_conv2d_model(
                input_shape=(1, 9, 11, 4), depth_multiplier=dm, kernel=(3, 3), stride=(stride, stride),
                padding=padding, activation="RELU6", seed=dm * 10 + stride))
case("dw_k5_per_tensor", mb.depthwise_conv2d_model(input_shape=(1, 12, 12, 3), depth_multiplier=3, kernel=(5, 5),
                                                   per_channel=False, seed=6))
case("dw_dilated", mb.depthwise_conv2d_model(input_shape=(1, 11, 11, 4), dilation=(2, 2), seed=7))
case("fc_relu", mb.fully_connected_model(input_shape=(1, 40), out_features=10, activation="RELU", seed=8))
case("fc_per_channel_batch", mb.fully_connected_model(input_shape=(3, 24), out_features=7, per_channel=True, seed=9))
for kind in ("AVG", "MAX"):
    for padding in ("SAME", "VALID"):
        case(f"pool_{kind}_{padding}", mb.pool_model(kind=kind, input_shape=(1, 9, 7, 5), filter_size=(3, 3),
                                                     stride=(2, 2), padding=padding, seed=10))
case("add_relu", mb.add_model(shape=(1, 5, 5, 6), activation="RELU", seed=11))
case("softmax", mb.softmax_model(seed=12))
case("float_edges", mb.quantize_edges_model(seed=13))
case("tiny_cnn", mb.tiny_cnn_model(seed=0))


@pytest.mark.parametrize("name", sorted(CASES))
def test_host_bit_identical(name: str, tmp_path) -> None:
    model = CASES[name]
    assert_bit_identical(model, build_model(model, "host", tmp_path, sanitize=True), range(3))


@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(CASES))
def test_cortex_m4_bit_identical(name: str, tmp_path) -> None:
    model = CASES[name]
    sims = assert_bit_identical(model, build_model(model, "mps2-an386", tmp_path), range(3))
    assert all(s.instructions is not None and s.instructions > 0 for s in sims)


# The new cores on a representative subset in the default suite (every op family, float edges, the
# depth-multiplier and stride cases); EDGEC_ALL_TARGETS=1 runs every case on every QEMU target.
SMALL_CORE_CASES = ["add_relu", "conv_k5_s2_SAME", "dw_dm2_s2_VALID", "fc_per_channel_batch", "float_edges",
                    "pool_AVG_SAME", "softmax", "tiny_cnn"]
ALL_QEMU = ["microbit", "mps2-an385", "mps2-an500", "mps2-an505", "mps3-an547", "riscv32-virt"]


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["microbit", "riscv32-virt"])
@pytest.mark.parametrize("name", SMALL_CORE_CASES)
def test_cortex_m0_and_riscv_bit_identical(name: str, target: str, tmp_path) -> None:
    """Cortex-M0 (Armv6-M, 16 KiB SRAM, counted by SysTick) and RV32IMAC (picolibc, counted by minstret)."""
    model = CASES[name]
    sims = assert_bit_identical(model, build_model(model, target, tmp_path), range(1))
    assert all(s.instructions is not None and s.instructions > 0 and s.stack_bytes for s in sims)


# Opt-in: the cases exist only when EDGEC_ALL_TARGETS is set, so the default run does not list 210 skips.
if os.environ.get("EDGEC_ALL_TARGETS"):

    @pytest.mark.qemu
    @pytest.mark.slow
    @pytest.mark.parametrize("target", ALL_QEMU)
    @pytest.mark.parametrize("name", sorted(CASES))
    def test_every_case_on_every_qemu_target(name: str, target: str, tmp_path) -> None:
        model = CASES[name]
        sims = assert_bit_identical(model, build_model(model, target, tmp_path), range(1))
        assert all(s.instructions is not None and s.instructions > 0 for s in sims)
