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
output's position count (an odd last position is the one-position pass; VWW's 1x1 layers over 3x3 positions run
w16 rather than int8's 1.15 and 1.07 instructions per MAC). ``conv_weights="int8"`` keeps every layer int8;
``"int16"`` widens every eligible layer; ``"auto"`` (the default) widens them smallest K first (there the int8 path's per-chunk sign extension and tail cost most) while boot stage plus weights plus
harness code plus FLASH_MARGIN (the model and runtime code, not known before it is compiled) stay within the
target's flash, and the weights within the quantizer's ``--flash-budget`` when compile or run is given one.
Reports name the layout per layer (``weight_layout``).

Table (:func:`w16_table`, the kernel's bias argument): per channel the bias and the right-shift constants of
edgec_rq_right with the output offset folded in, so the assembly loads them with one LDM and needs no QADD.

Doubled stream (:func:`w16_doubled`, given the output range): for a layer of the full range -128..127 whose
channels shift right by 1..22 with every accumulator below 2^30 (or are constant), the stream holds twice the
biases and weights and per channel {multiplier, c, s, mark} (:func:`w16_doubled_table`; a constant channel
{0, 2 * out, 1} and no weights): the kernel requantizes with SMMLAR, ASR, SSAT where the ReLU is the zero point
(offset -128, DOUBLED_MARK), else SMMLAR, ADD of the sign, ASR, SSAT (DOUBLED_SIGNED_MARK), and recognises the
layout by the first entry's mark.
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


def _constant_outputs(weights: np.ndarray, bias: np.ndarray, multiplier: np.ndarray, shift: np.ndarray,
                      output_offset: int, act_min: int, act_max: int) -> np.ndarray:
    """Per channel the output every input gives (requantization is monotonic: the ends of the accumulator's reach
    agree), else -1000; channels whose reach leaves int32 are never constant."""
    from .fixedpoint import requantize

    oc = weights.shape[0]
    spread = 128 * np.abs(weights.reshape(oc, -1).astype(np.int64)).sum(axis=1)
    b = bias.astype(np.int64)
    out = np.full(oc, -1000, np.int64)
    for c in range(oc):
        lo, hi = int(b[c] - spread[c]), int(b[c] + spread[c])
        left = max(int(shift[c]), 0)  # TFLite shifts left before the multiply: that must not wrap either
        if (max(-lo, hi) << left) >= 1 << 31:
            continue
        ends = requantize(np.array([lo, hi], np.int32), int(multiplier[c]), int(shift[c]), output_offset, act_min,
                          act_max)
        if int(ends[0]) == int(ends[1]):
            out[c] = int(ends[0])
    return out


def w16_doubled(weights: np.ndarray, bias: np.ndarray, multiplier: np.ndarray, shift: np.ndarray,
                output_offset: int, act_min: int, act_max: int) -> bool:
    """Whether the layer takes the doubled stream (:func:`w16_weights`): the full int8 range (the assembly's
    SSAT), and every channel either constant (one output for every input: dead channels of tiny multipliers or
    huge biases) or with a right shift s = -shift of at most DOUBLED_MAX_S and every accumulator (bias plus any K
    taps of |input| <= 128) below 2^30 in magnitude, so that twice it fits int32."""
    if act_min != -128 or act_max != 127:
        return False
    oc = weights.shape[0]
    reach = np.abs(bias.astype(np.int64)) + 128 * np.abs(weights.reshape(oc, -1).astype(np.int64)).sum(axis=1)
    fits = (shift < 0) & (shift >= -DOUBLED_MAX_S) & (reach < (1 << 30))
    if np.all(fits):
        return True
    const = _constant_outputs(weights, bias, multiplier, shift, output_offset, act_min, act_max)
    return bool(np.all(fits | (const != -1000)))


def w16_doubled_table(multiplier: np.ndarray, shift: np.ndarray, output_offset: int) -> np.ndarray:
    """Per channel {multiplier, (1 + 2 * offset) << (s - 1), s, mark} with s = -shift: on the doubled accumulator
    2a, SMMLAR gives floor((2a * m + 2^31) / 2^32) + c = SaturatingRoundingDoublingHighMul(a, m) + c, and ASR by
    s then RoundingDivideByPOT's result plus the offset wherever a >= 0. For a < 0 RoundingDivideByPOT rounds
    half away from zero: one less before the ASR (ADD of the sum's sign, mark DOUBLED_SIGNED_MARK), except where
    the offset is -128 (ReLU folded into the zero point: mark DOUBLED_MARK): a negative a then gives a value
    <= offset either way, which the clamp takes to -128."""
    s = -shift.astype(np.int64)
    c = ((1 + 2 * int(output_offset)) << np.maximum(s - 1, 0)) & 0xFFFFFFFF
    mark = DOUBLED_MARK if output_offset == -128 else DOUBLED_SIGNED_MARK
    rows = np.stack([multiplier.astype(np.int64), c, s, np.full_like(s, mark)], axis=1) & 0xFFFFFFFF
    return rows.astype(np.uint32).view(np.int32)


def w16_weights(weights: np.ndarray, bias: np.ndarray, multiplier: np.ndarray, shift: np.ndarray,
                output_offset: int, act_min: int | None = None, act_max: int | None = None) -> np.ndarray:
    """The kernel's stream (its filter argument) as int16 (little-endian words), per pair of channels (c0, c1)
    12 + Kp words: {bias0, bias1, bias0, bias1}, per chunk of four taps {c0 pair (w0, w2), c0 pair (w1, w3),
    c1 pair (w0, w2), c1 pair (w1, w3)}, then c0's and c1's {lo, hi, multiplier, r1} (:func:`w16_table`). An odd
    last channel gets a zero partner (the kernel computes it in C and stores only the real one). Given the output
    range, a layer :func:`w16_doubled` accepts gets twice its biases and weights and c0's and c1's
    :func:`w16_doubled_table` entries instead."""
    oc = weights.shape[0]
    doubled = act_min is not None and act_max is not None and w16_doubled(weights, bias, multiplier, shift,
                                                                          output_offset, act_min, act_max)
    if doubled:  # constant channels: no weights, no bias, {0, 2 * out, 1, mark} gives out
        const = _constant_outputs(weights, bias, multiplier, shift, output_offset, -128, 127)
        const[(shift < 0) & (shift >= -DOUBLED_MAX_S) & (np.abs(bias.astype(np.int64)) + 128 * np.abs(
            weights.reshape(oc, -1).astype(np.int64)).sum(axis=1) < (1 << 30))] = -1000
        live = const == -1000
        weights = weights.astype(np.int16) * 2 * live[:, None, None, None]
        consts = w16_doubled_table(multiplier, np.where(live, shift, -1), output_offset)
        consts[~live, 0], consts[~live, 1] = 0, 2 * const[~live]
        table = np.concatenate([(bias.astype(np.int64) * 2 * live).astype(np.int32)[:, None], consts], axis=1)
    rows = w16_pair_rows(weights)
    kp = rows.shape[1]
    if not doubled:
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
DOUBLED_MAX_S = 22  # |c| <= 255 * 2^21 and |SRDHM| < 2^30: their sum fits int32
DOUBLED_MARK = 0x444F5542  # EDGEC_W16_DOUBLED in edgec_conv_quad_w16.h: the fourth word of a doubled entry
DOUBLED_SIGNED_MARK = 0x444F5553  # EDGEC_W16_DOUBLED_SIGNED: the same where the offset is not -128


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
    runs positions two at a time and an odd last one (or a single one) alone, not the last two again."""
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
