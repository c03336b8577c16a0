"""Activation range calibration: min/max, percentile, MSE-optimal and KL-divergence (entropy) clipping.

Streaming in two passes over the calibration set, so it never has to fit in memory:

1. every activation's running min and max (this alone is the ``minmax`` method);
2. for the clipping methods, a histogram of ``BINS`` equal bins over that [min, max].

From the histogram (bin centres as the values, counts as weights):

* ``percentile``: the ``p``-th and ``(100 - p)``-th percentiles (default p = 99.99).
* ``mse``: the range [lo', hi'] (each end a fraction of [min, max] on a grid of 200 values in (0, 1],
  found by coordinate descent) that minimises the expected squared error of quantizing the histogram to ``2**bits - 1`` steps (clipping error and
  rounding error together), as in ACIQ (Banner et al. 2019) but searched numerically.
* ``kl``: TensorRT's entropy calibration (Migacz 2017) generalised to asymmetric ranges: for each
  candidate range (searched like ``mse``), P is the clipped histogram with the outliers added to its
  edge bins, Q merges the clipped histogram without them into ``2**bits - 1`` levels and spreads each
  level evenly over its non-empty bins (except the bin holding 0, exactly representable, which keeps
  its mass); the range with the smallest KL(P || Q) wins.

Limits: one histogram per tensor (not per channel); the grid of clipping factors bounds the precision
of the optimum to 1/200 of the range; a range always contains 0 (TFLite's int8 requirement).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageError

METHODS = ("minmax", "percentile", "mse", "kl")
BINS = 2048
_FACTORS = np.linspace(1.0, 0.005, 200)


@dataclass
class TensorStats:
    """Running statistics of one tensor over the calibration set."""

    lo: float = math.inf
    hi: float = -math.inf
    hist: np.ndarray | None = None
    edges: np.ndarray | None = field(default=None, repr=False)

    def update_range(self, values: np.ndarray) -> None:
        self.lo = min(self.lo, float(values.min()))
        self.hi = max(self.hi, float(values.max()))

    def start_histogram(self) -> None:
        lo, hi = min(self.lo, 0.0), max(self.hi, 0.0)
        if hi - lo < 1e-12:
            hi = lo + 1.0
        self.edges = np.linspace(lo, hi, BINS + 1)
        self.hist = np.zeros(BINS, dtype=np.float64)

    def update_histogram(self, values: np.ndarray) -> None:
        assert self.edges is not None and self.hist is not None
        counts, _ = np.histogram(values, bins=self.edges)
        self.hist += counts

    @property
    def centres(self) -> np.ndarray:
        assert self.edges is not None
        return 0.5 * (self.edges[:-1] + self.edges[1:])


def needs_histogram(method: str) -> bool:
    check_method(method)
    return method != "minmax"


def check_method(method: str) -> None:
    if method not in METHODS:
        raise UsageError(f"unknown calibration method {method!r}; choose one of {', '.join(METHODS)}")


def choose_range(stats: TensorStats, method: str, bits: int = 8, percentile: float = 99.99) -> tuple[float, float]:
    """The clipping range [lo, hi] (containing 0) the method picks from a tensor's statistics."""
    check_method(method)
    if method == "minmax" or stats.hist is None or stats.hist.sum() == 0:
        return min(stats.lo, 0.0), max(stats.hi, 0.0)
    if method == "percentile":
        return percentile_range(stats.hist, stats.centres, percentile)
    if method == "mse":
        return mse_range(stats.hist, stats.centres, bits)
    return kl_range(stats.hist, stats.centres, bits)


def percentile_range(hist: np.ndarray, centres: np.ndarray, p: float) -> tuple[float, float]:
    """The (100 - p)-th and p-th percentiles of a histogram."""
    cdf = np.cumsum(hist) / hist.sum()
    lo = centres[min(int(np.searchsorted(cdf, 1.0 - p / 100.0)), len(centres) - 1)]
    hi = centres[min(int(np.searchsorted(cdf, p / 100.0)), len(centres) - 1)]
    return min(float(lo), 0.0), max(float(hi), 0.0)


def _search(objective: Callable[[float, float], float], centres: np.ndarray) -> tuple[float, float]:
    """Coordinate descent over the two ends: each end in turn takes the factor of its full extent (on the grid
    :data:`_FACTORS`) that minimises ``objective(lo, hi)`` with the other end fixed; two rounds."""
    full_lo, full_hi = min(float(centres[0]), 0.0), max(float(centres[-1]), 0.0)
    lo, hi = full_lo, full_hi
    for _ in range(2):
        if full_hi > 0:
            hi = min((a * full_hi for a in _FACTORS), key=lambda h: objective(lo, h))
        if full_lo < 0:
            lo = min((a * full_lo for a in _FACTORS), key=lambda v: objective(v, hi))
    return float(lo), float(hi)


def quantization_mse(values: np.ndarray, weights: np.ndarray, lo: float, hi: float, bits: int) -> float:
    """Mean squared error of quantizing ``values`` (with ``weights``) to ``2**bits - 1`` steps over [lo, hi]."""
    steps = 2 ** bits - 1
    scale = (hi - lo) / steps
    if scale <= 0:
        return float(np.average(values ** 2, weights=weights))
    q = np.clip(np.round((values - lo) / scale), 0, steps) * scale + lo
    return float(np.average((values - q) ** 2, weights=weights))


def mse_range(hist: np.ndarray, centres: np.ndarray, bits: int) -> tuple[float, float]:
    """The candidate range with the smallest expected quantization MSE over the histogram."""
    nz = hist > 0
    values, weights = centres[nz], hist[nz]
    return _search(lambda lo, hi: quantization_mse(values, weights, lo, hi, bits), centres)


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    p = p / p.sum()
    q = q / q.sum()
    nz = p > 0
    if np.any(q[nz] == 0):
        return math.inf
    return float(np.sum(p[nz] * np.log(p[nz] / q[nz])))


def kl_divergence_of_range(hist: np.ndarray, centres: np.ndarray, lo: float, hi: float, bits: int) -> float:
    """KL(P || Q) of clipping the histogram to [lo, hi] (P) and merging it into 2**bits - 1 levels (Q)."""
    levels = 2 ** bits - 1
    width = centres[1] - centres[0]
    first = int(np.clip(np.floor((lo - centres[0]) / width + 0.5), 0, len(hist) - 1))
    last = int(np.clip(np.floor((hi - centres[0]) / width + 0.5), 0, len(hist) - 1))
    if last - first + 1 < levels:  # fewer bins than levels: rounding loss cannot be measured, never prefer it
        return math.inf
    raw = hist[first:last + 1]
    p = raw.copy()
    p[0] += hist[:first].sum()
    p[-1] += hist[last + 1:].sum()
    level = (np.arange(len(raw)) * levels) // len(raw)
    # Zero is exactly representable (it is the zero point), so the bin holding 0 keeps its own mass in Q
    # rather than being smeared over its level: after a RELU that bin is a spike, and smearing it would
    # push the search towards ranges so narrow that each level spans one bin.
    zero_bin = int(np.clip(np.floor((0.0 - centres[first]) / width + 0.5), 0, len(raw) - 1))
    merged = raw.copy()
    merged[zero_bin] = 0.0
    occupied = (merged > 0).astype(np.float64)
    sums = np.bincount(level, weights=merged, minlength=levels)
    counts = np.bincount(level, weights=occupied, minlength=levels)
    q = occupied * (sums / np.maximum(counts, 1))[level]
    q[zero_bin] = raw[zero_bin]
    # P's edge bins hold the clipped outliers where Q (built without them) may be empty: smooth as TensorRT does.
    q = np.where((p > 0) & (q == 0), 1e-4 * raw[raw > 0].min() if np.any(raw > 0) else 1.0, q)
    return _kl(p, q)


def kl_range(hist: np.ndarray, centres: np.ndarray, bits: int) -> tuple[float, float]:
    """The range whose quantized distribution Q is closest in KL divergence to the clipped P."""
    return _search(lambda lo, hi: kl_divergence_of_range(hist, centres, lo, hi, bits), centres)


class Calibrator:
    """Collects :class:`TensorStats` for a set of tensors over batches, in one or two passes."""

    def __init__(self, tensors: Iterable[int], method: str) -> None:
        check_method(method)
        self.method = method
        self.stats = {i: TensorStats() for i in tensors}
        self.pass_index = 0

    @property
    def passes(self) -> int:
        return 2 if needs_histogram(self.method) else 1

    def next_pass(self) -> None:
        self.pass_index += 1
        for s in self.stats.values():
            s.start_histogram()

    def observe(self, index: int, values: np.ndarray) -> None:
        stats = self.stats.get(index)
        if stats is None:
            return
        if self.pass_index == 0:
            stats.update_range(values)
        else:
            stats.update_histogram(values)

    def ranges(self, bits: int = 8) -> dict[int, tuple[float, float]]:
        return {i: choose_range(s, self.method, bits) for i, s in self.stats.items()}
