"""Render-context values of the elementwise family: LUT activations and broadcasting two-operand ops."""

from __future__ import annotations

import dataclasses

from .. import ir

_MUL_FIELDS = ("input1_offset", "input2_offset", "output_multiplier", "output_shift", "output_offset", "act_min",
               "act_max")
_PRELU_FIELDS = ("input_offset", "alpha_offset", "multiplier_pos", "shift_pos", "multiplier_neg", "shift_neg",
                 "output_offset")

KINDS = ("LUT", "ADD_BROADCAST", "MUL", "PRELU")
"""Op kinds whose steps ``templates/steps_elementwise.c.j2`` renders."""


def fill_elementwise(step, op: ir.Op, vout: ir.Value) -> bool:
    """Fill ``step`` (a codegen Step) for an op of this family; False if the op is not one of :data:`KINDS`.

    ``vout`` is the output as the call sees it; these ops are never split into row bands (they are not in
    ``compiler.tiling.STREAMABLE``), so it is the whole output.
    """
    if isinstance(op, ir.Lut):
        step.extra = {"size": vout.size}
        step.comment = step.comment.replace("LUT", f"LUT ({op.source_op})", 1) if op.source_op else step.comment
        return True
    if not isinstance(op, ir.Binary):
        return False
    if isinstance(op, ir.AddBroadcast):
        step.params = dataclasses.asdict(op.rescale)
    else:
        fields = {ir.Mul: _MUL_FIELDS, ir.PRelu: _PRELU_FIELDS}[type(op)]
        step.params = {f: getattr(op, f) for f in fields}
    b = op.broadcast
    step.dims = {"output": b.out_dims, "stride1": b.strides1, "stride2": b.strides2}
    next_input = 0
    for position, constant in ((1, op.constant1), (2, op.constant2)):
        # -1: the operand is the constant array step.consts[f"operand{position}"]; else an index into step.inputs.
        step.extra[f"operand{position}_input"] = -1 if constant is not None else next_input
        next_input += constant is None
    return True
