"""Shared fixtures: the cffi-built runtime, and where the MLPerf Tiny models are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MODELS_DIR = Path(os.environ.get("EDGEC_MODELS_DIR", REPO.parent / "shared" / "models" / "mlperf_tiny"))


@pytest.fixture(scope="session")
def runtime():
    """(ffi, lib) of runtime_c compiled for the host with UBSan."""
    from runtime_lib import load_runtime

    return load_runtime()


def mlperf_model(name: str) -> Path:
    """Path of an MLPerf Tiny model, or a skip with the reason when the folder is absent."""
    path = MODELS_DIR / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"MLPerf Tiny model {path} not present (set EDGEC_MODELS_DIR)")
    return path
