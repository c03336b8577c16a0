"""256-entry int8 tables for unary activations, computed exactly as TFLite's reference kernels compute them.

Each function returns ``table`` (int8 [256]) with ``table[x + 128]`` the reference output for input x,
found by running, for every one of the 256 inputs, the reference kernel's own algorithm and the
multipliers its Prepare derives (including where Prepare computes in float32 rather than double):

- RELU / RELU6 / RELU_N1_TO_1 (activations.cc QuantizedReluX): rescale ``x - zp_in`` by the Q31 pair of
  ``float(s_in / s_out)``, add zp_out, clamp to ``zp_out + roundf(bound / s_out)`` within int8.
- LEAKY_RELU (QuantizeLeakyRelu): ``x - zp_in`` rescaled by ``float(s_in / s_out)`` where it is >= 0, by
  ``float(s_in * alpha / s_out)`` where it is negative; add zp_out; clamp to int8.
- HARD_SWISH (reference_ops::HardSwish): the int16 fixed-point algorithm (hires input x*2^7, a "reluish"
  multiplier onto [-3, 3] -> [0, 1] with saturating shifts, a truncating doubling high multiply).
- LOGISTIC and TANH (int8 under the reference resolver): TFLite's float lookup table itself
  (PopulateLookupTable / LUTPopulate): dequantize in float32, apply ``1 / (1 + expf(-x))`` or
  ``tanhf(x)``, multiply by ``1 / s_out`` in float32, round half away from zero, add zp_out, clamp.
  expf and tanhf are the C library's (TFLite calls them through std::exp / std::tanh), called here
  through ctypes so the table is what the reference interpreter on this machine computes.
- QUANTIZE int8 -> int8 (reference_ops::Requantize): ``x - zp_in`` rescaled by the Q31 pair of
  ``double(s_in) / double(s_out)``, plus zp_out, clamped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from ..fixedpoint import multiply_by_quantized_multiplier, quantize_multiplier, quantize_value

INPUTS = np.arange(-128, 128, dtype=np.int64)  # table index i holds the output for input i - 128
INT16_MIN, INT16_MAX = -(2**15), 2**15 - 1


def _f32(x: float | np.floating) -> float:
    return float(np.float32(x))


def _table(values: np.ndarray) -> np.ndarray:
    return np.clip(values, -128, 127).astype(np.int8)


def quantize_multiplier_signed(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier for any sign: a negative real gets the negated Q31 mantissa.

    (std::round is symmetric, so the mantissa of -r is minus that of r; TFLite renormalises a mantissa
    of exactly 2^31 only for positive values, so -1.0 * 2^k keeps INT32_MIN with shift k.)
    """
    if real >= 0:
        return quantize_multiplier(real)
    q, shift = math.frexp(-real)
    q_fixed = math.floor(q * (1 << 31) + 0.5)
    if shift < -31:
        return 0, 0
    return -q_fixed if q_fixed < (1 << 31) else -(1 << 31), shift


def relu_table(lower: float | None, upper: float | None, in_scale: float, in_zp: int, out_scale: float,
               out_zp: int) -> np.ndarray:
    """RELU (0, None), RELU6 (0, 6), RELU_N1_TO_1 (-1, 1): TFLite's QuantizedReluX."""
    multiplier, shift = quantize_multiplier(_f32(np.float32(in_scale) / np.float32(out_scale)))
    lo = -128 if lower is None else max(-128, quantize_value(lower, out_scale, out_zp))
    hi = 127 if upper is None else min(127, quantize_value(upper, out_scale, out_zp))
    out = out_zp + multiply_by_quantized_multiplier(INPUTS - in_zp, multiplier, shift)
    return _table(np.clip(out, lo, hi))


def leaky_relu_table(alpha: float, in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """LEAKY_RELU: identity and alpha rescales as TFLite's LeakyReluPrepare derives them (in float32)."""
    s_in, s_out = np.float32(in_scale), np.float32(out_scale)
    m_id, s_id = quantize_multiplier(_f32(s_in / s_out))
    m_alpha, s_alpha = quantize_multiplier_signed(_f32(s_in * np.float32(alpha) / s_out))
    v = INPUTS - in_zp
    positive = multiply_by_quantized_multiplier(v, m_id, s_id)
    negative = multiply_by_quantized_multiplier(v, m_alpha, s_alpha)
    return _table(out_zp + np.where(v >= 0, positive, negative))


# ---- HARD_SWISH: int16 fixed point -------------------------------------------------------------

def _srdhm16(a: np.ndarray, b: int) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul for int16."""
    ab = a.astype(np.int64) * b
    nudge = np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    num = ab + nudge
    high = np.where(num >= 0, num // (1 << 15), -((-num) // (1 << 15)))
    return np.where((a == INT16_MIN) & (b == INT16_MIN), INT16_MAX, high)


def _sdhm16(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """TFLite's SaturatingDoublingHighMul for int16: a*b / 2^15 truncated toward zero."""
    ab = a.astype(np.int64) * b
    high = np.where(ab >= 0, ab // (1 << 15), -((-ab) // (1 << 15)))
    return np.where((a == INT16_MIN) & (b == INT16_MIN), INT16_MAX, high)


def _rdbpot(x: np.ndarray, exponent: int) -> np.ndarray:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def _saturating_left_shift16(x: np.ndarray, amount: int) -> np.ndarray:
    return np.clip(x * (1 << amount), INT16_MIN, INT16_MAX)


def _downscale_to_int16(multiplier: int) -> int:
    """TFLite's DownScaleInt32ToInt16Multiplier: round a Q31 mantissa to Q15, saturating."""
    if multiplier >= (2**31 - 1) - (1 << 15):
        return INT16_MAX
    return (multiplier + (1 << 15)) >> 16


def hard_swish_params(in_scale: float, out_scale: float) -> tuple[int, int, int, int]:
    """(output multiplier Q15, output exponent, reluish multiplier Q15, reluish exponent) as HardSwishPrepare."""
    hires_input_scale = np.float32(1.0 / 128.0) * np.float32(in_scale)
    reluish_scale = np.float32(3.0) / np.float32(32768.0)
    out_m, out_e = quantize_multiplier(_f32(hires_input_scale / np.float32(out_scale)))
    rel_m, rel_e = quantize_multiplier(_f32(hires_input_scale / reluish_scale))
    return _downscale_to_int16(out_m), out_e, _downscale_to_int16(rel_m), rel_e


def hard_swish_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """HARD_SWISH: reference_ops::HardSwish on every int8 input (output exponent must be <= 0)."""
    out_m, out_e, rel_m, rel_e = hard_swish_params(in_scale, out_scale)
    v = INPUTS - in_zp
    hires = v * (1 << 7)
    preshift = _srdhm16(hires, out_m)
    reluish = hires
    if rel_e > 0:
        reluish = _saturating_left_shift16(reluish, rel_e - 1)
    reluish = _srdhm16(reluish, rel_m)
    if rel_e > 0:
        reluish = _saturating_left_shift16(reluish, 1)
    if rel_e < 0:
        reluish = _rdbpot(reluish, -rel_e)
    reluish = (reluish + (1 << 15)) >> 1
    out = _rdbpot(_sdhm16(reluish, preshift), -out_e) + out_zp
    return _table(out)


# ---- LOGISTIC and TANH: TFLite's float table ---------------------------------------------------

@lru_cache(maxsize=1)
def _libm() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("m")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    for fn in ("expf", "tanhf"):
        getattr(lib, fn).restype = ctypes.c_float
        getattr(lib, fn).argtypes = [ctypes.c_float]
    return lib


def _c_float_fn(name: str) -> Callable[[np.float32], np.float32]:
    """The C library's float function, or (no libm found) the double function rounded to float32."""
    lib = _libm()
    if lib is not None:
        fn = getattr(lib, name)
        return lambda x: np.float32(fn(float(x)))
    fallback = {"expf": math.exp, "tanhf": math.tanh}[name]
    return lambda x: np.float32(fallback(float(x)))


def _logistic(x: np.float32) -> np.float32:
    expf = _c_float_fn("expf")
    return np.float32(np.float32(1.0) / (np.float32(1.0) + expf(np.float32(-x))))


def _tanh(x: np.float32) -> np.float32:
    return _c_float_fn("tanhf")(x)


def float_lut_table(transform: Callable[[np.float32], np.float32], in_scale: float, in_zp: int, out_scale: float,
                    out_zp: int) -> np.ndarray:
    """TFLite's LUTPopulate for int8: float32 dequantize, transform, rescale, round half away, clamp."""
    inverse_scale = np.float32(1.0) / np.float32(out_scale)
    out = []
    with np.errstate(over="ignore"):
        for val in INPUTS:
            dequantized = np.float32(np.float32(in_scale) * np.float32(val - in_zp))
            rescaled = np.float32(transform(dequantized) * inverse_scale)
            rounded = math.copysign(math.floor(abs(float(rescaled)) + 0.5), float(rescaled))
            out.append(max(-128, min(127, int(np.float32(rounded) + np.float32(out_zp)))))
    return np.array(out, dtype=np.int8)


def logistic_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """LOGISTIC: 1 / (1 + expf(-x)) through TFLite's float table."""
    return float_lut_table(_logistic, in_scale, in_zp, out_scale, out_zp)


def tanh_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """TANH: tanhf(x) through TFLite's float table."""
    return float_lut_table(_tanh, in_scale, in_zp, out_scale, out_zp)


def requantize_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """QUANTIZE int8 -> int8: reference_ops::Requantize with the Q31 pair of double(s_in) / double(s_out)."""
    multiplier, shift = quantize_multiplier(float(in_scale) / float(out_scale))
    return _table(multiply_by_quantized_multiplier(INPUTS - in_zp, multiplier, shift) + out_zp)
