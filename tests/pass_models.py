"""Models with the converter patterns the graph passes rewrite, written with the ModelBuilder."""

from __future__ import annotations

import numpy as np

from compiler.modelbuilder import ModelBuilder

Q_IN = (0.05, -3)


def _conv(mb: ModelBuilder, x: int, in_channels: int, out_channels: int, kind: str, rng: np.random.Generator,
          out_shape: tuple[int, ...], out_q: tuple[float, int], **options: object) -> int:
    """A 3x3 CONV_2D or DEPTHWISE_CONV_2D with random per-channel int8 weights writing a new tensor."""
    w_scales = rng.uniform(0.002, 0.01, out_channels)
    if kind == "CONV_2D":
        w = mb.const("w", rng.integers(-127, 128, (out_channels, 3, 3, in_channels)), "int8", scales=w_scales,
                     zero_points=[0] * out_channels, quantized_dimension=0)
    else:
        w = mb.const("w", rng.integers(-127, 128, (1, 3, 3, out_channels)), "int8", scales=w_scales,
                     zero_points=[0] * out_channels, quantized_dimension=3)
        options.setdefault("depth_multiplier", out_channels // in_channels)
    b = mb.const("b", rng.integers(-2000, 2000, out_channels), "int32", scales=w_scales * Q_IN[0],
                 zero_points=[0] * out_channels)
    y = mb.tensor(f"{kind.lower()}_out", out_shape, "int8", *out_q)
    mb.op(kind, [x, w, b], [y], **options)
    return y


def flatten_chain(shape: tuple[int, ...] = (1, 4, 4, 3)) -> bytes:
    """Keras Flatten as the converter writes it: SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE."""
    mb = ModelBuilder()
    x = mb.input("x", shape, "int8", *Q_IN)
    shp = mb.tensor("shape", (len(shape),), "int32")
    mb.op("SHAPE", [x], [shp], out_type="int32")
    batch = mb.tensor("batch", (), "int32")
    consts = [mb.const(n, np.array(v, np.int32)) for n, v in (("b", [0]), ("e", [1]), ("s", [1]))]
    mb.op("STRIDED_SLICE", [shp, *consts], [batch], shrink_axis_mask=1)
    minus_one = mb.const("minus_one", np.array(-1, np.int32))
    packed = mb.tensor("packed", (2,), "int32")
    mb.op("PACK", [batch, minus_one], [packed], values_count=2, axis=0)
    y = mb.tensor("y", (shape[0], int(np.prod(shape[1:]))), "int8", *Q_IN)
    mb.op("RESHAPE", [x, packed], [y])
    mb.output(y)
    return mb.build()


def space_to_batch_conv(kind: str = "CONV_2D", size: int = 9, block: int = 2, padding: str = "SAME",
                        seed: int = 0) -> bytes:
    """A dilated 3x3 convolution the way older converters write it: S2B -> VALID conv -> B2S."""
    rng = np.random.default_rng(seed)
    channels_in, channels_out = 2, 4
    eff = 2 * block + 1
    if padding == "SAME":
        lead, out = (eff - 1) // 2, size
    else:
        lead, out = 0, size - eff + 1
    padded = -(-(size + 2 * lead) // block) * block if padding == "SAME" else -(-size // block) * block
    tail = padded - size - lead
    mb = ModelBuilder()
    x = mb.input("x", (1, size, size, channels_in), "int8", *Q_IN)
    block_t = mb.const("block", np.array([block, block], np.int32))
    pads = mb.const("pads", np.array([[lead, tail], [lead, tail]], np.int32))
    phase = padded // block
    mid = mb.tensor("s2b", (block * block, phase, phase, channels_in), "int8", *Q_IN)
    mb.op("SPACE_TO_BATCH_ND", [x, block_t, pads], [mid])
    conv_hw = phase - 2
    y_mid = _conv(mb, mid, channels_in, channels_out, kind, rng, (block * block, conv_hw, conv_hw, channels_out),
                  (0.1, 4), padding="VALID")
    crop = conv_hw * block - out
    crops = mb.const("crops", np.array([[0, crop], [0, crop]], np.int32))
    y = mb.tensor("y", (1, out, out, channels_out), "int8", 0.1, 4)
    mb.op("BATCH_TO_SPACE_ND", [y_mid, block_t, crops], [y])
    mb.output(y)
    return mb.build()


def conv_then_relu(act: str = "RELU", relu_q: tuple[float, int] = (0.1, 4), seed: int = 1) -> bytes:
    """CONV_2D (no fused activation) followed by a standalone activation op."""
    rng = np.random.default_rng(seed)
    mb = ModelBuilder()
    x = mb.input("x", (1, 6, 6, 3), "int8", *Q_IN)
    t = _conv(mb, x, 3, 4, "CONV_2D", rng, (1, 6, 6, 4), (0.1, 4), padding="SAME")
    y = mb.tensor("y", (1, 6, 6, 4), "int8", *relu_q)
    mb.op(act, [t], [y])
    mb.output(y)
    return mb.build()


def with_noops(reshape_last: bool = False, requant: tuple[float, int] | None = None) -> bytes:
    """x -> QUANTIZE (int8 -> int8) -> identity RESHAPE -> AVERAGE_POOL_2D [-> identity RESHAPE] -> y."""
    mb = ModelBuilder()
    shape = (1, 6, 6, 3)
    x = mb.input("x", shape, "int8", *Q_IN)
    q = mb.tensor("q", shape, "int8", *(requant or Q_IN))
    mb.op("QUANTIZE", [x], [q])
    r = mb.tensor("r", shape, "int8", *(requant or Q_IN))
    mb.op("RESHAPE", [q, mb.const("shape", np.array(shape, np.int32))], [r])
    p = mb.tensor("pool" if reshape_last else "y", (1, 3, 3, 3), "int8", *(requant or Q_IN))
    mb.op("AVERAGE_POOL_2D", [r], [p], filter_size=2, stride=2, padding="VALID")
    if reshape_last:
        y = mb.tensor("y", (1, 3, 3, 3), "int8", *(requant or Q_IN))
        mb.op("RESHAPE", [p, mb.const("shape2", np.array((1, 3, 3, 3), np.int32))], [y])
        p = y
    mb.output(p)
    return mb.build()
