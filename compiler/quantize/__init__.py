"""Post-training quantization: float TFLite models in, int8 (or int4-weight) TFLite models out.

One module per concern: :mod:`.floatexec` runs the float graph, :mod:`.calibrate` picks activation
ranges, :mod:`.weights` quantizes weights, :mod:`.repairs` folds batch norm, equalizes and corrects
biases, :mod:`.mixed` chooses per-layer bits under a flash budget, :mod:`.writer` writes the model,
:mod:`.evaluate` measures it against the float model, :mod:`.pipeline` is the script tying them.
"""

from .pipeline import Quantized, QuantizeOptions, quantize

__all__ = ["QuantizeOptions", "Quantized", "quantize"]
