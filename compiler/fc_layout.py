"""What the fast FULLY_CONNECTED kernel reads from flash: blocked weights and an integer form of the rescale.

Weights (:func:`blocked_weights`, int8 kernel ``edgec_fully_connected_fast_s8``): the [OC, IC] matrix is cut into
blocks of four output rows. Inside a block, the first ``4 * (IC // 4)`` inputs come as ``IC // 4`` groups of 16
bytes: rows 0..3, four consecutive inputs of each; then the ``IC % 4`` leftover inputs of rows 0..3, row by row.
The ``OC % 4`` leftover rows follow, each as it is. One pointer walks every weight exactly once, in the order the
inner loop consumes them (on the Cortex-M4 one LDM fetches a whole 16-byte group; Helium gathers one row's 16
inputs with offsets 0, 16, 32, 48; the Cortex-M3 reads two consecutive blocks side by side, eight rows per pass).
Same byte count as the plain layout.

Rescale (:func:`fixed_rescale`): TFLite's reference rounds ``round_half_away(fl(double(acc) * scale))``. The kernel
computes it in integers with a per-channel multiplier ``M`` in [2^30, 2^31) and shift ``32 + n``, n in [1, 30],
``M = round(scale * 2^(32+n))``: ``t = acc * M + 2^(31+n)``, ``q = t >> (32 + n)`` (= floor(p' + 1/2) with
``p' = acc * M / 2^(32+n)``) and the 32 fraction bits ``f`` below q. Error bound: ``|M - scale * 2^(32+n)| <= 1/2``
and ``M >= 2^30`` give ``|p' - p| <= |p| / (2^31 - 1)`` for the exact product ``p = acc * scale``; the double
product adds ``|p| * 2^-53``. While ``|q| < 512`` (so ``|p| < 513``) both together stay below ``2^-21.9``. So when the
fraction is at least ``2^-20`` away from a tie (``2^12 <= f <= 2^32 - 2^12 - 1``), ``fl(p)`` lies strictly between
the same two ties as ``p'`` and the reference's result is ``q``. When ``|q| >= 512`` the result clamps like the
reference's (``|fl(p)| > 511`` exceeds every int8 output range), so the kernel tests only the window. Inside it
(about 2^-19 of the outputs, and every exact tie) the kernel falls back to the double formula with the double
scale. Channels whose scale has no such (M, n), zero or at least 2^-2 or below 2^-32, get ``M = 0``: always the
double formula. The kernel does not add the rounding half ``2^(31+n)``: it takes the 32 bits ``fl`` of ``acc * M``
below bit ``32 + n``, then ``f = fl ^ 2^31`` and ``q = (acc * M >> (32 + n)) + (fl >> 31)`` (the carry of the half).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

BLOCK_ROWS = 4
GROUP_BYTES = 4
MIN_N, MAX_N = 1, 30  # the kernel's shift is 32 + n
SAFE_MAGNITUDE = 512  # |q| below this: q is the result; above, it clamps like the reference's
WINDOW = 1 << 12  # 2^-20 in units of the 32 fraction bits


def blocked_weights(weights: np.ndarray) -> np.ndarray:
    """[OC, IC] int8 -> the flat int8 layout of the module docstring."""
    oc, ic = weights.shape
    blocks, groups = oc // BLOCK_ROWS, ic // GROUP_BYTES
    main = 4 * groups
    parts: list[np.ndarray] = []
    for b in range(blocks):
        rows = weights[b * BLOCK_ROWS:(b + 1) * BLOCK_ROWS]
        parts.append(rows[:, :main].reshape(BLOCK_ROWS, groups, GROUP_BYTES).transpose(1, 0, 2).ravel())
        parts.append(rows[:, main:].ravel())
    parts.append(weights[blocks * BLOCK_ROWS:].ravel())
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.int8)


def fixed_rescale(scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (M, n) of the module docstring, computed exactly from each double; (0, 0) where none fits."""
    multipliers, shifts = [], []
    for s in np.asarray(scale, dtype=np.float64):
        m, n = _fixed(float(s))
        multipliers.append(m)
        shifts.append(n)
    return np.array(multipliers, dtype=np.int32), np.array(shifts, dtype=np.int32)


def _fixed(s: float) -> tuple[int, int]:
    if not s > 0.0:
        return 0, 0
    n = -1 - math.frexp(s)[1]  # s = f * 2^e, f in [1/2, 1): s * 2^(32 + n) lies in [2^30, 2^31)
    m = round(Fraction(s) * (1 << (32 + n)))  # exact; half to even (any rounding within 1/2 will do)
    if m == 1 << 31:  # rounded up out of the range: one shift less, where the error is at most 1/4
        n, m = n - 1, 1 << 30
    if not MIN_N <= n <= MAX_N:
        return 0, 0
    return m, n


def fixed_rescale_result(acc: np.ndarray, m: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A numpy model of the kernel's integer step, elementwise over int32 accs and their channels' (M, n):
    (q, safe); where safe, q is the reference's rounded product (or, for |q| >= 512, on the same side of every
    int8 clamp). Used by the tests."""
    a = np.asarray(acc, dtype=np.int64)
    m = np.asarray(m, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    t = a * m + np.left_shift(np.int64(1), 31 + n)  # |t| < 2^63
    q = t >> (32 + n)
    f = (t >> n) & np.int64(0xFFFFFFFF)  # the 32 bits below q
    safe = (m != 0) & (f >= WINDOW) & (f <= (1 << 32) - WINDOW - 1)
    return q, safe
