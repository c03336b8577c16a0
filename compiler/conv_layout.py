"""Which CONV_2D layers get their weights widened to int16 offline, and that layout.

Layout (:func:`w16_weights`, kernel ``edgec_convolve_w16_s8``): per output channel the K = KH * KW * IC weights in
OHWI order, padded with zeros to Kp = K rounded up to a multiple of 8, as int16; each group of four taps
4c..4c+3 stored as (w[4c], w[4c+2], w[4c+1], w[4c+3]), the halfword pairs the DSP quad buffer holds (SXTB16
and SXTB16 ROR 8 of four input bytes). The inner step then needs no sign extension of weights (11 instead of 13
instructions per 16 MACs) and no K % 4 tail loop; the weights take 2 * Kp instead of K bytes per channel.

Rule (:func:`choose`): only on targets with the DSP extension and without Helium (the Cortex-M4/M7/M33 path;
the M3 and M55 keep int8 OHWI), only int8 weights with K <= 576 (the quad buffer). ``conv_weights="int8"`` keeps
every layer int8; ``"int16"`` widens every layer the target and K allow; ``"auto"`` (the default) also leaves
outputs of fewer than 16 positions that are not a multiple of 4 in int8 (:func:`eligible`) and widens the rest,
smallest K first (there the int8 path's per-chunk sign extension and tail cost most), while boot stage plus
weights plus harness code plus FLASH_MARGIN (the model and runtime code, not known before it is compiled) stay
within the target's flash, and the weights within the quantizer's ``--flash-budget`` when compile or run is given
one. Reports name the layout per layer (``weight_layout``).

Table (:func:`w16_table`, the kernel's bias argument): per channel the bias and the right-shift constants of
edgec_rq_right with the output offset folded in, so the assembly loads them with one LDM and needs no QADD.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import ir

TAPS = 576  # EDGEC_CONV_W16_TAPS in edgec_nn.h
FLASH_MARGIN = 64 * 1024  # bytes left for code when deciding by flash
CHOICES = ("auto", "int8", "int16")


def padded_taps(k: int) -> int:
    return (k + 7) // 8 * 8


def w16_weights(weights: np.ndarray) -> np.ndarray:
    """int8 [OC, KH, KW, IC] -> the flat int16 layout of the module docstring."""
    oc = weights.shape[0]
    rows = weights.reshape(oc, -1).astype(np.int16)
    k = rows.shape[1]
    padded = np.zeros((oc, padded_taps(k)), dtype=np.int16)
    padded[:, :k] = rows
    return np.ascontiguousarray(padded.reshape(oc, -1, 4)[:, :, [0, 2, 1, 3]].ravel())


FOLD_MAX_R1 = 22  # EDGEC_RQ_FOLD_MAX_R1 in edgec_fixedpoint.h


def w16_table(bias: np.ndarray, multiplier: np.ndarray, shift: np.ndarray, output_offset: int) -> np.ndarray:
    """The kernel's per-channel table (its bias argument), int32 [OC * 5]: {bias, lo, hi, multiplier, r1} with
    edgec_rq_right_fold_offset(edgec_rq_right_make(multiplier, shift), output_offset) for a right shift whose
    r1 = -1 - shift is at most FOLD_MAX_R1; other channels (left shifts, r1 > 22) {bias, shift, 0, multiplier, -1}
    (the kernel then makes the constants from shift and multiplier at run time)."""
    rows = []
    for b, m, sh in zip(bias.tolist(), multiplier.tolist(), shift.tolist()):
        r1 = -1 - sh
        if sh < 0 and r1 <= FOLD_MAX_R1:
            t = 1 << r1
            lo = (0x40000000 | (t << 31)) & 0xFFFFFFFF
            hi = ((t >> 1) + (output_offset << r1)) & 0xFFFFFFFF
            rows.append([b, lo, hi, m, r1])
        else:
            rows.append([b, sh, 0, m, 0xFFFFFFFF])
    words = np.array(rows, dtype=np.int64).reshape(-1) & 0xFFFFFFFF
    return words.astype(np.uint32).view(np.int32)


MIN_POSITIONS = 16  # below this, a position count that is not a multiple of 4 keeps int8 (see eligible)


def eligible(op: ir.Op, features: tuple[str, ...], positions: int = MIN_POSITIONS) -> bool:
    """Whether op may take the int16 layout on a target with these features; positions: its output positions
    (N * OH * OW). The kernel runs every position four at a time, a last partial group as the last four again, so a
    small output whose count is not a multiple of 4 (VWW's 3x3 layers: 12 computed for 9) keeps the int8 kernel,
    whose leftover positions cost less."""
    return (isinstance(op, ir.Conv2D) and op.weight_bits == 8 and "dsp" in features and "mve" not in features
            and int(np.prod(op.weights.shape[1:])) <= TAPS
            and (positions >= MIN_POSITIONS or positions % 4 == 0))


def extra_bytes(op: ir.Conv2D) -> int:
    """Flash the int16 layout adds: the widened, padded weights and the table's four words per channel."""
    oc = op.weights.shape[0]
    k = int(np.prod(op.weights.shape[1:]))
    return 2 * oc * padded_taps(k) - oc * k + 16 * oc


def choose(program: ir.Program, features: tuple[str, ...], flash_free: int | None, mode: str = "auto") -> ir.Program:
    """The program with the chosen Conv2D ops set to weight_layout "w16" (module docstring); flash_free: bytes of
    flash beyond boot stage, int8 weights and harness code (None: no limit)."""
    if mode not in CHOICES:
        raise ValueError(f"conv weights must be one of {', '.join(CHOICES)}, not {mode!r}")
    if mode == "int8":
        return program
    def positions(op: ir.Op) -> int:
        shape = program.value(op.outputs[0]).shape
        return int(np.prod(shape[:-1]))

    candidates = sorted((i for i, op in enumerate(program.ops)
                         if eligible(op, features, positions(op) if mode == "auto" else MIN_POSITIONS)),
                        key=lambda i: int(np.prod(program.ops[i].weights.shape[1:])))
    room = None if mode == "int16" or flash_free is None else flash_free - FLASH_MARGIN
    chosen = set()
    for i in candidates:
        extra = extra_bytes(program.ops[i])
        if room is not None:
            if extra > room:
                continue
            room -= extra
        chosen.add(i)
    if not chosen:
        return program
    ops = tuple(dataclasses.replace(op, weight_layout="w16") if i in chosen else op
                for i, op in enumerate(program.ops))
    return dataclasses.replace(program, ops=ops)


def for_target(program: ir.Program, target, mode: str = "auto", weight_budget: int | None = None) -> ir.Program:
    """:func:`choose` for a compiler.targets.Target, its flash as the limit; weight_budget (the quantizer's
    --flash-budget: bytes the weights may take) limits auto further."""
    free = None
    if target.flash_bytes is not None:
        free = target.flash_bytes - target.boot_reserved_bytes - target.harness_flash_bytes - program.constant_bytes
    if weight_budget is not None:
        room = weight_budget - program.constant_bytes + FLASH_MARGIN  # choose takes the margin off again
        free = room if free is None else min(free, room)
    return choose(program, tuple(target.features), free, mode)
