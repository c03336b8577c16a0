"""What edgec's calibration methods and repairs do to the MLPerf Tiny float models' output SQNR, int8 and int4.

    python examples/ptq_benchmark/repairs_on_mlperf.py [--models-dir DIR]   # needs scikit-learn and pillow

Same calibration and held-out sets as compare_ai_edge_quantizer.py (32 of the held-out samples);
the quantized models run in TFLite's reference kernels (compiler.quantize.evaluate).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from compare_ai_edge_quantizer import REPO, data_sets

from compiler.frontend import read_tflite
from compiler.quantize import QuantizeOptions, quantize
from compiler.quantize.evaluate import evaluate

REPAIRED = QuantizeOptions(method="mse", equalize=True, bias_correction=True)
CONFIGS = {
    "int8 minmax": QuantizeOptions(method="minmax"),
    "int8 mse": QuantizeOptions(method="mse"),
    "int8 mse+cle+bc": REPAIRED,
    "int4 minmax": QuantizeOptions(method="minmax", weights="int4"),
    "int4 mse+wmse+cle+bc": replace(REPAIRED, weights="int4", weight_method="mse"),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models-dir", default=os.environ.get("EDGEC_MODELS_DIR",
                                                           str(REPO.parent / "shared" / "models" / "mlperf_tiny")))
    args = ap.parse_args(argv)
    for name in ("ad_fcae", "kws_dscnn", "resnet8", "vww_mbv1"):
        path = Path(args.models_dir) / f"{name}_float.tflite"
        graph = read_tflite(path)
        calibration, held_out = data_sets(name, graph.tensor(graph.inputs[0]).shape)
        for label, options in CONFIGS.items():
            q = quantize(path, calibration, replace(options, show_progress=False))
            r = evaluate(q.model, q.tflite, held_out[:32], show_progress=False)
            print(f"{name:10s} {label:22s} SQNR {r.output_sqnr_db:6.2f} dB  top-1 agreement "
                  f"{100 * r.top1_agreement:5.1f}%  weights+biases {q.weight_bytes:,} B", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
