"""Benchmark: edgec's int8 post-training quantizer against ai-edge-quantizer, by output SQNR vs the float model.

Benchmark-only; ai-edge-quantizer is not an edgec dependency. In a separate virtual environment:

    python -m venv /tmp/aeq && /tmp/aeq/bin/pip install ai-edge-quantizer scikit-learn pillow
    /tmp/aeq/bin/pip install -e .          # edgec itself
    /tmp/aeq/bin/python examples/ptq_benchmark/compare_ai_edge_quantizer.py [--models-dir DIR]

Both tools get the same float model and the same calibration set, and are measured on held-out
samples of the same distribution (never the calibration samples):

* image models (VWW 96x96x3 in [0, 1], ResNet-8 32x32x3 in [0, 255], the ranges of the MLPerf int8
  models' inputs): random square crops (side max(64, input side)..400 pixels) of scikit-learn's two bundled sample photographs,
  box-resized to the model's input;
* KWS (49x10 MFCC): a synthetic set, i.i.d. Gaussian N(-45, 35^2) per feature clipped to [-123, 26]
  (the MLPerf int8 model's input range);
* AD (640 log-mel values): synthetic, N(-30, 15^2) clipped to [-85, 15] (its int8 input range);
* digits (examples/digits): 256 training images to calibrate, the 450 test images to measure.

ai-edge-quantizer runs its ``static_wi8_ai8`` recipe (min/max, int8 weights and activations). edgec
runs min/max and MSE calibration (its default), per-channel weights.

Before ai-edge-quantizer sees a model, :func:`prepared_for_aeq` gives it a SignatureDef (which it
needs, and the MLPerf files lack) and fills each operator code's ``builtin_code`` with
``max(builtin_code, deprecated_builtin_code)``, the rule of TFLite's schema for files written before
``builtin_code`` existed. ai-edge-quantizer 0.10.0 reads ``builtin_code`` alone; in the AD and KWS
files it is 0 (ADD) for every operator code, so without this it takes every op for an ADD and
quantizes the biases as int8 activations, which LiteRT then refuses to run. Neither change alters
the model's function (the float outputs are the same, checked below). The float model runs in LiteRT's
float interpreter; both int8 models in LiteRT's reference kernels on the float inputs quantized with
each model's own input parameters, outputs dequantized. SQNR = 10 log10(sum y^2 / sum (y - y_q)^2)
over all held-out samples.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from compiler.modelbuilder import FILE_IDENTIFIER, with_signature
from compiler.quantize import QuantizeOptions, quantize
from compiler.quantize.metrics import sqnr_db

REPO = Path(__file__).resolve().parents[2]
CALIBRATION, HELD_OUT = 128, 64
METHODS = ("minmax", "mse")


def _crops(shape: tuple[int, ...], count: int, rng: np.random.Generator, scale: float) -> np.ndarray:
    from sklearn.datasets import load_sample_images

    photos = load_sample_images().images
    h, w = shape[1], shape[2]
    out = np.empty((count, h, w, 3), dtype=np.float32)
    for k in range(count):
        photo = photos[rng.integers(len(photos))]
        side = int(rng.integers(max(64, h, w), 401))
        y, x = rng.integers(0, photo.shape[0] - side + 1), rng.integers(0, photo.shape[1] - side + 1)
        crop = photo[y:y + side, x:x + side].astype(np.float32)
        rows = (np.arange(h + 1) * side) // h  # box filter: average the source pixels of each output pixel
        cols = (np.arange(w + 1) * side) // w
        sums = np.add.reduceat(np.add.reduceat(crop, rows[:-1], axis=0), cols[:-1], axis=1)
        out[k] = sums / (np.diff(rows)[:, None, None] * np.diff(cols)[None, :, None])
    return out * (scale / 255.0)


def _gaussian(shape: tuple[int, ...], count: int, rng: np.random.Generator, mean: float, std: float,
              lo: float, hi: float) -> np.ndarray:
    return np.clip(rng.normal(mean, std, (count, *shape[1:])), lo, hi).astype(np.float32)


def data_sets(name: str, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(calibration, held-out) float samples for a model, as the module docstring describes."""
    rng = np.random.default_rng(0)
    n = CALIBRATION + HELD_OUT
    if name.startswith("vww"):
        data = _crops(shape, n, rng, 1.0)
    elif name.startswith("resnet8"):
        data = _crops(shape, n, rng, 255.0)
    elif name.startswith("kws"):
        data = _gaussian(shape, n, rng, -45.0, 35.0, -123.0, 26.0)
    elif name.startswith("ad"):
        data = _gaussian(shape, n, rng, -30.0, 15.0, -85.0, 15.0)
    else:
        split = np.load(REPO / "examples" / "digits" / "digits_split.npz")
        return split["x_train"][:256], split["x_test"]
    return data[:CALIBRATION], data[CALIBRATION:]


def float_outputs(model: bytes, xs: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=model)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    ys = []
    for x in xs:
        it.set_tensor(inp["index"], x.reshape(inp["shape"]))
        it.invoke()
        ys.append(it.get_tensor(out["index"]).copy())
    return np.array(ys, dtype=np.float64)


def quantized_outputs(model: bytes, xs: np.ndarray, reference_kernels: bool = True) -> np.ndarray:
    """Dequantized outputs of an int8-I/O (or float-I/O) model in LiteRT's reference (or builtin) kernels."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.BUILTIN_REF if reference_kernels else OpResolverType.BUILTIN
    it = Interpreter(model_content=bytes(model), experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    s_in, z_in = inp["quantization"]
    s_out, z_out = out["quantization"]
    ys = []
    for x in xs:
        x = x.reshape(inp["shape"])
        if inp["dtype"] == np.int8:
            x = np.clip(np.round(x / s_in) + z_in, -128, 127).astype(np.int8)
        it.set_tensor(inp["index"], x)
        it.invoke()
        y = it.get_tensor(out["index"]).astype(np.float64)
        ys.append((y - z_out) * s_out if out["dtype"] == np.int8 else y)
    return np.array(ys)


def prepared_for_aeq(model: bytes) -> bytes:
    """The model with a SignatureDef and every operator code's ``builtin_code`` filled (module docstring)."""
    import flatbuffers

    tree = schema.ModelT.InitFromPackedBuf(model, 0)
    for code in tree.operatorCodes or []:
        code.builtinCode = max(code.builtinCode, code.deprecatedBuiltinCode)
    builder = flatbuffers.Builder(len(model) + 1024)
    builder.Finish(tree.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return with_signature(bytes(builder.Output()))


def aeq_quantize(model: bytes, calibration: np.ndarray) -> bytes:
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_quantizer import quantizer, recipe

    signed = prepared_for_aeq(model)
    input_name = next(iter(Interpreter(model_content=signed).get_signature_list()["serving_default"]["inputs"]))
    shape = Interpreter(model_content=signed).get_input_details()[0]["shape"]
    qt = quantizer.Quantizer(signed)
    qt.load_quantization_recipe(recipe.static_wi8_ai8())
    samples = [{input_name: x.reshape(shape).astype(np.float32)} for x in calibration]
    result = qt.quantize(qt.calibrate({"serving_default": samples}), enable_progress_report=False)
    return bytes(result.quantized_model)


def _aeq_sqnr(model: bytes, calibration: np.ndarray, held_out: np.ndarray,
              reference: np.ndarray) -> tuple[float, str]:
    """ai-edge-quantizer's output SQNR and a note when LiteRT rejects its model."""
    theirs = aeq_quantize(model, calibration)
    try:
        return sqnr_db(reference, quantized_outputs(theirs, held_out)), ""
    except RuntimeError as exc:  # their model may not prepare in the reference kernels
        note = f"  (*: LiteRT rejects their model: {' '.join(str(exc).split())[:100]})"
    try:
        return sqnr_db(reference, quantized_outputs(theirs, held_out, reference_kernels=False)), note + " [builtin]"
    except RuntimeError:
        return float("nan"), note


def _in_child(fn, *args):  # type: ignore[no-untyped-def]
    """Run fn in a fresh process: LiteRT aborts or crashes on some models instead of raising."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            return pool.submit(fn, *args).result()
        except BrokenProcessPool:
            return float("nan"), "  (*: the process running their model crashed)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models-dir", default=os.environ.get("EDGEC_MODELS_DIR", str(REPO.parent / "shared" / "models" / "mlperf_tiny")))
    args = ap.parse_args(argv)
    models = [Path(args.models_dir) / f"{n}_float.tflite" for n in ("ad_fcae", "kws_dscnn", "resnet8", "vww_mbv1")]
    models += [REPO / "examples" / "digits" / f"digits_w{w}_float.tflite" for w in (1, 2)]
    default = QuantizeOptions().method
    heads = [f"edgec {m}" + (" (default)" if m == default else "") for m in METHODS]
    print(f"{'model':24s} {heads[0]:>22s} {heads[1]:>19s} {'ai-edge-quantizer':>18s}   (output SQNR dB, "
          f"{HELD_OUT} held-out samples; digits 450)")
    for path in models:
        if not path.exists():
            print(f"{path.name:24s} missing ({path})")
            continue
        model = path.read_bytes()
        from compiler.frontend import read_tflite

        graph = read_tflite(model)
        calibration, held_out = data_sets(path.name, graph.tensor(graph.inputs[0]).shape)
        reference = float_outputs(model, held_out)
        if not np.array_equal(reference, float_outputs(prepared_for_aeq(model), held_out)):
            print(f"{path.name:24s} the model prepared for ai-edge-quantizer computes something else; skipped")
            continue
        scores = []
        for method in METHODS:
            q = quantize(model, calibration, QuantizeOptions(method=method, show_progress=False))
            scores.append(sqnr_db(reference, quantized_outputs(q.tflite, held_out)))
        score, note = _in_child(_aeq_sqnr, model, calibration, held_out, reference)
        scores.append(score)
        print(f"{path.name:24s} {scores[0]:22.2f} {scores[1]:19.2f} {scores[2]:17.2f}{'*' if note else ' '}{note}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
