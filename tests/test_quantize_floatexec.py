"""The quantizer's float interpreter agrees with LiteRT's float interpreter (the float function it calibrates)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import mlperf_model
from float_models import calibration, litert_float_outputs, small_cnn

from compiler.errors import UnsupportedModelError
from compiler.frontend import read_tflite
from compiler.quantize.floatexec import FloatModel


def test_small_cnn_matches_litert() -> None:
    model = small_cnn()
    x = calibration((1, 8, 8, 3), 8)
    np.testing.assert_allclose(FloatModel.from_graph(read_tflite(model)).outputs(x), litert_float_outputs(model, x),
                               rtol=1e-4, atol=1e-6)


def test_quantized_model_is_rejected_with_the_reason() -> None:
    from compiler.modelbuilder import tiny_cnn_model

    with pytest.raises(UnsupportedModelError, match="quantized models compile directly"):
        FloatModel.from_graph(read_tflite(tiny_cnn_model()))


@pytest.mark.mlperf
@pytest.mark.parametrize("name,scale,atol", [("ad_fcae_float", 1.0, 1e-3), ("resnet8_float", 255.0, 1e-5),
                                             ("vww_mbv1_float", 1.0, 1e-5), ("kws_dscnn_float", 30.0, 5e-3)])
def test_mlperf_float_models_match_litert(name: str, scale: float, atol: float) -> None:
    """KWS's convolutions have int8 weight-only ("hybrid") weights, which LiteRT runs by quantizing the
    activations on the fly; edgec's interpreter computes the true float function of those weights, so the two
    differ there by that rounding (hence its looser tolerance on probabilities)."""
    path = mlperf_model(name)
    model = path.read_bytes()
    fm = FloatModel.from_graph(read_tflite(model))
    x = (np.random.default_rng(0).uniform(0, 1, (4, *fm.input_shape[1:])) * scale).astype(np.float32)
    np.testing.assert_allclose(fm.outputs(x), litert_float_outputs(model, x), rtol=1e-3, atol=atol)
