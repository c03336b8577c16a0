"""Graph clean-up passes: frontend Graph -> equivalent Graph, before support checks and lowering.

Each pass is a small function ``(graph) -> graph`` that returns the same object when it changes
nothing. :func:`optimize` runs the ordered list :data:`PASSES` until a whole round leaves the graph
unchanged (a fixed point; at most :data:`MAX_ROUNDS` rounds). Every pass keeps the model's input and
output tensors (their indices, shapes and quantization) as they are, keeps each surviving operator's
index from the file (so error messages still name the file's operators), and produces the same
outputs as the original graph bit for bit on TFLite's reference interpreter. One file per family:

- ``shapes``: fold constant shape arithmetic (SHAPE, STRIDED_SLICE, SLICE, PACK, CONCATENATION,
  RESHAPE on constants) into constant tensors; drop identity reshapes and no-op requantizations.
- ``dilation``: SPACE_TO_BATCH_ND -> CONV_2D/DEPTHWISE_CONV_2D -> BATCH_TO_SPACE_ND into one dilated
  convolution.
- ``activation``: a standalone RELU/RELU6/RELU_N1_TO_1 fused into its producer.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InternalError
from ..graph import Graph
from .activation import fuse_activation
from .dilation import fold_space_to_batch_conv
from .shapes import drop_identity_reshape, drop_noop_quantize, fold_constants

Pass = Callable[[Graph], Graph]

PASSES: tuple[Pass, ...] = (fold_constants, drop_identity_reshape, drop_noop_quantize, fold_space_to_batch_conv,
                            fuse_activation)
MAX_ROUNDS = 100


def optimize(graph: Graph, passes: tuple[Pass, ...] = PASSES) -> Graph:
    """Run the passes in order, round after round, until none changes the graph."""
    for _ in range(MAX_ROUNDS):
        before = graph
        for rewrite in passes:
            graph = rewrite(graph)
            _check_interface(before, graph, rewrite)
        if graph is before:
            return graph
    raise InternalError(f"graph passes did not reach a fixed point in {MAX_ROUNDS} rounds")


def _check_interface(before: Graph, after: Graph, rewrite: Pass) -> None:
    """A pass must keep the model's inputs and outputs exactly."""
    same = after.inputs == before.inputs and after.outputs == before.outputs and all(
        after.tensors[i].shape == before.tensors[i].shape and after.tensors[i].quant == before.tensors[i].quant
        and after.tensors[i].dtype == before.tensors[i].dtype for i in (*before.inputs, *before.outputs))
    if not same:
        raise InternalError(f"graph pass {rewrite.__name__} changed the model's inputs or outputs")
