"""A standalone RELU, RELU6 or RELU_N1_TO_1 fused into the operator producing its input.

TFLite's int8 RELU family computes ``clamp(zp_out + MultiplyByQuantizedMultiplier(x - zp_in, m, s),
lo, hi)`` with ``(m, s)`` from ``s_in / s_out`` and ``[lo, hi]`` the activation's range on the output
quantization. When input and output share scale and zero point the rescale is exactly the identity
(``m = 2^30, s = 1``), so the op is just that clamp, which is what the producer's fused activation
applies to its own output (``CalculateActivationRangeQuantized`` gives the same range). The fusion
therefore happens only when: the quantization is shared; the producer is one of :data:`PRODUCERS`
with no fused activation (or the same one); the RELU is the producer's output's only reader; and that
output is not a model output. The producer then writes the RELU's output tensor.
"""

from __future__ import annotations

import dataclasses

from ..graph import Graph
from .rewrite import consumers, edit, is_interface, producer, same_quantization

STANDALONE = ("RELU", "RELU6", "RELU_N1_TO_1")
PRODUCERS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL", "AVERAGE_POOL_2D",
             "MAX_POOL_2D")


def _fuse(graph: Graph, position: int) -> Graph:
    act = graph.operators[position]
    if act.op not in STANDALONE or len(act.inputs) != 1 or len(act.outputs) != 1:
        return graph
    src, dst = act.inputs[0], act.outputs[0]
    t_src, t_dst = graph.tensors[src], graph.tensors[dst]
    if t_src.dtype != "int8" or t_src.quant is None or not same_quantization(t_src, t_dst):
        return graph
    prod_pos = producer(graph, src)
    if prod_pos is None or consumers(graph, src) != [position] or is_interface(graph, src):
        return graph
    prod = graph.operators[prod_pos]
    if prod.op not in PRODUCERS or prod.outputs != (src,) or prod.options.get("activation", "NONE") not in (
            "NONE", act.op):
        return graph
    fused = dataclasses.replace(prod, outputs=(dst,), options=dict(prod.options, activation=act.op))
    return edit(graph, remove=[position], replace={prod_pos: fused})


def fuse_activation(graph: Graph) -> Graph:
    """Fuse the first standalone RELU/RELU6/RELU_N1_TO_1 that can be fused bit-identically."""
    for position, op in enumerate(graph.operators):
        if op.op in STANDALONE:
            fused = _fuse(graph, position)
            if fused is not graph:
                return fused
    return graph
