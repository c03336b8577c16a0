"""Repairs on small float graphs: batch-norm folding and equalization keep the float function; bias
correction reduces the measured mean output error of rounded weights."""

from __future__ import annotations

import numpy as np
from float_models import calibration, conv_batchnorm, conv_chain, litert_float_outputs

from compiler.frontend import read_tflite
from compiler.quantize.floatexec import FloatModel
from compiler.quantize.pipeline import QuantizeOptions, quantize_layers
from compiler.quantize.repairs import correct_biases, equalization_pairs, equalize, fold_batchnorm


def test_batchnorm_mul_add_fold_into_the_conv() -> None:
    model = conv_batchnorm()
    graph = read_tflite(model)
    assert [op.op for op in graph.operators] == ["CONV_2D", "MUL", "ADD", "RESHAPE", "FULLY_CONNECTED"]
    folded = fold_batchnorm(graph)
    assert [op.op for op in folded.operators] == ["CONV_2D", "RESHAPE", "FULLY_CONNECTED"]
    assert folded.operators[0].options["activation"] == "RELU"
    x = calibration((1, 6, 6, 2), 16)
    np.testing.assert_allclose(FloatModel.from_graph(folded).outputs(x), litert_float_outputs(model, x), rtol=1e-4,
                               atol=1e-5)


def test_activation_before_mul_prevents_folding() -> None:
    graph = read_tflite(conv_chain())  # convolutions with their own activations, no MUL/ADD: nothing to fold
    assert len(fold_batchnorm(graph).operators) == len(graph.operators)


def test_equalization_keeps_the_float_function_and_balances_ranges() -> None:
    model = FloatModel.from_graph(read_tflite(conv_chain()))
    pairs = equalization_pairs(model)
    assert [(a.op, b.op) for a, b in pairs] == [("CONV_2D", "CONV_2D"), ("CONV_2D", "CONV_2D")]
    equalized = equalize(model)
    x = calibration((1, 6, 6, 4), 32)
    np.testing.assert_allclose(equalized.outputs(x), model.outputs(x), rtol=1e-4, atol=1e-5)
    first, second = pairs[0]
    w1, w2 = equalized.constants[first.inputs[1]], equalized.constants[second.inputs[1]]
    r1 = np.abs(w1).reshape(w1.shape[0], -1).max(axis=1)
    r2 = np.abs(np.moveaxis(w2, 3, 0)).reshape(w2.shape[3], -1).max(axis=1)
    np.testing.assert_allclose(r1, r2, rtol=0.02)  # converged: each channel's two ranges are equal
    assert not np.allclose(r1, np.abs(model.constants[first.inputs[1]]).reshape(w1.shape[0], -1).max(axis=1))


def test_relu6_joins_are_not_equalized_without_data() -> None:
    model = FloatModel.from_graph(read_tflite(conv_chain(join="RELU6")))
    assert [(a.op, b.op) for a, b in equalization_pairs(model)] == [("CONV_2D", "CONV_2D")]  # only conv2 -> conv3
    first = model.graph.operators[0]
    np.testing.assert_array_equal(equalize(model).constants[first.inputs[1]], model.constants[first.inputs[1]])


def _range_mismatch(model: FloatModel, first, second) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Per channel of the join, |log(r1 / r2)|: 0 when the two layers' weight ranges are equal."""
    w1, w2 = model.constants[first.inputs[1]], model.constants[second.inputs[1]]
    r1 = np.abs(w1).reshape(w1.shape[0], -1).max(axis=1)
    r2 = np.abs(np.moveaxis(w2, 3, 0)).reshape(w2.shape[3], -1).max(axis=1)
    return np.abs(np.log(r1 / r2))


def test_relu6_join_is_equalized_where_the_calibration_data_never_clips(monkeypatch) -> None:
    from compiler.quantize import repairs

    model = FloatModel.from_graph(read_tflite(conv_chain(join="RELU6")))
    x = calibration((1, 6, 6, 4), 64)
    pairs = equalization_pairs(model, relu6=True)
    assert [(a.options["activation"], b.op) for a, b in pairs] == [("RELU6", "CONV_2D"), ("RELU", "CONV_2D")]
    first, second = pairs[0]
    peaks = repairs.relu6_peaks(model, [first], x, 32)[first.index]
    clips = peaks >= 6.0
    assert clips.any() and not clips.all()  # the data exercises both kinds of channel
    equalized = equalize(model, x)
    # the float function is unchanged on the calibration data
    np.testing.assert_allclose(equalized.outputs(x), model.outputs(x), rtol=1e-4, atol=1e-5)
    # the channels that never clip have more equal ranges; those that clip keep their scale
    before, after = _range_mismatch(model, first, second), _range_mismatch(equalized, first, second)
    assert after[~clips].sum() < 0.8 * before[~clips].sum()
    w1, w1_eq = model.constants[first.inputs[1]], equalized.constants[first.inputs[1]]
    np.testing.assert_array_equal(w1_eq[clips], w1[clips])
    # what is not preserved: inputs driving an equalized channel past its measured maximum meet the moved clip
    assert not np.allclose(equalized.outputs(4 * x), model.outputs(4 * x), rtol=1e-4, atol=1e-5)
    # and why the clip check is needed: equalizing every channel as if RELU6 were a RELU changes the function
    monkeypatch.setattr(repairs, "RELU6_CLIP", np.inf)
    naive = equalize(model, x)
    assert not np.allclose(naive.outputs(x), model.outputs(x), rtol=1e-4, atol=1e-5)


def _with_weights(model: FloatModel, layers: dict) -> FloatModel:
    """The float model computing with the quantized layers' dequantized weights and their (float) biases."""
    q = model.copy()
    for index, lw in layers.items():
        op = model.graph.operators[index]
        q.constants[op.inputs[1]] = lw.weights.dequantize()
        q.constants[op.inputs[2]] = lw.bias
    return q


def _mean_error(model: FloatModel, layers: dict, x: np.ndarray) -> float:
    """Mean over channels of |mean over samples and positions of (quantized - float output)|."""
    err = _with_weights(model, layers).outputs(x) - model.outputs(x)
    return float(np.abs(err.reshape(-1, err.shape[-1]).mean(axis=0)).mean())


def test_bias_correction_reduces_the_mean_output_error() -> None:
    model = FloatModel.from_graph(read_tflite(conv_chain()))
    layers = quantize_layers(model, {op.index: 4 for op in model.weighted_ops()},
                             QuantizeOptions(weights="int4", per_channel=False))
    data = calibration((1, 6, 6, 4), 256) + 1.0  # a non-zero input mean: rounding then shifts the output mean
    held_out = calibration((1, 6, 6, 4), 128, seed=7) + 1.0
    corrected = correct_biases(model, layers, data, 32)
    last = model.weighted_ops()[-1].index  # conv3 has no activation: its output is its pre-activation
    only_last, only_last_corrected = {last: layers[last]}, {last: corrected[last]}
    # One linear layer: the correction removes the measured shift on the calibration data (float rounding
    # aside) and most of it on held-out samples of the same distribution.
    assert _mean_error(model, only_last_corrected, data) < 1e-3 * _mean_error(model, only_last, data)
    assert _mean_error(model, only_last_corrected, held_out) < 0.5 * _mean_error(model, only_last, held_out)
    # All layers at once (RELUs between them): still smaller, though each layer was corrected on float inputs.
    assert _mean_error(model, corrected, held_out) < _mean_error(model, layers, held_out)
