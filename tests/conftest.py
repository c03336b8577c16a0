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


@pytest.fixture(scope="session")
def profiled_run(tmp_path_factory):
    """``get(name, target)``: run_model(profile=True, reference checked) of an MLPerf model, once per session.

    The input is every model input at its zero point. Shared by the profiling and HTML report tests.
    """
    import numpy as np

    from compiler.driver import run_model
    from compiler.frontend import read_tflite

    cache = {}

    def get(name: str, target: str = "mps2-an386"):
        if (name, target) not in cache:
            model = mlperf_model(name)
            graph = read_tflite(model)
            inputs = [np.full(t.shape, t.zero_point, dtype=t.dtype) for t in (graph.tensor(i) for i in graph.inputs)]
            workdir = tmp_path_factory.mktemp(f"profiled-{name}-{target}") / "project"
            cache[(name, target)] = run_model(model, target, inputs, workdir=workdir, profile=True)
        return cache[(name, target)]

    return get
