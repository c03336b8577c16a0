"""The command-line side of the quantizer: options shared by ``edgec quantize``, ``compile`` and ``run``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..errors import UsageError


def add_quantize_options(p: argparse.ArgumentParser, required: bool = False) -> None:
    """The quantizer's options; with ``required`` False (compile, run) they apply when --calibration is given."""
    g = p.add_argument_group("post-training quantization (float models)")
    g.add_argument("--calibration", required=required, metavar="DATA.npy",
                   help="float samples of the model's input (N x input shape); quantizes a float model first")
    g.add_argument("--method", default="mse", choices=["minmax", "percentile", "mse", "kl"],
                   help="activation range calibration (default mse: MSE-optimal clipping)")
    g.add_argument("--granularity", default="per-channel", choices=["per-channel", "per-tensor"],
                   help="weight scales (default per-channel)")
    g.add_argument("--weights", default="int8", choices=["int8", "int4", "mixed"], help="weight bits (default int8)")
    g.add_argument("--weight-method", default="minmax", choices=["minmax", "mse"],
                   help="weight clipping (default minmax; mse helps int4)")
    g.add_argument("--flash-budget", default=None, help="bytes the weights may take (with --weights mixed)")
    g.add_argument("--bias-correction", action="store_true", help="correct the mean shift of weight rounding")
    g.add_argument("--equalize", action="store_true", help="cross-layer equalization before quantizing")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")


def options_from(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .pipeline import QuantizeOptions

    budget = None
    if args.flash_budget is not None:
        try:
            budget = int(args.flash_budget)
        except ValueError:
            raise UsageError(f"--flash-budget takes a number of bytes, not {args.flash_budget!r}") from None
        if budget <= 0:
            raise UsageError(f"--flash-budget must be positive, not {budget}")
    return QuantizeOptions(method=args.method, per_channel=args.granularity == "per-channel", weights=args.weights,
                           weight_method=args.weight_method, flash_budget=budget,
                           bias_correction=args.bias_correction, equalize=args.equalize,
                           show_progress=not args.no_progress)


def model_source(args: argparse.Namespace) -> str | bytes:
    """The model to compile: the file itself, or its quantized bytes when --calibration is given."""
    if getattr(args, "calibration", None) is None:
        if is_float_model(args.model):
            raise UsageError(f"{args.model} is a float model; give --calibration DATA.npy (float samples of its "
                             "input) to quantize it first, or quantize it with `edgec quantize`")
        return args.model
    from ..modelname import LabelledModel
    from .pipeline import load_calibration, quantize

    options = options_from(args)
    return LabelledModel(quantize(args.model, load_calibration(args.calibration), options).tflite,
                         f"{args.model} quantized ({options.describe()})")


def is_float_model(model: str) -> bool:
    """Whether a model file has weighted layers with float weights (and so needs quantizing); False when unreadable
    (the compiler's own reader then reports the problem)."""
    from ..errors import CompilerError
    from ..frontend import read_tflite
    from .floatexec import WEIGHTED_OPS

    try:
        graph = read_tflite(model)
    except CompilerError:
        return False
    return any(op.op in WEIGHTED_OPS and len(op.inputs) > 1 and op.inputs[1] >= 0
               and graph.tensor(op.inputs[1]).dtype in ("float32", "float16") for op in graph.operators)


def _load_labels(path: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False).reshape(-1)
    except (OSError, ValueError, EOFError) as exc:
        raise UsageError(f"cannot read labels {path} as a .npy array: {exc or type(exc).__name__}") from None


def cmd_quantize(args: argparse.Namespace) -> int:
    from .evaluate import evaluate
    from .pipeline import load_calibration, quantize

    result = quantize(args.model, load_calibration(args.calibration), options_from(args))
    out = Path(args.output)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_bytes(result.tflite)
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    int4 = sum(1 for b in result.bits.values() if b == 4)
    print(f"wrote {out}: {len(result.layers)} weighted layers ({int4} at int4), weights {result.weight_bytes:,} B")
    if args.eval:
        data = load_calibration(args.eval)
        labels = _load_labels(args.labels) if args.labels else None
        from .pipeline import check_calibration

        report = evaluate(result.model, result.tflite, check_calibration(result.model, data), labels,
                          show_progress=not args.no_progress)
        for line in report.lines():
            print(line)
    elif args.labels:
        print("edgec: warning: --labels is used only with --eval", file=sys.stderr)
    return 0


def add_quantize_command(sub) -> None:  # type: ignore[no-untyped-def]
    q = sub.add_parser("quantize", help="post-training quantization of a float model to int8 (or int4 weights)")
    q.add_argument("model", help="a float .tflite model")
    q.add_argument("-o", "--output", required=True, help="the quantized .tflite to write")
    add_quantize_options(q, required=True)
    q.add_argument("--eval", metavar="DATA.npy", help="held-out float samples: print SQNR and top-1 agreement")
    q.add_argument("--labels", metavar="LABELS.npy", help="class labels of --eval samples: print accuracy")
