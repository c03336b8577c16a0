"""Which CONV_2D layers get their weights widened to int16 offline, and that layout.

Layout (:func:`w16_weights`, kernel ``edgec_convolve_w16_s8``): one stream per layer, per pair of output channels
{bias0, bias1, bias0, bias1}, the two channels' K = KH * KW * IC weights (OHWI order, zero-padded to Kp = K
rounded up to a multiple of 4, as int16) interleaved per group of four taps 4c..4c+3 as c0 (w[4c], w[4c+2]),
c0 (w[4c+1], w[4c+3]), c1 (...), c1 (...) (the halfword pairs of the kernel's buffer: SXTB16 and SXTB16 ROR 8
of four input bytes), then the two channels' folded requantization constants (:func:`w16_table`). The kernel's
inner step, two positions x two channels, is then one LDM of weights, one of pixels and eight SMLAD (10
instructions per 16 MACs, no sign extension, no K % 4 tail), and each pass starts from the biases in one LDM; an
odd last position (or a single one) is a pass of one position over the same stream (one LDM of weights, one LDRD
of pixels and four SMLAD: 6 instructions per 8 MACs). The stream takes 2 * Kp + 24 bytes per channel instead of K.

Rule (:func:`choose`): only on targets with the DSP extension and without Helium (the Cortex-M4/M7/M33 path;
the M3 and M55 keep int8 OHWI), only int8 weights with K <= 576 (the pair buffer) (:func:`eligible`), whatever the
output's position count (measured on the M4 for 1 to 9 positions, w16 takes fewer instructions than int8 at every
count; VWW's 1x1 layers over 3x3 positions 0.83 and 0.75 per MAC against 1.15 and 1.07). ``conv_weights="int8"``
keeps every layer int8; ``"int16"`` widens every eligible layer; ``"auto"`` (the default) widens them smallest K
first (there the int8 path's per-chunk sign extension and tail cost most) while boot stage plus weights plus
harness code plus FLASH_MARGIN (the model and runtime code, not known before it is compiled) stay within the
target's flash, and the weights within the quantizer's ``--flash-budget`` when compile or run is given one.
Reports name the layout per layer (``weight_layout``).

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
    return (k + 3) // 4 * 4


def w16_pair_rows(weights: np.ndarray) -> np.ndarray:
    """int8 [OC, KH, KW, IC] -> int16 [OC, Kp]: each row padded with zeros to Kp taps, each group of four taps
    4c..4c+3 as (w[4c], w[4c+2], w[4c+1], w[4c+3]) (the buffer's SXTB16 pairs)."""
    oc = weights.shape[0]
    rows = weights.reshape(oc, -1).astype(np.int16)
    k = rows.shape[1]
    padded = np.zeros((oc, padded_taps(k)), dtype=np.int16)
    padded[:, :k] = rows
    return np.ascontiguousarray(padded.reshape(oc, -1, 4)[:, :, [0, 2, 1, 3]].reshape(oc, -1))


def w16_weights(weights: np.ndarray, bias: np.ndarray, multiplier: np.ndarray, shift: np.ndarray,
                output_offset: int) -> np.ndarray:
    """The kernel's stream (its filter argument) as int16 (little-endian words), per pair of channels (c0, c1)
    12 + Kp words: {bias0, bias1, bias0, bias1}, per chunk of four taps {c0 pair (w0, w2), c0 pair (w1, w3),
    c1 pair (w0, w2), c1 pair (w1, w3)}, then c0's and c1's {lo, hi, multiplier, r1} (:func:`w16_table`). An odd
    last channel gets a zero partner (the kernel computes it in C and stores only the real one)."""
    oc = weights.shape[0]
    rows = w16_pair_rows(weights)
    kp = rows.shape[1]
    table = w16_table(bias, multiplier, shift, output_offset).reshape(oc, 5)
    pairs = (oc + 1) // 2
    if oc % 2:
        rows = np.concatenate([rows, np.zeros((1, kp), np.int16)])
        table = np.concatenate([table, table[-1:]])
    words = []
    for i in range(pairs):
        r0, r1 = rows[2 * i].view(np.int32).reshape(-1, 2), rows[2 * i + 1].view(np.int32).reshape(-1, 2)
        t0, t1 = table[2 * i], table[2 * i + 1]
        words.append(np.array([t0[0], t1[0], t0[0], t1[0]], np.int32))
        words.append(np.concatenate([r0, r1], axis=1).reshape(-1))
        words.append(np.concatenate([t0[1:], t1[1:]]).astype(np.int32))
    return np.ascontiguousarray(np.concatenate(words).astype(np.int32).view(np.int16))


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


def eligible(op: ir.Op, features: tuple[str, ...]) -> bool:
    """Whether op may take the int16 layout on a target with these features. Any output position count: the kernel
    runs positions two at a time and an odd last one alone (not the last two again), so small outputs pay too."""
    return (isinstance(op, ir.Conv2D) and op.weight_bits == 8 and "dsp" in features and "mve" not in features
            and int(np.prod(op.weights.shape[1:])) <= TAPS)


def extra_bytes(op: ir.Conv2D) -> int:
    """Flash the int16 layout adds: the stream (widened, padded weights, biases and constants per channel pair)
    less the int8 weights."""
    oc = op.weights.shape[0]
    k = int(np.prod(op.weights.shape[1:]))
    return (oc + 1) // 2 * 4 * (12 + padded_taps(k)) - oc * k


def choose(program: ir.Program, features: tuple[str, ...], flash_free: int | None, mode: str = "auto") -> ir.Program:
    """The program with the chosen Conv2D ops set to weight_layout "w16" (module docstring); flash_free: bytes of
    flash beyond boot stage, int8 weights and harness code (None: no limit)."""
    if mode not in CHOICES:
        raise ValueError(f"conv weights must be one of {', '.join(CHOICES)}, not {mode!r}")
    if mode == "int8":
        return program
    candidates = sorted((i for i, op in enumerate(program.ops) if eligible(op, features)),
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
