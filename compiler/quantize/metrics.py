"""Error measures between a float model's values and a quantized model's."""

from __future__ import annotations

import math

import numpy as np


def sqnr_db(reference: np.ndarray, approx: np.ndarray) -> float:
    """Signal-to-quantization-noise ratio ``10 log10(sum(ref^2) / sum((ref - approx)^2))`` in dB (inf if exact)."""
    ref = np.asarray(reference, dtype=np.float64)
    noise = float(np.sum((ref - np.asarray(approx, dtype=np.float64)) ** 2))
    signal = float(np.sum(ref ** 2))
    if noise == 0.0:
        return math.inf
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def top1_agreement(reference: np.ndarray, approx: np.ndarray) -> float:
    """Fraction of samples whose arg-max class is the same."""
    return float(np.mean(np.argmax(reference.reshape(len(reference), -1), axis=1)
                         == np.argmax(approx.reshape(len(approx), -1), axis=1)))
