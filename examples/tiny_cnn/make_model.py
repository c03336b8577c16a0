"""Write the tiny_cnn example: ``tiny_cnn.tflite`` (tiny_cnn_model(seed=0)) and ``input.npy`` beside this file.

Run from anywhere: ``python examples/tiny_cnn/make_model.py``. Both files are deterministic, so
running it again reproduces them byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def ring_image(size: int = 16) -> np.ndarray:
    """A float image in [-1, 1]: a bright ring on a dark background, with a faint diagonal gradient."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    centre = (size - 1) / 2
    radius = np.hypot(yy - centre, xx - centre)
    ring = np.exp(-(((radius - size / 4) / 1.5) ** 2))
    return np.clip(2.0 * ring - 1.0 + 0.2 * (xx + yy) / (2 * size), -1.0, 1.0)


def main() -> None:
    """Write the model and its example input, then print what the reference interpreter makes of it."""
    sys.path.insert(0, str(HERE.parents[1]))  # the repository root, so a source checkout needs no install
    from compiler.modelbuilder import tiny_cnn_model
    from compiler.reference import input_details, run_reference

    model_path = HERE / "tiny_cnn.tflite"
    model_path.write_bytes(tiny_cnn_model(seed=0))

    (detail,) = input_details(model_path)
    image = ring_image(detail.shape[1]).reshape(detail.shape)
    quantized = np.clip(np.round(image / detail.scale) + detail.zero_point, -128, 127).astype(np.int8)
    np.save(HERE / "input.npy", quantized)

    (probabilities,) = run_reference(model_path, [quantized])
    print(f"wrote {model_path.name} ({model_path.stat().st_size} bytes) and input.npy {quantized.shape} int8")
    print(f"reference output (int8, scale 1/256, zero point -128): {probabilities.ravel().tolist()}")


if __name__ == "__main__":
    main()
