"""SPACE_TO_BATCH_ND -> CONV_2D / DEPTHWISE_CONV_2D -> BATCH_TO_SPACE_ND folded into one dilated convolution.

Older TensorFlow converters express a dilated convolution as: pad the input and move each of the
``d x d`` phases into the batch (SPACE_TO_BATCH_ND with block ``[dh, dw]`` and paddings), run an
undilated VALID stride-1 convolution, and move the phases back, cropping (BATCH_TO_SPACE_ND with the
same block and crops). Output cell ``oy`` then reads input rows ``oy + ct + ky*dh - pt`` (``pt``/``ct``
the leading padding and crop), so the chain equals one convolution with dilation ``(dh, dw)`` and
leading padding ``pt - ct`` (and ``pl - cl``), every out-of-range read being the zero point in both.
The fold happens only when that leading padding and the final output shape are exactly what TFLite's
SAME or VALID padding gives for the dilated filter, the block tensors and paddings are constants,
the input batch is 1, the intermediate tensors have no other readers, and quantization is unchanged
through the two reshuffles (TFLite's int8 kernels require that).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..graph import Graph
from ..lower.common import output_size, same_padding
from .rewrite import consumers, edit, is_interface, same_quantization

CONVOLUTIONS = ("CONV_2D", "DEPTHWISE_CONV_2D")


def _ints(graph: Graph, index: int) -> list[int] | None:
    t = graph.tensors[index]
    return None if not t.is_constant else [int(v) for v in np.asarray(t.data).ravel()]


def _only_reader(graph: Graph, tensor: int, position: int) -> bool:
    return consumers(graph, tensor) == [position] and not is_interface(graph, tensor)


def _padding_name(in_size: int, out_size: int, kernel: int, dilation: int, lead: int) -> str | None:
    """SAME or VALID when a stride-1 dilated window with this leading padding and output size is one of them."""
    for name in ("SAME", "VALID"):
        expect_out = output_size(in_size, kernel, 1, dilation, name)
        expect_lead = same_padding(in_size, expect_out, 1, kernel, dilation) if name == "SAME" else 0
        if out_size == expect_out and lead == expect_lead:
            return name
    return None


def _fold(graph: Graph, s2b_pos: int) -> Graph:
    s2b = graph.operators[s2b_pos]
    if s2b.op != "SPACE_TO_BATCH_ND" or len(s2b.inputs) != 3:
        return graph
    mid = s2b.outputs[0]
    readers = consumers(graph, mid)
    if len(readers) != 1 or is_interface(graph, mid):
        return graph
    conv_pos = readers[0]
    conv = graph.operators[conv_pos]
    if conv.op not in CONVOLUTIONS or conv.inputs[0] != mid:
        return graph
    if conv.options.get("padding") != "VALID" or tuple(conv.options.get("stride", ())) != (1, 1) or tuple(
            conv.options.get("dilation", ())) != (1, 1):
        return graph
    conv_out = conv.outputs[0]
    readers = consumers(graph, conv_out)
    if len(readers) != 1 or not _only_reader(graph, conv_out, readers[0]):
        return graph
    b2s_pos = readers[0]
    b2s = graph.operators[b2s_pos]
    if b2s.op != "BATCH_TO_SPACE_ND" or len(b2s.inputs) != 3 or b2s.inputs[0] != conv_out:
        return graph
    block, pads = _ints(graph, s2b.inputs[1]), _ints(graph, s2b.inputs[2])
    block2, crops = _ints(graph, b2s.inputs[1]), _ints(graph, b2s.inputs[2])
    if block is None or pads is None or block2 != block or crops is None or len(block) != 2 or min(block) < 1:
        return graph
    if len(pads) != 4 or len(crops) != 4:
        return graph
    x, y = graph.tensors[s2b.inputs[0]], graph.tensors[b2s.outputs[0]]
    t_mid, t_conv = graph.tensors[mid], graph.tensors[conv_out]
    if len(x.shape) != 4 or x.shape[0] != 1 or len(y.shape) != 4 or y.shape[0] != 1:
        return graph
    if not (same_quantization(x, t_mid) and same_quantization(t_conv, y)):
        return graph
    weights = graph.tensors[conv.inputs[1]]
    if len(weights.shape) != 4:
        return graph
    kh, kw = (weights.shape[1], weights.shape[2])
    names = {_padding_name(x.shape[1], y.shape[1], kh, block[0], pads[0] - crops[0]),
             _padding_name(x.shape[2], y.shape[2], kw, block[1], pads[2] - crops[2])}
    if len(names) != 1 or None in names:
        return graph
    options = dict(conv.options, padding=names.pop(), dilation=(block[0], block[1]))
    folded = dataclasses.replace(conv, inputs=(x.index, *conv.inputs[1:]), outputs=(y.index,), options=options)
    return edit(graph, remove=[s2b_pos, b2s_pos], replace={conv_pos: folded})


def fold_space_to_batch_conv(graph: Graph) -> Graph:
    """Fold the first SPACE_TO_BATCH_ND / convolution / BATCH_TO_SPACE_ND chain that is a dilated convolution."""
    for position, op in enumerate(graph.operators):
        if op.op == "SPACE_TO_BATCH_ND":
            folded = _fold(graph, position)
            if folded is not graph:
                return folded
    return graph
